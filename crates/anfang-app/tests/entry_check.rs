//! The external status check at entry, over a real store: a resident let in at the gate is
//! checked by the keyed hash of their ID (never the number), a warning opens with its reason, a
//! denial keeps out, answers are cached per person, unit doors and refusals are not checked,
//! and a service that does not answer in time opens or keeps out as configured.

mod common;

use anfang_app::access::{DeviceEvent, DeviceEventKind, IssueCredential, Presented};
use anfang_app::entry_check::{EntryCheck, EntryCheckSettings, StatusService, id_hash};
use anfang_app::registry::*;
use anfang_app::{App, AppConfig};
use anfang_domain::access::CheckVerdict;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KEY: &[u8] = b"shared-with-the-status-service-0";

/// A status service with set answers per hash, counting the questions; `slow` never answers
/// within any sensible timeout.
#[derive(Debug, Default)]
struct Service {
    answers: Mutex<Vec<(String, CheckVerdict)>>,
    asked: Mutex<Vec<(String, String)>>,
    slow: bool,
}

#[async_trait::async_trait]
impl StatusService for Service {
    async fn status(&self, id_hash: &str, community_code: &str) -> Result<CheckVerdict, String> {
        self.asked
            .lock()
            .unwrap()
            .push((id_hash.to_string(), community_code.to_string()));
        if self.slow {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        let answers = self.answers.lock().unwrap();
        answers
            .iter()
            .find(|(h, _)| h == id_hash)
            .map(|(_, v)| *v)
            .ok_or_else(|| "unknown person".to_string())
    }
}

struct Site {
    app: App,
    clock: anfang_base::SimClock,
    gate: String,
    unit_door: String,
    community_code: String,
}

/// A community with two residents (cards `CA0D0001`, `CA0D0002`), a gate terminal and a unit-door terminal.
async fn site(dir: &std::path::Path, service: Arc<Service>, fail_open: bool) -> Site {
    let clock = anfang_base::SimClock::new(common::T0);
    let app = common::app_at(dir, AppConfig::default(), clock.clone())
        .await
        .with_entry_check(EntryCheck::new(
            service,
            EntryCheckSettings {
                hash_key: KEY.to_vec(),
                fail_open,
                timeout: Duration::from_millis(200),
                cache_ttl: Duration::from_secs(300),
            },
        ));
    let admin = common::user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let unit = common::unit(&app, &admin, community.id, "3").await;
    let house = app
        .create_house(
            &admin,
            &CreateHouse {
                unit_id: unit.id,
                number: "501".into(),
                floor: 5,
                area_m2: 90.0,
                use_kind: "owner_occupied".into(),
            },
        )
        .await
        .unwrap();
    for (name, id_number, card) in [
        ("张三丰", "370323198001010018", "CA0D0001"),
        ("李四", "370323199001010012", "CA0D0002"),
    ] {
        let person = app
            .create_person(
                &admin,
                &CreatePerson {
                    community_id: community.id,
                    name: name.into(),
                    gender: "male".into(),
                    id_type: "resident_id".into(),
                    id_number: id_number.into(),
                    phone: None,
                    population_type: "registered".into(),
                    tags: vec![],
                    house: Some(SetPersonHouse {
                        house_id: house.id,
                        role: "owner".into(),
                        lease_start: None,
                        lease_end: None,
                        schedule: None,
                    }),
                },
            )
            .await
            .unwrap();
        app.issue_credential(
            &admin,
            person.id,
            &IssueCredential {
                kind: "card".into(),
                value: card.into(),
                valid_until: None,
            },
        )
        .await
        .unwrap();
    }
    let mut codes = Vec::new();
    for (i, (kind, unit_id)) in [("pedestrian_entrance", None), ("unit_door", Some(unit.id))]
        .into_iter()
        .enumerate()
    {
        let place = app
            .create_place(
                &admin,
                &CreatePlace {
                    community_id: community.id,
                    kind: kind.into(),
                    name: format!("门{i}"),
                    x: 1.0,
                    y: 1.0,
                    attended: false,
                    unit_id,
                },
            )
            .await
            .unwrap();
        let (terminal, _) = app
            .create_device(
                None,
                &CreateDevice {
                    code: format!("3703230000132000000{i}"),
                    kind: "face_door_terminal".into(),
                    protocol: "mqtt".into(),
                    community_id: Some(community.id),
                    place_id: Some(place.id),
                    ..CreateDevice::default()
                },
            )
            .await
            .unwrap();
        codes.push(terminal.code);
    }
    Site {
        app,
        clock,
        gate: codes[0].clone(),
        unit_door: codes[1].clone(),
        community_code: community.code,
    }
}

/// (outcome, reason) for card `card` at `device`.
async fn swipe(site: &Site, device: &str, card: &str, id: &str) -> (String, String) {
    let event = DeviceEvent {
        event_id: id.into(),
        at_ms: 0,
        kind: DeviceEventKind::Credential {
            presented: Presented::Card(card.into()),
            decided_locally: None,
        },
        body_json: "{}".into(),
        images: Vec::new(),
    };
    let decided = site.app.decide_event(device, &event).await.unwrap().unwrap();
    site.app
        .store_decided(std::slice::from_ref(&decided))
        .await
        .unwrap();
    (
        decided.decision().outcome.as_str().to_string(),
        decided.decision().reason.as_str().to_string(),
    )
}

fn pair(outcome: &str, reason: &str) -> (String, String) {
    (outcome.to_string(), reason.to_string())
}

#[tokio::test]
async fn entrances_ask_the_status_service_by_keyed_hash_and_follow_its_answer() {
    let dir = tempfile::tempdir().unwrap();
    let service = Arc::new(Service::default());
    let first = id_hash(KEY, "370323198001010018");
    let second = id_hash(KEY, "370323199001010012");
    service.answers.lock().unwrap().extend([
        (first.clone(), CheckVerdict::Warn),
        (second.clone(), CheckVerdict::Deny),
    ]);
    let site = site(dir.path(), service.clone(), false).await;

    assert_eq!(
        swipe(&site, &site.gate, "CA0D0001", "e1").await,
        pair("open", "entry_check_warned")
    );
    assert_eq!(
        swipe(&site, &site.gate, "CA0D0002", "e2").await,
        pair("deny", "entry_check_denied")
    );
    {
        let asked = service.asked.lock().unwrap();
        assert_eq!(asked.len(), 2);
        assert_eq!(asked[0], (first.clone(), site.community_code.clone()));
        assert!(
            asked
                .iter()
                .all(|(h, _)| !h.contains("370323198001010018") && h.len() == 64),
            "only the keyed hash leaves"
        );
    }
    // Answers are reused: going out and in again asks nobody.
    assert_eq!(
        swipe(&site, &site.gate, "CA0D0001", "e3").await,
        pair("open", "entry_check_warned")
    );
    assert_eq!(service.asked.lock().unwrap().len(), 2);
    // Unit doors are inside the community: not checked. Unknown cards are refused unasked.
    assert_eq!(
        swipe(&site, &site.unit_door, "CA0D0002", "e4").await,
        pair("open", "resident")
    );
    assert_eq!(
        swipe(&site, &site.gate, "FFFF0000", "e5").await,
        pair("deny", "unknown_credential")
    );
    assert_eq!(service.asked.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn without_an_answer_in_time_the_gate_fails_as_configured() {
    for (fail_open, expected) in [
        (false, pair("deny", "entry_check_unavailable")),
        (true, pair("open", "entry_check_unavailable")),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let service = Arc::new(Service {
            slow: true,
            ..Service::default()
        });
        let site = site(dir.path(), service.clone(), fail_open).await;
        let started = std::time::Instant::now();
        assert_eq!(swipe(&site, &site.gate, "CA0D0001", "e1").await, expected);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the door did not wait for the service"
        );
        // While the service rests after failing, doors apply the fallback without waiting.
        let started = std::time::Instant::now();
        assert_eq!(swipe(&site, &site.gate, "CA0D0002", "e2").await, expected);
        assert!(
            started.elapsed() < Duration::from_millis(150),
            "no wait while resting"
        );
        assert_eq!(service.asked.lock().unwrap().len(), 1);
        // No answer is not cached: after the rest the service is asked again.
        site.clock.advance_ms(anfang_app::entry_check::REST_MS);
        swipe(&site, &site.gate, "CA0D0001", "e3").await;
        assert_eq!(service.asked.lock().unwrap().len(), 2);
    }
}
