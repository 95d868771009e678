//! The storage contract of property fees: fee items and their dated prices, each community's
//! settings, houses' move-in/move-out, parking-space subscriptions, discounts, meter readings,
//! bills with their adjustments, payments with their allocations to bills, refunds, receipt
//! numbering, online-payment orders, cashiers' day closings and reminders — and the parking
//! payments that fee reports read as parking income.
//!
//! [`FeeTx`] is a supertrait of [`crate::Tx`]: every transaction has these operations, and the
//! contract suite checks them on every backend. The running sums a row carries (a bill's
//! `adjusted_fen` and `paid_fen`, a payment's `refunded_fen`) are moved by the insert that
//! records their cause, in the same transaction, so they never disagree with their ledgers; and
//! that update is guarded (a bill is never paid beyond its amount or adjusted below what was
//! paid, a payment never refunded beyond its amount), re-checked after any concurrent writer of
//! the row, so concurrent requests cannot break them either.

use crate::{Page, Paged, ParkingPaymentRow, StoreResult};
use async_trait::async_trait;

/// A fee item of a community.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeItemRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Name, unique in the community.
    pub name: String,
    /// `property_management`, `fixed`, `parking_space_rent`, `utility`.
    pub kind: String,
    /// Whether bills include it.
    pub active: bool,
    /// When (ms).
    pub created_at: i64,
    /// Who.
    pub created_by: String,
}

/// A price of an item from a day on.
#[derive(Debug, Clone, PartialEq)]
pub struct FeePriceRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The item.
    pub item_id: i64,
    /// First day in force, `YYYY-MM-DD` (one price per item and day).
    pub effective_from: String,
    /// The price (JSON).
    pub body: String,
    /// When (ms).
    pub created_at: i64,
    /// Who.
    pub created_by: String,
}

/// When a house is charged: its move-in and move-out.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeTermsRow {
    /// The house.
    pub house_id: i64,
    /// Charged from this day (`None`: as far back as bills go).
    pub billable_from: Option<String>,
    /// Charged until this day, inclusive (`None`: open).
    pub billable_until: Option<String>,
    /// When (ms).
    pub updated_at: i64,
    /// Who.
    pub updated_by: String,
}

/// A house's subscription to an item that not every house pays (a rented parking space).
#[derive(Debug, Clone, PartialEq)]
pub struct FeeSubscriptionRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The item.
    pub item_id: i64,
    /// The house.
    pub house_id: i64,
    /// What it is for (the space number).
    pub label: String,
    /// First day.
    pub start_on: String,
    /// Last day, inclusive (`None`: open).
    pub end_on: Option<String>,
    /// When (ms).
    pub created_at: i64,
    /// Who.
    pub created_by: String,
}

/// A discount or exemption of a house.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeDiscountRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The house.
    pub house_id: i64,
    /// One item (`None`: every item).
    pub item_id: Option<i64>,
    /// Basis points off (10,000: exempt).
    pub off_bp: i64,
    /// First day.
    pub start_on: String,
    /// Last day, inclusive (`None`: open).
    pub end_on: Option<String>,
    /// Why (required).
    pub reason: String,
    /// When (ms).
    pub created_at: i64,
    /// Who.
    pub created_by: String,
}

/// A meter reading: units consumed in a period, on a house's own meter or a shared one.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeReadingRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The utility item.
    pub item_id: i64,
    /// The period (`2026-11`, `2026-Q4`, `2026`).
    pub period: String,
    /// Whose meter: `community`, `building:ID` or `house:ID` (one reading per item, period and
    /// meter).
    pub target: String,
    /// Units consumed.
    pub units: i64,
    /// When (ms).
    pub created_at: i64,
    /// Who.
    pub created_by: String,
}

/// A bill of one house for one period.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeBillRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Building (for reports per building).
    pub building_id: i64,
    /// The house.
    pub house_id: i64,
    /// The period (one bill per house and period).
    pub period: String,
    /// Its first day.
    pub period_start: String,
    /// Its last day.
    pub period_end: String,
    /// Due on.
    pub due_on: String,
    /// The lines' total after discounts (fen).
    pub amount_fen: i64,
    /// The sum of adjustments (fen, may be negative).
    pub adjusted_fen: i64,
    /// Paid, net of refunds (fen).
    pub paid_fen: i64,
    /// The lines (JSON).
    pub lines: String,
    /// When (ms).
    pub created_at: i64,
    /// Who (a user, or `system` for the periodic job).
    pub created_by: String,
}

impl FeeBillRow {
    /// What is still to pay (fen).
    pub fn outstanding_fen(&self) -> i64 {
        self.amount_fen + self.adjusted_fen - self.paid_fen
    }
}

/// Which bills to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeeBillFilter {
    /// Restrict to these communities (scope); `Some(vec![])` matches nothing.
    pub community_ids: Option<Vec<i64>>,
    /// Restrict to these houses (a resident's scope).
    pub house_ids: Option<Vec<i64>>,
    /// One community.
    pub community_id: Option<i64>,
    /// One house.
    pub house_id: Option<i64>,
    /// One period.
    pub period: Option<String>,
    /// Only bills with something still to pay.
    pub open_only: bool,
    /// Periods starting on or after this day.
    pub start_from: Option<String>,
    /// Periods starting on or before this day.
    pub start_until: Option<String>,
}

/// A change of a bill's amount.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeAdjustmentRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The bill.
    pub bill_id: i64,
    /// Added to the bill (fen; negative lowers it).
    pub amount_fen: i64,
    /// Why (required).
    pub reason: String,
    /// Who.
    pub actor: String,
    /// When (ms).
    pub at: i64,
}

/// A payment of a house, with its receipt number.
#[derive(Debug, Clone, PartialEq)]
pub struct FeePaymentRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// The paying house.
    pub house_id: i64,
    /// The receipt number (unique).
    pub receipt_no: String,
    /// `cash`, `transfer`, `online`.
    pub method: String,
    /// Amount (fen).
    pub amount_fen: i64,
    /// Refunded so far (fen).
    pub refunded_fen: i64,
    /// Whose cash book it is in: `user:NAME`, or `online:PROVIDER`.
    pub cashier: String,
    /// The cash book's day, `YYYY-MM-DD`.
    pub booked_on: String,
    /// When it was recorded (ms).
    pub paid_at: i64,
    /// Bank reference (transfers).
    pub reference: Option<String>,
    /// The payment provider (online).
    pub provider: Option<String>,
    /// The provider's transaction id (online; unique per provider).
    pub transaction_id: Option<String>,
    /// The order it settled (online).
    pub order_id: Option<i64>,
    /// Note.
    pub note: String,
}

/// Which payments to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeePaymentFilter {
    /// Restrict to these communities (scope).
    pub community_ids: Option<Vec<i64>>,
    /// Restrict to these houses (a resident's scope).
    pub house_ids: Option<Vec<i64>>,
    /// One community.
    pub community_id: Option<i64>,
    /// One house.
    pub house_id: Option<i64>,
    /// One cash book.
    pub cashier: Option<String>,
    /// Booked on or after this day.
    pub booked_from: Option<String>,
    /// Booked on or before this day.
    pub booked_until: Option<String>,
}

/// Part of a payment paid to a bill (negative: taken back by a refund).
#[derive(Debug, Clone, PartialEq)]
pub struct FeeAllocationRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The payment.
    pub payment_id: i64,
    /// The bill.
    pub bill_id: i64,
    /// Amount (fen).
    pub amount_fen: i64,
    /// When (ms).
    pub at: i64,
}

/// A refund of (part of) a payment.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeRefundRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The payment.
    pub payment_id: i64,
    /// Community.
    pub community_id: i64,
    /// Amount (fen).
    pub amount_fen: i64,
    /// Why (required).
    pub reason: String,
    /// Whose cash book it is in.
    pub cashier: String,
    /// The cash book's day.
    pub booked_on: String,
    /// When (ms).
    pub at: i64,
}

/// An online-payment order waiting for the provider's callback.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeOrderRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The number the provider is given (unique).
    pub order_no: String,
    /// Community.
    pub community_id: i64,
    /// The paying house.
    pub house_id: i64,
    /// The provider.
    pub provider: String,
    /// The amount the provider must confirm (fen).
    pub amount_fen: i64,
    /// `pending`, `paid`, `failed`.
    pub status: String,
    /// When (ms).
    pub created_at: i64,
    /// Who.
    pub created_by: String,
    /// The payment that settled it.
    pub payment_id: Option<i64>,
}

/// A closed cash book: a cashier's day in a community.
#[derive(Debug, Clone, PartialEq)]
pub struct CashClosingRow {
    /// Community.
    pub community_id: i64,
    /// The cashier.
    pub cashier: String,
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// When (ms).
    pub closed_at: i64,
    /// Who closed it.
    pub closed_by: String,
    /// The totals at closing (JSON).
    pub totals: String,
}

/// A reminder sent for a house in arrears.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeReminderRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// The house.
    pub house_id: i64,
    /// Overdue at the time (fen).
    pub overdue_fen: i64,
    /// The oldest unpaid due date.
    pub oldest_due_on: String,
    /// When (ms).
    pub at: i64,
}

/// Property fees' storage operations (see the module docs).
#[async_trait]
pub trait FeeTx: Send {
    /// Adds an item (a name taken in the community is a conflict).
    async fn insert_fee_item(&mut self, new: &FeeItemRow) -> StoreResult<i64>;
    /// One item.
    async fn fee_item(&mut self, id: i64) -> StoreResult<Option<FeeItemRow>>;
    /// A community's items, by id.
    async fn fee_items(&mut self, community_id: i64) -> StoreResult<Vec<FeeItemRow>>;
    /// Includes or leaves out an item from bills.
    async fn set_fee_item_active(&mut self, id: i64, active: bool) -> StoreResult<()>;
    /// Adds a price (a second price of one item on one day is a conflict).
    async fn insert_fee_price(&mut self, new: &FeePriceRow) -> StoreResult<i64>;
    /// The prices of these items, by item and day.
    async fn fee_prices(&mut self, item_ids: &[i64]) -> StoreResult<Vec<FeePriceRow>>;

    /// A community's fee settings (JSON), if set.
    async fn fee_settings(&mut self, community_id: i64) -> StoreResult<Option<String>>;
    /// Sets a community's fee settings.
    async fn set_fee_settings(
        &mut self,
        community_id: i64,
        body: &str,
        at: i64,
        actor: &str,
    ) -> StoreResult<()>;

    /// Sets a house's move-in and move-out (replacing what was set).
    async fn set_fee_terms(&mut self, row: &FeeTermsRow) -> StoreResult<()>;
    /// The terms of a community's houses.
    async fn fee_terms(&mut self, community_id: i64) -> StoreResult<Vec<FeeTermsRow>>;
    /// Subscribes a house to an item.
    async fn insert_fee_subscription(&mut self, new: &FeeSubscriptionRow) -> StoreResult<i64>;
    /// The subscriptions to a community's items.
    async fn fee_subscriptions(&mut self, community_id: i64) -> StoreResult<Vec<FeeSubscriptionRow>>;
    /// Adds a discount.
    async fn insert_fee_discount(&mut self, new: &FeeDiscountRow) -> StoreResult<i64>;
    /// The discounts of a community's houses (or of one house).
    async fn fee_discounts(
        &mut self,
        community_id: i64,
        house_id: Option<i64>,
    ) -> StoreResult<Vec<FeeDiscountRow>>;
    /// Records a meter reading (a second reading of one meter, item and period is a conflict).
    async fn insert_fee_reading(&mut self, new: &FeeReadingRow) -> StoreResult<i64>;
    /// The readings of a community's items for a period.
    async fn fee_readings(&mut self, community_id: i64, period: &str) -> StoreResult<Vec<FeeReadingRow>>;

    /// Adds a bill; `None` when the house has one for the period already.
    async fn insert_fee_bill(&mut self, new: &FeeBillRow) -> StoreResult<Option<i64>>;
    /// One bill.
    async fn fee_bill(&mut self, id: i64) -> StoreResult<Option<FeeBillRow>>;
    /// Bills by the filter, oldest period first (then by id).
    async fn fee_bills(&mut self, filter: &FeeBillFilter, page: Page) -> StoreResult<Paged<FeeBillRow>>;
    /// Records an adjustment and adds it to the bill's `adjusted_fen`; a conflict when the bill
    /// would come to less than was paid to it.
    async fn insert_fee_adjustment(&mut self, new: &FeeAdjustmentRow) -> StoreResult<i64>;
    /// A bill's adjustments, oldest first.
    async fn fee_adjustments(&mut self, bill_id: i64) -> StoreResult<Vec<FeeAdjustmentRow>>;

    /// The next receipt sequence number of a community and year (1, 2, …), counted in this
    /// transaction: a rolled-back payment gives its number back, so numbers have no gaps.
    async fn next_receipt_seq(&mut self, community_id: i64, year: i32) -> StoreResult<i64>;
    /// Records a payment (a receipt number or provider transaction seen before is a conflict).
    async fn insert_fee_payment(&mut self, new: &FeePaymentRow) -> StoreResult<i64>;
    /// One payment.
    async fn fee_payment(&mut self, id: i64) -> StoreResult<Option<FeePaymentRow>>;
    /// The payment of a provider's transaction.
    async fn fee_payment_by_transaction(
        &mut self,
        provider: &str,
        transaction_id: &str,
    ) -> StoreResult<Option<FeePaymentRow>>;
    /// Payments by the filter, oldest first.
    async fn fee_payments(
        &mut self,
        filter: &FeePaymentFilter,
        page: Page,
    ) -> StoreResult<Paged<FeePaymentRow>>;
    /// Records part of a payment paid to (or taken back from) a bill and moves the bill's
    /// `paid_fen`; a conflict when the bill would be paid beyond its amount or below nothing.
    async fn insert_fee_allocation(&mut self, new: &FeeAllocationRow) -> StoreResult<i64>;
    /// The allocations of these payments (or of these bills), oldest first.
    async fn fee_allocations(
        &mut self,
        payment_ids: Option<&[i64]>,
        bill_ids: Option<&[i64]>,
    ) -> StoreResult<Vec<FeeAllocationRow>>;
    /// Records a refund and adds it to the payment's `refunded_fen`; a conflict beyond the
    /// payment's amount.
    async fn insert_fee_refund(&mut self, new: &FeeRefundRow) -> StoreResult<i64>;
    /// Refunds of a payment, or of a community's cash book (cashier and day range), oldest
    /// first.
    async fn fee_refunds(
        &mut self,
        payment_id: Option<i64>,
        community_id: Option<i64>,
        cashier: Option<&str>,
        days: Option<(&str, &str)>,
    ) -> StoreResult<Vec<FeeRefundRow>>;

    /// Adds an online-payment order (a taken order number is a conflict).
    async fn insert_fee_order(&mut self, new: &FeeOrderRow) -> StoreResult<i64>;
    /// One order.
    async fn fee_order(&mut self, id: i64) -> StoreResult<Option<FeeOrderRow>>;
    /// The order with this number.
    async fn fee_order_by_no(&mut self, order_no: &str) -> StoreResult<Option<FeeOrderRow>>;
    /// Settles a pending order (`paid` with its payment, or `failed`); false when it was not
    /// pending.
    async fn settle_fee_order(&mut self, id: i64, status: &str, payment_id: Option<i64>)
    -> StoreResult<bool>;

    /// Counts an entry (a payment or refund) in a cashier's day, opening the book if need be;
    /// false, changing nothing, when the day is closed. Call before recording the entry: the
    /// book's row then orders the entry and the day's closing.
    async fn book_cash_entry(&mut self, community_id: i64, cashier: &str, day: &str) -> StoreResult<bool>;
    /// Closes a cashier's day (waiting for entries in flight on it); false when it was closed
    /// already. Its totals are set after, by [`FeeTx::set_cash_book_totals`].
    async fn close_cash_book(
        &mut self,
        community_id: i64,
        cashier: &str,
        day: &str,
        at: i64,
        by: &str,
    ) -> StoreResult<bool>;
    /// Keeps a closed day's totals (JSON).
    async fn set_cash_book_totals(
        &mut self,
        community_id: i64,
        cashier: &str,
        day: &str,
        totals: &str,
    ) -> StoreResult<()>;
    /// A cash book's closing, if closed.
    async fn cash_closing(
        &mut self,
        community_id: i64,
        cashier: &str,
        day: &str,
    ) -> StoreResult<Option<CashClosingRow>>;
    /// The closed books of a community's day.
    async fn cash_closings(&mut self, community_id: i64, day: &str) -> StoreResult<Vec<CashClosingRow>>;

    /// Records a reminder.
    async fn insert_fee_reminder(&mut self, new: &FeeReminderRow) -> StoreResult<i64>;
    /// The latest reminder of each house of a community: (house, when).
    async fn last_fee_reminders(&mut self, community_id: i64) -> StoreResult<Vec<(i64, i64)>>;

    /// Temporary-parking payments of a community paid in `[since, until)` and not refunded: the
    /// parking income fee reports read (pass sales come from the passes themselves).
    async fn parking_income(
        &mut self,
        community_id: i64,
        since: i64,
        until: i64,
    ) -> StoreResult<Vec<ParkingPaymentRow>>;
}
