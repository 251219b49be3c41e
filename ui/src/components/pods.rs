//! The pods table: filter by text and namespace, sort by any column, page
//! through. The backend filters, sorts and pages; the UI holds one page.

use leptos::prelude::*;
use sentinel_protocol::{PodRef, PodRow, PodSort};

use crate::app::Ui;
use crate::format;

const COLUMNS: &[(&str, PodSort)] = &[
    ("Namespace", PodSort::Namespace),
    ("Pod", PodSort::Name),
    ("Phase", PodSort::Phase),
    ("Ready", PodSort::Ready),
    ("Restarts", PodSort::Restarts),
    ("CPU", PodSort::Cpu),
    ("Memory", PodSort::Memory),
    ("Node", PodSort::Node),
    ("Age", PodSort::Age),
];

#[component]
pub fn PodsTable() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let q = ui.query;
    let header = COLUMNS
        .iter()
        .map(|&(label, sort)| {
            let arrow = move || {
                q.with(|q| if q.sort == sort { if q.descending { " ▼" } else { " ▲" } } else { "" })
            };
            view! {
                <th class="sortable" on:click=move |_| q.update(|q| {
                    q.descending = if q.sort == sort { !q.descending } else { matches!(sort, PodSort::Restarts | PodSort::Cpu | PodSort::Memory) };
                    q.sort = sort;
                    q.offset = 0;
                })>{label}{arrow}</th>
            }
        })
        .collect_view();
    // Rows are keyed by pod: an update changes cell text in place, so a row
    // under the pointer is never replaced between press and release.
    let keys = move || {
        ui.pods.with(|p| {
            p.as_ref()
                .map(|p| {
                    p.rows
                        .iter()
                        .map(|r| (r.namespace.clone(), r.name.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let row_view = move |key: (String, String)| {
        let k = key.clone();
        let row = Memo::new(move |_| {
            ui.pods.with(|p| {
                p.as_ref().and_then(|p| {
                    p.rows
                        .iter()
                        .find(|r| r.namespace == k.0 && r.name == k.1)
                        .cloned()
                })
            })
        });
        let cell = move |f: fn(&PodRow, i64) -> String| {
            move || {
                let at = ui
                    .overview
                    .with(|o| o.as_ref().map_or(0, |o| o.at.millis()));
                row.with(|r| r.as_ref().map(|r| f(r, at)).unwrap_or_default())
            }
        };
        let class =
            move |f: fn(&PodRow) -> &'static str| move || row.with(|r| r.as_ref().map_or("", f));
        let target = PodRef {
            namespace: key.0.clone(),
            name: key.1.clone(),
        };
        view! {
            <tr class="pod-row" on:click=move |_| ui.selected.set(Some(target.clone()))>
                <td>{key.0.clone()}</td>
                <td class="pod-name">{key.1.clone()}</td>
                <td><span class=move || row.with(|r| format!("phase {}", r.as_ref().map(|r| r.phase.to_lowercase()).unwrap_or_default()))>{cell(|r, _| r.phase.clone())}</span></td>
                <td class=class(|r| if r.ready < r.containers { "num warn" } else { "num" })>{cell(|r, _| format!("{}/{}", r.ready, r.containers))}</td>
                <td class=class(|r| if r.restarts > 0 { "num warn" } else { "num" })>{cell(|r, _| r.restarts.to_string())}</td>
                <td class="num">{cell(|r, _| format::opt(r.cpu_cores, format::cores))}</td>
                <td class="num">{cell(|r, _| format::opt(r.memory_bytes, format::bytes))}</td>
                <td class="node-col">{cell(|r, _| r.node.as_deref().map_or("–", |n| n.split('.').next().unwrap_or_default()).to_string())}</td>
                <td class="num">{cell(|r, at| format::age(at - r.created_at.millis()))}</td>
                <td class=class(|r| if r.last_reason.is_some() { "reason bad" } else { "reason" })>{cell(|r, _| r.last_reason.clone().unwrap_or_default())}</td>
            </tr>
        }
    };
    let namespaces = move || {
        ui.overview
            .with(|o| o.as_ref().map(|o| o.namespaces.clone()).unwrap_or_default())
    };
    let page_info = move || {
        ui.pods.with(|p| {
            p.as_ref().map_or_else(
                || "loading…".to_string(),
                |p| {
                    if p.matched == 0 {
                        format!("no pod matches (of {})", p.total)
                    } else {
                        format!(
                            "{}–{} of {} matching ({} pods)",
                            p.offset + 1,
                            p.offset + p.rows.len(),
                            p.matched,
                            p.total
                        )
                    }
                },
            )
        })
    };
    let step = move |forward: bool| {
        let matched = ui
            .pods
            .with_untracked(|p| p.as_ref().map_or(0, |p| p.matched));
        q.update(|q| {
            q.offset = if forward {
                (q.offset + q.limit).min(matched.saturating_sub(1) / q.limit.max(1) * q.limit)
            } else {
                q.offset.saturating_sub(q.limit)
            };
        });
    };
    view! {
        <div class="panel pods" id="pods">
            <div class="panel-head">
                <h2>"Pods"<span class="cluster-tag">{move || crate::app::cluster_name(&ui)}</span></h2>
                <input
                    id="pod-filter"
                    type="search"
                    placeholder="Filter by name, node, phase, reason…"
                    prop:value=move || q.with(|q| q.text.clone())
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        q.update(|q| { q.text = text; q.offset = 0; });
                    }
                />
                <select id="ns-filter" prop:value=move || q.with(|q| q.namespace.clone().unwrap_or_default())
                    on:change=move |ev| {
                    let v = event_target_value(&ev);
                    q.update(|q| { q.namespace = (!v.is_empty()).then_some(v); q.offset = 0; });
                }>
                    <option value="">"All namespaces"</option>
                    {move || namespaces().into_iter().map(|ns| view! { <option value=ns.clone()>{ns.clone()}</option> }).collect_view()}
                </select>
                <span class="page-info" id="pod-count">{page_info}</span>
                <button on:click=move |_| step(false)>"‹"</button>
                <button on:click=move |_| step(true)>"›"</button>
            </div>
            <div class="table-wrap">
                <table>
                    <thead><tr>{header}<th>"Last reason"</th></tr></thead>
                    <tbody id="pod-rows"><For each=keys key=|k| k.clone() children=row_view/></tbody>
                </table>
            </div>
        </div>
    }
}
