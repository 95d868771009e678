//! The SIP message codec (RFC 3261 §7) as GB/T 28181 peers speak it: a start line, headers
//! kept in order as text, and a body kept as bytes (MANSCDP bodies are GB2312, not UTF-8).
//! Parsing is tolerant — bare `\n` line ends, folded headers, compact header names, a missing
//! `Content-Length` on UDP — and never panics on any input; it refuses only what cannot be a
//! SIP message. `frame` finds message boundaries on a TCP stream by `Content-Length`.
//!
//! Why our own codec and not `rsip`: see `docs/design/gb28181.md` (bodies as bytes, tolerance
//! of field quirks, an unmaintained crate with no licence metadata).

use std::fmt::Write as _;

/// Why bytes are not a SIP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipError {
    /// The header section never ends.
    #[error("incomplete message")]
    Incomplete,
    /// The start line is neither a request nor a status line.
    #[error("bad start line")]
    StartLine,
    /// A header line has no colon, or the header section is not text.
    #[error("bad header")]
    Header,
    /// `Content-Length` is not a number or exceeds the bytes there.
    #[error("bad content length")]
    ContentLength,
    /// Larger than we accept.
    #[error("message too large")]
    TooLarge,
}

impl SipError {
    /// A stable code for metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            SipError::Incomplete => "incomplete",
            SipError::StartLine => "start_line",
            SipError::Header => "header",
            SipError::ContentLength => "content_length",
            SipError::TooLarge => "too_large",
        }
    }
}

/// The largest message we read (UDP datagrams are smaller; a TCP catalogue stays well under).
pub const MAX_MESSAGE: usize = 256 * 1024;

/// A request line or a status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `METHOD uri SIP/2.0`.
    Request {
        /// The method in upper case (`REGISTER`, `MESSAGE`, …).
        method: String,
        /// The Request-URI as sent.
        uri: String,
    },
    /// `SIP/2.0 code reason`.
    Response {
        /// The status code.
        code: u16,
        /// The reason phrase.
        reason: String,
    },
}

/// One SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipMessage {
    /// The first line.
    pub start: StartLine,
    /// Headers in the order received or added, names as written.
    pub headers: Vec<(String, String)>,
    /// The body, as bytes.
    pub body: Vec<u8>,
}

/// Compact forms (RFC 3261 §7.3.3) and their full names.
const COMPACT: &[(&str, &str)] = &[
    ("i", "Call-ID"),
    ("m", "Contact"),
    ("e", "Content-Encoding"),
    ("l", "Content-Length"),
    ("c", "Content-Type"),
    ("f", "From"),
    ("s", "Subject"),
    ("k", "Supported"),
    ("t", "To"),
    ("v", "Via"),
    ("o", "Event"),
];

fn canonical(name: &str) -> &str {
    COMPACT
        .iter()
        .find(|(short, _)| short.eq_ignore_ascii_case(name))
        .map_or(name, |(_, long)| long)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Where the header section ends: (end of headers, start of body).
fn header_end(bytes: &[u8]) -> Option<(usize, usize)> {
    let crlf = find(bytes, b"\r\n\r\n").map(|i| (i, i + 4));
    let lf = find(bytes, b"\n\n").map(|i| (i, i + 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The length of the first complete message on a stream, after skipping leading blank lines
/// (RFC 5626 keep-alive CRLFs): `Ok(None)` = wait for more, `Ok(Some((skip, len)))` = bytes
/// `skip..skip+len` are one message.
pub fn frame(buf: &[u8]) -> Result<Option<(usize, usize)>, SipError> {
    let skip = buf
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .unwrap_or(buf.len());
    let rest = &buf[skip..];
    let Some((head_end, body_start)) = header_end(rest) else {
        if rest.len() > MAX_MESSAGE {
            return Err(SipError::TooLarge);
        }
        return Ok(None);
    };
    let head = std::str::from_utf8(&rest[..head_end]).map_err(|_| SipError::Header)?;
    let mut length = 0usize;
    for line in head.lines().skip(1) {
        if let Some((name, value)) = line.split_once(':')
            && canonical(name.trim()).eq_ignore_ascii_case("Content-Length")
        {
            length = value.trim().parse().map_err(|_| SipError::ContentLength)?;
        }
    }
    if body_start + length > MAX_MESSAGE {
        return Err(SipError::TooLarge);
    }
    if rest.len() < body_start + length {
        return Ok(None);
    }
    Ok(Some((skip, body_start + length)))
}

impl SipMessage {
    /// Parses one message (a UDP datagram or a frame cut by [`frame`]).
    pub fn parse(bytes: &[u8]) -> Result<SipMessage, SipError> {
        if bytes.len() > MAX_MESSAGE {
            return Err(SipError::TooLarge);
        }
        let skip = bytes
            .iter()
            .position(|b| *b != b'\r' && *b != b'\n')
            .unwrap_or(bytes.len());
        let bytes = &bytes[skip..];
        // A datagram without the blank line is headers only.
        let (head_end, body_start) = header_end(bytes).unwrap_or((bytes.len(), bytes.len()));
        let head = std::str::from_utf8(&bytes[..head_end]).map_err(|_| SipError::Header)?;
        let mut lines = head.lines();
        let start = parse_start(lines.next().ok_or(SipError::StartLine)?)?;
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                // A folded continuation of the previous header.
                let (_, value) = headers.last_mut().ok_or(SipError::Header)?;
                value.push(' ');
                value.push_str(line.trim());
                continue;
            }
            let (name, value) = line.split_once(':').ok_or(SipError::Header)?;
            let name = name.trim();
            if name.is_empty() || name.contains(' ') {
                return Err(SipError::Header);
            }
            headers.push((canonical(name).to_string(), value.trim().to_string()));
        }
        let rest = &bytes[body_start.min(bytes.len())..];
        let body = match headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
        {
            Some((_, v)) => {
                let n: usize = v.trim().parse().map_err(|_| SipError::ContentLength)?;
                rest.get(..n).ok_or(SipError::ContentLength)?.to_vec()
            }
            None => rest.to_vec(),
        };
        Ok(SipMessage { start, headers, body })
    }

    /// A new request with no headers.
    pub fn request(method: &str, uri: &str) -> SipMessage {
        SipMessage {
            start: StartLine::Request {
                method: method.to_string(),
                uri: uri.to_string(),
            },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The wire form; `Content-Length` is written from the body (any stored one is replaced).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = String::new();
        match &self.start {
            StartLine::Request { method, uri } => {
                let _ = write!(head, "{method} {uri} SIP/2.0\r\n");
            }
            StartLine::Response { code, reason } => {
                let _ = write!(head, "SIP/2.0 {code} {reason}\r\n");
            }
        }
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case("Content-Length") {
                continue;
            }
            let _ = write!(head, "{name}: {value}\r\n");
        }
        let _ = write!(head, "Content-Length: {}\r\n\r\n", self.body.len());
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    /// The method of a request, or of the request a response answers (from CSeq).
    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => self.cseq().map(|(_, m)| m),
        }
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    /// The Request-URI of a request.
    pub fn uri(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The first value of a header (case-insensitive, compact forms folded).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = canonical(name);
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let name = canonical(name);
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Appends a header.
    pub fn push(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Replaces a header's values with one value (or appends it).
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        if let Some(slot) = self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            slot.1 = value;
        } else {
            self.headers.push((name.to_string(), value));
        }
        self
    }

    /// Sets the body and its content type.
    pub fn with_body(mut self, content_type: &str, body: Vec<u8>) -> SipMessage {
        self.set("Content-Type", content_type);
        self.body = body;
        self
    }

    /// `Call-ID`.
    pub fn call_id(&self) -> Option<&str> {
        self.header("Call-ID")
    }

    /// `CSeq` as (number, method).
    pub fn cseq(&self) -> Option<(u32, &str)> {
        let (n, m) = self.header("CSeq")?.trim().split_once(' ')?;
        Some((n.trim().parse().ok()?, m.trim()))
    }

    /// `Expires` as seconds.
    pub fn expires(&self) -> Option<u32> {
        self.header("Expires")?.trim().parse().ok()
    }

    /// The user part of the `From` URI (a device's 20-digit id).
    pub fn from_user(&self) -> Option<&str> {
        uri_user(self.header("From")?)
    }

    /// The user part of the `To` URI.
    pub fn to_user(&self) -> Option<&str> {
        uri_user(self.header("To")?)
    }

    /// The `tag` parameter of `From`.
    pub fn from_tag(&self) -> Option<&str> {
        header_param(self.header("From")?, "tag")
    }

    /// The `tag` parameter of `To`.
    pub fn to_tag(&self) -> Option<&str> {
        header_param(self.header("To")?, "tag")
    }

    /// The `branch` of the top `Via`.
    pub fn branch(&self) -> Option<&str> {
        header_param(self.header("Via")?, "branch")
    }

    /// A response to this request: Via, From, To (with `to_tag` added when it has none),
    /// Call-ID and CSeq copied (RFC 3261 §8.2.6.2). The top Via gets `received`/`rport` filled
    /// when `source` is given (RFC 3581), so NATed devices learn their public address.
    pub fn response(
        &self,
        code: u16,
        reason: &str,
        to_tag: Option<&str>,
        source: Option<std::net::SocketAddr>,
    ) -> SipMessage {
        let mut headers = Vec::new();
        for (i, via) in self.headers_named("Via").enumerate() {
            let via = match (i, source) {
                (0, Some(addr)) => stamp_via(via, addr),
                _ => via.to_string(),
            };
            headers.push(("Via".to_string(), via));
        }
        for name in ["From", "To", "Call-ID", "CSeq"] {
            if let Some(value) = self.header(name) {
                let mut value = value.to_string();
                if name == "To"
                    && let Some(tag) = to_tag
                    && header_param(&value, "tag").is_none()
                {
                    value.push_str(";tag=");
                    value.push_str(tag);
                }
                headers.push((name.to_string(), value));
            }
        }
        SipMessage {
            start: StartLine::Response {
                code,
                reason: reason.to_string(),
            },
            headers,
            body: Vec::new(),
        }
    }
}

/// Fills `received` and `rport` on a Via value from the observed source.
fn stamp_via(via: &str, source: std::net::SocketAddr) -> String {
    let mut parts: Vec<String> = via.split(';').map(|p| p.trim().to_string()).collect();
    // `rport` is filled only when the client asked for it.
    for part in parts.iter_mut().skip(1) {
        if part.eq_ignore_ascii_case("rport") || part.to_ascii_lowercase().starts_with("rport=") {
            *part = format!("rport={}", source.port());
        }
    }
    parts.retain(|p| !p.to_ascii_lowercase().starts_with("received="));
    parts.push(format!("received={}", source.ip()));
    parts.join(";")
}

fn parse_start(line: &str) -> Result<StartLine, SipError> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let code: u16 = code.parse().map_err(|_| SipError::StartLine)?;
        if !(100..700).contains(&code) {
            return Err(SipError::StartLine);
        }
        return Ok(StartLine::Response {
            code,
            reason: reason.to_string(),
        });
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SipError::StartLine);
    };
    if !version.eq_ignore_ascii_case("SIP/2.0")
        || !method.bytes().all(|b| b.is_ascii_alphabetic())
        || !(uri.starts_with("sip:") || uri.starts_with("sips:"))
    {
        return Err(SipError::StartLine);
    }
    Ok(StartLine::Request {
        method: method.to_ascii_uppercase(),
        uri: uri.to_string(),
    })
}

/// The user part of a SIP URI or name-addr: `"x" <sip:340200…@3402000000>;tag=1` → `340200…`.
pub fn uri_user(value: &str) -> Option<&str> {
    let inner = match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value.split(';').next().unwrap_or(value),
    };
    let inner = inner.trim();
    let rest = inner
        .strip_prefix("sip:")
        .or_else(|| inner.strip_prefix("sips:"))?;
    let (user, _) = rest.split_once('@')?;
    let user = user.split(':').next().unwrap_or(user);
    (!user.is_empty()).then_some(user)
}

/// The URI inside a name-addr (`"x" <sip:a@b>;tag=1` → `sip:a@b`), or the value itself.
pub fn uri_of(value: &str) -> Option<&str> {
    let inner = match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value.split(';').next().unwrap_or(value),
    };
    let inner = inner.trim();
    (inner.starts_with("sip:") || inner.starts_with("sips:")).then_some(inner)
}

/// The host part of a SIP URI (`sip:user@host:port;params` → `host:port`).
pub fn uri_host(value: &str) -> Option<&str> {
    let inner = match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value,
    };
    let rest = inner
        .trim()
        .strip_prefix("sip:")
        .or_else(|| inner.trim().strip_prefix("sips:"))?;
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    Some(host.split([';', '?', '>']).next().unwrap_or(host))
}

/// A `;name=value` parameter of a header value (outside any `<…>`).
pub fn header_param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let params = match value.rfind('>') {
        Some(i) => &value[i + 1..],
        None => value,
    };
    params.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A random token for tags, branches and Call-IDs.
pub fn token() -> String {
    use rand::Rng;
    let n: u64 = rand::thread_rng().r#gen();
    format!("{n:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTER: &str = "REGISTER sip:34020000002000000001@3402000000 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.168.2.64:5060;rport;branch=z9hG4bK1\r\n\
        From: <sip:34020000001320000264@3402000000>;tag=abc\r\n\
        To: <sip:34020000001320000264@3402000000>\r\n\
        Call-ID: 1@192.168.2.64\r\n\
        CSeq: 1 REGISTER\r\n\
        Contact: <sip:34020000001320000264@192.168.2.64:5060>\r\n\
        Max-Forwards: 70\r\n\
        Expires: 3600\r\n\
        Content-Length: 0\r\n\r\n";

    #[test]
    fn a_register_parses_and_answers() {
        let m = SipMessage::parse(REGISTER.as_bytes()).unwrap();
        assert_eq!(m.method(), Some("REGISTER"));
        assert_eq!(m.from_user(), Some("34020000001320000264"));
        assert_eq!(m.from_tag(), Some("abc"));
        assert_eq!(m.expires(), Some(3600));
        assert_eq!(m.cseq(), Some((1, "REGISTER")));
        let r = m.response(
            401,
            "Unauthorized",
            Some("t1"),
            Some("10.0.0.9:40000".parse().unwrap()),
        );
        let text = String::from_utf8(r.to_bytes()).unwrap();
        assert!(text.starts_with("SIP/2.0 401 Unauthorized\r\n"));
        assert!(text.contains("rport=40000"), "{text}");
        assert!(text.contains("received=10.0.0.9"));
        assert!(text.contains("To: <sip:34020000001320000264@3402000000>;tag=t1"));
        let back = SipMessage::parse(&r.to_bytes()).unwrap();
        assert_eq!(back.status(), Some(401));
        assert_eq!(back.method(), Some("REGISTER"));
    }

    #[test]
    fn compact_names_bare_newlines_and_folding_are_read() {
        let text = "MESSAGE sip:a@b SIP/2.0\ni: x1\nf: <sip:34020000001320000001@3402000000>;tag=9\nSubject: a,\n  b\nl: 3\n\nabcdef";
        let m = SipMessage::parse(text.as_bytes()).unwrap();
        assert_eq!(m.call_id(), Some("x1"));
        assert_eq!(m.from_user(), Some("34020000001320000001"));
        assert_eq!(m.header("Subject"), Some("a, b"));
        assert_eq!(m.body, b"abc");
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        for bad in [
            &b""[..],
            b"\r\n\r\n",
            b"HELLO",
            b"SIP/2.0 999 X\r\n\r\n",
            b"INVITE sip:a@b SIP/2.0\r\nNoColon\r\n\r\n",
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 99\r\n\r\nshort",
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n",
            b"\xff\xfe\x00garbage\r\n\r\n",
        ] {
            assert!(SipMessage::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn stream_framing_waits_for_the_body() {
        let mut stream = b"\r\n\r\n".to_vec();
        let msg = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 5\r\n\r\nhello";
        stream.extend_from_slice(&msg.as_bytes()[..msg.len() - 2]);
        assert_eq!(frame(&stream), Ok(None));
        stream.extend_from_slice(b"lo");
        let (skip, len) = frame(&stream).unwrap().unwrap();
        assert_eq!(skip, 4);
        assert_eq!(&stream[skip..skip + len], msg.as_bytes());
    }

    #[test]
    fn uri_parts() {
        assert_eq!(
            uri_user("\"cam\" <sip:34020000001320000001@3402000000>;tag=1"),
            Some("34020000001320000001")
        );
        assert_eq!(
            uri_user("sip:34020000001320000001@10.0.0.1:5060"),
            Some("34020000001320000001")
        );
        assert_eq!(
            uri_host("<sip:1@10.0.0.1:5060;transport=tcp>"),
            Some("10.0.0.1:5060")
        );
        assert_eq!(header_param("<sip:a@b;lr>;tag=xy", "tag"), Some("xy"));
        assert_eq!(header_param("<sip:a@b;tag=no>", "tag"), None);
    }
}
