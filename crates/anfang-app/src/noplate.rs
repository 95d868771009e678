//! Cars without plates (无牌车扫码): each vehicle lane has a printed QR code naming the lane. A
//! driver without a plate (new car, temporary plate, unreadable) scans it at the entry barrier
//! and gets a ticket — a temporary-parking session under a ticket code — and the barrier
//! opens; at the exit the driver scans the exit lane's code, sees the fee, and the barrier
//! opens once it is paid (to the guard, who records it like any parking payment). No personal
//! data is asked: the ticket on the driver's phone is the only credential.
//!
//! Lane codes are `{device id}.{mac}` under the vault's index key, so they cannot be forged
//! for another lane, and each lane opens for a new ticket at most once every few seconds.

use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::access::{AccessDecision, Reason};
use anfang_store::*;

/// The prefix of ticket codes, stored as the session's plate.
pub const TICKET_PREFIX: &str = "无牌";
/// A lane opens for a new ticket at most this often.
pub const ENTRY_INTERVAL_MS: i64 = 5_000;
/// Characters of ticket codes (no 0/O, 1/I look-alikes).
const TICKET_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A no-plate ticket as the driver's page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    /// The ticket code (`无牌K7Q2M9`).
    pub code: String,
    /// The community.
    pub community_id: i64,
    /// Entered (ms).
    pub entered_at: i64,
    /// The fee if the car left now, cents.
    pub fee_cents: i64,
    /// Paid so far, cents.
    pub paid_cents: i64,
    /// `open`, `fee_due` or `closed`.
    pub status: String,
}

/// The outcome of scanning the exit lane's code.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitAnswer {
    /// Whether the barrier opens.
    pub open: bool,
    /// The ticket after the attempt.
    pub ticket: Ticket,
}

impl App {
    fn lane_mac(&self, device_id: i64) -> String {
        self.vault.blind_index("lane_qr", &device_id.to_string())[..20].to_string()
    }

    /// The code printed at a vehicle lane's barrier (property staff print it once).
    pub async fn lane_code(&self, who: &Principal, device_id: i64) -> AppResult<String> {
        who.require(Permission::ManageParking)?;
        let mut tx = self.store.read().await?;
        let device = tx
            .device(device_id)
            .await?
            .ok_or(AppError::NotFound { entity: "device" })?;
        let community = device
            .community_id
            .ok_or(AppError::NotFound { entity: "device" })?;
        who.scope.check_whole_community(community, "device")?;
        if device.kind != "barrier_gate" {
            return Err(AppError::invalid(
                "not_a_lane",
                "device",
                "only barrier gates have lane codes",
            ));
        }
        Ok(format!("{device_id}.{}", self.lane_mac(device_id)))
    }

    /// The barrier gate a lane code names, if the code is genuine.
    async fn lane(&self, tx: &mut Box<dyn Tx>, code: &str) -> AppResult<(DeviceRow, i64)> {
        let not_found = || AppError::NotFound { entity: "lane" };
        let (id, mac) = code.trim().split_once('.').ok_or_else(not_found)?;
        let id: i64 = id.parse().map_err(|_| not_found())?;
        if mac != self.lane_mac(id) {
            return Err(not_found());
        }
        let device = tx.device(id).await?.ok_or_else(not_found)?;
        let community = device.community_id.ok_or_else(not_found)?;
        if device.kind != "barrier_gate" {
            return Err(not_found());
        }
        Ok((device, community))
    }

    fn ticket_of(&self, session: &ParkingSessionRow, fee: i64) -> Ticket {
        Ticket {
            code: session.plate.clone(),
            community_id: session.community_id,
            entered_at: session.entered_at,
            fee_cents: fee,
            paid_cents: session.paid_cents,
            status: session.status.clone(),
        }
    }

    /// A driver without a plate scanned the entry lane's code: a ticket is issued, the entry
    /// recorded, and the barrier told to open.
    pub async fn no_plate_entry(&self, lane_code: &str) -> AppResult<Ticket> {
        let mut tx = self.store.write().await?;
        let (device, community_id) = self.lane(&mut tx, lane_code).await?;
        let now = self.clock.now_ms();
        let recent = tx.unclosed_parking_sessions(community_id).await?.iter().any(|s| {
            s.entry_device_id == device.id
                && s.plate.starts_with(TICKET_PREFIX)
                && now - s.entered_at < ENTRY_INTERVAL_MS
        });
        if recent {
            return Err(AppError::Conflict {
                code: "lane_busy",
                message: "this lane issued a ticket a moment ago; try again in a few seconds".into(),
            });
        }
        let suffix: String = anfang_base::random_bytes(6)
            .iter()
            .map(|b| char::from(TICKET_ALPHABET[usize::from(*b) % TICKET_ALPHABET.len()]))
            .collect();
        let code = format!("{TICKET_PREFIX}{suffix}");
        let id = tx
            .insert_parking_session(community_id, &code, device.id, now)
            .await?;
        let decision = AccessDecision::open(Reason::TemporaryParking);
        tx.queue_command(device.id, &crate::booth::command_json(decision), now)
            .await?;
        self.record_decision(
            &mut tx,
            (community_id, device.id),
            format!("qr-{code}"),
            "qr",
            decision,
            now,
        )
        .await?;
        let session = tx
            .parking_session(id)
            .await?
            .ok_or(AppError::NotFound { entity: "ticket" })?;
        tx.commit().await?;
        Ok(self.ticket_of(&session, 0))
    }

    /// The unclosed session of a ticket in the lane's community.
    async fn ticket_session(
        &self,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
        ticket: &str,
    ) -> AppResult<ParkingSessionRow> {
        let ticket = ticket.trim();
        if !ticket.starts_with(TICKET_PREFIX) {
            return Err(AppError::NotFound { entity: "ticket" });
        }
        tx.unclosed_parking_sessions(community_id)
            .await?
            .into_iter()
            .find(|s| s.plate == ticket)
            .ok_or(AppError::NotFound { entity: "ticket" })
    }

    /// What a ticket owes now (the driver's page, scanned at any lane of the community).
    pub async fn no_plate_ticket(&self, lane_code: &str, ticket: &str) -> AppResult<Ticket> {
        let mut tx = self.store.read().await?;
        let (_, community_id) = self.lane(&mut tx, lane_code).await?;
        let session = self.ticket_session(&mut tx, community_id, ticket).await?;
        let fee = self.session_fee(&mut tx, &session, self.clock.now_ms()).await?;
        Ok(self.ticket_of(&session, fee))
    }

    /// The driver scanned the exit lane's code: the barrier opens when the fee is paid (or
    /// nothing is due); otherwise the ticket shows what is due.
    pub async fn no_plate_exit(&self, lane_code: &str, ticket: &str) -> AppResult<ExitAnswer> {
        let mut tx = self.store.write().await?;
        let (device, community_id) = self.lane(&mut tx, lane_code).await?;
        let session = self.ticket_session(&mut tx, community_id, ticket).await?;
        let now = self.clock.now_ms();
        let (settled, fee) = self.settle_exit(&mut tx, &session, device.id, now).await?;
        let decision = if settled {
            tx.queue_command(
                device.id,
                &crate::booth::command_json(AccessDecision::open(Reason::ParkingSettled)),
                now,
            )
            .await?;
            AccessDecision::open(Reason::ParkingSettled)
        } else {
            AccessDecision::deny(Reason::FeeDue)
        };
        let event_id = format!("qr-{}-{now}", session.plate);
        self.record_decision(&mut tx, (community_id, device.id), event_id, "qr", decision, now)
            .await?;
        let after = tx
            .parking_session(session.id)
            .await?
            .ok_or(AppError::NotFound { entity: "ticket" })?;
        tx.commit().await?;
        Ok(ExitAnswer {
            open: settled,
            ticket: self.ticket_of(&after, fee),
        })
    }
}
