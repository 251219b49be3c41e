//! The History page: every incident the history file holds, newest first,
//! and any of them written as a bundle (optionally redacted) that another
//! Sentinel replays with `sentinel replay BUNDLE`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::{
    BundleIncident, BundleRequest, HistoryPage as Page, HistoryQuery, ListHistory, ReplayFile,
    ReplayHistory, ReplayMode, ReplayRange, ReplayRequest, Replayed, SetReplayMode,
};

use crate::app::Ui;
use crate::format;
use crate::ipc;

#[component]
pub fn HistoryPage() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let data = RwSignal::new(None::<Page>);
    let state = RwSignal::new(String::new());
    let redact = RwSignal::new(true);
    let patterns = RwSignal::new(String::new());
    let said = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // A file to replay offline: the last bundle written, or any path.
    let path = RwSignal::new(String::new());
    let replayed = RwSignal::new(None::<Replayed>);
    let load = move || {
        let q = HistoryQuery {
            state: Some(state.get_untracked()).filter(|s| !s.is_empty()),
            ..HistoryQuery::default()
        };
        spawn_local(async move {
            match ipc::call::<ListHistory>(&q).await {
                Ok(p) => data.set(Some(p)),
                Err(e) => ui.error.set(Some(format!("History: {}", e.message))),
            }
        });
    };
    Effect::new(move |_| {
        state.track();
        load();
    });
    let bundle = move |id: String| {
        busy.set(true);
        said.set(Some(format!("Writing {id}…")));
        let req = BundleRequest {
            id,
            redact: redact.get_untracked(),
            patterns: patterns
                .get_untracked()
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
        };
        spawn_local(async move {
            match ipc::call::<BundleIncident>(&req).await {
                Ok(b) => said.set(Some({
                    path.set(b.path.clone());
                    format!(
                        "Saved {} ({} KiB: {} series, {} finding events, {} Kubernetes events{})",
                        b.path,
                        b.bytes.div_ceil(1024),
                        b.series,
                        b.findings,
                        b.events,
                        b.redacted
                            .map(|n| format!(", {n} identifiers redacted"))
                            .unwrap_or_default()
                    )
                })),
                Err(e) => said.set(Some(e.message)),
            }
            busy.set(false);
        });
    };
    // Replay mode: the status bar says so; live sources pause or go on
    // recording, as the operator chose. Leaving the page leaves the mode.
    let pause_live = RwSignal::new(false);
    let mode = move |file: Option<String>| {
        let req = ReplayMode {
            file,
            pause_live: pause_live.get_untracked(),
        };
        spawn_local(async move {
            if let Err(e) = ipc::call::<SetReplayMode>(&req).await {
                ui.error.set(Some(format!("Replay mode: {}", e.message)));
            }
        });
    };
    on_cleanup(move || mode(None));
    let shown = move |got: Result<Replayed, sentinel_protocol::IpcError>| {
        match got {
            Ok(r) => {
                mode(Some(r.path.clone()));
                replayed.set(Some(r));
            }
            Err(e) => said.set(Some(e.message)),
        }
        busy.set(false);
    };
    let replay = move |_| {
        let req = ReplayRequest {
            path: path.get_untracked().trim().to_string(),
        };
        busy.set(true);
        replayed.set(None);
        spawn_local(async move { shown(ipc::call::<ReplayFile>(&req).await) });
    };
    // Part of this history: an incident, or the last minutes.
    let replay_part = move |req: ReplayRange| {
        busy.set(true);
        replayed.set(None);
        said.set(Some("Replaying…".into()));
        spawn_local(async move {
            let got = ipc::call::<ReplayHistory>(&req).await;
            if got.is_ok() {
                said.set(None);
            }
            shown(got);
        });
    };
    let last_minutes = RwSignal::new(60i64);
    let replay_last = move |_| {
        let Some(now) = ui.overview.with_untracked(|o| o.as_ref().map(|o| o.at)) else {
            return;
        };
        let mins = last_minutes.get_untracked();
        replay_part(ReplayRange {
            incident: None,
            from: Some(now.saturating_sub(sentinel_protocol::model::Duration::from_mins(mins))),
            to: Some(now),
        });
    };
    let close = move |_| {
        replayed.set(None);
        mode(None);
    };
    let replay_view = move || {
        replayed.get().map(|r| {
            let span = match (r.from, r.to) {
                (Some(a), Some(b)) => format!(
                    "{} to {}",
                    format::clock(a.millis(), true),
                    format::clock(b.millis(), true)
                ),
                _ => "no readings".into(),
            };
            let from = if r.sources.is_empty() {
                String::new()
            } else {
                format!("; recorded from {}", r.sources.join(", "))
            };
            let summary = format!(
                "Replayed {} offline: {} steps, {} readings, {} findings ({span}) in {} ms{from}",
                r.path, r.steps, r.readings, r.findings_total, r.took_ms
            );
            view! {
                <div id="replayed">
                    <p id="replay-summary">{summary}</p>
                    <crate::components::replay::ReplayView replayed=r/>
                </div>
            }
        })
    };
    // Its own memo, so the retention box is not rebuilt with every list.
    let recorded = Memo::new(move |_| data.with(|d| d.as_ref().is_some_and(|p| p.recorded)));
    let rows = move || {
        data.get().map(|p| {
            if !p.recorded {
                return view! { <p class="muted" id="history-off">"Nothing is recorded: this window has no history file."</p> }.into_any();
            }
            let file = p.file.clone().unwrap_or_default();
            let empty = p.rows.is_empty().then(|| view! { <p class="muted">"No incident is stored yet."</p> });
            let rows = p
                .rows
                .into_iter()
                .map(|r| {
                    let id = r.id.clone();
                    let again = r.id.clone();
                    view! {
                        <tr class="stored-incident" data-id=r.id.clone()>
                            <td>{format::clock(r.opened_at.millis(), false)}</td>
                            <td>{r.title.clone()}</td>
                            <td>{r.state.clone()}</td>
                            <td class=format!("sev {}", r.severity)>{r.severity.clone()}</td>
                            <td>{r.namespaces.join(", ")}</td>
                            <td>
                                <button class="replay-incident" disabled=move || busy.get()
                                    on:click=move |_| replay_part(ReplayRange { incident: Some(again.clone()), from: None, to: None })>"Replay"</button>
                                " "
                                <button class="bundle" disabled=move || busy.get()
                                    on:click=move |_| bundle(id.clone())>"Bundle"</button>
                            </td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <p class="muted">{format!("Stored in {file}")}</p>
                <table class="everywhere-table" id="history-table">
                    <thead><tr><th>"Opened"</th><th>"Incident"</th><th>"State"</th><th>"Severity"</th><th>"Namespaces"</th><th></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                {empty}
            }
            .into_any()
        })
    };
    view! {
        <section class="panel history" id="history-page">
            <h2>"History"<span class="cluster-tag">{move || crate::app::cluster_name(&ui)}</span></h2>
            <div class="report-export">
                <select id="history-state" on:change=move |ev| state.set(event_target_value(&ev))>
                    <option value="">"All states"</option>
                    <option value="open">"Open"</option>
                    <option value="acknowledged">"Acknowledged"</option>
                    <option value="resolved">"Resolved"</option>
                </select>
                <label>
                    <input type="checkbox" id="bundle-redact" prop:checked=move || redact.get()
                        on:change=move |ev| redact.set(event_target_checked(&ev))/>
                    " Redact bundles"
                </label>
                <input id="bundle-patterns" placeholder="More to redact: regex, regex…"
                    prop:value=move || patterns.get() on:input=move |ev| patterns.set(event_target_value(&ev))/>
                <button id="history-refresh" on:click=move |_| load()>"Refresh"</button>
            </div>
            <p class="muted" id="bundle-said">{move || said.get()}</p>
            {rows}
            {move || recorded.get().then(|| view! {
                <crate::components::retention::RetentionBox/>
                <crate::components::trend::TrendBox/>
            })}
            <h3>"Replay"</h3>
            <div class="report-export">
                <span>"This history, the last"</span>
                <select id="replay-last" on:change=move |ev| last_minutes.set(event_target_value(&ev).parse().unwrap_or(60))>
                    <option value="15">"15 minutes"</option>
                    <option value="60" selected>"hour"</option>
                    <option value="240">"4 hours"</option>
                    <option value="1440">"24 hours"</option>
                </select>
                <button id="replay-range" disabled=move || busy.get() on:click=replay_last>"Replay"</button>
                <span class="muted">"or a bundle or history file:"</span>
            </div>
            <div class="report-export">
                <input id="replay-path" placeholder="/path/to/incident.sentinel.db"
                    prop:value=move || path.get() on:input=move |ev| path.set(event_target_value(&ev))/>
                <button id="replay-open" disabled=move || busy.get() || path.with(|p| p.trim().is_empty())
                    on:click=replay>"Replay offline"</button>
                <label title="While replaying, live sources either keep recording in the background or pause">
                    <input type="checkbox" id="replay-pause-live" prop:checked=move || pause_live.get()
                        on:change=move |ev| {
                            pause_live.set(event_target_checked(&ev));
                            if let Some(r) = replayed.get_untracked() {
                                mode(Some(r.path));
                            }
                        }/>
                    " Pause live sources while replaying"
                </label>
                <button id="replay-close" disabled=move || replayed.with(Option::is_none) on:click=close>"Close replay"</button>
            </div>
            {replay_view}
        </section>
    }
}
