//! `sentinel explain CASE` and `sentinel eval explain DIR`: the explainer on
//! case folders (`objects.json`, `metrics.csv`, `logs.jsonl`, `case.json`),
//! the format a capture from a real cluster takes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use sentinel_explain::{Capture, Explanation, catalogue, explain, score};

#[derive(Args)]
pub struct ExplainArgs {
    /// A case folder (or a directory holding `case.json`).
    case: Option<PathBuf>,
    /// Print the explanation as JSON.
    #[arg(long)]
    json: bool,
    /// Print the catalogue of causes (Markdown) instead.
    #[arg(long, conflicts_with = "case")]
    catalogue: bool,
}

#[derive(Args)]
pub struct EvalExplainArgs {
    /// A directory of case folders.
    dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Read a case folder into a capture. `case.json` gives the onset only.
pub fn load(dir: &Path) -> anyhow::Result<Capture> {
    Ok(sentinel_service::load_case(dir)?)
}

pub fn run(args: ExplainArgs) -> anyhow::Result<()> {
    if args.catalogue {
        print!("{}", catalogue::markdown());
        return Ok(());
    }
    let dir = args
        .case
        .context("name a case folder (or pass --catalogue)")?;
    let cap = load(&dir)?;
    let x = explain(&cap);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&x)?);
    } else {
        print!("{}", x.render());
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct CaseResult {
    case: String,
    expected: score::Expected,
    predicted: Option<String>,
    object: Option<String>,
    ranks: score::Ranks,
    millis: f64,
}

pub fn eval(args: EvalExplainArgs) -> anyhow::Result<()> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&args.dir)
        .with_context(|| format!("cannot read {}", args.dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        bail!(
            "{} holds no case folders (sub-folders with case.json)",
            args.dir.display()
        );
    }
    let mut results = Vec::with_capacity(dirs.len());
    for dir in &dirs {
        let cap = load(dir)?;
        let t = Instant::now();
        let x: Explanation = explain(&cap);
        let millis = t.elapsed().as_secs_f64() * 1000.0;
        // Only now, with the ranking done, is the label read.
        let text = std::fs::read_to_string(dir.join("case.json"))?;
        let expected = score::parse_expected(&text)
            .map_err(|e| anyhow::anyhow!("{}: case.json: {e}", dir.display()))?;
        let ranks = score::rank(&x, &expected);
        results.push(CaseResult {
            case: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            expected,
            predicted: x.top().map(|c| c.cause.clone()),
            object: x.top().map(|c| c.object.to_string()),
            ranks,
            millis,
        });
    }
    let ranks: Vec<score::Ranks> = results.iter().map(|r| r.ranks).collect();
    let acc = score::accuracy(&ranks);
    let mut ms: Vec<f64> = results.iter().map(|r| r.millis).collect();
    ms.sort_by(f64::total_cmp);
    let p50 = ms[ms.len() / 2];
    let max = ms.last().copied().unwrap_or(0.0);
    if args.json {
        let out = serde_json::json!({
            "cases": acc.cases,
            "top1": acc.cause_top1,
            "top3": acc.cause_top3,
            "object_top1": acc.object_top1,
            "object_top3": acc.object_top3,
            "latency_ms": {"p50": p50, "max": max},
            "results": results,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    for r in &results {
        let mark = if r.ranks.cause_and_object == Some(1) {
            "ok  "
        } else if r.ranks.cause == Some(1) {
            "obj "
        } else {
            "MISS"
        };
        println!(
            "{mark} {:<40} expected {:<34} got {:<34} {}",
            r.case,
            r.expected.cause,
            r.predicted.as_deref().unwrap_or("-"),
            r.object.as_deref().unwrap_or("-")
        );
    }
    println!(
        "\n{} cases: cause top-1 {:.1}%, top-3 {:.1}%; cause and object top-1 {:.1}%, top-3 {:.1}%; explanation p50 {:.2} ms, max {:.2} ms",
        acc.cases,
        100.0 * acc.cause_top1,
        100.0 * acc.cause_top3,
        100.0 * acc.object_top1,
        100.0 * acc.object_top3,
        p50,
        max
    );
    Ok(())
}
