//! Live video end to end on the platform side, with real peers and real H.264: a `gb28181-rs`
//! device (an NVR) registers with our [`Platform`], we INVITE one of its cameras, the device
//! packs OpenH264-encoded frames into PS over RTP, [`LiveStream`] receives and demuxes them,
//! and [`Fmp4Muxer`] remuxes them into fragmented MP4 — which `mp4-atom` parses back: one init
//! segment whose `avcC` holds the encoder's SPS/PPS and size, then one `moof` + `mdat` per
//! frame sent, the key frames where the encoder put IDRs, decode times strictly increasing.

use crate::gbrs::{CAMERA_2, NVR};
use crate::support::{self, PASSWORD, Recorder};
use anfang_gb28181::fmp4::{Fmp4Muxer, Fragment, InitSegment, Segment, TIMESCALE};
use anfang_gb28181::{GbId, LiveConfig, LiveStream, Report};
use gb28181_rs::config::{CatalogChannel, Gb28181Config, Transport};
use gb28181_rs::frame::{AccessUnit, Nalu};
use gb28181_rs::mock::MockFrameHub;
use gb28181_rs::server::Gb28181Server;
use mp4_atom::{Any, Decode, TrunSamples};
use openh264::OpenH264API;
use openh264::encoder::{Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile};
use openh264::formats::YUVBuffer;
use std::io::Cursor;
use std::sync::Arc;
use std::time::{Duration, Instant};

const W: usize = 320;
const H: usize = 180;
/// Frames sent: two seconds at 25 fps, an IDR every 25.
const FRAMES: usize = 50;
const GOP: u32 = 25;
const WAIT: Duration = Duration::from_secs(20);

/// `FRAMES` frames of a bar moving over grey, OpenH264 baseline, as gb28181-rs access units
/// (NAL units without start codes).
fn encode() -> Vec<(Vec<Vec<u8>>, bool)> {
    let config = EncoderConfig::new()
        .profile(Profile::Baseline)
        .max_frame_rate(FrameRate::from_hz(25.0))
        .intra_frame_period(IntraFramePeriod::from_num_frames(GOP));
    let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config).unwrap();
    (0..FRAMES)
        .map(|n| {
            let mut yuv = vec![128u8; W * H * 3 / 2];
            for y in 40..120 {
                for x in 0..48 {
                    yuv[y * W + (x + n * 6) % W] = 235;
                }
            }
            let stream = encoder.encode(&YUVBuffer::from_vec(yuv, W, H)).unwrap();
            let key = matches!(stream.frame_type(), FrameType::IDR);
            let nalus = openh264::nal_units(&stream.to_vec())
                .map(|unit| {
                    let start = unit.iter().position(|b| *b == 1).unwrap() + 1;
                    unit[start..].to_vec()
                })
                .collect();
            (nalus, key)
        })
        .collect()
}

fn nalu(data: &[u8]) -> Nalu {
    let kind = data[0] & 0x1f;
    Nalu {
        nalu_type: kind,
        data: data.to_vec(),
        is_idr: kind == 5,
        is_sps: kind == 7,
        is_pps: kind == 8,
        is_aud: kind == 9,
    }
}

/// Registers a gb28181-rs NVR signalling over `transport`, INVITEs its camera, sends the
/// encoded frames at 25 fps once the session subscribed, and returns what the muxer made of
/// what arrived.
async fn stream_through(transport: Transport) -> (InitSegment, Vec<Fragment>, Vec<bool>) {
    let frames = encode();
    let sent_keys: Vec<bool> = frames.iter().map(|(_, k)| *k).collect();
    assert!(sent_keys[0], "the encoder starts with an IDR");

    let recorder = Recorder::knowing(&[NVR]);
    let platform = support::start(support::config(), Arc::clone(&recorder), None).await;
    let config = Gb28181Config {
        enabled: true,
        platform_sip_address: "127.0.0.1".into(),
        platform_sip_port: platform.local_addr().port(),
        device_id: NVR.into(),
        channel_id: NVR.into(),
        sip_domain: "3402000000".into(),
        password: PASSWORD.into(),
        local_sip_port: support::free_port(),
        register_interval_secs: 3600,
        heartbeat_interval_secs: 5,
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
        ..Gb28181Config::default()
    };
    let hub = Arc::new(MockFrameHub::new());
    let device = Gb28181Server::new(config, Arc::clone(&hub) as _)
        .spawn()
        .await
        .expect("device starts");
    recorder
        .wait_for(
            "registered",
            WAIT,
            |r| matches!(r, Report::Registered { device, .. } if device.as_str() == NVR),
        )
        .await;

    let (stream, mut units) = LiveStream::start(
        &platform,
        &GbId::parse(NVR).unwrap(),
        &GbId::parse(CAMERA_2).unwrap(),
        LiveConfig::default(),
    )
    .await
    .expect("INVITE accepted");
    // The device subscribes its session to the frame source on ACK.
    let deadline = Instant::now() + WAIT;
    while hub.subscriber_count() == 0 {
        assert!(Instant::now() < deadline, "the device never opened its session");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let feeder = tokio::spawn({
        let hub = Arc::clone(&hub);
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(40));
            for (nalus, key) in frames {
                tick.tick().await;
                hub.write(AccessUnit {
                    nalus: nalus.iter().map(|n| nalu(n)).collect(),
                    timestamp: Instant::now(),
                    is_key_frame: key,
                });
            }
        }
    });

    let mut muxer = Fmp4Muxer::new();
    let mut init = None;
    let mut fragments = Vec::new();
    let mut received = 0;
    while received < FRAMES {
        let unit = match tokio::time::timeout(Duration::from_secs(5), units.recv()).await {
            Ok(Some(unit)) => unit,
            _ => panic!(
                "{transport:?}: {received} of {FRAMES} frames arrived; {:?}",
                stream.receiver.stats()
            ),
        };
        received += 1;
        for segment in muxer.push(&unit).expect("H.264 remuxes") {
            match segment {
                Segment::Init(i) => {
                    assert!(init.is_none() && fragments.is_empty(), "one init, first");
                    init = Some(i);
                }
                Segment::Fragment(f) => fragments.push(f),
            }
        }
    }
    fragments.extend(muxer.finish().unwrap());
    feeder.await.unwrap();
    let stats = stream.receiver.stats();
    assert_eq!((stats.wrong_ssrc, stats.lost), (0, 0), "{transport:?}: {stats:?}");
    stream.stop().await.expect("BYE answered");
    device.abort();
    (init.expect("an init segment"), fragments, sent_keys)
}

/// Parses the output back and checks it against what was sent.
fn check(init: &InitSegment, fragments: &[Fragment], sent_keys: &[bool]) {
    assert_eq!((init.width, init.height), (W as u32, H as u32));
    assert!(init.codec.starts_with("avc1.42"), "baseline: {}", init.codec);
    let mut cursor = Cursor::new(&init.bytes[..]);
    let Any::Ftyp(_) = Any::decode(&mut cursor).unwrap() else {
        panic!("ftyp first")
    };
    let Any::Moov(moov) = Any::decode(&mut cursor).unwrap() else {
        panic!("moov second")
    };
    assert_eq!(
        cursor.position() as usize,
        init.bytes.len(),
        "nothing after the moov"
    );
    assert!(moov.mvex.is_some(), "fragmented: an mvex");
    let trak = &moov.trak[0];
    assert_eq!(trak.mdia.mdhd.timescale, TIMESCALE);
    let mp4_atom::Codec::Avc1(avc1) = &trak.mdia.minf.stbl.stsd.codecs[0] else {
        panic!("avc1")
    };
    assert_eq!((avc1.visual.width, avc1.visual.height), (W as u16, H as u16));
    assert_eq!(avc1.avcc.sequence_parameter_sets[0][0] & 0x1f, 7);
    assert_eq!(avc1.avcc.picture_parameter_sets[0][0] & 0x1f, 8);

    // One fragment per frame sent, keys where the encoder put IDRs.
    assert_eq!(fragments.len(), sent_keys.len(), "one fragment per frame");
    let keys: Vec<usize> = fragments
        .iter()
        .enumerate()
        .filter(|(_, f)| f.key)
        .map(|(n, _)| n)
        .collect();
    assert_eq!(keys, vec![0, GOP as usize], "key frames at the IDRs");
    let mut last_time = None;
    for (n, fragment) in fragments.iter().enumerate() {
        let mut cursor = Cursor::new(&fragment.bytes[..]);
        let Any::Moof(moof) = Any::decode(&mut cursor).unwrap() else {
            panic!("fragment {n}: moof")
        };
        let Any::Mdat(mdat) = Any::decode(&mut cursor).unwrap() else {
            panic!("fragment {n}: mdat")
        };
        assert_eq!(cursor.position() as usize, fragment.bytes.len());
        assert_eq!(moof.mfhd.sequence_number, n as u32 + 1);
        let traf = &moof.traf[0];
        let time = traf.tfdt.as_ref().unwrap().base_media_decode_time;
        assert_eq!(time, fragment.decode_time);
        if let Some(last) = last_time {
            assert!(time > last, "fragment {n}: decode time {time} after {last}");
        }
        last_time = Some(time);
        let TrunSamples::Explicit(samples) = &traf.trun[0].samples else {
            panic!("explicit samples")
        };
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].size, Some(mdat.data.len() as u32));
        // The sample: length-prefixed NAL units covering the mdat, an IDR slice iff key.
        let mut pos = 0;
        let mut types = Vec::new();
        while pos < mdat.data.len() {
            let len = u32::from_be_bytes(mdat.data[pos..pos + 4].try_into().unwrap()) as usize;
            types.push(mdat.data[pos + 4] & 0x1f);
            pos += 4 + len;
        }
        assert_eq!(pos, mdat.data.len(), "fragment {n}: NAL lengths cover the mdat");
        assert_eq!(types.contains(&5), fragment.key, "fragment {n}: {types:?}");
    }
    // The PTS came from the device's clock at 25 fps: the whole span is about 49 frame times.
    let span = last_time.unwrap();
    let nominal = (sent_keys.len() as u64 - 1) * u64::from(TIMESCALE) / 25;
    assert!(
        span > nominal / 2 && span < nominal * 2,
        "decode span {span} ticks for a nominal {nominal}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gb28181_rs_camera_streams_openh264_video_that_remuxes_to_valid_fmp4() {
    let (init, fragments, sent_keys) = stream_through(Transport::Udp).await;
    check(&init, &fragments, &sent_keys);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_over_sip_on_the_device_s_own_tcp_connection() {
    let (init, fragments, sent_keys) = stream_through(Transport::TcpOut).await;
    check(&init, &fragments, &sent_keys);
}
