//! Replay: the same engine fed from the history with the recorded clock.
//! Every step the live engine took (feeds, ticks, removals, operators'
//! marks, restarts) is taken again in the same order, so the findings and
//! their traces come out exactly as they were reported live.

use std::collections::HashMap;

use sentinel_detect::{Engine, RuleFile, SeriesId};
use sentinel_model::{Finding, Timestamp};
use sentinel_store::{Input, InputReader, Store, StoreError};

/// What one replayed step did.
#[derive(Debug, Default)]
pub struct Step {
    pub at: Option<Timestamp>,
    /// Findings the engine reported at this step, in its order.
    pub findings: Vec<Finding>,
    /// Readings fed at this step.
    pub readings: usize,
}

pub struct Replay {
    input: InputReader,
    rules: RuleFile,
    engine: Engine,
    ids: HashMap<i64, SeriesId>,
    out: Vec<Finding>,
    readings: u64,
}

impl Replay {
    /// Replay `store` through a fresh engine with `rules` (the rules the
    /// recording was made with, for identical findings).
    pub async fn open(store: &Store, rules: RuleFile) -> Result<Self, StoreError> {
        Ok(Self {
            input: store.input().await?,
            engine: Engine::new(rules.clone()),
            rules,
            ids: HashMap::new(),
            out: Vec::new(),
            readings: 0,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Readings fed so far.
    pub fn readings(&self) -> u64 {
        self.readings
    }

    /// Take the next recorded step; `None` at the end of the recording.
    pub async fn step(&mut self) -> Result<Option<Step>, StoreError> {
        let Some(input) = self.input.next().await? else {
            return Ok(None);
        };
        let mut step = Step::default();
        match input {
            Input::Reset(at) => {
                step.at = Some(at);
                self.engine = Engine::new(self.rules.clone());
                self.ids.clear();
            }
            Input::Tick(at) => {
                step.at = Some(at);
                self.engine.tick(at, &mut self.out);
            }
            Input::Mark { at, marks } => {
                step.at = Some(at);
                for (id, mark) in marks {
                    self.engine.mark(&id, mark, at);
                }
            }
            Input::Feed {
                at,
                removed,
                readings,
            } => {
                step.at = Some(at);
                for sid in removed {
                    if let Some(id) = self.ids.remove(&sid) {
                        self.engine.remove(id, at, &mut self.out);
                    }
                }
                step.readings = readings.len();
                for (sid, value) in readings {
                    let id = match self.ids.get(&sid) {
                        Some(id) => *id,
                        None => {
                            let Some(key) = self.input.key(sid) else {
                                continue;
                            };
                            let id = self.engine.series(key);
                            self.ids.insert(sid, id);
                            id
                        }
                    };
                    self.engine.observe(id, at, value, &mut self.out);
                }
                self.readings += step.readings as u64;
            }
        }
        step.findings = std::mem::take(&mut self.out);
        Ok(Some(step))
    }
}
