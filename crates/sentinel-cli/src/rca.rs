//! `sentinel eval rca DIR`: rank services on labelled fault cases and score
//! top-1 / top-3 / Avg@5; `sentinel eval rca-cases OUT` writes such cases
//! from the demo shop.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use sentinel_explain::{capture, rca};
use sentinel_model::Timestamp;
use sentinel_sim::rca as sim;

#[derive(Args)]
pub struct RcaArgs {
    /// A directory of case folders, each with metrics.csv and case.json.
    dir: PathBuf,
    /// Give the ranker the onset this many seconds late.
    #[arg(long, default_value_t = 0)]
    onset_delay: i64,
    /// How late an onset may be; the baseline ends this long before it.
    #[arg(long, default_value_t = 300)]
    guard: i64,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RcaCasesArgs {
    /// Where to write the case folders.
    out: PathBuf,
    /// Cases per (service, fault) pair.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
}

pub fn cases(args: RcaCasesArgs) -> anyhow::Result<()> {
    let mut n = 0;
    for seed in 1..=args.seeds {
        for (i, _) in sim::SERVICES.iter().enumerate() {
            for fault in sim::Fault::ALL {
                let c = sim::case(i, fault, seed);
                let dir = args.out.join(&c.name);
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                std::fs::write(dir.join("metrics.csv"), &c.metrics_csv)?;
                std::fs::write(dir.join("case.json"), &c.case_json)?;
                n += 1;
            }
        }
    }
    println!("{n} cases in {}", args.out.display());
    Ok(())
}

#[derive(serde::Serialize)]
struct Row {
    case: String,
    root_cause: String,
    ranking: Vec<String>,
    position: Option<usize>,
}

pub fn eval(args: RcaArgs) -> anyhow::Result<()> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&args.dir)
        .with_context(|| format!("cannot read {}", args.dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("case.json").is_file() && p.join("metrics.csv").is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        bail!(
            "{} holds no cases (folders with metrics.csv and case.json)",
            args.dir.display()
        );
    }
    let mut rows = Vec::new();
    for dir in &dirs {
        let case = std::fs::read_to_string(dir.join("case.json"))?;
        let onset =
            capture::parse_onset(&case).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        let text = std::fs::read_to_string(dir.join("metrics.csv"))?;
        let series = rca::parse_long_csv(&text)
            .map_err(|e| anyhow::anyhow!("{}/metrics.csv: {e}", dir.display()))?;
        let ranked = rca::rank(
            &series,
            Timestamp(onset.0 + args.onset_delay * 1000),
            args.guard * 1000,
        );
        // The label is read only after ranking.
        let v: serde_json::Value = serde_json::from_str(&case)?;
        let root = v
            .get("root_cause")
            .and_then(|r| r.as_str())
            .with_context(|| format!("{}: no root_cause", dir.display()))?
            .to_string();
        let position = ranked.iter().position(|r| r.service == root).map(|p| p + 1);
        rows.push(Row {
            case: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            root_cause: root,
            ranking: ranked.iter().take(5).map(|r| r.service.clone()).collect(),
            position,
        });
    }
    let s = rca::score(&rows.iter().map(|r| r.position).collect::<Vec<_>>());
    if args.json {
        let out = serde_json::json!({"cases": s.cases, "onset_delay_s": args.onset_delay, "top1": s.top1, "top3": s.top3, "avg5": s.avg5, "results": rows});
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for r in &rows {
            println!(
                "{:<28} root {:<16} rank {:<4} top: {}",
                r.case,
                r.root_cause,
                r.position.map(|p| p.to_string()).unwrap_or("-".into()),
                r.ranking.join(", ")
            );
        }
        println!(
            "\n{} cases, onset {} s late: top-1 {:.1}%, top-3 {:.1}%, Avg@5 {:.3}",
            s.cases,
            args.onset_delay,
            100.0 * s.top1,
            100.0 * s.top3,
            s.avg5
        );
    }
    Ok(())
}
