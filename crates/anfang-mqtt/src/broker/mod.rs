//! The embedded MQTT 3.1.1 broker: a TCP listener, one task per connection, and an in-process
//! handle through which the platform receives uplinks and publishes downlinks without a hop.
//!
//! It is deliberately small (see `docs/design/mqtt.md`): clean sessions only, QoS 0 and 1 (a
//! QoS 2 publish from a client is accepted and handled, subscriptions are granted at most QoS 1),
//! no retained messages, no TLS. Packet encoding and decoding come from `rumqttc::mqttbytes`.

mod router;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::access::Access;
use crate::up::UpSlot;
use crate::{MqttError, QoS, UpMessage, topic};
use router::Router;

/// Settings of the embedded broker. [`BrokerConfig::new`] fills in the defaults.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Where to listen, e.g. `0.0.0.0:1883`; tests use port 0.
    pub listen: SocketAddr,
    /// Who may connect, publish and subscribe.
    pub access: Access,
    /// Capacity of the platform's uplink channel (default 1024). When it is full, devices wait.
    pub up_capacity: usize,
    /// Capacity of each connection's downlink queue (default 64). When it is full, new
    /// messages for that connection are dropped and counted in [`BrokerStats::down_dropped`].
    pub session_queue: usize,
    /// QoS 1 messages sent to one connection and not yet acknowledged (default 32).
    pub max_inflight: u16,
    /// Largest accepted packet body in bytes (default 1 MiB).
    pub max_packet_size: usize,
    /// Time a new connection has to send CONNECT and be authenticated (default 10 s).
    pub connect_timeout: Duration,
    /// Time a write to a client may take before the client is disconnected (default 30 s).
    pub write_timeout: Duration,
    /// Simultaneous connections; further ones are closed at once (default 10 000).
    pub max_connections: usize,
}

impl BrokerConfig {
    /// A configuration with the default limits.
    pub fn new(listen: SocketAddr, access: Access) -> BrokerConfig {
        BrokerConfig {
            listen,
            access,
            up_capacity: 1024,
            session_queue: 64,
            max_inflight: 32,
            max_packet_size: 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            max_connections: 10_000,
        }
    }
}

/// Counters of the embedded broker, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BrokerStats {
    /// Connections that are authenticated and open.
    pub connections: usize,
    /// CONNECTs refused by the authentication callback.
    pub auth_refused: u64,
    /// PUBLISHes (and will messages) refused by the publish rule.
    pub publish_refused: u64,
    /// Subscription filters refused by the subscribe rule or as invalid.
    pub subscribe_refused: u64,
    /// Messages for a connection whose queue was full.
    pub down_dropped: u64,
    /// Uplinks lost because the platform had dropped its receiver.
    pub up_dropped: u64,
}

pub(crate) struct Limits {
    session_queue: usize,
    max_inflight: u16,
    max_packet_size: usize,
    connect_timeout: Duration,
    write_timeout: Duration,
}

#[derive(Default)]
pub(crate) struct Counters {
    auth_refused: AtomicU64,
    publish_refused: AtomicU64,
    subscribe_refused: AtomicU64,
}

/// State shared by the listener, every connection task and the platform's handle.
pub(crate) struct Shared {
    router: Router,
    up: UpSlot,
    access: Access,
    limits: Limits,
    counters: Counters,
    next_auto_id: AtomicU64,
}

/// A running embedded broker. Dropping it stops the listener and closes all connections.
pub struct EmbeddedBroker {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Binds the listener and starts accepting connections.
    ///
    /// # Errors
    /// [`MqttError::Bind`], naming the address, when it cannot listen (e.g. the port is taken).
    pub async fn start(config: BrokerConfig) -> Result<EmbeddedBroker, MqttError> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| MqttError::Bind {
                addr: config.listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| MqttError::Bind {
            addr: config.listen,
            source,
        })?;
        let shared = Arc::new(Shared {
            router: Router::default(),
            up: UpSlot::new(config.up_capacity),
            access: config.access,
            limits: Limits {
                session_queue: config.session_queue,
                // One in flight keeps QoS 1 working; below 65535 a free packet id always exists.
                max_inflight: config.max_inflight.clamp(1, 65_000),
                max_packet_size: config.max_packet_size,
                connect_timeout: config.connect_timeout,
                write_timeout: config.write_timeout,
            },
            counters: Counters::default(),
            next_auto_id: AtomicU64::new(1),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let accept = tokio::spawn(accept_loop(
            listener,
            shared.clone(),
            shutdown_rx,
            Arc::new(Semaphore::new(config.max_connections)),
        ));
        tracing::info!(%local_addr, "embedded MQTT broker listening");
        Ok(EmbeddedBroker {
            local_addr,
            shared,
            shutdown,
            accept: Some(accept),
        })
    }

    /// The address the broker listens on (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The receiver of every device's up-topic messages.
    ///
    /// The first call returns the channel opened at start, holding what arrived since; a later
    /// call opens a new channel and closes the previous receiver (one consumer at a time).
    pub fn subscribe_all_up(&self) -> mpsc::Receiver<UpMessage> {
        self.shared.up.subscribe()
    }

    /// Publishes in-process to every connection subscribed to `topic`; never waits.
    ///
    /// Returns how many connections the message was queued for: 0 means no subscriber (for a
    /// down topic: the device is offline). A QoS 1 message in a connection's queue is lost if
    /// that connection closes before the device acknowledges it (sessions are clean).
    ///
    /// # Errors
    /// [`MqttError::InvalidTopic`] when `topic` is empty or contains a wildcard.
    pub fn publish(&self, topic: &str, payload: impl Into<Bytes>, qos: QoS) -> Result<usize, MqttError> {
        if topic.is_empty() || !rumqttc::valid_topic(topic) {
            return Err(MqttError::InvalidTopic(topic.to_owned()));
        }
        Ok(self.shared.router.route(topic, &payload.into(), qos))
    }

    /// Publishes to the down topic of `device_code`; see [`EmbeddedBroker::publish`].
    ///
    /// # Errors
    /// [`MqttError::InvalidTopic`] when the code is not a single topic level.
    pub fn publish_down(
        &self,
        device_code: &str,
        payload: impl Into<Bytes>,
        qos: QoS,
    ) -> Result<usize, MqttError> {
        if !topic::is_valid_code(device_code) {
            return Err(MqttError::InvalidTopic(topic::down_topic(device_code)));
        }
        self.publish(&topic::down_topic(device_code), payload, qos)
    }

    /// A snapshot of the broker's counters.
    pub fn stats(&self) -> BrokerStats {
        let counters = &self.shared.counters;
        BrokerStats {
            connections: self.shared.router.session_count(),
            auth_refused: counters.auth_refused.load(Ordering::Relaxed),
            publish_refused: counters.publish_refused.load(Ordering::Relaxed),
            subscribe_refused: counters.subscribe_refused.load(Ordering::Relaxed),
            down_dropped: self.shared.router.down_dropped.load(Ordering::Relaxed),
            up_dropped: self.shared.up.dropped(),
        }
    }

    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Stops listening, closes every connection (without publishing wills) and waits for them.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(accept) = self.accept.take() {
            let _ = accept.await;
        }
    }
}

impl Shared {
    /// The in-process downlink used by [`crate::Downlink`] once the broker handle is moved away.
    pub(crate) fn publish_down(
        &self,
        device_code: &str,
        payload: Bytes,
        qos: QoS,
    ) -> Result<usize, MqttError> {
        if !topic::is_valid_code(device_code) {
            return Err(MqttError::InvalidTopic(topic::down_topic(device_code)));
        }
        Ok(self.router.route(&topic::down_topic(device_code), &payload, qos))
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    slots: Arc<Semaphore>,
) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            // Reaping finished sessions keeps the set from growing with every connection ever made.
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Ok(permit) = slots.clone().try_acquire_owned() else {
                        tracing::warn!(%peer, "MQTT connection limit reached; closing new connection");
                        continue;
                    };
                    // Small MQTT packets (PUBACK, PINGRESP) must not wait for Nagle's algorithm.
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    let shutdown = shutdown.clone();
                    sessions.spawn(async move {
                        session::serve(stream, peer, shared, shutdown).await;
                        drop(permit);
                    });
                }
                Err(e) => {
                    // Typically out of file descriptors; pausing lets sessions close and free some.
                    tracing::warn!("MQTT accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    // Sessions see the same shutdown signal; give them a moment to close their sockets.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while sessions.join_next().await.is_some() {}
    })
    .await;
    sessions.abort_all();
}
