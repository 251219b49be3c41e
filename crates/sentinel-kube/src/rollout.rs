//! Whether a Deployment, StatefulSet or DaemonSet is rolling out, read from
//! its controller's status as `kubectl rollout status` reads it, in its
//! words. Readiness after a rollout is done is the pods' business (their
//! readiness is read on its own), so only the rollout's own steps count:
//! the new revision's pods not all created (or, for a Deployment, old ones
//! not yet gone, new ones not yet available while the controller has not
//! called it done), or the controller not having seen the new spec yet.
//! A paused Deployment and the `OnDelete` strategies wait on purpose: no
//! rollout.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sentinel_model::{Duration, Rollout};

use crate::convert::{count, time};

/// `progressDeadlineSeconds` when the spec leaves it out.
const PROGRESS_DEADLINE_S: i64 = 600;

fn unobserved(m: &ObjectMeta, observed: Option<i64>) -> bool {
    m.generation.unwrap_or(0) > observed.unwrap_or(0)
}

/// A status no controller has reported (no generation observed, none to
/// observe): its counts say nothing, absent counts being zero.
fn unreported(m: &ObjectMeta, observed: Option<i64>) -> bool {
    observed.is_none() && m.generation.is_none()
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

pub fn deployment(d: &Deployment) -> Option<Rollout> {
    let spec = d.spec.as_ref()?;
    if spec.paused == Some(true) {
        return None;
    }
    let status = d.status.as_ref()?;
    if unreported(&d.metadata, status.observed_generation) {
        return None;
    }
    let wanted = count(spec.replicas.or(Some(1)));
    let updated = count(status.updated_replicas);
    let progressing = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing");
    let reason = progressing.and_then(|c| c.reason.as_deref()).unwrap_or("");
    let mut r = if unobserved(&d.metadata, status.observed_generation) {
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
    } else if count(status.replicas) > updated {
        waiting(
            updated,
            wanted,
            format!(
                "{} old replicas are pending termination",
                count(status.replicas) - updated
            ),
        )
    } else if count(status.available_replicas) < updated && reason != "NewReplicaSetAvailable" {
        waiting(
            updated,
            wanted,
            format!(
                "{} of {updated} updated replicas are available",
                count(status.available_replicas)
            ),
        )
    } else {
        None
    }?;
    // Pods the API server refused the new ReplicaSet (a quota, a missing
    // service account): the condition stays while the events expire.
    r.failure = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "ReplicaFailure" && c.status == "True")
        .map(|c| {
            c.message
                .clone()
                .or_else(|| c.reason.clone())
                .unwrap_or_else(|| "ReplicaFailure".into())
        });
    if let Some(c) = progressing {
        let last = c.last_update_time.as_ref().map(time);
        if reason == "ProgressDeadlineExceeded" {
            // Set when the deadline passed: the last progress was a
            // deadline before.
            let deadline = spec
                .progress_deadline_seconds
                .map_or(PROGRESS_DEADLINE_S, i64::from);
            r.progressed_at = last.map(|t| t.saturating_sub(Duration::from_secs(deadline)));
            r.stalled = Some(c.message.clone().unwrap_or_else(|| reason.to_string()));
        } else if c.status == "True" {
            r.progressed_at = last;
        }
    }
    Some(r)
}

pub fn stateful_set(s: &StatefulSet) -> Option<Rollout> {
    let spec = s.spec.as_ref()?;
    let strategy = spec.update_strategy.as_ref();
    if strategy.and_then(|u| u.type_.as_deref()) == Some("OnDelete") {
        return None;
    }
    let status = s.status.as_ref()?;
    if unreported(&s.metadata, status.observed_generation) {
        return None;
    }
    let replicas = count(spec.replicas.or(Some(1)));
    let updated = count(status.updated_replicas);
    let partition = strategy
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .map_or(0, |p| count(Some(p)));
    let wanted = replicas.saturating_sub(partition);
    if unobserved(&s.metadata, status.observed_generation) {
        return waiting(
            updated,
            wanted,
            "waiting for the statefulset spec update to be observed".into(),
        );
    }
    if partition > 0 {
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
    let (current, update) = (
        status.current_revision.as_deref().unwrap_or(""),
        status.update_revision.as_deref().unwrap_or(""),
    );
    if current.is_empty() || update.is_empty() || current == update {
        return None;
    }
    waiting(
        updated,
        wanted,
        format!("rolling update to complete {updated} pods at revision {update}"),
    )
}

pub fn daemon_set(d: &DaemonSet) -> Option<Rollout> {
    let spec = d.spec.as_ref()?;
    if spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.type_.as_deref())
        == Some("OnDelete")
    {
        return None;
    }
    let status = d.status.as_ref()?;
    if unreported(&d.metadata, status.observed_generation) {
        return None;
    }
    let wanted = count(Some(status.desired_number_scheduled));
    let updated = count(status.updated_number_scheduled);
    if unobserved(&d.metadata, status.observed_generation) {
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

#[cfg(test)]
#[path = "rollout_tests.rs"]
mod tests;
