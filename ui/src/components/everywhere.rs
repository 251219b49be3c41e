//! "Broken everywhere": every cluster at a glance, then the unhealthy pods
//! and firing alerts of all of them, each with its cluster. A row opens its
//! cluster on the dashboard with the pod (or the alert's "Why?") shown.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::{
    ClusterRef, Everywhere, GetEverywhere, NoArgs, PodRef, SelectCluster, TrayLevel,
};

use crate::app::{Page, Ui};
use crate::ipc;

fn level(l: TrayLevel) -> (&'static str, &'static str) {
    match l {
        TrayLevel::Ok => ("ok", "ok"),
        TrayLevel::Warning => ("warning", "warning"),
        TrayLevel::Critical => ("critical", "critical"),
        TrayLevel::Stale => ("stale", "stale source"),
    }
}

/// Shows `cluster` on the dashboard, then runs `then`.
pub fn show_cluster(ui: Ui, cluster: String, then: impl FnOnce() + 'static) {
    spawn_local(async move {
        match ipc::call::<SelectCluster>(&ClusterRef { name: cluster }).await {
            Ok(o) => {
                ui.overview.set(Some(o));
                ui.selected.set(None);
                ui.node.set(None);
                ui.why.set(None);
                ui.refresh_pods();
                then();
            }
            Err(e) => ui.error.set(Some(format!("Cluster: {}", e.message))),
        }
    });
}

#[component]
pub fn EverywherePage() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let data = RwSignal::new(None::<Everywhere>);
    // Refreshed with every update of the dashboard's stream.
    Effect::new(move |_| {
        ui.overview.track();
        spawn_local(async move {
            match ipc::call::<GetEverywhere>(&NoArgs {}).await {
                Ok(e) => data.set(Some(e)),
                Err(e) => ui.error.set(Some(format!("Everywhere: {}", e.message))),
            }
        });
    });
    let summaries = move || {
        data.get().map(|d| {
            d.clusters
                .into_iter()
                .map(|c| {
                    let (class, word) = level(c.level);
                    let name = c.name.clone();
                    view! {
                        <div class=format!("cluster-card {class}") data-cluster=c.name.clone()
                            on:click=move |_| { let n = name.clone(); show_cluster(ui, n, move || ui.page.set(Page::Dashboard)); }>
                            <div class="cluster-name">{c.name.clone()}</div>
                            <div class="muted">{word}</div>
                            <div>{format!("{} of {} pods unhealthy", c.pods_unhealthy, c.pods_total)}</div>
                            <div>{format!("{} alerts firing · {} incidents", c.alerts_firing, c.incidents_active)}</div>
                        </div>
                    }
                })
                .collect_view()
        })
    };
    let pods = move || {
        data.get().map(|d| {
            let more = (d.pods_more > 0).then(|| view! { <p class="muted">{format!("… and {} more", d.pods_more)}</p> });
            let none = d.pods.is_empty().then(|| view! { <p class="muted" id="everywhere-no-pods">"No unhealthy pod in any cluster."</p> });
            let rows = d
                .pods
                .into_iter()
                .map(|p| {
                    let (cluster, r) = (p.cluster.clone(), PodRef { namespace: p.pod.namespace.clone(), name: p.pod.name.clone() });
                    let open = move |_| {
                        let r = r.clone();
                        show_cluster(ui, cluster.clone(), move || {
                            ui.page.set(Page::Dashboard);
                            ui.selected.set(Some(r));
                        });
                    };
                    view! {
                        <tr class="broken-pod" on:click=open>
                            <td class="cluster-cell">{p.cluster.clone()}</td>
                            <td>{format!("{}/{}", p.pod.namespace, p.pod.name)}</td>
                            <td>{p.pod.phase.clone()}</td>
                            <td>{format!("{}/{}", p.pod.ready, p.pod.containers)}</td>
                            <td>{p.pod.restarts}</td>
                            <td>{p.pod.last_reason.clone().unwrap_or_default()}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table class="everywhere-table" id="everywhere-pods">
                    <thead><tr><th>"Cluster"</th><th>"Pod"</th><th>"Phase"</th><th>"Ready"</th><th>"Restarts"</th><th>"Last reason"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                {none}
                {more}
            }
        })
    };
    let alerts = move || {
        data.get().map(|d| {
            let more = (d.alerts_more > 0).then(|| view! { <p class="muted">{format!("… and {} more", d.alerts_more)}</p> });
            let none = d.alerts.is_empty().then(|| view! { <p class="muted">"No alert firing in any cluster."</p> });
            let rows = d
                .alerts
                .into_iter()
                .map(|a| {
                    let cluster = a.cluster.clone();
                    let fp = sentinel_protocol::AlertRef {
                        fingerprint: a.alert.fingerprint.clone(),
                        since: (a.alert.origin == sentinel_protocol::AlertOrigin::Alertmanager)
                            .then_some(a.alert.starts_at),
                    };
                    let open = move |_| {
                        let fp = fp.clone();
                        show_cluster(ui, cluster.clone(), move || {
                            ui.page.set(Page::Dashboard);
                            ui.why.set(Some(fp));
                        });
                    };
                    let sev = a.alert.severity.as_str();
                    // Its Alertmanager is not answering: its last report.
                    let as_of = a.alert.as_of.map(|t| {
                        view! { <span class="as-of">{format!(" (as of {})", crate::format::clock(t.millis(), true))}</span> }
                    });
                    let stale = if as_of.is_some() { " stale" } else { "" };
                    view! {
                        <tr class=format!("cluster-alert {sev}{stale}") on:click=open>
                            <td class="cluster-cell">{a.cluster.clone()}</td>
                            <td class="sev">{sev}</td>
                            <td>{a.alert.name.clone()}</td>
                            <td>{a.alert.summary.clone()}{as_of}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table class="everywhere-table" id="everywhere-alerts">
                    <thead><tr><th>"Cluster"</th><th>"Severity"</th><th>"Alert"</th><th>"Summary"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                {none}
                {more}
            }
        })
    };
    view! {
        <section class="panel everywhere" id="everywhere-page">
            <h2>"Broken everywhere"</h2>
            <div class="cluster-cards" id="cluster-cards">{summaries}</div>
            <h3>"Unhealthy pods"</h3>
            {pods}
            <h3>"Firing alerts"</h3>
            {alerts}
        </section>
    }
}
