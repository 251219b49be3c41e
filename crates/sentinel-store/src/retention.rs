//! Retention: raw samples are kept for a while, then summarised into
//! one-minute rollups (min/max/sum/count) that are kept longer; a disk
//! budget ages raw samples (then rollups) out sooner when the history grows
//! past it. Samples around a stored incident stay raw until the incident is
//! deleted, so it can always be replayed.
//!
//! "Now" is the newest recorded sample, not the wall clock: a history that
//! was not written for a month does not lose its last week on opening.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::recorder::STEP_METRIC;
use crate::{Store, StoreError};

pub(crate) const DAY_MS: i64 = 86_400_000;
pub(crate) const MINUTE_MS: i64 = 60_000;
/// Raw samples this close to a stored incident are kept with it.
pub const INCIDENT_MARGIN_MS: i64 = 15 * MINUTE_MS;
/// Chunks rolled up per transaction.
pub(crate) const BATCH: i64 = 2000;

/// How long history is kept, and how much disk it may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Days of raw samples.
    pub raw_days: u32,
    /// Days of one-minute rollups.
    pub rollup_days: u32,
    /// The most the history may use, in MiB.
    pub budget_mib: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            raw_days: 7,
            rollup_days: 90,
            budget_mib: 2048,
        }
    }
}

impl Retention {
    /// The same settings, or why they cannot be used.
    pub fn validated(self) -> Result<Self, String> {
        if !(1..=3650).contains(&self.raw_days) {
            return Err(format!(
                "raw samples must be kept 1 to 3650 days, not {}",
                self.raw_days
            ));
        }
        if self.rollup_days < self.raw_days || self.rollup_days > 36_500 {
            return Err(format!(
                "rollups must be kept at least as long as raw samples ({} days) and at most 36500 days, not {}",
                self.raw_days, self.rollup_days
            ));
        }
        if self.budget_mib < 16 {
            return Err(format!(
                "the disk budget must be at least 16 MiB, not {}",
                self.budget_mib
            ));
        }
        Ok(self)
    }
}

/// What the history takes now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// The database file and its WAL.
    pub file_bytes: u64,
    /// Pages in use (free pages are reused before the file grows).
    pub used_bytes: u64,
    /// Compressed raw samples.
    pub raw_bytes: u64,
    pub raw_chunks: u64,
    pub rollup_minutes: u64,
    pub oldest_raw_ms: Option<i64>,
    pub newest_raw_ms: Option<i64>,
    pub oldest_rollup_ms: Option<i64>,
    pub incidents: u64,
}

/// What one enforcement did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enforced {
    /// Raw chunks summarised and deleted for age.
    pub aged_chunks: u64,
    /// Raw chunks deleted for the budget.
    pub budget_chunks: u64,
    /// Rollup blocks deleted (for age or budget).
    pub rollups_deleted: u64,
    /// The history was over its budget; the oldest data was dropped.
    pub budget_hit: bool,
    /// Still over the budget with nothing left to drop but incidents' samples.
    pub over_budget: bool,
    /// Superseded pod, node and alert changes and old Kubernetes events
    /// deleted.
    pub objects_compacted: u64,
    /// Raw samples older than this are gone (outside incidents).
    pub raw_before_ms: Option<i64>,
}

impl Enforced {
    pub fn is_empty(&self) -> bool {
        self.aged_chunks == 0 && self.budget_chunks == 0 && self.rollups_deleted == 0
    }
}

/// One minute of one series.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rollup {
    pub minute_ms: i64,
    pub min: f64,
    pub max: f64,
    pub avg: f64,
    pub count: u64,
}

const KEYS: [&str; 3] = [
    "retention.raw_days",
    "retention.rollup_days",
    "retention.budget_mib",
];

/// Chunks that may age out: not the step log's is decided by the caller;
/// none that overlaps a stored incident (with its margin).
pub(crate) const OUTSIDE_INCIDENTS: &str = "NOT EXISTS (SELECT 1 FROM incidents i \
     WHERE c.start_ms <= i.updated_ms + ?1 AND c.end_ms >= i.opened_ms - ?1)";

impl Store {
    /// The retention settings this history keeps (defaults where unset or
    /// unreadable).
    pub async fn retention(&self) -> Result<Retention, StoreError> {
        let mut r = Retention::default();
        for row in sqlx::query("SELECT key, value FROM settings WHERE key LIKE 'retention.%'")
            .fetch_all(&self.pool)
            .await?
        {
            let key: String = row.try_get("key")?;
            let value: String = row.try_get("value")?;
            match key.as_str() {
                "retention.raw_days" => r.raw_days = value.parse().unwrap_or(r.raw_days),
                "retention.rollup_days" => r.rollup_days = value.parse().unwrap_or(r.rollup_days),
                "retention.budget_mib" => r.budget_mib = value.parse().unwrap_or(r.budget_mib),
                _ => {}
            }
        }
        Ok(r.validated().unwrap_or_default())
    }

    /// Keeps new retention settings (validated) in the history itself.
    pub async fn set_retention(&self, r: Retention) -> Result<Retention, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        let r = r.validated().map_err(StoreError::Invalid)?;
        let values = [
            r.raw_days.to_string(),
            r.rollup_days.to_string(),
            r.budget_mib.to_string(),
        ];
        let mut tx = self.pool.begin().await.map_err(StoreError::from_sql)?;
        for (k, v) in KEYS.iter().zip(values) {
            sqlx::query("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)")
                .bind(k)
                .bind(v)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_sql)?;
        }
        tx.commit().await.map_err(StoreError::from_sql)?;
        Ok(r)
    }

    async fn used_bytes(&self) -> Result<u64, StoreError> {
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&self.pool)
            .await?;
        let free: i64 = sqlx::query_scalar("PRAGMA freelist_count")
            .fetch_one(&self.pool)
            .await?;
        let size: i64 = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from((pages - free).max(0) * size).unwrap_or(0))
    }

    /// What the history takes now.
    pub async fn usage(&self) -> Result<Usage, StoreError> {
        let raw = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(data)), 0) AS bytes, \
             MIN(start_ms) AS oldest, MAX(end_ms) AS newest FROM chunks",
        )
        .fetch_one(&self.pool)
        .await?;
        let rollups = sqlx::query(
            "SELECT COALESCE(SUM(count), 0) AS n, MIN(start_ms) AS oldest FROM rollups",
        )
        .fetch_one(&self.pool)
        .await?;
        let incidents: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM incidents")
            .fetch_one(&self.pool)
            .await?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(Usage {
            file_bytes: self.file_bytes(),
            used_bytes: self.used_bytes().await?,
            raw_bytes: n(raw.try_get("bytes")?),
            raw_chunks: n(raw.try_get("n")?),
            rollup_minutes: n(rollups.try_get("n")?),
            oldest_raw_ms: raw.try_get("oldest")?,
            newest_raw_ms: raw.try_get("newest")?,
            oldest_rollup_ms: rollups.try_get("oldest")?,
            incidents: n(incidents),
        })
    }

    /// Applies the retention settings: raw samples past their days (and,
    /// over the budget, the oldest raw samples) become rollups; rollups
    /// past their days (and, still over the budget, the oldest) go.
    pub async fn enforce(&self) -> Result<Enforced, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        let r = self.retention().await?;
        let mut done = Enforced::default();
        let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(end_ms) FROM chunks")
            .fetch_one(&self.pool)
            .await?;
        let Some(now) = newest else {
            return Ok(done);
        };
        let raw_cut = now.saturating_sub(i64::from(r.raw_days) * DAY_MS);
        let rollup_cut = now.saturating_sub(i64::from(r.rollup_days) * DAY_MS);
        let step = self.step_series().await?;
        loop {
            let n = self.roll_up(step, Some(raw_cut)).await?;
            if n == 0 {
                break;
            }
            done.aged_chunks += n;
            done.raw_before_ms = Some(raw_cut);
        }
        done.rollups_deleted += self.delete_rollups_before(rollup_cut).await?;
        // Object changes and Kubernetes events live as long as rollups; an
        // object that still existed keeps its last change.
        done.objects_compacted += self.trim_side_tables(rollup_cut).await?;
        let budget = r.budget_mib.saturating_mul(1 << 20);
        // Aim a tenth under the budget, so it is not hit again at once.
        let aim = budget / 10 * 9;
        if self.used_bytes().await? > budget {
            done.budget_hit = true;
            // The oldest data goes first, raw or rolled up, whichever is
            // older; incidents keep theirs. Nothing is rolled up here:
            // at a scrape interval of 15 s a minute's summary takes about
            // what its samples do, so it would not make room.
            while self.used_bytes().await? > aim {
                let raw: Option<i64> = sqlx::query_scalar(&format!(
                    "SELECT MIN(c.start_ms) FROM chunks c WHERE {OUTSIDE_INCIDENTS}"
                ))
                .bind(INCIDENT_MARGIN_MS)
                .fetch_one(&self.pool)
                .await?;
                // Pods', nodes' and alerts' changes and Kubernetes events
                // before the oldest raw sample are worth no more than it:
                // superseded changes and those events go first.
                if let Some(oldest) = raw {
                    let freed = self.trim_side_tables(oldest).await?;
                    done.objects_compacted += freed;
                    if freed > 0 {
                        continue;
                    }
                }
                let rolled: Option<i64> = sqlx::query_scalar("SELECT MIN(start_ms) FROM rollups")
                    .fetch_one(&self.pool)
                    .await?;
                let n = match (raw, rolled) {
                    (_, Some(r)) if raw.is_none_or(|w| r <= w) => {
                        let n = self.drop_oldest("rollups", None).await?;
                        done.rollups_deleted += n;
                        n
                    }
                    (Some(_), _) => {
                        let n = self.drop_oldest("chunks", Some(INCIDENT_MARGIN_MS)).await?;
                        done.budget_chunks += n;
                        n
                    }
                    _ => 0,
                };
                if n == 0 {
                    done.over_budget = true;
                    break;
                }
            }
            done.raw_before_ms = sqlx::query_scalar(&format!(
                "SELECT MIN(c.start_ms) FROM chunks c WHERE {OUTSIDE_INCIDENTS}"
            ))
            .bind(INCIDENT_MARGIN_MS)
            .fetch_one(&self.pool)
            .await?;
        }
        Ok(done)
    }

    /// Compacts pods', nodes' and alerts' changes and deletes Kubernetes
    /// events before `cut_ms`; how many rows went.
    async fn trim_side_tables(&self, cut_ms: i64) -> Result<u64, StoreError> {
        let compacted = self.compact_objects(cut_ms).await?;
        let events = sqlx::query("DELETE FROM cluster_events WHERE at_ms < ?")
            .bind(cut_ms)
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_sql)?
            .rows_affected();
        Ok(compacted + events)
    }

    async fn step_series(&self) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM series WHERE metric = ? AND labels = '{}'")
                .bind(STEP_METRIC)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Deletes the [`BATCH`] oldest rows of `table` (chunks outside
    /// incidents when `margin` is given).
    async fn drop_oldest(&self, table: &str, margin: Option<i64>) -> Result<u64, StoreError> {
        let sql = match margin {
            Some(_) => format!(
                "DELETE FROM chunks WHERE id IN (SELECT c.id FROM chunks c WHERE {OUTSIDE_INCIDENTS} \
                 ORDER BY c.end_ms LIMIT ?2)"
            ),
            None => format!(
                "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY end_ms LIMIT ?2)"
            ),
        };
        let done = sqlx::query(&sql)
            .bind(margin.unwrap_or(0))
            .bind(BATCH)
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_sql)?;
        Ok(done.rows_affected())
    }

    async fn delete_rollups_before(&self, cut: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM rollups WHERE end_ms < ?")
            .bind(cut)
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_sql)?;
        Ok(done.rows_affected())
    }
}
