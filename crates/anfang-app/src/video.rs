//! GB/T 28181 video networking as the application sees it: the presence table of the devices
//! that register over SIP (registered, online, peer address, transport, last keepalive, user
//! agent) and of the channels their catalogues list (status ON/OFF, parent device), and the
//! use-cases the binary's `DeviceDirectory` calls — a device's SIP password, "seen", "went
//! offline", "catalogue received" — plus the read use-cases of the API.
//!
//! Presence is in memory: it is what the SIP side knows now, rebuilt by the devices' next
//! REGISTER after a restart. What must outlive a restart goes to the store: `last_seen_at` of
//! the device and of each camera channel its latest catalogue says is ON (moved at most once a
//! minute per device, [`TOUCH_EVERY_MS`]) — which is what the district programme's networking
//! rate reads — the `device_offline` alarm, and the cameras a catalogue introduced.
//!
//! Invariant: only devices of protocol `gb28181` have a SIP password; the password is the
//! device's own secret.
//! Invariant: a catalogue never changes an existing device's data; it only adds the camera
//! channels the registry lacks, in the NVR's community, audited as `system:gb28181`.

use crate::{App, AppResult, Permission, Principal};
use anfang_domain::GbCode;
use anfang_domain::alarm::AlarmKind;
use anfang_domain::model::{DeviceKind, DeviceProtocol};
use anfang_store::{DeviceRow, Filter, NewDevice, Page};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// A device's `last_seen_at` moves at most this often (ms) on keepalives.
pub const TOUCH_EVERY_MS: i64 = 60_000;

/// The audit actor of what the SIP side writes.
pub const ACTOR: &str = "system:gb28181";

/// A registration as the SIP side saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GbRegistration {
    /// Where the device is reached (`ip:port`).
    pub peer: String,
    /// `udp` or `tcp`.
    pub transport: String,
    /// Its `User-Agent`.
    pub user_agent: Option<String>,
}

/// One catalogue item of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GbChannel {
    /// Its 20-digit id.
    pub code: String,
    /// Its name in the catalogue.
    pub name: String,
    /// `Status` ON (true) or OFF.
    pub online: bool,
    /// A camera (type 131/132) one can play.
    pub camera: bool,
}

/// What a catalogue change notification says of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelEvent {
    /// Added or updated (ADD, UPDATE, or no event).
    Upsert(GbChannel),
    /// ON / OFF (also VLOST, DEFECT: off).
    Status {
        /// The channel.
        code: String,
        /// ON.
        online: bool,
    },
    /// Deleted (DEL).
    Remove {
        /// The channel.
        code: String,
    },
}

/// A channel as the presence table holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPresence {
    /// Its name in the catalogue.
    pub name: String,
    /// Status ON.
    pub online: bool,
    /// A camera.
    pub camera: bool,
}

/// A device as the presence table holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DevicePresence {
    /// Registered now.
    pub registered: bool,
    /// Online now (registered and not past its keepalive timeout).
    pub online: bool,
    /// Where it is reached.
    pub peer: Option<String>,
    /// `udp` or `tcp`.
    pub transport: Option<String>,
    /// When it last registered (ms).
    pub registered_at: Option<i64>,
    /// When its last keepalive arrived (ms).
    pub last_keepalive: Option<i64>,
    /// Its `User-Agent`.
    pub user_agent: Option<String>,
    /// Its catalogue's channels by id.
    pub channels: BTreeMap<String, ChannelPresence>,
    /// When `last_seen_at` was last moved for it and its channels (ms).
    touched_at: Option<i64>,
}

/// The presence table (held by [`App`]).
#[derive(Debug, Default)]
pub struct VideoPresence {
    devices: Mutex<HashMap<String, DevicePresence>>,
}

impl VideoPresence {
    /// One device's presence.
    pub fn device(&self, code: &str) -> Option<DevicePresence> {
        self.devices.lock().unwrap().get(code).cloned()
    }

    fn update<R>(&self, code: &str, f: impl FnOnce(&mut DevicePresence) -> R) -> R {
        f(self.devices.lock().unwrap().entry(code.to_string()).or_default())
    }

    /// Each device's and channel's state now, by id.
    pub fn states(&self) -> HashMap<String, VideoState> {
        let devices = self.devices.lock().unwrap();
        let mut out = HashMap::new();
        for (parent, p) in devices.iter() {
            let live = p.registered && p.online;
            for (code, ch) in &p.channels {
                if code == parent {
                    continue;
                }
                out.entry(code.clone()).or_insert(VideoState {
                    registered: false,
                    online: live && ch.online,
                    channel_on: Some(ch.online),
                    parent: Some(parent.clone()),
                    presence: None,
                });
            }
        }
        for (code, p) in devices.iter() {
            // A device that registers itself is what it says, whatever a catalogue lists.
            if p.registered || !out.contains_key(code) {
                let channel_on = out.get(code).and_then(|s| s.channel_on);
                out.insert(
                    code.clone(),
                    VideoState {
                        registered: p.registered,
                        online: p.registered && p.online,
                        channel_on,
                        parent: None,
                        presence: Some(p.clone()),
                    },
                );
            }
        }
        out
    }
}

/// A registry device's video state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VideoState {
    /// Registered itself.
    pub registered: bool,
    /// Online: registered itself and online, or a channel with status ON of an online device.
    pub online: bool,
    /// Its status in its parent's catalogue, when it is a channel.
    pub channel_on: Option<bool>,
    /// The device whose catalogue lists it.
    pub parent: Option<String>,
    /// Its own registration, when it registered.
    pub presence: Option<DevicePresence>,
}

/// One GB/T 28181 device of the registry with its state.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoDevice {
    /// The registry's row.
    pub device: DeviceRow,
    /// Its state now.
    pub state: VideoState,
}

/// A community's video networking now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityVideo {
    /// The community.
    pub community_id: i64,
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// GB/T 28181 devices in the registry (NVRs, cameras, …).
    pub devices: u64,
    /// Of them registered now.
    pub registered: u64,
    /// Of them online now (themselves, or as an ON channel of an online device).
    pub online: u64,
    /// GB/T 28181 cameras in the registry.
    pub cameras: u64,
    /// Of them online now.
    pub cameras_online: u64,
}

fn is_gb(d: &DeviceRow) -> bool {
    d.protocol == DeviceProtocol::Gb28181.as_str()
}

fn tally(
    community: (i64, &str, &str),
    devices: &[&DeviceRow],
    states: &HashMap<String, VideoState>,
) -> CommunityVideo {
    let mut out = CommunityVideo {
        community_id: community.0,
        code: community.1.to_string(),
        name: community.2.to_string(),
        devices: 0,
        registered: 0,
        online: 0,
        cameras: 0,
        cameras_online: 0,
    };
    for d in devices {
        let s = states.get(&d.code).cloned().unwrap_or_default();
        let camera = d.kind == DeviceKind::VideoCamera.as_str();
        out.devices += 1;
        out.registered += u64::from(s.registered);
        out.online += u64::from(s.online);
        out.cameras += u64::from(camera);
        out.cameras_online += u64::from(camera && s.online);
    }
    out
}

impl App {
    /// The GB/T 28181 presence table.
    pub fn video_presence(&self) -> &VideoPresence {
        &self.video
    }

    /// The SIP password of a device: its secret, for devices of protocol `gb28181`; `None`
    /// for every other id (unknown to the platform).
    pub async fn gb_password(&self, code: &str) -> AppResult<Option<String>> {
        let mut tx = self.store.read().await?;
        match tx.device_by_code(code).await? {
            Some(d) if is_gb(&d) => Ok(Some(self.device_secret(&d)?)),
            _ => Ok(None),
        }
    }

    /// A device registered (or registered again from a new address): it is online and seen.
    pub async fn gb_registered(&self, code: &str, registration: GbRegistration) -> AppResult<()> {
        let now = self.clock.now_ms();
        self.video.update(code, |p| {
            p.registered = true;
            p.online = true;
            p.peer = Some(registration.peer);
            p.transport = Some(registration.transport);
            p.user_agent = registration.user_agent;
            p.registered_at = Some(now);
            p.last_keepalive = Some(now);
        });
        self.gb_touch(code, true).await?;
        self.publish_video_gauges(code).await
    }

    /// A device left the table (unregistered, or its registration expired).
    pub async fn gb_unregistered(&self, code: &str) -> AppResult<()> {
        self.video.update(code, |p| {
            p.registered = false;
            p.online = false;
        });
        self.publish_video_gauges(code).await
    }

    /// A device is online again (heard from after a keepalive timeout): seen, and its
    /// `device_offline` alarm resolves.
    pub async fn gb_online(&self, code: &str) -> AppResult<()> {
        self.video.update(code, |p| p.online = p.registered);
        self.gb_touch(code, true).await?;
        self.publish_video_gauges(code).await
    }

    /// A keepalive arrived: the device and its ON camera channels are seen (their
    /// `last_seen_at` moves at most once a minute).
    pub async fn gb_keepalive(&self, code: &str) -> AppResult<()> {
        let now = self.clock.now_ms();
        self.video.update(code, |p| p.last_keepalive = Some(now));
        self.gb_touch(code, false).await
    }

    /// Moves `last_seen_at` of the device and its ON channels (unless done within
    /// [`TOUCH_EVERY_MS`] and not `force`d), resolving their `device_offline` alarms.
    async fn gb_touch(&self, code: &str, force: bool) -> AppResult<()> {
        let now = self.clock.now_ms();
        let codes = self.video.update(code, |p| {
            if !force && p.touched_at.is_some_and(|t| now - t < TOUCH_EVERY_MS) {
                return Vec::new();
            }
            p.touched_at = Some(now);
            let mut codes = vec![code.to_string()];
            if p.online {
                codes.extend(
                    p.channels
                        .iter()
                        .filter(|(c, ch)| ch.online && ch.camera && c.as_str() != code)
                        .map(|(c, _)| c.clone()),
                );
            }
            codes
        });
        if codes.is_empty() {
            return Ok(());
        }
        let mut tx = self.store.write().await?;
        for c in &codes {
            if let Some(d) = tx.device_by_code(c).await? {
                tx.touch_device(d.id, now, None, None).await?;
                self.close_offline_alarm(&mut tx, d.id, now).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A device went offline (keepalive timeout, unregistered, expired): the alarm centre's
    /// `device_offline` is raised for it at once (unless one is open), with a repair ticket,
    /// as the silence job does for other devices. Returns whether an alarm was raised.
    pub async fn gb_offline(&self, code: &str, reason: &str) -> AppResult<bool> {
        self.video.update(code, |p| p.online = false);
        self.publish_video_gauges(code).await?;
        let now = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let Some(d) = tx.device_by_code(code).await? else {
            return Ok(false);
        };
        if d.community_id.is_none()
            || tx
                .open_alarm(d.id, AlarmKind::DeviceOffline.as_str())
                .await?
                .is_some()
        {
            return Ok(false);
        }
        let live = self
            .raise_device_offline(&mut tx, &d, "gb28181", reason.to_string(), now)
            .await?;
        self.commit_events(tx, vec![live]).await?;
        Ok(true)
    }

    /// A device's catalogue arrived: the presence table takes its channels (all of them when
    /// `complete`, else merged), and camera channels the registry lacks are created as
    /// `video_camera`s of protocol `gb28181` in the device's community, named as listed.
    /// Returns the codes created.
    pub async fn gb_catalog(
        &self,
        code: &str,
        items: &[GbChannel],
        complete: bool,
    ) -> AppResult<Vec<String>> {
        self.video.update(code, |p| {
            if complete {
                p.channels.clear();
            }
            for item in items {
                p.channels.insert(item.code.clone(), channel_presence(item));
            }
        });
        let created = self.create_channels(code, items).await?;
        self.gb_touch(code, true).await?;
        self.publish_video_gauges(code).await?;
        Ok(created)
    }

    /// Items of a catalogue change notification: added channels are created as in
    /// [`App::gb_catalog`], status changes and deletions apply to the presence table.
    pub async fn gb_catalog_change(&self, code: &str, events: &[ChannelEvent]) -> AppResult<Vec<String>> {
        let mut added = Vec::new();
        self.video.update(code, |p| {
            for e in events {
                match e {
                    ChannelEvent::Upsert(item) => {
                        p.channels.insert(item.code.clone(), channel_presence(item));
                        added.push(item.clone());
                    }
                    ChannelEvent::Status { code, online } => {
                        if let Some(ch) = p.channels.get_mut(code) {
                            ch.online = *online;
                        }
                    }
                    ChannelEvent::Remove { code } => {
                        p.channels.remove(code);
                    }
                }
            }
        });
        let created = self.create_channels(code, &added).await?;
        self.gb_touch(code, true).await?;
        self.publish_video_gauges(code).await?;
        Ok(created)
    }

    /// Creates the camera channels of `parent` the registry lacks, in one transaction with
    /// their audit entries.
    async fn create_channels(&self, parent: &str, items: &[GbChannel]) -> AppResult<Vec<String>> {
        let cameras: Vec<&GbChannel> = items
            .iter()
            .filter(|i| i.camera && i.code != parent && GbCode::parse(&i.code).is_ok())
            .collect();
        if cameras.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let Some(nvr) = tx.device_by_code(parent).await? else {
            return Ok(Vec::new());
        };
        let mut created = Vec::new();
        let mut last = None;
        for item in cameras {
            if tx.device_by_code(&item.code).await?.is_some() {
                continue;
            }
            let name = crate::registry::opt_text("name", Some(&item.name), 64)
                .ok()
                .flatten()
                .unwrap_or_else(|| format!("{}-{}", DeviceKind::VideoCamera.label_zh(), &item.code[14..]));
            let new = NewDevice {
                code: item.code.clone(),
                name,
                kind: DeviceKind::VideoCamera.as_str().into(),
                protocol: DeviceProtocol::Gb28181.as_str().into(),
                community_id: nvr.community_id,
                place_id: None,
                x: None,
                y: None,
                install_date: None,
                contractor: None,
                secret_enc: self
                    .vault
                    .encrypt("device_secret", &anfang_base::random_password(32))?,
                now_ms: now,
            };
            tx.insert_device(&new).await?;
            last = Some(
                self.audit(
                    &mut tx,
                    ACTOR,
                    "device.create",
                    &format!("device:{}", new.code),
                    json!({"kind": new.kind, "protocol": new.protocol, "parent": parent, "source": "catalog"}),
                )
                .await?,
            );
            created.push(new.code);
        }
        self.commit(tx, last.as_ref()).await?;
        Ok(created)
    }

    /// Sets `anfang_video_devices_registered` and `anfang_video_cameras_online` of the
    /// community of `code` (and of the communities its channels are in).
    async fn publish_video_gauges(&self, code: &str) -> AppResult<()> {
        let mut codes = vec![code.to_string()];
        if let Some(p) = self.video.device(code) {
            codes.extend(p.channels.into_keys());
        }
        let mut tx = self.store.read().await?;
        let mut communities = Vec::new();
        for c in &codes {
            if let Some(community) = tx.device_by_code(c).await?.and_then(|d| d.community_id)
                && !communities.contains(&community)
            {
                communities.push(community);
            }
        }
        let states = self.video.states();
        for id in communities {
            let Some(row) = tx.community(id).await? else {
                continue;
            };
            let devices = tx
                .list_devices(
                    &Filter {
                        community_id: Some(id),
                        ..Filter::default()
                    },
                    Page::ALL,
                )
                .await?
                .items;
            let gb: Vec<&DeviceRow> = devices.iter().filter(|d| is_gb(d)).collect();
            let t = tally((id, &row.code, &row.name), &gb, &states);
            metrics::gauge!("anfang_video_devices_registered", "community" => row.code.clone())
                .set(t.registered as f64);
            metrics::gauge!("anfang_video_cameras_online", "community" => row.code)
                .set(t.cameras_online as f64);
        }
        Ok(())
    }

    /// Video networking per community in the caller's scope (or of one community), for the
    /// communities that have GB/T 28181 devices, ordered by code.
    pub async fn video_communities(
        &self,
        who: &Principal,
        community_id: Option<i64>,
    ) -> AppResult<Vec<CommunityVideo>> {
        who.require(Permission::ReadDevices)?;
        if let Some(c) = community_id {
            who.scope.check_community(c, "community")?;
        }
        let mut filter = who.scope.filter();
        filter.house_ids = None;
        filter.community_id = community_id;
        let mut tx = self.store.read().await?;
        let devices = tx.list_devices(&filter, Page::ALL).await?.items;
        let mut by_community: BTreeMap<i64, Vec<&DeviceRow>> = BTreeMap::new();
        for d in devices.iter().filter(|d| is_gb(d)) {
            if let Some(c) = d.community_id
                && who.scope.has_community(c)
            {
                by_community.entry(c).or_default().push(d);
            }
        }
        let states = self.video.states();
        let mut out = Vec::new();
        for (id, devices) in by_community {
            if let Some(c) = tx.community(id).await? {
                out.push(tally((id, &c.code, &c.name), &devices, &states));
            }
        }
        out.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(out)
    }

    /// Every GB/T 28181 device of one community in scope with its state, ordered by code.
    pub async fn community_video(&self, who: &Principal, community_id: i64) -> AppResult<Vec<VideoDevice>> {
        who.require(Permission::ReadDevices)?;
        who.scope.check_community(community_id, "community")?;
        let mut tx = self.store.read().await?;
        if tx.community(community_id).await?.is_none() {
            return Err(crate::AppError::NotFound { entity: "community" });
        }
        let devices = tx
            .list_devices(
                &Filter {
                    community_id: Some(community_id),
                    ..Filter::default()
                },
                Page::ALL,
            )
            .await?
            .items;
        let states = self.video.states();
        let mut out: Vec<VideoDevice> = devices
            .into_iter()
            .filter(is_gb)
            .map(|device| VideoDevice {
                state: states.get(&device.code).cloned().unwrap_or_default(),
                device,
            })
            .collect();
        out.sort_by(|a, b| a.device.code.cmp(&b.device.code));
        Ok(out)
    }
}

fn channel_presence(item: &GbChannel) -> ChannelPresence {
    ChannelPresence {
        name: item.name.clone(),
        online: item.online,
        camera: item.camera,
    }
}
