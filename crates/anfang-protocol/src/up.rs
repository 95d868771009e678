//! Device → platform messages: the envelope, the eight body types and their strict encoder.
//! Decoding lives in `up_decode.rs`.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::envelope::{serde_time, to_bytes};
use crate::error::ProtocolError;
use crate::image::Image;
use crate::reader::wire_enum;

/// One event sent by a device, with its envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct UpMessage {
    /// The event id, unique per device; the platform acknowledges and deduplicates by it.
    pub id: String,
    /// When the event happened on the device, with the device's UTC offset.
    pub at: DateTime<FixedOffset>,
    /// The sending device's 20-digit code.
    pub device: String,
    pub body: UpBody,
}

/// The body of an up message; the variant is the envelope's `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UpBody {
    Heartbeat(Heartbeat),
    Credential(Credential),
    Plate(PlateRead),
    DoorState(DoorState),
    Alarm(Alarm),
    PatrolScan(PatrolScan),
    BoothCall(BoothCall),
    LibraryAck(LibraryAck),
}

impl UpBody {
    /// Every `type` an up message may have, in documentation order.
    pub const TYPES: [&'static str; 8] = [
        "heartbeat",
        "credential",
        "plate",
        "door_state",
        "alarm",
        "patrol_scan",
        "booth_call",
        "library_ack",
    ];

    /// The envelope `type` for this body.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Heartbeat(_) => "heartbeat",
            Self::Credential(_) => "credential",
            Self::Plate(_) => "plate",
            Self::DoorState(_) => "door_state",
            Self::Alarm(_) => "alarm",
            Self::PatrolScan(_) => "patrol_scan",
            Self::BoothCall(_) => "booth_call",
            Self::LibraryAck(_) => "library_ack",
        }
    }

    /// Whether the body carries an inline image.
    pub fn has_images(&self) -> bool {
        match self {
            Self::Credential(c) => c.snapshot.is_some(),
            Self::Plate(p) => p.snapshot.is_some(),
            Self::Alarm(a) => a.snapshot.is_some(),
            Self::BoothCall(b) => b.visitor.card_photo.is_some() || b.visitor.snapshot.is_some(),
            Self::Heartbeat(_) | Self::DoorState(_) | Self::PatrolScan(_) | Self::LibraryAck(_) => false,
        }
    }
}

impl UpMessage {
    /// Encodes the message as compact JSON with exactly the protocol's fields, in the
    /// documented order (`v`, `id`, `type`, `at`, `device`, `body`); absent options are omitted.
    ///
    /// Encoding does not validate: call [`UpMessage::validate`] when the values come from
    /// somewhere untrusted.
    pub fn encode(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Wire<'a> {
            v: u64,
            id: &'a str,
            #[serde(rename = "type")]
            kind: &'static str,
            #[serde(serialize_with = "serde_time::required")]
            at: &'a DateTime<FixedOffset>,
            device: &'a str,
            body: &'a UpBody,
        }
        to_bytes(&Wire {
            v: crate::PROTOCOL_VERSION,
            id: &self.id,
            kind: self.body.type_name(),
            at: &self.at,
            device: &self.device,
            body: &self.body,
        })
    }

    /// Checks every rule a decoder would check, by decoding the encoding.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        crate::decode_up(&self.encode()).map(drop)
    }
}

/// `heartbeat`: the device is alive; sent every `heartbeat_secs` (default 60).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heartbeat {
    /// Firmware version as the vendor names it.
    pub firmware: String,
    /// The face/card library version the device has applied.
    pub library_version: u64,
    /// Events stored on the device and not yet acknowledged, if the device counts them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buffered_events: Option<u32>,
    /// The credential kinds the device offers, if it reports them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepts: Option<Vec<CredentialKind>>,
}

wire_enum! {
    /// The kinds of credential a person can present.
    pub enum CredentialKind {
        Face = "face",
        Card = "card",
        Qr = "qr",
        Pin = "pin",
    }
}

/// `credential`: someone presented a credential at a door or gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credential {
    pub kind: CredentialKind,
    /// The platform's person id, when the device matched the credential in its local library;
    /// required for `face`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_ref: Option<String>,
    /// The card number, QR payload or PIN; required for those kinds. For `face` it is optional
    /// and opaque (a vendor's template reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Set when the terminal decided by itself (it was offline or the platform was slow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_locally: Option<LocalDecision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Image>,
}

wire_enum! {
    /// What a terminal did on its own.
    pub enum LocalOutcome {
        Open = "open",
        Deny = "deny",
    }
}

/// A decision the terminal took without the platform, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalDecision {
    pub outcome: LocalOutcome,
    /// Free text, e.g. `offline_library_match` or `not_in_library`.
    pub reason: String,
}

wire_enum! {
    /// Which way a vehicle passes a lane.
    pub enum LaneDirection {
        In = "in",
        Out = "out",
    }
}

/// `plate`: a plate camera read a plate at a lane.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlateRead {
    /// The plate as read, e.g. `鲁F12345`; never normalised by the protocol.
    pub plate: String,
    /// The plate colour as the camera reports it (`blue`, `yellow`, `green`, `蓝`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Recognition confidence from 0 to 1.
    pub confidence: f32,
    pub direction: LaneDirection,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Image>,
}

wire_enum! {
    /// The state a door contact reports.
    pub enum DoorStatus {
        Open = "open",
        Closed = "closed",
        /// Opened without a release (forced entry).
        Forced = "forced",
        /// Left open longer than the terminal allows.
        HeldOpen = "held_open",
    }
}

/// `door_state`: a door contact changed state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoorState {
    pub state: DoorStatus,
    /// Which door, for controllers with several; absent for single-door terminals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub door: Option<String>,
    /// With `closed`, from doors with a people counter: how many passed while it was open
    /// (0–1000). More than one opening lets through is tailgating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passages: Option<u32>,
}

/// `alarm`: a sensor or terminal raised an alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alarm {
    /// E.g. `perimeter_intrusion`, `tamper`, `sos`, `smoke`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Severity from 1 (notice) to 4 (emergency).
    pub level: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Image>,
}

/// `patrol_scan`: a guard scanned a patrol checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatrolScan {
    pub checkpoint: String,
    /// The platform's id of the guard (as a string).
    pub guard_ref: String,
}

/// `booth_call`: a visitor registered or called a resident at a smart booth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoothCall {
    /// The platform's id of the house visited, when the visitor chose one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub house_ref: Option<String>,
    pub visitor: Visitor,
}

/// A visitor at a booth, usually read from their ID card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Visitor {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    /// The photo stored on the ID card's chip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_photo: Option<Image>,
    /// The booth camera's picture of the visitor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Image>,
}

/// `library_ack`: the terminal applied face/card library version `version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LibraryAck {
    pub version: u64,
}
