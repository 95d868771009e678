//! The storage contract. The application talks to storage only through [`Store`] and [`Tx`];
//! backends (SQLite, PostgreSQL) implement them and must pass [`contract`], the one suite of
//! behavioural checks run against every backend.
//!
//! Invariant: this crate names no driver. Every operation runs inside a [`Tx`]; a `Tx` dropped
//! without [`Tx::commit`] rolls back, so a failed request writes nothing.

pub mod contract;
mod fees;
mod rows;

pub use fees::*;
pub use rows::*;

use async_trait::async_trait;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The addressed row does not exist.
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for, e.g. `house`.
        entity: &'static str,
    },
    /// A uniqueness or reference constraint refused the write.
    #[error("conflict: {detail}")]
    Conflict {
        /// The database's description of the violated constraint.
        detail: String,
    },
    /// The database could not be reached or timed out; retrying may help.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug, a schema mismatch, a corrupt row.
    #[error("storage error: {0}")]
    Internal(String),
}

impl StoreError {
    /// The cross-layer kind of this error.
    pub fn kind(&self) -> anfang_base::ErrorKind {
        use anfang_base::ErrorKind;
        match self {
            StoreError::NotFound { .. } => ErrorKind::NotFound,
            StoreError::Conflict { .. } => ErrorKind::Conflict,
            StoreError::Unavailable(_) => ErrorKind::Unavailable,
            StoreError::Internal(_) => ErrorKind::Internal,
        }
    }
}

/// Shorthand for storage results.
pub type StoreResult<T> = Result<T, StoreError>;

/// A storage backend: hands out transactions.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// A transaction for reads only (may run concurrently with others).
    async fn read(&self) -> StoreResult<Box<dyn Tx>>;
    /// A transaction that will write. Writers are serialized where the backend needs it
    /// (SQLite) so that a transaction never fails half-way on a lock upgrade.
    async fn write(&self) -> StoreResult<Box<dyn Tx>>;
    /// Makes every commit so far survive power loss, for writes acknowledged as durable.
    /// Backends whose commits are durable already do nothing.
    async fn sync(&self) -> StoreResult<()> {
        Ok(())
    }
    /// Writes a consistent copy of the whole database to `path` while the store stays online.
    async fn backup_to(&self, path: &std::path::Path) -> StoreResult<()>;
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
}

/// One transaction. Every method either succeeds or leaves the transaction usable only for
/// rollback (drop); nothing is visible to others until [`Tx::commit`]. Property fees' operations
/// come with it through the supertrait [`FeeTx`].
#[async_trait]
pub trait Tx: FeeTx + Send {
    /// Makes every write of this transaction durable and visible.
    async fn commit(self: Box<Self>) -> StoreResult<()>;

    // --- administrative hierarchy ---
    /// Inserts a street and returns its id.
    async fn insert_street(&mut self, new: &NewStreet) -> StoreResult<i64>;
    /// Lists streets, filtered by `filter.street_ids`.
    async fn list_streets(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<StreetRow>>;
    /// Finds a street by its code.
    async fn street_by_code(&mut self, code: &str) -> StoreResult<Option<StreetRow>>;
    /// Inserts a residents' or village committee.
    async fn insert_committee(&mut self, new: &NewCommittee) -> StoreResult<i64>;
    /// Lists committees (filters: `street_id`, `community_ids` via their communities is not applied).
    async fn list_committees(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<CommitteeRow>>;
    /// Inserts a community.
    async fn insert_community(&mut self, new: &NewCommunity) -> StoreResult<i64>;
    /// One community with its counts.
    async fn community(&mut self, id: i64) -> StoreResult<Option<CommunityRow>>;
    /// Finds a community by code.
    async fn community_by_code(&mut self, code: &str) -> StoreResult<Option<CommunityRow>>;
    /// Lists communities (filters: `community_ids`, `street_id`, `category`, `q`).
    async fn list_communities(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<CommunityRow>>;
    /// Ids of every community of the street with this code (empty when none).
    async fn community_ids_of_street(&mut self, street_code: &str) -> StoreResult<Vec<i64>>;
    /// Inserts a building.
    async fn insert_building(&mut self, new: &NewBuilding) -> StoreResult<i64>;
    /// One building.
    async fn building(&mut self, id: i64) -> StoreResult<Option<BuildingRow>>;
    /// Lists buildings (filters: `community_ids`, `community_id`).
    async fn list_buildings(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<BuildingRow>>;
    /// Inserts a unit.
    async fn insert_unit(&mut self, new: &NewUnit) -> StoreResult<i64>;
    /// One unit with its building's community.
    async fn unit(&mut self, id: i64) -> StoreResult<Option<UnitRow>>;
    /// Lists units (filters: `community_ids`, `building_id`).
    async fn list_units(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<UnitRow>>;
    /// Inserts a house.
    async fn insert_house(&mut self, new: &NewHouse) -> StoreResult<i64>;
    /// Updates a house's floor, area and use.
    async fn update_house(&mut self, id: i64, new: &NewHouse) -> StoreResult<()>;
    /// One house.
    async fn house(&mut self, id: i64) -> StoreResult<Option<HouseRow>>;
    /// Finds a house by community, building number, unit number and house number.
    async fn find_house(
        &mut self,
        community_id: i64,
        building: &str,
        unit: &str,
        number: &str,
    ) -> StoreResult<Option<HouseRow>>;
    /// Lists houses (filters: `community_ids`, `house_ids`, `community_id`, `building_id`, `unit_id`).
    async fn list_houses(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<HouseRow>>;
    /// Inserts a place on a site plan.
    async fn insert_place(&mut self, new: &NewPlace) -> StoreResult<i64>;
    /// Lists places (filters: `community_ids`, `community_id`, `kind`).
    async fn list_places(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<PlaceRow>>;
    /// Inserts a grid (网格).
    async fn insert_grid(&mut self, new: &NewGrid) -> StoreResult<i64>;
    /// Lists grids (filters: `community_ids`, `community_id`).
    async fn list_grids(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<GridRow>>;
    /// Inserts a real organisation (实有单位).
    async fn insert_organisation(&mut self, new: &NewOrganisation) -> StoreResult<i64>;
    /// Lists real organisations (filters: `community_ids`, `community_id`, `house_id`, `q`).
    async fn list_organisations(
        &mut self,
        filter: &Filter,
        page: Page,
    ) -> StoreResult<Paged<OrganisationRow>>;

    // --- persons and vehicles ---
    /// Inserts a person (personal data already encrypted by the caller).
    async fn insert_person(&mut self, new: &NewPerson) -> StoreResult<i64>;
    /// Replaces a person's fields (re-import by ID number).
    async fn update_person(&mut self, id: i64, new: &NewPerson) -> StoreResult<()>;
    /// One person.
    async fn person(&mut self, id: i64) -> StoreResult<Option<PersonRow>>;
    /// Finds a person by the blind index of their ID number.
    async fn person_by_id_index(&mut self, id_number_index: &str) -> StoreResult<Option<PersonRow>>;
    /// Lists persons (filters: `community_ids`, `house_ids`, `community_id`, `house_id`, `q`, `id_number_index`).
    async fn list_persons(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<PersonRow>>;
    /// Sets (inserts or replaces) a person's relation to a house.
    async fn upsert_person_house(&mut self, rel: &PersonHouseRow) -> StoreResult<()>;
    /// The house relations of these persons.
    async fn person_houses(&mut self, person_ids: &[i64]) -> StoreResult<Vec<PersonHouseRow>>;
    /// Inserts a vehicle.
    async fn insert_vehicle(&mut self, new: &NewVehicle) -> StoreResult<i64>;
    /// Replaces a vehicle's fields.
    async fn update_vehicle(&mut self, id: i64, new: &NewVehicle) -> StoreResult<()>;
    /// Finds a vehicle by its normalized plate.
    async fn vehicle_by_plate(&mut self, plate_number: &str) -> StoreResult<Option<VehicleRow>>;
    /// One vehicle.
    async fn vehicle(&mut self, id: i64) -> StoreResult<Option<VehicleRow>>;
    /// Lists vehicles (filters: `community_ids`, `house_ids` via the owner, `community_id`, `plate_number`).
    async fn list_vehicles(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<VehicleRow>>;

    // --- devices ---
    /// Inserts a device.
    async fn insert_device(&mut self, new: &NewDevice) -> StoreResult<i64>;
    /// One device.
    async fn device(&mut self, id: i64) -> StoreResult<Option<DeviceRow>>;
    /// Finds a device by its 20-digit code.
    async fn device_by_code(&mut self, code: &str) -> StoreResult<Option<DeviceRow>>;
    /// Lists devices (filters: `community_ids`, `community_id`, `kind`, `unassigned`).
    async fn list_devices(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<DeviceRow>>;
    /// Assigns a device to a community and place.
    async fn assign_device(&mut self, id: i64, community_id: i64, place_id: Option<i64>) -> StoreResult<()>;

    /// Records that a device spoke (heartbeat or any event), with what it reported.
    async fn touch_device(
        &mut self,
        id: i64,
        at: i64,
        firmware: Option<&str>,
        library_version: Option<i64>,
    ) -> StoreResult<()>;
    /// One place.
    async fn place(&mut self, id: i64) -> StoreResult<Option<PlaceRow>>;

    // --- access control ---
    /// Records a consent.
    async fn insert_consent(&mut self, new: &NewConsent) -> StoreResult<i64>;
    /// A person's consents, newest first.
    async fn consents(&mut self, person_id: i64) -> StoreResult<Vec<ConsentRow>>;
    /// Revokes a consent.
    async fn revoke_consent(&mut self, id: i64, at: i64) -> StoreResult<()>;
    /// Records the credential kinds a device offers (`None`: not known).
    async fn set_device_accepts(&mut self, id: i64, accepts: Option<&str>) -> StoreResult<()>;
    /// Records a face photo.
    async fn insert_face_photo(&mut self, new: &NewFacePhoto) -> StoreResult<i64>;
    /// A person's active face photo.
    async fn face_photo(&mut self, person_id: i64) -> StoreResult<Option<FacePhotoRow>>;
    /// Marks a person's active face photos removed; returns their image keys.
    async fn remove_face_photos(&mut self, person_id: i64, at: i64) -> StoreResult<Vec<String>>;
    /// Stores a capture record; `None` when the same (device, record id, content) exists.
    async fn insert_capture_record(&mut self, new: &NewCaptureRecord) -> StoreResult<Option<i64>>;
    /// Capture records, newest first (`filter`: scope, community, device, kind, plate).
    async fn list_capture_records(
        &mut self,
        filter: &Filter,
        since: Option<i64>,
        until: Option<i64>,
        page: Page,
    ) -> StoreResult<Paged<CaptureRecordRow>>;
    /// Queues something for a target; `device_id` names the device whose data it reports, so
    /// the target's acknowledgement counts toward that device's networking.
    async fn enqueue_cascade(
        &mut self,
        target: &str,
        kind: &str,
        payload: &str,
        at: i64,
        device_id: Option<i64>,
    ) -> StoreResult<i64>;
    /// The oldest undelivered items of a target, in order.
    async fn pending_cascade(&mut self, target: &str, limit: i64) -> StoreResult<Vec<CascadeRow>>;
    /// Marks items delivered.
    async fn mark_cascade_delivered(&mut self, ids: &[i64], at: i64) -> StoreResult<()>;
    /// Notes a failed attempt on items.
    async fn note_cascade_failure(&mut self, ids: &[i64], error: &str) -> StoreResult<()>;
    /// A target's queue depth and last delivery.
    async fn cascade_depth(&mut self, target: &str) -> StoreResult<CascadeDepth>;
    /// One capture record.
    async fn capture_record(&mut self, id: i64) -> StoreResult<Option<CaptureRecordRow>>;
    /// Creates or replaces a superior's subscription (by target and subscription id).
    async fn upsert_viid_subscription(&mut self, new: &ViidSubscriptionRow) -> StoreResult<i64>;
    /// Sets a subscription's status; `false` when the target has no such subscription.
    async fn set_viid_subscription_status(
        &mut self,
        target: &str,
        subscribe_id: &str,
        status: i64,
        at: i64,
    ) -> StoreResult<bool>;
    /// A target's subscriptions (every status), oldest first.
    async fn list_viid_subscriptions(&mut self, target: &str) -> StoreResult<Vec<ViidSubscriptionRow>>;
    /// Creates or replaces a watch-list entry (by source and external id).
    async fn upsert_watch_entry(&mut self, new: &WatchEntryRow) -> StoreResult<i64>;
    /// Sets an entry's status; `false` when the source has no such entry.
    async fn set_watch_entry_status(
        &mut self,
        source: &str,
        external_id: &str,
        status: &str,
        at: i64,
    ) -> StoreResult<bool>;
    /// One watch-list entry.
    async fn watch_entry(&mut self, id: i64) -> StoreResult<Option<WatchEntryRow>>;
    /// Watch-list entries, newest first (`status` when given).
    async fn list_watch_entries(
        &mut self,
        status: Option<&str>,
        page: Page,
    ) -> StoreResult<Paged<WatchEntryRow>>;
    /// Active entries watching for any of `plates` at `at`.
    async fn plate_watches(&mut self, plates: &[String], at: i64) -> StoreResult<Vec<WatchEntryRow>>;
    /// Records a hit on an entry.
    async fn insert_watch_hit(&mut self, new: &WatchHitRow) -> StoreResult<i64>;
    /// Hits, newest first (of one entry when given).
    async fn list_watch_hits(&mut self, entry_id: Option<i64>, page: Page)
    -> StoreResult<Paged<WatchHitRow>>;
    // --- alarms ---
    /// Raises an alarm.
    async fn insert_alarm(&mut self, new: &AlarmRow) -> StoreResult<i64>;
    /// One alarm.
    async fn alarm(&mut self, id: i64) -> StoreResult<Option<AlarmRow>>;
    /// The newest alarm of a device and kind that is not closed.
    async fn open_alarm(&mut self, device_id: i64, kind: &str) -> StoreResult<Option<AlarmRow>>;
    /// Writes an alarm's mutable fields (state, times, who, level, repeats, last_at).
    async fn update_alarm(&mut self, row: &AlarmRow) -> StoreResult<()>;
    /// Alarms, most urgent open ones first, then newest.
    async fn list_alarms(&mut self, filter: &AlarmFilter, page: Page) -> StoreResult<Paged<AlarmRow>>;
    /// Appends to an alarm's history.
    async fn insert_alarm_action(&mut self, new: &AlarmActionRow) -> StoreResult<i64>;
    /// An alarm's history, oldest first.
    async fn alarm_actions(&mut self, alarm_id: i64) -> StoreResult<Vec<AlarmActionRow>>;
    // --- patrol ---
    /// Creates a patrol route.
    async fn insert_patrol_route(&mut self, new: &PatrolRouteRow) -> StoreResult<i64>;
    /// One route.
    async fn patrol_route(&mut self, id: i64) -> StoreResult<Option<PatrolRouteRow>>;
    /// Routes of these communities (all when `None`), by name; active ones only when asked.
    async fn list_patrol_routes(
        &mut self,
        community_ids: Option<&Vec<i64>>,
        active_only: bool,
    ) -> StoreResult<Vec<PatrolRouteRow>>;
    /// Stops or resumes a route's rounds.
    async fn set_patrol_route_active(&mut self, id: i64, active: bool) -> StoreResult<()>;
    /// Records a scan.
    async fn insert_patrol_scan(&mut self, new: &PatrolScanRow) -> StoreResult<i64>;
    /// A community's scans in `[from, until]`, oldest first.
    async fn patrol_scans(
        &mut self,
        community_id: i64,
        from: i64,
        until: i64,
    ) -> StoreResult<Vec<PatrolScanRow>>;
    /// Stores a judged round; `None` when that route's round at that start was judged already.
    async fn insert_patrol_round(&mut self, new: &PatrolRoundRow) -> StoreResult<Option<i64>>;
    /// The starts of a route's judged rounds at or after `since`.
    async fn patrol_round_starts(&mut self, route_id: i64, since: i64) -> StoreResult<Vec<i64>>;
    /// Judged rounds of these communities (all when `None`) starting in `[from, until)`, by start.
    async fn list_patrol_rounds(
        &mut self,
        community_ids: Option<&Vec<i64>>,
        from: i64,
        until: i64,
    ) -> StoreResult<Vec<PatrolRoundRow>>;
    // --- early warning ---
    /// Raises a warning.
    async fn insert_warning(&mut self, new: &WarningRow) -> StoreResult<i64>;
    /// One warning.
    async fn warning(&mut self, id: i64) -> StoreResult<Option<WarningRow>>;
    /// The newest warning of a kind about a subject.
    async fn latest_warning(&mut self, kind: &str, subject: &str) -> StoreResult<Option<WarningRow>>;
    /// Saves a warning's score, evidence and handling.
    async fn update_warning(&mut self, row: &WarningRow) -> StoreResult<()>;
    /// Warnings, open first, newest first.
    async fn list_warnings(&mut self, filter: &WarningFilter, page: Page) -> StoreResult<Paged<WarningRow>>;
    /// A community's rule thresholds (JSON), if set.
    async fn warning_rules(&mut self, community_id: i64) -> StoreResult<Option<String>>;
    /// Sets a community's rule thresholds.
    async fn set_warning_rules(
        &mut self,
        community_id: i64,
        rules: &str,
        at: i64,
        by: &str,
    ) -> StoreResult<()>;
    /// Sets a watch-list hit's state (`confirmed`, `rejected`).
    async fn set_watch_hit_state(&mut self, hit_id: i64, state: &str) -> StoreResult<()>;
    /// Stranger sightings at or after `since`, oldest first.
    async fn stranger_sightings(&mut self, since: i64) -> StoreResult<Vec<StrangerSighting>>;
    /// When each person of a community was last seen (an opened door, a recognised face).
    async fn person_last_seen(&mut self, community_id: i64) -> StoreResult<Vec<(i64, i64)>>;
    /// Who came in through each house of a community in `[since, until]`: its people who opened
    /// a door (`p<person id>`) and the visitors it invited (`v<name>`), one row per house and
    /// person.
    async fn house_entrants(
        &mut self,
        community_id: i64,
        since: i64,
        until: i64,
    ) -> StoreResult<Vec<(i64, String)>>;
    // --- notifications ---
    /// Adds a notification channel.
    async fn insert_notify_channel(&mut self, new: &NotifyChannelRow) -> StoreResult<i64>;
    /// One channel.
    async fn notify_channel(&mut self, id: i64) -> StoreResult<Option<NotifyChannelRow>>;
    /// Channels (active ones only when asked), by id.
    async fn list_notify_channels(&mut self, active_only: bool) -> StoreResult<Vec<NotifyChannelRow>>;
    /// Starts or stops a channel.
    async fn set_notify_channel_active(&mut self, id: i64, active: bool) -> StoreResult<()>;
    /// Queues an event for a channel; `None` when this key was queued for it before.
    async fn insert_notification(&mut self, new: &NotificationRow) -> StoreResult<Option<i64>>;
    /// One queued notification.
    async fn notification(&mut self, id: i64) -> StoreResult<Option<NotificationRow>>;
    /// Pending notifications due at `now`, oldest first.
    async fn due_notifications(&mut self, now: i64, limit: i64) -> StoreResult<Vec<NotificationRow>>;
    /// Reserves a pending notification due at `now` until `until`; false when it is no longer
    /// pending and due (another worker took it).
    async fn lease_notification(&mut self, id: i64, now: i64, until: i64) -> StoreResult<bool>;
    /// The earliest next attempt of a pending notification.
    async fn next_notification_due(&mut self) -> StoreResult<Option<i64>>;
    /// Saves an attempt's outcome (state, attempts, next attempt, status, error, delivery).
    async fn update_notification(&mut self, row: &NotificationRow) -> StoreResult<()>;
    /// A channel's notifications, newest first.
    async fn list_notifications(
        &mut self,
        channel_id: i64,
        page: Page,
    ) -> StoreResult<Paged<NotificationRow>>;
    // --- recognition ---
    /// Stores the template of a face photo.
    async fn set_face_template(&mut self, photo_id: i64, model: &str, template_enc: &[u8])
    -> StoreResult<()>;
    /// Templates of active face photos (of one person when given).
    async fn face_templates(&mut self, person_id: Option<i64>) -> StoreResult<Vec<FaceTemplateRow>>;
    /// Per community: how many persons have a stored face template.
    async fn face_person_counts(&mut self) -> StoreResult<Vec<(i64, i64)>>;
    /// Stores the template of a watch-list entry's picture.
    async fn set_watch_template(
        &mut self,
        entry_id: i64,
        model: &str,
        template_enc: &[u8],
    ) -> StoreResult<()>;
    /// Templates of entries active at `at`.
    async fn watch_templates(&mut self, at: i64) -> StoreResult<Vec<WatchTemplateRow>>;
    /// Face captures not yet recognised with an id above `after`, oldest first.
    async fn pending_face_captures(&mut self, after: i64, limit: i64) -> StoreResult<Vec<CaptureRecordRow>>;
    /// Records what recognition made of a capture.
    async fn insert_capture_face(&mut self, new: &CaptureFaceRow) -> StoreResult<i64>;
    /// Recognised captures of a stranger or a person, newest first.
    async fn capture_faces_of(
        &mut self,
        stranger_id: Option<i64>,
        person_id: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<CaptureFaceRow>>;
    /// Recognised captures that still hold an embedding, in `communities` (all when `None`).
    async fn capture_face_templates(
        &mut self,
        communities: Option<&[i64]>,
    ) -> StoreResult<Vec<CaptureFaceRow>>;
    /// Creates a stranger.
    async fn insert_stranger(&mut self, new: &StrangerRow) -> StoreResult<i64>;
    /// Updates a stranger's centre, sightings and times.
    async fn update_stranger(&mut self, row: &StrangerRow) -> StoreResult<()>;
    /// One stranger.
    async fn stranger(&mut self, id: i64) -> StoreResult<Option<StrangerRow>>;
    /// Strangers (of one community when given).
    async fn strangers(&mut self, community_id: Option<i64>) -> StoreResult<Vec<StrangerRow>>;
    /// Drops capture embeddings and strangers whose time is up.
    async fn purge_biometrics(&mut self, now: i64) -> StoreResult<BiometricPurge>;
    /// Records a parking pass.
    async fn insert_parking_pass(&mut self, new: &NewParkingPass) -> StoreResult<i64>;
    /// One parking pass.
    async fn parking_pass(&mut self, id: i64) -> StoreResult<Option<ParkingPassRow>>;
    /// A community's passes, newest first; with `plate`, only that plate's.
    async fn parking_passes(
        &mut self,
        community_id: i64,
        plate: Option<&str>,
    ) -> StoreResult<Vec<ParkingPassRow>>;
    /// Revokes a pass.
    async fn revoke_parking_pass(&mut self, id: i64, at: i64) -> StoreResult<()>;
    /// Adds a deny-list entry.
    async fn insert_deny_entry(&mut self, new: &NewDenyEntry) -> StoreResult<i64>;
    /// One deny-list entry.
    async fn deny_entry(&mut self, id: i64) -> StoreResult<Option<DenyEntryRow>>;
    /// A community's deny list, newest first (`active_only`: without removed entries).
    async fn deny_entries(&mut self, community_id: i64, active_only: bool) -> StoreResult<Vec<DenyEntryRow>>;
    /// Communities where a person is on the deny list now.
    async fn denied_communities(&mut self, person_id: i64) -> StoreResult<Vec<i64>>;
    /// Removes an active entry (kept as history).
    async fn remove_deny_entry(&mut self, id: i64, at: i64, by: &str) -> StoreResult<()>;
    /// Issues a card or PIN credential.
    async fn insert_credential(&mut self, new: &NewCredential) -> StoreResult<i64>;
    /// A person's credentials.
    async fn credentials(&mut self, person_id: i64) -> StoreResult<Vec<CredentialRow>>;
    /// Finds a credential by kind and blind index.
    async fn credential_by_index(
        &mut self,
        kind: &str,
        value_index: &str,
    ) -> StoreResult<Option<CredentialRow>>;
    /// Revokes a credential.
    async fn revoke_credential(&mut self, id: i64, at: i64) -> StoreResult<()>;
    /// A device event already stored under this id, if any.
    async fn device_event(&mut self, device_id: i64, event_id: &str) -> StoreResult<Option<DeviceEventRow>>;
    /// Stores a device event with its answer (a repeat of the id is a conflict).
    async fn insert_device_event(&mut self, row: &DeviceEventRow) -> StoreResult<()>;
    /// Stores an access decision.
    async fn insert_access_record(&mut self, new: &NewAccessRecord) -> StoreResult<i64>;
    /// One access record.
    async fn access_record(&mut self, id: i64) -> StoreResult<Option<AccessRecordRow>>;
    /// Lists access records newest first (filters: `community_ids`, `house_ids` via the person,
    /// `community_id`, `house_id` via the person, `kind` = outcome).
    async fn list_access_records(
        &mut self,
        filter: &Filter,
        page: Page,
    ) -> StoreResult<Paged<AccessRecordRow>>;

    /// Moves a community's terminal-library version forward by one, recording that `person_id`
    /// changed; returns the new version. Concurrent bumps for one community serialize.
    async fn bump_library(&mut self, community_id: i64, person_id: i64, at: i64) -> StoreResult<i64>;
    /// A community's current library version (0 before any change).
    async fn library_version(&mut self, community_id: i64) -> StoreResult<i64>;
    /// (version, person id) of the changes after `after`, oldest first, at most `limit`.
    async fn library_changes_since(
        &mut self,
        community_id: i64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, i64)>>;
    /// A community's parking tariff as JSON, if set.
    async fn parking_tariff(&mut self, community_id: i64) -> StoreResult<Option<String>>;
    /// Sets a community's parking tariff (JSON).
    async fn set_parking_tariff(&mut self, community_id: i64, tariff_json: &str, at: i64) -> StoreResult<()>;
    /// Opens a parking session; returns its id.
    async fn insert_parking_session(
        &mut self,
        community_id: i64,
        plate: &str,
        device_id: i64,
        at: i64,
    ) -> StoreResult<i64>;
    /// One session.
    async fn parking_session(&mut self, id: i64) -> StoreResult<Option<ParkingSessionRow>>;
    /// Sessions not closed in a community (status `open` or `fee_due`).
    async fn unclosed_parking_sessions(&mut self, community_id: i64) -> StoreResult<Vec<ParkingSessionRow>>;
    /// Records an exit attempt or exit: the fee and the new status.
    async fn update_parking_session(
        &mut self,
        id: i64,
        exit_device_id: Option<i64>,
        exited_at: Option<i64>,
        fee_cents: Option<i64>,
        status: &str,
    ) -> StoreResult<()>;
    /// Records a payment and adds it to the session's paid amount.
    async fn insert_parking_payment(
        &mut self,
        session_id: i64,
        amount_cents: i64,
        method: &str,
        recorded_by: &str,
        at: i64,
    ) -> StoreResult<i64>;
    /// A session's payments.
    async fn parking_payments(&mut self, session_id: i64) -> StoreResult<Vec<ParkingPaymentRow>>;
    /// Marks a payment refunded and takes it off the session's paid amount.
    async fn refund_parking_payment(&mut self, payment_id: i64, at: i64) -> StoreResult<()>;
    /// Lists sessions newest first (filters: `community_ids`, `community_id`, `kind` = status,
    /// `plate_number` = plate as read).
    async fn list_parking_sessions(
        &mut self,
        filter: &Filter,
        page: Page,
    ) -> StoreResult<Paged<ParkingSessionRow>>;
    /// Stores a ringing booth call.
    async fn insert_booth_call(&mut self, new: &NewBoothCall) -> StoreResult<i64>;
    /// One booth call.
    async fn booth_call(&mut self, id: i64) -> StoreResult<Option<BoothCallRow>>;
    /// Moves a call from `from` to `to` (e.g. ringing → accepted); false when it was not in
    /// `from` any more (answered by someone else, timed out).
    async fn set_booth_call_status(
        &mut self,
        id: i64,
        from: &str,
        to: &str,
        at: i64,
        by: Option<&str>,
        note: Option<&str>,
    ) -> StoreResult<bool>;
    /// Ringing calls that started before `before` (ms).
    async fn ringing_booth_calls_before(&mut self, before: i64) -> StoreResult<Vec<BoothCallRow>>;
    /// Lists calls newest first (filters: `community_ids`, `community_id`, `kind` = status).
    async fn list_booth_calls(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<BoothCallRow>>;
    /// Queues a command for a device; returns its id.
    async fn queue_command(&mut self, device_id: i64, command: &str, at: i64) -> StoreResult<i64>;
    /// Undelivered commands, oldest first (all devices when `device_id` is `None`).
    async fn pending_commands(
        &mut self,
        device_id: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<DeviceCommandRow>>;
    /// Marks a command delivered.
    async fn mark_command_delivered(&mut self, id: i64, at: i64) -> StoreResult<()>;
    /// Stores a visitor pass.
    async fn insert_visitor_pass(&mut self, new: &NewVisitorPass) -> StoreResult<i64>;
    /// Finds a pass by its token's blind index.
    async fn visitor_pass_by_token(&mut self, token_index: &str) -> StoreResult<Option<VisitorPassRow>>;
    /// Lists passes newest first (filters: `community_ids`, `house_ids`, `community_id`, `house_id`).
    async fn list_visitor_passes(
        &mut self,
        filter: &Filter,
        page: Page,
    ) -> StoreResult<Paged<VisitorPassRow>>;

    // --- users and sessions ---
    /// Inserts a user with their scope entries.
    async fn insert_user(&mut self, new: &NewUser) -> StoreResult<i64>;
    /// Finds a user by name.
    async fn user_by_name(&mut self, username: &str) -> StoreResult<Option<UserRow>>;
    /// One user.
    async fn user(&mut self, id: i64) -> StoreResult<Option<UserRow>>;
    /// Lists users.
    async fn list_users(&mut self, page: Page) -> StoreResult<Paged<UserRow>>;
    /// A user's scope entries as (kind, target).
    async fn user_scopes(&mut self, user_id: i64) -> StoreResult<Vec<(String, String)>>;
    /// Replaces a user's password hash and clears their lockout.
    async fn set_password_hash(&mut self, user_id: i64, password_hash: &str) -> StoreResult<()>;
    /// Records login failures and the lockout deadline.
    async fn set_login_state(
        &mut self,
        user_id: i64,
        failed: i64,
        locked_until: Option<i64>,
    ) -> StoreResult<()>;
    /// Stores a session by the hash of its token.
    async fn insert_session(&mut self, session: &SessionRow) -> StoreResult<()>;
    /// Finds a session by token hash.
    async fn session(&mut self, token_hash: &str) -> StoreResult<Option<SessionRow>>;
    /// Ends a session.
    async fn delete_session(&mut self, token_hash: &str) -> StoreResult<()>;

    // --- audit ---
    /// Appends an entry to the hash chain: takes the head, computes the entry's hash with
    /// `hash_fn(prev_hash, seq, entry)`, stores it and moves the head, atomically.
    async fn append_audit(&mut self, entry: &NewAudit, hash_fn: AuditHashFn) -> StoreResult<AuditRow>;
    /// Audit entries with `seq > after`, in order, at most `limit`.
    async fn audit_after(&mut self, after: i64, limit: i64) -> StoreResult<Vec<AuditRow>>;
    /// Lists audit entries newest first.
    async fn list_audit(&mut self, page: Page) -> StoreResult<Paged<AuditRow>>;

    // --- the district programme ---
    /// Adds a community's build project.
    async fn insert_build_project(&mut self, new: &BuildProjectRow) -> StoreResult<i64>;
    /// One project.
    async fn build_project(&mut self, id: i64) -> StoreResult<Option<BuildProjectRow>>;
    /// Projects of these communities (all when `None`), by id.
    async fn build_projects(&mut self, community_ids: Option<&[i64]>) -> StoreResult<Vec<BuildProjectRow>>;
    /// Moves a project to a stage (and its contractor, when given).
    async fn set_project_stage(
        &mut self,
        id: i64,
        stage: &str,
        at: i64,
        contractor: Option<&str>,
    ) -> StoreResult<()>;
    /// Appends a step to a project's stage history.
    async fn insert_project_stage(&mut self, new: &ProjectStageRow) -> StoreResult<i64>;
    /// Stage history of these projects (all when `None`), oldest first.
    async fn project_stages(&mut self, project_ids: Option<&[i64]>) -> StoreResult<Vec<ProjectStageRow>>;
    /// A district's programme setting (`targets`, `award_formula`, `assessment_weights`,
    /// `acceptance_rules`) as JSON.
    async fn programme_setting(&mut self, district_code: &str, name: &str) -> StoreResult<Option<String>>;
    /// Sets a programme setting.
    async fn set_programme_setting(
        &mut self,
        district_code: &str,
        name: &str,
        body: &str,
        at: i64,
        actor: &str,
    ) -> StoreResult<()>;
    /// Adds a funding line.
    async fn insert_funding_entry(&mut self, new: &FundingEntryRow) -> StoreResult<i64>;
    /// Funding lines of these projects (all when `None`), oldest first.
    async fn funding_entries(&mut self, project_ids: Option<&[i64]>) -> StoreResult<Vec<FundingEntryRow>>;
    /// Stores a project's award; false when it has one already.
    async fn insert_award(&mut self, new: &AwardRow) -> StoreResult<bool>;
    /// Saves an award's status fields.
    async fn update_award(&mut self, row: &AwardRow) -> StoreResult<()>;
    /// Awards of these projects (all when `None`).
    async fn awards(&mut self, project_ids: Option<&[i64]>) -> StoreResult<Vec<AwardRow>>;
    /// Opens an acceptance.
    async fn insert_acceptance(&mut self, new: &AcceptanceRow) -> StoreResult<i64>;
    /// One acceptance.
    async fn acceptance(&mut self, id: i64) -> StoreResult<Option<AcceptanceRow>>;
    /// A project's acceptances, newest first.
    async fn acceptances(&mut self, project_id: i64) -> StoreResult<Vec<AcceptanceRow>>;
    /// Saves an acceptance's status, checklist, items and decision.
    async fn update_acceptance(&mut self, row: &AcceptanceRow) -> StoreResult<()>;
    /// Records a party's sign-off (one per party; a second is a conflict).
    async fn insert_signoff(&mut self, new: &SignoffRow) -> StoreResult<()>;
    /// An acceptance's sign-offs.
    async fn signoffs(&mut self, acceptance_id: i64) -> StoreResult<Vec<SignoffRow>>;
    /// Adds or changes a contractor.
    async fn upsert_contractor(&mut self, row: &ContractorRow) -> StoreResult<()>;
    /// Every contractor, by name.
    async fn contractors(&mut self) -> StoreResult<Vec<ContractorRow>>;
    /// Opens a ticket; `None` when the device has an open one.
    async fn insert_ticket(&mut self, new: &TicketRow) -> StoreResult<Option<i64>>;
    /// A device's open ticket.
    async fn open_ticket(&mut self, device_id: i64) -> StoreResult<Option<TicketRow>>;
    /// One ticket.
    async fn ticket(&mut self, id: i64) -> StoreResult<Option<TicketRow>>;
    /// Closes a ticket.
    async fn resolve_ticket(&mut self, id: i64, at: i64, by: &str, note: &str) -> StoreResult<()>;
    /// Tickets of these communities (all when `None`) open at some time in `[since, until)`
    /// (opened before `until` and not resolved before `since`), newest first.
    async fn tickets(
        &mut self,
        community_ids: Option<&[i64]>,
        since: i64,
        until: i64,
    ) -> StoreResult<Vec<TicketRow>>;
    /// Business data (access records, captures, plate reads, patrol scans, booth calls) per
    /// device and CST day in `[since, until)`.
    async fn device_days(&mut self, since: i64, until: i64) -> StoreResult<Vec<DeviceDayRow>>;
    /// Devices whose queued data one of `targets` acknowledged in `[since, until)`, with the
    /// last acknowledgement.
    async fn acknowledged_devices(
        &mut self,
        targets: &[String],
        since: i64,
        until: i64,
    ) -> StoreResult<Vec<(i64, i64)>>;

    // --- import reports ---
    /// Stores a generated import error report and returns its id.
    async fn insert_report(&mut self, report: &NewReport) -> StoreResult<i64>;
    /// One report.
    async fn report(&mut self, id: i64) -> StoreResult<Option<ReportRow>>;
}
