//! GB/T 28181 presence over a real store and a simulated clock: SIP passwords only for
//! `gb28181` devices, a catalogue creating the missing cameras (audited, existing ones kept),
//! keepalives moving `last_seen_at` at most once a minute for the NVR and its ON cameras,
//! the programme's networking rate counting the cameras listed ON, "went offline" raising one
//! `device_offline` alarm at once and "online" resolving it, and the per-community read scoped
//! to the caller.

mod common;

use anfang_app::alarms::AlarmState;
use anfang_app::registry::PageRequest;
use anfang_app::store::{AlarmFilter, Page};
use anfang_app::video::{ChannelEvent, GbChannel, GbRegistration};
use anfang_app::{AppConfig, AppError};
use anfang_base::SimClock;
use anfang_domain::programme::DeviceClass;
use common::{T0, user};

const NVR: &str = "37032300001180000001";
const EAST: &str = "37032300001320000011";
const WEST: &str = "37032300001320000012";
const GATE: &str = "37032300001320000013";
const ALARM_INPUT: &str = "37032300001340000014";

fn camera(code: &str, name: &str, online: bool) -> GbChannel {
    GbChannel {
        code: code.into(),
        name: name.into(),
        online,
        camera: true,
    }
}

fn registration() -> GbRegistration {
    GbRegistration {
        peer: "192.0.2.7:5060".into(),
        transport: "udp".into(),
        user_agent: Some("IPC-NVR 1.0".into()),
    }
}

#[tokio::test]
async fn presence_catalogues_keepalives_and_offline_alarms() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(T0);
    let app = common::app_at(dir.path(), AppConfig::default(), clock.clone()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let (nvr, secret) = app
        .create_device(
            Some(&admin),
            &anfang_app::registry::CreateDevice {
                code: NVR.into(),
                kind: "nvr".into(),
                protocol: "gb28181".into(),
                community_id: Some(community.id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let door = common::device(
        &app,
        &admin,
        "37032300001320000099",
        "face_door_terminal",
        "mqtt",
        community.id,
    )
    .await;
    // A camera already in the registry under its own name.
    let gate = common::device(&app, &admin, GATE, "video_camera", "gb28181", community.id).await;

    // Only gb28181 devices have a SIP password: their secret.
    assert_eq!(app.gb_password(NVR).await.unwrap(), Some(secret));
    assert_eq!(app.gb_password(&door.code).await.unwrap(), None);
    assert_eq!(app.gb_password("37032300001180000077").await.unwrap(), None);

    app.gb_registered(NVR, registration()).await.unwrap();
    let p = app.video_presence().device(NVR).unwrap();
    assert!(p.registered && p.online);
    assert_eq!(p.peer.as_deref(), Some("192.0.2.7:5060"));
    assert_eq!(app.device(&admin, nvr.id).await.unwrap().last_seen_at, Some(T0));

    // The catalogue: the NVR itself, two new cameras (one OFF), the known one, an alarm input.
    let created = app
        .gb_catalog(
            NVR,
            &[
                GbChannel {
                    code: NVR.into(),
                    name: "录像机".into(),
                    online: true,
                    camera: false,
                },
                camera(EAST, "东门入口", true),
                camera(WEST, "西门", false),
                camera(GATE, "新名字", true),
                GbChannel {
                    code: ALARM_INPUT.into(),
                    name: "报警输入".into(),
                    online: true,
                    camera: false,
                },
            ],
            true,
        )
        .await
        .unwrap();
    assert_eq!(created, vec![EAST.to_string(), WEST.to_string()]);
    let all = app
        .list_devices(
            &admin,
            &Default::default(),
            PageRequest {
                page: 1,
                page_size: 50,
            },
        )
        .await
        .unwrap()
        .items;
    let east = all.iter().find(|d| d.code == EAST).unwrap();
    assert_eq!(
        (
            east.kind.as_str(),
            east.protocol.as_str(),
            east.name.as_str(),
            east.community_id
        ),
        ("video_camera", "gb28181", "东门入口", Some(community.id))
    );
    assert_eq!(east.last_seen_at, Some(T0), "an ON camera is seen with its NVR");
    let west = all.iter().find(|d| d.code == WEST).unwrap();
    assert_eq!(west.last_seen_at, None, "an OFF camera is not");
    let kept = all.iter().find(|d| d.code == GATE).unwrap();
    assert_eq!(kept.name, gate.name, "an existing camera keeps its data");
    assert!(
        all.iter().all(|d| d.code != ALARM_INPUT),
        "only cameras are created"
    );
    let audited = app
        .list_audit(&admin, Page::ALL)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.actor == "system:gb28181" && e.action == "device.create")
        .count();
    assert_eq!(audited, 2);
    // A catalogue again creates nothing.
    assert!(
        app.gb_catalog(NVR, &[camera(EAST, "东门入口", true)], false)
            .await
            .unwrap()
            .is_empty()
    );

    // Per community: the NVR and three cameras, two of them online.
    let summary = app.video_communities(&admin, None).await.unwrap();
    assert_eq!(summary.len(), 1);
    let s = &summary[0];
    assert_eq!(
        (s.devices, s.registered, s.online, s.cameras, s.cameras_online),
        (4, 1, 3, 3, 2)
    );
    let detail = app.community_video(&admin, community.id).await.unwrap();
    let west = detail.iter().find(|d| d.device.code == WEST).unwrap();
    assert_eq!(
        (
            west.state.online,
            west.state.channel_on,
            west.state.parent.as_deref()
        ),
        (false, Some(false), Some(NVR))
    );

    // Keepalives move last_seen_at at most once a minute.
    clock.set_ms(T0 + 30_000);
    app.gb_keepalive(NVR).await.unwrap();
    assert_eq!(app.device(&admin, nvr.id).await.unwrap().last_seen_at, Some(T0));
    clock.set_ms(T0 + 61_000);
    app.gb_keepalive(NVR).await.unwrap();
    let all = app
        .list_devices(
            &admin,
            &Default::default(),
            PageRequest {
                page: 1,
                page_size: 50,
            },
        )
        .await
        .unwrap()
        .items;
    let seen = |code: &str| all.iter().find(|d| d.code == code).unwrap().last_seen_at;
    assert_eq!(
        (seen(NVR), seen(EAST), seen(GATE), seen(WEST)),
        (Some(T0 + 61_000), Some(T0 + 61_000), Some(T0 + 61_000), None)
    );
    assert_eq!(
        app.video_presence().device(NVR).unwrap().last_keepalive,
        Some(T0 + 61_000)
    );

    // The programme's networking rate reads it: the NVR and its two ON cameras are networked,
    // the OFF one is installed only.
    clock.set_ms(T0 + 62_000);
    let video = app.community_figures(&admin, community.id).await.unwrap().devices[&DeviceClass::Video];
    assert_eq!((video.installed, video.networked, video.active), (4, 3, 3));

    // A status change: the west gate comes on.
    app.gb_catalog_change(
        NVR,
        &[ChannelEvent::Status {
            code: WEST.into(),
            online: true,
        }],
    )
    .await
    .unwrap();
    assert_eq!(
        app.video_communities(&admin, None).await.unwrap()[0].cameras_online,
        3
    );

    // Offline: one alarm at once, however often it is reported.
    clock.set_ms(T0 + 300_000);
    assert!(app.gb_offline(NVR, "keepalive_timeout").await.unwrap());
    assert!(!app.gb_offline(NVR, "keepalive_timeout").await.unwrap());
    let s = &app.video_communities(&admin, None).await.unwrap()[0];
    assert_eq!((s.registered, s.online, s.cameras_online), (1, 0, 0));
    let offline = |app: anfang_app::App, admin: anfang_app::Principal| async move {
        app.list_alarms(
            &admin,
            AlarmFilter {
                kind: Some("device_offline".into()),
                ..AlarmFilter::default()
            },
            PageRequest {
                page: 1,
                page_size: 10,
            },
        )
        .await
        .unwrap()
        .items
    };
    let alarms = offline(app.clone(), admin.clone()).await;
    assert_eq!(alarms.len(), 1);
    assert_eq!(
        (
            alarms[0].device_id,
            alarms[0].source.as_str(),
            alarms[0].state.as_str()
        ),
        (Some(nvr.id), "gb28181", AlarmState::New.as_str())
    );

    // Back online: seen at once (not throttled), and the alarm resolves itself.
    clock.set_ms(T0 + 310_000);
    app.gb_online(NVR).await.unwrap();
    assert_eq!(
        app.device(&admin, nvr.id).await.unwrap().last_seen_at,
        Some(T0 + 310_000)
    );
    let alarms = offline(app.clone(), admin.clone()).await;
    assert_eq!(alarms[0].state, AlarmState::Resolved.as_str());

    // Unregistered: not registered, nothing online.
    app.gb_unregistered(NVR).await.unwrap();
    let s = &app.video_communities(&admin, None).await.unwrap()[0];
    assert_eq!((s.registered, s.online), (0, 0));
    assert_eq!(app.clock().now_ms(), T0 + 310_000);
}

#[tokio::test]
async fn the_video_read_is_scoped_to_the_caller() {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app_at(dir.path(), AppConfig::default(), SimClock::new(T0)).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let a = common::community(&app, &admin).await;
    let b = common::community_under(&app, &admin, a.committee_id, "370323001001002", "另一小区").await;
    common::device(&app, &admin, NVR, "nvr", "gb28181", a.id).await;
    common::device(&app, &admin, "37032300001180000002", "nvr", "gb28181", b.id).await;
    app.gb_registered(NVR, registration()).await.unwrap();
    let pm_b = user(&app, "pm_b", "property_manager", &format!("community:{}", b.code)).await;

    let mine = app.video_communities(&pm_b, None).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].community_id, mine[0].registered), (b.id, 0));
    assert!(matches!(
        app.video_communities(&pm_b, Some(a.id)).await,
        Err(AppError::NotFound { .. })
    ));
    assert!(matches!(
        app.community_video(&pm_b, a.id).await,
        Err(AppError::NotFound { .. })
    ));
    assert_eq!(app.community_video(&pm_b, b.id).await.unwrap().len(), 1);
    let everything = app.video_communities(&admin, None).await.unwrap();
    assert_eq!(
        everything
            .iter()
            .map(|c| (c.code.as_str(), c.registered))
            .collect::<Vec<_>>(),
        vec![(a.code.as_str(), 1), (b.code.as_str(), 0)]
    );
}
