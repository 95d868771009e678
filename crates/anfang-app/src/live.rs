//! The live feed: what just happened (a door decision, a plate at a gate, an alarm raised or
//! handled, an early warning), published after it is committed, for the console's live views.
//!
//! One in-process broadcast channel with a bounded backlog: a subscriber that falls behind
//! loses the oldest events and is told how many (it then reloads the lists), so a slow browser
//! never holds memory or slows the writers. Each subscriber sees only what its role and scope
//! allow: events carry their community and, for warnings, their audience.

use crate::alarms::Raised;
use crate::{App, Permission, Principal};
use anfang_domain::alarm::AlarmKind;
use anfang_domain::model::Role;
use anfang_domain::warning::{Audience, WarningKind};
use anfang_store::DeviceRow;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Events kept for slow subscribers.
pub const BACKLOG: usize = 512;

/// One thing that happened.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    /// `access`, `alarm`, `warning`, `patrol`, `booth`, `fee`.
    pub kind: &'static str,
    /// Where (none: platform-wide).
    pub community_id: Option<i64>,
    /// For warnings: who may see it.
    pub audience: Option<Audience>,
    /// When (ms).
    pub at: i64,
    /// What (JSON, no personal data beyond what the lists show).
    pub data: Value,
}

impl LiveEvent {
    /// A decision at a door or gate, with its stored access record: the record's id (for its
    /// snapshot, fetched through the audited snapshot endpoint), whether a snapshot was kept and
    /// whether the person is known — never the person's name, which the record list masks per
    /// role.
    pub(crate) fn access(record: &anfang_store::NewAccessRecord, record_id: i64) -> LiveEvent {
        LiveEvent {
            kind: "access",
            community_id: Some(record.community_id),
            audience: None,
            at: record.at,
            data: json!({"device_id": record.device_id, "event_id": record.event_id, "record_id": record_id,
                "credential": record.credential_kind, "outcome": record.outcome, "reason": record.reason,
                "identified": record.person_id.is_some(), "has_snapshot": record.snapshot_key.is_some()}),
        }
    }

    /// An alarm raised at a device (or a repeat merged into it).
    pub(crate) fn alarm(
        raised: &Raised,
        kind: AlarmKind,
        device: &DeviceRow,
        zone: Option<&str>,
        at: i64,
    ) -> LiveEvent {
        LiveEvent {
            kind: "alarm",
            community_id: device.community_id,
            audience: None,
            at,
            data: json!({"id": raised.alarm_id, "kind": kind.as_str(), "severity": raised.severity.as_str(),
                "repeat": raised.repeat, "device_id": device.id, "device_name": device.name, "zone": zone}),
        }
    }

    /// A warning raised.
    pub(crate) fn warning(
        id: i64,
        kind: WarningKind,
        community_id: Option<i64>,
        at: i64,
        title: Option<&str>,
    ) -> LiveEvent {
        LiveEvent {
            kind: "warning",
            community_id,
            audience: Some(kind.audience()),
            at,
            data: json!({"id": id, "kind": kind.as_str(), "title": title}),
        }
    }

    /// A reminder for a house in arrears (property fees): for whoever may read fees.
    pub(crate) fn fee_reminder(id: i64, community_id: i64, at: i64, data: Value) -> LiveEvent {
        let mut data = data;
        data["id"] = json!(id);
        LiveEvent {
            kind: "fee",
            community_id: Some(community_id),
            audience: None,
            at,
            data,
        }
    }

    /// Whether `who` may see this event.
    pub fn visible_to(&self, who: &Principal) -> bool {
        let in_scope = match self.community_id {
            Some(c) => who.scope.all || who.scope.has_community(c),
            None => who.scope.all,
        };
        in_scope && self.shown_to(who.role)
    }

    /// Whether `role` may see events of this kind (scope aside).
    pub fn shown_to(&self, role: Role) -> bool {
        match self.kind {
            "warning" => self
                .audience
                .is_some_and(|a| Audience::seen_by(role).contains(&a)),
            "alarm" | "patrol" => role.allows(Permission::ReadAlarms),
            "fee" => role.allows(Permission::ReadFees),
            _ => role.allows(Permission::ReadDevices),
        }
    }
}

/// The broadcast channel.
#[derive(Debug)]
pub struct LiveFeed {
    sender: broadcast::Sender<Arc<LiveEvent>>,
}

impl Default for LiveFeed {
    fn default() -> Self {
        LiveFeed {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl LiveFeed {
    /// Publishes committed events (nobody listening is fine).
    pub fn publish(&self, events: impl IntoIterator<Item = LiveEvent>) {
        for event in events {
            metrics::counter!("anfang_live_events_total", "kind" => event.kind).increment(1);
            let _ = self.sender.send(Arc::new(event));
        }
    }

    /// A new subscription, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.sender.subscribe()
    }
}

impl App {
    /// The live feed.
    pub fn live(&self) -> &LiveFeed {
        &self.live
    }

    /// Subscribes `who` to the live feed: fails unless their role sees something live.
    pub fn subscribe_live(&self, who: &Principal) -> crate::AppResult<broadcast::Receiver<Arc<LiveEvent>>> {
        if !(who.role.allows(Permission::ReadDevices) || who.role.allows(Permission::ReadAlarms)) {
            return Err(crate::AppError::Forbidden(format!(
                "role {} has no live view",
                who.role
            )));
        }
        Ok(self.live.subscribe())
    }
}
