//! Applying a source's batch to the state: objects (the Kubernetes API's
//! winning over kube-state-metrics' once it has spoken), workloads,
//! Services, logs, usage, events, alerts and readings, each fed to the
//! engine, the history and the incidents; then the incidents settle and
//! their captures are refreshed.

use std::sync::Arc;

use sentinel_model::{NodeState, PodState};

use super::{EVENTS_KEPT, LOGS_KEPT, State};
use crate::source::{Batch, SourceId};

impl State {
    pub fn apply(&mut self, source: SourceId, mut batch: Batch) {
        let at = batch.at;
        if batch.backfill {
            self.backfilling.insert(source);
        } else {
            self.backfilling.remove(&source);
        }
        // Objects (pods, nodes, workloads) from the Kubernetes API win over
        // kube-state-metrics' view once they have arrived (until then, usage
        // finds its nodes there).
        let from_api = self
            .sources
            .get(source)
            .is_some_and(|s| s.kind == "kubernetes");
        let api_has_spoken = self
            .sources
            .iter()
            .any(|s| s.kind == "kubernetes" && s.last_ok.is_some());
        if !from_api && api_has_spoken {
            batch.pods = None;
            batch.nodes = None;
            batch.workloads = None;
            // Restarts come with the API's objects then.
            for u in batch.pod_usage.iter_mut().flatten() {
                u.restarts = None;
            }
        }
        // A source that reads restarts per step feeds them with its usage;
        // the objects' counts (as of the newest step) would be out of time.
        let restarts_in_usage = batch
            .pod_usage
            .as_ref()
            .is_some_and(|u| u.iter().any(|u| u.restarts.is_some()));
        if let Some(w) = batch.workloads.take() {
            self.detection.workloads(at, &w);
            self.workloads = Arc::new(w);
        }
        if let Some(calls) = batch.calls.take() {
            self.incidents.observed_calls(calls);
        }
        if let Some(s) = batch.services.take() {
            self.services = Arc::new(s);
            self.incidents.services(&self.services);
            // Matched against the pods held now, unless new ones come with
            // this batch.
            if batch.pods.is_none() {
                let pods: Vec<&PodState> = self.pods.iter().map(|v| &v.pod).collect();
                self.incidents.pods(&pods);
            }
        }
        for l in std::mem::take(&mut batch.logs) {
            if self.logs.len() == LOGS_KEPT {
                self.logs.pop_front();
            }
            self.logs.push_back(l);
        }
        // History replayed at start-up is not news from the source: health and
        // "newest data" move only with live batches.
        if !batch.backfill {
            if let Some(s) = self.sources.get_mut(source) {
                s.last_ok = Some(s.last_ok.map_or(at, |t| t.max(at)));
                s.last_error = None;
                if batch.latency.is_some() {
                    s.latency = batch.latency;
                }
                if self.detection.recording() {
                    let seen = sentinel_store::SourceSeen {
                        name: s.name.clone(),
                        kind: s.kind.to_string(),
                        cluster: self.cluster.clone(),
                        at,
                    };
                    self.detection.note(sentinel_store::Record::Source(seen));
                }
            }
            self.data_at = Some(self.data_at.map_or(at, |t| t.max(at)));
        }
        if let Some(s) = self.sources.get(source) {
            let name = s.name.clone();
            self.detection.observe("up", &[("source", &name)], at, 1.0);
        }
        let nodes_changed = batch.nodes.is_some() || batch.node_usage.is_some();
        let listed = (batch.nodes.is_some(), batch.pods.is_some());
        if (listed.0 || listed.1)
            && let Some(later) = batch.objects_at.filter(|t| *t > at)
        {
            self.objects_due = Some(later);
        }
        // The objects as listed hold now: the listing is of this step, or
        // this is the step a listing sent ahead was of.
        let (nodes_now, pods_now) = match self.objects_due {
            Some(due) if at >= due => {
                self.objects_due = None;
                (true, true)
            }
            Some(_) => (false, false),
            None => listed,
        };
        if let Some(mut nodes) = batch.nodes {
            // A condition as it was keeps the time it began: read through
            // Prometheus, every listing dates them at the poll.
            let before: std::collections::HashMap<&str, &NodeState> =
                self.nodes.iter().map(|n| (n.name.as_str(), n)).collect();
            for n in &mut nodes {
                if let Some(b) = before.get(n.name.as_str()) {
                    n.keep_since(b);
                }
            }
            self.nodes = nodes;
        }
        if let Some(usage) = batch.node_usage {
            self.node_usage = usage.into_iter().map(|u| (u.node.clone(), u)).collect();
            self.record_node_series(at);
        }
        if nodes_changed || nodes_now {
            let ready = self.objects_due.is_none();
            self.detection
                .nodes(at, &self.nodes, &self.node_usage, ready);
        }
        let recording = self.detection.recording();
        let mut changes = Vec::new();
        if recording && nodes_now {
            self.objects.nodes(at, &self.nodes, &mut changes);
        }
        if let Some(pods) = batch.pods {
            self.replace_pods(at, pods);
            let pods: Vec<&PodState> = self.pods.iter().map(|v| &v.pod).collect();
            self.incidents.pods(&pods);
        }
        if pods_now {
            if recording {
                self.objects
                    .pods(at, self.pods.iter().map(|v| &v.pod), &mut changes);
            }
            let pods: Vec<&PodState> = self.pods.iter().map(|v| &v.pod).collect();
            self.detection.pods(at, &pods, !restarts_in_usage);
        }
        if let Some(usage) = batch.pod_usage {
            self.record_pod_usage(at, usage);
        }
        self.incidents.events(&batch.events);
        for e in batch.events {
            self.detection
                .note(sentinel_store::Record::Event(Box::new(e.clone())));
            if self.events.len() == EVENTS_KEPT {
                self.events.pop_front();
            }
            self.events.push_back(e);
        }
        if let Some(alerts) = batch.alerts {
            if recording {
                self.objects.alerts(at, &alerts, &mut changes);
            }
            self.incidents.alerts(at, &alerts);
            self.alerts = Arc::new(alerts);
        }
        if let Some(silences) = batch.silences {
            self.alert_silences = Arc::new(silences);
        }
        self.detection.note_all(changes);
        if let Some(readings) = batch.readings {
            self.detection.raw(at, &readings);
        }
        self.detection.fed(at);
        let reported = self.detection.take_reported();
        self.incidents.findings(&reported);
        // History replayed at start-up opens incidents; they are shown when
        // live data arrives, if still open.
        if batch.backfill {
            self.incidents.settle_quietly();
        } else {
            self.incidents.settle(at);
        }
        self.capture_incidents(at);
    }
}
