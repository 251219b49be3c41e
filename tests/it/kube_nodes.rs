//! A node in trouble, as the API server describes it: its detail holds its
//! conditions with their reasons, its cordon, its roles, its pods with the
//! one not ready first, and the warnings about it and its pods.

use sentinel_protocol::NodeRef;
use serde_json::json;

use crate::fakekube::FakeKube;
use crate::kube::{EVENTS, NODES, PODS, node, pod, watch, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cordoned_node_under_memory_pressure_is_described_with_its_pods() {
    let dir = crate::support::tempdir("kube-node-detail");
    let fake = FakeKube::start("t0ken").await;
    let mut sick = node("worker-1");
    sick["metadata"]["labels"]["node-role.kubernetes.io/worker"] = json!("");
    sick["spec"] = json!({"unschedulable": true,
        "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]});
    sick["status"]["conditions"] = json!([
        {"type": "MemoryPressure", "status": "True", "reason": "KubeletHasInsufficientMemory",
            "lastTransitionTime": "2026-11-20T09:10:00Z"},
        {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure",
            "lastTransitionTime": "2026-11-20T08:00:00Z"},
        {"type": "Ready", "status": "True", "reason": "KubeletReady",
            "lastTransitionTime": "2026-11-20T08:00:00Z"}]);
    fake.put(NODES, sick);
    fake.put(NODES, node("worker-2"));
    fake.put(
        PODS,
        pod("checkout-6f7c9d-a", "worker-1", "shop/checkout:1.4.2"),
    );
    let mut evicting = pod("checkout-6f7c9d-b", "worker-1", "shop/checkout:1.4.2");
    evicting["status"]["containerStatuses"][0]["ready"] = json!(false);
    evicting["status"]["containerStatuses"][0]["restartCount"] = json!(2);
    fake.put(PODS, evicting);
    fake.put(
        PODS,
        pod("checkout-6f7c9d-c", "worker-2", "shop/checkout:1.4.2"),
    );
    fake.put(
        EVENTS,
        json!({"metadata": {"name": "worker-1.1", "namespace": "default", "uid": "ev1"},
            "regarding": {"kind": "Node", "name": "worker-1"},
            "reason": "EvictionThresholdMet", "type": "Warning",
            "note": "Attempting to reclaim memory",
            "deprecatedCount": 1, "deprecatedFirstTimestamp": "2026-11-20T09:10:00Z",
            "deprecatedLastTimestamp": "2026-11-20T09:10:00Z", "reportingController": "kubelet"}),
    );
    let rt = watch(&fake, &dir).await;
    within(
        "the node, its pods and the event",
        rt.wait_for(|s| {
            s.pods.len() == 3
                && s.nodes.len() == 2
                && s.events.iter().any(|e| e.reason == "EvictionThresholdMet")
        }),
    )
    .await
    .unwrap();

    let d = sentinel_service::node_detail(
        &rt,
        &NodeRef {
            name: "worker-1".into(),
        },
    )
    .await
    .unwrap();
    assert!(d.row.cordoned && d.row.ready);
    assert_eq!(d.roles, ["worker"]);
    assert_eq!(
        d.row.problems,
        ["MemoryPressure=True (KubeletHasInsufficientMemory)"]
    );
    let pressure = d
        .conditions
        .iter()
        .find(|c| c.kind == "MemoryPressure")
        .unwrap();
    assert!(pressure.abnormal && pressure.status);
    assert_eq!(pressure.since.to_rfc3339(), "2026-11-20T09:10:00.000Z");
    // Its two pods, the one not ready first; the other node's is not here.
    let pods: Vec<&str> = d.pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(pods, ["checkout-6f7c9d-b", "checkout-6f7c9d-a"]);
    assert_eq!((d.pods_total, d.pods_in_trouble), (2, 1));
    // 4 CPUs and 16 GiB, two pods asking 100m and allowed 256 MiB each.
    assert_eq!(
        (d.cpu_capacity_millis, d.cpu_requested_millis),
        (4_000, 200)
    );
    assert_eq!(d.memory_capacity_bytes, 16 << 30);
    assert_eq!(d.memory_limits_bytes, 2 * (256 << 20));
    assert_eq!(d.events[0].reason, "EvictionThresholdMet");
    assert_eq!(d.events[0].object, "Node/worker-1");
    rt.shutdown(std::time::Duration::from_secs(5)).await;
}
