//! A container's status and the parts of its spec the explainer reads:
//! requests and limits, declared ports, probes.

use k8s_openapi::api::core::v1::{
    Container, ContainerStatus as K8sContainerStatus, Probe as K8sProbe,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use sentinel_model::{
    ContainerPort, ContainerState, ContainerStatus, Probe, ProbeAction, ProbeKind,
};

use crate::convert::{amount, clamp_u32, clamp_u64, text, time};

fn port(p: &IntOrString) -> String {
    match p {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// A probe with the API server's defaults filled in; `None` without an action
/// (never served by a real API server).
fn probe(kind: ProbeKind, p: &K8sProbe) -> Option<Probe> {
    let action = if let Some(h) = &p.http_get {
        ProbeAction::HttpGet {
            path: h.path.clone().unwrap_or_else(|| "/".into()),
            port: port(&h.port),
            scheme: h.scheme.clone().unwrap_or_else(|| "HTTP".into()),
        }
    } else if let Some(t) = &p.tcp_socket {
        ProbeAction::TcpSocket {
            port: port(&t.port),
        }
    } else if let Some(g) = &p.grpc {
        ProbeAction::Grpc { port: g.port }
    } else {
        ProbeAction::Exec {
            command: p.exec.as_ref()?.command.clone().unwrap_or_default(),
        }
    };
    Some(Probe {
        kind,
        action,
        initial_delay_seconds: p.initial_delay_seconds.unwrap_or(0),
        timeout_seconds: p.timeout_seconds.unwrap_or(1),
        period_seconds: p.period_seconds.unwrap_or(10),
        failure_threshold: p.failure_threshold.unwrap_or(3),
    })
}

fn container_state(s: Option<&K8sContainerStatus>) -> ContainerState {
    let state = s.and_then(|s| s.state.as_ref());
    if let Some(t) = state.and_then(|st| st.terminated.as_ref()) {
        return ContainerState::Terminated {
            reason: t.reason.clone().unwrap_or_else(|| "Terminated".into()),
            exit_code: t.exit_code,
        };
    }
    if let Some(w) = state.and_then(|st| st.waiting.as_ref()) {
        return ContainerState::Waiting {
            reason: w.reason.clone().unwrap_or_else(|| "Waiting".into()),
        };
    }
    match state.and_then(|st| st.running.as_ref()) {
        Some(r) => ContainerState::Running {
            started_at: r.started_at.as_ref().map(time).unwrap_or_default(),
        },
        // No status yet: the container is being created.
        None => ContainerState::Waiting {
            reason: "ContainerCreating".into(),
        },
    }
}

pub(crate) fn container(spec: &Container, status: Option<&K8sContainerStatus>) -> ContainerStatus {
    let res = spec.resources.as_ref();
    ContainerStatus {
        name: spec.name.clone(),
        image: status
            .map(|s| s.image.clone())
            .filter(|i| !i.is_empty())
            .or_else(|| spec.image.clone())
            .unwrap_or_default(),
        ready: status.is_some_and(|s| s.ready),
        restart_count: status.map_or(0, |s| u32::try_from(s.restart_count).unwrap_or(0)),
        state: container_state(status),
        last_termination_reason: status
            .and_then(|s| s.last_state.as_ref())
            .and_then(|l| l.terminated.as_ref())
            .and_then(|t| t.reason.clone()),
        cpu_request_millis: amount(res.and_then(|r| r.requests.as_ref()), "cpu")
            .map_or(0, |c| clamp_u32(c * 1000.0)),
        memory_limit_bytes: amount(res.and_then(|r| r.limits.as_ref()), "memory")
            .map_or(0, clamp_u64),
        ports: spec
            .ports
            .iter()
            .flatten()
            .map(|p| ContainerPort {
                name: text(&p.name),
                port: p.container_port,
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
            })
            .collect(),
        probes: [
            (ProbeKind::Liveness, &spec.liveness_probe),
            (ProbeKind::Readiness, &spec.readiness_probe),
            (ProbeKind::Startup, &spec.startup_probe),
        ]
        .into_iter()
        .filter_map(|(kind, p)| probe(kind, p.as_ref()?))
        .collect(),
    }
}
