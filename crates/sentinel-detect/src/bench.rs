//! The workload of `sentinel bench detect` and the criterion benchmark:
//! many series of synthetic readings run through the default streaming
//! detector set. Pure: the caller times it.

use sentinel_model::{SeriesKey, Timestamp};

use crate::{Engine, RuleFile, SeriesId};

/// The streaming set every dashboard series gets: a rolling z-score, an
/// EWMA z-score and a threshold with `for`.
pub const STREAMING_SET: &str = r#"
rules:
  - name: Z
    selector: {metric: bench}
    detector: {kind: zscore, window: 60}
    for: 30s
    severity: critical
    explain: "z = {z}"
  - name: E
    selector: {metric: bench}
    detector: {kind: ewma, alpha: 0.1}
    for: 30s
    severity: critical
    explain: "z = {z}"
  - name: T
    selector: {metric: bench}
    detector: {kind: threshold, op: ">", value: 0.95}
    for: 2m
    severity: warning
    explain: "{value} > {threshold}"
"#;

/// `series × samples` readings, series-major, deterministic: noise around a
/// per-series level, stepping up by 0.6 for 90 readings (3 minutes at the
/// bench's 2 s step) in every 1999 (at a different phase per series), so
/// rules go pending, fire and resolve as on a cluster having a bad hour.
pub fn workload(series: usize, samples: usize) -> Vec<Vec<f64>> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..series)
        .map(|s| {
            let level = 0.3 + (s % 7) as f64 * 0.05;
            (0..samples)
                .map(|i| {
                    state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                    let mut z = state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                    z ^= z >> 31;
                    let u = (z >> 11) as f64 / (1u64 << 53) as f64;
                    let spike = if (i + s * 7919) % 1999 < 90 { 0.6 } else { 0.0 };
                    level + 0.05 * (u - 0.5) + spike
                })
                .collect()
        })
        .collect()
}

/// An engine with one registered series per workload row.
pub fn engine(series: usize) -> (Engine, Vec<SeriesId>) {
    let rules = RuleFile::parse(STREAMING_SET).unwrap_or(RuleFile { rules: Vec::new() });
    let mut e = Engine::new(rules);
    let ids = (0..series)
        .map(|i| {
            e.series(&SeriesKey::new(
                "bench",
                [("series", i.to_string().as_str())],
            ))
        })
        .collect();
    (e, ids)
}

/// Feed every reading, time-major (as a poll loop does); returns findings.
pub fn run_engine(
    engine: &mut Engine,
    ids: &[SeriesId],
    data: &[Vec<f64>],
    start: Timestamp,
) -> usize {
    let samples = data.first().map_or(0, Vec::len);
    let mut out = Vec::new();
    let mut findings = 0;
    for i in 0..samples {
        let at = Timestamp(start.millis() + i as i64 * 2000);
        let readings = ids.iter().zip(data).map(|(id, row)| (*id, row[i]));
        engine.observe_all(at, readings, &mut out);
        findings += out.len();
        out.clear();
    }
    findings
}

/// The practical limit: a plain f64 sum over the same readings, same order.
pub fn sum_loop(data: &[Vec<f64>]) -> f64 {
    let samples = data.first().map_or(0, Vec::len);
    let mut sum = 0.0;
    for i in 0..samples {
        for row in data {
            sum += row[i];
        }
    }
    sum
}
