//! The audit chain detects tampering done behind the application's back, directly in the
//! database: a changed entry, a deleted entry, and the deletion of the last N entries.

use anfang_app::audit::{Checkpoint, MemoryCheckpoint};
use anfang_app::vault::Vault;
use anfang_app::{App, AppConfig};
use anfang_base::SimClock;
use sqlx::Connection;
use std::sync::Arc;

async fn app_with_entries(dir: &std::path::Path, n: usize) -> (App, Arc<MemoryCheckpoint>, String) {
    let url = format!("sqlite:{}", dir.join("a.db").display());
    let store = anfang_store_sql::SqlStore::open(&url).await.unwrap();
    let checkpoint = Arc::new(MemoryCheckpoint::default());
    let (d, i) = Vault::generate_keys();
    let app = App::new(
        Arc::new(store),
        Arc::new(SimClock::new(1_793_491_200_000)),
        Vault::new(&d, &i),
        checkpoint.clone(),
        std::sync::Arc::new(anfang_app::faces::MemoryImages::default()),
        AppConfig::default(),
    );
    for k in 0..n {
        app.audit_now(
            "user:test",
            "test.event",
            &format!("thing:{k}"),
            serde_json::json!({"k": k}),
        )
        .await
        .unwrap();
    }
    (app, checkpoint, url)
}

async fn tamper(url: &str, sql: &str) {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
}

#[tokio::test]
async fn intact_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (app, checkpoint, _) = app_with_entries(dir.path(), 5).await;
    let report = app.verify_audit().await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(
        (report.entries, report.last_seq, report.checkpoint_seq),
        (5, 5, Some(5))
    );
    assert_eq!(checkpoint.load().unwrap().0, 5);
}

#[tokio::test]
async fn a_changed_entry_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _, url) = app_with_entries(dir.path(), 5).await;
    tamper(&url, "UPDATE audit_log SET actor = 'user:nobody' WHERE seq = 3").await;
    let report = app.verify_audit().await.unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("entry 3 was changed")),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn a_deleted_entry_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _, url) = app_with_entries(dir.path(), 5).await;
    tamper(&url, "DELETE FROM audit_log WHERE seq = 2").await;
    let report = app.verify_audit().await.unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("missing")),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn deleting_the_last_entries_is_detected_by_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _, url) = app_with_entries(dir.path(), 6).await;
    // A careful attacker removes the tail and rewinds the head row too: the chain that is left
    // is internally valid, so only the external checkpoint can tell.
    tamper(&url, "DELETE FROM audit_log WHERE seq > 3").await;
    tamper(
        &url,
        "UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_log WHERE seq = 3)",
    )
    .await;
    let report = app.verify_audit().await.unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("the last 3 entries were deleted")),
        "{:?}",
        report.problems
    );
}
