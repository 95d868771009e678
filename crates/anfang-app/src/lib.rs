//! Anfang's application layer: every use-case a transport can call, with authentication,
//! role permissions and scope filtering, the audit chain and the personal-data vault.
//!
//! Invariant: no HTTP, JSON-over-the-wire or SQL here; storage is `dyn Store`, time is `dyn Clock`.
//! Invariant: every use-case that writes runs in one store transaction together with its audit
//! entries; an error before commit leaves nothing behind.
//! Invariant: every read and write is checked against the caller's role ([`Permission`]) and
//! filtered by their scope ([`ResolvedScope`]); out-of-scope objects are reported as not found.

pub mod acceptance;
pub mod access;
pub mod accesspoints;
pub mod alarms;
pub mod audit;
pub mod auth;
pub mod booth;
pub mod captures;
pub mod cascade;
pub mod denylist;
pub mod entry_check;
mod error;
pub mod excel;
pub mod faces;
pub mod fee_bills;
pub mod fee_cash_book;
pub mod fee_online;
pub mod fee_payments;
pub mod fee_reports;
pub mod fees;
pub mod import;
pub mod library;
pub mod live;
pub mod maintenance;
pub mod noplate;
pub mod notify;
pub mod parking;
pub mod patrol;
pub mod policy;
pub mod programme;
pub mod programme_export;
pub mod recognition;
pub mod registry;
pub mod scope;
pub mod trajectory;
pub mod vault;
pub mod video;
pub mod video_live;
pub mod visitors;
pub mod warnings;

pub use anfang_domain::model::Permission;
pub use anfang_store as store;
pub use error::{AppError, AppResult};
pub use scope::ResolvedScope;

use anfang_base::Clock;
use anfang_domain::model::Role;
use anfang_store::{NewAudit, Store, Tx};
use std::sync::Arc;

/// Tunables of the application layer.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// How long a login session lasts, in seconds.
    pub session_ttl_secs: i64,
    /// Failed logins in a row that lock an account.
    pub lockout_threshold: i64,
    /// How long a lockout lasts, in seconds.
    pub lockout_secs: i64,
    /// The superior platforms records are forwarded to.
    pub cascade_targets: Vec<cascade::UpwardTarget>,
    /// How fast alarms must be acknowledged and whom they escalate to.
    pub alarm_sla: anfang_domain::alarm::AlarmSla,
    /// The message channels (SMS, e-mail) with a configured sender.
    pub message_senders: Vec<anfang_domain::notify::ChannelKind>,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            session_ttl_secs: 12 * 3600,
            lockout_threshold: 5,
            lockout_secs: 15 * 60,
            cascade_targets: Vec::new(),
            alarm_sla: anfang_domain::alarm::AlarmSla::default(),
            message_senders: Vec::new(),
        }
    }
}

/// The application: the one object every transport (HTTP API, CLI, device adapters) calls.
#[derive(Debug, Clone)]
pub struct App {
    /// Storage.
    pub(crate) store: Arc<dyn Store>,
    /// Time.
    pub(crate) clock: Arc<dyn Clock>,
    /// Encryption and blind-index keys for personal data and device secrets.
    pub(crate) vault: Arc<vault::Vault>,
    /// Where the audit chain's head is checkpointed outside the database.
    pub(crate) checkpoint: Arc<dyn audit::Checkpoint>,
    /// Tunables.
    pub(crate) config: AppConfig,
    /// Where face photos (encrypted) live.
    pub(crate) images: Arc<dyn faces::ImageStore>,
    /// What access decisions need, in memory, kept in step by [`App::commit`].
    pub(crate) policy: Arc<policy::PolicyCache>,
    /// Face recognition, when models are configured.
    pub(crate) recognition: Option<Arc<recognition::Recognition>>,
    /// What just happened, for live views (published after commit).
    pub(crate) live: Arc<live::LiveFeed>,
    /// Notification channels, cached for the hot path.
    pub(crate) channels: Arc<notify::ChannelCache>,
    /// Rung when the outbox has something new for the delivery worker.
    pub(crate) outbox_signal: Arc<tokio::sync::Notify>,
    /// The external status check at entry, when configured.
    pub(crate) entry_check: Option<Arc<entry_check::EntryCheck>>,
    /// Online-payment providers and the secrets their callbacks are signed with, by name.
    pub(crate) payment_providers: Arc<fee_online::Providers>,
    /// GB/T 28181 presence: registered devices and their catalogues' channels.
    pub(crate) video: Arc<video::VideoPresence>,
    /// Live video of cameras, when the binary runs GB/T 28181 ([`App::with_live_video`]).
    pub(crate) live_video: Option<Arc<dyn video_live::LiveVideo>>,
    /// Outstanding single-use live-video tickets.
    pub(crate) live_tickets: Arc<video_live::LiveTickets>,
}

/// Who is calling: an authenticated user with their role and resolved scope.
#[derive(Debug, Clone)]
pub struct Principal {
    /// User id.
    pub user_id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Scope entries as configured.
    pub scope_entries: Vec<anfang_domain::scope::ScopeEntry>,
    /// Scope resolved to ids.
    pub scope: ResolvedScope,
}

impl Principal {
    /// The audit actor string of this principal.
    pub fn actor(&self) -> String {
        format!("user:{}", self.username)
    }

    /// Fails with `forbidden` unless the role allows `permission`.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        if self.role.allows(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "role {} may not do this ({permission:?})",
                self.role
            )))
        }
    }
}

impl App {
    /// Assembles the application from its parts.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        vault: vault::Vault,
        checkpoint: Arc<dyn audit::Checkpoint>,
        images: Arc<dyn faces::ImageStore>,
        config: AppConfig,
    ) -> App {
        App {
            store,
            clock,
            vault: Arc::new(vault),
            checkpoint,
            images,
            config,
            policy: Arc::new(policy::PolicyCache::new()),
            recognition: None,
            live: Arc::new(live::LiveFeed::default()),
            channels: Arc::new(notify::ChannelCache::default()),
            outbox_signal: Arc::new(tokio::sync::Notify::new()),
            entry_check: None,
            payment_providers: Arc::default(),
            video: Arc::default(),
            live_video: None,
            live_tickets: Arc::default(),
        }
    }

    /// The store (for the composition root's health checks and backups).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Appends an audit entry inside `tx`; the caller commits and then calls
    /// [`App::checkpoint_after_commit`] with the returned sequence number and hash.
    pub(crate) async fn audit(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &str,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> AppResult<anfang_store::AuditRow> {
        let entry = NewAudit {
            at: self.clock.now_ms(),
            actor: actor.to_string(),
            action: action.to_string(),
            target: target.to_string(),
            detail: detail.to_string(),
        };
        Ok(tx.append_audit(&entry, audit::entry_hash).await?)
    }

    /// Commits `tx` and then moves the external checkpoint to `last` (if any audit entry was
    /// appended). The checkpoint moves only after the commit, so it never runs ahead of the log.
    pub(crate) async fn commit(
        &self,
        tx: Box<dyn Tx>,
        last: Option<&anfang_store::AuditRow>,
    ) -> AppResult<()> {
        tx.commit().await?;
        // Whatever this use-case changed, access decisions see it from now on.
        self.policy.invalidate();
        if let Some(row) = last {
            self.checkpoint.advance(row.seq, &row.hash);
        }
        Ok(())
    }

    /// Records an audit entry in its own transaction (for events outside a use-case, such as
    /// a CLI action or a failed login).
    pub async fn audit_now(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> AppResult<()> {
        let mut tx = self.store.write().await?;
        let row = self.audit(&mut tx, actor, action, target, detail).await?;
        self.commit(tx, Some(&row)).await
    }
}
