//! The seam between the platform side and the application: the platform asks the
//! [`DeviceDirectory`] whether a device id is known and what its password is, and reports what
//! devices do — registrations, presence, catalogues, device information, status and alarms.
//! Reports are delivered one at a time in the order they happened (a single dispatcher task),
//! so `Registered` always comes before that device's `Catalog`; a slow directory slows the
//! reports, not the signalling, until the report queue (4096) is full.

use crate::GbId;
use crate::manscdp::{Alarm, CatalogItem, DeviceInfo, DeviceStatus};
use crate::registry::{OfflineReason, Peer};

/// What the directory knows about an id that is registering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Not a device we know: refused (403) in strict mode; otherwise it registers with the
    /// platform's default password (or none).
    Unknown,
    /// A device we know, with its own password (`None`: the platform's default, if any).
    Known {
        /// Its SIP password.
        password: Option<String>,
    },
}

/// Something a device did.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// Registered (first time, or after expiry) or re-registered from a new address.
    Registered {
        /// The device.
        device: GbId,
        /// Where it is reached.
        peer: Peer,
        /// The granted expiry (s).
        expires: u32,
        /// Its `User-Agent`.
        user_agent: Option<String>,
        /// Its `X-GB-Ver` ("2.0" 2016, "3.0" 2022), if sent.
        gb_version: Option<String>,
    },
    /// Left the table (unregistered or expired); an `Offline` precedes it.
    Unregistered {
        /// The device.
        device: GbId,
        /// Why.
        reason: OfflineReason,
    },
    /// Online: registered, or heard from again after a keepalive timeout.
    Online {
        /// The device.
        device: GbId,
    },
    /// Offline: the alarm centre's "device offline" is raised from this.
    Offline {
        /// The device.
        device: GbId,
        /// Why.
        reason: OfflineReason,
    },
    /// A keepalive arrived (the device is alive; `Online` is reported separately on change).
    Keepalive {
        /// The device.
        device: GbId,
    },
    /// A catalogue, reassembled from its pages: `complete` is false when pages were missing
    /// at the timeout (what arrived is still reported). `SumNum 0` gives an empty complete one.
    Catalog {
        /// The device (NVR, or the camera itself).
        device: GbId,
        /// Every item received, in arrival order, repeats folded.
        items: Vec<CatalogItem>,
        /// Whether `SumNum` items arrived.
        complete: bool,
    },
    /// Items of a catalogue change notification (each with its `Event`).
    CatalogChange {
        /// The device.
        device: GbId,
        /// The changed items.
        items: Vec<CatalogItem>,
    },
    /// A DeviceInfo answer.
    DeviceInfo {
        /// The device.
        device: GbId,
        /// What it said.
        info: DeviceInfo,
    },
    /// A DeviceStatus answer.
    DeviceStatus {
        /// The device.
        device: GbId,
        /// What it said.
        status: DeviceStatus,
    },
    /// An alarm (by MESSAGE Notify or by NOTIFY in an alarm subscription).
    Alarm {
        /// The registered device that sent it (`alarm.device_id` may name a channel).
        device: GbId,
        /// The alarm.
        alarm: Alarm,
    },
}

/// What the platform side needs from the application.
#[async_trait::async_trait]
pub trait DeviceDirectory: Send + Sync + 'static {
    /// Whether `device` is known and its password (called on every REGISTER).
    async fn lookup(&self, device: &GbId) -> Lookup;

    /// Takes one report (called in order, one at a time).
    async fn report(&self, report: Report);
}
