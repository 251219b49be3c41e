//! The pod detail drawer: containers, recent events and a CPU/memory
//! sparkline, refreshed with every update while open.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::model::Labels;
use sentinel_protocol::{Command, EventRow, GetPodDetail, NodeRef, Point};

use crate::app::Ui;
use crate::format;
use crate::ipc;

/// An inline SVG line of the points, scaled to its own range.
pub(crate) fn sparkline(points: &[Point], class: &'static str) -> impl IntoView + use<> {
    let (w, h) = (320.0, 48.0);
    let (t0, t1) = (
        points.first().map_or(0, |p| p.0),
        points.last().map_or(1, |p| p.0),
    );
    let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    let span_t = (t1 - t0).max(1) as f64;
    let span_v = if hi > lo { hi - lo } else { 1.0 };
    let path: String = points
        .iter()
        .map(|p| {
            format!(
                "{:.1},{:.1}",
                (p.0 - t0) as f64 / span_t * w,
                h - 2.0 - (p.1 - lo) / span_v * (h - 4.0)
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <svg class=format!("spark {class}") viewBox=format!("0 0 {w} {h}") preserveAspectRatio="none">
            <polyline points=path fill="none" stroke-width="1.5"></polyline>
        </svg>
    }
}

/// The answer to `C` for what `selected` holds, asked again at every
/// update while something is selected; `None` while nothing is, or before
/// the first answer. An answer for an earlier selection is dropped.
pub(crate) fn follow<C>(
    ui: Ui,
    selected: RwSignal<Option<C::Args>>,
) -> RwSignal<Option<Result<C::Output, String>>>
where
    C: Command,
    C::Args: Clone + PartialEq + Send + Sync + 'static,
    C::Output: Send + Sync + 'static,
{
    let answer = RwSignal::new(None);
    Effect::new(move |_| {
        ui.overview.track();
        let Some(target) = selected.get() else {
            answer.set(None);
            return;
        };
        spawn_local(async move {
            let got = ipc::call::<C>(&target).await.map_err(|e| e.message);
            if selected.get_untracked().as_ref() == Some(&target) {
                answer.set(Some(got));
            }
        });
    });
    answer
}

/// Events, newest first, each with its age at `at`; one about another
/// object than `own` names it. `empty` stands in for none.
pub(crate) fn event_list(events: &[EventRow], at: i64, empty: &'static str, own: &str) -> AnyView {
    if events.is_empty() {
        return view! { <li class="empty">{empty}</li> }.into_any();
    }
    events
        .iter()
        .map(|e| {
            let object = (e.object != own)
                .then(|| view! { <span class="ev-object">{e.object.clone()}</span> });
            view! {
                <li class=format!("event {}", e.kind.to_lowercase())>
                    <span class="ev-age">{format::age(at - e.last_seen.millis())}</span>
                    <span class="ev-reason">{e.reason.clone()}</span>
                    <span class="ev-msg">{object}{e.message.clone()}</span>
                </li>
            }
        })
        .collect_view()
        .into_any()
}

/// Labels as `key=value` chips.
pub(crate) fn label_chips(labels: &Labels) -> impl IntoView + use<> {
    labels
        .iter()
        .map(|(k, v)| view! { <span class="chip">{format!("{k}={v}")}</span> })
        .collect_view()
}

#[component]
pub fn PodDetailPanel() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let detail = follow::<GetPodDetail>(ui, ui.selected);
    let body = move || match detail.get() {
        None => {
            view! { <div class="loading small"><div class="spinner"></div>"Loading pod…"</div> }
                .into_any()
        }
        Some(Err(msg)) => view! { <div class="banner error">{msg}</div> }.into_any(),
        Some(Ok(d)) => {
            let at = d.at.millis();
            let r = d.row.clone();
            let containers = d
                .containers
                .iter()
                .map(|c| {
                    // Declared ports and probes, under the container they belong to.
                    let spec = (!c.ports.is_empty() || !c.probes.is_empty()).then(|| {
                        let ports = (!c.ports.is_empty())
                            .then(|| view! { <li>{format!("Ports {}", c.ports.join(", "))}</li> });
                        let probes = c
                            .probes
                            .iter()
                            .map(|p| view! { <li>{p.clone()}</li> })
                            .collect_view();
                        view! {
                            <tr class="spec">
                                <td colspan="6"><ul>{ports}{probes}</ul></td>
                            </tr>
                        }
                    });
                    view! {
                        <tr>
                            <td>{c.name.clone()}</td>
                            <td class="mono">{c.image.clone()}</td>
                            <td>{c.state.clone()}</td>
                            <td class="num">{c.restarts}</td>
                            <td>{c.last_termination_reason.clone().unwrap_or_else(|| "–".into())}</td>
                            <td class="num">{format!("{}m / {}", c.cpu_request_millis, format::bytes(c.memory_limit_bytes as f64))}</td>
                        </tr>
                        {spec}
                    }
                })
                .collect_view();
            let events = event_list(
                &d.events,
                at,
                "No events recorded for this pod since Sentinel started.",
                &format!("Pod/{}", r.name),
            );
            let labels = label_chips(&d.labels);
            view! {
                <h3 id="pod-detail-name">{format!("{}/{}", r.namespace, r.name)}</h3>
                <div class="facts">
                    <span class=format!("phase {}", r.phase.to_lowercase())>{r.phase.clone()}</span>
                    <span>{format!("ready {}/{}", r.ready, r.containers)}</span>
                    <span>{format!("restarts {}", r.restarts)}</span>
                    {match r.node.clone() {
                        // Its node's detail replaces the pod's.
                        Some(n) => view! {
                            <span>"node "<a href="#" class="node-link" title="Open the node's detail"
                                on:click=move |ev| {
                                    ev.prevent_default();
                                    ui.selected.set(None);
                                    ui.node.set(Some(NodeRef { name: n.clone() }));
                                }>{r.node.clone()}</a></span>
                        }.into_any(),
                        None => view! { <span>"node –"</span> }.into_any(),
                    }}
                    <span>{format!("age {}", format::age(at - r.created_at.millis()))}</span>
                    <span>{d.owner.clone().unwrap_or_default()}</span>
                    {d.services.iter().map(|s| view! { <span class="served">{format!("Service {s}")}</span> }).collect_view()}
                    {d.calls.iter().map(|c| view! { <span class="served calls">{c.clone()}</span> }).collect_view()}
                </div>
                <div class="chips">{labels}</div>
                <h4>{format!("CPU {}", format::opt(r.cpu_cores, format::cores))}</h4>
                {if d.cpu.is_empty() { view! { <p class="empty">"No CPU samples yet."</p> }.into_any() } else { sparkline(&d.cpu, "cpu").into_any() }}
                <h4>{format!("Memory {}", format::opt(r.memory_bytes, format::bytes))}</h4>
                {if d.memory.is_empty() { view! { <p class="empty">"No memory samples yet."</p> }.into_any() } else { sparkline(&d.memory, "mem").into_any() }}
                <h4>"Containers"</h4>
                <table class="containers">
                    <thead><tr><th>"Name"</th><th>"Image"</th><th>"State"</th><th>"Restarts"</th><th>"Last termination"</th><th>"Request / limit"</th></tr></thead>
                    <tbody>{containers}</tbody>
                </table>
                <h4>"Recent events"</h4>
                <ul class="events">{events}</ul>
            }
            .into_any()
        }
    };
    // The log view lives outside the refreshed body, keyed by the pod, so
    // what it shows survives every update.
    let target = Memo::new(move |_| ui.selected.get());
    let containers = Signal::derive(move || {
        detail.with(|d| match d {
            Some(Ok(d)) => d.containers.iter().map(|c| c.name.clone()).collect(),
            _ => Vec::new(),
        })
    });
    let logs = move || {
        target
            .get()
            .map(|t| view! { <super::pod_logs::PodLogs target=t containers=containers/> })
    };
    view! {
        <Show when=move || ui.selected.get().is_some()>
            <div class="drawer-backdrop" on:click=move |_| ui.selected.set(None)></div>
            <aside class="drawer" id="pod-detail">
                <button class="close" on:click=move |_| ui.selected.set(None)>"✕"</button>
                {body}
                {logs}
            </aside>
        </Show>
    }
}
