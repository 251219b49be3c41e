//! One rule on one series: the lifecycle advanced with a detector's
//! verdict, the episode's readings kept, and a trace written when the rule
//! fires, escalates or resolves.

use std::collections::{BTreeMap, VecDeque};

use sentinel_model::{Finding, OperatorMark, RuleState, RuleTrace, SeriesKey, Timestamp};
use serde::{Deserialize, Serialize};

use super::{EPISODE, Episode, RESOLVED_KEPT, Slot};
use crate::detectors::Verdict;
use crate::history::Recent;
use crate::lifecycle::{Change, Lifecycle, Note};
use crate::rules::Rule;
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

/// A verdict the hot path did not settle: with nothing holding and nothing
/// held, only an owed copy of the history (before it moves on); else a
/// step of the lifecycle.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub(super) fn settle(
    rule: &Rule,
    slot: &mut Slot,
    cold: &mut Episode,
    key: &SeriesKey,
    recent: Recent<'_>,
    (at, value): (Timestamp, f64),
    verdict: Verdict,
    books: &mut Books,
    out: &mut Vec<Finding>,
) {
    if !verdict.ready || (verdict.level.is_none() && slot.idle()) {
        if std::mem::take(&mut slot.owed) {
            cold.points.extend(recent.history.iter());
        }
        return;
    }
    step(
        rule, slot, cold, key, recent, at, value, verdict, books, out,
    );
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
    let level = verdict.level.map(|l| {
        if detector.graded() {
            l.min(rule.severity)
        } else {
            rule.severity
        }
    });
    let why = || {
        detector
            .passed(&rule.detector, rule.severity, &verdict)
            .map(|c| Note {
                name: std::borrow::Cow::Borrowed(c.name),
                value: c.value,
                op: c.op,
                threshold: c.threshold,
            })
    };
    let change = life.step(at, level, rule.for_, rule.keep_firing_for, why);
    *state = life.state;
    match life.state {
        // Just pending: the episode starts with the readings up to this
        // one, copied at the next reading (from the history, which by then
        // ends with this one), so a rule that flaps back at once copies
        // nothing.
        RuleState::Pending if change == Some(Change::Pending) => *owed = true,
        RuleState::Pending | RuleState::Firing => {
            if std::mem::take(owed) {
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
            *owed = false;
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
