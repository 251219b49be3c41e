//! `sentinel bench storage DB`: bytes per sample of a recorded history in
//! Sentinel's store and, for the very same samples, in a Prometheus TSDB
//! (written by `promtool tsdb create-blocks-from openmetrics`), in one run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use sentinel_model::SeriesKey;
use sentinel_store::{Input, Store};

#[derive(Args)]
pub struct StorageArgs {
    /// A history written by `sentinel demo --db` or `sentinel watch --db`.
    db: PathBuf,
    /// Where to write the OpenMetrics export and the blocks (default: a
    /// folder in the temp dir, removed afterwards).
    #[arg(long)]
    work: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Every recorded sample, per series in time order.
async fn samples(store: &Store) -> anyhow::Result<BTreeMap<SeriesKey, Vec<(i64, f64)>>> {
    let mut reader = store.input().await?;
    let mut by_id: BTreeMap<i64, Vec<(i64, f64)>> = BTreeMap::new();
    while let Some(step) = reader.next().await? {
        if let Input::Feed { at, readings, .. } = step {
            for (id, v) in readings {
                let s = by_id.entry(id).or_default();
                // One sample per series and instant, in order (as a TSDB keeps them).
                if s.last().is_none_or(|(t, _)| *t < at.millis()) {
                    s.push((at.millis(), v));
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    for (id, s) in by_id {
        if let Some(key) = reader.key(id) {
            out.insert(key.clone(), s);
        }
    }
    Ok(out)
}

/// The samples as OpenMetrics, families together, `# EOF` last.
fn openmetrics(series: &BTreeMap<SeriesKey, Vec<(i64, f64)>>) -> String {
    let mut out = String::new();
    for (key, samples) in series {
        let mut name = key.metric.clone();
        name.push('{');
        for (i, (k, v)) in key.labels.iter().enumerate() {
            if i > 0 {
                name.push(',');
            }
            let _ = write!(name, "{k}=\"{}\"", escape(v));
        }
        name.push('}');
        for (t, v) in samples {
            let _ = writeln!(
                out,
                "{name} {} {}.{:03}",
                sentinel_sim::exposition::fmt_value(*v),
                t / 1000,
                t % 1000
            );
        }
    }
    out.push_str("# EOF\n");
    out
}

/// Total bytes under `dir`, and those of chunk files alone.
fn sizes(dir: &Path) -> (u64, u64) {
    let (mut all, mut chunks) = (0, 0);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            let (a, c) = sizes(&p);
            all += a;
            chunks += if p.file_name().is_some_and(|n| n == "chunks") {
                a
            } else {
                c
            };
        } else if let Ok(m) = e.metadata() {
            all += m.len();
        }
    }
    (all, chunks)
}

pub async fn run(args: StorageArgs) -> anyhow::Result<()> {
    let store = Store::open_read_only(&args.db).await?;
    let stats = store.stats().await?;
    // The samples' own storage: the chunk table, the series table and their
    // indexes (not incidents, findings and their traces, which a TSDB does
    // not hold).
    let tables = store.table_bytes().await?;
    let sample_tables: u64 = tables
        .iter()
        .filter(|(name, _)| {
            name.starts_with("chunks") || name.starts_with("series") || name.contains("_series_")
        })
        .map(|(_, b)| b)
        .sum();
    let series = samples(&store).await?;
    store.close().await;
    let n: u64 = series.values().map(|s| s.len() as u64).sum();
    anyhow::ensure!(n > 0, "{} holds no samples", args.db.display());
    let temp = args.work.is_none();
    let work = args.work.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("sentinel-bench-storage-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let om = work.join("samples.om");
    std::fs::write(&om, openmetrics(&series))?;
    let tsdb = work.join("tsdb");
    let out = std::process::Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&tsdb)
        .output()
        .map_err(|e| anyhow::anyhow!("promtool (scripts/stack.sh installs it): {e}"))?;
    anyhow::ensure!(
        out.status.success(),
        "promtool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (prom_bytes, prom_chunks) = sizes(&tsdb);
    if temp {
        let _ = std::fs::remove_dir_all(&work);
    }
    let per = |b: u64| b as f64 / n as f64;
    let report = serde_json::json!({
        "series": series.len(),
        "samples": n,
        "sentinel_bytes": stats.bytes,
        "sentinel_sample_storage_bytes": sample_tables,
        "sentinel_sample_storage_bytes_per_sample": per(sample_tables),
        "sentinel_bytes_per_sample": per(stats.bytes),
        "sentinel_chunk_bytes_per_sample": per(stats.sample_bytes),
        "prometheus_bytes": prom_bytes,
        "prometheus_bytes_per_sample": per(prom_bytes),
        "prometheus_chunk_bytes_per_sample": per(prom_chunks),
        "ratio_to_prometheus": sample_tables as f64 / prom_bytes.max(1) as f64,
        "file_ratio_to_prometheus": stats.bytes as f64 / prom_bytes.max(1) as f64,
        "chunk_ratio_to_prometheus": stats.sample_bytes as f64 / prom_chunks.max(1) as f64,
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "{} series, {n} samples\n  Sentinel:   {} bytes of sample storage, {:.2} B/sample ({:.2} B/sample of chunk data; the whole file with incidents and findings {:.2})\n  Prometheus: {} bytes, {:.2} B/sample ({:.2} B/sample of chunk data)\n  ratio {:.2} (chunks {:.2})",
            series.len(),
            sample_tables,
            per(sample_tables),
            per(stats.sample_bytes),
            per(stats.bytes),
            prom_bytes,
            per(prom_bytes),
            per(prom_chunks),
            report["ratio_to_prometheus"].as_f64().unwrap_or(0.0),
            report["chunk_ratio_to_prometheus"].as_f64().unwrap_or(0.0),
        );
    }
    Ok(())
}
