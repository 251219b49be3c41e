//! Probes that fail: the kubelet's Unhealthy message says how (refused,
//! timed out, wrong protocol), and the probe is compared with the ports the
//! container declares.

use sentinel_model::ProbeKind;
use serde_json::Value;

use super::{Ctx, Proposal, contains_any, pod_ref};
use crate::evidence::EvidenceKind;
use crate::kube::{arr_at, i64_at, str_at};

const RULE: &str = "probes";

const PROTOCOL: &[&str] = &[
    "server gave http response to https client",
    "malformed http response",
    "first record does not look like a tls handshake",
    "client sent an http request to an https server",
    "http/1.x transport connection broken",
    "unimplemented",
    "tls: ",
    "statuscode: 400",
    "eof",
];
const TIMING: &[&str] = &["context deadline exceeded", "timeout", "timed out"];

pub(crate) fn run(ctx: &mut Ctx) {
    for p in ctx.pods() {
        let pod = pod_ref(p);
        let events = ctx.events_for(&pod);
        for probe_kind in [
            ProbeKind::Liveness,
            ProbeKind::Readiness,
            ProbeKind::Startup,
        ] {
            let (kind, probe_key) = (probe_kind.as_str(), probe_kind.field());
            let Some(e) = events
                .iter()
                .filter(|e| e.reason == "Unhealthy" && e.message.starts_with(kind))
                .max_by_key(|e| (e.last, e.count))
                .copied()
            else {
                continue;
            };
            let id = ctx.note_event(e);
            let prefix = if probe_kind == ProbeKind::Readiness {
                "readiness"
            } else {
                "liveness"
            };
            let Some((container, probe)) = arr_at(p, "/spec/containers")
                .iter()
                .find_map(|c| Some((c, c.get(probe_key)?)))
            else {
                // No spec captured: the message alone decides.
                classify(
                    ctx,
                    p,
                    &pod,
                    (prefix, kind, e.last),
                    &e.message,
                    None,
                    None,
                    &id,
                );
                continue;
            };
            classify(
                ctx,
                p,
                &pod,
                (prefix, kind, e.last),
                &e.message,
                Some(container),
                Some(probe),
                &id,
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn classify(
    ctx: &mut Ctx,
    p: &Value,
    pod: &crate::kube::ObjRef,
    (prefix, kind, at): (&str, &str, Option<sentinel_model::Timestamp>),
    message: &str,
    container: Option<&Value>,
    probe: Option<&Value>,
    id: &str,
) {
    let port = probe.and_then(|pr| {
        ["/httpGet/port", "/tcpSocket/port", "/grpc/port"]
            .iter()
            .find_map(|ptr| pr.pointer(ptr))
            .map(|v| v.to_string().trim_matches('"').to_string())
    });
    let declared: Vec<(String, String)> = container
        .map(|c| {
            arr_at(c, "/ports")
                .iter()
                .map(|pt| {
                    (
                        i64_at(pt, "/containerPort").unwrap_or(0).to_string(),
                        str_at(pt, "/name").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let port_known = port.as_ref().is_none_or(|pt| {
        declared.is_empty() || declared.iter().any(|(n, name)| n == pt || name == pt)
    });
    let owners = ctx.workload_of(p);
    let near = ctx.near(at);
    let timing = probe
        .map(|pr| {
            format!(
                "initialDelaySeconds {}, timeoutSeconds {}, periodSeconds {}, failureThreshold {}",
                i64_at(pr, "/initialDelaySeconds").unwrap_or(0),
                i64_at(pr, "/timeoutSeconds").unwrap_or(1),
                i64_at(pr, "/periodSeconds").unwrap_or(10),
                i64_at(pr, "/failureThreshold").unwrap_or(3)
            )
        })
        .unwrap_or_default();
    let spec_id = probe.map(|pr| {
        ctx.note(
            EvidenceKind::Spec,
            pod,
            None,
            format!(
                "{pod} {kind} probe {} ({timing}); container ports {}",
                pr.get("httpGet")
                    .or(pr.get("tcpSocket"))
                    .or(pr.get("grpc"))
                    .map(Value::to_string)
                    .unwrap_or_default(),
                declared
                    .iter()
                    .map(|(n, name)| if name.is_empty() {
                        n.clone()
                    } else {
                        format!("{n}/{name}")
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    });
    let mut cites = vec![id.to_string()];
    cites.extend(spec_id);
    let low = message.to_ascii_lowercase();
    let (what, score, said, hint) = if low.contains("connection refused") && !port_known {
        (
            "wrong_port",
            0.95,
            format!(
                "The {kind} probe of {pod} connects to port {}, which the container does not declare ({}); the connection is refused.",
                port.clone().unwrap_or_default(),
                declared
                    .iter()
                    .map(|d| d.0.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!(
                "Point the {kind} probe at the port the app listens on ({}).",
                declared.first().map(|d| d.0.clone()).unwrap_or_default()
            ),
        )
    } else if contains_any(&low, PROTOCOL) {
        (
            "wrong_protocol",
            0.9,
            format!(
                "The {kind} probe of {pod} speaks the wrong protocol to the app: \"{}\".",
                message.trim()
            ),
            format!(
                "Match the probe's scheme to the app (HTTPS vs HTTP, httpGet vs grpc vs tcpSocket) for the {kind} probe."
            ),
        )
    } else if contains_any(&low, TIMING) || low.contains("connection refused") {
        (
            "bad_timing",
            0.85,
            format!(
                "The {kind} probe of {pod} fails on time: \"{}\" ({timing}).",
                message.trim()
            ),
            format!(
                "Give the app time: raise timeoutSeconds / initialDelaySeconds (or add a startup probe) for the {kind} probe."
            ),
        )
    } else if low.contains("statuscode") {
        (
            "wrong_port",
            0.6,
            format!(
                "The {kind} probe of {pod} reaches an endpoint that answers with an error: \"{}\".",
                message.trim()
            ),
            format!("Check the {kind} probe's path and port against the app's health endpoint."),
        )
    } else {
        return;
    };
    let cause: &'static str = match (prefix, what) {
        ("readiness", "wrong_port") => "readiness_probe_wrong_port",
        ("readiness", "wrong_protocol") => "readiness_probe_wrong_protocol",
        ("readiness", _) => "readiness_probe_bad_timing",
        (_, "wrong_port") => "liveness_probe_wrong_port",
        (_, "wrong_protocol") => "liveness_probe_wrong_protocol",
        _ => "liveness_probe_bad_timing",
    };
    Proposal::new(cause, pod.clone(), RULE, score * near)
        .related(owners)
        .say(said, &cites)
        .hint(hint)
        .done(ctx);
}
