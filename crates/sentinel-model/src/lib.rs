//! The vocabulary of Sentinel: plain values that sources produce, the runtime
//! holds and the shells show. No IO, no clock; builds for wasm32.

mod alert;
mod cluster;
mod container;
#[cfg(feature = "cron")]
pub mod cron;
mod finding;
pub mod rollout;
mod secret;
mod time;
mod usage;
mod workload;

pub use alert::{Alert, AlertState, Severity, SilenceNote};
pub use cluster::{
    ClusterEvent, EventType, NodeCondition, NodeState, ObjectRef, OwnerKind, OwnerRef, PodPhase,
    PodState, ServicePort, ServiceState, quantity,
};
pub use container::{
    ContainerPort, ContainerState, ContainerStatus, Probe, ProbeAction, ProbeKind,
};
pub use finding::{
    Comparison, Computed, Finding, Mark, OperatorMark, RuleRef, RuleState, RuleTrace, SeriesKey,
    Transition, WindowSummary, brief, num, percent,
};
pub use secret::Secret;
pub use time::{Duration, Timestamp};
pub use usage::{LATENCY_BUCKETS_SECONDS, LatencyHistogram, NodeUsage, PodUsage};
pub use workload::{
    Batch, JobOutcome, JobRun, Rollout, Schedule, Workload, WorkloadKind, newest_finished,
};

/// Labels of a series or an alert, ordered so that equal sets compare equal.
pub type Labels = std::collections::BTreeMap<String, String>;
