//! The Workloads page: each controller with its ready pods against those it
//! wants, its current revision and images, and whether a rollout is still
//! moving pods over; for Jobs and CronJobs, how their last run went.

use serde::{Deserialize, Serialize};

use sentinel_model::{JobOutcome, Rollout, Timestamp};

/// The most rows a page of workloads holds.
pub const MAX_WORKLOADS: usize = 500;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadQuery {
    /// Case-insensitive substring of namespace, name, kind or an image.
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub namespace: Option<String>,
    /// At most [`MAX_WORKLOADS`]; zero means that many.
    #[serde(default)]
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadRow {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `CronJob`, or a
    /// `ReplicaSet` or `Job` of its own.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Pods it wants, and those ready; a Job's completions and pods
    /// succeeded; zero for a CronJob.
    pub replicas: u32,
    pub ready: u32,
    pub revision: String,
    /// `container=image`, in container order.
    pub images: Vec<String>,
    /// When its current revision began (a Deployment's newest ReplicaSet),
    /// a Job started, a CronJob last ran, else when it was created.
    pub since: Timestamp,
    /// A Deployment whose older ReplicaSets still hold pods: a rollout in
    /// progress, or stuck.
    pub rolling: bool,
    /// A Deployment's pods of its current revision (its newest ReplicaSet):
    /// while rolling out, the new pods that are not ready say it is stuck.
    #[serde(default)]
    pub updated: Option<Updated>,
    /// A Job's run, or a CronJob's runs (its Jobs folded in).
    #[serde(default)]
    pub batch: Option<Runs>,
    /// A rollout under way, as the controller's status tells it: what it
    /// waits for, its last progress, whether the controller gave up.
    #[serde(default)]
    pub rollout: Option<Rollout>,
}

/// How a Job or a CronJob's Jobs ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runs {
    /// A CronJob's schedule (with its time zone), and whether it is
    /// suspended; empty for a Job.
    pub schedule: String,
    pub suspended: bool,
    /// Jobs running now (a CronJob), or pods running now (a Job).
    pub active: u32,
    /// The latest run that finished: the Job itself, or the CronJob's
    /// newest finished Job.
    pub last: Option<Run>,
    /// A CronJob's last successful run (its status, else its runs).
    pub last_success: Option<Timestamp>,
    /// A CronJob's next run, when it is not late.
    #[serde(default)]
    pub next: Option<Timestamp>,
    /// A CronJob whose run has not started five minutes after it was due.
    #[serde(default)]
    pub late: Option<Late>,
    /// Why a CronJob's schedule cannot be read (so nothing is known due).
    #[serde(default)]
    pub schedule_error: Option<String>,
}

/// A CronJob's run that did not start when due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Late {
    /// When the first run not started was due.
    pub since: Timestamp,
    /// Runs due since then (counted up to 100, as the controller counts).
    pub missed: u32,
    /// What keeps it from running, as far as the CronJob and its Jobs say.
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub job: String,
    /// Complete or Failed, with when (and why it failed).
    pub outcome: JobOutcome,
    /// Its pods that failed (each retry is one).
    pub failed_pods: u32,
}

impl WorkloadRow {
    /// In trouble: short of ready pods, a rollout its controller gave up
    /// on or whose pods the API server refuses, or (a Job, a CronJob) its
    /// last run failed, or (a CronJob) a run is late. The page lists these
    /// first.
    pub fn in_trouble(&self) -> bool {
        match &self.batch {
            Some(runs) => {
                runs.late.is_some() || runs.last.as_ref().is_some_and(|r| r.outcome.failed())
            }
            None => {
                self.ready < self.replicas
                    || self
                        .rollout
                        .as_ref()
                        .is_some_and(|r| r.stalled.is_some() || r.failure.is_some())
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Updated {
    pub replicas: u32,
    pub ready: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadPage {
    pub at: Timestamp,
    /// Those in trouble first ([`WorkloadRow::in_trouble`]), then those
    /// rolling out, then the latest changed.
    pub rows: Vec<WorkloadRow>,
    pub matched: usize,
    pub total: usize,
    pub namespaces: Vec<String>,
    /// Why a kind may be missing or old: a workload watch that is failing,
    /// as its source words it ("kubernetes: 403 Forbidden: the account may
    /// not list jobs …").
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The API server's refusal of a workload's pods (a `ReplicaFailure`
/// message) in a few words for a table cell: a quota named with the
/// resource it ran out of, else the reason after "is forbidden:", cut
/// short. The whole message goes on hover.
pub fn refusal_in_short(message: &str) -> String {
    const MAX: usize = 96;
    if let Some(q) = message.split("exceeded quota: ").nth(1) {
        let quota = q.split(',').next().unwrap_or("").trim();
        let resource = q
            .split("requested: ")
            .nth(1)
            .and_then(|r| r.split('=').next())
            .unwrap_or("")
            .trim();
        return if resource.is_empty() {
            format!("quota {quota} is used up")
        } else {
            format!("quota {quota} is used up ({resource})")
        };
    }
    let why = message
        .split_once(" is forbidden: ")
        .map_or(message, |(_, why)| why)
        .trim();
    match why.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &why[..cut]),
        None => why.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::refusal_in_short;

    #[test]
    fn a_refusal_is_put_in_a_few_words() {
        assert_eq!(
            refusal_in_short(
                "pods \"checkout-7d9f-q8x2m\" is forbidden: exceeded quota: shop-compute, requested: requests.cpu=1, used: requests.cpu=3500m, limited: requests.cpu=4"
            ),
            "quota shop-compute is used up (requests.cpu)"
        );
        assert_eq!(
            refusal_in_short(
                "pods \"web-1\" is forbidden: error looking up service account shop/runner: serviceaccount \"runner\" not found"
            ),
            "error looking up service account shop/runner: serviceaccount \"runner\" not found"
        );
        let long = format!(
            "admission webhook \"policy\" denied the request: {}",
            "é".repeat(100)
        );
        let short = refusal_in_short(&long);
        assert_eq!(short.chars().count(), 97);
        assert!(short.ends_with('…'));
    }
}
