//! Registered peers and issued nonces. A registration lives `validity_ms` (the standard's
//! "一般为5分钟") after the last successful request — any successful request refreshes it —
//! and an expired peer is answered 401 so that it registers again. Nonces live
//! `nonce_ttl_ms` and may be reused within it (newer Hikvision devices sign later requests
//! with the nonce they got at registration).

use std::collections::HashMap;

/// Whether a peer may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Registered and within its validity (now refreshed).
    Registered,
    /// Never registered, unregistered or expired: answer 401.
    NotRegistered,
}

/// The table of registered peers and live nonces.
#[derive(Debug, Clone)]
pub struct Registrations {
    validity_ms: i64,
    nonce_ttl_ms: i64,
    peers: HashMap<String, i64>,
    nonces: HashMap<String, i64>,
}

impl Registrations {
    /// An empty table.
    pub fn new(validity_ms: i64, nonce_ttl_ms: i64) -> Registrations {
        Registrations {
            validity_ms,
            nonce_ttl_ms,
            peers: HashMap::new(),
            nonces: HashMap::new(),
        }
    }

    /// Remembers a nonce just sent in a challenge.
    pub fn issue_nonce(&mut self, nonce: &str, now_ms: i64) {
        let ttl = self.nonce_ttl_ms;
        self.nonces.retain(|_, issued| now_ms - *issued < ttl);
        self.nonces.insert(nonce.to_string(), now_ms);
    }

    /// Whether a nonce was issued by us and is still live.
    pub fn nonce_is_live(&self, nonce: &str, now_ms: i64) -> bool {
        self.nonces
            .get(nonce)
            .is_some_and(|issued| now_ms - issued < self.nonce_ttl_ms)
    }

    /// Records a successful registration.
    pub fn register(&mut self, device_id: &str, now_ms: i64) {
        self.peers
            .insert(device_id.to_string(), now_ms + self.validity_ms);
    }

    /// Forgets a peer.
    pub fn unregister(&mut self, device_id: &str) -> bool {
        self.peers.remove(device_id).is_some()
    }

    /// Checks a peer and, when registered, refreshes its validity.
    pub fn touch(&mut self, device_id: &str, now_ms: i64) -> Verdict {
        match self.peers.get_mut(device_id) {
            Some(expires) if *expires > now_ms => {
                *expires = now_ms + self.validity_ms;
                Verdict::Registered
            }
            Some(_) => {
                self.peers.remove(device_id);
                Verdict::NotRegistered
            }
            None => Verdict::NotRegistered,
        }
    }

    /// The peers registered now, with their expiry (ms).
    pub fn registered(&self, now_ms: i64) -> Vec<(String, i64)> {
        let mut out: Vec<(String, i64)> = self
            .peers
            .iter()
            .filter(|(_, expires)| **expires > now_ms)
            .map(|(id, expires)| (id.clone(), *expires))
            .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_successful_request_refreshes_and_expiry_forgets() {
        let mut r = Registrations::new(300_000, 600_000);
        let id = "34078100001190001002";
        assert_eq!(r.touch(id, 0), Verdict::NotRegistered);
        r.register(id, 0);
        assert_eq!(r.touch(id, 299_000), Verdict::Registered);
        assert_eq!(r.touch(id, 598_000), Verdict::Registered, "refreshed at 299 s");
        assert_eq!(r.touch(id, 898_001), Verdict::NotRegistered, "expired");
        assert_eq!(r.touch(id, 898_002), Verdict::NotRegistered);
        r.register(id, 900_000);
        assert_eq!(r.registered(900_001).len(), 1);
        assert!(r.unregister(id));
        assert_eq!(r.touch(id, 900_002), Verdict::NotRegistered);
    }

    #[test]
    fn nonces_live_for_their_ttl_only() {
        let mut r = Registrations::new(300_000, 60_000);
        r.issue_nonce("n1", 0);
        assert!(r.nonce_is_live("n1", 59_999));
        assert!(!r.nonce_is_live("n1", 60_000));
        assert!(!r.nonce_is_live("forged", 1));
        r.issue_nonce("n2", 70_000);
        assert!(!r.nonce_is_live("n1", 70_001), "pruned");
    }
}
