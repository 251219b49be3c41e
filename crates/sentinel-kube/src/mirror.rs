//! What Sentinel holds of a cluster, folded from watch steps: pods, nodes
//! and workloads by key, and the events not yet handed on. A relist (after
//! a 410 Gone or a reconnect) is collected aside and swapped in whole, so the
//! runtime never sees a half-listed cluster. Pure: time is an argument.

use std::collections::{BTreeMap, HashMap};

use sentinel_model::{
    ClusterEvent, ContainerState, NodeState, OwnerKind, PodPhase, PodState, ServiceState,
    Timestamp, Workload, WorkloadKind,
};

use crate::convert;

/// One step of a watch, as kube-rs' watcher yields it, already mapped.
#[derive(Debug, Clone, PartialEq)]
pub enum Step<T> {
    /// A (re)list starts.
    Init,
    InitApply(T),
    /// The list is complete: it replaces what was held.
    InitDone,
    Apply(T),
    Delete(T),
}

/// The kinds Sentinel watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Watched {
    Pods,
    Nodes,
    Events,
    Workloads(WorkloadKind),
    Services,
}

impl Watched {
    /// The API resource name, as RBAC rules name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Watched::Pods => "pods",
            Watched::Nodes => "nodes",
            Watched::Events => "events",
            Watched::Workloads(WorkloadKind::Deployment) => "deployments",
            Watched::Workloads(WorkloadKind::ReplicaSet) => "replicasets",
            Watched::Workloads(WorkloadKind::StatefulSet) => "statefulsets",
            Watched::Workloads(WorkloadKind::DaemonSet) => "daemonsets",
            Watched::Workloads(WorkloadKind::Job) => "jobs",
            Watched::Workloads(WorkloadKind::CronJob) => "cronjobs",
            Watched::Services => "services",
        }
    }
}

/// What the watches report, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    Pod(Step<PodState>),
    Node(Step<NodeState>),
    /// An event with its key (uid).
    Event(Step<(String, ClusterEvent)>),
    Workload(WorkloadKind, Step<Workload>),
    Service(Step<ServiceState>),
    /// A watch failed; it retries with backoff. The text says why.
    Failed(Watched, String),
}

/// Events remembered for de-duplication at most (the API server keeps an
/// hour of them; a busy cluster makes a few thousand).
pub const MAX_EVENTS: usize = 20_000;

fn workload_key(w: &Workload) -> (String, String, String) {
    (w.kind.as_str().into(), w.namespace.clone(), w.name.clone())
}

/// A map with a relist buffer.
struct Keyed<T> {
    live: HashMap<String, T>,
    relist: Option<HashMap<String, T>>,
    /// Listed at least once.
    synced: bool,
}

impl<T> Default for Keyed<T> {
    fn default() -> Self {
        Self {
            live: HashMap::new(),
            relist: None,
            synced: false,
        }
    }
}

impl<T> Keyed<T> {
    /// Applies a step; true when the live set changed.
    fn step(&mut self, step: Step<T>, key: impl Fn(&T) -> String) -> bool {
        match step {
            Step::Init => {
                self.relist = Some(HashMap::new());
                false
            }
            Step::InitApply(v) => {
                let k = key(&v);
                self.relist.get_or_insert_with(HashMap::new).insert(k, v);
                false
            }
            Step::InitDone => {
                self.live = self.relist.take().unwrap_or_default();
                self.synced = true;
                true
            }
            Step::Apply(v) => {
                self.live.insert(key(&v), v);
                true
            }
            Step::Delete(v) => self.live.remove(&key(&v)).is_some(),
        }
    }
}

#[path = "mirror_late.rs"]
mod late;

#[derive(Default)]
pub struct Mirror {
    pods: Keyed<PodState>,
    nodes: Keyed<NodeState>,
    services: Keyed<ServiceState>,
    workloads: HashMap<(String, String, String), Workload>,
    /// Relists in progress and kinds listed at least once.
    workloads_relist: HashMap<WorkloadKind, HashMap<(String, String, String), Workload>>,
    workloads_synced: std::collections::HashSet<WorkloadKind>,
    /// Event key → (count, last seen) already handed on.
    seen: HashMap<String, (u32, Timestamp)>,
    news: Vec<ClusterEvent>,
    pods_dirty: bool,
    nodes_dirty: bool,
    services_dirty: bool,
    workloads_dirty: bool,
    failures: BTreeMap<Watched, String>,
    /// (namespace, pod, container) whose log says why it ended: its restart
    /// count rose since listed, or it ended a Job's pod that failed.
    restarted: Vec<(String, String, String)>,
    /// Pods of runs that hang (`late`), with when their log was last asked for.
    late_asked: HashMap<String, Timestamp>,
}

impl Mirror {
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds one update in; `now` stamps derived rollout events.
    pub fn apply(&mut self, update: Update, now: Timestamp) {
        let resource = match &update {
            Update::Pod(_) => Watched::Pods,
            Update::Node(_) => Watched::Nodes,
            Update::Event(_) => Watched::Events,
            Update::Workload(k, _) => Watched::Workloads(*k),
            Update::Service(_) => Watched::Services,
            Update::Failed(r, _) => *r,
        };
        match update {
            Update::Pod(s) => {
                if let Step::Apply(p) | Step::InitApply(p) = &s {
                    self.failed_job_pod(p);
                }
                if let Step::Apply(p) = &s
                    && let Some(before) = self.pods.live.get(&format!("{}/{}", p.namespace, p.name))
                {
                    for c in &p.containers {
                        let was = before
                            .containers
                            .iter()
                            .find(|b| b.name == c.name)
                            .map_or(0, |b| b.restart_count);
                        if c.restart_count > was {
                            self.restarted.push((
                                p.namespace.clone(),
                                p.name.clone(),
                                c.name.clone(),
                            ));
                        }
                    }
                }
                self.pods_dirty |= self.pods.step(s, |p| format!("{}/{}", p.namespace, p.name));
            }
            Update::Node(s) => self.nodes_dirty |= self.nodes.step(s, |n| n.name.clone()),
            Update::Event(s) => self.event(s),
            Update::Workload(k, s) => self.workload(k, s, now),
            Update::Service(s) => {
                self.services_dirty |= self
                    .services
                    .step(s, |v| format!("{}/{}", v.namespace, v.name));
            }
            Update::Failed(r, why) => {
                self.failures.insert(r, why);
                return;
            }
        }
        // Anything but a failure means the watch works again.
        self.failures.remove(&resource);
    }

    /// A Job's pod that failed since it was last seen (or when first
    /// listed): its containers that ended with an error, whose logs say
    /// why the Job's work failed.
    fn failed_job_pod(&mut self, p: &PodState) {
        let of_job = p.owner.as_ref().is_some_and(|o| o.kind == OwnerKind::Job);
        if !of_job || p.phase != PodPhase::Failed {
            return;
        }
        let key = format!("{}/{}", p.namespace, p.name);
        if self
            .pods
            .live
            .get(&key)
            .is_some_and(|b| b.phase == PodPhase::Failed)
        {
            return;
        }
        for c in &p.containers {
            if matches!(c.state, ContainerState::Terminated { exit_code, .. } if exit_code != 0) {
                self.restarted
                    .push((p.namespace.clone(), p.name.clone(), c.name.clone()));
            }
        }
    }

    fn event(&mut self, step: Step<(String, ClusterEvent)>) {
        let (key, e) = match step {
            Step::InitApply(kv) | Step::Apply(kv) => kv,
            Step::Init | Step::InitDone | Step::Delete(_) => return,
        };
        let mark = (e.count, e.last_timestamp);
        if self.seen.get(&key) == Some(&mark) {
            return;
        }
        if self.seen.len() >= MAX_EVENTS && !self.seen.contains_key(&key) {
            // Forget the oldest half; a forgotten event that changes again is news anyway.
            let mut by_age: Vec<(Timestamp, String)> =
                self.seen.iter().map(|(k, v)| (v.1, k.clone())).collect();
            by_age.sort_unstable();
            for (_, k) in by_age.into_iter().take(MAX_EVENTS / 2) {
                self.seen.remove(&k);
            }
        }
        self.seen.insert(key, mark);
        self.news.push(e);
    }

    fn workload(&mut self, kind: WorkloadKind, step: Step<Workload>, now: Timestamp) {
        match step {
            Step::Init => {
                self.workloads_relist.insert(kind, HashMap::new());
            }
            Step::InitApply(w) => {
                self.workloads_relist
                    .entry(kind)
                    .or_default()
                    .insert(workload_key(&w), w);
            }
            Step::InitDone => {
                let listed = self.workloads_relist.remove(&kind).unwrap_or_default();
                // A rollout that happened while the watch was down still shows.
                if self.workloads_synced.contains(&kind) {
                    for (k, w) in &listed {
                        if let Some(e) = self
                            .workloads
                            .get(k)
                            .and_then(|before| convert::rollout(before, w, now))
                        {
                            self.news.push(e);
                        }
                    }
                }
                self.workloads.retain(|_, w| w.kind != kind);
                self.workloads.extend(listed);
                self.workloads_synced.insert(kind);
                self.workloads_dirty = true;
            }
            Step::Apply(w) => {
                let k = workload_key(&w);
                if let Some(e) = self
                    .workloads
                    .get(&k)
                    .and_then(|before| convert::rollout(before, &w, now))
                {
                    self.news.push(e);
                }
                self.workloads.insert(k, w);
                self.workloads_dirty = true;
            }
            Step::Delete(w) => {
                self.workloads_dirty |= self.workloads.remove(&workload_key(&w)).is_some();
            }
        }
    }

    /// The pods, sorted, if they changed since the last call and have been
    /// listed at least once.
    pub fn take_pods(&mut self) -> Option<Vec<PodState>> {
        if !(self.pods_dirty && self.pods.synced) {
            return None;
        }
        self.pods_dirty = false;
        let mut v: Vec<PodState> = self.pods.live.values().cloned().collect();
        v.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Some(v)
    }

    pub fn take_nodes(&mut self) -> Option<Vec<NodeState>> {
        if !(self.nodes_dirty && self.nodes.synced) {
            return None;
        }
        self.nodes_dirty = false;
        let mut v: Vec<NodeState> = self.nodes.live.values().cloned().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Some(v)
    }

    /// The Services, sorted, if they changed since the last call and have
    /// been listed at least once.
    pub fn take_services(&mut self) -> Option<Vec<ServiceState>> {
        if !(self.services_dirty && self.services.synced) {
            return None;
        }
        self.services_dirty = false;
        let mut v: Vec<ServiceState> = self.services.live.values().cloned().collect();
        v.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Some(v)
    }

    pub fn take_workloads(&mut self) -> Option<Vec<Workload>> {
        if !self.workloads_dirty || self.workloads_synced.is_empty() {
            return None;
        }
        self.workloads_dirty = false;
        let mut v: Vec<Workload> = self.workloads.values().cloned().collect();
        v.sort_by_key(workload_key);
        Some(v)
    }

    /// Events (and derived rollouts) not handed on yet, oldest first.
    pub fn take_events(&mut self) -> Vec<ClusterEvent> {
        let mut v = std::mem::take(&mut self.news);
        v.sort_by_key(|e| e.last_timestamp);
        v
    }

    /// Containers that restarted (or ended a failed Job's pod) since the
    /// last call, at most `max` (the rest are dropped: a crash storm does
    /// not become a log storm).
    pub fn take_restarted(&mut self, max: usize) -> Vec<(String, String, String)> {
        let mut v = std::mem::take(&mut self.restarted);
        v.dedup();
        v.truncate(max);
        v
    }

    /// Watches that are failing now, with why.
    pub fn failures(&self) -> &BTreeMap<Watched, String> {
        &self.failures
    }

    /// A probe found the watch's kind readable again.
    pub fn recovered(&mut self, what: Watched) {
        self.failures.remove(&what);
    }

    /// Every watch has listed once (pods and nodes are what the dashboard needs).
    pub fn synced(&self) -> bool {
        self.pods.synced && self.nodes.synced
    }

    pub fn pod_count(&self) -> usize {
        self.pods.live.len()
    }
}

#[cfg(test)]
#[path = "mirror_tests.rs"]
mod tests;
