//! Pods the scheduler cannot place: FailedScheduling messages
//! (`0/3 nodes are available: 2 Insufficient cpu, 1 node(s) had untolerated taint …`)
//! read reason by reason, checked against the nodes in the capture.

use serde_json::Value;

use super::{Ctx, Proposal, latest, pod_ref};
use crate::evidence::EvidenceKind;
use crate::kube::{ObjRef, arr_at, labels_at, str_at, time_at};

const RULE: &str = "scheduling";

/// One reason of a FailedScheduling message and how many nodes gave it.
#[derive(Debug, PartialEq)]
pub(crate) struct Reason {
    pub nodes: u32,
    pub text: String,
}

/// `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had … .` → reasons.
pub(crate) fn reasons(message: &str) -> (u32, Vec<Reason>) {
    let body = message.split(" preemption:").next().unwrap_or(message);
    let total = body
        .split('/')
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let Some((_, list)) = body.split_once("available:") else {
        return (
            total,
            vec![Reason {
                nodes: total,
                text: body.trim().to_string(),
            }],
        );
    };
    let mut out = Vec::new();
    // Commas also appear inside taints (`{a: b}, that the pod …`): split on
    // ", <digit>" only.
    let list = list.trim().trim_end_matches('.');
    let mut start = 0;
    let bytes = list.as_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b',' && bytes.get(i + 2).is_some_and(u8::is_ascii_digit) {
            out.push(&list[start..i]);
            start = i + 1;
        }
    }
    out.push(&list[start..]);
    let reasons = out
        .into_iter()
        .map(|r| {
            let r = r.trim();
            let (n, text) = r.split_once(' ').unwrap_or(("", r));
            match n.parse() {
                Ok(nodes) => Reason {
                    nodes,
                    text: text.trim().to_string(),
                },
                Err(_) => Reason {
                    nodes: total,
                    text: r.to_string(),
                },
            }
        })
        .collect();
    (total, reasons)
}

pub(crate) fn run(ctx: &mut Ctx) {
    for p in ctx.pods() {
        if !str_at(p, "/spec/nodeName").is_empty() && str_at(p, "/status/phase") != "Pending" {
            continue;
        }
        let pod = pod_ref(p);
        let events = ctx.events_for(&pod);
        let (message, at, cite) = match latest(&events, &["FailedScheduling"]) {
            Some(e) => (e.message.clone(), e.last, ctx.note_event(e)),
            None => {
                let cond = arr_at(p, "/status/conditions").iter().find(|c| {
                    str_at(c, "/type") == "PodScheduled" && str_at(c, "/status") == "False"
                });
                let Some(c) = cond else { continue };
                let msg = str_at(c, "/message").to_string();
                if msg.is_empty() {
                    continue;
                }
                let at = time_at(c, "/lastTransitionTime");
                let id = ctx.note(
                    EvidenceKind::Pod,
                    &pod,
                    at,
                    format!("{pod} is not scheduled: {msg}"),
                );
                (msg, at, id)
            }
        };
        let (total, rs) = reasons(&message);
        let near = ctx.near(at);
        let owners = ctx.workload_of(p);
        for r in &rs {
            let share = if total > 0 {
                f64::from(r.nodes) / f64::from(total)
            } else {
                1.0
            };
            let base = 0.6 + 0.35 * share.min(1.0);
            if let Some(prop) = classify(ctx, p, &pod, r, &cite) {
                prop.scale(base * near).related(owners.clone()).done(ctx);
            }
        }
    }
}

fn classify(ctx: &mut Ctx, p: &Value, pod: &ObjRef, r: &Reason, cite: &str) -> Option<Proposal> {
    let t = r.text.to_ascii_lowercase();
    let cite = cite.to_string();
    let nodes = ctx.cap.objects.of_kind("Node");
    if t.contains("insufficient cpu") || t.contains("insufficient memory") {
        let (cause, res) = if t.contains("cpu") {
            ("insufficient_cpu", "cpu")
        } else {
            ("insufficient_memory", "memory")
        };
        let req = requests(p, res);
        let mut sent = Proposal::new(cause, pod.clone(), RULE, 1.0).say(
            format!("The scheduler found no node with enough {res} for {pod}: {} of the nodes answered \"{}\".", r.nodes, r.text),
            std::slice::from_ref(&cite),
        );
        if req > 0.0 {
            let free = nodes
                .iter()
                .map(|n| {
                    crate::kube::quantity(str_at(n, &format!("/status/allocatable/{res}")))
                        .unwrap_or(0.0)
                })
                .fold(0.0_f64, f64::max);
            let shown = |x: f64| {
                if res == "cpu" {
                    format!("{x} cores")
                } else {
                    crate::kube::bytes_human(x)
                }
            };
            let id = ctx.note(
                EvidenceKind::Spec,
                pod,
                None,
                format!("{pod} requests {} of {res}", shown(req)),
            );
            sent = sent.say(
                format!(
                    "It requests {} of {res}; the largest node offers {} allocatable in total.",
                    shown(req),
                    shown(free)
                ),
                &[id],
            );
        }
        return Some(sent.hint(format!(
            "Lower the pod's {res} request, free {res} by scaling other workloads down, or add a node with more {res}."
        )));
    }
    if t.contains("node affinity/selector")
        || t.contains("node selector")
        || t.contains("didn't match node affinity")
    {
        let sel = labels_at(p, "/spec/nodeSelector");
        let missing: Vec<String> = sel
            .iter()
            .filter(|(k, v)| {
                !nodes
                    .iter()
                    .any(|n| labels_at(n, "/metadata/labels").get(*k) == Some(*v))
            })
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !missing.is_empty() || p.pointer("/spec/affinity/nodeAffinity").is_none() {
            let id = ctx.note(
                EvidenceKind::Spec,
                pod,
                None,
                format!("{pod} has nodeSelector {}", fmt_map(&sel)),
            );
            let mut prop = Proposal::new("node_selector_mismatch", pod.clone(), RULE, 1.0).say(
                format!("No node matched the placement of {pod}: \"{}\".", r.text),
                &[cite],
            );
            if !missing.is_empty() {
                prop = prop.say(
                    format!(
                        "Its nodeSelector asks for {}, which no node in the capture carries.",
                        missing.join(", ")
                    ),
                    &[id],
                );
            }
            return Some(prop.hint(
                "Fix the nodeSelector to a label the nodes carry, or label the intended nodes.",
            ));
        }
        let aff = p
            .pointer("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution")
            .map(Value::to_string)
            .unwrap_or_default();
        let id = ctx.note(
            EvidenceKind::Spec,
            pod,
            None,
            format!("{pod} requires node affinity {aff}"),
        );
        return Some(
            Proposal::new("node_affinity_mismatch", pod.clone(), RULE, 1.0)
                .say(format!("No node satisfies the required node affinity of {pod}: \"{}\".", r.text), &[cite, id])
                .hint("Relax the required node affinity (or make it preferred), or label nodes to match."),
        );
    }
    if t.contains("anti-affinity") {
        return Some(
            Proposal::new("pod_anti_affinity_conflict", pod.clone(), RULE, 1.0)
                .say(format!("Pod anti-affinity leaves no node for {pod}: \"{}\".", r.text), &[cite])
                .hint("Use preferred instead of required anti-affinity, or add nodes (replicas ≤ eligible nodes)."),
        );
    }
    if t.contains("pod affinity") {
        return Some(
            Proposal::new("pod_affinity_mismatch", pod.clone(), RULE, 1.0)
                .say(
                    format!(
                        "No node runs the pods {pod} must be placed with: \"{}\".",
                        r.text
                    ),
                    &[cite],
                )
                .hint("Check the affinity's label selector and that the target pods are running."),
        );
    }
    if t.contains("unschedulable") {
        let cordoned: Vec<String> = nodes
            .iter()
            .filter(|n| n.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true))
            .map(|n| str_at(n, "/metadata/name").to_string())
            .collect();
        let mut prop = Proposal::new("node_cordoned", pod.clone(), RULE, 1.0).say(
            format!(
                "The scheduler skipped cordoned nodes for {pod}: \"{}\".",
                r.text
            ),
            &[cite],
        );
        for n in &cordoned {
            let node = ObjRef::new("Node", "", n);
            let id = ctx.note(
                EvidenceKind::Node,
                &node,
                None,
                format!("{node} is cordoned (spec.unschedulable)"),
            );
            prop = prop
                .say(format!("{node} is cordoned."), &[id])
                .related([node]);
        }
        return Some(prop.hint(format!(
            "Uncordon the node once its maintenance is over (`kubectl uncordon {}`).",
            cordoned.first().map(String::as_str).unwrap_or("NODE")
        )));
    }
    if t.contains("taint") {
        let taint = r
            .text
            .split('{')
            .nth(1)
            .and_then(|s| s.split('}').next())
            .unwrap_or("")
            .to_string();
        let key = taint.split(':').next().unwrap_or("").trim().to_string();
        let cause = match key.as_str() {
            "node.kubernetes.io/not-ready" | "node.kubernetes.io/unreachable" => "node_not_ready",
            "node.kubernetes.io/disk-pressure" => "node_disk_pressure",
            "node.kubernetes.io/memory-pressure" => "node_memory_pressure",
            _ => "untolerated_taint",
        };
        let score = if cause == "untolerated_taint" {
            1.0
        } else {
            0.7
        };
        let tainted: Vec<ObjRef> = nodes
            .iter()
            .filter(|n| {
                arr_at(n, "/spec/taints")
                    .iter()
                    .any(|x| str_at(x, "/key") == key)
            })
            .map(|n| ObjRef::of(n, "Node"))
            .collect();
        return Some(
            Proposal::new(cause, pod.clone(), RULE, score)
                .related(tainted)
                .say(format!("The nodes carry a taint {pod} does not tolerate: {{{taint}}}."), &[cite])
                .hint(format!("Add a toleration for {key} to the pod template if it belongs on those nodes, or remove the taint.")),
        );
    }
    if t.contains("persistentvolumeclaim") && t.contains("not found") {
        return Some(
            Proposal::new("pvc_missing", pod.clone(), RULE, 0.9)
                .say(
                    format!("{pod} mounts a claim that does not exist: \"{}\".", r.text),
                    &[cite],
                )
                .hint("Create the claim or fix its name in the pod template."),
        );
    }
    // Unbound claims and volume affinity are explained by the volumes rule.
    None
}

fn requests(p: &Value, res: &str) -> f64 {
    arr_at(p, "/spec/containers")
        .iter()
        .filter_map(|c| crate::kube::quantity(str_at(c, &format!("/resources/requests/{res}"))))
        .sum()
}

pub(crate) fn fmt_map(m: &std::collections::BTreeMap<String, String>) -> String {
    let v: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", v.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_scheduling_messages_split_into_reasons() {
        let (n, r) = reasons(
            "0/3 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
        );
        assert_eq!(n, 3);
        assert_eq!(
            r,
            vec![
                Reason {
                    nodes: 1,
                    text: "Insufficient memory".into()
                },
                Reason {
                    nodes: 2,
                    text: "node(s) had untolerated taint {dedicated: gpu}".into()
                },
            ]
        );
        let (_, r) = reasons(
            "0/2 nodes are available: 2 node(s) had taint {a: b}, that the pod didn't tolerate.",
        );
        assert_eq!(r.len(), 1);
        let (_, r) = reasons("pod has unbound immediate PersistentVolumeClaims");
        assert_eq!(
            r[0].text,
            "pod has unbound immediate PersistentVolumeClaims"
        );
    }
}
