//! The Workloads page: every controller with its ready pods against those
//! it wants, its revision and images, when that revision began and whether
//! a rollout is still moving pods; for a Job or a CronJob, its schedule and
//! how its last run went. Those in trouble (short of ready pods, a last run
//! failed) first. A row opens the dashboard's pods filtered to it. The
//! backend filters and sorts; the page refreshes with every update.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::model::JobOutcome;
use sentinel_protocol::{ListWorkloads, Runs, WorkloadPage, WorkloadQuery, WorkloadRow};

use crate::app::{Page, Ui};
use crate::{format, ipc};

/// A Job's or a CronJob's schedule and runs, where others show their
/// revision.
fn runs_view(runs: Runs, at: i64) -> impl IntoView {
    // After a failure, when it last went well.
    let since_success =
        runs.last
            .as_ref()
            .filter(|r| r.outcome.failed())
            .map(|_| match runs.last_success {
                Some(t) => format!("last success {} ago", format::age(at - t.millis())),
                None => "no success on record".to_string(),
            });
    let last = runs.last.map(|run| {
        let (class, text, title) = match &run.outcome {
            JobOutcome::Failed {
                at: t,
                reason,
                message,
            } => {
                // Read through kube-state-metrics, a Job that failed for a
                // known reason gives no count of its failed pods; nor a
                // reason, one that failed for another.
                let reason = if reason.is_empty() {
                    "failed"
                } else {
                    reason.as_str()
                };
                let pods = match run.failed_pods {
                    0 => String::new(),
                    1 => " (1 pod failed)".to_string(),
                    n => format!(" ({n} pods failed)"),
                };
                (
                    "last-run failed",
                    format!(
                        "last run failed {} ago: {reason}{pods}",
                        format::age(at - t.millis()),
                    ),
                    format!("{}: {message}", run.job),
                )
            }
            JobOutcome::Complete { at: t } => (
                "last-run",
                format!("last run complete {} ago", format::age(at - t.millis())),
                run.job.clone(),
            ),
            JobOutcome::Running => ("last-run", String::new(), run.job.clone()),
        };
        view! { <span class=class title=title>{text}</span> }
    });
    // A CronJob's run that did not start, and what holds it back.
    let late = runs.late.map(|l| {
        let missed = match l.missed {
            0 | 1 => String::new(),
            n if n >= 100 => " (100+ runs missed)".to_string(),
            n => format!(" ({n} runs missed)"),
        };
        view! {
            <span class="last-run failed late">
                {format!("late: the run due {} ago has not started{missed}", format::age(at - l.since.millis()))}
            </span>
            <div class="late-why">{l.why}</div>
        }
    });
    let next = runs.next.map(|t| match t.millis() - at {
        d if d > 0 => format!("next run in {}", format::age(d)),
        _ => "a run is due now".to_string(),
    });
    view! {
        {(!runs.schedule.is_empty()).then(|| view! { <code class="schedule">{runs.schedule.clone()}</code> })}
        {runs.suspended.then(|| view! { <span class="suspended">"suspended"</span> })}
        {(runs.active > 0).then(|| view! { <span class="rolling">{format!("{} running", runs.active)}</span> })}
        {late}
        {runs.schedule_error.map(|e| view! { <span class="last-run failed">{format!("schedule not understood: {e}")}</span> })}
        {last}
        {since_success.map(|t| view! { <span class="last-run">{t}</span> })}
        {next.map(|t| view! { <span class="last-run next-run">{t}</span> })}
    }
}

fn row_view(r: WorkloadRow, ui: Ui, at: i64) -> impl IntoView {
    let short = r.in_trouble();
    let ready = match (&r.batch, r.kind.as_str()) {
        (Some(_), "CronJob") => String::new(),
        (Some(_), _) => format!("{}/{} done", r.ready, r.replicas),
        (None, _) => format!("{}/{}", r.ready, r.replicas),
    };
    let revision = match r.batch.clone() {
        Some(runs) => runs_view(runs, at).into_any(),
        None => {
            // The controller's own words, where the ReplicaSets say less (a
            // StatefulSet, a DaemonSet), and whether it gave up.
            let rollout = r.rollout.clone().map(|ro| {
                let progress = ro
                    .progressed_at
                    .map(|t| format!("last progress {} ago", format::age(at - t.millis())));
                let state = match ro.stalled {
                    Some(m) => Some(view! { <span class="last-run failed" title=m>{format!("stalled: {}", ro.waiting)}</span> }.into_any()),
                    None => r.updated.is_none().then(|| view! { <span class="updated short">{ro.waiting}</span> }.into_any()),
                };
                // Why its new pods are not created (a quota): what to fix.
                let refused = ro.failure.map(|m| {
                    let short = sentinel_protocol::refusal_in_short(&m);
                    view! { <span class="last-run failed" title=m>{format!("pods refused: {short}")}</span> }
                });
                view! {
                    {state}
                    {refused}
                    {progress.map(|p| view! { <span class="last-run">{p}</span> })}
                }
            });
            view! {
                {r.revision.clone()}
                {r.rolling.then(|| view! { <span class="rolling" title="An older revision still holds pods: a rollout is under way, or stuck">"rolling out"</span> })}
                // While it rolls out, how far its new pods got.
                {r.updated.filter(|_| r.rolling).map(|u| view! {
                    <span class="updated" class:short=u.ready < u.replicas>{format!("new pods {}/{} ready", u.ready, u.replicas)}</span>
                })}
                {rollout}
            }
            .into_any()
        }
    };
    let (ns, name) = (r.namespace.clone(), r.name.clone());
    let open = move |_| {
        ui.query.update(|q| {
            q.text = name.clone();
            q.namespace = Some(ns.clone());
            q.offset = 0;
        });
        ui.page.set(Page::Dashboard);
    };
    view! {
        <tr class="workload-row" class:short=short on:click=open
            title="Show its pods on the dashboard">
            <td>{r.kind.clone()}</td>
            <td class="pod-name"><span class="muted">{format!("{}/", r.namespace)}</span>{r.name.clone()}</td>
            <td class="num ready">{ready}</td>
            <td class="revision">{revision}</td>
            <td class="num" title=format::date_time(r.since.millis())>{format::age(at - r.since.millis())}</td>
            <td class="images">{r.images.join(", ")}</td>
        </tr>
    }
}

#[component]
pub fn WorkloadsPage() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let text = RwSignal::new(String::new());
    let namespace = RwSignal::new(String::new());
    let page = RwSignal::new(None::<Result<WorkloadPage, String>>);
    // Replies may come back out of order: an older one than shown is dropped.
    let asked = StoredValue::new(0u64);
    Effect::new(move |_| {
        ui.overview.track();
        let q = WorkloadQuery {
            text: text.get(),
            namespace: Some(namespace.get()).filter(|n| !n.is_empty()),
            limit: 0,
        };
        let seq = asked.get_value() + 1;
        asked.set_value(seq);
        spawn_local(async move {
            let got = ipc::call::<ListWorkloads>(&q).await.map_err(|e| e.message);
            if asked.get_value() == seq {
                page.set(Some(got));
            }
        });
    });
    let namespaces = move || {
        page.with(|p| match p {
            Some(Ok(p)) => p.namespaces.clone(),
            _ => Vec::new(),
        })
        .into_iter()
        .map(|n| view! { <option value=n.clone()>{n.clone()}</option> })
        .collect_view()
    };
    let counts = move || {
        page.with(|p| match p {
            Some(Ok(p)) => {
                let trouble = p.rows.iter().filter(|r| r.in_trouble()).count();
                let rolling = p.rows.iter().filter(|r| r.rolling).count();
                format!(
                    "{} of {} · {trouble} in trouble · {rolling} rolling out",
                    p.matched, p.total
                )
            }
            _ => String::new(),
        })
    };
    let rows = move || match page.get() {
        None => view! { <tr><td colspan="6" class="empty">"Loading…"</td></tr> }.into_any(),
        Some(Err(e)) => view! { <tr><td colspan="6" class="empty error">{e}</td></tr> }.into_any(),
        Some(Ok(p)) if p.rows.is_empty() => {
            let text = if p.total == 0 && !p.notes.is_empty() {
                "No workload controllers listed: the watches above are failing."
            } else if p.total == 0 {
                "No workload controllers: they come from a Kubernetes context or the demo."
            } else {
                "No workload matches."
            };
            view! { <tr><td colspan="6" class="empty">{text}</td></tr> }.into_any()
        }
        Some(Ok(p)) => {
            let at = p.at.millis();
            p.rows
                .into_iter()
                .map(|r| row_view(r, ui, at))
                .collect_view()
                .into_any()
        }
    };
    view! {
        <section class="panel workloads" id="workloads-page">
            <div class="panel-head">
                <h2>"Workloads"<span class="cluster-tag">{move || crate::app::cluster_name(&ui)}</span></h2>
                <input id="workload-filter" type="search" placeholder="Filter by name, kind, image…"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))/>
                <select id="workload-namespace" on:change=move |ev| namespace.set(event_target_value(&ev))>
                    <option value="">"All namespaces"</option>
                    {namespaces}
                </select>
                <span class="page-info" id="workload-counts">{counts}</span>
            </div>
            // A workload watch that fails says so: a kind missing is never silent.
            {move || page.with(|p| match p {
                Some(Ok(p)) if !p.notes.is_empty() => Some(view! {
                    <ul class="banner warn" id="workload-notes">
                        {p.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                    </ul>
                }),
                _ => None,
            })}
            <div class="table-wrap workloads-wrap">
                <table id="workload-table">
                    <thead><tr><th>"Kind"</th><th>"Workload"</th><th>"Ready"</th><th>"Revision or runs"</th><th>"Since"</th><th>"Images"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}
