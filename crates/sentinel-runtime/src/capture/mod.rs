//! What an incident's capture takes from the state: the pods, nodes and
//! events its scope relates to, as Kubernetes JSON, the recent CPU, memory
//! and latency of those pods and the CPU of those nodes, the CPU of the
//! pods beside them whose CPU rose around the onset, the Services of the
//! namespaces it touches, and the readings behind its findings. A
//! cluster-wide incident takes the pods of the workloads whose latency
//! rose around its onset (`slowed.rs`).

use sentinel_explain::incident::Incident;
use sentinel_explain::live::{self, CapturedSeries};
use sentinel_explain::metrics;
use sentinel_model::{Labels, Timestamp};

use crate::state::State;

mod slowed;

/// A series' readings.
type Points = Vec<(Timestamp, f64)>;

/// Pods and events one capture takes at most.
const PODS: usize = 60;
const EVENTS: usize = 200;
/// Services one capture takes at most, each with its Endpoints (with the
/// pods, events and workloads, within what a capture keeps).
const SERVICES: usize = 40;
/// Pods from the captured pods' nodes that a capture adds for their CPU
/// (see [`cpu_rise`]), at most, and the least rise that counts, in cores.
const NEIGHBOURS: usize = 6;
const NEIGHBOUR_RISE: f64 = 0.25;

/// How far a pod's CPU rose around an incident's onset: the most it used
/// from five minutes before the onset on, above the median of what it used
/// before then (above nothing, for a pod created since: a batch job that
/// landed on the node). Zero when that cannot be told (no readings before
/// then), as the explainer could tell nothing from it either.
fn cpu_rise(created: Timestamp, cpu: &[(Timestamp, f64)], onset: Timestamp) -> f64 {
    let cut = onset.0 - metrics::BASELINE_GUARD_MS;
    let peak = cpu
        .iter()
        .filter(|(t, _)| t.0 >= cut)
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut before: Vec<f64> = cpu.iter().filter(|(t, _)| t.0 < cut).map(|p| p.1).collect();
    let base = if created.0 >= cut {
        0.0
    } else if before.is_empty() {
        return 0.0;
    } else {
        metrics::median(&mut before)
    };
    (peak - base).max(0.0)
}

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
        let mut taken = std::collections::BTreeSet::new();
        // The runs (Jobs) of a CronJob the incident names, whose pods are
        // its pods too: a run that hangs is what holds the next one back.
        let runs = self.runs_of(scope);
        for (k, view) in self.pod_views().iter().enumerate() {
            if objects.len() == PODS {
                break;
            }
            let p = &view.pod;
            let subject = topo.pod(&p.namespace, &p.name);
            let a_run = p.owner.as_ref().is_some_and(|o| {
                o.kind == sentinel_model::OwnerKind::Job
                    && runs.contains(&(p.namespace.clone(), o.name.clone()))
            });
            if !scope.relates(&subject, topo) && !a_run {
                continue;
            }
            objects.push(live::pod_json(p));
            taken.insert(k);
            if let Some(n) = &p.node {
                nodes.insert(n);
            }
            let labels = pod_labels(p, subject.workload);
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
        // A cluster-wide incident relates to no pod: it takes those of the
        // workloads whose latency rose around its onset.
        if scope.cluster && taken.is_empty() {
            for k in self.slowed_pods(inc.onset(), topo, PODS) {
                let p = &self.pod_views()[k].pod;
                objects.push(live::pod_json(p));
                taken.insert(k);
                if let Some(n) = &p.node {
                    nodes.insert(n);
                }
                let labels = pod_labels(p, topo.pod(&p.namespace, &p.name).workload);
                let [cpu, _, p95] = self.usage_trend(k);
                for (name, points) in [(live::POD_CPU, cpu), (live::POD_P95, p95)] {
                    if !points.is_empty() {
                        metrics.push(CapturedSeries {
                            name: name.into(),
                            labels: labels.clone(),
                            points,
                        });
                    }
                }
            }
        }
        // Their neighbours whose CPU rose around the onset, and those an
        // earlier capture took: a batch job that lands on a node is related
        // to none of the services it slows down, and its CPU is what names
        // it. Only their CPU: they are evidence, not the incident's pods.
        let onset = inc.onset();
        // (rise, pod index, its CPU)
        let mut risers: Vec<(f64, usize, Points)> = Vec::new();
        for (k, view) in self.pod_views().iter().enumerate() {
            let p = &view.pod;
            if taken.contains(&k) || !p.node.as_deref().is_some_and(|n| nodes.contains(n)) {
                continue;
            }
            let kept = inc.capture.as_ref().is_some_and(|c| {
                c.objects
                    .contains_key(&format!("Pod/{}/{}", p.namespace, p.name))
            });
            let cpu = self.cpu_trend(k);
            let rise = if kept {
                f64::INFINITY
            } else {
                cpu_rise(p.created_at, &cpu, onset)
            };
            if rise >= NEIGHBOUR_RISE {
                risers.push((rise, k, cpu));
            }
        }
        risers.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, k, cpu) in risers.into_iter().take(NEIGHBOURS) {
            taken.insert(k);
            let p = &self.pod_views()[k].pod;
            objects.push(live::pod_json(p));
            let workload = topo.pod(&p.namespace, &p.name).workload;
            metrics.push(CapturedSeries {
                name: live::POD_CPU.into(),
                labels: pod_labels(p, workload),
                points: cpu,
            });
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
        // The workloads behind the captured pods, with every ReplicaSet of
        // their Deployments: a rollout is read from the old and new revision.
        // After the nodes and events: a capture keeps a bounded number of
        // objects, and those say more.
        let views = self.pod_views();
        let owners: std::collections::BTreeSet<(&str, &str)> = taken
            .iter()
            .filter_map(|&k| {
                let p = &views.get(k)?.pod;
                Some((p.namespace.as_str(), p.owner.as_ref()?.name.as_str()))
            })
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
            // A controller the incident names (a CronJob late, a rollout
            // stalled): its status is the evidence, pods or none.
            let named = !matches!(
                w.kind,
                sentinel_model::WorkloadKind::ReplicaSet | sentinel_model::WorkloadKind::Job
            ) && scope
                .services
                .contains(&format!("{}/{}", w.namespace, w.name));
            if owners.contains(&key) || deployments.contains(&key) || by_owner || named {
                objects.push(live::workload_json(w));
            }
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
        let logs: Vec<_> = self
            .logs()
            .filter(|l| pods.contains(&(l.namespace.as_str(), l.pod.as_str())))
            .cloned()
            .collect();
        // The Services of the namespaces it touches, those in front of its
        // pods or named by it first, each with its Endpoints (the pods it
        // selects, of all the app holds): the routing rules read which pods
        // each selects (none: a selector that matches nothing), and tell a
        // name no Service has only against the namespace's list (so those
        // the logs fail to look up are taken, wherever they are).
        let pods_in: Vec<&sentinel_model::PodState> = taken
            .iter()
            .filter_map(|&k| views.get(k))
            .map(|v| &v.pod)
            .collect();
        let looked_up = live::looked_up(&logs);
        let mut services: Vec<(bool, &sentinel_model::ServiceState)> = self
            .services()
            .iter()
            .filter_map(|s| {
                let sought = !looked_up.is_empty()
                    && looked_up.contains(&(s.namespace.clone(), s.name.clone()));
                if !sought && !scope.touched.contains(&s.namespace) {
                    return None;
                }
                let key = format!("{}/{}", s.namespace, s.name);
                let named = topo.aliases(&key).any(|k| scope.services.contains(k));
                let fronts = pods_in
                    .iter()
                    .any(|p| p.namespace == s.namespace && s.selects(&p.labels));
                Some((named || fronts || sought, s))
            })
            .collect();
        services.sort_by_key(|(related, _)| !related);
        for (_, s) in services.into_iter().take(SERVICES) {
            objects.push(live::service_json(s));
            let all = views.iter().map(|v| &v.pod);
            let endpoints = live::endpoints_json(s, all);
            // A Service that reaches none of the running pods it selects (a
            // named targetPort they do not declare) takes one of them along:
            // the explainer reads the ports it declares, where a capture
            // without it would read a selector that matches nothing.
            if endpoints["subsets"].as_array().is_some_and(Vec::is_empty)
                && let Some(p) = views.iter().map(|v| &v.pod).find(|p| {
                    p.namespace == s.namespace
                        && p.phase == sentinel_model::PodPhase::Running
                        && s.selects(&p.labels)
                })
                && !pods_in
                    .iter()
                    .any(|q| q.namespace == p.namespace && q.name == p.name)
            {
                objects.push(live::pod_json(p));
            }
            objects.push(endpoints);
        }
        (objects, metrics, logs)
    }

    /// (namespace, Job) of the runs not finished of the CronJobs `scope`
    /// names.
    fn runs_of(
        &self,
        scope: &sentinel_explain::incident::Scope,
    ) -> std::collections::BTreeSet<(String, String)> {
        self.workloads()
            .iter()
            .filter(|w| {
                w.job().is_some_and(|j| j.outcome.finished_at().is_none())
                    && w.owner
                        .as_ref()
                        .is_some_and(|c| scope.services.contains(&format!("{}/{c}", w.namespace)))
            })
            .map(|w| (w.namespace.clone(), w.name.clone()))
            .collect()
    }
}

/// A pod's series labels: as kube-prometheus joins a pod to its node and
/// owner (the explainer reads a service's latency from its pods').
fn pod_labels(p: &sentinel_model::PodState, workload: Option<String>) -> Labels {
    let mut labels = Labels::new();
    labels.insert("namespace".into(), p.namespace.clone());
    labels.insert("pod".into(), p.name.clone());
    if let Some(n) = &p.node {
        labels.insert("node".into(), n.clone());
    }
    if let Some(w) = workload {
        labels.insert("workload".into(), w);
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const ONSET: Timestamp = Timestamp(1_790_000_000_000);

    /// A reading every 30 s from ten minutes before the onset to one after.
    fn cpu(value: impl Fn(i64) -> f64) -> Vec<(Timestamp, f64)> {
        (-20..=2)
            .map(|k| (Timestamp(ONSET.0 + k * 30_000), value(k * 30_000)))
            .collect()
    }

    #[test]
    fn a_rise_is_counted_from_the_baseline_or_from_nothing() {
        let old = Timestamp(ONSET.0 - 60 * MIN);
        // Steady: no rise.
        assert_eq!(cpu_rise(old, &cpu(|_| 0.3), ONSET), 0.0);
        // From 0.3 to 2 cores two minutes before the onset.
        let grew = cpu(|t| if t >= -2 * MIN { 2.0 } else { 0.3 });
        assert!((cpu_rise(old, &grew, ONSET) - 1.7).abs() < 1e-9);
        // A pod created a minute before the onset rose from nothing.
        let new = Timestamp(ONSET.0 - MIN);
        let job: Vec<_> = cpu(|_| 3.0)
            .into_iter()
            .filter(|(t, _)| *t >= new)
            .collect();
        assert_eq!(cpu_rise(new, &job, ONSET), 3.0);
        // An older pod whose readings do not reach back before the
        // baseline's end: nothing can be told.
        assert_eq!(cpu_rise(old, &job, ONSET), 0.0);
    }
}
