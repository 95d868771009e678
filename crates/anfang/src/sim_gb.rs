//! The demo's video devices over GB/T 28181: every community's NVR is a `gb28181-rs` device
//! that registers with the platform (Digest password = the device's own secret), answers its
//! catalogue with the community's cameras (names in Chinese; GB2312 on the wire is the
//! library's job) and sends keepalives. The devices the seed made silent stay so: an NVR never
//! heard from (or with an open offline alarm) does not register, and such a camera is listed
//! with `Status` OFF. A community whose NVR is silent has its reporting cameras register on
//! their own, as IP cameras do.
//!
//! Their video is real H.264: a test pattern (moving bars and the frame number as blocks) is
//! encoded once at start with OpenH264 (baseline, 640x360, 2 s at 25 fps, an IDR every
//! second) and replayed into a session only while one is open: the replay task runs while the
//! frame source has subscribers (gb28181-rs subscribes on INVITE and unsubscribes on BYE), so
//! an unwatched demo spends nothing on video.
//!
//! The devices signal over TCP connections they dial to the platform (`tcp-out`): nothing of
//! theirs listens, where over UDP gb28181-rs would bind its SIP socket on every interface.
//!
//! Invariant: no frame is produced while no INVITE session is open.

use anyhow::Context;
use gb28181_rs::config::{CatalogChannel, Gb28181Config, Transport};
use gb28181_rs::frame::{AccessUnit, FrameSource, FrameSubscription, Nalu};
use gb28181_rs::server::{Gb28181Server, ServerHandle};
use openh264::OpenH264API;
use openh264::encoder::{BitRate, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile};
use openh264::formats::YUVBuffer;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// The pattern's size and rate.
pub(crate) const WIDTH: usize = 640;
/// Height (not a multiple of 16: the SPS crops).
pub(crate) const HEIGHT: usize = 360;
/// Frames a second.
pub(crate) const FPS: u32 = 25;
/// Frames encoded (2 s).
pub(crate) const FRAMES: usize = 50;

/// One encoded frame, NAL units without start codes.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    /// NAL units (SPS and PPS precede each IDR).
    pub nalus: Vec<Vec<u8>>,
    /// An IDR frame.
    pub key: bool,
}

/// The encoded test pattern.
#[derive(Debug)]
pub(crate) struct Pattern {
    /// The frames in order; replayed in a loop (the first is an IDR).
    pub frames: Vec<Frame>,
    /// How long encoding took.
    pub encode_time: Duration,
}

/// Draws frame `n` (I420): grey background, eight vertical colour bars scrolling left by 8
/// pixels a frame, and the frame number as 8 white/black blocks at the top left.
fn draw(n: usize, yuv: &mut [u8]) {
    let (w, h) = (WIDTH, HEIGHT);
    let (y_plane, chroma) = yuv.split_at_mut(w * h);
    let (u_plane, v_plane) = chroma.split_at_mut(w * h / 4);
    // Luma and chroma of the bars (white, yellow, cyan, green, magenta, red, blue, black).
    const BARS: [(u8, u8, u8); 8] = [
        (235, 128, 128),
        (210, 16, 146),
        (170, 166, 16),
        (145, 54, 34),
        (106, 202, 222),
        (81, 90, 240),
        (41, 240, 110),
        (16, 128, 128),
    ];
    let bar_width = w / BARS.len();
    let shift = n * 8;
    for y in 0..h {
        for x in 0..w {
            let bar = ((x + shift) / bar_width) % BARS.len();
            y_plane[y * w + x] = if y < h * 2 / 3 { BARS[bar].0 } else { 128 };
        }
    }
    for y in 0..h / 2 {
        for x in 0..w / 2 {
            let bar = ((x * 2 + shift) / bar_width) % BARS.len();
            let (u, v) = if y < h / 3 {
                (BARS[bar].1, BARS[bar].2)
            } else {
                (128, 128)
            };
            u_plane[y * w / 2 + x] = u;
            v_plane[y * w / 2 + x] = v;
        }
    }
    // The frame number, 8 bits as 24x24 blocks on the grey band.
    for bit in 0..8 {
        let on = (n >> (7 - bit)) & 1 == 1;
        let x0 = 16 + bit * 32;
        let y0 = h * 2 / 3 + 24;
        for y in y0..y0 + 24 {
            for x in x0..x0 + 24 {
                y_plane[y * w + x] = if on { 235 } else { 16 };
            }
        }
    }
}

/// The NAL units of an Annex B buffer, start codes removed.
fn split_annex_b(data: &[u8]) -> Vec<Vec<u8>> {
    openh264::nal_units(data)
        .map(|unit| {
            let start = unit.iter().position(|b| *b == 1).map_or(0, |p| p + 1);
            unit[start..].to_vec()
        })
        .filter(|unit| !unit.is_empty())
        .collect()
}

/// Encodes the pattern: `FRAMES` frames, baseline profile, an IDR every `FPS` frames.
pub(crate) fn encode_pattern() -> anyhow::Result<Pattern> {
    let started = Instant::now();
    let config = EncoderConfig::new()
        .profile(Profile::Baseline)
        .max_frame_rate(FrameRate::from_hz(FPS as f32))
        .bitrate(BitRate::from_bps(600_000))
        .intra_frame_period(IntraFramePeriod::from_num_frames(FPS));
    let mut encoder =
        Encoder::with_api_config(OpenH264API::from_source(), config).context("OpenH264 encoder")?;
    let mut yuv = vec![0u8; WIDTH * HEIGHT * 3 / 2];
    let mut frames = Vec::with_capacity(FRAMES);
    for n in 0..FRAMES {
        draw(n, &mut yuv);
        let source = YUVBuffer::from_vec(yuv.clone(), WIDTH, HEIGHT);
        let stream = encoder.encode(&source).context("encode")?;
        let key = matches!(stream.frame_type(), FrameType::IDR);
        frames.push(Frame {
            nalus: split_annex_b(&stream.to_vec()),
            key,
        });
    }
    anyhow::ensure!(
        frames.first().is_some_and(|f| f.key),
        "the pattern starts with an IDR"
    );
    Ok(Pattern {
        frames,
        encode_time: started.elapsed(),
    })
}

/// The frame source of every simulated device: replays the pattern at 25 fps to the open
/// sessions, and only while there is one.
pub(crate) struct Replay {
    pattern: Arc<Pattern>,
    subscribers: Mutex<HashMap<u64, mpsc::SyncSender<AccessUnit>>>,
    next_id: AtomicU64,
    running: AtomicBool,
    runtime: tokio::runtime::Handle,
    /// Access units written so far (for tests and the benchmark).
    pub written: AtomicU64,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("subscribers", &self.subscriber_count())
            .finish()
    }
}

impl Replay {
    /// A source over `pattern`; its task runs on the current runtime.
    pub(crate) fn new(pattern: Arc<Pattern>) -> Arc<Replay> {
        Arc::new(Replay {
            pattern,
            subscribers: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            running: AtomicBool::new(false),
            runtime: tokio::runtime::Handle::current(),
            written: AtomicU64::new(0),
        })
    }

    /// Open sessions.
    pub(crate) fn subscriber_count(&self) -> usize {
        self.subscribers.lock().unwrap().len()
    }

    fn start(self: &Arc<Replay>) {
        if self.running.swap(true, Ordering::SeqCst) {
            return;
        }
        let replay = Arc::clone(self);
        self.runtime.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(1000 / u64::from(FPS)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut n = 0usize;
            loop {
                tick.tick().await;
                let subscribers = replay.subscribers.lock().unwrap();
                if subscribers.is_empty() {
                    replay.running.store(false, Ordering::SeqCst);
                    return;
                }
                let frame = &replay.pattern.frames[n % replay.pattern.frames.len()];
                let unit = AccessUnit {
                    nalus: frame.nalus.iter().map(|data| nalu(data)).collect(),
                    timestamp: Instant::now(),
                    is_key_frame: frame.key,
                };
                for sender in subscribers.values() {
                    let _ = sender.try_send(unit.clone());
                }
                replay.written.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        });
    }
}

fn nalu(data: &[u8]) -> Nalu {
    let kind = data.first().map_or(0, |b| b & 0x1f);
    Nalu {
        nalu_type: kind,
        data: data.to_vec(),
        is_idr: kind == 5,
        is_sps: kind == 7,
        is_pps: kind == 8,
        is_aud: kind == 9,
    }
}

/// The `FrameSource` handed to gb28181-rs: an `Arc<Replay>` that starts the replay on the
/// first subscriber.
#[derive(Debug, Clone)]
pub(crate) struct ReplaySource(pub Arc<Replay>);

impl FrameSource for ReplaySource {
    fn subscribe_with_capacity(&self, capacity: usize) -> FrameSubscription {
        let (tx, rx) = mpsc::sync_channel(capacity.max(1));
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed);
        self.0.subscribers.lock().unwrap().insert(id, tx);
        self.0.start();
        FrameSubscription { id, receiver: rx }
    }

    fn unsubscribe(&self, id: u64) {
        self.0.subscribers.lock().unwrap().remove(&id);
    }
}

/// A channel a simulated device lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimChannel {
    /// The camera's code (its GB id).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Listed ON (it reports) or OFF (the seed made it silent).
    pub online: bool,
}

/// A simulated GB/T 28181 device: an NVR with its community's cameras, or an IP camera.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimDevice {
    /// Its code (GB id).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its secret (the Digest password).
    pub password: String,
    /// The cameras it lists (an IP camera lists none beside itself).
    pub channels: Vec<SimChannel>,
}

/// The demo's devices that register: per community, the NVR with its cameras when the NVR
/// reports; otherwise each reporting camera on its own.
pub(crate) async fn demo_devices(app: &anfang_app::App) -> anyhow::Result<Vec<SimDevice>> {
    let mut tx = app.store().read().await?;
    let offline: HashSet<i64> = tx
        .list_alarms(
            &anfang_store::AlarmFilter {
                open: true,
                kind: Some("device_offline".into()),
                ..Default::default()
            },
            anfang_store::Page::ALL,
        )
        .await?
        .items
        .into_iter()
        .filter_map(|a| a.device_id)
        .collect();
    let reports = |d: &anfang_store::DeviceRow| d.last_seen_at.is_some() && !offline.contains(&d.id);
    let mut by_community: BTreeMap<i64, (Vec<anfang_store::DeviceRow>, Vec<anfang_store::DeviceRow>)> =
        BTreeMap::new();
    for kind in ["nvr", "video_camera"] {
        let filter = anfang_store::Filter {
            kind: Some(kind.into()),
            ..Default::default()
        };
        for device in tx.list_devices(&filter, anfang_store::Page::ALL).await?.items {
            let Some(community) = device.community_id else {
                continue;
            };
            if device.protocol != "gb28181" {
                continue;
            }
            let entry = by_community.entry(community).or_default();
            if kind == "nvr" {
                entry.0.push(device);
            } else {
                entry.1.push(device);
            }
        }
    }
    let mut out = Vec::new();
    for (_, (nvrs, cameras)) in by_community {
        match nvrs.iter().find(|n| reports(n)) {
            Some(nvr) => out.push(SimDevice {
                code: nvr.code.clone(),
                name: nvr.name.clone(),
                password: app.device_secret(nvr)?,
                channels: cameras
                    .iter()
                    .map(|c| SimChannel {
                        code: c.code.clone(),
                        name: c.name.clone(),
                        online: reports(c),
                    })
                    .collect(),
            }),
            None => {
                for camera in cameras.iter().filter(|c| reports(c)) {
                    out.push(SimDevice {
                        code: camera.code.clone(),
                        name: camera.name.clone(),
                        password: app.device_secret(camera)?,
                        channels: Vec::new(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The gb28181-rs configuration of one simulated device.
pub(crate) fn device_config(
    device: &SimDevice,
    platform: SocketAddr,
    domain: &str,
    heartbeat_secs: u64,
) -> anyhow::Result<Gb28181Config> {
    Ok(Gb28181Config {
        enabled: true,
        platform_sip_address: platform.ip().to_string(),
        platform_sip_port: platform.port(),
        device_id: device.code.clone(),
        channel_id: device.code.clone(),
        sip_domain: domain.to_string(),
        password: device.password.clone(),
        // Unused over TCP: the device dials out from an ephemeral port.
        local_sip_port: 0,
        register_interval_secs: 3600,
        heartbeat_interval_secs: heartbeat_secs,
        heartbeat_timeout_count: 3,
        // SIP over the device's own TCP connection to the platform: gb28181-rs binds its UDP
        // socket on 0.0.0.0 with no way to name an address, and the demo listens on loopback
        // only (docs/design/gb28181.md).
        transport: Transport::TcpOut,
        extra_channels: device
            .channels
            .iter()
            .map(|c| CatalogChannel {
                device_id: c.code.clone(),
                name: c.name.clone(),
                manufacturer: "Anfang demo".into(),
                model: "IPC".into(),
                status: if c.online { "ON" } else { "OFF" }.into(),
                ptz_type: Some(3),
                photoelectric_imaging_type: Some(1),
            })
            .collect(),
        device_name: Some(device.name.clone()),
        manufacturer: Some("Anfang demo".into()),
        ..Gb28181Config::default()
    })
}

/// Starts one device.
pub(crate) async fn start_device(
    device: &SimDevice,
    platform: SocketAddr,
    domain: &str,
    heartbeat_secs: u64,
    source: &ReplaySource,
) -> anyhow::Result<ServerHandle> {
    let config = device_config(device, platform, domain, heartbeat_secs)?;
    Gb28181Server::new(config, Arc::new(source.clone()))
        .spawn()
        .await
        .with_context(|| format!("device {}", device.code))
}

/// Starts every device, spread over `spread` so that registrations (and the catalogue queries
/// that follow them) do not arrive at once. Keepalives every `heartbeat_secs`.
pub(crate) fn spawn_devices(
    devices: Vec<SimDevice>,
    platform: SocketAddr,
    domain: String,
    heartbeat_secs: u64,
    source: ReplaySource,
    spread: Duration,
) -> tokio::task::JoinHandle<Vec<ServerHandle>> {
    tokio::spawn(async move {
        let gap = spread / u32::try_from(devices.len().max(1)).unwrap_or(u32::MAX);
        let mut handles = Vec::with_capacity(devices.len());
        for device in &devices {
            match start_device(device, platform, &domain, heartbeat_secs, &source).await {
                Ok(handle) => handles.push(handle),
                Err(e) => tracing::warn!(error = %e, "simulated GB/T 28181 device did not start"),
            }
            tokio::time::sleep(gap).await;
        }
        handles
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_is_baseline_h264_with_an_idr_every_second() {
        let pattern = encode_pattern().unwrap();
        assert_eq!(pattern.frames.len(), FRAMES);
        let keys: Vec<usize> = pattern
            .frames
            .iter()
            .enumerate()
            .filter(|(_, f)| f.key)
            .map(|(n, _)| n)
            .collect();
        assert_eq!(keys, vec![0, 25]);
        let first = &pattern.frames[0];
        let types: Vec<u8> = first.nalus.iter().map(|n| n[0] & 0x1f).collect();
        assert!(types.starts_with(&[7, 8]) && types.contains(&5), "{types:?}");
        assert_eq!(first.nalus[0][1], 66, "profile_idc 66: baseline");
        for frame in &pattern.frames[1..25] {
            assert!(
                frame.nalus.iter().all(|n| n[0] & 0x1f == 1),
                "P slices between IDRs"
            );
        }
        eprintln!(
            "encoded {FRAMES} frames {WIDTH}x{HEIGHT} in {:?}",
            pattern.encode_time
        );
    }
}
