//! Workload controllers as far as rollouts and runs go: Deployments and
//! their ReplicaSets, StatefulSets, DaemonSets, and the batch kinds, Jobs
//! and CronJobs, with what their runs came to.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// What kind of workload controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WorkloadKind {
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
        }
    }
}

/// A workload controller as far as rollouts go: its revision and images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    /// The controlling owner's name (a ReplicaSet's Deployment, a Job's
    /// CronJob).
    pub owner: Option<String>,
    /// `deployment.kubernetes.io/revision`, or a StatefulSet's or
    /// DaemonSet's update revision; empty for the batch kinds.
    pub revision: String,
    /// `container=image` of the pod template, in container order.
    pub images: Vec<String>,
    /// Pods wanted and pods ready; a Job's completions wanted and pods
    /// succeeded (as `kubectl get jobs` counts them); zero for a CronJob.
    pub replicas: u32,
    pub ready: u32,
    pub created_at: Timestamp,
    /// A Job's run or a CronJob's schedule; absent for the other kinds
    /// (and from records written before the batch kinds were read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<Batch>,
    /// A Deployment's, StatefulSet's or DaemonSet's rollout while one is
    /// under way, as its controller's status tells it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
}

/// A rollout under way, read from the controller's status the way
/// `kubectl rollout status` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    /// Pods of the new revision (`updatedReplicas`, a DaemonSet's
    /// `updatedNumberScheduled`), of those it should end with.
    pub updated: u32,
    pub wanted: u32,
    /// What it waits for, in `kubectl rollout status`'s words ("1 out of 3
    /// new replicas have been updated").
    pub waiting: String,
    /// When the controller last saw it progress, if it says (a
    /// Deployment's `Progressing` condition).
    pub progressed_at: Option<Timestamp>,
    /// The controller gave up on it: a Deployment past its
    /// `progressDeadlineSeconds` (the condition's message).
    pub stalled: Option<String>,
    /// Why the controller cannot create its pods, if it says: a
    /// Deployment's `ReplicaFailure` condition (a quota, a missing service
    /// account), which outlives the events that said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// What the batch kinds add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Batch {
    Job(JobRun),
    CronJob(Schedule),
}

/// How a Job's run went, from its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRun {
    /// Pods running now, succeeded and failed (each retry is a pod).
    pub active: u32,
    pub succeeded: u32,
    pub failed: u32,
    pub started_at: Option<Timestamp>,
    pub outcome: JobOutcome,
}

/// A Job's outcome: its `Complete` or `Failed` condition, once set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum JobOutcome {
    Running,
    Complete {
        at: Timestamp,
    },
    /// `reason` as the Job controller words it: `BackoffLimitExceeded`,
    /// `DeadlineExceeded`, `PodFailurePolicy`; `message` its sentence.
    Failed {
        at: Timestamp,
        reason: String,
        message: String,
    },
}

impl JobOutcome {
    /// When the run ended, if it has.
    pub fn finished_at(&self) -> Option<Timestamp> {
        match self {
            JobOutcome::Running => None,
            JobOutcome::Complete { at } | JobOutcome::Failed { at, .. } => Some(*at),
        }
    }

    /// When the run completed, if it did.
    pub fn completed_at(&self) -> Option<Timestamp> {
        match self {
            JobOutcome::Complete { at } => Some(*at),
            _ => None,
        }
    }

    pub fn failed(&self) -> bool {
        matches!(self, JobOutcome::Failed { .. })
    }
}

/// Of a CronJob's Jobs, the run that finished last (by when, then by name,
/// which holds the minute it was scheduled for): what its last run came to.
pub fn newest_finished<'a>(runs: impl IntoIterator<Item = &'a Workload>) -> Option<&'a Workload> {
    runs.into_iter()
        .filter_map(|w| Some((w.job()?.outcome.finished_at()?, w)))
        .max_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)))
        .map(|(_, w)| w)
}

/// A CronJob's schedule and what its status says of its runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// The cron expression as written (`spec.schedule`).
    pub schedule: String,
    /// `spec.timeZone`: the zone the expression is read in (UTC without).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// `spec.concurrencyPolicy`: `Allow` (also when empty), `Forbid` (a run
    /// due while one is active is skipped) or `Replace`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub concurrency: String,
    /// `spec.startingDeadlineSeconds`: a run not started this long after
    /// it was due is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_deadline_secs: Option<i64>,
    pub suspended: bool,
    /// Jobs running now.
    pub active: u32,
    pub last_schedule: Option<Timestamp>,
    pub last_success: Option<Timestamp>,
}

impl Workload {
    pub fn job(&self) -> Option<&JobRun> {
        match &self.batch {
            Some(Batch::Job(j)) => Some(j),
            _ => None,
        }
    }

    pub fn schedule(&self) -> Option<&Schedule> {
        match &self.batch {
            Some(Batch::CronJob(s)) => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_written_before_the_batch_kinds_read_back_unchanged() {
        let old = r#"{"kind":"Deployment","namespace":"shop","name":"cart","owner":null,
            "revision":"3","images":["app=shop/cart:3"],"replicas":2,"ready":2,"createdAt":5}"#;
        let w: Workload = serde_json::from_str(old).unwrap();
        assert_eq!(w.batch, None);
        // And a Deployment is written without the field.
        assert!(!serde_json::to_string(&w).unwrap().contains("batch"));
    }

    #[test]
    fn a_failed_run_round_trips_with_its_reason() {
        let w = Workload {
            kind: WorkloadKind::Job,
            namespace: "batch".into(),
            name: "report-29012".into(),
            owner: Some("report".into()),
            revision: String::new(),
            images: vec![],
            replicas: 1,
            ready: 0,
            created_at: Timestamp(1),
            batch: Some(Batch::Job(JobRun {
                active: 0,
                succeeded: 0,
                failed: 7,
                started_at: Some(Timestamp(1)),
                outcome: JobOutcome::Failed {
                    at: Timestamp(9),
                    reason: "BackoffLimitExceeded".into(),
                    message: "Job has reached the specified backoff limit".into(),
                },
            })),
            rollout: None,
        };
        let back: Workload = serde_json::from_str(&serde_json::to_string(&w).unwrap()).unwrap();
        assert_eq!(back, w);
        let run = back.job().unwrap();
        assert!(run.outcome.failed());
        assert_eq!(run.outcome.finished_at(), Some(Timestamp(9)));
        assert!(back.schedule().is_none());
    }
}
