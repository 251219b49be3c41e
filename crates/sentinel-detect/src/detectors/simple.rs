//! Threshold, rolling z-score, EWMA, rate of change and absence.

use sentinel_model::{Duration, Severity, Timestamp};
use serde::{Deserialize, Serialize};

use super::{
    Check, Direction, Eval, Op, Verdict, signed_z, z_checks, z_level, z_level_sq,
    z_level_sq_unordered, z_score,
};
use crate::stats::{Ewma, Window};

/// What the z-score family's hot path decided, before a [`Verdict`] is
/// built from it (the engine builds one only when something happens).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ZOutcome {
    pub ready: bool,
    pub level: Option<Severity>,
    pub mean: f64,
    pub var: f64,
    pub readings: u64,
}

impl ZOutcome {
    /// The verdict on `x`. Inputs: `[x, mean, variance, readings]`.
    #[inline]
    pub fn verdict(self, x: f64) -> Verdict {
        // Through i64: one conversion instruction where u64 takes several
        // (a count never reaches 2⁶³).
        let inputs = [x, self.mean, self.var, self.readings as i64 as f64];
        Verdict {
            ready: self.ready,
            level: self.level,
            inputs,
        }
    }
}

/// The z-score family's hot path: `x` against a `(mean, variance)` baseline
/// computed before `x`, the spread at least the rule's `min_spread`.
#[inline]
fn z_outcome(x: f64, (mean, var): (f64, f64), p: &ZParams, readings: u64) -> ZOutcome {
    let mut out = ZOutcome {
        ready: false,
        level: None,
        mean,
        var,
        readings,
    };
    if readings < p.warmup {
        return out;
    }
    // `var.max(min_var)` in one instruction: `min_var` is never NaN.
    let var = if var > p.min_var { var } else { p.min_var };
    // Both ways, the common case: `|x - mean|`, compared by its square.
    // A rule that watches one side takes the `General` arm.
    let dev = (x - mean).abs();
    out.ready = true;
    out.level = match p.compare {
        Compare::Ordered => z_level_sq(dev * dev, var, p),
        Compare::Unordered => z_level_sq_unordered(dev * dev, var, p),
        Compare::General => z_level_general(x - mean, var, p),
    };
    out
}

/// [`z_outcome`]'s level off the common path (a rule that watches one
/// side, or has a negative limit): how far the deviation `d` goes the
/// watched way, against the spread, compared as is.
#[cold]
fn z_level_general(d: f64, var: f64, p: &ZParams) -> Option<Severity> {
    let excess = p.direction.excess(d).max(0.0);
    z_level(z_score(excess, 0.0, var.sqrt()), p.warning, p.critical)
}

/// The z-score family's full evaluation, from [`ZOutcome::verdict`]'s inputs; `names`
/// are how the trace calls mean and std.
fn z_eval(v: &Verdict, p: &ZParams, names: [&'static str; 2]) -> Eval {
    let [_, mean, _, readings] = v.inputs;
    if !v.ready {
        return Eval::warming("warming up").value("readings", readings);
    }
    let (z, std) = z_of(v, p);
    let (warning, critical) = (p.warning, p.critical);
    let e = Eval::default()
        .ready()
        .value("z", z)
        .value(names[0], mean)
        .value(names[1], std)
        .with_band(mean - warning * std, mean + warning * std);
    z_checks(
        e,
        p.direction,
        p.direction.name("|z|", "z"),
        z,
        warning,
        critical,
    )
}

/// The z a trace shows (`|z|`, or the signed z for a rule that watches one
/// side) and the spread it was measured with, from
/// [`ZOutcome::verdict`]'s inputs.
#[inline]
fn z_of(v: &Verdict, p: &ZParams) -> (f64, f64) {
    let [x, mean, var, _] = v.inputs;
    let std = var.max(p.min_var).sqrt();
    (p.direction.shown(signed_z(x, mean, std)), std)
}

/// The z-score family's passing check, as `z_eval` makes it, without the
/// rest of the evaluation: what a rule going pending notes.
pub fn z_passed(v: &Verdict, p: &ZParams) -> Option<Check> {
    if !v.ready {
        return None;
    }
    let (z, _) = z_of(v, p);
    let name = p.direction.name("|z|", "z");
    [
        (p.critical, Severity::Critical),
        (p.warning, Severity::Warning),
    ]
    .into_iter()
    .map(|(k, sev)| p.direction.check(name, z, k, sev))
    .find(|c| c.passed)
}

/// `value op threshold`; the rule's lifecycle adds `for`. Stateless: the
/// parameters are the rule's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Threshold {
    pub op: Op,
    pub value: f64,
    pub severity: Severity,
}

impl Threshold {
    #[inline]
    pub fn observe(&self, x: f64) -> Verdict {
        self.verdict(x, self.holds(x))
    }

    /// Whether `x op value` holds.
    #[inline]
    pub fn holds(&self, x: f64) -> bool {
        self.op.holds(x, self.value)
    }

    #[inline]
    pub fn verdict(&self, x: f64, holds: bool) -> Verdict {
        Verdict::ready(holds.then_some(self.severity), [x, 0.0, 0.0, 0.0])
    }

    pub fn explain(&self, v: &Verdict) -> Eval {
        Eval::default().ready().check(self.check(v))
    }

    /// The one comparison.
    pub fn check(&self, v: &Verdict) -> Check {
        Check::new(
            "value",
            v.inputs[0],
            self.op,
            self.value,
            Some(self.severity),
        )
    }
}

/// The z-score family's parameters (the rule's, shared by every series),
/// with the squares the hot path compares with computed once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ZParams {
    /// No verdict with fewer readings than this.
    pub warmup: u64,
    pub warning: f64,
    pub critical: f64,
    /// `min_spread²`: the variance never counts as smaller than this (−∞
    /// for a NaN `min_spread`, which `f64::max` ignores).
    pub min_var: f64,
    pub warning_sq: f64,
    pub critical_sq: f64,
    pub compare: Compare,
    pub direction: Direction,
}

/// How the z-score family compares `|z|` with its limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// Squares, `critical² ≥ warning²` (every sane rule): a deviation
    /// within the warning limit is within the critical one too, so the
    /// common case takes one comparison.
    Ordered,
    /// Squares, critical first.
    Unordered,
    /// A negative limit (squares would not do), or a rule that watches one
    /// side of its baseline: the z itself, off the common path.
    General,
}

impl ZParams {
    pub fn new(
        warmup: usize,
        warning: f64,
        critical: f64,
        min_spread: f64,
        direction: Direction,
    ) -> Self {
        Self {
            warmup: warmup as u64,
            warning,
            critical,
            min_var: match min_spread * min_spread {
                v if v.is_nan() => f64::NEG_INFINITY,
                v => v,
            },
            warning_sq: warning * warning,
            critical_sq: critical * critical,
            compare: if !direction.is_both() || warning < 0.0 || critical < 0.0 {
                Compare::General
            } else if critical * critical >= warning * warning {
                Compare::Ordered
            } else {
                Compare::Unordered
            },
            direction,
        }
    }
}

/// Rolling z-score over the last `window` readings; no verdict with fewer
/// than `warmup` readings. `|z| > warning` warns, `> critical` is critical.
/// The per-series state: the window; [`ZParams`] come from the rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZScore {
    pub window: Window,
}

impl ZScore {
    pub fn new(window: usize) -> Self {
        Self {
            window: Window::new(window),
        }
    }

    #[inline]
    pub fn observe(&mut self, p: &ZParams, x: f64) -> Verdict {
        self.outcome(p, x).verdict(x)
    }

    #[inline]
    pub fn outcome(&mut self, p: &ZParams, x: f64) -> ZOutcome {
        let (mean, var, n) = (
            self.window.mean(),
            self.window.variance(),
            self.window.len(),
        );
        self.window.push(x);
        z_outcome(x, (mean, var), p, n as u64)
    }

    pub fn explain(&self, p: &ZParams, v: &Verdict) -> Eval {
        z_eval(v, p, ["mean", "std"])
    }
}

/// Exponentially weighted mean and variance; z of each reading against them.
/// The per-series state: the EWMA; [`ZParams`] come from the rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EwmaZ {
    pub ewma: Ewma,
}

impl EwmaZ {
    #[inline]
    pub fn observe(&mut self, p: &ZParams, x: f64) -> Verdict {
        self.outcome(p, x).verdict(x)
    }

    #[inline]
    pub fn outcome(&mut self, p: &ZParams, x: f64) -> ZOutcome {
        let (mean, var, n) = (self.ewma.mean, self.ewma.var.max(0.0), self.ewma.count);
        self.ewma.push(x);
        z_outcome(x, (mean, var), p, n)
    }

    pub fn explain(&self, p: &ZParams, v: &Verdict) -> Eval {
        z_eval(v, p, ["ewma", "ewm std"])
    }
}

/// Change per `per` between consecutive readings. With `counter`, a drop is a
/// reset (Prometheus' `rate` semantics: the new value is the increase).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateOfChange {
    pub per: Duration,
    pub op: Op,
    pub value: f64,
    pub counter: bool,
    pub severity: Severity,
    pub prev: Option<(Timestamp, f64)>,
}

impl RateOfChange {
    /// Inputs: `[rate, 1 if the counter reset]`.
    pub fn observe(&mut self, at: Timestamp, x: f64) -> Verdict {
        let Some((t0, x0)) = self.prev.replace((at, x)) else {
            return Verdict::warming([0.0; 4]);
        };
        let dt = at.since(t0).millis();
        if dt <= 0 {
            return Verdict::warming([0.0; 4]);
        }
        let mut delta = x - x0;
        let mut reset = 0.0;
        if self.counter && delta < 0.0 {
            delta = x;
            reset = 1.0;
        }
        let rate = delta * self.per.millis() as f64 / dt as f64;
        let level = self.op.holds(rate, self.value).then_some(self.severity);
        Verdict::ready(level, [rate, reset, 0.0, 0.0])
    }

    pub fn explain(&self, v: &Verdict) -> Eval {
        if !v.ready {
            return Eval::warming("needs two readings in time order");
        }
        let [rate, reset, ..] = v.inputs;
        Eval::default()
            .ready()
            .value("rate", rate)
            .value("counter reset", reset)
            .check(Check::new(
                "rate",
                rate,
                self.op,
                self.value,
                Some(self.severity),
            ))
    }
}

/// No reading for `after`: the series (or the target behind it) is gone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Absent {
    pub after: Duration,
    pub severity: Severity,
    pub last: Option<Timestamp>,
}

impl Absent {
    pub fn observe(&mut self, at: Timestamp) -> Verdict {
        self.last = Some(self.last.map_or(at, |l| l.max(at)));
        self.check(at)
    }

    fn limit(&self) -> f64 {
        self.after.millis() as f64 / 1000.0
    }

    /// Evaluate at `now` without a reading. Inputs: `[seconds silent]`.
    pub fn check(&self, now: Timestamp) -> Verdict {
        let Some(last) = self.last else {
            return Verdict::warming([0.0; 4]);
        };
        let silent = now.since(last).millis() as f64 / 1000.0;
        let level = (silent > self.limit()).then_some(self.severity);
        Verdict::ready(level, [silent, 0.0, 0.0, 0.0])
    }

    pub fn explain(&self, v: &Verdict) -> Eval {
        if !v.ready {
            return Eval::warming("never seen");
        }
        let silent = v.inputs[0];
        Eval::default()
            .ready()
            .value("seconds since last reading", silent)
            .check(Check::new(
                "silence (s)",
                silent,
                Op::Gt,
                self.limit(),
                Some(self.severity),
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::{Direction, EwmaZ, ZParams, ZScore, z_eval, z_passed};
    use crate::detectors::Op;
    use crate::stats::Ewma;
    use sentinel_model::Severity;

    /// Noise around 10, then one reading at `last`.
    fn feed(p: &ZParams, last: f64) -> [(super::Verdict, super::Verdict); 1] {
        let (mut z, mut e) = (
            ZScore::new(20),
            EwmaZ {
                ewma: Ewma::new(0.1),
            },
        );
        for i in 0..40 {
            let x = 10.0 + f64::from(i % 3) * 0.1;
            z.observe(p, x);
            e.observe(p, x);
        }
        [(z.observe(p, last), e.observe(p, last))]
    }

    #[test]
    fn a_one_sided_rule_watches_only_its_side() {
        let p = |d| ZParams::new(5, 2.0, 3.0, 0.0, d);
        for (dir, rise, drop) in [
            (Direction::Both, true, true),
            (Direction::Up, true, false),
            (Direction::Down, false, true),
        ] {
            for (last, want) in [(20.0, rise), (0.0, drop)] {
                let [(z, e)] = feed(&p(dir), last);
                let want = want.then_some(Severity::Critical);
                assert_eq!((z.level, e.level), (want, want), "{dir:?} at {last}");
            }
        }
        // The trace compares the signed z: `z > 3` above, `z < -3` below.
        let down = p(Direction::Down);
        let [(z, _)] = feed(&down, 0.0);
        let eval = z_eval(&z, &down, ["mean", "std"]);
        let first = eval.checks().next().copied();
        let first = first.map(|c| (c.name, c.op, c.threshold, c.passed, c.value < -3.0));
        assert_eq!(first, Some(("z", Op::Lt, -3.0, true, true)));
        assert_eq!(eval.level, Some(Severity::Critical));
        let passed = z_passed(&z, &down).map(|c| (c.name, c.threshold));
        assert_eq!(passed, Some(("z", -3.0)));
        // Both ways: `|z| > 3`, as always.
        let both = p(Direction::Both);
        let [(z, _)] = feed(&both, 0.0);
        let eval = z_eval(&z, &both, ["mean", "std"]);
        let first = eval.checks().next().map(|c| (c.name, c.op, c.value > 3.0));
        assert_eq!(first, Some(("|z|", Op::Gt, true)));
        // A rise seen by a rule that watches drops: its trace says why not.
        let [(z, _)] = feed(&down, 20.0);
        let eval = z_eval(&z, &down, ["mean", "std"]);
        assert!(eval.checks().all(|c| !c.passed && c.value > 3.0));
        assert_eq!(eval.level, None);
    }

    #[test]
    fn a_nan_spread_floor_is_no_floor() {
        // As `f64::max` ignores NaN: the same verdicts as no floor at all.
        let (nan, none) = (
            ZParams::new(5, 2.0, 3.0, f64::NAN, Direction::Both),
            ZParams::new(5, 2.0, 3.0, 0.0, Direction::Both),
        );
        let (mut a, mut b) = (ZScore::new(10), ZScore::new(10));
        let xs = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.5, 9.0, 1.0];
        let mut levels = Vec::new();
        for x in xs {
            let (va, vb) = (a.observe(&nan, x), b.observe(&none, x));
            assert_eq!(va, vb, "at {x}");
            levels.push(va.level);
        }
        assert!(levels.iter().any(Option::is_some), "{levels:?}");
    }
}
