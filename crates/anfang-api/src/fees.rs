//! Property fees over HTTP (`/api/v1/fees/…`): fee items and prices, settings, move-in and
//! move-out, rented spaces, discounts, meter readings, the bill job and bills with their
//! adjustments, payments with receipts and refunds, online orders, the payment providers'
//! signed callback, arrears, reminders, collection and parking-income reports, the cashier's
//! day, and the reports as .xlsx.
//!
//! Wire types live here beside their handlers and are converted by hand from the application's.
//! Amounts are integer fen on the wire (`*_fen`); nothing here computes one.
//!
//! The payment callback (`POST /api/v1/fees/payment-callbacks/{provider}`) is authenticated by
//! the provider's signature, not a user: `X-Anfang-Timestamp` (Unix ms) and `X-Anfang-Signature`
//! (lowercase hex HMAC-SHA256 of `"<timestamp>\n<body>"` with the provider's secret), the scheme
//! and 5-minute window of device HTTP push. A refused signature answers 401 and is counted in
//! `anfang_payment_callbacks_rejected_total{reason}`.

use crate::auth::Caller;
use crate::dto::{ItemsDto, PageDto, rfc3339};
use crate::error::ApiResult;
use crate::handlers::{Body, Path, Query};
use crate::{ApiError, ApiState, ErrorBody};
use anfang_app::AppError;
use anfang_app::fee_bills::GenerateOutcome;
use anfang_app::fee_cash_book::CashBook;
use anfang_app::fee_online::{CallbackOutcome, OnlineCallback};
use anfang_app::fee_payments::{Receipt, TakePayment};
use anfang_app::fee_reports::{Arrears, ArrearsRow, CollectionRow, ParkingIncomeRow};
use anfang_app::fees::{self, BillLine, BillQuery, BillView, FeeItemView, FeeSettings, HouseAccount};
use anfang_app::registry::{DEFAULT_PAGE_SIZE, PageRequest};
use anfang_app::store::{
    FeeAdjustmentRow, FeeAllocationRow, FeeBillRow, FeeDiscountRow, FeeOrderRow, FeePaymentRow,
    FeeReadingRow, FeeRefundRow, FeeSubscriptionRow, FeeTermsRow,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/fees/items", get(list_items).post(create_item))
        .route("/fees/items/{id}/prices", post(set_price))
        .route("/fees/items/{id}/active", put(set_item_active))
        .route("/fees/settings", get(get_settings).put(set_settings))
        .route("/fees/houses/{id}", get(house_account))
        .route("/fees/houses/{id}/terms", put(set_terms))
        .route("/fees/subscriptions", post(subscribe))
        .route("/fees/discounts", post(add_discount))
        .route("/fees/readings", post(record_reading))
        .route("/fees/bills", get(list_bills))
        .route("/fees/bills/generate", post(generate_bills))
        .route("/fees/bills/{id}", get(get_bill))
        .route("/fees/bills/{id}/adjustments", post(adjust_bill))
        .route("/fees/payments", get(list_payments).post(take_payment))
        .route("/fees/payments/{id}", get(get_receipt))
        .route("/fees/payments/{id}/refunds", post(refund))
        .route("/fees/orders", post(create_order))
        .route("/fees/orders/{id}", get(get_order))
        .route("/fees/payment-callbacks/{provider}", post(payment_callback))
        .route("/fees/arrears", get(arrears))
        .route("/fees/reminders", post(send_reminders))
        .route("/fees/reports/collection", get(collection))
        .route("/fees/reports/parking-income", get(parking_income))
        .route("/fees/cash-book", get(cash_book))
        .route("/fees/cash-book/close", post(close_cash_book))
        .route("/fees/exports/{report}", get(export))
}

// ---------------------------------------------------------------------------------------------
// Wire types
// ---------------------------------------------------------------------------------------------

/// A price from a day on.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceDto {
    /// First day in force.
    pub effective_from: String,
    /// Fen per m² per month (property management), per month (fixed, parking space rent) or per
    /// unit (utility).
    pub rate_fen: i64,
    /// Rates by house use (`owner_occupied`, `rented`, `vacant`, `commercial`).
    pub use_rates: BTreeMap<String, i64>,
}

/// A fee item.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeeItemDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Name.
    pub name: String,
    /// `property_management`, `fixed`, `parking_space_rent`, `utility`.
    pub kind: String,
    /// 物业管理费, 固定费用, 车位租金, 水电公摊.
    pub kind_label: String,
    /// Whether bills include it.
    pub active: bool,
    /// Its prices, oldest first.
    pub prices: Vec<PriceDto>,
}

impl From<FeeItemView> for FeeItemDto {
    fn from(v: FeeItemView) -> Self {
        FeeItemDto {
            id: v.item.id,
            community_id: v.item.community_id,
            name: v.item.name,
            kind: v.kind.as_str().into(),
            kind_label: v.kind.label_zh().into(),
            active: v.item.active,
            prices: v
                .prices
                .into_iter()
                .map(|p| PriceDto {
                    effective_from: p.effective_from.to_string(),
                    rate_fen: p.price.rate_fen,
                    use_rates: p
                        .price
                        .use_rates
                        .iter()
                        .map(|(u, r)| (u.as_str().to_string(), *r))
                        .collect(),
                })
                .collect(),
        }
    }
}

/// A new fee item and its first price.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateItemRequest {
    /// Community.
    pub community_id: i64,
    /// Name, unique in the community (1–40 characters).
    pub name: String,
    /// `property_management`, `fixed`, `parking_space_rent`, `utility`.
    pub kind: String,
    /// The rate (see [`PriceDto::rate_fen`]).
    pub rate_fen: i64,
    /// Rates by house use.
    #[serde(default)]
    pub use_rates: BTreeMap<String, i64>,
    /// From when, `YYYY-MM-DD`.
    pub effective_from: String,
}

/// A price from a day on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPriceRequest {
    /// From when, `YYYY-MM-DD` (one price per day).
    pub effective_from: String,
    /// The rate.
    pub rate_fen: i64,
    /// Rates by house use.
    #[serde(default)]
    pub use_rates: BTreeMap<String, i64>,
}

/// Whether an item is billed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveRequest {
    /// Billed or not.
    pub active: bool,
}

/// A community's fee settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsDto {
    /// `month`, `quarter` or `year` (default month).
    pub cycle: Option<String>,
    /// Days after a period starts until its bill is due (default 30).
    pub due_days: Option<u32>,
    /// Whether the periodic job makes each period's bills (default false).
    pub auto_generate: Option<bool>,
    /// Days past due before a house is reminded (default 30).
    pub remind_after_days: Option<u32>,
    /// Days between reminders of one house (default 30).
    pub remind_every_days: Option<u32>,
}

impl From<FeeSettings> for SettingsDto {
    fn from(s: FeeSettings) -> Self {
        SettingsDto {
            cycle: Some(s.cycle.as_str().into()),
            due_days: Some(s.due_days),
            auto_generate: Some(s.auto_generate),
            remind_after_days: Some(s.remind_after_days),
            remind_every_days: Some(s.remind_every_days),
        }
    }
}

impl SettingsDto {
    fn into_settings(self) -> ApiResult<FeeSettings> {
        let d = FeeSettings::default();
        Ok(FeeSettings {
            cycle: match self.cycle {
                Some(c) => fees::Cycle::parse(&c).map_err(|e| AppError::field("cycle", e))?,
                None => d.cycle,
            },
            due_days: self.due_days.unwrap_or(d.due_days),
            auto_generate: self.auto_generate.unwrap_or(d.auto_generate),
            remind_after_days: self.remind_after_days.unwrap_or(d.remind_after_days),
            remind_every_days: self.remind_every_days.unwrap_or(d.remind_every_days),
        })
    }
}

/// When a house is charged.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermsDto {
    /// Move-in: charged from this day (none: from the first bill).
    pub billable_from: Option<String>,
    /// Move-out: charged until this day, inclusive (none: open).
    pub billable_until: Option<String>,
}

impl From<FeeTermsRow> for TermsDto {
    fn from(t: FeeTermsRow) -> Self {
        TermsDto {
            billable_from: t.billable_from,
            billable_until: t.billable_until,
        }
    }
}

/// A rented parking space.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionDto {
    /// Id (ignored when sent).
    #[serde(default)]
    pub id: i64,
    /// The item (`parking_space_rent`).
    pub item_id: i64,
    /// The house.
    pub house_id: i64,
    /// The space number.
    pub label: String,
    /// First day.
    pub start_on: String,
    /// Last day, inclusive.
    pub end_on: Option<String>,
}

impl From<FeeSubscriptionRow> for SubscriptionDto {
    fn from(s: FeeSubscriptionRow) -> Self {
        SubscriptionDto {
            id: s.id,
            item_id: s.item_id,
            house_id: s.house_id,
            label: s.label,
            start_on: s.start_on,
            end_on: s.end_on,
        }
    }
}

/// A discount or exemption.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountDto {
    /// Id (ignored when sent).
    #[serde(default)]
    pub id: i64,
    /// The house.
    pub house_id: i64,
    /// One item (none: every item).
    pub item_id: Option<i64>,
    /// Basis points off, 1–10000 (10000: exempt).
    pub off_bp: i64,
    /// First day.
    pub start_on: String,
    /// Last day, inclusive.
    pub end_on: Option<String>,
    /// Why (required).
    pub reason: String,
    /// Who gave it (ignored when sent).
    #[serde(default)]
    pub created_by: String,
}

impl From<FeeDiscountRow> for DiscountDto {
    fn from(d: FeeDiscountRow) -> Self {
        DiscountDto {
            id: d.id,
            house_id: d.house_id,
            item_id: d.item_id,
            off_bp: d.off_bp,
            start_on: d.start_on,
            end_on: d.end_on,
            reason: d.reason,
            created_by: d.created_by,
        }
    }
}

/// A meter reading.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingRequest {
    /// The utility item.
    pub item_id: i64,
    /// The period it is billed in (`2026-11`, `2026-Q4`, `2026`).
    pub period: String,
    /// A building's shared meter.
    pub building_id: Option<i64>,
    /// A house's own meter (neither: the community's shared meter, split by area).
    pub house_id: Option<i64>,
    /// Units consumed.
    pub units: i64,
}

/// A recorded reading.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingDto {
    /// Id.
    pub id: i64,
    /// The item.
    pub item_id: i64,
    /// The period.
    pub period: String,
    /// `community`, `building:ID` or `house:ID`.
    pub target: String,
    /// Units.
    pub units: i64,
}

impl From<FeeReadingRow> for ReadingDto {
    fn from(r: FeeReadingRow) -> Self {
        ReadingDto {
            id: r.id,
            item_id: r.item_id,
            period: r.period,
            target: r.target,
            units: r.units,
        }
    }
}

/// Make a period's bills.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// Community.
    pub community_id: i64,
    /// `2026-11`, `2026-Q4` or `2026`.
    pub period: String,
}

/// What the bill job did.
#[derive(Debug, Serialize, ToSchema)]
pub struct GenerateDto {
    /// The period.
    pub period: String,
    /// Bills made now.
    pub created: usize,
    /// Houses that had their bill (a re-run).
    pub existing: usize,
    /// Houses with nothing to charge.
    pub empty: usize,
    /// Houses left out: a bill of another, overlapping period exists.
    pub overlapping: Vec<OverlapDto>,
    /// The new bills' total (fen).
    pub total_fen: i64,
}

/// A house left out by the bill job.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverlapDto {
    /// The house.
    pub house_id: i64,
    /// The period of its overlapping bill.
    pub period: String,
}

impl From<GenerateOutcome> for GenerateDto {
    fn from(o: GenerateOutcome) -> Self {
        GenerateDto {
            period: o.period,
            created: o.created,
            existing: o.existing,
            empty: o.empty,
            overlapping: o
                .overlapping
                .into_iter()
                .map(|(house_id, period)| OverlapDto { house_id, period })
                .collect(),
            total_fen: o.total_fen,
        }
    }
}

/// A bill.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Building.
    pub building_id: i64,
    /// House.
    pub house_id: i64,
    /// Period.
    pub period: String,
    /// First day.
    pub period_start: String,
    /// Last day.
    pub period_end: String,
    /// Due on.
    pub due_on: String,
    /// The lines' total after discounts (fen).
    pub amount_fen: i64,
    /// Adjustments (fen).
    pub adjusted_fen: i64,
    /// Paid, net of refunds (fen).
    pub paid_fen: i64,
    /// Still to pay (fen).
    pub outstanding_fen: i64,
    /// Made at.
    pub created_at: String,
    /// Made by (`system`: the periodic job).
    pub created_by: String,
}

impl From<FeeBillRow> for BillDto {
    fn from(b: FeeBillRow) -> Self {
        BillDto {
            outstanding_fen: b.outstanding_fen(),
            id: b.id,
            community_id: b.community_id,
            building_id: b.building_id,
            house_id: b.house_id,
            period: b.period,
            period_start: b.period_start,
            period_end: b.period_end,
            due_on: b.due_on,
            amount_fen: b.amount_fen,
            adjusted_fen: b.adjusted_fen,
            paid_fen: b.paid_fen,
            created_at: rfc3339(b.created_at),
            created_by: b.created_by,
        }
    }
}

/// One line of a bill.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillLineDto {
    /// The item.
    pub item_id: i64,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: String,
    /// Before discounts (fen).
    pub base_fen: i64,
    /// Discounts and exemptions (fen).
    pub discount_fen: i64,
    /// Owed (fen).
    pub amount_fen: i64,
    /// Days charged.
    pub days: i64,
    /// Days in the period.
    pub period_days: i64,
    /// How it was reached.
    pub note: String,
}

impl From<BillLine> for BillLineDto {
    fn from(l: BillLine) -> Self {
        BillLineDto {
            item_id: l.item_id,
            name: l.name,
            kind: l.kind.as_str().into(),
            base_fen: l.base_fen,
            discount_fen: l.discount_fen,
            amount_fen: l.amount_fen,
            days: l.days,
            period_days: l.period_days,
            note: l.note,
        }
    }
}

/// An adjustment of a bill.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdjustmentDto {
    /// Id.
    pub id: i64,
    /// Added (fen; negative lowers the bill).
    pub amount_fen: i64,
    /// Why.
    pub reason: String,
    /// Who.
    pub actor: String,
    /// When.
    pub at: String,
}

impl From<FeeAdjustmentRow> for AdjustmentDto {
    fn from(a: FeeAdjustmentRow) -> Self {
        AdjustmentDto {
            id: a.id,
            amount_fen: a.amount_fen,
            reason: a.reason,
            actor: a.actor,
            at: rfc3339(a.at),
        }
    }
}

/// Part of a payment paid to a bill (negative: taken back by a refund).
#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationDto {
    /// The payment.
    pub payment_id: i64,
    /// Amount (fen).
    pub amount_fen: i64,
    /// When.
    pub at: String,
}

impl From<FeeAllocationRow> for AllocationDto {
    fn from(a: FeeAllocationRow) -> Self {
        AllocationDto {
            payment_id: a.payment_id,
            amount_fen: a.amount_fen,
            at: rfc3339(a.at),
        }
    }
}

/// A bill with its lines and history.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillDetailDto {
    /// The bill.
    #[serde(flatten)]
    pub bill: BillDto,
    /// The house's address.
    pub address: String,
    /// Lines.
    pub lines: Vec<BillLineDto>,
    /// Adjustments.
    pub adjustments: Vec<AdjustmentDto>,
    /// What paid it.
    pub allocations: Vec<AllocationDto>,
}

impl From<BillView> for BillDetailDto {
    fn from(v: BillView) -> Self {
        BillDetailDto {
            bill: v.bill.into(),
            address: v.address,
            lines: v.lines.into_iter().map(Into::into).collect(),
            adjustments: v.adjustments.into_iter().map(Into::into).collect(),
            allocations: v.allocations.into_iter().map(Into::into).collect(),
        }
    }
}

/// Change a bill's amount.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustRequest {
    /// Added (fen; negative lowers it, never below what was paid).
    pub amount_fen: i64,
    /// Why (required).
    pub reason: String,
}

/// A payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// The paying house.
    pub house_id: i64,
    /// The receipt number, e.g. `370323001001-2026-000123`.
    pub receipt_no: String,
    /// `cash`, `transfer`, `online`.
    pub method: String,
    /// Amount (fen).
    pub amount_fen: i64,
    /// Refunded (fen).
    pub refunded_fen: i64,
    /// The cash book: `user:NAME` or `online:PROVIDER`.
    pub cashier: String,
    /// The cash book's day.
    pub booked_on: String,
    /// Recorded at.
    pub paid_at: String,
    /// Bank reference or order number.
    pub reference: Option<String>,
    /// The provider's transaction id (online).
    pub transaction_id: Option<String>,
    /// Note.
    pub note: String,
}

impl From<FeePaymentRow> for PaymentDto {
    fn from(p: FeePaymentRow) -> Self {
        PaymentDto {
            id: p.id,
            community_id: p.community_id,
            house_id: p.house_id,
            receipt_no: p.receipt_no,
            method: p.method,
            amount_fen: p.amount_fen,
            refunded_fen: p.refunded_fen,
            cashier: p.cashier,
            booked_on: p.booked_on,
            paid_at: rfc3339(p.paid_at),
            reference: p.reference,
            transaction_id: p.transaction_id,
            note: p.note,
        }
    }
}

/// A refund.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundDto {
    /// Id.
    pub id: i64,
    /// Amount (fen).
    pub amount_fen: i64,
    /// Why.
    pub reason: String,
    /// Whose cash book.
    pub cashier: String,
    /// Its day.
    pub booked_on: String,
    /// When.
    pub at: String,
}

impl From<FeeRefundRow> for RefundDto {
    fn from(r: FeeRefundRow) -> Self {
        RefundDto {
            id: r.id,
            amount_fen: r.amount_fen,
            reason: r.reason,
            cashier: r.cashier,
            booked_on: r.booked_on,
            at: rfc3339(r.at),
        }
    }
}

/// A bill a payment paid.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptLineDto {
    /// The bill.
    pub bill_id: i64,
    /// Its period.
    pub period: String,
    /// Paid to it, net of refunds (fen).
    pub amount_fen: i64,
}

/// A receipt (收据).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptDto {
    /// The payment.
    pub payment: PaymentDto,
    /// The community.
    pub community: String,
    /// The house's address.
    pub address: String,
    /// Bills paid.
    pub lines: Vec<ReceiptLineDto>,
    /// Left as the house's balance (fen).
    pub to_balance_fen: i64,
    /// Refunds of it.
    pub refunds: Vec<RefundDto>,
}

impl From<Receipt> for ReceiptDto {
    fn from(r: Receipt) -> Self {
        ReceiptDto {
            payment: r.payment.into(),
            community: r.community,
            address: r.address,
            lines: r
                .lines
                .into_iter()
                .map(|l| ReceiptLineDto {
                    bill_id: l.bill_id,
                    period: l.period,
                    amount_fen: l.amount_fen,
                })
                .collect(),
            to_balance_fen: r.to_balance_fen,
            refunds: r.refunds.into_iter().map(Into::into).collect(),
        }
    }
}

/// A payment at the office.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// The paying house.
    pub house_id: i64,
    /// `cash` or `transfer`.
    pub method: String,
    /// Amount (fen); what the open bills do not need stays as the house's balance.
    pub amount_fen: i64,
    /// The bank reference (transfers).
    pub reference: Option<String>,
    /// The cash book's day (default today; up to 31 days back, or tomorrow).
    pub booked_on: Option<String>,
    /// Note.
    pub note: Option<String>,
}

/// A refund of a payment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Amount (fen): the payment's balance first, then its newest bills.
    pub amount_fen: i64,
    /// Why (required).
    pub reason: String,
    /// The cash book's day (default today).
    pub booked_on: Option<String>,
}

/// Open an online-payment order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// The paying house.
    pub house_id: i64,
    /// The payment provider.
    pub provider: String,
    /// Amount (fen; default: what the house owes).
    pub amount_fen: Option<i64>,
}

/// An online-payment order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDto {
    /// Id.
    pub id: i64,
    /// The number the provider is given.
    pub order_no: String,
    /// The house.
    pub house_id: i64,
    /// The provider.
    pub provider: String,
    /// The amount the provider must confirm (fen).
    pub amount_fen: i64,
    /// `pending`, `paid`, `failed`.
    pub status: String,
    /// Opened at.
    pub created_at: String,
    /// The payment that settled it.
    pub payment_id: Option<i64>,
}

impl From<FeeOrderRow> for OrderDto {
    fn from(o: FeeOrderRow) -> Self {
        OrderDto {
            id: o.id,
            order_no: o.order_no,
            house_id: o.house_id,
            provider: o.provider,
            amount_fen: o.amount_fen,
            status: o.status,
            created_at: rfc3339(o.created_at),
            payment_id: o.payment_id,
        }
    }
}

/// A provider's callback body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CallbackRequest {
    /// The provider's transaction id (the idempotency key: a repeat gets the first answer).
    pub transaction_id: String,
    /// The order it pays.
    pub order_no: String,
    /// What was taken (fen; must equal the order's amount).
    pub amount_fen: i64,
    /// `paid` or `failed`.
    pub status: String,
}

/// The answer to a provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackDto {
    /// The order.
    pub order_no: String,
    /// `paid` or `failed`.
    pub status: String,
    /// The receipt number (paid).
    pub receipt_no: Option<String>,
    /// The payment (paid).
    pub payment_id: Option<i64>,
    /// Recorded by an earlier delivery of this transaction.
    pub replay: bool,
}

/// A house's fee account.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseAccountDto {
    /// The house.
    pub house_id: i64,
    /// Its address.
    pub address: String,
    /// Move-in and move-out.
    pub terms: Option<TermsDto>,
    /// Still to pay (fen).
    pub outstanding_fen: i64,
    /// Paid ahead, not yet used (fen).
    pub balance_fen: i64,
    /// Bills, oldest first.
    pub bills: Vec<BillDto>,
    /// Payments, oldest first.
    pub payments: Vec<PaymentDto>,
    /// Discounts.
    pub discounts: Vec<DiscountDto>,
    /// Rented spaces.
    pub subscriptions: Vec<SubscriptionDto>,
}

impl From<HouseAccount> for HouseAccountDto {
    fn from(a: HouseAccount) -> Self {
        HouseAccountDto {
            house_id: a.house.id,
            address: a.house.address,
            terms: a.terms.map(Into::into),
            outstanding_fen: a.outstanding_fen,
            balance_fen: a.balance_fen,
            bills: a.bills.into_iter().map(Into::into).collect(),
            payments: a.payments.into_iter().map(Into::into).collect(),
            discounts: a.discounts.into_iter().map(Into::into).collect(),
            subscriptions: a.subscriptions.into_iter().map(Into::into).collect(),
        }
    }
}

/// A house's arrears by age bracket.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArrearsRowDto {
    /// The house.
    pub house_id: i64,
    /// Its building.
    pub building_id: i64,
    /// Its address.
    pub address: String,
    /// Unpaid bills.
    pub bills: usize,
    /// Still to pay (fen).
    pub outstanding_fen: i64,
    /// Past due (fen).
    pub overdue_fen: i64,
    /// By bracket: `not_due`, `1_30`, `31_90`, `91_180`, `181_365`, `over_365` (fen).
    pub by_bracket: BTreeMap<String, i64>,
    /// The oldest unpaid due date.
    pub oldest_due_on: String,
}

fn brackets(map: &BTreeMap<fees::AgeBracket, i64>) -> BTreeMap<String, i64> {
    fees::AgeBracket::ALL
        .iter()
        .map(|b| (b.as_str().to_string(), map.get(b).copied().unwrap_or(0)))
        .collect()
}

impl From<ArrearsRow> for ArrearsRowDto {
    fn from(r: ArrearsRow) -> Self {
        ArrearsRowDto {
            by_bracket: brackets(&r.by_bracket),
            house_id: r.house_id,
            building_id: r.building_id,
            address: r.address,
            bills: r.bills,
            outstanding_fen: r.outstanding_fen,
            overdue_fen: r.overdue_fen,
            oldest_due_on: r.oldest_due_on,
        }
    }
}

/// A community's arrears.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArrearsDto {
    /// Aged on.
    pub as_of: String,
    /// Houses, the most overdue first.
    pub items: Vec<ArrearsRowDto>,
    /// Totals by bracket (fen).
    pub totals: BTreeMap<String, i64>,
    /// Still to pay (fen).
    pub outstanding_fen: i64,
    /// Past due (fen).
    pub overdue_fen: i64,
}

impl From<Arrears> for ArrearsDto {
    fn from(a: Arrears) -> Self {
        ArrearsDto {
            totals: brackets(&a.totals),
            as_of: a.as_of,
            items: a.rows.into_iter().map(Into::into).collect(),
            outstanding_fen: a.outstanding_fen,
            overdue_fen: a.overdue_fen,
        }
    }
}

/// Billed and collected in a month, per building.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionDto {
    /// `YYYY-MM` of the bills' period start.
    pub month: String,
    /// The building (none: the whole community).
    pub building_id: Option<i64>,
    /// The building's name.
    pub building: String,
    /// Bills.
    pub bills: usize,
    /// Billed (fen).
    pub billed_fen: i64,
    /// Collected (fen).
    pub collected_fen: i64,
    /// 收缴率 (percent, two decimals; none when nothing was billed).
    pub rate_pct: Option<f64>,
}

impl From<CollectionRow> for CollectionDto {
    fn from(r: CollectionRow) -> Self {
        CollectionDto {
            month: r.month,
            building_id: r.building_id,
            building: r.building,
            bills: r.bills,
            billed_fen: r.billed_fen,
            collected_fen: r.collected_fen,
            // Basis points are whole numbers far below 2^53: exact as a float.
            rate_pct: r.rate_bp.map(|bp| bp as f64 / 100.0),
        }
    }
}

/// A month's parking income.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParkingIncomeDto {
    /// `YYYY-MM`.
    pub month: String,
    /// Monthly passes sold.
    pub passes_sold: usize,
    /// Their price (fen).
    pub passes_fen: i64,
    /// Temporary-parking payments.
    pub temporary_payments: usize,
    /// Their amount (fen).
    pub temporary_fen: i64,
    /// Parking-space rent billed (fen).
    pub space_rent_billed_fen: i64,
    /// In all (fen).
    pub total_fen: i64,
}

impl From<ParkingIncomeRow> for ParkingIncomeDto {
    fn from(r: ParkingIncomeRow) -> Self {
        ParkingIncomeDto {
            month: r.month,
            passes_sold: r.passes_sold,
            passes_fen: r.passes_fen,
            temporary_payments: r.temporary_payments,
            temporary_fen: r.temporary_fen,
            space_rent_billed_fen: r.space_rent_billed_fen,
            total_fen: r.total_fen,
        }
    }
}

/// A cashier's day.
#[derive(Debug, Serialize, ToSchema)]
pub struct CashBookDto {
    /// Community.
    pub community_id: i64,
    /// The cashier.
    pub cashier: String,
    /// The day.
    pub day: String,
    /// Receipts.
    pub payments: Vec<PaymentDto>,
    /// Refunds.
    pub refunds: Vec<RefundDto>,
    /// Cash (fen).
    pub cash_fen: i64,
    /// Transfers (fen).
    pub transfer_fen: i64,
    /// Online (fen).
    pub online_fen: i64,
    /// Refunded (fen).
    pub refunds_fen: i64,
    /// In minus refunded (fen).
    pub net_fen: i64,
    /// Closed (locked) at, if closed.
    pub closed_at: Option<String>,
    /// Closed by.
    pub closed_by: Option<String>,
}

impl From<CashBook> for CashBookDto {
    fn from(b: CashBook) -> Self {
        CashBookDto {
            community_id: b.community_id,
            cashier: b.cashier,
            day: b.day,
            payments: b.payments.into_iter().map(Into::into).collect(),
            refunds: b.refunds.into_iter().map(Into::into).collect(),
            cash_fen: b.totals.cash_fen,
            transfer_fen: b.totals.transfer_fen,
            online_fen: b.totals.online_fen,
            refunds_fen: b.totals.refunds_fen,
            net_fen: b.totals.net_fen,
            closed_at: b.closed.as_ref().map(|c| rfc3339(c.closed_at)),
            closed_by: b.closed.map(|c| c.closed_by),
        }
    }
}

/// Close a cashier's day.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// Community.
    pub community_id: i64,
    /// The day (default today).
    pub day: Option<String>,
    /// The cashier (default the caller; another's needs fee management).
    pub cashier: Option<String>,
}

/// Send reminders now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemindRequest {
    /// Community.
    pub community_id: i64,
}

/// How many reminders were queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemindDto {
    /// Houses reminded.
    pub reminded: usize,
}

/// A community.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CommunityParam {
    /// Community id.
    pub community_id: i64,
}

/// Which bills.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BillParams {
    /// Community id (or a house).
    pub community_id: Option<i64>,
    /// House id.
    pub house_id: Option<i64>,
    /// Period (`2026-11`, `2026-Q4`, `2026`).
    pub period: Option<String>,
    /// Only bills with something to pay.
    pub open: Option<bool>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1–200.
    pub page_size: Option<i64>,
}

/// Which payments.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PaymentParams {
    /// Community id (or a house).
    pub community_id: Option<i64>,
    /// House id.
    pub house_id: Option<i64>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1–200.
    pub page_size: Option<i64>,
}

/// Arrears on a day.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ArrearsParams {
    /// Community id.
    pub community_id: i64,
    /// Aged on (default today).
    pub as_of: Option<String>,
}

/// A report's year.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct YearParams {
    /// Community id.
    pub community_id: i64,
    /// Year (default this year).
    pub year: Option<i32>,
}

/// A cash book.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CashBookParams {
    /// Community id.
    pub community_id: i64,
    /// Day (default today).
    pub day: Option<String>,
    /// Cashier (default the caller).
    pub cashier: Option<String>,
}

/// An export's parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// Community id.
    pub community_id: i64,
    /// Year (`collection`, `parking-income`).
    pub year: Option<i32>,
    /// Day (`arrears`: aged on; `cash-book`: the day).
    pub day: Option<String>,
    /// Cashier (`cash-book`).
    pub cashier: Option<String>,
}

fn page(page: Option<i64>, page_size: Option<i64>) -> PageRequest {
    PageRequest {
        page: page.unwrap_or(1),
        page_size: page_size.unwrap_or(DEFAULT_PAGE_SIZE),
    }
}

fn this_year(s: &ApiState) -> i32 {
    use chrono::Datelike;
    s.app.clock().today_cst().year()
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/// A community's fee items with their prices.
#[utoipa::path(get, path = "/api/v1/fees/items", tag = "fees", security(("bearer" = [])), params(CommunityParam),
    responses((status = 200, body = ItemsDto<FeeItemDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_items(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<CommunityParam>,
) -> ApiResult<Json<ItemsDto<FeeItemDto>>> {
    let items = s.app.fee_items(&c.principal, p.community_id).await?;
    Ok(Json(ItemsDto::of(items, FeeItemDto::from)))
}

/// Adds a fee item with its first price.
#[utoipa::path(post, path = "/api/v1/fees/items", tag = "fees", security(("bearer" = [])), request_body = CreateItemRequest,
    responses((status = 201, body = FeeItemDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_item(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateItemRequest>,
) -> ApiResult<(StatusCode, Json<FeeItemDto>)> {
    let req = fees::NewFeeItem {
        community_id: r.community_id,
        name: r.name,
        kind: r.kind,
        price: fees::price_from(r.rate_fen, &r.use_rates)?,
        effective_from: r.effective_from,
    };
    let item = s.app.create_fee_item(&c.principal, &req).await?;
    Ok((StatusCode::CREATED, Json(item.into())))
}

/// Sets an item's price from a day on (bills already made keep theirs).
#[utoipa::path(post, path = "/api/v1/fees/items/{id}/prices", tag = "fees", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id")), request_body = SetPriceRequest,
    responses((status = 201, body = FeeItemDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_price(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<SetPriceRequest>,
) -> ApiResult<(StatusCode, Json<FeeItemDto>)> {
    let price = fees::price_from(r.rate_fen, &r.use_rates)?;
    let item = s
        .app
        .set_fee_price(&c.principal, id, &r.effective_from, &price)
        .await?;
    Ok((StatusCode::CREATED, Json(item.into())))
}

/// Includes an item in the next bills or leaves it out.
#[utoipa::path(put, path = "/api/v1/fees/items/{id}/active", tag = "fees", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id")), request_body = ActiveRequest,
    responses((status = 200, body = FeeItemDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_item_active(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<ActiveRequest>,
) -> ApiResult<Json<FeeItemDto>> {
    Ok(Json(
        s.app
            .set_fee_item_active(&c.principal, id, r.active)
            .await?
            .into(),
    ))
}

/// A community's fee settings.
#[utoipa::path(get, path = "/api/v1/fees/settings", tag = "fees", security(("bearer" = [])), params(CommunityParam),
    responses((status = 200, body = SettingsDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_settings(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<CommunityParam>,
) -> ApiResult<Json<SettingsDto>> {
    Ok(Json(
        s.app.fee_settings(&c.principal, p.community_id).await?.into(),
    ))
}

/// Sets a community's fee settings (fields left out take their defaults).
#[utoipa::path(put, path = "/api/v1/fees/settings", tag = "fees", security(("bearer" = [])), params(CommunityParam),
    request_body = SettingsDto,
    responses((status = 200, body = SettingsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_settings(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<CommunityParam>,
    Body(r): Body<SettingsDto>,
) -> ApiResult<Json<SettingsDto>> {
    let settings = r.into_settings()?;
    Ok(Json(
        s.app
            .set_fee_settings(&c.principal, p.community_id, &settings)
            .await?
            .into(),
    ))
}

/// A house's fee account: bills, payments, balance (residents: their own house).
#[utoipa::path(get, path = "/api/v1/fees/houses/{id}", tag = "fees", security(("bearer" = [])),
    params(("id" = i64, Path, description = "House id")),
    responses((status = 200, body = HouseAccountDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn house_account(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<HouseAccountDto>> {
    Ok(Json(s.app.house_fee_account(&c.principal, id).await?.into()))
}

/// Sets a house's move-in and move-out: its bills are prorated by day.
#[utoipa::path(put, path = "/api/v1/fees/houses/{id}/terms", tag = "fees", security(("bearer" = [])),
    params(("id" = i64, Path, description = "House id")), request_body = TermsDto,
    responses((status = 200, body = TermsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_terms(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<TermsDto>,
) -> ApiResult<Json<TermsDto>> {
    let row = s
        .app
        .set_fee_terms(
            &c.principal,
            id,
            r.billable_from.as_deref(),
            r.billable_until.as_deref(),
        )
        .await?;
    Ok(Json(row.into()))
}

/// Rents a parking space (a `parking_space_rent` item) to a house.
#[utoipa::path(post, path = "/api/v1/fees/subscriptions", tag = "fees", security(("bearer" = [])), request_body = SubscriptionDto,
    responses((status = 201, body = SubscriptionDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn subscribe(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<SubscriptionDto>,
) -> ApiResult<(StatusCode, Json<SubscriptionDto>)> {
    let req = fees::NewSubscription {
        item_id: r.item_id,
        house_id: r.house_id,
        label: r.label,
        start_on: r.start_on,
        end_on: r.end_on,
    };
    let row = s.app.subscribe_fee(&c.principal, &req).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Gives a house a discount or exemption, with a reason.
#[utoipa::path(post, path = "/api/v1/fees/discounts", tag = "fees", security(("bearer" = [])), request_body = DiscountDto,
    responses((status = 201, body = DiscountDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add_discount(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<DiscountDto>,
) -> ApiResult<(StatusCode, Json<DiscountDto>)> {
    let req = fees::NewDiscount {
        house_id: r.house_id,
        item_id: r.item_id,
        off_bp: r.off_bp,
        start_on: r.start_on,
        end_on: r.end_on,
        reason: r.reason,
    };
    let row = s.app.add_fee_discount(&c.principal, &req).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Records a meter reading of a utility item.
#[utoipa::path(post, path = "/api/v1/fees/readings", tag = "fees", security(("bearer" = [])), request_body = ReadingRequest,
    responses((status = 201, body = ReadingDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn record_reading(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<ReadingRequest>,
) -> ApiResult<(StatusCode, Json<ReadingDto>)> {
    let req = fees::NewReading {
        item_id: r.item_id,
        period: r.period,
        building_id: r.building_id,
        house_id: r.house_id,
        units: r.units,
    };
    let row = s.app.record_fee_reading(&c.principal, &req).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Makes a period's bills for every house of a community; runs again without a second bill.
#[utoipa::path(post, path = "/api/v1/fees/bills/generate", tag = "fees", security(("bearer" = [])), request_body = GenerateRequest,
    responses((status = 200, body = GenerateDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn generate_bills(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<GenerateRequest>,
) -> ApiResult<Json<GenerateDto>> {
    Ok(Json(
        s.app
            .generate_bills(&c.principal, r.community_id, &r.period)
            .await?
            .into(),
    ))
}

/// Bills of a community or a house, oldest period first (residents: their own).
#[utoipa::path(get, path = "/api/v1/fees/bills", tag = "fees", security(("bearer" = [])), params(BillParams),
    responses((status = 200, body = PageDto<BillDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_bills(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<BillParams>,
) -> ApiResult<Json<PageDto<BillDto>>> {
    let q = BillQuery {
        community_id: p.community_id,
        house_id: p.house_id,
        period: p.period.clone(),
        open_only: p.open.unwrap_or(false),
    };
    let pr = page(p.page, p.page_size);
    let rows = s.app.fee_bills(&c.principal, &q, pr).await?;
    Ok(Json(PageDto {
        items: rows.items.into_iter().map(Into::into).collect(),
        total: rows.total,
        page: pr.page,
        page_size: pr.page_size,
    }))
}

/// A bill with its lines, adjustments and what paid it.
#[utoipa::path(get, path = "/api/v1/fees/bills/{id}", tag = "fees", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Bill id")),
    responses((status = 200, body = BillDetailDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_bill(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<BillDetailDto>> {
    Ok(Json(s.app.fee_bill(&c.principal, id).await?.into()))
}

/// Adjusts a bill's amount, with a reason (never below what was paid).
#[utoipa::path(post, path = "/api/v1/fees/bills/{id}/adjustments", tag = "fees", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Bill id")), request_body = AdjustRequest,
    responses((status = 201, body = BillDetailDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn adjust_bill(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<AdjustRequest>,
) -> ApiResult<(StatusCode, Json<BillDetailDto>)> {
    let view = s
        .app
        .adjust_fee_bill(&c.principal, id, r.amount_fen, &r.reason)
        .await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Payments of a community or a house, oldest first (residents: their own).
#[utoipa::path(get, path = "/api/v1/fees/payments", tag = "fees", security(("bearer" = [])), params(PaymentParams),
    responses((status = 200, body = PageDto<PaymentDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_payments(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<PaymentParams>,
) -> ApiResult<Json<PageDto<PaymentDto>>> {
    let pr = page(p.page, p.page_size);
    let rows = s
        .app
        .fee_payments(&c.principal, p.community_id, p.house_id, pr)
        .await?;
    Ok(Json(PageDto {
        items: rows.items.into_iter().map(Into::into).collect(),
        total: rows.total,
        page: pr.page,
        page_size: pr.page_size,
    }))
}

/// Takes a cash or transfer payment: it pays the house's open bills oldest first, the rest is
/// kept as balance; the answer is the receipt.
#[utoipa::path(post, path = "/api/v1/fees/payments", tag = "fees", security(("bearer" = [])), request_body = PaymentRequest,
    responses((status = 201, body = ReceiptDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The cash book of that day is closed (cash_book_closed)")))]
pub async fn take_payment(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<PaymentRequest>,
) -> ApiResult<(StatusCode, Json<ReceiptDto>)> {
    let req = TakePayment {
        house_id: r.house_id,
        method: r.method,
        amount_fen: r.amount_fen,
        reference: r.reference,
        booked_on: r.booked_on,
        note: r.note,
    };
    let receipt = s.app.take_fee_payment(&c.principal, &req).await?;
    Ok((StatusCode::CREATED, Json(receipt.into())))
}

/// A payment's receipt, as it stands (residents: their own).
#[utoipa::path(get, path = "/api/v1/fees/payments/{id}", tag = "fees", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Payment id")),
    responses((status = 200, body = ReceiptDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_receipt(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ReceiptDto>> {
    Ok(Json(s.app.fee_receipt(&c.principal, id).await?.into()))
}

/// Refunds part or all of a payment, with a reason: its balance first, then its newest bills.
#[utoipa::path(post, path = "/api/v1/fees/payments/{id}/refunds", tag = "fees", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Payment id")), request_body = RefundRequest,
    responses((status = 201, body = ReceiptDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn refund(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<RefundRequest>,
) -> ApiResult<(StatusCode, Json<ReceiptDto>)> {
    let receipt = s
        .app
        .refund_fee_payment(&c.principal, id, r.amount_fen, &r.reason, r.booked_on.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(receipt.into())))
}

/// Opens an online-payment order for a house (residents: their own); the provider is given its
/// number and amount.
#[utoipa::path(post, path = "/api/v1/fees/orders", tag = "fees", security(("bearer" = [])), request_body = OrderRequest,
    responses((status = 201, body = OrderDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_order(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<OrderRequest>,
) -> ApiResult<(StatusCode, Json<OrderDto>)> {
    let order = s
        .app
        .create_fee_order(&c.principal, r.house_id, &r.provider, r.amount_fen)
        .await?;
    Ok((StatusCode::CREATED, Json(order.into())))
}

/// An online-payment order.
#[utoipa::path(get, path = "/api/v1/fees/orders/{id}", tag = "fees", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Order id")),
    responses((status = 200, body = OrderDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_order(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<OrderDto>> {
    Ok(Json(s.app.fee_order(&c.principal, id).await?.into()))
}

/// Refuses a callback: 401, counted by reason.
fn refuse_callback(code: &str, message: impl Into<String>) -> Response {
    metrics::counter!("anfang_payment_callbacks_rejected_total", "reason" => code.to_string()).increment(1);
    ApiError::new(StatusCode::UNAUTHORIZED, code, message).into_response()
}

/// A payment provider confirms an order. Authenticated by the provider's signature, not a user:
/// `X-Anfang-Timestamp` (Unix ms, within 5 minutes of the platform's clock) and
/// `X-Anfang-Signature` (hex HMAC-SHA256 of `"<timestamp>\n<body>"` with the provider's secret).
/// Idempotent by `transaction_id`: a repeat answers 200 with the first receipt. The amount must
/// equal the order's (409 `amount_mismatch` otherwise, nothing recorded).
#[utoipa::path(post, path = "/api/v1/fees/payment-callbacks/{provider}", tag = "fees",
    params(
        ("provider" = String, Path, description = "The provider's name"),
        ("X-Anfang-Timestamp" = i64, Header, description = "Unix time in ms"),
        ("X-Anfang-Signature" = String, Header, description = "hex HMAC-SHA256(secret, timestamp + \"\\n\" + body)"),
    ),
    request_body = CallbackRequest,
    responses(
        (status = 200, body = CallbackDto, description = "Recorded (or recorded before: `replay`)"),
        (status = 400, body = ErrorBody, description = "A malformed body"),
        (status = 401, body = ErrorBody, description = "Unknown provider, missing, bad or stale signature"),
        (status = 404, body = ErrorBody, description = "No such order of this provider"),
        (status = 409, body = ErrorBody, description = "amount_mismatch or order_settled"),
    ))]
pub async fn payment_callback(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path(provider): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let (Some(timestamp), Some(signature)) = (
        header(anfang_protocol::HEADER_TIMESTAMP),
        header(anfang_protocol::HEADER_SIGNATURE),
    ) else {
        return refuse_callback(
            "missing_signature",
            "send X-Anfang-Timestamp and X-Anfang-Signature",
        );
    };
    let Ok(timestamp) = timestamp.parse::<i64>() else {
        return refuse_callback(
            "stale_timestamp",
            "X-Anfang-Timestamp is Unix time in milliseconds",
        );
    };
    let Some(secret) = s.app.payment_secret(&provider) else {
        return refuse_callback("unknown_provider", "no payment provider of this name");
    };
    if let Err(e) = anfang_protocol::verify(
        secret,
        timestamp,
        &body,
        signature,
        s.app.clock().now_ms(),
        anfang_protocol::DEFAULT_MAX_SKEW_MS,
    ) {
        // A wrong signature in a configured provider's name is security-relevant: audit it.
        if let Err(audit_error) = s
            .app
            .audit_now(
                &format!("provider:{provider}"),
                "fees.callback_refused",
                &format!("provider:{provider}"),
                serde_json::json!({"error": e.code()}),
            )
            .await
        {
            tracing::warn!(error = %audit_error, "could not audit a refused payment callback");
        }
        return refuse_callback(e.code(), e.to_string());
    }
    let r: CallbackRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            metrics::counter!("anfang_http_rejected_total", "reason" => "invalid_body").increment(1);
            return ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.to_string()).into_response();
        }
    };
    let paid = match r.status.as_str() {
        "paid" => true,
        "failed" => false,
        _ => {
            return ApiError::from(AppError::invalid(
                "invalid_value",
                "status",
                "status is paid or failed",
            ))
            .into_response();
        }
    };
    let cb = OnlineCallback {
        provider,
        transaction_id: r.transaction_id,
        order_no: r.order_no,
        amount_fen: r.amount_fen,
        paid,
    };
    match s.app.settle_online_payment(&cb).await {
        Ok(CallbackOutcome::Paid { receipt, replay }) => Json(CallbackDto {
            order_no: cb.order_no,
            status: "paid".into(),
            receipt_no: Some(receipt.payment.receipt_no.clone()),
            payment_id: Some(receipt.payment.id),
            replay,
        })
        .into_response(),
        Ok(CallbackOutcome::Failed { order }) => Json(CallbackDto {
            order_no: order.order_no,
            status: "failed".into(),
            receipt_no: None,
            payment_id: None,
            replay: false,
        })
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// A community's arrears per house and age bracket.
#[utoipa::path(get, path = "/api/v1/fees/arrears", tag = "fees", security(("bearer" = [])), params(ArrearsParams),
    responses((status = 200, body = ArrearsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn arrears(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ArrearsParams>,
) -> ApiResult<Json<ArrearsDto>> {
    Ok(Json(
        s.app
            .fee_arrears(&c.principal, p.community_id, p.as_of.as_deref())
            .await?
            .into(),
    ))
}

/// Reminds the overdue houses now (those past the community's threshold, not reminded within
/// its interval), through the notification channels that take fee events.
#[utoipa::path(post, path = "/api/v1/fees/reminders", tag = "fees", security(("bearer" = [])), request_body = RemindRequest,
    responses((status = 200, body = RemindDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn send_reminders(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<RemindRequest>,
) -> ApiResult<Json<RemindDto>> {
    let reminded = s.app.send_fee_reminders(&c.principal, r.community_id).await?;
    Ok(Json(RemindDto { reminded }))
}

/// The collection rate per month and building of a year's bills.
#[utoipa::path(get, path = "/api/v1/fees/reports/collection", tag = "fees", security(("bearer" = [])), params(YearParams),
    responses((status = 200, body = ItemsDto<CollectionDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn collection(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<YearParams>,
) -> ApiResult<Json<ItemsDto<CollectionDto>>> {
    let year = p.year.unwrap_or_else(|| this_year(&s));
    let rows = s.app.fee_collection(&c.principal, p.community_id, year).await?;
    Ok(Json(ItemsDto::of(rows, CollectionDto::from)))
}

/// Parking income per month: passes sold and temporary parking paid (from the parking module)
/// and parking-space rent billed.
#[utoipa::path(get, path = "/api/v1/fees/reports/parking-income", tag = "fees", security(("bearer" = [])), params(YearParams),
    responses((status = 200, body = ItemsDto<ParkingIncomeDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn parking_income(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<YearParams>,
) -> ApiResult<Json<ItemsDto<ParkingIncomeDto>>> {
    let year = p.year.unwrap_or_else(|| this_year(&s));
    let rows = s
        .app
        .parking_income_report(&c.principal, p.community_id, year)
        .await?;
    Ok(Json(ItemsDto::of(rows, ParkingIncomeDto::from)))
}

/// A cashier's day: receipts by method, refunds, totals, and whether it is closed.
#[utoipa::path(get, path = "/api/v1/fees/cash-book", tag = "fees", security(("bearer" = [])), params(CashBookParams),
    responses((status = 200, body = CashBookDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cash_book(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<CashBookParams>,
) -> ApiResult<Json<CashBookDto>> {
    Ok(Json(
        s.app
            .cash_book(
                &c.principal,
                p.community_id,
                p.day.as_deref(),
                p.cashier.as_deref(),
            )
            .await?
            .into(),
    ))
}

/// Closes (locks) a cashier's day: later payments or refunds dated on it are refused (409).
#[utoipa::path(post, path = "/api/v1/fees/cash-book/close", tag = "fees", security(("bearer" = [])), request_body = CloseRequest,
    responses((status = 200, body = CashBookDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Closed already")))]
pub async fn close_cash_book(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CloseRequest>,
) -> ApiResult<Json<CashBookDto>> {
    Ok(Json(
        s.app
            .close_cash_book(
                &c.principal,
                r.community_id,
                r.day.as_deref(),
                r.cashier.as_deref(),
            )
            .await?
            .into(),
    ))
}

/// A fee report as an Excel workbook of the very rows of its JSON: `arrears`, `collection`,
/// `parking-income` or `cash-book`. Audited.
#[utoipa::path(get, path = "/api/v1/fees/exports/{report}", tag = "fees", security(("bearer" = [])),
    params(("report" = String, Path, description = "arrears, collection, parking-income or cash-book"), ExportParams),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export(
    State(s): State<ApiState>,
    c: Caller,
    Path(report): Path<String>,
    Query(p): Query<ExportParams>,
) -> ApiResult<Response> {
    if !matches!(
        report.as_str(),
        "arrears" | "collection" | "parking-income" | "cash-book"
    ) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_such_report",
            format!("no report '{report}'; there are arrears, collection, parking-income and cash-book"),
        ));
    }
    let (name, bytes) = s
        .app
        .export_fee_report(
            &c.principal,
            &report,
            p.community_id,
            p.year,
            p.day.as_deref(),
            p.cashier.as_deref(),
        )
        .await?;
    Ok(crate::handlers::xlsx_named(
        &format!("fees-{report}"),
        Some(&name),
        bytes,
    ))
}
