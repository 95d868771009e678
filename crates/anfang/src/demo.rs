//! `anfang demo`: a seeded demo district — Yiyuan County's annex communities (Lishan street's
//! 10 and Nanma street's 6) with buildings, houses, places, the devices each category
//! requires, a few hundred synthetic residents each (valid ID check digits, region 370323,
//! clearly synthetic names) and 鲁C vehicles — deterministic from a fixed seed, then served.
//!
//! Residents and vehicles go in through the real spreadsheet import, so the demo exercises
//! the same path an operator uses. The district programme (build projects, targets, a second,
//! synthetic district, a week of device data) is `demo_programme`'s.

use crate::{bind, config, datadir, serve};
use anfang_app::excel::{self, SheetKind};
use anfang_app::registry::{
    CreateBuilding, CreateCommittee, CreateCommunity, CreateDevice, CreateGrid, CreateOrganisation,
    CreatePlace, CreateStreet, CreateUnit,
};
use anfang_app::{App, Principal};
use anfang_domain::GbCode;
use anfang_domain::id_number::gb11643_check_char;
use anfang_domain::model::{CommunityCategory, DeviceKind};
use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::path::Path;

/// The seed every demo starts from.
const SEED: u64 = 2020;
/// Yiyuan County's administrative code.
pub(crate) const DISTRICT: &str = "370323";
/// The annex community whose project is still under construction: two of its road points
/// have no plate camera yet, so the programme shows a gap.
pub(crate) const UNDER_CONSTRUCTION: &str = "巨源小区";

/// A street of the demo: code, name, and its communities with their categories.
type DemoStreet = (
    &'static str,
    &'static str,
    &'static [(&'static str, CommunityCategory)],
);

/// Yiyuan County's annex: Lishan street's 10 and Nanma street's 6 communities.
const STREETS: &[DemoStreet] = &[
    (
        "370323001",
        "历山街道",
        &[
            ("翡翠山景小区", CommunityCategory::NewBuilt),
            ("沂河嘉园", CommunityCategory::ExistingClosed),
            ("和源名居居民小区", CommunityCategory::ExistingClosed),
            ("秀水湾小区", CommunityCategory::NewBuilt),
            ("塔山小区", CommunityCategory::OpenClosable),
            ("沂蒙佳苑", CommunityCategory::ExistingClosed),
            ("源泰家园小区", CommunityCategory::OpenVideoOnly),
            ("怡居苑", CommunityCategory::ExistingClosed),
            ("印象书香小区", CommunityCategory::NewBuilt),
            ("金色家园", CommunityCategory::ExistingClosed),
        ],
    ),
    (
        "370323002",
        "南麻街道",
        &[
            ("西台新居", CommunityCategory::NewBuilt),
            ("鲁阳小区", CommunityCategory::OpenClosable),
            ("水韵康庭小区", CommunityCategory::ExistingClosed),
            ("怡康嘉苑", CommunityCategory::NewBuilt),
            ("巨源小区", CommunityCategory::OpenVideoOnly),
            ("西城华府小区", CommunityCategory::NewBuilt),
        ],
    ),
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
];

/// Runs the demo: init if needed, seed if empty, print how to log in, serve.
pub async fn run(data_dir: &Path, listen: Option<&str>) -> anyhow::Result<()> {
    if !data_dir.join(config::CONFIG_FILE).exists() {
        datadir::init(data_dir).await?;
    }
    let config = config::Config::load(data_dir)?;
    let app = datadir::open_with(data_dir, &config).await?;
    // The demo prints a fresh admin password on every start: the old one exists only as a hash.
    let admin_password = app.reset_password("cli", "admin").await?;
    let admin = app.login("admin", &admin_password).await?.principal;
    let mut extra_users = Vec::new();
    if app
        .list_streets(&admin, &Default::default(), Default::default())
        .await?
        .total
        == 0
    {
        println!("seeding the demo district (Yiyuan County annex, 16 communities)…");
        let started = std::time::Instant::now();
        extra_users = seed(&app, &admin).await?;
        println!("seeded in {:.1} s", started.elapsed().as_secs_f64());
        println!(
            "seeding the district programme (Yiyuan's annex projects, Zhangdian's 475 synthetic communities)…"
        );
        let started = std::time::Instant::now();
        extra_users.extend(
            crate::demo_programme::seed(&app, &admin, data_dir, config.alarms.offline_after_secs).await?,
        );
        println!("programme seeded in {:.1} s", started.elapsed().as_secs_f64());
    }
    let listener = match listen {
        Some(addr) => bind(addr, "--listen").await?,
        None => match bind(&config.server.listen, "server.listen").await {
            Ok(l) => l,
            Err(_) => bind("127.0.0.1:0", "--listen").await?,
        },
    };
    let addr = listener.local_addr()?;
    let app = crate::prepared(app, &config).await?;
    // Video and alarm devices the simulator does not drive keep reporting, as their keepalives
    // would, so the networking rate measures something; the few that went offline stay so.
    crate::demo_programme::spawn_keepalives(&app, config.alarms.offline_after_secs);
    let pipeline = anfang_pipeline::Pipeline::start(app.clone(), anfang_pipeline::PipelineConfig::default());
    // The demo never competes for the standard MQTT port: its embedded broker takes a free one.
    let free: std::net::SocketAddr = "127.0.0.1:0".parse()?;
    let devices = crate::mqtt::start(&app, &pipeline, &config.mqtt, Some(free)).await?;
    // GB/T 28181: on a free loopback port unless `[gb28181]` is enabled with its own address.
    let sip_listen = (!config.gb28181.enabled).then_some(free);
    let video = crate::video::start(&app, &pipeline, &config.gb28181, sip_listen).await?;
    let live = crate::video_live::LiveHub::new(&app, video.platform.clone(), video.platform.advertised_ip());
    let app = app.with_live_video(std::sync::Arc::new(live));
    println!("Anfang demo at http://{addr}/  (API docs: http://{addr}/api/docs)");
    if let Some(devices) = &devices {
        println!("devices: {devices}");
    }
    println!(
        "video: sip://{} (GB/T 28181, platform id {}, domain {})",
        video.sip_addr(),
        video.platform_id(),
        video.domain()
    );
    println!("admin password: {admin_password}");
    for (user, password) in &extra_users {
        println!("demo user {user} password: {password}");
    }
    // Live traffic for the console: simulated door terminals against the demo's own broker.
    if let Some(port) = devices
        .as_deref()
        .and_then(|d| d.split(':').nth(2))
        .and_then(|p| p.split(' ').next())
        .and_then(|p| p.parse::<u16>().ok())
    {
        let terminals = crate::sim_terminals(&app, 24).await?;
        println!("simulating {} door terminals", terminals.len());
        // Two residents' faces enrolled, then a passer-by before a face terminal every 12 s: in
        // the background, as embedding photos takes seconds and the server must answer now.
        let (face_app, face_admin, base) = (app.clone(), admin.clone(), format!("http://{addr}"));
        let models = config.recognition.models().dir;
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let faces = crate::demo_faces::prepare(&face_app, &face_admin, &models, &base)
                .await
                .unwrap_or_else(|e| {
                    println!("demo faces not prepared ({e:#}): the terminals present cards only");
                    None
                });
            if faces.is_some() {
                println!(
                    "simulating face captures at the face terminals (a passer-by every 12 s; faces ready in {:.1} s)",
                    started.elapsed().as_secs_f64()
                );
            }
            crate::sim::spawn_terminals("127.0.0.1", port, terminals, 15.0, faces.map(|f| (f, 12.0)));
        });
        // Perimeter sensors and SOS buttons: rare alarms (one per device an hour on average).
        let sensors = crate::sim_sensors(&app, 200).await?;
        println!("simulating {} perimeter sensors and alarm buttons", sensors.len());
        crate::sim::spawn_sensors("127.0.0.1", port, sensors, 60.0);
        let wands = crate::sim_patrols(&app).await?;
        println!("simulating {} guards walking patrol routes", wands.len());
        crate::sim::spawn_patrols("127.0.0.1", port, wands);
    }
    // Every community's NVR (or its cameras) registers over GB/T 28181 with real H.264 video.
    let pattern = crate::sim_gb::encode_pattern()?;
    println!(
        "encoded the cameras' H.264 test pattern ({} frames {}x{}) in {} ms",
        pattern.frames.len(),
        crate::sim_gb::WIDTH,
        crate::sim_gb::HEIGHT,
        pattern.encode_time.as_millis()
    );
    let gb_devices = crate::sim_gb::demo_devices(&app).await?;
    println!(
        "simulating {} GB/T 28181 devices (NVRs with their cameras)",
        gb_devices.len()
    );
    let mut sip = video.sip_addr();
    if sip.ip().is_unspecified() {
        sip.set_ip(std::net::IpAddr::from([127, 0, 0, 1]));
    }
    let _gb_devices = crate::sim_gb::spawn_devices(
        gb_devices,
        sip,
        video.domain().to_string(),
        60,
        crate::sim_gb::ReplaySource(crate::sim_gb::Replay::new(std::sync::Arc::new(pattern))),
        std::time::Duration::from_secs(20),
    );
    // Gates and booths push over HTTP to the demo's own server.
    let lanes = crate::sim_lanes(&app, 8).await?;
    println!(
        "simulating the barrier gates and smart booths of {} communities",
        lanes.len()
    );
    crate::sim_push::spawn_lanes(&format!("http://{addr}"), lanes, 30.0);
    serve(app, listener, pipeline, &config).await
}

/// A synthetic 18-digit resident ID number in region 370323.
fn id_number(rng: &mut StdRng, seq: u32, female: bool) -> String {
    let year = rng.gen_range(1940..=2015);
    let month = rng.gen_range(1..=12);
    let day = rng.gen_range(1..=28);
    let order = (seq % 500) * 2 + if female { 0 } else { 1 };
    let first17 = format!("{DISTRICT}{year:04}{month:02}{day:02}{order:03}");
    let check = gb11643_check_char(&first17).expect("17 digits");
    format!("{first17}{check}")
}

fn code(centre: u32, type_code: u16, serial: u32) -> anyhow::Result<String> {
    Ok(
        GbCode::compose(&format!("{DISTRICT}{centre:02}"), "00", type_code, 0, serial)?
            .as_str()
            .to_string(),
    )
}

/// GB/T 28181 type code used for each device kind.
pub(crate) fn type_code(kind: DeviceKind) -> u16 {
    match kind {
        DeviceKind::Nvr => 118,
        DeviceKind::VideoCamera => 131,
        DeviceKind::PerimeterSensor | DeviceKind::AlarmButton => 134,
        DeviceKind::DoorController | DeviceKind::PatrolCheckpoint | DeviceKind::PatrolReader => 135,
        _ => 132,
    }
}

pub(crate) async fn seed(app: &App, admin: &Principal) -> anyhow::Result<Vec<(String, String)>> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut serial = 0u32;
    let mut people = 0u32;
    let mut users = Vec::new();
    for (street_index, (street_code, street_name, communities)) in STREETS.iter().enumerate() {
        let street = app
            .create_street(
                admin,
                &CreateStreet {
                    district_code: DISTRICT.into(),
                    code: (*street_code).into(),
                    name: (*street_name).into(),
                },
            )
            .await?;
        let committee = app
            .create_committee(
                admin,
                &CreateCommittee {
                    street_id: street.id,
                    code: format!("{street_code}001"),
                    name: format!("{}社区居委会", street_name.trim_end_matches("街道")),
                    kind: "residents".into(),
                },
            )
            .await?;
        for (index, (name, category)) in communities.iter().enumerate() {
            let community_code = format!("{street_code}001{:03}", index + 1);
            let property = match category {
                CommunityCategory::OpenClosable | CommunityCategory::OpenVideoOnly => "old",
                CommunityCategory::Village => "village",
                _ => "commercial",
            };
            let community = app
                .create_community(
                    admin,
                    &CreateCommunity {
                        committee_id: committee.id,
                        code: community_code.clone(),
                        name: (*name).into(),
                        category: category.as_str().into(),
                        property_type: property.into(),
                        address: format!("山东省淄博市沂源县{street_name}{name}"),
                        site_width: 400.0,
                        site_height: 300.0,
                        police_area: Some(format!("{}警务区", street_name.trim_end_matches("街道"))),
                    },
                )
                .await?;
            for (g, grid) in ["第一网格", "第二网格"].iter().enumerate() {
                let req = CreateGrid {
                    community_id: community.id,
                    code: format!("{community_code}-G{}", g + 1),
                    name: (*grid).into(),
                };
                app.create_grid(admin, &req).await?;
            }
            for (shop, kind) in [("便民超市", "shop"), ("社区卫生服务站", "clinic")] {
                let req = CreateOrganisation {
                    community_id: community.id,
                    house_id: None,
                    name: format!("{name}{shop}（演示）"),
                    credit_code: None,
                    kind: kind.into(),
                };
                app.create_organisation(admin, &req).await?;
            }
            let buildings = rng.gen_range(3..=6);
            let floors = if *category == CommunityCategory::NewBuilt {
                rng.gen_range(11..=18)
            } else {
                6
            };
            let mut house_rows = Vec::new();
            let mut unit_ids = Vec::new();
            let mut building_at = Vec::new();
            for b in 1..=buildings {
                let building = app
                    .create_building(
                        admin,
                        &CreateBuilding {
                            community_id: community.id,
                            number: b.to_string(),
                            name: None,
                            floors,
                            x: 60.0 + 70.0 * f64::from((b - 1) % 4),
                            y: 80.0 + 110.0 * f64::from((b - 1) / 4),
                        },
                    )
                    .await?;
                building_at.push((building.x, building.y));
                for u in 1..=2 {
                    let unit = app
                        .create_unit(
                            admin,
                            &CreateUnit {
                                building_id: building.id,
                                number: u.to_string(),
                            },
                        )
                        .await?;
                    unit_ids.push((unit.id, b, u));
                    // Houses on the first six floors only keep the demo small.
                    for floor in 1..=floors.min(6) {
                        for door in 1..=2 {
                            let use_kind = match rng.gen_range(0..10) {
                                0 => "vacant",
                                1 | 2 => "rented",
                                _ => "owner_occupied",
                            };
                            let mut row = BTreeMap::new();
                            row.insert("building", b.to_string());
                            row.insert("unit", u.to_string());
                            row.insert("number", format!("{floor}{door:02}"));
                            row.insert("floor", floor.to_string());
                            row.insert("area_m2", rng.gen_range(60..=140).to_string());
                            row.insert("use", use_kind.to_string());
                            house_rows.push(row);
                        }
                    }
                }
            }
            import(app, admin, SheetKind::Houses, community.id, &house_rows).await?;
            let query = anfang_app::registry::ListQuery {
                community_id: Some(community.id),
                ..Default::default()
            };
            let page = anfang_app::registry::PageRequest {
                page: 1,
                page_size: anfang_app::registry::MAX_PAGE_SIZE,
            };
            let mut houses = Vec::new();
            for house in app.list_houses(admin, &query, page).await?.items {
                let (b, u) = unit_ids
                    .iter()
                    .find(|(id, _, _)| *id == house.unit_id)
                    .map(|(_, b, u)| (*b, *u))
                    .unwrap_or((0, 0));
                houses.push((house, b, u));
            }
            seed_places_and_devices(
                app,
                admin,
                community.id,
                *category,
                &unit_ids,
                &building_at,
                *name == UNDER_CONSTRUCTION,
                street_index as u32,
                &mut serial,
            )
            .await?;
            if matches!(
                category,
                CommunityCategory::NewBuilt
                    | CommunityCategory::ExistingClosed
                    | CommunityCategory::OpenClosable
            ) {
                let guard = seed_patrol(
                    app,
                    admin,
                    community.id,
                    &community_code,
                    name,
                    street_index as u32,
                    &mut serial,
                )
                .await?;
                if street_index == 0 && index == 0 {
                    users.push(guard);
                }
            }
            // Residents and vehicles through the spreadsheet import.
            let mut person_rows = Vec::new();
            let mut vehicle_rows = Vec::new();
            for (house, b, u) in &houses {
                if house.use_kind == "vacant" {
                    continue;
                }
                let tenant = house.use_kind == "rented";
                for member in 0..rng.gen_range(1..=4) {
                    people += 1;
                    let female = rng.gen_bool(0.5);
                    let id = id_number(&mut rng, people, female);
                    let mut row = BTreeMap::new();
                    row.insert(
                        "name",
                        format!("{}演示{:04}", SURNAMES[rng.gen_range(0..SURNAMES.len())], people),
                    );
                    row.insert("gender", if female { "female" } else { "male" }.to_string());
                    row.insert("id_type", "resident_id".to_string());
                    row.insert("phone", format!("170{:08}", 10_000_000 + people));
                    row.insert(
                        "population_type",
                        if tenant { "floating" } else { "registered" }.to_string(),
                    );
                    row.insert("building", b.to_string());
                    row.insert("unit", u.to_string());
                    row.insert("house", house.number.clone());
                    let role = match (tenant, member) {
                        (true, _) => "tenant",
                        (false, 0) => "owner",
                        _ => "family",
                    };
                    row.insert("role", role.to_string());
                    if tenant {
                        row.insert("lease_start", "2026-03-01".to_string());
                        row.insert(
                            "lease_end",
                            if rng.gen_bool(0.2) {
                                "2026-12-31"
                            } else {
                                "2027-02-28"
                            }
                            .to_string(),
                        );
                    }
                    let birth_year: u32 = id[6..10].parse().unwrap_or(1980);
                    if birth_year < 1950 && rng.gen_bool(0.3) {
                        row.insert("tags", "独居老人".to_string());
                    }
                    if member == 0 && rng.gen_bool(0.45) {
                        // Serials come from the person counter, so plates never collide.
                        let plate = if rng.gen_bool(0.2) {
                            format!("鲁C{}{:05}", ['D', 'F'][rng.gen_range(0..2)], people)
                        } else {
                            let letters = ['A', 'B', 'C', 'E', 'G', 'H', 'K', 'M'];
                            format!(
                                "鲁C{}{:04}",
                                letters[(people / 10_000) as usize % letters.len()],
                                people % 10_000
                            )
                        };
                        let mut v = BTreeMap::new();
                        v.insert(
                            "plate_color",
                            if plate.len() > 9 { "green" } else { "blue" }.to_string(),
                        );
                        v.insert("plate_number", plate);
                        v.insert("owner_id_number", id.clone());
                        vehicle_rows.push(v);
                    }
                    row.insert("id_number", id);
                    person_rows.push(row);
                }
            }
            import(app, admin, SheetKind::Persons, community.id, &person_rows).await?;
            import(app, admin, SheetKind::Vehicles, community.id, &vehicle_rows).await?;
            // Door cards for the first residents, so terminals have libraries to work from.
            let query = anfang_app::registry::ListQuery {
                community_id: Some(community.id),
                ..Default::default()
            };
            let first = anfang_app::registry::PageRequest {
                page: 1,
                page_size: 60,
            };
            for person in app.list_persons(admin, &query, first).await?.items {
                let req = anfang_app::access::IssueCredential {
                    kind: "card".into(),
                    value: format!("{:08X}", 0xA000_0000_u32 + person.id as u32),
                    valid_until: None,
                };
                app.issue_credential(admin, person.id, &req).await?;
            }
            println!(
                "  {street_name} {name}: {} houses, {} residents, {} vehicles",
                houses.len(),
                person_rows.len(),
                vehicle_rows.len()
            );
            if street_index == 0 && index == 0 {
                let pm = format!("pm-{community_code}");
                let req = anfang_app::auth::CreateUser {
                    username: pm.clone(),
                    role: "property_manager".into(),
                    scope: format!("community:{community_code}"),
                    display_name: Some(format!("{name}物业经理")),
                };
                users.push((pm, app.create_user("cli", &req).await?.1));
            }
        }
        let police = format!("police-{street_code}");
        let req = anfang_app::auth::CreateUser {
            username: police.clone(),
            role: "community_police".into(),
            scope: format!("street:{street_code}"),
            display_name: Some(format!("{street_name}社区民警")),
        };
        users.push((police, app.create_user("cli", &req).await?.1));
    }
    seed_watch_list(app).await?;
    Ok(users)
}

/// A plate disposition as the police platform would send it (GA/T 1400 布控), so the simulated
/// gates can now and then let that car drive up and the police console shows a hit to confirm.
async fn seed_watch_list(app: &App) -> anyhow::Result<()> {
    let now = app.clock().now_ms();
    let mut tx = app.store().write().await?;
    tx.upsert_watch_entry(&anfang_store::WatchEntryRow {
        id: 0,
        source: "viid:demo-police".into(),
        external_id: "370323000000DEMO0001".into(),
        category: "motor_vehicle".into(),
        plate: Some("鲁C7J597".into()),
        title: "涉案车辆（演示布控）".into(),
        status: "active".into(),
        begin_at: now,
        end_at: now + 365 * 86_400_000,
        body: "{\"CaseRef\":\"演示案件 2026-001\"}".into(),
        image_keys: "[]".into(),
        created_at: now,
        updated_at: now,
    })
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn import(
    app: &App,
    admin: &Principal,
    kind: SheetKind,
    community_id: i64,
    rows: &[BTreeMap<&'static str, String>],
) -> anyhow::Result<()> {
    let bytes = excel::write_rows(kind, rows)?;
    let summary = app
        .import_sheet(Some(admin), kind, community_id, &bytes, None)
        .await?;
    if let Some(e) = summary.errors.first() {
        anyhow::bail!(
            "demo {} row {} rejected: {} {}",
            kind.as_str(),
            e.row,
            e.field,
            e.message
        );
    }
    Ok(())
}

/// A place to create: kind, name, x, y, attended, unit served, and the devices it gets.
type DemoPlace = (&'static str, String, f64, f64, bool, Option<i64>, Vec<DeviceKind>);

/// A closed community's electronic patrol: checkpoints round the site, a guard with a patrol
/// wand, and a route walked every half hour (so the demo judges rounds soon after it starts).
/// Returns the guard's login and password.
async fn seed_patrol(
    app: &App,
    admin: &Principal,
    community_id: i64,
    community_code: &str,
    name: &str,
    street_index: u32,
    serial: &mut u32,
) -> anyhow::Result<(String, String)> {
    let mut checkpoints = Vec::new();
    for (n, (spot, x, y)) in [
        ("南门岗", 200.0, 290.0),
        ("东侧围墙", 390.0, 150.0),
        ("北侧围墙", 200.0, 10.0),
        ("西侧围墙", 10.0, 150.0),
    ]
    .iter()
    .enumerate()
    {
        *serial += 1;
        let req = CreateDevice {
            code: code(street_index + 1, 135, *serial)?,
            name: Some(format!("巡更点{} {spot}", n + 1)),
            kind: "patrol_checkpoint".into(),
            protocol: "mqtt".into(),
            community_id: Some(community_id),
            x: Some(*x),
            y: Some(*y),
            install_date: Some("2020-10-30".into()),
            ..CreateDevice::default()
        };
        let (device, _) = app.create_device(Some(admin), &req).await?;
        checkpoints.push(anfang_app::patrol::RouteCheckpoint {
            device_id: device.id,
            offset_minutes: 6 * n as u32,
        });
    }
    *serial += 1;
    let wand = CreateDevice {
        code: code(street_index + 1, 135, *serial)?,
        name: Some("巡更棒".into()),
        kind: "patrol_reader".into(),
        protocol: "mqtt".into(),
        community_id: Some(community_id),
        install_date: Some("2020-10-30".into()),
        ..CreateDevice::default()
    };
    app.create_device(Some(admin), &wand).await?;
    let login = format!("guard-{community_code}");
    let req = anfang_app::auth::CreateUser {
        username: login.clone(),
        role: "guard".into(),
        scope: format!("community:{community_code}"),
        display_name: Some(format!("{name}保安")),
    };
    let (guard, password) = app.create_user("cli", &req).await?;
    let times: Vec<String> = (0..48)
        .map(|h| format!("{:02}:{:02}", h / 2, 30 * (h % 2)))
        .collect();
    let route = anfang_app::patrol::CreateRoute {
        community_id,
        name: "日常巡更".into(),
        checkpoints,
        times: format!("1-7 {}", times.join(",")),
        guard_user_id: Some(guard.id),
        window_minutes: 25,
        tolerance_minutes: 5,
    };
    app.create_patrol_route(admin, &route).await?;
    Ok((login, password))
}

/// The places of a community and the devices its category's kit requires (GB/T 28181 codes
/// under the street's centre code). `unfinished` leaves the plate cameras of all but the first
/// road point out: the project is still being built.
#[allow(clippy::too_many_arguments)]
async fn seed_places_and_devices(
    app: &App,
    admin: &Principal,
    community_id: i64,
    category: CommunityCategory,
    units: &[(i64, u32, u32)],
    buildings: &[(f64, f64)],
    unfinished: bool,
    street_index: u32,
    serial: &mut u32,
) -> anyhow::Result<()> {
    let closed = matches!(
        category,
        CommunityCategory::NewBuilt | CommunityCategory::ExistingClosed | CommunityCategory::OpenClosable
    );
    let mut places: Vec<DemoPlace> = Vec::new();
    if closed {
        let unattended = category == CommunityCategory::ExistingClosed;
        let mut gate = vec![DeviceKind::FaceDoorTerminal, DeviceKind::FaceCaptureCamera];
        if unattended {
            gate.push(DeviceKind::SmartBooth);
        }
        places.push((
            "pedestrian_entrance",
            "南门人行出入口".into(),
            200.0,
            295.0,
            !unattended,
            None,
            gate,
        ));
        places.push((
            "vehicle_lane",
            "南门车行入口车道".into(),
            230.0,
            295.0,
            true,
            None,
            vec![DeviceKind::BarrierGate],
        ));
        places.push((
            "vehicle_lane",
            "南门车行出口车道".into(),
            240.0,
            295.0,
            true,
            None,
            vec![DeviceKind::BarrierGate],
        ));
        // A new-built community's car park has a plate-recognition gate at its entrance.
        let car_park = if category == CommunityCategory::NewBuilt {
            vec![DeviceKind::FaceCaptureCamera, DeviceKind::BarrierGate]
        } else {
            vec![DeviceKind::FaceCaptureCamera]
        };
        places.push((
            "car_park",
            "地面停车场".into(),
            330.0,
            250.0,
            false,
            None,
            car_park,
        ));
        if category == CommunityCategory::NewBuilt {
            places.push((
                "garage_entrance",
                "地下车库出入口".into(),
                300.0,
                200.0,
                false,
                None,
                vec![DeviceKind::BarrierGate],
            ));
        }
        for (unit_id, b, u) in units {
            let kinds = if category == CommunityCategory::NewBuilt || *u == 1 {
                vec![DeviceKind::FaceDoorTerminal]
            } else {
                vec![DeviceKind::DoorController]
            };
            places.push((
                "unit_door",
                format!("{b}号楼{u}单元门"),
                60.0 + 70.0 * f64::from((b - 1) % 4),
                100.0 + 110.0 * f64::from((b - 1) / 4),
                false,
                Some(*unit_id),
                kinds,
            ));
        }
        if category != CommunityCategory::NewBuilt {
            for (i, (x, y)) in [(5.0, 150.0), (200.0, 5.0), (395.0, 150.0), (100.0, 295.0)]
                .iter()
                .enumerate()
            {
                places.push((
                    "perimeter_zone",
                    format!("周界防区{}", i + 1),
                    *x,
                    *y,
                    false,
                    None,
                    vec![DeviceKind::PerimeterSensor],
                ));
            }
            places.push((
                "road_point",
                "中心广场巡更点".into(),
                200.0,
                150.0,
                false,
                None,
                vec![DeviceKind::PatrolCheckpoint, DeviceKind::AlarmButton],
            ));
        }
    } else {
        // Face and plate capture at the roads in and out (the open category's kit).
        for (i, (x, y)) in [(0.0, 150.0), (200.0, 0.0), (400.0, 150.0)].iter().enumerate() {
            let mut kinds = vec![DeviceKind::FaceCaptureCamera, DeviceKind::VideoCamera];
            if !unfinished || i == 0 {
                kinds.push(DeviceKind::PlateCaptureCamera);
            }
            places.push((
                "road_point",
                format!("进出道路点位{}", i + 1),
                *x,
                *y,
                false,
                None,
                kinds,
            ));
        }
    }
    let mut cameras = 0;
    for (kind, name, x, y, attended, unit_id, devices) in places {
        let place = app
            .create_place(
                admin,
                &CreatePlace {
                    community_id,
                    kind: kind.into(),
                    name: name.clone(),
                    x,
                    y,
                    attended,
                    unit_id,
                },
            )
            .await?;
        for device in devices {
            *serial += 1;
            let protocol = match device {
                DeviceKind::FaceCaptureCamera | DeviceKind::PlateCaptureCamera => "gat1400",
                DeviceKind::VideoCamera => "gb28181",
                DeviceKind::BarrierGate | DeviceKind::SmartBooth => "http_push",
                _ => "mqtt",
            };
            let req = CreateDevice {
                code: code(street_index + 1, type_code(device), *serial)?,
                name: Some(format!("{name}{}", device.label_zh())),
                kind: device.as_str().into(),
                protocol: protocol.into(),
                community_id: Some(community_id),
                place_id: Some(place.id),
                x: Some(x),
                y: Some(y),
                install_date: Some("2020-10-30".into()),
                contractor: Some("沂源县安防工程有限公司（演示）".into()),
            };
            app.create_device(Some(admin), &req)
                .await
                .context("demo device")?;
            cameras += 1;
        }
    }
    // Video relayed between buildings and along roads (one camera on the road beside each
    // building, well within the relay's reach), recorded by one NVR.
    for (i, (x, y)) in buildings.iter().enumerate() {
        *serial += 1;
        let req = CreateDevice {
            code: code(street_index + 1, 131, *serial)?,
            name: Some(format!("道路视频监控{}", i + 1)),
            kind: "video_camera".into(),
            protocol: "gb28181".into(),
            community_id: Some(community_id),
            x: Some((x + 30.0).min(400.0)),
            y: Some(*y),
            install_date: Some("2020-10-30".into()),
            ..CreateDevice::default()
        };
        app.create_device(Some(admin), &req).await?;
    }
    *serial += 1;
    let nvr = CreateDevice {
        code: code(street_index + 1, 118, *serial)?,
        name: Some("监控室NVR".into()),
        kind: "nvr".into(),
        protocol: "gb28181".into(),
        community_id: Some(community_id),
        install_date: Some("2020-10-30".into()),
        ..CreateDevice::default()
    };
    app.create_device(Some(admin), &nvr).await?;
    tracing::debug!(community_id, cameras, "demo devices registered");
    Ok(())
}
