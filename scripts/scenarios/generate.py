#!/usr/bin/env python3
"""Write the labelled failure scenarios under tests/scenarios/explain: one
case folder per scenario, in the format `sentinel explain` reads.

    python3 scripts/scenarios/generate.py [OUT]
"""

import math
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from cluster import ONSET_MIN, Cluster, ts  # noqa: E402

SCENARIOS = []


def scenario(fn):
    SCENARIOS.append(fn)
    return fn


def pod_ref(p):
    return f'Pod/{p["metadata"]["namespace"]}/{p["metadata"]["name"]}'


def unschedulable(c, app, message, mutate=None, replicas=1):
    """A new deployment whose pods cannot be placed."""
    pods = c.app("shop", app, replicas, f"ghcr.io/acme/{app}:1.0.0")
    for p in pods:
        if mutate:
            mutate(p)
        c.pending(p, message)
    return pods[0]


# --- scheduling -----------------------------------------------------------------

@scenario
def insufficient_cpu(c):
    p = unschedulable(c, "reports", "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
                      lambda p: p["spec"]["containers"][0]["resources"]["requests"].update(cpu="6"))
    return pod_ref(p), "insufficient_cpu"


@scenario
def insufficient_memory(c):
    p = unschedulable(c, "search-index", "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
                      lambda p: p["spec"]["containers"][0]["resources"]["requests"].update(memory="24Gi"))
    return pod_ref(p), "insufficient_memory"


@scenario
def node_selector_mismatch(c):
    p = unschedulable(c, "gpu-render", "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
                      lambda p: p["spec"].update(nodeSelector={"accelerator": "nvidia-a100"}))
    return pod_ref(p), "node_selector_mismatch"


@scenario
def node_affinity_mismatch(c):
    aff = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-east-1a"]}]}]}}}
    p = unschedulable(c, "ledger", "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
                      lambda p: p["spec"].update(affinity=aff))
    return pod_ref(p), "node_affinity_mismatch"


@scenario
def pod_anti_affinity(c):
    pods = c.app("shop", "cache", 4, "redis:7.2")
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    for p in pods:
        p["spec"]["affinity"] = anti
    c.pending(pods[3], "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.")
    return pod_ref(pods[3]), "pod_anti_affinity_conflict"


@scenario
def pod_affinity(c):
    aff = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "session-store"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    p = unschedulable(c, "session-api", "0/3 nodes are available: 3 node(s) didn't match pod affinity rules. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
                      lambda p: p["spec"].update(affinity=aff))
    return pod_ref(p), "pod_affinity_mismatch"


@scenario
def taint_without_toleration(c):
    for n in ["node-a", "node-b", "node-c"]:
        c.find("Node", n)["spec"]["taints"] = [{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}]
    p = unschedulable(c, "notifier", "0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: batch}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
    return pod_ref(p), "untolerated_taint"


@scenario
def cordoned_node(c):
    for n in ["node-b", "node-c"]:
        node = c.find("Node", n)
        node["spec"]["unschedulable"] = True
        node["spec"]["taints"] = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": ts(20)}]
    c.event("Node", None, "node-b", "NodeNotSchedulable", "Node node-b status is now: NodeNotSchedulable", type="Normal", at=20)
    p = unschedulable(c, "mailer", "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.")
    return pod_ref(p), "node_cordoned"


def with_claim(c, app, claim, pv=None, sc="standard", modes=("ReadWriteOnce",), size="10Gi", selector=None, volume_name=None, events=()):
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
           "metadata": {"name": claim, "namespace": "shop", "creationTimestamp": ts(ONSET_MIN - 1), "uid": "pvc-" + claim},
           "spec": {"accessModes": list(modes), "resources": {"requests": {"storage": size}}, "storageClassName": sc, "volumeMode": "Filesystem"},
           "status": {"phase": "Pending"}}
    if selector:
        pvc["spec"]["selector"] = {"matchLabels": selector}
    if volume_name:
        pvc["spec"]["volumeName"] = volume_name
    c.add(pvc)
    for reason, msg in events:
        c.event("PersistentVolumeClaim", "shop", claim, reason, msg, type="Warning" if reason != "WaitForFirstConsumer" else "Normal",
                at=ONSET_MIN + 1, count=8, component="persistentvolume-controller")
    p = unschedulable(c, app, "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
                      lambda p: p["spec"]["volumes"].append({"name": "data", "persistentVolumeClaim": {"claimName": claim}}))
    return p


def pv(c, name, sc="manual", modes=("ReadWriteOnce",), size="10Gi", labels=None, claim=None):
    v = {"apiVersion": "v1", "kind": "PersistentVolume",
         "metadata": {"name": name, "creationTimestamp": ts(-5000), "labels": labels or {"type": "local"}},
         "spec": {"accessModes": list(modes), "capacity": {"storage": size}, "storageClassName": sc,
                  "persistentVolumeReclaimPolicy": "Retain", "hostPath": {"path": "/mnt/" + name}},
         "status": {"phase": "Bound" if claim else "Available"}}
    if claim:
        v["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": claim[0], "name": claim[1]}
    c.add(v)


@scenario
def pvc_storage_class_missing(c):
    with_claim(c, "uploads", "uploads-data", sc="fast-ssd",
               events=[("ProvisioningFailed", 'storageclass.storage.k8s.io "fast-ssd" not found')])
    return "PersistentVolumeClaim/shop/uploads-data", "pvc_storage_class_missing"


@scenario
def pvc_access_mode(c):
    pv(c, "nfs-share-1", modes=("ReadWriteOnce",), size="50Gi")
    with_claim(c, "media", "media-shared", sc="manual", modes=("ReadWriteMany",), size="20Gi",
               events=[("FailedBinding", "no persistent volumes available for this claim and no storage class is set")])
    return "PersistentVolumeClaim/shop/media-shared", "pvc_access_mode_mismatch"


@scenario
def pvc_capacity(c):
    pv(c, "local-disk-1", size="5Gi")
    pv(c, "local-disk-2", size="8Gi")
    with_claim(c, "warehouse", "warehouse-db", sc="manual", size="100Gi",
               events=[("FailedBinding", "no persistent volumes available for this claim and no storage class is set")])
    return "PersistentVolumeClaim/shop/warehouse-db", "pvc_capacity_insufficient"


@scenario
def pvc_selector(c):
    pv(c, "ssd-vol-1", size="20Gi", labels={"tier": "ssd", "team": "data"})
    with_claim(c, "analytics", "analytics-scratch", sc="manual", size="10Gi", selector={"tier": "nvme"},
               events=[("FailedBinding", "no persistent volumes available for this claim and no storage class is set")])
    return "PersistentVolumeClaim/shop/analytics-scratch", "pvc_selector_mismatch"


@scenario
def pv_already_bound(c):
    pv(c, "orders-archive", size="50Gi", claim=("billing", "archive-claim"))
    with_claim(c, "archiver", "orders-archive-claim", sc="manual", size="50Gi", volume_name="orders-archive")
    return "PersistentVolumeClaim/shop/orders-archive-claim", "pv_already_bound"


# --- admission ----------------------------------------------------------------------

def quota(c, name, hard, used):
    c.add({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name, "namespace": "shop", "creationTimestamp": ts(-9000)},
           "spec": {"hard": hard}, "status": {"hard": hard, "used": used}})


def failed_create(c, app, message, replicas=3):
    """A scale-up whose new pods the API server refuses."""
    d = c.find("Deployment", app, "shop")
    d["spec"]["replicas"] = replicas + 2
    d["status"]["conditions"] = [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": message, "lastTransitionTime": ts(ONSET_MIN)}]
    rs = [i for i in c.items if i["kind"] == "ReplicaSet" and i["metadata"].get("ownerReferences", [{}])[0].get("name") == app][-1]
    rsn = rs["metadata"]["name"]
    c.event("ReplicaSet", "shop", rsn, "FailedCreate", message.replace("PODNAME", rsn + "-x7k2q"), at=ONSET_MIN + 1, count=12, component="replicaset-controller")
    return "Deployment/shop/" + app


@scenario
def quota_memory(c):
    quota(c, "shop-compute", {"limits.memory": "4Gi", "limits.cpu": "8"}, {"limits.memory": "4Gi", "limits.cpu": "3"})
    return failed_create(c, "catalog", 'Error creating: pods "PODNAME" is forbidden: exceeded quota: shop-compute, requested: limits.memory=512Mi, used: limits.memory=4Gi, limited: limits.memory=4Gi'), "namespace_memory_quota_exceeded"


@scenario
def quota_cpu(c):
    quota(c, "shop-compute", {"requests.cpu": "2", "requests.memory": "16Gi"}, {"requests.cpu": "2", "requests.memory": "2Gi"})
    return failed_create(c, "frontend", 'Error creating: pods "PODNAME" is forbidden: exceeded quota: shop-compute, requested: requests.cpu=250m, used: requests.cpu=2, limited: requests.cpu=2'), "namespace_cpu_quota_exceeded"


@scenario
def quota_pods(c):
    quota(c, "shop-objects", {"pods": "10"}, {"pods": "10"})
    return failed_create(c, "payments", 'Error creating: pods "PODNAME" is forbidden: exceeded quota: shop-objects, requested: pods=1, used: pods=10, limited: pods=10'), "namespace_pods_quota_exceeded"


@scenario
def quota_services(c):
    quota(c, "shop-objects", {"services": "4", "pods": "50"}, {"services": "4", "pods": "9"})
    pods = c.app("shop", "recommender", 1, "ghcr.io/acme/recommender:0.3.0", port=None)
    c.log(pods[0], 'Get "http://recommender-api.shop.svc.cluster.local/v1/recs": dial tcp: lookup recommender-api.shop.svc.cluster.local on 10.96.0.10:53: no such host', n=6, container="recommender")
    return "ResourceQuota/shop/shop-objects", "namespace_services_quota_exceeded"


@scenario
def quota_storage(c):
    quota(c, "shop-storage", {"requests.storage": "100Gi", "persistentvolumeclaims": "10"}, {"requests.storage": "95Gi", "persistentvolumeclaims": "4"})
    c.add({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "timeseries", "namespace": "shop", "creationTimestamp": ts(ONSET_MIN - 1)},
           "spec": {"replicas": 1, "serviceName": "timeseries", "selector": {"matchLabels": {"app": "timeseries"}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}}}]},
           "status": {"replicas": 0}})
    c.event("StatefulSet", "shop", "timeseries", "FailedCreate",
            'create Claim data-timeseries-0 for Pod timeseries-0 in StatefulSet timeseries failed error: persistentvolumeclaims "data-timeseries-0" is forbidden: exceeded quota: shop-storage, requested: requests.storage=20Gi, used: requests.storage=95Gi, limited: requests.storage=100Gi',
            at=ONSET_MIN + 1, count=9, component="statefulset-controller")
    return "StatefulSet/shop/timeseries", "namespace_storage_quota_exceeded"


@scenario
def missing_service_account(c):
    d = c.find("Deployment", "checkout", "shop")
    d["spec"]["template"]["spec"]["serviceAccountName"] = "checkout-sa"
    return failed_create(c, "checkout", 'Error creating: pods "PODNAME" is forbidden: error looking up service account shop/checkout-sa: serviceaccount "checkout-sa" not found'), "service_account_missing"


# --- startup ---------------------------------------------------------------------------

def pull_failure(c, app, image, message, secrets=None):
    pods = c.rollout("shop", app, image)
    for p in pods:
        if secrets is not None:
            p["spec"]["imagePullSecrets"] = secrets
        c.waiting(p, "ImagePullBackOff", f'Back-off pulling image "{image}"')
        c.event("Pod", "shop", p["metadata"]["name"], "Failed", f'Failed to pull image "{image}": {message}', at=ONSET_MIN + 1, count=4)
        c.event("Pod", "shop", p["metadata"]["name"], "Failed", "Error: ErrImagePull", at=ONSET_MIN + 1, count=4)
        c.event("Pod", "shop", p["metadata"]["name"], "BackOff", f'Back-off pulling image "{image}"', type="Normal", at=ONSET_MIN + 2, count=9)
    return pod_ref(pods[0])


@scenario
def wrong_image_tag(c):
    img = "ghcr.io/acme/catalog:1.9.1-rc"
    return pull_failure(c, "catalog", img, f'rpc error: code = NotFound desc = failed to pull and unpack image "{img}": failed to resolve reference "{img}": {img}: not found'), "image_not_found"


@scenario
def wrong_image_name(c):
    img = "docker.io/library/ngnix:1.25"
    return pull_failure(c, "frontend", img, f'rpc error: code = Unknown desc = failed to pull and unpack image "{img}": failed to resolve reference "{img}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
                        secrets=[{"name": "dockerhub"}]), "image_not_found"


@scenario
def registry_dns(c):
    img = "registry.acme.internal/shop/payments:5.1.0"
    return pull_failure(c, "payments", img, f'rpc error: code = Unknown desc = failed to pull and unpack image "{img}": failed to resolve reference "{img}": failed to do request: Head "https://registry.acme.internal/v2/shop/payments/manifests/5.1.0": dial tcp: lookup registry.acme.internal on 10.0.0.2:53: no such host'), "registry_dns_failure"


@scenario
def missing_pull_secret(c):
    img = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout:2.8.0"
    return pull_failure(c, "checkout", img, f'rpc error: code = Unknown desc = failed to pull and unpack image "{img}": failed to resolve reference "{img}": unexpected status from HEAD request to https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/checkout/manifests/2.8.0: 401 Unauthorized'), "image_pull_secret_missing"


def crashing(c, app, image, lines, exit_code=1, message=None, mutate=None):
    pods = c.rollout("shop", app, image, mutate=mutate)
    for p in pods:
        c.crash(p, exit_code=exit_code, message=message)
        c.event("Pod", "shop", p["metadata"]["name"], "BackOff", f"Back-off restarting failed container app in pod {p['metadata']['name']}_shop({p['metadata']['uid']})", at=ONSET_MIN + 3, count=14)
        for i, line in enumerate(lines):
            c.log(p, line, at=ONSET_MIN + 0.1 * i)
    return pods


@scenario
def volume_permission(c):
    def mutate(ct):
        ct["volumeMounts"] = [{"name": "data", "mountPath": "/var/lib/catalog"}]
    pods = crashing(c, "catalog", "ghcr.io/acme/catalog:2.0.0",
                    ["level=info msg=\"starting catalog 2.0.0\"", "level=fatal msg=\"open /var/lib/catalog/index.lock: permission denied\""], mutate=mutate)
    for p in pods:
        p["spec"]["securityContext"] = {"runAsUser": 10001, "runAsNonRoot": True}
        p["spec"]["volumes"].append({"name": "data", "hostPath": {"path": "/srv/catalog"}})
    return pod_ref(pods[0]), "volume_permission_denied"


@scenario
def config_error(c):
    pods = crashing(c, "payments", "ghcr.io/acme/payments:5.1.0",
                    ["2026-03-10T14:30:01Z INFO payments 5.1.0 starting", "2026-03-10T14:30:01Z FATAL invalid configuration: PAYMENTS_GATEWAY_URL must be set"])
    return pod_ref(pods[0]), "config_error_crash_loop"


@scenario
def config_yaml_error(c):
    pods = crashing(c, "frontend", "ghcr.io/acme/frontend:3.5.0", [
        "Error: yaml: unmarshal errors:", "  line 14: cannot unmarshal !!str `eight` into int"], exit_code=2)
    return pod_ref(pods[0]), "config_error_crash_loop"


@scenario
def missing_configmap(c):
    pods = c.rollout("shop", "checkout", "ghcr.io/acme/checkout:2.8.0",
                     mutate=lambda ct: ct.update(envFrom=[{"configMapRef": {"name": "checkout-config-v2"}}]))
    for p in pods:
        c.waiting(p, "CreateContainerConfigError", 'configmap "checkout-config-v2" not found')
        c.event("Pod", "shop", p["metadata"]["name"], "Failed", 'Error: configmap "checkout-config-v2" not found', at=ONSET_MIN + 1, count=7)
    return pod_ref(pods[0]), "configmap_missing"


# --- runtime --------------------------------------------------------------------------------

@scenario
def oom_after_rollout(c):
    pods = c.rollout("shop", "checkout", "ghcr.io/acme/checkout:2.8.0", at=ONSET_MIN - 8)
    for p in pods:
        c.crash(p, reason="OOMKilled", exit_code=137, restarts=3)
        c.event("Pod", "shop", p["metadata"]["name"], "BackOff", f"Back-off restarting failed container app in pod {p['metadata']['name']}_shop", at=ONSET_MIN + 2, count=6)
        name = p["metadata"]["name"]
        c.series("container_memory_working_set_bytes", {"namespace": "shop", "pod": name, "container": "app"},
                 lambda m: 180e6 if m < ONSET_MIN - 8 else min(536e6, 180e6 + (m - ONSET_MIN + 8) * 45e6))
    return pod_ref(pods[0]), "oom_killed"


@scenario
def oom_steady_leak(c):
    p = c.pods_of("catalog")[0]
    c.crash(p, reason="OOMKilled", exit_code=137, restarts=1, waiting="")
    p["status"]["containerStatuses"][0]["state"] = {"running": {"startedAt": ts(ONSET_MIN + 0.5)}}
    c.series("container_memory_working_set_bytes", {"namespace": "shop", "pod": p["metadata"]["name"], "container": "app"},
             lambda m: 200e6 + m * 10e6 if m < ONSET_MIN else 210e6)
    return pod_ref(p), "oom_killed"


def probe_failure(c, app, kind, message, mutate):
    pods = c.rollout("shop", app, c.find("Deployment", app, "shop")["spec"]["template"]["spec"]["containers"][0]["image"].replace(":", ":r"), mutate=mutate)
    for p in pods:
        if kind == "Liveness":
            c.crash(p, exit_code=137, restarts=6, reason="Error")
            c.event("Pod", "shop", p["metadata"]["name"], "Killing", "Container app failed liveness probe, will be restarted", type="Normal", at=ONSET_MIN + 2, count=6)
        else:
            c.unready(p, "ContainersNotReady", ONSET_MIN)
            p["status"]["containerStatuses"][0]["ready"] = False
        c.event("Pod", "shop", p["metadata"]["name"], "Unhealthy", f"{kind} probe failed: {message.replace('IP', p['status']['podIP'])}", at=ONSET_MIN + 2, count=18)
    return pod_ref(pods[0])


@scenario
def liveness_wrong_port(c):
    return probe_failure(c, "catalog", "Liveness", 'Get "http://IP:9090/livez": dial tcp IP:9090: connect: connection refused',
                         lambda ct: ct["livenessProbe"]["httpGet"].update(port=9090)), "liveness_probe_wrong_port"


@scenario
def readiness_wrong_port(c):
    return probe_failure(c, "frontend", "Readiness", 'Get "http://IP:8081/healthz": dial tcp IP:8081: connect: connection refused',
                         lambda ct: ct["readinessProbe"]["httpGet"].update(port=8081)), "readiness_probe_wrong_port"


@scenario
def liveness_wrong_protocol(c):
    return probe_failure(c, "payments", "Liveness", 'Get "https://IP:8080/livez": http: server gave HTTP response to HTTPS client',
                         lambda ct: ct["livenessProbe"]["httpGet"].update(scheme="HTTPS")), "liveness_probe_wrong_protocol"


@scenario
def readiness_wrong_protocol(c):
    return probe_failure(c, "checkout", "Readiness", 'Get "http://IP:8080/healthz": net/http: HTTP/1.x transport connection broken: malformed HTTP response "\\x00\\x00\\x06\\x04"',
                         lambda ct: ct.update(ports=[{"containerPort": 8080, "name": "grpc", "protocol": "TCP"}])), "readiness_probe_wrong_protocol"


@scenario
def liveness_timeout(c):
    return probe_failure(c, "catalog", "Liveness", 'Get "http://IP:8080/livez": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
                         lambda ct: ct["livenessProbe"].update(timeoutSeconds=1, initialDelaySeconds=0)), "liveness_probe_bad_timing"


@scenario
def readiness_timeout(c):
    return probe_failure(c, "payments", "Readiness", 'Get "http://IP:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
                         lambda ct: ct["readinessProbe"].update(timeoutSeconds=1)), "readiness_probe_bad_timing"


# --- service routing ----------------------------------------------------------------------

@scenario
def service_selector(c):
    svc = c.find("Service", "payments", "shop")
    svc["spec"]["selector"] = {"app": "payment"}
    c.find("Endpoints", "payments", "shop")["subsets"] = []
    for p in c.pods_of("checkout"):
        c.log(p, 'POST http://payments.shop.svc.cluster.local/v1/charge: dial tcp 10.96.14.10:80: connect: connection refused', n=5)
    return "Service/shop/payments", "service_selector_mismatch"


@scenario
def service_port(c):
    svc = c.find("Service", "catalog", "shop")
    svc["spec"]["ports"][0]["targetPort"] = 8000
    ep = c.find("Endpoints", "catalog", "shop")
    ep["subsets"][0]["ports"][0]["port"] = 8000
    for p in c.pods_of("frontend"):
        c.log(p, 'GET http://catalog.shop.svc.cluster.local/items: dial tcp 10.96.9.10:80: connect: connection refused', n=4)
    return "Service/shop/catalog", "service_port_mismatch"


@scenario
def service_protocol(c):
    pods = c.app("shop", "metrics-relay", 1, "ghcr.io/acme/relay:1.2.0", port=8125, proto="UDP")
    svc = c.find("Service", "metrics-relay", "shop")
    svc["spec"]["ports"][0]["protocol"] = "TCP"
    return "Service/shop/metrics-relay", "service_protocol_mismatch"


@scenario
def wrong_service_address(c):
    for p in c.pods_of("checkout"):
        c.log(p, 'charge failed: Post "http://payment-svc.shop.svc.cluster.local/v1/charge": dial tcp: lookup payment-svc.shop.svc.cluster.local on 10.96.0.10:53: no such host', n=6)
    return "Deployment/shop/checkout", "wrong_service_address"


# --- performance -----------------------------------------------------------------------

def usage(c, app, fn, node_fn=None):
    for p in c.pods_of(app):
        lbl = {"namespace": "shop", "pod": p["metadata"]["name"], "container": "app", "node": p["spec"]["nodeName"]}
        acc = [0.0]

        def counter(m, fn=fn, acc=acc):
            acc[0] += fn(m) * 30
            return acc[0]
        c.series("container_cpu_usage_seconds_total", lbl, counter)


def latency(c, app, fn):
    for p in c.pods_of(app):
        c.series("http_request_duration_seconds_p95", {"namespace": "shop", "service": app, "pod": p["metadata"]["name"]}, fn)


def calm(app_i):
    return lambda m: 0.12 + 0.02 * math.sin(m / 3 + app_i)


@scenario
def cpu_throttling(c):
    pods = c.pods_of("catalog")
    for p in pods:
        p["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "200m"
        lbl = {"namespace": "shop", "pod": p["metadata"]["name"], "container": "app"}
        per = [0.0]
        thr = [0.0]

        def periods(m, per=per):
            per[0] += 300
            return per[0]

        def throttled(m, thr=thr):
            thr[0] += 300 * (0.02 if m < ONSET_MIN else 0.65)
            return thr[0]
        c.series("container_cpu_cfs_periods_total", lbl, periods)
        c.series("container_cpu_cfs_throttled_periods_total", lbl, throttled)
    for i, app in enumerate(["frontend", "catalog", "checkout"]):
        latency(c, app, (lambda m: 0.08 if m < ONSET_MIN else 0.9) if app == "catalog" else calm(i))
    return pod_ref(pods[0]), "cpu_throttling"


@scenario
def noisy_neighbor(c):
    job = c.pod("shop", "nightly-export-29551230-q8d7x", "node-a", {"app": "nightly-export", "job-name": "nightly-export-29551230"},
                owner=("Job", "nightly-export-29551230"), image="ghcr.io/acme/export:1.0", created=ONSET_MIN - 1)
    lbl = {"namespace": "shop", "pod": job["metadata"]["name"], "container": "main", "node": "node-a"}
    acc = [0.0]

    def cpu(m, acc=acc):
        acc[0] += (0.01 if m < ONSET_MIN else 3.4) * 30
        return acc[0]
    c.series("container_cpu_usage_seconds_total", lbl, cpu)
    for i, app in enumerate(["frontend", "catalog", "checkout", "payments"]):
        usage(c, app, calm(i))
        for p in c.pods_of(app):
            slow = p["spec"]["nodeName"] == "node-a"
            c.series("http_request_duration_seconds_p95", {"namespace": "shop", "service": app, "pod": p["metadata"]["name"], "node": p["spec"]["nodeName"]},
                     (lambda m: 0.1 if m < ONSET_MIN else 0.7) if slow else calm(i))
    return pod_ref(job), "noisy_neighbor"


@scenario
def node_cpu_saturation(c):
    for n in ["node-a", "node-b", "node-c"]:
        c.series("instance:node_cpu_utilisation:rate5m", {"instance": n + ":9100", "node": n},
                 (lambda m: 0.55 if m < ONSET_MIN else 0.98) if n == "node-b" else (lambda m: 0.4))
    for i, app in enumerate(["frontend", "catalog", "checkout", "payments"]):
        usage(c, app, lambda m, i=i: 0.3 + 0.01 * i if m < ONSET_MIN else 0.55 + 0.01 * i)
    return "Node/node-b", "cpu_saturation"


@scenario
def dependency_delay(c):
    def shifted(delay_min, hi):
        return lambda m: 0.05 if m < ONSET_MIN + delay_min else hi
    latency(c, "payments", shifted(0, 1.8))
    latency(c, "checkout", shifted(1, 2.1))
    latency(c, "frontend", shifted(1.5, 2.4))
    latency(c, "catalog", calm(2))
    for i, app in enumerate(["frontend", "catalog", "checkout", "payments"]):
        usage(c, app, calm(i))
    for p in c.pods_of("checkout"):
        c.log(p, 'charge: Post "http://payments.shop.svc.cluster.local/v1/charge": context deadline exceeded', n=5, at=ONSET_MIN + 1)
    return "Service/shop/payments", "dependency_network_delay"


@scenario
def hpa_at_max(c):
    c.add({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "frontend", "namespace": "shop", "creationTimestamp": ts(-9000)},
           "spec": {"minReplicas": 2, "maxReplicas": 2, "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "frontend"},
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]},
           "status": {"currentReplicas": 2, "desiredReplicas": 2, "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 185}}}],
                      "conditions": [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale", "lastTransitionTime": ts(-9000)},
                                     {"type": "ScalingLimited", "status": "True", "reason": "TooManyReplicas", "message": "the desired replica count is more than the maximum replica count", "lastTransitionTime": ts(ONSET_MIN - 1)}]}})
    latency(c, "frontend", lambda m: 0.1 if m < ONSET_MIN else 1.2)
    return "HorizontalPodAutoscaler/shop/frontend", "hpa_at_max"


# --- infrastructure -------------------------------------------------------------------------

def node_condition(c, node, ctype, status, reason, message, at=ONSET_MIN):
    for cond in c.find("Node", node)["status"]["conditions"]:
        if cond["type"] == ctype:
            cond.update(status=status, reason=reason, message=message, lastTransitionTime=ts(at))


def node_down(c, node, message, status="Unknown", reason="NodeStatusUnknown"):
    node_condition(c, node, "Ready", status, reason, message)
    n = c.find("Node", node)
    n["spec"]["taints"] = [{"key": "node.kubernetes.io/unreachable" if status == "Unknown" else "node.kubernetes.io/not-ready", "effect": "NoExecute", "timeAdded": ts(ONSET_MIN)}]
    c.event("Node", None, node, "NodeNotReady", f"Node {node} status is now: NodeNotReady", type="Normal", at=ONSET_MIN, component="node-controller")
    for p in [i for i in c.items if i["kind"] == "Pod" and i["spec"].get("nodeName") == node]:
        c.unready(p, "NodeNotReady" if status == "Unknown" else "ContainersNotReady", ONSET_MIN)
        c.event("Pod", p["metadata"]["namespace"], p["metadata"]["name"], "NodeNotReady", "Node is not ready", at=ONSET_MIN, component="node-controller")


@scenario
def node_not_ready(c):
    node_down(c, "node-c", "Kubelet stopped posting node status.")
    return "Node/node-c", "node_not_ready"


@scenario
def kubelet_down(c):
    node_down(c, "node-b", "Kubelet stopped posting node status.")
    for n in ["node-a", "node-b", "node-c"]:
        c.series("up", {"job": "node-exporter", "instance": n + ":9100", "node": n}, lambda m: 1)
        c.series("up", {"job": "kubelet", "instance": n + ":10250", "node": n}, (lambda m: 1 if m < ONSET_MIN else 0) if n == "node-b" else (lambda m: 1))
    return "Node/node-b", "kubelet_down"


@scenario
def container_runtime_down(c):
    node_down(c, "node-a", "container runtime is down, PLEG is not healthy: pleg was last seen active 3m12s ago; threshold is 3m0s", status="False", reason="KubeletNotReady")
    return "Node/node-a", "container_runtime_down"


@scenario
def kube_proxy_down(c):
    kp = [i for i in c.items if i["kind"] == "Pod" and i["metadata"]["name"].startswith("kube-proxy") and i["spec"]["nodeName"] == "node-b"][0]
    c.crash(kp, exit_code=1, restarts=9)
    c.log(kp, "E0310 14:30:02 server.go:558] \"Error running ProxyServer\" err=\"failed to create iptables rules: exit status 4\"", container="kube-proxy")
    for p in [i for i in c.items if i["kind"] == "Pod" and i["spec"].get("nodeName") == "node-b" and i["metadata"]["namespace"] == "shop"]:
        c.log(p, 'GET http://catalog.shop.svc.cluster.local/items: dial tcp 10.96.9.10:80: i/o timeout', n=4)
    return pod_ref(kp), "kube_proxy_down"


@scenario
def scheduler_down(c):
    s = c.find("Pod", "kube-scheduler-node-a", "kube-system")
    c.crash(s, exit_code=1, restarts=12)
    pods = c.app("shop", "promo-banner", 3, "ghcr.io/acme/promo:1.0.0")
    for p in pods:
        p["spec"].pop("nodeName")
        p["status"] = {"phase": "Pending", "qosClass": "Burstable"}
    return "Pod/kube-system/kube-scheduler-node-a", "scheduler_down"


@scenario
def disk_pressure(c):
    node_condition(c, "node-c", "DiskPressure", "True", "KubeletHasDiskPressure", "kubelet has disk pressure")
    c.find("Node", "node-c")["spec"]["taints"] = [{"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule", "timeAdded": ts(ONSET_MIN)}]
    c.event("Node", None, "node-c", "EvictionThresholdMet", "Attempting to reclaim ephemeral-storage", at=ONSET_MIN)
    p = c.pods_of("checkout")[0] if c.pods_of("checkout")[0]["spec"]["nodeName"] == "node-c" else c.pods_of("checkout")[1]
    p["status"].update(phase="Failed", reason="Evicted", message="The node was low on resource: ephemeral-storage. Threshold quantity: 4902142564, available: 3893240Ki. Container app was using 6291456Ki, request is 0, has larger consumption of ephemeral-storage.")
    return "Node/node-c", "node_disk_pressure"


@scenario
def memory_pressure(c):
    node_condition(c, "node-a", "MemoryPressure", "True", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available")
    c.event("Node", None, "node-a", "EvictionThresholdMet", "Attempting to reclaim memory", at=ONSET_MIN)
    p = c.pods_of("frontend")[0]
    p["status"].update(phase="Failed", reason="Evicted", message="The node was low on resource: memory. Threshold quantity: 100Mi, available: 92164Ki. Container app was using 1402116Ki, request is 256Mi, has larger consumption of memory.")
    return "Node/node-a", "node_memory_pressure"


@scenario
def node_network_loss(c):
    for n in ["node-a", "node-b", "node-c"]:
        acc = [0.0]

        def drops(m, n=n, acc=acc):
            acc[0] += (0.05 if (n != "node-a" or m < ONSET_MIN) else 240.0) * 30
            return acc[0]
        c.series("node_network_receive_drop_total", {"instance": n + ":9100", "node": n, "device": "eth0"}, drops)
    for p in [i for i in c.items if i["kind"] == "Pod" and i["spec"].get("nodeName") == "node-a" and i["metadata"]["namespace"] == "shop"]:
        c.log(p, "upstream request timeout after 5s", n=3)
    return "Node/node-a", "node_network_degraded"


@scenario
def dns_failure(c):
    for p in [i for i in c.items if i["kind"] == "Pod" and i["metadata"]["name"].startswith("coredns")]:
        c.crash(p, exit_code=1, restarts=7)
        c.log(p, "[FATAL] plugin/loop: Loop (127.0.0.1:40513 -> :53) detected for zone \".\"", container="coredns")
    for app, target in [("frontend", "catalog"), ("checkout", "payments"), ("catalog", "payments")]:
        for p in c.pods_of(app):
            c.log(p, f'dial tcp: lookup {target}.shop.svc.cluster.local on 10.96.0.10:53: read udp 10.244.1.12:40211->10.96.0.10:53: i/o timeout', n=3)
    return "Deployment/kube-system/coredns", "dns_failure"


@scenario
def certificate_expired(c):
    for p in c.pods_of("checkout"):
        c.log(p, 'charge failed: Post "https://payments.shop.svc.cluster.local:443/v1/charge": x509: certificate has expired or is not yet valid: current time 2026-03-10T14:30:01Z is after 2026-03-10T14:29:59Z', n=5)
    return "Service/shop/payments", "certificate_expired"


@scenario
def registry_auth_no_secret(c):
    img = "quay.io/acme-private/search:4.2.0"
    return pull_failure(c, "catalog", img, f'rpc error: code = Unknown desc = failed to pull and unpack image "{img}": failed to resolve reference "{img}": unexpected status from HEAD request to https://quay.io/v2/acme-private/search/manifests/4.2.0: 401 UNAUTHORIZED'), "image_pull_secret_missing"


@scenario
def insufficient_cpu_after_node_loss(c):
    c.remove(c.find("Node", "node-c"))
    p = unschedulable(c, "ranking", "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
                      lambda p: p["spec"]["containers"][0]["resources"]["requests"].update(cpu="3500m"))
    return pod_ref(p), "insufficient_cpu"


@scenario
def oom_no_limit_context(c):
    p = c.pods_of("payments")[1]
    c.crash(p, reason="OOMKilled", exit_code=137, restarts=8)
    return pod_ref(p), "oom_killed"


@scenario
def configmap_key_missing(c):
    pods = c.rollout("shop", "catalog", "ghcr.io/acme/catalog:1.9.2",
                     mutate=lambda ct: ct.update(env=[{"name": "DB_HOST", "valueFrom": {"configMapKeyRef": {"name": "catalog-config", "key": "db_host"}}}]))
    for p in pods:
        c.waiting(p, "CreateContainerConfigError", "couldn't find key db_host in ConfigMap shop/catalog-config")
        c.event("Pod", "shop", p["metadata"]["name"], "Failed", "Error: couldn't find key db_host in ConfigMap shop/catalog-config", at=ONSET_MIN + 1, count=5)
    return pod_ref(pods[0]), "configmap_missing"


@scenario
def service_selector_after_relabel(c):
    c.rollout("shop", "catalog", "ghcr.io/acme/catalog:2.0.0")
    for p in c.pods_of("catalog"):
        p["metadata"]["labels"]["app"] = "catalog-v2"
    c.find("Endpoints", "catalog", "shop")["subsets"] = []
    return "Service/shop/catalog", "service_selector_mismatch"


@scenario
def healthy_distractors_oom(c):
    """An OOM kill in the middle of yesterday's noise: an old crash loop, a cordoned node long ago."""
    c.event("Pod", "shop", "legacy-worker-5f7c9-abcde", "BackOff", "Back-off restarting failed container", at=-600, count=40)
    c.event("Node", None, "node-a", "NodeNotSchedulable", "Node node-a status is now: NodeNotSchedulable", type="Normal", at=-800)
    p = c.pods_of("frontend")[1]
    c.crash(p, reason="OOMKilled", exit_code=137, restarts=2)
    return pod_ref(p), "oom_killed"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "tests", "scenarios", "explain")
    out = os.path.normpath(out)
    if os.path.isdir(out):
        shutil.rmtree(out)
    for i, fn in enumerate(SCENARIOS, 1):
        c = Cluster()
        obj, cause = fn(c)
        c.write(out, f"{i:02d}-{fn.__name__.replace('_', '-')}", obj, cause)
    # The same cluster with nothing wrong: the explainer must not name a cause.
    healthy = os.path.join(os.path.dirname(out), "healthy")
    if os.path.isdir(healthy):
        shutil.rmtree(healthy)
    Cluster().write(os.path.dirname(out), "healthy", "", "none")
    print(f"{len(SCENARIOS)} scenarios in {out}, a healthy cluster in {healthy}")


if __name__ == "__main__":
    main()
