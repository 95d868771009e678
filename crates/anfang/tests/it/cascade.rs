//! The cascade to a superior VIID survives link loss and restarts: a mock superior (checks the
//! digest, records what it receives, fails on demand) refuses uploads while a camera's faces
//! arrive at Anfang; Anfang is restarted; once the superior takes uploads again every face
//! arrives, in order, with its picture, and Anfang registered again after the restart.

use crate::common::{add_camera, free_port, init, serve};
use anfang_gat1400::{Challenge, Credentials};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "superior-secret";
const OUR_ID: &str = "37032300005030000001";
const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mOwylsKAAIzAU6YytWUAAAAAElFTkSuQmCC";

#[derive(Default)]
struct Superior {
    received: Mutex<Vec<Value>>,
    failing: AtomicBool,
    registrations: AtomicUsize,
}

async fn register(
    axum::extract::State(sup): axum::extract::State<Arc<Superior>>,
    headers: HeaderMap,
) -> axum::response::Response {
    let challenge = || {
        let header = r#"Digest realm="superior", qop="auth", nonce="n-1", opaque="o-1""#;
        (StatusCode::UNAUTHORIZED, [("WWW-Authenticate", header)], "").into_response()
    };
    let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return challenge();
    };
    let ok = Credentials::parse(auth)
        .ok()
        .filter(|c| c.nonce == "n-1" && c.username == OUR_ID)
        .is_some_and(|c| c.verify("POST", PASSWORD).is_ok());
    if !ok {
        return challenge();
    }
    sup.registrations.fetch_add(1, Ordering::SeqCst);
    axum::Json(json!({"ResponseStatusObject": {"StatusCode": 0, "StatusString": "OK"}})).into_response()
}

async fn faces(
    axum::extract::State(sup): axum::extract::State<Arc<Superior>>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    if sup.failing.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    let value: Value = serde_json::from_slice(&body).unwrap_or_default();
    let objects = value["FaceListObject"]["FaceObject"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let statuses: Vec<Value> = objects
        .iter()
        .map(|o| json!({"Id": o["FaceID"], "StatusCode": "0"}))
        .collect();
    sup.received.lock().unwrap().extend(objects);
    axum::Json(json!({"ResponseStatusListObject": {"ResponseStatusObject": statuses}})).into_response()
}

async fn keepalive() -> axum::Json<Value> {
    axum::Json(json!({"ResponseStatusObject": {"StatusCode": 0}}))
}

#[tokio::test]
async fn captures_reach_the_superior_in_order_after_link_loss_and_restart() {
    let sup = Arc::new(Superior::default());
    sup.failing.store(true, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sup_port = listener.local_addr().unwrap().port();
    let app = axum::Router::new()
        .route("/VIID/System/Register", axum::routing::post(register))
        .route("/VIID/System/Keepalive", axum::routing::post(keepalive))
        .route("/VIID/Faces", axum::routing::post(faces))
        .with_state(sup.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    let password = init(data);
    let config = dir.path().join("d/anfang.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[[cascade]]\nname = \"police\"\nurl = \"http://127.0.0.1:{sup_port}\"\ndevice_id = \"{OUR_ID}\"\npassword = \"{PASSWORD}\"\n"
    ));
    std::fs::write(&config, text).unwrap();
    let camera = "34078100001190001002";
    let secret = add_camera(data, camera);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let off = [("ANFANG_MQTT__MODE", "off".to_string())];
    let server = serve(data, port, &off);

    // The camera registers with Anfang and uploads three faces.
    let http = reqwest::Client::new();
    let register_body = json!({"RegisterObject": {"DeviceID": camera}}).to_string();
    let first = http
        .post(format!("{base}/VIID/System/Register"))
        .body(register_body.clone())
        .send()
        .await
        .unwrap();
    let challenge = Challenge::parse(first.headers()["www-authenticate"].to_str().unwrap()).unwrap();
    let auth = challenge.answer("POST", "/VIID/System/Register", camera, &secret, "c");
    let registered = http
        .post(format!("{base}/VIID/System/Register"))
        .header("Authorization", auth)
        .body(register_body)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 200);
    let face = |n: u32| {
        json!({"FaceID": format!("{camera}0220240604094547{n:05}"), "DeviceID": camera, "ShotTime": "20240604094547",
            "SubImageList": {"SubImageInfoObject": [{"Type": "11", "FileFormat": "Png", "Data": PNG}]}})
    };
    let batch = json!({"FaceListObject": {"FaceObject": [face(1), face(2), face(3)]}});
    let uploaded = http
        .post(format!("{base}/VIID/Faces"))
        .header("User-Identify", camera)
        .body(batch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 200);

    // The superior is down; Anfang keeps the faces, and is restarted meanwhile.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(sup.received.lock().unwrap().is_empty());
    drop(server);
    let _server = serve(data, port, &off);
    sup.failing.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sup.received.lock().unwrap().len() < 3 {
        assert!(Instant::now() < deadline, "the faces did not reach the superior");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let received = sup.received.lock().unwrap().clone();
    let ids: Vec<&str> = received.iter().map(|f| f["FaceID"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [1, 2, 3].map(|n| format!("{camera}0220240604094547{n:05}")),
        "in order, each once"
    );
    assert_eq!(
        received[0]["SubImageList"]["SubImageInfoObject"][0]["Data"], PNG,
        "the picture travels up as it came"
    );
    assert!(
        sup.registrations.load(Ordering::SeqCst) >= 2,
        "registered again after the restart"
    );
    // The queue is empty and its last delivery known, through the API.
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let targets: Value = http
        .get(format!("{base}/api/v1/cascade-targets"))
        .bearer_auth(login["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&targets[0]["name"], &targets[0]["pending"]),
        (&json!("police"), &json!(0)),
        "{targets}"
    );
    assert!(targets[0]["last_delivered_at"].is_string(), "{targets}");
}
