//! The explainer over the labelled scenario suite in `tests/scenarios`:
//! accuracy, cited sentences, determinism, and silence on a healthy cluster.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use sentinel_explain::{Capture, Explanation, capture, explain, score};

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

fn load(dir: &Path) -> Capture {
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
    let onset = capture::parse_onset(&read("case.json").unwrap()).unwrap();
    Capture::parse(
        onset,
        read("objects.json").as_deref(),
        read("metrics.csv").as_deref(),
        read("logs.jsonl").as_deref(),
    )
    .unwrap()
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(suite().join("explain"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn check_cited(case: &Path, x: &Explanation) {
    for s in x.sentences() {
        assert!(
            !s.cites.is_empty(),
            "{}: sentence without evidence: {}",
            case.display(),
            s.text
        );
        for id in &s.cites {
            assert!(
                x.evidence.iter().any(|e| &e.id == id),
                "{}: sentence cites {id}, which is not stored: {}",
                case.display(),
                s.text
            );
        }
    }
}

#[test]
fn the_suite_is_explained_with_cited_sentences() {
    let cases = cases();
    assert!(
        cases.len() >= 40,
        "the suite holds {} scenarios",
        cases.len()
    );
    let mut ranks = Vec::new();
    let mut families = std::collections::BTreeSet::new();
    for case in &cases {
        let x = explain(&load(case));
        check_cited(case, &x);
        let want = score::parse_expected(&std::fs::read_to_string(case.join("case.json")).unwrap())
            .unwrap();
        let cause = sentinel_explain::catalogue::get(&want.cause).unwrap_or_else(|| {
            panic!("{}: {} is not in the catalogue", case.display(), want.cause)
        });
        families.insert(format!("{:?}", cause.family));
        let r = score::rank(&x, &want);
        if r.cause_and_object != Some(1) {
            eprintln!(
                "{}: expected {} on {:?}, ranked {:?}",
                case.display(),
                want.cause,
                want.object,
                r
            );
        }
        ranks.push(r);
        if x.confident {
            assert!(
                !x.top().unwrap().mitigation.is_empty(),
                "{}: no mitigation hint",
                case.display()
            );
        }
    }
    let acc = score::accuracy(&ranks);
    assert_eq!(
        families.len(),
        7,
        "every failure family is covered: {families:?}"
    );
    assert!(acc.cause_top1 >= 0.9, "{acc:?}");
    assert!(acc.object_top1 >= 0.9, "{acc:?}");
}

#[test]
fn explanations_are_deterministic() {
    for case in cases().iter().step_by(7) {
        let a = serde_json::to_string(&explain(&load(case))).unwrap();
        let b = serde_json::to_string(&explain(&load(case))).unwrap();
        assert_eq!(a, b, "{}", case.display());
    }
}

#[test]
fn a_healthy_cluster_gets_no_cause() {
    let x = explain(&load(&suite().join("healthy")));
    assert!(
        !x.confident,
        "named a cause on a healthy cluster: {:?}",
        x.top()
    );
    assert!(!x.gaps.is_empty());
    check_cited(Path::new("healthy"), &x);
}

#[test]
fn a_capture_with_no_evidence_says_so() {
    let cap = Capture::parse(
        sentinel_model::Timestamp(0),
        Some(r#"{"kind":"List","items":[]}"#),
        None,
        None,
    )
    .unwrap();
    let x = explain(&cap);
    assert!(!x.confident);
    assert!(x.candidates.is_empty());
    assert!(
        x.summary.is_empty(),
        "no sentence may stand without evidence"
    );
    assert!(x.gaps.iter().any(|g| g.contains("not enough")));
}

/// Readings that begin as the trouble did (the app started mid-incident)
/// hold no baseline: the explanation says so, and when, instead of only
/// that no rule matched.
#[test]
fn readings_that_begin_at_the_trouble_say_why_nothing_is_named() {
    let onset = 1_790_000_000_i64;
    let capture = |from: i64| {
        let mut csv = String::from("timestamp,series,value\n");
        for t in (from..onset + 120).step_by(15) {
            let v = if t >= onset - 20 { 2.0 } else { 0.1 };
            csv += &format!("{t},\"request_p95_seconds{{pod=\"\"email-1\"\"}}\",{v}\n");
        }
        Capture::parse(
            sentinel_model::Timestamp(onset * 1000),
            Some(r#"{"kind":"List","items":[]}"#),
            Some(&csv),
            None,
        )
        .unwrap()
    };
    let x = explain(&capture(onset - 40));
    assert!(x.candidates.is_empty());
    let said = x
        .gaps
        .iter()
        .find(|g| g.contains("holds 3 readings from before"))
        .unwrap_or_else(|| panic!("{:#?}", x.gaps));
    assert!(
        said.contains("the earliest reading is 2026-09-21 14:12:40.000 UTC (40s before the onset)"),
        "{said}"
    );
    let x = explain(&capture(onset - 900));
    assert!(
        x.gaps.iter().all(|g| !g.contains("holds 3 readings")),
        "{:#?}",
        x.gaps
    );
}
