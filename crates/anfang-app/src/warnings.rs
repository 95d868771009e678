//! Early warning (研判预警): the rules that turn what the platform saw into warnings, each
//! carrying the events that are its evidence, for the people whose business it is.
//!
//! - Watch-list hits (face or plate) are raised the moment they are stored, `to_confirm`, for
//!   police roles only; confirming or rejecting one sets the hit's state and is audited per hit.
//! - The periodic rules ([`App::evaluate_warnings`]) read the facts per community with its own
//!   thresholds: frequent strangers (weighted at night), elderly residents not seen, suspected
//!   group rental, unregistered tenants and overstaying vehicles.
//! - Tailgating is judged as a door's counter reports passages.
//!
//! A subject (a stranger, a person, a house, a plate, a door) has at most one open warning of a
//! kind: a rule that fires again refreshes its evidence; once handled, the same subject is not
//! raised again for the rule's own window.

use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::mask::mask_name;
pub use anfang_domain::warning::{Audience, WarningAction, WarningKind, WarningRules, WarningState};
use anfang_domain::warning::{ELDERLY_ALONE_TAGS, RESIDENCE_REGISTERED_TAGS, has_tag};
use anfang_store::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
/// Evidence items kept on one warning at most (the newest).
const MAX_EVIDENCE: usize = 50;

/// A warning to raise.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWarning {
    /// What.
    pub kind: WarningKind,
    /// Where.
    pub community_id: Option<i64>,
    /// About whom or what (`stranger:7`, `person:12`, `house:3`, `plate:…`, `device:9`).
    pub subject: String,
    /// One line for the console.
    pub title: String,
    /// The rule's measure.
    pub score: Option<f64>,
    /// The events that are its evidence.
    pub evidence: Vec<Value>,
    /// When (ms).
    pub at: i64,
    /// The hit, for watch-list hits.
    pub watch_hit_id: Option<i64>,
    /// After a warning about the same subject was handled, none is raised again for this long.
    pub quiet_ms: i64,
}

fn audiences_of(who: &Principal) -> AppResult<&'static [Audience]> {
    let seen = Audience::seen_by(who.role);
    if seen.is_empty() {
        return Err(AppError::Forbidden(format!(
            "role {} sees no early warnings",
            who.role
        )));
    }
    Ok(seen)
}

fn audience_of(row: &WarningRow) -> Audience {
    WarningKind::parse(&row.kind)
        .map(WarningKind::audience)
        .unwrap_or(Audience::Police)
}

impl App {
    /// Raises a warning inside `tx`, or refreshes the open one about the same subject; returns
    /// the new warning's id (`None` when merged or quiet).
    pub(crate) async fn raise_warning(&self, tx: &mut Box<dyn Tx>, w: &NewWarning) -> AppResult<Option<i64>> {
        let mut evidence = w.evidence.clone();
        if evidence.len() > MAX_EVIDENCE {
            evidence.drain(..evidence.len() - MAX_EVIDENCE);
        }
        if let Some(mut last) = tx.latest_warning(w.kind.as_str(), &w.subject).await? {
            let open = WarningState::parse(&last.state).is_ok_and(WarningState::is_open);
            if open {
                last.title = w.title.clone();
                last.score = w.score;
                last.evidence = json!(evidence).to_string();
                last.updated_at = w.at;
                tx.update_warning(&last).await?;
                return Ok(None);
            }
            if last.updated_at + w.quiet_ms > w.at {
                return Ok(None);
            }
        }
        let id = tx
            .insert_warning(&WarningRow {
                id: 0,
                community_id: w.community_id,
                kind: w.kind.as_str().into(),
                audience: w.kind.audience().as_str().into(),
                subject: w.subject.clone(),
                title: w.title.clone(),
                score: w.score,
                evidence: json!(evidence).to_string(),
                state: w.kind.first_state().as_str().into(),
                raised_at: w.at,
                updated_at: w.at,
                handled_by: None,
                handled_at: None,
                note: None,
                watch_hit_id: w.watch_hit_id,
            })
            .await?;
        metrics::counter!("anfang_warnings_raised_total", "kind" => w.kind.as_str()).increment(1);
        Ok(Some(id))
    }

    /// The warning for a new watch-list hit (police only, to be confirmed).
    pub(crate) async fn raise_watch_hit(
        &self,
        tx: &mut Box<dyn Tx>,
        hit_id: i64,
        hit: &WatchHitRow,
    ) -> AppResult<Option<i64>> {
        let title = tx
            .watch_entry(hit.entry_id)
            .await?
            .map(|e| e.title)
            .unwrap_or_default();
        self.raise_warning(
            tx,
            &NewWarning {
                kind: WarningKind::WatchHit,
                community_id: hit.community_id,
                subject: format!("watch_hit:{hit_id}"),
                title: format!("布控命中：{title}"),
                score: hit.distance,
                evidence: vec![json!({
                    "watch_hit": hit_id,
                    "entry": hit.entry_id,
                    "capture_record": hit.capture_record_id,
                    "at": hit.at,
                    "distance": hit.distance,
                    "margin": hit.margin,
                })],
                at: hit.at,
                watch_hit_id: Some(hit_id),
                quiet_ms: 0,
            },
        )
        .await
    }

    /// A gate read a plate: every active watch-list entry for it gets a hit (no capture record:
    /// the gate's own access record is the evidence) and a warning to be confirmed.
    pub(crate) async fn gate_watch_hits(
        &self,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
        plate: &str,
        at: i64,
    ) -> AppResult<Vec<i64>> {
        let plate = anfang_domain::plate::normalize_plate(plate);
        let mut raised = Vec::new();
        for entry in tx.plate_watches(std::slice::from_ref(&plate), at).await? {
            if entry.plate.as_deref() != Some(plate.as_str()) {
                continue;
            }
            let hit = WatchHitRow {
                id: 0,
                entry_id: entry.id,
                capture_record_id: None,
                community_id: Some(community_id),
                at,
                distance: None,
                margin: None,
                state: "to_confirm".into(),
            };
            let hit_id = tx.insert_watch_hit(&hit).await?;
            raised.extend(self.raise_watch_hit(tx, hit_id, &hit).await?);
            metrics::counter!("anfang_watch_hits_total").increment(1);
        }
        Ok(raised)
    }

    /// A community's rules: as set, else the defaults.
    async fn rules_of(&self, tx: &mut Box<dyn Tx>, community_id: i64) -> AppResult<WarningRules> {
        Ok(match tx.warning_rules(community_id).await? {
            Some(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(community_id, error = %e, "unreadable warning rules: defaults used");
                WarningRules::default()
            }),
            None => WarningRules::default(),
        })
    }

    /// A community's early-warning rules (police and administrators).
    pub async fn warning_rules(&self, who: &Principal, community_id: i64) -> AppResult<WarningRules> {
        audiences_of(who)?;
        who.scope.check_community(community_id, "community")?;
        let mut tx = self.store.read().await?;
        tx.community(community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        self.rules_of(&mut tx, community_id).await
    }

    /// Sets a community's thresholds (police and district administrators; audited).
    pub async fn set_warning_rules(
        &self,
        who: &Principal,
        community_id: i64,
        rules: &WarningRules,
    ) -> AppResult<()> {
        who.require(Permission::ConfigureWarnings)?;
        who.scope.check_whole_community(community_id, "community")?;
        rules.validate().map_err(|e| AppError::field("rules", e))?;
        let mut tx = self.store.write().await?;
        tx.community(community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        let text = serde_json::to_string(rules).map_err(|e| AppError::Internal(e.to_string()))?;
        tx.set_warning_rules(community_id, &text, self.clock.now_ms(), &who.actor())
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "warning.rules_set",
                &format!("community:{community_id}"),
                serde_json::to_value(rules).unwrap_or_default(),
            )
            .await?;
        self.commit(tx, Some(&audit)).await
    }

    /// Runs the periodic rules over every community and raises what fires; returns the
    /// warnings raised (refreshed ones not counted).
    pub async fn evaluate_warnings(&self) -> AppResult<usize> {
        let now = self.clock.now_ms();
        let today = self.clock.today_cst();
        let mut found: Vec<NewWarning> = Vec::new();
        {
            let mut tx = self.store.read().await?;
            let communities = tx.list_communities(&Filter::default(), Page::ALL).await?.items;
            let mut rules = HashMap::new();
            for c in &communities {
                rules.insert(c.id, self.rules_of(&mut tx, c.id).await?);
            }
            // Strangers, over the longest window any community uses.
            let longest = rules.values().map(|r| r.stranger.days).max().unwrap_or(7);
            let mut seen: BTreeMap<(i64, i64), Vec<StrangerSighting>> = BTreeMap::new();
            for s in tx.stranger_sightings(now - i64::from(longest) * DAY_MS).await? {
                if let Some(c) = s.community_id {
                    seen.entry((c, s.stranger_id)).or_default().push(s);
                }
            }
            for ((community_id, stranger), sightings) in seen {
                let Some(rule) = rules.get(&community_id).map(|r| r.stranger) else {
                    continue;
                };
                let times: Vec<i64> = sightings.iter().map(|s| s.shot_at).collect();
                if !rule.fires(&times, now) {
                    continue;
                }
                let since = now - i64::from(rule.days) * DAY_MS;
                let score = rule.score(&times, now);
                let evidence = sightings
                    .iter()
                    .filter(|s| s.shot_at > since)
                    .map(|s| {
                        json!({"capture_record": s.capture_record_id, "at": s.shot_at,
                            "night": rule.is_night(anfang_domain::warning::local_hour(s.shot_at))})
                    })
                    .collect();
                found.push(NewWarning {
                    kind: WarningKind::FrequentStranger,
                    community_id: Some(community_id),
                    subject: format!("stranger:{stranger}"),
                    title: format!("陌生人 #{stranger} {} 天内出现 {score} 次（夜间加权）", rule.days),
                    score: Some(score),
                    evidence,
                    at: now,
                    watch_hit_id: None,
                    quiet_ms: i64::from(rule.days) * DAY_MS,
                });
            }
            for c in &communities {
                let r = rules[&c.id];
                self.community_facts(&mut tx, c.id, &r, now, today, &mut found)
                    .await?;
            }
        }
        if found.is_empty() {
            return Ok(0);
        }
        let mut tx = self.store.write().await?;
        let mut live = Vec::new();
        for w in &found {
            if let Some(id) = self.raise_warning(&mut tx, w).await? {
                live.push(crate::live::LiveEvent::warning(
                    id,
                    w.kind,
                    w.community_id,
                    w.at,
                    Some(&w.title),
                ));
            }
        }
        let raised = live.len();
        self.commit_events(tx, live).await?;
        Ok(raised)
    }

    /// The registry, welfare and parking rules of one community.
    async fn community_facts(
        &self,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
        rules: &WarningRules,
        now: i64,
        today: chrono::NaiveDate,
        found: &mut Vec<NewWarning>,
    ) -> AppResult<()> {
        let filter = Filter {
            community_id: Some(community_id),
            ..Filter::default()
        };
        let persons = tx.list_persons(&filter, Page::ALL).await?.items;
        let ids: Vec<i64> = persons.iter().map(|p| p.id).collect();
        let relations = if ids.is_empty() {
            Vec::new()
        } else {
            tx.person_houses(&ids).await?
        };
        let last_seen: HashMap<i64, i64> = tx.person_last_seen(community_id).await?.into_iter().collect();
        for p in &persons {
            let tags: Vec<String> = serde_json::from_str(&p.tags_json).unwrap_or_default();
            // An elderly resident living alone, not seen at any door or camera.
            if has_tag(&tags, &ELDERLY_ALONE_TAGS)
                && rules
                    .elderly
                    .fires(last_seen.get(&p.id).copied(), p.created_at, now)
            {
                let since = last_seen.get(&p.id).copied().unwrap_or(p.created_at);
                let hours = (now - since) / HOUR_MS;
                found.push(NewWarning {
                    kind: WarningKind::ElderlyUnseen,
                    community_id: Some(community_id),
                    subject: format!("person:{}", p.id),
                    title: format!("独居老人 {} 已 {hours} 小时未出现", mask_name(&p.name)),
                    score: Some(hours as f64),
                    evidence: vec![json!({"person": p.id, "last_seen_at": last_seen.get(&p.id), "registered_at": p.created_at})],
                    at: now,
                    watch_hit_id: None,
                    quiet_ms: i64::from(rules.elderly.hours) * HOUR_MS,
                });
            }
            // A tenant past the limit without residence registration.
            for rel in relations
                .iter()
                .filter(|r| r.person_id == p.id && r.role == "tenant")
            {
                let Some(start) = rel
                    .lease_start
                    .as_deref()
                    .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                else {
                    continue;
                };
                let ended = rel
                    .lease_end
                    .as_deref()
                    .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .is_some_and(|end| end < today);
                let registered = has_tag(&tags, &RESIDENCE_REGISTERED_TAGS);
                if !ended && rules.tenant.fires(start, registered, today) {
                    let days = (today - start).num_days();
                    found.push(NewWarning {
                        kind: WarningKind::TenantUnregistered,
                        community_id: Some(community_id),
                        subject: format!("person:{}", p.id),
                        title: format!("租户 {} 入住 {days} 天未办理居住登记", mask_name(&p.name)),
                        score: Some(days as f64),
                        evidence: vec![
                            json!({"person": p.id, "house": rel.house_id, "lease_start": start.to_string()}),
                        ],
                        at: now,
                        watch_hit_id: None,
                        quiet_ms: i64::from(rules.tenant.days) * DAY_MS,
                    });
                }
            }
        }
        // Suspected group rental: more people through a house than live there.
        if rules.group_rental.enabled {
            let mut occupants: HashMap<i64, usize> = HashMap::new();
            for r in &relations {
                *occupants.entry(r.house_id).or_default() += 1;
            }
            let since = now - i64::from(rules.group_rental.days) * DAY_MS;
            let mut entrants: BTreeMap<i64, Vec<String>> = BTreeMap::new();
            for (house, who) in tx.house_entrants(community_id, since, now).await? {
                entrants.entry(house).or_default().push(who);
            }
            for (house, who) in entrants {
                let registered = occupants.get(&house).copied().unwrap_or(0);
                if rules.group_rental.fires(who.len(), registered) {
                    let residents: Vec<i64> = who
                        .iter()
                        .filter_map(|w| w.strip_prefix('p')?.parse().ok())
                        .collect();
                    let visitors: Vec<String> = who
                        .iter()
                        .filter_map(|w| w.strip_prefix('v'))
                        .map(mask_name)
                        .collect();
                    found.push(NewWarning {
                        kind: WarningKind::GroupRental,
                        community_id: Some(community_id),
                        subject: format!("house:{house}"),
                        title: format!(
                            "疑似群租：{} 天内 {} 人进出，登记 {registered} 人",
                            rules.group_rental.days,
                            who.len()
                        ),
                        score: Some(who.len() as f64),
                        evidence: vec![json!({"house": house, "registered": registered, "residents_seen": residents, "visitors": visitors})],
                        at: now,
                        watch_hit_id: None,
                        quiet_ms: i64::from(rules.group_rental.days) * DAY_MS,
                    });
                }
            }
        }
        // Vehicles parked inside for days.
        for s in tx.unclosed_parking_sessions(community_id).await? {
            if rules.vehicle.fires(s.entered_at, now) {
                let days = (now - s.entered_at) / DAY_MS;
                found.push(NewWarning {
                    kind: WarningKind::VehicleOverstay,
                    community_id: Some(community_id),
                    subject: format!("plate:{}", s.plate),
                    title: format!("车辆 {} 已滞留 {days} 天", s.plate),
                    score: Some(days as f64),
                    evidence: vec![json!({"parking_session": s.id, "entered_at": s.entered_at, "entry_device": s.entry_device_id})],
                    at: now,
                    watch_hit_id: None,
                    quiet_ms: i64::from(rules.vehicle.days) * DAY_MS,
                });
            }
        }
        Ok(())
    }

    /// A door's counter reported `passages` people through one opening: raises (or refreshes)
    /// a tailgating warning when that is more than the community allows, with the opening that
    /// let them in as evidence.
    pub(crate) async fn judge_passages(
        &self,
        tx: &mut Box<dyn Tx>,
        device: &DeviceRow,
        event_id: &str,
        at: i64,
        passages: u32,
    ) -> AppResult<Option<i64>> {
        let Some(community_id) = device.community_id else {
            return Ok(None);
        };
        let rules = self.rules_of(tx, community_id).await?;
        let excess = rules.tailgating.excess(passages);
        if excess == 0 {
            return Ok(None);
        }
        let subject = format!("device:{}", device.id);
        let mut evidence: Vec<Value> = match tx
            .latest_warning(WarningKind::Tailgating.as_str(), &subject)
            .await?
        {
            Some(w) if WarningState::parse(&w.state).is_ok_and(WarningState::is_open) => {
                serde_json::from_str(&w.evidence).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        evidence.push(
            json!({"event": event_id, "at": at, "passages": passages, "allowed": rules.tailgating.allowed}),
        );
        let times = evidence.len();
        let title = format!("{} 尾随通行 {times} 次", device.name);
        self.raise_warning(
            tx,
            &NewWarning {
                kind: WarningKind::Tailgating,
                community_id: Some(community_id),
                subject,
                title,
                score: Some(times as f64),
                evidence,
                at,
                watch_hit_id: None,
                quiet_ms: 0,
            },
        )
        .await
    }

    /// Early warnings the caller may see (by role and scope), open first. A police caller's
    /// read is audited.
    pub async fn list_warnings(
        &self,
        who: &Principal,
        mut filter: WarningFilter,
        page: crate::registry::PageRequest,
    ) -> AppResult<Paged<WarningRow>> {
        let seen = audiences_of(who)?;
        let page = page.to_page()?;
        if let Some(kind) = &filter.kind {
            WarningKind::parse(kind).map_err(|e| AppError::field("kind", e))?;
        }
        if let Some(state) = &filter.state {
            WarningState::parse(state).map_err(|e| AppError::field("state", e))?;
        }
        filter.audiences = seen.iter().map(|a| a.as_str().to_string()).collect();
        filter.community_ids = who.scope.filter().community_ids;
        if !seen.contains(&Audience::Police) {
            let mut tx = self.store.read().await?;
            return Ok(tx.list_warnings(&filter, page).await?);
        }
        let mut tx = self.store.write().await?;
        let rows = tx.list_warnings(&filter, page).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "warning.read",
                "warnings",
                json!({"warnings": rows.items.len(), "watch_hits": rows.items.iter().filter(|w| w.watch_hit_id.is_some()).count()}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(rows)
    }

    async fn visible_warning(&self, tx: &mut Box<dyn Tx>, who: &Principal, id: i64) -> AppResult<WarningRow> {
        let seen = audiences_of(who)?;
        let row = tx
            .warning(id)
            .await?
            .ok_or(AppError::NotFound { entity: "warning" })?;
        let in_scope = row.community_id.is_none_or(|c| who.scope.has_community(c));
        if !in_scope || !seen.contains(&audience_of(&row)) {
            return Err(AppError::NotFound { entity: "warning" });
        }
        Ok(row)
    }

    /// One warning with its evidence (a police warning's read is audited).
    pub async fn warning(&self, who: &Principal, id: i64) -> AppResult<WarningRow> {
        let mut tx = self.store.write().await?;
        let row = self.visible_warning(&mut tx, who, id).await?;
        if audience_of(&row) == Audience::Police {
            let audit = self
                .audit(
                    &mut tx,
                    &who.actor(),
                    "warning.read",
                    &format!("warning:{id}"),
                    json!({"watch_hit": row.watch_hit_id}),
                )
                .await?;
            self.commit(tx, Some(&audit)).await?;
        }
        Ok(row)
    }

    /// Confirms or rejects a match, or closes a warning; who, when and the note are kept, the
    /// hit's state follows, and the step is audited (per hit for watch-list hits).
    pub async fn act_on_warning(
        &self,
        who: &Principal,
        id: i64,
        action: WarningAction,
        note: Option<String>,
    ) -> AppResult<WarningRow> {
        let note = match note {
            Some(n) if !n.trim().is_empty() => Some(crate::registry::text("note", &n, 500)?),
            _ => None,
        };
        let mut tx = self.store.write().await?;
        let mut row = self.visible_warning(&mut tx, who, id).await?;
        if !audience_of(&row).handled_by(who.role) {
            return Err(AppError::Forbidden(format!(
                "role {} may read this warning but not handle it",
                who.role
            )));
        }
        let state = WarningState::parse(&row.state)
            .map_err(|e| AppError::Internal(format!("warning {id}: {e}")))?
            .apply(action)
            .map_err(|e| AppError::Conflict {
                code: e.code,
                message: e.message,
            })?;
        let now = self.clock.now_ms();
        row.state = state.as_str().into();
        row.handled_by = Some(who.actor());
        row.handled_at = Some(now);
        row.updated_at = now;
        if note.is_some() {
            row.note = note.clone();
        }
        tx.update_warning(&row).await?;
        let (action_name, target) = match row.watch_hit_id {
            Some(hit) if matches!(state, WarningState::Confirmed | WarningState::Rejected) => {
                tx.set_watch_hit_state(hit, state.as_str()).await?;
                (
                    format!("watchlist.hit_{}", action.as_str()),
                    format!("watch_hit:{hit}"),
                )
            }
            _ => (format!("warning.{}", action.as_str()), format!("warning:{id}")),
        };
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                &action_name,
                &target,
                json!({"warning": id, "kind": row.kind, "state": row.state, "note": note}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }
}
