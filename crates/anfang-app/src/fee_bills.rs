//! Property fees: the bill job. Makes the bills of a period (month, quarter or year) for every
//! house of a community in one transaction: each active item's charge by the domain's rules —
//! management fees by area and use, fixed fees, rented parking spaces, metered and shared
//! utilities — prorated by day for moving in or out, less discounts and exemptions. One bill per
//! house and period (the store refuses a second, so the job can run again and again); a house
//! with a bill of an overlapping period is left out and listed; money the house paid ahead pays
//! the new bill at once. Each bill made is audited.

use crate::fees::{BillLine, price_points, stored_day};
use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::fees::{
    Charge, DiscountSpan, FeeKind, FeeSettings, Period, PricePoint, area_centi_m2, discount_on, fen_to_yuan,
    metered_fen, periodic_charge, price_on, share_by_weight,
};
use anfang_domain::model::HouseUse;
use anfang_store::*;
use chrono::NaiveDate;
use serde_json::json;
use std::collections::BTreeMap;

/// What a run of the bill job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateOutcome {
    /// The period.
    pub period: String,
    /// Bills made now.
    pub created: usize,
    /// Houses that had their bill already (a re-run).
    pub existing: usize,
    /// Houses with nothing to charge (moved out, no item applies).
    pub empty: usize,
    /// Houses left out because a bill of another period overlaps this one: (house, period).
    pub overlapping: Vec<(i64, String)>,
    /// The new bills' total (fen).
    pub total_fen: i64,
}

/// Everything the bill job needs of one community, read once.
struct Tariffs {
    settings: FeeSettings,
    items: Vec<(FeeItemRow, FeeKind, Vec<PricePoint>)>,
    houses: Vec<HouseRow>,
    terms: BTreeMap<i64, (NaiveDate, NaiveDate)>,
    subscriptions: Vec<FeeSubscriptionRow>,
    discounts: Vec<FeeDiscountRow>,
    readings: Vec<FeeReadingRow>,
}

impl Tariffs {
    /// The days a house is charged in `period`: its move-in/move-out within the period.
    fn window(&self, house_id: i64, period: Period) -> Option<(NaiveDate, NaiveDate)> {
        let (from, until) = self
            .terms
            .get(&house_id)
            .copied()
            .unwrap_or((NaiveDate::MIN, NaiveDate::MAX));
        let lo = from.max(period.first_day());
        let hi = until.min(period.last_day());
        (lo <= hi).then_some((lo, hi))
    }

    /// The discounts of a house that apply to `item_id`.
    fn discounts_of(&self, house_id: i64, item_id: i64) -> AppResult<Vec<DiscountSpan>> {
        self.discounts
            .iter()
            .filter(|d| d.house_id == house_id && d.item_id.is_none_or(|i| i == item_id))
            .map(|d| {
                Ok(DiscountSpan {
                    off_bp: u32::try_from(d.off_bp).unwrap_or(0),
                    from: stored_day(&d.start_on)?,
                    until: d.end_on.as_deref().map(stored_day).transpose()?,
                })
            })
            .collect()
    }
}

/// The use of a house as the pricing knows it (an unknown stored use prices at the base rate).
fn house_use(house: &HouseRow) -> Option<HouseUse> {
    HouseUse::parse(&house.use_kind).ok()
}

impl App {
    /// Makes the bills of `period` (`2026-11`, `2026-Q4`, `2026`) for every house of a
    /// community. Runs again without making a second bill; houses that have one for an
    /// overlapping period are left out and listed.
    pub async fn generate_bills(
        &self,
        who: &Principal,
        community_id: i64,
        period: &str,
    ) -> AppResult<GenerateOutcome> {
        who.require(Permission::ManageFees)?;
        let period = Period::parse(period).map_err(|e| AppError::field("period", e))?;
        who.scope.check_whole_community(community_id, "community")?;
        self.generate_bills_as(&who.actor(), community_id, period).await
    }

    /// The bill job for one community and period, as `actor`, in one transaction.
    pub(crate) async fn generate_bills_as(
        &self,
        actor: &str,
        community_id: i64,
        period: Period,
    ) -> AppResult<GenerateOutcome> {
        let mut tx = self.store.write().await?;
        tx.community(community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        let tariffs = self.tariffs(&mut tx, community_id, period).await?;
        let key = period.to_string();
        let mut outcome = GenerateOutcome {
            period: key.clone(),
            ..GenerateOutcome::default()
        };
        // Bills that may overlap: any period starting within a year before this one ends.
        let since = period.first_day() - chrono::Days::new(366);
        let existing = tx
            .fee_bills(
                &FeeBillFilter {
                    community_id: Some(community_id),
                    start_from: Some(since.to_string()),
                    start_until: Some(period.last_day().to_string()),
                    ..FeeBillFilter::default()
                },
                Page::ALL,
            )
            .await?
            .items;
        let shared = self.shared_utilities(&tariffs, period)?;
        let now = self.clock.now_ms();
        let mut last_audit = None;
        let mut billed_houses = Vec::new();
        for house in &tariffs.houses {
            let mine: Vec<&FeeBillRow> = existing.iter().filter(|b| b.house_id == house.id).collect();
            if mine.iter().any(|b| b.period == key) {
                outcome.existing += 1;
                continue;
            }
            if let Some(other) = mine.iter().find(|b| {
                b.period_start <= period.last_day().to_string()
                    && b.period_end >= period.first_day().to_string()
            }) {
                outcome.overlapping.push((house.id, other.period.clone()));
                continue;
            }
            let lines = self.bill_lines(&tariffs, house, period, &shared)?;
            if lines.is_empty() {
                outcome.empty += 1;
                continue;
            }
            let amount: i64 = lines.iter().map(|l| l.amount_fen).sum();
            let row = FeeBillRow {
                id: 0,
                community_id,
                building_id: house.building_id,
                house_id: house.id,
                period: key.clone(),
                period_start: period.first_day().to_string(),
                period_end: period.last_day().to_string(),
                due_on: tariffs.settings.due_on(period).to_string(),
                amount_fen: amount,
                adjusted_fen: 0,
                paid_fen: 0,
                lines: serde_json::to_string(&lines).map_err(|e| AppError::Internal(e.to_string()))?,
                created_at: now,
                created_by: actor.to_string(),
            };
            // A concurrent run that made this bill first wins; this one counts it as existing.
            let Some(id) = tx.insert_fee_bill(&row).await? else {
                outcome.existing += 1;
                continue;
            };
            outcome.created += 1;
            outcome.total_fen += amount;
            billed_houses.push(house.id);
            last_audit = Some(
                self.audit(
                    &mut tx,
                    actor,
                    "fees.bill_create",
                    &format!("fee_bill:{id}"),
                    json!({"house_id": house.id, "period": key, "amount_fen": amount,
                        "due_on": row.due_on, "lines": lines}),
                )
                .await?,
            );
        }
        // Money paid ahead pays the new bills.
        for house_id in billed_houses {
            if let Some(audit) = self.apply_balance(&mut tx, actor, house_id).await? {
                last_audit = Some(audit);
            }
        }
        self.commit(tx, last_audit.as_ref()).await?;
        Ok(outcome)
    }

    /// Reads what the bill job needs of a community.
    async fn tariffs(&self, tx: &mut Box<dyn Tx>, community_id: i64, period: Period) -> AppResult<Tariffs> {
        let settings = self.settings_of(tx, community_id).await?;
        let rows: Vec<FeeItemRow> = tx
            .fee_items(community_id)
            .await?
            .into_iter()
            .filter(|i| i.active)
            .collect();
        let ids: Vec<i64> = rows.iter().map(|i| i.id).collect();
        let prices = tx.fee_prices(&ids).await?;
        let mut items = Vec::new();
        for item in rows {
            let kind = FeeKind::parse(&item.kind).map_err(|e| AppError::Internal(e.message))?;
            let mine: Vec<FeePriceRow> = prices.iter().filter(|p| p.item_id == item.id).cloned().collect();
            items.push((item, kind, price_points(&mine)?));
        }
        let houses = tx
            .list_houses(
                &Filter {
                    community_id: Some(community_id),
                    ..Filter::default()
                },
                Page::ALL,
            )
            .await?
            .items;
        let mut terms = BTreeMap::new();
        for t in tx.fee_terms(community_id).await? {
            let from = t.billable_from.as_deref().map(stored_day).transpose()?;
            let until = t.billable_until.as_deref().map(stored_day).transpose()?;
            terms.insert(
                t.house_id,
                (from.unwrap_or(NaiveDate::MIN), until.unwrap_or(NaiveDate::MAX)),
            );
        }
        Ok(Tariffs {
            settings,
            items,
            houses,
            terms,
            subscriptions: tx.fee_subscriptions(community_id).await?,
            discounts: tx.fee_discounts(community_id, None).await?,
            readings: tx.fee_readings(community_id, &period.to_string()).await?,
        })
    }

    /// Each house's share of the shared meters' amounts: (item, house) → (fen, note). A shared
    /// amount is the reading times the price on the period's last day, split by area among the
    /// houses of the meter charged in the period.
    fn shared_utilities(
        &self,
        tariffs: &Tariffs,
        period: Period,
    ) -> AppResult<BTreeMap<(i64, i64), (i64, String)>> {
        let mut shares = BTreeMap::new();
        for reading in &tariffs.readings {
            if reading.target.starts_with("house:") {
                continue;
            }
            let Some((_, _, prices)) = tariffs.items.iter().find(|(i, _, _)| i.id == reading.item_id) else {
                continue;
            };
            let Some(price) = price_on(prices, period.last_day()) else {
                continue;
            };
            let building = reading
                .target
                .strip_prefix("building:")
                .and_then(|b| b.parse::<i64>().ok());
            let houses: Vec<&HouseRow> = tariffs
                .houses
                .iter()
                .filter(|h| building.is_none_or(|b| h.building_id == b))
                .filter(|h| tariffs.window(h.id, period).is_some())
                .collect();
            let total = metered_fen(reading.units, price.rate_fen);
            let weights: Vec<i64> = houses.iter().map(|h| area_centi_m2(h.area_m2)).collect();
            let split = share_by_weight(total, &weights);
            for (house, fen) in houses.iter().zip(split) {
                let note = format!(
                    "{} 公摊 {} 单位 × {} 元，按面积分摊 {:.2} m²",
                    if building.is_some() { "楼栋" } else { "小区" },
                    reading.units,
                    fen_to_yuan(price.rate_fen),
                    house.area_m2
                );
                shares.insert((reading.item_id, house.id), (fen, note));
            }
        }
        Ok(shares)
    }

    /// The lines of one house's bill for `period`.
    fn bill_lines(
        &self,
        tariffs: &Tariffs,
        house: &HouseRow,
        period: Period,
        shared: &BTreeMap<(i64, i64), (i64, String)>,
    ) -> AppResult<Vec<BillLine>> {
        let Some(window) = tariffs.window(house.id, period) else {
            return Ok(Vec::new());
        };
        let use_kind = house_use(house);
        let area = area_centi_m2(house.area_m2);
        let mut lines = Vec::new();
        for (item, kind, prices) in &tariffs.items {
            let discounts = tariffs.discounts_of(house.id, item.id)?;
            let line = |charge: Charge, note: String| BillLine {
                item_id: item.id,
                name: item.name.clone(),
                kind: *kind,
                base_fen: charge.base_fen,
                discount_fen: charge.discount_fen,
                amount_fen: charge.amount_fen(),
                days: charge.days,
                period_days: charge.period_days,
                note,
            };
            match kind {
                FeeKind::PropertyManagement | FeeKind::Fixed => {
                    let charge = periodic_charge(*kind, prices, use_kind, area, period, window, &discounts);
                    let rate = price_on(prices, window.1)
                        .map(|p| p.rate_for(use_kind))
                        .unwrap_or(0);
                    let note = if *kind == FeeKind::PropertyManagement {
                        format!(
                            "{:.2} m² × {} 元/m²·月，{}/{} 天",
                            house.area_m2,
                            fen_to_yuan(rate),
                            charge.days,
                            charge.period_days
                        )
                    } else {
                        format!(
                            "{} 元/月，{}/{} 天",
                            fen_to_yuan(rate),
                            charge.days,
                            charge.period_days
                        )
                    };
                    if charge.base_fen > 0 {
                        lines.push(line(charge, note));
                    }
                }
                FeeKind::ParkingSpaceRent => {
                    for sub in tariffs
                        .subscriptions
                        .iter()
                        .filter(|s| s.item_id == item.id && s.house_id == house.id)
                    {
                        let start = stored_day(&sub.start_on)?;
                        let end = sub.end_on.as_deref().map(stored_day).transpose()?;
                        let lo = window.0.max(start);
                        let hi = end.map_or(window.1, |e| window.1.min(e));
                        if lo > hi {
                            continue;
                        }
                        let charge =
                            periodic_charge(*kind, prices, use_kind, area, period, (lo, hi), &discounts);
                        if charge.base_fen > 0 {
                            let note =
                                format!("车位 {}，{}/{} 天", sub.label, charge.days, charge.period_days);
                            lines.push(line(charge, note));
                        }
                    }
                }
                FeeKind::Utility => {
                    let bp = i64::from(discount_on(&discounts, window.1));
                    let own = tariffs
                        .readings
                        .iter()
                        .find(|r| r.item_id == item.id && r.target == format!("house:{}", house.id));
                    let mut charges = Vec::new();
                    if let Some(reading) = own
                        && let Some(price) = price_on(prices, period.last_day())
                    {
                        let rate = price.rate_for(use_kind);
                        charges.push((
                            metered_fen(reading.units, rate),
                            format!("分户表 {} 单位 × {} 元", reading.units, fen_to_yuan(rate)),
                        ));
                    }
                    if let Some((fen, note)) = shared.get(&(item.id, house.id)) {
                        charges.push((*fen, note.clone()));
                    }
                    for (base, note) in charges.into_iter().filter(|(fen, _)| *fen > 0) {
                        let discount =
                            i64::try_from(i128::from(base) * i128::from(bp) / 10_000).unwrap_or(base);
                        let charge = Charge {
                            base_fen: base,
                            discount_fen: discount.min(base),
                            days: (window.1 - window.0).num_days() + 1,
                            period_days: (period.last_day() - period.first_day()).num_days() + 1,
                        };
                        lines.push(line(charge, note));
                    }
                }
            }
        }
        Ok(lines)
    }
}
