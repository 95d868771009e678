//! The tolerant decoder for platform → device messages, with the same rules as the up decoder:
//! unknown fields ignored, `null` read as absent, every failure naming its field.

use crate::down::{
    Ack, AckError, AckStatus, ChangeOp, Command, CommandMessage, Deny, DeviceConfig, DownMessage,
    LibraryChange, LibraryCredential, LibrarySync, Open,
};
use crate::envelope::{opt_time, parse_object, read_id, read_type, time};
use crate::error::{ProtocolError, quote};
use crate::reader::Obj;
use crate::up_decode::{REASON, SHORT, check_credential_value};

/// Decodes an ack or a command, whichever `type` says.
///
/// Checks, in order: size, JSON, `v`, `type`, then the message's fields. Never panics.
pub fn decode_down(bytes: &[u8]) -> Result<DownMessage, ProtocolError> {
    let map = parse_object(bytes)?;
    let root = Obj::root(&map);
    match read_type(&root)? {
        "ack" => ack(&root).map(DownMessage::Ack),
        "command" => Ok(DownMessage::Command(CommandMessage {
            id: read_id(&root, "id")?,
            at: time(&root, "at")?,
            command: command(&root.obj("command")?)?,
        })),
        other => Err(ProtocolError::UnknownType(format!(
            "{} is not one of ack, command",
            quote(other)
        ))),
    }
}

fn ack(root: &Obj<'_>) -> Result<Ack, ProtocolError> {
    let event_id = read_id(root, "event_id")?;
    let status = root.enumeration::<AckStatus>("status")?;
    let error = match root.opt_obj("error")? {
        Some(error) => Some(AckError {
            code: error.str("code", SHORT)?,
            message: error.str("message", REASON)?,
        }),
        None => None,
    };
    match (status, &error) {
        (AckStatus::Rejected, None) => return Err(ProtocolError::body(&root.path("error"), "is required")),
        (AckStatus::Stored | AckStatus::Duplicate, Some(_)) => {
            return Err(ProtocolError::body(
                &root.path("error"),
                "is only allowed with status rejected",
            ));
        }
        _ => {}
    }
    let command = root.opt_obj("command")?.map(|obj| command(&obj)).transpose()?;
    Ok(Ack {
        event_id,
        status,
        error,
        command,
    })
}

fn command(obj: &Obj<'_>) -> Result<Command, ProtocolError> {
    let action = obj
        .opt_raw_str("action")?
        .ok_or_else(|| ProtocolError::body(&obj.path("action"), "is required"))?;
    match action {
        "open" => Ok(Command::Open(Open {
            target: obj.enumeration("target")?,
            reason: obj.str("reason", REASON)?,
            hold_secs: obj
                .opt_uint("hold_secs", u16::MAX.into())?
                .map(|secs| secs as u16),
        })),
        "deny" => Ok(Command::Deny(Deny {
            message: obj.str("message", 64)?,
        })),
        "library_sync" => library_sync(obj).map(Command::LibrarySync),
        "config" => config(obj).map(Command::Config),
        other => {
            let reason = format!(
                "expected one of {}, got {}",
                Command::ACTIONS.join(", "),
                quote(other)
            );
            Err(ProtocolError::body(&obj.path("action"), reason))
        }
    }
}

fn library_sync(obj: &Obj<'_>) -> Result<LibrarySync, ProtocolError> {
    let from_version = obj.uint("from_version", u64::MAX)?;
    let to_version = obj.uint("to_version", u64::MAX)?;
    if to_version <= from_version {
        let reason = format!("must be greater than from_version ({from_version}), got {to_version}");
        return Err(ProtocolError::body(&obj.path("to_version"), reason));
    }
    let changes = obj
        .array("changes")?
        .into_iter()
        .map(|(path, value)| library_change(&Obj::at(value, path)?))
        .collect::<Result<_, _>>()?;
    Ok(LibrarySync {
        from_version,
        to_version,
        changes,
    })
}

fn library_change(obj: &Obj<'_>) -> Result<LibraryChange, ProtocolError> {
    let op = obj.enumeration::<ChangeOp>("op")?;
    let person_ref = obj.str("person_ref", SHORT)?;
    let credentials = obj
        .array("credentials")?
        .into_iter()
        .map(|(path, value)| {
            let credential = Obj::at(value, path)?;
            let kind = credential.enumeration("kind")?;
            Ok(LibraryCredential {
                kind,
                value: check_credential_value(&credential, kind)?,
            })
        })
        .collect::<Result<_, ProtocolError>>()?;
    let valid_from = opt_time(obj, "valid_from")?;
    let valid_until = opt_time(obj, "valid_until")?;
    if let (Some(from), Some(until)) = (valid_from, valid_until)
        && until < from
    {
        return Err(ProtocolError::body(
            &obj.path("valid_until"),
            "is before valid_from",
        ));
    }
    let schedule = obj.opt_str("schedule", REASON)?;
    Ok(LibraryChange {
        op,
        person_ref,
        credentials,
        valid_from,
        valid_until,
        schedule,
    })
}

fn config(obj: &Obj<'_>) -> Result<DeviceConfig, ProtocolError> {
    let at_least_one = |key: &str| -> Result<Option<u16>, ProtocolError> {
        match obj.opt_uint(key, u16::MAX.into())? {
            Some(0) => Err(ProtocolError::body(&obj.path(key), "must be at least 1")),
            secs => Ok(secs.map(|secs| secs as u16)),
        }
    };
    let heartbeat_secs = at_least_one("heartbeat_secs")?
        .ok_or_else(|| ProtocolError::body(&obj.path("heartbeat_secs"), "is required"))?;
    Ok(DeviceConfig {
        heartbeat_secs,
        resend_secs: at_least_one("resend_secs")?,
        offline_decisions: obj.opt_bool("offline_decisions")?,
    })
}
