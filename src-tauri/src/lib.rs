//! Sentinel Console's desktop shell: the only crate that knows Tauri. It
//! starts the runtime, registers thin commands over `sentinel-service`,
//! forwards updates to the UI through a channel, and owns the tray,
//! notifications, settings and logs.

mod commands;
pub mod live;
mod logging;
mod notify_settings;
mod rules_settings;
pub mod settings;
mod tray;
mod watch;

use std::sync::{Arc, Mutex};

use sentinel_model::{Severity, Timestamp};
use sentinel_runtime::{DemoConfig, Runtime};
use tauri::Manager;

pub use settings::{Settings, SettingsLoad};

/// What the commands share: the running backend and the notification pause.
pub struct AppState {
    pub runtime: Runtime,
    paused_until: Arc<Mutex<Option<Timestamp>>>,
    /// Where exported reports are written.
    pub reports: std::path::PathBuf,
    /// The narrative's language model, when the settings name one.
    pub narrative: Option<sentinel_prom::openai::ChatClient>,
}

impl AppState {
    pub fn new(runtime: Runtime, reports: std::path::PathBuf) -> Self {
        Self {
            runtime,
            paused_until: Arc::default(),
            reports,
            narrative: None,
        }
    }

    pub fn paused_until(&self) -> Option<Timestamp> {
        self.paused_until.lock().map(|g| *g).unwrap_or(None)
    }

    pub fn pause_handle(&self) -> Arc<Mutex<Option<Timestamp>>> {
        Arc::clone(&self.paused_until)
    }
}

/// How the backend is made: the demo cluster's settings and the start-up notices.
#[derive(Debug, Clone, Default)]
pub struct BackendOptions {
    pub demo: DemoConfig,
    pub notices: Vec<(Severity, String)>,
    /// Where history is recorded (`None`: not recorded).
    pub history: Option<std::path::PathBuf>,
    /// Live sources instead of the demo cluster.
    pub live: Option<live::Live>,
    /// A Kubernetes context to watch.
    pub kube: Option<settings::KubeSettings>,
    /// Where exported reports go (`None`: a folder in the temp dir).
    pub reports: Option<std::path::PathBuf>,
    /// The optional narrative's endpoint.
    pub narrative: Option<sentinel_prom::openai::ChatClient>,
    /// The notification policy (`None`: the defaults).
    pub notify: Option<sentinel_explain::incident::notify::NotifyConfig>,
    /// The rules (`None`: the default pack).
    pub rules: Option<sentinel_detect::RuleFile>,
}

impl BackendOptions {
    /// Starts the runtime inside Tauri's async runtime.
    pub fn start(self) -> Runtime {
        tauri::async_runtime::block_on(async move {
            let interval = self.demo.interval.max(std::time::Duration::from_secs(1));
            let mut b = if self.live.is_none() && self.kube.is_none() {
                Runtime::demo(self.demo)
            } else {
                Runtime::builder(std::sync::Arc::new(sentinel_runtime::SystemClock))
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
        })
    }
}

/// Registers state and commands on any Tauri runtime (the real one or the
/// mock one in tests).
pub fn build_app<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    backend: BackendOptions,
) -> tauri::Builder<R> {
    // State is managed here, not in `setup`: a later `setup` call replaces an earlier one.
    builder
        .manage({
            let reports = backend
                .reports
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("sentinel-reports"));
            let narrative = backend.narrative.clone();
            AppState {
                narrative,
                ..AppState::new(backend.start(), reports)
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::get_overview,
            commands::list_pods,
            commands::get_pod_detail,
            commands::list_alerts,
            commands::explain_alert,
            commands::mark_finding,
            commands::list_incidents,
            commands::get_incident,
            commands::act_on_incident,
            commands::export_incident,
            commands::narrate_incident,
            commands::analyse_case,
            commands::get_pod_logs,
            commands::pause_notifications,
            commands::subscribe,
        ])
}

/// The name operator actions are recorded under: the login name.
pub fn operator() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "operator".into())
}

/// The desktop app: single instance, logs, settings, tray, notifications.
pub fn run() {
    let launched = std::time::Instant::now();
    let dirs = logging::Dirs::from_env();
    let (log_guard, log_notice) = logging::init(&dirs);
    let mut notices: Vec<(Severity, String)> = log_notice.into_iter().collect();
    let SettingsLoad { settings, notice } = settings::load(&dirs.config.join("settings.toml"));
    notices.extend(notice);
    let settings = settings.with_args(std::env::args().skip(1));
    let live = live::from_settings(&settings, &mut notices);
    let narrative = live::narrative_from_settings(&settings, &mut notices);
    let notify = settings.notifications.config(&mut notices);
    let rules = settings.rules.rules(&mut notices);
    match &live {
        Some(l) => tracing::info!(prometheus = l.prometheus.url(), "starting Sentinel Console"),
        None => tracing::info!(
            pods = settings.pods,
            seed = settings.seed,
            "starting Sentinel Console on the demo cluster"
        ),
    }
    let backend = BackendOptions {
        demo: settings.demo_config(),
        notices,
        history: Some(dirs.history()),
        live,
        kube: settings.kubernetes.clone(),
        reports: Some(dirs.data.join("reports")),
        narrative,
        notify: Some(notify),
        rules: Some(rules),
    };
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.show();
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
        }))
        .plugin(tauri_plugin_notification::init());
    let result = build_app(builder, backend)
        .setup(move |app| {
            let handle = app.handle().clone();
            watch::open_on_click(&handle);
            match tray::build(&handle) {
                Ok(tray) => watch::spawn(handle, Some(tray), launched),
                Err(e) => {
                    tracing::warn!(error = %e, "no tray icon; the window stays the only way in");
                    watch::spawn(handle, None, launched);
                }
            }
            Ok(())
        })
        .on_page_load(move |_, payload| {
            if matches!(payload.event(), tauri::webview::PageLoadEvent::Finished) {
                tracing::info!(
                    elapsed_ms = launched.elapsed().as_millis() as u64,
                    "window loaded"
                );
            }
        })
        .on_window_event(|window, event| {
            // Closing the window keeps Sentinel in the tray; Quit is in the tray menu.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event
                && window.app_handle().tray_by_id(tray::TRAY_ID).is_some()
            {
                let _ = window.hide();
                api.prevent_close();
            }
        })
        .build(tauri::generate_context!("../tauri.conf.json"))
        .map(|app| {
            app.run(|app, event| {
                // Save what the history writer holds before the process ends.
                if let tauri::RunEvent::Exit = event {
                    let state = app.state::<AppState>();
                    tauri::async_runtime::block_on(
                        state.runtime.shutdown(std::time::Duration::from_secs(10)),
                    );
                }
            })
        });
    if let Err(e) = result {
        tracing::error!(error = %e, "Sentinel Console could not start");
        eprintln!("Sentinel Console could not start: {e}");
    }
    drop(log_guard);
}
