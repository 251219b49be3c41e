//! Pod lifecycle in the demo cluster: creation, placement, the scripted
//! moments (rollout, rollback, batch job, node failure, eviction) and the
//! Kubernetes events they emit.

use sentinel_model::{
    ClusterEvent, ContainerState, ContainerStatus, EventType, LatencyHistogram, ObjectRef,
    OwnerRef, PodPhase, PodState, Timestamp,
};

use crate::Sim;
use crate::rng::Rng;
use crate::scenario::{DOWN_NODE, Moment, NOISY_NODE};
use crate::topology::{Workload, WorkloadKind, healthy_conditions};

/// What the simulated container is doing, with the times that end each phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Life {
    Creating {
        until: Timestamp,
    },
    Running,
    BackOff {
        until: Timestamp,
    },
    /// The node stopped reporting: status frozen, no metrics.
    Lost,
    Completed,
}

pub struct PodSim {
    pub state: PodState,
    pub workload: usize,
    pub node: usize,
    pub life: Life,
    pub leaking: bool,
    pub crashes: u32,
    pub last_restart_at: Option<Timestamp>,
    pub not_ready_since: Option<Timestamp>,
    pub memory: f64,
    pub cpu: f64,
    pub requests: u64,
    pub errors: u64,
    pub latency: LatencyHistogram,
    pub rng: Rng,
}

pub fn reindex_job() -> Workload {
    Workload {
        namespace: "batch".into(),
        name: "search-reindex".into(),
        kind: WorkloadKind::Job,
        replicas: 0,
        image_repo: "ghcr.io/acme/search-reindex".into(),
        version: "2024.11.3".into(),
        revision: 1,
        cpu_base: 6.4,
        cpu_request_millis: 100,
        mem_base: 900.0 * 1024.0 * 1024.0,
        mem_limit: 2 << 30,
        rps: 0.0,
        latency_median_s: 0.0,
        error_ratio: 0.0,
        tier: "batch",
        ports: Default::default(),
        probes: Default::default(),
    }
}

pub(crate) fn event(
    at: Timestamp,
    kind: EventType,
    reason: &str,
    object: (&str, &str, &str),
    message: String,
    source: &str,
) -> ClusterEvent {
    let (k, ns, name) = object;
    ClusterEvent {
        kind,
        reason: reason.into(),
        message,
        involved_object: ObjectRef {
            kind: k.into(),
            namespace: (!ns.is_empty()).then(|| ns.into()),
            name: name.into(),
        },
        count: 1,
        first_timestamp: at,
        last_timestamp: at,
        source: source.into(),
    }
}

impl Sim {
    /// Creates every workload's replicas, running since the start.
    pub(crate) fn populate(&mut self) {
        for w in 0..self.workloads.len() {
            let wl = &self.workloads[w];
            let (kind, replicas) = (wl.kind, wl.replicas);
            for ordinal in 0..replicas {
                let node = match kind {
                    WorkloadKind::DaemonSet => ordinal,
                    _ => self.least_loaded_node(None),
                };
                self.spawn(w, node, ordinal, self.start, Life::Running);
            }
        }
    }

    pub(crate) fn least_loaded_node(&self, avoid: Option<usize>) -> usize {
        let mut counts = vec![0usize; self.nodes.len()];
        for p in &self.pods {
            counts[p.node] += 1;
        }
        (0..self.nodes.len())
            .filter(|&n| Some(n) != avoid && self.nodes[n].is_ready())
            .min_by_key(|&n| (counts[n], n))
            .unwrap_or(0)
    }

    /// Adds a pod of workload `w` on `node`.
    pub(crate) fn spawn(
        &mut self,
        w: usize,
        node: usize,
        ordinal: usize,
        at: Timestamp,
        life: Life,
    ) {
        self.serial += 1;
        let mut rng = self.rng.fork(self.serial);
        let wl = &self.workloads[w];
        // A Job's pods belong to the CronJob's run under way.
        let owner = match wl.kind {
            WorkloadKind::Job => self
                .controllers
                .current_run()
                .map_or_else(|| wl.owner_name(), str::to_string),
            _ => wl.owner_name(),
        };
        let name = match wl.kind {
            WorkloadKind::StatefulSet => format!("{}-{ordinal}", wl.name),
            WorkloadKind::Deployment => format!("{}-{}", wl.replicaset_name(), rng.name_suffix(5)),
            WorkloadKind::DaemonSet => format!("{}-{}", wl.name, rng.name_suffix(5)),
            WorkloadKind::Job => format!("{owner}-{}", rng.name_suffix(5)),
        };
        let running = life == Life::Running;
        let state = PodState {
            uid: rng.uid(),
            namespace: wl.namespace.clone(),
            name,
            labels: wl.labels(),
            owner: Some(OwnerRef {
                kind: wl.kind.owner_kind(),
                name: owner,
            }),
            node: Some(self.nodes[node].name.clone()),
            phase: if running {
                PodPhase::Running
            } else {
                PodPhase::Pending
            },
            created_at: at,
            containers: vec![ContainerStatus {
                name: wl.name.clone(),
                image: wl.image(),
                ready: running,
                restart_count: 0,
                state: if running {
                    ContainerState::Running { started_at: at }
                } else {
                    ContainerState::Waiting {
                        reason: "ContainerCreating".into(),
                    }
                },
                last_termination_reason: None,
                cpu_request_millis: wl.cpu_request_millis,
                memory_limit_bytes: wl.mem_limit,
                ports: wl.ports.clone(),
                probes: wl.probes.clone(),
            }],
        };
        let memory = wl.mem_base * (0.9 + 0.2 * rng.unit());
        if !running {
            let ev = event(
                at,
                EventType::Normal,
                "Scheduled",
                ("Pod", &state.namespace, &state.name),
                format!(
                    "Successfully assigned {}/{} to {}",
                    state.namespace, state.name, self.nodes[node].name
                ),
                "default-scheduler",
            );
            self.events.push(ev);
        }
        self.pods.push(PodSim {
            state,
            workload: w,
            node,
            life,
            leaking: false,
            crashes: 0,
            last_restart_at: None,
            not_ready_since: (!running).then_some(at),
            memory,
            cpu: 0.0,
            requests: 0,
            errors: 0,
            latency: LatencyHistogram::default(),
            rng,
        });
    }

    fn workload_index(&self, namespace: &str, name: &str) -> Option<usize> {
        self.workloads
            .iter()
            .position(|w| w.namespace == namespace && w.name == name)
    }

    fn deployment_event(&mut self, at: Timestamp, w: usize, reason: &str, message: String) {
        let wl = &self.workloads[w];
        let ev = event(
            at,
            EventType::Normal,
            reason,
            ("Deployment", &wl.namespace, &wl.name),
            message,
            "deployment-controller",
        );
        self.events.push(ev);
    }

    pub(crate) fn apply(&mut self, moment: Moment, at: Timestamp) {
        match moment {
            Moment::Rollout => self.rollout(at),
            Moment::Rollback => self.rollback(at),
            Moment::NoisyStart => {
                if let Some(w) = self.workload_index("batch", "search-reindex") {
                    let scheduled = crate::workloads::scheduled_run(self.start, at);
                    self.controllers.start_run("search-reindex", scheduled, at);
                    let node = NOISY_NODE.min(self.nodes.len() - 1);
                    self.spawn(
                        w,
                        node,
                        0,
                        at,
                        Life::Creating {
                            until: at.saturating_add(sentinel_model::Duration::from_secs(3)),
                        },
                    );
                }
            }
            Moment::NoisyEnd => {
                let job = self.controllers.finish_run(at);
                for p in self
                    .pods
                    .iter_mut()
                    .filter(|p| p.state.namespace == "batch")
                {
                    p.life = Life::Completed;
                    p.state.phase = PodPhase::Succeeded;
                    for c in &mut p.state.containers {
                        c.ready = false;
                        c.state = ContainerState::Terminated {
                            reason: "Completed".into(),
                            exit_code: 0,
                        };
                    }
                    let ev = event(
                        at,
                        EventType::Normal,
                        "Completed",
                        ("Job", "batch", job.as_deref().unwrap_or("search-reindex")),
                        "Job completed".into(),
                        "job-controller",
                    );
                    self.events.push(ev);
                }
            }
            Moment::NoisyGone => self.pods.retain(|p| p.state.namespace != "batch"),
            Moment::NodeDown => self.node_down(at),
            Moment::Evict => self.evict(at),
            Moment::NodeUp => self.node_up(at),
        }
    }

    fn rollout(&mut self, at: Timestamp) {
        let Some(w) = self.workload_index("shop", "checkout") else {
            return;
        };
        self.workloads[w].revision = 2;
        self.workloads[w].version = "2.8.0".into();
        self.note_revision(w, at);
        let rs = self.workloads[w].replicaset_name();
        self.deployment_event(
            at,
            w,
            "ScalingReplicaSet",
            format!("Scaled up replica set {rs} to 1"),
        );
        let node = self.least_loaded_node(None);
        self.spawn(
            w,
            node,
            0,
            at,
            Life::Creating {
                until: at.saturating_add(sentinel_model::Duration::from_secs(4)),
            },
        );
        if let Some(p) = self.pods.last_mut() {
            p.leaking = true;
        }
    }

    fn rollback(&mut self, at: Timestamp) {
        let Some(w) = self.workload_index("shop", "checkout") else {
            return;
        };
        let bad_rs = self.workloads[w].replicaset_name();
        self.workloads[w].revision = 1;
        self.workloads[w].version = "2.7.4".into();
        self.deployment_event(
            at,
            w,
            "DeploymentRollback",
            "Rolled back deployment \"checkout\" to revision 1".into(),
        );
        self.deployment_event(
            at,
            w,
            "ScalingReplicaSet",
            format!("Scaled down replica set {bad_rs} to 0"),
        );
        let mut killed = Vec::new();
        self.pods.retain(|p| {
            let bad = p.leaking;
            if bad {
                killed.push(p.state.name.clone());
            }
            !bad
        });
        for name in killed {
            let ev = event(
                at,
                EventType::Normal,
                "Killing",
                ("Pod", "shop", &name),
                "Stopping container checkout".into(),
                "kubelet",
            );
            self.events.push(ev);
        }
    }

    fn node_down(&mut self, at: Timestamp) {
        let n = DOWN_NODE.min(self.nodes.len() - 1);
        let name = self.nodes[n].name.clone();
        for c in &mut self.nodes[n].conditions {
            if c.kind == "Ready" {
                c.status = false;
                c.since = at;
                c.reason = "NodeStatusUnknown".into();
            }
        }
        self.events.push(event(
            at,
            EventType::Normal,
            "NodeNotReady",
            ("Node", "", &name),
            format!("Node {name} status is now: NodeNotReady"),
            "node-controller",
        ));
        for p in self
            .pods
            .iter_mut()
            .filter(|p| p.node == n && p.life != Life::Completed)
        {
            p.life = Life::Lost;
            p.state.phase = PodPhase::Unknown;
            for c in &mut p.state.containers {
                c.ready = false;
            }
            p.not_ready_since.get_or_insert(at);
        }
    }

    fn evict(&mut self, at: Timestamp) {
        let n = DOWN_NODE.min(self.nodes.len() - 1);
        let mut evicted = Vec::new();
        let mut i = 0;
        while i < self.pods.len() {
            let p = &self.pods[i];
            if p.node == n && self.workloads[p.workload].kind != WorkloadKind::DaemonSet {
                let p = self.pods.remove(i);
                evicted.push(p);
            } else {
                i += 1;
            }
        }
        for p in evicted {
            let (ns, name) = (p.state.namespace.clone(), p.state.name.clone());
            self.events.push(event(
                at,
                EventType::Normal,
                "TaintManagerEviction",
                ("Pod", &ns, &name),
                format!("Marking for deletion Pod {ns}/{name}"),
                "taint-eviction-controller",
            ));
            if self.workloads[p.workload].kind == WorkloadKind::Job {
                continue;
            }
            let ordinal = name
                .rsplit('-')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let node = self.least_loaded_node(Some(n));
            let until = at.saturating_add(sentinel_model::Duration::from_secs(
                6 + p.rng.clone().below(10) as i64,
            ));
            self.spawn(p.workload, node, ordinal, at, Life::Creating { until });
        }
    }

    fn node_up(&mut self, at: Timestamp) {
        let n = DOWN_NODE.min(self.nodes.len() - 1);
        if self.nodes[n].is_ready() {
            return;
        }
        let name = self.nodes[n].name.clone();
        self.nodes[n].conditions = healthy_conditions(at);
        self.events.push(event(
            at,
            EventType::Normal,
            "NodeReady",
            ("Node", "", &name),
            format!("Node {name} status is now: NodeReady"),
            "kubelet",
        ));
        for p in self
            .pods
            .iter_mut()
            .filter(|p| p.node == n && p.life == Life::Lost)
        {
            p.life = Life::Running;
            p.state.phase = PodPhase::Running;
            for c in &mut p.state.containers {
                c.ready = true;
            }
            p.not_ready_since = None;
        }
    }
}
