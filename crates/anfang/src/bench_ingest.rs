//! `anfang bench ingest`: concurrent GA/T 1400 clients post `/VIID/Faces` batches with ~30 KB
//! pictures to a platform this command starts itself (temporary data directory, a free port),
//! registered with Digest like a camera; each batch is acknowledged only once its pictures and
//! records are on disk (one sync for the pictures, one for the records). It prints records/s
//! and per-batch latency beside a raw SQLite batched insert of the same rows, pictures as
//! blobs, on the same disk in the same run (the baseline), then removes everything it wrote.
//! A benchmark, never a test: it prints figures and passes no judgement.

use crate::{config, datadir};
use anfang_app::registry::*;
use anyhow::Context;
use base64::Engine;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct IngestBench {
    /// Concurrent clients.
    pub clients: usize,
    /// Faces per request.
    pub batch: usize,
    /// Faces in all.
    pub records: usize,
    /// Picture size in KiB.
    pub image_kib: usize,
}

/// A JPEG-tagged picture of `len` bytes (the platform checks the signature, not the pixels).
fn picture(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..len.saturating_sub(4)).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    bytes
}

/// The 48-digit FaceID of face `n` from `camera` (41-digit source id + `06` + sequence).
fn face_id(camera: &str, n: usize) -> String {
    format!(
        "{camera}0220261123{:06}{:05}06{:05}",
        n / 100_000,
        n % 100_000,
        n % 100_000
    )
}

fn face_object(camera: &str, n: usize, data_b64: &str) -> String {
    let id = face_id(camera, n);
    let source = &id[..41];
    format!(
        r#"{{"FaceID":"{id}","InfoKind":1,"SourceID":"{source}","DeviceID":"{camera}","LeftTopX":10,"LeftTopY":10,"RightBtmX":90,"RightBtmY":90,"FaceAppearTime":"20261123080000","SubImageList":{{"SubImageInfoObject":[{{"ImageID":"{source}","EventSort":10,"DeviceID":"{camera}","Type":"11","FileFormat":"Jpeg","ShotTime":"20261123080000","Width":480,"Height":640,"Data":"{data_b64}"}}]}}}}"#
    )
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

/// Registers `camera` with Digest, as a camera would.
async fn register(http: &reqwest::Client, base: &str, camera: &str, secret: &str) -> anyhow::Result<()> {
    const PATH: &str = "/VIID/System/Register";
    let body = format!(r#"{{"RegisterObject":{{"DeviceID":"{camera}"}}}}"#);
    let first = http
        .post(format!("{base}{PATH}"))
        .header("User-Identify", camera)
        .body(body.clone())
        .send()
        .await?;
    let header = first
        .headers()
        .get("WWW-Authenticate")
        .and_then(|v| v.to_str().ok())
        .context("the server challenges")?
        .to_string();
    let challenge = anfang_gat1400::Challenge::parse(&header).map_err(|e| anyhow::anyhow!("{e}"))?;
    let auth = challenge.answer("POST", PATH, camera, secret, "0a4f113b");
    let answer = http
        .post(format!("{base}{PATH}"))
        .header("User-Identify", camera)
        .header("Authorization", auth)
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(
        answer.status().is_success(),
        "registration answered {}",
        answer.status()
    );
    Ok(())
}

/// Runs the benchmark and prints its figures.
pub async fn ingest(bench: IngestBench) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        println!("note: a debug build; build with --release for figures worth recording");
    }
    let batches = bench.records.div_ceil(bench.batch);
    let image_len = bench.image_kib * 1024;
    // Beside the target directory's disk, like the data directory of a real node.
    let dir = tempfile::tempdir_in(std::env::current_dir()?).or_else(|_| tempfile::tempdir())?;
    let data = dir.path().join("bench");
    let password = datadir::init(&data).await?;
    let config = config::Config::load(&data)?;
    let app = datadir::open_with(&data, &config).await?;
    let admin = app.login("admin", &password).await?.principal;
    let camera = "37032300001190000001".to_string();
    let (_, secret) = app
        .create_device(
            None,
            &CreateDevice {
                code: camera.clone(),
                kind: "face_capture_camera".into(),
                protocol: "gat1400".into(),
                ..CreateDevice::default()
            },
        )
        .await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = anfang_api::router(app.clone(), None);
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(bench.clients)
        .build()?;
    register(&http, &base, &camera, &secret).await?;

    let data_b64: Arc<Vec<String>> = Arc::new(
        (0..4u8)
            .map(|seed| base64::engine::general_purpose::STANDARD.encode(picture(image_len, seed)))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..bench.clients {
        let (http, base, camera, data_b64, next) = (
            http.clone(),
            base.clone(),
            camera.clone(),
            data_b64.clone(),
            next.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut refused = 0usize;
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                if b >= batches {
                    return Ok::<_, anyhow::Error>((latencies, refused));
                }
                let first = b * bench.batch;
                let last = (first + bench.batch).min(bench.records);
                let objects: Vec<String> = (first..last)
                    .map(|n| face_object(&camera, n, &data_b64[n % data_b64.len()]))
                    .collect();
                let body = format!(r#"{{"FaceListObject":{{"FaceObject":[{}]}}}}"#, objects.join(","));
                let t = Instant::now();
                let response = http
                    .post(format!("{base}/VIID/Faces"))
                    .header("User-Identify", &camera)
                    .header("Content-Type", "application/VIID+JSON")
                    .body(body)
                    .send()
                    .await?;
                let status = response.status();
                let value: serde_json::Value = response.json().await.unwrap_or_default();
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                let list = value["ResponseStatusListObject"]["ResponseStatusObject"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let ok = list
                    .iter()
                    .filter(|s| anfang_gat1400::StatusCode::read(&s["StatusCode"]) == Some(0))
                    .count();
                if !status.is_success() || ok != last - first {
                    refused += last - first - ok;
                }
            }
        }));
    }
    let mut latencies = Vec::new();
    let mut refused = 0;
    for client in clients {
        let (l, r) = client.await??;
        latencies.extend(l);
        refused += r;
    }
    let elapsed = started.elapsed();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let stored = app
        .list_capture_records(
            &admin,
            &anfang_app::captures::CaptureQuery::default(),
            PageRequest {
                page: 1,
                page_size: 1,
            },
        )
        .await?
        .total;
    server.abort();
    let written = dir_size(&data);

    // The baseline: the same rows (pictures as blobs) into a bare SQLite file on the same disk.
    let raw_path = dir.path().join("raw.sqlite");
    let picture_bytes: Vec<Vec<u8>> = (0..4u8).map(|seed| picture(image_len, seed)).collect();
    let raw_started = Instant::now();
    let mut raw_times = anfang_store_sql::baseline::raw_capture_inserts(&raw_path, batches, |b| {
        let first = b * bench.batch;
        let last = (first + bench.batch).min(bench.records);
        (first..last)
            .map(|n| anfang_store_sql::baseline::RawCaptureRow {
                record_id: face_id(&camera, n),
                content_hash: format!("{n:064x}"),
                shot_at: 1_795_000_000_000 + n as i64,
                attributes: face_object(&camera, n, "(sealed)"),
                image: picture_bytes[n % picture_bytes.len()].clone(),
            })
            .collect()
    })
    .await?;
    let raw_elapsed = raw_started.elapsed();
    let raw_written = dir_size(&raw_path) + dir_size(&dir.path().join("raw.sqlite-wal"));
    raw_times.sort();
    let raw_ms: Vec<f64> = raw_times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    drop(dir);

    let rate = bench.records as f64 / elapsed.as_secs_f64();
    let raw_rate = bench.records as f64 / raw_elapsed.as_secs_f64();
    println!(
        "anfang bench ingest: {} clients, {} faces per batch, {} faces of {} KiB",
        bench.clients, bench.batch, bench.records, bench.image_kib
    );
    println!(
        "  over HTTP (/VIID/Faces, durable): {:>8.0} records/s  batch p50 {:>7.1} ms  p99 {:>7.1} ms  \
         ({stored} stored, {refused} refused, {:.0} MB written)",
        rate,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        written as f64 / 1e6
    );
    println!(
        "  raw SQLite batched insert:        {:>8.0} records/s  batch p50 {:>7.1} ms  p99 {:>7.1} ms  \
         ({:.0} MB written)",
        raw_rate,
        percentile(&raw_ms, 0.5),
        percentile(&raw_ms, 0.99),
        raw_written as f64 / 1e6
    );
    println!(
        "  ratio HTTP/raw: {:.2}x; goals ≥ 5,000 records/s durable and ≥ 0.5x the raw insert",
        rate / raw_rate
    );
    Ok(())
}

/// Bytes under `path` (a file or a folder).
fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(meta) = std::fs::metadata(path) else {
        return 0;
    };
    if meta.is_file() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| entries.filter_map(Result::ok).map(|e| dir_size(&e.path())).sum())
        .unwrap_or(0)
}
