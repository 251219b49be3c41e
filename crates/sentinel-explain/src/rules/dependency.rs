//! A slow dependency: the service whose latency moved first while its own
//! CPU did not, and the services that call it following. Services whose
//! latency moved at the same moment are told apart by the call graph where
//! the capture has one; without it the rule says it cannot tell.

use std::collections::{BTreeMap, BTreeSet};

use super::performance::{RULE, moved};
use super::{Ctx, Proposal};
use crate::evidence::{EvidenceId, EvidenceKind};
use crate::kube::{ObjRef, i64_at, str_at};
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

/// How many pods the workload behind `namespace/service` wants, where the
/// capture holds it (0 if not): the pods judged may be only some of them
/// (an incident about one node captures the pods on it).
fn replicas(ctx: &Ctx, key: &str) -> usize {
    let (ns, name) = key.split_once('/').unwrap_or(("", key));
    ["Deployment", "StatefulSet"]
        .iter()
        .find_map(|kind| ctx.cap.objects.find(kind, ns, name))
        .and_then(|w| i64_at(w, "/spec/replicas"))
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
}

/// Services whose latency (or network delay) moved well above its baseline,
/// each as the reading of the pod by which most of its pods had moved,
/// earliest first. A service moved only when most of its pods did (of
/// those it wants, where the capture holds its workload): slowness
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
        .into_iter()
        .filter(|(key, (judged, moved))| 2 * moved.len() > (*judged).max(replicas(ctx, key)))
        .map(|(_, (judged, mut moved))| {
            moved.sort_by_key(|m| (m.at(), m.series.text()));
            moved.swap_remove(judged / 2)
        })
        // A service that slowed well after the onset is a later problem.
        .filter(|m| !ctx.after_onset(m.shift.changed_at))
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
    let at_first_moment =
        |m: &Move| m.network == first.network && m.at().saturating_sub(first.at()) <= TOGETHER_MS;
    let together: Vec<&Move> = moves.iter().filter(|m| at_first_moment(m)).collect();
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
    // The others: those it could not be told from; else its callers where
    // the call graph told it, or every other service that moved.
    let callers_known = !cap.calls.is_empty() && !undecided;
    let others: Vec<&Move> = moves
        .iter()
        .filter(|m| key(m.series) != root_key)
        .filter(|m| !undecided || at_first_moment(m))
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
    let score = if undecided {
        0.5
    } else if root.network || !names.is_empty() {
        0.85
    } else {
        0.6
    };
    let mut p = Proposal::new("dependency_network_delay", subject.clone(), RULE, score * ctx.near(sh.changed_at))
        .related(others.iter().map(|m| service(m)))
        .say(said, &cites)
        .hint(format!("Check {svc} and the network path to it: NetworkPolicy, the nodes its pods run on, a service mesh fault or cross-zone routing; raise client timeouts only as a stopgap."));
    if undecided && cap.calls.is_empty() {
        p = p.hint("Which service calls which is read from a service mesh's metrics in Prometheus (Istio's istio_requests_total, Linkerd's response_total) or from the service graph of traces (traces_service_graph_request_total, from Tempo or the OpenTelemetry Collector); where one is scraped, the first to slow is told.");
    }
    p.done(ctx);
}

#[cfg(test)]
#[path = "dependency_tests.rs"]
mod tests;
