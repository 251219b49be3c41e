//! One rule per family of causes. A rule reads the capture, notes the facts
//! it relies on as evidence, and proposes candidates whose sentences cite them.

mod admission;
mod dependency;
mod infra;
mod jobs;
mod neighbour;
mod nodes;
mod oom;
mod performance;
mod probes;
mod rollouts;
pub(crate) mod routing;
mod schedules;
mod scheduling;
mod startup;
mod volumes;

use sentinel_model::Timestamp;
use serde_json::Value;

use crate::capture::{Capture, LogLine};
use crate::evidence::{EvidenceId, EvidenceKind, EvidenceSet};
use crate::explain::{Candidate, Sentence};
use crate::kube::{Event, ObjRef, str_at};

/// The rules, in the order they run (which fixes evidence ids).
type Rule = fn(&mut Ctx);

pub(crate) const RULES: &[(&str, Rule)] = &[
    ("scheduling", scheduling::run),
    ("volumes", volumes::run),
    ("admission", admission::run),
    ("startup", startup::run),
    ("probes", probes::run),
    ("routing", routing::run),
    ("infra", infra::run),
    ("performance", performance::run),
    ("jobs", jobs::run),
    ("schedules", schedules::run),
    ("rollouts", rollouts::run),
];

pub(crate) struct Ctx<'a> {
    pub cap: &'a Capture,
    pub ev: EvidenceSet,
    pub out: Vec<Candidate>,
}

const MIN: i64 = 60_000;

impl<'a> Ctx<'a> {
    pub fn new(cap: &'a Capture) -> Self {
        Self {
            cap,
            ev: EvidenceSet::default(),
            out: Vec::new(),
        }
    }

    /// How much a fact at `t` bears on this onset: fully from 30 minutes
    /// before to 20 minutes after, fading beyond; unknown times count a bit less.
    pub fn near(&self, t: Option<Timestamp>) -> f64 {
        let Some(t) = t else { return 0.85 };
        let d = t.0 - self.cap.onset.0;
        let excess = if d < -30 * MIN {
            -30 * MIN - d
        } else if d > 20 * MIN {
            d - 20 * MIN
        } else {
            0
        };
        (-(excess as f64) / (30 * MIN) as f64).exp().max(0.15)
    }

    /// Whether a fact at `t` began more than two minutes after the onset:
    /// what it did came after what the onset marks, so it is a later
    /// problem, not this one's cause (a node that went down as the
    /// incident's last alerts ended).
    pub fn after_onset(&self, t: Option<Timestamp>) -> bool {
        t.is_some_and(|t| t.0 - self.cap.onset.0 > 2 * MIN)
    }

    pub fn pods(&self) -> &'a [Value] {
        self.cap.objects.of_kind("Pod")
    }

    pub fn events_for(&self, obj: &ObjRef) -> Vec<&'a Event> {
        self.cap.objects.events_for(obj).collect()
    }

    /// Note an event as evidence.
    pub fn note_event(&mut self, e: &Event) -> EvidenceId {
        let times = if e.count > 1 {
            format!(" (×{})", e.count)
        } else {
            String::new()
        };
        let text = format!("{} {}{}: {}", e.object, e.reason, times, e.message.trim());
        self.ev.note(EvidenceKind::Event, &e.object, e.last, text)
    }

    pub fn note(
        &mut self,
        kind: EvidenceKind,
        subject: &ObjRef,
        at: Option<Timestamp>,
        text: impl Into<String>,
    ) -> EvidenceId {
        self.ev.note(kind, subject, at, text)
    }

    /// Log lines of one pod (any container) that match any of `needles`, case-insensitively.
    pub fn logs_matching(&self, ns: &str, pod: &str, needles: &[&str]) -> Vec<&'a LogLine> {
        self.cap
            .logs
            .iter()
            .filter(|l| (ns.is_empty() || l.namespace == ns) && (pod.is_empty() || l.pod == pod))
            .filter(|l| {
                let low = l.line.to_ascii_lowercase();
                needles.iter().any(|n| low.contains(n))
            })
            .collect()
    }

    /// Note matching log lines as one evidence item (count and first line).
    pub fn note_logs(&mut self, subject: &ObjRef, lines: &[&LogLine]) -> Option<EvidenceId> {
        let first = lines.first()?;
        let text = if lines.len() == 1 {
            format!("log of {}: {}", first.pod, first.line.trim())
        } else {
            format!(
                "{} log lines of {} like: {}",
                lines.len(),
                first.pod,
                first.line.trim()
            )
        };
        Some(self.note(EvidenceKind::Log, subject, first.at, text))
    }

    /// The Deployment (or other controller) behind a pod, if the capture shows it.
    pub fn workload_of(&self, pod: &Value) -> Vec<ObjRef> {
        self.cap.objects.owners(pod)
    }

    pub fn propose(&mut self, c: Candidate) {
        self.out.push(c);
    }
}

/// A candidate under construction.
pub(crate) struct Proposal {
    pub cause: &'static str,
    pub object: ObjRef,
    pub related: Vec<ObjRef>,
    pub rule: &'static str,
    pub score: f64,
    pub sentences: Vec<Sentence>,
    pub mitigation: Vec<String>,
}

impl Proposal {
    pub fn new(cause: &'static str, object: ObjRef, rule: &'static str, score: f64) -> Self {
        Self {
            cause,
            object,
            related: Vec::new(),
            rule,
            score,
            sentences: Vec::new(),
            mitigation: Vec::new(),
        }
    }

    pub fn related(mut self, r: impl IntoIterator<Item = ObjRef>) -> Self {
        self.related.extend(r);
        self
    }

    pub fn say(mut self, text: impl Into<String>, cites: &[EvidenceId]) -> Self {
        self.sentences
            .push(Sentence::new(text.into(), cites.to_vec()));
        self
    }

    pub fn scale(mut self, f: f64) -> Self {
        self.score *= f;
        self
    }

    pub fn hint(mut self, text: impl Into<String>) -> Self {
        self.mitigation.push(text.into());
        self
    }

    pub fn done(self, ctx: &mut Ctx) {
        let mut evidence: Vec<EvidenceId> = self
            .sentences
            .iter()
            .flat_map(|s| s.cites.iter().cloned())
            .collect();
        evidence.sort_by_key(|id| id.trim_start_matches('E').parse::<u32>().unwrap_or(0));
        evidence.dedup();
        ctx.propose(Candidate {
            cause: self.cause.to_string(),
            object: self.object,
            related: self.related,
            rule: self.rule.to_string(),
            score: self.score.clamp(0.0, 1.0),
            evidence,
            sentences: self.sentences,
            mitigation: self.mitigation,
        });
    }
}

pub(crate) fn pod_ref(p: &Value) -> ObjRef {
    ObjRef::of(p, "Pod")
}

/// Container statuses of a pod, init containers included.
pub(crate) fn statuses(p: &Value) -> impl Iterator<Item = &Value> {
    crate::kube::arr_at(p, "/status/initContainerStatuses")
        .iter()
        .chain(crate::kube::arr_at(p, "/status/containerStatuses"))
}

/// The spec of a named container.
pub(crate) fn container_spec<'v>(p: &'v Value, name: &str) -> Option<&'v Value> {
    crate::kube::arr_at(p, "/spec/containers")
        .iter()
        .chain(crate::kube::arr_at(p, "/spec/initContainers"))
        .find(|c| str_at(c, "/name") == name)
}

/// The most recent event of a pod with one of `reasons`.
pub(crate) fn latest<'e>(events: &[&'e Event], reasons: &[&str]) -> Option<&'e Event> {
    events
        .iter()
        .filter(|e| reasons.contains(&e.reason.as_str()))
        .max_by_key(|e| (e.last, e.count))
        .copied()
}

pub(crate) fn contains_any(hay: &str, needles: &[&str]) -> bool {
    let low = hay.to_ascii_lowercase();
    needles.iter().any(|n| low.contains(n))
}
