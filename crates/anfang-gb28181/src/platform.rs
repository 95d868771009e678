//! The platform side: cameras and NVRs register here. REGISTER with Digest (realm = our
//! 10-digit domain, 401 then 200 with the GB `Date`, `Expires: 0` unregisters, unknown ids
//! refused in strict mode), keepalive and presence, the Catalog query after registration with
//! its pages reassembled, DeviceInfo and DeviceStatus queries, alarms by MESSAGE and by NOTIFY
//! in an alarm subscription, and live INVITE/ACK/BYE dialogs. Every request is answered to its
//! observed source; a MESSAGE from a device that is not registered gets 404 (devices then
//! register again). What happens is reported to the [`DeviceDirectory`].
//!
//! Metrics: `anfang_gb28181_devices_registered` and `anfang_gb28181_devices_online` (gauges),
//! `anfang_gb28181_requests_total{method}`, `anfang_gb28181_registrations_total{outcome}`,
//! `anfang_gb28181_alarms_total`, `anfang_gb28181_rejected_total{reason}`.

use crate::GbId;
use crate::auth::{self, Credentials};
use crate::catalog::{Assembled, Assembler};
use crate::directory::{DeviceDirectory, Lookup, Report};
use crate::manscdp::{self, CatalogItem, DeviceInfo, DeviceStatus, Message, Root};
use crate::registry::{Change, DeviceState, OfflineReason, Peer, Registered, Registry, Transport};
use crate::sdp::{self, MediaTransport, Sdp};
use crate::sip::{self, SipMessage, StartLine};
use crate::transport::{Endpoint, Incoming, TransactionError};
use anfang_base::Clock;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How the platform side runs.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// Our 20-digit id (type 200), the target of devices' REGISTERs.
    pub id: GbId,
    /// Our SIP domain and Digest realm (10 digits, by convention `id`'s first ten).
    pub domain: String,
    /// Where SIP listens, UDP and TCP (port 5060 in production; port 0 in tests).
    pub bind: SocketAddr,
    /// The address we write in Via/Contact and tell devices to send media to, when it is not
    /// the bound one (a 0.0.0.0 bind, NAT).
    pub advertised: Option<IpAddr>,
    /// The password for devices the directory gives none for; `None` and no per-device
    /// password: the device registers without Digest.
    pub password: Option<String>,
    /// Refuse (403) ids the directory does not know.
    pub strict: bool,
    /// The longest `Expires` we grant (s).
    pub max_expires: u32,
    /// Offline after this long without a keepalive or other request (WVP: 3 × 60 s).
    pub keepalive_timeout: Duration,
    /// How long an issued nonce stays good.
    pub nonce_ttl: Duration,
    /// How long to wait for a query's answer, and for the pages of a catalogue.
    pub query_timeout: Duration,
    /// How often the timing rules are applied.
    pub sweep_interval: Duration,
    /// Query DeviceInfo and Catalog after a fresh registration.
    pub query_on_register: bool,
    /// Subscribe to a freshly registered device's alarms for this long (renewed at 4/5 of
    /// it while the device stays registered); `None`: alarms only as devices MESSAGE them.
    pub alarm_subscription: Option<Duration>,
}

impl PlatformConfig {
    /// Defaults around an id: domain from the id, port 5060 on all addresses, strict.
    pub fn new(id: GbId) -> PlatformConfig {
        PlatformConfig {
            domain: id.domain().to_string(),
            id,
            bind: SocketAddr::from(([0, 0, 0, 0], 5060)),
            advertised: None,
            password: None,
            strict: true,
            max_expires: 3600,
            keepalive_timeout: Duration::from_secs(180),
            nonce_ttl: Duration::from_secs(600),
            query_timeout: Duration::from_secs(10),
            sweep_interval: Duration::from_secs(1),
            query_on_register: true,
            alarm_subscription: Some(Duration::from_secs(3600)),
        }
    }
}

/// Why a query or INVITE failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// The device is not registered.
    #[error("device not registered")]
    NotRegistered,
    /// The transaction failed.
    #[error(transparent)]
    Transaction(#[from] TransactionError),
    /// The device answered with an error status.
    #[error("device answered {0}")]
    Refused(u16),
    /// The answer came but said nothing usable (no SDP, no media line).
    #[error("unusable answer: {0}")]
    BadAnswer(&'static str),
    /// No answer body in time.
    #[error("no answer in time")]
    Timeout,
}

/// A live-video request.
#[derive(Debug, Clone)]
pub struct PlayRequest {
    /// The registered device (an NVR, or the camera itself).
    pub device: GbId,
    /// The channel to play (a camera in the device's catalogue, or the device's own id).
    pub channel: GbId,
    /// Where the media should go.
    pub media_address: IpAddr,
    /// Its port.
    pub media_port: u16,
    /// UDP, or TCP with us listening (passive) or connecting (active).
    pub transport: MediaTransport,
    /// The SSRC we propose (`y=`); default: a live SSRC from our domain.
    pub ssrc: Option<String>,
}

/// An established INVITE dialog.
#[derive(Debug, Clone)]
pub struct PlaySession {
    /// The dialog's Call-ID.
    pub call_id: String,
    /// The device.
    pub device: GbId,
    /// The channel played.
    pub channel: GbId,
    /// The device's SDP answer.
    pub answer: Sdp,
    /// The SSRC to expect: from the answer's `y=` (GB/T 28181-2022 Annex G lets the device
    /// choose), else the one we offered.
    pub ssrc: Option<u32>,
    /// From tag (ours), To tag (theirs), where in-dialog requests go, the next CSeq.
    from_tag: String,
    to_tag: String,
    to_uri: String,
    peer: Peer,
    cseq: Arc<AtomicU32>,
}

/// Who waits for a catalogue: its items and whether it is complete.
type CatalogWaiter = oneshot::Sender<(Vec<CatalogItem>, bool)>;

/// The waiters of one catalogue and since when the first waited (ms).
type CatalogWaiters = (i64, Vec<CatalogWaiter>);

struct Inner {
    config: PlatformConfig,
    endpoint: Arc<Endpoint>,
    directory: Arc<dyn DeviceDirectory>,
    clock: Arc<dyn Clock>,
    /// Registrations, presence and nonces.
    registry: Mutex<Registry>,
    /// The next SN / CSeq.
    sn: AtomicU64,
    /// Catalogues being reassembled.
    catalogs: Mutex<Assembler>,
    /// Who waits for a catalogue, by (device, SN), with when they started waiting (ms).
    catalog_waiters: Mutex<HashMap<(GbId, u64), CatalogWaiters>>,
    /// Queries waiting for a Response MESSAGE, by (device, cmd type lower case, SN).
    waiting: Mutex<HashMap<(String, String, u64), oneshot::Sender<Message>>>,
    /// Reports in order to the dispatcher.
    reports: mpsc::Sender<Report>,
    /// Alarm subscriptions by device: when to renew (ms).
    subscriptions: Mutex<HashMap<GbId, i64>>,
}

/// The running platform side (cheap to clone).
#[derive(Clone)]
pub struct Platform {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("local", &self.local_addr())
            .finish()
    }
}

fn now_gb_date(ms: i64) -> String {
    let utc = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    let cst = utc.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"));
    cst.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

fn reject(reason: &'static str) {
    metrics::counter!("anfang_gb28181_rejected_total", "reason" => reason).increment(1);
}

impl Platform {
    /// Binds SIP (UDP and TCP on `config.bind`) and starts serving.
    pub async fn start(
        config: PlatformConfig,
        directory: Arc<dyn DeviceDirectory>,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Platform> {
        let (endpoint, incoming) = Endpoint::bind(config.bind).await?;
        let (reports, report_rx) = mpsc::channel(4096);
        let registry = Registry::new(
            config.keepalive_timeout.as_millis() as i64,
            config.nonce_ttl.as_millis() as i64,
        );
        let platform = Platform {
            inner: Arc::new(Inner {
                endpoint,
                directory: Arc::clone(&directory),
                clock,
                registry: Mutex::new(registry),
                sn: AtomicU64::new(1),
                catalogs: Mutex::new(Assembler::default()),
                catalog_waiters: Mutex::new(HashMap::new()),
                waiting: Mutex::new(HashMap::new()),
                reports,
                subscriptions: Mutex::new(HashMap::new()),
                config,
            }),
        };
        tokio::spawn(dispatch_reports(directory, report_rx));
        tokio::spawn(platform.clone().serve(incoming));
        tokio::spawn(platform.clone().sweeper());
        Ok(platform)
    }

    /// The bound SIP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.endpoint.local_addr()
    }

    /// The address written in headers and SDP.
    pub fn advertised_ip(&self) -> IpAddr {
        self.inner
            .config
            .advertised
            .unwrap_or_else(|| self.local_addr().ip())
    }

    /// The registered devices now.
    pub fn devices(&self) -> Vec<DeviceState> {
        self.inner.registry.lock().unwrap().devices()
    }

    /// (registered, online) counts now.
    pub fn counts(&self) -> (usize, usize) {
        self.inner.registry.lock().unwrap().counts()
    }

    fn next_sn(&self) -> u64 {
        self.inner.sn.fetch_add(1, Ordering::Relaxed)
    }

    fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    async fn report(&self, report: Report) {
        let _ = self.inner.reports.send(report).await;
    }

    async fn report_changes(&self, changes: Vec<Change>) {
        for change in changes {
            match change {
                Change::Online(device) => self.report(Report::Online { device }).await,
                Change::Offline(device, reason) => {
                    self.report(Report::Offline {
                        device: device.clone(),
                        reason,
                    })
                    .await;
                    if reason != OfflineReason::KeepaliveTimeout {
                        self.report(Report::Unregistered { device, reason }).await;
                    }
                }
            }
        }
        self.publish_gauges();
    }

    fn publish_gauges(&self) {
        let (registered, online) = self.counts();
        metrics::gauge!("anfang_gb28181_devices_registered").set(registered as f64);
        metrics::gauge!("anfang_gb28181_devices_online").set(online as f64);
    }

    async fn serve(self, mut incoming: mpsc::Receiver<Incoming>) {
        while let Some(Incoming { message, peer }) = incoming.recv().await {
            let me = self.clone();
            tokio::spawn(async move { me.handle(message, peer).await });
        }
    }

    async fn sweeper(self) {
        let mut tick = tokio::time::interval(self.inner.config.sweep_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.sweep().await;
        }
    }

    /// Applies the timing rules now (the sweeper does this every `sweep_interval`; tests with
    /// a simulated clock call it after moving the clock).
    pub async fn sweep(&self) {
        let now = self.now();
        let changes = self.inner.registry.lock().unwrap().sweep(now);
        self.report_changes(changes).await;
        let timeout = self.inner.config.query_timeout.as_millis() as i64;
        let due: Vec<GbId> = {
            let registry = self.inner.registry.lock().unwrap();
            let mut subscriptions = self.inner.subscriptions.lock().unwrap();
            subscriptions.retain(|device, _| registry.get(device).is_some());
            subscriptions
                .iter_mut()
                .filter(|(_, renew_at)| **renew_at <= now)
                .map(|(device, renew_at)| {
                    // Not again until this renewal has had its chance.
                    *renew_at = now + timeout * 2;
                    device.clone()
                })
                .collect()
        };
        for device in due {
            let me = self.clone();
            tokio::spawn(async move { me.renew_alarm_subscription(device).await });
        }
        let expired = self.inner.catalogs.lock().unwrap().expire(now, timeout);
        for assembled in expired {
            self.finish_catalog(assembled).await;
        }
        self.inner
            .catalog_waiters
            .lock()
            .unwrap()
            .retain(|_, (at, _)| now - *at < 2 * timeout);
    }

    async fn respond(&self, request: &SipMessage, peer: Peer, code: u16, reason: &str) {
        let response = request.response(code, reason, Some(&sip::token()), Some(peer.addr));
        let _ = self.inner.endpoint.send(peer, &response).await;
    }

    async fn handle(self, request: SipMessage, peer: Peer) {
        let method = request.method().unwrap_or("").to_string();
        metrics::counter!("anfang_gb28181_requests_total", "method" => match method.as_str() {
            "REGISTER" => "REGISTER", "MESSAGE" => "MESSAGE", "NOTIFY" => "NOTIFY", "BYE" => "BYE",
            "INVITE" => "INVITE", "ACK" => "ACK", "OPTIONS" => "OPTIONS", "SUBSCRIBE" => "SUBSCRIBE",
            _ => "other",
        })
        .increment(1);
        if request.call_id().is_none()
            || request.cseq().is_none()
            || request.header("From").is_none()
            || request.header("Via").is_none()
        {
            reject("missing_headers");
            if request.header("Via").is_some() && method != "ACK" {
                self.respond(&request, peer, 400, "Bad Request").await;
            }
            return;
        }
        match method.as_str() {
            "REGISTER" => self.on_register(request, peer).await,
            "MESSAGE" | "NOTIFY" => self.on_message(request, peer).await,
            "ACK" => {}
            "OPTIONS" | "BYE" | "CANCEL" | "INFO" => self.respond(&request, peer, 200, "OK").await,
            _ => {
                reject("method");
                self.respond(&request, peer, 405, "Method Not Allowed").await;
            }
        }
    }

    async fn on_register(&self, request: SipMessage, peer: Peer) {
        let Some(device) = request
            .from_user()
            .or_else(|| request.to_user())
            .and_then(|u| GbId::parse(u).ok())
        else {
            reject("bad_device_id");
            self.respond(&request, peer, 400, "Bad Request").await;
            return;
        };
        let config = &self.inner.config;
        let password = match self.inner.directory.lookup(&device).await {
            Lookup::Unknown if config.strict => {
                reject("unknown_device");
                metrics::counter!("anfang_gb28181_registrations_total", "outcome" => "unknown").increment(1);
                self.respond(&request, peer, 403, "Forbidden").await;
                return;
            }
            Lookup::Unknown => config.password.clone(),
            Lookup::Known { password } => password.or_else(|| config.password.clone()),
        };
        let now = self.now();
        if let Some(password) = password {
            let credentials = request
                .header("Authorization")
                .and_then(|h| Credentials::parse(h).ok());
            let Some(credentials) = credentials else {
                self.challenge(&request, peer, false, now).await;
                return;
            };
            if !self
                .inner
                .registry
                .lock()
                .unwrap()
                .nonce_is_live(&credentials.nonce, peer.addr, now)
            {
                self.challenge(&request, peer, true, now).await;
                return;
            }
            if credentials.verify("REGISTER", &password).is_err() {
                reject("digest_mismatch");
                metrics::counter!("anfang_gb28181_registrations_total", "outcome" => "wrong_password")
                    .increment(1);
                tracing::warn!(device = %device, peer = %peer.addr, "REGISTER with a wrong password");
                self.respond(&request, peer, 403, "Forbidden").await;
                return;
            }
        }
        let expires = request
            .expires()
            .or_else(|| {
                request
                    .header("Contact")
                    .and_then(|c| sip::header_param(c, "expires")?.parse().ok())
            })
            .unwrap_or(3600)
            .min(config.max_expires);
        let mut response = request.response(200, "OK", Some(&sip::token()), Some(peer.addr));
        response.push("Date", now_gb_date(now));
        response.push("Expires", expires.to_string());
        if let Some(contact) = request.header("Contact") {
            response.push("Contact", contact);
        }
        if let Some(version) = request.header("X-GB-Ver") {
            response.push("X-GB-Ver", version);
        }
        if expires == 0 {
            let changes = self.inner.registry.lock().unwrap().unregister(&device);
            metrics::counter!("anfang_gb28181_registrations_total", "outcome" => "unregistered").increment(1);
            let _ = self.inner.endpoint.send(peer, &response).await;
            self.report_changes(changes).await;
            return;
        }
        let user_agent = request.header("User-Agent").map(str::to_string);
        let gb_version = request.header("X-GB-Ver").map(str::to_string);
        let (outcome, changes) = self.inner.registry.lock().unwrap().register(
            &device,
            peer,
            expires,
            user_agent.clone(),
            gb_version.clone(),
            now,
        );
        metrics::counter!("anfang_gb28181_registrations_total", "outcome" => "ok").increment(1);
        let _ = self.inner.endpoint.send(peer, &response).await;
        if outcome != Registered::Refresh {
            self.report(Report::Registered {
                device: device.clone(),
                peer,
                expires,
                user_agent,
                gb_version,
            })
            .await;
        }
        self.report_changes(changes).await;
        if outcome == Registered::Fresh && config.query_on_register {
            tracing::info!(device = %device, peer = %peer.addr, "registered; querying DeviceInfo and Catalog");
            let me = self.clone();
            tokio::spawn(async move {
                let _ = me.device_info(&device).await;
                let _ = me.catalog(&device).await;
                me.renew_alarm_subscription(device).await;
            });
        }
    }

    async fn challenge(&self, request: &SipMessage, peer: Peer, stale: bool, now: i64) {
        let nonce = sip::token() + &sip::token();
        self.inner
            .registry
            .lock()
            .unwrap()
            .issue_nonce(&nonce, peer.addr, now);
        let mut response = request.response(401, "Unauthorized", Some(&sip::token()), Some(peer.addr));
        let mut value = auth::challenge(&self.inner.config.domain, &nonce);
        if stale {
            value.push_str(", stale=true");
        }
        response.push("WWW-Authenticate", value);
        let _ = self.inner.endpoint.send(peer, &response).await;
    }

    async fn on_message(&self, request: SipMessage, peer: Peer) {
        let message = match Message::parse(&request.body) {
            Ok(m) => m,
            Err(_) => {
                reject("bad_body");
                self.respond(&request, peer, 400, "Bad Request").await;
                return;
            }
        };
        // The sender is the registered device; Hikvision's in-dialog MESSAGEs carry another
        // From, so fall back to the body's DeviceID.
        let device = request
            .from_user()
            .and_then(|u| GbId::parse(u).ok())
            .filter(|id| self.inner.registry.lock().unwrap().get(id).is_some())
            .or_else(|| GbId::parse(&message.device_id).ok());
        let now = self.now();
        let touched = device
            .as_ref()
            .and_then(|d| self.inner.registry.lock().unwrap().touch(d, peer, now));
        let (Some(device), Some((_, changes))) = (device, touched) else {
            reject("not_registered");
            self.respond(&request, peer, 404, "Not Found").await;
            return;
        };
        self.respond(&request, peer, 200, "OK").await;
        self.report_changes(changes).await;
        let cmd = message.cmd_type.to_ascii_lowercase();
        match (message.root, cmd.as_str()) {
            (Root::Notify, "keepalive") => self.report(Report::Keepalive { device }).await,
            (Root::Notify, "alarm") => {
                metrics::counter!("anfang_gb28181_alarms_total").increment(1);
                let alarm = message.alarm();
                // Some devices retry an alarm until they see a Response (m7s does the same).
                if request.method() == Some("MESSAGE") {
                    let answer = manscdp::result("Alarm", message.sn, &message.device_id, true);
                    let me = self.clone();
                    let target = device.clone();
                    tokio::spawn(async move {
                        let _ = me.send_message(&target, answer).await;
                    });
                }
                self.report(Report::Alarm { device, alarm }).await;
            }
            (Root::Notify, "catalog") => {
                let items = message.catalog().items;
                self.report(Report::CatalogChange { device, items }).await;
            }
            (Root::Response, "catalog") => self.catalog_page(device, &message, now).await,
            (Root::Response, _) => {
                let key = (device.as_str().to_string(), cmd.clone(), message.sn);
                let waiter = self.inner.waiting.lock().unwrap().remove(&key);
                match cmd.as_str() {
                    "deviceinfo" => {
                        self.report(Report::DeviceInfo {
                            device,
                            info: message.device_info(),
                        })
                        .await
                    }
                    "devicestatus" => {
                        self.report(Report::DeviceStatus {
                            device,
                            status: message.device_status(),
                        })
                        .await
                    }
                    _ => {}
                }
                if let Some(waiter) = waiter {
                    let _ = waiter.send(message);
                }
            }
            _ => {}
        }
    }

    async fn catalog_page(&self, device: GbId, message: &Message, now: i64) {
        let done = self
            .inner
            .catalogs
            .lock()
            .unwrap()
            .page(&device, message.sn, message.catalog(), now);
        if let Some(assembled) = done {
            self.finish_catalog(assembled).await;
        }
    }

    async fn finish_catalog(&self, assembled: Assembled) {
        let Assembled {
            device,
            sn,
            items,
            complete,
            sum_num,
        } = assembled;
        if !complete {
            tracing::warn!(device = %device, got = items.len(), of = sum_num, "catalogue incomplete at the timeout");
        }
        let waiters = self
            .inner
            .catalog_waiters
            .lock()
            .unwrap()
            .remove(&(device.clone(), sn));
        for waiter in waiters.map(|(_, w)| w).unwrap_or_default() {
            let _ = waiter.send((items.clone(), complete));
        }
        self.report(Report::Catalog {
            device,
            items,
            complete,
        })
        .await;
    }

    fn peer_of(&self, device: &GbId) -> Result<Peer, PlatformError> {
        self.inner
            .registry
            .lock()
            .unwrap()
            .get(device)
            .map(|s| s.peer)
            .ok_or(PlatformError::NotRegistered)
    }

    fn via(&self, transport: Transport) -> String {
        let local = self.local_addr();
        format!(
            "SIP/2.0/{} {}:{};rport;branch=z9hG4bK{}",
            transport.as_str(),
            self.advertised_ip(),
            local.port(),
            sip::token()
        )
    }

    /// A request from us to `target` (a device or channel) reached at `peer`.
    fn new_request(
        &self,
        method: &str,
        target: &str,
        peer: Peer,
        call_id: &str,
        from_tag: &str,
        cseq: u32,
    ) -> SipMessage {
        let config = &self.inner.config;
        let mut m = SipMessage::request(method, &format!("sip:{target}@{}", peer.addr));
        m.push("Via", self.via(peer.transport))
            .push(
                "From",
                format!("<sip:{}@{}>;tag={from_tag}", config.id, config.domain),
            )
            .push("To", format!("<sip:{target}@{}>", config.domain))
            .push("Call-ID", call_id)
            .push("CSeq", format!("{cseq} {method}"))
            .push("Max-Forwards", "70")
            .push(
                "Contact",
                format!(
                    "<sip:{}@{}:{}>",
                    config.id,
                    self.advertised_ip(),
                    self.local_addr().port()
                ),
            )
            .push("User-Agent", "Anfang");
        m
    }

    /// Sends a MANSCDP MESSAGE to a registered device; returns when it answered 200.
    pub async fn send_message(&self, device: &GbId, body: Vec<u8>) -> Result<(), PlatformError> {
        let peer = self.peer_of(device)?;
        let cseq = (self.next_sn() % 1_000_000) as u32 + 1;
        let request = self
            .new_request(
                "MESSAGE",
                device.as_str(),
                peer,
                &sip::token(),
                &sip::token(),
                cseq,
            )
            .with_body("Application/MANSCDP+xml", body);
        let answer = self
            .inner
            .endpoint
            .request(peer, request, self.inner.config.query_timeout)
            .await?;
        match answer.status() {
            Some(200..=299) => Ok(()),
            Some(code) => Err(PlatformError::Refused(code)),
            None => Err(PlatformError::BadAnswer("not a response")),
        }
    }

    async fn query(&self, device: &GbId, cmd_type: &str) -> Result<Message, PlatformError> {
        let sn = self.next_sn();
        let (tx, rx) = oneshot::channel();
        let key = (device.as_str().to_string(), cmd_type.to_ascii_lowercase(), sn);
        self.inner.waiting.lock().unwrap().insert(key.clone(), tx);
        let result = async {
            self.send_message(device, manscdp::query(cmd_type, sn, device.as_str()))
                .await?;
            tokio::time::timeout(self.inner.config.query_timeout, rx)
                .await
                .map_err(|_| PlatformError::Timeout)?
                .map_err(|_| PlatformError::Timeout)
        }
        .await;
        self.inner.waiting.lock().unwrap().remove(&key);
        result
    }

    /// Asks a device for its DeviceInfo (also reported to the directory).
    pub async fn device_info(&self, device: &GbId) -> Result<DeviceInfo, PlatformError> {
        Ok(self.query(device, "DeviceInfo").await?.device_info())
    }

    /// Asks a device for its DeviceStatus (also reported to the directory).
    pub async fn device_status(&self, device: &GbId) -> Result<DeviceStatus, PlatformError> {
        Ok(self.query(device, "DeviceStatus").await?.device_status())
    }

    /// Asks a device for its catalogue and waits for every page (or the timeout: then what
    /// arrived, with `false`). The result is also reported to the directory.
    pub async fn catalog(&self, device: &GbId) -> Result<(Vec<CatalogItem>, bool), PlatformError> {
        let sn = self.next_sn();
        let (tx, rx) = oneshot::channel();
        let key = (device.clone(), sn);
        self.inner
            .catalog_waiters
            .lock()
            .unwrap()
            .insert(key.clone(), (self.now(), vec![tx]));
        if let Err(e) = self
            .send_message(device, manscdp::query("Catalog", sn, device.as_str()))
            .await
        {
            self.inner.catalog_waiters.lock().unwrap().remove(&key);
            return Err(e);
        }
        // The sweeper ends an incomplete catalogue at query_timeout; allow for its tick.
        let wait = self.inner.config.query_timeout * 2 + self.inner.config.sweep_interval;
        tokio::time::timeout(wait, rx)
            .await
            .map_err(|_| PlatformError::Timeout)?
            .map_err(|_| PlatformError::Timeout)
    }

    /// Subscribes to a device's alarms (`Event: Alarm`, body `Query/Alarm`); alarms then come
    /// as NOTIFY and are reported like MESSAGE alarms.
    pub async fn subscribe_alarms(&self, device: &GbId, expires: u32) -> Result<(), PlatformError> {
        let peer = self.peer_of(device)?;
        let sn = self.next_sn();
        let mut request = self.new_request(
            "SUBSCRIBE",
            device.as_str(),
            peer,
            &sip::token(),
            &sip::token(),
            1,
        );
        request
            .push("Event", "Alarm")
            .push("Expires", expires.to_string());
        let request = request.with_body(
            "Application/MANSCDP+xml",
            manscdp::alarm_subscription(sn, device.as_str()),
        );
        let answer = self
            .inner
            .endpoint
            .request(peer, request, self.inner.config.query_timeout)
            .await?;
        match answer.status() {
            Some(200..=299) => Ok(()),
            Some(code) => Err(PlatformError::Refused(code)),
            None => Err(PlatformError::BadAnswer("not a response")),
        }
    }

    async fn renew_alarm_subscription(&self, device: GbId) {
        let Some(duration) = self.inner.config.alarm_subscription else {
            return;
        };
        let expires = duration.as_secs().clamp(30, u64::from(u32::MAX)) as u32;
        let retry = match self.subscribe_alarms(&device, expires).await {
            Ok(()) => i64::from(expires) * 800,
            Err(e) => {
                tracing::debug!(device = %device, error = %e, "alarm subscription refused; retrying later");
                600_000
            }
        };
        if self.inner.registry.lock().unwrap().get(&device).is_some() {
            self.inner
                .subscriptions
                .lock()
                .unwrap()
                .insert(device, self.now() + retry);
        }
    }

    /// INVITEs a channel for live video and ACKs the answer.
    pub async fn play(&self, request: PlayRequest) -> Result<PlaySession, PlatformError> {
        let peer = self.peer_of(&request.device)?;
        let config = &self.inner.config;
        let ssrc_text = request
            .ssrc
            .clone()
            .unwrap_or_else(|| sdp::live_ssrc(&config.domain, (self.next_sn() % 10_000) as u32));
        let offer = sdp::play_offer(
            config.id.as_str(),
            request.media_address,
            request.media_port,
            request.transport,
            &ssrc_text,
        );
        let call_id = sip::token();
        let from_tag = sip::token();
        let mut invite = self.new_request("INVITE", request.channel.as_str(), peer, &call_id, &from_tag, 1);
        invite.push(
            "Subject",
            format!("{}:{ssrc_text},{}:0", request.channel, config.id),
        );
        let invite = invite.with_body("APPLICATION/SDP", offer.into_bytes());
        let answer = self
            .inner
            .endpoint
            .request(peer, invite.clone(), config.query_timeout)
            .await?;
        let code = answer.status().unwrap_or(0);
        let to_tag = answer.to_tag().unwrap_or("").to_string();
        let to_uri = answer
            .header("Contact")
            .and_then(sip::uri_of)
            .map(str::to_string)
            .unwrap_or_else(|| format!("sip:{}@{}", request.channel, peer.addr));
        let session = PlaySession {
            call_id: call_id.clone(),
            device: request.device.clone(),
            channel: request.channel.clone(),
            answer: Sdp::parse(&String::from_utf8_lossy(&answer.body)).unwrap_or(Sdp {
                origin: String::new(),
                session: String::new(),
                address: None,
                port: 0,
                transport: request.transport,
                ssrc_text: None,
                direction: None,
                time: (0, 0),
                uri: None,
            }),
            ssrc: None,
            from_tag,
            to_tag,
            to_uri,
            peer,
            cseq: Arc::new(AtomicU32::new(2)),
        };
        // ACK: for 2xx a new transaction in the dialog; for errors the same branch (RFC 3261
        // §17.1.1.3) — devices accept either here, so one form.
        let mut ack = self.new_request(
            "ACK",
            request.channel.as_str(),
            peer,
            &call_id,
            &session.from_tag,
            1,
        );
        if let StartLine::Request { uri, .. } = &mut ack.start {
            *uri = session.to_uri.clone();
        }
        if let Some(to) = answer.header("To") {
            ack.set("To", to);
        }
        let _ = self.inner.endpoint.send(peer, &ack).await;
        if !(200..300).contains(&code) {
            return Err(PlatformError::Refused(code));
        }
        if session.answer.port == 0 && session.answer.transport != MediaTransport::TcpActive {
            // Accepted but unusable: end the dialog the device thinks is open.
            let _ = self.bye(&session).await;
            return Err(PlatformError::BadAnswer("no media line"));
        }
        let offered = ssrc_text.parse::<u64>().ok().map(|v| v as u32);
        Ok(PlaySession {
            ssrc: session.answer.ssrc().or(offered),
            ..session
        })
    }

    /// Ends a live dialog (BYE).
    pub async fn bye(&self, session: &PlaySession) -> Result<(), PlatformError> {
        let cseq = session.cseq.fetch_add(1, Ordering::Relaxed);
        let mut bye = self.new_request(
            "BYE",
            session.channel.as_str(),
            session.peer,
            &session.call_id,
            &session.from_tag,
            cseq,
        );
        if let StartLine::Request { uri, .. } = &mut bye.start {
            *uri = session.to_uri.clone();
        }
        bye.set(
            "To",
            format!(
                "<sip:{}@{}>;tag={}",
                session.channel, self.inner.config.domain, session.to_tag
            ),
        );
        let answer = self
            .inner
            .endpoint
            .request(session.peer, bye, self.inner.config.query_timeout)
            .await?;
        match answer.status() {
            Some(200..=299) | Some(481) => Ok(()),
            Some(code) => Err(PlatformError::Refused(code)),
            None => Err(PlatformError::BadAnswer("not a response")),
        }
    }
}

async fn dispatch_reports(directory: Arc<dyn DeviceDirectory>, mut reports: mpsc::Receiver<Report>) {
    while let Some(report) = reports.recv().await {
        directory.report(report).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_header_is_gb_local_time() {
        assert_eq!(now_gb_date(0), "1970-01-01T08:00:00.000");
    }
}
