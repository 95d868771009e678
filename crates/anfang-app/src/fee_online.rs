//! Property fees: online payment. A house (its resident, or a cashier at the counter) opens an
//! order with a configured payment provider; the provider confirms by a signed callback, which
//! records the payment once per provider transaction — a replay gets the same receipt and
//! writes nothing — after checking the amount against the pending order. The callback's
//! signature is checked by the transport (`anfang-api`) with the provider's secret from
//! [`App::payment_secret`], in the scheme of device HTTP push (see `docs/design/fees.md`).
//! Online payments are booked in the provider's own cash book, `online:PROVIDER`.

use crate::fee_payments::{Draft, Receipt};
use crate::fees::{cst_day, positive_amount};
use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::fees::PayMethod;
use anfang_store::*;
use serde_json::json;
use std::collections::BTreeMap;

/// A payment provider the platform takes online payments from.
#[derive(Clone)]
pub struct PaymentProvider {
    /// Its name in the callback URL (`[a-z0-9_-]`, 1 to 32 characters).
    pub name: String,
    /// The shared secret its callbacks are signed with.
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for PaymentProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentProvider")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The configured providers' secrets by name; `Debug` shows the names only.
#[derive(Default)]
pub(crate) struct Providers(BTreeMap<String, Vec<u8>>);

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// Whether a provider name is usable in a URL and a cashier name.
pub fn valid_provider_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A provider's confirmation of an online payment (signature already checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineCallback {
    /// The provider (from the URL).
    pub provider: String,
    /// The provider's transaction id: the idempotency key.
    pub transaction_id: String,
    /// The order it pays.
    pub order_no: String,
    /// What the provider took (fen).
    pub amount_fen: i64,
    /// Paid, or failed (the order is closed unpaid).
    pub paid: bool,
}

/// What a callback came to.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackOutcome {
    /// Paid: the receipt; `replay` when this transaction was recorded before.
    Paid {
        /// The receipt.
        receipt: Box<Receipt>,
        /// Recorded by an earlier call.
        replay: bool,
    },
    /// The provider reported a failure; the order is closed.
    Failed {
        /// The order.
        order: FeeOrderRow,
    },
}

impl App {
    /// Adds the payment providers whose signed callbacks are accepted (the composition root
    /// reads their secrets from the data directory's key file).
    pub fn with_payment_providers(mut self, providers: Vec<PaymentProvider>) -> App {
        self.payment_providers = std::sync::Arc::new(Providers(
            providers
                .into_iter()
                .filter(|p| valid_provider_name(&p.name) && !p.secret.is_empty())
                .map(|p| (p.name, p.secret))
                .collect(),
        ));
        self
    }

    /// The secret a provider signs its callbacks with (`None`: not a provider of this platform).
    pub fn payment_secret(&self, provider: &str) -> Option<&[u8]> {
        self.payment_providers.0.get(provider).map(Vec::as_slice)
    }

    /// Opens an online-payment order for a house (residents: their own), for what it owes or a
    /// given amount (paying ahead). The provider is sent the order number and amount.
    pub async fn create_fee_order(
        &self,
        who: &Principal,
        house_id: i64,
        provider: &str,
        amount_fen: Option<i64>,
    ) -> AppResult<FeeOrderRow> {
        who.require(Permission::ReadFees)?;
        if self.payment_secret(provider).is_none() {
            return Err(AppError::invalid(
                "unknown_provider",
                "provider",
                "no payment provider of this name is configured",
            ));
        }
        let mut tx = self.store.write().await?;
        let house = self.fee_house(who, &mut tx, house_id).await?;
        if who.scope.houses.is_none() {
            // Staff open orders for a house at the counter; residents for their own house.
            who.require(Permission::CollectFees)?;
        }
        let amount = match amount_fen {
            Some(fen) => positive_amount("amount_fen", fen)?,
            None => {
                let owed: i64 = self
                    .open_bills(&mut tx, house_id)
                    .await?
                    .iter()
                    .map(|b| b.outstanding_fen)
                    .sum();
                if owed <= 0 {
                    return Err(AppError::invalid(
                        "nothing_due",
                        "amount_fen",
                        "nothing is due; give an amount to pay ahead",
                    ));
                }
                owed
            }
        };
        let now = self.clock.now_ms();
        let order_no = format!(
            "FO{}{}",
            cst_day(now).format("%Y%m%d"),
            hex::encode(anfang_base::random_bytes(6)).to_uppercase()
        );
        let mut row = FeeOrderRow {
            id: 0,
            order_no,
            community_id: house.community_id,
            house_id,
            provider: provider.to_string(),
            amount_fen: amount,
            status: "pending".into(),
            created_at: now,
            created_by: who.actor(),
            payment_id: None,
        };
        row.id = tx.insert_fee_order(&row).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "fees.order_create",
                &format!("fee_order:{}", row.id),
                json!({"order_no": row.order_no, "house_id": house_id, "provider": provider, "amount_fen": amount}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// One order (residents: their own house's).
    pub async fn fee_order(&self, who: &Principal, id: i64) -> AppResult<FeeOrderRow> {
        who.require(Permission::ReadFees)?;
        let mut tx = self.store.read().await?;
        let order = tx
            .fee_order(id)
            .await?
            .ok_or(AppError::NotFound { entity: "order" })?;
        if !who.scope.has_house(order.community_id, order.house_id) {
            return Err(AppError::NotFound { entity: "order" });
        }
        Ok(order)
    }

    /// A provider's confirmation, its signature checked by the caller: records the payment once
    /// per provider transaction (a replay returns the first receipt and writes nothing), after
    /// checking the amount against the pending order. The payment is booked in the provider's
    /// cash book (`online:PROVIDER`) today, or on the next open day when today's is closed — a
    /// provider is never refused over bookkeeping.
    pub async fn settle_online_payment(&self, cb: &OnlineCallback) -> AppResult<CallbackOutcome> {
        if self.payment_secret(&cb.provider).is_none() {
            return Err(AppError::NotFound { entity: "provider" });
        }
        let txn = cb.transaction_id.trim();
        if txn.is_empty() || txn.len() > 64 || txn.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "invalid_value",
                "transaction_id",
                "a transaction id is 1 to 64 printable characters",
            ));
        }
        match self.settle_once(cb, txn).await {
            // Two deliveries of one transaction at once: the second lost the race on the unique
            // (provider, transaction) and answers like a replay.
            Err(AppError::Store(StoreError::Conflict { .. })) => {
                let mut tx = self.store.read().await?;
                match tx.fee_payment_by_transaction(&cb.provider, txn).await? {
                    Some(p) => Ok(CallbackOutcome::Paid {
                        receipt: Box::new(self.receipt_in(&mut tx, p.id).await?),
                        replay: true,
                    }),
                    None => Err(AppError::Conflict {
                        code: "conflict",
                        message: "the payment could not be recorded; retry".into(),
                    }),
                }
            }
            other => other,
        }
    }

    async fn settle_once(&self, cb: &OnlineCallback, txn: &str) -> AppResult<CallbackOutcome> {
        let mut tx = self.store.write().await?;
        if let Some(p) = tx.fee_payment_by_transaction(&cb.provider, txn).await? {
            metrics::counter!("anfang_payment_callbacks_total", "outcome" => "replay").increment(1);
            return Ok(CallbackOutcome::Paid {
                receipt: Box::new(self.receipt_in(&mut tx, p.id).await?),
                replay: true,
            });
        }
        let order = tx
            .fee_order_by_no(cb.order_no.trim())
            .await?
            .filter(|o| o.provider == cb.provider)
            .ok_or(AppError::NotFound { entity: "order" })?;
        let actor = format!("provider:{}", cb.provider);
        if !cb.paid && order.status == "failed" {
            // The provider telling a failure again: the same answer.
            return Ok(CallbackOutcome::Failed { order });
        }
        if order.status != "pending" {
            return Err(AppError::Conflict {
                code: "order_settled",
                message: format!("order {} is {} already", order.order_no, order.status),
            });
        }
        if !cb.paid {
            tx.settle_fee_order(order.id, "failed", None).await?;
            let audit = self
                .audit(
                    &mut tx,
                    &actor,
                    "fees.order_failed",
                    &format!("fee_order:{}", order.id),
                    json!({"order_no": order.order_no, "transaction_id": txn}),
                )
                .await?;
            self.commit(tx, Some(&audit)).await?;
            metrics::counter!("anfang_payment_callbacks_total", "outcome" => "failed").increment(1);
            return Ok(CallbackOutcome::Failed {
                order: FeeOrderRow {
                    status: "failed".into(),
                    ..order
                },
            });
        }
        if cb.amount_fen != order.amount_fen {
            return Err(AppError::Conflict {
                code: "amount_mismatch",
                message: format!(
                    "order {} is for {} fen, the callback says {} fen",
                    order.order_no, order.amount_fen, cb.amount_fen
                ),
            });
        }
        let house = tx
            .house(order.house_id)
            .await?
            .ok_or(AppError::NotFound { entity: "house" })?;
        let cashier = format!("online:{}", cb.provider);
        let mut day = cst_day(self.clock.now_ms());
        while !tx
            .book_cash_entry(house.community_id, &cashier, &day.to_string())
            .await?
        {
            day = day.succ_opt().unwrap_or(day);
        }
        let draft = Draft {
            house: &house,
            method: PayMethod::Online,
            amount_fen: order.amount_fen,
            cashier,
            booked_on: day,
            reference: Some(order.order_no.clone()),
            provider: Some(cb.provider.clone()),
            transaction_id: Some(txn.to_string()),
            order_id: Some(order.id),
            note: String::new(),
        };
        let (id, audit) = self.record_payment(&mut tx, &actor, draft).await?;
        if !tx.settle_fee_order(order.id, "paid", Some(id)).await? {
            return Err(AppError::Conflict {
                code: "order_settled",
                message: format!("order {} was settled meanwhile", order.order_no),
            });
        }
        let receipt = self.receipt_in(&mut tx, id).await?;
        self.commit(tx, Some(&audit)).await?;
        metrics::counter!("anfang_payment_callbacks_total", "outcome" => "paid").increment(1);
        Ok(CallbackOutcome::Paid {
            receipt: Box::new(receipt),
            replay: false,
        })
    }
}
