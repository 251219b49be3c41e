//! Scoring detectors against labelled benchmarks.

pub mod corpus;
pub mod nab;
pub mod scorers;
