//! What an incident's capture takes from the state: the pods, nodes and
//! events its scope relates to, as Kubernetes JSON, the recent CPU, memory
//! and latency of those pods and the CPU of those nodes, and the readings
//! behind its findings.

use sentinel_explain::incident::Incident;
use sentinel_explain::live::{self, CapturedSeries};
use sentinel_model::{Labels, Timestamp};

use crate::state::State;

/// Pods and events one capture takes at most.
const PODS: usize = 60;
const EVENTS: usize = 200;

impl State {
    /// Refreshes the capture of every incident that changed (at most every
    /// 30 seconds each).
    pub(crate) fn capture_incidents(&mut self, now: Timestamp) {
        let due = self.incidents_mut().capture_due(now);
        if due.is_empty() {
            return;
        }
        let findings = self.findings_view();
        for id in due {
            let Some((objects, metrics, logs)) = self
                .incidents_ref()
                .get(&id)
                .map(|i| self.gather(i, &findings))
            else {
                continue;
            };
            self.incidents_mut()
                .capture(&id, now, objects, metrics, logs);
        }
    }

    fn gather(
        &self,
        inc: &Incident,
        findings: &[sentinel_model::Finding],
    ) -> (
        Vec<serde_json::Value>,
        Vec<CapturedSeries>,
        Vec<sentinel_explain::capture::LogLine>,
    ) {
        let topo = self.incidents_ref().topology();
        let scope = &inc.scope;
        let mut objects = Vec::new();
        let mut metrics = Vec::new();
        let mut nodes: std::collections::BTreeSet<&str> = scope
            .nodes
            .iter()
            .chain(scope.pod_nodes.iter())
            .map(String::as_str)
            .collect();
        for (k, view) in self.pod_views().iter().enumerate() {
            if objects.len() == PODS {
                break;
            }
            let p = &view.pod;
            let subject = topo.pod(&p.namespace, &p.name);
            if !scope.relates(&subject, topo) {
                continue;
            }
            objects.push(live::pod_json(p));
            if let Some(n) = &p.node {
                nodes.insert(n);
            }
            let mut labels = Labels::new();
            labels.insert("namespace".into(), p.namespace.clone());
            labels.insert("pod".into(), p.name.clone());
            if let Some(n) = &p.node {
                labels.insert("node".into(), n.clone());
            }
            // As kube-prometheus joins a pod to its owner: the explainer
            // reads a service's latency from its pods'.
            if let Some(w) = subject.workload {
                labels.insert("workload".into(), w);
            }
            let [cpu, memory, p95] = self.usage_trend(k);
            for (name, points) in [
                (live::POD_CPU, cpu),
                (live::POD_MEMORY, memory),
                (live::POD_P95, p95),
            ] {
                if !points.is_empty() {
                    metrics.push(CapturedSeries {
                        name: name.into(),
                        labels: labels.clone(),
                        points,
                    });
                }
            }
        }
        // The workloads behind the captured pods, with every ReplicaSet of
        // their Deployments: a rollout is read from the old and new revision.
        let owners: std::collections::BTreeSet<(&str, &str)> = self
            .pod_views()
            .iter()
            .filter_map(|v| {
                v.pod
                    .owner
                    .as_ref()
                    .map(|o| (v.pod.namespace.as_str(), o.name.as_str()))
            })
            .filter(|(ns, _)| objects.iter().any(|o| o["metadata"]["namespace"] == *ns))
            .collect();
        let workloads = self.workloads();
        let deployments: std::collections::BTreeSet<(&str, &str)> = workloads
            .iter()
            .filter(|w| owners.contains(&(w.namespace.as_str(), w.name.as_str())))
            .filter_map(|w| w.owner.as_deref().map(|d| (w.namespace.as_str(), d)))
            .collect();
        for w in workloads.iter() {
            let key = (w.namespace.as_str(), w.name.as_str());
            let by_owner = w
                .owner
                .as_deref()
                .is_some_and(|d| deployments.contains(&(w.namespace.as_str(), d)));
            if owners.contains(&key) || deployments.contains(&key) || by_owner {
                objects.push(live::workload_json(w));
            }
        }
        for n in self.node_states() {
            if nodes.contains(n.name.as_str()) {
                objects.push(live::node_json(n));
                // The CPU of a node the incident is about, not of every node
                // its pods run on: a node busy earlier (a noisy neighbour
                // minutes before) would read as this incident's saturation.
                let points = if scope.nodes.contains(&n.name) {
                    self.node_cpu_trend(&n.name)
                } else {
                    Vec::new()
                };
                if !points.is_empty() {
                    metrics.push(CapturedSeries {
                        name: live::NODE_CPU.into(),
                        labels: Labels::from([("node".to_string(), n.name.clone())]),
                        points,
                    });
                }
            }
        }
        let events: Vec<_> = self
            .recent_events()
            .filter(|e| scope.relates(&topo.of_object(&e.involved_object), topo))
            .collect();
        let skip = events.len().saturating_sub(EVENTS);
        for (k, e) in events.into_iter().enumerate().skip(skip) {
            objects.push(live::event_json(e, k));
        }
        for m in &inc.members {
            if let Some(f) = m
                .finding_id
                .as_deref()
                .and_then(|id| findings.iter().find(|f| f.id == id))
            {
                metrics.push(CapturedSeries {
                    name: f.series.metric.clone(),
                    labels: f.series.labels.clone(),
                    points: f.trace.points.clone(),
                });
            }
        }
        // The logs of the captured pods' containers.
        let pods: std::collections::BTreeSet<(&str, &str)> = objects
            .iter()
            .filter(|o| o["kind"] == "Pod")
            .filter_map(|o| {
                Some((
                    o["metadata"]["namespace"].as_str()?,
                    o["metadata"]["name"].as_str()?,
                ))
            })
            .collect();
        let logs = self
            .logs()
            .filter(|l| pods.contains(&(l.namespace.as_str(), l.pod.as_str())))
            .cloned()
            .collect();
        (objects, metrics, logs)
    }
}
