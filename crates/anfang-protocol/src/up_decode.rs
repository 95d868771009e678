//! The tolerant decoder for up messages: unknown fields are ignored, `null` reads as absent,
//! and every rule that fails names its field.

use serde_json::{Map, Value};

use crate::MAX_PAYLOAD_BYTES;
use crate::envelope::{is_event_id, parse_object, read_device, read_id, read_type, time};
use crate::error::{ProtocolError, quote};
use crate::image::Image;
use crate::reader::{Obj, WireEnum};
use crate::up::{
    Alarm, BoothCall, Credential, CredentialKind, DoorState, Heartbeat, LibraryAck, LocalDecision,
    PatrolScan, PlateRead, UpBody, UpMessage, Visitor,
};

/// Longest reference, name, zone or firmware string, in characters.
pub(crate) const SHORT: usize = 64;
/// Longest free-text reason, in characters.
pub(crate) const REASON: usize = 256;
/// Longest QR payload (and opaque face value), in characters.
const QR: usize = 1024;

/// Decodes one up message.
///
/// Checks, in order: size, JSON, `v`, `type`, `id`, `at`, `device`, then the body, and reports
/// the first failure. Never panics, whatever the bytes.
pub fn decode_up(bytes: &[u8]) -> Result<UpMessage, ProtocolError> {
    let map = parse_object(bytes)?;
    let root = Obj::root(&map);
    // The type is checked first: when it is unknown, nothing else about the payload matters.
    let read_body: fn(&Obj<'_>) -> Result<UpBody, ProtocolError> = match read_type(&root)? {
        "heartbeat" => |body| heartbeat(body).map(UpBody::Heartbeat),
        "credential" => |body| credential(body).map(UpBody::Credential),
        "plate" => |body| plate(body).map(UpBody::Plate),
        "door_state" => |body| door_state(body).map(UpBody::DoorState),
        "alarm" => |body| alarm(body).map(UpBody::Alarm),
        "patrol_scan" => |body| patrol_scan(body).map(UpBody::PatrolScan),
        "booth_call" => |body| booth_call(body).map(UpBody::BoothCall),
        "library_ack" => |body| {
            Ok(UpBody::LibraryAck(LibraryAck {
                version: body.uint("version", u64::MAX)?,
            }))
        },
        other => {
            let known = UpBody::TYPES.join(", ");
            return Err(ProtocolError::UnknownType(format!(
                "{} is not one of {known}",
                quote(other)
            )));
        }
    };
    let id = read_id(&root, "id")?;
    let at = time(&root, "at")?;
    let device = read_device(&root)?;
    let body = read_body(&root.obj("body")?)?;
    Ok(UpMessage { id, at, device, body })
}

/// Salvages the event id from a payload that may be invalid otherwise.
///
/// A platform that rejects an event must still acknowledge its id (with status `rejected`), or
/// the device would resend it forever; this finds the id whenever the payload is a JSON object
/// of acceptable size with a valid `id`, whatever else is wrong with it.
pub fn peek_event_id(bytes: &[u8]) -> Option<String> {
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return None;
    }
    let map: Map<String, Value> = serde_json::from_slice(bytes).ok()?;
    match map.get("id") {
        Some(Value::String(id)) if is_event_id(id) => Some(id.clone()),
        _ => None,
    }
}

fn heartbeat(body: &Obj<'_>) -> Result<Heartbeat, ProtocolError> {
    let accepts = match body.get("accepts") {
        None => None,
        Some(_) => {
            let mut kinds = Vec::new();
            for (path, value) in body.array("accepts")? {
                let text = value.as_str().unwrap_or_default();
                let kind = CredentialKind::parse(text)
                    .ok_or_else(|| ProtocolError::body(&path, "expected one of face, card, qr, pin"))?;
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            Some(kinds)
        }
    };
    Ok(Heartbeat {
        firmware: body.str("firmware", SHORT)?,
        library_version: body.uint("library_version", u64::MAX)?,
        buffered_events: body
            .opt_uint("buffered_events", u32::MAX.into())?
            .map(|n| n as u32),
        accepts,
    })
}

/// Checks a credential value against its kind's rules; shared with library changes.
pub(crate) fn check_credential_value(
    obj: &Obj<'_>,
    kind: CredentialKind,
) -> Result<Option<String>, ProtocolError> {
    let path = obj.path("value");
    let value = obj.opt_str("value", QR)?;
    let required = || ProtocolError::body(&path, format!("is required for {}", kind.as_str()));
    let reason = match (kind, &value) {
        // A face is matched on the device; any value is an opaque vendor reference.
        (CredentialKind::Face, _) => return Ok(value),
        (_, None) => return Err(required()),
        (CredentialKind::Card, Some(card)) => {
            let ok = (4..=32).contains(&card.len()) && card.bytes().all(|byte| byte.is_ascii_hexdigit());
            if ok {
                return Ok(value);
            } else {
                "a card number is 4–32 hex digits"
            }
        }
        (CredentialKind::Pin, Some(pin)) => {
            let ok = (4..=8).contains(&pin.len()) && pin.bytes().all(|byte| byte.is_ascii_digit());
            if ok {
                return Ok(value);
            } else {
                "a PIN is 4–8 digits"
            }
        }
        // Length and non-emptiness were checked by `opt_str`.
        (CredentialKind::Qr, Some(_)) => return Ok(value),
    };
    Err(ProtocolError::body(&path, reason))
}

fn credential(body: &Obj<'_>) -> Result<Credential, ProtocolError> {
    let kind = body.enumeration::<CredentialKind>("kind")?;
    let person_ref = body.opt_str("person_ref", SHORT)?;
    if kind == CredentialKind::Face && person_ref.is_none() {
        let reason = "is required for face (the device reports only faces it recognised)";
        return Err(ProtocolError::body(&body.path("person_ref"), reason));
    }
    let value = check_credential_value(body, kind)?;
    let decided_locally = match body.opt_obj("decided_locally")? {
        Some(decision) => Some(LocalDecision {
            outcome: decision.enumeration("outcome")?,
            reason: decision.str("reason", REASON)?,
        }),
        None => None,
    };
    let snapshot = Image::read_opt(body, "snapshot")?;
    Ok(Credential {
        kind,
        person_ref,
        value,
        decided_locally,
        snapshot,
    })
}

fn plate(body: &Obj<'_>) -> Result<PlateRead, ProtocolError> {
    let plate = body.str("plate", 16)?;
    let color = body.opt_str("color", 16)?;
    let confidence = body.f64("confidence")?;
    if !(0.0..=1.0).contains(&confidence) {
        return Err(ProtocolError::body(
            &body.path("confidence"),
            format!("must be 0 to 1, got {confidence}"),
        ));
    }
    Ok(PlateRead {
        plate,
        color,
        confidence: confidence as f32,
        direction: body.enumeration("direction")?,
        snapshot: Image::read_opt(body, "snapshot")?,
    })
}

fn door_state(body: &Obj<'_>) -> Result<DoorState, ProtocolError> {
    Ok(DoorState {
        state: body.enumeration("state")?,
        door: body.opt_str("door", SHORT)?,
        passages: body.opt_uint("passages", 1000)?.map(|n| n as u32),
    })
}

fn alarm(body: &Obj<'_>) -> Result<Alarm, ProtocolError> {
    let kind = body.str("kind", SHORT)?;
    let zone = body.opt_str("zone", SHORT)?;
    let level = body.uint("level", 4)?;
    if level == 0 {
        return Err(ProtocolError::body(&body.path("level"), "must be 1 to 4, got 0"));
    }
    Ok(Alarm {
        kind,
        zone,
        level: level as u8,
        snapshot: Image::read_opt(body, "snapshot")?,
    })
}

fn patrol_scan(body: &Obj<'_>) -> Result<PatrolScan, ProtocolError> {
    Ok(PatrolScan {
        checkpoint: body.str("checkpoint", SHORT)?,
        guard_ref: body.str("guard_ref", SHORT)?,
    })
}

fn booth_call(body: &Obj<'_>) -> Result<BoothCall, ProtocolError> {
    let house_ref = body.opt_str("house_ref", SHORT)?;
    let visitor = body.obj("visitor")?;
    let name = visitor.str("name", SHORT)?;
    let id_number = visitor.opt_str("id_number", 32)?;
    if let Some(number) = &id_number
        && !number.bytes().all(|byte| byte.is_ascii_alphanumeric())
    {
        let reason = "an ID number is letters and digits only";
        return Err(ProtocolError::body(&visitor.path("id_number"), reason));
    }
    let visitor = Visitor {
        name,
        id_number,
        card_photo: Image::read_opt(&visitor, "card_photo")?,
        snapshot: Image::read_opt(&visitor, "snapshot")?,
    };
    Ok(BoothCall { house_ref, visitor })
}
