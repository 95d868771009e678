//! Property fees: money in and out. Payments in cash or by bank transfer at the property office
//! (online payments, `fee_online.rs`, are recorded the same way); each payment pays the house's
//! open bills oldest first, keeps the rest as the house's balance (prepayment) for the next
//! bills, and gets a receipt number that is unique and gap-free per community and year, taken
//! inside the payment's transaction. Refunds take back the balance first, then the newest bills.
//! Every payment and refund lands in a cashier's day (`fee_cash_book.rs`); a closed day refuses
//! later entries dated on it (409), so corrections go on the next day.

use crate::fees::{cst_day, parse_day, positive_amount, required_text, stored_day};
use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::fees::{OpenBill, Paid, PayMethod, allocate, receipt_number, refund_plan};
use anfang_store::*;
use chrono::{Datelike, Days, NaiveDate};
use serde_json::json;
use std::collections::BTreeMap;

/// How far back a payment or refund may be dated (a transfer that arrived last month).
pub const BACKDATE_DAYS: u64 = 31;

/// A payment taken at the office.
#[derive(Debug, Clone)]
pub struct TakePayment {
    /// The paying house.
    pub house_id: i64,
    /// `cash` or `transfer` (online payments come by callback).
    pub method: String,
    /// Amount (fen).
    pub amount_fen: i64,
    /// The bank reference (transfers, required).
    pub reference: Option<String>,
    /// The cash book's day (default today; up to 31 days back, or tomorrow).
    pub booked_on: Option<String>,
    /// Note.
    pub note: Option<String>,
}

/// One bill a payment paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    /// The bill.
    pub bill_id: i64,
    /// Its period.
    pub period: String,
    /// Net amount paid to it (fen).
    pub amount_fen: i64,
}

/// A receipt: the payment, what it paid and what it left as balance.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    /// The payment (its `receipt_no` is the receipt number).
    pub payment: FeePaymentRow,
    /// The community's name.
    pub community: String,
    /// The house's address.
    pub address: String,
    /// Bills paid, net of refunds.
    pub lines: Vec<ReceiptLine>,
    /// Left as the house's balance (fen).
    pub to_balance_fen: i64,
    /// Refunds of it.
    pub refunds: Vec<FeeRefundRow>,
}

/// A payment to record, whoever takes it.
pub(crate) struct Draft<'a> {
    pub(crate) house: &'a HouseRow,
    pub(crate) method: PayMethod,
    pub(crate) amount_fen: i64,
    pub(crate) cashier: String,
    pub(crate) booked_on: NaiveDate,
    pub(crate) reference: Option<String>,
    pub(crate) provider: Option<String>,
    pub(crate) transaction_id: Option<String>,
    pub(crate) order_id: Option<i64>,
    pub(crate) note: String,
}

impl App {
    /// What each of these payments has not paid to a bill: (payment, fen), positive only.
    pub(crate) async fn unallocated(
        &self,
        tx: &mut Box<dyn Tx>,
        payments: &[FeePaymentRow],
    ) -> AppResult<Vec<(i64, i64)>> {
        if payments.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = payments.iter().map(|p| p.id).collect();
        let mut allocated: BTreeMap<i64, i64> = BTreeMap::new();
        for a in tx.fee_allocations(Some(&ids), None).await? {
            *allocated.entry(a.payment_id).or_default() += a.amount_fen;
        }
        Ok(payments
            .iter()
            .map(|p| {
                let left = p.amount_fen - p.refunded_fen - allocated.get(&p.id).copied().unwrap_or(0);
                (p.id, left)
            })
            .filter(|(_, left)| *left > 0)
            .collect())
    }

    /// A house's open bills, as the allocation sees them.
    pub(crate) async fn open_bills(&self, tx: &mut Box<dyn Tx>, house_id: i64) -> AppResult<Vec<OpenBill>> {
        tx.fee_bills(
            &FeeBillFilter {
                house_id: Some(house_id),
                open_only: true,
                ..FeeBillFilter::default()
            },
            Page::ALL,
        )
        .await?
        .items
        .iter()
        .map(|b| {
            Ok(OpenBill {
                bill_id: b.id,
                period_start: stored_day(&b.period_start)?,
                outstanding_fen: b.outstanding_fen(),
            })
        })
        .collect()
    }

    /// Pays a house's open bills from what its payments left as balance, the oldest payment
    /// first; returns the audit entry when anything moved.
    pub(crate) async fn apply_balance(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &str,
        house_id: i64,
    ) -> AppResult<Option<AuditRow>> {
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
        let left = self.unallocated(tx, &payments).await?;
        if left.is_empty() {
            return Ok(None);
        }
        let now = self.clock.now_ms();
        let mut moved = Vec::new();
        for (payment_id, fen) in left {
            let plan = allocate(fen, &self.open_bills(tx, house_id).await?);
            if plan.lines.is_empty() {
                break;
            }
            for (bill_id, amount) in plan.lines {
                tx.insert_fee_allocation(&FeeAllocationRow {
                    id: 0,
                    payment_id,
                    bill_id,
                    amount_fen: amount,
                    at: now,
                })
                .await?;
                moved.push(json!({"payment": payment_id, "bill": bill_id, "amount_fen": amount}));
            }
        }
        if moved.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            self.audit(
                tx,
                actor,
                "fees.balance_apply",
                &format!("house:{house_id}"),
                json!({"allocations": moved}),
            )
            .await?,
        ))
    }

    /// The day an entry is booked on: the one asked for (31 days back to tomorrow) or today.
    pub(crate) fn booking_day(&self, booked_on: Option<&str>) -> AppResult<NaiveDate> {
        let today = cst_day(self.clock.now_ms());
        let Some(raw) = booked_on else {
            return Ok(today);
        };
        let day = parse_day("booked_on", raw)?;
        let earliest = today - Days::new(BACKDATE_DAYS);
        if day < earliest || day > today + Days::new(1) {
            return Err(AppError::invalid(
                "invalid_date",
                "booked_on",
                format!("an entry is booked from {earliest} to tomorrow"),
            ));
        }
        Ok(day)
    }

    /// Records a payment with its receipt number and pays the house's open bills with it.
    pub(crate) async fn record_payment(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &str,
        d: Draft<'_>,
    ) -> AppResult<(i64, AuditRow)> {
        let community = tx
            .community(d.house.community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        let year = d.booked_on.year();
        let seq = tx.next_receipt_seq(community.id, year).await?;
        let now = self.clock.now_ms();
        let row = FeePaymentRow {
            id: 0,
            community_id: community.id,
            house_id: d.house.id,
            receipt_no: receipt_number(&community.code, year, seq),
            method: d.method.as_str().into(),
            amount_fen: d.amount_fen,
            refunded_fen: 0,
            cashier: d.cashier,
            booked_on: d.booked_on.to_string(),
            paid_at: now,
            reference: d.reference,
            provider: d.provider,
            transaction_id: d.transaction_id,
            order_id: d.order_id,
            note: d.note,
        };
        let id = tx.insert_fee_payment(&row).await?;
        let plan = allocate(d.amount_fen, &self.open_bills(tx, d.house.id).await?);
        for (bill_id, amount) in &plan.lines {
            tx.insert_fee_allocation(&FeeAllocationRow {
                id: 0,
                payment_id: id,
                bill_id: *bill_id,
                amount_fen: *amount,
                at: now,
            })
            .await?;
        }
        let audit = self
            .audit(
                tx,
                actor,
                "fees.payment",
                &format!("fee_payment:{id}"),
                json!({"receipt_no": row.receipt_no, "house_id": d.house.id, "method": row.method,
                    "amount_fen": row.amount_fen, "cashier": row.cashier, "booked_on": row.booked_on,
                    "reference": row.reference, "transaction_id": row.transaction_id,
                    "allocations": plan.lines, "to_balance_fen": plan.remainder_fen}),
            )
            .await?;
        Ok((id, audit))
    }

    /// Takes a cash or transfer payment for a house, in the caller's cash book.
    pub async fn take_fee_payment(&self, who: &Principal, req: &TakePayment) -> AppResult<Receipt> {
        who.require(Permission::CollectFees)?;
        let method = PayMethod::parse(&req.method).map_err(|e| AppError::field("method", e))?;
        if method == PayMethod::Online {
            return Err(AppError::invalid(
                "invalid_method",
                "method",
                "online payments arrive through the provider's callback; take cash or transfer here",
            ));
        }
        let amount = positive_amount("amount_fen", req.amount_fen)?;
        let reference = req
            .reference
            .as_deref()
            .map(|r| required_text("reference", r, 64))
            .transpose()?;
        if method == PayMethod::Transfer && reference.is_none() {
            return Err(AppError::invalid(
                "missing_field",
                "reference",
                "a transfer needs the bank's reference",
            ));
        }
        let note = match req.note.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => required_text("note", n, 200)?,
            _ => String::new(),
        };
        let day = self.booking_day(req.booked_on.as_deref())?;
        let mut tx = self.store.write().await?;
        let house = self.fee_house(who, &mut tx, req.house_id).await?;
        who.scope.check_whole_community(house.community_id, "house")?;
        self.book_entry(&mut tx, house.community_id, &who.actor(), day)
            .await?;
        let draft = Draft {
            house: &house,
            method,
            amount_fen: amount,
            cashier: who.actor(),
            booked_on: day,
            reference,
            provider: None,
            transaction_id: None,
            order_id: None,
            note,
        };
        let (id, audit) = self.record_payment(&mut tx, &who.actor(), draft).await?;
        let receipt = self.receipt_in(&mut tx, id).await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(receipt)
    }

    /// The receipt of a payment, as it stands (net of refunds).
    pub(crate) async fn receipt_in(&self, tx: &mut Box<dyn Tx>, payment_id: i64) -> AppResult<Receipt> {
        let payment = tx
            .fee_payment(payment_id)
            .await?
            .ok_or(AppError::NotFound { entity: "payment" })?;
        let community = tx
            .community(payment.community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        let house = tx
            .house(payment.house_id)
            .await?
            .ok_or(AppError::NotFound { entity: "house" })?;
        let mut net: BTreeMap<i64, i64> = BTreeMap::new();
        for a in tx.fee_allocations(Some(&[payment_id]), None).await? {
            *net.entry(a.bill_id).or_default() += a.amount_fen;
        }
        let mut lines = Vec::new();
        for (bill_id, amount) in net.into_iter().filter(|(_, fen)| *fen != 0) {
            let period = tx.fee_bill(bill_id).await?.map(|b| b.period).unwrap_or_default();
            lines.push(ReceiptLine {
                bill_id,
                period,
                amount_fen: amount,
            });
        }
        let paid: i64 = lines.iter().map(|l| l.amount_fen).sum();
        Ok(Receipt {
            to_balance_fen: payment.amount_fen - payment.refunded_fen - paid,
            refunds: tx.fee_refunds(Some(payment_id), None, None, None).await?,
            community: community.name,
            address: house.address,
            lines,
            payment,
        })
    }

    /// A payment's receipt (residents: their own house's).
    pub async fn fee_receipt(&self, who: &Principal, payment_id: i64) -> AppResult<Receipt> {
        who.require(Permission::ReadFees)?;
        let mut tx = self.store.read().await?;
        let payment = tx
            .fee_payment(payment_id)
            .await?
            .ok_or(AppError::NotFound { entity: "payment" })?;
        if !who.scope.has_house(payment.community_id, payment.house_id) {
            return Err(AppError::NotFound { entity: "payment" });
        }
        self.receipt_in(&mut tx, payment_id).await
    }

    /// Payments of a community or a house in `who`'s scope, oldest first.
    pub async fn fee_payments(
        &self,
        who: &Principal,
        community_id: Option<i64>,
        house_id: Option<i64>,
        page: crate::registry::PageRequest,
    ) -> AppResult<Paged<FeePaymentRow>> {
        who.require(Permission::ReadFees)?;
        let mut tx = self.store.read().await?;
        match (house_id, community_id) {
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
        let scope = who.scope.filter();
        let filter = FeePaymentFilter {
            community_ids: scope.community_ids,
            house_ids: scope.house_ids,
            community_id,
            house_id,
            ..FeePaymentFilter::default()
        };
        Ok(tx.fee_payments(&filter, page.to_page()?).await?)
    }

    /// Refunds `amount_fen` of a payment, with a reason, in the caller's cash book: the
    /// payment's balance first, then its newest bills (which open again).
    pub async fn refund_fee_payment(
        &self,
        who: &Principal,
        payment_id: i64,
        amount_fen: i64,
        reason: &str,
        booked_on: Option<&str>,
    ) -> AppResult<Receipt> {
        who.require(Permission::ManageFees)?;
        let reason = required_text("reason", reason, 200)?;
        let amount = positive_amount("amount_fen", amount_fen)?;
        let day = self.booking_day(booked_on)?;
        let mut tx = self.store.write().await?;
        let payment = tx
            .fee_payment(payment_id)
            .await?
            .ok_or(AppError::NotFound { entity: "payment" })?;
        who.scope.check_whole_community(payment.community_id, "payment")?;
        let refundable = payment.amount_fen - payment.refunded_fen;
        if amount > refundable {
            return Err(AppError::Conflict {
                code: "exceeds_payment",
                message: format!(
                    "at most {} yuan of this payment is left to refund",
                    anfang_domain::fees::fen_to_yuan(refundable)
                ),
            });
        }
        self.book_entry(&mut tx, payment.community_id, &who.actor(), day)
            .await?;
        // The refund first: it takes the payment's row (a concurrent refund of it waits), so
        // what is read next is what this refund may take back.
        let now = self.clock.now_ms();
        let refund = tx
            .insert_fee_refund(&FeeRefundRow {
                id: 0,
                payment_id,
                community_id: payment.community_id,
                amount_fen: amount,
                reason: reason.clone(),
                cashier: who.actor(),
                booked_on: day.to_string(),
                at: now,
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => AppError::Conflict {
                    code: "exceeds_payment",
                    message: "the payment was refunded meanwhile; less is left to refund".into(),
                },
                other => other.into(),
            })?;
        let refunded_before = tx
            .fee_payment(payment_id)
            .await?
            .map_or(payment.refunded_fen, |p| p.refunded_fen - amount);
        let allocations = tx.fee_allocations(Some(&[payment_id]), None).await?;
        let mut net: BTreeMap<i64, i64> = BTreeMap::new();
        for a in &allocations {
            *net.entry(a.bill_id).or_default() += a.amount_fen;
        }
        let mut paid = Vec::new();
        for (bill_id, fen) in net {
            let bill = tx
                .fee_bill(bill_id)
                .await?
                .ok_or(AppError::NotFound { entity: "fee bill" })?;
            paid.push(Paid {
                bill_id,
                period_start: stored_day(&bill.period_start)?,
                amount_fen: fen,
            });
        }
        let unallocated =
            payment.amount_fen - refunded_before - paid.iter().map(|p| p.amount_fen).sum::<i64>();
        let (from_balance, back) = refund_plan(amount, unallocated, &paid);
        for (bill_id, fen) in &back {
            tx.insert_fee_allocation(&FeeAllocationRow {
                id: 0,
                payment_id,
                bill_id: *bill_id,
                amount_fen: -fen,
                at: now,
            })
            .await?;
        }
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "fees.refund",
                &format!("fee_payment:{payment_id}"),
                json!({"refund": refund, "receipt_no": payment.receipt_no, "amount_fen": amount,
                    "reason": reason, "booked_on": day.to_string(), "from_balance_fen": from_balance,
                    "taken_back": back}),
            )
            .await?;
        // A bill reopened by the refund is paid by whatever else the house paid ahead.
        let audit = match self
            .apply_balance(&mut tx, &who.actor(), payment.house_id)
            .await?
        {
            Some(applied) => applied,
            None => audit,
        };
        let receipt = self.receipt_in(&mut tx, payment_id).await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(receipt)
    }
}
