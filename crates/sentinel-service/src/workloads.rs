//! The Workloads page: the controllers the snapshot holds, each with its
//! ready pods, its current revision and whether a rollout is moving pods.
//! A Deployment's ReplicaSets are folded into it: the newest dates its
//! revision, and an older one still holding pods means a rollout is under
//! way (or stuck). A CronJob's Jobs are folded into it the same way: the
//! newest finished one says how its last run went. A StatefulSet's or
//! DaemonSet's rollout is its controller's status.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use sentinel_model::cron::Due;
use sentinel_model::{Schedule, Timestamp, Workload, WorkloadKind, newest_finished};
use sentinel_protocol::{
    ErrorKind, IpcError, Late, MAX_WORKLOADS, Run, Runs, Updated, WorkloadPage, WorkloadQuery,
    WorkloadRow,
};
use sentinel_runtime::Snapshot;

use crate::natural_cmp;

fn row(w: &Workload, sets: &[&Workload]) -> WorkloadRow {
    let current = sets.iter().find(|rs| rs.revision == w.revision);
    WorkloadRow {
        kind: w.kind.as_str().to_string(),
        namespace: w.namespace.clone(),
        name: w.name.clone(),
        replicas: w.replicas,
        ready: w.ready,
        revision: w.revision.clone(),
        images: w.images.clone(),
        since: current.map_or(w.created_at, |rs| rs.created_at),
        // An older ReplicaSet holding pods, or the controller's status.
        rolling: w.rollout.is_some()
            || sets
                .iter()
                .any(|rs| rs.revision != w.revision && rs.replicas > 0),
        updated: current.map(|rs| Updated {
            replicas: rs.replicas,
            ready: rs.ready,
        }),
        batch: None,
        rollout: w.rollout.clone(),
    }
}

fn run(job: &Workload) -> Option<Run> {
    let j = job.job()?;
    j.outcome.finished_at()?;
    Some(Run {
        job: job.name.clone(),
        outcome: j.outcome.clone(),
        failed_pods: j.failed,
    })
}

/// A Job of its own, or a CronJob with its Jobs (`runs`), at `now`.
fn batch_row(w: &Workload, runs: &[&Workload], now: Timestamp) -> WorkloadRow {
    let mut r = row(w, &[]);
    if let Some(j) = w.job() {
        r.since = j.started_at.unwrap_or(w.created_at);
        r.batch = Some(Runs {
            schedule: String::new(),
            suspended: false,
            active: j.active,
            last: run(w),
            last_success: j.outcome.completed_at(),
            next: None,
            late: None,
            schedule_error: None,
        });
    } else if let Some(s) = w.schedule() {
        let last = newest_finished(runs.iter().copied()).and_then(run);
        let succeeded = runs
            .iter()
            .filter_map(|j| j.job()?.outcome.completed_at())
            .max();
        r.since = s.last_schedule.unwrap_or(w.created_at);
        let due = s.due(w.created_at, now);
        r.batch = Some(Runs {
            schedule: match &s.time_zone {
                Some(tz) => format!("{} ({tz})", s.schedule),
                None => s.schedule.clone(),
            },
            suspended: s.suspended,
            active: s.active,
            last,
            last_success: s.last_success.max(succeeded),
            next: match due {
                Ok(Due::Next(t)) => Some(t),
                _ => None,
            },
            late: match due {
                Ok(Due::Late { since, missed }) => Some(Late {
                    since,
                    missed: u32::try_from(missed).unwrap_or(u32::MAX),
                    why: late_why(s, runs, since, now),
                }),
                _ => None,
            },
            schedule_error: due.err().map(|e| e.to_string()),
        });
    }
    r
}

/// What keeps a CronJob's run due at `since` from starting, as far as the
/// CronJob and its Jobs (`runs`) tell.
fn late_why(s: &Schedule, runs: &[&Workload], since: Timestamp, now: Timestamp) -> String {
    if s.active > 0 && s.concurrency == "Forbid" {
        let running = runs
            .iter()
            .filter_map(|w| Some((w.job()?, w)))
            .filter(|(j, _)| j.outcome.finished_at().is_none())
            .min_by_key(|(j, w)| (j.started_at.unwrap_or(w.created_at), &w.name));
        let which = match running {
            Some((j, w)) => format!(
                "run {} (started {} ago) is",
                w.name,
                now.since(j.started_at.unwrap_or(w.created_at)).human()
            ),
            None => "earlier run is".to_string(),
        };
        return format!(
            "its {which} still running, and concurrencyPolicy Forbid skips every run due meanwhile: \
             a run that hangs holds all the later ones back"
        );
    }
    match s.starting_deadline_secs {
        Some(d) if now.since(since).millis() > d.saturating_mul(1_000) => format!(
            "no Job was started within startingDeadlineSeconds ({d}s) of its time, so the \
             controller skipped the run; the CronJob's events say why it could not start one"
        ),
        _ => "no Job was created for it: the CronJob controller (kube-controller-manager) may be \
              down or behind, or the Job was refused (a ResourceQuota, an admission webhook); \
              the CronJob's events say which"
            .to_string(),
    }
}

fn matches(r: &WorkloadRow, q: &WorkloadQuery, needle: &str) -> bool {
    q.namespace
        .as_deref()
        .is_none_or(|ns| ns.is_empty() || ns == r.namespace)
        && (needle.is_empty()
            || [&r.namespace, &r.name, &r.kind]
                .into_iter()
                .chain(&r.images)
                .any(|s| s.to_lowercase().contains(needle)))
}

/// The sources' notes about the workload watches (a kind forbidden by
/// RBAC, a watch failing), so a kind missing from the page says why.
fn watch_notes(s: &Snapshot) -> Vec<String> {
    use sentinel_kube::Watched;
    let kinds = [
        WorkloadKind::Deployment,
        WorkloadKind::ReplicaSet,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::Job,
        WorkloadKind::CronJob,
    ]
    .map(|k| Watched::Workloads(k).as_str());
    s.sources
        .iter()
        .flat_map(|src| {
            src.notes
                .iter()
                .filter(|n| kinds.contains(&n.panel.as_str()))
                .map(move |n| format!("{}: {}", src.name, n.message))
        })
        .collect()
}

/// What `w` owns, of `map` (by namespace and owner).
fn owned<'a, 'm>(
    map: &'m HashMap<(&'a str, &'a str), Vec<&'a Workload>>,
    w: &'a Workload,
) -> &'m [&'a Workload] {
    map.get(&(w.namespace.as_str(), w.name.as_str()))
        .map_or(&[][..], Vec::as_slice)
}

/// The workloads `q` asks for: those in trouble first (short of ready
/// pods, a last run failed), then those rolling out, then the latest
/// changed, then by name.
pub fn list_workloads(s: &Snapshot, q: &WorkloadQuery) -> Result<WorkloadPage, IpcError> {
    if q.limit > MAX_WORKLOADS {
        return Err(IpcError::new(
            ErrorKind::InvalidArgument,
            format!("at most {MAX_WORKLOADS} workloads a page, not {}", q.limit),
        ));
    }
    // A Deployment's ReplicaSets and a CronJob's Jobs, by namespace and owner.
    let mut sets: HashMap<(&str, &str), Vec<&Workload>> = HashMap::new();
    let mut jobs: HashMap<(&str, &str), Vec<&Workload>> = HashMap::new();
    let mut crons: BTreeSet<(&str, &str)> = BTreeSet::new();
    for w in s.workloads.iter() {
        match (w.kind, &w.owner) {
            (WorkloadKind::ReplicaSet, Some(owner)) => {
                sets.entry((&w.namespace, owner)).or_default().push(w);
            }
            (WorkloadKind::Job, Some(owner)) => {
                jobs.entry((&w.namespace, owner)).or_default().push(w);
            }
            (WorkloadKind::CronJob, _) => {
                crons.insert((&w.namespace, &w.name));
            }
            _ => {}
        }
    }
    // A Job whose CronJob is not listed is shown on its own.
    let folded = |w: &Workload| match (w.kind, &w.owner) {
        (WorkloadKind::ReplicaSet, Some(_)) => true,
        (WorkloadKind::Job, Some(owner)) => crons.contains(&(w.namespace.as_str(), owner.as_str())),
        _ => false,
    };
    let shown: Vec<&Workload> = s.workloads.iter().filter(|w| !folded(w)).collect();
    let needle = q.text.trim().to_lowercase();
    let mut rows: Vec<WorkloadRow> = shown
        .iter()
        .map(|w| match w.kind {
            WorkloadKind::Deployment => row(w, owned(&sets, w)),
            WorkloadKind::Job => batch_row(w, &[], s.at),
            WorkloadKind::CronJob => batch_row(w, owned(&jobs, w), s.at),
            _ => row(w, &[]),
        })
        .filter(|r| matches(r, q, &needle))
        .collect();
    let matched = rows.len();
    rows.sort_by(|a, b| {
        let key = |r: &WorkloadRow| (!r.in_trouble(), !r.rolling, Reverse(r.since));
        key(a)
            .cmp(&key(b))
            .then_with(|| a.namespace.cmp(&b.namespace))
            .then_with(|| natural_cmp(&a.name, &b.name))
    });
    rows.truncate(if q.limit == 0 { MAX_WORKLOADS } else { q.limit });
    Ok(WorkloadPage {
        notes: watch_notes(s),
        at: s.at,
        rows,
        matched,
        total: shown.len(),
        namespaces: shown
            .iter()
            .map(|w| w.namespace.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    })
}

#[cfg(test)]
#[path = "workloads_tests.rs"]
mod tests;
