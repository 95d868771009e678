//! Shared helpers: a directory that records reports and knows a fixed set of devices, a
//! platform started on a free loopback port, and waiting for a report with a deadline.

use anfang_base::{Clock, SystemClock};
use anfang_gb28181::{DeviceDirectory, GbId, Lookup, Platform, PlatformConfig, Report};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const PLATFORM_ID: &str = "34020000002000000001";
pub const PASSWORD: &str = "12345678";

/// Knows the devices it was given; keeps every report.
#[derive(Debug, Default)]
pub struct Recorder {
    pub known: Mutex<HashMap<String, Option<String>>>,
    pub reports: Mutex<Vec<Report>>,
    pub changed: tokio::sync::Notify,
}

impl Recorder {
    pub fn knowing(devices: &[&str]) -> Arc<Recorder> {
        let r = Recorder::default();
        for d in devices {
            r.known
                .lock()
                .unwrap()
                .insert(d.to_string(), Some(PASSWORD.to_string()));
        }
        Arc::new(r)
    }

    /// Waits until a report matches, or panics after `within`.
    pub async fn wait_for<F: Fn(&Report) -> bool>(&self, what: &str, within: Duration, f: F) -> Report {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.changed.notified();
            if let Some(r) = self.reports.lock().unwrap().iter().find(|r| f(r)) {
                return r.clone();
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let seen: Vec<String> = self
                    .reports
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|r| format!("{r:?}").chars().take(160).collect())
                    .collect();
                panic!("no report {what} within {within:?}; seen: {seen:#?}");
            }
        }
    }

    pub fn count<F: Fn(&Report) -> bool>(&self, f: F) -> usize {
        self.reports.lock().unwrap().iter().filter(|r| f(r)).count()
    }
}

#[async_trait::async_trait]
impl DeviceDirectory for Recorder {
    async fn lookup(&self, device: &GbId) -> Lookup {
        match self.known.lock().unwrap().get(device.as_str()) {
            Some(password) => Lookup::Known {
                password: password.clone(),
            },
            None => Lookup::Unknown,
        }
    }

    async fn report(&self, report: Report) {
        self.reports.lock().unwrap().push(report);
        self.changed.notify_waiters();
    }
}

pub fn config() -> PlatformConfig {
    let mut config = PlatformConfig::new(GbId::parse(PLATFORM_ID).unwrap());
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.sweep_interval = Duration::from_millis(100);
    config.query_timeout = Duration::from_secs(5);
    config
}

pub async fn start(
    config: PlatformConfig,
    directory: Arc<Recorder>,
    clock: Option<Arc<dyn Clock>>,
) -> Platform {
    let clock = clock.unwrap_or_else(|| Arc::new(SystemClock));
    Platform::start(config, directory, clock)
        .await
        .expect("platform binds")
}

/// A port free on 127.0.0.1 for both UDP and TCP right now.
pub fn free_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
