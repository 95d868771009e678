//! Foundations shared by every Anfang crate: an injectable [`Clock`], the cross-crate
//! [`ErrorKind`] that transports map to status codes, random-token helpers and tracing setup.
//!
//! Invariant: this crate knows no domain noun (no person, house or device).

mod clock;

pub use clock::{Clock, SimClock, SystemClock, Timestamp};

/// What kind of failure an error is, independent of the layer that raised it.
///
/// Every crate's error enum maps onto exactly one kind; the API crate maps kinds to
/// HTTP status codes in one exhaustive `match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input was malformed or failed validation (400).
    InvalidInput,
    /// The caller is not authenticated (401).
    Unauthenticated,
    /// The caller is authenticated but may not do this (403).
    Forbidden,
    /// The thing does not exist, or is outside the caller's scope (404).
    NotFound,
    /// The request conflicts with existing state, e.g. a duplicate key (409).
    Conflict,
    /// The caller is temporarily locked out or rate limited (429).
    TooManyRequests,
    /// A dependency (database, disk) failed; the caller may retry (503).
    Unavailable,
    /// A bug or broken invariant (500). Never caused by bad input.
    Internal,
}

/// Returns `len` random bytes from the operating system's generator.
pub fn random_bytes(len: usize) -> Vec<u8> {
    use rand::RngCore;
    let mut bytes = vec![0u8; len];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Returns a random password of `len` characters from an alphabet without look-alikes
/// (no `0/O`, `1/l/I`), suitable to print once to an operator.
pub fn random_password(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Installs a `tracing` subscriber that reads its filter from `RUST_LOG` (default `info`).
/// Calling it twice is harmless.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_random_and_unambiguous() {
        let a = random_password(20);
        let b = random_password(20);
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']));
    }
}
