//! The demo's district programme (issue 7): Yiyuan County's annex communities get their build
//! projects with the 2020 history, and a second district — Zhangdian, with its 475 communities
//! in the documents' proportions (210 old: 37 closable, 173 video-only; 225 commercial; 40
//! villages), every street, community and contractor name marked 虚构 — gets the places and
//! devices its categories' kits require, projects spread over 2020–2023, a week of business data
//! from most devices, and the targets of both documents.
//!
//! Nothing here is a figure. The seed writes the registry, the stage history and what the
//! devices sent; coverage, networking, progress and the street score are computed from them like
//! any other district's. The history is written straight to the store in one transaction, with
//! the actor `system:demo` and a note saying it was back-filled, because the application stamps
//! a stage move with the current time; Zhangdian's registry and the week of device data go the
//! same way for speed (one audit entry records each batch). What happens today goes through the
//! application: contractors, targets, acceptance requests, the offline alarms and the tickets
//! they open.

use crate::demo;
use anfang_app::programme::{TargetSpec, cst_date};
use anfang_app::{App, Principal};
use anfang_domain::GbCode;
use anfang_domain::model::{CommunityCategory, DeviceKind, PlaceKind, PropertyType};
use anfang_domain::programme::{DeviceClass, FundingMode, Stage};
use anfang_store::{
    AlarmFilter, BuildProjectRow, DeviceRow, Filter, NewAccessRecord, NewBoothCall, NewBuilding,
    NewCaptureRecord, NewCommittee, NewCommunity, NewDevice, NewPlace, NewStreet, NewUnit, Page,
    PatrolScanRow, ProjectStageRow, TicketRow, Tx,
};
use anyhow::Context;
use chrono::TimeZone;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Zhangdian District's administrative code.
pub(crate) const ZHANGDIAN: &str = "370303";
/// The seed of everything random here.
const SEED: u64 = 2022;
/// Who wrote what the application could not back-date.
const DEMO_ACTOR: &str = "system:demo";
/// The note on every back-filled step.
const HISTORY_NOTE: &str = "演示数据：历史进度补录（非实际操作记录）";
/// A day in ms.
const DAY_MS: i64 = 86_400_000;
/// An hour in ms.
const HOUR_MS: i64 = 3_600_000;
/// Days of device data written (the programme measures the last seven).
const DATA_DAYS: i64 = 7;

/// The Yiyuan annex community whose acceptance is requested when the demo is seeded: self-checked
/// in December 2020, its request opens today through the application.
const YIYUAN_REQUESTED: &str = "源泰家园小区";
/// The Yiyuan annex community accepted in December 2020 but networked only in January 2021.
const YIYUAN_LATE_NETWORK: &str = "塔山小区";
/// The device of Yiyuan that went offline this morning (its community and name).
const YIYUAN_OFFLINE: (&str, &str) = ("翡翠山景小区", "道路视频监控2");

/// The contractors: name, repair SLA (hours), contact.
const CONTRACTORS: &[(&str, i64, &str)] = &[
    ("沂源县安防工程有限公司（演示）", 24, "0533-3200000（演示）"),
    ("示例安防科技有限公司（虚构）", 48, "0533-2800000（虚构）"),
    ("示例智能工程有限公司（虚构）", 72, "0533-2900000（虚构）"),
];

/// Zhangdian's synthetic streets: how many communities each has, and how many of them are
/// villages (475 and 40 in all).
const ZD_STREETS: &[(usize, usize)] = &[
    (62, 0),
    (58, 0),
    (55, 0),
    (54, 0),
    (52, 0),
    (50, 0),
    (48, 12),
    (50, 14),
    (46, 14),
];

/// The street whose devices report worst (a lagging street shows in the street comparison).
const ZD_LAGGING_STREET: usize = 6;

const NUMERALS: [&str; 9] = ["一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// What became of a community's project.
#[derive(Debug, Clone, Copy)]
enum Fate {
    /// Accepted at `accepted`, networked at `networked` (if ever).
    Done {
        planned_year: i32,
        start: i64,
        accepted: i64,
        networked: Option<i64>,
    },
    /// Still at `stage` since `since`.
    Open {
        planned_year: i32,
        start: i64,
        stage: Stage,
        since: i64,
    },
}

impl Fate {
    fn planned_year(self) -> i32 {
        match self {
            Fate::Done { planned_year, .. } | Fate::Open { planned_year, .. } => planned_year,
        }
    }

    /// Every step of the history: (stage, when).
    fn steps(self, rng: &mut StdRng) -> Vec<(Stage, i64)> {
        // Where the stages up to acceptance fall between the start and the acceptance.
        const SHARE: [f64; 7] = [0.0, 0.12, 0.25, 0.32, 0.80, 0.86, 1.0];
        let (start, end, last) = match self {
            Fate::Done { start, accepted, .. } => (start, accepted, Stage::Accepted),
            Fate::Open {
                start, stage, since, ..
            } => {
                // The share of the way the stage reached stands for.
                let share = SHARE[stage.rank()].max(0.05);
                (start, start + ((since - start) as f64 / share) as i64, stage)
            }
        };
        let span = (end - start) as f64;
        let mut steps = Vec::new();
        for stage in Stage::ALL.iter().copied().take(last.rank() + 1) {
            // The start and the acceptance are as chosen; the steps between fall a little
            // earlier or later, in office hours (CST) of their day.
            let at = if matches!(stage, Stage::Planned | Stage::Accepted) {
                start + (span * SHARE[stage.rank()]) as i64
            } else {
                let at = start + (span * (SHARE[stage.rank()] + rng.gen_range(-0.02..0.02))) as i64;
                (at + 8 * HOUR_MS).div_euclid(DAY_MS) * DAY_MS + (1 + stage.rank() as i64) * HOUR_MS
            };
            steps.push((stage, at));
        }
        if let Fate::Open { since, .. } = self
            && let Some(last) = steps.last_mut()
        {
            last.1 = since;
        }
        if let Fate::Done {
            networked: Some(at), ..
        } = self
        {
            steps.push((Stage::Networked, at));
        }
        steps
    }

    /// When the building work started (the devices' install date).
    fn install_at(self) -> i64 {
        match self {
            Fate::Done { start, accepted, .. } => start + (accepted - start) / 3,
            Fate::Open { start, since, .. } => start.max(since - 40 * DAY_MS),
        }
    }

    fn stage(self) -> Stage {
        match self {
            Fate::Done { networked, .. } => {
                if networked.is_some() {
                    Stage::Networked
                } else {
                    Stage::Accepted
                }
            }
            Fate::Open { stage, .. } => stage,
        }
    }
}

/// How a device behaves in the measuring window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Health {
    /// Reports and sends data.
    Online,
    /// Installed but nothing ever arrived from it.
    Silent,
    /// Reported until a few hours ago: an offline alarm and a repair ticket follow.
    WentOffline,
}

/// A device the seed knows about.
#[derive(Debug, Clone)]
struct Seeded {
    id: i64,
    code: String,
    kind: DeviceKind,
    health: Health,
}

/// A community the seed knows about.
#[derive(Debug, Clone)]
struct Community {
    id: i64,
    name: String,
    district: &'static str,
    category: CommunityCategory,
    fate: Fate,
    contractor: &'static str,
    devices: Vec<Seeded>,
    /// Patrol checkpoints (ids and codes) the community's reader scans.
    checkpoints: Vec<(i64, String)>,
}

/// CST midnight-based instant: `y-m-d` at `hour`:00 in China Standard Time.
fn cst(y: i32, m: u32, d: u32, hour: u32) -> i64 {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    offset
        .with_ymd_and_hms(y, m, d, hour, 0, 0)
        .single()
        .map(|t| t.timestamp_millis())
        .expect("a valid demo date")
}

/// A random working-hours instant between two dates.
fn between(rng: &mut StdRng, from: i64, to: i64) -> i64 {
    let day = rng.gen_range(from / DAY_MS..=(to / DAY_MS).max(from / DAY_MS));
    day * DAY_MS + rng.gen_range(1..9) * HOUR_MS
}

/// Seeds the programme. Returns the demo accounts it created, with their passwords.
pub(crate) async fn seed(
    app: &App,
    admin: &Principal,
    data_dir: &Path,
    offline_after_secs: i64,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let now = app.clock().now_ms();
    let timer = std::time::Instant::now();
    for (name, sla, contact) in CONTRACTORS {
        app.set_contractor(admin, name, *sla, contact).await?;
    }
    let mut communities = yiyuan(app, &mut rng).await?;
    let yiyuan_count = communities.len();
    let vault = crate::datadir::load_vault(data_dir)?;
    communities.extend(zhangdian(app, &vault, &mut rng, now).await?);
    println!(
        "  Zhangdian: 475 synthetic communities with their places and devices ({:.1} s)",
        timer.elapsed().as_secs_f64()
    );
    let timer = std::time::Instant::now();
    let projects = history(app, &communities, &mut rng).await?;
    println!(
        "  build projects and their stage history: {} ({:.1} s)",
        projects.len(),
        timer.elapsed().as_secs_f64()
    );
    let timer = std::time::Instant::now();
    let records = activity(app, &communities, &mut rng, now).await?;
    println!(
        "  a week of device data: {records} records ({:.1} s)",
        timer.elapsed().as_secs_f64()
    );
    let timer = std::time::Instant::now();
    targets(app, admin, &communities[..yiyuan_count]).await?;
    // The devices that went offline this morning: alarms and repair tickets, the real way.
    let offline = app
        .raise_offline_alarms(offline_after_secs.max(60) * 1000)
        .await?;
    past_tickets(app, &communities, &mut rng, now).await?;
    // Two acceptances asked for today: the checklist is evaluated from the data above.
    let mut requested = 0;
    for c in communities.iter().filter(|c| {
        matches!(
            c.fate,
            Fate::Open {
                stage: Stage::SelfChecked,
                ..
            }
        ) && (c.name == YIYUAN_REQUESTED || c.district == ZHANGDIAN)
    }) {
        if let Some(project) = projects.get(&c.id) {
            let view = app.request_acceptance(admin, *project).await?;
            let passed = view.checks.iter().filter(|c| c.passed).count();
            println!(
                "  acceptance requested for {}: {passed}/{} live checks pass",
                c.name,
                view.checks.len()
            );
            requested += 1;
        }
        if requested == 2 {
            break;
        }
    }
    let mut users = Vec::new();
    for (username, role, name) in [
        ("zfw-demo", "political_legal", "区县委政法委（演示）"),
        ("zjj-demo", "housing_construction", "区县住建局（演示）"),
    ] {
        let req = anfang_app::auth::CreateUser {
            username: username.into(),
            role: role.into(),
            scope: "district".into(),
            display_name: Some(name.into()),
        };
        users.push((username.to_string(), app.create_user("cli", &req).await?.1));
    }
    println!(
        "  targets, {offline} offline alarms (repair tickets), {requested} acceptance requests ({:.1} s)",
        timer.elapsed().as_secs_f64()
    );
    Ok(users)
}

/// Yiyuan's annex communities (seeded by `demo::seed`) with their fates: planned when the
/// opinions were issued (2020-08-24), most accepted and networked by the end of 2020.
async fn yiyuan(app: &App, rng: &mut StdRng) -> anyhow::Result<Vec<Community>> {
    let mut tx = app.store().read().await?;
    let streets: HashMap<i64, String> = tx
        .list_streets(&Filter::default(), Page::ALL)
        .await?
        .items
        .into_iter()
        .filter(|s| s.district_code == demo::DISTRICT)
        .map(|s| (s.id, s.code))
        .collect();
    let devices = tx.list_devices(&Filter::default(), Page::ALL).await?.items;
    let mut out = Vec::new();
    let start = cst(2020, 8, 25, 9);
    for c in tx.list_communities(&Filter::default(), Page::ALL).await?.items {
        if !streets.contains_key(&c.street_id) {
            continue;
        }
        let category = CommunityCategory::parse(&c.category).map_err(|e| anyhow::anyhow!(e.message))?;
        let accepted = between(rng, cst(2020, 11, 20, 0), cst(2020, 12, 20, 0));
        let fate = match c.name.as_str() {
            demo::UNDER_CONSTRUCTION => Fate::Open {
                planned_year: 2020,
                start,
                stage: Stage::UnderConstruction,
                since: cst(2020, 10, 20, 10),
            },
            YIYUAN_REQUESTED => Fate::Open {
                planned_year: 2020,
                start,
                stage: Stage::SelfChecked,
                since: cst(2020, 12, 21, 15),
            },
            YIYUAN_LATE_NETWORK => Fate::Done {
                planned_year: 2020,
                start,
                accepted: cst(2020, 12, 18, 16),
                networked: Some(cst(2021, 1, 12, 10)),
            },
            _ => Fate::Done {
                planned_year: 2020,
                start,
                accepted,
                networked: Some(accepted + rng.gen_range(3..10) * DAY_MS),
            },
        };
        let unfinished = c.name == demo::UNDER_CONSTRUCTION;
        let seeded = devices
            .iter()
            .filter(|d| d.community_id == Some(c.id))
            .filter_map(|d| {
                let kind = DeviceKind::parse(&d.kind).ok()?;
                let health = if c.name == YIYUAN_OFFLINE.0 && d.name == YIYUAN_OFFLINE.1 {
                    Health::WentOffline
                } else if unfinished && kind != DeviceKind::FaceCaptureCamera {
                    // Installed during the works, not yet connected.
                    Health::Silent
                } else if c.name != YIYUAN_REQUESTED && rng.gen_bool(0.03) {
                    Health::Silent
                } else {
                    Health::Online
                };
                Some(Seeded {
                    id: d.id,
                    code: d.code.clone(),
                    kind,
                    health,
                })
            })
            .collect();
        out.push(Community {
            id: c.id,
            name: c.name.clone(),
            district: demo::DISTRICT,
            category,
            fate,
            contractor: CONTRACTORS[0].0,
            devices: seeded,
            // The annex's patrol wands are walked by the simulator.
            checkpoints: Vec::new(),
        });
    }
    Ok(out)
}

/// The categories of Zhangdian's 475 communities, before they are dealt to streets.
fn zhangdian_categories() -> Vec<(CommunityCategory, PropertyType, usize)> {
    vec![
        (CommunityCategory::OpenClosable, PropertyType::Old, 37),
        (CommunityCategory::OpenVideoOnly, PropertyType::Old, 173),
        (CommunityCategory::NewBuilt, PropertyType::Commercial, 80),
        (CommunityCategory::ExistingClosed, PropertyType::Commercial, 145),
        (CommunityCategory::Village, PropertyType::Village, 40),
    ]
}

/// The fates of Zhangdian's communities, by the order they are dealt in: the old ones were
/// due in 2020 (ten slipped to 2021); commercial communities and villages were planned 60 % /
/// 80 % / 100 % by 2020 / 2021 / 2022 and came in a little behind, new-built ones first; a
/// few are still open today.
fn zhangdian_fates(rng: &mut StdRng, categories: &[(CommunityCategory, PropertyType)]) -> Vec<Fate> {
    let mut fates = vec![None; categories.len()];
    let old: Vec<usize> = (0..categories.len())
        .filter(|i| categories[*i].1 == PropertyType::Old)
        .collect();
    let mut order = old.clone();
    order.shuffle(rng);
    for (rank, i) in order.into_iter().enumerate() {
        let year = if rank < 200 { 2020 } else { 2021 };
        fates[i] = Some(done(rng, 2020, year));
    }
    // Commercial and villages: an early pool (accepted by 2021) holding all new-built ones
    // but two, then the rest.
    let mut new_built: Vec<usize> = (0..categories.len())
        .filter(|i| categories[*i].0 == CommunityCategory::NewBuilt)
        .collect();
    let mut others: Vec<usize> = (0..categories.len())
        .filter(|i| categories[*i].1 != PropertyType::Old && categories[*i].0 != CommunityCategory::NewBuilt)
        .collect();
    new_built.shuffle(rng);
    others.shuffle(rng);
    let late_new: Vec<usize> = new_built.split_off(78);
    let early_others = 214 - new_built.len();
    let mut early: Vec<usize> = new_built;
    early.extend(others.drain(..early_others));
    early.shuffle(rng);
    let mut late: Vec<usize> = others;
    // The two late new-built ones finish in 2022, not among the stragglers.
    for (n, i) in late_new.into_iter().enumerate() {
        late.insert(5 + 15 * n, i);
    }
    let ranked: Vec<usize> = early.into_iter().chain(late).collect();
    for (rank, i) in ranked.into_iter().enumerate() {
        let planned = match rank {
            0..159 => 2020,
            159..212 => 2021,
            _ => 2022,
        };
        fates[i] = Some(match rank {
            0..150 => done(rng, planned, 2020),
            150..214 => done(rng, planned, 2021),
            214..258 => done(rng, planned, 2022),
            258..261 => done(rng, planned, 2023),
            261 | 262 => Fate::Open {
                planned_year: planned,
                start: plan_start(rng, planned),
                stage: Stage::UnderConstruction,
                since: between(rng, cst(2023, 3, 1, 0), cst(2023, 9, 1, 0)),
            },
            _ => Fate::Open {
                planned_year: planned,
                start: plan_start(rng, planned),
                stage: Stage::SelfChecked,
                since: between(rng, cst(2024, 5, 1, 0), cst(2025, 10, 1, 0)),
            },
        });
    }
    // A few accepted in 2022 never got networked.
    let mut never = 0;
    for fate in fates.iter_mut().flatten() {
        if let Fate::Done {
            accepted, networked, ..
        } = fate
            && *accepted >= cst(2022, 1, 1, 0)
            && *accepted < cst(2023, 1, 1, 0)
            && never < 5
            && rng.gen_bool(0.15)
        {
            *networked = None;
            never += 1;
        }
    }
    fates
        .into_iter()
        .map(|f| f.expect("every community has a fate"))
        .collect()
}

/// When a project planned for `year` was put on the plan.
fn plan_start(rng: &mut StdRng, year: i32) -> i64 {
    if year <= 2020 {
        between(rng, cst(2020, 3, 2, 0), cst(2020, 4, 15, 0))
    } else {
        between(rng, cst(year - 1, 12, 1, 0), cst(year, 2, 28, 0))
    }
}

/// A project planned for `planned` and accepted in `year`, networked a few weeks later (now
/// and then months later).
fn done(rng: &mut StdRng, planned: i32, year: i32) -> Fate {
    let start = plan_start(rng, planned.min(year));
    let earliest = (start + 90 * DAY_MS).max(cst(year, 1, 15, 0));
    let accepted = between(rng, earliest, cst(year, 12, 28, 0));
    let lag = if rng.gen_bool(0.07) {
        rng.gen_range(120..300)
    } else {
        rng.gen_range(7..45)
    };
    Fate::Done {
        planned_year: planned,
        start,
        accepted,
        networked: Some(accepted + lag * DAY_MS),
    }
}

/// A place to write: kind, name, (x, y), attended, unit index, devices.
struct PlacePlan {
    kind: PlaceKind,
    name: String,
    at: (f64, f64),
    attended: bool,
    unit: Option<usize>,
    devices: Vec<DeviceKind>,
}

/// A device without a place (recorders, relay cameras, patrol wands) and where it is.
type LooseDevice = (DeviceKind, (f64, f64));

/// The places (and the devices without a place) of one synthetic community of `category`.
fn zhangdian_places(
    rng: &mut StdRng,
    category: CommunityCategory,
    buildings: &[(f64, f64)],
    units: &[(usize, u32)],
) -> (Vec<PlacePlan>, Vec<LooseDevice>) {
    use DeviceKind::*;
    let place = |kind, name: &str, at, attended, devices| PlacePlan {
        kind,
        name: name.to_string(),
        at,
        attended,
        unit: None,
        devices,
    };
    let mut places = Vec::new();
    let mut loose = vec![(Nvr, (20.0, 280.0))];
    match category {
        CommunityCategory::NewBuilt => {
            places.push(place(
                PlaceKind::PedestrianEntrance,
                "东门人行出入口",
                (200.0, 295.0),
                true,
                vec![FaceDoorTerminal, FaceCaptureCamera],
            ));
            places.push(place(
                PlaceKind::VehicleLane,
                "东门车行入口车道",
                (230.0, 295.0),
                true,
                vec![BarrierGate],
            ));
            places.push(place(
                PlaceKind::VehicleLane,
                "东门车行出口车道",
                (245.0, 295.0),
                true,
                vec![BarrierGate],
            ));
            places.push(place(
                PlaceKind::GarageEntrance,
                "地下车库出入口",
                (330.0, 220.0),
                false,
                vec![BarrierGate],
            ));
            for (i, (b, u)) in units.iter().enumerate() {
                let (x, y) = buildings[*b];
                places.push(PlacePlan {
                    unit: Some(i),
                    ..place(
                        PlaceKind::UnitDoor,
                        &format!("{}号楼{u}单元门", b + 1),
                        (x + 10.0 * f64::from(*u), y + 20.0),
                        false,
                        vec![FaceDoorTerminal],
                    )
                });
            }
            for (x, y) in buildings {
                loose.push((VideoCamera, ((x + 30.0).min(400.0), *y)));
            }
        }
        CommunityCategory::ExistingClosed => {
            let attended = rng.gen_bool(0.6);
            let mut gate = vec![FaceDoorTerminal];
            if !attended {
                gate.push(SmartBooth);
            }
            places.push(place(
                PlaceKind::PedestrianEntrance,
                "南门人行出入口",
                (200.0, 295.0),
                attended,
                gate,
            ));
            places.push(place(
                PlaceKind::VehicleLane,
                "南门车行入口车道",
                (230.0, 295.0),
                true,
                vec![BarrierGate],
            ));
            places.push(place(
                PlaceKind::VehicleLane,
                "南门车行出口车道",
                (245.0, 295.0),
                true,
                vec![BarrierGate],
            ));
            places.push(place(
                PlaceKind::CarPark,
                "地面停车场",
                (330.0, 250.0),
                false,
                vec![FaceCaptureCamera],
            ));
            for (i, at) in [(5.0, 150.0), (200.0, 5.0), (395.0, 150.0), (100.0, 295.0)]
                .into_iter()
                .take(rng.gen_range(2..=4))
                .enumerate()
            {
                places.push(place(
                    PlaceKind::PerimeterZone,
                    &format!("周界防区{}", i + 1),
                    at,
                    false,
                    vec![PerimeterSensor],
                ));
            }
            for (i, at) in [(120.0, 150.0), (300.0, 120.0)].into_iter().enumerate() {
                places.push(place(
                    PlaceKind::RoadPoint,
                    &format!("巡更点位{}", i + 1),
                    at,
                    false,
                    vec![PatrolCheckpoint],
                ));
            }
            loose.push((PatrolReader, (200.0, 280.0)));
            if rng.gen_bool(0.5) {
                for (i, (b, u)) in units.iter().enumerate() {
                    let (x, y) = buildings[*b];
                    places.push(PlacePlan {
                        unit: Some(i),
                        ..place(
                            PlaceKind::UnitDoor,
                            &format!("{}号楼{u}单元门", b + 1),
                            (x + 10.0 * f64::from(*u), y + 20.0),
                            false,
                            vec![DoorController],
                        )
                    });
                }
            }
            loose.push((VideoCamera, (150.0, 200.0)));
            loose.push((VideoCamera, (300.0, 60.0)));
        }
        CommunityCategory::OpenClosable => {
            let attended = rng.gen_bool(0.7);
            let mut gate = vec![FaceDoorTerminal];
            if !attended {
                gate.push(SmartBooth);
            }
            places.push(place(
                PlaceKind::PedestrianEntrance,
                "北门人行出入口",
                (200.0, 5.0),
                attended,
                gate,
            ));
            places.push(place(
                PlaceKind::VehicleLane,
                "北门车行车道",
                (230.0, 5.0),
                true,
                vec![BarrierGate],
            ));
            loose.push((VideoCamera, (200.0, 150.0)));
        }
        CommunityCategory::OpenVideoOnly | CommunityCategory::Village => {
            for (i, at) in [(0.0, 150.0), (200.0, 0.0), (400.0, 150.0)]
                .into_iter()
                .take(rng.gen_range(2..=3))
                .enumerate()
            {
                places.push(place(
                    PlaceKind::RoadPoint,
                    &format!("进出道路点位{}", i + 1),
                    at,
                    false,
                    vec![FaceCaptureCamera, PlateCaptureCamera],
                ));
            }
            loose.push((VideoCamera, (200.0, 150.0)));
        }
    }
    (places, loose)
}

/// Zhangdian's registry in one store transaction: streets, committees, communities with
/// buildings and units, places and the devices of each category's kit (each with its own
/// secret, sealed like any other). Communities still being built miss part of their kit, and a
/// handful of finished ones one required device.
async fn zhangdian(
    app: &App,
    vault: &anfang_app::vault::Vault,
    rng: &mut StdRng,
    now: i64,
) -> anyhow::Result<Vec<Community>> {
    // Deal the categories to the streets: villages to the outer streets, the rest shuffled.
    let mut pool: Vec<(CommunityCategory, PropertyType)> = Vec::new();
    let mut villages = Vec::new();
    for (category, property, n) in zhangdian_categories() {
        let target = if category == CommunityCategory::Village {
            &mut villages
        } else {
            &mut pool
        };
        target.extend(std::iter::repeat_n((category, property), n));
    }
    pool.shuffle(rng);
    let mut dealt: Vec<(usize, CommunityCategory, PropertyType)> = Vec::new();
    for (street, (size, village_count)) in ZD_STREETS.iter().enumerate() {
        for _ in 0..(size - village_count) {
            let (c, p) = pool.pop().context("the street sizes add up to 475")?;
            dealt.push((street, c, p));
        }
        for _ in 0..*village_count {
            let (c, p) = villages.pop().context("40 villages")?;
            dealt.push((street, c, p));
        }
    }
    anyhow::ensure!(
        pool.is_empty() && villages.is_empty() && dealt.len() == 475,
        "Zhangdian has 475 communities"
    );
    let pairs: Vec<(CommunityCategory, PropertyType)> = dealt.iter().map(|(_, c, p)| (*c, *p)).collect();
    let fates = zhangdian_fates(rng, &pairs);
    let mut tx = app.store().write().await?;
    let mut street_ids = Vec::new();
    for (i, numeral) in NUMERALS.iter().enumerate() {
        let code = street_code(i);
        let name = format!("示例街道{numeral}（虚构）");
        let street = tx
            .insert_street(&NewStreet {
                district_code: ZHANGDIAN.into(),
                code: code.clone(),
                name: name.clone(),
            })
            .await?;
        let residents = tx
            .insert_committee(&NewCommittee {
                street_id: street,
                code: format!("{code}001"),
                name: format!("示例{numeral}社区居委会（虚构）"),
                kind: "residents".into(),
            })
            .await?;
        let village = tx
            .insert_committee(&NewCommittee {
                street_id: street,
                code: format!("{code}002"),
                name: format!("示例{numeral}村委会（虚构）"),
                kind: "village".into(),
            })
            .await?;
        street_ids.push((street, residents, village, code, name));
    }
    let mut out = Vec::new();
    let mut serial = 0u32;
    let (mut homes, mut hamlets) = (0, 0);
    let mut per_street = vec![0u32; ZD_STREETS.len()];
    // Finished communities that nevertheless miss one required device.
    let mut finished_gaps = 0;
    for ((street, category, property), fate) in dealt.iter().zip(fates) {
        let (street_id, residents, village, street_code, street_name) = &street_ids[*street];
        per_street[*street] += 1;
        let is_village = *category == CommunityCategory::Village;
        let name = if is_village {
            hamlets += 1;
            format!("示例村{hamlets:02}（虚构）")
        } else {
            homes += 1;
            format!("示例小区{homes:03}（虚构）")
        };
        let code = format!(
            "{street_code}{}{:03}",
            if is_village { "002" } else { "001" },
            per_street[*street]
        );
        let id = tx
            .insert_community(&NewCommunity {
                committee_id: if is_village { *village } else { *residents },
                street_id: *street_id,
                code,
                name: name.clone(),
                category: category.as_str().into(),
                property_type: property.as_str().into(),
                address: format!("山东省淄博市张店区{street_name}{name}"),
                site_width: 400.0,
                site_height: 300.0,
                police_area: Some(format!(
                    "{}警务区（虚构）",
                    street_name.trim_end_matches("（虚构）")
                )),
            })
            .await?;
        // Buildings and their units.
        let (count, floors, per_building): (u32, i64, u32) = match category {
            CommunityCategory::NewBuilt => (rng.gen_range(3..=5), rng.gen_range(11..=18), 2),
            CommunityCategory::ExistingClosed => (rng.gen_range(3..=6), 6, 2),
            CommunityCategory::OpenClosable => (rng.gen_range(2..=4), 6, 2),
            CommunityCategory::OpenVideoOnly => (rng.gen_range(2..=5), 5, rng.gen_range(1..=2)),
            CommunityCategory::Village => (rng.gen_range(2..=4), 3, 1),
        };
        let mut buildings = Vec::new();
        let mut units: Vec<(usize, u32)> = Vec::new();
        let mut unit_ids = Vec::new();
        for b in 0..count {
            let at = (70.0 + 80.0 * f64::from(b % 4), 70.0 + 100.0 * f64::from(b / 4));
            let building = tx
                .insert_building(&NewBuilding {
                    community_id: id,
                    number: (b + 1).to_string(),
                    name: format!("{}号楼", b + 1),
                    floors,
                    x: at.0,
                    y: at.1,
                })
                .await?;
            buildings.push(at);
            for u in 1..=per_building {
                unit_ids.push(
                    tx.insert_unit(&NewUnit {
                        building_id: building,
                        number: u.to_string(),
                    })
                    .await?,
                );
                units.push((b as usize, u));
            }
        }
        let (places, loose) = zhangdian_places(rng, *category, &buildings, &units);
        // What is left out: a building site misses about half its kit; a few finished ones one
        // required device (the first of their first place: an entrance terminal or a camera).
        let building_site = matches!(fate, Fate::Open { stage, .. } if stage < Stage::SelfChecked);
        let mut skip_one =
            !building_site && matches!(fate, Fate::Done { .. }) && finished_gaps < 6 && rng.gen_bool(0.02);
        if skip_one {
            finished_gaps += 1;
        }
        let contractor = CONTRACTORS[1 + usize::from(*street >= 5)].0;
        let install = cst_date(fate.install_at());
        let health_of = |rng: &mut StdRng, kind: DeviceKind| -> Health {
            let online = match fate {
                Fate::Open { stage, .. } if stage < Stage::SelfChecked => 0.2,
                Fate::Open { .. } => 0.9,
                Fate::Done { networked: None, .. } => 0.55,
                Fate::Done { .. } if *street == ZD_LAGGING_STREET => 0.8,
                Fate::Done { .. } => 0.95,
            };
            // Passive checkpoints are seen only through the reader that scans them.
            if kind == DeviceKind::PatrolCheckpoint || rng.gen_bool(online) {
                Health::Online
            } else {
                Health::Silent
            }
        };
        let mut devices = Vec::new();
        let mut checkpoints = Vec::new();
        // A device row with its own sealed secret and the next code of the street's centre.
        let mut device = |kind: DeviceKind, name: String, place_id: Option<i64>, at: (f64, f64)| {
            serial += 1;
            let code = GbCode::compose(
                &format!("{ZHANGDIAN}{:02}", street + 1),
                "00",
                demo::type_code(kind),
                0,
                serial,
            )
            .map_err(|e| anyhow::anyhow!(e.message))?;
            // Doors, gates, booths and alarm devices push over HTTP here: the simulator drives
            // MQTT terminals and sensors in code order, and Zhangdian's codes sort before the
            // annex's, whose residents hold the cards the simulated terminals present.
            let protocol = match kind {
                DeviceKind::FaceCaptureCamera | DeviceKind::PlateCaptureCamera => "gat1400",
                DeviceKind::VideoCamera | DeviceKind::Nvr => "gb28181",
                DeviceKind::PatrolCheckpoint | DeviceKind::PatrolReader => "mqtt",
                _ => "http_push",
            };
            anyhow::Ok(NewDevice {
                code: code.as_str().to_string(),
                name,
                kind: kind.as_str().into(),
                protocol: protocol.into(),
                community_id: Some(id),
                place_id,
                x: Some(at.0),
                y: Some(at.1),
                install_date: Some(install.clone()),
                contractor: Some(contractor.to_string()),
                secret_enc: vault.encrypt("device_secret", &anfang_base::random_password(32))?,
                now_ms: now,
            })
        };
        for p in places {
            let place_id = tx
                .insert_place(&NewPlace {
                    community_id: id,
                    kind: p.kind.as_str().into(),
                    name: p.name.clone(),
                    x: p.at.0,
                    y: p.at.1,
                    attended: p.attended,
                    unit_id: p.unit.map(|u| unit_ids[u]),
                })
                .await?;
            for kind in p.devices {
                if (building_site && rng.gen_bool(0.5)) || std::mem::take(&mut skip_one) {
                    continue;
                }
                let health = health_of(rng, kind);
                let new = device(
                    kind,
                    format!("{}{}", p.name, kind.label_zh()),
                    Some(place_id),
                    p.at,
                )?;
                let seeded = insert_device(&mut tx, &new, kind, health).await?;
                if kind == DeviceKind::PatrolCheckpoint {
                    checkpoints.push((seeded.id, seeded.code.clone()));
                }
                devices.push(seeded);
            }
        }
        for (n, (kind, at)) in loose.into_iter().enumerate() {
            let health = health_of(rng, kind);
            let name = match kind {
                DeviceKind::VideoCamera => format!("道路视频监控{}", n),
                other => other.label_zh().to_string(),
            };
            let new = device(kind, name, None, at)?;
            devices.push(insert_device(&mut tx, &new, kind, health).await?);
        }
        out.push(Community {
            id,
            name,
            district: ZHANGDIAN,
            category: *category,
            fate,
            contractor,
            devices,
            checkpoints,
        });
    }
    // Two devices went offline this morning: a recorder and a perimeter sensor of finished
    // communities in two streets with different contractors.
    for kind in [DeviceKind::Nvr, DeviceKind::PerimeterSensor] {
        if let Some(d) = out
            .iter_mut()
            .rev()
            .filter(|c| {
                matches!(
                    c.fate,
                    Fate::Done {
                        networked: Some(_),
                        ..
                    }
                )
            })
            .filter(|c| (kind == DeviceKind::Nvr) == (c.contractor == CONTRACTORS[1].0))
            .flat_map(|c| c.devices.iter_mut())
            .find(|d| d.kind == kind && d.health == Health::Online)
        {
            d.health = Health::WentOffline;
        }
    }
    let devices: usize = out.iter().map(|c| c.devices.len()).sum();
    tx.commit().await?;
    app.audit_now(
        DEMO_ACTOR,
        "demo.seed_registry",
        &format!("district:{ZHANGDIAN}"),
        json!({"streets": ZD_STREETS.len(), "communities": out.len(), "devices": devices,
               "note": "演示数据：虚构的街道、小区与设备"}),
    )
    .await?;
    Ok(out)
}

/// Writes a device; a face terminal offers cards and QR codes besides the face, as its
/// installer configured it.
async fn insert_device(
    tx: &mut Box<dyn Tx>,
    new: &NewDevice,
    kind: DeviceKind,
    health: Health,
) -> anyhow::Result<Seeded> {
    let id = tx.insert_device(new).await?;
    if kind == DeviceKind::FaceDoorTerminal {
        tx.set_device_accepts(id, Some("card,face,qr")).await?;
    }
    Ok(Seeded {
        id,
        code: new.code.clone(),
        kind,
        health,
    })
}

/// A Zhangdian street's code.
fn street_code(index: usize) -> String {
    format!("{ZHANGDIAN}9{:02}", index + 1)
}

/// The build projects and their stage history, in one transaction; returns community →
/// project id.
async fn history(
    app: &App,
    communities: &[Community],
    rng: &mut StdRng,
) -> anyhow::Result<HashMap<i64, i64>> {
    let mut tx = app.store().write().await?;
    let mut projects = HashMap::new();
    for c in communities {
        let steps = c.fate.steps(rng);
        let (start, last) = (steps[0].1, *steps.last().context("a history has a start")?);
        let tendered = c.fate.stage().reached(Stage::Tendered);
        let id = tx
            .insert_build_project(&BuildProjectRow {
                id: 0,
                community_id: c.id,
                funding_mode: FundingMode::for_category(c.category).as_str().into(),
                planned_year: i64::from(c.fate.planned_year()),
                stage: last.0.as_str().into(),
                stage_at: last.1,
                contractor: tendered.then(|| c.contractor.to_string()),
                created_at: start,
            })
            .await?;
        for (stage, at) in steps {
            let note = if stage == Stage::Tendered {
                format!("{HISTORY_NOTE}；中标单位：{}", c.contractor)
            } else {
                HISTORY_NOTE.to_string()
            };
            tx.insert_project_stage(&ProjectStageRow {
                id: 0,
                project_id: id,
                stage: stage.as_str().into(),
                at,
                actor: DEMO_ACTOR.into(),
                note,
            })
            .await?;
        }
        projects.insert(c.id, id);
    }
    tx.commit().await?;
    for district in [demo::DISTRICT, ZHANGDIAN] {
        let n = communities.iter().filter(|c| c.district == district).count();
        app.audit_now(
            DEMO_ACTOR,
            "demo.seed_history",
            &format!("district:{district}"),
            json!({"projects": n, "note": HISTORY_NOTE}),
        )
        .await?;
    }
    Ok(projects)
}

/// A moment of day `day` (CST midnight, ms), in daytime where it can be, never after `now`.
fn moment(rng: &mut StdRng, day: i64, now: i64) -> Option<i64> {
    let end = (day + DAY_MS).min(now - 60_000);
    if end <= day {
        return None;
    }
    let (lo, hi) = (day + 6 * HOUR_MS, (day + 22 * HOUR_MS).min(end));
    Some(if hi > lo {
        rng.gen_range(lo..hi)
    } else {
        rng.gen_range(day..end)
    })
}

/// A synthetic plate (鲁C, a letter the annex's residents' plates never use, four digits).
fn plate(rng: &mut StdRng) -> String {
    let letters = ['N', 'P', 'Q', 'R', 'S', 'T'];
    format!(
        "鲁C{}{:04}",
        letters[rng.gen_range(0..letters.len())],
        rng.gen_range(0..10_000)
    )
}

/// A week of what the devices sent, through the store paths the pipeline writes: door
/// records, captures, parking sessions, patrol scans and booth calls from the devices that
/// produce business data, and the keepalives of video and alarm devices as their last contact.
/// Silent devices send nothing; the ones that went offline were last heard a few hours ago.
async fn activity(app: &App, communities: &[Community], rng: &mut StdRng, now: i64) -> anyhow::Result<usize> {
    let today = (now + 8 * HOUR_MS).div_euclid(DAY_MS) * DAY_MS - 8 * HOUR_MS;
    let mut tx = app.store().write().await?;
    let mut records = 0;
    for c in communities {
        // The annex's residents (the first sixty hold the cards the seed issued) and their cars.
        let (mut people, mut plates) = (Vec::new(), Vec::new());
        if c.district == demo::DISTRICT {
            let filter = Filter {
                community_id: Some(c.id),
                ..Filter::default()
            };
            let persons = tx.list_persons(&filter, Page::first(60)).await?.items;
            let ids: Vec<i64> = persons.iter().map(|p| p.id).collect();
            let roles: HashMap<i64, String> = tx
                .person_houses(&ids)
                .await?
                .into_iter()
                .map(|r| (r.person_id, r.role))
                .collect();
            people = ids
                .iter()
                .map(|id| (*id, roles.get(id).map(String::as_str) == Some("tenant")))
                .collect();
            plates = tx
                .list_vehicles(&filter, Page::ALL)
                .await?
                .items
                .into_iter()
                .map(|v| v.plate_number)
                .collect();
        }
        let gates: Vec<&Seeded> = c
            .devices
            .iter()
            .filter(|d| d.kind == DeviceKind::BarrierGate && d.health == Health::Online)
            .collect();
        let per_day = if c.district == demo::DISTRICT {
            1..=4
        } else {
            1..=1
        };
        for d in &c.devices {
            match d.health {
                Health::Silent => continue,
                Health::WentOffline => {
                    tx.touch_device(d.id, now - 3 * HOUR_MS, None, None).await?;
                    continue;
                }
                Health::Online => {}
            }
            if keeps_alive(d.kind) {
                tx.touch_device(d.id, now, None, None).await?;
                continue;
            }
            if !DeviceClass::of(d.kind).has_business_data() || d.kind == DeviceKind::PatrolCheckpoint {
                continue;
            }
            // The annex's readers are walked by the simulator from now on.
            if d.kind == DeviceKind::PatrolReader && c.checkpoints.is_empty() {
                continue;
            }
            for back in 0..DATA_DAYS {
                if c.district == ZHANGDIAN && rng.gen_bool(0.1) {
                    continue;
                }
                let day = today - back * DAY_MS;
                for n in 0..rng.gen_range(per_day.clone()) {
                    let Some(at) = moment(rng, day, now) else { continue };
                    let event_id = format!("demo-{}-{back}-{n}", d.id);
                    records += 1;
                    match d.kind {
                        DeviceKind::FaceDoorTerminal | DeviceKind::DoorController => {
                            // The annex's residents with their cards; Zhangdian's residents are
                            // not in the demo's registry, so its records name nobody.
                            let person = (!people.is_empty()).then(|| people[rng.gen_range(0..people.len())]);
                            tx.insert_access_record(&NewAccessRecord {
                                community_id: c.id,
                                device_id: d.id,
                                event_id,
                                person_id: person.map(|p| p.0),
                                credential_kind: "card".into(),
                                outcome: "open".into(),
                                reason: if person.is_some_and(|p| p.1) {
                                    "tenant_lease"
                                } else {
                                    "resident"
                                }
                                .into(),
                                decided_locally: false,
                                snapshot_key: None,
                                at,
                            })
                            .await?;
                        }
                        DeviceKind::FaceCaptureCamera | DeviceKind::PlateCaptureCamera => {
                            let vehicle = d.kind == DeviceKind::PlateCaptureCamera;
                            let plate = vehicle.then(|| {
                                if plates.is_empty() {
                                    plate(rng)
                                } else {
                                    plates[rng.gen_range(0..plates.len())].clone()
                                }
                            });
                            tx.insert_capture_record(&NewCaptureRecord {
                                community_id: Some(c.id),
                                device_id: d.id,
                                kind: if vehicle { "motor_vehicle" } else { "person" }.into(),
                                record_id: format!("{}{}", d.code, event_id),
                                content_hash: format!("{:016x}", rng.r#gen::<u64>()),
                                shot_at: at - 1_000,
                                plate,
                                attributes: "{}".into(),
                                image_keys: "[]".into(),
                                received_at: at,
                            })
                            .await?;
                        }
                        DeviceKind::BarrierGate => {
                            // In at this gate, out a few hours later at the next one (or the
                            // same one where there is only one); still parked when that is later
                            // than now.
                            let plate = if plates.is_empty() {
                                plate(rng)
                            } else {
                                plates[rng.gen_range(0..plates.len())].clone()
                            };
                            let session = tx.insert_parking_session(c.id, &plate, d.id, at).await?;
                            let exit_at = at + rng.gen_range(1..10) * HOUR_MS;
                            let position = gates.iter().position(|g| g.id == d.id).unwrap_or(0);
                            let exit = gates[(position + 1) % gates.len()];
                            if exit_at < now {
                                tx.update_parking_session(
                                    session,
                                    Some(exit.id),
                                    Some(exit_at),
                                    Some(0),
                                    "closed",
                                )
                                .await?;
                            }
                        }
                        DeviceKind::PatrolReader => {
                            for (checkpoint, code) in &c.checkpoints {
                                tx.insert_patrol_scan(&PatrolScanRow {
                                    id: 0,
                                    community_id: c.id,
                                    checkpoint_id: Some(*checkpoint),
                                    checkpoint_ref: code.clone(),
                                    reader_id: d.id,
                                    guard_ref: "demo-guard".into(),
                                    guard_user_id: None,
                                    at,
                                    event_id: format!("{event_id}-{checkpoint}"),
                                })
                                .await?;
                            }
                        }
                        DeviceKind::SmartBooth => {
                            let call = tx
                                .insert_booth_call(&NewBoothCall {
                                    community_id: c.id,
                                    device_id: d.id,
                                    event_id,
                                    visitor_name: "访客（演示）".into(),
                                    id_number_enc: None,
                                    house_ref: Some(format!("1-1-{}01", rng.gen_range(1..=6))),
                                    house_id: None,
                                    card_photo_key: None,
                                    snapshot_key: None,
                                    now_ms: at,
                                })
                                .await?;
                            tx.set_booth_call_status(
                                call,
                                "ringing",
                                "accepted",
                                at + 20_000,
                                Some(DEMO_ACTOR),
                                Some("演示数据"),
                            )
                            .await?;
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    tx.commit().await?;
    app.audit_now(
        DEMO_ACTOR,
        "demo.seed_activity",
        "district:all",
        json!({"records": records, "days": DATA_DAYS, "note": "演示数据：近一周设备业务数据"}),
    )
    .await?;
    Ok(records)
}

/// A month of repair tickets already dealt with in Zhangdian (most in time, a few late), so
/// the street score's maintenance indicator has something to weigh.
async fn past_tickets(
    app: &App,
    communities: &[Community],
    rng: &mut StdRng,
    now: i64,
) -> anyhow::Result<()> {
    let month_start = {
        let date = cst_date(now);
        let (y, m) = (
            date[..4].parse::<i32>().unwrap_or(2026),
            date[5..7].parse::<u32>().unwrap_or(1),
        );
        cst(y, m, 1, 0)
    };
    let span = now - DAY_MS - month_start;
    if span <= DAY_MS {
        return Ok(());
    }
    let candidates: Vec<(&Community, &Seeded)> = communities
        .iter()
        .filter(|c| c.district == ZHANGDIAN && matches!(c.fate, Fate::Done { .. }))
        .flat_map(|c| c.devices.iter().map(move |d| (c, d)))
        .filter(|(_, d)| d.health == Health::Online)
        .collect();
    let sla: HashMap<&str, i64> = CONTRACTORS.iter().map(|(n, h, _)| (*n, *h)).collect();
    let mut tx = app.store().write().await?;
    let mut picked = BTreeMap::new();
    while picked.len() < 14 && picked.len() < candidates.len() {
        let (c, d) = candidates[rng.gen_range(0..candidates.len())];
        picked.insert(d.id, (c, d));
    }
    for (n, (c, d)) in picked.into_values().enumerate() {
        let hours = sla.get(c.contractor).copied().unwrap_or(48);
        let opened = month_start + rng.gen_range(0..span);
        // One in five repaired late.
        let took = if n % 5 == 4 {
            hours + rng.gen_range(4..30)
        } else {
            rng.gen_range(2..hours)
        };
        let resolved = (opened + took * HOUR_MS).min(now - HOUR_MS);
        if let Some(id) = tx
            .insert_ticket(&TicketRow {
                id: 0,
                device_id: d.id,
                community_id: c.id,
                contractor: c.contractor.to_string(),
                reason: "offline".into(),
                opened_at: opened,
                due_at: opened + hours * HOUR_MS,
                resolved_at: None,
                resolved_by: None,
                note: String::new(),
            })
            .await?
        {
            tx.resolve_ticket(id, resolved, DEMO_ACTOR, "演示数据：已修复（历史工单补录）")
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The targets as the documents state them, entered through the application.
async fn targets(app: &App, admin: &Principal, annex: &[Community]) -> anyhow::Result<()> {
    let spec = |scope: &str, year, segment: &str, metric: &str, percent, source: &str| TargetSpec {
        scope: scope.into(),
        year,
        segment: segment.into(),
        metric: metric.into(),
        percent,
        source: source.into(),
    };
    const YY: &str = "源政办字〔2020〕68号";
    let mut yiyuan = vec![
        spec(
            demo::DISTRICT,
            2020,
            "all",
            "built",
            33.3,
            &format!("{YY} 二：每年完成总量三分之一"),
        ),
        spec(
            demo::DISTRICT,
            2021,
            "all",
            "built",
            66.7,
            &format!("{YY} 二：每年完成总量三分之一"),
        ),
        spec(
            demo::DISTRICT,
            2022,
            "all",
            "built",
            100.0,
            &format!("{YY} 二：至2022年底全部达标"),
        ),
    ];
    // The annex: its two streets finish their communities in 2020.
    let mut tx = app.store().read().await?;
    let mut streets: Vec<String> = Vec::new();
    for c in annex {
        if let Some(row) = tx.community(c.id).await? {
            let street = tx
                .list_streets(&Filter::default(), Page::ALL)
                .await?
                .items
                .into_iter()
                .find(|s| s.id == row.street_id);
            if let Some(s) = street
                && !streets.contains(&s.code)
            {
                streets.push(s.code);
            }
        }
    }
    drop(tx);
    for code in &streets {
        yiyuan.push(spec(
            code,
            2020,
            "all",
            "built",
            100.0,
            &format!("{YY} 附件：2020年底前完成"),
        ));
    }
    app.set_programme_targets(admin, demo::DISTRICT, &yiyuan).await?;
    const ZD: &str = "张店区智慧安防社区政策解读";
    let zhangdian = vec![
        spec(ZHANGDIAN, 2020, "all", "built", 80.0, &format!("{ZD} 四(一)")),
        spec(ZHANGDIAN, 2021, "all", "built", 90.0, &format!("{ZD} 四(一)")),
        spec(ZHANGDIAN, 2022, "all", "built", 100.0, &format!("{ZD} 四(一)")),
        spec(
            ZHANGDIAN,
            2020,
            "property_type:old",
            "built",
            100.0,
            &format!("{ZD} 四(四)1"),
        ),
        spec(
            ZHANGDIAN,
            2020,
            "property_type:commercial+village",
            "built",
            60.0,
            &format!("{ZD} 四(四)1"),
        ),
        spec(
            ZHANGDIAN,
            2021,
            "property_type:commercial+village",
            "built",
            80.0,
            &format!("{ZD} 四(四)2"),
        ),
        spec(
            ZHANGDIAN,
            2022,
            "property_type:commercial+village",
            "built",
            100.0,
            &format!("{ZD} 四(四)3"),
        ),
        spec(
            ZHANGDIAN,
            2021,
            "category:new_built",
            "built",
            100.0,
            &format!("{ZD} 四(四)2"),
        ),
        spec(
            ZHANGDIAN,
            2022,
            "category:new_built",
            "built",
            100.0,
            &format!("{ZD} 四(四)2"),
        ),
        spec(
            ZHANGDIAN,
            2022,
            "all",
            "networked",
            100.0,
            &format!("{ZD} 四(四)3"),
        ),
    ];
    app.set_programme_targets(admin, ZHANGDIAN, &zhangdian).await?;
    Ok(())
}

/// Whether a device of `kind` reports only by keepalives (video over GB/T 28181, alarm devices'
/// heartbeats): the demo stands in for them.
fn keeps_alive(kind: DeviceKind) -> bool {
    matches!(
        kind,
        DeviceKind::VideoCamera | DeviceKind::Nvr | DeviceKind::PerimeterSensor | DeviceKind::AlarmButton
    )
}

/// Whether the demo's GB/T 28181 devices (`sim_gb`) keep a device of `kind` networked over SIP
/// (registrations, keepalives, catalogues): the keepalive loop leaves it alone.
fn over_sip(kind: DeviceKind) -> bool {
    matches!(kind, DeviceKind::VideoCamera | DeviceKind::Nvr)
}

/// Keeps the alarm devices that were reporting alive while the demo runs: every so
/// often (well inside the offline window) each one seen before, without an open offline alarm,
/// is touched as its keepalive would. Devices never seen stay silent; one that went offline stays
/// so until its alarm is closed.
pub(crate) fn spawn_keepalives(app: &App, offline_after_secs: i64) {
    let every =
        std::time::Duration::from_secs(u64::try_from(offline_after_secs / 3).unwrap_or(60).clamp(20, 300));
    let app = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = keepalive(&app).await {
                tracing::warn!(error = %e, "demo keepalives failed");
            }
        }
    });
}

async fn keepalive(app: &App) -> anyhow::Result<usize> {
    let now = app.clock().now_ms();
    let mut tx = app.store().write().await?;
    let offline: Vec<i64> = tx
        .list_alarms(
            &AlarmFilter {
                open: true,
                kind: Some("device_offline".into()),
                ..AlarmFilter::default()
            },
            Page::ALL,
        )
        .await?
        .items
        .into_iter()
        .filter_map(|a| a.device_id)
        .collect();
    let alive = |d: &DeviceRow| {
        d.community_id.is_some()
            && d.last_seen_at.is_some()
            && DeviceKind::parse(&d.kind).is_ok_and(|k| keeps_alive(k) && !over_sip(k))
            && !offline.contains(&d.id)
    };
    let devices: Vec<i64> = tx
        .list_devices(&Filter::default(), Page::ALL)
        .await?
        .items
        .into_iter()
        .filter(alive)
        .map(|d| d.id)
        .collect();
    for id in &devices {
        tx.touch_device(*id, now, None, None).await?;
    }
    tx.commit().await?;
    Ok(devices.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anfang_domain::programme::TargetMetric;

    #[tokio::test]
    async fn the_seeded_programme_is_measured_from_the_registry_and_the_data() {
        let dir = tempfile::tempdir().unwrap();
        crate::datadir::init(dir.path()).await.unwrap();
        let app = crate::datadir::open(dir.path()).await.unwrap();
        let password = app.reset_password("cli", "admin").await.unwrap();
        let admin = app.login("admin", &password).await.unwrap().principal;
        demo::seed(&app, &admin).await.unwrap();
        let users = seed(&app, &admin, dir.path(), 600).await.unwrap();
        // The political-legal account reads both districts.
        let (name, password) = users.iter().find(|(u, _)| u == "zfw-demo").unwrap();
        let zfw = app.login(name, password).await.unwrap().principal;

        // Zhangdian's registry in the documents' proportions.
        let zd = app.programme_summary(&zfw, ZHANGDIAN).await.unwrap();
        assert_eq!(zd.communities, 475);
        let by: BTreeMap<&str, u64> = zd.by_category.iter().map(|(c, n)| (c.as_str(), *n)).collect();
        assert_eq!(by["open_closable"], 37);
        assert_eq!(by["open_video_only"], 173);
        assert_eq!(by["new_built"] + by["existing_closed"], 225);
        assert_eq!(by["village"], 40);
        let measured = app.programme_measured(&zfw, None, None).await.unwrap();
        let property = |p: PropertyType| {
            measured
                .communities
                .iter()
                .filter(|c| c.district_code == ZHANGDIAN && c.property_type == p)
                .count()
        };
        assert_eq!(property(PropertyType::Old), 210);
        assert_eq!(property(PropertyType::Commercial), 225);
        assert_eq!(property(PropertyType::Village), 40);
        // Most devices report, not all; most kits are complete, the building sites' are not.
        let pct = zd.total.networked_pct().unwrap();
        assert!(
            zd.total.installed > 5000 && (80.0..99.0).contains(&pct),
            "{:?}",
            zd.total
        );
        assert!(
            zd.kit_complete > 460 && zd.kit_complete < 475,
            "{}",
            zd.kit_complete
        );
        assert!(zd.covered > 100 && zd.covered < zd.kit_complete, "{}", zd.covered);

        // Progress against the stated targets, computed from the stage history.
        let rows = app.progress_report(&zfw, ZHANGDIAN).await.unwrap();
        let row = |year: i32, segment: &str, metric: TargetMetric| {
            rows.iter()
                .find(|r| {
                    r.level == "district" && r.year == year && r.segment == segment && r.metric == metric
                })
                .unwrap_or_else(|| panic!("{year} {segment}"))
        };
        let y2020 = row(2020, "all", TargetMetric::Built);
        assert_eq!(
            (y2020.target_pct, y2020.reached, y2020.communities),
            (Some(80.0), 350, 475)
        );
        assert_eq!(
            y2020.sum_of_parts_pct,
            Some(77.68),
            "100 % of 210 old and 60 % of 265"
        );
        assert_eq!(y2020.short_of_target, Some(30));
        assert_eq!(row(2020, "property_type:old", TargetMetric::Built).reached, 200);
        assert_eq!(row(2021, "all", TargetMetric::Built).reached, 424);
        assert_eq!(row(2021, "category:new_built", TargetMetric::Built).reached, 78);
        assert_eq!(row(2022, "all", TargetMetric::Built).reached, 468);
        let networked = row(2022, "all", TargetMetric::Networked);
        assert!(
            networked.reached > 420 && networked.reached < 468,
            "{}",
            networked.reached
        );

        // Yiyuan's annex: 14 of 16 accepted in 2020; each street short of its annex target by one.
        let rows = app.progress_report(&zfw, demo::DISTRICT).await.unwrap();
        let annex: Vec<(&str, u64, u64, Option<u64>)> = rows
            .iter()
            .filter(|r| r.year == 2020 && r.segment == "all")
            .map(|r| (r.code.as_str(), r.communities, r.reached, r.short_of_target))
            .collect();
        assert_eq!(
            annex,
            vec![
                (demo::DISTRICT, 16, 14, Some(0)),
                ("370323001", 10, 9, Some(1)),
                ("370323002", 6, 5, Some(1)),
            ]
        );
        let tasks = app.task_table(&zfw, Some(demo::DISTRICT)).await.unwrap();
        let unfinished = tasks
            .iter()
            .find(|t| t.community == demo::UNDER_CONSTRUCTION)
            .unwrap();
        assert_eq!(unfinished.gaps.len(), 2, "{:?}", unfinished.gaps);
        assert_eq!(unfinished.stage, Some(Stage::UnderConstruction));

        // Today's events went through the application: the acceptance request with its live
        // checklist, the offline alarms with their tickets.
        let requested = tasks.iter().find(|t| t.community == YIYUAN_REQUESTED).unwrap();
        assert_eq!(requested.stage, Some(Stage::AcceptanceRequested));
        let views = app
            .project_acceptances(&zfw, requested.project_id.unwrap())
            .await
            .unwrap();
        assert_eq!(views.len(), 1);
        assert!(
            views[0]
                .checks
                .iter()
                .any(|c| c.code == "kit_complete" && c.passed)
        );
        let open = app.list_tickets(&zfw, 0, i64::MAX / 2, true).await.unwrap();
        assert_eq!(open.len(), 3, "{open:?}");
        let contractors: Vec<&str> = open.iter().map(|t| t.contractor.as_str()).collect();
        for (name, _, _) in CONTRACTORS {
            assert!(contractors.contains(name), "{contractors:?}");
        }
        // The keepalives touch the alarm devices that report, not the offline ones; video
        // devices are kept networked over SIP (`sim_gb`).
        let touched = keepalive(&app).await.unwrap();
        // Measured: 425 on this seed (the perimeter sensors and alarm buttons that reported,
        // less the ones with an open offline alarm); before `sim_gb` took the video devices it counted
        // them too (over 1500). 400 fails if a kind of alarm device drops out of the loop.
        assert!(touched >= 400, "{touched}");
        assert_eq!(app.raise_offline_alarms(600_000).await.unwrap(), 0);
    }
}
