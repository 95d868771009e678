//! The district programme over a real store and a simulated clock, on a small fixture with
//! known answers: compliance per required place from the device registry, installed /
//! networked / active per class with the police acknowledgement, progress against targets,
//! a project through its stages and an acceptance whose checklist is measured, the award by the
//! formula, maintenance tickets from a device going offline, and the street score.

mod common;

use anfang_app::acceptance::Attachment;
use anfang_app::access::{DeviceEvent, DeviceEventKind, Presented};
use anfang_app::cascade::{Sends, UpwardTarget};
use anfang_app::programme::{CreateProject, MoveStage, TargetSpec};
use anfang_app::registry::{CreateDevice, CreatePlace};
use anfang_app::{App, AppConfig, AppError, Principal};
use anfang_base::{Clock, SimClock};
use anfang_domain::programme::{Capability, DeviceClass, FundingSource, Stage};
use common::{T0, user};

const DAY: i64 = 86_400_000;

fn police_config() -> AppConfig {
    AppConfig {
        cascade_targets: vec![UpwardTarget {
            name: "police".into(),
            sends: vec![Sends::DoorRecords],
            unmasked: true,
            superior_id: None,
            password: "p".into(),
        }],
        ..AppConfig::default()
    }
}

struct Fixture {
    community: i64,
    terminal: String,
    gate: String,
    perimeter_zone: i64,
}

async fn place(app: &App, admin: &Principal, community: i64, kind: &str, name: &str, attended: bool) -> i64 {
    app.create_place(
        admin,
        &CreatePlace {
            community_id: community,
            kind: kind.into(),
            name: name.into(),
            x: 10.0,
            y: 10.0,
            attended,
            unit_id: None,
        },
    )
    .await
    .unwrap()
    .id
}

async fn device_at(
    app: &App,
    admin: &Principal,
    code: &str,
    kind: &str,
    community: i64,
    place: Option<i64>,
) -> String {
    app.create_device(
        Some(admin),
        &CreateDevice {
            code: code.into(),
            kind: kind.into(),
            protocol: "mqtt".into(),
            community_id: Some(community),
            place_id: place,
            x: Some(10.0),
            y: Some(10.0),
            contractor: Some("甲安防工程公司".into()),
            ..CreateDevice::default()
        },
    )
    .await
    .unwrap()
    .0
    .code
}

/// An existing closed community: an attended entrance with a face terminal, a vehicle lane with
/// a gate, a perimeter zone without a sensor, and a patrol checkpoint — 4 required places, 3 met.
async fn fixture(app: &App, admin: &Principal) -> Fixture {
    let community = common::community(app, admin).await.id;
    let entrance = place(app, admin, community, "pedestrian_entrance", "南门", true).await;
    let lane = place(app, admin, community, "vehicle_lane", "南门入口车道", true).await;
    let perimeter_zone = place(app, admin, community, "perimeter_zone", "东侧围墙", false).await;
    let terminal = device_at(
        app,
        admin,
        "37032300001320000001",
        "face_door_terminal",
        community,
        Some(entrance),
    )
    .await;
    let gate = device_at(
        app,
        admin,
        "37032300001320000002",
        "barrier_gate",
        community,
        Some(lane),
    )
    .await;
    device_at(
        app,
        admin,
        "37032300001320000003",
        "patrol_checkpoint",
        community,
        None,
    )
    .await;
    Fixture {
        community,
        terminal,
        gate,
        perimeter_zone,
    }
}

fn card(id: &str, at: i64) -> DeviceEvent {
    DeviceEvent {
        event_id: id.into(),
        at_ms: at,
        kind: DeviceEventKind::Credential {
            presented: Presented::Card("CA0D0001".into()),
            decided_locally: None,
        },
        body_json: "{}".into(),
        images: Vec::new(),
    }
}

fn heartbeat(id: &str, at: i64, accepts: Option<Vec<String>>) -> DeviceEvent {
    DeviceEvent {
        event_id: id.into(),
        at_ms: at,
        kind: DeviceEventKind::Heartbeat {
            firmware: "1.0".into(),
            library_version: 0,
            accepts,
        },
        body_json: "{}".into(),
        images: Vec::new(),
    }
}

#[tokio::test]
async fn compliance_and_networking_are_measured_from_the_registry_and_the_data_that_arrived() {
    let dir = tempfile::tempdir().unwrap();
    let config = police_config();
    let app = common::app(dir.path(), config.clone()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let f = fixture(&app, &admin).await;

    let figures = app.community_figures(&admin, f.community).await.unwrap();
    assert_eq!((figures.compliance.required(), figures.compliance.met()), (4, 3));
    let gaps: Vec<(Capability, &str)> = figures
        .compliance
        .gaps()
        .map(|n| (n.capability, n.place.as_str()))
        .collect();
    assert_eq!(gaps, vec![(Capability::Perimeter, "东侧围墙")]);
    assert_eq!((figures.total.installed, figures.total.networked), (3, 0));

    // The terminal is used, the gate only heard from; nothing has reached the police yet.
    app.device_event(&f.terminal, &card("c-1", T0)).await.unwrap();
    app.device_event(&f.gate, &heartbeat("h-1", T0, None))
        .await
        .unwrap();
    let figures = app.community_figures(&admin, f.community).await.unwrap();
    let access = figures.devices[&DeviceClass::Access];
    let vehicle = figures.devices[&DeviceClass::Vehicle];
    assert_eq!((access.installed, access.networked, access.active), (1, 0, 1));
    assert_eq!((vehicle.installed, vehicle.networked, vehicle.active), (1, 1, 0));
    assert_eq!(figures.data_days, 1);

    // The police acknowledge the door record: the terminal counts as networked.
    let batch = app.cascade_batch(&config.cascade_targets[0], 10).await.unwrap();
    let ids: Vec<i64> = batch.iter().map(|i| i.id).collect();
    app.cascade_delivered("police", &ids, 0).await.unwrap();
    let figures = app.community_figures(&admin, f.community).await.unwrap();
    let access = figures.devices[&DeviceClass::Access];
    assert_eq!((access.networked, access.active), (1, 1));
    assert_eq!(figures.total.networked_pct(), Some(66.67));
    assert_eq!(
        figures.compliance.networked(),
        2,
        "entrance and lane; the checkpoint is silent"
    );

    let (_, rows) = app.networking_report(&admin, None).await.unwrap();
    let levels: Vec<(&str, u64, u64)> = rows
        .iter()
        .map(|r| (r.level, r.total.installed, r.total.networked))
        .collect();
    assert_eq!(
        levels,
        vec![("district", 3, 2), ("street", 3, 2), ("community", 3, 2)]
    );

    // A property manager of another community sees none of it.
    let other = user(&app, "pmanager", "property_manager", "community:370399001001001").await;
    assert!(matches!(
        app.community_figures(&other, f.community).await,
        Err(AppError::NotFound { .. })
    ));
    let guard = user(&app, "guard", "guard", "district").await;
    assert!(matches!(
        app.networking_report(&guard, None).await,
        Err(AppError::Forbidden(_))
    ));
}

#[tokio::test]
async fn a_project_is_accepted_on_measured_checks_and_sign_offs_and_earns_its_award() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(T0);
    let app = common::app_at(dir.path(), AppConfig::default(), clock.clone()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let f = fixture(&app, &admin).await;
    // Logged in after the community exists: a scope resolves at login.
    let police = user(&app, "police", "community_police", "community:370323001001001").await;
    let housing = user(&app, "housing", "housing_construction", "district").await;

    let project = app
        .create_project(
            &admin,
            &CreateProject {
                community_id: f.community,
                funding_mode: None,
                planned_year: 2026,
                note: None,
            },
        )
        .await
        .unwrap();
    let pid = project.figures.project_id.unwrap();
    assert_eq!(project.figures.funding_mode.unwrap().as_str(), "property_fund");
    for stage in ["designed", "tendered", "under_construction", "self_checked"] {
        app.move_project(
            &admin,
            pid,
            &MoveStage {
                stage: stage.into(),
                note: None,
                contractor: (stage == "tendered").then(|| "甲安防工程公司".into()),
            },
        )
        .await
        .unwrap();
    }
    let skip = app
        .move_project(
            &admin,
            pid,
            &MoveStage {
                stage: "accepted".into(),
                ..MoveStage::default()
            },
        )
        .await;
    assert!(matches!(
        skip,
        Err(AppError::Conflict {
            code: "invalid_stage_move",
            ..
        })
    ));

    // Requested too early: the perimeter zone has no sensor and data flowed on no day.
    let acceptance = app.request_acceptance(&admin, pid).await.unwrap();
    let failed: Vec<&str> = acceptance
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(
        failed,
        vec![
            "kit_complete",
            "networked_share",
            "data_flowing",
            "non_face_credential"
        ]
    );
    let early = app.sign_acceptance(&police, acceptance.id, true, "").await;
    assert!(matches!(
        early,
        Err(AppError::Conflict {
            code: "checklist_incomplete",
            ..
        })
    ));
    // Rejected: back to self-checked.
    let rejected = app
        .sign_acceptance(&housing, acceptance.id, false, "周界未建")
        .await
        .unwrap();
    assert_eq!(rejected.status, "rejected");
    assert_eq!(
        app.project(&admin, pid).await.unwrap().figures.stage,
        Some(Stage::SelfChecked)
    );

    // Fixed: a sensor on the fence, the terminal reports its card reader, seven days of data.
    let sensor = device_at(
        &app,
        &admin,
        "37032300001320000004",
        "perimeter_sensor",
        f.community,
        Some(f.perimeter_zone),
    )
    .await;
    for day in 0..7 {
        clock.set_ms(T0 + day * DAY + 3_600_000);
        let at = clock.now_ms();
        app.device_event(&f.terminal, &card(&format!("c-{day}"), at))
            .await
            .unwrap();
        app.device_event(&f.gate, &heartbeat(&format!("g-{day}"), at, None))
            .await
            .unwrap();
        let card_too = Some(vec!["face".to_string(), "card".to_string()]);
        app.device_event(&f.terminal, &heartbeat(&format!("t-{day}"), at, card_too))
            .await
            .unwrap();
        app.device_event(&sensor, &heartbeat(&format!("s-{day}"), at, None))
            .await
            .unwrap();
        app.device_event("37032300001320000003", &heartbeat(&format!("p-{day}"), at, None))
            .await
            .unwrap();
    }
    app.add_funding(&admin, pid, "property_company", "actual", 30_000_000, "物业出资")
        .await
        .unwrap();
    app.add_funding(&admin, pid, "maintenance_fund", "actual", 10_000_000, "维修资金")
        .await
        .unwrap();
    app.add_funding(&admin, pid, "county_finance", "planned", 5_000_000, "")
        .await
        .unwrap();
    let bad = app.add_funding(&admin, pid, "lottery", "actual", 1, "").await;
    assert!(matches!(
        bad,
        Err(AppError::Invalid {
            code: "invalid_funding_source",
            ..
        })
    ));

    let acceptance = app.request_acceptance(&admin, pid).await.unwrap();
    assert!(
        acceptance.checks.iter().all(|c| c.passed),
        "{:?}",
        acceptance.checks
    );
    // Manual items need their evidence.
    let photo = || Attachment {
        name: "标识.jpg".into(),
        content_type: "image/jpeg".into(),
        bytes: vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3],
    };
    let bare = app
        .record_acceptance_item(&police, acceptance.id, "signage", Some(true), None, Vec::new())
        .await;
    assert!(matches!(
        bare,
        Err(AppError::Invalid {
            code: "attachment_required",
            ..
        })
    ));
    for code in ["signage", "no_private_space", "as_built_documents"] {
        app.record_acceptance_item(
            &police,
            acceptance.id,
            code,
            Some(true),
            Some("现场核查"),
            vec![photo()],
        )
        .await
        .unwrap();
    }
    let view = app.acceptance_view(&admin, acceptance.id).await.unwrap();
    let key = view.items[0].attachments[0].0.clone();
    let (bytes, kind) = app
        .acceptance_attachment(&admin, acceptance.id, &key)
        .await
        .unwrap();
    assert_eq!((bytes, kind.as_str()), (photo().bytes, "image/jpeg"));

    let once = app
        .sign_acceptance(&police, acceptance.id, true, "")
        .await
        .unwrap();
    assert_eq!(once.status, "open");
    let twice = app.sign_acceptance(&police, acceptance.id, true, "").await;
    assert!(matches!(
        twice,
        Err(AppError::Conflict {
            code: "already_signed",
            ..
        })
    ));
    assert!(matches!(
        app.sign_acceptance(&admin, acceptance.id, true, "").await,
        Err(AppError::Forbidden(_))
    ));
    let done = app
        .sign_acceptance(&housing, acceptance.id, true, "")
        .await
        .unwrap();
    assert_eq!(done.status, "accepted");
    let project = app.project(&admin, pid).await.unwrap();
    assert_eq!(project.figures.stage, Some(Stage::Accepted));
    let steps: Vec<Stage> = project.history.iter().map(|s| s.stage).collect();
    assert_eq!(steps.last(), Some(&Stage::Accepted));
    assert!(steps.contains(&Stage::AcceptanceRequested));

    // 20 000 + 4 places × 500 + 30 % × 400 000 = 142 000 yuan, + 10 % on time = 156 200.
    let funding = app.project_funding(&admin, pid).await.unwrap();
    let award = funding.award.clone().unwrap();
    assert_eq!(
        (award.amount_fen, award.status.as_str()),
        (15_620_000, "computed")
    );
    assert_eq!(funding.actual[&FundingSource::PropertyCompany], 30_000_000);
    assert_eq!(funding.planned[&FundingSource::CountyFinance], 5_000_000);
    let unpaid = app.set_award_status(&admin, pid, "paid", Some("记-1")).await;
    assert!(matches!(
        unpaid,
        Err(AppError::Conflict {
            code: "invalid_award_step",
            ..
        })
    ));
    app.set_award_status(&admin, pid, "approved", None).await.unwrap();
    let paid = app
        .set_award_status(&admin, pid, "paid", Some("记-1"))
        .await
        .unwrap();
    assert_eq!(paid.award.unwrap().voucher.as_deref(), Some("记-1"));

    // Networked is measured: every required place now has a networked device.
    let networked = app
        .move_project(
            &admin,
            pid,
            &MoveStage {
                stage: "networked".into(),
                ..MoveStage::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(networked.figures.stage, Some(Stage::Networked));
}

#[tokio::test]
async fn progress_shows_the_stated_target_beside_the_sum_of_its_parts() {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(dir.path(), AppConfig::default()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let f = fixture(&app, &admin).await;
    app.create_project(
        &admin,
        &CreateProject {
            community_id: f.community,
            funding_mode: None,
            planned_year: 2026,
            note: None,
        },
    )
    .await
    .unwrap();
    let t = |segment: &str, percent: f64| TargetSpec {
        scope: "370323".into(),
        year: 2026,
        segment: segment.into(),
        metric: "built".into(),
        percent,
        source: "测试".into(),
    };
    let overlapping = app
        .set_programme_targets(
            &admin,
            "370323",
            &[
                t("property_type:commercial", 50.0),
                t("property_type:commercial+old", 60.0),
            ],
        )
        .await;
    assert!(matches!(
        overlapping,
        Err(AppError::Invalid {
            code: "overlapping_targets",
            ..
        })
    ));
    app.set_programme_targets(
        &admin,
        "370323",
        &[t("all", 80.0), t("property_type:commercial", 60.0)],
    )
    .await
    .unwrap();
    let rows = app.progress_report(&admin, "370323").await.unwrap();
    let all = rows
        .iter()
        .find(|r| r.level == "district" && r.segment == "all" && r.year == 2026)
        .unwrap();
    assert_eq!(all.target_pct, Some(80.0));
    assert_eq!(all.sum_of_parts_pct, Some(60.0));
    assert_eq!(
        (all.communities, all.planned, all.reached, all.short_of_target),
        (1, 1, 0, Some(1))
    );
    let street = rows
        .iter()
        .find(|r| r.level == "street" && r.segment == "all" && r.year == 2026)
        .unwrap();
    assert_eq!(street.target_from.as_deref(), Some("370323"));
    let street_officer = user(&app, "streetman", "street_officer", "street:370323001").await;
    assert!(matches!(
        app.set_programme_targets(&street_officer, "370323", &[]).await,
        Err(AppError::Forbidden(_))
    ));
}

#[tokio::test]
async fn an_offline_device_opens_a_ticket_that_feeds_the_street_score() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(T0);
    let app = common::app_at(dir.path(), AppConfig::default(), clock.clone()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let f = fixture(&app, &admin).await;
    app.set_contractor(&admin, "甲安防工程公司", 24, "0533-0000000")
        .await
        .unwrap();
    app.device_event(&f.gate, &heartbeat("h-0", T0, None))
        .await
        .unwrap();

    // Offline for an hour past the window: an alarm and a ticket due in 24 h.
    clock.set_ms(T0 + 2 * 3_600_000);
    assert_eq!(app.raise_offline_alarms(3_600_000).await.unwrap(), 1);
    let open = app.list_tickets(&admin, T0, T0 + DAY, true).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].reason.as_str(), open[0].contractor.as_str()),
        ("offline", "甲安防工程公司")
    );
    assert_eq!(open[0].due_at - open[0].opened_at, 24 * 3_600_000);
    // Back after 30 hours: repaired late.
    clock.set_ms(T0 + 32 * 3_600_000);
    app.device_event(&f.gate, &heartbeat("h-1", clock.now_ms(), None))
        .await
        .unwrap();
    assert!(
        app.list_tickets(&admin, T0, T0 + 3 * DAY, true)
            .await
            .unwrap()
            .is_empty()
    );
    let stats = app
        .maintenance_by_contractor(&admin, T0, T0 + 3 * DAY)
        .await
        .unwrap();
    assert_eq!(
        (stats[0].tickets, stats[0].repaired, stats[0].breaches),
        (1, 1, 1)
    );
    assert_eq!(stats[0].mean_repair_hours, Some(30.0));

    // The month of T0 (2026-11): one alarm, escalated or not, one ticket past its SLA.
    clock.set_ms(T0 + 5 * DAY);
    let scores = app.assessment(&admin, "370323", "2026-11").await.unwrap();
    assert_eq!(scores.len(), 1);
    let s = &scores[0];
    assert_eq!((s.tickets, s.tickets_in_sla), (1, 0));
    assert_eq!(s.indicators.maintenance_sla, Some(0.0));
    assert_eq!(s.indicators.coverage, Some(0.0));
    // Every device has coordinates on the site plan, the one without a named place too.
    assert_eq!((s.alarms, s.devices.installed, s.located), (1, 3, 3));
    assert!(s.score.is_some());
    assert!(matches!(
        app.assessment(&admin, "370323", "2026-13").await,
        Err(AppError::Invalid {
            code: "invalid_month",
            ..
        })
    ));
}
