//! The alarm centre over a real store and a simulated clock: alarms raised from device events
//! (repeats merged, the nearest cameras linked, a forced door), the lifecycle with who and notes,
//! the SLA's escalation along the role chain as the clock moves, device-offline alarms,
//! statistics, and the refusals (role, scope, closed alarm).

mod common;

use anfang_app::access::{AckStatus, DeviceEvent, DeviceEventKind};
use anfang_app::alarms::{AlarmAction, Severity};
use anfang_app::registry::PageRequest;
use anfang_app::registry::{CreateDevice, CreatePlace};
use anfang_app::store::AlarmFilter;
use anfang_app::{AppConfig, AppError};
use anfang_base::{Clock, SimClock};
use anfang_domain::model::Role;
use common::{T0, user};

fn first_page() -> PageRequest {
    PageRequest {
        page: 1,
        page_size: 10,
    }
}

fn alarm_event(id: &str, at: i64, kind: &str, zone: Option<&str>, severity: Option<Severity>) -> DeviceEvent {
    DeviceEvent {
        event_id: id.into(),
        at_ms: at,
        kind: DeviceEventKind::Alarm {
            kind: kind.into(),
            zone: zone.map(str::to_string),
            severity,
        },
        body_json: "{}".into(),
        images: Vec::new(),
    }
}

#[tokio::test]
async fn alarms_are_raised_merged_handled_escalated_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(T0);
    let app = common::app_at(dir.path(), AppConfig::default(), clock.clone()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let scope = format!("community:{}", community.code);
    let guard = user(&app, "guard1", "guard", &scope).await;
    let resident = user(&app, "resident1", "resident", &scope).await;
    let grid = user(&app, "grid1", "grid_worker", &scope).await;

    // A perimeter zone on the site plan with a sensor, and three cameras at different distances.
    let zone = app
        .create_place(
            &admin,
            &CreatePlace {
                community_id: community.id,
                kind: "perimeter_zone".into(),
                name: "东侧围墙".into(),
                x: 90.0,
                y: 50.0,
                attended: false,
                unit_id: None,
            },
        )
        .await
        .unwrap();
    let device = |code: &str, kind: &str, x: f64, y: f64, place_id: Option<i64>| CreateDevice {
        code: code.into(),
        name: None,
        kind: kind.into(),
        protocol: "mqtt".into(),
        community_id: Some(community.id),
        place_id,
        x: Some(x),
        y: Some(y),
        ..CreateDevice::default()
    };
    let (sensor, _) = app
        .create_device(
            None,
            &device(
                "37032300001340000001",
                "perimeter_sensor",
                90.0,
                50.0,
                Some(zone.id),
            ),
        )
        .await
        .unwrap();
    let mut cameras = Vec::new();
    for (i, (x, y)) in [(10.0, 10.0), (85.0, 45.0), (70.0, 50.0), (95.0, 90.0)]
        .iter()
        .enumerate()
    {
        let (cam, _) = app
            .create_device(
                None,
                &device(&format!("3703230000132000000{i}"), "video_camera", *x, *y, None),
            )
            .await
            .unwrap();
        cameras.push(cam.id);
    }

    // An intrusion, then the same sensor again two minutes later: one alarm, one repeat.
    let answer = app
        .device_event(
            &sensor.code,
            &alarm_event("a-1", T0, "intrusion", Some("east fence"), Some(Severity::Minor)),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, AckStatus::Stored);
    app.device_event(
        &sensor.code,
        &alarm_event("a-2", T0 + 120_000, "perimeter_intrusion", None, None),
    )
    .await
    .unwrap();
    // The device's retry of the first event is a duplicate, not a third report.
    let again = app
        .device_event(&sensor.code, &alarm_event("a-1", T0, "intrusion", None, None))
        .await
        .unwrap();
    assert_eq!(again.status, AckStatus::Duplicate);
    let listed = app
        .list_alarms(&guard, AlarmFilter::default(), first_page())
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    let alarm = &listed.items[0];
    assert_eq!(
        (
            alarm.kind.as_str(),
            alarm.severity.as_str(),
            alarm.state.as_str(),
            alarm.repeats
        ),
        ("perimeter_intrusion", "critical", "new", 1)
    );
    assert_eq!(
        (alarm.community_id, alarm.place_id),
        (Some(community.id), Some(zone.id))
    );
    assert_eq!(alarm.zone.as_deref(), Some("east fence"));
    // The three cameras nearest to the zone, nearest first.
    assert_eq!(
        alarm.cameras,
        format!("[{},{},{}]", cameras[1], cameras[2], cameras[3])
    );
    let id = alarm.id;

    // Nobody acknowledges: after 1 minute (critical) the property manager is told, after 2 the
    // community police, and then nothing more.
    clock.set_ms(T0 + 59_000);
    assert!(app.escalate_alarms().await.unwrap().is_empty());
    clock.set_ms(T0 + 60_000);
    assert_eq!(
        app.escalate_alarms().await.unwrap(),
        vec![(id, Role::PropertyManager)]
    );
    assert!(app.escalate_alarms().await.unwrap().is_empty());
    clock.set_ms(T0 + 125_000);
    assert_eq!(
        app.escalate_alarms().await.unwrap(),
        vec![(id, Role::CommunityPolice)]
    );
    clock.set_ms(T0 + 900_000);
    assert!(app.escalate_alarms().await.unwrap().is_empty());

    // Who may act: not a resident, not a grid worker (read only); a closed alarm takes nothing.
    assert!(matches!(
        app.list_alarms(&resident, AlarmFilter::default(), first_page())
            .await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.act_on_alarm(&grid, id, AlarmAction::Acknowledge, None, None)
            .await,
        Err(AppError::Forbidden(_))
    ));
    let acked = app
        .act_on_alarm(
            &guard,
            id,
            AlarmAction::Acknowledge,
            Some("看监控中".into()),
            None,
        )
        .await
        .unwrap();
    assert_eq!(acked.acknowledged_at, Some(T0 + 900_000));
    assert_eq!(acked.acknowledged_by.as_deref(), Some("user:guard1"));
    assert!(matches!(
        app.act_on_alarm(&guard, id, AlarmAction::Dispatch, None, None)
            .await,
        Err(AppError::Invalid {
            code: "missing_dispatch",
            ..
        })
    ));
    clock.advance_ms(30_000);
    app.act_on_alarm(&guard, id, AlarmAction::Dispatch, None, Some("巡逻二组".into()))
        .await
        .unwrap();
    clock.advance_ms(300_000);
    let closed = app
        .act_on_alarm(&guard, id, AlarmAction::MarkFalse, Some("野猫翻墙".into()), None)
        .await
        .unwrap();
    assert_eq!(closed.state, "false_alarm");
    assert_eq!(closed.dispatched_to.as_deref(), Some("巡逻二组"));
    match app
        .act_on_alarm(&guard, id, AlarmAction::Resolve, None, None)
        .await
    {
        Err(AppError::Conflict { code, .. }) => assert_eq!(code, "alarm_closed"),
        other => panic!("{other:?}"),
    }
    let detail = app.alarm(&grid, id).await.unwrap();
    assert_eq!(
        detail
            .actions
            .iter()
            .map(|a| a.action.as_str())
            .collect::<Vec<_>>(),
        // In time order: the repeat happened (at the device) after the first escalation.
        vec![
            "raise",
            "escalate",
            "repeat",
            "escalate",
            "acknowledge",
            "dispatch",
            "mark_false"
        ]
    );
    assert_eq!(detail.actions[6].note.as_deref(), Some("野猫翻墙"));
    // A repeat after closing raises a new alarm.
    app.device_event(
        &sensor.code,
        &alarm_event("a-3", clock.now_ms(), "intrusion", None, None),
    )
    .await
    .unwrap();
    assert_eq!(
        app.list_alarms(
            &guard,
            AlarmFilter {
                open: true,
                ..AlarmFilter::default()
            },
            first_page()
        )
        .await
        .unwrap()
        .total,
        1
    );

    // Statistics: two intrusions, one acknowledged 15 minutes late (SLA breached), one new.
    let stats = app
        .alarm_stats(&grid, Some(community.id), T0, T0 + 86_400_000)
        .await
        .unwrap();
    assert_eq!((stats.total, stats.false_alarms, stats.open_new), (2, 1, 1));
    assert_eq!(stats.breached_sla, 1);
    assert_eq!(stats.mean_ack_ms, Some(900_000));
}

#[tokio::test]
async fn silent_devices_raise_one_offline_alarm_and_out_of_scope_alarms_are_invisible() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(T0);
    let app = common::app_at(dir.path(), AppConfig::default(), clock.clone()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let guard = user(&app, "guard1", "guard", &format!("community:{}", community.code)).await;
    let other = common::community_under(
        &app,
        &admin,
        community.committee_id,
        "370323001001002",
        "另一小区",
    )
    .await;
    let other_guard = user(&app, "guard2", "guard", &format!("community:{}", other.code)).await;
    let (door, _) = app
        .create_device(
            None,
            &CreateDevice {
                code: "37032300001320000009".into(),
                name: None,
                kind: "face_door_terminal".into(),
                protocol: "mqtt".into(),
                community_id: Some(community.id),
                ..CreateDevice::default()
            },
        )
        .await
        .unwrap();
    // Never seen: no alarm (it was never online).
    assert_eq!(app.raise_offline_alarms(600_000).await.unwrap(), 0);
    app.device_event(
        &door.code,
        &DeviceEvent {
            event_id: "hb-1".into(),
            at_ms: T0,
            kind: DeviceEventKind::Heartbeat {
                firmware: "1.0".into(),
                library_version: 0,
                accepts: None,
            },
            body_json: "{}".into(),
            images: Vec::new(),
        },
    )
    .await
    .unwrap();
    clock.set_ms(T0 + 600_000);
    assert_eq!(app.raise_offline_alarms(600_000).await.unwrap(), 0);
    clock.set_ms(T0 + 600_001);
    assert_eq!(app.raise_offline_alarms(600_000).await.unwrap(), 1);
    clock.advance_ms(600_000);
    assert_eq!(
        app.raise_offline_alarms(600_000).await.unwrap(),
        0,
        "one open alarm is enough"
    );
    // A door forced comes in as an alarm of its own.
    app.device_event(
        &door.code,
        &alarm_event("d-1", clock.now_ms(), "door_forced", Some("1"), None),
    )
    .await
    .unwrap();
    let list = app
        .list_alarms(&guard, AlarmFilter::default(), first_page())
        .await
        .unwrap();
    // Open first: the forced door; the offline alarm closed when the door reported again.
    assert_eq!(
        list.items.iter().map(|a| a.kind.as_str()).collect::<Vec<_>>(),
        vec!["door_forced", "device_offline"]
    );
    // The door reported again (the forced-door event): its offline alarm closed itself.
    let offline = app
        .list_alarms(
            &guard,
            AlarmFilter {
                kind: Some("device_offline".into()),
                ..AlarmFilter::default()
            },
            first_page(),
        )
        .await
        .unwrap();
    assert_eq!(offline.items[0].state, "resolved");
    assert_eq!(offline.items[0].closed_by.as_deref(), Some("system"));
    // Another community's guard sees none of it and cannot act on it.
    let theirs = app
        .list_alarms(&other_guard, AlarmFilter::default(), first_page())
        .await
        .unwrap();
    assert_eq!(theirs.total, 0);
    assert!(matches!(
        app.act_on_alarm(
            &other_guard,
            list.items[0].id,
            AlarmAction::Acknowledge,
            None,
            None
        )
        .await,
        Err(AppError::NotFound { .. })
    ));
}
