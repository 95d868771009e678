//! Mainland China phone numbers: 11-digit mobiles and landlines with an area code.
//!
//! Numbers are stored as digits only (no country code, no separators), so the same phone typed as
//! `+86 138-0013-8000` or `13800138000` compares equal and indexes once.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::id_number::to_halfwidth;

fn phone_error(message: impl Into<String>) -> DomainError {
    DomainError::new("invalid_phone", message)
}

/// A validated phone number, stored as digits only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses a mobile (`1[3-9]` + 9 digits, optionally after `+86` or `86`) or a landline (`0` +
    /// 2–3 digit area code + 7–8 digits); spaces and `-` are ignored (error code `invalid_phone`).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let cleaned: String = raw
            .chars()
            .map(to_halfwidth)
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if cleaned.is_empty() {
            return Err(phone_error("phone number is empty"));
        }
        let (international, digits) = match cleaned.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, cleaned.as_str()),
        };
        if let Some((i, c)) = digits.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            let position = i + 1 + usize::from(international);
            return Err(phone_error(format!(
                "character at position {position} ({c:?}) must be a digit"
            )));
        }
        // The country code is only accepted before a mobile, the only form people write it with.
        let national = match digits.strip_prefix("86") {
            Some(rest) if international || (rest.len() == 11 && rest.starts_with('1')) => rest,
            _ if international => return Err(phone_error("only the +86 country code is accepted")),
            _ => digits,
        };
        if international && !national.starts_with('1') {
            return Err(phone_error(
                "a +86 prefix must be followed by an 11-digit mobile number",
            ));
        }
        let b = national.as_bytes();
        match b.first() {
            Some(b'1') if b.len() != 11 => Err(phone_error(format!(
                "mobile number must be 11 digits, got {}",
                b.len()
            ))),
            Some(b'1') if !(b'3'..=b'9').contains(&b[1]) => Err(phone_error(format!(
                "mobile number cannot start with 1{}",
                char::from(b[1])
            ))),
            Some(b'0') if !(10..=12).contains(&b.len()) => Err(phone_error(format!(
                "landline must be 0 + area code + 7-8 digits (10-12 digits), got {}",
                b.len()
            ))),
            Some(b'0') if b[1] == b'0' => Err(phone_error("landline area code cannot start with 00")),
            Some(b'0' | b'1') => Ok(Self(national.to_owned())),
            _ => Err(phone_error(
                "phone number must be a mobile starting with 1 or a landline starting with 0",
            )),
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a mobile number (and can receive SMS).
    pub fn is_mobile(&self) -> bool {
        self.0.starts_with('1')
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PhoneNumber {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> Self {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> PhoneNumber {
        PhoneNumber::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn message(s: &str) -> String {
        let e = PhoneNumber::parse(s).expect_err(s);
        assert_eq!(e.code, "invalid_phone");
        e.message
    }

    #[test]
    fn accepted_forms() {
        for s in [
            "13800138000",
            "138 0013 8000",
            "+86 138-0013-8000",
            "8613800138000",
            "１３８００１３８０００",
        ] {
            let p = ok(s);
            assert_eq!(p.as_str(), "13800138000");
            assert!(p.is_mobile());
        }
        assert_eq!(ok("0531-88888888").as_str(), "053188888888");
        assert_eq!(ok("010-1234567").as_str(), "0101234567");
        assert!(!ok("0531 8888888").is_mobile());
    }

    #[test]
    fn rejected_forms_are_explained() {
        assert!(message("").contains("empty"));
        assert!(message("12800138000").contains("start with 12"));
        assert!(message("1380013800").contains("11 digits, got 10"));
        assert!(message("138001380001").contains("got 12"));
        assert!(message("+85212345678").contains("+86"));
        assert!(message("+86 0531 88888888").contains("mobile"));
        assert!(message("0012345678").contains("00"));
        assert!(message("0531-888").contains("got 7"));
        assert!(message("138OO138000").contains("position 4"));
        assert!(message("95588").contains("landline"));
    }

    proptest! {
        #[test]
        fn mobiles_parse_in_any_written_form(
            second in 3u8..=9, rest in 0u64..1_000_000_000,
            prefix in prop::sample::select(vec!["", "+86", "86", "+86 "]),
            sep in prop::sample::select(vec!["", " ", "-"]),
        ) {
            let digits = format!("1{second}{rest:09}");
            let written = format!("{prefix}{}{sep}{}{sep}{}", &digits[..3], &digits[3..7], &digits[7..]);
            let phone = PhoneNumber::parse(&written).unwrap();
            prop_assert_eq!(phone.as_str(), digits.as_str());
            prop_assert!(phone.is_mobile());
            prop_assert_eq!(PhoneNumber::parse(phone.as_str()).unwrap(), phone);
        }
    }
}
