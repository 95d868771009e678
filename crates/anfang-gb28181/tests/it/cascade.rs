//! The cascade against SIPp playing a superior (police) platform (`tests/sipp/superior.xml`)
//! with a `gb28181-rs` device registered below us: we register upward with Digest, keep
//! alive, answer the catalogue in pages and DeviceInfo, and when the superior INVITEs the
//! camera the video really arrives at the superior's media port with the superior's SSRC —
//! sent by the camera itself (direct) or relayed by us with the SSRC rewritten (relay) — and
//! stops after the superior's BYE.

use crate::gbrs::{CAMERA_2, NVR, start_device};
use crate::sipp::{scenario, sipp_installed};
use crate::support::{self, PASSWORD, Recorder};
use anfang_gb28181::Transport as SipTransport;
use anfang_gb28181::manscdp::Alarm;
use anfang_gb28181::ps::PsDemuxer;
use anfang_gb28181::{Cascade, CascadeConfig, GbId, MediaMode, Report, SharedCatalogue, SharedChannel, rtp};
use gb28181_rs::config::Transport;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const LOWER: &str = "34020000002000000011";
const SUPERIOR: &str = "34020000002000000002";
const POLICE_PASSWORD: &str = "police-2026";
const POLICE_SSRC: u32 = 100_000_099;

/// Shares what the device's catalogue said, every item under the NVR.
struct Shared(Arc<Recorder>);

#[async_trait::async_trait]
impl SharedCatalogue for Shared {
    async fn channels(&self) -> Vec<SharedChannel> {
        let reports = self.0.reports.lock().unwrap();
        let items = reports.iter().rev().find_map(|r| match r {
            Report::Catalog { items, .. } => Some(items.clone()),
            _ => None,
        });
        items
            .unwrap_or_default()
            .into_iter()
            .map(|item| SharedChannel {
                item,
                device: GbId::parse(NVR).unwrap(),
            })
            .collect()
    }
}

/// Counts RTP with the police SSRC arriving at a socket, and the frames in it.
#[derive(Default)]
struct PoliceScreen {
    packets: AtomicU64,
    frames: AtomicU64,
    other_ssrc: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sipp_superior_registers_us_reads_the_catalogue_and_plays_a_camera_direct_and_relayed() {
    if !sipp_installed() {
        return;
    }
    let relay = MediaMode::Relay {
        media_ip: [127, 0, 0, 1].into(),
    };
    for (mode, signalling) in [
        (MediaMode::Direct, SipTransport::Udp),
        (relay, SipTransport::Udp),
        (MediaMode::Direct, SipTransport::Tcp),
    ] {
        let recorder = Recorder::knowing(&[NVR]);
        let platform = support::start(support::config(), Arc::clone(&recorder), None).await;
        let device = start_device(platform.local_addr().port(), PASSWORD, Transport::Udp).await;
        recorder
            .wait_for("catalogue", Duration::from_secs(20), |r| {
                matches!(r, Report::Catalog { .. })
            })
            .await;

        // The police's media port.
        let media = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let media_port = media.local_addr().unwrap().port();
        let screen = Arc::new(PoliceScreen::default());
        let counter = {
            let screen = Arc::clone(&screen);
            tokio::spawn(async move {
                let mut demuxer = PsDemuxer::new();
                let mut buf = vec![0u8; 65_536];
                loop {
                    let Ok((n, _)) = media.recv_from(&mut buf).await else {
                        continue;
                    };
                    let Some((header, payload)) = rtp::parse(&buf[..n]) else {
                        continue;
                    };
                    if header.ssrc != POLICE_SSRC {
                        screen.other_ssrc.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    screen.packets.fetch_add(1, Ordering::Relaxed);
                    let mut units = demuxer.push(payload);
                    if header.marker {
                        units.extend(demuxer.flush());
                    }
                    screen.frames.fetch_add(units.len() as u64, Ordering::Relaxed);
                }
            })
        };

        // SIPp as the superior, listening.
        let dir = tempfile::tempdir().unwrap();
        let superior_port = support::free_port();
        let mut sipp = tokio::process::Command::new("sipp");
        sipp.current_dir(dir.path())
            .args(["-sf", scenario("superior.xml").to_str().unwrap()])
            .args(["-i", "127.0.0.1", "-p", &superior_port.to_string()])
            .args(["-key", "lower", LOWER, "-key", "password", POLICE_PASSWORD])
            .args([
                "-key",
                "channel",
                CAMERA_2,
                "-key",
                "police_port",
                &media_port.to_string(),
            ])
            .args([
                "-t",
                if signalling == SipTransport::Tcp {
                    "t1"
                } else {
                    "u1"
                },
            ])
            .args([
                "-nostdin",
                "-trace_err",
                "-trace_msg",
                "-timeout",
                "60s",
                "-timeout_error",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut sipp = sipp.spawn().expect("sipp runs");
        tokio::time::sleep(Duration::from_millis(300)).await;

        let mut config = CascadeConfig::new(
            GbId::parse(LOWER).unwrap(),
            GbId::parse(SUPERIOR).unwrap(),
            ([127, 0, 0, 1], superior_port).into(),
            POLICE_PASSWORD,
        );
        config.bind = "127.0.0.1:0".parse().unwrap();
        config.keepalive_interval = Duration::from_secs(1);
        config.catalog_page = 1;
        config.media = mode.clone();
        config.transport = signalling;
        let cascade = Cascade::start(config, Arc::new(Shared(Arc::clone(&recorder))), platform.clone())
            .await
            .unwrap();

        // Once registered, an alarm goes up.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !cascade.status().registered {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{mode:?}/{signalling:?}: not registered upward: {:?}; sipp: {:?}",
                cascade.status(),
                sipp.try_wait(),
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let alarm = Alarm {
            device_id: CAMERA_2.into(),
            priority: 1,
            method: 5,
            time: "2026-11-23T12:00:00".into(),
            description: "周界入侵".into(),
            alarm_type: Some(6),
            ..Alarm::default()
        };
        cascade
            .forward_alarm(&alarm)
            .await
            .expect("the superior took the alarm");

        let output = tokio::time::timeout(Duration::from_secs(60), sipp.wait_with_output())
            .await
            .expect("the superior's scenario ends")
            .unwrap();
        let mut messages = String::new();
        let mut errors = String::from_utf8_lossy(&output.stderr).into_owned();
        for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            if name.ends_with("_messages.log") {
                messages = encoding_rs::GB18030.decode(&bytes).0.into_owned();
            } else if name.ends_with("_errors.log") {
                errors.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        assert!(
            output.status.success(),
            "{mode:?}/{signalling:?}: the superior's scenario failed: {errors}"
        );

        // The police saw the camera: real frames with their SSRC.
        let (packets, frames) = (
            screen.packets.load(Ordering::Relaxed),
            screen.frames.load(Ordering::Relaxed),
        );
        assert!(
            frames >= 20 && packets > frames,
            "{mode:?}: police got {packets} packets, {frames} frames; {}",
            &messages[messages.find("INVITE sip").unwrap_or(0)..]
                .chars()
                .take(3000)
                .collect::<String>()
        );
        assert_eq!(
            screen.other_ssrc.load(Ordering::Relaxed),
            0,
            "{mode:?}: every packet carries the police SSRC"
        );
        // After the superior's BYE the camera stops.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let settled = screen.packets.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(
            screen.packets.load(Ordering::Relaxed),
            settled,
            "{mode:?}: no packets after BYE"
        );

        // What the superior was told.
        assert!(
            messages.contains("<CmdType>Keepalive</CmdType>"),
            "keepalives went up"
        );
        assert!(
            messages.contains("<SumNum>2</SumNum>")
                && messages.contains(CAMERA_2)
                && messages.contains("东门入口"),
            "the catalogue in GB2312 pages"
        );
        assert!(
            messages.contains("<CmdType>DeviceInfo</CmdType>")
                && messages.contains("<DeviceName>Anfang</DeviceName>")
        );
        let status = cascade.status();
        // (The superior has gone by now; over TCP the link notices at once.)
        assert!(status.registrations >= 1 && status.keepalives >= 1, "{status:?}");
        assert_eq!(status.catalog_pages, 2, "one item per page");
        assert_eq!(status.streams, 0, "ended by BYE");
        cascade.stop().await;
        counter.abort();
        device.stop();
    }
}
