//! Wire types: what the API reads and writes as JSON, separate from application and storage
//! types and converted by hand, so that the wire format changes only on purpose.

use anfang_app::registry::PersonView;
use anfang_app::store::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageDto<T> {
    /// The rows.
    pub items: Vec<T>,
    /// All matching rows.
    pub total: i64,
    /// This page (1-based).
    pub page: i64,
    /// Rows per page.
    pub page_size: i64,
}

/// A whole (unpaged) list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemsDto<T> {
    /// The rows.
    pub items: Vec<T>,
}

impl<T> ItemsDto<T> {
    /// Converts each row.
    pub fn of<R>(rows: impl IntoIterator<Item = R>, f: impl FnMut(R) -> T) -> Self {
        ItemsDto {
            items: rows.into_iter().map(f).collect(),
        }
    }
}

/// Paging and filters shared by list operations; each operation honours the ones that apply.
#[derive(Debug, Deserialize, IntoParams, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page number, from 1 (default 1).
    pub page: Option<i64>,
    /// Rows per page, 1–200 (default 20).
    pub page_size: Option<i64>,
    /// Street id.
    pub street_id: Option<i64>,
    /// Community id.
    pub community_id: Option<i64>,
    /// Building id.
    pub building_id: Option<i64>,
    /// Unit id.
    pub unit_id: Option<i64>,
    /// House id.
    pub house_id: Option<i64>,
    /// Community category (communities).
    pub category: Option<String>,
    /// Kind (devices, places).
    pub kind: Option<String>,
    /// Name contains.
    pub q: Option<String>,
    /// Exact ID number (persons).
    pub id_number: Option<String>,
    /// Exact plate (vehicles).
    pub plate_number: Option<String>,
    /// Only devices waiting for assignment.
    pub unassigned: Option<bool>,
}

/// Login request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A user as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: String,
    /// Display name.
    pub display_name: String,
}

impl From<&UserRow> for UserDto {
    fn from(u: &UserRow) -> Self {
        UserDto {
            id: u.id,
            username: u.username.clone(),
            role: u.role.clone(),
            display_name: u.display_name.clone(),
        }
    }
}

/// Login answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer …`.
    pub token: String,
    /// Expiry, RFC 3339.
    pub expires_at: String,
    /// Who logged in.
    pub user: UserDto,
}

/// One scope entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScopeDto {
    /// `district`, `street`, `community` or `house`.
    pub kind: String,
    /// Code or id (empty for the district).
    pub target: String,
}

/// The current user.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeDto {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: String,
    /// Display name.
    pub display_name: String,
    /// Scope entries.
    pub scopes: Vec<ScopeDto>,
}

/// Create a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Login name.
    pub username: String,
    /// Role name.
    pub role: String,
    /// Scope list, e.g. `community:370323001001001`.
    pub scope: String,
    /// Display name.
    pub display_name: Option<String>,
}

/// A created user with the generated password, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUserDto {
    /// The user.
    pub user: UserDto,
    /// The generated password.
    pub password: String,
}

/// A street.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreetDto {
    /// Id.
    pub id: i64,
    /// District code.
    pub district_code: String,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

impl From<StreetRow> for StreetDto {
    fn from(s: StreetRow) -> Self {
        StreetDto {
            id: s.id,
            district_code: s.district_code,
            code: s.code,
            name: s.name,
        }
    }
}

/// Create a street.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStreetRequest {
    /// District code.
    pub district_code: String,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A committee.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitteeDto {
    /// Id.
    pub id: i64,
    /// Street.
    pub street_id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// `residents` or `village`.
    pub kind: String,
}

impl From<CommitteeRow> for CommitteeDto {
    fn from(c: CommitteeRow) -> Self {
        CommitteeDto {
            id: c.id,
            street_id: c.street_id,
            code: c.code,
            name: c.name,
            kind: c.kind,
        }
    }
}

/// Create a committee.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCommitteeRequest {
    /// Street.
    pub street_id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// `residents` or `village`.
    pub kind: String,
}

/// A community.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityDto {
    /// Id.
    pub id: i64,
    /// Street.
    pub street_id: i64,
    /// Committee.
    pub committee_id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Category.
    pub category: String,
    /// Property type.
    pub property_type: String,
    /// Address.
    pub address: String,
    /// Police area.
    pub police_area: Option<String>,
    /// Buildings.
    pub building_count: i64,
    /// Houses.
    pub house_count: i64,
    /// Registered persons.
    pub resident_count: i64,
    /// Devices.
    pub device_count: i64,
    /// Site plan size.
    pub site_plan: SitePlanDto,
    /// Places (only on the single-community read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub places: Option<Vec<PlaceDto>>,
}

/// A site plan's extent in metres.
#[derive(Debug, Serialize, ToSchema)]
pub struct SitePlanDto {
    /// Width (m).
    pub width: f64,
    /// Height (m).
    pub height: f64,
}

impl From<CommunityRow> for CommunityDto {
    fn from(c: CommunityRow) -> Self {
        CommunityDto {
            id: c.id,
            street_id: c.street_id,
            committee_id: c.committee_id,
            code: c.code,
            name: c.name,
            category: c.category,
            property_type: c.property_type,
            address: c.address,
            police_area: c.police_area,
            building_count: c.building_count,
            house_count: c.house_count,
            resident_count: c.resident_count,
            device_count: c.device_count,
            site_plan: SitePlanDto {
                width: c.site_width,
                height: c.site_height,
            },
            places: None,
        }
    }
}

/// Create a community.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCommunityRequest {
    /// Committee.
    pub committee_id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Category: new_built, existing_closed, open_closable, open_video_only, village.
    pub category: String,
    /// Property type: commercial, old, village.
    pub property_type: String,
    /// Address.
    pub address: String,
    /// Site plan width (m).
    pub site_width: f64,
    /// Site plan height (m).
    pub site_height: f64,
    /// Police area.
    pub police_area: Option<String>,
}

/// A building.
#[derive(Debug, Serialize, ToSchema)]
pub struct BuildingDto {
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
    /// x (m).
    pub x: f64,
    /// y (m).
    pub y: f64,
}

impl From<BuildingRow> for BuildingDto {
    fn from(b: BuildingRow) -> Self {
        BuildingDto {
            id: b.id,
            community_id: b.community_id,
            number: b.number,
            name: b.name,
            floors: b.floors,
            x: b.x,
            y: b.y,
        }
    }
}

/// Create a building.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBuildingRequest {
    /// Community.
    pub community_id: i64,
    /// Number.
    pub number: String,
    /// Name.
    pub name: Option<String>,
    /// Floors.
    pub floors: i64,
    /// x (m).
    pub x: f64,
    /// y (m).
    pub y: f64,
}

/// A unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitDto {
    /// Id.
    pub id: i64,
    /// Building.
    pub building_id: i64,
    /// Community.
    pub community_id: i64,
    /// Number.
    pub number: String,
}

impl From<UnitRow> for UnitDto {
    fn from(u: UnitRow) -> Self {
        UnitDto {
            id: u.id,
            building_id: u.building_id,
            community_id: u.community_id,
            number: u.number,
        }
    }
}

/// Create a unit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUnitRequest {
    /// Building.
    pub building_id: i64,
    /// Number.
    pub number: String,
}

/// A house.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseDto {
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
    /// Use: owner_occupied, rented, vacant, commercial.
    #[serde(rename = "use")]
    pub use_kind: String,
    /// Standard address.
    pub address: String,
}

impl From<HouseRow> for HouseDto {
    fn from(h: HouseRow) -> Self {
        HouseDto {
            id: h.id,
            community_id: h.community_id,
            building_id: h.building_id,
            unit_id: h.unit_id,
            number: h.number,
            floor: h.floor,
            area_m2: h.area_m2,
            use_kind: h.use_kind,
            address: h.address,
        }
    }
}

/// Create a house.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHouseRequest {
    /// Unit.
    pub unit_id: i64,
    /// Number.
    pub number: String,
    /// Floor.
    pub floor: i64,
    /// Area (m²).
    pub area_m2: f64,
    /// Use.
    #[serde(rename = "use")]
    pub use_kind: String,
}

/// A place on a site plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// x (m).
    pub x: f64,
    /// y (m).
    pub y: f64,
    /// Guard on duty.
    pub attended: bool,
    /// Unit served.
    pub unit_id: Option<i64>,
}

impl From<PlaceRow> for PlaceDto {
    fn from(p: PlaceRow) -> Self {
        PlaceDto {
            id: p.id,
            community_id: p.community_id,
            kind: p.kind,
            name: p.name,
            x: p.x,
            y: p.y,
            attended: p.attended,
            unit_id: p.unit_id,
        }
    }
}

/// Create a place.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlaceRequest {
    /// Community.
    pub community_id: i64,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// x (m).
    pub x: f64,
    /// y (m).
    pub y: f64,
    /// Guard on duty.
    #[serde(default)]
    pub attended: bool,
    /// Unit served.
    pub unit_id: Option<i64>,
}

/// A grid (网格).
#[derive(Debug, Serialize, ToSchema)]
pub struct GridDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

impl From<GridRow> for GridDto {
    fn from(g: GridRow) -> Self {
        GridDto {
            id: g.id,
            community_id: g.community_id,
            code: g.code,
            name: g.name,
        }
    }
}

/// Create a grid.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGridRequest {
    /// Community.
    pub community_id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A real organisation (实有单位).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// House it occupies.
    pub house_id: Option<i64>,
    /// Name.
    pub name: String,
    /// Unified social credit code.
    pub credit_code: Option<String>,
    /// Kind.
    pub kind: String,
}

impl From<OrganisationRow> for OrganisationDto {
    fn from(o: OrganisationRow) -> Self {
        OrganisationDto {
            id: o.id,
            community_id: o.community_id,
            house_id: o.house_id,
            name: o.name,
            credit_code: o.credit_code,
            kind: o.kind,
        }
    }
}

/// Register a real organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganisationRequest {
    /// Community.
    pub community_id: i64,
    /// House it occupies.
    pub house_id: Option<i64>,
    /// Name.
    pub name: String,
    /// Unified social credit code.
    pub credit_code: Option<String>,
    /// Kind (shop, clinic, …).
    pub kind: String,
}

/// A person's relation to a house.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonHouseDto {
    /// House.
    pub house_id: i64,
    /// Address (read only).
    #[serde(default, skip_deserializing)]
    pub address: String,
    /// Role: owner, family, tenant, staff.
    pub role: String,
    /// Lease start (tenants).
    pub lease_start: Option<String>,
    /// Lease end (tenants).
    pub lease_end: Option<String>,
    /// Duty schedule (staff), e.g. `1-5 07:00-19:00`.
    #[serde(default)]
    pub schedule: Option<String>,
}

/// A person; `id_number` and `phone` are masked unless `revealed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Name.
    pub name: String,
    /// male, female, unknown.
    pub gender: String,
    /// ID document type.
    pub id_type: String,
    /// ID number.
    pub id_number: String,
    /// Phone.
    pub phone: Option<String>,
    /// registered or floating.
    pub population_type: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Houses.
    pub houses: Vec<PersonHouseDto>,
    /// Whether numbers are in clear.
    pub revealed: bool,
}

impl From<PersonView> for PersonDto {
    fn from(p: PersonView) -> Self {
        PersonDto {
            id: p.id,
            community_id: p.community_id,
            name: p.name,
            gender: p.gender,
            id_type: p.id_type,
            id_number: p.id_number,
            phone: p.phone,
            population_type: p.population_type,
            tags: p.tags,
            houses: p
                .houses
                .into_iter()
                .map(|h| PersonHouseDto {
                    house_id: h.house_id,
                    address: h.address,
                    role: h.role,
                    lease_start: h.lease_start,
                    lease_end: h.lease_end,
                    schedule: h.schedule,
                })
                .collect(),
            revealed: p.revealed,
        }
    }
}

/// Register a person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePersonRequest {
    /// Community.
    pub community_id: i64,
    /// Name.
    pub name: String,
    /// male, female, unknown.
    pub gender: String,
    /// resident_id, hmt_residence_permit, foreign_permanent_residence, passport, other.
    pub id_type: String,
    /// ID number.
    pub id_number: String,
    /// Phone.
    pub phone: Option<String>,
    /// registered or floating.
    pub population_type: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// A first house.
    pub house_id: Option<i64>,
    /// Role at that house.
    pub role: Option<String>,
    /// Lease start.
    pub lease_start: Option<String>,
    /// Lease end.
    pub lease_end: Option<String>,
    /// Duty schedule (staff), e.g. `1-5 07:00-19:00`.
    pub schedule: Option<String>,
}

/// Set a person's relation to a house.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPersonHouseRequest {
    /// House.
    pub house_id: i64,
    /// Role.
    pub role: String,
    /// Lease start.
    pub lease_start: Option<String>,
    /// Lease end.
    pub lease_end: Option<String>,
    /// Duty schedule (staff): weekdays 1–7 and hours, e.g. `1-5 07:00-19:00;6,7 09:00-17:00`;
    /// an end before the start runs overnight. None: any time.
    pub schedule: Option<String>,
}

/// Reveal flag.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RevealParams {
    /// Show personal numbers in clear (roles that may; audited).
    pub reveal: Option<bool>,
}

/// A vehicle.
#[derive(Debug, Serialize, ToSchema)]
pub struct VehicleDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Plate.
    pub plate_number: String,
    /// Plate colour.
    pub plate_color: String,
    /// Owner.
    pub owner_person_id: Option<i64>,
    /// Owner's name.
    pub owner_name: Option<String>,
    /// Parking space.
    pub parking_space: Option<String>,
}

impl From<VehicleRow> for VehicleDto {
    fn from(v: VehicleRow) -> Self {
        VehicleDto {
            id: v.id,
            community_id: v.community_id,
            plate_number: v.plate_number,
            plate_color: v.plate_color,
            owner_person_id: v.owner_person_id,
            owner_name: v.owner_name,
            parking_space: v.parking_space,
        }
    }
}

/// Register a vehicle.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVehicleRequest {
    /// Community.
    pub community_id: i64,
    /// Plate.
    pub plate_number: String,
    /// Plate colour.
    pub plate_color: String,
    /// Owner.
    pub owner_person_id: Option<i64>,
    /// Parking space.
    pub parking_space: Option<String>,
}

/// A device (its secret is never shown after creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceDto {
    /// Id.
    pub id: i64,
    /// 20-digit GB/T 28181 code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Protocol.
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
    /// Heard from within the last two minutes (heartbeats come every 20–30 s).
    pub online: bool,
    /// Last message from the device, RFC 3339.
    pub last_seen_at: Option<String>,
    /// Firmware it reported.
    pub firmware: Option<String>,
    /// Library version it applied.
    pub library_version: Option<i64>,
    /// Credential kinds it offers (face, card, qr, pin), when known.
    pub accepts: Option<Vec<String>>,
}

/// How recently a device must have been heard from to count as online.
pub const ONLINE_WINDOW_MS: i64 = anfang_app::programme::ONLINE_WINDOW_MS;

impl DeviceDto {
    /// Sets `online` from when the device was last heard from.
    pub fn at(mut self, last_seen_ms: Option<i64>, now_ms: i64) -> Self {
        self.online = last_seen_ms.is_some_and(|t| now_ms - t <= ONLINE_WINDOW_MS);
        self
    }
}

/// The credential kinds a device offers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptsRequest {
    /// Some of face, card, qr, pin.
    pub accepts: Vec<String>,
}

/// Which access points.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessPointParams {
    /// Community id.
    pub community_id: i64,
    /// Only doors whose devices offer nothing but face recognition.
    #[serde(default)]
    pub face_only: bool,
}

/// A pedestrian door with what its devices offer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessPointDto {
    /// Place id.
    pub place_id: i64,
    /// Place name.
    pub name: String,
    /// unit_door or pedestrian_entrance.
    pub kind: String,
    /// Its devices (codes).
    pub devices: Vec<String>,
    /// Credential kinds offered by the devices that report them.
    pub offers: Vec<String>,
    /// Devices whose offer is not known.
    pub unknown_devices: usize,
    /// Only face recognition is offered: flagged, everyone needs another way in.
    pub face_only: bool,
}

impl From<anfang_app::accesspoints::AccessPoint> for AccessPointDto {
    fn from(p: anfang_app::accesspoints::AccessPoint) -> Self {
        AccessPointDto {
            place_id: p.place.id,
            name: p.place.name,
            kind: p.place.kind,
            devices: p.devices.into_iter().map(|d| d.code).collect(),
            offers: p.offers,
            unknown_devices: p.unknown_devices,
            face_only: p.face_only,
        }
    }
}

impl From<DeviceRow> for DeviceDto {
    fn from(d: DeviceRow) -> Self {
        DeviceDto {
            id: d.id,
            code: d.code,
            name: d.name,
            kind: d.kind,
            protocol: d.protocol,
            community_id: d.community_id,
            place_id: d.place_id,
            x: d.x,
            y: d.y,
            install_date: d.install_date,
            contractor: d.contractor,
            online: false,
            last_seen_at: d.last_seen_at.map(rfc3339),
            firmware: d.firmware,
            library_version: d.library_version,
            accepts: d
                .accepts
                .filter(|a| !a.is_empty())
                .map(|a| a.split(',').map(String::from).collect()),
        }
    }
}

/// Register a device.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDeviceRequest {
    /// 20-digit GB/T 28181 code.
    pub code: String,
    /// Name.
    pub name: Option<String>,
    /// Kind.
    pub kind: String,
    /// Protocol: mqtt, http_push, gat1400, gb28181.
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
}

/// A created device with its secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedDeviceDto {
    /// The device.
    pub device: DeviceDto,
    /// The generated secret for protocol authentication.
    pub secret: String,
}

/// Assign a device.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignDeviceRequest {
    /// Community.
    pub community_id: i64,
    /// Place.
    pub place_id: Option<i64>,
}

/// An audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditDto {
    /// Sequence number.
    pub seq: i64,
    /// When, RFC 3339.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// Details (JSON text).
    pub detail: String,
    /// Chain hash.
    pub hash: String,
}

impl From<AuditRow> for AuditDto {
    fn from(a: AuditRow) -> Self {
        AuditDto {
            seq: a.seq,
            at: rfc3339(a.at),
            actor: a.actor,
            action: a.action,
            target: a.target,
            detail: a.detail,
            hash: a.hash,
        }
    }
}

/// Result of a chain verification.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyDto {
    /// Intact.
    pub ok: bool,
    /// Entries checked.
    pub entries: i64,
    /// Last sequence number.
    pub last_seq: i64,
    /// Checkpointed sequence number.
    pub checkpoint_seq: Option<i64>,
    /// Problems.
    pub problems: Vec<String>,
}

/// One rejected import row.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowErrorDto {
    /// Excel row number.
    pub row: usize,
    /// Field.
    pub field: String,
    /// Code.
    pub code: String,
    /// Message.
    pub message: String,
}

/// Import summary.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportDto {
    /// Data rows read.
    pub total: usize,
    /// Rows created.
    pub created: usize,
    /// Rows that updated an existing record.
    pub updated: usize,
    /// Rows rejected.
    pub failed: usize,
    /// Why.
    pub errors: Vec<RowErrorDto>,
    /// Id of the downloadable error report, when rows failed.
    pub report_id: Option<i64>,
}

/// Community for import/export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommunityParam {
    /// Community id.
    pub community_id: i64,
}

/// Milliseconds since the epoch as RFC 3339 (UTC).
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Record a face-recognition consent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// `self`, or `guardian` for persons under 14.
    pub given_by: String,
    /// The guardian's name.
    pub guardian_name: Option<String>,
}

/// A consent record.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentDto {
    /// Id.
    pub id: i64,
    /// Person.
    pub person_id: i64,
    /// Purpose (`face_access`).
    pub purpose: String,
    /// `self` or `guardian`.
    pub given_by: String,
    /// Guardian's name.
    pub guardian_name: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When, RFC 3339.
    pub given_at: String,
    /// When revoked, RFC 3339.
    pub revoked_at: Option<String>,
}

impl From<ConsentRow> for ConsentDto {
    fn from(c: ConsentRow) -> Self {
        ConsentDto {
            id: c.id,
            person_id: c.person_id,
            purpose: c.purpose,
            given_by: c.given_by,
            guardian_name: c.guardian_name,
            recorded_by: c.recorded_by,
            given_at: rfc3339(c.given_at),
            revoked_at: c.revoked_at.map(rfc3339),
        }
    }
}

/// An enrolled face photo's record.
#[derive(Debug, Serialize, ToSchema)]
pub struct FacePhotoDto {
    /// Id.
    pub id: i64,
    /// Person.
    pub person_id: i64,
    /// Hex SHA-256 of the image: the face credential's value in terminal libraries.
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
    /// When, RFC 3339.
    pub uploaded_at: String,
}

impl From<anfang_app::store::FacePhotoRow> for FacePhotoDto {
    fn from(r: anfang_app::store::FacePhotoRow) -> Self {
        FacePhotoDto {
            id: r.id,
            person_id: r.person_id,
            sha256: r.sha256,
            format: r.format,
            width: r.width,
            height: r.height,
            size_bytes: r.size_bytes,
            uploaded_by: r.uploaded_by,
            uploaded_at: rfc3339(r.uploaded_at),
        }
    }
}

/// Sell a monthly (or longer) parking pass.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SellPassRequest {
    /// Community.
    pub community_id: i64,
    /// The plate, e.g. 鲁C12345.
    pub plate_number: String,
    /// Holder's name.
    pub holder_name: String,
    /// First day, YYYY-MM-DD (local).
    pub valid_from: String,
    /// Last day, YYYY-MM-DD, inclusive.
    pub valid_until: String,
    /// What was paid, in cents.
    pub fee_cents: i64,
}

/// Which passes.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PassParams {
    /// Community id.
    pub community_id: i64,
    /// Only this plate's.
    pub plate: Option<String>,
}

/// A parking pass.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParkingPassDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Plate.
    pub plate_number: String,
    /// Holder's name.
    pub holder_name: String,
    /// Valid from, RFC 3339.
    pub valid_from: String,
    /// Valid until, RFC 3339.
    pub valid_until: String,
    /// Paid, in cents.
    pub fee_cents: i64,
    /// Who sold it.
    pub created_by: String,
    /// When, RFC 3339.
    pub created_at: String,
    /// When revoked, RFC 3339.
    pub revoked_at: Option<String>,
}

impl From<anfang_app::store::ParkingPassRow> for ParkingPassDto {
    fn from(p: anfang_app::store::ParkingPassRow) -> Self {
        ParkingPassDto {
            id: p.id,
            community_id: p.community_id,
            plate_number: p.plate_number,
            holder_name: p.holder_name,
            valid_from: rfc3339(p.valid_from),
            valid_until: rfc3339(p.valid_until),
            fee_cents: p.fee_cents,
            created_by: p.created_by,
            created_at: rfc3339(p.created_at),
            revoked_at: p.revoked_at.map(rfc3339),
        }
    }
}

/// A lane's printed code for cars without plates.
#[derive(Debug, Serialize, ToSchema)]
pub struct LaneCodeDto {
    /// The code; the QR sticker at the lane carries `{console}/p/lane/{code}`.
    pub code: String,
}

/// A no-plate parking ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDto {
    /// The ticket code (`无牌K7Q2M9`).
    pub ticket: String,
    /// Entered, RFC 3339.
    pub entered_at: String,
    /// The fee if the car left now, cents.
    pub fee_cents: i64,
    /// Paid so far, cents.
    pub paid_cents: i64,
    /// Still due now, cents.
    pub due_cents: i64,
    /// open, fee_due or closed.
    pub status: String,
}

impl From<anfang_app::noplate::Ticket> for TicketDto {
    fn from(t: anfang_app::noplate::Ticket) -> Self {
        TicketDto {
            due_cents: (t.fee_cents - t.paid_cents).max(0),
            ticket: t.code,
            entered_at: rfc3339(t.entered_at),
            fee_cents: t.fee_cents,
            paid_cents: t.paid_cents,
            status: t.status,
        }
    }
}

/// The answer at the exit lane.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketExitDto {
    /// The barrier opens.
    pub open: bool,
    /// The ticket after the attempt.
    pub ticket: TicketDto,
}

/// Settings for a device (sent as a `config` command).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfigRequest {
    /// Seconds between heartbeats, at least 1.
    pub heartbeat_secs: u16,
    /// Seconds to wait for an ack before resending an event, at least 1.
    pub resend_secs: Option<u16>,
    /// Whether the terminal may decide from its library while the platform is unreachable.
    pub offline_decisions: Option<bool>,
}

/// A queued command.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedCommandDto {
    /// The command's id (`cmd-{id}` on the wire).
    pub command_id: i64,
}

/// A superior platform's queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct CascadeTargetDto {
    /// The target's name.
    pub name: String,
    /// Items waiting.
    pub pending: i64,
    /// The last delivery, RFC 3339.
    pub last_delivered_at: Option<String>,
}

/// Put a person on the deny list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DenyRequest {
    /// The person.
    pub person_id: i64,
    /// Why, up to 200 characters.
    pub reason: String,
}

/// Which deny list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DenyListParams {
    /// Community id.
    pub community_id: i64,
    /// Include removed entries (the history).
    #[serde(default)]
    pub include_removed: bool,
}

/// A deny-list entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct DenyEntryDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Person.
    pub person_id: i64,
    /// The person's name.
    pub person_name: String,
    /// Why.
    pub reason: String,
    /// Who added it.
    pub added_by: String,
    /// When, RFC 3339.
    pub added_at: String,
    /// When removed, RFC 3339.
    pub removed_at: Option<String>,
    /// Who removed it.
    pub removed_by: Option<String>,
}

impl From<anfang_app::denylist::DenyEntryView> for DenyEntryDto {
    fn from(v: anfang_app::denylist::DenyEntryView) -> Self {
        let e = v.entry;
        DenyEntryDto {
            id: e.id,
            community_id: e.community_id,
            person_id: e.person_id,
            person_name: v.person_name,
            reason: e.reason,
            added_by: e.added_by,
            added_at: rfc3339(e.added_at),
            removed_at: e.removed_at.map(rfc3339),
            removed_by: e.removed_by,
        }
    }
}

/// Issue a card or PIN.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialRequest {
    /// `card` or `pin`.
    pub kind: String,
    /// Card number (hex) or PIN (digits); never shown again.
    pub value: String,
    /// Valid until, RFC 3339.
    pub valid_until: Option<String>,
}

/// A credential (its value is never returned).
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialDto {
    /// Id.
    pub id: i64,
    /// Holder.
    pub person_id: i64,
    /// `card` or `pin`.
    pub kind: String,
    /// Valid until, RFC 3339.
    pub valid_until: Option<String>,
    /// Revoked, RFC 3339.
    pub revoked_at: Option<String>,
    /// Issued, RFC 3339.
    pub created_at: String,
}

impl From<CredentialRow> for CredentialDto {
    fn from(c: CredentialRow) -> Self {
        CredentialDto {
            id: c.id,
            person_id: c.person_id,
            kind: c.kind,
            valid_until: c.valid_until.map(rfc3339),
            revoked_at: c.revoked_at.map(rfc3339),
            created_at: rfc3339(c.created_at),
        }
    }
}

/// A PIN the platform drew (`POST /persons/{id}/pin`): its digits are shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedPinDto {
    /// The credential (the person's previous PIN is revoked).
    pub credential: CredentialDto,
    /// The six digits, never shown again.
    pub pin: String,
}

/// A dynamic QR code.
#[derive(Debug, Serialize, ToSchema)]
pub struct QrDto {
    /// Render this as a QR code.
    pub payload: String,
    /// Expiry, RFC 3339.
    pub expires_at: String,
}

/// An access record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessRecordDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Device.
    pub device_id: i64,
    /// The device's event id.
    pub event_id: String,
    /// Person, when known.
    pub person_id: Option<i64>,
    /// Person's name.
    pub person_name: Option<String>,
    /// face, card, qr, pin.
    pub credential_kind: String,
    /// open or deny.
    pub outcome: String,
    /// Reason code.
    pub reason: String,
    /// Decided by the terminal while offline.
    pub decided_locally: bool,
    /// A snapshot was kept (`GET /api/v1/access-records/{id}/snapshot`).
    pub has_snapshot: bool,
    /// When, RFC 3339.
    pub at: String,
}

impl From<AccessRecordRow> for AccessRecordDto {
    fn from(a: AccessRecordRow) -> Self {
        AccessRecordDto {
            id: a.id,
            community_id: a.community_id,
            device_id: a.device_id,
            event_id: a.event_id,
            person_id: a.person_id,
            person_name: a.person_name,
            credential_kind: a.credential_kind,
            outcome: a.outcome,
            reason: a.reason,
            decided_locally: a.decided_locally,
            has_snapshot: a.snapshot_key.is_some(),
            at: rfc3339(a.at),
        }
    }
}

/// Filters of the access-record list besides the common ones.
#[derive(Debug, Deserialize, IntoParams, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessParams {
    /// Page number, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1–200.
    pub page_size: Option<i64>,
    /// Community id.
    pub community_id: Option<i64>,
    /// Person id.
    pub person_id: Option<i64>,
    /// Device id.
    pub device_id: Option<i64>,
    /// `open` or `deny`.
    pub outcome: Option<String>,
}

/// Filters of the capture-record list.
#[derive(Debug, Deserialize, IntoParams, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaptureParams {
    /// Page number, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1–200.
    pub page_size: Option<i64>,
    /// Community id.
    pub community_id: Option<i64>,
    /// Camera (device id).
    pub device_id: Option<i64>,
    /// face, person, motor_vehicle, non_motor_vehicle.
    pub kind: Option<String>,
    /// Plate number.
    pub plate: Option<String>,
    /// From, RFC 3339 (inclusive).
    pub since: Option<String>,
    /// Until, RFC 3339 (exclusive).
    pub until: Option<String>,
}

/// A capture record.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaptureRecordDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: Option<i64>,
    /// Camera.
    pub device_id: i64,
    /// face, person, motor_vehicle, non_motor_vehicle.
    pub kind: String,
    /// The record id as uploaded.
    pub record_id: String,
    /// Captured, RFC 3339.
    pub shot_at: String,
    /// Plate, for vehicles.
    pub plate: Option<String>,
    /// Pictures kept.
    pub images: usize,
    /// The uploaded fields (image data removed).
    pub attributes: serde_json::Value,
}

impl From<anfang_app::store::CaptureRecordRow> for CaptureRecordDto {
    fn from(r: anfang_app::store::CaptureRecordRow) -> Self {
        CaptureRecordDto {
            id: r.id,
            community_id: r.community_id,
            device_id: r.device_id,
            kind: r.kind,
            record_id: r.record_id,
            shot_at: rfc3339(r.shot_at),
            plate: r.plate,
            images: serde_json::from_str::<Vec<String>>(&r.image_keys)
                .map(|k| k.len())
                .unwrap_or(0),
            attributes: serde_json::from_str(&r.attributes).unwrap_or_default(),
        }
    }
}

/// Invite a visitor.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteVisitorRequest {
    /// The house visited.
    pub house_id: i64,
    /// Visitor's name.
    pub name: String,
    /// Visitor's phone.
    pub phone: Option<String>,
    /// Window start, RFC 3339.
    pub valid_from: String,
    /// Window end, RFC 3339 (at most 7 days after the start).
    pub valid_until: String,
    /// The visitor's car plate.
    pub plate_number: Option<String>,
}

/// A visitor pass.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorPassDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// House visited.
    pub house_id: i64,
    /// Visitor's name.
    pub name: String,
    /// Plate.
    pub plate_number: Option<String>,
    /// Window start, RFC 3339.
    pub valid_from: String,
    /// Window end, RFC 3339.
    pub valid_until: String,
    /// Who invited.
    pub created_by: String,
}

impl From<VisitorPassRow> for VisitorPassDto {
    fn from(v: VisitorPassRow) -> Self {
        VisitorPassDto {
            id: v.id,
            community_id: v.community_id,
            house_id: v.house_id,
            name: v.name,
            plate_number: v.plate_number,
            valid_from: rfc3339(v.valid_from),
            valid_until: rfc3339(v.valid_until),
            created_by: v.created_by,
        }
    }
}

/// A created pass with its QR payload (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedPassDto {
    /// The pass.
    pub pass: VisitorPassDto,
    /// Render as a QR code; valid within the window.
    pub qr_payload: String,
}

/// A temporary-parking session.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParkingSessionDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Plate as read at entry.
    pub plate: String,
    /// Entered, RFC 3339.
    pub entered_at: String,
    /// Left, RFC 3339.
    pub exited_at: Option<String>,
    /// `open`, `fee_due` or `closed`.
    pub status: String,
    /// Fee at the last exit attempt (cents).
    pub fee_cents: Option<i64>,
    /// Paid net of refunds (cents).
    pub paid_cents: i64,
    /// Owed if the car left now (cents).
    pub due_cents: i64,
    /// Owed now, in yuan (e.g. `12.50`).
    pub due_yuan: String,
}

impl From<anfang_app::parking::SessionView> for ParkingSessionDto {
    fn from(v: anfang_app::parking::SessionView) -> Self {
        let s = v.session;
        ParkingSessionDto {
            id: s.id,
            community_id: s.community_id,
            plate: s.plate,
            entered_at: rfc3339(s.entered_at),
            exited_at: s.exited_at.map(rfc3339),
            status: s.status,
            fee_cents: s.fee_cents,
            paid_cents: s.paid_cents,
            due_cents: v.due_cents,
            due_yuan: yuan(v.due_cents),
        }
    }
}

fn yuan(cents: i64) -> String {
    format!("{}.{:02}", cents.max(0) / 100, cents.max(0) % 100)
}

/// Overstay query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OverstayParams {
    /// Community id.
    pub community_id: i64,
    /// Inside longer than this many hours (default 24).
    pub hours: Option<u32>,
}

/// Pay for a session.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    /// `cash`, `transfer` or `online`.
    pub method: String,
    /// Amount in cents; the amount due now when absent.
    pub amount_cents: Option<i64>,
}

/// A community's temporary-parking tariff.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TariffDto {
    /// A stay up to this long is free (a grace period: longer stays are charged in full).
    pub free_minutes: u32,
    /// Local (UTC+8) minute of the day when the day rate starts, e.g. 420 for 07:00.
    pub day_start_minute: u32,
    /// Local minute of the day when the night rate starts, e.g. 1140 for 19:00.
    pub night_start_minute: u32,
    /// Day rate, cents per hour.
    pub day_rate_cents_per_hour: u32,
    /// Night rate, cents per hour.
    pub night_rate_cents_per_hour: u32,
    /// Most charged per local day (cents); 0 for no cap.
    pub daily_cap_cents: u32,
    /// Started units of this many minutes are charged.
    pub billing_unit_minutes: u32,
}

/// A smart-booth call.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoothCallDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// The booth.
    pub device_id: i64,
    /// Visitor's name.
    pub visitor_name: String,
    /// The house to visit, as given.
    pub house_ref: Option<String>,
    /// The house it names, when resolved (its residents may answer).
    pub house_id: Option<i64>,
    /// The booth sent the ID card's photo (`…/photos/card_photo`, duty staff only).
    pub has_card_photo: bool,
    /// The booth sent a live snapshot (`…/photos/snapshot`).
    pub has_snapshot: bool,
    /// `ringing`, `accepted`, `denied`, `timed_out`.
    pub status: String,
    /// Rang, RFC 3339.
    pub created_at: String,
    /// Answered, RFC 3339.
    pub answered_at: Option<String>,
    /// Who answered.
    pub answered_by: Option<String>,
    /// Note.
    pub note: Option<String>,
}

impl From<BoothCallRow> for BoothCallDto {
    fn from(c: BoothCallRow) -> Self {
        BoothCallDto {
            id: c.id,
            community_id: c.community_id,
            device_id: c.device_id,
            visitor_name: c.visitor_name,
            house_ref: c.house_ref,
            house_id: c.house_id,
            has_card_photo: c.card_photo_key.is_some(),
            has_snapshot: c.snapshot_key.is_some(),
            status: c.status,
            created_at: rfc3339(c.created_at),
            answered_at: c.answered_at.map(rfc3339),
            answered_by: c.answered_by,
            note: c.note,
        }
    }
}

/// Refuse a call.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DenyCallRequest {
    /// A note (why), kept with the call.
    pub message: Option<String>,
}

/// Filters of the watch-list.
#[derive(Debug, Deserialize, IntoParams, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WatchParams {
    /// Page number, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1–200.
    pub page_size: Option<i64>,
    /// `active` or `revoked`.
    pub status: Option<String>,
    /// Hits of this entry only.
    pub entry_id: Option<i64>,
}

/// An entry of the police watch-list (a disposition, 布控).
#[derive(Debug, Serialize, ToSchema)]
pub struct WatchEntryDto {
    /// Id.
    pub id: i64,
    /// Where it came from (`viid:<target>`).
    pub source: String,
    /// Its id there (`DispositionID`).
    pub external_id: String,
    /// person, motor_vehicle, non_motor_vehicle, keyword.
    pub category: String,
    /// The plate watched for.
    pub plate: Option<String>,
    /// Title.
    pub title: String,
    /// active or revoked.
    pub status: String,
    /// From, RFC 3339.
    pub begin_at: String,
    /// Until, RFC 3339 (absent: open-ended).
    pub end_at: Option<String>,
    /// Pictures held.
    pub images: usize,
    /// The disposition as received (pictures removed).
    pub disposition: serde_json::Value,
}

impl From<anfang_app::store::WatchEntryRow> for WatchEntryDto {
    fn from(r: anfang_app::store::WatchEntryRow) -> Self {
        WatchEntryDto {
            id: r.id,
            source: r.source,
            external_id: r.external_id,
            category: r.category,
            plate: r.plate,
            title: r.title,
            status: r.status,
            begin_at: rfc3339(r.begin_at),
            end_at: (r.end_at != i64::MAX).then(|| rfc3339(r.end_at)),
            images: serde_json::from_str::<Vec<String>>(&r.image_keys)
                .map(|k| k.len())
                .unwrap_or(0),
            disposition: serde_json::from_str(&r.body).unwrap_or_default(),
        }
    }
}

/// A hit on the police watch-list.
#[derive(Debug, Serialize, ToSchema)]
pub struct WatchHitDto {
    /// Id.
    pub id: i64,
    /// The entry hit.
    pub entry_id: i64,
    /// The capture record that hit it.
    pub capture_record_id: Option<i64>,
    /// Where.
    pub community_id: Option<i64>,
    /// When, RFC 3339.
    pub at: String,
    /// Face hits: distance to the entry's picture.
    pub distance: Option<f64>,
    /// Face hits: margin over the next-best entry.
    pub margin: Option<f64>,
    /// `to_confirm` until a person confirms the match; `confirmed`, `rejected`.
    pub state: String,
}

impl From<anfang_app::store::WatchHitRow> for WatchHitDto {
    fn from(r: anfang_app::store::WatchHitRow) -> Self {
        WatchHitDto {
            id: r.id,
            entry_id: r.entry_id,
            capture_record_id: r.capture_record_id,
            community_id: r.community_id,
            at: rfc3339(r.at),
            distance: r.distance,
            margin: r.margin,
            state: r.state,
        }
    }
}

/// A capture found by a search by image.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaceSearchHitDto {
    /// The capture record.
    pub capture_record_id: i64,
    /// Where.
    pub community_id: Option<i64>,
    /// The camera (device id).
    pub device_id: i64,
    /// When it was shot, RFC 3339.
    pub shot_at: String,
    /// Distance to the uploaded face (smaller is nearer; same person typically below 0.5).
    pub distance: f32,
}

impl From<anfang_app::recognition::SearchHit> for FaceSearchHitDto {
    fn from(h: anfang_app::recognition::SearchHit) -> Self {
        FaceSearchHitDto {
            capture_record_id: h.capture_record_id,
            community_id: h.community_id,
            device_id: h.device_id,
            shot_at: rfc3339(h.shot_at),
            distance: h.distance,
        }
    }
}

/// A stranger: a stable pseudo-identity of an unknown face (police roles only).
#[derive(Debug, Serialize, ToSchema)]
pub struct StrangerDto {
    /// Pseudo-identity.
    pub id: i64,
    /// Where first seen.
    pub community_id: Option<i64>,
    /// Sightings.
    pub sightings: i64,
    /// First sighting, RFC 3339.
    pub first_seen: String,
    /// Last sighting, RFC 3339.
    pub last_seen: String,
}

impl From<anfang_app::recognition::StrangerView> for StrangerDto {
    fn from(s: anfang_app::recognition::StrangerView) -> Self {
        StrangerDto {
            id: s.id,
            community_id: s.community_id,
            sightings: s.sightings,
            first_seen: rfc3339(s.first_seen),
            last_seen: rfc3339(s.last_seen),
        }
    }
}

/// An alarm in the alarm centre.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmDto {
    /// Id.
    pub id: i64,
    /// Where.
    pub community_id: Option<i64>,
    /// The device that raised it.
    pub device_id: Option<i64>,
    /// The place it concerns.
    pub place_id: Option<i64>,
    /// `perimeter_intrusion`, `door_forced`, `door_held_open`, `device_tamper`, `fire_smoke`,
    /// `sos`, `loitering`, `climbing`, `crowding`, `fall`, `device_offline`, `patrol_missed`,
    /// `other`.
    pub kind: String,
    /// `critical`, `major`, `minor`.
    pub severity: String,
    /// `new`, `acknowledged`, `dispatched`, `resolved`, `false_alarm`.
    pub state: String,
    /// The zone, channel or door the device named.
    pub zone: Option<String>,
    /// `device`, `offline`, `patrol`, `rule`.
    pub source: String,
    /// First raised, RFC 3339.
    pub raised_at: String,
    /// Last reported, RFC 3339.
    pub last_at: String,
    /// Repeats merged into it.
    pub repeats: i64,
    /// Escalation level reached (0: the first role of the chain).
    pub level: i64,
    /// Acknowledged, RFC 3339.
    pub acknowledged_at: Option<String>,
    /// By whom.
    pub acknowledged_by: Option<String>,
    /// Who was sent.
    pub dispatched_to: Option<String>,
    /// Closed, RFC 3339.
    pub closed_at: Option<String>,
    /// By whom.
    pub closed_by: Option<String>,
    /// The nearest cameras (device ids), nearest first.
    pub cameras: Vec<i64>,
    /// Whether a snapshot came with it.
    pub has_snapshot: bool,
    /// The acknowledgement deadline under the deployment's SLA, RFC 3339.
    pub ack_due_at: Option<String>,
    /// Acknowledged within the SLA: `true` in time, `false` late or still unacknowledged past
    /// the deadline, `null` while the deadline runs.
    pub within_sla: Option<bool>,
}

impl AlarmDto {
    /// The alarm with its SLA deadline as `App::alarm_deadline` computes it.
    pub fn with_deadline(row: AlarmRow, (due, met): (i64, Option<bool>)) -> Self {
        AlarmDto {
            ack_due_at: Some(rfc3339(due)),
            within_sla: met,
            ..AlarmDto::from(row)
        }
    }
}

impl From<AlarmRow> for AlarmDto {
    fn from(r: AlarmRow) -> Self {
        AlarmDto {
            id: r.id,
            community_id: r.community_id,
            device_id: r.device_id,
            place_id: r.place_id,
            kind: r.kind,
            severity: r.severity,
            state: r.state,
            zone: r.zone,
            source: r.source,
            raised_at: rfc3339(r.raised_at),
            last_at: rfc3339(r.last_at),
            repeats: r.repeats,
            level: r.level,
            acknowledged_at: r.acknowledged_at.map(rfc3339),
            acknowledged_by: r.acknowledged_by,
            dispatched_to: r.dispatched_to,
            closed_at: r.closed_at.map(rfc3339),
            closed_by: r.closed_by,
            cameras: serde_json::from_str(&r.cameras).unwrap_or_default(),
            has_snapshot: r.snapshot_key.is_some(),
            ack_due_at: None,
            within_sla: None,
        }
    }
}

/// One step in an alarm's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmActionDto {
    /// When, RFC 3339.
    pub at: String,
    /// Who (`user:…`, `system`).
    pub actor: String,
    /// `raise`, `repeat`, `escalate`, `acknowledge`, `dispatch`, `resolve`, `mark_false`.
    pub action: String,
    /// The note.
    pub note: Option<String>,
}

impl From<AlarmActionRow> for AlarmActionDto {
    fn from(r: AlarmActionRow) -> Self {
        AlarmActionDto {
            at: rfc3339(r.at),
            actor: r.actor,
            action: r.action,
            note: r.note,
        }
    }
}

/// An alarm with its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmDetailDto {
    /// The alarm.
    pub alarm: AlarmDto,
    /// What was done, oldest first.
    pub actions: Vec<AlarmActionDto>,
}

/// What a person does to an alarm.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmActionRequest {
    /// `acknowledge`, `dispatch`, `resolve`, `mark_false`.
    pub action: String,
    /// A note (at most 500 characters).
    pub note: Option<String>,
    /// For `dispatch`: whom you sent.
    pub dispatched_to: Option<String>,
}

/// Alarm statistics over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmStatsDto {
    /// Alarms raised.
    pub total: usize,
    /// Not yet acknowledged.
    pub open_new: usize,
    /// Acknowledged or dispatched, not closed.
    pub in_hand: usize,
    /// Resolved.
    pub resolved: usize,
    /// False alarms.
    pub false_alarms: usize,
    /// Acknowledged within their SLA.
    pub within_sla: usize,
    /// Acknowledged late or still unacknowledged past their deadline.
    pub breached_sla: usize,
    /// Mean seconds to acknowledge.
    pub mean_ack_secs: Option<f64>,
    /// Count per kind.
    pub by_kind: std::collections::BTreeMap<String, usize>,
}

impl From<anfang_app::alarms::AlarmStats> for AlarmStatsDto {
    fn from(s: anfang_app::alarms::AlarmStats) -> Self {
        AlarmStatsDto {
            total: s.total,
            open_new: s.open_new,
            in_hand: s.in_hand,
            resolved: s.resolved,
            false_alarms: s.false_alarms,
            within_sla: s.within_sla,
            breached_sla: s.breached_sla,
            mean_ack_secs: s.mean_ack_ms.map(|ms| ms as f64 / 1000.0),
            by_kind: s
                .by_kind
                .into_iter()
                .map(|(k, n)| (k.as_str().to_string(), n))
                .collect(),
        }
    }
}

/// One checkpoint of a new patrol route.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteCheckpointRequest {
    /// The checkpoint device (kind `patrol_checkpoint`, in the route's community).
    pub device_id: i64,
    /// Minutes after the round's start it is due.
    pub offset_minutes: u32,
}

/// A new patrol route.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRouteRequest {
    /// Community.
    pub community_id: i64,
    /// Name, unique in the community.
    pub name: String,
    /// Checkpoints in walking order.
    pub checkpoints: Vec<RouteCheckpointRequest>,
    /// Round times, local time: `DAYS HH:MM[,HH:MM…]`, e.g. `1-7 08:00,20:00`.
    pub times: String,
    /// The guard who walks it.
    pub guard_user_id: Option<i64>,
    /// How long a round may take, minutes.
    pub window_minutes: u32,
    /// How late a scan may be before it counts as late, minutes (default 5).
    pub tolerance_minutes: Option<u32>,
}

/// A checkpoint of a route.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointDto {
    /// Device id.
    pub device_id: i64,
    /// Device code.
    pub code: String,
    /// Device name.
    pub name: String,
    /// Minutes after the round's start it is due.
    pub offset_minutes: u32,
}

/// A patrol route.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteDto {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Name.
    pub name: String,
    /// Checkpoints in walking order.
    pub checkpoints: Vec<CheckpointDto>,
    /// Round times, canonical.
    pub times: String,
    /// The assigned guard.
    pub guard_user_id: Option<i64>,
    /// Their name.
    pub guard_name: Option<String>,
    /// Minutes a round may take.
    pub window_minutes: i64,
    /// Minutes a scan may be late.
    pub tolerance_minutes: i64,
    /// Whether rounds are due.
    pub active: bool,
}

impl From<anfang_app::patrol::RouteView> for RouteDto {
    fn from(v: anfang_app::patrol::RouteView) -> Self {
        RouteDto {
            id: v.route.id,
            community_id: v.route.community_id,
            name: v.route.name,
            checkpoints: v
                .checkpoints
                .into_iter()
                .map(|c| CheckpointDto {
                    device_id: c.device_id,
                    code: c.code,
                    name: c.name,
                    offset_minutes: c.offset_minutes,
                })
                .collect(),
            times: v.route.times,
            guard_user_id: v.route.guard_user_id,
            guard_name: v.guard_name,
            window_minutes: v.route.window_minutes,
            tolerance_minutes: v.route.tolerance_minutes,
            active: v.route.active,
        }
    }
}

/// Stop or resume a route.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteActiveRequest {
    /// Whether rounds are due.
    pub active: bool,
}

/// How one checkpoint of a round went.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoundCheckpointDto {
    /// The checkpoint device.
    pub device_id: i64,
    /// Its place on the route (0-based).
    pub seq: usize,
    /// When it was due (ms).
    pub due_at: i64,
    /// When it was scanned (ms).
    pub scanned_at: Option<i64>,
    /// `on_time`, `late`, `missed`, `out_of_order`.
    pub outcome: String,
}

/// A judged patrol round.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoundDto {
    /// Id.
    pub id: i64,
    /// Route.
    pub route_id: i64,
    /// Community.
    pub community_id: i64,
    /// The guard assigned.
    pub guard_user_id: Option<i64>,
    /// Start, RFC 3339.
    pub start_at: String,
    /// End, RFC 3339.
    pub end_at: String,
    /// `complete`, `irregular` (late or out of order), `incomplete` (missed).
    pub status: String,
    /// Checkpoints on time.
    pub on_time: i64,
    /// Late.
    pub late: i64,
    /// Missed.
    pub missed: i64,
    /// Out of order.
    pub out_of_order: i64,
    /// Per checkpoint.
    pub checkpoints: Vec<RoundCheckpointDto>,
}

impl From<PatrolRoundRow> for RoundDto {
    fn from(r: PatrolRoundRow) -> Self {
        RoundDto {
            id: r.id,
            route_id: r.route_id,
            community_id: r.community_id,
            guard_user_id: r.guard_user_id,
            start_at: rfc3339(r.start_at),
            end_at: rfc3339(r.end_at),
            status: r.status,
            on_time: r.on_time,
            late: r.late,
            missed: r.missed,
            out_of_order: r.out_of_order,
            checkpoints: serde_json::from_str(&r.detail).unwrap_or_default(),
        }
    }
}

/// One guard's patrol day.
#[derive(Debug, Serialize, ToSchema)]
pub struct GuardDayDto {
    /// The guard (none: routes without a guard).
    pub guard_user_id: Option<i64>,
    /// Their name.
    pub guard_name: Option<String>,
    /// Rounds due.
    pub rounds: u32,
    /// Rounds with every checkpoint on time.
    pub complete: u32,
    /// Checkpoints due.
    pub checkpoints: u32,
    /// On time.
    pub on_time: u32,
    /// Late.
    pub late: u32,
    /// Missed.
    pub missed: u32,
    /// Out of order.
    pub out_of_order: u32,
    /// Share of due checkpoints scanned at all, 0–1.
    pub completion: f64,
}

impl From<anfang_app::patrol::GuardDay> for GuardDayDto {
    fn from(d: anfang_app::patrol::GuardDay) -> Self {
        let c = d.completion;
        GuardDayDto {
            guard_user_id: d.guard_user_id,
            guard_name: d.guard_name,
            rounds: c.rounds,
            complete: c.complete,
            checkpoints: c.checkpoints,
            on_time: c.on_time,
            late: c.late,
            missed: c.missed,
            out_of_order: c.out_of_order,
            completion: c.completion(),
        }
    }
}

/// An early warning with its evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarningDto {
    /// Id.
    pub id: i64,
    /// Where.
    pub community_id: Option<i64>,
    /// `watch_hit`, `frequent_stranger`, `elderly_unseen`, `group_rental`,
    /// `tenant_unregistered`, `vehicle_overstay`, `tailgating`.
    pub kind: String,
    /// Who it is for: `police`, `welfare`, `registry`, `property`.
    pub audience: String,
    /// What it is about (`stranger:7`, `person:12`, `house:3`, `plate:…`, `device:9`,
    /// `watch_hit:4`).
    pub subject: String,
    /// One line.
    pub title: String,
    /// The rule's measure (weighted sightings, hours, people, days; a face hit's distance).
    pub score: Option<f64>,
    /// The events that are its evidence.
    #[schema(value_type = Vec<Object>)]
    pub evidence: serde_json::Value,
    /// `to_confirm`, `open`, `confirmed`, `rejected`, `closed`.
    pub state: String,
    /// Raised, RFC 3339.
    pub raised_at: String,
    /// Last changed, RFC 3339.
    pub updated_at: String,
    /// Who handled it.
    pub handled_by: Option<String>,
    /// When, RFC 3339.
    pub handled_at: Option<String>,
    /// Their note.
    pub note: Option<String>,
    /// The watch-list hit, for `watch_hit`.
    pub watch_hit_id: Option<i64>,
}

impl From<WarningRow> for WarningDto {
    fn from(r: WarningRow) -> Self {
        WarningDto {
            id: r.id,
            community_id: r.community_id,
            kind: r.kind,
            audience: r.audience,
            subject: r.subject,
            title: r.title,
            score: r.score,
            evidence: serde_json::from_str(&r.evidence).unwrap_or_default(),
            state: r.state,
            raised_at: rfc3339(r.raised_at),
            updated_at: rfc3339(r.updated_at),
            handled_by: r.handled_by,
            handled_at: r.handled_at.map(rfc3339),
            note: r.note,
            watch_hit_id: r.watch_hit_id,
        }
    }
}

/// What a person does to a warning.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarningActionRequest {
    /// `confirm` or `reject` (a match to be confirmed), `close`.
    pub action: String,
    /// A note (at most 500 characters).
    pub note: Option<String>,
}

/// A community's early-warning thresholds: `stranger` {enabled, sightings, days, night_weight,
/// night_from, night_until}, `elderly` {enabled, hours}, `group_rental` {enabled, days,
/// excess}, `tenant` {enabled, days}, `vehicle` {enabled, days}, `tailgating` {enabled,
/// allowed}; omitted values take the defaults.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct WarningRulesDto(pub anfang_app::warnings::WarningRules);

/// A new notification channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelRequest {
    /// What you call it (1–60 characters).
    pub name: String,
    /// `webhook`, `sms` or `email` (SMS and e-mail need a gateway configured on the platform).
    pub channel: String,
    /// An `https://` URL (`http://` only to a local or private address), a mobile number or an
    /// e-mail address.
    pub address: String,
    /// What it receives: `alarm` (raised and handled), `escalation` (SLA missed), `warning`
    /// (early warnings you may see), `booth` (one-key calls).
    pub kinds: Vec<String>,
    /// Only alarms at least this severe: `critical`, `major` or `minor`.
    pub min_severity: Option<String>,
    /// The community (required unless you see every community).
    pub community_id: Option<i64>,
}

/// A notification channel; the address masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelDto {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `webhook`, `sms`, `email`.
    pub channel: String,
    /// The address, masked.
    pub address: String,
    /// What it receives.
    pub kinds: Vec<String>,
    /// Only alarms at least this severe.
    pub min_severity: Option<String>,
    /// Its community (none: every community).
    pub community_id: Option<i64>,
    /// The role whose view it carries.
    pub role: String,
    /// Whether it receives events.
    pub active: bool,
    /// Who made it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
}

impl From<anfang_app::notify::ChannelView> for ChannelDto {
    fn from(v: anfang_app::notify::ChannelView) -> Self {
        ChannelDto {
            id: v.id,
            name: v.name,
            channel: v.channel.as_str().into(),
            address: v.address,
            kinds: v.kinds.iter().map(|k| k.as_str().to_string()).collect(),
            min_severity: v.min_severity.map(|s| s.as_str().into()),
            community_id: v.community_id,
            role: v.role,
            active: v.active,
            created_by: v.created_by,
            created_at: v.created_at,
        }
    }
}

/// A channel just made, with its webhook signing secret — shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedChannelDto {
    /// The channel.
    pub channel: ChannelDto,
    /// The key of `X-Anfang-Signature` (webhooks): keep it, it is not shown again.
    pub secret: Option<String>,
}

/// Stop or start a channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelActiveRequest {
    /// Whether it receives events.
    pub active: bool,
}

/// Paging of a delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    /// Page number, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1–200.
    pub page_size: Option<i64>,
}

/// One event queued for a channel, and how its delivery went.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    /// Id.
    pub id: i64,
    /// `alarm.raised`, `alarm.escalated`, `alarm.acknowledged`, `warning.raised`, `booth.call`, …
    pub event: String,
    /// The same on every attempt (`Idempotency-Key`).
    pub idempotency_key: String,
    /// `pending`, `delivered` or `dead` (given up).
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// The next attempt (ms), while pending.
    pub next_attempt_at: Option<i64>,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Queued (ms).
    pub created_at: i64,
    /// Delivered (ms).
    pub delivered_at: Option<i64>,
}

impl From<NotificationRow> for DeliveryDto {
    fn from(n: NotificationRow) -> Self {
        DeliveryDto {
            id: n.id,
            event: n.event,
            idempotency_key: n.idempotency_key,
            next_attempt_at: (n.state == "pending").then_some(n.next_attempt_at),
            state: n.state,
            attempts: n.attempts,
            last_status: n.last_status,
            last_error: n.last_error,
            created_at: n.created_at,
            delivered_at: n.delivered_at,
        }
    }
}
