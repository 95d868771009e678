//! What the use-case tests share: an application over SQLite in a temporary directory, users
//! logged in with a role and scope, and one community under a street and a committee.

#![allow(dead_code)]

use anfang_app::registry::*;
use anfang_app::store::CommunityRow;
use anfang_app::vault::Vault;
use anfang_app::{App, AppConfig, Principal};
use anfang_base::SimClock;
use std::sync::Arc;

/// The simulated clock's start (2026-11-23 00:00 +08:00).
pub const T0: i64 = 1_795_392_000_000;

/// The application over a fresh SQLite file in `dir`, with a simulated clock.
pub async fn app(dir: &std::path::Path, config: AppConfig) -> App {
    app_at(dir, config, SimClock::new(T0)).await
}

/// The same, with a clock the test moves (clones share time).
pub async fn app_at(dir: &std::path::Path, config: AppConfig, clock: SimClock) -> App {
    let url = format!("sqlite:{}", dir.join("a.db").display());
    let store = anfang_store_sql::SqlStore::open(&url).await.unwrap();
    let (d, i) = Vault::generate_keys();
    App::new(
        Arc::new(store),
        Arc::new(clock),
        Vault::new(&d, &i),
        Arc::new(anfang_app::audit::MemoryCheckpoint::default()),
        Arc::new(anfang_app::faces::MemoryImages::default()),
        config,
    )
}

/// A user created from the command line and logged in.
pub async fn user(app: &App, name: &str, role: &str, scope: &str) -> Principal {
    let (_, password) = app
        .create_user(
            "cli",
            &anfang_app::auth::CreateUser {
                username: name.into(),
                role: role.into(),
                scope: scope.into(),
                display_name: None,
            },
        )
        .await
        .unwrap();
    app.login(name, &password).await.unwrap().principal
}

/// 测试小区 (370323001001001) under 历山街道 and its residents' committee.
pub async fn community(app: &App, admin: &Principal) -> CommunityRow {
    let street = app
        .create_street(
            admin,
            &CreateStreet {
                district_code: "370323".into(),
                code: "370323001".into(),
                name: "历山街道".into(),
            },
        )
        .await
        .unwrap();
    let committee = app
        .create_committee(
            admin,
            &CreateCommittee {
                street_id: street.id,
                code: "C1".into(),
                name: "居委会".into(),
                kind: "residents".into(),
            },
        )
        .await
        .unwrap();
    community_under(app, admin, committee.id, "370323001001001", "测试小区").await
}

/// A community `code` named `name` under a committee (`existing_closed`, 100 × 100 site).
pub async fn community_under(
    app: &App,
    admin: &Principal,
    committee_id: i64,
    code: &str,
    name: &str,
) -> CommunityRow {
    app.create_community(
        admin,
        &CreateCommunity {
            committee_id,
            code: code.into(),
            name: name.into(),
            category: "existing_closed".into(),
            property_type: "commercial".into(),
            address: "沂源县".into(),
            site_width: 100.0,
            site_height: 100.0,
            police_area: None,
        },
    )
    .await
    .unwrap()
}
