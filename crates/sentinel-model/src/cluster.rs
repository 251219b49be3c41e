//! Kubernetes objects as Sentinel sees them: pods, containers, nodes, events.
//! Field names follow the Kubernetes API so a reader of `kubectl get -o json`
//! finds what they expect.

use serde::{Deserialize, Serialize};

use crate::{ContainerState, ContainerStatus, Labels, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl PodPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
            PodPhase::Unknown => "Unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OwnerKind {
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
}

/// The controller that owns a pod (`metadata.ownerReferences[controller=true]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OwnerRef {
    pub kind: OwnerKind,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodState {
    pub uid: String,
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    pub owner: Option<OwnerRef>,
    pub node: Option<String>,
    pub phase: PodPhase,
    pub created_at: Timestamp,
    pub containers: Vec<ContainerStatus>,
}

impl PodState {
    pub fn ready_count(&self) -> usize {
        self.containers.iter().filter(|c| c.ready).count()
    }

    pub fn restarts(&self) -> u32 {
        self.containers.iter().map(|c| c.restart_count).sum()
    }

    /// The most telling reason a container is not running: a waiting reason
    /// (`CrashLoopBackOff`) first, else the last termination reason.
    pub fn last_termination_reason(&self) -> Option<&str> {
        self.containers
            .iter()
            .find_map(|c| match &c.state {
                ContainerState::Waiting { reason } | ContainerState::Terminated { reason, .. } => {
                    Some(reason.as_str())
                }
                ContainerState::Running { .. } => None,
            })
            .or_else(|| {
                self.containers
                    .iter()
                    .find_map(|c| c.last_termination_reason.as_deref())
            })
    }
}

/// A node condition (`status.conditions[]`), e.g. `Ready=True`, `MemoryPressure=False`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeCondition {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: bool,
    pub since: Timestamp,
    pub reason: String,
}

impl NodeCondition {
    /// `Ready=False`, or any other condition (a pressure) `True`.
    pub fn is_abnormal(&self) -> bool {
        if self.kind == "Ready" {
            !self.status
        } else {
            self.status
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeState {
    pub name: String,
    pub labels: Labels,
    pub cpu_capacity_millis: u32,
    pub memory_capacity_bytes: u64,
    pub conditions: Vec<NodeCondition>,
    pub unschedulable: bool,
}

impl NodeState {
    pub fn is_ready(&self) -> bool {
        self.conditions
            .iter()
            .any(|c| c.kind == "Ready" && c.status)
    }

    /// Conditions that are abnormal: `Ready=False` or any pressure `=True`.
    pub fn problems(&self) -> impl Iterator<Item = &NodeCondition> {
        self.conditions.iter().filter(|c| c.is_abnormal())
    }

    /// Conditions whose status is as in `before` keep the time they began
    /// there. A listing that cannot tell (kube-state-metrics has no
    /// transition times, so every condition is dated at the poll) would
    /// otherwise move it at every poll: the node would look changed each
    /// time, and a NotReady spell would seem to begin at the last poll.
    pub fn keep_since(&mut self, before: &NodeState) {
        for c in &mut self.conditions {
            if let Some(b) = before
                .conditions
                .iter()
                .find(|b| b.kind == c.kind && b.status == c.status)
            {
                c.since = c.since.min(b.since);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    Normal,
    Warning,
}

/// The object an event is about (`involvedObject` / `regarding`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

/// A Kubernetes event (core/v1 `Event`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterEvent {
    #[serde(rename = "type")]
    pub kind: EventType,
    pub reason: String,
    pub message: String,
    pub involved_object: ObjectRef,
    pub count: u32,
    pub first_timestamp: Timestamp,
    pub last_timestamp: Timestamp,
    pub source: String,
}

/// Kubernetes quantities: `500m`, `2`, `512Mi`, `1G`, `1e3`. CPU in cores,
/// memory in bytes.
pub fn quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0_f64.powi(4),
        _ => return None,
    };
    Some(n * mult)
}

/// A Service as far as placing signals goes: which pods it selects and the
/// ports it sends to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceState {
    pub namespace: String,
    pub name: String,
    /// `spec.selector`; empty for a Service without one (its endpoints are
    /// managed by hand, or it is an ExternalName).
    pub selector: Labels,
    /// `spec.type`: ClusterIP, NodePort, LoadBalancer or ExternalName.
    pub kind: String,
    pub ports: Vec<ServicePort>,
    pub created_at: Timestamp,
}

/// One of a Service's ports. `target` is the container port as the
/// Service names it: a number or a port name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    pub name: String,
    pub port: i32,
    pub target: String,
    pub protocol: String,
}

impl ServicePort {
    /// The container port this port reaches on `pod`: a numbered target as
    /// it is, a named one as the pod declares it (with the same protocol),
    /// none when it does not: the endpoints controller then skips the pod.
    pub fn target_on(&self, pod: &PodState) -> Option<i32> {
        if self.target.is_empty() {
            return Some(self.port);
        }
        if let Ok(n) = self.target.parse::<i32>() {
            return Some(n);
        }
        pod.containers
            .iter()
            .flat_map(|c| c.ports.iter())
            .find(|cp| cp.name == self.target && cp.protocol == self.protocol)
            .map(|cp| cp.port)
    }
}

impl ServiceState {
    /// Whether the Service selects a pod with these labels (in its
    /// namespace). A Service without a selector selects nothing.
    pub fn selects(&self, labels: &Labels) -> bool {
        !self.selector.is_empty() && self.selector.iter().all(|(k, v)| labels.get(k) == Some(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(state: ContainerState, last: Option<&str>) -> ContainerStatus {
        ContainerStatus {
            name: "app".into(),
            image: "shop/checkout:1.4.2".into(),
            ready: matches!(state, ContainerState::Running { .. }),
            restart_count: 3,
            state,
            last_termination_reason: last.map(Into::into),
            cpu_request_millis: 100,
            memory_limit_bytes: 256 << 20,
            ports: Default::default(),
            probes: Default::default(),
        }
    }

    fn pod(containers: Vec<ContainerStatus>) -> PodState {
        PodState {
            uid: "u".into(),
            namespace: "shop".into(),
            name: "checkout-1".into(),
            labels: Labels::new(),
            owner: None,
            node: None,
            phase: PodPhase::Running,
            created_at: Timestamp(0),
            containers,
        }
    }

    #[test]
    fn waiting_reason_wins_over_last_termination() {
        let p = pod(vec![
            container(
                ContainerState::Running {
                    started_at: Timestamp(0),
                },
                Some("Error"),
            ),
            container(
                ContainerState::Waiting {
                    reason: "CrashLoopBackOff".into(),
                },
                Some("OOMKilled"),
            ),
        ]);
        assert_eq!(p.last_termination_reason(), Some("CrashLoopBackOff"));
        assert_eq!(p.restarts(), 6);
        assert_eq!(p.ready_count(), 1);
        let healthy = pod(vec![container(
            ContainerState::Running {
                started_at: Timestamp(0),
            },
            Some("OOMKilled"),
        )]);
        assert_eq!(healthy.last_termination_reason(), Some("OOMKilled"));
    }

    #[test]
    fn a_service_port_reaches_a_named_target_only_where_it_is_declared() {
        let port = |target: &str| ServicePort {
            name: "http".into(),
            port: 80,
            target: target.into(),
            protocol: "TCP".into(),
        };
        let mut c = container(
            ContainerState::Running {
                started_at: Timestamp(0),
            },
            None,
        );
        c.ports = [crate::ContainerPort {
            name: "web".into(),
            port: 8080,
            protocol: "TCP".into(),
        }]
        .into();
        let p = pod(vec![c]);
        assert_eq!(port("web").target_on(&p), Some(8080));
        assert_eq!(
            port("http").target_on(&p),
            None,
            "a name it does not declare"
        );
        assert_eq!(
            port("9090").target_on(&p),
            Some(9090),
            "a number is not checked"
        );
        assert_eq!(port("").target_on(&p), Some(80), "no target: the port");
        let udp = ServicePort {
            protocol: "UDP".into(),
            ..port("web")
        };
        assert_eq!(udp.target_on(&p), None, "the name on another protocol");
    }

    #[test]
    fn container_state_serialises_like_kubernetes() {
        let s = serde_json::to_string(&ContainerState::Waiting {
            reason: "CrashLoopBackOff".into(),
        })
        .unwrap();
        assert_eq!(s, r#"{"state":"waiting","reason":"CrashLoopBackOff"}"#);
    }

    #[test]
    fn a_condition_as_it_was_keeps_the_time_it_began() {
        let node = |ready: bool, since: i64| NodeState {
            name: "n1".into(),
            labels: Labels::new(),
            cpu_capacity_millis: 1000,
            memory_capacity_bytes: 1 << 30,
            conditions: vec![
                NodeCondition {
                    kind: "Ready".into(),
                    status: ready,
                    since: Timestamp(since),
                    reason: String::new(),
                },
                NodeCondition {
                    kind: "DiskPressure".into(),
                    status: false,
                    since: Timestamp(since),
                    reason: String::new(),
                },
            ],
            unschedulable: false,
        };
        // Each poll dates every condition at the poll.
        let first = node(false, 1_000);
        let mut second = node(false, 3_000);
        second.keep_since(&first);
        assert_eq!(second, first, "NotReady since the first poll: no change");
        let mut ready = node(true, 5_000);
        ready.keep_since(&second);
        assert_eq!(
            ready.conditions[0].since,
            Timestamp(5_000),
            "Ready since now"
        );
        assert_eq!(
            ready.conditions[1].since,
            Timestamp(1_000),
            "no pressure all along"
        );
    }
}
