//! The early-warning rules over a real store and a simulated clock: each periodic rule (frequent
//! stranger weighted at night, elderly not seen, suspected group rental, unregistered tenant,
//! overstaying vehicle) fires at its threshold and not before, with its evidence; tailgating is
//! judged as a counter reports; each warning goes to its audience only, is handled with who and
//! a note, and stays quiet for the rule's window once handled; thresholds are per community.

mod common;

use anfang_app::access::{DeviceEvent, DeviceEventKind};
use anfang_app::registry::*;
use anfang_app::store::*;
use anfang_app::warnings::{WarningAction, WarningRules};
use anfang_app::{App, AppConfig, AppError, Principal};
use anfang_base::SimClock;
use common::{T0, user};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn all() -> PageRequest {
    PageRequest {
        page: 1,
        page_size: 100,
    }
}

async fn kinds(app: &App, who: &Principal) -> Vec<String> {
    let mut k: Vec<String> = app
        .list_warnings(who, WarningFilter::default(), all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|w| w.kind)
        .collect();
    k.sort();
    k
}

async fn person(
    app: &App,
    admin: &Principal,
    community: i64,
    name: &str,
    id: &str,
    tags: &[&str],
    house: Option<SetPersonHouse>,
) -> i64 {
    app.create_person(
        admin,
        &CreatePerson {
            community_id: community,
            name: name.into(),
            gender: "female".into(),
            id_type: "resident_id".into(),
            id_number: id.into(),
            phone: None,
            population_type: "floating".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            house,
        },
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn each_rule_fires_at_its_threshold_for_its_audience() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(T0);
    let app = common::app_at(dir.path(), AppConfig::default(), clock.clone()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let scope = format!("community:{}", community.code);
    let police = user(&app, "police1", "community_police", &scope).await;
    let grid = user(&app, "grid1", "grid_worker", &scope).await;
    let pm = user(&app, "pm1", "property_manager", &scope).await;
    let resident = user(&app, "resident1", "resident", &scope).await;

    let unit = common::unit(&app, &admin, community.id, "1").await;
    let house = |number: &str| CreateHouse {
        unit_id: unit.id,
        number: number.into(),
        floor: 1,
        area_m2: 60.0,
        use_kind: "rented".into(),
    };
    let rented = app.create_house(&admin, &house("101")).await.unwrap();
    let other = app.create_house(&admin, &house("102")).await.unwrap();
    let tenant_of = |house_id: i64, start: &str| SetPersonHouse {
        house_id,
        role: "tenant".into(),
        lease_start: Some(start.into()),
        lease_end: Some("2027-10-01".into()),
        schedule: None,
    };
    // T0 is 2026-11-23 08:00. One tenant moved in 34 days ago unregistered, one registered.
    let unregistered = person(
        &app,
        &admin,
        community.id,
        "王租户",
        "370323198001010018",
        &[],
        Some(tenant_of(rented.id, "2026-10-20")),
    )
    .await;
    person(
        &app,
        &admin,
        community.id,
        "李租户",
        "370323199001010012",
        &["居住证"],
        Some(tenant_of(other.id, "2026-10-01")),
    )
    .await;
    // A recent tenant: not yet past 30 days.
    person(
        &app,
        &admin,
        community.id,
        "赵租户",
        "370323199201010017",
        &[],
        Some(tenant_of(other.id, "2026-11-10")),
    )
    .await;
    let elderly = person(
        &app,
        &admin,
        community.id,
        "孙奶奶",
        "37032319400101001X",
        &["独居老人"],
        None,
    )
    .await;

    // Facts the cameras and gates would have left: a stranger seen three nights running and
    // another four times by day; a temporary car in for 8 days and one for 2.
    let camera = common::device(
        &app,
        &admin,
        "37032300001320000007",
        "face_capture_camera",
        "gat1400",
        community.id,
    )
    .await;
    {
        let mut tx = app.store().write().await.unwrap();
        for (stranger_n, times) in [
            (1, vec![T0 - 7 * HOUR, T0 - 31 * HOUR, T0 - 55 * HOUR]),
            (
                2,
                vec![T0 + 2 * HOUR, T0 - 20 * HOUR, T0 - 44 * HOUR, T0 - 68 * HOUR],
            ),
        ] {
            let stranger = tx
                .insert_stranger(&StrangerRow {
                    id: 0,
                    community_id: Some(community.id),
                    template_enc: vec![0],
                    model: "test".into(),
                    sightings: times.len() as i64,
                    first_seen: times[0],
                    last_seen: times[0],
                    expires_at: T0 + 30 * DAY,
                })
                .await
                .unwrap();
            for (i, at) in times.into_iter().enumerate() {
                let record = tx
                    .insert_capture_record(&NewCaptureRecord {
                        community_id: Some(community.id),
                        device_id: camera.id,
                        kind: "face".into(),
                        record_id: format!("s{stranger_n}-{i}"),
                        content_hash: format!("h{stranger_n}-{i}"),
                        shot_at: at,
                        plate: None,
                        attributes: "{}".into(),
                        image_keys: "[]".into(),
                        received_at: at,
                    })
                    .await
                    .unwrap()
                    .unwrap();
                tx.insert_capture_face(&CaptureFaceRow {
                    id: 0,
                    capture_record_id: record,
                    community_id: Some(community.id),
                    device_id: camera.id,
                    shot_at: at,
                    outcome: "stranger".into(),
                    person_id: None,
                    stranger_id: Some(stranger),
                    distance: None,
                    margin: None,
                    template_enc: None,
                    model: None,
                    recognised_at: at,
                    expires_at: T0 + 30 * DAY,
                })
                .await
                .unwrap();
            }
        }
        tx.insert_parking_session(community.id, "鲁C12345", camera.id, T0 - 8 * DAY)
            .await
            .unwrap();
        tx.insert_parking_session(community.id, "鲁C54321", camera.id, T0 - 2 * DAY)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    // Five different visitors invited to house 101 over the past week (invited ahead of time),
    // where one person is registered.
    clock.set_ms(T0 - 6 * DAY);
    for (n, name) in ["甲", "乙", "丙", "丁", "戊"].iter().enumerate() {
        app.invite_visitor(
            &pm,
            &anfang_app::visitors::InviteVisitor {
                house_id: rented.id,
                name: format!("访客{name}"),
                phone: None,
                valid_from: T0 - (n as i64 + 1) * DAY,
                valid_until: T0 - (n as i64 + 1) * DAY + 4 * HOUR,
                plate_number: None,
            },
        )
        .await
        .unwrap();
    }
    clock.set_ms(T0);

    assert_eq!(
        app.evaluate_warnings().await.unwrap(),
        4,
        "stranger 1, tenant, group rental, vehicle"
    );
    // The police see everything; grid workers registry and welfare; property staff property.
    assert_eq!(
        kinds(&app, &police).await,
        vec![
            "frequent_stranger",
            "group_rental",
            "tenant_unregistered",
            "vehicle_overstay"
        ]
    );
    assert_eq!(
        kinds(&app, &grid).await,
        vec!["group_rental", "tenant_unregistered"]
    );
    assert_eq!(kinds(&app, &pm).await, vec!["vehicle_overstay"]);
    assert!(matches!(
        app.list_warnings(&resident, WarningFilter::default(), all())
            .await
            .unwrap_err(),
        AppError::Forbidden(_)
    ));
    let warnings = app
        .list_warnings(&police, WarningFilter::default(), all())
        .await
        .unwrap()
        .items;
    let of = |kind: &str| warnings.iter().find(|w| w.kind == kind).unwrap().clone();
    let stranger = of("frequent_stranger");
    assert_eq!(stranger.score, Some(6.0), "three night sightings weigh two each");
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(&stranger.evidence)
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        of("tenant_unregistered").subject,
        format!("person:{unregistered}")
    );
    assert_eq!(of("group_rental").subject, format!("house:{}", rented.id));
    assert_eq!(of("vehicle_overstay").subject, "plate:鲁C12345");
    // A police warning's detail is hidden from property staff as if it did not exist.
    assert!(matches!(
        app.warning(&pm, stranger.id).await.unwrap_err(),
        AppError::NotFound { .. }
    ));

    // The same facts an hour later refresh the open warnings; nothing new.
    clock.advance_ms(HOUR);
    assert_eq!(app.evaluate_warnings().await.unwrap(), 0);

    // The elderly resident, registered at T0 and never seen: at 48 hours, a welfare warning.
    clock.set_ms(T0 + 47 * HOUR);
    app.evaluate_warnings().await.unwrap();
    assert!(!kinds(&app, &grid).await.contains(&"elderly_unseen".to_string()));
    clock.set_ms(T0 + 48 * HOUR);
    assert!(app.evaluate_warnings().await.unwrap() >= 1);
    let welfare = app
        .list_warnings(
            &grid,
            WarningFilter {
                kind: Some("elderly_unseen".into()),
                ..WarningFilter::default()
            },
            all(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(welfare.len(), 1);
    assert_eq!(welfare[0].subject, format!("person:{elderly}"));
    assert!(welfare[0].title.contains("48"), "{}", welfare[0].title);
    // The grid worker visits and closes it; a property manager may not even see it.
    assert!(matches!(
        app.act_on_warning(&pm, welfare[0].id, WarningAction::Close, None)
            .await
            .unwrap_err(),
        AppError::NotFound { .. }
    ));
    let closed = app
        .act_on_warning(
            &grid,
            welfare[0].id,
            WarningAction::Close,
            Some("上门查看，老人住院".into()),
        )
        .await
        .unwrap();
    assert_eq!(closed.state, "closed");
    assert_eq!(closed.handled_by.as_deref(), Some("user:grid1"));
    let err = app
        .act_on_warning(&grid, welfare[0].id, WarningAction::Close, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "warning_closed");
    // Quiet for the rule's 48 hours after handling, then raised again while still unseen.
    clock.set_ms(T0 + 95 * HOUR);
    app.evaluate_warnings().await.unwrap();
    assert_eq!(
        app.list_warnings(
            &grid,
            WarningFilter {
                kind: Some("elderly_unseen".into()),
                open: true,
                ..WarningFilter::default()
            },
            all()
        )
        .await
        .unwrap()
        .total,
        0
    );
    clock.set_ms(T0 + 97 * HOUR);
    app.evaluate_warnings().await.unwrap();
    assert_eq!(
        app.list_warnings(
            &grid,
            WarningFilter {
                kind: Some("elderly_unseen".into()),
                open: true,
                ..WarningFilter::default()
            },
            all()
        )
        .await
        .unwrap()
        .total,
        1
    );

    // Per-community thresholds: vehicles after 1 day here; property staff may not change them.
    let mut rules = app.warning_rules(&police, community.id).await.unwrap();
    assert_eq!(rules, WarningRules::default());
    rules.vehicle.days = 1;
    assert!(matches!(
        app.set_warning_rules(&pm, community.id, &rules)
            .await
            .unwrap_err(),
        AppError::Forbidden(_)
    ));
    app.set_warning_rules(&police, community.id, &rules)
        .await
        .unwrap();
    app.evaluate_warnings().await.unwrap();
    let vehicles = app
        .list_warnings(
            &pm,
            WarningFilter {
                kind: Some("vehicle_overstay".into()),
                ..WarningFilter::default()
            },
            all(),
        )
        .await
        .unwrap();
    assert_eq!(vehicles.total, 2, "the 2-day stay now overstays too");
    rules.vehicle.days = 0;
    assert_eq!(
        app.set_warning_rules(&police, community.id, &rules)
            .await
            .unwrap_err()
            .code(),
        "invalid_warning_rule"
    );
}

#[tokio::test]
async fn a_counter_reporting_more_passages_than_openings_is_tailgating() {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(dir.path(), AppConfig::default()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let scope = format!("community:{}", community.code);
    let guard = user(&app, "guard1", "guard", &scope).await;
    let grid = user(&app, "grid1", "grid_worker", &scope).await;
    let (door, _) = app
        .create_device(
            Some(&admin),
            &CreateDevice {
                code: "37032300001320000008".into(),
                name: Some("1号楼1单元门".into()),
                kind: "face_door_terminal".into(),
                protocol: "mqtt".into(),
                community_id: Some(community.id),
                ..CreateDevice::default()
            },
        )
        .await
        .unwrap();
    let passages = |id: &str, n: u32| DeviceEvent {
        event_id: id.into(),
        at_ms: T0,
        kind: DeviceEventKind::Passages { passages: n },
        body_json: "{}".into(),
        images: Vec::new(),
    };
    app.device_event(&door.code, &passages("p1", 1)).await.unwrap();
    assert!(
        kinds(&app, &guard).await.is_empty(),
        "one person per opening is fine"
    );
    app.device_event(&door.code, &passages("p2", 3)).await.unwrap();
    app.device_event(&door.code, &passages("p3", 2)).await.unwrap();
    let list = app
        .list_warnings(&guard, WarningFilter::default(), all())
        .await
        .unwrap();
    assert_eq!(list.total, 1, "one open warning per door, its evidence growing");
    let w = &list.items[0];
    assert_eq!((w.kind.as_str(), w.score), ("tailgating", Some(2.0)));
    assert!(w.evidence.contains("\"passages\":3") && w.evidence.contains("p3"));
    // Grid workers neither see nor handle property matters.
    assert!(kinds(&app, &grid).await.is_empty());
    let closed = app
        .act_on_warning(&guard, w.id, WarningAction::Close, Some("已提醒住户".into()))
        .await
        .unwrap();
    assert_eq!(closed.state, "closed");
    assert_eq!(
        app.act_on_warning(&guard, w.id, WarningAction::Confirm, None)
            .await
            .unwrap_err()
            .code(),
        "warning_closed"
    );
}

#[tokio::test]
async fn a_wanted_plate_at_a_gate_is_a_hit_for_the_police_to_confirm() {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(dir.path(), AppConfig::default()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let scope = format!("community:{}", community.code);
    let guard = user(&app, "guard1", "guard", &scope).await;
    let police = user(&app, "police1", "community_police", &scope).await;
    let gate = common::device(
        &app,
        &admin,
        "37032300001320000009",
        "barrier_gate",
        "http_push",
        community.id,
    )
    .await;
    common::watch_plate(&app, "鲁C7J597", "涉案车辆").await;
    let read = |id: &str, plate: &str| DeviceEvent {
        event_id: id.into(),
        at_ms: T0,
        kind: DeviceEventKind::Plate {
            plate: plate.into(),
            confidence: 0.97,
            entering: true,
        },
        body_json: "{}".into(),
        images: Vec::new(),
    };
    app.device_event(&gate.code, &read("r1", "鲁C12345"))
        .await
        .unwrap();
    assert!(kinds(&app, &police).await.is_empty());
    app.device_event(&gate.code, &read("r2", "鲁c7j597"))
        .await
        .unwrap();
    let hits = app
        .list_warnings(&police, WarningFilter::default(), all())
        .await
        .unwrap();
    assert_eq!(hits.total, 1);
    assert_eq!(
        (hits.items[0].kind.as_str(), hits.items[0].state.as_str()),
        ("watch_hit", "to_confirm")
    );
    assert!(hits.items[0].title.contains("涉案车辆"));
    assert!(
        kinds(&app, &guard).await.is_empty(),
        "guards never see watch-list hits"
    );
    let rejected = app
        .act_on_warning(
            &police,
            hits.items[0].id,
            WarningAction::Reject,
            Some("套牌，非涉案车辆".into()),
        )
        .await
        .unwrap();
    assert_eq!(rejected.state, "rejected");
    let listed = app.list_watch_hits(&police, None, all()).await.unwrap();
    assert_eq!(listed.items[0].state, "rejected");
}
