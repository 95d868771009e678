//! Terminal libraries: the persons (and their credentials and validity windows) a terminal may
//! let in by itself, so that it keeps deciding — enforcing a lease end — while the platform is
//! unreachable. Every change that can alter that set bumps the community's library version;
//! a terminal reports the version it applied in each heartbeat and the answer carries exactly
//! the changes after it (`library_sync`), or everything when it has none (from version 0).

use crate::{App, AppError, AppResult};
use anfang_domain::access::{Door, Grant, grant_reaches};
use anfang_domain::model::{HouseRole, PlaceKind};
use anfang_store::*;

/// Changes sent in one sync at most; the terminal catches up over several heartbeats.
pub const MAX_CHANGES_PER_SYNC: i64 = 200;

/// One person's entry in a terminal's library.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryEntry {
    /// The platform's person id as text.
    pub person_ref: String,
    /// Add/replace (`true`) or remove (`false`).
    pub upsert: bool,
    /// (kind, value): `face` without a value (the terminal enrolled the face), `card`/`pin`
    /// with their values.
    pub credentials: Vec<(String, Option<String>)>,
    /// Valid from (ms), for tenants.
    pub valid_from: Option<i64>,
    /// Valid until (ms), for tenants: the terminal refuses after it by itself.
    pub valid_until: Option<i64>,
    /// Duty hours, for staff whose every grant here is scheduled.
    pub schedule: Option<String>,
}

/// What a terminal must apply to go from one library version to another.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryDelta {
    /// The version the changes apply to (0: clear the library first).
    pub from_version: i64,
    /// The version after them.
    pub to_version: i64,
    /// The entries.
    pub changes: Vec<LibraryEntry>,
}

/// Start of a local (UTC+8) day in ms.
fn day_start_ms(date: chrono::NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis() - 8 * 3600 * 1000)
        .unwrap_or(0)
}

impl App {
    /// Records, inside `tx`, that `person_id`'s access in `community_id` may have changed.
    pub(crate) async fn library_changed(
        &self,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
        person_id: i64,
    ) -> AppResult<()> {
        tx.bump_library(community_id, person_id, self.clock.now_ms())
            .await?;
        Ok(())
    }

    /// The door a device guards, if it guards one.
    pub(crate) async fn door_of(&self, tx: &mut Box<dyn Tx>, device: &DeviceRow) -> AppResult<Option<Door>> {
        let Some(place_id) = device.place_id else {
            return Ok(None);
        };
        let Some(place) = tx.place(place_id).await? else {
            return Ok(None);
        };
        let kind = PlaceKind::parse(&place.kind).map_err(|e| AppError::Internal(e.message))?;
        Ok(Some(Door {
            community_id: place.community_id,
            kind,
            unit_id: place.unit_id,
        }))
    }

    /// A person's grants (house relations with where the houses are).
    pub(crate) async fn grants_of(&self, tx: &mut Box<dyn Tx>, person_id: i64) -> AppResult<Vec<Grant>> {
        let mut grants = Vec::new();
        for rel in tx.person_houses(&[person_id]).await? {
            let Some(house) = tx.house(rel.house_id).await? else {
                continue;
            };
            let parse = |d: &Option<String>| {
                d.as_deref()
                    .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            };
            grants.push(Grant {
                community_id: house.community_id,
                unit_id: house.unit_id,
                role: HouseRole::parse(&rel.role).map_err(|e| AppError::Internal(e.message))?,
                lease_start: parse(&rel.lease_start),
                lease_end: parse(&rel.lease_end),
                schedule: rel
                    .schedule
                    .as_deref()
                    .and_then(|s| anfang_domain::Schedule::parse(s).ok()),
            });
        }
        Ok(grants)
    }

    /// The library entry of one person for one door: an upsert with credentials and validity
    /// when a grant reaches the door, a removal otherwise.
    async fn entry_for(&self, tx: &mut Box<dyn Tx>, person_id: i64, door: &Door) -> AppResult<LibraryEntry> {
        let grants: Vec<Grant> = self
            .grants_of(tx, person_id)
            .await?
            .into_iter()
            .filter(|g| grant_reaches(g, door))
            .collect();
        let remove = LibraryEntry {
            person_ref: person_id.to_string(),
            upsert: false,
            credentials: Vec::new(),
            valid_from: None,
            valid_until: None,
            schedule: None,
        };
        // A deny-listed person is off every terminal of the community, so it refuses them
        // even while the platform is unreachable.
        if grants.is_empty()
            || tx
                .denied_communities(person_id)
                .await?
                .contains(&door.community_id)
        {
            return Ok(remove);
        }
        let schedule = if grants.iter().all(|g| g.schedule.is_some()) {
            let windows: Vec<String> = grants
                .iter()
                .filter_map(|g| g.schedule.as_ref().map(ToString::to_string))
                .collect();
            Some(windows.join(";"))
        } else {
            None
        };
        // The widest window over the grants: an owner's grant has none.
        let unlimited = grants.iter().any(|g| g.role != HouseRole::Tenant);
        let (valid_from, valid_until) = if unlimited {
            (None, None)
        } else {
            let from = grants
                .iter()
                .filter_map(|g| g.lease_start)
                .min()
                .map(day_start_ms);
            let until = grants
                .iter()
                .filter_map(|g| g.lease_end)
                .max()
                .map(|d| day_start_ms(d) + 24 * 3600 * 1000 - 1000);
            (from, until)
        };
        let now = self.clock.now_ms();
        let mut credentials = Vec::new();
        // A face needs both: an active consent and an enrolled photo, whose digest tells the
        // terminal which photo to fetch.
        if Self::has_face_consent(tx, person_id).await?
            && let Some(photo) = tx.face_photo(person_id).await?
        {
            credentials.push(("face".to_string(), Some(photo.sha256)));
        }
        for c in tx.credentials(person_id).await? {
            if c.revoked_at.is_some() || c.valid_until.is_some_and(|u| u < now) {
                continue;
            }
            let value = c
                .value_enc
                .as_deref()
                .map(|v| self.vault.decrypt("credential_value", v))
                .transpose()?;
            credentials.push((c.kind, value));
        }
        if credentials.is_empty() {
            return Ok(remove);
        }
        Ok(LibraryEntry {
            person_ref: person_id.to_string(),
            upsert: true,
            credentials,
            valid_from,
            valid_until,
            schedule,
        })
    }

    /// The changes a device on `applied` must apply, or `None` when it is current or guards no
    /// door. A device at version 0, or one so far behind that the changes would not fit, gets a
    /// full library from version 0.
    pub(crate) async fn library_delta(
        &self,
        tx: &mut Box<dyn Tx>,
        device: &DeviceRow,
        applied: i64,
    ) -> AppResult<Option<LibraryDelta>> {
        let Some(door) = self.door_of(tx, device).await? else {
            return Ok(None);
        };
        let mut current = tx.library_version(door.community_id).await?;
        if current == 0 {
            // Registered before any change was recorded (or never changed): start the version
            // sequence so that the first real change is a version the terminal has not seen.
            let filter = Filter {
                community_id: Some(door.community_id),
                ..Filter::default()
            };
            let Some(first) = tx
                .list_persons(&filter, Page::first(1))
                .await?
                .items
                .into_iter()
                .next()
            else {
                return Ok(None);
            };
            current = tx
                .bump_library(door.community_id, first.id, self.clock.now_ms())
                .await?;
        }
        if applied >= current && applied > 0 {
            return Ok(None);
        }
        let changes = if applied > 0 {
            tx.library_changes_since(door.community_id, applied, MAX_CHANGES_PER_SYNC + 1)
                .await?
        } else {
            Vec::new()
        };
        let full = applied <= 0 || changes.len() as i64 > MAX_CHANGES_PER_SYNC;
        let mut entries = Vec::new();
        if full {
            let filter = Filter {
                community_id: Some(door.community_id),
                ..Filter::default()
            };
            for person in tx.list_persons(&filter, Page::ALL).await?.items {
                let entry = self.entry_for(tx, person.id, &door).await?;
                if entry.upsert {
                    entries.push(entry);
                }
            }
            return Ok(Some(LibraryDelta {
                from_version: 0,
                to_version: current,
                changes: entries,
            }));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (_, person_id) in &changes {
            if seen.insert(*person_id) {
                entries.push(self.entry_for(tx, *person_id, &door).await?);
            }
        }
        let to_version = changes.last().map(|(v, _)| *v).unwrap_or(current);
        Ok(Some(LibraryDelta {
            from_version: applied,
            to_version,
            changes: entries,
        }))
    }
}
