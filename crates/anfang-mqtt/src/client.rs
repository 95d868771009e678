//! Client mode: Anfang as one client of an external broker (e.g. Mosquitto), for scale-out.
//!
//! The platform subscribes to every device's up topic and publishes to down topics; the
//! external broker authenticates devices and enforces the ACLs (its configuration, see
//! `docs/design/mqtt.md`). One background task drives `rumqttc`'s event loop, reconnects with
//! backoff and re-subscribes after every CONNACK, because sessions are clean.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rumqttc::{AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, Packet, SubscribeReasonCode};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::up::UpSlot;
use crate::{MqttError, QoS, UpMessage, topic};

/// Settings of client mode. [`ClientConfig::new`] fills in the defaults.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Host name or IP address of the external broker.
    pub host: String,
    /// Its port, usually [`crate::DEFAULT_PORT`].
    pub port: u16,
    /// The client id; it must be unique at the broker, or the broker disconnects the older
    /// client with the same id.
    pub client_id: String,
    /// Credentials of the platform at the broker, if it requires any.
    pub username: Option<String>,
    /// Password that goes with `username`.
    pub password: Option<String>,
    /// The filter to subscribe to (default [`topic::UP_FILTER`]). Several Anfang instances can
    /// share the load with a shared subscription such as `$share/anfang/anfang/v1/dev/+/up`.
    pub up_filter: String,
    /// Capacity of the platform's uplink channel (default 1024). When it is full, the client
    /// stops reading from the broker (back-pressure).
    pub up_capacity: usize,
    /// MQTT keep-alive interval (default 30 s).
    pub keep_alive: Duration,
    /// Time `start` may take to connect and subscribe (default 10 s).
    pub connect_timeout: Duration,
    /// Largest packet sent or received in bytes (default 1 MiB).
    pub max_packet_size: usize,
}

impl ClientConfig {
    /// A configuration with the default settings and no credentials.
    pub fn new(host: impl Into<String>, port: u16, client_id: impl Into<String>) -> ClientConfig {
        ClientConfig {
            host: host.into(),
            port,
            client_id: client_id.into(),
            username: None,
            password: None,
            up_filter: topic::UP_FILTER.to_owned(),
            up_capacity: 1024,
            keep_alive: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_packet_size: 1024 * 1024,
        }
    }
}

/// A running client of an external broker. Dropping it stops the connection task.
pub struct ExternalClient {
    client: AsyncClient,
    up: Arc<UpSlot>,
    broker: String,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl ExternalClient {
    /// Connects, subscribes to the up filter and returns once the broker granted it.
    ///
    /// # Errors
    /// [`MqttError::Connect`], naming the broker, when the connection, the credentials or the
    /// subscription is refused, or when `connect_timeout` passes first.
    pub async fn start(config: ClientConfig) -> Result<ExternalClient, MqttError> {
        let broker = format!("{}:{}", config.host, config.port);
        let mut options = MqttOptions::new(config.client_id.clone(), config.host.clone(), config.port);
        options.set_keep_alive(config.keep_alive.max(Duration::from_secs(1)));
        options.set_clean_session(true);
        options.set_max_packet_size(config.max_packet_size, config.max_packet_size);
        if let Some(username) = &config.username {
            options.set_credentials(username.clone(), config.password.clone().unwrap_or_default());
        }
        let (client, mut eventloop) = AsyncClient::new(options, 64);
        {
            let mut network = rumqttc::NetworkOptions::new();
            // Small request/answer messages: Nagle's delay would add tens of milliseconds.
            network.set_tcp_nodelay(true);
            eventloop.set_network_options(network);
        }
        let up = Arc::new(UpSlot::new(config.up_capacity));
        let (stop, stop_rx) = watch::channel(false);
        let (ready_tx, ready_rx) = oneshot::channel();
        let task = tokio::spawn(drive(
            eventloop,
            client.clone(),
            up.clone(),
            config.up_filter.clone(),
            ready_tx,
            stop_rx,
        ));

        let failure = |reason: String| MqttError::Connect {
            broker: broker.clone(),
            reason,
        };
        let outcome = match tokio::time::timeout(config.connect_timeout, ready_rx).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(reason))) => Err(failure(reason)),
            Ok(Err(_)) => Err(failure("connection task ended".to_owned())),
            Err(_) => Err(failure(format!(
                "no connection within {:?}",
                config.connect_timeout
            ))),
        };
        if let Err(e) = outcome {
            task.abort();
            return Err(e);
        }
        tracing::info!(%broker, filter = %config.up_filter, "MQTT client connected to external broker");
        Ok(ExternalClient {
            client,
            up,
            broker,
            stop,
            task: Some(task),
        })
    }

    /// The receiver of every device's up-topic messages; same contract as
    /// [`crate::EmbeddedBroker::subscribe_all_up`].
    pub fn subscribe_all_up(&self) -> mpsc::Receiver<UpMessage> {
        self.up.subscribe()
    }

    /// Publishes to any topic at the external broker. Returns once the message is queued in the
    /// client (waiting while its request queue is full); the broker's PUBACK is not awaited.
    ///
    /// # Errors
    /// [`MqttError::InvalidTopic`] for an empty or wildcard topic, [`MqttError::Closed`] after
    /// shutdown.
    pub async fn publish(&self, topic: &str, payload: impl Into<Bytes>, qos: QoS) -> Result<(), MqttError> {
        publish(&self.client, topic, payload.into(), qos).await
    }

    /// Publishes to the down topic of `device_code`; see [`ExternalClient::publish`].
    ///
    /// # Errors
    /// As [`ExternalClient::publish`]; [`MqttError::InvalidTopic`] when the code is not a single
    /// topic level.
    pub async fn publish_down(
        &self,
        device_code: &str,
        payload: impl Into<Bytes>,
        qos: QoS,
    ) -> Result<(), MqttError> {
        publish_down(&self.client, device_code, payload.into(), qos).await
    }

    /// `host:port` of the external broker.
    pub fn broker(&self) -> &str {
        &self.broker
    }

    pub(crate) fn client(&self) -> AsyncClient {
        self.client.clone()
    }

    /// Sends DISCONNECT and stops the connection task.
    pub async fn shutdown(mut self) {
        let _ = self.client.try_disconnect();
        if let Some(task) = self.task.take() {
            // The task ends on its own after sending DISCONNECT; the timeout covers a dead broker.
            if tokio::time::timeout(Duration::from_secs(2), task).await.is_err() {
                let _ = self.stop.send(true);
            }
        }
        let _ = self.stop.send(true);
    }
}

impl Drop for ExternalClient {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

pub(crate) async fn publish(
    client: &AsyncClient,
    topic: &str,
    payload: Bytes,
    qos: QoS,
) -> Result<(), MqttError> {
    if topic.is_empty() || !rumqttc::valid_topic(topic) {
        return Err(MqttError::InvalidTopic(topic.to_owned()));
    }
    client
        .publish_bytes(topic, qos.to_wire(), false, payload)
        .await
        .map_err(|_| MqttError::Closed)
}

pub(crate) async fn publish_down(
    client: &AsyncClient,
    device_code: &str,
    payload: Bytes,
    qos: QoS,
) -> Result<(), MqttError> {
    if !topic::is_valid_code(device_code) {
        return Err(MqttError::InvalidTopic(topic::down_topic(device_code)));
    }
    publish(client, &topic::down_topic(device_code), payload, qos).await
}

/// Drives the event loop until stopped. Reports the first connection's outcome through `ready`;
/// after that, errors are logged and the connection is retried with exponential backoff.
async fn drive(
    mut eventloop: EventLoop,
    client: AsyncClient,
    up: Arc<UpSlot>,
    filter: String,
    ready: oneshot::Sender<Result<(), String>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut ready = Some(ready);
    let mut backoff = Duration::from_millis(100);
    loop {
        let event = tokio::select! {
            event = eventloop.poll() => event,
            _ = stop.changed() => return,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = Duration::from_millis(100);
                // `try_` because this task is the one that drains the request queue: awaiting
                // room in it here could never finish.
                if let Err(e) = client.try_subscribe(filter.as_str(), rumqttc::QoS::AtLeastOnce) {
                    let reason = format!("cannot subscribe to {filter}: {e}");
                    match ready.take() {
                        Some(ready) => {
                            let _ = ready.send(Err(reason));
                            return;
                        }
                        None => tracing::error!("{reason}"),
                    }
                }
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                let granted = ack
                    .return_codes
                    .iter()
                    .all(|c| matches!(c, SubscribeReasonCode::Success(_)));
                match (granted, ready.take()) {
                    (true, Some(ready)) => {
                        let _ = ready.send(Ok(()));
                    }
                    (false, Some(ready)) => {
                        let _ = ready.send(Err(format!("subscription to {filter} refused")));
                        return;
                    }
                    (true, None) => tracing::info!(%filter, "MQTT client re-subscribed after reconnect"),
                    (false, None) => tracing::error!(%filter, "MQTT broker refused the re-subscription"),
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                let Some(code) = topic::parse_up_topic(&publish.topic) else {
                    tracing::debug!(topic = %publish.topic, "MQTT client ignored a message on a non-up topic");
                    continue;
                };
                let message = UpMessage {
                    device_code: code.to_owned(),
                    payload: publish.payload,
                };
                tokio::select! {
                    () = up.deliver(message) => {}
                    _ = stop.changed() => return,
                }
            }
            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => {
                // rumqttc ends the connection after sending DISCONNECT; polling on would reconnect.
                return;
            }
            Ok(_) => {}
            Err(e) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(describe(&e)));
                    return;
                }
                tracing::warn!(
                    "MQTT connection to external broker lost: {}; retrying in {backoff:?}",
                    describe(&e)
                );
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

fn describe(error: &ConnectionError) -> String {
    match error {
        ConnectionError::ConnectionRefused(code) => format!("connection refused ({code:?})"),
        other => other.to_string(),
    }
}
