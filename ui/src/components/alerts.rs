//! The alert feed: firing alerts, newest first, coloured by severity and
//! filterable by it and by terms (`namespace=shop`, `pod=~"web-.*"`, a
//! word), which the backend applies to every alert, not only the page the
//! overview carries. Alerts Alertmanager holds back (silenced, inhibited)
//! are shown only when asked for. Clicking an alert shows its description
//! and labels, and lets the operator silence it (or expire its silence);
//! its "Why?" button opens the rule trace.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::model::Severity;
use sentinel_protocol::{
    AlertFold, AlertOrigin, AlertQuery, AlertRef, AlertRow, ListAlerts, fold_alerts,
};

use super::silence::{ExpireSilences, SilenceForm, held_text};
use crate::app::Ui;
use crate::{format, ipc};

/// How many rows a search shows.
const SEARCH_LIMIT: usize = 200;

/// One alert: its head, its summary with "Why?", and its detail when open.
fn alert_item(
    a: AlertRow,
    now: Signal<i64>,
    ui: Ui,
    open: RwSignal<Option<String>>,
) -> impl IntoView {
    let starts = a.starts_at.millis();
    let fp = a.fingerprint.clone();
    let fp2 = a.fingerprint.clone();
    let is_open = move || open.get().as_deref() == Some(fp2.as_str());
    let subject = ["pod", "node", "service", "deployment"]
        .iter()
        .find_map(|k| {
            a.labels
                .get(*k)
                .map(|v| v.split('.').next().unwrap_or(v).to_string())
        })
        .unwrap_or_default();
    let labels = a
        .labels
        .iter()
        .map(|(k, v)| view! { <span class="chip">{format!("{k}={v}")}</span> })
        .collect_view();
    let description = a.description.clone();
    // An alert's start picks its firing if the history has to answer.
    let why_ref = AlertRef {
        fingerprint: a.fingerprint.clone(),
        since: (a.origin == AlertOrigin::Alertmanager).then_some(a.starts_at),
    };
    let origin = match a.origin {
        AlertOrigin::Engine => "sentinel",
        AlertOrigin::Alertmanager => "alertmanager",
    };
    let resolved = a.resolved_at.is_some();
    let mark = a.mark.map(|m| m.as_str());
    let held = a.held.clone();
    let held_line = held.as_ref().map(held_text);
    let held_tag = held.as_ref().map(|h| {
        if h.silences.is_empty() {
            "inhibited"
        } else {
            "silenced"
        }
    });
    // Alertmanager's own alerts can be silenced there, while it answers (the
    // demo's in the demo's own; Prometheus' alerts have no Alertmanager).
    let alertmanager = ui.overview.with_untracked(|o| {
        o.as_ref().is_some_and(|o| {
            o.status
                .sources
                .iter()
                .any(|s| s.kind == "alertmanager" || s.kind == "demo")
        })
    });
    let can_silence = alertmanager
        && a.origin == AlertOrigin::Alertmanager
        && a.as_of.is_none()
        && held.is_none();
    let expirable = held.filter(|h| alertmanager && !h.silences.is_empty() && a.as_of.is_none());
    let fingerprint = a.fingerprint.clone();
    let silence_labels = a.labels.clone();
    // Its source is not answering: this is its last report.
    let as_of = a
        .as_of
        .map(|t| format!("as of {}", format::clock(t.millis(), true)));
    let class = format!(
        "alert {}{}{}{}",
        a.severity.as_str(),
        if resolved { " resolved" } else { "" },
        if as_of.is_some() { " stale" } else { "" },
        if held_tag.is_some() { " held" } else { "" }
    );
    view! {
        <li class=class data-origin=origin on:click=move |_| {
            let now = open.get_untracked();
            open.set(if now.as_deref() == Some(fp.as_str()) { None } else { Some(fp.clone()) });
        }>
            <div class="alert-head">
                <span class="sev">{a.severity.as_str()}</span>
                <span class="alert-name">{a.name.clone()}</span>
                <span class="origin">{origin}</span>
                {resolved.then(|| view! { <span class="state">"resolved"</span> })}
                {mark.map(|m| view! { <span class="mark">{m}</span> })}
                {held_tag.map(|t| view! { <span class="held-tag" title="Alertmanager holds it back: it reaches no receiver and is not counted">{t}</span> })}
                {as_of.map(|t| view! { <span class="as-of" title="Its source is not answering: this is its last report">{t}</span> })}
                <span class="alert-age">{move || format::age(now.get() - starts)}</span>
            </div>
            <div class="alert-summary">
                <button class="why" title="Why did this fire?" on:click=move |ev| {
                    ev.stop_propagation();
                    ui.why.set(Some(why_ref.clone()));
                }>"Why?"</button>
                {a.summary.clone()}" "<span class="subject">{subject}</span>
            </div>
            {held_line.map(|t| view! { <div class="held-line">{t}</div> })}
            <Show when=is_open.clone()>
                <div class="alert-detail">
                    <p>{description.clone()}</p>
                    // With the silence form, its label toggles show them.
                    {(!can_silence).then(|| view! { <div class="chips">{labels.clone()}</div> })}
                    <p class="since">{format!("firing since {} (source: {})", format::clock(a.starts_at.millis(), true), a.source)}</p>
                    {can_silence.then(|| view! { <SilenceForm fingerprint=fingerprint.clone() labels=silence_labels.clone()/> })}
                    {expirable.clone().map(|h| view! { <ExpireSilences held=h/> })}
                </div>
            </Show>
        </li>
    }
}

/// What the feed lacks while Alertmanager does not answer.
fn silent_alertmanager(o: &sentinel_protocol::Overview) -> Option<String> {
    let s = o.alertmanager_silent.as_ref()?;
    Some(match s.since {
        Some(t) => format!(
            "Alertmanager is not answering: its alerts are as it last reported them, at {}.",
            format::clock(t.millis(), true)
        ),
        None => "Alertmanager has not answered yet: its alerts are not shown.".to_string(),
    })
}

/// Everything a fold's lines show but their age.
fn identity(f: &AlertFold) -> String {
    std::iter::once(&f.first)
        .chain(&f.more)
        .map(|a| {
            format!(
                "{}|{}|{:?}|{:?}|{:?}|{}|{:?}",
                a.fingerprint,
                a.severity.as_str(),
                a.resolved_at,
                a.mark,
                a.as_of,
                a.summary,
                a.held
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[component]
pub fn AlertFeed() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let min = RwSignal::new(None::<Severity>);
    let open = RwSignal::new(None::<String>);
    // The folds the operator opened; they stay open as the feed refreshes.
    let unfolded = RwSignal::new(HashSet::<String>::new());
    let filter_button = move |label: &'static str, level: Option<Severity>| {
        view! {
            <button class:active=move || min.get() == level on:click=move |_| min.set(level)>{label}</button>
        }
    };
    let now = Signal::derive(move || {
        ui.overview
            .with(|o| o.as_ref().map_or(0, |o| o.at.millis()))
    });
    // The operator's terms, and whether held-back alerts are shown: either
    // makes a search, which the backend answers over every alert.
    let text = RwSignal::new(String::new());
    let held = RwSignal::new(false);
    let found = RwSignal::new(None::<Result<Vec<AlertRow>, String>>);
    let asked = StoredValue::new(0u64);
    Effect::new(move |_| {
        let terms = text.get();
        let with_held = held.get();
        let min = min.get();
        // Asked again with every overview: the alerts change under it.
        ui.overview.with(|o| o.as_ref().map(|o| o.at));
        if terms.trim().is_empty() && !with_held {
            found.set(None);
            return;
        }
        let n = asked.get_value() + 1;
        asked.set_value(n);
        let q = AlertQuery {
            min_severity: min,
            limit: Some(SEARCH_LIMIT),
            text: Some(terms).filter(|t| !t.trim().is_empty()),
            held: with_held,
        };
        spawn_local(async move {
            let r = ipc::call::<ListAlerts>(&q).await.map_err(|e| e.message);
            // Only the newest question's answer is shown.
            if asked.get_value() == n {
                found.set(Some(r));
            }
        });
    });
    let folds = Memo::new(move |_| {
        let min = min.get();
        if let Some(r) = found.get() {
            return r.map(fold_alerts).unwrap_or_default();
        }
        ui.overview.with(|o| {
            o.as_ref().map_or_else(Vec::new, |o| {
                let shown = o
                    .alerts
                    .iter()
                    .filter(|a| min.is_none_or(|m| a.severity >= m))
                    .cloned()
                    .collect();
                fold_alerts(shown)
            })
        })
    });
    // Keyed by what each line shows: a line is made for its own alerts and
    // kept while they stay as they are (only its age moves), never reused
    // for another alert.
    let fold_view = move |f: AlertFold| {
        let first = alert_item(f.first.clone(), now, ui, open);
        if f.more.is_empty() {
            return first.into_any();
        }
        let key = f.key();
        let n = f.more.len();
        let name = f.first.name.clone();
        let is_unfolded = {
            let key = key.clone();
            move || unfolded.with(|u| u.contains(&key))
        };
        let label = {
            let is_unfolded = is_unfolded.clone();
            move || {
                if is_unfolded() {
                    format!("hide the other {n} {name}")
                } else {
                    format!("+ {n} more {name}")
                }
            }
        };
        let toggle = move |_| {
            unfolded.update(|u| {
                if !u.remove(&key) {
                    u.insert(key.clone());
                }
            })
        };
        let more = f.more;
        view! {
            {first}
            <li class="alert-fold">
                <button class="alert-unfold" on:click=toggle>{label}</button>
            </li>
            {move || is_unfolded().then(|| more.iter().cloned().map(|a| alert_item(a, now, ui, open)).collect_view())}
        }
        .into_any()
    };
    view! {
        <div class="panel alerts" id="alerts">
            <div class="panel-head">
                <h2>"Alerts"<span class="cluster-tag">{move || crate::app::cluster_name(&ui)}</span></h2>
                <span class="count" id="alerts-count">{move || match found.with(|f| f.as_ref().map(|r| r.as_ref().map_or(0, Vec::len))) {
                    Some(n) if n >= SEARCH_LIMIT => format!("{n}+"),
                    Some(n) => n.to_string(),
                    None => ui.overview.with(|o| o.as_ref().map(|o| o.alerts_total.to_string()).unwrap_or_default()),
                }}</span>
                <div class="seg">
                    {filter_button("All", None)}
                    {filter_button("Warning+", Some(Severity::Warning))}
                    {filter_button("Critical", Some(Severity::Critical))}
                </div>
            </div>
            <div class="feed-tools">
                <input id="alert-filter" type="search" placeholder="Filter: word, label=value, label=~regex"
                    title="Every term must match: label=value, label!=value, label=~regex, label!~regex, or a word in the name, summary or labels"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))/>
                {move || {
                    let n = ui.overview.with(|o| o.as_ref().map_or(0, |o| o.alerts_held));
                    (n > 0 || held.get()).then(|| view! {
                        <button id="alert-held" class:active=move || held.get()
                            title="Alerts Alertmanager holds back (silenced or inhibited): they reach no receiver and are not counted"
                            on:click=move |_| held.update(|h| *h = !*h)>
                            {move || if held.get() { "hide silenced".to_string() } else { format!("{n} silenced") }}
                        </button>
                    })
                }}
            </div>
            {move || ui.overview.with(|o| o.as_ref().and_then(silent_alertmanager)).map(|text| view! {
                <p class="feed-stale" id="alerts-stale">{text}</p>
            })}
            {move || found.with(|f| f.as_ref().and_then(|r| r.as_ref().err().cloned())).map(|e| view! {
                <p class="feed-error" id="alerts-filter-error">{e}</p>
            })}
            <ul class="feed" id="alert-feed">
                <Show when=move || folds.with(Vec::is_empty) && !found.with(|f| matches!(f, Some(Err(_))))>
                    <li class="empty">{move || if found.with(Option::is_some) { "No alert matches." } else { "No alerts at this severity." }}</li>
                </Show>
                <For each=move || folds.get() key=identity children=fold_view/>
            </ul>
        </div>
    }
}
