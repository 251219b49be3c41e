//! The platform under the workloads: node conditions and pressure, the
//! kubelet and container runtime, kube-proxy, the scheduler, cluster DNS and
//! expired certificates.

use serde_json::Value;

use super::{Ctx, Proposal, contains_any};
use crate::evidence::EvidenceKind;
use crate::kube::{ObjRef, arr_at, labels_at, str_at, time_at};

const RULE: &str = "platform";

pub(crate) fn run(ctx: &mut Ctx) {
    super::nodes::run(ctx);
    kube_proxy(ctx);
    scheduler(ctx);
    dns(ctx);
    certificates(ctx);
}

pub(crate) fn pods_on<'a>(ctx: &Ctx<'a>, node: &str) -> Vec<&'a Value> {
    ctx.pods()
        .iter()
        .filter(|p| str_at(p, "/spec/nodeName") == node)
        .collect()
}

fn is_system(p: &Value, prefix: &str) -> bool {
    str_at(p, "/metadata/namespace") == "kube-system"
        && str_at(p, "/metadata/name").starts_with(prefix)
}

fn not_running(p: &Value) -> Option<String> {
    let phase = str_at(p, "/status/phase");
    let waiting = arr_at(p, "/status/containerStatuses")
        .iter()
        .find_map(|s| s.pointer("/state/waiting/reason").and_then(Value::as_str));
    let unready = arr_at(p, "/status/containerStatuses")
        .iter()
        .any(|s| s.get("ready").and_then(Value::as_bool) == Some(false));
    match (phase, waiting) {
        (_, Some(w)) => Some(w.to_string()),
        ("Running", None) if unready => Some("not ready".into()),
        ("Running" | "Succeeded", None) => None,
        (p, None) => Some(if p.is_empty() {
            "not running".into()
        } else {
            p.to_string()
        }),
    }
}

fn kube_proxy(ctx: &mut Ctx) {
    for p in ctx.pods() {
        if !is_system(p, "kube-proxy") {
            continue;
        }
        let Some(state) = not_running(p) else {
            continue;
        };
        let pod = ObjRef::of(p, "Pod");
        let node_name = str_at(p, "/spec/nodeName").to_string();
        let id = ctx.note(
            EvidenceKind::Pod,
            &pod,
            time_at(p, "/status/startTime"),
            format!("{pod} on {node_name}: {state}"),
        );
        let mut cites = vec![id];
        // Service traffic from pods on that node failing.
        let on_node: Vec<String> = pods_on(ctx, &node_name)
            .iter()
            .map(|q| str_at(q, "/metadata/name").to_string())
            .collect();
        let failing: Vec<_> = ctx
            .logs_matching(
                "",
                "",
                &[
                    "connection refused",
                    "i/o timeout",
                    "no route to host",
                    "connection timed out",
                ],
            )
            .into_iter()
            .filter(|l| on_node.contains(&l.pod))
            .collect();
        let mut score = 0.75;
        if let Some(lid) = ctx.note_logs(&pod, &failing) {
            cites.push(lid);
            score = 0.95;
        }
        for e in ctx.events_for(&pod).iter().filter(|e| e.warning).take(1) {
            cites.push(ctx.note_event(e));
        }
        Proposal::new("kube_proxy_down", pod.clone(), RULE, score)
            .related([ObjRef::new("Node", "", &node_name), ObjRef::new("DaemonSet", "kube-system", "kube-proxy")])
            .say(format!("kube-proxy on {node_name} is {state}, so Service addresses do not route from that node."), &cites)
            .hint(format!("Restart kube-proxy on {node_name} (delete its pod) and read its log for the error."))
            .done(ctx);
    }
}

fn scheduler(ctx: &mut Ctx) {
    let cap = ctx.cap;
    let pending: Vec<&Value> = ctx
        .pods()
        .iter()
        .filter(|p| {
            str_at(p, "/status/phase") == "Pending" && str_at(p, "/spec/nodeName").is_empty()
        })
        .filter(|p| {
            let r = ObjRef::of(p, "Pod");
            !cap.objects
                .events_for(&r)
                .any(|e| e.reason == "FailedScheduling")
                && !arr_at(p, "/status/conditions").iter().any(|c| {
                    str_at(c, "/type") == "PodScheduled" && !str_at(c, "/message").is_empty()
                })
        })
        .collect();
    if pending.is_empty() {
        return;
    }
    let sched: Vec<&Value> = ctx
        .pods()
        .iter()
        .filter(|p| is_system(p, "kube-scheduler"))
        .collect();
    let down = sched.iter().find_map(|p| not_running(p).map(|s| (*p, s)));
    let first = ObjRef::of(pending[0], "Pod");
    let pid = ctx.note(
        EvidenceKind::Pod,
        &first,
        time_at(pending[0], "/metadata/creationTimestamp"),
        format!(
            "{} pods pending with no node and no scheduling event, e.g. {first}",
            pending.len()
        ),
    );
    let (subject, score, mut cites, said) = match down {
        Some((p, state)) => {
            let r = ObjRef::of(p, "Pod");
            let id = ctx.note(EvidenceKind::Pod, &r, None, format!("{r}: {state}"));
            (
                r,
                0.95,
                vec![pid, id],
                format!(
                    "The scheduler is {state}: {} new pods wait with no node and no scheduling attempt.",
                    pending.len()
                ),
            )
        }
        None if sched.is_empty() && pending.len() >= 2 => (
            ObjRef::new("Pod", "kube-system", "kube-scheduler"),
            0.6,
            vec![pid],
            format!(
                "{} new pods wait with no node and no scheduling attempt, as when no scheduler runs.",
                pending.len()
            ),
        ),
        None => return,
    };
    let logs = ctx.logs_matching(
        "kube-system",
        "",
        &["kube-scheduler", "leaderelection", "scheduler"],
    );
    cites.extend(ctx.note_logs(&subject, &logs));
    Proposal::new("scheduler_down", subject, RULE, score)
        .related(pending.iter().map(|p| ObjRef::of(p, "Pod")).take(5))
        .say(said, &cites)
        .hint("Check the kube-scheduler static pod on the control plane (its manifest and log); pods are placed once it runs.")
        .done(ctx);
}

fn dns(ctx: &mut Ctx) {
    let cap = ctx.cap;
    let coredns: Vec<&Value> = ctx
        .pods()
        .iter()
        .filter(|p| str_at(p, "/metadata/namespace") == "kube-system")
        .filter(|p| {
            labels_at(p, "/metadata/labels")
                .get("k8s-app")
                .is_some_and(|v| v == "kube-dns")
                || str_at(p, "/metadata/name").starts_with("coredns")
        })
        .collect();
    let broken: Vec<(&Value, String)> = coredns
        .iter()
        .filter_map(|p| not_running(p).map(|s| (*p, s)))
        .collect();
    // Lookups of names that are Services (or anything) timing out / failing in several pods.
    let failing: Vec<_> = ctx
        .logs_matching(
            "",
            "",
            &[
                "lookup ",
                "could not resolve",
                "name resolution",
                "temporary failure in name resolution",
            ],
        )
        .into_iter()
        .filter(|l| {
            contains_any(
                &l.line,
                &[
                    "i/o timeout",
                    "server misbehaving",
                    "temporary failure",
                    "connection refused",
                    "no such host",
                    "could not resolve",
                ],
            )
        })
        .filter(|l| {
            let Some(h) = super::routing::host_in(&l.line) else {
                return true;
            };
            let name = h.split('.').next().unwrap_or("");
            // A name no Service has is the wrong-address rule's, unless DNS is down too.
            cap.objects.of_kind("Service").is_empty()
                || cap
                    .objects
                    .of_kind("Service")
                    .iter()
                    .any(|s| str_at(s, "/metadata/name") == name)
                || contains_any(&l.line, &["i/o timeout", "server misbehaving"])
        })
        .collect();
    let mut pods: Vec<&str> = failing.iter().map(|l| l.pod.as_str()).collect();
    pods.sort_unstable();
    pods.dedup();
    if broken.is_empty() && pods.len() < 2 {
        return;
    }
    let subject = ObjRef::new("Deployment", "kube-system", "coredns");
    let mut cites = Vec::new();
    for (p, s) in &broken {
        let r = ObjRef::of(p, "Pod");
        cites.push(ctx.note(EvidenceKind::Pod, &r, None, format!("{r}: {s}")));
    }
    let lid = ctx.note_logs(&subject, &failing);
    cites.extend(lid);
    let score = match (broken.is_empty(), pods.len()) {
        (false, n) if n >= 1 => 0.95,
        (false, _) => 0.8,
        (true, n) if n >= 3 => 0.85,
        _ => 0.7,
    };
    let said = if broken.is_empty() {
        format!(
            "Name lookups fail in {} pods at once, including names that exist: cluster DNS is failing.",
            pods.len()
        )
    } else {
        format!(
            "{} of {} CoreDNS pods are not serving, and lookups fail in {} pods.",
            broken.len(),
            coredns.len().max(broken.len()),
            pods.len()
        )
    };
    let near = ctx.near(failing.first().and_then(|l| l.at));
    Proposal::new("dns_failure", subject, RULE, score * near)
        .related([ObjRef::new("Service", "kube-system", "kube-dns")])
        .related(broken.iter().map(|(p, _)| ObjRef::of(p, "Pod")))
        .say(said, &cites)
        .hint("Check the CoreDNS pods and their log (`kubectl -n kube-system logs -l k8s-app=kube-dns`), the kube-dns Service endpoints and any NetworkPolicy blocking port 53.")
        .done(ctx);
}

fn certificates(ctx: &mut Ctx) {
    let cap = ctx.cap;
    let lines = ctx.logs_matching(
        "",
        "",
        &[
            "certificate has expired",
            "certificate expired",
            "x509: certificate has expired",
        ],
    );
    let Some(first) = lines.first() else { return };
    // The server whose certificate expired, when the line names it.
    let target = first
        .line
        .split("https://")
        .nth(1)
        .map(|s| {
            s.split(['/', ':', '"', ' '])
                .next()
                .unwrap_or("")
                .to_string()
        })
        .filter(|s| !s.is_empty());
    let pod = ObjRef::new("Pod", &first.namespace, &first.pod);
    let subject = target
        .as_ref()
        .and_then(|h| {
            let name = h.split('.').next()?;
            let ns = h.split('.').nth(1).unwrap_or(&first.namespace);
            cap.objects
                .find("Service", ns, name)
                .map(|_| ObjRef::new("Service", ns, name))
        })
        .unwrap_or_else(|| pod.clone());
    let Some(lid) = ctx.note_logs(&pod, &lines) else {
        return;
    };
    let near = ctx.near(first.at);
    Proposal::new("certificate_expired", subject, RULE, 0.93 * near)
        .related([pod])
        .say(format!("TLS handshakes fail because a certificate has expired{}.", target.map(|t| format!(" (server {t})")).unwrap_or_default()), &[lid])
        .hint("Renew the certificate (cert-manager: check the Certificate and its issuer), update the Secret, and restart what caches it.")
        .done(ctx);
}
