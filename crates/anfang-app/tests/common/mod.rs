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

/// A device `code` of `kind` speaking `protocol` in community `community_id`, registered by
/// `admin`.
pub async fn device(
    app: &App,
    admin: &Principal,
    code: &str,
    kind: &str,
    protocol: &str,
    community_id: i64,
) -> anfang_app::store::DeviceRow {
    app.create_device(
        Some(admin),
        &CreateDevice {
            code: code.into(),
            kind: kind.into(),
            protocol: protocol.into(),
            community_id: Some(community_id),
            ..CreateDevice::default()
        },
    )
    .await
    .unwrap()
    .0
}

/// Unit `number` of building `number` (6 floors) in community `community_id`.
pub async fn unit(
    app: &App,
    admin: &Principal,
    community_id: i64,
    number: &str,
) -> anfang_app::store::UnitRow {
    let building = app
        .create_building(
            admin,
            &CreateBuilding {
                community_id,
                number: number.into(),
                name: None,
                floors: 6,
                x: 1.0,
                y: 1.0,
            },
        )
        .await
        .unwrap();
    app.create_unit(
        admin,
        &CreateUnit {
            building_id: building.id,
            number: number.into(),
        },
    )
    .await
    .unwrap()
}

/// An active police disposition (布控) on plate `plate`, as a superior would have placed it.
pub async fn watch_plate(app: &App, plate: &str, title: &str) {
    let mut tx = app.store().write().await.unwrap();
    tx.upsert_watch_entry(&anfang_app::store::WatchEntryRow {
        id: 0,
        source: "viid:police".into(),
        external_id: "D-7".into(),
        category: "motor_vehicle".into(),
        plate: Some(plate.into()),
        title: title.into(),
        status: "active".into(),
        begin_at: 0,
        end_at: i64::MAX,
        body: "{}".into(),
        image_keys: "[]".into(),
        created_at: 0,
        updated_at: 0,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
}
