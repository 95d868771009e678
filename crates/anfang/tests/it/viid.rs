//! GA/T 1400 System interface conformance, driven by an independent client: the Python script
//! `tests/viid/conformance.py` (requests + its own HTTP Digest) against `anfang serve`, with a
//! capture camera registered through the CLI. `.ci/run` installs `requests` from PyPI.

use crate::common::{add_camera, free_port, init, serve};
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
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
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
