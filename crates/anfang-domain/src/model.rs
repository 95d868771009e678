//! The registry's vocabulary as closed enums: community categories from the Yiyuan and Zhangdian
//! documents, house uses, population types, person–house roles, device kinds and protocols,
//! place kinds, user roles and their permissions.
//!
//! Every enum has a stable snake_case wire/storage name (`as_str`/`parse`) and a Chinese label
//! for exports and templates (`label_zh`); `parse` also accepts the Chinese label, so a
//! spreadsheet filled in by hand imports.

use crate::DomainError;

/// Declares a closed string enum with its snake_case name and Chinese label, `as_str`,
/// `label_zh`, `parse` (accepting either form), `ALL` and serde support.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $code:literal, { $($(#[$vmeta:meta])* $variant:ident => ($s:literal, $zh:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable snake_case name used on the wire and in storage.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            /// The Chinese label shown to users and written in spreadsheets.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            /// Parses the snake_case name or the Chinese label.
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                let raw = raw.trim();
                $(if raw == $s || raw == $zh { return Ok($name::$variant); })+
                let allowed: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                Err(DomainError::new($code, format!("'{raw}' is not one of: {}", allowed.join(", "))))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// A community's category, which decides the devices it must have (Yiyuan opinions §2).
    CommunityCategory, "invalid_category", {
    /// 新建小区: face access on every unit door, plate gates, relay video coverage.
    NewBuilt => ("new_built", "新建小区"),
    /// 既有封闭式小区: face/plate at entrances, perimeter, patrol, smart booth when unattended.
    ExistingClosed => ("existing_closed", "既有封闭式小区"),
    /// 开放式/半封闭式老旧小区 that can be closed (Zhangdian's 37): face access and gates.
    OpenClosable => ("open_closable", "开放式可封闭小区"),
    /// Open old communities that get video monitoring only (Zhangdian's 173).
    OpenVideoOnly => ("open_video_only", "开放式视频监控小区"),
    /// 村居: built under the village committee, capabilities of the open category.
    Village => ("village", "村居"),
});

string_enum!(
    /// A community's property type, the split the Zhangdian targets use.
    PropertyType, "invalid_property_type", {
    /// 商品房小区.
    Commercial => ("commercial", "商品房小区"),
    /// 老旧小区.
    Old => ("old", "老旧小区"),
    /// 村居.
    Village => ("village", "村居"),
});

string_enum!(
    /// Whether a committee is an urban residents' committee or a village committee.
    CommitteeKind, "invalid_committee_kind", {
    /// 社区居委会.
    Residents => ("residents", "社区居委会"),
    /// 村委会.
    Village => ("village", "村委会"),
});

string_enum!(
    /// How a house is used (实有房屋).
    HouseUse, "invalid_house_use", {
    /// 自住.
    OwnerOccupied => ("owner_occupied", "自住"),
    /// 出租.
    Rented => ("rented", "出租"),
    /// 空置.
    Vacant => ("vacant", "空置"),
    /// 商用.
    Commercial => ("commercial", "商用"),
});

string_enum!(
    /// Registered (户籍) or floating (流动) population.
    PopulationType, "invalid_population_type", {
    /// 户籍人口.
    Registered => ("registered", "户籍"),
    /// 流动人口.
    Floating => ("floating", "流动"),
});

string_enum!(
    /// A person's relation to a house.
    HouseRole, "invalid_house_role", {
    /// 业主.
    Owner => ("owner", "业主"),
    /// 家属.
    Family => ("family", "家属"),
    /// 租户: has a lease start and end.
    Tenant => ("tenant", "租户"),
    /// 工作人员 (e.g. a shop's staff).
    Staff => ("staff", "工作人员"),
});

string_enum!(
    /// What a device is.
    DeviceKind, "invalid_device_kind", {
    /// 人脸识别门禁终端 at a unit door or pedestrian entrance.
    FaceDoorTerminal => ("face_door_terminal", "人脸门禁终端"),
    /// 门禁控制器 (card/PIN/QR readers).
    DoorController => ("door_controller", "门禁控制器"),
    /// 车牌识别道闸 at a vehicle lane.
    BarrierGate => ("barrier_gate", "道闸车牌识别"),
    /// 人脸抓拍机.
    FaceCaptureCamera => ("face_capture_camera", "人脸抓拍机"),
    /// 车牌抓拍机 (roads in and out of open communities).
    PlateCaptureCamera => ("plate_capture_camera", "车牌抓拍机"),
    /// 视频摄像机.
    VideoCamera => ("video_camera", "视频摄像机"),
    /// 硬盘录像机 with channels.
    Nvr => ("nvr", "NVR"),
    /// 周界探测器.
    PerimeterSensor => ("perimeter_sensor", "周界探测器"),
    /// 一键报警按钮.
    AlarmButton => ("alarm_button", "报警按钮"),
    /// 电子巡查点.
    PatrolCheckpoint => ("patrol_checkpoint", "巡更点"),
    /// 巡更棒: a guard's hand-held reader that scans checkpoints and uploads the scans.
    PatrolReader => ("patrol_reader", "巡更棒"),
    /// 智能岗亭 with one-key call.
    SmartBooth => ("smart_booth", "智能岗亭"),
});

string_enum!(
    /// The protocol a device speaks to the platform.
    DeviceProtocol, "invalid_protocol", {
    /// Anfang's device protocol over MQTT.
    Mqtt => ("mqtt", "MQTT"),
    /// Anfang's device protocol over HTTP push.
    HttpPush => ("http_push", "HTTP推送"),
    /// GA/T 1400 视图库.
    Gat1400 => ("gat1400", "GA/T 1400"),
    /// GB/T 28181 SIP.
    Gb28181 => ("gb28181", "GB/T 28181"),
});

string_enum!(
    /// A place on a community's site plan that devices serve and features compute on.
    PlaceKind, "invalid_place_kind", {
    /// 人行出入口.
    PedestrianEntrance => ("pedestrian_entrance", "人行出入口"),
    /// 车行出入口.
    VehicleEntrance => ("vehicle_entrance", "车行出入口"),
    /// 车道 (one lane of a vehicle entrance).
    VehicleLane => ("vehicle_lane", "车道"),
    /// 停车场.
    CarPark => ("car_park", "停车场"),
    /// 地库出入口.
    GarageEntrance => ("garage_entrance", "地库出入口"),
    /// 单元门.
    UnitDoor => ("unit_door", "单元门"),
    /// 周界防区.
    PerimeterZone => ("perimeter_zone", "周界防区"),
    /// 道路点位 (open communities' roads in and out, key nodes).
    RoadPoint => ("road_point", "道路点位"),
});

string_enum!(
    /// A user's role. What each may do is [`Role::allows`]; where, is the user's scope.
    Role, "invalid_role", {
    /// 区级管理员.
    DistrictAdmin => ("district_admin", "区级管理员"),
    /// 街道干部.
    StreetOfficer => ("street_officer", "街道干部"),
    /// 社区民警.
    CommunityPolice => ("community_police", "社区民警"),
    /// 网格员.
    GridWorker => ("grid_worker", "网格员"),
    /// 派出所民警.
    StationOfficer => ("station_officer", "派出所民警"),
    /// 政法委.
    PoliticalLegal => ("political_legal", "政法委"),
    /// 住建部门.
    HousingConstruction => ("housing_construction", "住建部门"),
    /// 大数据中心 (read-only data sharing).
    BigDataCentre => ("big_data_centre", "大数据中心"),
    /// 物业经理.
    PropertyManager => ("property_manager", "物业经理"),
    /// 保安.
    Guard => ("guard", "保安"),
    /// 居民: sees only their own house.
    Resident => ("resident", "居民"),
    /// 审计员.
    Auditor => ("auditor", "审计员"),
    /// 收费员: a property company's cashier, who takes property-fee payments.
    Cashier => ("cashier", "收费员"),
});

/// Something a role may be allowed to do. Where it may do it is a separate question,
/// answered by the user's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read streets, communities, buildings, units, houses, places.
    ReadTree,
    /// Create or change them.
    WriteTree,
    /// Read persons (masked personal data).
    ReadPersons,
    /// Create or change persons and their house relations.
    WritePersons,
    /// Read ID and phone numbers unmasked (each read is audited).
    RevealPii,
    /// Read vehicles.
    ReadVehicles,
    /// Create or change vehicles.
    WriteVehicles,
    /// Read devices.
    ReadDevices,
    /// Register or assign devices.
    WriteDevices,
    /// Bulk import and export of houses, persons, vehicles.
    ImportExport,
    /// Read the audit log.
    ReadAudit,
    /// Create users.
    ManageUsers,
    /// Invite visitors (residents for their own house, staff for their communities).
    InviteVisitors,
    /// Collect and refund parking fees, set tariffs.
    ManageParking,
    /// Read the police watch-lists (dispositions) and their hits: police only, never
    /// property staff or administrators.
    ReadWatchlists,
    /// Read alarms and their statistics.
    ReadAlarms,
    /// Acknowledge, dispatch, resolve alarms or mark them false.
    HandleAlarms,
    /// Create and change patrol routes, their checkpoints, times and guards (reading rounds
    /// and reports needs [`Permission::ReadAlarms`]).
    ManagePatrol,
    /// Set a community's early-warning thresholds (police and district administrators; who
    /// sees which warnings is `warning::Audience`).
    ConfigureWarnings,
    /// Read the district programme: projects, compliance, networking, progress, assessment.
    ReadProgramme,
    /// Run the programme: projects and stages, funding, acceptance requests, tickets; district
    /// settings (targets, formulas, weights) need the district scope as well.
    ManageProgramme,
    /// Sign an acceptance for a responsible department (public security, housing and
    /// construction).
    SignAcceptance,
    /// Read property-fee bills, payments, receipts, arrears and fee reports (residents: their
    /// own house's only, by their scope). Fees are the property company's business: police and
    /// government roles do not see them.
    ReadFees,
    /// Set up fees: items and prices, discounts and exemptions, move-in/move-out, meter readings,
    /// settings; generate and adjust bills; refund payments; send reminders; close any cashier's
    /// day.
    ManageFees,
    /// Take payments (cash, transfer, online orders) with receipts, and close one's own cash
    /// book at day end.
    CollectFees,
}

impl Role {
    /// Whether this role may do `permission` (within its scope).
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match self {
            DistrictAdmin => !matches!(
                permission,
                RevealPii
                    | InviteVisitors
                    | ReadWatchlists
                    | SignAcceptance
                    | ReadFees
                    | ManageFees
                    | CollectFees
            ),
            StreetOfficer => {
                matches!(
                    permission,
                    ReadTree
                        | ReadPersons
                        | WritePersons
                        | ReadVehicles
                        | ReadDevices
                        | ReadAlarms
                        | ReadProgramme
                        | ManageProgramme
                )
            }
            CommunityPolice => matches!(
                permission,
                ReadTree
                    | ReadPersons
                    | WritePersons
                    | RevealPii
                    | ReadVehicles
                    | WriteVehicles
                    | ReadDevices
                    | ImportExport
                    | ReadWatchlists
                    | ReadAlarms
                    | HandleAlarms
                    | ConfigureWarnings
                    | ReadProgramme
                    | SignAcceptance
            ),
            GridWorker => matches!(
                permission,
                ReadTree | ReadPersons | WritePersons | RevealPii | ReadVehicles | ImportExport | ReadAlarms
            ),
            StationOfficer => {
                matches!(
                    permission,
                    ReadTree
                        | ReadPersons
                        | RevealPii
                        | ReadVehicles
                        | ReadDevices
                        | ReadWatchlists
                        | ReadAlarms
                        | HandleAlarms
                        | ConfigureWarnings
                        | ReadProgramme
                        | SignAcceptance
                )
            }
            PoliticalLegal => matches!(
                permission,
                ReadTree | ReadDevices | ReadAlarms | ReadProgramme | ManageProgramme
            ),
            HousingConstruction => matches!(
                permission,
                ReadTree | ReadDevices | ReadProgramme | SignAcceptance
            ),
            BigDataCentre => matches!(
                permission,
                ReadTree | ReadPersons | ReadVehicles | ReadDevices | ReadProgramme
            ),
            PropertyManager => !matches!(
                permission,
                ReadAudit
                    | ManageUsers
                    | ReadWatchlists
                    | ConfigureWarnings
                    | ManageProgramme
                    | SignAcceptance
            ),
            Guard => matches!(
                permission,
                ReadTree
                    | ReadPersons
                    | ReadVehicles
                    | ReadDevices
                    | InviteVisitors
                    | ManageParking
                    | ReadAlarms
                    | HandleAlarms
            ),
            Resident => matches!(
                permission,
                ReadTree | ReadPersons | ReadVehicles | InviteVisitors | ReadFees
            ),
            Auditor => matches!(permission, ReadAudit),
            Cashier => matches!(permission, ReadTree | ReadFees | CollectFees),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_their_names_and_chinese_labels() {
        for category in CommunityCategory::ALL {
            assert_eq!(CommunityCategory::parse(category.as_str()).unwrap(), *category);
            assert_eq!(CommunityCategory::parse(category.label_zh()).unwrap(), *category);
        }
        let err = HouseUse::parse("palace").unwrap_err();
        assert_eq!(err.code, "invalid_house_use");
        assert!(err.message.contains("owner_occupied"));
    }

    #[test]
    fn display_uses_snake_case_names() {
        assert_eq!(Role::CommunityPolice.to_string(), "community_police");
        assert_eq!(DeviceKind::parse("智能岗亭").unwrap(), DeviceKind::SmartBooth);
    }

    #[test]
    fn nobody_but_auditors_and_admins_reads_the_audit_log() {
        let readers: Vec<Role> = Role::ALL
            .iter()
            .copied()
            .filter(|r| r.allows(Permission::ReadAudit))
            .collect();
        assert_eq!(readers, vec![Role::DistrictAdmin, Role::Auditor]);
        assert!(!Role::DistrictAdmin.allows(Permission::RevealPii));
        assert!(!Role::Guard.allows(Permission::RevealPii));
        assert!(Role::CommunityPolice.allows(Permission::RevealPii));
    }

    #[test]
    fn fees_are_the_property_companys_and_residents_alone() {
        use Permission::*;
        let who =
            |p: Permission| -> Vec<Role> { Role::ALL.iter().copied().filter(|r| r.allows(p)).collect() };
        assert_eq!(
            who(ReadFees),
            vec![Role::PropertyManager, Role::Resident, Role::Cashier]
        );
        assert_eq!(who(CollectFees), vec![Role::PropertyManager, Role::Cashier]);
        assert_eq!(who(ManageFees), vec![Role::PropertyManager]);
    }
}
