//! The demo cluster's shape: nodes and workloads with realistic names,
//! labels, images and resource profiles. Built once from the seed and size.

use std::sync::Arc;

use sentinel_model::{
    ContainerPort, Labels, NodeCondition, NodeState, OwnerKind, Probe, Timestamp,
};

use crate::rng::{Rng, fnv1a};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
}

impl WorkloadKind {
    pub fn owner_kind(self) -> OwnerKind {
        match self {
            WorkloadKind::Deployment => OwnerKind::ReplicaSet,
            WorkloadKind::StatefulSet => OwnerKind::StatefulSet,
            WorkloadKind::DaemonSet => OwnerKind::DaemonSet,
            WorkloadKind::Job => OwnerKind::Job,
        }
    }
}

/// A controller and the profile of the pods it runs.
#[derive(Debug, Clone)]
pub struct Workload {
    pub namespace: String,
    pub name: String,
    pub kind: WorkloadKind,
    pub replicas: usize,
    pub image_repo: String,
    pub version: String,
    pub revision: u32,
    pub cpu_base: f64,
    pub cpu_request_millis: u32,
    pub mem_base: f64,
    pub mem_limit: u64,
    /// Requests per second per pod at normal traffic; zero for non-HTTP workloads.
    pub rps: f64,
    pub latency_median_s: f64,
    pub error_ratio: f64,
    pub tier: &'static str,
    /// What its containers declare and how they are probed (`serving.rs`),
    /// shared by its pods.
    pub ports: Arc<[ContainerPort]>,
    pub probes: Arc<[Probe]>,
}

impl Workload {
    /// The ReplicaSet name of the current revision: `<deploy>-<pod-template-hash>`.
    pub fn replicaset_name(&self) -> String {
        let h = fnv1a(format!("{}/{}/{}", self.namespace, self.name, self.revision).as_bytes());
        format!("{}-{}", self.name, Rng::new(h).name_suffix(10))
    }

    pub fn image(&self) -> String {
        format!("{}:{}", self.image_repo, self.version)
    }

    pub fn owner_name(&self) -> String {
        match self.kind {
            WorkloadKind::Deployment => self.replicaset_name(),
            _ => self.name.clone(),
        }
    }

    pub fn labels(&self) -> Labels {
        let mut l = Labels::new();
        l.insert("app.kubernetes.io/name".into(), self.name.clone());
        l.insert("app.kubernetes.io/part-of".into(), self.namespace.clone());
        l.insert("app.kubernetes.io/version".into(), self.version.clone());
        l.insert("tier".into(), self.tier.into());
        if self.kind == WorkloadKind::Deployment {
            let rs = self.replicaset_name();
            let hash = rs.rsplit('-').next().unwrap_or_default().to_string();
            l.insert("pod-template-hash".into(), hash);
        }
        l
    }
}

struct Spec {
    ns: &'static str,
    name: &'static str,
    kind: WorkloadKind,
    replicas: usize,
    repo: &'static str,
    version: &'static str,
    cpu: f64,
    mem_mib: f64,
    limit_mib: u64,
    rps: f64,
    latency_ms: f64,
    tier: &'static str,
}

#[allow(clippy::too_many_arguments)] // One row of the table below; positional keeps the table readable.
const fn spec(
    ns: &'static str,
    name: &'static str,
    kind: WorkloadKind,
    replicas: usize,
    repo: &'static str,
    version: &'static str,
    (cpu, mem_mib, limit_mib): (f64, f64, u64),
    (rps, latency_ms): (f64, f64),
    tier: &'static str,
) -> Spec {
    Spec {
        ns,
        name,
        kind,
        replicas,
        repo,
        version,
        cpu,
        mem_mib,
        limit_mib,
        rps,
        latency_ms,
        tier,
    }
}

use WorkloadKind::{DaemonSet, Deployment, StatefulSet};

/// The base cluster: an online shop, its data tier, the platform and
/// observability stacks. 41 pods on 3 nodes.
const BASE: &[Spec] = &[
    spec(
        "shop",
        "frontend",
        Deployment,
        3,
        "ghcr.io/acme/shop-frontend",
        "3.12.1",
        (0.25, 180.0, 512),
        (40.0, 35.0),
        "web",
    ),
    spec(
        "shop",
        "checkout",
        Deployment,
        3,
        "ghcr.io/acme/checkout",
        "2.7.4",
        (0.20, 150.0, 256),
        (12.0, 60.0),
        "api",
    ),
    spec(
        "shop",
        "cart",
        Deployment,
        3,
        "ghcr.io/acme/cart",
        "1.9.0",
        (0.15, 120.0, 256),
        (25.0, 12.0),
        "api",
    ),
    spec(
        "shop",
        "payments",
        Deployment,
        2,
        "ghcr.io/acme/payments",
        "4.2.0",
        (0.10, 140.0, 384),
        (10.0, 45.0),
        "api",
    ),
    spec(
        "shop",
        "catalog",
        Deployment,
        3,
        "ghcr.io/acme/catalog",
        "5.0.3",
        (0.18, 220.0, 512),
        (30.0, 20.0),
        "api",
    ),
    spec(
        "shop",
        "recommendations",
        Deployment,
        2,
        "ghcr.io/acme/recommendations",
        "0.14.2",
        (0.30, 400.0, 768),
        (8.0, 80.0),
        "api",
    ),
    spec(
        "shop",
        "email",
        Deployment,
        2,
        "ghcr.io/acme/email",
        "1.1.7",
        (0.05, 90.0, 256),
        (2.0, 150.0),
        "worker",
    ),
    spec(
        "data",
        "postgres",
        StatefulSet,
        3,
        "docker.io/library/postgres",
        "16.4",
        (0.40, 1400.0, 4096),
        (0.0, 0.0),
        "db",
    ),
    spec(
        "data",
        "redis",
        StatefulSet,
        3,
        "docker.io/library/redis",
        "7.2.5",
        (0.08, 300.0, 1024),
        (0.0, 0.0),
        "cache",
    ),
    spec(
        "data",
        "kafka",
        StatefulSet,
        3,
        "docker.io/bitnami/kafka",
        "3.7.0",
        (0.30, 1100.0, 2048),
        (0.0, 0.0),
        "queue",
    ),
    spec(
        "platform",
        "ingress-nginx-controller",
        Deployment,
        2,
        "registry.k8s.io/ingress-nginx/controller",
        "v1.11.2",
        (0.12, 160.0, 512),
        (0.0, 0.0),
        "edge",
    ),
    spec(
        "platform",
        "coredns",
        Deployment,
        2,
        "registry.k8s.io/coredns/coredns",
        "v1.11.1",
        (0.03, 40.0, 170),
        (0.0, 0.0),
        "dns",
    ),
    spec(
        "platform",
        "cert-manager",
        Deployment,
        1,
        "quay.io/jetstack/cert-manager-controller",
        "v1.15.3",
        (0.01, 60.0, 256),
        (0.0, 0.0),
        "control",
    ),
    spec(
        "platform",
        "external-dns",
        Deployment,
        1,
        "registry.k8s.io/external-dns/external-dns",
        "v0.14.2",
        (0.01, 45.0, 128),
        (0.0, 0.0),
        "control",
    ),
    spec(
        "observability",
        "prometheus-k8s",
        StatefulSet,
        2,
        "quay.io/prometheus/prometheus",
        "v2.54.1",
        (0.35, 1800.0, 4096),
        (0.0, 0.0),
        "monitoring",
    ),
    spec(
        "observability",
        "alertmanager-main",
        StatefulSet,
        1,
        "quay.io/prometheus/alertmanager",
        "v0.27.0",
        (0.02, 60.0, 256),
        (0.0, 0.0),
        "monitoring",
    ),
    spec(
        "observability",
        "grafana",
        Deployment,
        1,
        "docker.io/grafana/grafana",
        "11.2.0",
        (0.05, 150.0, 512),
        (0.0, 0.0),
        "monitoring",
    ),
    spec(
        "observability",
        "node-exporter",
        DaemonSet,
        0,
        "quay.io/prometheus/node-exporter",
        "v1.8.2",
        (0.02, 25.0, 180),
        (0.0, 0.0),
        "monitoring",
    ),
];

pub fn node_count(pods: usize) -> usize {
    pods.div_ceil(30).max(3)
}

pub fn build_nodes(count: usize, start: Timestamp) -> Vec<NodeState> {
    (0..count)
        .map(|i| {
            let zone = ["a", "b", "c"][i % 3];
            let mut labels = Labels::new();
            labels.insert("kubernetes.io/hostname".into(), node_name(i));
            labels.insert(
                "topology.kubernetes.io/zone".into(),
                format!("eu-west-1{zone}"),
            );
            labels.insert(
                "node.kubernetes.io/instance-type".into(),
                "m6i.2xlarge".into(),
            );
            NodeState {
                name: node_name(i),
                labels,
                cpu_capacity_millis: 8000,
                memory_capacity_bytes: 32 << 30,
                conditions: healthy_conditions(start),
                unschedulable: false,
            }
        })
        .collect()
}

pub fn node_name(i: usize) -> String {
    format!(
        "ip-10-0-{}-{}.eu-west-1.compute.internal",
        1 + i % 3,
        20 + i
    )
}

pub fn healthy_conditions(since: Timestamp) -> Vec<NodeCondition> {
    let c = |kind: &str, status: bool, reason: &str| NodeCondition {
        kind: kind.into(),
        status,
        since,
        reason: reason.into(),
    };
    vec![
        c("Ready", true, "KubeletReady"),
        c("MemoryPressure", false, "KubeletHasSufficientMemory"),
        c("DiskPressure", false, "KubeletHasNoDiskPressure"),
        c("PIDPressure", false, "KubeletHasSufficientPID"),
    ]
}

/// The base workloads, then generated tenant services until `pods` pods exist.
pub fn build_workloads(pods: usize, nodes: usize, rng: &Rng) -> Vec<Workload> {
    let mut out: Vec<Workload> = BASE
        .iter()
        .map(|s| Workload {
            namespace: s.ns.into(),
            name: s.name.into(),
            kind: s.kind,
            replicas: if s.kind == DaemonSet {
                nodes
            } else {
                s.replicas
            },
            image_repo: s.repo.into(),
            version: s.version.into(),
            revision: 1,
            cpu_base: s.cpu,
            cpu_request_millis: ((s.cpu * 1000.0) as u32).max(10),
            mem_base: s.mem_mib * 1024.0 * 1024.0,
            mem_limit: s.limit_mib << 20,
            rps: s.rps,
            latency_median_s: s.latency_ms / 1000.0,
            error_ratio: if s.rps > 0.0 { 0.002 } else { 0.0 },
            tier: s.tier,
            ports: Default::default(),
            probes: Default::default(),
        })
        .collect();
    let mut total: usize = out.iter().map(|w| w.replicas).sum();
    let mut r = rng.fork(0x7E4A);
    let mut i = 0;
    while total < pods {
        let replicas = (pods - total).min(2 + r.below(6));
        let team = i / 12;
        out.push(Workload {
            namespace: format!("team-{team:03}"),
            name: format!(
                "svc-{}-{}",
                ["api", "worker", "gateway", "indexer"][i % 4],
                r.name_suffix(4)
            ),
            kind: Deployment,
            replicas,
            image_repo: format!("ghcr.io/acme/team-{team:03}-svc{i}"),
            version: format!("1.{}.{}", r.below(20), r.below(10)),
            revision: 1,
            cpu_base: 0.02 + r.unit() * 0.2,
            cpu_request_millis: 50,
            mem_base: (60.0 + r.unit() * 300.0) * 1024.0 * 1024.0,
            mem_limit: 512 << 20,
            rps: if i % 4 == 1 {
                0.0
            } else {
                1.0 + r.unit() * 10.0
            },
            latency_median_s: 0.01 + r.unit() * 0.05,
            error_ratio: 0.002,
            tier: "api",
            ports: Default::default(),
            probes: Default::default(),
        });
        total += replicas;
        i += 1;
    }
    for w in &mut out {
        w.ports = crate::serving::container_ports(w);
        w.probes = crate::serving::probes(w);
    }
    out
}
