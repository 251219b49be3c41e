//! Calls between services read by a source (as the Prometheus source reads
//! a mesh's metrics) reach the incidents' captures: at the app's default
//! start, without the demo's own call graph, they are what tells the slow
//! dependency from the services that call it.

use std::time::Duration as StdDuration;

use sentinel_runtime::{Batch, DemoConfig, Runtime, Snapshot, Source, SourceCtx};

use crate::demo_causes::{slow_dependency, slow_dependency_named, wait};

/// Sends the calls once, as the Prometheus source does after reading them.
struct Mesh(Vec<(String, String)>);

impl Source for Mesh {
    fn name(&self) -> String {
        "mesh".into()
    }

    fn kind(&self) -> &'static str {
        "prometheus"
    }

    fn interval(&self) -> StdDuration {
        StdDuration::from_secs(60)
    }

    async fn run(self, ctx: SourceCtx) {
        let batch = Batch {
            at: ctx.clock.now(),
            calls: Some(self.0),
            ..Batch::default()
        };
        if ctx.send(batch).await {
            std::future::pending::<()>().await;
        }
    }
}

/// The demo's calls, sorted as the snapshot holds them.
pub(crate) fn demo_calls() -> Vec<(String, String)> {
    let mut calls: Vec<(String, String)> = sentinel_sim::scenario::CALLS
        .iter()
        .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
        .collect();
    calls.sort();
    calls
}

/// The slow-dependency candidate of an incident not folded into another:
/// what it names, and its score.
fn dependency(s: &Snapshot) -> Option<(String, f64)> {
    s.incidents
        .iter()
        .filter(|i| i.merged_into.is_none())
        .find_map(|i| {
            let e = sentinel_service::analyse(s, i);
            let c = e
                .candidates
                .into_iter()
                .find(|c| c.cause == "dependency_network_delay")?;
            Some((c.object.to_string(), c.score))
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_a_source_reads_tell_the_slow_dependency_from_its_callers() {
    let config = DemoConfig::default();
    let told = Runtime::demo(config)
        .calls(Vec::new())
        .source(Mesh(demo_calls()))
        .start();
    let blind = Runtime::demo(config).calls(Vec::new()).start();
    let (told_snap, blind_snap) = tokio::join!(
        wait(
            &told,
            90,
            |s| slow_dependency_named(s).is_some(),
            "a slow dependency named from the mesh's calls"
        ),
        wait(
            &blind,
            90,
            |s| dependency(s).is_some(),
            "a slow dependency considered without calls"
        ),
    );
    assert_eq!(*told_snap.calls, demo_calls());
    // Payments, its callers following, at 0.85.
    slow_dependency(&told_snap);
    // Without them, the slowdown's signals are not tied together: the
    // first analysis to weigh a slow dependency has only checkout's
    // latency, and names checkout.
    assert!(blind_snap.calls.is_empty());
    let (object, _) = dependency(&blind_snap).unwrap();
    assert_ne!(object, "Service/shop/payments");
    told.shutdown(StdDuration::from_secs(30)).await;
    blind.shutdown(StdDuration::from_secs(30)).await;
}
