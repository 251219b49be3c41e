//! Several clusters: a summary of each, and the "broken everywhere" view of
//! unhealthy pods and firing alerts across all of them.

use sentinel_model::{ContainerState, PodPhase, PodState};
use sentinel_protocol::{BrokenPod, ClusterAlert, ClusterSummary, Everywhere};
use sentinel_runtime::Snapshot;

/// At most this many pods and alerts in the merged view.
pub const EVERYWHERE_LIMIT: usize = 500;

/// Not running as it should: pending, failed or unknown; running with a
/// container not ready; or a container waiting (CrashLoopBackOff, …).
pub fn unhealthy(p: &PodState) -> bool {
    match p.phase {
        PodPhase::Succeeded => false,
        PodPhase::Running => {
            p.ready_count() < p.containers.len()
                || p.containers
                    .iter()
                    .any(|c| matches!(c.state, ContainerState::Waiting { .. }))
        }
        _ => true,
    }
}

pub fn cluster_summary(name: &str, s: &Snapshot) -> ClusterSummary {
    ClusterSummary {
        name: name.to_string(),
        level: crate::tray_level(s),
        pods_total: s.pods.len(),
        pods_unhealthy: s.pods.iter().filter(|v| unhealthy(&v.pod)).count(),
        alerts_firing: crate::firing_count(s),
        incidents_active: s.incidents.iter().filter(|i| i.state.is_active()).count(),
    }
}

/// Every cluster's unhealthy pods and firing alerts, worst first.
pub fn everywhere(clusters: &[(String, std::sync::Arc<Snapshot>)]) -> Everywhere {
    let mut pods = Vec::new();
    let mut alerts = Vec::new();
    for (name, s) in clusters {
        pods.extend(
            s.pods
                .iter()
                .filter(|v| unhealthy(&v.pod))
                .map(|v| BrokenPod {
                    cluster: name.clone(),
                    pod: crate::pods::row(v),
                }),
        );
        alerts.extend(
            crate::feed::newest(s, usize::MAX)
                .into_iter()
                .filter(|a| a.resolved_at.is_none())
                .map(|alert| ClusterAlert {
                    cluster: name.clone(),
                    alert,
                }),
        );
    }
    // Failing first (not pending), then the most restarts.
    pods.sort_by(|a, b| {
        (a.pod.phase == "Pending")
            .cmp(&(b.pod.phase == "Pending"))
            .then(b.pod.restarts.cmp(&a.pod.restarts))
            .then_with(|| (&a.cluster, &a.pod.namespace).cmp(&(&b.cluster, &b.pod.namespace)))
            .then_with(|| crate::natural_cmp(&a.pod.name, &b.pod.name))
    });
    alerts.sort_by(|a, b| {
        b.alert
            .severity
            .cmp(&a.alert.severity)
            .then(b.alert.starts_at.cmp(&a.alert.starts_at))
            .then_with(|| a.cluster.cmp(&b.cluster))
    });
    let pods_more = pods.len().saturating_sub(EVERYWHERE_LIMIT);
    let alerts_more = alerts.len().saturating_sub(EVERYWHERE_LIMIT);
    pods.truncate(EVERYWHERE_LIMIT);
    alerts.truncate(EVERYWHERE_LIMIT);
    Everywhere {
        clusters: clusters
            .iter()
            .map(|(n, s)| cluster_summary(n, s))
            .collect(),
        pods,
        pods_more,
        alerts,
        alerts_more,
    }
}
