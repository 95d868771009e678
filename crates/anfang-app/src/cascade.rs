//! Store-and-forward toward superior platforms (the police 视图库, the big-data centre): what
//! is queued for each target — in the same transaction as what it reports — handed to its
//! forwarder in order with everything needed to write it in the target's protocol, and marked
//! delivered, or failed, as the target answers. An item the target keeps refusing is given up
//! after [`MAX_ATTEMPTS`] so that it cannot block the queue for ever; that is logged and
//! counted. Also here: what superiors ask of us (subscriptions, dispositions into the police
//! watch-list) and the hits on that list, which only police roles may read.
//!
//! Invariant: the application layer knows no wire format; the forwarder (a protocol client in
//! the binary) turns items into GA/T 1400 objects or the feed's JSON.

use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_store::*;
use serde_json::json;

/// Refusals of one item before it is given up.
pub const MAX_ATTEMPTS: i64 = 5;

/// What a target is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sends {
    /// Capture records (faces, persons, vehicles).
    Captures,
    /// Door-access records.
    DoorRecords,
    /// Residents of the registry, as they change.
    Registry,
}

impl Sends {
    /// Reads `captures`, `door_records`, `registry`.
    pub fn parse(text: &str) -> Option<Sends> {
        Some(match text {
            "captures" => Sends::Captures,
            "door_records" => Sends::DoorRecords,
            "registry" => Sends::Registry,
            _ => return None,
        })
    }
}

/// A superior platform as the application sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct UpwardTarget {
    /// Its name (queue, metrics, logs).
    pub name: String,
    /// What is queued for it.
    pub sends: Vec<Sends>,
    /// Whether it receives personal data unmasked (the police), or masked.
    pub unmasked: bool,
    /// Its own id, when it calls us (subscriptions, dispositions).
    pub superior_id: Option<String>,
    /// The shared password its calls are checked with.
    pub password: String,
}

/// Why something is sent, with what the forwarder needs to write it.
#[derive(Debug, Clone, PartialEq)]
pub enum Upward {
    /// A capture record with its camera's code and its pictures, in order.
    Capture {
        /// The record.
        record: CaptureRecordRow,
        /// The camera's code.
        device_code: String,
        /// The pictures (opened).
        images: Vec<Vec<u8>>,
    },
    /// A door-access record.
    DoorRecord {
        /// The record.
        record: AccessRecordRow,
        /// The door device's code.
        device_code: String,
        /// The door device's name.
        door_name: String,
        /// The community's code.
        community_code: String,
    },
    /// A resident added, changed or removed (`person` is `None` once removed).
    Person {
        /// Their id.
        person_id: i64,
        /// 0 added, 1 changed, 2 removed.
        change: i64,
        /// What is shared of them.
        person: Option<PersonShared>,
        /// The community's code.
        community_code: String,
    },
    /// A capture that hit an entry of the police watch-list the target placed.
    WatchHit {
        /// The entry (a disposition of the target).
        entry: WatchEntryRow,
        /// The capture.
        record: CaptureRecordRow,
        /// The camera's code.
        device_code: String,
        /// The pictures (opened).
        images: Vec<Vec<u8>>,
    },
}

/// A resident as shared upward; ID and phone masked unless the target may receive them.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonShared {
    /// Name.
    pub name: String,
    /// `male`, `female`, `unknown`.
    pub gender: String,
    /// ID type name (`resident_id`, `passport`, …).
    pub id_type: String,
    /// ID number.
    pub id_number: String,
    /// Phone.
    pub phone: Option<String>,
    /// Population type name (`registered`, `floating`, `overseas`, …).
    pub population_type: String,
    /// Where they live (`3号楼2单元501`).
    pub address: String,
    /// Last change (ms).
    pub updated_at: i64,
}

/// One item ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct CascadeItem {
    /// The queue id.
    pub id: i64,
    /// `face`, `person`, `motor_vehicle`, `non_motor_vehicle`, `door_record`, `person_info`,
    /// `watch_hit`.
    pub kind: String,
    /// What to send.
    pub upward: Upward,
}

fn payload_id(payload: &serde_json::Value, key: &str) -> Option<i64> {
    payload[key].as_i64()
}

impl App {
    /// Queues `payload` for every target that is sent `what`, inside `tx`; `device_id` names
    /// the device whose data it is (the networking rate counts the acknowledgement for it).
    pub(crate) async fn enqueue_upward(
        &self,
        tx: &mut Box<dyn Tx>,
        what: Sends,
        kind: &str,
        payload: &serde_json::Value,
        at: i64,
        device_id: Option<i64>,
    ) -> AppResult<()> {
        for target in &self.config.cascade_targets {
            if target.sends.contains(&what) {
                tx.enqueue_cascade(&target.name, kind, &payload.to_string(), at, device_id)
                    .await?;
            }
        }
        Ok(())
    }

    /// Stores a door-access record and queues it upward, inside `tx`.
    pub(crate) async fn store_access_record(
        &self,
        tx: &mut Box<dyn Tx>,
        new: &NewAccessRecord,
    ) -> AppResult<i64> {
        let id = tx.insert_access_record(new).await?;
        self.enqueue_upward(
            tx,
            Sends::DoorRecords,
            "door_record",
            &json!({"access": id}),
            new.at,
            Some(new.device_id),
        )
        .await?;
        Ok(id)
    }

    /// Queues a registry change of `person_id` (0 added, 1 changed, 2 removed), inside `tx`.
    pub(crate) async fn registry_changed(
        &self,
        tx: &mut Box<dyn Tx>,
        person_id: i64,
        change: i64,
        at: i64,
    ) -> AppResult<()> {
        self.enqueue_upward(
            tx,
            Sends::Registry,
            "person_info",
            &json!({"person": person_id, "change": change}),
            at,
            None,
        )
        .await
    }

    async fn opened_images(&self, keys_json: &str) -> AppResult<Vec<Vec<u8>>> {
        let keys: Vec<String> = serde_json::from_str(keys_json).unwrap_or_default();
        let mut images = Vec::with_capacity(keys.len());
        for key in &keys {
            let bytes = self
                .get_sealed(crate::captures::CAPTURE_CONTEXT, key)
                .await?
                .ok_or(AppError::NotFound { entity: "image" })?;
            images.push(bytes);
        }
        Ok(images)
    }

    async fn person_shared(
        &self,
        tx: &mut Box<dyn Tx>,
        person: &PersonRow,
        unmasked: bool,
    ) -> AppResult<PersonShared> {
        let id_number = self.vault.decrypt("id_number", &person.id_number_enc)?;
        let phone = person
            .phone_enc
            .as_ref()
            .map(|b| self.vault.decrypt("phone", b))
            .transpose()?;
        let mut address = String::new();
        if let Some(link) = tx.person_houses(&[person.id]).await?.into_iter().next()
            && let Some(house) = tx.house(link.house_id).await?
            && let Some(unit) = tx.unit(house.unit_id).await?
            && let Some(building) = tx.building(unit.building_id).await?
        {
            address = format!("{}号楼{}单元{}", building.number, unit.number, house.number);
        }
        Ok(PersonShared {
            name: if unmasked {
                person.name.clone()
            } else {
                anfang_domain::mask::mask_name(&person.name)
            },
            gender: person.gender.clone(),
            id_type: person.id_type.clone(),
            id_number: if unmasked {
                id_number
            } else {
                anfang_domain::mask::mask_id_number(&id_number)
            },
            phone: phone.map(|p| {
                if unmasked {
                    p
                } else {
                    anfang_domain::mask::mask_phone(&p)
                }
            }),
            population_type: person.population_type.clone(),
            address,
            updated_at: person.updated_at,
        })
    }

    /// The oldest undelivered items of `target`, ready to send. Items whose subject is gone
    /// (a record removed by retention) are marked delivered and skipped.
    pub async fn cascade_batch(&self, target: &UpwardTarget, limit: i64) -> AppResult<Vec<CascadeItem>> {
        let mut tx = self.store.read().await?;
        let mut out = Vec::new();
        let mut gone = Vec::new();
        let mut codes: std::collections::HashMap<i64, (String, String)> = Default::default();
        let mut communities: std::collections::HashMap<i64, String> = Default::default();
        for row in tx.pending_cascade(&target.name, limit).await? {
            let payload: serde_json::Value = serde_json::from_str(&row.payload).unwrap_or_default();
            let upward = match row.kind.as_str() {
                "door_record" => {
                    let record = match payload_id(&payload, "access") {
                        Some(id) => tx.access_record(id).await?,
                        None => None,
                    };
                    let Some(record) = record else {
                        gone.push(row.id);
                        continue;
                    };
                    let (device_code, door_name) =
                        device_names(&mut tx, &mut codes, record.device_id).await?;
                    let community_code =
                        community_code(&mut tx, &mut communities, Some(record.community_id)).await?;
                    Upward::DoorRecord {
                        record,
                        device_code,
                        door_name,
                        community_code,
                    }
                }
                "person_info" => {
                    let Some(person_id) = payload_id(&payload, "person") else {
                        gone.push(row.id);
                        continue;
                    };
                    let person = tx.person(person_id).await?;
                    let shared = match &person {
                        Some(p) => Some(self.person_shared(&mut tx, p, target.unmasked).await?),
                        None => None,
                    };
                    let community_code =
                        community_code(&mut tx, &mut communities, person.as_ref().map(|p| p.community_id))
                            .await?;
                    Upward::Person {
                        person_id,
                        change: if person.is_none() {
                            2
                        } else {
                            payload_id(&payload, "change").unwrap_or(1)
                        },
                        person: shared,
                        community_code,
                    }
                }
                "watch_hit" => {
                    let entry = match payload_id(&payload, "entry") {
                        Some(id) => tx.watch_entry(id).await?,
                        None => None,
                    };
                    let record = match payload_id(&payload, "record") {
                        Some(id) => tx.capture_record(id).await?,
                        None => None,
                    };
                    let (Some(entry), Some(record)) = (entry, record) else {
                        gone.push(row.id);
                        continue;
                    };
                    let (device_code, _) = device_names(&mut tx, &mut codes, record.device_id).await?;
                    let images = self.opened_images(&record.image_keys).await?;
                    Upward::WatchHit {
                        entry,
                        record,
                        device_code,
                        images,
                    }
                }
                _ => {
                    let record = match payload_id(&payload, "record") {
                        Some(id) => tx.capture_record(id).await?,
                        None => None,
                    };
                    let Some(record) = record else {
                        gone.push(row.id);
                        continue;
                    };
                    let (device_code, _) = device_names(&mut tx, &mut codes, record.device_id).await?;
                    let images = self.opened_images(&record.image_keys).await?;
                    Upward::Capture {
                        record,
                        device_code,
                        images,
                    }
                }
            };
            out.push(CascadeItem {
                id: row.id,
                kind: row.kind,
                upward,
            });
        }
        drop(tx);
        if !gone.is_empty() {
            tracing::warn!(target = %target.name, items = gone.len(), "cascade items whose subject is gone skipped");
            self.cascade_delivered(&target.name, &gone, 0).await?;
        }
        Ok(out)
    }

    /// The target took these items; `persons` of them carried residents' data, which is
    /// audited as shared.
    pub async fn cascade_delivered(&self, target: &str, ids: &[i64], persons: usize) -> AppResult<()> {
        let mut tx = self.store.write().await?;
        tx.mark_cascade_delivered(ids, self.clock.now_ms()).await?;
        let audit = if persons > 0 {
            Some(
                self.audit(
                    &mut tx,
                    &format!("cascade:{target}"),
                    "registry.shared",
                    &format!("cascade:{target}"),
                    json!({"persons": persons}),
                )
                .await?,
            )
        } else {
            None
        };
        self.commit(tx, audit.as_ref()).await
    }

    /// The target refused these items (or could not be reached); items refused
    /// [`MAX_ATTEMPTS`] times are given up.
    pub async fn cascade_failed(&self, target: &str, ids: &[i64], error: &str) -> AppResult<()> {
        let mut tx = self.store.write().await?;
        tx.note_cascade_failure(ids, error).await?;
        let given_up: Vec<i64> = tx
            .pending_cascade(target, 1000)
            .await?
            .into_iter()
            .filter(|c| ids.contains(&c.id) && c.attempts >= MAX_ATTEMPTS)
            .map(|c| c.id)
            .collect();
        if !given_up.is_empty() {
            tracing::warn!(target, items = given_up.len(), error, "cascade items given up");
            metrics::counter!("anfang_cascade_given_up_total", "target" => target.to_string())
                .increment(given_up.len() as u64);
            tx.mark_cascade_delivered(&given_up, self.clock.now_ms()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every configured target with its queue (district-wide callers only).
    pub async fn cascade_targets(&self, who: &crate::Principal) -> AppResult<Vec<(String, CascadeDepth)>> {
        who.require(crate::Permission::ReadDevices)?;
        if !who.scope.all {
            return Err(AppError::Forbidden("the cascade is district-wide".into()));
        }
        let mut out = Vec::new();
        for target in &self.config.cascade_targets {
            out.push((target.name.clone(), self.cascade_depth(&target.name).await?));
        }
        Ok(out)
    }

    /// A target's queue depth and last delivery.
    pub async fn cascade_depth(&self, target: &str) -> AppResult<CascadeDepth> {
        let mut tx = self.store.read().await?;
        Ok(tx.cascade_depth(target).await?)
    }
}

/// A device's code and name, cached for the batch.
async fn device_names(
    tx: &mut Box<dyn Tx>,
    cache: &mut std::collections::HashMap<i64, (String, String)>,
    id: i64,
) -> AppResult<(String, String)> {
    if let Some(hit) = cache.get(&id) {
        return Ok(hit.clone());
    }
    let names = tx.device(id).await?.map(|d| (d.code, d.name)).unwrap_or_default();
    cache.insert(id, names.clone());
    Ok(names)
}

/// A community's code, cached for the batch.
async fn community_code(
    tx: &mut Box<dyn Tx>,
    cache: &mut std::collections::HashMap<i64, String>,
    id: Option<i64>,
) -> AppResult<String> {
    let Some(id) = id else {
        return Ok(String::new());
    };
    if let Some(hit) = cache.get(&id) {
        return Ok(hit.clone());
    }
    let code = tx.community(id).await?.map(|c| c.code).unwrap_or_default();
    cache.insert(id, code.clone());
    Ok(code)
}

/// A disposition (布控) received from a superior, as the watch-list keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDisposition {
    /// `DispositionID`.
    pub external_id: String,
    /// `person`, `motor_vehicle`, `non_motor_vehicle`, `keyword`.
    pub category: String,
    /// The plate watched for.
    pub plate: Option<String>,
    /// Title.
    pub title: String,
    /// From (ms); now when absent.
    pub begin_ms: Option<i64>,
    /// Until (ms); open-ended when absent.
    pub end_ms: Option<i64>,
    /// The object as received, pictures removed (JSON).
    pub body: String,
    /// Its pictures (target faces).
    pub images: Vec<Vec<u8>>,
}

/// The vault context of watch-list pictures.
pub(crate) const WATCH_CONTEXT: &str = "watch_image";

impl App {
    /// The target whose superior calls us as `superior_id`.
    pub fn superior(&self, superior_id: &str) -> Option<&UpwardTarget> {
        self.config
            .cascade_targets
            .iter()
            .find(|t| t.superior_id.as_deref() == Some(superior_id))
    }

    fn target(&self, name: &str) -> AppResult<&UpwardTarget> {
        self.config
            .cascade_targets
            .iter()
            .find(|t| t.name == name)
            .ok_or(AppError::NotFound {
                entity: "cascade target",
            })
    }

    /// Stores (or replaces) a subscription `target` placed; `status` 0 active, 1 cancelled.
    pub async fn place_subscription(
        &self,
        target: &str,
        subscribe_id: &str,
        status: i64,
        window: (Option<i64>, Option<i64>),
        body: &str,
    ) -> AppResult<()> {
        self.target(target)?;
        let now = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        tx.upsert_viid_subscription(&ViidSubscriptionRow {
            id: 0,
            target: target.into(),
            subscribe_id: subscribe_id.into(),
            status,
            begin_at: window.0.unwrap_or(now),
            end_at: window.1.unwrap_or(i64::MAX),
            body: body.into(),
            updated_at: now,
        })
        .await?;
        let audit = self
            .audit(
                &mut tx,
                &format!("cascade:{target}"),
                if status == 0 {
                    "subscription.placed"
                } else {
                    "subscription.cancelled"
                },
                &format!("subscription:{subscribe_id}"),
                json!({"target": target}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await
    }

    /// Cancels a subscription; `false` when `target` has no such subscription.
    pub async fn cancel_subscription(&self, target: &str, subscribe_id: &str) -> AppResult<bool> {
        let now = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        if !tx
            .set_viid_subscription_status(target, subscribe_id, 1, now)
            .await?
        {
            return Ok(false);
        }
        let audit = self
            .audit(
                &mut tx,
                &format!("cascade:{target}"),
                "subscription.cancelled",
                &format!("subscription:{subscribe_id}"),
                json!({"target": target}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(true)
    }

    /// The subscriptions `target` placed (every status).
    pub async fn subscriptions(&self, target: &str) -> AppResult<Vec<ViidSubscriptionRow>> {
        let mut tx = self.store.read().await?;
        Ok(tx.list_viid_subscriptions(target).await?)
    }

    /// Puts a disposition from `target` on the police watch-list (replacing an earlier one
    /// with the same id); its pictures are sealed.
    pub async fn receive_disposition(&self, target: &str, d: &NewDisposition) -> AppResult<i64> {
        self.target(target)?;
        let now = self.clock.now_ms();
        let stream = format!("watch/{}", self.clock.today_cst().format("%Y%m%d"));
        let keys = self
            .append_sealed(WATCH_CONTEXT, &stream, d.images.iter().map(Vec::as_slice))
            .await?;
        let source = format!("viid:{target}");
        let mut tx = self.store.write().await?;
        let id = tx
            .upsert_watch_entry(&WatchEntryRow {
                id: 0,
                source: source.clone(),
                external_id: d.external_id.clone(),
                category: d.category.clone(),
                plate: d.plate.as_deref().map(anfang_domain::plate::normalize_plate),
                title: d.title.clone(),
                status: "active".into(),
                begin_at: d.begin_ms.unwrap_or(now),
                end_at: d.end_ms.unwrap_or(i64::MAX),
                body: d.body.clone(),
                image_keys: serde_json::to_string(&keys).map_err(|e| AppError::Internal(e.to_string()))?,
                created_at: now,
                updated_at: now,
            })
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &format!("cascade:{target}"),
                "watchlist.disposition",
                &format!("watch_entry:{id}"),
                json!({"disposition": d.external_id, "category": d.category}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        // A person disposition's picture becomes a watch template; the entry is stored either
        // way, and one whose picture could not be indexed now is indexed at the next start.
        self.reload_watch_gallery().await?;
        if let Err(e) = self.index_watch_entries().await {
            tracing::warn!(error = %e, "watch-list pictures not indexed yet");
        }
        Ok(id)
    }

    /// Revokes (撤控) a disposition of `target`; `false` when it has no such disposition.
    pub async fn revoke_disposition(&self, target: &str, external_id: &str) -> AppResult<bool> {
        let now = self.clock.now_ms();
        let source = format!("viid:{target}");
        let mut tx = self.store.write().await?;
        if !tx
            .set_watch_entry_status(&source, external_id, "revoked", now)
            .await?
        {
            return Ok(false);
        }
        let audit = self
            .audit(
                &mut tx,
                &format!("cascade:{target}"),
                "watchlist.revoked",
                &format!("disposition:{external_id}"),
                json!({"target": target}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        self.reload_watch_gallery().await?;
        Ok(true)
    }

    /// The police watch-list (police roles only; every read audited).
    pub async fn list_watch_entries(
        &self,
        who: &Principal,
        status: Option<&str>,
        page: crate::registry::PageRequest,
    ) -> AppResult<Paged<WatchEntryRow>> {
        who.require(Permission::ReadWatchlists)?;
        let mut tx = self.store.write().await?;
        let entries = tx.list_watch_entries(status, page.to_page()?).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "watchlist.read",
                "watchlist",
                json!({"entries": entries.items.len()}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(entries)
    }

    /// Hits on the police watch-list, newest first (police roles only; audited).
    pub async fn list_watch_hits(
        &self,
        who: &Principal,
        entry_id: Option<i64>,
        page: crate::registry::PageRequest,
    ) -> AppResult<Paged<WatchHitRow>> {
        who.require(Permission::ReadWatchlists)?;
        let mut tx = self.store.write().await?;
        let hits = tx.list_watch_hits(entry_id, page.to_page()?).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "watchlist.hits_read",
                "watchlist",
                json!({"hits": hits.items.len()}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(hits)
    }

    /// The signature of a link to picture `n` of capture `record`, valid until `expires_ms`.
    pub fn picture_link_signature(&self, record: i64, n: usize, expires_ms: i64) -> String {
        self.vault
            .blind_index("picture_link", &format!("{record}:{n}:{expires_ms}"))[..32]
            .to_string()
    }

    /// Picture `n` of capture `record` through a signed link (superiors fetching pictures sent
    /// by URL); `None` when the link is forged, expired, or names no picture.
    pub async fn linked_picture(
        &self,
        record: i64,
        n: usize,
        expires_ms: i64,
        signature: &str,
    ) -> AppResult<Option<Vec<u8>>> {
        use subtle::ConstantTimeEq;
        let expected = self.picture_link_signature(record, n, expires_ms);
        let valid: bool = expected.as_bytes().ct_eq(signature.as_bytes()).into();
        if !valid || expires_ms <= self.clock.now_ms() {
            return Ok(None);
        }
        let mut tx = self.store.read().await?;
        let Some(row) = tx.capture_record(record).await? else {
            return Ok(None);
        };
        drop(tx);
        let keys: Vec<String> = serde_json::from_str(&row.image_keys).unwrap_or_default();
        match keys.get(n) {
            Some(key) => self.get_sealed(crate::captures::CAPTURE_CONTEXT, key).await,
            None => Ok(None),
        }
    }
}
