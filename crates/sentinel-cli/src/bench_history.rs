//! `sentinel bench history-page`: how long the History page's list takes
//! with many incidents stored (the store's query and the rows the page
//! shows, as the command builds them).

use std::time::Instant;

use clap::Args;
use sentinel_model::Timestamp;
use sentinel_store::{IncidentFilter, IncidentRow, Record, Recorder, Store};

#[derive(Args)]
pub struct HistoryPageArgs {
    #[arg(long, default_value_t = 1000)]
    incidents: usize,
    /// Size of each stored incident (members, timeline, captured objects).
    #[arg(long, default_value_t = 50_000)]
    body_bytes: usize,
    #[arg(long)]
    json: bool,
}

pub async fn run(args: HistoryPageArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("sentinel-bench-history-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("history.db");
    let t0 = Timestamp(1_790_000_000_000);
    let store = Store::open(&path, t0).await?.store;
    let mut rec = Recorder::new(store.cursor().await?);
    let filler = "x".repeat(args.body_bytes.saturating_sub(200));
    for i in 0..args.incidents {
        let at = Timestamp(t0.millis() + i as i64 * 60_000);
        let body = serde_json::json!({
            "id": format!("inc-{i:06}"),
            "title": format!("PodMemoryHigh on Pod/shop/checkout-{i}"),
            "capture": filler,
        })
        .to_string();
        rec.record(Record::Incident(Box::new(IncidentRow {
            id: format!("inc-{i:06}"),
            opened_at: at,
            updated_at: at,
            state: if i % 3 == 0 { "open" } else { "resolved" }.into(),
            severity: "critical".into(),
            namespaces: vec!["shop".into()],
            body,
        })));
        if i % 100 == 99 {
            store.write(&rec.take(true)).await?;
        }
    }
    store.write(&rec.take(true)).await?;
    let mut times = Vec::new();
    for limit in [200u32, 1000] {
        let began = Instant::now();
        let rows = store
            .incident_list(&IncidentFilter {
                limit: Some(limit),
                ..IncidentFilter::default()
            })
            .await?;
        times.push((limit, rows.len(), began.elapsed().as_secs_f64() * 1e3));
    }
    store.close().await;
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    let _ = std::fs::remove_dir_all(&dir);
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "incidents": args.incidents,
                "file_bytes": bytes,
                "page_200_ms": times[0].2,
                "all_ms": times[1].2,
            })
        );
    } else {
        for (limit, n, ms) in times {
            println!(
                "history page        incidents={:<5} first {limit:<5} rows {n:<5} {ms:>8.2} ms  ({bytes} byte file)",
                args.incidents
            );
        }
    }
    Ok(())
}
