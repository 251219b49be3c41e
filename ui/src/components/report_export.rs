//! Exporting an incident report: HTML or Markdown, optionally redacted
//! (identifiers replaced, plus the operator's own patterns). The backend
//! writes the file and says where; the export is audited.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::{ExportArgs, ExportIncident, ReportFormat};

use crate::app::Ui;
use crate::ipc;

#[component]
pub fn ReportExport(id: String) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let markdown = RwSignal::new(false);
    let redact = RwSignal::new(false);
    let patterns = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<String>);
    let export = move |_| {
        let args = ExportArgs {
            id: id.clone(),
            format: if markdown.get_untracked() {
                ReportFormat::Markdown
            } else {
                ReportFormat::Html
            },
            redact: redact.get_untracked(),
            patterns: patterns
                .get_untracked()
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
        };
        busy.set(true);
        result.set(None);
        spawn_local(async move {
            match ipc::call::<ExportIncident>(&args).await {
                Ok(r) => {
                    let redacted = r
                        .redacted
                        .map(|n| format!(", {n} identifiers redacted"))
                        .unwrap_or_default();
                    result.set(Some(format!(
                        "Saved {} ({} KiB{redacted})",
                        r.path,
                        r.bytes.div_ceil(1024)
                    )));
                }
                Err(e) => ui.error.set(Some(format!("Report: {}", e.message))),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="report-export">
            <select id="report-format" on:change=move |ev| markdown.set(event_target_value(&ev) == "md")>
                <option value="html" selected>"HTML"</option>
                <option value="md">"Markdown"</option>
            </select>
            <label>
                <input type="checkbox" id="report-redact" prop:checked=move || redact.get()
                    on:change=move |ev| redact.set(event_target_checked(&ev))/>
                " Redact"
            </label>
            <input id="report-patterns" placeholder="More to redact: regex, regex…"
                prop:value=move || patterns.get() on:input=move |ev| patterns.set(event_target_value(&ev))/>
            <button id="report-export" disabled=move || busy.get() on:click=export>"Export report"</button>
        </div>
        <p class="muted report-saved" id="report-saved">{move || result.get()}</p>
    }
}
