//! The Incidents page: a list filtered by state, severity, cluster, namespace
//! and time (the backend filters), refreshed with every update; selecting a row opens
//! its detail beside it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::model::{Severity, Timestamp};
use sentinel_protocol::{IncidentPage, IncidentQuery, IncidentRow, IncidentState, ListIncidents};

use crate::app::Ui;
use crate::components::IncidentDetailPanel;
use crate::{format, ipc};

fn states(filter: &str) -> Vec<IncidentState> {
    match filter {
        "active" => vec![IncidentState::Open, IncidentState::Acknowledged],
        "open" => vec![IncidentState::Open],
        "acknowledged" => vec![IncidentState::Acknowledged],
        "resolved" => vec![IncidentState::Resolved],
        _ => vec![],
    }
}

#[component]
pub fn IncidentsPage() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let state = RwSignal::new("all".to_string());
    let severity = RwSignal::new(String::new());
    let namespace = RwSignal::new(String::new());
    let cluster = RwSignal::new(String::new());
    // Minutes back from now; 0: any time.
    let window = RwSignal::new(0i64);
    let page = RwSignal::new(None::<IncidentPage>);
    // Replies may come back out of order: one older than the last shown, or
    // asked under filters changed since, is dropped.
    let asked = StoredValue::new(0u64);
    let shown = StoredValue::new(0u64);
    let filters = move || {
        (
            state.get_untracked(),
            severity.get_untracked(),
            namespace.get_untracked(),
            cluster.get_untracked(),
            window.get_untracked(),
        )
    };
    Effect::new(move |_| {
        ui.overview.track();
        let q = IncidentQuery {
            states: states(&state.get()),
            min_severity: match severity.get().as_str() {
                "warning" => Some(Severity::Warning),
                "critical" => Some(Severity::Critical),
                _ => None,
            },
            namespace: Some(namespace.get()).filter(|n| !n.is_empty()),
            cluster: Some(cluster.get()).filter(|c| !c.is_empty()),
            since: match window.get() {
                0 => None,
                m => ui
                    .overview
                    .with_untracked(|o| o.as_ref().map(|o| Timestamp(o.at.millis() - m * 60_000))),
            },
            limit: Some(200),
        };
        let seq = asked.get_value() + 1;
        asked.set_value(seq);
        let under = filters();
        spawn_local(async move {
            let reply = ipc::call::<ListIncidents>(&q).await;
            if seq < shown.get_value() || under != filters() {
                return;
            }
            shown.set_value(seq);
            match reply {
                // Unchanged rows are not redrawn; only their ages move.
                Ok(p) if page.with_untracked(|x| x.as_ref() != Some(&p)) => page.set(Some(p)),
                Ok(_) => {}
                Err(e) => ui.error.set(Some(format!("Incidents: {}", e.message))),
            }
        });
    });
    let now = move || {
        ui.overview
            .with(|o| o.as_ref().map_or(0, |o| o.at.millis()))
    };
    let rows = move || page.with(|p| p.as_ref().map(|p| p.rows.clone()).unwrap_or_default());
    let empty = move || {
        page.with(|p| match p {
            None => Some("Loading…"),
            Some(p) if p.rows.is_empty() => Some("No incidents match."),
            Some(_) => None,
        })
    };
    // Keyed by what each row shows: a row is made for its own incident and
    // kept while it stays as it is, never reused for another.
    let row_view = move |r: IncidentRow| {
        let id = r.id.clone();
        let id2 = r.id.clone();
        let selected = move || ui.incident.get().as_deref() == Some(id2.as_str());
        let state = if r.merged_into.is_some() {
            "merged"
        } else {
            r.state.as_str()
        };
        let who = r
            .acknowledged_by
            .clone()
            .map(|b| format!(" by {b}"))
            .unwrap_or_default();
        let opened = r.opened_at.millis();
        view! {
            <tr class=format!("incident-row {}", r.severity.as_str()) class:selected=selected
                data-id=r.id.clone()
                on:click=move |_| { ui.case.set(None); ui.incident.set(Some(id.clone())) }>
                <td><span class=format!("sev-pill {}", r.severity.as_str())>{r.severity.as_str()}</span></td>
                <td class="incident-title">{r.title.clone()}</td>
                <td class=format!("state {state}")>{format!("{state}{who}")}</td>
                <td class="cluster">{r.cluster.clone()}</td>
                <td class="namespaces">{r.namespaces.join(", ")}</td>
                <td class="num">{format!("{}/{}", r.active_members, r.members)}</td>
                <td class="num">{move || format::age(now() - opened)}</td>
            </tr>
        }
    };
    let namespaces = move || {
        page.with(|p| p.as_ref().map(|p| p.namespaces.clone()).unwrap_or_default())
            .into_iter()
            .map(|n| view! { <option value=n.clone()>{n.clone()}</option> })
            .collect_view()
    };
    let clusters = move || {
        page.with(|p| p.as_ref().map(|p| p.clusters.clone()).unwrap_or_default())
            .into_iter()
            .map(|c| view! { <option value=c.clone()>{c.clone()}</option> })
            .collect_view()
    };
    let counts = move || {
        page.with(|p| {
            p.as_ref()
                .map(|p| {
                    format!(
                        "{} shown of {} · {} active",
                        p.rows.len(),
                        p.total,
                        p.active
                    )
                })
                .unwrap_or_default()
        })
    };
    view! {
        <section class="incidents-page" id="incidents-page">
            <div class="panel incident-list">
                <div class="panel-head">
                    <h2>"Incidents"<span class="cluster-tag">{move || crate::app::cluster_name(&ui)}</span></h2>
                    <span class="page-info" id="incident-counts">{counts}</span>
                </div>
                <div class="filters">
                    <select id="incident-state-filter" on:change=move |ev| state.set(event_target_value(&ev))>
                        <option value="all">"Any state"</option>
                        <option value="active">"Active"</option>
                        <option value="open">"Open"</option>
                        <option value="acknowledged">"Acknowledged"</option>
                        <option value="resolved">"Resolved"</option>
                    </select>
                    <select id="incident-severity" on:change=move |ev| severity.set(event_target_value(&ev))>
                        <option value="">"Any severity"</option>
                        <option value="warning">"Warning+"</option>
                        <option value="critical">"Critical"</option>
                    </select>
                    <select id="incident-namespace" on:change=move |ev| namespace.set(event_target_value(&ev))>
                        <option value="">"All namespaces"</option>
                        {namespaces}
                    </select>
                    <select id="incident-cluster" on:change=move |ev| cluster.set(event_target_value(&ev))>
                        <option value="">"All clusters"</option>
                        {clusters}
                    </select>
                    <select id="incident-window"
                        on:change=move |ev| window.set(event_target_value(&ev).parse().unwrap_or(0))>
                        <option value="0">"Any time"</option>
                        <option value="15">"Last 15 min"</option>
                        <option value="60">"Last hour"</option>
                        <option value="360">"Last 6 hours"</option>
                        <option value="1440">"Last 24 hours"</option>
                        <option value="10080">"Last 7 days"</option>
                    </select>
                </div>
                <div class="table-wrap">
                    <table id="incident-table">
                        <thead><tr><th>"Severity"</th><th>"Incident"</th><th>"State"</th><th>"Cluster"</th><th>"Namespaces"</th><th>"Active"</th><th>"Opened"</th></tr></thead>
                        <tbody>
                            {move || empty().map(|text| view! { <tr><td colspan="7" class="empty">{text}</td></tr> })}
                            <For each=rows key=|r| format!("{r:?}") children=row_view/>
                        </tbody>
                    </table>
                </div>
                <super::case::CaseOpener/>
            </div>
            <IncidentDetailPanel/>
        </section>
    }
}
