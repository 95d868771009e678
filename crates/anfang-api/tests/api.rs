//! HTTP integration tests: the real router on port 0 over a fresh SQLite store, driven with a
//! real HTTP client. Includes the scope matrix generated from `openapi.json`: every operation
//! is called by a user whose scope excludes the target, and must refuse.

use anfang_app::audit::MemoryCheckpoint;
use anfang_app::excel::{self, SheetKind};
use anfang_app::vault::Vault;
use anfang_app::{App, AppConfig};
use anfang_base::SimClock;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// 2026-11-01T00:00:00Z.
const START_MS: i64 = 1_793_491_200_000;
/// The simulated payment provider's callback secret.
const SIM_SECRET: &[u8] = b"sim-provider-secret";

struct Server {
    base: String,
    http: Client,
    clock: SimClock,
    app: App,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store =
            anfang_store_sql::SqlStore::open(&format!("sqlite:{}", dir.path().join("t.db").display()))
                .await
                .unwrap();
        let clock = SimClock::new(START_MS);
        let (d, i) = Vault::generate_keys();
        let app = App::new(
            Arc::new(store),
            Arc::new(clock.clone()),
            Vault::new(&d, &i),
            Arc::new(MemoryCheckpoint::default()),
            std::sync::Arc::new(anfang_app::faces::MemoryImages::default()),
            AppConfig::default(),
        )
        .with_payment_providers(vec![anfang_app::fee_online::PaymentProvider {
            name: "sim".into(),
            secret: SIM_SECRET.to_vec(),
        }]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = anfang_api::router(app.clone(), None);
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Server {
            base,
            http: Client::new(),
            clock,
            app,
            _dir: dir,
        }
    }

    async fn call(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn ok(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(Some(token), method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path} → {status}: {v}");
        v
    }

    /// Posts a device message to HTTP push, signed with `secret` at `timestamp`.
    async fn push(&self, code: &str, secret: &str, timestamp: i64, body: String) -> reqwest::Response {
        let signature = anfang_protocol::sign(secret.as_bytes(), timestamp, body.as_bytes());
        self.http
            .post(format!("{}/api/v1/device-push/events", self.base))
            .header(anfang_protocol::HEADER_DEVICE, code)
            .header(anfang_protocol::HEADER_TIMESTAMP, timestamp.to_string())
            .header(anfang_protocol::HEADER_SIGNATURE, signature)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    fn clock_now(&self) -> i64 {
        use anfang_base::Clock;
        self.clock.now_ms()
    }

    async fn login(&self, user: &str, password: &str) -> String {
        let (status, v) = self
            .call(
                None,
                Method::POST,
                "/api/v1/auth/login",
                Some(json!({"username": user, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v["token"].as_str().unwrap().to_string()
    }
}

fn resident_id(first17: &str) -> String {
    format!(
        "{first17}{}",
        anfang_domain::id_number::gb11643_check_char(first17).unwrap()
    )
}

/// Ids of one seeded community.
#[derive(Debug, Clone, Default)]
struct Seeded {
    street: i64,
    committee: i64,
    community: i64,
    building: i64,
    unit: i64,
    house: i64,
    person: i64,
    vehicle: i64,
    device: i64,
    /// A fee item of the community (set by tests that make one).
    fee_item: i64,
}

async fn seed(s: &Server, admin: &str, n: u32) -> Seeded {
    let street = s.ok(admin, Method::POST, "/api/v1/streets", Some(json!({"district_code": "370323", "code": format!("37032300{n}"), "name": format!("街道{n}")}))).await;
    let committee = s
        .ok(admin, Method::POST, "/api/v1/committees", Some(json!({"street_id": street["id"], "code": format!("C{n}"), "name": "居委会", "kind": "residents"})))
        .await;
    let community = s
        .ok(admin, Method::POST, "/api/v1/communities", Some(json!({"committee_id": committee["id"], "code": format!("37032300{n}001"), "name": format!("小区{n}"),
            "category": "existing_closed", "property_type": "commercial", "address": format!("沂源县小区{n}"), "site_width": 300.0, "site_height": 200.0})))
        .await;
    let c = community["id"].as_i64().unwrap();
    let building = s
        .ok(
            admin,
            Method::POST,
            "/api/v1/buildings",
            Some(json!({"community_id": c, "number": "1", "floors": 6, "x": 10.0, "y": 10.0})),
        )
        .await;
    let unit = s
        .ok(
            admin,
            Method::POST,
            "/api/v1/units",
            Some(json!({"building_id": building["id"], "number": "1"})),
        )
        .await;
    let house = s
        .ok(
            admin,
            Method::POST,
            "/api/v1/houses",
            Some(
                json!({"unit_id": unit["id"], "number": "101", "floor": 1, "area_m2": 88.5, "use": "rented"}),
            ),
        )
        .await;
    s.ok(
        admin,
        Method::POST,
        "/api/v1/places",
        Some(json!({"community_id": c, "kind": "pedestrian_entrance", "name": "南门", "x": 1.0, "y": 2.0})),
    )
    .await;
    let person = s
        .ok(admin, Method::POST, "/api/v1/persons", Some(json!({"community_id": c, "name": format!("测试{n}"), "gender": "female", "id_type": "resident_id",
            "id_number": resident_id(&format!("37032319900101{n:02}2")), "phone": format!("1390000000{n}"), "population_type": "floating",
            "house_id": house["id"], "role": "tenant", "lease_start": "2026-01-01", "lease_end": "2026-12-31"})))
        .await;
    let vehicle = s
        .ok(admin, Method::POST, "/api/v1/vehicles", Some(json!({"community_id": c, "plate_number": format!("鲁C1234{n}"), "plate_color": "blue", "owner_person_id": person["id"]})))
        .await;
    let device = s
        .ok(admin, Method::POST, "/api/v1/devices", Some(json!({"code": format!("3703230000132000000{n}"), "kind": "face_door_terminal", "protocol": "mqtt", "community_id": c})))
        .await;
    Seeded {
        street: street["id"].as_i64().unwrap(),
        committee: committee["id"].as_i64().unwrap(),
        community: c,
        building: building["id"].as_i64().unwrap(),
        unit: unit["id"].as_i64().unwrap(),
        house: house["id"].as_i64().unwrap(),
        person: person["id"].as_i64().unwrap(),
        vehicle: vehicle["id"].as_i64().unwrap(),
        device: device["device"]["id"].as_i64().unwrap(),
        fee_item: 0,
    }
}

/// A barrier gate at a new lane of `community`, and a car `plate` that entered through it;
/// returns the gate's code and the session id.
async fn gate_and_entry(s: &Server, token: &str, community: i64, code: &str, plate: &str) -> (String, i64) {
    let lane = s
        .ok(token, Method::POST, "/api/v1/places", Some(json!({"community_id": community, "kind": "vehicle_lane", "name": "车道", "x": 1.0, "y": 1.0})))
        .await;
    let gate = s
        .ok(
            token,
            Method::POST,
            "/api/v1/devices",
            Some(
                json!({"code": code, "kind": "barrier_gate", "protocol": "http_push",
            "community_id": community, "place_id": lane["id"]}),
            ),
        )
        .await;
    let code = gate["device"]["code"].as_str().unwrap().to_string();
    let event = anfang_app::access::DeviceEvent {
        event_id: format!("in-{plate}"),
        at_ms: s.clock_now(),
        kind: anfang_app::access::DeviceEventKind::Plate {
            plate: plate.into(),
            confidence: 0.98,
            entering: true,
        },
        body_json: "{}".into(),
        images: Vec::new(),
    };
    s.app.device_event(&code, &event).await.unwrap();
    let sessions = s
        .ok(
            token,
            Method::GET,
            &format!("/api/v1/parking-sessions?community_id={community}"),
            None,
        )
        .await;
    (code, sessions["items"][0]["id"].as_i64().unwrap())
}

async fn parking_session_in(s: &Server, token: &str, b: &Seeded, plate: &str) -> i64 {
    gate_and_entry(s, token, b.community, "37032300001320000599", plate)
        .await
        .1
}

async fn admin_token(s: &Server) -> String {
    let req = anfang_app::auth::CreateUser {
        username: "admin".into(),
        role: "district_admin".into(),
        scope: "district".into(),
        display_name: None,
    };
    let (_, password) = s.app.create_user("test", &req).await.unwrap();
    s.login("admin", &password).await
}

async fn user_token(s: &Server, admin: &str, username: &str, role: &str, scope: &str) -> String {
    let created = s
        .ok(
            admin,
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": username, "role": role, "scope": scope})),
        )
        .await;
    s.login(username, created["password"].as_str().unwrap()).await
}

/// A request body for `op` that points at community `b`'s objects.
fn out_of_scope_body(method: &str, path: &str, b: &Seeded) -> Option<Value> {
    let body = match (method, path) {
        ("post", "/api/v1/users") => json!({"username": "intruder", "role": "guard", "scope": "district"}),
        ("post", "/api/v1/alarms/{id}/actions") => json!({"action": "acknowledge", "note": "not mine"}),
        ("post", "/api/v1/patrol/routes") => json!({"community_id": b.community, "name": "x",
            "checkpoints": [{"device_id": b.device, "offset_minutes": 0}], "times": "1-7 08:00", "window_minutes": 30}),
        ("put", "/api/v1/patrol/routes/{id}/active") => json!({"active": false}),
        ("post", "/api/v1/notify/channels") => json!({"name": "x", "channel": "webhook",
            "address": "https://x.example.cn/hook", "kinds": ["alarm"], "community_id": b.community}),
        ("put", "/api/v1/notify/channels/{id}/active") => json!({"active": false}),
        ("put", "/api/v1/communities/{id}/warning-rules") => json!({"vehicle": {"days": 1}}),
        ("post", "/api/v1/warnings/{id}/actions") => json!({"action": "close"}),
        ("post", "/api/v1/streets") => json!({"district_code": "370323", "code": "370323999", "name": "x"}),
        ("post", "/api/v1/committees") => {
            json!({"street_id": b.street, "code": "C999", "name": "x", "kind": "residents"})
        }
        ("post", "/api/v1/communities") => {
            json!({"committee_id": b.committee, "code": "999", "name": "x", "category": "village",
            "property_type": "village", "address": "x", "site_width": 1.0, "site_height": 1.0})
        }
        ("post", "/api/v1/buildings") => {
            json!({"community_id": b.community, "number": "9", "floors": 3, "x": 1.0, "y": 1.0})
        }
        ("post", "/api/v1/units") => json!({"building_id": b.building, "number": "9"}),
        ("post", "/api/v1/houses") => {
            json!({"unit_id": b.unit, "number": "909", "floor": 9, "area_m2": 50.0, "use": "vacant"})
        }
        ("post", "/api/v1/places") => {
            json!({"community_id": b.community, "kind": "road_point", "name": "x", "x": 1.0, "y": 1.0})
        }
        ("post", "/api/v1/grids") => json!({"community_id": b.community, "code": "G9", "name": "x"}),
        ("post", "/api/v1/organisations") => {
            json!({"community_id": b.community, "name": "x", "kind": "shop"})
        }
        ("post", "/api/v1/persons/{id}/consents") => json!({"given_by": "self"}),
        ("post", "/api/v1/deny-list") => json!({"person_id": b.person, "reason": "x"}),
        ("post", "/api/v1/parking-passes") => json!({"community_id": b.community, "plate_number": "鲁C9P999",
            "holder_name": "x", "valid_from": "2026-11-01", "valid_until": "2026-11-30", "fee_cents": 1}),
        // Scope is checked before the image is looked at: any body will do.
        ("put", "/api/v1/persons/{id}/face") => json!({}),
        ("post", "/api/v1/booth-calls/{id}/deny") => json!({"message": "x"}),
        ("post", "/api/v1/parking-sessions/{id}/payments") => json!({"method": "cash", "amount_cents": 100}),
        ("put", "/api/v1/communities/{id}/parking-tariff") => {
            json!({"free_minutes": 0, "day_start_minute": 420,
            "night_start_minute": 1140, "day_rate_cents_per_hour": 1, "night_rate_cents_per_hour": 1,
            "daily_cap_cents": 0, "billing_unit_minutes": 60})
        }
        ("post", "/api/v1/visitors") => {
            json!({"house_id": b.house, "name": "访客", "valid_from": "2026-11-01T08:00:00+08:00",
            "valid_until": "2026-11-01T20:00:00+08:00"})
        }
        ("post", "/api/v1/persons/{id}/credentials") => json!({"kind": "pin", "value": "4321"}),
        ("post", "/api/v1/persons") => {
            json!({"community_id": b.community, "name": "x", "gender": "male", "id_type": "passport",
            "id_number": "E12345678", "population_type": "floating"})
        }
        ("put", "/api/v1/persons/{id}/houses") => json!({"house_id": b.house, "role": "family"}),
        ("post", "/api/v1/vehicles") => {
            json!({"community_id": b.community, "plate_number": "鲁C99999", "plate_color": "blue"})
        }
        ("post", "/api/v1/devices") => {
            json!({"code": "37032300001320009999", "kind": "alarm_button", "protocol": "mqtt", "community_id": b.community})
        }
        ("post", "/api/v1/devices/{id}/assign") => json!({"community_id": b.community}),
        ("put", "/api/v1/devices/{id}/accepts") => json!({"accepts": ["face"]}),
        ("put", "/api/v1/devices/{id}/config") => json!({"heartbeat_secs": 30}),
        ("post", "/api/v1/programme/projects") => json!({"community_id": b.community, "planned_year": 2026}),
        ("post", "/api/v1/programme/projects/{id}/stages") => json!({"stage": "designed"}),
        ("post", "/api/v1/programme/projects/{id}/funding") => {
            json!({"source": "county_finance", "kind": "planned", "amount_fen": 100})
        }
        ("put", "/api/v1/programme/projects/{id}/award") => json!({"status": "approved"}),
        ("put", "/api/v1/programme/acceptances/{id}/items/{code}") => json!({"note": "not mine"}),
        ("post", "/api/v1/programme/acceptances/{id}/signoffs") => json!({"decision": "approve"}),
        ("put", "/api/v1/programme/settings/targets") => json!({"items": []}),
        ("put", "/api/v1/programme/settings/award-formula") => {
            json!({"modes": [], "base_fen": 0, "per_place_fen": 0,
            "share_bp": 0, "share_of": [], "on_time_bonus_bp": 0, "cap_fen": 0})
        }
        ("put", "/api/v1/programme/settings/assessment-weights") => json!({"coverage": 1, "networking": 1,
            "alarm_sla": 1, "maintenance_sla": 1, "data_quality": 1}),
        ("put", "/api/v1/programme/settings/acceptance-rules") => {
            json!({"min_networked_pct": 50.0, "data_days": 3})
        }
        ("post", "/api/v1/programme/contractors") => json!({"name": "某维保公司", "sla_hours": 24}),
        ("post", "/api/v1/programme/tickets/{id}/resolve") => json!({"note": "not mine"}),
        ("post", "/api/v1/fees/items") => json!({"community_id": b.community, "name": "x", "kind": "fixed",
            "rate_fen": 1, "effective_from": "2026-01-01"}),
        ("post", "/api/v1/fees/items/{id}/prices") => json!({"effective_from": "2026-02-01", "rate_fen": 2}),
        ("put", "/api/v1/fees/items/{id}/active") => json!({"active": false}),
        ("put", "/api/v1/fees/settings") => json!({"cycle": "quarter"}),
        ("put", "/api/v1/fees/houses/{id}/terms") => json!({"billable_from": "2026-01-01"}),
        ("post", "/api/v1/fees/subscriptions") => {
            json!({"item_id": b.fee_item, "house_id": b.house, "label": "x",
            "start_on": "2026-01-01"})
        }
        ("post", "/api/v1/fees/discounts") => {
            json!({"house_id": b.house, "off_bp": 100, "start_on": "2026-01-01",
            "reason": "not mine"})
        }
        ("post", "/api/v1/fees/readings") => json!({"item_id": b.fee_item, "period": "2026-11", "units": 1}),
        ("post", "/api/v1/fees/bills/generate") => json!({"community_id": b.community, "period": "2026-12"}),
        ("post", "/api/v1/fees/bills/{id}/adjustments") => json!({"amount_fen": 1, "reason": "not mine"}),
        ("post", "/api/v1/fees/payments") => json!({"house_id": b.house, "method": "cash", "amount_fen": 1}),
        ("post", "/api/v1/fees/payments/{id}/refunds") => json!({"amount_fen": 1, "reason": "not mine"}),
        ("post", "/api/v1/fees/orders") => json!({"house_id": b.house, "provider": "sim", "amount_fen": 1}),
        ("post", "/api/v1/fees/reminders") => json!({"community_id": b.community}),
        ("post", "/api/v1/fees/cash-book/close") => json!({"community_id": b.community}),
        _ => return None,
    };
    Some(body)
}

#[tokio::test]
async fn scope_matrix_every_operation_refuses_out_of_scope_callers() {
    // (The alarm of B is checked below: a property manager of A sees none of it.)
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let b = seed(&s, &admin, 2).await;
    let pm = user_token(&s, &admin, "pm_a", "property_manager", "community:370323001001").await;
    // The property manager works in A: a sanity check that refusals below are not blanket.
    s.ok(
        &pm,
        Method::GET,
        &format!("/api/v1/communities/{}", a.community),
        None,
    )
    .await;
    s.ok(
        &pm,
        Method::GET,
        &format!("/api/v1/persons/{}?reveal=true", a.person),
        None,
    )
    .await;
    let report_of_admin = {
        let bytes = excel::write_rows(
            SheetKind::Houses,
            &[BTreeMap::from([("building", "1".to_string())])],
        )
        .unwrap();
        let resp = s
            .http
            .post(format!(
                "{}/api/v1/import/houses?community_id={}",
                s.base, b.community
            ))
            .bearer_auth(&admin)
            .body(bytes)
            .send()
            .await
            .unwrap();
        let v: Value = resp.json().await.unwrap();
        v["report_id"].as_i64().expect("a failed row yields a report")
    };

    let parking_b = parking_session_in(&s, &admin, &b, "鲁C7G777").await;
    let booth_b = {
        let (booth, _) = gate_and_entry(&s, &admin, b.community, "37032300001320000598", "鲁C7G778").await;
        let event = anfang_app::access::DeviceEvent {
            event_id: "call-b".into(),
            at_ms: s.clock_now(),
            kind: anfang_app::access::DeviceEventKind::BoothCall {
                visitor_name: "访客".into(),
                id_number: None,
                house_ref: None,
            },
            body_json: "{}".into(),
            images: Vec::new(),
        };
        s.app.device_event(&booth, &event).await.unwrap();
        let calls = s.ok(&admin, Method::GET, "/api/v1/booth-calls", None).await;
        calls["items"][0]["id"].as_i64().unwrap()
    };
    let alarm_b = {
        // B's door terminal reports a forced door.
        let event = alarm_event("forced-b", s.clock_now(), "door_forced");
        s.app.device_event("37032300001320000002", &event).await.unwrap();
        let alarms = s.ok(&admin, Method::GET, "/api/v1/alarms", None).await;
        alarms["items"][0]["id"].as_i64().unwrap()
    };
    let route_b = {
        // B's patrol route over a checkpoint of B (named so that a leak would show).
        let checkpoint = s
            .ok(
                &admin,
                Method::POST,
                "/api/v1/devices",
                Some(
                    json!({"code": "37032300001350000597", "kind": "patrol_checkpoint", "protocol": "mqtt",
                    "community_id": b.community, "name": "小区2巡更点"}),
                ),
            )
            .await;
        s.ok(
            &admin,
            Method::POST,
            "/api/v1/patrol/routes",
            Some(json!({"community_id": b.community, "name": "小区2夜巡", "times": "1-7 22:00", "window_minutes": 30,
                "checkpoints": [{"device_id": checkpoint["device"]["id"], "offset_minutes": 0}]})),
        )
        .await["id"]
            .as_i64()
            .unwrap()
    };
    let warning_b = {
        // B's door counter reports three people through one opening.
        let event = anfang_app::access::DeviceEvent {
            event_id: "tail-b".into(),
            at_ms: s.clock_now(),
            kind: anfang_app::access::DeviceEventKind::Passages { passages: 3 },
            body_json: "{}".into(),
            images: Vec::new(),
        };
        s.app.device_event("37032300001320000002", &event).await.unwrap();
        let warnings = s.ok(&admin, Method::GET, "/api/v1/warnings", None).await;
        warnings["items"][0]["id"].as_i64().unwrap()
    };
    let channel_b = s
        .ok(
            &admin,
            Method::POST,
            "/api/v1/notify/channels",
            Some(
                json!({"name": "小区2值班", "channel": "webhook", "address": "https://b.example.cn/hook",
                "kinds": ["alarm", "warning"], "community_id": b.community}),
            ),
        )
        .await["channel"]["id"]
        .as_i64()
        .unwrap();
    let deny_b = s
        .ok(
            &admin,
            Method::POST,
            "/api/v1/deny-list",
            Some(json!({"person_id": b.person, "reason": "物业决定"})),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let pass_b = s
        .ok(
            &admin,
            Method::POST,
            "/api/v1/parking-passes",
            Some(
                json!({"community_id": b.community, "plate_number": "鲁C8P888", "holder_name": "月卡乙",
                "valid_from": "2026-11-01", "valid_until": "2026-11-30", "fee_cents": 30000}),
            ),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let record_b = s
        .ok(
            &admin,
            Method::GET,
            &format!("/api/v1/access-records?community_id={}", b.community),
            None,
        )
        .await["items"][0]["id"]
        .as_i64()
        .expect("the parking session in B left an access record");
    let project_b = s
        .ok(
            &admin,
            Method::POST,
            "/api/v1/programme/projects",
            Some(json!({"community_id": b.community, "planned_year": 2026})),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    for stage in ["designed", "tendered", "under_construction", "self_checked"] {
        s.ok(
            &admin,
            Method::POST,
            &format!("/api/v1/programme/projects/{project_b}/stages"),
            Some(json!({"stage": stage, "contractor": "某建设公司"})),
        )
        .await;
    }
    let acceptance_b = s
        .ok(
            &admin,
            Method::POST,
            &format!("/api/v1/programme/projects/{project_b}/acceptances"),
            None,
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let ticket_b = offline_ticket(&s, b.device, b.community, "小区2维保", 3_600_000).await;
    // B's fees, made by B's own property manager (administrators do not handle fees).
    let mut b = b;
    let pm_b = user_token(&s, &admin, "pm_b", "property_manager", "community:370323002001").await;
    b.fee_item = s
        .ok(
            &pm_b,
            Method::POST,
            "/api/v1/fees/items",
            Some(
                json!({"community_id": b.community, "name": "小区2物业费", "kind": "utility", "rate_fen": 100,
                "effective_from": "2026-01-01"}),
            ),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    s.ok(
        &pm_b,
        Method::POST,
        "/api/v1/fees/items",
        Some(
            json!({"community_id": b.community, "name": "小区2服务费", "kind": "fixed", "rate_fen": 5000,
            "effective_from": "2026-01-01"}),
        ),
    )
    .await;
    s.ok(
        &pm_b,
        Method::POST,
        "/api/v1/fees/bills/generate",
        Some(json!({"community_id": b.community, "period": "2026-11"})),
    )
    .await;
    let bill_b = s
        .ok(
            &pm_b,
            Method::GET,
            &format!("/api/v1/fees/bills?community_id={}", b.community),
            None,
        )
        .await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let payment_b = s
        .ok(
            &pm_b,
            Method::POST,
            "/api/v1/fees/payments",
            Some(json!({"house_id": b.house, "method": "cash", "amount_fen": 6000})),
        )
        .await["payment"]["id"]
        .as_i64()
        .unwrap();
    let order_b = s
        .ok(
            &pm_b,
            Method::POST,
            "/api/v1/fees/orders",
            Some(json!({"house_id": b.house, "provider": "sim", "amount_fen": 100})),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let b = b;
    let spec = s.ok(&admin, Method::GET, "/api/v1/openapi.json", None).await;
    // Operations that touch no community's data: logging in and out, reading oneself, and the
    // blank import template. Everything else must refuse.
    let exempt = [
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/logout"),
        ("get", "/api/v1/auth/me"),
        ("get", "/api/v1/import/template/{kind}"),
        // A stream that never ends: its filtering by scope and role is
        // `the_live_feed_shows_only_what_the_caller_may_see`.
        ("get", "/api/v1/live"),
        // The no-plate lane codes are public by design: the ticket is the driver's credential.
        ("post", "/api/v1/public/lanes/{code}/entry"),
        ("get", "/api/v1/public/lanes/{code}/tickets/{ticket}"),
        ("post", "/api/v1/public/lanes/{code}/tickets/{ticket}/exit"),
    ];
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if exempt.contains(&(method.as_str(), path.as_str())) {
                continue;
            }
            let id = match path.as_str() {
                p if p.starts_with("/api/v1/communities/") => b.community,
                p if p.starts_with("/api/v1/parking-sessions/") => parking_b,
                p if p.starts_with("/api/v1/booth-calls/") => booth_b,
                p if p.starts_with("/api/v1/deny-list/") => deny_b,
                p if p.starts_with("/api/v1/alarms/") => alarm_b,
                p if p.starts_with("/api/v1/patrol/routes/") => route_b,
                p if p.starts_with("/api/v1/warnings/") => warning_b,
                p if p.starts_with("/api/v1/notify/channels/") => channel_b,
                p if p.starts_with("/api/v1/access-records/") => record_b,
                p if p.starts_with("/api/v1/parking-passes/") => pass_b,
                p if p.starts_with("/api/v1/houses/") => b.house,
                p if p.starts_with("/api/v1/persons/") => b.person,
                p if p.starts_with("/api/v1/vehicles/") => b.vehicle,
                p if p.starts_with("/api/v1/devices/") => b.device,
                p if p.starts_with("/api/v1/import/reports/") => report_of_admin,
                p if p.starts_with("/api/v1/programme/projects/") => project_b,
                p if p.starts_with("/api/v1/programme/acceptances/") => acceptance_b,
                p if p.starts_with("/api/v1/programme/tickets/") => ticket_b,
                p if p.starts_with("/api/v1/fees/items/") => b.fee_item,
                p if p.starts_with("/api/v1/fees/houses/") => b.house,
                p if p.starts_with("/api/v1/fees/bills/") => bill_b,
                p if p.starts_with("/api/v1/fees/payments/") => payment_b,
                p if p.starts_with("/api/v1/fees/orders/") => order_b,
                p if p.contains("{id}") => {
                    panic!("{method} {path}: add its out-of-scope target to the scope matrix")
                }
                _ => 0,
            };
            let mut url = path
                .replace("{id}", &id.to_string())
                .replace("{kind}", "persons")
                .replace("{consent_id}", "1")
                .replace("{person_ref}", &b.person.to_string())
                .replace("{which}", "snapshot")
                .replace("{credential_id}", "1")
                .replace("{payment_id}", "1")
                .replace("{code}", "signage")
                .replace("{key}", "00ff")
                .replace("{provider}", "sim")
                .replace("{device_id}", &b.device.to_string());
            if path.starts_with("/api/v1/fees/exports/") {
                url = url.replace("{report}", "arrears");
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut query = Vec::new();
            if params.iter().any(|p| p["name"] == "community_id") {
                query.push(format!("community_id={}", b.community));
            }
            // District-wide reports and settings: the caller's district (its scope reaches
            // into it); what comes back must hold nothing of B.
            let district_wide = params.iter().any(|p| p["name"] == "district");
            if district_wide {
                query.push("district=370323".into());
            }
            // Live video is authenticated by a single-use ticket, not the bearer token.
            let ticketed = path.ends_with("/live");
            if ticketed {
                query.push("ticket=forged".into());
            }
            if params.iter().any(|p| p["name"] == "name" && p["in"] == "query") {
                query.push("name=photo.jpg".into());
            }
            // A trajectory names its subject: B's person, in B's community.
            if path == "/api/v1/trajectory" {
                query.push(format!("person_id={}", b.person));
            }
            if !query.is_empty() {
                url.push('?');
                url.push_str(&query.join("&"));
            }
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, body) = if op.get("requestBody").is_some() && path.ends_with("/import/{kind}") {
                let bytes = excel::template(SheetKind::Persons).unwrap();
                let resp = s
                    .http
                    .request(m.clone(), format!("{}{url}", s.base))
                    .bearer_auth(&pm)
                    .body(bytes)
                    .send()
                    .await
                    .unwrap();
                let st = resp.status();
                (st, resp.json::<Value>().await.unwrap_or(Value::Null))
            } else if path == "/api/v1/face-search" {
                // The body is a photo; a property manager may not search by face at all.
                let resp = s
                    .http
                    .request(m.clone(), format!("{}{url}", s.base))
                    .bearer_auth(&pm)
                    .header("content-type", "image/jpeg")
                    .body(vec![0xFF, 0xD8, 0xFF, 0xD9])
                    .send()
                    .await
                    .unwrap();
                let st = resp.status();
                (st, resp.json::<Value>().await.unwrap_or(Value::Null))
            } else if path.ends_with("/attachments") {
                let resp = s
                    .http
                    .request(m.clone(), format!("{}{url}", s.base))
                    .bearer_auth(&pm)
                    .header("content-type", "image/jpeg")
                    .body(vec![0xFF, 0xD8, 0xFF, 0xD9])
                    .send()
                    .await
                    .unwrap();
                let st = resp.status();
                (st, resp.json::<Value>().await.unwrap_or(Value::Null))
            } else if path == "/api/v1/device-push/events" {
                s.call(Some(&pm), m.clone(), &url, Some(json!({"v": 1}))).await
            } else if path.starts_with("/api/v1/fees/payment-callbacks/") {
                // A user's token is no provider's signature.
                let body = json!({"transaction_id": "T-pm", "order_no": "FO-b", "amount_fen": 100, "status": "paid"});
                s.call(Some(&pm), m.clone(), &url, Some(body)).await
            } else if op.get("requestBody").is_some() {
                let body = out_of_scope_body(method, path, &b).unwrap_or_else(|| {
                    panic!("{method} {path}: add an out-of-scope request body to the scope matrix")
                });
                s.call(Some(&pm), m.clone(), &url, Some(body)).await
            } else {
                s.call(Some(&pm), m.clone(), &url, None).await
            };
            // Device push is authenticated per device, and payment callbacks per provider, not per
            // user: a user's token is refused.
            let device_only = (path.starts_with("/api/v1/device-push/")
                || path.starts_with("/api/v1/fees/payment-callbacks/")
                || ticketed)
                && status == StatusCode::UNAUTHORIZED;
            let refused = status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND || device_only;
            // Lists without a filter answer 200 but must hold nothing of B.
            let unfiltered_list = status == StatusCode::OK
                && method == "get"
                && !url.contains('?')
                && body.get("items").is_some();
            let scoped_report = status == StatusCode::OK
                && method == "get"
                && (district_wide || (path.starts_with("/api/v1/programme/") && !path.contains('{')));
            if unfiltered_list || scoped_report {
                let text = body.to_string();
                assert!(
                    !text.contains("小区2") && !text.contains("街道2") && !text.contains("370323002"),
                    "{method} {url} leaked B: {text}"
                );
            } else {
                let shown: String = body.to_string().chars().take(300).collect();
                assert!(
                    refused,
                    "{method} {url} by an out-of-scope user answered {status}: {shown}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 88, "the matrix covered only {checked} operations");
    // Nothing was written by the refused calls.
    let persons = s
        .ok(
            &admin,
            Method::GET,
            &format!("/api/v1/persons?community_id={}", b.community),
            None,
        )
        .await;
    assert_eq!(persons["total"], 1);
}

fn alarm_event(id: &str, at_ms: i64, kind: &str) -> anfang_app::access::DeviceEvent {
    anfang_app::access::DeviceEvent {
        event_id: id.into(),
        at_ms,
        kind: anfang_app::access::DeviceEventKind::Alarm {
            kind: kind.into(),
            zone: Some("1".into()),
            severity: None,
        },
        body_json: "{}".into(),
        images: Vec::new(),
    }
}

#[tokio::test]
async fn alarms_are_listed_handled_and_counted_over_http() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let b = seed(&s, &admin, 2).await;
    let guard = user_token(&s, &admin, "guard_a", "guard", "community:370323001001").await;
    let resident = user_token(&s, &admin, "res_a", "resident", "community:370323001001").await;
    let now = s.clock_now();
    s.app
        .device_event("37032300001320000001", &alarm_event("f-1", now, "door_forced"))
        .await
        .unwrap();
    s.app
        .device_event("37032300001320000002", &alarm_event("f-2", now, "tamper"))
        .await
        .unwrap();
    // The guard of A sees A's alarm only.
    let list = s.ok(&guard, Method::GET, "/api/v1/alarms?open=true", None).await;
    assert_eq!(list["total"], 1, "{list}");
    let alarm = &list["items"][0];
    assert_eq!(alarm["kind"], "door_forced");
    assert_eq!(alarm["severity"], "critical");
    assert_eq!(alarm["community_id"], a.community);
    assert_eq!(alarm["device_id"], a.device);
    let id = alarm["id"].as_i64().unwrap();
    // A critical alarm is due for acknowledgement one minute after it was raised (the default
    // SLA), and the minute still runs.
    let raised = chrono::DateTime::parse_from_rfc3339(alarm["raised_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(alarm["ack_due_at"].as_str().unwrap()).unwrap();
    assert_eq!((due - raised).num_seconds(), 60, "{alarm}");
    assert!(alarm["within_sla"].is_null(), "{alarm}");
    let theirs = s
        .ok(&admin, Method::GET, "/api/v1/alarms?kind=device_tamper", None)
        .await;
    assert_eq!(theirs["items"][0]["community_id"], b.community);
    // Precise refusals: a resident may not read, an unknown action or state is a 400.
    let (status, _) = s.call(Some(&resident), Method::GET, "/api/v1/alarms", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, v) = s
        .call(
            Some(&guard),
            Method::POST,
            &format!("/api/v1/alarms/{id}/actions"),
            Some(json!({"action": "ignore"})),
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_alarm_action"))
    );
    let (status, v) = s
        .call(Some(&guard), Method::GET, "/api/v1/alarms?state=lost", None)
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_alarm_state"))
    );
    // Acknowledge, resolve, then nothing more (409).
    let acked = s
        .ok(
            &guard,
            Method::POST,
            &format!("/api/v1/alarms/{id}/actions"),
            Some(json!({"action": "acknowledge", "note": "看到了"})),
        )
        .await;
    assert_eq!(acked["state"], "acknowledged");
    assert_eq!(acked["acknowledged_by"], "user:guard_a");
    assert_eq!(acked["within_sla"], true, "acknowledged at once: {acked}");
    s.ok(
        &guard,
        Method::POST,
        &format!("/api/v1/alarms/{id}/actions"),
        Some(json!({"action": "resolve", "note": "门已关好"})),
    )
    .await;
    let (status, v) = s
        .call(
            Some(&guard),
            Method::POST,
            &format!("/api/v1/alarms/{id}/actions"),
            Some(json!({"action": "dispatch", "dispatched_to": "x"})),
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("alarm_closed"))
    );
    let detail = s
        .ok(&guard, Method::GET, &format!("/api/v1/alarms/{id}"), None)
        .await;
    let actions: Vec<&str> = detail["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["raise", "acknowledge", "resolve"]);
    let stats = s
        .ok(
            &guard,
            Method::GET,
            &format!("/api/v1/alarms/stats?community_id={}", a.community),
            None,
        )
        .await;
    assert_eq!(
        (stats["total"].as_i64(), stats["resolved"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(stats["by_kind"]["door_forced"], 1);
    let (status, _) = s
        .call(
            Some(&guard),
            Method::GET,
            &format!("/api/v1/alarms/stats?community_id={}", b.community),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn watch_lists_are_police_only_and_every_read_is_audited() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    seed(&s, &admin, 1).await;
    let scope = "community:370323001001";
    let police = user_token(&s, &admin, "police_a", "community_police", scope).await;
    let officer = user_token(&s, &admin, "officer", "station_officer", "district").await;
    let mut refused = vec![("district_admin", admin.clone())];
    for (name, role) in [
        ("pm_a", "property_manager"),
        ("guard_a", "guard"),
        ("grid_a", "grid_worker"),
        ("res_a", "resident"),
    ] {
        refused.push((role, user_token(&s, &admin, name, role, scope).await));
    }
    refused.push((
        "street_officer",
        user_token(&s, &admin, "street_a", "street_officer", "street:370323001").await,
    ));
    refused.push((
        "political_legal",
        user_token(&s, &admin, "plc", "political_legal", "district").await,
    ));
    // Property staff, administrators, grid workers, residents, street and committee users see
    // neither the lists, nor their entries, nor their hits, nor strangers, nor search by face.
    for (role, token) in &refused {
        for path in ["/api/v1/watch-entries", "/api/v1/watch-hits", "/api/v1/strangers"] {
            let (status, v) = s.call(Some(token), Method::GET, path, None).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} GET {path}: {v}");
        }
        let resp = s
            .http
            .post(format!("{}/api/v1/face-search", s.base))
            .bearer_auth(token)
            .header("content-type", "image/jpeg")
            .body(vec![0xFF, 0xD8, 0xFF, 0xD9])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{role} POST /face-search");
    }
    // Police roles read them, and every read is in the audit log with who read.
    for token in [&police, &officer] {
        s.ok(token, Method::GET, "/api/v1/watch-entries", None).await;
        s.ok(token, Method::GET, "/api/v1/watch-hits", None).await;
    }
    let audit = s
        .ok(&admin, Method::GET, "/api/v1/audit?page_size=200", None)
        .await;
    let reads: Vec<(String, String)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("watchlist.")))
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for who in ["user:police_a", "user:officer"] {
        for action in ["watchlist.read", "watchlist.hits_read"] {
            assert!(
                reads.contains(&(who.to_string(), action.to_string())),
                "{who} {action} not audited: {reads:?}"
            );
        }
    }
    // Refused calls leave no read in the log.
    assert_eq!(reads.len(), 4, "{reads:?}");

    // A plate on the watch-list passes a camera of A: a warning to be confirmed, for the police.
    {
        let mut tx = s.app.store().write().await.unwrap();
        tx.upsert_watch_entry(&anfang_app::store::WatchEntryRow {
            id: 0,
            source: "viid:police".into(),
            external_id: "D-1".into(),
            category: "motor_vehicle".into(),
            plate: Some("鲁C12345".into()),
            title: "涉案车辆".into(),
            status: "active".into(),
            begin_at: 0,
            end_at: i64::MAX,
            body: "{}".into(),
            image_keys: "[]".into(),
            created_at: 0,
            updated_at: 0,
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    s.app
        .ingest_captures(
            "37032300001320000001",
            &[anfang_app::captures::NewCapture {
                kind: "motor_vehicle",
                camera_code: None,
                record_id: "v-1".into(),
                shot_at_ms: None,
                plate: Some("鲁C12345".into()),
                event: None,
                attributes_json: "{}".into(),
                images: Vec::new(),
                content_hash: "c1".into(),
            }],
        )
        .await
        .unwrap();
    let warnings = s.ok(&police, Method::GET, "/api/v1/warnings", None).await;
    assert_eq!(warnings["total"], 1, "{warnings}");
    let hit = &warnings["items"][0];
    assert_eq!(
        (hit["kind"].as_str(), hit["state"].as_str()),
        (Some("watch_hit"), Some("to_confirm"))
    );
    assert_eq!(hit["audience"], "police");
    let id = hit["id"].as_i64().unwrap();
    // Nobody else sees the hit: not in their lists, not by its id.
    for (role, token) in &refused {
        let (status, v) = s.call(Some(token), Method::GET, "/api/v1/warnings", None).await;
        assert!(
            status == StatusCode::FORBIDDEN || (status == StatusCode::OK && v["total"] == 0),
            "{role} GET /warnings: {status} {v}"
        );
        let (status, _) = s
            .call(Some(token), Method::GET, &format!("/api/v1/warnings/{id}"), None)
            .await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{role} GET /warnings/{id}: {status}"
        );
        let (status, _) = s
            .call(
                Some(token),
                Method::POST,
                &format!("/api/v1/warnings/{id}/actions"),
                Some(json!({"action": "reject"})),
            )
            .await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{role} rejects: {status}"
        );
    }
    // The police officer confirms the match: the hit follows, and the step is audited per hit.
    let confirmed = s
        .ok(
            &police,
            Method::POST,
            &format!("/api/v1/warnings/{id}/actions"),
            Some(json!({"action": "confirm", "note": "核实车辆外观一致"})),
        )
        .await;
    assert_eq!(confirmed["state"], "confirmed");
    let hit_id = confirmed["watch_hit_id"].as_i64().unwrap();
    let hits = s.ok(&police, Method::GET, "/api/v1/watch-hits", None).await;
    assert_eq!(hits["items"][0]["state"], "confirmed", "{hits}");
    let (status, v) = s
        .call(
            Some(&police),
            Method::POST,
            &format!("/api/v1/warnings/{id}/actions"),
            Some(json!({"action": "reject"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(v["error"]["code"], "invalid_warning_transition");
    let audit = s
        .ok(&admin, Method::GET, "/api/v1/audit?page_size=200", None)
        .await;
    let entries = audit["items"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "watchlist.hit_confirm"
        && e["actor"] == "user:police_a"
        && e["target"] == format!("watch_hit:{hit_id}")));
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "warning.read" && e["actor"] == "user:police_a")
    );
}

#[tokio::test]
async fn bad_input_gets_precise_errors_and_writes_nothing() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let police = user_token(&s, &admin, "police", "community_police", "district").await;
    let base = json!({"community_id": a.community, "name": "张三", "gender": "male", "id_type": "resident_id",
        "id_number": "370323199001011235", "population_type": "registered"});
    let (status, v) = s
        .call(Some(&police), Method::POST, "/api/v1/persons", Some(base.clone()))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(
        (v["error"]["code"].as_str(), v["error"]["field"].as_str()),
        (Some("invalid_id_number"), Some("id_number"))
    );
    let mut plate = json!({"community_id": a.community, "plate_number": "鲁CI2345", "plate_color": "blue"});
    let (status, v) = s
        .call(
            Some(&police),
            Method::POST,
            "/api/v1/vehicles",
            Some(plate.clone()),
        )
        .await;
    assert_eq!(
        (status, v["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("plate_number")),
        "{v}"
    );
    plate["plate_color"] = json!("purple");
    plate["plate_number"] = json!("鲁C12346");
    let (status, v) = s
        .call(Some(&police), Method::POST, "/api/v1/vehicles", Some(plate))
        .await;
    assert_eq!(
        (status, v["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("plate_color")),
        "{v}"
    );
    // Malformed JSON, wrong type, unknown field, missing field.
    let resp = s
        .http
        .post(format!("{}/api/v1/persons", s.base))
        .bearer_auth(&police)
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"]["code"],
        "malformed_json"
    );
    let mut wrong = base.clone();
    wrong["community_id"] = json!("one");
    let (status, v) = s
        .call(Some(&police), Method::POST, "/api/v1/persons", Some(wrong))
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_body")),
        "{v}"
    );
    let mut unknown = base.clone();
    unknown["shoe_size"] = json!(42);
    let (status, _) = s
        .call(Some(&police), Method::POST, "/api/v1/persons", Some(unknown))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, v) = s
        .call(
            Some(&police),
            Method::POST,
            "/api/v1/persons",
            Some(json!({"community_id": a.community})),
        )
        .await;
    assert_eq!(
        (status, v["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("name")),
        "{v}"
    );
    // Oversized body, bad path and query values.
    let huge = format!(
        "{{\"name\":\"{}\"}}",
        "x".repeat(anfang_api::JSON_BODY_LIMIT + 10)
    );
    let resp = s
        .http
        .post(format!("{}/api/v1/persons", s.base))
        .bearer_auth(&police)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (status, v) = s
        .call(Some(&police), Method::GET, "/api/v1/persons/abc", None)
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_path"))
    );
    let (status, _) = s
        .call(Some(&police), Method::GET, "/api/v1/persons?page=0", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = s
        .call(Some(&police), Method::GET, "/api/v1/persons?page_size=5000", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = s
        .call(Some(&police), Method::GET, "/api/v1/persons?community_id=x", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A person whose relation fails validation is not half-created.
    let mut bad_lease = base.clone();
    bad_lease["id_number"] = json!(resident_id("37032319800101001"));
    bad_lease["house_id"] = json!(a.house);
    bad_lease["role"] = json!("tenant");
    let (status, v) = s
        .call(
            Some(&police),
            Method::POST,
            "/api/v1/persons",
            Some(bad_lease.clone()),
        )
        .await;
    assert_eq!(
        (status, v["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("lease_end")),
        "{v}"
    );
    let persons = s
        .ok(
            &police,
            Method::GET,
            &format!("/api/v1/persons?community_id={}", a.community),
            None,
        )
        .await;
    assert_eq!(persons["total"], 1, "nothing was written by failed requests");
    // Duplicate ID number → 409.
    bad_lease["role"] = json!("owner");
    s.ok(&police, Method::POST, "/api/v1/persons", Some(bad_lease.clone()))
        .await;
    let (status, v) = s
        .call(Some(&police), Method::POST, "/api/v1/persons", Some(bad_lease))
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("duplicate_id_number"))
    );
    // Rejections are counted.
    let metrics = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("anfang_http_rejected_total{reason=\"malformed_json\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("reason=\"payload_too_large\""));
}

#[tokio::test]
async fn login_lockout_masking_reveal_audit_and_logout() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let (status, _) = s
        .call(
            None,
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"username": "admin", "password": "admin"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "admin/admin never works");
    let created = s
        .ok(
            &admin,
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": "grid1", "role": "grid_worker", "scope": "community:370323001001"})),
        )
        .await;
    let password = created["password"].as_str().unwrap().to_string();
    for attempt in 1..=5 {
        let (status, v) = s
            .call(
                None,
                Method::POST,
                "/api/v1/auth/login",
                Some(json!({"username": "grid1", "password": "wrong"})),
            )
            .await;
        let expected = if attempt < 5 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(status, expected, "attempt {attempt}: {v}");
    }
    let (status, v) = s
        .call(
            None,
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"username": "grid1", "password": password})),
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("account_locked")),
        "even the right password waits"
    );
    s.clock.advance_ms(16 * 60 * 1000);
    let grid = s.login("grid1", &password).await;
    // Masked by default; revealed on request for this role, and the reveal is audited.
    let persons = s.ok(&grid, Method::GET, "/api/v1/persons", None).await;
    let masked = persons["items"][0]["id_number"].as_str().unwrap();
    assert!(
        masked.starts_with("370323") && masked.contains("********"),
        "{masked}"
    );
    assert!(persons["items"][0]["phone"].as_str().unwrap().contains("****"));
    let revealed = s
        .ok(
            &grid,
            Method::GET,
            &format!("/api/v1/persons/{}?reveal=true", a.person),
            None,
        )
        .await;
    assert_eq!(revealed["id_number"].as_str().unwrap().len(), 18);
    assert_eq!(revealed["revealed"], true);
    let (status, _) = s
        .call(
            Some(&admin),
            Method::GET,
            &format!("/api/v1/persons/{}?reveal=true", a.person),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an administrator manages, but does not read personal numbers"
    );
    let by_id = s
        .ok(
            &grid,
            Method::GET,
            &format!(
                "/api/v1/persons?id_number={}",
                revealed["id_number"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(by_id["total"], 1, "exact lookup through the blind index");
    let audit = s
        .ok(&admin, Method::GET, "/api/v1/audit?page_size=200", None)
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"person.reveal") && actions.contains(&"auth.login_failed"),
        "{actions:?}"
    );
    let verify = s.ok(&admin, Method::GET, "/api/v1/audit/verify", None).await;
    assert_eq!(verify["ok"], true, "{verify}");
    let (status, _) = s.call(Some(&grid), Method::GET, "/api/v1/audit", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Logout ends the session.
    let resp = s
        .http
        .post(format!("{}/api/v1/auth/logout", s.base))
        .bearer_auth(&grid)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (status, _) = s.call(Some(&grid), Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Sessions expire.
    s.clock.advance_ms(13 * 3600 * 1000);
    let (status, _) = s.call(Some(&admin), Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn import_commits_valid_rows_reports_bad_ones_and_reimports_as_updates() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let police = user_token(&s, &admin, "police", "community_police", "community:370323001001").await;
    let row = |name: &str, id: &str, house: &str| {
        BTreeMap::from([
            ("name", name.to_string()),
            ("gender", "女".to_string()),
            ("id_type", "居民身份证".to_string()),
            ("id_number", id.to_string()),
            ("population_type", "户籍".to_string()),
            ("building", "1".to_string()),
            ("unit", "1".to_string()),
            ("house", house.to_string()),
            ("role", "家属".to_string()),
            ("tags", "独居老人,残疾人".to_string()),
        ])
    };
    let rows = vec![
        row("王演示", &resident_id("37032319500101001"), "101"),
        row("李演示", "370323195001010012", "101"),
        row("赵演示", &resident_id("37032319600101002"), "999"),
        row("孙演示", &resident_id("37032319700101003"), "101"),
    ];
    let bytes = excel::write_rows(SheetKind::Persons, &rows).unwrap();
    let url = format!("{}/api/v1/import/persons?community_id={}", s.base, a.community);
    let v: Value = s
        .http
        .post(&url)
        .bearer_auth(&police)
        .body(bytes.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["total"].as_u64(), v["created"].as_u64(), v["failed"].as_u64()),
        (Some(4), Some(2), Some(2)),
        "{v}"
    );
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(
        (errors[0]["row"].as_u64(), errors[0]["field"].as_str()),
        (Some(3), Some("id_number")),
        "{v}"
    );
    assert_eq!(
        (errors[1]["row"].as_u64(), errors[1]["code"].as_str()),
        (Some(4), Some("unknown_house")),
        "{v}"
    );
    let report = s
        .http
        .get(format!("{}/api/v1/import/reports/{}", s.base, v["report_id"]))
        .bearer_auth(&police)
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), StatusCode::OK);
    assert_eq!(&report.bytes().await.unwrap()[..2], b"PK", "an .xlsx file");
    let again: Value = s
        .http
        .post(&url)
        .bearer_auth(&police)
        .body(bytes)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["created"].as_u64(), again["updated"].as_u64()),
        (Some(0), Some(2)),
        "re-import updates: {again}"
    );
    let persons = s
        .ok(
            &police,
            Method::GET,
            &format!("/api/v1/persons?community_id={}&page_size=50", a.community),
            None,
        )
        .await;
    assert_eq!(persons["total"], 3);
    let wang = persons["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "王演示")
        .unwrap();
    assert_eq!(wang["tags"], json!(["独居老人", "残疾人"]));
    // Garbage is a precise 400, and export round-trips through import.
    let resp = s
        .http
        .post(&url)
        .bearer_auth(&police)
        .body(b"not a spreadsheet".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let export = s
        .http
        .get(format!(
            "{}/api/v1/export/persons?community_id={}",
            s.base, a.community
        ))
        .bearer_auth(&police)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), StatusCode::OK);
    let exported = export.bytes().await.unwrap().to_vec();
    let (rows, errors) = excel::read_rows(SheetKind::Persons, &exported).unwrap();
    assert!(errors.is_empty());
    assert_eq!(rows.len(), 3);
    let round: Value = s
        .http
        .post(&url)
        .bearer_auth(&police)
        .body(exported)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (round["updated"].as_u64(), round["failed"].as_u64()),
        (Some(3), Some(0)),
        "{round}"
    );
}

#[tokio::test]
async fn docs_health_and_metrics_are_served() {
    let s = Server::start().await;
    let health = s.http.get(format!("{}/healthz", s.base)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let docs = s.http.get(format!("{}/api/docs/", s.base)).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let js = s
        .http
        .get(format!("{}/api/docs/swagger-ui-bundle.js", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        js.status(),
        StatusCode::OK,
        "Swagger UI assets are embedded, not fetched"
    );
    let spec: Value = s
        .http
        .get(format!("{}/api/v1/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let (status, v) = s.call(None, Method::GET, "/api/v1/nope", None).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("no_such_route"))
    );
    let (status, v) = s.call(None, Method::GET, "/api/v1/persons", None).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
}

#[tokio::test]
async fn access_decisions_consent_credentials_and_idempotent_device_events() {
    use anfang_app::access::{AckStatus, DeviceEvent, DeviceEventKind, Presented};
    use anfang_domain::access::{Outcome, Reason};
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let pm = user_token(&s, &admin, "pm_a", "property_manager", "community:370323001001").await;
    let door = s
        .ok(&pm, Method::POST, "/api/v1/places", Some(json!({"community_id": a.community, "kind": "unit_door", "name": "1号楼1单元门", "x": 5.0, "y": 5.0, "unit_id": a.unit})))
        .await;
    let terminal = s
        .ok(
            &pm,
            Method::POST,
            "/api/v1/devices",
            Some(
                json!({"code": "37032300001320000101", "kind": "face_door_terminal", "protocol": "http_push",
            "community_id": a.community, "place_id": door["id"]}),
            ),
        )
        .await;
    let code = terminal["device"]["code"].as_str().unwrap().to_string();
    let mut n = 0;
    let mut present = |presented: Presented| {
        n += 1;
        DeviceEvent {
            event_id: format!("e{n}"),
            at_ms: START_MS,
            kind: DeviceEventKind::Credential {
                presented,
                decided_locally: None,
            },
            body_json: "{}".into(),
            images: Vec::new(),
        }
    };
    // The seeded person is a tenant of 1-1-101 with a lease for 2026.
    s.ok(
        &pm,
        Method::POST,
        &format!("/api/v1/persons/{}/credentials", a.person),
        Some(json!({"kind": "card", "value": "00AB12FF"})),
    )
    .await;
    let (status, v) = s
        .call(
            Some(&pm),
            Method::POST,
            &format!("/api/v1/persons/{}/credentials", a.person),
            Some(json!({"kind": "card", "value": "00ab12ff"})),
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("credential_in_use"))
    );
    let (status, v) = s
        .call(
            Some(&pm),
            Method::POST,
            &format!("/api/v1/persons/{}/credentials", a.person),
            Some(json!({"kind": "pin", "value": "12"})),
        )
        .await;
    assert_eq!(
        (status, v["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("value"))
    );
    let card = present(Presented::Card("00ab12ff".into()));
    let answer = s.app.device_event(&code, &card).await.unwrap();
    assert_eq!(
        answer.decision.map(|d| (d.outcome, d.reason)),
        Some((Outcome::Open, Reason::TenantLease))
    );
    let again = s.app.device_event(&code, &card).await.unwrap();
    assert_eq!(again.status, AckStatus::Duplicate);
    assert_eq!(
        again.decision, answer.decision,
        "a repeated id gets the first answer"
    );
    // Faces need a consent, and stop opening when it is revoked.
    let face = || Presented::Face {
        person_ref: a.person.to_string(),
    };
    let d = s
        .app
        .device_event(&code, &present(face()))
        .await
        .unwrap()
        .decision
        .unwrap();
    assert_eq!(d.reason, Reason::NoFaceConsent);
    let consent = s
        .ok(
            &pm,
            Method::POST,
            &format!("/api/v1/persons/{}/consents", a.person),
            Some(json!({"given_by": "self"})),
        )
        .await;
    assert_eq!(
        s.app
            .device_event(&code, &present(face()))
            .await
            .unwrap()
            .decision
            .unwrap()
            .outcome,
        Outcome::Open
    );
    let resp = s
        .http
        .delete(format!(
            "{}/api/v1/persons/{}/consents/{}",
            s.base, a.person, consent["id"]
        ))
        .bearer_auth(&pm)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        s.app
            .device_event(&code, &present(face()))
            .await
            .unwrap()
            .decision
            .unwrap()
            .reason,
        Reason::NoFaceConsent
    );
    // A dynamic QR code opens until it expires; a forged one opens nothing.
    let qr = s
        .ok(
            &pm,
            Method::POST,
            &format!("/api/v1/persons/{}/qr", a.person),
            None,
        )
        .await;
    let payload = qr["payload"].as_str().unwrap().to_string();
    assert_eq!(
        s.app
            .device_event(&code, &present(Presented::Qr(payload.clone())))
            .await
            .unwrap()
            .decision
            .unwrap()
            .outcome,
        Outcome::Open
    );
    let forged = payload.replacen(
        &format!("AQR1.{}.", a.person),
        &format!("AQR1.{}.", a.person + 1),
        1,
    );
    assert_eq!(
        s.app
            .device_event(&code, &present(Presented::Qr(forged)))
            .await
            .unwrap()
            .decision
            .unwrap()
            .reason,
        Reason::UnknownCredential
    );
    s.clock.advance_ms(6 * 60 * 1000);
    assert_eq!(
        s.app
            .device_event(&code, &present(Presented::Qr(payload)))
            .await
            .unwrap()
            .decision
            .unwrap()
            .reason,
        Reason::CredentialInvalid
    );
    assert_eq!(
        s.app
            .device_event(&code, &present(Presented::Pin("9999".into())))
            .await
            .unwrap()
            .decision
            .unwrap()
            .reason,
        Reason::UnknownCredential
    );
    // Every decision is a record, filterable, in scope only.
    let records = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/access-records?community_id={}&page_size=50", a.community),
            None,
        )
        .await;
    assert_eq!(records["total"], 8, "{records}");
    assert_eq!(records["items"][0]["reason"], "unknown_credential");
    let denied = s
        .ok(&pm, Method::GET, "/api/v1/access-records?outcome=deny", None)
        .await;
    assert_eq!(denied["total"], 5);
    // Under-14s need a guardian's consent.
    let child = s
        .ok(&pm, Method::POST, "/api/v1/persons", Some(json!({"community_id": a.community, "name": "小明", "gender": "male", "id_type": "resident_id",
            "id_number": resident_id("37032320180101001"), "population_type": "registered"})))
        .await;
    let (status, v) = s
        .call(
            Some(&pm),
            Method::POST,
            &format!("/api/v1/persons/{}/consents", child["id"]),
            Some(json!({"given_by": "self"})),
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("guardian_consent_required"))
    );
    s.ok(
        &pm,
        Method::POST,
        &format!("/api/v1/persons/{}/consents", child["id"]),
        Some(json!({"given_by": "guardian", "guardian_name": "小明的母亲"})),
    )
    .await;
    // After the lease ends the same card is refused, with nobody doing anything.
    s.clock.set_ms(START_MS + 70 * 24 * 3600 * 1000);
    let d = s
        .app
        .device_event(&code, &present(Presented::Card("00AB12FF".into())))
        .await
        .unwrap()
        .decision
        .unwrap();
    assert_eq!((d.outcome, d.reason), (Outcome::Deny, Reason::LeaseEnded));
}

#[tokio::test]
async fn visitor_passes_open_within_their_window_and_house_only() {
    use anfang_app::access::{DeviceEvent, DeviceEventKind, Presented};
    use anfang_domain::access::{Outcome, Reason};
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let pm = user_token(&s, &admin, "pm_a", "property_manager", "community:370323001001").await;
    let other_unit = s
        .ok(
            &pm,
            Method::POST,
            "/api/v1/units",
            Some(json!({"building_id": a.building, "number": "2"})),
        )
        .await;
    let mut devices = Vec::new();
    for (n, (kind, unit)) in [
        ("pedestrian_entrance", None),
        ("unit_door", Some(a.unit)),
        ("unit_door", other_unit["id"].as_i64()),
    ]
    .iter()
    .enumerate()
    {
        let place = s
            .ok(&pm, Method::POST, "/api/v1/places", Some(json!({"community_id": a.community, "kind": kind, "name": format!("门{n}"), "x": 1.0, "y": 1.0, "unit_id": unit})))
            .await;
        let device = s
            .ok(
                &pm,
                Method::POST,
                "/api/v1/devices",
                Some(
                    json!({"code": format!("3703230000132000020{n}"), "kind": "face_door_terminal",
                "protocol": "mqtt", "community_id": a.community, "place_id": place["id"]}),
                ),
            )
            .await;
        devices.push(device["device"]["code"].as_str().unwrap().to_string());
    }
    let resident = user_token(&s, &admin, "res_a", "resident", &format!("house:{}", a.house)).await;
    // 2026-11-01 08:00–20:00 in UTC+8; the clock stands at 08:00 that day.
    let window = json!({"house_id": a.house, "name": "王访客", "phone": "13900001111", "plate_number": "鲁C5A678",
        "valid_from": "2026-11-01T08:00:00+08:00", "valid_until": "2026-11-01T20:00:00+08:00"});
    let created = s
        .ok(&resident, Method::POST, "/api/v1/visitors", Some(window.clone()))
        .await;
    let qr = created["qr_payload"].as_str().unwrap().to_string();
    assert!(qr.starts_with("AVP1."));
    let mut other = window.clone();
    other["house_id"] = json!(a.house + 999);
    let (status, _) = s
        .call(Some(&resident), Method::POST, "/api/v1/visitors", Some(other))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a resident invites only to their own house"
    );
    let mut too_long = window.clone();
    too_long["valid_until"] = json!("2026-11-20T20:00:00+08:00");
    let (status, v) = s
        .call(Some(&resident), Method::POST, "/api/v1/visitors", Some(too_long))
        .await;
    assert_eq!(
        (status, v["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("valid_until"))
    );
    let mut n = 0;
    let mut try_at = async |code: &str, payload: &str| {
        n += 1;
        let event = DeviceEvent {
            event_id: format!("v{n}"),
            at_ms: START_MS,
            kind: DeviceEventKind::Credential {
                presented: Presented::Qr(payload.to_string()),
                decided_locally: None,
            },
            body_json: "{}".into(),
            images: Vec::new(),
        };
        s.app.device_event(code, &event).await.unwrap().decision.unwrap()
    };
    s.clock.set_ms(START_MS + 3600 * 1000); // 2026-11-01 09:00 in UTC+8
    assert_eq!(
        try_at(&devices[0], &qr).await.reason,
        Reason::VisitorPass,
        "the entrance opens"
    );
    assert_eq!(
        try_at(&devices[1], &qr).await.outcome,
        Outcome::Open,
        "the visited unit's door opens"
    );
    assert_eq!(
        try_at(&devices[2], &qr).await.reason,
        Reason::NotAuthorisedHere,
        "another unit's door does not"
    );
    assert_eq!(
        try_at(&devices[0], "AVP1.forged").await.reason,
        Reason::UnknownCredential
    );
    let listed = s.ok(&resident, Method::GET, "/api/v1/visitors", None).await;
    assert_eq!(listed["total"], 1);
    s.clock.set_ms(START_MS + 13 * 3600 * 1000); // 21:00, after the window
    assert_eq!(try_at(&devices[0], &qr).await.reason, Reason::CredentialInvalid);
}

#[tokio::test]
async fn http_push_authenticates_devices_and_answers_with_commands() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let pm = user_token(&s, &admin, "pm_a", "property_manager", "community:370323001001").await;
    let gate = s.ok(&pm, Method::POST, "/api/v1/places", Some(json!({"community_id": a.community, "kind": "pedestrian_entrance", "name": "南门", "x": 1.0, "y": 1.0}))).await;
    let created = s
        .ok(
            &pm,
            Method::POST,
            "/api/v1/devices",
            Some(
                json!({"code": "37032300001320000301", "kind": "face_door_terminal", "protocol": "http_push",
            "community_id": a.community, "place_id": gate["id"]}),
            ),
        )
        .await;
    let code = created["device"]["code"].as_str().unwrap().to_string();
    let secret = created["secret"].as_str().unwrap().to_string();
    s.ok(
        &pm,
        Method::POST,
        &format!("/api/v1/persons/{}/credentials", a.person),
        Some(json!({"kind": "card", "value": "CAFE0001"})),
    )
    .await;
    let server = &s;
    let push = |body: String, secret: String, timestamp: i64, code: String| async move {
        Ok::<_, std::convert::Infallible>(server.push(&code, &secret, timestamp, body).await)
    };
    let message = |id: &str, body: Value| {
        json!({"v": 1, "id": id, "type": body["type"], "at": "2026-11-01T08:00:00+08:00", "device": code, "body": body["body"]}).to_string()
    };
    let card = message(
        "c-1",
        json!({"type": "credential", "body": {"kind": "card", "value": "CAFE0001"}}),
    );
    let resp = push(card.clone(), secret.clone(), START_MS, code.clone())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ack: Value = resp.json().await.unwrap();
    assert_eq!(
        (ack["status"].as_str(), ack["event_id"].as_str()),
        (Some("stored"), Some("c-1")),
        "{ack}"
    );
    assert_eq!(
        (
            ack["command"]["action"].as_str(),
            ack["command"]["reason"].as_str()
        ),
        (Some("open"), Some("tenant_lease")),
        "{ack}"
    );
    let again: Value = push(card.clone(), secret.clone(), START_MS, code.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["status"].as_str(), again["command"]["action"].as_str()),
        (Some("duplicate"), Some("open"))
    );
    let unknown = message(
        "c-2",
        json!({"type": "credential", "body": {"kind": "card", "value": "BEEF0002"}}),
    );
    let denied: Value = push(unknown, secret.clone(), START_MS, code.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(denied["command"]["action"], "deny", "{denied}");
    let heartbeat = message(
        "h-1",
        json!({"type": "heartbeat", "body": {"firmware": "2.3.1", "library_version": 4}}),
    );
    assert_eq!(
        push(heartbeat, secret.clone(), START_MS, code.clone())
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let device = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/devices/{}", created["device"]["id"]),
            None,
        )
        .await;
    assert_eq!(device["code"], code.as_str());
    // Forged, stale, unknown and malformed messages are refused, counted and (forgeries) audited.
    let forged = push(card.clone(), "not-the-secret".into(), START_MS, code.clone())
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        forged.json::<Value>().await.unwrap()["error"]["code"],
        "bad_signature"
    );
    let stale = push(card.clone(), secret.clone(), START_MS - 3_600_000, code.clone())
        .await
        .unwrap();
    assert_eq!(
        stale.json::<Value>().await.unwrap()["error"]["code"],
        "stale_timestamp"
    );
    let stranger = push(
        card.clone(),
        secret.clone(),
        START_MS,
        "37032300001329999999".into(),
    )
    .await
    .unwrap();
    assert_eq!(
        stranger.json::<Value>().await.unwrap()["error"]["code"],
        "unknown_device"
    );
    let malformed = push(
        "{\"v\":1,\"id\":\"m-1\",\"type\":\"credential\"".into(),
        secret.clone(),
        START_MS,
        code.clone(),
    )
    .await
    .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let wrong_body = message("m-2", json!({"type": "credential", "body": {"kind": "laser"}}));
    let rejected = push(wrong_body, secret.clone(), START_MS, code.clone())
        .await
        .unwrap();
    assert_eq!(rejected.status(), StatusCode::BAD_REQUEST);
    let rejected: Value = rejected.json().await.unwrap();
    assert_eq!(
        (rejected["status"].as_str(), rejected["event_id"].as_str()),
        (Some("rejected"), Some("m-2")),
        "{rejected}"
    );
    let audit = s
        .ok(&admin, Method::GET, "/api/v1/audit?page_size=200", None)
        .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "device.auth_failed")
    );
    let metrics = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("anfang_device_rejected_total{reason=\"bad_signature\"}"),
        "{metrics}"
    );
    let records = s.ok(&pm, Method::GET, "/api/v1/access-records", None).await;
    assert_eq!(
        records["total"], 2,
        "one record per new credential event, none for the duplicate"
    );
}

#[tokio::test]
async fn terminals_receive_exactly_the_library_changes_they_missed() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let pm = user_token(&s, &admin, "pm_a", "property_manager", "community:370323001001").await;
    let door = s
        .ok(&pm, Method::POST, "/api/v1/places", Some(json!({"community_id": a.community, "kind": "unit_door", "name": "1单元门", "x": 1.0, "y": 1.0, "unit_id": a.unit})))
        .await;
    let created = s
        .ok(
            &pm,
            Method::POST,
            "/api/v1/devices",
            Some(
                json!({"code": "37032300001320000401", "kind": "face_door_terminal", "protocol": "http_push",
            "community_id": a.community, "place_id": door["id"]}),
            ),
        )
        .await;
    let code = created["device"]["code"].as_str().unwrap().to_string();
    let secret = created["secret"].as_str().unwrap().to_string();
    s.ok(
        &pm,
        Method::POST,
        &format!("/api/v1/persons/{}/credentials", a.person),
        Some(json!({"kind": "card", "value": "CAFE0001"})),
    )
    .await;
    let mut n = 0;
    let mut send = async |body_type: &str, body: Value| -> Value {
        n += 1;
        let message = json!({"v": 1, "id": format!("l-{n}"), "type": body_type, "at": "2026-11-01T08:00:00+08:00", "device": code, "body": body}).to_string();
        let resp = s.push(&code, &secret, START_MS, message).await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    };
    // A new terminal (version 0) gets the whole library: the tenant, their card, their lease.
    let ack = send("heartbeat", json!({"firmware": "1.0", "library_version": 0})).await;
    let sync = &ack["command"];
    assert_eq!(
        (sync["action"].as_str(), sync["from_version"].as_u64()),
        (Some("library_sync"), Some(0)),
        "{ack}"
    );
    let to = sync["to_version"].as_u64().unwrap();
    let entry = &sync["changes"][0];
    assert_eq!(entry["person_ref"], a.person.to_string());
    assert_eq!(
        entry["credentials"][0],
        json!({"kind": "card", "value": "CAFE0001"})
    );
    assert_eq!(
        entry["valid_until"], "2026-12-31T23:59:59+08:00",
        "the terminal enforces the lease end itself"
    );
    send("library_ack", json!({"version": to})).await;
    // Current: no command.
    let ack = send("heartbeat", json!({"firmware": "1.0", "library_version": to})).await;
    assert!(ack.get("command").is_none(), "{ack}");
    // A change while it was away arrives as exactly that change.
    s.ok(
        &pm,
        Method::POST,
        &format!("/api/v1/persons/{}/credentials", a.person),
        Some(json!({"kind": "pin", "value": "246810"})),
    )
    .await;
    let ack = send("heartbeat", json!({"firmware": "1.0", "library_version": to})).await;
    let sync = &ack["command"];
    assert_eq!(
        (sync["from_version"].as_u64(), sync["to_version"].as_u64()),
        (Some(to), Some(to + 1)),
        "{ack}"
    );
    assert_eq!(sync["changes"].as_array().unwrap().len(), 1);
    assert_eq!(sync["changes"][0]["credentials"].as_array().unwrap().len(), 2);
    // Moving the tenant to another unit removes them from this door's library.
    let other_unit = s
        .ok(
            &pm,
            Method::POST,
            "/api/v1/units",
            Some(json!({"building_id": a.building, "number": "2"})),
        )
        .await;
    let other_house = s
        .ok(&pm, Method::POST, "/api/v1/houses", Some(json!({"unit_id": other_unit["id"], "number": "201", "floor": 2, "area_m2": 60.0, "use": "rented"})))
        .await;
    s.ok(
        &pm,
        Method::PUT,
        &format!("/api/v1/persons/{}/houses", a.person),
        Some(json!({"house_id": other_house["id"], "role": "owner"})),
    )
    .await;
    let ack = send("heartbeat", json!({"firmware": "1.0", "library_version": to + 1})).await;
    // The person still has the old tenancy at unit 1 too (relations are per house), so the entry
    // stays an upsert; their owner relation elsewhere does not widen this door's window.
    assert_eq!(ack["command"]["changes"][0]["op"], "upsert", "{ack}");
    assert_eq!(
        ack["command"]["changes"][0]["valid_until"],
        "2026-12-31T23:59:59+08:00"
    );
}

#[tokio::test]
async fn cars_enter_pay_and_leave_through_the_gates() {
    use anfang_app::access::{DeviceEvent, DeviceEventKind};
    use anfang_domain::access::{Outcome, Reason};
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let pm = user_token(&s, &admin, "pm_a", "property_manager", "community:370323001001").await;
    let guard = user_token(&s, &admin, "guard_a", "guard", "community:370323001001").await;
    let tariff = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/communities/{}/parking-tariff", a.community),
            None,
        )
        .await;
    assert_eq!(tariff["free_minutes"], 15, "the default tariff");
    let mut strict = tariff.clone();
    strict["billing_unit_minutes"] = json!(0);
    let (status, v) = s
        .call(
            Some(&pm),
            Method::PUT,
            &format!("/api/v1/communities/{}/parking-tariff", a.community),
            Some(strict),
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_tariff"))
    );
    // 2026-11-01 08:00 local: an unknown car enters and gets a session.
    let (gate, session) = gate_and_entry(&s, &pm, a.community, "37032300001320000501", "鲁C8Q123").await;
    let mut n = 0;
    let mut read = async |plate: &str, confidence: f32, entering: bool| {
        n += 1;
        let event = DeviceEvent {
            event_id: format!("p{n}"),
            at_ms: s.clock_now(),
            kind: DeviceEventKind::Plate {
                plate: plate.into(),
                confidence,
                entering,
            },
            body_json: "{}".into(),
            images: Vec::new(),
        };
        s.app.device_event(&gate, &event).await.unwrap().decision.unwrap()
    };
    // The resident's registered car opens both ways.
    assert_eq!(read("鲁C12341", 0.99, true).await.reason, Reason::ResidentVehicle);
    // Two hours later the visitor car tries to leave, read with one wrong character.
    s.clock.advance_ms(2 * 3600 * 1000);
    let d = read("鲁C8Q128", 0.7, false).await;
    assert_eq!(
        (d.outcome, d.reason),
        (Outcome::Deny, Reason::FeeDue),
        "paired despite the misread, fee due"
    );
    let sessions = s
        .ok(
            &guard,
            Method::GET,
            &format!(
                "/api/v1/parking-sessions?community_id={}&kind=fee_due",
                a.community
            ),
            None,
        )
        .await;
    assert_eq!(
        sessions["items"][0]["due_cents"], 600,
        "2 h at 300 cents/h: {sessions}"
    );
    assert_eq!(sessions["items"][0]["due_yuan"], "6.00");
    let (status, _) = s
        .call(
            Some(&guard),
            Method::POST,
            &format!("/api/v1/parking-sessions/{session}/payments"),
            Some(json!({"method": "bitcoin"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let paid = s
        .ok(
            &guard,
            Method::POST,
            &format!("/api/v1/parking-sessions/{session}/payments"),
            Some(json!({"method": "cash"})),
        )
        .await;
    assert_eq!(
        (paid["paid_cents"].as_i64(), paid["due_cents"].as_i64()),
        (Some(600), Some(0))
    );
    let d = read("鲁C8Q123", 0.99, false).await;
    assert_eq!((d.outcome, d.reason), (Outcome::Open, Reason::ParkingSettled));
    let closed = s
        .ok(
            &guard,
            Method::GET,
            &format!(
                "/api/v1/parking-sessions?community_id={}&kind=closed",
                a.community
            ),
            None,
        )
        .await;
    assert_eq!(
        (closed["total"].as_i64(), closed["items"][0]["fee_cents"].as_i64()),
        (Some(1), Some(600))
    );
    // A car nobody saw enter is refused, for the booth to handle.
    assert_eq!(
        read("鲁C9Z999", 0.99, false).await.reason,
        Reason::NoParkingSession
    );
    // The visitor car's trajectory: in, then out, both at the gate, oldest first, audited.
    let gate_id = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/devices?community_id={}", a.community),
            None,
        )
        .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == gate.as_str())
        .unwrap()["id"]
        .clone();
    let path = format!("/api/v1/trajectory?community_id={}&plate=鲁C8Q123", a.community);
    let trajectory = s.ok(&guard, Method::GET, &path, None).await;
    let points = trajectory["points"].as_array().unwrap();
    let seen: Vec<(&str, &Value, &Value)> = points
        .iter()
        .map(|p| (p["source"].as_str().unwrap(), &p["device_id"], &p["record_id"]))
        .collect();
    assert_eq!(
        seen,
        [
            ("gate_in", &gate_id, &json!(session)),
            ("gate_out", &gate_id, &json!(session))
        ],
        "{trajectory}"
    );
    assert!(points[0]["at"].as_str() < points[1]["at"].as_str());
    let (status, v) = s
        .call(
            Some(&guard),
            Method::GET,
            &format!(
                "/api/v1/trajectory?community_id={}&plate=鲁C8Q123&person_id=1",
                a.community
            ),
            None,
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_subject"))
    );
    let audit = s
        .ok(&admin, Method::GET, "/api/v1/audit?page_size=200", None)
        .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "trajectory.read"
                && e["actor"] == "user:guard_a"
                && e["target"] == "plate:鲁C8Q123")
    );
    // A refund is recorded and audited.
    let resp = s
        .http
        .post(format!(
            "{}/api/v1/parking-sessions/{session}/payments/1/refund",
            s.base
        ))
        .bearer_auth(&guard)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let audit = s
        .ok(&admin, Method::GET, "/api/v1/audit?page_size=200", None)
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"parking.pay") && actions.contains(&"parking.refund"));
    // Every gate decision is an access record.
    let records = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/access-records?community_id={}&page_size=50", a.community),
            None,
        )
        .await;
    assert_eq!(records["total"], 5);
    // Cars inside too long are listed for the guard.
    gate_and_entry(&s, &pm, a.community, "37032300001320000502", "鲁C3K777").await;
    s.clock.advance_ms(2 * 3600 * 1000);
    let over = s
        .ok(
            &guard,
            Method::GET,
            &format!(
                "/api/v1/parking-sessions/overstays?community_id={}&hours=1",
                a.community
            ),
            None,
        )
        .await;
    assert_eq!(
        (over.as_array().unwrap().len(), over[0]["plate"].as_str()),
        (1, Some("鲁C3K777")),
        "{over}"
    );
}

#[tokio::test]
async fn booth_calls_ring_and_are_accepted_denied_or_escalated() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let guard = user_token(&s, &admin, "guard_a", "guard", "community:370323001001").await;
    let entrance = s
        .ok(&admin, Method::POST, "/api/v1/places", Some(json!({"community_id": a.community, "kind": "pedestrian_entrance", "name": "北门(无人值守)", "x": 1.0, "y": 1.0})))
        .await;
    let booth = s
        .ok(
            &admin,
            Method::POST,
            "/api/v1/devices",
            Some(
                json!({"code": "37032300001320000701", "kind": "smart_booth", "protocol": "http_push",
            "community_id": a.community, "place_id": entrance["id"]}),
            ),
        )
        .await;
    let code = booth["device"]["code"].as_str().unwrap().to_string();
    let secret = booth["secret"].as_str().unwrap().to_string();
    let mut n = 0;
    let mut send = async |body_type: &str, body: Value| -> Value {
        n += 1;
        let message = json!({"v": 1, "id": format!("b-{n}"), "type": body_type, "at": "2026-11-01T08:00:00+08:00", "device": code, "body": body}).to_string();
        let now = s.clock_now();
        let resp = s.push(&code, &secret, now, message).await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    };
    let call =
        json!({"house_ref": "1-1-101", "visitor": {"name": "李访客", "id_number": "370323199001011234"}});
    let heartbeat = json!({"firmware": "1.0", "library_version": 999});
    // Accepted: the gate opens with the booth's next ack.
    let ack = send("booth_call", call.clone()).await;
    assert!(
        ack.get("command").is_none(),
        "the call rings; nothing to do yet: {ack}"
    );
    let ringing = s
        .ok(&guard, Method::GET, "/api/v1/booth-calls?kind=ringing", None)
        .await;
    assert_eq!(
        (
            ringing["total"].as_i64(),
            ringing["items"][0]["visitor_name"].as_str()
        ),
        (Some(1), Some("李访客"))
    );
    let first = ringing["items"][0]["id"].as_i64().unwrap();
    let accepted = s
        .ok(
            &guard,
            Method::POST,
            &format!("/api/v1/booth-calls/{first}/accept"),
            None,
        )
        .await;
    assert_eq!(
        (accepted["status"].as_str(), accepted["answered_by"].as_str()),
        (Some("accepted"), Some("user:guard_a"))
    );
    let ack = send("heartbeat", heartbeat.clone()).await;
    assert_eq!(
        (
            ack["command"]["action"].as_str(),
            ack["command"]["reason"].as_str()
        ),
        (Some("open"), Some("booth_accepted")),
        "{ack}"
    );
    let (status, v) = s
        .call(
            Some(&guard),
            Method::POST,
            &format!("/api/v1/booth-calls/{first}/deny"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("call_not_ringing"))
    );
    // Denied.
    send("booth_call", call.clone()).await;
    let second = s
        .ok(&guard, Method::GET, "/api/v1/booth-calls?kind=ringing", None)
        .await["items"][0]["id"]
        .as_i64()
        .unwrap();
    s.ok(
        &guard,
        Method::POST,
        &format!("/api/v1/booth-calls/{second}/deny"),
        Some(json!({"message": "住户不认识此人"})),
    )
    .await;
    let ack = send("heartbeat", heartbeat.clone()).await;
    assert_eq!(ack["command"]["action"], "deny", "{ack}");
    // Unanswered: escalated after the timeout, the booth told.
    send("booth_call", call.clone()).await;
    assert_eq!(s.app.expire_booth_calls(60_000).await.unwrap(), 0, "not yet");
    s.clock.advance_ms(61_000);
    assert_eq!(s.app.expire_booth_calls(60_000).await.unwrap(), 1);
    let ack = send("heartbeat", heartbeat.clone()).await;
    assert_eq!(ack["command"]["message"], "无人应答，已转值班中心", "{ack}");
    let timed_out = s
        .ok(&guard, Method::GET, "/api/v1/booth-calls?kind=timed_out", None)
        .await;
    assert_eq!(timed_out["total"], 1);
    let records = s.ok(&guard, Method::GET, "/api/v1/booth-calls", None).await;
    assert_eq!(records["total"], 3);
    let access = s
        .ok(
            &admin,
            Method::GET,
            &format!("/api/v1/access-records?community_id={}", a.community),
            None,
        )
        .await;
    let reasons: Vec<&str> = access["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"booth_accepted")
            && reasons.contains(&"booth_denied")
            && reasons.contains(&"booth_unanswered"),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn access_control_inputs_are_checked_and_refusals_write_nothing() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let pm = user_token(&s, &admin, "pm_a", "property_manager", "community:370323001001").await;
    let refused = |status: StatusCode, v: &Value| {
        (
            status,
            v["error"]["code"].as_str().unwrap_or_default().to_string(),
            v["error"]["field"].as_str().unwrap_or_default().to_string(),
        )
    };
    // Parking passes: dates out of order, a bad plate, a negative fee.
    for (body, code, field) in [
        (
            json!({"community_id": a.community, "plate_number": "鲁C12345", "holder_name": "甲",
                "valid_from": "2026-12-01", "valid_until": "2026-11-01", "fee_cents": 100}),
            "invalid_date",
            "valid_until",
        ),
        (
            json!({"community_id": a.community, "plate_number": "鲁CI2345", "holder_name": "甲",
                "valid_from": "2026-11-01", "valid_until": "2026-11-30", "fee_cents": 100}),
            "invalid_plate_number",
            "plate_number",
        ),
        (
            json!({"community_id": a.community, "plate_number": "鲁C12345", "holder_name": "甲",
                "valid_from": "2026-11-01", "valid_until": "2026-11-30", "fee_cents": -1}),
            "invalid_value",
            "fee_cents",
        ),
    ] {
        let (status, v) = s
            .call(Some(&pm), Method::POST, "/api/v1/parking-passes", Some(body))
            .await;
        assert_eq!(
            refused(status, &v),
            (StatusCode::BAD_REQUEST, code.to_string(), field.to_string()),
            "{v}"
        );
    }
    let passes = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/parking-passes?community_id={}", a.community),
            None,
        )
        .await;
    assert_eq!(passes.as_array().map(Vec::len), Some(0), "nothing written");

    // Schedules: only staff have one, and it must read.
    let (status, v) = s
        .call(
            Some(&pm),
            Method::PUT,
            &format!("/api/v1/persons/{}/houses", a.person),
            Some(json!({"house_id": a.house, "role": "owner", "schedule": "1-5 07:00-19:00"})),
        )
        .await;
    assert_eq!(
        refused(status, &v),
        (StatusCode::BAD_REQUEST, "invalid_value".into(), "schedule".into()),
        "{v}"
    );
    let (status, v) = s
        .call(
            Some(&pm),
            Method::PUT,
            &format!("/api/v1/persons/{}/houses", a.person),
            Some(json!({"house_id": a.house, "role": "staff", "schedule": "weekdays"})),
        )
        .await;
    assert_eq!(
        refused(status, &v),
        (
            StatusCode::BAD_REQUEST,
            "invalid_schedule".into(),
            "schedule".into()
        ),
        "{v}"
    );
    let person = s
        .ok(&pm, Method::GET, &format!("/api/v1/persons/{}", a.person), None)
        .await;
    assert!(
        person["houses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["role"] != "staff"),
        "the refused relation was not written: {person}"
    );

    // The deny list: a reason is required, and a person is listed once.
    let deny = |reason: &str| json!({"person_id": a.person, "reason": reason});
    let (status, v) = s
        .call(Some(&pm), Method::POST, "/api/v1/deny-list", Some(deny(" ")))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    s.ok(&pm, Method::POST, "/api/v1/deny-list", Some(deny("欠费")))
        .await;
    let (status, v) = s
        .call(Some(&pm), Method::POST, "/api/v1/deny-list", Some(deny("again")))
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_deny_listed")),
        "{v}"
    );
    let listed = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/deny-list?community_id={}", a.community),
            None,
        )
        .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));

    // Devices: unknown credential kinds, a zero heartbeat.
    let (status, v) = s
        .call(
            Some(&admin),
            Method::PUT,
            &format!("/api/v1/devices/{}/accepts", a.device),
            Some(json!({"accepts": ["iris"]})),
        )
        .await;
    assert_eq!(
        refused(status, &v),
        (
            StatusCode::BAD_REQUEST,
            "invalid_credential_kind".into(),
            "accepts".into()
        ),
        "{v}"
    );
    let (status, v) = s
        .call(
            Some(&admin),
            Method::PUT,
            &format!("/api/v1/devices/{}/config", a.device),
            Some(json!({"heartbeat_secs": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    let device = s
        .ok(
            &admin,
            Method::GET,
            &format!("/api/v1/devices/{}", a.device),
            None,
        )
        .await;
    assert!(device["accepts"].is_null(), "nothing written: {device}");

    // A face photo without consent, and one that is not an image.
    let put_photo = |bytes: Vec<u8>| {
        s.http
            .put(format!("{}/api/v1/persons/{}/face", s.base, a.person))
            .bearer_auth(&pm)
            .body(bytes)
            .send()
    };
    let portrait = {
        let img = image::RgbImage::from_fn(300, 400, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 251) as u8])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    };
    let resp = put_photo(portrait).await.unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "consent_required", "no consent yet: {v}");
    s.ok(
        &pm,
        Method::POST,
        &format!("/api/v1/persons/{}/consents", a.person),
        Some(json!({"given_by": "self"})),
    )
    .await;
    let resp = put_photo(b"not an image".to_vec()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "unsupported_photo");
    let (status, _) = s
        .call(
            Some(&pm),
            Method::GET,
            &format!("/api/v1/persons/{}/face", a.person),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no photo was written");
}

/// Reads Server-Sent Events from `resp` until one named `kind` arrives (or 10 s pass), returning
/// every event read as (name, data).
async fn read_events(resp: &mut reqwest::Response, kind: &str) -> Vec<(String, Value)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("the awaited event arrives in time")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let mut name = String::new();
            let mut data = String::new();
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if name.is_empty() {
                continue;
            }
            let done = name == kind;
            events.push((name, serde_json::from_str(&data).unwrap_or(Value::Null)));
            if done {
                return events;
            }
        }
    }
}

#[tokio::test]
async fn the_live_feed_shows_only_what_the_caller_may_see() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let b = seed(&s, &admin, 2).await;
    let pm = user_token(&s, &admin, "pm_a", "property_manager", "community:370323001001").await;
    let resident = user_token(&s, &admin, "res_a", "resident", "community:370323001001").await;
    let (status, _) = s.call(Some(&resident), Method::GET, "/api/v1/live", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut stream = s
        .http
        .get(format!("{}/api/v1/live", s.base))
        .bearer_auth(&pm)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    // B's door is forced, then a card is refused at A's door, then A's door is forced.
    let card = |id: &str| anfang_app::access::DeviceEvent {
        event_id: id.into(),
        at_ms: s.clock_now(),
        kind: anfang_app::access::DeviceEventKind::Credential {
            presented: anfang_app::access::Presented::Card("DEADBEEF".into()),
            decided_locally: None,
        },
        body_json: "{}".into(),
        images: Vec::new(),
    };
    s.app
        .device_event(
            "37032300001320000002",
            &alarm_event("forced-b", s.clock_now(), "door_forced"),
        )
        .await
        .unwrap();
    s.app
        .device_event("37032300001320000001", &card("card-a"))
        .await
        .unwrap();
    s.app
        .device_event(
            "37032300001320000001",
            &alarm_event("forced-a", s.clock_now(), "door_forced"),
        )
        .await
        .unwrap();
    let events = read_events(&mut stream, "alarm").await;
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["access", "alarm"], "{events:?}");
    assert_eq!(events[0].1["outcome"], "deny");
    assert_eq!(events[0].1["community_id"], a.community);
    // The stored record's id and what the page needs, never the person's name.
    assert_eq!(events[0].1["credential"], "card");
    assert!(
        events[0].1["record_id"].as_i64().is_some_and(|id| id > 0),
        "{events:?}"
    );
    assert_eq!(events[0].1["identified"], false);
    assert_eq!(events[0].1["has_snapshot"], false);
    assert_eq!(events[1].1["kind"], "door_forced");
    assert_eq!(events[1].1["community_id"], a.community);
    assert!(events.iter().all(|(_, v)| v["community_id"] != b.community));
    // Acknowledging the alarm is live too.
    let id = events[1].1["id"].as_i64().unwrap();
    s.ok(
        &admin,
        Method::POST,
        &format!("/api/v1/alarms/{id}/actions"),
        Some(json!({"action": "acknowledge"})),
    )
    .await;
    let events = read_events(&mut stream, "alarm").await;
    assert_eq!(events.last().unwrap().1["state"], "acknowledged");
}

#[tokio::test]
async fn the_programme_runs_over_http_from_project_to_rejected_acceptance() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let police = user_token(
        &s,
        &admin,
        "police_a",
        "community_police",
        "community:370323001001",
    )
    .await;
    let pm = user_token(&s, &admin, "pm_a", "property_manager", "community:370323001001").await;

    // Targets are data: entered, read back, refused when malformed.
    let targets = json!({"items": [
        {"scope": "370323", "year": 2026, "segment": "all", "metric": "built", "percent": 100.0, "source": "沂源 §三"}
    ]});
    s.ok(
        &admin,
        Method::PUT,
        "/api/v1/programme/settings/targets?district=370323",
        Some(targets.clone()),
    )
    .await;
    let read = s
        .ok(
            &pm,
            Method::GET,
            "/api/v1/programme/settings/targets?district=370323",
            None,
        )
        .await;
    assert_eq!(read["items"], targets["items"]);
    let (status, bad) = s
        .call(
            Some(&admin),
            Method::PUT,
            "/api/v1/programme/settings/targets?district=370323",
            Some(json!({"items": [{"scope": "370323", "year": 2026, "segment": "colour:red", "metric": "built", "percent": 50.0}]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["field"], "targets[0].segment", "{bad}");
    let (status, bad) = s
        .call(
            Some(&admin),
            Method::GET,
            "/api/v1/programme/summary?district=37",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["code"], "invalid_district");
    // A property manager reads the programme but does not run it.
    let (status, _) = s
        .call(
            Some(&pm),
            Method::POST,
            "/api/v1/programme/projects",
            Some(json!({"community_id": a.community, "planned_year": 2026})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let project = s
        .ok(
            &admin,
            Method::POST,
            "/api/v1/programme/projects",
            Some(json!({"community_id": a.community, "planned_year": 2026, "note": "列入2026年计划"})),
        )
        .await;
    let pid = project["id"].as_i64().unwrap();
    assert_eq!(project["community"]["stage"], "planned");
    assert_eq!(project["community"]["funding_mode"], "property_fund");
    // Existing closed: its kit needs the unit door, the registered entrance and more; the seed
    // has one door terminal without a place, so the compliance lists what is missing where.
    let community = &project["community"];
    assert!(!community["kit_complete"].as_bool().unwrap());
    let gaps: Vec<&str> = community["needs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| !n["met"].as_bool().unwrap())
        .map(|n| n["place"].as_str().unwrap())
        .collect();
    assert!(gaps.contains(&"南门"), "{community}");
    assert_eq!(community["total"]["installed"], 1);
    assert_eq!(community["total"]["networked"], 0);
    assert_eq!(community["total"]["networked_pct"], 0.0);

    // Skipping a stage, or jumping into acceptance by hand, is refused.
    let (status, bad) = s
        .call(
            Some(&admin),
            Method::POST,
            &format!("/api/v1/programme/projects/{pid}/stages"),
            Some(json!({"stage": "tendered"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{bad}");
    for stage in ["designed", "tendered", "under_construction", "self_checked"] {
        s.ok(
            &admin,
            Method::POST,
            &format!("/api/v1/programme/projects/{pid}/stages"),
            Some(json!({"stage": stage, "contractor": "沂源安防工程公司"})),
        )
        .await;
    }
    let detail = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/programme/projects/{pid}"),
            None,
        )
        .await;
    let stages: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "planned",
            "designed",
            "tendered",
            "under_construction",
            "self_checked"
        ]
    );
    assert_eq!(detail["community"]["contractor"], "沂源安防工程公司");

    // The task table and the summary show the same community, computed.
    let tasks = s
        .ok(
            &admin,
            Method::GET,
            "/api/v1/programme/tasks?district=370323",
            None,
        )
        .await;
    let row = &tasks["items"][0];
    assert_eq!(row["community"], "小区1");
    assert_eq!(row["stage"], "self_checked");
    assert_eq!(row["stage_label"], "已自检");
    assert_eq!(row["required"], community["required"]);
    assert_eq!(row["met"], community["met"]);
    let summary = s
        .ok(
            &admin,
            Method::GET,
            "/api/v1/programme/summary?district=370323",
            None,
        )
        .await;
    assert_eq!(summary["communities"], 1);
    assert_eq!(summary["by_stage"]["self_checked"], 1);
    assert_eq!(summary["kit_complete"], 0);
    assert_eq!(summary["total"]["installed"], 1);
    assert_eq!(summary["acceptances"], json!({"none": 1}));
    let progress = s
        .ok(
            &admin,
            Method::GET,
            "/api/v1/programme/progress?district=370323",
            None,
        )
        .await;
    let district_2026 = progress["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["level"] == "district" && r["year"] == 2026 && r["segment"] == "all" && r["metric"] == "built"
        })
        .unwrap_or_else(|| panic!("{progress}"));
    assert_eq!(district_2026["target_pct"], 100.0);
    assert_eq!(district_2026["planned"], 1);
    assert_eq!(district_2026["reached"], 0);
    assert_eq!(district_2026["short_of_target"], 1);
    // The workbooks hold the very rows of the JSON reports.
    let sheet = xlsx_rows(&s, &admin, "/api/v1/programme/exports/tasks?district=370323").await;
    assert_eq!(sheet.len(), 2 + 1, "title, header, one community");
    assert_eq!(sheet[1][0], "街道");
    assert_eq!(sheet[2][0], "街道1");
    assert_eq!(sheet[2][1], row["code"].as_str().unwrap());
    assert_eq!(sheet[2][2], "小区1");
    assert!(sheet[2].contains(&"已自检".to_string()), "{:?}", sheet[2]);
    assert!(sheet[2].contains(&row["required"].to_string()), "{:?}", sheet[2]);
    let sheet = xlsx_rows(&s, &admin, "/api/v1/programme/exports/progress?district=370323").await;
    assert_eq!(sheet.len(), 2 + progress["items"].as_array().unwrap().len());
    let (status, bad) = s
        .call(
            Some(&admin),
            Method::GET,
            "/api/v1/programme/exports/progress",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    let (status, _) = s
        .call(
            Some(&admin),
            Method::GET,
            "/api/v1/programme/exports/budget?district=370323",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let net = s
        .ok(&admin, Method::GET, "/api/v1/programme/networking?days=3", None)
        .await;
    assert_eq!(net["items"][0]["level"], "district");
    assert_eq!(net["items"][0]["classes"]["access"]["installed"], 1);
    let (status, _) = s
        .call(
            Some(&admin),
            Method::GET,
            "/api/v1/programme/networking?days=0",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Acceptance: the live checks fail (kit missing, nothing networked); evidence is uploaded,
    // then the verdict; the police reject and the project goes back to self-checked.
    let acceptance = s
        .ok(
            &admin,
            Method::POST,
            &format!("/api/v1/programme/projects/{pid}/acceptances"),
            None,
        )
        .await;
    let aid = acceptance["id"].as_i64().unwrap();
    let kit = acceptance["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "kit_complete")
        .unwrap();
    assert_eq!(kit["passed"], false);
    let (status, bad) = s
        .call(
            Some(&police),
            Method::PUT,
            &format!("/api/v1/programme/acceptances/{aid}/items/signage"),
            Some(json!({"passed": true})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["code"], "attachment_required");
    let photo = vec![0xFF, 0xD8, 0xFF, 0xE0, 9, 8, 7];
    let upload = |content_type: &'static str, body: Vec<u8>| {
        s.http
            .post(format!(
                "{}/api/v1/programme/acceptances/{aid}/items/signage/attachments?name=%E6%A0%87%E8%AF%86.jpg",
                s.base
            ))
            .bearer_auth(&police)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let resp = upload("image/gif", photo.clone()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = upload("image/jpeg", photo.clone()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let view: Value = resp.json().await.unwrap();
    let signage = &view["items"][0];
    assert_eq!(signage["code"], "signage");
    assert_eq!(signage["attachments"][0]["name"], "标识.jpg");
    let url = signage["attachments"][0]["url"].as_str().unwrap().to_string();
    let view = s
        .ok(
            &police,
            Method::PUT,
            &format!("/api/v1/programme/acceptances/{aid}/items/signage"),
            Some(json!({"passed": true, "note": "出入口已设提示标识"})),
        )
        .await;
    assert_eq!(view["items"][0]["passed"], true);
    let got = s
        .http
        .get(format!("{}{url}", s.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "image/jpeg");
    assert_eq!(got.bytes().await.unwrap().to_vec(), photo);
    // The property manager may read the acceptance but not sign it.
    let (status, _) = s
        .call(
            Some(&pm),
            Method::POST,
            &format!("/api/v1/programme/acceptances/{aid}/signoffs"),
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s
        .call(
            Some(&police),
            Method::POST,
            &format!("/api/v1/programme/acceptances/{aid}/signoffs"),
            Some(json!({"decision": "maybe"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let rejected = s
        .ok(
            &police,
            Method::POST,
            &format!("/api/v1/programme/acceptances/{aid}/signoffs"),
            Some(json!({"decision": "reject", "note": "南门未装人脸识别"})),
        )
        .await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["signoffs"][0]["party"], "public_security");
    let detail = s
        .ok(
            &admin,
            Method::GET,
            &format!("/api/v1/programme/projects/{pid}"),
            None,
        )
        .await;
    assert_eq!(detail["community"]["stage"], "self_checked");
    let listed = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/programme/projects/{pid}/acceptances"),
            None,
        )
        .await;
    assert_eq!(listed["items"][0]["id"], aid);

    // Funding: lines per source, no award before acceptance.
    let funding = s
        .ok(
            &admin,
            Method::POST,
            &format!("/api/v1/programme/projects/{pid}/funding"),
            Some(json!({"source": "property_company", "kind": "actual", "amount_fen": 1_200_000, "note": "凭证 2026-118"})),
        )
        .await;
    assert_eq!(funding["actual"]["property_company"], 1_200_000);
    assert!(funding["award"].is_null());
    let (status, _) = s
        .call(
            Some(&admin),
            Method::PUT,
            &format!("/api/v1/programme/projects/{pid}/award"),
            Some(json!({"status": "paid"})),
        )
        .await;
    // No award before acceptance.
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The dashboard's summary adds up the acceptances, the ledgers and the awards.
    let summary = s
        .ok(
            &admin,
            Method::GET,
            "/api/v1/programme/summary?district=370323",
            None,
        )
        .await;
    assert_eq!(summary["acceptances"], json!({"rejected": 1}), "{summary}");
    assert_eq!(summary["funding_actual_fen"], 1_200_000);
    assert_eq!(summary["funding_planned_fen"], 0);
    assert_eq!(summary["awards"], json!({}));
    assert_eq!(summary["online"], 0, "the seed's terminal was never heard from");

    // Settings round trips; the award formula's sources are checked.
    let formula = s
        .ok(
            &admin,
            Method::GET,
            "/api/v1/programme/settings/award-formula?district=370323",
            None,
        )
        .await;
    assert_eq!(formula["base_fen"], 2_000_000);
    let mut changed = formula.clone();
    changed["share_of"] = json!(["property_company", "lottery"]);
    let (status, bad) = s
        .call(
            Some(&admin),
            Method::PUT,
            "/api/v1/programme/settings/award-formula?district=370323",
            Some(changed),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["field"], "share_of");
    let weights =
        json!({"coverage": 40, "networking": 30, "alarm_sla": 10, "maintenance_sla": 10, "data_quality": 10});
    s.ok(
        &admin,
        Method::PUT,
        "/api/v1/programme/settings/assessment-weights?district=370323",
        Some(weights.clone()),
    )
    .await;
    let read = s
        .ok(
            &pm,
            Method::GET,
            "/api/v1/programme/settings/assessment-weights?district=370323",
            None,
        )
        .await;
    assert_eq!(read, weights);
    let month = s
        .ok(
            &admin,
            Method::GET,
            "/api/v1/programme/assessment?district=370323&month=2026-11",
            None,
        )
        .await;
    let street = &month["items"][0];
    let sheet = xlsx_rows(
        &s,
        &admin,
        "/api/v1/programme/exports/assessment?district=370323&month=2026-11",
    )
    .await;
    assert_eq!(sheet.len(), 3);
    assert_eq!(sheet[2][0], "370323001");
    assert_eq!(sheet[2][2], "2026-11");
    assert_eq!(street["street_code"], "370323001");
    assert_eq!(street["communities"], 1);
    assert_eq!(street["built"], 0);
    assert_eq!(street["coverage"], 0.0);
    let (status, _) = s
        .call(
            Some(&admin),
            Method::GET,
            "/api/v1/programme/assessment?district=370323&month=2026-13",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Contractors and tickets: a ticket is closed by hand with what was repaired.
    s.ok(
        &admin,
        Method::POST,
        "/api/v1/programme/contractors",
        Some(json!({"name": "沂源维保", "sla_hours": 24, "contact": "0533-3200000"})),
    )
    .await;
    let ticket = offline_ticket(&s, a.device, a.community, "沂源维保", 24 * 3_600_000).await;
    let open = s
        .ok(&pm, Method::GET, "/api/v1/programme/tickets?open=true", None)
        .await;
    assert_eq!(open["items"][0]["id"], ticket);
    s.clock.advance_ms(2 * 3_600_000);
    let done = s
        .ok(
            &admin,
            Method::POST,
            &format!("/api/v1/programme/tickets/{ticket}/resolve"),
            Some(json!({"note": "更换电源适配器"})),
        )
        .await;
    assert!(done["resolved_at"].is_string());
    let stats = s
        .ok(&admin, Method::GET, "/api/v1/programme/maintenance", None)
        .await;
    assert_eq!(stats["items"][0]["contractor"], "沂源维保");
    assert_eq!(stats["items"][0]["repaired"], 1);
    assert_eq!(stats["items"][0]["breaches"], 0);
    assert_eq!(stats["items"][0]["mean_repair_hours"], 2.0);
}

/// A workbook from `path`, read back as rows of cell texts.
async fn xlsx_rows(s: &Server, token: &str, path: &str) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let resp = s
        .http
        .get(format!("{}{path}", s.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''"),
        "{path}"
    );
    let bytes = resp.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// Posts a payment provider's callback signed with `secret` at `timestamp` (ms), as a provider
/// would; returns the status and body.
async fn provider_callback(s: &Server, secret: &[u8], timestamp: i64, body: &Value) -> (StatusCode, Value) {
    let body = body.to_string();
    let signature = anfang_protocol::sign(secret, timestamp, body.as_bytes());
    let resp = s
        .http
        .post(format!("{}/api/v1/fees/payment-callbacks/sim", s.base))
        .header(anfang_protocol::HEADER_TIMESTAMP, timestamp.to_string())
        .header(anfang_protocol::HEADER_SIGNATURE, signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn property_fees_over_http_bills_payments_a_simulated_provider_and_the_day_end_lock() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let scope = "community:370323001001";
    let pm = user_token(&s, &admin, "pm_a", "property_manager", scope).await;
    let cashier = user_token(&s, &admin, "cashier_a", "cashier", scope).await;
    let resident = user_token(&s, &admin, "res_a", "resident", &format!("house:{}", a.house)).await;
    let police = user_token(&s, &admin, "police_a", "community_police", scope).await;
    let c = a.community;
    // Fee items: management by area and use; bad input answered precisely.
    let item = s
        .ok(&pm, Method::POST, "/api/v1/fees/items", Some(json!({"community_id": c, "name": "物业管理费",
            "kind": "property_management", "rate_fen": 150, "use_rates": {"commercial": 300}, "effective_from": "2026-01-01"})))
        .await;
    assert_eq!(item["prices"][0]["use_rates"]["commercial"], 300);
    for (body, code) in [
        (
            json!({"community_id": c, "name": "x", "kind": "fixed", "rate_fen": -1, "effective_from": "2026-01-01"}),
            "invalid_price",
        ),
        (
            json!({"community_id": c, "name": "x", "kind": "tax", "rate_fen": 1, "effective_from": "2026-01-01"}),
            "invalid_fee_kind",
        ),
        (
            json!({"community_id": c, "name": "x", "kind": "fixed", "rate_fen": 1, "effective_from": "2026-13-01"}),
            "invalid_date",
        ),
        (
            json!({"community_id": c, "name": "x", "kind": "fixed", "rate_fen": 1, "effective_from": "2026-01-01", "vat": 1}),
            "invalid_body",
        ),
    ] {
        let (status, v) = s
            .call(Some(&pm), Method::POST, "/api/v1/fees/items", Some(body))
            .await;
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{v}"
        );
    }
    let (status, _) = s
        .call(
            Some(&police),
            Method::GET,
            &format!("/api/v1/fees/items?community_id={c}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the police do not see fees");
    // Bills for October and November (88.5 m² × 1.50), made once however often asked.
    for period in ["2026-10", "2026-11"] {
        let made = s
            .ok(
                &pm,
                Method::POST,
                "/api/v1/fees/bills/generate",
                Some(json!({"community_id": c, "period": period})),
            )
            .await;
        assert_eq!(made["created"], 1);
        let again = s
            .ok(
                &pm,
                Method::POST,
                "/api/v1/fees/bills/generate",
                Some(json!({"community_id": c, "period": period})),
            )
            .await;
        assert_eq!(
            (again["created"].as_i64(), again["existing"].as_i64()),
            (Some(0), Some(1))
        );
    }
    let bills = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/fees/bills?community_id={c}&open=true"),
            None,
        )
        .await;
    assert_eq!(bills["total"], 2);
    assert_eq!(bills["items"][0]["amount_fen"], 13_275);
    let october = bills["items"][0]["id"].as_i64().unwrap();
    let detail = s
        .ok(
            &resident,
            Method::GET,
            &format!("/api/v1/fees/bills/{october}"),
            None,
        )
        .await;
    assert_eq!(detail["lines"][0]["kind"], "property_management");
    // October is a day overdue on 1 November.
    let arrears = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/fees/arrears?community_id={c}"),
            None,
        )
        .await;
    assert_eq!(arrears["totals"]["1_30"], 13_275);
    assert_eq!(arrears["totals"]["not_due"], 13_275);
    // A partial payment at the counter pays October, then part of November.
    let receipt = s
        .ok(
            &cashier,
            Method::POST,
            "/api/v1/fees/payments",
            Some(json!({"house_id": a.house, "method": "cash", "amount_fen": 20_000})),
        )
        .await;
    assert_eq!(receipt["payment"]["receipt_no"], "370323001001-2026-000001");
    assert_eq!(receipt["lines"][0]["period"], "2026-10");
    assert_eq!(receipt["lines"][1]["amount_fen"], 6_725);
    // The resident pays the rest online; the simulated provider confirms, twice.
    let order = s
        .ok(
            &resident,
            Method::POST,
            "/api/v1/fees/orders",
            Some(json!({"house_id": a.house, "provider": "sim"})),
        )
        .await;
    assert_eq!(order["amount_fen"], 6_550);
    let paid = json!({"transaction_id": "SIM-0001", "order_no": order["order_no"], "amount_fen": 6_550, "status": "paid"});
    let now = s.clock_now();
    let (status, first) = provider_callback(&s, SIM_SECRET, now, &paid).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        (first["receipt_no"].as_str(), first["replay"].as_bool()),
        (Some("370323001001-2026-000002"), Some(false))
    );
    for _ in 0..2 {
        let (status, again) = provider_callback(&s, SIM_SECRET, now, &paid).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (again["receipt_no"].clone(), again["replay"].as_bool()),
            (first["receipt_no"].clone(), Some(true))
        );
    }
    // A forged signature, a stale one and an unknown provider are refused and counted.
    let (status, forged) = provider_callback(
        &s,
        b"guessed-secret",
        now,
        &json!({"transaction_id": "SIM-0002",
        "order_no": order["order_no"], "amount_fen": 1, "status": "paid"}),
    )
    .await;
    assert_eq!(
        (status, forged["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_signature"))
    );
    let (status, stale) = provider_callback(&s, SIM_SECRET, now - 10 * 60_000, &paid).await;
    assert_eq!(
        (status, stale["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("stale_timestamp"))
    );
    let (status, _) = s
        .call(
            None,
            Method::POST,
            "/api/v1/fees/payment-callbacks/paypal",
            Some(paid.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let metrics = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("anfang_payment_callbacks_rejected_total{reason=\"bad_signature\"}")),
        "{metrics}"
    );
    let account = s
        .ok(
            &resident,
            Method::GET,
            &format!("/api/v1/fees/houses/{}", a.house),
            None,
        )
        .await;
    assert_eq!(
        (
            account["outstanding_fen"].as_i64(),
            account["payments"].as_array().map(Vec::len)
        ),
        (Some(0), Some(2))
    );
    // A wrong amount is refused and records nothing.
    let ahead = s
        .ok(
            &resident,
            Method::POST,
            "/api/v1/fees/orders",
            Some(json!({"house_id": a.house, "provider": "sim", "amount_fen": 5_000})),
        )
        .await;
    let short = json!({"transaction_id": "SIM-0003", "order_no": ahead["order_no"], "amount_fen": 4_000, "status": "paid"});
    let (status, v) = provider_callback(&s, SIM_SECRET, now, &short).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("amount_mismatch"))
    );
    // Over-payment: the rest is the house's balance, and a refund gives it back.
    let over = s
        .ok(
            &cashier,
            Method::POST,
            "/api/v1/fees/payments",
            Some(json!({"house_id": a.house, "method": "transfer",
            "amount_fen": 3_000, "reference": "ICBC-778"})),
        )
        .await;
    assert_eq!(over["to_balance_fen"], 3_000);
    let over_id = over["payment"]["id"].as_i64().unwrap();
    let (status, _) = s
        .call(
            Some(&cashier),
            Method::POST,
            &format!("/api/v1/fees/payments/{over_id}/refunds"),
            Some(json!({"amount_fen": 3_000, "reason": "多缴"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "refunds are the manager's");
    let refunded = s
        .ok(
            &pm,
            Method::POST,
            &format!("/api/v1/fees/payments/{over_id}/refunds"),
            Some(json!({"amount_fen": 3_000, "reason": "多缴退回"})),
        )
        .await;
    assert_eq!(
        (
            refunded["payment"]["refunded_fen"].as_i64(),
            refunded["to_balance_fen"].as_i64()
        ),
        (Some(3_000), Some(0))
    );
    // Parking income reads the parking module's own money.
    s.ok(&pm, Method::POST, "/api/v1/parking-passes", Some(json!({"community_id": c, "plate_number": "鲁C8P801",
        "holder_name": "月卡甲", "valid_from": "2026-11-01", "valid_until": "2026-11-30", "fee_cents": 30_000})))
        .await;
    let (_, session) = gate_and_entry(&s, &admin, c, "37032300001320000501", "鲁C7T701").await;
    s.ok(
        &pm,
        Method::POST,
        &format!("/api/v1/parking-sessions/{session}/payments"),
        Some(json!({"method": "cash", "amount_cents": 500})),
    )
    .await;
    let income = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/fees/reports/parking-income?community_id={c}&year=2026"),
            None,
        )
        .await;
    let november = &income["items"][10];
    assert_eq!(
        (
            november["month"].as_str(),
            november["passes_fen"].as_i64(),
            november["temporary_fen"].as_i64()
        ),
        (Some("2026-11"), Some(30_000), Some(500))
    );
    let collection = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/fees/reports/collection?community_id={c}&year=2026"),
            None,
        )
        .await;
    let whole_october = collection["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["month"] == "2026-10" && r["building_id"].is_null())
        .unwrap();
    assert_eq!(whole_october["rate_pct"], 100.0);
    // The cashier closes the day: later payments dated on it are refused; the next day takes them.
    let book = s
        .ok(
            &cashier,
            Method::POST,
            "/api/v1/fees/cash-book/close",
            Some(json!({"community_id": c})),
        )
        .await;
    assert_eq!(
        (book["cash_fen"].as_i64(), book["transfer_fen"].as_i64()),
        (Some(20_000), Some(3_000))
    );
    let (status, v) = s
        .call(
            Some(&cashier),
            Method::POST,
            "/api/v1/fees/payments",
            Some(json!({"house_id": a.house, "method": "cash", "amount_fen": 100})),
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("cash_book_closed"))
    );
    s.ok(
        &cashier,
        Method::POST,
        "/api/v1/fees/payments",
        Some(json!({"house_id": a.house, "method": "cash",
        "amount_fen": 100, "booked_on": "2026-11-02"})),
    )
    .await;
    // Exports carry the JSON's rows.
    let sheet = xlsx_rows(
        &s,
        &cashier,
        &format!("/api/v1/fees/exports/cash-book?community_id={c}&day=2026-11-01"),
    )
    .await;
    assert!(
        sheet
            .iter()
            .any(|r| r.first().map(String::as_str) == Some("370323001001-2026-000001")),
        "{sheet:?}"
    );
    let sheet = xlsx_rows(
        &s,
        &pm,
        &format!("/api/v1/fees/exports/collection?community_id={c}&year=2026"),
    )
    .await;
    assert_eq!(sheet[1][0], "月份");
    let (status, _) = s
        .call(
            Some(&pm),
            Method::GET,
            &format!("/api/v1/fees/exports/budget?community_id={c}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// An open offline ticket on `device` of `community` for `contractor`, due `within_ms` from now
/// (what a device going offline opens), written straight to the store.
async fn offline_ticket(s: &Server, device: i64, community: i64, contractor: &str, within_ms: i64) -> i64 {
    let mut tx = s.app.store().write().await.unwrap();
    let id = tx
        .insert_ticket(&anfang_app::store::TicketRow {
            id: 0,
            device_id: device,
            community_id: community,
            contractor: contractor.into(),
            reason: "offline".into(),
            opened_at: s.clock_now(),
            due_at: s.clock_now() + within_ms,
            resolved_at: None,
            resolved_by: None,
            note: String::new(),
        })
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn a_resident_chooses_consent_and_a_pin_for_their_household_only() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let b = seed(&s, &admin, 2).await;
    // Another household in A: a house of its own with a person in it.
    let neighbour_house = s
        .ok(&admin, Method::POST, "/api/v1/houses", Some(json!({"unit_id": a.unit, "number": "902", "floor": 9, "area_m2": 80.0, "use": "owner_occupied"})))
        .await["id"]
        .as_i64()
        .unwrap();
    let neighbour = s
        .ok(&admin, Method::POST, "/api/v1/persons", Some(json!({"community_id": a.community, "name": "邻居", "gender": "male", "id_type": "resident_id",
            "id_number": resident_id("37032319850101003"), "population_type": "registered", "house_id": neighbour_house, "role": "owner"})))
        .await["id"]
        .as_i64()
        .unwrap();
    let resident = user_token(&s, &admin, "res_a", "resident", &format!("house:{}", a.house)).await;
    let me = a.person;

    // Their own household: consent given, listed, withdrawn; a drawn PIN replaces the last.
    let (status, list) = s
        .call(
            Some(&resident),
            Method::GET,
            &format!("/api/v1/persons/{me}/consents"),
            None,
        )
        .await;
    assert_eq!((status, list.as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    let consent = s
        .ok(
            &resident,
            Method::POST,
            &format!("/api/v1/persons/{me}/consents"),
            Some(json!({"given_by": "self"})),
        )
        .await;
    assert_eq!(consent["recorded_by"], "user:res_a");
    let first = s
        .ok(
            &resident,
            Method::POST,
            &format!("/api/v1/persons/{me}/pin"),
            None,
        )
        .await;
    let pin = first["pin"].as_str().unwrap();
    assert!(pin.len() == 6 && pin.chars().all(|c| c.is_ascii_digit()), "{pin}");
    let second = s
        .ok(
            &resident,
            Method::POST,
            &format!("/api/v1/persons/{me}/pin"),
            None,
        )
        .await;
    let credentials = s
        .ok(
            &resident,
            Method::GET,
            &format!("/api/v1/persons/{me}/credentials"),
            None,
        )
        .await;
    let active: Vec<i64> = credentials
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "pin" && c["revoked_at"].is_null())
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        active,
        vec![second["credential"]["id"].as_i64().unwrap()],
        "one PIN at a time"
    );
    assert!(
        credentials.to_string().find(pin).is_none(),
        "the digits are never listed"
    );
    let (status, _) = s
        .call(
            Some(&resident),
            Method::DELETE,
            &format!("/api/v1/persons/{me}/consents/{}", consent["id"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let consents = s
        .ok(
            &resident,
            Method::GET,
            &format!("/api/v1/persons/{me}/consents"),
            None,
        )
        .await;
    assert!(!consents[0]["revoked_at"].is_null(), "withdrawn: {consents}");
    // Cards and chosen digits stay with the property office.
    let (status, _) = s
        .call(
            Some(&resident),
            Method::POST,
            &format!("/api/v1/persons/{me}/credentials"),
            Some(json!({"kind": "pin", "value": "4321"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Anyone else — the neighbour next door, a person of another community — is not found,
    // and nothing is written for them.
    for other in [neighbour, b.person] {
        for (method, path, body) in [
            (Method::GET, format!("/api/v1/persons/{other}/consents"), None),
            (
                Method::POST,
                format!("/api/v1/persons/{other}/consents"),
                Some(json!({"given_by": "self"})),
            ),
            (
                Method::DELETE,
                format!("/api/v1/persons/{other}/consents/1"),
                None,
            ),
            (Method::GET, format!("/api/v1/persons/{other}/credentials"), None),
            (
                Method::DELETE,
                format!("/api/v1/persons/{other}/credentials/1"),
                None,
            ),
            (Method::POST, format!("/api/v1/persons/{other}/pin"), None),
            (Method::GET, format!("/api/v1/persons/{other}/face"), None),
        ] {
            let (status, _) = s.call(Some(&resident), method.clone(), &path, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        }
        let consents = s
            .ok(
                &admin,
                Method::GET,
                &format!("/api/v1/persons/{other}/consents"),
                None,
            )
            .await;
        let credentials = s
            .ok(
                &admin,
                Method::GET,
                &format!("/api/v1/persons/{other}/credentials"),
                None,
            )
            .await;
        assert_eq!((consents, credentials), (json!([]), json!([])));
    }
}

#[tokio::test]
async fn video_presence_shows_only_the_callers_communities() {
    let s = Server::start().await;
    let admin = admin_token(&s).await;
    let a = seed(&s, &admin, 1).await;
    let b = seed(&s, &admin, 2).await;
    for (n, community) in [(1, a.community), (2, b.community)] {
        s.ok(
            &admin,
            Method::POST,
            "/api/v1/devices",
            Some(
                json!({"code": format!("3703230000118000000{n}"), "kind": "nvr", "protocol": "gb28181",
                "community_id": community, "name": format!("小区{n}录像机")}),
            ),
        )
        .await;
    }
    let pm = user_token(&s, &admin, "pm_a", "property_manager", "community:370323001001").await;
    // Without a filter: A only, its NVR known but not registered (no SIP here).
    let mine = s.ok(&pm, Method::GET, "/api/v1/video/presence", None).await;
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{mine}");
    assert_eq!(
        (
            &items[0]["community_id"],
            &items[0]["devices"],
            &items[0]["registered"]
        ),
        (&json!(a.community), &json!(1), &json!(0))
    );
    assert!(!mine.to_string().contains("小区2"), "{mine}");
    let all = s.ok(&admin, Method::GET, "/api/v1/video/presence", None).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    // B's detail and B's summary are not found for A's manager; A's detail lists the NVR.
    for path in [
        format!("/api/v1/communities/{}/video", b.community),
        format!("/api/v1/video/presence?community_id={}", b.community),
    ] {
        let (status, _) = s.call(Some(&pm), Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let detail = s
        .ok(
            &pm,
            Method::GET,
            &format!("/api/v1/communities/{}/video", a.community),
            None,
        )
        .await;
    assert_eq!(detail["items"][0]["code"], "37032300001180000001");
    assert_eq!(
        (&detail["items"][0]["registered"], &detail["items"][0]["online"]),
        (&json!(false), &json!(false))
    );
    let (status, body) = s
        .call(
            Some(&pm),
            Method::GET,
            "/api/v1/video/presence?community_id=x",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}
