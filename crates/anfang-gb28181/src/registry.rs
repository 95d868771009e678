//! Who is registered and who is alive. A registration lives `Expires` seconds from the last
//! successful REGISTER; a registered device is online while it has been heard from (keepalive
//! or any request) within the keepalive timeout, and offline after it, until it is heard from
//! again. Expiry removes the device (it must REGISTER again; a MESSAGE from it gets 404, which
//! makes devices re-register). Nonces we issued live `nonce_ttl_ms` and may be reused within
//! it (devices re-sign refreshes with the nonce they have). Pure: times are arguments.

use crate::GbId;
use std::collections::HashMap;
use std::net::SocketAddr;

/// The SIP transport a device uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// SIP over UDP.
    Udp,
    /// SIP over TCP (the connection the device opened).
    Tcp,
}

impl Transport {
    /// As written in a Via header.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }
}

/// Where a device is reached: the observed source of its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// UDP or TCP.
    pub transport: Transport,
    /// The source address (we answer here, not to the Contact: NAT).
    pub addr: SocketAddr,
}

/// Why a device went offline or away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflineReason {
    /// No keepalive within the timeout.
    KeepaliveTimeout,
    /// The registration ran out.
    Expired,
    /// The device unregistered (`Expires: 0`).
    Unregistered,
}

impl OfflineReason {
    /// A stable label.
    pub fn as_str(self) -> &'static str {
        match self {
            OfflineReason::KeepaliveTimeout => "keepalive_timeout",
            OfflineReason::Expired => "expired",
            OfflineReason::Unregistered => "unregistered",
        }
    }
}

/// One registered device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceState {
    /// The device's id.
    pub id: GbId,
    /// Where it is reached.
    pub peer: Peer,
    /// When it registered first in this registration (ms).
    pub registered_at: i64,
    /// When the registration runs out (ms).
    pub expires_at: i64,
    /// When it was last heard from (ms).
    pub last_seen: i64,
    /// Whether it counts as online now.
    pub online: bool,
    /// `User-Agent` of its REGISTER.
    pub user_agent: Option<String>,
    /// `X-GB-Ver` of its REGISTER ("2.0" = 2016, "3.0" = 2022).
    pub gb_version: Option<String>,
}

/// A change the sweep or a message caused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Came online (registered, or heard from again after a timeout).
    Online(GbId),
    /// Went offline; with `Expired`/`Unregistered` it is also gone from the table.
    Offline(GbId, OfflineReason),
}

/// The outcome of a successful REGISTER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// Not registered before (or after expiry): query it.
    Fresh,
    /// A refresh from the same address.
    Refresh,
    /// A refresh from a new address (NAT rebinding, DHCP): re-query is optional.
    Moved,
}

/// The registration table.
#[derive(Debug, Clone)]
pub struct Registry {
    keepalive_timeout_ms: i64,
    nonce_ttl_ms: i64,
    devices: HashMap<GbId, DeviceState>,
    /// Nonces we issued: when, and to which source address.
    nonces: HashMap<String, (i64, SocketAddr)>,
}

impl Registry {
    /// An empty table.
    pub fn new(keepalive_timeout_ms: i64, nonce_ttl_ms: i64) -> Registry {
        Registry {
            keepalive_timeout_ms,
            nonce_ttl_ms,
            devices: HashMap::new(),
            nonces: HashMap::new(),
        }
    }

    /// Remembers a nonce just sent in a challenge to `to` (and forgets dead ones).
    pub fn issue_nonce(&mut self, nonce: &str, to: SocketAddr, now: i64) {
        let ttl = self.nonce_ttl_ms;
        self.nonces.retain(|_, (at, _)| now - *at < ttl);
        self.nonces.insert(nonce.to_string(), (now, to));
    }

    /// Whether we issued this nonce to `from` and it is still live. Binding the nonce to the
    /// address it was sent to means a REGISTER captured on the wire cannot be replayed from
    /// elsewhere to move the device's address; a device that really moved is challenged again.
    pub fn nonce_is_live(&self, nonce: &str, from: SocketAddr, now: i64) -> bool {
        self.nonces
            .get(nonce)
            .is_some_and(|(at, to)| *to == from && now - at < self.nonce_ttl_ms)
    }

    /// Records a successful REGISTER with `expires_s` > 0.
    pub fn register(
        &mut self,
        id: &GbId,
        peer: Peer,
        expires_s: u32,
        user_agent: Option<String>,
        gb_version: Option<String>,
        now: i64,
    ) -> (Registered, Vec<Change>) {
        let expires_at = now + i64::from(expires_s) * 1000;
        let mut changes = Vec::new();
        let outcome = match self.devices.get_mut(id) {
            Some(state) if state.expires_at > now => {
                let moved = state.peer != peer;
                state.peer = peer;
                state.expires_at = expires_at;
                state.last_seen = now;
                state.user_agent = user_agent;
                state.gb_version = gb_version;
                if !state.online {
                    state.online = true;
                    changes.push(Change::Online(id.clone()));
                }
                if moved {
                    Registered::Moved
                } else {
                    Registered::Refresh
                }
            }
            _ => {
                self.devices.insert(
                    id.clone(),
                    DeviceState {
                        id: id.clone(),
                        peer,
                        registered_at: now,
                        expires_at,
                        last_seen: now,
                        online: true,
                        user_agent,
                        gb_version,
                    },
                );
                changes.push(Change::Online(id.clone()));
                Registered::Fresh
            }
        };
        (outcome, changes)
    }

    /// Removes a device that unregistered.
    pub fn unregister(&mut self, id: &GbId) -> Vec<Change> {
        match self.devices.remove(id) {
            Some(_) => vec![Change::Offline(id.clone(), OfflineReason::Unregistered)],
            None => Vec::new(),
        }
    }

    /// A request from a device: `None` when it is not registered (answer 404); otherwise
    /// its state after the touch and whether it just came back online. A new source
    /// address replaces the old (devices behind NAT move).
    pub fn touch(&mut self, id: &GbId, peer: Peer, now: i64) -> Option<(DeviceState, Vec<Change>)> {
        let state = self.devices.get_mut(id).filter(|s| s.expires_at > now)?;
        state.last_seen = now;
        state.peer = peer;
        let mut changes = Vec::new();
        if !state.online {
            state.online = true;
            changes.push(Change::Online(id.clone()));
        }
        Some((state.clone(), changes))
    }

    /// Applies the timing rules at `now`: expired registrations leave the table, silent
    /// devices go offline.
    pub fn sweep(&mut self, now: i64) -> Vec<Change> {
        let mut changes = Vec::new();
        let timeout = self.keepalive_timeout_ms;
        self.devices.retain(|id, state| {
            if state.expires_at <= now {
                changes.push(Change::Offline(id.clone(), OfflineReason::Expired));
                return false;
            }
            if state.online && now - state.last_seen >= timeout {
                state.online = false;
                changes.push(Change::Offline(id.clone(), OfflineReason::KeepaliveTimeout));
            }
            true
        });
        changes.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        changes
    }

    /// A device's state, if registered.
    pub fn get(&self, id: &GbId) -> Option<&DeviceState> {
        self.devices.get(id)
    }

    /// Every registered device, by id.
    pub fn devices(&self) -> Vec<DeviceState> {
        let mut out: Vec<DeviceState> = self.devices.values().cloned().collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// (registered, online) counts.
    pub fn counts(&self) -> (usize, usize) {
        let online = self.devices.values().filter(|s| s.online).count();
        (self.devices.len(), online)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(port: u16) -> Peer {
        Peer {
            transport: Transport::Udp,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    #[test]
    fn keepalive_timeout_and_expiry_follow_the_clock() {
        let id = GbId::parse("34020000001320000001").unwrap();
        let mut r = Registry::new(180_000, 60_000);
        assert!(r.touch(&id, peer(1), 0).is_none(), "unknown → 404");
        let (outcome, changes) = r.register(&id, peer(1), 3600, None, Some("3.0".into()), 0);
        assert_eq!(
            (outcome, changes),
            (Registered::Fresh, vec![Change::Online(id.clone())])
        );
        assert!(r.sweep(179_999).is_empty());
        assert_eq!(
            r.sweep(180_000),
            vec![Change::Offline(id.clone(), OfflineReason::KeepaliveTimeout)]
        );
        assert!(r.sweep(190_000).is_empty(), "reported once");
        assert_eq!(r.counts(), (1, 0));
        let (_, changes) = r.touch(&id, peer(2), 200_000).unwrap();
        assert_eq!(changes, vec![Change::Online(id.clone())]);
        assert_eq!(r.get(&id).unwrap().peer, peer(2), "moved with NAT");
        let (outcome, _) = r.register(&id, peer(2), 10, None, None, 201_000);
        assert_eq!(outcome, Registered::Refresh);
        assert_eq!(
            r.sweep(211_000),
            vec![Change::Offline(id.clone(), OfflineReason::Expired)]
        );
        assert!(r.touch(&id, peer(2), 211_001).is_none());
        assert_eq!(r.counts(), (0, 0));
        r.register(&id, peer(2), 10, None, None, 212_000);
        assert_eq!(
            r.unregister(&id),
            vec![Change::Offline(id, OfflineReason::Unregistered)]
        );
    }

    #[test]
    fn nonces_live_for_their_ttl_at_their_address() {
        let mut r = Registry::new(1, 60_000);
        let (here, there) = (peer(1).addr, peer(2).addr);
        r.issue_nonce("a", here, 0);
        assert!(r.nonce_is_live("a", here, 59_999));
        assert!(!r.nonce_is_live("a", there, 1), "replayed from elsewhere");
        assert!(!r.nonce_is_live("a", here, 60_000));
        assert!(!r.nonce_is_live("forged", here, 0));
    }
}
