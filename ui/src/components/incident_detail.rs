//! One incident: its state and the operator's actions (acknowledge with a
//! note, resolve, reopen), the explainer's analysis whose sentences cite
//! evidence ids, the evidence, and the timeline of every member and change;
//! each finding or alert in the timeline opens its "Why?" panel.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::{
    ActOnIncident, Analysis, CitedSentence, GetIncident, IncidentAction, IncidentActionArgs,
    IncidentDetail, IncidentRef, IncidentState, TimelineEntry, fold_timeline,
};

use crate::app::Ui;
use crate::{format, ipc};

fn sentence(s: &CitedSentence) -> impl IntoView + use<> {
    let cites = s
        .cites
        .iter()
        .map(|c| view! { <a class="cite" href=format!("#ev-{c}")>{c.clone()}</a> })
        .collect_view();
    view! { <span class="sentence">{s.text.clone()}" "{cites}</span> }
}

pub(super) fn analysis_view(a: &Analysis) -> impl IntoView + use<> {
    let summary = a
        .summary
        .iter()
        .map(|s| view! { <p>{sentence(s)}</p> })
        .collect_view();
    let candidates = a
        .candidates
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let sentences = c.sentences.iter().map(|s| view! { <li>{sentence(s)}</li> }).collect_view();
            let hints = c.mitigation.iter().map(|m| view! { <li>{m.clone()}</li> }).collect_view();
            view! {
                <div class=if k == 0 { "cause top" } else { "cause" }>
                    <div class="cause-head">
                        <span class="cause-id">{c.cause.clone()}</span>
                        <span class="cause-object">{c.object.clone()}</span>
                        <span class="cause-score">{format!("score {:.2} · rule {}", c.score, c.rule)}</span>
                    </div>
                    <ul class="sentences">{sentences}</ul>
                    <Show when={let n = c.mitigation.len(); move || n > 0}>
                        <div class="hints-title">"What to try (never run automatically)"</div>
                    </Show>
                    <ul class="hints">{hints}</ul>
                </div>
            }
        })
        .collect_view();
    let evidence = a
        .evidence
        .iter()
        .map(|e| {
            let at =
                e.at.map(|t| format::clock(t.millis(), true))
                    .unwrap_or_default();
            view! {
                <tr id=format!("ev-{}", e.id)>
                    <td class="ev-id">{e.id.clone()}</td><td>{e.kind.clone()}</td><td>{at}</td>
                    <td class="ev-text">{e.text.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let gaps = a
        .gaps
        .iter()
        .map(|g| view! { <li>{g.clone()}</li> })
        .collect_view();
    view! {
        <div class="analysis" id="incident-analysis">
            <h4>{if a.confident { "Most likely cause" } else { "Not enough evidence to name a cause" }}</h4>
            <div class="summary">{summary}</div>
            {candidates}
            <ul class="gaps">{gaps}</ul>
            <h4>"Evidence"</h4>
            <table class="evidence" id="incident-evidence"><tbody>{evidence}</tbody></table>
        </div>
    }
}

fn body(
    d: IncidentDetail,
    ui: Ui,
    act: impl Fn(IncidentAction) + Copy + Send + Sync + 'static,
    note: RwSignal<String>,
) -> impl IntoView {
    let r = &d.row;
    let state = r.state;
    let ack = match (&r.acknowledged_by, &d.ack_note) {
        (Some(by), Some(n)) if !n.is_empty() => format!("Acknowledged by {by}: {n}"),
        (Some(by), _) => format!("Acknowledged by {by}"),
        _ => String::new(),
    };
    let silences = d
        .silences
        .iter()
        .map(|s| {
            let text = match (&s.error, s.until) {
                (Some(e), _) => format!("{}: Alertmanager refused the silence: {e}", s.alert),
                (None, Some(until)) => format!(
                    "{} silenced in Alertmanager until {}",
                    s.alert,
                    format::clock(until.millis(), false)
                ),
                (None, None) => format!("{}: silencing in Alertmanager…", s.alert),
            };
            let class = if s.error.is_some() {
                "silence failed"
            } else {
                "silence"
            };
            view! { <li class=class>{text}</li> }
        })
        .collect_view();
    // Folded into another: that one holds its members and is the one to
    // act on.
    let is_merged = r.merged_into.is_some();
    let merged = r.merged_into.clone().map(|into| {
        let open = into.clone();
        view! {
            <p class="merged" id="incident-merged">
                "Merged into "
                <a href="#" on:click=move |ev| { ev.prevent_default(); ui.incident.set(Some(open.clone())) }>{into}</a>
                ", which now holds its signals and is the one to act on."
            </p>
        }
    });
    view! {
        <div class="incident-head">
            <span class=format!("sev-pill {}", r.severity.as_str())>{r.severity.as_str()}</span>
            <h3 id="incident-title">{r.title.clone()}</h3>
        </div>
        <p class="muted">
            <span id="incident-state">{if is_merged { "merged" } else { state.as_str() }}</span>
            {format!(" · {} · {} · opened {}", r.id, r.cluster, format::clock(r.opened_at.millis(), true))}
        </p>
        <p class="ack" id="incident-ack">{ack}</p>
        {merged}
        <ul class="silences" id="incident-silences">{silences}</ul>
        <Show when=move || !is_merged>
        <div class="incident-actions">
            <input id="incident-note" placeholder="Note (optional)" prop:value=move || note.get()
                on:input=move |ev| note.set(event_target_value(&ev))/>
            <Show when=move || state == IncidentState::Open>
                <button id="incident-ack-button" on:click=move |_| act(IncidentAction::Acknowledge)>"Acknowledge"</button>
            </Show>
            <Show when=move || state != IncidentState::Resolved>
                <button id="incident-resolve" on:click=move |_| act(IncidentAction::Resolve)>"Resolve"</button>
            </Show>
            <Show when=move || state == IncidentState::Resolved>
                <button id="incident-reopen" on:click=move |_| act(IncidentAction::Reopen)>"Reopen"</button>
            </Show>
        </div>
        </Show>
        {d.analysis.as_ref().map(analysis_view)}
    }
}

/// One member or change; findings and alerts open "Why?".
fn entry_view(e: &TimelineEntry, ui: Ui, class: &str) -> impl IntoView + use<> {
    // An alert member starts when its firing did, which picks it
    // from the history once Alertmanager no longer reports it.
    let since = (e.kind == "alert").then_some(e.at);
    let why = e.fingerprint.clone().map(|fingerprint| {
        let r = sentinel_protocol::AlertRef { fingerprint, since };
        view! { <button class="why" on:click=move |_| ui.why.set(Some(r.clone()))>"Why?"</button> }
    });
    let who = e.by.clone().map(|b| format!(" by {b}")).unwrap_or_default();
    // When a finding or alert stopped, and how long it lasted.
    let ended = e.ended_at.map(|end| {
        let lasted = format::age(end.millis() - e.at.millis());
        view! { <span class="tl-ended">{format!("until {} ({lasted})", format::clock(end.millis(), true))}</span> }
    });
    let sev = e.severity.map(|s| s.as_str()).unwrap_or("");
    view! {
        <li class=format!("{class} k-{} {sev}", e.kind)>
            <span class="tl-time">{format::clock(e.at.millis(), true)}</span>
            <span class="tl-kind">{e.kind.replace('_', " ")}</span>
            <span class="tl-title">{e.title.clone()}{who}</span>
            <span class="tl-subject">{e.subject.clone()}</span>
            {ended}
            {why}
            <div class="tl-text">{e.text.clone()}</div>
        </li>
    }
}

/// Every member and change in order. A burst of one signal (thirty pods
/// NotReady when their node goes) is one line; the rest unfold under it,
/// and stay unfolded while the detail refreshes.
fn timeline_view(
    d: &IncidentDetail,
    ui: Ui,
    unfolded: RwSignal<HashSet<String>>,
) -> impl IntoView + use<> {
    let timeline = fold_timeline(&d.timeline)
        .into_iter()
        .map(|f| {
            let first = entry_view(&f.first, ui, "tl");
            if f.more.is_empty() {
                return first.into_any();
            }
            let key = f.key();
            let open = {
                let key = key.clone();
                move || unfolded.with(|u| u.contains(&key))
            };
            let toggle = move |_| {
                unfolded.update(|u| {
                    if !u.remove(&key) {
                        u.insert(key.clone());
                    }
                })
            };
            let n = f.more.len();
            let label = {
                let open = open.clone();
                let title = f.first.title.clone();
                move || if open() { format!("hide the other {n} {title}") } else { format!("+ {n} more {title}") }
            };
            let more = f.more;
            view! {
                {first}
                <li class="tl-fold">
                    <button class="tl-unfold" on:click=toggle>{label}</button>
                    {move || open().then(|| view! {
                        <ol class="tl-more">{more.iter().map(|e| entry_view(e, ui, "tl tl-sub")).collect_view()}</ol>
                    })}
                </li>
            }
            .into_any()
        })
        .collect_view();
    let dropped = (d.dropped > 0).then(|| {
        view! { <p class="muted">{format!("{} older ended members are not kept in memory.", d.dropped)}</p> }
    });
    view! {
        <h4>"Timeline"</h4>
        {dropped}
        <ol class="timeline" id="incident-timeline">{timeline}</ol>
    }
}

#[component]
pub fn IncidentDetailPanel() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let detail = RwSignal::new(None::<IncidentDetail>);
    // The folds the operator opened, in the incident shown.
    let unfolded = RwSignal::new(HashSet::<String>::new());
    let note = RwSignal::new(String::new());
    let load = move |id: String| {
        spawn_local(async move {
            match ipc::call::<GetIncident>(&IncidentRef { id: id.clone() }).await {
                Ok(d) if ui.incident.get_untracked().as_deref() == Some(id.as_str()) => {
                    let (same_incident, same) = detail.with_untracked(|x| {
                        (
                            x.as_ref().is_some_and(|x| x.row.id == d.row.id),
                            x.as_ref() == Some(&d),
                        )
                    });
                    if !same_incident {
                        unfolded.set(HashSet::new());
                    }
                    // Unchanged (most refreshes of a quiet incident): the
                    // page is left as it is, scroll, folds and all.
                    if !same {
                        detail.set(Some(d));
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    detail.set(None);
                    ui.error.set(Some(format!("Incident: {}", e.message)));
                }
            }
        });
    };
    Effect::new(move |_| {
        ui.overview.track();
        match ui.incident.get() {
            Some(id) => load(id),
            None => detail.set(None),
        }
    });
    let act = move |action: IncidentAction| {
        let Some(id) = ui.incident.get_untracked() else {
            return;
        };
        let args = IncidentActionArgs {
            id: id.clone(),
            action,
            note: note.get_untracked(),
        };
        spawn_local(async move {
            match ipc::call::<ActOnIncident>(&args).await {
                Ok(_) => {
                    note.set(String::new());
                    load(id);
                }
                Err(e) => ui.error.set(Some(format!("Incident: {}", e.message))),
            }
        });
    };
    // The export and narrative keep their state while the detail refreshes:
    // they are made again only when another incident is opened.
    let current = Memo::new(move |_| ui.incident.get());
    let showing = move || ui.case.with(Option::is_none) && detail.with(Option::is_some);
    // One folded into another holds nothing to report or narrate.
    let merged = Memo::new(move |_| {
        detail.with(|d| d.as_ref().is_some_and(|d| d.row.merged_into.is_some()))
    });
    view! {
        <div class="panel incident-detail" id="incident-detail">
            {move || match (ui.case.get(), detail.get()) {
                (Some(c), _) => super::case::case_view(c, ui).into_any(),
                (None, Some(d)) => body(d, ui, act, note).into_any(),
                (None, None) => view! { <p class="empty">"Select an incident to see its timeline, evidence and analysis."</p> }.into_any(),
            }}
            <div style:display=move || if showing() { "block" } else { "none" }>
                <Show when=move || !merged.get()>
                    {move || current.get().map(|id| view! {
                        <super::report_export::ReportExport id=id.clone()/>
                        <super::narrative::NarrativePanel id=id/>
                    })}
                </Show>
                {move || detail.get().filter(|_| ui.case.with(Option::is_none)).map(|d| timeline_view(&d, ui, unfolded))}
            </div>
        </div>
    }
}
