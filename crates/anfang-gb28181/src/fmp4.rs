//! Fragmented MP4 for browsers: H.264 access units (Annex B, as [`crate::ps`] demuxes them from
//! a camera's PS stream) remuxed into what Media Source Extensions play — an init segment
//! (`ftyp` + `moov` with the `avcC` built from the stream's SPS/PPS and an `mvex`), then one
//! `moof` + `mdat` per frame. No transcoding: the camera's bytes go out as they came, with
//! start codes replaced by 4-byte lengths.
//!
//! The boxes are written by the `mp4-atom` crate; the SPS is read (dimensions) by
//! `h264-reader`. Timing is the PES PTS (90 kHz); a frame's duration is the distance to the next
//! frame's PTS, so each fragment leaves one frame later than its access unit arrived (40 ms at
//! 25 fps). A frame without a usable PTS step lasts `default_duration`.
//!
//! Invariant: the muxer writes nothing before a key frame whose access unit (or an earlier one)
//! carried SPS and PPS; after the init segment, every fragment holds exactly one sample and
//! its decode times never go back.

use crate::ps::{AccessUnit, Codec};
use mp4_atom::{
    Avc1, Avcc, Dinf, Dref, Encode, Ftyp, Hdlr, Mdat, Mdhd, Mdia, Mfhd, Minf, Moof, Moov, Mvex, Mvhd, Stbl,
    Stco, Stsc, Stsd, Stsz, Stts, Tfdt, Tfhd, Tkhd, Traf, Trex, Trun, TrunEntry, Url, Visual, Vmhd,
};

/// The media timescale: the PES clock.
pub const TIMESCALE: u32 = 90_000;
/// Sample flags of a sync sample (depends on no other).
const SYNC: u32 = 0x0200_0000;
/// Sample flags of a non-sync sample (depends on others, is not a sync sample).
const NON_SYNC: u32 = 0x0101_0000;

/// Why the muxer refused a stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fmp4Error {
    /// Only H.264 is remuxed (an H.265 camera needs a browser with HEVC in MSE).
    #[error("codec {0:?} is not remuxed to MP4 here")]
    Codec(Codec),
    /// The SPS could not be read.
    #[error("bad SPS: {0}")]
    Sps(String),
    /// The box writer failed.
    #[error("mp4: {0}")]
    Write(String),
}

impl Fmp4Error {
    /// A stable code for logs and API errors.
    pub fn code(&self) -> &'static str {
        match self {
            Fmp4Error::Codec(_) => "fmp4_codec",
            Fmp4Error::Sps(_) => "fmp4_sps",
            Fmp4Error::Write(_) => "fmp4_write",
        }
    }
}

/// The init segment and what a player needs to know to open a `SourceBuffer` for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitSegment {
    /// `ftyp` + `moov`.
    pub bytes: Vec<u8>,
    /// RFC 6381 codec string, `avc1.PPCCLL` from the SPS (profile, constraints, level).
    pub codec: String,
    /// Picture size from the SPS (after cropping).
    pub width: u32,
    /// Picture height.
    pub height: u32,
}

impl InitSegment {
    /// The MIME type for `MediaSource.addSourceBuffer`.
    pub fn mime(&self) -> String {
        format!("video/mp4; codecs=\"{}\"", self.codec)
    }
}

/// One `moof` + `mdat` holding one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// The boxes.
    pub bytes: Vec<u8>,
    /// Whether the frame is a key frame (a late viewer starts at one).
    pub key: bool,
    /// Decode time in [`TIMESCALE`] units since the first frame.
    pub decode_time: u64,
    /// Duration in [`TIMESCALE`] units.
    pub duration: u32,
}

/// What [`Fmp4Muxer::push`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// The init segment (once, before the first fragment).
    Init(InitSegment),
    /// A frame.
    Fragment(Fragment),
}

/// A frame waiting for the next one to know its duration.
#[derive(Debug)]
struct Pending {
    /// Length-prefixed NAL units (no SPS/PPS/AUD).
    sample: Vec<u8>,
    key: bool,
    pts: Option<u64>,
}

/// The remuxer of one stream.
#[derive(Debug)]
pub struct Fmp4Muxer {
    /// Duration of a frame whose PTS step is unknown or implausible (3600 = 25 fps).
    pub default_duration: u32,
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
    init: Option<InitSegment>,
    pending: Option<Pending>,
    decode_time: u64,
    sequence: u32,
}

impl Default for Fmp4Muxer {
    fn default() -> Fmp4Muxer {
        Fmp4Muxer::new()
    }
}

/// The NAL units of an Annex B buffer, start codes removed.
pub fn annex_b_units(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 2 < data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push((i, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut units = Vec::with_capacity(starts.len());
    for (n, (_, begin)) in starts.iter().enumerate() {
        let mut end = starts.get(n + 1).map_or(data.len(), |(s, _)| *s);
        // A 4-byte start code's leading zero (and any trailing_zero_8bits) belong to no unit.
        while end > *begin && data[end - 1] == 0 {
            end -= 1;
        }
        if end > *begin {
            units.push(&data[*begin..end]);
        }
    }
    units
}

/// The RFC 6381 codec string of an SPS NAL unit (header byte included).
pub fn avc_codec_string(sps: &[u8]) -> Option<String> {
    (sps.len() >= 4).then(|| format!("avc1.{:02X}{:02X}{:02X}", sps[1], sps[2], sps[3]))
}

fn sps_dimensions(sps: &[u8]) -> Result<(u32, u32), Fmp4Error> {
    use h264_reader::nal::sps::SeqParameterSet;
    use h264_reader::rbsp::{BitReader, decode_nal};
    let rbsp = decode_nal(sps).map_err(|e| Fmp4Error::Sps(e.to_string()))?;
    let parsed = SeqParameterSet::from_bits(BitReader::new(&rbsp[..]))
        .map_err(|e| Fmp4Error::Sps(format!("{e:?}")))?;
    parsed
        .pixel_dimensions()
        .map_err(|e| Fmp4Error::Sps(format!("{e:?}")))
}

fn write_err(e: mp4_atom::Error) -> Fmp4Error {
    Fmp4Error::Write(e.to_string())
}

impl Fmp4Muxer {
    /// A muxer waiting for SPS, PPS and a key frame.
    pub fn new() -> Fmp4Muxer {
        Fmp4Muxer {
            default_duration: TIMESCALE / 25,
            sps: None,
            pps: None,
            init: None,
            pending: None,
            decode_time: 0,
            sequence: 0,
        }
    }

    /// The init segment, once written.
    pub fn init(&self) -> Option<&InitSegment> {
        self.init.as_ref()
    }

    /// Takes one access unit; returns the init segment (before the first frame) and the
    /// previous frame's fragment, now that its duration is known.
    pub fn push(&mut self, unit: &AccessUnit) -> Result<Vec<Segment>, Fmp4Error> {
        // Before the PS stream map names the codec (a session that opened mid-GOP: cameras
        // send the map with key frames), the units are P frames nobody could decode: skipped.
        if unit.codec == Codec::Unknown {
            return Ok(Vec::new());
        }
        if unit.codec != Codec::H264 {
            return Err(Fmp4Error::Codec(unit.codec));
        }
        let mut sample = Vec::with_capacity(unit.data.len() + 16);
        let mut key = unit.key;
        for nal in annex_b_units(&unit.data) {
            match nal[0] & 0x1f {
                7 => self.sps = Some(nal.to_vec()),
                8 => self.pps = Some(nal.to_vec()),
                // Access unit delimiters and filler data carry nothing a player needs.
                9 | 12 => {}
                t => {
                    key |= t == 5;
                    let len = u32::try_from(nal.len())
                        .map_err(|_| Fmp4Error::Write("NAL unit too large".into()))?;
                    sample.extend_from_slice(&len.to_be_bytes());
                    sample.extend_from_slice(nal);
                }
            }
        }
        let mut out = Vec::new();
        if self.init.is_none() {
            // Wait for a key frame with the parameter sets.
            let (Some(sps), Some(pps)) = (&self.sps, &self.pps) else {
                return Ok(out);
            };
            if !key || sample.is_empty() {
                return Ok(out);
            }
            let init = self.init_segment(sps, pps)?;
            self.init = Some(init.clone());
            out.push(Segment::Init(init));
        }
        if sample.is_empty() {
            return Ok(out);
        }
        let next = Pending {
            sample,
            key,
            pts: unit.pts,
        };
        if let Some(previous) = self.pending.replace(next) {
            let duration = match (previous.pts, unit.pts) {
                (Some(a), Some(b)) if b > a && b - a <= u64::from(TIMESCALE) => (b - a) as u32,
                _ => self.default_duration,
            };
            out.push(Segment::Fragment(self.fragment(previous, duration)?));
        }
        Ok(out)
    }

    /// Writes the frame still waiting for its successor (end of stream).
    pub fn finish(&mut self) -> Result<Option<Fragment>, Fmp4Error> {
        match self.pending.take() {
            Some(last) => {
                let duration = self.default_duration;
                self.fragment(last, duration).map(Some)
            }
            None => Ok(None),
        }
    }

    fn init_segment(&self, sps: &[u8], pps: &[u8]) -> Result<InitSegment, Fmp4Error> {
        let (width, height) = sps_dimensions(sps)?;
        let codec = avc_codec_string(sps).ok_or_else(|| Fmp4Error::Sps("short SPS".into()))?;
        let avcc = Avcc::new(sps, pps).map_err(write_err)?;
        let ftyp = Ftyp {
            major_brand: b"isom".into(),
            minor_version: 512,
            compatible_brands: vec![b"isom".into(), b"iso6".into(), b"avc1".into(), b"mp41".into()],
        };
        let w16 = u16::try_from(width).map_err(|_| Fmp4Error::Sps("width".into()))?;
        let h16 = u16::try_from(height).map_err(|_| Fmp4Error::Sps("height".into()))?;
        let moov = Moov {
            mvhd: Mvhd {
                timescale: 1000,
                rate: 1.into(),
                volume: 1.into(),
                next_track_id: 2,
                ..Default::default()
            },
            mvex: Some(Mvex {
                mehd: None,
                trex: vec![Trex {
                    track_id: 1,
                    default_sample_description_index: 1,
                    default_sample_duration: self.default_duration,
                    default_sample_size: 0,
                    default_sample_flags: NON_SYNC,
                }],
            }),
            trak: vec![mp4_atom::Trak {
                tkhd: Tkhd {
                    track_id: 1,
                    enabled: true,
                    in_movie: true,
                    width: w16.into(),
                    height: h16.into(),
                    ..Default::default()
                },
                mdia: Mdia {
                    mdhd: Mdhd {
                        timescale: TIMESCALE,
                        language: "und".into(),
                        ..Default::default()
                    },
                    hdlr: Hdlr {
                        handler: b"vide".into(),
                        name: "Anfang live video".into(),
                    },
                    minf: Minf {
                        vmhd: Some(Vmhd::default()),
                        dinf: Dinf {
                            dref: Dref {
                                entries: vec![Url { location: "".into() }.into()],
                            },
                        },
                        stbl: Stbl {
                            stsd: Stsd {
                                codecs: vec![
                                    Avc1 {
                                        visual: Visual {
                                            data_reference_index: 1,
                                            width: w16,
                                            height: h16,
                                            horizresolution: 72.into(),
                                            vertresolution: 72.into(),
                                            frame_count: 1,
                                            compressor: "".into(),
                                            depth: 24,
                                        },
                                        avcc,
                                        ..Default::default()
                                    }
                                    .into(),
                                ],
                            },
                            stts: Stts::default(),
                            stsc: Stsc::default(),
                            stsz: Stsz::default(),
                            stco: Some(Stco::default()),
                            ..Default::default()
                        },
                        ..Default::default()
                    },
                },
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut bytes = Vec::new();
        ftyp.encode(&mut bytes).map_err(write_err)?;
        moov.encode(&mut bytes).map_err(write_err)?;
        Ok(InitSegment {
            bytes,
            codec,
            width,
            height,
        })
    }

    fn fragment(&mut self, frame: Pending, duration: u32) -> Result<Fragment, Fmp4Error> {
        self.sequence += 1;
        let size =
            u32::try_from(frame.sample.len()).map_err(|_| Fmp4Error::Write("frame too large".into()))?;
        let mut moof = Moof {
            mfhd: Mfhd {
                sequence_number: self.sequence,
            },
            traf: vec![Traf {
                tfhd: Tfhd {
                    track_id: 1,
                    default_base_is_moof: true,
                    ..Default::default()
                },
                tfdt: Some(Tfdt {
                    base_media_decode_time: self.decode_time,
                }),
                trun: vec![Trun {
                    data_offset: Some(0),
                    samples: vec![TrunEntry {
                        duration: Some(duration),
                        size: Some(size),
                        flags: Some(if frame.key { SYNC } else { NON_SYNC }),
                        cts: None,
                    }]
                    .into(),
                }],
                ..Default::default()
            }],
        };
        // The sample data starts after the moof and the mdat's 8-byte header.
        let mut probe = Vec::new();
        moof.encode(&mut probe).map_err(write_err)?;
        let offset = i32::try_from(probe.len() + 8).map_err(|_| Fmp4Error::Write("moof too large".into()))?;
        moof.traf[0].trun[0].data_offset = Some(offset);
        let mut bytes = Vec::with_capacity(probe.len() + 8 + frame.sample.len());
        moof.encode(&mut bytes).map_err(write_err)?;
        Mdat { data: frame.sample }
            .encode(&mut bytes)
            .map_err(write_err)?;
        let fragment = Fragment {
            bytes,
            key: frame.key,
            decode_time: self.decode_time,
            duration,
        };
        self.decode_time += u64::from(duration);
        Ok(fragment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mp4_atom::{Any, Decode, TrunSamples};
    use openh264::OpenH264API;
    use openh264::encoder::{Encoder, EncoderConfig, FrameRate, IntraFramePeriod, Profile};
    use openh264::formats::YUVBuffer;
    use std::io::Cursor;

    const W: usize = 160;
    const H: usize = 96;

    /// `n` frames of a square moving over grey, encoded by OpenH264 (baseline, an IDR every
    /// `gop` frames), as PS access units with a 25 fps PTS.
    fn encoded(n: usize, gop: u32) -> Vec<AccessUnit> {
        let config = EncoderConfig::new()
            .profile(Profile::Baseline)
            .max_frame_rate(FrameRate::from_hz(25.0))
            .intra_frame_period(IntraFramePeriod::from_num_frames(gop));
        let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config).unwrap();
        (0..n)
            .map(|i| {
                let mut yuv = vec![128u8; W * H * 3 / 2];
                for y in 16..48 {
                    for x in 0..32 {
                        yuv[y * W + (x + i * 4) % W] = 235;
                    }
                }
                let frame = YUVBuffer::from_vec(yuv, W, H);
                let stream = encoder.encode(&frame).unwrap();
                let data = stream.to_vec();
                let key = matches!(stream.frame_type(), openh264::encoder::FrameType::IDR);
                AccessUnit {
                    codec: Codec::H264,
                    pts: Some(10_000 + i as u64 * 3600),
                    data,
                    key,
                }
            })
            .collect()
    }

    fn mux_all(units: &[AccessUnit]) -> (InitSegment, Vec<Fragment>) {
        let mut muxer = Fmp4Muxer::new();
        let mut init = None;
        let mut fragments = Vec::new();
        for unit in units {
            for segment in muxer.push(unit).unwrap() {
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
        (init.expect("an init segment"), fragments)
    }

    #[test]
    fn encoded_frames_remux_to_fragments_that_parse_back() {
        let units = encoded(50, 25);
        let (init, fragments) = mux_all(&units);
        assert_eq!((init.width, init.height), (W as u32, H as u32));
        assert!(init.codec.starts_with("avc1.42"), "baseline: {}", init.codec);
        assert_eq!(init.mime(), format!("video/mp4; codecs=\"{}\"", init.codec));

        // The init segment: ftyp, then a moov with one avc1 track, its avcC and an mvex.
        let mut cursor = Cursor::new(&init.bytes[..]);
        let Any::Ftyp(ftyp) = Any::decode(&mut cursor).unwrap() else {
            panic!("ftyp first")
        };
        assert_eq!(ftyp.major_brand, b"isom".into());
        let Any::Moov(moov) = Any::decode(&mut cursor).unwrap() else {
            panic!("moov second")
        };
        assert_eq!(cursor.position() as usize, init.bytes.len());
        assert_eq!(moov.mvex.as_ref().unwrap().trex[0].track_id, 1);
        let trak = &moov.trak[0];
        assert_eq!(trak.mdia.mdhd.timescale, TIMESCALE);
        let mp4_atom::Codec::Avc1(avc1) = &trak.mdia.minf.stbl.stsd.codecs[0] else {
            panic!("avc1")
        };
        assert_eq!((avc1.visual.width, avc1.visual.height), (W as u16, H as u16));
        let sps = &avc1.avcc.sequence_parameter_sets[0];
        assert_eq!(sps[0] & 0x1f, 7);
        assert_eq!(avc_codec_string(sps).unwrap(), init.codec);
        assert_eq!(avc1.avcc.picture_parameter_sets[0][0] & 0x1f, 8);

        // Every frame became one fragment: moof + mdat, one sample, 3600 ticks, keys on IDRs.
        assert_eq!(fragments.len(), units.len());
        let mut expected_time = 0;
        let mut keys = 0;
        for (n, (fragment, unit)) in fragments.iter().zip(&units).enumerate() {
            let mut cursor = Cursor::new(&fragment.bytes[..]);
            let Any::Moof(moof) = Any::decode(&mut cursor).unwrap() else {
                panic!("moof")
            };
            let moof_len = cursor.position();
            let Any::Mdat(mdat) = Any::decode(&mut cursor).unwrap() else {
                panic!("mdat")
            };
            assert_eq!(moof.mfhd.sequence_number, n as u32 + 1);
            let traf = &moof.traf[0];
            assert_eq!(traf.tfdt.as_ref().unwrap().base_media_decode_time, expected_time);
            let trun = &traf.trun[0];
            assert_eq!(
                trun.data_offset,
                Some(moof_len as i32 + 8),
                "data offset points into the mdat"
            );
            let TrunSamples::Explicit(samples) = &trun.samples else {
                panic!("explicit samples")
            };
            assert_eq!(samples.len(), 1);
            let sample = samples[0];
            assert_eq!(sample.duration, Some(3600));
            assert_eq!(sample.size, Some(mdat.data.len() as u32));
            assert_eq!(sample.flags == Some(SYNC), unit.key, "frame {n}");
            assert_eq!(fragment.key, unit.key);
            keys += usize::from(unit.key);
            // The sample is length-prefixed NAL units covering the mdat exactly.
            let mut pos = 0;
            let mut types = Vec::new();
            while pos < mdat.data.len() {
                let len = u32::from_be_bytes(mdat.data[pos..pos + 4].try_into().unwrap()) as usize;
                types.push(mdat.data[pos + 4] & 0x1f);
                pos += 4 + len;
            }
            assert_eq!(pos, mdat.data.len());
            assert!(
                !types.contains(&7) && !types.contains(&8),
                "parameter sets live in avcC"
            );
            assert_eq!(types.contains(&5), unit.key);
            expected_time += 3600;
        }
        assert_eq!(keys, 2, "an IDR every 25 frames");
    }

    #[test]
    fn nothing_is_written_before_a_key_frame_with_parameter_sets() {
        let units = encoded(30, 25);
        let mut muxer = Fmp4Muxer::new();
        // Start in the middle of the first GOP: P frames only, then the second IDR.
        for unit in &units[1..25] {
            assert!(
                muxer.push(unit).unwrap().is_empty(),
                "a P frame before any key frame"
            );
        }
        let first = muxer.push(&units[25]).unwrap();
        assert!(matches!(first.as_slice(), [Segment::Init(_)]));
        let second = muxer.push(&units[26]).unwrap();
        let [Segment::Fragment(f)] = second.as_slice() else {
            panic!("{second:?}")
        };
        assert!(f.key && f.decode_time == 0);
    }

    #[test]
    fn a_missing_or_wild_pts_step_falls_back_to_the_default_duration() {
        let mut units = encoded(4, 25);
        units[1].pts = None;
        units[3].pts = Some(units[2].pts.unwrap() + 10 * u64::from(TIMESCALE));
        let (_, fragments) = mux_all(&units);
        let durations: Vec<u32> = fragments.iter().map(|f| f.duration).collect();
        assert_eq!(durations, vec![3600, 3600, 3600, 3600]);
        let times: Vec<u64> = fragments.iter().map(|f| f.decode_time).collect();
        assert_eq!(times, vec![0, 3600, 7200, 10_800]);
    }

    #[test]
    fn h265_is_refused_and_garbage_or_unmapped_units_ignored() {
        let mut muxer = Fmp4Muxer::new();
        let h265 = AccessUnit {
            codec: Codec::H265,
            pts: None,
            data: vec![0, 0, 0, 1, 0x40, 1],
            key: true,
        };
        // Units before the stream map (codec unknown) are skipped, not refused.
        let unmapped = AccessUnit {
            codec: Codec::Unknown,
            pts: Some(0),
            data: vec![0, 0, 0, 1, 0x41, 0x9a],
            key: false,
        };
        assert!(muxer.push(&unmapped).unwrap().is_empty());
        let e = muxer.push(&h265).unwrap_err();
        assert_eq!(e.code(), "fmp4_codec");
        let junk = AccessUnit {
            codec: Codec::H264,
            pts: Some(0),
            data: vec![0xff; 64],
            key: true,
        };
        assert!(muxer.push(&junk).unwrap().is_empty(), "no start code: nothing");
        // A broken SPS is an error, not a panic.
        let bad_sps = AccessUnit {
            codec: Codec::H264,
            pts: Some(0),
            data: [
                &[0, 0, 0, 1, 0x67, 0x42][..],
                &[0, 0, 1, 0x68, 0xce],
                &[0, 0, 1, 0x65, 0x88, 0x84],
            ]
            .concat(),
            key: true,
        };
        assert_eq!(muxer.push(&bad_sps).unwrap_err().code(), "fmp4_sps");
    }

    #[test]
    fn annex_b_units_split_on_three_and_four_byte_start_codes() {
        let data = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5, 0,
        ];
        let units = annex_b_units(&data);
        assert_eq!(units, vec![&[0x67, 1, 2][..], &[0x68, 3], &[0x65, 4, 5]]);
        assert_eq!(
            avc_codec_string(&[0x67, 0x42, 0xc0, 0x1e]).unwrap(),
            "avc1.42C01E"
        );
    }
}
