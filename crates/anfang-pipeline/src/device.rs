//! The device gateway: turns a device's raw protocol message (already authenticated by its
//! transport) into an application event, runs it through the pipeline, and turns the answer
//! into the protocol's acknowledgement with the command the device must carry out.
//! HTTP push and MQTT both call [`Pipeline::handle_up`], so a device behaves the same on either.

use crate::{Pipeline, PipelineError};
use anfang_app::access::Outcome;
use anfang_app::access::{AckStatus, DeviceAnswer, DeviceEvent, DeviceEventKind, EventImage, Presented};
use anfang_app::booth::{PendingAction, PendingCommand};
use anfang_app::library::LibraryDelta;
use anfang_protocol::{
    Ack, ChangeOp, Command, CommandMessage, CredentialKind, Deny, DoorState, DoorStatus, LibraryChange,
    LibraryCredential, LibrarySync, LocalOutcome, Open, OpenTarget, ProtocolError, UpBody, UpMessage,
};

/// Bodies larger than this are kept as a summary in the event log; their images belong in the
/// object store (the recognition issue), not in a database row.
const MAX_STORED_BODY: usize = 16 * 1024;

/// Why an up message got no ack from the application.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The payload is not a valid protocol message: answer with a `rejected` ack.
    #[error("{0}")]
    Protocol(#[from] ProtocolError),
    /// The message names another device than the authenticated one.
    #[error("the message names device {named}, but the sender is {sender}")]
    DeviceMismatch {
        /// The code in the message.
        named: String,
        /// The authenticated device.
        sender: String,
    },
    /// The pipeline refused (busy, stopped) or the application failed the event.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

fn to_event(message: &UpMessage, raw: &[u8]) -> DeviceEvent {
    let kind = match &message.body {
        UpBody::Heartbeat(h) => DeviceEventKind::Heartbeat {
            firmware: h.firmware.clone(),
            library_version: i64::try_from(h.library_version).unwrap_or(i64::MAX),
            accepts: h
                .accepts
                .as_ref()
                .map(|kinds| kinds.iter().map(|k| k.as_str().to_string()).collect()),
        },
        UpBody::Credential(c) => {
            let value = c.value.clone().unwrap_or_default();
            let presented = match c.kind {
                CredentialKind::Face => Presented::Face {
                    person_ref: c.person_ref.clone().unwrap_or_default(),
                },
                CredentialKind::Card => Presented::Card(value),
                CredentialKind::Qr => Presented::Qr(value),
                CredentialKind::Pin => Presented::Pin(value),
            };
            let decided_locally = c.decided_locally.as_ref().map(|d| {
                let outcome = match d.outcome {
                    LocalOutcome::Open => Outcome::Open,
                    LocalOutcome::Deny => Outcome::Deny,
                };
                (outcome, d.reason.clone())
            });
            DeviceEventKind::Credential {
                presented,
                decided_locally,
            }
        }
        UpBody::BoothCall(b) => DeviceEventKind::BoothCall {
            visitor_name: b.visitor.name.clone(),
            id_number: b.visitor.id_number.clone(),
            house_ref: b.house_ref.clone(),
        },
        UpBody::Plate(p) => DeviceEventKind::Plate {
            plate: p.plate.clone(),
            confidence: p.confidence,
            entering: p.direction == anfang_protocol::LaneDirection::In,
        },
        UpBody::LibraryAck(a) => DeviceEventKind::LibraryAck {
            version: i64::try_from(a.version).unwrap_or(i64::MAX),
        },
        UpBody::Alarm(a) => DeviceEventKind::Alarm {
            kind: a.kind.clone(),
            zone: a.zone.clone(),
            severity: Some(anfang_app::alarms::Severity::from_device_level(a.level)),
        },
        UpBody::PatrolScan(p) => DeviceEventKind::PatrolScan {
            checkpoint: p.checkpoint.clone(),
            guard_ref: p.guard_ref.clone(),
        },
        UpBody::DoorState(DoorState {
            state: DoorStatus::Closed,
            passages: Some(passages),
            ..
        }) => DeviceEventKind::Passages { passages: *passages },
        UpBody::DoorState(d) if matches!(d.state, DoorStatus::Forced | DoorStatus::HeldOpen) => {
            DeviceEventKind::Alarm {
                kind: if d.state == DoorStatus::Forced {
                    "door_forced"
                } else {
                    "door_held_open"
                }
                .into(),
                zone: d.door.clone(),
                severity: None,
            }
        }
        other => DeviceEventKind::Other {
            kind: other.type_name().to_string(),
        },
    };
    let body_json = if message.body.has_images() {
        // Pictures are personal data: they go sealed to the image store, never in clear into
        // the event log.
        let mut value: serde_json::Value = serde_json::from_slice(raw).unwrap_or_default();
        strip_image_data(&mut value);
        let text = value.to_string();
        if text.len() <= MAX_STORED_BODY {
            text
        } else {
            serde_json::json!({"type": message.body.type_name(), "bytes": raw.len(), "note": "large body not kept"}).to_string()
        }
    } else if raw.len() <= MAX_STORED_BODY {
        String::from_utf8_lossy(raw).into_owned()
    } else {
        serde_json::json!({"type": message.body.type_name(), "bytes": raw.len(), "note": "large body not kept"}).to_string()
    };
    let image = |role: &'static str, image: &Option<anfang_protocol::Image>| {
        image.as_ref().map(|i| EventImage {
            role,
            format: i.format().as_str().to_string(),
            bytes: i.bytes().to_vec(),
        })
    };
    let images = match &message.body {
        UpBody::Credential(c) => vec![image("snapshot", &c.snapshot)],
        UpBody::Plate(p) => vec![image("snapshot", &p.snapshot)],
        UpBody::Alarm(a) => vec![image("snapshot", &a.snapshot)],
        UpBody::BoothCall(b) => vec![
            image("card_photo", &b.visitor.card_photo),
            image("snapshot", &b.visitor.snapshot),
        ],
        _ => Vec::new(),
    };
    DeviceEvent {
        event_id: message.id.clone(),
        at_ms: message.at.timestamp_millis(),
        kind,
        body_json,
        images: images.into_iter().flatten().collect(),
    }
}

/// Replaces the data of every inline image (`{"format": …, "data": …}`) with a placeholder.
fn strip_image_data(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.contains_key("format") && map.contains_key("data") {
                map.insert(
                    "data".into(),
                    serde_json::Value::from("(sealed in the image store)"),
                );
            }
            for v in map.values_mut() {
                strip_image_data(v);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_image_data),
        _ => {}
    }
}

/// Milliseconds as an RFC 3339 time in China Standard Time.
fn cst(ms: i64) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let offset = chrono::FixedOffset::east_opt(8 * 3600)?;
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&offset))
}

fn library_command(delta: &LibraryDelta) -> Command {
    let changes = delta
        .changes
        .iter()
        .map(|entry| LibraryChange {
            op: if entry.upsert {
                ChangeOp::Upsert
            } else {
                ChangeOp::Remove
            },
            person_ref: entry.person_ref.clone(),
            credentials: entry
                .credentials
                .iter()
                .filter_map(|(kind, value)| {
                    let kind = match kind.as_str() {
                        "face" => CredentialKind::Face,
                        "card" => CredentialKind::Card,
                        "pin" => CredentialKind::Pin,
                        "qr" => CredentialKind::Qr,
                        _ => return None,
                    };
                    Some(LibraryCredential {
                        kind,
                        value: value.clone(),
                    })
                })
                .collect(),
            valid_from: entry.valid_from.and_then(cst),
            valid_until: entry.valid_until.and_then(cst),
            schedule: entry.schedule.clone(),
        })
        .collect();
    Command::LibrarySync(LibrarySync {
        from_version: u64::try_from(delta.from_version).unwrap_or(0),
        to_version: u64::try_from(delta.to_version).unwrap_or(0),
        changes,
    })
}

/// A queued command in protocol form.
fn pending_command(p: &PendingCommand, target: OpenTarget) -> Command {
    match &p.action {
        PendingAction::Open { reason } => Command::Open(Open {
            target,
            reason: reason.clone(),
            hold_secs: None,
        }),
        PendingAction::Deny { message } => Command::Deny(Deny {
            message: message.clone(),
        }),
        PendingAction::Config(s) => Command::Config(anfang_protocol::DeviceConfig {
            heartbeat_secs: s.heartbeat_secs,
            resend_secs: s.resend_secs,
            offline_decisions: s.offline_decisions,
        }),
    }
}

/// A queued command as a stand-alone protocol message (published on the device's down topic).
pub fn command_message(p: &PendingCommand, now_ms: i64) -> CommandMessage {
    CommandMessage {
        id: format!("cmd-{}", p.id),
        at: cst(now_ms).unwrap_or_default(),
        command: pending_command(p, OpenTarget::Barrier),
    }
}

fn to_ack(event_id: &str, answer: &DeviceAnswer, credential_target: OpenTarget) -> Ack {
    let mut ack = match answer.status {
        AckStatus::Stored => Ack::stored(event_id),
        AckStatus::Duplicate => Ack::duplicate(event_id),
    };
    ack.command = match (answer.decision, &answer.library) {
        (Some(d), _) => Some(match d.outcome {
            Outcome::Open => Command::Open(Open {
                target: credential_target,
                reason: d.reason.as_str().to_string(),
                hold_secs: None,
            }),
            Outcome::Deny => Command::Deny(Deny {
                message: d.reason.message_zh().to_string(),
            }),
        }),
        (None, Some(delta)) => Some(library_command(delta)),
        (None, None) => answer
            .pending
            .as_ref()
            .map(|p| pending_command(p, credential_target)),
    };
    ack
}

impl Pipeline {
    /// Handles one raw up message from the authenticated device `sender`: decodes it strictly,
    /// runs it through the pipeline and returns the ack to send back. A payload that does not
    /// decode is answered with a `rejected` ack when its event id can be found, so the device
    /// stops resending it; otherwise the error is returned.
    pub async fn handle_up(&self, sender: &str, raw: &[u8], barrier: bool) -> Result<Ack, GatewayError> {
        let message = match anfang_protocol::decode_up(raw) {
            Ok(m) => m,
            Err(e) => {
                metrics::counter!("anfang_device_rejected_total", "reason" => e.code()).increment(1);
                return match anfang_protocol::peek_event_id(raw) {
                    Some(id) => Ok(Ack::rejected(id, &e)),
                    None => Err(GatewayError::Protocol(e)),
                };
            }
        };
        if message.device != sender {
            metrics::counter!("anfang_device_rejected_total", "reason" => "device_mismatch").increment(1);
            return Err(GatewayError::DeviceMismatch {
                named: message.device,
                sender: sender.to_string(),
            });
        }
        let event = to_event(&message, raw);
        let answer = self.submit(sender, event).await?;
        let target = if barrier {
            OpenTarget::Barrier
        } else {
            OpenTarget::Door
        };
        Ok(to_ack(&message.id, &answer, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_never_reach_the_event_log_in_clear() {
        let raw = br#"{"v":1,"id":"e1","type":"booth_call","at":"2026-11-23T08:00:00+08:00","device":"37032300001320000001",
            "body":{"house_ref":"1-1-101","visitor":{"name":"x","card_photo":{"format":"png","data":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mOwylsKAAIzAU6YytWUAAAAAElFTkSuQmCC"}}}}"#;
        let message = anfang_protocol::decode_up(raw).unwrap();
        let event = to_event(&message, raw);
        assert!(!event.body_json.contains("iVBOR"), "{}", event.body_json);
        assert!(event.body_json.contains("sealed in the image store"));
        assert_eq!(event.images.len(), 1);
        assert_eq!(
            (event.images[0].role, event.images[0].format.as_str()),
            ("card_photo", "png")
        );
        assert!(event.images[0].bytes.starts_with(b"\x89PNG"));
    }
}
