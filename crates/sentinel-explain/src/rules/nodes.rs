//! Node conditions (NotReady and why, memory and disk pressure, network)
//! and the evictions that point at them.

use super::infra::pods_on;
use super::{Ctx, Proposal, contains_any};
use crate::evidence::EvidenceKind;
use crate::kube::{ObjRef, arr_at, bad_node_condition, node_in_trouble, seen_at, str_at, time_at};
use crate::report::chart::clock;

const RULE: &str = "platform";

pub(crate) fn run(ctx: &mut Ctx) {
    nodes(ctx);
    evictions(ctx);
}

/// `: "message"` after a sentence, or nothing when the object gave no
/// message (a cluster read through kube-state-metrics gives none).
fn quoted(msg: &str) -> String {
    match msg.trim() {
        "" => String::new(),
        m => format!(": \"{m}\""),
    }
}

/// A condition as evidence: "Node/n1 Ready=False (KubeletNotReady): …",
/// leaving out the reason and message the object does not have.
fn condition_text(node: &ObjRef, ty: &str, status: &str, reason: &str, msg: &str) -> String {
    let mut out = format!("{node} {ty}={status}");
    if !reason.trim().is_empty() {
        out.push_str(&format!(" ({})", reason.trim()));
    }
    if !msg.trim().is_empty() {
        out.push_str(&format!(": {}", msg.trim()));
    }
    out
}

/// Each node as captured last, then the earlier, troubled version of those
/// that have recovered since (with when it was last seen so).
fn nodes(ctx: &mut Ctx) {
    let cap = ctx.cap;
    let current = cap.objects.of_kind("Node").iter().map(|n| (n, None));
    let recovered = cap
        .objects
        .earlier_of_kind("Node")
        .iter()
        .filter(|n| {
            !cap.objects
                .find("Node", "", str_at(n, "/metadata/name"))
                .is_some_and(node_in_trouble)
        })
        .map(|n| (n, seen_at(n)));
    for (n, recovered) in current.chain(recovered) {
        let node = ObjRef::of(n, "Node");
        let on_node = pods_on(ctx, &node.name).len();
        let troubled_before = cap
            .objects
            .earlier_of_kind("Node")
            .iter()
            .any(|e| str_at(e, "/metadata/name") == node.name);
        // Said of a version the node has recovered from since.
        let since = |s: String| match recovered {
            Some(t) => format!(
                "{} (as last seen at {} UTC; it has recovered since).",
                s.trim_end_matches('.'),
                clock(t, true)
            ),
            None => s,
        };
        for c in arr_at(n, "/status/conditions") {
            let (ty, status) = (str_at(c, "/type"), str_at(c, "/status"));
            let at = time_at(c, "/lastTransitionTime");
            let msg = str_at(c, "/message");
            // Trouble that began after the onset is a later problem,
            // unless the node was in trouble before (a recurrence).
            if !bad_node_condition(ty, status) || ctx.after_onset(at) && !troubled_before {
                continue;
            }
            let id = ctx.note(
                EvidenceKind::Node,
                &node,
                at,
                since(condition_text(&node, ty, status, str_at(c, "/reason"), msg)),
            );
            let near = ctx.near(at);
            let mut cites = vec![id];
            let node_events: Vec<_> = ctx
                .events_for(&node)
                .into_iter()
                .filter(|e| e.warning || e.reason.contains("NotReady"))
                .collect();
            for e in node_events.iter().take(2) {
                cites.push(ctx.note_event(e));
            }
            let (cause, score, said, hint): (&str, f64, String, String) = match ty {
                "Ready"
                    if contains_any(
                        msg,
                        &[
                            "container runtime",
                            "pleg is not healthy",
                            "runtimeready=false",
                            "runtime network not ready",
                            "containerd",
                            "cri-o",
                            "docker",
                        ],
                    ) && !contains_any(msg, &["networkpluginnotready", "cni"]) =>
                {
                    (
                        "container_runtime_down",
                        0.95,
                        format!(
                            "{node} is NotReady because its container runtime is down: \"{msg}\"."
                        ),
                        format!(
                            "On {}, check and restart the container runtime (`systemctl status containerd`); drain the node if it does not recover.",
                            node.name
                        ),
                    )
                }
                "Ready"
                    if contains_any(
                        msg,
                        &[
                            "networkpluginnotready",
                            "cni plugin not initialized",
                            "network plugin",
                        ],
                    ) =>
                {
                    (
                        "node_network_degraded",
                        0.85,
                        format!(
                            "{node} is NotReady because its network plugin is not ready: \"{msg}\"."
                        ),
                        format!("Check the CNI pod on {} and its logs.", node.name),
                    )
                }
                "Ready"
                    if contains_any(msg, &["kubelet stopped posting", "kubelet stopped"])
                        || status == "Unknown" =>
                {
                    // The machine still answers (its node exporter is up) while the kubelet is silent.
                    let alive = cap.metrics.iter().find(|s| {
                        s.name == "up"
                            && (s.label("node") == node.name
                                || s.label("instance").starts_with(&node.name))
                            && !s.label("job").contains("kubelet")
                            && s.points.last().is_some_and(|p| p.1 >= 1.0)
                    });
                    let kubelet_logs = ctx
                        .logs_matching("", "", &["kubelet"])
                        .into_iter()
                        .filter(|l| l.line.contains(&node.name))
                        .collect::<Vec<_>>();
                    if let Some(s) = alive {
                        cites.push(ctx.note(
                            EvidenceKind::Metric,
                            &node,
                            s.points.last().map(|p| p.0),
                            format!("{} = 1: the machine answers", s.text()),
                        ));
                        (
                            "kubelet_down",
                            0.93,
                            format!(
                                "{node} stopped reporting, yet the machine still answers: its kubelet is down."
                            ),
                            format!(
                                "On {}, check `systemctl status kubelet` and its journal; restart it.",
                                node.name
                            ),
                        )
                    } else if let Some(lid) = ctx.note_logs(&node, &kubelet_logs) {
                        cites.push(lid);
                        (
                            "kubelet_down",
                            0.9,
                            format!(
                                "{node} stopped reporting and the kubelet on it is reported down."
                            ),
                            format!(
                                "On {}, check `systemctl status kubelet` and its journal; restart it.",
                                node.name
                            ),
                        )
                    } else {
                        (
                            "node_not_ready",
                            0.92,
                            format!(
                                "{node} stopped reporting its status ({on_node} pods on it): \"{msg}\"."
                            ),
                            format!(
                                "Check whether {} is up (console, cloud provider); cordon and drain it if it does not come back.",
                                node.name
                            ),
                        )
                    }
                }
                "Ready" => (
                    "node_not_ready",
                    0.9,
                    format!("{node} is NotReady{}.", quoted(msg)),
                    format!(
                        "Inspect {} (`kubectl describe node`); cordon and drain it while it is repaired.",
                        node.name
                    ),
                ),
                "DiskPressure" => (
                    "node_disk_pressure",
                    0.93,
                    format!(
                        "{node} is low on disk (DiskPressure) and evicts pods{}.",
                        quoted(msg)
                    ),
                    format!(
                        "Free disk on {} (images, logs, emptyDir); set ephemeral-storage limits on the pods that fill it.",
                        node.name
                    ),
                ),
                "MemoryPressure" => (
                    "node_memory_pressure",
                    0.93,
                    format!(
                        "{node} is low on memory (MemoryPressure) and evicts pods{}.",
                        quoted(msg)
                    ),
                    format!(
                        "Find the pods using memory on {} without limits; set requests/limits, or move load off the node.",
                        node.name
                    ),
                ),
                "NetworkUnavailable" => (
                    "node_network_degraded",
                    0.85,
                    format!("{node} has no network configured{}.", quoted(msg)),
                    format!("Check the network plugin on {}.", node.name),
                ),
                _ => continue,
            };
            Proposal::new(cause, node.clone(), RULE, score * near)
                .say(since(said), &cites)
                .hint(hint)
                .done(ctx);
        }
    }
}

/// Pods evicted for a node resource point at the node's pressure.
fn evictions(ctx: &mut Ctx) {
    for p in ctx.pods() {
        if str_at(p, "/status/reason") != "Evicted" {
            continue;
        }
        let msg = str_at(p, "/status/message");
        let node_name = str_at(p, "/spec/nodeName");
        let node = ObjRef::new("Node", "", node_name);
        let pod = ObjRef::of(p, "Pod");
        let cause = if contains_any(msg, &["memory"]) {
            "node_memory_pressure"
        } else if contains_any(msg, &["ephemeral-storage", "nodefs", "imagefs", "disk"]) {
            "node_disk_pressure"
        } else {
            continue;
        };
        let at = time_at(p, "/status/startTime");
        let id = ctx.note(
            EvidenceKind::Pod,
            &pod,
            at,
            format!("{pod} was evicted from {node}: {msg}"),
        );
        Proposal::new(cause, node.clone(), RULE, 0.8 * ctx.near(at))
            .related([pod.clone()])
            .say(format!("{pod} was evicted from {node}{}.", quoted(msg)), &[id])
            .hint(format!("Relieve {node_name}: find what consumes the resource; set limits on the pods that have none."))
            .done(ctx);
    }
}
