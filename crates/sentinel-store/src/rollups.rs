//! One-minute rollups: raw chunks that aged out, summarised per series and
//! minute (min, max, sum, count) into compressed blocks of a day, and read
//! back with minutes split across blocks merged.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::chunk::{Minute, decode, decode_minutes, encode_minutes};
use crate::retention::{BATCH, DAY_MS, INCIDENT_MARGIN_MS, MINUTE_MS, OUTSIDE_INCIDENTS, Rollup};
use crate::{Store, StoreError};

impl Store {
    /// Summarises and deletes up to [`BATCH`] of the oldest raw chunks
    /// outside incidents (ending before `before`, when given), in one
    /// transaction. The step log ages with the samples but has no rollups.
    pub(crate) async fn roll_up(
        &self,
        step: Option<i64>,
        before: Option<i64>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from_sql)?;
        let rows = sqlx::query(&format!(
            "SELECT c.id, c.series_id, c.count, c.data FROM chunks c \
             WHERE c.end_ms < ?2 AND {OUTSIDE_INCIDENTS} \
             ORDER BY c.end_ms LIMIT ?3"
        ))
        .bind(INCIDENT_MARGIN_MS)
        .bind(before.unwrap_or(i64::MAX))
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut minutes: BTreeMap<(i64, i64), Minute> = BTreeMap::new();
        let mut ids = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let series: i64 = r.try_get("series_id")?;
            ids.push(id);
            if Some(series) == step {
                continue;
            }
            let count: i64 = r.try_get("count")?;
            let data: Vec<u8> = r.try_get("data")?;
            // A damaged chunk is dropped with nothing summarised.
            let Ok(points) = decode(&data, u32::try_from(count).unwrap_or(0)) else {
                tracing::warn!(chunk = id, "damaged chunk dropped by retention");
                continue;
            };
            for (t, v) in points {
                if !v.is_finite() {
                    continue;
                }
                let minute_ms = t.div_euclid(MINUTE_MS) * MINUTE_MS;
                let m = minutes.entry((series, minute_ms)).or_insert(Minute {
                    minute_ms,
                    min: v,
                    max: v,
                    sum: 0.0,
                    count: 0.0,
                });
                m.min = m.min.min(v);
                m.max = m.max.max(v);
                m.sum += v;
                m.count += 1.0;
            }
        }
        // One block per series and day (rollups age out a day at a time);
        // a minute split across batches is merged when read.
        let mut by_series: BTreeMap<(i64, i64), Vec<Minute>> = BTreeMap::new();
        for ((series, minute), m) in minutes {
            by_series
                .entry((series, minute.div_euclid(DAY_MS)))
                .or_default()
                .push(m);
        }
        for ((series, _), block) in &by_series {
            let (Some(first), Some(last)) = (block.first(), block.last()) else {
                continue;
            };
            sqlx::query(
                "INSERT INTO rollups (series_id, start_ms, end_ms, count, data) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(series)
            .bind(first.minute_ms)
            .bind(last.minute_ms)
            .bind(i64::try_from(block.len()).unwrap_or(i64::MAX))
            .bind(encode_minutes(block))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sql)?;
        }
        for id in &ids {
            sqlx::query("DELETE FROM chunks WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_sql)?;
        }
        // Removals of series whose samples are gone go with them.
        sqlx::query(
            "DELETE FROM removals WHERE at_ms < (SELECT COALESCE(MIN(start_ms), 0) FROM chunks)",
        )
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_sql)?;
        tx.commit().await.map_err(StoreError::from_sql)?;
        Ok(ids.len() as u64)
    }

    /// One-minute summaries of a series from `from_ms` to `to_ms`, from
    /// its rollups only.
    pub async fn rollups(
        &self,
        metric: &str,
        labels: &sentinel_model::Labels,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Rollup>, StoreError> {
        let labels = serde_json::to_string(labels).unwrap_or_else(|_| "{}".into());
        let mut merged = BTreeMap::new();
        self.fold_rollups(metric, &labels, from_ms, to_ms, &mut merged)
            .await?;
        Ok(finish(merged))
    }

    /// A series minute by minute from `from_ms` to `to_ms`: its rollups
    /// where raw samples aged out, its raw samples summarised where they
    /// are kept; and the first minute that came from raw samples.
    pub async fn minutes(
        &self,
        metric: &str,
        labels: &sentinel_model::Labels,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Vec<Rollup>, Option<i64>), StoreError> {
        let labels = serde_json::to_string(labels).unwrap_or_else(|_| "{}".into());
        let mut merged = BTreeMap::new();
        self.fold_rollups(metric, &labels, from_ms, to_ms, &mut merged)
            .await?;
        let rows = sqlx::query(
            "SELECT c.count, c.data FROM chunks c JOIN series s ON s.id = c.series_id \
             WHERE s.metric = ? AND s.labels = ? AND c.end_ms >= ? AND c.start_ms <= ?",
        )
        .bind(metric)
        .bind(&labels)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut raw_from: Option<i64> = None;
        for r in &rows {
            let count: i64 = r.try_get("count")?;
            let data: Vec<u8> = r.try_get("data")?;
            let points = decode(&data, u32::try_from(count).unwrap_or(0))
                .map_err(|e| StoreError::Damaged(format!("samples of {metric}: {e}")))?;
            for (t, v) in points {
                if !(from_ms..=to_ms).contains(&t) || !v.is_finite() {
                    continue;
                }
                let minute_ms = t.div_euclid(MINUTE_MS) * MINUTE_MS;
                raw_from = Some(raw_from.map_or(minute_ms, |f| f.min(minute_ms)));
                add(
                    &mut merged,
                    Minute {
                        minute_ms,
                        min: v,
                        max: v,
                        sum: v,
                        count: 1.0,
                    },
                );
            }
        }
        Ok((finish(merged), raw_from))
    }

    async fn fold_rollups(
        &self,
        metric: &str,
        labels: &str,
        from_ms: i64,
        to_ms: i64,
        into: &mut BTreeMap<i64, Minute>,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query(
            "SELECT r.count, r.data FROM rollups r JOIN series s ON s.id = r.series_id \
             WHERE s.metric = ? AND s.labels = ? AND r.end_ms >= ? AND r.start_ms <= ? \
             ORDER BY r.start_ms, r.id",
        )
        .bind(metric)
        .bind(labels)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let count: i64 = r.try_get("count")?;
            let data: Vec<u8> = r.try_get("data")?;
            let block = decode_minutes(&data, u32::try_from(count).unwrap_or(0))
                .map_err(|e| StoreError::Damaged(format!("rollups of {metric}: {e}")))?;
            for m in block
                .into_iter()
                .filter(|m| (from_ms..=to_ms).contains(&m.minute_ms))
            {
                add(into, m);
            }
        }
        Ok(())
    }
}

/// Merges one minute's summary into what is known of that minute.
fn add(into: &mut BTreeMap<i64, Minute>, m: Minute) {
    into.entry(m.minute_ms)
        .and_modify(|x| {
            x.min = x.min.min(m.min);
            x.max = x.max.max(m.max);
            x.sum += m.sum;
            x.count += m.count;
        })
        .or_insert(m);
}

fn finish(merged: BTreeMap<i64, Minute>) -> Vec<Rollup> {
    merged
        .into_values()
        .map(|m| Rollup {
            minute_ms: m.minute_ms,
            min: m.min,
            max: m.max,
            avg: if m.count > 0.0 {
                m.sum / m.count
            } else {
                f64::NAN
            },
            count: m.count as u64,
        })
        .collect()
}
