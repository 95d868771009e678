//! The checks every message shares, in both directions: payload size, JSON shape, version,
//! ids, device codes and RFC 3339 times.

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde_json::{Map, Value};

use crate::error::{ProtocolError, quote};
use crate::reader::Obj;
use crate::{MAX_PAYLOAD_BYTES, PROTOCOL_VERSION};

/// Parses a payload into its top-level object after the size check, and checks `v`.
///
/// The size is checked before any parsing so that an oversized payload costs nothing but a
/// length comparison.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ProtocolError> {
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(ProtocolError::PayloadTooLarge {
            size: bytes.len(),
            max: MAX_PAYLOAD_BYTES,
        });
    }
    let map: Map<String, Value> = serde_json::from_slice(bytes).map_err(|error| {
        // serde quotes offending strings in full; cut the message so a hostile payload can't
        // bloat logs and rejected acks.
        let message: String = error.to_string().chars().take(200).collect();
        ProtocolError::MalformedJson(message)
    })?;
    match map.get("v") {
        Some(Value::Number(number)) if number.as_u64() == Some(PROTOCOL_VERSION) => Ok(map),
        Some(other) => {
            // Shown as JSON text, cut short: `v` could be an arbitrarily large object.
            let shown: String = other.to_string().chars().take(40).collect();
            let reason = format!("`v` is {shown}, this platform speaks only version {PROTOCOL_VERSION}");
            Err(ProtocolError::UnsupportedVersion(reason))
        }
        None => Err(ProtocolError::UnsupportedVersion("`v` is missing".to_owned())),
    }
}

/// Whether `code` is a device code: exactly 20 ASCII digits (the GB/T 28181 device id shape).
pub fn is_device_code(code: &str) -> bool {
    code.len() == 20 && code.bytes().all(|byte| byte.is_ascii_digit())
}

/// Whether `id` is a valid event or command id: 1–64 characters of `[A-Za-z0-9_.:-]`.
pub fn is_event_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b':' | b'-'))
}

pub(crate) fn read_device(root: &Obj<'_>) -> Result<String, ProtocolError> {
    match root.get("device") {
        Some(Value::String(code)) if is_device_code(code) => Ok(code.clone()),
        Some(Value::String(code)) => Err(ProtocolError::InvalidDeviceCode(format!(
            "{} is not exactly 20 ASCII digits",
            quote(code)
        ))),
        Some(_) => Err(ProtocolError::InvalidDeviceCode(
            "`device` must be a string of 20 digits".to_owned(),
        )),
        None => Err(ProtocolError::InvalidDeviceCode("`device` is missing".to_owned())),
    }
}

pub(crate) fn read_id(obj: &Obj<'_>, key: &str) -> Result<String, ProtocolError> {
    let path = obj.path(key);
    let reason = match obj.get(key) {
        Some(Value::String(id)) if is_event_id(id) => return Ok(id.clone()),
        Some(Value::String(id)) => format!("{} is not 1–64 characters of [A-Za-z0-9_.:-]", quote(id)),
        Some(_) => "must be a string".to_owned(),
        None => "is missing".to_owned(),
    };
    Err(ProtocolError::InvalidEventId { path, reason })
}

pub(crate) fn read_type<'a>(root: &Obj<'a>) -> Result<&'a str, ProtocolError> {
    match root.get("type") {
        Some(Value::String(kind)) => Ok(kind),
        Some(_) => Err(ProtocolError::UnknownType("`type` must be a string".to_owned())),
        None => Err(ProtocolError::UnknownType("`type` is missing".to_owned())),
    }
}

pub(crate) fn opt_time(obj: &Obj<'_>, key: &str) -> Result<Option<DateTime<FixedOffset>>, ProtocolError> {
    let invalid = |reason: String| ProtocolError::InvalidTime {
        path: obj.path(key),
        reason,
    };
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(text)) => DateTime::parse_from_rfc3339(text).map(Some).map_err(|error| {
            invalid(format!(
                "{} is not RFC 3339 with an offset ({error})",
                quote(text)
            ))
        }),
        Some(_) => Err(invalid("must be an RFC 3339 string".to_owned())),
    }
}

pub(crate) fn time(obj: &Obj<'_>, key: &str) -> Result<DateTime<FixedOffset>, ProtocolError> {
    opt_time(obj, key)?.ok_or_else(|| ProtocolError::InvalidTime {
        path: obj.path(key),
        reason: "is missing".to_owned(),
    })
}

/// Formats a time the way the encoders write it: RFC 3339, the sender's own offset kept,
/// fractional seconds only when there are some.
pub(crate) fn format_time(time: &DateTime<FixedOffset>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Serde adapters so the derived encoders write times with [`format_time`].
pub(crate) mod serde_time {
    use chrono::{DateTime, FixedOffset};
    use serde::Serializer;

    pub(crate) fn required<S: Serializer>(time: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_time(time))
    }

    pub(crate) fn optional<S: Serializer>(
        time: &Option<DateTime<FixedOffset>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => required(time, s),
            None => s.serialize_none(),
        }
    }
}

/// Serializes a value that the crate's own types make infallible to serialize.
pub(crate) fn to_bytes<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Every encoded type has string keys and no custom serializer that can fail, so serde_json
    // cannot return an error here; an empty vector would only ever fail to decode.
    serde_json::to_vec(value).unwrap_or_default()
}
