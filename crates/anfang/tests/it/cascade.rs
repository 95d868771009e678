//! The cascade to a superior VIID survives link loss and restarts: a mock superior (checks the
//! digest, records what it receives, fails on demand) refuses uploads while a camera's faces
//! arrive at Anfang; Anfang is restarted; once the superior takes uploads again every face
//! arrives, in order, with its picture, and Anfang registered again after the restart.

use crate::common::{add_camera, free_port, init, register_camera, serve};
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
    register_camera(&http, &base, camera, &secret).await;
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

/// What a subscribing superior and a big-data feed received.
#[derive(Default)]
struct Recorder {
    notifications: Mutex<Vec<Value>>,
    alarms: Mutex<Vec<Value>>,
    feed: Mutex<Vec<Value>>,
    forged_feed: AtomicUsize,
}

async fn record_notifications(
    axum::extract::State(r): axum::extract::State<Arc<Recorder>>,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    let list = body["SubscribeNotificationListObject"]["SubscribeNotificationObject"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    r.notifications.lock().unwrap().extend(list);
    axum::Json(json!({"ResponseStatusListObject": {"ResponseStatusObject": [{"StatusCode": 0}]}}))
}

async fn record_alarms(
    axum::extract::State(r): axum::extract::State<Arc<Recorder>>,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    let list = body["DispositionNotificationListObject"]["DispositionNotificationObject"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let statuses: Vec<Value> = list.iter().map(|_| json!({"StatusCode": 0})).collect();
    r.alarms.lock().unwrap().extend(list);
    axum::Json(json!({"ResponseStatusListObject": {"ResponseStatusObject": statuses}}))
}

async fn record_feed(
    axum::extract::State(r): axum::extract::State<Arc<Recorder>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(b"feed-key").unwrap();
    mac.update(&body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    if headers.get("x-anfang-signature").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        r.forged_feed.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    let value: Value = serde_json::from_slice(&body).unwrap();
    r.feed
        .lock()
        .unwrap()
        .extend(value["items"].as_array().cloned().unwrap_or_default());
    StatusCode::OK
}

/// Posts `body` to Anfang as the superior `caller`, answering the digest challenge with `password`.
async fn as_superior(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    caller: &str,
    password: &str,
    body: &Value,
) -> reqwest::Response {
    let send = |auth: Option<String>| {
        let mut request = http
            .post(format!("{base}{path}"))
            .header("User-Identify", caller)
            .body(body.to_string());
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        request.send()
    };
    let first = send(None).await.unwrap();
    assert_eq!(first.status(), 401, "a superior's call is challenged first");
    let challenge = Challenge::parse(first.headers()["www-authenticate"].to_str().unwrap()).unwrap();
    send(Some(challenge.answer("POST", path, caller, password, "c2")))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_subscribing_superior_gets_what_it_asked_for_and_its_dispositions_hit() {
    const SUPERIOR_ID: &str = "37030000005030000009";
    let sup = Arc::new(Superior::default());
    let rec = Arc::new(Recorder::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sup_port = listener.local_addr().unwrap().port();
    let mock = axum::Router::new()
        .route("/VIID/System/Register", axum::routing::post(register))
        .route("/VIID/System/Keepalive", axum::routing::post(keepalive))
        .with_state(sup.clone())
        .merge(
            axum::Router::new()
                .route(
                    "/VIID/SubscribeNotifications",
                    axum::routing::post(record_notifications),
                )
                .route("/alarms", axum::routing::post(record_alarms))
                .route("/feed", axum::routing::post(record_feed))
                .with_state(rec.clone()),
        );
    tokio::spawn(async move { axum::serve(listener, mock).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    init(data);
    let config = dir.path().join("d/anfang.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[[cascade]]\nname = \"police\"\nurl = \"http://127.0.0.1:{sup_port}\"\ndevice_id = \"{OUR_ID}\"\n\
         password = \"{PASSWORD}\"\nsuperior_id = \"{SUPERIOR_ID}\"\nmode = \"subscribe\"\nimage_types = [\"14\"]\n\
         \n[[cascade]]\nname = \"bigdata\"\nprotocol = \"feed\"\nurl = \"http://127.0.0.1:{sup_port}/feed\"\n\
         device_id = \"{OUR_ID}\"\npassword = \"feed-key\"\nimage_form = \"none\"\n"
    ));
    std::fs::write(&config, text).unwrap();
    let camera = "34078100001190001002";
    let secret = add_camera(data, camera);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = serve(data, port, &[("ANFANG_MQTT__MODE", "off".to_string())]);
    let http = reqwest::Client::new();

    // The superior subscribes to faces and motor vehicles from this camera, and watches a plate.
    let subscribe = json!({"SubscribeListObject": {"SubscribeObject": [{
        "SubscribeID": "370300000000032026112300001", "Title": "人脸车辆订阅", "SubscribeDetail": "12,13,",
        "ResourceURI": camera, "ReceiveAddr": format!("http://127.0.0.1:{sup_port}/VIID/SubscribeNotifications"),
        "BeginTime": "20200101000000", "EndTime": "20991231000000", "ReportInterval": 1, "OperateType": 0}]}});
    let answer: Value = as_superior(
        &http,
        &base,
        "/VIID/Subscribes",
        SUPERIOR_ID,
        PASSWORD,
        &subscribe,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        answer["ResponseStatusListObject"]["ResponseStatusObject"][0]["StatusCode"], 0,
        "{answer}"
    );
    let dispose = json!({"DispositionListObject": {"DispositionObject": [{
        "DispositionID": "370300000000012026112300001", "Title": "盗抢车辆", "DispositionCategory": "2",
        "TargetFeature": "鲁C12345", "BeginTime": "20200101000000", "EndTime": "20991231000000",
        "ReceiveAddr": format!("http://127.0.0.1:{sup_port}/alarms"), "OperateType": 0}]}});
    let answer: Value = as_superior(
        &http,
        &base,
        "/VIID/Dispositions",
        SUPERIOR_ID,
        PASSWORD,
        &dispose,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        answer["ResponseStatusListObject"]["ResponseStatusObject"][0]["StatusCode"], 0,
        "{answer}"
    );
    // A stranger, or the superior with a wrong password, is refused.
    let forged = http
        .post(format!("{base}/VIID/Dispositions"))
        .header("User-Identify", "11000000005030000001")
        .body(dispose.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    // The camera registers and uploads a face (crop and scene), a watched car and a bicycle.
    register_camera(&http, &base, camera, &secret).await;
    let upload = |path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .header("User-Identify", camera)
            .body(body.to_string())
            .send()
    };
    let face = json!({"FaceListObject": {"FaceObject": [{"FaceID": format!("{camera}0220240604094547000010600001"),
        "DeviceID": camera, "ShotTime": "20240604094547", "SubImageList": {"SubImageInfoObject": [
            {"Type": "11", "Data": PNG}, {"Type": "14", "Data": PNG}]}}]}});
    assert_eq!(upload("/VIID/Faces", face).await.unwrap().status(), 200);
    let car = json!({"MotorVehicleListObject": {"MotorVehicleObject": [{
        "MotorVehicleID": format!("{camera}0220240604094548000010200001"), "DeviceID": camera,
        "PassTime": "20240604094548", "PlateNo": "鲁C12345", "HasPlate": "1",
        "SubImageList": {"SubImageInfoObject": [{"Type": "14", "Data": PNG}]}}]}});
    assert_eq!(upload("/VIID/MotorVehicles", car).await.unwrap().status(), 200);
    let bike = json!({"NonMotorVehicleListObject": {"NonMotorVehicleObject": [{
        "NonMotorVehicleID": format!("{camera}0220240604094549000010300001"), "DeviceID": camera,
        "PassTime": "20240604094549"}]}});
    assert_eq!(
        upload("/VIID/NonMotorVehicles", bike).await.unwrap().status(),
        200
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let notified: usize = rec
            .notifications
            .lock()
            .unwrap()
            .iter()
            .map(|n| n["InfoIDs"].as_str().unwrap_or("").split(',').count())
            .sum();
        if notified >= 2 && !rec.alarms.lock().unwrap().is_empty() && rec.feed.lock().unwrap().len() >= 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the superior and the feed did not get everything"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let notifications = rec.notifications.lock().unwrap().clone();
    let faces: Vec<&Value> = notifications
        .iter()
        .filter_map(|n| n["FaceObjectList"]["FaceObject"].as_array())
        .flatten()
        .collect();
    assert_eq!(faces.len(), 1, "{notifications:?}");
    let pictures = faces[0]["SubImageList"]["SubImageInfoObject"].as_array().unwrap();
    assert_eq!(pictures.len(), 1, "only the scene picture is sent: {pictures:?}");
    assert_eq!(
        (&pictures[0]["Type"], &pictures[0]["Data"]),
        (&json!("14"), &json!(PNG))
    );
    assert!(
        notifications
            .iter()
            .all(|n| n.get("NonMotorVehicleObjectList").is_none()),
        "nothing unsubscribed goes up"
    );
    assert_eq!(notifications[0]["SubscribeID"], "370300000000032026112300001");
    let alarms = rec.alarms.lock().unwrap().clone();
    assert_eq!(alarms[0]["DispositionID"], "370300000000012026112300001");
    assert_eq!(alarms[0]["MotorVehicleObject"]["PlateNo"], "鲁C12345");
    assert_eq!(alarms[0]["NotificationID"].as_str().unwrap().len(), 33);
    // The feed got every capture, signed, without pictures.
    let feed = rec.feed.lock().unwrap().clone();
    let kinds: Vec<&str> = feed.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["face", "motor_vehicle", "non_motor_vehicle"]);
    assert!(
        feed[0]["data"]["object"]["SubImageList"]["SubImageInfoObject"][0]
            .get("Data")
            .is_none()
    );
    assert_eq!(rec.forged_feed.load(Ordering::SeqCst), 0);

    // The superior cancels; the watch-list is the police's alone.
    let cancel = json!({"SubscribeListObject": {"SubscribeObject": [{
        "SubscribeID": "370300000000032026112300001", "OperateType": 1}]}});
    let answer: Value = as_superior(&http, &base, "/VIID/Subscribes", SUPERIOR_ID, PASSWORD, &cancel)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["ResponseStatusListObject"]["ResponseStatusObject"][0]["StatusCode"], 0,
        "{answer}"
    );
}
