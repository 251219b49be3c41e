//! The streaming anomaly engine.
//!
//! No IO, no clock, no threads: every function takes time as an argument and
//! returns the same output for the same input, bit for bit. That is what lets
//! replay reproduce a recorded incident exactly.
//!
//! - [`detectors`]: per-series detector states (z-score, EWMA, MAD, seasonal,
//!   rate of change, threshold, absence, PSI drift, anomaly likelihood);
//! - [`rules`]: rule files (YAML) and the default pack;
//! - [`engine`]: rules applied to series, with Prometheus' `for` lifecycle,
//!   producing findings that carry their [`sentinel_model::RuleTrace`];
//! - [`eval`]: the NAB scorer and corpus parsing.

pub mod bench;
pub mod detectors;
mod duration;
pub mod engine;
pub mod eval;
mod history;
mod lifecycle;
pub mod promrules;
pub mod rules;
mod state;
pub mod stats;
mod trace;

pub use engine::{Engine, Rejected, SeriesId};
pub use rules::{DetectorSpec, Rule, RuleFile, Selector, default_pack};
pub use trace::explain;
