//! The engine: rules applied to series, findings out.
//!
//! Feed readings with [`Engine::observe`] (time is an argument) and call
//! [`Engine::tick`] when time passes without readings (absence rules). Both
//! append [`Finding`]s to `out` when a rule fires, escalates or resolves.
//! Deterministic: the same calls give the same findings and traces, bit for
//! bit; the whole engine serialises, so replay can resume from a snapshot.
//!
//! Bad input has a defined behaviour (docs/detection.md):
//! NaN and ±∞ are gaps (ignored, counted); a reading at or before the
//! series' last timestamp is dropped (duplicates and out-of-order samples,
//! counted); magnitudes beyond 1e150 are clamped; counter resets are handled
//! by counter-aware rules; a constant series has zero spread, so any move
//! off it is infinitely unusual for the z-score family.

use std::collections::{BTreeMap, HashMap, VecDeque};

use sentinel_model::{Finding, Mark, OperatorMark, RuleState, SeriesKey, Timestamp};
use serde::{Deserialize, Serialize};

use crate::detectors::Verdict;
use crate::history::History;
use crate::lifecycle::{Change, Lifecycle, Note};
use crate::rules::{Rule, RuleFile};
use crate::state::Detector;
use crate::trace::{Evidence, build_trace};

pub use crate::history::HISTORY;
/// Resolved findings kept in memory.
pub const RESOLVED_KEPT: usize = 200;

/// A handle to a registered series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeriesId(pub u32);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Slot {
    rule: u32,
    detector: Detector,
    life: Lifecycle,
    /// Readings since the series' history before `pending`, while the rule is
    /// pending or firing: the evidence its trace shows. Empty otherwise.
    episode: VecDeque<(Timestamp, f64)>,
}

/// Readings kept per pending or firing rule.
pub const EPISODE: usize = 360;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Series {
    key: SeriesKey,
    last_at: Option<Timestamp>,
    history: History,
    slots: Vec<Slot>,
}

/// Counts of rejected input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub non_finite: u64,
    pub out_of_order: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Engine {
    rules: Vec<Rule>,
    series: Vec<Series>,
    #[serde(skip)]
    index: HashMap<SeriesKey, SeriesId>,
    firing: BTreeMap<String, Finding>,
    resolved: VecDeque<Finding>,
    marks: BTreeMap<String, OperatorMark>,
    rejected: Rejected,
    /// Slots of removed series, reused by the next registration.
    free: Vec<SeriesId>,
}

impl Engine {
    pub fn new(rules: RuleFile) -> Self {
        Self {
            rules: rules.rules,
            series: Vec::new(),
            index: HashMap::new(),
            firing: BTreeMap::new(),
            resolved: VecDeque::new(),
            marks: BTreeMap::new(),
            rejected: Rejected::default(),
            free: Vec::new(),
        }
    }

    /// Rebuild what is not serialised (after deserialising a snapshot).
    pub fn restored(mut self) -> Self {
        let free: std::collections::HashSet<SeriesId> = self.free.iter().copied().collect();
        self.index = self
            .series
            .iter()
            .enumerate()
            .filter(|(i, _)| !free.contains(&SeriesId(*i as u32)))
            .map(|(i, s)| (s.key.clone(), SeriesId(i as u32)))
            .collect();
        self
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn rejected(&self) -> Rejected {
        self.rejected
    }

    /// Series currently registered.
    pub fn series_count(&self) -> usize {
        self.series.len() - self.free.len()
    }

    /// Forget a series that no longer exists (a deleted pod). Its firing
    /// findings resolve, as Prometheus resolves alerts whose series vanish.
    pub fn remove(&mut self, id: SeriesId, at: Timestamp, out: &mut Vec<Finding>) {
        let Some(series) = self.series.get_mut(id.0 as usize) else {
            return;
        };
        if self.index.remove(&series.key).is_none() {
            return;
        }
        for slot in &series.slots {
            if slot.life.state != RuleState::Firing {
                continue;
            }
            let rule = &self.rules[slot.rule as usize];
            let fid = finding_id(rule, &series.key, &slot.life);
            if let Some(mut f) = self.firing.remove(&fid) {
                f.state = RuleState::Resolved;
                f.resolved_at = Some(at);
                f.trace.state = RuleState::Resolved;
                f.trace.transitions.push(sentinel_model::Transition {
                    at,
                    from: RuleState::Firing,
                    to: RuleState::Resolved,
                    reason: "the series disappeared".into(),
                });
                if self.resolved.len() == RESOLVED_KEPT {
                    self.resolved.pop_front();
                }
                self.resolved.push_back(f.clone());
                out.push(f);
            }
        }
        series.slots = Vec::new();
        series.history = History::default();
        series.last_at = None;
        self.free.push(id);
    }

    /// The handle of a series, registering it (and matching rules) on first use.
    pub fn series(&mut self, key: &SeriesKey) -> SeriesId {
        if let Some(id) = self.index.get(key) {
            return *id;
        }
        let slots = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.selector.matches(key))
            .map(|(i, r)| Slot {
                rule: i as u32,
                detector: Detector::new(&r.detector, r.severity),
                life: Lifecycle::default(),
                episode: VecDeque::new(),
            })
            .collect();
        let fresh = Series {
            key: key.clone(),
            last_at: None,
            history: History::default(),
            slots,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.series[id.0 as usize] = fresh;
                id
            }
            None => {
                self.series.push(fresh);
                SeriesId(self.series.len() as u32 - 1)
            }
        };
        self.index.insert(key.clone(), id);
        id
    }

    /// Feed one reading. Findings that fired, escalated or resolved are
    /// appended to `out`.
    pub fn observe(&mut self, id: SeriesId, at: Timestamp, value: f64, out: &mut Vec<Finding>) {
        let Some(series) = self.series.get_mut(id.0 as usize) else {
            return;
        };
        if series.slots.is_empty() {
            return;
        }
        if !value.is_finite() {
            self.rejected.non_finite += 1;
            return;
        }
        if series.last_at.is_some_and(|last| at <= last) {
            self.rejected.out_of_order += 1;
            return;
        }
        let value = value.clamp(-1e150, 1e150);
        series.last_at = Some(at);
        series.history.push((at, value));
        for slot in &mut series.slots {
            let verdict = slot.detector.observe(at, value);
            // The common case: nothing holds and nothing was holding.
            if !verdict.ready
                || (verdict.level.is_none()
                    && matches!(slot.life.state, RuleState::Inactive | RuleState::Resolved))
            {
                continue;
            }
            let rule = &self.rules[slot.rule as usize];
            step(
                rule,
                slot,
                &series.key,
                &series.history,
                at,
                value,
                verdict,
                Books {
                    firing: &mut self.firing,
                    resolved: &mut self.resolved,
                    marks: &self.marks,
                    out,
                },
            );
        }
    }

    /// Let time pass: absence rules fire when a series has been silent.
    pub fn tick(&mut self, now: Timestamp, out: &mut Vec<Finding>) {
        for series in &mut self.series {
            for slot in &mut series.slots {
                let Some(verdict) = slot.detector.tick(now) else {
                    continue;
                };
                let rule = &self.rules[slot.rule as usize];
                let value = series.history.last().map_or(f64::NAN, |p| p.1);
                step(
                    rule,
                    slot,
                    &series.key,
                    &series.history,
                    now,
                    value,
                    verdict,
                    Books {
                        firing: &mut self.firing,
                        resolved: &mut self.resolved,
                        marks: &self.marks,
                        out,
                    },
                );
            }
        }
    }

    /// Findings firing now, in a stable order.
    pub fn firing(&self) -> impl Iterator<Item = &Finding> {
        self.firing.values()
    }

    /// Recently resolved findings, newest last.
    pub fn resolved(&self) -> impl DoubleEndedIterator<Item = &Finding> {
        self.resolved.iter()
    }

    pub fn finding(&self, id: &str) -> Option<&Finding> {
        self.firing
            .get(id)
            .or_else(|| self.resolved.iter().rev().find(|f| f.id == id))
    }

    /// Record an operator's verdict; it shows in the finding's trace from now
    /// on. False when no such finding is known.
    pub fn mark(&mut self, id: &str, mark: Mark, at: Timestamp) -> bool {
        let m = OperatorMark { mark, at };
        let mut found = false;
        if let Some(f) = self.firing.get_mut(id) {
            f.trace.mark = Some(m.clone());
            found = true;
        }
        for f in self.resolved.iter_mut().filter(|f| f.id == id) {
            f.trace.mark = Some(m.clone());
            found = true;
        }
        if found {
            self.marks.insert(id.to_string(), m);
        }
        found
    }
}

/// Where findings are kept and reported.
struct Books<'a> {
    firing: &'a mut BTreeMap<String, Finding>,
    resolved: &'a mut VecDeque<Finding>,
    marks: &'a BTreeMap<String, OperatorMark>,
    out: &'a mut Vec<Finding>,
}

/// Advance one rule on one series with the detector's verdict; write a
/// trace only when the rule fires, escalates or resolves.
#[allow(clippy::too_many_arguments)]
fn step(
    rule: &Rule,
    slot: &mut Slot,
    key: &SeriesKey,
    history: &History,
    at: Timestamp,
    value: f64,
    verdict: Verdict,
    books: Books<'_>,
) {
    if !verdict.ready {
        return;
    }
    let Slot {
        detector,
        life,
        episode,
        ..
    } = slot;
    let level = verdict.level.map(|l| {
        if detector.graded() {
            l.min(rule.severity)
        } else {
            rule.severity
        }
    });
    let why = || {
        detector
            .explain(&verdict)
            .checks()
            .find(|c| c.passed)
            .map(|c| Note {
                name: std::borrow::Cow::Borrowed(c.name),
                value: c.value,
                op: c.op,
                threshold: c.threshold,
            })
    };
    let change = life.step(at, level, rule.for_, rule.keep_firing_for, why);
    match life.state {
        RuleState::Pending | RuleState::Firing => {
            if episode.is_empty() {
                episode.extend(history.iter());
            } else if value.is_finite() && episode.back().is_none_or(|p| p.0 < at) {
                if episode.len() >= EPISODE {
                    episode.pop_front();
                }
                episode.push_back((at, value));
            }
        }
        RuleState::Inactive | RuleState::Resolved => {}
    }
    let Some(change) = change else {
        return;
    };
    let Books {
        firing,
        resolved,
        marks,
        out,
    } = books;
    match change {
        Change::Pending => {}
        Change::BackToInactive => {
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
                history,
                episode,
                at,
                value,
            };
            let eval = detector.explain(&verdict);
            let mut trace = build_trace(rule, detector, life, seen, &eval);
            trace.mark = marks.get(&id).cloned();
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
            firing.insert(id, f.clone());
            out.push(f);
        }
        Change::Resolved => {
            let id = finding_id(rule, key, life);
            let points: Vec<(Timestamp, f64)> = std::mem::take(episode).into_iter().collect();
            let Some(mut f) = firing.remove(&id) else {
                return;
            };
            f.state = RuleState::Resolved;
            f.resolved_at = Some(at);
            f.trace.state = RuleState::Resolved;
            f.trace.transitions = life.transitions();
            f.trace.points = points;
            if resolved.len() == RESOLVED_KEPT {
                resolved.pop_front();
            }
            resolved.push_back(f.clone());
            out.push(f);
        }
    }
}

fn finding_id(rule: &Rule, key: &SeriesKey, life: &Lifecycle) -> String {
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
