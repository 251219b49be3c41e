//! Evidence: one observed fact from the capture, with a stable id that
//! explanations cite. Ids are assigned in the order facts are first noted,
//! and the rules run in a fixed order, so the same capture gives the same ids.

use sentinel_model::Timestamp;
use serde::Serialize;

use crate::kube::ObjRef;

pub type EvidenceId = String;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A Kubernetes event (reason and message as the cluster wrote them).
    Event,
    /// A container's state or last termination.
    Container,
    /// A pod's phase or condition.
    Pod,
    /// A node's condition, taint or schedulability.
    Node,
    /// A rollout: a new ReplicaSet / revision and its image.
    Rollout,
    /// A workload controller's status or condition (a Job that failed).
    Workload,
    /// How an object is configured (selector, ports, probe, claim, quota).
    Spec,
    /// Something that should exist and does not.
    Absent,
    /// A metric series that moved around the onset.
    Metric,
    /// Log lines matching a pattern.
    Log,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub id: EvidenceId,
    pub kind: EvidenceKind,
    pub subject: ObjRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct EvidenceSet {
    items: Vec<Evidence>,
}

impl EvidenceSet {
    /// Note a fact and return its id; the same fact noted twice keeps one id.
    pub fn note(
        &mut self,
        kind: EvidenceKind,
        subject: &ObjRef,
        at: Option<Timestamp>,
        text: impl Into<String>,
    ) -> EvidenceId {
        let text = text.into();
        if let Some(e) = self
            .items
            .iter()
            .find(|e| e.kind == kind && e.subject == *subject && e.text == text)
        {
            return e.id.clone();
        }
        let id = format!("E{}", self.items.len() + 1);
        self.items.push(Evidence {
            id: id.clone(),
            kind,
            subject: subject.clone(),
            at,
            text,
        });
        id
    }

    pub fn get(&self, id: &str) -> Option<&Evidence> {
        self.items.iter().find(|e| e.id == id)
    }

    pub fn into_vec(self) -> Vec<Evidence> {
        self.items
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_fact_keeps_its_id() {
        let mut set = EvidenceSet::default();
        let pod = ObjRef::new("Pod", "shop", "a");
        let a = set.note(EvidenceKind::Event, &pod, None, "BackOff");
        let b = set.note(EvidenceKind::Event, &pod, None, "Killing");
        let c = set.note(EvidenceKind::Event, &pod, None, "BackOff");
        assert_eq!((a.as_str(), b.as_str()), ("E1", "E2"));
        assert_eq!(a, c);
        assert_eq!(set.len(), 2);
    }
}
