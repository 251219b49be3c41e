//! The Kubernetes watch path at scale, against the fake API server: how
//! long until 10,000 pods (and 200 nodes) are listed and shown, how much
//! the process grows for them, and how fast a burst of pod changes is
//! folded in. Prints numbers; asserts nothing about time.
//!
//! `cargo bench -p sentinel-tests --bench kube_watch [-- PODS]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../it/fakekube.rs"]
#[allow(dead_code)]
mod fakekube;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sentinel_runtime::{Runtime, SystemClock};
use serde_json::json;

fn pod(i: usize, restarts: u32) -> serde_json::Value {
    json!({"metadata": {"name": format!("web-{i:05}"), "namespace": format!("team-{}", i % 50),
            "creationTimestamp": "2026-11-20T09:00:00Z",
            "labels": {"app": format!("web-{}", i % 400), "pod-template-hash": "5f6d7c8b9"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": format!("web-{}-5f6d7c8b9", i % 400), "uid": "rs", "controller": true}],
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                "apiVersion": "v1", "time": "2026-11-20T09:00:00Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:containers": {}}}}]},
        "spec": {"nodeName": format!("node-{}", i % 200), "containers": [
            {"name": "web", "image": "registry.example/web:2.3.1",
             "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
             "env": [{"name": "MODE", "value": "production"}, {"name": "PORT", "value": "8080"}]},
            {"name": "envoy", "image": "envoyproxy/envoy:v1.31.0"}]},
        "status": {"phase": "Running", "podIP": "10.1.2.3", "containerStatuses": [
            {"name": "web", "image": "registry.example/web:2.3.1", "imageID": "sha256:abc", "ready": true,
             "restartCount": restarts, "state": {"running": {"startedAt": "2026-11-20T09:00:05Z"}}},
            {"name": "envoy", "image": "envoyproxy/envoy:v1.31.0", "imageID": "sha256:def", "ready": true,
             "restartCount": 0, "state": {"running": {"startedAt": "2026-11-20T09:00:05Z"}}}]}})
}

fn rss() -> u64 {
    sentinel_runtime::procmem::tree_rss_bytes(std::process::id()).unwrap_or(0)
}

fn main() {
    let pods: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = std::env::temp_dir().join(format!("sentinel-bench-kube-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fake = fakekube::FakeKube::start("t0ken").await;
        for n in 0..200 {
            fake.put(
                "/api/v1/nodes",
                json!({"metadata": {"name": format!("node-{n}")},
                "status": {"capacity": {"cpu": "16", "memory": "64Gi"}}}),
            );
        }
        for i in 0..pods {
            fake.put("/api/v1/pods", pod(i, 0));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = rss();
        let conn = sentinel_kube::connect(Some(&fake.kubeconfig(&dir)), None)
            .await
            .unwrap();
        if std::env::var_os("KUBE_BENCH_MIRROR_ONLY").is_some() {
            let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
            let _tasks = sentinel_kube::watch::spawn(conn.client.clone(), tx);
            let mut m = sentinel_kube::Mirror::new();
            let t = Instant::now();
            while m.pod_count() < pods {
                let u = rx.recv().await.unwrap();
                m.apply(u, sentinel_model::Timestamp(0));
            }
            let listed = t.elapsed();
            let v = m.take_pods();
            tokio::time::sleep(Duration::from_secs(2)).await;
            println!(
                "mirror only: {pods} pods in {:.2} s, growth {:.1} MiB ({} kept)",
                listed.as_secs_f64(),
                rss().saturating_sub(before) as f64 / 1048576.0,
                v.map_or(0, |v| v.len())
            );
            return;
        }
        let started = Instant::now();
        let runtime = Runtime::builder(Arc::new(SystemClock))
            .kubernetes(conn, Duration::from_secs(1))
            .start();
        runtime
            .wait_for(|s| s.pods.len() == pods && s.nodes.len() == 200)
            .await
            .unwrap();
        let listed = started.elapsed();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = rss();
        // A burst: every tenth pod restarts once.
        let burst = pods / 10;
        let t = Instant::now();
        for i in (0..pods).step_by(10) {
            fake.put("/api/v1/pods", pod(i, 1));
        }
        runtime
            .wait_for(|s| s.pods.iter().filter(|p| p.pod.restarts() == 1).count() == burst)
            .await
            .unwrap();
        let folded = t.elapsed();
        let steady = rss();
        println!("kube watch: {pods} pods, 200 nodes (fake API server in the same process)");
        println!("  listed and shown in      {:>8.2} s", listed.as_secs_f64());
        println!(
            "  process growth           {:>8.1} MiB ({:.0} bytes per pod)",
            after.saturating_sub(before) as f64 / 1048576.0,
            after.saturating_sub(before) as f64 / pods as f64
        );
        println!(
            "  {burst} pod changes shown in {:>8.2} s",
            folded.as_secs_f64()
        );
        println!(
            "  RSS after the burst      {:>8.1} MiB",
            steady as f64 / 1048576.0
        );
        runtime.shutdown(Duration::from_secs(5)).await;
        let _ = std::fs::remove_dir_all(&dir);
    });
}
