//! Whether a Deployment, StatefulSet or DaemonSet is rolling out, read from
//! its controller's status as `kubectl rollout status` reads it, in its
//! words, whichever way the status arrived (the API's objects, or
//! kube-state-metrics' series of them). Readiness after a rollout is done
//! is the pods' business, so only the rollout's own steps count: the new
//! revision's pods not all created (or, for a Deployment, old ones not yet
//! gone, new ones not yet available while the controller has not called it
//! done), or the controller not having seen the new spec yet. A paused
//! Deployment and the `OnDelete` strategies wait on purpose: no rollout.

use crate::{Duration, Rollout, Timestamp};

/// `progressDeadlineSeconds` when the spec leaves it out.
pub const PROGRESS_DEADLINE_S: i64 = 600;

/// A status no controller has reported (no generation observed, none to
/// observe): its counts say nothing, absent counts being zero.
fn unreported(generation: Option<i64>, observed: Option<i64>) -> bool {
    observed.is_none() && generation.is_none()
}

fn unobserved(generation: Option<i64>, observed: Option<i64>) -> bool {
    generation.unwrap_or(0) > observed.unwrap_or(0)
}

fn waiting(updated: u32, wanted: u32, text: String) -> Option<Rollout> {
    Some(Rollout {
        updated,
        wanted,
        waiting: text,
        progressed_at: None,
        stalled: None,
        failure: None,
    })
}

/// A Deployment's `Progressing` condition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progressing {
    pub status: bool,
    /// `ReplicaSetUpdated`, `NewReplicaSetAvailable`,
    /// `ProgressDeadlineExceeded`, … (empty when not told).
    pub reason: String,
    pub message: Option<String>,
    pub updated_at: Option<Timestamp>,
}

/// What a Deployment's spec and status say of its rollout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentStatus {
    pub paused: bool,
    pub generation: Option<i64>,
    pub observed: Option<i64>,
    /// `spec.replicas`.
    pub wanted: u32,
    /// `status.updatedReplicas`, `replicas`, `availableReplicas`.
    pub updated: u32,
    pub replicas: u32,
    pub available: u32,
    pub progressing: Option<Progressing>,
    /// The `ReplicaFailure` condition, when it holds: its message.
    pub failure: Option<String>,
    /// `spec.progressDeadlineSeconds`.
    pub deadline_secs: Option<i64>,
}

impl DeploymentStatus {
    pub fn rollout(&self) -> Option<Rollout> {
        if self.paused || unreported(self.generation, self.observed) {
            return None;
        }
        let (wanted, updated) = (self.wanted, self.updated);
        let reason = self.progressing.as_ref().map_or("", |c| c.reason.as_str());
        let mut r = if unobserved(self.generation, self.observed) {
            waiting(
                updated,
                wanted,
                "waiting for the deployment spec update to be observed".into(),
            )
        } else if reason == "ProgressDeadlineExceeded" {
            waiting(
                updated,
                wanted,
                format!(
                    "exceeded its progress deadline with {updated} out of {wanted} new replicas updated"
                ),
            )
        } else if updated < wanted {
            waiting(
                updated,
                wanted,
                format!("{updated} out of {wanted} new replicas have been updated"),
            )
        } else if self.replicas > updated {
            waiting(
                updated,
                wanted,
                format!(
                    "{} old replicas are pending termination",
                    self.replicas - updated
                ),
            )
        } else if self.available < updated && reason != "NewReplicaSetAvailable" {
            waiting(
                updated,
                wanted,
                format!(
                    "{} of {updated} updated replicas are available",
                    self.available
                ),
            )
        } else {
            None
        }?;
        // Pods the API server refused the new ReplicaSet (a quota, a missing
        // service account): the condition stays while the events expire.
        r.failure = self.failure.clone();
        if let Some(c) = &self.progressing {
            if reason == "ProgressDeadlineExceeded" {
                // Set when the deadline passed: the last progress was a
                // deadline before.
                let deadline = self.deadline_secs.unwrap_or(PROGRESS_DEADLINE_S);
                r.progressed_at = c
                    .updated_at
                    .map(|t| t.saturating_sub(Duration::from_secs(deadline)));
                r.stalled = Some(c.message.clone().unwrap_or_else(|| reason.to_string()));
            } else if c.status {
                r.progressed_at = c.updated_at;
            }
        }
        Some(r)
    }
}

/// What a StatefulSet's spec and status say of its rolling update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatefulSetStatus {
    pub on_delete: bool,
    pub generation: Option<i64>,
    pub observed: Option<i64>,
    pub replicas: u32,
    pub updated: u32,
    /// `spec.updateStrategy.rollingUpdate.partition`.
    pub partition: u32,
    pub current_revision: String,
    pub update_revision: String,
}

impl StatefulSetStatus {
    pub fn rollout(&self) -> Option<Rollout> {
        if self.on_delete || unreported(self.generation, self.observed) {
            return None;
        }
        let updated = self.updated;
        let wanted = self.replicas.saturating_sub(self.partition);
        if unobserved(self.generation, self.observed) {
            return waiting(
                updated,
                wanted,
                "waiting for the statefulset spec update to be observed".into(),
            );
        }
        if self.partition > 0 {
            // Only the ordinals from the partition up are updated.
            return (updated < wanted)
                .then(|| {
                    waiting(
                        updated,
                        wanted,
                        format!(
                            "partitioned roll out: {updated} out of {wanted} new pods have been updated"
                        ),
                    )
                })
                .flatten();
        }
        let (current, update) = (&self.current_revision, &self.update_revision);
        if current.is_empty() || update.is_empty() || current == update {
            return None;
        }
        waiting(
            updated,
            wanted,
            format!("rolling update to complete {updated} pods at revision {update}"),
        )
    }
}

/// What a DaemonSet's spec and status say of its rollout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonSetStatus {
    pub on_delete: bool,
    pub generation: Option<i64>,
    pub observed: Option<i64>,
    /// `desiredNumberScheduled`, `updatedNumberScheduled`.
    pub desired: u32,
    pub updated: u32,
}

impl DaemonSetStatus {
    pub fn rollout(&self) -> Option<Rollout> {
        if self.on_delete || unreported(self.generation, self.observed) {
            return None;
        }
        let (updated, wanted) = (self.updated, self.desired);
        if unobserved(self.generation, self.observed) {
            return waiting(
                updated,
                wanted,
                "waiting for the daemon set spec update to be observed".into(),
            );
        }
        (updated < wanted)
            .then(|| {
                waiting(
                    updated,
                    wanted,
                    format!("{updated} out of {wanted} new pods have been updated"),
                )
            })
            .flatten()
    }
}
