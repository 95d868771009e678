//! The device topic scheme and the platform's default ACL rules.
//!
//! A device with code `C` publishes to `anfang/v1/dev/C/up` and subscribes to
//! `anfang/v1/dev/C/down`; nothing else. The rules take the MQTT username as the device code,
//! so a device can never speak for, or listen to, another one. The format of a code (20 digits)
//! is checked by the platform's `authenticate` callback, not here: this module only insists
//! that a code is a single, wildcard-free topic level.

/// Every device topic starts with this prefix.
pub const PREFIX: &str = "anfang/v1/dev/";

/// The filter that matches every device's up topic; the platform subscribes to it.
pub const UP_FILTER: &str = "anfang/v1/dev/+/up";

/// The topic a device publishes to.
pub fn up_topic(device_code: &str) -> String {
    format!("{PREFIX}{device_code}/up")
}

/// The topic a device subscribes to and the platform publishes to.
pub fn down_topic(device_code: &str) -> String {
    format!("{PREFIX}{device_code}/down")
}

/// Whether `code` can stand as one topic level: non-empty, without `/` and without wildcards.
pub fn is_valid_code(code: &str) -> bool {
    !code.is_empty() && !code.contains(['/', '+', '#']) && !code.contains('\0')
}

/// The device code of an up topic, or `None` when `topic` is not one.
pub fn parse_up_topic(topic: &str) -> Option<&str> {
    parse(topic, "/up")
}

/// The device code of a down topic, or `None` when `topic` is not one.
pub fn parse_down_topic(topic: &str) -> Option<&str> {
    parse(topic, "/down")
}

fn parse<'a>(topic: &'a str, suffix: &str) -> Option<&'a str> {
    let code = topic.strip_prefix(PREFIX)?.strip_suffix(suffix)?;
    is_valid_code(code).then_some(code)
}

/// The platform's publish rule: a device publishes only to its own up topic.
pub fn device_may_publish(username: &str, topic: &str) -> bool {
    parse_up_topic(topic) == Some(username)
}

/// The platform's subscribe rule: a device subscribes only to its own down topic.
///
/// A filter with a wildcard never passes, because `parse_down_topic` rejects a `+` or `#` level,
/// so `anfang/v1/dev/+/down` and `#` are refused even for a device whose code would match.
pub fn device_may_subscribe(username: &str, filter: &str) -> bool {
    parse_down_topic(filter) == Some(username)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "10000000000000000001";
    const B: &str = "10000000000000000002";

    #[test]
    fn topics_round_trip() {
        assert_eq!(up_topic(A), format!("anfang/v1/dev/{A}/up"));
        assert_eq!(parse_up_topic(&up_topic(A)), Some(A));
        assert_eq!(parse_down_topic(&down_topic(A)), Some(A));
        assert_eq!(parse_up_topic(&down_topic(A)), None);
        assert_eq!(parse_up_topic("anfang/v1/dev//up"), None);
        assert_eq!(parse_up_topic("anfang/v1/dev/a/b/up"), None);
        assert_eq!(parse_up_topic("other/v1/dev/a/up"), None);
    }

    #[test]
    fn a_device_publishes_only_to_its_own_up_topic() {
        assert!(device_may_publish(A, &up_topic(A)));
        assert!(!device_may_publish(A, &up_topic(B)));
        assert!(!device_may_publish(A, &down_topic(A)));
        assert!(!device_may_publish("", "anfang/v1/dev//up"));
    }

    #[test]
    fn a_device_subscribes_only_to_its_own_down_topic() {
        assert!(device_may_subscribe(A, &down_topic(A)));
        assert!(!device_may_subscribe(A, &down_topic(B)));
        assert!(!device_may_subscribe(A, &up_topic(A)));
        assert!(!device_may_subscribe(A, "anfang/v1/dev/+/down"));
        assert!(!device_may_subscribe(A, "anfang/v1/dev/#"));
        assert!(!device_may_subscribe(A, "#"));
        assert!(!device_may_subscribe("+", "anfang/v1/dev/+/down"));
    }
}
