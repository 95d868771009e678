//! The caller extractor: resolves `Authorization: Bearer <token>` to a [`Principal`].

use crate::{ApiError, ApiState};
use anfang_app::{AppError, Principal};
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

/// An authenticated caller and the token they used.
pub struct Caller {
    /// Who.
    pub principal: Principal,
    /// The bearer token (for logout).
    pub token: String,
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AppError::Unauthenticated)?;
        let principal = state.app.authenticate(token).await?;
        Ok(Caller {
            principal,
            token: token.to_string(),
        })
    }
}
