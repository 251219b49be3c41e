//! Container logs on demand, beside the loop: a tail is one request; a
//! follow is a task per container filling a bounded buffer that the UI reads
//! from a cursor. Follows nobody read for a minute stop, and at most
//! `MAX_FOLLOWS` run at once (the oldest read stops first).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sentinel_kube::logs::{self, LogBuffer};
use sentinel_model::{Duration, Timestamp};
use tokio::task::JoinHandle;

pub use sentinel_kube::logs::MAX_TAIL;

/// A follow nobody read for this long stops.
const IDLE: Duration = Duration::from_secs(60);
/// Follows running at once.
const MAX_FOLLOWS: usize = 8;

/// Which log, how much, and from where to read on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    pub namespace: String,
    pub pod: String,
    pub container: Option<String>,
    /// Lines of history to start from.
    pub tail: i64,
    pub follow: bool,
    /// The cursor: the first line number wanted (a follow's `next`).
    pub after: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRead {
    pub lines: Vec<(u64, String)>,
    /// The cursor for the next read.
    pub next: u64,
    /// Lines dropped before they were read (the buffer is bounded).
    pub dropped: u64,
    /// Why a follow ended, once it has.
    pub ended: Option<String>,
}

struct Follow {
    buffer: Arc<Mutex<LogBuffer>>,
    task: JoinHandle<()>,
    read_at: Timestamp,
}

type Key = (String, String, String);

pub struct LogService {
    client: sentinel_kube::Client,
    follows: Mutex<HashMap<Key, Follow>>,
}

impl LogService {
    pub fn new(client: sentinel_kube::Client) -> Self {
        Self {
            client,
            follows: Mutex::new(HashMap::new()),
        }
    }

    pub async fn read(&self, q: &LogRequest, now: Timestamp) -> Result<LogRead, String> {
        if !q.follow {
            let lines = logs::tail(
                &self.client,
                &q.namespace,
                &q.pod,
                q.container.as_deref(),
                q.tail,
            )
            .await?;
            let next = lines.len() as u64;
            return Ok(LogRead {
                lines: (0..).zip(lines).collect(),
                next,
                dropped: 0,
                ended: None,
            });
        }
        let key = (
            q.namespace.clone(),
            q.pod.clone(),
            q.container.clone().unwrap_or_default(),
        );
        let mut follows = self
            .follows
            .lock()
            .map_err(|_| "log follows are unusable".to_string())?;
        follows.retain(|_, f| {
            let keep = now.since(f.read_at) < IDLE;
            if !keep {
                f.task.abort();
            }
            keep
        });
        // A new reader of a follow that ended starts it again.
        let restart = follows.get(&key).is_some_and(|f| {
            q.after == 0 && f.buffer.lock().map(|b| b.ended.is_some()).unwrap_or(true)
        });
        if restart && let Some(f) = follows.remove(&key) {
            f.task.abort();
        }
        if !follows.contains_key(&key) && follows.len() >= MAX_FOLLOWS {
            let oldest = follows
                .iter()
                .min_by_key(|(_, f)| f.read_at)
                .map(|(k, _)| k.clone());
            if let Some(f) = oldest.and_then(|k| follows.remove(&k)) {
                f.task.abort();
            }
        }
        let f = follows.entry(key).or_insert_with(|| {
            let buffer = Arc::new(Mutex::new(LogBuffer::default()));
            let task = tokio::spawn(logs::follow(
                self.client.clone(),
                q.namespace.clone(),
                q.pod.clone(),
                q.container.clone(),
                q.tail,
                Arc::clone(&buffer),
            ));
            Follow {
                buffer,
                task,
                read_at: now,
            }
        });
        f.read_at = now;
        let b = f
            .buffer
            .lock()
            .map_err(|_| "the log buffer is unusable".to_string())?;
        let (lines, dropped) = b.since(q.after);
        Ok(LogRead {
            lines,
            next: b.next(),
            dropped,
            ended: b.ended.clone(),
        })
    }
}

impl Drop for LogService {
    fn drop(&mut self) {
        if let Ok(f) = self.follows.lock() {
            for f in f.values() {
                f.task.abort();
            }
        }
    }
}
