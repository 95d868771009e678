//! HTTP push signatures and the MQTT topic rules a broker enforces per device.

use anfang_protocol::{
    DEFAULT_MAX_SKEW_MS, Direction, device_may_publish, device_may_subscribe, down_topic, parse_topic, sign,
    up_topic, verify,
};
use proptest::prelude::*;

const CODE: &str = "37032300001320000017";
const OTHER: &str = "37032300001320000018";
const SECRET: &[u8] = b"k9V2-device-secret-7f3a";
const NOW: i64 = 1_750_203_735_318;

#[test]
fn signature_matches_a_known_vector() {
    // Computed independently: printf '1750203735318\n{"v":1}' | openssl dgst -sha256 -hmac 'k9V2-device-secret-7f3a'
    let signature = sign(SECRET, NOW, br#"{"v":1}"#);
    assert_eq!(
        signature,
        "c43e97e4b9a47aeda4a5510e95b7fd8c484461449a42b8c6f297d69005ce50b1"
    );
    assert_eq!(signature.len(), 64);
    assert!(
        signature
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
    );
}

#[test]
fn skew_is_enforced_on_both_sides_inclusive() {
    let body = b"{}";
    let at = |timestamp: i64, now: i64| {
        verify(
            SECRET,
            timestamp,
            body,
            &sign(SECRET, timestamp, body),
            now,
            300_000,
        )
    };
    assert_eq!(at(NOW, NOW), Ok(()));
    assert_eq!(at(NOW - 300_000, NOW), Ok(()));
    assert_eq!(at(NOW + 300_000, NOW), Ok(()));
    assert_eq!(at(NOW - 300_001, NOW).unwrap_err().code(), "stale_timestamp");
    assert_eq!(at(NOW + 300_001, NOW).unwrap_err().code(), "stale_timestamp");
    // Extreme values must not overflow.
    assert_eq!(at(i64::MIN, i64::MAX).unwrap_err().code(), "stale_timestamp");
}

#[test]
fn malformed_signatures_are_bad_signatures() {
    let good = sign(SECRET, NOW, b"{}");
    for signature in ["", "zz", &good[..62], &format!("{good}00"), "not hex at all"] {
        let error = verify(SECRET, NOW, b"{}", signature, NOW, DEFAULT_MAX_SKEW_MS).unwrap_err();
        assert_eq!(error.code(), "bad_signature", "{signature:?}");
    }
    // Uppercase hex is the same signature.
    assert_eq!(
        verify(SECRET, NOW, b"{}", &good.to_uppercase(), NOW, DEFAULT_MAX_SKEW_MS),
        Ok(())
    );
    // Another device's secret does not verify.
    assert!(verify(b"other-secret", NOW, b"{}", &good, NOW, DEFAULT_MAX_SKEW_MS).is_err());
}

#[test]
fn a_forged_request_learns_bad_signature_even_when_stale() {
    let error = verify(SECRET, 0, b"{}", &"0".repeat(64), NOW, DEFAULT_MAX_SKEW_MS).unwrap_err();
    assert_eq!(error.code(), "bad_signature");
}

proptest! {
    #[test]
    fn sign_verify_round_trip_and_one_byte_changes_fail(
        secret in proptest::collection::vec(any::<u8>(), 0..100),
        body in proptest::collection::vec(any::<u8>(), 1..512),
        timestamp in any::<i64>(),
        index in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let signature = sign(&secret, timestamp, &body);
        prop_assert_eq!(verify(&secret, timestamp, &body, &signature, timestamp, 0), Ok(()));

        let mut changed = body.clone();
        changed[index.index(body.len())] ^= flip;
        let error = verify(&secret, timestamp, &changed, &signature, timestamp, 0).unwrap_err();
        prop_assert_eq!(error.code(), "bad_signature");

        let other = timestamp.wrapping_add(1);
        let error = verify(&secret, other, &body, &signature, other, 0).unwrap_err();
        prop_assert_eq!(error.code(), "bad_signature");
    }

    #[test]
    fn topic_helpers_never_panic(topic in ".*", code in ".*") {
        let _ = parse_topic(&topic);
        let _ = device_may_publish(&code, &topic);
        let _ = device_may_subscribe(&code, &topic);
    }
}

#[test]
fn topics_round_trip() {
    assert_eq!(up_topic(CODE), "anfang/v1/dev/37032300001320000017/up");
    assert_eq!(down_topic(CODE), "anfang/v1/dev/37032300001320000017/down");
    assert_eq!(parse_topic(&up_topic(CODE)), Some((CODE, Direction::Up)));
    assert_eq!(parse_topic(&down_topic(CODE)), Some((CODE, Direction::Down)));
    for topic in [
        "anfang/v1/dev/+/up",
        "anfang/v1/dev/37032300001320000017/up/extra",
        "anfang/v1/dev/3703230000132000001/up",
        "anfang/v2/dev/37032300001320000017/up",
        "/anfang/v1/dev/37032300001320000017/up",
        "anfang/v1/dev/37032300001320000017/sideways",
        "",
    ] {
        assert_eq!(parse_topic(topic), None, "{topic}");
    }
}

#[test]
fn a_device_publishes_only_to_its_own_up_topic() {
    assert!(device_may_publish(CODE, &up_topic(CODE)));
    assert!(!device_may_publish(CODE, &down_topic(CODE)));
    assert!(!device_may_publish(CODE, &up_topic(OTHER)));
    assert!(!device_may_publish(CODE, "anfang/v1/dev/+/up"));
    assert!(!device_may_publish(CODE, "#"));
    // A malformed code (e.g. a username of "+") gets nothing.
    assert!(!device_may_publish("+", "anfang/v1/dev/+/up"));
    assert!(!device_may_publish("", "anfang/v1/dev//up"));
}

#[test]
fn a_device_subscribes_only_to_its_own_down_topic_without_wildcards() {
    assert!(device_may_subscribe(CODE, &down_topic(CODE)));
    for filter in [
        "#",
        "+/#",
        "anfang/#",
        "anfang/v1/dev/#",
        "anfang/v1/dev/+/down",
        "anfang/v1/+/37032300001320000017/down",
        "anfang/v1/dev/37032300001320000017/#",
        "anfang/v1/dev/37032300001320000017/+",
        "anfang/v1/dev/37032300001320000017/up",
        "anfang/v1/dev/37032300001320000018/down",
        "$share/g/anfang/v1/dev/37032300001320000017/down",
        "$SYS/#",
    ] {
        assert!(!device_may_subscribe(CODE, filter), "{filter}");
    }
}
