//! The district programme as the government side uses it: each community's build project and
//! its stages, the district's targets and rules as data, and every figure measured from the
//! registry and the data that actually arrived — compliance per required place, installed /
//! networked / active devices per class, coverage against the stated targets and against the
//! sum of their parts, street by street and year by year. Nothing here is typed in: the
//! computations are `anfang_domain::programme`'s, fed from the store.

use crate::cascade::Sends;
use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::model::{CommunityCategory, DeviceKind, PlaceKind, PropertyType};
use anfang_domain::programme::{
    self, DeviceUse, PoliceShare, Segment, Site, SiteBuilding, SiteDevice, SitePlace, SiteUnit, Target,
};
use anfang_store::*;
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use anfang_domain::programme::{
    AssessmentWeights, AwardFormula, Capability, Compliance, DeviceClass, FundingMode, FundingSource,
    Indicators, Need, Stage, Tally, TargetMetric,
};

/// A day in ms.
pub const DAY_MS: i64 = 86_400_000;

/// The default window the networking rate is measured over (days).
pub const DEFAULT_WINDOW_DAYS: i64 = 7;

/// A device heard from within this long is online (heartbeats come every 20–30 s).
pub const ONLINE_WINDOW_MS: i64 = 120_000;

/// Setting names.
pub const TARGETS: &str = "targets";
/// The award formula.
pub const AWARD_FORMULA: &str = "award_formula";
/// The assessment weights.
pub const ASSESSMENT_WEIGHTS: &str = "assessment_weights";
/// The acceptance rules.
pub const ACCEPTANCE_RULES: &str = "acceptance_rules";

/// A target as entered and stored (the domain's [`Target`] with its segment as text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// District or street code.
    pub scope: String,
    /// Year.
    pub year: i32,
    /// `all`, `property_type:commercial+village`, `category:new_built`.
    pub segment: String,
    /// `built` or `networked`.
    pub metric: String,
    /// Percent.
    pub percent: f64,
    /// Where it comes from.
    #[serde(default)]
    pub source: String,
}

impl TargetSpec {
    fn to_target(&self, index: usize) -> AppResult<Target> {
        let field = |name: &str| format!("targets[{index}].{name}");
        Ok(Target {
            scope: self.scope.trim().to_string(),
            year: self.year,
            segment: Segment::parse(&self.segment).map_err(|e| AppError::field(&field("segment"), e))?,
            metric: TargetMetric::parse(&self.metric).map_err(|e| AppError::field(&field("metric"), e))?,
            percent: self.percent,
            source: self.source.trim().to_string(),
        })
    }
}

/// What an acceptance requires of the live data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptanceRules {
    /// Least share of the community's installed devices networked (percent).
    pub min_networked_pct: f64,
    /// Days in a row, ending at the check, with business data.
    pub data_days: i64,
}

impl Default for AcceptanceRules {
    fn default() -> Self {
        AcceptanceRules {
            min_networked_pct: 90.0,
            data_days: 7,
        }
    }
}

impl AcceptanceRules {
    fn validate(&self) -> AppResult<()> {
        if !(0.0..=100.0).contains(&self.min_networked_pct) || !(1..=90).contains(&self.data_days) {
            return Err(AppError::invalid(
                "invalid_rules",
                "acceptance_rules",
                "min_networked_pct is 0–100 and data_days 1–90",
            ));
        }
        Ok(())
    }
}

/// A new build project.
#[derive(Debug, Clone, Default)]
pub struct CreateProject {
    /// The community.
    pub community_id: i64,
    /// Funding mode; the category's by default.
    pub funding_mode: Option<String>,
    /// The year it is to be finished in.
    pub planned_year: i32,
    /// Note for the first step.
    pub note: Option<String>,
}

/// A stage move.
#[derive(Debug, Clone, Default)]
pub struct MoveStage {
    /// The stage to move to.
    pub stage: String,
    /// Note.
    pub note: Option<String>,
    /// The contractor, when the move names one (tendered).
    pub contractor: Option<String>,
}

/// One step of a project's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageStep {
    /// Stage.
    pub stage: Stage,
    /// When (ms).
    pub at: i64,
    /// Who.
    pub actor: String,
    /// Note.
    pub note: String,
}

/// Installed, networked, active per device class.
pub type ClassTallies = BTreeMap<DeviceClass, Tally>;

/// Everything measured of one community.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommunityFigures {
    /// Community id.
    pub community_id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Street id.
    pub street_id: i64,
    /// Street code.
    pub street_code: String,
    /// Street name.
    pub street_name: String,
    /// District code.
    pub district_code: String,
    /// Category.
    pub category: CommunityCategory,
    /// Property type.
    pub property_type: PropertyType,
    /// The project, if one exists.
    pub project_id: Option<i64>,
    /// Funding mode.
    pub funding_mode: Option<FundingMode>,
    /// Planned year.
    pub planned_year: Option<i32>,
    /// Current stage.
    pub stage: Option<Stage>,
    /// When it was reached (ms).
    pub stage_at: Option<i64>,
    /// Contractor.
    pub contractor: Option<String>,
    /// When each stage was first reached (ms).
    pub reached: BTreeMap<Stage, i64>,
    /// Compliance with the category's kit.
    pub compliance: Compliance,
    /// Devices per class.
    pub devices: ClassTallies,
    /// All classes together.
    pub total: Tally,
    /// Days of the window with business data.
    pub data_days: i64,
    /// Devices heard from within [`ONLINE_WINDOW_MS`] of now.
    pub online: u64,
}

impl CommunityFigures {
    /// Whether the community reached `stage` before `until` (ms).
    pub fn reached_before(&self, stage: Stage, until: i64) -> bool {
        self.reached.iter().any(|(s, at)| s.reached(stage) && *at < until)
    }
}

/// A measuring window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// From (ms, inclusive).
    pub since: i64,
    /// To (ms, exclusive).
    pub until: i64,
    /// Whether a police cascade is configured, and for which data.
    pub police_door_records: bool,
    /// Captures go to the police.
    pub police_captures: bool,
}

/// The measured programme over the caller's scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// The window.
    pub window: Window,
    /// Per community, by street code then community code.
    pub communities: Vec<CommunityFigures>,
}

/// A scope level of the networking report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkingRow {
    /// `district`, `street` or `community`.
    pub level: &'static str,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Per class.
    pub classes: ClassTallies,
    /// All classes.
    pub total: Tally,
}

/// One row of the progress report: a target (or, for a scope without one, the district's)
/// against what was reached by the year's end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgressRow {
    /// `district` or `street`.
    pub level: &'static str,
    /// Scope code.
    pub code: String,
    /// Scope name.
    pub name: String,
    /// Year.
    pub year: i32,
    /// Segment (`all`, `property_type:…`).
    pub segment: String,
    /// Segment label.
    pub segment_label: String,
    /// Metric.
    pub metric: TargetMetric,
    /// The stated target (percent), where one applies.
    pub target_pct: Option<f64>,
    /// Where the target comes from: `own` or the district's code it is inherited from.
    pub target_from: Option<String>,
    /// For `all` rows: the rate the property-type parts imply (Σ partᵢ × nᵢ ÷ N).
    pub sum_of_parts_pct: Option<f64>,
    /// Communities in the segment.
    pub communities: u64,
    /// Planned to be finished by that year.
    pub planned: u64,
    /// Reached the metric's stage by the end of the year.
    pub reached: u64,
    /// Reached ÷ communities.
    pub reached_pct: Option<f64>,
    /// Communities still needed to meet the stated target.
    pub short_of_target: Option<u64>,
    /// For the current year, measured now from the registry and the data that arrived: for
    /// `built`, communities whose kit is installed; for `networked`, whose kit is installed and
    /// networked (covered). Stages are what was declared; this is what is there.
    pub covered_now: Option<u64>,
}

/// The district dashboard's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// District code.
    pub district_code: String,
    /// The window of the live figures.
    pub window: Window,
    /// Communities.
    pub communities: u64,
    /// By category.
    pub by_category: BTreeMap<CommunityCategory, u64>,
    /// By stage (communities without a project under `none`).
    pub by_stage: BTreeMap<String, u64>,
    /// Kit complete now.
    pub kit_complete: u64,
    /// Covered now (kit installed and networked).
    pub covered: u64,
    /// Devices per class.
    pub devices: ClassTallies,
    /// All devices.
    pub total: Tally,
    /// The current year's rows for the district.
    pub progress: Vec<ProgressRow>,
    /// Devices online now (heard from within [`ONLINE_WINDOW_MS`]).
    pub online: u64,
    /// Projects by their latest acceptance's status (`open`, `accepted`, `rejected`; `none`:
    /// never requested).
    pub acceptances: BTreeMap<String, u64>,
    /// Awards by status (`computed`, `approved`, `paid`): projects and amount (fen).
    pub awards: BTreeMap<String, AwardTally>,
    /// The projects' funding ledgers added up: planned and actual (fen).
    pub funding_planned_fen: i64,
    /// Actual (paid) funding (fen).
    pub funding_actual_fen: i64,
}

/// Awards of one status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AwardTally {
    /// Projects.
    pub projects: u64,
    /// Amount (fen).
    pub amount_fen: i64,
}

/// A task-table row (the annex's layout: street | community, with stage and compliance).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRow {
    /// Street name.
    pub street: String,
    /// Community code.
    pub code: String,
    /// Community name.
    pub community: String,
    /// Category.
    pub category: CommunityCategory,
    /// Funding mode.
    pub funding_mode: Option<FundingMode>,
    /// Planned year.
    pub planned_year: Option<i32>,
    /// Stage.
    pub stage: Option<Stage>,
    /// Date the stage was reached (CST, `YYYY-MM-DD`).
    pub stage_date: Option<String>,
    /// Required places.
    pub required: u64,
    /// Met.
    pub met: u64,
    /// Met by a networked device.
    pub networked: u64,
    /// What is missing where (`南门：智能岗亭`).
    pub gaps: Vec<String>,
    /// Devices networked ÷ installed (percent).
    pub networked_pct: Option<f64>,
    /// Project id.
    pub project_id: Option<i64>,
    /// Community id.
    pub community_id: i64,
}

/// A project with everything measured about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectDetail {
    /// The figures.
    pub figures: CommunityFigures,
    /// Its history.
    pub history: Vec<StageStep>,
}

/// CST date of a ms instant.
pub fn cst_date(ms: i64) -> String {
    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&cst).format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The CST year of a ms instant.
pub fn cst_year(ms: i64) -> i32 {
    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&cst).year())
        .unwrap_or(1970)
}

impl App {
    /// What the police targets are sent (door records, captures).
    fn police_share(&self) -> PoliceShare {
        let police: Vec<_> = self
            .config
            .cascade_targets
            .iter()
            .filter(|t| t.unmasked)
            .collect();
        PoliceShare {
            door_records: police.iter().any(|t| t.sends.contains(&Sends::DoorRecords)),
            captures: police.iter().any(|t| t.sends.contains(&Sends::Captures)),
        }
    }

    /// A window of `days` ending at `until` (now, inclusive, when none).
    pub fn programme_window(&self, days: i64, until: Option<i64>) -> Window {
        let until = until.unwrap_or_else(|| self.clock.now_ms() + 1);
        let police = self.police_share();
        Window {
            since: until - days.clamp(1, 366) * DAY_MS,
            until,
            police_door_records: police.door_records,
            police_captures: police.captures,
        }
    }

    /// Measures every community in `scope` (all when `None`) over `window`.
    pub(crate) async fn measure(
        &self,
        tx: &mut Box<dyn Tx>,
        scope: Option<&BTreeSet<i64>>,
        window: Window,
    ) -> AppResult<Measured> {
        let filter = Filter {
            community_ids: scope.map(|s| s.iter().copied().collect()),
            ..Filter::default()
        };
        let communities = tx.list_communities(&filter, Page::ALL).await?.items;
        let streets: HashMap<i64, StreetRow> = tx
            .list_streets(&Filter::default(), Page::ALL)
            .await?
            .items
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let ids: Vec<i64> = communities.iter().map(|c| c.id).collect();
        let projects: HashMap<i64, BuildProjectRow> = tx
            .build_projects(scope.map(|_| ids.as_slice()))
            .await?
            .into_iter()
            .map(|p| (p.community_id, p))
            .collect();
        let project_ids: Vec<i64> = projects.values().map(|p| p.id).collect();
        let mut reached: HashMap<i64, BTreeMap<Stage, i64>> = HashMap::new();
        for step in tx.project_stages(scope.map(|_| project_ids.as_slice())).await? {
            if let Ok(stage) = Stage::parse(&step.stage) {
                reached
                    .entry(step.project_id)
                    .or_default()
                    .entry(stage)
                    .or_insert(step.at);
            }
        }
        let places = tx.list_places(&filter, Page::ALL).await?.items;
        let units = tx.list_units(&filter, Page::ALL).await?.items;
        let buildings = tx.list_buildings(&filter, Page::ALL).await?.items;
        let devices = tx.list_devices(&filter, Page::ALL).await?.items;
        let now = self.clock.now_ms();
        let mut data: HashMap<i64, BTreeSet<i64>> = HashMap::new();
        for row in tx.device_days(window.since, window.until).await? {
            if row.records > 0 {
                data.entry(row.device_id).or_default().insert(row.day);
            }
        }
        let police_targets: Vec<String> = self
            .config
            .cascade_targets
            .iter()
            .filter(|t| t.unmasked)
            .map(|t| t.name.clone())
            .collect();
        let acked: BTreeSet<i64> = tx
            .acknowledged_devices(&police_targets, window.since, window.until)
            .await?
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        let police = PoliceShare {
            door_records: window.police_door_records,
            captures: window.police_captures,
        };
        let building_names: HashMap<i64, &BuildingRow> = buildings.iter().map(|b| (b.id, b)).collect();
        let mut out = Vec::with_capacity(communities.len());
        for c in &communities {
            let Some(street) = streets.get(&c.street_id) else {
                continue;
            };
            let category = CommunityCategory::parse(&c.category).unwrap_or(CommunityCategory::ExistingClosed);
            let property_type = PropertyType::parse(&c.property_type).unwrap_or(PropertyType::Commercial);
            let mut tallies = ClassTallies::new();
            let mut total = Tally::default();
            let mut site_devices = Vec::new();
            let mut days = BTreeSet::new();
            let mut online = 0;
            for d in devices.iter().filter(|d| d.community_id == Some(c.id)) {
                let Ok(kind) = DeviceKind::parse(&d.kind) else {
                    continue;
                };
                online += u64::from(d.last_seen_at.is_some_and(|t| now - t <= ONLINE_WINDOW_MS));
                let device_days = data.get(&d.id);
                if let Some(dd) = device_days {
                    days.extend(dd.iter().copied());
                }
                let used = DeviceUse {
                    seen_in_window: d
                        .last_seen_at
                        .is_some_and(|t| t >= window.since && t < window.until),
                    data_in_window: device_days.is_some(),
                    police_acked: acked.contains(&d.id),
                };
                let (networked, active) = programme::device_state(kind, used, police);
                tallies
                    .entry(DeviceClass::of(kind))
                    .or_default()
                    .add(networked, active);
                total.add(networked, active);
                site_devices.push(SiteDevice {
                    id: d.id,
                    kind,
                    place_id: d.place_id,
                    at: d.x.zip(d.y),
                    networked,
                });
            }
            let site = Site {
                category,
                places: places
                    .iter()
                    .filter(|p| p.community_id == c.id)
                    .filter_map(|p| {
                        Some(SitePlace {
                            id: p.id,
                            kind: PlaceKind::parse(&p.kind).ok()?,
                            name: p.name.clone(),
                            attended: p.attended,
                            unit_id: p.unit_id,
                        })
                    })
                    .collect(),
                units: units
                    .iter()
                    .filter(|u| u.community_id == c.id)
                    .map(|u| SiteUnit {
                        id: u.id,
                        name: format!(
                            "{}号楼{}单元",
                            building_names
                                .get(&u.building_id)
                                .map(|b| b.number.as_str())
                                .unwrap_or("?"),
                            u.number
                        ),
                    })
                    .collect(),
                buildings: buildings
                    .iter()
                    .filter(|b| b.community_id == c.id)
                    .map(|b| SiteBuilding {
                        id: b.id,
                        name: format!("{}号楼", b.number),
                        x: b.x,
                        y: b.y,
                    })
                    .collect(),
                devices: site_devices,
            };
            let project = projects.get(&c.id);
            out.push(CommunityFigures {
                community_id: c.id,
                code: c.code.clone(),
                name: c.name.clone(),
                street_id: street.id,
                street_code: street.code.clone(),
                street_name: street.name.clone(),
                district_code: street.district_code.clone(),
                category,
                property_type,
                project_id: project.map(|p| p.id),
                funding_mode: project.and_then(|p| FundingMode::parse(&p.funding_mode).ok()),
                planned_year: project.map(|p| p.planned_year as i32),
                stage: project.and_then(|p| Stage::parse(&p.stage).ok()),
                stage_at: project.map(|p| p.stage_at),
                contractor: project.and_then(|p| p.contractor.clone()),
                reached: project
                    .and_then(|p| reached.get(&p.id).cloned())
                    .unwrap_or_default(),
                compliance: programme::compliance(&site),
                devices: tallies,
                total,
                data_days: days.len() as i64,
                online,
            });
        }
        out.sort_by(|a, b| (&a.street_code, &a.code).cmp(&(&b.street_code, &b.code)));
        Ok(Measured {
            window,
            communities: out,
        })
    }

    /// A project the caller's scope covers as a whole community (not found otherwise).
    pub(crate) async fn project_in_scope(
        tx: &mut Box<dyn Tx>,
        who: &Principal,
        project_id: i64,
    ) -> AppResult<BuildProjectRow> {
        let project = tx
            .build_project(project_id)
            .await?
            .ok_or(AppError::NotFound { entity: "project" })?;
        who.scope.check_whole_community(project.community_id, "project")?;
        Ok(project)
    }

    /// A district's setting for a reader whose scope reaches the district.
    async fn read_setting<T: for<'de> Deserialize<'de>>(
        &self,
        who: &Principal,
        district: &str,
        name: &str,
        default: T,
    ) -> AppResult<T> {
        Self::programme_scope(who)?;
        let mut tx = self.store.read().await?;
        Self::check_district_scope(&mut tx, who, district).await?;
        self.programme_setting_of(&mut tx, district, name, default).await
    }

    /// The district code of a community.
    pub(crate) async fn district_of(tx: &mut Box<dyn Tx>, community_id: i64) -> AppResult<String> {
        let community = tx
            .community(community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        let streets = tx.list_streets(&Filter::default(), Page::ALL).await?.items;
        streets
            .into_iter()
            .find(|s| s.id == community.street_id)
            .map(|s| s.district_code)
            .ok_or(AppError::NotFound { entity: "community" })
    }

    /// Fails with not-found unless the caller's scope reaches into `district` (a district-wide
    /// scope reaches every one).
    pub(crate) async fn check_district_scope(
        tx: &mut Box<dyn Tx>,
        who: &Principal,
        district: &str,
    ) -> AppResult<()> {
        check_district(district)?;
        if who.scope.all {
            return Ok(());
        }
        for id in who.scope.communities.iter().copied() {
            if Self::district_of(tx, id).await? == district {
                return Ok(());
            }
        }
        Err(AppError::NotFound { entity: "district" })
    }

    /// The caller's communities (all when their scope is the district).
    pub(crate) fn programme_scope(who: &Principal) -> AppResult<Option<&BTreeSet<i64>>> {
        who.require(Permission::ReadProgramme)?;
        if who.scope.houses.is_some() {
            return Err(AppError::Forbidden(
                "the programme is not shown to house scopes".into(),
            ));
        }
        Ok((!who.scope.all).then_some(&who.scope.communities))
    }

    /// Measures the caller's scope over the last `days` (to `until`, now by default).
    pub async fn programme_measured(
        &self,
        who: &Principal,
        days: Option<i64>,
        until: Option<i64>,
    ) -> AppResult<Measured> {
        let scope = Self::programme_scope(who)?;
        let window = self.programme_window(days.unwrap_or(DEFAULT_WINDOW_DAYS), until);
        let mut tx = self.store.read().await?;
        self.measure(&mut tx, scope, window).await
    }

    /// The district codes the caller sees, with their street count.
    pub async fn programme_districts(&self, who: &Principal) -> AppResult<Vec<(String, u64)>> {
        let measured = self.programme_measured(who, Some(1), None).await?;
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for c in &measured.communities {
            out.entry(c.district_code.clone())
                .or_default()
                .insert(c.street_code.clone());
        }
        Ok(out.into_iter().map(|(d, s)| (d, s.len() as u64)).collect())
    }

    /// Creates a community's build project at `planned`.
    pub async fn create_project(&self, who: &Principal, req: &CreateProject) -> AppResult<ProjectDetail> {
        who.require(Permission::ManageProgramme)?;
        who.scope.check_whole_community(req.community_id, "community")?;
        if !(2000..=2100).contains(&req.planned_year) {
            return Err(AppError::invalid(
                "invalid_year",
                "planned_year",
                "a year is 2000–2100",
            ));
        }
        let mut tx = self.store.write().await?;
        let community = tx
            .community(req.community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        let mode = match &req.funding_mode {
            Some(m) => FundingMode::parse(m).map_err(|e| AppError::field("funding_mode", e))?,
            None => FundingMode::for_category(
                CommunityCategory::parse(&community.category).unwrap_or(CommunityCategory::ExistingClosed),
            ),
        };
        if !tx.build_projects(Some(&[community.id])).await?.is_empty() {
            return Err(AppError::Conflict {
                code: "project_exists",
                message: format!("{} already has a build project", community.name),
            });
        }
        let now = self.clock.now_ms();
        let id = tx
            .insert_build_project(&BuildProjectRow {
                id: 0,
                community_id: community.id,
                funding_mode: mode.as_str().into(),
                planned_year: i64::from(req.planned_year),
                stage: Stage::Planned.as_str().into(),
                stage_at: now,
                contractor: None,
                created_at: now,
            })
            .await?;
        tx.insert_project_stage(&ProjectStageRow {
            id: 0,
            project_id: id,
            stage: Stage::Planned.as_str().into(),
            at: now,
            actor: who.actor(),
            note: note_text(req.note.as_deref())?,
        })
        .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "programme.project_create",
                &format!("project:{id}"),
                json!({"community": community.id, "funding_mode": mode.as_str(), "planned_year": req.planned_year}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        self.project(who, id).await
    }

    /// Moves a project one stage forward by hand (not into or out of acceptance).
    pub async fn move_project(
        &self,
        who: &Principal,
        project_id: i64,
        req: &MoveStage,
    ) -> AppResult<ProjectDetail> {
        who.require(Permission::ManageProgramme)?;
        let to = Stage::parse(&req.stage).map_err(|e| AppError::field("stage", e))?;
        let contractor = match req.contractor.as_deref().map(str::trim) {
            Some("") | None => None,
            Some(c) if c.chars().count() > 100 => {
                return Err(AppError::invalid(
                    "invalid_value",
                    "contractor",
                    "a contractor's name is at most 100 characters",
                ));
            }
            Some(c) => Some(c.to_string()),
        };
        let mut tx = self.store.write().await?;
        let project = Self::project_in_scope(&mut tx, who, project_id).await?;
        let from = Stage::parse(&project.stage).map_err(|e| AppError::Internal(e.message))?;
        from.check_manual_move(to).map_err(|e| AppError::Conflict {
            code: e.code,
            message: e.message,
        })?;
        let now = self.clock.now_ms();
        if to == Stage::Networked {
            // Networked is a measured fact: every required place has a networked device.
            let window = self.programme_window(DEFAULT_WINDOW_DAYS, None);
            let scope = BTreeSet::from([project.community_id]);
            let measured = self.measure(&mut tx, Some(&scope), window).await?;
            let figures = measured
                .communities
                .first()
                .ok_or(AppError::NotFound { entity: "community" })?;
            if !figures.compliance.covered() {
                return Err(AppError::Conflict {
                    code: "not_networked",
                    message: format!(
                        "{} of {} required places have a networked device in the last {} days",
                        figures.compliance.networked(),
                        figures.compliance.required(),
                        DEFAULT_WINDOW_DAYS
                    ),
                });
            }
        }
        tx.set_project_stage(project_id, to.as_str(), now, contractor.as_deref())
            .await?;
        tx.insert_project_stage(&ProjectStageRow {
            id: 0,
            project_id,
            stage: to.as_str().into(),
            at: now,
            actor: who.actor(),
            note: note_text(req.note.as_deref())?,
        })
        .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "programme.stage",
                &format!("project:{project_id}"),
                json!({"from": from.as_str(), "to": to.as_str(), "contractor": contractor}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        self.project(who, project_id).await
    }

    /// A project with its figures and history.
    pub async fn project(&self, who: &Principal, project_id: i64) -> AppResult<ProjectDetail> {
        who.require(Permission::ReadProgramme)?;
        let mut tx = self.store.read().await?;
        let project = Self::project_in_scope(&mut tx, who, project_id).await?;
        let window = self.programme_window(DEFAULT_WINDOW_DAYS, None);
        let scope = BTreeSet::from([project.community_id]);
        let figures = self
            .measure(&mut tx, Some(&scope), window)
            .await?
            .communities
            .pop()
            .ok_or(AppError::NotFound { entity: "community" })?;
        let history = tx
            .project_stages(Some(&[project_id]))
            .await?
            .into_iter()
            .filter_map(|s| {
                Some(StageStep {
                    stage: Stage::parse(&s.stage).ok()?,
                    at: s.at,
                    actor: s.actor,
                    note: s.note,
                })
            })
            .collect();
        Ok(ProjectDetail { figures, history })
    }

    /// The community figures of a project's community (any scope the caller has).
    pub async fn community_figures(&self, who: &Principal, community_id: i64) -> AppResult<CommunityFigures> {
        let scope = Self::programme_scope(who)?;
        if let Some(scope) = scope
            && !scope.contains(&community_id)
        {
            return Err(AppError::NotFound { entity: "community" });
        }
        let window = self.programme_window(DEFAULT_WINDOW_DAYS, None);
        let mut tx = self.store.read().await?;
        self.measure(&mut tx, Some(&BTreeSet::from([community_id])), window)
            .await?
            .communities
            .pop()
            .ok_or(AppError::NotFound { entity: "community" })
    }

    /// A district's setting, or its default.
    pub(crate) async fn programme_setting_of<T: for<'de> Deserialize<'de>>(
        &self,
        tx: &mut Box<dyn Tx>,
        district: &str,
        name: &str,
        default: T,
    ) -> AppResult<T> {
        match tx.programme_setting(district, name).await? {
            Some(text) => serde_json::from_str(&text).map_err(|e| AppError::Internal(format!("{name}: {e}"))),
            None => Ok(default),
        }
    }

    async fn targets_of(&self, tx: &mut Box<dyn Tx>, district: &str) -> AppResult<Vec<Target>> {
        let specs: Vec<TargetSpec> = self
            .programme_setting_of(tx, district, TARGETS, Vec::new())
            .await?;
        specs.iter().enumerate().map(|(i, s)| s.to_target(i)).collect()
    }

    /// A district's targets as entered.
    pub async fn programme_targets(&self, who: &Principal, district: &str) -> AppResult<Vec<TargetSpec>> {
        self.read_setting(who, district, TARGETS, Vec::new()).await
    }

    fn require_district_manager(who: &Principal) -> AppResult<()> {
        who.require(Permission::ManageProgramme)?;
        if !who.scope.all {
            return Err(AppError::Forbidden(
                "district settings are changed at district level".into(),
            ));
        }
        Ok(())
    }

    /// Replaces a district's targets (validated as a set; audited).
    pub async fn set_programme_targets(
        &self,
        who: &Principal,
        district: &str,
        specs: &[TargetSpec],
    ) -> AppResult<()> {
        Self::require_district_manager(who)?;
        check_district(district)?;
        if specs.len() > 500 {
            return Err(AppError::invalid("too_many", "targets", "at most 500 targets"));
        }
        let targets: Vec<Target> = specs
            .iter()
            .enumerate()
            .map(|(i, s)| s.to_target(i))
            .collect::<AppResult<_>>()?;
        programme::validate_targets(&targets).map_err(|e| AppError::field("targets", e))?;
        let normal: Vec<TargetSpec> = targets
            .iter()
            .map(|t| TargetSpec {
                scope: t.scope.clone(),
                year: t.year,
                segment: t.segment.to_string(),
                metric: t.metric.as_str().into(),
                percent: t.percent,
                source: t.source.clone(),
            })
            .collect();
        self.set_setting(who, district, TARGETS, &normal).await
    }

    async fn set_setting<T: Serialize>(
        &self,
        who: &Principal,
        district: &str,
        name: &str,
        value: &T,
    ) -> AppResult<()> {
        let body = serde_json::to_string(value).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.store.write().await?;
        tx.set_programme_setting(district, name, &body, self.clock.now_ms(), &who.actor())
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "programme.setting",
                &format!("district:{district}"),
                json!({"name": name, "value": serde_json::to_value(value).unwrap_or_default()}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await
    }

    /// A district's award formula (the default until one is entered).
    pub async fn award_formula(&self, who: &Principal, district: &str) -> AppResult<AwardFormula> {
        self.read_setting(who, district, AWARD_FORMULA, AwardFormula::default())
            .await
    }

    /// Sets a district's award formula.
    pub async fn set_award_formula(
        &self,
        who: &Principal,
        district: &str,
        formula: &AwardFormula,
    ) -> AppResult<()> {
        Self::require_district_manager(who)?;
        check_district(district)?;
        formula.validate().map_err(|e| AppError::field("formula", e))?;
        self.set_setting(who, district, AWARD_FORMULA, formula).await
    }

    /// A district's assessment weights.
    pub async fn assessment_weights(&self, who: &Principal, district: &str) -> AppResult<AssessmentWeights> {
        self.read_setting(who, district, ASSESSMENT_WEIGHTS, AssessmentWeights::default())
            .await
    }

    /// Sets a district's assessment weights.
    pub async fn set_assessment_weights(
        &self,
        who: &Principal,
        district: &str,
        weights: &AssessmentWeights,
    ) -> AppResult<()> {
        Self::require_district_manager(who)?;
        check_district(district)?;
        weights.validate().map_err(|e| AppError::field("weights", e))?;
        self.set_setting(who, district, ASSESSMENT_WEIGHTS, weights).await
    }

    /// A district's acceptance rules.
    pub async fn acceptance_rules(&self, who: &Principal, district: &str) -> AppResult<AcceptanceRules> {
        self.read_setting(who, district, ACCEPTANCE_RULES, AcceptanceRules::default())
            .await
    }

    /// Sets a district's acceptance rules.
    pub async fn set_acceptance_rules(
        &self,
        who: &Principal,
        district: &str,
        rules: &AcceptanceRules,
    ) -> AppResult<()> {
        Self::require_district_manager(who)?;
        check_district(district)?;
        rules.validate()?;
        self.set_setting(who, district, ACCEPTANCE_RULES, rules).await
    }

    /// The networking rate per district, street and community, per device class.
    pub async fn networking_report(
        &self,
        who: &Principal,
        days: Option<i64>,
    ) -> AppResult<(Window, Vec<NetworkingRow>)> {
        let measured = self.programme_measured(who, days, None).await?;
        Ok((measured.window, networking_rows(&measured.communities)))
    }

    /// The annex-style task table.
    pub async fn task_table(&self, who: &Principal, district: Option<&str>) -> AppResult<Vec<TaskRow>> {
        if let Some(district) = district {
            Self::programme_scope(who)?;
            let mut tx = self.store.read().await?;
            Self::check_district_scope(&mut tx, who, district).await?;
        }
        let measured = self.programme_measured(who, None, None).await?;
        Ok(task_rows(&measured.communities, district))
    }

    /// Progress against the targets, for the district and each of its streets, per target year
    /// and the current year.
    pub async fn progress_report(&self, who: &Principal, district: &str) -> AppResult<Vec<ProgressRow>> {
        let scope = Self::programme_scope(who)?;
        let window = self.programme_window(DEFAULT_WINDOW_DAYS, None);
        let mut tx = self.store.read().await?;
        Self::check_district_scope(&mut tx, who, district).await?;
        let measured = self.measure(&mut tx, scope, window).await?;
        let targets = self.targets_of(&mut tx, district).await?;
        Ok(progress_rows(
            &measured.communities,
            district,
            &targets,
            cst_year(window.until),
        ))
    }

    /// The dashboard's numbers for a district.
    pub async fn programme_summary(&self, who: &Principal, district: &str) -> AppResult<Summary> {
        let scope = Self::programme_scope(who)?;
        let window = self.programme_window(DEFAULT_WINDOW_DAYS, None);
        let mut tx = self.store.read().await?;
        Self::check_district_scope(&mut tx, who, district).await?;
        let measured = self.measure(&mut tx, scope, window).await?;
        let targets = self.targets_of(&mut tx, district).await?;
        let year = cst_year(window.until);
        let mine: Vec<&CommunityFigures> = measured
            .communities
            .iter()
            .filter(|c| c.district_code == district)
            .collect();
        let mut summary = Summary {
            district_code: district.to_string(),
            window,
            communities: mine.len() as u64,
            by_category: BTreeMap::new(),
            by_stage: BTreeMap::new(),
            kit_complete: 0,
            covered: 0,
            devices: ClassTallies::new(),
            total: Tally::default(),
            progress: progress_rows(&measured.communities, district, &targets, year)
                .into_iter()
                .filter(|r| r.level == "district" && r.year == year)
                .collect(),
            online: 0,
            acceptances: BTreeMap::new(),
            awards: BTreeMap::new(),
            funding_planned_fen: 0,
            funding_actual_fen: 0,
        };
        let project_ids: Vec<i64> = mine.iter().filter_map(|c| c.project_id).collect();
        for id in &project_ids {
            // Newest first: the first is the project's current acceptance.
            let status = match tx.acceptances(*id).await?.first() {
                Some(a) => a.status.clone(),
                None => "none".into(),
            };
            *summary.acceptances.entry(status).or_default() += 1;
        }
        if !project_ids.is_empty() {
            for award in tx.awards(Some(&project_ids)).await? {
                let tally = summary.awards.entry(award.status).or_default();
                tally.projects += 1;
                tally.amount_fen += award.amount_fen;
            }
            for line in tx.funding_entries(Some(&project_ids)).await? {
                if line.kind == "planned" {
                    summary.funding_planned_fen += line.amount_fen;
                } else {
                    summary.funding_actual_fen += line.amount_fen;
                }
            }
        }
        for c in mine {
            summary.online += c.online;
            *summary.by_category.entry(c.category).or_default() += 1;
            let stage = c
                .stage
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "none".into());
            *summary.by_stage.entry(stage).or_default() += 1;
            summary.kit_complete += u64::from(c.compliance.complete());
            summary.covered += u64::from(c.compliance.covered());
            for (class, t) in &c.devices {
                summary.devices.entry(*class).or_default().merge(t);
            }
            summary.total.merge(&c.total);
        }
        Ok(summary)
    }
}

fn check_district(district: &str) -> AppResult<()> {
    if district.len() != 6 || !district.chars().all(|c| c.is_ascii_digit()) {
        return Err(AppError::invalid(
            "invalid_district",
            "district",
            "a district is its 6-digit administrative code, e.g. 370303",
        ));
    }
    Ok(())
}

fn note_text(note: Option<&str>) -> AppResult<String> {
    let note = note.unwrap_or_default().trim();
    if note.chars().count() > 500 {
        return Err(AppError::invalid(
            "invalid_value",
            "note",
            "a note is at most 500 characters",
        ));
    }
    Ok(note.to_string())
}

/// The networking rows: the districts, then their streets, then their communities.
pub fn networking_rows(communities: &[CommunityFigures]) -> Vec<NetworkingRow> {
    let mut districts: BTreeMap<String, NetworkingRow> = BTreeMap::new();
    let mut streets: BTreeMap<String, NetworkingRow> = BTreeMap::new();
    let mut rows = Vec::new();
    for c in communities {
        for (level, code, name, map) in [
            ("district", &c.district_code, &c.district_code, &mut districts),
            ("street", &c.street_code, &c.street_name, &mut streets),
        ] {
            let row = map.entry(code.clone()).or_insert_with(|| NetworkingRow {
                level,
                code: code.clone(),
                name: name.clone(),
                classes: ClassTallies::new(),
                total: Tally::default(),
            });
            for (class, t) in &c.devices {
                row.classes.entry(*class).or_default().merge(t);
            }
            row.total.merge(&c.total);
        }
        rows.push(NetworkingRow {
            level: "community",
            code: c.code.clone(),
            name: c.name.clone(),
            classes: c.devices.clone(),
            total: c.total,
        });
    }
    districts
        .into_values()
        .chain(streets.into_values())
        .chain(rows)
        .collect()
}

/// The task table's rows for a district (all when `None`).
pub fn task_rows(communities: &[CommunityFigures], district: Option<&str>) -> Vec<TaskRow> {
    communities
        .iter()
        .filter(|c| district.is_none_or(|d| c.district_code == d))
        .map(|c| TaskRow {
            street: c.street_name.clone(),
            code: c.code.clone(),
            community: c.name.clone(),
            category: c.category,
            funding_mode: c.funding_mode,
            planned_year: c.planned_year,
            stage: c.stage,
            stage_date: c.stage_at.map(cst_date),
            required: c.compliance.required() as u64,
            met: c.compliance.met() as u64,
            networked: c.compliance.networked() as u64,
            gaps: c
                .compliance
                .gaps()
                .map(|n| format!("{}：{}", n.place, n.capability.label_zh()))
                .collect(),
            networked_pct: c.total.networked_pct(),
            project_id: c.project_id,
            community_id: c.community_id,
        })
        .collect()
}

/// Progress rows for `district` and its streets: for every year a target names (and the
/// current one), each target of the scope — a street without its own targets inherits the
/// district's — against what the scope's communities reached by the end of that year.
pub fn progress_rows(
    communities: &[CommunityFigures],
    district: &str,
    targets: &[Target],
    current_year: i32,
) -> Vec<ProgressRow> {
    let mine: Vec<&CommunityFigures> = communities
        .iter()
        .filter(|c| c.district_code == district)
        .collect();
    let mut years: BTreeSet<i32> = targets.iter().map(|t| t.year).collect();
    years.insert(current_year);
    let mut scopes: Vec<(&'static str, String, String)> =
        vec![("district", district.to_string(), district.to_string())];
    let mut seen = BTreeSet::new();
    for c in &mine {
        if seen.insert(c.street_code.clone()) {
            scopes.push(("street", c.street_code.clone(), c.street_name.clone()));
        }
    }
    let mut rows = Vec::new();
    for (level, code, name) in &scopes {
        let members: Vec<&&CommunityFigures> = mine
            .iter()
            .filter(|c| *level == "district" || c.street_code == *code)
            .collect();
        let own: Vec<&Target> = targets.iter().filter(|t| t.scope == *code).collect();
        let (applied, from): (Vec<&Target>, Option<String>) = if own.is_empty() && *level == "street" {
            (
                targets.iter().filter(|t| t.scope == district).collect(),
                Some(district.to_string()),
            )
        } else {
            (own, Some("own".to_string()))
        };
        let counts: BTreeMap<PropertyType, u64> = members.iter().fold(BTreeMap::new(), |mut m, c| {
            *m.entry(c.property_type).or_default() += 1;
            m
        });
        // The targets as a list the sum-of-parts reads, re-scoped to this scope.
        let rescoped: Vec<Target> = applied
            .iter()
            .map(|t| Target {
                scope: code.clone(),
                ..(*t).clone()
            })
            .collect();
        for year in &years {
            let end = programme::year_end_ms(*year);
            let mut this_year: Vec<(Segment, TargetMetric, Option<f64>)> = applied
                .iter()
                .filter(|t| t.year == *year)
                .map(|t| (t.segment.clone(), t.metric, Some(t.percent)))
                .collect();
            if !this_year
                .iter()
                .any(|(s, m, _)| *s == Segment::All && *m == TargetMetric::Built)
            {
                this_year.insert(0, (Segment::All, TargetMetric::Built, None));
            }
            for (segment, metric, target_pct) in this_year {
                let in_segment: Vec<&&&CommunityFigures> = members
                    .iter()
                    .filter(|c| segment.contains(c.category, c.property_type))
                    .collect();
                let n = in_segment.len() as u64;
                let reached = in_segment
                    .iter()
                    .filter(|c| c.reached_before(metric.stage(), end))
                    .count() as u64;
                let planned = in_segment
                    .iter()
                    .filter(|c| c.planned_year.is_some_and(|y| y <= *year))
                    .count() as u64;
                let sum_of_parts = (segment == Segment::All)
                    .then(|| programme::sum_of_parts(&rescoped, code, *year, metric, &counts))
                    .flatten();
                let short = target_pct.map(|t| {
                    let needed = (t * n as f64 / 100.0 - 1e-9).ceil().max(0.0) as u64;
                    needed.saturating_sub(reached)
                });
                let covered_now = (*year == current_year).then(|| {
                    in_segment
                        .iter()
                        .filter(|c| match metric {
                            TargetMetric::Built => c.compliance.complete(),
                            TargetMetric::Networked => c.compliance.covered(),
                        })
                        .count() as u64
                });
                rows.push(ProgressRow {
                    level,
                    code: code.clone(),
                    name: name.clone(),
                    year: *year,
                    segment: segment.to_string(),
                    segment_label: segment.label_zh(),
                    metric,
                    target_pct,
                    target_from: target_pct.and(from.clone()),
                    sum_of_parts_pct: sum_of_parts,
                    communities: n,
                    planned,
                    reached,
                    reached_pct: programme::pct(reached, n),
                    short_of_target: short,
                    covered_now,
                });
            }
        }
    }
    rows
}
