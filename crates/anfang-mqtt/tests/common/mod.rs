//! Test helpers: a device simulated by a real `rumqttc` client over TCP, and bounded waits.
//!
//! Every wait has a timeout so that a broken broker fails a test in seconds instead of hanging.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use rumqttc::{AsyncClient, ConnectionError, Event, MqttOptions, Packet, Publish, QoS, SubscribeReasonCode};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// Upper bound of any single wait in the tests.
pub const WAIT: Duration = Duration::from_secs(5);

/// A connected device: its client and the events its event loop produced.
pub struct Device {
    pub client: AsyncClient,
    events: mpsc::UnboundedReceiver<Result<Event, String>>,
}

/// Connects a device with the given credentials and waits for the CONNACK.
pub async fn connect(
    addr: SocketAddr,
    client_id: &str,
    credentials: Option<(&str, &str)>,
) -> Result<Device, String> {
    let mut options = MqttOptions::new(client_id, addr.ip().to_string(), addr.port());
    options.set_keep_alive(Duration::from_secs(5));
    if let Some((username, password)) = credentials {
        options.set_credentials(username, password);
    }
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    loop {
        match timeout(WAIT, eventloop.poll()).await.expect("no CONNACK in time") {
            Ok(Event::Incoming(Packet::ConnAck(_))) => break,
            Ok(_) => {}
            Err(ConnectionError::ConnectionRefused(code)) => return Err(format!("refused: {code:?}")),
            Err(e) => return Err(e.to_string()),
        }
    }
    let (tx, events) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            // Polling after an error would reconnect; the tests want to see the error instead.
            match eventloop.poll().await {
                Ok(event) => {
                    if tx.send(Ok(event)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            }
        }
    });
    Ok(Device { client, events })
}

impl Device {
    /// Subscribes to `filters` and returns the broker's return codes from the SUBACK.
    pub async fn subscribe(&mut self, filters: &[&str]) -> Vec<SubscribeReasonCode> {
        let filters: Vec<_> = filters
            .iter()
            .map(|f| rumqttc::SubscribeFilter::new((*f).to_owned(), QoS::AtLeastOnce))
            .collect();
        self.client
            .subscribe_many(filters)
            .await
            .expect("subscribe queued");
        loop {
            match self.next_event(WAIT).await.expect("no SUBACK in time") {
                Ok(Event::Incoming(Packet::SubAck(ack))) => return ack.return_codes,
                Ok(_) => {}
                Err(e) => panic!("connection failed while waiting for SUBACK: {e}"),
            }
        }
    }

    /// Publishes and waits until the client has sent it (and, for QoS 1 and 2, got the final
    /// acknowledgement).
    pub async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) {
        self.client
            .publish(topic, qos, false, payload.to_vec())
            .await
            .expect("publish queued");
        loop {
            match self
                .next_event(WAIT)
                .await
                .expect("publish not completed in time")
            {
                Ok(Event::Incoming(Packet::PubAck(_))) if qos == QoS::AtLeastOnce => return,
                Ok(Event::Incoming(Packet::PubComp(_))) if qos == QoS::ExactlyOnce => return,
                Ok(Event::Outgoing(rumqttc::Outgoing::Publish(_))) if qos == QoS::AtMostOnce => return,
                Ok(_) => {}
                Err(e) => panic!("connection failed while publishing: {e}"),
            }
        }
    }

    /// The next PUBLISH the broker sends to this device within `within`, if any.
    pub async fn next_publish(&mut self, within: Duration) -> Option<Publish> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_event(left).await? {
                Ok(Event::Incoming(Packet::Publish(publish))) => return Some(publish),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// The next event within `within`, or `None` on timeout or when the event loop has ended.
    pub async fn next_event(&mut self, within: Duration) -> Option<Result<Event, String>> {
        timeout(within, self.events.recv()).await.ok().flatten()
    }

    /// Waits until the connection fails or closes; returns the error text.
    pub async fn closed(&mut self, within: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_event(left).await? {
                Ok(_) => {}
                Err(e) => return Some(e),
            }
        }
    }
}

/// A 20-digit device code unique to this test run, so parallel runs against a shared broker do
/// not see each other's messages.
pub fn unique_code(salt: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mixed = (nanos
        ^ (u128::from(std::process::id()) << 64)
        ^ u128::from(salt).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        % 10u128.pow(19);
    format!("9{mixed:019}")
}
