//! MQTT topic names and the per-device access rules the broker enforces.
//!
//! The rules compare whole topic strings instead of interpreting MQTT wildcards: a device has
//! exactly one topic to publish to and one to subscribe to, so any filter other than that exact
//! string (`+`, `#`, `$share/…`, another device's code) is refused without having to reason
//! about what it could match.

use crate::envelope::is_device_code;

/// Which way a topic carries messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Device → platform: every up message.
    Up,
    /// Platform → device: acks and commands.
    Down,
}

const PREFIX: &str = "anfang/v1/dev/";

/// The topic a device publishes all its up messages to: `anfang/v1/dev/{code}/up`.
pub fn up_topic(code: &str) -> String {
    format!("{PREFIX}{code}/up")
}

/// The topic the platform publishes acks and commands to: `anfang/v1/dev/{code}/down`.
pub fn down_topic(code: &str) -> String {
    format!("{PREFIX}{code}/down")
}

/// Splits a concrete topic into its device code and direction; `None` for anything else,
/// including wildcards and malformed codes.
pub fn parse_topic(topic: &str) -> Option<(&str, Direction)> {
    let (code, direction) = topic.strip_prefix(PREFIX)?.split_once('/')?;
    let direction = match direction {
        "up" => Direction::Up,
        "down" => Direction::Down,
        _ => return None,
    };
    is_device_code(code).then_some((code, direction))
}

/// Whether the device `code` may publish to `topic`: only its own up topic.
pub fn device_may_publish(code: &str, topic: &str) -> bool {
    parse_topic(topic) == Some((code, Direction::Up))
}

/// Whether the device `code` may subscribe to `filter`: only its own down topic, spelled out.
pub fn device_may_subscribe(code: &str, filter: &str) -> bool {
    parse_topic(filter) == Some((code, Direction::Down))
}
