//! Composition of GB/T 28181 video networking: the SIP platform side cameras and NVRs
//! register with (`anfang_gb28181::Platform`), its `DeviceDirectory` over the application
//! (passwords are devices' secrets; presence, catalogues and offline alarms go to
//! `anfang_app::video`), GB alarms through the event pipeline into the alarm centre, and one
//! cascade per configured superior sharing the registry's GB cameras and NVRs
//! (`docs/design/gb28181.md`).

use crate::config::Gb28181Config;
use anfang_app::App;
use anfang_app::video::{ChannelEvent, GbChannel, GbRegistration};
use anfang_domain::alarm::{AlarmKind, Severity};
use anfang_gb28181::manscdp::{Alarm, CatalogItem, ItemKind};
use anfang_gb28181::{
    Cascade, CascadeConfig, DeviceDirectory, GbId, Lookup, MediaMode, Platform, PlatformConfig, Report,
    SharedCatalogue, SharedChannel, Transport,
};
use anfang_pipeline::Pipeline;
use anfang_store::{Filter, Page};
use anyhow::Context;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The platform id used before the registry names a district (the standard's example
/// centre code 34020000, as most devices ship configured).
const FALLBACK_ID: &str = "34020000002000000001";

/// The running video networking: the platform side and the cascades to superiors.
pub(crate) struct VideoNet {
    /// The SIP platform side.
    pub platform: Platform,
    /// One per configured superior (video relayed to it by the cascade's own in-process
    /// receiver, the one `BuiltinMedia` wraps).
    #[allow(dead_code)]
    pub cascades: Vec<Cascade>,
    id: String,
    domain: String,
}

impl VideoNet {
    /// Where SIP listens (UDP and TCP).
    pub fn sip_addr(&self) -> SocketAddr {
        self.platform.local_addr()
    }

    /// Our 20-digit platform id.
    pub fn platform_id(&self) -> &str {
        &self.id
    }

    /// Our SIP domain (realm).
    pub fn domain(&self) -> &str {
        &self.domain
    }
}

/// Our platform id: configured, or `DDDDDD` of the registry's first street's district +
/// `00` (grass-roots) + `00` (industry) + `200` (platform) + `0000001`.
async fn platform_id(app: &App, config: &Gb28181Config) -> anyhow::Result<GbId> {
    if !config.id.is_empty() {
        return GbId::parse(&config.id).map_err(|e| anyhow::anyhow!("gb28181.id: {e}"));
    }
    let mut tx = app.store().read().await?;
    let streets = tx.list_streets(&Filter::default(), Page::first(1)).await?;
    let id = match streets.items.first() {
        Some(s) if s.district_code.len() == 6 && s.district_code.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}00002000000001", s.district_code)
        }
        _ => FALLBACK_ID.to_string(),
    };
    GbId::parse(&id).map_err(|e| anyhow::anyhow!("derived platform id {id}: {e}"))
}

/// Starts the platform side on `config.listen` (or `listen`, which the demo passes) and a
/// cascade per superior.
pub(crate) async fn start(
    app: &App,
    pipeline: &Pipeline,
    config: &Gb28181Config,
    listen: Option<SocketAddr>,
) -> anyhow::Result<VideoNet> {
    let id = platform_id(app, config).await?;
    let bind = match listen {
        Some(addr) => addr,
        None => config
            .listen
            .parse()
            .with_context(|| format!("gb28181.listen = {:?} is not an address:port", config.listen))?,
    };
    let advertised: Option<IpAddr> = if config.advertised_ip.is_empty() {
        None
    } else {
        Some(config.advertised_ip.parse().context("gb28181.advertised_ip")?)
    };
    let mut pc = PlatformConfig::new(id.clone());
    if !config.domain.is_empty() {
        pc.domain = config.domain.clone();
    }
    pc.bind = bind;
    pc.advertised = advertised;
    pc.strict = config.strict;
    pc.max_expires = config.max_expires;
    pc.keepalive_timeout = Duration::from_secs(config.keepalive_timeout_secs);
    let domain = pc.domain.clone();
    let directory = Arc::new(Directory {
        app: app.clone(),
        pipeline: pipeline.clone(),
    });
    let platform = Platform::start(pc, directory, Arc::clone(app.clock()))
        .await
        .with_context(|| {
            format!("cannot listen for GB/T 28181 SIP on {bind}: change gb28181.listen (or gb28181.enabled)")
        })?;
    let media_ip = advertised.unwrap_or_else(|| platform.advertised_ip());
    let media_ip = if media_ip.is_unspecified() {
        IpAddr::from([127, 0, 0, 1])
    } else {
        media_ip
    };
    let mut cascades = Vec::new();
    for s in &config.superiors {
        let superior_id =
            GbId::parse(&s.id).map_err(|e| anyhow::anyhow!("gb28181.superiors.{}.id: {e}", s.name))?;
        let local_id = GbId::parse(&s.local_id)
            .map_err(|e| anyhow::anyhow!("gb28181.superiors.{}.local_id: {e}", s.name))?;
        let address: SocketAddr = s
            .address
            .parse()
            .with_context(|| format!("gb28181.superiors.{}.address", s.name))?;
        let mut cc = CascadeConfig::new(local_id, superior_id, address, &s.password);
        if !s.domain.is_empty() {
            cc.superior_domain = s.domain.clone();
        }
        cc.transport = if s.transport == "tcp" {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        cc.username = s.username.clone();
        cc.bind = SocketAddr::new(bind.ip(), 0);
        cc.advertised = advertised;
        cc.keepalive_interval = Duration::from_secs(s.keepalive_secs);
        cc.media = if s.media == "direct" {
            MediaMode::Direct
        } else {
            MediaMode::Relay { media_ip }
        };
        let catalogue = Arc::new(RegistryCatalogue { app: app.clone() });
        let cascade = Cascade::start(cc, catalogue, platform.clone())
            .await
            .with_context(|| format!("gb28181.superiors.{}: cannot bind SIP", s.name))?;
        tracing::info!(superior = %s.name, local = %cascade.local_addr(), "GB/T 28181 cascade started");
        cascades.push(cascade);
    }
    Ok(VideoNet {
        platform,
        cascades,
        id: id.as_str().to_string(),
        domain,
    })
}

/// The application as the platform side's directory.
struct Directory {
    app: App,
    pipeline: Pipeline,
}

fn channel(item: &CatalogItem) -> GbChannel {
    GbChannel {
        code: item.device_id.clone(),
        name: item.name.clone(),
        online: item.online,
        camera: item.kind() == ItemKind::Camera,
    }
}

fn change(item: &CatalogItem) -> ChannelEvent {
    match item.event.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("ON") => ChannelEvent::Status {
            code: item.device_id.clone(),
            online: true,
        },
        Some("OFF" | "VLOST" | "DEFECT") => ChannelEvent::Status {
            code: item.device_id.clone(),
            online: false,
        },
        Some("DEL") => ChannelEvent::Remove {
            code: item.device_id.clone(),
        },
        _ => ChannelEvent::Upsert(channel(item)),
    }
}

/// `AlarmTime` (local time, UTC+8, as GB devices send it) in ms.
fn alarm_time(text: &str) -> Option<i64> {
    let naive = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S"))
        .ok()?;
    let cst = chrono::FixedOffset::east_opt(8 * 3600)?;
    Some(naive.and_local_timezone(cst).single()?.timestamp_millis())
}

/// `AlarmPriority` 1 (highest) – 4 as a severity.
fn severity(priority: u8) -> Severity {
    match priority {
        1 => Severity::Critical,
        2 => Severity::Major,
        _ => Severity::Minor,
    }
}

impl Directory {
    /// A GB alarm as a device event of the alarm kind, through the pipeline: from the channel
    /// it names when the registry knows it, else from the device that sent it with the
    /// channel as its zone.
    async fn alarm(&self, device: &GbId, alarm: &Alarm) {
        let kind = AlarmKind::from_gb28181(alarm.method, alarm.alarm_type.and_then(|t| u8::try_from(t).ok()));
        let channel_known = alarm.device_id != device.as_str()
            && matches!(self.app.gb_password(&alarm.device_id).await, Ok(Some(_)));
        let (code, zone) = if channel_known || alarm.device_id.is_empty() {
            (
                if alarm.device_id.is_empty() {
                    device.as_str().to_string()
                } else {
                    alarm.device_id.clone()
                },
                None,
            )
        } else if alarm.device_id == device.as_str() {
            (device.as_str().to_string(), None)
        } else {
            (device.as_str().to_string(), Some(alarm.device_id.clone()))
        };
        let now = self.app.clock().now_ms();
        let at = alarm_time(&alarm.time);
        // A retransmission repeats the alarm's time: one alarm. Without a readable time each
        // report is its own.
        let when = match at {
            Some(ms) => ms.to_string(),
            None => format!("r{now}"),
        };
        let event = anfang_app::access::DeviceEvent {
            event_id: format!(
                "gb28181:{}:{when}:{}:{}",
                alarm.device_id,
                alarm.method,
                alarm.alarm_type.unwrap_or(0)
            ),
            at_ms: at.unwrap_or(now),
            kind: anfang_app::access::DeviceEventKind::Alarm {
                kind: kind.as_str().to_string(),
                zone,
                severity: Some(severity(alarm.priority)),
            },
            body_json: serde_json::json!({
                "protocol": "gb28181",
                "device_id": alarm.device_id,
                "priority": alarm.priority,
                "method": alarm.method,
                "alarm_type": alarm.alarm_type,
                "event_type": alarm.event_type,
                "time": alarm.time,
                "description": alarm.description,
            })
            .to_string(),
            images: Vec::new(),
        };
        match self.pipeline.submit(&code, event).await {
            Ok(_) => metrics::counter!("anfang_video_alarms_total", "kind" => kind.as_str()).increment(1),
            Err(e) => tracing::warn!(device = %code, error = %e, "GB/T 28181 alarm not recorded"),
        }
    }
}

#[async_trait::async_trait]
impl DeviceDirectory for Directory {
    async fn lookup(&self, device: &GbId) -> Lookup {
        match self.app.gb_password(device.as_str()).await {
            Ok(Some(password)) => Lookup::Known {
                password: Some(password),
            },
            Ok(None) => Lookup::Unknown,
            Err(e) => {
                tracing::warn!(device = %device.as_str(), error = %e, "GB/T 28181 lookup failed");
                Lookup::Unknown
            }
        }
    }

    async fn report(&self, report: Report) {
        let app = &self.app;
        let result = match &report {
            Report::Registered {
                device,
                peer,
                user_agent,
                ..
            } => {
                app.gb_registered(
                    device.as_str(),
                    GbRegistration {
                        peer: peer.addr.to_string(),
                        transport: peer.transport.as_str().to_ascii_lowercase(),
                        user_agent: user_agent.clone(),
                    },
                )
                .await
            }
            Report::Unregistered { device, .. } => app.gb_unregistered(device.as_str()).await,
            Report::Online { device } => app.gb_online(device.as_str()).await,
            Report::Offline { device, reason } => {
                app.gb_offline(device.as_str(), reason.as_str()).await.map(|_| ())
            }
            Report::Keepalive { device } => app.gb_keepalive(device.as_str()).await,
            Report::Catalog {
                device,
                items,
                complete,
            } => {
                let items: Vec<GbChannel> = items.iter().map(channel).collect();
                app.gb_catalog(device.as_str(), &items, *complete)
                    .await
                    .map(|_| ())
            }
            Report::CatalogChange { device, items } => {
                let events: Vec<ChannelEvent> = items.iter().map(change).collect();
                app.gb_catalog_change(device.as_str(), &events).await.map(|_| ())
            }
            Report::Alarm { device, alarm } => {
                self.alarm(device, alarm).await;
                Ok(())
            }
            Report::DeviceInfo { device, info } => {
                tracing::debug!(device = %device.as_str(), ?info, "GB/T 28181 device info");
                Ok(())
            }
            Report::DeviceStatus { device, status } => {
                tracing::debug!(device = %device.as_str(), ?status, "GB/T 28181 device status");
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "GB/T 28181 report not applied: {report:?}");
        }
    }
}

/// What superiors see: the registry's GB/T 28181 NVRs and cameras assigned to a community,
/// with their names, parent device and the community's county as civil code.
struct RegistryCatalogue {
    app: App,
}

impl RegistryCatalogue {
    async fn shared(&self) -> anyhow::Result<Vec<SharedChannel>> {
        let mut tx = self.app.store().read().await?;
        let devices = tx.list_devices(&Filter::default(), Page::ALL).await?.items;
        let states = self.app.video_presence().states();
        let mut communities = HashMap::new();
        let mut out = Vec::new();
        for d in devices {
            let shared_kind = d.kind == "video_camera" || d.kind == "nvr";
            let Some(community_id) = d.community_id else {
                continue;
            };
            if d.protocol != "gb28181" || !shared_kind {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = communities.entry(community_id) {
                e.insert(tx.community(community_id).await?);
            }
            let Some(Some(c)) = communities.get(&community_id) else {
                continue;
            };
            let state = states.get(&d.code).cloned().unwrap_or_default();
            let carrier = state.parent.clone().unwrap_or_else(|| d.code.clone());
            let Ok(device) = GbId::parse(&carrier) else {
                continue;
            };
            out.push(SharedChannel {
                item: CatalogItem {
                    device_id: d.code.clone(),
                    name: d.name.clone(),
                    civil_code: c.code.chars().take(6).collect(),
                    address: c.name.clone(),
                    parent_id: state.parent.clone().unwrap_or_default(),
                    parental: d.kind == "nvr",
                    online: state.online,
                    ..CatalogItem::default()
                },
                device,
            });
        }
        out.sort_by(|a, b| a.item.device_id.cmp(&b.item.device_id));
        Ok(out)
    }
}

#[async_trait::async_trait]
impl SharedCatalogue for RegistryCatalogue {
    async fn channels(&self) -> Vec<SharedChannel> {
        self.shared().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "GB/T 28181 shared catalogue unavailable");
            Vec::new()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_times_are_china_standard_time() {
        assert_eq!(alarm_time("2026-11-23T12:00:00"), Some(1_795_406_400_000));
        assert_eq!(alarm_time("2026-11-23T12:00:00.500"), Some(1_795_406_400_500));
        assert_eq!(alarm_time("yesterday"), None);
    }

    #[test]
    fn priorities_map_to_severities() {
        assert_eq!(severity(1), Severity::Critical);
        assert_eq!(severity(2), Severity::Major);
        assert_eq!(severity(4), Severity::Minor);
    }

    #[test]
    fn change_events_are_read() {
        let mut item = CatalogItem {
            device_id: "34020000001320000001".into(),
            name: "东门".into(),
            ..CatalogItem::default()
        };
        item.event = Some("off".into());
        assert!(matches!(
            change(&item),
            ChannelEvent::Status { online: false, .. }
        ));
        item.event = Some("DEL".into());
        assert!(matches!(change(&item), ChannelEvent::Remove { .. }));
        item.event = Some("ADD".into());
        assert!(matches!(
            change(&item),
            ChannelEvent::Upsert(GbChannel { camera: true, .. })
        ));
    }
}
