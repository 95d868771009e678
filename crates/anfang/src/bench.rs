//! `anfang bench access`: drives simulated terminals over MQTT against a platform it starts
//! itself (temporary data directory, free ports) and prints throughput and latency from event
//! published to ack received, beside the same decisions made in-process in the same run (the
//! baseline). A benchmark, never a test: it prints figures and passes no judgement.

use crate::{config, datadir};
use anfang_app::registry::*;
use anyhow::Context;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct AccessBench {
    /// Simulated terminals.
    pub terminals: u32,
    /// Target decisions per second over all terminals.
    pub rate: u32,
    /// Seconds of load.
    pub seconds: u32,
}

/// Latency figures in milliseconds.
struct Figures {
    count: usize,
    per_second: f64,
    p50: f64,
    p99: f64,
}

fn figures(mut latencies: Vec<f64>, elapsed: Duration) -> Figures {
    latencies.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    Figures {
        count: latencies.len(),
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn card(n: u32) -> String {
    format!("BE{n:06X}")
}

/// Runs the benchmark and prints its figures.
pub async fn access(bench: AccessBench) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        println!("note: a debug build; build with --release for figures worth recording");
    }
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("bench");
    let password = datadir::init(&data).await?;
    let config = config::Config::load(&data)?;
    let app = datadir::open_with(&data, &config).await?;
    let admin = app.login("admin", &password).await?.principal;
    // One community, one entrance, the terminals at it, and residents with cards.
    let street = app
        .create_street(
            &admin,
            &CreateStreet {
                district_code: "370323".into(),
                code: "370323001".into(),
                name: "历山街道".into(),
            },
        )
        .await?;
    let committee = app
        .create_committee(
            &admin,
            &CreateCommittee {
                street_id: street.id,
                code: "C1".into(),
                name: "居委会".into(),
                kind: "residents".into(),
            },
        )
        .await?;
    let community = app
        .create_community(
            &admin,
            &CreateCommunity {
                committee_id: committee.id,
                code: "370323001001001".into(),
                name: "压测小区".into(),
                category: "existing_closed".into(),
                property_type: "commercial".into(),
                address: "沂源县".into(),
                site_width: 100.0,
                site_height: 100.0,
                police_area: None,
            },
        )
        .await?;
    let building = app
        .create_building(
            &admin,
            &CreateBuilding {
                community_id: community.id,
                number: "1".into(),
                name: None,
                floors: 6,
                x: 1.0,
                y: 1.0,
            },
        )
        .await?;
    let unit = app
        .create_unit(
            &admin,
            &CreateUnit {
                building_id: building.id,
                number: "1".into(),
            },
        )
        .await?;
    let house = app
        .create_house(
            &admin,
            &CreateHouse {
                unit_id: unit.id,
                number: "101".into(),
                floor: 1,
                area_m2: 90.0,
                use_kind: "owner_occupied".into(),
            },
        )
        .await?;
    let entrance = app
        .create_place(
            &admin,
            &CreatePlace {
                community_id: community.id,
                kind: "pedestrian_entrance".into(),
                name: "南门".into(),
                x: 1.0,
                y: 1.0,
                attended: true,
                unit_id: None,
            },
        )
        .await?;
    let residents = 200u32;
    let pm = {
        let req = anfang_app::auth::CreateUser {
            username: "bench-pm".into(),
            role: "property_manager".into(),
            scope: "community:370323001001001".into(),
            display_name: None,
        };
        let (_, pw) = app.create_user("bench", &req).await?;
        app.login("bench-pm", &pw).await?.principal
    };
    for n in 0..residents {
        let first17 = format!("3703231980{:02}{:02}{:03}", n % 12 + 1, n % 28 + 1, n % 1000);
        let id_number = format!(
            "{first17}{}",
            anfang_domain::id_number::gb11643_check_char(&first17).context("id")?
        );
        let person = app
            .create_person(
                &pm,
                &CreatePerson {
                    community_id: community.id,
                    name: format!("压测{n}"),
                    gender: "female".into(),
                    id_type: "resident_id".into(),
                    id_number,
                    phone: None,
                    population_type: "registered".into(),
                    tags: vec![],
                    house: Some(SetPersonHouse {
                        house_id: house.id,
                        role: "family".into(),
                        lease_start: None,
                        lease_end: None,
                        schedule: None,
                    }),
                },
            )
            .await?;
        let req = anfang_app::access::IssueCredential {
            kind: "card".into(),
            value: card(n),
            valid_until: None,
        };
        app.issue_credential(&pm, person.id, &req).await?;
    }
    let mut terminals = Vec::new();
    for t in 0..bench.terminals {
        let req = CreateDevice {
            code: format!("37032300001320{:06}", 900_000 + t),
            kind: "face_door_terminal".into(),
            protocol: "mqtt".into(),
            community_id: Some(community.id),
            place_id: Some(entrance.id),
            ..CreateDevice::default()
        };
        let (device, secret) = app.create_device(None, &req).await?;
        terminals.push((device.code, secret));
    }

    // Baseline: the same decisions in-process, one after another, each decided from the policy
    // cache and stored in its own transaction (the pipeline's path without transport or
    // batching).
    let baseline_events = (bench.rate as usize * 2).clamp(200, 4000);
    let mut latencies = Vec::with_capacity(baseline_events);
    let started = Instant::now();
    for i in 0..baseline_events {
        let event = anfang_app::access::DeviceEvent {
            event_id: format!("base-{i}"),
            at_ms: 0,
            kind: anfang_app::access::DeviceEventKind::Credential {
                presented: anfang_app::access::Presented::Card(card(i as u32 % residents)),
                decided_locally: None,
            },
            body_json: "{}".into(),
            images: Vec::new(),
        };
        let t = Instant::now();
        let decided = app
            .decide_event(&terminals[i % terminals.len()].0, &event)
            .await?
            .context("a credential event is decided")?;
        app.store_decided(std::slice::from_ref(&decided)).await?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let baseline = figures(latencies, started.elapsed());

    // Over MQTT: the embedded broker on a free port, terminals as real MQTT clients.
    let pipeline = anfang_pipeline::Pipeline::start(app.clone(), anfang_pipeline::PipelineConfig::default());
    let free: std::net::SocketAddr = "127.0.0.1:0".parse()?;
    let where_ = crate::mqtt::start(&app, &pipeline, &config.mqtt, Some(free))
        .await?
        .context("MQTT is off")?;
    let port: u16 = where_
        .split(':')
        .nth(2)
        .and_then(|p| p.split(' ').next())
        .and_then(|p| p.parse().ok())
        .context("broker port")?;
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let measured: Arc<Mutex<Vec<f64>>> = Arc::default();
    let mut publishers = Vec::new();
    for (code, secret) in &terminals {
        let mut options = MqttOptions::new(code.clone(), "127.0.0.1", port);
        options.set_credentials(code.clone(), secret.clone());
        options.set_keep_alive(Duration::from_secs(30));
        options.set_inflight(100);
        let (client, mut events) = AsyncClient::new(options, 1000);
        let mut network = rumqttc::NetworkOptions::new();
        // As a terminal would: small answered messages, no Nagle delay.
        network.set_tcp_nodelay(true);
        events.set_network_options(network);
        client
            .subscribe(anfang_protocol::down_topic(code), QoS::AtLeastOnce)
            .await?;
        let (sent, measured) = (sent.clone(), measured.clone());
        tokio::spawn(async move {
            while let Ok(event) = events.poll().await {
                if let Event::Incoming(Packet::Publish(p)) = event
                    && let Ok(ack) = serde_json::from_slice::<serde_json::Value>(&p.payload)
                    && let Some(id) = ack["event_id"].as_str()
                    && let Some(at) = sent.lock().unwrap_or_else(|e| e.into_inner()).remove(id)
                {
                    measured
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(at.elapsed().as_secs_f64() * 1000.0);
                }
            }
        });
        publishers.push((code.clone(), client));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let interval = Duration::from_secs_f64(1.0 / f64::from(bench.rate.max(1)));
    let total = u64::from(bench.rate) * u64::from(bench.seconds);
    let started = Instant::now();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for i in 0..total {
        tick.tick().await;
        let (code, client) = &publishers[i as usize % publishers.len()];
        let id = format!("e{i}");
        let at = chrono_like_now();
        let body = serde_json::json!({"v": 1, "id": id, "type": "credential", "at": at, "device": code,
            "body": {"kind": "card", "value": card(i as u32 % residents)}});
        sent.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, Instant::now());
        client
            .publish(
                anfang_protocol::up_topic(code),
                QoS::AtLeastOnce,
                false,
                body.to_string(),
            )
            .await?;
    }
    // Wait for the stragglers, at most five seconds.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !sent.lock().unwrap_or_else(|e| e.into_inner()).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    let lost = sent.lock().unwrap_or_else(|e| e.into_inner()).len();
    let over_mqtt = figures(
        measured.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        elapsed,
    );

    println!(
        "anfang bench access: {} terminals, target {} decisions/s for {} s",
        bench.terminals, bench.rate, bench.seconds
    );
    println!(
        "  in-process baseline: {:>6} decisions  {:>8.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
        baseline.count, baseline.per_second, baseline.p50, baseline.p99
    );
    println!(
        "  over MQTT:           {:>6} decisions  {:>8.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} unanswered)",
        over_mqtt.count, over_mqtt.per_second, over_mqtt.p50, over_mqtt.p99, lost
    );
    println!(
        "  ratio MQTT/baseline: throughput {:.2}x, p50 {:.2}x, p99 {:.2}x; goal p99 ≤ 5 ms at 2,000/s",
        over_mqtt.per_second / baseline.per_second,
        over_mqtt.p50 / baseline.p50,
        over_mqtt.p99 / baseline.p99
    );
    Ok(())
}

/// The current time as RFC 3339 (UTC), for message envelopes.
fn chrono_like_now() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    anfang_api::dto::rfc3339(ms)
}
