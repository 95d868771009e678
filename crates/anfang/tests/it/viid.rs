//! GA/T 1400 System interface conformance, driven by an independent client: the Python script
//! `tests/viid/conformance.py` (requests + its own HTTP Digest) against `anfang serve`, with a
//! capture camera registered through the CLI. `.ci/run` installs `requests` from PyPI.

use std::process::{Command, Stdio};
use std::time::Duration;

struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn anfang(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_anfang"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

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
    let init = anfang(&["init", "--data-dir", data]);
    let password = init
        .lines()
        .find_map(|l| l.strip_prefix("admin password: "))
        .unwrap()
        .trim()
        .to_string();
    let code = "34078100001190001002";
    let out = anfang(&[
        "device",
        "add",
        "--data-dir",
        data,
        "--code",
        code,
        "--kind",
        "face_capture_camera",
        "--protocol",
        "gat1400",
    ]);
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .expect("the secret is printed")
        .trim()
        .to_string();
    let port = free_port();
    let _server = Process(
        Command::new(env!("CARGO_BIN_EXE_anfang"))
            .args([
                "serve",
                "--data-dir",
                data,
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("ANFANG_MQTT__MODE", "off")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
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
    assert_eq!(records["total"], 3, "{records}");
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
