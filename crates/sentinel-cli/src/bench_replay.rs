//! `sentinel bench replay`: how much faster than real time a recorded
//! history replays through the engine. Writes a history of `--series`
//! series over `--hours` (pods' memory ratio, readiness and restarts, with
//! a memory incident now and then, so the default rules have work), then
//! replays it at full speed from the file.

use std::time::{Duration, Instant};

use clap::Args;
use sentinel_model::{SeriesKey, Timestamp};
use sentinel_store::{Record, Recorder, StepKind, Store};

#[derive(Args)]
pub struct ReplayArgs {
    #[arg(long, default_value_t = 5000)]
    series: usize,
    #[arg(long, default_value_t = 24)]
    hours: i64,
    /// The recording's interval.
    #[arg(long, default_value = "15s", value_parser = crate::duration::parse)]
    step: Duration,
    #[arg(long)]
    json: bool,
}

/// A small deterministic generator (xorshift).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.series >= 3 && args.hours >= 1,
        "--series ≥ 3, --hours ≥ 1"
    );
    let dir = std::env::temp_dir().join(format!("sentinel-bench-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("history.db");
    let step_ms = i64::try_from(args.step.as_millis())
        .unwrap_or(15_000)
        .max(1000);
    let start = Timestamp(1_790_000_000_000);
    let steps = args.hours * 3_600_000 / step_ms;

    // Write the history.
    let began = Instant::now();
    let opened = Store::open(&path, start).await?;
    let store = opened.store;
    let mut rec = Recorder::new(store.cursor().await?);
    rec.record(Record::Step {
        at: start,
        kind: StepKind::Reset,
    });
    let pods = args.series / 3;
    for i in 0..pods {
        let (ns, pod) = (format!("ns-{}", i % 20), format!("pod-{i}"));
        let labels = [("namespace", ns.as_str()), ("pod", pod.as_str())];
        for (j, metric) in [
            "pod_memory_usage_ratio",
            "pod_ready",
            "pod_container_restarts_total",
        ]
        .iter()
        .enumerate()
        {
            rec.record(Record::Define {
                handle: u32::try_from(i * 3 + j)?,
                key: SeriesKey::new(metric, labels),
            });
        }
    }
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let mut memory: Vec<f64> = (0..pods).map(|_| 0.3 + 0.3 * noise.next()).collect();
    let mut restarts = vec![0u32; pods];
    let mut samples = 0u64;
    for s in 0..steps {
        let at = Timestamp(start.millis() + s * step_ms);
        for i in 0..pods {
            // A random walk, with a leak on one pod in a hundred for an hour a day.
            let leak = i % 100 == 7 && (s * step_ms / 3_600_000) % 24 == (i as i64 / 100) % 24;
            memory[i] = (memory[i] + 0.01 * (noise.next() - 0.5) + if leak { 0.002 } else { 0.0 })
                .clamp(0.05, 0.99);
            if memory[i] > 0.97 {
                restarts[i] += 1;
                memory[i] = 0.3;
            }
            let h = u32::try_from(i * 3)?;
            for (k, v) in [memory[i], 1.0, f64::from(restarts[i])]
                .into_iter()
                .enumerate()
            {
                rec.record(Record::Sample {
                    handle: h + k as u32,
                    at,
                    value: v,
                });
            }
            samples += 3;
        }
        rec.record(Record::Step {
            at,
            kind: StepKind::Feed,
        });
        // A transaction per simulated ten minutes, as the writer batches.
        if s % (600_000 / step_ms).max(1) == 0 {
            store.write(&rec.take(false)).await?;
        }
    }
    store.write(&rec.take(true)).await?;
    store.close().await;
    let wrote = began.elapsed();

    // Replay it.
    let store = Store::open_read_only(&path).await?;
    let began = Instant::now();
    let mut replay =
        sentinel_runtime::replay::Replay::open(&store, sentinel_detect::default_pack()).await?;
    let mut findings = 0usize;
    while let Some(step) = replay.step().await? {
        findings += step.findings.len();
    }
    let took = began.elapsed().as_secs_f64();
    let readings = replay.readings();
    let end = replay.fed_to();

    // Again with checkpoints every half hour, then seek back to the middle
    // and forward to the end (what the scrubber does).
    let began = Instant::now();
    let mut replay =
        sentinel_runtime::replay::Replay::open(&store, sentinel_detect::default_pack())
            .await?
            .with_checkpoints(sentinel_model::Duration::from_mins(30));
    while replay.step().await?.is_some() {}
    let with_checkpoints = began.elapsed().as_secs_f64();
    let checkpoints = replay.checkpoints();
    let (mut seek_back, mut seek_end) = (0.0, 0.0);
    if let Some(end) = end {
        let middle = end.saturating_sub(sentinel_model::Duration::from_mins(args.hours * 30));
        let t = Instant::now();
        replay.seek(middle).await?;
        seek_back = t.elapsed().as_secs_f64();
        let t = Instant::now();
        replay.seek(end).await?;
        seek_end = t.elapsed().as_secs_f64();
    }
    drop(replay);
    store.close().await;
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());

    // Retention: one-minute rollups of the first 12 hours, then a budget.
    let store = Store::open(&path, start).await?.store;
    // "Now" is the newest sample, so with a day of raw retention nothing
    // ages: a sample 12 hours past the end ages the first half.
    store
        .set_retention(sentinel_store::Retention {
            raw_days: 1,
            rollup_days: 90,
            budget_mib: 1 << 20,
        })
        .await?;
    let t = Instant::now();
    let aged = age_half(&store, start, args.hours).await?;
    let rollup_seconds = t.elapsed().as_secs_f64();
    let rolled = store.usage().await?;
    // Then a budget half what the file took: the oldest go until it fits.
    let budget = (bytes / 2 / (1 << 20)).max(16);
    store
        .set_retention(sentinel_store::Retention {
            budget_mib: budget,
            ..sentinel_store::Retention::default()
        })
        .await?;
    let t = Instant::now();
    let enforced = store.enforce().await?;
    let enforce_seconds = t.elapsed().as_secs_f64();
    let used_after = store.usage().await?.used_bytes;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    let span = (args.hours * 3600) as f64;
    let report = serde_json::json!({
        "series": pods * 3,
        "hours": args.hours,
        "samples_written": samples,
        "write_seconds": wrote.as_secs_f64(),
        "file_bytes": bytes,
        "readings_replayed": readings,
        "findings": findings,
        "replay_seconds": took,
        "readings_per_sec": readings as f64 / took,
        "times_real_time": span / took,
        "replay_with_checkpoints_seconds": with_checkpoints,
        "checkpoints": checkpoints,
        "seek_back_to_middle_seconds": seek_back,
        "seek_forward_to_end_seconds": seek_end,
        "budget_mib": budget,
        "budget_chunks_rolled_up": enforced.budget_chunks,
        "budget_enforce_seconds": enforce_seconds,
        "used_bytes_after_budget": used_after,
        "chunks_aged_into_rollups": aged.aged_chunks,
        "rollup_seconds": rollup_seconds,
        "rollup_minutes": rolled.rollup_minutes,
        "used_bytes_after_rollups": rolled.used_bytes,
        "raw_bytes_after_rollups": rolled.raw_bytes,
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "{} series × {} h ({samples} samples, {bytes} bytes, written in {:.1} s): replayed {readings} readings and {findings} findings in {took:.2} s, {:.1} M readings/s, {:.0}× real time",
            pods * 3,
            args.hours,
            wrote.as_secs_f64(),
            readings as f64 / took / 1e6,
            span / took
        );
        println!(
            "with {checkpoints} checkpoints: replayed in {with_checkpoints:.2} s; seek back to the middle {seek_back:.2} s, forward to the end {seek_end:.2} s"
        );
        println!(
            "a {budget} MiB budget: {} oldest chunks dropped in {enforce_seconds:.2} s, {used_after} bytes used after",
            enforced.budget_chunks
        );
        println!(
            "raw retention: {} chunks aged into {} one-minute rollups in {rollup_seconds:.2} s; {} bytes used after ({} of raw samples)",
            aged.aged_chunks, rolled.rollup_minutes, rolled.used_bytes, rolled.raw_bytes
        );
    }
    Ok(())
}

/// Writes one sample `hours + 12` hours after `start` (so a day's raw
/// retention ages what is older than 12 hours) and applies retention.
async fn age_half(
    store: &Store,
    start: Timestamp,
    hours: i64,
) -> anyhow::Result<sentinel_store::Enforced> {
    let mut rec = Recorder::new(store.cursor().await?);
    rec.record(Record::Define {
        handle: 0,
        key: sentinel_model::SeriesKey::new("bench_clock", []),
    });
    rec.record(Record::Sample {
        handle: 0,
        at: Timestamp(start.millis() + (hours + 12) * 3_600_000),
        value: 1.0,
    });
    store.write(&rec.take(true)).await?;
    Ok(store.enforce().await?)
}
