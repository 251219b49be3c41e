//! The Connections page: the sources the settings name, their health, a
//! test of a connection before it is saved, and credentials that go into
//! the keyring and never come back out.

use serde::{Deserialize, Serialize};

use crate::dto::Health;
use crate::model::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    Prometheus,
    Alertmanager,
    Kubernetes,
    Loki,
}

impl ConnectionKind {
    pub const ALL: [ConnectionKind; 4] = [
        ConnectionKind::Prometheus,
        ConnectionKind::Alertmanager,
        ConnectionKind::Kubernetes,
        ConnectionKind::Loki,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionKind::Prometheus => "prometheus",
            ConnectionKind::Alertmanager => "alertmanager",
            ConnectionKind::Kubernetes => "kubernetes",
            ConnectionKind::Loki => "loki",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ConnectionKind::Prometheus => "Prometheus",
            ConnectionKind::Alertmanager => "Alertmanager",
            ConnectionKind::Kubernetes => "Kubernetes",
            ConnectionKind::Loki => "Loki",
        }
    }
}

/// One connection as the settings hold it: names and paths, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSpec {
    /// The cluster it belongs to (empty: the first one).
    #[serde(default)]
    pub cluster: String,
    pub kind: ConnectionKind,
    /// Base URL (Prometheus, Alertmanager).
    #[serde(default)]
    pub url: String,
    /// Name of a bearer token in the keyring.
    #[serde(default)]
    pub token_name: Option<String>,
    /// PEM file of extra CA certificates.
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// Kubernetes: the kubeconfig (default: KUBECONFIG, else ~/.kube/config).
    #[serde(default)]
    pub kubeconfig: Option<String>,
    /// Kubernetes: the context (default: the kubeconfig's current one).
    #[serde(default)]
    pub context: Option<String>,
    /// Kubernetes without a Prometheus URL: look for Prometheus behind the
    /// API server's service proxy.
    #[serde(default)]
    pub discover_prometheus: bool,
}

impl ConnectionSpec {
    pub fn new(kind: ConnectionKind) -> Self {
        Self {
            cluster: String::new(),
            kind,
            url: String::new(),
            token_name: None,
            ca_file: None,
            insecure_skip_verify: false,
            kubeconfig: None,
            context: None,
            discover_prometheus: kind == ConnectionKind::Kubernetes,
        }
    }
}

/// Whether the credential a connection names is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "detail")]
pub enum CredentialState {
    /// The connection names none.
    NotNeeded,
    Stored,
    Missing,
    /// The keyring could not be asked.
    Unknown(String),
}

/// A source of the running backend, as the status bar sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceState {
    pub name: String,
    pub health: Health,
    /// When it last delivered.
    pub last_ok: Option<Timestamp>,
    /// How long its last poll took.
    pub latency_ms: Option<i64>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionRow {
    pub spec: ConnectionSpec,
    pub credential: CredentialState,
    /// The backend's sources this connection feeds (none while the
    /// settings are not applied, or in demo mode).
    pub sources: Vec<SourceState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyringState {
    /// Credentials are kept in the OS keyring (else for this session only).
    pub available: bool,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connections {
    pub rows: Vec<ConnectionRow>,
    pub keyring: KeyringState,
    /// Where the settings are written.
    pub settings_file: Option<String>,
    /// No connection: the embedded demo cluster runs.
    pub demo: bool,
}

/// One check of a connection test, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    pub ok: bool,
    /// The first request's round trip.
    pub latency_ms: Option<i64>,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindRef {
    /// The cluster (empty: the first one).
    #[serde(default)]
    pub cluster: String,
    pub kind: ConnectionKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContextsQuery {
    #[serde(default)]
    pub kubeconfig: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubeContexts {
    pub current: Option<String>,
    pub names: Vec<String>,
}

/// A credential going into the keyring. The value travels one way only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCredential {
    pub name: String,
    pub value: String,
}

impl std::fmt::Debug for NewCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCredential")
            .field("name", &self.name)
            .field("value", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRef {
    pub name: String,
}

/// Whether a credential is stored, and where; never what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialStatus {
    pub name: String,
    pub stored: bool,
    /// Held in memory for this session (no keyring).
    pub session_only: bool,
}
