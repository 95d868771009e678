//! RTP (RFC 3550) as GB/T 28181 media carries it: the fixed header read without copying, the
//! SSRC rewritten in place for relaying to a superior, and RTP over TCP split from the stream
//! in either framing met in the field: RFC 4571 (a 2-byte length) as the standard says, or the
//! RTSP-interleaved `$ channel length` that several stacks (gb28181-rs among them) send.

/// The fields of an RTP header we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// Payload type (96 = PS).
    pub payload_type: u8,
    /// The marker bit: last packet of a frame.
    pub marker: bool,
    /// Sequence number.
    pub sequence: u16,
    /// Timestamp (90 kHz for video).
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
}

/// Reads a packet: its header and payload (after CSRCs, extension and padding).
pub fn parse(packet: &[u8]) -> Option<(RtpHeader, &[u8])> {
    if packet.len() < 12 || packet[0] >> 6 != 2 {
        return None;
    }
    let csrc = usize::from(packet[0] & 0x0f);
    let mut start = 12 + 4 * csrc;
    if packet[0] & 0x10 != 0 {
        let ext = packet.get(start + 2..start + 4)?;
        start += 4 + 4 * usize::from(u16::from_be_bytes([ext[0], ext[1]]));
    }
    let mut end = packet.len();
    if packet[0] & 0x20 != 0 {
        end = end.checked_sub(usize::from(*packet.last()?))?;
    }
    if start > end {
        return None;
    }
    let header = RtpHeader {
        payload_type: packet[1] & 0x7f,
        marker: packet[1] & 0x80 != 0,
        sequence: u16::from_be_bytes([packet[2], packet[3]]),
        timestamp: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
        ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
    };
    Some((header, &packet[start..end]))
}

/// Rewrites the SSRC of a packet in place (relaying to a superior that asked for its own).
pub fn rewrite_ssrc(packet: &mut [u8], ssrc: u32) -> bool {
    if packet.len() < 12 || packet[0] >> 6 != 2 {
        return false;
    }
    packet[8..12].copy_from_slice(&ssrc.to_be_bytes());
    true
}

/// Writes a packet (used by tests and the cascade's relay).
pub fn build(header: &RtpHeader, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + payload.len());
    out.push(0x80);
    out.push(header.payload_type | if header.marker { 0x80 } else { 0 });
    out.extend_from_slice(&header.sequence.to_be_bytes());
    out.extend_from_slice(&header.timestamp.to_be_bytes());
    out.extend_from_slice(&header.ssrc.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// RFC 4571 framing of one packet.
pub fn frame_4571(packet: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + packet.len());
    out.extend_from_slice(&(packet.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    out.extend_from_slice(packet);
    out
}

/// Splits RTP packets off a TCP stream buffer; what is incomplete stays in the buffer.
#[derive(Debug, Default)]
pub struct TcpDeframer {
    buffer: Vec<u8>,
}

impl TcpDeframer {
    /// Appends bytes read from the socket.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole packet, if there is one. Bytes that fit neither framing are skipped
    /// one at a time until the stream lines up again.
    pub fn next_packet(&mut self) -> Option<Vec<u8>> {
        loop {
            let b = &self.buffer;
            if b.len() < 4 {
                return None;
            }
            // `$`, channel, length, then an RTP version-2 byte.
            let (header, length) = if b[0] == b'$' && b.len() >= 5 && b[4] >> 6 == 2 {
                (4, usize::from(u16::from_be_bytes([b[2], b[3]])))
            } else if b[2] >> 6 == 2 {
                (2, usize::from(u16::from_be_bytes([b[0], b[1]])))
            } else {
                self.buffer.remove(0);
                continue;
            };
            if length < 12 {
                self.buffer.remove(0);
                continue;
            }
            if b.len() < header + length {
                return None;
            }
            let packet = b[header..header + length].to_vec();
            self.buffer.drain(..header + length);
            return Some(packet);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16) -> Vec<u8> {
        build(
            &RtpHeader {
                payload_type: 96,
                marker: seq.is_multiple_of(2),
                sequence: seq,
                timestamp: 9000,
                ssrc: 200_000_001,
            },
            &[0, 0, 1, 0xba, seq as u8],
        )
    }

    #[test]
    fn headers_read_and_ssrc_rewrites() {
        let mut p = packet(2);
        let (h, payload) = parse(&p).unwrap();
        assert_eq!(
            (h.payload_type, h.marker, h.sequence, h.ssrc),
            (96, true, 2, 200_000_001)
        );
        assert_eq!(payload, &[0, 0, 1, 0xba, 2]);
        assert!(rewrite_ssrc(&mut p, 7));
        assert_eq!(parse(&p).unwrap().0.ssrc, 7);
        assert!(parse(&[0x80; 5]).is_none());
        assert!(parse(&[0x40; 20]).is_none());
    }

    #[test]
    fn both_tcp_framings_split_across_reads() {
        let mut stream = frame_4571(&packet(1));
        let mut dollar = vec![b'$', 0];
        dollar.extend_from_slice(&(packet(2).len() as u16).to_be_bytes());
        dollar.extend_from_slice(&packet(2));
        stream.extend_from_slice(&dollar);
        stream.extend_from_slice(&frame_4571(&packet(3)));
        let mut d = TcpDeframer::default();
        let mut got = Vec::new();
        for chunk in stream.chunks(7) {
            d.push(chunk);
            while let Some(p) = d.next_packet() {
                got.push(parse(&p).unwrap().0.sequence);
            }
        }
        assert_eq!(got, vec![1, 2, 3]);
    }
}
