//! Slowness, read from metrics: throttling, a noisy neighbour, a saturated
//! node, a slow dependency (its own file), an autoscaler at its ceiling, a
//! node whose network drops packets.

use std::collections::BTreeMap;

use super::{Ctx, Proposal};
use crate::evidence::EvidenceKind;
use crate::kube::{ObjRef, i64_at, quantity, str_at};
use crate::metrics::{Series, Shift, shift};

pub(super) const RULE: &str = "metrics";
/// The baseline ends this long before the onset, so an onset given a few
/// minutes late still compares the change against calm data.
pub(super) const GUARD_MS: i64 = crate::metrics::BASELINE_GUARD_MS;

pub(super) fn moved(ctx: &Ctx, points: &[(sentinel_model::Timestamp, f64)]) -> Option<Shift> {
    shift(points, ctx.cap.onset, GUARD_MS)
}

pub(crate) fn run(ctx: &mut Ctx) {
    if !ctx.cap.metrics.is_empty() {
        throttling(ctx);
        let noisy_nodes = super::neighbour::noisy(ctx);
        saturation(ctx, &noisy_nodes);
        super::dependency::run(ctx, &noisy_nodes);
        node_network(ctx);
    }
    hpa(ctx);
}

fn throttling(ctx: &mut Ctx) {
    let cap = ctx.cap;
    for s in cap
        .metrics
        .iter()
        .filter(|s| s.name == "container_cpu_cfs_throttled_periods_total")
    {
        let (pod, container) = (s.label("pod"), s.label("container"));
        let total = cap.metrics.iter().find(|t| {
            t.name == "container_cpu_cfs_periods_total"
                && t.label("pod") == pod
                && t.label("container") == container
        });
        let thr = s.values();
        let ratio: Vec<_> = match total {
            Some(t) => {
                let tv = t.values();
                thr.iter()
                    .zip(tv.iter())
                    .map(|(a, b)| (a.0, if b.1 > 0.0 { a.1 / b.1 } else { 0.0 }))
                    .collect()
            }
            None => thr,
        };
        let Some(sh) = moved(ctx, &ratio) else {
            continue;
        };
        if sh.z < 4.0 || (total.is_some() && sh.after < 0.25) {
            continue;
        }
        let r = ObjRef::new("Pod", s.label("namespace"), pod);
        let pv = cap.objects.find("Pod", &r.namespace, pod);
        let limit = pv
            .and_then(|p| super::container_spec(p, container))
            .map(|c| str_at(c, "/resources/limits/cpu").to_string())
            .filter(|l| !l.is_empty());
        let id = ctx.note(
            EvidenceKind::Metric,
            &r,
            sh.changed_at,
            format!(
                "{}: throttled share {:.0}% before, {:.0}% after",
                s.text(),
                100.0 * sh.before,
                100.0 * sh.after
            ),
        );
        let owners = pv.map(|p| cap.objects.owners(p)).unwrap_or_default();
        let limit_text = limit
            .clone()
            .map(|l| format!(" at its CPU limit of {l}"))
            .unwrap_or_default();
        Proposal::new("cpu_throttling", r.clone(), RULE, 0.9 * ctx.near(sh.changed_at))
            .related(owners)
            .say(format!("Container {container} of {r} is throttled{limit_text}: {:.0}% of its CPU periods from the onset, {:.0}% before.", 100.0 * sh.after, 100.0 * sh.before), &[id])
            .hint(format!("Raise (or remove) the CPU limit{}, or reduce the work per pod (scale out).", limit.map(|l| format!(" of {l}")).unwrap_or_default()))
            .done(ctx);
    }
}

/// Node CPU utilisation in [0, 1], per node, from whatever the capture has.
fn node_utilisation(
    ctx: &Ctx,
) -> BTreeMap<String, (Vec<(sentinel_model::Timestamp, f64)>, String)> {
    let cap = ctx.cap;
    let mut out = BTreeMap::new();
    for s in &cap.metrics {
        let node = if s.label("node").is_empty() {
            s.label("instance").split(':').next().unwrap_or("")
        } else {
            s.label("node")
        };
        if node.is_empty() {
            continue;
        }
        let cores = cap.objects.find("Node", "", node).and_then(|n| {
            quantity(str_at(n, "/status/capacity/cpu"))
                .or_else(|| quantity(str_at(n, "/status/allocatable/cpu")))
        });
        let util: Option<Vec<_>> =
            if s.name.contains("cpu_utili") || s.name.contains("cpu_usage_ratio") {
                Some(s.values())
            } else if s.name == "node_cpu_usage_seconds_total" {
                cores.map(|c| s.values().into_iter().map(|(t, v)| (t, v / c)).collect())
            } else {
                None
            };
        if let Some(u) = util {
            out.insert(node.to_string(), (u, s.text()));
        }
    }
    out
}

fn saturation(ctx: &mut Ctx, noisy_nodes: &[String]) {
    for (node, (util, text)) in node_utilisation(ctx) {
        let Some(sh) = moved(ctx, &util) else {
            continue;
        };
        if sh.after < 0.9 || sh.before > 0.85 {
            continue;
        }
        let r = ObjRef::new("Node", "", &node);
        let id = ctx.note(
            EvidenceKind::Metric,
            &r,
            sh.changed_at,
            format!(
                "{text}: {:.0}% before, {:.0}% after",
                100.0 * sh.before,
                100.0 * sh.after
            ),
        );
        let score = if noisy_nodes.contains(&node) {
            0.55
        } else {
            0.85
        };
        Proposal::new("cpu_saturation", r.clone(), RULE, score * ctx.near(sh.changed_at))
            .say(format!("{r} runs at {:.0}% CPU from the onset (it was at {:.0}%).", 100.0 * sh.after, 100.0 * sh.before), &[id])
            .hint(format!("Add capacity or spread the load off {node} (requests that reflect real use let the scheduler do it)."))
            .done(ctx);
    }
}

fn node_network(ctx: &mut Ctx) {
    let cap = ctx.cap;
    let mut by_node: BTreeMap<String, (&Series, Shift)> = BTreeMap::new();
    for s in cap.metrics.iter().filter(|s| {
        s.name.starts_with("node_network_")
            && (s.name.contains("drop") || s.name.contains("errs") || s.name.contains("retrans"))
            || s.name.starts_with("node_netstat_Tcp_RetransSegs")
    }) {
        let node = if s.label("node").is_empty() {
            s.label("instance").split(':').next().unwrap_or("")
        } else {
            s.label("node")
        };
        if node.is_empty() {
            continue;
        }
        if let Some(sh) = moved(ctx, &s.values()).filter(|v| v.z > 5.0 && v.after > 0.0) {
            by_node.entry(node.to_string()).or_insert((s, sh));
        }
    }
    for (node, (s, sh)) in by_node {
        let r = ObjRef::new("Node", "", &node);
        let id = ctx.note(
            EvidenceKind::Metric,
            &r,
            sh.changed_at,
            format!(
                "{}: {:.2}/s before, {:.2}/s after",
                s.text(),
                sh.before,
                sh.after
            ),
        );
        Proposal::new("node_network_degraded", r.clone(), RULE, 0.85 * ctx.near(sh.changed_at))
            .say(format!("{r} started dropping or retransmitting packets at the onset ({:.2}/s, from {:.2}/s).", sh.after, sh.before), &[id])
            .hint(format!("Check {node}'s NIC, MTU and link; cordon it and move the affected pods while it is investigated."))
            .done(ctx);
    }
}

fn hpa(ctx: &mut Ctx) {
    let cap = ctx.cap;
    for h in cap.objects.of_kind("HorizontalPodAutoscaler") {
        let r = ObjRef::of(h, "HorizontalPodAutoscaler");
        let (Some(cur), Some(max)) = (
            i64_at(h, "/status/currentReplicas"),
            i64_at(h, "/spec/maxReplicas"),
        ) else {
            continue;
        };
        if cur < max {
            continue;
        }
        let limited = crate::kube::arr_at(h, "/status/conditions")
            .iter()
            .find(|c| str_at(c, "/type") == "ScalingLimited" && str_at(c, "/status") == "True");
        let at = limited.and_then(|c| crate::kube::time_at(c, "/lastTransitionTime"));
        let id = ctx.note(
            EvidenceKind::Spec,
            &r,
            at,
            format!(
                "{r}: {cur} of at most {max} replicas{}",
                limited
                    .map(|c| format!("; ScalingLimited: {}", str_at(c, "/message")))
                    .unwrap_or_default()
            ),
        );
        let target = ObjRef::new(
            str_at(h, "/spec/scaleTargetRef/kind"),
            &r.namespace,
            str_at(h, "/spec/scaleTargetRef/name"),
        );
        let score = if limited.is_some() { 0.9 } else { 0.75 };
        Proposal::new("hpa_at_max", r.clone(), RULE, score * ctx.near(at))
            .related([target.clone()])
            .say(format!("{r} runs {target} at its maximum of {max} replicas and cannot add more."), &[id])
            .hint(format!("Raise maxReplicas of {r} (check the quota and node capacity first), or make each replica handle more."))
            .done(ctx);
    }
}
