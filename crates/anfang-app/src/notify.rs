//! Notifications: events leave the platform on channels people set up — a webhook that
//! receives signed JSON, an SMS number or an e-mail address (through a configured
//! [`MessageSender`]).
//!
//! Delivery goes through an outbox: an event is queued for every channel that wants it and may
//! see it **in the transaction that made the event**, so a committed alarm is never lost to a
//! crash, and nothing is queued for work that rolled back. A worker (in the binary: it does the
//! network I/O) takes due items, sends them and reports each answer; the domain's policy
//! ([`anfang_domain::notify::after_attempt`]) decides delivered, retry later (exponential
//! backoff, `Retry-After` honoured) or give up. Every item carries an idempotency key that stays
//! the same across attempts, so a receiver that got an item whose answer was lost drops the
//! repeat.
//!
//! A channel receives only what its owner may see: the role and community are fixed when it is
//! made, and events are filtered by the live feed's own rule — so a property manager's webhook
//! never carries a police watch-list hit.
//!
//! Webhook signature: `X-Anfang-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
//! with `X-Anfang-Timestamp` in Unix seconds (receivers reject stale timestamps to stop
//! replays); see `docs/design/notifications.md`.

use crate::live::LiveEvent;
use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::alarm::{AlarmKind, AlarmState, Severity};
use anfang_domain::model::Role;
pub use anfang_domain::notify::{ChannelKind, EventKind, Next};
use anfang_domain::warning::WarningKind;
use anfang_store::{NotificationRow, NotifyChannelRow, Paged, Tx};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::{Arc, RwLock};

/// The vault context of channel addresses.
const ADDRESS_CONTEXT: &str = "notify_address";
/// The vault context of webhook secrets.
const SECRET_CONTEXT: &str = "notify_secret";
/// How long a taken item is reserved for the worker that took it.
pub const LEASE_MS: i64 = 120_000;
/// How long the channel list is cached for the hot path (changes here drop it at once).
const CACHE_MS: i64 = 30_000;

/// A channel to make.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChannel {
    /// What the owner calls it.
    pub name: String,
    /// How it is reached.
    pub channel: ChannelKind,
    /// The URL, number or address.
    pub address: String,
    /// What it receives.
    pub kinds: Vec<EventKind>,
    /// Only alarms at least this severe.
    pub min_severity: Option<Severity>,
    /// Its community (`None`: all the owner sees, for owners who see every community).
    pub community_id: Option<i64>,
}

/// A channel as its owner sees it: the address masked.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChannelView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `webhook`, `sms`, `email`.
    pub channel: ChannelKind,
    /// The address, masked.
    pub address: String,
    /// What it receives.
    pub kinds: Vec<EventKind>,
    /// Only alarms at least this severe.
    pub min_severity: Option<Severity>,
    /// Its community.
    pub community_id: Option<i64>,
    /// The role whose view it carries.
    pub role: String,
    /// Whether it receives events.
    pub active: bool,
    /// Who made it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
}

/// A channel just made: the webhook secret is shown this once.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedChannel {
    /// The channel.
    pub channel: ChannelView,
    /// The signing secret (webhooks).
    pub secret: Option<String>,
}

/// One item to send, taken from the outbox.
#[derive(Clone, PartialEq)]
pub struct Outgoing {
    /// The item.
    pub id: i64,
    /// How.
    pub channel: ChannelKind,
    /// Where (in clear).
    pub address: String,
    /// The webhook signing secret (in clear).
    pub secret: Option<String>,
    /// `alarm.raised`, …
    pub event: String,
    /// Stays the same across attempts.
    pub idempotency_key: String,
    /// Webhooks: the JSON body; SMS and e-mail: `{"subject", "text"}`.
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("id", &self.id)
            .field("channel", &self.channel)
            .field("event", &self.event)
            .field("idempotency_key", &self.idempotency_key)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What came of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The receiver's HTTP status (`None`: no answer).
    pub status: Option<u16>,
    /// How long it asked us to wait.
    pub retry_after_ms: Option<i64>,
    /// What went wrong, for the delivery log.
    pub error: Option<String>,
}

/// A message for an SMS or e-mail sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `sms` or `email`.
    pub channel: ChannelKind,
    /// The number or address.
    pub to: String,
    /// The subject (e-mail; SMS senders ignore it).
    pub subject: String,
    /// The text.
    pub text: String,
    /// Stays the same across attempts (senders pass it on so gateways drop repeats).
    pub idempotency_key: String,
}

/// Sends SMS or e-mail. Implementations live where the network is (the binary ships an HTTP
/// gateway client); the outbox calls them and retries by the answer.
#[async_trait::async_trait]
pub trait MessageSender: Send + Sync + std::fmt::Debug {
    /// Sends one message; the answer is judged like a webhook's.
    async fn send(&self, message: &Message) -> Attempt;
}

/// The channel list, cached for the hot path.
#[derive(Debug, Default)]
pub(crate) struct ChannelCache {
    loaded: RwLock<Option<(i64, Arc<Vec<NotifyChannelRow>>)>>,
}

impl ChannelCache {
    fn drop_all(&self) {
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// The signature of a webhook body: `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn sign(secret: &str, timestamp_s: i64, body: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp_s.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a signature as a receiver would (constant time): `header` may list several
/// comma-separated signatures (during a secret rotation); the timestamp must be within
/// `tolerance_s` of `now_s`.
pub fn verify(
    secret: &str,
    timestamp_s: i64,
    body: &[u8],
    header: &str,
    now_s: i64,
    tolerance_s: i64,
) -> bool {
    if now_s.abs_diff(timestamp_s) > tolerance_s.unsigned_abs() {
        return false;
    }
    let Some(expected) = sign(secret, timestamp_s, body)
        .strip_prefix("v1=")
        .map(str::to_string)
    else {
        return false;
    };
    header.split(',').map(str::trim).any(|s| {
        s.strip_prefix("v1=")
            .and_then(|h| hex::decode(h).ok())
            .is_some_and(|got| {
                let want = hex::decode(&expected).unwrap_or_default();
                subtle::ConstantTimeEq::ct_eq(got.as_slice(), want.as_slice()).into()
            })
    })
}

/// The outgoing name and idempotency key of a live event, or `None` when it does not leave
/// the platform (door decisions, patrol scans, repeats merged into an open alarm).
fn outgoing(event: &LiveEvent) -> Option<(EventKind, String, String)> {
    let d = &event.data;
    let id = d["id"].as_i64();
    match event.kind {
        "alarm" => {
            let id = id?;
            if let Some(level) = d["level"].as_i64().filter(|_| d.get("escalated_to").is_some()) {
                Some((
                    EventKind::Escalation,
                    "alarm.escalated".into(),
                    format!("alarm:{id}:escalated:{level}"),
                ))
            } else if let Some(state) = d["state"].as_str() {
                Some((
                    EventKind::Alarm,
                    format!("alarm.{state}"),
                    format!("alarm:{id}:{state}"),
                ))
            } else if d["repeat"].as_bool() == Some(true) {
                None
            } else {
                Some((
                    EventKind::Alarm,
                    "alarm.raised".into(),
                    format!("alarm:{id}:raised"),
                ))
            }
        }
        "warning" => Some((
            EventKind::Warning,
            "warning.raised".into(),
            format!("warning:{}:{}", id?, event.at),
        )),
        "booth" if d["event"] == "booth_call" => Some((
            EventKind::Booth,
            "booth.call".into(),
            format!(
                "booth:{}:{}",
                d["device_id"],
                d["event_id"].as_str().unwrap_or_default()
            ),
        )),
        "fee" => Some((
            EventKind::Fee,
            "fee.reminder".into(),
            format!("fee_reminder:{}", id?),
        )),
        _ => None,
    }
}

/// Whether `channel` wants and may see `event` (of kind `kind`).
fn wanted(channel: &NotifyChannelRow, kind: EventKind, event: &LiveEvent) -> bool {
    let Ok(role) = Role::parse(&channel.role) else {
        return false;
    };
    let kinds: Vec<EventKind> = serde_json::from_str(&channel.kinds).unwrap_or_default();
    if !kinds.contains(&kind) {
        return false;
    }
    if channel.community_id.is_some() && channel.community_id != event.community_id {
        return false;
    }
    if !event.shown_to(role) {
        return false;
    }
    match (&channel.min_severity, event.data["severity"].as_str()) {
        (Some(min), Some(sev)) if matches!(kind, EventKind::Alarm | EventKind::Escalation) => {
            match (Severity::parse(min), Severity::parse(sev)) {
                // Critical sorts first: at least as severe is "not after".
                (Ok(min), Ok(sev)) => sev <= min,
                _ => true,
            }
        }
        _ => true,
    }
}

/// Milliseconds as a China Standard Time (UTC+8) date-time.
fn cst(ms: i64) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let offset = chrono::FixedOffset::east_opt(8 * 3600)?;
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&offset))
}

/// Milliseconds as China Standard Time, RFC 3339.
fn cst_rfc3339(ms: i64) -> String {
    cst(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
        .unwrap_or_default()
}

/// The short text of an event for SMS and e-mail (zh-CN): (subject, text). No personal data
/// beyond what the event's own title carries.
pub fn render_text(event_name: &str, event: &LiveEvent) -> (String, String) {
    let d = &event.data;
    let when = cst(event.at)
        .map(|t| t.format("%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let kind_zh = |raw: &Value| {
        raw.as_str()
            .and_then(|k| AlarmKind::parse(k).ok())
            .map_or("报警", AlarmKind::label_zh)
    };
    let severity_zh = d["severity"]
        .as_str()
        .and_then(|s| Severity::parse(s).ok())
        .map_or("", Severity::label_zh);
    let place = [d["device_name"].as_str(), d["zone"].as_str()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let id = d["id"].as_i64().unwrap_or_default();
    match event_name {
        "alarm.raised" => {
            let kind = kind_zh(&d["kind"]);
            (
                format!("安防报警：{kind}"),
                format!("【安防】{severity_zh}报警 #{id}：{kind}，{place}，{when}。请及时确认处理。"),
            )
        }
        "alarm.escalated" => {
            let kind = kind_zh(&d["kind"]);
            let role = d["escalated_to"]
                .as_str()
                .and_then(|r| Role::parse(r).ok())
                .map_or("上级", Role::label_zh);
            (
                format!("报警超时升级：{kind}"),
                format!("【安防】报警 #{id}（{kind}，{place}）超时未确认，已升级至{role}，{when}。"),
            )
        }
        "warning.raised" => {
            let kind = d["kind"]
                .as_str()
                .and_then(|k| WarningKind::parse(k).ok())
                .map_or("预警", WarningKind::label_zh);
            let title = d["title"].as_str().unwrap_or(kind);
            (
                format!("研判预警：{kind}"),
                format!("【安防】预警 #{id}：{title}，{when}。请登录平台查看。"),
            )
        }
        "booth.call" => (
            "一键呼叫".into(),
            format!("【安防】{place} 有人一键呼叫，{when}。"),
        ),
        "fee.reminder" => (
            "物业费催缴".into(),
            format!(
                "【物业】{} 物业费已逾期 {} 元（最早 {} 到期），请及时缴纳。",
                d["address"].as_str().unwrap_or_default(),
                d["overdue_yuan"].as_str().unwrap_or_default(),
                d["oldest_due_on"].as_str().unwrap_or_default()
            ),
        ),
        other => {
            let state = other
                .strip_prefix("alarm.")
                .and_then(|s| AlarmState::parse(s).ok())
                .map_or("更新", AlarmState::label_zh);
            let kind = kind_zh(&d["kind"]);
            (
                format!("报警{state}：{kind}"),
                format!("【安防】报警 #{id}（{kind}）{state}，{when}。"),
            )
        }
    }
}

impl App {
    /// The signal the delivery worker waits on (rung after a commit queued something).
    pub fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_signal.clone()
    }

    /// Active channels, from the cache when fresh.
    async fn active_channels(&self, tx: &mut Box<dyn Tx>) -> AppResult<Arc<Vec<NotifyChannelRow>>> {
        let now = self.clock.now_ms();
        if let Some((at, list)) = &*self.channels.loaded.read().unwrap_or_else(|e| e.into_inner())
            && now - at < CACHE_MS
            && *at <= now
        {
            return Ok(list.clone());
        }
        let list = Arc::new(tx.list_notify_channels(true).await?);
        *self.channels.loaded.write().unwrap_or_else(|e| e.into_inner()) = Some((now, list.clone()));
        Ok(list)
    }

    /// Queues `events` inside `tx` for every channel that wants and may see them; returns how
    /// many items were queued. Call before the commit that makes the events, and ring
    /// [`App::outbox_signal`] after it.
    pub(crate) async fn notify(&self, tx: &mut Box<dyn Tx>, events: &[LiveEvent]) -> AppResult<usize> {
        let outgoing: Vec<(&LiveEvent, (EventKind, String, String))> =
            events.iter().filter_map(|e| Some((e, outgoing(e)?))).collect();
        if outgoing.is_empty() {
            return Ok(0);
        }
        let channels = self.active_channels(tx).await?;
        if channels.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now_ms();
        let mut queued = 0;
        for (event, (kind, name, key)) in outgoing {
            for channel in channels.iter().filter(|c| wanted(c, kind, event)) {
                let payload = match ChannelKind::parse(&channel.channel) {
                    Ok(ChannelKind::Webhook) => json!({
                        "id": key,
                        "event": name,
                        "occurred_at": cst_rfc3339(event.at),
                        "community_id": event.community_id,
                        "data": event.data,
                    }),
                    _ => {
                        let (subject, text) = render_text(&name, event);
                        json!({"subject": subject, "text": text})
                    }
                };
                let row = NotificationRow {
                    id: 0,
                    channel_id: channel.id,
                    event: name.clone(),
                    idempotency_key: key.clone(),
                    payload: payload.to_string(),
                    state: "pending".into(),
                    attempts: 0,
                    next_attempt_at: now,
                    last_status: None,
                    last_error: None,
                    created_at: now,
                    delivered_at: None,
                };
                if tx.insert_notification(&row).await?.is_some() {
                    queued += 1;
                    metrics::counter!("anfang_notifications_queued_total", "channel" => channel.channel.clone())
                        .increment(1);
                }
            }
        }
        Ok(queued)
    }

    /// Queues `events`' notifications in `tx`, commits, then publishes them live and rings the
    /// delivery worker.
    pub(crate) async fn commit_events(&self, mut tx: Box<dyn Tx>, events: Vec<LiveEvent>) -> AppResult<()> {
        let queued = self.notify(&mut tx, &events).await?;
        tx.commit().await?;
        self.outbox_ring(queued);
        self.live.publish(events);
        Ok(())
    }

    /// Rings the delivery worker (after a commit that queued something).
    pub(crate) fn outbox_ring(&self, queued: usize) {
        if queued > 0 {
            self.outbox_signal.notify_one();
        }
    }

    /// Makes a channel for `who`: it carries `who`'s role and, unless they see every
    /// community, one of theirs. SMS and e-mail need a configured sender.
    pub async fn create_channel(&self, who: &Principal, new: &NewChannel) -> AppResult<CreatedChannel> {
        who.require(Permission::ReadAlarms)?;
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(AppError::invalid(
                "invalid_name",
                "name",
                "a name has 1 to 60 characters",
            ));
        }
        if new.kinds.is_empty() {
            return Err(AppError::invalid(
                "missing_kinds",
                "kinds",
                "say which events it receives",
            ));
        }
        if new.kinds.contains(&EventKind::Fee) {
            // Fee reminders carry houses' arrears: only for those who may read fees.
            who.require(Permission::ReadFees)?;
        }
        let address = anfang_domain::notify::check_address(new.channel, &new.address)
            .map_err(|e| AppError::field("address", e))?;
        if new.channel != ChannelKind::Webhook && !self.config.message_senders.contains(&new.channel) {
            return Err(AppError::invalid(
                "channel_unavailable",
                "channel",
                format!(
                    "no {} sender is configured on this platform",
                    new.channel.label_zh()
                ),
            ));
        }
        match new.community_id {
            Some(id) => who.scope.check_community(id, "community")?,
            None if who.scope.all => {}
            None => {
                return Err(AppError::invalid(
                    "missing_community",
                    "community_id",
                    "say which of your communities it is for",
                ));
            }
        }
        let mut kinds = new.kinds.clone();
        kinds.sort();
        kinds.dedup();
        let secret = (new.channel == ChannelKind::Webhook).then(|| {
            let (a, _) = crate::vault::Vault::generate_keys();
            format!("whsec_{}", hex::encode(a))
        });
        let now = self.clock.now_ms();
        let row = NotifyChannelRow {
            id: 0,
            name: name.to_string(),
            channel: new.channel.as_str().into(),
            address_enc: self.vault.encrypt(ADDRESS_CONTEXT, &address)?,
            secret_enc: secret
                .as_deref()
                .map(|s| self.vault.encrypt(SECRET_CONTEXT, s))
                .transpose()?,
            kinds: json!(kinds).to_string(),
            min_severity: new.min_severity.map(|s| s.as_str().into()),
            role: who.role.as_str().into(),
            community_id: new.community_id,
            active: true,
            created_by: who.actor(),
            created_at: now,
        };
        let mut tx = self.store.write().await?;
        let id = tx.insert_notify_channel(&row).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "notify.channel_create",
                &format!("notify_channel:{id}"),
                json!({"channel": row.channel, "kinds": kinds, "community_id": row.community_id}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        self.channels.drop_all();
        Ok(CreatedChannel {
            channel: self.view(&NotifyChannelRow { id, ..row })?,
            secret,
        })
    }

    fn view(&self, row: &NotifyChannelRow) -> AppResult<ChannelView> {
        let address = self.vault.decrypt(ADDRESS_CONTEXT, &row.address_enc)?;
        let channel = ChannelKind::parse(&row.channel).map_err(|e| AppError::Internal(e.message))?;
        Ok(ChannelView {
            id: row.id,
            name: row.name.clone(),
            channel,
            address: mask_address(channel, &address),
            kinds: serde_json::from_str(&row.kinds).unwrap_or_default(),
            min_severity: row.min_severity.as_deref().and_then(|s| Severity::parse(s).ok()),
            community_id: row.community_id,
            role: row.role.clone(),
            active: row.active,
            created_by: row.created_by.clone(),
            created_at: row.created_at,
        })
    }

    /// Whether `who` manages `row`: district-wide administrators every channel, others those
    /// made with their role in their communities.
    fn manages(who: &Principal, row: &NotifyChannelRow) -> bool {
        if who.role == Role::DistrictAdmin {
            return true;
        }
        row.role == who.role.as_str()
            && match row.community_id {
                Some(c) => who.scope.all || who.scope.has_community(c),
                None => who.scope.all,
            }
    }

    /// The channels `who` manages.
    pub async fn list_channels(&self, who: &Principal) -> AppResult<Vec<ChannelView>> {
        who.require(Permission::ReadAlarms)?;
        let mut tx = self.store.read().await?;
        tx.list_notify_channels(false)
            .await?
            .iter()
            .filter(|c| Self::manages(who, c))
            .map(|c| self.view(c))
            .collect()
    }

    async fn managed(&self, who: &Principal, tx: &mut Box<dyn Tx>, id: i64) -> AppResult<NotifyChannelRow> {
        who.require(Permission::ReadAlarms)?;
        tx.notify_channel(id)
            .await?
            .filter(|c| Self::manages(who, c))
            .ok_or(AppError::NotFound {
                entity: "notification channel",
            })
    }

    /// Starts or stops a channel (what is queued for it stays and is sent when started).
    pub async fn set_channel_active(&self, who: &Principal, id: i64, active: bool) -> AppResult<ChannelView> {
        let mut tx = self.store.write().await?;
        let row = self.managed(who, &mut tx, id).await?;
        tx.set_notify_channel_active(id, active).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                if active {
                    "notify.channel_start"
                } else {
                    "notify.channel_stop"
                },
                &format!("notify_channel:{id}"),
                json!({}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        self.channels.drop_all();
        self.view(&NotifyChannelRow { active, ..row })
    }

    /// A channel's delivery log, newest first.
    pub async fn channel_deliveries(
        &self,
        who: &Principal,
        id: i64,
        page: crate::registry::PageRequest,
    ) -> AppResult<Paged<NotificationRow>> {
        let mut tx = self.store.read().await?;
        self.managed(who, &mut tx, id).await?;
        Ok(tx.list_notifications(id, page.to_page()?).await?)
    }

    /// Takes up to `limit` due items for sending: each is reserved for [`LEASE_MS`] so another
    /// worker does not send it too; an item of a stopped channel waits.
    pub async fn take_deliveries(&self, limit: i64) -> AppResult<Vec<Outgoing>> {
        let now = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let due = tx.due_notifications(now, limit).await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(due.len());
        let mut channels = std::collections::HashMap::new();
        for mut item in due {
            if let std::collections::hash_map::Entry::Vacant(slot) = channels.entry(item.channel_id) {
                slot.insert(tx.notify_channel(item.channel_id).await?);
            }
            let Some(channel) = channels[&item.channel_id].as_ref() else {
                // Its channel is gone: nothing can deliver it.
                item.state = "dead".into();
                item.last_error = Some("channel removed".into());
                tx.update_notification(&item).await?;
                continue;
            };
            // Reserved only if still due: another worker may have taken it since the read.
            if !tx.lease_notification(item.id, now, now + LEASE_MS).await? {
                continue;
            }
            if !channel.active {
                continue;
            }
            let opened = (|| -> AppResult<(ChannelKind, String, Option<String>)> {
                Ok((
                    ChannelKind::parse(&channel.channel).map_err(|e| AppError::Internal(e.message))?,
                    self.vault.decrypt(ADDRESS_CONTEXT, &channel.address_enc)?,
                    channel
                        .secret_enc
                        .as_ref()
                        .map(|s| self.vault.decrypt(SECRET_CONTEXT, s))
                        .transpose()?,
                ))
            })();
            let (kind, address, secret) = match opened {
                Ok(parts) => parts,
                Err(e) => {
                    // One unreadable channel must not block the outbox: its item is given up.
                    tracing::warn!(id = item.id, error = %e, "notification channel unreadable");
                    item.state = "dead".into();
                    item.last_error = Some("channel unreadable".into());
                    tx.update_notification(&item).await?;
                    continue;
                }
            };
            out.push(Outgoing {
                id: item.id,
                channel: kind,
                address,
                secret,
                event: item.event,
                idempotency_key: item.idempotency_key,
                payload: item.payload,
                attempts: item.attempts,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Records what came of sending item `id`; returns the policy's verdict.
    pub async fn delivery_result(&self, id: i64, attempt: &Attempt) -> AppResult<Next> {
        let now = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let mut item = tx
            .notification(id)
            .await?
            .filter(|n| n.state == "pending")
            .ok_or(AppError::NotFound {
                entity: "notification",
            })?;
        item.attempts += 1;
        let next =
            anfang_domain::notify::after_attempt(item.attempts, attempt.status, attempt.retry_after_ms);
        item.last_status = attempt.status.map(i64::from);
        item.last_error = attempt.error.as_ref().map(|e| e.chars().take(300).collect());
        match next {
            Next::Delivered => {
                item.state = "delivered".into();
                item.delivered_at = Some(now);
            }
            Next::Retry(wait) => item.next_attempt_at = now + wait,
            Next::GiveUp => {
                item.state = "dead".into();
                tracing::warn!(id, event = %item.event, status = ?attempt.status, "notification given up");
            }
        }
        tx.update_notification(&item).await?;
        tx.commit().await?;
        let outcome = match next {
            Next::Delivered => "delivered",
            Next::Retry(_) => "retry",
            Next::GiveUp => "dead",
        };
        metrics::counter!("anfang_notification_attempts_total", "outcome" => outcome).increment(1);
        Ok(next)
    }

    /// When the next pending item is due (ms), if any.
    pub async fn next_delivery_due(&self) -> AppResult<Option<i64>> {
        let mut tx = self.store.read().await?;
        Ok(tx.next_notification_due().await?)
    }
}

/// A channel address as lists show it.
fn mask_address(channel: ChannelKind, address: &str) -> String {
    match channel {
        ChannelKind::Webhook => {
            // Scheme and host only: paths and queries often carry tokens.
            let (scheme, host) = anfang_domain::notify::url_authority(address).unwrap_or(("", ""));
            format!("{scheme}://{host}/…")
        }
        ChannelKind::Sms => anfang_domain::mask::mask_phone(address),
        ChannelKind::Email => match address.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => "***".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_reject_tampering_and_stale_timestamps() {
        let body = br#"{"event":"alarm.raised"}"#;
        let sig = sign("whsec_k", 1_700_000_000, body);
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64);
        assert!(verify("whsec_k", 1_700_000_000, body, &sig, 1_700_000_100, 300));
        assert!(verify(
            "whsec_k",
            1_700_000_000,
            body,
            &format!("v1=00, {sig}"),
            1_700_000_000,
            300
        ));
        assert!(!verify(
            "whsec_other",
            1_700_000_000,
            body,
            &sig,
            1_700_000_000,
            300
        ));
        assert!(!verify("whsec_k", 1_700_000_000, b"{}", &sig, 1_700_000_000, 300));
        assert!(!verify("whsec_k", 1_700_000_001, body, &sig, 1_700_000_001, 300));
        assert!(!verify("whsec_k", 1_700_000_000, body, &sig, 1_700_001_000, 300));
    }

    #[test]
    fn addresses_are_masked() {
        assert_eq!(
            mask_address(ChannelKind::Webhook, "https://u:p@ops.example.cn/hook?token=abc"),
            "https://ops.example.cn/…"
        );
        assert_eq!(
            mask_address(ChannelKind::Email, "duty@wy.example.cn"),
            "d***@wy.example.cn"
        );
        assert!(!mask_address(ChannelKind::Sms, "13800138000").contains("0013"));
    }

    #[test]
    fn events_get_stable_names_and_keys_and_repeats_stay_home() {
        let alarm = |data: Value| LiveEvent {
            kind: "alarm",
            community_id: Some(1),
            audience: None,
            at: 5,
            data,
        };
        let (kind, name, key) = outgoing(&alarm(json!({"id": 7, "repeat": false}))).unwrap();
        assert_eq!(
            (kind, name.as_str(), key.as_str()),
            (EventKind::Alarm, "alarm.raised", "alarm:7:raised")
        );
        assert!(outgoing(&alarm(json!({"id": 7, "repeat": true}))).is_none());
        let (_, name, key) = outgoing(&alarm(json!({"id": 7, "state": "acknowledged"}))).unwrap();
        assert_eq!(
            (name.as_str(), key.as_str()),
            ("alarm.acknowledged", "alarm:7:acknowledged")
        );
        let (kind, _, key) = outgoing(&alarm(
            json!({"id": 7, "level": 1, "escalated_to": "street_officer"}),
        ))
        .unwrap();
        assert_eq!(
            (kind, key.as_str()),
            (EventKind::Escalation, "alarm:7:escalated:1")
        );
        let access = LiveEvent {
            kind: "access",
            ..alarm(json!({}))
        };
        assert!(outgoing(&access).is_none());
    }

    #[test]
    fn texts_are_short_and_in_chinese() {
        let event = LiveEvent {
            kind: "alarm",
            community_id: Some(1),
            audience: None,
            at: 1_763_964_180_000,
            data: json!({"id": 12, "kind": "perimeter_intrusion", "severity": "critical",
                "device_name": "东区围墙", "zone": "3号防区"}),
        };
        let (subject, text) = render_text("alarm.raised", &event);
        assert_eq!(subject, "安防报警：周界入侵");
        assert!(text.starts_with("【安防】"), "{text}");
        assert!(
            text.contains("东区围墙 3号防区") && text.contains("#12"),
            "{text}"
        );
        assert!(text.chars().count() <= 70, "one SMS: {text}");
    }
}
