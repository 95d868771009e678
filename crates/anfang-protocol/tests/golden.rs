//! Golden payloads: every message type in `test_data/` decodes, and re-encodes to the same JSON,
//! so the examples vendors copy from the reference stay true. Also the decoder's tolerance.

use std::path::PathBuf;

use anfang_protocol::{
    Ack, AckStatus, Command, CommandMessage, CredentialKind, DownMessage, ImageFormat, LocalOutcome,
    ProtocolError, UpBody, decode_down, decode_up, peek_event_id,
};
use serde_json::Value;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data")
}

fn golden(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter(|path| path.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .map(|path| {
            (
                path.file_name().unwrap().to_str().unwrap().to_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn every_up_golden_decodes_and_re_encodes_identically() {
    let files = golden("up_");
    let mut types: Vec<&str> = Vec::new();
    for (name, bytes) in &files {
        let message = decode_up(bytes).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(
            json(&message.encode()),
            json(bytes),
            "{name} re-encodes differently"
        );
        assert_eq!(decode_up(&message.encode()).unwrap(), message, "{name}");
        message.validate().unwrap();
        types.push(message.body.type_name());
    }
    for kind in UpBody::TYPES {
        assert!(types.contains(&kind), "no golden payload for up type {kind}");
    }
}

#[test]
fn every_down_golden_decodes_and_re_encodes_identically() {
    let mut actions = Vec::new();
    let mut statuses = Vec::new();
    for (name, bytes) in golden("down_") {
        let message = decode_down(&bytes).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(
            json(&message.encode()),
            json(&bytes),
            "{name} re-encodes differently"
        );
        let command = match &message {
            DownMessage::Ack(ack) => {
                assert_eq!(&Ack::decode(&bytes).unwrap(), ack);
                ack.validate().unwrap();
                statuses.push(ack.status);
                ack.command.clone()
            }
            DownMessage::Command(command) => {
                assert_eq!(&CommandMessage::decode(&bytes).unwrap(), command);
                command.validate().unwrap();
                Some(command.command.clone())
            }
        };
        if let Some(command) = command {
            let action = serde_json::to_value(&command).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned();
            actions.push(action);
        }
    }
    for action in Command::ACTIONS {
        assert!(
            actions.iter().any(|seen| seen == action),
            "no golden payload for action {action}"
        );
    }
    for status in [AckStatus::Stored, AckStatus::Duplicate, AckStatus::Rejected] {
        assert!(
            statuses.contains(&status),
            "no golden ack with status {}",
            status.as_str()
        );
    }
}

#[test]
fn golden_values_are_read_into_the_right_fields() {
    let read = |name: &str| decode_up(&std::fs::read(data_dir().join(name)).unwrap()).unwrap();

    let face = read("up_credential_face.json");
    assert_eq!(face.device, "37032300001320000017");
    assert_eq!(face.at.to_rfc3339(), "2025-06-18T07:42:15.318+08:00");
    let UpBody::Credential(credential) = face.body else {
        panic!("not a credential")
    };
    assert_eq!(credential.kind, CredentialKind::Face);
    assert_eq!(credential.person_ref.as_deref(), Some("10482"));
    let snapshot = credential.snapshot.unwrap();
    assert_eq!(snapshot.format(), ImageFormat::Jpeg);
    assert_eq!(&snapshot.bytes()[..3], &[0xFF, 0xD8, 0xFF]);
    assert_eq!(&snapshot.bytes()[snapshot.bytes().len() - 2..], &[0xFF, 0xD9]);

    let UpBody::Credential(card) = read("up_credential_card_offline.json").body else {
        panic!()
    };
    assert_eq!(card.decided_locally.unwrap().outcome, LocalOutcome::Open);

    let UpBody::Plate(plate) = read("up_plate.json").body else {
        panic!("not a plate")
    };
    assert_eq!(plate.plate, "鲁F12345");
    assert_eq!(plate.confidence, 0.93);

    let UpBody::BoothCall(call) = read("up_booth_call.json").body else {
        panic!("not a booth call")
    };
    assert_eq!(call.visitor.name, "王秀英");
    assert_eq!(call.visitor.snapshot.unwrap().bytes().len(), 69);
}

/// The credential golden payload, as a JSON value to modify.
fn credential_value() -> Value {
    json(&std::fs::read(data_dir().join("up_credential_face.json")).unwrap())
}

#[test]
fn unknown_fields_are_ignored_and_never_re_emitted() {
    let mut value = credential_value();
    value["vendor"] = "hikvision".into();
    value["body"]["temperature_c"] = 36.5.into();
    value["body"]["snapshot"]["width"] = 1.into();
    let message = decode_up(&serde_json::to_vec(&value).unwrap()).unwrap();
    assert_eq!(json(&message.encode()), credential_value());
}

#[test]
fn null_reads_as_an_absent_optional_field() {
    let mut value = credential_value();
    value["body"]["value"] = Value::Null;
    value["body"]["decided_locally"] = Value::Null;
    let message = decode_up(&serde_json::to_vec(&value).unwrap()).unwrap();
    assert_eq!(json(&message.encode()), credential_value());
}

#[test]
fn base64_may_be_unpadded_or_line_wrapped() {
    let canonical = decode_up(&serde_json::to_vec(&credential_value()).unwrap()).unwrap();
    let data = credential_value()["body"]["snapshot"]["data"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrapped: Vec<String> = data
        .as_bytes()
        .chunks(76)
        .map(|line| String::from_utf8_lossy(line).into())
        .collect();
    for variant in [data.trim_end_matches('=').to_owned(), wrapped.join("\r\n")] {
        let mut value = credential_value();
        value["body"]["snapshot"]["data"] = variant.into();
        assert_eq!(
            decode_up(&serde_json::to_vec(&value).unwrap()).unwrap(),
            canonical
        );
    }
}

#[test]
fn the_event_id_is_salvaged_from_an_invalid_payload() {
    let mut value = credential_value();
    value["v"] = 7.into();
    value["body"] = "garbage".into();
    let bytes = serde_json::to_vec(&value).unwrap();
    let error = decode_up(&bytes).unwrap_err();
    let id = peek_event_id(&bytes).unwrap();
    assert_eq!(id, "01JXZK5Q8M3T7V2W9Y4B6C1D0E");

    let ack = Ack::rejected(id, &error);
    let decoded = Ack::decode(&ack.encode()).unwrap();
    assert_eq!(decoded.status, AckStatus::Rejected);
    assert_eq!(decoded.error.unwrap().code, "unsupported_version");

    assert_eq!(peek_event_id(b"{\"id\": \"bad id\"}"), None);
    assert_eq!(peek_event_id(b"not json"), None);
}

#[test]
fn a_rejected_ack_carries_long_errors_shortened_but_valid() {
    let error = ProtocolError::MalformedJson("x".repeat(5000));
    let ack = Ack::rejected("evt-1", &error);
    ack.validate().unwrap();
    assert_eq!(ack.error.unwrap().code, "malformed_json");
}

#[test]
fn acks_and_commands_refuse_each_others_payloads() {
    let ack = std::fs::read(data_dir().join("down_ack_stored.json")).unwrap();
    let command = std::fs::read(data_dir().join("down_command_open.json")).unwrap();
    assert_eq!(CommandMessage::decode(&ack).unwrap_err().code(), "unknown_type");
    assert_eq!(Ack::decode(&command).unwrap_err().code(), "unknown_type");
    // An up message on a down topic is refused too, and the reverse.
    assert_eq!(
        decode_down(&golden("up_heartbeat")[0].1).unwrap_err().code(),
        "unknown_type"
    );
    assert_eq!(decode_up(&command).unwrap_err().code(), "unknown_type");
}

#[test]
fn every_example_in_the_vendor_reference_decodes_and_re_encodes_identically() {
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/ref/device-protocol.md"),
    )
    .unwrap();
    let mut checked = 0;
    for block in doc.split("```json\n").skip(1) {
        let text = block.split("```").next().unwrap();
        let value: Value = serde_json::from_str(text).unwrap_or_else(|error| panic!("{error}: {text}"));
        let bytes = if value.get("format").is_some() {
            // The image example: check it as a snapshot inside the face credential.
            let mut message = credential_value();
            message["body"]["snapshot"] = value;
            serde_json::to_vec(&message).unwrap()
        } else {
            text.as_bytes().to_vec()
        };
        let encoded = match decode_up(&bytes) {
            Ok(message) => message.encode(),
            Err(_) => decode_down(&bytes)
                .unwrap_or_else(|error| panic!("{error}: {text}"))
                .encode(),
        };
        assert_eq!(json(&encoded), json(&bytes), "{text}");
        checked += 1;
    }
    assert_eq!(checked, golden("up_").len() + golden("down_").len() + 1);
}
