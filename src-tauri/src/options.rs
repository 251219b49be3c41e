//! How the backend is made: one runtime per cluster, from the settings
//! (live sources, the Kubernetes context, Loki, rules, notifications,
//! history files), or the demo cluster when nothing is configured.

use std::path::PathBuf;
use std::sync::Arc;

use sentinel_model::Severity;
use sentinel_runtime::{DemoConfig, Runtime};

use crate::backend::Fleet;
use crate::keys::Keys;
use crate::settings::{KubeSettings, Settings};

/// The demo cluster's history file, beside the others (a dot no cluster
/// name's `history-NAME.db` holds).
pub const DEMO_HISTORY: &str = "history.demo.db";

/// How the backend is made: the demo cluster's settings and the start-up notices.
#[derive(Debug, Clone, Default)]
pub struct BackendOptions {
    pub demo: DemoConfig,
    pub notices: Vec<(Severity, String)>,
    /// Where history is recorded (`None`: not recorded).
    pub history: Option<PathBuf>,
    /// Live sources instead of the demo cluster.
    pub live: Option<crate::live::Live>,
    /// A Kubernetes context to watch.
    pub kube: Option<KubeSettings>,
    /// A Loki for container logs.
    pub loki: Option<sentinel_prom::Loki>,
    /// Where exported reports go (`None`: a folder in the temp dir).
    pub reports: Option<PathBuf>,
    /// The optional narrative's endpoint.
    pub narrative: Option<sentinel_prom::openai::ChatClient>,
    /// The notification policy (`None`: the defaults).
    pub notify: Option<sentinel_explain::incident::notify::NotifyConfig>,
    /// The rules (`None`: the default pack).
    pub rules: Option<sentinel_detect::RuleFile>,
    /// The settings file the connections page writes, and what it holds
    /// (`None`: the page shows the connections but cannot save them).
    pub settings: Option<(PathBuf, Settings)>,
    /// The credential store (default: opened on first use).
    pub keys: Keys,
    /// Command-line overrides of the settings (`--pods N`, …), kept for
    /// when the settings are applied again.
    pub args: Vec<String>,
    /// The cluster's name (empty: `default`, or `demo` for the demo).
    pub name: String,
    /// More clusters, watched at the same time.
    pub others: Vec<(String, BackendOptions)>,
}

impl BackendOptions {
    /// Everything the settings say, with their problems as notices. Reads
    /// the keyring when a credential is named: call it off async threads.
    pub fn from_settings(
        settings: &Settings,
        keys: &Keys,
        history: Option<PathBuf>,
        reports: Option<PathBuf>,
        mut notices: Vec<(Severity, String)>,
    ) -> Self {
        let live = crate::live::from_settings(settings, keys, &mut notices);
        let narrative = crate::live::narrative_from_settings(settings, keys, &mut notices);
        let loki = crate::live::loki_from_settings(settings, keys, &mut notices);
        let mut files = std::collections::HashSet::new();
        let others = settings
            .clusters
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| {
                // Each cluster keeps its own history beside the first one's,
                // in a file no other cluster uses (names may differ only in
                // characters a file name cannot hold).
                let base: String = c
                    .name
                    .chars()
                    .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
                    .collect();
                let mut safe = base.clone();
                let mut n = 2;
                while !files.insert(safe.clone()) {
                    safe = format!("{base}-{n}");
                    n += 1;
                }
                let own = history
                    .as_ref()
                    .map(|h| h.with_file_name(format!("history-{safe}.db")));
                let opts = Self::from_settings(
                    &settings.for_cluster(c),
                    keys,
                    own,
                    reports.clone(),
                    Vec::new(),
                );
                (c.name.clone(), opts)
            })
            .collect();
        let notify = settings.notifications.config(&mut notices);
        let rules = settings.rules.rules(&mut notices);
        Self {
            demo: settings.demo_config(),
            notices,
            history,
            live,
            kube: settings.kubernetes.clone(),
            loki,
            reports,
            narrative,
            notify: Some(notify),
            rules: Some(rules),
            settings: None,
            keys: keys.clone(),
            args: Vec::new(),
            name: settings.cluster_name(),
            others,
        }
    }

    /// Starts every cluster's runtime inside Tauri's async runtime.
    pub fn start(self) -> Fleet {
        tauri::async_runtime::block_on(async move {
            let clusters = self.build_all().await;
            Fleet {
                clusters: clusters
                    .into_iter()
                    .map(|(n, rt)| (n, Arc::new(rt)))
                    .collect(),
                selected: 0,
            }
        })
    }

    /// Starts this cluster's runtime and the others' (inside a tokio runtime).
    pub async fn build_all(mut self) -> Vec<(String, Runtime)> {
        let others = std::mem::take(&mut self.others);
        let name = self.display_name();
        let mut out = vec![(name, self.build().await)];
        for (name, o) in others {
            out.push((name, o.build().await));
        }
        out
    }

    fn display_name(&self) -> String {
        if !self.name.is_empty() {
            self.name.clone()
        } else if self.live.is_none() && self.kube.is_none() {
            "demo".into()
        } else {
            "default".into()
        }
    }

    /// Where this cluster's history goes: the demo keeps its own file
    /// beside the real clusters' (a name no cluster's file can take), so
    /// its incidents are not listed, restored or kept with theirs.
    pub fn history_file(&self) -> Option<PathBuf> {
        let demo = self.live.is_none() && self.kube.is_none();
        self.history.as_ref().map(|h| {
            if demo {
                h.with_file_name(DEMO_HISTORY)
            } else {
                h.clone()
            }
        })
    }

    /// Starts this cluster's runtime (inside a tokio runtime).
    pub async fn build(self) -> Runtime {
        let name = self.display_name();
        let history = self.history_file();
        let interval = self.demo.interval.max(std::time::Duration::from_secs(1));
        let mut b = if self.live.is_none() && self.kube.is_none() {
            Runtime::demo(self.demo)
        } else {
            Runtime::builder(Arc::new(sentinel_runtime::SystemClock))
                .mode(sentinel_runtime::Mode::Live)
        };
        let discover = self.live.is_none();
        if let Some(live) = self.live {
            b = b.live(live.prometheus, live.alertmanager, interval);
        }
        if let Some(k) = self.kube {
            match sentinel_kube::connect(k.kubeconfig.as_deref(), k.context.as_deref()).await {
                Ok(conn) => {
                    if discover && k.discover_prometheus {
                        let timeout = std::time::Duration::from_secs(10);
                        b = b.discovered_prometheus(conn.clone(), interval, timeout);
                    }
                    b = b.kubernetes(conn, interval);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "no Kubernetes source");
                    b = b.notice(Severity::Critical, format!("Kubernetes: {e}"));
                }
            }
        }
        b = b.incidents(sentinel_explain::incident::IncidentConfig {
            cluster: name,
            ..Default::default()
        });
        if let Some(loki) = self.loki {
            b = b.loki(loki);
        }
        if let Some(rules) = self.rules {
            b = b.rules(rules);
        }
        if let Some(cfg) = self.notify {
            b = b.notify(cfg);
        }
        for (level, message) in self.notices {
            b = b.notice(level, message);
        }
        if let Some(path) = history {
            let now = sentinel_runtime::Clock::now(&sentinel_runtime::SystemClock);
            match sentinel_runtime::Store::open(&path, now).await {
                Ok(opened) => {
                    if let Some(notice) = opened.notice {
                        b = b.notice(Severity::Warning, notice);
                    }
                    b = b.history(opened.store);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "history off");
                    b = b.notice(Severity::Warning, format!("History is not recorded: {e}"));
                }
            }
        }
        b.start()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{ClusterSettings, Connection};

    #[test]
    fn every_cluster_gets_its_own_history_file_and_name() {
        let prom = |url: &str| {
            Some(Connection {
                url: url.into(),
                token_keyring: None,
                ca_file: None,
                insecure_skip_verify: false,
            })
        };
        let cluster = |name: &str| ClusterSettings {
            name: name.into(),
            prometheus: prom("http://127.0.0.1:9"),
            alertmanager: None,
            kubernetes: None,
            loki: None,
        };
        let mut s = Settings {
            prometheus: prom("http://127.0.0.1:9"),
            ..Settings::default()
        };
        s.clusters = vec![cluster("eu west"), cluster("eu-west"), cluster("us")];
        let o = BackendOptions::from_settings(
            &s,
            &Keys::session_only(),
            Some(PathBuf::from("/data/history.db")),
            None,
            Vec::new(),
        );
        assert_eq!(o.name, "default");
        let got: Vec<(String, Option<PathBuf>)> = o
            .others
            .iter()
            .map(|(n, b)| (n.clone(), b.history.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("eu west".into(), Some("/data/history-eu-west.db".into())),
                ("eu-west".into(), Some("/data/history-eu-west-2.db".into())),
                ("us".into(), Some("/data/history-us.db".into())),
            ]
        );
        assert_eq!(o.history_file(), Some("/data/history.db".into()));
        // Nothing to watch: the demo runs, on a file of its own.
        let demo = BackendOptions::from_settings(
            &Settings::default(),
            &Keys::session_only(),
            Some(PathBuf::from("/data/history.db")),
            None,
            Vec::new(),
        );
        assert_eq!(demo.display_name(), "demo");
        assert_eq!(demo.history_file(), Some("/data/history.demo.db".into()));
    }
}
