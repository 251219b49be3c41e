//! One moment of a recording, as the app showed it then: pods, nodes,
//! alerts and the findings firing, each finding with its trace as it stood.
//! Built from the history alone, so it works with every source unreachable.

use std::sync::Arc;

use sentinel_model::{Alert, Finding, NodeState, PodState};
use sentinel_protocol::{ErrorKind, IpcError, REPLAY_PODS, ReplayAt, ReplayFrame};
use sentinel_runtime::snapshot::{NodeView, PodView};
use sentinel_runtime::{Mode, Snapshot, StoreError};

fn unavailable(path: &str, e: &StoreError) -> IpcError {
    IpcError::new(ErrorKind::Unavailable, format!("cannot read {path}: {e}"))
}

/// The picture at `req.at` of the history or bundle at `req.path`.
pub async fn replay_state(req: &ReplayAt) -> Result<ReplayFrame, IpcError> {
    let store = sentinel_runtime::Store::open_read_only(&req.path)
        .await
        .map_err(|e| IpcError::new(ErrorKind::InvalidArgument, e.to_string()))?;
    let at = req.at.millis();
    let objects = store.objects_at(at).await;
    let findings = store.findings_at(at).await;
    let kept = store.has_objects().await;
    store.close().await;
    let kept = kept.map_err(|e| unavailable(&req.path, &e))?;
    let objects = objects.map_err(|e| unavailable(&req.path, &e))?;
    let findings = findings.map_err(|e| unavailable(&req.path, &e))?;
    let (mut pods, mut nodes, mut alerts) = (Vec::new(), Vec::new(), Vec::new());
    let mut damaged = 0usize;
    for o in &objects {
        let ok = match o.kind.as_str() {
            "pod" => serde_json::from_str::<PodState>(&o.body).map(|p| pods.push(p)),
            "node" => serde_json::from_str::<NodeState>(&o.body).map(|n| nodes.push(n)),
            "alert" => serde_json::from_str::<Alert>(&o.body).map(|a| alerts.push(a)),
            _ => Ok(()),
        };
        damaged += usize::from(ok.is_err());
    }
    if damaged > 0 {
        tracing::warn!(damaged, path = %req.path, "unreadable object records skipped");
    }
    Ok(frame(req.at, pods, nodes, alerts, findings, kept))
}

fn frame(
    at: sentinel_model::Timestamp,
    pods: Vec<PodState>,
    nodes: Vec<NodeState>,
    alerts: Vec<Alert>,
    findings: Vec<Finding>,
    objects_recorded: bool,
) -> ReplayFrame {
    let on_node = |n: &str| pods.iter().filter(|p| p.node.as_deref() == Some(n)).count();
    let node_views: Vec<NodeView> = nodes
        .into_iter()
        .map(|node| NodeView {
            pods: on_node(&node.name),
            node,
            cpu_cores: None,
            memory_bytes: None,
        })
        .collect();
    let mut pod_views: Vec<PodView> = pods
        .into_iter()
        .map(|pod| PodView {
            pod,
            cpu_cores: None,
            memory_bytes: None,
        })
        .collect();
    // Unhealthy first, then by namespace and name.
    pod_views.sort_by(|a, b| {
        crate::unhealthy(&b.pod)
            .cmp(&crate::unhealthy(&a.pod))
            .then_with(|| a.pod.namespace.cmp(&b.pod.namespace))
            .then_with(|| crate::natural_cmp(&a.pod.name, &b.pod.name))
    });
    let mut s = Snapshot::empty(Mode::Replay, at);
    let pods_total = pod_views.len();
    s.pods = Arc::new(pod_views);
    s.nodes = Arc::new(node_views);
    s.alerts = Arc::new(alerts);
    s.findings = Arc::new(findings);
    let rows = crate::feed::everything(&s);
    let explanations = s
        .findings
        .iter()
        .filter_map(|f| crate::why::explain(&s, &f.id))
        .collect();
    ReplayFrame {
        at,
        pods: s
            .pods
            .iter()
            .take(REPLAY_PODS)
            .map(crate::pods::row)
            .collect(),
        pods_total,
        nodes: crate::overview::nodes(&s),
        alerts: rows,
        explanations,
        objects_recorded,
    }
}
