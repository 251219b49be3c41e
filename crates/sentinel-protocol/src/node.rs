//! A node's detail: what `kubectl describe node` and its pods would tell an
//! operator looking at a node in trouble, with its recent use.

use serde::{Deserialize, Serialize};

use sentinel_model::{Labels, Timestamp};

use crate::{AlertRow, EventRow, NodeRow, PodRow, Point};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRef {
    pub name: String,
}

/// One of the node's conditions as the kubelet last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionRow {
    /// `Ready`, `MemoryPressure`, `DiskPressure`, `PIDPressure`, …
    pub kind: String,
    pub status: bool,
    pub reason: String,
    /// When the status last changed.
    pub since: Timestamp,
    /// `Ready=False`, or any other condition `True`.
    pub abnormal: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeDetail {
    pub at: Timestamp,
    pub row: NodeRow,
    pub labels: Labels,
    /// From the `node-role.kubernetes.io/<role>` labels.
    pub roles: Vec<String>,
    pub cpu_capacity_millis: u32,
    pub memory_capacity_bytes: u64,
    pub cpu_cores: Option<f64>,
    pub memory_bytes: Option<f64>,
    /// What the pods placed on it (not finished) request and may use: the
    /// sum of their containers' CPU requests and memory limits.
    pub cpu_requested_millis: u64,
    pub memory_limits_bytes: u64,
    pub conditions: Vec<ConditionRow>,
    /// Its pods, those in trouble first (at most [`NODE_PODS_SHOWN`]).
    pub pods: Vec<PodRow>,
    pub pods_total: usize,
    /// Those of `pods_total` not ready or not running (finished ones aside).
    pub pods_in_trouble: usize,
    /// Events about the node, and the warnings about its pods, newest first.
    pub events: Vec<EventRow>,
    /// Firing alerts and findings that name the node (`node` label).
    pub alerts: Vec<AlertRow>,
    /// Percent of capacity.
    pub cpu: Vec<Point>,
    pub memory: Vec<Point>,
}

/// The most pods a node's detail lists.
pub const NODE_PODS_SHOWN: usize = 250;
