//! MPEG-2 Program Stream (ISO/IEC 13818-1 §2.5) as GB/T 28181 devices send it over RTP: a
//! pack header (`00 00 01 BA`), on key frames a system header (`BB`) and the stream map
//! (`BC`, stream type 0x1B H.264 / 0x24 H.265), then video PES packets (`E0`–`EF`), a large
//! frame split over several PES of which only the first has a PTS. The demuxer takes the PS
//! byte stream in pieces (RTP payloads, cut anywhere) and gives back whole access units in
//! Annex B form; audio and private streams are skipped. Pure: no I/O, no clock.
//!
//! `mux` writes the same layout, for tests and for senders that must produce PS themselves.

/// The video codec, from the stream map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// stream_type 0x1B.
    H264,
    /// stream_type 0x24.
    H265,
    /// No stream map seen yet, or another type.
    Unknown,
}

/// One video access unit (a frame), Annex B byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessUnit {
    /// The codec the stream map named.
    pub codec: Codec,
    /// The PTS (90 kHz), when the PES carried one.
    pub pts: Option<u64>,
    /// Annex B NAL units.
    pub data: Vec<u8>,
    /// Whether it holds an IDR (H.264 type 5) or IRAP (H.265 types 16–21) picture.
    pub key: bool,
}

/// The NAL unit types in an Annex B buffer (H.264 numbering for H.264, H.265 for H.265).
pub fn nal_types(data: &[u8], codec: Codec) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 < data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            let b = data[i + 3];
            out.push(match codec {
                Codec::H265 => (b >> 1) & 0x3f,
                _ => b & 0x1f,
            });
            i += 3;
        } else {
            i += 1;
        }
    }
    out
}

fn is_key(data: &[u8], codec: Codec) -> bool {
    nal_types(data, codec).iter().any(|t| match codec {
        Codec::H265 => (16..=21).contains(t),
        _ => *t == 5,
    })
}

/// The demuxer's state between pieces.
#[derive(Debug, Default)]
pub struct PsDemuxer {
    /// Bytes not yet parsed (an incomplete pack or PES).
    buffer: Vec<u8>,
    /// stream_type per video stream id, from the last stream map.
    codec: Option<Codec>,
    /// The access unit being gathered: its PTS and bytes.
    current: Option<(Option<u64>, Vec<u8>)>,
    /// PES packets skipped because they were not video, for diagnostics.
    pub skipped: u64,
}

/// The most we keep while waiting for a PES to complete (a PES is at most 65 541 bytes).
const MAX_BUFFER: usize = 2 * 65_536;

fn read_pts(b: &[u8]) -> u64 {
    (u64::from(b[0] & 0x0e) << 29)
        | (u64::from(b[1]) << 22)
        | (u64::from(b[2] & 0xfe) << 14)
        | (u64::from(b[3]) << 7)
        | (u64::from(b[4]) >> 1)
}

enum Step {
    /// Consumed this many bytes.
    Used(usize),
    /// Need more bytes.
    Wait,
}

impl PsDemuxer {
    /// A fresh demuxer.
    pub fn new() -> PsDemuxer {
        PsDemuxer::default()
    }

    /// Takes the next piece of the stream; returns the access units it completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<AccessUnit> {
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            // Resynchronise on the next start code.
            let Some(offset) = self.buffer[pos..].windows(3).position(|w| w == [0, 0, 1]) else {
                pos = self.buffer.len().saturating_sub(2);
                break;
            };
            pos += offset;
            match self.step(pos, &mut out) {
                Step::Used(n) => pos += n,
                Step::Wait => break,
            }
        }
        self.buffer.drain(..pos);
        if self.buffer.len() > MAX_BUFFER {
            // A length field lied; drop what cannot complete and resynchronise.
            self.buffer.clear();
        }
        out
    }

    /// Ends the access unit being gathered (the RTP marker bit says the frame is complete).
    pub fn flush(&mut self) -> Option<AccessUnit> {
        let (pts, data) = self.current.take()?;
        if data.is_empty() {
            return None;
        }
        let codec = self.codec.unwrap_or(Codec::Unknown);
        Some(AccessUnit {
            key: is_key(&data, codec),
            codec,
            pts,
            data,
        })
    }

    fn step(&mut self, pos: usize, out: &mut Vec<AccessUnit>) -> Step {
        let b = &self.buffer[pos..];
        if b.len() < 4 {
            return Step::Wait;
        }
        match b[3] {
            0xba => {
                if b.len() < 5 {
                    return Step::Wait;
                }
                if b[4] & 0xc0 == 0x40 {
                    if b.len() < 14 {
                        return Step::Wait;
                    }
                    Step::Used(14 + usize::from(b[13] & 0x07))
                } else {
                    // MPEG-1 pack header.
                    Step::Used(12)
                }
            }
            0xb9 => Step::Used(4),
            id if id >= 0xbb => {
                if b.len() < 6 {
                    return Step::Wait;
                }
                let length = usize::from(u16::from_be_bytes([b[4], b[5]]));
                if length == 0 && (0xe0..=0xef).contains(&id) {
                    // Unbounded video PES: runs to the next pack or PES start code.
                    let end = b[6..]
                        .windows(4)
                        .position(|w| w[..3] == [0, 0, 1] && (w[3] == 0xba || w[3] >= 0xbc))
                        .map(|p| p + 6);
                    return match end {
                        Some(end) => {
                            let packet = b[..end].to_vec();
                            self.video_pes(&packet, out);
                            Step::Used(end)
                        }
                        None => Step::Wait,
                    };
                }
                if b.len() < 6 + length {
                    return Step::Wait;
                }
                let packet = b[..6 + length].to_vec();
                match id {
                    0xbc => self.stream_map(&packet, 8),
                    // A stream map under the system header's code (gb28181-rs 0.14): a real
                    // system header has its marker bit set where the map has its version.
                    0xbb if packet.get(6).is_some_and(|b| b & 0x80 == 0) => self.stream_map(&packet, 7),
                    0xe0..=0xef => self.video_pes(&packet, out),
                    _ => self.skipped += 1,
                }
                Step::Used(6 + length)
            }
            // A start code inside data we are not parsing (0x00–0xB8): step over it.
            _ => Step::Used(3),
        }
    }

    /// Reads the stream map; `info_at` is where program_stream_info_length sits (8 in the
    /// standard layout, 7 in gb28181-rs's, which lacks the second version byte).
    fn stream_map(&mut self, p: &[u8], info_at: usize) {
        let Some(info_len) = p
            .get(info_at..info_at + 2)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            return;
        };
        let map_at = info_at + 2 + info_len;
        let Some(map_len) = p
            .get(map_at..map_at + 2)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            return;
        };
        let mut i = map_at + 2;
        let end = (map_at + 2 + map_len).min(p.len());
        while i + 4 <= end {
            let (stream_type, stream_id) = (p[i], p[i + 1]);
            let es_info = usize::from(u16::from_be_bytes([p[i + 2], p[i + 3]]));
            if (0xe0..=0xef).contains(&stream_id) {
                self.codec = Some(match stream_type {
                    0x1b => Codec::H264,
                    0x24 => Codec::H265,
                    _ => Codec::Unknown,
                });
            }
            i += 4 + es_info;
        }
    }

    fn video_pes(&mut self, p: &[u8], out: &mut Vec<AccessUnit>) {
        let Some((pts, header_end)) = pes_header(p) else {
            self.skipped += 1;
            return;
        };
        let payload = &p[header_end..];
        if let Some(pts) = pts
            && self
                .current
                .as_ref()
                .is_some_and(|(current, _)| *current != Some(pts))
            && let Some(au) = self.flush()
        {
            out.push(au);
        }
        match &mut self.current {
            Some((_, data)) => data.extend_from_slice(payload),
            None => self.current = Some((pts, payload.to_vec())),
        }
    }
}

/// Whether 5 bytes look like a PTS/DTS field: the prefix nibble and the three marker bits.
fn looks_like_timestamp(b: &[u8]) -> bool {
    b.len() >= 5 && matches!(b[0] >> 4, 1..=3) && b[0] & 1 == 1 && b[2] & 1 == 1 && b[4] & 1 == 1
}

/// The PTS and where the payload starts. The standard MPEG-2 PES header is `10xxxxxx`,
/// flags, header length, fields. A variant seen from gb28181-rs 0.14 leaves out the first
/// byte and puts one filler byte after the fields (flags, length, fields, 0x00); it is
/// accepted when the standard reading does not fit and the variant's timestamps do.
fn pes_header(p: &[u8]) -> Option<(Option<u64>, usize)> {
    if p.len() >= 9 && p[6] & 0xc0 == 0x80 {
        let end = 9 + usize::from(p[8]);
        let has_pts = p[7] & 0x80 != 0;
        if end <= p.len() && (!has_pts || (usize::from(p[8]) >= 5 && looks_like_timestamp(&p[9..]))) {
            return Some((has_pts.then(|| read_pts(&p[9..14])), end));
        }
    }
    if p.len() >= 9 {
        let (flags, length) = (p[6], usize::from(p[7]));
        let has_pts = flags & 0x80 != 0;
        let end = 9 + length;
        if flags & 0x3f == 0 && end <= p.len() && (!has_pts || (length >= 5 && looks_like_timestamp(&p[8..])))
        {
            return Some((has_pts.then(|| read_pts(&p[8..13])), end));
        }
    }
    None
}

fn pts_bytes(marker: u8, pts: u64) -> [u8; 5] {
    [
        marker | (((pts >> 29) & 0x0e) as u8) | 1,
        (pts >> 22) as u8,
        (((pts >> 14) & 0xfe) as u8) | 1,
        (pts >> 7) as u8,
        (((pts << 1) & 0xfe) as u8) | 1,
    ]
}

/// One frame as a PS pack: pack header, on key frames the system header and stream map,
/// then the frame in as many video PES as it needs (the first with the PTS).
pub fn mux(frame: &[u8], pts: u64, key: bool, codec: Codec) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len() + 64);
    // Pack header with SCR = PTS, mux rate 0x3fff (a placeholder devices also use).
    let scr = pts;
    out.extend_from_slice(&[0, 0, 1, 0xba]);
    out.push(0x44 | (((scr >> 27) & 0x38) as u8) | (((scr >> 28) & 0x03) as u8));
    out.push((scr >> 20) as u8);
    out.push((((scr >> 12) & 0xf8) as u8) | 0x04 | (((scr >> 13) & 0x03) as u8));
    out.push((scr >> 5) as u8);
    out.push((((scr << 3) & 0xf8) as u8) | 0x04);
    out.push(0x01);
    out.extend_from_slice(&[0x00, 0xff, 0xff, 0xf8]);
    if key {
        // System header: rate bound, one video stream.
        out.extend_from_slice(&[
            0, 0, 1, 0xbb, 0, 12, 0x80, 0x1f, 0xff, 0x04, 0xe1, 0xff, 0xe0, 0xe0, 0x80, 0xc0, 0xc0, 0x08,
        ]);
        let stream_type = if codec == Codec::H265 { 0x24 } else { 0x1b };
        out.extend_from_slice(&[
            0,
            0,
            1,
            0xbc,
            0,
            14,
            0xe0,
            0xff,
            0,
            0,
            0,
            4,
            stream_type,
            0xe0,
            0,
            0,
        ]);
        // CRC placeholder (receivers do not check it).
        out.extend_from_slice(&[0, 0, 0, 0]);
    }
    const MAX_PAYLOAD: usize = 65_535 - 8;
    for (i, chunk) in frame.chunks(MAX_PAYLOAD).enumerate() {
        let with_pts = i == 0;
        let header_len = if with_pts { 5 } else { 0 };
        let length = 3 + header_len + chunk.len();
        out.extend_from_slice(&[0, 0, 1, 0xe0]);
        out.extend_from_slice(&(length as u16).to_be_bytes());
        out.push(0x80);
        out.push(if with_pts { 0x80 } else { 0 });
        out.push(header_len as u8);
        if with_pts {
            out.extend_from_slice(&pts_bytes(0x20, pts));
        }
        out.extend_from_slice(chunk);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(key: bool, size: usize) -> Vec<u8> {
        let mut f = Vec::new();
        if key {
            f.extend_from_slice(&[0, 0, 0, 1, 0x67, 0x42, 0, 0x1e]);
            f.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
            f.extend_from_slice(&[0, 0, 0, 1, 0x65]);
        } else {
            f.extend_from_slice(&[0, 0, 0, 1, 0x41]);
        }
        // Payload bytes that never form a start code.
        f.extend((0..size).map(|i| (i % 250) as u8 + 2));
        f
    }

    #[test]
    fn a_hand_built_pack_demuxes() {
        // Pack header (MPEG-2, no stuffing), a stream map naming H.264, one PES with PTS 3600.
        let mut ps = vec![0, 0, 1, 0xba, 0x44, 0, 4, 0, 4, 1, 0, 0, 3, 0xf8];
        ps.extend_from_slice(&[
            0, 0, 1, 0xbc, 0, 14, 0xe0, 0xff, 0, 0, 0, 4, 0x1b, 0xe0, 0, 0, 0, 0, 0, 0,
        ]);
        let es = [0, 0, 0, 1, 0x65, 0x88, 0x84];
        ps.extend_from_slice(&[0, 0, 1, 0xe0, 0, (8 + es.len()) as u8, 0x80, 0x80, 5]);
        ps.extend_from_slice(&pts_bytes(0x20, 3600));
        ps.extend_from_slice(&es);
        // An audio PES to skip.
        ps.extend_from_slice(&[0, 0, 1, 0xc0, 0, 3, 0x80, 0, 0]);
        let mut d = PsDemuxer::new();
        assert!(d.push(&ps).is_empty());
        let au = d.flush().unwrap();
        assert_eq!((au.codec, au.pts, au.key), (Codec::H264, Some(3600), true));
        assert_eq!(au.data, es);
        assert_eq!(d.skipped, 1);
    }

    #[test]
    fn the_gb28181_rs_variant_demuxes() {
        // Stream map under 0xBB without the second version byte; PES header without its
        // '10' byte, PTS and DTS, then one filler byte; a continuation PES without fields.
        let mut ps = vec![0, 0, 1, 0xba, 0x44, 0, 4, 0, 4, 1, 0, 0, 3, 0xf8];
        ps.extend_from_slice(&[0, 0, 1, 0xbb, 0, 11, 0x01, 0, 0, 0, 4, 0x24, 0xe0, 0, 0, 0, 0]);
        let first = [0, 0, 0, 1, 0x26, 0x01, 0xaf];
        ps.extend_from_slice(&[0, 0, 1, 0xe0, 0, (3 + 10 + first.len()) as u8, 0xc0, 10]);
        ps.extend_from_slice(&pts_bytes(0x30, 7200));
        ps.extend_from_slice(&pts_bytes(0x10, 7200));
        ps.push(0);
        ps.extend_from_slice(&first);
        let rest = [0x55, 0x66];
        ps.extend_from_slice(&[0, 0, 1, 0xe0, 0, (3 + rest.len()) as u8, 0, 0, 0]);
        ps.extend_from_slice(&rest);
        let mut d = PsDemuxer::new();
        assert!(d.push(&ps).is_empty());
        let au = d.flush().unwrap();
        assert_eq!((au.codec, au.pts, au.key), (Codec::H265, Some(7200), true));
        assert_eq!(au.data, [&first[..], &rest[..]].concat());
    }

    #[test]
    fn frames_cut_anywhere_come_back_whole() {
        let frames: Vec<(Vec<u8>, bool)> = (0..12)
            .map(|i| (frame(i % 5 == 0, 1000 + i * 9000), i % 5 == 0))
            .collect();
        let mut stream = Vec::new();
        for (i, (f, key)) in frames.iter().enumerate() {
            stream.extend_from_slice(&mux(f, 3600 * i as u64, *key, Codec::H264));
        }
        let mut d = PsDemuxer::new();
        let mut got = Vec::new();
        for piece in stream.chunks(1400) {
            got.extend(d.push(piece));
        }
        got.extend(d.flush());
        assert_eq!(got.len(), frames.len());
        for (i, (au, (f, key))) in got.iter().zip(&frames).enumerate() {
            assert_eq!(&au.data, f, "frame {i}");
            assert_eq!(au.key, *key);
            assert_eq!(au.pts, Some(3600 * i as u64));
        }
    }

    #[test]
    fn a_frame_larger_than_one_pes_spans_several() {
        let big = frame(true, 200_000);
        let ps = mux(&big, 90_000, true, Codec::H265);
        let mut d = PsDemuxer::new();
        let mut got = d.push(&ps);
        got.extend(d.flush());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].data, big);
        assert_eq!(got[0].codec, Codec::H265);
    }

    #[test]
    fn garbage_never_panics() {
        let mut d = PsDemuxer::new();
        let mut seed = 7u32;
        for _ in 0..2000 {
            let piece: Vec<u8> = (0..97)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    if seed.is_multiple_of(7) {
                        0
                    } else if seed.is_multiple_of(11) {
                        1
                    } else {
                        (seed >> 16) as u8
                    }
                })
                .collect();
            let _ = d.push(&piece);
        }
        let _ = d.flush();
    }
}
