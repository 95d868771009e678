//! MQTT transport between Anfang and its devices (door terminals, barrier gates, booths).
//!
//! Two deployments sit behind one interface, [`MqttTransport`]: an [`EmbeddedBroker`] (the
//! default: one binary, no external broker) that authenticates every CONNECT and enforces
//! per-device topic ACLs through injected callbacks ([`Access`]), and an [`ExternalClient`] that
//! connects to an external broker such as Mosquitto for scale-out. The platform receives device
//! uplinks as [`UpMessage`]s from a bounded channel and sends downlinks with `publish_down`.
//!
//! Invariant: this crate knows nothing of Anfang's store, application or API; everything it
//! needs to decide comes in through callbacks and configuration.
//!
//! Topic scheme (see [`topic`]): a device publishes to `anfang/v1/dev/{code}/up` and subscribes
//! to `anfang/v1/dev/{code}/down`, where `{code}` is its 20-digit device code and also its MQTT
//! username. See `docs/design/mqtt.md` for the choice of implementation and its limits.

mod access;
mod broker;
mod client;
pub mod topic;
mod transport;
mod up;

use bytes::Bytes;

pub use access::{Access, AuthFuture};
pub use broker::{BrokerConfig, BrokerStats, EmbeddedBroker};
pub use client::{ClientConfig, ExternalClient};
pub use transport::{Downlink, MqttTransport, TransportConfig};

/// The standard MQTT port, used when the configuration names no other.
pub const DEFAULT_PORT: u16 = 1883;

/// Delivery guarantee of a message.
///
/// QoS 2 is deliberately absent: the embedded broker grants at most QoS 1 and the platform never
/// needs exactly-once delivery (device messages carry their own identifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QoS {
    /// Fire and forget (QoS 0).
    AtMostOnce,
    /// Acknowledged with PUBACK, possibly delivered twice (QoS 1).
    AtLeastOnce,
}

impl QoS {
    pub(crate) fn to_wire(self) -> rumqttc::QoS {
        match self {
            QoS::AtMostOnce => rumqttc::QoS::AtMostOnce,
            QoS::AtLeastOnce => rumqttc::QoS::AtLeastOnce,
        }
    }

    /// Maps a wire QoS to the supported range; QoS 2 is served as QoS 1.
    pub(crate) fn from_wire(qos: rumqttc::QoS) -> QoS {
        match qos {
            rumqttc::QoS::AtMostOnce => QoS::AtMostOnce,
            rumqttc::QoS::AtLeastOnce | rumqttc::QoS::ExactlyOnce => QoS::AtLeastOnce,
        }
    }
}

/// A message a device published to its up topic, as the platform receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpMessage {
    /// The device code taken from the topic `anfang/v1/dev/{code}/up`.
    ///
    /// With the default ACL a device can only publish to its own up topic, so this equals the
    /// username it authenticated with.
    pub device_code: String,
    /// The payload, unchanged.
    pub payload: Bytes,
}

/// Failures of the MQTT transport.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    /// The embedded broker could not listen, typically because the port is taken.
    #[error("cannot listen for MQTT on {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: std::net::SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The client could not connect to, authenticate with or subscribe at the external broker.
    #[error("cannot use MQTT broker {broker}: {reason}")]
    Connect {
        /// `host:port` of the external broker.
        broker: String,
        /// What went wrong, in words.
        reason: String,
    },
    /// A topic was empty, contained a wildcard or a device code was not a valid topic level.
    #[error("invalid MQTT topic {0:?}")]
    InvalidTopic(String),
    /// The transport was shut down or its connection task ended.
    #[error("MQTT transport is closed")]
    Closed,
}
