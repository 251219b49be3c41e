//! The metric families of one scrape, by exporter, with the names and
//! labels the real exporters use.

use sentinel_model::{ContainerState, OwnerKind, PodPhase};

use super::{Family, label_name};

pub(super) struct Families {
    pub(super) pod_info: Family,
    pub(super) pod_labels: Family,
    pub(super) pod_created: Family,
    pub(super) pod_phase: Family,
    pub(super) container_info: Family,
    pub(super) restarts: Family,
    pub(super) ready: Family,
    pub(super) running: Family,
    pub(super) waiting: Family,
    pub(super) terminated: Family,
    pub(super) last_terminated: Family,
    pub(super) requests_res: Family,
    pub(super) limits_res: Family,
    pub(super) node_info: Family,
    pub(super) node_condition: Family,
    pub(super) node_capacity: Family,
    pub(super) node_unschedulable: Family,
    pub(super) cpu: Family,
    pub(super) memory: Family,
    pub(super) node_cpu: Family,
    pub(super) node_memory: Family,
    pub(super) requests: Family,
    pub(super) latency: Family,
}

impl Default for Families {
    fn default() -> Self {
        let g = "gauge";
        Self {
            pod_info: Family::new("kube_pod_info", g, "Information about pod."),
            pod_labels: Family::new(
                "kube_pod_labels",
                g,
                "Kubernetes labels converted to Prometheus labels.",
            ),
            pod_created: Family::new("kube_pod_created", g, "Unix creation timestamp"),
            pod_phase: Family::new("kube_pod_status_phase", g, "The pods current phase."),
            container_info: Family::new(
                "kube_pod_container_info",
                g,
                "Information about a container in a pod.",
            ),
            restarts: Family::new(
                "kube_pod_container_status_restarts_total",
                "counter",
                "The number of container restarts per container.",
            ),
            ready: Family::new(
                "kube_pod_container_status_ready",
                g,
                "Describes whether the containers readiness check succeeded.",
            ),
            running: Family::new(
                "kube_pod_container_status_running",
                g,
                "Describes whether the container is currently in running state.",
            ),
            waiting: Family::new(
                "kube_pod_container_status_waiting_reason",
                g,
                "Describes the reason the container is currently in waiting state.",
            ),
            terminated: Family::new(
                "kube_pod_container_status_terminated_reason",
                g,
                "Describes the reason the container is currently in terminated state.",
            ),
            last_terminated: Family::new(
                "kube_pod_container_status_last_terminated_reason",
                g,
                "Describes the last reason the container was in terminated state.",
            ),
            requests_res: Family::new(
                "kube_pod_container_resource_requests",
                g,
                "The number of requested request resource by a container.",
            ),
            limits_res: Family::new(
                "kube_pod_container_resource_limits",
                g,
                "The number of requested limit resource by a container.",
            ),
            node_info: Family::new("kube_node_info", g, "Information about a cluster node."),
            node_condition: Family::new(
                "kube_node_status_condition",
                g,
                "The condition of a cluster node.",
            ),
            node_capacity: Family::new(
                "kube_node_status_capacity",
                g,
                "The capacity for different resources of a node.",
            ),
            node_unschedulable: Family::new(
                "kube_node_spec_unschedulable",
                g,
                "Whether a node can schedule new pods.",
            ),
            cpu: Family::new(
                "container_cpu_usage_seconds_total",
                "counter",
                "Cumulative cpu time consumed in seconds.",
            ),
            memory: Family::new(
                "container_memory_working_set_bytes",
                g,
                "Current working set in bytes.",
            ),
            node_cpu: Family::new(
                "node_cpu_usage_seconds_total",
                "counter",
                "Cumulative cpu time consumed by the node in core-seconds",
            ),
            node_memory: Family::new(
                "node_memory_working_set_bytes",
                g,
                "Current working set of the node in bytes",
            ),
            requests: Family::new(
                "http_requests_total",
                "counter",
                "HTTP requests served, by status code.",
            ),
            latency: Family::new(
                "http_request_duration_seconds",
                "histogram",
                "HTTP request latency.",
            ),
        }
    }
}

impl Families {
    pub(super) fn pod(&mut self, pod: &sentinel_model::PodState) {
        let (ns, name, uid) = (pod.namespace.as_str(), pod.name.as_str(), pod.uid.as_str());
        let node = pod.node.as_deref().unwrap_or("");
        let (owner_kind, owner_name) = pod.owner.as_ref().map_or(("<none>", "<none>"), |o| {
            let kind = match o.kind {
                OwnerKind::ReplicaSet => "ReplicaSet",
                OwnerKind::StatefulSet => "StatefulSet",
                OwnerKind::DaemonSet => "DaemonSet",
                OwnerKind::Job => "Job",
            };
            (kind, o.name.as_str())
        });
        self.pod_info.push(
            "",
            &[
                ("namespace", ns),
                ("pod", name),
                ("uid", uid),
                ("node", node),
                ("created_by_kind", owner_kind),
                ("created_by_name", owner_name),
            ],
            1.0,
        );
        let label_names: Vec<(String, &str)> = pod
            .labels
            .iter()
            .map(|(k, v)| (label_name(k), v.as_str()))
            .collect();
        let mut labels: Vec<(&str, &str)> = vec![("namespace", ns), ("pod", name), ("uid", uid)];
        labels.extend(label_names.iter().map(|(k, v)| (k.as_str(), *v)));
        self.pod_labels.push("", &labels, 1.0);
        self.pod_created.push(
            "",
            &[("namespace", ns), ("pod", name), ("uid", uid)],
            (pod.created_at.millis() / 1000) as f64,
        );
        for phase in [
            PodPhase::Pending,
            PodPhase::Running,
            PodPhase::Succeeded,
            PodPhase::Failed,
            PodPhase::Unknown,
        ] {
            self.pod_phase.push(
                "",
                &[
                    ("namespace", ns),
                    ("pod", name),
                    ("uid", uid),
                    ("phase", phase.as_str()),
                ],
                if pod.phase == phase { 1.0 } else { 0.0 },
            );
        }
        for c in &pod.containers {
            let base = [
                ("namespace", ns),
                ("pod", name),
                ("uid", uid),
                ("container", c.name.as_str()),
            ];
            self.container_info
                .push_more("", &base, &[("image", c.image.as_str())], 1.0);
            self.restarts.push("", &base, f64::from(c.restart_count));
            self.ready.push("", &base, if c.ready { 1.0 } else { 0.0 });
            let running = matches!(c.state, ContainerState::Running { .. });
            self.running
                .push("", &base, if running { 1.0 } else { 0.0 });
            match &c.state {
                ContainerState::Waiting { reason } => {
                    self.waiting
                        .push_more("", &base, &[("reason", reason.as_str())], 1.0);
                }
                ContainerState::Terminated { reason, .. } => {
                    self.terminated
                        .push_more("", &base, &[("reason", reason.as_str())], 1.0);
                }
                ContainerState::Running { .. } => {}
            }
            if let Some(reason) = &c.last_termination_reason {
                self.last_terminated
                    .push_more("", &base, &[("reason", reason.as_str())], 1.0);
            }
            self.requests_res.push_more(
                "",
                &base,
                &[("node", node), ("resource", "cpu"), ("unit", "core")],
                f64::from(c.cpu_request_millis) / 1000.0,
            );
            if c.memory_limit_bytes > 0 {
                self.limits_res.push_more(
                    "",
                    &base,
                    &[("node", node), ("resource", "memory"), ("unit", "byte")],
                    c.memory_limit_bytes as f64,
                );
            }
        }
    }

    pub(super) fn node(&mut self, node: &sentinel_model::NodeState) {
        let name = node.name.as_str();
        self.node_info.push("", &[("node", name)], 1.0);
        for c in &node.conditions {
            for (status, on) in [("true", c.status), ("false", !c.status), ("unknown", false)] {
                self.node_condition.push(
                    "",
                    &[
                        ("node", name),
                        ("condition", c.kind.as_str()),
                        ("status", status),
                    ],
                    if on { 1.0 } else { 0.0 },
                );
            }
        }
        self.node_capacity.push(
            "",
            &[("node", name), ("resource", "cpu"), ("unit", "core")],
            f64::from(node.cpu_capacity_millis) / 1000.0,
        );
        self.node_capacity.push(
            "",
            &[("node", name), ("resource", "memory"), ("unit", "byte")],
            node.memory_capacity_bytes as f64,
        );
        self.node_unschedulable.push(
            "",
            &[("node", name)],
            if node.unschedulable { 1.0 } else { 0.0 },
        );
    }

    pub(super) fn into_vec(self) -> Vec<Family> {
        vec![
            self.pod_info,
            self.pod_labels,
            self.pod_created,
            self.pod_phase,
            self.container_info,
            self.restarts,
            self.ready,
            self.running,
            self.waiting,
            self.terminated,
            self.last_terminated,
            self.requests_res,
            self.limits_res,
            self.node_info,
            self.node_condition,
            self.node_capacity,
            self.node_unschedulable,
            self.cpu,
            self.memory,
            self.node_cpu,
            self.node_memory,
            self.requests,
            self.latency,
        ]
    }
}
