//! The runtime end to end on the demo cluster: sources, the loop, snapshots,
//! health, and the service answers built from them.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use sentinel_model::Duration;
use sentinel_protocol::{Health, PodQuery, PodRef, PodSort, TrayLevel};
use sentinel_runtime::{Batch, DemoConfig, Runtime, SourceCtx, SystemClock};
use sentinel_sim::SimConfig;

use crate::support::{Scripted, poll_live};

fn demo(interval_ms: u64, backfill_s: i64) -> DemoConfig {
    DemoConfig {
        sim: SimConfig { seed: 3, pods: 60 },
        interval: StdDuration::from_millis(interval_ms),
        backfill: Duration::from_secs(backfill_s),
        ..DemoConfig::default()
    }
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(StdDuration::from_secs(30), f)
        .await
        .expect("timed out")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runtime_fills_the_dashboard() {
    let rt = Runtime::demo(demo(200, 50)).start();
    let snap = within(rt.wait_for(|s| s.data_at.is_some())).await.unwrap();
    let o = sentinel_service::overview(&snap, None);
    assert_eq!(o.pods_total, 60);
    assert!(o.nodes.len() >= 3);
    assert_eq!(o.status.sources[0].health, Health::Ok);
    // Backfill filled the charts before the first live poll: 50 s at 200 ms.
    let cpu = &o.charts[0];
    assert!(cpu.points.len() >= 200, "{}", cpu.points.len());
    assert!(
        cpu.points.len() <= sentinel_service::CHART_POINTS,
        "charts are downsampled"
    );
    assert!(cpu.points.windows(2).all(|w| w[0].0 < w[1].0));
    for chart in &o.charts {
        assert!(!chart.points.is_empty(), "{} is empty", chart.id);
    }
    let c = &o.cards;
    assert!(c.cpu_percent.is_some_and(|v| v > 1.0 && v < 100.0));
    assert!(c.request_rate.is_some_and(|v| v > 10.0));
    assert_eq!(c.pods_running, 60);
    assert!(o.alerts.iter().any(|a| a.name == "Watchdog"));

    // The pods table: sort, filter, page.
    let page = sentinel_service::list_pods(
        &snap,
        &PodQuery {
            sort: PodSort::Memory,
            descending: true,
            limit: 5,
            ..PodQuery::default()
        },
    )
    .unwrap();
    assert_eq!(page.rows.len(), 5);
    assert!(
        page.rows
            .windows(2)
            .all(|w| w[0].memory_bytes >= w[1].memory_bytes)
    );
    let pg = sentinel_service::list_pods(
        &snap,
        &PodQuery {
            text: "POSTGRES".into(),
            limit: 50,
            ..PodQuery::default()
        },
    )
    .unwrap();
    assert_eq!(pg.matched, 3);
    assert!(pg.rows.iter().all(|r| r.name.starts_with("postgres-")));
    let data = sentinel_service::list_pods(
        &snap,
        &PodQuery {
            namespace: Some("data".into()),
            limit: 4,
            offset: 4,
            ..PodQuery::default()
        },
    )
    .unwrap();
    assert_eq!((data.matched, data.offset, data.rows.len()), (9, 4, 4));
    assert!(
        sentinel_service::list_pods(
            &snap,
            &PodQuery {
                limit: 100_000,
                ..PodQuery::default()
            }
        )
        .is_err()
    );

    // Pod detail comes with a trend from the loop.
    let detail = within(sentinel_service::pod_detail(
        &rt,
        &PodRef {
            namespace: "data".into(),
            name: "postgres-0".into(),
        },
    ))
    .await
    .unwrap();
    // The 50 s of backfill at 200 ms, a point every 2 s.
    let span = detail.cpu.last().unwrap().0 - detail.cpu[0].0;
    assert!(
        (25..=30).contains(&detail.cpu.len()) && span >= 48_000,
        "{} points over {span} ms",
        detail.cpu.len()
    );
    assert_eq!(
        detail.containers[0].image,
        "docker.io/library/postgres:16.4"
    );
    // The Service in front of it, from the demo's Services.
    assert_eq!(detail.services, ["postgres (ClusterIP, 5432→5432)"]);
    assert!(detail.calls.is_empty(), "{:?}", detail.calls);
    // A pod of checkout: whom its workload calls and is called by.
    let snap = rt.snapshot();
    let checkout = snap
        .pods
        .iter()
        .find(|v| v.pod.namespace == "shop" && v.pod.name.starts_with("checkout-"))
        .unwrap();
    let detail = within(sentinel_service::pod_detail(
        &rt,
        &PodRef {
            namespace: "shop".into(),
            name: checkout.pod.name.clone(),
        },
    ))
    .await
    .unwrap();
    assert_eq!(detail.calls, ["calls payments", "called by frontend"]);
    let missing = within(sentinel_service::pod_detail(
        &rt,
        &PodRef {
            namespace: "data".into(),
            name: "nope".into(),
        },
    ))
    .await
    .unwrap_err();
    assert_eq!(missing.kind, sentinel_protocol::ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_polls_keep_coming_and_backfill_is_not_news() {
    let rt = Runtime::demo(demo(150, 60)).start();
    let first = within(rt.wait_for(|s| s.data_at.is_some())).await.unwrap();
    let later =
        within(rt.wait_for(|s| s.data_at > first.data_at.map(|t| t.saturating_add(Duration(400)))))
            .await
            .unwrap();
    assert!(later.generation > first.generation);
    // The source's last update is a live one, seconds old at most.
    let age = first.at.since(first.sources[0].last_ok.unwrap());
    assert!(age < Duration::from_secs(5), "{age:?}");
}

/// The engine's clock ticks every second while one source still feeds its
/// backfill and another is live: the first source's newest readings are
/// minutes old then, which is the backfill's lag, not a source gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_backfill_beside_a_live_source_is_not_an_absent_source() {
    // Its first poll reads fifteen minutes of the past in chunks that take
    // a while each (a large cluster's backfill), then it polls live.
    let slow = Scripted {
        name: "slow",
        kind: "prometheus",
        run: |ctx: SourceCtx| async move {
            let start = ctx.clock.now();
            for minutes_ago in (1..=15).rev() {
                let batch = Batch {
                    at: start.saturating_sub(Duration::from_mins(minutes_ago)),
                    backfill: true,
                    ..Batch::default()
                };
                ctx.send(batch).await;
                tokio::time::sleep(StdDuration::from_millis(300)).await;
            }
            poll_live(&ctx).await;
        },
    };
    // Live from its first poll (an Alertmanager).
    let prompt = Scripted {
        name: "prompt",
        kind: "alertmanager",
        run: |ctx: SourceCtx| async move { poll_live(&ctx).await },
    };
    let rt = Runtime::builder(Arc::new(SystemClock))
        .source(slow)
        .source(prompt)
        .start();
    let live = within(rt.wait_for(|s| s.sources[0].last_ok.is_some()))
        .await
        .unwrap();
    assert!(
        live.sources[1].last_ok.is_some(),
        "the prompt source was live before the backfill ended"
    );
    // A few ticks after the backfill.
    let snap = within(rt.wait_for(|s| s.at.since(live.at) > Duration(2500)))
        .await
        .unwrap();
    let absent: Vec<String> = snap
        .findings
        .iter()
        .filter(|f| f.rule == "SourceAbsent" || f.rule == "TargetDown")
        .map(|f| format!("{} {} {}", f.rule, f.series, f.trace.explanation))
        .collect();
    assert!(absent.is_empty(), "{absent:#?}");
    rt.shutdown(StdDuration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_source_turns_stale_and_failing_one_down() {
    let rt = Runtime::builder(Arc::new(SystemClock))
        // Reports once, then goes silent (a hung Prometheus).
        .source(Scripted {
            name: "silent",
            kind: "prometheus",
            run: |ctx: SourceCtx| async move {
                let at = ctx.clock.now();
                ctx.send(Batch {
                    at,
                    ..Batch::default()
                })
                .await;
                std::future::pending::<()>().await;
            },
        })
        // Every poll fails (connection refused).
        .source(Scripted {
            name: "broken",
            kind: "alertmanager",
            run: |ctx: SourceCtx| async move {
                while ctx.failed("connection refused".into()).await {
                    tokio::time::sleep(StdDuration::from_millis(200)).await;
                }
            },
        })
        .start();
    let ok = within(rt.wait_for(|s| s.sources[0].last_ok.is_some()))
        .await
        .unwrap();
    assert_eq!(
        sentinel_service::overview(&ok, None).status.sources[0].health,
        Health::Ok
    );
    // Two intervals plus a second of grace later, the silent source is stale.
    let stale = within(rt.wait_for(|s| s.sources[0].health == sentinel_runtime::Health::Stale))
        .await
        .unwrap();
    let o = sentinel_service::overview(&stale, None);
    assert_eq!(
        o.tray,
        TrayLevel::Stale,
        "a stale source turns the tray stale"
    );
    let broken = &o.status.sources[1];
    assert_eq!(broken.health, Health::Down);
    assert_eq!(broken.message.as_deref(), Some("connection refused"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_raises_findings_that_explain_themselves_and_take_marks() {
    // Fifteen minutes of history cover the bad rollout (OOM kills, restarts)
    // and the noisy neighbour (a node's CPU above 80 % for minutes).
    let rt = Runtime::demo(demo(200, 900)).start();
    let snap = within(rt.wait_for(|s| s.data_at.is_some())).await.unwrap();
    let rules: Vec<&str> = snap.findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains(&"ContainerRestarting"), "{rules:?}");
    assert!(rules.contains(&"NodeCPUHigh"), "{rules:?}");
    for f in snap.findings.iter() {
        assert!(!f.trace.transitions.is_empty(), "{}", f.id);
        assert!(!f.trace.points.is_empty(), "{}", f.id);
        assert!(
            !f.trace.explanation.contains('{'),
            "template filled: {}",
            f.trace.explanation
        );
    }
    // The feed merges them with Alertmanager's alerts; each has a "why".
    let feed = sentinel_service::alerts(&snap, &Default::default()).unwrap();
    let row = feed
        .iter()
        .find(|r| r.origin == sentinel_protocol::AlertOrigin::Engine)
        .expect("a finding in the feed");
    let why = sentinel_service::explain(&snap, &row.fingerprint).unwrap();
    assert!(
        why.steps.iter().any(|s| s.starts_with("Rule ")),
        "{:?}",
        why.steps
    );
    assert!(why.trace.is_some());
    let am = feed
        .iter()
        .find(|r| r.origin == sentinel_protocol::AlertOrigin::Alertmanager)
        .expect("an Alertmanager alert in the feed");
    let why = sentinel_service::explain(&snap, &am.fingerprint).unwrap();
    assert!(why.trace.is_none() && why.steps[0].starts_with("Alertmanager reports"));

    // A mark shows in the next explanation and in the feed.
    let args = sentinel_protocol::MarkArgs {
        fingerprint: row.fingerprint.clone(),
        mark: sentinel_model::Mark::FalsePositive,
    };
    let marked = within(sentinel_service::mark_finding(&rt, &args))
        .await
        .unwrap();
    assert_eq!(marked.mark, Some(sentinel_model::Mark::FalsePositive));
    assert!(
        marked
            .steps
            .last()
            .unwrap()
            .starts_with("Marked false positive")
    );
    let snap = rt.snapshot();
    let row = sentinel_service::alerts(&snap, &Default::default())
        .unwrap()
        .into_iter()
        .find(|r| r.fingerprint == args.fingerprint)
        .unwrap();
    assert_eq!(row.mark, Some(sentinel_model::Mark::FalsePositive));
    // Only the engine's findings can be marked.
    let err = within(sentinel_service::mark_finding(
        &rt,
        &sentinel_protocol::MarkArgs {
            fingerprint: am.fingerprint.clone(),
            mark: sentinel_model::Mark::Confirmed,
        },
    ))
    .await
    .unwrap_err();
    assert_eq!(err.kind, sentinel_protocol::ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_sources_ask_nothing_and_do_not_go_stale() {
    let rt = Runtime::demo(demo(200, 0)).start();
    within(rt.wait_for(|s| s.data_at.is_some())).await.unwrap();
    rt.pause_sources(true).await;
    assert!(rt.sources_paused());
    let paused = within(rt.wait_for(|s| s.sources_paused)).await.unwrap();
    // A batch already on its way may land; after that nothing comes.
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    let held = rt.snapshot().data_at;
    // Longer than two intervals plus a second: a silent source would be stale.
    tokio::time::sleep(StdDuration::from_millis(2500)).await;
    let s = rt.snapshot();
    assert_eq!(s.data_at, held, "a paused source reported");
    assert!(s.generation > paused.generation, "the loop still ticks");
    let o = sentinel_service::overview(&s, None);
    assert!(o.status.sources_paused);
    assert_eq!(o.status.sources[0].health, Health::Ok, "{:?}", o.status);
    assert_ne!(sentinel_service::tray_level(&s), TrayLevel::Stale);
    // Let go: data flows again, and the source is not judged stale for the
    // time it was held.
    rt.pause_sources(false).await;
    let s = within(rt.wait_for(|s| !s.sources_paused && s.data_at > held))
        .await
        .unwrap();
    let o = sentinel_service::overview(&s, None);
    assert_eq!(o.status.sources[0].health, Health::Ok);
    assert!(!o.status.sources_paused);
}
