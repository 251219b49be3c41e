//! Which services call which, as Prometheus holds it: a service mesh's
//! counts (Istio's `istio_requests_total`, Linkerd's `response_total`) or
//! the service graph a tracing pipeline derives from its spans (Tempo's
//! metrics generator, the OpenTelemetry Collector's `servicegraph`
//! connector: `traces_service_graph_request_total`), each summed by the
//! calling and the called side over the last half hour. The explainer tells
//! a slow dependency from the services that call it by this graph; without
//! any of them there is none.

use std::collections::BTreeSet;

use sentinel_model::{Labels, Timestamp};

use crate::error::PromError;
use crate::parse::Series;
use crate::prometheus::Prometheus;

/// Istio's standard metric: each side of a call labelled by its workload
/// and namespace (`unknown` for traffic from outside the mesh).
pub const ISTIO: &str = concat!(
    "sum by (source_workload_namespace, source_workload, destination_workload_namespace, ",
    "destination_workload) (increase(istio_requests_total[30m])) > 0"
);

/// Linkerd's proxy metric, from the calling side: the caller by its
/// Deployment, StatefulSet or DaemonSet and namespace, the callee by the
/// same with `dst_`.
pub const LINKERD: &str = concat!(
    "sum by (namespace, deployment, statefulset, daemonset, dst_namespace, dst_deployment, ",
    r#"dst_statefulset, dst_daemonset) (increase(response_total{direction="outbound"}[30m])) > 0"#
);

/// The service graph of traces: each side by its `service.name`, with its
/// namespace where the pipeline adds one as a dimension (Tempo's and the
/// Collector's `client_`/`server_` prefixed labels). Virtual nodes (an
/// uninstrumented caller, `user`) are left out.
pub const SERVICE_GRAPH: &str = concat!(
    "sum by (client, server, connection_type, client_k8s_namespace_name, ",
    "server_k8s_namespace_name, client_service_namespace, server_service_namespace, ",
    "client_namespace, server_namespace) ",
    "(increase(traces_service_graph_request_total[30m])) > 0"
);

/// A source of calls in Prometheus, and how its labels name each side.
struct Mesh {
    /// As a person names it: "Istio's metrics".
    name: &'static str,
    query: &'static str,
    caller: fn(&Labels) -> Option<String>,
    callee: fn(&Labels) -> Option<String>,
}

const MESHES: [Mesh; 3] = [
    Mesh {
        name: "Istio's metrics",
        query: ISTIO,
        caller: |l| key(l, "source_workload_namespace", &["source_workload"]),
        callee: |l| {
            key(
                l,
                "destination_workload_namespace",
                &["destination_workload"],
            )
        },
    },
    Mesh {
        name: "Linkerd's metrics",
        query: LINKERD,
        caller: |l| key(l, "namespace", &["deployment", "statefulset", "daemonset"]),
        callee: |l| {
            key(
                l,
                "dst_namespace",
                &["dst_deployment", "dst_statefulset", "dst_daemonset"],
            )
        },
    },
    Mesh {
        name: "the service graph of traces",
        query: SERVICE_GRAPH,
        caller: |l| {
            let virtual_user = l
                .get("connection_type")
                .is_some_and(|t| t == "virtual_node")
                && l.get("client").is_some_and(|c| c == "user");
            (!virtual_user).then(|| traced(l, "client")).flatten()
        },
        callee: |l| traced(l, "server"),
    },
];

/// At most this many calls are kept: a graph is for telling services
/// apart, and a mesh of thousands of workloads must not cost more.
pub const MAX_CALLS: usize = 20_000;

/// `namespace/workload`, or `None` where a side is not a known workload
/// (Istio's `unknown`, an empty label).
fn key(labels: &Labels, namespace: &str, names: &[&str]) -> Option<String> {
    let known = |v: &&String| !v.is_empty() && v.as_str() != "unknown";
    let ns = labels.get(namespace).filter(known)?;
    let name = names.iter().find_map(|n| labels.get(*n).filter(known))?;
    Some(format!("{ns}/{name}"))
}

/// One side of a traced call: `namespace/service` where a namespace label
/// names it, else the bare service name, which the runtime places in the
/// one namespace holding a workload or Service of that name. A name with a
/// `/` is not a Kubernetes name and is left out, as is an empty one.
fn traced(labels: &Labels, side: &str) -> Option<String> {
    let name = labels
        .get(side)
        .filter(|n| !n.is_empty() && !n.contains('/'))?;
    let namespace = ["k8s_namespace_name", "service_namespace", "namespace"]
        .iter()
        .find_map(|n| labels.get(&format!("{side}_{n}")).filter(|v| !v.is_empty()));
    Some(match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.clone(),
    })
}

/// The call graph as one answer says it: `(caller, callee)` as
/// `namespace/workload` (or a bare service name), without calls of a
/// workload to itself.
fn edges(mesh: &Mesh, answer: Vec<Series>) -> BTreeSet<(String, String)> {
    let mut into = BTreeSet::new();
    for s in answer {
        if into.len() >= MAX_CALLS {
            break;
        }
        if let (Some(a), Some(b)) = ((mesh.caller)(&s.metric), (mesh.callee)(&s.metric))
            && a != b
        {
            into.insert((a, b));
        }
    }
    into
}

/// A side's name without its namespace.
fn bare(side: &str) -> &str {
    side.rsplit_once('/').map_or(side, |(_, name)| name)
}

/// What the meshes' metrics and the traces' service graph say of calls
/// between services.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallGraph {
    /// `(caller, callee)` as `namespace/workload`, sorted; a side the
    /// service graph names without its namespace is the bare name.
    pub calls: Vec<(String, String)>,
    /// Where any of them came from ("Istio's metrics", …).
    pub meshes: Vec<&'static str>,
    /// Bytes of JSON received.
    pub bytes: usize,
}

impl CallGraph {
    /// One line for a person: how many calls, from where.
    pub fn describe(&self) -> String {
        if self.calls.is_empty() {
            return "no calls between services: neither Istio's istio_requests_total, \
                    Linkerd's response_total nor a service graph of traces \
                    (traces_service_graph_request_total) has counted any in the last 30 \
                    minutes; without them a slow dependency is not told from the services \
                    that call it"
                .into();
        }
        let bare = self
            .calls
            .iter()
            .filter(|(a, b)| !a.contains('/') || !b.contains('/'))
            .count();
        let mut line = format!(
            "{} call{} between services, from {}",
            self.calls.len(),
            if self.calls.len() == 1 { "" } else { "s" },
            self.meshes.join(" and ")
        );
        if bare > 0 {
            line.push_str(&format!(
                " ({bare} named by service only, placed in the one namespace holding a \
                 workload or Service of that name)"
            ));
        }
        line
    }
}

/// Folds the answers (in [`MESHES`] order) into one graph. A call named
/// without a namespace that another call already names with one (a mesh
/// and the traces both see it) is that call, and counts once.
fn assemble(answers: Vec<Vec<Series>>) -> CallGraph {
    let found: Vec<_> = MESHES
        .iter()
        .zip(answers)
        .map(|(m, a)| edges(m, a))
        .collect();
    let placed: BTreeSet<(&str, &str)> = found
        .iter()
        .flatten()
        .filter(|(a, b)| a.contains('/') && b.contains('/'))
        .map(|(a, b)| (bare(a), bare(b)))
        .collect();
    let mut calls = BTreeSet::new();
    let mut meshes = Vec::new();
    for (mesh, edges) in MESHES.iter().zip(&found) {
        let before = calls.len();
        for (a, b) in edges {
            if calls.len() >= MAX_CALLS {
                break;
            }
            let unplaced = !a.contains('/') || !b.contains('/');
            if !(unplaced && placed.contains(&(bare(a), bare(b)))) {
                calls.insert((a.clone(), b.clone()));
            }
        }
        if calls.len() > before {
            meshes.push(mesh.name);
        }
    }
    CallGraph {
        calls: calls.into_iter().collect(),
        meshes,
        bytes: 0,
    }
}

/// Asks Prometheus for the call graph at `at`, every source at once.
pub async fn call_graph(prom: &Prometheus, at: Timestamp) -> Result<CallGraph, PromError> {
    let (istio, linkerd, traced) = tokio::join!(
        prom.query_sized(MESHES[0].query, at),
        prom.query_sized(MESHES[1].query, at),
        prom.query_sized(MESHES[2].query, at)
    );
    let ((istio, a), (linkerd, b), (traced, c)) = (istio?, linkerd?, traced?);
    let mut graph = assemble(vec![
        istio.into_series(),
        linkerd.into_series(),
        traced.into_series(),
    ]);
    graph.bytes = a + b + c;
    Ok(graph)
}

#[cfg(test)]
#[path = "calls_tests.rs"]
mod tests;
