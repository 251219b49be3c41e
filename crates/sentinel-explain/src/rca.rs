//! Metric root-cause ranking for multi-service incidents. Given per-service
//! series and an onset that may be given a few minutes late, rank services by
//! how far their metrics left a robust baseline. The baseline ends a guard
//! interval before the stated onset, and is summarised by median and IQR, so
//! a late onset (fault data inside the baseline) barely moves it: that is
//! what makes N-sigma collapse and robust scaling hold.

use std::collections::BTreeMap;

use sentinel_model::Timestamp;
use serde::Serialize;

use crate::metrics::{parse_time, split_csv};

/// Long format: `timestamp,service,metric,value` (header optional).
pub type ServiceSeries = BTreeMap<(String, String), Vec<(Timestamp, f64)>>;

pub fn parse_long_csv(text: &str) -> Result<ServiceSeries, String> {
    let mut out: ServiceSeries = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let f = split_csv(line);
        if i == 0 && f.first().is_some_and(|x| x.trim() == "timestamp") {
            continue;
        }
        let [t, service, metric, value] = f.as_slice() else {
            return Err(format!(
                "line {}: expected timestamp,service,metric,value",
                i + 1
            ));
        };
        let at = parse_time(t).ok_or_else(|| format!("line {}: bad timestamp {t:?}", i + 1))?;
        let v: f64 = match value.trim() {
            "" | "NaN" | "nan" => continue,
            x => x
                .parse()
                .map_err(|_| format!("line {}: bad value {value:?}", i + 1))?,
        };
        out.entry((service.trim().to_string(), metric.trim().to_string()))
            .or_default()
            .push((at, v));
    }
    for v in out.values_mut() {
        v.sort_by_key(|p| p.0);
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    pub service: String,
    pub score: f64,
    /// The metric that moved most.
    pub metric: String,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// How far a series left its baseline after `cut`, in robust units.
fn deviation(points: &[(Timestamp, f64)], cut: Timestamp) -> Option<f64> {
    let mut before: Vec<f64> = points
        .iter()
        .filter(|p| p.0 < cut && p.1.is_finite())
        .map(|p| p.1)
        .collect();
    if before.len() < 4 {
        return None;
    }
    before.sort_by(f64::total_cmp);
    let med = quantile(&before, 0.5);
    let iqr = quantile(&before, 0.75) - quantile(&before, 0.25);
    let scale = (iqr / 1.349).max(med.abs() * 0.01).max(1e-9);
    let after: Vec<f64> = points
        .iter()
        .filter(|p| p.0 >= cut && p.1.is_finite())
        .map(|p| p.1)
        .collect();
    if after.is_empty() {
        return None;
    }
    // The sustained level (second-largest deviation) rather than one spike.
    let mut dev: Vec<f64> = after.iter().map(|v| (v - med).abs() / scale).collect();
    dev.sort_by(|a, b| b.total_cmp(a));
    Some(dev[1.min(dev.len() - 1)])
}

/// Rank services, most likely root cause first. `guard_ms` is how late the
/// onset may be given; the baseline ends that long before it.
pub fn rank(series: &ServiceSeries, onset: Timestamp, guard_ms: i64) -> Vec<Ranked> {
    let start = series
        .values()
        .filter_map(|v| v.first())
        .map(|p| p.0)
        .min()
        .unwrap_or(onset);
    // Keep at least a third of the pre-onset span as baseline.
    let span = (onset.0 - start.0).max(0);
    let cut = Timestamp(onset.0 - guard_ms.min(span * 2 / 3));
    let mut best: BTreeMap<&str, (f64, &str)> = BTreeMap::new();
    for ((service, metric), pts) in series {
        let Some(d) = deviation(pts, cut) else {
            continue;
        };
        let e = best
            .entry(service.as_str())
            .or_insert((0.0, metric.as_str()));
        if d > e.0 {
            *e = (d, metric.as_str());
        }
    }
    let mut out: Vec<Ranked> = best
        .into_iter()
        .map(|(s, (score, m))| Ranked {
            service: s.to_string(),
            score,
            metric: m.to_string(),
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.service.cmp(&b.service))
    });
    out
}

/// top-1, top-3 and Avg@5 (the mean of AC@1..AC@5) over ranked cases.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct RcaScore {
    pub cases: usize,
    pub top1: f64,
    pub top3: f64,
    pub avg5: f64,
}

pub fn score(positions: &[Option<usize>]) -> RcaScore {
    let n = positions.len();
    if n == 0 {
        return RcaScore::default();
    }
    let ac = |k: usize| {
        positions
            .iter()
            .filter(|p| p.is_some_and(|r| r <= k))
            .count() as f64
            / n as f64
    };
    RcaScore {
        cases: n,
        top1: ac(1),
        top3: ac(3),
        avg5: (1..=5).map(ac).sum::<f64>() / 5.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(delay_s: i64) -> (ServiceSeries, Timestamp) {
        let mut csv = String::from("timestamp,service,metric,value\n");
        for t in 0..600 {
            let fault = t >= 400;
            let noise = ((t * 7919) % 13) as f64 / 100.0;
            // The root: CPU jumps. A caller: latency follows, smaller.
            csv.push_str(&format!(
                "{t},cartservice,cpu,{}\n",
                if fault { 3.0 } else { 0.5 + noise }
            ));
            csv.push_str(&format!(
                "{t},frontend,latency,{}\n",
                if t >= 405 { 0.6 } else { 0.2 + noise }
            ));
            csv.push_str(&format!("{t},currency,cpu,{}\n", 0.3 + noise));
        }
        (
            parse_long_csv(&csv).unwrap_or_default(),
            Timestamp((400 + delay_s) * 1000),
        )
    }

    #[test]
    fn the_root_ranks_first_even_with_a_late_onset() {
        for delay in [0, 60, 180] {
            let (s, onset) = case(delay);
            let r = rank(&s, onset, 300_000);
            assert_eq!(r[0].service, "cartservice", "delay {delay}: {r:?}");
            assert_eq!(r[0].metric, "cpu");
        }
    }

    #[test]
    fn avg_at_5_is_the_mean_of_ac_at_k() {
        let s = score(&[Some(1), Some(2), None, Some(6)]);
        assert_eq!(s.top1, 0.25);
        assert_eq!(s.top3, 0.5);
        assert!((s.avg5 - (0.25 + 0.5 + 0.5 + 0.5 + 0.5) / 5.0).abs() < 1e-12);
        assert!(parse_long_csv("1,a,b").is_err());
    }
}
