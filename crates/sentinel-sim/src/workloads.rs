//! The workload controllers as the API serves them: each Deployment with
//! a ReplicaSet for every revision it has had (the old one scaled to zero,
//! as a rollout leaves it), StatefulSets and DaemonSets. A Job is not a
//! kind the app reads; its pods name it as their owner.
//!
//! One simplification: a rollback makes the old revision current again
//! under its own number, where the API would give it the next number and
//! keep the old one in `deployment.kubernetes.io/revision-history`.

use std::collections::HashMap;

use sentinel_model::{PodState, Timestamp, Workload as State, WorkloadKind as Kind};

use crate::Sim;
use crate::topology::{Workload, WorkloadKind};

/// A ReplicaSet a Deployment has had: its revision, version and birth.
#[derive(Debug, Clone)]
pub(crate) struct Revision {
    pub workload: usize,
    pub revision: u32,
    pub version: String,
    pub created_at: Timestamp,
}

fn ready(p: &PodState) -> bool {
    !p.containers.is_empty() && p.containers.iter().all(|c| c.ready)
}

fn image(wl: &Workload, version: &str) -> String {
    format!("{}={}:{}", wl.name, wl.image_repo, version)
}

impl Sim {
    /// Records the ReplicaSet of workload `w`'s current revision, rolled
    /// out at `at`. The incident loop rolls the same revision out again
    /// every cycle: that is a new rollout, dated anew.
    pub(crate) fn note_revision(&mut self, w: usize, at: Timestamp) {
        let wl = &self.workloads[w];
        if wl.kind != WorkloadKind::Deployment {
            return;
        }
        if let Some(r) = self
            .revisions
            .iter_mut()
            .find(|r| r.workload == w && r.revision == wl.revision)
        {
            r.created_at = at;
            return;
        }
        self.revisions.push(Revision {
            workload: w,
            revision: wl.revision,
            version: wl.version.clone(),
            created_at: at,
        });
    }

    /// The controllers now, with their pods' readiness.
    pub(crate) fn workload_states(&self) -> Vec<State> {
        // owner → (pods, ready pods)
        let mut by_owner: HashMap<(&str, &str), (u32, u32)> = HashMap::new();
        for p in &self.pods {
            if let Some(o) = &p.state.owner {
                let n = by_owner
                    .entry((p.state.namespace.as_str(), o.name.as_str()))
                    .or_default();
                n.0 += 1;
                n.1 += u32::from(ready(&p.state));
            }
        }
        let count = |ns: &str, name: &str| by_owner.get(&(ns, name)).copied().unwrap_or((0, 0));
        let ready_of = |ns: &str, name: &str| count(ns, name).1;
        let mut out = Vec::with_capacity(self.workloads.len() + self.revisions.len());
        for (w, wl) in self.workloads.iter().enumerate() {
            let kind = match wl.kind {
                WorkloadKind::Deployment => Kind::Deployment,
                WorkloadKind::StatefulSet => Kind::StatefulSet,
                WorkloadKind::DaemonSet => Kind::DaemonSet,
                WorkloadKind::Job => continue,
            };
            let ready = match wl.kind {
                WorkloadKind::Deployment => self
                    .revisions
                    .iter()
                    .filter(|r| r.workload == w)
                    .map(|r| ready_of(&wl.namespace, &wl.replicaset_of(r.revision)))
                    .sum(),
                _ => ready_of(&wl.namespace, &wl.name),
            };
            out.push(State {
                kind,
                namespace: wl.namespace.clone(),
                name: wl.name.clone(),
                owner: None,
                revision: wl.revision.to_string(),
                images: vec![image(wl, &wl.version)],
                replicas: u32::try_from(wl.replicas).unwrap_or(u32::MAX),
                ready,
                created_at: self.start,
            });
        }
        // A ReplicaSet wants the pods it has: a rollout that is stuck keeps
        // the old one's and the new one's, a finished one none of the old.
        for r in &self.revisions {
            let wl = &self.workloads[r.workload];
            let name = wl.replicaset_of(r.revision);
            let (replicas, ready) = count(&wl.namespace, &name);
            out.push(State {
                kind: Kind::ReplicaSet,
                namespace: wl.namespace.clone(),
                name,
                owner: Some(wl.name.clone()),
                revision: r.revision.to_string(),
                images: vec![image(wl, &r.version)],
                replicas,
                ready,
                created_at: r.created_at,
            });
        }
        out
    }
}
