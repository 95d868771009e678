//! Access control use-cases: consents for face recognition, non-face credentials (card, PIN,
//! dynamic QR), and the handling of device events: idempotent by event id, decided by the
//! pure policy in `anfang_domain::access`, recorded as access records.
//!
//! Invariant: every person can always get a non-face credential; a face credential exists only
//! while an active `face_access` consent does (a guardian's for under-14s).

use crate::live::LiveEvent;
use crate::policy::{CachedCredential, CachedDevice, PersonPolicy};
use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::access;
pub use anfang_domain::access::{AccessDecision, Outcome, Reason};
use anfang_domain::warning::WarningKind;
use anfang_store::*;
use base64::Engine;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// How long a dynamic QR code stays valid.
pub const QR_LIFETIME_MS: i64 = 5 * 60 * 1000;
/// The vault context of device event pictures.
const EVENT_IMAGE_CONTEXT: &str = "event_image";
/// The consent purpose that allows face recognition at doors.
pub const FACE_PURPOSE: &str = "face_access";

/// Record a consent.
#[derive(Debug, Clone)]
pub struct GiveConsent {
    /// `self` or `guardian`.
    pub given_by: String,
    /// The guardian's name when `given_by` is `guardian`.
    pub guardian_name: Option<String>,
}

/// Issue a card or PIN.
#[derive(Debug, Clone)]
pub struct IssueCredential {
    /// `card` or `pin`.
    pub kind: String,
    /// The card number (4–32 hex digits) or PIN (4–8 digits).
    pub value: String,
    /// Valid until (ms), if limited.
    pub valid_until: Option<i64>,
}

/// A dynamic QR code for a person.
#[derive(Debug, Clone, PartialEq)]
pub struct QrCode {
    /// The payload to render as a QR code.
    pub payload: String,
    /// Expiry (ms).
    pub expires_at: i64,
}

/// The credential a device saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Presented {
    /// A face the terminal recognised locally as this person id.
    Face {
        /// The platform's person id, as the terminal's library holds it.
        person_ref: String,
    },
    /// A card number.
    Card(String),
    /// A QR payload.
    Qr(String),
    /// A PIN.
    Pin(String),
}

impl Presented {
    /// `face`, `card`, `qr` or `pin`.
    pub fn kind(&self) -> &'static str {
        match self {
            Presented::Face { .. } => "face",
            Presented::Card(_) => "card",
            Presented::Qr(_) => "qr",
            Presented::Pin(_) => "pin",
        }
    }
}

/// What a device reported.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceEventKind {
    /// Alive, with firmware and library version.
    Heartbeat {
        /// Firmware version.
        firmware: String,
        /// Face/card library version applied.
        library_version: i64,
        /// The credential kinds it offers, if it reports them.
        accepts: Option<Vec<String>>,
    },
    /// Someone presented a credential; `decided_locally` is set for events the terminal
    /// decided itself while the platform was unreachable (back-filled later).
    Credential {
        /// What was presented.
        presented: Presented,
        /// The terminal's own decision (outcome, reason code), if it decided offline.
        decided_locally: Option<(Outcome, String)>,
    },
    /// A visitor pressed the smart booth's call key.
    BoothCall {
        /// Visitor's name.
        visitor_name: String,
        /// ID number from the card reader.
        id_number: Option<String>,
        /// The house to visit, as given.
        house_ref: Option<String>,
    },
    /// A plate camera at a lane read a plate.
    Plate {
        /// The plate as read.
        plate: String,
        /// Recognition confidence, 0–1.
        confidence: f32,
        /// Entering (`true`) or leaving.
        entering: bool,
    },
    /// The terminal applied its library up to this version.
    LibraryAck {
        /// The version applied.
        version: i64,
    },
    /// A sensor, button, camera analytic or door reported an alarm (a door forced or held
    /// open is one): raised in the alarm centre, repeats merged.
    Alarm {
        /// The kind as the device named it (read by `AlarmKind::from_device`).
        kind: String,
        /// The zone, channel or door it named.
        zone: Option<String>,
        /// The device's own rating.
        severity: Option<anfang_domain::alarm::Severity>,
    },
    /// A guard scanned a patrol checkpoint.
    PatrolScan {
        /// The checkpoint as the reader named it (device code or name).
        checkpoint: String,
        /// The guard as the reader named them (user id or login).
        guard_ref: String,
    },
    /// A door with a people counter closed after `passages` people went through one opening.
    Passages {
        /// How many passed.
        passages: u32,
    },
    /// Anything else (door state…): stored and acknowledged.
    Other {
        /// The message type.
        kind: String,
    },
}

/// One event from a device.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceEvent {
    /// The device's id for it (unique per device).
    pub event_id: String,
    /// When it happened at the device (ms).
    pub at_ms: i64,
    /// What happened.
    pub kind: DeviceEventKind,
    /// The body as received (JSON text), kept with the event.
    pub body_json: String,
    /// Pictures that came with it (a snapshot; a booth's ID-card photo).
    pub images: Vec<EventImage>,
}

/// A picture carried by a device event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventImage {
    /// `snapshot` or `card_photo`.
    pub role: &'static str,
    /// `jpeg` or `png`.
    pub format: String,
    /// The image.
    pub bytes: Vec<u8>,
}

impl DeviceEvent {
    /// The picture with this role, if the event carries one.
    pub fn image(&self, role: &str) -> Option<&EventImage> {
        self.images.iter().find(|i| i.role == role)
    }
}

/// A credential event decided from the policy cache, waiting to be stored.
#[derive(Debug, Clone)]
pub struct DecidedEvent {
    device_id: i64,
    record: NewAccessRecord,
    row: DeviceEventRow,
    decision: AccessDecision,
}

impl DecidedEvent {
    /// The decision (sent to the device only once the event is stored).
    pub fn decision(&self) -> AccessDecision {
        self.decision
    }
}

/// Whether the event was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckStatus {
    /// Stored now.
    Stored,
    /// Seen before: the first answer is repeated, nothing new is stored.
    Duplicate,
}

/// The platform's answer to a device event.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceAnswer {
    /// New or repeated.
    pub status: AckStatus,
    /// The access decision, for credential events decided by the platform.
    pub decision: Option<AccessDecision>,
    /// Library changes the terminal must apply (answering a heartbeat).
    pub library: Option<crate::library::LibraryDelta>,
    /// A queued command (e.g. a booth call's answer) delivered with this ack.
    pub pending: Option<crate::booth::PendingCommand>,
}

fn decision_json(decision: Option<AccessDecision>) -> String {
    match decision {
        Some(d) => json!({"outcome": d.outcome.as_str(), "reason": d.reason.as_str()}).to_string(),
        None => "{}".into(),
    }
}

fn decision_from_json(text: &str) -> Option<AccessDecision> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let outcome = match v.get("outcome")?.as_str()? {
        "open" => Outcome::Open,
        _ => Outcome::Deny,
    };
    let reason = v.get("reason")?.as_str()?;
    let reason = Reason::parse(reason)?;
    Some(AccessDecision { outcome, reason })
}

fn validate_value(kind: &str, value: &str) -> AppResult<String> {
    let v = value.trim().to_ascii_uppercase();
    let ok = match kind {
        "card" => (4..=32).contains(&v.len()) && v.chars().all(|c| c.is_ascii_hexdigit()),
        "pin" => (4..=8).contains(&v.len()) && v.chars().all(|c| c.is_ascii_digit()),
        _ => {
            return Err(AppError::invalid(
                "invalid_credential_kind",
                "kind",
                "kind must be card or pin",
            ));
        }
    };
    if ok {
        Ok(v)
    } else {
        let rule = if kind == "card" {
            "4 to 32 hexadecimal digits"
        } else {
            "4 to 8 digits"
        };
        Err(AppError::invalid(
            "invalid_credential_value",
            "value",
            format!("a {kind} is {rule}"),
        ))
    }
}

impl App {
    fn credential_index(&self, kind: &str, value: &str) -> String {
        self.vault.blind_index(&format!("credential:{kind}"), value)
    }

    /// Whether an active face-recognition consent exists, inside `tx`.
    pub(crate) async fn has_face_consent(tx: &mut Box<dyn Tx>, person_id: i64) -> AppResult<bool> {
        Ok(tx
            .consents(person_id)
            .await?
            .iter()
            .any(|c| c.purpose == FACE_PURPOSE && c.revoked_at.is_none()))
    }

    /// Records a decision the platform made outside a device event (a booth call answered, a
    /// no-plate ticket at a lane), inside `tx`.
    pub(crate) async fn record_decision(
        &self,
        tx: &mut Box<dyn Tx>,
        device: (i64, i64),
        event_id: String,
        credential_kind: &str,
        decision: AccessDecision,
        at: i64,
    ) -> AppResult<i64> {
        let (community_id, device_id) = device;
        self.store_access_record(
            tx,
            &NewAccessRecord {
                community_id,
                device_id,
                event_id,
                person_id: None,
                credential_kind: credential_kind.into(),
                outcome: decision.outcome.as_str().into(),
                reason: decision.reason.as_str().into(),
                decided_locally: false,
                snapshot_key: None,
                at,
            },
        )
        .await
    }

    /// Loads a person whose whole community is in the caller's scope (to read or manage).
    pub(crate) async fn managed_person(
        &self,
        tx: &mut Box<dyn Tx>,
        who: &Principal,
        id: i64,
    ) -> AppResult<PersonRow> {
        let person = tx
            .person(id)
            .await?
            .ok_or(AppError::NotFound { entity: "person" })?;
        who.scope.check_whole_community(person.community_id, "person")?;
        Ok(person)
    }

    /// Loads a person whose consent and ways in the caller may see (`write` = change): staff
    /// (`ReadPersons`, `WritePersons` to change) for persons of a whole community in scope; a
    /// resident (house scope, `InviteVisitors` to change) for the members of their own household
    /// only — anyone else is not found, as if they did not exist.
    pub(crate) async fn self_service_person(
        &self,
        tx: &mut Box<dyn Tx>,
        who: &Principal,
        id: i64,
        write: bool,
    ) -> AppResult<PersonRow> {
        who.require(Permission::ReadPersons)?;
        let Some(mine) = &who.scope.houses else {
            if write {
                who.require(Permission::WritePersons)?;
            }
            return self.managed_person(tx, who, id).await;
        };
        if write && !who.role.allows(Permission::WritePersons) {
            who.require(Permission::InviteVisitors)?;
        }
        let person = tx
            .person(id)
            .await?
            .ok_or(AppError::NotFound { entity: "person" })?;
        let houses = tx.person_houses(&[id]).await?;
        if !houses.iter().any(|h| mine.contains(&h.house_id)) {
            return Err(AppError::NotFound { entity: "person" });
        }
        Ok(person)
    }

    /// Records a consent to face recognition. Persons under 14 (by their ID number's birth
    /// date) need a guardian's consent. Staff for their community; a resident for their own
    /// household.
    pub async fn give_face_consent(
        &self,
        who: &Principal,
        person_id: i64,
        req: &GiveConsent,
    ) -> AppResult<ConsentRow> {
        let mut tx = self.store.write().await?;
        let person = self.self_service_person(&mut tx, who, person_id, true).await?;
        let guardian_name = crate::registry::opt_text("guardian_name", req.guardian_name.as_deref(), 64)?;
        match req.given_by.as_str() {
            "self" => {
                let id_number = self.vault.decrypt("id_number", &person.id_number_enc)?;
                let minor = anfang_domain::IdNumber::parse(
                    anfang_domain::IdDocType::parse(&person.id_type)
                        .map_err(|e| AppError::Internal(e.message))?,
                    &id_number,
                )
                .ok()
                .and_then(|n| n.birth_date())
                .and_then(|born| self.clock.today_cst().years_since(born))
                .is_some_and(|age| age < 14);
                if minor {
                    return Err(AppError::invalid(
                        "guardian_consent_required",
                        "given_by",
                        "a person under 14 needs a guardian's consent",
                    ));
                }
            }
            "guardian" if guardian_name.is_some() => {}
            "guardian" => {
                return Err(AppError::invalid(
                    "missing_field",
                    "guardian_name",
                    "name the guardian",
                ));
            }
            _ => {
                return Err(AppError::invalid(
                    "invalid_value",
                    "given_by",
                    "given_by is self or guardian",
                ));
            }
        }
        if Self::has_face_consent(&mut tx, person_id).await? {
            return Err(AppError::Conflict {
                code: "consent_exists",
                message: "an active face consent exists".into(),
            });
        }
        let new = NewConsent {
            person_id,
            purpose: FACE_PURPOSE.into(),
            given_by: req.given_by.clone(),
            guardian_name,
            recorded_by: who.actor(),
            given_at: self.clock.now_ms(),
        };
        let id = tx.insert_consent(&new).await?;
        self.library_changed(&mut tx, person.community_id, person_id)
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "consent.give",
                &format!("person:{person_id}"),
                json!({"consent": id}),
            )
            .await?;
        let row = tx
            .consents(person_id)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(AppError::NotFound { entity: "consent" })?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// Revokes a consent: from now on the person's face opens nothing, and the photo and its
    /// template go with it. Staff for their community; a resident for their own household.
    pub async fn revoke_consent(&self, who: &Principal, person_id: i64, consent_id: i64) -> AppResult<()> {
        let mut tx = self.store.write().await?;
        let person = self.self_service_person(&mut tx, who, person_id, true).await?;
        if !tx.consents(person_id).await?.iter().any(|c| c.id == consent_id) {
            return Err(AppError::NotFound { entity: "consent" });
        }
        let now = self.clock.now_ms();
        tx.revoke_consent(consent_id, now).await?;
        // No biometric data outlives the consent.
        let photos = tx.remove_face_photos(person_id, now).await?;
        self.library_changed(&mut tx, person.community_id, person_id)
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "consent.revoke",
                &format!("person:{person_id}"),
                json!({"consent": consent_id, "photos_removed": photos.len()}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        self.delete_images(&photos).await;
        // The template leaves the gallery with the photo.
        self.refresh_person_faces(person_id).await?;
        Ok(())
    }

    /// A person's consents (staff for their community; a resident for their household).
    pub async fn consents(&self, who: &Principal, person_id: i64) -> AppResult<Vec<ConsentRow>> {
        let mut tx = self.store.read().await?;
        self.self_service_person(&mut tx, who, person_id, false).await?;
        Ok(tx.consents(person_id).await?)
    }

    /// Issues a card or PIN (stored by blind index only).
    pub async fn issue_credential(
        &self,
        who: &Principal,
        person_id: i64,
        req: &IssueCredential,
    ) -> AppResult<CredentialRow> {
        who.require(Permission::WritePersons)?;
        let value = validate_value(&req.kind, &req.value)?;
        let mut tx = self.store.write().await?;
        let person = self.managed_person(&mut tx, who, person_id).await?;
        let index = self.credential_index(&req.kind, &value);
        if tx.credential_by_index(&req.kind, &index).await?.is_some() {
            return Err(AppError::Conflict {
                code: "credential_in_use",
                message: format!("this {} is already issued", req.kind),
            });
        }
        let new = NewCredential {
            person_id,
            kind: req.kind.clone(),
            value_index: index,
            value_enc: Some(self.vault.encrypt("credential_value", &value)?),
            valid_from: None,
            valid_until: req.valid_until,
            now_ms: self.clock.now_ms(),
        };
        let id = tx.insert_credential(&new).await?;
        self.library_changed(&mut tx, person.community_id, person_id)
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "credential.issue",
                &format!("person:{person_id}"),
                json!({"kind": req.kind, "credential": id}),
            )
            .await?;
        let row = tx
            .credentials(person_id)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(AppError::NotFound { entity: "credential" })?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// A fresh PIN the platform draws for a person (6 digits, shown once), replacing the PIN
    /// they had: the non-face way in a resident can take for a member of their own household
    /// without the property office (staff may do it too). The resident never chooses the digits,
    /// so nobody learns from a refusal which PINs are taken.
    pub async fn issue_pin(&self, who: &Principal, person_id: i64) -> AppResult<(CredentialRow, String)> {
        let mut tx = self.store.write().await?;
        let person = self.self_service_person(&mut tx, who, person_id, true).await?;
        let mut drawn = None;
        for _ in 0..8 {
            let bytes = anfang_base::random_bytes(4);
            let n = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) % 1_000_000;
            let pin = format!("{n:06}");
            let index = self.credential_index("pin", &pin);
            if tx.credential_by_index("pin", &index).await?.is_none() {
                drawn = Some((pin, index));
                break;
            }
        }
        let (pin, index) = drawn.ok_or_else(|| AppError::Conflict {
            code: "credential_in_use",
            message: "no free PIN was drawn; try again".into(),
        })?;
        let now = self.clock.now_ms();
        let replaced: Vec<i64> = tx
            .credentials(person_id)
            .await?
            .into_iter()
            .filter(|c| c.kind == "pin" && c.revoked_at.is_none())
            .map(|c| c.id)
            .collect();
        for id in &replaced {
            tx.revoke_credential(*id, now).await?;
        }
        let id = tx
            .insert_credential(&NewCredential {
                person_id,
                kind: "pin".into(),
                value_index: index,
                value_enc: Some(self.vault.encrypt("credential_value", &pin)?),
                valid_from: None,
                valid_until: None,
                now_ms: now,
            })
            .await?;
        self.library_changed(&mut tx, person.community_id, person_id)
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "credential.issue",
                &format!("person:{person_id}"),
                json!({"kind": "pin", "credential": id, "drawn": true, "replaced": replaced}),
            )
            .await?;
        let row = tx
            .credentials(person_id)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(AppError::NotFound { entity: "credential" })?;
        self.commit(tx, Some(&audit)).await?;
        Ok((row, pin))
    }

    /// A person's credentials (staff for their community; a resident for their household).
    pub async fn credentials(&self, who: &Principal, person_id: i64) -> AppResult<Vec<CredentialRow>> {
        let mut tx = self.store.read().await?;
        self.self_service_person(&mut tx, who, person_id, false).await?;
        Ok(tx.credentials(person_id).await?)
    }

    /// Revokes a credential (staff for their community; a resident for their household, e.g.
    /// a lost card).
    pub async fn revoke_credential(
        &self,
        who: &Principal,
        person_id: i64,
        credential_id: i64,
    ) -> AppResult<()> {
        let mut tx = self.store.write().await?;
        let person = self.self_service_person(&mut tx, who, person_id, true).await?;
        if !tx
            .credentials(person_id)
            .await?
            .iter()
            .any(|c| c.id == credential_id)
        {
            return Err(AppError::NotFound { entity: "credential" });
        }
        tx.revoke_credential(credential_id, self.clock.now_ms()).await?;
        self.library_changed(&mut tx, person.community_id, person_id)
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "credential.revoke",
                &format!("person:{person_id}"),
                json!({"credential": credential_id}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await
    }

    /// A signed, short-lived QR code: the non-face credential every person can always get.
    /// A resident may ask for their own; staff for persons they manage.
    pub async fn qr_code(&self, who: &Principal, person_id: i64) -> AppResult<QrCode> {
        who.require(Permission::ReadPersons)?;
        let mut tx = self.store.read().await?;
        let person = tx
            .person(person_id)
            .await?
            .ok_or(AppError::NotFound { entity: "person" })?;
        let houses = tx.person_houses(&[person_id]).await?;
        let visible = match &who.scope.houses {
            Some(mine) => houses.iter().any(|h| mine.contains(&h.house_id)),
            None => who.scope.has_community(person.community_id),
        };
        if !visible {
            return Err(AppError::NotFound { entity: "person" });
        }
        let expires_at = self.clock.now_ms() + QR_LIFETIME_MS;
        let signed = format!("{person_id}.{expires_at}");
        let mac = self.vault.blind_index("qr", &signed);
        let payload = format!(
            "AQR1.{signed}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hex::decode(mac).unwrap_or_default())
        );
        Ok(QrCode { payload, expires_at })
    }

    /// The person a QR payload names, if its signature holds and it has not expired.
    fn verify_qr(&self, payload: &str) -> Result<i64, Reason> {
        let mut parts = payload.trim().splitn(4, '.');
        let (Some("AQR1"), Some(person), Some(expires), Some(mac)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Reason::UnknownCredential);
        };
        let expected = self.vault.blind_index("qr", &format!("{person}.{expires}"));
        let given = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(mac)
            .map(hex::encode)
            .unwrap_or_default();
        if given != expected {
            return Err(Reason::UnknownCredential);
        }
        let expires: i64 = expires.parse().map_err(|_| Reason::UnknownCredential)?;
        if expires < self.clock.now_ms() {
            return Err(Reason::CredentialInvalid);
        }
        person.parse().map_err(|_| Reason::UnknownCredential)
    }

    /// Seals and stores a picture of a device event. The key depends only on the device and
    /// the event id, so a resent event overwrites its own picture rather than adding one.
    pub(crate) async fn store_event_image(
        &self,
        device_id: i64,
        event_id: &str,
        image: &EventImage,
    ) -> AppResult<String> {
        let name = self
            .vault
            .blind_index("event_image", &format!("{device_id}:{event_id}"));
        let key = format!("events/{device_id}/{}-{}", &name[..32], image.role);
        self.put_sealed(EVENT_IMAGE_CONTEXT, &key, &image.bytes).await?;
        Ok(key)
    }

    /// A stored event picture in clear, with its format (`jpeg` or `png`, from its content).
    pub(crate) async fn load_event_image(&self, key: &str) -> AppResult<(Vec<u8>, &'static str)> {
        let bytes = self
            .get_sealed(EVENT_IMAGE_CONTEXT, key)
            .await?
            .ok_or(AppError::NotFound { entity: "image" })?;
        let format = if bytes.starts_with(b"\x89PNG") {
            "png"
        } else {
            "jpeg"
        };
        Ok((bytes, format))
    }

    /// An access record's snapshot, for someone who may see the record; every view is audited.
    pub async fn access_record_snapshot(
        &self,
        who: &Principal,
        record_id: i64,
    ) -> AppResult<(Vec<u8>, &'static str)> {
        who.require(Permission::ReadPersons)?;
        let mut tx = self.store.read().await?;
        let record = tx.access_record(record_id).await?.ok_or(AppError::NotFound {
            entity: "access record",
        })?;
        who.scope
            .check_whole_community(record.community_id, "access record")?;
        let key = record
            .snapshot_key
            .ok_or(AppError::NotFound { entity: "snapshot" })?;
        drop(tx);
        let image = self.load_event_image(&key).await?;
        self.audit_now(
            &who.actor(),
            "access_record.snapshot_view",
            &format!("access_record:{record_id}"),
            json!({}),
        )
        .await?;
        Ok(image)
    }

    /// The device a code names, from the policy cache.
    pub(crate) async fn cached_device(&self, code: &str) -> AppResult<Option<Arc<CachedDevice>>> {
        if let Some(device) = self.policy.device(code) {
            return Ok(device);
        }
        let epoch = self.policy.epoch();
        let mut tx = self.store.read().await?;
        let value = match tx.device_by_code(code).await? {
            None => None,
            Some(row) => {
                let door = self.door_of(&mut tx, &row).await?;
                Some(Arc::new(CachedDevice {
                    id: row.id,
                    community_id: row.community_id,
                    door,
                }))
            }
        };
        self.policy.put_device(epoch, code, value.clone());
        Ok(value)
    }

    /// A card or PIN by its blind index, from the policy cache.
    async fn cached_credential(&self, kind: &str, index: &str) -> AppResult<Option<CachedCredential>> {
        if let Some(credential) = self.policy.credential(kind, index) {
            return Ok(credential);
        }
        let epoch = self.policy.epoch();
        let mut tx = self.store.read().await?;
        let value = tx
            .credential_by_index(kind, index)
            .await?
            .map(|c| CachedCredential {
                person_id: c.person_id,
                revoked: c.revoked_at.is_some(),
                valid_from: c.valid_from,
                valid_until: c.valid_until,
            });
        self.policy.put_credential(epoch, kind, index, value);
        Ok(value)
    }

    /// What a decision needs of a person, from the policy cache.
    pub(crate) async fn person_policy(&self, person_id: i64) -> AppResult<Option<Arc<PersonPolicy>>> {
        if let Some(policy) = self.policy.person(person_id) {
            return Ok(policy);
        }
        let epoch = self.policy.epoch();
        let mut tx = self.store.read().await?;
        let value = match tx.person(person_id).await? {
            None => None,
            Some(_) => {
                let face_consent = Self::has_face_consent(&mut tx, person_id).await?;
                let grants = self.grants_of(&mut tx, person_id).await?;
                let denied_in = tx.denied_communities(person_id).await?;
                Some(Arc::new(PersonPolicy {
                    face_consent,
                    grants,
                    denied_in,
                }))
            }
        };
        self.policy.put_person(epoch, person_id, value.clone());
        Ok(value)
    }

    /// Resolves a presented credential to a person, or the reason it opens nothing.
    async fn resolve(&self, presented: &Presented) -> AppResult<Result<(i64, Arc<PersonPolicy>), Reason>> {
        let now = self.clock.now_ms();
        let person_id = match presented {
            Presented::Face { person_ref } => match person_ref.parse::<i64>() {
                Ok(id) => id,
                Err(_) => return Ok(Err(Reason::UnknownCredential)),
            },
            Presented::Qr(payload) => match self.verify_qr(payload) {
                Ok(id) => id,
                Err(reason) => return Ok(Err(reason)),
            },
            Presented::Card(value) | Presented::Pin(value) => {
                let kind = presented.kind();
                let normalized = value.trim().to_ascii_uppercase();
                match self
                    .cached_credential(kind, &self.credential_index(kind, &normalized))
                    .await?
                {
                    None => return Ok(Err(Reason::UnknownCredential)),
                    Some(c) if c.revoked => return Ok(Err(Reason::CredentialInvalid)),
                    Some(c)
                        if c.valid_until.is_some_and(|u| u < now)
                            || c.valid_from.is_some_and(|f| f > now) =>
                    {
                        return Ok(Err(Reason::CredentialInvalid));
                    }
                    Some(c) => c.person_id,
                }
            }
        };
        let Some(policy) = self.person_policy(person_id).await? else {
            return Ok(Err(Reason::UnknownCredential));
        };
        if matches!(presented, Presented::Face { .. }) && !policy.face_consent {
            return Ok(Err(Reason::NoFaceConsent));
        }
        Ok(Ok((person_id, policy)))
    }

    /// Decides a presented credential at a device from the policy cache (a visitor pass reads
    /// its pass): who it was, if known, and the decision — after the external status check at
    /// entry when `check_entry` (a live decision, not a terminal's past one). Writes nothing.
    pub(crate) async fn decide_presented(
        &self,
        device: &CachedDevice,
        presented: &Presented,
        check_entry: bool,
    ) -> AppResult<(Option<i64>, AccessDecision)> {
        if let Presented::Qr(payload) = presented
            && payload.trim().starts_with(crate::visitors::PASS_PREFIX)
        {
            let mut tx = self.store.read().await?;
            let decision = self
                .decide_visitor(&mut tx, payload, device.door.as_ref())
                .await?;
            return Ok((None, decision));
        }
        match self.resolve(presented).await? {
            Err(reason) => Ok((None, AccessDecision::deny(reason))),
            Ok((person_id, policy)) => {
                let Some(door) = &device.door else {
                    return Ok((Some(person_id), AccessDecision::deny(Reason::NotAnAccessPoint)));
                };
                let denied = policy.denied_in.contains(&door.community_id);
                let decision = access::decide(&policy.grants, door, self.clock.now_cst(), denied);
                let decision = if check_entry {
                    self.checked_at_entry(person_id, door, decision).await?
                } else {
                    decision
                };
                Ok((Some(person_id), decision))
            }
        }
    }

    /// Decides a credential event from the policy cache without writing anything; the
    /// pipeline then stores several of them together with [`App::store_decided`] before their
    /// answers go out. `None` for every other event (and for events a terminal decided
    /// offline), which take [`App::device_event`].
    pub async fn decide_event(
        &self,
        device_code: &str,
        event: &DeviceEvent,
    ) -> AppResult<Option<DecidedEvent>> {
        let DeviceEventKind::Credential {
            presented,
            decided_locally: None,
        } = &event.kind
        else {
            return Ok(None);
        };
        let device = self
            .cached_device(device_code)
            .await?
            .ok_or(AppError::NotFound { entity: "device" })?;
        let community_id = device.community_id.ok_or_else(|| {
            AppError::invalid(
                "unassigned_device",
                "device",
                "the device is not assigned to a community yet",
            )
        })?;
        let (person_id, decision) = self.decide_presented(&device, presented, true).await?;
        let snapshot_key = match event.image("snapshot") {
            Some(image) => Some(self.store_event_image(device.id, &event.event_id, image).await?),
            None => None,
        };
        Ok(Some(DecidedEvent {
            device_id: device.id,
            record: NewAccessRecord {
                community_id,
                device_id: device.id,
                event_id: event.event_id.clone(),
                person_id,
                credential_kind: presented.kind().into(),
                outcome: decision.outcome.as_str().into(),
                reason: decision.reason.as_str().into(),
                decided_locally: false,
                snapshot_key,
                at: event.at_ms,
            },
            row: DeviceEventRow {
                device_id: device.id,
                event_id: event.event_id.clone(),
                kind: "credential".into(),
                at: event.at_ms,
                received_at: self.clock.now_ms(),
                body: event.body_json.clone(),
                answer: decision_json(Some(decision)),
            },
            decision,
        }))
    }

    /// Stores decided events in one write transaction (group commit): each new event id gets
    /// its record and its place in the event log; a repeated id — stored before, or earlier in
    /// the same batch — gets the first answer and stores nothing. All or nothing: on an error
    /// the caller retries the events one by one.
    pub async fn store_decided(&self, batch: &[DecidedEvent]) -> AppResult<Vec<DeviceAnswer>> {
        let mut tx = self.store.write().await?;
        let mut first_answers: HashMap<(i64, &str), &str> = HashMap::new();
        let mut touched = BTreeSet::new();
        let mut answers = Vec::with_capacity(batch.len());
        // The ids of the records stored, in the order of the stored answers.
        let mut record_ids = Vec::with_capacity(batch.len());
        for item in batch {
            let key = (item.device_id, item.row.event_id.as_str());
            let earlier = match first_answers.get(&key) {
                Some(answer) => Some(answer.to_string()),
                None => tx
                    .device_event(item.device_id, &item.row.event_id)
                    .await?
                    .map(|row| row.answer),
            };
            if let Some(answer) = earlier {
                answers.push(DeviceAnswer {
                    status: AckStatus::Duplicate,
                    decision: decision_from_json(&answer),
                    library: None,
                    pending: None,
                });
                continue;
            }
            let record_id = self.store_access_record(&mut tx, &item.record).await?;
            record_ids.push(record_id);
            tx.insert_device_event(&item.row).await?;
            first_answers.insert(key, &item.row.answer);
            touched.insert(item.device_id);
            answers.push(DeviceAnswer {
                status: AckStatus::Stored,
                decision: Some(item.decision),
                library: None,
                pending: None,
            });
        }
        let now = self.clock.now_ms();
        for device_id in touched {
            tx.touch_device(device_id, now, None, None).await?;
        }
        tx.commit().await?;
        self.live.publish(
            batch
                .iter()
                .zip(&answers)
                .filter(|(_, a)| a.status == AckStatus::Stored)
                .zip(&record_ids)
                .map(|((item, _), id)| LiveEvent::access(&item.record, *id)),
        );
        Ok(answers)
    }

    /// Handles one event from an authenticated device: a repeated event id returns the first
    /// answer and stores nothing; otherwise the event is stored, a credential is decided and
    /// recorded, all in one transaction, before the answer goes back.
    pub async fn device_event(&self, device_code: &str, event: &DeviceEvent) -> AppResult<DeviceAnswer> {
        let mut tx = self.store.write().await?;
        let device = tx
            .device_by_code(device_code)
            .await?
            .ok_or(AppError::NotFound { entity: "device" })?;
        if let Some(first) = tx.device_event(device.id, &event.event_id).await? {
            return Ok(DeviceAnswer {
                status: AckStatus::Duplicate,
                decision: decision_from_json(&first.answer),
                library: None,
                pending: None,
            });
        }
        let now = self.clock.now_ms();
        // A device that was reported offline is back: its alarm closes itself.
        self.close_offline_alarm(&mut tx, device.id, now).await?;
        let mut library = None;
        let mut live: Vec<LiveEvent> = Vec::new();
        // The access record stored for a decision, for the live feed.
        let mut stored: Option<(NewAccessRecord, i64)> = None;
        let warned =
            |id: i64, kind: WarningKind| LiveEvent::warning(id, kind, device.community_id, event.at_ms, None);
        let (kind, decision) = match &event.kind {
            DeviceEventKind::Heartbeat {
                firmware,
                library_version,
                accepts,
            } => {
                tx.touch_device(device.id, now, Some(firmware), Some(*library_version))
                    .await?;
                if let Some(kinds) = accepts {
                    let offered = crate::accesspoints::canonical_kinds(kinds)?;
                    if device.accepts.as_deref() != Some(offered.as_str()) {
                        tx.set_device_accepts(device.id, Some(&offered)).await?;
                    }
                }
                library = self.library_delta(&mut tx, &device, *library_version).await?;
                ("heartbeat", None)
            }
            DeviceEventKind::Plate {
                plate,
                confidence,
                entering,
            } => {
                tx.touch_device(device.id, now, None, None).await?;
                let community_id = device.community_id.ok_or_else(|| {
                    AppError::invalid(
                        "unassigned_device",
                        "device",
                        "the device is not assigned to a community yet",
                    )
                })?;
                let (decision, owner) = self
                    .plate_decision(
                        &mut tx,
                        &device,
                        community_id,
                        &crate::parking::LaneRead {
                            plate,
                            confidence: *confidence,
                            entering: *entering,
                            at: event.at_ms,
                        },
                    )
                    .await?;
                let record = NewAccessRecord {
                    community_id,
                    device_id: device.id,
                    event_id: event.event_id.clone(),
                    person_id: owner,
                    credential_kind: "plate".into(),
                    outcome: decision.outcome.as_str().into(),
                    reason: decision.reason.as_str().into(),
                    decided_locally: false,
                    snapshot_key: match event.image("snapshot") {
                        Some(image) => Some(self.store_event_image(device.id, &event.event_id, image).await?),
                        None => None,
                    },
                    at: event.at_ms,
                };
                let record_id = self.store_access_record(&mut tx, &record).await?;
                stored = Some((record, record_id));
                for id in self
                    .gate_watch_hits(&mut tx, community_id, plate, event.at_ms)
                    .await?
                {
                    live.push(warned(id, WarningKind::WatchHit));
                }
                ("plate", Some(decision))
            }
            DeviceEventKind::BoothCall {
                visitor_name,
                id_number,
                house_ref,
            } => {
                tx.touch_device(device.id, now, None, None).await?;
                let community_id = device.community_id.ok_or_else(|| {
                    AppError::invalid(
                        "unassigned_device",
                        "device",
                        "the device is not assigned to a community yet",
                    )
                })?;
                let id_number_enc = id_number
                    .as_deref()
                    .map(|n| self.vault.encrypt("id_number", n))
                    .transpose()?;
                let house_id = match house_ref.as_deref().and_then(crate::booth::parse_house_ref) {
                    Some((b, u, h)) => tx.find_house(community_id, &b, &u, &h).await?.map(|h| h.id),
                    None => None,
                };
                tx.insert_booth_call(&NewBoothCall {
                    community_id,
                    device_id: device.id,
                    event_id: event.event_id.clone(),
                    visitor_name: visitor_name.clone(),
                    id_number_enc,
                    house_ref: house_ref.clone(),
                    house_id,
                    card_photo_key: match event.image("card_photo") {
                        Some(image) => Some(self.store_event_image(device.id, &event.event_id, image).await?),
                        None => None,
                    },
                    snapshot_key: match event.image("snapshot") {
                        Some(image) => Some(self.store_event_image(device.id, &event.event_id, image).await?),
                        None => None,
                    },
                    now_ms: now,
                })
                .await?;
                ("booth_call", None)
            }
            DeviceEventKind::LibraryAck { version } => {
                tx.touch_device(device.id, now, None, Some(*version)).await?;
                ("library_ack", None)
            }
            DeviceEventKind::Credential {
                presented,
                decided_locally,
            } => {
                tx.touch_device(device.id, now, None, None).await?;
                let community_id = device.community_id.ok_or_else(|| {
                    AppError::invalid(
                        "unassigned_device",
                        "device",
                        "the device is not assigned to a community yet",
                    )
                })?;
                let cached = self
                    .cached_device(device_code)
                    .await?
                    .ok_or(AppError::NotFound { entity: "device" })?;
                // Inside the write transaction: the external status check is not asked here (a
                // live credential takes `decide_event`, before any transaction; a terminal's past
                // decision is recorded as it was).
                let (person_id, platform_decision) = self.decide_presented(&cached, presented, false).await?;
                // A terminal that decided offline already acted; the record keeps what it did.
                let (outcome, reason) = match decided_locally {
                    Some((outcome, reason)) => (*outcome, reason.clone()),
                    None => (
                        platform_decision.outcome,
                        platform_decision.reason.as_str().to_string(),
                    ),
                };
                let record = NewAccessRecord {
                    community_id,
                    device_id: device.id,
                    event_id: event.event_id.clone(),
                    person_id,
                    credential_kind: presented.kind().into(),
                    outcome: outcome.as_str().into(),
                    reason,
                    decided_locally: decided_locally.is_some(),
                    snapshot_key: match event.image("snapshot") {
                        Some(image) => Some(self.store_event_image(device.id, &event.event_id, image).await?),
                        None => None,
                    },
                    at: event.at_ms,
                };
                let record_id = self.store_access_record(&mut tx, &record).await?;
                stored = Some((record, record_id));
                (
                    "credential",
                    decided_locally.is_none().then_some(platform_decision),
                )
            }
            DeviceEventKind::Alarm { kind, zone, severity } => {
                tx.touch_device(device.id, now, None, None).await?;
                let snapshot_key = match event.image("snapshot") {
                    Some(image) => Some(self.store_event_image(device.id, &event.event_id, image).await?),
                    None => None,
                };
                let alarm_kind = anfang_domain::alarm::AlarmKind::from_device(kind);
                let raised = self
                    .raise_alarm(
                        &mut tx,
                        &crate::alarms::RaiseAlarm {
                            kind: alarm_kind,
                            reported: *severity,
                            device_id: Some(device.id),
                            community_id: None,
                            place_id: None,
                            zone: zone.clone(),
                            source: "device",
                            source_ref: Some(event.event_id.clone()),
                            at: event.at_ms,
                            snapshot_key,
                        },
                    )
                    .await?;
                live.push(LiveEvent::alarm(
                    &raised,
                    alarm_kind,
                    &device,
                    zone.as_deref(),
                    event.at_ms,
                ));
                ("alarm", None)
            }
            DeviceEventKind::PatrolScan {
                checkpoint,
                guard_ref,
            } => {
                tx.touch_device(device.id, now, None, None).await?;
                self.record_patrol_scan(
                    &mut tx,
                    &device,
                    &event.event_id,
                    event.at_ms,
                    checkpoint,
                    guard_ref,
                )
                .await?;
                ("patrol_scan", None)
            }
            DeviceEventKind::Passages { passages } => {
                tx.touch_device(device.id, now, None, None).await?;
                if let Some(id) = self
                    .judge_passages(&mut tx, &device, &event.event_id, event.at_ms, *passages)
                    .await?
                {
                    live.push(warned(id, WarningKind::Tailgating));
                }
                ("door_state", None)
            }
            DeviceEventKind::Other { kind } => {
                tx.touch_device(device.id, now, None, None).await?;
                (kind.as_str(), None)
            }
        };
        tx.insert_device_event(&DeviceEventRow {
            device_id: device.id,
            event_id: event.event_id.clone(),
            kind: kind.to_string(),
            at: event.at_ms,
            received_at: now,
            body: event.body_json.clone(),
            answer: decision_json(decision),
        })
        .await?;
        // HTTP-push devices only hear from the platform in acks: hand over one queued command
        // when this ack carries none of its own.
        let pending = if decision.is_none() && library.is_none() {
            self.take_pending_for(&mut tx, device.id).await?
        } else {
            None
        };
        if let (Some(_), Some((record, record_id))) = (decision, &stored) {
            live.push(LiveEvent::access(record, *record_id));
        } else if matches!(kind, "patrol_scan" | "booth_call") {
            live.push(LiveEvent {
                kind: if kind == "booth_call" { "booth" } else { "patrol" },
                community_id: device.community_id,
                audience: None,
                at: event.at_ms,
                data: json!({"event": kind, "device_id": device.id, "device_name": device.name, "event_id": event.event_id}),
            });
        }
        self.commit_events(tx, live).await?;
        Ok(DeviceAnswer {
            status: AckStatus::Stored,
            decision,
            library,
            pending,
        })
    }

    /// The device and its secret in clear, for authenticating its messages.
    pub async fn device_credentials(&self, code: &str) -> AppResult<(DeviceRow, String)> {
        let mut tx = self.store.read().await?;
        let device = tx
            .device_by_code(code)
            .await?
            .ok_or(AppError::NotFound { entity: "device" })?;
        let secret = self.device_secret(&device)?;
        Ok((device, secret))
    }

    /// Access records in scope, newest first.
    pub async fn list_access_records(
        &self,
        who: &Principal,
        q: &crate::registry::ListQuery,
        person_id: Option<i64>,
        device_id: Option<i64>,
        page: crate::registry::PageRequest,
    ) -> AppResult<Paged<AccessRecordRow>> {
        who.require(Permission::ReadPersons)?;
        let mut filter = self.scoped_filter(who, q).await?;
        filter.person_id = person_id;
        filter.device_id = device_id;
        let mut tx = self.store.read().await?;
        Ok(tx.list_access_records(&filter, page.to_page()?).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_answers_round_trip() {
        for d in [
            AccessDecision::open(Reason::TenantLease),
            AccessDecision::deny(Reason::LeaseEnded),
        ] {
            assert_eq!(decision_from_json(&decision_json(Some(d))), Some(d));
        }
        assert_eq!(decision_from_json(&decision_json(None)), None);
    }

    #[test]
    fn credential_values_are_checked() {
        assert_eq!(validate_value("card", "00ab12ff").unwrap(), "00AB12FF");
        assert!(validate_value("card", "xyz!").is_err());
        assert_eq!(validate_value("pin", "123456").unwrap(), "123456");
        assert!(validate_value("pin", "12").is_err());
        assert!(validate_value("face", "1").is_err());
    }
}
