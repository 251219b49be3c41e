//! A cluster-wide incident (a latency or error-rate anomaly of the whole
//! cluster) is about no pod: its capture takes the pods of the workloads
//! whose latency rose around its onset, so that the explainer can weigh
//! which of them slowed first, and, with the call graph, which the others
//! wait on.

use std::collections::BTreeMap;

use sentinel_explain::incident::Topology;
use sentinel_explain::metrics;
use sentinel_model::Timestamp;

use crate::state::State;

/// Workloads one capture takes this way, at most (the slowest first).
const WORKLOADS: usize = 6;
/// A pod slowed when its p95 latency from a minute before the onset on is
/// this many times what it was before the baseline guard, and at least
/// [`MIN_RISE_S`] more.
const RATIO: f64 = 1.5;
const MIN_RISE_S: f64 = 0.02;
/// From how long before the onset a pod's latency is read as changed.
const LEAD_MS: i64 = 60_000;

/// A pod with latency readings (its index), and its ratio if it slowed.
type PodRise = (usize, Option<f64>);

/// How far a pod's p95 latency rose around `onset`: (after / before, after
/// − before), each a median; `None` without readings on both sides.
fn latency_rise(p95: &[(Timestamp, f64)], onset: Timestamp) -> Option<(f64, f64)> {
    let cut = onset.0 - metrics::BASELINE_GUARD_MS;
    let mut before: Vec<f64> = p95.iter().filter(|(t, _)| t.0 < cut).map(|p| p.1).collect();
    let mut after: Vec<f64> = p95
        .iter()
        .filter(|(t, _)| t.0 >= onset.0 - LEAD_MS)
        .map(|p| p.1)
        .collect();
    if before.is_empty() || after.is_empty() {
        return None;
    }
    let (b, a) = (metrics::median(&mut before), metrics::median(&mut after));
    (b > 0.0 && a.is_finite()).then(|| (a / b, a - b))
}

impl State {
    /// The pods (indices into the pod list) of the workloads most of whose
    /// pods slowed around `onset`, the slowest workloads first, at most
    /// `limit` pods.
    pub(super) fn slowed_pods(
        &self,
        onset: Timestamp,
        topo: &Topology,
        limit: usize,
    ) -> Vec<usize> {
        let mut by_workload: BTreeMap<(String, String), Vec<PodRise>> = BTreeMap::new();
        for (k, view) in self.pod_views().iter().enumerate() {
            let p = &view.pod;
            let Some(workload) = topo.pod(&p.namespace, &p.name).workload else {
                continue;
            };
            let Some((ratio, rise)) = latency_rise(&self.p95_trend(k), onset) else {
                continue;
            };
            let slowed = (ratio >= RATIO && rise >= MIN_RISE_S).then_some(ratio);
            by_workload
                .entry((p.namespace.clone(), workload))
                .or_default()
                .push((k, slowed));
        }
        let mut slowed: Vec<(f64, Vec<usize>)> = by_workload
            .into_values()
            .filter_map(|pods| {
                let mut ratios: Vec<f64> = pods.iter().filter_map(|p| p.1).collect();
                // Most of its pods: slowness on some only is their node's.
                if 2 * ratios.len() <= pods.len() {
                    return None;
                }
                let ratio = metrics::median(&mut ratios);
                Some((ratio, pods.into_iter().map(|p| p.0).collect()))
            })
            .collect();
        slowed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        slowed
            .into_iter()
            .take(WORKLOADS)
            .flat_map(|(_, pods)| pods)
            .take(limit)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> Timestamp {
        Timestamp(min * 60_000)
    }

    #[test]
    fn a_rise_is_read_from_the_baseline_to_around_the_onset() {
        let onset = at(20);
        let steady: Vec<_> = (0..30).map(|m| (at(m), 0.1)).collect();
        assert_eq!(latency_rise(&steady, onset).map(|r| r.0), Some(1.0));
        let slowed: Vec<_> = (0..30)
            .map(|m| (at(m), if m >= 19 { 0.4 } else { 0.1 }))
            .collect();
        let (ratio, rise) = latency_rise(&slowed, onset).unwrap();
        assert!((ratio - 4.0).abs() < 1e-9 && (rise - 0.3).abs() < 1e-9);
        // Nothing before the baseline guard: no baseline, no verdict.
        let young: Vec<_> = (16..30).map(|m| (at(m), 0.4)).collect();
        assert_eq!(latency_rise(&young, onset), None);
    }
}
