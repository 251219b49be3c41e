//! The rule lifecycle on one series, with Prometheus' `for` semantics.

use sentinel_model::{Duration, RuleState, Severity, Timestamp, Transition};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::detectors::Op;

/// A rule's lifecycle on one series: inactive → pending → firing →
/// resolved, with Prometheus' `for` (restarted whenever the condition
/// breaks while pending) and `keep_firing_for`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
// In this order: what every reading of a pending or firing rule touches
// first (see the engine's `Episode`).
#[repr(C)]
pub struct Lifecycle {
    pub state: RuleState,
    pub severity: Severity,
    pub last_true: Option<Timestamp>,
    pub active_at: Option<Timestamp>,
    pub fired_at: Option<Timestamp>,
    /// Since when every reading has been above `severity`, and the lowest
    /// level among them: a higher severity must hold for `for` too, as the
    /// critical one of a pair of Prometheus alerts would.
    #[serde(default)]
    pub higher: Option<(Timestamp, Severity)>,
    /// Those of the current episode; an episode that goes back to inactive
    /// leaves none. Inline up to two, so a flapping rule allocates nothing.
    pub transitions: SmallVec<[Step; 2]>,
}

/// The comparison that made a condition hold, kept as numbers (rendered only
/// when a trace is written, so a flapping rule costs no formatting).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub name: std::borrow::Cow<'static, str>,
    pub value: f64,
    pub op: Op,
    pub threshold: f64,
}

impl Note {
    fn render(note: &Option<Note>) -> String {
        match note {
            Some(n) => format!(
                "{} {} {} {}",
                n.name,
                sentinel_model::num(n.value),
                n.op.as_str(),
                sentinel_model::num(n.threshold)
            ),
            None => "the condition holds".into(),
        }
    }
}

/// Why a transition happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reason {
    HoldsNoFor(Option<Note>),
    HoldsFor(Option<Note>, Duration),
    HeldFor(Duration, Duration),
    Escalated(Severity, Option<Note>),
    NoLongerHolds,
    KeepExpired(Duration, Duration),
}

impl Reason {
    pub fn render(&self) -> String {
        use crate::rules::format_duration as d;
        match self {
            Reason::HoldsNoFor(n) => format!("{} and the rule has no `for`", Note::render(n)),
            Reason::HoldsFor(n, f) => format!("{}; it must hold for {}", Note::render(n), d(*f)),
            Reason::HeldFor(held, f) => {
                format!("the condition held for {} (`for: {}`)", held.human(), d(*f))
            }
            Reason::Escalated(sev, n) => {
                format!("severity rose to {}: {}", sev.as_str(), Note::render(n))
            }
            Reason::NoLongerHolds => "the condition no longer holds".into(),
            Reason::KeepExpired(silent, keep) => format!(
                "the condition has not held for {} (`keep_firing_for: {}`)",
                silent.human(),
                d(*keep)
            ),
        }
    }
}

/// A transition as the lifecycle records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub at: Timestamp,
    pub from: RuleState,
    pub to: RuleState,
    pub reason: Reason,
}

/// What a step of the lifecycle changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Pending,
    BackToInactive,
    Fired,
    Escalated,
    Resolved,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            state: RuleState::Inactive,
            active_at: None,
            fired_at: None,
            last_true: None,
            severity: Severity::Info,
            higher: None,
            transitions: SmallVec::new(),
        }
    }
}

impl Lifecycle {
    /// The transitions of the current episode, as a trace shows them.
    pub fn transitions(&self) -> Vec<Transition> {
        self.transitions
            .iter()
            .map(|t| Transition {
                at: t.at,
                from: t.from,
                to: t.to,
                reason: t.reason.render(),
            })
            .collect()
    }

    /// A transition never goes back in time: a reading stamped before the
    /// last transition (a tick on the wall clock fired an absence rule, and
    /// a late poll then brings readings from before it) moves the finding
    /// at that transition's time, not before it.
    fn go(&mut self, at: Timestamp, to: RuleState, reason: Reason) {
        let at = self.transitions.last().map_or(at, |t| t.at.max(at));
        self.transitions.push(Step {
            at,
            from: self.state,
            to,
            reason,
        });
        self.state = to;
    }

    /// Keeps `higher` up to date with a reading at level `sev`.
    fn note_higher(&mut self, at: Timestamp, sev: Severity) {
        self.higher = if sev > self.severity {
            Some(match self.higher {
                Some((since, level)) => (since, level.min(sev)),
                None => (at, sev),
            })
        } else {
            None
        };
    }

    /// Advance with the condition at `at` (`Some(severity)` when it holds).
    pub fn step(
        &mut self,
        at: Timestamp,
        level: Option<Severity>,
        for_: Duration,
        keep: Duration,
        why: impl Fn() -> Option<Note>,
    ) -> Option<Change> {
        match (self.state, level) {
            (RuleState::Inactive | RuleState::Resolved, Some(sev)) => {
                // A new episode: it starts from inactive.
                self.transitions.clear();
                self.state = RuleState::Inactive;
                self.active_at = Some(at);
                self.last_true = Some(at);
                self.severity = sev;
                self.higher = None;
                if for_.millis() == 0 {
                    self.fired_at = Some(at);
                    self.go(at, RuleState::Firing, Reason::HoldsNoFor(why()));
                    Some(Change::Fired)
                } else {
                    self.go(at, RuleState::Pending, Reason::HoldsFor(why(), for_));
                    Some(Change::Pending)
                }
            }
            (RuleState::Inactive | RuleState::Resolved, None) => None,
            (RuleState::Pending, None) => {
                // `for` restarts. The episode ends without a finding, so
                // nothing will ever show its transitions: drop them.
                self.transitions.clear();
                self.state = RuleState::Inactive;
                self.active_at = None;
                self.higher = None;
                Some(Change::BackToInactive)
            }
            (RuleState::Pending, Some(sev)) => {
                self.last_true = Some(at);
                // The severity a finding fires with is one that held at
                // every reading for `for`: a lower reading lowers it, and a
                // higher one waits its turn in `higher`.
                if sev < self.severity {
                    self.severity = sev;
                }
                self.note_higher(at, sev);
                let since = self.active_at.unwrap_or(at);
                if at.since(since) >= for_ {
                    self.fired_at = Some(at);
                    self.go(
                        at,
                        RuleState::Firing,
                        Reason::HeldFor(at.since(since), for_),
                    );
                    Some(Change::Fired)
                } else {
                    None
                }
            }
            (RuleState::Firing, Some(sev)) => {
                self.last_true = Some(at);
                self.note_higher(at, sev);
                match self.higher {
                    Some((since, level)) if at.since(since) >= for_ => {
                        self.severity = level;
                        self.higher = None;
                        self.go(at, RuleState::Firing, Reason::Escalated(level, why()));
                        Some(Change::Escalated)
                    }
                    _ => None,
                }
            }
            (RuleState::Firing, None) => {
                self.higher = None;
                let last = self.last_true.unwrap_or(at);
                if keep.millis() == 0 {
                    self.go(at, RuleState::Resolved, Reason::NoLongerHolds);
                    Some(Change::Resolved)
                } else if at.since(last) >= keep {
                    self.go(
                        at,
                        RuleState::Resolved,
                        Reason::KeepExpired(at.since(last), keep),
                    );
                    Some(Change::Resolved)
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOR: Duration = Duration::from_mins(2);

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs(s)
    }

    #[test]
    fn for_restarts_when_the_condition_breaks_while_pending() {
        let mut l = Lifecycle::default();
        let w = Some(Severity::Warning);
        assert_eq!(
            l.step(t(0), w, FOR, Duration(0), || None),
            Some(Change::Pending)
        );
        assert_eq!(l.step(t(60), w, FOR, Duration(0), || None), None);
        assert_eq!(
            l.step(t(90), None, FOR, Duration(0), || None),
            Some(Change::BackToInactive)
        );
        assert_eq!(
            l.step(t(100), w, FOR, Duration(0), || None),
            Some(Change::Pending)
        );
        assert_eq!(
            l.step(t(200), w, FOR, Duration(0), || None),
            None,
            "only 100 s since the restart"
        );
        assert_eq!(
            l.step(t(220), w, FOR, Duration(0), || None),
            Some(Change::Fired)
        );
        assert_eq!(l.fired_at, Some(t(220)));
        assert_eq!(l.active_at, Some(t(100)));
        let c = Some(Severity::Critical);
        assert_eq!(
            l.step(t(230), c, FOR, Duration(0), || None),
            None,
            "a higher severity must hold for `for` too"
        );
        assert_eq!(l.step(t(300), c, FOR, Duration(0), || None), None);
        assert_eq!(
            l.step(t(350), c, FOR, Duration(0), || None),
            Some(Change::Escalated)
        );
        assert_eq!(l.severity, Severity::Critical);
        assert_eq!(
            l.step(t(360), None, FOR, Duration(0), || None),
            Some(Change::Resolved)
        );
        let states: Vec<_> = l.transitions.iter().map(|t| (t.from, t.to)).collect();
        assert_eq!(
            states.first(),
            Some(&(RuleState::Inactive, RuleState::Pending))
        );
        assert_eq!(
            states.last(),
            Some(&(RuleState::Firing, RuleState::Resolved))
        );
    }

    /// A graded rule behaves as Prometheus' pair of alerts (one per
    /// severity, each with the rule's `for`) would: it fires with the
    /// severity that held throughout, and escalates once a higher one has
    /// held for `for`, a lower reading restarting that wait.
    #[test]
    fn a_severity_counts_only_once_it_has_held_for_for() {
        let mut l = Lifecycle::default();
        let w = Some(Severity::Warning);
        let c = Some(Severity::Critical);
        let step =
            |l: &mut Lifecycle, s: i64, level| l.step(t(s), level, FOR, Duration(0), || None);
        // Critical at the onset, then warning: it fires as a warning.
        assert_eq!(step(&mut l, 0, c), Some(Change::Pending));
        assert_eq!(step(&mut l, 30, w), None);
        assert_eq!(step(&mut l, 60, c), None);
        assert_eq!(step(&mut l, 120, c), Some(Change::Fired));
        assert_eq!(l.severity, Severity::Warning);
        // Critical since 60 s: not yet two minutes at 170 s.
        assert_eq!(step(&mut l, 170, c), None);
        // A warning reading restarts the wait.
        assert_eq!(step(&mut l, 180, w), None);
        assert_eq!(step(&mut l, 200, c), None);
        assert_eq!(step(&mut l, 310, c), None);
        assert_eq!(step(&mut l, 320, c), Some(Change::Escalated));
        assert_eq!(l.severity, Severity::Critical);
        // Once escalated, a lower reading does not lower it.
        assert_eq!(step(&mut l, 330, w), None);
        assert_eq!(l.severity, Severity::Critical);
        // Critical throughout: it fires as critical.
        let mut l = Lifecycle::default();
        assert_eq!(step(&mut l, 0, c), Some(Change::Pending));
        assert_eq!(step(&mut l, 120, c), Some(Change::Fired));
        assert_eq!(l.severity, Severity::Critical);
    }

    #[test]
    fn keep_firing_for_holds_the_alert_after_the_condition_stops() {
        let mut l = Lifecycle::default();
        let keep = Duration::from_mins(10);
        let w = Some(Severity::Warning);
        assert_eq!(
            l.step(t(0), w, Duration(0), keep, || None),
            Some(Change::Fired)
        );
        assert_eq!(l.step(t(60), None, Duration(0), keep, || None), None);
        assert_eq!(
            l.step(t(500), w, Duration(0), keep, || None),
            None,
            "still firing"
        );
        assert_eq!(
            l.step(t(1000), None, Duration(0), keep, || None),
            None,
            "500 s since the last true"
        );
        assert_eq!(
            l.step(t(1100), None, Duration(0), keep, || None),
            Some(Change::Resolved)
        );
        // A new episode starts clean.
        assert_eq!(
            l.step(t(1200), w, Duration(0), keep, || None),
            Some(Change::Fired)
        );
        assert_eq!(l.transitions.len(), 1);
    }

    #[test]
    fn an_episode_holds_only_its_own_transitions() {
        // Each new episode starts clean, and severity only rises, so an
        // episode records at most: pending, firing, two escalations,
        // resolved. One that breaks while pending leaves nothing.
        let mut l = Lifecycle::default();
        for i in 0..1000 {
            let holds = i % 2 == 0;
            l.step(
                t(i),
                holds.then_some(Severity::Warning),
                FOR,
                Duration(0),
                || None,
            );
            assert_eq!(l.transitions.len(), usize::from(holds), "flapping at {i}");
        }
        let levels = [
            Some(Severity::Info),
            Some(Severity::Warning),
            Some(Severity::Critical),
            Some(Severity::Warning),
            None,
        ];
        for (i, level) in levels.into_iter().enumerate() {
            l.step(t(2000 + i as i64), level, Duration(0), Duration(0), || None);
        }
        let to: Vec<RuleState> = l.transitions.iter().map(|s| s.to).collect();
        assert_eq!(
            to,
            [
                RuleState::Firing,
                RuleState::Firing,
                RuleState::Firing,
                RuleState::Resolved
            ]
        );
    }
}
