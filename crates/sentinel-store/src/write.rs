//! Writing batches, one transaction each.

use sentinel_model::RuleState;

use crate::recorder::{Cursor, WriteBatch};
use crate::{Store, StoreError};

fn state_str(s: RuleState) -> &'static str {
    match s {
        RuleState::Inactive => "inactive",
        RuleState::Pending => "pending",
        RuleState::Firing => "firing",
        RuleState::Resolved => "resolved",
    }
}

impl Store {
    /// Where a recorder continues: known series and the next free ids.
    pub async fn cursor(&self) -> Result<Cursor, StoreError> {
        let mut c = Cursor {
            series: self
                .series_keys()
                .await?
                .into_iter()
                .map(|(id, key)| (key, id))
                .collect(),
            ..Cursor::default()
        };
        let next = |table: &'static str, col: &'static str| {
            let q = format!("SELECT COALESCE(MAX({col}), 0) + 1 FROM {table}");
            async move { sqlx::query_scalar::<_, i64>(&q).fetch_one(&self.pool).await }
        };
        c.next_series = next("series", "id").await?;
        c.next_chunk = next("chunks", "id").await?;
        c.next_event = next("finding_events", "seq").await?;
        c.next_audit = next("audit", "seq").await?;
        c.next_cluster_event = next("cluster_events", "seq").await?;
        c.next_object = next("object_changes", "seq").await?;
        Ok(c)
    }

    /// Write a batch in one transaction. Idempotent: every row has a key
    /// chosen by the recorder.
    pub async fn write(&self, b: &WriteBatch) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        if b.is_empty() {
            return Ok(());
        }
        self.write_inner(b).await.map_err(StoreError::from_sql)
    }

    async fn write_inner(&self, b: &WriteBatch) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        for (id, metric, labels) in &b.series {
            sqlx::query("INSERT OR IGNORE INTO series (id, metric, labels) VALUES (?, ?, ?)")
                .bind(id)
                .bind(metric)
                .bind(labels)
                .execute(&mut *tx)
                .await?;
        }
        for c in &b.chunks {
            sqlx::query(
                "INSERT OR REPLACE INTO chunks (id, series_id, start_ms, end_ms, count, data) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(c.id)
            .bind(c.series)
            .bind(c.start_ms)
            .bind(c.end_ms)
            .bind(i64::from(c.count))
            .bind(&c.data)
            .execute(&mut *tx)
            .await?;
        }
        for (series, at) in &b.removals {
            sqlx::query("INSERT OR IGNORE INTO removals (series_id, at_ms) VALUES (?, ?)")
                .bind(series)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        for (seq, f) in &b.findings {
            let at = f.reported_at().millis();
            let body = serde_json::to_string(f).unwrap_or_default();
            sqlx::query(
                "INSERT OR IGNORE INTO finding_events (seq, finding_id, at_ms, state, body) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(seq)
            .bind(&f.id)
            .bind(at)
            .bind(state_str(f.state))
            .bind(body)
            .execute(&mut *tx)
            .await?;
        }
        for (seq, id, mark, at) in &b.marks {
            sqlx::query(
                "INSERT INTO feedback (finding_id, mark, at_ms) VALUES (?, ?, ?) \
                 ON CONFLICT (finding_id) DO UPDATE SET mark = excluded.mark, at_ms = excluded.at_ms",
            )
            .bind(id)
            .bind(mark.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT OR IGNORE INTO audit (seq, at_ms, actor, action, target, detail) \
                 VALUES (?, ?, 'operator', 'feedback', ?, ?)",
            )
            .bind(seq)
            .bind(at)
            .bind(id)
            .bind(mark.as_str())
            .execute(&mut *tx)
            .await?;
        }
        for i in &b.incidents {
            let namespaces = format!(" {} ", i.namespaces.join(" "));
            sqlx::query(
                "INSERT OR REPLACE INTO incidents \
                 (id, opened_ms, updated_ms, state, severity, namespaces, body) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&i.id)
            .bind(i.opened_at.millis())
            .bind(i.updated_at.millis())
            .bind(&i.state)
            .bind(&i.severity)
            .bind(namespaces)
            .bind(&i.body)
            .execute(&mut *tx)
            .await?;
        }
        for (seq, a) in &b.audit {
            sqlx::query(
                "INSERT OR IGNORE INTO audit (seq, at_ms, actor, action, target, detail) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(seq)
            .bind(a.at.millis())
            .bind(&a.actor)
            .bind(&a.action)
            .bind(&a.target)
            .bind(&a.detail)
            .execute(&mut *tx)
            .await?;
        }
        for (seq, e) in &b.events {
            sqlx::query(
                "INSERT OR IGNORE INTO cluster_events (seq, at_ms, namespace, object, reason, body) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(seq)
            .bind(e.last_timestamp.millis())
            .bind(e.involved_object.namespace.clone().unwrap_or_default())
            .bind(format!("{}/{}", e.involved_object.kind, e.involved_object.name))
            .bind(&e.reason)
            .bind(serde_json::to_string(e).unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        }
        for (seq, o) in &b.objects {
            sqlx::query(
                "INSERT OR IGNORE INTO object_changes (seq, at_ms, kind, key, body) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(seq)
            .bind(o.at.millis())
            .bind(o.kind)
            .bind(&o.key)
            .bind(&o.body)
            .execute(&mut *tx)
            .await?;
        }
        for (at, body) in &b.rules {
            sqlx::query("INSERT OR REPLACE INTO engine_rules (at_ms, body) VALUES (?, ?)")
                .bind(at)
                .bind(body)
                .execute(&mut *tx)
                .await?;
        }
        for (seen, first) in &b.sources {
            sqlx::query(
                "INSERT INTO sources (name, kind, cluster, first_ms, last_ms) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, cluster = excluded.cluster, \
                 first_ms = MIN(first_ms, excluded.first_ms), last_ms = MAX(last_ms, excluded.last_ms)",
            )
            .bind(&seen.name)
            .bind(&seen.kind)
            .bind(&seen.cluster)
            .bind(first.millis())
            .bind(seen.at.millis())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
}
