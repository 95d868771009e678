//! `anfang sim` for the devices that speak HTTP push: barrier gates at a community's vehicle
//! lanes and its unattended smart booth. Gates read plates — residents' cars and strangers' —
//! at a daily rhythm, keep the cars that are inside, and send them out again later (a stranger
//! owing a fee is refused at the exit and, as if the guard settled it, goes in a while); the
//! booth's visitors press the call key for a house of the community and the booth learns the
//! answer from the command handed back with a later ack. Every message is a real protocol
//! message, signed like a real device's.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::time::Duration;

/// A pushed device: its code and secret.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The device code.
    pub code: String,
    /// Its secret.
    pub secret: String,
}

/// What one community's lanes and booth need to play.
#[derive(Debug, Clone)]
pub struct CommunityLanes {
    /// The entry lane's gate.
    pub entry: Option<Pushed>,
    /// The exit lane's gate (the entry gate both ways when there is one lane).
    pub exit: Option<Pushed>,
    /// The unattended booth.
    pub booth: Option<Pushed>,
    /// Registered residents' plates.
    pub plates: Vec<String>,
    /// Plates on the police watch-list: now and then one of them drives up (a rare hit).
    pub wanted: Vec<String>,
    /// Houses as `building-unit-house`, for visitors to name.
    pub houses: Vec<String>,
}

const PROVINCE_LETTERS: &[char] = &['C', 'A', 'B', 'F', 'H'];
const VISITORS: &[&str] = &["张先生", "李女士", "快递员", "外卖骑手", "王师傅", "维修工"];

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A plausible stranger's plate (鲁 + a city letter + five characters).
fn stranger_plate(rng: &mut StdRng) -> String {
    let letter = PROVINCE_LETTERS[rng.gen_range(0..PROVINCE_LETTERS.len())];
    let tail: String = (0..5)
        .map(|i| {
            if i == 0 && rng.gen_bool(0.3) {
                char::from(b'A' + rng.gen_range(0..8u8))
            } else {
                char::from(b'0' + rng.gen_range(0..10u8))
            }
        })
        .collect();
    format!("鲁{letter}{tail}")
}

/// Posts one message as `device`; returns the ack, if one came.
async fn push(
    http: &reqwest::Client,
    base: &str,
    device: &Pushed,
    kind: &str,
    body: Value,
    seq: &mut u64,
) -> Option<Value> {
    *seq += 1;
    let message =
        json!({"v": 1, "id": format!("sim-{}-{seq}", chrono::Utc::now().timestamp_millis()), "type": kind,
        "at": now_rfc3339(), "device": device.code, "body": body})
        .to_string();
    let ts = chrono::Utc::now().timestamp_millis();
    let signature = anfang_protocol::sign(device.secret.as_bytes(), ts, message.as_bytes());
    let response = http
        .post(format!("{base}/api/v1/device-push/events"))
        .header(anfang_protocol::HEADER_DEVICE, &device.code)
        .header(anfang_protocol::HEADER_TIMESTAMP, ts.to_string())
        .header(anfang_protocol::HEADER_SIGNATURE, signature)
        .header("content-type", "application/json")
        .body(message)
        .send()
        .await
        .ok()?;
    response.json().await.ok()
}

/// Plays every community's lanes and booth against the platform at `base` (`http://host:port`)
/// until the process ends; `busy_seconds` is the mean pause between cars at rush hour.
pub fn spawn_lanes(base: &str, communities: Vec<CommunityLanes>, busy_seconds: f64) {
    let http = reqwest::Client::new();
    for (index, lanes) in communities.into_iter().enumerate() {
        let (base, http) = (base.to_string(), http.clone());
        tokio::spawn(async move { community(base, http, lanes, index as u64, busy_seconds).await });
    }
}

async fn community(
    base: String,
    http: reqwest::Client,
    lanes: CommunityLanes,
    index: u64,
    busy_seconds: f64,
) {
    let mut rng = StdRng::seed_from_u64(index * 7919 + chrono::Utc::now().timestamp() as u64);
    let mut seq = 0u64;
    // Cars inside: plate and when they may try to leave.
    let mut inside: Vec<(String, tokio::time::Instant)> = Vec::new();
    let mut heartbeat = tokio::time::interval(Duration::from_secs(20));
    let mut next_car =
        tokio::time::Instant::now() + Duration::from_secs_f64(rng.gen_range(1.0..busy_seconds));
    let mut next_visitor = tokio::time::Instant::now() + Duration::from_secs_f64(rng.gen_range(20.0..90.0));
    let exit = lanes.exit.clone().or_else(|| lanes.entry.clone());
    loop {
        tokio::select! {
            _ = heartbeat.tick() => {
                for device in [&lanes.entry, &lanes.exit, &lanes.booth].into_iter().flatten() {
                    // HTTP-push devices hear commands (a booth call's answer) only in acks.
                    let ack = push(&http, &base, device, "heartbeat", json!({"firmware": "anfang-sim 1.0", "library_version": 0}), &mut seq).await;
                    if let Some(command) = ack.as_ref().map(|a| &a["command"]) && !command.is_null() {
                        tracing::debug!(device = %device.code, %command, "simulated device got a command");
                    }
                }
            }
            _ = tokio::time::sleep_until(next_car) => {
                let pause = busy_seconds / crate::sim::rhythm(crate::sim::local_hour());
                next_car = tokio::time::Instant::now() + Duration::from_secs_f64(pause * rng.gen_range(0.5..1.5));
                let due = inside.iter().position(|(_, leave_at)| *leave_at <= tokio::time::Instant::now());
                match (due, &lanes.entry, &exit) {
                    (Some(i), _, Some(gate)) => {
                        let plate = inside[i].0.clone();
                        let ack = push(&http, &base, gate, "plate", json!({"plate": plate, "color": "blue", "confidence": 0.96, "direction": "out"}), &mut seq).await;
                        let opened = ack.as_ref().is_some_and(|a| a["command"]["action"] == "open");
                        if opened || rng.gen_bool(0.5) {
                            // Out, or the guard settled the fee and let it go.
                            inside.swap_remove(i);
                        } else {
                            inside[i].1 = tokio::time::Instant::now() + Duration::from_secs(60);
                        }
                    }
                    (_, Some(gate), _) => {
                        let plate = if !lanes.wanted.is_empty() && rng.gen_bool(0.005) {
                            lanes.wanted[rng.gen_range(0..lanes.wanted.len())].clone()
                        } else if !lanes.plates.is_empty() && rng.gen_bool(0.7) {
                            lanes.plates[rng.gen_range(0..lanes.plates.len())].clone()
                        } else {
                            stranger_plate(&mut rng)
                        };
                        if inside.iter().any(|(p, _)| *p == plate) {
                            continue;
                        }
                        let ack = push(&http, &base, gate, "plate", json!({"plate": plate, "color": "blue", "confidence": 0.97, "direction": "in"}), &mut seq).await;
                        if ack.as_ref().is_some_and(|a| a["command"]["action"] == "open") {
                            let stay = Duration::from_secs(rng.gen_range(120..1800));
                            inside.push((plate, tokio::time::Instant::now() + stay));
                        }
                    }
                    _ => {}
                }
            }
            _ = tokio::time::sleep_until(next_visitor), if lanes.booth.is_some() => {
                next_visitor = tokio::time::Instant::now() + Duration::from_secs_f64(rng.gen_range(120.0..600.0));
                let (Some(booth), false) = (&lanes.booth, lanes.houses.is_empty()) else { continue };
                let house = &lanes.houses[rng.gen_range(0..lanes.houses.len())];
                let name = VISITORS[rng.gen_range(0..VISITORS.len())];
                push(&http, &base, booth, "booth_call", json!({"house_ref": house, "visitor": {"name": name}}), &mut seq).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stranger_plates_are_valid_plates() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let plate = stranger_plate(&mut rng);
            assert!(anfang_domain::PlateNumber::parse(&plate).is_ok(), "{plate}");
        }
    }
}
