//! Silencing an Alertmanager alert from the feed, and expiring a silence.
//! The backend sets the silence in Alertmanager under the operator's name;
//! the alert is held back from Alertmanager's next answer on.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::model::Labels;
use sentinel_protocol::{ExpireSilence, HeldBack, SilenceAlert, SilenceArgs, SilenceRef};

use crate::{format, ipc};

const LENGTHS: &[(u32, &str)] = &[
    (30, "30 minutes"),
    (60, "1 hour"),
    (120, "2 hours"),
    (240, "4 hours"),
    (1_440, "1 day"),
    (10_080, "1 week"),
];

/// What holds an alert back, times as the feed writes them.
pub fn held_text(h: &HeldBack) -> String {
    h.describe(|t| format::date_time(t.millis()))
}

fn outcome_view(o: Option<Result<String, String>>) -> impl IntoView {
    o.map(|o| match o {
        Ok(t) => view! { <p class="silence-ok">{t}</p> }.into_any(),
        Err(e) => view! { <p class="silence-error">{e}</p> }.into_any(),
    })
}

/// Under an open Alertmanager alert: which of its labels to match (all:
/// this alert alone; fewer: every alert sharing them), how long, why, and
/// "Silence".
#[component]
pub fn SilenceForm(fingerprint: String, labels: Labels) -> impl IntoView {
    let minutes = RwSignal::new(60u32);
    let comment = RwSignal::new(String::new());
    // The labels left out of the silence.
    let dropped = RwSignal::new(BTreeSet::<String>::new());
    let busy = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let names: Vec<String> = labels.keys().cloned().collect();
    let submit = {
        let names = names.clone();
        move |_| {
            let kept = dropped.with_untracked(|d| {
                names
                    .iter()
                    .filter(|n| !d.contains(*n))
                    .cloned()
                    .collect::<Vec<_>>()
            });
            let args = SilenceArgs {
                fingerprint: fingerprint.clone(),
                minutes: minutes.get_untracked(),
                comment: comment.get_untracked(),
                labels: kept,
            };
            busy.set(true);
            spawn_local(async move {
                let r = ipc::call::<SilenceAlert>(&args).await;
                busy.set(false);
                outcome.set(Some(match r {
                    Ok(s) => Ok(format!(
                        "Silenced {} until {} (silence {}); Alertmanager holds {} back from its next answer.",
                        s.matchers.join(", "),
                        s.silence
                            .until
                            .map_or_else(String::new, |t| format::date_time(t.millis())),
                        s.silence.id,
                        if s.matching == 1 {
                            "it".to_string()
                        } else {
                            format!("the {} alerts it matches", s.matching)
                        }
                    )),
                    Err(e) => Err(e.message),
                }));
            });
        }
    };
    let label_toggles = labels
        .into_iter()
        .map(|(k, v)| {
            let key = k.clone();
            let is_kept = {
                let k = k.clone();
                move || dropped.with(|d| !d.contains(&k))
            };
            view! {
                <button class="silence-label" class:kept=is_kept
                    title="Click to leave it out of the silence"
                    on:click=move |_| dropped.update(|d| {
                        if !d.remove(&key) {
                            d.insert(key.clone());
                        }
                    })>{format!("{k}={v}")}</button>
            }
        })
        .collect_view();
    let nothing_kept = move || dropped.with(|d| d.len() == names.len());
    let lengths = LENGTHS
        .iter()
        .map(|(m, label)| view! { <option value=m.to_string() selected=*m == 60>{*label}</option> })
        .collect_view();
    view! {
        <div class="silence-form" on:click=|ev| ev.stop_propagation()>
            <div class="silence-labels">{label_toggles}</div>
            <select class="silence-length" title="How long"
                on:change=move |ev| minutes.set(event_target_value(&ev).parse().unwrap_or(60))>
                {lengths}
            </select>
            <input class="silence-comment" placeholder="Comment (required)"
                prop:value=move || comment.get()
                on:input=move |ev| comment.set(event_target_value(&ev))/>
            <button class="silence" title="Silence the alerts with the labels kept above, in Alertmanager"
                disabled=move || busy.get() || nothing_kept() || comment.with(|c| c.trim().is_empty())
                on:click=submit>"Silence"</button>
            {move || outcome_view(outcome.get())}
        </div>
    }
}

/// Under a silenced alert: expire each of its silences.
#[component]
pub fn ExpireSilences(held: HeldBack) -> impl IntoView {
    let busy = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let buttons = held
        .silences
        .into_iter()
        .map(|s| {
            let id = s.id.clone();
            let expire = move |_| {
                let args = SilenceRef { id: id.clone() };
                busy.set(true);
                spawn_local(async move {
                    let r = ipc::call::<ExpireSilence>(&args).await;
                    busy.set(false);
                    outcome.set(Some(match r {
                        Ok(()) => Ok(format!(
                            "Silence {} expired; the alert is back from Alertmanager's next answer.",
                            args.id
                        )),
                        Err(e) => Err(e.message),
                    }));
                });
            };
            // Alertmanager's ids are UUIDs: their first 8 characters tell
            // them apart.
            let short = if s.id.chars().count() > 12 {
                format!("{}…", s.id.chars().take(8).collect::<String>())
            } else {
                s.id.clone()
            };
            view! {
                <button class="expire-silence" title=format!("Expire silence {}", s.id)
                    disabled=move || busy.get() on:click=expire>{format!("Expire silence {short}")}</button>
            }
        })
        .collect_view();
    view! {
        <div class="silence-form" on:click=|ev| ev.stop_propagation()>
            {buttons}
            {move || outcome_view(outcome.get())}
        </div>
    }
}
