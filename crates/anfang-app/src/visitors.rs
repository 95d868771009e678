//! Visitors: a resident (for their own house) or the property office invites a visitor for a
//! time window; the pass is a random token shown as a QR code (`AVP1.<token>`), stored only as
//! a keyed blind index, and it opens the community's entrances and the visited unit's door
//! within the window.

use crate::access::QrCode;
use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::access::{AccessDecision, Door, Reason};
use anfang_domain::model::PlaceKind;
use anfang_domain::{PhoneNumber, PlateNumber};
use anfang_store::*;
use base64::Engine;
use serde_json::json;

/// The prefix of visitor pass payloads.
pub const PASS_PREFIX: &str = "AVP1.";
/// The longest window a pass may cover.
pub const MAX_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

/// Invite a visitor.
#[derive(Debug, Clone)]
pub struct InviteVisitor {
    /// The house visited.
    pub house_id: i64,
    /// Visitor's name.
    pub name: String,
    /// Visitor's phone.
    pub phone: Option<String>,
    /// Window start (ms).
    pub valid_from: i64,
    /// Window end (ms).
    pub valid_until: i64,
    /// The visitor's car, for the gate.
    pub plate_number: Option<String>,
}

impl App {
    /// Creates a visitor pass; returns it and its QR payload (shown once).
    pub async fn invite_visitor(
        &self,
        who: &Principal,
        req: &InviteVisitor,
    ) -> AppResult<(VisitorPassRow, QrCode)> {
        who.require(Permission::InviteVisitors)?;
        let name = crate::registry::text("name", &req.name, 32)?;
        let phone = match req.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(PhoneNumber::parse(p).map_err(|e| AppError::field("phone", e))?),
            None => None,
        };
        let plate = match req
            .plate_number
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            Some(p) => Some(PlateNumber::parse(p).map_err(|e| AppError::field("plate_number", e))?),
            None => None,
        };
        if req.valid_until <= req.valid_from {
            return Err(AppError::invalid(
                "invalid_window",
                "valid_until",
                "valid_until must be after valid_from",
            ));
        }
        if req.valid_until - req.valid_from > MAX_WINDOW_MS {
            return Err(AppError::invalid(
                "invalid_window",
                "valid_until",
                "a pass covers at most 7 days",
            ));
        }
        if req.valid_until < self.clock.now_ms() {
            return Err(AppError::invalid(
                "invalid_window",
                "valid_until",
                "the window is already over",
            ));
        }
        let mut tx = self.store.write().await?;
        let house = tx
            .house(req.house_id)
            .await?
            .ok_or(AppError::NotFound { entity: "house" })?;
        if !who.scope.has_house(house.community_id, house.id) {
            return Err(AppError::NotFound { entity: "house" });
        }
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(anfang_base::random_bytes(18));
        let new = NewVisitorPass {
            community_id: house.community_id,
            house_id: house.id,
            name,
            phone_enc: phone
                .as_ref()
                .map(|p| self.vault.encrypt("phone", p.as_str()))
                .transpose()?,
            plate_number: plate.map(|p| p.as_str().to_string()),
            valid_from: req.valid_from,
            valid_until: req.valid_until,
            token_index: self.vault.blind_index("visitor_pass", &token),
            created_by: who.actor(),
            now_ms: self.clock.now_ms(),
        };
        let id = tx.insert_visitor_pass(&new).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "visitor.invite",
                &format!("house:{}", house.id),
                json!({"pass": id}),
            )
            .await?;
        let row = tx
            .visitor_pass_by_token(&new.token_index)
            .await?
            .ok_or(AppError::NotFound {
                entity: "visitor pass",
            })?;
        self.commit(tx, Some(&audit)).await?;
        Ok((
            row,
            QrCode {
                payload: format!("{PASS_PREFIX}{token}"),
                expires_at: req.valid_until,
            },
        ))
    }

    /// Visitor passes in scope (a resident sees their own house's).
    pub async fn list_visitor_passes(
        &self,
        who: &Principal,
        q: &crate::registry::ListQuery,
        page: crate::registry::PageRequest,
    ) -> AppResult<Paged<VisitorPassRow>> {
        who.require(Permission::InviteVisitors)?;
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_visitor_passes(&filter, page.to_page()?).await?)
    }

    /// Decides for a visitor pass presented at a place: the community's entrances and the
    /// visited unit's door, within the window.
    pub(crate) async fn decide_visitor(
        &self,
        tx: &mut Box<dyn Tx>,
        payload: &str,
        door: Option<&Door>,
    ) -> AppResult<AccessDecision> {
        let token = payload.trim().trim_start_matches(PASS_PREFIX);
        let Some(pass) = tx
            .visitor_pass_by_token(&self.vault.blind_index("visitor_pass", token))
            .await?
        else {
            return Ok(AccessDecision::deny(Reason::UnknownCredential));
        };
        let now = self.clock.now_ms();
        if pass.revoked_at.is_some() || now < pass.valid_from || now > pass.valid_until {
            return Ok(AccessDecision::deny(Reason::CredentialInvalid));
        }
        let Some(door) = door else {
            return Ok(AccessDecision::deny(Reason::NotAnAccessPoint));
        };
        if door.community_id != pass.community_id {
            return Ok(AccessDecision::deny(Reason::NotAuthorisedHere));
        }
        let allowed = match door.kind {
            PlaceKind::UnitDoor => {
                let house = tx.house(pass.house_id).await?;
                house.is_some_and(|h| Some(h.unit_id) == door.unit_id)
            }
            PlaceKind::PedestrianEntrance
            | PlaceKind::VehicleEntrance
            | PlaceKind::VehicleLane
            | PlaceKind::CarPark
            | PlaceKind::GarageEntrance => true,
            PlaceKind::PerimeterZone | PlaceKind::RoadPoint => {
                return Ok(AccessDecision::deny(Reason::NotAnAccessPoint));
            }
        };
        Ok(if allowed {
            AccessDecision::open(Reason::VisitorPass)
        } else {
            AccessDecision::deny(Reason::NotAuthorisedHere)
        })
    }
}
