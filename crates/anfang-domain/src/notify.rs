//! Notifications: the channels an event can go out on (a signed webhook, an SMS number, an
//! e-mail address), which events a channel may take, and the retry policy of the outbox —
//! when an attempt counts as delivered, when to try again and when to give up.
//!
//! The policy is the usual one for webhooks: a 2xx answer is delivery; no answer, a timeout
//! (408), too early (425), too many requests (429) or a server error (5xx) is tried again with
//! exponential backoff (the receiver's `Retry-After` honoured, within bounds); any other answer
//! is the receiver refusing the message, which retrying cannot change, so it is given up at
//! once, as is a message still undelivered after [`MAX_ATTEMPTS`].

use crate::DomainError;
use crate::model::string_enum;

string_enum!(
    /// How a channel is reached.
    ChannelKind, "invalid_channel", {
    /// An HTTPS endpoint that receives signed JSON.
    Webhook => ("webhook", "Webhook 回调"),
    /// A mobile number, through the configured SMS sender.
    Sms => ("sms", "短信"),
    /// An e-mail address, through the configured e-mail sender.
    Email => ("email", "电子邮件"),
});

string_enum!(
    /// What a channel can subscribe to (the live feed's kinds that leave the platform).
    EventKind, "invalid_event_kind", {
    /// Alarms raised and handled (acknowledged, dispatched, closed).
    Alarm => ("alarm", "报警"),
    /// Alarms left unacknowledged past their SLA and escalated.
    Escalation => ("escalation", "报警升级"),
    /// Early warnings raised.
    Warning => ("warning", "预警"),
    /// Booth calls (一键呼叫).
    Booth => ("booth", "一键呼叫"),
    /// Property-fee reminders for houses in arrears (物业费催缴), for the property company's
    /// own channels (which pass them on to the residents).
    Fee => ("fee", "物业费催缴"),
});

/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: i64 = 10;
/// The wait after the first failed attempt.
pub const FIRST_RETRY_MS: i64 = 30_000;
/// The longest wait between attempts.
pub const MAX_RETRY_MS: i64 = 3_600_000;

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// It arrived.
    Delivered,
    /// Try again after this many milliseconds.
    Retry(i64),
    /// Stop trying.
    GiveUp,
}

/// The wait before attempt `attempts + 1`, after `attempts` failures: 30 s, 1 min, 2 min, …,
/// at most an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    FIRST_RETRY_MS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_RETRY_MS)
}

/// Judges attempt number `attempts` (counting this one) that got HTTP `status` (`None`: no
/// answer — refused connection, timeout, reset), the receiver perhaps asking to wait
/// `retry_after_ms`.
pub fn after_attempt(attempts: i64, status: Option<u16>, retry_after_ms: Option<i64>) -> Next {
    let retryable = match status {
        Some(200..=299) => return Next::Delivered,
        None | Some(408 | 425 | 429 | 500..=599) => true,
        Some(_) => false,
    };
    if !retryable || attempts >= MAX_ATTEMPTS {
        return Next::GiveUp;
    }
    // A receiver's `Retry-After` is honoured, but never below a floor that doubles from a
    // second: a proxy answering "retry after 1 s" through a restart must not use up every
    // attempt within seconds.
    let floor = (1_000_i64 << u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(19)).min(MAX_RETRY_MS);
    let wait = retry_after_ms.map_or_else(
        || backoff_ms(attempts),
        |asked| asked.max(floor).clamp(1_000, MAX_RETRY_MS),
    );
    Next::Retry(wait)
}

/// Checks a channel's address for its kind: an `https://` URL (or `http://` to a loopback or
/// private address, for a receiver on the same site), an 11-digit mainland mobile number, or an
/// e-mail address. Returns it trimmed.
pub fn check_address(kind: ChannelKind, raw: &str) -> Result<String, DomainError> {
    let address = raw.trim();
    let bad = |why: &str| DomainError::new("invalid_address", why.to_string());
    match kind {
        ChannelKind::Webhook => {
            let (scheme, host) =
                url_authority(address).ok_or_else(|| bad("a webhook address is an http(s) URL"))?;
            let host_only = host
                .strip_prefix('[')
                .and_then(|h| h.split(']').next())
                .unwrap_or_else(|| host.split(':').next().unwrap_or_default());
            // A backslash is a path separator to WHATWG URL parsers (`http://a\@10.0.0.1/` goes
            // to `a`): refused, so the host checked here is the host connected to.
            if host_only.is_empty()
                || address.len() > 500
                || address.chars().any(|c| c.is_whitespace() || c == '\\')
            {
                return Err(bad("a webhook address is an http(s) URL with a host"));
            }
            match scheme.to_ascii_lowercase().as_str() {
                "https" => Ok(address.to_string()),
                "http" if is_local_host(host_only) => Ok(address.to_string()),
                "http" => Err(bad(
                    "webhooks leave the site over https; plain http only to a local or private address",
                )),
                _ => Err(bad("a webhook address is an http(s) URL")),
            }
        }
        ChannelKind::Sms => crate::PhoneNumber::parse(address)
            .map(|p| p.as_str().to_string())
            .map_err(|_| bad("an SMS channel needs a mainland mobile number")),
        ChannelKind::Email => {
            let (local, domain) = address
                .split_once('@')
                .ok_or_else(|| bad("an e-mail address has an @"))?;
            let ok = !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && address.len() <= 254
                && !address.chars().any(|c| c.is_whitespace() || c == '<' || c == '>');
            if ok {
                Ok(address.to_string())
            } else {
                Err(bad("not an e-mail address"))
            }
        }
    }
}

/// A URL's scheme and the host (with its port) a client connects to: user information and
/// everything from the path on dropped. `None` without `://`.
pub fn url_authority(address: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = address.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    Some((scheme, authority.rsplit('@').next().unwrap_or_default()))
}

/// Loopback, private (RFC 1918), link-local or `localhost` names.
fn is_local_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback() || (ip.segments()[0] & 0xfe00) == 0xfc00,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_to_an_hour() {
        assert_eq!(backoff_ms(1), 30_000);
        assert_eq!(backoff_ms(2), 60_000);
        assert_eq!(backoff_ms(3), 120_000);
        assert_eq!(backoff_ms(8), 3_600_000);
        assert_eq!(backoff_ms(50), 3_600_000);
        assert_eq!(backoff_ms(0), 30_000);
    }

    #[test]
    fn answers_are_judged_as_delivered_retried_or_refused() {
        assert_eq!(after_attempt(1, Some(200), None), Next::Delivered);
        assert_eq!(after_attempt(1, Some(204), None), Next::Delivered);
        assert_eq!(after_attempt(1, None, None), Next::Retry(30_000));
        assert_eq!(after_attempt(2, Some(503), None), Next::Retry(60_000));
        assert_eq!(after_attempt(1, Some(429), Some(5_000)), Next::Retry(5_000));
        assert_eq!(after_attempt(1, Some(429), Some(0)), Next::Retry(1_000));
        assert_eq!(
            after_attempt(1, Some(503), Some(i64::MAX)),
            Next::Retry(MAX_RETRY_MS)
        );
        // "Retry after a second" is honoured at first, then the floor doubles.
        assert_eq!(after_attempt(5, Some(503), Some(1_000)), Next::Retry(16_000));
        assert_eq!(after_attempt(1, Some(400), None), Next::GiveUp);
        assert_eq!(after_attempt(1, Some(401), None), Next::GiveUp);
        assert_eq!(after_attempt(1, Some(301), None), Next::GiveUp);
        assert_eq!(
            after_attempt(MAX_ATTEMPTS - 1, None, None),
            Next::Retry(backoff_ms(9))
        );
        assert_eq!(after_attempt(MAX_ATTEMPTS, None, None), Next::GiveUp);
    }

    #[test]
    fn addresses_are_checked_per_channel() {
        let ok = |k, a| check_address(k, a).unwrap();
        let bad = |k, a| check_address(k, a).unwrap_err().code;
        assert_eq!(
            ok(ChannelKind::Webhook, " https://ops.example.cn/hook "),
            "https://ops.example.cn/hook"
        );
        assert_eq!(
            ok(ChannelKind::Webhook, "http://127.0.0.1:8080/x"),
            "http://127.0.0.1:8080/x"
        );
        assert_eq!(ok(ChannelKind::Webhook, "http://10.2.3.4/x"), "http://10.2.3.4/x");
        assert_eq!(ok(ChannelKind::Webhook, "http://[::1]:9/x"), "http://[::1]:9/x");
        assert_eq!(
            bad(ChannelKind::Webhook, "http://example.cn/hook"),
            "invalid_address"
        );
        assert_eq!(bad(ChannelKind::Webhook, "ftp://example.cn/"), "invalid_address");
        assert_eq!(bad(ChannelKind::Webhook, "https:///nohost"), "invalid_address");
        assert_eq!(bad(ChannelKind::Webhook, "example.cn"), "invalid_address");
        assert_eq!(
            bad(ChannelKind::Webhook, "http://public.example\\@10.0.0.1/"),
            "invalid_address"
        );
        assert_eq!(ok(ChannelKind::Sms, "138 0013 8000"), "13800138000");
        assert_eq!(bad(ChannelKind::Sms, "12345"), "invalid_address");
        assert_eq!(ok(ChannelKind::Email, "duty@wy.example.cn"), "duty@wy.example.cn");
        assert_eq!(bad(ChannelKind::Email, "duty@localhost"), "invalid_address");
        assert_eq!(bad(ChannelKind::Email, "no-at.example.cn"), "invalid_address");
    }
}
