//! What goes upward besides captures: a door-access record decided at a terminal and a
//! resident added to the registry are queued, in the same transaction, for the targets that
//! are sent them — unmasked only for the target allowed to receive personal data — and a
//! delivered batch with residents is audited as shared.

use anfang_app::AppConfig;
use anfang_app::cascade::{Sends, Upward, UpwardTarget};
use anfang_app::registry::*;

mod common;

fn target(name: &str, sends: Vec<Sends>, unmasked: bool) -> UpwardTarget {
    UpwardTarget {
        name: name.into(),
        sends,
        unmasked,
        superior_id: None,
        password: "p".into(),
    }
}

#[tokio::test]
async fn door_records_and_registry_changes_go_up_to_the_targets_that_take_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        cascade_targets: vec![
            target("police", vec![Sends::DoorRecords, Sends::Registry], true),
            target("bigdata", vec![Sends::Registry], false),
            target("captures-only", vec![Sends::Captures], false),
        ],
        ..AppConfig::default()
    };
    let app = common::app(dir.path(), config.clone()).await;
    let admin = common::user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let building = app
        .create_building(
            &admin,
            &CreateBuilding {
                community_id: community.id,
                number: "3".into(),
                name: None,
                floors: 6,
                x: 1.0,
                y: 1.0,
            },
        )
        .await
        .unwrap();
    let unit = app
        .create_unit(
            &admin,
            &CreateUnit {
                building_id: building.id,
                number: "2".into(),
            },
        )
        .await
        .unwrap();
    let house = app
        .create_house(
            &admin,
            &CreateHouse {
                unit_id: unit.id,
                number: "501".into(),
                floor: 5,
                area_m2: 90.0,
                use_kind: "owner_occupied".into(),
            },
        )
        .await
        .unwrap();
    let entrance = app
        .create_place(
            &admin,
            &CreatePlace {
                community_id: community.id,
                kind: "pedestrian_entrance".into(),
                name: "南门".into(),
                x: 1.0,
                y: 1.0,
                attended: true,
                unit_id: None,
            },
        )
        .await
        .unwrap();
    let person = app
        .create_person(
            &admin,
            &CreatePerson {
                community_id: community.id,
                name: "张三丰".into(),
                gender: "male".into(),
                id_type: "resident_id".into(),
                id_number: "370323198001010018".into(),
                phone: Some("13800138000".into()),
                population_type: "registered".into(),
                tags: vec![],
                house: Some(SetPersonHouse {
                    house_id: house.id,
                    role: "owner".into(),
                    lease_start: None,
                    lease_end: None,
                    schedule: None,
                }),
            },
        )
        .await
        .unwrap();
    app.issue_credential(
        &admin,
        person.id,
        &anfang_app::access::IssueCredential {
            kind: "card".into(),
            value: "CA0D0001".into(),
            valid_until: None,
        },
    )
    .await
    .unwrap();
    let (terminal, _) = app
        .create_device(
            None,
            &CreateDevice {
                code: "37032300001320000001".into(),
                name: Some("南门人脸门禁".into()),
                kind: "face_door_terminal".into(),
                protocol: "mqtt".into(),
                community_id: Some(community.id),
                place_id: Some(entrance.id),
                ..CreateDevice::default()
            },
        )
        .await
        .unwrap();
    let event = anfang_app::access::DeviceEvent {
        event_id: "e-1".into(),
        at_ms: 0,
        kind: anfang_app::access::DeviceEventKind::Credential {
            presented: anfang_app::access::Presented::Card("CA0D0001".into()),
            decided_locally: None,
        },
        body_json: "{}".into(),
        images: Vec::new(),
    };
    let decided = app.decide_event(&terminal.code, &event).await.unwrap().unwrap();
    app.store_decided(std::slice::from_ref(&decided)).await.unwrap();

    // The police get the resident in clear and the door record; the centre a masked resident.
    let police = app.cascade_batch(&config.cascade_targets[0], 10).await.unwrap();
    let kinds: Vec<&str> = police.iter().map(|i| i.kind.as_str()).collect();
    assert!(kinds.contains(&"door_record"), "{kinds:?}");
    assert!(kinds.contains(&"person_info"), "{kinds:?}");
    let shared = police
        .iter()
        .find_map(|i| match &i.upward {
            Upward::Person {
                person: Some(p),
                change: 0,
                community_code,
                ..
            } => Some((p.clone(), community_code.clone())),
            _ => None,
        })
        .expect("the new resident, as added");
    assert_eq!(
        (
            shared.0.name.as_str(),
            shared.0.id_number.as_str(),
            shared.0.address.as_str()
        ),
        ("张三丰", "370323198001010018", "3号楼2单元501")
    );
    assert_eq!(shared.1, "370323001001001");
    let door = police
        .iter()
        .find_map(|i| match &i.upward {
            Upward::DoorRecord {
                record, device_code, ..
            } => Some((record.clone(), device_code.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (door.0.outcome.as_str(), door.1.as_str()),
        ("open", "37032300001320000001")
    );

    let centre = app.cascade_batch(&config.cascade_targets[1], 10).await.unwrap();
    assert!(
        centre.iter().all(|i| i.kind == "person_info"),
        "no door records for the centre"
    );
    let masked = centre
        .iter()
        .find_map(|i| match &i.upward {
            Upward::Person { person: Some(p), .. } => Some(p.clone()),
            _ => None,
        })
        .unwrap();
    assert_ne!(masked.id_number, "370323198001010018");
    assert_ne!(masked.name, "张三丰");
    assert!(
        app.cascade_batch(&config.cascade_targets[2], 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Delivery of residents is audited as sharing.
    let ids: Vec<i64> = police.iter().map(|i| i.id).collect();
    app.cascade_delivered("police", &ids, 1).await.unwrap();
    assert_eq!(app.cascade_depth("police").await.unwrap().pending, 0);
    let audit = app
        .list_audit(&admin, anfang_app::store::Page::first(50))
        .await
        .unwrap();
    assert!(
        audit.items.iter().any(|a| a.action == "registry.shared"),
        "sharing residents upward is audited"
    );
}
