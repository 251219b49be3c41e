//! A stretch of the simulated cluster's history in the OpenMetrics text
//! format, every sample with its timestamp: what `promtool tsdb
//! create-blocks-from openmetrics` turns into Prometheus blocks, so a real
//! Prometheus can serve a recorded incident as if it had scraped it.

use std::fmt::Write as _;

use sentinel_model::{Duration, Timestamp};

use crate::exposition::{Exposition, fmt_value};
use crate::{Frame, Sim, SimConfig};

/// The frames of `[start, end]` every `step`, from a sim started at `start`
/// `loop_offset_s` seconds into its incident loop (the same frames each call).
pub fn frames(
    config: SimConfig,
    start: Timestamp,
    end: Timestamp,
    step: Duration,
    loop_offset_s: i64,
) -> Vec<Frame> {
    let step = step.millis().max(1000);
    let mut sim = Sim::in_loop(config, start, loop_offset_s, Duration(step));
    let mut out = Vec::new();
    let mut t = start.millis();
    while t <= end.millis() {
        out.push(sim.step(Timestamp(t)));
        t += step;
    }
    out
}

/// The scrapes of `frames` as one OpenMetrics document: families in the
/// exporter's order, each series' samples in time order, `# EOF` last. No
/// metadata lines (types do not matter to queries; histogram and counter
/// suffixes would otherwise have to follow OpenMetrics' naming).
pub fn history(frames: &[Frame]) -> String {
    let mut exposition = Exposition::new();
    // family index → lines
    let mut families: Vec<String> = Vec::new();
    for frame in frames {
        exposition.observe(frame);
        let secs = frame.at.millis() as f64 / 1000.0;
        for (i, family) in exposition.families(frame).into_iter().enumerate() {
            if families.len() <= i {
                families.push(String::new());
            }
            let out = &mut families[i];
            for (series, value) in &family.samples {
                let _ = writeln!(out, "{series} {} {secs}", fmt_value(*value));
            }
        }
    }
    let mut out = String::with_capacity(families.iter().map(String::len).sum::<usize>() + 8);
    for f in families {
        out.push_str(&f);
    }
    out.push_str("# EOF\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_series_is_in_time_order_and_the_document_ends() {
        let start = Timestamp(1_700_000_000_000);
        let frames = frames(
            SimConfig::default(),
            start,
            Timestamp(start.millis() + 60_000),
            Duration::from_secs(15),
            0,
        );
        assert_eq!(frames.len(), 5);
        let doc = history(&frames);
        assert!(doc.ends_with("# EOF\n"));
        let mut last: std::collections::HashMap<&str, f64> = Default::default();
        for line in doc.lines().filter(|l| !l.starts_with('#')) {
            let mut parts = line.rsplitn(3, ' ');
            let ts: f64 = parts.next().unwrap().parse().unwrap();
            let _value = parts.next().unwrap();
            let series = parts.next().unwrap();
            if let Some(prev) = last.insert(series, ts) {
                assert!(ts > prev, "{series} goes back in time");
            }
        }
        assert!(doc.contains("kube_pod_info{"));
        assert!(doc.contains(&format!(" {}\n", 1_700_000_060.0)));
    }
}
