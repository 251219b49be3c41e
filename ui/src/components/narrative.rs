//! The optional narrative from a language model, beside the explanation:
//! what it said, which evidence it cited (and any id it made up), and
//! exactly what was sent. Off unless the settings name an endpoint.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::{IncidentRef, NarrateIncident, Narrative};

use crate::ipc;

#[component]
pub fn NarrativePanel(id: String) -> impl IntoView {
    let answer = RwSignal::new(None::<Narrative>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let ask = move |_| {
        let args = IncidentRef { id: id.clone() };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match ipc::call::<NarrateIncident>(&args).await {
                Ok(n) => answer.set(Some(n)),
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
        });
    };
    let body = move || {
        answer.get().map(|n| {
            let cited = if n.cited.is_empty() {
                "cites no evidence".to_string()
            } else {
                format!("cites {}", n.cited.join(", "))
            };
            let warn = (!n.unknown_cites.is_empty() || n.uncited_sentences > 0).then(|| {
                let mut parts = Vec::new();
                if !n.unknown_cites.is_empty() {
                    parts.push(format!("cites ids that are not evidence: {}", n.unknown_cites.join(", ")));
                }
                if n.uncited_sentences > 0 {
                    parts.push(format!("{} sentence(s) cite nothing", n.uncited_sentences));
                }
                view! { <p class="narrative-warn">{format!("Careful: it {}.", parts.join("; "))}</p> }
            });
            view! {
                <div class="narrative-text" id="narrative-text">{n.text.clone()}</div>
                <p class="muted">{format!("{} at {} · {cited} · {} identifiers scrubbed before sending", n.model, n.endpoint, n.redacted)}</p>
                {warn}
                <details><summary>"What was sent"</summary><pre class="narrative-prompt">{n.prompt.clone()}</pre></details>
            }
        })
    };
    view! {
        <div class="narrative" id="incident-narrative">
            <div class="narrative-head">
                <h4>"Narrative (language model, not verified)"</h4>
                <button id="narrative-ask" disabled=move || busy.get() on:click=ask>
                    {move || if busy.get() { "Asking…" } else { "Ask" }}
                </button>
            </div>
            <p class="narrative-warn" id="narrative-error">{move || error.get()}</p>
            {body}
        </div>
    }
}
