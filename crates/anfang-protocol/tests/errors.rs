//! Every error code, triggered by a dedicated bad payload in `test_data/bad/` (or built here when
//! the payload would be megabytes), with the field path the message must name.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anfang_protocol::{
    Image, ImageFormat, MAX_IMAGE_BYTES, MAX_PAYLOAD_BYTES, ProtocolError, decode_down, decode_up, sign,
    verify,
};
use base64::Engine;

/// (file in `test_data/bad/`, expected code, text the message must contain). Files named
/// `down.*` are decoded as platform messages, the rest as up messages.
const BAD: &[(&str, &str, &str)] = &[
    ("malformed_json.truncated", "malformed_json", "EOF while parsing"),
    (
        "malformed_json.top_level_array",
        "malformed_json",
        "expected a map",
    ),
    ("unsupported_version.v2", "unsupported_version", "`v` is 2,"),
    (
        "unsupported_version.missing",
        "unsupported_version",
        "`v` is missing",
    ),
    (
        "invalid_event_id.bad_chars",
        "invalid_event_id",
        "\"evt 200001/2\"",
    ),
    ("invalid_event_id.too_long", "invalid_event_id", "1–64 characters"),
    ("invalid_time.no_offset", "invalid_time", "`at`"),
    (
        "invalid_time.not_rfc3339",
        "invalid_time",
        "\"2025/06/18 07:42:15\"",
    ),
    (
        "invalid_device_code.19_digits",
        "invalid_device_code",
        "\"3703230000132000001\"",
    ),
    (
        "invalid_device_code.letters",
        "invalid_device_code",
        "20 ASCII digits",
    ),
    ("unknown_type.temperature", "unknown_type", "\"temperature\""),
    ("invalid_body.missing_body", "invalid_body", "`body`: is required"),
    (
        "invalid_body.credential_kind_iris",
        "invalid_body",
        "`body.kind`: expected one of face, card, qr, pin",
    ),
    (
        "invalid_body.face_without_person_ref",
        "invalid_body",
        "`body.person_ref`",
    ),
    (
        "invalid_body.card_value_not_hex",
        "invalid_body",
        "`body.value`: a card number",
    ),
    ("invalid_body.pin_too_long", "invalid_body", "`body.value`: a PIN"),
    (
        "invalid_body.heartbeat_version_as_string",
        "invalid_body",
        "`body.library_version`: expected an integer",
    ),
    (
        "invalid_body.plate_confidence_percent",
        "invalid_body",
        "`body.confidence`: must be 0 to 1, got 93",
    ),
    (
        "invalid_body.plate_too_long",
        "invalid_body",
        "`body.plate`: is 21 characters",
    ),
    (
        "invalid_body.alarm_level_5",
        "invalid_body",
        "`body.level`: must be at most 4",
    ),
    (
        "invalid_body.booth_visitor_without_name",
        "invalid_body",
        "`body.visitor.name`: is required",
    ),
    (
        "invalid_image.bad_base64",
        "invalid_image",
        "`body.snapshot.data`: not base64",
    ),
    (
        "invalid_image.png_declared_jpeg",
        "invalid_image",
        "not a jpeg file",
    ),
    (
        "down.invalid_body.ack_rejected_without_error",
        "invalid_body",
        "`error`: is required",
    ),
    (
        "down.invalid_body.library_sync_versions_backwards",
        "invalid_body",
        "`command.to_version`",
    ),
    (
        "down.invalid_body.deny_message_too_long",
        "invalid_body",
        "`command.message`: is 65 characters",
    ),
    (
        "down.invalid_time.valid_until",
        "invalid_time",
        "`command.changes[0].valid_until`",
    ),
    ("down.unknown_type.reboot", "unknown_type", "\"reboot\""),
];

fn bad_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/bad")
}

#[test]
fn every_bad_payload_fails_with_its_code_and_names_the_field() {
    for (name, code, needle) in BAD {
        let bytes = std::fs::read(bad_dir().join(format!("{name}.json"))).unwrap();
        let error = if name.starts_with("down.") {
            decode_down(&bytes).map(drop).unwrap_err()
        } else {
            decode_up(&bytes).map(drop).unwrap_err()
        };
        assert_eq!(error.code(), *code, "{name}: {error}");
        assert!(
            error.to_string().contains(needle),
            "{name}: {error:?} lacks {needle:?}"
        );
        let prefix = name.trim_start_matches("down.").split('.').next().unwrap();
        assert_eq!(prefix, *code, "{name} is named after another code");
    }
}

#[test]
fn every_bad_payload_file_is_in_the_table() {
    let listed: BTreeSet<String> = BAD.iter().map(|(name, ..)| format!("{name}.json")).collect();
    for entry in std::fs::read_dir(bad_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(listed.contains(&name), "{name} is not checked by this test");
    }
}

/// A valid credential envelope around `body`.
fn credential_with(body: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "v": 1, "id": "evt-big", "type": "credential", "at": "2025-06-18T07:42:15+08:00",
        "device": "37032300001320000017", "body": body,
    }))
    .unwrap()
}

#[test]
fn payload_too_large_is_refused_before_parsing() {
    // Not even JSON: the size check must come first.
    let error = decode_up(&vec![b'x'; MAX_PAYLOAD_BYTES + 1]).unwrap_err();
    assert_eq!(error.code(), "payload_too_large");
    assert_eq!(
        decode_down(&vec![b' '; MAX_PAYLOAD_BYTES + 1])
            .unwrap_err()
            .code(),
        "payload_too_large"
    );
    // Exactly at the limit is accepted (unknown fields and all), one byte more is not.
    let with_pad = |pad: usize| {
        credential_with(serde_json::json!({"kind": "card", "value": "8A3F29C1", "pad": "x".repeat(pad)}))
    };
    let at_limit = with_pad(MAX_PAYLOAD_BYTES - with_pad(0).len());
    assert_eq!(at_limit.len(), MAX_PAYLOAD_BYTES);
    assert!(decode_up(&at_limit).is_ok());
    let over = with_pad(MAX_PAYLOAD_BYTES + 1 - with_pad(0).len());
    assert_eq!(decode_up(&over).unwrap_err().code(), "payload_too_large");
}

#[test]
fn image_too_large_names_the_image() {
    let mut jpeg = vec![0u8; MAX_IMAGE_BYTES + 1];
    jpeg[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    let data = base64::engine::general_purpose::STANDARD.encode(&jpeg);
    let payload = credential_with(serde_json::json!({
        "kind": "face", "person_ref": "10482", "snapshot": {"format": "jpeg", "data": data},
    }));
    assert!(payload.len() <= MAX_PAYLOAD_BYTES);
    let error = decode_up(&payload).unwrap_err();
    assert_eq!(error.code(), "image_too_large");
    assert!(error.to_string().contains("body.snapshot.data"), "{error}");

    assert_eq!(
        Image::new(ImageFormat::Jpeg, jpeg.clone()).unwrap_err().code(),
        "image_too_large"
    );
    jpeg.truncate(MAX_IMAGE_BYTES);
    assert_eq!(
        Image::new(ImageFormat::Jpeg, jpeg).unwrap().bytes().len(),
        MAX_IMAGE_BYTES
    );
}

#[test]
fn every_code_is_triggered_somewhere_and_codes_are_distinct() {
    let mut seen: BTreeSet<&str> = BAD.iter().map(|(_, code, _)| *code).collect();
    seen.extend(["payload_too_large", "image_too_large"]);
    let signature = sign(b"secret", 1_000, b"{}");
    seen.insert(
        verify(b"secret", 1_000, b"{} ", &signature, 1_000, 0)
            .unwrap_err()
            .code(),
    );
    seen.insert(
        verify(b"secret", 1_000, b"{}", &signature, 999_999, 10)
            .unwrap_err()
            .code(),
    );
    let all: BTreeSet<&str> = ProtocolError::CODES.into_iter().collect();
    assert_eq!(all.len(), ProtocolError::CODES.len());
    assert_eq!(seen, all);
}

#[test]
fn a_huge_quoted_value_does_not_make_a_huge_message() {
    let long = "9".repeat(100_000);
    let payload = credential_with(serde_json::json!({"kind": long}));
    let error = decode_up(&payload).unwrap_err();
    assert!(error.to_string().len() < 300, "{}", error.to_string().len());
    let error = decode_up(format!("\"{long}\"").as_bytes()).unwrap_err();
    assert_eq!(error.code(), "malformed_json");
    assert!(error.to_string().len() < 300);
}
