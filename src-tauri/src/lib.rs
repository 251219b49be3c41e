//! Sentinel Console's desktop shell: the only crate that knows Tauri. It
//! starts the runtime, registers thin commands over `sentinel-service`,
//! forwards updates to the UI through a channel, and owns the tray,
//! notifications, settings and logs.

mod backend;
mod commands;
mod connection_commands;
mod connection_settings;
mod connections;
mod keys;
pub mod live;
mod logging;
mod notify_settings;
mod options;
mod rules_settings;
pub mod settings;
mod tray;
mod watch;

use sentinel_model::Severity;
use tauri::Manager;

pub use backend::{AppState, Fleet, Follow};
pub use keys::Keys;
pub use options::BackendOptions;
pub use settings::{Settings, SettingsLoad};

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
            let mut config =
                connections::Config::new(backend.settings.clone(), backend.keys.clone());
            config.history = backend.history.clone();
            config.reports = backend.reports.clone();
            config.args = backend.args.clone();
            let mut state = AppState::with_fleet(backend.start(), reports);
            state.narrative = narrative;
            state.config = config;
            state
        })
        .invoke_handler(tauri::generate_handler![
            commands::get_overview,
            commands::list_pods,
            commands::get_pod_detail,
            commands::get_node_detail,
            commands::list_workloads,
            commands::list_alerts,
            commands::silence_alert,
            commands::expire_silence,
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
            commands::select_cluster,
            commands::list_history,
            commands::bundle_incident,
            commands::replay_file,
            commands::replay_state,
            commands::replay_history,
            commands::set_replay_mode,
            commands::get_retention,
            commands::history_trend,
            commands::set_retention,
            commands::get_everywhere,
            connection_commands::list_connections,
            connection_commands::save_connection,
            connection_commands::remove_connection,
            connection_commands::test_connection,
            connection_commands::list_contexts,
            connection_commands::set_credential,
            connection_commands::delete_credential,
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
    let settings_path = dirs.config.join("settings.toml");
    let SettingsLoad { settings, notice } = settings::load(&settings_path);
    notices.extend(notice);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let effective = settings.clone().with_args(args.iter().cloned());
    let keys = Keys::default();
    let mut backend = BackendOptions::from_settings(
        &effective,
        &keys,
        Some(dirs.history()),
        Some(dirs.data.join("reports")),
        notices,
    );
    backend.settings = Some((settings_path, settings));
    backend.args = args;
    match &backend.live {
        Some(l) => tracing::info!(prometheus = l.prometheus.url(), "starting Sentinel Console"),
        None => tracing::info!(
            pods = effective.pods,
            seed = effective.seed,
            "starting Sentinel Console on the demo cluster"
        ),
    }
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
                    tauri::async_runtime::block_on(async {
                        for (_, rt) in &state.fleet().clusters {
                            rt.shutdown(std::time::Duration::from_secs(10)).await;
                        }
                    });
                }
            })
        });
    if let Err(e) = result {
        tracing::error!(error = %e, "Sentinel Console could not start");
        eprintln!("Sentinel Console could not start: {e}");
    }
    drop(log_guard);
}
