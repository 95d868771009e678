//! HTTP push for devices: `POST /api/v1/device-push/events` with a protocol message as the body,
//! authenticated per device by an HMAC-SHA256 signature over the timestamp and body
//! (`X-Anfang-Device`, `X-Anfang-Timestamp`, `X-Anfang-Signature`); the response body is the
//! protocol's ack, carrying the command to execute. See `docs/ref/device-protocol.md`.

use crate::{ApiError, ApiState};
use anfang_pipeline::{GatewayError, PipelineError};
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The largest body accepted: the protocol's payload limit plus room for nothing else.
pub const PUSH_BODY_LIMIT: usize = anfang_protocol::MAX_PAYLOAD_BYTES;

fn refuse(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    metrics::counter!("anfang_device_rejected_total", "reason" => code.to_string()).increment(1);
    ApiError::new(status, code, message).into_response()
}

fn ack_response(status: StatusCode, ack: &anfang_protocol::Ack) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], ack.encode()).into_response()
}

/// Checks a device's signature headers over `signed` (the body of a push, the path of a
/// fetch); a refusal is counted, and audited when a registered device's code signed wrongly.
async fn authenticate(
    s: &ApiState,
    headers: &HeaderMap,
    signed: &[u8],
) -> Result<anfang_app::store::DeviceRow, Response> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let (Some(code), Some(timestamp), Some(signature)) = (
        header(anfang_protocol::HEADER_DEVICE),
        header(anfang_protocol::HEADER_TIMESTAMP),
        header(anfang_protocol::HEADER_SIGNATURE),
    ) else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "missing_device_auth",
            "send X-Anfang-Device, X-Anfang-Timestamp and X-Anfang-Signature",
        ));
    };
    let Ok(timestamp) = timestamp.parse::<i64>() else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "stale_timestamp",
            "X-Anfang-Timestamp is Unix time in milliseconds",
        ));
    };
    let (device, secret) = match s.app.device_credentials(code).await {
        Ok(found) => found,
        Err(anfang_app::AppError::NotFound { .. }) => {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "unknown_device",
                "no device with this code is registered",
            ));
        }
        Err(e) => return Err(ApiError::from(e).into_response()),
    };
    let now = s.app.clock().now_ms();
    if let Err(e) = anfang_protocol::verify(
        secret.as_bytes(),
        timestamp,
        signed,
        signature,
        now,
        anfang_protocol::DEFAULT_MAX_SKEW_MS,
    ) {
        // A wrong signature from a registered device's code is security-relevant: audit it.
        let detail = serde_json::json!({"error": e.code()});
        if let Err(audit_error) = s
            .app
            .audit_now(
                &format!("device:{code}"),
                "device.auth_failed",
                &format!("device:{code}"),
                detail,
            )
            .await
        {
            tracing::warn!(error = %audit_error, "could not audit a failed device authentication");
        }
        return Err(refuse(StatusCode::UNAUTHORIZED, e.code(), e.to_string()));
    }
    Ok(device)
}

/// Receive one device message.
#[utoipa::path(post, path = "/api/v1/device-push/events", tag = "devices",
    params(
        ("X-Anfang-Device" = String, Header, description = "The device's 20-digit code"),
        ("X-Anfang-Timestamp" = i64, Header, description = "Unix time in ms"),
        ("X-Anfang-Signature" = String, Header, description = "hex HMAC-SHA256(secret, timestamp + \"\\n\" + body)"),
    ),
    request_body(content = String, content_type = "application/json", description = "A device protocol v1 up message"),
    responses(
        (status = 200, description = "The ack (stored or duplicate), with a command"),
        (status = 400, description = "A rejected ack, or an error"),
        (status = 401, body = crate::ErrorBody, description = "Unknown device, bad or stale signature"),
        (status = 413, body = crate::ErrorBody),
        (status = 503, body = crate::ErrorBody, description = "Busy: retry after the given seconds"),
    ))]
pub async fn device_push(
    State(s): State<ApiState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let device = match authenticate(&s, &headers, &body).await {
        Ok(device) => device,
        Err(refusal) => return refusal,
    };
    let code = device.code.as_str();
    let barrier = device.kind == "barrier_gate";
    match s.pipeline.handle_up(code, &body, barrier).await {
        Ok(ack) if ack.status == anfang_protocol::AckStatus::Rejected => {
            ack_response(StatusCode::BAD_REQUEST, &ack)
        }
        Ok(ack) => ack_response(StatusCode::OK, &ack),
        Err(GatewayError::Protocol(e)) => refuse(StatusCode::BAD_REQUEST, e.code(), e.to_string()),
        Err(e @ GatewayError::DeviceMismatch { .. }) => {
            refuse(StatusCode::BAD_REQUEST, "device_mismatch", e.to_string())
        }
        Err(GatewayError::Pipeline(PipelineError::Busy)) => {
            let mut response = refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the platform is busy; resend shortly",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Err(GatewayError::Pipeline(PipelineError::Stopped)) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "stopping",
            "the platform is stopping; resend shortly",
        ),
        Err(GatewayError::Pipeline(PipelineError::App(e))) => ApiError::from(e).into_response(),
    }
}

/// A terminal fetches the enrolled photo of a person in its library (the `face` credential's
/// value is the photo's SHA-256). Signed like a push, over the request path instead of a body.
#[utoipa::path(get, path = "/api/v1/device-push/faces/{person_ref}", tag = "devices",
    params(
        ("person_ref" = String, Path, description = "The person's reference in the library"),
        ("X-Anfang-Device" = String, Header, description = "The device's 20-digit code"),
        ("X-Anfang-Timestamp" = i64, Header, description = "Unix time in ms"),
        ("X-Anfang-Signature" = String, Header, description = "hex HMAC-SHA256(secret, timestamp + \"\\n\" + path)"),
    ),
    responses(
        (status = 200, description = "The photo (image/jpeg or image/png)"),
        (status = 401, body = crate::ErrorBody, description = "Unknown device, bad or stale signature"),
        (status = 404, body = crate::ErrorBody, description = "No photo this device may hold"),
    ))]
pub async fn device_face(
    State(s): State<ApiState>,
    headers: HeaderMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    axum::extract::Path(person_ref): axum::extract::Path<String>,
) -> Response {
    let device = match authenticate(&s, &headers, uri.path().as_bytes()).await {
        Ok(device) => device,
        Err(refusal) => return refusal,
    };
    match s.app.device_face_photo(&device.code, &person_ref).await {
        Ok((bytes, format)) => {
            let content_type = if format == "png" {
                "image/png"
            } else {
                "image/jpeg"
            };
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
