//! GB/T 28181 through the whole application: `anfang serve` runs the SIP platform side, an
//! NVR is created in the registry over the API, and a `gb28181-rs` device plays that NVR —
//! it registers with the NVR's secret as Digest password, its catalogue's camera channels
//! become cameras of the community, the presence API and `/metrics` count it registered and
//! its cameras online, its alarm NOTIFY lands in the alarm centre, and when it stops its
//! keepalives the NVR goes offline with a `device_offline` alarm at once. A superior
//! platform (this workspace's own platform side, run by the test as the police would run
//! theirs) sees Anfang register upward with Digest and reads the registry's GB cameras and
//! NVRs from its catalogue.

use crate::common::{init, login, serve};
use anfang_base::SystemClock;
use anfang_gb28181::{DeviceDirectory, GbId, Lookup, Platform, PlatformConfig, Report};
use gb28181_rs::config::{CatalogChannel, Gb28181Config, Transport};
use gb28181_rs::mock::MockFrameHub;
use gb28181_rs::server::Gb28181Server;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const PLATFORM_ID: &str = "34020000002000000001";
const NVR: &str = "34020000001180000001";
const CAMERA: &str = "34020000001320000001";
const EAST_GATE: &str = "34020000001320000002";
const COMMUNITY: &str = "370323001001";
const SUPERIOR: &str = "37030000002000000001";
const LOWER: &str = "37032300002000000009";
const POLICE_PASSWORD: &str = "police-2026";

/// The superior's directory: it knows Anfang (as `LOWER`) with the password it assigned.
struct Police;

#[async_trait::async_trait]
impl DeviceDirectory for Police {
    async fn lookup(&self, device: &GbId) -> Lookup {
        if device.as_str() == LOWER {
            Lookup::Known {
                password: Some(POLICE_PASSWORD.into()),
            }
        } else {
            Lookup::Unknown
        }
    }

    async fn report(&self, _report: Report) {}
}

/// The police's platform on a free loopback port.
async fn police_platform() -> Platform {
    let mut config = PlatformConfig::new(GbId::parse(SUPERIOR).unwrap());
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.query_on_register = false;
    config.alarm_subscription = None;
    config.query_timeout = Duration::from_secs(5);
    Platform::start(config, Arc::new(Police), Arc::new(SystemClock))
        .await
        .unwrap()
}

/// A port free for both UDP and TCP (SIP takes both).
fn free_sip_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method.clone(), path, body).await;
        assert!((200..300).contains(&status), "{method} {path}: {status} {v}");
        v
    }

    async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Polls `path` until `f` holds (30 s at most).
    async fn until(&self, what: &str, path: &str, f: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..150 {
            last = self.ok(Method::GET, path, None).await;
            if f(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{what}: {path} never satisfied; last: {last}");
    }
}

fn gauge(metrics: &str, name: &str, community: &str) -> Option<f64> {
    let prefix = format!("{name}{{community=\"{community}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gb28181_nvr_registers_networks_its_cameras_alarms_and_goes_offline() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    let password = init(data);
    // Anfang is a lower platform of the police: one [[gb28181.superiors]] table.
    let police = police_platform().await;
    let mut config = std::fs::read_to_string(format!("{data}/anfang.toml")).unwrap();
    config.push_str(&format!(
        "\n[[gb28181.superiors]]\nname = \"police\"\nid = \"{SUPERIOR}\"\naddress = \"{}\"\n\
         local_id = \"{LOWER}\"\npassword = \"{POLICE_PASSWORD}\"\nkeepalive_secs = 1\n",
        police.local_addr()
    ));
    std::fs::write(format!("{data}/anfang.toml"), config).unwrap();
    let port = crate::common::free_port();
    let sip = free_sip_port();
    let _server = serve(
        data,
        port,
        &[
            ("ANFANG_GB28181__ENABLED", "true".into()),
            ("ANFANG_GB28181__LISTEN", format!("127.0.0.1:{sip}")),
            ("ANFANG_GB28181__ID", PLATFORM_ID.into()),
            ("ANFANG_GB28181__KEEPALIVE_TIMEOUT_SECS", "3".into()),
            ("ANFANG_MQTT__MODE", "off".into()),
        ],
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let token = login(&http, &base, &password).await;
    let api = Api { http, base, token };

    // A community with an NVR of protocol gb28181, and its secret.
    let street = api
        .ok(
            Method::POST,
            "/api/v1/streets",
            Some(json!({"district_code": "370323", "code": "370323001", "name": "南麻街道"})),
        )
        .await;
    let committee = api
        .ok(
            Method::POST,
            "/api/v1/committees",
            Some(json!({"street_id": street["id"], "code": "C1", "name": "居委会", "kind": "residents"})),
        )
        .await;
    let community = api
        .ok(
            Method::POST,
            "/api/v1/communities",
            Some(
                json!({"committee_id": committee["id"], "code": COMMUNITY, "name": "荆山小区",
                "category": "existing_closed", "property_type": "commercial", "address": "沂源县荆山路",
                "site_width": 300.0, "site_height": 200.0}),
            ),
        )
        .await;
    let community_id = community["id"].as_i64().unwrap();
    let created = api
        .ok(
            Method::POST,
            "/api/v1/devices",
            Some(
                json!({"code": NVR, "kind": "nvr", "protocol": "gb28181", "community_id": community_id,
                "name": "北区录像机"}),
            ),
        )
        .await;
    let secret = created["secret"].as_str().unwrap().to_string();

    // The NVR: two cameras, one of them named in Chinese (GB2312 on the wire).
    let config = Gb28181Config {
        enabled: true,
        platform_sip_address: "127.0.0.1".into(),
        platform_sip_port: sip,
        device_id: NVR.into(),
        channel_id: CAMERA.into(),
        sip_domain: "3402000000".into(),
        password: secret,
        local_sip_port: free_sip_port(),
        register_interval_secs: 3600,
        heartbeat_interval_secs: 1,
        heartbeat_timeout_count: 3,
        transport: Transport::Udp,
        extra_channels: vec![CatalogChannel {
            device_id: EAST_GATE.into(),
            name: "东门入口".into(),
            manufacturer: "Test".into(),
            model: "IPC".into(),
            status: "ON".into(),
            ptz_type: Some(1),
            photoelectric_imaging_type: None,
        }],
        device_name: Some("北区录像机".into()),
        manufacturer: Some("gb28181-rs".into()),
        ..Gb28181Config::default()
    };
    let device = Gb28181Server::new(config, Arc::new(MockFrameHub::new()));
    let notifier = device.notifier();
    let mut device = device.spawn().await.expect("the device starts");

    // Registered, and the catalogue's camera became a camera of the community.
    let presence = format!("/api/v1/video/presence?community_id={community_id}");
    let summary = api
        .until("registered with cameras online", &presence, |v| {
            v["items"][0]["registered"] == 1 && v["items"][0]["cameras_online"].as_u64() >= Some(1)
        })
        .await;
    assert_eq!(summary["items"][0]["community_code"], COMMUNITY);
    let devices = api
        .ok(
            Method::GET,
            &format!("/api/v1/devices?community_id={community_id}&page_size=100"),
            None,
        )
        .await;
    let east = devices["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == EAST_GATE)
        .unwrap_or_else(|| panic!("the catalogue's camera is in the registry: {devices}"));
    assert_eq!(
        (&east["kind"], &east["protocol"], &east["name"]),
        (&json!("video_camera"), &json!("gb28181"), &json!("东门入口"))
    );
    assert!(east["last_seen_at"].is_string(), "an ON channel is seen: {east}");
    let cameras_created = api.ok(Method::GET, "/api/v1/audit?page_size=200", None).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "system:gb28181" && e["action"] == "device.create")
        .count();
    assert!(
        cameras_created >= 1,
        "camera creation is audited as system:gb28181"
    );

    // The detail: the NVR registered over UDP from its own port, the camera a channel of it.
    let detail = api
        .ok(
            Method::GET,
            &format!("/api/v1/communities/{community_id}/video"),
            None,
        )
        .await;
    let items = detail["items"].as_array().unwrap();
    let nvr = items.iter().find(|d| d["code"] == NVR).unwrap();
    assert_eq!((&nvr["registered"], &nvr["online"]), (&json!(true), &json!(true)));
    assert_eq!(nvr["transport"], "udp");
    assert!(nvr["peer"].as_str().unwrap().starts_with("127.0.0.1:"), "{nvr}");
    assert!(nvr["last_keepalive"].is_string());
    let east = items.iter().find(|d| d["code"] == EAST_GATE).unwrap();
    assert_eq!(
        (&east["online"], &east["parent"], &east["channel_status"]),
        (&json!(true), &json!(NVR), &json!("ON"))
    );

    // The police registered us and read our catalogue: the NVR and its camera, under the NVR,
    // in the community's county, online.
    let lower = GbId::parse(LOWER).unwrap();
    let mut registered = false;
    for _ in 0..150 {
        if police.devices().iter().any(|d| d.id == lower && d.online) {
            registered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(registered, "Anfang registered with the police platform");
    let (items, complete) = police.catalog(&lower).await.expect("our catalogue");
    assert!(complete);
    let shared = |code: &str| {
        items
            .iter()
            .find(|i| i.device_id == code)
            .unwrap_or_else(|| panic!("{code} shared: {items:?}"))
    };
    let (nvr_item, east_item) = (shared(NVR), shared(EAST_GATE));
    assert_eq!((nvr_item.name.as_str(), nvr_item.parental), ("北区录像机", true));
    assert_eq!(
        (
            east_item.name.as_str(),
            east_item.parent_id.as_str(),
            east_item.civil_code.as_str()
        ),
        ("东门入口", NVR, "370323")
    );
    assert!(east_item.online);

    // /metrics counts the community.
    let metrics = api.metrics().await;
    assert_eq!(
        gauge(&metrics, "anfang_video_devices_registered", COMMUNITY),
        Some(1.0),
        "{metrics}"
    );
    assert!(gauge(&metrics, "anfang_video_cameras_online", COMMUNITY) >= Some(1.0));

    // An alarm by NOTIFY (the platform subscribed on registration) reaches the alarm centre.
    let mut subscribed = false;
    for _ in 0..100 {
        if notifier.send_alarm("1", "5", "2026-11-23T12:00:00", "6", "越界入侵") {
            subscribed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(subscribed, "the platform subscribed to the device's alarms");
    let alarms = api
        .until("the alarm is listed", "/api/v1/alarms", |v| {
            v["items"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["kind"] == "perimeter_intrusion"))
        })
        .await;
    let alarm = alarms["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "perimeter_intrusion")
        .unwrap();
    assert_eq!(alarm["community_id"], community_id);
    assert_eq!(alarm["severity"], "critical");

    // The device stops (its keepalive task too): after the 3 s keepalive timeout it is offline, with an alarm.
    device.shutdown().await.expect("the device stops");
    api.until("offline", &presence, |v| {
        v["items"][0]["online"] == 0 && v["items"][0]["cameras_online"] == 0
    })
    .await;
    let alarms = api
        .until("the offline alarm", "/api/v1/alarms", |v| {
            v["items"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["kind"] == "device_offline"))
        })
        .await;
    let offline = alarms["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "device_offline")
        .collect::<Vec<_>>();
    assert_eq!(offline.len(), 1, "one offline alarm: {offline:?}");
    assert_eq!(offline[0]["source"], "gb28181");
    assert_eq!(offline[0]["device_id"], created["device"]["id"]);
    let metrics = api.metrics().await;
    assert_eq!(
        gauge(&metrics, "anfang_video_cameras_online", COMMUNITY),
        Some(0.0)
    );
}
