//! The System objects and the envelopes every VIID answer uses: `RegisterObject`,
//! `KeepaliveObject`, `UnRegisterObject` (each `{"DeviceID": …}`), `ResponseStatusObject` with
//! an integer `StatusCode`, and `SystemTimeObject`. Times are `yyyyMMddHHmmss` in UTC+8.

use serde_json::{Value, json};

/// Why a System request body was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SystemError {
    /// Not JSON.
    #[error("the body is not JSON: {0}")]
    Json(String),
    /// The object or its DeviceID is missing.
    #[error("{0} with a DeviceID is missing")]
    Missing(String),
    /// The DeviceID is not 20 digits.
    #[error("DeviceID {0:?} is not 20 digits")]
    BadDeviceId(String),
}

/// The standard's status codes (GA/T 1400.4; NG `gat1400_status_code.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCode {
    /// 0.
    Ok = 0,
    /// 1.
    OtherError = 1,
    /// 2.
    DeviceBusy = 2,
    /// 3.
    DeviceError = 3,
    /// 4.
    InvalidOperation = 4,
    /// 7.
    InvalidJsonFormat = 7,
    /// 8.
    InvalidJsonContent = 8,
}

impl StatusCode {
    /// Reads a `StatusCode` written as an integer or a string (`0`, `"0"`).
    pub fn read(value: &Value) -> Option<i64> {
        match value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// `yyyyMMddHHmmss` in China Standard Time.
pub fn local_time(ms: i64) -> String {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&offset)
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// The DeviceID in `{"<object>": {"DeviceID": "…"}}` (key case tolerated: `DeviceId`, `deviceID`).
/// Vendor ids that are not 20 digits are refused: the password is looked up by it.
pub fn device_id_of(body: &[u8], object: &str) -> Result<String, SystemError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| SystemError::Json(e.to_string()))?;
    let inner = value
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(object)))
        .map(|(_, v)| v)
        .ok_or_else(|| SystemError::Missing(object.to_string()))?;
    let id = inner
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case("DeviceID")))
        .and_then(|(_, v)| v.as_str())
        .ok_or_else(|| SystemError::Missing(object.to_string()))?
        .trim()
        .to_string();
    if id.len() == 20 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(SystemError::BadDeviceId(id))
    }
}

/// `{"ResponseStatusObject": {…}}` with an integer `StatusCode`.
pub fn response_status(url: &str, code: StatusCode, text: &str, id: &str, now_ms: i64) -> Value {
    json!({"ResponseStatusObject": {
        "Id": id,
        "RequestURL": url,
        "StatusCode": code as i64,
        "StatusString": text,
        "LocalTime": local_time(now_ms),
    }})
}

/// `{"SystemTimeObject": {…}}`: the server's id, network time mode, local time and zone.
pub fn system_time(server_id: &str, now_ms: i64) -> Value {
    json!({"SystemTimeObject": {
        "VIIDServerID": server_id,
        "TimeMode": "1",
        "LocalTime": local_time(now_ms),
        "TimeZone": "Asia/Shanghai",
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_read_tolerantly_and_checked() {
        let id = "34078100001190001002";
        let body = format!(r#"{{"RegisterObject":{{"DeviceID":"{id}","ProtocolVersion":"2.0"}}}}"#);
        assert_eq!(device_id_of(body.as_bytes(), "RegisterObject").unwrap(), id);
        let sloppy = format!(r#"{{"registerObject":{{"DeviceId":" {id} "}}}}"#);
        assert_eq!(device_id_of(sloppy.as_bytes(), "RegisterObject").unwrap(), id);
        assert!(matches!(
            device_id_of(br#"{"KeepaliveObject":{}}"#, "KeepaliveObject"),
            Err(SystemError::Missing(_))
        ));
        assert!(matches!(
            device_id_of(br#"{"KeepaliveObject":{"DeviceID":"123"}}"#, "KeepaliveObject"),
            Err(SystemError::BadDeviceId(_))
        ));
        assert!(matches!(
            device_id_of(b"nope", "RegisterObject"),
            Err(SystemError::Json(_))
        ));
    }

    #[test]
    fn envelopes_write_integers_and_read_both() {
        // 2024-06-04 09:45:47 in UTC+8.
        let ms = 1_717_465_547_000;
        let v = response_status("/VIID/System/Register", StatusCode::Ok, "注册成功", "X", ms);
        assert_eq!(v["ResponseStatusObject"]["StatusCode"], json!(0));
        assert_eq!(v["ResponseStatusObject"]["LocalTime"], "20240604094547");
        assert_eq!(StatusCode::read(&json!("0")), Some(0));
        assert_eq!(StatusCode::read(&json!(4)), Some(4));
        assert_eq!(StatusCode::read(&json!(null)), None);
        let t = system_time("37032300005030000001", ms);
        assert_eq!(t["SystemTimeObject"]["LocalTime"], "20240604094547");
    }
}
