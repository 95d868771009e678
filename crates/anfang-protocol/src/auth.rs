//! Authentication of HTTP push requests: an HMAC-SHA256 over the timestamp and the raw body.
//!
//! The clock is passed in rather than read here so that the transport decides what "now" is
//! (and tests can pin it). MQTT needs no helper: the broker checks username = device code and
//! password = device secret, over TLS.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::ProtocolError;

/// Header carrying the sending device's code.
pub const HEADER_DEVICE: &str = "X-Anfang-Device";
/// Header carrying the signing time in Unix milliseconds.
pub const HEADER_TIMESTAMP: &str = "X-Anfang-Timestamp";
/// Header carrying the lowercase hex HMAC-SHA256 signature.
pub const HEADER_SIGNATURE: &str = "X-Anfang-Signature";
/// The skew the platform allows between a device's timestamp and its own clock (5 minutes).
pub const DEFAULT_MAX_SKEW_MS: u64 = 5 * 60 * 1000;

fn mac(secret: &[u8], timestamp_ms: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length (long ones are hashed), so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(timestamp_ms.to_string().as_bytes());
    mac.update(b"\n");
    mac.update(body);
    mac
}

/// Signs a push request: lowercase hex of HMAC-SHA256(secret, "<timestamp_ms>\n<body>").
pub fn sign(secret: &[u8], timestamp_ms: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp_ms, body).finalize().into_bytes())
}

/// Verifies a push request's signature, then its timestamp against `now_ms`.
///
/// The comparison is constant-time. The signature is checked first so that an unauthenticated
/// caller learns nothing about the platform's clock; `stale_timestamp` only reaches a device
/// that signed correctly but whose clock is off (or whose request was replayed).
pub fn verify(
    secret: &[u8],
    timestamp_ms: i64,
    body: &[u8],
    signature_hex: &str,
    now_ms: i64,
    max_skew_ms: u64,
) -> Result<(), ProtocolError> {
    let signature = hex::decode(signature_hex.trim()).map_err(|_| ProtocolError::BadSignature)?;
    mac(secret, timestamp_ms, body)
        .verify_slice(&signature)
        .map_err(|_| ProtocolError::BadSignature)?;
    if now_ms.abs_diff(timestamp_ms) > max_skew_ms {
        return Err(ProtocolError::StaleTimestamp {
            timestamp_ms,
            now_ms,
            max_skew_ms,
        });
    }
    Ok(())
}
