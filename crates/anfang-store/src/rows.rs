//! Row types exchanged between the application and storage. Enumerations travel as their
//! stable snake_case names (validated by the application before they get here); times are
//! milliseconds since the epoch; dates are `YYYY-MM-DD` strings.

/// A page request: skip `offset` rows, return at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return at most.
    pub limit: i64,
}

impl Page {
    /// Everything (used by exports and internal walks).
    pub const ALL: Page = Page {
        offset: 0,
        limit: i64::MAX / 2,
    };

    /// The first `limit` rows.
    pub fn first(limit: i64) -> Page {
        Page { offset: 0, limit }
    }
}

/// One page of results and the total number of matching rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// All matching rows, across pages.
    pub total: i64,
}

/// Filters for list operations. `None` means "no restriction". Each list operation documents
/// which fields it honours; `community_ids`/`house_ids` carry the caller's scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Restrict to these communities (the caller's scope); `Some(vec![])` matches nothing.
    pub community_ids: Option<Vec<i64>>,
    /// Restrict to these houses (a resident's scope).
    pub house_ids: Option<Vec<i64>>,
    /// Restrict to these streets.
    pub street_ids: Option<Vec<i64>>,
    /// One street.
    pub street_id: Option<i64>,
    /// One community.
    pub community_id: Option<i64>,
    /// One building.
    pub building_id: Option<i64>,
    /// One unit.
    pub unit_id: Option<i64>,
    /// One house.
    pub house_id: Option<i64>,
    /// A kind (device kind, place kind) or category (community category).
    pub kind: Option<String>,
    /// A substring of the name.
    pub q: Option<String>,
    /// The blind index of an ID number.
    pub id_number_index: Option<String>,
    /// A normalized plate.
    pub plate_number: Option<String>,
    /// Only devices not yet assigned to a community.
    pub unassigned: bool,
    /// One device.
    pub device_id: Option<i64>,
    /// One person.
    pub person_id: Option<i64>,
}

/// A new street (街道/镇).
#[derive(Debug, Clone, PartialEq)]
pub struct NewStreet {
    /// The district's 6-digit administrative code, e.g. `370323`.
    pub district_code: String,
    /// The street's code, unique, e.g. `370323001`.
    pub code: String,
    /// Its name.
    pub name: String,
}

/// A stored street.
#[derive(Debug, Clone, PartialEq)]
pub struct StreetRow {
    /// Id.
    pub id: i64,
    /// District code.
    pub district_code: String,
    /// Street code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A new residents' or village committee.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCommittee {
    /// Its street.
    pub street_id: i64,
    /// Code, unique.
    pub code: String,
    /// Name.
    pub name: String,
    /// `residents` or `village`.
    pub kind: String,
}

/// A stored committee.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitteeRow {
    /// Id.
    pub id: i64,
    /// Its street.
    pub street_id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// `residents` or `village`.
    pub kind: String,
}

/// A new community (小区/村居).
#[derive(Debug, Clone, PartialEq)]
pub struct NewCommunity {
    /// Its committee.
    pub committee_id: i64,
    /// Its street (denormalized from the committee for scope filtering).
    pub street_id: i64,
    /// Code, unique.
    pub code: String,
    /// Name.
    pub name: String,
    /// Category name (`new_built`, …).
    pub category: String,
    /// Property type name (`commercial`, …).
    pub property_type: String,
    /// Standard address of the community.
    pub address: String,
    /// Site plan width in metres.
    pub site_width: f64,
    /// Site plan height in metres.
    pub site_height: f64,
    /// The police area (警务区) serving it, free text code.
    pub police_area: Option<String>,
}

/// A stored community with counts of what hangs off it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommunityRow {
    /// Id.
    pub id: i64,
    /// Committee.
    pub committee_id: i64,
    /// Street.
    pub street_id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Category name.
    pub category: String,
    /// Property type name.
    pub property_type: String,
    /// Address.
    pub address: String,
    /// Site plan width (m).
    pub site_width: f64,
    /// Site plan height (m).
    pub site_height: f64,
    /// Police area.
    pub police_area: Option<String>,
    /// Buildings in it.
    pub building_count: i64,
    /// Houses in it.
    pub house_count: i64,
    /// Persons registered to it.
    pub resident_count: i64,
    /// Devices assigned to it.
    pub device_count: i64,
}

/// A new building.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBuilding {
    /// Community.
    pub community_id: i64,
    /// Number, unique in the community (e.g. `3`).
    pub number: String,
    /// Display name (e.g. `3号楼`).
    pub name: String,
    /// Floors above ground.
    pub floors: i64,
    /// Site plan x (m).
    pub x: f64,
    /// Site plan y (m).
    pub y: f64,
}

/// A stored building.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Number.
    pub number: String,
    /// Name.
    pub name: String,
    /// Floors.
    pub floors: i64,
    /// x.
    pub x: f64,
    /// y.
    pub y: f64,
}

/// A new unit (单元).
#[derive(Debug, Clone, PartialEq)]
pub struct NewUnit {
    /// Building.
    pub building_id: i64,
    /// Number, unique in the building.
    pub number: String,
}

/// A stored unit.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRow {
    /// Id.
    pub id: i64,
    /// Building.
    pub building_id: i64,
    /// The building's community.
    pub community_id: i64,
    /// Number.
    pub number: String,
}

/// A new house (实有房屋).
#[derive(Debug, Clone, PartialEq)]
pub struct NewHouse {
    /// Unit.
    pub unit_id: i64,
    /// Number, unique in the unit (e.g. `301`).
    pub number: String,
    /// Floor.
    pub floor: i64,
    /// Area in square metres.
    pub area_m2: f64,
    /// Use name (`owner_occupied`, …).
    pub use_kind: String,
    /// The one standard address (一标) of the house.
    pub address: String,
}

/// A stored house.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Building.
    pub building_id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Number.
    pub number: String,
    /// Floor.
    pub floor: i64,
    /// Area (m²).
    pub area_m2: f64,
    /// Use name.
    pub use_kind: String,
    /// Standard address.
    pub address: String,
}

/// A new place on a community's site plan.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlace {
    /// Community.
    pub community_id: i64,
    /// Kind name (`pedestrian_entrance`, …).
    pub kind: String,
    /// Name.
    pub name: String,
    /// x (m).
    pub x: f64,
    /// y (m).
    pub y: f64,
    /// Whether a guard is on duty there (unattended entrances get a smart booth).
    pub attended: bool,
    /// For unit doors: the unit served.
    pub unit_id: Option<i64>,
}

/// A stored place.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Kind name.
    pub kind: String,
    /// Name.
    pub name: String,
    /// x.
    pub x: f64,
    /// y.
    pub y: f64,
    /// Attended.
    pub attended: bool,
    /// Unit served (unit doors).
    pub unit_id: Option<i64>,
}

/// A new grid (网格), an overlay on a community.
#[derive(Debug, Clone, PartialEq)]
pub struct NewGrid {
    /// Community.
    pub community_id: i64,
    /// Code, unique.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A stored grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GridRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A stored real organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganisationRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// The house it occupies.
    pub house_id: Option<i64>,
    /// Name.
    pub name: String,
    /// Unified social credit code.
    pub credit_code: Option<String>,
    /// Kind.
    pub kind: String,
}

/// A new real organisation (实有单位: a shop or business in the community).
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrganisation {
    /// Community.
    pub community_id: i64,
    /// The house it occupies, if any.
    pub house_id: Option<i64>,
    /// Name.
    pub name: String,
    /// Unified social credit code (统一社会信用代码), if known.
    pub credit_code: Option<String>,
    /// Free-text kind (shop, clinic, …).
    pub kind: String,
}

/// A new or replacement person. Personal numbers arrive encrypted, with their blind index.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPerson {
    /// The community they are registered to.
    pub community_id: i64,
    /// Name.
    pub name: String,
    /// `male`, `female` or `unknown`.
    pub gender: String,
    /// ID document type name.
    pub id_type: String,
    /// AES-GCM ciphertext of the ID number.
    pub id_number_enc: Vec<u8>,
    /// Keyed blind index of the ID number, for exact lookup; unique.
    pub id_number_index: String,
    /// AES-GCM ciphertext of the phone number.
    pub phone_enc: Option<Vec<u8>>,
    /// Keyed blind index of the phone number.
    pub phone_index: Option<String>,
    /// `registered` or `floating`.
    pub population_type: String,
    /// Tags, as a JSON array of strings.
    pub tags_json: String,
    /// Now, in ms (created/updated time).
    pub now_ms: i64,
}

/// A stored person.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Name.
    pub name: String,
    /// Gender name.
    pub gender: String,
    /// ID type name.
    pub id_type: String,
    /// Encrypted ID number.
    pub id_number_enc: Vec<u8>,
    /// Blind index of the ID number.
    pub id_number_index: String,
    /// Encrypted phone.
    pub phone_enc: Option<Vec<u8>>,
    /// Population type name.
    pub population_type: String,
    /// Tags JSON.
    pub tags_json: String,
    /// Created (ms).
    pub created_at: i64,
    /// Updated (ms).
    pub updated_at: i64,
}

/// A person's relation to a house.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonHouseRow {
    /// Person.
    pub person_id: i64,
    /// House.
    pub house_id: i64,
    /// Role name (`owner`, `family`, `tenant`, `staff`).
    pub role: String,
    /// Lease start date for tenants.
    pub lease_start: Option<String>,
    /// Lease end date for tenants.
    pub lease_end: Option<String>,
    /// Duty schedule for staff (`1-5 07:00-19:00`); `None`: any time.
    pub schedule: Option<String>,
    /// The house's standard address (filled on reads; ignored on writes).
    pub address: String,
}

/// A new or replacement vehicle.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVehicle {
    /// Community.
    pub community_id: i64,
    /// Normalized, validated plate.
    pub plate_number: String,
    /// Plate colour name.
    pub plate_color: String,
    /// Owner, if registered.
    pub owner_person_id: Option<i64>,
    /// Parking space label.
    pub parking_space: Option<String>,
}

/// A stored vehicle.
#[derive(Debug, Clone, PartialEq)]
pub struct VehicleRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Plate.
    pub plate_number: String,
    /// Plate colour name.
    pub plate_color: String,
    /// Owner.
    pub owner_person_id: Option<i64>,
    /// Owner's name (filled on reads).
    pub owner_name: Option<String>,
    /// Parking space.
    pub parking_space: Option<String>,
}

/// A new device.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDevice {
    /// 20-digit GB/T 28181 code, unique.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind name.
    pub kind: String,
    /// Protocol name.
    pub protocol: String,
    /// Community, or none while waiting to be assigned.
    pub community_id: Option<i64>,
    /// Place served.
    pub place_id: Option<i64>,
    /// Site plan x.
    pub x: Option<f64>,
    /// Site plan y.
    pub y: Option<f64>,
    /// Install date.
    pub install_date: Option<String>,
    /// Contractor (承建单位).
    pub contractor: Option<String>,
    /// AES-GCM ciphertext of the device secret.
    pub secret_enc: Vec<u8>,
    /// Now (ms).
    pub now_ms: i64,
}

/// A stored device.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRow {
    /// Id.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind name.
    pub kind: String,
    /// Protocol name.
    pub protocol: String,
    /// Community.
    pub community_id: Option<i64>,
    /// Place.
    pub place_id: Option<i64>,
    /// x.
    pub x: Option<f64>,
    /// y.
    pub y: Option<f64>,
    /// Install date.
    pub install_date: Option<String>,
    /// Contractor.
    pub contractor: Option<String>,
    /// Encrypted secret.
    pub secret_enc: Vec<u8>,
    /// Created (ms).
    pub created_at: i64,
    /// Last message from the device (ms).
    pub last_seen_at: Option<i64>,
    /// Firmware it reported.
    pub firmware: Option<String>,
    /// Face/card library version it applied.
    pub library_version: Option<i64>,
    /// The credential kinds it offers (`face,card`), when known.
    pub accepts: Option<String>,
}

/// A new user.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    /// Login name, unique.
    pub username: String,
    /// PHC-format argon2id hash.
    pub password_hash: String,
    /// Role name.
    pub role: String,
    /// Display name.
    pub display_name: String,
    /// Scope entries as (kind, target).
    pub scopes: Vec<(String, String)>,
    /// Now (ms).
    pub now_ms: i64,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Password hash.
    pub password_hash: String,
    /// Role name.
    pub role: String,
    /// Display name.
    pub display_name: String,
    /// Consecutive failed logins.
    pub failed_logins: i64,
    /// Locked until (ms), if locked.
    pub locked_until: Option<i64>,
    /// Created (ms).
    pub created_at: i64,
}

/// A login session, stored by the SHA-256 of its bearer token (never the token itself).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// User.
    pub user_id: i64,
    /// Created (ms).
    pub created_at: i64,
    /// Expires (ms).
    pub expires_at: i64,
}

/// A new audit entry (the store assigns `seq` and the hashes).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAudit {
    /// When (ms).
    pub at: i64,
    /// Who: `user:NAME`, `device:CODE`, `cli`, `system`.
    pub actor: String,
    /// What, e.g. `person.create`, `person.reveal`, `auth.login_failed`.
    pub action: String,
    /// On what, e.g. `person:42`.
    pub target: String,
    /// Details as JSON text.
    pub detail: String,
}

/// Computes an audit entry's hash from the previous hash, its sequence number and content.
pub type AuditHashFn = fn(prev_hash: &str, seq: i64, entry: &NewAudit) -> String;

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// When (ms).
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// Details JSON.
    pub detail: String,
    /// Hash of the previous entry (64 zeros for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl AuditRow {
    /// The entry's content, as it was hashed.
    pub fn content(&self) -> NewAudit {
        NewAudit {
            at: self.at,
            actor: self.actor.clone(),
            action: self.action.clone(),
            target: self.target.clone(),
            detail: self.detail.clone(),
        }
    }
}

/// A generated import error report.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    /// The user who imported.
    pub user_id: i64,
    /// `houses`, `persons` or `vehicles`.
    pub kind: String,
    /// The .xlsx bytes.
    pub content: Vec<u8>,
    /// Now (ms).
    pub now_ms: i64,
}

/// A stored import report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    /// Id.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Kind.
    pub kind: String,
    /// The .xlsx bytes.
    pub content: Vec<u8>,
    /// Created (ms).
    pub created_at: i64,
}

/// A new consent record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConsent {
    /// Whose data.
    pub person_id: i64,
    /// What for, e.g. `face_access`.
    pub purpose: String,
    /// `self` or `guardian`.
    pub given_by: String,
    /// The guardian's name (minors under 14).
    pub guardian_name: Option<String>,
    /// Who recorded it (audit actor).
    pub recorded_by: String,
    /// When (ms).
    pub given_at: i64,
}

/// A stored consent.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentRow {
    /// Id.
    pub id: i64,
    /// Person.
    pub person_id: i64,
    /// Purpose.
    pub purpose: String,
    /// `self` or `guardian`.
    pub given_by: String,
    /// Guardian's name.
    pub guardian_name: Option<String>,
    /// Recorded by.
    pub recorded_by: String,
    /// Given (ms).
    pub given_at: i64,
    /// Revoked (ms).
    pub revoked_at: Option<i64>,
}

/// A new face photo's row (the image is in the image store).
#[derive(Debug, Clone, PartialEq)]
pub struct NewFacePhoto {
    /// Person.
    pub person_id: i64,
    /// Key in the image store.
    pub image_key: String,
    /// Hex SHA-256 of the image as uploaded.
    pub sha256: String,
    /// `jpeg` or `png`.
    pub format: String,
    /// Width in pixels.
    pub width: i64,
    /// Height in pixels.
    pub height: i64,
    /// Size of the image as uploaded.
    pub size_bytes: i64,
    /// Who uploaded it (audit actor).
    pub uploaded_by: String,
    /// When (ms).
    pub uploaded_at: i64,
}

/// A face photo's row.
#[derive(Debug, Clone, PartialEq)]
pub struct FacePhotoRow {
    /// Id.
    pub id: i64,
    /// Person.
    pub person_id: i64,
    /// Key in the image store.
    pub image_key: String,
    /// Hex SHA-256 of the image.
    pub sha256: String,
    /// `jpeg` or `png`.
    pub format: String,
    /// Width in pixels.
    pub width: i64,
    /// Height in pixels.
    pub height: i64,
    /// Size in bytes.
    pub size_bytes: i64,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When (ms).
    pub uploaded_at: i64,
    /// Removed (ms).
    pub removed_at: Option<i64>,
}

/// A new parking pass.
#[derive(Debug, Clone, PartialEq)]
pub struct NewParkingPass {
    /// Community.
    pub community_id: i64,
    /// Normalized plate.
    pub plate_number: String,
    /// Holder's name.
    pub holder_name: String,
    /// Valid from (ms).
    pub valid_from: i64,
    /// Valid until (ms).
    pub valid_until: i64,
    /// What was paid, in cents.
    pub fee_cents: i64,
    /// Who sold it (audit actor).
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
}

/// A parking pass.
#[derive(Debug, Clone, PartialEq)]
pub struct ParkingPassRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Normalized plate.
    pub plate_number: String,
    /// Holder's name.
    pub holder_name: String,
    /// Valid from (ms).
    pub valid_from: i64,
    /// Valid until (ms).
    pub valid_until: i64,
    /// Paid, in cents.
    pub fee_cents: i64,
    /// Who sold it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
    /// Revoked (ms).
    pub revoked_at: Option<i64>,
}

/// A subscription a superior platform placed with us (GA/T 1400 `SubscribeObject`).
#[derive(Debug, Clone, PartialEq)]
pub struct ViidSubscriptionRow {
    /// Id (ignored on upsert).
    pub id: i64,
    /// The target (superior) it came from.
    pub target: String,
    /// `SubscribeID`.
    pub subscribe_id: String,
    /// `SubscribeStatus`: 0 active, 1 cancelled, 2 expired.
    pub status: i64,
    /// From (ms).
    pub begin_at: i64,
    /// Until (ms).
    pub end_at: i64,
    /// The object as received (JSON).
    pub body: String,
    /// Last change (ms).
    pub updated_at: i64,
}

/// An entry of the police watch-list (a disposition, 布控).
#[derive(Debug, Clone, PartialEq)]
pub struct WatchEntryRow {
    /// Id (ignored on upsert).
    pub id: i64,
    /// Where it came from: `viid:<target>`.
    pub source: String,
    /// Its id there (`DispositionID`).
    pub external_id: String,
    /// `person`, `motor_vehicle`, `non_motor_vehicle`, `keyword`.
    pub category: String,
    /// The plate watched for (normalized), for vehicles.
    pub plate: Option<String>,
    /// Title.
    pub title: String,
    /// `active`, `revoked`.
    pub status: String,
    /// From (ms).
    pub begin_at: i64,
    /// Until (ms).
    pub end_at: i64,
    /// The object as received, pictures removed (JSON).
    pub body: String,
    /// Its pictures (JSON array of image keys).
    pub image_keys: String,
    /// Created (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// A hit on a watch-list entry.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchHitRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The entry.
    pub entry_id: i64,
    /// The capture that hit.
    pub capture_record_id: Option<i64>,
    /// Where.
    pub community_id: Option<i64>,
    /// When (ms).
    pub at: i64,
    /// Face hits: the distance to the entry's template.
    pub distance: Option<f64>,
    /// Face hits: how much nearer than the next-best entry.
    pub margin: Option<f64>,
    /// `to_confirm` until a person confirms the match, then `confirmed` or `rejected`.
    pub state: String,
}

/// A new capture record (GA/T 1400 face, person or vehicle).
#[derive(Debug, Clone, PartialEq)]
pub struct NewCaptureRecord {
    /// The camera's community, once assigned.
    pub community_id: Option<i64>,
    /// The camera.
    pub device_id: i64,
    /// `face`, `person`, `motor_vehicle`, `non_motor_vehicle`.
    pub kind: String,
    /// The record id as uploaded (41 or 48 digits by the standard; vendors deviate).
    pub record_id: String,
    /// Hex SHA-256 of the object as uploaded (vendors reuse record ids).
    pub content_hash: String,
    /// When it was captured (ms).
    pub shot_at: i64,
    /// The plate, for vehicles.
    pub plate: Option<String>,
    /// The object's fields without image data (JSON).
    pub attributes: String,
    /// Image-store keys of its pictures (JSON array).
    pub image_keys: String,
    /// When it arrived (ms).
    pub received_at: i64,
}

/// A stored capture record.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureRecordRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: Option<i64>,
    /// Camera.
    pub device_id: i64,
    /// Kind.
    pub kind: String,
    /// Record id.
    pub record_id: String,
    /// Content hash.
    pub content_hash: String,
    /// Captured (ms).
    pub shot_at: i64,
    /// Plate.
    pub plate: Option<String>,
    /// Fields (JSON).
    pub attributes: String,
    /// Image keys (JSON array).
    pub image_keys: String,
    /// Arrived (ms).
    pub received_at: i64,
}

/// Something waiting to be delivered to a superior platform.
#[derive(Debug, Clone, PartialEq)]
pub struct CascadeRow {
    /// Id (delivery order).
    pub id: i64,
    /// The target's name.
    pub target: String,
    /// What it is (`face`, `motor_vehicle`, …).
    pub kind: String,
    /// What to deliver (JSON).
    pub payload: String,
    /// Queued (ms).
    pub created_at: i64,
    /// Failed attempts so far.
    pub attempts: i64,
}

/// A target's queue at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CascadeDepth {
    /// Waiting.
    pub pending: i64,
    /// The last delivery (ms).
    pub last_delivered_at: Option<i64>,
}

/// A new deny-list entry.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDenyEntry {
    /// Community where the person may not pass.
    pub community_id: i64,
    /// Person.
    pub person_id: i64,
    /// Why (shown to operators).
    pub reason: String,
    /// Who added it (audit actor).
    pub added_by: String,
    /// When (ms).
    pub added_at: i64,
}

/// A deny-list entry.
#[derive(Debug, Clone, PartialEq)]
pub struct DenyEntryRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Person.
    pub person_id: i64,
    /// Why.
    pub reason: String,
    /// Who added it.
    pub added_by: String,
    /// Added (ms).
    pub added_at: i64,
    /// Removed (ms).
    pub removed_at: Option<i64>,
    /// Who removed it.
    pub removed_by: Option<String>,
}

/// A new card or PIN credential.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCredential {
    /// Holder.
    pub person_id: i64,
    /// `card` or `pin`.
    pub kind: String,
    /// Keyed blind index of the value.
    pub value_index: String,
    /// AES-GCM ciphertext of the value (terminals match it locally, so it must be sendable).
    pub value_enc: Option<Vec<u8>>,
    /// Valid from (ms).
    pub valid_from: Option<i64>,
    /// Valid until (ms).
    pub valid_until: Option<i64>,
    /// Now (ms).
    pub now_ms: i64,
}

/// A stored credential.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialRow {
    /// Id.
    pub id: i64,
    /// Holder.
    pub person_id: i64,
    /// Kind.
    pub kind: String,
    /// Blind index.
    pub value_index: String,
    /// Encrypted value.
    pub value_enc: Option<Vec<u8>>,
    /// Valid from (ms).
    pub valid_from: Option<i64>,
    /// Valid until (ms).
    pub valid_until: Option<i64>,
    /// Revoked (ms).
    pub revoked_at: Option<i64>,
    /// Created (ms).
    pub created_at: i64,
}

/// One device event as stored for idempotency: the first answer is returned for a repeat.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceEventRow {
    /// Device.
    pub device_id: i64,
    /// The device's event id.
    pub event_id: String,
    /// Message type.
    pub kind: String,
    /// When it happened at the device (ms).
    pub at: i64,
    /// When the platform stored it (ms).
    pub received_at: i64,
    /// The body as JSON text.
    pub body: String,
    /// The answer given, as JSON text.
    pub answer: String,
}

/// A new access record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAccessRecord {
    /// Community of the device.
    pub community_id: i64,
    /// Device.
    pub device_id: i64,
    /// The device's event id.
    pub event_id: String,
    /// Who, when known.
    pub person_id: Option<i64>,
    /// `face`, `card`, `qr`, `pin`.
    pub credential_kind: String,
    /// `open` or `deny`.
    pub outcome: String,
    /// Reason code.
    pub reason: String,
    /// Whether the terminal decided while offline.
    pub decided_locally: bool,
    /// Snapshot image key.
    pub snapshot_key: Option<String>,
    /// When (ms).
    pub at: i64,
}

/// A stored access record.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessRecordRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Device.
    pub device_id: i64,
    /// Event id.
    pub event_id: String,
    /// Person.
    pub person_id: Option<i64>,
    /// The person's name (filled on reads).
    pub person_name: Option<String>,
    /// Credential kind.
    pub credential_kind: String,
    /// Outcome.
    pub outcome: String,
    /// Reason.
    pub reason: String,
    /// Decided by the terminal offline.
    pub decided_locally: bool,
    /// Snapshot key.
    pub snapshot_key: Option<String>,
    /// When (ms).
    pub at: i64,
}

/// A new visitor pass.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVisitorPass {
    /// Community.
    pub community_id: i64,
    /// The house visited.
    pub house_id: i64,
    /// Visitor's name.
    pub name: String,
    /// Encrypted phone.
    pub phone_enc: Option<Vec<u8>>,
    /// Car plate, for the gate.
    pub plate_number: Option<String>,
    /// Window start (ms).
    pub valid_from: i64,
    /// Window end (ms).
    pub valid_until: i64,
    /// Blind index of the pass token.
    pub token_index: String,
    /// Who invited (audit actor).
    pub created_by: String,
    /// Now (ms).
    pub now_ms: i64,
}

/// A stored visitor pass.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitorPassRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// House visited.
    pub house_id: i64,
    /// Visitor's name.
    pub name: String,
    /// Encrypted phone.
    pub phone_enc: Option<Vec<u8>>,
    /// Plate.
    pub plate_number: Option<String>,
    /// Window start (ms).
    pub valid_from: i64,
    /// Window end (ms).
    pub valid_until: i64,
    /// Token index.
    pub token_index: String,
    /// Invited by.
    pub created_by: String,
    /// Created (ms).
    pub created_at: i64,
    /// Revoked (ms).
    pub revoked_at: Option<i64>,
}

/// A stored temporary-parking session.
#[derive(Debug, Clone, PartialEq)]
pub struct ParkingSessionRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// The plate as read at entry.
    pub plate: String,
    /// Entry gate.
    pub entry_device_id: i64,
    /// Entered (ms).
    pub entered_at: i64,
    /// Exit gate.
    pub exit_device_id: Option<i64>,
    /// Left (ms).
    pub exited_at: Option<i64>,
    /// The fee computed at the last exit attempt (cents).
    pub fee_cents: Option<i64>,
    /// Paid so far, net of refunds (cents).
    pub paid_cents: i64,
    /// `open`, `fee_due` or `closed`.
    pub status: String,
}

/// A stored payment.
#[derive(Debug, Clone, PartialEq)]
pub struct ParkingPaymentRow {
    /// Id.
    pub id: i64,
    /// Session.
    pub session_id: i64,
    /// Amount (cents).
    pub amount_cents: i64,
    /// `cash`, `transfer` or `online`.
    pub method: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// Paid (ms).
    pub paid_at: i64,
    /// Refunded (ms).
    pub refunded_at: Option<i64>,
}

/// A new booth call.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBoothCall {
    /// Community.
    pub community_id: i64,
    /// The booth.
    pub device_id: i64,
    /// The booth's event id.
    pub event_id: String,
    /// Visitor's name (from the ID card reader or typed).
    pub visitor_name: String,
    /// Encrypted ID number from the card reader.
    pub id_number_enc: Option<Vec<u8>>,
    /// The house to visit, as the visitor gave it.
    pub house_ref: Option<String>,
    /// The house it names, when it names one of the community's.
    pub house_id: Option<i64>,
    /// Image-store key of the ID card's photo.
    pub card_photo_key: Option<String>,
    /// Image-store key of the booth camera's snapshot.
    pub snapshot_key: Option<String>,
    /// Now (ms).
    pub now_ms: i64,
}

/// A stored booth call.
#[derive(Debug, Clone, PartialEq)]
pub struct BoothCallRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// The booth.
    pub device_id: i64,
    /// The booth's event id.
    pub event_id: String,
    /// Visitor's name.
    pub visitor_name: String,
    /// Encrypted ID number.
    pub id_number_enc: Option<Vec<u8>>,
    /// House to visit.
    pub house_ref: Option<String>,
    /// The house it names, if resolved.
    pub house_id: Option<i64>,
    /// Image-store key of the ID card's photo.
    pub card_photo_key: Option<String>,
    /// Image-store key of the booth camera's snapshot.
    pub snapshot_key: Option<String>,
    /// `ringing`, `accepted`, `denied`, `timed_out`, `abandoned`.
    pub status: String,
    /// Rang (ms).
    pub created_at: i64,
    /// Answered (ms).
    pub answered_at: Option<i64>,
    /// Who answered.
    pub answered_by: Option<String>,
    /// Note (deny message, escalation).
    pub note: Option<String>,
}

/// A command waiting for delivery to a device.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceCommandRow {
    /// Id (also the protocol command id).
    pub id: i64,
    /// Device.
    pub device_id: i64,
    /// The command as JSON text (application form).
    pub command: String,
    /// Queued (ms).
    pub created_at: i64,
    /// Delivered (ms).
    pub delivered_at: Option<i64>,
}

/// The template of an enrolled face photo (the embedding, sealed by the vault).
#[derive(Debug, Clone, PartialEq)]
pub struct FaceTemplateRow {
    /// The photo.
    pub photo_id: i64,
    /// Whose.
    pub person_id: i64,
    /// The person's community.
    pub community_id: i64,
    /// The sealed embedding.
    pub template_enc: Vec<u8>,
    /// The model that computed it.
    pub template_model: String,
}

/// The template of a watch-list entry's picture.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchTemplateRow {
    /// The entry.
    pub entry_id: i64,
    /// The sealed embedding.
    pub template_enc: Vec<u8>,
    /// The model that computed it.
    pub template_model: String,
}

/// A stranger: a stable pseudo-identity for a face that matches no resident.
#[derive(Debug, Clone, PartialEq)]
pub struct StrangerRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// Where they were first seen.
    pub community_id: Option<i64>,
    /// The cluster's centre (sealed embedding).
    pub template_enc: Vec<u8>,
    /// The model.
    pub model: String,
    /// How many captures were theirs.
    pub sightings: i64,
    /// First capture (ms).
    pub first_seen: i64,
    /// Last capture (ms).
    pub last_seen: i64,
    /// When the retention job deletes it (ms).
    pub expires_at: i64,
}

/// What recognition made of one face capture.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureFaceRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The capture.
    pub capture_record_id: i64,
    /// Where.
    pub community_id: Option<i64>,
    /// The camera.
    pub device_id: i64,
    /// When it was shot (ms).
    pub shot_at: i64,
    /// `resident`, `stranger`, `no_face`, `unreadable`.
    pub outcome: String,
    /// The resident matched.
    pub person_id: Option<i64>,
    /// The stranger it was assigned to.
    pub stranger_id: Option<i64>,
    /// Distance to the match.
    pub distance: Option<f64>,
    /// Best vs second-best distance.
    pub margin: Option<f64>,
    /// The capture's embedding (sealed), until it expires.
    pub template_enc: Option<Vec<u8>>,
    /// The model.
    pub model: Option<String>,
    /// When recognised (ms).
    pub recognised_at: i64,
    /// When the retention job drops its embedding (ms).
    pub expires_at: i64,
}

/// What the retention job removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BiometricPurge {
    /// Capture embeddings dropped.
    pub capture_templates: u64,
    /// Strangers deleted.
    pub strangers: u64,
}

/// An alarm (the alarm centre). Kind, severity and state are the domain's snake_case names.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// Where.
    pub community_id: Option<i64>,
    /// The device that raised it (none for rule alarms).
    pub device_id: Option<i64>,
    /// The place (perimeter zone, door, checkpoint) it concerns.
    pub place_id: Option<i64>,
    /// `perimeter_intrusion`, `door_forced`, … (`AlarmKind`).
    pub kind: String,
    /// `critical`, `major`, `minor`.
    pub severity: String,
    /// `new`, `acknowledged`, `dispatched`, `resolved`, `false_alarm`.
    pub state: String,
    /// The zone or channel the device named.
    pub zone: Option<String>,
    /// `device`, `offline`, `patrol`, `rule`.
    pub source: String,
    /// The source's reference (the device event id).
    pub source_ref: Option<String>,
    /// First raised (ms).
    pub raised_at: i64,
    /// Last reported (ms; repeats move it).
    pub last_at: i64,
    /// Repeats merged into it.
    pub repeats: i64,
    /// Escalation level reached (0: the first role of the chain).
    pub level: i64,
    /// When it last escalated (ms).
    pub escalated_at: Option<i64>,
    /// Acknowledged (ms), also when implied by a dispatch or closing.
    pub acknowledged_at: Option<i64>,
    /// By whom.
    pub acknowledged_by: Option<String>,
    /// Who was sent.
    pub dispatched_to: Option<String>,
    /// Resolved or marked false (ms).
    pub closed_at: Option<i64>,
    /// By whom.
    pub closed_by: Option<String>,
    /// The nearest cameras' device ids, nearest first (JSON array).
    pub cameras: String,
    /// The device's snapshot (image store key).
    pub snapshot_key: Option<String>,
}

/// Which alarms a list returns; `None` means no restriction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlarmFilter {
    /// The caller's communities; `Some(vec![])` matches nothing.
    pub community_ids: Option<Vec<i64>>,
    /// One state.
    pub state: Option<String>,
    /// Only alarms not closed.
    pub open: bool,
    /// One kind.
    pub kind: Option<String>,
    /// Raised at or after (ms).
    pub since: Option<i64>,
    /// Raised before (ms).
    pub until: Option<i64>,
}

/// One action on an alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmActionRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The alarm.
    pub alarm_id: i64,
    /// When (ms).
    pub at: i64,
    /// Who (`user:…`, `system`).
    pub actor: String,
    /// `raise`, `repeat`, `escalate`, `acknowledge`, `dispatch`, `resolve`, `mark_false`.
    pub action: String,
    /// What they wrote.
    pub note: Option<String>,
}

/// A patrol route with its schedule and guard.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolRouteRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Name, unique in the community.
    pub name: String,
    /// Checkpoints in order, JSON `[[device id, minutes after the start], …]`.
    pub checkpoints: String,
    /// Round times, canonical `DAYS HH:MM,HH:MM`.
    pub times: String,
    /// The guard who walks it.
    pub guard_user_id: Option<i64>,
    /// How long a round may take, minutes.
    pub window_minutes: i64,
    /// How late a scan may be, minutes.
    pub tolerance_minutes: i64,
    /// Whether rounds are still due.
    pub active: bool,
    /// Created (ms).
    pub created_at: i64,
    /// Who created it.
    pub created_by: String,
}

/// A patrol checkpoint scan as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolScanRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// The checkpoint device, when the reference named one.
    pub checkpoint_id: Option<i64>,
    /// The checkpoint as the reader named it.
    pub checkpoint_ref: String,
    /// The device that read it.
    pub reader_id: i64,
    /// The guard as the reader named them.
    pub guard_ref: String,
    /// The guard, when the reference named a user.
    pub guard_user_id: Option<i64>,
    /// When (ms).
    pub at: i64,
    /// The reader's event id.
    pub event_id: String,
}

/// A judged patrol round.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolRoundRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// Route.
    pub route_id: i64,
    /// Community.
    pub community_id: i64,
    /// The guard assigned when it was due.
    pub guard_user_id: Option<i64>,
    /// Start (ms).
    pub start_at: i64,
    /// End (ms).
    pub end_at: i64,
    /// `complete`, `irregular`, `incomplete`.
    pub status: String,
    /// Checkpoints on time.
    pub on_time: i64,
    /// Late.
    pub late: i64,
    /// Missed.
    pub missed: i64,
    /// Out of order.
    pub out_of_order: i64,
    /// Per checkpoint, JSON.
    pub detail: String,
    /// Judged (ms).
    pub evaluated_at: i64,
}

/// An early warning.
#[derive(Debug, Clone, PartialEq)]
pub struct WarningRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// Where.
    pub community_id: Option<i64>,
    /// `watch_hit`, `frequent_stranger`, `elderly_unseen`, `group_rental`,
    /// `tenant_unregistered`, `vehicle_overstay`, `tailgating`.
    pub kind: String,
    /// `police`, `welfare`, `registry`, `property`.
    pub audience: String,
    /// What it is about (`stranger:7`, `person:12`, `house:3`, `plate:…`, `device:9`).
    pub subject: String,
    /// One line for the console.
    pub title: String,
    /// The rule's measure (weighted sightings, hours unseen, people, days…).
    pub score: Option<f64>,
    /// The events that are its evidence (JSON array).
    pub evidence: String,
    /// `to_confirm`, `open`, `confirmed`, `rejected`, `closed`.
    pub state: String,
    /// Raised (ms).
    pub raised_at: i64,
    /// Last changed (ms).
    pub updated_at: i64,
    /// Who handled it last.
    pub handled_by: Option<String>,
    /// When.
    pub handled_at: Option<i64>,
    /// Their note.
    pub note: Option<String>,
    /// The watch-list hit, for `watch_hit`.
    pub watch_hit_id: Option<i64>,
}

/// Which warnings to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WarningFilter {
    /// Only these communities (`None`: all).
    pub community_ids: Option<Vec<i64>>,
    /// Only these audiences (empty: none at all).
    pub audiences: Vec<String>,
    /// One kind.
    pub kind: Option<String>,
    /// One state.
    pub state: Option<String>,
    /// Only those still to handle.
    pub open: bool,
}

/// A stranger's sighting by a face camera.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrangerSighting {
    /// The stranger.
    pub stranger_id: i64,
    /// Where.
    pub community_id: Option<i64>,
    /// The capture.
    pub capture_record_id: i64,
    /// When (ms).
    pub shot_at: i64,
}

/// A notification channel: a signed webhook, an SMS number or an e-mail address.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyChannelRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// What the owner calls it.
    pub name: String,
    /// `webhook`, `sms`, `email`.
    pub channel: String,
    /// The URL, number or address, sealed.
    pub address_enc: Vec<u8>,
    /// A webhook's signing secret, sealed.
    pub secret_enc: Option<Vec<u8>>,
    /// The event kinds it receives (JSON array: `alarm`, `escalation`, `warning`, `booth`).
    pub kinds: String,
    /// Only alarms at least this severe (`critical`, `major`, `minor`).
    pub min_severity: Option<String>,
    /// The owner's role when it was made: it receives only what that role may see.
    pub role: String,
    /// Its community (`None`: platform-wide, for owners who see all).
    pub community_id: Option<i64>,
    /// Whether it receives events.
    pub active: bool,
    /// Who made it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
}

/// One event queued for one channel (the outbox).
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The channel.
    pub channel_id: i64,
    /// `alarm.raised`, `alarm.escalated`, `warning.raised`, …
    pub event: String,
    /// The same for every attempt (receivers drop repeats by it).
    pub idempotency_key: String,
    /// The body (JSON).
    pub payload: String,
    /// `pending`, `delivered`, `dead`.
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (ms).
    pub next_attempt_at: i64,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Queued (ms).
    pub created_at: i64,
    /// Delivered (ms).
    pub delivered_at: Option<i64>,
}

/// A community's build project (智慧安防建设项目).
#[derive(Debug, Clone, PartialEq)]
pub struct BuildProjectRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The community (one project each).
    pub community_id: i64,
    /// Funding mode name.
    pub funding_mode: String,
    /// The year it is planned to be finished in.
    pub planned_year: i64,
    /// Current stage name.
    pub stage: String,
    /// When the current stage was reached (ms).
    pub stage_at: i64,
    /// The building contractor (承建单位), when chosen.
    pub contractor: Option<String>,
    /// Created (ms).
    pub created_at: i64,
}

/// One step of a project's stage history.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectStageRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// Stage reached.
    pub stage: String,
    /// When (ms).
    pub at: i64,
    /// Who (`user:NAME`, `system`).
    pub actor: String,
    /// Note.
    pub note: String,
}

/// One line of a project's funding ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct FundingEntryRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// Source name.
    pub source: String,
    /// `planned` or `actual`.
    pub kind: String,
    /// Amount (fen; an actual correction may be negative).
    pub amount_fen: i64,
    /// Note (voucher number, what it paid for).
    pub note: String,
    /// When (ms).
    pub at: i64,
    /// Who.
    pub actor: String,
}

/// A project's award (以奖代补), computed once at acceptance.
#[derive(Debug, Clone, PartialEq)]
pub struct AwardRow {
    /// The project.
    pub project_id: i64,
    /// Amount (fen).
    pub amount_fen: i64,
    /// The formula, inputs and lines it was computed with (JSON).
    pub detail: String,
    /// `computed`, `approved`, `paid`.
    pub status: String,
    /// Computed (ms).
    pub computed_at: i64,
    /// Approved (ms) and by whom.
    pub approved_at: Option<i64>,
    /// Approver.
    pub approved_by: Option<String>,
    /// Paid (ms).
    pub paid_at: Option<i64>,
    /// Payer.
    pub paid_by: Option<String>,
    /// Payment voucher.
    pub voucher: Option<String>,
}

/// An acceptance (验收) of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptanceRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// `open`, `accepted`, `rejected`.
    pub status: String,
    /// Requested (ms).
    pub requested_at: i64,
    /// By.
    pub requested_by: String,
    /// The live checks as last evaluated (JSON).
    pub checklist: String,
    /// The manual items (JSON).
    pub items: String,
    /// Decided (ms).
    pub decided_at: Option<i64>,
}

/// A responsible party's sign-off on an acceptance.
#[derive(Debug, Clone, PartialEq)]
pub struct SignoffRow {
    /// The acceptance.
    pub acceptance_id: i64,
    /// `public_security` or `housing_construction`.
    pub party: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// Who.
    pub actor: String,
    /// When (ms).
    pub at: i64,
    /// Note.
    pub note: String,
}

/// A maintenance contractor with its repair SLA.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractorRow {
    /// Name (as on the devices).
    pub name: String,
    /// Hours to repair.
    pub sla_hours: i64,
    /// Contact (phone or duty line), shown to staff.
    pub contact: String,
    /// Updated (ms).
    pub updated_at: i64,
}

/// A maintenance ticket on a device.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    /// Id (ignored on insert).
    pub id: i64,
    /// The device.
    pub device_id: i64,
    /// Its community.
    pub community_id: i64,
    /// The responsible contractor (empty when the device names none).
    pub contractor: String,
    /// `offline`, `silent`, `reported`.
    pub reason: String,
    /// Opened (ms).
    pub opened_at: i64,
    /// Repair due (ms).
    pub due_at: i64,
    /// Repaired (ms).
    pub resolved_at: Option<i64>,
    /// By whom (`system` when the device came back).
    pub resolved_by: Option<String>,
    /// Note.
    pub note: String,
}

/// Business data of one device on one day (CST).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceDayRow {
    /// The device.
    pub device_id: i64,
    /// Days since 1970-01-01 in CST.
    pub day: i64,
    /// Records that day.
    pub records: i64,
}
