//! Webhooks end to end: `anfang serve`, a channel made over the API, an alarm from a real MQTT
//! device, and a real HTTP receiver that first answers 503 with `Retry-After: 1` and then 200.
//! The receiver checks the HMAC signature with the secret the API showed once, and sees the
//! same idempotency key on both attempts; the delivery log says delivered after two attempts.

use crate::common::{Process, anfang, free_port, init, login, serve, value_after};
use axum::http::{HeaderMap, StatusCode};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the receiver got: (headers, body) per request.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A webhook receiver on a free port: the first request gets 503 + Retry-After, the rest 200.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let mut all = seen.lock().unwrap();
                all.push((headers, body));
                if all.len() == 1 {
                    (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")], "busy")
                } else {
                    (StatusCode::OK, [("retry-after", "0")], "ok")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

#[tokio::test]
async fn an_alarm_reaches_a_signed_webhook_after_a_retry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    let password = init(data);
    let added = anfang(&[
        "device",
        "add",
        "--data-dir",
        data,
        "--code",
        "37032300001340000001",
        "--kind",
        "perimeter_sensor",
        "--protocol",
        "mqtt",
    ]);
    let secret = value_after(&added, "secret: ");
    let (http_port, mqtt_port) = (free_port(), free_port());
    let _server: Process = serve(
        data,
        http_port,
        &[("ANFANG_MQTT__LISTEN", format!("127.0.0.1:{mqtt_port}"))],
    );
    let base = format!("http://127.0.0.1:{http_port}");
    let http = reqwest::Client::new();
    let token = login(&http, &base, &password).await;

    let (url, received) = receiver().await;
    let made = http
        .post(format!("{base}/api/v1/notify/channels"))
        .bearer_auth(&token)
        .json(&json!({"name": "区值班室", "channel": "webhook", "address": url, "kinds": ["alarm"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let made: Value = made.json().await.unwrap();
    let key = made["secret"].as_str().unwrap().to_string();
    let channel = made["channel"]["id"].as_i64().unwrap();
    assert!(!made["channel"]["address"].as_str().unwrap().contains("/hook"));
    // A bad kind is a precise 422.
    let bad = http
        .post(format!("{base}/api/v1/notify/channels"))
        .bearer_auth(&token)
        .json(&json!({"name": "x", "channel": "webhook", "address": url, "kinds": ["everything"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"]["code"], "invalid_event_kind");

    // The sensor reports an intrusion over MQTT.
    let code = "37032300001340000001";
    let mut options = MqttOptions::new(code, "127.0.0.1", mqtt_port);
    options.set_credentials(code, &secret);
    let (client, mut events) = AsyncClient::new(options, 16);
    client
        .subscribe(anfang_protocol::down_topic(code), QoS::AtLeastOnce)
        .await
        .unwrap();
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let message = json!({"v": 1, "id": "al-1", "type": "alarm", "at": at, "device": code,
        "body": {"kind": "perimeter_intrusion", "zone": "东侧围墙", "level": 4}});
    client
        .publish(
            anfang_protocol::up_topic(code),
            QoS::AtLeastOnce,
            false,
            message.to_string(),
        )
        .await
        .unwrap();
    let acked = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            if let Ok(Event::Incoming(Packet::Publish(p))) = events.poll().await {
                let down: Value = serde_json::from_slice(&p.payload).unwrap();
                if down["event_id"] == "al-1" {
                    return down;
                }
            }
        }
    })
    .await
    .expect("the alarm is acknowledged");
    assert_eq!(acked["status"], "stored", "{acked}");

    // The receiver is busy once, then takes it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the webhook was retried in time"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = received.lock().unwrap().clone();
    let (first, second) = (&got[0], &got[1]);
    assert_eq!(first.1, second.1, "the same body on every attempt");
    assert_eq!(first.0["idempotency-key"], second.0["idempotency-key"]);
    assert_eq!(second.0["x-anfang-event"], "alarm.raised");
    assert_eq!(second.0["content-type"], "application/json");
    let timestamp: i64 = second.0["x-anfang-timestamp"].to_str().unwrap().parse().unwrap();
    let signature = second.0["x-anfang-signature"].to_str().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(anfang_app::notify::verify(
        &key,
        timestamp,
        second.1.as_bytes(),
        signature,
        now,
        300
    ));
    assert!(!anfang_app::notify::verify(
        "whsec_wrong",
        timestamp,
        second.1.as_bytes(),
        signature,
        now,
        300
    ));
    let body: Value = serde_json::from_str(&second.1).unwrap();
    assert_eq!(body["event"], "alarm.raised");
    assert_eq!(body["id"], second.0["idempotency-key"].to_str().unwrap());
    assert_eq!(body["data"]["kind"], "perimeter_intrusion");
    assert_eq!(body["data"]["severity"], "critical");
    assert_eq!(body["data"]["zone"], "东侧围墙");

    // The delivery log.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let log: Value = http
            .get(format!("{base}/api/v1/notify/channels/{channel}/deliveries"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let item = &log["items"][0];
        if item["state"] == "delivered" {
            assert_eq!(item["attempts"], 2);
            assert_eq!(item["last_status"], 200);
            assert_eq!(item["event"], "alarm.raised");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "delivery recorded: {log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        received.lock().unwrap().len(),
        2,
        "nothing is sent twice once delivered"
    );
}
