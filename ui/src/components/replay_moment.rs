//! The recording as of the scrub time: the nodes, the pods table, the alert
//! feed and, for a clicked finding, the Why-panel as its trace stood then. Asked of
//! the backend (which reads the file, no network) as the scrub time moves;
//! one request at a time, the newest time wins.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::model::Timestamp;
use sentinel_protocol::{ReplayAt, ReplayFrame, ReplayState};

use crate::format;
use crate::ipc;

/// Pods shown in the replay's table.
const PODS_SHOWN: usize = 25;

#[component]
pub fn ReplayMoment(path: String, at: RwSignal<i64>) -> impl IntoView {
    let frame = RwSignal::new(None::<ReplayFrame>);
    let error = RwSignal::new(None::<String>);
    let busy = StoredValue::new(false);
    let asked = StoredValue::new(i64::MIN);
    let chosen = RwSignal::new(None::<String>);
    let path = StoredValue::new(path);
    // Fetches the newest scrub time; another request follows if it moved.
    fn fetch(
        path: StoredValue<String>,
        at: RwSignal<i64>,
        busy: StoredValue<bool>,
        asked: StoredValue<i64>,
        frame: RwSignal<Option<ReplayFrame>>,
        error: RwSignal<Option<String>>,
    ) {
        let t = at.get_untracked();
        if busy.get_value() || asked.get_value() == t {
            return;
        }
        busy.set_value(true);
        asked.set_value(t);
        let req = ReplayAt {
            path: path.get_value(),
            at: Timestamp(t),
        };
        spawn_local(async move {
            match ipc::call::<ReplayState>(&req).await {
                Ok(f) => {
                    error.set(None);
                    frame.set(Some(f));
                }
                Err(e) => error.set(Some(e.message)),
            }
            busy.set_value(false);
            if at.get_untracked() != t {
                fetch(path, at, busy, asked, frame, error);
            }
        });
    }
    Effect::new(move |_| {
        at.track();
        fetch(path, at, busy, asked, frame, error);
    });
    let pods = move || {
        frame.with(|f| {
            let f = f.as_ref()?;
            if !f.objects_recorded {
                return Some(view! { <p class="muted" id="replay-no-objects">"This recording keeps no pods, nodes or alerts (it was made before they were recorded)."</p> }.into_any());
            }
            let not_ready = f.nodes.iter().filter(|n| !n.ready).count();
            let head = format!(
                "{} pods, {} nodes{} at {}",
                f.pods_total,
                f.nodes.len(),
                if not_ready > 0 { format!(" ({not_ready} not ready)") } else { String::new() },
                format::clock(f.at.millis(), true)
            );
            let rows = f
                .pods
                .iter()
                .take(PODS_SHOWN)
                .map(|p| {
                    view! {
                        <tr class="replay-pod">
                            <td>{format!("{}/{}", p.namespace, p.name)}</td>
                            <td>{p.phase.clone()}</td>
                            <td>{format!("{}/{}", p.ready, p.containers)}</td>
                            <td>{p.restarts}</td>
                            <td>{p.last_reason.clone().unwrap_or_default()}</td>
                        </tr>
                    }
                })
                .collect_view();
            // The nodes then, those in trouble first: a node that went down
            // is what a node incident's replay is about.
            let mut nodes: Vec<_> = f.nodes.iter().collect();
            nodes.sort_by_key(|n| (n.ready && !n.cordoned, n.name.clone()));
            let nodes = nodes
                .into_iter()
                .map(|n| {
                    let state = if n.ready { "Ready" } else { "NotReady" };
                    let mut said = format!("{state} · {} pods", n.pods);
                    if n.cordoned {
                        said.push_str(" · cordoned");
                    }
                    for p in &n.problems {
                        said.push_str(" · ");
                        said.push_str(p);
                    }
                    view! {
                        <li class="replay-node" class:notready=!n.ready data-node=n.name.clone()>
                            <b>{n.name.clone()}</b>" "<span class="muted">{said}</span>
                        </li>
                    }
                })
                .collect_view();
            Some(view! {
                <p class="muted" id="replay-pods-head">{head}</p>
                <ul class="replay-nodes" id="replay-nodes">{nodes}</ul>
                <table class="everywhere-table" id="replay-pods">
                    <thead><tr><th>"Pod"</th><th>"Phase"</th><th>"Ready"</th><th>"Restarts"</th><th>"Reason"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }.into_any())
        })
    };
    let alerts = move || {
        frame.with(|f| {
            let f = f.as_ref()?;
            if f.alerts.is_empty() {
                return Some(view! { <p class="muted">"Nothing firing."</p> }.into_any());
            }
            Some(
                f.alerts
                    .iter()
                    .map(|a| {
                        let sev = a.severity.as_str();
                        let id = a.fingerprint.clone();
                        let origin = format!("{:?}", a.origin).to_lowercase();
                        view! {
                            <li class=format!("replay-firing {sev}") data-origin=origin.clone()
                                on:click=move |_| chosen.set(Some(id.clone()))>
                                <span class="sev">{sev}</span>" "<b>{a.name.clone()}</b>" "{a.summary.clone()}
                                <span class="muted">{format!(" since {} ({origin})", format::clock(a.starts_at.millis(), true))}</span>
                            </li>
                        }
                    })
                    .collect_view()
                    .into_any(),
            )
        })
    };
    let why = move || {
        let id = chosen.get()?;
        frame.with(|f| {
            let f = f.as_ref()?;
            let e = f.explanations.iter().find(|e| e.fingerprint == id);
            Some(match e {
                Some(e) => view! {
                    <div class="replay-why" id="replay-why">
                        <h4>{format!("Why: {} ({} then)", e.title, e.state)}</h4>
                        <ol>{e.steps.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ol>
                    </div>
                }
                .into_any(),
                None => view! {
                    <div class="replay-why" id="replay-why">
                        <p class="muted">"Not firing at this moment (or evaluated by Alertmanager, which keeps no trace)."</p>
                    </div>
                }
                .into_any(),
            })
        })
    };
    view! {
        <div class="replay-moment">
            <div><h4>"Firing then"</h4><ul id="replay-firing">{alerts}</ul>{why}</div>
            <div><h4>"Pods then"</h4>{pods}</div>
        </div>
        <p class="error" id="replay-error">{move || error.get()}</p>
    }
}
