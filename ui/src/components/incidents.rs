//! The Incidents page: a list filtered by state, severity, cluster, namespace
//! and time (the backend filters), refreshed with every update; selecting a row opens
//! its detail beside it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::model::{Severity, Timestamp};
use sentinel_protocol::{IncidentPage, IncidentQuery, IncidentState, ListIncidents};

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
        spawn_local(async move {
            match ipc::call::<ListIncidents>(&q).await {
                Ok(p) => page.set(Some(p)),
                Err(e) => ui.error.set(Some(format!("Incidents: {}", e.message))),
            }
        });
    });
    let now = move || {
        ui.overview
            .with(|o| o.as_ref().map_or(0, |o| o.at.millis()))
    };
    let rows = move || {
        let Some(p) = page.get() else {
            return view! { <tr><td colspan="7" class="empty">"Loading…"</td></tr> }.into_any();
        };
        if p.rows.is_empty() {
            return view! { <tr><td colspan="7" class="empty">"No incidents match."</td></tr> }
                .into_any();
        }
        p.rows
            .into_iter()
            .map(|r| {
                let id = r.id.clone();
                let id2 = r.id.clone();
                let selected = move || ui.incident.get().as_deref() == Some(id2.as_str());
                let state = r.state.as_str();
                let who = r.acknowledged_by.clone().map(|b| format!(" by {b}")).unwrap_or_default();
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
                        <td class="num">{format::age(now() - r.opened_at.millis())}</td>
                    </tr>
                }
            })
            .collect_view()
            .into_any()
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
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                <super::case::CaseOpener/>
            </div>
            <IncidentDetailPanel/>
        </section>
    }
}
