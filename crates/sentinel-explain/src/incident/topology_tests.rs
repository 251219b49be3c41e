use sentinel_model::{PodPhase, Timestamp};

use super::*;

fn pod(name: &str, node: &str) -> PodState {
    PodState {
        uid: name.into(),
        namespace: "shop".into(),
        name: name.into(),
        labels: Labels::new(),
        owner: Some(OwnerRef {
            kind: OwnerKind::ReplicaSet,
            name: "cart-6c5b4a3d2".into(),
        }),
        node: Some(node.into()),
        phase: PodPhase::Running,
        created_at: Timestamp(0),
        containers: vec![],
    }
}

#[test]
fn a_workloads_nodes_follow_its_pods() {
    let mut topo = Topology::default();
    topo.set_pods(&[
        pod("cart-6c5b4a3d2-a", "node-1"),
        pod("cart-6c5b4a3d2-b", "node-1"),
    ]);
    assert!(topo.runs_on("shop/cart", "node-1"));
    assert!(!topo.runs_on("shop/cart", "node-2"));
    assert!(!topo.runs_on("shop/checkout", "node-1"));
    // One pod moves: the workload is on both nodes; both move: only on
    // the second.
    topo.set_pods(&[
        pod("cart-6c5b4a3d2-a", "node-2"),
        pod("cart-6c5b4a3d2-b", "node-1"),
    ]);
    assert!(topo.runs_on("shop/cart", "node-1") && topo.runs_on("shop/cart", "node-2"));
    let both_on_2 = [
        pod("cart-6c5b4a3d2-a", "node-2"),
        pod("cart-6c5b4a3d2-b", "node-2"),
    ];
    topo.set_pods(&both_on_2);
    assert!(!topo.runs_on("shop/cart", "node-1"));
    assert!(topo.runs_on("shop/cart", "node-2"));
    // Listed again as they are: nothing changes.
    topo.set_pods(&both_on_2);
    assert_eq!(topo.nodes_of["shop/cart"]["node-2"], 2);
}

#[test]
fn a_pod_gone_from_the_list_keeps_its_place_but_not_its_workloads_node() {
    let mut topo = Topology::default();
    topo.set_pods(&[
        pod("cart-6c5b4a3d2-a", "node-1"),
        pod("cart-6c5b4a3d2-b", "node-1"),
    ]);
    // Evicted from node-1, replaced on node-3.
    topo.set_pods(&[pod("cart-6c5b4a3d2-c", "node-3")]);
    assert!(!topo.runs_on("shop/cart", "node-1"));
    assert!(topo.runs_on("shop/cart", "node-3"));
    let gone = topo.pod("shop", "cart-6c5b4a3d2-a");
    assert_eq!(gone.node.as_deref(), Some("node-1"));
    assert_eq!(gone.workload.as_deref(), Some("cart"));
    // Listed again (a relist that missed it): it counts again.
    topo.set_pods(&[
        pod("cart-6c5b4a3d2-b", "node-1"),
        pod("cart-6c5b4a3d2-c", "node-3"),
    ]);
    assert_eq!(topo.nodes_of["shop/cart"]["node-1"], 1);
    assert_eq!(topo.nodes_of["shop/cart"]["node-3"], 1);
    assert_eq!(topo.counted, 2);
}

#[test]
fn a_name_without_its_namespace_is_placed_only_where_one_namespace_holds_it() {
    let mut topo = Topology::default();
    let mut staging = pod("cart-6c5b4a3d2-s", "node-2");
    staging.namespace = "staging".into();
    topo.set_pods(&[pod("cart-6c5b4a3d2-a", "node-1"), staging]);
    let service = |ns: &str, name: &str| ServiceState {
        namespace: ns.into(),
        name: name.into(),
        selector: Labels::from([("app".to_string(), name.to_string())]),
        kind: "ClusterIP".into(),
        ports: Vec::new(),
        created_at: Timestamp(0),
    };
    topo.set_services(&[service("shop", "storefront"), service("shop", "cart")]);
    let names = topo.namespaces_by_name();
    assert_eq!(names["storefront"], Some("shop"));
    // In two namespaces: neither is guessed.
    assert_eq!(names["cart"], None);
    assert!(!names.contains_key("payments"));
    assert_eq!(topo.named_objects(), 4);
}

/// A pod relabelled in place (`kubectl label pod … app=cart-canary`) so that
/// a Service now selects it is tied to that Service at the next pod list,
/// without waiting for the Services to change.
#[test]
fn a_pod_relabelled_in_place_is_matched_against_the_services_again() {
    let mut topo = Topology::default();
    topo.set_services(&[ServiceState {
        namespace: "shop".into(),
        name: "canary".into(),
        selector: Labels::from([("app".to_string(), "cart-canary".to_string())]),
        kind: "ClusterIP".into(),
        ports: Vec::new(),
        created_at: Timestamp(0),
    }]);
    let mut p = pod("cart-6c5b4a3d2-abcde", "node-1");
    p.labels.insert("app".into(), "cart".into());
    topo.set_pods(std::slice::from_ref(&p));
    topo.set_pods(std::slice::from_ref(&p));
    assert_eq!(
        topo.aliases("shop/canary").collect::<Vec<_>>(),
        ["shop/canary"]
    );
    p.labels.insert("app".into(), "cart-canary".into());
    topo.set_pods(std::slice::from_ref(&p));
    assert_eq!(
        topo.aliases("shop/canary").collect::<Vec<_>>(),
        ["shop/canary", "shop/cart"]
    );
    assert!(topo.runs_on("shop/canary", "node-1"));
}

#[test]
fn the_labels_hash_tells_where_a_value_ends() {
    let l = |k: &str, v: &str| Labels::from([(k.to_string(), v.to_string())]);
    assert_ne!(labels_hash(&l("a", "bc")), labels_hash(&l("ab", "c")));
    assert_ne!(
        labels_hash(&l("app", "checkout-canary")),
        labels_hash(&l("app", "checkout-stable"))
    );
    assert_eq!(labels_hash(&l("app", "web")), labels_hash(&l("app", "web")));
}
