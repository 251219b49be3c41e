//! What a signal is about, placed in the cluster's topology: the pod, its
//! workload (pod → ReplicaSet → Deployment), its node, the service it serves
//! and the namespace. Two signals belong to one incident when their subjects
//! are linked; `Scope::relates` says when.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::topology::Topology;

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
    pub fn service_key(&self) -> Option<String> {
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
    /// This node itself, which pods in scope run on, or pods of services
    /// in scope.
    NodeOfPods(String),
    /// A service (no pod, no node) with pods on a node in scope: the
    /// manager tells which nodes, and whether their trouble lasts.
    ServiceOnNode,
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
    /// - the same pod, workload or service, or a Service and a workload its
    ///   selector picks;
    /// - a service that calls, or is called by, one in scope;
    /// - a node in scope and a pod on it, or a node and a pod in scope on it;
    /// - a namespace-wide signal and anything in that namespace.
    pub fn relates(&self, s: &Subject, topo: &Topology) -> bool {
        self.link(s, topo).is_some()
    }

    /// How a signal about `s` relates to this scope, if it does (see
    /// [`Scope::relates`]). A pod that relates only by running on a node in
    /// scope is [`Link::OnNode`] (a service with pods there,
    /// [`Link::ServiceOnNode`]), a node that relates only by its pods (or
    /// its services' pods) in scope [`Link::NodeOfPods`]: the manager holds
    /// those links only while the trouble on the other side lasts.
    pub fn link(&self, s: &Subject, topo: &Topology) -> Option<Link> {
        let ns = s.namespace.as_deref().unwrap_or("");
        if let Some(p) = &s.pod
            && self.pods.contains(&format!("{ns}/{p}"))
        {
            return Some(Link::Direct);
        }
        let key = s.service_key();
        if let Some(key) = &key {
            // A Service and the workloads its selector picks are one.
            if topo.aliases(key).any(|a| self.services.contains(a)) {
                return Some(Link::Direct);
            }
            if topo
                .aliases(key)
                .any(|a| self.services.iter().any(|k| topo.calls_between(k, a)))
            {
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
            if s.is_node()
                && (self.pod_nodes.contains(n) || self.services.iter().any(|k| topo.runs_on(k, n)))
            {
                by_node = Some(Link::NodeOfPods(n.clone()));
            }
        } else if s.pod.is_none()
            && let Some(key) = &key
            && self.nodes.iter().any(|n| topo.runs_on(key, n))
        {
            by_node = Some(Link::ServiceOnNode);
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
    use sentinel_model::Labels;

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
