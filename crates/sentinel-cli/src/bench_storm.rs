//! `sentinel bench storm`: an alert storm through the incident manager and
//! the notification policy on a simulated clock. Alertmanager is polled every
//! `--poll` seconds; each poll carries the alerts that started since the last
//! one plus those still firing (each fires for `--lifetime` seconds). Prints
//! the notifications raised, the closest two came within one group, and how
//! long each poll kept the loop busy. Then every alert of the storm firing at
//! once through the alert feed: the overview (built for every update the UI
//! gets) and a search by matcher terms.

use std::collections::HashMap;
use std::time::Instant;

use clap::Args;
use sentinel_explain::incident::notify::{Notifier, NotifyConfig};
use sentinel_explain::incident::{IncidentConfig, Manager};
use sentinel_model::{Alert, AlertState, Labels, Timestamp};

#[derive(Args)]
pub struct StormArgs {
    /// New alerts per minute.
    #[arg(long, default_value_t = 10_000)]
    per_minute: u64,
    #[arg(long, default_value_t = 10)]
    minutes: u64,
    /// Namespaces the alerts spread over (notification groups).
    #[arg(long, default_value_t = 20)]
    namespaces: u64,
    /// Services per namespace.
    #[arg(long, default_value_t = 10)]
    services: u64,
    /// Seconds between Alertmanager polls.
    #[arg(long, default_value_t = 5)]
    poll: u64,
    /// Seconds each alert fires.
    #[arg(long, default_value_t = 60)]
    lifetime: u64,
    #[arg(long)]
    json: bool,
}

fn alert(k: u64, args: &StormArgs, at: Timestamp) -> Alert {
    let ns = format!("team-{:02}", k % args.namespaces);
    let svc = format!("svc-{}", (k / args.namespaces) % args.services);
    let mut labels = Labels::new();
    labels.insert("alertname".into(), format!("Storm{}", k % 50));
    labels.insert(
        "severity".into(),
        if k.is_multiple_of(7) {
            "critical"
        } else {
            "warning"
        }
        .into(),
    );
    labels.insert("namespace".into(), ns);
    labels.insert("service".into(), svc);
    labels.insert(
        "instance".into(),
        format!("10.0.{}.{}:8080", (k / 250) % 250, k % 250),
    );
    Alert {
        fingerprint: format!("{k:016x}"),
        labels,
        annotations: Labels::new(),
        starts_at: at,
        ends_at: None,
        state: AlertState::Active,
        generator_url: String::new(),
        silenced_by: Vec::new(),
        inhibited_by: Vec::new(),
    }
}

/// The median of `runs` timings of `f`, in milliseconds.
fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

/// The overview and a search over `alerts` firing at once: (overview ms,
/// search ms, rows the search found).
fn feed_cost(alerts: Vec<Alert>, at: Timestamp) -> anyhow::Result<(f64, f64, usize)> {
    let mut snap = sentinel_runtime::Snapshot::empty(sentinel_runtime::Mode::Live, at);
    snap.alerts = std::sync::Arc::new(alerts);
    let overview = median_ms(7, || {
        std::hint::black_box(sentinel_service::overview(&snap, None));
    });
    let q = sentinel_protocol::AlertQuery {
        text: Some(r#"namespace=team-03 alertname=~"Storm1.*""#.into()),
        limit: Some(200),
        ..Default::default()
    };
    let mut found = 0;
    let mut failed = None;
    let search = median_ms(7, || match sentinel_service::alerts(&snap, &q) {
        Ok(rows) => found = rows.len(),
        Err(e) => failed = Some(e.message),
    });
    if let Some(e) = failed {
        anyhow::bail!("the search failed: {e}");
    }
    Ok((overview, search, found))
}

pub fn run(args: StormArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.per_minute > 0
            && args.minutes > 0
            && args.namespaces > 0
            && args.services > 0
            && args.poll > 0,
        "every count must be positive"
    );
    let start = Timestamp(1_790_000_000_000);
    let mut manager = Manager::new(IncidentConfig::default());
    let mut notifier = Notifier::new(NotifyConfig::default());
    let mut firing: Vec<Alert> = Vec::new();
    let mut next = 0u64;
    let mut sent = Vec::new();
    let mut busy_ms: Vec<f64> = Vec::new();
    let polls = args.minutes * 60 / args.poll;

    let wall = Instant::now();
    for p in 1..=polls {
        let at = Timestamp(start.0 + (p * args.poll * 1000) as i64);
        let life = (args.lifetime * 1000) as i64;
        firing.retain(|a| at.since(a.starts_at).0 < life);
        // Alerts due by this poll, so the total is exact.
        let due = args.per_minute * p * args.poll / 60;
        while next < due {
            firing.push(alert(next, &args, at));
            next += 1;
        }
        let t = Instant::now();
        manager.alerts(at, &firing);
        manager.tick(at);
        let updates = manager.take_updates();
        notifier.offer(&updates, |id| manager.get(id));
        for n in notifier.poll(at, manager.incidents()) {
            sent.push((at, n));
        }
        busy_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let wall_s = wall.elapsed().as_secs_f64();
    let mut last: HashMap<&str, Timestamp> = HashMap::new();
    let mut closest_s = f64::INFINITY;
    for (at, n) in &sent {
        if let Some(prev) = last.insert(n.group.as_str(), *at) {
            closest_s = closest_s.min(at.since(prev).0 as f64 / 1000.0);
        }
    }
    busy_ms.sort_by(f64::total_cmp);
    let pct = |q: f64| busy_ms[((busy_ms.len() - 1) as f64 * q).round() as usize];
    let members = manager
        .incidents()
        .iter()
        .map(|i| i.members.len())
        .max()
        .unwrap_or(0);
    let end = Timestamp(start.0 + (polls * args.poll * 1000) as i64);
    let everything = (0..next).map(|k| alert(k, &args, end)).collect();
    let (overview_ms, search_ms, search_rows) = feed_cost(everything, end)?;
    let out = serde_json::json!({
        "alerts": next,
        "minutes": args.minutes,
        "groups": args.namespaces,
        "incidents": manager.incidents().len(),
        "largest_incident_members_kept": members,
        "notifications": sent.len(),
        "notifications_per_minute": sent.len() as f64 / args.minutes as f64,
        "closest_in_one_group_s": if closest_s.is_finite() { Some(closest_s) } else { None },
        "held_back": notifier.suppressed,
        "poll_busy_ms_p50": pct(0.5),
        "poll_busy_ms_p99": pct(0.99),
        "poll_busy_ms_max": pct(1.0),
        "alerts_per_second": next as f64 / wall_s,
        "feed_overview_ms": overview_ms,
        "feed_search_ms": search_ms,
    });
    if args.json {
        println!("{out}");
    } else {
        println!(
            "{} alerts over {} min in {} groups → {} incidents, {} notifications \
             (closest two in one group: {}), {} held back or merged",
            next,
            args.minutes,
            args.namespaces,
            manager.incidents().len(),
            sent.len(),
            if closest_s.is_finite() {
                format!("{closest_s:.0} s apart")
            } else {
                "never two".into()
            },
            notifier.suppressed
        );
        println!(
            "loop busy per poll: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({:.0} alerts/s through the manager)",
            pct(0.5),
            pct(0.99),
            pct(1.0),
            next as f64 / wall_s
        );
        println!(
            "all {next} firing at once: overview {overview_ms:.1} ms, \
             a search by matcher terms {search_ms:.1} ms ({search_rows} rows)"
        );
    }
    Ok(())
}
