//! Live video of a camera, as the application sees it: the seam [`LiveVideo`] that the binary
//! implements (INVITE over GB/T 28181, receive, remux to fragmented MP4, fan out), set on the
//! [`App`] by [`App::with_live_video`], and the two use-cases the API calls — a short-lived
//! single-use ticket for a camera in the caller's scope (browsers cannot put a bearer token on
//! a WebSocket), and watching with such a ticket, which is audited: live video of people is
//! personal data.
//!
//! Invariant: a ticket is good once, for one camera, for [`TICKET_TTL_MS`]; watching re-reads
//! the camera, so a ticket never outlives its camera's move out of the caller's scope.
//! Invariant: the API knows nothing of SIP; what it gets is MP4 bytes.

use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::model::{DeviceKind, DeviceProtocol};
use anfang_store::DeviceRow;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::mpsc;

/// How long a ticket stays good (ms).
pub const TICKET_TTL_MS: i64 = 30_000;

/// The most tickets held at once (older ones are dropped first).
const MAX_TICKETS: usize = 1024;

/// Why live video could not start (the binary's words; the API maps them to 503/502/404).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveVideoError {
    /// No registered device lists the camera (or it is OFF).
    #[error("the camera is not reachable over GB/T 28181 now")]
    Offline,
    /// The device refused or did not answer the INVITE, or sent no usable video.
    #[error("the camera did not start streaming: {0}")]
    Failed(String),
}

/// A viewer's stream: what the player needs first, then fragments until the stream ends.
#[derive(Debug)]
pub struct LiveWatch {
    /// The `SourceBuffer` type, e.g. `video/mp4; codecs="avc1.42C01E"`.
    pub mime: String,
    /// The init segment (`ftyp` + `moov`).
    pub init: Vec<u8>,
    /// `moof` + `mdat` fragments, starting at a key frame. Closed when the stream ends;
    /// dropping it leaves the stream (the last viewer leaving stops it).
    pub fragments: mpsc::Receiver<Vec<u8>>,
}

/// What the application needs from a live-video implementation.
#[async_trait::async_trait]
pub trait LiveVideo: Send + Sync + std::fmt::Debug + 'static {
    /// Joins the camera's live stream (starting it if nobody watches it yet).
    async fn watch(&self, camera: &DeviceRow) -> Result<LiveWatch, LiveVideoError>;

    /// How many cameras are being streamed now.
    fn streams(&self) -> usize;
}

/// A ticket for one camera.
#[derive(Debug, Clone)]
struct Ticket {
    who: Principal,
    device_id: i64,
    expires_at: i64,
}

/// The outstanding tickets (held by [`App`]).
#[derive(Debug, Default)]
pub struct LiveTickets {
    tickets: Mutex<HashMap<String, Ticket>>,
}

/// A ticket as handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveTicket {
    /// The ticket, for `?ticket=`.
    pub ticket: String,
    /// When it stops being good (ms).
    pub expires_at: i64,
}

fn playable(device: &DeviceRow) -> bool {
    device.kind == DeviceKind::VideoCamera.as_str() && device.protocol == DeviceProtocol::Gb28181.as_str()
}

impl App {
    /// Sets the live-video implementation (the binary's, over GB/T 28181).
    pub fn with_live_video(mut self, live: std::sync::Arc<dyn LiveVideo>) -> App {
        self.live_video = Some(live);
        self
    }

    /// The live-video implementation, when set.
    pub fn live_video(&self) -> Option<&std::sync::Arc<dyn LiveVideo>> {
        self.live_video.as_ref()
    }

    /// A camera in the caller's scope that can be played, or why not.
    async fn live_camera(&self, who: &Principal, device_id: i64) -> AppResult<DeviceRow> {
        who.require(Permission::ReadDevices)?;
        let mut tx = self.store.read().await?;
        let device = tx
            .device(device_id)
            .await?
            .filter(|d| d.community_id.is_some_and(|c| who.scope.has_community(c)) || who.scope.all)
            .ok_or(AppError::NotFound { entity: "device" })?;
        if !playable(&device) {
            return Err(AppError::invalid(
                "not_a_video_camera",
                "device_id",
                "live video is for GB/T 28181 video cameras",
            ));
        }
        if self.live_video.is_none() {
            return Err(AppError::Unavailable {
                code: "live_video_unavailable",
                message: "GB/T 28181 video networking is not running".into(),
            });
        }
        Ok(device)
    }

    /// A single-use ticket to watch camera `device_id` live, good for [`TICKET_TTL_MS`].
    pub async fn live_ticket(&self, who: &Principal, device_id: i64) -> AppResult<LiveTicket> {
        self.live_camera(who, device_id).await?;
        let now = self.clock.now_ms();
        let ticket = anfang_base::random_password(32);
        let expires_at = now + TICKET_TTL_MS;
        let mut tickets = self.live_tickets.tickets.lock().unwrap();
        tickets.retain(|_, t| t.expires_at > now);
        if tickets.len() >= MAX_TICKETS
            && let Some(oldest) = tickets
                .iter()
                .min_by_key(|(_, t)| t.expires_at)
                .map(|(k, _)| k.clone())
        {
            tickets.remove(&oldest);
        }
        tickets.insert(
            ticket.clone(),
            Ticket {
                who: who.clone(),
                device_id,
                expires_at,
            },
        );
        Ok(LiveTicket { ticket, expires_at })
    }

    /// Whether `ticket` is good for `device_id` now (without taking it).
    pub fn check_live_ticket(&self, ticket: &str, device_id: i64) -> AppResult<()> {
        let now = self.clock.now_ms();
        match self.live_tickets.tickets.lock().unwrap().get(ticket) {
            Some(t) if t.device_id == device_id && t.expires_at > now => Ok(()),
            _ => Err(AppError::Unauthenticated),
        }
    }

    /// Takes a ticket for `device_id` (once) and joins the camera's live stream; audited as
    /// `video.live_view` by the ticket's holder.
    pub async fn live_watch(&self, ticket: &str, device_id: i64) -> AppResult<LiveWatch> {
        let now = self.clock.now_ms();
        let taken = self.live_tickets.tickets.lock().unwrap().remove(ticket);
        let who = match taken {
            Some(t) if t.device_id == device_id && t.expires_at > now => t.who,
            _ => return Err(AppError::Unauthenticated),
        };
        let camera = self.live_camera(&who, device_id).await?;
        self.audit_now(
            &who.actor(),
            "video.live_view",
            &format!("device:{device_id}"),
            json!({"code": camera.code, "name": camera.name, "community_id": camera.community_id}),
        )
        .await?;
        let live = self.live_video.clone().ok_or(AppError::Unavailable {
            code: "live_video_unavailable",
            message: "GB/T 28181 video networking is not running".into(),
        })?;
        live.watch(&camera).await.map_err(|e| match e {
            LiveVideoError::Offline => AppError::Unavailable {
                code: "camera_offline",
                message: e.to_string(),
            },
            LiveVideoError::Failed(_) => AppError::Unavailable {
                code: "camera_no_stream",
                message: e.to_string(),
            },
        })
    }
}
