//! Identity documents: the document type, the holder's gender and the validated document number.
//!
//! Resident ID numbers (GB 11643-1999), Hong Kong / Macau / Taiwan residence permits and the 2023
//! foreign permanent residence card share one 18-character layout with an ISO 7064 MOD 11-2 check
//! character, so they are checked by the same code; passports and other documents only get a
//! character-set and length check because their formats vary by issuing country.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

const ID_NUMBER_CODE: &str = "invalid_id_number";

fn id_error(message: impl Into<String>) -> DomainError {
    DomainError::new(ID_NUMBER_CODE, message)
}

/// Whether a two-digit number is a province-level code that exists or existed on the mainland
/// or in Taiwan (71); 81/82 (Hong Kong/Macau) are not included because resident IDs never use them.
pub(crate) fn is_province_prefix(code: u32) -> bool {
    matches!(code, 11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71)
}

/// Maps a full-width character (U+FF01–U+FF5E, U+3000) to its ASCII counterpart, because forms
/// filled in with a Chinese input method often produce `１２３Ｘ` instead of `123X`.
pub(crate) fn to_halfwidth(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// The check character of a GB 11643 number (ISO 7064 MOD 11-2) for its first 17 digits, or
/// `None` when `first17` is not exactly 17 ASCII digits.
pub fn gb11643_check_char(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK.get((sum % 11) as usize).copied()
}

/// The kind of identity document a number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdDocType {
    /// 居民身份证, mainland resident ID (GB 11643).
    ResidentId,
    /// 港澳台居民居住证, residence permit for Hong Kong, Macau and Taiwan residents.
    HmtResidencePermit,
    /// 外国人永久居留身份证, foreign permanent residence ID card.
    ForeignPermanentResidence,
    /// Any country's passport.
    Passport,
    /// Any other document (military ID, travel permit, ...).
    Other,
}

impl IdDocType {
    /// Every document type, in declaration order.
    pub const ALL: [IdDocType; 5] = [
        Self::ResidentId,
        Self::HmtResidencePermit,
        Self::ForeignPermanentResidence,
        Self::Passport,
        Self::Other,
    ];

    /// The stable snake_case name, identical to the serde representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResidentId => "resident_id",
            Self::HmtResidencePermit => "hmt_residence_permit",
            Self::ForeignPermanentResidence => "foreign_permanent_residence",
            Self::Passport => "passport",
            Self::Other => "other",
        }
    }

    /// Parses the snake_case name (error code `invalid_id_type`).
    /// The Chinese name used in spreadsheets and on screen (accepted by [`IdDocType::parse`]).
    pub fn label_zh(self) -> &'static str {
        match self {
            IdDocType::ResidentId => "居民身份证",
            IdDocType::HmtResidencePermit => "港澳台居民居住证",
            IdDocType::ForeignPermanentResidence => "外国人永久居留身份证",
            IdDocType::Passport => "护照",
            IdDocType::Other => "其他",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s || t.label_zh() == s)
            .ok_or_else(|| {
                DomainError::new(
                    "invalid_id_type",
                    format!(
                        "unknown ID document type '{s}'; expected resident_id, hmt_residence_permit, \
                     foreign_permanent_residence, passport or other"
                    ),
                )
            })
    }
}

impl FromStr for IdDocType {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for IdDocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person's gender as recorded on (or derived from) an identity document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// 男.
    Male,
    /// 女.
    Female,
    /// Not known or not recorded.
    Unknown,
}

impl Gender {
    /// The stable snake_case name, identical to the serde representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
            Self::Unknown => "unknown",
        }
    }

    /// Parses the snake_case name or the Chinese 男/女/未知 (error code `invalid_gender`), since
    /// spreadsheets imported from property offices use the Chinese words.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "male" | "男" => Ok(Self::Male),
            "female" | "女" => Ok(Self::Female),
            "unknown" | "未知" => Ok(Self::Unknown),
            other => Err(DomainError::new(
                "invalid_gender",
                format!("unknown gender '{other}'; expected male, female or unknown"),
            )),
        }
    }
}

impl FromStr for Gender {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A validated, normalized identity document number together with its document type.
///
/// Normalization maps full-width characters to ASCII, trims, and uppercases ASCII letters
/// (so a trailing `x` becomes `X`). Deserialization re-validates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawIdNumber")]
pub struct IdNumber {
    doc_type: IdDocType,
    value: String,
}

/// The unvalidated serde shape of [`IdNumber`]; it exists so deserialization goes through `parse`.
#[derive(Deserialize)]
struct RawIdNumber {
    doc_type: IdDocType,
    value: String,
}

impl TryFrom<RawIdNumber> for IdNumber {
    type Error = DomainError;
    fn try_from(raw: RawIdNumber) -> Result<Self, Self::Error> {
        Self::parse(raw.doc_type, &raw.value)
    }
}

impl IdNumber {
    /// Normalizes and validates `raw` as a number of `doc_type` (error code `invalid_id_number`).
    pub fn parse(doc_type: IdDocType, raw: &str) -> Result<Self, DomainError> {
        let mapped: String = raw
            .chars()
            .map(|c| to_halfwidth(c).to_ascii_uppercase())
            .collect();
        let value = mapped.trim().to_owned();
        if value.is_empty() {
            return Err(id_error("ID number is empty"));
        }
        let chars: Vec<char> = value.chars().collect();
        match doc_type {
            IdDocType::ResidentId => check_resident(&chars)?,
            IdDocType::HmtResidencePermit => check_hmt(&chars)?,
            IdDocType::ForeignPermanentResidence => check_foreign(&chars)?,
            IdDocType::Passport => check_passport(&chars)?,
            IdDocType::Other => check_other(&chars)?,
        }
        Ok(Self { doc_type, value })
    }

    /// The normalized number.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The document type.
    pub fn doc_type(&self) -> IdDocType {
        self.doc_type
    }

    /// Whether the number uses the 18-character GB 11643 layout (birth date at 7–14, sex at 17).
    fn has_gb11643_layout(&self) -> bool {
        match self.doc_type {
            IdDocType::ResidentId | IdDocType::HmtResidencePermit => true,
            IdDocType::ForeignPermanentResidence => self.value.len() == 18,
            IdDocType::Passport | IdDocType::Other => false,
        }
    }

    /// The birth date encoded in the number, when the layout has an unambiguous one.
    ///
    /// The older 15-character foreign card only has a two-digit year, so it yields `None`.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        if !self.has_gb11643_layout() {
            return None;
        }
        parse_yyyymmdd(self.value.get(6..14)?)
    }

    /// Rejects a birth date after `today`; kept apart from `parse` because the domain has no clock.
    pub fn birth_date_not_after(&self, today: NaiveDate) -> Result<(), DomainError> {
        match self.birth_date() {
            Some(born) if born > today => {
                Err(id_error(format!("birth date {born} is after today ({today})")))
            }
            _ => Ok(()),
        }
    }

    /// The holder's gender from the 17th digit (odd = male), when the layout encodes it.
    pub fn gender(&self) -> Option<Gender> {
        if !self.has_gb11643_layout() {
            return None;
        }
        let digit = self.value.as_bytes().get(16)?.checked_sub(b'0')?;
        Some(if digit % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        })
    }

    /// The six-digit administrative region code (first six digits) of resident IDs and HMT
    /// permits; `None` for other documents, whose leading digits are not a region code.
    pub fn region_code(&self) -> Option<&str> {
        match self.doc_type {
            IdDocType::ResidentId | IdDocType::HmtResidencePermit => self.value.get(..6),
            _ => None,
        }
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

fn parse_yyyymmdd(s: &str) -> Option<NaiveDate> {
    let year = s.get(0..4)?.parse().ok()?;
    let month = s.get(4..6)?.parse().ok()?;
    let day = s.get(6..8)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Rejects the first character from `from` on that fails `ok`, naming its 1-based position.
fn require(chars: &[char], from: usize, ok: impl Fn(&char) -> bool, want: &str) -> Result<(), DomainError> {
    match chars.iter().enumerate().skip(from).find(|(_, c)| !ok(c)) {
        Some((i, c)) => Err(id_error(format!(
            "character at position {} ({c:?}) must be {want}",
            i + 1
        ))),
        None => Ok(()),
    }
}

/// Checks the shared 18-character shape: 17 digits then a digit or `X`.
fn check_shape_18(chars: &[char], what: &str) -> Result<(), DomainError> {
    if chars.len() != 18 {
        // A 15-digit number is most likely a first-generation ID, which is no longer valid.
        let first_generation = chars.len() == 15 && chars.iter().all(char::is_ascii_digit);
        let hint = if first_generation {
            " (15-digit first-generation numbers are not accepted)"
        } else {
            ""
        };
        return Err(id_error(format!(
            "{what} must be 18 characters, got {}{hint}",
            chars.len()
        )));
    }
    require(&chars[..17], 0, char::is_ascii_digit, "a digit")?;
    require(chars, 17, |c| c.is_ascii_digit() || *c == 'X', "a digit or X")
}

/// Checks the birth date at positions 7–14 and then the check character; the shape is known good.
fn check_date_and_digit(chars: &[char]) -> Result<(), DomainError> {
    let date: String = chars[6..14].iter().collect();
    let Some(born) = parse_yyyymmdd(&date) else {
        return Err(id_error(format!(
            "birth date {date} (positions 7-14) is not a real date"
        )));
    };
    if born.year() < 1900 {
        return Err(id_error(format!("birth year {} is before 1900", born.year())));
    }
    let first17: String = chars[..17].iter().collect();
    match gb11643_check_char(&first17) {
        Some(expected) if expected == chars[17] => Ok(()),
        Some(expected) => Err(id_error(format!(
            "check digit expected {expected}, got {}",
            chars[17]
        ))),
        None => Err(id_error("the first 17 characters must be digits")),
    }
}

/// Checks that `chars` (digits) form a province-level code; `at` names their positions.
fn check_province(chars: &[char], at: &str) -> Result<(), DomainError> {
    let code = chars
        .iter()
        .filter_map(|c| c.to_digit(10))
        .fold(0, |acc, d| acc * 10 + d);
    if is_province_prefix(code) {
        return Ok(());
    }
    Err(id_error(format!(
        "region prefix {code:02} ({at}) is not a province-level code"
    )))
}

fn check_resident(chars: &[char]) -> Result<(), DomainError> {
    check_shape_18(chars, "resident ID number")?;
    check_province(&chars[..2], "positions 1-2")?;
    check_date_and_digit(chars)
}

fn check_hmt(chars: &[char]) -> Result<(), DomainError> {
    check_shape_18(chars, "residence permit number")?;
    let prefix: String = chars[..6].iter().collect();
    if !matches!(prefix.as_str(), "810000" | "820000" | "830000") {
        let want = "810000 (Hong Kong), 820000 (Macau) or 830000 (Taiwan)";
        return Err(id_error(format!(
            "region prefix {prefix} is unknown; expected {want}"
        )));
    }
    check_date_and_digit(chars)
}

fn check_foreign(chars: &[char]) -> Result<(), DomainError> {
    match chars.len() {
        18 => {
            check_shape_18(chars, "foreign permanent residence ID")?;
            require(&chars[..1], 0, |c| *c == '9', "9")?;
            check_province(&chars[1..3], "positions 2-3")?;
            check_date_and_digit(chars)
        }
        15 => {
            // The pre-2023 card: 3-letter nationality, 4-digit authority, YYMMDD, 2-digit sequence.
            require(&chars[..3], 0, char::is_ascii_uppercase, "a letter")?;
            require(chars, 3, char::is_ascii_digit, "a digit")?;
            let yymmdd: String = chars[7..13].iter().collect();
            // The century is not encoded, so the date only has to exist in one of the two.
            if ["19", "20"]
                .iter()
                .any(|c| parse_yyyymmdd(&format!("{c}{yymmdd}")).is_some())
            {
                return Ok(());
            }
            Err(id_error(format!(
                "birth date {yymmdd} (positions 8-13) is not a real date"
            )))
        }
        n => Err(id_error(format!(
            "foreign permanent residence ID must be 18 characters (2023 card) or 15 (older card), got {n}"
        ))),
    }
}

fn check_passport(chars: &[char]) -> Result<(), DomainError> {
    if !(5..=17).contains(&chars.len()) {
        return Err(id_error(format!(
            "passport number must be 5-17 characters, got {}",
            chars.len()
        )));
    }
    require(
        chars,
        0,
        |c| c.is_ascii_uppercase() || c.is_ascii_digit(),
        "a letter A-Z or a digit",
    )
}

fn check_other(chars: &[char]) -> Result<(), DomainError> {
    if chars.len() > 32 {
        return Err(id_error(format!(
            "document number must be 1-32 characters, got {}",
            chars.len()
        )));
    }
    require(
        chars,
        0,
        |c| !(c.is_whitespace() || c.is_control()),
        "printable and not a space",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn resident(s: &str) -> Result<IdNumber, DomainError> {
        IdNumber::parse(IdDocType::ResidentId, s)
    }

    fn message(r: Result<IdNumber, DomainError>) -> String {
        let e = r.expect_err("should be rejected");
        assert_eq!(e.code, ID_NUMBER_CODE);
        e.message
    }

    #[test]
    fn standard_example_parses_with_derived_fields() {
        let id = resident(" 11010519491231002x ").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(id.gender(), Some(Gender::Female));
        assert_eq!(id.region_code(), Some("110105"));
        assert_eq!(id.doc_type(), IdDocType::ResidentId);
        let today = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        assert!(id.birth_date_not_after(today).is_ok());
        assert!(
            id.birth_date_not_after(NaiveDate::from_ymd_opt(1949, 12, 30).unwrap())
                .is_err()
        );
    }

    #[test]
    fn full_width_input_is_normalized() {
        assert_eq!(
            resident("１１０１０５１９４９１２３１００２ｘ").unwrap().as_str(),
            "11010519491231002X"
        );
    }

    #[test]
    fn resident_errors_are_precise() {
        assert!(message(resident("110105491231002")).contains("15-digit"));
        assert!(message(resident("1101051949123100")).contains("18 characters, got 16"));
        assert!(message(resident("11010519491231A02X")).contains("position 15"));
        assert!(message(resident("11010519491231002Y")).contains("position 18"));
        assert!(message(resident("11010519491231002")).contains("got 17"));
        assert!(message(resident("110105194912310021")).contains("expected X, got 1"));
        assert!(message(resident("19010519491231002X")).contains("region prefix 19"));
        assert!(message(resident("110105194902300021")).contains("not a real date"));
        assert!(message(resident("110105189912310021")).contains("before 1900"));
    }

    #[test]
    fn abolished_county_codes_are_accepted() {
        // 110103 (崇文区) was merged into 东城区 in 2010; old cards still carry it.
        let first17 = "11010319800101123";
        let check = gb11643_check_char(first17).unwrap();
        assert!(resident(&format!("{first17}{check}")).is_ok());
    }

    #[test]
    fn hmt_and_foreign_layouts() {
        let hmt17 = "81000019900101123";
        let hmt = format!("{hmt17}{}", gb11643_check_char(hmt17).unwrap());
        let permit = IdNumber::parse(IdDocType::HmtResidencePermit, &hmt).unwrap();
        assert_eq!(permit.region_code(), Some("810000"));
        assert_eq!(permit.gender(), Some(Gender::Male));
        assert!(
            message(IdNumber::parse(
                IdDocType::HmtResidencePermit,
                "11010519491231002X"
            ))
            .contains("810000")
        );

        let f17 = "93784019850315001";
        let foreign = format!("{f17}{}", gb11643_check_char(f17).unwrap());
        let card = IdNumber::parse(IdDocType::ForeignPermanentResidence, &foreign).unwrap();
        assert_eq!(card.birth_date(), NaiveDate::from_ymd_opt(1985, 3, 15));
        assert_eq!(card.region_code(), None);
        let old = IdNumber::parse(IdDocType::ForeignPermanentResidence, "usa310085031501").unwrap();
        assert_eq!(old.as_str(), "USA310085031501");
        assert_eq!((old.birth_date(), old.gender()), (None, None));
        let bad = IdNumber::parse(IdDocType::ForeignPermanentResidence, "USA310085133101");
        assert!(message(bad).contains("positions 8-13"));
        assert!(
            message(IdNumber::parse(
                IdDocType::ForeignPermanentResidence,
                "11010519491231002X"
            ))
            .contains("must be 9")
        );
    }

    #[test]
    fn passport_and_other() {
        assert_eq!(
            IdNumber::parse(IdDocType::Passport, "e12345678")
                .unwrap()
                .as_str(),
            "E12345678"
        );
        assert!(message(IdNumber::parse(IdDocType::Passport, "E123")).contains("5-17"));
        assert!(message(IdNumber::parse(IdDocType::Passport, "E1234 5678")).contains("position 6"));
        assert!(message(IdNumber::parse(IdDocType::Passport, "E1234-5678")).contains("position 6"));
        assert!(IdNumber::parse(IdDocType::Other, "军字第12345号").is_ok());
        assert!(IdNumber::parse(IdDocType::Other, "   ").is_err());
        assert!(IdNumber::parse(IdDocType::Other, "a b").is_err());
        assert!(IdNumber::parse(IdDocType::Other, &"A".repeat(33)).is_err());
    }

    #[test]
    fn enums_parse_and_serialize() {
        for t in IdDocType::ALL {
            assert_eq!(t.as_str().parse::<IdDocType>(), Ok(t));
        }
        assert_eq!(IdDocType::parse("visa").unwrap_err().code, "invalid_id_type");
        assert_eq!(Gender::parse("男"), Ok(Gender::Male));
        assert_eq!("female".parse::<Gender>(), Ok(Gender::Female));
        assert_eq!(Gender::parse("x").unwrap_err().code, "invalid_gender");
        assert_eq!(gb11643_check_char("1234"), None);
    }

    fn valid_resident() -> impl Strategy<Value = String> {
        let provinces: Vec<u32> = (10..100).filter(|p| is_province_prefix(*p)).collect();
        (
            prop::sample::select(provinces),
            0u32..10_000,
            1900i32..2100,
            1u32..=12,
            1u32..=31,
            0u32..1000,
        )
            .prop_filter_map("real date", |(p, area, y, m, d, seq)| {
                NaiveDate::from_ymd_opt(y, m, d)?;
                let first17 = format!("{p:02}{area:04}{y:04}{m:02}{d:02}{seq:03}");
                Some(format!("{first17}{}", gb11643_check_char(&first17)?))
            })
    }

    proptest! {
        #[test]
        fn generated_numbers_parse_and_round_trip(s in valid_resident()) {
            let id = resident(&s).unwrap();
            prop_assert_eq!(id.as_str(), s.as_str());
            prop_assert!(id.birth_date().is_some());
            prop_assert_eq!(resident(id.as_str()).unwrap(), id);
        }

        #[test]
        fn single_digit_changes_are_caught(s in valid_resident(), pos in 0usize..18, digit in 0u32..10) {
            let mut chars: Vec<char> = s.chars().collect();
            let new = char::from_digit(digit, 10).unwrap();
            prop_assume!(chars[pos] != new);
            chars[pos] = new;
            prop_assert!(resident(&chars.iter().collect::<String>()).is_err());
        }

        #[test]
        fn lowercase_x_is_normalized(s in valid_resident()) {
            // Vary the sequence digits until the check character is X; 100 values cover all residues.
            let first15 = &s[..15];
            let with_x = (0..100)
                .map(|n| format!("{first15}{n:02}"))
                .find(|f| gb11643_check_char(f) == Some('X'))
                .unwrap();
            let id = resident(&format!("{with_x}x")).unwrap();
            prop_assert_eq!(id.as_str(), format!("{with_x}X"));
        }

        #[test]
        fn passports_round_trip(s in "[A-Za-z0-9]{5,17}") {
            let id = IdNumber::parse(IdDocType::Passport, &s).unwrap();
            prop_assert_eq!(id.as_str(), s.to_ascii_uppercase());
            prop_assert_eq!(IdNumber::parse(IdDocType::Passport, id.as_str()).unwrap(), id);
        }
    }
}
