//! The running backend and how it is made from the settings. Applying new
//! connections replaces the runtime; the UI's stream and the tray follow
//! whichever runtime is current ([`Follow`]).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sentinel_model::{Severity, Timestamp};
use sentinel_runtime::{DemoConfig, Runtime, Snapshot};
use tokio::sync::watch;

use crate::keys::Keys;
use crate::settings::{KubeSettings, Settings};

/// What the commands share: the running backend and the notification pause.
pub struct AppState {
    runtimes: watch::Sender<Arc<Runtime>>,
    paused_until: Arc<Mutex<Option<Timestamp>>>,
    /// Where exported reports are written.
    pub reports: PathBuf,
    /// The narrative's language model, when the settings name one.
    pub narrative: Option<sentinel_prom::openai::ChatClient>,
    /// The settings the connections page edits.
    pub(crate) config: crate::connections::Config,
}

impl AppState {
    pub fn new(runtime: Runtime, reports: PathBuf) -> Self {
        Self {
            runtimes: watch::Sender::new(Arc::new(runtime)),
            paused_until: Arc::default(),
            reports,
            narrative: None,
            config: crate::connections::Config::default(),
        }
    }

    /// The runtime now (another after the settings are applied).
    pub fn runtime(&self) -> Arc<Runtime> {
        Arc::clone(&self.runtimes.borrow())
    }

    /// Makes `runtime` the current one; returns the one it replaces.
    pub(crate) fn replace(&self, runtime: Runtime) -> Arc<Runtime> {
        self.runtimes.send_replace(Arc::new(runtime))
    }

    /// Snapshots of whichever runtime is current.
    pub fn follow(&self) -> Follow {
        let runtimes = self.runtimes.subscribe();
        let snaps = runtimes.borrow().subscribe();
        Follow { runtimes, snaps }
    }

    pub fn paused_until(&self) -> Option<Timestamp> {
        self.paused_until.lock().map(|g| *g).unwrap_or(None)
    }

    pub fn pause_handle(&self) -> Arc<Mutex<Option<Timestamp>>> {
        Arc::clone(&self.paused_until)
    }
}

/// Follows the snapshots of the current runtime, across replacements.
pub struct Follow {
    runtimes: watch::Receiver<Arc<Runtime>>,
    snaps: watch::Receiver<Arc<Snapshot>>,
}

impl Follow {
    /// The newest snapshot, marked seen.
    pub fn latest(&mut self) -> Arc<Snapshot> {
        Arc::clone(&self.snaps.borrow_and_update())
    }

    /// Waits for a new snapshot (or a new runtime); false once the app is closing.
    pub async fn changed(&mut self) -> bool {
        tokio::select! {
            r = self.snaps.changed() => {
                if r.is_ok() {
                    return true;
                }
                // That runtime has stopped: wait for its successor.
                if self.runtimes.changed().await.is_err() {
                    return false;
                }
            }
            r = self.runtimes.changed() => {
                if r.is_err() {
                    return false;
                }
            }
        }
        self.snaps = self.runtimes.borrow_and_update().subscribe();
        true
    }
}

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
        }
    }

    /// Starts the runtime inside Tauri's async runtime.
    pub fn start(self) -> Runtime {
        tauri::async_runtime::block_on(self.build())
    }

    /// Starts the runtime (inside a tokio runtime).
    pub async fn build(self) -> Runtime {
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
        if let Some(path) = self.history {
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
