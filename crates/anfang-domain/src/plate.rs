//! Chinese motor vehicle plates (GA 36): the plate colour, the plate kind and the validated number.
//!
//! Cameras and people write the same plate in many ways (`鲁C·12345`, `鲁c 12345`, full-width
//! letters), so everything goes through one normalization first; [`PlateNumber::parse`] then applies
//! the layout rules strictly, while [`normalize_plate`] keeps whatever a camera read for the record.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::id_number::to_halfwidth;

/// The 31 province-level abbreviations that start a civilian plate.
const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";
/// Energy-type letters of new-energy plates: D/A/B/C/E pure electric, F/G/H/J/K other.
const ENERGY_LETTERS: &str = "DABCEFGHJK";

fn plate_error(message: impl Into<String>) -> DomainError {
    DomainError::new("invalid_plate_number", message)
}

fn is_province(c: char) -> bool {
    PROVINCES.contains(c)
}

/// Serial characters are digits and A–Z without I and O, which GA 36 excludes as look-alikes of 1/0.
fn is_serial(c: char) -> bool {
    c.is_ascii_digit() || (c.is_ascii_uppercase() && c != 'I' && c != 'O')
}

/// The background colour of a plate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateColor {
    /// 蓝牌, small ordinary vehicles.
    Blue,
    /// 黄牌, large vehicles, coaches.
    Yellow,
    /// 绿牌, small new-energy vehicles.
    Green,
    /// 黄绿牌, large new-energy vehicles.
    YellowGreen,
    /// 白牌, police, armed police, emergency.
    White,
    /// 黑牌, embassy, consulate, Hong Kong/Macau cross-border.
    Black,
    /// Anything else (temporary plates, unreadable colour).
    Other,
}

impl PlateColor {
    /// Every colour, in declaration order.
    pub const ALL: [PlateColor; 7] = [
        Self::Blue,
        Self::Yellow,
        Self::Green,
        Self::YellowGreen,
        Self::White,
        Self::Black,
        Self::Other,
    ];

    /// The stable snake_case name, identical to the serde representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Blue => "blue",
            Self::Yellow => "yellow",
            Self::Green => "green",
            Self::YellowGreen => "yellow_green",
            Self::White => "white",
            Self::Black => "black",
            Self::Other => "other",
        }
    }

    /// Parses the snake_case name or the Chinese colour word (蓝, 黄绿, 白色, ...), because
    /// camera vendors report colours in Chinese (error code `invalid_plate_color`).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        let chinese = match s.strip_suffix('色').unwrap_or(s) {
            "蓝" => Some(Self::Blue),
            "黄" => Some(Self::Yellow),
            "绿" => Some(Self::Green),
            "黄绿" => Some(Self::YellowGreen),
            "白" => Some(Self::White),
            "黑" => Some(Self::Black),
            "其他" => Some(Self::Other),
            _ => None,
        };
        chinese
            .or_else(|| Self::ALL.into_iter().find(|c| c.as_str() == s))
            .ok_or_else(|| DomainError::new("invalid_plate_color", format!("unknown plate colour '{s}'")))
    }
}

impl FromStr for PlateColor {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The layout family of a plate, decided by its shape and suffix character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateKind {
    /// Province + authority letter + 5 serial characters (`鲁C12345`).
    Ordinary,
    /// 8-character new-energy plate (`鲁CD12345`, `鲁C12345D`).
    NewEnergy,
    /// Trailer, suffix 挂.
    Trailer,
    /// Police, suffix 警.
    Police,
    /// Driving-school coach, suffix 学.
    Coach,
    /// Embassy, 使 before or after 6 digits.
    Embassy,
    /// Consulate, suffix 领.
    Consulate,
    /// Hong Kong cross-border (`粤Z1234港`).
    HongKong,
    /// Macau cross-border (`粤Z1234澳`).
    Macau,
    /// Emergency rescue, suffix 应急.
    Emergency,
    /// Armed police, `WJ` prefix.
    ArmedPolice,
}

impl PlateKind {
    /// The stable snake_case name, identical to the serde representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ordinary => "ordinary",
            Self::NewEnergy => "new_energy",
            Self::Trailer => "trailer",
            Self::Police => "police",
            Self::Coach => "coach",
            Self::Embassy => "embassy",
            Self::Consulate => "consulate",
            Self::HongKong => "hong_kong",
            Self::Macau => "macau",
            Self::Emergency => "emergency",
            Self::ArmedPolice => "armed_police",
        }
    }
}

/// Normalizes a plate as read: full-width to ASCII, separators (`·`, `•`, `.`, `-`, spaces)
/// removed, ASCII letters uppercased. Nothing is validated.
pub fn normalize_plate(raw: &str) -> String {
    raw.chars()
        .map(to_halfwidth)
        .filter(|c| !matches!(c, '·' | '•' | '・' | '.' | '-') && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Whether two plates, once normalized, have the same length and differ in at most one character;
/// in/out pairing uses it to tolerate a single misread character.
pub fn plate_edit_distance_le1(a: &str, b: &str) -> bool {
    let (a, b) = (normalize_plate(a), normalize_plate(b));
    a.chars().count() == b.chars().count() && a.chars().zip(b.chars()).filter(|(x, y)| x != y).count() <= 1
}

/// A validated, normalized plate number with its kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlateNumber {
    value: String,
    kind: PlateKind,
}

impl PlateNumber {
    /// Normalizes `raw` (see [`normalize_plate`]) and validates it against the GA 36 layouts
    /// (error code `invalid_plate_number`).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = normalize_plate(raw);
        let chars: Vec<char> = value.chars().collect();
        let kind = classify(&chars)?;
        Ok(Self { value, kind })
    }

    /// The normalized plate.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The layout family.
    pub fn kind(&self) -> PlateKind {
        self.kind
    }

    /// The province abbreviation, when the plate carries one (embassy plates and `WJ12345` don't).
    pub fn province(&self) -> Option<char> {
        let mut chars = self.value.chars();
        let first = if self.kind == PlateKind::ArmedPolice {
            chars.nth(2)
        } else {
            chars.next()
        };
        first.filter(|c| is_province(*c))
    }
}

impl fmt::Display for PlateNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl FromStr for PlateNumber {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for PlateNumber {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<PlateNumber> for String {
    fn from(p: PlateNumber) -> Self {
        p.value
    }
}

/// Checks that every character of `part`, which starts at 0-based `offset` in the plate, passes
/// `ok`, naming the first offender by its 1-based position.
fn require(part: &[char], offset: usize, ok: fn(char) -> bool, want: &str) -> Result<(), DomainError> {
    match part.iter().enumerate().find(|(_, c)| !ok(**c)) {
        Some((i, c)) => {
            let why = if matches!(c, 'I' | 'O') {
                " (I and O are not used on plates)"
            } else {
                ""
            };
            Err(plate_error(format!(
                "character '{c}' at position {} must be {want}{why}",
                i + offset + 1
            )))
        }
        None => Ok(()),
    }
}

const SERIAL: &str = "a digit or a letter A-Z other than I and O";

/// Decides the kind of a normalized plate, or explains precisely why it matches none.
fn classify(chars: &[char]) -> Result<PlateKind, DomainError> {
    let n = chars.len();
    if n == 0 {
        return Err(plate_error("plate number is empty"));
    }
    if chars.starts_with(&['W', 'J']) {
        let rest = if n > 2 && is_province(chars[2]) { 3 } else { 2 };
        if n - rest != 5 {
            return Err(plate_error(format!(
                "armed police plate must be WJ + optional province + 5 characters, got {n}"
            )));
        }
        require(&chars[rest..], rest, is_serial, SERIAL)?;
        return Ok(PlateKind::ArmedPolice);
    }
    let digits = |part: &[char], offset| require(part, offset, |c| c.is_ascii_digit(), "a digit");
    if chars[0] == '使' || chars[n - 1] == '使' {
        if n != 7 {
            return Err(plate_error(format!(
                "embassy plate must be 使 + 6 digits or 6 digits + 使, got {n} characters"
            )));
        }
        let offset = usize::from(chars[0] == '使');
        digits(&chars[offset..offset + 6], offset)?;
        return Ok(PlateKind::Embassy);
    }
    if !is_province(chars[0]) {
        return Err(plate_error(format!(
            "unknown province abbreviation '{}'",
            chars[0]
        )));
    }
    if n < 2 {
        return Err(plate_error("plate number is too short: 1 character"));
    }
    require(
        &chars[1..2],
        1,
        |c| c.is_ascii_uppercase() && c != 'I' && c != 'O',
        "a letter A-Z other than I and O",
    )?;
    let body = &chars[2..];
    let (kind, middle, lengths): (PlateKind, &[char], &[usize]) = match body.split_last() {
        _ if body.ends_with(&['应', '急']) => (PlateKind::Emergency, &body[..body.len() - 2], &[4, 5]),
        Some((&'挂', init)) => (PlateKind::Trailer, init, &[4]),
        Some((&'警', init)) => (PlateKind::Police, init, &[4]),
        Some((&'学', init)) => (PlateKind::Coach, init, &[4]),
        Some((&'领', init)) => (PlateKind::Consulate, init, &[4]),
        Some((&'港', init)) => (PlateKind::HongKong, init, &[4]),
        Some((&'澳', init)) => (PlateKind::Macau, init, &[4]),
        _ if body.len() == 5 => (PlateKind::Ordinary, body, &[5]),
        _ if body.len() == 6 => (PlateKind::NewEnergy, body, &[6]),
        _ => {
            return Err(plate_error(format!(
                "plate must be 7 characters (ordinary) or 8 (new-energy), got {n}"
            )));
        }
    };
    if matches!(kind, PlateKind::HongKong | PlateKind::Macau) && chars[..2] != ['粤', 'Z'] {
        return Err(plate_error("Hong Kong and Macau plates must start with 粤Z"));
    }
    if !lengths.contains(&middle.len()) {
        let want: Vec<String> = lengths.iter().map(usize::to_string).collect();
        return Err(plate_error(format!(
            "{} plate needs {} characters after the authority letter, got {}",
            kind.as_str(),
            want.join(" or "),
            middle.len()
        )));
    }
    match kind {
        PlateKind::Consulate => digits(middle, 2)?,
        PlateKind::NewEnergy => check_new_energy(middle)?,
        _ => require(middle, 2, is_serial, SERIAL)?,
    }
    Ok(kind)
}

/// Checks the 6 characters after the authority letter of a new-energy plate.
fn check_new_energy(s: &[char]) -> Result<(), DomainError> {
    let energy = |c: &char| ENERGY_LETTERS.contains(*c);
    let small = energy(&s[0]) && is_serial(s[1]) && s[2..].iter().all(char::is_ascii_digit);
    let large = s[..5].iter().all(char::is_ascii_digit) && energy(&s[5]);
    if small || large {
        return Ok(());
    }
    // Name a bad character first when there is one, since that is the more precise complaint.
    require(s, 2, is_serial, SERIAL)?;
    Err(plate_error(format!(
        "new-energy serial '{}' must be an energy letter (D, A, B, C, E, F, G, H, J, K) \
         + 1 character + 4 digits, or 5 digits + an energy letter",
        s.iter().collect::<String>()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kind(s: &str) -> PlateKind {
        PlateNumber::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .kind()
    }

    fn message(s: &str) -> String {
        let e = PlateNumber::parse(s).expect_err(s);
        assert_eq!(e.code, "invalid_plate_number");
        e.message
    }

    #[test]
    fn every_kind_parses() {
        let samples = [
            ("鲁C12345", PlateKind::Ordinary),
            ("鲁CD12345", PlateKind::NewEnergy),
            ("鲁C12345D", PlateKind::NewEnergy),
            ("鲁C1234挂", PlateKind::Trailer),
            ("鲁C1234警", PlateKind::Police),
            ("鲁C1234学", PlateKind::Coach),
            ("沪A0001领", PlateKind::Consulate),
            ("224001使", PlateKind::Embassy),
            ("使224001", PlateKind::Embassy),
            ("粤Z1234港", PlateKind::HongKong),
            ("粤Z1234澳", PlateKind::Macau),
            ("鲁C1234应急", PlateKind::Emergency),
            ("鲁C12345应急", PlateKind::Emergency),
            ("WJ京12345", PlateKind::ArmedPolice),
            ("WJ12345", PlateKind::ArmedPolice),
            ("鲁C·A1234", PlateKind::Ordinary),
        ];
        for (s, k) in samples {
            assert_eq!(kind(s), k, "{s}");
        }
    }

    #[test]
    fn normalization_and_accessors() {
        let p = PlateNumber::parse(" 鲁c-a 1２3４ ").unwrap();
        assert_eq!(p.as_str(), "鲁CA1234");
        assert_eq!(p.to_string(), "鲁CA1234");
        assert_eq!(p.province(), Some('鲁'));
        assert_eq!(PlateNumber::parse("WJ京12345").unwrap().province(), Some('京'));
        assert_eq!(PlateNumber::parse("WJ12345").unwrap().province(), None);
        assert_eq!(PlateNumber::parse("使224001").unwrap().province(), None);
        assert_eq!(normalize_plate("鲁c·I0000"), "鲁CI0000");
    }

    #[test]
    fn invalid_plates_are_explained() {
        assert!(message("鲁C1234I").contains("I and O"));
        assert!(message("鲁O12345").contains("position 2"));
        assert!(message("台C12345").contains("province"));
        assert!(message("鲁C1234").contains("got 6"));
        assert!(message("鲁C123456789").contains("got 11"));
        assert!(message("鲁C123456").contains("energy letter"));
        assert!(message("鲁C12345挂").contains("needs 4"));
        assert!(message("沪A000A领").contains("digit"));
        assert!(message("鲁C1234港").contains("粤Z"));
        assert!(message("使22400").contains("embassy"));
        assert!(message("WJ1234").contains("armed police"));
        assert!(message(" ").contains("empty"));
    }

    #[test]
    fn colours_and_distance() {
        assert_eq!(PlateColor::parse("黄绿"), Ok(PlateColor::YellowGreen));
        assert_eq!(PlateColor::parse("蓝色"), Ok(PlateColor::Blue));
        assert_eq!("yellow_green".parse::<PlateColor>(), Ok(PlateColor::YellowGreen));
        assert_eq!(PlateColor::parse("紫").unwrap_err().code, "invalid_plate_color");
        assert!(plate_edit_distance_le1("鲁C12345", "鲁C·12345"));
        assert!(plate_edit_distance_le1("鲁C12345", "鲁C12845"));
        assert!(!plate_edit_distance_le1("鲁C12345", "鲁C12846"));
        assert!(!plate_edit_distance_le1("鲁C12345", "鲁CD12345"));
    }

    const SERIALS: &str = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";

    fn pick(set: &'static str) -> impl Strategy<Value = char> {
        prop::sample::select(set.chars().collect::<Vec<_>>())
    }

    fn prefix() -> impl Strategy<Value = String> {
        (pick(PROVINCES), pick("ABCDEFGHJKLMNPQRSTUVWXYZ")).prop_map(|(p, l)| format!("{p}{l}"))
    }

    proptest! {
        #[test]
        fn ordinary_plates_round_trip(p in prefix(), serial in prop::collection::vec(pick(SERIALS), 5)) {
            let s: String = std::iter::once(p).chain(serial.into_iter().map(String::from)).collect();
            let plate = PlateNumber::parse(&s).unwrap();
            prop_assert_eq!(plate.kind(), PlateKind::Ordinary);
            prop_assert_eq!(PlateNumber::parse(plate.as_str()).unwrap(), plate);
        }

        #[test]
        fn new_energy_plates_round_trip(p in prefix(), e in pick(ENERGY_LETTERS), c in pick(SERIALS),
                                        n in 0u32..100_000, large in any::<bool>()) {
            let s = if large { format!("{p}{n:05}{e}") } else { format!("{p}{e}{c}{:04}", n % 10_000) };
            let plate = PlateNumber::parse(&s).unwrap();
            prop_assert_eq!(plate.kind(), PlateKind::NewEnergy);
            prop_assert_eq!(plate.to_string(), s);
        }

        #[test]
        fn i_or_o_in_the_serial_fails(p in prefix(), serial in prop::collection::vec(pick(SERIALS), 5..=6),
                                      pos in 0usize..6, bad in pick("IOio")) {
            let mut serial = serial;
            let at = pos % serial.len();
            serial[at] = bad;
            let s: String = std::iter::once(p).chain(serial.into_iter().map(String::from)).collect();
            prop_assert!(PlateNumber::parse(&s).is_err(), "{}", s);
        }
    }
}
