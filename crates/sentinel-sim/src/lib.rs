//! The embedded demo cluster. `Sim::step(now)` advances a deterministic
//! simulation of a small production cluster and returns what a poll of the
//! Kubernetes API, the metrics pipeline and Alertmanager would return.
//! Same seed, same size and same sequence of `now` give the same frames.
//! It does no IO and never reads the clock.

mod alerts;
mod dynamics;
pub mod exposition;
pub mod openmetrics;
mod pods;
pub mod rca;
mod rng;
pub mod scenario;
mod serving;
mod topology;
mod workloads;

use sentinel_model::{
    Alert, ClusterEvent, Duration, NodeState, NodeUsage, PodState, PodUsage, Timestamp,
};

use pods::PodSim;
use rng::Rng;
use topology::Workload;

/// The default size: the base cluster of 40 pods on 3 nodes.
pub const DEFAULT_PODS: usize = 40;
/// The largest cluster the sim builds (the benchmark size).
pub const MAX_PODS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimConfig {
    pub seed: u64,
    /// Number of pods (at least the base cluster's 40, at most [`MAX_PODS`]).
    pub pods: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            pods: DEFAULT_PODS,
        }
    }
}

/// Everything one step of the cluster produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub at: Timestamp,
    pub pods: Vec<PodState>,
    pub nodes: Vec<NodeState>,
    pub pod_usage: Vec<PodUsage>,
    pub node_usage: Vec<NodeUsage>,
    /// Events emitted during this step.
    pub events: Vec<ClusterEvent>,
    /// Alerts firing now, newest first.
    pub alerts: Vec<Alert>,
    /// The workload controllers (Deployments with their ReplicaSets,
    /// StatefulSets, DaemonSets), when they changed since the frame before
    /// (a rollout, a pod's readiness): None while they stay the same.
    pub workloads: Option<Vec<sentinel_model::Workload>>,
    /// The Services, in the first frame (they do not change).
    pub services: Option<Vec<sentinel_model::ServiceState>>,
}

pub struct Sim {
    rng: Rng,
    start: Timestamp,
    last: Timestamp,
    nodes: Vec<NodeState>,
    workloads: Vec<Workload>,
    pods: Vec<PodSim>,
    /// Every ReplicaSet the Deployments have had, and the last listing.
    controllers: workloads::Controllers,
    alert_book: alerts::AlertBook,
    events: Vec<ClusterEvent>,
    serial: u64,
    /// The Services were listed in a frame.
    services_listed: bool,
}

impl Sim {
    /// Builds the cluster as it is at `start`: every pod running and ready.
    pub fn new(config: SimConfig, start: Timestamp) -> Self {
        let pods = config.pods.clamp(DEFAULT_PODS, MAX_PODS);
        let rng = Rng::new(config.seed);
        let node_count = topology::node_count(pods);
        let nodes = topology::build_nodes(node_count, start);
        let mut workloads = topology::build_workloads(pods, node_count, &rng);
        workloads.push(pods::reindex_job());
        let mut sim = Sim {
            rng,
            start,
            last: start,
            nodes,
            workloads,
            pods: Vec::with_capacity(pods + 8),
            controllers: workloads::Controllers::default(),
            alert_book: alerts::AlertBook::default(),
            events: Vec::new(),
            serial: 0,
            services_listed: false,
        };
        for w in 0..sim.workloads.len() {
            sim.note_revision(w, start);
        }
        sim.populate();
        sim
    }

    /// Builds the cluster as it is at `start`, `offset_s` seconds into its
    /// incident loop. The cluster is built healthy at the loop's beginning
    /// and lives through the loop up to `start`, one step of `step` at a
    /// time, so what is under way at `start` has its past: a rollout already
    /// made, pods already crash-looping, alerts firing since they truly
    /// began. The first frame still lists the events of those minutes, as
    /// the API keeps events for an hour, and the workload controllers.
    pub fn in_loop(config: SimConfig, start: Timestamp, offset_s: i64, step: Duration) -> Self {
        let offset = Duration::from_secs(offset_s.rem_euclid(scenario::CYCLE_S));
        let step = step.millis().max(100);
        let mut sim = Sim::new(config, start.saturating_sub(offset));
        let mut events = Vec::new();
        let mut t = sim.start.millis();
        while t < start.millis() {
            t = (t + step).min(start.millis());
            events.append(&mut sim.step(Timestamp(t)).events);
        }
        sim.events = events;
        sim.forget_listing();
        sim.services_listed = false;
        sim
    }

    /// Advances the cluster to `now` (earlier times are treated as no time
    /// passing) and returns the resulting frame.
    pub fn step(&mut self, now: Timestamp) -> Frame {
        let now = now.max(self.last);
        let prev_ms = self.last.millis() - self.start.millis();
        let now_ms = now.millis() - self.start.millis();
        for moment in scenario::moments_between(prev_ms, now_ms) {
            self.apply(moment, now);
        }
        let conditions = scenario::conditions_at(now_ms.div_euclid(1000));
        let dt = now.since(self.last);
        self.last = now;
        let traffic = dynamics::advance(self, now, dt, conditions);
        let firing = dynamics::conditions(self, now, &traffic);
        let alerts = self.alert_book.update(now, firing);
        let workloads = self.changed_workloads();
        let services = (!std::mem::replace(&mut self.services_listed, true))
            .then(|| serving::build_services(&self.workloads, self.start));
        Frame {
            at: now,
            pods: self.pods.iter().map(|p| p.state.clone()).collect(),
            nodes: self.nodes.clone(),
            pod_usage: traffic.pod_usage,
            node_usage: traffic.node_usage,
            events: std::mem::take(&mut self.events),
            alerts,
            workloads,
            services,
        }
    }

    /// Steps from the start to `until` every `step`, keeping only the last
    /// frame; used to give a fresh dashboard its history. Calls `each` with
    /// every frame on the way.
    pub fn fast_forward(&mut self, until: Timestamp, step: Duration, mut each: impl FnMut(&Frame)) {
        let step = step.millis().max(100);
        let mut t = self.last.millis() + step;
        while t <= until.millis() {
            let frame = self.step(Timestamp(t));
            each(&frame);
            t += step;
        }
    }
}

#[cfg(test)]
mod tests;
