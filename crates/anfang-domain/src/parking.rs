//! Temporary parking: the fee a visiting car owes, pairing an exit read with the entry it closes,
//! overstay detection and the yuan string printed on receipts. Pure: times are `i64` milliseconds
//! since the Unix epoch, and local time is China Standard Time (UTC+8, no daylight saving), so the
//! offset is a constant rather than a time-zone lookup.

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::plate::{normalize_plate, plate_edit_distance_le1};

const MINUTE_MS: i128 = 60_000;
const MINUTES_PER_DAY: u32 = 24 * 60;
const DAY_MS: i128 = MINUTES_PER_DAY as i128 * MINUTE_MS;
/// China Standard Time is UTC+8 all year, so local time is a fixed shift of UTC.
const CST_OFFSET_MS: i128 = 8 * 60 * MINUTE_MS;
/// The highest hourly rate a tariff may set (1,000 yuan/h); anything above is a typing error.
const MAX_RATE_CENTS_PER_HOUR: u32 = 100_000;
/// Below this confidence an exit read may be paired with a plate one character away.
const FUZZY_CONFIDENCE: f32 = 0.9;

/// A community's temporary-parking tariff for cars that are neither residents' nor pass holders'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tariff {
    /// A stay not longer than this is free; a longer stay is charged in full from entry.
    pub free_minutes: u32,
    /// Minutes after local midnight when the day rate starts (e.g. 420 for 07:00).
    pub day_start_minute: u32,
    /// Minutes after local midnight when the night rate starts (e.g. 1140 for 19:00).
    pub night_start_minute: u32,
    /// Day rate in cents per hour.
    pub day_rate_cents_per_hour: u32,
    /// Night rate in cents per hour.
    pub night_rate_cents_per_hour: u32,
    /// The most the units starting on one local calendar day may cost; 0 means no cap.
    pub daily_cap_cents: u32,
    /// Length of a billing unit in minutes; every started unit is charged in full.
    pub billing_unit_minutes: u32,
}

impl Default for Tariff {
    /// 15 free minutes, 3 yuan/h from 07:00 to 19:00, 1 yuan/h at night, at most 20 yuan per day,
    /// billed in half hours.
    fn default() -> Self {
        Self {
            free_minutes: 15,
            day_start_minute: 7 * 60,
            night_start_minute: 19 * 60,
            day_rate_cents_per_hour: 300,
            night_rate_cents_per_hour: 100,
            daily_cap_cents: 2000,
            billing_unit_minutes: 30,
        }
    }
}

impl Tariff {
    /// Checks the tariff (error code `invalid_tariff`): the billing unit is 1 to 1440 minutes
    /// (a longer unit would straddle the daily cap), the free period is at most a day (longer free
    /// parking is a pass, not a tariff), day and night start are distinct minutes below 1440, and
    /// both rates are at most 100,000 cents per hour.
    pub fn validate(&self) -> Result<(), DomainError> {
        let fail = |msg: String| Err(DomainError::new("invalid_tariff", msg));
        let unit = self.billing_unit_minutes;
        if !(1..=MINUTES_PER_DAY).contains(&unit) {
            return fail(format!("billing unit {unit} min is not 1 to 1440"));
        }
        if self.free_minutes > MINUTES_PER_DAY {
            return fail(format!("free period {} min exceeds a day", self.free_minutes));
        }
        for (name, minute) in [("day", self.day_start_minute), ("night", self.night_start_minute)] {
            if minute >= MINUTES_PER_DAY {
                return fail(format!("{name} start minute {minute} is not below 1440"));
            }
        }
        if self.day_start_minute == self.night_start_minute {
            return fail("day and night start at the same minute".into());
        }
        let rates = [
            ("day", self.day_rate_cents_per_hour),
            ("night", self.night_rate_cents_per_hour),
        ];
        for (name, rate) in rates {
            if rate > MAX_RATE_CENTS_PER_HOUR {
                return fail(format!("{name} rate {rate} cents/h exceeds the maximum"));
            }
        }
        Ok(())
    }
}

/// Division rounding towards positive infinity, for a positive divisor.
fn ceil_div(a: i128, b: i128) -> i128 {
    -(-a).div_euclid(b)
}

/// A tariff turned into milliseconds and per-unit prices, with out-of-range fields clamped so
/// that fee computation stays total even for a tariff that was never validated.
struct Plan {
    unit_ms: i128,
    day_from: i128,
    night_from: i128,
    day_unit: u128,
    night_unit: u128,
    cap: u128,
    /// Unit starts fall at the same times of day every `period_days` days.
    period_days: i128,
}

impl Plan {
    fn new(t: &Tariff) -> Self {
        let unit = t.billing_unit_minutes.clamp(1, MINUTES_PER_DAY);
        let unit_price = |rate: u32| (u128::from(rate) * u128::from(unit)).div_ceil(60);
        let gcd = (1..=unit)
            .rev()
            .find(|&g| unit.is_multiple_of(g) && MINUTES_PER_DAY.is_multiple_of(g))
            .unwrap_or(1);
        Self {
            unit_ms: i128::from(unit) * MINUTE_MS,
            day_from: i128::from(t.day_start_minute % MINUTES_PER_DAY) * MINUTE_MS,
            night_from: i128::from(t.night_start_minute % MINUTES_PER_DAY) * MINUTE_MS,
            day_unit: unit_price(t.day_rate_cents_per_hour),
            night_unit: unit_price(t.night_rate_cents_per_hour),
            cap: u128::from(t.daily_cap_cents),
            period_days: i128::from(unit / gcd),
        }
    }

    /// How many of the `units` unit starts `start + k * unit_ms` lie in local `[lo, hi)`.
    fn starts_in(&self, start: i128, units: i128, lo: i128, hi: i128) -> u128 {
        let from = ceil_div(lo - start, self.unit_ms).max(0);
        let to = ceil_div(hi - start, self.unit_ms).min(units);
        u128::try_from(to - from).unwrap_or(0)
    }

    /// The capped cost of the units starting on local day `day`.
    fn day_cost(&self, start: i128, units: i128, day: i128) -> u128 {
        let base = day * DAY_MS;
        let count = |lo: i128, hi: i128| self.starts_in(start, units, base + lo, base + hi);
        let all = count(0, DAY_MS);
        // When the day period wraps past midnight (day start after night start), it is the
        // complement of the night period.
        let day = if self.day_from <= self.night_from {
            count(self.day_from, self.night_from)
        } else {
            all - count(self.night_from, self.day_from)
        };
        let cost = day * self.day_unit + (all - day) * self.night_unit;
        if self.cap > 0 { cost.min(self.cap) } else { cost }
    }
}

/// The fee in cents for a stay from `entered_ms` to `exited_ms` under `tariff`.
///
/// Rules:
/// - A stay not longer than `free_minutes` is free. A longer stay is charged in full from entry:
///   the free minutes are a grace period for dropping someone off, not a deduction, which is the
///   common practice in Chinese residential car parks.
/// - The stay is cut into units of `billing_unit_minutes` starting at the entry time, and every
///   started unit is charged, to the millisecond (a 30-minute unit and a stay of 30 min 0.001 s
///   make two units). Each unit costs the rate in force at its start (day rate when its local
///   start minute is in `[day_start, night_start)` taken round the clock, night rate otherwise)
///   times the unit length / 60, rounded up to whole cents.
/// - The units starting on one local (UTC+8) calendar day cost at most `daily_cap_cents`, so a
///   unit running past midnight counts towards the day it starts on.
/// - Exit before entry costs 0. Arithmetic is in i128, so any `i64` inputs give a result
///   (saturating at `u64::MAX`) without panicking, in time bounded by the tariff, not the stay.
///
/// An invalid tariff (see [`Tariff::validate`]) never panics, but its fee is not meaningful.
pub fn parking_fee(tariff: &Tariff, entered_ms: i64, exited_ms: i64) -> u64 {
    let stay = i128::from(exited_ms) - i128::from(entered_ms);
    if stay <= i128::from(tariff.free_minutes) * MINUTE_MS {
        return 0;
    }
    let plan = Plan::new(tariff);
    let units = ceil_div(stay, plan.unit_ms);
    let start = i128::from(entered_ms) + CST_OFFSET_MS;
    let first_day = start.div_euclid(DAY_MS);
    let last_day = (start + (units - 1) * plan.unit_ms).div_euclid(DAY_MS);
    let mut total = plan.day_cost(start, units, first_day);
    if last_day > first_day {
        total += plan.day_cost(start, units, last_day);
        // Every day strictly between holds a full pattern of unit starts, and the pattern repeats
        // with the period, so a stay of years costs one period of work, not one step per day.
        let middle = last_day - first_day - 1;
        let (cycles, rest) = (middle / plan.period_days, middle % plan.period_days);
        let (mut cycle, mut prefix) = (0u128, 0u128);
        for i in 0..middle.min(plan.period_days) {
            let cost = plan.day_cost(start, units, first_day + 1 + i);
            cycle += cost;
            if i < rest {
                prefix += cost;
            }
        }
        let cycles = u128::try_from(cycles).unwrap_or(0);
        total = total
            .saturating_add(cycle.saturating_mul(cycles))
            .saturating_add(prefix);
    }
    u64::try_from(total).unwrap_or(u64::MAX)
}

/// A car that entered and has not left yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenSession {
    /// The session's record id.
    pub id: i64,
    /// The plate as the entry camera read it.
    pub plate: String,
    /// Entry time, ms since the Unix epoch.
    pub entered_ms: i64,
}

/// The open session an exit read closes, tolerating a single misread character.
///
/// An exact match on the normalized plate wins (the most recent entry if several, then the
/// highest id). Otherwise, and only when `exit_confidence < 0.9` (a NaN confidence counts as
/// sure), a session whose normalized plate differs in exactly one character matches if it is the
/// only such plate; two or more distinct plates one character away are ambiguous and give `None`
/// so that a guard decides. Sessions sharing one near plate are the same car, so the most recent
/// is taken. An exit plate that normalizes to nothing matches nothing.
pub fn match_exit<'a>(
    exit_plate: &str,
    exit_confidence: f32,
    open: &'a [OpenSession],
) -> Option<&'a OpenSession> {
    let exit = normalize_plate(exit_plate);
    if exit.is_empty() {
        return None;
    }
    let latest = |it: &mut dyn Iterator<Item = &'a OpenSession>| it.max_by_key(|s| (s.entered_ms, s.id));
    let exact = latest(&mut open.iter().filter(|s| normalize_plate(&s.plate) == exit));
    if exact.is_some() || exit_confidence.is_nan() || exit_confidence >= FUZZY_CONFIDENCE {
        return exact;
    }
    // No session equals the read, so a distance of at most one is exactly one here.
    let near: Vec<&OpenSession> = open
        .iter()
        .filter(|s| plate_edit_distance_le1(&s.plate, &exit))
        .collect();
    let first = normalize_plate(&near.first()?.plate);
    if near.iter().any(|s| normalize_plate(&s.plate) != first) {
        return None;
    }
    latest(&mut near.into_iter())
}

/// The sessions open longer than `limit_hours` at `now_ms`, longest first (then by id).
pub fn overstays(open: &[OpenSession], now_ms: i64, limit_hours: u32) -> Vec<&OpenSession> {
    let limit = i128::from(limit_hours) * 60 * MINUTE_MS;
    let mut long: Vec<&OpenSession> = open
        .iter()
        .filter(|s| i128::from(now_ms) - i128::from(s.entered_ms) > limit)
        .collect();
    long.sort_by_key(|s| (s.entered_ms, s.id));
    long
}

/// Cents as a yuan amount with two decimals (`1250` → `12.50`), for receipts and screens.
pub fn cents_to_yuan(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;
    const YEAR: i64 = 365 * 24 * HOUR;
    /// 2026-01-01T00:00:00+08:00.
    const Y2026: i64 = 1_767_196_800_000;

    /// Milliseconds of a local (UTC+8) wall-clock time in March 2026.
    fn cst(d: u32, h: u32, mi: u32) -> i64 {
        let t = FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 3, d, h, mi, 0);
        t.unwrap().timestamp_millis()
    }

    fn fee(entered: i64, exited: i64) -> u64 {
        parking_fee(&Tariff::default(), entered, exited)
    }

    /// The default tariff with one change.
    fn tweak(change: impl FnOnce(&mut Tariff)) -> Tariff {
        let mut t = Tariff::default();
        change(&mut t);
        t
    }

    /// Unit by unit, straight from the rules, to check the periodic shortcut against.
    fn reference_fee(t: &Tariff, entered: i64, exited: i64) -> u64 {
        let (entered, exited) = (i128::from(entered), i128::from(exited));
        if exited - entered <= i128::from(t.free_minutes) * MINUTE_MS {
            return 0;
        }
        let (ds, ns) = (t.day_start_minute, t.night_start_minute);
        let mut days: BTreeMap<i128, u128> = BTreeMap::new();
        let mut at = entered + CST_OFFSET_MS;
        while at < exited + CST_OFFSET_MS {
            let minute = u32::try_from(at.rem_euclid(DAY_MS) / MINUTE_MS).unwrap();
            let is_day = (ds..ns).contains(&minute) || (ds > ns && !(ns..ds).contains(&minute));
            let rate = [t.night_rate_cents_per_hour, t.day_rate_cents_per_hour][usize::from(is_day)];
            let price = (u128::from(rate) * u128::from(t.billing_unit_minutes)).div_ceil(60);
            *days.entry(at.div_euclid(DAY_MS)).or_default() += price;
            at += i128::from(t.billing_unit_minutes) * MINUTE_MS;
        }
        let cap = u128::from(t.daily_cap_cents);
        let total: u128 = days.values().map(|&c| if cap > 0 { c.min(cap) } else { c }).sum();
        u64::try_from(total).unwrap()
    }

    prop_compose! {
        fn valid_tariff()(free in 0u32..=60, ds in 0u32..1440, gap in 1u32..1440, day in 0u32..=100_000,
                          night in 0u32..=100_000, cap in 0u32..=5000, unit in 1u32..=240) -> Tariff {
            Tariff { free_minutes: free, day_start_minute: ds, night_start_minute: (ds + gap) % 1440,
                     day_rate_cents_per_hour: day, night_rate_cents_per_hour: night, daily_cap_cents: cap,
                     billing_unit_minutes: unit }
        }
    }

    #[test]
    fn default_tariff_is_valid_and_invalid_ones_are_refused() {
        assert_eq!(Tariff::default().validate(), Ok(()));
        let bad = [
            tweak(|t| t.billing_unit_minutes = 0),
            tweak(|t| t.billing_unit_minutes = 1441),
            tweak(|t| t.free_minutes = 1441),
            tweak(|t| t.night_start_minute = 7 * 60),
            tweak(|t| t.day_start_minute = 1440),
            tweak(|t| t.night_rate_cents_per_hour = 100_001),
        ];
        for t in bad {
            assert_eq!(t.validate().unwrap_err().code, "invalid_tariff", "{t:?}");
        }
    }

    #[test]
    fn grace_period_is_not_a_deduction() {
        let at = cst(10, 10, 0);
        assert_eq!(fee(at, at + 10 * MIN), 0);
        assert_eq!(fee(at, at + 15 * MIN), 0);
        assert_eq!(fee(at, at + 15 * MIN + 1), 150);
        assert_eq!(fee(at, at + 16 * MIN), 150);
        assert_eq!(fee(at, at + 30 * MIN), 150);
        assert_eq!(fee(at, at + 30 * MIN + 1), 300);
        assert_eq!(fee(at, at), 0);
        assert_eq!(fee(at, at - HOUR), 0);
    }

    #[test]
    fn the_rate_is_the_one_in_force_when_a_unit_starts() {
        // 18:30 starts a day unit, 19:00 a night unit; 06:30 night, 07:00 day.
        assert_eq!(fee(cst(10, 18, 30), cst(10, 19, 20)), 150 + 50);
        assert_eq!(fee(cst(10, 18, 45), cst(10, 19, 20)), 150 + 50);
        assert_eq!(fee(cst(10, 19, 0), cst(10, 19, 20)), 50);
        assert_eq!(fee(cst(10, 19, 0) - 1, cst(10, 19, 20)), 150);
        assert_eq!(fee(cst(10, 6, 30), cst(10, 7, 30)), 50 + 150);
        let odd = tweak(|t| t.billing_unit_minutes = 7);
        assert_eq!(parking_fee(&odd, cst(10, 10, 0), cst(10, 10, 20)), 3 * 35);
    }

    #[test]
    fn overnight_stay_hits_the_cap_on_both_days() {
        // Day one: 22 day units (3300) + 10 night units (500), capped at 2000; day two: 14 night
        // units (700) + 22 day units (3300), capped at 2000.
        assert_eq!(fee(cst(10, 8, 0), cst(11, 18, 0)), 4000);
        // Leaving at 02:00 uses 4 night units on day two, under the cap.
        assert_eq!(fee(cst(10, 8, 0), cst(11, 2, 0)), 2200);
        // The unit from 23:45 belongs to the day it starts on, which is already capped.
        assert_eq!(fee(cst(10, 8, 15), cst(11, 0, 15)), 2000);
        let t = tweak(|t| t.daily_cap_cents = 0);
        assert_eq!(parking_fee(&t, cst(10, 8, 0), cst(11, 2, 0)), 3300 + 500 + 200);
    }

    #[test]
    fn long_stays_cost_the_cap_per_day_and_do_not_overflow() {
        assert_eq!(fee(Y2026, Y2026 + YEAR), 365 * 2000);
        let t = tweak(|t| (t.day_rate_cents_per_hour, t.billing_unit_minutes) = (u32::MAX, 1));
        assert!(parking_fee(&t, i64::MIN, i64::MAX) > 0);
        assert_eq!(fee(i64::MAX, i64::MIN), 0);
    }

    fn session(id: i64, plate: &str, entered_ms: i64) -> OpenSession {
        OpenSession {
            id,
            plate: plate.into(),
            entered_ms,
        }
    }

    #[test]
    fn exact_match_wins_and_takes_the_latest_entry() {
        let mut open = vec![session(1, "鲁C·12345", 1), session(2, "鲁c 12345", 2)];
        open.push(session(3, "鲁C12346", 3));
        assert_eq!(match_exit("鲁C12345", 0.99, &open).map(|s| s.id), Some(2));
        assert_eq!(match_exit("鲁C12345", 0.1, &open).map(|s| s.id), Some(2));
    }

    #[test]
    fn one_misread_character_matches_only_when_unsure_and_unique() {
        let open = [session(1, "鲁C12345", 100), session(2, "京A88888", 200)];
        assert_eq!(match_exit("鲁C12845", 0.7, &open).map(|s| s.id), Some(1));
        assert_eq!(match_exit("鲁C12845", 0.9, &open), None);
        assert_eq!(match_exit("鲁C12845", f32::NAN, &open), None);
        assert_eq!(match_exit("鲁C12885", 0.5, &open), None);
        assert_eq!(match_exit("鲁C1234", 0.5, &open), None);
        assert_eq!(match_exit(" · ", 0.5, &open), None);
    }

    #[test]
    fn two_near_plates_are_ambiguous_but_one_car_twice_is_not() {
        let open = [session(1, "鲁C12345", 100), session(2, "鲁C12347", 200)];
        assert_eq!(match_exit("鲁C12346", 0.5, &open), None);
        let twice = [session(1, "鲁C12345", 100), session(2, "鲁C·12345", 200)];
        assert_eq!(match_exit("鲁C12346", 0.5, &twice).map(|s| s.id), Some(2));
    }

    #[test]
    fn overstays_are_listed_longest_first() {
        // Each session's id is its age in hours; exactly the limit is not yet an overstay.
        let open = [25, 48, 24, 1].map(|h| session(h, "鲁C12345", Y2026 - h * HOUR));
        let ids: Vec<i64> = overstays(&open, Y2026, 24).iter().map(|s| s.id).collect();
        assert_eq!(ids, [48, 25]);
    }

    #[test]
    fn cents_render_as_yuan() {
        assert_eq!(cents_to_yuan(0), "0.00");
        assert_eq!(cents_to_yuan(5), "0.05");
        assert_eq!(cents_to_yuan(1250), "12.50");
        assert_eq!(cents_to_yuan(u64::MAX), "184467440737095516.15");
    }

    proptest! {
        #[test]
        fn fee_matches_the_unit_by_unit_rules(t in valid_tariff(), entered in Y2026 - 100 * YEAR..Y2026 + 100 * YEAR,
                                              stay in -HOUR..20 * 24 * HOUR) {
            prop_assert_eq!(parking_fee(&t, entered, entered + stay), reference_fee(&t, entered, entered + stay));
        }

        #[test]
        fn fee_never_decreases_with_a_later_exit(t in valid_tariff(), entered in Y2026 - 100 * YEAR..Y2026 + 100 * YEAR,
                                                 a in 0..60 * 24 * HOUR, b in 0..60 * 24 * HOUR) {
            let (short, long) = (a.min(b), a.max(b));
            prop_assert!(parking_fee(&t, entered, entered + short) <= parking_fee(&t, entered, entered + long));
        }

        #[test]
        fn fee_is_at_most_the_cap_per_day_touched(t in valid_tariff(), cap in 1u32..=5000,
                                                  entered in Y2026 - 100 * YEAR..Y2026 + 100 * YEAR,
                                                  stay in 0..3 * YEAR) {
            let t = Tariff { daily_cap_cents: cap, ..t };
            let day = |ms: i64| (ms + 8 * HOUR).div_euclid(24 * HOUR);
            let touched = u64::try_from(day(entered + stay) - day(entered) + 1).unwrap();
            prop_assert!(parking_fee(&t, entered, entered + stay) <= touched * u64::from(cap));
        }

        #[test]
        fn fee_never_panics(t in valid_tariff(), a in Y2026 - 100 * YEAR..Y2026 + 100 * YEAR,
                            b in Y2026 - 100 * YEAR..Y2026 + 100 * YEAR, x in any::<i64>(), y in any::<i64>(),
                            raw in any::<[u32; 7]>()) {
            parking_fee(&t, a, b);
            let [free, ds, ns, day, night, cap, unit] = raw;
            let wild = Tariff { free_minutes: free, day_start_minute: ds, night_start_minute: ns,
                                day_rate_cents_per_hour: day, night_rate_cents_per_hour: night,
                                daily_cap_cents: cap, billing_unit_minutes: unit };
            parking_fee(&wild, x, y);
        }
    }
}
