//! Capture objects as cameras upload them: `FaceListObject.FaceObject[]`,
//! `PersonListObject.PersonObject[]`, `MotorVehicleListObject.MotorVehicleObject[]`,
//! `NonMotorVehicleListObject.NonMotorVehicleObject[]`, each with `SubImageList` images in
//! base64. Each object is read on its own, so one bad object fails alone; what is kept of it is
//! its id, device, time, plate, images and the remaining fields without image data.

use base64::Engine;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The kinds of capture object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// `/VIID/Faces`.
    Face,
    /// `/VIID/Persons` (人员/人体).
    Person,
    /// `/VIID/MotorVehicles`.
    MotorVehicle,
    /// `/VIID/NonMotorVehicles`.
    NonMotorVehicle,
    /// `/VIID/Images`: a picture with its `ImageInfo` (and possibly objects found in it).
    Image,
}

impl ObjectKind {
    /// Our name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Face => "face",
            ObjectKind::Person => "person",
            ObjectKind::MotorVehicle => "motor_vehicle",
            ObjectKind::NonMotorVehicle => "non_motor_vehicle",
            ObjectKind::Image => "image",
        }
    }

    /// (list wrapper, object key, id field).
    pub fn keys(self) -> (&'static str, &'static str, &'static str) {
        match self {
            ObjectKind::Face => ("FaceListObject", "FaceObject", "FaceID"),
            ObjectKind::Person => ("PersonListObject", "PersonObject", "PersonID"),
            ObjectKind::MotorVehicle => ("MotorVehicleListObject", "MotorVehicleObject", "MotorVehicleID"),
            ObjectKind::NonMotorVehicle => (
                "NonMotorVehicleListObject",
                "NonMotorVehicleObject",
                "NonMotorVehicleID",
            ),
            ObjectKind::Image => ("ImageListObject", "Image", "ImageID"),
        }
    }

    /// The time fields, in order of preference.
    fn time_fields(self) -> &'static [&'static str] {
        match self {
            ObjectKind::Face => &["ShotTime", "FaceAppearTime", "LocationMarkTime"],
            ObjectKind::Person => &["ShotTime", "PersonAppearTime", "LocationMarkTime"],
            ObjectKind::MotorVehicle | ObjectKind::NonMotorVehicle => &["PassTime", "AppearTime", "MarkTime"],
            ObjectKind::Image => &["ShotTime", "EntryTime"],
        }
    }
}

/// One image of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubImage {
    /// `Type` (e.g. `11` face crop, `14` scene, `01` vehicle).
    pub image_type: String,
    /// `jpeg` or `png` (from the content).
    pub format: &'static str,
    /// The image.
    pub bytes: Vec<u8>,
}

/// One object read from a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureObject {
    /// Its id as uploaded.
    pub record_id: String,
    /// The capturing device, when given.
    pub device_id: Option<String>,
    /// Capture time (ms), when given and readable.
    pub shot_at_ms: Option<i64>,
    /// The plate, for vehicles.
    pub plate: Option<String>,
    /// The analytics event the camera attached, as uploaded: an image's `EventSort` (a
    /// GA/T 2000.254 video event type code), else a person's `BehaviorDescription` or
    /// `Behavior`. Interpreted by the domain (`AlarmKind::from_video_event`).
    pub event: Option<String>,
    /// Its pictures.
    pub images: Vec<SubImage>,
    /// The fields without image data.
    pub attributes: Value,
    /// Hex SHA-256 of the object as uploaded.
    pub content_hash: String,
    /// Deviations from the standard that were accepted (counted by the caller).
    pub deviations: Vec<&'static str>,
}

/// Why an object (or the whole batch) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ObjectError(pub String);

/// One element of a batch: the object, or why it was refused.
pub type ObjectResult = Result<CaptureObject, ObjectError>;

/// Reads `yyyyMMddHHmmss` (UTC+8), or epoch milliseconds, as some vendors send.
pub fn parse_time(value: &Value) -> Option<i64> {
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => return n.as_i64().filter(|ms| *ms > 1_000_000_000_000),
        _ => return None,
    };
    if text.len() == 14 && text.bytes().all(|b| b.is_ascii_digit()) {
        let t = chrono::NaiveDateTime::parse_from_str(&text, "%Y%m%d%H%M%S").ok()?;
        return Some(t.and_utc().timestamp_millis() - 8 * 3600 * 1000);
    }
    text.parse::<i64>().ok().filter(|ms| *ms > 1_000_000_000_000)
}

/// A field by name, matched case-insensitively when not found as spelled.
pub(crate) fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// A field as trimmed text (numbers written out), absent when empty.
pub(crate) fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    match field(map, key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Decodes a picture's base64 (a `data:` prefix dropped; line-wrapped base64 unwrapped only when
/// it does not decode as is) and tells JPEG from PNG by content.
fn decode_picture(data: &str, what: &str) -> Result<(Vec<u8>, &'static str), ObjectError> {
    let decode = |text: &str| {
        let text = text.split_once("base64,").map_or(text, |(_, d)| d);
        let text = text.trim_end_matches('=');
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
    };
    let bytes = decode(data)
        .or_else(|e| {
            if data.bytes().any(|b| b.is_ascii_whitespace()) {
                decode(&data.chars().filter(|c| !c.is_whitespace()).collect::<String>())
            } else {
                Err(e)
            }
        })
        .map_err(|_| ObjectError(format!("{what} is not base64")))?;
    let format = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "jpeg"
    } else if bytes.starts_with(b"\x89PNG") {
        "png"
    } else {
        return Err(ObjectError(format!("{what} is not a JPEG or PNG image")));
    };
    Ok((bytes, format))
}

/// Reads the images of `SubImageList.SubImageInfoObject[]`, replacing their data in `map`.
pub fn take_images(map: &mut Map<String, Value>) -> Result<Vec<SubImage>, ObjectError> {
    let Some(list) = map
        .get_mut("SubImageList")
        .and_then(|l| l.get_mut("SubImageInfoObject"))
        .and_then(Value::as_array_mut)
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, info) in list.iter_mut().enumerate() {
        let Some(info) = info.as_object_mut() else {
            return Err(ObjectError(format!("SubImageInfoObject[{i}] is not an object")));
        };
        let Some(data) = info.get("Data").and_then(Value::as_str) else {
            // A picture given by URL only (StoragePath) is kept as an attribute.
            continue;
        };
        let (bytes, format) = decode_picture(data, &format!("SubImageInfoObject[{i}].Data"))?;
        let image_type = info
            .get("Type")
            .map(|t| t.as_str().map(String::from).unwrap_or_else(|| t.to_string()))
            .unwrap_or_default();
        info.insert(
            "Data".into(),
            Value::from(format!("(sealed, {} bytes)", bytes.len())),
        );
        out.push(SubImage {
            image_type,
            format,
            bytes,
        });
    }
    Ok(out)
}

/// Reads one object.
pub fn read_object(kind: ObjectKind, value: Value) -> Result<CaptureObject, ObjectError> {
    let (_, object_key, id_key) = kind.keys();
    let Value::Object(mut map) = value else {
        return Err(ObjectError(format!("a {object_key} is a JSON object")));
    };
    // An image's own fields are in its `ImageInfo`; every other object carries them itself.
    let empty = Map::new();
    let fields = match kind {
        ObjectKind::Image => match field(&map, "ImageInfo") {
            Some(Value::Object(info)) => info,
            _ => &empty,
        },
        _ => &map,
    };
    let record_id = text(fields, id_key).ok_or_else(|| ObjectError(format!("{id_key} is missing")))?;
    let mut deviations = Vec::new();
    // The standard's ids are 41 (or 48) digits; vendors send others, accepted and counted.
    if !(record_id.bytes().all(|b| b.is_ascii_digit()) && matches!(record_id.len(), 41 | 48)) {
        deviations.push("record_id_format");
    }
    let device_id = text(fields, "DeviceID");
    if device_id
        .as_deref()
        .is_some_and(|d| d.len() != 20 || !d.bytes().all(|b| b.is_ascii_digit()))
    {
        deviations.push("device_id_format");
    }
    let shot_at_ms = kind
        .time_fields()
        .iter()
        .find_map(|f| field(fields, f).and_then(parse_time));
    if shot_at_ms.is_none() {
        deviations.push("no_time");
    }
    let plate = match kind {
        ObjectKind::MotorVehicle | ObjectKind::NonMotorVehicle => {
            text(&map, "PlateNo").filter(|p| p != "无车牌" && p != "-" && p != "未识别")
        }
        _ => None,
    };
    let event = match kind {
        ObjectKind::Image => text(fields, "EventSort"),
        ObjectKind::Person => text(fields, "BehaviorDescription").or_else(|| text(fields, "Behavior")),
        _ => None,
    };
    let mut images = Vec::new();
    if kind == ObjectKind::Image {
        let Some(data) = map.get("Data").and_then(Value::as_str) else {
            return Err(ObjectError("an Image carries its Data".into()));
        };
        let (bytes, format) = decode_picture(data, "Image.Data")?;
        map.insert(
            "Data".into(),
            Value::from(format!("(sealed, {} bytes)", bytes.len())),
        );
        images.push(SubImage {
            image_type: "image".into(),
            format,
            bytes,
        });
    }
    images.extend(take_images(&mut map)?);
    let attributes = Value::Object(map);
    // The content: the fields as uploaded (pictures replaced by their length) and the pictures.
    let mut hash = Sha256::new();
    hash.update(attributes.to_string().as_bytes());
    for image in &images {
        hash.update(&image.bytes);
    }
    let content_hash = hex::encode(hash.finalize());
    Ok(CaptureObject {
        record_id,
        device_id,
        shot_at_ms,
        plate,
        event,
        images,
        attributes,
        content_hash,
        deviations,
    })
}

/// Reads a batch body: `{"<List>": {"<Object>": [ … ]}}` (a single object instead of an array
/// is accepted). Each element is read on its own.
pub fn read_batch(
    kind: ObjectKind,
    body: &[u8],
) -> Result<Vec<Result<CaptureObject, ObjectError>>, ObjectError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ObjectError(format!("the body is not JSON: {e}")))?;
    Ok(read_batch_value(kind, value)?
        .into_iter()
        .map(|(_, object)| object)
        .collect())
}

/// [`read_batch`] over a parsed body; each element comes with its id as uploaded (empty when
/// it has none), for its status line even when it could not be read.
pub fn read_batch_value(kind: ObjectKind, value: Value) -> Result<Vec<(String, ObjectResult)>, ObjectError> {
    let (list_key, object_key, _) = kind.keys();
    let list = match value {
        Value::Object(mut outer) => {
            let key = outer
                .keys()
                .find(|k| k.eq_ignore_ascii_case(list_key))
                .cloned()
                .unwrap_or_default();
            match outer.remove(&key) {
                Some(Value::Object(mut inner)) => {
                    let key = inner
                        .keys()
                        .find(|k| k.eq_ignore_ascii_case(object_key))
                        .cloned()
                        .unwrap_or_default();
                    inner.remove(&key)
                }
                _ => None,
            }
        }
        _ => None,
    }
    .ok_or_else(|| ObjectError(format!("{list_key}.{object_key} is missing")))?;
    let items: Vec<Value> = match list {
        Value::Array(items) => items,
        single @ Value::Object(_) => vec![single],
        _ => return Err(ObjectError(format!("{list_key}.{object_key} is not a list"))),
    };
    Ok(items
        .into_iter()
        .map(|v| (id_of(kind, &v), read_object(kind, v)))
        .collect())
}

/// The id of an element, for its status line even when it could not be read.
fn id_of(kind: ObjectKind, value: &Value) -> String {
    let map = match kind {
        ObjectKind::Image => value.get("ImageInfo").and_then(Value::as_object),
        _ => value.as_object(),
    };
    map.and_then(|m| text(m, kind.keys().2)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PNG: &str =
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mOwylsKAAIzAU6YytWUAAAAAElFTkSuQmCC";

    #[test]
    fn an_image_is_read_from_its_info_and_data() {
        let body = json!({"ImageListObject": {"Image": [
            {"ImageInfo": {"ImageID": "34078100001190001002022024060409454700001", "DeviceID": "34078100001190001002",
                "ShotTime": "20240604094547", "FileFormat": "Png"}, "Data": PNG},
            {"ImageInfo": {"ImageID": "X"}}
        ]}});
        let items = read_batch_value(ObjectKind::Image, body).unwrap();
        let image = items[0].1.as_ref().unwrap();
        assert_eq!(image.device_id.as_deref(), Some("34078100001190001002"));
        assert_eq!(image.images.len(), 1);
        assert!(image.shot_at_ms.is_some());
        assert!(image.attributes["Data"].as_str().unwrap().starts_with("(sealed"));
        assert_eq!(items[1].0, "X");
        assert!(items[1].1.as_ref().unwrap_err().0.contains("Data"));
    }

    #[test]
    fn a_vehicle_batch_reads_object_by_object() {
        let body = json!({"MotorVehicleListObject": {"MotorVehicleObject": [
            {"MotorVehicleID": "34078100001190001002022024060409454700001", "DeviceID": "34078100001190001002",
             "PassTime": "20240604094547", "PlateNo": "浙B0560Z",
             "SubImageList": {"SubImageInfoObject": [{"Type": "01", "FileFormat": "Jpeg", "Data": PNG}]}},
            {"DeviceID": "34078100001190001002"},
            {"MotorVehicleID": "X1", "PlateNo": "无车牌", "SubImageList": {"SubImageInfoObject": [{"Type": "01", "Data": "!!"}]}}
        ]}});
        let items = read_batch(ObjectKind::MotorVehicle, body.to_string().as_bytes()).unwrap();
        let first = items[0].as_ref().unwrap();
        assert_eq!(first.plate.as_deref(), Some("浙B0560Z"));
        assert_eq!(first.shot_at_ms, Some(1_717_465_547_000));
        assert_eq!((first.images.len(), first.images[0].format), (1, "png"));
        assert!(first.deviations.is_empty(), "{:?}", first.deviations);
        assert!(
            !first.attributes.to_string().contains("iVBOR"),
            "image data is not kept in the fields"
        );
        assert!(items[1].is_err(), "no id");
        assert!(items[2].is_err(), "bad image data fails that object only");
    }

    #[test]
    fn vendor_deviations_are_accepted_and_named() {
        let o = read_object(
            ObjectKind::Face,
            json!({"FaceID": "123", "DeviceID": "abc", "ShotTime": 1717465547000_i64}),
        )
        .unwrap();
        assert_eq!(o.shot_at_ms, Some(1_717_465_547_000));
        assert_eq!(o.deviations, vec!["record_id_format", "device_id_format"]);
        // One object instead of a list.
        let single = json!({"FaceListObject": {"FaceObject": {"FaceID": "1"}}});
        assert_eq!(
            read_batch(ObjectKind::Face, single.to_string().as_bytes())
                .unwrap()
                .len(),
            1
        );
        assert!(read_batch(ObjectKind::Face, b"{}").is_err());
    }
}
