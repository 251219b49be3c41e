//! Sentinel's history in SQLite: the only crate that knows SQL.
//!
//! What is kept is what replay needs to run the engine again exactly: the
//! engine's input log (every reading in compressed chunks, the order of
//! feeds and ticks, series that were removed), every finding the engine
//! reported with its trace, incidents, operator feedback and the audit log.
//!
//! Opening a database upgrades an older schema (migrations in the top-level
//! `migrations/`, forward-only), refuses a newer one without touching it,
//! and moves a damaged file aside (with a timestamp) before starting fresh.

mod bundle;
pub mod chunk;
mod incidents;
mod objects;
mod open;
mod read;
mod recorder;
mod retention;
mod rollups;
mod write;

use std::path::{Path, PathBuf};

use sqlx::SqlitePool;

pub use bundle::BundleStats;
pub use incidents::{IncidentFilter, IncidentSummary};
pub use objects::StoredObject;
pub use open::Opened;
pub use read::{Input, InputReader, Stats, StepKind};
pub use recorder::{
    AuditRow, CHUNK_SAMPLES, ChunkRow, Cursor, IncidentRow, ObjectChange, Record, Recorder,
    STEP_METRIC, SourceSeen, WriteBatch,
};
pub use retention::{Enforced, INCIDENT_MARGIN_MS, Retention, Rollup, Usage};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{path} was written by a newer Sentinel (schema {found}, this one knows up to {known}); \
         it was left untouched — open it with that version"
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{path} is not a Sentinel history file: {why}")]
    NotHistory { path: PathBuf, why: String },
    #[error("the disk is full: {0}")]
    DiskFull(String),
    #[error("the history is read-only")]
    ReadOnly,
    #[error("{0} already exists; a bundle is always written to a new file")]
    Exists(PathBuf),
    #[error("{0}")]
    Invalid(String),
    #[error("a stored record is damaged: {0}")]
    Damaged(String),
    #[error("history database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("history file error: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// SQLite's own classification, where the error came from SQLite.
    fn from_sql(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // SQLITE_FULL = 13 (and its extended codes).
            if db
                .code()
                .and_then(|c| c.parse::<i64>().ok())
                .map(|c| c & 0xff)
                == Some(13)
            {
                return StoreError::DiskFull(db.message().to_string());
            }
        }
        StoreError::Sql(e)
    }
}

/// An open history database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    read_only: bool,
}

impl Store {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Fold the WAL into the database file (so the file alone is the whole
    /// history) and close the pool, waiting for writes in flight.
    pub async fn close(&self) {
        if !self.read_only
            && let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await
        {
            tracing::warn!(error = %e, "could not fold the WAL into the history file");
        }
        self.pool.close().await;
    }
}
