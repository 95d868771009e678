//! The contract every [`Store`] backend must satisfy, as plain async checks. Backends call
//! [`run_all`] from their tests on a fresh, migrated database; a failed check panics with a
//! message naming the broken promise.

use crate::*;

fn audit_hash(prev: &str, seq: i64, entry: &NewAudit) -> String {
    // A stand-in hash for the contract: the store must store whatever the function returns.
    format!("{prev}|{seq}|{}|{}", entry.action, entry.target)
}

/// Runs every check in order against `store`, which must be freshly migrated and empty.
pub async fn run_all(store: &dyn Store) {
    let ids = hierarchy_round_trips(store).await;
    rollback_writes_nothing(store).await;
    unique_and_reference_violations_are_conflicts(store, &ids).await;
    filters_scope_and_paginate(store, &ids).await;
    persons_and_relations(store, &ids).await;
    vehicles_by_plate(store, &ids).await;
    devices_wait_for_assignment(store, &ids).await;
    access_control_round_trips(store, &ids).await;
    users_sessions_and_lockout(store).await;
    audit_chain_is_gapless(store).await;
    reports_round_trip(store).await;
    alarms_round_trip(store, &ids).await;
    patrol_round_trip(store, &ids).await;
    warnings_round_trip(store, &ids).await;
    notifications_round_trip(store, &ids).await;
    programme_round_trip(store, &ids).await;
    fees_round_trip(store, &ids).await;
}

/// Ids created by [`hierarchy_round_trips`] for later checks.
#[derive(Debug, Clone, Copy)]
pub struct Ids {
    street: i64,
    community_a: i64,
    community_b: i64,
    unit_a: i64,
    house_a: i64,
    house_b: i64,
}

async fn hierarchy_round_trips(store: &dyn Store) -> Ids {
    let mut tx = store.write().await.expect("write tx");
    let street = tx
        .insert_street(&NewStreet {
            district_code: "370323".into(),
            code: "370323001".into(),
            name: "历山街道".into(),
        })
        .await
        .expect("insert street");
    let committee = tx
        .insert_committee(&NewCommittee {
            street_id: street,
            code: "370323001001".into(),
            name: "历山社区居委会".into(),
            kind: "residents".into(),
        })
        .await
        .expect("insert committee");
    let mut community_ids = Vec::new();
    for (code, name) in [
        ("370323001001001", "翡翠山景小区"),
        ("370323001001002", "沂河嘉园"),
    ] {
        let id = tx
            .insert_community(&NewCommunity {
                committee_id: committee,
                street_id: street,
                code: code.into(),
                name: name.into(),
                category: "new_built".into(),
                property_type: "commercial".into(),
                address: format!("山东省淄博市沂源县{name}"),
                site_width: 400.0,
                site_height: 300.0,
                police_area: Some("历山警务区".into()),
            })
            .await
            .expect("insert community");
        community_ids.push(id);
    }
    let mut houses = Vec::new();
    let mut unit_a = 0;
    for &community in &community_ids {
        let building = tx
            .insert_building(&NewBuilding {
                community_id: community,
                number: "1".into(),
                name: "1号楼".into(),
                floors: 6,
                x: 10.5,
                y: 20.25,
            })
            .await
            .expect("insert building");
        let unit = tx
            .insert_unit(&NewUnit {
                building_id: building,
                number: "1".into(),
            })
            .await
            .expect("unit");
        if unit_a == 0 {
            unit_a = unit;
        }
        let house = tx
            .insert_house(&NewHouse {
                unit_id: unit,
                number: "101".into(),
                floor: 1,
                area_m2: 89.5,
                use_kind: "owner_occupied".into(),
                address: format!("community {community} 1-1-101"),
            })
            .await
            .expect("insert house");
        houses.push(house);
        tx.insert_place(&NewPlace {
            community_id: community,
            kind: "unit_door".into(),
            name: "1号楼1单元门".into(),
            x: 11.0,
            y: 21.0,
            attended: false,
            unit_id: Some(unit),
        })
        .await
        .expect("insert place");
    }
    tx.insert_grid(&NewGrid {
        community_id: community_ids[0],
        code: "G001".into(),
        name: "第一网格".into(),
    })
    .await
    .expect("insert grid");
    tx.insert_organisation(&NewOrganisation {
        community_id: community_ids[0],
        house_id: Some(houses[0]),
        name: "便民超市".into(),
        credit_code: None,
        kind: "shop".into(),
    })
    .await
    .expect("insert organisation");
    tx.commit().await.expect("commit");

    let mut tx = store.read().await.expect("read tx");
    let community = tx
        .community(community_ids[0])
        .await
        .unwrap()
        .expect("community exists");
    assert_eq!(community.name, "翡翠山景小区", "text round-trips unchanged");
    assert_eq!(community.police_area.as_deref(), Some("历山警务区"));
    assert_eq!(
        (community.building_count, community.house_count),
        (1, 1),
        "counts are computed"
    );
    assert_eq!(
        tx.community_by_code("370323001001002").await.unwrap().unwrap().id,
        community_ids[1]
    );
    assert_eq!(tx.community_ids_of_street("370323001").await.unwrap().len(), 2);
    assert!(tx.community_ids_of_street("999").await.unwrap().is_empty());
    let house = tx.house(houses[0]).await.unwrap().expect("house");
    assert_eq!(
        (house.community_id, house.unit_id, house.area_m2),
        (community_ids[0], unit_a, 89.5)
    );
    let found = tx
        .find_house(community_ids[0], "1", "1", "101")
        .await
        .unwrap()
        .expect("find by numbers");
    assert_eq!(found.id, houses[0]);
    assert!(
        tx.find_house(community_ids[0], "1", "1", "999")
            .await
            .unwrap()
            .is_none()
    );
    let unit = tx.unit(unit_a).await.unwrap().expect("unit");
    assert_eq!(unit.community_id, community_ids[0]);
    let building = tx.building(house.building_id).await.unwrap().expect("building");
    assert_eq!((building.x, building.y), (10.5, 20.25), "floats round-trip");
    assert!(
        tx.house(987_654).await.unwrap().is_none(),
        "missing rows are None, not errors"
    );
    Ids {
        street,
        community_a: community_ids[0],
        community_b: community_ids[1],
        unit_a,
        house_a: houses[0],
        house_b: houses[1],
    }
}

async fn rollback_writes_nothing(store: &dyn Store) {
    {
        let mut tx = store.write().await.unwrap();
        tx.insert_street(&NewStreet {
            district_code: "370323".into(),
            code: "ROLLBACK".into(),
            name: "x".into(),
        })
        .await
        .unwrap();
        // Dropped without commit.
    }
    let mut tx = store.read().await.unwrap();
    assert!(
        tx.street_by_code("ROLLBACK").await.unwrap().is_none(),
        "a dropped transaction wrote"
    );
}

async fn unique_and_reference_violations_are_conflicts(store: &dyn Store, ids: &Ids) {
    let mut tx = store.write().await.unwrap();
    let err = tx
        .insert_street(&NewStreet {
            district_code: "370323".into(),
            code: "370323001".into(),
            name: "dup".into(),
        })
        .await
        .expect_err("duplicate street code must fail");
    assert!(
        matches!(err, StoreError::Conflict { .. }),
        "duplicate is a conflict, got {err:?}"
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    let err = tx
        .insert_house(&NewHouse {
            unit_id: 999_999,
            number: "1".into(),
            floor: 1,
            area_m2: 1.0,
            use_kind: "vacant".into(),
            address: "nowhere".into(),
        })
        .await
        .expect_err("house in a missing unit must fail");
    assert!(
        matches!(err, StoreError::Conflict { .. } | StoreError::NotFound { .. }),
        "got {err:?}"
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    let err = tx
        .insert_house(&NewHouse {
            unit_id: ids.unit_a,
            number: "101".into(),
            floor: 1,
            area_m2: 1.0,
            use_kind: "vacant".into(),
            address: "dup".into(),
        })
        .await
        .expect_err("duplicate house number in a unit must fail");
    assert!(matches!(err, StoreError::Conflict { .. }), "got {err:?}");
}

async fn filters_scope_and_paginate(store: &dyn Store, ids: &Ids) {
    let mut tx = store.read().await.unwrap();
    let all = tx
        .list_communities(&Filter::default(), Page::first(10))
        .await
        .unwrap();
    assert_eq!(all.total, 2);
    let scoped = Filter {
        community_ids: Some(vec![ids.community_b]),
        ..Filter::default()
    };
    let only_b = tx.list_communities(&scoped, Page::first(10)).await.unwrap();
    assert_eq!((only_b.total, only_b.items[0].id), (1, ids.community_b));
    let nothing = Filter {
        community_ids: Some(vec![]),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_houses(&nothing, Page::first(10)).await.unwrap().total,
        0,
        "empty scope sees nothing"
    );
    let page = tx
        .list_communities(&Filter::default(), Page { offset: 1, limit: 1 })
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (1, 2), "total counts all pages");
    let by_name = Filter {
        q: Some("沂河".into()),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_communities(&by_name, Page::first(10))
            .await
            .unwrap()
            .items[0]
            .id,
        ids.community_b
    );
    let in_street = Filter {
        street_id: Some(ids.street),
        kind: Some("new_built".into()),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_communities(&in_street, Page::first(10))
            .await
            .unwrap()
            .total,
        2
    );
    let houses_a = Filter {
        community_id: Some(ids.community_a),
        ..Filter::default()
    };
    let houses = tx.list_houses(&houses_a, Page::first(10)).await.unwrap();
    assert_eq!(
        houses.items.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![ids.house_a]
    );
    let one_house = Filter {
        house_ids: Some(vec![ids.house_b]),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_houses(&one_house, Page::first(10)).await.unwrap().items[0].id,
        ids.house_b
    );
    let places = tx.list_places(&houses_a, Page::first(10)).await.unwrap();
    assert_eq!((places.total, places.items[0].unit_id), (1, Some(ids.unit_a)));
    let buildings = tx.list_buildings(&houses_a, Page::first(10)).await.unwrap();
    assert_eq!(buildings.total, 1);
    let units = Filter {
        building_id: Some(buildings.items[0].id),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_units(&units, Page::first(10)).await.unwrap().items[0].id,
        ids.unit_a
    );
    assert_eq!(
        tx.list_streets(&Filter::default(), Page::first(10))
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        tx.list_committees(&Filter::default(), Page::first(10))
            .await
            .unwrap()
            .total,
        1
    );
}

fn person(community_id: i64, name: &str, index: &str) -> NewPerson {
    NewPerson {
        community_id,
        name: name.into(),
        gender: "female".into(),
        id_type: "resident_id".into(),
        id_number_enc: vec![1, 2, 3, 0, 255],
        id_number_index: index.into(),
        phone_enc: Some(vec![9, 9]),
        phone_index: Some(format!("phone-{index}")),
        population_type: "registered".into(),
        tags_json: "[\"elderly_alone\"]".into(),
        now_ms: 1_600_000_000_000,
    }
}

async fn persons_and_relations(store: &dyn Store, ids: &Ids) {
    let mut tx = store.write().await.unwrap();
    let alice = tx
        .insert_person(&person(ids.community_a, "测试甲", "idx-a"))
        .await
        .unwrap();
    let bob = tx
        .insert_person(&person(ids.community_b, "测试乙", "idx-b"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    let err = tx
        .insert_person(&person(ids.community_a, "dup", "idx-a"))
        .await
        .expect_err("duplicate index");
    assert!(matches!(err, StoreError::Conflict { .. }));
    drop(tx);
    let mut tx = store.write().await.unwrap();
    let rel = PersonHouseRow {
        person_id: alice,
        house_id: ids.house_a,
        role: "tenant".into(),
        lease_start: Some("2026-01-01".into()),
        lease_end: Some("2026-12-31".into()),
        schedule: None,
        address: String::new(),
    };
    tx.upsert_person_house(&rel).await.unwrap();
    tx.upsert_person_house(&PersonHouseRow {
        role: "owner".into(),
        lease_start: None,
        lease_end: None,
        schedule: Some("1-5 07:00-19:00".into()),
        ..rel
    })
    .await
    .unwrap();
    let mut updated = person(ids.community_a, "测试甲改", "idx-a");
    updated.now_ms = 1_700_000_000_000;
    tx.update_person(alice, &updated).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let row = tx.person_by_id_index("idx-a").await.unwrap().expect("by index");
    assert_eq!(
        (row.id, row.name.as_str(), row.updated_at),
        (alice, "测试甲改", 1_700_000_000_000)
    );
    assert_eq!(row.id_number_enc, vec![1, 2, 3, 0, 255], "bytes round-trip");
    let rels = tx.person_houses(&[alice, bob]).await.unwrap();
    assert_eq!(rels.len(), 1, "upsert replaced the relation");
    assert_eq!(
        (
            rels[0].role.as_str(),
            rels[0].lease_end.as_deref(),
            rels[0].schedule.as_deref()
        ),
        ("owner", None, Some("1-5 07:00-19:00"))
    );
    assert_eq!(rels[0].address, format!("community {} 1-1-101", ids.community_a));
    let in_house = Filter {
        house_id: Some(ids.house_a),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_persons(&in_house, Page::first(10)).await.unwrap().items[0].id,
        alice
    );
    let resident_scope = Filter {
        house_ids: Some(vec![ids.house_b]),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_persons(&resident_scope, Page::first(10))
            .await
            .unwrap()
            .total,
        0
    );
    let scoped = Filter {
        community_ids: Some(vec![ids.community_b]),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_persons(&scoped, Page::first(10)).await.unwrap().items[0].id,
        bob
    );
    let by_index = Filter {
        id_number_index: Some("idx-b".into()),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_persons(&by_index, Page::first(10)).await.unwrap().items[0].id,
        bob
    );
    assert_eq!(
        tx.community(ids.community_a)
            .await
            .unwrap()
            .unwrap()
            .resident_count,
        1
    );
}

async fn vehicles_by_plate(store: &dyn Store, ids: &Ids) {
    let mut tx = store.write().await.unwrap();
    let owner = tx.person_by_id_index("idx-a").await.unwrap().unwrap().id;
    let new = NewVehicle {
        community_id: ids.community_a,
        plate_number: "鲁C12345".into(),
        plate_color: "blue".into(),
        owner_person_id: Some(owner),
        parking_space: None,
    };
    let id = tx.insert_vehicle(&new).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    assert!(
        matches!(tx.insert_vehicle(&new).await, Err(StoreError::Conflict { .. })),
        "plates are unique"
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    tx.update_vehicle(
        id,
        &NewVehicle {
            parking_space: Some("B-017".into()),
            ..new
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    let row = tx.vehicle_by_plate("鲁C12345").await.unwrap().expect("by plate");
    assert_eq!(
        (row.parking_space.as_deref(), row.owner_name.as_deref()),
        (Some("B-017"), Some("测试甲改"))
    );
    assert_eq!(tx.vehicle(id).await.unwrap().unwrap().id, id);
    let resident = Filter {
        house_ids: Some(vec![ids.house_a]),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_vehicles(&resident, Page::first(10)).await.unwrap().total,
        1,
        "owner lives there"
    );
    let other = Filter {
        house_ids: Some(vec![ids.house_b]),
        ..Filter::default()
    };
    assert_eq!(tx.list_vehicles(&other, Page::first(10)).await.unwrap().total, 0);
}

async fn devices_wait_for_assignment(store: &dyn Store, ids: &Ids) {
    let mut tx = store.write().await.unwrap();
    let id = tx
        .insert_device(&NewDevice {
            code: "37032300001320000001".into(),
            name: "1号楼1单元门禁".into(),
            kind: "face_door_terminal".into(),
            protocol: "mqtt".into(),
            community_id: None,
            place_id: None,
            x: None,
            y: None,
            install_date: Some("2020-06-30".into()),
            contractor: None,
            secret_enc: vec![7; 40],
            now_ms: 1,
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    let waiting = Filter {
        unassigned: true,
        ..Filter::default()
    };
    assert_eq!(tx.list_devices(&waiting, Page::first(10)).await.unwrap().total, 1);
    drop(tx);
    let mut tx = store.write().await.unwrap();
    assert!(matches!(
        tx.assign_device(424_242, ids.community_a, None).await,
        Err(StoreError::NotFound { .. })
    ));
    tx.assign_device(id, ids.community_a, None).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    assert_eq!(tx.list_devices(&waiting, Page::first(10)).await.unwrap().total, 0);
    let row = tx.device_by_code("37032300001320000001").await.unwrap().unwrap();
    assert_eq!(
        (row.id, row.community_id, row.secret_enc.len()),
        (id, Some(ids.community_a), 40)
    );
    let kind = Filter {
        kind: Some("face_door_terminal".into()),
        ..Filter::default()
    };
    assert_eq!(tx.list_devices(&kind, Page::first(10)).await.unwrap().total, 1);
    assert_eq!(
        tx.device(id).await.unwrap().unwrap().install_date.as_deref(),
        Some("2020-06-30")
    );
}

async fn access_control_round_trips(store: &dyn Store, ids: &Ids) {
    let mut tx = store.write().await.unwrap();
    let person = tx.person_by_id_index("idx-a").await.unwrap().unwrap().id;
    let device = tx
        .device_by_code("37032300001320000001")
        .await
        .unwrap()
        .unwrap()
        .id;
    let consent = tx
        .insert_consent(&NewConsent {
            person_id: person,
            purpose: "face_access".into(),
            given_by: "guardian".into(),
            guardian_name: Some("监护人".into()),
            recorded_by: "user:pm".into(),
            given_at: 10,
        })
        .await
        .unwrap();
    let card = NewCredential {
        person_id: person,
        kind: "card".into(),
        value_index: "card-idx".into(),
        value_enc: Some(vec![4, 2]),
        valid_from: None,
        valid_until: Some(99),
        now_ms: 11,
    };
    let credential = tx.insert_credential(&card).await.unwrap();
    tx.touch_device(device, 12, Some("v2.1"), Some(7)).await.unwrap();
    tx.touch_device(device, 13, None, None).await.unwrap();
    tx.set_device_accepts(device, Some("face,card")).await.unwrap();
    assert!(matches!(
        tx.set_device_accepts(-1, None).await,
        Err(StoreError::NotFound { .. })
    ));
    let event = DeviceEventRow {
        device_id: device,
        event_id: "evt-1".into(),
        kind: "credential".into(),
        at: 13,
        received_at: 14,
        body: "{}".into(),
        answer: "{\"status\":\"stored\"}".into(),
    };
    tx.insert_device_event(&event).await.unwrap();
    let record = NewAccessRecord {
        community_id: ids.community_a,
        device_id: device,
        event_id: "evt-1".into(),
        person_id: Some(person),
        credential_kind: "card".into(),
        outcome: "open".into(),
        reason: "resident".into(),
        decided_locally: true,
        snapshot_key: None,
        at: 13,
    };
    let first_record = tx.insert_access_record(&record).await.unwrap();
    tx.insert_access_record(&NewAccessRecord {
        person_id: None,
        outcome: "deny".into(),
        snapshot_key: Some("events/1/snap".into()),
        at: 15,
        ..record
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    let one = tx.access_record(first_record).await.unwrap().unwrap();
    assert_eq!(
        (one.event_id.as_str(), one.person_id, one.decided_locally),
        ("evt-1", Some(person), true)
    );
    assert!(tx.access_record(-1).await.unwrap().is_none());
    drop(tx);

    let mut tx = store.write().await.unwrap();
    assert!(
        matches!(
            tx.insert_credential(&card).await,
            Err(StoreError::Conflict { .. })
        ),
        "a card value is issued once"
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    assert!(
        matches!(
            tx.insert_device_event(&event).await,
            Err(StoreError::Conflict { .. })
        ),
        "event ids are unique"
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    tx.revoke_consent(consent, 20).await.unwrap();
    assert!(
        matches!(
            tx.revoke_consent(consent, 21).await,
            Err(StoreError::NotFound { .. })
        ),
        "revoked once"
    );
    tx.revoke_credential(credential, 20).await.unwrap();
    let deny = |reason: &str| NewDenyEntry {
        community_id: ids.community_a,
        person_id: person,
        reason: reason.into(),
        added_by: "user:pm".into(),
        added_at: 30,
    };
    let photo = |key: &str, at: i64| NewFacePhoto {
        person_id: person,
        image_key: key.into(),
        sha256: "ab".repeat(32),
        format: "jpeg".into(),
        width: 480,
        height: 640,
        size_bytes: 51_200,
        uploaded_by: "user:pm".into(),
        uploaded_at: at,
    };
    tx.insert_face_photo(&photo("faces/1/a", 31)).await.unwrap();
    let newer = tx.insert_face_photo(&photo("faces/1/b", 32)).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    assert!(
        matches!(
            tx.insert_face_photo(&photo("faces/1/b", 33)).await,
            Err(StoreError::Conflict { .. })
        ),
        "image keys are unique"
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    let active = tx.face_photo(person).await.unwrap().unwrap();
    assert_eq!((active.id, active.width, active.removed_at), (newer, 480, None));
    let mut keys = tx.remove_face_photos(person, 34).await.unwrap();
    keys.sort();
    assert_eq!(keys, vec!["faces/1/a".to_string(), "faces/1/b".to_string()]);
    assert!(tx.face_photo(person).await.unwrap().is_none());
    assert!(tx.remove_face_photos(person, 35).await.unwrap().is_empty());
    let capture = |record_id: &str, hash: &str, shot_at: i64| NewCaptureRecord {
        community_id: Some(ids.community_a),
        device_id: device,
        kind: "motor_vehicle".into(),
        record_id: record_id.into(),
        content_hash: hash.into(),
        shot_at,
        plate: Some("鲁C12345".into()),
        attributes: "{}".into(),
        image_keys: "[]".into(),
        received_at: shot_at + 1,
    };
    let c1 = tx.insert_capture_record(&capture("R1", "h1", 100)).await.unwrap();
    assert!(c1.is_some());
    assert_eq!(
        tx.insert_capture_record(&capture("R1", "h1", 100)).await.unwrap(),
        None,
        "the same upload twice is one record"
    );
    assert!(
        tx.insert_capture_record(&capture("R1", "h2", 200))
            .await
            .unwrap()
            .is_some(),
        "a reused record id with other content is another record"
    );
    let by_plate = Filter {
        plate_number: Some("鲁C12345".into()),
        ..Filter::default()
    };
    let found = tx
        .list_capture_records(&by_plate, Some(150), None, Page::first(10))
        .await
        .unwrap();
    assert_eq!((found.total, found.items[0].content_hash.as_str()), (1, "h2"));
    let elsewhere = Filter {
        community_ids: Some(vec![ids.community_b]),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_capture_records(&elsewhere, None, None, Page::first(10))
            .await
            .unwrap()
            .total,
        0
    );
    let first = tx
        .enqueue_cascade("police", "face", "{\"record\":1}", 10, None)
        .await
        .unwrap();
    let second = tx
        .enqueue_cascade("police", "face", "{\"record\":2}", 11, None)
        .await
        .unwrap();
    tx.enqueue_cascade("bigdata", "face", "{}", 12, None)
        .await
        .unwrap();
    tx.note_cascade_failure(&[first], "503").await.unwrap();
    let pending = tx.pending_cascade("police", 10).await.unwrap();
    assert_eq!(
        pending.iter().map(|c| (c.id, c.attempts)).collect::<Vec<_>>(),
        vec![(first, 1), (second, 0)],
        "in order, failures counted"
    );
    tx.mark_cascade_delivered(&[first], 20).await.unwrap();
    assert_eq!(
        tx.cascade_depth("police").await.unwrap(),
        CascadeDepth {
            pending: 1,
            last_delivered_at: Some(20)
        }
    );
    assert_eq!(
        tx.cascade_depth("nobody").await.unwrap(),
        CascadeDepth {
            pending: 0,
            last_delivered_at: None
        }
    );
    let stored = tx.capture_record(c1.unwrap()).await.unwrap().expect("by id");
    assert_eq!(stored.record_id, "R1");

    // A superior's subscription: placed, replaced by a repeat, cancelled; per target.
    let subscription = |status: i64, body: &str| ViidSubscriptionRow {
        id: 0,
        target: "police".into(),
        subscribe_id: "330200000000032026112300000001".into(),
        status,
        begin_at: 0,
        end_at: 1000,
        body: body.into(),
        updated_at: 5,
    };
    let s1 = tx.upsert_viid_subscription(&subscription(0, "{}")).await.unwrap();
    let s2 = tx
        .upsert_viid_subscription(&subscription(0, "{\"Title\":\"again\"}"))
        .await
        .unwrap();
    assert_eq!(s1, s2, "a repeated SubscribeID replaces the subscription");
    assert!(
        tx.set_viid_subscription_status("police", "330200000000032026112300000001", 1, 9)
            .await
            .unwrap()
    );
    assert!(
        !tx.set_viid_subscription_status("bigdata", "330200000000032026112300000001", 1, 9)
            .await
            .unwrap()
    );
    let subs = tx.list_viid_subscriptions("police").await.unwrap();
    assert_eq!(
        (subs.len(), subs[0].status, subs[0].body.as_str()),
        (1, 1, "{\"Title\":\"again\"}")
    );
    assert!(tx.list_viid_subscriptions("bigdata").await.unwrap().is_empty());

    // The police watch-list: a plate disposition, matched while active, revoked.
    let entry = |status: &str| WatchEntryRow {
        id: 0,
        source: "viid:police".into(),
        external_id: "330200000000012026112300000001".into(),
        category: "motor_vehicle".into(),
        plate: Some("鲁C12345".into()),
        title: "布控".into(),
        status: status.into(),
        begin_at: 100,
        end_at: 300,
        body: "{}".into(),
        image_keys: "[]".into(),
        created_at: 90,
        updated_at: 90,
    };
    let e1 = tx.upsert_watch_entry(&entry("active")).await.unwrap();
    assert_eq!(tx.upsert_watch_entry(&entry("active")).await.unwrap(), e1);
    let plates = vec!["鲁C12345".to_string(), "鲁C00000".to_string()];
    assert_eq!(tx.plate_watches(&plates, 150).await.unwrap().len(), 1);
    assert!(tx.plate_watches(&plates, 300).await.unwrap().is_empty(), "ended");
    assert!(
        tx.plate_watches(&plates, 50).await.unwrap().is_empty(),
        "not begun"
    );
    let hit = tx
        .insert_watch_hit(&WatchHitRow {
            id: 0,
            entry_id: e1,
            capture_record_id: c1,
            community_id: Some(ids.community_a),
            at: 150,
            distance: Some(0.31),
            margin: Some(0.2),
            state: "to_confirm".into(),
        })
        .await
        .unwrap();
    let hits = tx.list_watch_hits(Some(e1), Page::first(10)).await.unwrap();
    assert_eq!((hits.total, hits.items[0].id), (1, hit));
    assert!(
        tx.set_watch_entry_status("viid:police", "330200000000012026112300000001", "revoked", 160)
            .await
            .unwrap()
    );
    assert!(
        tx.plate_watches(&plates, 170).await.unwrap().is_empty(),
        "revoked"
    );
    assert_eq!(tx.watch_entry(e1).await.unwrap().unwrap().status, "revoked");
    assert_eq!(
        tx.list_watch_entries(Some("revoked"), Page::first(10))
            .await
            .unwrap()
            .total,
        1
    );
    // Recognition: a photo's template, face captures waiting and recognised, strangers, expiry.
    let photo_c = tx.insert_face_photo(&photo("faces/1/c", 40)).await.unwrap();
    assert!(
        tx.face_templates(None).await.unwrap().is_empty(),
        "no template yet"
    );
    tx.set_face_template(photo_c, "dlib-resnet-v1", &[1, 2, 3])
        .await
        .unwrap();
    let templates = tx.face_templates(Some(person)).await.unwrap();
    assert_eq!(
        (
            templates.len(),
            templates[0].community_id,
            templates[0].template_enc.clone()
        ),
        (1, ids.community_a, vec![1, 2, 3])
    );
    assert_eq!(tx.face_person_counts().await.unwrap(), vec![(ids.community_a, 1)]);
    tx.set_watch_template(e1, "dlib-resnet-v1", &[9]).await.unwrap();
    assert!(
        tx.watch_templates(150).await.unwrap().is_empty(),
        "the entry was revoked"
    );
    let face = |record_id: &str| NewCaptureRecord {
        kind: "face".into(),
        plate: None,
        ..capture(record_id, record_id, 200)
    };
    let f1 = tx.insert_capture_record(&face("F1")).await.unwrap().unwrap();
    let f2 = tx.insert_capture_record(&face("F2")).await.unwrap().unwrap();
    let pending = tx.pending_face_captures(0, 10).await.unwrap();
    assert_eq!(pending.iter().map(|c| c.id).collect::<Vec<_>>(), vec![f1, f2]);
    assert_eq!(tx.pending_face_captures(f1, 10).await.unwrap().len(), 1);
    let stranger_row = StrangerRow {
        id: 0,
        community_id: Some(ids.community_a),
        template_enc: vec![7; 4],
        model: "dlib-resnet-v1".into(),
        sightings: 1,
        first_seen: 200,
        last_seen: 200,
        expires_at: 1_000,
    };
    let stranger = tx.insert_stranger(&stranger_row).await.unwrap();
    let recognised = |capture_record_id: i64, stranger_id: Option<i64>, expires_at: i64| CaptureFaceRow {
        id: 0,
        capture_record_id,
        community_id: Some(ids.community_a),
        device_id: device,
        shot_at: 200,
        outcome: if stranger_id.is_some() {
            "stranger"
        } else {
            "resident"
        }
        .into(),
        person_id: stranger_id.is_none().then_some(person),
        stranger_id,
        distance: Some(0.3),
        margin: Some(0.4),
        template_enc: Some(vec![5; 4]),
        model: Some("dlib-resnet-v1".into()),
        recognised_at: 201,
        expires_at,
    };
    tx.insert_capture_face(&recognised(f1, Some(stranger), 500))
        .await
        .unwrap();
    tx.insert_capture_face(&recognised(f2, None, 5_000))
        .await
        .unwrap();
    assert!(tx.pending_face_captures(0, 10).await.unwrap().is_empty());
    tx.update_stranger(&StrangerRow {
        id: stranger,
        sightings: 2,
        last_seen: 300,
        ..stranger_row.clone()
    })
    .await
    .unwrap();
    let strangers = tx.strangers(Some(ids.community_a)).await.unwrap();
    assert_eq!(
        (strangers.len(), strangers[0].sightings, strangers[0].last_seen),
        (1, 2, 300)
    );
    assert!(tx.strangers(Some(ids.community_b)).await.unwrap().is_empty());
    assert_eq!(tx.stranger(stranger).await.unwrap().map(|s| s.sightings), Some(2));
    assert!(tx.stranger(stranger + 1_000).await.unwrap().is_none());
    assert_eq!(
        tx.capture_faces_of(Some(stranger), None, 10).await.unwrap().len(),
        1
    );
    assert_eq!(
        tx.capture_faces_of(None, Some(person), 10).await.unwrap()[0].capture_record_id,
        f2
    );
    assert_eq!(
        tx.capture_face_templates(Some(&[ids.community_a]))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        tx.capture_face_templates(Some(&[ids.community_b]))
            .await
            .unwrap()
            .is_empty()
    );
    let purged = tx.purge_biometrics(600).await.unwrap();
    assert_eq!((purged.capture_templates, purged.strangers), (1, 0));
    let purged = tx.purge_biometrics(1_000).await.unwrap();
    assert_eq!((purged.capture_templates, purged.strangers), (0, 1));
    assert!(tx.strangers(None).await.unwrap().is_empty());
    assert_eq!(
        tx.capture_faces_of(Some(stranger), None, 10).await.unwrap().len(),
        0
    );
    assert_eq!(tx.capture_face_templates(None).await.unwrap().len(), 1);
    tx.remove_face_photos(person, 41).await.unwrap();
    assert!(
        tx.face_templates(None).await.unwrap().is_empty(),
        "removed with the photo"
    );

    let pass = |plate: &str| NewParkingPass {
        community_id: ids.community_a,
        plate_number: plate.into(),
        holder_name: "月卡甲".into(),
        valid_from: 100,
        valid_until: 200,
        fee_cents: 30_000,
        created_by: "user:pm".into(),
        created_at: 90,
    };
    let p1 = tx.insert_parking_pass(&pass("鲁C12345")).await.unwrap();
    let p2 = tx.insert_parking_pass(&pass("鲁C54321")).await.unwrap();
    tx.revoke_parking_pass(p1, 150).await.unwrap();
    assert!(matches!(
        tx.revoke_parking_pass(p1, 151).await,
        Err(StoreError::NotFound { .. })
    ));
    let listed = tx.parking_passes(ids.community_a, None).await.unwrap();
    assert_eq!(listed.iter().map(|p| p.id).collect::<Vec<_>>(), vec![p2, p1]);
    let one = tx
        .parking_passes(ids.community_a, Some("鲁C12345"))
        .await
        .unwrap();
    assert_eq!((one.len(), one[0].revoked_at), (1, Some(150)));
    assert_eq!(tx.parking_pass(p2).await.unwrap().unwrap().fee_cents, 30_000);
    assert!(tx.parking_passes(ids.community_b, None).await.unwrap().is_empty());
    let first = tx.insert_deny_entry(&deny("欠费")).await.unwrap();
    let second = tx.insert_deny_entry(&deny("其他")).await.unwrap();
    tx.remove_deny_entry(first, 40, "user:pm2").await.unwrap();
    assert!(
        matches!(
            tx.remove_deny_entry(first, 41, "user:pm2").await,
            Err(StoreError::NotFound { .. })
        ),
        "removed once"
    );
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    assert_eq!(
        tx.denied_communities(person).await.unwrap(),
        vec![ids.community_a]
    );
    let all = tx.deny_entries(ids.community_a, false).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![second, first],
        "newest first"
    );
    let removed = tx.deny_entry(first).await.unwrap().unwrap();
    assert_eq!(
        (
            removed.removed_at,
            removed.removed_by.as_deref(),
            removed.reason.as_str()
        ),
        (Some(40), Some("user:pm2"), "欠费")
    );
    assert_eq!(tx.deny_entries(ids.community_a, true).await.unwrap().len(), 1);
    assert!(tx.deny_entries(ids.community_b, false).await.unwrap().is_empty());
    drop(tx);
    let mut tx = store.write().await.unwrap();
    tx.remove_deny_entry(second, 50, "user:pm").await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let consents = tx.consents(person).await.unwrap();
    assert_eq!(
        (consents[0].guardian_name.as_deref(), consents[0].revoked_at),
        (Some("监护人"), Some(20))
    );
    let found = tx.credential_by_index("card", "card-idx").await.unwrap().unwrap();
    assert_eq!(found.value_enc, Some(vec![4, 2]));
    assert_eq!(
        (found.id, found.valid_until, found.revoked_at),
        (credential, Some(99), Some(20))
    );
    assert!(
        tx.credential_by_index("pin", "card-idx").await.unwrap().is_none(),
        "kinds are separate"
    );
    assert_eq!(tx.credentials(person).await.unwrap().len(), 1);
    let stored = tx.device_event(device, "evt-1").await.unwrap().unwrap();
    assert_eq!(stored.answer, event.answer, "the first answer is kept");
    let d = tx.device(device).await.unwrap().unwrap();
    assert_eq!(
        (
            d.last_seen_at,
            d.firmware.as_deref(),
            d.library_version,
            d.accepts.as_deref()
        ),
        (Some(13), Some("v2.1"), Some(7), Some("face,card"))
    );
    let all = tx
        .list_access_records(&Filter::default(), Page::first(10))
        .await
        .unwrap();
    assert_eq!(
        (all.total, all.items[0].at, all.items[1].person_name.as_deref()),
        (2, 15, Some("测试甲改"))
    );
    assert!(all.items[1].decided_locally);
    let denied = Filter {
        kind: Some("deny".into()),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_access_records(&denied, Page::first(10))
            .await
            .unwrap()
            .total,
        1
    );
    let mine = Filter {
        house_ids: Some(vec![ids.house_a]),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_access_records(&mine, Page::first(10))
            .await
            .unwrap()
            .total,
        1,
        "a resident sees their own"
    );
    let other = Filter {
        community_ids: Some(vec![ids.community_b]),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_access_records(&other, Page::first(10))
            .await
            .unwrap()
            .total,
        0
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    assert!(tx.parking_tariff(ids.community_a).await.unwrap().is_none());
    tx.set_parking_tariff(ids.community_a, "{\"a\":1}", 1)
        .await
        .unwrap();
    tx.set_parking_tariff(ids.community_a, "{\"a\":2}", 2)
        .await
        .unwrap();
    let session = tx
        .insert_parking_session(ids.community_a, "鲁C8X888", device, 1000)
        .await
        .unwrap();
    tx.update_parking_session(session, Some(device), None, Some(450), "fee_due")
        .await
        .unwrap();
    let paid = tx
        .insert_parking_payment(session, 450, "cash", "user:guard", 2000)
        .await
        .unwrap();
    tx.insert_parking_payment(session, 100, "cash", "user:guard", 2001)
        .await
        .unwrap();
    tx.refund_parking_payment(paid, 3000).await.unwrap();
    assert!(
        matches!(
            tx.refund_parking_payment(paid, 3001).await,
            Err(StoreError::NotFound { .. })
        ),
        "refunded once"
    );
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    assert_eq!(
        tx.parking_tariff(ids.community_a).await.unwrap().as_deref(),
        Some("{\"a\":2}")
    );
    let row = tx.parking_session(session).await.unwrap().unwrap();
    assert_eq!(
        (row.fee_cents, row.paid_cents, row.status.as_str()),
        (Some(450), 100, "fee_due")
    );
    assert_eq!(
        tx.unclosed_parking_sessions(ids.community_a).await.unwrap().len(),
        1
    );
    assert_eq!(
        tx.parking_payments(session).await.unwrap()[0].refunded_at,
        Some(3000)
    );
    let due = Filter {
        kind: Some("fee_due".into()),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_parking_sessions(&due, Page::first(5))
            .await
            .unwrap()
            .total,
        1
    );
    let elsewhere = Filter {
        community_ids: Some(vec![ids.community_b]),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_parking_sessions(&elsewhere, Page::first(5))
            .await
            .unwrap()
            .total,
        0
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    let call = tx
        .insert_booth_call(&NewBoothCall {
            community_id: ids.community_a,
            device_id: device,
            event_id: "bc-1".into(),
            visitor_name: "访客甲".into(),
            id_number_enc: Some(vec![1, 2]),
            house_ref: Some("1-1-101".into()),
            house_id: Some(ids.house_a),
            card_photo_key: Some("events/1/card".into()),
            snapshot_key: None,
            now_ms: 100,
        })
        .await
        .unwrap();
    assert!(
        tx.set_booth_call_status(call, "ringing", "accepted", 150, Some("user:guard"), None)
            .await
            .unwrap()
    );
    assert!(
        !tx.set_booth_call_status(call, "ringing", "timed_out", 160, None, None)
            .await
            .unwrap(),
        "answered once"
    );
    let second = tx
        .insert_booth_call(&NewBoothCall {
            community_id: ids.community_a,
            device_id: device,
            event_id: "bc-2".into(),
            visitor_name: "访客乙".into(),
            id_number_enc: None,
            house_ref: None,
            house_id: None,
            card_photo_key: None,
            snapshot_key: None,
            now_ms: 200,
        })
        .await
        .unwrap();
    let command = tx.queue_command(device, "{\"open\":true}", 170).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    let row = tx.booth_call(call).await.unwrap().unwrap();
    assert_eq!(
        (
            row.status.as_str(),
            row.answered_by.as_deref(),
            row.card_photo_key.as_deref()
        ),
        ("accepted", Some("user:guard"), Some("events/1/card"))
    );
    assert_eq!(
        tx.ringing_booth_calls_before(300)
            .await
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        vec![second]
    );
    assert!(tx.ringing_booth_calls_before(150).await.unwrap().is_empty());
    let ringing = Filter {
        kind: Some("ringing".into()),
        ..Filter::default()
    };
    assert_eq!(
        tx.list_booth_calls(&ringing, Page::first(5)).await.unwrap().total,
        1
    );
    let for_the_house = Filter {
        house_ids: Some(vec![ids.house_a]),
        ..Filter::default()
    };
    let mine = tx.list_booth_calls(&for_the_house, Page::first(5)).await.unwrap();
    assert_eq!(
        (mine.total, mine.items[0].id, mine.items[0].house_id),
        (1, call, Some(ids.house_a)),
        "a resident sees calls to their house only"
    );
    assert_eq!(tx.pending_commands(Some(device), 5).await.unwrap()[0].id, command);
    tx.mark_command_delivered(command, 180).await.unwrap();
    assert!(tx.pending_commands(None, 5).await.unwrap().is_empty());
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    let place = tx
        .list_places(&Filter::default(), Page::first(1))
        .await
        .unwrap()
        .items[0]
        .clone();
    assert_eq!(tx.place(place.id).await.unwrap().unwrap(), place);
}

async fn users_sessions_and_lockout(store: &dyn Store) {
    let mut tx = store.write().await.unwrap();
    let id = tx
        .insert_user(&NewUser {
            username: "police1".into(),
            password_hash: "$argon2id$stub".into(),
            role: "community_police".into(),
            display_name: "民警".into(),
            scopes: vec![
                ("street".into(), "370323001".into()),
                ("house".into(), "5".into()),
            ],
            now_ms: 5,
        })
        .await
        .unwrap();
    tx.set_password_hash(id, "$argon2id$other").await.unwrap();
    tx.set_login_state(id, 3, Some(99)).await.unwrap();
    tx.insert_session(&SessionRow {
        token_hash: "h1".into(),
        user_id: id,
        created_at: 1,
        expires_at: 2,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    let user = tx.user_by_name("police1").await.unwrap().unwrap();
    assert_eq!((user.failed_logins, user.locked_until), (3, Some(99)));
    assert_eq!(user.password_hash, "$argon2id$other");
    tx.set_password_hash(id, "$argon2id$third").await.unwrap();
    assert_eq!(
        tx.user(id).await.unwrap().unwrap().failed_logins,
        0,
        "a new password clears the lockout"
    );
    assert_eq!(tx.user(id).await.unwrap().unwrap().username, "police1");
    assert_eq!(tx.user_scopes(id).await.unwrap().len(), 2);
    assert_eq!(tx.session("h1").await.unwrap().unwrap().user_id, id);
    tx.delete_session("h1").await.unwrap();
    assert!(tx.session("h1").await.unwrap().is_none());
    assert!(tx.list_users(Page::first(10)).await.unwrap().total >= 1);
    tx.commit().await.unwrap();
}

async fn audit_chain_is_gapless(store: &dyn Store) {
    let mut tx = store.write().await.unwrap();
    let entry = |n: i64| NewAudit {
        at: n,
        actor: "user:admin".into(),
        action: "test.append".into(),
        target: format!("thing:{n}"),
        detail: "{}".into(),
    };
    let first = tx.append_audit(&entry(1), audit_hash).await.unwrap();
    let second = tx.append_audit(&entry(2), audit_hash).await.unwrap();
    tx.commit().await.unwrap();
    {
        let mut tx = store.write().await.unwrap();
        tx.append_audit(&entry(3), audit_hash).await.unwrap();
        // Rolled back: the chain must not keep a gap or a moved head.
    }
    let mut tx = store.write().await.unwrap();
    let third = tx.append_audit(&entry(4), audit_hash).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (first.seq, second.seq, third.seq),
        (1, 2, 3),
        "gapless after a rollback"
    );
    assert_eq!(second.prev_hash, first.hash);
    assert_eq!(third.prev_hash, second.hash);
    assert_eq!(third.hash, audit_hash(&second.hash, 3, &entry(4)));
    let mut tx = store.read().await.unwrap();
    let after = tx.audit_after(1, 10).await.unwrap();
    assert_eq!(after.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![2, 3]);
    let page = tx.list_audit(Page::first(2)).await.unwrap();
    assert_eq!((page.total, page.items[0].seq), (3, 3), "newest first");
}

async fn reports_round_trip(store: &dyn Store) {
    let mut tx = store.write().await.unwrap();
    let id = tx
        .insert_report(&NewReport {
            user_id: 1,
            kind: "persons".into(),
            content: vec![0x50, 0x4b, 3, 4],
            now_ms: 9,
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    let report = tx.report(id).await.unwrap().unwrap();
    assert_eq!((report.kind.as_str(), report.content.len()), ("persons", 4));
    assert!(tx.report(id + 100).await.unwrap().is_none());
}

async fn alarms_round_trip(store: &dyn Store, ids: &Ids) {
    let mut tx = store.write().await.unwrap();
    let device = tx
        .device_by_code("37032300001320000001")
        .await
        .unwrap()
        .unwrap()
        .id;
    let raised = |community_id: i64, kind: &str, severity: &str, raised_at: i64| AlarmRow {
        id: 0,
        community_id: Some(community_id),
        device_id: Some(device),
        place_id: None,
        kind: kind.into(),
        severity: severity.into(),
        state: "new".into(),
        zone: Some("east fence".into()),
        source: "device".into(),
        source_ref: Some("evt-1".into()),
        raised_at,
        last_at: raised_at,
        repeats: 0,
        level: 0,
        escalated_at: None,
        acknowledged_at: None,
        acknowledged_by: None,
        dispatched_to: None,
        closed_at: None,
        closed_by: None,
        cameras: "[4,2]".into(),
        snapshot_key: None,
    };
    let minor = tx
        .insert_alarm(&raised(ids.community_a, "loitering", "minor", 1_000))
        .await
        .unwrap();
    let critical = tx
        .insert_alarm(&raised(ids.community_a, "perimeter_intrusion", "critical", 900))
        .await
        .unwrap();
    let other = tx
        .insert_alarm(&raised(ids.community_b, "sos", "critical", 1_100))
        .await
        .unwrap();
    let got = tx.alarm(critical).await.unwrap().unwrap();
    assert_eq!(
        got,
        AlarmRow {
            id: critical,
            ..raised(ids.community_a, "perimeter_intrusion", "critical", 900)
        }
    );
    assert_eq!(tx.alarm(-1).await.unwrap(), None);
    assert_eq!(
        tx.open_alarm(device, "loitering").await.unwrap().unwrap().id,
        minor
    );
    // Open ones first, most severe first.
    let scope = AlarmFilter {
        community_ids: Some(vec![ids.community_a]),
        ..AlarmFilter::default()
    };
    let listed = tx.list_alarms(&scope, Page::first(10)).await.unwrap();
    assert_eq!(listed.total, 2);
    assert_eq!(
        listed.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![critical, minor]
    );
    // Lifecycle: the critical one is resolved and sinks below the open minor one.
    let closed = AlarmRow {
        state: "resolved".into(),
        acknowledged_at: Some(950),
        acknowledged_by: Some("user:guard1".into()),
        dispatched_to: Some("patrol team".into()),
        closed_at: Some(990),
        closed_by: Some("user:guard1".into()),
        level: 1,
        escalated_at: Some(960),
        repeats: 2,
        last_at: 980,
        ..got
    };
    tx.update_alarm(&closed).await.unwrap();
    assert_eq!(tx.alarm(critical).await.unwrap().unwrap(), closed);
    let listed = tx.list_alarms(&scope, Page::first(10)).await.unwrap();
    assert_eq!(
        listed.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![minor, critical]
    );
    let open = tx
        .list_alarms(
            &AlarmFilter {
                open: true,
                ..scope.clone()
            },
            Page::first(10),
        )
        .await
        .unwrap();
    assert_eq!(open.items.iter().map(|a| a.id).collect::<Vec<_>>(), vec![minor]);
    assert_eq!(tx.open_alarm(device, "perimeter_intrusion").await.unwrap(), None);
    let window = AlarmFilter {
        since: Some(1_000),
        until: Some(1_100),
        ..AlarmFilter::default()
    };
    let windowed = tx.list_alarms(&window, Page::first(10)).await.unwrap();
    assert_eq!(
        windowed.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![minor]
    );
    let by_kind = AlarmFilter {
        kind: Some("sos".into()),
        state: Some("new".into()),
        ..AlarmFilter::default()
    };
    assert_eq!(
        tx.list_alarms(&by_kind, Page::first(10)).await.unwrap().items[0].id,
        other
    );
    assert!(matches!(
        tx.update_alarm(&AlarmRow {
            id: -5,
            ..closed.clone()
        })
        .await,
        Err(StoreError::NotFound { entity: "alarm" })
    ));
    for (at, action) in [(950, "acknowledge"), (900, "raise"), (990, "resolve")] {
        tx.insert_alarm_action(&AlarmActionRow {
            id: 0,
            alarm_id: critical,
            at,
            actor: "user:guard1".into(),
            action: action.into(),
            note: (action == "resolve").then(|| "a cat on the fence".into()),
        })
        .await
        .unwrap();
    }
    let history = tx.alarm_actions(critical).await.unwrap();
    assert_eq!(
        history.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        vec!["raise", "acknowledge", "resolve"]
    );
    assert_eq!(history[2].note.as_deref(), Some("a cat on the fence"));
    tx.commit().await.unwrap();
}

async fn patrol_round_trip(store: &dyn Store, ids: &Ids) {
    let mut tx = store.write().await.unwrap();
    let device = tx
        .device_by_code("37032300001320000001")
        .await
        .unwrap()
        .unwrap()
        .id;
    let route = PatrolRouteRow {
        id: 0,
        community_id: ids.community_a,
        name: "夜间巡更".into(),
        checkpoints: format!("[[{device},0]]"),
        times: "1,2,3,4,5,6,7 22:00".into(),
        guard_user_id: None,
        window_minutes: 30,
        tolerance_minutes: 5,
        active: true,
        created_at: 1,
        created_by: "user:pm".into(),
    };
    let id = tx.insert_patrol_route(&route).await.unwrap();
    tx.commit().await.unwrap();
    // A failed statement spoils a PostgreSQL transaction: the conflict gets one of its own.
    let mut tx = store.write().await.unwrap();
    let err = tx.insert_patrol_route(&route).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { .. }),
        "a route name is unique in its community"
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    let other = tx
        .insert_patrol_route(&PatrolRouteRow {
            community_id: ids.community_b,
            ..route.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        tx.patrol_route(id).await.unwrap().unwrap(),
        PatrolRouteRow { id, ..route.clone() }
    );
    tx.set_patrol_route_active(other, false).await.unwrap();
    assert_eq!(tx.list_patrol_routes(None, false).await.unwrap().len(), 2);
    let active = tx.list_patrol_routes(None, true).await.unwrap();
    assert_eq!(active.iter().map(|r| r.id).collect::<Vec<_>>(), vec![id]);
    let only_b = tx
        .list_patrol_routes(Some(&vec![ids.community_b]), false)
        .await
        .unwrap();
    assert_eq!(only_b.len(), 1);
    assert!(!only_b[0].active);
    for (n, at) in [(1, 500), (2, 100), (3, 900)] {
        tx.insert_patrol_scan(&PatrolScanRow {
            id: 0,
            community_id: ids.community_a,
            checkpoint_id: Some(device),
            checkpoint_ref: "CP-1".into(),
            reader_id: device,
            guard_ref: "7".into(),
            guard_user_id: None,
            at,
            event_id: format!("scan-{n}"),
        })
        .await
        .unwrap();
    }
    let scans = tx.patrol_scans(ids.community_a, 100, 500).await.unwrap();
    assert_eq!(scans.iter().map(|s| s.at).collect::<Vec<_>>(), vec![100, 500]);
    assert!(
        tx.patrol_scans(ids.community_b, 0, 1_000)
            .await
            .unwrap()
            .is_empty()
    );
    let round = PatrolRoundRow {
        id: 0,
        route_id: id,
        community_id: ids.community_a,
        guard_user_id: None,
        start_at: 1_000,
        end_at: 2_800_000,
        status: "incomplete".into(),
        on_time: 0,
        late: 0,
        missed: 1,
        out_of_order: 0,
        detail: "[]".into(),
        evaluated_at: 3_000_000,
    };
    let first = tx.insert_patrol_round(&round).await.unwrap();
    assert!(first.is_some());
    assert_eq!(
        tx.insert_patrol_round(&round).await.unwrap(),
        None,
        "a round is judged once"
    );
    assert_eq!(tx.patrol_round_starts(id, 0).await.unwrap(), vec![1_000]);
    assert!(tx.patrol_round_starts(id, 1_001).await.unwrap().is_empty());
    let rounds = tx
        .list_patrol_rounds(Some(&vec![ids.community_a]), 0, 2_000)
        .await
        .unwrap();
    assert_eq!(
        rounds,
        vec![PatrolRoundRow {
            id: first.unwrap(),
            ..round
        }]
    );
    assert!(
        tx.list_patrol_rounds(None, 1_001, 2_000)
            .await
            .unwrap()
            .is_empty()
    );
    tx.commit().await.unwrap();
}

async fn warnings_round_trip(store: &dyn Store, ids: &Ids) {
    let mut tx = store.write().await.unwrap();
    let raised = WarningRow {
        id: 0,
        community_id: Some(ids.community_a),
        kind: "vehicle_overstay".into(),
        audience: "property".into(),
        subject: "plate:鲁C12345".into(),
        title: "鲁C12345 parked 8 days".into(),
        score: Some(8.0),
        evidence: "[{\"session\":1}]".into(),
        state: "open".into(),
        raised_at: 1_000,
        updated_at: 1_000,
        handled_by: None,
        handled_at: None,
        note: None,
        watch_hit_id: None,
    };
    let first = tx.insert_warning(&raised).await.unwrap();
    let second = tx
        .insert_warning(&WarningRow {
            raised_at: 2_000,
            ..raised.clone()
        })
        .await
        .unwrap();
    let police = tx
        .insert_warning(&WarningRow {
            kind: "frequent_stranger".into(),
            audience: "police".into(),
            subject: "stranger:1".into(),
            community_id: Some(ids.community_b),
            ..raised.clone()
        })
        .await
        .unwrap();
    let latest = tx
        .latest_warning("vehicle_overstay", "plate:鲁C12345")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, second);
    assert!(
        tx.latest_warning("vehicle_overstay", "plate:鲁C00000")
            .await
            .unwrap()
            .is_none()
    );
    let handled = WarningRow {
        state: "closed".into(),
        handled_by: Some("user:pm".into()),
        handled_at: Some(3_000),
        note: Some("moved".into()),
        updated_at: 3_000,
        ..tx.warning(first).await.unwrap().unwrap()
    };
    tx.update_warning(&handled).await.unwrap();
    assert_eq!(tx.warning(first).await.unwrap().unwrap(), handled);
    // Audiences filter: property staff never list police warnings.
    let property = WarningFilter {
        audiences: vec!["property".into()],
        ..WarningFilter::default()
    };
    let page = tx.list_warnings(&property, Page::first(10)).await.unwrap();
    assert_eq!(
        page.items.iter().map(|w| w.id).collect::<Vec<_>>(),
        vec![second, first],
        "open first"
    );
    let nobody = tx
        .list_warnings(&WarningFilter::default(), Page::first(10))
        .await
        .unwrap();
    assert_eq!(nobody.total, 0, "no audience, no warnings");
    let all = WarningFilter {
        audiences: vec!["property".into(), "police".into()],
        open: true,
        community_ids: Some(vec![ids.community_b]),
        ..WarningFilter::default()
    };
    let page = tx.list_warnings(&all, Page::first(10)).await.unwrap();
    assert_eq!(page.items.iter().map(|w| w.id).collect::<Vec<_>>(), vec![police]);
    // Rules: set, then replaced.
    assert!(tx.warning_rules(ids.community_a).await.unwrap().is_none());
    tx.set_warning_rules(ids.community_a, "{}", 1, "user:a")
        .await
        .unwrap();
    tx.set_warning_rules(ids.community_a, "{\"vehicle\":{\"days\":3}}", 2, "user:b")
        .await
        .unwrap();
    assert_eq!(
        tx.warning_rules(ids.community_a).await.unwrap().as_deref(),
        Some("{\"vehicle\":{\"days\":3}}")
    );
    assert!(matches!(
        tx.set_watch_hit_state(999_999, "confirmed").await.unwrap_err(),
        StoreError::NotFound { .. }
    ));
    // Facts for the rules.
    tx.insert_visitor_pass(&NewVisitorPass {
        community_id: ids.community_a,
        house_id: ids.house_a,
        name: "访客甲".into(),
        phone_enc: None,
        plate_number: None,
        valid_from: 100,
        valid_until: 200,
        token_index: "warning-contract-pass".into(),
        created_by: "user:r".into(),
        now_ms: 100,
    })
    .await
    .unwrap();
    let entrants = tx.house_entrants(ids.community_a, 150, 300).await.unwrap();
    assert!(
        entrants.contains(&(ids.house_a, "v访客甲".to_string())),
        "{entrants:?}"
    );
    assert!(
        tx.house_entrants(ids.community_a, 201, 300)
            .await
            .unwrap()
            .iter()
            .all(|(_, w)| !w.starts_with('v'))
    );
    let seen = tx.person_last_seen(ids.community_a).await.unwrap();
    assert!(
        seen.iter().any(|&(_, at)| at >= 13),
        "doors opened from 13 on: {seen:?}"
    );
    assert!(tx.stranger_sightings(0).await.unwrap().is_empty());
    tx.commit().await.unwrap();
}

async fn notifications_round_trip(store: &dyn Store, ids: &Ids) {
    let mut tx = store.write().await.unwrap();
    let channel = NotifyChannelRow {
        id: 0,
        name: "值班室".into(),
        channel: "webhook".into(),
        address_enc: vec![1, 2, 3],
        secret_enc: Some(vec![4, 5]),
        kinds: "[\"alarm\"]".into(),
        min_severity: Some("major".into()),
        role: "property_manager".into(),
        community_id: Some(ids.community_a),
        active: true,
        created_by: "user:pm".into(),
        created_at: 1_000,
    };
    let id = tx.insert_notify_channel(&channel).await.unwrap();
    let other = tx
        .insert_notify_channel(&NotifyChannelRow {
            channel: "sms".into(),
            secret_enc: None,
            min_severity: None,
            community_id: None,
            ..channel.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        tx.notify_channel(id).await.unwrap().unwrap(),
        NotifyChannelRow {
            id,
            ..channel.clone()
        }
    );
    tx.set_notify_channel_active(other, false).await.unwrap();
    let active: Vec<i64> = tx
        .list_notify_channels(true)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(active, vec![id]);
    assert_eq!(tx.list_notify_channels(false).await.unwrap().len(), 2);
    assert!(matches!(
        tx.set_notify_channel_active(9_999_999, true).await,
        Err(StoreError::NotFound { .. })
    ));
    let queued = NotificationRow {
        id: 0,
        channel_id: id,
        event: "alarm.raised".into(),
        idempotency_key: "alarm:1:raised".into(),
        payload: "{}".into(),
        state: "pending".into(),
        attempts: 0,
        next_attempt_at: 1_000,
        last_status: None,
        last_error: None,
        created_at: 1_000,
        delivered_at: None,
    };
    let first = tx.insert_notification(&queued).await.unwrap().unwrap();
    // The same event for the same channel is queued once; for another channel it is its own.
    assert_eq!(tx.insert_notification(&queued).await.unwrap(), None);
    let later = tx
        .insert_notification(&NotificationRow {
            idempotency_key: "alarm:2:raised".into(),
            next_attempt_at: 5_000,
            ..queued.clone()
        })
        .await
        .unwrap()
        .unwrap();
    tx.insert_notification(&NotificationRow {
        channel_id: other,
        ..queued.clone()
    })
    .await
    .unwrap()
    .unwrap();
    let due: Vec<i64> = tx
        .due_notifications(2_000, 10)
        .await
        .unwrap()
        .iter()
        .filter(|n| n.channel_id == id)
        .map(|n| n.id)
        .collect();
    assert_eq!(due, vec![first]);
    assert_eq!(tx.next_notification_due().await.unwrap(), Some(1_000));
    assert!(
        !tx.lease_notification(later, 2_000, 9_000).await.unwrap(),
        "not due yet"
    );
    assert!(tx.lease_notification(first, 2_000, 3_000).await.unwrap());
    assert!(
        !tx.lease_notification(first, 2_000, 3_000).await.unwrap(),
        "taken once"
    );
    let delivered = NotificationRow {
        id: first,
        state: "delivered".into(),
        attempts: 2,
        last_status: Some(200),
        last_error: Some("503 once".into()),
        delivered_at: Some(1_500),
        ..queued.clone()
    };
    tx.update_notification(&delivered).await.unwrap();
    assert_eq!(tx.notification(first).await.unwrap(), Some(delivered.clone()));
    assert_eq!(tx.notification(9_999_999).await.unwrap(), None);
    let log = tx.list_notifications(id, Page::ALL).await.unwrap();
    assert_eq!(log.total, 2);
    assert_eq!(log.items[0].id, later);
    assert_eq!(log.items[1], delivered);
    assert!(
        tx.due_notifications(2_000, 10)
            .await
            .unwrap()
            .iter()
            .all(|n| n.id != first)
    );
    tx.commit().await.unwrap();
}

async fn programme_round_trip(store: &dyn Store, ids: &Ids) {
    let mut tx = store.write().await.unwrap();
    let device = tx
        .device_by_code("37032300001320000001")
        .await
        .unwrap()
        .unwrap()
        .id;
    // Projects and their stage history.
    let project = BuildProjectRow {
        id: 0,
        community_id: ids.community_a,
        funding_mode: "property_fund".into(),
        planned_year: 2020,
        stage: "planned".into(),
        stage_at: 1_000,
        contractor: None,
        created_at: 1_000,
    };
    let p = tx.insert_build_project(&project).await.unwrap();
    let q = tx
        .insert_build_project(&BuildProjectRow {
            community_id: ids.community_b,
            ..project.clone()
        })
        .await
        .unwrap();
    tx.set_project_stage(p, "designed", 2_000, Some("承建甲"))
        .await
        .unwrap();
    for (stage, at) in [("planned", 1_000), ("designed", 2_000)] {
        tx.insert_project_stage(&ProjectStageRow {
            id: 0,
            project_id: p,
            stage: stage.into(),
            at,
            actor: "user:admin".into(),
            note: String::new(),
        })
        .await
        .unwrap();
    }
    let got = tx.build_project(p).await.unwrap().unwrap();
    assert_eq!(
        (got.stage.as_str(), got.stage_at, got.contractor.as_deref()),
        ("designed", 2_000, Some("承建甲"))
    );
    assert_eq!(
        tx.build_projects(Some(&[ids.community_b])).await.unwrap()[0].id,
        q
    );
    assert_eq!(tx.build_projects(None).await.unwrap().len(), 2);
    let stages = tx.project_stages(Some(&[p])).await.unwrap();
    assert_eq!(
        stages.iter().map(|s| s.stage.as_str()).collect::<Vec<_>>(),
        ["planned", "designed"]
    );
    assert!(tx.project_stages(Some(&[q])).await.unwrap().is_empty());
    // Settings are replaced per district and name.
    assert_eq!(tx.programme_setting("370303", "targets").await.unwrap(), None);
    tx.set_programme_setting("370303", "targets", "[1]", 5, "user:a")
        .await
        .unwrap();
    tx.set_programme_setting("370303", "targets", "[2]", 6, "user:b")
        .await
        .unwrap();
    tx.set_programme_setting("370323", "targets", "[3]", 6, "user:b")
        .await
        .unwrap();
    assert_eq!(
        tx.programme_setting("370303", "targets")
            .await
            .unwrap()
            .as_deref(),
        Some("[2]")
    );
    // Funding and the award, stored once.
    let line = FundingEntryRow {
        id: 0,
        project_id: p,
        source: "property_company".into(),
        kind: "actual".into(),
        amount_fen: 12_345_600,
        note: "第一笔".into(),
        at: 7,
        actor: "user:fin".into(),
    };
    tx.insert_funding_entry(&line).await.unwrap();
    tx.insert_funding_entry(&FundingEntryRow {
        project_id: q,
        amount_fen: -5,
        ..line.clone()
    })
    .await
    .unwrap();
    let lines = tx.funding_entries(Some(&[p])).await.unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].amount_fen, 12_345_600);
    assert_eq!(tx.funding_entries(None).await.unwrap().len(), 2);
    let award = AwardRow {
        project_id: p,
        amount_fen: 1_000,
        detail: "{}".into(),
        status: "computed".into(),
        computed_at: 8,
        approved_at: None,
        approved_by: None,
        paid_at: None,
        paid_by: None,
        voucher: None,
    };
    assert!(tx.insert_award(&award).await.unwrap());
    assert!(
        !tx.insert_award(&AwardRow {
            amount_fen: 9,
            ..award.clone()
        })
        .await
        .unwrap()
    );
    let paid = AwardRow {
        status: "paid".into(),
        paid_at: Some(9),
        paid_by: Some("user:fin".into()),
        voucher: Some("记-001".into()),
        ..award.clone()
    };
    tx.update_award(&paid).await.unwrap();
    assert_eq!(tx.awards(Some(&[p])).await.unwrap(), vec![paid]);
    // An acceptance with one sign-off per party.
    let acc = AcceptanceRow {
        id: 0,
        project_id: p,
        status: "open".into(),
        requested_at: 10,
        requested_by: "user:pm".into(),
        checklist: "[]".into(),
        items: "[]".into(),
        decided_at: None,
    };
    let a = tx.insert_acceptance(&acc).await.unwrap();
    let signoff = SignoffRow {
        acceptance_id: a,
        party: "public_security".into(),
        decision: "approve".into(),
        actor: "user:police".into(),
        at: 11,
        note: String::new(),
    };
    tx.insert_signoff(&signoff).await.unwrap();
    assert_eq!(tx.signoffs(a).await.unwrap(), vec![signoff.clone()]);
    let decided = AcceptanceRow {
        id: a,
        status: "accepted".into(),
        items: "[{\"code\":\"signage\"}]".into(),
        decided_at: Some(12),
        ..acc.clone()
    };
    tx.update_acceptance(&decided).await.unwrap();
    assert_eq!(tx.acceptance(a).await.unwrap(), Some(decided.clone()));
    assert_eq!(tx.acceptances(p).await.unwrap(), vec![decided]);
    // Contractors and tickets: one open ticket per device.
    let contractor = ContractorRow {
        name: "承建甲".into(),
        sla_hours: 24,
        contact: "0533-1".into(),
        updated_at: 1,
    };
    tx.upsert_contractor(&contractor).await.unwrap();
    tx.upsert_contractor(&ContractorRow {
        sla_hours: 48,
        ..contractor.clone()
    })
    .await
    .unwrap();
    assert_eq!(tx.contractors().await.unwrap()[0].sla_hours, 48);
    let ticket = TicketRow {
        id: 0,
        device_id: device,
        community_id: ids.community_a,
        contractor: "承建甲".into(),
        reason: "offline".into(),
        opened_at: 100,
        due_at: 200,
        resolved_at: None,
        resolved_by: None,
        note: String::new(),
    };
    let t = tx.insert_ticket(&ticket).await.unwrap().unwrap();
    assert_eq!(tx.insert_ticket(&ticket).await.unwrap(), None);
    assert_eq!(tx.open_ticket(device).await.unwrap().unwrap().id, t);
    tx.resolve_ticket(t, 150, "system", "back online").await.unwrap();
    assert!(matches!(
        tx.resolve_ticket(t, 160, "system", "again").await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(tx.open_ticket(device).await.unwrap(), None);
    let t2 = tx
        .insert_ticket(&TicketRow {
            opened_at: 300,
            due_at: 400,
            ..ticket.clone()
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tx.ticket(t).await.unwrap().unwrap().resolved_at, Some(150));
    let window = |since, until| (since, until);
    for ((since, until), expected) in [
        (window(0, 120), vec![t]),
        (window(160, 250), vec![]),
        (window(160, 1_000), vec![t2]),
        (window(0, 1_000), vec![t2, t]),
    ] {
        let got: Vec<i64> = tx
            .tickets(Some(&[ids.community_a]), since, until)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(got, expected, "tickets in [{since}, {until})");
    }
    assert!(
        tx.tickets(Some(&[ids.community_b]), 0, 1_000)
            .await
            .unwrap()
            .is_empty()
    );
    // Business data per device and CST day, far from every other test's times.
    let day0: i64 = 2_000_000_000_000 / 86_400_000 * 86_400_000 - 28_800_000; // a CST midnight
    for (i, at) in [day0 + 1, day0 + 2, day0 + 86_400_000 + 5].iter().enumerate() {
        tx.insert_access_record(&NewAccessRecord {
            community_id: ids.community_a,
            device_id: device,
            event_id: format!("prog-{i}"),
            person_id: None,
            credential_kind: "card".into(),
            outcome: "denied".into(),
            reason: "unknown_credential".into(),
            decided_locally: false,
            snapshot_key: None,
            at: *at,
        })
        .await
        .unwrap();
    }
    let days = tx.device_days(day0, day0 + 2 * 86_400_000).await.unwrap();
    let first = (day0 + 28_800_000) / 86_400_000;
    assert_eq!(
        days,
        vec![
            DeviceDayRow {
                device_id: device,
                day: first,
                records: 2
            },
            DeviceDayRow {
                device_id: device,
                day: first + 1,
                records: 1
            }
        ]
    );
    assert!(
        tx.device_days(day0 + 2 * 86_400_000, day0 + 3 * 86_400_000)
            .await
            .unwrap()
            .is_empty()
    );
    // A patrol scan is data of the reader and of the checkpoint it read (here one device as both).
    tx.insert_patrol_scan(&PatrolScanRow {
        id: 0,
        community_id: ids.community_a,
        checkpoint_id: Some(device),
        checkpoint_ref: "CP-P".into(),
        reader_id: device,
        guard_ref: "7".into(),
        guard_user_id: None,
        at: day0 + 2 * 86_400_000 + 10,
        event_id: "prog-scan".into(),
    })
    .await
    .unwrap();
    assert_eq!(
        tx.device_days(day0 + 2 * 86_400_000, day0 + 3 * 86_400_000)
            .await
            .unwrap(),
        vec![DeviceDayRow {
            device_id: device,
            day: first + 2,
            records: 2
        }]
    );
    // Acknowledged upward items count for their device.
    let up = tx
        .enqueue_cascade("police-prog", "door_record", "{}", day0, Some(device))
        .await
        .unwrap();
    tx.enqueue_cascade("police-prog", "person_info", "{}", day0, None)
        .await
        .unwrap();
    let targets = vec!["police-prog".to_string()];
    assert!(
        tx.acknowledged_devices(&targets, day0, day0 + 10_000)
            .await
            .unwrap()
            .is_empty()
    );
    tx.mark_cascade_delivered(&[up], day0 + 500).await.unwrap();
    assert_eq!(
        tx.acknowledged_devices(&targets, day0, day0 + 10_000)
            .await
            .unwrap(),
        vec![(device, day0 + 500)]
    );
    assert!(
        tx.acknowledged_devices(&targets, day0 + 501, day0 + 10_000)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        tx.acknowledged_devices(&[], day0, day0 + 10_000)
            .await
            .unwrap()
            .is_empty()
    );
    tx.commit().await.unwrap();
    // One project per community, one sign-off per party (each failure in its own transaction:
    // PostgreSQL aborts the rest of one that failed).
    let mut tx = store.write().await.unwrap();
    assert!(matches!(
        tx.insert_build_project(&project).await,
        Err(StoreError::Conflict { .. })
    ));
    drop(tx);
    let mut tx = store.write().await.unwrap();
    assert!(matches!(
        tx.insert_signoff(&signoff).await,
        Err(StoreError::Conflict { .. })
    ));
}

async fn fees_round_trip(store: &dyn Store, ids: &Ids) {
    let mut tx = store.write().await.unwrap();
    let house = tx.house(ids.house_a).await.unwrap().unwrap();
    // Items and dated prices.
    let item = FeeItemRow {
        id: 0,
        community_id: ids.community_a,
        name: "物业管理费".into(),
        kind: "property_management".into(),
        active: true,
        created_at: 1,
        created_by: "user:pm".into(),
    };
    let i = tx.insert_fee_item(&item).await.unwrap();
    let rent = tx
        .insert_fee_item(&FeeItemRow {
            name: "车位租金".into(),
            kind: "parking_space_rent".into(),
            ..item.clone()
        })
        .await
        .unwrap();
    tx.set_fee_item_active(rent, false).await.unwrap();
    let items = tx.fee_items(ids.community_a).await.unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0],
        FeeItemRow {
            id: i,
            ..item.clone()
        }
    );
    assert!(!items[1].active, "an item can be left out of bills");
    assert!(tx.fee_items(ids.community_b).await.unwrap().is_empty());
    for (day, body) in [
        ("2026-03-16", "{\"rate_fen\":200}"),
        ("2026-01-01", "{\"rate_fen\":150}"),
    ] {
        tx.insert_fee_price(&FeePriceRow {
            id: 0,
            item_id: i,
            effective_from: day.into(),
            body: body.into(),
            created_at: 2,
            created_by: "user:pm".into(),
        })
        .await
        .unwrap();
    }
    let prices = tx.fee_prices(&[i, rent]).await.unwrap();
    assert_eq!(
        prices
            .iter()
            .map(|p| p.effective_from.as_str())
            .collect::<Vec<_>>(),
        ["2026-01-01", "2026-03-16"],
        "prices by item and day"
    );
    // Settings, terms, subscriptions, discounts and readings.
    assert_eq!(tx.fee_settings(ids.community_a).await.unwrap(), None);
    tx.set_fee_settings(ids.community_a, "{}", 3, "user:pm")
        .await
        .unwrap();
    tx.set_fee_settings(ids.community_a, "{\"cycle\":\"quarter\"}", 4, "user:pm")
        .await
        .unwrap();
    assert_eq!(
        tx.fee_settings(ids.community_a).await.unwrap().as_deref(),
        Some("{\"cycle\":\"quarter\"}")
    );
    let terms = FeeTermsRow {
        house_id: ids.house_a,
        billable_from: Some("2026-11-21".into()),
        billable_until: None,
        updated_at: 5,
        updated_by: "user:pm".into(),
    };
    tx.set_fee_terms(&terms).await.unwrap();
    let moved_out = FeeTermsRow {
        billable_until: Some("2027-02-14".into()),
        ..terms.clone()
    };
    tx.set_fee_terms(&moved_out).await.unwrap();
    assert_eq!(tx.fee_terms(ids.community_a).await.unwrap(), vec![moved_out]);
    assert!(tx.fee_terms(ids.community_b).await.unwrap().is_empty());
    let sub = FeeSubscriptionRow {
        id: 0,
        item_id: rent,
        house_id: ids.house_a,
        label: "B-017".into(),
        start_on: "2026-11-01".into(),
        end_on: None,
        created_at: 6,
        created_by: "user:pm".into(),
    };
    let s = tx.insert_fee_subscription(&sub).await.unwrap();
    assert_eq!(
        tx.fee_subscriptions(ids.community_a).await.unwrap(),
        vec![FeeSubscriptionRow { id: s, ..sub }]
    );
    let discount = FeeDiscountRow {
        id: 0,
        house_id: ids.house_a,
        item_id: None,
        off_bp: 10_000,
        start_on: "2026-01-01".into(),
        end_on: Some("2026-12-31".into()),
        reason: "低保户减免".into(),
        created_at: 7,
        created_by: "user:pm".into(),
    };
    let d = tx.insert_fee_discount(&discount).await.unwrap();
    assert_eq!(
        tx.fee_discounts(ids.community_a, Some(ids.house_a))
            .await
            .unwrap(),
        vec![FeeDiscountRow { id: d, ..discount }]
    );
    assert!(tx.fee_discounts(ids.community_b, None).await.unwrap().is_empty());
    let reading = FeeReadingRow {
        id: 0,
        item_id: i,
        period: "2026-11".into(),
        target: "community".into(),
        units: 1_234,
        created_at: 8,
        created_by: "user:pm".into(),
    };
    tx.insert_fee_reading(&reading).await.unwrap();
    assert_eq!(
        tx.fee_readings(ids.community_a, "2026-11").await.unwrap()[0].units,
        1_234
    );
    assert!(
        tx.fee_readings(ids.community_a, "2026-12")
            .await
            .unwrap()
            .is_empty()
    );
    // One bill per house and period.
    let bill = FeeBillRow {
        id: 0,
        community_id: ids.community_a,
        building_id: house.building_id,
        house_id: ids.house_a,
        period: "2026-11".into(),
        period_start: "2026-11-01".into(),
        period_end: "2026-11-30".into(),
        due_on: "2026-12-01".into(),
        amount_fen: 10_000,
        adjusted_fen: 0,
        paid_fen: 0,
        lines: "[]".into(),
        created_at: 9,
        created_by: "system".into(),
    };
    let b = tx.insert_fee_bill(&bill).await.unwrap().unwrap();
    assert_eq!(
        tx.insert_fee_bill(&bill).await.unwrap(),
        None,
        "a second bill of a period"
    );
    let b2 = tx
        .insert_fee_bill(&FeeBillRow {
            period: "2026-12".into(),
            period_start: "2026-12-01".into(),
            period_end: "2026-12-31".into(),
            ..bill.clone()
        })
        .await
        .unwrap()
        .unwrap();
    tx.insert_fee_adjustment(&FeeAdjustmentRow {
        id: 0,
        bill_id: b,
        amount_fen: -500,
        reason: "维修期间减收".into(),
        actor: "user:pm".into(),
        at: 10,
    })
    .await
    .unwrap();
    assert_eq!(tx.fee_adjustments(b).await.unwrap()[0].amount_fen, -500);
    // Receipt numbers count per community and year from 1.
    assert_eq!(tx.next_receipt_seq(ids.community_a, 2026).await.unwrap(), 1);
    assert_eq!(tx.next_receipt_seq(ids.community_a, 2026).await.unwrap(), 2);
    assert_eq!(tx.next_receipt_seq(ids.community_b, 2026).await.unwrap(), 1);
    assert_eq!(tx.next_receipt_seq(ids.community_a, 2027).await.unwrap(), 1);
    // An online order, the payment that settles it, its allocation and a refund.
    let order = FeeOrderRow {
        id: 0,
        order_no: "FO-1".into(),
        community_id: ids.community_a,
        house_id: ids.house_a,
        provider: "sim".into(),
        amount_fen: 12_000,
        status: "pending".into(),
        created_at: 11,
        created_by: "user:res".into(),
        payment_id: None,
    };
    let o = tx.insert_fee_order(&order).await.unwrap();
    let pay = FeePaymentRow {
        id: 0,
        community_id: ids.community_a,
        house_id: ids.house_a,
        receipt_no: "370323001001001-2026-000002".into(),
        method: "online".into(),
        amount_fen: 12_000,
        refunded_fen: 0,
        cashier: "online:sim".into(),
        booked_on: "2026-11-23".into(),
        paid_at: 12,
        reference: None,
        provider: Some("sim".into()),
        transaction_id: Some("T-1".into()),
        order_id: Some(o),
        note: String::new(),
    };
    let p = tx.insert_fee_payment(&pay).await.unwrap();
    assert!(tx.settle_fee_order(o, "paid", Some(p)).await.unwrap());
    assert!(
        !tx.settle_fee_order(o, "failed", None).await.unwrap(),
        "settled once"
    );
    let settled = tx.fee_order_by_no("FO-1").await.unwrap().unwrap();
    assert_eq!((settled.status.as_str(), settled.payment_id), ("paid", Some(p)));
    assert_eq!(tx.fee_order(o).await.unwrap(), Some(settled));
    assert_eq!(
        tx.fee_payment_by_transaction("sim", "T-1")
            .await
            .unwrap()
            .map(|p| p.id),
        Some(p)
    );
    assert_eq!(tx.fee_payment_by_transaction("other", "T-1").await.unwrap(), None);
    for (bill_id, amount) in [(b, 9_500), (b2, 2_500), (b2, -1_000)] {
        tx.insert_fee_allocation(&FeeAllocationRow {
            id: 0,
            payment_id: p,
            bill_id,
            amount_fen: amount,
            at: 12,
        })
        .await
        .unwrap();
    }
    let paid = tx.fee_bill(b).await.unwrap().unwrap();
    assert_eq!(
        (paid.adjusted_fen, paid.paid_fen, paid.outstanding_fen()),
        (-500, 9_500, 0)
    );
    // The running sums are guarded: no bill paid beyond its amount or below nothing, none
    // adjusted below what was paid, no payment refunded beyond its amount.
    for (bill_id, amount) in [(b, 1), (b2, -1_501)] {
        let over = FeeAllocationRow {
            id: 0,
            payment_id: p,
            bill_id,
            amount_fen: amount,
            at: 12,
        };
        assert!(matches!(
            tx.insert_fee_allocation(&over).await,
            Err(StoreError::Conflict { .. })
        ));
    }
    let below = FeeAdjustmentRow {
        id: 0,
        bill_id: b,
        amount_fen: -1,
        reason: "x".into(),
        actor: "user:pm".into(),
        at: 12,
    };
    assert!(matches!(
        tx.insert_fee_adjustment(&below).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        tx.insert_fee_adjustment(&FeeAdjustmentRow {
            bill_id: 999_999,
            ..below.clone()
        })
        .await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        tx.fee_adjustments(b).await.unwrap().len(),
        1,
        "a refused change leaves no line"
    );
    assert_eq!(tx.fee_allocations(None, Some(&[b])).await.unwrap().len(), 1);
    assert_eq!(tx.fee_bill(b2).await.unwrap().unwrap().paid_fen, 1_500);
    assert_eq!(tx.fee_allocations(Some(&[p]), None).await.unwrap().len(), 3);
    assert_eq!(tx.fee_allocations(None, Some(&[b2])).await.unwrap().len(), 2);
    tx.insert_fee_refund(&FeeRefundRow {
        id: 0,
        payment_id: p,
        community_id: ids.community_a,
        amount_fen: 1_000,
        reason: "多缴退回".into(),
        cashier: "user:pm".into(),
        booked_on: "2026-11-24".into(),
        at: 13,
    })
    .await
    .unwrap();
    assert_eq!(tx.fee_payment(p).await.unwrap().unwrap().refunded_fen, 1_000);
    let too_much = FeeRefundRow {
        id: 0,
        payment_id: p,
        community_id: ids.community_a,
        amount_fen: 11_001,
        reason: "x".into(),
        cashier: "user:pm".into(),
        booked_on: "2026-11-24".into(),
        at: 13,
    };
    assert!(matches!(
        tx.insert_fee_refund(&too_much).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(tx.fee_refunds(Some(p), None, None, None).await.unwrap().len(), 1);
    assert_eq!(
        tx.fee_refunds(
            None,
            Some(ids.community_a),
            Some("user:pm"),
            Some(("2026-11-24", "2026-11-24"))
        )
        .await
        .unwrap()
        .len(),
        1
    );
    assert!(
        tx.fee_refunds(
            None,
            Some(ids.community_a),
            None,
            Some(("2026-11-23", "2026-11-23"))
        )
        .await
        .unwrap()
        .is_empty()
    );
    // Lists.
    let open = FeeBillFilter {
        community_id: Some(ids.community_a),
        open_only: true,
        ..FeeBillFilter::default()
    };
    let listed = tx.fee_bills(&open, Page::ALL).await.unwrap();
    assert_eq!(listed.items.iter().map(|b| b.id).collect::<Vec<_>>(), vec![b2]);
    let all = FeeBillFilter {
        community_ids: Some(vec![ids.community_a]),
        start_from: Some("2026-11-01".into()),
        start_until: Some("2026-11-30".into()),
        ..FeeBillFilter::default()
    };
    assert_eq!(tx.fee_bills(&all, Page::ALL).await.unwrap().total, 1);
    let none = FeeBillFilter {
        community_ids: Some(vec![]),
        ..FeeBillFilter::default()
    };
    assert_eq!(tx.fee_bills(&none, Page::ALL).await.unwrap().total, 0);
    let book = FeePaymentFilter {
        community_id: Some(ids.community_a),
        cashier: Some("online:sim".into()),
        booked_from: Some("2026-11-23".into()),
        booked_until: Some("2026-11-23".into()),
        ..FeePaymentFilter::default()
    };
    assert_eq!(tx.fee_payments(&book, Page::ALL).await.unwrap().items[0].id, p);
    let other_house = FeePaymentFilter {
        house_ids: Some(vec![ids.house_b]),
        ..FeePaymentFilter::default()
    };
    assert_eq!(tx.fee_payments(&other_house, Page::ALL).await.unwrap().total, 0);
    // Cash books: entries count while open; a closed day takes none and closes once.
    let (book_c, book_d) = ("user:cashier", "2026-11-23");
    assert!(tx.book_cash_entry(ids.community_a, book_c, book_d).await.unwrap());
    assert!(tx.book_cash_entry(ids.community_a, book_c, book_d).await.unwrap());
    assert_eq!(
        tx.cash_closing(ids.community_a, book_c, book_d).await.unwrap(),
        None
    );
    assert!(
        tx.close_cash_book(ids.community_a, book_c, book_d, 14, "user:cashier")
            .await
            .unwrap()
    );
    assert!(
        !tx.close_cash_book(ids.community_a, book_c, book_d, 15, "user:pm")
            .await
            .unwrap()
    );
    assert!(
        !tx.book_cash_entry(ids.community_a, book_c, book_d).await.unwrap(),
        "a closed day takes nothing"
    );
    tx.set_cash_book_totals(ids.community_a, book_c, book_d, "{\"net_fen\":1}")
        .await
        .unwrap();
    let closing = CashClosingRow {
        community_id: ids.community_a,
        cashier: book_c.into(),
        day: book_d.into(),
        closed_at: 14,
        closed_by: "user:cashier".into(),
        totals: "{\"net_fen\":1}".into(),
    };
    assert_eq!(
        tx.cash_closing(ids.community_a, book_c, book_d).await.unwrap(),
        Some(closing.clone())
    );
    assert_eq!(
        tx.cash_closing(ids.community_a, book_c, "2026-11-24")
            .await
            .unwrap(),
        None
    );
    // A day closed with nothing booked is closed all the same.
    assert!(
        tx.close_cash_book(ids.community_a, "user:pm", book_d, 16, "user:pm")
            .await
            .unwrap()
    );
    assert!(
        !tx.book_cash_entry(ids.community_a, "user:pm", book_d)
            .await
            .unwrap()
    );
    assert_eq!(tx.cash_closings(ids.community_a, book_d).await.unwrap().len(), 2);
    assert_eq!(
        tx.cash_closings(ids.community_a, book_d).await.unwrap()[0],
        closing
    );
    // Reminders: the latest per house.
    for at in [20, 30] {
        tx.insert_fee_reminder(&FeeReminderRow {
            id: 0,
            community_id: ids.community_a,
            house_id: ids.house_a,
            overdue_fen: 1_500,
            oldest_due_on: "2026-12-01".into(),
            at,
        })
        .await
        .unwrap();
    }
    assert_eq!(
        tx.last_fee_reminders(ids.community_a).await.unwrap(),
        vec![(ids.house_a, 30)]
    );
    // Parking income: the community's payments not refunded, by time.
    let device = tx
        .device_by_code("37032300001320000001")
        .await
        .unwrap()
        .unwrap()
        .id;
    let session = tx
        .insert_parking_session(ids.community_a, "鲁C·FEE01", device, 1_000)
        .await
        .unwrap();
    let kept = tx
        .insert_parking_payment(session, 500, "cash", "user:guard", 1_100)
        .await
        .unwrap();
    let back = tx
        .insert_parking_payment(session, 700, "cash", "user:guard", 1_200)
        .await
        .unwrap();
    tx.refund_parking_payment(back, 1_300).await.unwrap();
    let income = tx.parking_income(ids.community_a, 1_000, 2_000).await.unwrap();
    assert_eq!(income.iter().map(|p| p.id).collect::<Vec<_>>(), vec![kept]);
    assert!(
        tx.parking_income(ids.community_a, 1_101, 2_000)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        tx.parking_income(ids.community_b, 0, 2_000)
            .await
            .unwrap()
            .is_empty()
    );
    tx.commit().await.unwrap();
    // Conflicts, each in its own transaction.
    let mut tx = store.write().await.unwrap();
    assert!(matches!(
        tx.insert_fee_item(&item).await,
        Err(StoreError::Conflict { .. })
    ));
    drop(tx);
    let mut tx = store.write().await.unwrap();
    assert!(matches!(
        tx.insert_fee_payment(&pay).await,
        Err(StoreError::Conflict { .. })
    ));
    drop(tx);
    let mut tx = store.write().await.unwrap();
    let replay = FeePaymentRow {
        receipt_no: "370323001001001-2026-000099".into(),
        ..pay.clone()
    };
    assert!(
        matches!(
            tx.insert_fee_payment(&replay).await,
            Err(StoreError::Conflict { .. })
        ),
        "a provider's transaction is recorded once"
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    assert!(matches!(
        tx.insert_fee_reading(&reading).await,
        Err(StoreError::Conflict { .. })
    ));
    drop(tx);
    // A rolled-back payment gives its receipt number back.
    let mut tx = store.write().await.unwrap();
    assert_eq!(tx.next_receipt_seq(ids.community_a, 2026).await.unwrap(), 3);
    drop(tx);
    let mut tx = store.write().await.unwrap();
    assert_eq!(tx.next_receipt_seq(ids.community_a, 2026).await.unwrap(), 3);
    tx.commit().await.unwrap();
}
