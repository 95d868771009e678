//! A simulated terminal keeps deciding while the platform is down and back-fills afterwards:
//! the demo district is seeded, `serve` runs with its embedded broker on a fixed free port,
//! `anfang sim` plays door terminals against it; the server is killed, the terminals decide
//! from their libraries, the server comes back on the same port, and the terminals' records
//! arrive marked as decided offline — each event once.

use crate::common::{Process, command, free_port, serve};
use reqwest::Method;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn serve_with_broker(data: &str, http: u16, mqtt: u16) -> Process {
    serve(
        data,
        http,
        &[("ANFANG_MQTT__LISTEN", format!("127.0.0.1:{mqtt}"))],
    )
}

async fn login(http: &reqwest::Client, base: &str, password: &str) -> String {
    for _ in 0..200 {
        if let Ok(resp) = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": password}))
            .send()
            .await
        {
            let v: Value = resp.json().await.unwrap();
            return v["token"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not come up");
}

/// Every access record, page by page.
async fn records(http: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for page in 1..=50 {
        let v: Value = http
            .request(
                Method::GET,
                format!("{base}/api/v1/access-records?page_size=200&page={page}"),
            )
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = v["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        all.extend(items);
    }
    all
}

#[tokio::test]
async fn terminals_decide_offline_and_back_fill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    // Seed the demo district, then stop the demo (and its own simulated terminals).
    let mut demo = Process(
        command(&["demo", "--data-dir", data, "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut password = String::new();
    for line in BufReader::new(demo.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(p) = line.strip_prefix("admin password: ") {
            password = p.trim().to_string();
            break;
        }
    }
    drop(demo);
    assert!(!password.is_empty(), "the demo printed the admin password");

    let (http_port, mqtt_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{http_port}");
    let http = reqwest::Client::new();
    let server = serve_with_broker(data, http_port, mqtt_port);
    let token = login(&http, &base, &password).await;
    // The demo seeds a week of records; only those after it count as the terminals'.
    let seeded = records(&http, &base, &token)
        .await
        .iter()
        .filter_map(|r| r["id"].as_i64())
        .max()
        .unwrap_or(0);
    let _sim = Process(
        command(&[
            "sim",
            "--data-dir",
            data,
            "--mqtt",
            &format!("127.0.0.1:{mqtt_port}"),
            "--terminals",
            "3",
            "--pace",
            "0.3",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap(),
    );
    // Online: the platform decides.
    let deadline = Instant::now() + Duration::from_secs(60);
    while records(&http, &base, &token)
        .await
        .iter()
        .filter(|r| r["id"].as_i64().is_some_and(|id| id > seeded))
        .count()
        < 5
    {
        assert!(
            Instant::now() < deadline,
            "no records from the simulated terminals"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The platform goes away; the terminals keep deciding from their libraries.
    drop(server);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let server = serve_with_broker(data, http_port, mqtt_port);
    let token = login(&http, &base, &password).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let back_filled = loop {
        let all = records(&http, &base, &token).await;
        let offline: Vec<Value> = all
            .iter()
            .filter(|r| r["decided_locally"] == true)
            .cloned()
            .collect();
        if offline.len() >= 3 {
            break (all, offline);
        }
        assert!(
            Instant::now() < deadline,
            "no back-filled records: {} in all",
            all.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let (all, offline) = back_filled;
    for record in &offline {
        let reason = record["reason"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with("offline_") || reason == "not_in_library",
            "the terminal's own reason is kept: {record}"
        );
    }
    // Resends were many; each event is stored once. (A row may show on two pages while new
    // records push the listing down, so rows are told apart by id first.)
    let mut rows: Vec<(i64, i64, String)> = all
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["device_id"].as_i64().unwrap(),
                r["event_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    rows.dedup();
    let mut keys: Vec<(i64, String)> = rows.into_iter().map(|(_, d, e)| (d, e)).collect();
    let count = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), count, "one record per event");
    drop(server);
}
