//! SIPp (Debian `sip-tester`) as an independent device: the scenarios in `tests/sipp/`.
//! Skipped with a message only when `sipp` is not installed; `.ci/run` installs it.

use crate::support::{self, PASSWORD, PLATFORM_ID, Recorder};
use anfang_gb28181::manscdp::ItemKind;
use anfang_gb28181::{GbId, Report};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const NVR: &str = "34020000001180000001";

pub(crate) fn sipp_installed() -> bool {
    let found = std::process::Command::new("sipp").arg("-v").output().is_ok();
    if !found {
        eprintln!("SKIPPED: `sipp` is not installed (apt-get install sip-tester; .ci/run does)");
    }
    found
}

pub(crate) fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name)
}

/// Writes an injection file: `SEQUENTIAL`, then `id;password` per device.
fn injection(dir: &Path, ids: &[String]) -> PathBuf {
    let path = dir.join("devices.csv");
    let mut text = String::from("SEQUENTIAL\n");
    for id in ids {
        text.push_str(&format!("{id};{PASSWORD}\n"));
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs sipp against the platform and returns (exit status, its error log).
async fn sipp(
    dir: &Path,
    platform: std::net::SocketAddr,
    args: &[&str],
) -> (std::process::ExitStatus, String) {
    let port = support::free_port().to_string();
    let mut command = tokio::process::Command::new("sipp");
    command
        .current_dir(dir)
        .arg(platform.to_string())
        .args([
            "-s",
            PLATFORM_ID,
            "-i",
            "127.0.0.1",
            "-p",
            &port,
            "-au",
            "device",
            "-ap",
            PASSWORD,
        ])
        .args([
            "-nostdin",
            "-trace_err",
            "-trace_msg",
            "-timeout",
            "60s",
            "-timeout_error",
        ])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(90), command.output())
        .await
        .expect("sipp ends in time")
        .expect("sipp runs");
    let mut log = String::from_utf8_lossy(&output.stderr).into_owned();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with("_errors.log") {
            log.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
        if name.ends_with("_messages.log") && !output.status.success() {
            let messages =
                String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap_or_default()).into_owned();
            let tail: String = messages
                .chars()
                .rev()
                .take(6000)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            log.push_str("\n--- messages (tail) ---\n");
            log.push_str(&tail);
        }
    }
    (output.status, log)
}

fn ids(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("3402000000132{i:07}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_devices_register_with_digest_keepalive_and_unregister_over_udp_and_tcp() {
    if !sipp_installed() {
        return;
    }
    for transport in ["u1", "t1"] {
        let devices = ids(3);
        let refs: Vec<&str> = devices.iter().map(String::as_str).collect();
        let recorder = Recorder::knowing(&refs);
        let mut config = support::config();
        config.query_on_register = false;
        let platform = support::start(config, Arc::clone(&recorder), None).await;
        let dir = tempfile::tempdir().unwrap();
        let inf = injection(dir.path(), &devices);
        let (status, log) = sipp(
            dir.path(),
            platform.local_addr(),
            &[
                "-sf",
                scenario("register.xml").to_str().unwrap(),
                "-inf",
                inf.to_str().unwrap(),
                "-m",
                "3",
                "-t",
                transport,
                "-d",
                "200",
            ],
        )
        .await;
        assert!(status.success(), "{transport}: sipp failed: {log}");
        for id in &devices {
            recorder.wait_for("registered", Duration::from_secs(5), |r| matches!(r, Report::Registered { device, gb_version, .. } if device.as_str() == id && gb_version.as_deref() == Some("3.0"))).await;
            recorder
                .wait_for(
                    "keepalive",
                    Duration::from_secs(5),
                    |r| matches!(r, Report::Keepalive { device } if device.as_str() == id),
                )
                .await;
            recorder
                .wait_for(
                    "unregistered",
                    Duration::from_secs(5),
                    |r| matches!(r, Report::Unregistered { device, .. } if device.as_str() == id),
                )
                .await;
        }
        assert_eq!(platform.counts(), (0, 0), "{transport}: all unregistered");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sipp_nvr_answers_the_catalog_in_two_gb2312_pages() {
    if !sipp_installed() {
        return;
    }
    let recorder = Recorder::knowing(&[NVR]);
    let mut config = support::config();
    config.query_on_register = false;
    let platform = support::start(config, Arc::clone(&recorder), None).await;
    let dir = tempfile::tempdir().unwrap();
    // The out-of-call scenario's bodies go on the wire as GB2312: convert the file.
    let source = std::fs::read_to_string(scenario("catalog_answer.xml")).unwrap();
    let ooc = dir.path().join("catalog_answer.gb2312.xml");
    std::fs::write(&ooc, encoding_rs::GBK.encode(&source).0).unwrap();
    let inf = injection(dir.path(), &[NVR.to_string()]);
    let run = {
        let (dir, addr, register, inf) = (
            dir.path().to_path_buf(),
            platform.local_addr(),
            scenario("register.xml"),
            inf.clone(),
        );
        tokio::spawn(async move {
            sipp(
                &dir,
                addr,
                &[
                    "-sf",
                    register.to_str().unwrap(),
                    "-oocsf",
                    ooc.to_str().unwrap(),
                    "-inf",
                    inf.to_str().unwrap(),
                    "-m",
                    "1",
                    "-d",
                    "4000",
                ],
            )
            .await
        })
    };
    recorder
        .wait_for("registered", Duration::from_secs(10), |r| {
            matches!(r, Report::Registered { .. })
        })
        .await;
    let (items, complete) = platform
        .catalog(&GbId::parse(NVR).unwrap())
        .await
        .expect("catalogue");
    assert!(complete, "both pages arrived");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].name, "东门入口");
    assert_eq!(items[0].manufacturer, "海康威视");
    assert_eq!(items[0].ptz_type, Some(3));
    assert!(items[0].online);
    assert_eq!(items[1].name, "地下车库 B2 & 电梯厅", "an unescaped & survives");
    assert!(!items[1].online);
    assert!(items.iter().all(|i| i.kind() == ItemKind::Camera));
    let (status, log) = run.await.unwrap();
    assert!(status.success(), "sipp failed: {log}");
    assert_eq!(
        recorder.count(|r| matches!(r, Report::Catalog { complete: true, .. })),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_are_answered_or_dropped_and_the_platform_lives_on() {
    if !sipp_installed() {
        return;
    }
    let recorder = Recorder::knowing(&["34020000001320000001"]);
    let platform = support::start(support::config(), Arc::clone(&recorder), None).await;
    let dir = tempfile::tempdir().unwrap();
    let (status, log) = sipp(
        dir.path(),
        platform.local_addr(),
        &["-sf", scenario("malformed.xml").to_str().unwrap(), "-m", "1"],
    )
    .await;
    assert!(status.success(), "sipp failed: {log}");
    assert_eq!(platform.counts(), (0, 0));
    // And a proper device still registers afterwards.
    let inf = injection(dir.path(), &["34020000001320000001".to_string()]);
    let (status, log) = sipp(
        dir.path(),
        platform.local_addr(),
        &[
            "-sf",
            scenario("register.xml").to_str().unwrap(),
            "-inf",
            inf.to_str().unwrap(),
            "-m",
            "1",
        ],
    )
    .await;
    assert!(status.success(), "sipp failed after the malformed run: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_sipp_devices_register_at_fifty_a_second() {
    if !sipp_installed() {
        return;
    }
    const N: usize = 200;
    let devices = ids(N);
    let refs: Vec<&str> = devices.iter().map(String::as_str).collect();
    let recorder = Recorder::knowing(&refs);
    let mut config = support::config();
    config.query_on_register = false;
    let platform = support::start(config, Arc::clone(&recorder), None).await;
    let dir = tempfile::tempdir().unwrap();
    let inf = injection(dir.path(), &devices);
    let run = {
        let (dir, addr, inf) = (dir.path().to_path_buf(), platform.local_addr(), inf.clone());
        tokio::spawn(async move {
            sipp(
                &dir,
                addr,
                &[
                    "-sf",
                    scenario("register.xml").to_str().unwrap(),
                    "-inf",
                    inf.to_str().unwrap(),
                    "-m",
                    "200",
                    "-r",
                    "50",
                    "-l",
                    "200",
                    "-d",
                    "10000",
                ],
            )
            .await
        })
    };
    // Every device is registered and online at once before any unregisters.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut peak = (0, 0);
    while tokio::time::Instant::now() < deadline && peak.0 < N {
        peak = peak.max(platform.counts());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(peak, (N, N), "all registered and online together");
    let (status, log) = run.await.unwrap();
    assert!(status.success(), "sipp failed: {log}");
    assert_eq!(recorder.count(|r| matches!(r, Report::Registered { .. })), N);
    assert_eq!(recorder.count(|r| matches!(r, Report::Keepalive { .. })), N);
    assert_eq!(platform.counts(), (0, 0));
}
