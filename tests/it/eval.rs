//! `sentinel eval nab` and `sentinel bench detect`, run as a user would, on
//! NAB-shaped data generated here (the real corpus stays outside the repository).

use std::path::Path;
use std::process::Command;

fn sentinel(args: &[&str]) -> std::process::Output {
    Command::new(crate::support::binary("sentinel"))
        .args(args)
        .output()
        .expect("run sentinel")
}

/// Two files in NAB's layout: noise with a level shift inside a labelled
/// window, and plain noise with no window.
fn corpus(dir: &Path) {
    let mut state = 7u64;
    let mut noise = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) as f64 / (1u64 << 31) as f64 - 0.5
    };
    std::fs::create_dir_all(dir.join("data/synthetic")).unwrap();
    std::fs::create_dir_all(dir.join("labels")).unwrap();
    let stamp = |i: usize| {
        format!(
            "2014-04-{:02} {:02}:{:02}:00",
            1 + i / 288,
            (i / 12) % 24,
            (i % 12) * 5
        )
    };
    let mut shift = String::from("timestamp,value\n");
    let mut flat = String::from("timestamp,value\n");
    for i in 0..2000 {
        let level = if (1500..1600).contains(&i) {
            60.0
        } else {
            10.0
        };
        shift.push_str(&format!("{},{:.3}\n", stamp(i), level + noise()));
        flat.push_str(&format!("{},{:.3}\n", stamp(i), 10.0 + noise()));
    }
    std::fs::write(dir.join("data/synthetic/shift.csv"), shift).unwrap();
    std::fs::write(dir.join("data/synthetic/flat.csv"), flat).unwrap();
    let windows = format!(
        r#"{{"synthetic/shift.csv": [["{}.000000", "{}.000000"]], "synthetic/flat.csv": []}}"#,
        stamp(1450),
        stamp(1550)
    );
    std::fs::write(dir.join("labels/combined_windows.json"), windows).unwrap();
}

#[test]
fn eval_nab_scores_detectors_and_writes_results_in_nab_layout() {
    let dir = std::env::temp_dir().join(format!("sentinel-nab-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    corpus(&dir);
    let out_dir = dir.join("results");
    let d = dir.to_str().unwrap();
    let out = sentinel(&[
        "eval",
        "nab",
        d,
        "--json",
        "--results",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["detector"], "likelihood", "the shipped default");
    assert_eq!(json["windows"], 1);
    let profiles = json["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 3);
    for p in profiles {
        assert_eq!(p["total"]["detected"], 1, "the shift is found");
    }
    // Found half-way into its window (worth ~0.86), less a few new-extreme
    // false positives on the noise: clearly better than never firing.
    let standard = profiles[0]["normalized"].as_f64().unwrap();
    assert!(standard > 40.0, "{standard}");
    // One row per input row, NAB's columns, scores in [0, 1], labels from the windows.
    let file = out_dir.join("likelihood/synthetic/likelihood_shift.csv");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("timestamp,value,anomaly_score,label"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2000);
    assert!(rows.iter().all(|r| r.len() == 4));
    assert!(
        rows.iter()
            .all(|r| (0.0..=1.0).contains(&r[2].parse::<f64>().unwrap()))
    );
    assert_eq!(rows.iter().filter(|r| r[3] == "1").count(), 101);
    assert!(
        out_dir
            .join("likelihood/synthetic/likelihood_flat.csv")
            .exists()
    );

    // The null detector scores 0; a plain z-score is also available.
    let out = sentinel(&[
        "eval",
        "nab",
        d,
        "--detector",
        "null",
        "--profile",
        "standard",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().find(|l| l.starts_with("standard")).unwrap();
    assert_eq!(line.split_whitespace().nth(1), Some("0.00"), "{text}");
    assert!(
        sentinel(&["eval", "nab", d, "--detector", "zscore"])
            .status
            .success()
    );

    // Mistakes are named.
    let out = sentinel(&["eval", "nab", d, "--detector", "magic"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown detector \"magic\""));
    let out = sentinel(&["eval", "nab", d, "--detector", "likelihood:window=0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"window=0\": out of bounds"));
    let out = sentinel(&["eval", "nab", "/nonexistent"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("combined_windows.json"));
    std::fs::write(
        dir.join("data/synthetic/flat.csv"),
        "timestamp,value\nyesterday,1\n",
    )
    .unwrap();
    let out = sentinel(&["eval", "nab", d]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("flat.csv: line 2: bad timestamp"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_detect_prints_the_numbers_it_promises() {
    let out = sentinel(&[
        "bench",
        "detect",
        "--series",
        "50",
        "--samples",
        "400",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in [
        "samples_per_sec_per_core",
        "sum_loop_samples_per_sec",
        "ratio_to_sum_loop",
        "floor_samples_per_sec",
        "floor_ratio_to_sum_loop",
    ] {
        assert!(v[k].as_f64().is_some_and(|x| x > 0.0), "{k}: {v}");
    }
    // The workload makes rules fire, so the slow path is measured too.
    assert!(v["findings"].as_u64().is_some_and(|n| n > 0), "{v}");
}
