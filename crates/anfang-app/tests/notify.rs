//! Notifications over a real store and a simulated clock: what each channel is queued (by kind,
//! severity, community and — above all — what its owner's role may see: a property manager's
//! webhook never carries a police watch-list hit), SLA escalations queued for the channels that
//! want them, the retry policy as the clock moves (backoff, `Retry-After`, giving up), stopped
//! channels, and the refusals.

mod common;

use anfang_app::access::{DeviceEvent, DeviceEventKind};
use anfang_app::alarms::Severity;
use anfang_app::notify::{Attempt, NewChannel};
use anfang_app::registry::PageRequest;
use anfang_app::{App, AppConfig, AppError, Principal};
use anfang_base::{Clock, SimClock};
use anfang_domain::notify::{ChannelKind, EventKind, Next};
use common::{T0, user};

fn all() -> PageRequest {
    PageRequest {
        page: 1,
        page_size: 100,
    }
}

fn webhook(name: &str, kinds: &[EventKind], community_id: Option<i64>) -> NewChannel {
    NewChannel {
        name: name.into(),
        channel: ChannelKind::Webhook,
        address: "https://ops.example.cn/anfang/hook?token=s3cret".into(),
        kinds: kinds.to_vec(),
        min_severity: None,
        community_id,
    }
}

fn event(id: &str, at: i64, kind: DeviceEventKind) -> DeviceEvent {
    DeviceEvent {
        event_id: id.into(),
        at_ms: at,
        kind,
        body_json: "{}".into(),
        images: Vec::new(),
    }
}

fn alarm(kind: &str, severity: Option<Severity>) -> DeviceEventKind {
    DeviceEventKind::Alarm {
        kind: kind.into(),
        zone: Some("3号防区".into()),
        severity,
    }
}

/// (event, idempotency key) of what is queued for a channel, oldest first.
async fn queued(app: &App, who: &Principal, channel: i64) -> Vec<(String, String)> {
    let mut items: Vec<(String, String)> = app
        .channel_deliveries(who, channel, all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|n| (n.event, n.idempotency_key))
        .collect();
    items.reverse();
    items
}

#[tokio::test]
async fn each_channel_gets_what_it_asked_for_and_its_owner_may_see() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(T0);
    let app = common::app_at(dir.path(), AppConfig::default(), clock.clone()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let scope = format!("community:{}", community.code);
    let manager = user(&app, "manager1", "property_manager", &scope).await;
    let police = user(&app, "police1", "community_police", &scope).await;
    let resident = user(&app, "resident1", "resident", &scope).await;

    // The property office wants alarms and warnings; the police station warnings; the street's
    // duty desk only escalations of major alarms and worse.
    let office = app
        .create_channel(
            &manager,
            &webhook(
                "物业值班室",
                &[EventKind::Alarm, EventKind::Warning],
                Some(community.id),
            ),
        )
        .await
        .unwrap();
    let secret = office.secret.clone().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() == 6 + 64);
    assert_eq!(
        office.channel.address, "https://ops.example.cn/…",
        "paths may hold tokens"
    );
    let station = app
        .create_channel(
            &police,
            &webhook("警务室", &[EventKind::Warning], Some(community.id)),
        )
        .await
        .unwrap();
    let desk = app
        .create_channel(
            &admin,
            &NewChannel {
                min_severity: Some(Severity::Major),
                ..webhook("区值班", &[EventKind::Escalation], None)
            },
        )
        .await
        .unwrap();
    let (office, station, desk) = (office.channel.id, station.channel.id, desk.channel.id);

    let sensor = common::device(
        &app,
        &admin,
        "37032300001340000001",
        "perimeter_sensor",
        "mqtt",
        community.id,
    )
    .await;
    let gate = common::device(
        &app,
        &admin,
        "37032300001320000009",
        "barrier_gate",
        "http_push",
        community.id,
    )
    .await;

    // An intrusion (critical), its repeat a minute later, and a door held open (minor).
    app.device_event(&sensor.code, &event("a-1", T0, alarm("intrusion", None)))
        .await
        .unwrap();
    clock.advance_ms(60_000);
    app.device_event(&sensor.code, &event("a-2", T0 + 60_000, alarm("intrusion", None)))
        .await
        .unwrap();
    app.device_event(
        &sensor.code,
        &event("a-3", T0 + 60_000, alarm("door_held_open", None)),
    )
    .await
    .unwrap();
    let alarms: Vec<(String, String)> = queued(&app, &manager, office).await;
    assert_eq!(alarms.len(), 2, "a repeat is merged, not sent again: {alarms:?}");
    assert!(alarms.iter().all(|(e, _)| e == "alarm.raised"));
    assert!(
        queued(&app, &police, station).await.is_empty(),
        "the station asked for warnings only"
    );

    // A wanted plate at the gate: a warning for the police only.
    common::watch_plate(&app, "鲁C7J597", "涉案车辆").await;
    app.device_event(
        &gate.code,
        &event(
            "p-1",
            T0 + 60_000,
            DeviceEventKind::Plate {
                plate: "鲁C7J597".into(),
                confidence: 0.97,
                entering: true,
            },
        ),
    )
    .await
    .unwrap();
    let station_items = queued(&app, &police, station).await;
    assert_eq!(station_items.len(), 1);
    assert_eq!(station_items[0].0, "warning.raised");
    assert!(
        queued(&app, &manager, office)
            .await
            .iter()
            .all(|(e, _)| e.starts_with("alarm.")),
        "a property manager's webhook never carries a watch-list hit"
    );
    let payload = &app
        .channel_deliveries(&police, station, all())
        .await
        .unwrap()
        .items[0]
        .payload;
    let body: serde_json::Value = serde_json::from_str(payload).unwrap();
    assert_eq!(body["event"], "warning.raised");
    assert_eq!(body["data"]["kind"], "watch_hit");
    assert!(body["occurred_at"].as_str().unwrap().ends_with("+08:00"));

    // Nobody acknowledges: past the critical SLA (1 min) the intrusion escalates, and the desk
    // hears of it; the minor door alarm's first escalation comes later and is below its bar.
    clock.advance_ms(30_000);
    let escalated = app.escalate_alarms().await.unwrap();
    assert_eq!(escalated.len(), 1);
    let desk_items = queued(&app, &admin, desk).await;
    assert_eq!(desk_items.len(), 1);
    assert_eq!(desk_items[0].0, "alarm.escalated");
    assert_eq!(desk_items[0].1, format!("alarm:{}:escalated:1", escalated[0].0));
    clock.advance_ms(40 * 60_000);
    assert_eq!(app.escalate_alarms().await.unwrap().len(), 2);
    let desk_items = queued(&app, &admin, desk).await;
    assert_eq!(
        desk_items.len(),
        2,
        "the intrusion's second level; the minor alarm is below the bar"
    );

    // Channels are private to their owners; the resident may make none.
    assert!(
        app.list_channels(&manager)
            .await
            .unwrap()
            .iter()
            .all(|c| c.id == office)
    );
    assert!(matches!(
        app.channel_deliveries(&manager, station, all()).await,
        Err(AppError::NotFound { .. })
    ));
    assert!(matches!(
        app.create_channel(&resident, &webhook("x", &[EventKind::Alarm], Some(community.id)))
            .await,
        Err(AppError::Forbidden(_))
    ));
    assert_eq!(app.list_channels(&admin).await.unwrap().len(), 3);
}

#[tokio::test]
async fn deliveries_retry_with_backoff_and_stop_when_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(T0);
    let app = common::app_at(dir.path(), AppConfig::default(), clock.clone()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let scope = format!("community:{}", community.code);
    let manager = user(&app, "manager1", "property_manager", &scope).await;
    let hook = app
        .create_channel(
            &manager,
            &webhook("值班", &[EventKind::Alarm], Some(community.id)),
        )
        .await
        .unwrap()
        .channel
        .id;
    let sensor = common::device(
        &app,
        &admin,
        "37032300001340000001",
        "perimeter_sensor",
        "mqtt",
        community.id,
    )
    .await;
    app.device_event(&sensor.code, &event("a-1", T0, alarm("sos", None)))
        .await
        .unwrap();
    app.device_event(&sensor.code, &event("a-2", T0, alarm("fire", None)))
        .await
        .unwrap();

    let taken = app.take_deliveries(10).await.unwrap();
    assert_eq!(taken.len(), 2);
    assert_eq!(
        taken[0].address,
        "https://ops.example.cn/anfang/hook?token=s3cret"
    );
    assert!(taken[0].secret.as_deref().unwrap().starts_with("whsec_"));
    assert!(
        app.take_deliveries(10).await.unwrap().is_empty(),
        "taken items are reserved for their worker"
    );
    let unavailable = Attempt {
        status: Some(503),
        retry_after_ms: None,
        error: Some("503 Service Unavailable".into()),
    };
    assert_eq!(
        app.delivery_result(taken[0].id, &unavailable).await.unwrap(),
        Next::Retry(30_000)
    );
    let refused = Attempt {
        status: Some(400),
        retry_after_ms: None,
        error: Some("400 Bad Request".into()),
    };
    assert_eq!(
        app.delivery_result(taken[1].id, &refused).await.unwrap(),
        Next::GiveUp
    );
    clock.advance_ms(29_000);
    assert!(app.take_deliveries(10).await.unwrap().is_empty());
    clock.advance_ms(1_000);
    let again = app.take_deliveries(10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (taken[0].id, 1));
    assert_eq!(again[0].idempotency_key, taken[0].idempotency_key);
    let busy = Attempt {
        status: Some(429),
        retry_after_ms: Some(5_000),
        error: None,
    };
    assert_eq!(
        app.delivery_result(again[0].id, &busy).await.unwrap(),
        Next::Retry(5_000)
    );
    clock.advance_ms(5_000);
    let third = app.take_deliveries(10).await.unwrap();
    let ok = Attempt {
        status: Some(200),
        retry_after_ms: None,
        error: None,
    };
    assert_eq!(
        app.delivery_result(third[0].id, &ok).await.unwrap(),
        Next::Delivered
    );
    let log = app.channel_deliveries(&manager, hook, all()).await.unwrap();
    let states: Vec<(&str, i64)> = log.items.iter().map(|n| (n.state.as_str(), n.attempts)).collect();
    assert_eq!(states, vec![("dead", 1), ("delivered", 3)]);
    assert!(app.next_delivery_due().await.unwrap().is_none());

    // A stopped channel is queued nothing new; started again it receives what comes next.
    app.set_channel_active(&manager, hook, false).await.unwrap();
    app.device_event(
        &sensor.code,
        &event("a-3", clock.now_ms(), alarm("climbing", None)),
    )
    .await
    .unwrap();
    assert_eq!(
        app.channel_deliveries(&manager, hook, all()).await.unwrap().total,
        2
    );
    app.set_channel_active(&manager, hook, true).await.unwrap();
    app.device_event(&sensor.code, &event("a-4", clock.now_ms(), alarm("fall", None)))
        .await
        .unwrap();
    assert_eq!(app.take_deliveries(10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn channels_are_checked_before_they_are_made() {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(dir.path(), AppConfig::default()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let scope = format!("community:{}", community.code);
    let manager = user(&app, "manager1", "property_manager", &scope).await;
    let code = |r: Result<_, AppError>| {
        r.map(|_: anfang_app::notify::CreatedChannel| ())
            .unwrap_err()
            .code()
    };
    let sms = NewChannel {
        channel: ChannelKind::Sms,
        address: "13800138000".into(),
        ..webhook("值班手机", &[EventKind::Alarm], Some(community.id))
    };
    assert_eq!(
        code(app.create_channel(&manager, &sms).await),
        "channel_unavailable"
    );
    assert_eq!(
        code(
            app.create_channel(
                &manager,
                &NewChannel {
                    address: "http://ops.example.cn/hook".into(),
                    ..webhook("x", &[EventKind::Alarm], Some(community.id))
                }
            )
            .await
        ),
        "invalid_address"
    );
    assert_eq!(
        code(
            app.create_channel(&manager, &webhook("x", &[], Some(community.id)))
                .await
        ),
        "missing_kinds"
    );
    assert_eq!(
        code(
            app.create_channel(&manager, &webhook("x", &[EventKind::Alarm], None))
                .await
        ),
        "missing_community"
    );
    assert_eq!(
        code(
            app.create_channel(
                &manager,
                &webhook("x", &[EventKind::Alarm], Some(community.id + 99))
            )
            .await
        ),
        "not_found"
    );

    // With an SMS sender configured, a number is accepted and shown masked.
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(
        dir.path(),
        AppConfig {
            message_senders: vec![ChannelKind::Sms],
            ..AppConfig::default()
        },
    )
    .await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let made = app
        .create_channel(
            &admin,
            &NewChannel {
                community_id: Some(community.id),
                ..sms
            },
        )
        .await
        .unwrap();
    assert!(made.secret.is_none());
    assert!(!made.channel.address.contains("0013"), "{}", made.channel.address);
}
