//! HTTP errors: one JSON shape (`{"error": {"code", "message", "field"}}`), one exhaustive
//! mapping from [`ErrorKind`] to status, and the rejections of malformed requests (bad JSON,
//! oversized bodies, bad query or path values) turned into precise 4xx answers and counted.

use anfang_app::AppError;
use anfang_base::ErrorKind;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The error body every failed request gets.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, public, snake_case code (e.g. `invalid_id_number`).
    pub code: String,
    /// Explanation for humans.
    pub message: String,
    /// The offending request field (snake_case), when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    field: Option<String>,
    retry_after: Option<i64>,
}

/// The status of each kind; the one place where kinds become HTTP.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// Counts a rejected request by reason.
    fn rejected(status: StatusCode, code: &str, message: String) -> ApiError {
        metrics::counter!("anfang_http_rejected_total", "reason" => code.to_string()).increment(1);
        ApiError::new(status, code, message)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        let status = status_of(e.kind());
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            // Internals are logged, never shown.
            tracing::error!(error = %e, "internal error");
            "internal error; see the server log".to_string()
        } else {
            e.to_string()
        };
        let retry_after = match &e {
            AppError::Locked { retry_after_secs } => Some(*retry_after_secs),
            AppError::Store(_) if status == StatusCode::SERVICE_UNAVAILABLE => Some(5),
            _ => None,
        };
        if status == StatusCode::BAD_REQUEST {
            metrics::counter!("anfang_http_rejected_total", "reason" => e.code().to_string()).increment(1);
        }
        ApiError {
            status,
            code: e.code().into(),
            field: e.field_name().map(String::from),
            message,
            retry_after,
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        match r {
            JsonRejection::BytesRejection(b) => ApiError::from(b),
            JsonRejection::MissingJsonContentType(_) => ApiError::rejected(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json".into(),
            ),
            JsonRejection::JsonDataError(e) => {
                let message = e.body_text();
                let mut err = ApiError::rejected(StatusCode::BAD_REQUEST, "invalid_body", message.clone());
                // serde names the field as `field: …` or at the start of the path; take it
                // so clients can highlight the right input.
                err.field = field_from_serde_message(&message);
                err
            }
            other => ApiError::rejected(StatusCode::BAD_REQUEST, "malformed_json", other.body_text()),
        }
    }
}

fn field_from_serde_message(message: &str) -> Option<String> {
    if let Some(rest) = message.split("missing field `").nth(1) {
        return rest.split('`').next().map(String::from);
    }
    let after = message.split(": ").nth(1)?;
    let candidate = after.split(':').next()?.trim();
    (!candidate.is_empty()
        && candidate
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.' || c.is_ascii_digit()))
    .then(|| candidate.to_string())
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> ApiError {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::rejected(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body exceeds the limit".into(),
            )
        } else {
            ApiError::rejected(StatusCode::BAD_REQUEST, "unreadable_body", r.body_text())
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        let message = r.body_text();
        let mut err = ApiError::rejected(StatusCode::BAD_REQUEST, "invalid_query", message.clone());
        err.field = field_from_serde_message(&message);
        err
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::rejected(StatusCode::BAD_REQUEST, "invalid_path", r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_status_and_only_internal_is_500() {
        for kind in [
            ErrorKind::InvalidInput,
            ErrorKind::Unauthenticated,
            ErrorKind::Forbidden,
            ErrorKind::NotFound,
            ErrorKind::Conflict,
            ErrorKind::TooManyRequests,
            ErrorKind::Unavailable,
        ] {
            assert!(status_of(kind).as_u16() < 500 || kind == ErrorKind::Unavailable);
        }
        assert_eq!(status_of(ErrorKind::Internal), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn finds_field_names_in_serde_messages() {
        assert_eq!(
            field_from_serde_message("Failed to deserialize: missing field `name` at line 1").as_deref(),
            Some("name")
        );
        assert_eq!(
            field_from_serde_message(
                "Failed to deserialize the JSON body into the target type: floors: invalid type"
            )
            .as_deref(),
            Some("floors")
        );
    }
}
