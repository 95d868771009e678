//! SQL storage for Anfang over sqlx's `Any` driver: SQLite (WAL) by default, PostgreSQL when the
//! URL says `postgres://`. One implementation of [`anfang_store::Tx`], portable SQL with `$n`
//! placeholders, and a migration set per backend that must describe the same schema.
//!
//! Invariant: only the binary and tests use this crate; everything else sees `dyn Store`.
//! Invariant: on SQLite all writers share one connection, so a write transaction never fails
//! half-way on a lock upgrade; readers use a separate pool and see WAL snapshots.

pub mod baseline;
mod fees;
mod query;
mod tx;

use anfang_store::{Store, StoreError, StoreResult, Tx};
use async_trait::async_trait;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which SQL dialect a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend a database URL names, or an error for any other scheme.
    pub fn of_url(url: &str) -> StoreResult<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Internal(format!(
                "unsupported database URL scheme in '{}': use sqlite:PATH or postgres://…",
                url.split(':').next().unwrap_or_default()
            )))
        }
    }
}

/// A store over SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    /// Readers (and, on PostgreSQL, writers too).
    read_pool: AnyPool,
    /// Writers: on SQLite a single connection; on PostgreSQL the same pool as readers.
    write_pool: AnyPool,
    /// The dialect.
    backend: Backend,
    /// SQLite's write-ahead log, synced by [`Store::sync`].
    wal: Option<std::path::PathBuf>,
}

/// The WAL file of an SQLite URL naming a file (`sqlite:PATH`, `sqlite://PATH`).
fn wal_of(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") || path.starts_with("file:") {
        return None;
    }
    Some(std::path::PathBuf::from(format!("{path}-wal")))
}

/// How often the WAL is checkpointed in the background. Short on purpose: each checkpoint
/// then copies little, and its write-out does not hold up the writer's appends for long
/// (measured with `anfang bench access`: every 100 ms p99 ≈ 2 ms; every 500 ms 4–16 ms; every
/// 2 s 10–23 ms). On an idle database a passive checkpoint finds nothing to do.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Copies SQLite's write-ahead log into the database file in the background (passive: it
/// never waits for or blocks the writer), so that commits do not pay for checkpoints. Left to
/// itself, SQLite checkpoints inside the commit that crosses the size threshold, a stall of
/// several milliseconds every few hundred commits that dominated the access decisions' p99;
/// the writer's own threshold is raised to a safety net (20,000 pages) for when this task
/// falls behind. Ends when the pool is closed.
async fn checkpoint_wal(pool: AnyPool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            tracing::debug!(error = %e, "background WAL checkpoint failed; retrying");
        }
    }
}

impl SqlStore {
    /// Connects to `url`, creating the SQLite file if needed, and applies pending migrations.
    pub async fn open(url: &str) -> StoreResult<SqlStore> {
        install_default_drivers();
        let backend = Backend::of_url(url)?;
        let store = match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') {
                    url.to_string()
                } else {
                    format!("{url}?mode=rwc")
                };
                // `synchronous = NORMAL`: a commit is safe from a crash of the process at once and
                // from power loss once the WAL is synced (at checkpoints, or by `Store::sync` for
                // writes acknowledged as durable, such as capture uploads). `FULL` would sync at
                // every commit: measured with `anfang bench access`, p99 2 ms → 22–27 ms.
                let options = |synchronous: &'static str| {
                    AnyPoolOptions::new()
                        .acquire_timeout(Duration::from_secs(30))
                        .after_connect(move |conn, _meta| {
                            Box::pin(async move {
                                conn.execute(
                                    format!(
                                        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                                         PRAGMA foreign_keys = ON; PRAGMA synchronous = {synchronous}; \
                                         PRAGMA wal_autocheckpoint = 20000;"
                                    )
                                    .as_str(),
                                )
                                .await?;
                                Ok(())
                            })
                        })
                };
                let write_pool = options("NORMAL")
                    .max_connections(1)
                    .connect(&url)
                    .await
                    .map_err(tx::map_err)?;
                SQLITE_MIGRATIONS
                    .run(&write_pool)
                    .await
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                let read_pool = options("NORMAL")
                    .max_connections(4)
                    .connect(&url)
                    .await
                    .map_err(tx::map_err)?;
                tokio::spawn(checkpoint_wal(read_pool.clone()));
                SqlStore {
                    read_pool,
                    write_pool,
                    backend,
                    wal: wal_of(&url),
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url)
                    .await
                    .map_err(tx::map_err)?;
                POSTGRES_MIGRATIONS
                    .run(&pool)
                    .await
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                SqlStore {
                    read_pool: pool.clone(),
                    write_pool: pool,
                    backend,
                    wal: None,
                }
            }
        };
        Ok(store)
    }

    /// Closes every connection (checkpointing SQLite's WAL).
    pub async fn close(&self) {
        self.read_pool.close().await;
        self.write_pool.close().await;
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn read(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.read_pool.begin().await.map_err(tx::map_err)?;
        Ok(Box::new(tx::SqlTx::new(tx)))
    }

    async fn write(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.write_pool.begin().await.map_err(tx::map_err)?;
        Ok(Box::new(tx::SqlTx::new(tx)))
    }

    async fn sync(&self) -> StoreResult<()> {
        let Some(wal) = self.wal.clone() else {
            // PostgreSQL commits are durable already (synchronous_commit).
            return Ok(());
        };
        tokio::task::spawn_blocking(move || match std::fs::File::open(&wal) {
            // Syncing any descriptor of the file flushes the frames the writer appended.
            Ok(file) => file.sync_data(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
        .map_err(|e| StoreError::Internal(format!("syncing the WAL: {e}")))
    }

    async fn backup_to(&self, path: &std::path::Path) -> StoreResult<()> {
        match self.backend {
            Backend::Sqlite => {
                if path.exists() {
                    return Err(StoreError::Conflict { detail: format!("{} already exists", path.display()) });
                }
                let target = path.to_str().ok_or_else(|| StoreError::Internal("non-UTF-8 backup path".into()))?;
                // VACUUM INTO copies one consistent snapshot while readers and writers go on.
                sqlx::query("VACUUM INTO $1").bind(target).execute(&self.read_pool).await.map_err(tx::map_err)?;
                Ok(())
            }
            Backend::Postgres => Err(StoreError::Unavailable(
                "online backup of PostgreSQL is pg_dump's job: run `pg_dump --format=custom` against the same URL"
                    .into(),
            )),
        }
    }

    fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[cfg(test)]
mod wal_tests {
    use super::wal_of;

    #[test]
    fn the_wal_of_a_file_url_is_beside_it() {
        assert_eq!(
            wal_of("sqlite:/data/anfang.db?mode=rwc"),
            Some("/data/anfang.db-wal".into())
        );
        assert_eq!(wal_of("sqlite:///data/a.db"), Some("/data/a.db-wal".into()));
        assert_eq!(wal_of("sqlite::memory:"), None);
        assert_eq!(wal_of("postgres://x/y"), None);
    }
}
