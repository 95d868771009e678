//! Vehicle gates and temporary parking: a plate read at a lane opens for registered residents'
//! cars and invited visitors' cars; any other car entering opens a temporary-parking session;
//! leaving, its fee is computed by the community's tariff (free minutes, day/night rates, daily
//! cap), the gate stays closed until it is paid (recorded, refundable), and the exit read is
//! paired with its entry even when one character was misread at low confidence. Monthly passes
//! (月卡) open within their dates without a session.

use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::access::{AccessDecision, Reason};
pub use anfang_domain::parking::Tariff;
use anfang_domain::parking::{OpenSession, match_exit, parking_fee};
use anfang_domain::plate::normalize_plate;
use anfang_store::*;
use serde_json::json;

/// How long after paying a car may leave without owing more.
pub const EXIT_GRACE_MS: i64 = 15 * 60 * 1000;

/// A session as shown, with what is still due.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    /// The stored session.
    pub session: ParkingSessionRow,
    /// What the car owes if it left now (cents): the fee so far minus what was paid.
    pub due_cents: i64,
}

/// Sell a parking pass.
#[derive(Debug, Clone)]
pub struct SellPass {
    /// Community.
    pub community_id: i64,
    /// The plate.
    pub plate_number: String,
    /// Holder's name.
    pub holder_name: String,
    /// First day, `YYYY-MM-DD` (local).
    pub valid_from: String,
    /// Last day, inclusive.
    pub valid_until: String,
    /// What was paid, in cents.
    pub fee_cents: i64,
}

/// Start of a local (UTC+8) day in ms.
fn local_day_start_ms(date: chrono::NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis() - 8 * 3600 * 1000)
        .unwrap_or(0)
}

/// One plate read at a lane.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LaneRead<'a> {
    /// The plate as read.
    pub plate: &'a str,
    /// Recognition confidence, 0–1.
    pub confidence: f32,
    /// Entering or leaving.
    pub entering: bool,
    /// When (ms).
    pub at: i64,
}

impl App {
    pub(crate) async fn tariff_of(&self, tx: &mut Box<dyn Tx>, community_id: i64) -> AppResult<Tariff> {
        Ok(match tx.parking_tariff(community_id).await? {
            Some(json) => {
                serde_json::from_str(&json).map_err(|e| AppError::Internal(format!("stored tariff: {e}")))?
            }
            None => Tariff::default(),
        })
    }

    /// Decides for a plate read at a lane of `community_id`; returns the decision and the
    /// owner when the car is registered.
    pub(crate) async fn plate_decision(
        &self,
        tx: &mut Box<dyn Tx>,
        device: &DeviceRow,
        community_id: i64,
        read: &LaneRead<'_>,
    ) -> AppResult<(AccessDecision, Option<i64>)> {
        let LaneRead {
            plate,
            confidence,
            entering,
            at,
        } = *read;
        let normalized = normalize_plate(plate);
        if let Some(vehicle) = tx.vehicle_by_plate(&normalized).await?
            && vehicle.community_id == community_id
        {
            return Ok((
                AccessDecision::open(Reason::ResidentVehicle),
                vehicle.owner_person_id,
            ));
        }
        let passes = tx.parking_passes(community_id, Some(&normalized)).await?;
        if passes
            .iter()
            .any(|p| p.revoked_at.is_none() && p.valid_from <= at && at <= p.valid_until)
        {
            return Ok((AccessDecision::open(Reason::MonthlyPass), None));
        }
        let filter = Filter {
            community_id: Some(community_id),
            ..Filter::default()
        };
        let invited = tx
            .list_visitor_passes(&filter, Page::ALL)
            .await?
            .items
            .into_iter()
            .any(|p| {
                p.plate_number.as_deref() == Some(normalized.as_str())
                    && p.revoked_at.is_none()
                    && p.valid_from <= at
                    && at <= p.valid_until
            });
        if invited {
            return Ok((AccessDecision::open(Reason::VisitorPass), None));
        }
        let unclosed = tx.unclosed_parking_sessions(community_id).await?;
        if entering {
            // A car already inside (a missed exit read) keeps its session rather than opening a second.
            if !unclosed.iter().any(|s| normalize_plate(&s.plate) == normalized) {
                tx.insert_parking_session(community_id, plate, device.id, at)
                    .await?;
            }
            return Ok((AccessDecision::open(Reason::TemporaryParking), None));
        }
        let open: Vec<OpenSession> = unclosed
            .iter()
            .map(|s| OpenSession {
                id: s.id,
                plate: s.plate.clone(),
                entered_ms: s.entered_at,
            })
            .collect();
        let Some(found) = match_exit(plate, confidence, &open) else {
            return Ok((AccessDecision::deny(Reason::NoParkingSession), None));
        };
        let session = unclosed
            .iter()
            .find(|s| s.id == found.id)
            .ok_or(AppError::NotFound {
                entity: "parking session",
            })?;
        let (settled, _) = self.settle_exit(tx, session, device.id, at).await?;
        Ok(if settled {
            (AccessDecision::open(Reason::ParkingSettled), None)
        } else {
            (AccessDecision::deny(Reason::FeeDue), None)
        })
    }

    /// What a session owes by the community's tariff if it left at `at` (cents).
    pub(crate) async fn session_fee(
        &self,
        tx: &mut Box<dyn Tx>,
        session: &ParkingSessionRow,
        at: i64,
    ) -> AppResult<i64> {
        let tariff = self.tariff_of(tx, session.community_id).await?;
        Ok(i64::try_from(parking_fee(&tariff, session.entered_at, at)).unwrap_or(i64::MAX))
    }

    /// An exit attempt at `exit_device`: closes the session when its fee is paid, else marks it
    /// `fee_due` with the fee shown. Returns whether it may leave, and the fee.
    pub(crate) async fn settle_exit(
        &self,
        tx: &mut Box<dyn Tx>,
        session: &ParkingSessionRow,
        exit_device: i64,
        at: i64,
    ) -> AppResult<(bool, i64)> {
        let fee = self.session_fee(tx, session, at).await?;
        // Paying takes a moment: a car that paid the fee shown at its last exit attempt may
        // leave within the grace period without owing the minutes spent paying.
        let last_paid = tx
            .parking_payments(session.id)
            .await?
            .iter()
            .filter(|p| p.refunded_at.is_none())
            .map(|p| p.paid_at)
            .max();
        let paid_what_was_shown = session.fee_cents.is_some_and(|shown| session.paid_cents >= shown)
            && last_paid.is_some_and(|paid_at| at - paid_at <= EXIT_GRACE_MS);
        let settled = session.paid_cents >= fee || paid_what_was_shown;
        if settled {
            tx.update_parking_session(session.id, Some(exit_device), Some(at), Some(fee), "closed")
                .await?;
        } else {
            tx.update_parking_session(session.id, Some(exit_device), None, Some(fee), "fee_due")
                .await?;
        }
        Ok((settled, fee))
    }

    /// Parking sessions in scope, newest first, with what each owes now.
    pub async fn list_parking_sessions(
        &self,
        who: &Principal,
        q: &crate::registry::ListQuery,
        page: crate::registry::PageRequest,
    ) -> AppResult<Paged<SessionView>> {
        who.require(Permission::ReadVehicles)?;
        if who.scope.houses.is_some() {
            return Err(AppError::Forbidden(
                "residents do not see other cars' parking".into(),
            ));
        }
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        let rows = tx.list_parking_sessions(&filter, page.to_page()?).await?;
        let now = self.clock.now_ms();
        let mut items = Vec::new();
        for session in rows.items {
            let fee = if session.status == "closed" {
                session.fee_cents.unwrap_or(0)
            } else {
                let tariff = self.tariff_of(&mut tx, session.community_id).await?;
                i64::try_from(parking_fee(&tariff, session.entered_at, now)).unwrap_or(i64::MAX)
            };
            items.push(SessionView {
                due_cents: (fee - session.paid_cents).max(0),
                session,
            });
        }
        Ok(Paged {
            items,
            total: rows.total,
        })
    }

    /// Cars inside longer than `limit_hours`, longest first (guards and the property office).
    pub async fn parking_overstays(
        &self,
        who: &Principal,
        community_id: i64,
        limit_hours: u32,
    ) -> AppResult<Vec<SessionView>> {
        who.require(Permission::ManageParking)?;
        who.scope.check_whole_community(community_id, "community")?;
        let mut tx = self.store.read().await?;
        let unclosed = tx.unclosed_parking_sessions(community_id).await?;
        let open: Vec<OpenSession> = unclosed
            .iter()
            .map(|s| OpenSession {
                id: s.id,
                plate: s.plate.clone(),
                entered_ms: s.entered_at,
            })
            .collect();
        let now = self.clock.now_ms();
        let tariff = self.tariff_of(&mut tx, community_id).await?;
        let mut out = Vec::new();
        for over in anfang_domain::parking::overstays(&open, now, limit_hours) {
            let Some(session) = unclosed.iter().find(|s| s.id == over.id) else {
                continue;
            };
            let fee = i64::try_from(parking_fee(&tariff, session.entered_at, now)).unwrap_or(i64::MAX);
            out.push(SessionView {
                due_cents: (fee - session.paid_cents).max(0),
                session: session.clone(),
            });
        }
        Ok(out)
    }

    /// Records a payment for a session (the amount due now when `amount_cents` is `None`).
    pub async fn pay_parking(
        &self,
        who: &Principal,
        session_id: i64,
        method: &str,
        amount_cents: Option<i64>,
    ) -> AppResult<SessionView> {
        who.require(Permission::ManageParking)?;
        if !matches!(method, "cash" | "transfer" | "online") {
            return Err(AppError::invalid(
                "invalid_value",
                "method",
                "method is cash, transfer or online",
            ));
        }
        let mut tx = self.store.write().await?;
        let session = tx.parking_session(session_id).await?.ok_or(AppError::NotFound {
            entity: "parking session",
        })?;
        who.scope
            .check_whole_community(session.community_id, "parking session")?;
        if session.status == "closed" {
            return Err(AppError::Conflict {
                code: "session_closed",
                message: "the car has left; nothing is due".into(),
            });
        }
        let now = self.clock.now_ms();
        let tariff = self.tariff_of(&mut tx, session.community_id).await?;
        // The fee shown at the exit attempt may be ahead of the platform's clock (it is stamped by
        // the gate): charge whichever is more.
        let fee_now = i64::try_from(parking_fee(&tariff, session.entered_at, now)).unwrap_or(i64::MAX);
        let due = (fee_now.max(session.fee_cents.unwrap_or(0)) - session.paid_cents).max(0);
        let amount = amount_cents.unwrap_or(due);
        if amount <= 0 {
            return Err(AppError::invalid(
                "nothing_due",
                "amount_cents",
                "nothing is due for this session",
            ));
        }
        if amount > 100_000_000 {
            return Err(AppError::invalid(
                "invalid_value",
                "amount_cents",
                "amount is too large",
            ));
        }
        let payment = tx
            .insert_parking_payment(session_id, amount, method, &who.actor(), now)
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "parking.pay",
                &format!("parking_session:{session_id}"),
                json!({"payment": payment, "cents": amount, "method": method}),
            )
            .await?;
        let session = tx.parking_session(session_id).await?.ok_or(AppError::NotFound {
            entity: "parking session",
        })?;
        self.commit(tx, Some(&audit)).await?;
        Ok(SessionView {
            due_cents: (due - amount).max(0),
            session,
        })
    }

    /// Refunds a payment.
    pub async fn refund_parking(&self, who: &Principal, session_id: i64, payment_id: i64) -> AppResult<()> {
        who.require(Permission::ManageParking)?;
        let mut tx = self.store.write().await?;
        let session = tx.parking_session(session_id).await?.ok_or(AppError::NotFound {
            entity: "parking session",
        })?;
        who.scope
            .check_whole_community(session.community_id, "parking session")?;
        if !tx
            .parking_payments(session_id)
            .await?
            .iter()
            .any(|p| p.id == payment_id)
        {
            return Err(AppError::NotFound { entity: "payment" });
        }
        tx.refund_parking_payment(payment_id, self.clock.now_ms()).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "parking.refund",
                &format!("parking_session:{session_id}"),
                json!({"payment": payment_id}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await
    }

    /// A community's tariff (the default until one is set).
    pub async fn parking_tariff(&self, who: &Principal, community_id: i64) -> AppResult<Tariff> {
        who.require(Permission::ReadVehicles)?;
        who.scope.check_community(community_id, "community")?;
        let mut tx = self.store.read().await?;
        self.tariff_of(&mut tx, community_id).await
    }

    /// Sells a parking pass: the plate opens the community's gates from the first day's start
    /// to the last day's end (local time) without a temporary-parking session.
    pub async fn sell_parking_pass(&self, who: &Principal, req: &SellPass) -> AppResult<ParkingPassRow> {
        who.require(Permission::ManageParking)?;
        who.scope.check_whole_community(req.community_id, "community")?;
        let plate = anfang_domain::PlateNumber::parse(&req.plate_number)
            .map_err(|e| AppError::field("plate_number", e))?;
        let holder_name = crate::registry::text("holder_name", &req.holder_name, 64)?;
        let day = |field: &str, value: &str| {
            chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
                .map_err(|_| AppError::invalid("invalid_date", field, "a date is YYYY-MM-DD"))
        };
        let (first, last) = (
            day("valid_from", &req.valid_from)?,
            day("valid_until", &req.valid_until)?,
        );
        if last < first || (last - first).num_days() > 366 * 3 {
            return Err(AppError::invalid(
                "invalid_date",
                "valid_until",
                "valid_until is on or after valid_from, within three years",
            ));
        }
        if !(0..=100_000_000).contains(&req.fee_cents) {
            return Err(AppError::invalid(
                "invalid_value",
                "fee_cents",
                "fee_cents is 0 to 100,000,000",
            ));
        }
        let mut tx = self.store.write().await?;
        tx.community(req.community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        let now = self.clock.now_ms();
        let id = tx
            .insert_parking_pass(&NewParkingPass {
                community_id: req.community_id,
                plate_number: normalize_plate(plate.as_str()),
                holder_name,
                valid_from: local_day_start_ms(first),
                valid_until: local_day_start_ms(last) + 24 * 3600 * 1000 - 1,
                fee_cents: req.fee_cents,
                created_by: who.actor(),
                created_at: now,
            })
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "parking.pass_sell",
                &format!("community:{}", req.community_id),
                json!({"pass": id, "plate": plate.as_str(), "fee_cents": req.fee_cents}),
            )
            .await?;
        let row = tx.parking_pass(id).await?.ok_or(AppError::NotFound {
            entity: "parking pass",
        })?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// A community's parking passes, newest first.
    pub async fn parking_passes(
        &self,
        who: &Principal,
        community_id: i64,
        plate: Option<&str>,
    ) -> AppResult<Vec<ParkingPassRow>> {
        who.require(Permission::ReadVehicles)?;
        who.scope.check_whole_community(community_id, "community")?;
        let plate = plate.map(normalize_plate);
        let mut tx = self.store.read().await?;
        Ok(tx.parking_passes(community_id, plate.as_deref()).await?)
    }

    /// Revokes a pass (a refund is settled outside; the record stays).
    pub async fn revoke_parking_pass(&self, who: &Principal, id: i64) -> AppResult<()> {
        who.require(Permission::ManageParking)?;
        let mut tx = self.store.write().await?;
        let pass = tx.parking_pass(id).await?.ok_or(AppError::NotFound {
            entity: "parking pass",
        })?;
        who.scope
            .check_whole_community(pass.community_id, "parking pass")?;
        if pass.revoked_at.is_some() {
            return Err(AppError::Conflict {
                code: "already_revoked",
                message: "this pass was revoked already".into(),
            });
        }
        tx.revoke_parking_pass(id, self.clock.now_ms()).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "parking.pass_revoke",
                &format!("community:{}", pass.community_id),
                json!({"pass": id}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await
    }

    /// Sets a community's tariff.
    pub async fn set_parking_tariff(
        &self,
        who: &Principal,
        community_id: i64,
        tariff: &Tariff,
    ) -> AppResult<Tariff> {
        who.require(Permission::ManageParking)?;
        who.scope.check_whole_community(community_id, "community")?;
        tariff.validate().map_err(|e| AppError::field("tariff", e))?;
        let json = serde_json::to_string(tariff).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.store.write().await?;
        tx.community(community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        tx.set_parking_tariff(community_id, &json, self.clock.now_ms())
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "parking.tariff",
                &format!("community:{community_id}"),
                json!({"tariff": json}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(*tariff)
    }
}
