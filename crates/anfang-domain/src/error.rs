//! The domain's one error type: a failed validation with a stable public code.

/// A value failed the domain's rules.
///
/// `code` is a stable, public, snake_case identifier (e.g. `invalid_id_number`) that API
/// clients match on; `message` explains, in English, what exactly is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DomainError {
    /// Stable public error code.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

impl DomainError {
    /// A validation failure with the given public code and explanation.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// A generic invalid value (`invalid_value`).
    pub fn invalid_value(message: impl Into<String>) -> Self {
        Self::new("invalid_value", message)
    }
}
