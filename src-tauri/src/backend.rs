//! The running backends, one per cluster (made by `options`). The
//! dashboard shows one cluster at a time; applying new connections
//! replaces them all; the UI's stream and the tray follow whichever runtime
//! is current ([`Follow`]).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sentinel_model::Timestamp;
use sentinel_runtime::{Runtime, Snapshot};
use tokio::sync::watch;

/// The clusters' runtimes and which one the dashboard shows.
pub struct Fleet {
    pub clusters: Vec<(String, Arc<Runtime>)>,
    pub selected: usize,
}

impl Fleet {
    pub fn one(name: &str, runtime: Runtime) -> Self {
        Self {
            clusters: vec![(name.to_string(), Arc::new(runtime))],
            selected: 0,
        }
    }

    pub fn current(&self) -> &Arc<Runtime> {
        &self.clusters[self.selected.min(self.clusters.len() - 1)].1
    }

    pub fn name(&self) -> &str {
        &self.clusters[self.selected.min(self.clusters.len() - 1)].0
    }

    /// Every cluster's latest snapshot.
    pub fn snapshots(&self) -> Vec<(String, Arc<Snapshot>)> {
        self.clusters
            .iter()
            .map(|(n, rt)| (n.clone(), rt.snapshot()))
            .collect()
    }

    /// The overview of the selected cluster, naming it and summing up all.
    pub fn overview(&self, paused_until: Option<Timestamp>) -> sentinel_protocol::Overview {
        let mut o = sentinel_service::overview(&self.current().snapshot(), paused_until);
        self.decorate(&mut o);
        o
    }

    /// Names the cluster an overview is of and sums up every cluster.
    pub fn decorate(&self, o: &mut sentinel_protocol::Overview) {
        o.cluster = self.name().to_string();
        o.clusters = self
            .snapshots()
            .iter()
            .map(|(n, s)| sentinel_service::cluster_summary(n, s))
            .collect();
    }
}

/// What the commands share: the running backend and the notification pause.
pub struct AppState {
    fleet: watch::Sender<Arc<Fleet>>,
    paused_until: Arc<Mutex<Option<Timestamp>>>,
    /// The recording being replayed, while in Replay mode.
    replaying: Arc<Mutex<Option<String>>>,
    /// Live sources are held while replaying.
    pause_live: std::sync::atomic::AtomicBool,
    /// Where exported reports are written.
    pub reports: PathBuf,
    /// The narrative's language model, when the settings name one.
    pub narrative: Option<sentinel_prom::openai::ChatClient>,
    /// The settings the connections page edits.
    pub(crate) config: crate::connections::Config,
}

impl AppState {
    pub fn new(runtime: Runtime, reports: PathBuf) -> Self {
        Self::with_fleet(Fleet::one("default", runtime), reports)
    }

    pub fn with_fleet(fleet: Fleet, reports: PathBuf) -> Self {
        Self {
            fleet: watch::Sender::new(Arc::new(fleet)),
            paused_until: Arc::default(),
            replaying: Arc::default(),
            pause_live: std::sync::atomic::AtomicBool::new(false),
            reports,
            narrative: None,
            config: crate::connections::Config::default(),
        }
    }

    /// The runtime of the cluster on screen (another after the settings
    /// are applied or another cluster is chosen).
    pub fn runtime(&self) -> Arc<Runtime> {
        Arc::clone(self.fleet.borrow().current())
    }

    pub fn fleet(&self) -> Arc<Fleet> {
        Arc::clone(&self.fleet.borrow())
    }

    /// Puts new runtimes in place, keeping the cluster on screen when it
    /// is still there; returns the fleet it replaces.
    pub(crate) fn replace(&self, clusters: Vec<(String, Runtime)>) -> Arc<Fleet> {
        let shown = self.fleet.borrow().name().to_string();
        let selected = clusters.iter().position(|(n, _)| *n == shown).unwrap_or(0);
        let fleet = Fleet {
            clusters: clusters
                .into_iter()
                .map(|(n, rt)| (n, Arc::new(rt)))
                .collect(),
            selected,
        };
        self.fleet.send_replace(Arc::new(fleet))
    }

    /// Shows `name` on the dashboard; false if there is no such cluster.
    pub fn select(&self, name: &str) -> bool {
        let now = self.fleet();
        let Some(i) = now.clusters.iter().position(|(n, _)| n == name) else {
            return false;
        };
        if i != now.selected {
            self.fleet.send_replace(Arc::new(Fleet {
                clusters: now.clusters.clone(),
                selected: i,
            }));
        }
        true
    }

    /// Snapshots of whichever runtime is current.
    pub fn follow(&self) -> Follow {
        let runtimes = self.fleet.subscribe();
        let snaps = runtimes.borrow().current().subscribe();
        Follow { runtimes, snaps }
    }

    pub fn paused_until(&self) -> Option<Timestamp> {
        self.paused_until.lock().map(|g| *g).unwrap_or(None)
    }

    pub fn pause_handle(&self) -> Arc<Mutex<Option<Timestamp>>> {
        Arc::clone(&self.paused_until)
    }

    /// Enters Replay mode for `file` (live sources paused or not), or
    /// leaves it (`None`: every source goes on).
    pub async fn set_replay(&self, file: Option<String>, pause_live: bool) {
        let pause = file.is_some() && pause_live;
        if let Ok(mut g) = self.replaying.lock() {
            *g = file;
        }
        self.pause_live
            .store(pause, std::sync::atomic::Ordering::SeqCst);
        self.reapply_pause().await;
    }

    /// Holds or lets go every runtime's sources as Replay mode says (after
    /// the runtimes were replaced, too).
    pub async fn reapply_pause(&self) {
        let pause = self.pause_live.load(std::sync::atomic::Ordering::SeqCst);
        for (_, rt) in &self.fleet().clusters {
            rt.pause_sources(pause).await;
        }
    }

    pub fn replay_handle(&self) -> Arc<Mutex<Option<String>>> {
        Arc::clone(&self.replaying)
    }

    /// The overview of the cluster on screen, in Replay mode when replaying.
    pub fn overview(&self) -> sentinel_protocol::Overview {
        let mut o = self.fleet().overview(self.paused_until());
        mark_replay(&mut o, &self.replaying);
        o
    }
}

/// Says so in the status bar while a recording is replayed.
pub fn mark_replay(o: &mut sentinel_protocol::Overview, replaying: &Mutex<Option<String>>) {
    if let Some(file) = replaying.lock().ok().and_then(|g| g.clone()) {
        o.status.mode = sentinel_protocol::Mode::Replay;
        o.status.replaying = Some(file);
    }
}

/// Follows the snapshots of the current runtime, across replacements.
pub struct Follow {
    runtimes: watch::Receiver<Arc<Fleet>>,
    snaps: watch::Receiver<Arc<Snapshot>>,
}

impl Follow {
    /// The clusters as they are now.
    pub fn fleet(&self) -> Arc<Fleet> {
        Arc::clone(&self.runtimes.borrow())
    }

    /// The newest snapshot, marked seen.
    pub fn latest(&mut self) -> Arc<Snapshot> {
        Arc::clone(&self.snaps.borrow_and_update())
    }

    /// Waits for a new snapshot (or a new runtime); false once the app is closing.
    pub async fn changed(&mut self) -> bool {
        tokio::select! {
            r = self.snaps.changed() => {
                if r.is_ok() {
                    return true;
                }
                // That runtime has stopped: wait for its successor.
                if self.runtimes.changed().await.is_err() {
                    return false;
                }
            }
            r = self.runtimes.changed() => {
                if r.is_err() {
                    return false;
                }
            }
        }
        self.snaps = self.runtimes.borrow_and_update().current().subscribe();
        true
    }
}
