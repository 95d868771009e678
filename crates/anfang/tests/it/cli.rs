//! The command-line interface as scripts and operators use it: `init` prints the admin
//! password once, `admin create-user` and `device add` print generated secrets in their exact
//! forms, `audit verify` passes, `backup` copies online, and a taken port is named clearly.

use crate::common::value_after;
use std::process::{Command, Output};

fn anfang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anfang"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run anfang")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[test]
fn init_admin_device_audit_backup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    let out = anfang(&["init", "--data-dir", data]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let password = value_after(&stdout(&out), "admin password: ");
    assert!(password.len() >= 16 && password != "admin");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("d/keys"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "keys are private");
    }
    let again = anfang(&["init", "--data-dir", data]);
    assert!(!again.status.success(), "init twice refuses");

    let out = anfang(&[
        "admin",
        "create-user",
        "--data-dir",
        data,
        "--username",
        "police1",
        "--role",
        "community_police",
        "--scope",
        "street:370323001",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(value_after(&stdout(&out), "password: ").len() >= 16);
    let bad = anfang(&[
        "admin",
        "create-user",
        "--data-dir",
        data,
        "--username",
        "xx1",
        "--role",
        "king",
        "--scope",
        "district",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("role"));

    let out = anfang(&[
        "device",
        "add",
        "--data-dir",
        data,
        "--code",
        "37032300001320000001",
        "--kind",
        "face_door_terminal",
        "--protocol",
        "mqtt",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(value_after(&stdout(&out), "secret: ").len() >= 24);
    let bad = anfang(&[
        "device",
        "add",
        "--data-dir",
        data,
        "--code",
        "123",
        "--kind",
        "nvr",
        "--protocol",
        "gb28181",
    ]);
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("20"),
        "a bad code names the rule"
    );

    let out = anfang(&["audit", "verify", "--data-dir", data]);
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("audit chain intact"));

    let backup = dir.path().join("backup.db");
    let out = anfang(&["backup", "--data-dir", data, "--out", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::metadata(&backup).unwrap().len() > 0);
}

#[test]
fn serve_names_a_taken_port_and_its_config_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    assert!(anfang(&["init", "--data-dir", data]).status.success());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = anfang(&["serve", "--data-dir", data, "--listen", &addr]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&addr) && err.contains("server.listen"), "{err}");
}
