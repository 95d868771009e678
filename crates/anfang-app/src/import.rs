//! Bulk import and export of houses, persons and vehicles through the documented spreadsheet
//! templates ([`crate::excel`]). Every row is validated; valid rows are committed together,
//! invalid rows are reported per row (and as a downloadable .xlsx report); importing a person
//! again by ID number, a house by its numbers or a vehicle by its plate updates it instead of
//! creating a duplicate.

use crate::excel::{self, RawRow, RowError, SheetKind};
use crate::registry::{PersonFields, SetPersonHouse, ValidPerson};
use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::{IdDocType, IdNumber, PlateColor, PlateNumber};
use anfang_store::*;
use serde_json::json;
use std::collections::BTreeMap;

/// Called with (rows done, rows total) while an import runs.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportSummary {
    /// Data rows read.
    pub total: usize,
    /// Rows that created a record.
    pub created: usize,
    /// Rows that updated an existing record.
    pub updated: usize,
    /// Rows rejected.
    pub failed: usize,
    /// Why, per row.
    pub errors: Vec<RowError>,
    /// The stored error report, when rows failed.
    pub report_id: Option<i64>,
    /// The error report's bytes (.xlsx), when rows failed.
    pub report: Option<Vec<u8>>,
}

fn row_error(row: &RawRow, e: AppError) -> RowError {
    RowError {
        row: row.row,
        field: e.field_name().unwrap_or("").to_string(),
        code: e.code().to_string(),
        message: match &e {
            AppError::Invalid { message, .. } => message.clone(),
            other => other.to_string(),
        },
    }
}

fn required<'r>(row: &'r RawRow, key: &str) -> AppResult<&'r str> {
    row.get(key)
        .ok_or_else(|| AppError::invalid("missing_field", key, format!("{key} is required")))
}

fn number<T: std::str::FromStr>(row: &RawRow, key: &str) -> AppResult<T> {
    let raw = required(row, key)?;
    raw.parse()
        .map_err(|_| AppError::invalid("invalid_value", key, format!("'{raw}' is not a number")))
}

/// (building number, unit number) of every unit matching `filter`, by unit id.
async fn unit_numbers(tx: &mut Box<dyn Tx>, filter: &Filter) -> AppResult<BTreeMap<i64, (String, String)>> {
    let buildings: BTreeMap<i64, String> = tx
        .list_buildings(filter, Page::ALL)
        .await?
        .items
        .into_iter()
        .map(|b| (b.id, b.number))
        .collect();
    Ok(tx
        .list_units(filter, Page::ALL)
        .await?
        .items
        .into_iter()
        .map(|u| {
            (
                u.id,
                (
                    buildings.get(&u.building_id).cloned().unwrap_or_default(),
                    u.number,
                ),
            )
        })
        .collect())
}

/// Whether a row created or updated.
enum Applied {
    Created,
    Updated,
}

impl App {
    /// The empty template of a sheet kind.
    pub fn import_template(&self, who: &Principal, kind: SheetKind) -> AppResult<Vec<u8>> {
        who.require(Permission::ImportExport)?;
        excel::template(kind).map_err(|e| AppError::invalid(e.code(), "file", e.to_string()))
    }

    /// Imports a spreadsheet into a community in the caller's scope. `who == None` is the
    /// local operator (CLI).
    pub async fn import_sheet(
        &self,
        who: Option<&Principal>,
        kind: SheetKind,
        community_id: i64,
        bytes: &[u8],
        progress: Option<Progress<'_>>,
    ) -> AppResult<ImportSummary> {
        if let Some(who) = who {
            who.require(Permission::ImportExport)?;
            who.scope.check_whole_community(community_id, "community")?;
        }
        let (rows, mut errors) =
            excel::read_rows(kind, bytes).map_err(|e| AppError::invalid(e.code(), "file", e.to_string()))?;
        let mut tx = self.store.write().await?;
        let community = tx
            .community(community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        let mut summary = ImportSummary {
            total: rows.len(),
            ..ImportSummary::default()
        };
        let bad_rows: std::collections::BTreeSet<usize> = errors.iter().map(|e| e.row).collect();
        for (done, row) in rows.iter().enumerate() {
            if bad_rows.contains(&row.row) {
                continue;
            }
            let applied = match kind {
                SheetKind::Houses => self.import_house(&mut tx, community.id, row).await,
                SheetKind::Persons => self.import_person(&mut tx, community.id, row).await,
                SheetKind::Vehicles => self.import_vehicle(&mut tx, community.id, row).await,
            };
            match applied {
                Ok(Applied::Created) => summary.created += 1,
                Ok(Applied::Updated) => summary.updated += 1,
                // A storage failure is not the row's fault: abort the whole import.
                Err(AppError::Store(e)) => return Err(AppError::Store(e)),
                Err(e) => errors.push(row_error(row, e)),
            }
            if let Some(progress) = progress {
                progress(done + 1, rows.len());
            }
        }
        errors.sort_by_key(|e| e.row);
        summary.failed = errors
            .iter()
            .map(|e| e.row)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let user_id = who.map(|w| w.user_id).unwrap_or(0);
        if !errors.is_empty() {
            let report = excel::error_report(kind, &rows, &errors)
                .map_err(|e| AppError::Internal(format!("error report: {e}")))?;
            let id = tx
                .insert_report(&NewReport {
                    user_id,
                    kind: kind.as_str().into(),
                    content: report.clone(),
                    now_ms: self.clock.now_ms(),
                })
                .await?;
            summary.report_id = Some(id);
            summary.report = Some(report);
        }
        summary.errors = errors;
        let actor = who.map(Principal::actor).unwrap_or_else(|| "cli".into());
        let audit = self
            .audit(
                &mut tx,
                &actor,
                &format!("import.{}", kind.as_str()),
                &format!("community:{community_id}"),
                json!({"created": summary.created, "updated": summary.updated, "failed": summary.failed}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(summary)
    }

    /// A stored error report (only its owner, or the local operator's reports for admins).
    pub async fn import_report(&self, who: &Principal, id: i64) -> AppResult<Vec<u8>> {
        who.require(Permission::ImportExport)?;
        let mut tx = self.store.read().await?;
        let report = tx
            .report(id)
            .await?
            .ok_or(AppError::NotFound { entity: "report" })?;
        if report.user_id != who.user_id {
            return Err(AppError::NotFound { entity: "report" });
        }
        Ok(report.content)
    }

    async fn unit_for(
        &self,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
        building: &str,
        unit: &str,
        floors: i64,
    ) -> AppResult<UnitRow> {
        let filter = Filter {
            community_id: Some(community_id),
            ..Filter::default()
        };
        let buildings = tx.list_buildings(&filter, Page::ALL).await?;
        let building_id = match buildings.items.iter().find(|b| b.number == building) {
            Some(b) => b.id,
            None => {
                let b = crate::registry::text("building", building, 16)?;
                tx.insert_building(&NewBuilding {
                    community_id,
                    name: format!("{b}号楼"),
                    number: b,
                    floors: floors.max(1),
                    x: 0.0,
                    y: 0.0,
                })
                .await?
            }
        };
        let units = tx
            .list_units(
                &Filter {
                    building_id: Some(building_id),
                    ..Filter::default()
                },
                Page::ALL,
            )
            .await?;
        if let Some(u) = units.items.into_iter().find(|u| u.number == unit) {
            return Ok(u);
        }
        let number = crate::registry::text("unit", unit, 16)?;
        let id = tx
            .insert_unit(&NewUnit {
                building_id,
                number: number.clone(),
            })
            .await?;
        Ok(UnitRow {
            id,
            building_id,
            community_id,
            number,
        })
    }

    async fn import_house(
        &self,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
        row: &RawRow,
    ) -> AppResult<Applied> {
        let floor: i64 = number(row, "floor")?;
        let area: f64 = number(row, "area_m2")?;
        let (building, unit_no, house_no) = (
            required(row, "building")?,
            required(row, "unit")?,
            required(row, "number")?,
        );
        let use_kind = required(row, "use")?;
        let unit = self.unit_for(tx, community_id, building, unit_no, floor).await?;
        let new = self.new_house(tx, &unit, house_no, floor, area, use_kind).await?;
        match tx.find_house(community_id, building, unit_no, house_no).await? {
            Some(existing) => {
                tx.update_house(existing.id, &new).await?;
                Ok(Applied::Updated)
            }
            None => {
                tx.insert_house(&new).await?;
                Ok(Applied::Created)
            }
        }
    }

    async fn import_person(
        &self,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
        row: &RawRow,
    ) -> AppResult<Applied> {
        let tags: Vec<String> = row
            .get("tags")
            .map(|t| {
                t.split([',', '，', '、'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        let valid: ValidPerson = self.validate_person(&PersonFields {
            name: required(row, "name")?,
            gender: required(row, "gender")?,
            id_type: required(row, "id_type")?,
            id_number: required(row, "id_number")?,
            phone: row.get("phone"),
            population_type: required(row, "population_type")?,
            tags: &tags,
        })?;
        let house = match (row.get("building"), row.get("unit"), row.get("house")) {
            (None, None, None) => None,
            (Some(b), Some(u), Some(h)) => {
                Some(tx.find_house(community_id, b, u, h).await?.ok_or_else(|| {
                    AppError::invalid(
                        "unknown_house",
                        "house",
                        format!("no house {b}-{u}-{h} in this community"),
                    )
                })?)
            }
            _ => {
                return Err(AppError::invalid(
                    "missing_field",
                    "house",
                    "give building, unit and house together",
                ));
            }
        };
        let relation = match &house {
            Some(h) => Some(Self::validate_relation(&SetPersonHouse {
                house_id: h.id,
                role: row.get("role").unwrap_or("owner").to_string(),
                lease_start: row.get("lease_start").map(String::from),
                lease_end: row.get("lease_end").map(String::from),
                schedule: row.get("schedule").map(String::from),
            })?),
            None => None,
        };
        let new = self.seal_person(community_id, &valid)?;
        let (id, applied) = match tx.person_by_id_index(&new.id_number_index).await? {
            Some(existing) if existing.community_id != community_id => {
                return Err(AppError::invalid(
                    "registered_elsewhere",
                    "id_number",
                    "this person is registered to another community; move them there first",
                ));
            }
            Some(existing) => {
                tx.update_person(existing.id, &new).await?;
                (existing.id, Applied::Updated)
            }
            None => (tx.insert_person(&new).await?, Applied::Created),
        };
        let change = if matches!(applied, Applied::Created) { 0 } else { 1 };
        self.registry_changed(tx, id, change, self.clock.now_ms()).await?;
        if let Some(mut rel) = relation {
            rel.person_id = id;
            tx.upsert_person_house(&rel).await?;
        }
        self.library_changed(tx, community_id, id).await?;
        Ok(applied)
    }

    async fn import_vehicle(
        &self,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
        row: &RawRow,
    ) -> AppResult<Applied> {
        let plate = PlateNumber::parse(required(row, "plate_number")?)
            .map_err(|e| AppError::field("plate_number", e))?;
        let color = PlateColor::parse(required(row, "plate_color")?)
            .map_err(|e| AppError::field("plate_color", e))?;
        let owner = match row.get("owner_id_number") {
            None => None,
            Some(raw) => {
                let normalized = IdDocType::ALL
                    .iter()
                    .find_map(|t| IdNumber::parse(*t, raw).ok())
                    .map(|n| n.as_str().to_string())
                    .unwrap_or_else(|| raw.to_uppercase());
                let person = tx.person_by_id_index(&self.id_index(&normalized)).await?;
                match person {
                    Some(p) if p.community_id == community_id => Some(p.id),
                    _ => {
                        return Err(AppError::invalid(
                            "unknown_owner",
                            "owner_id_number",
                            "no person with this ID number in this community; import persons first",
                        ));
                    }
                }
            }
        };
        let new = NewVehicle {
            community_id,
            plate_number: plate.as_str().into(),
            plate_color: color.as_str().into(),
            owner_person_id: owner,
            parking_space: crate::registry::opt_text("parking_space", row.get("parking_space"), 32)?,
        };
        match tx.vehicle_by_plate(&new.plate_number).await? {
            Some(existing) if existing.community_id != community_id => Err(AppError::invalid(
                "registered_elsewhere",
                "plate_number",
                "this plate is registered to another community",
            )),
            Some(existing) => {
                tx.update_vehicle(existing.id, &new).await?;
                Ok(Applied::Updated)
            }
            None => {
                tx.insert_vehicle(&new).await?;
                Ok(Applied::Created)
            }
        }
    }

    /// Exports a community's houses, persons or vehicles in the import template's layout.
    /// Persons and vehicle owners carry clear ID numbers, so those exports need the right to
    /// read personal data and are audited.
    pub async fn export_sheet(
        &self,
        who: Option<&Principal>,
        kind: SheetKind,
        community_id: i64,
    ) -> AppResult<Vec<u8>> {
        if let Some(who) = who {
            who.require(Permission::ImportExport)?;
            if kind != SheetKind::Houses {
                who.require(Permission::RevealPii)?;
            }
            who.scope.check_whole_community(community_id, "community")?;
        }
        let mut tx = self.store.write().await?;
        tx.community(community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        let filter = Filter {
            community_id: Some(community_id),
            ..Filter::default()
        };
        let mut out: Vec<BTreeMap<&'static str, String>> = Vec::new();
        match kind {
            SheetKind::Houses => {
                let numbers = unit_numbers(&mut tx, &filter).await?;
                for h in tx.list_houses(&filter, Page::ALL).await?.items {
                    let mut m = BTreeMap::new();
                    let (building, unit) = numbers.get(&h.unit_id).cloned().unwrap_or_default();
                    m.insert("building", building);
                    m.insert("unit", unit);
                    m.insert("number", h.number);
                    m.insert("floor", h.floor.to_string());
                    m.insert("area_m2", h.area_m2.to_string());
                    m.insert("use", h.use_kind);
                    out.push(m);
                }
            }
            SheetKind::Persons => {
                let persons = tx.list_persons(&filter, Page::ALL).await?.items;
                let ids: Vec<i64> = persons.iter().map(|p| p.id).collect();
                let relations = tx.person_houses(&ids).await?;
                let houses: BTreeMap<i64, HouseRow> = tx
                    .list_houses(&filter, Page::ALL)
                    .await?
                    .items
                    .into_iter()
                    .map(|h| (h.id, h))
                    .collect();
                let numbers = unit_numbers(&mut tx, &filter).await?;
                for p in persons {
                    let mut m = BTreeMap::new();
                    m.insert("id_number", self.vault.decrypt("id_number", &p.id_number_enc)?);
                    if let Some(phone) = &p.phone_enc {
                        m.insert("phone", self.vault.decrypt("phone", phone)?);
                    }
                    m.insert("name", p.name);
                    m.insert("gender", p.gender);
                    m.insert("id_type", p.id_type);
                    m.insert("population_type", p.population_type);
                    let tags: Vec<String> = serde_json::from_str(&p.tags_json).unwrap_or_default();
                    if !tags.is_empty() {
                        m.insert("tags", tags.join(","));
                    }
                    if let Some(rel) = relations.iter().find(|r| r.person_id == p.id) {
                        if let Some(h) = houses.get(&rel.house_id) {
                            let (building, unit) = numbers.get(&h.unit_id).cloned().unwrap_or_default();
                            m.insert("building", building);
                            m.insert("unit", unit);
                            m.insert("house", h.number.clone());
                        }
                        m.insert("role", rel.role.clone());
                        if let Some(s) = &rel.lease_start {
                            m.insert("lease_start", s.clone());
                        }
                        if let Some(e) = &rel.lease_end {
                            m.insert("lease_end", e.clone());
                        }
                        if let Some(s) = &rel.schedule {
                            m.insert("schedule", s.clone());
                        }
                    }
                    out.push(m);
                }
            }
            SheetKind::Vehicles => {
                for v in tx.list_vehicles(&filter, Page::ALL).await?.items {
                    let mut m = BTreeMap::new();
                    m.insert("plate_number", v.plate_number);
                    m.insert("plate_color", v.plate_color);
                    if let Some(owner) = v.owner_person_id
                        && let Some(p) = tx.person(owner).await?
                    {
                        m.insert(
                            "owner_id_number",
                            self.vault.decrypt("id_number", &p.id_number_enc)?,
                        );
                    }
                    if let Some(space) = v.parking_space {
                        m.insert("parking_space", space);
                    }
                    out.push(m);
                }
            }
        }
        let bytes = excel::write_rows(kind, &out).map_err(|e| AppError::Internal(e.to_string()))?;
        let actor = who.map(Principal::actor).unwrap_or_else(|| "cli".into());
        let audit = self
            .audit(
                &mut tx,
                &actor,
                &format!("export.{}", kind.as_str()),
                &format!("community:{community_id}"),
                json!({"rows": out.len()}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(bytes)
    }
}
