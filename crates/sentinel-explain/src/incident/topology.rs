//! The cluster's topology as the correlator needs it: where each pod runs
//! and what owns it, where each workload's pods run, which workloads each
//! Service's selector picks, and which services call which. Signals are
//! placed in it (`Subject`).

use std::collections::{BTreeSet, HashMap};

use sentinel_model::{Labels, ObjectRef, OwnerKind, OwnerRef, PodState, ServiceState};

use super::subject::Subject;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Place {
    workload: Option<String>,
    node: Option<String>,
    /// The last pod list that held it.
    seen: u32,
    /// Whether it counts in its workload's nodes: not once it is gone from
    /// the list (deleted, evicted), though its place is kept.
    counted: bool,
    /// Its labels, hashed, where Services could select it (0 elsewhere): a
    /// pod relabelled in place is matched against them again.
    labels: u64,
}

/// A cheap hash of a pod's labels (FxHash's step over 8-byte words): a
/// pod list of 10,000 is hashed in a fraction of a millisecond.
fn labels_hash(labels: &Labels) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut h: u64 = 0;
    let mut add = |w: u64| h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    for (k, v) in labels {
        for s in [k, v] {
            let bytes = s.as_bytes();
            let mut chunks = bytes.chunks_exact(8);
            for c in &mut chunks {
                add(u64::from_le_bytes([
                    c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                ]));
            }
            let mut last = [0u8; 8];
            last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
            // The length ends each string, so `a=bc` and `ab=c` differ.
            add(u64::from_le_bytes(last) ^ ((bytes.len() as u64) << 56));
        }
    }
    h
}

/// The links between objects that the correlator needs: where each pod runs
/// and what owns it, and which services call which.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// namespace → pod → place, looked up without allocating.
    pods: HashMap<String, HashMap<String, Place>>,
    pod_count: usize,
    /// How many places count in `nodes_of`, and which pod list is the latest.
    counted: usize,
    generation: u32,
    /// `namespace/workload` → node → how many of its pods run (or last ran)
    /// there, kept beside `pods`.
    nodes_of: HashMap<String, HashMap<String, u32>>,
    /// `(caller, callee)` as `namespace/service`.
    calls: BTreeSet<(String, String)>,
    /// namespace → its Services with a selector, `(name, selector)`.
    services: HashMap<String, Vec<(String, Labels)>>,
    /// `namespace/service` → the `namespace/workload`s whose pods its
    /// selector picks (or picked), and back.
    behind: HashMap<String, BTreeSet<String>>,
    front: HashMap<String, BTreeSet<String>>,
    /// The Services changed: the next pod list is matched again in whole.
    rematch: bool,
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
    /// disappear keep their place (a signal about an evicted pod still needs
    /// it) but no longer count where their workload runs.
    pub fn set_pods<'a>(&mut self, pods: impl IntoIterator<Item = &'a PodState>) {
        // Bounded: a churning cluster that passes this starts over from the
        // current list.
        if self.pod_count > 50_000 {
            self.pods.clear();
            self.nodes_of.clear();
            self.behind.clear();
            self.front.clear();
            self.pod_count = 0;
            self.counted = 0;
        }
        self.generation = self.generation.wrapping_add(1);
        let generation = self.generation;
        let mut listed = 0usize;
        let rematch = std::mem::take(&mut self.rematch);
        for p in pods {
            listed += 1;
            let workload = p.owner.as_ref().map(workload_of);
            let labels = if self.services.contains_key(&p.namespace) {
                labels_hash(&p.labels)
            } else {
                0
            };
            if rematch && let Some(w) = &workload {
                self.match_services(p, w);
            }
            let names = match self.pods.get_mut(&p.namespace) {
                Some(m) => m,
                None => self.pods.entry(p.namespace.clone()).or_default(),
            };
            match names.get_mut(&p.name) {
                Some(old) => {
                    old.seen = generation;
                    if old.counted
                        && old.workload == workload
                        && old.node == p.node
                        && old.labels == labels
                    {
                        continue;
                    }
                    let was = std::mem::replace(
                        old,
                        Place {
                            workload: workload.clone(),
                            node: p.node.clone(),
                            seen: generation,
                            counted: true,
                            labels,
                        },
                    );
                    if was.counted {
                        count(&mut self.nodes_of, &p.namespace, &was, false);
                    } else {
                        self.counted += 1;
                    }
                    count(&mut self.nodes_of, &p.namespace, old, true);
                }
                None => {
                    let place = Place {
                        workload: workload.clone(),
                        node: p.node.clone(),
                        seen: generation,
                        counted: true,
                        labels,
                    };
                    count(&mut self.nodes_of, &p.namespace, &place, true);
                    names.insert(p.name.clone(), place);
                    self.pod_count += 1;
                    self.counted += 1;
                }
            }
            if !rematch && let Some(w) = &workload {
                self.match_services(p, w);
            }
        }
        // Some counted pod was not listed: it is gone.
        if listed < self.counted {
            for (ns, names) in &mut self.pods {
                for place in names.values_mut() {
                    if place.counted && place.seen != generation {
                        count(&mut self.nodes_of, ns, place, false);
                        place.counted = false;
                        self.counted -= 1;
                    }
                }
            }
        }
    }

    /// Takes the current Service list. When it changed, the next pod list
    /// is matched against it again.
    pub fn set_services<'a>(&mut self, services: impl IntoIterator<Item = &'a ServiceState>) {
        let mut by_ns: HashMap<String, Vec<(String, Labels)>> = HashMap::new();
        for s in services {
            if !s.selector.is_empty() {
                by_ns
                    .entry(s.namespace.clone())
                    .or_default()
                    .push((s.name.clone(), s.selector.clone()));
            }
        }
        if by_ns != self.services {
            self.services = by_ns;
            self.behind.clear();
            self.front.clear();
            self.rematch = true;
        }
    }

    /// Notes which Services select the pod `p` of workload `w`.
    fn match_services(&mut self, p: &PodState, w: &str) {
        let Some(services) = self.services.get(&p.namespace) else {
            return;
        };
        for (name, selector) in services {
            if !crate::kube::selects(selector, &p.labels) {
                continue;
            }
            let svc = format!("{}/{name}", p.namespace);
            let workload = format!("{}/{w}", p.namespace);
            if self
                .behind
                .get(&svc)
                .is_some_and(|ws| ws.contains(&workload))
            {
                continue;
            }
            self.front
                .entry(workload.clone())
                .or_default()
                .insert(svc.clone());
            self.behind.entry(svc).or_default().insert(workload);
        }
    }

    /// The keys that name the same pods as `key` (`namespace/name`): itself,
    /// the workloads behind it if it is a Service, and the Services in front
    /// of it if it is a workload. A Service named like its workload needs
    /// none of this; `storefront` in front of Deployment `web` does.
    pub fn aliases<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let behind = self.behind.get(key).into_iter().flatten();
        let front = self.front.get(key).into_iter().flatten();
        std::iter::once(key).chain(behind.chain(front).map(String::as_str))
    }

    /// Whether a pod of the workload or service `key` (`namespace/name`)
    /// runs, or last ran, on `node`. A Service is placed by the pods its
    /// selector picks, and like the workload of the same name.
    pub fn runs_on(&self, key: &str, node: &str) -> bool {
        let on = |k: &str| {
            self.nodes_of
                .get(k)
                .is_some_and(|nodes| nodes.contains_key(node))
        };
        on(key)
            || self
                .behind
                .get(key)
                .is_some_and(|ws| ws.iter().any(|w| on(w)))
    }

    /// Service dependencies, `(caller, callee)` as `namespace/service`.
    pub fn set_calls(&mut self, calls: impl IntoIterator<Item = (String, String)>) {
        self.calls = calls.into_iter().collect();
    }

    /// The service dependencies that touch one of `services` (keys as
    /// [`Scope::services`] holds them), `(caller, callee)`.
    /// A Service in front of one of them, or a workload behind, counts.
    pub fn calls_touching(&self, services: &BTreeSet<String>) -> Vec<(String, String)> {
        let keys: BTreeSet<&str> = services.iter().flat_map(|k| self.aliases(k)).collect();
        self.calls
            .iter()
            .filter(|(a, b)| keys.contains(a.as_str()) || keys.contains(b.as_str()))
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
            s.workload = [
                "deployment",
                "statefulset",
                "daemonset",
                "job_name",
                "cronjob",
            ]
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
            ("Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob", Some(_)) => Subject {
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

    /// Where a name given without its namespace (a traced service's) is:
    /// the namespace of each workload or Service name, or `None` for a
    /// name that more than one namespace holds.
    pub fn namespaces_by_name(&self) -> HashMap<&str, Option<&str>> {
        let workloads = self.nodes_of.keys().filter_map(|k| k.split_once('/'));
        let services = self
            .services
            .iter()
            .flat_map(|(ns, s)| s.iter().map(move |(name, _)| (ns.as_str(), name.as_str())));
        let mut by_name: HashMap<&str, Option<&str>> = HashMap::new();
        for (ns, name) in workloads.chain(services) {
            by_name
                .entry(name)
                .and_modify(|seen| {
                    if *seen != Some(ns) {
                        *seen = None;
                    }
                })
                .or_insert(Some(ns));
        }
        by_name
    }

    /// How many workloads (with a placed pod) and Services the topology
    /// holds: when it changes, names without a namespace may place anew.
    pub fn named_objects(&self) -> usize {
        self.nodes_of.len() + self.services.values().map(Vec::len).sum::<usize>()
    }

    pub(super) fn calls_between(&self, a: &str, b: &str) -> bool {
        self.calls.contains(&(a.to_string(), b.to_string()))
            || self.calls.contains(&(b.to_string(), a.to_string()))
    }
}

/// Counts a pod's place in (or out of) its workload's nodes.
fn count(
    nodes_of: &mut HashMap<String, HashMap<String, u32>>,
    namespace: &str,
    place: &Place,
    add: bool,
) {
    let (Some(w), Some(n)) = (&place.workload, &place.node) else {
        return;
    };
    let key = format!("{namespace}/{w}");
    if add {
        *nodes_of
            .entry(key)
            .or_default()
            .entry(n.clone())
            .or_default() += 1;
    } else if let Some(nodes) = nodes_of.get_mut(&key) {
        if let Some(c) = nodes.get_mut(n) {
            *c -= 1;
            if *c == 0 {
                nodes.remove(n);
            }
        }
        if nodes.is_empty() {
            nodes_of.remove(&key);
        }
    }
}

#[cfg(test)]
#[path = "topology_tests.rs"]
mod tests;
