//! The access decision: may this person pass this door or gate now? Pure: the caller gathers
//! the person's house relations (grants), the door's place and the date; the answer is an
//! outcome with a stable reason code that is recorded and shown to operators.
//!
//! Rules (the access-control issue): residents pass their own unit doors and the community's
//! entrances, car parks and garages; tenants only between lease start and end (expiry needs no
//! one's action); staff pass entrances only, within their duty schedule; a deny-listed person
//! passes nowhere.

use crate::model::{HouseRole, PlaceKind};
use crate::schedule::Schedule;
use chrono::{NaiveDate, NaiveDateTime};

/// Open or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Open the door or barrier.
    Open,
    /// Keep it closed.
    Deny,
}

impl Outcome {
    /// `open` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Open => "open",
            Outcome::Deny => "deny",
        }
    }
}

/// Why: a stable, public reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A resident (owner or family) at a door of their community or unit.
    Resident,
    /// A tenant within their lease.
    TenantLease,
    /// Staff at an entrance.
    Staff,
    /// A visitor within their pass window.
    VisitorPass,
    /// The credential matched nobody.
    UnknownCredential,
    /// The credential was revoked or is outside its validity.
    CredentialInvalid,
    /// No active consent for face recognition.
    NoFaceConsent,
    /// The person lives elsewhere (another unit or community).
    NotAuthorisedHere,
    /// The lease has not started.
    LeaseNotStarted,
    /// The lease has ended.
    LeaseEnded,
    /// On the deny list.
    DenyListed,
    /// The door is not an access point (e.g. a perimeter zone).
    NotAnAccessPoint,
    /// A registered resident's vehicle.
    ResidentVehicle,
    /// An unregistered car enters on a temporary-parking session.
    TemporaryParking,
    /// Leaving: the parking fee is paid (or nothing was due).
    ParkingSettled,
    /// Leaving: the parking fee is due.
    FeeDue,
    /// Leaving: no entry of this car was found.
    NoParkingSession,
    /// The duty guard accepted a booth call.
    BoothAccepted,
    /// The duty guard refused a booth call.
    BoothDenied,
    /// Nobody answered a booth call in time; it was escalated.
    BoothUnanswered,
    /// Staff outside their duty schedule.
    OutsideSchedule,
    /// A car with a monthly (or longer) parking pass in its dates.
    MonthlyPass,
    /// The external status check at entry answered "deny".
    EntryCheckDenied,
    /// The external status check at entry answered "warn": opened, staff told.
    EntryCheckWarned,
    /// The external status check did not answer in time (opened or denied as configured).
    EntryCheckUnavailable,
}

impl Reason {
    /// Every reason.
    pub const ALL: &'static [Reason] = &[
        Reason::Resident,
        Reason::TenantLease,
        Reason::Staff,
        Reason::VisitorPass,
        Reason::UnknownCredential,
        Reason::CredentialInvalid,
        Reason::NoFaceConsent,
        Reason::NotAuthorisedHere,
        Reason::LeaseNotStarted,
        Reason::LeaseEnded,
        Reason::DenyListed,
        Reason::NotAnAccessPoint,
        Reason::ResidentVehicle,
        Reason::TemporaryParking,
        Reason::ParkingSettled,
        Reason::FeeDue,
        Reason::NoParkingSession,
        Reason::BoothAccepted,
        Reason::BoothDenied,
        Reason::BoothUnanswered,
        Reason::OutsideSchedule,
        Reason::MonthlyPass,
        Reason::EntryCheckDenied,
        Reason::EntryCheckWarned,
        Reason::EntryCheckUnavailable,
    ];

    /// The reason with this code.
    pub fn parse(code: &str) -> Option<Reason> {
        Self::ALL.iter().copied().find(|r| r.as_str() == code)
    }

    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Resident => "resident",
            Reason::TenantLease => "tenant_lease",
            Reason::Staff => "staff",
            Reason::VisitorPass => "visitor_pass",
            Reason::UnknownCredential => "unknown_credential",
            Reason::CredentialInvalid => "credential_invalid",
            Reason::NoFaceConsent => "no_face_consent",
            Reason::NotAuthorisedHere => "not_authorised_here",
            Reason::LeaseNotStarted => "lease_not_started",
            Reason::LeaseEnded => "lease_ended",
            Reason::DenyListed => "deny_listed",
            Reason::NotAnAccessPoint => "not_an_access_point",
            Reason::ResidentVehicle => "resident_vehicle",
            Reason::TemporaryParking => "temporary_parking",
            Reason::ParkingSettled => "parking_settled",
            Reason::FeeDue => "fee_due",
            Reason::NoParkingSession => "no_parking_session",
            Reason::BoothAccepted => "booth_accepted",
            Reason::BoothDenied => "booth_denied",
            Reason::BoothUnanswered => "booth_unanswered",
            Reason::OutsideSchedule => "outside_schedule",
            Reason::MonthlyPass => "monthly_pass",
            Reason::EntryCheckDenied => "entry_check_denied",
            Reason::EntryCheckWarned => "entry_check_warned",
            Reason::EntryCheckUnavailable => "entry_check_unavailable",
        }
    }

    /// A short Chinese message for the device's screen.
    pub fn message_zh(self) -> &'static str {
        match self {
            Reason::Resident | Reason::TenantLease | Reason::Staff | Reason::VisitorPass => "欢迎回家",
            Reason::UnknownCredential => "未识别，请联系物业",
            Reason::CredentialInvalid => "凭证已失效",
            Reason::NoFaceConsent => "未授权人脸通行，请使用其他方式",
            Reason::NotAuthorisedHere => "无此门通行权限",
            Reason::LeaseNotStarted => "租期未开始",
            Reason::LeaseEnded => "租期已结束，请联系物业",
            Reason::DenyListed => "禁止通行，请联系物业",
            Reason::NotAnAccessPoint => "非通行点位",
            Reason::ResidentVehicle => "欢迎回家",
            Reason::TemporaryParking => "临时车辆，请按时缴费",
            Reason::ParkingSettled => "一路顺风",
            Reason::FeeDue => "请缴纳停车费后出场",
            Reason::NoParkingSession => "未找到入场记录，请联系岗亭",
            Reason::BoothAccepted => "访客请进",
            Reason::BoothDenied => "访问未获同意",
            Reason::BoothUnanswered => "无人应答，已转值班中心",
            Reason::OutsideSchedule => "不在排班时间内",
            Reason::MonthlyPass => "月卡车辆，欢迎",
            Reason::EntryCheckDenied => "核验未通过，请联系工作人员",
            Reason::EntryCheckWarned => "请配合工作人员核验",
            Reason::EntryCheckUnavailable => "核验服务暂不可用",
        }
    }
}

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessDecision {
    /// Open or deny.
    pub outcome: Outcome,
    /// Why.
    pub reason: Reason,
}

impl AccessDecision {
    /// An open decision.
    pub fn open(reason: Reason) -> Self {
        AccessDecision {
            outcome: Outcome::Open,
            reason,
        }
    }

    /// A deny decision.
    pub fn deny(reason: Reason) -> Self {
        AccessDecision {
            outcome: Outcome::Deny,
            reason,
        }
    }
}

/// One relation of the person to a house, with where that house is.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// The house's community.
    pub community_id: i64,
    /// The house's unit (for unit doors).
    pub unit_id: i64,
    /// Owner, family, tenant or staff.
    pub role: HouseRole,
    /// Lease start (tenants).
    pub lease_start: Option<NaiveDate>,
    /// Lease end, inclusive (tenants).
    pub lease_end: Option<NaiveDate>,
    /// Duty schedule (staff); `None`: any time.
    pub schedule: Option<Schedule>,
}

/// The door or gate being passed.
#[derive(Debug, Clone, PartialEq)]
pub struct Door {
    /// Its community.
    pub community_id: i64,
    /// What kind of place it is.
    pub kind: PlaceKind,
    /// For unit doors: the unit.
    pub unit_id: Option<i64>,
}

/// Decides for a known person. `now` is the local (UTC+8) date and time.
pub fn decide(grants: &[Grant], door: &Door, now: NaiveDateTime, deny_listed: bool) -> AccessDecision {
    let today = now.date();
    if deny_listed {
        return AccessDecision::deny(Reason::DenyListed);
    }
    let entrance = match door.kind {
        PlaceKind::UnitDoor => false,
        PlaceKind::PedestrianEntrance
        | PlaceKind::VehicleEntrance
        | PlaceKind::VehicleLane
        | PlaceKind::CarPark
        | PlaceKind::GarageEntrance => true,
        PlaceKind::PerimeterZone | PlaceKind::RoadPoint => {
            return AccessDecision::deny(Reason::NotAnAccessPoint);
        }
    };
    // The most specific lease problem wins over "not here" when nothing opens.
    let mut best = AccessDecision::deny(Reason::NotAuthorisedHere);
    for grant in grants.iter().filter(|g| g.community_id == door.community_id) {
        let reaches = entrance || door.unit_id == Some(grant.unit_id);
        if !reaches {
            continue;
        }
        let decision = match grant.role {
            HouseRole::Owner | HouseRole::Family => AccessDecision::open(Reason::Resident),
            HouseRole::Staff if entrance => match &grant.schedule {
                Some(schedule) if !schedule.covers(now) => AccessDecision::deny(Reason::OutsideSchedule),
                _ => AccessDecision::open(Reason::Staff),
            },
            HouseRole::Staff => AccessDecision::deny(Reason::NotAuthorisedHere),
            HouseRole::Tenant => match (grant.lease_start, grant.lease_end) {
                (Some(start), _) if today < start => AccessDecision::deny(Reason::LeaseNotStarted),
                (_, Some(end)) if today > end => AccessDecision::deny(Reason::LeaseEnded),
                (Some(_), Some(_)) => AccessDecision::open(Reason::TenantLease),
                // A tenant without lease dates is a data error: deny rather than open forever.
                _ => AccessDecision::deny(Reason::LeaseEnded),
            },
        };
        if decision.outcome == Outcome::Open {
            return decision;
        }
        best = decision;
    }
    best
}

/// What an external status check at entry answered (the documents' health-code docking,
/// generalised): let in, let in and tell staff, or keep out; or no answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckVerdict {
    /// Nothing against entry.
    Pass,
    /// Let in, with a warning.
    Warn,
    /// Keep out.
    Deny,
    /// No (usable) answer in time.
    Unavailable,
}

impl CheckVerdict {
    /// Reads a status service's answer tolerantly: `pass`/`allow`/`green`/`绿`,
    /// `warn`/`yellow`/`黄`, `deny`/`block`/`red`/`红`; anything else is no usable answer.
    pub fn parse(raw: &str) -> CheckVerdict {
        match raw.trim().to_ascii_lowercase().as_str() {
            "pass" | "allow" | "ok" | "green" | "绿" | "绿码" => CheckVerdict::Pass,
            "warn" | "warning" | "yellow" | "黄" | "黄码" => CheckVerdict::Warn,
            "deny" | "block" | "red" | "红" | "红码" => CheckVerdict::Deny,
            _ => CheckVerdict::Unavailable,
        }
    }
}

/// Whether the status check applies at this door: people coming in through an entrance (not
/// unit doors, which are inside the community).
pub fn entry_checked(door: &Door) -> bool {
    matches!(
        door.kind,
        PlaceKind::PedestrianEntrance | PlaceKind::VehicleEntrance | PlaceKind::GarageEntrance
    )
}

/// A decision after the status check: only an opening can change; a warning opens with its own
/// reason, a denial keeps out, and no answer opens or keeps out as configured (`fail_open`).
pub fn apply_check(decision: AccessDecision, verdict: CheckVerdict, fail_open: bool) -> AccessDecision {
    if decision.outcome != Outcome::Open {
        return decision;
    }
    match verdict {
        CheckVerdict::Pass => decision,
        CheckVerdict::Warn => AccessDecision::open(Reason::EntryCheckWarned),
        CheckVerdict::Deny => AccessDecision::deny(Reason::EntryCheckDenied),
        CheckVerdict::Unavailable if fail_open => AccessDecision::open(Reason::EntryCheckUnavailable),
        CheckVerdict::Unavailable => AccessDecision::deny(Reason::EntryCheckUnavailable),
    }
}

/// Whether a grant can ever open this door (dates aside): what a terminal's library holds.
pub fn grant_reaches(grant: &Grant, door: &Door) -> bool {
    if grant.community_id != door.community_id {
        return false;
    }
    match door.kind {
        PlaceKind::UnitDoor => grant.role != HouseRole::Staff && door.unit_id == Some(grant.unit_id),
        PlaceKind::PedestrianEntrance
        | PlaceKind::VehicleEntrance
        | PlaceKind::VehicleLane
        | PlaceKind::CarPark
        | PlaceKind::GarageEntrance => true,
        PlaceKind::PerimeterZone | PlaceKind::RoadPoint => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Noon of a date.
    fn noon(s: &str) -> NaiveDateTime {
        d(s).and_hms_opt(12, 0, 0).unwrap()
    }

    fn grant(role: HouseRole, lease: Option<(&str, &str)>) -> Grant {
        Grant {
            community_id: 1,
            unit_id: 10,
            role,
            lease_start: lease.map(|l| d(l.0)),
            lease_end: lease.map(|l| d(l.1)),
            schedule: None,
        }
    }

    const UNIT_DOOR: Door = Door {
        community_id: 1,
        kind: PlaceKind::UnitDoor,
        unit_id: Some(10),
    };
    const OTHER_UNIT: Door = Door {
        community_id: 1,
        kind: PlaceKind::UnitDoor,
        unit_id: Some(11),
    };
    const GATE: Door = Door {
        community_id: 1,
        kind: PlaceKind::PedestrianEntrance,
        unit_id: None,
    };
    const OTHER_COMMUNITY: Door = Door {
        community_id: 2,
        kind: PlaceKind::PedestrianEntrance,
        unit_id: None,
    };

    #[test]
    fn residents_pass_their_unit_and_entrances_only() {
        let owner = [grant(HouseRole::Owner, None)];
        let today = noon("2026-11-23");
        assert_eq!(
            decide(&owner, &UNIT_DOOR, today, false),
            AccessDecision::open(Reason::Resident)
        );
        assert_eq!(
            decide(&owner, &GATE, today, false),
            AccessDecision::open(Reason::Resident)
        );
        assert_eq!(
            decide(&owner, &OTHER_UNIT, today, false).reason,
            Reason::NotAuthorisedHere
        );
        assert_eq!(
            decide(&owner, &OTHER_COMMUNITY, today, false).reason,
            Reason::NotAuthorisedHere
        );
        assert_eq!(decide(&owner, &GATE, today, true).reason, Reason::DenyListed);
        assert_eq!(decide(&[], &GATE, today, false).outcome, Outcome::Deny);
    }

    #[test]
    fn tenants_pass_only_within_their_lease() {
        let tenant = [grant(HouseRole::Tenant, Some(("2026-03-01", "2026-11-30")))];
        assert_eq!(
            decide(&tenant, &UNIT_DOOR, noon("2026-02-28"), false).reason,
            Reason::LeaseNotStarted
        );
        assert_eq!(
            decide(&tenant, &UNIT_DOOR, noon("2026-03-01"), false).reason,
            Reason::TenantLease
        );
        assert_eq!(
            decide(&tenant, &UNIT_DOOR, noon("2026-11-30"), false).outcome,
            Outcome::Open,
            "end is inclusive"
        );
        assert_eq!(
            decide(&tenant, &UNIT_DOOR, noon("2026-12-01"), false).reason,
            Reason::LeaseEnded
        );
        let no_dates = [grant(HouseRole::Tenant, None)];
        assert_eq!(
            decide(&no_dates, &GATE, noon("2026-06-01"), false).outcome,
            Outcome::Deny
        );
    }

    #[test]
    fn staff_pass_entrances_not_unit_doors_and_perimeters_are_not_doors() {
        let staff = [grant(HouseRole::Staff, None)];
        assert_eq!(
            decide(&staff, &GATE, noon("2026-06-01"), false).reason,
            Reason::Staff
        );
        assert_eq!(
            decide(&staff, &UNIT_DOOR, noon("2026-06-01"), false).outcome,
            Outcome::Deny
        );
        let zone = Door {
            community_id: 1,
            kind: PlaceKind::PerimeterZone,
            unit_id: None,
        };
        assert_eq!(
            decide(&[grant(HouseRole::Owner, None)], &zone, noon("2026-06-01"), false).reason,
            Reason::NotAnAccessPoint
        );
    }

    #[test]
    fn staff_pass_only_on_duty() {
        let mut on_duty = grant(HouseRole::Staff, None);
        on_duty.schedule = Some(Schedule::parse("1-5 07:00-19:00").unwrap());
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        // 2026-11-23 is a Monday.
        assert_eq!(
            decide(
                std::slice::from_ref(&on_duty),
                &GATE,
                at("2026-11-23 08:00"),
                false
            )
            .reason,
            Reason::Staff
        );
        assert_eq!(
            decide(
                std::slice::from_ref(&on_duty),
                &GATE,
                at("2026-11-23 20:00"),
                false
            )
            .reason,
            Reason::OutsideSchedule
        );
        assert_eq!(
            decide(&[on_duty], &GATE, at("2026-11-28 08:00"), false).reason,
            Reason::OutsideSchedule,
            "Saturday"
        );
    }

    #[test]
    fn reason_codes_round_trip() {
        for reason in Reason::ALL {
            assert_eq!(Reason::parse(reason.as_str()), Some(*reason));
            assert!(!reason.message_zh().is_empty());
        }
    }

    #[test]
    fn the_status_check_changes_only_openings() {
        let open = AccessDecision::open(Reason::Resident);
        let denied = AccessDecision::deny(Reason::LeaseEnded);
        assert_eq!(apply_check(open, CheckVerdict::Pass, false), open);
        assert_eq!(
            apply_check(open, CheckVerdict::Warn, false),
            AccessDecision::open(Reason::EntryCheckWarned)
        );
        assert_eq!(
            apply_check(open, CheckVerdict::Deny, true),
            AccessDecision::deny(Reason::EntryCheckDenied)
        );
        assert_eq!(
            apply_check(open, CheckVerdict::Unavailable, true),
            AccessDecision::open(Reason::EntryCheckUnavailable)
        );
        assert_eq!(
            apply_check(open, CheckVerdict::Unavailable, false),
            AccessDecision::deny(Reason::EntryCheckUnavailable)
        );
        for verdict in [CheckVerdict::Deny, CheckVerdict::Warn, CheckVerdict::Unavailable] {
            assert_eq!(
                apply_check(denied, verdict, false),
                denied,
                "a refusal stays a refusal"
            );
        }
        assert_eq!(CheckVerdict::parse(" GREEN "), CheckVerdict::Pass);
        assert_eq!(CheckVerdict::parse("黄码"), CheckVerdict::Warn);
        assert_eq!(CheckVerdict::parse("red"), CheckVerdict::Deny);
        assert_eq!(CheckVerdict::parse("maybe"), CheckVerdict::Unavailable);
        assert!(entry_checked(&GATE) && !entry_checked(&UNIT_DOOR));
    }

    #[test]
    fn library_reach_matches_the_decision_ignoring_dates() {
        let tenant = grant(HouseRole::Tenant, Some(("2020-01-01", "2020-12-31")));
        assert!(grant_reaches(&tenant, &UNIT_DOOR) && grant_reaches(&tenant, &GATE));
        assert!(!grant_reaches(&tenant, &OTHER_UNIT) && !grant_reaches(&tenant, &OTHER_COMMUNITY));
        assert!(!grant_reaches(&grant(HouseRole::Staff, None), &UNIT_DOOR));
    }

    #[test]
    fn an_open_grant_wins_over_an_expired_one() {
        let both = [
            grant(HouseRole::Tenant, Some(("2020-01-01", "2020-12-31"))),
            grant(HouseRole::Owner, None),
        ];
        assert_eq!(
            decide(&both, &UNIT_DOOR, noon("2026-06-01"), false).reason,
            Reason::Resident
        );
    }

    /// Door access and property fees are separate by design: keeping a resident out over unpaid
    /// fees is unlawful. The decision's inputs are named here field by field, so a fee, balance
    /// or arrears input added to a grant or a door fails to compile this test rather than slip
    /// in; and no reason code is about property fees (`fee_due` is a temporary-parking exit).
    #[test]
    fn arrears_are_no_input_of_the_decision() {
        let Grant {
            community_id: _,
            unit_id: _,
            role: _,
            lease_start: _,
            lease_end: _,
            schedule: _,
        } = grant(HouseRole::Owner, None);
        let Door {
            community_id: _,
            kind: _,
            unit_id: _,
        } = UNIT_DOOR;
        let fee_reasons: Vec<&str> = Reason::ALL
            .iter()
            .map(|r| r.as_str())
            .filter(|code| code.contains("fee") || code.contains("arrear"))
            .collect();
        assert_eq!(fee_reasons, ["fee_due"]);
        assert!(Reason::FeeDue.message_zh().contains("停车费"));
        for role in [HouseRole::Owner, HouseRole::Family] {
            let owner = [grant(role, None)];
            for door in [&UNIT_DOOR, &GATE] {
                assert_eq!(
                    decide(&owner, door, noon("2026-11-23"), false),
                    AccessDecision::open(Reason::Resident)
                );
            }
        }
    }
}
