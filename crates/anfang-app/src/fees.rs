//! Property fees (物业费), part one: what a community charges and the bills. Fee items with
//! prices dated from a day on, the community's settings (cycle, due days, reminders), houses'
//! move-in and move-out, parking-space subscriptions, discounts and exemptions with a reason,
//! meter readings; the bills with their lines and adjustments (with a reason and who), and each
//! house's account. The bill job is in `fee_bills.rs`, payments and the cash book in
//! `fee_payments.rs`, online payments in `fee_online.rs`, arrears and reports in
//! `fee_reports.rs`.
//!
//! Fees are the property company's business: the permissions are [`Permission::ReadFees`],
//! [`Permission::ManageFees`] and [`Permission::CollectFees`], which no police or government
//! role holds; residents read their own house's bills through their house scope. Every change to
//! a bill is audited in the transaction that makes it. Nothing here reaches the access decision:
//! a house in arrears opens its doors like any other.

use crate::{App, AppError, AppResult, Permission, Principal};
pub use anfang_domain::fees::{
    AgeBracket, Cycle, FeeKind, FeeSettings, PayMethod, Price, PricePoint, fen_to_yuan,
};
use anfang_domain::fees::{MAX_AMOUNT_FEN, Period};
use anfang_domain::model::HouseUse;
use anfang_store::*;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// The actor of what the periodic job does.
pub const SYSTEM_ACTOR: &str = "system";

/// The China Standard Time calendar day of an instant.
pub fn cst_day(ms: i64) -> NaiveDate {
    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&cst).date_naive())
        .unwrap_or_default()
}

/// The instant a CST day starts.
pub fn cst_day_start_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis() - 8 * 3600 * 1000)
        .unwrap_or(0)
}

/// Parses a `YYYY-MM-DD` field.
pub(crate) fn parse_day(field: &str, value: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("invalid_date", field, "a date is YYYY-MM-DD"))
}

/// `start_on` and an optional `end_on` (not before it), as entered.
fn day_range(start_on: &str, end_on: Option<&str>) -> AppResult<(NaiveDate, Option<NaiveDate>)> {
    let start = parse_day("start_on", start_on)?;
    let end = end_on.map(|d| parse_day("end_on", d)).transpose()?;
    if end.is_some_and(|e| e < start) {
        return Err(AppError::invalid(
            "invalid_date",
            "end_on",
            "end_on is on or after start_on",
        ));
    }
    Ok((start, end))
}

/// A stored date (written by this module, so a bad one is a broken invariant).
pub(crate) fn stored_day(value: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| AppError::Internal(format!("stored date '{value}' is not YYYY-MM-DD")))
}

/// A required reason or label: 1 to `max` printable characters.
pub(crate) fn required_text(field: &str, value: &str, max: usize) -> AppResult<String> {
    crate::registry::text(field, value, max)
}

/// An amount of 1 fen to [`MAX_AMOUNT_FEN`].
pub(crate) fn positive_amount(field: &str, fen: i64) -> AppResult<i64> {
    if (1..=MAX_AMOUNT_FEN).contains(&fen) {
        Ok(fen)
    } else {
        Err(AppError::invalid(
            "invalid_amount",
            field,
            format!("an amount is 1 to {MAX_AMOUNT_FEN} fen"),
        ))
    }
}

/// A price from its wire form: the base rate and rates by house use (`owner_occupied`,
/// `rented`, `vacant`, `commercial` or their Chinese labels).
pub fn price_from(rate_fen: i64, use_rates: &BTreeMap<String, i64>) -> AppResult<Price> {
    let mut rates = BTreeMap::new();
    for (name, rate) in use_rates {
        let use_kind = HouseUse::parse(name).map_err(|e| AppError::field("use_rates", e))?;
        rates.insert(use_kind, *rate);
    }
    let price = Price {
        rate_fen,
        use_rates: rates,
    };
    price.validate().map_err(|e| AppError::field("rate_fen", e))?;
    Ok(price)
}

/// A fee item with its prices.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeItemView {
    /// The item.
    pub item: FeeItemRow,
    /// Its kind.
    pub kind: FeeKind,
    /// Its prices, oldest first.
    pub prices: Vec<PricePoint>,
}

/// A new fee item and its first price.
#[derive(Debug, Clone)]
pub struct NewFeeItem {
    /// Community.
    pub community_id: i64,
    /// Name (unique in the community).
    pub name: String,
    /// `property_management`, `fixed`, `parking_space_rent`, `utility`.
    pub kind: String,
    /// The first price.
    pub price: Price,
    /// From when, `YYYY-MM-DD`.
    pub effective_from: String,
}

/// A parking space (or another subscribed item) rented by a house.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    /// The item (of kind `parking_space_rent`).
    pub item_id: i64,
    /// The house.
    pub house_id: i64,
    /// The space number.
    pub label: String,
    /// First day.
    pub start_on: String,
    /// Last day (inclusive), if known.
    pub end_on: Option<String>,
}

/// A discount or exemption.
#[derive(Debug, Clone)]
pub struct NewDiscount {
    /// The house.
    pub house_id: i64,
    /// One item (`None`: every item).
    pub item_id: Option<i64>,
    /// Basis points off, 1 to 10,000 (exempt).
    pub off_bp: i64,
    /// First day.
    pub start_on: String,
    /// Last day (inclusive), if known.
    pub end_on: Option<String>,
    /// Why (required: 低保, 空置 …).
    pub reason: String,
}

/// A meter reading.
#[derive(Debug, Clone)]
pub struct NewReading {
    /// The utility item.
    pub item_id: i64,
    /// The period it is billed in.
    pub period: String,
    /// A building's shared meter.
    pub building_id: Option<i64>,
    /// A house's own meter (neither: the community's shared meter).
    pub house_id: Option<i64>,
    /// Units consumed.
    pub units: i64,
}

/// One line of a bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillLine {
    /// The item.
    pub item_id: i64,
    /// Its name at billing.
    pub name: String,
    /// Its kind.
    pub kind: FeeKind,
    /// Before discounts (fen).
    pub base_fen: i64,
    /// Discounts and exemptions (fen).
    pub discount_fen: i64,
    /// Owed (fen).
    pub amount_fen: i64,
    /// Days charged (periodic items).
    pub days: i64,
    /// Days in the period.
    pub period_days: i64,
    /// How it was reached, in words (area and rate, space, meter share).
    pub note: String,
}

/// A bill with its lines and history.
#[derive(Debug, Clone, PartialEq)]
pub struct BillView {
    /// The bill.
    pub bill: FeeBillRow,
    /// The house's address.
    pub address: String,
    /// Its lines.
    pub lines: Vec<BillLine>,
    /// Its adjustments.
    pub adjustments: Vec<FeeAdjustmentRow>,
    /// What paid it (negative rows: taken back by refunds).
    pub allocations: Vec<FeeAllocationRow>,
}

/// Which bills to list.
#[derive(Debug, Clone, Default)]
pub struct BillQuery {
    /// Community (required unless a house is named).
    pub community_id: Option<i64>,
    /// One house.
    pub house_id: Option<i64>,
    /// One period.
    pub period: Option<String>,
    /// Only bills with something to pay.
    pub open_only: bool,
}

/// A house's fee account: what it owes and paid.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseAccount {
    /// The house.
    pub house: HouseRow,
    /// Its move-in and move-out.
    pub terms: Option<FeeTermsRow>,
    /// Its bills, oldest first.
    pub bills: Vec<FeeBillRow>,
    /// Its payments, oldest first.
    pub payments: Vec<FeePaymentRow>,
    /// Its discounts.
    pub discounts: Vec<FeeDiscountRow>,
    /// Its subscriptions.
    pub subscriptions: Vec<FeeSubscriptionRow>,
    /// Still to pay over every bill (fen).
    pub outstanding_fen: i64,
    /// Paid ahead and not yet used by a bill (fen).
    pub balance_fen: i64,
}

impl App {
    /// Loads a community in `who`'s whole-community scope.
    pub(crate) async fn fee_community(
        &self,
        who: &Principal,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
    ) -> AppResult<CommunityRow> {
        who.scope.check_whole_community(community_id, "community")?;
        tx.community(community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })
    }

    /// Loads a house `who` may see (residents: their own).
    pub(crate) async fn fee_house(
        &self,
        who: &Principal,
        tx: &mut Box<dyn Tx>,
        house_id: i64,
    ) -> AppResult<HouseRow> {
        let house = tx
            .house(house_id)
            .await?
            .ok_or(AppError::NotFound { entity: "house" })?;
        if !who.scope.has_house(house.community_id, house.id) {
            return Err(AppError::NotFound { entity: "house" });
        }
        Ok(house)
    }

    /// A community's fee settings (the defaults until set).
    pub(crate) async fn settings_of(
        &self,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
    ) -> AppResult<FeeSettings> {
        match tx.fee_settings(community_id).await? {
            Some(body) => serde_json::from_str(&body)
                .map_err(|e| AppError::Internal(format!("stored fee settings: {e}"))),
            None => Ok(FeeSettings::default()),
        }
    }

    async fn item_view(&self, tx: &mut Box<dyn Tx>, item: FeeItemRow) -> AppResult<FeeItemView> {
        let prices = tx.fee_prices(&[item.id]).await?;
        Ok(FeeItemView {
            kind: FeeKind::parse(&item.kind).map_err(|e| AppError::Internal(e.message))?,
            prices: price_points(&prices)?,
            item,
        })
    }

    /// Loads an item of a community in `who`'s whole-community scope.
    async fn scoped_item(
        &self,
        who: &Principal,
        tx: &mut Box<dyn Tx>,
        item_id: i64,
    ) -> AppResult<FeeItemRow> {
        let item = tx
            .fee_item(item_id)
            .await?
            .ok_or(AppError::NotFound { entity: "fee item" })?;
        who.scope.check_whole_community(item.community_id, "fee item")?;
        Ok(item)
    }

    /// Adds a fee item with its first price.
    pub async fn create_fee_item(&self, who: &Principal, req: &NewFeeItem) -> AppResult<FeeItemView> {
        who.require(Permission::ManageFees)?;
        let name = required_text("name", &req.name, 40)?;
        let kind = FeeKind::parse(&req.kind).map_err(|e| AppError::field("kind", e))?;
        req.price.validate().map_err(|e| AppError::field("price", e))?;
        let from = parse_day("effective_from", &req.effective_from)?;
        let mut tx = self.store.write().await?;
        self.fee_community(who, &mut tx, req.community_id).await?;
        let now = self.clock.now_ms();
        let id = tx
            .insert_fee_item(&FeeItemRow {
                id: 0,
                community_id: req.community_id,
                name: name.clone(),
                kind: kind.as_str().into(),
                active: true,
                created_at: now,
                created_by: who.actor(),
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => AppError::Conflict {
                    code: "duplicate_name",
                    message: format!("the community has an item named {name} already"),
                },
                other => other.into(),
            })?;
        let body = serde_json::to_string(&req.price).map_err(|e| AppError::Internal(e.to_string()))?;
        tx.insert_fee_price(&FeePriceRow {
            id: 0,
            item_id: id,
            effective_from: from.to_string(),
            body: body.clone(),
            created_at: now,
            created_by: who.actor(),
        })
        .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "fees.item_create",
                &format!("fee_item:{id}"),
                json!({"community_id": req.community_id, "name": name, "kind": kind.as_str(),
                    "effective_from": from.to_string(), "price": req.price}),
            )
            .await?;
        let item = tx
            .fee_item(id)
            .await?
            .ok_or(AppError::NotFound { entity: "fee item" })?;
        let view = self.item_view(&mut tx, item).await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(view)
    }

    /// A community's fee items with their prices.
    pub async fn fee_items(&self, who: &Principal, community_id: i64) -> AppResult<Vec<FeeItemView>> {
        who.require(Permission::ReadFees)?;
        let mut tx = self.store.read().await?;
        self.fee_community(who, &mut tx, community_id).await?;
        let mut out = Vec::new();
        for item in tx.fee_items(community_id).await? {
            out.push(self.item_view(&mut tx, item).await?);
        }
        Ok(out)
    }

    /// Sets an item's price from a day on (bills already made keep theirs).
    pub async fn set_fee_price(
        &self,
        who: &Principal,
        item_id: i64,
        effective_from: &str,
        price: &Price,
    ) -> AppResult<FeeItemView> {
        who.require(Permission::ManageFees)?;
        price.validate().map_err(|e| AppError::field("price", e))?;
        let from = parse_day("effective_from", effective_from)?;
        let mut tx = self.store.write().await?;
        let item = self.scoped_item(who, &mut tx, item_id).await?;
        let body = serde_json::to_string(price).map_err(|e| AppError::Internal(e.to_string()))?;
        tx.insert_fee_price(&FeePriceRow {
            id: 0,
            item_id,
            effective_from: from.to_string(),
            body,
            created_at: self.clock.now_ms(),
            created_by: who.actor(),
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::Conflict {
                code: "price_exists",
                message: format!("the item has a price from {from} already"),
            },
            other => other.into(),
        })?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "fees.price_set",
                &format!("fee_item:{item_id}"),
                json!({"effective_from": from.to_string(), "price": price}),
            )
            .await?;
        let view = self.item_view(&mut tx, item).await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(view)
    }

    /// Includes an item in the next bills or leaves it out.
    pub async fn set_fee_item_active(
        &self,
        who: &Principal,
        item_id: i64,
        active: bool,
    ) -> AppResult<FeeItemView> {
        who.require(Permission::ManageFees)?;
        let mut tx = self.store.write().await?;
        let mut item = self.scoped_item(who, &mut tx, item_id).await?;
        tx.set_fee_item_active(item_id, active).await?;
        item.active = active;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "fees.item_active",
                &format!("fee_item:{item_id}"),
                json!({"active": active}),
            )
            .await?;
        let view = self.item_view(&mut tx, item).await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(view)
    }

    /// A community's fee settings.
    pub async fn fee_settings(&self, who: &Principal, community_id: i64) -> AppResult<FeeSettings> {
        who.require(Permission::ReadFees)?;
        let mut tx = self.store.read().await?;
        self.fee_community(who, &mut tx, community_id).await?;
        self.settings_of(&mut tx, community_id).await
    }

    /// Sets a community's fee settings.
    pub async fn set_fee_settings(
        &self,
        who: &Principal,
        community_id: i64,
        settings: &FeeSettings,
    ) -> AppResult<FeeSettings> {
        who.require(Permission::ManageFees)?;
        settings.validate().map_err(|e| AppError::field("settings", e))?;
        let body = serde_json::to_string(settings).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.store.write().await?;
        self.fee_community(who, &mut tx, community_id).await?;
        tx.set_fee_settings(community_id, &body, self.clock.now_ms(), &who.actor())
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "fees.settings",
                &format!("community:{community_id}"),
                json!({"settings": settings}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(settings.clone())
    }

    /// Sets when a house is charged: its move-in and move-out (either may be left open).
    pub async fn set_fee_terms(
        &self,
        who: &Principal,
        house_id: i64,
        billable_from: Option<&str>,
        billable_until: Option<&str>,
    ) -> AppResult<FeeTermsRow> {
        who.require(Permission::ManageFees)?;
        let from = billable_from.map(|d| parse_day("billable_from", d)).transpose()?;
        let until = billable_until
            .map(|d| parse_day("billable_until", d))
            .transpose()?;
        if let (Some(from), Some(until)) = (from, until)
            && until < from
        {
            return Err(AppError::invalid(
                "invalid_date",
                "billable_until",
                "move-out is on or after move-in",
            ));
        }
        let mut tx = self.store.write().await?;
        let house = self.fee_house(who, &mut tx, house_id).await?;
        who.scope.check_whole_community(house.community_id, "house")?;
        let row = FeeTermsRow {
            house_id,
            billable_from: from.map(|d| d.to_string()),
            billable_until: until.map(|d| d.to_string()),
            updated_at: self.clock.now_ms(),
            updated_by: who.actor(),
        };
        tx.set_fee_terms(&row).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "fees.terms",
                &format!("house:{house_id}"),
                json!({"billable_from": row.billable_from, "billable_until": row.billable_until}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// Rents a parking space (an item of kind `parking_space_rent`) to a house.
    pub async fn subscribe_fee(
        &self,
        who: &Principal,
        req: &NewSubscription,
    ) -> AppResult<FeeSubscriptionRow> {
        who.require(Permission::ManageFees)?;
        let label = required_text("label", &req.label, 32)?;
        let (start, end) = day_range(&req.start_on, req.end_on.as_deref())?;
        let mut tx = self.store.write().await?;
        let item = self.scoped_item(who, &mut tx, req.item_id).await?;
        if item.kind != FeeKind::ParkingSpaceRent.as_str() {
            return Err(AppError::invalid(
                "not_subscribable",
                "item_id",
                "houses subscribe to parking-space rent; other items charge every house or go by meter",
            ));
        }
        let house = self.fee_house(who, &mut tx, req.house_id).await?;
        if house.community_id != item.community_id {
            return Err(AppError::NotFound { entity: "house" });
        }
        let mut row = FeeSubscriptionRow {
            id: 0,
            item_id: item.id,
            house_id: house.id,
            label,
            start_on: start.to_string(),
            end_on: end.map(|d| d.to_string()),
            created_at: self.clock.now_ms(),
            created_by: who.actor(),
        };
        row.id = tx.insert_fee_subscription(&row).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "fees.subscribe",
                &format!("house:{}", house.id),
                json!({"subscription": row.id, "item": item.id, "label": row.label,
                    "start_on": row.start_on, "end_on": row.end_on}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// Gives a house a discount or an exemption (10,000 basis points), with a reason.
    pub async fn add_fee_discount(&self, who: &Principal, req: &NewDiscount) -> AppResult<FeeDiscountRow> {
        who.require(Permission::ManageFees)?;
        let reason = required_text("reason", &req.reason, 200)?;
        if !(1..=10_000).contains(&req.off_bp) {
            return Err(AppError::invalid(
                "invalid_value",
                "off_bp",
                "off_bp is 1 to 10,000 basis points (10,000: exempt)",
            ));
        }
        let (start, end) = day_range(&req.start_on, req.end_on.as_deref())?;
        let mut tx = self.store.write().await?;
        let house = self.fee_house(who, &mut tx, req.house_id).await?;
        who.scope.check_whole_community(house.community_id, "house")?;
        if let Some(item_id) = req.item_id {
            let item = self.scoped_item(who, &mut tx, item_id).await?;
            if item.community_id != house.community_id {
                return Err(AppError::NotFound { entity: "fee item" });
            }
        }
        let mut row = FeeDiscountRow {
            id: 0,
            house_id: house.id,
            item_id: req.item_id,
            off_bp: req.off_bp,
            start_on: start.to_string(),
            end_on: end.map(|d| d.to_string()),
            reason,
            created_at: self.clock.now_ms(),
            created_by: who.actor(),
        };
        row.id = tx.insert_fee_discount(&row).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "fees.discount",
                &format!("house:{}", house.id),
                json!({"discount": row.id, "item": row.item_id, "off_bp": row.off_bp,
                    "start_on": row.start_on, "end_on": row.end_on, "reason": row.reason}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// Records a meter reading for a utility item: a house's own meter, a building's or the
    /// community's shared one (shared amounts are split by area when bills are made).
    pub async fn record_fee_reading(&self, who: &Principal, req: &NewReading) -> AppResult<FeeReadingRow> {
        who.require(Permission::ManageFees)?;
        let period = Period::parse(&req.period).map_err(|e| AppError::field("period", e))?;
        if !(0..=1_000_000_000).contains(&req.units) {
            return Err(AppError::invalid(
                "invalid_value",
                "units",
                "units are 0 to 1,000,000,000",
            ));
        }
        let mut tx = self.store.write().await?;
        let item = self.scoped_item(who, &mut tx, req.item_id).await?;
        if item.kind != FeeKind::Utility.as_str() {
            return Err(AppError::invalid(
                "not_metered",
                "item_id",
                "readings are for utility items",
            ));
        }
        let target = match (req.building_id, req.house_id) {
            (Some(_), Some(_)) => {
                return Err(AppError::invalid(
                    "invalid_value",
                    "house_id",
                    "a reading is of a house's meter or a building's, not both",
                ));
            }
            (Some(b), None) => {
                let building = tx
                    .building(b)
                    .await?
                    .filter(|x| x.community_id == item.community_id)
                    .ok_or(AppError::NotFound { entity: "building" })?;
                format!("building:{}", building.id)
            }
            (None, Some(h)) => {
                let house = self.fee_house(who, &mut tx, h).await?;
                if house.community_id != item.community_id {
                    return Err(AppError::NotFound { entity: "house" });
                }
                format!("house:{}", house.id)
            }
            (None, None) => "community".to_string(),
        };
        let mut row = FeeReadingRow {
            id: 0,
            item_id: item.id,
            period: period.to_string(),
            target,
            units: req.units,
            created_at: self.clock.now_ms(),
            created_by: who.actor(),
        };
        row.id = tx.insert_fee_reading(&row).await.map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::Conflict {
                code: "reading_exists",
                message: "this meter has a reading for the period already".into(),
            },
            other => other.into(),
        })?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "fees.reading",
                &format!("fee_item:{}", item.id),
                json!({"reading": row.id, "period": row.period, "target": row.target, "units": row.units}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// Bills of `who`'s scope by the query (residents: their own houses').
    pub async fn fee_bills(
        &self,
        who: &Principal,
        q: &BillQuery,
        page: crate::registry::PageRequest,
    ) -> AppResult<Paged<FeeBillRow>> {
        who.require(Permission::ReadFees)?;
        let mut tx = self.store.read().await?;
        match (q.house_id, q.community_id) {
            (Some(h), _) => {
                self.fee_house(who, &mut tx, h).await?;
            }
            (None, Some(c)) => who.scope.check_community(c, "community")?,
            (None, None) => {
                return Err(AppError::invalid(
                    "missing_community",
                    "community_id",
                    "say which community (or house)",
                ));
            }
        }
        let period = q
            .period
            .as_deref()
            .map(|p| Period::parse(p).map_err(|e| AppError::field("period", e)))
            .transpose()?;
        let scope = who.scope.filter();
        let filter = FeeBillFilter {
            community_ids: scope.community_ids,
            house_ids: scope.house_ids,
            community_id: q.community_id,
            house_id: q.house_id,
            period: period.map(|p| p.to_string()),
            open_only: q.open_only,
            ..FeeBillFilter::default()
        };
        Ok(tx.fee_bills(&filter, page.to_page()?).await?)
    }

    /// One bill with its lines, adjustments and what paid it.
    pub async fn fee_bill(&self, who: &Principal, id: i64) -> AppResult<BillView> {
        who.require(Permission::ReadFees)?;
        let mut tx = self.store.read().await?;
        self.bill_view(who, &mut tx, id).await
    }

    async fn bill_view(&self, who: &Principal, tx: &mut Box<dyn Tx>, id: i64) -> AppResult<BillView> {
        let bill = tx
            .fee_bill(id)
            .await?
            .ok_or(AppError::NotFound { entity: "fee bill" })?;
        if !who.scope.has_house(bill.community_id, bill.house_id) {
            return Err(AppError::NotFound { entity: "fee bill" });
        }
        let house = tx
            .house(bill.house_id)
            .await?
            .ok_or(AppError::NotFound { entity: "house" })?;
        Ok(BillView {
            lines: serde_json::from_str(&bill.lines)
                .map_err(|e| AppError::Internal(format!("stored bill lines: {e}")))?,
            adjustments: tx.fee_adjustments(id).await?,
            allocations: tx.fee_allocations(None, Some(&[id])).await?,
            address: house.address,
            bill,
        })
    }

    /// Changes a bill's amount by `amount_fen` (negative lowers it), with a reason. A bill is
    /// never lowered below what was paid to it (refund first) nor below zero.
    pub async fn adjust_fee_bill(
        &self,
        who: &Principal,
        bill_id: i64,
        amount_fen: i64,
        reason: &str,
    ) -> AppResult<BillView> {
        who.require(Permission::ManageFees)?;
        let reason = required_text("reason", reason, 200)?;
        if amount_fen == 0 || amount_fen.unsigned_abs() > MAX_AMOUNT_FEN.unsigned_abs() {
            return Err(AppError::invalid(
                "invalid_amount",
                "amount_fen",
                format!("an adjustment is non-zero and at most {MAX_AMOUNT_FEN} fen either way"),
            ));
        }
        let mut tx = self.store.write().await?;
        let bill = tx
            .fee_bill(bill_id)
            .await?
            .ok_or(AppError::NotFound { entity: "fee bill" })?;
        who.scope.check_whole_community(bill.community_id, "fee bill")?;
        let total = bill.amount_fen + bill.adjusted_fen + amount_fen;
        if total < bill.paid_fen.max(0) {
            return Err(AppError::Conflict {
                code: "below_paid",
                message: format!(
                    "the bill would come to {} yuan, less than the {} yuan paid: refund first",
                    fen_to_yuan(total),
                    fen_to_yuan(bill.paid_fen)
                ),
            });
        }
        let now = self.clock.now_ms();
        let id = tx
            .insert_fee_adjustment(&FeeAdjustmentRow {
                id: 0,
                bill_id,
                amount_fen,
                reason: reason.clone(),
                actor: who.actor(),
                at: now,
            })
            .await?;
        let mut audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "fees.bill_adjust",
                &format!("fee_bill:{bill_id}"),
                json!({"adjustment": id, "amount_fen": amount_fen, "reason": reason,
                    "before_fen": bill.amount_fen + bill.adjusted_fen, "after_fen": total}),
            )
            .await?;
        // A raised bill may be paid by money the house paid ahead.
        if amount_fen > 0
            && let Some(applied) = self.apply_balance(&mut tx, &who.actor(), bill.house_id).await?
        {
            audit = applied;
        }
        let view = self.bill_view(who, &mut tx, bill_id).await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(view)
    }

    /// A house's fee account: bills, payments, discounts, what it owes and has paid ahead.
    pub async fn house_fee_account(&self, who: &Principal, house_id: i64) -> AppResult<HouseAccount> {
        who.require(Permission::ReadFees)?;
        let mut tx = self.store.read().await?;
        let house = self.fee_house(who, &mut tx, house_id).await?;
        let bills = tx
            .fee_bills(
                &FeeBillFilter {
                    house_id: Some(house_id),
                    ..FeeBillFilter::default()
                },
                Page::ALL,
            )
            .await?
            .items;
        let payments = tx
            .fee_payments(
                &FeePaymentFilter {
                    house_id: Some(house_id),
                    ..FeePaymentFilter::default()
                },
                Page::ALL,
            )
            .await?
            .items;
        let balance_fen = self
            .unallocated(&mut tx, &payments)
            .await?
            .iter()
            .map(|(_, fen)| fen)
            .sum();
        let terms = tx
            .fee_terms(house.community_id)
            .await?
            .into_iter()
            .find(|t| t.house_id == house_id);
        let subscriptions = tx
            .fee_subscriptions(house.community_id)
            .await?
            .into_iter()
            .filter(|s| s.house_id == house_id)
            .collect();
        Ok(HouseAccount {
            outstanding_fen: bills.iter().map(|b| b.outstanding_fen().max(0)).sum(),
            discounts: tx.fee_discounts(house.community_id, Some(house_id)).await?,
            house,
            terms,
            bills,
            payments,
            subscriptions,
            balance_fen,
        })
    }
}

/// Stored prices as price points (a price that does not parse is a broken invariant).
pub(crate) fn price_points(rows: &[FeePriceRow]) -> AppResult<Vec<PricePoint>> {
    rows.iter()
        .map(|p| {
            Ok(PricePoint {
                effective_from: stored_day(&p.effective_from)?,
                price: serde_json::from_str(&p.body)
                    .map_err(|e| AppError::Internal(format!("stored price: {e}")))?,
            })
        })
        .collect()
}
