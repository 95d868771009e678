//! What the binary's integration tests share: running `anfang` commands, a child process that
//! is killed when dropped, free ports, the values `init` and `device add` print, and a
//! `serve` that is up before it returns.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A child process, killed and reaped when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `anfang ARGS` as a command, quiet logs.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_anfang"));
    cmd.args(args).env("RUST_LOG", "warn");
    cmd
}

/// Runs `anfang ARGS`, which must succeed; its standard output.
pub fn anfang(args: &[&str]) -> String {
    let out = command(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The value after `prefix` on the line that starts with it.
pub fn value_after(text: &str, prefix: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no '{prefix}' line in:\n{text}"))
        .trim()
        .to_string()
}

/// `anfang init` into DIR; the admin password.
pub fn init(data: &str) -> String {
    value_after(&anfang(&["init", "--data-dir", data]), "admin password: ")
}

/// `anfang device add` of a GA/T 1400 capture camera; its secret.
pub fn add_camera(data: &str, code: &str) -> String {
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
    value_after(&out, "secret: ")
}

/// `anfang serve` on `port` with extra environment, waiting until it accepts connections.
pub fn serve(data: &str, port: u16, env: &[(&str, String)]) -> Process {
    let mut cmd = command(&[
        "serve",
        "--data-dir",
        data,
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let child = Process(cmd.stdout(Stdio::null()).spawn().unwrap());
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// The camera registers with Anfang, answering its digest challenge.
pub async fn register_camera(http: &reqwest::Client, base: &str, camera: &str, secret: &str) {
    let register_body = serde_json::json!({"RegisterObject": {"DeviceID": camera}}).to_string();
    let first = http
        .post(format!("{base}/VIID/System/Register"))
        .body(register_body.clone())
        .send()
        .await
        .unwrap();
    let challenge =
        anfang_gat1400::Challenge::parse(first.headers()["www-authenticate"].to_str().unwrap()).unwrap();
    let auth = challenge.answer("POST", "/VIID/System/Register", camera, secret, "c");
    let registered = http
        .post(format!("{base}/VIID/System/Register"))
        .header("Authorization", auth)
        .body(register_body)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 200);
}

/// Logs in as `admin` over the API; the bearer token.
pub async fn login(http: &reqwest::Client, base: &str, password: &str) -> String {
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["token"].as_str().unwrap().to_string()
}
