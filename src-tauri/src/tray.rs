//! The tray icon: its menu (active incidents, stale sources, Open, Pause
//! notifications for 1 hour, Quit) and
//! an icon whose colour is the worst thing happening (ok, warning, critical,
//! or a source gone stale).

use sentinel_model::Duration;
use sentinel_protocol::{IncidentRow, IncidentState, TrayLevel};
use sentinel_runtime::{Clock, SystemClock};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::AppState;

pub const TRAY_ID: &str = "sentinel";
const SIZE: u32 = 32;

/// A filled disc in the level's colour, with a ring, drawn as RGBA.
pub fn icon(level: TrayLevel) -> Image<'static> {
    let (r, g, b) = match level {
        TrayLevel::Ok => (0x22, 0xc5, 0x5e),
        TrayLevel::Warning => (0xf5, 0x9e, 0x0b),
        TrayLevel::Critical => (0xef, 0x44, 0x44),
        TrayLevel::Stale => (0x94, 0xa3, 0xb8),
    };
    let mut rgba = Vec::with_capacity((SIZE * SIZE * 4) as usize);
    let c = (SIZE as f32 - 1.0) / 2.0;
    for y in 0..SIZE {
        for x in 0..SIZE {
            let d = ((x as f32 - c).powi(2) + (y as f32 - c).powi(2)).sqrt();
            let px = if d <= 10.0 {
                [r, g, b, 255]
            } else if (12.5..=15.0).contains(&d) {
                [r, g, b, 200]
            } else {
                [0, 0, 0, 0]
            };
            rgba.extend_from_slice(&px);
        }
    }
    Image::new_owned(rgba, SIZE, SIZE)
}

pub fn tooltip(level: TrayLevel) -> &'static str {
    match level {
        TrayLevel::Ok => "Sentinel Console: all quiet",
        TrayLevel::Warning => "Sentinel Console: warnings firing",
        TrayLevel::Critical => "Sentinel Console: critical alerts firing",
        TrayLevel::Stale => "Sentinel Console: a source is stale; data may be old",
    }
}

fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// The tray icon; its menu is rebuilt when what it lists changes.
pub struct Tray<R: Runtime> {
    pub icon: TrayIcon<R>,
}

pub fn pause_label(paused: bool) -> &'static str {
    if paused {
        "Resume notifications"
    } else {
        "Pause notifications for 1 hour"
    }
}

/// Active incidents the tray menu lists at most.
pub const MENU_INCIDENTS: usize = 6;

/// The label of an incident in the tray menu.
pub fn incident_label(i: &IncidentRow) -> String {
    let mut title: String = i.title.chars().take(60).collect();
    if title.len() < i.title.len() {
        title.push('…');
    }
    let state = match i.state {
        IncidentState::Acknowledged => " (acknowledged)",
        _ => "",
    };
    format!("[{}] {title}{state}", i.severity.as_str())
}

/// The menu: active incidents (click opens one), stale sources, Open,
/// the pause item, Quit.
pub fn menu<R: Runtime>(
    app: &AppHandle<R>,
    incidents: &[IncidentRow],
    stale: usize,
    paused: bool,
) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    if incidents.is_empty() {
        menu.append(&MenuItem::with_id(
            app,
            "none",
            "No active incidents",
            false,
            None::<&str>,
        )?)?;
    }
    for i in incidents.iter().take(MENU_INCIDENTS) {
        let id = format!("incident:{}", i.id);
        menu.append(&MenuItem::with_id(
            app,
            id,
            incident_label(i),
            true,
            None::<&str>,
        )?)?;
    }
    if stale > 0 {
        let text = if stale == 1 {
            "1 source stale".to_string()
        } else {
            format!("{stale} sources stale")
        };
        menu.append(&MenuItem::with_id(app, "stale", text, false, None::<&str>)?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        "open",
        "Open Sentinel Console",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        "pause",
        pause_label(paused),
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?)?;
    Ok(menu)
}

pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Tray<R>> {
    let menu = menu(app, &[], 0, false)?;
    let icon = TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(TrayLevel::Ok))
        .tooltip(tooltip(TrayLevel::Ok))
        .menu(&menu)
        .on_menu_event(move |app, event| match event.id().as_ref() {
            "open" => show_main(app),
            "pause" => toggle_pause(app),
            "quit" => app.exit(0),
            other => {
                if let Some(id) = other.strip_prefix("incident:") {
                    open_incident(app, id);
                }
            }
        })
        .build(app)?;
    Ok(Tray { icon })
}

/// Shows the window on an incident's page.
pub fn open_incident<R: Runtime>(app: &AppHandle<R>, id: &str) {
    show_main(app);
    // The incident may be another cluster's: show that cluster first.
    let state = app.state::<AppState>();
    let owner = state
        .fleet()
        .snapshots()
        .into_iter()
        .find(|(_, s)| s.incidents.iter().any(|i| i.id == id))
        .map(|(name, _)| name);
    if let Some(name) = owner {
        state.select(&name);
    }
    if let Err(e) = app.emit(OPEN_INCIDENT, id) {
        tracing::warn!(incident = %id, error = %e, "cannot open the incident in the window");
    }
}

/// The event the window listens to for "show this incident".
pub const OPEN_INCIDENT: &str = "open-incident";

/// Pause for an hour, or resume; the watcher relabels the menu item.
fn toggle_pause<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let handle = state.pause_handle();
    let now = SystemClock.now();
    let until = {
        let Ok(mut guard) = handle.lock() else { return };
        let paused = guard.is_some_and(|t| t > now);
        *guard = (!paused).then(|| now.saturating_add(Duration::from_mins(60)));
        *guard
    };
    tracing::info!(
        paused = until.is_some(),
        "notifications toggled from the tray"
    );
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let _ = state.runtime().snooze(until).await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icons_differ_per_level_and_are_rgba() {
        let ok = icon(TrayLevel::Ok);
        let crit = icon(TrayLevel::Critical);
        assert_eq!(ok.rgba().len(), (SIZE * SIZE * 4) as usize);
        assert_ne!(ok.rgba(), crit.rgba());
        let centre = ((SIZE / 2 * SIZE + SIZE / 2) * 4) as usize;
        assert_eq!(&crit.rgba()[centre..centre + 4], &[0xef, 0x44, 0x44, 255]);
    }
}
