//! The embedded broker's routing table: connected sessions, their subscriptions, and fan-out.
//!
//! Exact filters (the only kind the default ACL admits: `anfang/v1/dev/{code}/down`) are kept in
//! a map from topic to subscribers, so a downlink costs one lookup however many devices are
//! connected. Wildcard filters, which a custom ACL might allow, are scanned per publish.
//!
//! Delivery never waits: each session has a bounded queue, and a message for a session whose
//! queue is full is dropped and counted, so one slow device cannot stall the platform or others.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{Notify, mpsc};

use crate::QoS;
use crate::up::lock;

/// One message queued for one session.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub topic: String,
    pub payload: Bytes,
    pub qos: QoS,
}

struct Slot {
    /// `(username, client_id)`: sessions are namespaced by username, see `register`.
    key: (String, String),
    tx: mpsc::Sender<Delivery>,
    kick: Arc<Notify>,
    filters: HashMap<String, QoS>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    by_client: HashMap<(String, String), u64>,
    sessions: HashMap<u64, Slot>,
    exact: HashMap<String, HashMap<u64, QoS>>,
    wildcard: HashMap<u64, HashMap<String, QoS>>,
}

#[derive(Default)]
pub(crate) struct Router {
    table: Mutex<Table>,
    pub down_dropped: AtomicU64,
}

impl Router {
    /// Registers a new session and returns its id. A session already registered under the same
    /// client id is told to close, as MQTT 3.1.1 requires (section 3.1.4), and its subscriptions
    /// are removed at once so the new session starts clean.
    ///
    /// Client ids are namespaced by username: otherwise any authenticated device could knock
    /// another one offline, again and again, by connecting with that device's client id.
    pub(crate) fn register(
        &self,
        username: &str,
        client_id: &str,
        tx: mpsc::Sender<Delivery>,
        kick: Arc<Notify>,
    ) -> u64 {
        let key = (username.to_owned(), client_id.to_owned());
        let mut table = lock(&self.table);
        if let Some(old) = table.by_client.get(&key).copied() {
            if let Some(slot) = table.sessions.get(&old) {
                slot.kick.notify_one();
            }
            table.remove(old);
        }
        table.next_id += 1;
        let id = table.next_id;
        table.by_client.insert(key.clone(), id);
        let slot = Slot {
            key,
            tx,
            kick,
            filters: HashMap::new(),
        };
        table.sessions.insert(id, slot);
        id
    }

    pub(crate) fn unregister(&self, id: u64) {
        lock(&self.table).remove(id);
    }

    pub(crate) fn subscribe(&self, id: u64, filter: &str, qos: QoS) {
        let mut table = lock(&self.table);
        let Some(slot) = table.sessions.get_mut(&id) else {
            return;
        };
        slot.filters.insert(filter.to_owned(), qos);
        if rumqttc::has_wildcards(filter) {
            table
                .wildcard
                .entry(id)
                .or_default()
                .insert(filter.to_owned(), qos);
        } else {
            table.exact.entry(filter.to_owned()).or_default().insert(id, qos);
        }
    }

    pub(crate) fn unsubscribe(&self, id: u64, filter: &str) {
        let mut table = lock(&self.table);
        let Some(slot) = table.sessions.get_mut(&id) else {
            return;
        };
        slot.filters.remove(filter);
        table.unlink(id, filter);
    }

    /// Queues `payload` for every session with a matching subscription, once per session at the
    /// highest granted QoS (capped by the publish QoS). Returns how many sessions it was queued
    /// for.
    pub(crate) fn route(&self, topic: &str, payload: &Bytes, qos: QoS) -> usize {
        let table = lock(&self.table);
        let mut targets: Vec<(u64, QoS)> = Vec::new();
        let mut add = |id: u64, granted: QoS| match targets.iter_mut().find(|(t, _)| *t == id) {
            Some((_, q)) => *q = (*q).max(granted),
            None => targets.push((id, granted)),
        };
        if let Some(subscribers) = table.exact.get(topic) {
            for (&id, &granted) in subscribers {
                add(id, granted);
            }
        }
        for (&id, filters) in &table.wildcard {
            for (filter, &granted) in filters {
                if rumqttc::matches(topic, filter) {
                    add(id, granted);
                }
            }
        }

        let mut queued = 0;
        for (id, granted) in targets {
            let Some(slot) = table.sessions.get(&id) else {
                continue;
            };
            let delivery = Delivery {
                topic: topic.to_owned(),
                payload: payload.clone(),
                qos: qos.min(granted),
            };
            match slot.tx.try_send(delivery) {
                Ok(()) => queued += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.down_dropped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(client_id = %slot.key.1, topic, "MQTT session queue full; message dropped");
                }
                // The session is closing; it unregisters itself right after.
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        queued
    }

    pub(crate) fn session_count(&self) -> usize {
        lock(&self.table).sessions.len()
    }
}

impl Table {
    fn remove(&mut self, id: u64) {
        let Some(slot) = self.sessions.remove(&id) else {
            return;
        };
        if self.by_client.get(&slot.key) == Some(&id) {
            self.by_client.remove(&slot.key);
        }
        for filter in slot.filters.keys() {
            self.unlink(id, filter);
        }
    }

    fn unlink(&mut self, id: u64, filter: &str) {
        if let Some(subscribers) = self.exact.get_mut(filter) {
            subscribers.remove(&id);
            if subscribers.is_empty() {
                self.exact.remove(filter);
            }
        }
        if let Some(filters) = self.wildcard.get_mut(&id) {
            filters.remove(filter);
            if filters.is_empty() {
                self.wildcard.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(router: &Router, client_id: &str) -> (u64, mpsc::Receiver<Delivery>, Arc<Notify>) {
        let (tx, rx) = mpsc::channel(2);
        let kick = Arc::new(Notify::new());
        (router.register("user", client_id, tx, kick.clone()), rx, kick)
    }

    #[test]
    fn routes_to_exact_and_wildcard_subscribers_once_each() {
        let router = Router::default();
        let (a, mut rx_a, _) = session(&router, "a");
        let (b, mut rx_b, _) = session(&router, "b");
        router.subscribe(a, "x/y", QoS::AtLeastOnce);
        router.subscribe(a, "x/+", QoS::AtMostOnce);
        router.subscribe(b, "#", QoS::AtMostOnce);

        assert_eq!(
            router.route("x/y", &Bytes::from_static(b"1"), QoS::AtLeastOnce),
            2
        );
        let got = rx_a.try_recv().unwrap();
        assert_eq!(got.qos, QoS::AtLeastOnce);
        assert!(rx_a.try_recv().is_err(), "one delivery per session");
        assert_eq!(rx_b.try_recv().unwrap().qos, QoS::AtMostOnce);
        assert_eq!(router.route("z", &Bytes::new(), QoS::AtMostOnce), 1);
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let router = Router::default();
        let (a, _rx, _) = session(&router, "a");
        router.subscribe(a, "t", QoS::AtMostOnce);
        for _ in 0..3 {
            router.route("t", &Bytes::new(), QoS::AtMostOnce);
        }
        assert_eq!(router.down_dropped.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_second_session_with_the_same_client_id_takes_over() {
        let router = Router::default();
        let (first, _rx1, kick1) = session(&router, "same");
        router.subscribe(first, "t", QoS::AtMostOnce);
        let (second, _rx2, _) = session(&router, "same");
        assert_ne!(first, second);
        assert_eq!(router.session_count(), 1);
        assert_eq!(
            router.route("t", &Bytes::new(), QoS::AtMostOnce),
            0,
            "old subscriptions are gone"
        );
        // The old session's kick holds a stored permit, so it is not lost if it was not waiting.
        let notified = kick1.notified();
        tokio::pin!(notified);
        assert!(is_ready(notified.as_mut()));
        // Unregistering the old id later must not remove the new session.
        router.unregister(first);
        assert_eq!(router.session_count(), 1);
    }

    fn is_ready(notified: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>) -> bool {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        std::future::Future::poll(notified, &mut cx).is_ready()
    }
}
