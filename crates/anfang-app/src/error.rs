//! The application's error type: a stable public code, the offending field where there is
//! one, and a message; mapped to an [`ErrorKind`] that transports turn into status codes.

use anfang_base::ErrorKind;
use anfang_domain::DomainError;
use anfang_store::StoreError;

/// Why a use-case failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A field failed validation.
    #[error("{field}: {message}")]
    Invalid {
        /// Stable code, e.g. `invalid_id_number`.
        code: &'static str,
        /// The snake_case field name, e.g. `id_number`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// No valid session.
    #[error("authentication required")]
    Unauthenticated,
    /// Wrong username or password.
    #[error("wrong username or password")]
    InvalidCredentials,
    /// Too many failed logins.
    #[error("account locked after repeated failed logins; try again in {retry_after_secs} s")]
    Locked {
        /// Seconds until the lock ends.
        retry_after_secs: i64,
    },
    /// The role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The object does not exist or is outside the caller's scope.
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for.
        entity: &'static str,
    },
    /// The write conflicts with existing data.
    #[error("{message}")]
    Conflict {
        /// Stable code, e.g. `duplicate_id_number`.
        code: &'static str,
        /// What conflicts.
        message: String,
    },
    /// A component is busy or not configured; the caller may retry later (503).
    #[error("{message}")]
    Unavailable {
        /// Stable code, e.g. `recognition_busy`.
        code: &'static str,
        /// What is unavailable.
        message: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A broken invariant (bad key material, corrupt ciphertext).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Shorthand for application results.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A validation failure of `field` from a domain error.
    pub fn field(field: &str, e: DomainError) -> AppError {
        AppError::Invalid {
            code: e.code,
            field: field.to_string(),
            message: e.message,
        }
    }

    /// A validation failure with an explicit code.
    pub fn invalid(code: &'static str, field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            code,
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The stable public error code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid { code, .. } => code,
            AppError::Unauthenticated => "unauthenticated",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::Locked { .. } => "account_locked",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound { .. } => "not_found",
            AppError::Conflict { code, .. } => code,
            AppError::Unavailable { code, .. } => code,
            AppError::Store(StoreError::Conflict { .. }) => "conflict",
            AppError::Store(StoreError::NotFound { .. }) => "not_found",
            AppError::Store(StoreError::Unavailable(_)) => "storage_unavailable",
            AppError::Store(StoreError::Internal(_)) | AppError::Internal(_) => "internal",
        }
    }

    /// The offending field, if any.
    pub fn field_name(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The kind, for status mapping.
    pub fn kind(&self) -> ErrorKind {
        match self {
            AppError::Invalid { .. } => ErrorKind::InvalidInput,
            AppError::Unauthenticated | AppError::InvalidCredentials => ErrorKind::Unauthenticated,
            AppError::Locked { .. } => ErrorKind::TooManyRequests,
            AppError::Forbidden(_) => ErrorKind::Forbidden,
            AppError::NotFound { .. } => ErrorKind::NotFound,
            AppError::Conflict { .. } => ErrorKind::Conflict,
            AppError::Unavailable { .. } => ErrorKind::Unavailable,
            AppError::Store(e) => e.kind(),
            AppError::Internal(_) => ErrorKind::Internal,
        }
    }
}
