//! Rollouts that stand still: a Deployment whose controller gave up on its
//! rollout (`Progressing` `ProgressDeadlineExceeded`) or cannot create its
//! new pods (`ReplicaFailure`), and any rollout the incident's own
//! `rollout_stalled_seconds` says made no progress (StatefulSets and
//! DaemonSets report no progress of their own).
//!
//! What the controller says is cited first: a refusal the API server gave
//! (a quota used up, a service account missing) is the cause, read from
//! the condition that outlives the `FailedCreate` events. Otherwise the
//! stalled rollout itself is named, with the new pods it waits for: a
//! cause of their own (a crash, an image that does not pull) is named
//! with more confidence by the rules that read pods, so this one is the
//! explanation only when nothing more precise is captured.

use sentinel_model::rollout::PROGRESS_DEADLINE_S;
use sentinel_model::{Duration, Timestamp};
use serde_json::Value;

use super::admission::Refusal;
use super::jobs::owned_by;
use super::{Ctx, Proposal, container_spec, pod_ref, statuses};
use crate::evidence::{EvidenceId, EvidenceKind};
use crate::kube::{ObjRef, arr_at, i64_at, str_at, time_at};

const RULE: &str = "rollouts";
/// The series Sentinel reads a stalled rollout into, and its label per kind.
const STALLED_SERIES: &str = "rollout_stalled_seconds";
const KINDS: &[(&str, &str)] = &[
    ("Deployment", "deployment"),
    ("StatefulSet", "statefulset"),
    ("DaemonSet", "daemonset"),
];
/// New pods named, at most.
const PODS_NAMED: usize = 3;

pub(crate) fn run(ctx: &mut Ctx) {
    for (kind, label) in KINDS {
        for w in ctx.cap.objects.of_kind(kind) {
            stalled(ctx, w, kind, label);
        }
    }
}

/// The incident's own reading of how long `w`'s rollout stood still by the
/// onset (the last reading then, else the first after), if it has one.
fn signalled(ctx: &Ctx, w: &ObjRef, label: &str) -> Option<f64> {
    let onset = ctx.cap.onset;
    let points: Vec<(Timestamp, f64)> = ctx
        .cap
        .metrics
        .iter()
        .filter(|s| {
            s.name == STALLED_SERIES
                && s.label(label) == w.name
                && [w.namespace.as_str(), ""].contains(&s.label("namespace"))
        })
        .flat_map(|s| s.points.iter().copied())
        .filter(|p| p.1 > 0.0)
        .collect();
    let before = points.iter().filter(|p| p.0 <= onset).max_by_key(|p| p.0);
    before
        .or_else(|| points.iter().min_by_key(|p| p.0))
        .map(|p| p.1)
}

fn condition<'v>(w: &'v Value, ty: &str, check: impl Fn(&Value) -> bool) -> Option<&'v Value> {
    arr_at(w, "/status/conditions")
        .iter()
        .find(|c| str_at(c, "/type") == ty && check(c))
}

/// (updated, wanted): pods of the new revision, of those it should end with.
fn counts(w: &Value, kind: &str) -> (i64, i64) {
    let at = |p: &str, or: i64| i64_at(w, p).unwrap_or(or);
    match kind {
        "DaemonSet" => (
            at("/status/updatedNumberScheduled", 0),
            at("/status/desiredNumberScheduled", 0),
        ),
        _ => (at("/status/updatedReplicas", 0), at("/spec/replicas", 1)),
    }
}

fn stalled(ctx: &mut Ctx, w: &Value, kind: &str, label: &str) {
    let wref = ObjRef::of(w, kind);
    let ns = wref.namespace.clone();
    let stood = signalled(ctx, &wref, label);
    let deadline = condition(w, "Progressing", |c| {
        str_at(c, "/reason") == "ProgressDeadlineExceeded"
    });
    let failure = condition(w, "ReplicaFailure", |c| str_at(c, "/status") == "True");
    if stood.is_none() && deadline.is_none() && failure.is_none() {
        return;
    }
    let revision = str_at(
        w,
        "/metadata/annotations/deployment.kubernetes.io~1revision",
    );
    let (updated, wanted) = counts(w, kind);
    // The condition is set when the deadline passes: the last progress was
    // a deadline before.
    let gave_up = deadline.and_then(|c| time_at(c, "/lastUpdateTime"));
    let progressed = gave_up.map(|t| {
        let d = i64_at(w, "/spec/progressDeadlineSeconds").unwrap_or(PROGRESS_DEADLINE_S);
        t.saturating_sub(Duration::from_secs(d))
    });
    let refused_at = failure.and_then(|c| time_at(c, "/lastTransitionTime"));
    let mut status = format!("{wref}: {updated} of {wanted} pods of the new revision");
    if !revision.is_empty() {
        status.push_str(&format!(" ({revision})"));
    }
    if let Some(c) = deadline {
        status.push_str(&format!(
            "; Progressing False ProgressDeadlineExceeded: {}",
            str_at(c, "/message")
        ));
    }
    let sid = ctx.note(EvidenceKind::Rollout, &wref, progressed, status);
    let mut cites = vec![sid];
    if let Some(v) = stood {
        cites.push(ctx.note(
            EvidenceKind::Metric,
            &wref,
            None,
            format!(
                "{STALLED_SERIES} of {wref}: {v:.0} s by the onset ({})",
                Duration::from_secs(v as i64).human()
            ),
        ));
    }
    let weight = if stood.is_some() {
        1.0
    } else {
        ctx.near(refused_at.or(gave_up))
    };
    let to = if revision.is_empty() {
        String::new()
    } else {
        format!(" to revision {revision}")
    };
    let since = match (progressed, stood) {
        (Some(t), _) => format!("since {}", t.to_rfc3339()),
        (None, Some(v)) => format!("for {} by the onset", Duration::from_secs(v as i64).human()),
        (None, None) => "for a while".to_string(),
    };
    let gave_up_text = deadline.map_or(String::new(), |c| {
        format!(
            ", and its controller gave up on it: {} (ProgressDeadlineExceeded)",
            str_at(c, "/message").trim().trim_end_matches('.')
        )
    });
    let head = format!(
        "The rollout of {kind} {}{to} has made no progress {since}: {updated} of {wanted} pods are of the new revision{gave_up_text}.",
        wref.name
    );
    // Under way and standing still, or (a scale-up refused) merely short.
    let rolling = deadline.is_some() || stood.is_some();
    if let Some(c) = failure {
        let message = str_at(c, "/message").trim();
        let fid = ctx.note(
            EvidenceKind::Workload,
            &wref,
            refused_at,
            format!("{wref} ReplicaFailure {}: {message}", str_at(c, "/reason")),
        );
        let prop = match (Refusal::read(message, &ns), rolling) {
            (Some(r), true) => {
                let mut p = Proposal::new(r.cause(), wref.clone(), RULE, 0.97 * weight)
                    .related(r.related(&ns))
                    .say(r.said(&wref, &ns), std::slice::from_ref(&fid))
                    .say(head, &cites)
                    .hint(r.hint(&ns));
                if matches!(r, Refusal::Quota { .. }) && kind == "Deployment" {
                    p = p.hint("A rolling update runs old and new pods side by side (maxSurge): the quota needs room for both, or set maxSurge 0 and maxUnavailable 1 so pods are replaced one at a time; the rollout goes on by itself once its pods can be created.");
                }
                p
            }
            (Some(r), false) => Proposal::new(r.cause(), wref.clone(), RULE, 0.97 * weight)
                .related(r.related(&ns))
                .say(r.said(&wref, &ns), &[fid, cites[0].clone()])
                .hint(r.hint(&ns)),
            (None, true) => Proposal::new("rollout_stalled", wref.clone(), RULE, 0.8 * weight)
                .say(head, &cites)
                .say(
                    format!("The API server refuses its new pods: \"{message}\"."),
                    &[fid],
                )
                .hint("Fix what the API server says; the rollout goes on by itself once its pods can be created."),
            (None, false) => return,
        };
        prop.done(ctx);
        return;
    }
    let mut prop =
        Proposal::new("rollout_stalled", wref.clone(), RULE, 0.6 * weight).say(head, &cites);
    let (pods, owner) = new_pods(ctx, w, &wref, revision);
    if let Some(rs) = &owner {
        prop = prop.related([rs.clone()]);
    }
    let stuck: Vec<&Value> = pods.iter().copied().filter(|p| !ready(p)).collect();
    let mut first_stuck = None;
    if !stuck.is_empty() {
        let named: Vec<(ObjRef, String)> = stuck
            .iter()
            .take(PODS_NAMED)
            .map(|p| (pod_ref(p), state(p)))
            .collect();
        let ids: Vec<EvidenceId> = named
            .iter()
            .zip(&stuck)
            .map(|((r, s), p)| {
                ctx.note(
                    EvidenceKind::Pod,
                    r,
                    time_at(p, "/metadata/creationTimestamp"),
                    format!("{r}: {s}"),
                )
            })
            .collect();
        let list: Vec<String> = named
            .iter()
            .map(|(r, s)| format!("{} ({s})", r.name))
            .collect();
        let of = owner.as_ref().map_or("Its new pods".to_string(), |rs| {
            format!("The pods of its new ReplicaSet {}", rs.name)
        });
        let text = if kind == "StatefulSet" {
            format!(
                "A StatefulSet updates one pod at a time, from the highest ordinal down, each once the one before is Ready; it waits for {}.",
                list.join(", ")
            )
        } else {
            format!("{of} are not ready: {}.", list.join(", "))
        };
        prop = prop
            .related(named.iter().map(|(r, _)| r.clone()))
            .say(text, &ids);
        first_stuck = named.first().map(|(r, _)| r.name.clone());
    }
    let hint = match (kind, &owner, &first_stuck) {
        ("StatefulSet", _, Some(pod)) => format!(
            "Fix the template (or `kubectl rollout undo statefulset/{0} -n {ns}`), then delete {pod} (`kubectl delete pod {pod} -n {ns}`): a StatefulSet does not replace a pod of a broken revision that never became Ready by itself.",
            wref.name
        ),
        ("StatefulSet", _, None) => format!(
            "Find which pod of {0} is not Ready (`kubectl get pods -n {ns}`); after fixing the template, delete it: a StatefulSet does not replace a pod of a broken revision that never became Ready by itself.",
            wref.name
        ),
        ("DaemonSet", ..) => format!(
            "`kubectl rollout undo daemonset/{0} -n {ns}` returns to the revision before; `kubectl get pods -n {ns} -o wide` shows the nodes whose new pod is not ready.",
            wref.name
        ),
        (_, Some(rs), _) => format!(
            "`kubectl rollout undo deployment/{0} -n {ns}` returns to the revision before; find why the pods of {1} do not become available (`kubectl describe rs {1} -n {ns}`) before rolling out again.",
            wref.name, rs.name
        ),
        _ => format!(
            "`kubectl rollout undo deployment/{0} -n {ns}` returns to the revision before; `kubectl rollout status deployment/{0} -n {ns}` and its new ReplicaSet's pods tell why it stands still.",
            wref.name
        ),
    };
    prop.hint(hint).done(ctx);
}

/// The pods of the new revision the capture holds, and (a Deployment) its
/// new ReplicaSet: the one of its revision. A StatefulSet's and a
/// DaemonSet's pods are their own.
fn new_pods<'a>(
    ctx: &Ctx<'a>,
    w: &Value,
    wref: &ObjRef,
    revision: &str,
) -> (Vec<&'a Value>, Option<ObjRef>) {
    let mut owner = None;
    let by = if wref.kind == "Deployment" {
        let rs = ctx.cap.objects.of_kind("ReplicaSet").iter().find(|rs| {
            owned_by(rs, wref)
                && !revision.is_empty()
                && str_at(
                    rs,
                    "/metadata/annotations/deployment.kubernetes.io~1revision",
                ) == revision
        });
        match rs {
            Some(rs) => ObjRef::of(rs, "ReplicaSet"),
            None => return (Vec::new(), None),
        }
    } else {
        wref.clone()
    };
    if by.kind == "ReplicaSet" {
        owner = Some(by.clone());
    }
    // A StatefulSet's pods of the revision it updates to, where they say.
    let update = str_at(w, "/status/updateRevision");
    let mut pods: Vec<&Value> = ctx
        .pods()
        .iter()
        .filter(|p| owned_by(p, &by))
        .filter(|p| {
            let rev = str_at(p, "/metadata/labels/controller-revision-hash");
            update.is_empty() || rev.is_empty() || rev == update
        })
        .collect();
    // A StatefulSet waits on its highest ordinal first.
    pods.sort_by_key(|p| {
        let name = str_at(p, "/metadata/name");
        let ordinal = name
            .rsplit_once('-')
            .and_then(|(_, n)| n.parse::<i64>().ok())
            .unwrap_or(0);
        (std::cmp::Reverse(ordinal), name.to_string())
    });
    (pods, owner)
}

fn ready(p: &Value) -> bool {
    arr_at(p, "/status/conditions")
        .iter()
        .any(|c| str_at(c, "/type") == "Ready" && str_at(c, "/status") == "True")
}

/// A pod's state in a few words: its phase and the first container
/// waiting, with why, or running and not ready, with the readiness probe
/// that has not passed.
fn state(p: &Value) -> String {
    let phase = match str_at(p, "/status/phase") {
        "" => "Unknown",
        ph => ph,
    };
    let waiting = statuses(p).find_map(|st| {
        let why = str_at(st, "/state/waiting/reason");
        (!why.is_empty()).then(|| format!("{phase}, {} {why}", str_at(st, "/name")))
    });
    let unready_probe = || {
        statuses(p).find_map(|st| {
            if st.pointer("/ready").and_then(Value::as_bool) != Some(false)
                || st.pointer("/state/running").is_none()
            {
                return None;
            }
            let name = str_at(st, "/name");
            let probe = container_spec(p, name)?.get("readinessProbe")?;
            Some(format!(
                "{phase}, not ready: {name}'s readiness probe {} has not passed",
                probe_text(probe)
            ))
        })
    };
    waiting
        .or_else(unready_probe)
        .unwrap_or_else(|| format!("{phase}, not ready"))
}

/// What a probe checks, as `kubectl describe` prints it.
fn probe_text(probe: &Value) -> String {
    let port = |v: &Value| match v.get("port") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => "?".into(),
    };
    if let Some(e) = probe.get("exec") {
        let cmd: Vec<&str> = arr_at(e, "/command")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        format!("exec `{}`", cmd.join(" "))
    } else if let Some(h) = probe.get("httpGet") {
        let scheme = match str_at(h, "/scheme") {
            "" => "http".to_string(),
            s => s.to_ascii_lowercase(),
        };
        format!("{scheme}-get :{}{}", port(h), str_at(h, "/path"))
    } else if let Some(t) = probe.get("tcpSocket") {
        format!("tcp-socket :{}", port(t))
    } else if let Some(g) = probe.get("grpc") {
        format!("grpc :{}", port(g))
    } else {
        "(of no known kind)".into()
    }
}

#[cfg(test)]
#[path = "rollouts_tests.rs"]
mod tests;
