//! One rule on one series: the lifecycle advanced with a detector's
//! verdict, the episode's readings kept, and a trace written when the rule
//! fires, escalates or resolves.

use std::collections::{BTreeMap, VecDeque};

use sentinel_model::{Finding, OperatorMark, RuleState, RuleTrace, SeriesKey, Severity, Timestamp};
use serde::{Deserialize, Serialize};

use super::{EPISODE, Episode, Owed, RESOLVED_KEPT, Slot, Start};
use crate::detectors::{Check, Verdict};
use crate::history::Recent;
use crate::lifecycle::{Change, Lifecycle, Note};
use crate::rules::Rule;
use crate::state::{Detector, Params};
use crate::trace::{Evidence, build_trace};

/// Where findings are kept: those firing, the recently resolved, and the
/// operator's marks (kept by id, so a finding marked before it fires again
/// carries its mark).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Books {
    pub firing: BTreeMap<String, Finding>,
    pub resolved: VecDeque<Finding>,
    pub marks: BTreeMap<String, OperatorMark>,
}

impl Books {
    /// A firing finding resolved at `at`: kept among the newest
    /// [`RESOLVED_KEPT`] and reported. `close` finishes its trace.
    pub fn resolve(
        &mut self,
        id: &str,
        at: Timestamp,
        close: impl FnOnce(&mut RuleTrace),
        out: &mut Vec<Finding>,
    ) {
        let Some(mut f) = self.firing.remove(id) else {
            return;
        };
        f.state = RuleState::Resolved;
        f.resolved_at = Some(at);
        f.trace.state = RuleState::Resolved;
        close(&mut f.trace);
        if self.resolved.len() == RESOLVED_KEPT {
            self.resolved.pop_front();
        }
        self.resolved.push_back(f.clone());
        out.push(f);
    }
}

/// A light rule going pending (see [`Owed::Start`]) only notes it in its
/// slot, and the next reading either takes it back, touching nothing else,
/// or starts the episode. Returns whether that was all there was to do
/// (the hot path then skips [`settle`]). `p` is the rule's.
#[inline]
pub(super) fn defer(slot: &mut Slot, start: &mut Start, p: &Params, verdict: &Verdict) -> bool {
    match (verdict.level, slot.owed) {
        (Some(level), _) if p.defer && verdict.ready && slot.idle() => {
            *start = Start {
                mean: verdict.inputs[1],
                var: verdict.inputs[2],
            };
            slot.state = RuleState::Pending;
            slot.owed = Owed::Start(severity(&slot.detector, p.severity, level));
            true
        }
        (None, Owed::Start(_)) if verdict.ready => {
            // The condition broke at the next reading: `for` restarts, and
            // the episode was never touched.
            slot.state = RuleState::Inactive;
            slot.owed = Owed::Nothing;
            true
        }
        _ => false,
    }
}

/// A verdict the hot path did not settle. A deferred start (see
/// [`Owed::Start`]) that [`defer`] did not take back is made before
/// anything else. Then, with nothing holding and nothing held, only an owed
/// copy of the history (before it moves on); else a step of the lifecycle.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub(super) fn settle(
    rule: &Rule,
    slot: &mut Slot,
    cold: &mut Episode,
    start: &mut Start,
    key: &SeriesKey,
    recent: Recent<'_>,
    (at, value): (Timestamp, f64),
    verdict: Verdict,
    books: &mut Books,
    out: &mut Vec<Finding>,
) {
    if let Owed::Start(severity) = slot.owed {
        begin(rule, slot, cold, *start, severity, recent);
    }
    if !verdict.ready || (verdict.level.is_none() && slot.idle()) {
        if slot.owed == Owed::Copy {
            slot.owed = Owed::Nothing;
            cold.points.extend(recent.history.iter());
        }
        return;
    }
    step(
        rule, slot, cold, key, recent, at, value, verdict, books, out,
    );
}

/// A rule's severity for its detector's level.
fn severity(detector: &Detector, rule: Severity, level: Severity) -> Severity {
    if detector.graded() {
        level.min(rule)
    } else {
        rule
    }
}

/// The deferred start of a light rule's episode: the lifecycle's step to
/// pending at the series' last reading, as it would have been taken then
/// (the verdict rebuilt from that reading and the baseline kept in
/// `start`), with the history copy still owed.
fn begin(
    rule: &Rule,
    slot: &mut Slot,
    cold: &mut Episode,
    start: Start,
    severity: Severity,
    recent: Recent<'_>,
) {
    slot.owed = Owed::Copy;
    // Always there: the reading that went pending.
    let Some((at, x)) = recent.history.last() else {
        return;
    };
    // What `passed` reads of a light kind's verdict: the value, mean and
    // variance (the reading count only ever shows while warming up).
    let verdict = Verdict {
        ready: true,
        level: Some(severity),
        inputs: [x, start.mean, start.var, 0.0],
    };
    let why = || {
        note(
            slot.detector
                .passed(&rule.detector, rule.severity, &verdict),
        )
    };
    cold.life
        .step(at, Some(severity), rule.for_, rule.keep_firing_for, why);
}

fn note(check: Option<Check>) -> Option<Note> {
    check.map(|c| Note {
        name: std::borrow::Cow::Borrowed(c.name),
        value: c.value,
        op: c.op,
        threshold: c.threshold,
    })
}

/// Advance one rule on one series with the detector's verdict; write a
/// trace only when the rule fires, escalates or resolves.
#[allow(clippy::too_many_arguments)]
#[inline]
pub(super) fn step(
    rule: &Rule,
    slot: &mut Slot,
    cold: &mut Episode,
    key: &SeriesKey,
    recent: Recent<'_>,
    at: Timestamp,
    value: f64,
    verdict: Verdict,
    books: &mut Books,
    out: &mut Vec<Finding>,
) {
    if !verdict.ready {
        return;
    }
    let Slot {
        detector,
        state,
        owed,
        ..
    } = slot;
    let Episode {
        life,
        points: episode,
    } = cold;
    let level = verdict.level.map(|l| severity(detector, rule.severity, l));
    let why = || note(detector.passed(&rule.detector, rule.severity, &verdict));
    let change = life.step(at, level, rule.for_, rule.keep_firing_for, why);
    *state = life.state;
    match life.state {
        // Just pending: the episode starts with the readings up to this
        // one, copied at the next reading (from the history, which by then
        // ends with this one), so a rule that flaps back at once copies
        // nothing.
        RuleState::Pending if change == Some(Change::Pending) => *owed = Owed::Copy,
        RuleState::Pending | RuleState::Firing => {
            if std::mem::replace(owed, Owed::Nothing) == Owed::Copy {
                episode.extend(recent.history.iter());
                extend(episode, at, value);
            } else if episode.is_empty() {
                episode.extend(recent.iter());
            } else {
                extend(episode, at, value);
            }
        }
        RuleState::Inactive | RuleState::Resolved => {}
    }
    let Some(change) = change else {
        return;
    };
    match change {
        Change::Pending => {}
        Change::BackToInactive => {
            *owed = Owed::Nothing;
            // Flapping rules reuse a small buffer; big ones are given back.
            if episode.capacity() > 64 {
                *episode = VecDeque::new();
            } else {
                episode.clear();
            }
        }
        Change::Fired | Change::Escalated => {
            let id = finding_id(rule, key, life);
            let seen = Evidence {
                key,
                recent,
                episode,
                at,
                value,
            };
            let eval = detector.explain(&rule.detector, rule.severity, &verdict);
            let mut trace = build_trace(rule, detector, life, seen, &eval);
            trace.mark = books.marks.get(&id).cloned();
            let f = Finding {
                id: id.clone(),
                rule: rule.name.clone(),
                series: key.clone(),
                severity: life.severity,
                state: RuleState::Firing,
                active_at: life.active_at.unwrap_or(at),
                fired_at: life.fired_at.unwrap_or(at),
                resolved_at: None,
                summary: first_sentence(&trace.explanation),
                trace,
            };
            books.firing.insert(id, f.clone());
            out.push(f);
        }
        Change::Resolved => {
            let id = finding_id(rule, key, life);
            let points: Vec<(Timestamp, f64)> = std::mem::take(episode).into_iter().collect();
            let transitions = life.transitions();
            // When the lifecycle says (never before it fired).
            let at = transitions.last().map_or(at, |t| t.at);
            let close = |t: &mut RuleTrace| {
                t.transitions = transitions;
                t.points = points;
            };
            books.resolve(&id, at, close, out);
        }
    }
}

/// The reading joins the episode (once, in time order, never NaN).
fn extend(episode: &mut VecDeque<(Timestamp, f64)>, at: Timestamp, value: f64) {
    if value.is_finite() && episode.back().is_none_or(|p| p.0 < at) {
        if episode.len() >= EPISODE {
            episode.pop_front();
        }
        episode.push_back((at, value));
    }
}

pub(super) fn finding_id(rule: &Rule, key: &SeriesKey, life: &Lifecycle) -> String {
    format!(
        "{}:{}:{}",
        rule.name,
        key,
        life.active_at.map_or(0, Timestamp::millis)
    )
}

fn first_sentence(s: &str) -> String {
    s.split_inclusive(". ")
        .next()
        .unwrap_or(s)
        .trim()
        .to_string()
}
