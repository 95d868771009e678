//! Devices over MQTT against a running `anfang serve` with its embedded broker: a device logs in
//! with its code and secret, publishes on its up topic and gets the application-level ack on
//! its down topic; a repeated event id is acknowledged as a duplicate; a wrong secret is refused.

use crate::common::{Process, anfang, free_port};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::process::{Command, Stdio};
use std::time::Duration;

async fn connect(port: u16, user: &str, password: &str, id: &str) -> (AsyncClient, rumqttc::EventLoop) {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_credentials(user, password);
    options.set_keep_alive(Duration::from_secs(5));
    AsyncClient::new(options, 16)
}

/// Polls until a publish arrives (or the connection is refused), with a deadline.
async fn next_publish(events: &mut rumqttc::EventLoop) -> Result<Vec<u8>, String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let event = tokio::time::timeout_at(deadline, events.poll())
            .await
            .map_err(|_| "timed out".to_string())?;
        match event {
            Ok(Event::Incoming(Packet::Publish(p))) => return Ok(p.payload.to_vec()),
            Ok(_) => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
}

#[tokio::test]
async fn a_device_talks_to_the_embedded_broker() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    anfang(&["init", "--data-dir", data]);
    let code = "37032300001320000777";
    let out = anfang(&[
        "device",
        "add",
        "--data-dir",
        data,
        "--code",
        code,
        "--kind",
        "face_door_terminal",
        "--protocol",
        "mqtt",
    ]);
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .unwrap()
        .trim()
        .to_string();
    let (http, mqtt) = (free_port(), free_port());
    let _server = Process(
        Command::new(env!("CARGO_BIN_EXE_anfang"))
            .args([
                "serve",
                "--data-dir",
                data,
                "--listen",
                &format!("127.0.0.1:{http}"),
            ])
            .env("ANFANG_MQTT__LISTEN", format!("127.0.0.1:{mqtt}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait for the broker to accept connections.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", mqtt)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (client, mut events) = connect(mqtt, code, &secret, code).await;
    client
        .subscribe(anfang_protocol::down_topic(code), QoS::AtLeastOnce)
        .await
        .unwrap();
    let heartbeat = format!(
        r#"{{"v":1,"id":"hb-1","type":"heartbeat","at":"2026-11-01T08:00:00+08:00","device":"{code}","body":{{"firmware":"1.2.0","library_version":0}}}}"#
    );
    for expected in ["stored", "duplicate"] {
        client
            .publish(
                anfang_protocol::up_topic(code),
                QoS::AtLeastOnce,
                false,
                heartbeat.clone(),
            )
            .await
            .unwrap();
        let ack = next_publish(&mut events).await.expect("an ack on the down topic");
        let ack: serde_json::Value = serde_json::from_slice(&ack).unwrap();
        assert_eq!(
            (ack["event_id"].as_str(), ack["status"].as_str()),
            (Some("hb-1"), Some(expected)),
            "{ack}"
        );
    }
    // A wrong secret never gets in.
    let (_intruder, mut refused) = connect(mqtt, code, "wrong-secret", "intruder").await;
    let err = next_publish(&mut refused)
        .await
        .expect_err("the connection is refused");
    assert!(
        err.to_lowercase().contains("refused")
            || err.contains("BadUserNamePassword")
            || err.contains("NotAuthorized"),
        "{err}"
    );
}
