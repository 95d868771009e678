//! `anfang bench embed` and `anfang bench faces`: recognition throughput and 1:N search, each
//! beside a baseline measured in the same run.
//!
//! - embed: faces per second on camera-crop-sized images with one worker per core, against one
//!   worker (the scaling ratio), using dlib's real models and the fixture photos;
//! - faces: a synthetic gallery shaped like real identities (several templates per person,
//!   same-person distances ~0.35, different-person ~0.85), searched exactly with the int8
//!   gallery and — for the large gallery — with IVF cells, against a plain float scan: build
//!   time, memory, p50/p99 latency (top-2 as recognition asks, and top-10), recall@1/@k against
//!   the float scan, and the cells' recall@1 against the exact gallery over every query; at the
//!   live path's size and at gallery size.

use anfang_vision::face::{Scaling, find_faces};
use anfang_vision::{
    DlibFaces, EMBEDDING_DIM, Embedding, FaceEngine, FaceModels, FacePool, Gallery, IvfGallery, Limits,
    decode,
};
use anyhow::Context;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

/// Parameters of the embed benchmark.
#[derive(Debug, Clone)]
pub struct EmbedBench {
    /// Seconds per configuration.
    pub seconds: u64,
    /// Workers for the parallel run.
    pub workers: usize,
}

fn crops(models: &FaceModels) -> anyhow::Result<Vec<image::RgbImage>> {
    let mut engine = DlibFaces::load(models)?;
    let mut out = Vec::new();
    for name in ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"] {
        let path = models.dir.join("fixtures").join(name);
        let bytes = std::fs::read(&path)
            .with_context(|| format!("{} (run scripts/fetch-models.sh)", path.display()))?;
        let image = decode(&bytes, Limits::default())?;
        let faces = find_faces(&mut engine, &image, Scaling::default());
        let face = faces.first().context("no face in a fixture")?;
        // A capture camera's face crop: the face with a margin, about 300 px on the long side.
        let (w, h) = image.dimensions();
        let side = face.rect.width.max(face.rect.height) * 2;
        let left = (face.rect.left + face.rect.width / 2)
            .saturating_sub(side / 2)
            .min(w - 1);
        let top = (face.rect.top + face.rect.height / 2)
            .saturating_sub(side / 2)
            .min(h - 1);
        let crop =
            image::imageops::crop_imm(&image, left, top, side.min(w - left), side.min(h - top)).to_image();
        out.push(image::imageops::resize(
            &crop,
            300,
            300,
            image::imageops::FilterType::Triangle,
        ));
    }
    Ok(out)
}

fn embed_rate(pool: &FacePool, images: &[image::RgbImage], seconds: u64) -> anyhow::Result<(f64, usize)> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut waiting = std::collections::VecDeque::new();
    let mut faces = 0usize;
    let mut i = 0usize;
    while Instant::now() < deadline {
        // Keep the queue fed: a few jobs per worker in flight.
        while waiting.len() < pool.workers() * 3 {
            let image = images[i % images.len()].clone();
            i += 1;
            waiting.push_back(pool.run_blocking(move |e: &mut dyn FaceEngine| {
                find_faces(
                    e,
                    &image,
                    Scaling {
                        min_long_side: 0,
                        max_long_side: 4096,
                    },
                )
                .len()
            })?);
        }
        if let Some(rx) = waiting.pop_front() {
            faces += rx.recv().context("worker")?;
        }
    }
    for rx in waiting {
        faces += rx.recv().context("worker")?;
    }
    Ok((faces as f64 / started.elapsed().as_secs_f64(), faces))
}

/// Runs the embed benchmark.
pub fn embed(b: EmbedBench) -> anyhow::Result<()> {
    let models = FaceModels {
        dir: FaceModels::default_dir(),
    };
    let images = crops(&models)?;
    println!(
        "bench embed: detect + landmarks + embed on {} face crops of 300×300 px, {} s per run",
        images.len(),
        b.seconds
    );
    let start = |workers: usize| {
        let m = models.clone();
        FacePool::start(workers, 64, move || {
            DlibFaces::load(&m).map(|e| Box::new(e) as Box<dyn FaceEngine>)
        })
    };
    let one = start(1)?;
    let (base, n1) = embed_rate(&one, &images, b.seconds)?;
    drop(one);
    let many = start(b.workers)?;
    let (rate, n) = embed_rate(&many, &images, b.seconds)?;
    println!(
        "  baseline, 1 worker:   {base:7.1} faces/s ({n1} faces, {:.1} ms per face)",
        1000.0 / base
    );
    println!(
        "  {} workers:            {rate:7.1} faces/s ({n} faces)",
        b.workers
    );
    println!(
        "  ratio: {:.2}× the single worker (goal ≥ 60 faces/s with both cores)",
        rate / base
    );
    Ok(())
}

/// Parameters of the gallery benchmark.
#[derive(Debug, Clone)]
pub struct FacesBench {
    /// Templates in the large gallery.
    pub gallery: usize,
    /// Templates in the live-path gallery (a community's residents plus watch-lists).
    pub live: usize,
    /// Queries per gallery.
    pub queries: usize,
}

/// A standard normal sample (Box–Muller).
fn gauss(rng: &mut rand::rngs::StdRng) -> f32 {
    let (u, v): (f32, f32) = (rng.r#gen::<f32>().max(1e-9), rng.r#gen());
    (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}

struct Synthetic {
    templates: Vec<Embedding>,
    owners: Vec<u64>,
    centres: Vec<Embedding>,
}

/// Identity-shaped vectors: per person a centre, per template the centre plus noise, scaled so
/// that same-person distances are ~0.35 and different-person distances ~0.85 (as dlib's on
/// real photos).
fn synthetic(templates: usize, per_person: usize, seed: u64) -> Synthetic {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let persons = templates.div_ceil(per_person);
    let sigma = 0.85 / (2.0 * EMBEDDING_DIM as f32).sqrt();
    let tau = 0.35 / (2.0 * EMBEDDING_DIM as f32).sqrt();
    let mut centres = Vec::with_capacity(persons);
    for _ in 0..persons {
        let mut c = [0f32; EMBEDDING_DIM];
        for x in c.iter_mut() {
            *x = gauss(&mut rng) * sigma;
        }
        centres.push(Embedding(c));
    }
    let mut out = Synthetic {
        templates: Vec::with_capacity(templates),
        owners: Vec::with_capacity(templates),
        centres,
    };
    for i in 0..templates {
        let person = i / per_person;
        let mut t = out.centres[person].0;
        for x in t.iter_mut() {
            *x += gauss(&mut rng) * tau;
        }
        out.templates.push(Embedding(t));
        out.owners.push(person as u64);
    }
    out
}

fn probe(data: &Synthetic, rng: &mut rand::rngs::StdRng) -> Embedding {
    let tau = 0.35 / (2.0 * EMBEDDING_DIM as f32).sqrt();
    let person = rng.gen_range(0..data.centres.len());
    let mut q = data.centres[person].0;
    for x in q.iter_mut() {
        *x += gauss(rng) * tau;
    }
    Embedding(q)
}

/// The plain float scan: best template per owner, top `k` owners.
fn float_scan(data: &Synthetic, q: &Embedding, k: usize) -> Vec<u64> {
    let mut best: std::collections::HashMap<u64, f32> = std::collections::HashMap::new();
    for (t, o) in data.templates.iter().zip(&data.owners) {
        let d = t.distance(q);
        let e = best.entry(*o).or_insert(f32::INFINITY);
        if d < *e {
            *e = d;
        }
    }
    let mut v: Vec<(u64, f32)> = best.into_iter().collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1));
    v.into_iter().take(k).map(|(o, _)| o).collect()
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// What one index measured.
struct Measured {
    build_s: f64,
    memory: u64,
    vector_bytes: usize,
    p50: f64,
    p99: f64,
    found: Vec<Vec<u64>>,
}

/// Builds an index over `data` with `build` and times `search` over `probes`.
fn measure<I>(
    data: &Synthetic,
    probes: &[Embedding],
    build: impl FnOnce(&Synthetic) -> I,
    bytes: impl Fn(&I) -> usize,
    search: impl Fn(&I, &Embedding) -> Vec<anfang_vision::Hit>,
) -> (I, Measured) {
    let before = rss_bytes();
    let started = Instant::now();
    let index = build(data);
    let build_s = started.elapsed().as_secs_f64();
    let memory = rss_bytes().saturating_sub(before);
    let mut found = Vec::with_capacity(probes.len());
    let mut lat = Vec::with_capacity(probes.len());
    for q in probes {
        let t = Instant::now();
        let hits = search(&index, q);
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        found.push(hits.iter().map(|h| h.owner).collect::<Vec<_>>());
    }
    lat.sort_by(f64::total_cmp);
    let measured = Measured {
        build_s,
        memory,
        vector_bytes: bytes(&index),
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
        found,
    };
    (index, measured)
}

fn report(label: &str, m: &Measured, truth: &[Vec<u64>], base50: f64, k: usize) {
    let n = truth.len();
    let r1 = m
        .found
        .iter()
        .zip(truth)
        .filter(|(got, want)| got.first() == want.first())
        .count();
    let r10: usize = m
        .found
        .iter()
        .zip(truth)
        .map(|(got, want)| {
            got.iter()
                .filter(|o| want[..k.min(want.len())].contains(o))
                .count()
        })
        .sum();
    println!(
        "    {label}: build {:.2} s, vectors {} MB, process memory +{} MB",
        m.build_s,
        m.vector_bytes / 1_000_000,
        m.memory / 1_000_000
    );
    println!(
        "      top-{k}: p50 {:.3} ms, p99 {:.3} ms ({} queries); {:.1}× the float scan's p50",
        m.p50,
        m.p99,
        m.found.len(),
        base50 / m.p50
    );
    println!(
        "      recall@1 {:.4}, recall@{k} {:.4} against the float scan ({n} queries)",
        r1 as f64 / n as f64,
        r10 as f64 / (n * k) as f64
    );
}

fn exact_gallery(data: &Synthetic) -> Gallery {
    let mut gallery = Gallery::new();
    for (i, (t, o)) in data.templates.iter().zip(&data.owners).enumerate() {
        gallery.insert(i as u64, *o, t);
    }
    gallery
}

fn run_gallery(label: &str, size: usize, queries: usize, cells: bool, ks: &[usize]) {
    let data = synthetic(size, 5, 42);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let probes: Vec<Embedding> = (0..queries).map(|_| probe(&data, &mut rng)).collect();
    println!(
        "  {label}: {size} templates ({} identities × 5)",
        data.centres.len()
    );
    // The baseline: a plain float scan, on a subset of the queries.
    let baseline_queries = queries.min(if size > 200_000 { 100 } else { 300 });
    let mut base_lat = Vec::with_capacity(baseline_queries);
    let mut truth = Vec::with_capacity(baseline_queries);
    for q in probes.iter().take(baseline_queries) {
        let t = Instant::now();
        truth.push(float_scan(&data, q, ks.iter().copied().max().unwrap_or(10)));
        base_lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    base_lat.sort_by(f64::total_cmp);
    let base50 = percentile(&base_lat, 0.5);
    println!("    baseline float scan: p50 {base50:.2} ms ({baseline_queries} queries)");
    let mut gallery = None;
    let mut exact_top = Vec::new();
    for &k in ks {
        let build = |d: &Synthetic| gallery.take().unwrap_or_else(|| exact_gallery(d));
        let (g, exact) = measure(&data, &probes, build, Gallery::vector_bytes, |g, q| {
            g.search(q, k)
        });
        report("exact int8 scan + f32 re-rank", &exact, &truth, base50, k);
        exact_top = exact.found.iter().map(|f| f.first().copied()).collect();
        gallery = Some(g);
    }
    drop(gallery);
    if cells {
        let (ivf, m) = measure(
            &data,
            &probes,
            |d| {
                let all = d
                    .templates
                    .iter()
                    .zip(&d.owners)
                    .enumerate()
                    .map(|(i, (t, o))| (i as u64, *o, *t));
                IvfGallery::build(all, 11)
            },
            IvfGallery::vector_bytes,
            |g, q| g.search(q, 10),
        );
        let k = 10;
        report(
            &format!(
                "IVF, {} k-means cells, {} probed, int8 scan + f16 re-rank",
                ivf.cells(),
                ivf.probes()
            ),
            &m,
            &truth,
            base50,
            k,
        );
        // The exact gallery equals the float scan (by construction, and checked above), so it
        // is the reference for recall@1 over every query.
        let agree = m
            .found
            .iter()
            .zip(&exact_top)
            .filter(|(got, want)| got.first().copied() == **want)
            .count();
        println!(
            "      recall@1 {:.4} against the exact gallery ({} queries; goal ≥ 0.995 for an ANN index)",
            agree as f64 / m.found.len() as f64,
            m.found.len()
        );
    }
}

/// Runs the gallery benchmark.
pub fn faces(b: FacesBench) {
    println!("bench faces: synthetic identity-shaped 128-d templates, one core");
    run_gallery(
        "live path (a community's residents + watch-lists), exact by construction",
        b.live,
        b.queries,
        false,
        // Recognition asks for the best identity and the runner-up (the margin).
        &[2, 10],
    );
    run_gallery(
        "large gallery (a district's captures)",
        b.gallery,
        b.queries,
        true,
        &[10],
    );
}

/// Parameters of the OCR benchmark.
#[derive(Debug, Clone)]
pub struct OcrBench {
    /// Scenes to render and read.
    pub scenes: usize,
    /// Print each scene read wrongly within the ROI.
    pub show_misses: bool,
}

/// Runs the OCR benchmark: every scene read on the whole frame (the baseline) and within the
/// lane's region of interest, timing each and counting exact reads (text and colour).
pub fn ocr(b: OcrBench) -> anyhow::Result<()> {
    use anfang_vision::plate::{PlateModels, PlateReader};
    let font = anfang_vision::synth::cjk_font().context("no CJK font: apt-get install fonts-noto-cjk")?;
    let mut reader = PlateReader::load(&PlateModels {
        dir: FaceModels::default_dir(),
    })?;
    let colours = ["blue", "yellow", "green", "blue", "black"];
    println!(
        "bench ocr: {} rendered 1280×720 scenes (PP-OCRv4 det + rec in tract, one core)",
        b.scenes
    );
    // Warm up both canvas plans.
    let warm = anfang_vision::synth::scene(&font, 0, "blue", None);
    reader.read_scene(&warm.image, None)?;
    reader.read_scene(&warm.image, Some(roi_of(&warm.rect)))?;
    let (mut full_ms, mut roi_ms) = (Vec::new(), Vec::new());
    let (mut full_ok, mut roi_ok, mut colour_ok) = (0usize, 0usize, 0usize);
    for i in 0..b.scenes {
        let colour = colours[i % colours.len()];
        let scene = anfang_vision::synth::scene(&font, 1000 + i as u64, colour, None);
        let t = Instant::now();
        let full = reader.read_scene(&scene.image, None)?;
        full_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let in_roi = reader.read_scene(&scene.image, Some(roi_of(&scene.rect)))?;
        roi_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        full_ok += usize::from(full.iter().any(|r| r.text == scene.text));
        if let Some(read) = in_roi.iter().find(|r| r.text == scene.text) {
            roi_ok += 1;
            colour_ok += usize::from(read.colour == scene.colour);
        } else if b.show_misses {
            let got: Vec<&str> = in_roi.iter().map(|r| r.text.as_str()).collect();
            println!(
                "  miss: scene {} {} {} read {got:?}",
                1000 + i,
                scene.colour,
                scene.text
            );
        }
    }
    full_ms.sort_by(f64::total_cmp);
    roi_ms.sort_by(f64::total_cmp);
    let n = b.scenes as f64;
    println!(
        "  baseline, whole frame (960×544 canvas): p50 {:.0} ms, p99 {:.0} ms, exact {:.1} %",
        percentile(&full_ms, 0.5),
        percentile(&full_ms, 0.99),
        100.0 * full_ok as f64 / n
    );
    println!(
        "  lane ROI (480×288 canvas):             p50 {:.0} ms, p99 {:.0} ms, exact {:.1} %, colour {:.1} %",
        percentile(&roi_ms, 0.5),
        percentile(&roi_ms, 0.99),
        100.0 * roi_ok as f64 / n,
        100.0 * colour_ok as f64 / roi_ok.max(1) as f64
    );
    println!(
        "  ratio: ROI {:.2}× faster than the whole frame (goals ≤ 100 ms with ROI, ≥ 98 % exact)",
        percentile(&full_ms, 0.5) / percentile(&roi_ms, 0.5)
    );
    Ok(())
}

/// The lane's region of interest around where a plate appears.
fn roi_of(plate: &anfang_vision::face::Rect) -> anfang_vision::face::Rect {
    anfang_vision::face::Rect {
        left: plate.left.saturating_sub(120),
        top: plate.top.saturating_sub(80),
        width: plate.width + 240,
        height: plate.height + 160,
    }
}
