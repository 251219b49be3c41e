"""A small healthy cluster as `kubectl get ... -A -o json` prints it, which
each failure scenario then breaks in one way. Deterministic: no clock, no
randomness beyond a fixed seed."""

import copy
import hashlib
import json
import os
from datetime import datetime, timedelta, timezone

T0 = datetime(2026, 3, 10, 14, 0, 0, tzinfo=timezone.utc)
ONSET_MIN = 30


def ts(minutes):
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def unix(minutes):
    return int((T0 + timedelta(minutes=minutes)).timestamp())


def suffix(seed, n):
    h = hashlib.sha1(seed.encode()).hexdigest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(alphabet[int(h[i * 2:i * 2 + 2], 16) % len(alphabet)] for i in range(n))


def meta(name, ns=None, labels=None, created=-4320, **extra):
    m = {"name": name, "uid": suffix("uid" + str(ns) + name, 8), "creationTimestamp": ts(created)}
    if ns is not None:
        m["namespace"] = ns
    if labels:
        m["labels"] = dict(labels)
    m.update(extra)
    return m


class Cluster:
    def __init__(self):
        self.items = []
        self.logs = []
        self.metrics = []
        self.nodes = []
        self._event_n = 0
        for i, (name, zone) in enumerate([("node-a", "eu-west-1a"), ("node-b", "eu-west-1b"), ("node-c", "eu-west-1c")]):
            self.node(name, zone)
        self.storage_class("standard", default=True)
        for ns in ["shop", "kube-system"]:
            self.add({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("default", ns)})
        self.add({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("coredns", "kube-system")})
        self.app("kube-system", "coredns", 2, "registry.k8s.io/coredns/coredns:v1.11.1",
                 labels={"k8s-app": "kube-dns"}, port=53, service="kube-dns", proto="UDP", probe=False)
        for n in self.nodes:
            self.pod("kube-system", "kube-proxy-" + suffix("kp" + n, 5), n, {"k8s-app": "kube-proxy"},
                     owner=("DaemonSet", "kube-proxy"), image="registry.k8s.io/kube-proxy:v1.29.2")
        self.pod("kube-system", "kube-scheduler-node-a", "node-a", {"component": "kube-scheduler", "tier": "control-plane"},
                 owner=("Node", "node-a"), image="registry.k8s.io/kube-scheduler:v1.29.2")
        self.app("shop", "frontend", 2, "ghcr.io/acme/frontend:3.4.1", node_cycle=0)
        self.app("shop", "catalog", 2, "ghcr.io/acme/catalog:1.9.0", node_cycle=1)
        self.app("shop", "checkout", 2, "ghcr.io/acme/checkout:2.7.3", node_cycle=2)
        self.app("shop", "payments", 2, "ghcr.io/acme/payments:5.0.2", node_cycle=0)
        # Noise an on-call engineer sees every day.
        self.event("Pod", "shop", "frontend-old-x1", "BackOff", "Back-off restarting failed container web in pod frontend-old-x1_shop", at=-300, count=4)
        self.event("Node", None, "node-b", "ImageGCFailed", "failed to garbage collect required amount of images. Wanted to free 2.1GB, but freed 0B", at=-900)
        for p in [i for i in self.items if i["kind"] == "Pod" and i["metadata"]["namespace"] == "shop"][:3]:
            self.event("Pod", "shop", p["metadata"]["name"], "Pulled", f'Container image "{p["spec"]["containers"][0]["image"]}" already present on machine', type="Normal", at=25)

    # --- objects -----------------------------------------------------------
    def add(self, obj):
        self.items.append(obj)
        return obj

    def find(self, kind, name, ns=None):
        for i in self.items:
            if i["kind"] == kind and i["metadata"]["name"] == name and (ns is None or i["metadata"].get("namespace") == ns):
                return i
        raise KeyError(f"{kind}/{ns}/{name}")

    def pods_of(self, app, ns="shop"):
        return [i for i in self.items if i["kind"] == "Pod" and i["metadata"].get("namespace") == ns
                and i["metadata"].get("labels", {}).get("app") == app]

    def remove(self, obj):
        self.items = [i for i in self.items if i is not obj]

    def node(self, name, zone, cpu="4", mem="16Gi"):
        self.nodes.append(name)
        return self.add({
            "apiVersion": "v1", "kind": "Node",
            "metadata": meta(name, labels={"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                           "topology.kubernetes.io/zone": zone, "node.kubernetes.io/instance-type": "m6i.xlarge"}),
            "spec": {"podCIDR": "10.244.%d.0/24" % len(self.nodes)},
            "status": {
                "capacity": {"cpu": cpu, "memory": mem, "pods": "110", "ephemeral-storage": "100Gi"},
                "allocatable": {"cpu": "3920m", "memory": "15Gi", "pods": "110", "ephemeral-storage": "92Gi"},
                "conditions": [
                    {"type": t, "status": "False", "reason": r, "message": m, "lastHeartbeatTime": ts(29), "lastTransitionTime": ts(-4000)}
                    for t, r, m in [("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                                    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                                    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available")]
                ] + [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                      "lastHeartbeatTime": ts(29), "lastTransitionTime": ts(-4000)}],
                "nodeInfo": {"kubeletVersion": "v1.29.2", "containerRuntimeVersion": "containerd://1.7.13"},
            },
        })

    def storage_class(self, name, default=False):
        ann = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
        return self.add({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                         "metadata": meta(name, annotations=ann), "provisioner": "ebs.csi.aws.com",
                         "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"})

    def container(self, name, image, port=8080, proto="TCP", probe=True, cpu="250m", mem="256Mi", mem_limit="512Mi", cpu_limit=None, port_name="http"):
        c = {"name": name, "image": image, "imagePullPolicy": "IfNotPresent",
             "resources": {"requests": {"cpu": cpu, "memory": mem}, "limits": {"memory": mem_limit}}}
        if cpu_limit:
            c["resources"]["limits"]["cpu"] = cpu_limit
        if port:
            c["ports"] = [{"containerPort": port, "name": port_name, "protocol": proto}]
        if probe and port:
            c["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": port, "scheme": "HTTP"}, "periodSeconds": 10,
                                   "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}
            c["livenessProbe"] = {"httpGet": {"path": "/livez", "port": port, "scheme": "HTTP"}, "initialDelaySeconds": 10,
                                  "periodSeconds": 10, "timeoutSeconds": 1, "failureThreshold": 3}
        return c

    def pod(self, ns, name, node, labels, owner=None, image="busybox", containers=None, phase="Running", created=-4000, sa="default"):
        cs = containers or [self.container("main", image, port=None, probe=False)]
        refs = []
        if owner:
            refs = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "uid": suffix(owner[1], 8), "controller": True}]
        p = {"apiVersion": "v1", "kind": "Pod",
             "metadata": meta(name, ns, labels, created, ownerReferences=refs),
             "spec": {"nodeName": node, "containers": cs, "serviceAccountName": sa, "restartPolicy": "Always",
                      "volumes": [{"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}]},
             "status": {"phase": phase, "podIP": "10.244.%d.%d" % (self.nodes.index(node) + 1 if node in self.nodes else 9, 10 + len(self.items) % 200),
                        "hostIP": "10.0.0.%d" % (self.nodes.index(node) + 10 if node in self.nodes else 99),
                        "startTime": ts(created),
                        "conditions": [{"type": t, "status": "True", "lastTransitionTime": ts(created + 1)}
                                       for t in ["Initialized", "Ready", "ContainersReady", "PodScheduled"]],
                        "containerStatuses": [self.running(c, created) for c in cs]}}
        if not node:
            del p["spec"]["nodeName"]
        return self.add(p)

    def running(self, c, created=-4000):
        return {"name": c["name"], "image": c["image"], "imageID": c["image"] + "@sha256:" + hashlib.sha256(c["image"].encode()).hexdigest(),
                "ready": True, "restartCount": 0, "started": True, "state": {"running": {"startedAt": ts(created + 1)}}}

    def app(self, ns, name, replicas, image, labels=None, port=8080, service=None, proto="TCP", probe=True, node_cycle=0,
            revision=1, mem_limit="512Mi", cpu_limit=None, container=None):
        labels = dict(labels or {"app": name})
        tmpl_hash = suffix(f"{ns}/{name}/{revision}", 10)
        rs_name = f"{name}-{tmpl_hash}"
        c = container or self.container(name if ns != "shop" else "app", image, port=port, proto=proto, probe=probe,
                                        mem_limit=mem_limit, cpu_limit=cpu_limit, port_name="dns" if port == 53 else "http")
        self.add({"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": meta(name, ns, labels, annotations={"deployment.kubernetes.io/revision": str(revision)}),
                  "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                           "template": {"metadata": {"labels": labels}, "spec": {"containers": [c]}}},
                  "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "updatedReplicas": replicas,
                             "observedGeneration": revision}})
        self.replicaset(ns, name, revision, c, labels, replicas, created=-4320)
        pods = []
        for i in range(replicas):
            node = self.nodes[(node_cycle + i) % len(self.nodes)]
            pl = dict(labels)
            pl["pod-template-hash"] = tmpl_hash
            pods.append(self.pod(ns, f"{rs_name}-{suffix(rs_name + str(i), 5)}", node, pl, owner=("ReplicaSet", rs_name),
                                 containers=[copy.deepcopy(c)], created=-4000))
        svc = service or name
        if port:
            self.add({"apiVersion": "v1", "kind": "Service", "metadata": meta(svc, ns, labels),
                      "spec": {"type": "ClusterIP", "clusterIP": "10.96.%d.%d" % (len(self.items) % 250, 10), "selector": labels,
                               "ports": [{"name": "dns" if port == 53 else "http", "port": 53 if port == 53 else 80,
                                          "targetPort": port, "protocol": proto}]}})
            self.add({"apiVersion": "v1", "kind": "Endpoints", "metadata": meta(svc, ns, labels),
                      "subsets": [{"addresses": [{"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
                                                  "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"]}} for p in pods],
                                   "ports": [{"name": "dns" if port == 53 else "http", "port": port, "protocol": proto}]}]})
        return pods

    def replicaset(self, ns, name, revision, c, labels, replicas, created):
        tmpl_hash = suffix(f"{ns}/{name}/{revision}", 10)
        rs_name = f"{name}-{tmpl_hash}"
        rl = dict(labels)
        rl["pod-template-hash"] = tmpl_hash
        return self.add({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                         "metadata": meta(rs_name, ns, rl, created, annotations={"deployment.kubernetes.io/revision": str(revision)},
                                          ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": suffix(name, 8), "controller": True}]),
                         "spec": {"replicas": replicas, "selector": {"matchLabels": rl},
                                  "template": {"metadata": {"labels": rl}, "spec": {"containers": [c]}}},
                         "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas}})

    def rollout(self, ns, name, image, at=ONSET_MIN - 2, mutate=None):
        """A new revision of a Deployment: a new ReplicaSet whose pods replace the old."""
        d = self.find("Deployment", name, ns)
        rev = int(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"]) + 1
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = str(rev)
        c = copy.deepcopy(d["spec"]["template"]["spec"]["containers"][0])
        c["image"] = image
        if mutate:
            mutate(c)
        d["spec"]["template"]["spec"]["containers"] = [c]
        labels = d["spec"]["selector"]["matchLabels"]
        self.replicaset(ns, name, rev, c, labels, d["spec"]["replicas"], created=at)
        old = self.pods_of(name, ns)
        new_hash = suffix(f"{ns}/{name}/{rev}", 10)
        rs_name = f"{name}-{new_hash}"
        for old_rs in [i for i in self.items if i["kind"] == "ReplicaSet" and i["metadata"]["name"] != rs_name
                       and i["metadata"].get("ownerReferences", [{}])[0].get("name") == name]:
            old_rs["spec"]["replicas"] = 0
            old_rs["status"] = {"replicas": 0}
        new = []
        for i, p in enumerate(old):
            self.remove(p)
            pl = dict(labels)
            pl["pod-template-hash"] = new_hash
            new.append(self.pod(ns, f"{rs_name}-{suffix(rs_name + str(i), 5)}", p["spec"]["nodeName"], pl,
                                owner=("ReplicaSet", rs_name), containers=[copy.deepcopy(c)], created=at + 1))
        self.event("Deployment", ns, name, "ScalingReplicaSet", f"Scaled up replica set {rs_name} to {len(old)}", type="Normal", at=at)
        return new

    def event(self, kind, ns, name, reason, message, type="Warning", at=ONSET_MIN, count=1, first=None, component="kubelet"):
        self._event_n += 1
        inv = {"kind": kind, "name": name, "apiVersion": "v1"}
        if ns:
            inv["namespace"] = ns
        return self.add({"apiVersion": "v1", "kind": "Event",
                         "metadata": meta(f"{name}.{suffix(str(self._event_n) + reason, 16)}", ns or "default", created=first if first is not None else at),
                         "involvedObject": inv, "reason": reason, "message": message, "type": type, "count": count,
                         "firstTimestamp": ts(first if first is not None else at), "lastTimestamp": ts(at),
                         "source": {"component": component}})

    # --- status helpers ------------------------------------------------------
    @staticmethod
    def crash(pod, reason="Error", exit_code=1, restarts=5, at=ONSET_MIN + 2, message=None, waiting="CrashLoopBackOff"):
        st = pod["status"]["containerStatuses"][0]
        st["ready"] = False
        st["started"] = False
        st["restartCount"] = restarts
        term = {"exitCode": exit_code, "reason": reason, "startedAt": ts(at - 0.1), "finishedAt": ts(at)}
        if message:
            term["message"] = message
        st["lastState"] = {"terminated": term}
        st["state"] = {"waiting": {"reason": waiting, "message": f"back-off 2m40s restarting failed container={st['name']} pod={pod['metadata']['name']}_{pod['metadata']['namespace']}({pod['metadata']['uid']})"}}
        Cluster.unready(pod, "ContainersNotReady", at)

    @staticmethod
    def unready(pod, reason, at):
        for c in pod["status"]["conditions"]:
            if c["type"] in ("Ready", "ContainersReady"):
                c["status"] = "False"
                c["reason"] = reason
                c["lastTransitionTime"] = ts(at)

    @staticmethod
    def waiting(pod, reason, message=""):
        st = pod["status"]["containerStatuses"][0]
        st.update({"ready": False, "started": False, "state": {"waiting": {"reason": reason, "message": message}}})
        pod["status"]["phase"] = "Pending"
        Cluster.unready(pod, "ContainersNotReady", ONSET_MIN)

    def pending(self, pod, message, at=ONSET_MIN + 1, event=True):
        pod["spec"].pop("nodeName", None)
        pod["status"] = {"phase": "Pending", "qosClass": "Burstable",
                         "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                         "message": message, "lastProbeTime": None, "lastTransitionTime": ts(at)}]}
        if event:
            self.event("Pod", pod["metadata"]["namespace"], pod["metadata"]["name"], "FailedScheduling", message,
                       at=at, count=3, first=at - 0.5, component="default-scheduler")

    def log(self, pod, line, at=ONSET_MIN + 1, container="app", n=1):
        for i in range(n):
            self.logs.append({"ts": ts(at + i * 0.25), "namespace": pod["metadata"]["namespace"], "pod": pod["metadata"]["name"],
                              "container": container, "line": line})

    def series(self, name, labels, values, start=0, step_s=30):
        """values: a function of minutes since T0 → value, sampled every step_s from start to ONSET+15."""
        body = ",".join(f'{k}="{v}"' for k, v in labels.items())
        text = f"{name}{{{body}}}" if labels else name
        m = start
        while m <= ONSET_MIN + 15:
            self.metrics.append((unix(m), text, values(m)))
            m += step_s / 60

    def write(self, root, case, expected_object, cause, onset=ONSET_MIN):
        d = os.path.join(root, case)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "objects.json"), "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": self.items}, f, indent=None, sort_keys=True, separators=(",", ":"))
        with open(os.path.join(d, "case.json"), "w") as f:
            json.dump({"onset": ts(onset), "expected": {"object": expected_object, "cause": cause}}, f, indent=2)
            f.write("\n")
        if self.logs:
            with open(os.path.join(d, "logs.jsonl"), "w") as f:
                for l in sorted(self.logs, key=lambda x: x["ts"]):
                    f.write(json.dumps(l) + "\n")
        if self.metrics:
            with open(os.path.join(d, "metrics.csv"), "w") as f:
                f.write("timestamp,series,value\n")
                for t, s, v in self.metrics:
                    q = '"' + s.replace('"', '""') + '"'
                    f.write(f"{t},{q},{v:.6g}\n")
