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
    let mut alerts_total = 0;
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
        // Each cluster's worst are enough to make the page: only they are
        // built (a storm holds 100,000).
        let (worst, total) = crate::feed::worst_first(s, EVERYWHERE_LIMIT);
        alerts_total += total;
        alerts.extend(worst.into_iter().map(|alert| ClusterAlert {
            cluster: name.clone(),
            alert,
        }));
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
    let alerts_more = alerts_total.saturating_sub(EVERYWHERE_LIMIT);
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sentinel_model::{AlertState, Timestamp};
    use sentinel_runtime::Mode;

    use super::*;
    use crate::feed::tests::alert;

    fn cluster(name: &str, warnings: i64, critical_at: i64, held: bool) -> (String, Arc<Snapshot>) {
        let mut s = Snapshot::empty(Mode::Live, Timestamp(1_000_000));
        let mut alerts: Vec<_> = (0..warnings)
            .map(|i| {
                alert(
                    &format!("{name}-w{i}"),
                    "PodNotReady",
                    "warning",
                    1_000 + i,
                    &[],
                )
            })
            .collect();
        let mut critical = alert(
            &format!("{name}-c"),
            "NodeDown",
            "critical",
            critical_at,
            &[],
        );
        if held {
            critical.state = AlertState::Suppressed;
            critical.silenced_by = vec!["s".into()];
        }
        alerts.push(critical);
        s.alerts = Arc::new(alerts);
        (name.to_string(), Arc::new(s))
    }

    /// Worst first across clusters, then newest; what Alertmanager holds
    /// back is not broken; the rest beyond the page is counted.
    #[test]
    fn the_worst_alerts_of_every_cluster_come_first_and_the_rest_are_counted() {
        // More than a page in a alone, its critical the oldest of all.
        let clusters = [cluster("a", 600, 0, false), cluster("b", 300, 5, true)];
        let e = everywhere(&clusters);
        assert_eq!(e.alerts.len(), EVERYWHERE_LIMIT);
        assert_eq!(e.alerts_more, 601 + 300 - EVERYWHERE_LIMIT);
        // a's critical, though the oldest; b's is silenced.
        assert_eq!(e.alerts[0].alert.fingerprint, "a-c");
        assert!(e.alerts.iter().all(|c| c.alert.fingerprint != "b-c"));
        // Then the warnings, newest first.
        assert!(e.alerts[1..].windows(2).all(|w| {
            w[0].alert.severity == w[1].alert.severity
                && w[0].alert.starts_at >= w[1].alert.starts_at
        }));
        assert_eq!(e.alerts[1].alert.fingerprint, "a-w599");
    }
}
