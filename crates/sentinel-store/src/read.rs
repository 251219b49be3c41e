//! Reading history back: the engine's input, step by step, for replay;
//! findings as they were reported; feedback; sizes.

use std::collections::{BTreeMap, HashMap, VecDeque};

use sentinel_model::{Finding, Labels, Mark, OperatorMark, SeriesKey, Timestamp};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::chunk::decode;
use crate::recorder::STEP_METRIC;
use crate::{Store, StoreError};

/// What kind of step the engine took.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepKind {
    /// Readings were fed (all recorded readings stamped with the step's time).
    Feed,
    /// Time passed without readings (absence rules).
    Tick,
    /// A new engine began (the app started): replay starts a fresh one.
    Reset,
    /// Operators marked findings (the audit log says which).
    Mark,
}

impl StepKind {
    pub fn code(self) -> f64 {
        match self {
            StepKind::Feed => 0.0,
            StepKind::Tick => 1.0,
            StepKind::Reset => 2.0,
            StepKind::Mark => 3.0,
        }
    }

    fn from_code(v: f64) -> Option<Self> {
        match v as i64 {
            0 => Some(StepKind::Feed),
            1 => Some(StepKind::Tick),
            2 => Some(StepKind::Reset),
            3 => Some(StepKind::Mark),
            _ => None,
        }
    }
}

/// One recorded step of engine input.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Reset(Timestamp),
    Tick(Timestamp),
    /// Operators' verdicts, in the order given.
    Mark {
        at: Timestamp,
        marks: Vec<(String, Mark)>,
    },
    /// Forget `removed`, then feed `readings` (store series ids; see
    /// [`InputReader::key`]), all at `at`.
    Feed {
        at: Timestamp,
        removed: Vec<i64>,
        readings: Vec<(i64, f64)>,
    },
}

/// Sizes of a history, for `sentinel history stats`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// The database file with its WAL.
    pub bytes: u64,
    pub series: u64,
    pub chunks: u64,
    pub samples: u64,
    /// Compressed sample data alone.
    pub sample_bytes: u64,
    pub bytes_per_sample: f64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub span_seconds: f64,
    pub findings_reported: u64,
    pub engine_steps: u64,
    /// Where it was recorded from: `cluster/name (kind)`.
    #[serde(default)]
    pub sources: Vec<String>,
}

/// Chunks are read this far ahead of the step being replayed.
const PAGE_MS: i64 = 3_600_000;

/// The engine's recorded input, step by step, reading sample chunks as the
/// replay reaches them (memory stays bounded by about an hour of chunks).
/// A clone continues from the same step (a replay's checkpoint).
#[derive(Clone)]
pub struct InputReader {
    store: Store,
    keys: std::sync::Arc<HashMap<i64, SeriesKey>>,
    steps: std::vec::IntoIter<(i64, StepKind)>,
    removals: BTreeMap<i64, Vec<i64>>,
    marks: BTreeMap<i64, Vec<(String, Mark)>>,
    /// Chunks with `start_ms` up to here have been read.
    loaded_to: i64,
    step_series: Option<i64>,
    queues: HashMap<i64, VecDeque<(i64, f64)>>,
    /// Series by the time of their next unfed reading.
    fronts: BTreeMap<i64, Vec<i64>>,
}

impl InputReader {
    /// The key of a store series id.
    pub fn key(&self, id: i64) -> Option<&SeriesKey> {
        self.keys.get(&id)
    }

    /// The time and kind of the next step, without taking it.
    pub fn peek(&self) -> Option<(Timestamp, StepKind)> {
        self.steps
            .as_slice()
            .first()
            .map(|(t, k)| (Timestamp(*t), *k))
    }

    /// Steps left.
    pub fn remaining(&self) -> usize {
        self.steps.len()
    }

    /// The next step, `None` at the end of the recording.
    pub async fn next(&mut self) -> Result<Option<Input>, StoreError> {
        let Some((at, kind)) = self.steps.next() else {
            return Ok(None);
        };
        let ts = Timestamp(at);
        Ok(Some(match kind {
            StepKind::Reset => Input::Reset(ts),
            StepKind::Tick => Input::Tick(ts),
            StepKind::Mark => Input::Mark {
                at: ts,
                marks: self.marks.remove(&at).unwrap_or_default(),
            },
            StepKind::Feed => {
                if at > self.loaded_to {
                    self.load(at.saturating_add(PAGE_MS)).await?;
                }
                let removed = self.removals.remove(&at).unwrap_or_default();
                let mut readings = Vec::new();
                let mut series = self.fronts.remove(&at).unwrap_or_default();
                series.sort_unstable();
                for s in series {
                    let Some(q) = self.queues.get_mut(&s) else {
                        continue;
                    };
                    while let Some(&(t, v)) = q.front() {
                        if t != at {
                            break;
                        }
                        readings.push((s, v));
                        q.pop_front();
                    }
                    if let Some(&(t, _)) = q.front() {
                        self.fronts.entry(t).or_default().push(s);
                    }
                }
                Input::Feed {
                    at: ts,
                    removed,
                    readings,
                }
            }
        }))
    }

    async fn load(&mut self, to: i64) -> Result<(), StoreError> {
        let rows = sqlx::query(
            "SELECT series_id, count, data FROM chunks \
             WHERE start_ms > ? AND start_ms <= ? AND series_id IS NOT ? \
             ORDER BY start_ms, id",
        )
        .bind(self.loaded_to)
        .bind(to)
        .bind(self.step_series)
        .fetch_all(&self.store.pool)
        .await?;
        self.loaded_to = to;
        for r in rows {
            let series: i64 = r.try_get("series_id")?;
            let count: i64 = r.try_get("count")?;
            let data: Vec<u8> = r.try_get("data")?;
            let points = decode(&data, u32::try_from(count).unwrap_or(0))
                .map_err(|e| StoreError::Damaged(format!("series {series}: {e}")))?;
            let q = self.queues.entry(series).or_default();
            let was_empty = q.is_empty();
            q.extend(points);
            if was_empty && let Some(&(t, _)) = q.front() {
                self.fronts.entry(t).or_default().push(series);
            }
        }
        Ok(())
    }
}

impl Store {
    /// Every series by id.
    pub async fn series_keys(&self) -> Result<HashMap<i64, SeriesKey>, StoreError> {
        let mut keys = HashMap::new();
        for r in sqlx::query("SELECT id, metric, labels FROM series")
            .fetch_all(&self.pool)
            .await?
        {
            let id: i64 = r.try_get("id")?;
            let metric: String = r.try_get("metric")?;
            let labels: String = r.try_get("labels")?;
            let labels: Labels = serde_json::from_str(&labels)
                .map_err(|e| StoreError::Damaged(format!("labels of series {id}: {e}")))?;
            keys.insert(id, SeriesKey { metric, labels });
        }
        Ok(keys)
    }

    /// The recorded engine input from the start of the recording.
    pub async fn input(&self) -> Result<InputReader, StoreError> {
        let keys = self.series_keys().await?;
        let step_series = keys
            .iter()
            .find(|(_, k)| k.metric == STEP_METRIC && k.labels.is_empty())
            .map(|(id, _)| *id);
        let mut steps = Vec::new();
        if let Some(id) = step_series {
            for r in sqlx::query("SELECT count, data FROM chunks WHERE series_id = ? ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?
            {
                let count: i64 = r.try_get("count")?;
                let data: Vec<u8> = r.try_get("data")?;
                let points = decode(&data, u32::try_from(count).unwrap_or(0))
                    .map_err(|e| StoreError::Damaged(format!("the step log: {e}")))?;
                for (t, v) in points {
                    let kind = StepKind::from_code(v)
                        .ok_or_else(|| StoreError::Damaged(format!("step kind {v}")))?;
                    steps.push((t, kind));
                }
            }
        }
        let mut removals: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for r in sqlx::query("SELECT series_id, at_ms FROM removals ORDER BY at_ms, series_id")
            .fetch_all(&self.pool)
            .await?
        {
            removals
                .entry(r.try_get("at_ms")?)
                .or_default()
                .push(r.try_get("series_id")?);
        }
        let mut marks: BTreeMap<i64, Vec<(String, Mark)>> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT at_ms, target, detail FROM audit WHERE action = 'feedback' ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let detail: String = r.try_get("detail")?;
            marks
                .entry(r.try_get("at_ms")?)
                .or_default()
                .push((r.try_get("target")?, parse_mark(&detail)?));
        }
        Ok(InputReader {
            store: self.clone(),
            keys: std::sync::Arc::new(keys),
            steps: steps.into_iter(),
            removals,
            marks,
            loaded_to: i64::MIN,
            step_series,
            queues: HashMap::new(),
            fronts: BTreeMap::new(),
        })
    }

    /// The rules of each recorded engine session, by the session's start
    /// (JSON rule lists; histories written before they were kept have none).
    pub async fn engine_rules(&self) -> Result<BTreeMap<i64, String>, StoreError> {
        let mut out = BTreeMap::new();
        for r in sqlx::query("SELECT at_ms, body FROM engine_rules")
            .fetch_all(&self.pool)
            .await?
        {
            out.insert(r.try_get("at_ms")?, r.try_get("body")?);
        }
        Ok(out)
    }

    /// Findings as the engine reported them, in order.
    pub async fn reported_findings(&self) -> Result<Vec<Finding>, StoreError> {
        let rows = sqlx::query("SELECT seq, body FROM finding_events ORDER BY seq")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(finding_event).collect()
    }

    /// The newest reported version of each finding in `ids` (unknown ids
    /// are skipped), in the order they were last reported, with the
    /// operator's latest verdict on it (which may postdate that version).
    pub async fn latest_findings(&self, ids: &[String]) -> Result<Vec<Finding>, StoreError> {
        let mut out = Vec::new();
        // SQLite binds at most 32,766 variables; ask in slices.
        for part in ids.chunks(500) {
            let marks = vec!["?"; part.len()].join(", ");
            let sql = format!(
                "SELECT e.seq, e.body, f.mark, f.at_ms AS mark_ms FROM finding_events e \
                 LEFT JOIN feedback f ON f.finding_id = e.finding_id WHERE e.seq IN \
                 (SELECT MAX(seq) FROM finding_events WHERE finding_id IN ({marks}) \
                 GROUP BY finding_id)"
            );
            let mut q = sqlx::query(&sql);
            for id in part {
                q = q.bind(id);
            }
            for r in q.fetch_all(&self.pool).await? {
                let seq: i64 = r.try_get("seq")?;
                let mut f = finding_event(&r)?;
                if let Some(mark) = r.try_get::<Option<String>, _>("mark")? {
                    f.trace.mark = Some(OperatorMark {
                        mark: parse_mark(&mark)?,
                        at: Timestamp(r.try_get("mark_ms")?),
                    });
                }
                out.push((seq, f));
            }
        }
        out.sort_by_key(|(seq, _)| *seq);
        Ok(out.into_iter().map(|(_, f)| f).collect())
    }

    /// The operators' verdicts, by finding id.
    pub async fn marks(&self) -> Result<HashMap<String, OperatorMark>, StoreError> {
        let rows = sqlx::query("SELECT finding_id, mark, at_ms FROM feedback")
            .fetch_all(&self.pool)
            .await?;
        let mut out = HashMap::new();
        for r in rows {
            let id: String = r.try_get("finding_id")?;
            let mark: String = r.try_get("mark")?;
            let mark = parse_mark(&mark)?;
            out.insert(
                id,
                OperatorMark {
                    mark,
                    at: Timestamp(r.try_get("at_ms")?),
                },
            );
        }
        Ok(out)
    }

    /// `PRAGMA integrity_check`: "ok", or what is wrong.
    pub async fn integrity(&self) -> Result<String, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.join("; "))
    }

    /// Kubernetes events with their time in `[from, to]`, oldest first, at
    /// most `limit`. A damaged row is skipped.
    pub async fn cluster_events(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<sentinel_model::ClusterEvent>, StoreError> {
        let rows = sqlx::query_scalar::<_, String>(
            "SELECT body FROM cluster_events WHERE at_ms BETWEEN ? AND ? ORDER BY at_ms, seq LIMIT ?",
        )
        .bind(from.millis())
        .bind(to.millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|b| serde_json::from_str(b).ok())
            .collect())
    }

    /// Bytes of database pages per table and index (SQLite's `dbstat`),
    /// largest first.
    pub async fn table_bytes(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let name: String = r.try_get("name")?;
            let bytes: i64 = r.try_get("bytes")?;
            out.push((name, u64::try_from(bytes).unwrap_or(0)));
        }
        Ok(out)
    }

    /// The database file and its WAL, in bytes.
    pub fn file_bytes(&self) -> u64 {
        ["", "-wal"]
            .iter()
            .map(|ext| {
                let p = format!("{}{ext}", self.path.display());
                std::fs::metadata(&p).map_or(0, |m| m.len())
            })
            .sum()
    }

    pub async fn stats(&self) -> Result<Stats, StoreError> {
        let bytes = self.file_bytes();
        let q = |sql: &'static str| async move {
            sqlx::query_scalar::<_, Option<i64>>(sql)
                .fetch_one(&self.pool)
                .await
        };
        let step = "(SELECT id FROM series WHERE metric = 'sentinel_engine_step')";
        let samples = sqlx::query(&format!(
            "SELECT COUNT(*) AS chunks, COALESCE(SUM(count), 0) AS samples, \
             COALESCE(SUM(LENGTH(data)), 0) AS data, MIN(start_ms) AS first, MAX(end_ms) AS last \
             FROM chunks WHERE series_id IS NOT {step}"
        ))
        .fetch_one(&self.pool)
        .await?;
        let steps = sqlx::query_scalar::<_, Option<i64>>(&format!(
            "SELECT SUM(count) FROM chunks WHERE series_id IS {step}"
        ))
        .fetch_one(&self.pool)
        .await?;
        let n: i64 = samples.try_get("samples")?;
        let first: Option<i64> = samples.try_get("first")?;
        let last: Option<i64> = samples.try_get("last")?;
        let series =
            q("SELECT COUNT(*) FROM series WHERE metric != 'sentinel_engine_step'").await?;
        let findings = q("SELECT COUNT(*) FROM finding_events").await?;
        let as_u64 = |v: Option<i64>| v.map_or(0, |v| u64::try_from(v).unwrap_or(0));
        Ok(Stats {
            bytes,
            series: as_u64(series),
            chunks: as_u64(samples.try_get("chunks")?),
            samples: as_u64(Some(n)),
            sample_bytes: as_u64(samples.try_get("data")?),
            bytes_per_sample: if n > 0 { bytes as f64 / n as f64 } else { 0.0 },
            first_ms: first,
            last_ms: last,
            span_seconds: match (first, last) {
                (Some(a), Some(b)) => (b - a) as f64 / 1000.0,
                _ => 0.0,
            },
            findings_reported: as_u64(findings),
            engine_steps: as_u64(steps),
            sources: self
                .sources()
                .await?
                .into_iter()
                .map(|s| format!("{}/{} ({})", s.cluster, s.name, s.kind))
                .collect(),
        })
    }
}

/// A `finding_events` row (`seq`, `body`) as its finding.
pub(crate) fn finding_event(r: &sqlx::sqlite::SqliteRow) -> Result<Finding, StoreError> {
    let seq: i64 = r.try_get("seq")?;
    let body: String = r.try_get("body")?;
    serde_json::from_str(&body)
        .map_err(|e| StoreError::Damaged(format!("finding event {seq}: {e}")))
}

fn parse_mark(s: &str) -> Result<Mark, StoreError> {
    [Mark::FalsePositive, Mark::Confirmed]
        .into_iter()
        .find(|m| m.as_str() == s)
        .ok_or_else(|| StoreError::Damaged(format!("feedback mark {s:?}")))
}
