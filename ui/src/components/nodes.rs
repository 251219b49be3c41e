//! The nodes strip: each node's CPU, memory, pod count and any bad condition;
//! a click opens the node's detail.

use leptos::prelude::*;

use sentinel_protocol::NodeRef;

use crate::app::Ui;
use crate::format;

/// Nodes shown folded; the backend lists troubled and busy nodes first, so
/// those never hide behind "+N more".
const SHOWN: usize = 12;

fn bar(label: &'static str, v: Option<f64>) -> impl IntoView {
    let w = v.unwrap_or(0.0).clamp(0.0, 100.0);
    let class = if w >= 90.0 {
        "fill hot"
    } else if w >= 75.0 {
        "fill warn"
    } else {
        "fill"
    };
    view! {
        <div class="meter">
            <span class="meter-label">{label}</span>
            <span class="track"><span class=class style=format!("width:{w:.0}%")></span></span>
            <span class="meter-value">{format::opt(v, |v| format!("{v:.0}%"))}</span>
        </div>
    }
}

#[component]
pub fn NodeStrip() -> impl IntoView {
    let ui = expect_context::<Ui>();
    // Every node, once asked for; kept while the data refreshes.
    let all = RwSignal::new(false);
    view! {
        <section class="nodes" id="nodes">
            {move || ui.overview.get().map(|o| {
                let more = o.nodes.len().saturating_sub(SHOWN);
                let shown = if all.get() { o.nodes.len() } else { SHOWN };
                let cards = o.nodes.into_iter().take(shown).map(|n| {
                    let short = n.name.split('.').next().unwrap_or(&n.name).to_string();
                    let state = if n.ready { "node" } else { "node notready" };
                    let name = n.name.clone();
                    view! {
                        <div class=state title=format!("{}: click for its conditions, pods and events", n.name)
                            data-node=n.name.clone() on:click=move |_| ui.node.set(Some(NodeRef { name: name.clone() }))>
                            <div class="node-head">
                                <span class="node-name">{short}</span>
                                <span class="node-ready">{if n.ready { "Ready" } else { "NotReady" }}</span>
                            </div>
                            {bar("CPU", n.cpu_percent)}
                            {bar("MEM", n.memory_percent)}
                            <div class="node-foot">
                                {format!("{} pods", n.pods)}
                                {n.cordoned.then(|| view! { <span class="cond cordoned" title="Unschedulable: no new pods land on it">"cordoned"</span> })}
                                {n.problems.into_iter().map(|p| view! { <span class="cond">{p}</span> }).collect_view()}
                            </div>
                        </div>
                    }
                }).collect_view();
                view! {
                    {cards}
                    {(more > 0).then(|| view! {
                        <button class="node more" id="nodes-more" on:click=move |_| all.update(|a| *a = !*a)>
                            {if all.get_untracked() { "Show fewer nodes".to_string() } else { format!("+{more} more nodes") }}
                        </button>
                    })}
                }
            })}
        </section>
    }
}
