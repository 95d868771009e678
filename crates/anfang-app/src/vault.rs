//! The personal-data vault: AES-256-GCM encryption of ID numbers, phones and device secrets
//! at rest, and keyed blind indexes (HMAC-SHA256) for exact lookup without decryption.
//!
//! Two independent 256-bit keys, generated at `init` and kept in a 0600 file by the binary:
//! one to encrypt, one to index, so that a leaked index key reveals nothing by itself.

use aes_gcm::aead::{Aead, KeyInit, OsRng, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{AppError, AppResult};

/// Nonce length of AES-GCM (96 bits).
const NONCE_LEN: usize = 12;

/// Key material and the ciphers built from it.
pub struct Vault {
    /// The AEAD cipher keyed with the data key.
    cipher: Aes256Gcm,
    /// The blind-index key.
    index_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault { keys: <redacted> }")
    }
}

impl Vault {
    /// A vault over a 32-byte data key and a 32-byte index key.
    pub fn new(data_key: &[u8; 32], index_key: &[u8; 32]) -> Vault {
        Vault {
            cipher: Aes256Gcm::new(data_key.into()),
            index_key: *index_key,
        }
    }

    /// Fresh random keys: (data key, index key).
    pub fn generate_keys() -> ([u8; 32], [u8; 32]) {
        let mut data = [0u8; 32];
        let mut index = [0u8; 32];
        OsRng.fill_bytes(&mut data);
        OsRng.fill_bytes(&mut index);
        (data, index)
    }

    /// Encrypts `plaintext` with a fresh random nonce; the nonce is prepended. `context`
    /// (e.g. `id_number`) is bound as associated data so a ciphertext cannot be moved to
    /// another column and decrypted there.
    pub fn encrypt(&self, context: &str, plaintext: &str) -> AppResult<Vec<u8>> {
        self.encrypt_bytes(context, plaintext.as_bytes())
    }

    /// [`Vault::encrypt`] for binary data (face photos).
    pub fn encrypt_bytes(&self, context: &str, plaintext: &[u8]) -> AppResult<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let payload = aes_gcm::aead::Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .map_err(|_| AppError::Internal("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts what [`Vault::encrypt`] produced under the same `context`.
    pub fn decrypt(&self, context: &str, blob: &[u8]) -> AppResult<String> {
        let plain = self.decrypt_bytes(context, blob)?;
        String::from_utf8(plain).map_err(|_| AppError::Internal(format!("{context} is not UTF-8")))
    }

    /// Decrypts what [`Vault::encrypt_bytes`] produced under the same `context`.
    pub fn decrypt_bytes(&self, context: &str, blob: &[u8]) -> AppResult<Vec<u8>> {
        if blob.len() < NONCE_LEN + 16 {
            return Err(AppError::Internal(format!("{context} ciphertext too short")));
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let payload = aes_gcm::aead::Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        self.cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| AppError::Internal(format!("{context} does not decrypt with this key")))
    }

    /// The blind index of `value` in `context`: hex HMAC-SHA256 under the index key.
    pub fn blind_index(&self, context: &str, value: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key).expect("HMAC takes any key length");
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_context() {
        let (d, i) = Vault::generate_keys();
        let vault = Vault::new(&d, &i);
        let blob = vault.encrypt("id_number", "370323199001011234").unwrap();
        assert!(
            !blob.windows(6).any(|w| w == b"370323"),
            "no plaintext in the ciphertext"
        );
        assert_eq!(vault.decrypt("id_number", &blob).unwrap(), "370323199001011234");
        assert!(vault.decrypt("phone", &blob).is_err(), "context is authenticated");
        let again = vault.encrypt("id_number", "370323199001011234").unwrap();
        assert_ne!(blob, again, "fresh nonce each time");
        assert_eq!(vault.blind_index("id", "x"), vault.blind_index("id", "x"));
        assert_ne!(vault.blind_index("id", "x"), vault.blind_index("phone", "x"));
        let other = Vault::new(&Vault::generate_keys().0, &Vault::generate_keys().1);
        assert!(other.decrypt("id_number", &blob).is_err());
        assert!(
            vault.decrypt("id_number", &[1, 2, 3]).is_err(),
            "short input is an error, not a panic"
        );
    }
}
