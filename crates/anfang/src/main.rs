//! The `anfang` binary: command-line interface and composition root. It reads configuration,
//! opens storage, assembles the application and serves it; it holds no business logic.

mod bench;
mod bench_faces;
mod bench_ingest;
mod cascade;
mod config;
mod console;
mod datadir;
mod demo;
mod demo_faces;
mod demo_programme;
mod entry_check;
mod mqtt;
mod notify;
mod sim;
mod sim_gb;
mod sim_push;
mod video;
mod video_live;

use anfang_app::excel::SheetKind;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Anfang (安防): an open smart-security community platform.
#[derive(Debug, Parser)]
#[command(name = "anfang", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a data directory: config, keys, database, admin user (prints its password once).
    Init {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Serve the API and console.
    Serve {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Listen address (overrides server.listen).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Initialise if needed, seed the demo district, and serve it.
    Demo {
        /// The data directory (default ./data/demo).
        #[arg(long, default_value = "data/demo")]
        data_dir: PathBuf,
        /// Listen address (default: 127.0.0.1:8080, or a free port if that is taken).
        #[arg(long)]
        listen: Option<String>,
    },
    /// User administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Device registry.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Import houses, persons or vehicles from an .xlsx file into a community.
    Import {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// houses, persons or vehicles.
        #[arg(long)]
        kind: String,
        /// The community's code.
        #[arg(long)]
        community: String,
        /// The .xlsx file.
        file: PathBuf,
    },
    /// Export a community's houses, persons or vehicles to an .xlsx file.
    Export {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// houses, persons or vehicles.
        #[arg(long)]
        kind: String,
        /// The community's code.
        #[arg(long)]
        community: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Simulated door terminals over MQTT (the demo runs them itself).
    Sim {
        /// The data directory of the platform (for the terminals' codes and secrets).
        #[arg(long)]
        data_dir: PathBuf,
        /// The MQTT broker the platform uses, host:port.
        #[arg(long, default_value = "127.0.0.1:1883")]
        mqtt: String,
        /// How many terminals to play.
        #[arg(long, default_value_t = 20)]
        terminals: i64,
        /// The platform's HTTP address (`http://host:port`): also play the barrier gates and
        /// smart booths registered for HTTP push.
        #[arg(long)]
        http: Option<String>,
        /// Mean seconds between one terminal's card presentations at rush hour.
        #[arg(long, default_value_t = 20.0)]
        pace: f64,
        /// Mean minutes between one perimeter sensor's or alarm button's alarms.
        #[arg(long, default_value_t = 60.0)]
        alarm_minutes: f64,
    },
    /// Benchmarks (figures, not pass/fail).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Write a consistent copy of the database while the server runs.
    Backup {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// The backup file to create.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a user with a generated password (printed once).
    CreateUser {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Login name.
        #[arg(long)]
        username: String,
        /// Role, e.g. community_police, property_manager, district_admin.
        #[arg(long)]
        role: String,
        /// Scope, e.g. district, street:370323001, community:370323001001001, house:42.
        #[arg(long)]
        scope: String,
        /// Display name.
        #[arg(long)]
        display_name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Register a device with a generated secret (printed once).
    Add {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// 20-digit GB/T 28181 code.
        #[arg(long)]
        code: String,
        /// Kind, e.g. face_door_terminal, barrier_gate, smart_booth.
        #[arg(long)]
        kind: String,
        /// Protocol: mqtt, http_push, gat1400, gb28181.
        #[arg(long)]
        protocol: String,
        /// The community's code; without it the device waits to be assigned.
        #[arg(long)]
        community: Option<String>,
        /// Name.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Simulated terminals over MQTT against a self-started platform, beside an in-process baseline.
    Access {
        /// Simulated terminals.
        #[arg(long, default_value_t = 20)]
        terminals: u32,
        /// Target decisions per second over all terminals.
        #[arg(long, default_value_t = 2000)]
        rate: u32,
        /// Seconds of load.
        #[arg(long, default_value_t = 10)]
        seconds: u32,
    },
    /// Concurrent GA/T 1400 clients posting face batches with pictures, durable, beside a raw
    /// SQLite batched insert of the same rows.
    Ingest {
        /// Concurrent clients.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Faces per request.
        #[arg(long, default_value_t = 50)]
        batch: usize,
        /// Faces in all (about 30 KB each is written twice: platform and baseline).
        #[arg(long, default_value_t = 30_000)]
        records: usize,
        /// Picture size in KiB.
        #[arg(long, default_value_t = 30)]
        image_kib: usize,
    },
    /// Faces per second through detection, landmarks and embedding (dlib, real models), with one
    /// worker per core against one worker.
    Embed {
        /// Seconds per run.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Workers (one per core).
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
    /// Plate OCR on rendered scenes: ms per plate on the whole frame and within a region of
    /// interest, and exact-read accuracy.
    Ocr {
        /// Scenes.
        #[arg(long, default_value_t = 500)]
        scenes: usize,
        /// Print the scenes read wrongly.
        #[arg(long)]
        show_misses: bool,
    },
    /// 1:N search over identity-shaped galleries: build, memory, p50/p99 and recall against a
    /// float scan measured in the same run.
    Faces {
        /// Templates in the large gallery.
        #[arg(long, default_value_t = 1_000_000)]
        gallery: usize,
        /// Templates on the live path (a community's residents plus watch-lists).
        #[arg(long, default_value_t = 100_000)]
        live: usize,
        /// Queries per gallery.
        #[arg(long, default_value_t = 1000)]
        queries: usize,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify the hash chain and its checkpoint; exits 1 when tampering is found.
    Verify {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
    },
}

fn main() {
    single_threaded_blas();
    tokio_main();
}

/// dlib's matrix work goes through OpenBLAS, which by default spreads each call over every core;
/// the face workers already run one per core, so the two fight (measured: 44 faces/s with both,
/// 73 with one BLAS thread per worker). OpenBLAS reads `OPENBLAS_NUM_THREADS` when it is loaded,
/// before `main`, so when it is unset the process starts itself again with it set to 1.
fn single_threaded_blas() {
    #[cfg(unix)]
    if std::env::var_os("OPENBLAS_NUM_THREADS").is_none()
        && let Ok(exe) = std::env::current_exe()
    {
        use std::os::unix::process::CommandExt;
        let err = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("OPENBLAS_NUM_THREADS", "1")
            .exec();
        eprintln!("warning: could not restart with OPENBLAS_NUM_THREADS=1: {err}");
    }
}

#[tokio::main]
async fn tokio_main() {
    anfang_base::init_tracing();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}

async fn community_id(app: &anfang_app::App, code: &str) -> anyhow::Result<i64> {
    let mut tx = app.store().read().await?;
    tx.community_by_code(code)
        .await?
        .map(|c| c.id)
        .with_context(|| format!("no community with code {code}"))
}

fn sheet(kind: &str) -> anyhow::Result<SheetKind> {
    SheetKind::parse(kind).context("--kind must be houses, persons or vehicles")
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Init { data_dir } => {
            let password = datadir::init(&data_dir).await?;
            println!("initialised {}", data_dir.display());
            println!("admin password: {password}");
        }
        Command::Serve { data_dir, listen } => {
            let config = config::Config::load(&data_dir)?;
            let listen = listen.unwrap_or_else(|| config.server.listen.clone());
            let app = prepared(datadir::open_with(&data_dir, &config).await?, &config).await?;
            let listener = bind(&listen, "server.listen").await?;
            let pipeline =
                anfang_pipeline::Pipeline::start(app.clone(), anfang_pipeline::PipelineConfig::default());
            let devices = mqtt::start(&app, &pipeline, &config.mqtt, None).await?;
            let video = match config.gb28181.enabled {
                true => Some(video::start(&app, &pipeline, &config.gb28181, None).await?),
                false => None,
            };
            println!("listening on http://{}", listener.local_addr()?);
            if let Some(devices) = devices {
                println!("devices: {devices}");
            }
            if let Some(video) = &video {
                println!(
                    "video: sip://{} (GB/T 28181, platform id {}, domain {})",
                    video.sip_addr(),
                    video.platform_id(),
                    video.domain()
                );
            }
            let app = match &video {
                Some(video) => {
                    let live = video_live::LiveHub::new(
                        &app,
                        video.platform.clone(),
                        video.platform.advertised_ip(),
                    );
                    app.with_live_video(std::sync::Arc::new(live))
                }
                None => app,
            };
            serve(app, listener, pipeline, &config).await?;
        }
        Command::Demo { data_dir, listen } => demo::run(&data_dir, listen.as_deref()).await?,
        Command::Admin {
            command:
                AdminCommand::CreateUser {
                    data_dir,
                    username,
                    role,
                    scope,
                    display_name,
                },
        } => {
            let app = datadir::open(&data_dir).await?;
            let req = anfang_app::auth::CreateUser {
                username,
                role,
                scope,
                display_name,
            };
            let (_, password) = app.create_user("cli", &req).await?;
            println!("password: {password}");
        }
        Command::Device {
            command:
                DeviceCommand::Add {
                    data_dir,
                    code,
                    kind,
                    protocol,
                    community,
                    name,
                },
        } => {
            let app = datadir::open(&data_dir).await?;
            let community_id = match &community {
                Some(code) => Some(community_id(&app, code).await?),
                None => None,
            };
            let req = anfang_app::registry::CreateDevice {
                code,
                kind,
                protocol,
                community_id,
                name,
                ..Default::default()
            };
            let (row, secret) = app.create_device(None, &req).await?;
            if row.community_id.is_none() {
                eprintln!("device {} waits to be assigned to a community", row.code);
            }
            println!("secret: {secret}");
        }
        Command::Import {
            data_dir,
            kind,
            community,
            file,
        } => return import(&data_dir, &kind, &community, &file).await,
        Command::Export {
            data_dir,
            kind,
            community,
            out,
        } => {
            let app = datadir::open(&data_dir).await?;
            let id = community_id(&app, &community).await?;
            let bytes = app.export_sheet(None, sheet(&kind)?, id).await?;
            std::fs::write(&out, bytes).with_context(|| format!("write {}", out.display()))?;
            println!("wrote {}", out.display());
        }
        Command::Audit {
            command: AuditCommand::Verify { data_dir },
        } => {
            let app = datadir::open(&data_dir).await?;
            let report = app.verify_audit().await?;
            println!(
                "{} entries, last {}, checkpoint {}",
                report.entries,
                report.last_seq,
                report
                    .checkpoint_seq
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "none".into())
            );
            if report.ok() {
                println!("audit chain intact");
            } else {
                for problem in &report.problems {
                    println!("TAMPERED: {problem}");
                }
                return Ok(1);
            }
        }
        Command::Sim {
            data_dir,
            mqtt,
            terminals,
            http,
            pace,
            alarm_minutes,
        } => {
            let app = datadir::open(&data_dir).await?;
            let (host, port) = mqtt
                .rsplit_once(':')
                .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h.to_string(), p)))
                .context("--mqtt is host:port")?;
            let list = sim_terminals(&app, terminals).await?;
            println!(
                "simulating {} terminals against mqtt://{host}:{port}; Ctrl-C stops",
                list.len()
            );
            sim::spawn_terminals(&host, port, list, pace.max(0.05), None);
            let sensors = sim_sensors(&app, usize::MAX).await?;
            println!("simulating {} perimeter sensors and alarm buttons", sensors.len());
            sim::spawn_sensors(&host, port, sensors, alarm_minutes.max(0.01));
            let wands = sim_patrols(&app).await?;
            println!("simulating {} guards walking patrol routes", wands.len());
            sim::spawn_patrols(&host, port, wands);
            if let Some(base) = http {
                let lanes = sim_lanes(&app, usize::MAX).await?;
                println!(
                    "simulating the gates and booths of {} communities against {base}",
                    lanes.len()
                );
                sim_push::spawn_lanes(base.trim_end_matches('/'), lanes, 30.0);
            }
            shutdown().await;
        }
        Command::Bench {
            command:
                BenchCommand::Access {
                    terminals,
                    rate,
                    seconds,
                },
        } => {
            bench::access(bench::AccessBench {
                terminals: terminals.max(1),
                rate: rate.max(1),
                seconds: seconds.max(1),
            })
            .await?;
        }
        Command::Bench {
            command:
                BenchCommand::Ingest {
                    clients,
                    batch,
                    records,
                    image_kib,
                },
        } => {
            bench_ingest::ingest(bench_ingest::IngestBench {
                clients: clients.max(1),
                batch: batch.max(1),
                records: records.clamp(1, 60_000),
                image_kib: image_kib.clamp(1, 1024),
            })
            .await?;
        }
        Command::Bench {
            command: BenchCommand::Embed { seconds, workers },
        } => {
            tokio::task::spawn_blocking(move || {
                bench_faces::embed(bench_faces::EmbedBench {
                    seconds: seconds.clamp(1, 600),
                    workers: workers.clamp(1, 64),
                })
            })
            .await??;
        }
        Command::Bench {
            command: BenchCommand::Ocr { scenes, show_misses },
        } => {
            tokio::task::spawn_blocking(move || {
                bench_faces::ocr(bench_faces::OcrBench {
                    scenes: scenes.clamp(1, 100_000),
                    show_misses,
                })
            })
            .await??;
        }
        Command::Bench {
            command:
                BenchCommand::Faces {
                    gallery,
                    live,
                    queries,
                },
        } => {
            tokio::task::spawn_blocking(move || {
                bench_faces::faces(bench_faces::FacesBench {
                    gallery: gallery.clamp(10, 5_000_000),
                    live: live.clamp(10, 1_000_000),
                    queries: queries.clamp(10, 100_000),
                })
            })
            .await?;
        }
        Command::Backup { data_dir, out } => {
            let app = datadir::open(&data_dir).await?;
            let out = if out.is_absolute() {
                out
            } else {
                std::env::current_dir()?.join(out)
            };
            app.store().backup_to(&out).await?;
            println!("wrote {}", out.display());
            println!(
                "note: the backup holds encrypted personal data; keep {} (the keys) backed up separately",
                datadir::KEYS_FILE
            );
        }
    }
    Ok(0)
}

async fn import(data_dir: &Path, kind: &str, community: &str, file: &Path) -> anyhow::Result<i32> {
    let app = datadir::open(data_dir).await?;
    let id = community_id(&app, community).await?;
    let bytes = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let summary = app
        .import_sheet(None, sheet(kind)?, id, &bytes, Some(&progress))
        .await?;
    bar.finish_and_clear();
    println!(
        "{} rows: {} created, {} updated, {} failed",
        summary.total, summary.created, summary.updated, summary.failed
    );
    for e in &summary.errors {
        println!("row {}: {} ({}): {}", e.row, e.field, e.code, e.message);
    }
    if let Some(report) = &summary.report {
        let path = file.with_extension("errors.xlsx");
        std::fs::write(&path, report)?;
        println!("error report: {}", path.display());
        return Ok(1);
    }
    Ok(0)
}

/// Codes and secrets of up to `limit` MQTT door terminals that guard a door.
async fn sim_terminals(app: &anfang_app::App, limit: i64) -> anyhow::Result<Vec<(String, String)>> {
    let mut tx = app.store().read().await?;
    let filter = anfang_store::Filter {
        kind: Some("face_door_terminal".into()),
        ..Default::default()
    };
    let mut out = Vec::new();
    for device in tx.list_devices(&filter, anfang_store::Page::ALL).await?.items {
        if device.protocol == "mqtt" && device.place_id.is_some() && out.len() < limit.max(0) as usize {
            let secret = app.device_secret(&device)?;
            out.push((device.code, secret));
        }
    }
    Ok(out)
}

/// Up to `limit` MQTT perimeter sensors and alarm buttons placed on a site plan, with secrets.
async fn sim_sensors(app: &anfang_app::App, limit: usize) -> anyhow::Result<Vec<sim::Sensor>> {
    let mut tx = app.store().read().await?;
    let mut out = Vec::new();
    for kind in ["perimeter_sensor", "alarm_button"] {
        let filter = anfang_store::Filter {
            kind: Some(kind.into()),
            ..Default::default()
        };
        for device in tx.list_devices(&filter, anfang_store::Page::ALL).await?.items {
            if device.protocol == "mqtt" && device.place_id.is_some() && out.len() < limit {
                let secret = app.device_secret(&device)?;
                out.push((device.code, secret, kind.to_string()));
            }
        }
    }
    Ok(out)
}

/// The MQTT patrol wands of communities with active patrol routes, with the routes walked.
async fn sim_patrols(app: &anfang_app::App) -> anyhow::Result<Vec<sim::Wand>> {
    let mut tx = app.store().read().await?;
    let mut out = Vec::new();
    let routes = tx.list_patrol_routes(None, true).await?;
    let filter = anfang_store::Filter {
        kind: Some("patrol_reader".into()),
        ..Default::default()
    };
    let wands = tx.list_devices(&filter, anfang_store::Page::ALL).await?.items;
    let mut taken = std::collections::HashSet::new();
    for wand in wands.into_iter().filter(|w| w.protocol == "mqtt") {
        let mut walked = Vec::new();
        for route in routes
            .iter()
            .filter(|r| Some(r.community_id) == wand.community_id)
        {
            let Ok(times) = anfang_domain::patrol::RoundTimes::parse(&route.times) else {
                continue;
            };
            let ids = anfang_app::patrol::route_checkpoints(route)?;
            let mut checkpoints = Vec::new();
            for (id, offset) in ids {
                if let Some(device) = tx.device(id).await? {
                    checkpoints.push((device.code, offset));
                }
            }
            walked.push(sim::SimRoute {
                guard_ref: route.guard_user_id.unwrap_or(0).to_string(),
                checkpoints,
                times,
                tolerance_minutes: u32::try_from(route.tolerance_minutes).unwrap_or(5),
            });
        }
        // One wand walks a community's routes.
        if !walked.is_empty() && wand.community_id.is_some_and(|c| taken.insert(c)) {
            let secret = app.device_secret(&wand)?;
            out.push((wand.code, secret, walked));
        }
    }
    Ok(out)
}

/// The HTTP-push gates and booths of up to `limit` communities, with what they need to play.
async fn sim_lanes(app: &anfang_app::App, limit: usize) -> anyhow::Result<Vec<sim_push::CommunityLanes>> {
    use std::collections::BTreeMap;
    let mut tx = app.store().read().await?;
    let mut by_community: BTreeMap<i64, sim_push::CommunityLanes> = BTreeMap::new();
    let devices = tx
        .list_devices(&anfang_store::Filter::default(), anfang_store::Page::ALL)
        .await?
        .items;
    for device in devices {
        let (Some(community), true) = (device.community_id, device.protocol == "http_push") else {
            continue;
        };
        let entry = by_community
            .entry(community)
            .or_insert_with(|| sim_push::CommunityLanes {
                entry: None,
                exit: None,
                booth: None,
                plates: Vec::new(),
                wanted: Vec::new(),
                houses: Vec::new(),
            });
        let pushed = sim_push::Pushed {
            secret: app.device_secret(&device)?,
            code: device.code.clone(),
        };
        match device.kind.as_str() {
            // The first lane registered is the way in, the next the way out.
            "barrier_gate" if entry.entry.is_none() => entry.entry = Some(pushed),
            "barrier_gate" if entry.exit.is_none() => entry.exit = Some(pushed),
            "smart_booth" if entry.booth.is_none() => entry.booth = Some(pushed),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let now = app.clock().now_ms();
    let wanted: Vec<String> = tx
        .list_watch_entries(Some("active"), anfang_store::Page::first(100))
        .await?
        .items
        .into_iter()
        .filter(|e| e.begin_at <= now && now < e.end_at)
        .filter_map(|e| e.plate)
        .collect();
    for (community, mut lanes) in by_community.into_iter().take(limit) {
        lanes.wanted = wanted.clone();
        let filter = anfang_store::Filter {
            community_id: Some(community),
            ..Default::default()
        };
        lanes.plates = tx
            .list_vehicles(&filter, anfang_store::Page::ALL)
            .await?
            .items
            .into_iter()
            .map(|v| v.plate_number)
            .collect();
        let mut numbers: BTreeMap<i64, String> = BTreeMap::new();
        for house in tx
            .list_houses(&filter, anfang_store::Page::first(200))
            .await?
            .items
        {
            let unit = match numbers.get(&house.unit_id) {
                Some(n) => n.clone(),
                None => {
                    let building = tx.building(house.building_id).await?.map(|b| b.number);
                    let unit = tx.unit(house.unit_id).await?.map(|u| u.number);
                    let n = format!("{}-{}", building.unwrap_or_default(), unit.unwrap_or_default());
                    numbers.insert(house.unit_id, n.clone());
                    n
                }
            };
            lanes.houses.push(format!("{unit}-{}", house.number));
        }
        out.push(lanes);
    }
    Ok(out)
}

/// Binds `addr`, or fails with a message naming the address and the config key.
async fn bind(addr: &str, key: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let parsed: SocketAddr = addr
        .parse()
        .with_context(|| format!("{key} = {addr:?} is not an address:port"))?;
    tokio::net::TcpListener::bind(parsed).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {addr} ({e}); the port is taken or not allowed: change {key} or pass --listen"
        )
    })
}

/// Background duties of a serving node: escalate booth calls nobody answered.
fn start_jobs(app: &anfang_app::App, booth: &config::BoothConfig, alarms: &config::AlarmSettings) {
    // The alarm SLA (every 5 s: the shortest deadline is a minute) and offline devices (every
    // minute).
    let offline_ms = alarms.offline_after_secs.max(60) * 1000;
    let sla_app = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        let mut round = 0u64;
        loop {
            tick.tick().await;
            match sla_app.escalate_alarms().await {
                Ok(escalated) => {
                    for (id, role) in escalated {
                        tracing::warn!(
                            alarm = id,
                            to = role.as_str(),
                            "alarm not acknowledged in time: escalated"
                        );
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not escalate alarms"),
            }
            round += 1;
            if round.is_multiple_of(12) {
                match sla_app.raise_offline_alarms(offline_ms).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(devices = n, "devices went silent: offline alarms raised"),
                    Err(e) => tracing::warn!(error = %e, "could not check for offline devices"),
                }
                if round.is_multiple_of(720) {
                    // Alive but no business data for a day, after acceptance: a ticket.
                    match sla_app.check_silent_devices().await {
                        Ok((0, 0)) => {}
                        Ok((opened, closed)) => {
                            tracing::info!(opened, closed, "silent devices: maintenance tickets updated")
                        }
                        Err(e) => tracing::warn!(error = %e, "could not check for silent devices"),
                    }
                }
                if round.is_multiple_of(60) {
                    match sla_app.evaluate_warnings().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(warnings = n, "early-warning rules raised warnings"),
                        Err(e) => tracing::warn!(error = %e, "could not evaluate the early-warning rules"),
                    }
                    // Property fees: the period's bills where a community generates them, due
                    // reminders, and last week's cash books left open (each idempotent).
                    match sla_app.run_fee_jobs().await {
                        Ok(r) if r.bills_created + r.reminders + r.books_closed + r.failed > 0 => {
                            tracing::info!(
                                bills = r.bills_created,
                                reminders = r.reminders,
                                books_closed = r.books_closed,
                                failed = r.failed,
                                "fee jobs ran"
                            )
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "could not run the fee jobs"),
                    }
                }
                match sla_app.judge_patrol_rounds().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(rounds = n, "patrol rounds judged"),
                    Err(e) => tracing::warn!(error = %e, "could not judge patrol rounds"),
                }
            }
        }
    });
    let app = app.clone();
    let timeout_ms = booth.ring_timeout_secs.max(1) * 1000;
    // Check often enough that a call is escalated within a fraction of its timeout.
    let every =
        std::time::Duration::from_millis(u64::try_from(timeout_ms / 4).unwrap_or(1000).clamp(250, 5000));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match app.expire_booth_calls(timeout_ms).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(calls = n, "booth calls escalated as unanswered"),
                Err(e) => tracing::warn!(error = %e, "could not expire booth calls"),
            }
        }
    });
}

/// Starts the face workers, loads the galleries and runs recognition of new captures and the
/// biometric retention job in the background.
async fn with_recognition(
    app: anfang_app::App,
    settings: &config::RecognitionSettings,
) -> anyhow::Result<anfang_app::App> {
    if settings.mode == "off" {
        tracing::info!("face recognition is off");
        return Ok(app);
    }
    let models = settings.models();
    let load = models.clone();
    let pool = tokio::task::spawn_blocking({
        let (workers, queue) = (settings.workers, settings.queue);
        move || {
            anfang_vision::FacePool::start(workers, queue, move || {
                anfang_vision::DlibFaces::load(&load).map(|e| Box::new(e) as Box<dyn anfang_vision::FaceEngine>)
            })
        }
    })
    .await?
    .map_err(|e| {
        anyhow::anyhow!(
            "face recognition: {e} (models in {}; run scripts/fetch-models.sh, or set [recognition] mode = \"off\")",
            models.dir.display()
        )
    })?;
    let app = app.with_recognition(anfang_app::recognition::Recognition::new(
        pool,
        settings.app_config(),
    ));
    app.load_galleries().await?;
    if let Err(e) = app.index_watch_entries().await {
        tracing::warn!(error = %e, "watch-list pictures not indexed");
    }
    let worker = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
        let mut last_purge = std::time::Instant::now() - std::time::Duration::from_secs(3600);
        loop {
            tick.tick().await;
            match worker.recognise_pending(32).await {
                Ok(done) if !done.is_empty() => {
                    tracing::debug!(count = done.len(), "face captures recognised")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "face recognition round failed"),
            }
            if last_purge.elapsed() >= std::time::Duration::from_secs(600) {
                last_purge = std::time::Instant::now();
                match worker.purge_biometrics().await {
                    Ok(p) if p.capture_templates + p.strangers > 0 => tracing::info!(
                        capture_templates = p.capture_templates,
                        strangers = p.strangers,
                        "expired biometric data deleted"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "biometric retention job failed"),
                }
            }
        }
    });
    Ok(app)
}

/// The application with what the configuration adds (face recognition, the status check at
/// entry): done before the pipeline and the transports take their copies of it.
pub(crate) async fn prepared(
    app: anfang_app::App,
    config: &config::Config,
) -> anyhow::Result<anfang_app::App> {
    let app = with_recognition(app, &config.recognition).await?;
    Ok(match entry_check::from_config(&config.entry_check)? {
        Some(check) => {
            tracing::info!("the external status check at entry is on");
            app.with_entry_check(check)
        }
        None => app,
    })
}

/// Serves until Ctrl-C / SIGTERM.
async fn serve(
    app: anfang_app::App,
    listener: tokio::net::TcpListener,
    pipeline: anfang_pipeline::Pipeline,
    config: &config::Config,
) -> anyhow::Result<()> {
    start_jobs(&app, &config.booth, &config.alarms);
    cascade::spawn(&app, &config.cascade);
    notify::spawn(&app, &config.notify)?;
    let router = anfang_api::router_limited(
        app,
        console::embedded(),
        pipeline,
        config.server.viid_uploads_in_flight,
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
