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
        // Per runtime (a cluster's runtime is new after the settings are applied).
        let mut last_seq: std::collections::HashMap<usize, u64> = Default::default();
        let mut menu_key: Option<MenuKey> = None;
        loop {
            // The cluster on screen wakes this at once; the others are
            // looked at every second.
            let alive = tokio::select! {
                c = follow.changed() => c,
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => true,
            };
            if !alive {
                break;
            }
            let fleet = follow.fleet();
            let snaps: Vec<(usize, std::sync::Arc<sentinel_runtime::Snapshot>)> = fleet
                .clusters
                .iter()
                .map(|(_, rt)| (std::sync::Arc::as_ptr(rt) as usize, rt.snapshot()))
                .collect();
            if first_data && snaps.iter().any(|(_, s)| s.data_at.is_some()) {
                first_data = false;
                tracing::info!(
                    elapsed_ms = launched.elapsed().as_millis() as u64,
                    "first live data"
                );
            }
            // The worst of every cluster.
            let now_level = snaps
                .iter()
                .map(|(_, s)| sentinel_service::tray_level(s))
                .max()
                .unwrap_or(TrayLevel::Ok);
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
            let mut active: Vec<IncidentRow> = snaps
                .iter()
                .flat_map(|(_, s)| sentinel_service::active_incidents(s, tray::MENU_INCIDENTS))
                .collect();
            active.sort_by(|a, b| {
                b.severity
                    .cmp(&a.severity)
                    .then(b.updated_at.cmp(&a.updated_at))
            });
            active.truncate(tray::MENU_INCIDENTS);
            let stale = snaps
                .iter()
                .flat_map(|(_, s)| s.sources.iter())
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
            last_seq.retain(|id, _| snaps.iter().any(|(s, _)| s == id));
            for (id, snap) in &snaps {
                let seen = last_seq.entry(*id).or_insert(0);
                // A new runtime at a freed one's address numbers from the start.
                if snap.notifications.last().is_some_and(|n| n.seq < *seen) {
                    *seen = 0;
                }
                let fresh: Vec<&Sent> = snap
                    .notifications
                    .iter()
                    .filter(|n| n.seq > *seen)
                    .collect();
                if let Some(n) = snap.notifications.last() {
                    *seen = (*seen).max(n.seq);
                }
                if is_paused {
                    continue;
                }
                for n in fresh {
                    show(&app, n);
                }
            }
        }
    });
}

fn show<R: Runtime>(app: &AppHandle<R>, n: &Sent) {
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
