//! Non-secret settings: one TOML file in the config dir. A file that cannot
//! be read is moved aside (never deleted) and the app starts on defaults.

use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use sentinel_model::Severity;
use sentinel_runtime::{Clock, DemoConfig, SystemClock};
use sentinel_sim::SimConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Seed of the demo cluster.
    pub seed: u64,
    /// Pods in the demo cluster (40 to 10000).
    pub pods: usize,
    /// Poll interval of the demo source, in milliseconds.
    pub poll_interval_ms: u64,
    /// A Prometheus to watch instead of the demo cluster.
    pub prometheus: Option<Connection>,
    /// Its Alertmanager (without one, alerts come from Prometheus).
    pub alertmanager: Option<Connection>,
    /// A Kubernetes context to watch (pods, nodes, events, rollouts).
    pub kubernetes: Option<KubeSettings>,
    /// A Loki for container logs (live tail over its WebSocket).
    pub loki: Option<Connection>,
    /// An OpenAI-compatible endpoint for the optional incident narrative
    /// (off unless set).
    pub narrative: Option<NarrativeSettings>,
    /// Severity threshold, quiet hours and reminders of desktop notifications.
    pub notifications: crate::notify_settings::NotificationSettings,
    /// Rule files added to the default pack (Sentinel's or Prometheus' format).
    pub rules: crate::rules_settings::RulesSettings,
    /// The name of the cluster the connections above watch (default:
    /// `default`, or `demo` for the demo cluster).
    pub cluster: Option<String>,
    /// More clusters, watched at the same time.
    pub clusters: Vec<ClusterSettings>,
}

/// Another cluster: its own connections, under its own name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    pub name: String,
    #[serde(default)]
    pub prometheus: Option<Connection>,
    #[serde(default)]
    pub alertmanager: Option<Connection>,
    #[serde(default)]
    pub kubernetes: Option<KubeSettings>,
    #[serde(default)]
    pub loki: Option<Connection>,
}

impl ClusterSettings {
    pub fn is_empty(&self) -> bool {
        self.prometheus.is_none()
            && self.alertmanager.is_none()
            && self.kubernetes.is_none()
            && self.loki.is_none()
    }
}

/// The language model behind the narrative: a local server (llama.cpp,
/// Ollama) or a hosted one. The key, if any, lives in the keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NarrativeSettings {
    /// Base URL with the API version, e.g. `http://127.0.0.1:11434/v1`.
    pub url: String,
    pub model: String,
    /// Name of the API key in the keyring.
    #[serde(default)]
    pub token_keyring: Option<String>,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// How long to wait for an answer, in seconds.
    #[serde(default = "narrative_timeout")]
    pub timeout_secs: u64,
}

fn narrative_timeout() -> u64 {
    120
}

impl NarrativeSettings {
    pub fn connection(&self) -> Connection {
        Connection {
            url: self.url.clone(),
            token_keyring: self.token_keyring.clone(),
            ca_file: self.ca_file.clone(),
            insecure_skip_verify: self.insecure_skip_verify,
        }
    }
}

/// Which cluster: a context of a kubeconfig. Credentials stay where the
/// kubeconfig keeps them (exec plugins, certificates, tokens).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeSettings {
    /// The context (default: the kubeconfig's current one).
    #[serde(default)]
    pub context: Option<String>,
    /// The kubeconfig (default: `KUBECONFIG`, else `~/.kube/config`).
    #[serde(default)]
    pub kubeconfig: Option<PathBuf>,
    /// Without a `[prometheus]` URL, look for Prometheus behind the API
    /// server's service proxy (on unless set to false).
    #[serde(default = "yes")]
    pub discover_prometheus: bool,
}

fn yes() -> bool {
    true
}

/// How to reach one server. Credentials are named, never stored here: the
/// token lives in the OS keyring under `token_keyring`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    pub url: String,
    /// Name of a bearer token in the keyring (`sentinel secret set NAME`).
    #[serde(default)]
    pub token_keyring: Option<String>,
    /// PEM file of extra CA certificates to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Skip TLS verification (off unless set).
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            seed: 42,
            pods: sentinel_sim::DEFAULT_PODS,
            poll_interval_ms: 2000,
            prometheus: None,
            alertmanager: None,
            kubernetes: None,
            loki: None,
            narrative: None,
            notifications: Default::default(),
            rules: Default::default(),
            cluster: None,
            clusters: Vec::new(),
        }
    }
}

pub struct SettingsLoad {
    pub settings: Settings,
    pub notice: Option<(Severity, String)>,
}

impl Settings {
    /// Command-line overrides: `--pods N`, `--seed N`, `--interval-ms N`.
    pub fn with_args(mut self, args: impl Iterator<Item = String>) -> Self {
        let args: Vec<String> = args.collect();
        for pair in args.windows(2) {
            match (pair[0].as_str(), pair[1].parse::<u64>()) {
                ("--pods", Ok(n)) => self.pods = usize::try_from(n).unwrap_or(self.pods),
                ("--seed", Ok(n)) => self.seed = n,
                ("--interval-ms", Ok(n)) => self.poll_interval_ms = n,
                _ => {}
            }
        }
        self
    }

    /// Whether the top-level connections name anything (else: the demo).
    pub fn has_connections(&self) -> bool {
        self.prometheus.is_some() || self.kubernetes.is_some()
    }

    /// The top-level cluster's name.
    pub fn cluster_name(&self) -> String {
        match &self.cluster {
            Some(n) if !n.trim().is_empty() => n.trim().to_string(),
            _ if self.has_connections() => "default".into(),
            _ => "demo".into(),
        }
    }

    /// These settings with `c`'s connections in place of the top-level ones
    /// (rules, notifications and the rest are shared).
    pub fn for_cluster(&self, c: &ClusterSettings) -> Settings {
        Settings {
            prometheus: c.prometheus.clone(),
            alertmanager: c.alertmanager.clone(),
            kubernetes: c.kubernetes.clone(),
            loki: c.loki.clone(),
            cluster: Some(c.name.clone()),
            clusters: Vec::new(),
            ..self.clone()
        }
    }

    pub fn demo_config(&self) -> DemoConfig {
        DemoConfig {
            sim: SimConfig {
                seed: self.seed,
                pods: self
                    .pods
                    .clamp(sentinel_sim::DEFAULT_PODS, sentinel_sim::MAX_PODS),
            },
            interval: StdDuration::from_millis(self.poll_interval_ms.clamp(200, 60_000)),
            ..DemoConfig::default()
        }
    }
}

pub fn load(path: &Path) -> SettingsLoad {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return SettingsLoad {
                settings: Settings::default(),
                notice: None,
            };
        }
        Err(e) => {
            let msg = format!(
                "Cannot read settings {}: {e}. Using defaults.",
                path.display()
            );
            tracing::warn!("{msg}");
            return SettingsLoad {
                settings: Settings::default(),
                notice: Some((Severity::Warning, msg)),
            };
        }
    };
    match toml::from_str::<Settings>(&text) {
        Ok(settings) => SettingsLoad {
            settings,
            notice: None,
        },
        Err(e) => {
            let aside = path.with_extension(format!("toml.corrupt-{}", SystemClock.now().millis()));
            let moved = match std::fs::rename(path, &aside) {
                Ok(()) => format!("moved it to {}", aside.display()),
                Err(err) => format!("could not move it aside ({err})"),
            };
            let reason = e.message().to_string();
            let msg = format!(
                "Settings file {} is invalid ({reason}); {moved} and started with defaults.",
                path.display()
            );
            tracing::warn!("{msg}");
            SettingsLoad {
                settings: Settings::default(),
                notice: Some((Severity::Warning, msg)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_file_is_moved_aside_and_defaults_used() {
        let dir = std::env::temp_dir().join(format!("sentinel-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("settings.toml");
        std::fs::write(&path, "pods = \"many\"\n[[[").unwrap();
        let load = load(&path);
        assert_eq!(load.settings, Settings::default());
        let (level, msg) = load.notice.unwrap();
        assert_eq!(level, Severity::Warning);
        assert!(msg.contains("invalid"), "{msg}");
        assert!(!path.exists(), "the bad file was moved, not left in place");
        let kept: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(kept.len(), 1, "and not deleted");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn connections_name_credentials_and_never_hold_them() {
        let text = "[prometheus]\nurl = \"https://prom.example:9090\"\ntoken_keyring = \"prod/prom\"\n\n[alertmanager]\nurl = \"http://am:9093\"\n";
        let s: Settings = toml::from_str(text).unwrap();
        let p = s.prometheus.unwrap();
        assert_eq!(p.token_keyring.as_deref(), Some("prod/prom"));
        assert!(!p.insecure_skip_verify, "TLS verification is on by default");
        assert_eq!(s.alertmanager.unwrap().url, "http://am:9093");
        assert_eq!(s.narrative, None, "the narrative is off by default");
        // A token pasted into the file is refused, not silently kept.
        assert!(
            toml::from_str::<Settings>("[prometheus]\nurl = \"x\"\ntoken = \"abc\"\n").is_err()
        );
    }

    #[test]
    fn valid_file_and_args_apply() {
        let dir = std::env::temp_dir().join(format!("sentinel-settings-ok-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("settings.toml");
        std::fs::write(&path, "pods = 200\nseed = 9\n").unwrap();
        let s = load(&path)
            .settings
            .with_args(["--pods", "10000"].iter().map(|s| s.to_string()));
        assert_eq!((s.pods, s.seed, s.poll_interval_ms), (10_000, 9, 2000));
        assert_eq!(load(&dir.join("missing.toml")).notice, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
