//! A rollout read from the API's Deployments, StatefulSets and DaemonSets:
//! their spec and status handed to the model's reading
//! (`sentinel_model::rollout`), which is `kubectl rollout status`'s.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use sentinel_model::Rollout;
use sentinel_model::rollout::{DaemonSetStatus, DeploymentStatus, Progressing, StatefulSetStatus};

use crate::convert::{count, time};

pub fn deployment(d: &Deployment) -> Option<Rollout> {
    let spec = d.spec.as_ref()?;
    let status = d.status.as_ref()?;
    let conditions = status.conditions.iter().flatten();
    let progressing = conditions
        .clone()
        .find(|c| c.type_ == "Progressing")
        .map(|c| Progressing {
            status: c.status == "True",
            reason: c.reason.clone().unwrap_or_default(),
            message: c.message.clone(),
            updated_at: c.last_update_time.as_ref().map(time),
        });
    let failure = conditions
        .clone()
        .find(|c| c.type_ == "ReplicaFailure" && c.status == "True")
        .map(|c| {
            c.message
                .clone()
                .or_else(|| c.reason.clone())
                .unwrap_or_else(|| "ReplicaFailure".into())
        });
    DeploymentStatus {
        paused: spec.paused == Some(true),
        generation: d.metadata.generation,
        observed: status.observed_generation,
        wanted: count(spec.replicas.or(Some(1))),
        updated: count(status.updated_replicas),
        replicas: count(status.replicas),
        available: count(status.available_replicas),
        progressing,
        failure,
        deadline_secs: spec.progress_deadline_seconds.map(i64::from),
    }
    .rollout()
}

pub fn stateful_set(s: &StatefulSet) -> Option<Rollout> {
    let spec = s.spec.as_ref()?;
    let status = s.status.as_ref()?;
    let strategy = spec.update_strategy.as_ref();
    StatefulSetStatus {
        on_delete: strategy.and_then(|u| u.type_.as_deref()) == Some("OnDelete"),
        generation: s.metadata.generation,
        observed: status.observed_generation,
        replicas: count(spec.replicas.or(Some(1))),
        updated: count(status.updated_replicas),
        partition: strategy
            .and_then(|u| u.rolling_update.as_ref())
            .and_then(|r| r.partition)
            .map_or(0, |p| count(Some(p))),
        current_revision: status.current_revision.clone().unwrap_or_default(),
        update_revision: status.update_revision.clone().unwrap_or_default(),
    }
    .rollout()
}

pub fn daemon_set(d: &DaemonSet) -> Option<Rollout> {
    let spec = d.spec.as_ref()?;
    let status = d.status.as_ref()?;
    DaemonSetStatus {
        on_delete: spec
            .update_strategy
            .as_ref()
            .and_then(|u| u.type_.as_deref())
            == Some("OnDelete"),
        generation: d.metadata.generation,
        observed: status.observed_generation,
        desired: count(Some(status.desired_number_scheduled)),
        updated: count(status.updated_number_scheduled),
    }
    .rollout()
}

#[cfg(test)]
#[path = "rollout_tests.rs"]
mod tests;
