//! What the demo's workloads serve: the Service in front of each, the port
//! its containers declare and the probes that check them, as the usual Helm
//! charts write them.

use std::sync::Arc;

use sentinel_model::{
    ContainerPort, Labels, Probe, ProbeAction, ProbeKind, ServicePort, ServiceState, Timestamp,
};

use crate::topology::{Workload, WorkloadKind};

/// A workload's serving port: the Service's port, the container's, their
/// name, and whether the Service targets it by that name (else by number).
struct Serving {
    name: &'static str,
    service_port: i32,
    container_port: i32,
    by_name: bool,
}

fn serving(w: &Workload) -> Option<Serving> {
    let (name, service_port, container_port, by_name) = match w.name.as_str() {
        "postgres" => ("postgres", 5432, 5432, false),
        "redis" => ("redis", 6379, 6379, false),
        "kafka" => ("kafka", 9092, 9092, false),
        "prometheus-k8s" => ("web", 9090, 9090, true),
        "alertmanager-main" => ("web", 9093, 9093, true),
        _ if w.rps > 0.0 && w.kind != WorkloadKind::DaemonSet => ("http", 80, 8080, true),
        _ => return None,
    };
    Some(Serving {
        name,
        service_port,
        container_port,
        by_name,
    })
}

/// The Services in front of the workloads: one per workload that serves
/// requests (and per data store), named like it and selecting its pods by
/// `app.kubernetes.io/name`, as Helm charts do.
pub fn build_services(workloads: &[Workload], created_at: Timestamp) -> Vec<ServiceState> {
    workloads
        .iter()
        .filter_map(|w| {
            let s = serving(w)?;
            Some(ServiceState {
                namespace: w.namespace.clone(),
                name: w.name.clone(),
                selector: Labels::from([("app.kubernetes.io/name".into(), w.name.clone())]),
                kind: "ClusterIP".into(),
                ports: vec![ServicePort {
                    name: s.name.into(),
                    port: s.service_port,
                    target: if s.by_name {
                        s.name.into()
                    } else {
                        s.container_port.to_string()
                    },
                    protocol: "TCP".into(),
                }],
                created_at,
            })
        })
        .collect()
}

/// The ports a workload's container declares: the one its Service targets.
pub fn container_ports(w: &Workload) -> Arc<[ContainerPort]> {
    serving(w)
        .map(|s| ContainerPort {
            name: s.name.into(),
            port: s.container_port,
            protocol: "TCP".into(),
        })
        .into_iter()
        .collect()
}

/// Its probes: HTTP servers answer `/healthz` and `/ready` on their port
/// (Prometheus and Alertmanager `/-/healthy` and `/-/ready`), data stores
/// a TCP connect. Workloads that serve nothing have none.
pub fn probes(w: &Workload) -> Arc<[Probe]> {
    let Some(s) = serving(w) else {
        return Arc::from([]);
    };
    let probe = |kind, action, initial_delay_seconds| Probe {
        kind,
        action,
        initial_delay_seconds,
        timeout_seconds: 1,
        period_seconds: 10,
        failure_threshold: 3,
    };
    let http = |path: &str| ProbeAction::HttpGet {
        path: path.into(),
        port: s.name.into(),
        scheme: "HTTP".into(),
    };
    let (live, ready) = match w.name.as_str() {
        "prometheus-k8s" | "alertmanager-main" => (http("/-/healthy"), http("/-/ready")),
        _ if s.by_name => (http("/healthz"), http("/ready")),
        _ => {
            let tcp = || ProbeAction::TcpSocket {
                port: s.container_port.to_string(),
            };
            (tcp(), tcp())
        }
    };
    Arc::from([
        probe(ProbeKind::Liveness, live, 15),
        probe(ProbeKind::Readiness, ready, 5),
    ])
}
