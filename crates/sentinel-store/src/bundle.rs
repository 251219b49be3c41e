//! An incident's history as a file of its own: what replaying a time range
//! needs (the series and sample chunks that overlap it, the step log, the
//! removals, the findings with their traces, the operators' marks, the
//! incidents and audit lines of the range), with every text that could
//! identify something passed through the caller's redaction. The bundle is
//! an ordinary history: `sentinel replay BUNDLE` and the app open it
//! read-only.

use std::path::Path;

use sentinel_model::{Labels, Timestamp};
use sqlx::Row;

use crate::recorder::STEP_METRIC;
use crate::{Store, StoreError};

/// What went into a bundle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleStats {
    pub series: u64,
    pub chunks: u64,
    pub findings: u64,
    pub incidents: u64,
    pub events: u64,
    /// Pod, node and alert states and changes.
    pub objects: u64,
    pub bytes: u64,
}

/// Every string inside a JSON document through `redact`, object keys too
/// (captures key objects by `Kind/namespace/name`).
fn redact_json(v: &mut serde_json::Value, redact: &mut (dyn FnMut(&str) -> String + Send)) {
    match v {
        serde_json::Value::String(s) => *s = redact(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| redact_json(x, redact)),
        serde_json::Value::Object(o) => {
            let old = std::mem::take(o);
            for (k, mut x) in old {
                redact_json(&mut x, redact);
                o.insert(redact(&k), x);
            }
        }
        _ => {}
    }
}

fn redact_body(body: &str, redact: &mut (dyn FnMut(&str) -> String + Send)) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut v) => {
            redact_json(&mut v, redact);
            v.to_string()
        }
        Err(_) => redact(body),
    }
}

impl Store {
    /// Writes `[from, to]` into a new history at `out` (which must not
    /// exist). `redact` maps each label value and text to what the bundle
    /// holds instead (the identity keeps everything); it must map distinct
    /// values to distinct ones, or series would merge.
    pub async fn bundle(
        &self,
        out: &Path,
        from: Timestamp,
        to: Timestamp,
        redact: &mut (dyn FnMut(&str) -> String + Send),
    ) -> Result<BundleStats, StoreError> {
        if out.exists() {
            return Err(StoreError::Exists(out.to_path_buf()));
        }
        let opened = Store::open(out, to).await?;
        let dest = opened.store;
        let result = self.copy_into(&dest, from, to, redact).await;
        dest.close().await;
        let mut stats = match result {
            Ok(s) => s,
            Err(e) => {
                let _ = std::fs::remove_file(out);
                return Err(e);
            }
        };
        stats.bytes = std::fs::metadata(out).map_or(0, |m| m.len());
        Ok(stats)
    }

    async fn copy_into(
        &self,
        dest: &Store,
        from: Timestamp,
        to: Timestamp,
        redact: &mut (dyn FnMut(&str) -> String + Send),
    ) -> Result<BundleStats, StoreError> {
        let (a, b) = (from.millis(), to.millis());
        let mut stats = BundleStats::default();
        let mut tx = dest.pool.begin().await?;
        let series = sqlx::query(
            "SELECT DISTINCT s.id, s.metric, s.labels FROM series s JOIN chunks c ON c.series_id = s.id \
             WHERE c.end_ms >= ? AND c.start_ms <= ?",
        )
        .bind(a)
        .bind(b)
        .fetch_all(&self.pool)
        .await?;
        for r in series {
            let (id, metric, labels): (i64, String, String) =
                (r.try_get("id")?, r.try_get("metric")?, r.try_get("labels")?);
            let labels = if metric == STEP_METRIC {
                labels
            } else {
                let mut l: Labels = serde_json::from_str(&labels).unwrap_or_default();
                for v in l.values_mut() {
                    *v = redact(v);
                }
                serde_json::to_string(&l).unwrap_or(labels)
            };
            sqlx::query("INSERT INTO series (id, metric, labels) VALUES (?, ?, ?)")
                .bind(id)
                .bind(&metric)
                .bind(&labels)
                .execute(&mut *tx)
                .await?;
            stats.series += 1;
        }
        let chunks = sqlx::query(
            "SELECT id, series_id, start_ms, end_ms, count, data FROM chunks \
             WHERE end_ms >= ? AND start_ms <= ?",
        )
        .bind(a)
        .bind(b)
        .fetch_all(&self.pool)
        .await?;
        for r in chunks {
            sqlx::query(
                "INSERT INTO chunks (id, series_id, start_ms, end_ms, count, data) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(r.try_get::<i64, _>("id")?)
            .bind(r.try_get::<i64, _>("series_id")?)
            .bind(r.try_get::<i64, _>("start_ms")?)
            .bind(r.try_get::<i64, _>("end_ms")?)
            .bind(r.try_get::<i64, _>("count")?)
            .bind(r.try_get::<Vec<u8>, _>("data")?)
            .execute(&mut *tx)
            .await?;
            stats.chunks += 1;
        }
        let removals = sqlx::query(
            "SELECT r.series_id, r.at_ms FROM removals r WHERE r.at_ms BETWEEN ? AND ? \
             AND r.series_id IN (SELECT series_id FROM chunks WHERE end_ms >= ? AND start_ms <= ?)",
        )
        .bind(a)
        .bind(b)
        .bind(a)
        .bind(b)
        .fetch_all(&self.pool)
        .await?;
        for r in removals {
            sqlx::query("INSERT OR IGNORE INTO removals (series_id, at_ms) VALUES (?, ?)")
                .bind(r.try_get::<i64, _>("series_id")?)
                .bind(r.try_get::<i64, _>("at_ms")?)
                .execute(&mut *tx)
                .await?;
        }
        let events = sqlx::query(
            "SELECT seq, finding_id, at_ms, state, body FROM finding_events WHERE at_ms BETWEEN ? AND ?",
        )
        .bind(a)
        .bind(b)
        .fetch_all(&self.pool)
        .await?;
        let mut ids = std::collections::BTreeSet::new();
        for r in events {
            let id: String = r.try_get("finding_id")?;
            let body: String = r.try_get("body")?;
            sqlx::query(
                "INSERT INTO finding_events (seq, finding_id, at_ms, state, body) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(r.try_get::<i64, _>("seq")?)
            .bind(redact(&id))
            .bind(r.try_get::<i64, _>("at_ms")?)
            .bind(r.try_get::<String, _>("state")?)
            .bind(redact_body(&body, redact))
            .execute(&mut *tx)
            .await?;
            ids.insert(id);
            stats.findings += 1;
        }
        for id in &ids {
            let mark = sqlx::query("SELECT mark, at_ms FROM feedback WHERE finding_id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            if let Some(m) = mark {
                sqlx::query(
                    "INSERT OR REPLACE INTO feedback (finding_id, mark, at_ms) VALUES (?, ?, ?)",
                )
                .bind(redact(id))
                .bind(m.try_get::<String, _>("mark")?)
                .bind(m.try_get::<i64, _>("at_ms")?)
                .execute(&mut *tx)
                .await?;
            }
        }
        let incidents = sqlx::query(
            "SELECT id, opened_ms, updated_ms, state, severity, namespaces, body FROM incidents \
             WHERE opened_ms <= ? AND updated_ms >= ?",
        )
        .bind(b)
        .bind(a)
        .fetch_all(&self.pool)
        .await?;
        for r in incidents {
            let namespaces: String = r.try_get("namespaces")?;
            let namespaces = namespaces
                .split(' ')
                .map(|n| {
                    if n.is_empty() {
                        String::new()
                    } else {
                        redact(n)
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            let body: String = r.try_get("body")?;
            sqlx::query(
                "INSERT INTO incidents (id, opened_ms, updated_ms, state, severity, namespaces, body) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(r.try_get::<String, _>("id")?)
            .bind(r.try_get::<i64, _>("opened_ms")?)
            .bind(r.try_get::<i64, _>("updated_ms")?)
            .bind(r.try_get::<String, _>("state")?)
            .bind(r.try_get::<String, _>("severity")?)
            .bind(namespaces)
            .bind(redact_body(&body, redact))
            .execute(&mut *tx)
            .await?;
            stats.incidents += 1;
        }
        let audit = sqlx::query(
            "SELECT seq, at_ms, actor, action, target, detail FROM audit WHERE at_ms BETWEEN ? AND ?",
        )
        .bind(a)
        .bind(b)
        .fetch_all(&self.pool)
        .await?;
        for r in audit {
            sqlx::query(
                "INSERT INTO audit (seq, at_ms, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(r.try_get::<i64, _>("seq")?)
            .bind(r.try_get::<i64, _>("at_ms")?)
            .bind(redact(&r.try_get::<String, _>("actor")?))
            .bind(r.try_get::<String, _>("action")?)
            .bind(redact(&r.try_get::<String, _>("target")?))
            .bind(redact(&r.try_get::<String, _>("detail")?))
            .execute(&mut *tx)
            .await?;
        }
        let events = sqlx::query(
            "SELECT seq, at_ms, namespace, object, reason, body FROM cluster_events WHERE at_ms BETWEEN ? AND ?",
        )
        .bind(a)
        .bind(b)
        .fetch_all(&self.pool)
        .await?;
        for r in events {
            let body: String = r.try_get("body")?;
            sqlx::query(
                "INSERT INTO cluster_events (seq, at_ms, namespace, object, reason, body) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(r.try_get::<i64, _>("seq")?)
            .bind(r.try_get::<i64, _>("at_ms")?)
            .bind(redact(&r.try_get::<String, _>("namespace")?))
            .bind(redact(&r.try_get::<String, _>("object")?))
            .bind(r.try_get::<String, _>("reason")?)
            .bind(redact_body(&body, redact))
            .execute(&mut *tx)
            .await?;
            stats.events += 1;
        }
        // The rules of the engine sessions (rule names and selectors are
        // not identifiers; they are kept as they are).
        for r in sqlx::query("SELECT at_ms, body FROM engine_rules WHERE at_ms <= ?")
            .bind(b)
            .fetch_all(&self.pool)
            .await?
        {
            sqlx::query("INSERT INTO engine_rules (at_ms, body) VALUES (?, ?)")
                .bind(r.try_get::<i64, _>("at_ms")?)
                .bind(r.try_get::<String, _>("body")?)
                .execute(&mut *tx)
                .await?;
        }
        // Where it was recorded from.
        for r in sqlx::query("SELECT name, kind, cluster, first_ms, last_ms FROM sources")
            .fetch_all(&self.pool)
            .await?
        {
            sqlx::query(
                "INSERT INTO sources (name, kind, cluster, first_ms, last_ms) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(redact(&r.try_get::<String, _>("name")?))
            .bind(r.try_get::<String, _>("kind")?)
            .bind(redact(&r.try_get::<String, _>("cluster")?))
            .bind(r.try_get::<i64, _>("first_ms")?)
            .bind(r.try_get::<i64, _>("last_ms")?)
            .execute(&mut *tx)
            .await?;
        }
        // Pods, nodes and alerts as they were at the start, then their changes.
        let mut objects: Vec<(i64, String, String, Option<String>)> = self
            .objects_at(a)
            .await?
            .into_iter()
            .map(|o| (o.at_ms, o.kind, o.key, Some(o.body)))
            .collect();
        for r in sqlx::query(
            "SELECT at_ms, kind, key, body FROM object_changes WHERE at_ms > ? AND at_ms <= ? ORDER BY seq",
        )
        .bind(a)
        .bind(b)
        .fetch_all(&self.pool)
        .await?
        {
            objects.push((
                r.try_get("at_ms")?,
                r.try_get("kind")?,
                r.try_get("key")?,
                r.try_get("body")?,
            ));
        }
        for (seq, (at, kind, key, body)) in objects.into_iter().enumerate() {
            sqlx::query(
                "INSERT INTO object_changes (seq, at_ms, kind, key, body) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(i64::try_from(seq).unwrap_or(i64::MAX) + 1)
            .bind(at)
            .bind(kind)
            .bind(redact(&key))
            .bind(body.map(|b| redact_body(&b, redact)))
            .execute(&mut *tx)
            .await?;
            stats.objects += 1;
        }
        tx.commit().await?;
        Ok(stats)
    }
}
