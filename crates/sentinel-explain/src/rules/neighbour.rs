//! A noisy neighbour: a pod whose CPU jumped at the onset (or that arrived
//! then, using CPU it did not use before) while other pods on its node
//! slowed down.

use std::collections::BTreeMap;

use super::performance::{GUARD_MS, RULE, moved};
use super::{Ctx, Proposal};
use crate::evidence::EvidenceKind;
use crate::kube::{ObjRef, str_at, time_at};
use crate::metrics::{Series, Shift, shift_from_nothing};

/// How long before the noisy pod's change a victim's may show (a scrape
/// or two of lag between series).
const VICTIM_LAG_MS: i64 = 60_000;

/// How long after the noisy pod's change a victim's readings are judged:
/// a larger slowdown later (a fault of its own, or the next incident's)
/// would otherwise set its level and date its change.
const VICTIM_WINDOW_MS: i64 = 3 * 60_000;

/// A pod's CPU use: cAdvisor's counter, or a recording rule's rate of it
/// (what the app's own captures hold), in cores.
fn is_pod_cpu(name: &str) -> bool {
    name == "container_cpu_usage_seconds_total"
        || name.ends_with(":container_cpu_usage_seconds_total:sum_rate")
        || name.ends_with(":container_cpu_usage_seconds_total:sum_irate")
}

/// How the CPU of a pod created after the baseline window moved: from
/// nothing, since it did not run before (a batch job's pod that lands on a
/// node). None for a pod older than that or not in the capture, and for a
/// replacement: a pod whose controller (the top of its owner chain, the
/// Deployment over a ReplicaSet) had a pod before brings that pod's load
/// (an eviction, a rollout). A Job's pod is new work at every run.
fn arrived(
    ctx: &Ctx,
    namespace: &str,
    pod: &str,
    usage: &[(sentinel_model::Timestamp, f64)],
) -> Option<Shift> {
    let cut = ctx.cap.onset.0 - GUARD_MS;
    let created = |p: &serde_json::Value| time_at(p, "/metadata/creationTimestamp");
    let objects = &ctx.cap.objects;
    let p = objects.find("Pod", namespace, pod)?;
    if created(p)?.0 < cut {
        return None;
    }
    let owners = objects.owners(p);
    if let Some(top) = owners.last()
        && owners[0].kind != "Job"
    {
        let replaces = ctx.pods().iter().any(|q| {
            str_at(q, "/metadata/namespace") == namespace
                && created(q).is_some_and(|t| t.0 < cut)
                && objects.owners(q).last() == Some(top)
        });
        if replaces {
            return None;
        }
    }
    shift_from_nothing(usage)
}

/// Sum of the rates of several series, aligned by time.
fn sum_rates<'s>(
    series: impl Iterator<Item = &'s Series>,
) -> Vec<(sentinel_model::Timestamp, f64)> {
    let mut by: BTreeMap<i64, f64> = BTreeMap::new();
    for s in series {
        for (t, v) in s.values() {
            *by.entry(t.0).or_default() += v;
        }
    }
    by.into_iter()
        .map(|(t, v)| (sentinel_model::Timestamp(t), v))
        .collect()
}

fn node_of(ctx: &Ctx, s: &Series) -> String {
    let n = s.label("node");
    if !n.is_empty() {
        return n.to_string();
    }
    ctx.cap
        .objects
        .find("Pod", s.label("namespace"), s.label("pod"))
        .map(|p| str_at(p, "/spec/nodeName").to_string())
        .unwrap_or_default()
}

/// A pod whose CPU jumped at the onset while its neighbours suffered.
pub(super) fn noisy(ctx: &mut Ctx) -> Vec<String> {
    let cap = ctx.cap;
    let mut pods: BTreeMap<(String, String), Vec<&Series>> = BTreeMap::new();
    for s in cap
        .metrics
        .iter()
        .filter(|s| is_pod_cpu(&s.name) && !s.label("pod").is_empty())
    {
        if matches!(s.label("container"), "" | "POD")
            && cap.metrics.iter().any(|o| {
                o.name == s.name
                    && o.label("pod") == s.label("pod")
                    && !matches!(o.label("container"), "" | "POD")
            })
        {
            continue;
        }
        pods.entry((s.label("namespace").to_string(), s.label("pod").to_string()))
            .or_default()
            .push(s);
    }
    let mut out = Vec::new();
    let mut best: Option<(f64, ObjRef, String, Shift, String)> = None;
    for ((ns, pod), series) in &pods {
        let usage = sum_rates(series.iter().copied());
        let Some(sh) = moved(ctx, &usage).or_else(|| arrived(ctx, ns, pod, &usage)) else {
            continue;
        };
        // A pod that came or grew well after the onset is a later load,
        // not this incident's cause.
        if sh.z < 5.0
            || sh.after - sh.before < 0.4
            || sh.ratio() < 2.5
            || ctx.after_onset(sh.changed_at)
        {
            continue;
        }
        let node = node_of(ctx, series[0]);
        let gain = sh.after - sh.before;
        if best.as_ref().is_none_or(|b| gain > b.0) {
            best = Some((
                gain,
                ObjRef::new("Pod", ns, pod),
                node,
                sh,
                series[0].text(),
            ));
        }
    }
    let Some((_, noisy, node, sh, text)) = best else {
        return out;
    };
    if node.is_empty() {
        return out;
    }
    // Victims: other pods on the node whose latency, errors or throttling
    // rose, once the noisy pod had (a step's lag allowed): a pod that was
    // already slow for another reason is not its victim.
    let since = sh.changed_at.map(|t| t.0 - VICTIM_LAG_MS);
    let until = sh.changed_at.unwrap_or(cap.onset).0 + VICTIM_WINDOW_MS;
    let victims: Vec<(&Series, Shift)> = cap
        .metrics
        .iter()
        .filter(|s| {
            s.label("pod") != noisy.name && !s.label("pod").is_empty() && node_of(ctx, s) == node
        })
        .filter(|s| {
            s.name.contains("latency")
                || s.name.contains("duration")
                || s.name.contains("throttled")
                || s.name.contains("error")
        })
        .filter_map(|s| {
            let mut points = s.values();
            points.retain(|p| p.0.0 <= until);
            moved(ctx, &points)
                .filter(|v| v.z > 4.0)
                .filter(|v| match (since, v.changed_at) {
                    (Some(since), Some(at)) => at.0 >= since,
                    (Some(_), None) => false,
                    (None, _) => true,
                })
                .map(|v| (s, v))
        })
        .collect();
    let nid = ctx.note(
        EvidenceKind::Metric,
        &noisy,
        sh.changed_at,
        format!(
            "{text} (summed over containers): {:.2} cores before, {:.2} after",
            sh.before, sh.after
        ),
    );
    let mut cites = vec![nid];
    let mut victim_pods: Vec<ObjRef> = Vec::new();
    for (s, v) in victims.iter().take(3) {
        let r = ObjRef::new("Pod", s.label("namespace"), s.label("pod"));
        cites.push(ctx.note(
            EvidenceKind::Metric,
            &r,
            v.changed_at,
            format!("{}: {:.3} before, {:.3} after", s.text(), v.before, v.after),
        ));
        if !victim_pods.contains(&r) {
            victim_pods.push(r);
        }
    }
    if victim_pods.is_empty() {
        return out;
    }
    out.push(node.clone());
    let owners = cap
        .objects
        .find("Pod", &noisy.namespace, &noisy.name)
        .map(|p| cap.objects.owners(p))
        .unwrap_or_default();
    Proposal::new("noisy_neighbor", noisy.clone(), RULE, 0.92 * ctx.near(sh.changed_at))
        .related(owners)
        .related([ObjRef::new("Node", "", &node)])
        .related(victim_pods.clone())
        .say(format!("{noisy} jumped from {:.2} to {:.2} cores on {node} at the onset, and {} of its neighbours slowed down.", sh.before, sh.after, victim_pods.len()), &cites)
        .hint(format!("Give {noisy} a CPU limit (or move it: a dedicated node, anti-affinity); give the latency-sensitive pods on {node} guaranteed CPU requests."))
        .done(ctx);
    out
}

#[cfg(test)]
mod tests {
    use sentinel_model::{
        ContainerState, ContainerStatus, Labels, OwnerKind, OwnerRef, PodPhase, PodState,
        Timestamp, Workload, WorkloadKind,
    };

    use crate::live::{POD_CPU, POD_P95, capture, objects_json, series, workload_json};

    const MIN: i64 = 60_000;
    const ONSET: Timestamp = Timestamp(1_790_000_000_000);

    fn pod(ns: &str, name: &str, owner: (OwnerKind, &str), created: i64) -> PodState {
        PodState {
            uid: name.into(),
            namespace: ns.into(),
            name: name.into(),
            labels: Labels::new(),
            owner: Some(OwnerRef {
                kind: owner.0,
                name: owner.1.into(),
            }),
            node: Some("node-1".into()),
            phase: PodPhase::Running,
            created_at: Timestamp(ONSET.0 + created),
            containers: vec![ContainerStatus {
                name: "main".into(),
                image: "x:1".into(),
                ready: true,
                restart_count: 0,
                state: ContainerState::Running {
                    started_at: Timestamp(ONSET.0 + created),
                },
                last_termination_reason: None,
                cpu_request_millis: 100,
                memory_limit_bytes: 1 << 30,
                ports: Default::default(),
                probes: Default::default(),
            }],
        }
    }

    /// Readings every 15 s from `from` to eight minutes after the onset.
    fn readings(from: i64, value: impl Fn(i64) -> f64) -> Vec<(Timestamp, f64)> {
        (from / 15_000..=(8 * MIN) / 15_000)
            .map(|k| (Timestamp(ONSET.0 + k * 15_000), value(k * 15_000)))
            .collect()
    }

    fn labels(p: &PodState) -> Labels {
        [
            ("namespace", p.namespace.as_str()),
            ("pod", p.name.as_str()),
            ("node", "node-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Two shop pods on node-1, calm for fifteen minutes; `newcomer` lands
    /// on it when it was created and takes three cores, and email's latency
    /// rises from then on (with one slow reading three minutes earlier,
    /// which is noise, not the change), and further four minutes later, a
    /// fault of its own. Cart's latency rose four minutes before the
    /// onset, for its own reasons.
    fn explain_with(newcomer: PodState, email_sets: &[&str]) -> crate::explain::Explanation {
        let landed = newcomer.created_at.0 - ONSET.0;
        let email = pod(
            "shop",
            "email-1",
            (OwnerKind::ReplicaSet, "email-5f"),
            -60 * MIN,
        );
        let cart = pod(
            "shop",
            "cart-1",
            (OwnerKind::ReplicaSet, "cart-7c"),
            -60 * MIN,
        );
        let mut metrics = Vec::new();
        for p in [&email, &cart] {
            metrics.push(series(POD_CPU, &labels(p), readings(-15 * MIN, |_| 0.2)));
        }
        metrics.push(series(
            POD_CPU,
            &labels(&newcomer),
            readings(landed + 15_000, |_| 3.0),
        ));
        let p95 = |t: i64| match t {
            t if t == landed - 3 * MIN => 0.4,
            t if t >= landed + 4 * MIN => 2.0,
            t if t >= landed + 15_000 => 0.5,
            t => 0.05 + 0.001 * ((t / 15_000) % 3) as f64,
        };
        metrics.push(series(POD_P95, &labels(&email), readings(-15 * MIN, p95)));
        // Cart was slow from four minutes before, for its own reasons.
        let cart_p95 = |t: i64| if t >= -4 * MIN { 0.9 } else { 0.1 };
        metrics.push(series(
            POD_P95,
            &labels(&cart),
            readings(-15 * MIN, cart_p95),
        ));
        let mut objects = objects_json([&email, &cart, &newcomer], [], []);
        // The ReplicaSets of email's Deployment, when the test has a rollout.
        for rs in email_sets {
            let w = Workload {
                kind: WorkloadKind::ReplicaSet,
                namespace: "shop".into(),
                name: rs.to_string(),
                owner: Some("email".into()),
                revision: "1".into(),
                images: Vec::new(),
                replicas: 1,
                ready: 1,
                created_at: Timestamp(ONSET.0 - 60 * MIN),
                batch: None,
                rollout: None,
            };
            if let Some(items) = objects["items"].as_array_mut() {
                items.push(workload_json(&w));
            }
        }
        crate::explain(&capture(ONSET, objects, metrics))
    }

    #[test]
    fn a_pod_that_lands_and_takes_the_cpu_is_a_noisy_neighbour() {
        let job = pod("batch", "reindex-1", (OwnerKind::Job, "reindex"), -MIN);
        let e = explain_with(job, &[]);
        let top = e.top().expect("a cause");
        assert_eq!(
            (top.cause.as_str(), top.object.name.as_str()),
            ("noisy_neighbor", "reindex-1"),
            "{}",
            e.render()
        );
        let text = e.render();
        assert!(text.contains("from 0.00 to 3.00 cores"), "{text}");
        // The victim's change is dated where its latency stayed up, not
        // by its larger slowdown later.
        let victim = e
            .evidence
            .iter()
            .find(|v| v.subject.name == "email-1")
            .expect("email's latency cited");
        assert_eq!(victim.at, Some(Timestamp(ONSET.0 - 45_000)), "{victim:?}");
        // Cart, slow before it came, is not its victim.
        assert!(text.contains("1 of its neighbours slowed down"), "{text}");
        assert!(
            e.evidence.iter().all(|v| v.subject.name != "cart-1"),
            "{text}"
        );
    }

    /// A job that lands three minutes after the onset, slowing its
    /// neighbours from then on, is a later load, not this incident's cause.
    #[test]
    fn a_pod_that_lands_well_after_the_onset_is_not_its_cause() {
        let job = pod("batch", "reindex-1", (OwnerKind::Job, "reindex"), 3 * MIN);
        let e = explain_with(job, &[]);
        assert!(
            e.candidates.iter().all(|c| c.cause != "noisy_neighbor"),
            "{}",
            e.render()
        );
        // A minute after the onset, it still is (a scrape's lag, a slow
        // first alert).
        let job = pod("batch", "reindex-1", (OwnerKind::Job, "reindex"), MIN);
        let e = explain_with(job, &[]);
        assert_eq!(
            e.top().map(|c| c.cause.as_str()),
            Some("noisy_neighbor"),
            "{}",
            e.render()
        );
    }

    /// A pod that replaces one of its controller's (evicted, or rolled out
    /// under a new ReplicaSet of the same Deployment) brings the load its
    /// predecessor had: it did not arrive from nothing.
    #[test]
    fn a_replacement_pod_is_not_a_newcomer() {
        let replacement = pod("shop", "email-2", (OwnerKind::ReplicaSet, "email-5f"), -MIN);
        let e = explain_with(replacement, &[]);
        assert!(
            e.candidates.iter().all(|c| c.cause != "noisy_neighbor"),
            "{}",
            e.render()
        );
        let rolled = pod("shop", "email-2", (OwnerKind::ReplicaSet, "email-9a"), -MIN);
        let e = explain_with(rolled, &["email-5f", "email-9a"]);
        assert!(
            e.candidates.iter().all(|c| c.cause != "noisy_neighbor"),
            "{}",
            e.render()
        );
    }
}
