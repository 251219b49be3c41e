//! What an incident's capture takes from the state: the pods, nodes and
//! events its scope relates to, as Kubernetes JSON, the memory of those
//! pods, and the readings behind its findings.

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
            let Some((objects, metrics)) = self
                .incidents_ref()
                .get(&id)
                .map(|i| self.gather(i, &findings))
            else {
                continue;
            };
            self.incidents_mut().capture(&id, now, objects, metrics);
        }
    }

    fn gather(
        &self,
        inc: &Incident,
        findings: &[sentinel_model::Finding],
    ) -> (Vec<serde_json::Value>, Vec<CapturedSeries>) {
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
            if !scope.relates(&topo.pod(&p.namespace, &p.name), topo) {
                continue;
            }
            objects.push(live::pod_json(p));
            if let Some(n) = &p.node {
                nodes.insert(n);
            }
            let trend = self.memory_trend(k);
            if !trend.is_empty() {
                let mut labels = Labels::new();
                labels.insert("namespace".into(), p.namespace.clone());
                labels.insert("pod".into(), p.name.clone());
                metrics.push(CapturedSeries {
                    name: "container_memory_working_set_bytes".into(),
                    labels,
                    points: trend,
                });
            }
        }
        for n in self.node_states() {
            if nodes.contains(n.name.as_str()) {
                objects.push(live::node_json(n));
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
        (objects, metrics)
    }
}
