//! The streaming anomaly engine.
//!
//! No IO, no clock, no threads: every function takes time as an argument and
//! returns the same output for the same input, bit for bit. That is what lets
//! replay reproduce a recorded incident exactly.

pub mod detectors;
pub mod eval;
pub mod stats;
