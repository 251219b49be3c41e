//! The status bar: mode, each source's health and age, the app's memory,
//! and anything wrong with the app itself.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::{Health, Mode, PauseArgs, PauseNotifications};

use crate::app::Ui;
use crate::format;
use crate::ipc;

/// Pauses notifications for an hour, or resumes them.
fn toggle_pause(ui: Ui, paused: bool) {
    spawn_local(async move {
        let minutes = if paused { 0 } else { 60 };
        match ipc::call::<PauseNotifications>(&PauseArgs { minutes }).await {
            // Shown at once, not at the next poll.
            Ok(state) => ui.overview.update(|o| {
                if let Some(o) = o {
                    o.status.notifications_paused_until = state.paused_until;
                }
            }),
            Err(e) => ui.error.set(Some(format!("Notifications: {}", e.message))),
        }
    });
}

#[component]
pub fn StatusBar() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let o = move || ui.overview.get();
    view! {
        <footer class="status" id="status-bar">
            {move || o().map(|o| {
                let mode = match o.status.mode { Mode::Demo => "Demo", Mode::Live => "Live", Mode::Replay => "Replay" };
                let sources = o.status.sources.iter().map(|s| {
                    let (class, word) = match s.health {
                        Health::Starting => ("starting", "starting"),
                        Health::Ok => ("ok", "ok"),
                        Health::Stale => ("stale", "stale"),
                        Health::Down => ("down", "down"),
                    };
                    let age = s.age_ms.map(|a| format!(" · {} ago", format::age(a))).unwrap_or_default();
                    let title = s.message.clone().unwrap_or_default();
                    view! {
                        <span class=format!("source {class}") title=title>
                            <span class="dot"></span>
                            {format!("{} ({}) {word}{age}", s.name, s.kind)}
                        </span>
                    }
                }).collect_view();
                let notices = o.status.notices.iter().map(|n| view! {
                    <span class="notice" title=n.message.clone()>"⚠ "{n.message.clone()}</span>
                }).collect_view();
                let saved = o.status.history_saved_at.map(|t| view! {
                    <span class="saved muted" id="history-saved" title="Every finding and incident reported up to then is in the history file">
                        {format!("history saved {}", format::clock(t.millis(), true))}
                    </span>
                });
                let is_paused = o.status.notifications_paused_until.is_some();
                let paused = o.status.notifications_paused_until.map(|t| view! {
                    <span class="paused">{format!("notifications paused until {}", format::clock(t.millis(), false))}</span>
                });
                let pause_button = view! {
                    <button id="pause-notifications" class="link" on:click=move |_| toggle_pause(ui, is_paused)>
                        {if is_paused { "Resume notifications" } else { "Pause notifications 1h" }}
                    </button>
                };
                let replaying = o.status.replaying.clone().map(|file| {
                    let name = file.rsplit('/').next().unwrap_or(&file).to_string();
                    let live = if o.status.sources_paused {
                        "live sources paused"
                    } else {
                        "live sources recording in the background"
                    };
                    view! { <span class="replaying" id="status-replay" title=file>{format!("{name} · {live}")}</span> }
                });
                view! {
                    <span class=format!("mode {}", mode.to_lowercase()) id="status-mode">{mode}</span>
                    {replaying}
                    {sources}
                    {paused}
                    {notices}
                    <span class="spacer"></span>
                    {saved}
                    {pause_button}
                    <span class="mem" title="Resident memory of the backend and the webview">
                        {format!("memory {}", format::opt(o.status.memory_bytes.map(|b| b as f64), format::bytes))}
                    </span>
                }
            })}
        </footer>
    }
}
