//! The cascade client: for each configured superior GA/T 1400 platform, register with HTTP
//! Digest, keep alive, and upload the queued capture records in order (`/VIID/Faces`,
//! `/VIID/MotorVehicles`, …). Link loss and restarts lose nothing: the queue is durable and
//! written with the records; an item is marked delivered only once the superior answered it
//! with status 0. A 401 makes the client register again; network errors back off (1 s doubling
//! to 60 s) without counting against the items; refusals by the superior count, and an item it
//! keeps refusing is given up after a few attempts (`anfang_app::cascade::MAX_ATTEMPTS`).

use crate::config::CascadeTarget;
use anfang_app::App;
use anfang_gat1400::Challenge;
use serde_json::{Value, json};
use std::time::Duration;

/// Items sent in one request at most.
const BATCH: i64 = 100;
/// Seconds between keepalives when idle.
const KEEPALIVE: Duration = Duration::from_secs(30);
/// The longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
const VIID_JSON: &str = "application/VIID+JSON;charset=UTF-8";

/// Why a step failed.
enum Failure {
    /// The superior wants us to register (again).
    Unauthorized,
    /// The link or the superior is down.
    Link(String),
}

/// Starts one forwarder per target.
pub fn spawn(app: &App, targets: &[CascadeTarget]) {
    for target in targets {
        let (app, target) = (app.clone(), target.clone());
        tokio::spawn(async move { run(app, target).await });
    }
}

fn path_of(kind: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match kind {
        "face" => ("/VIID/Faces", "FaceListObject", "FaceObject"),
        "person" => ("/VIID/Persons", "PersonListObject", "PersonObject"),
        "motor_vehicle" => (
            "/VIID/MotorVehicles",
            "MotorVehicleListObject",
            "MotorVehicleObject",
        ),
        "non_motor_vehicle" => (
            "/VIID/NonMotorVehicles",
            "NonMotorVehicleListObject",
            "NonMotorVehicleObject",
        ),
        _ => return None,
    })
}

async fn post(
    http: &reqwest::Client,
    t: &CascadeTarget,
    path: &str,
    body: &Value,
    auth: Option<String>,
) -> Result<reqwest::Response, Failure> {
    let mut request = http
        .post(format!("{}{path}", t.url.trim_end_matches('/')))
        .header("Content-Type", VIID_JSON)
        .header("User-Identify", &t.device_id)
        .body(body.to_string());
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    request.send().await.map_err(|e| Failure::Link(e.to_string()))
}

fn status_ok(value: &Value) -> bool {
    anfang_gat1400::StatusCode::read(&value["ResponseStatusObject"]["StatusCode"]) == Some(0)
}

async fn register(http: &reqwest::Client, t: &CascadeTarget) -> Result<(), Failure> {
    const PATH: &str = "/VIID/System/Register";
    let body = json!({"RegisterObject": {"DeviceID": t.device_id}});
    let first = post(http, t, PATH, &body, None).await?;
    let response = if first.status() == reqwest::StatusCode::UNAUTHORIZED {
        let header = first
            .headers()
            .get("WWW-Authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let challenge = Challenge::parse(&header).map_err(|e| Failure::Link(format!("challenge: {e}")))?;
        let cnonce = hex::encode(anfang_base::random_bytes(8));
        let auth = challenge.answer("POST", PATH, &t.device_id, &t.password, &cnonce);
        post(http, t, PATH, &body, Some(auth)).await?
    } else {
        first
    };
    match response.status() {
        s if s.is_success() => {
            let value: Value = response.json().await.unwrap_or_default();
            if status_ok(&value) {
                Ok(())
            } else {
                Err(Failure::Link(format!("registration refused: {value}")))
            }
        }
        reqwest::StatusCode::UNAUTHORIZED => Err(Failure::Link("wrong password for the superior".into())),
        s => Err(Failure::Link(format!("registration answered {s}"))),
    }
}

/// Sends one run of items of the same kind; returns how many were sent.
async fn deliver(
    app: &App,
    http: &reqwest::Client,
    t: &CascadeTarget,
    items: &[anfang_app::cascade::CascadeItem],
) -> Result<(), Failure> {
    let Some((path, list_key, object_key)) = path_of(&items[0].kind) else {
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        let _ = app
            .cascade_failed(&t.name, &ids, "no upload path for this kind")
            .await;
        return Ok(());
    };
    let objects: Vec<Value> = items.iter().map(|i| i.object.clone()).collect();
    let body = json!({list_key: {object_key: objects}});
    let response = post(http, t, path, &body, None).await?;
    if response.status() == reqwest::StatusCode::UNAUTHORIZED {
        return Err(Failure::Unauthorized);
    }
    if !response.status().is_success() {
        return Err(Failure::Link(format!("{path} answered {}", response.status())));
    }
    let value: Value = response.json().await.unwrap_or_default();
    // One status per object, in order; a single status (some platforms) covers the batch.
    let statuses: Vec<bool> = match &value["ResponseStatusListObject"]["ResponseStatusObject"] {
        Value::Array(list) => list
            .iter()
            .map(|s| anfang_gat1400::StatusCode::read(&s["StatusCode"]) == Some(0))
            .collect(),
        _ => vec![status_ok(&value); items.len()],
    };
    let (mut delivered, mut refused) = (Vec::new(), Vec::new());
    for (n, item) in items.iter().enumerate() {
        if statuses.get(n).copied().unwrap_or(false) {
            delivered.push(item.id);
        } else {
            refused.push(item.id);
        }
    }
    let stored = app.cascade_delivered(&delivered).await;
    if let Err(e) = stored {
        return Err(Failure::Link(format!("marking delivered: {e}")));
    }
    if !refused.is_empty() {
        let _ = app
            .cascade_failed(&t.name, &refused, "refused by the superior")
            .await;
    }
    metrics::counter!("anfang_cascade_delivered_total", "target" => t.name.clone())
        .increment(delivered.len() as u64);
    Ok(())
}

async fn run(app: App, t: CascadeTarget) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let mut registered = false;
    let mut backoff = Duration::from_secs(1);
    let mut last_contact = tokio::time::Instant::now();
    loop {
        if let Ok(depth) = app.cascade_depth(&t.name).await {
            metrics::gauge!("anfang_cascade_queue_depth", "target" => t.name.clone())
                .set(depth.pending as f64);
        }
        let step = async {
            if !registered {
                register(&http, &t).await?;
                tracing::info!(target = %t.name, "registered with the superior VIID");
                registered = true;
                last_contact = tokio::time::Instant::now();
            }
            let items = app
                .cascade_batch(&t.name, BATCH)
                .await
                .map_err(|e| Failure::Link(format!("queue: {e}")))?;
            if items.is_empty() {
                if last_contact.elapsed() >= KEEPALIVE {
                    let body = json!({"KeepaliveObject": {"DeviceID": t.device_id}});
                    let response = post(&http, &t, "/VIID/System/Keepalive", &body, None).await?;
                    if response.status() == reqwest::StatusCode::UNAUTHORIZED {
                        return Err(Failure::Unauthorized);
                    }
                    last_contact = tokio::time::Instant::now();
                }
                return Ok(false);
            }
            // Runs of one kind, in queue order.
            let mut start = 0;
            while start < items.len() {
                let end = items[start..]
                    .iter()
                    .position(|i| i.kind != items[start].kind)
                    .map_or(items.len(), |p| start + p);
                deliver(&app, &http, &t, &items[start..end]).await?;
                start = end;
            }
            last_contact = tokio::time::Instant::now();
            Ok(true)
        };
        match step.await {
            Ok(busy) => {
                backoff = Duration::from_secs(1);
                if !busy {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
            Err(Failure::Unauthorized) => {
                registered = false;
            }
            Err(Failure::Link(e)) => {
                tracing::warn!(target = %t.name, error = %e, retry_in = ?backoff, "cascade link down");
                registered = false;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
