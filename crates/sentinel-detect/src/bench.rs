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

/// The floor for [`STREAMING_SET`]: the three rules' arithmetic written out
/// by hand for this workload, in the same order, with per-series state side
/// by side, and nothing else (no lifecycle or `for`, no evidence, no traces,
/// no checks for bad input). What an engine that did nothing but decide
/// would reach; it returns how many rule readings held or were holding, so
/// none of it can be optimised away.
pub fn floor(data: &[Vec<f64>]) -> u64 {
    const WINDOW: usize = 60;
    const WARMUP: u32 = 5;
    #[derive(Clone)]
    struct Series {
        buf: [f64; WINDOW],
        head: usize,
        len: u32,
        mean: f64,
        m2: f64,
        ewma: (f64, f64, u32),
        holding: [bool; 3],
    }
    /// 0 (nothing), 1 (`|z| > 2`, warning) or 2 (`|z| > 3`, critical);
    /// `None` while warming up.
    fn level(x: f64, mean: f64, var: f64, n: u32) -> Option<u8> {
        let d2 = (x - mean) * (x - mean);
        (n >= WARMUP).then_some(u8::from(d2 > 4.0 * var) + u8::from(d2 > 9.0 * var))
    }
    let mut all = vec![
        Series {
            buf: [0.0; WINDOW],
            head: 0,
            len: 0,
            mean: 0.0,
            m2: 0.0,
            ewma: (0.0, 0.0, 0),
            holding: [false; 3],
        };
        data.len()
    ];
    let samples = data.first().map_or(0, Vec::len);
    let mut held = 0;
    for i in 0..samples {
        for (s, row) in all.iter_mut().zip(data) {
            let x = row[i];
            // Rolling z-score.
            let n = s.len;
            let var = match n {
                0 | 1 => 0.0,
                n if n as usize == WINDOW => s.m2 * (1.0 / WINDOW as f64),
                n => s.m2 / n as f64,
            };
            let z = level(x, s.mean, var, n);
            if (n as usize) < WINDOW {
                s.buf[n as usize] = x;
                s.len += 1;
                let d = x - s.mean;
                s.mean += d / s.len as f64;
                s.m2 += d * (x - s.mean);
            } else {
                let old = std::mem::replace(&mut s.buf[s.head], x);
                s.head = (s.head + 1) % WINDOW;
                let mean = s.mean + (x - old) * (1.0 / WINDOW as f64);
                s.m2 += (x - old) * (x - mean + old - s.mean);
                s.mean = mean;
                if s.head == 0 {
                    // Exact once per lap, so rounding never accumulates.
                    s.mean = s.buf.iter().sum::<f64>() / WINDOW as f64;
                    s.m2 = s.buf.iter().map(|v| (v - s.mean) * (v - s.mean)).sum();
                }
            }
            // EWMA z-score.
            let (mean, var, n) = s.ewma;
            let e = level(x, mean, var, n);
            let d = x - mean;
            s.ewma = if n == 0 {
                (x, 0.0, 1)
            } else {
                (mean + 0.1 * d, 0.9 * (var + 0.1 * d * d), n + 1)
            };
            // Threshold.
            let t = Some(u8::from(x > 0.95));
            for (holding, now) in s.holding.iter_mut().zip([z, e, t]) {
                if let Some(now) = now {
                    held += u64::from(now > 0 || *holding);
                    *holding = now > 0;
                }
            }
        }
    }
    held
}

#[cfg(test)]
mod tests {
    use super::floor;

    #[test]
    fn the_floor_counts_what_holds() {
        assert_eq!(floor(&[vec![0.5; 200]]), 0);
        // A step to 1.0 from reading 100: all three rules hold at once (the
        // threshold for every reading after; the z-scores until they adapt).
        let step: Vec<f64> = (0..200).map(|i| if i < 100 { 0.5 } else { 1.0 }).collect();
        let held = floor(&[step]);
        assert!(held > 100 + 2, "{held}");
    }
}
