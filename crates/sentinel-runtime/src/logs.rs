//! Container logs on demand, beside the loop, from the Kubernetes API or
//! from Loki: a tail is one request; a follow is a task per container
//! filling a bounded buffer that the UI reads from a cursor (Loki's over a
//! WebSocket, reconnecting where it left off). Follows nobody read for a
//! minute stop, and at most `MAX_FOLLOWS` run at once (the oldest read
//! stops first).

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

/// Where a log comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LogSource {
    /// The Kubernetes API when a context is watched, else Loki.
    #[default]
    Auto,
    Kubernetes,
    Loki,
}

/// Which log, how much, and from where to read on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    pub source: LogSource,
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
    /// `kubernetes` or `loki`.
    pub source: &'static str,
    /// A passing problem of a follow (reconnecting).
    pub notice: Option<String>,
    /// Lines the server dropped before they reached Sentinel.
    pub upstream_dropped: u64,
}

struct Follow {
    buffer: Arc<Mutex<LogBuffer>>,
    task: JoinHandle<()>,
    read_at: Timestamp,
}

type Key = (&'static str, String, String, String);

/// How far back a Loki tail starts (its `limit` keeps the newest lines).
const LOKI_HISTORY: Duration = Duration::from_mins(360);

enum From<'a> {
    Kube(&'a sentinel_kube::Client),
    Loki(&'a sentinel_prom::Loki),
}

pub struct LogService {
    kube: Option<sentinel_kube::Client>,
    loki: Option<sentinel_prom::Loki>,
    follows: Mutex<HashMap<Key, Follow>>,
}

impl LogService {
    pub fn new(kube: Option<sentinel_kube::Client>, loki: Option<sentinel_prom::Loki>) -> Self {
        Self {
            kube,
            loki,
            follows: Mutex::new(HashMap::new()),
        }
    }

    fn pick(&self, want: LogSource) -> Result<From<'_>, String> {
        match (want, &self.kube, &self.loki) {
            (LogSource::Kubernetes | LogSource::Auto, Some(k), _) => Ok(From::Kube(k)),
            (LogSource::Loki | LogSource::Auto, _, Some(l)) => Ok(From::Loki(l)),
            (LogSource::Kubernetes, None, _) => {
                Err("container logs from the API server need a Kubernetes context".into())
            }
            (LogSource::Loki, _, None) => Err("no Loki is configured".into()),
            (LogSource::Auto, None, None) => Err(
                "container logs need a Kubernetes context or a Loki (the demo cluster has none)"
                    .into(),
            ),
        }
    }

    pub async fn read(&self, q: &LogRequest, now: Timestamp) -> Result<LogRead, String> {
        let from = self.pick(q.source)?;
        let source = match from {
            From::Kube(_) => "kubernetes",
            From::Loki(_) => "loki",
        };
        let limit = usize::try_from(q.tail.clamp(1, MAX_TAIL)).unwrap_or(100);
        let selector = || {
            sentinel_prom::loki::container_selector(&q.namespace, &q.pod, q.container.as_deref())
        };
        if !q.follow {
            let lines = match from {
                From::Kube(client) => {
                    logs::tail(client, &q.namespace, &q.pod, q.container.as_deref(), q.tail).await?
                }
                From::Loki(loki) => loki
                    .query_range(&selector(), now.saturating_sub(LOKI_HISTORY), now, limit)
                    .await
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .map(|e| e.line)
                    .collect(),
            };
            let next = lines.len() as u64;
            return Ok(LogRead {
                lines: (0..).zip(lines).collect(),
                next,
                dropped: 0,
                ended: None,
                source,
                notice: None,
                upstream_dropped: 0,
            });
        }
        let key = (
            source,
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
            let task = match from {
                From::Kube(client) => tokio::spawn(logs::follow(
                    client.clone(),
                    q.namespace.clone(),
                    q.pod.clone(),
                    q.container.clone(),
                    q.tail,
                    Arc::clone(&buffer),
                )),
                From::Loki(loki) => tokio::spawn(loki_follow(
                    loki.clone(),
                    selector(),
                    now.saturating_sub(LOKI_HISTORY),
                    limit,
                    Arc::clone(&buffer),
                )),
            };
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
            source,
            notice: b.notice.clone(),
            upstream_dropped: b.upstream_dropped,
        })
    }
}

/// Follows a Loki tail into `buffer`, reconnecting after an interruption
/// from the last line seen (so nothing repeats and nothing is lost). Refused
/// credentials end the follow; what Loki dropped is counted.
async fn loki_follow(
    loki: sentinel_prom::Loki,
    selector: String,
    start: Timestamp,
    limit: usize,
    buffer: Arc<Mutex<LogBuffer>>,
) {
    // The newest line's time, and how many lines with that very time were
    // taken: a tail resumed from that time skips those, and lines sharing a
    // timestamp are neither lost nor repeated.
    let mut last_ns: i128 = i128::from(start.millis()) * 1_000_000;
    let mut at_last: usize = 0;
    loop {
        match loki.tail_from(&selector, last_ns, limit).await {
            Ok(mut tail) => {
                let mut skip = at_last;
                if let Ok(mut b) = buffer.lock() {
                    b.notice = None;
                }
                while let Some(msg) = tail.next().await {
                    let batch = match msg {
                        Ok(b) => b,
                        Err(e) => {
                            if let Ok(mut b) = buffer.lock() {
                                b.notice =
                                    Some(format!("Loki tail interrupted: {e}; reconnecting"));
                            }
                            break;
                        }
                    };
                    let Ok(mut b) = buffer.lock() else {
                        return;
                    };
                    b.add_dropped(batch.dropped);
                    for e in batch.entries {
                        if e.at_ns < last_ns {
                            continue;
                        }
                        if e.at_ns == last_ns {
                            if skip > 0 {
                                skip -= 1;
                                continue;
                            }
                            at_last += 1;
                        } else {
                            last_ns = e.at_ns;
                            at_last = 1;
                            skip = 0;
                        }
                        b.push(e.line);
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    "unauthorized" | "forbidden" | "config" | "bad_url"
                ) =>
            {
                if let Ok(mut b) = buffer.lock() {
                    b.ended = Some(e.to_string());
                }
                return;
            }
            Err(e) => {
                if let Ok(mut b) = buffer.lock() {
                    b.notice = Some(format!("{e}; retrying"));
                }
            }
        }
        tokio::time::sleep(sentinel_prom::loki::RETRY).await;
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
