//! `sentinel replay FILE`, `sentinel history stats FILE` and `sentinel
//! history bundle FILE`: recorded history, with no network at all.

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
    /// Write one incident (or a time range) as a history file of its own,
    /// optionally redacted, for someone else to replay.
    Bundle(BundleArgs),
    /// Retention settings and usage; change them, and apply them now.
    Retention(RetentionArgs),
    /// The Kubernetes events a history kept (the API server keeps an hour).
    Events {
        file: PathBuf,
        #[arg(long, value_parser = parse_time)]
        from: Option<Timestamp>,
        #[arg(long, value_parser = parse_time)]
        to: Option<Timestamp>,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct RetentionArgs {
    file: PathBuf,
    /// Days of raw samples to keep.
    #[arg(long)]
    raw_days: Option<u32>,
    /// Days of one-minute rollups to keep.
    #[arg(long)]
    rollup_days: Option<u32>,
    /// The most the history may use, in MiB.
    #[arg(long)]
    budget_mib: Option<u64>,
    /// Apply the settings now (raw samples past their days become rollups).
    #[arg(long)]
    apply: bool,
    #[arg(long)]
    json: bool,
}

async fn retention(a: RetentionArgs) -> anyhow::Result<()> {
    let changing = a.raw_days.is_some() || a.rollup_days.is_some() || a.budget_mib.is_some();
    let store = if changing || a.apply {
        use sentinel_runtime::Clock;
        let now = sentinel_runtime::SystemClock.now();
        let opened = Store::open(&a.file, now).await?;
        if let Some(n) = opened.notice {
            eprintln!("{n}");
        }
        opened.store
    } else {
        Store::open_read_only(&a.file).await?
    };
    let mut r = store.retention().await?;
    if changing {
        r.raw_days = a.raw_days.unwrap_or(r.raw_days);
        r.rollup_days = a.rollup_days.unwrap_or(r.rollup_days);
        r.budget_mib = a.budget_mib.unwrap_or(r.budget_mib);
        r = store.set_retention(r).await?;
    }
    let applied = if a.apply {
        Some(store.enforce().await?)
    } else {
        None
    };
    let u = store.usage().await?;
    store.close().await;
    if a.json {
        println!(
            "{}",
            serde_json::json!({"retention": r, "usage": u, "applied": applied})
        );
    } else {
        println!(
            "keeps raw samples {} days, rollups {} days, within {} MiB; uses {} bytes ({} of raw samples in {} chunks, {} rollup minutes, {} incidents)",
            r.raw_days,
            r.rollup_days,
            r.budget_mib,
            u.used_bytes,
            u.raw_bytes,
            u.raw_chunks,
            u.rollup_minutes,
            u.incidents
        );
        if let Some(d) = applied {
            println!(
                "applied: {} chunks aged into rollups, {} more for the budget, {} rollup minutes deleted",
                d.aged_chunks, d.budget_chunks, d.rollups_deleted
            );
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct BundleArgs {
    file: PathBuf,
    /// The incident to bundle: from its opening (minus --lead) to its last change.
    #[arg(long, required_unless_present = "from", conflicts_with = "from")]
    incident: Option<String>,
    /// Or a time range (RFC 3339 or unix seconds).
    #[arg(long, value_parser = parse_time, requires = "to")]
    from: Option<Timestamp>,
    #[arg(long, value_parser = parse_time)]
    to: Option<Timestamp>,
    /// History before the incident the engine needs to warm up.
    #[arg(long, default_value = "15m", value_parser = crate::duration::parse)]
    lead: std::time::Duration,
    /// Replace identifiers (emails, IP addresses, UUIDs, secrets) and
    /// whatever --pattern matches with placeholders, the same value always
    /// with the same placeholder.
    #[arg(long)]
    redact: bool,
    /// A regular expression whose matches are redacted too (repeatable;
    /// implies --redact), e.g. a naming scheme of pods or hosts.
    #[arg(long = "pattern", value_name = "REGEX")]
    patterns: Vec<String>,
    /// The bundle to write (a new file).
    #[arg(long)]
    out: PathBuf,
}

async fn bundle(args: BundleArgs) -> anyhow::Result<()> {
    let store = Store::open_read_only(&args.file).await?;
    let lead = sentinel_model::Duration(i64::try_from(args.lead.as_millis()).unwrap_or(0));
    let (from, to) = match (&args.incident, args.from, args.to) {
        (Some(id), _, _) => {
            let row = store
                .incident(id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("{} holds no incident {id}", args.file.display()))?;
            (row.opened_at.saturating_sub(lead), row.updated_at)
        }
        (None, Some(f), Some(t)) => (f.saturating_sub(lead), t),
        _ => anyhow::bail!("give --incident ID, or --from and --to"),
    };
    anyhow::ensure!(from <= to, "--from is after --to");
    let redacting = args.redact || !args.patterns.is_empty();
    let mut scrubber = sentinel_explain::scrub::Scrubber::new(&args.patterns)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut redact = |s: &str| {
        if redacting {
            scrubber.scrub(s)
        } else {
            s.to_string()
        }
    };
    let stats = store.bundle(&args.out, from, to, &mut redact).await?;
    store.close().await;
    println!(
        "wrote {} ({} bytes): {} series, {} chunks, {} finding events, {} incidents, {} Kubernetes events from {} to {}{}",
        args.out.display(),
        stats.bytes,
        stats.series,
        stats.chunks,
        stats.findings,
        stats.incidents,
        stats.events,
        from.to_rfc3339(),
        to.to_rfc3339(),
        if redacting {
            format!(", {} identifiers redacted", scrubber.replaced())
        } else {
            String::new()
        }
    );
    Ok(())
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
        HistoryCommand::Bundle(args) => bundle(args).await,
        HistoryCommand::Retention(args) => retention(args).await,
        HistoryCommand::Events {
            file,
            from,
            to,
            limit,
            json,
        } => {
            let store = Store::open_read_only(&file).await?;
            let events = store
                .cluster_events(
                    from.unwrap_or(Timestamp(i64::MIN)),
                    to.unwrap_or(Timestamp(i64::MAX)),
                    limit,
                )
                .await?;
            store.close().await;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for e in events {
                let line = if json {
                    serde_json::to_string(&e)?
                } else {
                    format!(
                        "{}  {:<20} {}/{}  {}",
                        e.last_timestamp.to_rfc3339(),
                        e.reason,
                        e.involved_object.kind,
                        e.involved_object.name,
                        e.message
                    )
                };
                if writeln!(out, "{line}").is_err() {
                    break;
                }
            }
            Ok(())
        }
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
                if !s.sources.is_empty() {
                    println!("recorded from {}", s.sources.join(", "));
                }
            }
            Ok(())
        }
    }
}
