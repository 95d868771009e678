//! Live video through the whole binary: `anfang serve` with GB/T 28181 on, an NVR created over
//! the API, and a `gb28181-rs` device playing it that streams OpenH264-encoded frames (a bar
//! moving over grey, 25 fps, an IDR every second) like a camera would. The admin asks for a
//! ticket and opens the WebSocket: the MIME text, the init segment (`ftyp` + `moov`) and then
//! `moof` + `mdat` fragments starting at a key frame with decode times increasing, parsed back
//! with `mp4-atom`. The ticket is single-use — the same ticket again, a forged one or one for
//! another camera is 401 — the view is audited, a property manager of another community gets
//! 404 for a ticket, and when the viewer leaves the hub says BYE and the device stops sending.

use crate::common::{init, login, serve};
use futures_util::StreamExt;
use gb28181_rs::config::{CatalogChannel, Gb28181Config, Transport};
use gb28181_rs::frame::{AccessUnit, Nalu};
use gb28181_rs::mock::MockFrameHub;
use gb28181_rs::server::Gb28181Server;
use mp4_atom::{Any, Decode};
use openh264::OpenH264API;
use openh264::encoder::{Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile};
use openh264::formats::YUVBuffer;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Cursor;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const PLATFORM_ID: &str = "34020000002000000001";
const NVR: &str = "34020000001180000011";
const EAST_GATE: &str = "34020000001320000012";
const W: usize = 320;
const H: usize = 180;

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

/// Two seconds of OpenH264 baseline video, NAL units without start codes.
fn encode() -> Vec<(Vec<Vec<u8>>, bool)> {
    let config = EncoderConfig::new()
        .profile(Profile::Baseline)
        .max_frame_rate(FrameRate::from_hz(25.0))
        .intra_frame_period(IntraFramePeriod::from_num_frames(25));
    let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config).unwrap();
    (0..50)
        .map(|n| {
            let mut yuv = vec![128u8; W * H * 3 / 2];
            for y in 40..120 {
                for x in 0..48 {
                    yuv[y * W + (x + n * 6) % W] = 235;
                }
            }
            let stream = encoder.encode(&YUVBuffer::from_vec(yuv, W, H)).unwrap();
            let key = matches!(stream.frame_type(), FrameType::IDR);
            let nalus = openh264::nal_units(&stream.to_vec())
                .map(|unit| {
                    let start = unit.iter().position(|b| *b == 1).unwrap() + 1;
                    unit[start..].to_vec()
                })
                .collect();
            (nalus, key)
        })
        .collect()
}

fn nalu(data: &[u8]) -> Nalu {
    let kind = data[0] & 0x1f;
    Nalu {
        nalu_type: kind,
        data: data.to_vec(),
        is_idr: kind == 5,
        is_sps: kind == 7,
        is_pps: kind == 8,
        is_aud: kind == 9,
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(token, method.clone(), path, body).await;
        assert!((200..300).contains(&status), "{method} {path}: {status} {v}");
        v
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_plays_live_as_fmp4_over_a_websocket_with_a_single_use_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    let password = init(data);
    let port = crate::common::free_port();
    let sip = free_sip_port();
    let _server = serve(
        data,
        port,
        &[
            ("ANFANG_GB28181__ENABLED", "true".into()),
            ("ANFANG_GB28181__LISTEN", format!("127.0.0.1:{sip}")),
            ("ANFANG_GB28181__ID", PLATFORM_ID.into()),
            ("ANFANG_MQTT__MODE", "off".into()),
        ],
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let admin = login(&http, &base, &password).await;
    let api = Api { http, base };

    // Two communities; the NVR in A, a property manager of B.
    let street = api
        .ok(
            &admin,
            Method::POST,
            "/api/v1/streets",
            Some(json!({"district_code": "370323", "code": "370323001", "name": "南麻街道"})),
        )
        .await;
    let committee = api
        .ok(
            &admin,
            Method::POST,
            "/api/v1/committees",
            Some(json!({"street_id": street["id"], "code": "C1", "name": "居委会", "kind": "residents"})),
        )
        .await;
    let mut communities = Vec::new();
    for (code, name) in [("370323001001", "荆山小区"), ("370323001002", "东关小区")] {
        let c = api
            .ok(
                &admin,
                Method::POST,
                "/api/v1/communities",
                Some(
                    json!({"committee_id": committee["id"], "code": code, "name": name,
                    "category": "existing_closed", "property_type": "commercial", "address": "沂源县",
                    "site_width": 300.0, "site_height": 200.0}),
                ),
            )
            .await;
        communities.push(c["id"].as_i64().unwrap());
    }
    let created = api
        .ok(
            &admin,
            Method::POST,
            "/api/v1/devices",
            Some(json!({"code": NVR, "kind": "nvr", "protocol": "gb28181",
                "community_id": communities[0], "name": "北区录像机"})),
        )
        .await;
    let secret = created["secret"].as_str().unwrap().to_string();
    let pm_b = api
        .ok(
            &admin,
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": "pm_b", "role": "property_manager", "scope": "community:370323001002"})),
        )
        .await;
    let pm_b = {
        let login: Value = api
            .http
            .post(format!("{}/api/v1/auth/login", api.base))
            .json(&json!({"username": "pm_b", "password": pm_b["password"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        login["token"].as_str().unwrap().to_string()
    };

    // The NVR, listing one camera, fed by a camera's worth of OpenH264 frames at 25 fps.
    let config = Gb28181Config {
        enabled: true,
        platform_sip_address: "127.0.0.1".into(),
        platform_sip_port: sip,
        device_id: NVR.into(),
        channel_id: NVR.into(),
        sip_domain: "3402000000".into(),
        password: secret,
        local_sip_port: free_sip_port(),
        register_interval_secs: 3600,
        heartbeat_interval_secs: 5,
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
        ..Gb28181Config::default()
    };
    let hub = Arc::new(MockFrameHub::new());
    let frames = encode();
    let feed = tokio::spawn({
        let hub = Arc::clone(&hub);
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(40));
            for (nalus, key) in frames.iter().cycle() {
                tick.tick().await;
                hub.write(AccessUnit {
                    nalus: nalus.iter().map(|n| nalu(n)).collect(),
                    timestamp: Instant::now(),
                    is_key_frame: *key,
                });
            }
        }
    });
    let device = Gb28181Server::new(config, Arc::clone(&hub) as _)
        .spawn()
        .await
        .expect("the device starts");

    // The catalogue's camera becomes a camera of A, online.
    let mut camera = Value::Null;
    for _ in 0..150 {
        let v = api
            .ok(
                &admin,
                Method::GET,
                &format!("/api/v1/communities/{}/video", communities[0]),
                None,
            )
            .await;
        if let Some(c) = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == EAST_GATE && d["online"] == true)
        {
            camera = c.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(camera.is_object(), "the NVR's camera came online");
    let devices = api
        .ok(
            &admin,
            Method::GET,
            &format!("/api/v1/devices?community_id={}&page_size=100", communities[0]),
            None,
        )
        .await;
    let camera_id = devices["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == EAST_GATE)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let nvr_id = created["device"]["id"].as_i64().unwrap();
    let ticket_path = |id: i64| format!("/api/v1/video/cameras/{id}/live-ticket");

    // Out of scope and not a camera.
    let (status, body) = api.call(&pm_b, Method::POST, &ticket_path(camera_id), None).await;
    assert!(status == 403 || status == 404, "B's manager: {status} {body}");
    assert!(!body.to_string().contains("ticket\":"), "{body}");
    let (status, body) = api.call(&admin, Method::POST, &ticket_path(nvr_id), None).await;
    assert_eq!(status, 400, "an NVR is not played: {body}");

    // A ticket, then the WebSocket.
    let (status, ticket) = api
        .call(&admin, Method::POST, &ticket_path(camera_id), None)
        .await;
    assert_eq!(status, 201, "{ticket}");
    let path = ticket["path"].as_str().unwrap().to_string();
    let token = ticket["ticket"].as_str().unwrap().to_string();
    assert!(path.ends_with(&format!("?ticket={token}")));
    let started = Instant::now();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}{path}"))
        .await
        .expect("the WebSocket opens with the ticket");
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(15), ws.next())
            .await
            .expect("a message within 15 s")
            .expect("the socket stays open")
            .expect("a good message")
    };
    let Message::Text(hello) = next().await else {
        panic!("the MIME type first")
    };
    let hello: Value = serde_json::from_str(&hello).unwrap();
    let mime = hello["mime"].as_str().unwrap();
    assert!(mime.starts_with("video/mp4; codecs=\"avc1.42"), "{mime}");
    let Message::Binary(init) = next().await else {
        panic!("the init segment second")
    };
    let first_video = started.elapsed();
    let mut cursor = Cursor::new(&init[..]);
    let Any::Ftyp(_) = Any::decode(&mut cursor).unwrap() else {
        panic!("ftyp")
    };
    let Any::Moov(moov) = Any::decode(&mut cursor).unwrap() else {
        panic!("moov")
    };
    assert!(moov.mvex.is_some(), "fragmented");
    let mp4_atom::Codec::Avc1(avc1) = &moov.trak[0].mdia.minf.stbl.stsd.codecs[0] else {
        panic!("avc1")
    };
    assert_eq!((avc1.visual.width, avc1.visual.height), (W as u16, H as u16));

    // Fifty fragments: two seconds of video, the first a key frame, times increasing.
    let mut last = None;
    let mut keys = 0;
    for n in 0..50 {
        let Message::Binary(fragment) = next().await else {
            panic!("fragment {n}: binary")
        };
        let mut cursor = Cursor::new(&fragment[..]);
        let Any::Moof(moof) = Any::decode(&mut cursor).unwrap() else {
            panic!("fragment {n}: moof")
        };
        let Any::Mdat(mdat) = Any::decode(&mut cursor).unwrap() else {
            panic!("fragment {n}: mdat")
        };
        assert!(!mdat.data.is_empty());
        let traf = &moof.traf[0];
        let key = traf.trun[0]
            .samples
            .iter()
            .next()
            .is_some_and(|s| s.flags == Some(0x0200_0000));
        if n == 0 {
            assert!(key, "a viewer starts at a key frame");
        }
        keys += usize::from(key);
        let time = traf.tfdt.as_ref().unwrap().base_media_decode_time;
        if let Some(last) = last {
            assert!(time > last, "fragment {n}: {time} after {last}");
        }
        last = Some(time);
    }
    assert!(keys >= 2, "an IDR every second: {keys} in two seconds");
    eprintln!(
        "live view: init segment {} ms after the ticket, 50 fragments in {} ms",
        first_video.as_millis(),
        started.elapsed().as_millis()
    );

    // The ticket was good once; a forged one, or a good one for another camera, never.
    let live = |id: i64, ticket: &str| format!("{}/api/v1/video/cameras/{id}/live?ticket={ticket}", api.base);
    let again = api.http.get(live(camera_id, &token)).send().await.unwrap();
    assert_eq!(again.status(), 401, "a used ticket");
    assert!(
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}{path}"))
            .await
            .is_err(),
        "no second WebSocket on a used ticket"
    );
    let forged = api
        .http
        .get(live(camera_id, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401, "a forged ticket");
    let other = api
        .call(&admin, Method::POST, &ticket_path(camera_id), None)
        .await
        .1;
    let wrong = api
        .http
        .get(live(nvr_id, other["ticket"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401, "a ticket for another device");

    // The view is audited.
    let audit = api
        .ok(&admin, Method::GET, "/api/v1/audit?page_size=200", None)
        .await;
    let views: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "video.live_view")
        .collect();
    assert_eq!(views.len(), 1, "one audited view: {views:?}");
    assert_eq!(views[0]["target"], format!("device:{camera_id}"));

    // The viewer leaves: the hub says BYE and the device's session ends.
    ws.close(None).await.unwrap();
    drop(ws);
    let deadline = Instant::now() + Duration::from_secs(15);
    while hub.subscriber_count() > 0 {
        assert!(
            Instant::now() < deadline,
            "the device still streams after the last viewer left"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    device.abort();
    feed.abort();
}
