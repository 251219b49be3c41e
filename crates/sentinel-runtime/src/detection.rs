//! Feeding the anomaly engine: the state's readings become series
//! (`node_cpu_usage_ratio{node}`, `pod_ready{namespace,pod}`, `up{source}`,
//! `cluster_error_percent`, …; docs/rules.md lists them), and the engine's
//! findings become part of the snapshot. Owned by the message loop.

use std::collections::HashMap;
use std::sync::Arc;

use sentinel_detect::{Engine, RuleFile, SeriesId};
use sentinel_model::{
    Finding, Mark, NodeState, NodeUsage, PodPhase, PodState, SeriesKey, Timestamp,
};

/// Resolved findings the snapshot shows besides the firing ones.
const RECENT_RESOLVED: usize = 50;

#[derive(Clone, Copy)]
struct PodSeries {
    memory: SeriesId,
    ready: SeriesId,
    restarts: SeriesId,
}

pub struct Detection {
    engine: Engine,
    /// namespace → pod name → series, looked up without allocating.
    pods: HashMap<String, HashMap<String, PodSeries>>,
    pod_count: usize,
    nodes: HashMap<String, (SeriesId, SeriesId)>,
    named: HashMap<String, SeriesId>,
    out: Vec<Finding>,
    /// Firing, then recently resolved; rebuilt only when something changed.
    view: Arc<Vec<Finding>>,
    dirty: bool,
}

impl Detection {
    pub fn new(rules: RuleFile) -> Self {
        Self {
            engine: Engine::new(rules),
            pods: HashMap::new(),
            pod_count: 0,
            nodes: HashMap::new(),
            named: HashMap::new(),
            out: Vec::new(),
            view: Arc::default(),
            dirty: false,
        }
    }

    fn named(&mut self, metric: &str, labels: &[(&str, &str)]) -> SeriesId {
        let name = format!("{metric}{labels:?}");
        if let Some(id) = self.named.get(&name) {
            return *id;
        }
        let id = self
            .engine
            .series(&SeriesKey::new(metric, labels.iter().copied()));
        self.named.insert(name, id);
        id
    }

    /// A reading of a series without per-object identity (cluster-wide, per source).
    pub fn observe(&mut self, metric: &str, labels: &[(&str, &str)], at: Timestamp, value: f64) {
        let id = self.named(metric, labels);
        self.engine.observe(id, at, value, &mut self.out);
        self.collect();
    }

    pub fn nodes(
        &mut self,
        at: Timestamp,
        nodes: &[NodeState],
        usage: &HashMap<String, NodeUsage>,
    ) {
        for n in nodes {
            let ids = match self.nodes.get(&n.name) {
                Some(ids) => *ids,
                None => {
                    let l = [("node", n.name.as_str())];
                    let ids = (
                        self.engine.series(&SeriesKey::new("node_ready", l)),
                        self.engine
                            .series(&SeriesKey::new("node_cpu_usage_ratio", l)),
                    );
                    self.nodes.insert(n.name.clone(), ids);
                    ids
                }
            };
            let ready = if n.is_ready() { 1.0 } else { 0.0 };
            self.engine.observe(ids.0, at, ready, &mut self.out);
            if let Some(u) = usage.get(&n.name)
                && n.cpu_capacity_millis > 0
            {
                let ratio = u.cpu_cores / (f64::from(n.cpu_capacity_millis) / 1000.0);
                self.engine.observe(ids.1, at, ratio, &mut self.out);
            }
        }
        self.collect();
    }

    fn pod_series(&mut self, p: &PodState) -> PodSeries {
        if let Some(s) = self.pods.get(&p.namespace).and_then(|m| m.get(&p.name)) {
            return *s;
        }
        let l = [
            ("namespace", p.namespace.as_str()),
            ("pod", p.name.as_str()),
        ];
        let s = PodSeries {
            memory: self
                .engine
                .series(&SeriesKey::new("pod_memory_usage_ratio", l)),
            ready: self.engine.series(&SeriesKey::new("pod_ready", l)),
            restarts: self
                .engine
                .series(&SeriesKey::new("pod_container_restarts_total", l)),
        };
        self.pods
            .entry(p.namespace.clone())
            .or_default()
            .insert(p.name.clone(), s);
        self.pod_count += 1;
        s
    }

    fn known(&self, p: &PodState) -> bool {
        self.pods
            .get(&p.namespace)
            .is_some_and(|m| m.contains_key(&p.name))
    }

    /// Pod states (readiness, restarts); pods no longer listed are forgotten.
    pub fn pods(&mut self, at: Timestamp, pods: &[&PodState]) {
        if pods.len() != self.pod_count || pods.iter().any(|p| !self.known(p)) {
            let live: std::collections::HashSet<(&str, &str)> = pods
                .iter()
                .map(|p| (p.namespace.as_str(), p.name.as_str()))
                .collect();
            let mut gone = Vec::new();
            for (ns, names) in &mut self.pods {
                names.retain(|name, s| {
                    let keep = live.contains(&(ns.as_str(), name.as_str()));
                    if !keep {
                        gone.push(*s);
                    }
                    keep
                });
            }
            self.pods.retain(|_, names| !names.is_empty());
            self.pod_count -= gone.len();
            for s in gone {
                for id in [s.memory, s.ready, s.restarts] {
                    self.engine.remove(id, at, &mut self.out);
                }
            }
        }
        for p in pods {
            // Finished pods (Jobs) are not expected to be ready.
            if p.phase == PodPhase::Succeeded {
                continue;
            }
            let s = self.pod_series(p);
            let ready = p.phase == PodPhase::Running && p.ready_count() == p.containers.len();
            self.engine
                .observe(s.ready, at, f64::from(u8::from(ready)), &mut self.out);
            self.engine
                .observe(s.restarts, at, f64::from(p.restarts()), &mut self.out);
        }
        self.collect();
    }

    /// Memory of one pod relative to its limits.
    pub fn pod_usage(&mut self, at: Timestamp, p: &PodState, memory_bytes: f64) {
        if p.phase == PodPhase::Succeeded {
            return;
        }
        let s = self.pod_series(p);
        let mem_limit: u64 = p.containers.iter().map(|c| c.memory_limit_bytes).sum();
        if mem_limit > 0 {
            let r = memory_bytes / mem_limit as f64;
            self.engine.observe(s.memory, at, r, &mut self.out);
        }
    }

    /// Time passed without readings (absence rules).
    pub fn tick(&mut self, now: Timestamp) {
        self.engine.tick(now, &mut self.out);
        self.collect();
    }

    pub fn mark(&mut self, id: &str, mark: Mark, at: Timestamp) -> bool {
        let ok = self.engine.mark(id, mark, at);
        self.dirty |= ok;
        ok
    }

    fn collect(&mut self) {
        if !self.out.is_empty() {
            // The engine keeps the findings; the view is rebuilt from it.
            self.dirty = true;
            self.out.clear();
        }
    }

    /// Firing findings (newest first), then recently resolved ones.
    pub fn view(&mut self) -> Arc<Vec<Finding>> {
        if self.dirty {
            let mut v: Vec<Finding> = self.engine.firing().cloned().collect();
            v.sort_by(|a, b| b.fired_at.cmp(&a.fired_at).then_with(|| a.id.cmp(&b.id)));
            v.extend(self.engine.resolved().rev().take(RECENT_RESOLVED).cloned());
            self.view = Arc::new(v);
            self.dirty = false;
        }
        Arc::clone(&self.view)
    }
}
