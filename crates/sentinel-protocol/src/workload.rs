//! The Workloads page: each controller with its ready pods against those it
//! wants, its current revision and images, and whether a rollout is still
//! moving pods over.

use serde::{Deserialize, Serialize};

use sentinel_model::Timestamp;

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
    /// `Deployment`, `StatefulSet`, `DaemonSet`, or a `ReplicaSet` of its own.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Pods it wants, and those ready.
    pub replicas: u32,
    pub ready: u32,
    pub revision: String,
    /// `container=image`, in container order.
    pub images: Vec<String>,
    /// When its current revision began (a Deployment's newest ReplicaSet),
    /// else when it was created.
    pub since: Timestamp,
    /// A Deployment whose older ReplicaSets still hold pods: a rollout in
    /// progress, or stuck.
    pub rolling: bool,
    /// A Deployment's pods of its current revision (its newest ReplicaSet):
    /// while rolling out, the new pods that are not ready say it is stuck.
    #[serde(default)]
    pub updated: Option<Updated>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Updated {
    pub replicas: u32,
    pub ready: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadPage {
    pub at: Timestamp,
    /// Those short of ready pods first, then the latest changed.
    pub rows: Vec<WorkloadRow>,
    pub matched: usize,
    pub total: usize,
    pub namespaces: Vec<String>,
}
