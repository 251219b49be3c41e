//! Detectors as NAB scorers: one anomaly score in [0, 1] per row.

use crate::detectors::likelihood::{Likelihood, LikelihoodParams};
use crate::stats::{Window, normal_tail};

/// A streaming scorer: one value in, one score out, no look-ahead.
pub trait Scorer {
    fn score(&mut self, at_ms: i64, value: f64) -> f64;
}

/// The detector the app ships as default.
pub const DEFAULT: &str = "likelihood";

/// Detectors `sentinel eval nab` knows.
pub const NAMES: &[&str] = &["likelihood", "zscore", "null"];

/// A scorer by name: one of [`NAMES`], or `likelihood:KEY=VALUE,...` for
/// the likelihood detector with parameters over its defaults. The error
/// says what is wrong with the name.
pub fn by_name(name: &str) -> Result<Box<dyn Scorer>, String> {
    Ok(match name {
        "likelihood" => Box::new(Likelihood::new(LikelihoodParams::default())),
        name if name.starts_with("likelihood:") => {
            Box::new(Likelihood::new(parse_params(&name[11..])?))
        }
        "zscore" => Box::new(ZScore {
            window: Window::new(6400),
        }),
        "null" => Box::new(Null),
        _ => {
            return Err(format!(
                "unknown detector {name:?} (known: {}, or likelihood:KEY=VALUE,...)",
                NAMES.join(", ")
            ));
        }
    })
}

impl Scorer for Likelihood {
    fn score(&mut self, at_ms: i64, value: f64) -> f64 {
        let _ = at_ms;
        self.observe(value).score
    }
}

/// NAB's "windowed Gaussian": the two-sided tail of the value against a
/// trailing window, as a plain rolling z-score would see it.
struct ZScore {
    window: Window,
}

impl Scorer for ZScore {
    fn score(&mut self, _: i64, value: f64) -> f64 {
        let std = self.window.std();
        let s = if self.window.len() < 2 || std == 0.0 {
            0.0
        } else {
            1.0 - 2.0 * normal_tail((value - self.window.mean()).abs() / std)
        };
        self.window.push(value);
        s.clamp(0.0, 1.0)
    }
}

/// Never fires: the benchmark's floor.
struct Null;

impl Scorer for Null {
    fn score(&mut self, _: i64, _: f64) -> f64 {
        0.5
    }
}

/// The keys [`parse_params`] takes.
pub const PARAM_KEYS: &[&str] = &[
    "window",
    "short",
    "history",
    "context_history",
    "warmup",
    "margin",
    "record_margin",
    "record_tail",
    "refractory",
    "level",
    "bins",
    "damp",
];

/// `window=200,short=10,...`: parameters over the defaults, for tuning.
/// An unknown key, a value that is not a number, or parameters a rule
/// could not have either are an error that names the culprit.
pub fn parse_params(spec: &str) -> Result<LikelihoodParams, String> {
    let mut p = LikelihoodParams::default();
    for kv in spec.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("{kv:?}: expected KEY=VALUE"))?;
        let f: f64 = v
            .parse()
            .map_err(|_| format!("{kv:?}: {v:?} is not a number"))?;
        match k {
            "window" => p.window = f as usize,
            "short" => p.short = f as usize,
            "history" => p.history = f as usize,
            "context_history" => p.context_history = Some(f as usize),
            "warmup" => p.warmup = f as usize,
            "margin" => p.novelty_margin = f,
            "record_margin" => p.record_margin = f,
            "record_tail" => p.record_tail = f as usize,
            "refractory" => p.refractory = f as usize,
            "level" => p.refractory_level = f,
            "bins" => p.bins = f as u32,
            "damp" => p.damp = f,
            _ => {
                return Err(format!(
                    "{k:?} is not a likelihood parameter (known: {})",
                    PARAM_KEYS.join(", ")
                ));
            }
        }
    }
    if p.is_valid() {
        Ok(p)
    } else {
        Err(format!(
            "{spec:?}: out of bounds (windows and histories 2-100000 readings, \
             short 1-100000, margins finite and not negative, damp in [0, 1])"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_over_the_defaults_are_checked_as_a_rule_would_be() {
        let p = parse_params("history=1000,context_history=1500,damp=0.25").unwrap_or_default();
        assert_eq!((p.history, p.context_history(), p.damp), (1000, 1500, 0.25));
        // By default the context view keeps one and a half times the history.
        assert_eq!(
            parse_params("history=1000").map(|p| p.context_history()),
            Ok(1500)
        );
        assert_eq!(p.window, LikelihoodParams::default().window);
        // Each bad spec is refused with an error that names what is wrong.
        for (bad, says) in [
            ("history=1e12", "out of bounds"),
            ("context_history=1", "out of bounds"),
            ("damp=nan", "out of bounds"),
            ("window=0", "out of bounds"),
            ("magic=1", "\"magic\" is not a likelihood parameter"),
            ("window", "expected KEY=VALUE"),
            ("window=wide", "\"wide\" is not a number"),
        ] {
            let err = parse_params(bad).err().unwrap_or_default();
            assert!(err.contains(says), "{bad}: {err}");
            let err = by_name(&format!("likelihood:{bad}"))
                .err()
                .unwrap_or_default();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let err = by_name("holt-winters").err().unwrap_or_default();
        assert!(err.contains("unknown detector \"holt-winters\""), "{err}");
        for name in NAMES {
            assert!(by_name(name).is_ok(), "{name}");
        }
    }
}
