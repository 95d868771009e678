//! Platform → device messages: acknowledgements and commands, and their strict encoders.
//! Decoding (used by the simulator and by vendors' test harnesses) lives in `down_decode.rs`.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::envelope::{serde_time, to_bytes};
use crate::error::ProtocolError;
use crate::reader::wire_enum;
use crate::up::CredentialKind;
use crate::up_decode::REASON;

/// Anything the platform publishes on a device's down topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownMessage {
    Ack(Ack),
    Command(CommandMessage),
}

impl DownMessage {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Ack(ack) => ack.encode(),
            Self::Command(command) => command.encode(),
        }
    }
}

wire_enum! {
    /// What the platform did with an event.
    pub enum AckStatus {
        /// Stored durably for the first time; the device may forget the event.
        Stored = "stored",
        /// Already stored earlier under the same id; the device may forget the event.
        Duplicate = "duplicate",
        /// Refused for good (see `error`); the device must not resend it.
        Rejected = "rejected",
    }
}

/// Why an event was rejected: a [`ProtocolError::code`] (or a platform code) and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AckError {
    pub code: String,
    pub message: String,
}

/// The application-level acknowledgement of one up message.
///
/// A device keeps an event and resends it until an ack for its id arrives; a broker's PUBACK
/// or an HTTP 200 alone only says the bytes arrived, not that they were stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub event_id: String,
    pub status: AckStatus,
    /// Present exactly when `status` is `rejected`.
    pub error: Option<AckError>,
    /// A command answering the event, e.g. `open` for a credential the platform accepted.
    pub command: Option<Command>,
}

impl Ack {
    pub fn stored(event_id: impl Into<String>) -> Self {
        Self {
            event_id: event_id.into(),
            status: AckStatus::Stored,
            error: None,
            command: None,
        }
    }

    pub fn duplicate(event_id: impl Into<String>) -> Self {
        Self {
            event_id: event_id.into(),
            status: AckStatus::Duplicate,
            error: None,
            command: None,
        }
    }

    /// Rejects an event with the error that decoding or validating it produced.
    pub fn rejected(event_id: impl Into<String>, error: &ProtocolError) -> Self {
        let message = error.to_string().chars().take(REASON).collect();
        let error = AckError {
            code: error.code().to_owned(),
            message,
        };
        Self {
            event_id: event_id.into(),
            status: AckStatus::Rejected,
            error: Some(error),
            command: None,
        }
    }

    /// Encodes as compact JSON: `v`, `type`, `event_id`, `status`, then `error` and `command`
    /// when present.
    pub fn encode(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Wire<'a> {
            v: u64,
            #[serde(rename = "type")]
            kind: &'static str,
            event_id: &'a str,
            status: AckStatus,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: &'a Option<AckError>,
            #[serde(skip_serializing_if = "Option::is_none")]
            command: &'a Option<Command>,
        }
        to_bytes(&Wire {
            v: crate::PROTOCOL_VERSION,
            kind: "ack",
            event_id: &self.event_id,
            status: self.status,
            error: &self.error,
            command: &self.command,
        })
    }

    /// Decodes an ack; any other down message is `unknown_type`.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        match crate::decode_down(bytes)? {
            DownMessage::Ack(ack) => Ok(ack),
            DownMessage::Command(_) => Err(ProtocolError::UnknownType(
                "expected an ack, got a command".into(),
            )),
        }
    }

    /// Checks every rule a decoder would check, by decoding the encoding.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        Self::decode(&self.encode()).map(drop)
    }
}

/// A command sent on its own, not as the answer to an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandMessage {
    /// The command id (same syntax as an event id); devices ignore a command id they executed.
    pub id: String,
    /// When the platform issued the command; devices should ignore an `open` older than 30 s.
    pub at: DateTime<FixedOffset>,
    pub command: Command,
}

impl CommandMessage {
    /// Encodes as compact JSON: `v`, `type`, `id`, `at`, `command`.
    pub fn encode(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Wire<'a> {
            v: u64,
            #[serde(rename = "type")]
            kind: &'static str,
            id: &'a str,
            #[serde(serialize_with = "serde_time::required")]
            at: &'a DateTime<FixedOffset>,
            command: &'a Command,
        }
        to_bytes(&Wire {
            v: crate::PROTOCOL_VERSION,
            kind: "command",
            id: &self.id,
            at: &self.at,
            command: &self.command,
        })
    }

    /// Decodes a command message; an ack is `unknown_type`.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        match crate::decode_down(bytes)? {
            DownMessage::Command(command) => Ok(command),
            DownMessage::Ack(_) => Err(ProtocolError::UnknownType(
                "expected a command, got an ack".into(),
            )),
        }
    }

    /// Checks every rule a decoder would check, by decoding the encoding.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        Self::decode(&self.encode()).map(drop)
    }
}

/// What the platform asks a device to do, tagged by `action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    Open(Open),
    Deny(Deny),
    LibrarySync(LibrarySync),
    Config(DeviceConfig),
}

impl Command {
    /// Every `action` a command may have.
    pub const ACTIONS: [&'static str; 4] = ["open", "deny", "library_sync", "config"];
}

wire_enum! {
    /// What an `open` command releases.
    pub enum OpenTarget {
        Door = "door",
        Barrier = "barrier",
    }
}

/// `open`: release the door lock or raise the barrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Open {
    pub target: OpenTarget,
    /// Why, for the device's own log, e.g. `resident_face` or `remote_open:guard 17`.
    pub reason: String,
    /// How long to keep it open; the device's own default when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_secs: Option<u16>,
}

/// `deny`: refuse and show a message on the device screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deny {
    /// At most 64 characters, e.g. `通行证已过期，请联系物业`.
    pub message: String,
}

/// `library_sync`: bring the device's face/card library from one version to the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibrarySync {
    /// The version the changes apply to; a device on another version asks for a full sync by
    /// reporting its own version in its next heartbeat.
    pub from_version: u64,
    /// The version after the changes; strictly greater than `from_version`.
    pub to_version: u64,
    pub changes: Vec<LibraryChange>,
}

wire_enum! {
    /// Whether a library change adds/replaces or removes a person.
    pub enum ChangeOp {
        Upsert = "upsert",
        Remove = "remove",
    }
}

/// One person's entry in the device library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibraryChange {
    pub op: ChangeOp,
    pub person_ref: String,
    /// The person's credentials, replacing any the device had; empty for `remove`.
    pub credentials: Vec<LibraryCredential>,
    #[serde(
        serialize_with = "serde_time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_from: Option<DateTime<FixedOffset>>,
    #[serde(
        serialize_with = "serde_time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_until: Option<DateTime<FixedOffset>>,
    /// Staff duty hours the device enforces by itself (`1-5 07:00-19:00;6,7 09:00-17:00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}

/// A credential in the device library; `value` follows the same rules as in `credential`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibraryCredential {
    pub kind: CredentialKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `config`: device settings; absent optional settings keep the device's current value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceConfig {
    /// Seconds between heartbeats, at least 1.
    pub heartbeat_secs: u16,
    /// Seconds to wait for an ack before resending an event, at least 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resend_secs: Option<u16>,
    /// Whether the terminal may decide by its local library while the platform is unreachable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_decisions: Option<bool>,
}
