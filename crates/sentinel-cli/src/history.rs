//! `sentinel replay FILE` and `sentinel history stats FILE`: recorded
//! history, with no network at all.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use sentinel_model::Timestamp;
use sentinel_runtime::replay::Replay;
use sentinel_store::Store;

#[derive(Args)]
pub struct ReplayArgs {
    /// A history file (`--db` of `demo` or `watch`) or an exported bundle.
    file: PathBuf,
    /// Print findings reported from this time on (RFC 3339 or unix seconds).
    #[arg(long, value_parser = parse_time)]
    from: Option<Timestamp>,
    /// Stop after this time.
    #[arg(long, value_parser = parse_time)]
    to: Option<Timestamp>,
    /// `max` (as fast as possible) or a multiple of real time: 1, 10, 60.
    #[arg(long, default_value = "max")]
    speed: String,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum HistoryCommand {
    /// Sizes of a history: bytes, samples, bytes per sample, time span.
    Stats {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    if let Ok(secs) = s.parse::<f64>() {
        return Ok(Timestamp((secs * 1000.0).round() as i64));
    }
    Timestamp::parse(s).ok_or_else(|| format!("{s:?} is neither RFC 3339 (UTC) nor unix seconds"))
}

pub async fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    let speed = match args.speed.as_str() {
        "max" => None,
        s => {
            let x: f64 = s
                .parse()
                .map_err(|_| anyhow::anyhow!("--speed must be max or a number, not {s:?}"))?;
            anyhow::ensure!(x > 0.0, "--speed must be positive");
            Some(x)
        }
    };
    let store = Store::open_read_only(&args.file).await?;
    let mut replay = Replay::open(&store, sentinel_detect::default_pack()).await?;
    let stdout = std::io::stdout();
    let mut prev: Option<Timestamp> = None;
    let (mut steps, mut printed) = (0u64, 0u64);
    while let Some(step) = replay.step().await? {
        steps += 1;
        let Some(at) = step.at else { continue };
        if args.to.is_some_and(|to| at > to) {
            break;
        }
        if let (Some(x), Some(p)) = (speed, prev)
            && args.from.is_none_or(|from| at >= from)
        {
            let wait = (at.millis() - p.millis()).max(0) as f64 / x;
            tokio::time::sleep(std::time::Duration::from_millis(wait.min(60_000.0) as u64)).await;
        }
        prev = Some(at);
        let mut out = stdout.lock();
        for f in step.findings {
            if args.from.is_some_and(|from| f.reported_at() < from) {
                continue;
            }
            printed += 1;
            let line = if args.json {
                serde_json::to_string(&serde_json::json!({"type": "finding", "finding": f}))?
            } else {
                format!(
                    "{}  {:<9} {:<8} {}  {}",
                    f.reported_at().to_rfc3339(),
                    format!("{:?}", f.state).to_lowercase(),
                    f.severity.as_str(),
                    f.rule,
                    f.summary
                )
            };
            if writeln!(out, "{line}").is_err() {
                return Ok(());
            }
        }
    }
    let summary = serde_json::json!({
        "type": "end",
        "steps": steps,
        "readings": replay.readings(),
        "findings": printed,
    });
    if args.json {
        println!("{summary}");
    } else {
        println!(
            "replayed {steps} steps, {} readings, {printed} findings",
            replay.readings()
        );
    }
    Ok(())
}

pub async fn run(cmd: HistoryCommand) -> anyhow::Result<()> {
    match cmd {
        HistoryCommand::Stats { file, json } => {
            let store = Store::open_read_only(&file).await?;
            let s = store.stats().await?;
            if json {
                println!("{}", serde_json::to_string(&s)?);
            } else {
                println!(
                    "{}: {} bytes, {} series, {} samples in {} chunks ({:.2} bytes per sample, {:.2} of it sample data), {:.0} s, {} findings reported",
                    file.display(),
                    s.bytes,
                    s.series,
                    s.samples,
                    s.chunks,
                    s.bytes_per_sample,
                    if s.samples > 0 {
                        s.sample_bytes as f64 / s.samples as f64
                    } else {
                        0.0
                    },
                    s.span_seconds,
                    s.findings_reported
                );
            }
            Ok(())
        }
    }
}
