//! Pods (and claims) the API server refuses to create: quota and missing
//! service accounts, read from the controllers' FailedCreate events and the
//! quotas' own status.

use super::{Ctx, Proposal, contains_any};
use crate::evidence::EvidenceKind;
use crate::kube::{ObjRef, quantity, str_at};

const RULE: &str = "admission";

/// Which quota resource a message or a quota key speaks of.
fn quota_cause(resource: &str) -> Option<&'static str> {
    let r = resource.to_ascii_lowercase();
    Some(
        if r.contains("storage") || r.contains("persistentvolumeclaims") {
            "namespace_storage_quota_exceeded"
        } else if r.contains("cpu") {
            "namespace_cpu_quota_exceeded"
        } else if r.contains("memory") {
            "namespace_memory_quota_exceeded"
        } else if r == "pods" || r == "count/pods" {
            "namespace_pods_quota_exceeded"
        } else if r == "services" || r == "count/services" || r.starts_with("services.") {
            "namespace_services_quota_exceeded"
        } else {
            return None;
        },
    )
}

/// Why the API server refused to create an object, read from its message
/// (a controller's `FailedCreate` event, a Deployment's `ReplicaFailure`
/// condition).
pub(super) enum Refusal {
    /// `exceeded quota: <quota>, requested: <resource>=…, used: …`.
    Quota {
        cause: &'static str,
        quota: String,
        resource: String,
        /// "requested: …, used: …, limited: …".
        detail: String,
    },
    /// `error looking up service account <ns>/<name>: … not found`.
    ServiceAccount { namespace: String, name: String },
}

impl Refusal {
    pub(super) fn read(msg: &str, ns: &str) -> Option<Self> {
        if let Some(q) = msg.split("exceeded quota: ").nth(1) {
            let quota = q.split(',').next().unwrap_or("").trim().to_string();
            let requested = q
                .split("requested: ")
                .nth(1)
                .map(|s| s.split(", used").next().unwrap_or(s).trim().to_string())
                .unwrap_or_default();
            let resource = requested.split('=').next().unwrap_or("").to_string();
            return Some(Self::Quota {
                cause: quota_cause(&resource)?,
                quota,
                resource,
                detail: q.split(", ").skip(1).collect::<Vec<_>>().join(", "),
            });
        }
        if contains_any(
            msg,
            &["error looking up service account", "serviceaccount \""],
        ) && msg.contains("not found")
        {
            let sa = msg
                .split("service account ")
                .nth(1)
                .and_then(|s| s.split(':').next())
                .unwrap_or("");
            let (sa_ns, sa_name) = sa.split_once('/').unwrap_or((ns, sa));
            return Some(Self::ServiceAccount {
                namespace: sa_ns.to_string(),
                name: sa_name.to_string(),
            });
        }
        None
    }

    pub(super) fn cause(&self) -> &'static str {
        match self {
            Self::Quota { cause, .. } => cause,
            Self::ServiceAccount { .. } => "service_account_missing",
        }
    }

    /// What it names, besides the refused object.
    pub(super) fn related(&self, ns: &str) -> Vec<ObjRef> {
        match self {
            Self::Quota { quota, .. } => vec![
                ObjRef::new("ResourceQuota", ns, quota),
                ObjRef::new("Namespace", "", ns),
            ],
            Self::ServiceAccount { namespace, name } => {
                vec![ObjRef::new("ServiceAccount", namespace, name)]
            }
        }
    }

    /// Why `who` cannot create its pods, in a sentence.
    pub(super) fn said(&self, who: &ObjRef, ns: &str) -> String {
        match self {
            Self::Quota { quota, detail, .. } => format!(
                "{who} cannot create what it needs in namespace {ns}: quota {quota} is used up ({detail})."
            ),
            Self::ServiceAccount { namespace, name } => format!(
                "{who} cannot create pods: service account {} does not exist.",
                ObjRef::new("ServiceAccount", namespace, name)
            ),
        }
    }

    pub(super) fn hint(&self, ns: &str) -> String {
        match self {
            Self::Quota {
                quota, resource, ..
            } => format!(
                "Raise quota {quota} in {ns} for {resource}, or free some: scale down or remove workloads there, or lower the template's requests."
            ),
            Self::ServiceAccount { namespace, name } => format!(
                "Create service account {name} in {namespace}, or fix serviceAccountName in the pod template."
            ),
        }
    }
}

pub(crate) fn run(ctx: &mut Ctx) {
    let cap = ctx.cap;
    for e in &cap.objects.events {
        if !matches!(
            e.reason.as_str(),
            "FailedCreate" | "ProvisioningFailed" | "FailedCreatePodSandBox"
        ) {
            continue;
        }
        let ns = e.object.namespace.clone();
        let Some(refusal) = Refusal::read(&e.message, &ns) else {
            continue;
        };
        let mut related = vec![e.object.clone()];
        let workload = controller_of(ctx, &e.object);
        related.extend(workload.iter().cloned());
        related.extend(refusal.related(&ns));
        let subject = workload.unwrap_or_else(|| e.object.clone());
        let id = ctx.note_event(e);
        let mut prop = Proposal::new(refusal.cause(), subject, RULE, 0.97 * ctx.near(e.last))
            .related(related)
            .say(refusal.said(&e.object, &ns), &[id]);
        if let Refusal::ServiceAccount { namespace, .. } = &refusal {
            let sa_ref = refusal.related(&ns).remove(0);
            let known = cap.objects.of_kind("ServiceAccount");
            if !known.is_empty() {
                let names: Vec<&str> = known
                    .iter()
                    .filter(|s| str_at(s, "/metadata/namespace") == namespace)
                    .map(|s| str_at(s, "/metadata/name"))
                    .collect();
                let id = ctx.note(
                    EvidenceKind::Absent,
                    &sa_ref,
                    None,
                    format!("service accounts in {namespace}: {}", names.join(", ")),
                );
                prop = prop.say(
                    format!(
                        "The service accounts in {namespace} are: {}.",
                        names.join(", ")
                    ),
                    &[id],
                );
            }
        }
        prop.hint(refusal.hint(&ns)).done(ctx);
    }
    // Quotas at their limit, for what fails before any event (a Service the
    // API refused at apply time leaves no trace but the quota).
    for q in cap.objects.of_kind("ResourceQuota") {
        let r = ObjRef::of(q, "ResourceQuota");
        let Some(hard) = q.pointer("/status/hard").and_then(|h| h.as_object()) else {
            continue;
        };
        for (res, h) in hard {
            let used = str_at(q, &format!("/status/used/{}", res.replace('/', "~1")));
            let (Some(h), Some(u)) = (h.as_str().and_then(quantity), quantity(used)) else {
                continue;
            };
            if h <= 0.0 || u < h {
                continue;
            }
            let Some(cause) = quota_cause(res) else {
                continue;
            };
            let id = ctx.note(
                EvidenceKind::Spec,
                &r,
                None,
                format!("{r}: {res} used {used} of {}", h),
            );
            let mut prop = Proposal::new(cause, r.clone(), RULE, 0.45)
                .related([ObjRef::new("Namespace", "", &r.namespace)])
                .say(
                    format!("Quota {r} is at its limit for {res} ({used} of {h})."),
                    &[id],
                );
            if cause == "namespace_services_quota_exceeded" {
                // A client that cannot resolve a service that was never created.
                let lines =
                    ctx.logs_matching(&r.namespace, "", &["no such host", "could not resolve"]);
                if let Some(lid) = ctx.note_logs(&r, &lines) {
                    prop = prop
                        .say(
                            "Clients in the namespace fail to resolve a service that is not there.",
                            &[lid],
                        )
                        .scale(1.8);
                }
            }
            prop.hint(format!(
                "Raise {res} in {r} or remove what is no longer used."
            ))
            .done(ctx);
        }
    }
}

/// The Deployment behind a ReplicaSet (or the object itself for others).
fn controller_of(ctx: &Ctx, obj: &ObjRef) -> Option<ObjRef> {
    let objects = &ctx.cap.objects;
    if let Some(v) = objects.find(&obj.kind, &obj.namespace, &obj.name) {
        return objects.owners(v).into_iter().last();
    }
    // A ReplicaSet `<deployment>-<hash>` that the capture does not hold.
    let (d, _) = obj
        .name
        .rsplit_once('-')
        .filter(|_| obj.kind == "ReplicaSet")?;
    objects
        .find("Deployment", &obj.namespace, d)
        .map(|_| ObjRef::new("Deployment", &obj.namespace, d))
}
