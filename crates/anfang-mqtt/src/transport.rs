//! [`MqttTransport`]: the one interface the platform uses, whichever mode runs.
//!
//! The platform loops on [`MqttTransport::recv_up`] in one task and publishes downlinks from
//! any task through a cloned [`Downlink`], so it never learns whether an embedded broker or an
//! external one carries the messages.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::broker::{BrokerConfig, BrokerStats, EmbeddedBroker, Shared};
use crate::client::{self, ClientConfig, ExternalClient};
use crate::{MqttError, QoS, UpMessage};

/// Which mode to start, with its settings.
#[derive(Debug, Clone)]
pub enum TransportConfig {
    /// Run the embedded broker (the default deployment).
    Embedded(BrokerConfig),
    /// Connect to an external broker.
    External(ClientConfig),
}

enum Mode {
    Embedded(EmbeddedBroker),
    External(ExternalClient),
}

/// A running MQTT transport in either mode.
pub struct MqttTransport {
    mode: Mode,
    up: mpsc::Receiver<UpMessage>,
    down: Downlink,
}

impl MqttTransport {
    /// Starts the configured mode and takes the uplink receiver, so no uplink is missed.
    ///
    /// # Errors
    /// [`MqttError::Bind`] (embedded) or [`MqttError::Connect`] (external).
    pub async fn start(config: TransportConfig) -> Result<MqttTransport, MqttError> {
        match config {
            TransportConfig::Embedded(config) => {
                let broker = EmbeddedBroker::start(config).await?;
                let up = broker.subscribe_all_up();
                let down = Downlink(DownInner::Embedded(broker.shared()));
                Ok(MqttTransport {
                    mode: Mode::Embedded(broker),
                    up,
                    down,
                })
            }
            TransportConfig::External(config) => {
                let client = ExternalClient::start(config).await?;
                let up = client.subscribe_all_up();
                let down = Downlink(DownInner::External(client.client()));
                Ok(MqttTransport {
                    mode: Mode::External(client),
                    up,
                    down,
                })
            }
        }
    }

    /// The next uplink, or `None` once the transport is shut down.
    pub async fn recv_up(&mut self) -> Option<UpMessage> {
        self.up.recv().await
    }

    /// Publishes `payload` to the down topic of `device_code`; see [`Downlink::publish_down`].
    ///
    /// # Errors
    /// As [`Downlink::publish_down`].
    pub async fn publish_down(
        &self,
        device_code: &str,
        payload: impl Into<Bytes>,
        qos: QoS,
    ) -> Result<(), MqttError> {
        self.down.publish_down(device_code, payload, qos).await
    }

    /// A cloneable handle for publishing downlinks from other tasks.
    pub fn downlink(&self) -> Downlink {
        self.down.clone()
    }

    /// The embedded broker's listening address; `None` in client mode.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.mode {
            Mode::Embedded(broker) => Some(broker.local_addr()),
            Mode::External(_) => None,
        }
    }

    /// The embedded broker's counters; `None` in client mode.
    pub fn stats(&self) -> Option<BrokerStats> {
        match &self.mode {
            Mode::Embedded(broker) => Some(broker.stats()),
            Mode::External(_) => None,
        }
    }

    /// `"embedded"` or `"external"`, for logs and health output.
    pub fn mode_name(&self) -> &'static str {
        match &self.mode {
            Mode::Embedded(_) => "embedded",
            Mode::External(_) => "external",
        }
    }

    /// Stops the broker or disconnects the client.
    pub async fn shutdown(self) {
        match self.mode {
            Mode::Embedded(broker) => broker.shutdown().await,
            Mode::External(client) => client.shutdown().await,
        }
    }
}

/// A cloneable handle that publishes to devices' down topics in either mode.
#[derive(Clone)]
pub struct Downlink(DownInner);

#[derive(Clone)]
enum DownInner {
    Embedded(Arc<Shared>),
    External(rumqttc::AsyncClient),
}

impl Downlink {
    /// Publishes `payload` to `anfang/v1/dev/{device_code}/down`.
    ///
    /// Embedded mode queues the message for the device's connection without waiting and
    /// succeeds even when the device is offline (nothing is stored for it then); client mode
    /// waits for room in the client's request queue. Neither waits for the device's PUBACK.
    ///
    /// # Errors
    /// [`MqttError::InvalidTopic`] when the code is not a single topic level;
    /// [`MqttError::Closed`] when the external client has shut down.
    pub async fn publish_down(
        &self,
        device_code: &str,
        payload: impl Into<Bytes>,
        qos: QoS,
    ) -> Result<(), MqttError> {
        match &self.0 {
            DownInner::Embedded(shared) => {
                let queued = shared.publish_down(device_code, payload.into(), qos)?;
                if queued == 0 {
                    tracing::debug!(device_code, "MQTT downlink for a device without subscription");
                }
                Ok(())
            }
            DownInner::External(client) => {
                client::publish_down(client, device_code, payload.into(), qos).await
            }
        }
    }
}

impl std::fmt::Debug for Downlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match self.0 {
            DownInner::Embedded(_) => "embedded",
            DownInner::External(_) => "external",
        };
        f.debug_tuple("Downlink").field(&mode).finish()
    }
}
