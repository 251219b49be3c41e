//! Offline analysis of a capture folder (`objects.json` as `kubectl get
//! … -o json` prints it, `metrics.csv`, `logs.jsonl`, `case.json`): the
//! folder is named here, read by the backend, and its analysis shown in the
//! detail panel in place of an incident.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::{AnalyseCase, CaseAnalysis, CaseRef};

use crate::app::Ui;
use crate::{format, ipc};

#[component]
pub fn CaseOpener() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let path = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let open = move |_| {
        let args = CaseRef {
            path: path.get_untracked(),
        };
        if args.path.trim().is_empty() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            match ipc::call::<AnalyseCase>(&args).await {
                Ok(c) => {
                    ui.incident.set(None);
                    ui.case.set(Some(c));
                }
                Err(e) => ui.error.set(Some(format!("Capture: {}", e.message))),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="case-opener">
            <input id="case-path" placeholder="Analyse a capture folder offline: /path/to/case"
                prop:value=move || path.get() on:input=move |ev| path.set(event_target_value(&ev))/>
            <button id="case-open" disabled=move || busy.get() on:click=open>"Analyse"</button>
        </div>
    }
}

pub fn case_view(c: CaseAnalysis, ui: Ui) -> impl IntoView {
    view! {
        <div class="incident-head">
            <span class="sev-pill info">"capture"</span>
            <h3 id="case-title">{c.path.clone()}</h3>
            <button id="case-close" on:click=move |_| ui.case.set(None)>"Close"</button>
        </div>
        <p class="muted">{format!(
            "Offline · onset {} · {} objects and events, {} series, {} log lines",
            format::clock(c.onset.millis(), true), c.objects, c.series, c.logs
        )}</p>
        {super::incident_detail::analysis_view(&c.analysis)}
    }
}
