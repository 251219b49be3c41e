//! Workload controllers written back as the Kubernetes JSON the API serves
//! (the fields the explainer reads): a Deployment's revision and rollout
//! conditions, a ReplicaSet's owner, a Job's run, a CronJob's schedule.

use sentinel_model::rollout::PROGRESS_DEADLINE_S;
use sentinel_model::{Duration, JobOutcome, Rollout, Workload, WorkloadKind};
use serde_json::{Value, json};

use super::json::time;
/// A workload controller as the API serves it: revision, owner and the
/// template's images, which is what rollout evidence reads; a Job's run
/// with its `Complete` or `Failed` condition, which the Job rule reads.
pub fn workload_json(w: &Workload) -> Value {
    let containers: Vec<Value> = w
        .images
        .iter()
        .map(|i| {
            let (name, image) = i.split_once('=').unwrap_or(("", i.as_str()));
            json!({"name": name, "image": image})
        })
        .collect();
    let mut meta = json!({
        "name": w.name,
        "namespace": w.namespace,
        "creationTimestamp": time(w.created_at),
    });
    if matches!(w.kind, WorkloadKind::Deployment | WorkloadKind::ReplicaSet)
        && !w.revision.is_empty()
    {
        meta["annotations"] = json!({"deployment.kubernetes.io/revision": w.revision});
    }
    let owner_kind = match w.kind {
        WorkloadKind::ReplicaSet => Some("Deployment"),
        WorkloadKind::Job => Some("CronJob"),
        _ => None,
    };
    if let (Some(owner), Some(kind)) = (&w.owner, owner_kind) {
        meta["ownerReferences"] = json!([{"kind": kind, "name": owner, "controller": true}]);
    }
    let api_version = match w.kind {
        WorkloadKind::Job | WorkloadKind::CronJob => "batch/v1",
        _ => "apps/v1",
    };
    let mut v = json!({
        "apiVersion": api_version,
        "kind": w.kind.as_str(),
        "metadata": meta,
        "spec": {
            "replicas": w.replicas,
            "template": {"spec": {"containers": containers}},
        },
        "status": {"readyReplicas": w.ready},
    });
    if let Some(r) = &w.rollout {
        rollout_status(&mut v, w.kind, r);
    }
    if let Some(run) = w.job() {
        v["spec"] = json!({
            "completions": w.replicas,
            "template": {"spec": {"containers": v["spec"]["template"]["spec"]["containers"].take()}},
        });
        let condition = match &run.outcome {
            JobOutcome::Running => None,
            JobOutcome::Complete { at } => {
                Some(json!({"type": "Complete", "status": "True", "lastTransitionTime": time(*at)}))
            }
            JobOutcome::Failed {
                at,
                reason,
                message,
            } => Some(json!({"type": "Failed", "status": "True", "reason": reason,
                "message": message, "lastTransitionTime": time(*at)})),
        };
        let mut status = json!({"active": run.active, "succeeded": run.succeeded,
            "failed": run.failed, "conditions": condition.into_iter().collect::<Vec<_>>()});
        if let Some(t) = run.started_at {
            status["startTime"] = json!(time(t));
        }
        v["status"] = status;
    }
    if let Some(s) = w.schedule() {
        let mut spec = json!({"schedule": s.schedule, "suspend": s.suspended,
            "jobTemplate": {"spec": {"template": {"spec": {
                "containers": v["spec"]["template"]["spec"]["containers"].take()}}}}});
        if let Some(tz) = &s.time_zone {
            spec["timeZone"] = json!(tz);
        }
        if !s.concurrency.is_empty() {
            spec["concurrencyPolicy"] = json!(s.concurrency);
        }
        if let Some(d) = s.starting_deadline_secs {
            spec["startingDeadlineSeconds"] = json!(d);
        }
        v["spec"] = spec;
        // The model keeps how many runs are active, not which: their Jobs
        // (owned by the CronJob, not finished) are captured beside it.
        let active: Vec<Value> = (0..s.active)
            .map(|_| json!({"kind": "Job", "namespace": w.namespace}))
            .collect();
        let mut status = json!({"active": active});
        if let Some(t) = s.last_schedule {
            status["lastScheduleTime"] = json!(time(t));
        }
        if let Some(t) = s.last_success {
            status["lastSuccessfulTime"] = json!(time(t));
        }
        v["status"] = status;
    }
    v
}

/// A rollout under way as its controller reports it, which the rollout
/// rule reads: the new revision's count, and a Deployment's `Progressing`
/// and `ReplicaFailure` conditions. A deadline exceeded is written a
/// default deadline (`PROGRESS_DEADLINE_S`, the spec leaving it out)
/// after the last progress, so it reads back as that progress.
fn rollout_status(v: &mut Value, kind: WorkloadKind, r: &Rollout) {
    let status = &mut v["status"];
    match kind {
        WorkloadKind::DaemonSet => {
            status["updatedNumberScheduled"] = json!(r.updated);
            status["desiredNumberScheduled"] = json!(r.wanted);
        }
        WorkloadKind::Deployment => {
            status["updatedReplicas"] = json!(r.updated);
            let mut conditions = Vec::new();
            match (&r.stalled, r.progressed_at) {
                (Some(m), at) => {
                    let at = at
                        .map(|t| time(t.saturating_add(Duration::from_secs(PROGRESS_DEADLINE_S))));
                    conditions.push(json!({"type": "Progressing", "status": "False",
                        "reason": "ProgressDeadlineExceeded", "message": m,
                        "lastUpdateTime": at, "lastTransitionTime": at}));
                }
                (None, Some(at)) => conditions.push(json!({"type": "Progressing",
                    "status": "True", "reason": "ReplicaSetUpdated",
                    "lastUpdateTime": time(at), "lastTransitionTime": time(at)})),
                (None, None) => {}
            }
            if let Some(m) = &r.failure {
                conditions.push(json!({"type": "ReplicaFailure", "status": "True",
                    "reason": "FailedCreate", "message": m}));
            }
            status["conditions"] = json!(conditions);
        }
        _ => status["updatedReplicas"] = json!(r.updated),
    }
}
