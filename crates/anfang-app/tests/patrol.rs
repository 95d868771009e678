//! Electronic patrol over a real store and a simulated clock: a route of three checkpoints walked
//! by a guard with a patrol wand; scans arrive as device events; rounds are judged once their
//! time is over (one complete, one with a late and a missed checkpoint, one walked out of
//! order), alarms are raised for each checkpoint that went wrong, the daily report sums the
//! guard's rounds, and re-running the job judges nothing twice.

mod common;

use anfang_app::access::{DeviceEvent, DeviceEventKind};
use anfang_app::patrol::{CreateRoute, RouteCheckpoint};
use anfang_app::registry::{CreateDevice, PageRequest};
use anfang_app::store::AlarmFilter;
use anfang_app::{AppConfig, AppError};
use anfang_base::{Clock, SimClock};
use common::{T0, user};

const MINUTE: i64 = 60_000;

fn scan(id: &str, at: i64, checkpoint: &str, guard: &str) -> DeviceEvent {
    DeviceEvent {
        event_id: id.into(),
        at_ms: at,
        kind: DeviceEventKind::PatrolScan {
            checkpoint: checkpoint.into(),
            guard_ref: guard.into(),
        },
        body_json: "{}".into(),
        images: Vec::new(),
    }
}

#[tokio::test]
async fn rounds_are_judged_alarmed_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    // T0 is 08:00 local time on Monday 2026-11-23.
    let clock = SimClock::new(T0);
    let app = common::app_at(dir.path(), AppConfig::default(), clock.clone()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let scope = format!("community:{}", community.code);
    let pm = user(&app, "pm1", "property_manager", &scope).await;
    let guard = user(&app, "guard1", "guard", &scope).await;
    let police = user(&app, "police1", "community_police", &scope).await;

    let device = |code: &str, name: &str, kind: &str| CreateDevice {
        code: code.into(),
        name: Some(name.into()),
        kind: kind.into(),
        protocol: "mqtt".into(),
        community_id: Some(community.id),
        x: Some(10.0),
        y: Some(10.0),
        ..CreateDevice::default()
    };
    let mut checkpoints = Vec::new();
    for (n, name) in ["CP-1 南门", "CP-2 地库", "CP-3 北墙"].iter().enumerate() {
        let code = format!("3703230000135000000{}", n + 1);
        let (d, _) = app
            .create_device(Some(&admin), &device(&code, name, "patrol_checkpoint"))
            .await
            .unwrap();
        checkpoints.push(d);
    }
    let wand = "37032300001350000009";
    let (wand_device, _) = app
        .create_device(Some(&admin), &device(wand, "巡更棒1", "patrol_reader"))
        .await
        .unwrap();

    let req = CreateRoute {
        community_id: community.id,
        name: "白班巡更".into(),
        checkpoints: checkpoints
            .iter()
            .enumerate()
            .map(|(i, d)| RouteCheckpoint {
                device_id: d.id,
                offset_minutes: 10 * i as u32,
            })
            .collect(),
        times: "1-7 09:00,12:00,15:00".into(),
        guard_user_id: Some(guard.user_id),
        window_minutes: 40,
        tolerance_minutes: 5,
    };
    // Guards walk routes; they do not plan them. A wand is not a checkpoint.
    assert!(matches!(
        app.create_patrol_route(&guard, &req).await.unwrap_err(),
        AppError::Forbidden(_)
    ));
    let mut bad = req.clone();
    bad.checkpoints[1].device_id = wand_device.id;
    let err = app.create_patrol_route(&pm, &bad).await.unwrap_err();
    assert_eq!(err.code(), "invalid_checkpoint");
    let mut bad = req.clone();
    bad.times = "every hour".into();
    assert_eq!(
        app.create_patrol_route(&pm, &bad).await.unwrap_err().code(),
        "invalid_patrol_plan"
    );
    let route = app.create_patrol_route(&pm, &req).await.unwrap();
    assert_eq!(route.route.times, "1,2,3,4,5,6,7 09:00,12:00,15:00");
    assert_eq!(route.checkpoints[2].name, "CP-3 北墙");
    assert_eq!(
        app.create_patrol_route(&pm, &req).await.unwrap_err().code(),
        "duplicate_route"
    );

    let nine = T0 + 60 * MINUTE;
    let guard_ref = guard.user_id.to_string();
    // 09:00 round: all three in order and on time (by code, by code, by name).
    app.device_event(wand, &scan("s1", nine + MINUTE, &checkpoints[0].code, &guard_ref))
        .await
        .unwrap();
    app.device_event(
        wand,
        &scan("s2", nine + 11 * MINUTE, &checkpoints[1].code, "guard1"),
    )
    .await
    .unwrap();
    app.device_event(wand, &scan("s3", nine + 22 * MINUTE, "CP-3 北墙", &guard_ref))
        .await
        .unwrap();
    // 12:00 round: CP-2 scanned 20 minutes after it was due (late), CP-3 never (missed).
    let noon = nine + 180 * MINUTE;
    app.device_event(
        wand,
        &scan("s4", noon + 2 * MINUTE, &checkpoints[0].code, &guard_ref),
    )
    .await
    .unwrap();
    app.device_event(
        wand,
        &scan("s5", noon + 30 * MINUTE, &checkpoints[1].code, &guard_ref),
    )
    .await
    .unwrap();
    // 15:00 round: walked 1, 3, 2.
    let three = noon + 180 * MINUTE;
    for (id, minute, cp) in [("s6", 1, 0), ("s7", 8, 2), ("s8", 12, 1)] {
        app.device_event(
            wand,
            &scan(id, three + minute * MINUTE, &checkpoints[cp].code, &guard_ref),
        )
        .await
        .unwrap();
    }

    // Nothing is judged before a round is over (plus the grace for late uploads).
    let mut live = app.live().subscribe();
    clock.set_ms(nine + 44 * MINUTE);
    assert_eq!(app.judge_patrol_rounds().await.unwrap(), 0);
    clock.set_ms(nine + 45 * MINUTE);
    assert_eq!(app.judge_patrol_rounds().await.unwrap(), 1);
    clock.set_ms(three + 2 * 60 * MINUTE);
    assert_eq!(app.judge_patrol_rounds().await.unwrap(), 2);
    assert_eq!(
        app.judge_patrol_rounds().await.unwrap(),
        0,
        "each round is judged once"
    );
    // Each patrol alarm went out on the live feed once committed.
    let mut live_alarms = 0;
    while let Ok(event) = live.try_recv() {
        if event.kind == "alarm" && event.data["kind"] == "patrol_missed" {
            assert_eq!(event.community_id, Some(community.id));
            live_alarms += 1;
        }
    }
    assert_eq!(live_alarms, 3);

    let day = clock.today_cst();
    let rounds = app.patrol_rounds(&guard, Some(community.id), day).await.unwrap();
    let statuses: Vec<_> = rounds.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, vec!["complete", "incomplete", "irregular"]);
    assert_eq!((rounds[1].late, rounds[1].missed), (1, 1));
    assert_eq!(rounds[2].out_of_order, 1);

    // One patrol alarm per checkpoint that went wrong, linked to the checkpoint.
    let alarms = app
        .list_alarms(
            &police,
            AlarmFilter {
                kind: Some("patrol_missed".into()),
                ..AlarmFilter::default()
            },
            PageRequest {
                page: 1,
                page_size: 20,
            },
        )
        .await
        .unwrap();
    assert_eq!(alarms.total, 3);
    let mut zones: Vec<_> = alarms.items.iter().filter_map(|a| a.zone.clone()).collect();
    zones.sort();
    assert_eq!(
        zones,
        vec![
            "白班巡更 第2点 迟到",
            "白班巡更 第3点 漏巡",
            "白班巡更 第3点 顺序错误"
        ]
    );
    assert!(alarms.items.iter().all(|a| a.source == "patrol"));

    let report = app.patrol_report(&pm, Some(community.id), day).await.unwrap();
    assert_eq!(report.len(), 1);
    let c = &report[0].completion;
    assert_eq!(report[0].guard_user_id, Some(guard.user_id));
    assert_eq!((c.rounds, c.complete, c.checkpoints), (3, 1, 9));
    assert_eq!((c.on_time, c.late, c.missed, c.out_of_order), (6, 1, 1, 1));
    assert!((c.completion() - 8.0 / 9.0).abs() < 1e-9);

    // A stopped route has no more rounds.
    app.set_patrol_route_active(&pm, route.route.id, false)
        .await
        .unwrap();
    clock.set_ms(three + 24 * 60 * MINUTE);
    assert_eq!(app.judge_patrol_rounds().await.unwrap(), 0);

    // Another community's manager sees none of it.
    let other = common::community_under(
        &app,
        &admin,
        community.committee_id,
        "370323001001002",
        "别的小区",
    )
    .await;
    let other_pm = user(
        &app,
        "pm2",
        "property_manager",
        &format!("community:{}", other.code),
    )
    .await;
    assert!(app.patrol_routes(&other_pm, None).await.unwrap().is_empty());
    assert!(matches!(
        app.patrol_report(&other_pm, Some(community.id), day)
            .await
            .unwrap_err(),
        AppError::NotFound { .. }
    ));
}
