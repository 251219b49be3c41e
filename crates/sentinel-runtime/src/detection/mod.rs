//! Feeding the anomaly engine: the state's readings become series
//! (`node_cpu_usage_ratio{node}`, `pod_ready{namespace,pod}`, `up{source}`,
//! `cluster_error_percent`, …; docs/rules.md lists them), and the engine's
//! findings become part of the snapshot. Owned by the message loop.
//! Jobs' outcomes are in `jobs`, CronJobs' schedules in `schedules`,
//! rollouts in `rollouts`; `lasting` reads them as time passes.

mod jobs;
mod lasting;
#[cfg(test)]
pub(crate) use lasting::nightly;
mod rollouts;
mod schedules;

use std::collections::HashMap;
use std::sync::Arc;

use sentinel_detect::{Engine, RuleFile, SeriesId};
use sentinel_model::{
    Finding, Mark, NodeState, NodeUsage, PodPhase, PodState, SeriesKey, Timestamp,
};
use sentinel_store::{Record, StepKind};

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
    /// Findings reported since the incident manager last took them.
    reported: Vec<Finding>,
    /// Firing, then recently resolved; rebuilt only when something changed.
    view: Arc<Vec<Finding>>,
    dirty: bool,
    /// What the engine was fed and reported, for the history (when recording).
    log: Option<Vec<Record>>,
    /// Engine handles announced to the log (handles are reused after removal).
    defined: Vec<bool>,
    /// Series read as they are for rules of their own (see [`Self::raw`]).
    raw: HashMap<SeriesKey, SeriesId>,
    jobs: jobs::Jobs,
    schedules: schedules::Schedules,
    rollouts: rollouts::Rollouts,
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
            reported: Vec::new(),
            view: Arc::default(),
            dirty: false,
            log: None,
            defined: Vec::new(),
            raw: HashMap::new(),
            jobs: jobs::Jobs::default(),
            schedules: schedules::Schedules::default(),
            rollouts: rollouts::Rollouts::default(),
        }
    }

    /// Log everything the engine is fed and reports from now on: a new
    /// engine session starts at `at`.
    pub fn record(&mut self, at: Timestamp) {
        let mut log = vec![Record::Step {
            at,
            kind: StepKind::Reset,
        }];
        match serde_json::to_string(self.engine.rules()) {
            Ok(body) => log.push(Record::Rules { at, body }),
            Err(e) => tracing::warn!(error = %e, "the engine's rules are not recorded"),
        }
        self.log = Some(log);
    }

    /// Logs something besides the engine's input (a Kubernetes event), when
    /// recording.
    /// Whether what happens is being logged for the history.
    pub fn recording(&self) -> bool {
        self.log.is_some()
    }

    /// Logs several records at once (nothing when not recording).
    pub fn note_all(&mut self, rs: Vec<Record>) {
        if let Some(log) = &mut self.log {
            log.extend(rs);
        }
    }

    pub fn note(&mut self, r: Record) {
        if let Some(log) = &mut self.log {
            log.push(r);
        }
    }

    /// What was logged since the last call.
    pub fn take_log(&mut self) -> Vec<Record> {
        self.log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Readings stamped `at` were fed (the step replay groups them by).
    pub fn fed(&mut self, at: Timestamp) {
        if let Some(log) = &mut self.log {
            log.push(Record::Step {
                at,
                kind: StepKind::Feed,
            });
        }
    }

    fn register(&mut self, key: SeriesKey) -> SeriesId {
        let id = self.engine.series(&key);
        if let Some(log) = &mut self.log {
            let h = id.0 as usize;
            if self.defined.len() <= h {
                self.defined.resize(h + 1, false);
            }
            if !self.defined[h] {
                self.defined[h] = true;
                log.push(Record::Define { handle: id.0, key });
            }
        }
        id
    }

    fn feed(&mut self, id: SeriesId, at: Timestamp, value: f64) {
        if let Some(log) = &mut self.log {
            log.push(Record::Sample {
                handle: id.0,
                at,
                value,
            });
        }
        self.engine.observe(id, at, value, &mut self.out);
    }

    fn forget(&mut self, id: SeriesId, at: Timestamp) {
        if let Some(log) = &mut self.log
            && self.defined.get(id.0 as usize).copied().unwrap_or(false)
        {
            self.defined[id.0 as usize] = false;
            log.push(Record::Remove { handle: id.0, at });
        }
        self.engine.remove(id, at, &mut self.out);
    }

    /// Readings of series a source reads as they are, for rules that name
    /// them (imported Prometheus rules). `readings` holds every series the
    /// source still answers for; one it no longer does has gone, like a
    /// deleted pod, and its findings resolve at `at`.
    pub fn raw(&mut self, at: Timestamp, readings: &[(SeriesKey, Timestamp, f64)]) {
        let mut seen = std::collections::HashSet::new();
        for (key, t, v) in readings {
            let id = match self.raw.get(key) {
                Some(id) => *id,
                None => {
                    let id = self.register(key.clone());
                    self.raw.insert(key.clone(), id);
                    id
                }
            };
            seen.insert(id);
            self.feed(id, *t, *v);
        }
        let gone: Vec<(SeriesKey, SeriesId)> = self
            .raw
            .iter()
            .filter(|(_, id)| !seen.contains(*id))
            .map(|(k, id)| (k.clone(), *id))
            .collect();
        for (key, id) in gone {
            self.raw.remove(&key);
            self.forget(id, at);
        }
        self.collect();
    }

    fn named(&mut self, metric: &str, labels: &[(&str, &str)]) -> SeriesId {
        let name = format!("{metric}{labels:?}");
        if let Some(id) = self.named.get(&name) {
            return *id;
        }
        let id = self.register(SeriesKey::new(metric, labels.iter().copied()));
        self.named.insert(name, id);
        id
    }

    /// A reading of a series without per-object identity (cluster-wide, per source).
    pub fn observe(&mut self, metric: &str, labels: &[(&str, &str)], at: Timestamp, value: f64) {
        let id = self.named(metric, labels);
        self.feed(id, at, value);
        self.collect();
    }

    /// Node series at `at`: CPU from the usage, and readiness when `ready`
    /// (the nodes as listed hold at `at`; not while a listing of a later
    /// step is all there is).
    pub fn nodes(
        &mut self,
        at: Timestamp,
        nodes: &[NodeState],
        usage: &HashMap<String, NodeUsage>,
        ready: bool,
    ) {
        for n in nodes {
            let ids = match self.nodes.get(&n.name) {
                Some(ids) => *ids,
                None => {
                    let l = [("node", n.name.as_str())];
                    let ids = (
                        self.register(SeriesKey::new("node_ready", l)),
                        self.register(SeriesKey::new("node_cpu_usage_ratio", l)),
                    );
                    self.nodes.insert(n.name.clone(), ids);
                    ids
                }
            };
            if ready {
                self.feed(ids.0, at, if n.is_ready() { 1.0 } else { 0.0 });
            }
            if let Some(u) = usage.get(&n.name)
                && n.cpu_capacity_millis > 0
            {
                let ratio = u.cpu_cores / (f64::from(n.cpu_capacity_millis) / 1000.0);
                self.feed(ids.1, at, ratio);
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
            memory: self.register(SeriesKey::new("pod_memory_usage_ratio", l)),
            ready: self.register(SeriesKey::new("pod_ready", l)),
            restarts: self.register(SeriesKey::new("pod_container_restarts_total", l)),
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

    /// Whether a pod's readiness and memory are read: not a finished pod,
    /// which is not expected to be ready — one that succeeded, or one of a
    /// listed Job that failed (the Job's outcome says that: `job_failed`).
    fn reads(&self, p: &PodState) -> bool {
        match p.phase {
            PodPhase::Succeeded => false,
            PodPhase::Failed => !self.jobs.owns(p),
            _ => true,
        }
    }

    /// Pod states (readiness, restarts); pods no longer listed are forgotten.
    /// The pods now; `restarts`: feed their restart counters too (else the
    /// source feeds them with its usage, per step).
    pub fn pods(&mut self, at: Timestamp, pods: &[&PodState], restarts: bool) {
        let read: Vec<&PodState> = pods.iter().copied().filter(|p| self.reads(p)).collect();
        if read.len() != self.pod_count || read.iter().any(|p| !self.known(p)) {
            let live: std::collections::HashSet<(&str, &str)> = read
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
                    self.forget(id, at);
                }
            }
        }
        for p in read {
            let s = self.pod_series(p);
            let ready = p.phase == PodPhase::Running && p.ready_count() == p.containers.len();
            self.feed(s.ready, at, f64::from(u8::from(ready)));
            if restarts {
                self.feed(s.restarts, at, f64::from(p.restarts()));
            }
        }
        self.collect();
    }

    /// Memory of one pod relative to its limits.
    pub fn pod_usage(
        &mut self,
        at: Timestamp,
        p: &PodState,
        memory_bytes: Option<f64>,
        restarts: Option<u32>,
    ) {
        if !self.reads(p) {
            return;
        }
        let s = self.pod_series(p);
        if let Some(r) = restarts {
            self.feed(s.restarts, at, f64::from(r));
        }
        let mem_limit: u64 = p.containers.iter().map(|c| c.memory_limit_bytes).sum();
        if let Some(bytes) = memory_bytes
            && mem_limit > 0
        {
            let r = bytes / mem_limit as f64;
            self.feed(s.memory, at, r);
        }
    }

    /// Time passed without readings (absence rules).
    pub fn tick(&mut self, now: Timestamp) {
        if let Some(log) = &mut self.log {
            log.push(Record::Step {
                at: now,
                kind: StepKind::Tick,
            });
        }
        self.engine.tick(now, &mut self.out);
        self.collect();
    }

    /// Records a verdict on a finding the engine no longer holds (the
    /// caller found it in the history): it goes to the history's feedback
    /// and audit log only. Replay's engine will not hold it either, so no
    /// step is logged. False when nothing is recorded.
    pub fn mark_recorded(&mut self, id: &str, mark: Mark, at: Timestamp) -> bool {
        let Some(log) = &mut self.log else {
            return false;
        };
        log.push(Record::Mark {
            id: id.to_string(),
            mark,
            at,
        });
        true
    }

    pub fn mark(&mut self, id: &str, mark: Mark, at: Timestamp) -> bool {
        let ok = self.engine.mark(id, mark, at);
        self.dirty |= ok;
        if ok && let Some(log) = &mut self.log {
            log.push(Record::Mark {
                id: id.to_string(),
                mark,
                at,
            });
            log.push(Record::Step {
                at,
                kind: StepKind::Mark,
            });
        }
        ok
    }

    fn collect(&mut self) {
        if !self.out.is_empty() {
            // The engine keeps the findings; the view is rebuilt from it.
            self.dirty = true;
            self.reported.extend(self.out.iter().cloned());
            match &mut self.log {
                Some(log) => log.extend(self.out.drain(..).map(|f| Record::Finding(Box::new(f)))),
                None => self.out.clear(),
            }
        }
    }

    /// Findings reported (fired, escalated, resolved) since the last call.
    pub fn take_reported(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.reported)
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
