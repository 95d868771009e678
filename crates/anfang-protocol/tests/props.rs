//! Property tests: the decoders never panic, whatever arrives, and every valid message survives
//! encode → decode unchanged.

use anfang_protocol::{
    Ack, AckError, AckStatus, Alarm, BoothCall, ChangeOp, Command, CommandMessage, Credential,
    CredentialKind, Deny, DeviceConfig, DoorState, DoorStatus, DownMessage, Heartbeat, Image, ImageFormat,
    LaneDirection, LibraryAck, LibraryChange, LibraryCredential, LibrarySync, LocalDecision, LocalOutcome,
    Open, OpenTarget, PatrolScan, PlateRead, UpBody, UpMessage, Visitor, decode_down, decode_up,
};
use chrono::{DateTime, FixedOffset};
use proptest::option::of;
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Non-blank text of 1 to `max` characters, Chinese included.
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[^\\s\\p{{C}}]\\PC{{0,{}}}", max - 1)).unwrap()
}

fn time() -> impl Strategy<Value = DateTime<FixedOffset>> {
    (0i64..4_102_444_800, 0u32..1_000_000_000, -720i32..=840).prop_map(|(secs, nanos, minutes)| {
        let offset = FixedOffset::east_opt(minutes * 60).unwrap();
        DateTime::from_timestamp(secs, nanos)
            .unwrap()
            .with_timezone(&offset)
    })
}

fn image() -> impl Strategy<Value = Image> {
    (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..64)).prop_map(|(png, tail)| {
        let (format, mut bytes) = if png {
            (ImageFormat::Png, b"\x89PNG\r\n\x1a\n".to_vec())
        } else {
            (ImageFormat::Jpeg, vec![0xFF, 0xD8, 0xFF])
        };
        bytes.extend(tail);
        Image::new(format, bytes).unwrap()
    })
}

fn credential_value(kind: CredentialKind) -> BoxedStrategy<Option<String>> {
    match kind {
        CredentialKind::Face => of(text(200)).boxed(),
        CredentialKind::Card => "[0-9A-Fa-f]{4,32}".prop_map(Some).boxed(),
        CredentialKind::Pin => "[0-9]{4,8}".prop_map(Some).boxed(),
        CredentialKind::Qr => text(1024).prop_map(Some).boxed(),
    }
}

fn credential_kind() -> impl Strategy<Value = CredentialKind> {
    prop_oneof![
        Just(CredentialKind::Face),
        Just(CredentialKind::Card),
        Just(CredentialKind::Qr),
        Just(CredentialKind::Pin)
    ]
}

fn credential() -> impl Strategy<Value = Credential> {
    credential_kind().prop_flat_map(|kind| {
        let person_ref = if kind == CredentialKind::Face {
            text(64).prop_map(Some).boxed()
        } else {
            of(text(64)).boxed()
        };
        let outcome = prop_oneof![Just(LocalOutcome::Open), Just(LocalOutcome::Deny)];
        let decision =
            of((outcome, text(256)).prop_map(|(outcome, reason)| LocalDecision { outcome, reason }));
        (person_ref, credential_value(kind), decision, of(image())).prop_map(
            move |(person_ref, value, decided_locally, snapshot)| Credential {
                kind,
                person_ref,
                value,
                decided_locally,
                snapshot,
            },
        )
    })
}

fn up_body() -> impl Strategy<Value = UpBody> {
    let direction = prop_oneof![Just(LaneDirection::In), Just(LaneDirection::Out)];
    let door = prop_oneof![
        Just(DoorStatus::Open),
        Just(DoorStatus::Closed),
        Just(DoorStatus::Forced),
        Just(DoorStatus::HeldOpen)
    ];
    let visitor = (text(64), of("[0-9A-Za-z]{1,32}"), of(image()), of(image())).prop_map(
        |(name, id_number, card_photo, snapshot)| Visitor {
            name,
            id_number,
            card_photo,
            snapshot,
        },
    );
    prop_oneof![
        (
            text(64),
            any::<u64>(),
            of(any::<u32>()),
            of(proptest::sample::subsequence(
                vec![
                    CredentialKind::Face,
                    CredentialKind::Card,
                    CredentialKind::Qr,
                    CredentialKind::Pin
                ],
                0..=4
            ))
        )
            .prop_map(|(firmware, library_version, buffered_events, accepts)| {
                UpBody::Heartbeat(Heartbeat {
                    firmware,
                    library_version,
                    buffered_events,
                    accepts,
                })
            }),
        credential().prop_map(UpBody::Credential),
        (text(16), of(text(16)), 0.0f32..=1.0, direction, of(image())).prop_map(
            |(plate, color, confidence, direction, snapshot)| {
                UpBody::Plate(PlateRead {
                    plate,
                    color,
                    confidence,
                    direction,
                    snapshot,
                })
            }
        ),
        (door, of(text(64)), of(0u32..=1000)).prop_map(|(state, door, passages)| UpBody::DoorState(
            DoorState {
                state,
                door,
                passages
            }
        )),
        (text(64), of(text(64)), 1u8..=4, of(image())).prop_map(|(kind, zone, level, snapshot)| {
            UpBody::Alarm(Alarm {
                kind,
                zone,
                level,
                snapshot,
            })
        }),
        (text(64), text(64)).prop_map(|(checkpoint, guard_ref)| UpBody::PatrolScan(PatrolScan {
            checkpoint,
            guard_ref
        })),
        (of(text(64)), visitor)
            .prop_map(|(house_ref, visitor)| UpBody::BoothCall(BoothCall { house_ref, visitor })),
        any::<u64>().prop_map(|version| UpBody::LibraryAck(LibraryAck { version })),
    ]
}

fn up_message() -> impl Strategy<Value = UpMessage> {
    ("[A-Za-z0-9_.:-]{1,64}", time(), "[0-9]{20}", up_body()).prop_map(|(id, at, device, body)| UpMessage {
        id,
        at,
        device,
        body,
    })
}

fn command() -> impl Strategy<Value = Command> {
    let target = prop_oneof![Just(OpenTarget::Door), Just(OpenTarget::Barrier)];
    let library_credential = credential_kind().prop_flat_map(|kind| {
        credential_value(kind).prop_map(move |value| LibraryCredential { kind, value })
    });
    let change = (
        prop_oneof![Just(ChangeOp::Upsert), Just(ChangeOp::Remove)],
        text(64),
        proptest::collection::vec(library_credential, 0..3),
        of(time()),
        of(time()),
        of(text(64)),
    )
        .prop_map(
            |(op, person_ref, credentials, valid_from, mut valid_until, schedule)| {
                if let (Some(from), Some(until)) = (valid_from, valid_until)
                    && until < from
                {
                    valid_until = Some(from);
                }
                LibraryChange {
                    op,
                    person_ref,
                    credentials,
                    valid_from,
                    valid_until,
                    schedule,
                }
            },
        );
    prop_oneof![
        (target, text(256), of(any::<u16>())).prop_map(|(target, reason, hold_secs)| Command::Open(Open {
            target,
            reason,
            hold_secs
        })),
        text(64).prop_map(|message| Command::Deny(Deny { message })),
        (
            0..u64::MAX - 1000,
            1u64..1000,
            proptest::collection::vec(change, 0..4)
        )
            .prop_map(|(from_version, step, changes)| {
                Command::LibrarySync(LibrarySync {
                    from_version,
                    to_version: from_version + step,
                    changes,
                })
            }),
        (1u16..=u16::MAX, of(1u16..=u16::MAX), of(any::<bool>())).prop_map(
            |(heartbeat_secs, resend_secs, offline_decisions)| {
                Command::Config(DeviceConfig {
                    heartbeat_secs,
                    resend_secs,
                    offline_decisions,
                })
            }
        ),
    ]
}

fn down_message() -> impl Strategy<Value = DownMessage> {
    let status = prop_oneof![
        Just(AckStatus::Stored),
        Just(AckStatus::Duplicate),
        Just(AckStatus::Rejected)
    ];
    let ack = (
        "[A-Za-z0-9_.:-]{1,64}",
        status,
        "[a-z_]{1,64}",
        text(256),
        of(command()),
    )
        .prop_map(|(event_id, status, code, message, command)| {
            let error = (status == AckStatus::Rejected).then_some(AckError { code, message });
            DownMessage::Ack(Ack {
                event_id,
                status,
                error,
                command,
            })
        });
    let command = ("[A-Za-z0-9_.:-]{1,64}", time(), command())
        .prop_map(|(id, at, command)| DownMessage::Command(CommandMessage { id, at, command }));
    prop_oneof![ack, command]
}

/// JSON pointers to every value inside `value`, the root included.
fn pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                pointers(
                    child,
                    format!("{prefix}/{}", key.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                pointers(child, format!("{prefix}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// Re-encodes `bytes` with one value, anywhere, replaced: near-valid payloads reach deeper into
/// the decoders than random JSON does.
fn corrupt(bytes: &[u8], pick: prop::sample::Index, replacement: Value) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(bytes).unwrap();
    let mut all = Vec::new();
    pointers(&value, String::new(), &mut all);
    let pointer = &all[pick.index(all.len())];
    *value.pointer_mut(pointer).unwrap() = replacement;
    serde_json::to_vec(&value).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_up(&bytes);
        let _ = decode_down(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_json(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        let _ = decode_up(&bytes);
        let _ = decode_down(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_near_valid_messages(
        up in up_message(),
        down in down_message(),
        pick in any::<prop::sample::Index>(),
        replacement in json_value(),
    ) {
        let _ = decode_up(&corrupt(&up.encode(), pick, replacement.clone()));
        let _ = decode_down(&corrupt(&down.encode(), pick, replacement));
    }

    #[test]
    fn up_messages_round_trip(message in up_message()) {
        let bytes = message.encode();
        prop_assert_eq!(decode_up(&bytes).unwrap(), message.clone());
        prop_assert!(message.validate().is_ok());
    }

    #[test]
    fn down_messages_round_trip(message in down_message()) {
        let bytes = message.encode();
        prop_assert_eq!(decode_down(&bytes).unwrap(), message);
    }
}
