//! The alarm centre's use-cases: raising alarms from device events (merging repeats, linking the
//! nearest cameras), the people's actions on them (acknowledge, dispatch, resolve, false alarm,
//! each with who, when and a note), the SLA job that escalates unacknowledged alarms along the
//! role chain, device-offline alarms, and statistics. Time comes from the injected clock, so the
//! SLA is tested with a simulated one.

use crate::{App, AppError, AppResult, Permission, Principal};
pub use anfang_domain::alarm::{AlarmAction, AlarmKind, AlarmSla, AlarmState, AlarmStats, Severity};
use anfang_domain::alarm::{AlarmFacts, Placed, alarm_stats, is_repeat, nearest_cameras};
use anfang_domain::model::DeviceKind;
use anfang_store::*;
use serde_json::json;

/// Repeats of an open alarm within this window are merged into it.
pub const REPEAT_WINDOW_MS: i64 = 5 * 60_000;
/// Cameras linked to an alarm.
const CAMERAS_PER_ALARM: usize = 3;

/// An alarm to raise.
#[derive(Debug, Clone, PartialEq)]
pub struct RaiseAlarm {
    /// What.
    pub kind: AlarmKind,
    /// The source's rating, if it gave one.
    pub reported: Option<Severity>,
    /// The device that raised it.
    pub device_id: Option<i64>,
    /// Where, when no device says so.
    pub community_id: Option<i64>,
    /// The place it concerns.
    pub place_id: Option<i64>,
    /// The zone or door the device named.
    pub zone: Option<String>,
    /// `device`, `offline`, `patrol`, `rule`.
    pub source: &'static str,
    /// The source's reference (event id).
    pub source_ref: Option<String>,
    /// When it happened (ms).
    pub at: i64,
    /// A stored snapshot.
    pub snapshot_key: Option<String>,
}

/// What raising did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised {
    /// The alarm.
    pub alarm_id: i64,
    /// Whether it was merged into an open alarm (a repeat).
    pub repeat: bool,
    /// Its severity now.
    pub severity: Severity,
}

/// An alarm with its history.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmDetail {
    /// The alarm.
    pub alarm: AlarmRow,
    /// What was done, oldest first.
    pub actions: Vec<AlarmActionRow>,
}

fn parse_state(row: &AlarmRow) -> AppResult<AlarmState> {
    AlarmState::parse(&row.state).map_err(|e| AppError::Internal(format!("alarm {}: {e}", row.id)))
}

fn parse_severity(row: &AlarmRow) -> Severity {
    Severity::parse(&row.severity).unwrap_or(Severity::Minor)
}

fn facts(row: &AlarmRow) -> Option<AlarmFacts> {
    Some(AlarmFacts {
        kind: AlarmKind::parse(&row.kind).unwrap_or(AlarmKind::Other),
        severity: parse_severity(row),
        state: AlarmState::parse(&row.state).ok()?,
        raised_at: row.raised_at,
        acknowledged_at: row.acknowledged_at,
        closed_at: row.closed_at,
    })
}

impl App {
    /// The alarm SLA in force.
    pub fn alarm_sla(&self) -> &AlarmSla {
        &self.config.alarm_sla
    }

    /// When `alarm` must be acknowledged by under the SLA in force (ms), and whether it was or
    /// will be within it: `Some(true)` acknowledged in time, `Some(false)` acknowledged late or
    /// still unacknowledged past the deadline at `now`, `None` still running.
    pub fn alarm_deadline(&self, alarm: &AlarmRow, now: i64) -> (i64, Option<bool>) {
        let severity = parse_severity(alarm);
        let due = alarm.raised_at + self.config.alarm_sla.ack_within(severity);
        let met = match alarm.acknowledged_at {
            Some(at) => Some(at <= due),
            None if now > due => Some(false),
            None => None,
        };
        (due, met)
    }

    /// Raises an alarm inside `tx`, or merges it into the open alarm of the same device and kind
    /// reported within [`REPEAT_WINDOW_MS`].
    pub(crate) async fn raise_alarm(&self, tx: &mut Box<dyn Tx>, new: &RaiseAlarm) -> AppResult<Raised> {
        let device = match new.device_id {
            Some(id) => tx.device(id).await?,
            None => None,
        };
        let severity = new.kind.severity(new.reported);
        if let Some(device) = &device
            && let Some(mut open) = tx.open_alarm(device.id, new.kind.as_str()).await?
            && is_repeat(open.last_at, parse_state(&open)?, new.at, REPEAT_WINDOW_MS)
        {
            open.repeats += 1;
            open.last_at = open.last_at.max(new.at);
            // A repeat may be rated more urgent than the first report.
            open.severity = severity.min(parse_severity(&open)).as_str().into();
            if open.snapshot_key.is_none() {
                open.snapshot_key = new.snapshot_key.clone();
            }
            tx.update_alarm(&open).await?;
            self.alarm_history(tx, open.id, new.at, "system", "repeat", new.source_ref.clone())
                .await?;
            return Ok(Raised {
                alarm_id: open.id,
                repeat: true,
                severity: parse_severity(&open),
            });
        }
        let community_id = device.as_ref().and_then(|d| d.community_id).or(new.community_id);
        let place_id = new.place_id.or(device.as_ref().and_then(|d| d.place_id));
        // Where the alarm is: its place on the site plan, else the device's position.
        let place = match place_id {
            Some(id) => tx.place(id).await?,
            None => None,
        };
        let at_xy = place
            .as_ref()
            .map(|p| (p.x, p.y))
            .or(device.as_ref().and_then(|d| d.x.zip(d.y)));
        let cameras = match (community_id, at_xy) {
            (Some(community_id), Some((x, y))) => {
                let filter = Filter {
                    community_id: Some(community_id),
                    ..Filter::default()
                };
                let placed: Vec<Placed> = tx
                    .list_devices(&filter, Page::ALL)
                    .await?
                    .items
                    .into_iter()
                    .filter(|d| {
                        matches!(
                            DeviceKind::parse(&d.kind),
                            Ok(DeviceKind::VideoCamera | DeviceKind::FaceCaptureCamera)
                        )
                    })
                    .filter_map(|d| {
                        Some(Placed {
                            device_id: d.id,
                            x: d.x?,
                            y: d.y?,
                        })
                    })
                    .collect();
                nearest_cameras(x, y, &placed, CAMERAS_PER_ALARM)
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect()
            }
            _ => Vec::new(),
        };
        let id = tx
            .insert_alarm(&AlarmRow {
                id: 0,
                community_id,
                device_id: device.as_ref().map(|d| d.id),
                place_id,
                kind: new.kind.as_str().into(),
                severity: severity.as_str().into(),
                state: AlarmState::New.as_str().into(),
                zone: new.zone.clone(),
                source: new.source.into(),
                source_ref: new.source_ref.clone(),
                raised_at: new.at,
                last_at: new.at,
                repeats: 0,
                level: 0,
                escalated_at: None,
                acknowledged_at: None,
                acknowledged_by: None,
                dispatched_to: None,
                closed_at: None,
                closed_by: None,
                cameras: json!(cameras).to_string(),
                snapshot_key: new.snapshot_key.clone(),
            })
            .await?;
        self.alarm_history(tx, id, new.at, "system", "raise", new.source_ref.clone())
            .await?;
        metrics::counter!("anfang_alarms_raised_total", "kind" => new.kind.as_str(), "severity" => severity.as_str())
            .increment(1);
        Ok(Raised {
            alarm_id: id,
            repeat: false,
            severity,
        })
    }

    async fn alarm_history(
        &self,
        tx: &mut Box<dyn Tx>,
        alarm_id: i64,
        at: i64,
        actor: &str,
        action: &str,
        note: Option<String>,
    ) -> AppResult<()> {
        tx.insert_alarm_action(&AlarmActionRow {
            id: 0,
            alarm_id,
            at,
            actor: actor.into(),
            action: action.into(),
            note,
        })
        .await?;
        Ok(())
    }

    /// Alarms in the caller's scope, open and most urgent first.
    pub async fn list_alarms(
        &self,
        who: &Principal,
        mut filter: AlarmFilter,
        page: crate::registry::PageRequest,
    ) -> AppResult<Paged<AlarmRow>> {
        who.require(Permission::ReadAlarms)?;
        let page = page.to_page()?;
        if let Some(state) = &filter.state {
            AlarmState::parse(state).map_err(|e| AppError::field("state", e))?;
        }
        if let Some(kind) = &filter.kind {
            AlarmKind::parse(kind).map_err(|e| AppError::field("kind", e))?;
        }
        filter.community_ids = who.scope.filter().community_ids;
        let mut tx = self.store.read().await?;
        Ok(tx.list_alarms(&filter, page).await?)
    }

    /// One alarm and its history (in the caller's scope).
    pub async fn alarm(&self, who: &Principal, id: i64) -> AppResult<AlarmDetail> {
        who.require(Permission::ReadAlarms)?;
        let mut tx = self.store.read().await?;
        let alarm = scoped(who, tx.alarm(id).await?)?;
        let actions = tx.alarm_actions(id).await?;
        Ok(AlarmDetail { alarm, actions })
    }

    /// A person acts on an alarm: the lifecycle decides whether the step is allowed; who, when
    /// and the note are kept in its history and the audit log.
    pub async fn act_on_alarm(
        &self,
        who: &Principal,
        id: i64,
        action: AlarmAction,
        note: Option<String>,
        dispatched_to: Option<String>,
    ) -> AppResult<AlarmRow> {
        who.require(Permission::HandleAlarms)?;
        if let Some(note) = &note
            && note.chars().count() > 500
        {
            return Err(AppError::invalid(
                "note_too_long",
                "note",
                "a note has at most 500 characters",
            ));
        }
        let now = self.clock.now_ms();
        let actor = who.actor();
        let mut tx = self.store.write().await?;
        let mut alarm = scoped(who, tx.alarm(id).await?)?;
        let next = parse_state(&alarm)?
            .apply(action)
            .map_err(|e| AppError::Conflict {
                code: e.code,
                message: e.message,
            })?;
        if alarm.acknowledged_at.is_none() {
            alarm.acknowledged_at = Some(now);
            alarm.acknowledged_by = Some(actor.clone());
        }
        if action == AlarmAction::Dispatch {
            let to = dispatched_to
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| AppError::invalid("missing_dispatch", "dispatched_to", "say whom you sent"))?;
            alarm.dispatched_to = Some(to.trim().chars().take(100).collect());
        }
        if next.is_closed() {
            alarm.closed_at = Some(now);
            alarm.closed_by = Some(actor.clone());
        }
        alarm.state = next.as_str().into();
        tx.update_alarm(&alarm).await?;
        self.alarm_history(&mut tx, id, now, &actor, action.as_str(), note.clone())
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &actor,
                &format!("alarm.{}", action.as_str()),
                &format!("alarm:{id}"),
                json!({"state": alarm.state, "note": note, "dispatched_to": alarm.dispatched_to}),
            )
            .await?;
        let event = crate::live::LiveEvent {
            kind: "alarm",
            community_id: alarm.community_id,
            audience: None,
            at: now,
            data: json!({"id": alarm.id, "kind": alarm.kind, "severity": alarm.severity, "state": alarm.state,
                "by": who.actor()}),
        };
        let queued = self.notify(&mut tx, std::slice::from_ref(&event)).await?;
        self.commit(tx, Some(&audit)).await?;
        self.outbox_ring(queued);
        self.live.publish([event]);
        Ok(alarm)
    }

    /// The SLA job: escalates every unacknowledged alarm whose deadline passed to the next role
    /// of the chain; returns the alarms escalated with the role now notified.
    pub async fn escalate_alarms(&self) -> AppResult<Vec<(i64, anfang_domain::model::Role)>> {
        let now = self.clock.now_ms();
        // Read first: most rounds find nothing due and take no write transaction.
        let waiting = {
            let mut tx = self.store.read().await?;
            tx.list_alarms(
                &AlarmFilter {
                    state: Some(AlarmState::New.as_str().into()),
                    ..AlarmFilter::default()
                },
                Page::ALL,
            )
            .await?
            .items
        };
        if !waiting.iter().any(|a| self.escalation_due(a, now).is_some()) {
            return Ok(Vec::new());
        }
        let mut tx = self.store.write().await?;
        let mut escalated = Vec::new();
        let mut live = Vec::new();
        for id in waiting.iter().map(|a| a.id) {
            // As it is now: someone may have acknowledged it since the read.
            let Some(mut alarm) = tx.alarm(id).await? else {
                continue;
            };
            let Some((level, role)) = self.escalation_due(&alarm, now) else {
                continue;
            };
            alarm.level = level as i64;
            alarm.escalated_at = Some(now);
            tx.update_alarm(&alarm).await?;
            self.alarm_history(
                &mut tx,
                alarm.id,
                now,
                "system",
                "escalate",
                Some(format!("level {level}: {}", role.as_str())),
            )
            .await?;
            metrics::counter!("anfang_alarms_escalated_total", "role" => role.as_str()).increment(1);
            let device = match alarm.device_id {
                Some(id) => tx.device(id).await?,
                None => None,
            };
            live.push(crate::live::LiveEvent {
                kind: "alarm",
                community_id: alarm.community_id,
                audience: None,
                at: now,
                data: json!({"id": alarm.id, "kind": alarm.kind, "severity": alarm.severity, "level": level,
                    "escalated_to": role.as_str(), "device_id": alarm.device_id,
                    "device_name": device.map(|d| d.name), "zone": alarm.zone}),
            });
            escalated.push((alarm.id, role));
        }
        self.commit_events(tx, live).await?;
        Ok(escalated)
    }

    /// The level and role an alarm should escalate to at `now`, if any.
    fn escalation_due(&self, alarm: &AlarmRow, now: i64) -> Option<(usize, anfang_domain::model::Role)> {
        self.alarm_sla().escalation(
            AlarmState::parse(&alarm.state).ok()?,
            parse_severity(alarm),
            alarm.raised_at,
            usize::try_from(alarm.level).unwrap_or(0),
            now,
        )
    }

    /// Raises a `device_offline` alarm for every assigned device that has reported before but
    /// not within `window_ms`, unless one is open; returns how many were raised.
    pub async fn raise_offline_alarms(&self, window_ms: i64) -> AppResult<usize> {
        let now = self.clock.now_ms();
        let silent = |d: &DeviceRow| {
            d.community_id.is_some() && d.last_seen_at.is_some_and(|seen| now - seen > window_ms)
        };
        // Read first: most rounds find every device alive and take no write transaction.
        let candidates: Vec<i64> = {
            let mut tx = self.store.read().await?;
            let mut out = Vec::new();
            for d in tx.list_devices(&Filter::default(), Page::ALL).await?.items {
                if silent(&d)
                    && tx
                        .open_alarm(d.id, AlarmKind::DeviceOffline.as_str())
                        .await?
                        .is_none()
                {
                    out.push(d.id);
                }
            }
            out
        };
        if candidates.is_empty() {
            return Ok(0);
        }
        let mut tx = self.store.write().await?;
        let mut raised = 0;
        let mut live = Vec::new();
        for id in candidates {
            // As it is now: it may have reported, or been alarmed, since the read.
            let Some(d) = tx.device(id).await? else { continue };
            if !silent(&d)
                || tx
                    .open_alarm(d.id, AlarmKind::DeviceOffline.as_str())
                    .await?
                    .is_some()
            {
                continue;
            }
            let seen = d.last_seen_at.unwrap_or_default();
            live.push(
                self.raise_device_offline(&mut tx, &d, "offline", format!("last seen {seen}"), now)
                    .await?,
            );
            raised += 1;
        }
        self.commit_events(tx, live).await?;
        Ok(raised)
    }

    /// Raises `device_offline` for a device (the caller checked none is open) and asks its
    /// contractor to repair it against its SLA; returns the live event to publish on commit.
    /// The one way both the silence job and GB/T 28181 presence raise it.
    pub(crate) async fn raise_device_offline(
        &self,
        tx: &mut Box<dyn Tx>,
        d: &DeviceRow,
        source: &'static str,
        source_ref: String,
        now: i64,
    ) -> AppResult<crate::live::LiveEvent> {
        let raised = self
            .raise_alarm(
                tx,
                &RaiseAlarm {
                    kind: AlarmKind::DeviceOffline,
                    reported: None,
                    device_id: Some(d.id),
                    community_id: None,
                    place_id: None,
                    zone: None,
                    source,
                    source_ref: Some(source_ref),
                    at: now,
                    snapshot_key: None,
                },
            )
            .await?;
        self.open_ticket_for(tx, d, "offline", now).await?;
        Ok(crate::live::LiveEvent::alarm(
            &raised,
            AlarmKind::DeviceOffline,
            d,
            None,
            now,
        ))
    }

    /// Resolves the open `device_offline` alarm of a device that reported again (by `system`).
    pub(crate) async fn close_offline_alarm(
        &self,
        tx: &mut Box<dyn Tx>,
        device_id: i64,
        now: i64,
    ) -> AppResult<()> {
        // The repair ticket closes whether or not someone already closed the alarm.
        self.close_ticket_for(tx, device_id, &["offline"], now, "the device reported again")
            .await?;
        let Some(mut alarm) = tx
            .open_alarm(device_id, AlarmKind::DeviceOffline.as_str())
            .await?
        else {
            return Ok(());
        };
        alarm.state = AlarmState::Resolved.as_str().into();
        alarm.closed_at = Some(now);
        alarm.closed_by = Some("system".into());
        tx.update_alarm(&alarm).await?;
        self.alarm_history(
            tx,
            alarm.id,
            now,
            "system",
            "resolve",
            Some("the device reported again".into()),
        )
        .await
    }

    /// Statistics of the alarms raised in `[since, until)` in one community (or the caller's
    /// whole scope).
    pub async fn alarm_stats(
        &self,
        who: &Principal,
        community_id: Option<i64>,
        since: i64,
        until: i64,
    ) -> AppResult<AlarmStats> {
        who.require(Permission::ReadAlarms)?;
        if let Some(c) = community_id {
            who.scope.check_community(c, "community")?;
        }
        let filter = AlarmFilter {
            community_ids: match community_id {
                Some(c) => Some(vec![c]),
                None => who.scope.filter().community_ids,
            },
            since: Some(since),
            until: Some(until),
            ..AlarmFilter::default()
        };
        let mut tx = self.store.read().await?;
        let rows = tx.list_alarms(&filter, Page::ALL).await?.items;
        let facts: Vec<AlarmFacts> = rows.iter().filter_map(facts).collect();
        Ok(alarm_stats(&facts, self.alarm_sla(), self.clock.now_ms()))
    }
}

/// The alarm if it is in the caller's scope (alarms without a community are district-wide).
fn scoped(who: &Principal, alarm: Option<AlarmRow>) -> AppResult<AlarmRow> {
    match alarm {
        Some(a)
            if a.community_id
                .map_or(who.scope.all, |c| who.scope.has_community(c)) =>
        {
            Ok(a)
        }
        _ => Err(AppError::NotFound { entity: "alarm" }),
    }
}
