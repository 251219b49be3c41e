//! Services named apart from their workloads (`storefront` in front of
//! Deployment `web`, as charts often name them): placed by the pods their
//! selector picks.

use sentinel_model::ServiceState;

use super::*;

const STOREFRONT: [(&str, &str); 2] = [("namespace", "shop"), ("service", "storefront")];
const WEB_POD: &str = "web-6b7c8d9e0-uvwxy";

/// The demo shop, and `web` on node-2 behind the Service `storefront`.
fn with_storefront() -> Manager {
    let mut m = manager();
    let mut web = pod("shop", WEB_POD, "web-6b7c8d9e0", "node-2");
    web.labels.insert("app".into(), "web".into());
    m.topology_mut().set_services(&[ServiceState {
        namespace: "shop".into(),
        name: "storefront".into(),
        selector: labels(&[("app", "web")]),
        kind: "ClusterIP".into(),
        ports: vec![],
        created_at: t(0.0),
    }]);
    m.topology_mut().set_pods(&[web]);
    m
}

#[test]
fn a_services_latency_and_its_nodes_trouble_are_one_incident() {
    let mut m = with_storefront();
    let latency = alert("HighRequestLatency", "warning", t(0.0), &STOREFRONT);
    m.alerts(t(0.0), std::slice::from_ref(&latency));
    let node = alert(
        "NodeCPUSaturation",
        "critical",
        t(0.07),
        &[("node", "node-2")],
    );
    m.alerts(t(0.07), &[latency, node]);
    let all = m.incidents();
    assert_eq!(
        all.len(),
        1,
        "{:#?}",
        all.iter().map(|i| &i.title).collect::<Vec<_>>()
    );
    let mut subjects: Vec<String> = all[0]
        .members
        .iter()
        .map(|x| x.subject.to_string())
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["Node/node-2", "Service/shop/storefront"]);
    // A node its pods do not run on stays apart.
    let other = alert(
        "NodeCPUSaturation",
        "critical",
        t(0.1),
        &[("node", "node-1")],
    );
    m.alerts(t(0.1), &[other]);
    assert_eq!(m.incidents().len(), 2);
}

#[test]
fn a_services_latency_joins_the_incident_of_a_pod_it_selects() {
    let mut m = with_storefront();
    let crash = [("namespace", "shop"), ("pod", WEB_POD)];
    let crashing = alert("KubePodCrashLooping", "warning", t(0.0), &crash);
    m.alerts(t(0.0), std::slice::from_ref(&crashing));
    let latency = alert("HighRequestLatency", "warning", t(0.5), &STOREFRONT);
    m.alerts(t(0.5), &[crashing, latency]);
    let all = m.incidents();
    assert_eq!(
        all.len(),
        1,
        "{:#?}",
        all.iter().map(|i| &i.title).collect::<Vec<_>>()
    );
    assert!(all[0].scope.services.contains("shop/storefront"));
    assert!(all[0].scope.services.contains("shop/web"));
}

#[test]
fn a_changed_selector_moves_the_service() {
    let mut m = with_storefront();
    let topo = m.topology_mut();
    assert!(topo.runs_on("shop/storefront", "node-2"));
    assert!(!topo.runs_on("shop/storefront", "node-1"));
    // Pointed at cart (on node-1): matched again with the next pod list.
    let mut cart = pod("shop", "cart-6c5b4a3d2-klmno", "cart-6c5b4a3d2", "node-1");
    cart.labels.insert("app".into(), "cart".into());
    let mut web = pod("shop", WEB_POD, "web-6b7c8d9e0", "node-2");
    web.labels.insert("app".into(), "web".into());
    topo.set_services(&[ServiceState {
        namespace: "shop".into(),
        name: "storefront".into(),
        selector: labels(&[("app", "cart")]),
        kind: "ClusterIP".into(),
        ports: vec![],
        created_at: t(0.0),
    }]);
    topo.set_pods(&[cart, web]);
    assert!(topo.runs_on("shop/storefront", "node-1"));
    assert!(!topo.runs_on("shop/storefront", "node-2"));
    assert_eq!(
        topo.aliases("shop/storefront").collect::<Vec<_>>(),
        ["shop/storefront", "shop/cart"]
    );
    assert_eq!(topo.aliases("shop/web").collect::<Vec<_>>(), ["shop/web"]);
}
