//! Property fees' storage ([`FeeTx`]) on both backends: portable SQL with `$n` placeholders over
//! the tables of migration 0022. The running sums (a bill's `adjusted_fen` and `paid_fen`, a
//! payment's `refunded_fen`) move in the statement after the insert that records their cause,
//! inside the caller's transaction.

use crate::query::{Arg, Q};
use crate::tx::{SqlTx, decode, map_err};
use anfang_store::*;
use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

const ITEM_COLS: &str = "id, community_id, name, kind, active, created_at, created_by";
const BILL_COLS: &str = "id, community_id, building_id, house_id, period, period_start, period_end, due_on, \
     amount_fen, adjusted_fen, paid_fen, lines, created_at, created_by";
const PAYMENT_COLS: &str = "id, community_id, house_id, receipt_no, method, amount_fen, refunded_fen, cashier, \
     booked_on, paid_at, reference, provider, transaction_id, order_id, note";
const ORDER_COLS: &str =
    "id, order_no, community_id, house_id, provider, amount_fen, status, created_at, created_by, payment_id";
const CLOSING_COLS: &str = "community_id, cashier, day, closed_at, closed_by, totals";
const REFUND_COLS: &str = "id, payment_id, community_id, amount_fen, reason, cashier, booked_on, at";

fn item(r: &AnyRow) -> StoreResult<FeeItemRow> {
    let active: i64 = r.try_get("active").map_err(map_err)?;
    Ok(FeeItemRow {
        id: r.try_get("id").map_err(map_err)?,
        community_id: r.try_get("community_id").map_err(map_err)?,
        name: r.try_get("name").map_err(map_err)?,
        kind: r.try_get("kind").map_err(map_err)?,
        active: active != 0,
        created_at: r.try_get("created_at").map_err(map_err)?,
        created_by: r.try_get("created_by").map_err(map_err)?,
    })
}

fn bill(r: &AnyRow) -> StoreResult<FeeBillRow> {
    Ok(decode!(
        r,
        FeeBillRow {
            id,
            community_id,
            building_id,
            house_id,
            period,
            period_start,
            period_end,
            due_on,
            amount_fen,
            adjusted_fen,
            paid_fen,
            lines,
            created_at,
            created_by
        }
    ))
}

fn payment(r: &AnyRow) -> StoreResult<FeePaymentRow> {
    Ok(decode!(
        r,
        FeePaymentRow {
            id,
            community_id,
            house_id,
            receipt_no,
            method,
            amount_fen,
            refunded_fen,
            cashier,
            booked_on,
            paid_at,
            reference,
            provider,
            transaction_id,
            order_id,
            note
        }
    ))
}

fn order(r: &AnyRow) -> StoreResult<FeeOrderRow> {
    Ok(decode!(
        r,
        FeeOrderRow {
            id,
            order_no,
            community_id,
            house_id,
            provider,
            amount_fen,
            status,
            created_at,
            created_by,
            payment_id
        }
    ))
}

fn closing(r: &AnyRow) -> StoreResult<CashClosingRow> {
    let totals: Option<String> = r.try_get("totals").map_err(map_err)?;
    let closed_by: Option<String> = r.try_get("closed_by").map_err(map_err)?;
    Ok(CashClosingRow {
        community_id: r.try_get("community_id").map_err(map_err)?,
        cashier: r.try_get("cashier").map_err(map_err)?,
        day: r.try_get("day").map_err(map_err)?,
        closed_at: r.try_get("closed_at").map_err(map_err)?,
        closed_by: closed_by.unwrap_or_default(),
        totals: totals.unwrap_or_else(|| "{}".into()),
    })
}

fn refund(r: &AnyRow) -> StoreResult<FeeRefundRow> {
    Ok(decode!(
        r,
        FeeRefundRow {
            id,
            payment_id,
            community_id,
            amount_fen,
            reason,
            cashier,
            booked_on,
            at
        }
    ))
}

impl SqlTx {
    /// Runs an update guarded by a condition on the row it changes: no row changed is a
    /// conflict when the row exists (the guard refused), else not found. On PostgreSQL the
    /// update waits for a concurrent writer of the row and re-checks the guard after it.
    async fn guarded(
        &mut self,
        update: &Q,
        entity: &'static str,
        table: &str,
        id: i64,
        refused: &str,
    ) -> StoreResult<()> {
        if self.exec(update).await? == 1 {
            return Ok(());
        }
        let mut q = Q::new(&format!("SELECT id FROM {table} WHERE id = "));
        q.bind(id);
        match self.one(&q).await? {
            Some(_) => Err(StoreError::Conflict {
                detail: refused.to_string(),
            }),
            None => Err(StoreError::NotFound { entity }),
        }
    }
}

/// `INSERT INTO table (columns) VALUES (…)` with `values` bound in order.
fn insert_into(table: &str, columns: &str, values: Vec<Arg>) -> Q {
    let mut q = Q::new(&format!("INSERT INTO {table} ({columns}) VALUES ("));
    q.values(values).sql(")");
    q
}

#[async_trait]
impl FeeTx for SqlTx {
    async fn insert_fee_item(&mut self, new: &FeeItemRow) -> StoreResult<i64> {
        let mut q = insert_into(
            "fee_items",
            "community_id, name, kind, active, created_at, created_by",
            vec![
                new.community_id.into(),
                (&new.name).into(),
                (&new.kind).into(),
                i64::from(new.active).into(),
                new.created_at.into(),
                (&new.created_by).into(),
            ],
        );
        q.sql(" RETURNING id");
        self.insert(&q, "fee item").await
    }

    async fn fee_item(&mut self, id: i64) -> StoreResult<Option<FeeItemRow>> {
        let mut q = Q::new(&format!("SELECT {ITEM_COLS} FROM fee_items WHERE id = "));
        q.bind(id);
        self.one_as(&q, item).await
    }

    async fn fee_items(&mut self, community_id: i64) -> StoreResult<Vec<FeeItemRow>> {
        let mut q = Q::new(&format!(
            "SELECT {ITEM_COLS} FROM fee_items WHERE community_id = "
        ));
        q.bind(community_id).sql(" ORDER BY id");
        self.all(&q).await?.iter().map(item).collect()
    }

    async fn set_fee_item_active(&mut self, id: i64, active: bool) -> StoreResult<()> {
        let mut q = Q::new("UPDATE fee_items SET active = ");
        q.bind(i64::from(active)).sql(" WHERE id = ").bind(id);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::NotFound { entity: "fee item" });
        }
        Ok(())
    }

    async fn insert_fee_price(&mut self, new: &FeePriceRow) -> StoreResult<i64> {
        let mut q = insert_into(
            "fee_prices",
            "item_id, effective_from, body, created_at, created_by",
            vec![
                new.item_id.into(),
                (&new.effective_from).into(),
                (&new.body).into(),
                new.created_at.into(),
                (&new.created_by).into(),
            ],
        );
        q.sql(" RETURNING id");
        self.insert(&q, "fee price").await
    }

    async fn fee_prices(&mut self, item_ids: &[i64]) -> StoreResult<Vec<FeePriceRow>> {
        let mut q = Q::new(
            "SELECT id, item_id, effective_from, body, created_at, created_by FROM fee_prices WHERE item_id IN (",
        );
        q.bind_list(item_ids).sql(") ORDER BY item_id, effective_from");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    FeePriceRow {
                        id,
                        item_id,
                        effective_from,
                        body,
                        created_at,
                        created_by
                    }
                ))
            })
            .collect()
    }

    async fn fee_settings(&mut self, community_id: i64) -> StoreResult<Option<String>> {
        let mut q = Q::new("SELECT body FROM fee_settings WHERE community_id = ");
        q.bind(community_id);
        match self.one(&q).await? {
            Some(row) => Ok(Some(row.try_get("body").map_err(map_err)?)),
            None => Ok(None),
        }
    }

    async fn set_fee_settings(
        &mut self,
        community_id: i64,
        body: &str,
        at: i64,
        actor: &str,
    ) -> StoreResult<()> {
        let mut q = insert_into(
            "fee_settings",
            "community_id, body, updated_at, updated_by",
            vec![community_id.into(), body.into(), at.into(), actor.into()],
        );
        q.sql(
            " ON CONFLICT (community_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by",
        );
        self.exec(&q).await.map(|_| ())
    }

    async fn set_fee_terms(&mut self, row: &FeeTermsRow) -> StoreResult<()> {
        let mut q = insert_into(
            "fee_terms",
            "house_id, billable_from, billable_until, updated_at, updated_by",
            vec![
                row.house_id.into(),
                (&row.billable_from).into(),
                (&row.billable_until).into(),
                row.updated_at.into(),
                (&row.updated_by).into(),
            ],
        );
        q.sql(
            " ON CONFLICT (house_id) DO UPDATE SET billable_from = excluded.billable_from, \
             billable_until = excluded.billable_until, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by",
        );
        self.exec(&q).await.map(|_| ())
    }

    async fn fee_terms(&mut self, community_id: i64) -> StoreResult<Vec<FeeTermsRow>> {
        let mut q = Q::new(
            "SELECT t.house_id, t.billable_from, t.billable_until, t.updated_at, t.updated_by FROM fee_terms t \
             JOIN houses h ON h.id = t.house_id WHERE h.community_id = ",
        );
        q.bind(community_id).sql(" ORDER BY t.house_id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    FeeTermsRow {
                        house_id,
                        billable_from,
                        billable_until,
                        updated_at,
                        updated_by
                    }
                ))
            })
            .collect()
    }

    async fn insert_fee_subscription(&mut self, new: &FeeSubscriptionRow) -> StoreResult<i64> {
        let mut q = insert_into(
            "fee_subscriptions",
            "item_id, house_id, label, start_on, end_on, created_at, created_by",
            vec![
                new.item_id.into(),
                new.house_id.into(),
                (&new.label).into(),
                (&new.start_on).into(),
                (&new.end_on).into(),
                new.created_at.into(),
                (&new.created_by).into(),
            ],
        );
        q.sql(" RETURNING id");
        self.insert(&q, "fee subscription").await
    }

    async fn fee_subscriptions(&mut self, community_id: i64) -> StoreResult<Vec<FeeSubscriptionRow>> {
        let mut q = Q::new(
            "SELECT s.id, s.item_id, s.house_id, s.label, s.start_on, s.end_on, s.created_at, s.created_by \
             FROM fee_subscriptions s JOIN fee_items i ON i.id = s.item_id WHERE i.community_id = ",
        );
        q.bind(community_id).sql(" ORDER BY s.id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    FeeSubscriptionRow {
                        id,
                        item_id,
                        house_id,
                        label,
                        start_on,
                        end_on,
                        created_at,
                        created_by
                    }
                ))
            })
            .collect()
    }

    async fn insert_fee_discount(&mut self, new: &FeeDiscountRow) -> StoreResult<i64> {
        let mut q = insert_into(
            "fee_discounts",
            "house_id, item_id, off_bp, start_on, end_on, reason, created_at, created_by",
            vec![
                new.house_id.into(),
                new.item_id.into(),
                new.off_bp.into(),
                (&new.start_on).into(),
                (&new.end_on).into(),
                (&new.reason).into(),
                new.created_at.into(),
                (&new.created_by).into(),
            ],
        );
        q.sql(" RETURNING id");
        self.insert(&q, "fee discount").await
    }

    async fn fee_discounts(
        &mut self,
        community_id: i64,
        house_id: Option<i64>,
    ) -> StoreResult<Vec<FeeDiscountRow>> {
        let mut q = Q::new(
            "SELECT d.id, d.house_id, d.item_id, d.off_bp, d.start_on, d.end_on, d.reason, d.created_at, \
             d.created_by FROM fee_discounts d JOIN houses h ON h.id = d.house_id WHERE h.community_id = ",
        );
        q.bind(community_id)
            .and_eq("d.house_id", house_id)
            .sql(" ORDER BY d.id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    FeeDiscountRow {
                        id,
                        house_id,
                        item_id,
                        off_bp,
                        start_on,
                        end_on,
                        reason,
                        created_at,
                        created_by
                    }
                ))
            })
            .collect()
    }

    async fn insert_fee_reading(&mut self, new: &FeeReadingRow) -> StoreResult<i64> {
        let mut q = insert_into(
            "fee_readings",
            "item_id, period, target, units, created_at, created_by",
            vec![
                new.item_id.into(),
                (&new.period).into(),
                (&new.target).into(),
                new.units.into(),
                new.created_at.into(),
                (&new.created_by).into(),
            ],
        );
        q.sql(" RETURNING id");
        self.insert(&q, "fee reading").await
    }

    async fn fee_readings(&mut self, community_id: i64, period: &str) -> StoreResult<Vec<FeeReadingRow>> {
        let mut q = Q::new(
            "SELECT r.id, r.item_id, r.period, r.target, r.units, r.created_at, r.created_by FROM fee_readings r \
             JOIN fee_items i ON i.id = r.item_id WHERE i.community_id = ",
        );
        q.bind(community_id)
            .sql(" AND r.period = ")
            .bind(period)
            .sql(" ORDER BY r.id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    FeeReadingRow {
                        id,
                        item_id,
                        period,
                        target,
                        units,
                        created_at,
                        created_by
                    }
                ))
            })
            .collect()
    }

    async fn insert_fee_bill(&mut self, new: &FeeBillRow) -> StoreResult<Option<i64>> {
        let mut q = insert_into(
            "fee_bills",
            "community_id, building_id, house_id, period, period_start, period_end, due_on, amount_fen, \
             adjusted_fen, paid_fen, lines, created_at, created_by",
            vec![
                new.community_id.into(),
                new.building_id.into(),
                new.house_id.into(),
                (&new.period).into(),
                (&new.period_start).into(),
                (&new.period_end).into(),
                (&new.due_on).into(),
                new.amount_fen.into(),
                new.adjusted_fen.into(),
                new.paid_fen.into(),
                (&new.lines).into(),
                new.created_at.into(),
                (&new.created_by).into(),
            ],
        );
        q.sql(" ON CONFLICT (house_id, period) DO NOTHING RETURNING id");
        match self.one(&q).await? {
            Some(row) => Ok(Some(row.try_get("id").map_err(map_err)?)),
            None => Ok(None),
        }
    }

    async fn fee_bill(&mut self, id: i64) -> StoreResult<Option<FeeBillRow>> {
        let mut q = Q::new(&format!("SELECT {BILL_COLS} FROM fee_bills WHERE id = "));
        q.bind(id);
        self.one_as(&q, bill).await
    }

    async fn fee_bills(&mut self, filter: &FeeBillFilter, page: Page) -> StoreResult<Paged<FeeBillRow>> {
        let mut q = Q::new("FROM fee_bills WHERE 1 = 1");
        q.and_in("community_id", filter.community_ids.as_ref())
            .and_in("house_id", filter.house_ids.as_ref())
            .and_eq("community_id", filter.community_id)
            .and_eq("house_id", filter.house_id)
            .and_eq("period", filter.period.as_ref());
        if filter.open_only {
            q.sql(" AND amount_fen + adjusted_fen > paid_fen");
        }
        if let Some(from) = &filter.start_from {
            q.sql(" AND period_start >= ").bind(from);
        }
        if let Some(until) = &filter.start_until {
            q.sql(" AND period_start <= ").bind(until);
        }
        self.paged(BILL_COLS, &q, "period_start, id", page, bill).await
    }

    async fn insert_fee_adjustment(&mut self, new: &FeeAdjustmentRow) -> StoreResult<i64> {
        // The guarded update first: it takes the bill's row, and re-checks after waiting.
        let mut q = Q::new("UPDATE fee_bills SET adjusted_fen = adjusted_fen + ");
        q.bind(new.amount_fen)
            .sql(" WHERE id = ")
            .bind(new.bill_id)
            .sql(" AND amount_fen + adjusted_fen + ")
            .bind(new.amount_fen)
            .sql(" >= paid_fen");
        self.guarded(
            &q,
            "fee bill",
            "fee_bills",
            new.bill_id,
            "the bill would come to less than was paid",
        )
        .await?;
        let mut q = insert_into(
            "fee_adjustments",
            "bill_id, amount_fen, reason, actor, at",
            vec![
                new.bill_id.into(),
                new.amount_fen.into(),
                (&new.reason).into(),
                (&new.actor).into(),
                new.at.into(),
            ],
        );
        q.sql(" RETURNING id");
        self.insert(&q, "fee adjustment").await
    }
    async fn fee_adjustments(&mut self, bill_id: i64) -> StoreResult<Vec<FeeAdjustmentRow>> {
        let mut q =
            Q::new("SELECT id, bill_id, amount_fen, reason, actor, at FROM fee_adjustments WHERE bill_id = ");
        q.bind(bill_id).sql(" ORDER BY id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    FeeAdjustmentRow {
                        id,
                        bill_id,
                        amount_fen,
                        reason,
                        actor,
                        at
                    }
                ))
            })
            .collect()
    }

    async fn next_receipt_seq(&mut self, community_id: i64, year: i32) -> StoreResult<i64> {
        // One row per community and year, moved by an upsert: on PostgreSQL the row lock orders
        // concurrent payments; on SQLite writers are serialized already.
        let mut q = insert_into(
            "fee_receipt_counters",
            "community_id, year, last_seq",
            vec![community_id.into(), i64::from(year).into(), 1_i64.into()],
        );
        q.sql(
            " ON CONFLICT (community_id, year) DO UPDATE SET last_seq = fee_receipt_counters.last_seq + 1 \
             RETURNING last_seq",
        );
        let row = self.one(&q).await?.ok_or(StoreError::NotFound {
            entity: "receipt counter",
        })?;
        row.try_get("last_seq").map_err(map_err)
    }

    async fn insert_fee_payment(&mut self, new: &FeePaymentRow) -> StoreResult<i64> {
        let mut q = insert_into(
            "fee_payments",
            "community_id, house_id, receipt_no, method, amount_fen, refunded_fen, cashier, booked_on, paid_at, \
             reference, provider, transaction_id, order_id, note",
            vec![
                new.community_id.into(),
                new.house_id.into(),
                (&new.receipt_no).into(),
                (&new.method).into(),
                new.amount_fen.into(),
                new.refunded_fen.into(),
                (&new.cashier).into(),
                (&new.booked_on).into(),
                new.paid_at.into(),
                (&new.reference).into(),
                (&new.provider).into(),
                (&new.transaction_id).into(),
                new.order_id.into(),
                (&new.note).into(),
            ],
        );
        q.sql(" RETURNING id");
        self.insert(&q, "fee payment").await
    }

    async fn fee_payment(&mut self, id: i64) -> StoreResult<Option<FeePaymentRow>> {
        let mut q = Q::new(&format!("SELECT {PAYMENT_COLS} FROM fee_payments WHERE id = "));
        q.bind(id);
        self.one_as(&q, payment).await
    }

    async fn fee_payment_by_transaction(
        &mut self,
        provider: &str,
        transaction_id: &str,
    ) -> StoreResult<Option<FeePaymentRow>> {
        let mut q = Q::new(&format!(
            "SELECT {PAYMENT_COLS} FROM fee_payments WHERE provider = "
        ));
        q.bind(provider)
            .sql(" AND transaction_id = ")
            .bind(transaction_id);
        self.one_as(&q, payment).await
    }

    async fn fee_payments(
        &mut self,
        filter: &FeePaymentFilter,
        page: Page,
    ) -> StoreResult<Paged<FeePaymentRow>> {
        let mut q = Q::new("FROM fee_payments WHERE 1 = 1");
        q.and_in("community_id", filter.community_ids.as_ref())
            .and_in("house_id", filter.house_ids.as_ref())
            .and_eq("community_id", filter.community_id)
            .and_eq("house_id", filter.house_id)
            .and_eq("cashier", filter.cashier.as_ref());
        if let Some(from) = &filter.booked_from {
            q.sql(" AND booked_on >= ").bind(from);
        }
        if let Some(until) = &filter.booked_until {
            q.sql(" AND booked_on <= ").bind(until);
        }
        self.paged(PAYMENT_COLS, &q, "id", page, payment).await
    }

    async fn insert_fee_allocation(&mut self, new: &FeeAllocationRow) -> StoreResult<i64> {
        // A bill is never paid beyond its amount, nor below nothing.
        let mut q = Q::new("UPDATE fee_bills SET paid_fen = paid_fen + ");
        q.bind(new.amount_fen)
            .sql(" WHERE id = ")
            .bind(new.bill_id)
            .sql(" AND paid_fen + ")
            .bind(new.amount_fen)
            .sql(" <= amount_fen + adjusted_fen AND paid_fen + ")
            .bind(new.amount_fen)
            .sql(" >= 0");
        self.guarded(
            &q,
            "fee bill",
            "fee_bills",
            new.bill_id,
            "the bill would be paid beyond its amount",
        )
        .await?;
        let mut q = insert_into(
            "fee_allocations",
            "payment_id, bill_id, amount_fen, at",
            vec![
                new.payment_id.into(),
                new.bill_id.into(),
                new.amount_fen.into(),
                new.at.into(),
            ],
        );
        q.sql(" RETURNING id");
        self.insert(&q, "fee allocation").await
    }
    async fn fee_allocations(
        &mut self,
        payment_ids: Option<&[i64]>,
        bill_ids: Option<&[i64]>,
    ) -> StoreResult<Vec<FeeAllocationRow>> {
        let mut q = Q::new("SELECT id, payment_id, bill_id, amount_fen, at FROM fee_allocations WHERE 1 = 1");
        if let Some(ids) = payment_ids {
            q.sql(" AND payment_id IN (").bind_list(ids).sql(")");
        }
        if let Some(ids) = bill_ids {
            q.sql(" AND bill_id IN (").bind_list(ids).sql(")");
        }
        q.sql(" ORDER BY id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    FeeAllocationRow {
                        id,
                        payment_id,
                        bill_id,
                        amount_fen,
                        at
                    }
                ))
            })
            .collect()
    }

    async fn insert_fee_refund(&mut self, new: &FeeRefundRow) -> StoreResult<i64> {
        // A payment is never refunded beyond its amount.
        let mut q = Q::new("UPDATE fee_payments SET refunded_fen = refunded_fen + ");
        q.bind(new.amount_fen)
            .sql(" WHERE id = ")
            .bind(new.payment_id)
            .sql(" AND refunded_fen + ")
            .bind(new.amount_fen)
            .sql(" <= amount_fen");
        self.guarded(
            &q,
            "fee payment",
            "fee_payments",
            new.payment_id,
            "the payment would be refunded beyond its amount",
        )
        .await?;
        let mut q = insert_into(
            "fee_refunds",
            "payment_id, community_id, amount_fen, reason, cashier, booked_on, at",
            vec![
                new.payment_id.into(),
                new.community_id.into(),
                new.amount_fen.into(),
                (&new.reason).into(),
                (&new.cashier).into(),
                (&new.booked_on).into(),
                new.at.into(),
            ],
        );
        q.sql(" RETURNING id");
        self.insert(&q, "fee refund").await
    }
    async fn fee_refunds(
        &mut self,
        payment_id: Option<i64>,
        community_id: Option<i64>,
        cashier: Option<&str>,
        days: Option<(&str, &str)>,
    ) -> StoreResult<Vec<FeeRefundRow>> {
        let mut q = Q::new(&format!("SELECT {REFUND_COLS} FROM fee_refunds WHERE 1 = 1"));
        q.and_eq("payment_id", payment_id)
            .and_eq("community_id", community_id)
            .and_eq("cashier", cashier);
        if let Some((from, until)) = days {
            q.sql(" AND booked_on >= ")
                .bind(from)
                .sql(" AND booked_on <= ")
                .bind(until);
        }
        q.sql(" ORDER BY id");
        self.all(&q).await?.iter().map(refund).collect()
    }

    async fn insert_fee_order(&mut self, new: &FeeOrderRow) -> StoreResult<i64> {
        let mut q = insert_into(
            "fee_orders",
            "order_no, community_id, house_id, provider, amount_fen, status, created_at, created_by, payment_id",
            vec![
                (&new.order_no).into(),
                new.community_id.into(),
                new.house_id.into(),
                (&new.provider).into(),
                new.amount_fen.into(),
                (&new.status).into(),
                new.created_at.into(),
                (&new.created_by).into(),
                new.payment_id.into(),
            ],
        );
        q.sql(" RETURNING id");
        self.insert(&q, "fee order").await
    }

    async fn fee_order(&mut self, id: i64) -> StoreResult<Option<FeeOrderRow>> {
        let mut q = Q::new(&format!("SELECT {ORDER_COLS} FROM fee_orders WHERE id = "));
        q.bind(id);
        self.one_as(&q, order).await
    }

    async fn fee_order_by_no(&mut self, order_no: &str) -> StoreResult<Option<FeeOrderRow>> {
        let mut q = Q::new(&format!("SELECT {ORDER_COLS} FROM fee_orders WHERE order_no = "));
        q.bind(order_no);
        self.one_as(&q, order).await
    }

    async fn settle_fee_order(
        &mut self,
        id: i64,
        status: &str,
        payment_id: Option<i64>,
    ) -> StoreResult<bool> {
        let mut q = Q::new("UPDATE fee_orders SET status = ");
        q.bind(status)
            .sql(", payment_id = ")
            .bind(payment_id)
            .sql(" WHERE status = 'pending' AND id = ")
            .bind(id);
        Ok(self.exec(&q).await? == 1)
    }

    async fn book_cash_entry(&mut self, community_id: i64, cashier: &str, day: &str) -> StoreResult<bool> {
        let mut q = insert_into(
            "fee_cash_books",
            "community_id, cashier, day, entries",
            vec![community_id.into(), cashier.into(), day.into(), 1_i64.into()],
        );
        q.sql(
            " ON CONFLICT (community_id, cashier, day) DO UPDATE SET entries = fee_cash_books.entries + 1 \
             WHERE fee_cash_books.closed_at IS NULL RETURNING entries",
        );
        Ok(self.one(&q).await?.is_some())
    }

    async fn close_cash_book(
        &mut self,
        community_id: i64,
        cashier: &str,
        day: &str,
        at: i64,
        by: &str,
    ) -> StoreResult<bool> {
        let mut q = insert_into(
            "fee_cash_books",
            "community_id, cashier, day, entries, closed_at, closed_by",
            vec![
                community_id.into(),
                cashier.into(),
                day.into(),
                0_i64.into(),
                at.into(),
                by.into(),
            ],
        );
        q.sql(
            " ON CONFLICT (community_id, cashier, day) DO UPDATE SET closed_at = excluded.closed_at, \
             closed_by = excluded.closed_by WHERE fee_cash_books.closed_at IS NULL",
        );
        Ok(self.exec(&q).await? == 1)
    }

    async fn set_cash_book_totals(
        &mut self,
        community_id: i64,
        cashier: &str,
        day: &str,
        totals: &str,
    ) -> StoreResult<()> {
        let mut q = Q::new("UPDATE fee_cash_books SET totals = ");
        q.bind(totals)
            .sql(" WHERE community_id = ")
            .bind(community_id)
            .sql(" AND cashier = ")
            .bind(cashier)
            .sql(" AND day = ")
            .bind(day);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::NotFound { entity: "cash book" });
        }
        Ok(())
    }

    async fn cash_closing(
        &mut self,
        community_id: i64,
        cashier: &str,
        day: &str,
    ) -> StoreResult<Option<CashClosingRow>> {
        let mut q = Q::new(&format!(
            "SELECT {CLOSING_COLS} FROM fee_cash_books WHERE closed_at IS NOT NULL AND community_id = "
        ));
        q.bind(community_id)
            .sql(" AND cashier = ")
            .bind(cashier)
            .sql(" AND day = ")
            .bind(day);
        self.one_as(&q, closing).await
    }

    async fn cash_closings(&mut self, community_id: i64, day: &str) -> StoreResult<Vec<CashClosingRow>> {
        let mut q = Q::new(&format!(
            "SELECT {CLOSING_COLS} FROM fee_cash_books WHERE closed_at IS NOT NULL AND community_id = "
        ));
        q.bind(community_id)
            .sql(" AND day = ")
            .bind(day)
            .sql(" ORDER BY cashier");
        self.all(&q).await?.iter().map(closing).collect()
    }

    async fn insert_fee_reminder(&mut self, new: &FeeReminderRow) -> StoreResult<i64> {
        let mut q = insert_into(
            "fee_reminders",
            "community_id, house_id, overdue_fen, oldest_due_on, at",
            vec![
                new.community_id.into(),
                new.house_id.into(),
                new.overdue_fen.into(),
                (&new.oldest_due_on).into(),
                new.at.into(),
            ],
        );
        q.sql(" RETURNING id");
        self.insert(&q, "fee reminder").await
    }

    async fn last_fee_reminders(&mut self, community_id: i64) -> StoreResult<Vec<(i64, i64)>> {
        let mut q = Q::new("SELECT house_id, MAX(at) AS last_at FROM fee_reminders WHERE community_id = ");
        q.bind(community_id).sql(" GROUP BY house_id ORDER BY house_id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("house_id").map_err(map_err)?,
                    r.try_get("last_at").map_err(map_err)?,
                ))
            })
            .collect()
    }

    async fn parking_income(
        &mut self,
        community_id: i64,
        since: i64,
        until: i64,
    ) -> StoreResult<Vec<ParkingPaymentRow>> {
        let mut q = Q::new(
            "SELECT p.id, p.session_id, p.amount_cents, p.method, p.recorded_by, p.paid_at, p.refunded_at \
             FROM parking_payments p JOIN parking_sessions s ON s.id = p.session_id WHERE s.community_id = ",
        );
        q.bind(community_id)
            .sql(" AND p.refunded_at IS NULL AND p.paid_at >= ")
            .bind(since)
            .sql(" AND p.paid_at < ")
            .bind(until)
            .sql(" ORDER BY p.paid_at, p.id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    ParkingPaymentRow {
                        id,
                        session_id,
                        amount_cents,
                        method,
                        recorded_by,
                        paid_at,
                        refunded_at
                    }
                ))
            })
            .collect()
    }
}
