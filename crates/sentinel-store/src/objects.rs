//! Pods, nodes and alerts over time: the picture as of any moment is the
//! newest change of each object up to then.

use sqlx::Row;

use crate::{Store, StoreError};

/// One object as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    pub kind: String,
    pub key: String,
    /// When it last changed, up to the moment asked for.
    pub at_ms: i64,
    pub body: String,
}

const AS_OF: &str = "SELECT o.kind, o.key, o.at_ms, o.body FROM object_changes o \
     JOIN (SELECT MAX(seq) AS seq FROM object_changes WHERE at_ms <= ? GROUP BY kind, key) m \
     ON m.seq = o.seq WHERE o.body IS NOT NULL ORDER BY o.kind, o.key";

impl Store {
    /// The sources this history was recorded from, with their cluster and
    /// when each first and last answered.
    pub async fn sources(&self) -> Result<Vec<crate::SourceSeen>, StoreError> {
        let rows =
            sqlx::query("SELECT name, kind, cluster, last_ms FROM sources ORDER BY cluster, name")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(crate::SourceSeen {
                    name: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                    cluster: r.try_get("cluster")?,
                    at: sentinel_model::Timestamp(r.try_get("last_ms")?),
                })
            })
            .collect()
    }

    /// When alerts began firing (a first appearance, or again after they
    /// went away): `(at_ms, the alert as JSON)`, oldest first, at most `limit`.
    pub async fn alert_starts(&self, limit: u32) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT at_ms, body FROM (SELECT at_ms, body, \
               LAG(body) OVER (PARTITION BY key ORDER BY seq) AS prev, \
               ROW_NUMBER() OVER (PARTITION BY key ORDER BY seq) AS n \
             FROM object_changes WHERE kind = 'alert') \
             WHERE body IS NOT NULL AND (n = 1 OR prev IS NULL) ORDER BY at_ms LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("at_ms")?, r.try_get("body")?)))
            .collect()
    }

    /// One alert's recorded changes, oldest first: `(at_ms, the alert as
    /// JSON, or None when it stopped being reported)`, the newest `limit`.
    pub async fn alert_changes(
        &self,
        fingerprint: &str,
        limit: u32,
    ) -> Result<Vec<(i64, Option<String>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT at_ms, body FROM (SELECT seq, at_ms, body FROM object_changes \
             WHERE kind = 'alert' AND key = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq",
        )
        .bind(fingerprint)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("at_ms")?, r.try_get("body")?)))
            .collect()
    }

    /// Rollouts the Kubernetes events tell of (controllers scaling,
    /// rolling back): `(at_ms, object, reason)`, oldest first.
    pub async fn rollout_events(
        &self,
        limit: u32,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT at_ms, object, reason FROM cluster_events \
             WHERE reason IN ('ScalingReplicaSet', 'DeploymentRollback', 'SuccessfulRollout') \
                OR object LIKE 'Deployment/%' OR object LIKE 'StatefulSet/%' \
                OR object LIKE 'DaemonSet/%' \
             ORDER BY at_ms LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("at_ms")?,
                    r.try_get("object")?,
                    r.try_get("reason")?,
                ))
            })
            .collect()
    }

    /// Whether this history keeps pods, nodes and alerts at all (files
    /// written before it did, do not).
    pub async fn has_objects(&self) -> Result<bool, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM object_changes)")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Every pod, node and alert that existed at `at_ms`, as it was then.
    pub async fn objects_at(&self, at_ms: i64) -> Result<Vec<StoredObject>, StoreError> {
        let rows = sqlx::query(AS_OF).bind(at_ms).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(StoredObject {
                    kind: r.try_get("kind")?,
                    key: r.try_get("key")?,
                    at_ms: r.try_get("at_ms")?,
                    body: r.try_get("body")?,
                })
            })
            .collect()
    }

    /// Findings firing (or escalated) at `at_ms`, each as last reported up
    /// to then, newest first: the Why-panel of that moment.
    pub async fn findings_at(
        &self,
        at_ms: i64,
    ) -> Result<Vec<sentinel_model::Finding>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.seq, e.body FROM finding_events e JOIN \
             (SELECT MAX(seq) AS seq FROM finding_events WHERE at_ms <= ? GROUP BY finding_id) m \
             ON m.seq = e.seq WHERE e.state = 'firing' ORDER BY e.seq DESC",
        )
        .bind(at_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(crate::read::finding_event).collect()
    }

    /// Before `cut_ms`, keeps only the newest change of each object that
    /// still existed then (what "as of" any later moment needs).
    pub async fn compact_objects(&self, cut_ms: i64) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from_sql)?;
        let superseded = sqlx::query(
            "DELETE FROM object_changes WHERE at_ms < ?1 AND seq NOT IN \
             (SELECT MAX(seq) FROM object_changes WHERE at_ms < ?1 GROUP BY kind, key)",
        )
        .bind(cut_ms)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_sql)?
        .rows_affected();
        let gone = sqlx::query("DELETE FROM object_changes WHERE at_ms < ? AND body IS NULL")
            .bind(cut_ms)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sql)?
            .rows_affected();
        tx.commit().await.map_err(StoreError::from_sql)?;
        Ok(superseded + gone)
    }
}
