//! How the engine keeps its series, laid out for the order a poll feeds
//! them in.

use std::collections::VecDeque;

use sentinel_model::{RuleState, Timestamp};
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
    /// A copy of the lifecycle's state, so the common case (nothing holds,
    /// nothing was holding) decides without reading the episode.
    pub state: RuleState,
    /// Pending since the series' last reading, whose history the episode
    /// has yet to copy (see `step`).
    pub owed: bool,
}

impl Slot {
    /// Nothing was holding, so nothing is owed either (only a pending rule
    /// owes a copy): a reading whose condition does not hold has nothing
    /// to do.
    #[inline]
    pub fn idle(&self) -> bool {
        debug_assert!(!self.owed || self.state == RuleState::Pending);
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
