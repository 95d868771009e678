//! GA/T 1400 (视图库) server side, System part: capture cameras and lower platforms register
//! with HTTP Digest (`/VIID/System/Register`), keep alive, unregister and read the time. The
//! digest password is the device's secret, looked up by its 20-digit DeviceID (from the body
//! or `User-Identify`), never by the digest username. A peer that is not registered (or whose
//! registration expired after five minutes without a successful request) gets 401 with a fresh
//! challenge, so it registers again. The protocol logic is in `anfang-gat1400`; this module
//! only speaks HTTP.

use crate::ApiState;
use anfang_gat1400::objects::{self, ObjectKind};
use anfang_gat1400::{Challenge, Credentials, Registrations, StatusCode, Verdict};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode as Http, header};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};

/// How long a registration lives without a successful request (the standard's "一般为5分钟").
pub const VALIDITY_MS: i64 = 300_000;
/// How long a nonce may be used.
pub const NONCE_TTL_MS: i64 = 600_000;
/// Our VIID id until configuration names one: district 370323, type 503 (视图库).
pub const DEFAULT_SERVER_ID: &str = "37032300005030000001";
/// The content type VIID peers expect.
const VIID_JSON: &str = "application/VIID+JSON;charset=UTF-8";

/// The server side's state: our VIID id (the digest realm) and the registration table.
#[derive(Debug)]
pub struct ViidServer {
    /// Our 20-digit VIID server id.
    pub server_id: String,
    registrations: Mutex<Registrations>,
    /// Upload batches being stored at once, at most (capture uploads bypass the device event
    /// pipeline's queue, so they are bounded here: beyond it a peer is told to retry).
    uploads: tokio::sync::Semaphore,
}

/// Upload batches stored at once by default.
pub const DEFAULT_UPLOADS_IN_FLIGHT: usize = 64;

impl ViidServer {
    /// A server with this id.
    pub fn new(server_id: &str) -> Arc<ViidServer> {
        Self::with_upload_limit(server_id, DEFAULT_UPLOADS_IN_FLIGHT)
    }

    /// A server with this id storing at most `uploads` batches at once.
    pub fn with_upload_limit(server_id: &str, uploads: usize) -> Arc<ViidServer> {
        Arc::new(ViidServer {
            server_id: server_id.to_string(),
            registrations: Mutex::new(Registrations::new(VALIDITY_MS, NONCE_TTL_MS)),
            uploads: tokio::sync::Semaphore::new(uploads.max(1)),
        })
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Registrations> {
        self.registrations.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The peers registered now, with their expiry (ms).
    pub fn registered(&self, now_ms: i64) -> Vec<(String, i64)> {
        self.table().registered(now_ms)
    }
}

fn json(status: Http, value: serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, VIID_JSON)], value.to_string()).into_response()
}

fn refused(reason: &'static str) {
    metrics::counter!("anfang_viid_refused_total", "reason" => reason).increment(1);
}

/// A 401 with a fresh challenge (remembered, so the answer can be checked).
fn challenge(s: &ApiState, url: &str, device: &str) -> Response {
    let now = s.app.clock().now_ms();
    let nonce = hex::encode(anfang_base::random_bytes(16));
    let opaque = hex::encode(anfang_base::random_bytes(8));
    s.viid.table().issue_nonce(&nonce, now);
    let header = Challenge {
        realm: s.viid.server_id.clone(),
        nonce,
        opaque,
    }
    .header();
    let body =
        anfang_gat1400::response_status(url, StatusCode::InvalidOperation, "未注册或认证失败", device, now);
    let mut response = json(Http::UNAUTHORIZED, body);
    if let Ok(value) = HeaderValue::from_str(&header) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The DeviceID of a System request: from its object, else from `User-Identify`.
fn device_of(headers: &HeaderMap, body: &[u8], object: &str) -> Result<String, anfang_gat1400::SystemError> {
    match anfang_gat1400::device_id_of(body, object) {
        Ok(id) => Ok(id),
        Err(e) => headers
            .get("user-identify")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|id| id.len() == 20 && id.bytes().all(|b| b.is_ascii_digit()))
            .map(String::from)
            .ok_or(e),
    }
}

/// Checks the request's Digest authorization for `device`: our live nonce, the device's
/// secret. A wrong answer from a registered device's id is audited.
async fn digest_ok(s: &ApiState, headers: &HeaderMap, method: &str, device: &str) -> bool {
    let Some(credentials) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Credentials::parse(v).ok())
    else {
        return false;
    };
    let now = s.app.clock().now_ms();
    if !s.viid.table().nonce_is_live(&credentials.nonce, now) {
        refused("stale_nonce");
        return false;
    }
    let Ok((_, secret)) = s.app.device_credentials(device).await else {
        refused("unknown_device");
        return false;
    };
    if let Err(e) = credentials.verify(method, &secret) {
        refused(e.code());
        let detail = serde_json::json!({"error": e.code(), "protocol": "gat1400"});
        if let Err(audit_error) = s
            .app
            .audit_now(
                &format!("device:{device}"),
                "device.auth_failed",
                &format!("device:{device}"),
                detail,
            )
            .await
        {
            tracing::warn!(error = %audit_error, "could not audit a failed VIID authentication");
        }
        return false;
    }
    true
}

fn bad_body(url: &str, e: &anfang_gat1400::SystemError, now: i64) -> Response {
    refused("bad_system_body");
    json(
        Http::BAD_REQUEST,
        anfang_gat1400::response_status(url, StatusCode::InvalidJsonContent, &e.to_string(), "", now),
    )
}

/// `POST /VIID/System/Register`.
pub async fn register(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    const URL: &str = "/VIID/System/Register";
    let now = s.app.clock().now_ms();
    let device = match device_of(&headers, &body, "RegisterObject") {
        Ok(d) => d,
        Err(e) => return bad_body(URL, &e, now),
    };
    if !digest_ok(&s, &headers, "POST", &device).await {
        return challenge(&s, URL, &device);
    }
    s.viid.table().register(&device, now);
    metrics::counter!("anfang_viid_registrations_total").increment(1);
    tracing::info!(device, "VIID peer registered");
    json(
        Http::OK,
        anfang_gat1400::response_status(URL, StatusCode::Ok, "注册成功", &device, now),
    )
}

/// Lets a request through when its peer is registered (refreshing it), or when it carries a
/// valid digest (newer Hikvision devices sign any request after reconnecting).
async fn admitted(s: &ApiState, headers: &HeaderMap, method: &str, device: &str) -> bool {
    let now = s.app.clock().now_ms();
    if s.viid.table().touch(device, now) == Verdict::Registered {
        return true;
    }
    if digest_ok(s, headers, method, device).await {
        s.viid.table().register(device, now);
        return true;
    }
    false
}

/// `POST /VIID/System/Keepalive`.
pub async fn keepalive(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    const URL: &str = "/VIID/System/Keepalive";
    let now = s.app.clock().now_ms();
    let device = match device_of(&headers, &body, "KeepaliveObject") {
        Ok(d) => d,
        Err(e) => return bad_body(URL, &e, now),
    };
    if !admitted(&s, &headers, "POST", &device).await {
        return challenge(&s, URL, &device);
    }
    json(
        Http::OK,
        anfang_gat1400::response_status(URL, StatusCode::Ok, "保活成功", &device, now),
    )
}

/// `POST /VIID/System/UnRegister`.
pub async fn unregister(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    const URL: &str = "/VIID/System/UnRegister";
    let now = s.app.clock().now_ms();
    let device = match device_of(&headers, &body, "UnRegisterObject") {
        Ok(d) => d,
        Err(e) => return bad_body(URL, &e, now),
    };
    if !admitted(&s, &headers, "POST", &device).await {
        return challenge(&s, URL, &device);
    }
    s.viid.table().unregister(&device);
    tracing::info!(device, "VIID peer unregistered");
    json(
        Http::OK,
        anfang_gat1400::response_status(URL, StatusCode::Ok, "注销成功", &device, now),
    )
}

/// `GET /VIID/System/Time`: our time, for peers to synchronise (no registration needed).
pub async fn time(State(s): State<ApiState>) -> Response {
    let now = s.app.clock().now_ms();
    json(Http::OK, anfang_gat1400::system_time(&s.viid.server_id, now))
}

/// The largest upload body (after gzip decompression): batches of objects with images.
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

/// The peer of an upload: `User-Identify`, which must be registered (or sign the request).
async fn uploader(s: &ApiState, headers: &HeaderMap, url: &str) -> Result<String, Response> {
    let Some(peer) = headers
        .get("user-identify")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(String::from)
    else {
        refused("no_user_identify");
        return Err(challenge(s, url, ""));
    };
    if admitted(s, headers, "POST", &peer).await {
        Ok(peer)
    } else {
        refused("not_registered");
        Err(challenge(s, url, &peer))
    }
}

/// One status per object, in upload order.
fn status_list(url: &str, statuses: Vec<(String, StatusCode, String)>, now: i64) -> Response {
    let items: Vec<serde_json::Value> = statuses
        .into_iter()
        .map(|(id, code, text)| {
            anfang_gat1400::response_status(url, code, &text, &id, now)["ResponseStatusObject"].clone()
        })
        .collect();
    json(
        Http::OK,
        serde_json::json!({"ResponseStatusListObject": {"ResponseStatusObject": items}}),
    )
}

/// A batch of capture objects: each read on its own (a bad one fails alone with its status),
/// the good ones stored together, one status per object.
async fn upload(
    s: ApiState,
    headers: HeaderMap,
    body: Bytes,
    kind: ObjectKind,
    url: &'static str,
) -> Response {
    let peer = match uploader(&s, &headers, url).await {
        Ok(peer) => peer,
        Err(refusal) => return refusal,
    };
    let now = s.app.clock().now_ms();
    // Overload: refuse at once (the peer keeps the batch and resends) instead of queueing
    // without bound; nothing refused was stored, nothing acknowledged is lost.
    let Ok(_permit) = s.viid.uploads.try_acquire() else {
        refused("busy");
        let body =
            anfang_gat1400::response_status(url, StatusCode::DeviceBusy, "系统繁忙，请稍后重传", &peer, now);
        let mut response = json(Http::SERVICE_UNAVAILABLE, body);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    let parsed: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            refused("bad_json");
            let body =
                anfang_gat1400::response_status(url, StatusCode::InvalidJsonFormat, &e.to_string(), "", now);
            return json(Http::BAD_REQUEST, body);
        }
    };
    let items = match objects::read_batch_value(kind, parsed) {
        Ok(items) => items,
        Err(e) => {
            refused("bad_batch");
            let body = anfang_gat1400::response_status(url, StatusCode::InvalidJsonContent, &e.0, "", now);
            return json(Http::BAD_REQUEST, body);
        }
    };
    let mut statuses: Vec<(String, StatusCode, String)> = Vec::with_capacity(items.len());
    let mut batch = Vec::new();
    let mut positions = Vec::new();
    for (i, (id, item)) in items.into_iter().enumerate() {
        match item {
            Ok(object) => {
                for deviation in &object.deviations {
                    metrics::counter!("anfang_viid_deviations_total", "kind" => *deviation).increment(1);
                }
                statuses.push((object.record_id.clone(), StatusCode::Ok, "OK".into()));
                positions.push(i);
                batch.push(anfang_app::captures::NewCapture {
                    kind: kind.as_str(),
                    camera_code: object.device_id.clone(),
                    record_id: object.record_id,
                    shot_at_ms: object.shot_at_ms,
                    plate: object.plate,
                    event: object.event,
                    attributes_json: object.attributes.to_string(),
                    images: object.images.into_iter().map(|i| i.bytes).collect(),
                    content_hash: object.content_hash,
                });
            }
            Err(e) => {
                refused("bad_object");
                statuses.push((id, StatusCode::InvalidJsonContent, e.0));
            }
        }
    }
    if !batch.is_empty() {
        match s.app.ingest_captures(&peer, &batch).await {
            Ok(outcomes) => {
                for (pos, outcome) in positions.iter().zip(outcomes) {
                    if outcome == anfang_app::captures::CaptureOutcome::Duplicate {
                        statuses[*pos].2 = "OK (duplicate)".into();
                    }
                }
            }
            Err(e) => {
                tracing::warn!(peer, error = %e, "VIID batch not stored");
                for pos in positions {
                    statuses[pos].1 = StatusCode::DeviceError;
                    statuses[pos].2 = "not stored; resend".into();
                }
            }
        }
    }
    status_list(url, statuses, now)
}

/// `POST /VIID/Faces`.
pub async fn faces(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    upload(s, headers, body, ObjectKind::Face, "/VIID/Faces").await
}

/// `POST /VIID/Persons`.
pub async fn persons(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    upload(s, headers, body, ObjectKind::Person, "/VIID/Persons").await
}

/// `POST /VIID/MotorVehicles`.
pub async fn motor_vehicles(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    upload(s, headers, body, ObjectKind::MotorVehicle, "/VIID/MotorVehicles").await
}

/// `POST /VIID/NonMotorVehicles`.
pub async fn non_motor_vehicles(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    upload(
        s,
        headers,
        body,
        ObjectKind::NonMotorVehicle,
        "/VIID/NonMotorVehicles",
    )
    .await
}

/// `POST /VIID/Images`: pictures with their `ImageInfo`, stored as capture records of kind
/// `image`.
pub async fn images(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    upload(s, headers, body, ObjectKind::Image, "/VIID/Images").await
}

/// A camera counts as online when heard from within this long.
const APE_ONLINE_MS: i64 = 300_000;

/// `GET /VIID/APEs`: our capture cameras as `APEListObject`, with `IsOnline`.
pub async fn apes(State(s): State<ApiState>, headers: HeaderMap) -> Response {
    const URL: &str = "/VIID/APEs";
    if let Err(refusal) = uploader(&s, &headers, URL).await {
        return refusal;
    }
    let cameras = match s.app.viid_cameras(APE_ONLINE_MS).await {
        Ok(c) => c,
        Err(e) => return crate::ApiError::from(e).into_response(),
    };
    let list: Vec<serde_json::Value> = cameras
        .into_iter()
        .map(|(d, online)| {
            serde_json::json!({
                "ApeID": d.code,
                "Name": d.name,
                "Model": d.kind,
                "Longitude": d.x,
                "Latitude": d.y,
                "IsOnline": if online { "1" } else { "2" },
            })
        })
        .collect();
    json(
        Http::OK,
        serde_json::json!({"APEListObject": {"APEObject": list}}),
    )
}

/// `POST`/`PUT /VIID/APEs`: a lower platform reports its cameras (`APEObject` with
/// `IsOnline`, `1` online); known cameras reported online count as heard from, unknown ones
/// are answered 4 (not registered here).
pub async fn report_apes(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    const URL: &str = "/VIID/APEs";
    if let Err(refusal) = uploader(&s, &headers, URL).await {
        return refusal;
    }
    let now = s.app.clock().now_ms();
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            refused("bad_json");
            let body =
                anfang_gat1400::response_status(URL, StatusCode::InvalidJsonFormat, &e.to_string(), "", now);
            return json(Http::BAD_REQUEST, body);
        }
    };
    let objects = match &value["APEListObject"]["APEObject"] {
        serde_json::Value::Array(a) => a.clone(),
        single @ serde_json::Value::Object(_) => vec![single.clone()],
        _ => {
            refused("bad_batch");
            let body = anfang_gat1400::response_status(
                URL,
                StatusCode::InvalidJsonContent,
                "APEListObject.APEObject is missing",
                "",
                now,
            );
            return json(Http::BAD_REQUEST, body);
        }
    };
    let reports: Vec<(String, bool)> = objects
        .iter()
        .map(|o| {
            let id = o["ApeID"].as_str().unwrap_or_default().trim().to_string();
            let online = matches!(&o["IsOnline"], serde_json::Value::String(v) if v.trim() == "1")
                || o["IsOnline"] == serde_json::json!(1);
            (id, online)
        })
        .collect();
    let known = match s.app.report_camera_status(&reports).await {
        Ok(k) => k,
        Err(e) => return crate::ApiError::from(e).into_response(),
    };
    let statuses = reports
        .into_iter()
        .zip(known)
        .map(|((id, _), known)| {
            if known {
                (id, StatusCode::Ok, "OK".to_string())
            } else {
                (
                    id,
                    StatusCode::InvalidOperation,
                    "not registered here".to_string(),
                )
            }
        })
        .collect();
    status_list(URL, statuses, now)
}

/// The target whose superior makes this call: `User-Identify` names a configured superior and
/// the request carries a valid Digest answer with that target's password (else 401 with a
/// challenge, as for any VIID peer).
async fn superior(s: &ApiState, headers: &HeaderMap, method: &str, url: &str) -> Result<String, Response> {
    let caller = headers
        .get("user-identify")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    let Some(target) = s.app.superior(&caller) else {
        refused("unknown_superior");
        return Err(challenge(s, url, &caller));
    };
    let now = s.app.clock().now_ms();
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Credentials::parse(v).ok());
    let Some(credentials) = credentials else {
        return Err(challenge(s, url, &caller));
    };
    if !s.viid.table().nonce_is_live(&credentials.nonce, now) {
        refused("stale_nonce");
        return Err(challenge(s, url, &caller));
    }
    if let Err(e) = credentials.verify(method, &target.password) {
        refused(e.code());
        return Err(challenge(s, url, &caller));
    }
    Ok(target.name.clone())
}

fn bad_json(url: &str, e: &dyn std::fmt::Display, now: i64) -> Response {
    refused("bad_json");
    json(
        Http::BAD_REQUEST,
        anfang_gat1400::response_status(url, StatusCode::InvalidJsonFormat, &e.to_string(), "", now),
    )
}

fn bad_content(url: &str, e: &str, now: i64) -> Response {
    refused("bad_batch");
    json(
        Http::BAD_REQUEST,
        anfang_gat1400::response_status(url, StatusCode::InvalidJsonContent, e, "", now),
    )
}

/// The status of a cancellation or revocation: done, no such thing, or not stored.
fn settled(result: anfang_app::AppResult<bool>, done: &str, missing: &str) -> (StatusCode, String) {
    match result {
        Ok(true) => (StatusCode::Ok, done.into()),
        Ok(false) => (StatusCode::InvalidOperation, missing.into()),
        Err(e) => failed(&e),
    }
}

fn failed(e: &anfang_app::AppError) -> (StatusCode, String) {
    tracing::warn!(error = %e, "a superior's request was not stored");
    (StatusCode::DeviceError, "not stored; resend".into())
}

/// `POST /VIID/Subscribes`: the superior subscribes (or cancels with `OperateType` 1); one
/// status per `SubscribeID`.
pub async fn subscribe(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    const URL: &str = "/VIID/Subscribes";
    let target = match superior(&s, &headers, "POST", URL).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let now = s.app.clock().now_ms();
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_json(URL, &e, now),
    };
    let items = match anfang_gat1400::cascade::list_items(&value, "SubscribeListObject", "SubscribeObject") {
        Ok(items) => items,
        Err(e) => return bad_content(URL, &e.0, now),
    };
    let mut statuses = Vec::with_capacity(items.len());
    for item in &items {
        let id = item["SubscribeID"].as_str().unwrap_or_default().to_string();
        let status = match anfang_gat1400::cascade::read_subscription(item) {
            Err(e) => {
                refused("bad_subscription");
                (StatusCode::InvalidJsonContent, e.0)
            }
            Ok(sub) if sub.cancels => settled(
                s.app.cancel_subscription(&target, &sub.id).await,
                "已取消",
                "no such subscription",
            ),
            Ok(sub) => {
                let window = (sub.begin_ms, sub.end_ms);
                match s
                    .app
                    .place_subscription(&target, &sub.id, 0, window, &item.to_string())
                    .await
                {
                    Ok(()) => (StatusCode::Ok, "OK".into()),
                    Err(e) => failed(&e),
                }
            }
        };
        statuses.push((id, status.0, status.1));
    }
    status_list(URL, statuses, now)
}

/// `GET /VIID/Subscribes`: the superior's subscriptions with their status.
pub async fn subscriptions(State(s): State<ApiState>, headers: HeaderMap) -> Response {
    const URL: &str = "/VIID/Subscribes";
    let target = match superior(&s, &headers, "GET", URL).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let rows = match s.app.subscriptions(&target).await {
        Ok(rows) => rows,
        Err(e) => return crate::ApiError::from(e).into_response(),
    };
    let list: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            let mut object: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            object["SubscribeID"] = r.subscribe_id.into();
            object["SubscribeStatus"] = r.status.into();
            object
        })
        .collect();
    json(
        Http::OK,
        serde_json::json!({"SubscribeListObject": {"SubscribeObject": list}}),
    )
}

/// `PUT /VIID/Subscribes/{id}`: cancels (`OperateType` 1, as peers do) or replaces one.
pub async fn update_subscription(
    State(s): State<ApiState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let url = format!("/VIID/Subscribes/{id}");
    let target = match superior(&s, &headers, "PUT", &url).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let now = s.app.clock().now_ms();
    let value: serde_json::Value = if body.is_empty() {
        serde_json::json!({"OperateType": 1})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return bad_json(&url, &e, now),
        }
    };
    let mut object = value.get("SubscribeObject").cloned().unwrap_or(value);
    object["SubscribeID"] = id.clone().into();
    let status = match anfang_gat1400::cascade::read_subscription(&object) {
        Err(e) => (StatusCode::InvalidJsonContent, e.0),
        Ok(sub) if sub.cancels => settled(
            s.app.cancel_subscription(&target, &id).await,
            "已取消",
            "no such subscription",
        ),
        Ok(sub) => match s
            .app
            .place_subscription(&target, &id, 0, (sub.begin_ms, sub.end_ms), &object.to_string())
            .await
        {
            Ok(()) => (StatusCode::Ok, "OK".into()),
            Err(e) => failed(&e),
        },
    };
    json(
        Http::OK,
        anfang_gat1400::response_status(&url, status.0, &status.1, &id, now),
    )
}

/// The ids of `?IDList=a,b`.
fn id_list(query: &std::collections::HashMap<String, String>) -> Vec<String> {
    query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("IDList"))
        .map(|(_, v)| {
            v.split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// `DELETE /VIID/Subscribes?IDList=…`: cancels each.
pub async fn delete_subscriptions(
    State(s): State<ApiState>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    const URL: &str = "/VIID/Subscribes";
    let target = match superior(&s, &headers, "DELETE", URL).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let now = s.app.clock().now_ms();
    let mut statuses = Vec::new();
    for id in id_list(&query) {
        let status = settled(
            s.app.cancel_subscription(&target, &id).await,
            "已取消",
            "no such subscription",
        );
        statuses.push((id, status.0, status.1));
    }
    status_list(URL, statuses, now)
}

/// `POST /VIID/Dispositions`: the superior's dispositions (布控) go on the police watch-list;
/// `OperateType` 1 revokes (撤控). One status per `DispositionID`.
pub async fn dispositions(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    const URL: &str = "/VIID/Dispositions";
    let target = match superior(&s, &headers, "POST", URL).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let now = s.app.clock().now_ms();
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_json(URL, &e, now),
    };
    let items =
        match anfang_gat1400::cascade::list_items(&value, "DispositionListObject", "DispositionObject") {
            Ok(items) => items,
            Err(e) => return bad_content(URL, &e.0, now),
        };
    let mut statuses = Vec::with_capacity(items.len());
    for item in items {
        let id = item["DispositionID"].as_str().unwrap_or_default().to_string();
        let status = match anfang_gat1400::cascade::read_disposition(&item) {
            Err(e) => {
                refused("bad_disposition");
                (StatusCode::InvalidJsonContent, e.0)
            }
            Ok(d) if d.revokes => settled(
                s.app.revoke_disposition(&target, &d.id).await,
                "已撤控",
                "no such disposition",
            ),
            Ok(d) => {
                let mut map = item.as_object().cloned().unwrap_or_default();
                match objects::take_images(&mut map) {
                    Err(e) => (StatusCode::InvalidJsonContent, e.0),
                    Ok(images) => {
                        let new = anfang_app::cascade::NewDisposition {
                            external_id: d.id.clone(),
                            category: d.category.into(),
                            plate: d.plate.clone(),
                            title: d.title.clone(),
                            begin_ms: d.begin_ms,
                            end_ms: d.end_ms,
                            body: serde_json::Value::Object(map).to_string(),
                            images: images.into_iter().map(|i| i.bytes).collect(),
                        };
                        match s.app.receive_disposition(&target, &new).await {
                            Ok(_) => (StatusCode::Ok, "布控成功".into()),
                            Err(e) => failed(&e),
                        }
                    }
                }
            }
        };
        statuses.push((id, status.0, status.1));
    }
    status_list(URL, statuses, now)
}

/// `PUT /VIID/Dispositions/{id}` (撤控) and `DELETE /VIID/Dispositions/{id}`: revokes one.
pub async fn revoke_disposition(
    State(s): State<ApiState>,
    method: axum::http::Method,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let url = format!("/VIID/Dispositions/{id}");
    let target = match superior(&s, &headers, method.as_str(), &url).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let now = s.app.clock().now_ms();
    let status = settled(
        s.app.revoke_disposition(&target, &id).await,
        "已撤控",
        "no such disposition",
    );
    json(
        Http::OK,
        anfang_gat1400::response_status(&url, status.0, &status.1, &id, now),
    )
}

/// `DELETE /VIID/Dispositions?IDList=…`: revokes each.
pub async fn delete_dispositions(
    State(s): State<ApiState>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    const URL: &str = "/VIID/Dispositions";
    let target = match superior(&s, &headers, "DELETE", URL).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let now = s.app.clock().now_ms();
    let mut statuses = Vec::new();
    for id in id_list(&query) {
        let status = settled(
            s.app.revoke_disposition(&target, &id).await,
            "已撤控",
            "no such disposition",
        );
        statuses.push((id, status.0, status.1));
    }
    status_list(URL, statuses, now)
}

/// `GET /VIID/Pictures/{record}/{n}?expires=…&signature=…`: a capture picture sent upward by
/// link; the signed link is the credential (404 when forged or expired).
pub async fn picture(
    State(s): State<ApiState>,
    axum::extract::Path((record, n)): axum::extract::Path<(i64, usize)>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let expires = query.get("expires").and_then(|e| e.parse().ok()).unwrap_or(0);
    let signature = query.get("signature").map(String::as_str).unwrap_or_default();
    match s.app.linked_picture(record, n, expires, signature).await {
        Ok(Some(bytes)) => {
            let kind = if bytes.starts_with(b"\x89PNG") {
                "image/png"
            } else {
                "image/jpeg"
            };
            ([(header::CONTENT_TYPE, kind)], bytes).into_response()
        }
        Ok(None) => {
            refused("bad_picture_link");
            Http::NOT_FOUND.into_response()
        }
        Err(e) => crate::ApiError::from(e).into_response(),
    }
}

/// The `/VIID` routes: System, and uploads (gzip bodies accepted, at most [`UPLOAD_LIMIT`]).
pub(crate) fn routes() -> axum::Router<ApiState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/VIID/System/Register", post(register))
        .route("/VIID/System/Keepalive", post(keepalive))
        .route("/VIID/System/UnRegister", post(unregister))
        .route("/VIID/System/Time", get(time))
        .route("/VIID/Faces", post(faces))
        .route("/VIID/Persons", post(persons))
        .route("/VIID/MotorVehicles", post(motor_vehicles))
        .route("/VIID/NonMotorVehicles", post(non_motor_vehicles))
        .route("/VIID/Images", post(images))
        .route("/VIID/APEs", get(apes).post(report_apes).put(report_apes))
        .route(
            "/VIID/Subscribes",
            post(subscribe).get(subscriptions).delete(delete_subscriptions),
        )
        .route("/VIID/Subscribes/{id}", axum::routing::put(update_subscription))
        .route(
            "/VIID/Dispositions",
            post(dispositions).delete(delete_dispositions),
        )
        .route(
            "/VIID/Dispositions/{id}",
            axum::routing::put(revoke_disposition).delete(revoke_disposition),
        )
        .route("/VIID/Pictures/{record}/{n}", get(picture))
        .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT))
        .layer(tower_http::decompression::RequestDecompressionLayer::new())
}
