//! Follows the backend's snapshots on behalf of the desktop: repaints the
//! tray when the worst level changes, keeps the tray menu's incident list
//! and stale count current, and shows the notifications the incident policy
//! let through (grouped and rate-limited by the backend) unless paused.

use sentinel_protocol::{IncidentRow, TrayLevel};
use sentinel_runtime::incidents::Sent;
use sentinel_runtime::{Clock, SystemClock};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::AppState;
use crate::tray;

pub fn spawn<R: Runtime>(
    app: AppHandle<R>,
    tray_icon: Option<tray::Tray<R>>,
    launched: std::time::Instant,
) {
    let state = app.state::<AppState>();
    let mut follow = state.follow();
    let paused = state.pause_handle();
    tauri::async_runtime::spawn(async move {
        let mut level = TrayLevel::Ok;
        let mut first_data = true;
        let mut last_seq = 0;
        let mut menu_key: Option<MenuKey> = None;
        while follow.changed().await {
            let snap = follow.latest();
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
            let is_paused = paused
                .lock()
                .map(|g| g.is_some_and(|t| t > SystemClock.now()))
                .unwrap_or(false);
            // The menu is rebuilt only when what it shows changed.
            let active = sentinel_service::active_incidents(&snap, tray::MENU_INCIDENTS);
            let stale = snap
                .sources
                .iter()
                .filter(|s| {
                    matches!(
                        s.health,
                        sentinel_runtime::Health::Stale | sentinel_runtime::Health::Down
                    )
                })
                .count();
            let key = (menu_signature(&active), stale, is_paused);
            if menu_key.as_ref() != Some(&key) {
                if let Some(t) = &tray_icon {
                    match tray::menu(&app, &active, stale, is_paused) {
                        Ok(menu) => {
                            let _ = t.icon.set_menu(Some(menu));
                        }
                        Err(e) => tracing::warn!(error = %e, "cannot rebuild the tray menu"),
                    }
                }
                menu_key = Some(key);
            }
            let fresh: Vec<&Sent> = snap
                .notifications
                .iter()
                .filter(|n| n.seq > last_seq)
                .collect();
            if let Some(n) = snap.notifications.last() {
                last_seq = last_seq.max(n.seq);
            }
            if is_paused {
                continue;
            }
            for n in fresh {
                if let Err(e) = app
                    .notification()
                    .builder()
                    .title(&n.notification.title)
                    .body(&n.notification.body)
                    .extra(INCIDENT_KEY, &n.notification.incident)
                    .show()
                {
                    tracing::warn!(error = %e, "cannot show a notification");
                } else {
                    tracing::info!(
                        incident = %n.notification.incident,
                        group = %n.notification.group,
                        covers = n.notification.covers,
                        "notification shown"
                    );
                }
            }
        }
    });
}

/// The payload key naming the incident a notification is about.
const INCIDENT_KEY: &str = "incident";

/// A click on a notification opens the window on its incident. The plugin
/// reports clicks only for notifications shown after a handler exists, so
/// this runs before the first snapshot is followed.
pub fn open_on_click<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    let _ = app.notification().on_action(move |performed| {
        let incident = performed
            .notification()
            .and_then(|n| n.extra().get(INCIDENT_KEY))
            .and_then(|v| v.as_str());
        match (performed.action_id(), incident) {
            ("tap", Some(id)) => {
                tracing::info!(incident = %id, "notification clicked");
                tray::open_incident(&handle, id);
            }
            (action, _) => tracing::debug!(action, "notification action ignored"),
        }
    });
}

/// What the tray menu shows: incident labels, stale sources, paused.
type MenuKey = (Vec<(String, String)>, usize, bool);

fn menu_signature(rows: &[IncidentRow]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| (r.id.clone(), tray::incident_label(r)))
        .collect()
}
