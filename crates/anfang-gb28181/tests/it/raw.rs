//! Hand-written datagrams for what the other peers cannot be made to do on purpose: a device
//! that sends the same alarm twice, as it does when our 200 is lost, raises one alarm and gets
//! the same answer twice.

use crate::support::{self, PLATFORM_ID, Recorder};
use anfang_gb28181::Report;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;

const CAMERA: &str = "34020000001320000077";

fn register(port: u16) -> String {
    format!(
        "REGISTER sip:{PLATFORM_ID}@3402000000 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};rport;branch=z9hG4bKraw1\r\nFrom: <sip:{CAMERA}@3402000000>;tag=r1\r\nTo: <sip:{CAMERA}@3402000000>\r\nCall-ID: raw-register\r\nCSeq: 1 REGISTER\r\nContact: <sip:{CAMERA}@127.0.0.1:{port}>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"
    )
}

fn alarm(port: u16) -> String {
    let body = format!(
        "<?xml version=\"1.0\"?>\r\n<Notify><CmdType>Alarm</CmdType><SN>9</SN><DeviceID>{CAMERA}</DeviceID><AlarmPriority>1</AlarmPriority><AlarmMethod>5</AlarmMethod><AlarmTime>2026-11-23T12:00:00</AlarmTime><Info><AlarmType>2</AlarmType></Info></Notify>\r\n"
    );
    format!(
        "MESSAGE sip:{PLATFORM_ID}@3402000000 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};rport;branch=z9hG4bKraw2\r\nFrom: <sip:{CAMERA}@3402000000>;tag=a1\r\nTo: <sip:{PLATFORM_ID}@3402000000>\r\nCall-ID: raw-alarm\r\nCSeq: 2 MESSAGE\r\nContent-Type: Application/MANSCDP+xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The next status line the platform sends us (its own requests are skipped).
async fn next_status(socket: &UdpSocket) -> String {
    let mut buf = vec![0u8; 8192];
    loop {
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if text.starts_with("SIP/2.0 ") {
            return text;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retransmitted_alarm_is_one_alarm_answered_twice() {
    let recorder = Arc::new(Recorder::default());
    recorder.known.lock().unwrap().insert(CAMERA.to_string(), None);
    let mut config = support::config();
    config.query_on_register = false;
    config.alarm_subscription = None;
    let platform = support::start(config, Arc::clone(&recorder), None).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let to = platform.local_addr();

    // Known without a password and no default password: no Digest.
    socket.send_to(register(port).as_bytes(), to).await.unwrap();
    assert!(next_status(&socket).await.starts_with("SIP/2.0 200"));

    socket.send_to(alarm(port).as_bytes(), to).await.unwrap();
    let first = next_status(&socket).await;
    socket.send_to(alarm(port).as_bytes(), to).await.unwrap();
    let second = next_status(&socket).await;
    assert!(first.starts_with("SIP/2.0 200"), "{first}");
    assert_eq!(first, second, "the same answer again");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(recorder.count(|r| matches!(r, Report::Alarm { .. })), 1);
    let Report::Alarm { alarm, .. } = recorder
        .wait_for("alarm", Duration::from_secs(1), |r| {
            matches!(r, Report::Alarm { .. })
        })
        .await
    else {
        unreachable!()
    };
    assert_eq!((alarm.method, alarm.alarm_type), (5, Some(2)));
}
