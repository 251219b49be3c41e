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

use std::collections::{HashMap, HashSet};

use sentinel_model::{Finding, Mark, OperatorMark, RuleState, RuleTrace, SeriesKey, Timestamp};
use serde::{Deserialize, Serialize};

use crate::history::{History, Recent};
use crate::rules::{Rule, RuleFile};
use crate::state::{Detector, Params};

mod layout;
mod step;

use layout::{Episode, Head, NEVER, Owed, Slot, Start};
use step::{Books, defer, finding_id, settle, step};

pub use crate::history::HISTORY;
/// Resolved findings kept in memory.
pub const RESOLVED_KEPT: usize = 200;
/// Readings kept per pending or firing rule.
pub const EPISODE: usize = 360;

fn params(rules: &[Rule]) -> Vec<Params> {
    rules
        .iter()
        .map(|r| {
            let mut p = Params::new(&r.detector, r.severity);
            p.defer = r.for_.millis() != 0 && r.detector.light();
            p
        })
        .collect()
}

/// A handle to a registered series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeriesId(pub u32);

/// Counts of rejected input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub non_finite: u64,
    pub out_of_order: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Engine {
    rules: Vec<Rule>,
    /// Per rule: its detector's parameters as a reading reads them (built
    /// from `rules`, so not serialised).
    #[serde(skip)]
    params: Vec<Params>,
    /// Per series id.
    heads: Vec<Head>,
    keys: Vec<SeriesKey>,
    histories: Vec<History>,
    /// Per rule on a series; `episodes[i]` and `starts[i]` belong to
    /// `slots[i]`.
    slots: Vec<Slot>,
    episodes: Vec<Episode>,
    starts: Vec<Start>,
    /// Arena entries of removed series, reclaimed by [`Engine::compact`].
    dead: usize,
    #[serde(skip)]
    index: HashMap<SeriesKey, SeriesId>,
    books: Books,
    rejected: Rejected,
    /// Ids of removed series, reused by the next registration.
    free: Vec<SeriesId>,
}

impl Engine {
    pub fn new(rules: RuleFile) -> Self {
        Self {
            params: params(&rules.rules),
            rules: rules.rules,
            heads: Vec::new(),
            keys: Vec::new(),
            histories: Vec::new(),
            slots: Vec::new(),
            episodes: Vec::new(),
            starts: Vec::new(),
            dead: 0,
            index: HashMap::new(),
            books: Books::default(),
            rejected: Rejected::default(),
            free: Vec::new(),
        }
    }

    /// Rebuild what is not serialised (after deserialising a snapshot).
    pub fn restored(mut self) -> Self {
        self.params = params(&self.rules);
        let free: HashSet<SeriesId> = self.free.iter().copied().collect();
        self.index = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k, SeriesId(i as u32)))
            .filter(|(_, id)| !free.contains(id))
            .map(|(k, id)| (k.clone(), id))
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
        self.heads.len() - self.free.len()
    }

    /// Forget a series that no longer exists (a deleted pod). Its firing
    /// findings resolve, as Prometheus resolves alerts whose series vanish.
    pub fn remove(&mut self, id: SeriesId, at: Timestamp, out: &mut Vec<Finding>) {
        let i = id.0 as usize;
        let (Some(head), Some(key)) = (self.heads.get(i).copied(), self.keys.get(i)) else {
            return;
        };
        if self.index.remove(key).is_none() {
            return;
        }
        for (slot, ep) in self.slots[head.range()]
            .iter()
            .zip(&self.episodes[head.range()])
        {
            if slot.state != RuleState::Firing {
                continue;
            }
            let rule = &self.rules[slot.rule as usize];
            let fid = finding_id(rule, key, &ep.life);
            let close = |t: &mut RuleTrace| {
                t.transitions.push(sentinel_model::Transition {
                    at,
                    from: RuleState::Firing,
                    to: RuleState::Resolved,
                    reason: "the series disappeared".into(),
                });
            };
            self.books.resolve(&fid, at, close, out);
        }
        self.dead += head.len as usize;
        self.heads[i] = Head::EMPTY;
        self.histories[i] = History::default();
        self.free.push(id);
        if self.dead >= 64 && self.dead * 2 > self.slots.len() {
            self.compact();
        }
    }

    /// Drop the arena entries of removed series, keeping the others in
    /// series order. Amortised O(1) per removal: it runs when at least half
    /// of the arena is dead.
    fn compact(&mut self) {
        let live = self.slots.len() - self.dead;
        let mut old: Vec<Option<(Slot, Episode, Start)>> = std::mem::take(&mut self.slots)
            .into_iter()
            .zip(std::mem::take(&mut self.episodes))
            .zip(std::mem::take(&mut self.starts))
            .map(|((slot, ep), start)| Some((slot, ep, start)))
            .collect();
        self.slots.reserve_exact(live);
        self.episodes.reserve_exact(live);
        self.starts.reserve_exact(live);
        for head in &mut self.heads {
            let first = self.slots.len() as u32;
            for entry in &mut old[head.range()] {
                if let Some((slot, ep, start)) = entry.take() {
                    self.slots.push(slot);
                    self.episodes.push(ep);
                    self.starts.push(start);
                }
            }
            head.first = if head.len == 0 { 0 } else { first };
        }
        self.dead = 0;
    }

    /// The handle of a series, registering it (and matching rules) on first use.
    pub fn series(&mut self, key: &SeriesKey) -> SeriesId {
        if let Some(id) = self.index.get(key) {
            return *id;
        }
        let first = self.slots.len() as u32;
        for (i, r) in self.rules.iter().enumerate() {
            if r.selector.matches(key) {
                self.slots.push(Slot {
                    detector: Detector::new(&r.detector, r.severity),
                    rule: i as u32,
                    state: RuleState::Inactive,
                    owed: Owed::Nothing,
                });
                self.episodes.push(Episode::default());
                self.starts.push(Start::default());
            }
        }
        let head = Head {
            last_at: NEVER,
            first,
            len: self.slots.len() as u32 - first,
        };
        let id = match self.free.pop() {
            Some(id) => {
                let i = id.0 as usize;
                self.heads[i] = head;
                self.keys[i] = key.clone();
                self.histories[i] = History::default();
                id
            }
            None => {
                self.heads.push(head);
                self.keys.push(key.clone());
                self.histories.push(History::default());
                SeriesId(self.heads.len() as u32 - 1)
            }
        };
        self.index.insert(key.clone(), id);
        id
    }

    /// Feed one poll's readings, all taken at `at` (a loop over
    /// [`Engine::observe`] that the compiler keeps tight). Never inlined:
    /// compiled on its own, the loop comes out the same whatever its
    /// caller looks like, where inlined its code changed with unrelated
    /// edits elsewhere in the crate (by up to 10 instructions a reading).
    #[inline(never)]
    pub fn observe_all(
        &mut self,
        at: Timestamp,
        readings: impl IntoIterator<Item = (SeriesId, f64)>,
        out: &mut Vec<Finding>,
    ) {
        for (id, value) in readings {
            self.observe(id, at, value, out);
        }
    }

    /// Feed one reading. Findings that fired, escalated or resolved are
    /// appended to `out`.
    #[inline]
    pub fn observe(&mut self, id: SeriesId, at: Timestamp, value: f64, out: &mut Vec<Finding>) {
        let i = id.0 as usize;
        let Some(head) = self.heads.get_mut(i) else {
            return;
        };
        if head.len == 0 {
            return;
        }
        if !value.is_finite() {
            self.rejected.non_finite += 1;
            return;
        }
        // Before any reading `last_at` is NEVER, so this is one comparison.
        if at.millis() <= head.last_at {
            self.rejected.out_of_order += 1;
            return;
        }
        let value = value.clamp(-1e150, 1e150);
        head.last_at = at.millis();
        let range = head.range();
        let history = &mut self.histories[i];
        // The rules see the reading before the history records it.
        let recent = Recent {
            history,
            current: Some((at, value)),
        };
        for (k, slot) in self.slots[range.clone()].iter_mut().enumerate() {
            // Whatever the common case (nothing holds, nothing was holding)
            // does not settle: an owed copy or a lifecycle step.
            macro_rules! settle {
                ($verdict:expr) => {
                    settle(
                        &self.rules[slot.rule as usize],
                        slot,
                        &mut self.episodes[range.start + k],
                        &mut self.starts[range.start + k],
                        &self.keys[i],
                        recent,
                        (at, value),
                        $verdict,
                        &mut self.books,
                        out,
                    )
                };
            }
            // A light rule's flaps are decided here, the rest settled.
            macro_rules! light {
                ($p:expr, $verdict:expr) => {
                    let v = $verdict;
                    if !defer(slot, &mut self.starts[range.start + k], $p, &v) {
                        settle!(v);
                    }
                };
            }
            // Always there, but for a deserialised engine not yet `restored`.
            let Some(p) = self.params.get(slot.rule as usize) else {
                continue;
            };
            // The light kinds every dashboard series runs decide the common
            // case in their own arm, so a verdict is only built in full
            // (and merged with the other kinds') when something happens.
            match &mut slot.detector {
                Detector::Threshold => {
                    let t = p.threshold();
                    let holds = t.holds(value);
                    if holds || !slot.idle() {
                        light!(p, t.verdict(value, holds));
                    }
                }
                Detector::Zscore(d) => {
                    let o = d.outcome(&p.z, value);
                    if (o.ready && o.level.is_some()) || !slot.idle() {
                        light!(p, o.verdict(value));
                    }
                }
                Detector::Ewma(d) => {
                    let o = d.outcome(&p.z, value);
                    if (o.ready && o.level.is_some()) || !slot.idle() {
                        light!(p, o.verdict(value));
                    }
                }
                d => {
                    let v = d.observe(p, at, value);
                    settle!(v);
                }
            }
        }
        history.push((at, value));
    }

    /// Let time pass: absence rules fire when a series has been silent.
    pub fn tick(&mut self, now: Timestamp, out: &mut Vec<Finding>) {
        for (i, head) in self.heads.iter().enumerate() {
            let range = head.range();
            let history = &self.histories[i];
            for (k, slot) in self.slots[range.clone()].iter_mut().enumerate() {
                let Some(verdict) = slot.detector.tick(now) else {
                    continue;
                };
                let rule = &self.rules[slot.rule as usize];
                let value = history.last().map_or(f64::NAN, |p| p.1);
                let recent = Recent {
                    history,
                    current: None,
                };
                step(
                    rule,
                    slot,
                    &mut self.episodes[range.start + k],
                    &self.keys[i],
                    recent,
                    now,
                    value,
                    verdict,
                    &mut self.books,
                    out,
                );
            }
        }
    }

    /// Findings firing now, in a stable order.
    pub fn firing(&self) -> impl Iterator<Item = &Finding> {
        self.books.firing.values()
    }

    /// Recently resolved findings, newest last.
    pub fn resolved(&self) -> impl DoubleEndedIterator<Item = &Finding> {
        self.books.resolved.iter()
    }

    pub fn finding(&self, id: &str) -> Option<&Finding> {
        let books = &self.books;
        books
            .firing
            .get(id)
            .or_else(|| books.resolved.iter().rev().find(|f| f.id == id))
    }

    /// Record an operator's verdict; it shows in the finding's trace from now
    /// on. False when no such finding is known.
    pub fn mark(&mut self, id: &str, mark: Mark, at: Timestamp) -> bool {
        let m = OperatorMark { mark, at };
        let mut found = false;
        if let Some(f) = self.books.firing.get_mut(id) {
            f.trace.mark = Some(m.clone());
            found = true;
        }
        for f in self.books.resolved.iter_mut().filter(|f| f.id == id) {
            f.trace.mark = Some(m.clone());
            found = true;
        }
        if found {
            self.books.marks.insert(id.to_string(), m);
        }
        found
    }
}
