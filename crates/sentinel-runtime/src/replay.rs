//! Replay: the same engine fed from the history with the recorded clock.
//! Every step the live engine took (feeds, ticks, removals, operators'
//! marks, restarts) is taken again in the same order, so the findings and
//! their traces come out exactly as they were reported live.
//!
//! Seeking: with checkpoints on, the replay keeps copies of its whole state
//! (engine and input position) as it goes; seeking back restores the last
//! copy before the target and runs forward from it, so what follows a seek
//! is what followed that moment the first time, bit for bit.

use std::collections::HashMap;

use sentinel_detect::{Engine, RuleFile, SeriesId};
use sentinel_model::{Duration, Finding, Timestamp};
use sentinel_store::{Input, InputReader, StepKind, Store, StoreError};

/// What one replayed step did.
#[derive(Debug, Default)]
pub struct Step {
    pub at: Option<Timestamp>,
    /// Findings the engine reported at this step, in its order.
    pub findings: Vec<Finding>,
    /// Readings fed at this step.
    pub readings: usize,
}

/// Everything a replay is at one step.
#[derive(Clone)]
struct Point {
    input: InputReader,
    engine: Engine,
    ids: HashMap<i64, SeriesId>,
    readings: u64,
    /// Steps taken.
    steps: u64,
    /// The newest feed taken.
    fed_to: Option<Timestamp>,
}

/// Checkpoints kept at most; past this their spacing doubles.
pub const MAX_CHECKPOINTS: usize = 48;
/// What the checkpoints of one replay may take, and what one takes per
/// series the engine holds (measured: about 18 KB a series with the default
/// rules, the engine's windows and an hour of read-ahead). A replay of 5,000
/// series keeps two or three; a bundle of a few hundred keeps 48.
const CHECKPOINT_BYTES: usize = 256 << 20;
const CHECKPOINT_BYTES_PER_SERIES: usize = 20 << 10;

pub struct Replay {
    at: Point,
    /// The rules for sessions the history keeps none for.
    rules: RuleFile,
    /// The rules each recorded engine session ran with, by its start.
    recorded: std::collections::BTreeMap<i64, RuleFile>,
    out: Vec<Finding>,
    /// A feed step's readings by engine series, fed in one call.
    batch: Vec<(SeriesId, f64)>,
    /// Copies of the state before a feed step, in step order.
    checkpoints: Vec<Point>,
    every: Option<Duration>,
}

impl Replay {
    /// Replay `store` through a fresh engine. Each recorded engine session
    /// runs with the rules it was recorded with (imported rule files
    /// included); `rules` serve sessions recorded before rules were kept.
    pub async fn open(store: &Store, rules: RuleFile) -> Result<Self, StoreError> {
        let mut recorded = std::collections::BTreeMap::new();
        for (at, body) in store.engine_rules().await? {
            let list: Vec<sentinel_detect::Rule> = serde_json::from_str(&body)
                .map_err(|e| StoreError::Damaged(format!("the rules recorded at {at}: {e}")))?;
            recorded.insert(at, RuleFile { rules: list });
        }
        Ok(Self {
            recorded,
            at: Point {
                input: store.input().await?,
                engine: Engine::new(rules.clone()),
                ids: HashMap::new(),
                readings: 0,
                steps: 0,
                fed_to: None,
            },
            rules,
            out: Vec::new(),
            batch: Vec::new(),
            checkpoints: Vec::new(),
            every: None,
        })
    }

    /// Keep a checkpoint at least every `every` of recorded time (spaced
    /// wider when there would be more than [`MAX_CHECKPOINTS`], or more than
    /// 256 MB of them), so
    /// [`Replay::seek`] can go back.
    pub fn with_checkpoints(mut self, every: Duration) -> Self {
        self.every = Some(every.max(Duration::from_secs(1)));
        if self.checkpoints.is_empty() {
            self.checkpoints.push(self.at.clone());
        }
        self
    }

    pub fn engine(&self) -> &Engine {
        &self.at.engine
    }

    /// Readings fed so far.
    pub fn readings(&self) -> u64 {
        self.at.readings
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.at.steps
    }

    /// The newest recorded time fed so far.
    pub fn fed_to(&self) -> Option<Timestamp> {
        self.at.fed_to
    }

    /// Checkpoints held.
    pub fn checkpoints(&self) -> usize {
        self.checkpoints.len()
    }

    fn checkpoint(&mut self, next: Timestamp) {
        let Some(every) = self.every else { return };
        let last = self.checkpoints.last().map(|c| (c.steps, c.fed_to));
        match last {
            Some((steps, _)) if steps >= self.at.steps => return,
            Some((_, Some(t))) if next.since(t) < every => return,
            _ => {}
        }
        self.checkpoints.push(self.at.clone());
        let each = self.at.engine.series_count().max(1) * CHECKPOINT_BYTES_PER_SERIES;
        let most = (CHECKPOINT_BYTES / each).clamp(2, MAX_CHECKPOINTS);
        while self.checkpoints.len() > most {
            // Keep the first and every other one; twice the spacing on.
            let mut i = 0;
            self.checkpoints.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            let spaced = self.every.unwrap_or(every);
            self.every = Some(Duration(spaced.0.saturating_mul(2)));
        }
    }

    /// Take the next recorded step; `None` at the end of the recording.
    pub async fn step(&mut self) -> Result<Option<Step>, StoreError> {
        if let Some((at, StepKind::Feed)) = self.at.input.peek() {
            self.checkpoint(at);
        }
        let Some(input) = self.at.input.next().await? else {
            return Ok(None);
        };
        let p = &mut self.at;
        p.steps += 1;
        let mut step = Step::default();
        match input {
            Input::Reset(at) => {
                step.at = Some(at);
                let rules = self.recorded.get(&at.millis()).unwrap_or(&self.rules);
                p.engine = Engine::new(rules.clone());
                p.ids.clear();
            }
            Input::Tick(at) => {
                step.at = Some(at);
                p.engine.tick(at, &mut self.out);
            }
            Input::Mark { at, marks } => {
                step.at = Some(at);
                for (id, mark) in marks {
                    p.engine.mark(&id, mark, at);
                }
            }
            Input::Feed {
                at,
                removed,
                readings,
            } => {
                step.at = Some(at);
                p.fed_to = Some(p.fed_to.map_or(at, |t| t.max(at)));
                for sid in removed {
                    if let Some(id) = p.ids.remove(&sid) {
                        p.engine.remove(id, at, &mut self.out);
                    }
                }
                step.readings = readings.len();
                self.batch.clear();
                for (sid, value) in readings {
                    let id = match p.ids.get(&sid) {
                        Some(id) => *id,
                        None => {
                            let Some(key) = p.input.key(sid) else {
                                continue;
                            };
                            let id = p.engine.series(key);
                            p.ids.insert(sid, id);
                            id
                        }
                    };
                    self.batch.push((id, value));
                }
                let batch = self.batch.iter().copied();
                p.engine.observe_all(at, batch, &mut self.out);
                p.readings += step.readings as u64;
            }
        }
        step.findings = std::mem::take(&mut self.out);
        Ok(Some(step))
    }

    /// Whether the next step is a feed later than `to` (or the end).
    fn past(&self, to: Timestamp) -> bool {
        match self.at.input.peek() {
            None => true,
            Some((at, StepKind::Feed)) => at > to,
            Some(_) => false,
        }
    }

    /// Goes to `to`: every step up to the first feed later than `to` is
    /// taken (ticks, marks and restarts before it too). Backwards, the
    /// replay restarts from the last checkpoint before `to` (from the
    /// start without checkpoints). Returns the findings reported on the way
    /// forward, in order.
    pub async fn seek(&mut self, to: Timestamp) -> Result<Vec<Finding>, StoreError> {
        let behind = self.at.fed_to.is_some_and(|t| t > to);
        // A checkpoint that fed nothing later than `to` is on the way to
        // it (the first later feed comes after it, or is its next step).
        let best = self
            .checkpoints
            .iter()
            .rposition(|c| c.fed_to.is_none_or(|t| t <= to));
        match best {
            Some(i) if behind || self.checkpoints[i].steps > self.at.steps => {
                self.at = self.checkpoints[i].clone();
            }
            None if behind => {
                let Some(first) = self.checkpoints.first() else {
                    return Err(StoreError::Invalid(
                        "this replay cannot go back: it keeps no checkpoints".into(),
                    ));
                };
                self.at = first.clone();
            }
            _ => {}
        }
        let mut found = Vec::new();
        while !self.past(to) {
            match self.step().await? {
                Some(step) => found.extend(step.findings),
                None => break,
            }
        }
        Ok(found)
    }
}
