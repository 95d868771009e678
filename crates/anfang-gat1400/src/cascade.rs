//! What a lower platform and its superior exchange beyond capture uploads (notes §1.5, §1.10,
//! §1.11): the superior's `SubscribeObject`s and `DispositionObject`s (布控) read tolerantly;
//! the `SubscribeNotificationObject`s and `DispositionNotificationObject`s we send; and the
//! smart-community extension objects (`/VIID/Community/…`) for door-access records and the
//! resident registry, written strictly.
//!
//! The community extension is provincial, not national: the field names follow the Zhejiang
//! sample in the notes (`PersonInfoObject`: `PersonID`, `IDType`, `IDNumber`, …, `CommunityID`,
//! `DataSourceID`, `DataStatus`, `DataUpdateTime`). No published sample shows a door-access
//! *record*, so `DoorRecordObject` is ours, built from the same conventions; the paths are
//! per-target configuration, as a bureau's supplement may name them differently.

use crate::objects::{ObjectError, field, parse_time, text};
use serde_json::{Map, Value, json};

/// The elements of `{"<list>": {"<object>": [ … ]}}` (a single object, a missing outer
/// wrapper and case differences accepted).
pub fn list_items(value: &Value, list_key: &str, object_key: &str) -> Result<Vec<Value>, ObjectError> {
    let outer = value
        .as_object()
        .ok_or_else(|| ObjectError("the body is not a JSON object".into()))?;
    let inner = match field(outer, list_key) {
        Some(Value::Object(inner)) => field(inner, object_key),
        _ => field(outer, object_key),
    }
    .ok_or_else(|| ObjectError(format!("{list_key}.{object_key} is missing")))?;
    match inner {
        Value::Array(items) => Ok(items.clone()),
        single @ Value::Object(_) => Ok(vec![single.clone()]),
        _ => Err(ObjectError(format!("{list_key}.{object_key} is not a list"))),
    }
}

/// A comma list, empty items dropped (XZ appends `","` to single values).
fn comma_list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split([',', '，'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// A superior's subscription, as far as we act on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// `SubscribeID`.
    pub id: String,
    /// `Title`.
    pub title: String,
    /// `SubscribeDetail` codes (12 faces, 11 persons, 13 motor vehicles, 14 non-motor, 3/4
    /// device catalogue/status).
    pub detail: Vec<u32>,
    /// `ResourceURI`: device, platform or area codes; empty: everything.
    pub resources: Vec<String>,
    /// `ReceiveAddr`: where notifications go.
    pub receive_addr: String,
    /// `BeginTime` (ms); unreadable or absent: from now on.
    pub begin_ms: Option<i64>,
    /// `EndTime` (ms); unreadable or absent: open-ended.
    pub end_ms: Option<i64>,
    /// `ReportInterval` (s).
    pub report_interval_s: i64,
    /// `OperateType`: `true` when it cancels.
    pub cancels: bool,
}

/// `SubscribeDetail` code of a capture kind.
pub fn detail_code(kind: &str) -> Option<u32> {
    Some(match kind {
        "person" => 11,
        "face" => 12,
        "motor_vehicle" => 13,
        "non_motor_vehicle" => 14,
        _ => return None,
    })
}

/// Reads a `ReceiveAddr`: only `http`/`https` URLs with a host are posted to (some platforms
/// put private `ws://` addresses there).
pub fn receive_addr_ok(addr: &str) -> bool {
    let rest = addr
        .strip_prefix("http://")
        .or_else(|| addr.strip_prefix("https://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', ':']).next().unwrap_or_default();
        !host.is_empty()
    })
}

/// Reads one `SubscribeObject`.
pub fn read_subscription(value: &Value) -> Result<Subscription, ObjectError> {
    let map = value
        .as_object()
        .ok_or_else(|| ObjectError("a SubscribeObject is a JSON object".into()))?;
    let id = text(map, "SubscribeID").ok_or_else(|| ObjectError("SubscribeID is missing".into()))?;
    let cancels = text(map, "OperateType").as_deref() == Some("1");
    let detail: Vec<u32> = comma_list(text(map, "SubscribeDetail"))
        .iter()
        .filter_map(|c| c.parse().ok())
        .collect();
    let receive_addr = text(map, "ReceiveAddr").unwrap_or_default();
    if !cancels {
        if detail.is_empty() {
            return Err(ObjectError("SubscribeDetail names nothing".into()));
        }
        if !receive_addr_ok(&receive_addr) {
            return Err(ObjectError(format!(
                "ReceiveAddr '{receive_addr}' is not an http(s) URL"
            )));
        }
    }
    Ok(Subscription {
        id,
        title: text(map, "Title").unwrap_or_default(),
        detail,
        resources: comma_list(text(map, "ResourceURI")),
        receive_addr,
        begin_ms: field(map, "BeginTime").and_then(parse_lenient_time),
        end_ms: field(map, "EndTime").and_then(parse_lenient_time),
        report_interval_s: text(map, "ReportInterval")
            .and_then(|s| s.parse().ok())
            .unwrap_or(30)
            .clamp(1, 3600),
        cancels,
    })
}

/// `yyyyMMddHHmmss`, epoch ms, or `yyyy-MM-dd HH:mm:ss` (seen from one vendor), UTC+8.
fn parse_lenient_time(value: &Value) -> Option<i64> {
    parse_time(value).or_else(|| {
        let text = value.as_str()?.trim();
        let t = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
        Some(t.and_utc().timestamp_millis() - 8 * 3600 * 1000)
    })
}

impl Subscription {
    /// Whether it covers records of `kind` from the camera `device` (20-digit code) at `at`:
    /// the kind is subscribed, the window is open, and the resources name the camera, our
    /// platform (`platform`), or an area prefix of the camera's code (2/4/6 digits).
    pub fn covers(&self, kind: &str, device: Option<&str>, platform: &str, at: i64) -> bool {
        let Some(code) = detail_code(kind) else {
            return false;
        };
        if !self.detail.contains(&code) {
            return false;
        }
        if self.begin_ms.is_some_and(|b| at < b) || self.end_ms.is_some_and(|e| at >= e) {
            return false;
        }
        self.resources.is_empty()
            || self.resources.iter().any(|r| {
                r == platform
                    || device.is_some_and(|d| {
                        r == d || (matches!(r.len(), 2 | 4 | 6) && d.starts_with(r.as_str()))
                    })
            })
    }
}

/// The list key and object key of a capture kind inside a `SubscribeNotificationObject`.
pub fn notification_list(kind: &str) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        "face" => ("FaceObjectList", "FaceObject"),
        "person" => ("PersonObjectList", "PersonObject"),
        "motor_vehicle" => ("MotorVehicleObjectList", "MotorVehicleObject"),
        "non_motor_vehicle" => ("NonMotorVehicleObjectList", "NonMotorVehicleObject"),
        _ => return None,
    })
}

/// The id field of a capture kind's object.
pub fn object_id_field(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "face" => "FaceID",
        "person" => "PersonID",
        "motor_vehicle" => "MotorVehicleID",
        "non_motor_vehicle" => "NonMotorVehicleID",
        _ => return None,
    })
}

/// A 33-character notification id (表 D.5/E.3): 12-digit organisation code, sub-type
/// (`02` alarm, `04` notification), time, 5-digit sequence.
pub fn notification_id(org_code: &str, sub_type: &str, now_ms: i64, seq: i64) -> String {
    let org: String = org_code.chars().chain(std::iter::repeat('0')).take(12).collect();
    format!(
        "{org}{sub_type}{}{:05}",
        crate::local_time(now_ms),
        seq.rem_euclid(100_000)
    )
}

/// One `SubscribeNotificationObject` carrying `objects` (pairs of capture kind and object).
pub fn subscribe_notification(
    notification_id: &str,
    subscription: &Subscription,
    objects: &[(String, Value)],
    now_ms: i64,
) -> Value {
    let mut out = Map::new();
    out.insert("NotificationID".into(), json!(notification_id));
    out.insert("SubscribeID".into(), json!(subscription.id));
    out.insert("Title".into(), json!(subscription.title));
    out.insert("TriggerTime".into(), json!(crate::local_time(now_ms)));
    let mut ids = Vec::new();
    for (kind, object) in objects {
        let (Some((list, key)), Some(id_field)) = (notification_list(kind), object_id_field(kind)) else {
            continue;
        };
        if let Some(id) = object.get(id_field).and_then(Value::as_str) {
            ids.push(id.to_string());
        }
        let entry = out.entry(list.to_string()).or_insert_with(|| json!({key: []}));
        if let Some(array) = entry.get_mut(key).and_then(Value::as_array_mut) {
            array.push(object.clone());
        }
    }
    out.insert("InfoIDs".into(), json!(ids.join(",")));
    out.insert("ExecuteOperation".into(), json!(1));
    Value::Object(out)
}

/// A superior's disposition (布控), as far as we act on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Disposition {
    /// `DispositionID`.
    pub id: String,
    /// `person`, `motor_vehicle`, `non_motor_vehicle`, `keyword` (`DispositionCategory` 1–4).
    pub category: &'static str,
    /// The plate watched for (vehicles: `PlateNo`, else `TargetFeature`).
    pub plate: Option<String>,
    /// `Title`.
    pub title: String,
    /// `BeginTime` (ms).
    pub begin_ms: Option<i64>,
    /// `EndTime` (ms).
    pub end_ms: Option<i64>,
    /// `ReceiveAddr`, when an http(s) URL.
    pub receive_addr: Option<String>,
    /// `OperateType` 1 (撤控).
    pub revokes: bool,
}

/// Reads one `DispositionObject`.
pub fn read_disposition(value: &Value) -> Result<Disposition, ObjectError> {
    let map = value
        .as_object()
        .ok_or_else(|| ObjectError("a DispositionObject is a JSON object".into()))?;
    let id = text(map, "DispositionID").ok_or_else(|| ObjectError("DispositionID is missing".into()))?;
    let revokes = text(map, "OperateType").as_deref() == Some("1");
    let category = match text(map, "DispositionCategory").as_deref() {
        Some("1") => "person",
        Some("2") => "motor_vehicle",
        Some("3") => "non_motor_vehicle",
        Some("4") => "keyword",
        _ if revokes => "keyword",
        other => {
            return Err(ObjectError(format!(
                "DispositionCategory {:?} is not 1–4",
                other.unwrap_or("")
            )));
        }
    };
    let plate = match category {
        "motor_vehicle" | "non_motor_vehicle" => text(map, "PlateNo").or_else(|| text(map, "TargetFeature")),
        _ => None,
    };
    if !revokes && matches!(category, "motor_vehicle") && plate.is_none() {
        return Err(ObjectError(
            "a vehicle disposition names its plate (PlateNo or TargetFeature)".into(),
        ));
    }
    Ok(Disposition {
        id,
        category,
        plate,
        title: text(map, "Title").unwrap_or_default(),
        begin_ms: field(map, "BeginTime").and_then(parse_lenient_time),
        end_ms: field(map, "EndTime").and_then(parse_lenient_time),
        receive_addr: text(map, "ReceiveAddr").filter(|a| receive_addr_ok(a)),
        revokes,
    })
}

/// One `DispositionNotificationObject` (告警) for a capture that hit a disposition.
pub fn disposition_notification(
    notification_id: &str,
    disposition_id: &str,
    title: &str,
    kind: &str,
    object: &Value,
    now_ms: i64,
) -> Value {
    let mut out = json!({
        "NotificationID": notification_id,
        "DispositionID": disposition_id,
        "Title": title,
        "TriggerTime": crate::local_time(now_ms),
        "CntObjectID": object_id_field(kind)
            .and_then(|f| object.get(f))
            .cloned()
            .unwrap_or(Value::from("")),
    });
    let key = match kind {
        "face" => "FaceObject",
        "person" => "PersonObject",
        "non_motor_vehicle" => "NonMotorVehicleObject",
        _ => "MotorVehicleObject",
    };
    out[key] = object.clone();
    out
}

/// The community fields every extension object carries.
#[derive(Debug, Clone, PartialEq)]
pub struct CommunityStamp {
    /// `CommunityID`: the community's code.
    pub community_id: String,
    /// `DataSourceID`: the first 10 digits of our platform id.
    pub data_source_id: String,
    /// `DataStatus`: 0 added, 1 changed, 2 removed.
    pub data_status: i64,
}

/// A door-access record (`DoorRecordObject`).
#[derive(Debug, Clone, PartialEq)]
pub struct DoorRecord {
    /// `RecordID`: the door device's code, `99`, the time and a sequence (41 characters).
    pub record_id: String,
    /// `DeviceID`: the door device's code.
    pub device_id: String,
    /// `DoorName`.
    pub door_name: String,
    /// `PersonID` in the registry sent upward, when known.
    pub person_id: Option<String>,
    /// Credential kind (`card`, `face`, `qr`, `pin`, `remote`, …).
    pub credential: String,
    /// Granted.
    pub granted: bool,
    /// When (ms).
    pub at_ms: i64,
}

/// `OpenType` codes of `DoorRecordObject`: 1 card, 2 face, 3 QR code, 4 password, 5 remote
/// (phone, booth or console), 6 ID card, 9 other.
pub fn open_type(credential: &str) -> i64 {
    match credential {
        "card" => 1,
        "face" => 2,
        "qr" | "visitor_qr" => 3,
        "pin" | "password" => 4,
        "remote" | "booth" => 5,
        "id_card" => 6,
        _ => 9,
    }
}

/// `{"DoorRecordObject": …}` content for one record.
pub fn door_record_object(record: &DoorRecord, stamp: &CommunityStamp) -> Value {
    json!({
        "RecordID": record.record_id,
        "DeviceID": record.device_id,
        "DoorName": record.door_name,
        "PersonID": record.person_id.clone().unwrap_or_default(),
        "OpenType": open_type(&record.credential),
        "OpenResult": if record.granted { 1 } else { 0 },
        "PassTime": crate::local_time(record.at_ms),
        "CommunityID": stamp.community_id,
        "DataSourceID": stamp.data_source_id,
        "DataStatus": stamp.data_status,
    })
}

/// A resident as the registry sends them (`PersonInfoObject`).
#[derive(Debug, Clone, PartialEq)]
pub struct PersonInfo {
    /// `PersonID`.
    pub person_id: String,
    /// `IDType` (`111` resident ID card, `414` passport, `990` other).
    pub id_type: String,
    /// `IDNumber` (masked unless the target may receive it).
    pub id_number: String,
    /// `Name`.
    pub name: String,
    /// `GenderCode` (0 unknown, 1 male, 2 female, 9 unstated).
    pub gender_code: String,
    /// `Phone` (masked unless the target may receive it).
    pub phone: String,
    /// `PopulationType`: 1 registered (户籍), 2 floating (流动), 3 overseas (境外), 9 other.
    pub population_type: String,
    /// `ResidenceAddress`.
    pub address: String,
    /// Last change (ms).
    pub updated_ms: i64,
}

/// `{"PersonInfoObject": …}` content for one resident.
pub fn person_info_object(person: &PersonInfo, stamp: &CommunityStamp) -> Value {
    json!({
        "PersonID": person.person_id,
        "IDType": person.id_type,
        "IDNumber": person.id_number,
        "Name": person.name,
        "GenderCode": person.gender_code,
        "Phone": person.phone,
        "PopulationType": person.population_type,
        "ResidenceAddress": person.address,
        "CommunityID": stamp.community_id,
        "DataSourceID": stamp.data_source_id,
        "DataStatus": stamp.data_status,
        "DataUpdateTime": crate::local_time(person.updated_ms),
    })
}

/// Puts one kept picture back into `map` as `form` says: its data, a link (`StoragePath`, in
/// `ImageInfo` for an `Image`), or nothing.
fn place_one(
    map: &mut Map<String, Value>,
    bytes: Option<&Vec<u8>>,
    form: &PictureForm<'_>,
    position: usize,
    link_in_info: bool,
) {
    use base64::Engine;
    match (form, bytes) {
        (PictureForm::Base64, Some(bytes)) => {
            map.insert(
                "Data".into(),
                Value::from(base64::engine::general_purpose::STANDARD.encode(bytes)),
            );
        }
        (PictureForm::Url(link), Some(_)) => {
            map.remove("Data");
            let into = if link_in_info {
                map.get_mut("ImageInfo").and_then(Value::as_object_mut)
            } else {
                Some(map)
            };
            if let Some(into) = into {
                into.insert("StoragePath".into(), Value::from(link(position)));
            }
        }
        _ => {
            map.remove("Data");
        }
    }
}

/// How pictures travel to a peer.
pub enum PictureForm<'a> {
    /// Inline, base64 in `Data`.
    Base64,
    /// A link in `StoragePath`, made from the picture's position.
    Url(&'a dyn Fn(usize) -> String),
    /// Not at all (the entry stays, without `Data`).
    None,
}

/// Puts an object's pictures back into `SubImageList.SubImageInfoObject[]` the way a peer
/// wants them: entries whose data was kept (`Data` = `(sealed, …)`) take `images` in order;
/// entries of a `Type` not in `types` (when `types` is not empty) are left out.
pub fn place_pictures(object: &mut Value, images: &[Vec<u8>], types: &[String], form: &PictureForm<'_>) {
    // An `Image` carries its picture itself, first.
    let mut first = 0;
    if let Some(map) = object.as_object_mut()
        && map
            .get("Data")
            .and_then(Value::as_str)
            .is_some_and(|d| d.starts_with("(sealed"))
    {
        first = 1;
        place_one(map, images.first(), form, 0, true);
    }
    let images = &images[first.min(images.len())..];
    let Some(list) = object
        .get_mut("SubImageList")
        .and_then(|l| l.get_mut("SubImageInfoObject"))
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    let mut n = 0;
    let mut kept = Vec::with_capacity(list.len());
    for mut info in list.drain(..) {
        let sealed = info
            .get("Data")
            .and_then(Value::as_str)
            .is_some_and(|d| d.starts_with("(sealed"));
        let position = n;
        if sealed {
            n += 1;
        }
        let image_type = info
            .get("Type")
            .map(|t| t.as_str().map(String::from).unwrap_or_else(|| t.to_string()))
            .unwrap_or_default();
        if !types.is_empty()
            && !types
                .iter()
                .any(|t| t.trim_start_matches('0') == image_type.trim_start_matches('0'))
        {
            continue;
        }
        if sealed && let Some(map) = info.as_object_mut() {
            place_one(map, images.get(position), form, position + first, false);
        }
        kept.push(info);
    }
    *list = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_392_000_000; // 2026-11-23 08:00 +08:00

    #[test]
    fn a_sloppy_subscription_is_read() {
        let s = read_subscription(&json!({
            "SubscribeID": "330200000000032026112300000001", "Title": "人脸订阅",
            "SubscribeDetail": "12,", "ResourceURI": "37032300001190000001,3703",
            "ReceiveAddr": "http://10.0.0.1:8080/VIID/SubscribeNotifications",
            "BeginTime": "2026-11-23 00:00:00", "EndTime": "20261124000000", "ReportInterval": "5",
            "OperateType": 0
        }))
        .unwrap();
        assert_eq!(s.detail, vec![12]);
        assert_eq!(s.report_interval_s, 5);
        assert!(s.covers("face", Some("37032300001190000001"), "x", NOW));
        assert!(
            s.covers("face", Some("37039900001190000009"), "x", NOW),
            "area prefix"
        );
        assert!(!s.covers("face", Some("11010000001190000001"), "x", NOW));
        assert!(!s.covers("motor_vehicle", Some("37032300001190000001"), "x", NOW));
        assert!(!s.covers("face", Some("37032300001190000001"), "x", NOW + 86_400_000));
    }

    #[test]
    fn a_subscription_posting_to_a_websocket_is_refused() {
        let e = read_subscription(&json!({"SubscribeID": "1", "SubscribeDetail": "12",
            "ReceiveAddr": "ws://x/VIID/Subscribe/WebSocket"}))
        .unwrap_err();
        assert!(e.0.contains("ReceiveAddr"));
        // A cancellation needs no address.
        assert!(
            read_subscription(&json!({"SubscribeID": "1", "OperateType": "1"}))
                .unwrap()
                .cancels
        );
    }

    #[test]
    fn a_plate_disposition_is_read_and_one_without_a_plate_refused() {
        let d = read_disposition(&json!({"DispositionID": "D1", "DispositionCategory": "2",
            "TargetFeature": "鲁C12345", "Title": "盗抢车辆", "EndTime": "20261201000000",
            "ReceiveAddr": "http://10.0.0.1/VIID/DispositionNotifications"}))
        .unwrap();
        assert_eq!(
            (d.category, d.plate.as_deref()),
            ("motor_vehicle", Some("鲁C12345"))
        );
        assert!(d.receive_addr.is_some());
        assert!(read_disposition(&json!({"DispositionID": "D2", "DispositionCategory": 2})).is_err());
        assert!(read_disposition(&json!({"DispositionID": "D3", "DispositionCategory": 7})).is_err());
    }

    #[test]
    fn notifications_carry_their_objects_and_ids() {
        let s = read_subscription(&json!({"SubscribeID": "S1", "SubscribeDetail": "12,13",
            "ReceiveAddr": "http://x/VIID/SubscribeNotifications"}))
        .unwrap();
        let id = notification_id("370323000050", "04", NOW, 7);
        assert_eq!(id.len(), 33);
        let n = subscribe_notification(
            &id,
            &s,
            &[
                ("face".into(), json!({"FaceID": "F1"})),
                ("motor_vehicle".into(), json!({"MotorVehicleID": "V1"})),
            ],
            NOW,
        );
        assert_eq!(n["InfoIDs"], "F1,V1");
        assert_eq!(n["FaceObjectList"]["FaceObject"][0]["FaceID"], "F1");
        assert_eq!(
            n["MotorVehicleObjectList"]["MotorVehicleObject"][0]["MotorVehicleID"],
            "V1"
        );
        assert_eq!(n["TriggerTime"], "20261123080000");
    }

    #[test]
    fn pictures_go_back_as_each_peer_wants_them() {
        let object = json!({"FaceID": "1", "SubImageList": {"SubImageInfoObject": [
            {"Type": "11", "Data": "(sealed, 3 bytes)"},
            {"Type": "14", "StoragePath": "http://x/y.jpg"},
            {"Type": "14", "Data": "(sealed, 2 bytes)"}
        ]}});
        let images = vec![vec![1, 2, 3], vec![4, 5]];
        let mut all = object.clone();
        place_pictures(&mut all, &images, &[], &PictureForm::Base64);
        let list = &all["SubImageList"]["SubImageInfoObject"];
        assert_eq!(
            (list[0]["Data"].clone(), list[2]["Data"].clone()),
            (json!("AQID"), json!("BAU="))
        );
        assert!(list[1].get("Data").is_none());
        // Scenes only, by link.
        let mut scenes = object.clone();
        let link = |n: usize| format!("http://us/p/{n}");
        place_pictures(&mut scenes, &images, &["14".into()], &PictureForm::Url(&link));
        let list = scenes["SubImageList"]["SubImageInfoObject"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1]["StoragePath"], "http://us/p/1");
        assert!(list[1].get("Data").is_none());
        let mut none = object;
        place_pictures(&mut none, &images, &[], &PictureForm::None);
        assert!(
            none["SubImageList"]["SubImageInfoObject"][0]
                .get("Data")
                .is_none()
        );
    }

    #[test]
    fn community_objects_are_written_with_their_stamp() {
        let stamp = CommunityStamp {
            community_id: "370323001001001".into(),
            data_source_id: "3703230000".into(),
            data_status: 0,
        };
        let door = door_record_object(
            &DoorRecord {
                record_id: "R".into(),
                device_id: "37032300001320000001".into(),
                door_name: "1号楼1单元".into(),
                person_id: None,
                credential: "face".into(),
                granted: true,
                at_ms: NOW,
            },
            &stamp,
        );
        assert_eq!(
            (door["OpenType"].clone(), door["OpenResult"].clone()),
            (json!(2), json!(1))
        );
        assert_eq!(door["PassTime"], "20261123080000");
        assert_eq!(door["CommunityID"], "370323001001001");
        let lists = list_items(
            &json!({"DoorRecordListObject": {"DoorRecordObject": door}}),
            "DoorRecordListObject",
            "DoorRecordObject",
        )
        .unwrap();
        assert_eq!(lists.len(), 1);
    }
}
