//! Pods and nodes: the pod list, per-pod counters and trends, and the
//! cluster series derived from their usage.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use sentinel_model::{LatencyHistogram, PodState, Timestamp};

use super::State;
use super::trend::{self, TrendPoint};
use crate::snapshot::{PodKey, PodTrend, PodView};

#[derive(Debug, Clone, Copy)]
pub(super) struct Counters {
    requests: u64,
    errors: u64,
    latency: LatencyHistogram,
}

/// What the state keeps per pod besides its view: counters for rates and
/// recent usage (for the sparkline and incident captures). Aligned with
/// `pods`.
#[derive(Debug, Default)]
pub(super) struct PodSide {
    counters: Option<Counters>,
    /// The requests served over the trend's current slot.
    slot_served: LatencyHistogram,
    pub(super) trend: VecDeque<TrendPoint>,
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
        let opens = self.node_slots.open(at, self.trend_capacity);
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
                        let ratio = u.cpu_cores * 1000.0 / f64::from(n.cpu_capacity_millis);
                        let memory = if n.memory_capacity_bytes > 0 {
                            u.memory_bytes / n.memory_capacity_bytes as f64
                        } else {
                            f64::NAN
                        };
                        let slots = &self.node_slots;
                        let in_slot = |p: &(Timestamp, f32, f32)| !opens && slots.holds(p.0);
                        let point = (at, ratio as f32, memory as f32);
                        trend::record(t, self.trend_capacity, in_slot, point, |p, q| *p = q);
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
        let opens = self.pod_slots.open(at, self.trend_capacity);
        let slots = &self.pod_slots;
        let in_slot = |p: &TrendPoint| !opens && slots.holds(p.at);
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
            let served = side.counters.replace(now).map(|prev| {
                requests += now.requests.saturating_sub(prev.requests);
                errors += now.errors.saturating_sub(prev.errors);
                now.latency.delta(&prev.latency)
            });
            let served = served.unwrap_or_default();
            latency.add(&served);
            if side.trend.back().is_some_and(&in_slot) {
                side.slot_served.add(&served);
            } else {
                side.slot_served = served;
            }
            view.cpu_cores = u.cpu_cores;
            view.memory_bytes = u.memory_bytes;
            self.detection
                .pod_usage(at, &view.pod, u.memory_bytes, u.restarts);
            let f = |v: Option<f64>| v.map_or(f32::NAN, |v| v as f32);
            let point = TrendPoint {
                at,
                cpu_cores: f(u.cpu_cores),
                memory_bytes: f(u.memory_bytes),
                p95_seconds: f(side.slot_served.quantile(0.95)),
            };
            trend::record(
                &mut side.trend,
                self.trend_capacity,
                in_slot,
                point,
                TrendPoint::update,
            );
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
            cpu: trend::readings(t, |p| p.cpu_cores),
            memory: trend::readings(t, |p| p.memory_bytes),
        })
    }
}

#[cfg(test)]
mod tests {
    use sentinel_model::{Duration, LatencyHistogram, PodPhase, PodState, PodUsage, Timestamp};

    use super::State;
    use crate::snapshot::Mode;

    fn usage(cpu: Option<f64>, fast: u64, slow: u64) -> PodUsage {
        // Cumulative buckets: `fast` requests under 5 ms, `slow` ones
        // between 1 and 2.5 s.
        let mut latency = LatencyHistogram([fast; 11]);
        for b in &mut latency.0[8..] {
            *b += slow;
        }
        PodUsage {
            namespace: "shop".into(),
            pod: "cart-0".into(),
            cpu_cores: cpu,
            memory_bytes: Some(1e8),
            requests_total: fast + slow,
            errors_total: 0,
            latency,
            restarts: None,
        }
    }

    #[test]
    fn a_point_of_several_polls_holds_the_p95_of_all_their_requests() {
        let mut state = State::new(
            Mode::Live,
            Duration::from_mins(15),
            Vec::new(),
            sentinel_detect::default_pack(),
        );
        let t0 = Timestamp(1_700_000_000_000);
        let at = |ms: i64| t0.saturating_add(Duration(ms));
        let pod = PodState {
            uid: "u".into(),
            namespace: "shop".into(),
            name: "cart-0".into(),
            labels: Default::default(),
            owner: None,
            node: None,
            phase: PodPhase::Running,
            created_at: t0,
            containers: Vec::new(),
        };
        state.replace_pods(t0, vec![pod]);
        // Polls every 500 ms, four to a 2 s point: 100 fast requests, then
        // 10 slow ones, then none (and no CPU reading).
        state.record_pod_usage(at(0), vec![usage(Some(0.5), 0, 0)]);
        state.record_pod_usage(at(500), vec![usage(Some(0.5), 100, 0)]);
        state.record_pod_usage(at(1000), vec![usage(Some(0.75), 100, 10)]);
        state.record_pod_usage(at(1500), vec![usage(None, 100, 10)]);
        let [cpu, _, p95] = state.usage_trend(0);
        assert_eq!(cpu, vec![(at(1500), 0.75)]);
        // 10 of 110 requests took over a second: the slot's p95 is among
        // them, though the last poll served none.
        assert_eq!(p95.len(), 1);
        assert!((p95[0].1 - 1.675).abs() < 1e-3, "{p95:?}");
        // The next slot counts only its own requests.
        state.record_pod_usage(at(2000), vec![usage(Some(0.5), 200, 10)]);
        let [cpu, _, p95] = state.usage_trend(0);
        assert_eq!(cpu.len(), 2);
        assert_eq!(p95[1].0, at(2000));
        assert!(p95[1].1 < 0.005, "{p95:?}");
    }
}
