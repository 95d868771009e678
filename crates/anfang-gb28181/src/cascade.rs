//! The cascade: Anfang as a lower platform of a superior (a district or police video
//! platform). We REGISTER upward with our own configured ids (Digest answered with the
//! superior-assigned username, `uri` = the Request-URI), refresh before expiry, send a
//! keepalive every interval and register afresh — with a new Call-ID, since some superiors
//! refuse a repeated one — after too many keepalives fail. We answer the superior's Catalog
//! query in pages (`SumNum` the total, the next page after the previous one's 200),
//! DeviceInfo and DeviceStatus about ourselves or a shared channel, accept its SUBSCRIBEs,
//! and forward alarms as `Notify/Alarm` MESSAGEs.
//!
//! When the superior INVITEs one of our channels, the video must really reach it (a catalogue
//! entry the police cannot play is not networking). Two ways, by [`MediaMode`]:
//! `Direct` INVITEs the camera with the superior's own media address, port, transport and
//! SSRC, so the camera sends straight to the superior and we answer with the camera's SDP;
//! `Relay` plays the camera to our receiver and relays each RTP packet unchanged but for the
//! SSRC (no re-muxing) to the superior — for cameras the superior cannot reach. BYE from the
//! superior ends the camera's dialog.
//!
//! What is shared comes from the [`SharedCatalogue`] the binary implements.

use crate::GbId;
use crate::auth;
use crate::live::{LiveConfig, LiveStream};
use crate::manscdp::{self, Alarm, CatalogItem, DeviceInfo, DeviceStatus, Message, Root};
use crate::platform::{Platform, PlatformError, PlayRequest, PlaySession};
use crate::registry::{Peer, Transport};
use crate::sdp::{self, MediaTransport, Sdp};
use crate::sip::{self, SipMessage};
use crate::transport::{Endpoint, Incoming};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How video reaches the superior.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaMode {
    /// The camera sends to the superior's address itself.
    Direct,
    /// We receive on `media_ip` and relay with the superior's SSRC.
    Relay {
        /// Where we receive the camera's stream.
        media_ip: IpAddr,
    },
}

/// One superior platform.
#[derive(Debug, Clone)]
pub struct CascadeConfig {
    /// Our id toward the superior (type 200; the police usually assign it).
    pub id: GbId,
    /// Our domain toward the superior.
    pub domain: String,
    /// The superior's id.
    pub superior_id: GbId,
    /// The superior's domain (its realm).
    pub superior_domain: String,
    /// The superior's SIP address.
    pub superior: SocketAddr,
    /// UDP or TCP (we connect).
    pub transport: Transport,
    /// The Digest username (default: our id).
    pub username: Option<String>,
    /// The Digest password.
    pub password: String,
    /// Our local SIP address for this superior (port 0: any).
    pub bind: SocketAddr,
    /// The address written in Via/Contact when the bound one is not reachable (NAT).
    pub advertised: Option<IpAddr>,
    /// The `Expires` we ask for (s).
    pub expires: u32,
    /// Keepalive period.
    pub keepalive_interval: Duration,
    /// Register afresh after this many keepalives in a row got no 200.
    pub keepalive_failures: u32,
    /// Wait after a failed registration.
    pub retry_interval: Duration,
    /// How long a request waits for its answer.
    pub request_timeout: Duration,
    /// Catalogue items per MESSAGE.
    pub catalog_page: usize,
    /// How video reaches the superior.
    pub media: MediaMode,
    /// Our name in DeviceInfo answers.
    pub name: String,
}

impl CascadeConfig {
    /// Defaults for the given ids and address: UDP, 3600 s, keepalive 60 s × 3, pages of 20,
    /// direct media.
    pub fn new(id: GbId, superior_id: GbId, superior: SocketAddr, password: &str) -> CascadeConfig {
        CascadeConfig {
            domain: id.domain().to_string(),
            superior_domain: superior_id.domain().to_string(),
            id,
            superior_id,
            superior,
            transport: Transport::Udp,
            username: None,
            password: password.to_string(),
            bind: SocketAddr::from(([0, 0, 0, 0], 0)),
            advertised: None,
            expires: 3600,
            keepalive_interval: Duration::from_secs(60),
            keepalive_failures: 3,
            retry_interval: Duration::from_secs(10),
            request_timeout: Duration::from_secs(5),
            catalog_page: 20,
            media: MediaMode::Direct,
            name: "Anfang".into(),
        }
    }
}

/// A channel we share upward and the registered device that carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedChannel {
    /// The catalogue item as the superior sees it.
    pub item: CatalogItem,
    /// The device to INVITE for it (an NVR, or the camera itself).
    pub device: GbId,
}

/// What we share with the superior.
#[async_trait::async_trait]
pub trait SharedCatalogue: Send + Sync + 'static {
    /// The channels, in the order the superior should see them.
    async fn channels(&self) -> Vec<SharedChannel>;
}

/// How the link to the superior stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CascadeStatus {
    /// Registered now.
    pub registered: bool,
    /// Successful REGISTERs (first and refreshes).
    pub registrations: u64,
    /// Keepalives the superior answered 200.
    pub keepalives: u64,
    /// Catalogue pages sent.
    pub catalog_pages: u64,
    /// Streams playing to the superior now.
    pub streams: usize,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

/// A stream playing to the superior.
enum Upstream {
    Direct(PlaySession),
    Relay(LiveStream),
}

struct Inner {
    config: CascadeConfig,
    endpoint: Arc<Endpoint>,
    catalogue: Arc<dyn SharedCatalogue>,
    platform: Platform,
    /// Link state for the API and metrics.
    status: Mutex<CascadeStatus>,
    /// Streams by the superior's INVITE Call-ID.
    streams: Mutex<HashMap<String, Upstream>>,
    /// Our SN counter, and the CSeq of requests outside the registration dialog.
    sn: AtomicU64,
    cseq: AtomicU32,
    /// Set to stop the registration loop (then we unregister).
    stop: watch::Sender<bool>,
}

/// The running link to one superior (cheap to clone).
#[derive(Clone)]
pub struct Cascade {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cascade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cascade")
            .field("superior", &self.inner.config.superior)
            .finish()
    }
}

impl Cascade {
    /// Binds our SIP socket for this superior, starts registering and serving its requests.
    pub async fn start(
        config: CascadeConfig,
        catalogue: Arc<dyn SharedCatalogue>,
        platform: Platform,
    ) -> std::io::Result<Cascade> {
        let (endpoint, incoming) = Endpoint::bind(config.bind).await?;
        let (stop, stop_rx) = watch::channel(false);
        let cascade = Cascade {
            inner: Arc::new(Inner {
                config,
                endpoint,
                catalogue,
                platform,
                status: Mutex::new(CascadeStatus::default()),
                streams: Mutex::new(HashMap::new()),
                sn: AtomicU64::new(1),
                cseq: AtomicU32::new(1),
                stop,
            }),
        };
        tokio::spawn(cascade.clone().serve(incoming));
        tokio::spawn(cascade.clone().registration(stop_rx));
        Ok(cascade)
    }

    /// Our local SIP address toward the superior.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.endpoint.local_addr()
    }

    /// How the link stands.
    pub fn status(&self) -> CascadeStatus {
        let mut status = self.inner.status.lock().unwrap().clone();
        status.streams = self.inner.streams.lock().unwrap().len();
        status
    }

    /// Stops registering and unregisters (`Expires: 0`); streams to the superior end.
    pub async fn stop(&self) {
        let _ = self.inner.stop.send(true);
        let streams: Vec<Upstream> = self
            .inner
            .streams
            .lock()
            .unwrap()
            .drain()
            .map(|(_, s)| s)
            .collect();
        for stream in streams {
            self.end(stream).await;
        }
        let _ = self.register(&sip::token(), &mut 1, 0).await;
        self.set_registered(false, None);
    }

    fn superior_peer(&self) -> Peer {
        Peer {
            transport: self.inner.config.transport,
            addr: self.inner.config.superior,
        }
    }

    fn advertised_ip(&self) -> IpAddr {
        self.inner.config.advertised.unwrap_or_else(|| {
            let local = self.local_addr().ip();
            if local.is_unspecified() {
                IpAddr::from([127, 0, 0, 1])
            } else {
                local
            }
        })
    }

    fn request_uri(&self) -> String {
        format!(
            "sip:{}@{}",
            self.inner.config.superior_id, self.inner.config.superior
        )
    }

    /// A request to the superior.
    fn new_request(&self, method: &str, call_id: &str, from_tag: &str, cseq: u32) -> SipMessage {
        let config = &self.inner.config;
        let mut m = SipMessage::request(method, &self.request_uri());
        m.push(
            "Via",
            format!(
                "SIP/2.0/{} {}:{};rport;branch=z9hG4bK{}",
                config.transport.as_str(),
                self.advertised_ip(),
                self.local_addr().port(),
                sip::token()
            ),
        )
        .push(
            "From",
            format!("<sip:{}@{}>;tag={from_tag}", config.id, config.domain),
        )
        .push(
            "To",
            format!("<sip:{}@{}>", config.superior_id, config.superior_domain),
        )
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

    async fn ensure_connected(&self) -> Result<(), PlatformError> {
        if self.inner.config.transport == Transport::Tcp {
            self.inner
                .endpoint
                .connect(self.inner.config.superior)
                .await
                .map_err(|e| {
                    PlatformError::Transaction(crate::transport::TransactionError::Send(e.to_string()))
                })?;
        }
        Ok(())
    }

    /// One REGISTER (answering a challenge once); returns the granted expiry.
    async fn register(&self, call_id: &str, cseq: &mut u32, expires: u32) -> Result<u32, PlatformError> {
        self.ensure_connected().await?;
        let config = &self.inner.config;
        let from_tag = format!("reg{}", &call_id[..call_id.len().min(8)]);
        let mut authorization: Option<String> = None;
        for _ in 0..2 {
            let mut request = self.new_request("REGISTER", call_id, &from_tag, *cseq);
            *cseq += 1;
            // From and To both name us in a REGISTER.
            request.set("To", format!("<sip:{}@{}>", config.id, config.domain));
            request.push("Expires", expires.to_string());
            if let Some(value) = &authorization {
                request.push("Authorization", value.clone());
            }
            let answer = self
                .inner
                .endpoint
                .request(self.superior_peer(), request, config.request_timeout)
                .await?;
            match answer.status() {
                Some(200..=299) => {
                    return Ok(answer.expires().unwrap_or(expires));
                }
                Some(401 | 407) if authorization.is_none() => {
                    let challenge = answer
                        .header("WWW-Authenticate")
                        .or_else(|| answer.header("Proxy-Authenticate"))
                        .ok_or(PlatformError::BadAnswer("401 without a challenge"))?;
                    let username = config.username.clone().unwrap_or_else(|| config.id.to_string());
                    authorization = Some(
                        auth::answer(
                            challenge,
                            "REGISTER",
                            &self.request_uri(),
                            &username,
                            &config.password,
                            &sip::token(),
                        )
                        .map_err(|_| PlatformError::BadAnswer("unreadable challenge"))?,
                    );
                }
                Some(code) => return Err(PlatformError::Refused(code)),
                None => return Err(PlatformError::BadAnswer("not a response")),
            }
        }
        Err(PlatformError::Refused(401))
    }

    fn set_registered(&self, registered: bool, error: Option<String>) {
        let mut status = self.inner.status.lock().unwrap();
        if registered && !status.registered {
            metrics::counter!("anfang_gb28181_cascade_registrations_total").increment(1);
        }
        status.registered = registered;
        if registered {
            status.registrations += 1;
        }
        if error.is_some() {
            status.last_error = error;
        }
        metrics::gauge!("anfang_gb28181_cascade_registered").set(if status.registered { 1.0 } else { 0.0 });
    }

    async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, duration: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(duration) => *stop.borrow(),
            _ = stop.changed() => true,
        }
    }

    async fn registration(self, mut stop: watch::Receiver<bool>) {
        let config = self.inner.config.clone();
        loop {
            if *stop.borrow() {
                return;
            }
            // A fresh Call-ID for every new registration.
            let call_id = sip::token();
            let mut cseq = 1;
            let granted = match self.register(&call_id, &mut cseq, config.expires).await {
                Ok(granted) => granted.max(10),
                Err(e) => {
                    tracing::warn!(superior = %config.superior, error = %e, "cascade registration failed");
                    self.set_registered(false, Some(e.to_string()));
                    if Self::sleep_or_stop(&mut stop, config.retry_interval).await {
                        return;
                    }
                    continue;
                }
            };
            tracing::info!(superior = %config.superior, expires = granted, "registered with the superior");
            self.set_registered(true, None);
            let mut refresh_in = Duration::from_secs(u64::from(granted) * 4 / 5);
            let mut failures = 0;
            loop {
                let wait = config.keepalive_interval.min(refresh_in);
                if Self::sleep_or_stop(&mut stop, wait).await {
                    return;
                }
                refresh_in = refresh_in.saturating_sub(wait);
                if refresh_in.is_zero() {
                    match self.register(&call_id, &mut cseq, config.expires).await {
                        Ok(granted) => {
                            self.set_registered(true, None);
                            refresh_in = Duration::from_secs(u64::from(granted.max(10)) * 4 / 5);
                        }
                        Err(e) => {
                            self.set_registered(false, Some(e.to_string()));
                            break;
                        }
                    }
                    continue;
                }
                match self.keepalive().await {
                    Ok(()) => {
                        failures = 0;
                        self.inner.status.lock().unwrap().keepalives += 1;
                    }
                    Err(e) => {
                        failures += 1;
                        if failures >= config.keepalive_failures {
                            tracing::warn!(superior = %config.superior, error = %e, "keepalives unanswered; registering again");
                            self.set_registered(false, Some(e.to_string()));
                            break;
                        }
                    }
                }
            }
            // The superior is gone: what we played to it has no viewer any more.
            self.end_all().await;
        }
    }

    async fn end_all(&self) {
        let streams: Vec<Upstream> = self
            .inner
            .streams
            .lock()
            .unwrap()
            .drain()
            .map(|(_, s)| s)
            .collect();
        for stream in streams {
            self.end(stream).await;
        }
    }

    /// Sends a MANSCDP MESSAGE to the superior and waits for its 200.
    async fn send_message(&self, body: Vec<u8>) -> Result<(), PlatformError> {
        self.ensure_connected().await?;
        let cseq = self.inner.cseq.fetch_add(1, Ordering::Relaxed);
        let request = self
            .new_request("MESSAGE", &sip::token(), &sip::token(), cseq)
            .with_body("Application/MANSCDP+xml", body);
        let answer = self
            .inner
            .endpoint
            .request(self.superior_peer(), request, self.inner.config.request_timeout)
            .await?;
        match answer.status() {
            Some(200..=299) => Ok(()),
            Some(code) => Err(PlatformError::Refused(code)),
            None => Err(PlatformError::BadAnswer("not a response")),
        }
    }

    async fn keepalive(&self) -> Result<(), PlatformError> {
        let sn = self.inner.sn.fetch_add(1, Ordering::Relaxed);
        self.send_message(manscdp::keepalive(sn, self.inner.config.id.as_str()))
            .await
    }

    /// Forwards an alarm (`Notify/Alarm`, `DeviceID` = the alarming channel).
    pub async fn forward_alarm(&self, alarm: &Alarm) -> Result<(), PlatformError> {
        let sn = self.inner.sn.fetch_add(1, Ordering::Relaxed);
        self.send_message(manscdp::alarm_notify(sn, alarm)).await
    }

    async fn serve(self, mut incoming: mpsc::Receiver<Incoming>) {
        while let Some(Incoming { message, peer }) = incoming.recv().await {
            let me = self.clone();
            tokio::spawn(async move { me.handle(message, peer).await });
        }
    }

    async fn respond(&self, request: &SipMessage, peer: Peer, code: u16, reason: &str) {
        let response = request.response(code, reason, Some(&sip::token()), Some(peer.addr));
        let _ = self.inner.endpoint.send(peer, &response).await;
    }

    async fn handle(self, request: SipMessage, peer: Peer) {
        if request.call_id().is_none() || request.cseq().is_none() || request.header("Via").is_none() {
            return;
        }
        match request.method().unwrap_or("") {
            "MESSAGE" => self.on_message(request, peer).await,
            "INVITE" => self.on_invite(request, peer).await,
            "BYE" => self.on_bye(request, peer).await,
            "SUBSCRIBE" => self.on_subscribe(request, peer).await,
            "ACK" => {}
            "OPTIONS" | "INFO" | "NOTIFY" | "CANCEL" => self.respond(&request, peer, 200, "OK").await,
            _ => self.respond(&request, peer, 405, "Method Not Allowed").await,
        }
    }

    async fn channels(&self) -> Vec<SharedChannel> {
        let mut channels = self.inner.catalogue.channels().await;
        for channel in &mut channels {
            if channel.item.parent_id.is_empty() {
                channel.item.parent_id = self.inner.config.id.to_string();
            }
        }
        channels
    }

    async fn on_message(&self, request: SipMessage, peer: Peer) {
        let Ok(message) = Message::parse(&request.body) else {
            self.respond(&request, peer, 400, "Bad Request").await;
            return;
        };
        if message.root != Root::Query {
            // Controls (PTZ …) are acknowledged; forwarding them to devices is not done yet.
            self.respond(&request, peer, 200, "OK").await;
            return;
        }
        let our_id = self.inner.config.id.to_string();
        let channels = self.channels().await;
        let about_us = message.device_id == our_id;
        let channel = channels.iter().find(|c| c.item.device_id == message.device_id);
        if !about_us && channel.is_none() {
            self.respond(&request, peer, 404, "Not Found").await;
            return;
        }
        self.respond(&request, peer, 200, "OK").await;
        let sn = message.sn;
        let result = match message.cmd_type.to_ascii_lowercase().as_str() {
            "catalog" => self.send_catalog(sn, &channels).await,
            "deviceinfo" => {
                let info = match channel {
                    Some(c) if !about_us => DeviceInfo {
                        device_name: c.item.name.clone(),
                        manufacturer: c.item.manufacturer.clone(),
                        model: c.item.model.clone(),
                        firmware: String::new(),
                        channels: Some(1),
                        result_ok: true,
                    },
                    _ => DeviceInfo {
                        device_name: self.inner.config.name.clone(),
                        manufacturer: "Anfang".into(),
                        model: "Anfang community platform".into(),
                        firmware: env!("CARGO_PKG_VERSION").into(),
                        channels: Some(channels.len() as u32),
                        result_ok: true,
                    },
                };
                self.send_message(manscdp::device_info_response(sn, &message.device_id, &info))
                    .await
            }
            "devicestatus" => {
                let online = channel.is_none_or(|c| about_us || c.item.online);
                let status = DeviceStatus {
                    result_ok: true,
                    online,
                    status_ok: online,
                    encode: Some(online),
                    record: Some(false),
                    device_time: Some(
                        chrono::Utc::now()
                            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
                            .format("%Y-%m-%dT%H:%M:%S")
                            .to_string(),
                    ),
                };
                self.send_message(manscdp::device_status_response(sn, &message.device_id, &status))
                    .await
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(superior = %self.inner.config.superior, cmd = %message.cmd_type, error = %e, "answer to the superior failed");
        }
    }

    /// The catalogue in pages: `SumNum` the total, each page after the previous one's 200.
    async fn send_catalog(&self, sn: u64, channels: &[SharedChannel]) -> Result<(), PlatformError> {
        let items: Vec<CatalogItem> = channels.iter().map(|c| c.item.clone()).collect();
        let our_id = self.inner.config.id.to_string();
        let page = self.inner.config.catalog_page.max(1);
        if items.is_empty() {
            return self
                .send_message(manscdp::catalog_response(sn, &our_id, 0, &[]))
                .await;
        }
        for chunk in items.chunks(page) {
            self.send_message(manscdp::catalog_response(sn, &our_id, items.len(), chunk))
                .await?;
            self.inner.status.lock().unwrap().catalog_pages += 1;
        }
        Ok(())
    }

    async fn on_subscribe(&self, request: SipMessage, peer: Peer) {
        // Accepted and answered with `Result OK`; alarms go up as MESSAGE in any case, and
        // catalogue change NOTIFYs are not sent yet.
        let expires = request.expires().unwrap_or(3600);
        let (cmd, sn) = Message::parse(&request.body)
            .map(|m| (m.cmd_type, m.sn))
            .unwrap_or_else(|_| ("Catalog".into(), 0));
        let mut response = request.response(200, "OK", Some(&sip::token()), Some(peer.addr));
        response.push("Expires", expires.to_string());
        let response = response.with_body(
            "Application/MANSCDP+xml",
            manscdp::result(&cmd, sn, self.inner.config.id.as_str(), true),
        );
        let _ = self.inner.endpoint.send(peer, &response).await;
    }

    async fn on_invite(&self, request: SipMessage, peer: Peer) {
        let to_tag = sip::token();
        let call_id = request.call_id().unwrap_or_default().to_string();
        let answer = |code: u16, reason: &str| request.response(code, reason, Some(&to_tag), Some(peer.addr));
        if self.inner.streams.lock().unwrap().contains_key(&call_id) {
            return; // a retransmission of an INVITE we are already serving
        }
        let _ = self.inner.endpoint.send(peer, &answer(100, "Trying")).await;
        let offer = Sdp::parse(&String::from_utf8_lossy(&request.body));
        let channel_id = request
            .uri()
            .and_then(sip::uri_user)
            .or_else(|| request.to_user())
            .and_then(|u| GbId::parse(u).ok());
        let (Some(offer), Some(channel_id)) = (offer, channel_id) else {
            let _ = self
                .inner
                .endpoint
                .send(peer, &answer(488, "Not Acceptable Here"))
                .await;
            return;
        };
        let Some(channel) = self
            .channels()
            .await
            .into_iter()
            .find(|c| c.item.device_id == channel_id.as_str())
        else {
            let _ = self.inner.endpoint.send(peer, &answer(404, "Not Found")).await;
            return;
        };
        let (Some(address), ssrc_text) = (offer.address, offer.ssrc_text.clone()) else {
            let _ = self
                .inner
                .endpoint
                .send(peer, &answer(488, "Not Acceptable Here"))
                .await;
            return;
        };
        let ssrc_text = ssrc_text.unwrap_or_else(|| sdp::live_ssrc(&self.inner.config.domain, 1));
        let ssrc: u32 = ssrc_text.parse::<u64>().map(|v| v as u32).unwrap_or(0);
        let destination = SocketAddr::new(address, offer.port);
        let started = match &self.inner.config.media {
            MediaMode::Direct => {
                self.direct(&channel, destination, offer.transport, &ssrc_text)
                    .await
            }
            MediaMode::Relay { media_ip } => {
                self.relay(
                    &channel,
                    *media_ip,
                    destination,
                    offer.transport,
                    ssrc,
                    &ssrc_text,
                )
                .await
            }
        };
        match started {
            Ok((upstream, sdp)) => {
                self.inner.streams.lock().unwrap().insert(call_id, upstream);
                let mut ok = answer(200, "OK");
                ok.push(
                    "Contact",
                    format!(
                        "<sip:{}@{}:{}>",
                        self.inner.config.id,
                        self.advertised_ip(),
                        self.local_addr().port()
                    ),
                );
                let ok = ok.with_body("APPLICATION/SDP", sdp.into_bytes());
                let _ = self.inner.endpoint.send(peer, &ok).await;
                metrics::counter!("anfang_gb28181_cascade_streams_total").increment(1);
            }
            Err(e) => {
                tracing::warn!(channel = %channel_id, error = %e, "cannot play a channel to the superior");
                let _ = self
                    .inner
                    .endpoint
                    .send(peer, &answer(500, "Server Internal Error"))
                    .await;
            }
        }
    }

    /// The camera sends straight to the superior: our INVITE carries the superior's offer.
    async fn direct(
        &self,
        channel: &SharedChannel,
        destination: SocketAddr,
        transport: MediaTransport,
        ssrc: &str,
    ) -> Result<(Upstream, String), String> {
        let channel_id = GbId::parse(&channel.item.device_id).map_err(|e| e.to_string())?;
        let session = self
            .inner
            .platform
            .play(PlayRequest {
                device: channel.device.clone(),
                channel: channel_id.clone(),
                media_address: destination.ip(),
                media_port: destination.port(),
                transport,
                ssrc: Some(ssrc.to_string()),
            })
            .await
            .map_err(|e| e.to_string())?;
        let address = session.answer.address.unwrap_or(destination.ip());
        let answer_ssrc = session
            .answer
            .ssrc_text
            .clone()
            .unwrap_or_else(|| ssrc.to_string());
        let sdp = sdp::send_answer(
            channel_id.as_str(),
            address,
            session.answer.port,
            transport,
            &answer_ssrc,
        );
        Ok((Upstream::Direct(session), sdp))
    }

    /// The camera plays to us; every packet is relayed with the superior's SSRC.
    async fn relay(
        &self,
        channel: &SharedChannel,
        media_ip: IpAddr,
        destination: SocketAddr,
        transport: MediaTransport,
        ssrc: u32,
        ssrc_text: &str,
    ) -> Result<(Upstream, String), String> {
        let channel_id = GbId::parse(&channel.item.device_id).map_err(|e| e.to_string())?;
        let config = LiveConfig {
            media_ip,
            ..LiveConfig::default()
        };
        let (stream, frames) = LiveStream::start(&self.inner.platform, &channel.device, &channel_id, config)
            .await
            .map_err(|e| e.to_string())?;
        let relayed = match transport {
            MediaTransport::Udp => stream.receiver.relay_udp(destination, ssrc).await.map(|_| 0),
            MediaTransport::TcpPassive => stream.receiver.relay_tcp(destination, ssrc).await.map(|_| 0),
            MediaTransport::TcpActive => {
                // The superior connects to us: listen, answer with the port, relay on accept.
                match tokio::net::TcpListener::bind((media_ip, 0)).await {
                    Ok(listener) => {
                        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
                        let receiver = Arc::clone(&stream.receiver);
                        tokio::spawn(async move {
                            if let Ok(Ok((socket, _))) =
                                tokio::time::timeout(Duration::from_secs(15), listener.accept()).await
                            {
                                receiver.relay_stream(socket, ssrc);
                            }
                        });
                        Ok(port)
                    }
                    Err(e) => Err(e),
                }
            }
        };
        drop(frames);
        let port = match relayed {
            Ok(port) => port,
            Err(e) => {
                let _ = stream.stop().await;
                return Err(e.to_string());
            }
        };
        let sdp = sdp::send_answer(channel_id.as_str(), media_ip, port, transport, ssrc_text);
        Ok((Upstream::Relay(stream), sdp))
    }

    async fn end(&self, upstream: Upstream) {
        match upstream {
            Upstream::Direct(session) => {
                let _ = self.inner.platform.bye(&session).await;
            }
            Upstream::Relay(stream) => {
                let _ = stream.stop().await;
            }
        }
    }

    async fn on_bye(&self, request: SipMessage, peer: Peer) {
        let call_id = request.call_id().unwrap_or_default().to_string();
        let upstream = self.inner.streams.lock().unwrap().remove(&call_id);
        match upstream {
            Some(upstream) => {
                self.respond(&request, peer, 200, "OK").await;
                self.end(upstream).await;
            }
            None => {
                self.respond(&request, peer, 481, "Call/Transaction Does Not Exist")
                    .await
            }
        }
    }
}
