//! Electronic patrol (电子巡查): routes of ordered checkpoints (patrol tags registered as
//! devices) with round times and an assigned guard; scans arriving as device events; a job that
//! judges each round once its time is over (on time, late, missed, out of order — see
//! `anfang_domain::patrol`) and raises a patrol alarm for every checkpoint that went wrong; and
//! daily completion per guard.
//!
//! Any guard's scan of a checkpoint counts for the round (a colleague may stand in); the round,
//! and so the report, belongs to the guard assigned when it was due.

use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::alarm::AlarmKind;
use anfang_domain::model::{DeviceKind, Role};
use anfang_domain::patrol::{CheckpointOutcome, RoundPlan, RoundResult, RoundTimes, Scan, judge_round};
use anfang_store::*;
use serde_json::json;

/// Rounds are judged this long after they end, so scans uploaded late (a patrol wand docked
/// after the round) still count.
pub const JUDGE_GRACE_MS: i64 = 5 * 60_000;
/// How far back the job looks for rounds not judged yet (after a restart, say).
pub const LOOKBACK_MS: i64 = 48 * 3_600_000;

/// One checkpoint of a new route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteCheckpoint {
    /// The checkpoint device (kind `patrol_checkpoint`, in the route's community).
    pub device_id: i64,
    /// Minutes after the round's start it is due.
    pub offset_minutes: u32,
}

/// A new patrol route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRoute {
    /// Community.
    pub community_id: i64,
    /// Name, unique in the community.
    pub name: String,
    /// Checkpoints in walking order.
    pub checkpoints: Vec<RouteCheckpoint>,
    /// Round times, `DAYS HH:MM[,HH:MM…]` (local time).
    pub times: String,
    /// The guard who walks it.
    pub guard_user_id: Option<i64>,
    /// How long a round may take, minutes.
    pub window_minutes: u32,
    /// How late a scan may be, minutes.
    pub tolerance_minutes: u32,
}

/// A checkpoint as the console shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointView {
    /// Device id.
    pub device_id: i64,
    /// Device code.
    pub code: String,
    /// Device name.
    pub name: String,
    /// Minutes after the start it is due.
    pub offset_minutes: u32,
}

/// A route with its checkpoints named.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteView {
    /// The route.
    pub route: PatrolRouteRow,
    /// Its checkpoints in order.
    pub checkpoints: Vec<CheckpointView>,
    /// The assigned guard's display name.
    pub guard_name: Option<String>,
}

/// One guard's day.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardDay {
    /// The guard (none: rounds of routes without a guard).
    pub guard_user_id: Option<i64>,
    /// Their display name.
    pub guard_name: Option<String>,
    /// Their rounds, summed.
    pub completion: anfang_domain::patrol::DailyCompletion,
}

/// Decodes a route's stored checkpoints: (device id, minutes after the start), in order.
pub fn route_checkpoints(route: &PatrolRouteRow) -> AppResult<Vec<(i64, u32)>> {
    serde_json::from_str(&route.checkpoints)
        .map_err(|e| AppError::Internal(format!("patrol route {}: {e}", route.id)))
}

fn plan_of(route: &PatrolRouteRow) -> AppResult<RoundPlan> {
    Ok(RoundPlan {
        checkpoints: route_checkpoints(route)?,
        window_minutes: u32::try_from(route.window_minutes).unwrap_or(60),
        tolerance_minutes: u32::try_from(route.tolerance_minutes).unwrap_or(0),
    })
}

impl App {
    /// Creates a patrol route (property staff and administrators, in their scope).
    pub async fn create_patrol_route(&self, who: &Principal, req: &CreateRoute) -> AppResult<RouteView> {
        who.require(Permission::ManagePatrol)?;
        who.scope.check_whole_community(req.community_id, "community")?;
        let name = crate::registry::text("name", &req.name, 64)?;
        let times = RoundTimes::parse(&req.times).map_err(|e| AppError::field("times", e))?;
        let plan = RoundPlan {
            checkpoints: req
                .checkpoints
                .iter()
                .map(|c| (c.device_id, c.offset_minutes))
                .collect(),
            window_minutes: req.window_minutes,
            tolerance_minutes: req.tolerance_minutes,
        };
        plan.validate().map_err(|e| AppError::field("checkpoints", e))?;
        let mut tx = self.store.write().await?;
        tx.community(req.community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        for c in &req.checkpoints {
            let device = tx.device(c.device_id).await?;
            let fits = device.as_ref().is_some_and(|d| {
                d.community_id == Some(req.community_id)
                    && DeviceKind::parse(&d.kind) == Ok(DeviceKind::PatrolCheckpoint)
            });
            if !fits {
                return Err(AppError::invalid(
                    "invalid_checkpoint",
                    "checkpoints",
                    format!(
                        "device {} is not a patrol checkpoint of this community",
                        c.device_id
                    ),
                ));
            }
        }
        if let Some(guard) = req.guard_user_id {
            let user = tx.user(guard).await?;
            if !user.is_some_and(|u| matches!(Role::parse(&u.role), Ok(Role::Guard | Role::PropertyManager)))
            {
                return Err(AppError::invalid(
                    "invalid_guard",
                    "guard_user_id",
                    format!("user {guard} is not a guard"),
                ));
            }
        }
        let now = self.clock.now_ms();
        let id = tx
            .insert_patrol_route(&PatrolRouteRow {
                id: 0,
                community_id: req.community_id,
                name: name.clone(),
                checkpoints: json!(plan.checkpoints).to_string(),
                times: times.to_string(),
                guard_user_id: req.guard_user_id,
                window_minutes: i64::from(req.window_minutes),
                tolerance_minutes: i64::from(req.tolerance_minutes),
                active: true,
                created_at: now,
                created_by: who.actor(),
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => AppError::Conflict {
                    code: "duplicate_route",
                    message: format!("the community has a route named {name} already"),
                },
                other => other.into(),
            })?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "patrol.route_create",
                &format!("patrol_route:{id}"),
                json!({"community": req.community_id, "checkpoints": plan.checkpoints.len(), "times": times.to_string()}),
            )
            .await?;
        let route = tx.patrol_route(id).await?.ok_or(AppError::NotFound {
            entity: "patrol route",
        })?;
        let view = self.route_view(&mut tx, route).await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(view)
    }

    async fn route_view(&self, tx: &mut Box<dyn Tx>, route: PatrolRouteRow) -> AppResult<RouteView> {
        let mut checkpoints = Vec::new();
        for (device_id, offset_minutes) in route_checkpoints(&route)? {
            let device = tx.device(device_id).await?;
            checkpoints.push(CheckpointView {
                device_id,
                code: device.as_ref().map(|d| d.code.clone()).unwrap_or_default(),
                name: device.map(|d| d.name).unwrap_or_default(),
                offset_minutes,
            });
        }
        let guard_name = match route.guard_user_id {
            Some(id) => tx.user(id).await?.map(|u| u.display_name),
            None => None,
        };
        Ok(RouteView {
            route,
            checkpoints,
            guard_name,
        })
    }

    /// Patrol routes in the caller's scope (one community when given).
    pub async fn patrol_routes(
        &self,
        who: &Principal,
        community_id: Option<i64>,
    ) -> AppResult<Vec<RouteView>> {
        who.require(Permission::ReadAlarms)?;
        let ids = match community_id {
            Some(id) => {
                who.scope.check_community(id, "community")?;
                Some(vec![id])
            }
            None => who.scope.filter().community_ids,
        };
        let mut tx = self.store.read().await?;
        let routes = tx.list_patrol_routes(ids.as_ref(), false).await?;
        let mut out = Vec::with_capacity(routes.len());
        for route in routes {
            out.push(self.route_view(&mut tx, route).await?);
        }
        Ok(out)
    }

    /// Stops (or resumes) a route's rounds; judged rounds stay.
    pub async fn set_patrol_route_active(&self, who: &Principal, id: i64, active: bool) -> AppResult<()> {
        who.require(Permission::ManagePatrol)?;
        let mut tx = self.store.write().await?;
        let route = tx.patrol_route(id).await?.ok_or(AppError::NotFound {
            entity: "patrol route",
        })?;
        who.scope
            .check_whole_community(route.community_id, "patrol route")?;
        tx.set_patrol_route_active(id, active).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                if active {
                    "patrol.route_resume"
                } else {
                    "patrol.route_stop"
                },
                &format!("patrol_route:{id}"),
                json!({}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await
    }

    /// Records a scan reported by `reader` (a patrol wand, or an online checkpoint reporting
    /// its own scans). The checkpoint is named by device code or name; the guard by user id or
    /// login. Unknown names are kept as given (the scan still shows in the history).
    pub(crate) async fn record_patrol_scan(
        &self,
        tx: &mut Box<dyn Tx>,
        reader: &DeviceRow,
        event_id: &str,
        at: i64,
        checkpoint_ref: &str,
        guard_ref: &str,
    ) -> AppResult<i64> {
        let community_id = reader.community_id.ok_or_else(|| {
            AppError::invalid(
                "unassigned_device",
                "device",
                "the device is not assigned to a community yet",
            )
        })?;
        let is_checkpoint = |d: &DeviceRow| {
            d.community_id == Some(community_id) && d.kind == DeviceKind::PatrolCheckpoint.as_str()
        };
        let checkpoint_ref = checkpoint_ref.trim();
        let checkpoint_id =
            if is_checkpoint(reader) && (checkpoint_ref.is_empty() || checkpoint_ref == reader.code) {
                Some(reader.id)
            } else {
                match tx.device_by_code(checkpoint_ref).await? {
                    Some(d) if is_checkpoint(&d) => Some(d.id),
                    _ => {
                        let filter = Filter {
                            community_id: Some(community_id),
                            ..Filter::default()
                        };
                        tx.list_devices(&filter, Page::ALL)
                            .await?
                            .items
                            .into_iter()
                            .find(|d| is_checkpoint(d) && d.name == checkpoint_ref)
                            .map(|d| d.id)
                    }
                }
            };
        let guard_ref = guard_ref.trim();
        let guard = match guard_ref.parse::<i64>() {
            Ok(id) => tx.user(id).await?,
            Err(_) => tx.user_by_name(guard_ref).await?,
        };
        if checkpoint_id.is_none() {
            metrics::counter!("anfang_patrol_unknown_checkpoint_total").increment(1);
        }
        Ok(tx
            .insert_patrol_scan(&PatrolScanRow {
                id: 0,
                community_id,
                checkpoint_id,
                checkpoint_ref: checkpoint_ref.chars().take(64).collect(),
                reader_id: reader.id,
                guard_ref: guard_ref.chars().take(64).collect(),
                guard_user_id: guard.map(|u| u.id),
                at,
                event_id: event_id.to_string(),
            })
            .await?)
    }

    /// Judges every round whose time (plus [`JUDGE_GRACE_MS`]) is over and that is not judged
    /// yet, and raises a patrol alarm per checkpoint missed, late or out of order. Returns the
    /// rounds judged. Reads first and writes only when a round is due.
    pub async fn judge_patrol_rounds(&self) -> AppResult<usize> {
        let now = self.clock.now_ms();
        let mut due = Vec::new();
        {
            let mut tx = self.store.read().await?;
            for route in tx.list_patrol_routes(None, true).await? {
                let Ok(times) = RoundTimes::parse(&route.times) else {
                    tracing::warn!(route = route.id, "patrol route with unreadable times skipped");
                    continue;
                };
                let plan = plan_of(&route)?;
                let since = route.created_at.max(now - LOOKBACK_MS);
                let window = plan.end_of(0) + JUDGE_GRACE_MS;
                let judged = tx.patrol_round_starts(route.id, since).await?;
                for start in times.starts_between(since, now - window + 1) {
                    if !judged.contains(&start) {
                        due.push((route.clone(), plan.clone(), start));
                    }
                }
            }
        }
        if due.is_empty() {
            return Ok(0);
        }
        let mut tx = self.store.write().await?;
        let mut judged = 0;
        let mut live = Vec::new();
        for (route, plan, start) in due {
            let end = plan.end_of(start);
            let scans: Vec<Scan> = tx
                .patrol_scans(route.community_id, plan.earliest_scan(start), end)
                .await?
                .into_iter()
                .filter_map(|s| {
                    Some(Scan {
                        checkpoint: s.checkpoint_id?,
                        at: s.at,
                    })
                })
                .collect();
            let result = judge_round(&plan, start, &scans);
            let Some(round_id) = self
                .store_round(&mut tx, &route, start, end, &result, now)
                .await?
            else {
                continue;
            };
            judged += 1;
            metrics::counter!("anfang_patrol_rounds_total", "status" => result.status()).increment(1);
            for problem in result.problems() {
                let zone = format!(
                    "{} 第{}点 {}",
                    route.name,
                    problem.seq + 1,
                    problem.outcome.label_zh()
                );
                let raised = self
                    .raise_alarm(
                        &mut tx,
                        &crate::alarms::RaiseAlarm {
                            kind: AlarmKind::PatrolMissed,
                            reported: None,
                            device_id: Some(problem.checkpoint),
                            community_id: Some(route.community_id),
                            place_id: None,
                            zone: Some(zone.clone()),
                            source: "patrol",
                            source_ref: Some(format!("round:{round_id}")),
                            at: end,
                            snapshot_key: None,
                        },
                    )
                    .await?;
                if let Some(device) = tx.device(problem.checkpoint).await? {
                    live.push(crate::live::LiveEvent::alarm(
                        &raised,
                        AlarmKind::PatrolMissed,
                        &device,
                        Some(&zone),
                        end,
                    ));
                }
            }
        }
        self.commit_events(tx, live).await?;
        Ok(judged)
    }

    async fn store_round(
        &self,
        tx: &mut Box<dyn Tx>,
        route: &PatrolRouteRow,
        start: i64,
        end: i64,
        result: &RoundResult,
        now: i64,
    ) -> AppResult<Option<i64>> {
        let detail: Vec<_> = result
            .checkpoints
            .iter()
            .map(|c| {
                json!({
                    "device_id": c.checkpoint,
                    "seq": c.seq,
                    "due_at": c.due_at,
                    "scanned_at": c.scanned_at,
                    "outcome": c.outcome.as_str(),
                })
            })
            .collect();
        let n = |o| i64::try_from(result.count(o)).unwrap_or(i64::MAX);
        Ok(tx
            .insert_patrol_round(&PatrolRoundRow {
                id: 0,
                route_id: route.id,
                community_id: route.community_id,
                guard_user_id: route.guard_user_id,
                start_at: start,
                end_at: end,
                status: result.status().into(),
                on_time: n(CheckpointOutcome::OnTime),
                late: n(CheckpointOutcome::Late),
                missed: n(CheckpointOutcome::Missed),
                out_of_order: n(CheckpointOutcome::OutOfOrder),
                detail: json!(detail).to_string(),
                evaluated_at: now,
            })
            .await?)
    }

    /// The judged rounds of one local day in the caller's scope (one community when given).
    pub async fn patrol_rounds(
        &self,
        who: &Principal,
        community_id: Option<i64>,
        day: chrono::NaiveDate,
    ) -> AppResult<Vec<PatrolRoundRow>> {
        who.require(Permission::ReadAlarms)?;
        let ids = match community_id {
            Some(id) => {
                who.scope.check_community(id, "community")?;
                Some(vec![id])
            }
            None => who.scope.filter().community_ids,
        };
        let from = anfang_domain::patrol::day_start_ms(day);
        let mut tx = self.store.read().await?;
        Ok(tx
            .list_patrol_rounds(ids.as_ref(), from, from + 86_400_000)
            .await?)
    }

    /// Daily completion per guard for one local day (rounds that started that day).
    pub async fn patrol_report(
        &self,
        who: &Principal,
        community_id: Option<i64>,
        day: chrono::NaiveDate,
    ) -> AppResult<Vec<GuardDay>> {
        let rounds = self.patrol_rounds(who, community_id, day).await?;
        let mut days: Vec<GuardDay> = Vec::new();
        for round in rounds {
            let i = match days.iter().position(|d| d.guard_user_id == round.guard_user_id) {
                Some(i) => i,
                None => {
                    days.push(GuardDay {
                        guard_user_id: round.guard_user_id,
                        guard_name: None,
                        completion: Default::default(),
                    });
                    days.len() - 1
                }
            };
            let n = |v: i64| u32::try_from(v).unwrap_or(0);
            days[i].completion.add_counts([
                n(round.on_time),
                n(round.late),
                n(round.missed),
                n(round.out_of_order),
            ]);
        }
        let mut tx = self.store.read().await?;
        for d in &mut days {
            if let Some(id) = d.guard_user_id {
                d.guard_name = tx.user(id).await?.map(|u| u.display_name);
            }
        }
        days.sort_by(|a, b| a.guard_name.cmp(&b.guard_name));
        Ok(days)
    }
}
