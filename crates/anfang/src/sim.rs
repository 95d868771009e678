//! `anfang sim`: simulated door terminals speaking the real device protocol over MQTT, for the
//! demo and for trying a deployment. Each terminal is a terminal in miniature: it keeps its own
//! card library (applied from the platform's `library_sync`, with validity windows), presents
//! residents' cards at a daily rhythm, and when the platform does not answer in time it decides
//! by itself from its library — refusing a tenant whose lease ended — and keeps resending the
//! event, marked `decided_locally`, until it is acknowledged (back-fill).
//!
//! With a [`FaceSim`], terminals are face terminals too: for each face in their library they
//! fetch the enrolled photo (signed, as a real terminal does) and embed it with the dlib models;
//! now and then a passer-by stands before one of them, and the terminal matches the capture 1:N
//! against its library — a match is sent as a `face` credential with its `person_ref` and the
//! snapshot, a stranger opens nothing and is not reported (the protocol's terminals report only
//! the faces they recognised).

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a terminal waits for an ack before deciding by itself.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// One card in a terminal's library.
#[derive(Debug, Clone)]
struct Entry {
    person_ref: String,
    valid_from: Option<String>,
    valid_until: Option<String>,
    schedule: Option<anfang_domain::Schedule>,
}

/// An event waiting for its ack.
#[derive(Debug, Clone)]
struct Pending {
    body: Value,
    /// When it happened: kept on every resend, so a back-filled record has the true time.
    at: String,
    sent: tokio::time::Instant,
    decided_locally: bool,
}

/// The largest distance a simulated terminal takes for the same face (dlib's usual 0.6,
/// tightened as the platform does for small galleries).
const FACE_THRESHOLD: f32 = 0.5;

/// One passer-by a face terminal's camera may see.
#[derive(Debug, Clone)]
pub struct Passer {
    /// The snapshot (JPEG) sent with a recognised face.
    pub snapshot: Vec<u8>,
    /// The face the camera found in it (embedded once: the same picture comes back).
    pub embedding: Option<anfang_vision::Embedding>,
}

/// Face terminals for the demo.
#[derive(Clone)]
pub struct FaceSim {
    /// The platform's address for fetching enrolled photos (`http://host:port`).
    pub base: String,
    /// The dlib models the terminals embed photos with.
    pub pool: anfang_vision::FacePool,
    /// The passers-by, in turn.
    pub passers: Arc<Vec<Passer>>,
}

/// The faces' shared state: which terminals hold faces (they take turns before the camera) and
/// the embeddings of enrolled photos already computed, by photo digest.
#[derive(Default)]
struct FaceShared {
    ready: Mutex<BTreeSet<String>>,
    templates: Mutex<HashMap<String, anfang_vision::Embedding>>,
}

/// Activity by local hour (UTC+8): busy mornings and evenings, quiet nights.
pub(crate) fn rhythm(hour: u32) -> f64 {
    match hour {
        7..=9 | 17..=20 => 1.0,
        10..=16 | 21 => 0.4,
        // Quiet, not dead: the demo console should still show some traffic at night.
        _ => 0.25,
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn local_hour() -> u32 {
    use chrono::Timelike;
    chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is valid"))
        .hour()
}

/// Whether the instant `now_ms` falls in an entry's window (the platform sends RFC 3339 times)
/// and, for staff, in their duty hours.
fn in_window(entry: &Entry, now_ms: i64) -> bool {
    let ms = |t: &Option<String>| t.as_deref().and_then(rfc3339_ms);
    let local = chrono::DateTime::from_timestamp_millis(now_ms + 8 * 3600 * 1000).map(|t| t.naive_utc());
    ms(&entry.valid_from).is_none_or(|from| from <= now_ms)
        && ms(&entry.valid_until).is_none_or(|until| now_ms <= until)
        && entry
            .schedule
            .as_ref()
            .is_none_or(|s| local.is_some_and(|t| s.covers(t)))
}

/// Applies one `library_sync` change: the person's cards are replaced (or removed).
fn apply_change(library: &mut HashMap<String, Entry>, change: &Value) {
    let Some(person_ref) = change["person_ref"].as_str() else {
        return;
    };
    library.retain(|_, e| e.person_ref != person_ref);
    if change["op"] == "remove" {
        return;
    }
    let window = |k: &str| change[k].as_str().map(String::from);
    let schedule = change["schedule"]
        .as_str()
        .and_then(|s| anfang_domain::Schedule::parse(s).ok());
    for credential in change["credentials"].as_array().into_iter().flatten() {
        if credential["kind"] != "card" {
            continue;
        }
        if let Some(value) = credential["value"].as_str() {
            let entry = Entry {
                person_ref: person_ref.to_string(),
                valid_from: window("valid_from"),
                valid_until: window("valid_until"),
                schedule: schedule.clone(),
            };
            library.insert(value.to_string(), entry);
        }
    }
}

/// Milliseconds since the epoch of an RFC 3339 time.
fn rfc3339_ms(t: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp_millis())
}

/// This run's id (its start, in seconds): event ids stay unique across restarts.
fn run_id() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An MQTT client logged in as device `code`, without Nagle delay (a device's messages are
/// small and answered).
fn connect(host: String, port: u16, code: &str, secret: String) -> (AsyncClient, rumqttc::EventLoop) {
    let mut options = MqttOptions::new(code, host, port);
    options.set_credentials(code, secret);
    // Face events carry a snapshot: more than rumqttc's 10 KiB default.
    options.set_max_packet_size(1 << 20, 1 << 20);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut events) = AsyncClient::new(options, 64);
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    events.set_network_options(network);
    (client, events)
}

/// Runs simulated terminals against the broker at `host:port` until the process ends; with
/// `faces`, a passer-by stands before one of the terminals holding faces every `face_seconds`.
pub fn spawn_terminals(
    host: &str,
    port: u16,
    terminals: Vec<(String, String)>,
    busy_seconds: f64,
    faces: Option<(FaceSim, f64)>,
) {
    let run = run_id();
    let shared = Arc::new(FaceShared::default());
    let (turns, _) = tokio::sync::broadcast::channel::<String>(16);
    if let Some((_, face_seconds)) = &faces {
        let (turns, shared, every) = (turns.clone(), shared.clone(), *face_seconds);
        tokio::spawn(async move {
            // Soon after the libraries arrive, then every `every` seconds, round the terminals.
            let mut n = 0usize;
            loop {
                let next = {
                    let ready = shared.ready.lock().map(|r| r.iter().cloned().collect::<Vec<_>>());
                    ready
                        .ok()
                        .filter(|r| !r.is_empty())
                        .map(|r| r[n % r.len()].clone())
                };
                match next {
                    Some(code) => {
                        n += 1;
                        let _ = turns.send(code);
                        tokio::time::sleep(Duration::from_secs_f64(every)).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            }
        });
    }
    for (index, (code, secret)) in terminals.into_iter().enumerate() {
        let host = host.to_string();
        let faces = faces.as_ref().map(|(sim, _)| Faces {
            sim: sim.clone(),
            shared: shared.clone(),
            turns: turns.subscribe(),
        });
        tokio::spawn(async move {
            terminal(host, port, code, secret, run, index as u64, busy_seconds, faces).await;
        });
    }
}

/// A terminal's share of the face simulation.
struct Faces {
    sim: FaceSim,
    shared: Arc<FaceShared>,
    turns: tokio::sync::broadcast::Receiver<String>,
}

/// The enrolled photo of `person_ref` as a terminal fetches it (the request path signed with
/// the device secret), embedded; cached by digest across terminals.
async fn face_template(
    faces: (FaceSim, Arc<FaceShared>),
    code: String,
    secret: String,
    person_ref: String,
    digest: String,
) -> Option<anfang_vision::Embedding> {
    let (sim, shared) = faces;
    if let Some(known) = shared.templates.lock().ok()?.get(&digest) {
        return Some(*known);
    }
    let path = format!("/api/v1/device-push/faces/{person_ref}");
    let ts = chrono::Utc::now().timestamp_millis();
    let signature = anfang_protocol::sign(secret.as_bytes(), ts, path.as_bytes());
    let response = reqwest::Client::new()
        .get(format!("{}{path}", sim.base))
        .header(anfang_protocol::HEADER_DEVICE, &code)
        .header(anfang_protocol::HEADER_TIMESTAMP, ts.to_string())
        .header(anfang_protocol::HEADER_SIGNATURE, signature)
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        tracing::warn!(device = %code, person_ref, status = %response.status(), "simulated terminal: no face photo");
        return None;
    }
    let bytes = response.bytes().await.ok()?.to_vec();
    let embedding = sim
        .pool
        .run(move |engine| {
            anfang_vision::decode(&bytes, anfang_vision::Limits::default())
                .ok()
                .and_then(|image| anfang_vision::face::largest_face(engine, &image))
                .map(|f| f.embedding)
        })
        .await
        .ok()??;
    shared.templates.lock().ok()?.insert(digest, embedding);
    Some(embedding)
}

/// The closest face of the library to `seen`, if it is close enough to be the same person.
fn match_face(
    library: &HashMap<String, anfang_vision::Embedding>,
    seen: &anfang_vision::Embedding,
) -> Option<String> {
    library
        .iter()
        .map(|(person, e)| (person, e.distance(seen)))
        .filter(|(_, d)| *d < FACE_THRESHOLD)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(person, _)| person.clone())
}

#[allow(clippy::too_many_arguments)]
async fn terminal(
    host: String,
    port: u16,
    code: String,
    secret: String,
    run: u64,
    index: u64,
    busy_seconds: f64,
    mut faces: Option<Faces>,
) {
    let (client, mut events) = connect(host, port, &code, secret.clone());
    // Faces: person_ref → the embedding of their enrolled photo; digests asked for.
    let mut face_library: HashMap<String, anfang_vision::Embedding> = HashMap::new();
    let mut face_digests: HashMap<String, String> = HashMap::new();
    let (fetched_tx, mut fetched) =
        tokio::sync::mpsc::channel::<(String, String, Option<anfang_vision::Embedding>)>(16);
    let mut seen: usize = 0;
    let up = anfang_protocol::up_topic(&code);
    let mut library: HashMap<String, Entry> = HashMap::new();
    let mut version: u64 = 0;
    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut counter: u64 = 0;
    // Event ids stay unique across restarts: the run's start time is part of each.
    let mut next_id = move || {
        counter += 1;
        format!("s{run:x}-{counter}")
    };
    let mut heartbeat = tokio::time::interval(Duration::from_secs(30));
    let mut resend = tokio::time::interval(Duration::from_millis(500));
    // Terminals start at different moments so the demo's traffic is spread out.
    let mut activity = Box::pin(tokio::time::sleep(Duration::from_millis(
        500 + index * 137 % 5000,
    )));
    let mut subscribed = false;
    loop {
        tokio::select! {
            event = events.poll() => match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = client.subscribe(anfang_protocol::down_topic(&code), QoS::AtLeastOnce).await;
                    subscribed = true;
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let Ok(down) = serde_json::from_slice::<Value>(&p.payload) else { continue };
                    if let Some(id) = down["event_id"].as_str() {
                        pending.remove(id);
                    }
                    let command = &down["command"];
                    if command["action"] == "config"
                        && let Some(secs) = command["heartbeat_secs"].as_u64().filter(|s| *s > 0)
                    {
                        heartbeat = tokio::time::interval(Duration::from_secs(secs));
                    }
                    if command["action"] == "library_sync" {
                        if command["from_version"] == 0 {
                            library.clear();
                        }
                        if command["from_version"] == 0 {
                            face_library.clear();
                            face_digests.clear();
                        }
                        for change in command["changes"].as_array().into_iter().flatten() {
                            apply_change(&mut library, change);
                            if let Some(faces) = &faces
                                && let Some(person_ref) = change["person_ref"].as_str()
                            {
                                let digest = change["credentials"].as_array().into_iter().flatten()
                                    .find(|c| c["kind"] == "face")
                                    .and_then(|c| c["value"].as_str());
                                match digest {
                                    Some(digest) if face_digests.get(person_ref).map(String::as_str) != Some(digest) => {
                                        face_digests.insert(person_ref.to_string(), digest.to_string());
                                        let job = (faces.sim.clone(), faces.shared.clone());
                                        let (code, secret, person_ref, digest) =
                                            (code.clone(), secret.clone(), person_ref.to_string(), digest.to_string());
                                        let fetched_tx = fetched_tx.clone();
                                        tokio::spawn(async move {
                                            let e = face_template(job, code, secret, person_ref.clone(), digest.clone()).await;
                                            let _ = fetched_tx.send((person_ref, digest, e)).await;
                                        });
                                    }
                                    Some(_) => {}
                                    None => {
                                        face_digests.remove(person_ref);
                                        face_library.remove(person_ref);
                                    }
                                }
                            }
                        }
                        if let Some(faces) = &faces {
                            set_ready(&faces.shared, &code, !face_library.is_empty());
                        }
                        version = command["to_version"].as_u64().unwrap_or(version);
                        let ack = json!({"v": 1, "id": next_id(), "type": "library_ack", "at": now_rfc3339(), "device": code, "body": {"version": version}});
                        let _ = client.try_publish(up.clone(), QoS::AtLeastOnce, false, ack.to_string());
                    }
                }
                Ok(_) => {}
                Err(_) => {
                    // Disconnected: rumqttc reconnects on the next poll; pending events are resent.
                    subscribed = false;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
            _ = heartbeat.tick(), if subscribed => {
                let message = json!({"v": 1, "id": next_id(), "type": "heartbeat", "at": now_rfc3339(), "device": code,
                    "body": {"firmware": "anfang-sim 1.0", "library_version": version, "buffered_events": pending.len(),
                        "accepts": ["face", "card", "qr"]}});
                let _ = client.try_publish(up.clone(), QoS::AtLeastOnce, false, message.to_string());
            }
            _ = &mut activity => {
                let pause = busy_seconds / rhythm(local_hour());
                activity = Box::pin(tokio::time::sleep(Duration::from_secs_f64(pause * (0.5 + (counter % 7) as f64 / 7.0))));
                let Some(card) = library.keys().nth((counter as usize * 31 + index as usize) % library.len().max(1)).cloned() else { continue };
                let id = next_id();
                let body = json!({"kind": "card", "value": card});
                let at = now_rfc3339();
                let message = json!({"v": 1, "id": id, "type": "credential", "at": at, "device": code, "body": body});
                let sent = if subscribed {
                    let _ = client.try_publish(up.clone(), QoS::AtLeastOnce, false, message.to_string());
                    tokio::time::Instant::now()
                } else {
                    // Nobody to ask: decide from the library at the next tick.
                    tokio::time::Instant::now()
                        .checked_sub(ANSWER_TIMEOUT)
                        .unwrap_or_else(tokio::time::Instant::now)
                };
                pending.insert(id, Pending { body, at, sent, decided_locally: false });
            }
            Some((person_ref, digest, embedding)) = fetched.recv() => {
                // Only the photo still in the library counts.
                if face_digests.get(&person_ref) == Some(&digest) {
                    match embedding {
                        Some(e) => face_library.insert(person_ref, e),
                        None => face_library.remove(&person_ref),
                    };
                }
                if let Some(faces) = &faces {
                    set_ready(&faces.shared, &code, !face_library.is_empty());
                }
            }
            turn = async { faces.as_mut().expect("guarded").turns.recv().await }, if faces.is_some() => {
                let (Ok(turn), Some(faces)) = (turn, &faces) else { continue };
                if turn != code || faces.sim.passers.is_empty() {
                    continue;
                }
                let passer = &faces.sim.passers[seen % faces.sim.passers.len()];
                seen += 1;
                let Some(person_ref) = passer.embedding.as_ref().and_then(|e| match_face(&face_library, e)) else {
                    // A stranger, or no face in view: the door stays shut and nothing is reported.
                    tracing::debug!(device = %code, "simulated terminal: a face it does not know");
                    continue;
                };
                use base64::Engine as _;
                let snapshot = json!({"format": "jpeg", "data": base64::engine::general_purpose::STANDARD.encode(&passer.snapshot)});
                let id = next_id();
                let body = json!({"kind": "face", "person_ref": person_ref, "snapshot": snapshot});
                let at = now_rfc3339();
                let message = json!({"v": 1, "id": id, "type": "credential", "at": at, "device": code, "body": body});
                let sent = if subscribed {
                    let _ = client.try_publish(up.clone(), QoS::AtLeastOnce, false, message.to_string());
                    tokio::time::Instant::now()
                } else {
                    tokio::time::Instant::now()
                        .checked_sub(ANSWER_TIMEOUT)
                        .unwrap_or_else(tokio::time::Instant::now)
                };
                pending.insert(id, Pending { body, at, sent, decided_locally: false });
            }
            _ = resend.tick() => {
                let now_ms = chrono::Utc::now().timestamp_millis();
                for (id, p) in pending.iter_mut() {
                    if p.sent.elapsed() < ANSWER_TIMEOUT {
                        continue;
                    }
                    if !p.decided_locally {
                        // No answer: decide from the library, as the door must open or not now.
                        let value = p.body["value"].as_str().unwrap_or_default();
                        let face = p.body["person_ref"].as_str().filter(|r| face_library.contains_key(*r));
                        let (outcome, reason) = match library.get(value) {
                            _ if face.is_some() => ("open", "offline_library_match"),
                            Some(entry) if in_window(entry, now_ms) => ("open", "offline_library_match"),
                            Some(_) => ("deny", "offline_outside_validity"),
                            None => ("deny", "not_in_library"),
                        };
                        p.body["decided_locally"] = json!({"outcome": outcome, "reason": reason});
                        p.decided_locally = true;
                    }
                    if !subscribed {
                        // Offline: the decision is made; the record waits for the platform.
                        continue;
                    }
                    p.sent = tokio::time::Instant::now();
                    let message = json!({"v": 1, "id": id, "type": "credential", "at": p.at, "device": code, "body": p.body});
                    let _ = client.try_publish(up.clone(), QoS::AtLeastOnce, false, message.to_string());
                }
            }
        }
    }
}

/// Marks the terminal `code` as holding faces (it then takes turns before the camera) or not.
fn set_ready(shared: &FaceShared, code: &str, ready: bool) {
    if let Ok(mut set) = shared.ready.lock() {
        if ready {
            set.insert(code.to_string());
        } else {
            set.remove(code);
        }
    }
}

/// A simulated alarm device: its code, secret and kind (`perimeter_sensor`, `alarm_button`).
pub type Sensor = (String, String, String);

/// Runs simulated alarm devices against the broker at `host:port`: a heartbeat every 30 s and,
/// rarely, an alarm — on average one per device every `mean_minutes` (exponential gaps, so now
/// and then two close together, which the platform merges as a repeat), a perimeter intrusion for
/// a sensor, an SOS for a button.
pub fn spawn_sensors(host: &str, port: u16, sensors: Vec<Sensor>, mean_minutes: f64) {
    let run = run_id();
    for (index, (code, secret, kind)) in sensors.into_iter().enumerate() {
        let host = host.to_string();
        tokio::spawn(async move {
            sensor(host, port, code, secret, kind, run, index as u64, mean_minutes).await;
        });
    }
}

#[allow(clippy::too_many_arguments)]
async fn sensor(
    host: String,
    port: u16,
    code: String,
    secret: String,
    kind: String,
    run: u64,
    index: u64,
    mean_minutes: f64,
) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(run ^ (index.wrapping_mul(0x9E37_79B9)));
    let (client, mut events) = connect(host, port, &code, secret);
    let up = anfang_protocol::up_topic(&code);
    let mut counter: u64 = 0;
    let mut next_id = move || {
        counter += 1;
        format!("a{run:x}-{counter}")
    };
    let mut gap = move || {
        // Exponential gaps, at least 20 s.
        let u: f64 = rng.r#gen::<f64>().max(1e-9);
        Duration::from_secs_f64((-u.ln() * mean_minutes * 60.0).max(20.0))
    };
    let mut heartbeat = tokio::time::interval(Duration::from_secs(30));
    let mut next_alarm = Box::pin(tokio::time::sleep(gap()));
    let mut subscribed = false;
    let (alarm_kind, zone, level) = if kind == "alarm_button" {
        ("sos", "button", 4)
    } else {
        ("perimeter_intrusion", "1", 3)
    };
    loop {
        tokio::select! {
            event = events.poll() => match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = client.subscribe(anfang_protocol::down_topic(&code), QoS::AtLeastOnce).await;
                    subscribed = true;
                }
                Ok(_) => {}
                Err(_) => {
                    subscribed = false;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
            _ = heartbeat.tick(), if subscribed => {
                let message = json!({"v": 1, "id": next_id(), "type": "heartbeat", "at": now_rfc3339(), "device": code,
                    "body": {"firmware": "anfang-sim 1.0", "library_version": 0}});
                let _ = client.try_publish(up.clone(), QoS::AtLeastOnce, false, message.to_string());
            }
            _ = &mut next_alarm, if subscribed => {
                next_alarm = Box::pin(tokio::time::sleep(gap()));
                let message = json!({"v": 1, "id": next_id(), "type": "alarm", "at": now_rfc3339(), "device": code,
                    "body": {"kind": alarm_kind, "zone": zone, "level": level}});
                let _ = client.try_publish(up.clone(), QoS::AtLeastOnce, false, message.to_string());
            }
        }
    }
}

/// A route a simulated guard walks.
#[derive(Debug, Clone)]
pub struct SimRoute {
    /// The guard's reference (user id) sent with each scan.
    pub guard_ref: String,
    /// Checkpoint codes with the minutes after the start each is due.
    pub checkpoints: Vec<(String, u32)>,
    /// Round times.
    pub times: anfang_domain::patrol::RoundTimes,
    /// Minutes a scan may be late.
    pub tolerance_minutes: u32,
}

/// A patrol wand (its code and secret) and the routes walked with it.
pub type Wand = (String, String, Vec<SimRoute>);

/// Runs simulated guards: at each round time of each route, the wand scans the checkpoints in
/// order, a minute or two after each is due — and now and then a guard skips one (missed), dawdles
/// past the tolerance (late) or swaps two (out of order), so the judged rounds show all three.
pub fn spawn_patrols(host: &str, port: u16, wands: Vec<Wand>) {
    let run = run_id();
    for (index, (code, secret, routes)) in wands.into_iter().enumerate() {
        let (client, mut events) = connect(host.to_string(), port, &code, secret);
        let down = anfang_protocol::down_topic(&code);
        let beat = client.clone();
        let beat_code = code.clone();
        tokio::spawn(async move {
            let mut heartbeat = tokio::time::interval(Duration::from_secs(30));
            let mut subscribed = false;
            let mut n = 0u64;
            loop {
                tokio::select! {
                    event = events.poll() => match event {
                        Ok(Event::Incoming(Packet::ConnAck(_))) => {
                            let _ = beat.subscribe(down.clone(), QoS::AtLeastOnce).await;
                            subscribed = true;
                        }
                        Ok(_) => {}
                        Err(_) => {
                            subscribed = false;
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    },
                    _ = heartbeat.tick(), if subscribed => {
                        n += 1;
                        let message = json!({"v": 1, "id": format!("w{run:x}-h{n}"), "type": "heartbeat", "at": now_rfc3339(),
                            "device": beat_code, "body": {"firmware": "anfang-sim 1.0", "library_version": 0}});
                        let _ = beat.try_publish(anfang_protocol::up_topic(&beat_code), QoS::AtLeastOnce, false, message.to_string());
                    }
                }
            }
        });
        for (r, route) in routes.into_iter().enumerate() {
            let (client, code) = (client.clone(), code.clone());
            let seed = run ^ ((index as u64) << 20) ^ (r as u64);
            tokio::spawn(async move { walk(client, code, route, run, seed).await });
        }
    }
}

/// When each checkpoint of one round is scanned (ms), or `None` when the guard skips it.
fn plan_scans(route: &SimRoute, start: i64, rng: &mut impl rand::Rng) -> Vec<(i64, String)> {
    const MINUTE: i64 = 60_000;
    let mut scans: Vec<(i64, String)> = Vec::new();
    for (code, offset) in &route.checkpoints {
        let roll: f64 = rng.r#gen();
        let due = start + i64::from(*offset) * MINUTE;
        let at = if roll < 0.05 {
            continue;
        } else if roll < 0.09 {
            due + (i64::from(route.tolerance_minutes) + 2) * MINUTE
        } else {
            due + rng.gen_range(0..90_000)
        };
        scans.push((at, code.clone()));
    }
    if scans.len() >= 2 && rng.gen_bool(0.04) {
        let i = rng.gen_range(0..scans.len() - 1);
        let (a, b) = (scans[i].0, scans[i + 1].0);
        scans[i].0 = b;
        scans[i + 1].0 = a;
    }
    scans.sort();
    scans
}

async fn walk(client: AsyncClient, code: String, route: SimRoute, run: u64, seed: u64) {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let up = anfang_protocol::up_topic(&code);
    let mut n = 0u64;
    loop {
        let now = chrono::Utc::now().timestamp_millis();
        let Some(start) = route
            .times
            .starts_between(now, now + 8 * 86_400_000)
            .first()
            .copied()
        else {
            return;
        };
        for (at, checkpoint) in plan_scans(&route, start, &mut rng) {
            let wait = at - chrono::Utc::now().timestamp_millis();
            if wait > 0 {
                tokio::time::sleep(Duration::from_millis(wait as u64)).await;
            }
            n += 1;
            let when = chrono::DateTime::from_timestamp_millis(at)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let message = json!({"v": 1, "id": format!("w{run:x}-{seed:x}-{n}"), "type": "patrol_scan", "at": when,
                "device": code, "body": {"checkpoint": checkpoint, "guard_ref": route.guard_ref}});
            let _ = client.try_publish(up.clone(), QoS::AtLeastOnce, false, message.to_string());
        }
        // On to the next round (not the one just walked).
        let wait = start + 60_000 - chrono::Utc::now().timestamp_millis();
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_compare_as_instants_across_offsets() {
        let until = rfc3339_ms("2025-12-31T23:59:59+08:00").unwrap();
        assert_eq!(until, rfc3339_ms("2025-12-31T15:59:59Z").unwrap());
        let mut library = HashMap::new();
        apply_change(
            &mut library,
            &json!({"op": "upsert", "person_ref": "7", "valid_until": "2025-12-31T23:59:59+08:00",
                "credentials": [{"kind": "card", "value": "CAFE01"}, {"kind": "face"}]}),
        );
        let entry = library["CAFE01"].clone();
        assert!(in_window(&entry, until));
        assert!(
            !in_window(&entry, until + 1000),
            "the lease end is enforced offline"
        );
        // A replacement drops the old card; a removal drops the person.
        apply_change(
            &mut library,
            &json!({"op": "upsert", "person_ref": "7", "schedule": "1-5 07:00-19:00",
                "credentials": [{"kind": "card", "value": "CAFE02"}]}),
        );
        assert_eq!(library.keys().collect::<Vec<_>>(), ["CAFE02"]);
        let monday_8am = rfc3339_ms("2026-11-23T08:00:00+08:00").unwrap();
        let monday_8pm = rfc3339_ms("2026-11-23T20:00:00+08:00").unwrap();
        assert!(in_window(&library["CAFE02"], monday_8am));
        assert!(!in_window(&library["CAFE02"], monday_8pm), "off duty");
        apply_change(
            &mut library,
            &json!({"op": "remove", "person_ref": "7", "credentials": []}),
        );
        assert!(library.is_empty());
        assert!(rhythm(8) > rhythm(3) && rhythm(3) > 0.0);
    }

    #[test]
    fn simulated_rounds_have_some_misses_lates_and_swaps() {
        use rand::SeedableRng;
        let route = SimRoute {
            guard_ref: "1".into(),
            checkpoints: (0..4).map(|i| (format!("CP{i}"), 6 * i)).collect(),
            times: anfang_domain::patrol::RoundTimes::parse("1-7 08:00").unwrap(),
            tolerance_minutes: 5,
        };
        let plan = anfang_domain::patrol::RoundPlan {
            checkpoints: (0..4).map(|i| (i64::from(i), 6 * i)).collect(),
            window_minutes: 25,
            tolerance_minutes: 5,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut statuses = std::collections::HashMap::new();
        for round in 0..400 {
            let start = 1_795_392_000_000 + round * 86_400_000;
            let scans: Vec<_> = plan_scans(&route, start, &mut rng)
                .into_iter()
                .map(|(at, code)| anfang_domain::patrol::Scan {
                    checkpoint: code[2..].parse().unwrap(),
                    at,
                })
                .collect();
            let result = anfang_domain::patrol::judge_round(&plan, start, &scans);
            for c in &result.checkpoints {
                *statuses.entry(c.outcome.as_str()).or_insert(0) += 1;
            }
        }
        // Mostly on time, and every kind of failure shows up.
        assert!(statuses["on_time"] > 1_300, "{statuses:?}");
        for outcome in ["missed", "late", "out_of_order"] {
            assert!(statuses.get(outcome).copied().unwrap_or(0) > 5, "{statuses:?}");
        }
    }
}
