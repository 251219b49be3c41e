//! Several clusters at once: which one the dashboard shows, a summary of
//! each, and the "broken everywhere" view across all of them.

use serde::{Deserialize, Serialize};

use crate::dto::{AlertRow, TrayLevel};
use crate::pods::PodRow;

/// One cluster at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSummary {
    pub name: String,
    /// Its worst: a stale source, else the worst firing severity.
    pub level: TrayLevel,
    pub pods_total: usize,
    pub pods_unhealthy: usize,
    pub alerts_firing: usize,
    pub incidents_active: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRef {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrokenPod {
    pub cluster: String,
    pub pod: PodRow,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterAlert {
    pub cluster: String,
    pub alert: AlertRow,
}

/// Unhealthy pods and firing alerts of every cluster, worst first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Everywhere {
    pub clusters: Vec<ClusterSummary>,
    pub pods: Vec<BrokenPod>,
    /// Pods left out past the limit.
    pub pods_more: usize,
    pub alerts: Vec<ClusterAlert>,
    pub alerts_more: usize,
}
