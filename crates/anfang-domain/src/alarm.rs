//! The alarm centre's vocabulary and rules, with no I/O: alarm kinds and their default severity,
//! the lifecycle (new → acknowledged → dispatched → resolved or false alarm), the SLA that
//! escalates an unacknowledged alarm to the next role, the merging of repeats, the nearest
//! cameras to an alarm, and per-community statistics.

use crate::DomainError;
use crate::model::{Role, string_enum};

string_enum!(
    /// What an alarm is about.
    AlarmKind, "invalid_alarm_kind", {
    /// 周界入侵: a perimeter zone was crossed.
    PerimeterIntrusion => ("perimeter_intrusion", "周界入侵"),
    /// 门被强行打开: a door opened without a release.
    DoorForced => ("door_forced", "门被强行打开"),
    /// 门长时间未关: a door left open past its limit.
    DoorHeldOpen => ("door_held_open", "门长时间未关"),
    /// 设备防拆: a device's tamper switch.
    DeviceTamper => ("device_tamper", "设备防拆"),
    /// 烟火报警: fire or smoke.
    FireSmoke => ("fire_smoke", "烟火报警"),
    /// 一键求助: an SOS button.
    Sos => ("sos", "一键求助"),
    /// 徘徊: loitering, from camera analytics.
    Loitering => ("loitering", "徘徊"),
    /// 攀爬: climbing, from camera analytics.
    Climbing => ("climbing", "攀爬"),
    /// 人员聚集: crowding, from camera analytics.
    Crowding => ("crowding", "人员聚集"),
    /// 跌倒: a fall, from camera analytics.
    Fall => ("fall", "跌倒"),
    /// 打架斗殴: a fight, from camera analytics.
    Fighting => ("fighting", "打架斗殴"),
    /// 设备离线: a device stopped reporting.
    DeviceOffline => ("device_offline", "设备离线"),
    /// 巡更异常: a patrol checkpoint missed, late or out of order.
    PatrolMissed => ("patrol_missed", "巡更异常"),
    /// 其他报警: a device alarm of a kind not listed (kept, never dropped).
    Other => ("other", "其他报警"),
});

string_enum!(
    /// How urgent an alarm is; `Critical` sorts first.
    Severity, "invalid_severity", {
    /// 紧急.
    Critical => ("critical", "紧急"),
    /// 重要.
    Major => ("major", "重要"),
    /// 一般.
    Minor => ("minor", "一般"),
});

string_enum!(
    /// Where an alarm is in its lifecycle.
    AlarmState, "invalid_alarm_state", {
    /// 待处理.
    New => ("new", "待处理"),
    /// 已确认: someone has seen it.
    Acknowledged => ("acknowledged", "已确认"),
    /// 已派警: someone was sent.
    Dispatched => ("dispatched", "已派警"),
    /// 已处置.
    Resolved => ("resolved", "已处置"),
    /// 误报.
    FalseAlarm => ("false_alarm", "误报"),
});

string_enum!(
    /// What a person does to an alarm.
    AlarmAction, "invalid_alarm_action", {
    /// 确认.
    Acknowledge => ("acknowledge", "确认"),
    /// 派警.
    Dispatch => ("dispatch", "派警"),
    /// 处置完成.
    Resolve => ("resolve", "处置完成"),
    /// 标记误报.
    MarkFalse => ("mark_false", "标记误报"),
});

impl AlarmKind {
    /// The kind a device reported, read tolerantly: protocol names, GB/T 28181 and vendor
    /// analytics vocabulary, case and separators ignored. Unknown kinds are [`AlarmKind::Other`].
    pub fn from_device(raw: &str) -> AlarmKind {
        let k: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, '_' | '-' | ' ' | '.'))
            .flat_map(char::to_lowercase)
            .collect();
        if let Ok(kind) = AlarmKind::parse(raw) {
            return kind;
        }
        let has = |words: &[&str]| words.iter().any(|w| k.contains(w));
        if has(&["forced", "breakin", "强行"]) {
            AlarmKind::DoorForced
        } else if has(&["heldopen", "dooropen", "未关"]) {
            AlarmKind::DoorHeldOpen
        } else if has(&["tamper", "防拆", "videoloss", "shelter", "遮挡"]) {
            AlarmKind::DeviceTamper
        } else if has(&["smoke", "fire", "烟", "火"]) {
            AlarmKind::FireSmoke
        } else if has(&["sos", "panic", "emergency", "help", "求助", "紧急"]) {
            AlarmKind::Sos
        } else if has(&["fight", "打架", "斗殴", "殴打"]) {
            AlarmKind::Fighting
        } else if has(&["loiter", "徘徊"]) {
            AlarmKind::Loitering
        } else if has(&["climb", "攀爬", "翻越"]) {
            AlarmKind::Climbing
        } else if has(&["crowd", "gather", "聚集"]) {
            AlarmKind::Crowding
        } else if has(&["fall", "跌倒"]) {
            AlarmKind::Fall
        } else if has(&[
            "intrusion",
            "perimeter",
            "tripwire",
            "linecross",
            "region",
            "fence",
            "zone",
            "周界",
            "入侵",
        ]) {
            AlarmKind::PerimeterIntrusion
        } else if has(&["offline", "离线"]) {
            AlarmKind::DeviceOffline
        } else {
            AlarmKind::Other
        }
    }

    /// An analytics event a camera attached to a capture — GA/T 1400 `EventSort`, a
    /// two-digit video event type code of GA/T 2000.254-2019 (视频图像事件类型代码), or a
    /// behaviour described in words — as the alarm it is. `None` for routine events (a vehicle
    /// or person passing, traffic violations and jams, which are the traffic police's) and for
    /// anything not recognised: an unknown code must not turn every capture into an alarm.
    pub fn from_video_event(raw: &str) -> Option<AlarmKind> {
        let code = raw.trim();
        if code.is_empty() {
            return None;
        }
        if code.bytes().all(|b| b.is_ascii_digit()) {
            return match code.parse::<u32>().ok()? {
                3 => Some(AlarmKind::Fighting),
                4 | 7 | 9 => Some(AlarmKind::Other),
                5 | 6 => Some(AlarmKind::PerimeterIntrusion),
                8 => Some(AlarmKind::Loitering),
                11 => Some(AlarmKind::Crowding),
                // 01 vehicle passing, 02 person passing, 10 traffic violation, 12 congestion,
                // and codes this table does not know.
                _ => None,
            };
        }
        match AlarmKind::from_device(code) {
            AlarmKind::Other | AlarmKind::DeviceOffline | AlarmKind::PatrolMissed => None,
            kind => Some(kind),
        }
    }

    /// A GB/T 28181 alarm notification (`AlarmMethod`, and `AlarmType` under methods 2, 5 and
    /// 6) as an alarm kind.
    pub fn from_gb28181(method: u8, alarm_type: Option<u8>) -> AlarmKind {
        match (method, alarm_type) {
            // Telephone alarm: someone called for help.
            (1, _) => AlarmKind::Sos,
            // Device alarms: video loss and tampering; disk and temperature faults.
            (2, Some(1 | 2)) => AlarmKind::DeviceTamper,
            // Video analytics.
            (5, Some(5 | 6)) => AlarmKind::PerimeterIntrusion,
            (5, Some(8)) => AlarmKind::Loitering,
            (5, Some(10)) => AlarmKind::Crowding,
            (5, Some(11)) => AlarmKind::DeviceTamper,
            _ => AlarmKind::Other,
        }
    }

    /// The severity an alarm of this kind has unless its source says more.
    pub fn default_severity(self) -> Severity {
        use AlarmKind::*;
        match self {
            PerimeterIntrusion | DoorForced | FireSmoke | Sos | Fall | Fighting => Severity::Critical,
            DeviceTamper | Climbing | Crowding => Severity::Major,
            DoorHeldOpen | Loitering | DeviceOffline | PatrolMissed | Other => Severity::Minor,
        }
    }

    /// The severity of an alarm of this kind that its source rated `reported`: the more urgent
    /// of the two.
    pub fn severity(self, reported: Option<Severity>) -> Severity {
        reported.map_or(self.default_severity(), |r| self.default_severity().min(r))
    }
}

impl Severity {
    /// From Anfang's device protocol's level, 1 (notice) to 4 (emergency).
    pub fn from_device_level(level: u8) -> Severity {
        match level {
            4.. => Severity::Critical,
            3 => Severity::Major,
            _ => Severity::Minor,
        }
    }

    /// From GB/T 28181's alarm priority, 1 (highest) to 4.
    pub fn from_gb_priority(priority: u8) -> Severity {
        match priority {
            0 | 1 => Severity::Critical,
            2 => Severity::Major,
            _ => Severity::Minor,
        }
    }
}

impl AlarmState {
    /// Whether the alarm is closed (resolved or false).
    pub fn is_closed(self) -> bool {
        matches!(self, AlarmState::Resolved | AlarmState::FalseAlarm)
    }

    /// The state after `action`, or why it is not allowed. Dispatching and closing imply
    /// acknowledging; a closed alarm accepts nothing.
    pub fn apply(self, action: AlarmAction) -> Result<AlarmState, DomainError> {
        use AlarmAction::*;
        use AlarmState::*;
        if self.is_closed() {
            return Err(DomainError::new(
                "alarm_closed",
                format!("the alarm is already {}", self.as_str()),
            ));
        }
        match (self, action) {
            (New, Acknowledge) => Ok(Acknowledged),
            (New | Acknowledged, Dispatch) => Ok(Dispatched),
            (_, Resolve) => Ok(Resolved),
            (_, MarkFalse) => Ok(FalseAlarm),
            (from, action) => Err(DomainError::new(
                "invalid_alarm_transition",
                format!("cannot {} an alarm that is {}", action.as_str(), from.as_str()),
            )),
        }
    }
}

/// How fast an alarm must be acknowledged, and who hears of it when it is not.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSla {
    /// Milliseconds to acknowledge a critical, major and minor alarm.
    pub ack_within_ms: [i64; 3],
    /// Who is notified at each level: the first at once, the next after each missed period.
    pub chain: Vec<Role>,
}

impl Default for AlarmSla {
    /// Critical 1 min, major 5 min, minor 30 min; guard → property manager → community police.
    fn default() -> Self {
        AlarmSla {
            ack_within_ms: [60_000, 300_000, 1_800_000],
            chain: vec![Role::Guard, Role::PropertyManager, Role::CommunityPolice],
        }
    }
}

impl AlarmSla {
    /// The acknowledgement deadline for `severity`.
    pub fn ack_within(&self, severity: Severity) -> i64 {
        let i = match severity {
            Severity::Critical => 0,
            Severity::Major => 1,
            Severity::Minor => 2,
        };
        self.ack_within_ms[i].max(1)
    }

    /// The escalation level an alarm should be at now: 0 until its deadline, then one more per
    /// missed period, capped at the chain's last role. An acknowledged or closed alarm does not
    /// escalate further.
    pub fn level_at(&self, severity: Severity, raised_at: i64, now: i64) -> usize {
        let periods = (now - raised_at).max(0) / self.ack_within(severity);
        (periods as usize).min(self.chain.len().saturating_sub(1))
    }

    /// The new level and the role to notify when an alarm at `level`, still `state`, is due for
    /// escalation at `now`.
    pub fn escalation(
        &self,
        state: AlarmState,
        severity: Severity,
        raised_at: i64,
        level: usize,
        now: i64,
    ) -> Option<(usize, Role)> {
        if state != AlarmState::New {
            return None;
        }
        let due = self.level_at(severity, raised_at, now);
        (due > level).then(|| (due, self.chain[due]))
    }

    /// Whether an alarm acknowledged at `acknowledged_at` met its deadline.
    pub fn met(&self, severity: Severity, raised_at: i64, acknowledged_at: i64) -> bool {
        acknowledged_at - raised_at <= self.ack_within(severity)
    }
}

/// A repeat of an open alarm (same device, same kind, within `window_ms` of its last report)
/// is merged into it instead of raising another.
pub fn is_repeat(open_last_at: i64, open_state: AlarmState, at: i64, window_ms: i64) -> bool {
    !open_state.is_closed() && (at - open_last_at).abs() <= window_ms
}

/// A camera with a position on the community's site plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    /// The device.
    pub device_id: i64,
    /// Site-plan coordinates.
    pub x: f64,
    /// Site-plan coordinates.
    pub y: f64,
}

/// The `k` cameras nearest to (x, y), nearest first (ties by device id).
pub fn nearest_cameras(x: f64, y: f64, cameras: &[Placed], k: usize) -> Vec<(i64, f64)> {
    let mut by: Vec<(i64, f64)> = cameras
        .iter()
        .map(|c| (c.device_id, ((c.x - x).powi(2) + (c.y - y).powi(2)).sqrt()))
        .filter(|(_, d)| d.is_finite())
        .collect();
    by.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    by.truncate(k);
    by
}

/// What statistics need of one alarm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlarmFacts {
    /// Kind.
    pub kind: AlarmKind,
    /// Severity.
    pub severity: Severity,
    /// State.
    pub state: AlarmState,
    /// Raised (ms).
    pub raised_at: i64,
    /// Acknowledged (ms), also when implied by a dispatch or closing.
    pub acknowledged_at: Option<i64>,
    /// Closed (ms).
    pub closed_at: Option<i64>,
}

/// Alarm statistics of a community over a period.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct AlarmStats {
    /// Alarms raised.
    pub total: usize,
    /// Not yet acknowledged.
    pub open_new: usize,
    /// Acknowledged or dispatched, not closed.
    pub in_hand: usize,
    /// Resolved.
    pub resolved: usize,
    /// False alarms.
    pub false_alarms: usize,
    /// Acknowledged within their SLA.
    pub within_sla: usize,
    /// Acknowledged late, or still unacknowledged past their deadline.
    pub breached_sla: usize,
    /// Mean milliseconds to acknowledge (of those acknowledged).
    pub mean_ack_ms: Option<i64>,
    /// Count per kind, in `AlarmKind::ALL` order, kinds with none left out.
    pub by_kind: Vec<(AlarmKind, usize)>,
}

/// Statistics of `alarms` at `now` under `sla`.
pub fn alarm_stats(alarms: &[AlarmFacts], sla: &AlarmSla, now: i64) -> AlarmStats {
    let mut s = AlarmStats {
        total: alarms.len(),
        ..AlarmStats::default()
    };
    let mut ack_sum = 0i64;
    let mut acked = 0i64;
    for a in alarms {
        match a.state {
            AlarmState::New => s.open_new += 1,
            AlarmState::Acknowledged | AlarmState::Dispatched => s.in_hand += 1,
            AlarmState::Resolved => s.resolved += 1,
            AlarmState::FalseAlarm => s.false_alarms += 1,
        }
        match a.acknowledged_at {
            Some(at) => {
                ack_sum += at - a.raised_at;
                acked += 1;
                if sla.met(a.severity, a.raised_at, at) {
                    s.within_sla += 1;
                } else {
                    s.breached_sla += 1;
                }
            }
            None if now - a.raised_at > sla.ack_within(a.severity) => s.breached_sla += 1,
            None => {}
        }
    }
    s.mean_ack_ms = (acked > 0).then(|| ack_sum / acked);
    s.by_kind = AlarmKind::ALL
        .iter()
        .map(|k| (*k, alarms.iter().filter(|a| a.kind == *k).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_kinds_are_read_tolerantly() {
        assert_eq!(
            AlarmKind::from_device("perimeter_intrusion"),
            AlarmKind::PerimeterIntrusion
        );
        assert_eq!(AlarmKind::from_device("周界入侵"), AlarmKind::PerimeterIntrusion);
        assert_eq!(
            AlarmKind::from_device("LineCrossing"),
            AlarmKind::PerimeterIntrusion
        );
        assert_eq!(AlarmKind::from_device("tamper"), AlarmKind::DeviceTamper);
        assert_eq!(AlarmKind::from_device("Smoke-Detected"), AlarmKind::FireSmoke);
        assert_eq!(AlarmKind::from_device("SOS"), AlarmKind::Sos);
        assert_eq!(AlarmKind::from_device("loitering"), AlarmKind::Loitering);
        assert_eq!(AlarmKind::from_device("door forced"), AlarmKind::DoorForced);
        assert_eq!(AlarmKind::from_device("held_open"), AlarmKind::DoorHeldOpen);
        assert_eq!(AlarmKind::from_device("人员聚集"), AlarmKind::Crowding);
        assert_eq!(AlarmKind::from_device("fall_detection"), AlarmKind::Fall);
        assert_eq!(AlarmKind::from_device("打架斗殴"), AlarmKind::Fighting);
    }

    #[test]
    fn camera_analytics_events_become_alarms_and_routine_ones_do_not() {
        // GA/T 2000.254 codes.
        assert_eq!(AlarmKind::from_video_event("03"), Some(AlarmKind::Fighting));
        assert_eq!(
            AlarmKind::from_video_event("05"),
            Some(AlarmKind::PerimeterIntrusion)
        );
        assert_eq!(
            AlarmKind::from_video_event("6"),
            Some(AlarmKind::PerimeterIntrusion)
        );
        assert_eq!(AlarmKind::from_video_event("08"), Some(AlarmKind::Loitering));
        assert_eq!(AlarmKind::from_video_event(" 11 "), Some(AlarmKind::Crowding));
        assert_eq!(AlarmKind::from_video_event("04"), Some(AlarmKind::Other));
        for routine in ["01", "02", "10", "12", "0", "", "99"] {
            assert_eq!(AlarmKind::from_video_event(routine), None, "{routine}");
        }
        // Words, as behaviour descriptions carry them.
        assert_eq!(AlarmKind::from_video_event("攀爬围墙"), Some(AlarmKind::Climbing));
        assert_eq!(
            AlarmKind::from_video_event("Fall detected"),
            Some(AlarmKind::Fall)
        );
        assert_eq!(AlarmKind::from_video_event("正常行走"), None);
        assert_eq!(AlarmKind::from_video_event("offline"), None);
    }

    #[test]
    fn gb28181_alarm_methods_and_types_are_mapped() {
        assert_eq!(AlarmKind::from_gb28181(5, Some(6)), AlarmKind::PerimeterIntrusion);
        assert_eq!(AlarmKind::from_gb28181(5, Some(5)), AlarmKind::PerimeterIntrusion);
        assert_eq!(AlarmKind::from_gb28181(5, Some(8)), AlarmKind::Loitering);
        assert_eq!(AlarmKind::from_gb28181(5, Some(10)), AlarmKind::Crowding);
        assert_eq!(AlarmKind::from_gb28181(2, Some(2)), AlarmKind::DeviceTamper);
        assert_eq!(AlarmKind::from_gb28181(2, Some(1)), AlarmKind::DeviceTamper);
        assert_eq!(AlarmKind::from_gb28181(1, None), AlarmKind::Sos);
        assert_eq!(AlarmKind::from_gb28181(5, Some(2)), AlarmKind::Other);
        assert_eq!(AlarmKind::from_gb28181(6, Some(1)), AlarmKind::Other);
    }

    #[test]
    fn severity_is_the_more_urgent_of_kind_and_device() {
        assert_eq!(AlarmKind::FireSmoke.severity(None), Severity::Critical);
        let device = |level| Some(Severity::from_device_level(level));
        assert_eq!(AlarmKind::FireSmoke.severity(device(1)), Severity::Critical);
        assert_eq!(AlarmKind::Loitering.severity(device(4)), Severity::Critical);
        assert_eq!(AlarmKind::Loitering.severity(device(3)), Severity::Major);
        assert_eq!(AlarmKind::Loitering.severity(None), Severity::Minor);
        assert_eq!(Severity::from_gb_priority(1), Severity::Critical);
        assert_eq!(Severity::from_gb_priority(4), Severity::Minor);
        assert!(Severity::Critical < Severity::Minor);
    }

    #[test]
    fn the_lifecycle_allows_only_forward_steps() {
        use AlarmAction::*;
        use AlarmState::*;
        assert_eq!(New.apply(Acknowledge), Ok(Acknowledged));
        assert_eq!(New.apply(Dispatch), Ok(Dispatched));
        assert_eq!(Acknowledged.apply(Dispatch), Ok(Dispatched));
        assert_eq!(Dispatched.apply(Resolve), Ok(Resolved));
        assert_eq!(New.apply(MarkFalse), Ok(FalseAlarm));
        assert_eq!(
            Acknowledged.apply(Acknowledge).unwrap_err().code,
            "invalid_alarm_transition"
        );
        assert_eq!(
            Dispatched.apply(Dispatch).unwrap_err().code,
            "invalid_alarm_transition"
        );
        assert_eq!(Resolved.apply(Resolve).unwrap_err().code, "alarm_closed");
        assert_eq!(FalseAlarm.apply(Acknowledge).unwrap_err().code, "alarm_closed");
    }

    #[test]
    fn an_unacknowledged_alarm_climbs_the_chain_one_period_at_a_time() {
        let sla = AlarmSla::default();
        let t0 = 1_000_000;
        let critical = Severity::Critical;
        assert_eq!(
            sla.escalation(AlarmState::New, critical, t0, 0, t0 + 59_999),
            None
        );
        assert_eq!(
            sla.escalation(AlarmState::New, critical, t0, 0, t0 + 60_000),
            Some((1, Role::PropertyManager))
        );
        // Already at level 1: nothing new until the second period ends.
        assert_eq!(
            sla.escalation(AlarmState::New, critical, t0, 1, t0 + 119_999),
            None
        );
        assert_eq!(
            sla.escalation(AlarmState::New, critical, t0, 1, t0 + 120_000),
            Some((2, Role::CommunityPolice))
        );
        // Capped at the chain's end.
        assert_eq!(
            sla.escalation(AlarmState::New, critical, t0, 2, t0 + 10_000_000),
            None
        );
        // Acknowledged alarms do not escalate; minor ones wait 30 minutes.
        assert_eq!(
            sla.escalation(AlarmState::Acknowledged, critical, t0, 0, t0 + 600_000),
            None
        );
        assert_eq!(
            sla.escalation(AlarmState::New, Severity::Minor, t0, 0, t0 + 600_000),
            None
        );
    }

    #[test]
    fn repeats_merge_only_into_open_alarms_within_the_window() {
        assert!(is_repeat(1000, AlarmState::New, 30_000, 60_000));
        assert!(is_repeat(1000, AlarmState::Dispatched, 61_000, 60_000));
        assert!(!is_repeat(1000, AlarmState::New, 61_001, 60_000));
        assert!(!is_repeat(1000, AlarmState::Resolved, 2000, 60_000));
    }

    #[test]
    fn nearest_cameras_are_ranked_by_distance() {
        let cams = [
            Placed {
                device_id: 1,
                x: 0.0,
                y: 0.0,
            },
            Placed {
                device_id: 2,
                x: 10.0,
                y: 0.0,
            },
            Placed {
                device_id: 3,
                x: 3.0,
                y: 4.0,
            },
            Placed {
                device_id: 4,
                x: f64::NAN,
                y: 0.0,
            },
        ];
        let near = nearest_cameras(4.0, 4.0, &cams, 2);
        assert_eq!(near.iter().map(|c| c.0).collect::<Vec<_>>(), vec![3, 1]);
        assert!((near[0].1 - 1.0).abs() < 1e-9);
    }

    #[test]
    fn statistics_count_states_and_the_sla() {
        let sla = AlarmSla::default();
        let a = |kind, state, raised_at, acknowledged_at| AlarmFacts {
            kind,
            severity: AlarmKind::severity(kind, None),
            state,
            raised_at,
            acknowledged_at,
            closed_at: None,
        };
        let alarms = [
            a(AlarmKind::Sos, AlarmState::Resolved, 0, Some(30_000)),
            a(AlarmKind::Sos, AlarmState::Dispatched, 0, Some(90_000)),
            a(AlarmKind::Loitering, AlarmState::FalseAlarm, 0, Some(60_000)),
            a(AlarmKind::FireSmoke, AlarmState::New, 0, None),
            a(AlarmKind::DoorHeldOpen, AlarmState::New, 0, None),
        ];
        let s = alarm_stats(&alarms, &sla, 100_000);
        assert_eq!(
            (s.total, s.open_new, s.in_hand, s.resolved, s.false_alarms),
            (5, 2, 1, 1, 1)
        );
        // Sos 30 s and loitering 60 s met; Sos 90 s breached; fire unacknowledged for 100 s
        // breached; door held open (30 min) not yet due.
        assert_eq!((s.within_sla, s.breached_sla), (2, 2));
        assert_eq!(s.mean_ack_ms, Some(60_000));
        assert_eq!(s.by_kind[0], (AlarmKind::DoorHeldOpen, 1));
        assert_eq!(s.by_kind.iter().map(|k| k.1).sum::<usize>(), 5);
    }
}
