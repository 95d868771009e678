//! The Anfang device protocol, version 1: the messages face terminals, barrier gates, smart
//! booths, perimeter sensors and patrol readers exchange with the platform, over MQTT or HTTP
//! push. The vendor-facing reference is `docs/ref/device-protocol.md`.
//!
//! Encoding is strict (exactly the documented fields, absent options omitted); decoding is
//! tolerant (unknown fields ignored, `null` read as absent) but precise: every failure is one
//! [`ProtocolError`] with a stable [`ProtocolError::code`] and, where a field is to blame, its
//! path. The crate is pure (bytes in, values out, no clock, no I/O) so that the MQTT transport,
//! the HTTP transport and the device simulator all share one definition of the protocol.

mod reader;

mod auth;
mod down;
mod down_decode;
mod envelope;
mod error;
mod image;
mod topic;
mod up;
mod up_decode;

pub use auth::{DEFAULT_MAX_SKEW_MS, HEADER_DEVICE, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign, verify};
pub use down::{
    Ack, AckError, AckStatus, ChangeOp, Command, CommandMessage, Deny, DeviceConfig, DownMessage,
    LibraryChange, LibraryCredential, LibrarySync, Open, OpenTarget,
};
pub use down_decode::decode_down;
pub use envelope::{is_device_code, is_event_id};
pub use error::ProtocolError;
pub use image::{Image, ImageFormat};
pub use topic::{Direction, device_may_publish, device_may_subscribe, down_topic, parse_topic, up_topic};
pub use up::{
    Alarm, BoothCall, Credential, CredentialKind, DoorState, DoorStatus, Heartbeat, LaneDirection,
    LibraryAck, LocalDecision, LocalOutcome, PatrolScan, PlateRead, UpBody, UpMessage, Visitor,
};
pub use up_decode::{decode_up, peek_event_id};

/// The only protocol version this crate speaks; every message carries it as `v`.
pub const PROTOCOL_VERSION: u64 = 1;

/// The largest payload accepted in either direction (1 MiB), checked before parsing.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// The largest decoded image (512 KiB).
pub const MAX_IMAGE_BYTES: usize = 512 * 1024;
