//! The History page's retention box: what the history file takes, how long
//! raw samples and one-minute rollups are kept, and the disk budget.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::{GetRetention, NoArgs, RetentionSettings, RetentionView, SetRetention};

use crate::format;
use crate::ipc;

fn since(ms: Option<sentinel_protocol::model::Timestamp>) -> String {
    ms.map_or_else(|| "—".into(), |t| format::clock(t.millis(), false))
}

#[component]
pub fn RetentionBox() -> impl IntoView {
    let view_data = RwSignal::new(None::<RetentionView>);
    let raw = RwSignal::new(String::new());
    let rollups = RwSignal::new(String::new());
    let budget = RwSignal::new(String::new());
    let said = RwSignal::new(None::<String>);
    let show = move |v: RetentionView| {
        raw.set(v.settings.raw_days.to_string());
        rollups.set(v.settings.rollup_days.to_string());
        budget.set(v.settings.budget_mib.to_string());
        view_data.set(Some(v));
    };
    let load = move || {
        spawn_local(async move {
            match ipc::call::<GetRetention>(&NoArgs {}).await {
                Ok(v) => show(v),
                Err(e) => said.set(Some(e.message)),
            }
        });
    };
    Effect::new(move |_| load());
    let save = move |_| {
        let parse = |s: RwSignal<String>, what: &str| {
            s.get_untracked()
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("{what} must be a whole number"))
        };
        let settings = (|| -> Result<RetentionSettings, String> {
            Ok(RetentionSettings {
                raw_days: u32::try_from(parse(raw, "Raw days")?).map_err(|e| e.to_string())?,
                rollup_days: u32::try_from(parse(rollups, "Rollup days")?)
                    .map_err(|e| e.to_string())?,
                budget_mib: parse(budget, "The budget")?,
            })
        })();
        let settings = match settings {
            Ok(s) => s,
            Err(e) => {
                said.set(Some(e));
                return;
            }
        };
        said.set(Some("Saving…".into()));
        spawn_local(async move {
            match ipc::call::<SetRetention>(&settings).await {
                Ok(v) => {
                    show(v);
                    said.set(Some(
                        "Saved; applied now (older samples become one-minute rollups).".into(),
                    ));
                }
                Err(e) => said.set(Some(e.message)),
            }
        });
    };
    let usage = move || {
        view_data.get().map(|v| {
            let u = v.usage;
            let budget = v.settings.budget_mib as f64 * 1_048_576.0;
            let share = if budget > 0.0 {
                u.used_bytes as f64 / budget * 100.0
            } else {
                0.0
            };
            let rollups = if u.rollup_minutes == 0 {
                "no one-minute rollups yet".to_string()
            } else {
                format!(
                    "{} one-minute rollups since {}",
                    u.rollup_minutes,
                    since(u.oldest_rollup)
                )
            };
            format!(
                "Using {} of {} ({share:.0}%): raw samples {} since {}, {rollups}, {} incidents (kept until deleted). File {}.",
                format::bytes(u.used_bytes as f64),
                format::bytes(budget),
                format::bytes(u.raw_bytes as f64),
                since(u.oldest_raw),
                u.incidents,
                format::bytes(u.file_bytes as f64),
            )
        })
    };
    let field = |id: &'static str, label: &'static str, sig: RwSignal<String>| {
        view! {
            <label class="retention-field">{label}
                <input id=id type="number" min="1" prop:value=move || sig.get()
                    on:input=move |ev| sig.set(event_target_value(&ev))/>
            </label>
        }
    };
    view! {
        <div class="retention" id="retention">
            <h3>"Retention"</h3>
            <p class="muted" id="retention-usage">{usage}</p>
            <div class="report-export">
                {field("retention-raw", "Raw samples, days ", raw)}
                {field("retention-rollups", "Rollups, days ", rollups)}
                {field("retention-budget", "Disk budget, MiB ", budget)}
                <button id="retention-save" on:click=save>"Save"</button>
                <button id="retention-refresh" on:click=move |_| load()>"Refresh"</button>
            </div>
            <p class="muted" id="retention-said">{move || said.get()}</p>
        </div>
    }
}
