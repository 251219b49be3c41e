//! Pods and nodes: the pod list, per-pod counters and trends, and the
//! cluster series derived from their usage.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use sentinel_model::{LatencyHistogram, PodState, Timestamp};

use super::State;
use crate::snapshot::{PodKey, PodTrend, PodView};

#[derive(Debug, Clone, Copy)]
pub(super) struct Counters {
    requests: u64,
    errors: u64,
    latency: LatencyHistogram,
}

/// One step of a pod's recent usage, compact; NaN where there was no
/// reading.
#[derive(Debug, Clone, Copy)]
pub(super) struct TrendPoint {
    pub(super) at: Timestamp,
    pub(super) cpu_cores: f32,
    pub(super) memory_bytes: f32,
    /// p95 latency of the requests served since the step before.
    pub(super) p95_seconds: f32,
}

/// What the state keeps per pod besides its view: counters for rates and
/// recent usage (for the sparkline and incident captures). Aligned with
/// `pods`.
#[derive(Debug, Default)]
pub(super) struct PodSide {
    counters: Option<Counters>,
    pub(super) trend: VecDeque<TrendPoint>,
}

/// The readings of one field of a trend, without the steps that had none.
pub(super) fn readings(
    trend: &VecDeque<TrendPoint>,
    field: impl Fn(&TrendPoint) -> f32,
) -> Vec<(Timestamp, f64)> {
    trend
        .iter()
        .filter_map(|p| {
            let v = field(p);
            v.is_finite().then_some((p.at, widen(v)))
        })
        .collect()
}

/// A kept `f32` as the `f64` of its six significant digits (about what an
/// `f32` holds): `0.308519`, not `0.3085191547870636`, in captures saved
/// to the history and in what the UI is sent.
pub(super) fn widen(v: f32) -> f64 {
    let d = f64::from(v);
    if d == 0.0 || !d.is_finite() {
        return d;
    }
    let digits = 5 - d.abs().log10().floor() as i32;
    if digits >= 0 {
        let p = 10f64.powi(digits);
        (d * p).round() / p
    } else {
        let p = 10f64.powi(-digits);
        (d / p).round() * p
    }
}

impl State {
    /// Takes a new pod list. Sources list pods in a stable order, so the
    /// common case (same pods as last time) reuses the index and the per-pod
    /// data without building a single key; only a changed set is re-keyed.
    pub(super) fn replace_pods(&mut self, at: Timestamp, pods: Vec<PodState>) {
        if pods.len() > 1000 {
            self.trend_capacity = 60;
        }
        let old = std::mem::take(&mut self.pods);
        let same_set = old.len() == pods.len()
            && old
                .iter()
                .zip(&pods)
                .all(|(o, n)| o.pod.namespace == n.namespace && o.pod.name == n.name);
        let mut restarted = 0u64;
        if same_set {
            for (o, n) in old.iter().zip(&pods) {
                if o.pod.uid == n.uid {
                    restarted += u64::from(n.restarts().saturating_sub(o.pod.restarts()));
                }
            }
        } else {
            let by_uid: HashMap<&str, u32> = old
                .iter()
                .map(|v| (v.pod.uid.as_str(), v.pod.restarts()))
                .collect();
            for n in &pods {
                if let Some(prev) = by_uid.get(n.uid.as_str()) {
                    restarted += u64::from(n.restarts().saturating_sub(*prev));
                }
            }
        }
        self.restart_log.push_back((at, restarted));
        let oldest = at.saturating_sub(self.window);
        while self.restart_log.front().is_some_and(|(t, _)| *t < oldest) {
            self.restart_log.pop_front();
        }
        if same_set {
            let views = old
                .iter()
                .zip(pods)
                .map(|(o, pod)| PodView {
                    cpu_cores: o.cpu_cores,
                    memory_bytes: o.memory_bytes,
                    pod,
                })
                .collect();
            self.pods = Arc::new(views);
            return;
        }
        let mut old_side = std::mem::take(&mut self.side);
        let mut views = Vec::with_capacity(pods.len());
        let mut side = Vec::with_capacity(pods.len());
        let mut index = HashMap::with_capacity(pods.len());
        for (i, pod) in pods.into_iter().enumerate() {
            let key = (pod.namespace.clone(), pod.name.clone());
            let prev = self.pod_index.get(&key).copied();
            let prev_view = prev.and_then(|j| old.get(j));
            views.push(PodView {
                cpu_cores: prev_view.and_then(|v| v.cpu_cores),
                memory_bytes: prev_view.and_then(|v| v.memory_bytes),
                pod,
            });
            side.push(
                prev.and_then(|j| old_side.get_mut(j))
                    .map(std::mem::take)
                    .unwrap_or_default(),
            );
            index.insert(key, i);
        }
        self.pod_index = index;
        self.side = side;
        self.pods = Arc::new(views);
    }

    pub(super) fn record_node_series(&mut self, at: Timestamp) {
        let (mut cpu, mut cpu_cap, mut mem, mut mem_cap) = (0.0, 0.0, 0.0, 0.0);
        for n in &self.nodes {
            if let Some(u) = self.node_usage.get(&n.name) {
                cpu += u.cpu_cores;
                mem += u.memory_bytes;
                cpu_cap += f64::from(n.cpu_capacity_millis) / 1000.0;
                mem_cap += n.memory_capacity_bytes as f64;
                if n.cpu_capacity_millis > 0 {
                    if !self.node_trend.contains_key(&n.name) {
                        self.node_trend.insert(n.name.clone(), VecDeque::new());
                    }
                    if let Some(t) = self.node_trend.get_mut(&n.name) {
                        if t.len() >= self.trend_capacity {
                            t.pop_front();
                        }
                        let ratio = u.cpu_cores * 1000.0 / f64::from(n.cpu_capacity_millis);
                        t.push_back((at, ratio as f32));
                    }
                }
            }
        }
        if self.node_trend.len() > self.nodes.len() {
            let listed: HashSet<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
            self.node_trend.retain(|k, _| listed.contains(k.as_str()));
        }
        if cpu_cap > 0.0 {
            self.cpu.push(at, 100.0 * cpu / cpu_cap);
            self.detection
                .observe("cluster_cpu_percent", &[], at, 100.0 * cpu / cpu_cap);
        }
        if mem_cap > 0.0 {
            self.memory.push(at, 100.0 * mem / mem_cap);
            self.detection
                .observe("cluster_memory_percent", &[], at, 100.0 * mem / mem_cap);
        }
    }

    pub(super) fn record_pod_usage(&mut self, at: Timestamp, usage: Vec<sentinel_model::PodUsage>) {
        let dt = self
            .counters_at
            .map(|t| at.since(t).millis() as f64 / 1000.0)
            .filter(|d| *d > 0.0);
        let (mut requests, mut errors) = (0u64, 0u64);
        let mut latency = LatencyHistogram::default();
        let pods = Arc::make_mut(&mut self.pods);
        for u in usage {
            let Some(&i) = self.pod_index.get(&(u.namespace, u.pod)) else {
                continue;
            };
            let (Some(view), Some(side)) = (pods.get_mut(i), self.side.get_mut(i)) else {
                continue;
            };
            let now = Counters {
                requests: u.requests_total,
                errors: u.errors_total,
                latency: u.latency,
            };
            let mut p95 = None;
            if let Some(prev) = side.counters.replace(now) {
                requests += now.requests.saturating_sub(prev.requests);
                errors += now.errors.saturating_sub(prev.errors);
                let served = now.latency.delta(&prev.latency);
                p95 = served.quantile(0.95);
                latency.add(&served);
            }
            view.cpu_cores = u.cpu_cores;
            view.memory_bytes = u.memory_bytes;
            self.detection
                .pod_usage(at, &view.pod, u.memory_bytes, u.restarts);
            if side.trend.len() >= self.trend_capacity {
                side.trend.pop_front();
            }
            let f = |v: Option<f64>| v.map_or(f32::NAN, |v| v as f32);
            side.trend.push_back(TrendPoint {
                at,
                cpu_cores: f(u.cpu_cores),
                memory_bytes: f(u.memory_bytes),
                p95_seconds: f(p95),
            });
        }
        self.counters_at = Some(at);
        if let Some(dt) = dt {
            let rate = requests as f64 / dt;
            self.request_rate.push(at, rate);
            self.detection
                .observe("cluster_request_rate", &[], at, rate);
            if requests > 0 {
                let pct = 100.0 * errors as f64 / requests as f64;
                self.error_percent.push(at, pct);
                self.detection
                    .observe("cluster_error_percent", &[], at, pct);
            }
            if let Some(p95) = latency.quantile(0.95) {
                self.p95_ms.push(at, p95 * 1000.0);
                self.detection
                    .observe("cluster_latency_p95_ms", &[], at, p95 * 1000.0);
            }
        }
    }

    pub fn pod_trend(&self, key: &PodKey) -> Option<PodTrend> {
        let t = &self.side.get(*self.pod_index.get(key)?)?.trend;
        Some(PodTrend {
            cpu: readings(t, |p| p.cpu_cores),
            memory: readings(t, |p| p.memory_bytes),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::widen;

    #[test]
    fn kept_readings_widen_to_their_six_digits() {
        let shown = |v: f32| widen(v).to_string();
        assert_eq!(shown(0.308_519_15), "0.308519");
        assert_eq!(shown(0.1), "0.1");
        assert_eq!(shown(180_303_072.0), "180303000");
        assert_eq!(shown(6.65), "6.65");
        assert_eq!(shown(-2.5e-7), "-0.00000025");
        assert_eq!(shown(0.0), "0");
        assert!(widen(f32::NAN).is_nan());
        // Within an f32's precision of what was kept.
        for v in [1.234_567_8_f32, 98_765.43, 3.3e-5, 7.0e12] {
            let d = widen(v);
            assert!(((d - f64::from(v)) / f64::from(v)).abs() < 1e-5, "{v} {d}");
        }
    }
}
