//! Property fees: the cash book (收款日记账). Each payment and refund is booked on a cashier's
//! day in a community — `user:NAME` for the office, `online:PROVIDER` for online payments —
//! listed with its totals by method. Closing a day keeps its totals and locks it: a later
//! payment or refund dated on it is refused (409) and goes on the next day. The periodic job
//! closes at day end the books left open.

use crate::fees::{SYSTEM_ACTOR, cst_day, parse_day, stored_day};
use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::fees::PayMethod;
use anfang_store::*;
use chrono::{Days, NaiveDate};
use serde_json::json;

/// Totals of a cash book.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CashTotals {
    /// Cash taken (fen).
    pub cash_fen: i64,
    /// Transfers (fen).
    pub transfer_fen: i64,
    /// Online (fen).
    pub online_fen: i64,
    /// Refunded (fen).
    pub refunds_fen: i64,
    /// Taken minus refunded (fen).
    pub net_fen: i64,
    /// Receipts.
    pub receipts: usize,
}

/// A cashier's day in a community.
#[derive(Debug, Clone, PartialEq)]
pub struct CashBook {
    /// Community.
    pub community_id: i64,
    /// The cashier (`user:NAME` or `online:PROVIDER`).
    pub cashier: String,
    /// The day.
    pub day: String,
    /// Receipts booked on it.
    pub payments: Vec<FeePaymentRow>,
    /// Refunds booked on it.
    pub refunds: Vec<FeeRefundRow>,
    /// Totals.
    pub totals: CashTotals,
    /// Its closing, once closed.
    pub closed: Option<CashClosingRow>,
}

impl App {
    /// Counts an entry in `cashier`'s day `day`, or fails with `cash_book_closed` (409) when
    /// the day is closed. Called before the entry is recorded, in its transaction: the book's
    /// row orders the entry and a closing of the day, so neither misses the other.
    pub(crate) async fn book_entry(
        &self,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
        cashier: &str,
        day: NaiveDate,
    ) -> AppResult<()> {
        if !tx
            .book_cash_entry(community_id, cashier, &day.to_string())
            .await?
        {
            let next = day.succ_opt().unwrap_or(day);
            return Err(AppError::Conflict {
                code: "cash_book_closed",
                message: format!("the cash book of {day} is closed; book the entry on {next} or later"),
            });
        }
        Ok(())
    }

    /// Which cash book `who` asks for: their own, or (managers) another cashier's.
    fn book_owner(&self, who: &Principal, cashier: Option<&str>) -> AppResult<String> {
        who.require(Permission::CollectFees)?;
        match cashier.map(str::trim).filter(|c| !c.is_empty()) {
            None => Ok(who.actor()),
            Some(c) if c == who.actor() => Ok(c.to_string()),
            Some(c) => {
                who.require(Permission::ManageFees)?;
                if c.len() > 80 || c.chars().any(char::is_control) {
                    return Err(AppError::invalid(
                        "invalid_value",
                        "cashier",
                        "a cashier is user:NAME or online:PROVIDER",
                    ));
                }
                Ok(c.to_string())
            }
        }
    }

    async fn cash_book_in(
        &self,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
        cashier: &str,
        day: NaiveDate,
    ) -> AppResult<CashBook> {
        let d = day.to_string();
        let payments = tx
            .fee_payments(
                &FeePaymentFilter {
                    community_id: Some(community_id),
                    cashier: Some(cashier.to_string()),
                    booked_from: Some(d.clone()),
                    booked_until: Some(d.clone()),
                    ..FeePaymentFilter::default()
                },
                Page::ALL,
            )
            .await?
            .items;
        let refunds = tx
            .fee_refunds(None, Some(community_id), Some(cashier), Some((&d, &d)))
            .await?;
        let mut totals = CashTotals {
            receipts: payments.len(),
            ..CashTotals::default()
        };
        for p in &payments {
            match PayMethod::parse(&p.method) {
                Ok(PayMethod::Cash) => totals.cash_fen += p.amount_fen,
                Ok(PayMethod::Transfer) => totals.transfer_fen += p.amount_fen,
                _ => totals.online_fen += p.amount_fen,
            }
        }
        totals.refunds_fen = refunds.iter().map(|r| r.amount_fen).sum();
        totals.net_fen = totals.cash_fen + totals.transfer_fen + totals.online_fen - totals.refunds_fen;
        Ok(CashBook {
            community_id,
            cashier: cashier.to_string(),
            closed: tx.cash_closing(community_id, cashier, &d).await?,
            day: d,
            payments,
            refunds,
            totals,
        })
    }

    /// A cashier's day (default: the caller's, today): receipts by method, refunds, totals.
    pub async fn cash_book(
        &self,
        who: &Principal,
        community_id: i64,
        day: Option<&str>,
        cashier: Option<&str>,
    ) -> AppResult<CashBook> {
        let cashier = self.book_owner(who, cashier)?;
        let day = match day {
            Some(d) => parse_day("day", d)?,
            None => cst_day(self.clock.now_ms()),
        };
        let mut tx = self.store.read().await?;
        self.fee_community(who, &mut tx, community_id).await?;
        self.cash_book_in(&mut tx, community_id, &cashier, day).await
    }

    /// Closes a cashier's day (default: the caller's, today): its totals are kept and no later
    /// payment or refund may be dated on it.
    pub async fn close_cash_book(
        &self,
        who: &Principal,
        community_id: i64,
        day: Option<&str>,
        cashier: Option<&str>,
    ) -> AppResult<CashBook> {
        let cashier = self.book_owner(who, cashier)?;
        let today = cst_day(self.clock.now_ms());
        let day = match day {
            Some(d) => parse_day("day", d)?,
            None => today,
        };
        if day > today {
            return Err(AppError::invalid(
                "invalid_date",
                "day",
                "a day is closed at its end, not before it begins",
            ));
        }
        let mut tx = self.store.write().await?;
        self.fee_community(who, &mut tx, community_id).await?;
        let audit = self
            .close_book_in(&mut tx, &who.actor(), community_id, &cashier, day)
            .await?
            .ok_or_else(|| AppError::Conflict {
                code: "already_closed",
                message: format!("the cash book of {cashier} on {day} is closed already"),
            })?;
        let book = self.cash_book_in(&mut tx, community_id, &cashier, day).await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(book)
    }

    /// Closes a book inside `tx`; `None` when it was closed already.
    async fn close_book_in(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &str,
        community_id: i64,
        cashier: &str,
        day: NaiveDate,
    ) -> AppResult<Option<AuditRow>> {
        // Closing first: it waits for entries in flight on the day, so the totals read next
        // hold every entry the day will ever have.
        let closed = tx
            .close_cash_book(
                community_id,
                cashier,
                &day.to_string(),
                self.clock.now_ms(),
                actor,
            )
            .await?;
        if !closed {
            return Ok(None);
        }
        let book = self.cash_book_in(tx, community_id, cashier, day).await?;
        let totals = serde_json::to_string(&book.totals).map_err(|e| AppError::Internal(e.to_string()))?;
        tx.set_cash_book_totals(community_id, cashier, &day.to_string(), &totals)
            .await?;
        Ok(Some(
            self.audit(
                tx,
                actor,
                "fees.cash_book_close",
                &format!("community:{community_id}"),
                json!({"cashier": cashier, "day": day.to_string(), "totals": book.totals}),
            )
            .await?,
        ))
    }

    /// Closes, at day end, the books of the last week's days that have entries and were left
    /// open; returns how many.
    pub(crate) async fn close_past_books(&self, community_id: i64) -> AppResult<usize> {
        let today = cst_day(self.clock.now_ms());
        let (from, until) = (today - Days::new(7), today - Days::new(1));
        let mut tx = self.store.write().await?;
        let mut books: Vec<(String, String)> = tx
            .fee_payments(
                &FeePaymentFilter {
                    community_id: Some(community_id),
                    booked_from: Some(from.to_string()),
                    booked_until: Some(until.to_string()),
                    ..FeePaymentFilter::default()
                },
                Page::ALL,
            )
            .await?
            .items
            .into_iter()
            .map(|p| (p.cashier, p.booked_on))
            .collect();
        let refunds = tx
            .fee_refunds(
                None,
                Some(community_id),
                None,
                Some((&from.to_string(), &until.to_string())),
            )
            .await?;
        books.extend(refunds.into_iter().map(|r| (r.cashier, r.booked_on)));
        books.sort();
        books.dedup();
        let mut closed = 0;
        let mut last = None;
        for (cashier, day) in books {
            if let Some(audit) = self
                .close_book_in(&mut tx, SYSTEM_ACTOR, community_id, &cashier, stored_day(&day)?)
                .await?
            {
                closed += 1;
                last = Some(audit);
            }
        }
        if closed > 0 {
            self.commit(tx, last.as_ref()).await?;
        }
        Ok(closed)
    }
}
