//! The district programme (智慧安防小区建设): what a community of each category must have
//! installed (the Yiyuan opinions §4 and the Zhangdian reading §(二)), computed place by place
//! from the device registry; the build project's stages; how a device counts as installed,
//! networked (联网) and active; yearly targets as data, with the "sum of the parts" a set of
//! segment targets implies; the award-in-place-of-subsidy (以奖代补) formula; and the street
//! assessment's (考核) weighted score.
//!
//! Everything here is a pure function of its inputs: the application gathers the registry,
//! the stage history and the measured device activity, and these functions give the figures,
//! so every figure on the dashboard is computed, never typed in.

use crate::DomainError;
use crate::model::{CommunityCategory, DeviceKind, PlaceKind, PropertyType, string_enum};
use chrono::{Datelike, FixedOffset, NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

string_enum!(
    /// A build project's stage, in order. A project moves one stage forward at a time; the
    /// acceptance stages are set by the acceptance itself.
    Stage, "invalid_stage", {
    /// 已列入计划.
    Planned => ("planned", "已列入计划"),
    /// 已设计.
    Designed => ("designed", "已设计"),
    /// 已招标.
    Tendered => ("tendered", "已招标"),
    /// 施工中.
    UnderConstruction => ("under_construction", "施工中"),
    /// 已自检.
    SelfChecked => ("self_checked", "已自检"),
    /// 已申请验收.
    AcceptanceRequested => ("acceptance_requested", "已申请验收"),
    /// 已验收.
    Accepted => ("accepted", "已验收"),
    /// 已联网.
    Networked => ("networked", "已联网"),
});

impl Stage {
    /// Position in the order (planned = 0).
    pub fn rank(self) -> usize {
        Stage::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    /// Whether the project has reached `other` (or gone past it).
    pub fn reached(self, other: Stage) -> bool {
        self.rank() >= other.rank()
    }

    /// The stage after this one.
    pub fn next(self) -> Option<Stage> {
        Stage::ALL.get(self.rank() + 1).copied()
    }

    /// Checks a move made by hand: exactly one stage forward, never into or out of the
    /// acceptance stages (an acceptance request, its sign-off or its rejection moves those).
    pub fn check_manual_move(self, to: Stage) -> Result<(), DomainError> {
        let refuse = |why: String| Err(DomainError::new("invalid_stage_move", why));
        if matches!(to, Stage::AcceptanceRequested | Stage::Accepted) {
            return refuse(format!(
                "'{}' is set by the acceptance: request acceptance, then the sign-offs accept",
                to.as_str()
            ));
        }
        if self.next() != Some(to) {
            return refuse(format!(
                "a project at '{}' can move only to '{}'",
                self.as_str(),
                self.next()
                    .map(Stage::as_str)
                    .unwrap_or("(nothing: it is finished)")
            ));
        }
        Ok(())
    }
}

string_enum!(
    /// Who pays for the build (Yiyuan opinions §3).
    FundingMode, "invalid_funding_mode", {
    /// 开发商投资: new-built communities.
    Developer => ("developer", "开发商投资"),
    /// 物业服务单位组织、专项维修资金: existing closed communities.
    PropertyFund => ("property_fund", "物业及维修资金"),
    /// 县、镇（街道）、村（居）共同出资: open old communities and villages.
    CoFunded => ("co_funded", "县镇村共同出资"),
});

impl FundingMode {
    /// The documents' mode for a category.
    pub fn for_category(category: CommunityCategory) -> FundingMode {
        match category {
            CommunityCategory::NewBuilt => FundingMode::Developer,
            CommunityCategory::ExistingClosed => FundingMode::PropertyFund,
            _ => FundingMode::CoFunded,
        }
    }
}

string_enum!(
    /// A line of the funding ledger ("财政补贴一块，街道社区拿一块，物业、维修资金出一块，承建公司让一块").
    FundingSource, "invalid_funding_source", {
    /// 县（区）财政.
    CountyFinance => ("county_finance", "财政资金"),
    /// 街道、社区.
    StreetCommunity => ("street_community", "街道社区"),
    /// 物业服务企业.
    PropertyCompany => ("property_company", "物业公司"),
    /// 专项维修资金.
    MaintenanceFund => ("maintenance_fund", "专项维修资金"),
    /// 承建单位让利.
    ContractorConcession => ("contractor_concession", "承建单位让利"),
    /// 房地产开发商.
    Developer => ("developer", "开发商"),
});

string_enum!(
    /// What a required place must have.
    Capability, "invalid_capability", {
    /// 人脸门禁: a face access terminal.
    FaceAccess => ("face_access", "人脸门禁"),
    /// 人脸抓拍: a face capture camera.
    FaceCapture => ("face_capture", "人脸抓拍"),
    /// 人脸识别: a face access terminal or a face capture camera.
    FaceRecognition => ("face_recognition", "人脸识别"),
    /// 车牌识别道闸.
    PlateGate => ("plate_gate", "车牌识别道闸"),
    /// 车牌识别: a barrier gate or a plate capture camera.
    PlateRecognition => ("plate_recognition", "车牌识别"),
    /// 人员车辆采集: any face or plate capturing device.
    Collection => ("collection", "人员车辆采集"),
    /// 周界防护.
    Perimeter => ("perimeter", "周界防护"),
    /// 电子巡查.
    Patrol => ("patrol", "电子巡查"),
    /// 智能岗亭 with one-key call.
    Booth => ("booth", "智能岗亭"),
    /// 视频接力覆盖: a video camera within reach of the building.
    VideoRelay => ("video_relay", "视频接力覆盖"),
});

impl Capability {
    /// Whether a device of `kind` provides this capability.
    pub fn satisfied_by(self, kind: DeviceKind) -> bool {
        use DeviceKind::*;
        match self {
            Capability::FaceAccess => kind == FaceDoorTerminal,
            Capability::FaceCapture => kind == FaceCaptureCamera,
            Capability::FaceRecognition => matches!(kind, FaceDoorTerminal | FaceCaptureCamera),
            Capability::PlateGate => kind == BarrierGate,
            Capability::PlateRecognition => matches!(kind, BarrierGate | PlateCaptureCamera),
            Capability::Collection => matches!(kind, FaceCaptureCamera | PlateCaptureCamera | BarrierGate),
            Capability::Perimeter => kind == PerimeterSensor,
            Capability::Patrol => kind == PatrolCheckpoint,
            Capability::Booth => kind == SmartBooth,
            Capability::VideoRelay => kind == VideoCamera,
        }
    }
}

/// How far (site-plan metres) a video camera may be from a building for the building to
/// count as covered by the relay (楼与楼之间实现监控接力覆盖).
pub const RELAY_REACH_M: f64 = 60.0;

/// Where a kit rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Every place of this kind; `required` when the community must have at least one.
    Places { kind: PlaceKind, required: bool },
    /// Every unattended place of this kind.
    Unattended(PlaceKind),
    /// Every unit of the registry, at its unit door.
    EachUnit,
    /// Every building, by distance on the site plan.
    EachBuilding,
    /// Anywhere in the community, at least one.
    Community,
}

/// The required kit of a category as (where, what) rules. Behaviour recognition and, for
/// the open categories, perimeter and patrol are promoted (推广使用), not required, so they
/// are not counted.
fn kit(category: CommunityCategory) -> Vec<(At, Capability)> {
    use At::*;
    use Capability::*;
    use PlaceKind::*;
    match category {
        CommunityCategory::NewBuilt => vec![
            (EachUnit, FaceAccess),
            (
                Places {
                    kind: PedestrianEntrance,
                    required: true,
                },
                FaceCapture,
            ),
            (
                Places {
                    kind: VehicleLane,
                    required: false,
                },
                PlateGate,
            ),
            (
                Places {
                    kind: CarPark,
                    required: false,
                },
                PlateGate,
            ),
            (
                Places {
                    kind: GarageEntrance,
                    required: false,
                },
                PlateGate,
            ),
            (EachBuilding, VideoRelay),
        ],
        CommunityCategory::ExistingClosed => vec![
            (
                Places {
                    kind: PedestrianEntrance,
                    required: true,
                },
                FaceRecognition,
            ),
            (
                Places {
                    kind: VehicleLane,
                    required: false,
                },
                PlateRecognition,
            ),
            (
                Places {
                    kind: CarPark,
                    required: false,
                },
                Collection,
            ),
            (
                Places {
                    kind: PerimeterZone,
                    required: false,
                },
                Perimeter,
            ),
            (Community, Patrol),
            (Unattended(PedestrianEntrance), Booth),
        ],
        CommunityCategory::OpenClosable => vec![
            (
                Places {
                    kind: PedestrianEntrance,
                    required: true,
                },
                FaceAccess,
            ),
            (
                Places {
                    kind: VehicleLane,
                    required: false,
                },
                PlateGate,
            ),
            (Unattended(PedestrianEntrance), Booth),
        ],
        CommunityCategory::OpenVideoOnly | CommunityCategory::Village => vec![
            (
                Places {
                    kind: RoadPoint,
                    required: true,
                },
                FaceCapture,
            ),
            (
                Places {
                    kind: RoadPoint,
                    required: true,
                },
                PlateRecognition,
            ),
        ],
    }
}

/// A place of the site plan, as compliance needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct SitePlace {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: PlaceKind,
    /// Name.
    pub name: String,
    /// Whether someone is on duty there.
    pub attended: bool,
    /// The unit a unit door belongs to.
    pub unit_id: Option<i64>,
}

/// A unit of the registry.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteUnit {
    /// Id.
    pub id: i64,
    /// Its name, e.g. `3号楼2单元`.
    pub name: String,
}

/// A building with its position on the site plan.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteBuilding {
    /// Id.
    pub id: i64,
    /// Name, e.g. `3号楼`.
    pub name: String,
    /// x (m).
    pub x: f64,
    /// y (m).
    pub y: f64,
}

/// An installed device.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteDevice {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: DeviceKind,
    /// The place it serves.
    pub place_id: Option<i64>,
    /// Position on the site plan.
    pub at: Option<(f64, f64)>,
    /// Whether it is networked in the measuring window (see [`device_state`]).
    pub networked: bool,
}

/// One community's registry as compliance reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Category.
    pub category: CommunityCategory,
    /// Places.
    pub places: Vec<SitePlace>,
    /// Units.
    pub units: Vec<SiteUnit>,
    /// Buildings.
    pub buildings: Vec<SiteBuilding>,
    /// Installed devices.
    pub devices: Vec<SiteDevice>,
}

/// One required thing at one place, with the devices that provide it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Need {
    /// What is needed.
    pub capability: Capability,
    /// The place (none when the place itself is missing, or for community-wide needs).
    pub place_id: Option<i64>,
    /// Where, in words: the place's name, `3号楼2单元（未登记单元门）`, `（未登记人行出入口）`.
    pub place: String,
    /// The place's kind.
    pub place_kind: Option<PlaceKind>,
    /// Devices providing it.
    pub devices: Vec<i64>,
    /// Whether one of them is networked.
    pub networked: bool,
}

impl Need {
    /// Whether something provides it.
    pub fn met(&self) -> bool {
        !self.devices.is_empty()
    }
}

/// A community's compliance with its category's kit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Compliance {
    /// Every need, in kit order.
    pub needs: Vec<Need>,
}

impl Compliance {
    /// Needs in all.
    pub fn required(&self) -> usize {
        self.needs.len()
    }

    /// Needs met by an installed device.
    pub fn met(&self) -> usize {
        self.needs.iter().filter(|n| n.met()).count()
    }

    /// Needs met by a networked device.
    pub fn networked(&self) -> usize {
        self.needs.iter().filter(|n| n.networked).count()
    }

    /// Every need met (建成: the kit is installed).
    pub fn complete(&self) -> bool {
        self.met() == self.required()
    }

    /// Covered (覆盖): every need met by a device that is networked. This is the definition
    /// the dashboard's live coverage uses.
    pub fn covered(&self) -> bool {
        self.networked() == self.required()
    }

    /// What is missing, where.
    pub fn gaps(&self) -> impl Iterator<Item = &Need> {
        self.needs.iter().filter(|n| !n.met())
    }
}

/// Computes compliance from the registry, place by place.
pub fn compliance(site: &Site) -> Compliance {
    let mut needs = Vec::new();
    let provide = |capability: Capability, place_id: Option<i64>| -> (Vec<i64>, bool) {
        let found: Vec<&SiteDevice> = site
            .devices
            .iter()
            .filter(|d| capability.satisfied_by(d.kind) && (place_id.is_none() || d.place_id == place_id))
            .collect();
        (
            found.iter().map(|d| d.id).collect(),
            found.iter().any(|d| d.networked),
        )
    };
    for (at, capability) in kit(site.category) {
        match at {
            At::Places { kind, required } => {
                let places: Vec<&SitePlace> = site.places.iter().filter(|p| p.kind == kind).collect();
                if places.is_empty() && required {
                    needs.push(Need {
                        capability,
                        place_id: None,
                        place: format!("（未登记{}）", kind.label_zh()),
                        place_kind: Some(kind),
                        devices: Vec::new(),
                        networked: false,
                    });
                }
                for place in places {
                    let (devices, networked) = provide(capability, Some(place.id));
                    needs.push(Need {
                        capability,
                        place_id: Some(place.id),
                        place: place.name.clone(),
                        place_kind: Some(kind),
                        devices,
                        networked,
                    });
                }
            }
            At::Unattended(kind) => {
                for place in site.places.iter().filter(|p| p.kind == kind && !p.attended) {
                    let (devices, networked) = provide(capability, Some(place.id));
                    needs.push(Need {
                        capability,
                        place_id: Some(place.id),
                        place: place.name.clone(),
                        place_kind: Some(kind),
                        devices,
                        networked,
                    });
                }
            }
            At::EachUnit => {
                for unit in &site.units {
                    let door = site
                        .places
                        .iter()
                        .find(|p| p.kind == PlaceKind::UnitDoor && p.unit_id == Some(unit.id));
                    let need = match door {
                        Some(door) => {
                            let (devices, networked) = provide(capability, Some(door.id));
                            Need {
                                capability,
                                place_id: Some(door.id),
                                place: door.name.clone(),
                                place_kind: Some(PlaceKind::UnitDoor),
                                devices,
                                networked,
                            }
                        }
                        None => Need {
                            capability,
                            place_id: None,
                            place: format!("{}（未登记单元门）", unit.name),
                            place_kind: Some(PlaceKind::UnitDoor),
                            devices: Vec::new(),
                            networked: false,
                        },
                    };
                    needs.push(need);
                }
            }
            At::EachBuilding => {
                for building in &site.buildings {
                    let near: Vec<&SiteDevice> = site
                        .devices
                        .iter()
                        .filter(|d| capability.satisfied_by(d.kind))
                        .filter(|d| {
                            d.at.is_some_and(|(x, y)| (x - building.x).hypot(y - building.y) <= RELAY_REACH_M)
                        })
                        .collect();
                    needs.push(Need {
                        capability,
                        place_id: None,
                        place: building.name.clone(),
                        place_kind: None,
                        devices: near.iter().map(|d| d.id).collect(),
                        networked: near.iter().any(|d| d.networked),
                    });
                }
            }
            At::Community => {
                let (devices, networked) = provide(capability, None);
                needs.push(Need {
                    capability,
                    place_id: None,
                    place: "（全小区）".into(),
                    place_kind: None,
                    devices,
                    networked,
                });
            }
        }
    }
    Compliance { needs }
}

string_enum!(
    /// A device class as the networking rate is reported.
    DeviceClass, "invalid_device_class", {
    /// 门禁: face access terminals and door controllers (access records).
    Access => ("access", "门禁"),
    /// 车辆: barrier gates and plate capture cameras (plate reads).
    Vehicle => ("vehicle", "车辆识别"),
    /// 人脸抓拍 (captures).
    Capture => ("capture", "人脸抓拍"),
    /// 视频: cameras and NVRs.
    Video => ("video", "视频监控"),
    /// 报警: perimeter sensors and alarm buttons.
    Alarm => ("alarm", "周界报警"),
    /// 巡查: checkpoints and readers (scans).
    Patrol => ("patrol", "电子巡查"),
    /// 岗亭 (calls).
    Booth => ("booth", "智能岗亭"),
});

impl DeviceClass {
    /// The class of a device kind.
    pub fn of(kind: DeviceKind) -> DeviceClass {
        use DeviceKind::*;
        match kind {
            FaceDoorTerminal | DoorController => DeviceClass::Access,
            BarrierGate | PlateCaptureCamera => DeviceClass::Vehicle,
            FaceCaptureCamera => DeviceClass::Capture,
            VideoCamera | Nvr => DeviceClass::Video,
            PerimeterSensor | AlarmButton => DeviceClass::Alarm,
            PatrolCheckpoint | PatrolReader => DeviceClass::Patrol,
            SmartBooth => DeviceClass::Booth,
        }
    }

    /// Whether the class produces business data (records, captures, reads, scans, calls);
    /// video and alarm devices do not (an alarm is an exception, not a flow), so for them
    /// active means networked.
    pub fn has_business_data(self) -> bool {
        !matches!(self, DeviceClass::Video | DeviceClass::Alarm)
    }
}

/// What the configured police targets are sent (empty when no police cascade is configured).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoliceShare {
    /// Door-access records.
    pub door_records: bool,
    /// Captures (faces, persons, vehicles).
    pub captures: bool,
}

impl PoliceShare {
    /// Whether a device of `kind` counts as networked only once the police acknowledged its
    /// data: its data is of a kind the police target is sent. Gate plate reads and video are
    /// not sent upward as records, so they count on arrival alone.
    pub fn needs_ack(self, kind: DeviceKind) -> bool {
        match kind {
            DeviceKind::FaceDoorTerminal | DeviceKind::DoorController => self.door_records,
            DeviceKind::FaceCaptureCamera | DeviceKind::PlateCaptureCamera => self.captures,
            _ => false,
        }
    }
}

/// What was measured of one device in the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceUse {
    /// Its last message of any kind (heartbeat included), when inside the window.
    pub seen_in_window: bool,
    /// Business data (records, captures, plate reads, scans, calls) inside the window.
    pub data_in_window: bool,
    /// The police platform acknowledged some of its data inside the window.
    pub police_acked: bool,
}

/// Installed, networked, active, for one device: networked when its data (or heartbeat)
/// reached the platform in the window and, where the police are sent its data, they
/// acknowledged some; active when business data arrived (or, for classes without business
/// data, when networked).
pub fn device_state(kind: DeviceKind, used: DeviceUse, police: PoliceShare) -> (bool, bool) {
    let arrived = used.seen_in_window || used.data_in_window;
    let networked = arrived && (!police.needs_ack(kind) || used.police_acked);
    let active = if DeviceClass::of(kind).has_business_data() {
        used.data_in_window
    } else {
        networked
    };
    (networked, active)
}

/// Installed, networked and active counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Installed (registered and assigned to a community).
    pub installed: u64,
    /// Networked.
    pub networked: u64,
    /// Active.
    pub active: u64,
}

impl Tally {
    /// Adds one device.
    pub fn add(&mut self, networked: bool, active: bool) {
        self.installed += 1;
        self.networked += u64::from(networked);
        self.active += u64::from(active);
    }

    /// Adds another tally.
    pub fn merge(&mut self, other: &Tally) {
        self.installed += other.installed;
        self.networked += other.networked;
        self.active += other.active;
    }

    /// 联网率: networked ÷ installed, in percent (none when nothing is installed).
    pub fn networked_pct(&self) -> Option<f64> {
        pct(self.networked, self.installed)
    }

    /// Active ÷ installed, in percent.
    pub fn active_pct(&self) -> Option<f64> {
        pct(self.active, self.installed)
    }
}

/// `part ÷ whole` in percent, rounded to 0.01; none when `whole` is 0.
pub fn pct(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round2(part as f64 * 100.0 / whole as f64))
}

/// Rounds to two decimals.
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Which communities a target is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// All communities of the scope.
    All,
    /// Communities of these property types (the parts the sum is made of).
    PropertyTypes(Vec<PropertyType>),
    /// Communities of these categories.
    Categories(Vec<CommunityCategory>),
}

impl Segment {
    /// Parses `all`, `property_type:commercial+village` or `category:new_built`.
    pub fn parse(raw: &str) -> Result<Segment, DomainError> {
        let raw = raw.trim();
        if raw == "all" {
            return Ok(Segment::All);
        }
        let bad = || {
            DomainError::new(
                "invalid_segment",
                format!("'{raw}': use all, property_type:commercial+village or category:new_built"),
            )
        };
        let (kind, list) = raw.split_once(':').ok_or_else(bad)?;
        let items = list.split('+').map(str::trim).filter(|s| !s.is_empty());
        let segment = match kind.trim() {
            "property_type" => {
                Segment::PropertyTypes(items.map(PropertyType::parse).collect::<Result<_, _>>()?)
            }
            "category" => Segment::Categories(items.map(CommunityCategory::parse).collect::<Result<_, _>>()?),
            _ => return Err(bad()),
        };
        match &segment {
            Segment::PropertyTypes(v) if v.is_empty() => Err(bad()),
            Segment::Categories(v) if v.is_empty() => Err(bad()),
            _ => Ok(segment),
        }
    }

    /// Whether a community falls in the segment.
    pub fn contains(&self, category: CommunityCategory, property: PropertyType) -> bool {
        match self {
            Segment::All => true,
            Segment::PropertyTypes(types) => types.contains(&property),
            Segment::Categories(cats) => cats.contains(&category),
        }
    }

    /// The label shown in tables, e.g. `全部小区`, `商品房小区+村居`.
    pub fn label_zh(&self) -> String {
        match self {
            Segment::All => "全部小区".into(),
            Segment::PropertyTypes(v) => v.iter().map(|t| t.label_zh()).collect::<Vec<_>>().join("+"),
            Segment::Categories(v) => v.iter().map(|t| t.label_zh()).collect::<Vec<_>>().join("+"),
        }
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Segment::All => f.write_str("all"),
            Segment::PropertyTypes(v) => {
                let names: Vec<&str> = v.iter().map(|t| t.as_str()).collect();
                write!(f, "property_type:{}", names.join("+"))
            }
            Segment::Categories(v) => {
                let names: Vec<&str> = v.iter().map(|t| t.as_str()).collect();
                write!(f, "category:{}", names.join("+"))
            }
        }
    }
}

string_enum!(
    /// What a target measures.
    TargetMetric, "invalid_target_metric", {
    /// 建设覆盖率: communities built (accepted) by the end of the year.
    Built => ("built", "建设覆盖率"),
    /// 联网率: communities networked by the end of the year.
    Networked => ("networked", "联网率"),
});

impl TargetMetric {
    /// The stage a community must have reached to count.
    pub fn stage(self) -> Stage {
        match self {
            TargetMetric::Built => Stage::Accepted,
            TargetMetric::Networked => Stage::Networked,
        }
    }
}

/// One target: by the end of `year`, `percent` of the `segment`'s communities in `scope`
/// (a district or street code) have reached the metric's stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// District or street code.
    pub scope: String,
    /// Year.
    pub year: i32,
    /// Communities it is about.
    pub segment: Segment,
    /// What it measures.
    pub metric: TargetMetric,
    /// Percent, 0–100.
    pub percent: f64,
    /// Where it comes from (e.g. the document and section), for the table.
    pub source: String,
}

impl Target {
    /// Checks the fields.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.scope.is_empty() || !self.scope.chars().all(|c| c.is_ascii_digit()) {
            return Err(DomainError::new(
                "invalid_target",
                "a target's scope is a district or street code (digits)",
            ));
        }
        if !(2000..=2100).contains(&self.year) {
            return Err(DomainError::new("invalid_target", "a target's year is 2000–2100"));
        }
        if !(0.0..=100.0).contains(&self.percent) || !self.percent.is_finite() {
            return Err(DomainError::new("invalid_target", "a target's percent is 0–100"));
        }
        if self.source.chars().count() > 200 {
            return Err(DomainError::new(
                "invalid_target",
                "a target's source is at most 200 characters",
            ));
        }
        Ok(())
    }
}

/// Checks a set of targets: each valid, no two for the same (scope, year, segment, metric),
/// and the property-type parts of one (scope, year, metric) disjoint.
pub fn validate_targets(targets: &[Target]) -> Result<(), DomainError> {
    let mut seen = std::collections::BTreeSet::new();
    let mut parts: BTreeMap<(String, i32, TargetMetric), Vec<PropertyType>> = BTreeMap::new();
    for t in targets {
        t.validate()?;
        if !seen.insert((t.scope.clone(), t.year, t.segment.to_string(), t.metric)) {
            return Err(DomainError::new(
                "duplicate_target",
                format!(
                    "two targets for {} {} {} {}",
                    t.scope, t.year, t.segment, t.metric
                ),
            ));
        }
        if let Segment::PropertyTypes(types) = &t.segment {
            let used = parts.entry((t.scope.clone(), t.year, t.metric)).or_default();
            for ty in types {
                if used.contains(ty) {
                    return Err(DomainError::new(
                        "overlapping_targets",
                        format!("{} appears in two parts of {} {}", ty.as_str(), t.scope, t.year),
                    ));
                }
                used.push(*ty);
            }
        }
    }
    Ok(())
}

/// The overall rate a set of property-type parts implies for (`scope`, `year`, `metric`):
/// Σ partᵢ% × nᵢ ÷ N over the scope's `counts` of communities per property type. A property
/// type without a part that year keeps its latest earlier part (a target once set stays);
/// one never given a part counts 0. None when no part applies or the scope is empty.
pub fn sum_of_parts(
    targets: &[Target],
    scope: &str,
    year: i32,
    metric: TargetMetric,
    counts: &BTreeMap<PropertyType, u64>,
) -> Option<f64> {
    let total: u64 = counts.values().sum();
    if total == 0 {
        return None;
    }
    let mut any = false;
    let mut expected = 0.0;
    for (ty, n) in counts {
        let part = targets
            .iter()
            .filter(|t| t.scope == scope && t.metric == metric && t.year <= year)
            .filter(|t| matches!(&t.segment, Segment::PropertyTypes(v) if v.contains(ty)))
            .max_by_key(|t| t.year);
        if let Some(part) = part {
            any = true;
            expected += part.percent * *n as f64;
        }
    }
    any.then(|| round2(expected / total as f64))
}

/// The end of a year in China Standard Time, in ms since the epoch (the instant the next year
/// begins).
pub fn year_end_ms(year: i32) -> i64 {
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    cst.with_ymd_and_hms(year + 1, 1, 1, 0, 0, 0)
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or(i64::MAX)
}

/// The first instant of a month (`YYYY-MM`) and of the next, in CST ms.
pub fn month_bounds(month: &str) -> Result<(i64, i64), DomainError> {
    let bad = || DomainError::new("invalid_month", format!("'{month}' is not a month like 2021-06"));
    let date = NaiveDate::parse_from_str(&format!("{}-01", month.trim()), "%Y-%m-%d").map_err(|_| bad())?;
    let next = if date.month() == 12 {
        NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
    }
    .ok_or_else(bad)?;
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    let at = |d: NaiveDate| {
        cst.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"))
            .single()
            .map(|t| t.timestamp_millis())
            .ok_or_else(bad)
    };
    Ok((at(date)?, at(next)?))
}

/// The award-in-place-of-subsidy rule (以奖代补): the documents leave the amounts to a later
/// measure ("具体补助办法另行制定"), so a district enters its own. Amounts in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwardFormula {
    /// Funding modes that receive an award (Zhangdian: closed communities built by the property).
    pub modes: Vec<FundingMode>,
    /// A fixed amount per accepted project.
    pub base_fen: i64,
    /// An amount per required place the kit covers (each unit door, lane, entrance …).
    pub per_place_fen: i64,
    /// A share, in basis points (1/100 of a percent), of what the eligible sources actually paid.
    pub share_bp: i64,
    /// The sources whose actual spending the share applies to.
    pub share_of: Vec<FundingSource>,
    /// Added, in basis points of the subtotal, when accepted by the end of the planned year.
    pub on_time_bonus_bp: i64,
    /// The most one project receives.
    pub cap_fen: i64,
}

impl Default for AwardFormula {
    fn default() -> Self {
        AwardFormula {
            modes: vec![FundingMode::PropertyFund],
            base_fen: 2_000_000,
            per_place_fen: 50_000,
            share_bp: 3_000,
            share_of: vec![FundingSource::PropertyCompany, FundingSource::MaintenanceFund],
            on_time_bonus_bp: 1_000,
            cap_fen: 20_000_000,
        }
    }
}

impl AwardFormula {
    /// Checks the amounts.
    pub fn validate(&self) -> Result<(), DomainError> {
        let amounts = [self.base_fen, self.per_place_fen, self.cap_fen];
        if amounts.iter().any(|a| *a < 0 || *a > 10_000_000_000) {
            return Err(DomainError::new(
                "invalid_formula",
                "award amounts are 0–100 000 000 yuan, in fen",
            ));
        }
        let mut sources = self.share_of.clone();
        sources.sort();
        sources.dedup();
        if sources.len() != self.share_of.len() {
            return Err(DomainError::new(
                "invalid_formula",
                "a funding source appears twice in share_of",
            ));
        }
        if !(0..=10_000).contains(&self.share_bp) || !(0..=10_000).contains(&self.on_time_bonus_bp) {
            return Err(DomainError::new(
                "invalid_formula",
                "award shares are 0–10000 basis points",
            ));
        }
        Ok(())
    }
}

/// What an award is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AwardInputs {
    /// The project's funding mode.
    pub mode: FundingMode,
    /// Required places of the kit (compliance's needs).
    pub required_places: i64,
    /// Actual payments per source.
    pub actual: BTreeMap<FundingSource, i64>,
    /// Accepted by the end of its planned year.
    pub on_time: bool,
}

/// A computed award with its lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Award {
    /// Whether the project's mode receives one.
    pub eligible: bool,
    /// Total (fen).
    pub amount_fen: i64,
    /// The lines: (what, fen).
    pub lines: Vec<(String, i64)>,
}

/// Computes the award: base + per place × places + share × eligible spending, plus the
/// on-time bonus on that subtotal, capped. Integer fen throughout, shares rounded down.
pub fn award(formula: &AwardFormula, inputs: &AwardInputs) -> Award {
    if !formula.modes.contains(&inputs.mode) {
        return Award {
            eligible: false,
            amount_fen: 0,
            lines: vec![(format!("{}不在以奖代补范围", inputs.mode.label_zh()), 0)],
        };
    }
    let mut lines = vec![("基础奖励".to_string(), formula.base_fen)];
    let places = formula
        .per_place_fen
        .saturating_mul(inputs.required_places.max(0));
    lines.push((format!("按点位奖励（{}个点位）", inputs.required_places), places));
    let spent: i128 = formula
        .share_of
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|s| i128::from(inputs.actual.get(s).copied().unwrap_or(0).max(0)))
        .sum();
    let share = i64::try_from(spent * i128::from(formula.share_bp) / 10_000).unwrap_or(i64::MAX);
    lines.push((
        format!(
            "按实际投入比例奖励（{}.{:02}%）",
            formula.share_bp / 100,
            formula.share_bp % 100
        ),
        share,
    ));
    let subtotal = formula.base_fen.saturating_add(places).saturating_add(share);
    if inputs.on_time && formula.on_time_bonus_bp > 0 {
        let bonus = (i128::from(subtotal) * i128::from(formula.on_time_bonus_bp) / 10_000) as i64;
        lines.push(("按期完成奖励".to_string(), bonus));
    }
    let total: i64 = lines.iter().fold(0i64, |acc, (_, v)| acc.saturating_add(*v));
    let amount = total.min(formula.cap_fen);
    if amount < total {
        lines.push(("封顶扣减".to_string(), amount - total));
    }
    Award {
        eligible: true,
        amount_fen: amount,
        lines,
    }
}

/// The street assessment's weights (考核方案), any non-negative integers; a street's score is
/// the weighted mean of its indicators × 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentWeights {
    /// Built share against the year's target.
    pub coverage: u32,
    /// 联网率 of installed devices.
    pub networking: u32,
    /// Alarms handled within their SLA (never escalated).
    pub alarm_sla: u32,
    /// Maintenance tickets repaired within the contractor's SLA.
    pub maintenance_sla: u32,
    /// Devices located on the site plan (what compliance and the relay coverage are computed from).
    pub data_quality: u32,
}

impl Default for AssessmentWeights {
    fn default() -> Self {
        AssessmentWeights {
            coverage: 30,
            networking: 25,
            alarm_sla: 20,
            maintenance_sla: 15,
            data_quality: 10,
        }
    }
}

impl AssessmentWeights {
    /// Checks that some weight is set and none is absurd.
    pub fn validate(&self) -> Result<(), DomainError> {
        let all = [
            self.coverage,
            self.networking,
            self.alarm_sla,
            self.maintenance_sla,
            self.data_quality,
        ];
        if all.iter().all(|w| *w == 0) || all.iter().any(|w| *w > 1000) {
            return Err(DomainError::new(
                "invalid_weights",
                "weights are 0–1000 and at least one is above 0",
            ));
        }
        Ok(())
    }
}

/// One street's indicators for a month, each a fraction 0–1, or none when there was nothing
/// to measure (no alarms, no tickets): a missing indicator is left out and the other weights
/// carry the score, so a quiet month neither rewards nor punishes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Indicators {
    /// Built share ÷ target share, at most 1.
    pub coverage: Option<f64>,
    /// Networked ÷ installed.
    pub networking: Option<f64>,
    /// Alarms never escalated ÷ alarms raised.
    pub alarm_sla: Option<f64>,
    /// Tickets within SLA ÷ tickets due.
    pub maintenance_sla: Option<f64>,
    /// Devices located on the site plan ÷ installed.
    pub data_quality: Option<f64>,
}

/// A fraction, or none for 0 ÷ 0.
pub fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The coverage indicator: the built share against the target, at most 1; without a target,
/// the built share itself.
pub fn coverage_indicator(built: u64, total: u64, target_pct: Option<f64>) -> Option<f64> {
    let share = ratio(built, total)?;
    Some(match target_pct {
        Some(t) if t > 0.0 => (share * 100.0 / t).min(1.0),
        _ => share,
    })
}

/// The weighted score, 0–100 to 0.01; none when no weighted indicator has data.
pub fn score(weights: &AssessmentWeights, ind: &Indicators) -> Option<f64> {
    let pairs = [
        (weights.coverage, ind.coverage),
        (weights.networking, ind.networking),
        (weights.alarm_sla, ind.alarm_sla),
        (weights.maintenance_sla, ind.maintenance_sla),
        (weights.data_quality, ind.data_quality),
    ];
    let mut sum = 0.0;
    let mut weight = 0u32;
    for (w, v) in pairs {
        if let Some(v) = v
            && w > 0
        {
            sum += f64::from(w) * v.clamp(0.0, 1.0);
            weight += w;
        }
    }
    (weight > 0).then(|| round2(sum * 100.0 / f64::from(weight)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(id: i64, kind: PlaceKind, name: &str, attended: bool, unit: Option<i64>) -> SitePlace {
        SitePlace {
            id,
            kind,
            name: name.into(),
            attended,
            unit_id: unit,
        }
    }

    fn device(id: i64, kind: DeviceKind, place: Option<i64>, networked: bool) -> SiteDevice {
        SiteDevice {
            id,
            kind,
            place_id: place,
            at: None,
            networked,
        }
    }

    #[test]
    fn stages_move_one_forward_and_acceptance_is_not_typed_in() {
        assert!(Stage::Planned.check_manual_move(Stage::Designed).is_ok());
        assert!(Stage::Planned.check_manual_move(Stage::Tendered).is_err());
        assert!(Stage::Designed.check_manual_move(Stage::Planned).is_err());
        let err = Stage::SelfChecked
            .check_manual_move(Stage::AcceptanceRequested)
            .unwrap_err();
        assert_eq!(err.code, "invalid_stage_move");
        assert!(Stage::Accepted.check_manual_move(Stage::Networked).is_ok());
        assert!(Stage::Networked.check_manual_move(Stage::Networked).is_err());
        assert!(Stage::Networked.reached(Stage::Accepted));
        assert!(!Stage::SelfChecked.reached(Stage::Accepted));
    }

    #[test]
    fn a_closed_community_lists_exactly_what_is_missing_where() {
        let site = Site {
            category: CommunityCategory::ExistingClosed,
            places: vec![
                place(1, PlaceKind::PedestrianEntrance, "南门", true, None),
                place(2, PlaceKind::PedestrianEntrance, "北门", false, None),
                place(3, PlaceKind::VehicleLane, "南门入口车道", true, None),
                place(4, PlaceKind::PerimeterZone, "东侧围墙", false, None),
                place(5, PlaceKind::CarPark, "地面停车场", false, None),
            ],
            units: vec![],
            buildings: vec![],
            devices: vec![
                device(10, DeviceKind::FaceDoorTerminal, Some(1), true),
                device(11, DeviceKind::FaceCaptureCamera, Some(2), false),
                device(12, DeviceKind::BarrierGate, Some(3), true),
                device(13, DeviceKind::PatrolCheckpoint, None, true),
                // A booth at the attended gate does not serve the unattended one.
                device(14, DeviceKind::SmartBooth, Some(1), true),
            ],
        };
        let c = compliance(&site);
        // 2 entrances + 1 lane + 1 car park + 1 perimeter zone + patrol + 1 unattended booth.
        assert_eq!(c.required(), 7);
        assert_eq!(c.met(), 4);
        assert_eq!(c.networked(), 3);
        assert!(!c.complete() && !c.covered());
        let gaps: Vec<(Capability, &str)> = c.gaps().map(|n| (n.capability, n.place.as_str())).collect();
        assert_eq!(
            gaps,
            vec![
                (Capability::Collection, "地面停车场"),
                (Capability::Perimeter, "东侧围墙"),
                (Capability::Booth, "北门"),
            ]
        );
    }

    #[test]
    fn a_new_built_community_needs_every_unit_door_and_relay_video_at_every_building() {
        let mut site = Site {
            category: CommunityCategory::NewBuilt,
            places: vec![
                place(1, PlaceKind::PedestrianEntrance, "南门", true, None),
                place(2, PlaceKind::UnitDoor, "1号楼1单元门", false, Some(100)),
            ],
            units: vec![
                SiteUnit {
                    id: 100,
                    name: "1号楼1单元".into(),
                },
                SiteUnit {
                    id: 101,
                    name: "1号楼2单元".into(),
                },
            ],
            buildings: vec![
                SiteBuilding {
                    id: 7,
                    name: "1号楼".into(),
                    x: 0.0,
                    y: 0.0,
                },
                SiteBuilding {
                    id: 8,
                    name: "2号楼".into(),
                    x: 200.0,
                    y: 0.0,
                },
            ],
            devices: vec![
                device(10, DeviceKind::FaceCaptureCamera, Some(1), true),
                device(11, DeviceKind::FaceDoorTerminal, Some(2), true),
                SiteDevice {
                    id: 12,
                    kind: DeviceKind::VideoCamera,
                    place_id: None,
                    at: Some((30.0, 40.0)),
                    networked: true,
                },
            ],
        };
        let c = compliance(&site);
        assert_eq!(c.required(), 5);
        let gaps: Vec<&str> = c.gaps().map(|n| n.place.as_str()).collect();
        assert_eq!(gaps, vec!["1号楼2单元（未登记单元门）", "2号楼"]);
        // A camera 50 m from the second building closes the last gap but one.
        site.devices.push(SiteDevice {
            id: 13,
            kind: DeviceKind::VideoCamera,
            place_id: None,
            at: Some((170.0, 40.0)),
            networked: false,
        });
        let c = compliance(&site);
        assert_eq!(c.met(), 4);
        assert_eq!(c.networked(), 3);
    }

    #[test]
    fn an_open_community_without_road_points_shows_the_missing_points() {
        let site = Site {
            category: CommunityCategory::Village,
            places: vec![],
            units: vec![],
            buildings: vec![],
            devices: vec![],
        };
        let c = compliance(&site);
        assert_eq!(c.required(), 2);
        assert!(c.gaps().all(|n| n.place == "（未登记道路点位）"));
    }

    #[test]
    fn networked_needs_data_in_the_window_and_the_police_acknowledgement_where_configured() {
        let police = PoliceShare {
            door_records: true,
            captures: false,
        };
        let seen = DeviceUse {
            seen_in_window: true,
            data_in_window: false,
            police_acked: false,
        };
        // A gate heard from but never used: networked, not active.
        assert_eq!(device_state(DeviceKind::BarrierGate, seen, police), (true, false));
        // A door terminal with records the police never acknowledged: not networked.
        let used = DeviceUse {
            data_in_window: true,
            ..seen
        };
        assert_eq!(
            device_state(DeviceKind::FaceDoorTerminal, used, police),
            (false, true)
        );
        let acked = DeviceUse {
            police_acked: true,
            ..used
        };
        assert_eq!(
            device_state(DeviceKind::FaceDoorTerminal, acked, police),
            (true, true)
        );
        // Video: active means networked.
        assert_eq!(device_state(DeviceKind::VideoCamera, seen, police), (true, true));
        assert_eq!(
            device_state(DeviceKind::VideoCamera, DeviceUse::default(), police),
            (false, false)
        );
        let mut t = Tally::default();
        t.add(true, false);
        t.add(false, false);
        t.add(true, true);
        assert_eq!(t.networked_pct(), Some(66.67));
        assert_eq!(t.active_pct(), Some(33.33));
    }

    fn zhangdian_targets() -> Vec<Target> {
        let t = |year, segment: &str, metric, percent| Target {
            scope: "370303".into(),
            year,
            segment: Segment::parse(segment).unwrap(),
            metric,
            percent,
            source: String::new(),
        };
        vec![
            t(2020, "all", TargetMetric::Built, 80.0),
            t(2021, "all", TargetMetric::Built, 90.0),
            t(2022, "all", TargetMetric::Built, 100.0),
            t(2020, "property_type:old", TargetMetric::Built, 100.0),
            t(
                2020,
                "property_type:commercial+village",
                TargetMetric::Built,
                60.0,
            ),
            t(
                2021,
                "property_type:commercial+village",
                TargetMetric::Built,
                80.0,
            ),
            t(2021, "category:new_built", TargetMetric::Built, 100.0),
            t(
                2022,
                "property_type:commercial+village",
                TargetMetric::Built,
                100.0,
            ),
            t(2022, "all", TargetMetric::Networked, 100.0),
        ]
    }

    #[test]
    fn zhangdians_parts_do_not_add_up_to_its_stated_rates() {
        let targets = zhangdian_targets();
        validate_targets(&targets).unwrap();
        let counts = BTreeMap::from([
            (PropertyType::Old, 210),
            (PropertyType::Commercial, 225),
            (PropertyType::Village, 40),
        ]);
        let sum = |year| sum_of_parts(&targets, "370303", year, TargetMetric::Built, &counts);
        // (210 + 0.6 × 265) ÷ 475 and (210 + 0.8 × 265) ÷ 475, against the stated 80 and 90.
        assert_eq!(sum(2020), Some(77.68));
        assert_eq!(sum(2021), Some(88.84));
        assert_eq!(sum(2022), Some(100.0));
        assert_eq!(sum(2019), None);
        assert_eq!(
            sum_of_parts(&targets, "370303", 2022, TargetMetric::Networked, &counts),
            None
        );
    }

    #[test]
    fn targets_are_checked() {
        let mut targets = zhangdian_targets();
        targets.push(targets[0].clone());
        assert_eq!(validate_targets(&targets).unwrap_err().code, "duplicate_target");
        let mut targets = zhangdian_targets();
        targets.push(Target {
            segment: Segment::parse("property_type:village").unwrap(),
            ..targets[3].clone()
        });
        assert_eq!(
            validate_targets(&targets).unwrap_err().code,
            "overlapping_targets"
        );
        assert_eq!(Segment::parse("street:1").unwrap_err().code, "invalid_segment");
        assert!(Segment::parse("property_type:").is_err());
        assert_eq!(
            Segment::parse("property_type:商品房小区+village")
                .unwrap()
                .to_string(),
            "property_type:commercial+village"
        );
        let bad = Target {
            percent: 120.0,
            ..zhangdian_targets()[0].clone()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn years_and_months_end_in_china_standard_time() {
        // 2021-01-01T00:00+08:00 = 2020-12-31T16:00Z.
        assert_eq!(year_end_ms(2020), 1_609_430_400_000);
        let (start, end) = month_bounds("2021-12").unwrap();
        assert_eq!(start, 1_638_288_000_000);
        assert_eq!(end, 1_640_966_400_000);
        assert_eq!(month_bounds("2021-13").unwrap_err().code, "invalid_month");
    }

    #[test]
    fn the_award_follows_the_formula_in_fen() {
        let formula = AwardFormula::default();
        let inputs = AwardInputs {
            mode: FundingMode::PropertyFund,
            required_places: 12,
            actual: BTreeMap::from([
                (FundingSource::PropertyCompany, 30_000_000),
                (FundingSource::MaintenanceFund, 10_000_001),
                (FundingSource::CountyFinance, 99_999_999),
            ]),
            on_time: true,
        };
        let a = award(&formula, &inputs);
        // 20 000 + 12 × 500 + 30 % × 400 000.01 = 146 000.00 yuan; bonus 10 % = 14 600.00.
        assert!(a.eligible);
        assert_eq!(a.amount_fen, 16_060_000);
        let capped = award(
            &AwardFormula {
                cap_fen: 10_000_000,
                ..formula.clone()
            },
            &inputs,
        );
        assert_eq!(capped.amount_fen, 10_000_000);
        assert_eq!(capped.lines.last().unwrap().1, -6_060_000);
        let late = award(
            &formula,
            &AwardInputs {
                on_time: false,
                ..inputs.clone()
            },
        );
        assert_eq!(late.amount_fen, 14_600_000);
        let developer = award(
            &formula,
            &AwardInputs {
                mode: FundingMode::Developer,
                ..inputs
            },
        );
        assert!(!developer.eligible);
        assert_eq!(developer.amount_fen, 0);
    }

    #[test]
    fn the_score_is_a_weighted_mean_of_what_was_measured() {
        let w = AssessmentWeights::default();
        let ind = Indicators {
            coverage: coverage_indicator(36, 40, Some(80.0)),
            networking: ratio(90, 100),
            alarm_sla: ratio(3, 4),
            maintenance_sla: None,
            data_quality: ratio(1, 2),
        };
        assert_eq!(ind.coverage, Some(1.0));
        // (30 × 1 + 25 × 0.9 + 20 × 0.75 + 10 × 0.5) ÷ 85 × 100.
        assert_eq!(score(&w, &ind), Some(85.29));
        assert_eq!(coverage_indicator(30, 40, Some(80.0)), Some(0.9375));
        assert_eq!(coverage_indicator(30, 40, None), Some(0.75));
        assert_eq!(score(&w, &Indicators::default()), None);
        assert!(
            AssessmentWeights {
                coverage: 0,
                networking: 0,
                alarm_sla: 0,
                maintenance_sla: 0,
                data_quality: 0
            }
            .validate()
            .is_err()
        );
    }
}
