//! The embedded broker against real MQTT clients over TCP: authentication, the platform's
//! uplink and downlink, the per-device ACL, keep-alive and a taken port.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anfang_mqtt::topic::{down_topic, up_topic};
use anfang_mqtt::{
    Access, BrokerConfig, EmbeddedBroker, MqttError, MqttTransport, QoS, TransportConfig, UpMessage,
};
use bytes::{BufMut, BytesMut};
use common::{Device, WAIT, connect};
use rumqttc::SubscribeReasonCode;
use tokio::io::AsyncReadExt;
use tokio::time::timeout;

const A: &str = "10000000000000000001";
const B: &str = "10000000000000000002";
const SECRET_A: &str = "secret-a";
const SECRET_B: &str = "secret-b";

/// How long a test waits to be sure that something does not arrive.
const QUIET: Duration = Duration::from_millis(300);

fn access() -> Access {
    let secrets: Arc<HashMap<&str, &str>> = Arc::new([(A, SECRET_A), (B, SECRET_B)].into_iter().collect());
    Access::new(move |_client_id, username, password| {
        let ok = secrets.get(username.as_str()) == Some(&password.as_str());
        async move { ok }
    })
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

async fn broker() -> EmbeddedBroker {
    EmbeddedBroker::start(BrokerConfig::new(any_port(), access()))
        .await
        .expect("broker starts")
}

async fn device(broker: &EmbeddedBroker, code: &str, secret: &str) -> Device {
    connect(broker.local_addr(), &format!("dev-{code}"), Some((code, secret)))
        .await
        .expect("device connects")
}

async fn next_up(rx: &mut tokio::sync::mpsc::Receiver<UpMessage>, within: Duration) -> Option<UpMessage> {
    timeout(within, rx.recv()).await.ok().flatten()
}

#[tokio::test]
async fn the_right_password_connects_and_a_wrong_one_is_refused() {
    let broker = broker().await;
    let _a = device(&broker, A, SECRET_A).await;

    let refused = connect(broker.local_addr(), "dev-b", Some((B, SECRET_A)))
        .await
        .err();
    assert_eq!(refused.as_deref(), Some("refused: BadUserNamePassword"));
    let anonymous = connect(broker.local_addr(), "anon", None).await.err();
    assert_eq!(anonymous.as_deref(), Some("refused: BadUserNamePassword"));

    let stats = broker.stats();
    assert_eq!(stats.connections, 1);
    assert_eq!(stats.auth_refused, 2);
}

#[tokio::test]
async fn the_authenticator_sees_client_id_username_and_password() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let access = Access::new(move |client_id, username, password| {
        let _ = tx.send((client_id, username, password));
        async { true }
    });
    let broker = EmbeddedBroker::start(BrokerConfig::new(any_port(), access))
        .await
        .unwrap();
    let _device = connect(broker.local_addr(), "the-id", Some(("the-user", "the-pass")))
        .await
        .unwrap();
    let seen = timeout(WAIT, rx.recv()).await.unwrap().unwrap();
    assert_eq!(
        seen,
        ("the-id".to_owned(), "the-user".to_owned(), "the-pass".to_owned())
    );
}

#[tokio::test]
async fn an_uplink_reaches_the_platform_with_the_device_code() {
    let broker = broker().await;
    let mut up = broker.subscribe_all_up();
    let mut a = device(&broker, A, SECRET_A).await;

    a.publish(&up_topic(A), b"door opened", rumqttc::QoS::AtLeastOnce)
        .await;
    let message = next_up(&mut up, WAIT).await.expect("uplink arrives");
    assert_eq!(message.device_code, A);
    assert_eq!(&message.payload[..], b"door opened");

    a.publish(&up_topic(A), b"qos0", rumqttc::QoS::AtMostOnce).await;
    let message = next_up(&mut up, WAIT).await.expect("QoS 0 uplink arrives");
    assert_eq!(&message.payload[..], b"qos0");
}

#[tokio::test]
async fn a_downlink_reaches_the_subscribed_device_with_qos_1() {
    let broker = broker().await;
    let mut a = device(&broker, A, SECRET_A).await;
    let codes = a.subscribe(&[&down_topic(A)]).await;
    assert_eq!(codes, [SubscribeReasonCode::Success(rumqttc::QoS::AtLeastOnce)]);

    let queued = broker
        .publish_down(A, &b"open the door"[..], QoS::AtLeastOnce)
        .unwrap();
    assert_eq!(queued, 1);
    let publish = a.next_publish(WAIT).await.expect("downlink arrives");
    assert_eq!(publish.topic, down_topic(A));
    assert_eq!(publish.qos, rumqttc::QoS::AtLeastOnce);
    assert_eq!(&publish.payload[..], b"open the door");

    // The generic publish reaches the same subscription; an offline device has no subscriber.
    assert_eq!(
        broker
            .publish(&down_topic(A), &b"2"[..], QoS::AtMostOnce)
            .unwrap(),
        1
    );
    assert_eq!(
        a.next_publish(WAIT).await.expect("second downlink").qos,
        rumqttc::QoS::AtMostOnce
    );
    assert_eq!(
        broker.publish_down(B, &b"nobody"[..], QoS::AtLeastOnce).unwrap(),
        0
    );
    assert!(matches!(
        broker.publish("anfang/v1/dev/+/down", &b""[..], QoS::AtMostOnce),
        Err(MqttError::InvalidTopic(_))
    ));
}

#[tokio::test]
async fn many_qos1_downlinks_are_all_delivered_past_the_inflight_window() {
    let mut config = BrokerConfig::new(any_port(), access());
    config.max_inflight = 2;
    let broker = EmbeddedBroker::start(config).await.unwrap();
    let mut a = device(&broker, A, SECRET_A).await;
    a.subscribe(&[&down_topic(A)]).await;

    for i in 0..20u8 {
        assert_eq!(broker.publish_down(A, vec![i], QoS::AtLeastOnce).unwrap(), 1);
    }
    for i in 0..20u8 {
        let publish = a.next_publish(WAIT).await.expect("every downlink arrives");
        assert_eq!(&publish.payload[..], &[i], "in order");
    }
    assert_eq!(broker.stats().down_dropped, 0);
}

#[tokio::test]
async fn a_device_cannot_subscribe_to_another_devices_down_topic() {
    let broker = broker().await;
    let mut a = device(&broker, A, SECRET_A).await;
    let mut b = device(&broker, B, SECRET_B).await;

    assert_eq!(
        a.subscribe(&[&down_topic(B)]).await,
        [SubscribeReasonCode::Failure]
    );
    assert_eq!(
        b.subscribe(&[&down_topic(B)]).await,
        [SubscribeReasonCode::Success(rumqttc::QoS::AtLeastOnce)]
    );

    assert_eq!(
        broker
            .publish_down(B, &b"for b only"[..], QoS::AtLeastOnce)
            .unwrap(),
        1
    );
    assert_eq!(
        &b.next_publish(WAIT).await.expect("b receives").payload[..],
        b"for b only"
    );
    assert!(
        a.next_publish(QUIET).await.is_none(),
        "a must not receive b's downlink"
    );
}

#[tokio::test]
async fn wildcard_subscriptions_are_refused() {
    let broker = broker().await;
    let mut a = device(&broker, A, SECRET_A).await;
    let mut b = device(&broker, B, SECRET_B).await;
    b.subscribe(&[&down_topic(B)]).await;

    let codes = a
        .subscribe(&["anfang/v1/dev/+/down", "#", "anfang/v1/dev/#", &down_topic(A)])
        .await;
    assert_eq!(
        codes,
        [
            SubscribeReasonCode::Failure,
            SubscribeReasonCode::Failure,
            SubscribeReasonCode::Failure,
            SubscribeReasonCode::Success(rumqttc::QoS::AtLeastOnce),
        ]
    );
    assert_eq!(broker.stats().subscribe_refused, 3);

    broker.publish_down(B, &b"secret"[..], QoS::AtMostOnce).unwrap();
    assert!(b.next_publish(WAIT).await.is_some());
    assert!(
        a.next_publish(QUIET).await.is_none(),
        "a refused wildcard must not deliver"
    );
}

#[tokio::test]
async fn a_publish_to_another_devices_up_topic_is_dropped() {
    let broker = broker().await;
    let mut up = broker.subscribe_all_up();
    let mut a = device(&broker, A, SECRET_A).await;

    // The refused publish is acknowledged (QoS 1) and the connection stays open.
    a.publish(&up_topic(B), b"forged", rumqttc::QoS::AtLeastOnce)
        .await;
    a.publish(&down_topic(A), b"wrong direction", rumqttc::QoS::AtMostOnce)
        .await;
    a.publish(&up_topic(A), b"genuine", rumqttc::QoS::AtLeastOnce)
        .await;

    // Publishes of one connection are handled in order, so the genuine one comes first.
    let message = next_up(&mut up, WAIT).await.expect("genuine uplink arrives");
    assert_eq!(
        (message.device_code.as_str(), &message.payload[..]),
        (A, &b"genuine"[..])
    );
    assert!(next_up(&mut up, QUIET).await.is_none());
    assert_eq!(broker.stats().publish_refused, 2);
    assert_eq!(broker.stats().connections, 1);
}

#[tokio::test]
async fn a_taken_port_fails_with_an_error_naming_the_address() {
    let taken = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = taken.local_addr().unwrap();
    let error = EmbeddedBroker::start(BrokerConfig::new(addr, access()))
        .await
        .err()
        .expect("bind fails");
    assert!(matches!(error, MqttError::Bind { addr: a, .. } if a == addr));
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
}

#[tokio::test]
async fn a_silent_client_is_disconnected_after_one_and_a_half_keep_alives() {
    let broker = broker().await;
    let mut stream = tokio::net::TcpStream::connect(broker.local_addr()).await.unwrap();
    let mut connect = rumqttc::Connect::new("silent");
    connect.keep_alive = 1;
    connect.set_login(A, SECRET_A);
    let mut buf = BytesMut::new();
    connect.write(&mut buf).unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, &buf)
        .await
        .unwrap();

    let started = tokio::time::Instant::now();
    let mut received = Vec::new();
    // CONNACK (4 bytes), then nothing until the broker closes the socket.
    let closed = timeout(WAIT, stream.read_to_end(&mut received)).await;
    assert!(closed.is_ok(), "the broker must close the connection");
    assert_eq!(received, [0x20, 0x02, 0x00, 0x00]);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1400) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_connection_that_never_sends_connect_is_closed() {
    let mut config = BrokerConfig::new(any_port(), access());
    config.connect_timeout = Duration::from_millis(200);
    let broker = EmbeddedBroker::start(config).await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(broker.local_addr()).await.unwrap();
    let mut received = Vec::new();
    let closed = timeout(WAIT, stream.read_to_end(&mut received)).await;
    assert!(closed.is_ok() && received.is_empty());
}

#[tokio::test]
async fn an_mqtt_3_1_client_gets_unacceptable_protocol_version() {
    let broker = broker().await;
    let mut stream = tokio::net::TcpStream::connect(broker.local_addr()).await.unwrap();
    // CONNECT with protocol name "MQIsdp", level 3, clean session, keep-alive 10, client id "x".
    let mut body = BytesMut::new();
    body.put_slice(&[0x00, 0x06]);
    body.put_slice(b"MQIsdp");
    body.put_slice(&[0x03, 0x02, 0x00, 0x0A, 0x00, 0x01, b'x']);
    let mut packet = vec![0x10, u8::try_from(body.len()).unwrap()];
    packet.extend_from_slice(&body);
    tokio::io::AsyncWriteExt::write_all(&mut stream, &packet)
        .await
        .unwrap();
    let mut received = Vec::new();
    timeout(WAIT, stream.read_to_end(&mut received))
        .await
        .expect("closed")
        .unwrap();
    assert_eq!(received, [0x20, 0x02, 0x00, 0x01]);
}

#[tokio::test]
async fn a_second_connection_with_the_same_client_id_takes_over() {
    let broker = broker().await;
    let mut first = device(&broker, A, SECRET_A).await;
    let mut second = device(&broker, A, SECRET_A).await;
    assert!(
        first.closed(WAIT).await.is_some(),
        "the first connection is closed"
    );
    second.subscribe(&[&down_topic(A)]).await;
    assert_eq!(broker.publish_down(A, &b"x"[..], QoS::AtMostOnce).unwrap(), 1);
    assert!(second.next_publish(WAIT).await.is_some());
    assert_eq!(broker.stats().connections, 1);
}

#[tokio::test]
async fn the_transport_interface_works_over_the_embedded_broker() {
    let config = TransportConfig::Embedded(BrokerConfig::new(any_port(), access()));
    let mut transport = MqttTransport::start(config).await.unwrap();
    assert_eq!(transport.mode_name(), "embedded");
    let addr = transport.local_addr().unwrap();
    let mut a = connect(addr, "dev-a", Some((A, SECRET_A))).await.unwrap();
    a.subscribe(&[&down_topic(A)]).await;

    a.publish(&up_topic(A), b"hello", rumqttc::QoS::AtLeastOnce).await;
    let message = timeout(WAIT, transport.recv_up()).await.unwrap().unwrap();
    assert_eq!(message.device_code, A);

    let downlink = transport.downlink();
    tokio::spawn(async move {
        downlink
            .publish_down(A, &b"from another task"[..], QoS::AtLeastOnce)
            .await
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        &a.next_publish(WAIT).await.unwrap().payload[..],
        b"from another task"
    );
    assert!(
        transport
            .publish_down("bad/code", &b""[..], QoS::AtMostOnce)
            .await
            .is_err()
    );

    transport.shutdown().await;
    assert!(
        a.closed(WAIT).await.is_some(),
        "shutdown closes device connections"
    );
}

#[tokio::test]
async fn a_full_uplink_channel_delays_the_puback_and_loses_nothing() {
    let mut config = BrokerConfig::new(any_port(), access());
    config.up_capacity = 1;
    let broker = EmbeddedBroker::start(config).await.unwrap();
    let mut up = broker.subscribe_all_up();
    let mut a = device(&broker, A, SECRET_A).await;

    for i in 0..3u8 {
        a.client
            .publish(up_topic(A), rumqttc::QoS::AtLeastOnce, false, vec![i])
            .await
            .unwrap();
    }
    // The first message fills the channel; the broker then waits and acknowledges nothing more.
    let mut acks = 0;
    while let Some(event) = a.next_event(QUIET).await {
        if let Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) = event {
            acks += 1;
        }
    }
    assert_eq!(
        acks, 1,
        "only the message that fit in the channel is acknowledged"
    );

    for i in 0..3u8 {
        let message = next_up(&mut up, WAIT).await.expect("every uplink arrives");
        assert_eq!(&message.payload[..], &[i]);
    }
    while acks < 3 {
        match a.next_event(WAIT).await.expect("remaining PUBACKs arrive") {
            Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) => acks += 1,
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(broker.stats().up_dropped, 0);
}

#[tokio::test]
async fn a_second_subscribe_all_up_replaces_the_first_receiver() {
    let broker = broker().await;
    let mut first = broker.subscribe_all_up();
    let mut second = broker.subscribe_all_up();
    let mut a = device(&broker, A, SECRET_A).await;
    a.publish(&up_topic(A), b"x", rumqttc::QoS::AtLeastOnce).await;
    assert!(next_up(&mut second, WAIT).await.is_some());
    assert!(
        timeout(WAIT, first.recv()).await.unwrap().is_none(),
        "the first receiver is closed"
    );

    drop(second);
    a.publish(&up_topic(A), b"y", rumqttc::QoS::AtLeastOnce).await;
    assert_eq!(
        broker.stats().up_dropped,
        1,
        "nobody listens: dropped and counted"
    );
}

#[tokio::test]
async fn a_qos_2_uplink_is_delivered_once() {
    let broker = broker().await;
    let mut up = broker.subscribe_all_up();
    let mut a = device(&broker, A, SECRET_A).await;
    a.publish(&up_topic(A), b"exactly once", rumqttc::QoS::ExactlyOnce)
        .await;
    assert_eq!(
        &next_up(&mut up, WAIT).await.unwrap().payload[..],
        b"exactly once"
    );
    assert!(next_up(&mut up, QUIET).await.is_none());
}

/// Opens a raw connection and sends a CONNECT for device A with the given will.
async fn connect_with_will(broker: &EmbeddedBroker, will_topic: &str) -> (tokio::net::TcpStream, [u8; 4]) {
    let mut stream = tokio::net::TcpStream::connect(broker.local_addr()).await.unwrap();
    let mut connect = rumqttc::Connect::new("with-will");
    connect.set_login(A, SECRET_A);
    connect.last_will = Some(rumqttc::LastWill::new(
        will_topic,
        "offline",
        rumqttc::QoS::AtLeastOnce,
        false,
    ));
    let mut buf = BytesMut::new();
    connect.write(&mut buf).unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, &buf)
        .await
        .unwrap();
    let mut connack = [0u8; 4];
    timeout(WAIT, stream.read_exact(&mut connack))
        .await
        .unwrap()
        .unwrap();
    (stream, connack)
}

#[tokio::test]
async fn the_will_of_a_vanished_device_reaches_the_platform() {
    let broker = broker().await;
    let mut up = broker.subscribe_all_up();
    let (stream, connack) = connect_with_will(&broker, &up_topic(A)).await;
    assert_eq!(connack, [0x20, 0x02, 0x00, 0x00]);
    drop(stream);
    let will = next_up(&mut up, WAIT).await.expect("will arrives");
    assert_eq!(
        (will.device_code.as_str(), &will.payload[..]),
        (A, &b"offline"[..])
    );
}

#[tokio::test]
async fn a_will_on_a_forbidden_topic_refuses_the_connect() {
    let broker = broker().await;
    let (_stream, connack) = connect_with_will(&broker, &up_topic(B)).await;
    assert_eq!(connack, [0x20, 0x02, 0x00, 0x05], "CONNACK not authorized");
}

#[tokio::test]
async fn a_device_cannot_knock_another_offline_by_reusing_its_client_id() {
    let broker = broker().await;
    let mut b = connect(broker.local_addr(), "same-id", Some((B, SECRET_B)))
        .await
        .unwrap();
    let _a = connect(broker.local_addr(), "same-id", Some((A, SECRET_A)))
        .await
        .unwrap();
    assert!(b.closed(QUIET).await.is_none(), "b stays connected");
    b.subscribe(&[&down_topic(B)]).await;
    assert_eq!(broker.stats().connections, 2);
}

#[tokio::test]
async fn an_mqtt_5_client_gets_unacceptable_protocol_version() {
    let broker = broker().await;
    let mut stream = tokio::net::TcpStream::connect(broker.local_addr()).await.unwrap();
    // CONNECT "MQTT" level 5, clean start, keep-alive 10, no properties, client id "x".
    let packet = [
        0x10, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x0A, 0x00, 0x00, 0x01, b'x',
    ];
    tokio::io::AsyncWriteExt::write_all(&mut stream, &packet)
        .await
        .unwrap();
    let mut received = Vec::new();
    timeout(WAIT, stream.read_to_end(&mut received))
        .await
        .expect("closed")
        .unwrap();
    assert_eq!(received, [0x20, 0x02, 0x00, 0x01]);
}
