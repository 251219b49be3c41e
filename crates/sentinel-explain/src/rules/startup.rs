//! Containers that do not start or do not stay up: image pulls, missing
//! config, crash loops (read with their logs), and OOM kills with the limit,
//! the usage trend and the rollout before them.

use serde_json::Value;

use super::{Ctx, Proposal, container_spec, contains_any, latest, pod_ref, statuses};
use crate::evidence::{EvidenceId, EvidenceKind};
use crate::kube::{ObjRef, i64_at, str_at, time_at};

const RULE: &str = "containers";

const CONFIG_WORDS: &[&str] = &[
    "config",
    "invalid",
    "missing required",
    "must be set",
    "unknown field",
    "cannot unmarshal",
    "yaml:",
    "parse",
    "not set",
    "environment variable",
    "unknown flag",
    "no such file",
];
const PERMISSION_WORDS: &[&str] = &[
    "permission denied",
    "eacces",
    "operation not permitted",
    "read-only file system",
];

pub(crate) fn run(ctx: &mut Ctx) {
    for p in ctx.pods() {
        let pod = pod_ref(p);
        let events = ctx.events_for(&pod);
        let owners = ctx.workload_of(p);
        for st in statuses(p) {
            let name = str_at(st, "/name").to_string();
            let waiting = str_at(st, "/state/waiting/reason");
            let wmsg = str_at(st, "/state/waiting/message");
            let pull = matches!(
                waiting,
                "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName"
            );
            if pull {
                image_pull(ctx, p, &pod, &name, wmsg, &events, &owners);
                continue;
            }
            if waiting == "CreateContainerConfigError" {
                let ev = events
                    .iter()
                    .filter(|e| {
                        e.reason == "Failed"
                            && contains_any(&e.message, &["not found", "couldn't find key"])
                    })
                    .max_by_key(|e| e.last)
                    .copied();
                let msg = ev
                    .map(|e| e.message.clone())
                    .unwrap_or_else(|| wmsg.to_string());
                let id = match ev {
                    Some(e) => ctx.note_event(e),
                    None => ctx.note(
                        EvidenceKind::Container,
                        &pod,
                        None,
                        format!(
                            "{pod} container {name} waiting: CreateContainerConfigError: {wmsg}"
                        ),
                    ),
                };
                let near = ctx.near(ev.and_then(|e| e.last));
                Proposal::new("configmap_missing", pod.clone(), RULE, 0.95 * near)
                    .related(owners.clone())
                    .say(format!("Container {name} of {pod} cannot be created: {}.", msg.trim_start_matches("Error: ")), &[id])
                    .hint("Create the missing ConfigMap / Secret (or key), or fix the reference in the pod template.")
                    .done(ctx);
                continue;
            }
            let term = st
                .pointer("/lastState/terminated")
                .or_else(|| st.pointer("/state/terminated"));
            let Some(term) = term else { continue };
            let reason = str_at(term, "/reason");
            let exit = i64_at(term, "/exitCode").unwrap_or(0);
            let restarts = i64_at(st, "/restartCount").unwrap_or(0);
            let finished = time_at(term, "/finishedAt");
            if reason == "OOMKilled" {
                super::oom::oom(ctx, p, &pod, &name, term, restarts, &owners);
                continue;
            }
            if exit == 0 || (waiting != "CrashLoopBackOff" && restarts == 0) {
                continue;
            }
            // Liveness kills are the probe rule's to explain.
            if events
                .iter()
                .any(|e| e.reason == "Unhealthy" && e.message.starts_with("Liveness"))
            {
                continue;
            }
            let term_id = ctx.note(
                EvidenceKind::Container,
                &pod,
                finished,
                format!(
                    "{pod} container {name}: exit code {exit} ({}), {restarts} restarts{}{}",
                    if reason.is_empty() { "Error" } else { reason },
                    if waiting.is_empty() {
                        String::new()
                    } else {
                        format!(", now {waiting}")
                    },
                    match str_at(term, "/message") {
                        "" => String::new(),
                        m => format!("; message: {}", m.trim()),
                    }
                ),
            );
            let term_msg = str_at(term, "/message");
            let ns = pod.namespace.clone();
            let near = ctx.near(finished);
            let perm = ctx.logs_matching(&ns, &pod.name, PERMISSION_WORDS);
            if !perm.is_empty() || contains_any(term_msg, PERMISSION_WORDS) {
                let mounts: Vec<String> = container_spec(p, &name)
                    .map(|c| {
                        crate::kube::arr_at(c, "/volumeMounts")
                            .iter()
                            .map(|m| str_at(m, "/mountPath").to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                let mut cites = vec![term_id.clone()];
                cites.extend(ctx.note_logs(&pod, &perm));
                let user = i64_at(p, "/spec/securityContext/runAsUser")
                    .map(|u| format!(" as user {u}"))
                    .unwrap_or_default();
                Proposal::new("volume_permission_denied", pod.clone(), RULE, 0.9 * near)
                    .related(owners.clone())
                    .say(format!("Container {name} of {pod} exits at start because it may not write where it must{user} (mounts: {}).", mounts.join(", ")), &cites)
                    .hint("Set the pod's securityContext.fsGroup (or runAsUser) to own the volume, or fix the volume's permissions with an init container.")
                    .done(ctx);
                continue;
            }
            // Failures another rule owns: DNS, certificates, refused dependencies.
            let other = ctx.logs_matching(
                &ns,
                &pod.name,
                &["x509", "no such host", "i/o timeout", "server misbehaving"],
            );
            if !other.is_empty() {
                continue;
            }
            let cfg = ctx.logs_matching(&ns, &pod.name, CONFIG_WORDS);
            let mut cites = vec![term_id.clone()];
            let (score, said) = match ctx.note_logs(&pod, &cfg) {
                Some(lid) => {
                    cites.push(lid);
                    (
                        0.9,
                        format!(
                            "Container {name} of {pod} exits with code {exit} at start; its log reports a configuration error."
                        ),
                    )
                }
                None if contains_any(term_msg, CONFIG_WORDS) => (
                    0.85,
                    format!(
                        "Container {name} of {pod} exits with code {exit} at start; its termination message reports a configuration error."
                    ),
                ),
                None => (
                    0.45,
                    format!(
                        "Container {name} of {pod} exits with code {exit} and restarts; no captured log says why."
                    ),
                ),
            };
            let mut prop =
                Proposal::new("config_error_crash_loop", pod.clone(), RULE, score * near)
                    .related(owners.clone())
                    .say(said, &cites);
            if let Some((rid, text)) = super::oom::rollout(ctx, p) {
                prop = prop.say(text, &[rid]).scale(1.05);
            }
            prop.hint("Read the container's previous log (`kubectl logs --previous`), fix the configuration (ConfigMap, env, flags) or roll back the change that introduced it.")
                .done(ctx);
        }
    }
}

fn image_pull(
    ctx: &mut Ctx,
    p: &Value,
    pod: &ObjRef,
    name: &str,
    wmsg: &str,
    events: &[&crate::kube::Event],
    owners: &[ObjRef],
) {
    let image = container_spec(p, name)
        .map(|c| str_at(c, "/image"))
        .unwrap_or("");
    // The kubelet writes the registry's answer in "Failed to pull image …";
    // "Error: ErrImagePull" next to it says nothing more.
    let ev = events
        .iter()
        .filter(|e| e.reason == "Failed" && e.message.starts_with("Failed to pull image"))
        .max_by_key(|e| (e.last, e.count))
        .copied()
        .or_else(|| {
            latest(events, &["Failed"])
                .filter(|e| e.message.contains("pull") || e.message.contains("image"))
        });
    let secret_ev = latest(events, &["FailedToRetrieveImagePullSecret"]);
    let text = ev
        .map(|e| e.message.clone())
        .unwrap_or_else(|| wmsg.to_string());
    let mut cites: Vec<EvidenceId> = Vec::new();
    match ev {
        Some(e) => cites.push(ctx.note_event(e)),
        None => cites.push(ctx.note(
            EvidenceKind::Container,
            pod,
            None,
            format!("{pod} container {name} waiting to pull {image}: {wmsg}"),
        )),
    }
    let near = ctx.near(ev.and_then(|e| e.last));
    let low = text.to_ascii_lowercase();
    let no_secrets = crate::kube::arr_at(p, "/spec/imagePullSecrets").is_empty();
    let registry = image
        .split('/')
        .next()
        .filter(|r| r.contains('.') || r.contains(':'))
        .unwrap_or("docker.io");
    let (cause, said, hint) = if let Some(se) = secret_ev {
        cites.push(ctx.note_event(se));
        ("image_pull_secret_missing", format!("{pod} cannot pull {image}: the pull secret it names cannot be read."), "Create the image pull secret in the pod's namespace (or fix its name in imagePullSecrets).".to_string())
    } else if contains_any(
        &low,
        &[
            "no such host",
            "server misbehaving",
            "dial tcp: lookup",
            "i/o timeout",
        ],
    ) {
        (
            "registry_dns_failure",
            format!(
                "{pod} cannot pull {image}: the registry {registry} cannot be reached by name."
            ),
            format!(
                "Check the registry host name {registry} in the image reference and the nodes' DNS; mirror the image to a reachable registry."
            ),
        )
    } else if contains_any(&low, &["unauthorized", "authorization failed", "authentication required", "no basic auth credentials", "403 forbidden", "denied"])
        && !low.contains("not found")
        // Docker Hub answers a repository that does not exist the same way it
        // answers one that needs credentials; with credentials given, or for
        // an official image, the name is what is wrong.
        && !official_or_credentialed_missing(&low, no_secrets, image)
    {
        let why = if no_secrets {
            " and the pod names no imagePullSecrets"
        } else {
            ""
        };
        let sid = ctx.note(
            EvidenceKind::Spec,
            pod,
            None,
            format!(
                "{pod} imagePullSecrets: {}",
                if no_secrets {
                    "none".to_string()
                } else {
                    p.pointer("/spec/imagePullSecrets")
                        .map(Value::to_string)
                        .unwrap_or_default()
                }
            ),
        );
        cites.push(sid);
        (
            "image_pull_secret_missing",
            format!("{pod} cannot pull {image}: the registry refuses it without credentials{why}."),
            format!(
                "Create a docker-registry secret for {registry} and add it to the pod template's imagePullSecrets (or the service account)."
            ),
        )
    } else {
        let tag = image
            .rsplit_once(':')
            .map(|t| t.1)
            .filter(|t| !t.contains('/'))
            .unwrap_or("latest");
        (
            "image_not_found",
            format!("{pod} cannot pull {image}: the registry has no such image or tag ({tag})."),
            format!(
                "Fix the image reference (name and tag {tag}); roll back to the last image that pulled if a rollout introduced it."
            ),
        )
    };
    let mut prop = Proposal::new(cause, pod.clone(), RULE, 0.95 * near)
        .related(owners.to_vec())
        .say(said, &cites);
    if let Some((rid, text)) = super::oom::rollout(ctx, p) {
        prop = prop.say(text, &[rid]);
    }
    prop.hint(hint).done(ctx);
}

/// Docker Hub answers a repository that does not exist as it answers one
/// that needs credentials; with credentials given, or for an official
/// image, it is the name that is wrong.
fn official_or_credentialed_missing(low: &str, no_secrets: bool, image: &str) -> bool {
    low.contains("repository does not exist")
        && (!no_secrets || image.starts_with("docker.io/library/") || !image.contains('/'))
}
