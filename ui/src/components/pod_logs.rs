//! A container's log in the pod drawer: the last lines on demand, or
//! followed (read from a cursor with every update). The drawer keeps at most
//! `KEEP` lines; the backend's buffer is bounded too.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::{GetPodLogs, LogQuery, PodRef};

use crate::app::Ui;
use crate::ipc;

const KEEP: usize = 2000;
const TAIL: u32 = 200;

fn keep_last(lines: &mut Vec<String>) {
    if lines.len() > KEEP {
        lines.drain(..lines.len() - KEEP);
    }
}

#[component]
pub fn PodLogs(target: PodRef, containers: Signal<Vec<String>>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let container = RwSignal::new(String::new());
    let lines = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<String>);
    let ended = RwSignal::new(None::<String>);
    let follow = RwSignal::new(false);
    let cursor = RwSignal::new(0u64);
    let busy = RwSignal::new(false);
    // Where the lines come from, what is passing wrong, what the server lost.
    let source = RwSignal::new(String::new());
    let notice = RwSignal::new(None::<String>);
    let upstream = RwSignal::new(0u64);
    let query = {
        let target = target.clone();
        move |follow: bool, after: u64| LogQuery {
            namespace: target.namespace.clone(),
            pod: target.name.clone(),
            container: Some(container.get_untracked()).filter(|c| !c.is_empty()),
            tail: TAIL,
            follow,
            after,
            source: Default::default(),
        }
    };
    let q = query.clone();
    let show = move |_| {
        let q = q(false, 0);
        follow.set(false);
        spawn_local(async move {
            match ipc::call::<GetPodLogs>(&q).await {
                Ok(p) => {
                    source.set(p.source);
                    lines.set(p.lines.into_iter().map(|l| l.text).collect());
                    error.set(None);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    // While following, every update reads what came since the cursor.
    Effect::new(move |_| {
        ui.overview.track();
        if !follow.get() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        let q = query(true, cursor.get_untracked());
        spawn_local(async move {
            match ipc::call::<GetPodLogs>(&q).await {
                Ok(p) => {
                    source.set(p.source.clone());
                    notice.set(p.notice.clone());
                    let lost = p.upstream_dropped.saturating_sub(upstream.get_untracked());
                    upstream.set(p.upstream_dropped);
                    lines.update(|v| {
                        if p.dropped > 0 {
                            v.push(format!("… {} lines dropped", p.dropped));
                        }
                        if lost > 0 {
                            v.push(format!(
                                "… {lost} lines dropped by {} before they arrived",
                                p.source
                            ));
                        }
                        v.extend(p.lines.into_iter().map(|l| l.text));
                        keep_last(v);
                    });
                    cursor.set(p.next);
                    ended.set(p.ended);
                    error.set(None);
                }
                Err(e) => {
                    error.set(Some(e.message));
                    follow.set(false);
                }
            }
            busy.set(false);
        });
    });
    let toggle = move |_| {
        let on = !follow.get_untracked();
        if on {
            lines.set(Vec::new());
            cursor.set(0);
            upstream.set(0);
            ended.set(None);
        }
        follow.set(on);
    };
    let options = move || {
        containers
            .get()
            .into_iter()
            .map(|c| view! { <option value=c.clone()>{c.clone()}</option> })
            .collect_view()
    };
    view! {
        <h4>"Logs"<span class="muted" id="log-source">{move || { let s = source.get(); if s.is_empty() { String::new() } else { format!(" from {s}") } }}</span></h4>
        <div class="log-controls">
            <select id="log-container" on:change=move |ev| container.set(event_target_value(&ev))>
                {options}
            </select>
            <button id="log-tail" on:click=show>{format!("Last {TAIL} lines")}</button>
            <button id="log-follow" class:active=move || follow.get() on:click=toggle>
                {move || if follow.get() { "Stop following" } else { "Follow" }}
            </button>
        </div>
        {move || error.get().map(|e| view! { <p class="banner error" id="log-error">{e}</p> })}
        {move || ended.get().map(|e| view! { <p class="muted">{e}</p> })}
        {move || notice.get().map(|n| view! { <p class="muted" id="log-notice">{n}</p> })}
        <Show when=move || lines.with(|l| !l.is_empty())>
            <pre class="log" id="log-lines">{move || lines.get().join("\n")}</pre>
        </Show>
    }
}
