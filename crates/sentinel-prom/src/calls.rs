//! Which services call which, as a service mesh counts it in Prometheus:
//! Istio's `istio_requests_total` and Linkerd's `response_total`, each
//! summed by the calling and the called workload over the last half hour.
//! The explainer tells a slow dependency from the services that call it by
//! this graph; without a mesh there is none.

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

/// A mesh that talks of calls, and how its labels name each side.
struct Mesh {
    name: &'static str,
    query: &'static str,
    caller: fn(&Labels) -> Option<String>,
    callee: fn(&Labels) -> Option<String>,
}

const MESHES: [Mesh; 2] = [
    Mesh {
        name: "Istio",
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
        name: "Linkerd",
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

/// The call graph as one answer says it: `(caller, callee)` as
/// `namespace/workload`, without calls of a workload to itself.
fn edges(mesh: &Mesh, answer: Vec<Series>, into: &mut BTreeSet<(String, String)>) {
    for s in answer {
        if into.len() >= MAX_CALLS {
            return;
        }
        if let (Some(a), Some(b)) = ((mesh.caller)(&s.metric), (mesh.callee)(&s.metric))
            && a != b
        {
            into.insert((a, b));
        }
    }
}

/// What the meshes' metrics say of calls between services.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallGraph {
    /// `(caller, callee)` as `namespace/workload`, sorted.
    pub calls: Vec<(String, String)>,
    /// The meshes that told any of them (`Istio`, `Linkerd`).
    pub meshes: Vec<&'static str>,
    /// Bytes of JSON received.
    pub bytes: usize,
}

impl CallGraph {
    /// One line for a person: how many calls, from which mesh.
    pub fn describe(&self) -> String {
        if self.calls.is_empty() {
            return "no calls between services: neither Istio's istio_requests_total nor \
                    Linkerd's response_total has counted any in the last 30 minutes; without \
                    them a slow dependency is not told from the services that call it"
                .into();
        }
        format!(
            "{} call{} between services, from {}'s metrics",
            self.calls.len(),
            if self.calls.len() == 1 { "" } else { "s" },
            self.meshes.join(" and ")
        )
    }
}

/// Folds the meshes' answers (in [`MESHES`] order) into one graph.
fn assemble(answers: Vec<Vec<Series>>) -> CallGraph {
    let mut calls = BTreeSet::new();
    let mut meshes = Vec::new();
    for (mesh, answer) in MESHES.iter().zip(answers) {
        let before = calls.len();
        edges(mesh, answer, &mut calls);
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

/// Asks Prometheus for the call graph at `at`, every mesh at once.
pub async fn call_graph(prom: &Prometheus, at: Timestamp) -> Result<CallGraph, PromError> {
    let (istio, linkerd) = tokio::join!(
        prom.query_sized(MESHES[0].query, at),
        prom.query_sized(MESHES[1].query, at)
    );
    let ((istio, a), (linkerd, b)) = (istio?, linkerd?);
    let mut graph = assemble(vec![istio.into_series(), linkerd.into_series()]);
    graph.bytes = a + b;
    Ok(graph)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn answer(json: &str) -> Vec<Series> {
        let body =
            format!(r#"{{"status":"success","data":{{"resultType":"vector","result":{json}}}}}"#);
        crate::parse::query("http://prom", body.as_bytes())
            .unwrap()
            .into_series()
    }

    #[test]
    fn istio_calls_are_read_by_workload_and_namespace() {
        let istio = answer(
            r#"[
            {"metric":{"source_workload_namespace":"shop","source_workload":"checkout",
              "destination_workload_namespace":"shop","destination_workload":"payments"},
             "value":[1700000000,"120"]},
            {"metric":{"source_workload_namespace":"unknown","source_workload":"unknown",
              "destination_workload_namespace":"shop","destination_workload":"frontend"},
             "value":[1700000000,"900"]},
            {"metric":{"source_workload_namespace":"shop","source_workload":"payments",
              "destination_workload_namespace":"shop","destination_workload":"payments"},
             "value":[1700000000,"3"]},
            {"metric":{"source_workload_namespace":"shop","source_workload":"frontend",
              "destination_workload_namespace":"shop","destination_workload":"checkout"},
             "value":[1700000000,"40"]}
        ]"#,
        );
        let g = assemble(vec![istio, Vec::new()]);
        assert_eq!(
            g.calls,
            [
                ("shop/checkout".to_string(), "shop/payments".to_string()),
                ("shop/frontend".to_string(), "shop/checkout".to_string()),
            ]
        );
        assert_eq!(g.meshes, ["Istio"]);
        assert_eq!(
            g.describe(),
            "2 calls between services, from Istio's metrics"
        );
    }

    #[test]
    fn linkerd_calls_name_each_side_by_its_controller() {
        let linkerd = answer(
            r#"[
            {"metric":{"namespace":"shop","deployment":"checkout",
              "dst_namespace":"data","dst_statefulset":"postgres"},
             "value":[1700000000,"10"]},
            {"metric":{"namespace":"shop","deployment":"checkout",
              "dst_namespace":"shop"},
             "value":[1700000000,"10"]}
        ]"#,
        );
        let g = assemble(vec![Vec::new(), linkerd]);
        assert_eq!(
            g.calls,
            [("shop/checkout".to_string(), "data/postgres".to_string())]
        );
        assert_eq!(g.meshes, ["Linkerd"]);
    }

    #[test]
    fn without_a_mesh_the_graph_is_empty_and_says_what_it_looked_for() {
        let g = assemble(vec![Vec::new(), Vec::new()]);
        assert!(g.calls.is_empty() && g.meshes.is_empty());
        assert!(g.describe().contains("istio_requests_total"));
        assert!(g.describe().contains("response_total"));
    }

    #[test]
    fn a_huge_mesh_is_cut_at_the_limit() {
        let many: Vec<Series> = (0..MAX_CALLS + 10)
            .map(|i| Series {
                metric: Labels::from([
                    ("source_workload_namespace".to_string(), "a".to_string()),
                    ("source_workload".to_string(), format!("w{i}")),
                    (
                        "destination_workload_namespace".to_string(),
                        "a".to_string(),
                    ),
                    ("destination_workload".to_string(), "db".to_string()),
                ]),
                values: Vec::new(),
            })
            .collect();
        assert_eq!(assemble(vec![many, Vec::new()]).calls.len(), MAX_CALLS);
    }
}
