//! Opening: create, upgrade, refuse newer, move a damaged file aside.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sentinel_model::Timestamp;
use sqlx::Row;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{Store, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// A store, and what the user should be told about opening it.
#[derive(Debug)]
pub struct Opened {
    pub store: Store,
    /// Set when the file was damaged and moved aside.
    pub notice: Option<String>,
}

/// The newest schema this build knows.
pub fn known_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

fn options(path: &Path, read_only: bool) -> Result<SqliteConnectOptions, StoreError> {
    let url = format!("sqlite://{}", path.display());
    let o = SqliteConnectOptions::from_str(&url)
        .map_err(|e| StoreError::NotHistory {
            path: path.to_path_buf(),
            why: e.to_string(),
        })?
        .read_only(read_only)
        .create_if_missing(!read_only)
        .busy_timeout(std::time::Duration::from_secs(5));
    Ok(if read_only {
        o
    } else {
        o.journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
    })
}

/// Whether an error means the file itself is damaged or not a database.
fn is_damage(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            // SQLITE_CORRUPT = 11, SQLITE_NOTADB = 26.
            matches!(
                db.code()
                    .and_then(|c| c.parse::<i64>().ok())
                    .map(|c| c & 0xff),
                Some(11 | 26)
            )
        }
        _ => false,
    }
}

impl Store {
    /// Open (or create) the history at `path` for recording. `now` names a
    /// damaged file when it is moved aside.
    pub async fn open(path: impl AsRef<Path>, now: Timestamp) -> Result<Opened, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        match Self::try_open(&path).await {
            Ok(store) => Ok(Opened {
                store,
                notice: None,
            }),
            Err(Fail::Damaged(why)) => {
                let aside = move_aside(&path, now)?;
                tracing::warn!(path = %path.display(), aside = %aside.display(), %why, "history was damaged");
                let store = Self::try_open(&path).await.map_err(Fail::into_error)?;
                Ok(Opened {
                    store,
                    notice: Some(format!(
                        "The history file was damaged ({why}). It was moved to {} and a fresh one started.",
                        aside.display()
                    )),
                })
            }
            Err(Fail::Other(e)) => Err(e),
        }
    }

    /// Open a history (or an exported bundle) to read and replay only.
    pub async fn open_read_only(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            return Err(StoreError::NotHistory {
                path,
                why: "no such file".into(),
            });
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options(&path, true)?)
            .await
            .map_err(|e| not_history(&path, e))?;
        let store = Store {
            pool,
            path: path.clone(),
            read_only: true,
        };
        let version = store.version().await.map_err(|e| not_history(&path, e))?;
        match version {
            None => Err(StoreError::NotHistory {
                path,
                why: "it holds no Sentinel schema".into(),
            }),
            Some(v) if v > known_version() => Err(StoreError::Newer {
                path,
                found: v,
                known: known_version(),
            }),
            Some(_) => Ok(store),
        }
    }

    async fn try_open(path: &Path) -> Result<Store, Fail> {
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options(path, false).map_err(Fail::Other)?)
            .await
            .map_err(Fail::classify)?;
        let store = Store {
            pool,
            path: path.to_path_buf(),
            read_only: false,
        };
        let check: String = sqlx::query_scalar("PRAGMA quick_check(1)")
            .fetch_one(&store.pool)
            .await
            .map_err(Fail::classify)?;
        if check != "ok" {
            store.pool.close().await;
            return Err(Fail::Damaged(check));
        }
        if let Some(found) = store.version().await.map_err(Fail::classify)?
            && found > known_version()
        {
            store.pool.close().await;
            return Err(Fail::Other(StoreError::Newer {
                path: path.to_path_buf(),
                found,
                known: known_version(),
            }));
        }
        MIGRATOR.run(&store.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) if is_damage(&e) => {
                Fail::Damaged(e.to_string())
            }
            other => Fail::Other(StoreError::NotHistory {
                path: path.to_path_buf(),
                why: other.to_string(),
            }),
        })?;
        Ok(store)
    }

    /// The schema version applied, `None` for a file with no schema yet.
    async fn version(&self) -> Result<Option<i64>, sqlx::Error> {
        let has: Option<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(&self.pool)
        .await?;
        if has.is_none() {
            return Ok(None);
        }
        let row = sqlx::query("SELECT MAX(version) AS v FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.pool)
            .await?;
        row.try_get::<Option<i64>, _>("v")
    }
}

fn not_history(path: &Path, e: sqlx::Error) -> StoreError {
    if is_damage(&e) {
        StoreError::NotHistory {
            path: path.to_path_buf(),
            why: e.to_string(),
        }
    } else {
        StoreError::Sql(e)
    }
}

enum Fail {
    Damaged(String),
    Other(StoreError),
}

impl Fail {
    fn classify(e: sqlx::Error) -> Self {
        if is_damage(&e) {
            Fail::Damaged(e.to_string())
        } else {
            Fail::Other(StoreError::from_sql(e))
        }
    }

    fn into_error(self) -> StoreError {
        match self {
            Fail::Damaged(why) => StoreError::Damaged(why),
            Fail::Other(e) => e,
        }
    }
}

/// Rename `path` (and its WAL and shared-memory files) to
/// `path.damaged-<unix seconds>`.
fn move_aside(path: &Path, now: Timestamp) -> Result<PathBuf, StoreError> {
    let secs = now.millis().div_euclid(1000);
    let mut aside = PathBuf::from(format!("{}.damaged-{secs}", path.display()));
    let mut n = 1;
    while aside.exists() {
        aside = PathBuf::from(format!("{}.damaged-{secs}-{n}", path.display()));
        n += 1;
    }
    std::fs::rename(path, &aside)?;
    for ext in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{ext}", path.display()));
        if side.exists() {
            let _ = std::fs::rename(&side, format!("{}{ext}", aside.display()));
        }
    }
    Ok(aside)
}
