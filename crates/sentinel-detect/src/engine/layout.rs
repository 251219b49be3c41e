//! How the engine keeps its series, laid out for the order a poll feeds
//! them in.

use std::collections::VecDeque;

use sentinel_model::{RuleState, Severity, Timestamp};
use serde::{Deserialize, Serialize};

use crate::lifecycle::Lifecycle;
use crate::state::Detector;

// Layout. A poll feeds every series once per interval, so what one reading
// touches is laid out for that order: a small head per series in an array
// indexed by id, and the states of the series' rules side by side in one
// arena (`slots`), in registration order. What only a state change needs
// (the lifecycle's times and transitions, the episode's readings) lives in
// a parallel arena (`episodes`) that the common case never reads.

/// The part of a series every reading reads.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Head {
    /// The last accepted reading's time; [`NEVER`] before the first.
    pub last_at: i64,
    /// The series' rules: `slots[first..first + len]`.
    pub first: u32,
    pub len: u32,
}

/// `Head::last_at` of a series without readings (so a reading at the very
/// first millisecond representable counts as out of order).
pub(super) const NEVER: i64 = i64::MIN;

impl Head {
    pub const EMPTY: Head = Head {
        last_at: NEVER,
        first: 0,
        len: 0,
    };

    pub fn range(&self) -> std::ops::Range<usize> {
        self.first as usize..(self.first + self.len) as usize
    }
}

/// A rule on a series, as every reading needs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Slot {
    pub detector: Detector,
    pub rule: u32,
    /// The rule's state, so the common case (nothing holds, nothing was
    /// holding) decides without reading the episode: the lifecycle's, but
    /// for a deferred start (pending here, the lifecycle not yet told) and
    /// one taken back (inactive here, the lifecycle left as it was, which
    /// a new episode resets).
    pub state: RuleState,
    /// What the episode is owed since the series' last reading.
    pub owed: Owed,
}

/// What a rule that went pending at the series' last reading still owes
/// its episode, done at the next reading (see `settle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Owed {
    Nothing,
    /// The history up to that reading, the episode's first readings.
    Copy,
    /// Its start as well: the lifecycle's step to pending, at that reading
    /// and with this severity, from the numbers kept in the rule's
    /// [`Start`]. A rule that flaps back at the next reading (noise
    /// crossing a z limit) never touches its episode.
    Start(Severity),
}

/// A deferred start's numbers: the verdict's baseline at the reading that
/// went pending (its value is the series' last reading). Only the light
/// kinds defer (see `DetectorSpec::light`), whose note on what held is a
/// function of these and the value alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Start {
    pub mean: f64,
    pub var: f64,
}

impl Slot {
    /// Nothing was holding, so nothing is owed either (only a pending rule
    /// owes a copy): a reading whose condition does not hold has nothing
    /// to do.
    #[inline]
    pub fn idle(&self) -> bool {
        debug_assert!(self.owed == Owed::Nothing || self.state == RuleState::Pending);
        matches!(self.state, RuleState::Inactive | RuleState::Resolved)
    }
}

/// A rule on a series, as a state change needs it. A pending or firing
/// rule reads this on every reading: the episode's header and the
/// lifecycle's times come first, in one aligned pair of cache lines (the
/// transitions, read only when a state changes, after them).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[repr(C, align(128))]
pub(super) struct Episode {
    /// Readings since the series' history before `pending`, while the rule is
    /// pending or firing: the evidence its trace shows. Empty otherwise.
    pub points: VecDeque<(Timestamp, f64)>,
    pub life: Lifecycle,
}
