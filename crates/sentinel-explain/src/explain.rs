//! Run the rules over a capture, rank what they propose, and write the
//! explanation. Every sentence cites evidence; statements that could not
//! cite anything (the evidence is not enough) are kept apart as `gaps`.

use sentinel_model::Timestamp;
use serde::Serialize;

use crate::capture::Capture;
use crate::catalogue;
use crate::evidence::{Evidence, EvidenceId};
use crate::kube::ObjRef;
use crate::metrics;
use crate::rules::{Ctx, RULES};

/// Below this score a candidate is a lead, not a cause.
pub const CONFIDENT: f64 = 0.5;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sentence {
    pub text: String,
    pub cites: Vec<EvidenceId>,
}

impl Sentence {
    pub fn new(text: String, cites: Vec<EvidenceId>) -> Self {
        Self { text, cites }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// A cause id from the catalogue (`docs/causes.md`).
    pub cause: String,
    /// The object at fault.
    pub object: ObjRef,
    /// Objects on the same chain: the pod's controller, the node, the claim.
    pub related: Vec<ObjRef>,
    /// The rule that proposed it.
    pub rule: String,
    pub score: f64,
    pub evidence: Vec<EvidenceId>,
    pub sentences: Vec<Sentence>,
    /// Runbook-style hints; never executed.
    pub mitigation: Vec<String>,
}

impl Candidate {
    /// Does `obj` name this candidate's object or one on its chain?
    pub fn concerns(&self, obj: &ObjRef) -> bool {
        self.object.same(obj) || self.related.iter().any(|r| r.same(obj))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub onset: Timestamp,
    /// Whether the best candidate is strong enough to be named as the cause.
    pub confident: bool,
    pub candidates: Vec<Candidate>,
    pub summary: Vec<Sentence>,
    /// What could not be established, in words (these cite nothing).
    pub gaps: Vec<String>,
    pub evidence: Vec<Evidence>,
}

impl Explanation {
    pub fn top(&self) -> Option<&Candidate> {
        self.candidates.first()
    }

    /// Every sentence, the summary's and the candidates'.
    pub fn sentences(&self) -> impl Iterator<Item = &Sentence> {
        self.summary
            .iter()
            .chain(self.candidates.iter().flat_map(|c| c.sentences.iter()))
    }

    /// Plain text: the verdict, the reasoning, the hints, then the evidence.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for s in &self.summary {
            out.push_str(&format!("{} [{}]\n", s.text, s.cites.join(", ")));
        }
        for g in &self.gaps {
            out.push_str(&format!("{g}\n"));
        }
        if let Some(top) = self.top().filter(|_| self.confident) {
            out.push('\n');
            for s in &top.sentences {
                out.push_str(&format!("- {} [{}]\n", s.text, s.cites.join(", ")));
            }
            if !top.mitigation.is_empty() {
                out.push_str("\nWhat to try (nothing is done automatically):\n");
                for m in &top.mitigation {
                    out.push_str(&format!("- {m}\n"));
                }
            }
        }
        if self.candidates.len() > 1 || (!self.confident && !self.candidates.is_empty()) {
            out.push_str("\nCandidates:\n");
            for c in self.candidates.iter().take(5) {
                out.push_str(&format!(
                    "  {:.2}  {:<34} {}  (rule {}; {})\n",
                    c.score,
                    c.cause,
                    c.object,
                    c.rule,
                    c.evidence.join(", ")
                ));
            }
        }
        if !self.evidence.is_empty() {
            out.push_str("\nEvidence:\n");
        }
        for e in &self.evidence {
            let at = e.at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into());
            out.push_str(&format!("  {:<4} {at}  {}\n", e.id, e.text));
        }
        out
    }
}

/// Explain a capture. Deterministic: the same capture gives the same result.
pub fn explain(cap: &Capture) -> Explanation {
    let mut ctx = Ctx::new(cap);
    for (_, rule) in RULES {
        rule(&mut ctx);
    }
    let Ctx { ev, out, .. } = ctx;
    let mut candidates = by_workload(merge(out));
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.cause.cmp(&b.cause))
            .then_with(|| a.object.cmp(&b.object))
    });
    let confident = candidates.first().is_some_and(|c| c.score >= CONFIDENT);
    let mut summary = Vec::new();
    let mut gaps = Vec::new();
    match candidates.first() {
        Some(top) if confident => {
            let title = catalogue::title(&top.cause);
            summary.push(Sentence::new(
                format!(
                    "Most likely cause: {title} ({}) on {}, proposed by the {} rule with score {:.2}.",
                    top.cause, top.object, top.rule, top.score
                ),
                top.evidence.clone(),
            ));
            if let Some(second) = candidates.get(1).filter(|c| c.score >= CONFIDENT) {
                summary.push(Sentence::new(
                    format!(
                        "Also possible: {} on {} (score {:.2}).",
                        second.cause, second.object, second.score
                    ),
                    second.evidence.clone(),
                ));
            }
        }
        Some(top) => {
            gaps.push(
                "The captured evidence is not enough to name a cause; the leads below are weak."
                    .into(),
            );
            summary.push(Sentence::new(
                format!(
                    "The strongest lead is {} on {} (score {:.2}).",
                    top.cause, top.object, top.score
                ),
                top.evidence.clone(),
            ));
        }
        None => {
            gaps.push(
                "The captured evidence is not enough to name a cause: no rule matched.".into(),
            );
            if cap.objects.events.is_empty() {
                gaps.push("The capture holds no events.".into());
            }
            if cap.metrics.is_empty() {
                gaps.push("The capture holds no metrics.".into());
            }
            gaps.extend(no_baseline(cap));
            if cap.logs.is_empty() {
                gaps.push("The capture holds no logs.".into());
            }
        }
    }
    // Facts a rule looked at and found in order are not evidence of anything.
    let cited: std::collections::BTreeSet<&str> = candidates
        .iter()
        .flat_map(|c| c.evidence.iter().map(String::as_str))
        .collect();
    let evidence = ev
        .into_vec()
        .into_iter()
        .filter(|e| cited.contains(e.id.as_str()))
        .collect();
    Explanation {
        onset: cap.onset,
        confident,
        candidates,
        summary,
        gaps,
        evidence,
    }
}

/// Why the readings could tell nothing, when none reaches back far enough:
/// a change is measured against readings from before five minutes before
/// the onset (three at least), and a capture taken soon after its source
/// came up (the app started, or a cluster newly connected, mid-incident)
/// has none.
fn no_baseline(cap: &Capture) -> Option<String> {
    let cut = cap.onset.0 - metrics::BASELINE_GUARD_MS;
    let before = |s: &metrics::Series| {
        s.points
            .iter()
            .filter(|(t, v)| t.0 < cut && v.is_finite())
            .count()
    };
    if cap.metrics.iter().any(|s| before(s) >= 3) {
        return None;
    }
    let first = cap
        .metrics
        .iter()
        .filter_map(|s| s.points.first())
        .map(|p| p.0)
        .min()?;
    Some(format!(
        "No captured series holds 3 readings from before 5 minutes before the onset, \
         where the baseline a change is measured against ends: the earliest reading is \
         {} ({}). Readings from before the trouble began are needed to tell what changed.",
        first.to_text(),
        metrics::from_onset(first, cap.onset),
    ))
}

/// One candidate per (cause, object): the strongest, with the others' evidence.
fn merge(mut all: Vec<Candidate>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    all.sort_by(|a, b| b.score.total_cmp(&a.score));
    for c in all {
        if let Some(kept) = out
            .iter_mut()
            .find(|k| k.cause == c.cause && k.object == c.object)
        {
            for id in c.evidence {
                if !kept.evidence.contains(&id) {
                    kept.evidence.push(id);
                }
            }
            for r in c.related {
                if !kept.related.contains(&r) {
                    kept.related.push(r);
                }
            }
            // More affected objects make the same cause a little more likely.
            kept.score = (kept.score + 0.01).min(1.0);
        } else {
            out.push(c);
        }
    }
    out
}

/// Candidates with the same cause on several pods of one workload become one
/// candidate about the workload: that is the problem, the pods are its symptoms.
fn by_workload(all: Vec<Candidate>) -> Vec<Candidate> {
    const CONTROLLERS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];
    let workload = |c: &Candidate| -> Option<ObjRef> {
        if c.object.kind != "Pod" {
            return None;
        }
        c.related
            .iter()
            .rev()
            .find(|r| CONTROLLERS.contains(&r.kind.as_str()))
            .cloned()
    };
    let mut out: Vec<Candidate> = Vec::new();
    let mut used = vec![false; all.len()];
    for i in 0..all.len() {
        if used[i] {
            continue;
        }
        used[i] = true;
        let Some(w) = workload(&all[i]) else {
            out.push(all[i].clone());
            continue;
        };
        let siblings: Vec<usize> = (i + 1..all.len())
            .filter(|&j| {
                !used[j] && all[j].cause == all[i].cause && workload(&all[j]).as_ref() == Some(&w)
            })
            .collect();
        if siblings.is_empty() {
            out.push(all[i].clone());
            continue;
        }
        let mut merged = all[i].clone();
        let mut pods = vec![merged.object.clone()];
        let mut cites = Vec::new();
        for &j in &siblings {
            used[j] = true;
            let c = &all[j];
            pods.push(c.object.clone());
            cites.extend(
                c.sentences
                    .first()
                    .into_iter()
                    .flat_map(|s| s.cites.iter().cloned()),
            );
            for id in &c.evidence {
                if !merged.evidence.contains(id) {
                    merged.evidence.push(id.clone());
                }
            }
            merged.score = merged.score.max(c.score);
        }
        merged.score = (merged.score + 0.01 * siblings.len() as f64).min(1.0);
        merged.sentences.push(Sentence::new(
            format!(
                "The same happens in {} pods of {w}: {}.",
                pods.len(),
                pods.iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            cites,
        ));
        let mut related: Vec<ObjRef> = pods;
        related.extend(merged.related.iter().filter(|r| **r != w).cloned());
        merged.related = related;
        merged.object = w;
        out.push(merged);
    }
    out
}
