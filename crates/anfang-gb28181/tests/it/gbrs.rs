//! The platform side against `gb28181-rs` acting as a device (an NVR with two camera
//! channels): Digest registration, keepalive, the catalogue (GB2312 names), DeviceInfo and
//! DeviceStatus, an alarm by NOTIFY after our alarm subscription, live video over UDP and
//! TCP with the device's real PS/RTP counted and demuxed on our side, BYE, the offline
//! transition on a simulated clock, and a wrong password refused.

use crate::support::{self, PASSWORD, PLATFORM_ID, Recorder};
use anfang_base::{Clock, SimClock};
use anfang_gb28181::manscdp::ItemKind;
use anfang_gb28181::sdp::MediaTransport;
use anfang_gb28181::{GbId, LiveConfig, LiveStream, OfflineReason, Report};
use gb28181_rs::config::{CatalogChannel, Gb28181Config, Transport};
use gb28181_rs::frame::{AccessUnit, Nalu};
use gb28181_rs::mock::MockFrameHub;
use gb28181_rs::server::{Gb28181Server, ServerHandle};
use gb28181_rs::subscribe::DeviceNotifier;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) const NVR: &str = "34020000001180000001";
const CAMERA: &str = "34020000001320000001";
pub(crate) const CAMERA_2: &str = "34020000001320000002";
const WAIT: Duration = Duration::from_secs(20);

fn nalu(nalu_type: u8, size: usize) -> Nalu {
    let mut data = vec![nalu_type];
    data.extend((1..size).map(|i| (i % 200) as u8 + 16));
    Nalu {
        nalu_type: nalu_type & 0x1f,
        data,
        is_idr: nalu_type & 0x1f == 5,
        is_sps: nalu_type & 0x1f == 7,
        is_pps: nalu_type & 0x1f == 8,
        is_aud: nalu_type & 0x1f == 9,
    }
}

/// 25 frames a second, a key frame every 10, the key frame larger than one RTP packet.
async fn camera_feed(hub: Arc<MockFrameHub>) {
    for n in 0u64.. {
        let key = n % 10 == 0;
        let nalus = if key {
            vec![nalu(0x67, 12), nalu(0x68, 5), nalu(0x65, 9_000)]
        } else {
            vec![nalu(0x41, 1_500)]
        };
        hub.write(AccessUnit {
            nalus,
            timestamp: Instant::now(),
            is_key_frame: key,
        });
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

pub(crate) struct Device {
    server: ServerHandle,
    feed: tokio::task::JoinHandle<()>,
    notifier: Arc<DeviceNotifier>,
}

impl Device {
    pub(crate) fn stop(&self) {
        self.server.abort();
        self.feed.abort();
    }
}

pub(crate) async fn start_device(platform_port: u16, password: &str, transport: Transport) -> Device {
    let config = Gb28181Config {
        enabled: true,
        platform_sip_address: "127.0.0.1".into(),
        platform_sip_port: platform_port,
        device_id: NVR.into(),
        channel_id: CAMERA.into(),
        sip_domain: "3402000000".into(),
        password: password.into(),
        local_sip_port: support::free_port(),
        register_interval_secs: 3600,
        heartbeat_interval_secs: 1,
        heartbeat_timeout_count: 3,
        transport,
        extra_channels: vec![CatalogChannel {
            device_id: CAMERA_2.into(),
            name: "东门入口".into(),
            manufacturer: "Test".into(),
            model: "IPC".into(),
            status: "ON".into(),
            ptz_type: Some(1),
            photoelectric_imaging_type: None,
        }],
        device_name: Some("北区录像机".into()),
        manufacturer: Some("gb28181-rs".into()),
        ..Gb28181Config::default()
    };
    let hub = Arc::new(MockFrameHub::new());
    let feed = tokio::spawn(camera_feed(Arc::clone(&hub)));
    let server = Gb28181Server::new(config, hub);
    let notifier = server.notifier();
    let server = server.spawn().await.expect("device starts");
    Device {
        server,
        feed,
        notifier,
    }
}

fn is_registered(r: &Report) -> bool {
    matches!(r, Report::Registered { device, .. } if device.as_str() == NVR)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gb28181_rs_device_registers_reports_and_streams() {
    let recorder = Recorder::knowing(&[NVR]);
    let platform = support::start(support::config(), Arc::clone(&recorder), None).await;
    let device = start_device(platform.local_addr().port(), PASSWORD, Transport::Udp).await;
    let nvr = GbId::parse(NVR).unwrap();

    recorder.wait_for("registered", WAIT, is_registered).await;
    recorder
        .wait_for("online", WAIT, |r| matches!(r, Report::Online { .. }))
        .await;
    assert_eq!(platform.counts(), (1, 1));

    // DeviceInfo and the catalogue are queried after registration.
    let Report::DeviceInfo { info, .. } = recorder
        .wait_for("device info", WAIT, |r| matches!(r, Report::DeviceInfo { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(info.device_name, "北区录像机");
    assert_eq!(info.manufacturer, "gb28181-rs");
    let Report::Catalog { items, complete, .. } = recorder
        .wait_for("catalogue", WAIT, |r| matches!(r, Report::Catalog { .. }))
        .await
    else {
        unreachable!()
    };
    assert!(complete);
    let ids: Vec<&str> = items.iter().map(|i| i.device_id.as_str()).collect();
    // gb28181-rs lists the device itself and its extra channels.
    assert!(ids.contains(&NVR) && ids.contains(&CAMERA_2), "{ids:?}");
    let east = items.iter().find(|i| i.device_id == CAMERA_2).unwrap();
    assert_eq!(east.name, "东门入口");
    assert!(east.online);
    assert_eq!(east.kind(), ItemKind::Camera);

    // Keepalives arrive every second.
    recorder
        .wait_for("keepalive", WAIT, |r| matches!(r, Report::Keepalive { .. }))
        .await;

    // DeviceStatus on demand.
    let status = platform.device_status(&nvr).await.expect("device status");
    assert!(status.online && status.result_ok, "{status:?}");

    // Alarms by subscription: SUBSCRIBE, then the device's NOTIFY reaches the directory.
    platform
        .subscribe_alarms(&nvr, 3600)
        .await
        .expect("alarm subscription");
    assert!(
        device
            .notifier
            .send_alarm("1", "5", "2026-11-23T12:00:00", "6", "越界入侵"),
        "the device booked our subscription"
    );
    let Report::Alarm { alarm, .. } = recorder
        .wait_for("alarm", WAIT, |r| matches!(r, Report::Alarm { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!((alarm.priority, alarm.method, alarm.alarm_type), (1, 5, Some(6)));
    assert_eq!(alarm.description, "越界入侵");

    // Live video over UDP: real PS/RTP from the device, demuxed here into access units.
    for transport in [MediaTransport::Udp, MediaTransport::TcpPassive] {
        let camera = GbId::parse(CAMERA_2).unwrap();
        let config = LiveConfig {
            transport,
            ..LiveConfig::default()
        };
        let (stream, mut frames) = LiveStream::start(&platform, &nvr, &camera, config)
            .await
            .expect("INVITE accepted");
        assert!(stream.session.ssrc.is_some(), "SSRC from the answer's y=");
        let mut got = 0;
        let mut keys = 0;
        let deadline = tokio::time::Instant::now() + WAIT;
        while got < 30 {
            let Ok(au) = tokio::time::timeout_at(deadline, frames.recv()).await else {
                panic!(
                    "{transport:?}: no frames; {:?} session {:?}",
                    stream.receiver.stats(),
                    stream.session
                );
            };
            let au = au.expect("stream open");
            assert!(!au.data.is_empty());
            got += 1;
            keys += usize::from(au.key);
        }
        assert!(keys >= 1, "{transport:?}: a key frame among 30");
        let stats = stream.receiver.stats();
        assert!(
            stats.packets > 30 && stats.frames >= 30,
            "{transport:?}: {stats:?}"
        );
        assert_eq!(stats.wrong_ssrc, 0);
        stream.stop().await.expect("BYE answered");
    }

    device.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_device_goes_offline_on_the_simulated_clock() {
    let recorder = Recorder::knowing(&[NVR]);
    let clock = Arc::new(SimClock::new(1_800_000_000_000));
    let mut config = support::config();
    config.keepalive_timeout = Duration::from_secs(180);
    config.query_on_register = false;
    let platform = support::start(
        config,
        Arc::clone(&recorder),
        Some(clock.clone() as Arc<dyn Clock>),
    )
    .await;
    let device = start_device(platform.local_addr().port(), PASSWORD, Transport::Udp).await;
    recorder.wait_for("registered", WAIT, is_registered).await;
    recorder
        .wait_for("keepalive", WAIT, |r| matches!(r, Report::Keepalive { .. }))
        .await;
    // Silence the device, then let three minutes pass on the platform's clock.
    device.stop();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    clock.advance_ms(179_000);
    platform.sweep().await;
    assert_eq!(
        recorder.count(|r| matches!(r, Report::Offline { .. })),
        0,
        "not before the timeout"
    );
    clock.advance_ms(1_000);
    platform.sweep().await;
    let Report::Offline { reason, .. } = recorder
        .wait_for("offline", WAIT, |r| matches!(r, Report::Offline { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(reason, OfflineReason::KeepaliveTimeout);
    assert_eq!(platform.counts(), (1, 0));
    let _ = PLATFORM_ID;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_and_an_unknown_device_do_not_register() {
    // Known device, wrong password.
    let recorder = Recorder::knowing(&[NVR]);
    let platform = support::start(support::config(), Arc::clone(&recorder), None).await;
    let device = start_device(platform.local_addr().port(), "not-the-password", Transport::Udp).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(recorder.count(is_registered), 0);
    assert_eq!(platform.counts(), (0, 0));
    device.stop();

    // Strict mode: an id the directory does not know.
    let recorder = Recorder::knowing(&[]);
    let platform = support::start(support::config(), Arc::clone(&recorder), None).await;
    let device = start_device(platform.local_addr().port(), PASSWORD, Transport::Udp).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(platform.counts(), (0, 0));
    device.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gb28181_rs_device_over_tcp_registers_and_answers_the_catalogue() {
    // The device dials our TCP port and runs REGISTER, keepalive and the queries over it.
    let recorder = Recorder::knowing(&[NVR]);
    let platform = support::start(support::config(), Arc::clone(&recorder), None).await;
    let device = start_device(platform.local_addr().port(), PASSWORD, Transport::TcpOut).await;
    let Report::Registered { peer, .. } = recorder.wait_for("registered", WAIT, is_registered).await else {
        unreachable!()
    };
    assert_eq!(peer.transport, anfang_gb28181::Transport::Tcp);
    let Report::Catalog { items, complete, .. } = recorder
        .wait_for("catalogue", WAIT, |r| matches!(r, Report::Catalog { .. }))
        .await
    else {
        unreachable!()
    };
    assert!(complete && items.iter().any(|i| i.device_id == CAMERA_2));
    recorder
        .wait_for("keepalive", WAIT, |r| matches!(r, Report::Keepalive { .. }))
        .await;
    let status = platform
        .device_status(&GbId::parse(NVR).unwrap())
        .await
        .expect("device status over TCP");
    assert!(status.online);
    device.stop();
}
