//! The alert feed: firing alerts, newest first, coloured by severity and
//! filterable by it. Clicking an alert shows its description and labels;
//! its "Why?" button opens the rule trace.

use std::collections::HashSet;

use leptos::prelude::*;
use sentinel_protocol::model::Severity;
use sentinel_protocol::{AlertFold, AlertOrigin, AlertRef, AlertRow, fold_alerts};

use crate::app::Ui;
use crate::format;

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
    // Its source is not answering: this is its last report.
    let as_of = a
        .as_of
        .map(|t| format!("as of {}", format::clock(t.millis(), true)));
    let class = format!(
        "alert {}{}{}",
        a.severity.as_str(),
        if resolved { " resolved" } else { "" },
        if as_of.is_some() { " stale" } else { "" }
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
            <Show when=is_open.clone()>
                <div class="alert-detail">
                    <p>{description.clone()}</p>
                    <div class="chips">{labels.clone()}</div>
                    <p class="since">{format!("firing since {} (source: {})", format::clock(a.starts_at.millis(), true), a.source)}</p>
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
                "{}|{}|{:?}|{:?}|{:?}|{}",
                a.fingerprint,
                a.severity.as_str(),
                a.resolved_at,
                a.mark,
                a.as_of,
                a.summary
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
    let folds = Memo::new(move |_| {
        let min = min.get();
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
                <span class="count">{move || ui.overview.with(|o| o.as_ref().map(|o| o.alerts_total.to_string()).unwrap_or_default())}</span>
                <div class="seg">
                    {filter_button("All", None)}
                    {filter_button("Warning+", Some(Severity::Warning))}
                    {filter_button("Critical", Some(Severity::Critical))}
                </div>
            </div>
            {move || ui.overview.with(|o| o.as_ref().and_then(silent_alertmanager)).map(|text| view! {
                <p class="feed-stale" id="alerts-stale">{text}</p>
            })}
            <ul class="feed" id="alert-feed">
                <Show when=move || folds.with(Vec::is_empty)>
                    <li class="empty">"No alerts at this severity."</li>
                </Show>
                <For each=move || folds.get() key=identity children=fold_view/>
            </ul>
        </div>
    }
}
