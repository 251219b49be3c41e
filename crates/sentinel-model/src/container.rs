//! A pod's containers: what each is doing (`status.containerStatuses[]`) and
//! the parts of its spec the explainer reads (`spec.containers[]`): requests
//! and limits, the ports it declares and its probes.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// What a container is doing now (`status.containerStatuses[].state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "state",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ContainerState {
    Running { started_at: Timestamp },
    Waiting { reason: String },
    Terminated { reason: String, exit_code: i32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    pub name: String,
    pub image: String,
    pub ready: bool,
    pub restart_count: u32,
    pub state: ContainerState,
    /// Why the previous instance ended (`lastState.terminated.reason`), e.g. `OOMKilled`.
    pub last_termination_reason: Option<String>,
    pub cpu_request_millis: u32,
    pub memory_limit_bytes: u64,
    /// The ports the container declares (`ports[]`). Declaring is optional:
    /// a container may listen on a port it does not list. Shared: the pods
    /// of a workload declare the same, and a pod is cloned into every
    /// snapshot.
    #[serde(default, skip_serializing_if = "none")]
    pub ports: Arc<[ContainerPort]>,
    #[serde(default, skip_serializing_if = "none")]
    pub probes: Arc<[Probe]>,
}

fn none<T>(s: &Arc<[T]>) -> bool {
    s.is_empty()
}

/// A declared port (`containerPort`, its `name` and `protocol`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(default)]
    pub name: String,
    pub port: i32,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

impl ProbeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
            ProbeKind::Startup => "Startup",
        }
    }

    /// The field of the container spec (`livenessProbe`).
    pub fn field(self) -> &'static str {
        match self {
            ProbeKind::Liveness => "livenessProbe",
            ProbeKind::Readiness => "readinessProbe",
            ProbeKind::Startup => "startupProbe",
        }
    }
}

/// How a probe checks the container. A port is a number or a port name, as
/// written in the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ProbeAction {
    HttpGet {
        path: String,
        port: String,
        /// `HTTP` or `HTTPS`.
        scheme: String,
    },
    TcpSocket {
        port: String,
    },
    Grpc {
        port: i32,
    },
    Exec {
        command: Vec<String>,
    },
}

impl ProbeAction {
    /// The port it connects to; none for `exec`.
    pub fn port(&self) -> Option<String> {
        match self {
            ProbeAction::HttpGet { port, .. } | ProbeAction::TcpSocket { port } => {
                Some(port.clone())
            }
            ProbeAction::Grpc { port } => Some(port.to_string()),
            ProbeAction::Exec { .. } => None,
        }
    }
}

/// A liveness, readiness or startup probe with its timing, in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    pub kind: ProbeKind,
    #[serde(flatten)]
    pub action: ProbeAction,
    pub initial_delay_seconds: i32,
    pub timeout_seconds: i32,
    pub period_seconds: i32,
    pub failure_threshold: i32,
}

impl Probe {
    /// `httpGet :8080/healthz`, `tcpSocket :5432`, `grpc :9090`, `exec cat /tmp/ready`.
    pub fn describe(&self) -> String {
        match &self.action {
            ProbeAction::HttpGet { path, port, scheme } => {
                let s = if scheme.eq_ignore_ascii_case("HTTPS") {
                    " (HTTPS)"
                } else {
                    ""
                };
                format!("httpGet :{port}{path}{s}")
            }
            ProbeAction::TcpSocket { port } => format!("tcpSocket :{port}"),
            ProbeAction::Grpc { port } => format!("grpc :{port}"),
            ProbeAction::Exec { command } => format!("exec {}", command.join(" ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_stored_before_ports_and_probes_reads_back_without_them() {
        let old = r#"{"name":"app","image":"a:1","ready":true,"restartCount":0,
            "state":{"state":"running","startedAt":0},"lastTerminationReason":null,
            "cpuRequestMillis":100,"memoryLimitBytes":0}"#;
        let c: ContainerStatus = serde_json::from_str(old).unwrap();
        assert!(c.ports.is_empty() && c.probes.is_empty());
    }

    #[test]
    fn a_probe_round_trips_and_describes_itself() {
        let p = Probe {
            kind: ProbeKind::Readiness,
            action: ProbeAction::HttpGet {
                path: "/ready".into(),
                port: "http".into(),
                scheme: "HTTP".into(),
            },
            initial_delay_seconds: 0,
            timeout_seconds: 1,
            period_seconds: 10,
            failure_threshold: 3,
        };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Probe>(&json).unwrap(), p);
        assert_eq!(p.describe(), "httpGet :http/ready");
        assert_eq!(p.action.port().as_deref(), Some("http"));
    }
}
