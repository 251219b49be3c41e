//! The Connections page: each cluster's Prometheus, Alertmanager, Loki and
//! Kubernetes connections, listed with their sources' health, tested,
//! saved and applied (the runtimes are rebuilt from the new settings), and
//! the credentials they name, which go into the keyring and never come
//! back out. The settings side is in `connection_settings`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sentinel_protocol::{
    ConnectionKind, ConnectionRow, ConnectionSpec, Connections, CredentialState, CredentialStatus,
    ErrorKind, IpcError, KeyringState, KubeContexts, SourceState, TestReport,
};
use sentinel_secrets::Secret;

use crate::BackendOptions;
use crate::backend::AppState;
use crate::connection_settings::{invalid, put, specs, write};
use crate::keys::Keys;
use crate::settings::{Connection, Settings};

type Res<T> = Result<T, IpcError>;

/// The settings as the file holds them, and where the app keeps its data.
#[derive(Default)]
pub struct Config {
    /// The settings file (`None`: shown, not saved).
    pub file: Option<PathBuf>,
    pub settings: Mutex<Settings>,
    /// Command-line overrides (`--pods`, …), applied on top, never saved.
    pub args: Vec<String>,
    pub history: Option<PathBuf>,
    pub reports: Option<PathBuf>,
    pub keys: Keys,
    /// One apply at a time.
    applying: tokio::sync::Mutex<()>,
}

impl Config {
    pub fn new(file: Option<(PathBuf, Settings)>, keys: Keys) -> Self {
        let (file, settings) = match file {
            Some((p, s)) => (Some(p), s),
            None => (None, Settings::default()),
        };
        Self {
            file,
            settings: Mutex::new(settings),
            keys,
            ..Self::default()
        }
    }

    /// The settings as they are now (a copy).
    pub fn settings(&self) -> Res<Settings> {
        self.settings
            .lock()
            .map(|s| s.clone())
            .map_err(|_| IpcError::new(ErrorKind::Internal, "the settings lock is poisoned"))
    }
}

fn credential(keys: &Keys, name: Option<&str>) -> CredentialState {
    match name {
        None => CredentialState::NotNeeded,
        Some(n) => match keys.exists(n) {
            Ok(true) => CredentialState::Stored,
            Ok(false) => CredentialState::Missing,
            Err(e) => CredentialState::Unknown(e.to_string()),
        },
    }
}

/// What [`list`] reads, taken from the state without waiting.
pub struct Listing {
    settings: Settings,
    snaps: Vec<(String, std::sync::Arc<sentinel_runtime::Snapshot>)>,
    keys: Keys,
    file: Option<PathBuf>,
}

impl Listing {
    pub fn of(state: &AppState) -> Res<Self> {
        Ok(Self {
            settings: state.config.settings()?,
            snaps: state.fleet().snapshots(),
            keys: state.config.keys.clone(),
            file: state.config.file.clone(),
        })
    }
}

/// What the page shows. Asks the keyring: run off the async threads.
pub fn list(l: Listing) -> Res<Connections> {
    let Listing {
        settings,
        snaps,
        keys,
        file,
    } = l;
    let keys = &keys;
    let rows = specs(&settings)
        .into_iter()
        .map(|spec| {
            let sources = snaps
                .iter()
                .filter(|(name, _)| *name == spec.cluster)
                .flat_map(|(_, snap)| snap.sources.iter())
                .filter(|s| s.kind == spec.kind.as_str())
                .map(|s| SourceState {
                    name: s.name.clone(),
                    health: sentinel_service::health(s.health),
                    last_ok: s.last_ok,
                    latency_ms: s.latency.map(|d| d.millis()),
                    message: s.last_error.clone(),
                })
                .collect();
            ConnectionRow {
                credential: credential(keys, spec.token_name.as_deref()),
                spec,
                sources,
            }
        })
        .collect::<Vec<_>>();
    Ok(Connections {
        demo: snaps
            .iter()
            .all(|(_, s)| s.mode == sentinel_runtime::Mode::Demo),
        rows,
        keyring: KeyringState {
            available: !keys.vault().is_session_only(),
            message: keys.problem().map(str::to_string),
        },
        settings_file: file.as_ref().map(|p| p.display().to_string()),
    })
}

/// Saves `settings`, rebuilds the runtime from them and swaps it in.
pub async fn apply(state: &AppState, settings: Settings) -> Res<()> {
    let _one = state.config.applying.lock().await;
    let path = state.config.file.clone().ok_or_else(|| {
        IpcError::new(
            ErrorKind::Unavailable,
            "this window has no settings file to save to",
        )
    })?;
    write(&path, &settings)?;
    if let Ok(mut s) = state.config.settings.lock() {
        *s = settings.clone();
    }
    let (keys, history, reports, args) = (
        state.config.keys.clone(),
        state.config.history.clone(),
        state.config.reports.clone(),
        state.config.args.clone(),
    );
    // The keyring blocks on D-Bus.
    let options = tauri::async_runtime::spawn_blocking(move || {
        let effective = settings.with_args(args.into_iter());
        BackendOptions::from_settings(&effective, &keys, history, reports, Vec::new())
    })
    .await
    .map_err(|e| IpcError::new(ErrorKind::Internal, format!("applying failed: {e}")))?;
    // The old runtimes save their history before the new ones open the files.
    for (_, rt) in &state.fleet().clusters {
        rt.shutdown(std::time::Duration::from_secs(10)).await;
    }
    let clusters = options.build_all().await;
    state.replace(clusters);
    // A replay with live sources paused keeps them paused on the new runtimes.
    state.reapply_pause().await;
    tracing::info!("connections applied");
    Ok(())
}

/// Tries a connection without saving it.
pub async fn test(state: &AppState, mut spec: ConnectionSpec) -> Res<TestReport> {
    // Tried on its own, whatever cluster it is for.
    spec.cluster.clear();
    let mut probe = Settings::default();
    if spec.kind == ConnectionKind::Alertmanager {
        // `put` wants a Prometheus beside an Alertmanager; any will do here.
        probe.prometheus = Some(Connection {
            url: "http://127.0.0.1".into(),
            token_keyring: None,
            ca_file: None,
            insecure_skip_verify: false,
        });
    }
    put(&mut probe, &spec)?;
    let now = sentinel_runtime::Clock::now(&sentinel_runtime::SystemClock);
    match spec.kind {
        ConnectionKind::Prometheus | ConnectionKind::Alertmanager | ConnectionKind::Loki => {
            let keys = state.config.keys.clone();
            let session_note = keys.clone();
            let (endpoint, notices) = tauri::async_runtime::spawn_blocking(move || {
                let mut notices = Vec::new();
                let c = match spec.kind {
                    ConnectionKind::Prometheus => probe.prometheus,
                    ConnectionKind::Loki => probe.loki,
                    _ => probe.alertmanager,
                };
                let e = c.map(|c| crate::live::endpoint_for(&c, &keys, &mut notices));
                (e, notices)
            })
            .await
            .map_err(|e| IpcError::new(ErrorKind::Internal, format!("test failed: {e}")))?;
            let endpoint = endpoint.ok_or_else(|| invalid("nothing to test"))?;
            let mut report = if spec.kind == ConnectionKind::Prometheus {
                match sentinel_prom::Prometheus::new(endpoint) {
                    Ok(p) => sentinel_service::test_prometheus(&p, now).await,
                    Err(e) => failed_setup(e.to_string()),
                }
            } else if spec.kind == ConnectionKind::Loki {
                match sentinel_prom::Loki::new(endpoint) {
                    Ok(l) => sentinel_service::test_loki(&l).await,
                    Err(e) => failed_setup(e.to_string()),
                }
            } else {
                match sentinel_prom::Alertmanager::new(endpoint) {
                    Ok(a) => sentinel_service::test_alertmanager(&a).await,
                    Err(e) => failed_setup(e.to_string()),
                }
            };
            // A missing credential or unreadable CA file comes first; a
            // session-only store is worth saying, not a failure.
            let session = session_note.problem().map(str::to_string);
            let first: Vec<sentinel_protocol::Check> = notices
                .into_iter()
                .filter(|(_, m)| Some(m) != session.as_ref())
                .map(|(_, m)| sentinel_protocol::Check {
                    name: "settings".into(),
                    ok: false,
                    detail: m,
                })
                .collect();
            if !first.is_empty() {
                report.ok = false;
                report.checks.splice(0..0, first);
            }
            Ok(report)
        }
        ConnectionKind::Kubernetes => {
            let k = probe.kubernetes.unwrap_or_default();
            Ok(sentinel_service::test_kubernetes(
                k.kubeconfig.as_deref(),
                k.context.as_deref(),
                k.discover_prometheus,
            )
            .await)
        }
    }
}

fn failed_setup(detail: String) -> TestReport {
    TestReport {
        ok: false,
        latency_ms: None,
        checks: vec![sentinel_protocol::Check {
            name: "settings".into(),
            ok: false,
            detail,
        }],
    }
}

pub fn contexts(kubeconfig: Option<&Path>) -> Res<KubeContexts> {
    sentinel_kube::contexts(kubeconfig)
        .map(|c| KubeContexts {
            current: c.current,
            names: c.names,
        })
        .map_err(|e| invalid(e.to_string()))
}

/// Stores a credential; the answer says where, never what.
pub fn set_credential(keys: &Keys, name: &str, value: &str) -> Res<CredentialStatus> {
    let value = value.trim_end_matches(['\n', '\r']);
    if value.is_empty() {
        return Err(invalid("the credential is empty"));
    }
    keys.set(name, &Secret::new(value))
        .map_err(|e| invalid(e.to_string()))?;
    Ok(CredentialStatus {
        name: name.to_string(),
        stored: true,
        session_only: keys.vault().is_session_only(),
    })
}

pub fn delete_credential(keys: &Keys, name: &str) -> Res<CredentialStatus> {
    keys.delete(name).map_err(|e| invalid(e.to_string()))?;
    Ok(CredentialStatus {
        name: name.to_string(),
        stored: false,
        session_only: keys.vault().is_session_only(),
    })
}
