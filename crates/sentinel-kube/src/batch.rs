//! Jobs and CronJobs (batch/v1) to the model: how a run went, from the
//! Job's `Complete` and `Failed` conditions, and a CronJob's schedule with
//! what its status says of its last runs. Pure; every field may be missing.

use k8s_openapi::api::batch::v1::{CronJob, Job, JobCondition};
use sentinel_model::{Batch, JobOutcome, JobRun, Schedule, Workload, WorkloadKind};

use crate::convert::{count, images, time, workload};

/// The condition of type `kind` when it holds (`status: "True"`).
fn holds<'a>(conditions: &'a [JobCondition], kind: &str) -> Option<&'a JobCondition> {
    conditions
        .iter()
        .find(|c| c.type_ == kind && c.status == "True")
}

pub fn job(j: &Job) -> Option<Workload> {
    let spec = j.spec.as_ref();
    let status = j.status.as_ref();
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let started_at = status.and_then(|s| s.start_time.as_ref()).map(time);
    let completed_at = status.and_then(|s| s.completion_time.as_ref()).map(time);
    let since = |c: &JobCondition| {
        c.last_transition_time
            .as_ref()
            .map(time)
            .or(completed_at)
            .or(started_at)
            .unwrap_or_default()
    };
    // A Job that failed may also have had pods succeed: Failed wins.
    let outcome = if let Some(c) = holds(conditions, "Failed") {
        JobOutcome::Failed {
            at: since(c),
            reason: c.reason.clone().unwrap_or_else(|| "Failed".into()),
            message: c.message.clone().unwrap_or_default(),
        }
    } else if let Some(c) = holds(conditions, "Complete") {
        JobOutcome::Complete {
            at: completed_at.unwrap_or_else(|| since(c)),
        }
    } else {
        JobOutcome::Running
    };
    let succeeded = count(status.and_then(|s| s.succeeded));
    let mut w = workload(
        WorkloadKind::Job,
        &j.metadata,
        String::new(),
        images(spec.and_then(|s| s.template.spec.as_ref())),
        // The API defaults completions to 1 (or to parallelism's work
        // queue, which is done when one pod succeeds).
        spec.and_then(|s| s.completions)
            .map_or(1, |n| count(Some(n))),
        succeeded,
    )?;
    w.batch = Some(Batch::Job(JobRun {
        active: count(status.and_then(|s| s.active)),
        succeeded,
        failed: count(status.and_then(|s| s.failed)),
        started_at,
        outcome,
    }));
    Some(w)
}

pub fn cron_job(c: &CronJob) -> Option<Workload> {
    let spec = c.spec.as_ref();
    let status = c.status.as_ref();
    let template = spec
        .and_then(|s| s.job_template.spec.as_ref())
        .and_then(|s| s.template.spec.as_ref());
    let mut w = workload(
        WorkloadKind::CronJob,
        &c.metadata,
        String::new(),
        images(template),
        0,
        0,
    )?;
    w.batch = Some(Batch::CronJob(Schedule {
        schedule: spec.map(|s| s.schedule.clone()).unwrap_or_default(),
        time_zone: spec.and_then(|s| s.time_zone.clone()),
        concurrency: spec
            .and_then(|s| s.concurrency_policy.clone())
            .unwrap_or_default(),
        starting_deadline_secs: spec.and_then(|s| s.starting_deadline_seconds),
        suspended: spec.and_then(|s| s.suspend).unwrap_or(false),
        active: status
            .and_then(|s| s.active.as_ref())
            .map_or(0, |a| u32::try_from(a.len()).unwrap_or(u32::MAX)),
        last_schedule: status.and_then(|s| s.last_schedule_time.as_ref()).map(time),
        last_success: status
            .and_then(|s| s.last_successful_time.as_ref())
            .map(time),
    }));
    Some(w)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use sentinel_model::Timestamp;

    use super::*;

    /// A Job a CronJob made, as a v1.33 API server serves it once its
    /// pods ran out of retries.
    fn failed_job() -> Job {
        serde_json::from_value(json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "invoice-export-29012340", "namespace": "billing",
                "creationTimestamp": "2026-11-20T02:00:00Z",
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob",
                    "name": "invoice-export", "uid": "c1", "controller": true}]},
            "spec": {"backoffLimit": 2, "completions": 1, "parallelism": 1,
                "template": {"spec": {"restartPolicy": "Never",
                    "containers": [{"name": "export", "image": "acme/invoice-export:3.1"}]}}},
            "status": {"startTime": "2026-11-20T02:00:00Z", "failed": 3,
                "terminating": 0, "ready": 0, "uncountedTerminatedPods": {},
                "conditions": [
                    {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded",
                     "message": "Job has reached the specified backoff limit",
                     "lastProbeTime": "2026-11-20T02:03:10Z", "lastTransitionTime": "2026-11-20T02:03:10Z"},
                    {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                     "message": "Job has reached the specified backoff limit",
                     "lastProbeTime": "2026-11-20T02:03:11Z", "lastTransitionTime": "2026-11-20T02:03:11Z"}]}
        }))
        .unwrap()
    }

    #[test]
    fn a_failed_job_keeps_its_reason_its_cron_job_and_its_retries() {
        let w = job(&failed_job()).unwrap();
        assert_eq!(w.kind, WorkloadKind::Job);
        assert_eq!(w.owner.as_deref(), Some("invoice-export"));
        assert_eq!(w.images, ["export=acme/invoice-export:3.1"]);
        assert_eq!((w.replicas, w.ready), (1, 0));
        let run = w.job().unwrap();
        assert_eq!((run.active, run.succeeded, run.failed), (0, 0, 3));
        let at = Timestamp::parse("2026-11-20T02:03:11Z").unwrap();
        assert_eq!(
            run.outcome,
            JobOutcome::Failed {
                at,
                reason: "BackoffLimitExceeded".into(),
                message: "Job has reached the specified backoff limit".into(),
            }
        );
        assert_eq!(run.outcome.finished_at(), Some(at));
    }

    #[test]
    fn a_complete_job_is_dated_by_its_completion_and_a_running_one_is_running() {
        let done: Job = serde_json::from_value(json!({
            "metadata": {"name": "migrate", "namespace": "shop"},
            "spec": {"completions": 3, "template": {"spec": {"containers": []}}},
            "status": {"startTime": "2026-11-20T02:00:00Z", "completionTime": "2026-11-20T02:04:00Z",
                "succeeded": 3, "conditions": [
                    {"type": "SuccessCriteriaMet", "status": "True"},
                    {"type": "Complete", "status": "True", "lastTransitionTime": "2026-11-20T02:04:01Z"}]}
        }))
        .unwrap();
        let w = job(&done).unwrap();
        assert_eq!((w.replicas, w.ready), (3, 3));
        assert_eq!(
            w.job().unwrap().outcome,
            JobOutcome::Complete {
                at: Timestamp::parse("2026-11-20T02:04:00Z").unwrap()
            }
        );
        // A condition that does not hold is not an outcome.
        let running: Job = serde_json::from_value(json!({
            "metadata": {"name": "migrate", "namespace": "shop"},
            "status": {"active": 1, "conditions": [{"type": "Failed", "status": "False"}]}
        }))
        .unwrap();
        let w = job(&running).unwrap();
        assert_eq!(w.job().unwrap().outcome, JobOutcome::Running);
        assert_eq!((w.replicas, w.job().unwrap().active), (1, 1));
        // Nothing but a name maps too.
        let bare: Job = serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap();
        assert_eq!(
            job(&bare).unwrap().job().unwrap().outcome,
            JobOutcome::Running
        );
    }

    #[test]
    fn a_cron_job_keeps_its_schedule_and_last_runs() {
        let c: CronJob = serde_json::from_value(json!({
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "invoice-export", "namespace": "billing",
                "creationTimestamp": "2026-10-01T00:00:00Z"},
            "spec": {"schedule": "0 2 * * *", "timeZone": "Europe/Berlin", "suspend": false,
                "concurrencyPolicy": "Forbid", "startingDeadlineSeconds": 600,
                "jobTemplate": {"spec": {"template": {"spec": {
                    "containers": [{"name": "export", "image": "acme/invoice-export:3.1"}]}}}}},
            "status": {"active": [{"kind": "Job", "name": "invoice-export-29013780",
                    "namespace": "billing"}],
                "lastScheduleTime": "2026-11-21T01:00:00Z",
                "lastSuccessfulTime": "2026-11-19T01:04:00Z"}
        }))
        .unwrap();
        let w = cron_job(&c).unwrap();
        assert_eq!(w.kind, WorkloadKind::CronJob);
        assert_eq!(w.images, ["export=acme/invoice-export:3.1"]);
        let s = w.schedule().unwrap();
        assert_eq!(s.schedule, "0 2 * * *");
        assert_eq!(s.time_zone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(s.concurrency, "Forbid");
        assert_eq!(s.starting_deadline_secs, Some(600));
        assert!(!s.suspended);
        assert_eq!(s.active, 1);
        assert_eq!(
            s.last_success,
            Some(Timestamp::parse("2026-11-19T01:04:00Z").unwrap())
        );
        let bare: CronJob = serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap();
        let bare = cron_job(&bare).unwrap();
        let bare = bare.schedule().unwrap();
        assert_eq!((bare.active, bare.concurrency.as_str()), (0, ""));
        assert_eq!(bare.time_zone, None);
    }
}
