//! The causes the explainer knows, with what evidence each needs. The same
//! table is printed as `docs/causes.md` (`sentinel explain --catalogue`).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Scheduling,
    Admission,
    Startup,
    Runtime,
    Routing,
    Performance,
    Infrastructure,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Cause {
    pub id: &'static str,
    pub family: Family,
    pub title: &'static str,
    /// The evidence the rule needs to propose it.
    pub needs: &'static str,
    /// Other names the same cause goes by (accepted when scoring cases).
    pub aliases: &'static [&'static str],
}

use Family::*;

macro_rules! c {
    ($id:literal, $f:ident, $t:literal, $n:literal $(, $a:literal)*) => {
        Cause { id: $id, family: $f, title: $t, needs: $n, aliases: &[$($a),*] }
    };
}

pub const CATALOGUE: &[Cause] = &[
    c!(
        "insufficient_cpu",
        Scheduling,
        "no node has enough CPU for the pod's requests",
        "FailedScheduling `Insufficient cpu` (or the PodScheduled condition saying so)",
        "insufficient_node_cpu"
    ),
    c!(
        "insufficient_memory",
        Scheduling,
        "no node has enough memory for the pod's requests",
        "FailedScheduling `Insufficient memory`",
        "insufficient_node_memory"
    ),
    c!(
        "node_selector_mismatch",
        Scheduling,
        "the pod's nodeSelector matches no node",
        "FailedScheduling `didn't match Pod's node affinity/selector` and a nodeSelector label no node carries"
    ),
    c!(
        "node_affinity_mismatch",
        Scheduling,
        "the pod's required node affinity matches no node",
        "FailedScheduling `didn't match Pod's node affinity/selector` and a required nodeAffinity",
        "affinity_mismatch"
    ),
    c!(
        "pod_anti_affinity_conflict",
        Scheduling,
        "pod anti-affinity leaves no node for the pod",
        "FailedScheduling `didn't match pod anti-affinity rules`",
        "anti_affinity_conflict",
        "pod_anti_affinity_mismatch"
    ),
    c!(
        "pod_affinity_mismatch",
        Scheduling,
        "no node runs the pods this pod must be placed with",
        "FailedScheduling `didn't match pod affinity rules`"
    ),
    c!(
        "untolerated_taint",
        Scheduling,
        "the nodes carry a taint the pod does not tolerate",
        "FailedScheduling `had untolerated taint {…}` (or `…that the pod didn't tolerate`)",
        "taint_without_toleration",
        "taint_not_tolerated"
    ),
    c!(
        "node_cordoned",
        Scheduling,
        "the only suitable nodes are cordoned",
        "FailedScheduling `were unschedulable` / the unschedulable taint, and nodes with spec.unschedulable",
        "cordoned_node",
        "node_unschedulable"
    ),
    c!(
        "pvc_missing",
        Scheduling,
        "the pod mounts a claim that does not exist",
        "FailedScheduling `persistentvolumeclaim … not found`"
    ),
    c!(
        "pvc_storage_class_missing",
        Scheduling,
        "the claim names a storage class that does not exist",
        "a Pending claim whose storageClassName is not in the capture, or ProvisioningFailed `storageclass … not found`",
        "storage_class_not_found",
        "pvc_unbound_storage_class"
    ),
    c!(
        "pvc_access_mode_mismatch",
        Scheduling,
        "no volume offers the access mode the claim asks for",
        "a Pending claim, and available volumes of its class whose accessModes lack the claim's",
        "pvc_unbound_access_mode"
    ),
    c!(
        "pvc_capacity_insufficient",
        Scheduling,
        "no volume is as large as the claim",
        "a Pending claim, and available volumes of its class all smaller than the request",
        "pvc_unbound_capacity"
    ),
    c!(
        "pvc_selector_mismatch",
        Scheduling,
        "the claim's selector matches no volume",
        "a Pending claim with a selector no volume's labels satisfy",
        "pvc_unbound_selector"
    ),
    c!(
        "pv_already_bound",
        Scheduling,
        "the volume the claim wants is bound to another claim",
        "a Pending claim whose volumeName (or every matching volume) has a claimRef to another claim",
        "pvc_unbound_pv_bound"
    ),
    c!(
        "namespace_cpu_quota_exceeded",
        Admission,
        "the namespace's CPU quota is used up",
        "FailedCreate `exceeded quota … cpu` (an event, or a Deployment's ReplicaFailure condition), or a ResourceQuota with used ≥ hard for cpu",
        "cpu_quota_exceeded"
    ),
    c!(
        "namespace_memory_quota_exceeded",
        Admission,
        "the namespace's memory quota is used up",
        "FailedCreate `exceeded quota … memory` (an event, or a Deployment's ReplicaFailure condition)",
        "memory_quota_exceeded"
    ),
    c!(
        "namespace_pods_quota_exceeded",
        Admission,
        "the namespace's pod count quota is used up",
        "FailedCreate `exceeded quota … pods` (an event, or a Deployment's ReplicaFailure condition)",
        "namespace_pod_quota_exceeded",
        "pods_quota_exceeded"
    ),
    c!(
        "namespace_services_quota_exceeded",
        Admission,
        "the namespace's service count quota is used up",
        "a ResourceQuota with used services = hard, a selector-less gap or a client failing to resolve the missing service",
        "namespace_service_quota_exceeded",
        "services_quota_exceeded"
    ),
    c!(
        "namespace_storage_quota_exceeded",
        Admission,
        "the namespace's storage quota is used up",
        "FailedCreate / ProvisioningFailed `exceeded quota … requests.storage` or `persistentvolumeclaims`",
        "storage_quota_exceeded"
    ),
    c!(
        "service_account_missing",
        Admission,
        "the pod template names a service account that does not exist",
        "FailedCreate `error looking up service account … not found` (an event, or a Deployment's ReplicaFailure condition)",
        "missing_service_account",
        "serviceaccount_not_found"
    ),
    c!(
        "image_not_found",
        Startup,
        "the image reference does not exist (wrong name or tag)",
        "ErrImagePull / ImagePullBackOff with `not found` / `manifest unknown` / InvalidImageName",
        "wrong_image_reference",
        "wrong_image",
        "image_pull_not_found",
        "invalid_image",
        "bad_image_tag"
    ),
    c!(
        "registry_dns_failure",
        Startup,
        "the image registry's name does not resolve",
        "ErrImagePull with `lookup … no such host` / `server misbehaving`",
        "registry_unreachable",
        "image_registry_dns_failure"
    ),
    c!(
        "image_pull_secret_missing",
        Startup,
        "pulling needs credentials the pod does not have",
        "ErrImagePull with `unauthorized` / `authorization failed` / `pull access denied`, or FailedToRetrieveImagePullSecret",
        "missing_image_pull_secret",
        "image_pull_unauthorized"
    ),
    c!(
        "volume_permission_denied",
        Startup,
        "the container may not write to its mounted volume",
        "a crash loop and `permission denied` on a mount path in logs or the termination message",
        "volume_mount_permission_denied",
        "permission_denied"
    ),
    c!(
        "config_error_crash_loop",
        Startup,
        "the container exits at start on a configuration error",
        "CrashLoopBackOff with a non-zero exit and configuration errors in the logs",
        "crash_loop_config_error",
        "crashloop_config_error",
        "config_error",
        "crash_loop"
    ),
    c!(
        "configmap_missing",
        Startup,
        "the pod references a ConfigMap, Secret or key that does not exist",
        "CreateContainerConfigError `configmap … not found` / `couldn't find key`",
        "missing_configmap",
        "secret_missing",
        "create_container_config_error"
    ),
    c!(
        "oom_killed",
        Runtime,
        "the container exceeds its memory limit and is OOMKilled",
        "a last termination OOMKilled (exit 137); the limit, the usage trend and a recent rollout when captured",
        "oom_after_rollout",
        "memory_limit_exceeded",
        "oomkilled"
    ),
    c!(
        "job_failed",
        Runtime,
        "a Job used up its retries or its time and failed",
        "the Job's Failed condition (BackoffLimitExceeded, DeadlineExceeded, PodFailurePolicy); how its pods' containers ended and their error log lines when captured",
        "backoff_limit_exceeded",
        "job_deadline_exceeded",
        "cronjob_failed"
    ),
    c!(
        "cronjob_late",
        Runtime,
        "a CronJob started no run when due",
        "the CronJob's schedule (in its time zone) against its lastScheduleTime; a run still going under concurrencyPolicy Forbid and its pod's last log line, or the controller's warning events about the CronJob, when captured",
        "cronjob_missed_schedule",
        "cronjob_not_running",
        "cronjob_blocked"
    ),
    c!(
        "rollout_stalled",
        Runtime,
        "a rollout makes no progress",
        "a Deployment's Progressing condition ProgressDeadlineExceeded, a ReplicaFailure the API server gave that names no quota or service account, or the incident's rollout_stalled_seconds; the new revision's pods that are not ready (and the readiness probe they fail) when captured; proposed below the causes the pods' own evidence names",
        "rollout_stuck",
        "progress_deadline_exceeded",
        "deployment_rollout_stuck"
    ),
    c!(
        "liveness_probe_wrong_port",
        Runtime,
        "the liveness probe checks a port nothing listens on",
        "Unhealthy `Liveness probe failed: … connection refused` and a probe port the container does not declare",
        "probe_wrong_port",
        "liveness_probe_failure"
    ),
    c!(
        "liveness_probe_wrong_protocol",
        Runtime,
        "the liveness probe speaks the wrong protocol",
        "Unhealthy `Liveness probe failed` with an HTTP/HTTPS/gRPC mismatch",
        "probe_wrong_protocol"
    ),
    c!(
        "liveness_probe_bad_timing",
        Runtime,
        "the liveness probe's timing kills a healthy but slow container",
        "Unhealthy `Liveness probe failed` with timeouts, or refusals before the app is up",
        "probe_timeout",
        "liveness_probe_timeout",
        "probe_bad_timing"
    ),
    c!(
        "readiness_probe_wrong_port",
        Runtime,
        "the readiness probe checks a port nothing listens on",
        "Unhealthy `Readiness probe failed: … connection refused` and an undeclared port",
        "readiness_probe_failure"
    ),
    c!(
        "readiness_probe_wrong_protocol",
        Runtime,
        "the readiness probe speaks the wrong protocol",
        "Unhealthy `Readiness probe failed` with an HTTP/HTTPS/gRPC mismatch"
    ),
    c!(
        "readiness_probe_bad_timing",
        Runtime,
        "the readiness probe's timeout is shorter than the app's answer",
        "Unhealthy `Readiness probe failed` with timeouts",
        "readiness_probe_timeout"
    ),
    c!(
        "service_selector_mismatch",
        Routing,
        "the Service selects no pods",
        "a Service whose selector matches no pod and Endpoints without addresses",
        "service_no_endpoints"
    ),
    c!(
        "service_port_mismatch",
        Routing,
        "the Service's targetPort is not a port the pods serve",
        "a Service whose targetPort no selected container declares",
        "service_target_port_mismatch",
        "port_mismatch"
    ),
    c!(
        "service_protocol_mismatch",
        Routing,
        "the Service and the pods disagree on the protocol",
        "a Service port whose protocol or appProtocol differs from the container port's",
        "protocol_mismatch"
    ),
    c!(
        "wrong_service_address",
        Routing,
        "a client is configured with an address no Service has",
        "client logs failing to resolve or reach a name that is not a Service in the capture",
        "wrong_service_name",
        "client_wrong_address",
        "client_misconfigured_address"
    ),
    c!(
        "cpu_throttling",
        Performance,
        "the container is throttled at its CPU limit",
        "container_cpu_cfs_throttled_* rising at the onset (and the CPU limit)",
        "cpu_limit_throttling",
        "cpu_throttled"
    ),
    c!(
        "cpu_saturation",
        Performance,
        "the node's CPU is saturated",
        "node CPU utilisation near 100% from the onset, without one pod to blame",
        "node_cpu_saturation"
    ),
    c!(
        "noisy_neighbor",
        Performance,
        "a co-located pod takes the node's CPU",
        "one pod's CPU jumping at the onset (or a new pod, not a replacement, arriving with it) on the node whose other pods slow down after it",
        "noisy_neighbour"
    ),
    c!(
        "dependency_network_delay",
        Performance,
        "a dependency, or the network path to it, is slow",
        "a dependency's latency rising first without its CPU rising (services that moved at the same moment told apart by the known call graph), its callers following, clients timing out on it",
        "network_delay",
        "dependency_latency",
        "slow_dependency"
    ),
    c!(
        "hpa_at_max",
        Performance,
        "the autoscaler is at its maximum and cannot add replicas",
        "a HorizontalPodAutoscaler at maxReplicas (ScalingLimited) or kube-state-metrics saying so",
        "hpa_max_replicas",
        "hpa_maxed_out"
    ),
    c!(
        "node_not_ready",
        Infrastructure,
        "the node is NotReady",
        "a node whose Ready condition is False or Unknown, and its pods affected",
        "node_notready"
    ),
    c!(
        "kubelet_down",
        Infrastructure,
        "the kubelet on the node stopped",
        "Ready Unknown `Kubelet stopped posting node status` while the machine still answers (node exporter up, logs)",
        "kubelet_stopped"
    ),
    c!(
        "container_runtime_down",
        Infrastructure,
        "the node's container runtime is down",
        "Ready False with `container runtime is down` / `PLEG is not healthy` / RuntimeReady=false",
        "runtime_down",
        "containerd_down"
    ),
    c!(
        "kube_proxy_down",
        Infrastructure,
        "kube-proxy is not running on the node",
        "the node's kube-proxy pod not running, and Service traffic from that node failing"
    ),
    c!(
        "scheduler_down",
        Infrastructure,
        "the scheduler is not running",
        "pods pending with no node and no scheduling events, and the kube-scheduler pod not running",
        "kube_scheduler_down"
    ),
    c!(
        "node_disk_pressure",
        Infrastructure,
        "the node is low on disk and evicts pods",
        "DiskPressure True, the disk-pressure taint, pods Evicted for ephemeral-storage"
    ),
    c!(
        "node_memory_pressure",
        Infrastructure,
        "the node is low on memory and evicts pods",
        "MemoryPressure True, pods Evicted `low on resource: memory`"
    ),
    c!(
        "node_network_degraded",
        Infrastructure,
        "the node's network delays or drops packets",
        "NetworkUnavailable, node network drops/errors rising, or timeouts only from pods on one node",
        "node_network_delay",
        "node_network_loss",
        "node_packet_loss"
    ),
    c!(
        "dns_failure",
        Infrastructure,
        "cluster DNS is failing",
        "CoreDNS pods not ready, or lookups of existing Services failing in several pods",
        "coredns_down",
        "dns_resolution_failure"
    ),
    c!(
        "certificate_expired",
        Infrastructure,
        "a TLS certificate has expired",
        "`x509: certificate has expired` in logs or events",
        "cert_expired",
        "tls_certificate_expired",
        "certificate_expiry"
    ),
];

pub fn get(id: &str) -> Option<&'static Cause> {
    CATALOGUE.iter().find(|c| c.id == id)
}

pub fn title(id: &str) -> &'static str {
    get(id).map(|c| c.title).unwrap_or("an unknown cause")
}

/// Does a predicted cause id answer an expected one (by id or alias)?
pub fn matches(predicted: &str, expected: &str) -> bool {
    let norm = |s: &str| s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    let (p, e) = (norm(predicted), norm(expected));
    p == e || get(&p).is_some_and(|c| c.aliases.iter().any(|a| *a == e))
}

/// The catalogue as Markdown, for `docs/causes.md`.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Causes the explainer knows\n\n\
         Generated by `sentinel explain --catalogue`. Each cause has a snake_case id, the\n\
         family it belongs to, and the evidence its rule needs before it proposes it.\n\
         Aliases are other names accepted when scoring labelled cases.\n",
    );
    let mut family = None;
    for c in CATALOGUE {
        if family != Some(c.family) {
            family = Some(c.family);
            let name = serde_json::to_value(c.family)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            out.push_str(&format!(
                "\n## {name}\n\n| id | what it means | evidence it needs | aliases |\n|---|---|---|---|\n"
            ));
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            c.id,
            c.title,
            c.needs.replace('|', "\\|"),
            c.aliases.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_snake_case_and_aliases_do_not_collide() {
        let mut all: Vec<&str> = CATALOGUE.iter().map(|c| c.id).collect();
        for c in CATALOGUE {
            assert!(
                c.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{}",
                c.id
            );
            all.extend(c.aliases.iter().copied());
        }
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "an id or alias appears twice");
        assert!(CATALOGUE.len() >= 40);
    }

    #[test]
    fn aliases_match_but_other_causes_do_not() {
        assert!(matches("oom_killed", "OOMKilled"));
        assert!(matches("image_not_found", "wrong_image_reference"));
        assert!(!matches("image_not_found", "oom_killed"));
        assert!(markdown().contains("| `node_selector_mismatch` |"));
    }
}
