//! Per-series detector states. Each one is fed `(at, value)` in order and
//! answers with a [`Verdict`]: whether it has one, and the severity at which
//! its condition holds, plus the few numbers it was reached from. Only when
//! a rule changes state does the engine ask for the full [`Eval`] (what was
//! computed and compared), rebuilt from those numbers. None reads the clock
//! or allocates per sample.

pub mod drift;
pub mod likelihood;
pub mod robust;
pub mod simple;

use sentinel_model::Severity;
use serde::{Deserialize, Serialize};

/// A comparison operator of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

impl Op {
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
}

/// One comparison a detector made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Check {
    pub name: &'static str,
    pub value: f64,
    pub op: Op,
    pub threshold: f64,
    pub passed: bool,
    pub severity: Option<Severity>,
}

impl Check {
    pub fn new(
        name: &'static str,
        value: f64,
        op: Op,
        threshold: f64,
        severity: Option<Severity>,
    ) -> Self {
        Self {
            name,
            value,
            op,
            threshold,
            passed: op.holds(value, threshold),
            severity,
        }
    }
}

/// A detector's answer to one sample, as the hot path needs it: no names,
/// no comparisons, nothing that costs more than the verdict itself.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// False while warming up: no verdict.
    pub ready: bool,
    /// `Some` when the condition holds, at this severity.
    pub level: Option<Severity>,
    /// What the detector's `explain` rebuilds the [`Eval`] from.
    pub inputs: [f64; 4],
}

impl Verdict {
    pub const fn warming(inputs: [f64; 4]) -> Self {
        Self {
            ready: false,
            level: None,
            inputs,
        }
    }

    pub const fn ready(level: Option<Severity>, inputs: [f64; 4]) -> Self {
        Self {
            ready: true,
            level,
            inputs,
        }
    }
}

/// The z-score family's two levels: `> critical`, else `> warning`.
#[inline]
pub fn z_level(z: f64, warning: f64, critical: f64) -> Option<Severity> {
    if z > critical {
        Some(Severity::Critical)
    } else if z > warning {
        Some(Severity::Warning)
    } else {
        None
    }
}

/// Two levels for scores that count from their threshold on (PSI,
/// likelihood): `>= critical`, else `>= warning`.
#[inline]
pub fn level_from(x: f64, warning: f64, critical: f64) -> Option<Severity> {
    if x >= critical {
        Some(Severity::Critical)
    } else if x >= warning {
        Some(Severity::Warning)
    } else {
        None
    }
}

/// [`z_level`] of a squared deviation against a variance, without a square
/// root or a division: `dev² > k² var` is `dev / std > k` for `k ≥ 0` (a
/// zero variance makes any deviation infinite, as [`z_score`] does). For
/// ordered limits ([`simple::Compare::Ordered`]): the common case (within
/// the warning limit) takes one comparison.
#[inline]
pub fn z_level_sq(d2: f64, var: f64, p: &simple::ZParams) -> Option<Severity> {
    if d2 > p.warning_sq * var {
        Some(if d2 > p.critical_sq * var {
            Severity::Critical
        } else {
            Severity::Warning
        })
    } else {
        None
    }
}

/// [`z_level_sq`] for limits in any order: critical first.
#[cold]
pub fn z_level_sq_unordered(d2: f64, var: f64, p: &simple::ZParams) -> Option<Severity> {
    if d2 > p.critical_sq * var {
        Some(Severity::Critical)
    } else if d2 > p.warning_sq * var {
        Some(Severity::Warning)
    } else {
        None
    }
}

const MAX_VALUES: usize = 4;
const MAX_CHECKS: usize = 2;

/// What a detector made of one sample, in full: the values it computed and
/// the comparisons it made. Built from a [`Verdict`] when a trace is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Eval {
    /// False while warming up (or for a rejected sample): no verdict.
    pub ready: bool,
    /// `Some` when the condition holds, at this severity.
    pub level: Option<Severity>,
    values: [(&'static str, f64); MAX_VALUES],
    n_values: u8,
    checks: [Option<Check>; MAX_CHECKS],
    /// The expected range, when the detector has a baseline.
    pub band: Option<(f64, f64)>,
    /// A note for the trace when there is no verdict ("warming up").
    pub note: Option<&'static str>,
}

impl Default for Eval {
    fn default() -> Self {
        Self {
            ready: false,
            level: None,
            values: [("", 0.0); MAX_VALUES],
            n_values: 0,
            checks: [None; MAX_CHECKS],
            band: None,
            note: None,
        }
    }
}

impl Eval {
    pub fn warming(note: &'static str) -> Self {
        Self {
            note: Some(note),
            ..Self::default()
        }
    }

    pub fn value(mut self, name: &'static str, v: f64) -> Self {
        if (self.n_values as usize) < MAX_VALUES {
            self.values[self.n_values as usize] = (name, v);
            self.n_values += 1;
        }
        self
    }

    /// Record a check; the first passing check with a severity sets the level
    /// (checks are added most severe first).
    pub fn check(mut self, c: Check) -> Self {
        if let Some(slot) = self.checks.iter_mut().find(|s| s.is_none()) {
            *slot = Some(c);
        }
        if c.passed && self.level.is_none() {
            self.level = c.severity;
        }
        self
    }

    pub fn values(&self) -> &[(&'static str, f64)] {
        &self.values[..self.n_values as usize]
    }

    pub fn checks(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().flatten()
    }

    pub fn with_band(mut self, lo: f64, hi: f64) -> Self {
        self.band = Some((lo, hi));
        self
    }

    pub fn ready(mut self) -> Self {
        self.ready = true;
        self
    }
}

/// `|x - mean| / std`: 0 on a flat window when `x` equals the mean, infinite
/// when it does not (a constant series that moves is as unusual as it gets).
pub fn z_score(x: f64, mean: f64, std: f64) -> f64 {
    let dev = (x - mean).abs();
    if std > 0.0 {
        dev / std
    } else if dev > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// `(x - mean) / std`: 0 on a flat window when `x` equals the mean, ±∞
/// when it does not.
pub fn signed_z(x: f64, mean: f64, std: f64) -> f64 {
    let d = x - mean;
    if std > 0.0 {
        d / std
    } else if d > 0.0 {
        f64::INFINITY
    } else if d < 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    }
}

/// Which side of its baseline the z-score family watches. An error rate or
/// a latency that falls back to normal is good news; `up` keeps such a
/// rule from alerting on the recovery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Either side: `|z|` is compared with the limits.
    #[default]
    Both,
    /// Only above: `z > limit`.
    Up,
    /// Only below: `z < -limit`.
    Down,
}

impl Direction {
    pub fn is_both(&self) -> bool {
        *self == Direction::Both
    }

    /// How far a deviation `x - mean` goes the watched way: its size for
    /// both ways, 0 or less on the side not watched.
    #[inline]
    pub fn excess(self, d: f64) -> f64 {
        match self {
            Direction::Both => d.abs(),
            Direction::Up => d,
            Direction::Down => -d,
        }
    }

    /// The z a trace shows: `|z|` for both ways, the signed z for one.
    pub fn shown(self, z: f64) -> f64 {
        match self {
            Direction::Both => z.abs(),
            Direction::Up | Direction::Down => z,
        }
    }

    /// How a trace names the score: `abs` (`|z|`) for both ways, `signed`
    /// (`z`) for one.
    pub fn name(self, abs: &'static str, signed: &'static str) -> &'static str {
        match self {
            Direction::Both => abs,
            Direction::Up | Direction::Down => signed,
        }
    }

    /// The comparison with a limit `k` (`k ≥ 0`): `> k`, or `< -k` below.
    pub fn check(self, name: &'static str, z: f64, k: f64, sev: Severity) -> Check {
        match self {
            Direction::Both | Direction::Up => Check::new(name, z, Op::Gt, k, Some(sev)),
            Direction::Down => Check::new(name, z, Op::Lt, -k, Some(sev)),
        }
    }
}

/// The two-level z verdict shared by the z-score family; `name` is how the
/// trace calls the score (`|z|`, `|robust z|`, …) and `z` is what
/// [`Direction::shown`] gives.
pub fn z_checks(
    e: Eval,
    dir: Direction,
    name: &'static str,
    z: f64,
    warning: f64,
    critical: f64,
) -> Eval {
    e.check(dir.check(name, z, critical, Severity::Critical))
        .check(dir.check(name, z, warning, Severity::Warning))
}
