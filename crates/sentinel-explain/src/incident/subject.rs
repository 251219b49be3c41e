//! What a signal is about, placed in the cluster's topology: the pod, its
//! workload (pod → ReplicaSet → Deployment), its node, the service it serves
//! and the namespace. Two signals belong to one incident when their subjects
//! are linked; `Scope::relates` says when.

use std::collections::{BTreeSet, HashMap};

use sentinel_model::{Labels, ObjectRef, OwnerKind, OwnerRef, PodState};
use serde::{Deserialize, Serialize};

/// Where a signal sits. Every field is optional: a cluster-wide series has
/// none, a node condition only `node`, a crash-looping pod all but `service`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// The controller at the top of the pod's owner chain (Deployment,
    /// StatefulSet, DaemonSet or Job name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

impl Subject {
    /// No namespace, pod, workload, service or node: the whole cluster.
    pub fn is_cluster(&self) -> bool {
        self.namespace.is_none() && self.node.is_none()
    }

    /// About a node itself, not a pod on it.
    pub fn is_node(&self) -> bool {
        self.node.is_some() && self.pod.is_none() && self.namespace.is_none()
    }

    /// About a namespace as a whole (a quota, a namespace-wide series).
    pub fn is_namespace(&self) -> bool {
        self.namespace.is_some()
            && self.pod.is_none()
            && self.workload.is_none()
            && self.service.is_none()
    }

    /// The service this subject serves or is: a service label, or the
    /// workload of the same name (the usual convention).
    fn service_key(&self) -> Option<String> {
        let ns = self.namespace.as_deref()?;
        let name = self.service.as_deref().or(self.workload.as_deref())?;
        Some(format!("{ns}/{name}"))
    }
}

impl std::fmt::Display for Subject {
    /// The most specific name: `Pod/ns/name`, `Service/ns/name`, `Node/name`, …
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ns = self.namespace.as_deref().unwrap_or("");
        match (&self.pod, &self.service, &self.workload, &self.node) {
            (Some(p), ..) => write!(f, "Pod/{ns}/{p}"),
            (None, Some(s), ..) => write!(f, "Service/{ns}/{s}"),
            (None, None, Some(w), _) => write!(f, "Workload/{ns}/{w}"),
            (None, None, None, Some(n)) => write!(f, "Node/{n}"),
            _ if !ns.is_empty() => write!(f, "Namespace/{ns}"),
            _ => f.write_str("cluster"),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Place {
    workload: Option<String>,
    node: Option<String>,
}

/// The links between objects that the correlator needs: where each pod runs
/// and what owns it, and which services call which.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// namespace → pod → place, looked up without allocating.
    pods: HashMap<String, HashMap<String, Place>>,
    pod_count: usize,
    /// `(caller, callee)` as `namespace/service`.
    calls: BTreeSet<(String, String)>,
}

/// The workload a pod's controller stands for: a ReplicaSet's Deployment
/// (its name less the pod-template hash), or the controller itself.
pub fn workload_of(owner: &OwnerRef) -> String {
    match owner.kind {
        OwnerKind::ReplicaSet => owner
            .name
            .rsplit_once('-')
            .map_or(owner.name.clone(), |(d, _)| d.to_string()),
        _ => owner.name.clone(),
    }
}

/// A Deployment pod's name is `<deployment>-<hash>-<5 chars>`; for a pod the
/// topology no longer lists (deleted, evicted), its workload is read from it.
fn guess_workload(pod: &str) -> Option<String> {
    let mut parts = pod.rsplitn(3, '-');
    let (suffix, hash, rest) = (parts.next()?, parts.next()?, parts.next()?);
    let alnum = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric());
    (suffix.len() == 5 && (6..=10).contains(&hash.len()) && alnum(suffix) && alnum(hash))
        .then(|| rest.to_string())
}

impl Topology {
    /// Takes the current pod list (owner and node of each pod). Pods that
    /// disappear are kept: a signal about an evicted pod still needs its place.
    pub fn set_pods<'a>(&mut self, pods: impl IntoIterator<Item = &'a PodState>) {
        // Bounded: a churning cluster that passes this starts over from the
        // current list.
        if self.pod_count > 50_000 {
            self.pods.clear();
            self.pod_count = 0;
        }
        for p in pods {
            let workload = p.owner.as_ref().map(workload_of);
            let names = match self.pods.get_mut(&p.namespace) {
                Some(m) => m,
                None => self.pods.entry(p.namespace.clone()).or_default(),
            };
            match names.get_mut(&p.name) {
                Some(old) => {
                    if old.workload != workload {
                        old.workload = workload;
                    }
                    if old.node != p.node {
                        old.node.clone_from(&p.node);
                    }
                }
                None => {
                    names.insert(
                        p.name.clone(),
                        Place {
                            workload,
                            node: p.node.clone(),
                        },
                    );
                    self.pod_count += 1;
                }
            }
        }
    }

    /// Service dependencies, `(caller, callee)` as `namespace/service`.
    pub fn set_calls(&mut self, calls: impl IntoIterator<Item = (String, String)>) {
        self.calls = calls.into_iter().collect();
    }

    /// The service dependencies that touch one of `services` (keys as
    /// [`Scope::services`] holds them), `(caller, callee)`.
    pub fn calls_touching(&self, services: &BTreeSet<String>) -> Vec<(String, String)> {
        self.calls
            .iter()
            .filter(|(a, b)| services.contains(a) || services.contains(b))
            .cloned()
            .collect()
    }

    fn place(&self, namespace: &str, pod: &str) -> Option<&Place> {
        self.pods.get(namespace)?.get(pod)
    }

    /// A pod completed with its workload and node.
    pub fn pod(&self, namespace: &str, pod: &str) -> Subject {
        let place = self.place(namespace, pod);
        Subject {
            namespace: Some(namespace.to_string()),
            pod: Some(pod.to_string()),
            workload: place
                .and_then(|p| p.workload.clone())
                .or_else(|| guess_workload(pod)),
            service: None,
            node: place.and_then(|p| p.node.clone()),
        }
    }

    /// A series' or an alert's labels, read the way kube-prometheus writes
    /// them (`namespace`, `pod`, `node`, `service`, `deployment`, …).
    pub fn of_labels(&self, labels: &Labels) -> Subject {
        let get = |k: &str| labels.get(k).filter(|v| !v.is_empty()).cloned();
        let namespace = get("namespace").or_else(|| get("exported_namespace"));
        let mut s = match (&namespace, get("pod")) {
            (Some(ns), Some(pod)) => self.pod(ns, &pod),
            _ => Subject {
                namespace: namespace.clone(),
                ..Subject::default()
            },
        };
        if s.workload.is_none() {
            s.workload = ["deployment", "statefulset", "daemonset", "job_name"]
                .into_iter()
                .find_map(get);
        }
        s.service = get("service").filter(|_| namespace.is_some());
        if s.node.is_none() {
            s.node = get("node");
        }
        s
    }

    /// The object a Kubernetes event is about.
    pub fn of_object(&self, o: &ObjectRef) -> Subject {
        let ns = o.namespace.clone();
        match (o.kind.as_str(), &ns) {
            ("Pod", Some(n)) => self.pod(n, &o.name),
            ("Node", _) => Subject {
                node: Some(o.name.clone()),
                ..Subject::default()
            },
            ("Deployment" | "StatefulSet" | "DaemonSet" | "Job", Some(_)) => Subject {
                namespace: ns,
                workload: Some(o.name.clone()),
                ..Subject::default()
            },
            ("ReplicaSet", Some(_)) => Subject {
                namespace: ns,
                workload: Some(workload_of(&OwnerRef {
                    kind: OwnerKind::ReplicaSet,
                    name: o.name.clone(),
                })),
                ..Subject::default()
            },
            ("Service" | "Endpoints", Some(_)) => Subject {
                namespace: ns,
                service: Some(o.name.clone()),
                ..Subject::default()
            },
            _ => Subject {
                namespace: ns,
                ..Subject::default()
            },
        }
    }

    fn calls_between(&self, a: &str, b: &str) -> bool {
        self.calls.contains(&(a.to_string(), b.to_string()))
            || self.calls.contains(&(b.to_string(), a.to_string()))
    }
}

/// Inserts without allocating when the value is already there.
fn insert(set: &mut BTreeSet<String>, v: &str) -> bool {
    !set.contains(v) && set.insert(v.to_string())
}

/// How a signal relates to an incident's scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The same object, workload, service or namespace, or a caller or
    /// callee.
    Direct,
    /// A pod on this node, which is in scope itself.
    OnNode(String),
    /// This node itself, which pods in scope run on.
    NodeOfPods(String),
}

/// The union of an incident's members' places.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// `namespace/pod`
    pub pods: BTreeSet<String>,
    /// `namespace/workload` and `namespace/service` (a service is keyed like
    /// the workload of the same name).
    pub services: BTreeSet<String>,
    /// Nodes that are members themselves (a node condition, a node alert).
    pub nodes: BTreeSet<String>,
    /// Nodes the member pods run on.
    pub pod_nodes: BTreeSet<String>,
    /// Namespaces with a namespace-wide member.
    pub namespaces: BTreeSet<String>,
    /// Every namespace touched, for filters.
    pub touched: BTreeSet<String>,
    /// A cluster-wide member (no place at all).
    pub cluster: bool,
}

impl Scope {
    /// Adds a subject; true if the scope grew.
    pub fn add(&mut self, s: &Subject) -> bool {
        let mut grew = false;
        if let Some(ns) = &s.namespace {
            grew |= insert(&mut self.touched, ns);
            if let Some(p) = &s.pod {
                grew |= self.pods.insert(format!("{ns}/{p}"));
            }
            if let Some(w) = &s.workload {
                grew |= self.services.insert(format!("{ns}/{w}"));
            }
            if let Some(svc) = &s.service {
                grew |= self.services.insert(format!("{ns}/{svc}"));
            }
            if s.is_namespace() {
                grew |= insert(&mut self.namespaces, ns);
            }
        }
        if let Some(n) = &s.node {
            let set = if s.is_node() {
                &mut self.nodes
            } else {
                &mut self.pod_nodes
            };
            grew |= insert(set, n);
        }
        if s.is_cluster() && !self.cluster {
            self.cluster = true;
            grew = true;
        }
        grew
    }

    /// Whether a signal about `s` is about the same problem as this scope,
    /// by topology alone (time is the manager's business):
    /// - the same pod, workload or service;
    /// - a service that calls, or is called by, one in scope;
    /// - a node in scope and a pod on it, or a node and a pod in scope on it;
    /// - a namespace-wide signal and anything in that namespace.
    pub fn relates(&self, s: &Subject, topo: &Topology) -> bool {
        self.link(s, topo).is_some()
    }

    /// How a signal about `s` relates to this scope, if it does (see
    /// [`Scope::relates`]). A pod that relates only by running on a node in
    /// scope is [`Link::OnNode`], a node that relates only by its pods in
    /// scope [`Link::NodeOfPods`]: the manager holds those links only while
    /// the trouble on the other side lasts.
    pub fn link(&self, s: &Subject, topo: &Topology) -> Option<Link> {
        let ns = s.namespace.as_deref().unwrap_or("");
        if let Some(p) = &s.pod
            && self.pods.contains(&format!("{ns}/{p}"))
        {
            return Some(Link::Direct);
        }
        if let Some(key) = s.service_key() {
            if self.services.contains(&key) {
                return Some(Link::Direct);
            }
            if self.services.iter().any(|k| topo.calls_between(k, &key)) {
                return Some(Link::Direct);
            }
        }
        let mut by_node = None;
        if let Some(n) = &s.node {
            if self.nodes.contains(n) {
                if s.is_node() {
                    return Some(Link::Direct);
                }
                by_node = Some(Link::OnNode(n.clone()));
            }
            if s.is_node() && self.pod_nodes.contains(n) {
                by_node = Some(Link::NodeOfPods(n.clone()));
            }
        }
        if !ns.is_empty() {
            if self.namespaces.contains(ns) {
                return Some(Link::Direct);
            }
            if s.is_namespace() && self.touched.contains(ns) {
                return Some(Link::Direct);
            }
        }
        by_node
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn deployment_pods_are_placed_even_when_gone() {
        let topo = Topology::default();
        let s = topo.pod("shop", "checkout-7d9f8b6c5d-x2x4k");
        assert_eq!(s.workload.as_deref(), Some("checkout"));
        assert_eq!(s.to_string(), "Pod/shop/checkout-7d9f8b6c5d-x2x4k");
        assert_eq!(topo.pod("db", "postgres-0").workload, None);
    }

    #[test]
    fn labels_give_the_most_specific_subject() {
        let topo = Topology::default();
        let svc = topo.of_labels(&labels(&[("namespace", "shop"), ("service", "payments")]));
        assert_eq!(svc.to_string(), "Service/shop/payments");
        let node = topo.of_labels(&labels(&[("node", "node-2")]));
        assert!(node.is_node());
        assert!(
            topo.of_labels(&labels(&[("source", "prometheus")]))
                .is_cluster()
        );
    }

    #[test]
    fn relation_follows_topology() {
        let mut topo = Topology::default();
        topo.set_calls([("shop/checkout".into(), "shop/payments".into())]);
        let mut scope = Scope::default();
        scope.add(&topo.of_labels(&labels(&[("namespace", "shop"), ("service", "payments")])));
        // A caller of payments relates, an unrelated service does not.
        let checkout = topo.of_labels(&labels(&[("namespace", "shop"), ("service", "checkout")]));
        assert!(scope.relates(&checkout, &topo));
        let cart = topo.of_labels(&labels(&[("namespace", "shop"), ("service", "cart")]));
        assert!(!scope.relates(&cart, &topo));
        // A node-wide signal relates to the pods on it, pods on one node do not
        // relate to each other.
        let mut pods = Scope::default();
        pods.add(&Subject {
            node: Some("node-1".into()),
            ..topo.pod("shop", "cart-abc123def-q1w2e")
        });
        let node = topo.of_labels(&labels(&[("node", "node-1")]));
        assert!(pods.relates(&node, &topo));
        let neighbour = Subject {
            node: Some("node-1".into()),
            ..topo.pod("batch", "reindex-0")
        };
        assert!(!pods.relates(&neighbour, &topo));
        let mut nodes = Scope::default();
        nodes.add(&node);
        assert!(nodes.relates(&neighbour, &topo));
    }
}
