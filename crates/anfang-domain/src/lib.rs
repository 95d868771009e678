//! Anfang's domain model: parsed-not-validated value types for the identifiers the field uses
//! (resident ID numbers per GB 11643, plates per GA 36, GB/T 28181 device codes, phones), the
//! registry's vocabulary (community categories, house uses, roles, scopes) and pure policies.
//!
//! Invariant: this crate does no I/O and depends on no runtime, driver or transport crate.

pub mod access;
pub mod alarm;
pub mod error;
pub mod fees;
pub mod gb_code;
pub mod id_number;
pub mod mask;
pub mod model;
pub mod notify;
pub mod parking;
pub mod patrol;
pub mod phone;
pub mod plate;
pub mod programme;
pub mod schedule;
pub mod scope;
pub mod warning;

pub use error::DomainError;
pub use gb_code::{GbCode, GbDeviceType};
pub use id_number::{Gender, IdDocType, IdNumber};
pub use phone::PhoneNumber;
pub use plate::{PlateColor, PlateKind, PlateNumber};
pub use schedule::Schedule;
