//! The SDP of GB/T 28181 INVITEs (§C, RFC 4566 plus the `y=` SSRC and `f=` media lines that
//! standard SDP parsers refuse). GB SDP is a dozen lines, so it is read and written here by
//! hand: read leniently (unknown lines ignored), written in the order devices expect.

use std::net::IpAddr;

/// How RTP travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaTransport {
    /// RTP over UDP (`RTP/AVP`).
    Udp,
    /// RTP over TCP (`TCP/RTP/AVP`), we listen and the sender connects (`a=setup:passive`
    /// in our offer).
    TcpPassive,
    /// RTP over TCP, we connect to the other side (`a=setup:active` in our offer).
    TcpActive,
}

/// What an SDP says about the one video stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sdp {
    /// `o=` user (the sender's id).
    pub origin: String,
    /// `s=`: Play, Playback, Download, Talk.
    pub session: String,
    /// `c=` address.
    pub address: Option<IpAddr>,
    /// `m=video` port.
    pub port: u16,
    /// Transport and TCP role.
    pub transport: MediaTransport,
    /// `y=` as sent (10 decimal digits normally).
    pub ssrc_text: Option<String>,
    /// `a=sendonly` / `recvonly` / `sendrecv`, if any.
    pub direction: Option<String>,
    /// `t=` start and end (0 0 for live).
    pub time: (u64, u64),
    /// `u=` (playback: `channel:0`).
    pub uri: Option<String>,
}

impl Sdp {
    /// The SSRC as the RTP header carries it (`y=` is decimal, 10 digits; 0 when absent or bad).
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc_text
            .as_deref()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(|v| v as u32)
    }

    /// Reads an SDP body.
    pub fn parse(text: &str) -> Option<Sdp> {
        let mut sdp = Sdp {
            origin: String::new(),
            session: String::new(),
            address: None,
            port: 0,
            transport: MediaTransport::Udp,
            ssrc_text: None,
            direction: None,
            time: (0, 0),
            uri: None,
        };
        let mut tcp = false;
        let mut setup: Option<String> = None;
        let mut media_seen = false;
        for line in text.lines() {
            let line = line.trim();
            let Some((kind, value)) = line.split_once('=') else {
                continue;
            };
            match kind {
                "o" => sdp.origin = value.split_whitespace().next().unwrap_or("").to_string(),
                "s" => sdp.session = value.trim().to_string(),
                "u" => sdp.uri = Some(value.trim().to_string()),
                "c" => {
                    if let Some(addr) = value.split_whitespace().nth(2) {
                        let addr = addr.split('/').next().unwrap_or(addr);
                        if let Ok(ip) = addr.parse() {
                            // A media-level c= overrides the session-level one.
                            if media_seen || sdp.address.is_none() {
                                sdp.address = Some(ip);
                            }
                        }
                    }
                }
                "t" => {
                    let mut parts = value.split_whitespace().map(|p| p.parse().unwrap_or(0));
                    sdp.time = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
                }
                "m" if !media_seen => {
                    let mut parts = value.split_whitespace();
                    let _media = parts.next();
                    sdp.port = parts
                        .next()
                        .and_then(|p| p.split('/').next()?.parse().ok())
                        .unwrap_or(0);
                    tcp = parts
                        .next()
                        .is_some_and(|p| p.to_ascii_uppercase().starts_with("TCP"));
                    media_seen = true;
                }
                "a" => {
                    let value = value.trim();
                    if let Some(role) = value.strip_prefix("setup:") {
                        setup = Some(role.trim().to_ascii_lowercase());
                    } else if matches!(value, "sendonly" | "recvonly" | "sendrecv" | "inactive") {
                        sdp.direction = Some(value.to_string());
                    }
                }
                "y" => sdp.ssrc_text = Some(value.trim().to_string()),
                _ => {}
            }
        }
        if !media_seen {
            return None;
        }
        sdp.transport = match (tcp, setup.as_deref()) {
            (false, _) => MediaTransport::Udp,
            (true, Some("active")) => MediaTransport::TcpActive,
            (true, _) => MediaTransport::TcpPassive,
        };
        Some(sdp)
    }
}

/// The SSRC text for a live stream: `0`, digits 4–8 of the domain, a 4-digit sequence.
pub fn live_ssrc(domain: &str, sequence: u32) -> String {
    let middle = domain.get(3..8).unwrap_or("00000");
    format!("0{middle}{:04}", sequence % 10_000)
}

/// Our INVITE offer for live video (`s=Play`), receiving at `address:port`.
pub fn play_offer(origin: &str, address: IpAddr, port: u16, transport: MediaTransport, ssrc: &str) -> String {
    let (proto, setup) = match transport {
        MediaTransport::Udp => ("RTP/AVP", ""),
        MediaTransport::TcpPassive => ("TCP/RTP/AVP", "a=setup:passive\r\na=connection:new\r\n"),
        MediaTransport::TcpActive => ("TCP/RTP/AVP", "a=setup:active\r\na=connection:new\r\n"),
    };
    format!(
        "v=0\r\no={origin} 0 0 IN IP4 {address}\r\ns=Play\r\nc=IN IP4 {address}\r\nt=0 0\r\nm=video {port} {proto} 96 98 97\r\na=recvonly\r\na=rtpmap:96 PS/90000\r\na=rtpmap:98 H264/90000\r\na=rtpmap:97 MPEG4/90000\r\n{setup}y={ssrc}\r\n"
    )
}

/// Our answer when we send media (cascade): `a=sendonly`, the TCP role inverted.
pub fn send_answer(
    origin: &str,
    address: IpAddr,
    port: u16,
    transport: MediaTransport,
    ssrc: &str,
) -> String {
    let (proto, setup) = match transport {
        MediaTransport::Udp => ("RTP/AVP", ""),
        // The offerer listens (passive), so we connect (active), and the other way round.
        MediaTransport::TcpPassive => ("TCP/RTP/AVP", "a=setup:active\r\na=connection:new\r\n"),
        MediaTransport::TcpActive => ("TCP/RTP/AVP", "a=setup:passive\r\na=connection:new\r\n"),
    };
    format!(
        "v=0\r\no={origin} 0 0 IN IP4 {address}\r\ns=Play\r\nc=IN IP4 {address}\r\nt=0 0\r\nm=video {port} {proto} 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\n{setup}y={ssrc}\r\nf=\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_answer_reads_with_its_ssrc() {
        let answer = "v=0\r\no=34020000001320000001 0 0 IN IP4 192.168.1.64\r\ns=Play\r\nc=IN IP4 192.168.1.64\r\nt=0 0\r\nm=video 15060 RTP/AVP 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\ny=0100000001\r\nf=v/2/6/25/1/4000a///\r\n";
        let sdp = Sdp::parse(answer).unwrap();
        assert_eq!(sdp.address, Some("192.168.1.64".parse().unwrap()));
        assert_eq!((sdp.port, sdp.transport), (15060, MediaTransport::Udp));
        assert_eq!(sdp.ssrc(), Some(100_000_001));
        assert_eq!(sdp.direction.as_deref(), Some("sendonly"));
        assert_eq!(Sdp::parse("v=0\r\ns=x\r\n"), None);
    }

    #[test]
    fn offers_carry_the_tcp_role_and_ssrc() {
        let offer = play_offer(
            "34020000002000000001",
            "127.0.0.1".parse().unwrap(),
            30000,
            MediaTransport::TcpPassive,
            &live_ssrc("3402000000", 7),
        );
        let sdp = Sdp::parse(&offer).unwrap();
        assert_eq!(sdp.transport, MediaTransport::TcpPassive);
        assert_eq!(sdp.ssrc_text.as_deref(), Some("0200000007"));
        let answer = send_answer("x", "127.0.0.1".parse().unwrap(), 0, sdp.transport, "0200000007");
        assert_eq!(Sdp::parse(&answer).unwrap().transport, MediaTransport::TcpActive);
    }
}
