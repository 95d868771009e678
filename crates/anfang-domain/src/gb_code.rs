//! GB/T 28181 20-digit device and platform codes.
//!
//! A code is `CCCCCCCC II TTT N SSSSSS`: an 8-digit centre code (province, city, district, unit),
//! a 2-digit industry code, a 3-digit type code, a 1-digit network identifier and a 6-digit serial.
//! Only the parts the platform relies on are checked: the province and the type code, which
//! decides whether a code names a camera, a platform server or a user.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::id_number::is_province_prefix;

const GB_CODE: &str = "invalid_gb_code";

fn gb_error(message: impl Into<String>) -> DomainError {
    DomainError::new(GB_CODE, message)
}

/// What a code's type code (digits 11–13) says the coded thing is.
///
/// Serialized as the numeric type code, so unlisted codes survive a round trip as `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "u16", into = "u16")]
pub enum GbDeviceType {
    /// 111, digital video recorder.
    Dvr,
    /// 112, video server.
    VideoServer,
    /// 113, encoder.
    Encoder,
    /// 114, decoder.
    Decoder,
    /// 117, alarm controller.
    AlarmController,
    /// 118, network video recorder.
    Nvr,
    /// 131, camera.
    Camera,
    /// 132, IP camera.
    Ipc,
    /// 133, display.
    Display,
    /// 134, alarm input device.
    AlarmInput,
    /// 135, alarm output device.
    AlarmOutput,
    /// 200, central signalling server (the SIP server of a platform).
    CentralServer,
    /// 201, web application server.
    WebServer,
    /// 202, media distribution server.
    MediaServer,
    /// 203, proxy server.
    ProxyServer,
    /// 204, security server.
    SecurityServer,
    /// 205, alarm server.
    AlarmServer,
    /// 206, database server.
    DatabaseServer,
    /// 207, GIS server.
    GisServer,
    /// 208, management server.
    ManagementServer,
    /// 209, access gateway.
    GatewayServer,
    /// 210, media storage server.
    MediaStorageServer,
    /// 211, signalling security routing gateway.
    SignallingGateway,
    /// 215, business group (a directory node).
    BusinessGroup,
    /// 216, virtual organisation (a directory node).
    VirtualOrganization,
    /// 300, central user.
    CentralUser,
    /// 400, terminal user.
    TerminalUser,
    /// Any other type code, kept verbatim.
    Other(u16),
}

/// The named variants and their type codes; one table keeps both conversions in agreement.
const NAMED_TYPES: [(GbDeviceType, u16); 27] = [
    (GbDeviceType::Dvr, 111),
    (GbDeviceType::VideoServer, 112),
    (GbDeviceType::Encoder, 113),
    (GbDeviceType::Decoder, 114),
    (GbDeviceType::AlarmController, 117),
    (GbDeviceType::Nvr, 118),
    (GbDeviceType::Camera, 131),
    (GbDeviceType::Ipc, 132),
    (GbDeviceType::Display, 133),
    (GbDeviceType::AlarmInput, 134),
    (GbDeviceType::AlarmOutput, 135),
    (GbDeviceType::CentralServer, 200),
    (GbDeviceType::WebServer, 201),
    (GbDeviceType::MediaServer, 202),
    (GbDeviceType::ProxyServer, 203),
    (GbDeviceType::SecurityServer, 204),
    (GbDeviceType::AlarmServer, 205),
    (GbDeviceType::DatabaseServer, 206),
    (GbDeviceType::GisServer, 207),
    (GbDeviceType::ManagementServer, 208),
    (GbDeviceType::GatewayServer, 209),
    (GbDeviceType::MediaStorageServer, 210),
    (GbDeviceType::SignallingGateway, 211),
    (GbDeviceType::BusinessGroup, 215),
    (GbDeviceType::VirtualOrganization, 216),
    (GbDeviceType::CentralUser, 300),
    (GbDeviceType::TerminalUser, 400),
];

impl GbDeviceType {
    /// The device type for a 3-digit type code; unlisted codes become `Other(code)`.
    pub fn from_code(code: u16) -> Self {
        NAMED_TYPES
            .iter()
            .find(|(_, c)| *c == code)
            .map_or(Self::Other(code), |(t, _)| *t)
    }

    /// The 3-digit type code.
    pub fn code(self) -> u16 {
        match self {
            Self::Other(code) => code,
            named => NAMED_TYPES
                .iter()
                .find(|(t, _)| *t == named)
                .map_or(0, |(_, c)| *c),
        }
    }

    /// Whether the code names a front-end device (111–199): something that produces video or alarms.
    pub fn is_front_end(self) -> bool {
        (111..=199).contains(&self.code())
    }
}

impl From<u16> for GbDeviceType {
    fn from(code: u16) -> Self {
        Self::from_code(code)
    }
}

impl From<GbDeviceType> for u16 {
    fn from(t: GbDeviceType) -> Self {
        t.code()
    }
}

/// Whether a type code lies in a range GB/T 28181 assigns: front-end devices (111–199), platform
/// devices (200–299), central users (300–399), terminal users (400–499) and external platform
/// servers (500–599).
fn is_assigned_type(code: u16) -> bool {
    (111..=599).contains(&code)
}

/// A validated GB/T 28181 20-digit code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GbCode(String);

impl GbCode {
    /// Trims and validates a 20-digit code (error code `invalid_gb_code`).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim();
        let len = s.chars().count();
        if len != 20 {
            return Err(gb_error(format!(
                "GB/T 28181 code must be 20 digits, got {len} characters"
            )));
        }
        if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(gb_error(format!(
                "character at position {} ({c:?}) must be a digit",
                i + 1
            )));
        }
        let province: u32 = s[..2].parse().unwrap_or(0);
        if !(is_province_prefix(province) || matches!(province, 81 | 82)) {
            return Err(gb_error(format!(
                "centre code starts with {province:02}, not a province-level code"
            )));
        }
        let type_code: u16 = s[10..13].parse().unwrap_or(0);
        if !is_assigned_type(type_code) {
            return Err(gb_error(format!(
                "type code {type_code:03} (positions 11-13) is not in 111-599 (devices, platforms, users)"
            )));
        }
        Ok(Self(s.to_owned()))
    }

    /// Builds a code from its parts (used by the demo seeder), validating each part and the result.
    pub fn compose(
        centre8: &str,
        industry2: &str,
        type3: u16,
        network1: u8,
        serial6: u32,
    ) -> Result<Self, DomainError> {
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(centre8, 8) {
            return Err(gb_error(format!("centre code '{centre8}' must be 8 digits")));
        }
        if !digits(industry2, 2) {
            return Err(gb_error(format!("industry code '{industry2}' must be 2 digits")));
        }
        if type3 > 999 || network1 > 9 || serial6 > 999_999 {
            return Err(gb_error(format!(
                "type {type3}, network {network1} or serial {serial6} does not fit in 3, 1 and 6 digits"
            )));
        }
        Self::parse(&format!("{centre8}{industry2}{type3:03}{network1}{serial6:06}"))
    }

    /// The 20-digit code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 8-digit centre code (digits 1–8).
    pub fn centre_code(&self) -> &str {
        &self.0[..8]
    }

    /// The 2-digit industry code (digits 9–10).
    pub fn industry_code(&self) -> &str {
        &self.0[8..10]
    }

    /// The 3-digit type code (digits 11–13).
    pub fn type_code(&self) -> u16 {
        self.0[10..13].parse().unwrap_or(0)
    }

    /// The network identifier (digit 14).
    pub fn network_id(&self) -> u8 {
        self.0.as_bytes()[13] - b'0'
    }

    /// The 6-digit serial (digits 15–20).
    pub fn serial(&self) -> &str {
        &self.0[14..]
    }

    /// The device type named by the type code.
    pub fn device_type(&self) -> GbDeviceType {
        GbDeviceType::from_code(self.type_code())
    }
}

/// Builds a code from its parts; the same as [`GbCode::compose`].
pub fn compose(
    centre8: &str,
    industry2: &str,
    type3: u16,
    network1: u8,
    serial6: u32,
) -> Result<GbCode, DomainError> {
    GbCode::compose(centre8, industry2, type3, network1, serial6)
}

impl fmt::Display for GbCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for GbCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for GbCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<GbCode> for String {
    fn from(c: GbCode) -> Self {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parts_and_device_type() {
        let c = GbCode::parse(" 37030200001320000001 ").unwrap();
        assert_eq!(c.as_str(), "37030200001320000001");
        assert_eq!(c.centre_code(), "37030200");
        assert_eq!(c.industry_code(), "00");
        assert_eq!(c.type_code(), 132);
        assert_eq!(c.network_id(), 0);
        assert_eq!(c.serial(), "000001");
        assert_eq!(c.device_type(), GbDeviceType::Ipc);
        assert!(c.device_type().is_front_end());
        assert_eq!(
            GbCode::parse("34020000002000000001").unwrap().device_type(),
            GbDeviceType::CentralServer
        );
        assert_eq!(
            GbCode::parse("81000000005010000001").unwrap().device_type(),
            GbDeviceType::Other(501)
        );
    }

    #[test]
    fn invalid_codes_are_explained() {
        let msg = |s: &str| {
            let e = GbCode::parse(s).unwrap_err();
            assert_eq!(e.code, GB_CODE);
            e.message
        };
        assert!(msg("3703020000132000000").contains("got 19"));
        assert!(msg("370302000013200000A1").contains("position 19"));
        assert!(msg("99030200001320000001").contains("starts with 99"));
        assert!(msg("37030200000990000001").contains("type code 099"));
        assert!(msg("37030200006000000001").contains("type code 600"));
        assert!(GbCode::compose("3703020", "00", 132, 0, 1).is_err());
        assert!(GbCode::compose("37030200", "0", 132, 0, 1).is_err());
        assert!(GbCode::compose("37030200", "00", 132, 10, 1).is_err());
        assert!(compose("37030200", "00", 132, 0, 1_000_000).is_err());
    }

    #[test]
    fn device_type_table_is_consistent() {
        for (t, code) in NAMED_TYPES {
            assert_eq!(GbDeviceType::from_code(code), t);
            assert_eq!(t.code(), code);
            assert!(is_assigned_type(code));
        }
        assert_eq!(GbDeviceType::Other(150).code(), 150);
    }

    proptest! {
        #[test]
        fn compose_then_parse_round_trips(
            province in prop::sample::select(vec![11u32, 15, 37, 44, 65, 71, 81, 82]),
            rest in 0u32..1_000_000, industry in 0u32..100, type3 in 111u16..600,
            network in 0u8..10, serial in 0u32..1_000_000,
        ) {
            let centre = format!("{province:02}{rest:06}");
            let code = compose(&centre, &format!("{industry:02}"), type3, network, serial).unwrap();
            prop_assert_eq!(code.centre_code(), centre.as_str());
            prop_assert_eq!(code.type_code(), type3);
            prop_assert_eq!(code.network_id(), network);
            prop_assert_eq!(code.device_type().code(), type3);
            prop_assert_eq!(GbCode::parse(code.as_str()).unwrap(), code);
        }

        #[test]
        fn non_digits_or_wrong_length_fail(
            s in "[0-9]{0,19}|[0-9]{21,25}", pos in 0usize..20, c in "[^0-9]",
        ) {
            prop_assert!(GbCode::parse(&s).is_err());
            let mut chars: Vec<String> = "37030200001320000001".chars().map(String::from).collect();
            chars[pos] = c.clone();
            prop_assert!(GbCode::parse(&chars.concat()).is_err());
        }
    }
}
