//! The one error type of the protocol. Its [`ProtocolError::code`] strings are part of the
//! protocol: they travel to devices inside `rejected` acks and vendors match on them, so they
//! never change within version 1.

/// Everything that can be wrong with a payload, a signature or a timestamp.
///
/// Where a field is to blame, `path` names it the way a vendor reads their own JSON
/// (`body.snapshot`, `command.changes[2].valid_until`); the most specific code wins, so a bad
/// image inside a body is `invalid_image`, not `invalid_body`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The payload is larger than [`crate::MAX_PAYLOAD_BYTES`]; nothing was parsed.
    #[error("payload is {size} bytes, more than the {max} allowed")]
    PayloadTooLarge { size: usize, max: usize },
    /// The bytes are not a JSON object (serde's message says where it broke).
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// `v` is missing or is not `1`.
    #[error("unsupported protocol version: {0}")]
    UnsupportedVersion(String),
    /// An event, command or acknowledged id is missing or not 1–64 chars of `[A-Za-z0-9_.:-]`.
    #[error("invalid id at `{path}`: {reason}")]
    InvalidEventId { path: String, reason: String },
    /// A time field is missing or not RFC 3339 with an explicit offset.
    #[error("invalid time at `{path}`: {reason}")]
    InvalidTime { path: String, reason: String },
    /// `device` is missing or not exactly 20 ASCII digits.
    #[error("invalid device code: {0}")]
    InvalidDeviceCode(String),
    /// `type` is missing or names no message this version knows (or not the one expected).
    #[error("unknown message type: {0}")]
    UnknownType(String),
    /// A field of the body (or of a platform message) does not fit its type.
    #[error("invalid field `{path}`: {reason}")]
    InvalidBody { path: String, reason: String },
    /// An image decodes to more than [`crate::MAX_IMAGE_BYTES`].
    #[error("image at `{path}` is {size} bytes, more than the {max} allowed")]
    ImageTooLarge { path: String, size: usize, max: usize },
    /// An image is not valid base64, or its bytes are not the declared format.
    #[error("invalid image at `{path}`: {reason}")]
    InvalidImage { path: String, reason: String },
    /// The HMAC signature is missing, malformed or does not match.
    #[error("bad signature")]
    BadSignature,
    /// The signed timestamp is further from the platform's clock than the allowed skew.
    #[error("timestamp {timestamp_ms} ms is more than {max_skew_ms} ms away from now ({now_ms} ms)")]
    StaleTimestamp {
        timestamp_ms: i64,
        now_ms: i64,
        max_skew_ms: u64,
    },
}

impl ProtocolError {
    /// The stable machine-readable code, e.g. `invalid_body`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::MalformedJson(_) => "malformed_json",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::InvalidEventId { .. } => "invalid_event_id",
            Self::InvalidTime { .. } => "invalid_time",
            Self::InvalidDeviceCode(_) => "invalid_device_code",
            Self::UnknownType(_) => "unknown_type",
            Self::InvalidBody { .. } => "invalid_body",
            Self::ImageTooLarge { .. } => "image_too_large",
            Self::InvalidImage { .. } => "invalid_image",
            Self::BadSignature => "bad_signature",
            Self::StaleTimestamp { .. } => "stale_timestamp",
        }
    }

    /// Every code this version can return, in declaration order; for documentation and tests.
    pub const CODES: [&'static str; 12] = [
        "payload_too_large",
        "malformed_json",
        "unsupported_version",
        "invalid_event_id",
        "invalid_time",
        "invalid_device_code",
        "unknown_type",
        "invalid_body",
        "image_too_large",
        "invalid_image",
        "bad_signature",
        "stale_timestamp",
    ];

    pub(crate) fn body(path: &str, reason: impl Into<String>) -> Self {
        Self::InvalidBody {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Quotes a value from the payload for an error message, cut short so that a hostile payload
/// cannot make error messages (and the logs they end up in) arbitrarily large.
pub(crate) fn quote(value: &str) -> String {
    const MAX_CHARS: usize = 40;
    if value.chars().count() <= MAX_CHARS {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(MAX_CHARS).collect();
        format!("{head:?}…")
    }
}
