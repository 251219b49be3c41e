//! The headless `sentinel` binary, run as a user would.

use std::process::Command;

use sentinel_protocol::Update;

/// What `sentinel demo` with `args` printed, once it exited successfully.
fn demo(args: &[&str]) -> String {
    let out = Command::new(crate::support::binary("sentinel"))
        .arg("demo")
        .args(args)
        .output()
        .expect("run sentinel");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn demo_json_prints_overviews_and_pod_snapshots() {
    let printed = demo(&[
        "--seed",
        "4",
        "--duration",
        "3s",
        "--interval",
        "300ms",
        "--backfill",
        "45s",
        "--json",
    ]);
    let updates: Vec<Update> = printed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not an Update ({e}): {l}")))
        .collect();
    let overviews = updates
        .iter()
        .filter(|u| matches!(u, Update::Overview(_)))
        .count();
    assert!(
        overviews >= 5,
        "one per poll over 3 s at 300 ms, got {overviews}"
    );
    let Some(Update::Pods(pods)) = updates.iter().rev().find(|u| matches!(u, Update::Pods(_)))
    else {
        panic!("no pods snapshot");
    };
    assert_eq!(pods.rows.len(), 40, "the snapshot lists every pod");
    assert!(
        pods.rows
            .iter()
            .all(|r| !r.namespace.is_empty() && !r.name.is_empty() && r.node.is_some())
    );
}

/// `--duration` counts live polls from the first one: a backfill that
/// takes longer than the run (two hours of history here, several seconds
/// on a busy machine) does not leave it with nothing to show.
#[test]
fn the_demos_duration_counts_from_its_first_live_poll() {
    let printed = demo(&[
        "--duration",
        "1s",
        "--interval",
        "300ms",
        "--backfill",
        "2h",
    ]);
    let polls = printed.lines().count();
    assert!(
        polls >= 2,
        "one line per live poll over 1 s at 300 ms, got {polls}"
    );
}

#[test]
fn every_subcommand_has_help_and_bad_flags_fail_clearly() {
    let bin = crate::support::binary("sentinel");
    for args in [&["--help"][..], &["demo", "--help"], &["bench", "--help"]] {
        let out = Command::new(&bin).args(args).output().unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
    }
    let out = Command::new(&bin)
        .args(["demo", "--pods", "5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--pods must be between 40 and 10000"));
    let out = Command::new(&bin)
        .args(["demo", "--duration", "soon"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a duration"));
}
