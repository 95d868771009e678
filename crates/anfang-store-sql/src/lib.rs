//! SQL storage for Anfang over sqlx's `Any` driver: SQLite (WAL) by default, PostgreSQL when the
//! URL says `postgres://`. One implementation of [`anfang_store::Tx`], portable SQL with `$n`
//! placeholders, and a migration set per backend that must describe the same schema.
//!
//! Invariant: only the binary and tests use this crate; everything else sees `dyn Store`.
//! Invariant: on SQLite all writers share one connection, so a write transaction never fails
//! half-way on a lock upgrade; readers use a separate pool and see WAL snapshots.

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
                let options = || {
                    AnyPoolOptions::new()
                        .acquire_timeout(Duration::from_secs(30))
                        .after_connect(|conn, _meta| {
                            Box::pin(async move {
                                conn.execute(
                                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                                )
                                .await?;
                                Ok(())
                            })
                        })
                };
                let write_pool = options()
                    .max_connections(1)
                    .connect(&url)
                    .await
                    .map_err(tx::map_err)?;
                SQLITE_MIGRATIONS
                    .run(&write_pool)
                    .await
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                let read_pool = options()
                    .max_connections(4)
                    .connect(&url)
                    .await
                    .map_err(tx::map_err)?;
                SqlStore {
                    read_pool,
                    write_pool,
                    backend,
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
