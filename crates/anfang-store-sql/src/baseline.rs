//! The raw-insert baseline of `anfang bench ingest`: the same capture rows, pictures included
//! as blobs, inserted into a bare SQLite file (WAL, `synchronous = FULL`, one transaction and
//! so one sync per batch) on the same disk, with no parsing, sealing, queueing or HTTP. The
//! benchmark prints its own throughput against this one, measured in the same run.

use crate::tx::map_err;
use anfang_store::StoreResult;
use sqlx::any::AnyPoolOptions;
use std::path::Path;
use std::time::{Duration, Instant};

/// One row of the baseline: what `capture_records` holds, with the pictures' bytes.
#[derive(Debug, Clone)]
pub struct RawCaptureRow {
    /// The record id.
    pub record_id: String,
    /// Hex SHA-256 of the object.
    pub content_hash: String,
    /// Capture time (ms).
    pub shot_at: i64,
    /// Attributes (JSON).
    pub attributes: String,
    /// The picture.
    pub image: Vec<u8>,
}

/// Inserts `batches` batches into a new database at `path`, each in one transaction; returns
/// the time each batch took (begin to durable commit).
pub async fn raw_capture_inserts(
    path: &Path,
    batches: usize,
    mut batch_of: impl FnMut(usize) -> Vec<RawCaptureRow>,
) -> StoreResult<Vec<Duration>> {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                use sqlx::Executor;
                conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
                    .await?;
                Ok(())
            })
        })
        .connect(&url)
        .await
        .map_err(map_err)?;
    sqlx::query(
        "CREATE TABLE raw_captures (id INTEGER PRIMARY KEY AUTOINCREMENT, device_id INTEGER NOT NULL, \
         kind TEXT NOT NULL, record_id TEXT NOT NULL, content_hash TEXT NOT NULL, shot_at INTEGER NOT NULL, \
         attributes TEXT NOT NULL, image BLOB NOT NULL, received_at INTEGER NOT NULL)",
    )
    .execute(&pool)
    .await
    .map_err(map_err)?;
    sqlx::query("CREATE UNIQUE INDEX raw_identity ON raw_captures(device_id, record_id, content_hash)")
        .execute(&pool)
        .await
        .map_err(map_err)?;
    let mut times = Vec::with_capacity(batches);
    for n in 0..batches {
        let rows = batch_of(n);
        let started = Instant::now();
        let mut tx = pool.begin().await.map_err(map_err)?;
        for row in rows {
            sqlx::query(
                "INSERT INTO raw_captures (device_id, kind, record_id, content_hash, shot_at, attributes, \
                 image, received_at) VALUES (1, 'face', ?, ?, ?, ?, ?, ?)",
            )
            .bind(row.record_id)
            .bind(row.content_hash)
            .bind(row.shot_at)
            .bind(row.attributes)
            .bind(row.image)
            .bind(row.shot_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        times.push(started.elapsed());
    }
    pool.close().await;
    Ok(times)
}
