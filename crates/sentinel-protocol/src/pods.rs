//! The pods table, a pod's detail and its containers' logs, as the UI
//! receives them.

use serde::{Deserialize, Serialize};

use sentinel_model::{Labels, Timestamp};

use crate::Point;

/// The largest page of pods one call returns.
pub const MAX_PAGE: usize = 500;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PodSort {
    #[default]
    Namespace,
    Name,
    Phase,
    Ready,
    Restarts,
    Cpu,
    Memory,
    Node,
    Age,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodQuery {
    /// Case-insensitive substring of namespace, name, node, phase or reason.
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub sort: PodSort,
    #[serde(default)]
    pub descending: bool,
    #[serde(default)]
    pub offset: usize,
    /// Page size, at most [`MAX_PAGE`]; zero means every matching pod (CLI only).
    pub limit: usize,
}

impl Default for PodQuery {
    fn default() -> Self {
        Self {
            text: String::new(),
            namespace: None,
            sort: PodSort::default(),
            descending: false,
            offset: 0,
            limit: 50,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodRow {
    pub namespace: String,
    pub name: String,
    pub phase: String,
    pub ready: usize,
    pub containers: usize,
    pub restarts: u32,
    pub cpu_cores: Option<f64>,
    pub memory_bytes: Option<f64>,
    pub node: Option<String>,
    pub created_at: Timestamp,
    pub last_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodPage {
    pub at: Timestamp,
    /// Pods in the cluster.
    pub total: usize,
    /// Pods that match the query.
    pub matched: usize,
    pub offset: usize,
    pub rows: Vec<PodRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodRef {
    pub namespace: String,
    pub name: String,
}

/// A container's log: the last `tail` lines, or with `follow` the lines from
/// `after` on (the previous answer's `next`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogQuery {
    pub namespace: String,
    pub pod: String,
    /// The container (default: the pod's first).
    #[serde(default)]
    pub container: Option<String>,
    #[serde(default = "default_tail")]
    pub tail: u32,
    #[serde(default)]
    pub follow: bool,
    #[serde(default)]
    pub after: u64,
    /// Where from: the Kubernetes API, Loki, or (default) whichever is there.
    #[serde(default)]
    pub source: LogSourceChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogSourceChoice {
    #[default]
    Auto,
    Kubernetes,
    Loki,
}

fn default_tail() -> u32 {
    200
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub seq: u64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    pub lines: Vec<LogLine>,
    /// The cursor for the next read of a follow.
    pub next: u64,
    /// Lines the bounded buffer dropped before they were read.
    pub dropped: u64,
    /// Why a follow ended, once it has.
    pub ended: Option<String>,
    /// `kubernetes` or `loki`.
    #[serde(default)]
    pub source: String,
    /// A passing problem (a tail reconnecting).
    #[serde(default)]
    pub notice: Option<String>,
    /// Lines the server dropped before they reached Sentinel (Loki).
    #[serde(default)]
    pub upstream_dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerRow {
    pub name: String,
    pub image: String,
    pub ready: bool,
    pub restarts: u32,
    /// `Running`, `Waiting: CrashLoopBackOff`, `Terminated: Completed (0)`.
    pub state: String,
    pub last_termination_reason: Option<String>,
    pub cpu_request_millis: u32,
    pub memory_limit_bytes: u64,
    /// Declared ports: `8080/TCP (http)`.
    #[serde(default)]
    pub ports: Vec<String>,
    /// Probes: `Readiness httpGet :http/ready, every 10s, timeout 1s`.
    #[serde(default)]
    pub probes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub kind: String,
    pub reason: String,
    pub message: String,
    pub object: String,
    pub last_seen: Timestamp,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodDetail {
    pub at: Timestamp,
    pub row: PodRow,
    pub labels: Labels,
    pub owner: Option<String>,
    /// The Services whose selector picks the pod: `name (type, port→target)`,
    /// and a note when a named target is not declared by the pod.
    #[serde(default)]
    pub services: Vec<String>,
    /// Whom the pod's workload calls and is called by (`calls payments`,
    /// `called by frontend, web`), where the call graph is known.
    #[serde(default)]
    pub calls: Vec<String>,
    pub containers: Vec<ContainerRow>,
    pub events: Vec<EventRow>,
    pub cpu: Vec<Point>,
    pub memory: Vec<Point>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_defaults_fill_missing_fields() {
        let q: PodQuery = serde_json::from_str(r#"{"limit":10,"sort":"restarts"}"#).unwrap();
        assert_eq!(q.sort, PodSort::Restarts);
        assert_eq!(q.limit, 10);
        assert!(q.text.is_empty());
    }
}
