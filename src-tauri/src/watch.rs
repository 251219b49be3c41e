//! Follows the backend's snapshots on behalf of the desktop: repaints the
//! tray when the worst level changes and raises a notification for each new
//! critical alert or engine finding unless notifications are paused.

use std::collections::HashSet;

use sentinel_model::{Mark, Severity};
use sentinel_protocol::{AlertQuery, TrayLevel};
use sentinel_runtime::{Clock, SystemClock};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::AppState;
use crate::tray;

/// Notifications raised per update at most; the rest are summarised.
const BURST: usize = 3;

pub fn spawn<R: Runtime>(
    app: AppHandle<R>,
    tray_icon: Option<tray::Tray<R>>,
    launched: std::time::Instant,
) {
    let state = app.state::<AppState>();
    let mut rx = state.runtime.subscribe();
    let paused = state.pause_handle();
    tauri::async_runtime::spawn(async move {
        let mut level = TrayLevel::Ok;
        let mut seen: HashSet<String> = HashSet::new();
        let mut first_data = true;
        let mut was_paused = false;
        while rx.changed().await.is_ok() {
            let snap = rx.borrow_and_update().clone();
            if first_data && snap.data_at.is_some() {
                first_data = false;
                tracing::info!(
                    elapsed_ms = launched.elapsed().as_millis() as u64,
                    "first live data"
                );
            }
            let now_level = sentinel_service::tray_level(&snap);
            if now_level != level {
                level = now_level;
                tracing::info!(level = ?level, "tray level changed");
                if let Some(t) = &tray_icon {
                    let _ = t.icon.set_icon(Some(tray::icon(level)));
                    let _ = t.icon.set_tooltip(Some(tray::tooltip(level)));
                }
            }
            // Alertmanager's alerts and the engine's findings, as the feed shows them.
            let query = AlertQuery {
                min_severity: Some(Severity::Critical),
                limit: None,
            };
            let critical: Vec<_> = sentinel_service::alerts(&snap, &query)
                .into_iter()
                .filter(|a| a.resolved_at.is_none() && a.mark != Some(Mark::FalsePositive))
                .collect();
            let fresh: Vec<_> = critical
                .iter()
                .filter(|a| !seen.contains(&a.fingerprint))
                .collect();
            seen = critical.iter().map(|a| a.fingerprint.clone()).collect();
            let is_paused = paused
                .lock()
                .map(|g| g.is_some_and(|t| t > SystemClock.now()))
                .unwrap_or(false);
            // A pause set from the UI, or one that ran out, shows in the tray menu too.
            if is_paused != was_paused {
                was_paused = is_paused;
                if let Some(t) = &tray_icon {
                    let _ = t.pause_item.set_text(tray::pause_label(is_paused));
                }
            }
            if fresh.is_empty() || is_paused {
                continue;
            }
            for a in fresh.iter().take(BURST) {
                let title = format!("{} ({})", a.name, a.source);
                let body = if a.description.is_empty() {
                    a.summary.clone()
                } else {
                    a.description.clone()
                };
                if let Err(e) = app.notification().builder().title(title).body(body).show() {
                    tracing::warn!(error = %e, "cannot show a notification");
                }
            }
            if fresh.len() > BURST {
                let _ = app
                    .notification()
                    .builder()
                    .title("Sentinel Console")
                    .body(format!("{} more critical alerts", fresh.len() - BURST))
                    .show();
            }
        }
    });
}
