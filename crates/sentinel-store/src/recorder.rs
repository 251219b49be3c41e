//! Turning what the engine was fed into rows: one open chunk per series,
//! sealed at [`CHUNK_SAMPLES`] or [`CHUNK_BYTES`]; the engine's step log as a
//! series of its own.
//! Pure bookkeeping: the caller decides when to write a [`WriteBatch`].

use std::collections::HashMap;

use sentinel_model::{Finding, Mark, SeriesKey, Timestamp};

use crate::chunk::Encoder;
use crate::read::StepKind;

/// Samples per sealed chunk, at most (cheap series: flat ones, counters).
pub const CHUNK_SAMPLES: u32 = 1920;
/// Bytes of encoded samples at which a chunk is sealed before
/// [`CHUNK_SAMPLES`]: four such rows (with their ~30 bytes of row header and
/// cell pointer each) fill a 4 KiB page, where 480 noisy samples (~1.1 KB)
/// fit only three and left a fifth of every page empty.
pub const CHUNK_BYTES: usize = 960;
/// The series that holds the engine's step log (value = [`StepKind`]).
pub const STEP_METRIC: &str = "sentinel_engine_step";

/// Something the engine was fed or reported, in the order it happened.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// The engine registered a series under this handle (handles are reused
    /// after a removal; a new `Define` says so).
    Define { handle: u32, key: SeriesKey },
    /// A reading fed to the engine.
    Sample {
        handle: u32,
        at: Timestamp,
        value: f64,
    },
    /// A step of the engine: readings at `at` were fed, or time was ticked.
    Step { at: Timestamp, kind: StepKind },
    /// The engine forgot a series.
    Remove { handle: u32, at: Timestamp },
    /// A finding the engine reported (fired, escalated or resolved).
    Finding(Box<Finding>),
    /// An operator's verdict on a finding.
    Mark {
        id: String,
        mark: Mark,
        at: Timestamp,
    },
    /// The newest version of an incident.
    Incident(Box<IncidentRow>),
    /// Something an operator did (ack, resolve, reopen, export).
    Audit(AuditRow),
    /// A Kubernetes event a source delivered.
    Event(Box<sentinel_model::ClusterEvent>),
    /// A pod, node or alert appeared, changed or went away.
    Object(Box<ObjectChange>),
    /// A source answered (live, not a start-up backfill).
    Source(SourceSeen),
    /// The rules of the engine session that begins at `at` (JSON).
    Rules { at: Timestamp, body: String },
}

/// A source of the history and when it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceSeen {
    pub name: String,
    pub kind: String,
    pub cluster: String,
    pub at: Timestamp,
}

/// One change of a pod, node or alert: its new JSON, or `None` once gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectChange {
    pub at: Timestamp,
    /// `pod`, `node` or `alert`.
    pub kind: &'static str,
    pub key: String,
    pub body: Option<String>,
}

/// An incident as stored: the filter columns and the whole record as JSON
/// (the store does not know the incident type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentRow {
    pub id: String,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub state: String,
    pub severity: String,
    pub namespaces: Vec<String>,
    pub body: String,
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

#[derive(Clone, Debug)]
struct Stream {
    series: i64,
    chunk: i64,
    enc: Encoder,
    dirty: bool,
}

/// One chunk row to insert or replace.
#[derive(Clone, Debug, PartialEq)]
pub struct ChunkRow {
    pub id: i64,
    pub series: i64,
    pub start_ms: i64,
    pub end_ms: i64,
    pub count: u32,
    pub data: Vec<u8>,
}

/// Rows for one transaction. Writing the same batch twice is harmless, so
/// a batch that failed (a full disk) is kept and retried.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriteBatch {
    pub series: Vec<(i64, String, String)>,
    pub chunks: Vec<ChunkRow>,
    pub removals: Vec<(i64, i64)>,
    pub findings: Vec<(i64, Finding)>,
    pub marks: Vec<(i64, String, Mark, i64)>,
    pub incidents: Vec<IncidentRow>,
    pub audit: Vec<(i64, AuditRow)>,
    pub events: Vec<(i64, sentinel_model::ClusterEvent)>,
    pub objects: Vec<(i64, ObjectChange)>,
    /// Sources by name: kind, cluster, first and last answer in this batch.
    pub sources: Vec<(SourceSeen, Timestamp)>,
    /// Engine sessions' rules: start, JSON.
    pub rules: Vec<(i64, String)>,
}

impl WriteBatch {
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
            && self.chunks.is_empty()
            && self.removals.is_empty()
            && self.findings.is_empty()
            && self.marks.is_empty()
            && self.incidents.is_empty()
            && self.audit.is_empty()
            && self.events.is_empty()
            && self.objects.is_empty()
            && self.sources.is_empty()
            && self.rules.is_empty()
    }

    /// Add a later batch; a chunk written twice keeps its later version.
    pub fn absorb(&mut self, later: WriteBatch) {
        self.series.extend(later.series);
        for c in later.chunks {
            match self.chunks.iter_mut().find(|x| x.id == c.id) {
                Some(x) => *x = c,
                None => self.chunks.push(c),
            }
        }
        self.removals.extend(later.removals);
        self.findings.extend(later.findings);
        self.marks.extend(later.marks);
        for i in later.incidents {
            match self.incidents.iter_mut().find(|x| x.id == i.id) {
                Some(x) => *x = i,
                None => self.incidents.push(i),
            }
        }
        self.audit.extend(later.audit);
        self.events.extend(later.events);
        self.objects.extend(later.objects);
        self.rules.extend(later.rules);
        for (seen, first) in later.sources {
            seen_source(&mut self.sources, seen, first);
        }
    }

    /// Bytes of sample data held (to bound what waits for a full disk).
    pub fn weight(&self) -> usize {
        self.chunks.iter().map(|c| c.data.len() + 48).sum::<usize>()
            + self.findings.len() * 2048
            + self.series.len() * 64
            + self.incidents.iter().map(|i| i.body.len()).sum::<usize>()
            + self.audit.len() * 256
            + self.events.len() * 512
            + self
                .objects
                .iter()
                .map(|(_, o)| o.key.len() + o.body.as_ref().map_or(0, String::len) + 32)
                .sum::<usize>()
    }
}

/// Where the recorder continues numbering (read from the store on open).
#[derive(Clone, Debug, Default)]
pub struct Cursor {
    pub series: HashMap<SeriesKey, i64>,
    pub next_series: i64,
    pub next_chunk: i64,
    pub next_event: i64,
    pub next_cluster_event: i64,
    pub next_audit: i64,
    pub next_object: i64,
}

/// Builds write batches from records.
#[derive(Debug)]
pub struct Recorder {
    cursor: Cursor,
    handles: Vec<Option<i64>>,
    streams: HashMap<i64, Stream>,
    steps: Option<i64>,
    batch: WriteBatch,
    samples: u64,
    /// Samples in open chunks not written since the last `take(true)`.
    unwritten: u64,
}

impl Recorder {
    pub fn new(cursor: Cursor) -> Self {
        Self {
            cursor,
            handles: Vec::new(),
            streams: HashMap::new(),
            steps: None,
            batch: WriteBatch::default(),
            samples: 0,
            unwritten: 0,
        }
    }

    /// Readings recorded since start.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Readings in open chunks that no batch has carried yet.
    pub fn unwritten(&self) -> u64 {
        self.unwritten
    }

    fn series_id(&mut self, key: &SeriesKey) -> i64 {
        if let Some(id) = self.cursor.series.get(key) {
            return *id;
        }
        let id = self.cursor.next_series;
        self.cursor.next_series += 1;
        let labels = serde_json::to_string(&key.labels).unwrap_or_else(|_| "{}".into());
        self.batch.series.push((id, key.metric.clone(), labels));
        self.cursor.series.insert(key.clone(), id);
        id
    }

    fn append(&mut self, series: i64, at: i64, value: f64) {
        let next_chunk = &mut self.cursor.next_chunk;
        let s = self.streams.entry(series).or_insert_with(|| {
            let chunk = *next_chunk;
            *next_chunk += 1;
            Stream {
                series,
                chunk,
                enc: Encoder::new(),
                dirty: false,
            }
        });
        s.enc.push(at, value);
        s.dirty = true;
        self.unwritten += 1;
        if s.enc.len() >= CHUNK_SAMPLES || s.enc.bytes().len() >= CHUNK_BYTES {
            let row = row(s);
            self.batch.chunks.push(row);
            s.enc = Encoder::new();
            s.chunk = self.cursor.next_chunk;
            s.dirty = false;
            self.cursor.next_chunk += 1;
        }
    }

    pub fn record(&mut self, r: Record) {
        match r {
            Record::Define { handle, key } => {
                let id = self.series_id(&key);
                let h = handle as usize;
                if self.handles.len() <= h {
                    self.handles.resize(h + 1, None);
                }
                self.handles[h] = Some(id);
            }
            Record::Sample { handle, at, value } => {
                if let Some(Some(id)) = self.handles.get(handle as usize).copied() {
                    self.append(id, at.millis(), value);
                    self.samples += 1;
                }
            }
            Record::Step { at, kind } => {
                let id = match self.steps {
                    Some(id) => id,
                    None => {
                        let id = self.series_id(&SeriesKey::new(STEP_METRIC, []));
                        self.steps = Some(id);
                        id
                    }
                };
                self.append(id, at.millis(), kind.code());
            }
            Record::Remove { handle, at } => {
                if let Some(Some(id)) = self.handles.get(handle as usize).copied() {
                    self.batch.removals.push((id, at.millis()));
                }
            }
            Record::Finding(f) => {
                let seq = self.cursor.next_event;
                self.cursor.next_event += 1;
                self.batch.findings.push((seq, *f));
            }
            Record::Mark { id, mark, at } => {
                let seq = self.cursor.next_audit;
                self.cursor.next_audit += 1;
                self.batch.marks.push((seq, id, mark, at.millis()));
            }
            Record::Incident(row) => match self.batch.incidents.iter_mut().find(|x| x.id == row.id)
            {
                Some(x) => *x = *row,
                None => self.batch.incidents.push(*row),
            },
            Record::Audit(row) => {
                let seq = self.cursor.next_audit;
                self.cursor.next_audit += 1;
                self.batch.audit.push((seq, row));
            }
            Record::Object(o) => {
                let seq = self.cursor.next_object;
                self.cursor.next_object += 1;
                self.batch.objects.push((seq, *o));
            }
            Record::Rules { at, body } => self.batch.rules.push((at.millis(), body)),
            Record::Source(seen) => {
                let at = seen.at;
                seen_source(&mut self.batch.sources, seen, at);
            }
            Record::Event(e) => {
                let seq = self.cursor.next_cluster_event;
                self.cursor.next_cluster_event += 1;
                self.batch.events.push((seq, *e));
            }
        }
    }

    /// What is ready to write. With `open`, the unsealed chunks too (their
    /// rows are rewritten in place until sealed).
    pub fn take(&mut self, open: bool) -> WriteBatch {
        let mut batch = std::mem::take(&mut self.batch);
        if open {
            self.unwritten = 0;
            let mut ids: Vec<i64> = self
                .streams
                .values()
                .filter(|s| s.dirty && !s.enc.is_empty())
                .map(|s| s.series)
                .collect();
            ids.sort_unstable();
            for id in ids {
                if let Some(s) = self.streams.get_mut(&id) {
                    batch.chunks.push(row(s));
                    s.dirty = false;
                }
            }
        }
        batch
    }
}

/// Folds a sighting into the batch's sources: one entry per name, first
/// and last time kept.
fn seen_source(into: &mut Vec<(SourceSeen, Timestamp)>, seen: SourceSeen, first: Timestamp) {
    match into.iter_mut().find(|(s, _)| s.name == seen.name) {
        Some((s, f)) => {
            *f = (*f).min(first);
            if seen.at > s.at {
                *s = seen;
            }
        }
        None => into.push((seen, first)),
    }
}

fn row(s: &Stream) -> ChunkRow {
    let (start_ms, end_ms) = s.enc.span().unwrap_or((0, 0));
    ChunkRow {
        id: s.chunk,
        series: s.series,
        start_ms,
        end_ms,
        count: s.enc.len(),
        data: s.enc.bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    #[test]
    fn chunks_seal_at_the_limit_and_open_ones_are_written_on_request() {
        let mut r = Recorder::new(Cursor {
            next_series: 1,
            next_chunk: 1,
            ..Cursor::default()
        });
        let key = SeriesKey::new("m", [("a", "b")]);
        r.record(Record::Define { handle: 0, key });
        // A flat series: cheap to encode, so the sample limit seals it.
        for i in 0..(CHUNK_SAMPLES as i64 + 10) {
            r.record(Record::Sample {
                handle: 0,
                at: t(i * 1000),
                value: 1.0,
            });
        }
        let b = r.take(false);
        assert_eq!(b.series.len(), 1);
        assert_eq!(b.chunks.len(), 1, "one sealed chunk");
        assert_eq!(b.chunks[0].count, CHUNK_SAMPLES);
        let b = r.take(true);
        assert_eq!(b.chunks.len(), 1, "the open chunk");
        assert_eq!(b.chunks[0].count, 10);
        assert!(r.take(true).is_empty(), "nothing new since");
        // Samples for an unknown handle are not invented a series.
        r.record(Record::Sample {
            handle: 7,
            at: t(1),
            value: 1.0,
        });
        assert!(r.take(true).is_empty());
    }

    #[test]
    fn noisy_series_seal_by_bytes_so_rows_fill_pages() {
        let mut r = Recorder::new(Cursor {
            next_series: 1,
            next_chunk: 1,
            ..Cursor::default()
        });
        r.record(Record::Define {
            handle: 0,
            key: SeriesKey::new("noisy", [("a", "b")]),
        });
        // Values whose XOR with the previous one is wide: several bytes each.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            r.record(Record::Sample {
                handle: 0,
                at: t(i * 1000),
                value: (x % 1_000_000) as f64 / 7.0,
            });
        }
        let b = r.take(false);
        assert!(b.chunks.len() > 2);
        for c in &b.chunks {
            assert!(
                c.count < CHUNK_SAMPLES,
                "sealed by bytes first: {}",
                c.count
            );
            assert!(
                (CHUNK_BYTES..CHUNK_BYTES + 32).contains(&c.data.len()),
                "{} bytes",
                c.data.len()
            );
        }
    }

    #[test]
    fn a_retried_batch_keeps_the_later_chunk_version() {
        let mut a = WriteBatch::default();
        let c = |count| ChunkRow {
            id: 3,
            series: 1,
            start_ms: 0,
            end_ms: 0,
            count,
            data: vec![],
        };
        a.chunks.push(c(5));
        a.absorb(WriteBatch {
            chunks: vec![c(9)],
            ..WriteBatch::default()
        });
        assert_eq!(a.chunks, vec![c(9)]);
    }
}
