//! Traffic that has nowhere to go: Services that select no pods or point at
//! ports and protocols the pods do not serve, and clients that call an
//! address no Service has.

use serde_json::Value;

use super::{Ctx, Proposal};
use crate::evidence::EvidenceKind;
use crate::kube::{ObjRef, arr_at, i64_at, labels_at, selects, str_at};

const RULE: &str = "routing";

pub(crate) fn run(ctx: &mut Ctx) {
    let cap = ctx.cap;
    for svc in cap.objects.of_kind("Service") {
        let r = ObjRef::of(svc, "Service");
        let sel = labels_at(svc, "/spec/selector");
        if sel.is_empty() {
            continue;
        }
        let pods: Vec<&Value> = ctx
            .pods()
            .iter()
            .filter(|p| str_at(p, "/metadata/namespace") == r.namespace)
            .filter(|p| !matches!(str_at(p, "/status/phase"), "Succeeded" | "Failed"))
            .filter(|p| selects(&sel, &labels_at(p, "/metadata/labels")))
            .collect();
        // Client errors that name this service make any finding here stronger.
        let clients = ctx.logs_matching(
            "",
            "",
            &[
                &format!("{}.", r.name),
                &format!("//{}:", r.name),
                &format!("{}:", r.name),
            ],
        );
        let clients: Vec<_> = clients
            .into_iter()
            .filter(|l| {
                super::contains_any(
                    &l.line,
                    &[
                        "refused",
                        "no endpoints",
                        "503",
                        "unavailable",
                        "timeout",
                        "reset",
                        "eof",
                        "no healthy upstream",
                    ],
                )
            })
            .collect();
        let client_id = ctx.note_logs(&r, &clients);
        let boost = if client_id.is_some() { 1.0 } else { 0.85 };
        let sel_text = super::scheduling::fmt_map(&sel);
        let endpoints = cap.objects.find("Endpoints", &r.namespace, &r.name);
        // The pods it selects may be missing from a partial capture; its
        // Endpoints say whether any exist.
        let has_endpoints = endpoints.is_some_and(|ep| {
            arr_at(ep, "/subsets").iter().any(|s| {
                !arr_at(s, "/addresses").is_empty() || !arr_at(s, "/notReadyAddresses").is_empty()
            })
        });
        if pods.is_empty() && !has_endpoints {
            let sid = ctx.note(
                EvidenceKind::Spec,
                &r,
                None,
                format!("{r} selects {sel_text}"),
            );
            let mut cites = vec![sid];
            if let Some(ep) = endpoints {
                let n: usize = arr_at(ep, "/subsets")
                    .iter()
                    .map(|s| arr_at(s, "/addresses").len())
                    .sum();
                if n == 0 {
                    cites.push(ctx.note(
                        EvidenceKind::Absent,
                        &ObjRef::of(ep, "Endpoints"),
                        None,
                        format!(
                            "Endpoints {}/{} has no ready addresses",
                            r.namespace, r.name
                        ),
                    ));
                }
            }
            // Pods that look like the intended ones: same keys, other values.
            let near_miss: Vec<(ObjRef, String)> = ctx
                .pods()
                .iter()
                .filter(|p| str_at(p, "/metadata/namespace") == r.namespace)
                .filter_map(|p| {
                    let l = labels_at(p, "/metadata/labels");
                    let diff: Vec<String> = sel
                        .iter()
                        .filter_map(|(k, v)| {
                            l.get(k).filter(|x| *x != v).map(|x| format!("{k}={x}"))
                        })
                        .collect();
                    (!diff.is_empty() && diff.len() < sel.len() + 1)
                        .then(|| (ObjRef::of(p, "Pod"), diff.join(",")))
                })
                .take(3)
                .collect();
            let mut prop = Proposal::new("service_selector_mismatch", r.clone(), RULE, 0.9 * boost)
                .say(format!("{r} selects {sel_text}, and no running pod in {} carries those labels, so it has no endpoints.", r.namespace), &cites);
            if let Some((pod, labels)) = near_miss.first() {
                let id = ctx.note(
                    EvidenceKind::Spec,
                    pod,
                    None,
                    format!("{pod} is labelled {labels}"),
                );
                prop = prop
                    .say(format!("{pod} is labelled {labels} instead."), &[id])
                    .related([pod.clone()]);
            }
            if let Some(id) = &client_id {
                prop = prop.say(
                    format!("Clients of {r} fail to reach it."),
                    std::slice::from_ref(id),
                );
            }
            prop.hint(format!(
                "Make the selector of {r} match the pod template's labels (or fix the labels)."
            ))
            .done(ctx);
            continue;
        }
        if pods.is_empty() {
            continue;
        }
        for port in arr_at(svc, "/spec/ports") {
            check_port(ctx, &r, port, &pods, client_id.as_deref(), boost);
        }
    }
    wrong_address(ctx);
}

fn check_port(
    ctx: &mut Ctx,
    r: &ObjRef,
    port: &Value,
    pods: &[&Value],
    client: Option<&str>,
    boost: f64,
) {
    let target = port
        .get("targetPort")
        .or(port.get("port"))
        .map(|v| v.to_string().trim_matches('"').to_string())
        .unwrap_or_default();
    let proto = match str_at(port, "/protocol") {
        "" => "TCP",
        p => p,
    };
    let cports: Vec<&Value> = pods
        .iter()
        .flat_map(|p| arr_at(p, "/spec/containers"))
        .flat_map(|c| arr_at(c, "/ports"))
        .collect();
    // A named targetPort resolves only on a container that declares the
    // name; a number reaches the pod whether it is declared or not.
    let named = !target.is_empty() && target.parse::<i64>().is_err();
    if cports.is_empty() && !named {
        return;
    }
    let matching: Vec<&&Value> = cports
        .iter()
        .filter(|cp| {
            i64_at(cp, "/containerPort").map(|n| n.to_string()) == Some(target.clone())
                || str_at(cp, "/name") == target
        })
        .collect();
    let pod = ObjRef::of(pods[0], "Pod");
    let declared: Vec<String> = cports
        .iter()
        .map(|cp| {
            format!(
                "{}/{}{}",
                i64_at(cp, "/containerPort").unwrap_or(0),
                match str_at(cp, "/protocol") {
                    "" => "TCP",
                    p => p,
                },
                match str_at(cp, "/name") {
                    "" => String::new(),
                    n => format!(" ({n})"),
                }
            )
        })
        .collect();
    let declared = if declared.is_empty() {
        "no ports".to_string()
    } else {
        declared.join(", ")
    };
    let sid = ctx.note(
        EvidenceKind::Spec,
        r,
        None,
        format!(
            "{r} port {} → targetPort {target}/{proto}{}",
            i64_at(port, "/port").unwrap_or(0),
            match str_at(port, "/appProtocol") {
                "" => String::new(),
                a => format!(" appProtocol {a}"),
            }
        ),
    );
    let pid = ctx.note(
        EvidenceKind::Spec,
        &pod,
        None,
        format!("containers of {pod} declare {declared}"),
    );
    let mut cites = vec![sid, pid];
    cites.extend(client.map(str::to_string));
    let Some(cp) = matching.first() else {
        let (said, score) = if named {
            (
                format!(
                    "{r} targets the port named {target}, which no container of its pods declares (they declare {declared}), so the name resolves to nothing and the Service has no endpoints."
                ),
                0.9 * boost,
            )
        } else if client.is_some() {
            (
                format!(
                    "{r} sends traffic to targetPort {target}, which its pods do not serve (they declare {declared})."
                ),
                0.9,
            )
        } else {
            // Declaring a port is optional: without clients failing, the
            // container may well listen on one it does not list.
            (
                format!(
                    "{r} sends traffic to targetPort {target}, which its pods do not declare (they declare {declared}); no client is seen failing, and a container may listen on a port it does not list."
                ),
                0.5,
            )
        };
        let first = cports
            .first()
            .and_then(|cp| i64_at(cp, "/containerPort"))
            .map(|n| n.to_string());
        let hint = match first {
            Some(n) => format!("Set targetPort of {r} to the container port ({n})."),
            None => format!(
                "Declare the port {target} on the container, or set targetPort of {r} to the port number the app listens on."
            ),
        };
        Proposal::new("service_port_mismatch", r.clone(), RULE, score)
            .related([pod])
            .say(said, &cites)
            .hint(hint)
            .done(ctx);
        return;
    };
    let cproto = match str_at(cp, "/protocol") {
        "" => "TCP",
        p => p,
    };
    let app = |s: &str| {
        let s = s.to_ascii_lowercase();
        let head = s.split(['-', '/']).next().unwrap_or("").to_string();
        ["http", "https", "grpc", "http2", "h2c", "tcp", "udp"]
            .contains(&head.as_str())
            .then_some(head)
    };
    let sapp = app(str_at(port, "/appProtocol")).or_else(|| app(str_at(port, "/name")));
    let capp = app(str_at(cp, "/name"));
    let mismatch = if cproto != proto {
        Some(format!(
            "the Service uses {proto} and the container port {cproto}"
        ))
    } else {
        match (&sapp, &capp) {
            (Some(a), Some(b)) if a != b => Some(format!(
                "the Service port speaks {a} and the container port {b}"
            )),
            _ => None,
        }
    };
    if let Some(m) = mismatch {
        let score = if cproto != proto { 0.9 } else { 0.75 };
        Proposal::new("service_protocol_mismatch", r.clone(), RULE, score * boost)
            .related([pod])
            .say(
                format!("{r} reaches its pods on port {target}, but {m}."),
                &cites,
            )
            .hint(format!(
                "Make the protocol (and appProtocol / port name) of {r} match the container port."
            ))
            .done(ctx);
    }
}

/// Clients failing to resolve a name that is no Service in the capture.
fn wrong_address(ctx: &mut Ctx) {
    let cap = ctx.cap;
    let services = cap.objects.of_kind("Service");
    if services.is_empty() {
        return;
    }
    let lines = ctx.logs_matching(
        "",
        "",
        &[
            "no such host",
            "could not resolve",
            "name or service not known",
            "nxdomain",
        ],
    );
    let mut seen: Vec<(String, String)> = Vec::new();
    for l in lines {
        let Some(host) = host_in(&l.line) else {
            continue;
        };
        let name = host.split('.').next().unwrap_or("").to_string();
        let ns_hint = host.split('.').nth(1).unwrap_or(&l.namespace).to_string();
        if name.is_empty()
            || services.iter().any(|s| str_at(s, "/metadata/name") == name)
            || seen.contains(&(l.pod.clone(), host.clone()))
        {
            continue;
        }
        // Names outside the cluster (with a public suffix) are not a Service typo.
        if host.contains('.') && !host.contains(".svc") && host.split('.').count() > 2 {
            continue;
        }
        seen.push((l.pod.clone(), host.clone()));
        let pod_v = cap.objects.find("Pod", &l.namespace, &l.pod);
        let pod = ObjRef::new("Pod", &l.namespace, &l.pod);
        let owners = pod_v.map(|p| cap.objects.owners(p)).unwrap_or_default();
        let subject = owners.last().cloned().unwrap_or_else(|| pod.clone());
        let matching: Vec<&crate::capture::LogLine> = cap
            .logs
            .iter()
            .filter(|x| x.pod == l.pod && x.line.contains(&host))
            .collect();
        let Some(lid) = ctx.note_logs(&pod, &matching) else {
            continue;
        };
        let known: Vec<&str> = services
            .iter()
            .filter(|s| str_at(s, "/metadata/namespace") == ns_hint)
            .map(|s| str_at(s, "/metadata/name"))
            .collect();
        let kid = ctx.note(
            EvidenceKind::Absent,
            &ObjRef::new("Service", &ns_hint, &name),
            None,
            format!(
                "no Service {name} in {ns_hint}; Services there: {}",
                known.join(", ")
            ),
        );
        let near = ctx.near(l.at);
        // A Service the quota kept from being created is the quota's doing.
        let quota_full = cap.objects.of_kind("ResourceQuota").iter().any(|q| {
            str_at(q, "/metadata/namespace") == ns_hint
                && !str_at(q, "/status/hard/services").is_empty()
                && str_at(q, "/status/used/services") == str_at(q, "/status/hard/services")
        });
        let near = if quota_full { near * 0.7 } else { near };
        Proposal::new("wrong_service_address", subject, RULE, 0.88 * near)
            .related([pod])
            .say(format!("{} calls {host}, which does not resolve: there is no Service {name} in {ns_hint}.", l.pod), &[lid, kid])
            .hint(format!("Fix the address the client is configured with (env / ConfigMap); the Services in {ns_hint} are {}.", known.join(", ")))
            .done(ctx);
    }
}

/// The host a resolver error names: `lookup HOST on …`, `dial tcp: lookup HOST:`, `resolve host: HOST`.
pub(crate) fn host_in(line: &str) -> Option<String> {
    let after = line
        .split("lookup ")
        .nth(1)
        .or_else(|| line.split("resolve host: ").nth(1))
        .or_else(|| line.split("resolve host ").nth(1))?;
    let host: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    let host = host.trim_end_matches('.').to_string();
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::host_in;

    #[test]
    fn resolver_errors_name_their_host() {
        assert_eq!(
            host_in(
                "dial tcp: lookup paymnts.shop.svc.cluster.local on 10.96.0.10:53: no such host"
            )
            .as_deref(),
            Some("paymnts.shop.svc.cluster.local")
        );
        assert_eq!(
            host_in("curl: (6) Could not resolve host: redis-main").as_deref(),
            Some("redis-main")
        );
        assert_eq!(host_in("all good"), None);
    }
}
