//! GA/T 1400 System interface conformance, driven by an independent client: the Python script
//! `tests/viid/conformance.py` (requests + its own HTTP Digest) against `anfang serve`, with a
//! capture camera registered through the CLI. `.ci/run` installs `requests` from PyPI.

use crate::common::{add_camera, free_port, init, login, register_camera, serve};
use std::process::Command;

async fn get(http: &reqwest::Client, url: String, token: &str) -> serde_json::Value {
    http.get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_independent_python_client_registers_keeps_alive_and_unregisters() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    let password = init(data);
    let code = "34078100001190001002";
    let secret = add_camera(data, code);
    let port = free_port();
    let _server = serve(data, port, &[("ANFANG_MQTT__MODE", "off".into())]);
    let base = format!("http://127.0.0.1:{port}");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/viid/conformance.py");
    let out = Command::new("python3")
        .args([script, &base, code, &secret])
        .output()
        .expect("python3 runs (.ci/run installs it with requests)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "conformance failed:\n{text}");
    assert!(text.contains("all checks passed"), "{text}");
    // What the camera uploaded is queryable: two vehicles and one face (stored once).
    let http = reqwest::Client::new();
    let token = login(&http, &base, &password).await;
    let records = get(
        &http,
        format!("{base}/api/v1/capture-records?page_size=50"),
        &token,
    )
    .await;
    // Two vehicles, one face (uploaded twice, stored once) and one image.
    assert_eq!(records["total"], 4, "{records}");
    let by_plate = get(
        &http,
        format!("{base}/api/v1/capture-records?plate=浙B0560Z"),
        &token,
    )
    .await;
    assert_eq!(by_plate["items"][0]["images"], 1, "{by_plate}");
    assert!(
        !by_plate.to_string().contains("iVBOR"),
        "no image data in records"
    );
}

const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mOwylsKAAIzAU6YytWUAAAAAElFTkSuQmCC";

#[tokio::test]
async fn an_upload_flood_is_refused_with_retry_after_and_nothing_acknowledged_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    let password = init(data);
    let code = "34078100001190001003";
    let secret = add_camera(data, code);
    let port = free_port();
    // One batch stored at a time: a flood of concurrent uploads must meet refusals.
    let _server = serve(
        data,
        port,
        &[
            ("ANFANG_MQTT__MODE", "off".into()),
            ("ANFANG_SERVER__VIID_UPLOADS_IN_FLIGHT", "1".into()),
        ],
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    register_camera(&http, &base, code, &secret).await;
    let batch = |round: u32, client: u32| {
        let faces: Vec<serde_json::Value> = (0..20)
            .map(|n| {
                serde_json::json!({"FaceID": format!("{code}02202406040945{round:02}{client:03}{n:02}"), "DeviceID": code,
                    "ShotTime": "20240604094547",
                    "SubImageList": {"SubImageInfoObject": [{"Type": "11", "FileFormat": "Png", "Data": PNG}]}})
            })
            .collect();
        serde_json::json!({"FaceListObject": {"FaceObject": faces}}).to_string()
    };
    let (mut acknowledged, mut refused) = (0u64, 0u64);
    for round in 0..5 {
        let mut flood = Vec::new();
        for client in 0..40 {
            let (http, base, body) = (http.clone(), base.clone(), batch(round, client));
            flood.push(tokio::spawn(async move {
                http.post(format!("{base}/VIID/Faces"))
                    .header("User-Identify", code)
                    .body(body)
                    .send()
                    .await
                    .unwrap()
            }));
        }
        for request in flood {
            let response = request.await.unwrap();
            match response.status().as_u16() {
                200 => {
                    let v: serde_json::Value = response.json().await.unwrap();
                    let statuses = v["ResponseStatusListObject"]["ResponseStatusObject"]
                        .as_array()
                        .unwrap()
                        .clone();
                    assert!(statuses.iter().all(|s| s["StatusCode"] == 0), "{v}");
                    acknowledged += statuses.len() as u64;
                }
                503 => {
                    assert_eq!(response.headers()["retry-after"], "1");
                    let v: serde_json::Value = response.json().await.unwrap();
                    assert_eq!(v["ResponseStatusObject"]["StatusCode"], 2, "device busy: {v}");
                    refused += 1;
                }
                other => panic!("unexpected {other}"),
            }
        }
        if refused > 0 {
            break;
        }
    }
    assert!(refused > 0, "a flood against one slot met no refusal");
    assert!(acknowledged > 0);
    // Every face acknowledged is stored; nothing refused is.
    let token = &login(&http, &base, &password).await;
    let records = get(&http, format!("{base}/api/v1/capture-records?page_size=1"), token).await;
    assert_eq!(records["total"].as_u64(), Some(acknowledged), "{records}");
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("anfang_viid_refused_total{reason=\"busy\"}"),
        "refusals are counted"
    );
}

#[tokio::test]
async fn camera_analytics_in_uploads_raise_alarms_and_routine_captures_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    let password = init(data);
    let code = "34078100001190001004";
    let secret = add_camera(data, code);
    let port = free_port();
    let _server = serve(data, port, &[("ANFANG_MQTT__MODE", "off".into())]);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    register_camera(&http, &base, code, &secret).await;
    let image = |n: u32, event_sort: &str| {
        serde_json::json!({"ImageInfo": {"ImageID": format!("{code}02202406040945470000{n}"), "DeviceID": code,
            "EventSort": event_sort, "ShotTime": "20240604094547"}, "Data": PNG})
    };
    // A tripwire crossing (GA/T 2000.254 code 05), a person passing (02), and a fight (03).
    let images =
        serde_json::json!({"ImageListObject": {"Image": [image(1, "05"), image(2, "02"), image(3, "03")]}});
    let uploaded: serde_json::Value = http
        .post(format!("{base}/VIID/Images"))
        .header("User-Identify", code)
        .body(images.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let statuses = uploaded["ResponseStatusListObject"]["ResponseStatusObject"]
        .as_array()
        .unwrap();
    assert!(statuses.iter().all(|s| s["StatusCode"] == 0), "{uploaded}");
    // A person the camera saw climbing, described in words.
    let person = serde_json::json!({"PersonListObject": {"PersonObject": [{
        "PersonID": format!("{code}02202406040945470000{}", 9), "DeviceID": code, "ShotTime": "20240604094550",
        "BehaviorDescription": "翻越围墙",
        "SubImageList": {"SubImageInfoObject": [{"Type": "14", "FileFormat": "Png", "Data": PNG}]}}]}});
    let answer = http
        .post(format!("{base}/VIID/Persons"))
        .header("User-Identify", code)
        .body(person.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    let token = &login(&http, &base, &password).await;
    let alarms = get(&http, format!("{base}/api/v1/alarms?page_size=50"), token).await;
    let mut kinds: Vec<String> = alarms["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["source"], "gat1400", "{a}");
            assert_eq!(
                a["has_snapshot"], true,
                "the capture's picture comes with it: {a}"
            );
            a["kind"].as_str().unwrap().to_string()
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec!["climbing", "fighting", "perimeter_intrusion"],
        "{alarms}"
    );
    let records = get(
        &http,
        format!("{base}/api/v1/capture-records?page_size=50"),
        token,
    )
    .await;
    assert_eq!(records["total"], 4, "every capture is kept, alarm or not");
}
