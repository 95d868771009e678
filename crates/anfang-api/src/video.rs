//! GB/T 28181 video networking over HTTP (`/api/v1/video/…`, `/api/v1/communities/{id}/video`):
//! per community in the caller's scope, how many GB devices are registered and how many
//! cameras are online now, and each device and camera with its state (registered, online, the
//! device whose catalogue lists it, peer address, transport, last keepalive, user agent).
//!
//! The state is the SIP side's presence table as it is now; nothing here is stored.

use crate::auth::Caller;
use crate::dto::{ItemsDto, rfc3339};
use crate::error::ApiResult;
use crate::handlers::{Path, Query};
use crate::{ApiState, ErrorBody};
use anfang_app::video::{CommunityVideo, VideoDevice};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/video/presence", get(presence))
        .route("/communities/{id}/video", get(community_video))
}

/// Which community, optionally.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PresenceParams {
    /// One community (default: every community in the caller's scope with GB devices).
    pub community_id: Option<i64>,
}

/// A community's video networking now.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityVideoDto {
    /// The community.
    pub community_id: i64,
    /// Its code.
    pub community_code: String,
    /// Its name.
    pub community_name: String,
    /// GB/T 28181 devices in the registry (NVRs, cameras, …).
    pub devices: u64,
    /// Of them registered over SIP now.
    pub registered: u64,
    /// Of them online now (themselves, or as an ON channel of an online device).
    pub online: u64,
    /// GB/T 28181 cameras in the registry.
    pub cameras: u64,
    /// Of them online now.
    pub cameras_online: u64,
}

impl From<&CommunityVideo> for CommunityVideoDto {
    fn from(c: &CommunityVideo) -> Self {
        CommunityVideoDto {
            community_id: c.community_id,
            community_code: c.code.clone(),
            community_name: c.name.clone(),
            devices: c.devices,
            registered: c.registered,
            online: c.online,
            cameras: c.cameras,
            cameras_online: c.cameras_online,
        }
    }
}

/// One GB/T 28181 device or camera with its state.
#[derive(Debug, Serialize, ToSchema)]
pub struct VideoDeviceDto {
    /// Registry id.
    pub id: i64,
    /// 20-digit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind (`nvr`, `video_camera`, …).
    pub kind: String,
    /// Registered over SIP itself.
    pub registered: bool,
    /// Online now.
    pub online: bool,
    /// The device whose catalogue lists it (an NVR), if any.
    pub parent: Option<String>,
    /// Its status in that catalogue: `ON` or `OFF`.
    pub channel_status: Option<String>,
    /// Where it is reached (when registered itself).
    pub peer: Option<String>,
    /// `udp` or `tcp`.
    pub transport: Option<String>,
    /// When it registered, RFC 3339.
    pub registered_at: Option<String>,
    /// Its last keepalive, RFC 3339.
    pub last_keepalive: Option<String>,
    /// Its `User-Agent`.
    pub user_agent: Option<String>,
    /// Last heard from (the store's `last_seen_at`, moved at most once a minute), RFC 3339.
    pub last_seen_at: Option<String>,
}

impl From<&VideoDevice> for VideoDeviceDto {
    fn from(v: &VideoDevice) -> Self {
        let p = v.state.presence.as_ref();
        VideoDeviceDto {
            id: v.device.id,
            code: v.device.code.clone(),
            name: v.device.name.clone(),
            kind: v.device.kind.clone(),
            registered: v.state.registered,
            online: v.state.online,
            parent: v.state.parent.clone(),
            channel_status: v
                .state
                .channel_on
                .map(|on| if on { "ON" } else { "OFF" }.to_string()),
            peer: p.and_then(|p| p.peer.clone()),
            transport: p.and_then(|p| p.transport.clone()),
            registered_at: p.and_then(|p| p.registered_at).map(rfc3339),
            last_keepalive: p.and_then(|p| p.last_keepalive).map(rfc3339),
            user_agent: p.and_then(|p| p.user_agent.clone()),
            last_seen_at: v.device.last_seen_at.map(rfc3339),
        }
    }
}

/// Registered GB devices and online cameras per community in scope.
#[utoipa::path(get, path = "/api/v1/video/presence", tag = "video", security(("bearer" = [])), params(PresenceParams),
    responses((status = 200, body = ItemsDto<CommunityVideoDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn presence(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<PresenceParams>,
) -> ApiResult<Json<ItemsDto<CommunityVideoDto>>> {
    let rows = s.app.video_communities(&c.principal, p.community_id).await?;
    Ok(Json(ItemsDto::of(rows.iter(), CommunityVideoDto::from)))
}

/// Each GB/T 28181 device and camera of one community with its state now.
#[utoipa::path(get, path = "/api/v1/communities/{id}/video", tag = "video", security(("bearer" = [])), params(("id" = i64, Path, description = "Community id")),
    responses((status = 200, body = ItemsDto<VideoDeviceDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn community_video(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ItemsDto<VideoDeviceDto>>> {
    let rows = s.app.community_video(&c.principal, id).await?;
    Ok(Json(ItemsDto::of(rows.iter(), VideoDeviceDto::from)))
}
