//! The node detail drawer: conditions, what its pods are placed with
//! against what it holds, its pods (those in trouble first, each opening
//! its own detail), the alerts on it, its events, and its recent use;
//! refreshed with every update while open.

use leptos::prelude::*;
use sentinel_protocol::{AlertOrigin, AlertRef, GetNodeDetail, NodeDetail, PodRef};

use super::pod_detail::{event_list, follow, label_chips, sparkline};
use crate::app::Ui;
use crate::format;

/// `used / capacity (percent)`, each side formatted by `f`.
fn share(used: f64, capacity: f64, f: impl Fn(f64) -> String) -> String {
    if capacity > 0.0 {
        format!(
            "{} / {} ({:.0}%)",
            f(used),
            f(capacity),
            100.0 * used / capacity
        )
    } else {
        format!("{} / –", f(used))
    }
}

fn body(d: NodeDetail, ui: Ui) -> impl IntoView {
    let at = d.at.millis();
    let r = d.row.clone();
    let cpu_cap = f64::from(d.cpu_capacity_millis) / 1000.0;
    let mem_cap = d.memory_capacity_bytes as f64;
    let conditions = d
        .conditions
        .iter()
        .map(|c| {
            view! {
                <tr class:bad=c.abnormal>
                    <td>{c.kind.clone()}</td>
                    <td>{if c.status { "True" } else { "False" }}</td>
                    <td>{c.reason.clone()}</td>
                    <td class="num" title=format::date_time(c.since.millis())>{format::age(at - c.since.millis())}</td>
                </tr>
            }
        })
        .collect_view();
    // Those in trouble come first.
    let pods = d
        .pods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let target = PodRef {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
            };
            let trouble = i < d.pods_in_trouble;
            view! {
                <tr class="pod-row" class:bad=trouble on:click=move |_| {
                    ui.node.set(None);
                    ui.selected.set(Some(target.clone()));
                }>
                    <td class="pod-name"><span class="muted">{format!("{}/", p.namespace)}</span>{p.name.clone()}</td>
                    <td>{p.phase.clone()}</td>
                    <td class="num">{format!("{}/{}", p.ready, p.containers)}</td>
                    <td class="num">{p.restarts}</td>
                    <td class="reason">{p.last_reason.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    let more = d.pods_total.saturating_sub(d.pods.len());
    let alerts = d
        .alerts
        .iter()
        .map(|a| {
            let why = AlertRef {
                fingerprint: a.fingerprint.clone(),
                since: (a.origin == AlertOrigin::Alertmanager).then_some(a.starts_at),
            };
            view! {
                <li class=format!("node-alert {}", a.severity.as_str())>
                    <span class="sev">{a.severity.as_str()}</span>
                    <span class="alert-name">{a.name.clone()}</span>
                    <span class="ev-msg">{a.summary.clone()}</span>
                    <button class="why" on:click=move |_| ui.why.set(Some(why.clone()))>"Why?"</button>
                </li>
            }
        })
        .collect_view();
    let events = event_list(
        &d.events,
        at,
        "No events about this node or warnings about its pods since Sentinel started.",
        &format!("Node/{}", r.name),
    );
    let labels = label_chips(&d.labels);
    view! {
        <h3 id="node-detail-name">{r.name.clone()}</h3>
        <div class="facts">
            <span class=if r.ready { "phase" } else { "phase failed" }>{if r.ready { "Ready" } else { "NotReady" }}</span>
            {r.cordoned.then(|| view! { <span class="phase pending" title="Unschedulable: no new pods land on it">"cordoned"</span> })}
            {(!d.roles.is_empty()).then(|| view! { <span>{format!("roles {}", d.roles.join(", "))}</span> })}
            <span id="node-detail-pods">{format!("{} pods, {} in trouble", d.pods_total, d.pods_in_trouble)}</span>
        </div>
        <h4>"Conditions"</h4>
        <table class="conditions" id="node-conditions">
            <thead><tr><th>"Condition"</th><th>"Status"</th><th>"Reason"</th><th>"Since"</th></tr></thead>
            <tbody>{conditions}</tbody>
        </table>
        <h4>"Capacity"</h4>
        <table class="capacity">
            <tbody>
                <tr><td>"CPU used"</td><td class="num">{d.cpu_cores.map_or_else(|| "–".to_string(), |c| share(c, cpu_cap, format::cores))}</td></tr>
                <tr><td>"CPU requested by its pods"</td><td class="num">{share(d.cpu_requested_millis as f64 / 1000.0, cpu_cap, format::cores)}</td></tr>
                <tr><td>"Memory used"</td><td class="num">{d.memory_bytes.map_or_else(|| "–".to_string(), |m| share(m, mem_cap, format::bytes))}</td></tr>
                <tr><td>"Memory its pods may use (limits)"</td><td class="num">{share(d.memory_limits_bytes as f64, mem_cap, format::bytes)}</td></tr>
            </tbody>
        </table>
        <h4>{format!("CPU {}", format::opt(r.cpu_percent, |v| format!("{v:.0}%")))}</h4>
        {if d.cpu.is_empty() { view! { <p class="empty">"No CPU samples yet."</p> }.into_any() } else { sparkline(&d.cpu, "cpu").into_any() }}
        <h4>{format!("Memory {}", format::opt(r.memory_percent, |v| format!("{v:.0}%")))}</h4>
        {if d.memory.is_empty() { view! { <p class="empty">"No memory samples yet."</p> }.into_any() } else { sparkline(&d.memory, "mem").into_any() }}
        {(!d.alerts.is_empty()).then(|| view! {
            <h4>"Firing on it and its pods"</h4>
            <ul class="node-alerts" id="node-alerts">{alerts}</ul>
        })}
        <h4>"Pods"</h4>
        <table class="node-pods" id="node-pods">
            <thead><tr><th>"Pod"</th><th>"Phase"</th><th>"Ready"</th><th>"Restarts"</th><th>"Last reason"</th></tr></thead>
            <tbody>{pods}</tbody>
        </table>
        {(more > 0).then(|| view! { <p class="muted">{format!("and {more} more: filter the pods table by this node's name")}</p> })}
        <h4>"Recent events"</h4>
        <ul class="events">{events}</ul>
        <h4>"Labels"</h4>
        <div class="chips">{labels}</div>
    }
}

#[component]
pub fn NodeDetailPanel() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let detail = follow::<GetNodeDetail>(ui, ui.node);
    let shown = move || match detail.get() {
        None => {
            view! { <div class="loading small"><div class="spinner"></div>"Loading node…"</div> }
                .into_any()
        }
        Some(Err(msg)) => view! { <div class="banner error">{msg}</div> }.into_any(),
        Some(Ok(d)) => body(d, ui).into_any(),
    };
    view! {
        <Show when=move || ui.node.get().is_some()>
            <div class="drawer-backdrop" on:click=move |_| ui.node.set(None)></div>
            <aside class="drawer" id="node-detail">
                <button class="close" on:click=move |_| ui.node.set(None)>"✕"</button>
                {shown}
            </aside>
        </Show>
    }
}
