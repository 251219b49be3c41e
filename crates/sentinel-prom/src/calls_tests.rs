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
    let g = assemble(vec![istio, Vec::new(), Vec::new()]);
    assert_eq!(
        g.calls,
        [
            ("shop/checkout".to_string(), "shop/payments".to_string()),
            ("shop/frontend".to_string(), "shop/checkout".to_string()),
        ]
    );
    assert_eq!(g.meshes, ["Istio's metrics"]);
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
    let g = assemble(vec![Vec::new(), linkerd, Vec::new()]);
    assert_eq!(
        g.calls,
        [("shop/checkout".to_string(), "data/postgres".to_string())]
    );
    assert_eq!(g.meshes, ["Linkerd's metrics"]);
}

#[test]
fn without_a_mesh_the_graph_is_empty_and_says_what_it_looked_for() {
    let g = assemble(vec![Vec::new(), Vec::new(), Vec::new()]);
    assert!(g.calls.is_empty() && g.meshes.is_empty());
    assert!(g.describe().contains("istio_requests_total"));
    assert!(g.describe().contains("response_total"));
    assert!(g.describe().contains("traces_service_graph_request_total"));
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
    assert_eq!(
        assemble(vec![many, Vec::new(), Vec::new()]).calls.len(),
        MAX_CALLS
    );
}

/// A service graph's answer: some sides with a namespace, most without,
/// a virtual node, names that are not Kubernetes names.
fn traced_answer() -> Vec<Series> {
    answer(
        r#"[
        {"metric":{"client":"frontend","server":"checkout","connection_type":""},
         "value":[1700000000,"40"]},
        {"metric":{"client":"checkout","server":"payments",
          "client_k8s_namespace_name":"shop","server_k8s_namespace_name":"shop"},
         "value":[1700000000,"12"]},
        {"metric":{"client":"payments","server":"ledger","server_service_namespace":"bank"},
         "value":[1700000000,"3"]},
        {"metric":{"client":"user","server":"frontend","connection_type":"virtual_node"},
         "value":[1700000000,"500"]},
        {"metric":{"client":"user","server":"frontend","connection_type":""},
         "value":[1700000000,"5"]},
        {"metric":{"client":"frontend","server":"api.example.com/v1"},
         "value":[1700000000,"9"]},
        {"metric":{"client":"frontend","server":""},
         "value":[1700000000,"9"]}
    ]"#,
    )
}

#[test]
fn traced_calls_take_a_namespace_where_one_is_given_and_the_bare_name_else() {
    let g = assemble(vec![Vec::new(), Vec::new(), traced_answer()]);
    let edge = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        g.calls,
        [
            edge("frontend", "checkout"),
            edge("payments", "bank/ledger"),
            edge("shop/checkout", "shop/payments"),
            // A service named `user` that is instrumented is a caller.
            edge("user", "frontend"),
        ]
    );
    assert_eq!(g.meshes, ["the service graph of traces"]);
    let described = g.describe();
    // Istio already names two of them, with their namespaces: they
    // count once, and the traces add the other two.
    let istio = answer(
        r#"[
        {"metric":{"source_workload_namespace":"shop","source_workload":"frontend",
          "destination_workload_namespace":"shop","destination_workload":"checkout"},
         "value":[1700000000,"40"]},
        {"metric":{"source_workload_namespace":"shop","source_workload":"checkout",
          "destination_workload_namespace":"shop","destination_workload":"payments"},
         "value":[1700000000,"12"]}
    ]"#,
    );
    let both = assemble(vec![istio, Vec::new(), traced_answer()]);
    assert_eq!(
        both.calls,
        [
            edge("payments", "bank/ledger"),
            edge("shop/checkout", "shop/payments"),
            edge("shop/frontend", "shop/checkout"),
            edge("user", "frontend"),
        ]
    );
    assert_eq!(
        both.meshes,
        ["Istio's metrics", "the service graph of traces"]
    );
    assert_eq!(
        described,
        "4 calls between services, from the service graph of traces (3 named by service \
         only, placed in the one namespace holding a workload or Service of that name)"
    );
}
