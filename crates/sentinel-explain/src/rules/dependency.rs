//! A slow dependency: the service whose latency moved first while its own
//! CPU did not, and the services that call it following. Services whose
//! latency moved at the same moment are told apart by the call graph where
//! the capture has one; without it the rule says it cannot tell.

use std::collections::{BTreeMap, BTreeSet};

use super::performance::{RULE, moved};
use super::{Ctx, Proposal};
use crate::evidence::{EvidenceId, EvidenceKind};
use crate::kube::{ObjRef, str_at};
use crate::metrics::{Series, Shift};

/// Changes this close together are one moment: a poll or two apart, their
/// times do not tell which came first.
const TOGETHER_MS: i64 = 20_000;

/// The service a series is about: the label a ServiceMonitor or a mesh
/// writes, else the workload or app.
pub(super) fn service_of(s: &Series) -> &str {
    ["service", "destination_service", "workload", "app", "job"]
        .iter()
        .map(|k| s.label(k))
        .find(|v| !v.is_empty())
        .unwrap_or("")
}

fn key(s: &Series) -> String {
    format!("{}/{}", s.label("namespace"), service_of(s))
}

struct Move<'a> {
    series: &'a Series,
    shift: Shift,
    network: bool,
}

impl Move<'_> {
    fn at(&self) -> i64 {
        self.shift.changed_at.map_or(i64::MAX, |t| t.0)
    }
}

/// Whether `from` calls `to`, directly or through other services.
fn reaches(calls: &[(String, String)], from: &str, to: &str) -> bool {
    let mut seen: BTreeSet<&str> = BTreeSet::from([from]);
    let mut todo = vec![from];
    while let Some(a) = todo.pop() {
        for (_, b) in calls.iter().filter(|(c, _)| c == a) {
            if b == to {
                return true;
            }
            if seen.insert(b) {
                todo.push(b);
            }
        }
    }
    false
}

/// Services whose latency (or network delay) moved well above its baseline,
/// each as the reading of the pod by which most of its pods had moved,
/// earliest first. A service moved only when most of its pods did: slowness
/// on some of its pods only (those on one node) is theirs, not a slow
/// dependency's, and one pod slow earlier for its own reason does not date
/// the service's change. A pod on a node a noisy neighbour took is left out.
fn moves<'a>(ctx: &Ctx<'a>, noisy_nodes: &[String]) -> Vec<Move<'a>> {
    // service → (series judged, those that moved)
    let mut by_service: BTreeMap<String, (usize, Vec<Move>)> = BTreeMap::new();
    for s in &ctx.cap.metrics {
        let network = s.name.contains("network")
            && (s.name.contains("latency") || s.name.contains("rtt") || s.name.contains("delay"));
        let gauge = !(s.name.ends_with("_bucket")
            || s.name.ends_with("_sum")
            || s.name.ends_with("_count"));
        if !(gauge && (s.name.contains("latency") || s.name.contains("duration")) || network)
            || service_of(s).is_empty()
            || noisy_nodes.iter().any(|n| n == s.label("node"))
        {
            continue;
        }
        let Some(shift) = moved(ctx, &s.values()) else {
            continue;
        };
        let entry = by_service.entry(key(s)).or_default();
        entry.0 += 1;
        if shift.z > 4.0 && shift.ratio() > 1.5 {
            entry.1.push(Move {
                series: s,
                shift,
                network,
            });
        }
    }
    let mut out: Vec<Move> = by_service
        .into_values()
        .filter(|(judged, moved)| 2 * moved.len() > *judged)
        .map(|(judged, mut moved)| {
            moved.sort_by_key(|m| (m.at(), m.series.text()));
            moved.swap_remove(judged / 2)
        })
        .collect();
    out.sort_by_key(|m| (!m.network, m.at(), m.series.text()));
    out
}

pub(super) fn run(ctx: &mut Ctx, noisy_nodes: &[String]) {
    let cap = ctx.cap;
    let moves = moves(ctx, noisy_nodes);
    let Some(first) = moves.first() else {
        return;
    };
    // The services that moved at the first one's moment; of those, the one
    // the others call (it calls none of them).
    let together: Vec<&Move> = moves
        .iter()
        .filter(|m| m.network == first.network && m.at().saturating_sub(first.at()) <= TOGETHER_MS)
        .collect();
    let sinks: Vec<&Move> = together
        .iter()
        .copied()
        .filter(|m| {
            !together
                .iter()
                .any(|o| reaches(&cap.calls, &key(m.series), &key(o.series)))
        })
        .collect();
    let root = if sinks.len() == 1 { sinks[0] } else { first };
    let undecided = together.len() > 1 && sinks.len() != 1;
    let (s, sh) = (root.series, &root.shift);
    let svc = service_of(s);
    let root_key = key(s);
    // A service whose CPU rose is saturated, not delayed on the network.
    let cpu_rose = cap
        .metrics
        .iter()
        .filter(|c| c.name.contains("cpu") && key(c) == root_key)
        .any(|c| moved(ctx, &c.values()).is_some_and(|v| v.z > 5.0 && v.ratio() > 2.0));
    if cpu_rose {
        return;
    }
    let ns = s.label("namespace");
    let subject = cap
        .objects
        .of_kind("Service")
        .iter()
        .find(|o| {
            str_at(o, "/metadata/name") == svc
                && (ns.is_empty() || str_at(o, "/metadata/namespace") == ns)
        })
        .map(|o| ObjRef::of(o, "Service"))
        .unwrap_or_else(|| ObjRef::new("Service", ns, svc));
    let moved_text = |m: &Move| {
        format!(
            "{}: {:.3} before, {:.3} after",
            m.series.text(),
            m.shift.before,
            m.shift.after
        )
    };
    let id = ctx.note(
        EvidenceKind::Metric,
        &subject,
        sh.changed_at,
        moved_text(root),
    );
    let mut cites = vec![id];
    // The others: its callers where the call graph told the first, else
    // every other service that moved.
    let callers_known = !cap.calls.is_empty() && !undecided;
    let others: Vec<&Move> = moves
        .iter()
        .filter(|m| key(m.series) != root_key)
        .filter(|m| !callers_known || reaches(&cap.calls, &key(m.series), &root_key))
        .collect();
    let service =
        |m: &Move| ObjRef::new("Service", m.series.label("namespace"), service_of(m.series));
    for m in others.iter().take(2) {
        cites.push(ctx.note(
            EvidenceKind::Metric,
            &service(m),
            m.shift.changed_at,
            moved_text(m),
        ));
    }
    let mut call_cites: Vec<EvidenceId> = Vec::new();
    for (a, b) in cap.calls.iter().filter(|(a, b)| {
        let on_path = |k: &str| k == root_key || others.iter().any(|m| key(m.series) == k);
        on_path(a) && on_path(b)
    }) {
        let (ans, aname) = a.split_once('/').unwrap_or(("", a));
        call_cites.push(ctx.note(
            EvidenceKind::Spec,
            &ObjRef::new("Service", ans, aname),
            None,
            format!("{a} calls {b} (the known service dependencies)"),
        ));
    }
    let timeouts = ctx
        .logs_matching("", "", &["deadline exceeded", "timeout", "timed out"])
        .into_iter()
        .filter(|l| l.line.contains(svc))
        .collect::<Vec<_>>();
    cites.extend(ctx.note_logs(&subject, &timeouts));
    let mut names: Vec<String> = others
        .iter()
        .map(|m| service_of(m.series).to_string())
        .collect();
    names.sort();
    names.dedup();
    // A wide incident names a few and counts the rest.
    if names.len() > 5 {
        let rest = names.len() - 4;
        names.truncate(4);
        names.push(format!("{rest} more"));
    }
    let how = format!(
        "({:.3} → {:.3}) without its CPU rising",
        sh.before, sh.after
    );
    let said = if undecided {
        format!(
            "Latency to {svc} rose {how}, at the same moment as that of {}; which of them calls which is not known, so the first is not told.",
            names.join(", ")
        )
    } else if !callers_known {
        format!(
            "Latency to {svc} rose first {how}{}.",
            if names.is_empty() {
                String::new()
            } else {
                format!("; then that of {} followed", names.join(", "))
            }
        )
    } else {
        format!(
            "Latency to {svc} rose {how}{}.",
            if names.is_empty() {
                String::new()
            } else {
                format!(
                    ", and that of the services that call it (directly or through others) rose with it or after: {}",
                    names.join(", ")
                )
            }
        )
    };
    cites.extend(call_cites);
    let score = match () {
        _ if undecided => 0.5,
        _ if root.network || !names.is_empty() => 0.85,
        _ => 0.6,
    };
    Proposal::new("dependency_network_delay", subject.clone(), RULE, score * ctx.near(sh.changed_at))
        .related(others.iter().map(|m| service(m)))
        .say(said, &cites)
        .hint(format!("Check {svc} and the network path to it: NetworkPolicy, the nodes its pods run on, a service mesh fault or cross-zone routing; raise client timeouts only as a stopgap."))
        .done(ctx);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{POD_CPU, POD_P95, capture, series};
    use sentinel_model::{Labels, Timestamp};

    const ONSET: Timestamp = Timestamp(1_790_000_000_000);

    /// Readings every 15 s from fifteen minutes before the onset to three
    /// after.
    fn readings(value: impl Fn(i64) -> f64) -> Vec<(Timestamp, f64)> {
        (-60..=12)
            .map(|k| (Timestamp(ONSET.0 + k * 15_000), value(k * 15_000)))
            .collect()
    }

    /// The demo's slowdown, as its pods' readings show it: payments slows
    /// 25-fold, and checkout (which calls it) 10-fold and frontend (which
    /// calls checkout) 3-fold, at the same reading half a minute before the
    /// onset. Their CPU does not move.
    fn slowdown(calls_known: bool) -> crate::explain::Explanation {
        let mut metrics = Vec::new();
        for (svc, base, factor) in [
            ("frontend", 0.035, 3.0),
            ("checkout", 0.06, 10.0),
            ("payments", 0.045, 25.0),
        ] {
            let labels: Labels = [
                ("namespace", "shop"),
                ("pod", &format!("{svc}-7d9f8c6b5-x2k4q")),
                ("node", "node-2"),
                ("workload", svc),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let wobble = |t: i64| 1.0 + 0.02 * ((t / 15_000) % 3) as f64;
            let p95 = move |t: i64| base * wobble(t) * if t >= -30_000 { factor } else { 1.0 };
            metrics.push(series(POD_P95, &labels, readings(p95)));
            metrics.push(series(POD_CPU, &labels, readings(move |t| 0.2 * wobble(t))));
            // A second pod of payments, on a node a noisy neighbour slowed
            // four minutes earlier: it does not date payments' change.
            if svc == "payments" {
                let mut early = labels.clone();
                early.insert("pod".into(), "payments-7d9f8c6b5-b7m2p".into());
                early.insert("node".into(), "node-1".into());
                let slow = move |t: i64| match t {
                    t if t >= -30_000 => p95(t),
                    t if t >= -4 * 60_000 => 6.0 * p95(t),
                    t => p95(t),
                };
                metrics.push(series(POD_P95, &early, readings(slow)));
            }
        }
        let mut cap = capture(
            ONSET,
            serde_json::json!({"kind": "List", "items": []}),
            metrics,
        );
        if calls_known {
            cap.calls = calls(&[
                ("shop/frontend", "shop/checkout"),
                ("shop/checkout", "shop/payments"),
            ]);
        }
        crate::explain(&cap)
    }

    #[test]
    fn services_slow_at_once_are_told_apart_by_who_calls_whom() {
        let e = slowdown(true);
        let c = e
            .candidates
            .iter()
            .find(|c| c.cause == "dependency_network_delay")
            .unwrap_or_else(|| panic!("{}", e.render()));
        assert_eq!(
            c.object.to_string(),
            "Service/shop/payments",
            "{}",
            e.render()
        );
        assert!(c.score > 0.8, "{}", e.render());
        // Dated where most of its pods slowed down.
        let first = e.evidence.iter().find(|v| v.id == c.sentences[0].cites[0]);
        assert_eq!(
            first.and_then(|v| v.at),
            Some(Timestamp(ONSET.0 - 30_000)),
            "{}",
            e.render()
        );
        let text = &c.sentences[0].text;
        assert!(
            text.contains("services that call it (directly or through others) rose with it or after: checkout, frontend"),
            "{text}"
        );
        // The calls it relies on are cited.
        let cited: Vec<&str> = e
            .evidence
            .iter()
            .filter(|v| c.sentences[0].cites.contains(&v.id))
            .map(|v| v.text.as_str())
            .collect();
        assert!(
            cited
                .iter()
                .any(|t| t.contains("shop/checkout calls shop/payments")),
            "{cited:?}"
        );
        assert_eq!(
            e.top().map(|t| t.cause.as_str()),
            Some("dependency_network_delay")
        );
    }

    /// The pods of three services on one node slow down together (a
    /// noisy neighbour there), their other pods do not: no service is slow
    /// as a whole, so none is a slow dependency.
    #[test]
    fn pods_slow_on_one_node_only_are_not_a_slow_dependency() {
        let mut metrics = Vec::new();
        for svc in ["frontend", "checkout", "payments"] {
            for node in ["node-1", "node-2"] {
                let labels: Labels = [
                    ("namespace", "shop"),
                    ("pod", &format!("{svc}-7d9f8c6b5-{node}")),
                    ("node", node),
                    ("workload", svc),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
                let slow = node == "node-1";
                let p95 = move |t: i64| {
                    let base = 0.05 * (1.0 + 0.02 * ((t / 15_000) % 3) as f64);
                    if slow && t >= -30_000 {
                        6.0 * base
                    } else {
                        base
                    }
                };
                metrics.push(series(POD_P95, &labels, readings(p95)));
            }
        }
        let mut cap = capture(
            ONSET,
            serde_json::json!({"kind": "List", "items": []}),
            metrics,
        );
        cap.calls = calls(&[
            ("shop/frontend", "shop/checkout"),
            ("shop/checkout", "shop/payments"),
        ]);
        let e = crate::explain(&cap);
        assert!(
            e.candidates
                .iter()
                .all(|c| c.cause != "dependency_network_delay"),
            "{}",
            e.render()
        );
    }

    #[test]
    fn without_the_call_graph_a_moment_shared_is_not_told_apart() {
        let e = slowdown(false);
        let c = e
            .candidates
            .iter()
            .find(|c| c.cause == "dependency_network_delay")
            .unwrap_or_else(|| panic!("{}", e.render()));
        assert!(c.score <= 0.5, "{}", e.render());
        assert!(
            c.sentences[0].text.contains("is not known"),
            "{}",
            e.render()
        );
    }

    fn calls(edges: &[(&str, &str)]) -> Vec<(String, String)> {
        edges
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn reaches_follows_calls_through_services() {
        let c = calls(&[
            ("shop/frontend", "shop/checkout"),
            ("shop/checkout", "shop/payments"),
            ("shop/payments", "shop/checkout"),
        ]);
        assert!(reaches(&c, "shop/frontend", "shop/payments"));
        assert!(!reaches(&c, "shop/payments", "shop/frontend"));
        assert!(!reaches(&c, "shop/cart", "shop/payments"));
    }
}
