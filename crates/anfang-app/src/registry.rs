//! Registry use-cases: the administrative hierarchy (street → committee → community →
//! building → unit → house), places on site plans, persons with encrypted personal data,
//! vehicles and devices. Every operation checks the caller's permission and scope.

use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::mask::{mask_id_number, mask_phone};
use anfang_domain::model::*;
use anfang_domain::{GbCode, Gender, IdDocType, IdNumber, PhoneNumber, PlateColor, PlateNumber};
use anfang_store::*;
use serde_json::json;

/// Default and maximum page sizes of list operations.
pub const DEFAULT_PAGE_SIZE: i64 = 20;
/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: i64 = 200;

/// A page request as callers give it: 1-based page number and size.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: i64,
    /// Rows per page.
    pub page_size: i64,
}

impl PageRequest {
    /// Validates and converts to a store page.
    pub fn to_page(self) -> AppResult<Page> {
        if self.page < 1 {
            return Err(AppError::invalid(
                "invalid_page",
                "page",
                "page numbers start at 1",
            ));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(AppError::invalid(
                "invalid_page",
                "page_size",
                format!("page_size must be 1 to {MAX_PAGE_SIZE}"),
            ));
        }
        Ok(Page {
            offset: (self.page - 1) * self.page_size,
            limit: self.page_size,
        })
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

/// Filters a caller may give to list operations (all optional).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Street.
    pub street_id: Option<i64>,
    /// Community.
    pub community_id: Option<i64>,
    /// Building.
    pub building_id: Option<i64>,
    /// Unit.
    pub unit_id: Option<i64>,
    /// House.
    pub house_id: Option<i64>,
    /// Kind or category name.
    pub kind: Option<String>,
    /// Name substring.
    pub q: Option<String>,
    /// Exact ID number (looked up by blind index).
    pub id_number: Option<String>,
    /// Exact plate.
    pub plate_number: Option<String>,
    /// Only unassigned devices.
    pub unassigned: bool,
}

/// A person as shown to a caller: personal numbers masked unless revealed.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonView {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Name.
    pub name: String,
    /// Gender name.
    pub gender: String,
    /// ID document type name.
    pub id_type: String,
    /// ID number, masked unless `revealed`.
    pub id_number: String,
    /// Phone, masked unless `revealed`.
    pub phone: Option<String>,
    /// Population type name.
    pub population_type: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Relations to houses.
    pub houses: Vec<PersonHouseRow>,
    /// Whether the personal numbers are shown in clear (and the read was audited).
    pub revealed: bool,
}

/// A community with its places.
#[derive(Debug, Clone, PartialEq)]
pub struct CommunityDetail {
    /// The community and its counts.
    pub community: CommunityRow,
    /// Its places.
    pub places: Vec<PlaceRow>,
}

/// New street.
#[derive(Debug, Clone)]
pub struct CreateStreet {
    /// District code (6 digits).
    pub district_code: String,
    /// Street code (9 digits).
    pub code: String,
    /// Name.
    pub name: String,
}

/// New committee.
#[derive(Debug, Clone)]
pub struct CreateCommittee {
    /// Street.
    pub street_id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// `residents` or `village`.
    pub kind: String,
}

/// New community.
#[derive(Debug, Clone)]
pub struct CreateCommunity {
    /// Committee.
    pub committee_id: i64,
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
}

/// New building.
#[derive(Debug, Clone)]
pub struct CreateBuilding {
    /// Community.
    pub community_id: i64,
    /// Number.
    pub number: String,
    /// Name (defaults to `{number}号楼`).
    pub name: Option<String>,
    /// Floors.
    pub floors: i64,
    /// x (m).
    pub x: f64,
    /// y (m).
    pub y: f64,
}

/// New unit.
#[derive(Debug, Clone)]
pub struct CreateUnit {
    /// Building.
    pub building_id: i64,
    /// Number.
    pub number: String,
}

/// New house.
#[derive(Debug, Clone)]
pub struct CreateHouse {
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
}

/// New place.
#[derive(Debug, Clone)]
pub struct CreatePlace {
    /// Community.
    pub community_id: i64,
    /// Kind name.
    pub kind: String,
    /// Name.
    pub name: String,
    /// x (m).
    pub x: f64,
    /// y (m).
    pub y: f64,
    /// Guard on duty.
    pub attended: bool,
    /// Unit served (unit doors).
    pub unit_id: Option<i64>,
}

/// New grid (网格).
#[derive(Debug, Clone)]
pub struct CreateGrid {
    /// Community.
    pub community_id: i64,
    /// Code, unique.
    pub code: String,
    /// Name.
    pub name: String,
}

/// New real organisation (实有单位).
#[derive(Debug, Clone)]
pub struct CreateOrganisation {
    /// Community.
    pub community_id: i64,
    /// The house it occupies.
    pub house_id: Option<i64>,
    /// Name.
    pub name: String,
    /// Unified social credit code (18 characters), if known.
    pub credit_code: Option<String>,
    /// Kind (shop, clinic, …).
    pub kind: String,
}

/// A person's relation to a house, as given by a caller.
#[derive(Debug, Clone)]
pub struct SetPersonHouse {
    /// House.
    pub house_id: i64,
    /// Role name.
    pub role: String,
    /// Lease start (tenants), `YYYY-MM-DD`.
    pub lease_start: Option<String>,
    /// Lease end (tenants), `YYYY-MM-DD`.
    pub lease_end: Option<String>,
    /// Duty schedule (staff), e.g. `1-5 07:00-19:00`; none: any time.
    pub schedule: Option<String>,
}

/// New person.
#[derive(Debug, Clone)]
pub struct CreatePerson {
    /// Community.
    pub community_id: i64,
    /// Name.
    pub name: String,
    /// Gender name.
    pub gender: String,
    /// ID type name.
    pub id_type: String,
    /// ID number.
    pub id_number: String,
    /// Phone.
    pub phone: Option<String>,
    /// Population type name.
    pub population_type: String,
    /// Tags.
    pub tags: Vec<String>,
    /// A first house relation.
    pub house: Option<SetPersonHouse>,
}

/// New vehicle.
#[derive(Debug, Clone)]
pub struct CreateVehicle {
    /// Community.
    pub community_id: i64,
    /// Plate as typed.
    pub plate_number: String,
    /// Colour name.
    pub plate_color: String,
    /// Owner.
    pub owner_person_id: Option<i64>,
    /// Parking space.
    pub parking_space: Option<String>,
}

/// New device.
#[derive(Debug, Clone, Default)]
pub struct CreateDevice {
    /// 20-digit GB/T 28181 code.
    pub code: String,
    /// Name (defaults to kind label + code tail).
    pub name: Option<String>,
    /// Kind name.
    pub kind: String,
    /// Protocol name.
    pub protocol: String,
    /// Community, or none to wait for assignment.
    pub community_id: Option<i64>,
    /// Place.
    pub place_id: Option<i64>,
    /// x.
    pub x: Option<f64>,
    /// y.
    pub y: Option<f64>,
    /// Install date `YYYY-MM-DD`.
    pub install_date: Option<String>,
    /// Contractor.
    pub contractor: Option<String>,
}

/// Checks a required short text: trimmed, 1..=max characters.
pub(crate) fn text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::invalid(
            "missing_field",
            field,
            format!("{field} is required"),
        ));
    }
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "invalid_value",
            field,
            format!("{field} must be at most {max} printable characters"),
        ));
    }
    Ok(v.to_string())
}

/// Checks an optional short text; empty means none.
pub(crate) fn opt_text(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => text(field, v, max).map(Some),
        None => Ok(None),
    }
}

/// Checks a code: 1–32 ASCII letters, digits or '-'.
fn code(field: &str, value: &str) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() || v.len() > 32 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(AppError::invalid(
            "invalid_code",
            field,
            format!("{field} must be 1 to 32 letters, digits or '-'"),
        ));
    }
    Ok(v.to_string())
}

/// Checks a `YYYY-MM-DD` date.
pub(crate) fn date(field: &str, value: Option<&str>) -> AppResult<Option<chrono::NaiveDate>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                AppError::invalid(
                    "invalid_date",
                    field,
                    format!("'{v}' is not a date in YYYY-MM-DD form"),
                )
            }),
    }
}

fn coordinate(field: &str, value: f64) -> AppResult<f64> {
    if value.is_finite() && (0.0..=100_000.0).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::invalid(
            "invalid_coordinate",
            field,
            format!("{field} must be 0 to 100000 metres on the site plan"),
        ))
    }
}

/// Person fields as given, before validation.
pub(crate) struct PersonFields<'a> {
    pub name: &'a str,
    pub gender: &'a str,
    pub id_type: &'a str,
    pub id_number: &'a str,
    pub phone: Option<&'a str>,
    pub population_type: &'a str,
    pub tags: &'a [String],
}

/// Validated person data ready to encrypt.
pub(crate) struct ValidPerson {
    pub name: String,
    pub gender: Gender,
    pub id_number: IdNumber,
    pub phone: Option<PhoneNumber>,
    pub population_type: PopulationType,
    pub tags: Vec<String>,
}

impl App {
    pub(crate) fn validate_person(&self, f: &PersonFields<'_>) -> AppResult<ValidPerson> {
        let (name, gender, id_type, id_number, phone, population_type, tags) = (
            f.name,
            f.gender,
            f.id_type,
            f.id_number,
            f.phone,
            f.population_type,
            f.tags,
        );
        let name = text("name", name, 64)?;
        let gender = Gender::parse(gender).map_err(|e| AppError::field("gender", e))?;
        let doc = IdDocType::parse(id_type).map_err(|e| AppError::field("id_type", e))?;
        let id_number = IdNumber::parse(doc, id_number).map_err(|e| AppError::field("id_number", e))?;
        id_number
            .birth_date_not_after(self.clock.today_cst())
            .map_err(|e| AppError::field("id_number", e))?;
        let phone = match phone.map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(PhoneNumber::parse(p).map_err(|e| AppError::field("phone", e))?),
            None => None,
        };
        let population_type =
            PopulationType::parse(population_type).map_err(|e| AppError::field("population_type", e))?;
        let mut clean_tags = Vec::new();
        for tag in tags {
            let tag = text("tags", tag, 32)?;
            if !clean_tags.contains(&tag) {
                clean_tags.push(tag);
            }
        }
        Ok(ValidPerson {
            name,
            gender,
            id_number,
            phone,
            population_type,
            tags: clean_tags,
        })
    }

    pub(crate) fn seal_person(&self, community_id: i64, p: &ValidPerson) -> AppResult<NewPerson> {
        Ok(NewPerson {
            community_id,
            name: p.name.clone(),
            gender: p.gender.as_str().to_string(),
            id_type: p.id_number.doc_type().as_str().to_string(),
            id_number_enc: self.vault.encrypt("id_number", p.id_number.as_str())?,
            id_number_index: self.id_index(p.id_number.as_str()),
            phone_enc: p
                .phone
                .as_ref()
                .map(|ph| self.vault.encrypt("phone", ph.as_str()))
                .transpose()?,
            phone_index: p
                .phone
                .as_ref()
                .map(|ph| self.vault.blind_index("phone", ph.as_str())),
            population_type: p.population_type.as_str().to_string(),
            tags_json: serde_json::to_string(&p.tags).map_err(|e| AppError::Internal(e.to_string()))?,
            now_ms: self.clock.now_ms(),
        })
    }

    /// The blind index of a normalized ID number (any document type).
    pub(crate) fn id_index(&self, normalized: &str) -> String {
        self.vault.blind_index("id_number", normalized)
    }

    pub(crate) fn validate_relation(rel: &SetPersonHouse) -> AppResult<PersonHouseRow> {
        let role = HouseRole::parse(&rel.role).map_err(|e| AppError::field("role", e))?;
        let start = date("lease_start", rel.lease_start.as_deref())?;
        let end = date("lease_end", rel.lease_end.as_deref())?;
        if role == HouseRole::Tenant {
            let (Some(start), Some(end)) = (start, end) else {
                return Err(AppError::invalid(
                    "missing_field",
                    "lease_end",
                    "a tenant needs lease_start and lease_end",
                ));
            };
            if end < start {
                return Err(AppError::invalid(
                    "invalid_date",
                    "lease_end",
                    "lease_end is before lease_start",
                ));
            }
        }
        let schedule = match rel.schedule.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(_) if role != HouseRole::Staff => {
                return Err(AppError::invalid(
                    "invalid_value",
                    "schedule",
                    "only staff have a duty schedule",
                ));
            }
            Some(text) => Some(
                anfang_domain::Schedule::parse(text)
                    .map_err(|e| AppError::field("schedule", e))?
                    .to_string(),
            ),
        };
        Ok(PersonHouseRow {
            person_id: 0,
            house_id: rel.house_id,
            role: role.as_str().to_string(),
            lease_start: start.map(|d| d.to_string()),
            lease_end: end.map(|d| d.to_string()),
            schedule,
            address: String::new(),
        })
    }

    fn view_person(
        &self,
        row: PersonRow,
        houses: Vec<PersonHouseRow>,
        reveal: bool,
    ) -> AppResult<PersonView> {
        let id_number = self.vault.decrypt("id_number", &row.id_number_enc)?;
        let phone = row
            .phone_enc
            .as_deref()
            .map(|b| self.vault.decrypt("phone", b))
            .transpose()?;
        Ok(PersonView {
            id: row.id,
            community_id: row.community_id,
            name: row.name,
            gender: row.gender,
            id_type: row.id_type,
            id_number: if reveal {
                id_number
            } else {
                mask_id_number(&id_number)
            },
            phone: phone.map(|p| if reveal { p } else { mask_phone(&p) }),
            population_type: row.population_type,
            tags: serde_json::from_str(&row.tags_json).unwrap_or_default(),
            houses,
            revealed: reveal,
        })
    }

    /// A scope-restricted filter from the caller's query, refusing filters that point
    /// outside the scope.
    pub(crate) async fn scoped_filter(&self, who: &Principal, q: &ListQuery) -> AppResult<Filter> {
        let mut filter = who.scope.filter();
        if let Some(id) = q.community_id {
            who.scope.check_community(id, "community")?;
        }
        if let Some(street) = q.street_id
            && !who.scope.all
        {
            let mut tx = self.store.read().await?;
            let inside = tx
                .list_communities(
                    &Filter {
                        street_id: Some(street),
                        ..who.scope.filter()
                    },
                    Page::first(1),
                )
                .await?;
            if inside.total == 0 {
                return Err(AppError::NotFound { entity: "street" });
            }
        }
        filter.street_id = q.street_id;
        filter.community_id = q.community_id;
        filter.building_id = q.building_id;
        filter.unit_id = q.unit_id;
        filter.house_id = q.house_id;
        filter.kind = q.kind.clone();
        filter.q = q.q.clone();
        filter.plate_number = q
            .plate_number
            .as_ref()
            .map(|p| anfang_domain::plate::normalize_plate(p));
        filter.unassigned = q.unassigned;
        if let Some(raw) = &q.id_number {
            let normalized = IdDocType::ALL
                .iter()
                .find_map(|t| IdNumber::parse(*t, raw).ok())
                .map(|id| id.as_str().to_string())
                .unwrap_or_else(|| raw.trim().to_uppercase());
            filter.id_number_index = Some(self.id_index(&normalized));
        }
        Ok(filter)
    }

    /// Streets that contain something in the caller's scope.
    pub async fn list_streets(
        &self,
        who: &Principal,
        q: &ListQuery,
        page: PageRequest,
    ) -> AppResult<Paged<StreetRow>> {
        who.require(Permission::ReadTree)?;
        // Validates any community or street filter against the scope.
        let scoped = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        let mut filter = Filter {
            street_id: scoped.street_id,
            ..Filter::default()
        };
        if let Some(community) = scoped.community_id {
            let row = tx
                .community(community)
                .await?
                .ok_or(AppError::NotFound { entity: "community" })?;
            filter.street_id = Some(row.street_id);
        }
        if !who.scope.all {
            let communities = tx.list_communities(&who.scope.filter(), Page::ALL).await?;
            let mut streets: Vec<i64> = communities.items.iter().map(|c| c.street_id).collect();
            streets.sort_unstable();
            streets.dedup();
            filter.street_ids = Some(streets);
        }
        Ok(tx.list_streets(&filter, page.to_page()?).await?)
    }

    fn require_district(who: &Principal) -> AppResult<()> {
        who.require(Permission::WriteTree)?;
        if who.scope.all {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "only district-wide users change the administrative hierarchy".into(),
            ))
        }
    }

    /// Creates a street (district-wide users).
    pub async fn create_street(&self, who: &Principal, req: &CreateStreet) -> AppResult<StreetRow> {
        Self::require_district(who)?;
        let new = NewStreet {
            district_code: code("district_code", &req.district_code)?,
            code: code("code", &req.code)?,
            name: text("name", &req.name, 64)?,
        };
        let mut tx = self.store.write().await?;
        if tx.street_by_code(&new.code).await?.is_some() {
            return Err(AppError::Conflict {
                code: "duplicate_code",
                message: format!("street {} exists", new.code),
            });
        }
        let id = tx.insert_street(&new).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "street.create",
                &format!("street:{id}"),
                json!({"code": new.code}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(StreetRow {
            id,
            district_code: new.district_code,
            code: new.code,
            name: new.name,
        })
    }

    /// Committees in scope.
    pub async fn list_committees(
        &self,
        who: &Principal,
        q: &ListQuery,
        page: PageRequest,
    ) -> AppResult<Paged<CommitteeRow>> {
        who.require(Permission::ReadTree)?;
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_committees(&filter, page.to_page()?).await?)
    }

    /// Creates a committee (district-wide users).
    pub async fn create_committee(&self, who: &Principal, req: &CreateCommittee) -> AppResult<CommitteeRow> {
        Self::require_district(who)?;
        let kind = CommitteeKind::parse(&req.kind).map_err(|e| AppError::field("kind", e))?;
        let new = NewCommittee {
            street_id: req.street_id,
            code: code("code", &req.code)?,
            name: text("name", &req.name, 64)?,
            kind: kind.as_str().into(),
        };
        let mut tx = self.store.write().await?;
        let id = tx
            .insert_committee(&new)
            .await
            .map_err(|e| conflict_or(e, "street_id", "no such street, or duplicate code"))?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "committee.create",
                &format!("committee:{id}"),
                json!({"code": new.code}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(CommitteeRow {
            id,
            street_id: new.street_id,
            code: new.code,
            name: new.name,
            kind: new.kind,
        })
    }

    /// Communities in scope.
    pub async fn list_communities(
        &self,
        who: &Principal,
        q: &ListQuery,
        page: PageRequest,
    ) -> AppResult<Paged<CommunityRow>> {
        who.require(Permission::ReadTree)?;
        if let Some(kind) = &q.kind {
            CommunityCategory::parse(kind).map_err(|e| AppError::field("category", e))?;
        }
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_communities(&filter, page.to_page()?).await?)
    }

    /// One community with its places.
    pub async fn community(&self, who: &Principal, id: i64) -> AppResult<CommunityDetail> {
        who.require(Permission::ReadTree)?;
        who.scope.check_community(id, "community")?;
        let mut tx = self.store.read().await?;
        let community = tx
            .community(id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        let places = tx
            .list_places(
                &Filter {
                    community_id: Some(id),
                    ..Filter::default()
                },
                Page::ALL,
            )
            .await?
            .items;
        Ok(CommunityDetail { community, places })
    }

    /// Creates a community (district-wide users).
    pub async fn create_community(&self, who: &Principal, req: &CreateCommunity) -> AppResult<CommunityRow> {
        Self::require_district(who)?;
        let category = CommunityCategory::parse(&req.category).map_err(|e| AppError::field("category", e))?;
        let property =
            PropertyType::parse(&req.property_type).map_err(|e| AppError::field("property_type", e))?;
        let mut tx = self.store.write().await?;
        let committee = tx
            .list_committees(&Filter::default(), Page::ALL)
            .await?
            .items
            .into_iter()
            .find(|c| c.id == req.committee_id)
            .ok_or_else(|| AppError::invalid("unknown_reference", "committee_id", "no such committee"))?;
        let new = NewCommunity {
            committee_id: committee.id,
            street_id: committee.street_id,
            code: code("code", &req.code)?,
            name: text("name", &req.name, 64)?,
            category: category.as_str().into(),
            property_type: property.as_str().into(),
            address: text("address", &req.address, 128)?,
            site_width: coordinate("site_width", req.site_width)?,
            site_height: coordinate("site_height", req.site_height)?,
            police_area: opt_text("police_area", req.police_area.as_deref(), 64)?,
        };
        if tx.community_by_code(&new.code).await?.is_some() {
            return Err(AppError::Conflict {
                code: "duplicate_code",
                message: format!("community {} exists", new.code),
            });
        }
        let id = tx.insert_community(&new).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "community.create",
                &format!("community:{id}"),
                json!({"code": new.code}),
            )
            .await?;
        let row = tx
            .community(id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// Buildings in scope.
    pub async fn list_buildings(
        &self,
        who: &Principal,
        q: &ListQuery,
        page: PageRequest,
    ) -> AppResult<Paged<BuildingRow>> {
        who.require(Permission::ReadTree)?;
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_buildings(&filter, page.to_page()?).await?)
    }

    /// Creates a building in a community in scope.
    pub async fn create_building(&self, who: &Principal, req: &CreateBuilding) -> AppResult<BuildingRow> {
        who.require(Permission::WriteTree)?;
        who.scope.check_whole_community(req.community_id, "community")?;
        let number = text("number", &req.number, 16)?;
        let new = NewBuilding {
            community_id: req.community_id,
            name: opt_text("name", req.name.as_deref(), 32)?.unwrap_or_else(|| format!("{number}号楼")),
            number,
            floors: if (1..=200).contains(&req.floors) {
                req.floors
            } else {
                return Err(AppError::invalid(
                    "invalid_value",
                    "floors",
                    "floors must be 1 to 200",
                ));
            },
            x: coordinate("x", req.x)?,
            y: coordinate("y", req.y)?,
        };
        let mut tx = self.store.write().await?;
        let id = tx
            .insert_building(&new)
            .await
            .map_err(|e| conflict_or(e, "number", "building number exists in this community"))?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "building.create",
                &format!("building:{id}"),
                json!({"number": new.number}),
            )
            .await?;
        let row = tx
            .building(id)
            .await?
            .ok_or(AppError::NotFound { entity: "building" })?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// Units in scope.
    pub async fn list_units(
        &self,
        who: &Principal,
        q: &ListQuery,
        page: PageRequest,
    ) -> AppResult<Paged<UnitRow>> {
        who.require(Permission::ReadTree)?;
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_units(&filter, page.to_page()?).await?)
    }

    /// Creates a unit in a building in scope.
    pub async fn create_unit(&self, who: &Principal, req: &CreateUnit) -> AppResult<UnitRow> {
        who.require(Permission::WriteTree)?;
        let mut tx = self.store.write().await?;
        let building = tx
            .building(req.building_id)
            .await?
            .ok_or(AppError::NotFound { entity: "building" })?;
        who.scope
            .check_whole_community(building.community_id, "building")?;
        let new = NewUnit {
            building_id: building.id,
            number: text("number", &req.number, 16)?,
        };
        let id = tx
            .insert_unit(&new)
            .await
            .map_err(|e| conflict_or(e, "number", "unit number exists in this building"))?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "unit.create",
                &format!("unit:{id}"),
                json!({"number": new.number}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(UnitRow {
            id,
            building_id: building.id,
            community_id: building.community_id,
            number: new.number,
        })
    }

    /// Houses in scope.
    pub async fn list_houses(
        &self,
        who: &Principal,
        q: &ListQuery,
        page: PageRequest,
    ) -> AppResult<Paged<HouseRow>> {
        who.require(Permission::ReadTree)?;
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_houses(&filter, page.to_page()?).await?)
    }

    /// One house in scope.
    pub async fn house(&self, who: &Principal, id: i64) -> AppResult<HouseRow> {
        who.require(Permission::ReadTree)?;
        let mut tx = self.store.read().await?;
        let house = tx
            .house(id)
            .await?
            .ok_or(AppError::NotFound { entity: "house" })?;
        if !who.scope.has_house(house.community_id, house.id) {
            return Err(AppError::NotFound { entity: "house" });
        }
        Ok(house)
    }

    /// Creates a house in a unit in scope; its standard address is derived.
    pub async fn create_house(&self, who: &Principal, req: &CreateHouse) -> AppResult<HouseRow> {
        who.require(Permission::WriteTree)?;
        let mut tx = self.store.write().await?;
        let unit = tx
            .unit(req.unit_id)
            .await?
            .ok_or(AppError::NotFound { entity: "unit" })?;
        who.scope.check_whole_community(unit.community_id, "unit")?;
        let new = self
            .new_house(&mut tx, &unit, &req.number, req.floor, req.area_m2, &req.use_kind)
            .await?;
        let id = tx
            .insert_house(&new)
            .await
            .map_err(|e| conflict_or(e, "number", "house number exists in this unit"))?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "house.create",
                &format!("house:{id}"),
                json!({"address": new.address}),
            )
            .await?;
        let row = tx
            .house(id)
            .await?
            .ok_or(AppError::NotFound { entity: "house" })?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// Validates house fields and derives the standard address
    /// (`{community address}{building}号楼{unit}单元{number}室`).
    pub(crate) async fn new_house(
        &self,
        tx: &mut Box<dyn Tx>,
        unit: &UnitRow,
        number: &str,
        floor: i64,
        area_m2: f64,
        use_kind: &str,
    ) -> AppResult<NewHouse> {
        let number = text("number", number, 16)?;
        let use_kind = HouseUse::parse(use_kind).map_err(|e| AppError::field("use", e))?;
        if !(-5..=200).contains(&floor) {
            return Err(AppError::invalid(
                "invalid_value",
                "floor",
                "floor must be -5 to 200",
            ));
        }
        if !(area_m2.is_finite() && area_m2 > 0.0 && area_m2 < 100_000.0) {
            return Err(AppError::invalid(
                "invalid_value",
                "area_m2",
                "area_m2 must be a positive number of square metres",
            ));
        }
        let community = tx
            .community(unit.community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        let building = tx
            .building(unit.building_id)
            .await?
            .ok_or(AppError::NotFound { entity: "building" })?;
        Ok(NewHouse {
            unit_id: unit.id,
            address: format!(
                "{}{}号楼{}单元{}室",
                community.address, building.number, unit.number, number
            ),
            number,
            floor,
            area_m2,
            use_kind: use_kind.as_str().into(),
        })
    }

    /// Places in scope.
    pub async fn list_places(
        &self,
        who: &Principal,
        q: &ListQuery,
        page: PageRequest,
    ) -> AppResult<Paged<PlaceRow>> {
        who.require(Permission::ReadTree)?;
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_places(&filter, page.to_page()?).await?)
    }

    /// Creates a place in a community in scope.
    pub async fn create_place(&self, who: &Principal, req: &CreatePlace) -> AppResult<PlaceRow> {
        who.require(Permission::WriteTree)?;
        who.scope.check_whole_community(req.community_id, "community")?;
        let kind = PlaceKind::parse(&req.kind).map_err(|e| AppError::field("kind", e))?;
        let new = NewPlace {
            community_id: req.community_id,
            kind: kind.as_str().into(),
            name: text("name", &req.name, 64)?,
            x: coordinate("x", req.x)?,
            y: coordinate("y", req.y)?,
            attended: req.attended,
            unit_id: req.unit_id,
        };
        let mut tx = self.store.write().await?;
        if let Some(unit_id) = new.unit_id {
            let unit = tx.unit(unit_id).await?;
            if unit.is_none_or(|u| u.community_id != new.community_id) {
                return Err(AppError::invalid(
                    "unknown_reference",
                    "unit_id",
                    "no such unit in this community",
                ));
            }
        }
        let id = tx.insert_place(&new).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "place.create",
                &format!("place:{id}"),
                json!({"kind": new.kind}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(PlaceRow {
            id,
            community_id: new.community_id,
            kind: new.kind,
            name: new.name,
            x: new.x,
            y: new.y,
            attended: new.attended,
            unit_id: new.unit_id,
        })
    }

    /// Grids in scope.
    pub async fn list_grids(
        &self,
        who: &Principal,
        q: &ListQuery,
        page: PageRequest,
    ) -> AppResult<Paged<GridRow>> {
        who.require(Permission::ReadTree)?;
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_grids(&filter, page.to_page()?).await?)
    }

    /// Creates a grid in a community in scope.
    pub async fn create_grid(&self, who: &Principal, req: &CreateGrid) -> AppResult<GridRow> {
        who.require(Permission::WriteTree)?;
        who.scope.check_whole_community(req.community_id, "community")?;
        let new = NewGrid {
            community_id: req.community_id,
            code: code("code", &req.code)?,
            name: text("name", &req.name, 64)?,
        };
        let mut tx = self.store.write().await?;
        let id = tx
            .insert_grid(&new)
            .await
            .map_err(|e| conflict_or(e, "code", "a grid with this code exists"))?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "grid.create",
                &format!("grid:{id}"),
                json!({"code": new.code}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(GridRow {
            id,
            community_id: new.community_id,
            code: new.code,
            name: new.name,
        })
    }

    /// Real organisations (实有单位) in scope.
    pub async fn list_organisations(
        &self,
        who: &Principal,
        q: &ListQuery,
        page: PageRequest,
    ) -> AppResult<Paged<OrganisationRow>> {
        who.require(Permission::ReadTree)?;
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_organisations(&filter, page.to_page()?).await?)
    }

    /// Registers a real organisation in a community (and house) in scope.
    pub async fn create_organisation(
        &self,
        who: &Principal,
        req: &CreateOrganisation,
    ) -> AppResult<OrganisationRow> {
        who.require(Permission::WriteTree)?;
        who.scope.check_whole_community(req.community_id, "community")?;
        let credit_code = opt_text("credit_code", req.credit_code.as_deref(), 18)?;
        if let Some(c) = &credit_code
            && (c.len() != 18 || !c.chars().all(|ch| ch.is_ascii_digit() || ch.is_ascii_uppercase()))
        {
            return Err(AppError::invalid(
                "invalid_credit_code",
                "credit_code",
                "a unified social credit code has 18 digits or capital letters",
            ));
        }
        let new = NewOrganisation {
            community_id: req.community_id,
            house_id: req.house_id,
            name: text("name", &req.name, 64)?,
            credit_code,
            kind: text("kind", &req.kind, 32)?,
        };
        let mut tx = self.store.write().await?;
        if let Some(house) = new.house_id {
            let row = tx.house(house).await?;
            if row.is_none_or(|h| h.community_id != new.community_id) {
                return Err(AppError::invalid(
                    "unknown_reference",
                    "house_id",
                    "no such house in this community",
                ));
            }
        }
        let id = tx.insert_organisation(&new).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "organisation.create",
                &format!("organisation:{id}"),
                json!({"name": new.name}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(OrganisationRow {
            id,
            community_id: new.community_id,
            house_id: new.house_id,
            name: new.name,
            credit_code: new.credit_code,
            kind: new.kind,
        })
    }

    /// Persons in scope, personal numbers masked.
    pub async fn list_persons(
        &self,
        who: &Principal,
        q: &ListQuery,
        page: PageRequest,
    ) -> AppResult<Paged<PersonView>> {
        who.require(Permission::ReadPersons)?;
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        let rows = tx.list_persons(&filter, page.to_page()?).await?;
        let ids: Vec<i64> = rows.items.iter().map(|p| p.id).collect();
        let relations = tx.person_houses(&ids).await?;
        let items = rows
            .items
            .into_iter()
            .map(|row| {
                let houses = relations
                    .iter()
                    .filter(|r| r.person_id == row.id)
                    .cloned()
                    .collect();
                self.view_person(row, houses, false)
            })
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Paged {
            items,
            total: rows.total,
        })
    }

    /// One person; with `reveal`, personal numbers in clear for roles that may read them,
    /// and the read is audited.
    pub async fn person(&self, who: &Principal, id: i64, reveal: bool) -> AppResult<PersonView> {
        who.require(Permission::ReadPersons)?;
        if reveal {
            who.require(Permission::RevealPii)?;
        }
        let mut tx = if reveal {
            self.store.write().await?
        } else {
            self.store.read().await?
        };
        let row = tx
            .person(id)
            .await?
            .ok_or(AppError::NotFound { entity: "person" })?;
        let houses = tx.person_houses(&[id]).await?;
        let visible = match &who.scope.houses {
            Some(mine) => houses.iter().any(|h| mine.contains(&h.house_id)),
            None => who.scope.has_community(row.community_id),
        };
        if !visible {
            return Err(AppError::NotFound { entity: "person" });
        }
        let view = self.view_person(row, houses, reveal)?;
        if reveal {
            let audit = self
                .audit(
                    &mut tx,
                    &who.actor(),
                    "person.reveal",
                    &format!("person:{id}"),
                    json!({"fields": ["id_number", "phone"]}),
                )
                .await?;
            self.commit(tx, Some(&audit)).await?;
        }
        Ok(view)
    }

    /// Registers a person (rejecting a second registration of the same ID number).
    pub async fn create_person(&self, who: &Principal, req: &CreatePerson) -> AppResult<PersonView> {
        who.require(Permission::WritePersons)?;
        who.scope.check_whole_community(req.community_id, "community")?;
        let valid = self.validate_person(&PersonFields {
            name: &req.name,
            gender: &req.gender,
            id_type: &req.id_type,
            id_number: &req.id_number,
            phone: req.phone.as_deref(),
            population_type: &req.population_type,
            tags: &req.tags,
        })?;
        let relation = req.house.as_ref().map(Self::validate_relation).transpose()?;
        let new = self.seal_person(req.community_id, &valid)?;
        let mut tx = self.store.write().await?;
        if tx.person_by_id_index(&new.id_number_index).await?.is_some() {
            return Err(AppError::Conflict {
                code: "duplicate_id_number",
                message: "a person with this ID number is already registered".into(),
            });
        }
        let id = tx.insert_person(&new).await?;
        self.registry_changed(&mut tx, id, 0, self.clock.now_ms()).await?;
        if let Some(mut rel) = relation {
            let house = tx.house(rel.house_id).await?;
            if house.is_none_or(|h| h.community_id != req.community_id) {
                return Err(AppError::invalid(
                    "unknown_reference",
                    "house_id",
                    "no such house in this community",
                ));
            }
            rel.person_id = id;
            tx.upsert_person_house(&rel).await?;
            self.library_changed(&mut tx, req.community_id, id).await?;
        }
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "person.create",
                &format!("person:{id}"),
                json!({}),
            )
            .await?;
        let row = tx
            .person(id)
            .await?
            .ok_or(AppError::NotFound { entity: "person" })?;
        let houses = tx.person_houses(&[id]).await?;
        self.commit(tx, Some(&audit)).await?;
        self.view_person(row, houses, false)
    }

    /// Sets a person's relation to a house in scope.
    pub async fn set_person_house(
        &self,
        who: &Principal,
        person_id: i64,
        req: &SetPersonHouse,
    ) -> AppResult<PersonView> {
        who.require(Permission::WritePersons)?;
        let mut rel = Self::validate_relation(req)?;
        let mut tx = self.store.write().await?;
        let person = tx
            .person(person_id)
            .await?
            .ok_or(AppError::NotFound { entity: "person" })?;
        who.scope.check_whole_community(person.community_id, "person")?;
        let house = tx
            .house(rel.house_id)
            .await?
            .ok_or(AppError::NotFound { entity: "house" })?;
        who.scope.check_whole_community(house.community_id, "house")?;
        rel.person_id = person_id;
        tx.upsert_person_house(&rel).await?;
        self.registry_changed(&mut tx, person_id, 1, self.clock.now_ms())
            .await?;
        self.library_changed(&mut tx, house.community_id, person_id)
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "person.set_house",
                &format!("person:{person_id}"),
                json!({"house_id": house.id, "role": rel.role}),
            )
            .await?;
        let houses = tx.person_houses(&[person_id]).await?;
        self.commit(tx, Some(&audit)).await?;
        self.refresh_person_faces(person_id).await?;
        self.view_person(person, houses, false)
    }

    /// Vehicles in scope.
    pub async fn list_vehicles(
        &self,
        who: &Principal,
        q: &ListQuery,
        page: PageRequest,
    ) -> AppResult<Paged<VehicleRow>> {
        who.require(Permission::ReadVehicles)?;
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_vehicles(&filter, page.to_page()?).await?)
    }

    /// One vehicle in scope.
    pub async fn vehicle(&self, who: &Principal, id: i64) -> AppResult<VehicleRow> {
        who.require(Permission::ReadVehicles)?;
        let mut filter = who.scope.filter();
        let mut tx = self.store.read().await?;
        let row = tx
            .vehicle(id)
            .await?
            .ok_or(AppError::NotFound { entity: "vehicle" })?;
        filter.plate_number = Some(row.plate_number.clone());
        if tx.list_vehicles(&filter, Page::first(1)).await?.total == 0 {
            return Err(AppError::NotFound { entity: "vehicle" });
        }
        Ok(row)
    }

    /// Registers a vehicle; the plate is validated strictly.
    pub async fn create_vehicle(&self, who: &Principal, req: &CreateVehicle) -> AppResult<VehicleRow> {
        who.require(Permission::WriteVehicles)?;
        who.scope.check_whole_community(req.community_id, "community")?;
        let plate = PlateNumber::parse(&req.plate_number).map_err(|e| AppError::field("plate_number", e))?;
        let color = PlateColor::parse(&req.plate_color).map_err(|e| AppError::field("plate_color", e))?;
        let new = NewVehicle {
            community_id: req.community_id,
            plate_number: plate.as_str().to_string(),
            plate_color: color.as_str().to_string(),
            owner_person_id: req.owner_person_id,
            parking_space: opt_text("parking_space", req.parking_space.as_deref(), 32)?,
        };
        let mut tx = self.store.write().await?;
        if let Some(owner) = new.owner_person_id {
            let person = tx.person(owner).await?;
            if person.is_none_or(|p| p.community_id != new.community_id) {
                return Err(AppError::invalid(
                    "unknown_reference",
                    "owner_person_id",
                    "no such person in this community",
                ));
            }
        }
        if tx.vehicle_by_plate(&new.plate_number).await?.is_some() {
            return Err(AppError::Conflict {
                code: "duplicate_plate",
                message: format!("{} is already registered", new.plate_number),
            });
        }
        let id = tx.insert_vehicle(&new).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "vehicle.create",
                &format!("vehicle:{id}"),
                json!({"plate": new.plate_number}),
            )
            .await?;
        let row = tx
            .vehicle(id)
            .await?
            .ok_or(AppError::NotFound { entity: "vehicle" })?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// Devices in scope (unassigned devices only for district-wide users).
    pub async fn list_devices(
        &self,
        who: &Principal,
        q: &ListQuery,
        page: PageRequest,
    ) -> AppResult<Paged<DeviceRow>> {
        who.require(Permission::ReadDevices)?;
        if let Some(kind) = &q.kind {
            DeviceKind::parse(kind).map_err(|e| AppError::field("kind", e))?;
        }
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_devices(&filter, page.to_page()?).await?)
    }

    /// One device in scope.
    pub async fn device(&self, who: &Principal, id: i64) -> AppResult<DeviceRow> {
        who.require(Permission::ReadDevices)?;
        let mut tx = self.store.read().await?;
        let row = tx
            .device(id)
            .await?
            .ok_or(AppError::NotFound { entity: "device" })?;
        match row.community_id {
            Some(c) if who.scope.has_community(c) && who.scope.houses.is_none() => Ok(row),
            None if who.scope.all => Ok(row),
            _ => Err(AppError::NotFound { entity: "device" }),
        }
    }

    /// Registers a device with a generated secret, returned once. `actor` is audited; a
    /// `who` of `None` is the local operator (CLI).
    pub async fn create_device(
        &self,
        who: Option<&Principal>,
        req: &CreateDevice,
    ) -> AppResult<(DeviceRow, String)> {
        if let Some(who) = who {
            who.require(Permission::WriteDevices)?;
            match req.community_id {
                Some(c) => who.scope.check_whole_community(c, "community")?,
                None if who.scope.all => {}
                None => {
                    return Err(AppError::invalid(
                        "missing_field",
                        "community_id",
                        "your scope requires a community",
                    ));
                }
            }
        }
        let gb = GbCode::parse(&req.code).map_err(|e| AppError::field("code", e))?;
        let kind = DeviceKind::parse(&req.kind).map_err(|e| AppError::field("kind", e))?;
        let protocol = DeviceProtocol::parse(&req.protocol).map_err(|e| AppError::field("protocol", e))?;
        let install = date("install_date", req.install_date.as_deref())?;
        let secret = anfang_base::random_password(32);
        let new = NewDevice {
            code: gb.as_str().to_string(),
            name: opt_text("name", req.name.as_deref(), 64)?
                .unwrap_or_else(|| format!("{}-{}", kind.label_zh(), &gb.as_str()[14..])),
            kind: kind.as_str().into(),
            protocol: protocol.as_str().into(),
            community_id: req.community_id,
            place_id: req.place_id,
            x: req.x.map(|x| coordinate("x", x)).transpose()?,
            y: req.y.map(|y| coordinate("y", y)).transpose()?,
            install_date: install.map(|d| d.to_string()),
            contractor: opt_text("contractor", req.contractor.as_deref(), 64)?,
            secret_enc: self.vault.encrypt("device_secret", &secret)?,
            now_ms: self.clock.now_ms(),
        };
        let mut tx = self.store.write().await?;
        if let Some(c) = new.community_id {
            tx.community(c)
                .await?
                .ok_or_else(|| AppError::invalid("unknown_reference", "community_id", "no such community"))?;
        }
        if tx.device_by_code(&new.code).await?.is_some() {
            return Err(AppError::Conflict {
                code: "duplicate_device",
                message: format!("device {} exists", new.code),
            });
        }
        let id = tx.insert_device(&new).await?;
        let actor = who.map(Principal::actor).unwrap_or_else(|| "cli".into());
        let audit = self
            .audit(
                &mut tx,
                &actor,
                "device.create",
                &format!("device:{}", new.code),
                json!({"kind": new.kind}),
            )
            .await?;
        let row = tx
            .device(id)
            .await?
            .ok_or(AppError::NotFound { entity: "device" })?;
        self.commit(tx, Some(&audit)).await?;
        Ok((row, secret))
    }

    /// Assigns a waiting device to a community (and place) in scope.
    pub async fn assign_device(
        &self,
        who: &Principal,
        id: i64,
        community_id: i64,
        place_id: Option<i64>,
    ) -> AppResult<DeviceRow> {
        who.require(Permission::WriteDevices)?;
        who.scope.check_whole_community(community_id, "community")?;
        let mut tx = self.store.write().await?;
        let device = tx
            .device(id)
            .await?
            .ok_or(AppError::NotFound { entity: "device" })?;
        let visible = match device.community_id {
            None => true,
            Some(c) => who.scope.has_community(c),
        };
        if !visible {
            return Err(AppError::NotFound { entity: "device" });
        }
        if let Some(place) = place_id {
            let places = tx
                .list_places(
                    &Filter {
                        community_id: Some(community_id),
                        ..Filter::default()
                    },
                    Page::ALL,
                )
                .await?;
            if !places.items.iter().any(|p| p.id == place) {
                return Err(AppError::invalid(
                    "unknown_reference",
                    "place_id",
                    "no such place in this community",
                ));
            }
        }
        tx.assign_device(id, community_id, place_id).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "device.assign",
                &format!("device:{}", device.code),
                json!({"community_id": community_id}),
            )
            .await?;
        let row = tx
            .device(id)
            .await?
            .ok_or(AppError::NotFound { entity: "device" })?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// A device's secret in clear, for protocol authentication (HTTP Digest needs it).
    pub fn device_secret(&self, row: &DeviceRow) -> AppResult<String> {
        self.vault.decrypt("device_secret", &row.secret_enc)
    }
}

/// Turns a store conflict into a field error with a useful message.
fn conflict_or(e: StoreError, field: &str, message: &str) -> AppError {
    match e {
        StoreError::Conflict { .. } => AppError::invalid("conflict", field, message),
        other => other.into(),
    }
}
