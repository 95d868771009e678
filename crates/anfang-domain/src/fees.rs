//! Property fees (物业费): what a fee item costs a house over a billing period, proration for
//! moving in or out part-way, discounts and exemptions, utilities shared by meter readings, the
//! allocation of a payment to bills (oldest first) and of a refund back off them, the ageing
//! brackets of arrears, collection rates and receipt numbers. Pure: dates are local (China
//! Standard Time) calendar dates, amounts are integer fen (分) — no floating point anywhere an
//! amount is computed. The reasoning behind each rule is in `docs/design/fees.md`.
//!
//! Nothing here is an input of the access decision (`access.rs`): arrears never keep anyone out.

use crate::DomainError;
use crate::model::{HouseUse, string_enum};
use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The highest rate a price may set (100,000 yuan per unit); anything above is a typing error.
pub const MAX_RATE_FEN: i64 = 10_000_000;
/// The largest single payment, refund or adjustment (10 million yuan).
pub const MAX_AMOUNT_FEN: i64 = 1_000_000_000;
/// A whole discount (an exemption), in basis points.
pub const FULL_BP: u32 = 10_000;

string_enum!(
    /// What a fee item charges for, which decides how its amount is computed.
    FeeKind, "invalid_fee_kind", {
    /// 物业管理费: the rate is per m² of the house's area per month, by the house's use.
    PropertyManagement => ("property_management", "物业管理费"),
    /// A fixed monthly amount per house (垃圾清运费, 电梯运行费 …).
    Fixed => ("fixed", "固定费用"),
    /// 车位租金: a monthly rent for a parking space a house subscribes to (not a gate pass:
    /// monthly passes are sold by the parking module and open the gates).
    ParkingSpaceRent => ("parking_space_rent", "车位租金"),
    /// 公摊水电: a price per unit of a meter reading — a house's own meter, or a building's or
    /// the community's shared meter split among its houses by area.
    Utility => ("utility", "水电公摊"),
});

impl FeeKind {
    /// Whether every house of the community is charged (otherwise only houses subscribed to the
    /// item, or named by a meter reading).
    pub fn charges_every_house(self) -> bool {
        matches!(self, FeeKind::PropertyManagement | FeeKind::Fixed)
    }
}

string_enum!(
    /// How long a community's bills run.
    Cycle, "invalid_cycle", {
    /// A calendar month.
    Month => ("month", "月"),
    /// A calendar quarter.
    Quarter => ("quarter", "季"),
    /// A calendar year.
    Year => ("year", "年"),
});

string_enum!(
    /// How a payment was made.
    PayMethod, "invalid_method", {
    /// Cash at the property office.
    Cash => ("cash", "现金"),
    /// Bank transfer (reference kept).
    Transfer => ("transfer", "银行转账"),
    /// Online, confirmed by a payment provider's signed callback.
    Online => ("online", "在线支付"),
});

string_enum!(
    /// How long an unpaid amount has been overdue.
    AgeBracket, "invalid_bracket", {
    /// Not yet due.
    NotDue => ("not_due", "未到期"),
    /// 1 to 30 days past due.
    Days1To30 => ("1_30", "1-30天"),
    /// 31 to 90 days.
    Days31To90 => ("31_90", "31-90天"),
    /// 91 to 180 days.
    Days91To180 => ("91_180", "91-180天"),
    /// 181 to 365 days.
    Days181To365 => ("181_365", "181-365天"),
    /// More than a year.
    Over365 => ("over_365", "365天以上"),
});

/// The bracket of an amount due on `due_on`, seen on `today`.
pub fn age_bracket(due_on: NaiveDate, today: NaiveDate) -> AgeBracket {
    match (today - due_on).num_days() {
        ..=0 => AgeBracket::NotDue,
        1..=30 => AgeBracket::Days1To30,
        31..=90 => AgeBracket::Days31To90,
        91..=180 => AgeBracket::Days91To180,
        181..=365 => AgeBracket::Days181To365,
        _ => AgeBracket::Over365,
    }
}

/// A billing period: a calendar month (`2026-11`), quarter (`2026-Q4`) or year (`2026`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// Year and month (1–12).
    Month(i32, u32),
    /// Year and quarter (1–4).
    Quarter(i32, u32),
    /// A year.
    Year(i32),
}

impl Period {
    /// Parses `YYYY-MM`, `YYYY-Qn` or `YYYY` (years 2000 to 2099; error `invalid_period`).
    pub fn parse(raw: &str) -> Result<Period, DomainError> {
        let raw = raw.trim();
        let bad = || {
            DomainError::new(
                "invalid_period",
                format!("'{raw}' is not a period: use YYYY-MM, YYYY-Qn or YYYY (2000 to 2099)"),
            )
        };
        let year = |s: &str| {
            s.parse::<i32>()
                .ok()
                .filter(|y| s.len() == 4 && (2000..=2099).contains(y))
                .ok_or_else(bad)
        };
        match raw.split_once('-') {
            None => Ok(Period::Year(year(raw)?)),
            Some((y, q)) if q.starts_with('Q') || q.starts_with('q') => match &q[1..] {
                n @ ("1" | "2" | "3" | "4") => Ok(Period::Quarter(year(y)?, n.parse().map_err(|_| bad())?)),
                _ => Err(bad()),
            },
            Some((y, m)) => {
                let month = m
                    .parse::<u32>()
                    .ok()
                    .filter(|m2| m.len() == 2 && (1..=12).contains(m2))
                    .ok_or_else(bad)?;
                Ok(Period::Month(year(y)?, month))
            }
        }
    }

    /// The period of `cycle` holding `date`.
    pub fn containing(cycle: Cycle, date: NaiveDate) -> Period {
        match cycle {
            Cycle::Month => Period::Month(date.year(), date.month()),
            Cycle::Quarter => Period::Quarter(date.year(), date.month0() / 3 + 1),
            Cycle::Year => Period::Year(date.year()),
        }
    }

    /// The cycle this period belongs to.
    pub fn cycle(self) -> Cycle {
        match self {
            Period::Month(..) => Cycle::Month,
            Period::Quarter(..) => Cycle::Quarter,
            Period::Year(_) => Cycle::Year,
        }
    }

    /// The months it covers, in order, as (year, month).
    pub fn months(self) -> Vec<(i32, u32)> {
        match self {
            Period::Month(y, m) => vec![(y, m)],
            Period::Quarter(y, q) => (1..=3).map(|i| (y, (q - 1) * 3 + i)).collect(),
            Period::Year(y) => (1..=12).map(|m| (y, m)).collect(),
        }
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        let (y, m) = self.months()[0];
        first_of(y, m)
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        let (y, m) = *self.months().last().unwrap_or(&(2000, 1));
        last_of(y, m)
    }

    /// Whether it shares a day with `other`.
    pub fn overlaps(self, other: Period) -> bool {
        self.first_day() <= other.last_day() && other.first_day() <= self.last_day()
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Month(y, m) => write!(f, "{y}-{m:02}"),
            Period::Quarter(y, q) => write!(f, "{y}-Q{q}"),
            Period::Year(y) => write!(f, "{y}"),
        }
    }
}

/// The first day of a month (months outside 1–12 fall back to January 2000, never panic).
fn first_of(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
}

/// The last day of a month.
fn last_of(year: i32, month: u32) -> NaiveDate {
    let next = if month >= 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MIN)
}

/// The number of days in a month.
fn days_in_month(year: i32, month: u32) -> i64 {
    i64::from(last_of(year, month).day())
}

/// A price of a fee item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Fen per m² per month (property management), per month (fixed, parking space rent) or per
    /// metered unit (utility).
    pub rate_fen: i64,
    /// Rates for houses of a particular use (e.g. shops pay a higher management rate); houses of
    /// any other use pay `rate_fen`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub use_rates: BTreeMap<HouseUse, i64>,
}

impl Price {
    /// Checks every rate is 0 to [`MAX_RATE_FEN`] (error `invalid_price`).
    pub fn validate(&self) -> Result<(), DomainError> {
        let rates = std::iter::once(("rate_fen", self.rate_fen))
            .chain(self.use_rates.iter().map(|(u, r)| (u.as_str(), *r)));
        for (name, rate) in rates {
            if !(0..=MAX_RATE_FEN).contains(&rate) {
                return Err(DomainError::new(
                    "invalid_price",
                    format!("{name}: a rate is 0 to {MAX_RATE_FEN} fen"),
                ));
            }
        }
        Ok(())
    }

    /// The rate for a house of `use_kind`.
    pub fn rate_for(&self, use_kind: Option<HouseUse>) -> i64 {
        use_kind
            .and_then(|u| self.use_rates.get(&u).copied())
            .unwrap_or(self.rate_fen)
    }
}

/// A price and the day it takes effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricePoint {
    /// In force from this day until the next price's first day.
    pub effective_from: NaiveDate,
    /// The price.
    pub price: Price,
}

/// The price in force on `day`: the one with the latest `effective_from` not after it.
pub fn price_on(prices: &[PricePoint], day: NaiveDate) -> Option<&Price> {
    prices
        .iter()
        .filter(|p| p.effective_from <= day)
        .max_by_key(|p| p.effective_from)
        .map(|p| &p.price)
}

/// A discount or exemption of a house over some days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountSpan {
    /// How much is taken off, in basis points (10,000 = exempt).
    pub off_bp: u32,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive); `None`: open-ended.
    pub until: Option<NaiveDate>,
}

impl DiscountSpan {
    /// Whether it covers `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|u| day <= u)
    }
}

/// The largest discount in force on `day`, in basis points (discounts do not add up: a house
/// with two takes the better one).
pub fn discount_on(discounts: &[DiscountSpan], day: NaiveDate) -> u32 {
    discounts
        .iter()
        .filter(|d| d.covers(day))
        .map(|d| d.off_bp.min(FULL_BP))
        .max()
        .unwrap_or(0)
}

/// `a * b / c` rounded half up, for non-negative `a`, `b` and positive `c`, saturating.
fn mul_div_round(a: i64, b: i64, c: i64) -> i64 {
    if c <= 0 {
        return 0;
    }
    let (a, b, c) = (i128::from(a), i128::from(b), i128::from(c));
    i64::try_from((2 * a * b + c) / (2 * c)).unwrap_or(i64::MAX)
}

/// An area in m² as whole hundredths of a square metre: the registry keeps areas as measured
/// decimals; fees convert them once, here, and compute in integers from then on.
pub fn area_centi_m2(area_m2: f64) -> i64 {
    if area_m2.is_finite() && area_m2 > 0.0 {
        // Areas are far below 2^53 hundredths, so the conversion is exact to the hundredth.
        (area_m2 * 100.0).round().min(1e12) as i64
    } else {
        0
    }
}

/// The full-month amount of an item at `rate` for a house of `area_centi` hundredths of m²: the
/// area times the rate (property management, rounded half up to the fen) or the rate itself.
pub fn monthly_fen(kind: FeeKind, rate_fen: i64, area_centi: i64) -> i64 {
    match kind {
        FeeKind::PropertyManagement => mul_div_round(area_centi.max(0), rate_fen.max(0), 100),
        FeeKind::Fixed | FeeKind::ParkingSpaceRent => rate_fen.max(0),
        // Utilities are charged per reading, not per month.
        FeeKind::Utility => 0,
    }
}

/// A month's amount for `days` of its `days_in_month`, rounded half up to the fen; a whole month
/// is exactly the monthly amount.
pub fn prorate(monthly_fen: i64, days: i64, days_in_month: i64) -> i64 {
    mul_div_round(monthly_fen.max(0), days.clamp(0, days_in_month), days_in_month)
}

/// What one item costs one house over one period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Charge {
    /// Before discounts (fen).
    pub base_fen: i64,
    /// Taken off by discounts and exemptions (fen, at most `base_fen`).
    pub discount_fen: i64,
    /// Days charged.
    pub days: i64,
    /// Days in the period.
    pub period_days: i64,
}

impl Charge {
    /// What is owed: base minus discount.
    pub fn amount_fen(&self) -> i64 {
        self.base_fen - self.discount_fen
    }
}

/// What a house owes for a monthly-priced item (property management, fixed, parking space rent)
/// over `period`, charged for the days from `from` to `until` (inclusive: the house's move-in
/// and move-out, a subscription's dates), under `prices` and `discounts`.
///
/// Proration is by calendar days within each month: a month's amount times the days charged in
/// it over its days, rounded half up to the fen per month (and per price within a month when the
/// price changes part-way). A whole month costs exactly the monthly amount, so a full quarter is
/// three monthly amounts whatever the month lengths. Days before the first price cost nothing.
/// A discount takes its basis points off the days it covers, rounded half up per month and price.
pub fn periodic_charge(
    kind: FeeKind,
    prices: &[PricePoint],
    use_kind: Option<HouseUse>,
    area_centi: i64,
    period: Period,
    (from, until): (NaiveDate, NaiveDate),
    discounts: &[DiscountSpan],
) -> Charge {
    let mut charge = Charge {
        period_days: (period.last_day() - period.first_day()).num_days() + 1,
        ..Charge::default()
    };
    for (year, month) in period.months() {
        let lo = first_of(year, month).max(from);
        let hi = last_of(year, month).min(until);
        if lo > hi {
            continue;
        }
        let dim = days_in_month(year, month);
        // Cut the month's charged days where a price takes effect.
        let mut cuts: Vec<NaiveDate> = prices
            .iter()
            .map(|p| p.effective_from)
            .filter(|d| lo < *d && *d <= hi)
            .collect();
        cuts.sort();
        cuts.dedup();
        let mut start = lo;
        for end_exclusive in cuts.into_iter().chain(hi.succ_opt()) {
            let end = end_exclusive.pred_opt().unwrap_or(end_exclusive);
            let days = (end - start).num_days() + 1;
            if let Some(price) = price_on(prices, start) {
                let base = prorate(monthly_fen(kind, price.rate_for(use_kind), area_centi), days, dim);
                charge.base_fen += base;
                charge.discount_fen += discount_of(base, start, days, discounts);
            }
            charge.days += days;
            start = end_exclusive;
        }
    }
    charge.discount_fen = charge.discount_fen.min(charge.base_fen);
    charge
}

/// The discount on `base` charged for `days` days from `start`: each day's share of the base
/// times the discount in force that day, grouped by discount and rounded half up per group.
fn discount_of(base: i64, start: NaiveDate, days: i64, discounts: &[DiscountSpan]) -> i64 {
    if discounts.is_empty() || days <= 0 {
        return 0;
    }
    let mut by_bp: BTreeMap<u32, i64> = BTreeMap::new();
    let mut day = start;
    for _ in 0..days {
        let bp = discount_on(discounts, day);
        if bp > 0 {
            *by_bp.entry(bp).or_default() += 1;
        }
        day = day.checked_add_days(Days::new(1)).unwrap_or(day);
    }
    by_bp
        .into_iter()
        .map(|(bp, n)| mul_div_round(base, n * i64::from(bp), days * i64::from(FULL_BP)))
        .sum()
}

/// The charge for `units` of a metered utility at `rate_fen` per unit.
pub fn metered_fen(units: i64, rate_fen: i64) -> i64 {
    i64::try_from(i128::from(units.max(0)) * i128::from(rate_fen.max(0))).unwrap_or(i64::MAX)
}

/// Splits `total` fen in proportion to `weights` (areas) so that the shares add up to exactly
/// `total`: each gets the floor of its exact share, and the fen left over go one each to the
/// largest remainders (ties to the earlier entry). All weights zero: equal shares.
pub fn share_by_weight(total: i64, weights: &[i64]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let total = total.max(0);
    let sum: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    let (weights, sum): (Vec<i128>, i128) = if sum == 0 {
        (vec![1; weights.len()], weights.len() as i128)
    } else {
        (weights.iter().map(|w| i128::from((*w).max(0))).collect(), sum)
    };
    let exact: Vec<(i128, i128)> = weights
        .iter()
        .map(|w| (i128::from(total) * w / sum, i128::from(total) * w % sum))
        .collect();
    let mut shares: Vec<i64> = exact
        .iter()
        .map(|(q, _)| i64::try_from(*q).unwrap_or(0))
        .collect();
    let left = total - shares.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for i in order.into_iter().take(usize::try_from(left).unwrap_or(0)) {
        shares[i] += 1;
    }
    shares
}

/// A bill with something still to pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenBill {
    /// The bill.
    pub bill_id: i64,
    /// Its period's first day: the order of payment.
    pub period_start: NaiveDate,
    /// Still to pay (fen).
    pub outstanding_fen: i64,
}

/// How a payment is spread over bills.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allocation {
    /// (bill, amount) in the order paid.
    pub lines: Vec<(i64, i64)>,
    /// What no bill needed: the house's balance (prepayment).
    pub remainder_fen: i64,
}

/// Spreads `amount` over `bills`, the oldest period first (then the lowest id), each paid in
/// full before the next; what is left over is prepayment.
pub fn allocate(amount: i64, bills: &[OpenBill]) -> Allocation {
    let mut order: Vec<&OpenBill> = bills.iter().filter(|b| b.outstanding_fen > 0).collect();
    order.sort_by_key(|b| (b.period_start, b.bill_id));
    let mut left = amount.max(0);
    let mut lines = Vec::new();
    for bill in order {
        if left == 0 {
            break;
        }
        let paid = left.min(bill.outstanding_fen);
        lines.push((bill.bill_id, paid));
        left -= paid;
    }
    Allocation {
        lines,
        remainder_fen: left,
    }
}

/// What a payment paid towards one bill (net of earlier refunds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paid {
    /// The bill.
    pub bill_id: i64,
    /// Its period's first day.
    pub period_start: NaiveDate,
    /// Net amount (fen).
    pub amount_fen: i64,
}

/// Where a refund of `amount` of a payment comes from: first what the payment left as balance
/// (`unallocated`), then its bills, the newest period first — so a refund reopens as little old
/// debt as possible. Returns (from the balance, (bill, amount) taken back). The caller checks
/// `amount` is at most what the payment still holds.
pub fn refund_plan(amount: i64, unallocated: i64, paid: &[Paid]) -> (i64, Vec<(i64, i64)>) {
    let from_balance = amount.clamp(0, unallocated.max(0));
    let mut left = amount.max(0) - from_balance;
    let mut order: Vec<&Paid> = paid.iter().filter(|p| p.amount_fen > 0).collect();
    order.sort_by_key(|p| std::cmp::Reverse((p.period_start, p.bill_id)));
    let mut back = Vec::new();
    for p in order {
        if left == 0 {
            break;
        }
        let take = left.min(p.amount_fen);
        back.push((p.bill_id, take));
        left -= take;
    }
    (from_balance, back)
}

/// Collected over billed in basis points (rounded down), `None` when nothing was billed.
pub fn collection_rate_bp(collected_fen: i64, billed_fen: i64) -> Option<i64> {
    (billed_fen > 0).then(|| {
        i64::try_from(i128::from(collected_fen.max(0)) * 10_000 / i128::from(billed_fen)).unwrap_or(i64::MAX)
    })
}

/// A receipt number: the community's code, the year and the year's sequence number
/// (`370323001001-2026-000123`), gap-free per community and year.
pub fn receipt_number(community_code: &str, year: i32, seq: i64) -> String {
    format!("{community_code}-{year}-{seq:06}")
}

/// Fen as yuan with two decimals (`-1250` → `-12.50`).
pub fn fen_to_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A community's fee settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeeSettings {
    /// How long a bill runs.
    pub cycle: Cycle,
    /// Days after a period's first day until its bill is due.
    pub due_days: u32,
    /// Whether the periodic job makes each period's bills on its own.
    pub auto_generate: bool,
    /// Days past due before a house is reminded.
    pub remind_after_days: u32,
    /// Days between two reminders of one house.
    pub remind_every_days: u32,
}

impl Default for FeeSettings {
    /// Monthly bills due 30 days after the month starts, made by hand; reminders 30 days past
    /// due, at most every 30 days.
    fn default() -> Self {
        FeeSettings {
            cycle: Cycle::Month,
            due_days: 30,
            auto_generate: false,
            remind_after_days: 30,
            remind_every_days: 30,
        }
    }
}

impl FeeSettings {
    /// Checks the numbers (error `invalid_settings`): due 0 to 366 days after the period starts,
    /// reminders 1 to 3650 days past due and 1 to 365 days apart.
    pub fn validate(&self) -> Result<(), DomainError> {
        let fail = |m: &str| Err(DomainError::new("invalid_settings", m.to_string()));
        if self.due_days > 366 {
            return fail("due_days is 0 to 366");
        }
        if !(1..=3650).contains(&self.remind_after_days) {
            return fail("remind_after_days is 1 to 3650");
        }
        if !(1..=365).contains(&self.remind_every_days) {
            return fail("remind_every_days is 1 to 365");
        }
        Ok(())
    }

    /// When the bill of `period` is due.
    pub fn due_on(&self, period: Period) -> NaiveDate {
        let first = period.first_day();
        first
            .checked_add_days(Days::new(u64::from(self.due_days)))
            .unwrap_or(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn price(rate: i64) -> Price {
        Price {
            rate_fen: rate,
            use_rates: BTreeMap::new(),
        }
    }

    fn at(from: &str, rate: i64) -> PricePoint {
        PricePoint {
            effective_from: d(from),
            price: price(rate),
        }
    }

    fn month(p: &str) -> Period {
        Period::parse(p).unwrap()
    }

    #[test]
    fn periods_parse_print_and_span_their_days() {
        for raw in ["2026-11", "2026-Q4", "2026"] {
            assert_eq!(Period::parse(raw).unwrap().to_string(), raw);
        }
        assert_eq!(Period::parse("2026-q2").unwrap(), Period::Quarter(2026, 2));
        for bad in [
            "2026-13",
            "2026-1",
            "26-01",
            "2026-Q5",
            "1999",
            "2026-11-01",
            "",
            "x",
        ] {
            assert_eq!(Period::parse(bad).unwrap_err().code, "invalid_period", "{bad}");
        }
        let q = Period::Quarter(2026, 4);
        assert_eq!((q.first_day(), q.last_day()), (d("2026-10-01"), d("2026-12-31")));
        assert_eq!(Period::Month(2028, 2).last_day(), d("2028-02-29"));
        assert_eq!(
            Period::containing(Cycle::Quarter, d("2026-05-31")),
            Period::Quarter(2026, 2)
        );
        assert!(Period::Year(2026).overlaps(month("2026-07")));
        assert!(!month("2026-06").overlaps(Period::Quarter(2026, 3)));
    }

    #[test]
    fn management_fee_is_area_times_the_rate_of_the_use() {
        let p = Price {
            rate_fen: 150,
            use_rates: BTreeMap::from([(HouseUse::Commercial, 300)]),
        };
        assert_eq!(p.rate_for(Some(HouseUse::OwnerOccupied)), 150);
        assert_eq!(p.rate_for(Some(HouseUse::Commercial)), 300);
        // 88.5 m² at 1.50 yuan/m²: 132.75 yuan; 88.53 m² rounds 132.795 up to 132.80.
        assert_eq!(
            monthly_fen(FeeKind::PropertyManagement, 150, area_centi_m2(88.5)),
            13_275
        );
        assert_eq!(
            monthly_fen(FeeKind::PropertyManagement, 150, area_centi_m2(88.53)),
            13_280
        );
        assert_eq!(monthly_fen(FeeKind::Fixed, 2_000, 8_850), 2_000);
        assert_eq!(area_centi_m2(f64::NAN), 0);
        let json = r#"{"rate_fen":150,"use_rates":{"commercial":300}}"#;
        assert_eq!(serde_json::from_str::<Price>(json).unwrap(), p);
        assert!(serde_json::from_str::<Price>(r#"{"rate_fen":1,"use_rates":{"palace":3}}"#).is_err());
        assert_eq!(price(-1).validate().unwrap_err().code, "invalid_price");
    }

    #[test]
    fn a_whole_period_costs_whole_months_and_moving_in_prorates_by_day() {
        let prices = [at("2020-01-01", 10_000)];
        let charge = |period: &str, from: &str, until: &str| {
            periodic_charge(
                FeeKind::Fixed,
                &prices,
                None,
                0,
                month(period),
                (d(from), d(until)),
                &[],
            )
        };
        assert_eq!(charge("2026-02", "2000-01-01", "2099-12-31").base_fen, 10_000);
        assert_eq!(charge("2026-Q1", "2000-01-01", "2099-12-31").base_fen, 30_000);
        assert_eq!(charge("2026", "2000-01-01", "2099-12-31").base_fen, 120_000);
        // Moving in on 11-21: 10 of 30 days; moving out on 02-14: 14 of 28 days.
        let moved_in = charge("2026-11", "2026-11-21", "2099-12-31");
        assert_eq!(
            (moved_in.base_fen, moved_in.days, moved_in.period_days),
            (3_333, 10, 30)
        );
        assert_eq!(charge("2026-02", "2000-01-01", "2026-02-14").base_fen, 5_000);
        // In and out within a quarter: 2 days of January, all of February, 1 day of March.
        assert_eq!(
            charge("2026-Q1", "2026-01-30", "2026-03-01").base_fen,
            645 + 10_000 + 323
        );
        assert_eq!(
            charge("2026-11", "2026-12-01", "2099-12-31"),
            Charge {
                period_days: 30,
                ..Charge::default()
            }
        );
    }

    #[test]
    fn a_price_change_part_way_splits_the_month_and_none_before_the_first_price() {
        let prices = [at("2026-01-01", 3_000), at("2026-03-16", 6_200)];
        let c = periodic_charge(
            FeeKind::Fixed,
            &prices,
            None,
            0,
            month("2026-03"),
            (d("2000-01-01"), d("2099-12-31")),
            &[],
        );
        // 15 days at 30 yuan, 16 days at 62 yuan, of 31.
        assert_eq!(c.base_fen, 1_452 + 3_200);
        let early = periodic_charge(
            FeeKind::Fixed,
            &prices,
            None,
            0,
            month("2025-12"),
            (d("2000-01-01"), d("2099-12-31")),
            &[],
        );
        assert_eq!((early.base_fen, early.days), (0, 31));
    }

    #[test]
    fn discounts_take_off_their_days_and_the_better_one_wins() {
        let prices = [at("2020-01-01", 9_000)];
        let charge = |discounts: &[DiscountSpan]| {
            periodic_charge(
                FeeKind::Fixed,
                &prices,
                None,
                0,
                month("2026-11"),
                (d("2000-01-01"), d("2099-12-31")),
                discounts,
            )
        };
        let exempt = DiscountSpan {
            off_bp: FULL_BP,
            from: d("2026-01-01"),
            until: None,
        };
        assert_eq!(charge(std::slice::from_ref(&exempt)).amount_fen(), 0);
        let half_for_ten_days = DiscountSpan {
            off_bp: 5_000,
            from: d("2026-11-21"),
            until: Some(d("2026-12-31")),
        };
        assert_eq!(
            charge(std::slice::from_ref(&half_for_ten_days)).discount_fen,
            1_500
        );
        let tenth = DiscountSpan {
            off_bp: 1_000,
            from: d("2026-11-01"),
            until: None,
        };
        // 20 days at 10 % and 10 days at 50 %: 600 + 1500.
        assert_eq!(charge(&[tenth, half_for_ten_days]).discount_fen, 600 + 1_500);
        assert_eq!(discount_on(&[exempt], d("2025-12-31")), 0);
    }

    #[test]
    fn payments_pay_the_oldest_bill_first_and_keep_the_rest() {
        let bills = [
            OpenBill {
                bill_id: 7,
                period_start: d("2026-11-01"),
                outstanding_fen: 100,
            },
            OpenBill {
                bill_id: 9,
                period_start: d("2026-10-01"),
                outstanding_fen: 50,
            },
            OpenBill {
                bill_id: 3,
                period_start: d("2026-12-01"),
                outstanding_fen: 0,
            },
        ];
        assert_eq!(
            allocate(120, &bills),
            Allocation {
                lines: vec![(9, 50), (7, 70)],
                remainder_fen: 0
            }
        );
        assert_eq!(allocate(30, &bills).lines, vec![(9, 30)]);
        assert_eq!(
            allocate(200, &bills),
            Allocation {
                lines: vec![(9, 50), (7, 100)],
                remainder_fen: 50
            }
        );
        assert_eq!(allocate(10, &[]).remainder_fen, 10);
    }

    #[test]
    fn refunds_take_the_balance_first_then_the_newest_bill() {
        let paid = [
            Paid {
                bill_id: 9,
                period_start: d("2026-10-01"),
                amount_fen: 50,
            },
            Paid {
                bill_id: 7,
                period_start: d("2026-11-01"),
                amount_fen: 100,
            },
        ];
        assert_eq!(refund_plan(30, 50, &paid), (30, vec![]));
        assert_eq!(refund_plan(80, 50, &paid), (50, vec![(7, 30)]));
        assert_eq!(refund_plan(200, 50, &paid), (50, vec![(7, 100), (9, 50)]));
    }

    #[test]
    fn ageing_brackets() {
        let due = d("2026-01-31");
        let seen = |s: &str| age_bracket(due, d(s));
        assert_eq!(seen("2026-01-31"), AgeBracket::NotDue);
        assert_eq!(seen("2026-02-01"), AgeBracket::Days1To30);
        assert_eq!(seen("2026-03-02"), AgeBracket::Days1To30);
        assert_eq!(seen("2026-03-03"), AgeBracket::Days31To90);
        assert_eq!(seen("2026-05-01"), AgeBracket::Days31To90);
        assert_eq!(seen("2026-05-02"), AgeBracket::Days91To180);
        assert_eq!(seen("2026-12-01"), AgeBracket::Days181To365);
        assert_eq!(seen("2027-02-01"), AgeBracket::Over365);
    }

    #[test]
    fn shares_add_up_exactly() {
        assert_eq!(share_by_weight(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(share_by_weight(1_000, &[8_850, 12_000, 0]), vec![424, 576, 0]);
        assert_eq!(share_by_weight(5, &[0, 0]), vec![3, 2]);
        assert!(share_by_weight(5, &[]).is_empty());
    }

    #[test]
    fn rates_receipts_yuan_and_settings() {
        assert_eq!(collection_rate_bp(2, 3), Some(6_666));
        assert_eq!(collection_rate_bp(1, 0), None);
        assert_eq!(
            receipt_number("370323001001", 2026, 123),
            "370323001001-2026-000123"
        );
        assert_eq!(fen_to_yuan(-1_250), "-12.50");
        assert_eq!(fen_to_yuan(5), "0.05");
        let s = FeeSettings::default();
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.due_on(month("2026-11")), d("2026-12-01"));
        let bad = FeeSettings {
            remind_every_days: 0,
            ..s.clone()
        };
        assert_eq!(bad.validate().unwrap_err().code, "invalid_settings");
        let parsed: FeeSettings = serde_json::from_str(r#"{"cycle":"quarter"}"#).unwrap();
        assert_eq!(parsed.cycle, Cycle::Quarter);
        assert!(serde_json::from_str::<FeeSettings>(r#"{"cycle":"week"}"#).is_err());
    }

    proptest! {
        #[test]
        fn shares_always_sum_to_the_total(total in 0i64..10_000_000, weights in proptest::collection::vec(0i64..100_000, 1..40)) {
            let shares = share_by_weight(total, &weights);
            prop_assert_eq!(shares.iter().sum::<i64>(), total);
            prop_assert!(shares.iter().all(|s| *s >= 0));
        }

        #[test]
        fn allocation_pays_out_exactly_the_amount(amount in 0i64..1_000_000, dues in proptest::collection::vec(0i64..100_000, 0..12)) {
            let bills: Vec<OpenBill> = dues.iter().enumerate().map(|(i, due)| OpenBill {
                bill_id: i as i64, period_start: d("2026-01-01") + Days::new(i as u64 * 31), outstanding_fen: *due }).collect();
            let a = allocate(amount, &bills);
            let paid: i64 = a.lines.iter().map(|l| l.1).sum();
            prop_assert_eq!(paid + a.remainder_fen, amount);
            for (id, paid) in &a.lines {
                prop_assert!(*paid <= bills[*id as usize].outstanding_fen);
            }
            prop_assert!(a.remainder_fen == 0 || paid == dues.iter().sum::<i64>());
        }

        #[test]
        fn proration_adds_up_across_a_split_month(monthly in 0i64..10_000_000, split in 1i64..30) {
            // Two halves of a month differ from the whole by at most a fen of rounding.
            let whole = prorate(monthly, 30, 30);
            let parts = prorate(monthly, split, 30) + prorate(monthly, 30 - split, 30);
            prop_assert_eq!(whole, monthly);
            prop_assert!((whole - parts).abs() <= 1);
        }
    }
}
