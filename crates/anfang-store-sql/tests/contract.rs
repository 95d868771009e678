//! Runs the store contract suite on both backends: a fresh SQLite file and a fresh PostgreSQL
//! database (created on the server named by `ANFANG_TEST_PG_URL`, default the local `test`
//! database's server, and dropped afterwards).

use anfang_store_sql::SqlStore;
use sqlx::Connection;

/// The admin URL of the PostgreSQL server used by tests.
pub fn pg_admin_url() -> String {
    std::env::var("ANFANG_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

#[tokio::test]
async fn contract_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("anfang.db").display());
    let store = SqlStore::open(&url).await.expect("open sqlite");
    anfang_store::contract::run_all(&store).await;
    // Re-opening applies no migration twice and keeps the data.
    store.close().await;
    let again = SqlStore::open(&url).await.expect("reopen sqlite");
    let backup = dir.path().join("backup.db");
    anfang_store::Store::backup_to(&again, &backup)
        .await
        .expect("online backup");
    let copy = SqlStore::open(&format!("sqlite:{}", backup.display()))
        .await
        .expect("open backup");
    let mut tx = anfang_store::Store::read(&copy).await.unwrap();
    assert!(
        tx.community_by_code("370323001001001").await.unwrap().is_some(),
        "backup holds the data"
    );
}

#[tokio::test]
async fn contract_on_postgres() {
    let admin = pg_admin_url();
    let db = format!("anfang_contract_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("PostgreSQL must be running for this test");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db}"))
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin
        .rsplit_once('/')
        .map(|(base, _)| base)
        .unwrap_or(&admin)
        .to_string();
    let store = SqlStore::open(&format!("{base}/{db}"))
        .await
        .expect("open postgres");
    anfang_store::contract::run_all(&store).await;
    store.close().await;
    // A closed connection's server process may not have exited yet: drop it with the database.
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
}
