//! Paths and small helpers shared by the tiers.

use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use sentinel_runtime::{Clock, DemoConfig, Runtime, SystemClock};

/// The cargo target profile dir holding the workspace binaries (`target/debug`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/debug/deps/it-<hash> -> target/debug
    exe.parent()
        .and_then(|p| p.parent())
        .expect("target dir")
        .to_path_buf()
}

/// A built workspace binary, or a panic that says how to build it.
pub fn binary(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --workspace` (scripts/test.sh does)",
        p.display()
    );
    p
}

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A fresh directory under the target dir for one test (emptied first).
pub fn tempdir(name: &str) -> PathBuf {
    let dir = bin_dir().join("it-tmp").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a test directory");
    dir
}

/// The demo (seed 3, 60 pods, fifteen minutes backfilled: the bad checkout
/// rollout, the noisy neighbour, the start of the payments slowdown; then a
/// reading every 200 ms), recording into the history file `db`.
pub async fn recording_demo(db: &Path) -> Runtime {
    let store = sentinel_store::Store::open(db, SystemClock.now())
        .await
        .expect("open the history")
        .store;
    Runtime::demo(DemoConfig {
        sim: sentinel_sim::SimConfig { seed: 3, pods: 60 },
        interval: StdDuration::from_millis(200),
        backfill: sentinel_model::Duration::from_secs(900),
        ..DemoConfig::default()
    })
    .history(store)
    .start()
}

/// A source whose polls a test writes as a function of its context, with a
/// name and a kind, reporting every 200 ms.
pub struct Scripted<F> {
    pub name: &'static str,
    pub kind: &'static str,
    pub run: F,
}

impl<F, Fut> sentinel_runtime::Source for Scripted<F>
where
    F: FnOnce(sentinel_runtime::SourceCtx) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    fn name(&self) -> String {
        self.name.into()
    }
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn interval(&self) -> StdDuration {
        StdDuration::from_millis(200)
    }
    async fn run(self, ctx: sentinel_runtime::SourceCtx) {
        (self.run)(ctx).await;
    }
}

/// Sends an empty live batch stamped now every 200 ms, until the runtime
/// stops.
pub async fn poll_live(ctx: &sentinel_runtime::SourceCtx) {
    loop {
        let at = ctx.clock.now();
        if !ctx
            .send(sentinel_runtime::Batch {
                at,
                ..sentinel_runtime::Batch::default()
            })
            .await
        {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
}
