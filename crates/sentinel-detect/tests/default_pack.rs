//! The shipped rule pack on the shapes a cluster's dashboard series take.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sentinel_detect::{Engine, default_pack};
use sentinel_model::{RuleState, SeriesKey, Timestamp};

/// A bad spell and its recovery: `low` with a little noise, `high` for
/// `spell` readings, then `low` again, one reading every 2 s.
fn spell(low: f64, high: f64, spell: usize) -> Vec<f64> {
    (0..600)
        .map(|i| {
            let noise = ((i * 7919) % 13) as f64 / 13.0 - 0.5;
            let level = if (200..200 + spell).contains(&i) {
                high
            } else {
                low
            };
            level * (1.0 + 0.05 * noise)
        })
        .collect()
}

/// Which of `rule`'s findings fired, with the reading they fired on.
fn fired(metric: &str, rule: &str, values: &[f64]) -> Vec<(usize, f64, Vec<String>)> {
    let mut e = Engine::new(default_pack());
    let id = e.series(&SeriesKey::new(metric, [("cluster", "demo")]));
    let mut out = Vec::new();
    let mut fired = Vec::new();
    for (i, &v) in values.iter().enumerate() {
        e.observe(
            id,
            Timestamp::from_secs(1_700_000_000 + 2 * i as i64),
            v,
            &mut out,
        );
        for f in out.drain(..) {
            if f.rule == rule && f.state == RuleState::Firing {
                fired.push((i, v, f.trace.sentences()));
            }
        }
    }
    fired
}

#[test]
fn latency_and_error_rate_anomalies_fire_on_the_rise_not_on_the_recovery() {
    for (metric, rule, low, high) in [
        ("cluster_latency_p95_ms", "LatencyP95Anomaly", 120.0, 900.0),
        ("cluster_error_percent", "ErrorRateAnomaly", 0.3, 6.0),
    ] {
        // A spell of 3 minutes: long enough to fill much of the window, so
        // the median sits high when the series falls back.
        let values = spell(low, high, 90);
        let fired = fired(metric, rule, &values);
        assert_eq!(fired.len(), 1, "{rule}: {fired:#?}");
        let (at, value, sentences) = &fired[0];
        assert!((200..290).contains(at), "{rule} fired at reading {at}");
        assert!(*value > high * 0.9, "{rule} fired on {value}");
        let text = sentences.join("\n");
        assert!(text.contains("direction = up"), "{text}");
        assert!(text.contains("robust z: "), "{text}");
        assert!(!text.contains("|robust z|"), "{text}");
        let said = sentences
            .iter()
            .find(|s| s.contains("robust deviations above its median"))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(briefly(said), "{said}");
    }
}

/// Does every fractional number in `sentence` have at most three
/// significant digits ("48.5", "0.274"; not "48.534")?
fn briefly(sentence: &str) -> bool {
    sentence
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|t| t.trim_matches('.'))
        .filter(|t| t.contains('.'))
        .all(|t| t.trim_start_matches(['0', '.']).len() <= 4)
}

#[test]
fn a_dip_inside_a_spell_does_not_resolve_and_fire_again() {
    for (metric, rule, low, high) in [
        ("cluster_latency_p95_ms", "LatencyP95Anomaly", 120.0, 900.0),
        ("cluster_error_percent", "ErrorRateAnomaly", 0.3, 6.0),
    ] {
        // Back to normal for 20 s in the middle of a 3-minute spell.
        let mut values = spell(low, high, 90);
        for v in &mut values[240..250] {
            *v = low;
        }
        let fired = fired(metric, rule, &values);
        assert_eq!(fired.len(), 1, "{rule}: {fired:#?}");
        assert!((200..240).contains(&fired[0].0), "{rule}: {fired:#?}");
    }
}

#[test]
fn a_two_sided_rule_still_sees_a_drop() {
    // Cluster CPU watches both ways: a sudden drop (traffic gone) is news.
    let values: Vec<f64> = spell(60.0, 60.0, 0)
        .into_iter()
        .enumerate()
        .map(|(i, v)| if i >= 300 { v / 4.0 } else { v })
        .collect();
    let fired = fired("cluster_cpu_percent", "ClusterCPUAnomaly", &values);
    assert!(
        fired.iter().any(|(at, v, _)| *at >= 300 && *v < 20.0),
        "{fired:#?}"
    );
}

/// The ratio rules speak in percentages: a node at 93% of its CPU for two
/// minutes, a pod near its memory limit.
#[test]
fn ratio_rules_explain_themselves_in_percentages() {
    let mut e = Engine::new(default_pack());
    let node = e.series(&SeriesKey::new("node_cpu_usage_ratio", [("node", "n1")]));
    let pod = e.series(&SeriesKey::new(
        "pod_memory_usage_ratio",
        [("namespace", "shop"), ("pod", "cart-0")],
    ));
    let mut out = Vec::new();
    let mut said = Vec::new();
    for i in 0..120 {
        let at = Timestamp::from_secs(1_700_000_000 + 2 * i);
        e.observe(node, at, 0.934, &mut out);
        e.observe(pod, at, 0.9996, &mut out);
        said.extend(
            out.drain(..)
                .filter(|f| f.state == RuleState::Firing)
                .map(|f| f.trace.explanation),
        );
    }
    assert_eq!(
        said,
        [
            "Node n1 has used 93.4% of its CPU, above 80%, for 2m.",
            "shop/cart-0 has used 100% of its memory limit, above 85%, for 2m; the kernel kills it at 100%."
        ],
    );
}

/// A large cluster's CPU: the sum over thousands of pods, wandering slowly
/// by a point or two around `level` (as the demo's at 2,000 pods), one
/// reading every 2 s for an hour.
fn wander(level: f64) -> Vec<f64> {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut x = 0.0;
    (0..1800)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let e = (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            x = 0.97 * x + 0.6 * e;
            level + x
        })
        .collect()
}

#[test]
fn a_cluster_cpu_that_wanders_a_point_or_two_is_not_an_anomaly() {
    let values = wander(50.0);
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    assert!(lo < 48.5 && hi > 51.5, "{lo}..{hi}");
    let noise = fired("cluster_cpu_percent", "ClusterCPUAnomaly", &values);
    assert!(noise.is_empty(), "{noise:#?}");
    // A node's worth of CPU more is still news.
    let stepped: Vec<f64> = values
        .iter()
        .enumerate()
        .map(|(i, v)| if i >= 900 { v + 8.0 } else { *v })
        .collect();
    let fired = fired("cluster_cpu_percent", "ClusterCPUAnomaly", &stepped);
    assert!(
        fired.iter().any(|(at, _, _)| (900..915).contains(at)),
        "{fired:#?}"
    );
}
