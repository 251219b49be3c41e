//! Threshold, rolling z-score, EWMA, rate of change and absence.

use sentinel_model::{Duration, Severity, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Check, Eval, Op, z_checks, z_score};
use crate::stats::{Ewma, Window};

/// The z-score family's verdict on `x` against a `(mean, std)` baseline
/// computed before `x`; `names` are how the trace calls mean and std.
fn z_verdict(
    x: f64,
    (mean, std): (f64, f64),
    warming: bool,
    readings: usize,
    (warning, critical): (f64, f64),
    names: [&'static str; 2],
) -> Eval {
    if warming {
        return Eval::warming("warming up").value("readings", readings as f64);
    }
    let z = z_score(x, mean, std);
    let e = Eval::default()
        .ready()
        .value("z", z)
        .value(names[0], mean)
        .value(names[1], std)
        .with_band(mean - warning * std, mean + warning * std);
    z_checks(e, z, warning, critical)
}

/// `value op threshold`; the rule's lifecycle adds `for`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub op: Op,
    pub value: f64,
    pub severity: Severity,
}

impl Threshold {
    pub fn observe(&mut self, x: f64) -> Eval {
        Eval::default().ready().check(Check::new(
            "value",
            x,
            self.op,
            self.value,
            Some(self.severity),
        ))
    }
}

/// Rolling z-score over the last `window` readings; no verdict with fewer
/// than `warmup` readings. `|z| > warning` warns, `> critical` is critical.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZScore {
    pub window: Window,
    pub warmup: usize,
    pub warning: f64,
    pub critical: f64,
    /// The spread never counts as smaller than this.
    pub min_spread: f64,
}

impl ZScore {
    pub fn new(window: usize, warmup: usize, warning: f64, critical: f64) -> Self {
        Self {
            window: Window::new(window),
            warmup,
            warning,
            critical,
            min_spread: 0.0,
        }
    }

    pub fn observe(&mut self, x: f64) -> Eval {
        let (mean, std, n) = (
            self.window.mean(),
            self.window.std().max(self.min_spread),
            self.window.len(),
        );
        self.window.push(x);
        let limits = (self.warning, self.critical);
        z_verdict(x, (mean, std), n < self.warmup, n, limits, ["mean", "std"])
    }
}

/// Exponentially weighted mean and variance; z of each reading against them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EwmaZ {
    pub ewma: Ewma,
    pub warmup: u64,
    pub warning: f64,
    pub critical: f64,
    pub min_spread: f64,
}

impl EwmaZ {
    pub fn observe(&mut self, x: f64) -> Eval {
        let (mean, std, n) = (
            self.ewma.mean,
            self.ewma.std().max(self.min_spread),
            self.ewma.count,
        );
        self.ewma.push(x);
        let limits = (self.warning, self.critical);
        z_verdict(
            x,
            (mean, std),
            n < self.warmup,
            n as usize,
            limits,
            ["ewma", "ewm std"],
        )
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
    pub fn observe(&mut self, at: Timestamp, x: f64) -> Eval {
        let Some((t0, x0)) = self.prev.replace((at, x)) else {
            return Eval::warming("needs two readings");
        };
        let dt = at.since(t0).millis();
        if dt <= 0 {
            return Eval::warming("no time elapsed");
        }
        let mut delta = x - x0;
        let mut reset = 0.0;
        if self.counter && delta < 0.0 {
            delta = x;
            reset = 1.0;
        }
        let rate = delta * self.per.millis() as f64 / dt as f64;
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
    pub fn observe(&mut self, at: Timestamp) -> Eval {
        self.last = Some(self.last.map_or(at, |l| l.max(at)));
        self.check(at)
    }

    /// Evaluate at `now` without a reading.
    pub fn check(&self, now: Timestamp) -> Eval {
        let Some(last) = self.last else {
            return Eval::warming("never seen");
        };
        let silent = now.since(last).millis() as f64 / 1000.0;
        Eval::default()
            .ready()
            .value("seconds since last reading", silent)
            .check(Check::new(
                "silence (s)",
                silent,
                Op::Gt,
                self.after.millis() as f64 / 1000.0,
                Some(self.severity),
            ))
    }
}
