//! Live video of a camera in the browser (`/api/v1/video/cameras/{device_id}/…`).
//!
//! Browsers cannot put `Authorization` on a WebSocket, so watching takes two steps: `POST
//! …/live-ticket` with the bearer token answers a single-use ticket good for 30 s (scope-checked
//! like any device read), then `GET …/live?ticket=…` upgrades to a WebSocket that sends one text
//! message `{"mime": "video/mp4; codecs=\"avc1.PPCCLL\""}` and then binary fragmented MP4: the
//! init segment, then `moof`+`mdat` fragments starting at a key frame — what Media Source
//! Extensions append as they come. Closing the socket leaves the stream; the last viewer leaving
//! ends it. Watching is audited (`video.live_view`).
//!
//! Invariant: the ticket is checked, and the stream started, before the upgrade: a refused
//! watch is an ordinary JSON error (401 bad ticket, 404 out of scope, 503 camera offline).

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::handlers::{Path, Query};
use crate::{ApiError, ApiState, ErrorBody};
use anfang_app::video_live::LiveWatch;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/video/cameras/{device_id}/live-ticket", post(live_ticket))
        .route("/video/cameras/{device_id}/live", get(live))
}

/// A single-use ticket to watch a camera.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveTicketDto {
    /// Pass as `?ticket=` to the live endpoint, once, within 30 s.
    pub ticket: String,
    /// When it stops being good (RFC 3339).
    pub expires_at: String,
    /// The WebSocket path to open (relative to the server).
    pub path: String,
}

/// The live endpoint's query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct LiveQuery {
    /// The ticket from `live-ticket`.
    pub ticket: String,
}

/// A single-use, 30-second ticket to watch a GB/T 28181 camera live (the caller's scope).
#[utoipa::path(post, path = "/api/v1/video/cameras/{device_id}/live-ticket", tag = "video", security(("bearer" = [])),
    params(("device_id" = i64, Path, description = "The camera's device id")),
    responses((status = 201, body = LiveTicketDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn live_ticket(
    State(s): State<ApiState>,
    c: Caller,
    Path(device_id): Path<i64>,
) -> ApiResult<(StatusCode, Json<LiveTicketDto>)> {
    let t = s.app.live_ticket(&c.principal, device_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(LiveTicketDto {
            path: format!("/api/v1/video/cameras/{device_id}/live?ticket={}", t.ticket),
            ticket: t.ticket,
            expires_at: crate::dto::rfc3339(t.expires_at),
        }),
    ))
}

/// Live video as fragmented MP4 over a WebSocket: a text message with the MIME type, then binary
/// init segment and fragments. Authenticated by the ticket (no bearer header).
#[utoipa::path(get, path = "/api/v1/video/cameras/{device_id}/live", tag = "video",
    params(("device_id" = i64, Path, description = "The camera's device id"), LiveQuery),
    responses((status = 101, description = "WebSocket: {\"mime\"} then binary fMP4"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn live(
    State(s): State<ApiState>,
    Path(device_id): Path<i64>,
    Query(q): Query<LiveQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if let Err(e) = s.app.check_live_ticket(&q.ticket, device_id) {
        return ApiError::from(e).into_response();
    }
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(e) => {
            return ApiError::new(StatusCode::BAD_REQUEST, "websocket_required", e.body_text())
                .into_response();
        }
    };
    let watch = match s.app.live_watch(&q.ticket, device_id).await {
        Ok(w) => w,
        Err(e) => return ApiError::from(e).into_response(),
    };
    metrics::counter!("anfang_video_live_viewers_total").increment(1);
    upgrade.on_upgrade(move |socket| send(socket, watch))
}

async fn send(mut socket: WebSocket, mut watch: LiveWatch) {
    let hello = serde_json::json!({ "mime": watch.mime }).to_string();
    if socket.send(Message::Text(hello.into())).await.is_err()
        || socket
            .send(Message::Binary(std::mem::take(&mut watch.init).into()))
            .await
            .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            fragment = watch.fragments.recv() => match fragment {
                Some(bytes) => {
                    if socket.send(Message::Binary(bytes.into())).await.is_err() {
                        return;
                    }
                }
                None => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
