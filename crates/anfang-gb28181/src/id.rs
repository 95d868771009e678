//! The 20-digit GB/T 28181 code (centre 8, industry 2, type 3, network 1, serial 6) and the
//! 10-digit SIP domain taken from its first digits. Catalogue items may carry 2–8 digit
//! administrative-region codes, which are not device ids (`CatalogItem::kind`).

use std::fmt;

/// A 20-digit device, channel or platform id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GbId(String);

/// Why a text is not a 20-digit id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a 20-digit GB/T 28181 id")]
pub struct BadId;

impl GbId {
    /// Checks `^\d{20}$`.
    pub fn parse(text: &str) -> Result<GbId, BadId> {
        let text = text.trim();
        if text.len() == 20 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(GbId(text.to_string()))
        } else {
            Err(BadId)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The customary SIP domain and digest realm: the first 10 digits.
    pub fn domain(&self) -> &str {
        &self.0[..10]
    }

    /// Digits 11–13: 111 DVR, 118 NVR, 131/132 camera, 200 platform, 215 business group, …
    pub fn type_code(&self) -> u16 {
        self.0[10..13].parse().unwrap_or(0)
    }

    /// Whether the type code names a camera or other video source one can INVITE.
    pub fn is_video_source(&self) -> bool {
        matches!(self.type_code(), 131 | 132)
    }
}

impl fmt::Display for GbId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a text is a 10-digit SIP domain.
pub fn is_domain(text: &str) -> bool {
    text.len() == 10 && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_into_their_parts() {
        let id = GbId::parse("34020000001320000001").unwrap();
        assert_eq!(id.domain(), "3402000000");
        assert_eq!(id.type_code(), 132);
        assert!(id.is_video_source());
        assert!(!GbId::parse("34020000002000000001").unwrap().is_video_source());
        assert_eq!(GbId::parse("3402000000132000000"), Err(BadId));
        assert_eq!(GbId::parse("3402000000132000000x"), Err(BadId));
        assert!(is_domain("3402000000") && !is_domain("340200000"));
    }
}
