//! Electronic patrol (电子巡查), with no I/O: a route's round times (`DAYS HH:MM,HH:MM` in local
//! time, UTC+8), and the judgement of one round from the scans that arrived — each checkpoint on
//! time, late, missed or out of order — and a guard's daily completion.
//!
//! A round starts at one of the route's times and lasts `window` minutes. Checkpoint `i` is due
//! `offset_i` minutes after the start and is late when scanned more than `tolerance` minutes
//! after that. A scan counts for a round when it falls between `tolerance` minutes before the
//! start and the round's end. Walking the route in order, a checkpoint scanned before one that
//! precedes it on the route was scanned is out of order.

use crate::DomainError;
use crate::model::string_enum;
use crate::schedule::{parse_days, parse_minute};
use chrono::{Datelike, NaiveDate, NaiveTime};

/// Milliseconds in a minute.
const MINUTE_MS: i64 = 60_000;
/// UTC+8, in milliseconds.
const CST_OFFSET_MS: i64 = 8 * 3600 * 1000;

fn patrol_error(message: impl Into<String>) -> DomainError {
    DomainError::new("invalid_patrol_plan", message)
}

string_enum!(
    /// How one checkpoint of a round went.
    CheckpointOutcome, "invalid_checkpoint_outcome", {
    /// 按时.
    OnTime => ("on_time", "按时"),
    /// 迟到.
    Late => ("late", "迟到"),
    /// 漏巡.
    Missed => ("missed", "漏巡"),
    /// 顺序错误.
    OutOfOrder => ("out_of_order", "顺序错误"),
});

/// When a route's rounds start: weekdays (bit 0 = Monday) and minutes of the day, local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundTimes {
    days: u8,
    starts: Vec<u16>,
}

impl RoundTimes {
    /// Parses `DAYS HH:MM[,HH:MM…]`, e.g. `1-7 08:00,14:00,22:00` (full-width punctuation
    /// accepted).
    pub fn parse(raw: &str) -> Result<RoundTimes, DomainError> {
        let text = raw.replace('，', ",").replace('：', ":");
        let (days, times) = text
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| patrol_error(format!("'{raw}' is not 'DAYS HH:MM[,HH:MM…]'")))?;
        let days = parse_days(days).map_err(|e| patrol_error(e.message))?;
        let mut starts = Vec::new();
        for t in times.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let minute = parse_minute(t).map_err(|e| patrol_error(e.message))?;
            if minute >= 24 * 60 {
                return Err(patrol_error(format!("'{t}' is not a start time")));
            }
            if !starts.contains(&minute) {
                starts.push(minute);
            }
        }
        if starts.is_empty() {
            return Err(patrol_error("a route needs at least one round time"));
        }
        starts.sort_unstable();
        Ok(RoundTimes { days, starts })
    }

    /// Round starts (ms since the epoch) on or after `from` and before `until`, oldest first.
    pub fn starts_between(&self, from: i64, until: i64) -> Vec<i64> {
        let mut out = Vec::new();
        if until <= from {
            return out;
        }
        let local_day = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms + CST_OFFSET_MS)
                .map(|d| d.date_naive())
                .unwrap_or_default()
        };
        let (mut day, last) = (local_day(from), local_day(until));
        while day <= last {
            if self.days & (1 << day.weekday().num_days_from_monday()) != 0 {
                let midnight = day_start_ms(day);
                for &m in &self.starts {
                    let at = midnight + i64::from(m) * MINUTE_MS;
                    if at >= from && at < until {
                        out.push(at);
                    }
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        out
    }
}

impl std::fmt::Display for RoundTimes {
    /// The canonical form: `1-7 08:00,20:00` (days as single numbers joined by commas).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days: Vec<String> = (0..7)
            .filter(|d| self.days & (1 << d) != 0)
            .map(|d| (d + 1).to_string())
            .collect();
        let times: Vec<String> = self
            .starts
            .iter()
            .map(|m| format!("{:02}:{:02}", m / 60, m % 60))
            .collect();
        write!(f, "{} {}", days.join(","), times.join(","))
    }
}

/// Midnight (UTC+8) of a local date, in ms since the epoch.
pub fn day_start_ms(day: NaiveDate) -> i64 {
    day.and_time(NaiveTime::MIN).and_utc().timestamp_millis() - CST_OFFSET_MS
}

/// A route's shape for judging one round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundPlan {
    /// Checkpoints in route order: (checkpoint id, minutes after the start it is due).
    pub checkpoints: Vec<(i64, u32)>,
    /// How long a round may take, minutes.
    pub window_minutes: u32,
    /// How late a scan may be before it counts as late, minutes.
    pub tolerance_minutes: u32,
}

impl RoundPlan {
    /// Checks the plan: at least one checkpoint, each once, due within the window, in order.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.checkpoints.is_empty() {
            return Err(patrol_error("a route needs at least one checkpoint"));
        }
        if self.checkpoints.len() > 100 {
            return Err(patrol_error("a route has at most 100 checkpoints"));
        }
        if !(1..=24 * 60).contains(&self.window_minutes) {
            return Err(patrol_error("a round lasts 1 minute to 24 hours"));
        }
        if self.tolerance_minutes > 240 {
            return Err(patrol_error("the tolerance is at most 240 minutes"));
        }
        let mut previous = 0;
        for (i, (id, offset)) in self.checkpoints.iter().enumerate() {
            if self.checkpoints[..i].iter().any(|(other, _)| other == id) {
                return Err(patrol_error(format!("checkpoint {id} is on the route twice")));
            }
            if *offset > self.window_minutes {
                return Err(patrol_error(format!(
                    "checkpoint {id} is due after the round ends ({offset} > {} minutes)",
                    self.window_minutes
                )));
            }
            if *offset < previous {
                return Err(patrol_error(format!(
                    "checkpoint {id} is due before the one preceding it on the route"
                )));
            }
            previous = *offset;
        }
        Ok(())
    }

    /// When a round starting at `start` ends (ms).
    pub fn end_of(&self, start: i64) -> i64 {
        start + i64::from(self.window_minutes) * MINUTE_MS
    }

    /// The earliest scan that counts for a round starting at `start` (ms).
    pub fn earliest_scan(&self, start: i64) -> i64 {
        start - i64::from(self.tolerance_minutes) * MINUTE_MS
    }
}

/// One scan: which checkpoint, when (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// The checkpoint.
    pub checkpoint: i64,
    /// When.
    pub at: i64,
}

/// How one checkpoint of a round went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointResult {
    /// The checkpoint.
    pub checkpoint: i64,
    /// Its place on the route (0-based).
    pub seq: usize,
    /// When it was due (ms).
    pub due_at: i64,
    /// When it was scanned (the first scan in the round), if it was.
    pub scanned_at: Option<i64>,
    /// The verdict.
    pub outcome: CheckpointOutcome,
}

/// A judged round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundResult {
    /// Per checkpoint, in route order.
    pub checkpoints: Vec<CheckpointResult>,
}

impl RoundResult {
    /// How many checkpoints had `outcome`.
    pub fn count(&self, outcome: CheckpointOutcome) -> usize {
        self.checkpoints.iter().filter(|c| c.outcome == outcome).count()
    }

    /// `complete` (every checkpoint on time), `irregular` (all scanned, some late or out of
    /// order) or `incomplete` (some missed).
    pub fn status(&self) -> &'static str {
        if self.count(CheckpointOutcome::Missed) > 0 {
            "incomplete"
        } else if self.count(CheckpointOutcome::OnTime) == self.checkpoints.len() {
            "complete"
        } else {
            "irregular"
        }
    }

    /// The checkpoints that went wrong.
    pub fn problems(&self) -> impl Iterator<Item = &CheckpointResult> {
        self.checkpoints
            .iter()
            .filter(|c| c.outcome != CheckpointOutcome::OnTime)
    }
}

/// Judges the round of `plan` that started at `start`, from `scans` (any order, any
/// checkpoints; those outside the round's time or route are ignored).
pub fn judge_round(plan: &RoundPlan, start: i64, scans: &[Scan]) -> RoundResult {
    let (from, until) = (plan.earliest_scan(start), plan.end_of(start));
    let first_scan = |checkpoint: i64| {
        scans
            .iter()
            .filter(|s| s.checkpoint == checkpoint && s.at >= from && s.at <= until)
            .map(|s| s.at)
            .min()
    };
    let tolerance = i64::from(plan.tolerance_minutes) * MINUTE_MS;
    let mut latest_so_far = i64::MIN;
    let checkpoints = plan
        .checkpoints
        .iter()
        .enumerate()
        .map(|(seq, &(checkpoint, offset))| {
            let due_at = start + i64::from(offset) * MINUTE_MS;
            let scanned_at = first_scan(checkpoint);
            let outcome = match scanned_at {
                None => CheckpointOutcome::Missed,
                Some(at) if at < latest_so_far => CheckpointOutcome::OutOfOrder,
                Some(at) if at > due_at + tolerance => CheckpointOutcome::Late,
                Some(_) => CheckpointOutcome::OnTime,
            };
            if let Some(at) = scanned_at {
                latest_so_far = latest_so_far.max(at);
            }
            CheckpointResult {
                checkpoint,
                seq,
                due_at,
                scanned_at,
                outcome,
            }
        })
        .collect();
    RoundResult { checkpoints }
}

/// A guard's day, summed over their judged rounds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DailyCompletion {
    /// Rounds due.
    pub rounds: u32,
    /// Rounds with every checkpoint on time.
    pub complete: u32,
    /// Checkpoints due.
    pub checkpoints: u32,
    /// On time.
    pub on_time: u32,
    /// Late.
    pub late: u32,
    /// Missed.
    pub missed: u32,
    /// Out of order.
    pub out_of_order: u32,
}

impl DailyCompletion {
    /// Adds one judged round.
    pub fn add(&mut self, round: &RoundResult) {
        let n = |o| u32::try_from(round.count(o)).unwrap_or(u32::MAX);
        self.add_counts([
            n(CheckpointOutcome::OnTime),
            n(CheckpointOutcome::Late),
            n(CheckpointOutcome::Missed),
            n(CheckpointOutcome::OutOfOrder),
        ]);
    }

    /// Adds one round as stored: its checkpoints on time, late, missed and out of order.
    pub fn add_counts(&mut self, [on_time, late, missed, out_of_order]: [u32; 4]) {
        self.rounds += 1;
        if late + missed + out_of_order == 0 {
            self.complete += 1;
        }
        self.checkpoints += on_time + late + missed + out_of_order;
        self.on_time += on_time;
        self.late += late;
        self.missed += missed;
        self.out_of_order += out_of_order;
    }

    /// Share of due checkpoints that were scanned at all (late or out of order included), 0–1.
    pub fn completion(&self) -> f64 {
        if self.checkpoints == 0 {
            return 1.0;
        }
        f64::from(self.checkpoints - self.missed) / f64::from(self.checkpoints)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-24 00:00 local time.
    fn midnight() -> i64 {
        day_start_ms(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap())
    }

    fn plan() -> RoundPlan {
        RoundPlan {
            checkpoints: vec![(1, 0), (2, 10), (3, 20)],
            window_minutes: 40,
            tolerance_minutes: 5,
        }
    }

    fn at(minutes: i64) -> i64 {
        midnight() + 8 * 3_600_000 + minutes * MINUTE_MS
    }

    #[test]
    fn round_times_parse_and_list_starts_in_local_time() {
        let t = RoundTimes::parse("1-7 20:00，08:00").unwrap();
        assert_eq!(t.to_string(), "1,2,3,4,5,6,7 08:00,20:00");
        let starts = t.starts_between(midnight(), midnight() + 86_400_000);
        assert_eq!(starts, vec![at(0), at(12 * 60)]);
        // 2026-11-24 is a Tuesday: a Monday-only route has no round that day.
        let monday = RoundTimes::parse("1 08:00").unwrap();
        assert!(
            monday
                .starts_between(midnight(), midnight() + 86_400_000)
                .is_empty()
        );
        assert_eq!(RoundTimes::parse("1-7").unwrap_err().code, "invalid_patrol_plan");
        assert!(RoundTimes::parse("1-7 25:00").is_err());
        assert!(RoundTimes::parse("8 08:00").is_err());
    }

    #[test]
    fn plans_are_checked() {
        assert!(plan().validate().is_ok());
        let mut p = plan();
        p.checkpoints.push((1, 30));
        assert!(p.validate().is_err());
        let mut p = plan();
        p.checkpoints[2].1 = 50;
        assert!(p.validate().is_err());
        let mut p = plan();
        p.checkpoints[1].1 = 30;
        assert!(p.validate().is_err());
        assert!(
            RoundPlan {
                checkpoints: vec![],
                ..plan()
            }
            .validate()
            .is_err()
        );
    }

    fn scans(list: &[(i64, i64)]) -> Vec<Scan> {
        list.iter()
            .map(|&(checkpoint, minute)| Scan {
                checkpoint,
                at: at(minute),
            })
            .collect()
    }

    #[test]
    fn a_round_walked_in_order_and_in_time_is_complete() {
        let r = judge_round(&plan(), at(0), &scans(&[(1, 1), (2, 12), (3, 24), (3, 30)]));
        assert_eq!(r.status(), "complete");
        assert_eq!(r.checkpoints[2].scanned_at, Some(at(24)));
        assert_eq!(r.problems().count(), 0);
    }

    #[test]
    fn missed_late_and_out_of_order_checkpoints_are_told_apart() {
        // Walked 1, 3, 2: walking the route, 3 was scanned before 2, which precedes it.
        let r = judge_round(&plan(), at(0), &scans(&[(1, 0), (3, 8), (2, 9)]));
        let outcomes: Vec<_> = r.checkpoints.iter().map(|c| c.outcome).collect();
        assert_eq!(
            outcomes,
            vec![
                CheckpointOutcome::OnTime,
                CheckpointOutcome::OnTime,
                CheckpointOutcome::OutOfOrder
            ]
        );
        assert_eq!(r.status(), "irregular");
        // 2 scanned 16 minutes after it was due (tolerance 5): late; 3 never: missed.
        let r = judge_round(&plan(), at(0), &scans(&[(1, 2), (2, 26)]));
        assert_eq!(r.checkpoints[1].outcome, CheckpointOutcome::Late);
        assert_eq!(r.checkpoints[2].outcome, CheckpointOutcome::Missed);
        assert_eq!(r.status(), "incomplete");
        // Scans outside the round (too early, after its end) do not count.
        let r = judge_round(&plan(), at(0), &scans(&[(1, -6), (2, 41), (3, -1)]));
        assert_eq!(r.count(CheckpointOutcome::Missed), 2);
        assert_eq!(r.checkpoints[2].outcome, CheckpointOutcome::OnTime);
    }

    #[test]
    fn a_day_sums_its_rounds() {
        let mut day = DailyCompletion::default();
        day.add(&judge_round(&plan(), at(0), &scans(&[(1, 1), (2, 11), (3, 21)])));
        day.add(&judge_round(&plan(), at(600), &scans(&[(1, 601)])));
        assert_eq!((day.rounds, day.complete, day.checkpoints), (2, 1, 6));
        assert_eq!((day.on_time, day.missed), (4, 2));
        assert!((day.completion() - 4.0 / 6.0).abs() < 1e-9);
    }
}
