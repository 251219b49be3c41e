//! Per-series detector states. Each one is fed `(at, value)` in order and
//! answers with what it computed; none reads the clock or allocates per
//! sample.

pub mod likelihood;
