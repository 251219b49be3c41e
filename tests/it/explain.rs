//! The explainer through the `sentinel` binary: a case folder explained,
//! the scenario suite scored, and root-cause ranking on cases from the demo
//! shop, including with the onset given late.

use std::process::Command;

use sentinel_explain::rca;
use sentinel_model::Timestamp;
use sentinel_sim::rca as sim;

fn suite() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

#[test]
fn explain_prints_a_cited_cause_and_eval_scores_the_suite() {
    let bin = crate::support::binary("sentinel");
    let out = Command::new(&bin)
        .args(["explain", "--json"])
        .arg(suite().join("explain/28-oom-after-rollout"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let x: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(x["candidates"][0]["cause"], "oom_killed");
    assert_eq!(x["candidates"][0]["object"]["name"], "checkout");
    let hints = x["candidates"][0]["mitigation"][0].as_str().unwrap();
    assert!(
        hints.contains("Roll back to revision 1 (ghcr.io/acme/checkout:2.7.3)"),
        "{hints}"
    );

    let out = Command::new(&bin)
        .args(["eval", "explain", "--json"])
        .arg(suite().join("explain"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["cases"].as_u64().unwrap() >= 40);
    assert!(r["top1"].as_f64().unwrap() >= 0.9, "{}", r["top1"]);
    assert!(r["top3"].as_f64().unwrap() >= r["top1"].as_f64().unwrap());

    // A folder that is not a case is refused with a reason.
    let out = Command::new(&bin)
        .args(["explain"])
        .arg(suite())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no case.json"));
}

#[test]
fn root_causes_rank_high_even_when_the_onset_is_late() {
    let mut by_delay = Vec::new();
    for delay_s in [0, 60, 180] {
        let mut positions = Vec::new();
        for (i, _) in sim::SERVICES.iter().enumerate() {
            for fault in sim::Fault::ALL {
                let c = sim::case(i, fault, 7);
                let series = rca::parse_long_csv(&c.metrics_csv).unwrap();
                let ranked = rca::rank(&series, Timestamp((c.onset_s + delay_s) * 1000), 300_000);
                positions.push(
                    ranked
                        .iter()
                        .position(|r| r.service == c.root)
                        .map(|p| p + 1),
                );
            }
        }
        by_delay.push((delay_s, rca::score(&positions)));
    }
    for (delay, s) in &by_delay {
        assert!(
            s.top1 >= 0.75 && s.avg5 >= 0.9,
            "onset {delay} s late: {s:?}"
        );
    }
}

#[test]
fn rca_cli_prints_scores_as_json() {
    let dir = crate::support::tempdir("rca-cases");
    let bin = crate::support::binary("sentinel");
    let out = Command::new(&bin)
        .args(["eval", "rca-cases"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&bin)
        .args(["eval", "rca", "--json", "--onset-delay", "60"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["cases"], 40);
    for k in ["top1", "top3", "avg5"] {
        let v = r[k].as_f64().unwrap();
        assert!((0.5..=1.0).contains(&v), "{k} = {v}");
    }
}
