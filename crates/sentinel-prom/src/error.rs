use std::time::Duration;

/// Why a request to Prometheus or Alertmanager failed, in words an operator
/// can act on. Never contains a credential.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    #[error("invalid address {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("invalid TLS or auth settings: {0}")]
    Config(String),
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("no answer from {url} within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("{url} refused the credentials (HTTP 401): check the token or password")]
    Unauthorized { url: String },
    #[error("{url} answered 403 Forbidden: {detail}")]
    Forbidden { url: String, detail: String },
    #[error("{url} answered HTTP {status}: {detail}")]
    Status {
        url: String,
        status: u16,
        detail: String,
    },
    #[error("the response from {url} is larger than the {limit}-byte limit")]
    TooLarge { url: String, limit: usize },
    #[error("malformed response from {url}: {reason}")]
    Malformed { url: String, reason: String },
    /// Prometheus answered `"status": "error"`.
    #[error("{error_type}: {error}")]
    Api { error_type: String, error: String },
}

impl PromError {
    /// Worth retrying: the network or the server may recover on its own.
    pub fn is_transient(&self) -> bool {
        match self {
            PromError::Connect { .. } | PromError::Timeout { .. } => true,
            PromError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// A short name of the failure, stable for tests and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            PromError::BadUrl { .. } => "bad_url",
            PromError::Config(_) => "config",
            PromError::Connect { .. } => "connect",
            PromError::Timeout { .. } => "timeout",
            PromError::Unauthorized { .. } => "unauthorized",
            PromError::Forbidden { .. } => "forbidden",
            PromError::Status { .. } => "status",
            PromError::TooLarge { .. } => "too_large",
            PromError::Malformed { .. } => "malformed",
            PromError::Api { .. } => "api",
        }
    }
}
