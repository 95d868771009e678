//! Operations after acceptance, and the street assessment they feed. A device going offline
//! (the device-offline alarm) or silent (alive but no business data for a day, in a community
//! whose project is accepted) opens a maintenance ticket to its contractor with the
//! contractor's repair SLA; the ticket closes itself when the device reports (or sends data)
//! again, or by hand. Tickets, repair times and SLA breaches per contractor and street, with
//! coverage, networking, alarm handling and data quality, make the monthly street score
//! (考核) under the district's weights.

use crate::programme::{ASSESSMENT_WEIGHTS, CommunityFigures, DAY_MS, TARGETS, TargetSpec, cst_year};
use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::model::DeviceKind;
use anfang_domain::programme::{
    self, AssessmentWeights, DeviceClass, Indicators, Segment, Stage, Tally, Target, TargetMetric,
};
use anfang_store::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The repair SLA of a contractor not on the list (hours).
pub const DEFAULT_SLA_HOURS: i64 = 48;

/// How long a device that produces business data may go without any before it counts as
/// silent.
pub const SILENT_MS: i64 = DAY_MS;

/// A contractor's (or street's) maintenance record over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceStats {
    /// Contractor name or street code.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Tickets open at some time in the period.
    pub tickets: u64,
    /// Repaired in the period.
    pub repaired: u64,
    /// Repaired late, or still open past due at the period's end.
    pub breaches: u64,
    /// Mean repair time of those repaired (hours).
    pub mean_repair_hours: Option<f64>,
}

/// One street's assessment for a month.
#[derive(Debug, Clone, PartialEq)]
pub struct StreetScore {
    /// Street code.
    pub street_code: String,
    /// Street name.
    pub street_name: String,
    /// Month, `YYYY-MM`.
    pub month: String,
    /// The indicators.
    pub indicators: Indicators,
    /// The weighted score.
    pub score: Option<f64>,
    /// Communities, built by the month's end, and the target (percent) applied.
    pub communities: u64,
    /// Built.
    pub built: u64,
    /// Target.
    pub target_pct: Option<f64>,
    /// Devices.
    pub devices: Tally,
    /// Alarms raised, and those never escalated.
    pub alarms: u64,
    /// Within SLA.
    pub alarms_in_sla: u64,
    /// Tickets due, and repaired in time.
    pub tickets: u64,
    /// Within SLA.
    pub tickets_in_sla: u64,
    /// Devices located on the site plan (coordinates entered).
    pub located: u64,
}

impl App {
    /// Opens a ticket for `device` (inside `tx`) to its contractor, due after the
    /// contractor's SLA; nothing when one is open.
    pub(crate) async fn open_ticket_for(
        &self,
        tx: &mut Box<dyn Tx>,
        device: &DeviceRow,
        reason: &str,
        now: i64,
    ) -> AppResult<Option<i64>> {
        let Some(community_id) = device.community_id else {
            return Ok(None);
        };
        let contractor = match &device.contractor {
            Some(c) if !c.trim().is_empty() => c.trim().to_string(),
            _ => tx
                .build_projects(Some(&[community_id]))
                .await?
                .pop()
                .and_then(|p| p.contractor)
                .unwrap_or_default(),
        };
        let sla_hours = tx
            .contractors()
            .await?
            .into_iter()
            .find(|c| c.name == contractor)
            .map(|c| c.sla_hours)
            .unwrap_or(DEFAULT_SLA_HOURS);
        Ok(tx
            .insert_ticket(&TicketRow {
                id: 0,
                device_id: device.id,
                community_id,
                contractor,
                reason: reason.into(),
                opened_at: now,
                due_at: now + sla_hours * 3_600_000,
                resolved_at: None,
                resolved_by: None,
                note: String::new(),
            })
            .await?)
    }

    /// Closes a device's open ticket of one of `reasons` (inside `tx`), by `system`.
    pub(crate) async fn close_ticket_for(
        &self,
        tx: &mut Box<dyn Tx>,
        device_id: i64,
        reasons: &[&str],
        now: i64,
        note: &str,
    ) -> AppResult<()> {
        if let Some(t) = tx.open_ticket(device_id).await?
            && reasons.contains(&t.reason.as_str())
        {
            tx.resolve_ticket(t.id, now, "system", note).await?;
        }
        Ok(())
    }

    /// Opens `silent` tickets for devices that are alive but sent no business data for
    /// [`SILENT_MS`] in communities whose project is accepted, and closes those whose data came
    /// back; returns (opened, closed).
    pub async fn check_silent_devices(&self) -> AppResult<(usize, usize)> {
        let now = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let accepted: BTreeSet<i64> = tx
            .build_projects(None)
            .await?
            .into_iter()
            .filter(|p| Stage::parse(&p.stage).is_ok_and(|s| s.reached(Stage::Accepted)))
            .map(|p| p.community_id)
            .collect();
        let with_data: BTreeSet<i64> = tx
            .device_days(now - SILENT_MS, now + 1)
            .await?
            .into_iter()
            .map(|d| d.device_id)
            .collect();
        let (mut opened, mut closed) = (0, 0);
        for d in tx.list_devices(&Filter::default(), Page::ALL).await?.items {
            let Some(community) = d.community_id else { continue };
            let Ok(kind) = DeviceKind::parse(&d.kind) else {
                continue;
            };
            // Only devices whose data should flow: readers, gates, cameras, booths; a patrol
            // checkpoint is scanned by a reader and never sends anything itself.
            let flows = DeviceClass::of(kind).has_business_data() && kind != DeviceKind::PatrolCheckpoint;
            if !flows {
                continue;
            }
            let alive = d.last_seen_at.is_some_and(|t| now - t <= SILENT_MS);
            let installed_long = d.created_at <= now - SILENT_MS;
            if with_data.contains(&d.id) {
                if let Some(t) = tx.open_ticket(d.id).await?
                    && t.reason == "silent"
                {
                    tx.resolve_ticket(t.id, now, "system", "business data arrives again")
                        .await?;
                    closed += 1;
                }
            } else if alive
                && installed_long
                && accepted.contains(&community)
                && self.open_ticket_for(&mut tx, &d, "silent", now).await?.is_some()
            {
                opened += 1;
            }
        }
        tx.commit().await?;
        Ok((opened, closed))
    }

    /// Adds or changes a contractor and its repair SLA (district level).
    pub async fn set_contractor(
        &self,
        who: &Principal,
        name: &str,
        sla_hours: i64,
        contact: &str,
    ) -> AppResult<()> {
        who.require(Permission::ManageProgramme)?;
        if !who.scope.all {
            return Err(AppError::Forbidden(
                "contractors are managed at district level".into(),
            ));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid(
                "invalid_value",
                "name",
                "a contractor's name is 1–100 characters",
            ));
        }
        if !(1..=720).contains(&sla_hours) {
            return Err(AppError::invalid(
                "invalid_value",
                "sla_hours",
                "a repair SLA is 1–720 hours",
            ));
        }
        if contact.chars().count() > 100 {
            return Err(AppError::invalid(
                "invalid_value",
                "contact",
                "a contact is at most 100 characters",
            ));
        }
        let mut tx = self.store.write().await?;
        tx.upsert_contractor(&ContractorRow {
            name: name.into(),
            sla_hours,
            contact: contact.trim().into(),
            updated_at: self.clock.now_ms(),
        })
        .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "programme.contractor",
                &format!("contractor:{name}"),
                json!({"sla_hours": sla_hours}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await
    }

    /// Every contractor.
    pub async fn list_contractors(&self, who: &Principal) -> AppResult<Vec<ContractorRow>> {
        who.require(Permission::ReadProgramme)?;
        let mut tx = self.store.read().await?;
        Ok(tx.contractors().await?)
    }

    /// Tickets in the caller's scope open at some time in `[since, until)`.
    pub async fn list_tickets(
        &self,
        who: &Principal,
        since: i64,
        until: i64,
        open_only: bool,
    ) -> AppResult<Vec<TicketRow>> {
        let scope = Self::programme_scope(who)?;
        let ids: Option<Vec<i64>> = scope.map(|s| s.iter().copied().collect());
        let mut tx = self.store.read().await?;
        let rows = tx.tickets(ids.as_deref(), since, until).await?;
        Ok(rows
            .into_iter()
            .filter(|t| !open_only || t.resolved_at.is_none())
            .collect())
    }

    /// Closes a ticket by hand with a note (the repair done).
    pub async fn resolve_ticket(&self, who: &Principal, id: i64, note: &str) -> AppResult<TicketRow> {
        who.require(Permission::ManageProgramme)?;
        let note = note.trim();
        if note.is_empty() || note.chars().count() > 500 {
            return Err(AppError::invalid(
                "invalid_value",
                "note",
                "say what was repaired (1–500 characters)",
            ));
        }
        let mut tx = self.store.write().await?;
        let ticket = tx
            .ticket(id)
            .await?
            .ok_or(AppError::NotFound { entity: "ticket" })?;
        who.scope.check_whole_community(ticket.community_id, "ticket")?;
        if ticket.resolved_at.is_some() {
            return Err(AppError::Conflict {
                code: "ticket_closed",
                message: "the ticket is closed".into(),
            });
        }
        tx.resolve_ticket(id, self.clock.now_ms(), &who.actor(), note)
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "programme.ticket_resolve",
                &format!("ticket:{id}"),
                json!({"note": note}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        let mut tx = self.store.read().await?;
        tx.ticket(id)
            .await?
            .ok_or(AppError::NotFound { entity: "ticket" })
    }

    /// Maintenance per contractor in `[since, until)`, over the caller's scope.
    pub async fn maintenance_by_contractor(
        &self,
        who: &Principal,
        since: i64,
        until: i64,
    ) -> AppResult<Vec<MaintenanceStats>> {
        let tickets = self.list_tickets(who, since, until, false).await?;
        Ok(maintenance_stats(&tickets, since, until, |t| {
            (t.contractor.clone(), t.contractor.clone())
        }))
    }

    /// The street assessment of `district` for `month` (`YYYY-MM`).
    pub async fn assessment(
        &self,
        who: &Principal,
        district: &str,
        month: &str,
    ) -> AppResult<Vec<StreetScore>> {
        Self::programme_scope(who)?;
        let (start, end) = programme::month_bounds(month).map_err(|e| AppError::field("month", e))?;
        let now = self.clock.now_ms();
        if start > now {
            return Err(AppError::invalid(
                "invalid_month",
                "month",
                "a month not yet begun has no score",
            ));
        }
        let until = end.min(now);
        let scope = (!who.scope.all).then_some(&who.scope.communities);
        let window = self.programme_window(crate::programme::DEFAULT_WINDOW_DAYS, Some(until));
        let mut tx = self.store.read().await?;
        Self::check_district_scope(&mut tx, who, district).await?;
        let measured = self.measure(&mut tx, scope, window).await?;
        let weights: AssessmentWeights = self
            .programme_setting_of(
                &mut tx,
                district,
                ASSESSMENT_WEIGHTS,
                AssessmentWeights::default(),
            )
            .await?;
        let specs: Vec<TargetSpec> = self
            .programme_setting_of(&mut tx, district, TARGETS, Vec::new())
            .await?;
        let targets: Vec<Target> = specs
            .iter()
            .filter_map(|s| {
                Some(Target {
                    scope: s.scope.clone(),
                    year: s.year,
                    segment: Segment::parse(&s.segment).ok()?,
                    metric: TargetMetric::parse(&s.metric).ok()?,
                    percent: s.percent,
                    source: s.source.clone(),
                })
            })
            .collect();
        let mine: Vec<&CommunityFigures> = measured
            .communities
            .iter()
            .filter(|c| c.district_code == district)
            .collect();
        let ids: Vec<i64> = mine.iter().map(|c| c.community_id).collect();
        let alarms = tx
            .list_alarms(
                &AlarmFilter {
                    community_ids: Some(ids.clone()),
                    since: Some(start),
                    until: Some(end),
                    ..AlarmFilter::default()
                },
                Page::ALL,
            )
            .await?
            .items;
        // Every ticket due in the month so far: due = opened + SLA (≤ 720 h), so one repaired
        // before the month began was resolved at most 30 days before it.
        let tickets = tx.tickets(Some(&ids), start - 30 * DAY_MS, until).await?;
        let devices = tx
            .list_devices(
                &Filter {
                    community_ids: Some(ids.clone()),
                    ..Filter::default()
                },
                Page::ALL,
            )
            .await?
            .items;
        let year = cst_year(start);
        let mut streets: BTreeMap<String, StreetScore> = BTreeMap::new();
        let street_of: HashMap<i64, &CommunityFigures> = mine.iter().map(|c| (c.community_id, *c)).collect();
        for c in &mine {
            let s = streets
                .entry(c.street_code.clone())
                .or_insert_with(|| StreetScore {
                    street_code: c.street_code.clone(),
                    street_name: c.street_name.clone(),
                    month: month.trim().to_string(),
                    indicators: Indicators::default(),
                    score: None,
                    communities: 0,
                    built: 0,
                    target_pct: target_for(&targets, &c.street_code, district, year),
                    devices: Tally::default(),
                    alarms: 0,
                    alarms_in_sla: 0,
                    tickets: 0,
                    tickets_in_sla: 0,
                    located: 0,
                });
            s.communities += 1;
            s.built += u64::from(c.reached_before(Stage::Accepted, end));
            s.devices.merge(&c.total);
        }
        for a in &alarms {
            if let Some(c) = a.community_id.and_then(|id| street_of.get(&id))
                && let Some(s) = streets.get_mut(&c.street_code)
            {
                s.alarms += 1;
                s.alarms_in_sla += u64::from(a.level == 0);
            }
        }
        for t in &tickets {
            // A ticket counts in the month it fell due (repaired or not by then).
            if t.due_at < start || t.due_at >= until {
                continue;
            }
            if let Some(c) = street_of.get(&t.community_id)
                && let Some(s) = streets.get_mut(&c.street_code)
            {
                s.tickets += 1;
                s.tickets_in_sla += u64::from(t.resolved_at.is_some_and(|r| r <= t.due_at));
            }
        }
        for d in devices.iter().filter(|d| DeviceKind::parse(&d.kind).is_ok()) {
            if let Some(c) = d.community_id.and_then(|id| street_of.get(&id))
                && let Some(s) = streets.get_mut(&c.street_code)
            {
                s.located += u64::from(d.x.is_some() && d.y.is_some());
            }
        }
        let mut out: Vec<StreetScore> = streets.into_values().collect();
        for s in &mut out {
            s.indicators = Indicators {
                coverage: programme::coverage_indicator(s.built, s.communities, s.target_pct),
                networking: programme::ratio(s.devices.networked, s.devices.installed),
                alarm_sla: programme::ratio(s.alarms_in_sla, s.alarms),
                maintenance_sla: programme::ratio(s.tickets_in_sla, s.tickets),
                data_quality: programme::ratio(s.located, s.devices.installed),
            };
            s.score = programme::score(&weights, &s.indicators);
        }
        Ok(out)
    }
}

/// The `all`/`built` target of a year for a street: its own, else the district's; for a year
/// past the last target entered, the last one carries forward (100 % by 2022 still holds in
/// 2023).
fn target_for(targets: &[Target], street: &str, district: &str, year: i32) -> Option<f64> {
    let latest = |scope: &str, exact: bool| {
        targets
            .iter()
            .filter(|t| {
                t.scope == scope
                    && (if exact { t.year == year } else { t.year <= year })
                    && t.segment == Segment::All
                    && t.metric == TargetMetric::Built
            })
            .max_by_key(|t| t.year)
            .map(|t| t.percent)
    };
    latest(street, true)
        .or_else(|| latest(district, true))
        .or_else(|| latest(street, false))
        .or_else(|| latest(district, false))
}

/// Maintenance statistics grouped by `key` (key, name) over `[since, until)`.
pub fn maintenance_stats(
    tickets: &[TicketRow],
    since: i64,
    until: i64,
    key: impl Fn(&TicketRow) -> (String, String),
) -> Vec<MaintenanceStats> {
    let mut groups: BTreeMap<String, (String, Vec<&TicketRow>)> = BTreeMap::new();
    for t in tickets {
        let (k, name) = key(t);
        groups.entry(k).or_insert_with(|| (name, Vec::new())).1.push(t);
    }
    groups
        .into_iter()
        .map(|(k, (name, list))| {
            let repaired: Vec<&&TicketRow> = list
                .iter()
                .filter(|t| t.resolved_at.is_some_and(|r| r >= since && r < until))
                .collect();
            let breaches = list
                .iter()
                .filter(|t| match t.resolved_at {
                    Some(r) => r > t.due_at && r >= since && r < until,
                    None => t.due_at < until,
                })
                .count() as u64;
            let hours: Vec<f64> = repaired
                .iter()
                .filter_map(|t| t.resolved_at.map(|r| (r - t.opened_at) as f64 / 3_600_000.0))
                .collect();
            MaintenanceStats {
                key: k,
                name,
                tickets: list.len() as u64,
                repaired: repaired.len() as u64,
                breaches,
                mean_repair_hours: (!hours.is_empty())
                    .then(|| programme::round2(hours.iter().sum::<f64>() / hours.len() as f64)),
            }
        })
        .collect()
}
