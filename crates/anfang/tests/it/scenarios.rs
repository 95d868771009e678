//! The access-control scenarios end to end, with real MQTT clients as devices, against
//! `anfang serve` with its embedded broker and with Mosquitto (127.0.0.1:1883) as an external
//! broker: resident face, tenant after lease end and the terminal library, card/QR/PIN, visitor
//! QR in and out of its window, an unknown car's session, fee and exit, a duplicate event id, a
//! malformed payload, and booth calls accepted, denied and unanswered.

use crate::common::{Process, free_port};
use reqwest::Method;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A 1×1 PNG, as a device would send it.
const TINY_PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mOwylsKAAIzAU6YytWUAAAAAElFTkSuQmCC";

struct Platform {
    base: String,
    http: reqwest::Client,
    token: String,
    mqtt_port: u16,
    _server: Process,
    _dir: tempfile::TempDir,
}

impl Platform {
    async fn start(external: bool) -> Platform {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("d");
        let out = Command::new(env!("CARGO_BIN_EXE_anfang"))
            .args(["init", "--data-dir", data.to_str().unwrap()])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let password = stdout
            .lines()
            .find_map(|l| l.strip_prefix("admin password: "))
            .unwrap()
            .trim()
            .to_string();
        let (http_port, mqtt_port) = (free_port(), if external { 1883 } else { free_port() });
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_anfang"));
        cmd.args([
            "serve",
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{http_port}"),
        ])
        .env("ANFANG_BOOTH__RING_TIMEOUT_SECS", "2")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
        if external {
            cmd.env("ANFANG_MQTT__MODE", "external")
                .env("ANFANG_MQTT__BROKER", "127.0.0.1:1883");
        } else {
            cmd.env("ANFANG_MQTT__LISTEN", format!("127.0.0.1:{mqtt_port}"));
        }
        let server = Process(cmd.spawn().unwrap());
        let base = format!("http://127.0.0.1:{http_port}");
        let http = reqwest::Client::new();
        let mut token = String::new();
        for _ in 0..100 {
            if let Ok(resp) = http
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"username": "admin", "password": password}))
                .send()
                .await
            {
                let v: Value = resp.json().await.unwrap();
                token = v["token"].as_str().unwrap().to_string();
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(!token.is_empty(), "the server came up");
        // Give the MQTT transport a moment to connect or listen.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Platform {
            base,
            http,
            token,
            mqtt_port,
            _server: server,
            _dir: dir,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.call_as(&self.token, method, path, body).await
    }

    async fn call_as(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path} → {status}: {v}");
        v
    }
}

struct Device {
    code: String,
    client: AsyncClient,
    events: EventLoop,
    sent: u32,
}

impl Device {
    async fn connect(port: u16, code: &str, secret: &str) -> Device {
        let mut options = MqttOptions::new(code, "127.0.0.1", port);
        options.set_credentials(code, secret);
        options.set_keep_alive(Duration::from_secs(10));
        let (client, events) = AsyncClient::new(options, 32);
        client
            .subscribe(anfang_protocol::down_topic(code), QoS::AtLeastOnce)
            .await
            .unwrap();
        let mut device = Device {
            code: code.to_string(),
            client,
            events,
            sent: 0,
        };
        // Wait until the subscription is in place.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, device.events.poll())
                .await
                .expect("SUBACK in time")
            {
                Ok(Event::Incoming(Packet::SubAck(_))) => break,
                Ok(_) => continue,
                Err(e) => panic!("device {code} could not connect: {e}"),
            }
        }
        device
    }

    /// The next message on the down topic.
    async fn next_down(&mut self) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            match tokio::time::timeout_at(deadline, self.events.poll())
                .await
                .expect("a down message in time")
            {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    return serde_json::from_slice(&p.payload).unwrap();
                }
                Ok(_) => continue,
                Err(e) => panic!("connection lost: {e}"),
            }
        }
    }

    async fn publish_raw(&mut self, payload: String) {
        self.client
            .publish(
                anfang_protocol::up_topic(&self.code),
                QoS::AtLeastOnce,
                false,
                payload,
            )
            .await
            .unwrap();
    }

    /// Publishes an event and returns the ack for it.
    async fn send_as(&mut self, id: &str, kind: &str, body: Value) -> Value {
        self.send_full(id, kind, body, chrono_now()).await
    }

    /// Publishes an event stamped `at` (the device's clock) and returns the ack for it.
    async fn send_full(&mut self, id: &str, kind: &str, body: Value, at: String) -> Value {
        let message = json!({"v": 1, "id": id, "type": kind, "at": at, "device": self.code, "body": body});
        self.publish_raw(message.to_string()).await;
        loop {
            let down = self.next_down().await;
            if down["event_id"] == id {
                return down;
            }
        }
    }

    async fn send(&mut self, kind: &str, body: Value) -> Value {
        self.sent += 1;
        let id = format!("{}-{}", kind, self.sent);
        self.send_as(&id, kind, body).await
    }
}

/// A Unix time in seconds as RFC 3339 (UTC).
fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn chrono_now() -> String {
    rfc3339(chrono::Utc::now().timestamp())
}

fn resident_id(first17: &str) -> String {
    format!(
        "{first17}{}",
        anfang_domain::id_number::gb11643_check_char(first17).unwrap()
    )
}

async fn run_scenarios(external: bool) {
    let p = Platform::start(external).await;
    // Codes unique per run: Mosquitto is shared by every test on this machine.
    let serial = (std::process::id() % 9_000) * 100 + if external { 50 } else { 0 };
    let code = |k: u32| format!("37032300001320{:06}", serial + k);
    let street = p
        .call(
            Method::POST,
            "/api/v1/streets",
            Some(json!({"district_code": "370323", "code": "370323001", "name": "历山街道"})),
        )
        .await;
    let committee = p
        .call(Method::POST, "/api/v1/committees", Some(json!({"street_id": street["id"], "code": "370323001001", "name": "居委会", "kind": "residents"})))
        .await;
    let community = p
        .call(Method::POST, "/api/v1/communities", Some(json!({"committee_id": committee["id"], "code": "370323001001001", "name": "翡翠山景小区",
            "category": "existing_closed", "property_type": "commercial", "address": "沂源县", "site_width": 300.0, "site_height": 200.0})))
        .await;
    let c = community["id"].as_i64().unwrap();
    let building = p
        .call(
            Method::POST,
            "/api/v1/buildings",
            Some(json!({"community_id": c, "number": "1", "floors": 6, "x": 1.0, "y": 1.0})),
        )
        .await;
    let unit = p
        .call(
            Method::POST,
            "/api/v1/units",
            Some(json!({"building_id": building["id"], "number": "1"})),
        )
        .await;
    let house = p.call(Method::POST, "/api/v1/houses", Some(json!({"unit_id": unit["id"], "number": "101", "floor": 1, "area_m2": 90.0, "use": "owner_occupied"}))).await;
    let place = |kind: &str, unit_id: Option<i64>| json!({"community_id": c, "kind": kind, "name": kind, "x": 1.0, "y": 1.0, "unit_id": unit_id});
    let door = p
        .call(
            Method::POST,
            "/api/v1/places",
            Some(place("unit_door", unit["id"].as_i64())),
        )
        .await;
    let lane = p
        .call(Method::POST, "/api/v1/places", Some(place("vehicle_lane", None)))
        .await;
    let gate_place = p
        .call(
            Method::POST,
            "/api/v1/places",
            Some(place("pedestrian_entrance", None)),
        )
        .await;
    let mut secrets = Vec::new();
    for (k, (kind, place)) in [
        ("face_door_terminal", &door),
        ("barrier_gate", &lane),
        ("smart_booth", &gate_place),
    ]
    .into_iter()
    .enumerate()
    {
        let d = p
            .call(Method::POST, "/api/v1/devices", Some(json!({"code": code(k as u32 + 1), "kind": kind, "protocol": "mqtt", "community_id": c, "place_id": place["id"]})))
            .await;
        secrets.push(d["secret"].as_str().unwrap().to_string());
    }
    let owner = p
        .call(Method::POST, "/api/v1/persons", Some(json!({"community_id": c, "name": "业主甲", "gender": "female", "id_type": "resident_id",
            "id_number": resident_id("37032319800101002"), "population_type": "registered", "house_id": house["id"], "role": "owner"})))
        .await;
    let tenant = p
        .call(Method::POST, "/api/v1/persons", Some(json!({"community_id": c, "name": "租户乙", "gender": "male", "id_type": "resident_id",
            "id_number": resident_id("37032319900101003"), "population_type": "floating", "house_id": house["id"], "role": "tenant",
            "lease_start": "2025-01-01", "lease_end": "2025-12-31"})))
        .await;
    let (owner_id, tenant_id) = (owner["id"].as_i64().unwrap(), tenant["id"].as_i64().unwrap());
    // From here on the community's property manager works the console.
    let pm = p
        .call(
            Method::POST,
            "/api/v1/users",
            Some(
                json!({"username": "pm1", "role": "property_manager", "scope": "community:370323001001001"}),
            ),
        )
        .await;
    let login: Value = p
        .http
        .post(format!("{}/api/v1/auth/login", p.base))
        .json(&json!({"username": "pm1", "password": pm["password"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut p = p;
    let admin_token = std::mem::replace(&mut p.token, login["token"].as_str().unwrap().to_string());
    let consent = p
        .call(
            Method::POST,
            &format!("/api/v1/persons/{owner_id}/consents"),
            Some(json!({"given_by": "self"})),
        )
        .await;
    p.call(
        Method::POST,
        &format!("/api/v1/persons/{owner_id}/credentials"),
        Some(json!({"kind": "card", "value": "CAFE0101"})),
    )
    .await;
    // The face photo: checked, encrypted, and its digest is the face credential terminals get.
    // A real portrait (the face_recognition sdist's obama.jpg, from scripts/fetch-models.sh):
    // enrollment now finds exactly one face in it and stores its template.
    let photo = {
        let fixture = anfang_vision::FaceModels::default_dir().join("fixtures/obama.jpg");
        let img = image::load_from_memory(&std::fs::read(&fixture).expect("run scripts/fetch-models.sh"))
            .unwrap()
            .resize_exact(300, 375, image::imageops::FilterType::Triangle)
            .to_rgb8();
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    };
    let enrolled: Value = p
        .http
        .put(format!("{}/api/v1/persons/{owner_id}/face", p.base))
        .bearer_auth(&p.token)
        .header("content-type", "image/png")
        .body(photo.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (enrolled["width"].as_i64(), enrolled["height"].as_i64()),
        (Some(300), Some(375)),
        "{enrolled}"
    );
    let pin = p
        .call(
            Method::POST,
            &format!("/api/v1/persons/{owner_id}/credentials"),
            Some(json!({"kind": "pin", "value": "135790"})),
        )
        .await;
    p.call(
        Method::POST,
        &format!("/api/v1/persons/{tenant_id}/credentials"),
        Some(json!({"kind": "card", "value": "CAFE0202"})),
    )
    .await;

    let mut terminal = Device::connect(p.mqtt_port, &code(1), &secrets[0]).await;
    // The library: both persons, the tenant with a validity that ended, so the terminal refuses
    // them even offline.
    let ack = terminal
        .send("heartbeat", json!({"firmware": "1.0", "library_version": 0}))
        .await;
    let sync = &ack["command"];
    assert_eq!(
        (sync["action"].as_str(), sync["from_version"].as_u64()),
        (Some("library_sync"), Some(0)),
        "{ack}"
    );
    let changes = sync["changes"].as_array().unwrap();
    let (tenant_ref, owner_ref) = (tenant_id.to_string(), owner_id.to_string());
    let tenant_entry = changes
        .iter()
        .find(|e| e["person_ref"] == tenant_ref.as_str())
        .expect("tenant in the library");
    assert_eq!(tenant_entry["valid_until"], "2025-12-31T23:59:59+08:00");
    let owner_entry = changes
        .iter()
        .find(|e| e["person_ref"] == owner_ref.as_str())
        .unwrap();
    assert_eq!(
        owner_entry["credentials"].as_array().unwrap().len(),
        3,
        "face, card and PIN: {owner_entry}"
    );
    let face_value = owner_entry["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "face")
        .map(|c| c["value"].clone());
    assert_eq!(face_value, Some(enrolled["sha256"].clone()));
    // The terminal fetches the photo over signed HTTP; only photos of its library.
    let fetch = |person: i64| {
        let path = format!("/api/v1/device-push/faces/{person}");
        let ts = chrono::Utc::now().timestamp_millis();
        let signature = anfang_protocol::sign(secrets[0].as_bytes(), ts, path.as_bytes());
        p.http
            .get(format!("{}{path}", p.base))
            .header(anfang_protocol::HEADER_DEVICE, code(1))
            .header(anfang_protocol::HEADER_TIMESTAMP, ts.to_string())
            .header(anfang_protocol::HEADER_SIGNATURE, signature)
            .send()
    };
    let fetched = fetch(owner_id).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(
        fetched.bytes().await.unwrap().to_vec(),
        photo,
        "decrypted as uploaded"
    );
    assert_eq!(fetch(tenant_id).await.unwrap().status(), 404, "no photo enrolled");
    let decision = |ack: &Value| {
        (
            ack["command"]["action"].as_str().unwrap_or("").to_string(),
            ack["command"]["reason"].as_str().unwrap_or("").to_string(),
        )
    };
    let face = terminal
        .send(
            "credential",
            json!({"kind": "face", "person_ref": owner_id.to_string()}),
        )
        .await;
    assert_eq!(decision(&face), ("open".into(), "resident".into()), "{face}");
    let expired = terminal
        .send("credential", json!({"kind": "card", "value": "CAFE0202"}))
        .await;
    assert_eq!(expired["command"]["action"], "deny", "{expired}");
    for (kind, value) in [("card", "CAFE0101"), ("pin", "135790")] {
        let ack = terminal
            .send("credential", json!({"kind": kind, "value": value}))
            .await;
        assert_eq!(decision(&ack).0, "open", "{kind}: {ack}");
    }
    // Decisions come from the policy cache, which follows every commit: a PIN revoked a moment
    // ago opens nothing.
    p.call(
        Method::DELETE,
        &format!("/api/v1/persons/{owner_id}/credentials/{}", pin["id"]),
        None,
    )
    .await;
    let ack = terminal
        .send("credential", json!({"kind": "pin", "value": "135790"}))
        .await;
    assert_eq!(ack["command"]["action"], "deny", "{ack}");
    // The deny list: while listed the owner's card opens nothing and the terminal's next sync
    // drops them; taken off, the card opens again.
    let applied = sync["to_version"].as_u64().unwrap();
    let entry = p
        .call(
            Method::POST,
            "/api/v1/deny-list",
            Some(json!({"person_id": owner_id, "reason": "测试禁止通行"})),
        )
        .await;
    let ack = terminal
        .send("credential", json!({"kind": "card", "value": "CAFE0101"}))
        .await;
    assert_eq!(
        (&ack["command"]["action"], &ack["command"]["message"]),
        (&json!("deny"), &json!("禁止通行，请联系物业")),
        "{ack}"
    );
    let ack = terminal
        .send(
            "heartbeat",
            json!({"firmware": "1.0", "library_version": applied}),
        )
        .await;
    let owner_change = ack["command"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["person_ref"] == owner_ref.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(owner_change["op"], "remove", "{ack}");
    p.call(
        Method::DELETE,
        &format!("/api/v1/deny-list/{}", entry["id"]),
        None,
    )
    .await;
    let ack = terminal
        .send("credential", json!({"kind": "card", "value": "CAFE0101"}))
        .await;
    assert_eq!(decision(&ack), ("open".into(), "resident".into()), "{ack}");
    let qr = p
        .call(Method::POST, &format!("/api/v1/persons/{owner_id}/qr"), None)
        .await;
    let ack = terminal
        .send("credential", json!({"kind": "qr", "value": qr["payload"]}))
        .await;
    assert_eq!(decision(&ack).0, "open", "{ack}");
    // Visitors: a pass in its window opens the visited unit's door; one for tomorrow does not.
    let now = chrono::Utc::now().timestamp();
    let rfc = rfc3339;
    let now_pass = p
        .call(Method::POST, "/api/v1/visitors", Some(json!({"house_id": house["id"], "name": "访客", "valid_from": rfc(now - 60), "valid_until": rfc(now + 3600)})))
        .await;
    let ack = terminal
        .send(
            "credential",
            json!({"kind": "qr", "value": now_pass["qr_payload"]}),
        )
        .await;
    assert_eq!(decision(&ack), ("open".into(), "visitor_pass".into()), "{ack}");
    let later = p
        .call(Method::POST, "/api/v1/visitors", Some(json!({"house_id": house["id"], "name": "访客", "valid_from": rfc(now + 86_400), "valid_until": rfc(now + 90_000)})))
        .await;
    let ack = terminal
        .send("credential", json!({"kind": "qr", "value": later["qr_payload"]}))
        .await;
    assert_eq!(ack["command"]["action"], "deny", "{ack}");
    // A snapshot travels with the event, is sealed in the image store and shown on request.
    let ack = terminal
        .send(
            "credential",
            json!({"kind": "card", "value": "CAFE0101", "snapshot": {"format": "png", "data": TINY_PNG}}),
        )
        .await;
    assert_eq!(ack["command"]["action"], "open", "{ack}");
    let latest = p
        .call(
            Method::GET,
            &format!("/api/v1/access-records?community_id={c}&page_size=1"),
            None,
        )
        .await;
    assert_eq!(latest["items"][0]["has_snapshot"], true, "{latest}");
    let snapshot = p
        .http
        .get(format!(
            "{}/api/v1/access-records/{}/snapshot",
            p.base, latest["items"][0]["id"]
        ))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(snapshot.status(), 200);
    assert_eq!(snapshot.headers()["content-type"], "image/png");
    assert!(snapshot.bytes().await.unwrap().starts_with(b"\x89PNG"));
    // The same event id twice: one record, the first answer.
    let first = terminal
        .send_as(
            "dup-1",
            "credential",
            json!({"kind": "card", "value": "CAFE0101"}),
        )
        .await;
    let again = terminal
        .send_as(
            "dup-1",
            "credential",
            json!({"kind": "card", "value": "CAFE0101"}),
        )
        .await;
    assert_eq!(
        (first["status"].as_str(), again["status"].as_str()),
        (Some("stored"), Some("duplicate"))
    );
    assert_eq!(again["command"]["action"], "open");
    // A malformed body with a readable id is rejected, so the device stops resending it.
    let rejected = terminal
        .send_as("bad-1", "credential", json!({"kind": "laser"}))
        .await;
    assert_eq!(rejected["status"], "rejected", "{rejected}");

    // An unknown car: session on the way in, fee on the way out, open once paid.
    p.call(Method::PUT, &format!("/api/v1/communities/{c}/parking-tariff"), Some(json!({"free_minutes": 0, "day_start_minute": 0,
        "night_start_minute": 720, "day_rate_cents_per_hour": 6000, "night_rate_cents_per_hour": 6000, "daily_cap_cents": 0,
        "billing_unit_minutes": 1}))).await;
    let mut gate = Device::connect(p.mqtt_port, &code(2), &secrets[1]).await;
    let entering = gate
        .send(
            "plate",
            json!({"plate": "鲁C5X521", "confidence": 0.97, "direction": "in"}),
        )
        .await;
    assert_eq!(
        decision(&entering),
        ("open".into(), "temporary_parking".into()),
        "{entering}"
    );
    // Two minutes later by the gate's clock.
    let out = json!({"plate": "鲁C5X521", "confidence": 0.97, "direction": "out"});
    let leaving = gate
        .send_full("out-1", "plate", out.clone(), rfc(now + 120))
        .await;
    assert_eq!(leaving["command"]["action"], "deny", "{leaving}");
    let due = p
        .call(
            Method::GET,
            &format!("/api/v1/parking-sessions?community_id={c}&kind=fee_due"),
            None,
        )
        .await;
    let session = due["items"][0]["id"].as_i64().unwrap();
    assert!(due["items"][0]["due_cents"].as_i64().unwrap() >= 100, "{due}");
    p.call(
        Method::POST,
        &format!("/api/v1/parking-sessions/{session}/payments"),
        Some(json!({"method": "online"})),
    )
    .await;
    let paid = gate.send_full("out-2", "plate", out, rfc(now + 125)).await;
    assert_eq!(
        decision(&paid),
        ("open".into(), "parking_settled".into()),
        "{paid}"
    );

    // A monthly pass (月卡): in its dates the car opens both ways without a session.
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    p.call(Method::POST, "/api/v1/parking-passes", Some(json!({"community_id": c, "plate_number": "鲁C7Y777", "holder_name": "月卡车主",
        "valid_from": today.to_string(), "valid_until": (today + chrono::Days::new(30)).to_string(), "fee_cents": 30000}))).await;
    for direction in ["in", "out"] {
        let ack = gate
            .send(
                "plate",
                json!({"plate": "鲁C7Y777", "confidence": 0.98, "direction": direction}),
            )
            .await;
        assert_eq!(
            decision(&ack),
            ("open".into(), "monthly_pass".into()),
            "{direction}: {ack}"
        );
    }

    // A car without a plate (无牌车扫码): the driver scans the lane's printed code, gets a
    // ticket, and the barrier is told to open; at the exit the ticket is settled first.
    let gates = p
        .call(
            Method::GET,
            &format!("/api/v1/devices?community_id={c}&kind=barrier_gate"),
            None,
        )
        .await;
    let gate_id = gates["items"][0]["id"].as_i64().unwrap();
    let lane = p
        .call(Method::GET, &format!("/api/v1/devices/{gate_id}/lane-code"), None)
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let public = |method: Method, path: String| p.http.request(method, format!("{}{path}", p.base)).send();
    let entry = public(Method::POST, format!("/api/v1/public/lanes/{lane}/entry"))
        .await
        .unwrap();
    assert_eq!(entry.status(), 201);
    let ticket: Value = entry.json().await.unwrap();
    let code_of_ticket = ticket["ticket"].as_str().unwrap().to_string();
    assert!(code_of_ticket.starts_with("无牌"), "{ticket}");
    let command = gate.next_down().await;
    assert_eq!(command["command"]["action"], "open", "{command}");
    let again = public(Method::POST, format!("/api/v1/public/lanes/{lane}/entry"))
        .await
        .unwrap();
    assert_eq!(again.status(), 409, "one ticket per lane every few seconds");
    let forged = public(Method::POST, format!("/api/v1/public/lanes/{gate_id}.0000/entry"))
        .await
        .unwrap();
    assert_eq!(forged.status(), 404);
    let exit_path = format!("/api/v1/public/lanes/{lane}/tickets/{code_of_ticket}/exit");
    let mut leaving: Value = public(Method::POST, exit_path.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if leaving["open"] == false {
        // Something is due: the guard takes it, and the driver scans again.
        let due = p
            .call(
                Method::GET,
                &format!("/api/v1/parking-sessions?community_id={c}&kind=fee_due"),
                None,
            )
            .await;
        let session = due["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["plate"] == code_of_ticket.as_str())
            .expect("the ticket's session owes the fee")["id"]
            .as_i64()
            .unwrap();
        p.call(
            Method::POST,
            &format!("/api/v1/parking-sessions/{session}/payments"),
            Some(json!({"method": "cash"})),
        )
        .await;
        leaving = public(Method::POST, exit_path)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    }
    assert_eq!(leaving["open"], true, "{leaving}");
    assert_eq!(leaving["ticket"]["status"], "closed");
    let command = gate.next_down().await;
    assert_eq!(command["command"]["action"], "open", "{command}");

    // The booth: answers arrive as commands on its down topic.
    let mut booth = Device::connect(p.mqtt_port, &code(3), &secrets[2]).await;
    for (answer, expected) in [("accept", "open"), ("deny", "deny"), ("none", "deny")] {
        let ack = booth
            .send(
                "booth_call",
                json!({"house_ref": "1-1-101", "visitor": {"name": "李访客"}}),
            )
            .await;
        assert_eq!(ack["status"], "stored");
        let ringing = p
            .call(
                Method::GET,
                &format!("/api/v1/booth-calls?community_id={c}&kind=ringing"),
                None,
            )
            .await;
        let call = ringing["items"][0]["id"].as_i64().unwrap();
        match answer {
            "accept" => {
                p.call(Method::POST, &format!("/api/v1/booth-calls/{call}/accept"), None)
                    .await;
            }
            "deny" => {
                p.call(
                    Method::POST,
                    &format!("/api/v1/booth-calls/{call}/deny"),
                    Some(json!({"message": "住户不在家"})),
                )
                .await;
            }
            _ => {} // Nobody answers: escalated after the 2 s ring timeout.
        }
        let command = booth.next_down().await;
        assert_eq!(
            (command["type"].as_str(), command["command"]["action"].as_str()),
            (Some("command"), Some(expected)),
            "{answer}: {command}"
        );
        if answer == "none" {
            assert_eq!(command["command"]["message"], "无人应答，已转值班中心");
        }
    }
    // Staff pass the entrance on duty only: a schedule for another weekday keeps the gate shut
    // today; an all-week schedule opens it.
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%u")
        .to_string();
    let other_day = if today == "1" { "2" } else { "1" };
    let staff = p
        .call(Method::POST, "/api/v1/persons", Some(json!({"community_id": c, "name": "保洁丙", "gender": "female", "id_type": "resident_id",
            "id_number": resident_id("37032319750101004"), "population_type": "floating", "house_id": house["id"], "role": "staff",
            "schedule": format!("{other_day} 00:00-24:00")})))
        .await;
    let staff_id = staff["id"].as_i64().unwrap();
    p.call(
        Method::POST,
        &format!("/api/v1/persons/{staff_id}/credentials"),
        Some(json!({"kind": "card", "value": "CAFE0303"})),
    )
    .await;
    let ack = booth
        .send("credential", json!({"kind": "card", "value": "CAFE0303"}))
        .await;
    assert_eq!(
        (&ack["command"]["action"], &ack["command"]["message"]),
        (&json!("deny"), &json!("不在排班时间内")),
        "{ack}"
    );
    p.call(
        Method::PUT,
        &format!("/api/v1/persons/{staff_id}/houses"),
        Some(json!({"house_id": house["id"], "role": "staff", "schedule": "1-7 00:00-24:00"})),
    )
    .await;
    let ack = booth
        .send("credential", json!({"kind": "card", "value": "CAFE0303"}))
        .await;
    assert_eq!(decision(&ack), ("open".into(), "staff".into()), "{ack}");
    // A withdrawn consent: the owner's face opens nothing from now on (card still does).
    p.call(
        Method::DELETE,
        &format!("/api/v1/persons/{owner_id}/consents/{}", consent["id"]),
        None,
    )
    .await;
    let face = terminal
        .send(
            "credential",
            json!({"kind": "face", "person_ref": owner_id.to_string()}),
        )
        .await;
    assert_eq!(
        fetch(owner_id).await.unwrap().status(),
        404,
        "the photo went with the consent"
    );
    assert_eq!(
        (&face["command"]["action"], &face["command"]["message"]),
        (&json!("deny"), &json!("未授权人脸通行，请使用其他方式")),
        "{face}"
    );
    // Settings reach the terminal as a `config` command on its down topic.
    let terminals = p
        .call(
            Method::GET,
            &format!("/api/v1/devices?community_id={c}&kind=face_door_terminal"),
            None,
        )
        .await;
    let terminal_id = terminals["items"][0]["id"].as_i64().unwrap();
    p.call(
        Method::PUT,
        &format!("/api/v1/devices/{terminal_id}/config"),
        Some(json!({"heartbeat_secs": 15, "offline_decisions": true})),
    )
    .await;
    let command = terminal.next_down().await;
    assert_eq!(
        (
            &command["command"]["action"],
            &command["command"]["heartbeat_secs"]
        ),
        (&json!("config"), &json!(15)),
        "{command}"
    );
    // A door whose terminal offers only face recognition is flagged; with a card reader it is not.
    let mut flagged = Vec::new();
    for accepts in [json!(["face"]), json!(["face", "card"])] {
        terminal
            .send(
                "heartbeat",
                json!({"firmware": "1.0", "library_version": 0, "accepts": accepts}),
            )
            .await;
        flagged.push(
            p.call(
                Method::GET,
                &format!("/api/v1/access-points?community_id={c}&face_only=true"),
                None,
            )
            .await,
        );
    }
    assert_eq!(flagged[0].as_array().map(Vec::len), Some(1), "{}", flagged[0]);
    assert_eq!(flagged[0][0]["kind"], "unit_door");
    assert_eq!(flagged[1].as_array().map(Vec::len), Some(0), "{}", flagged[1]);
    // The resident of the visited house sees the call on the resident page and lets the
    // visitor in; a call to another house is not theirs to see.
    let resident = {
        let user = p
            .call_as(
                &admin_token,
                Method::POST,
                "/api/v1/users",
                Some(json!({"username": format!("resident{serial}"), "role": "resident", "scope": format!("house:{}", house["id"])})),
            )
            .await;
        let login: Value = p
            .http
            .post(format!("{}/api/v1/auth/login", p.base))
            .json(&json!({"username": format!("resident{serial}"), "password": user["password"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        login["token"].as_str().unwrap().to_string()
    };
    booth
        .send(
            "booth_call",
            json!({"house_ref": "1栋1单元101", "visitor": {"name": "快递员",
                "card_photo": {"format": "png", "data": TINY_PNG}, "snapshot": {"format": "png", "data": TINY_PNG}}}),
        )
        .await;
    booth
        .send(
            "booth_call",
            json!({"house_ref": "9-9-909", "visitor": {"name": "陌生人"}}),
        )
        .await;
    let mine = p
        .call_as(&resident, Method::GET, "/api/v1/booth-calls?kind=ringing", None)
        .await;
    assert_eq!(mine["total"], 1, "{mine}");
    assert_eq!(mine["items"][0]["visitor_name"], "快递员");
    let call = mine["items"][0]["id"].as_i64().unwrap();
    // The resident sees who is at the booth, but not the ID card's photo; the duty staff do.
    let photo = |token: &str, which: &str| {
        p.http
            .get(format!("{}/api/v1/booth-calls/{call}/photos/{which}", p.base))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(photo(&resident, "snapshot").await.unwrap().status(), 200);
    assert_eq!(photo(&resident, "card_photo").await.unwrap().status(), 403);
    assert_eq!(photo(&p.token, "card_photo").await.unwrap().status(), 200);
    p.call_as(
        &resident,
        Method::POST,
        &format!("/api/v1/booth-calls/{call}/accept"),
        None,
    )
    .await;
    // The other call may time out meanwhile and send its own refusal: look for the opening.
    let mut opened = false;
    for _ in 0..3 {
        let command = booth.next_down().await;
        if command["command"]["action"] == "open" {
            opened = true;
            break;
        }
    }
    assert!(opened, "the resident's acceptance opens the booth's gate");
    let records = p
        .call(
            Method::GET,
            &format!("/api/v1/access-records?community_id={c}&page_size=100"),
            None,
        )
        .await;
    assert!(records["total"].as_i64().unwrap() >= 14, "{records}");
}

#[tokio::test]
async fn scenarios_over_the_embedded_broker() {
    run_scenarios(false).await;
}

#[tokio::test]
async fn scenarios_over_mosquitto() {
    if std::net::TcpStream::connect("127.0.0.1:1883").is_err() {
        eprintln!("skipped: no MQTT broker on 127.0.0.1:1883 (.ci/run starts Mosquitto)");
        return;
    }
    run_scenarios(true).await;
}
