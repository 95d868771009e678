//! Early warning (研判预警), with no I/O: the kinds of warning and who may see them, the
//! per-community rule thresholds, and the pure judgements the rules make from the facts the
//! application gathers (sightings, last-seen times, entrants, leases, parking stays, passages).
//!
//! Who sees what: watch-list hits and frequent strangers are biometric police matters (police
//! roles only); an elderly resident not seen is a welfare matter (grid workers, police, street);
//! group rental and unregistered tenants are registry matters (grid workers and police);
//! overstaying vehicles and tailgating are property matters (property staff, guards, police).

use crate::DomainError;
use crate::model::{Role, string_enum};
use serde::{Deserialize, Serialize};

string_enum!(
    /// What a warning is about.
    WarningKind, "invalid_warning_kind", {
    /// 布控命中: a face or plate matched the police watch-list.
    WatchHit => ("watch_hit", "布控命中"),
    /// 陌生人频繁出现: an unknown face seen often.
    FrequentStranger => ("frequent_stranger", "陌生人频繁出现"),
    /// 独居老人未出现: an elderly resident living alone not seen for a while.
    ElderlyUnseen => ("elderly_unseen", "独居老人未出现"),
    /// 疑似群租: more people come and go through a house than live there.
    GroupRental => ("group_rental", "疑似群租"),
    /// 租户未登记: a tenant living there past the limit without residence registration.
    TenantUnregistered => ("tenant_unregistered", "租户未登记居住"),
    /// 车辆长期滞留: a vehicle parked inside for days.
    VehicleOverstay => ("vehicle_overstay", "车辆长期滞留"),
    /// 尾随通行: more people passed than the door was opened for.
    Tailgating => ("tailgating", "尾随通行"),
});

string_enum!(
    /// Where a warning is in its handling.
    WarningState, "invalid_warning_state", {
    /// 待确认: a match a person must confirm (watch-list hits).
    ToConfirm => ("to_confirm", "待确认"),
    /// 待处理.
    Open => ("open", "待处理"),
    /// 已确认: the match is right; police act on it.
    Confirmed => ("confirmed", "已确认"),
    /// 已排除: not the person (a false match).
    Rejected => ("rejected", "已排除"),
    /// 已处置.
    Closed => ("closed", "已处置"),
});

string_enum!(
    /// What a person does to a warning.
    WarningAction, "invalid_warning_action", {
    /// 确认命中.
    Confirm => ("confirm", "确认命中"),
    /// 排除.
    Reject => ("reject", "排除"),
    /// 处置完成.
    Close => ("close", "处置完成"),
});

/// Who a warning is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Police roles only.
    Police,
    /// Grid workers and police, street officers reading.
    Welfare,
    /// Grid workers and police (the population registry).
    Registry,
    /// Property staff and guards, police reading.
    Property,
}

impl Audience {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Police => "police",
            Audience::Welfare => "welfare",
            Audience::Registry => "registry",
            Audience::Property => "property",
        }
    }

    /// The audiences `role` sees.
    pub fn seen_by(role: Role) -> &'static [Audience] {
        use Audience::*;
        match role {
            Role::CommunityPolice | Role::StationOfficer => &[Police, Welfare, Registry, Property],
            Role::GridWorker => &[Welfare, Registry],
            Role::StreetOfficer => &[Welfare, Registry],
            Role::PropertyManager | Role::Guard => &[Property],
            Role::DistrictAdmin | Role::PoliticalLegal => &[Welfare, Registry, Property],
            _ => &[],
        }
    }

    /// Whether `role` may act on warnings for this audience (not only read them).
    pub fn handled_by(self, role: Role) -> bool {
        match role {
            Role::CommunityPolice | Role::StationOfficer => true,
            Role::GridWorker => matches!(self, Audience::Welfare | Audience::Registry),
            Role::PropertyManager | Role::Guard => self == Audience::Property,
            _ => false,
        }
    }
}

impl WarningKind {
    /// Who the warning is for.
    pub fn audience(self) -> Audience {
        match self {
            WarningKind::WatchHit | WarningKind::FrequentStranger => Audience::Police,
            WarningKind::ElderlyUnseen => Audience::Welfare,
            WarningKind::GroupRental | WarningKind::TenantUnregistered => Audience::Registry,
            WarningKind::VehicleOverstay | WarningKind::Tailgating => Audience::Property,
        }
    }

    /// The state a new warning starts in.
    pub fn first_state(self) -> WarningState {
        if self == WarningKind::WatchHit {
            WarningState::ToConfirm
        } else {
            WarningState::Open
        }
    }
}

impl WarningState {
    /// Whether a person still has to act.
    pub fn is_open(self) -> bool {
        matches!(self, WarningState::ToConfirm | WarningState::Open)
    }

    /// The state after `action`, or why it is refused: a match is confirmed or rejected (only
    /// while it waits for that), a confirmed match or an open warning is closed.
    pub fn apply(self, action: WarningAction) -> Result<WarningState, DomainError> {
        use WarningAction::*;
        use WarningState::*;
        match (self, action) {
            (ToConfirm, Confirm) => Ok(Confirmed),
            (ToConfirm, Reject) => Ok(Rejected),
            (Open | Confirmed, Close) => Ok(Closed),
            (Rejected | Closed, _) => Err(DomainError::new(
                "warning_closed",
                format!("the warning is {} already", self.as_str()),
            )),
            _ => Err(DomainError::new(
                "invalid_warning_transition",
                format!(
                    "a warning that is {} cannot be {}ed",
                    self.as_str(),
                    action.as_str()
                ),
            )),
        }
    }
}

/// A frequent stranger: seen `sightings` times (night sightings count `night_weight`) within
/// `days` days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StrangerRule {
    /// On or off.
    pub enabled: bool,
    /// N: the weighted sightings that raise a warning.
    pub sightings: f64,
    /// M: the window, days.
    pub days: u32,
    /// What one sighting at night counts.
    pub night_weight: f64,
    /// Night starts at this local hour…
    pub night_from: u32,
    /// …and ends at this one.
    pub night_until: u32,
}

impl Default for StrangerRule {
    fn default() -> Self {
        StrangerRule {
            enabled: true,
            sightings: 5.0,
            days: 7,
            night_weight: 2.0,
            night_from: 22,
            night_until: 6,
        }
    }
}

/// An elderly resident living alone (tag 独居老人) not seen at any door or camera for `hours`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ElderlyRule {
    /// On or off.
    pub enabled: bool,
    /// H.
    pub hours: u32,
}

impl Default for ElderlyRule {
    fn default() -> Self {
        ElderlyRule {
            enabled: true,
            hours: 48,
        }
    }
}

/// Suspected group rental: more distinct people came in through one house over `days` than
/// live there, by more than `excess`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupRentalRule {
    /// On or off.
    pub enabled: bool,
    /// The window, days.
    pub days: u32,
    /// How many more people than registered occupants.
    pub excess: u32,
}

impl Default for GroupRentalRule {
    fn default() -> Self {
        GroupRentalRule {
            enabled: true,
            days: 7,
            excess: 3,
        }
    }
}

/// A tenant living there `days` past their lease start without residence registration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantRule {
    /// On or off.
    pub enabled: bool,
    /// Days.
    pub days: u32,
}

impl Default for TenantRule {
    fn default() -> Self {
        TenantRule {
            enabled: true,
            days: 30,
        }
    }
}

/// A vehicle inside for more than `days` days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VehicleRule {
    /// On or off.
    pub enabled: bool,
    /// D.
    pub days: u32,
}

impl Default for VehicleRule {
    fn default() -> Self {
        VehicleRule {
            enabled: true,
            days: 7,
        }
    }
}

/// Tailgating: a door's counter reported more passages for one opening than `allowed`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TailgatingRule {
    /// On or off.
    pub enabled: bool,
    /// Passages one opening may let through.
    pub allowed: u32,
}

impl Default for TailgatingRule {
    fn default() -> Self {
        TailgatingRule {
            enabled: true,
            allowed: 1,
        }
    }
}

/// One community's early-warning rules (defaults from the documents and field practice).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WarningRules {
    /// Frequent strangers.
    pub stranger: StrangerRule,
    /// Elderly living alone.
    pub elderly: ElderlyRule,
    /// Group rental.
    pub group_rental: GroupRentalRule,
    /// Unregistered tenants.
    pub tenant: TenantRule,
    /// Overstaying vehicles.
    pub vehicle: VehicleRule,
    /// Tailgating.
    pub tailgating: TailgatingRule,
}

fn rule_error(message: impl Into<String>) -> DomainError {
    DomainError::new("invalid_warning_rule", message)
}

impl WarningRules {
    /// Checks the thresholds are sensible.
    pub fn validate(&self) -> Result<(), DomainError> {
        let s = &self.stranger;
        if !(1.0..=1000.0).contains(&s.sightings) {
            return Err(rule_error("stranger.sightings is 1 to 1000"));
        }
        if !(1..=90).contains(&s.days) {
            return Err(rule_error("stranger.days is 1 to 90"));
        }
        if !(1.0..=10.0).contains(&s.night_weight) {
            return Err(rule_error("stranger.night_weight is 1 to 10"));
        }
        if s.night_from > 23 || s.night_until > 23 {
            return Err(rule_error("night hours are 0 to 23"));
        }
        if !(1..=24 * 30).contains(&self.elderly.hours) {
            return Err(rule_error("elderly.hours is 1 to 720"));
        }
        if !(1..=90).contains(&self.group_rental.days) {
            return Err(rule_error("group_rental.days is 1 to 90"));
        }
        if !(1..=365).contains(&self.tenant.days) {
            return Err(rule_error("tenant.days is 1 to 365"));
        }
        if !(1..=365).contains(&self.vehicle.days) {
            return Err(rule_error("vehicle.days is 1 to 365"));
        }
        if !(1..=20).contains(&self.tailgating.allowed) {
            return Err(rule_error("tailgating.allowed is 1 to 20"));
        }
        Ok(())
    }
}

/// The local (UTC+8) hour of an instant.
pub fn local_hour(at_ms: i64) -> u32 {
    use chrono::Timelike;
    chrono::DateTime::from_timestamp_millis(at_ms + 8 * 3_600_000)
        .map(|t| t.hour())
        .unwrap_or(0)
}

impl StrangerRule {
    /// Whether a local hour is at night (the window may wrap past midnight).
    pub fn is_night(&self, hour: u32) -> bool {
        if self.night_from <= self.night_until {
            (self.night_from..self.night_until).contains(&hour)
        } else {
            hour >= self.night_from || hour < self.night_until
        }
    }

    /// The weighted count of sightings (ms) within the window ending at `now`.
    pub fn score(&self, sightings: &[i64], now: i64) -> f64 {
        let since = now - i64::from(self.days) * 86_400_000;
        sightings
            .iter()
            .filter(|&&at| at > since && at <= now)
            .map(|&at| {
                if self.is_night(local_hour(at)) {
                    self.night_weight
                } else {
                    1.0
                }
            })
            .sum()
    }

    /// Whether the sightings raise a warning.
    pub fn fires(&self, sightings: &[i64], now: i64) -> bool {
        self.enabled && self.score(sightings, now) >= self.sightings
    }
}

impl ElderlyRule {
    /// Whether someone last seen at `last_seen` (or, never seen, registered at `since`) has been
    /// away too long at `now`.
    pub fn fires(&self, last_seen: Option<i64>, since: i64, now: i64) -> bool {
        self.enabled && last_seen.unwrap_or(since) + i64::from(self.hours) * 3_600_000 <= now
    }
}

impl GroupRentalRule {
    /// Whether `entrants` distinct people through a house with `occupants` registered ones is
    /// suspect.
    pub fn fires(&self, entrants: usize, occupants: usize) -> bool {
        self.enabled && entrants > occupants + self.excess as usize
    }
}

impl TenantRule {
    /// Whether a tenant whose lease started on `lease_start` is past the limit on `today`
    /// without registration.
    pub fn fires(&self, lease_start: chrono::NaiveDate, registered: bool, today: chrono::NaiveDate) -> bool {
        self.enabled && !registered && (today - lease_start).num_days() >= i64::from(self.days)
    }
}

impl VehicleRule {
    /// Whether a vehicle in since `entered_at` has overstayed at `now`.
    pub fn fires(&self, entered_at: i64, now: i64) -> bool {
        self.enabled && now - entered_at >= i64::from(self.days) * 86_400_000
    }
}

impl TailgatingRule {
    /// How many people passed beyond what one opening allows (0: none).
    pub fn excess(&self, passages: u32) -> u32 {
        if self.enabled {
            passages.saturating_sub(self.allowed)
        } else {
            0
        }
    }
}

/// Person tags that mark an elderly resident living alone.
pub const ELDERLY_ALONE_TAGS: [&str; 3] = ["独居老人", "elderly_alone", "空巢老人"];
/// Person tags that record a tenant's residence registration (居住登记 / 居住证).
pub const RESIDENCE_REGISTERED_TAGS: [&str; 4] =
    ["已登记居住", "居住证", "已办居住证", "residence_registered"];

/// Whether a person's tags include one of `wanted`.
pub fn has_tag(tags: &[String], wanted: &[&str]) -> bool {
    tags.iter().any(|t| wanted.contains(&t.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// 2026-11-23 08:00 local.
    const T0: i64 = 1_795_392_000_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn strangers_are_weighted_at_night() {
        let rule = StrangerRule::default();
        assert!(rule.is_night(23) && rule.is_night(2) && !rule.is_night(6) && !rule.is_night(12));
        // Four daytime sightings in a week: 4 < 5.
        let day: Vec<i64> = (0..4).map(|d| T0 - d * 24 * HOUR).collect();
        assert_eq!(rule.score(&day, T0), 4.0);
        assert!(!rule.fires(&day, T0));
        // Three at 01:00 local (night, weight 2): 6 ≥ 5.
        let night: Vec<i64> = (0..3).map(|d| T0 - 7 * HOUR - d * 24 * HOUR).collect();
        assert_eq!(rule.score(&night, T0), 6.0);
        assert!(rule.fires(&night, T0));
        // Sightings older than the window do not count.
        let old: Vec<i64> = (0..10).map(|d| T0 - (8 + d) * 24 * HOUR).collect();
        assert_eq!(rule.score(&old, T0), 0.0);
        let off = StrangerRule {
            enabled: false,
            ..rule
        };
        assert!(!off.fires(&night, T0));
    }

    #[test]
    fn the_other_rules_fire_at_their_thresholds() {
        let elderly = ElderlyRule::default();
        assert!(!elderly.fires(Some(T0 - 47 * HOUR), 0, T0));
        assert!(elderly.fires(Some(T0 - 48 * HOUR), 0, T0));
        assert!(
            elderly.fires(None, T0 - 49 * HOUR, T0),
            "never seen since registration"
        );
        let rental = GroupRentalRule::default();
        assert!(!rental.fires(5, 2));
        assert!(rental.fires(6, 2));
        let tenant = TenantRule::default();
        let start = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        assert!(!tenant.fires(start, false, NaiveDate::from_ymd_opt(2026, 10, 30).unwrap()));
        assert!(tenant.fires(start, false, NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()));
        assert!(!tenant.fires(start, true, NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()));
        let vehicle = VehicleRule::default();
        assert!(!vehicle.fires(T0 - 7 * 24 * HOUR + 1, T0));
        assert!(vehicle.fires(T0 - 7 * 24 * HOUR, T0));
        let tail = TailgatingRule::default();
        assert_eq!((tail.excess(1), tail.excess(3)), (0, 2));
    }

    #[test]
    fn matches_are_confirmed_or_rejected_and_warnings_closed() {
        use WarningAction::*;
        use WarningState::*;
        assert_eq!(WarningKind::WatchHit.first_state(), ToConfirm);
        assert_eq!(WarningKind::Tailgating.first_state(), Open);
        assert_eq!(ToConfirm.apply(Confirm).unwrap(), Confirmed);
        assert_eq!(ToConfirm.apply(Reject).unwrap(), Rejected);
        assert_eq!(Confirmed.apply(Close).unwrap(), Closed);
        assert_eq!(
            Open.apply(Confirm).unwrap_err().code,
            "invalid_warning_transition"
        );
        assert_eq!(Rejected.apply(Close).unwrap_err().code, "warning_closed");
    }

    #[test]
    fn police_matters_stay_with_the_police() {
        for role in [
            Role::PropertyManager,
            Role::Guard,
            Role::GridWorker,
            Role::DistrictAdmin,
            Role::Resident,
        ] {
            assert!(!Audience::seen_by(role).contains(&Audience::Police), "{role}");
        }
        assert!(Audience::seen_by(Role::CommunityPolice).contains(&Audience::Police));
        assert!(Audience::Welfare.handled_by(Role::GridWorker));
        assert!(!Audience::Property.handled_by(Role::GridWorker));
        assert!(!Audience::Police.handled_by(Role::PropertyManager));
    }

    #[test]
    fn rules_round_trip_and_are_checked() {
        let rules: WarningRules = serde_json::from_str(r#"{"stranger": {"sightings": 3}}"#).unwrap();
        assert_eq!(rules.stranger.sightings, 3.0);
        assert_eq!(rules.stranger.days, 7);
        assert!(rules.validate().is_ok());
        let bad = WarningRules {
            vehicle: VehicleRule {
                enabled: true,
                days: 0,
            },
            ..WarningRules::default()
        };
        assert_eq!(bad.validate().unwrap_err().code, "invalid_warning_rule");
        assert!(serde_json::from_str::<WarningRules>(r#"{"nope": 1}"#).is_err());
    }
}
