//! Reading incidents and the audit log back: the list the Incidents page
//! filters, one incident for a report, and the operator actions on it.

use sentinel_model::Timestamp;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::recorder::{AuditRow, IncidentRow};
use crate::{Store, StoreError};

/// Which incidents to list; every field narrows, none means all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    /// `open`, `acknowledged`, `resolved`.
    pub states: Vec<String>,
    /// At least this severity (`info` < `warning` < `critical`).
    pub min_severity: Option<String>,
    pub namespace: Option<String>,
    /// Touched at or after this time.
    pub since: Option<Timestamp>,
    /// Opened before this time.
    pub until: Option<Timestamp>,
    pub limit: Option<u32>,
}

fn severity_rank(s: &str) -> i64 {
    match s {
        "critical" => 2,
        "warning" => 1,
        _ => 0,
    }
}

fn incident_row(r: &SqliteRow) -> Result<IncidentRow, sqlx::Error> {
    let namespaces: String = r.try_get("namespaces")?;
    Ok(IncidentRow {
        id: r.try_get("id")?,
        opened_at: Timestamp(r.try_get("opened_ms")?),
        updated_at: Timestamp(r.try_get("updated_ms")?),
        state: r.try_get("state")?,
        severity: r.try_get("severity")?,
        namespaces: namespaces.split_whitespace().map(String::from).collect(),
        body: r.try_get("body")?,
    })
}

/// An incident as a list shows it: its columns and its title, without the
/// body (members, timeline, captured objects) the list does not need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentSummary {
    pub id: String,
    pub title: String,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub state: String,
    pub severity: String,
    pub namespaces: Vec<String>,
}

impl Store {
    /// Incidents matching `f`, newest first.
    pub async fn incidents(&self, f: &IncidentFilter) -> Result<Vec<IncidentRow>, StoreError> {
        let rows = self.select_incidents(f, "body").await?;
        Ok(rows.iter().map(incident_row).collect::<Result<_, _>>()?)
    }

    /// The list of incidents matching `f`, newest first; each title is read
    /// out of its body inside SQLite, so the bodies never leave the file.
    pub async fn incident_list(
        &self,
        f: &IncidentFilter,
    ) -> Result<Vec<IncidentSummary>, StoreError> {
        let rows = self
            .select_incidents(f, "COALESCE(json_extract(body, '$.title'), id) AS body")
            .await?;
        let list = rows
            .iter()
            .map(|r| {
                let row = incident_row(r)?;
                Ok(IncidentSummary {
                    id: row.id,
                    title: row.body,
                    opened_at: row.opened_at,
                    updated_at: row.updated_at,
                    state: row.state,
                    severity: row.severity,
                    namespaces: row.namespaces,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(list)
    }

    async fn select_incidents(
        &self,
        f: &IncidentFilter,
        body: &str,
    ) -> Result<Vec<SqliteRow>, StoreError> {
        let mut sql = format!(
            "SELECT id, opened_ms, updated_ms, state, severity, namespaces, {body} \
             FROM incidents WHERE 1 = 1"
        );
        if !f.states.is_empty() {
            let marks = vec!["?"; f.states.len()].join(", ");
            sql.push_str(&format!(" AND state IN ({marks})"));
        }
        if f.min_severity.is_some() {
            sql.push_str(
                " AND (CASE severity WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END) >= ?",
            );
        }
        if f.namespace.is_some() {
            sql.push_str(" AND namespaces LIKE ? ESCAPE '\\'");
        }
        if f.since.is_some() {
            sql.push_str(" AND updated_ms >= ?");
        }
        if f.until.is_some() {
            sql.push_str(" AND opened_ms < ?");
        }
        sql.push_str(" ORDER BY opened_ms DESC, id LIMIT ?");
        let mut q = sqlx::query(&sql);
        for s in &f.states {
            q = q.bind(s);
        }
        if let Some(s) = &f.min_severity {
            q = q.bind(severity_rank(s));
        }
        if let Some(ns) = &f.namespace {
            let escaped = ns
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q = q.bind(format!("% {escaped} %"));
        }
        if let Some(t) = f.since {
            q = q.bind(t.millis());
        }
        if let Some(t) = f.until {
            q = q.bind(t.millis());
        }
        q = q.bind(i64::from(f.limit.unwrap_or(500)));
        Ok(q.fetch_all(&self.pool).await?)
    }

    pub async fn incident(&self, id: &str) -> Result<Option<IncidentRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, opened_ms, updated_ms, state, severity, namespaces, body \
             FROM incidents WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(incident_row).transpose()?)
    }

    /// Operator actions, oldest first; only those on `target` when given.
    pub async fn audit(&self, target: Option<&str>) -> Result<Vec<AuditRow>, StoreError> {
        let rows = match target {
            Some(t) => {
                sqlx::query(
                    "SELECT at_ms, actor, action, target, detail FROM audit \
                     WHERE target = ? ORDER BY seq",
                )
                .bind(t)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query("SELECT at_ms, actor, action, target, detail FROM audit ORDER BY seq")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    at: Timestamp(r.try_get("at_ms")?),
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
