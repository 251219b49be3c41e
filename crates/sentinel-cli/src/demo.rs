//! `sentinel demo`: the demo cluster through the real runtime, printing the
//! same `Update` values the UI receives.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use sentinel_protocol::{PodQuery, Update};
use sentinel_runtime::{DemoConfig, Runtime};
use sentinel_sim::SimConfig;

#[derive(Args)]
pub struct DemoArgs {
    /// Seed of the simulated cluster; the same seed gives the same cluster.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of pods (40 to 10000).
    #[arg(long, default_value_t = sentinel_sim::DEFAULT_PODS)]
    pods: usize,
    /// How long to run, e.g. 30s or 2m: live polls, counted from the first
    /// one (after the backfill, however long that takes).
    #[arg(long, default_value = "30s", value_parser = crate::duration::parse)]
    duration: Duration,
    /// Poll interval of the demo source.
    #[arg(long, default_value = "2s", value_parser = crate::duration::parse)]
    interval: Duration,
    /// History generated before the first poll.
    #[arg(long, default_value = "15m", value_parser = crate::duration::parse)]
    backfill: Duration,
    /// Print one JSON `Update` per line (an overview, then a pods snapshot, per poll).
    #[arg(long)]
    json: bool,
    /// Record the engine's input and findings into this history file.
    #[arg(long)]
    db: Option<std::path::PathBuf>,
    /// Rule files added to the default pack (Sentinel's format, or
    /// Prometheus alerting rules: those Sentinel can evaluate are imported).
    #[arg(long = "rules", value_name = "FILE")]
    rules: Vec<std::path::PathBuf>,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (sentinel_sim::DEFAULT_PODS..=sentinel_sim::MAX_PODS).contains(&args.pods),
        "--pods must be between {} and {}",
        sentinel_sim::DEFAULT_PODS,
        sentinel_sim::MAX_PODS
    );
    anyhow::ensure!(
        args.interval >= Duration::from_millis(100),
        "--interval must be at least 100ms"
    );
    let config = DemoConfig {
        sim: SimConfig {
            seed: args.seed,
            pods: args.pods,
        },
        interval: args.interval,
        backfill: sentinel_model::Duration(i64::try_from(args.backfill.as_millis())?),
        ..DemoConfig::default()
    };
    let rules = crate::rules::with_default_pack(&args.rules)?;
    let mut builder = Runtime::demo(config).rules(rules);
    if let Some(path) = &args.db {
        let now = sentinel_runtime::Clock::now(&sentinel_runtime::SystemClock);
        let opened = sentinel_store::Store::open(path, now).await?;
        if let Some(notice) = opened.notice {
            eprintln!("{notice}");
            builder = builder.notice(sentinel_model::Severity::Warning, notice);
        }
        builder = builder.history(opened.store);
    }
    let rt = builder.start();
    let mut rx = rt.subscribe();
    // The run lasts `duration` from the first live poll: a backfill slowed
    // down (a busy machine, many pods) does not eat into it.
    let started = tokio::time::Instant::now();
    let mut deadline = None;
    let mut last_data = None;
    let stdout = std::io::stdout();
    let mut result = Ok(());
    loop {
        let until = deadline.unwrap_or(started + FIRST_POLL_WITHIN + args.duration);
        tokio::select! {
            changed = rx.changed() => {
                if changed.is_err() { break; }
            }
            _ = tokio::time::sleep_until(until) => {
                if deadline.is_none() {
                    result = Err(anyhow::anyhow!(
                        "no live poll within {}s of the start (the backfill did not finish)",
                        (FIRST_POLL_WITHIN + args.duration).as_secs()
                    ));
                }
                break;
            }
            _ = tokio::signal::ctrl_c() => break,
        }
        let snap = rx.borrow_and_update().clone();
        // One line pair per poll: wait for new data, not for every clock tick.
        if snap.data_at.is_none() || snap.data_at == last_data {
            continue;
        }
        deadline.get_or_insert_with(|| tokio::time::Instant::now() + args.duration);
        last_data = snap.data_at;
        let mut out = stdout.lock();
        let written = write_snapshot(&mut out, &snap, args.json);
        // A closed pipe (`| head`) ends the run quietly.
        if written.is_err() || out.flush().is_err() {
            break;
        }
    }
    rt.shutdown(Duration::from_secs(30)).await;
    result
}

/// How long the backfill may take before the first live poll.
const FIRST_POLL_WITHIN: Duration = Duration::from_secs(300);

/// One poll as the UI would get it: with `json`, an `Update::Overview` line
/// and an `Update::Pods` line (every pod); else one summary line.
pub(crate) fn write_snapshot(
    out: &mut impl Write,
    snap: &sentinel_runtime::Snapshot,
    json: bool,
) -> anyhow::Result<()> {
    let overview = sentinel_service::overview(snap, None);
    if json {
        let pods = sentinel_service::list_pods(
            snap,
            &PodQuery {
                limit: 0,
                ..PodQuery::default()
            },
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        writeln!(
            out,
            "{}",
            serde_json::to_string(&Update::Overview(overview))?
        )?;
        writeln!(out, "{}", serde_json::to_string(&Update::Pods(pods))?)?;
    } else {
        let c = &overview.cards;
        writeln!(
            out,
            "{}  pods {} running / {} pending / {} failed  cpu {:.1}%  mem {:.1}%  req/s {:.1}  errors {:.2}%  alerts {}",
            overview.at.to_rfc3339(),
            c.pods_running,
            c.pods_pending,
            c.pods_failed,
            c.cpu_percent.unwrap_or(f64::NAN),
            c.memory_percent.unwrap_or(f64::NAN),
            c.request_rate.unwrap_or(f64::NAN),
            c.error_rate_percent.unwrap_or(f64::NAN),
            overview.alerts_total
        )?;
    }
    Ok(())
}
