//! The bounded channel that carries device uplinks to the platform, shared by both modes.
//!
//! The channel exists from the moment the transport starts, so nothing a device sends before
//! the platform asks for its receiver is lost: it waits in the channel. When the channel is
//! full, senders wait (back-pressure): the embedded broker stops reading from that device's
//! socket and delays its PUBACK, so TCP flow control slows the device instead of the platform
//! losing messages or growing a queue without bound.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use crate::UpMessage;

pub(crate) struct UpSlot {
    capacity: usize,
    tx: Mutex<Option<mpsc::Sender<UpMessage>>>,
    first_rx: Mutex<Option<mpsc::Receiver<UpMessage>>>,
    dropped: AtomicU64,
}

impl UpSlot {
    pub(crate) fn new(capacity: usize) -> UpSlot {
        // A zero capacity would make `mpsc::channel` panic; one is the smallest useful bound.
        let capacity = capacity.max(1);
        let (tx, rx) = mpsc::channel(capacity);
        UpSlot {
            capacity,
            tx: Mutex::new(Some(tx)),
            first_rx: Mutex::new(Some(rx)),
            dropped: AtomicU64::new(0),
        }
    }

    /// Hands out the receiver created at start the first time; later calls open a fresh channel
    /// and close the previous receiver, so there is always exactly one consumer.
    pub(crate) fn subscribe(&self) -> mpsc::Receiver<UpMessage> {
        if let Some(rx) = lock(&self.first_rx).take() {
            return rx;
        }
        let (tx, rx) = mpsc::channel(self.capacity);
        *lock(&self.tx) = Some(tx);
        rx
    }

    /// Delivers one message, waiting while the channel is full. A message is dropped (and
    /// counted) only when the platform has dropped its receiver.
    pub(crate) async fn deliver(&self, message: UpMessage) {
        let tx = lock(&self.tx).clone();
        let delivered = match tx {
            Some(tx) => tx.send(message).await.is_ok(),
            None => false,
        };
        if !delivered {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Delivers without waiting; used for last-will messages of closing sessions.
    pub(crate) fn try_deliver(&self, message: UpMessage) {
        let tx = lock(&self.tx).clone();
        let delivered = tx.is_some_and(|tx| tx.try_send(message).is_ok());
        if !delivered {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Locks a mutex, ignoring poisoning: the guarded values stay consistent across a panic because
/// every critical section is a single assignment or lookup.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
