//! Client mode against the Mosquitto broker at 127.0.0.1:1883 (skipped, with a message, when
//! none listens there). Device codes are unique per run, so parallel runs do not interfere.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use anfang_mqtt::topic::{down_topic, up_topic};
use anfang_mqtt::{ClientConfig, MqttError, MqttTransport, QoS, TransportConfig};
use common::{WAIT, connect, unique_code};
use rumqttc::SubscribeReasonCode;
use tokio::time::timeout;

const MOSQUITTO: &str = "127.0.0.1:1883";

async fn mosquitto() -> Option<SocketAddr> {
    let addr: SocketAddr = MOSQUITTO.parse().unwrap();
    match timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_)) => Some(addr),
        _ => {
            eprintln!("SKIPPED: no MQTT broker listens on {MOSQUITTO}; start Mosquitto to run this test");
            None
        }
    }
}

#[tokio::test]
async fn the_platform_client_exchanges_messages_with_a_device_through_mosquitto() {
    let Some(addr) = mosquitto().await else { return };
    let code = unique_code(1);
    let config = ClientConfig::new(addr.ip().to_string(), addr.port(), format!("anfang-test-{code}"));
    let mut transport = MqttTransport::start(TransportConfig::External(config))
        .await
        .expect("client starts");
    assert_eq!(transport.mode_name(), "external");

    let mut device = connect(addr, &format!("dev-{code}"), Some((&code, "unused")))
        .await
        .expect("device connects");
    let codes = device.subscribe(&[&down_topic(&code)]).await;
    assert_eq!(codes, [SubscribeReasonCode::Success(rumqttc::QoS::AtLeastOnce)]);

    device
        .publish(&up_topic(&code), b"card 42 at door 3", rumqttc::QoS::AtLeastOnce)
        .await;
    // Other runs may publish to other devices' up topics at the same broker; skip those.
    let message = timeout(WAIT, async {
        loop {
            let message = transport.recv_up().await.expect("transport open");
            if message.device_code == code {
                return message;
            }
        }
    })
    .await
    .expect("uplink arrives through Mosquitto");
    assert_eq!(&message.payload[..], b"card 42 at door 3");

    transport
        .publish_down(&code, &b"open"[..], QoS::AtLeastOnce)
        .await
        .unwrap();
    let publish = device
        .next_publish(WAIT)
        .await
        .expect("downlink arrives through Mosquitto");
    assert_eq!(publish.topic, down_topic(&code));
    assert_eq!(&publish.payload[..], b"open");

    transport.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_broker_fails_start_with_its_address() {
    // Port 1 on localhost is closed on any sane machine, so the connection is refused at once.
    let mut config = ClientConfig::new("127.0.0.1", 1, "anfang-test-unreachable");
    config.connect_timeout = Duration::from_secs(3);
    let error = MqttTransport::start(TransportConfig::External(config))
        .await
        .err()
        .expect("start fails");
    assert!(matches!(error, MqttError::Connect { .. }), "{error}");
    assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
}
