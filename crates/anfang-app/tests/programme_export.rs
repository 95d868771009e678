//! The district programme's spreadsheet exports read back cell by cell: on a small district of
//! two streets and three communities (projects at different stages, devices that report and
//! devices that go offline, targets of the district and of a street), the task table, the
//! progress report and the street assessment are exported, opened with calamine and compared
//! with the rows the JSON reports return — every text, count and percentage, the row counts,
//! the street cells merged over their communities — and the exports are audited and refused
//! outside the caller's role and scope like the reports themselves.

mod common;

use std::collections::BTreeMap;
use std::io::Cursor;

use anfang_app::access::{DeviceEvent, DeviceEventKind, Presented};
use anfang_app::maintenance::StreetScore;
use anfang_app::programme::{CreateProject, MoveStage, ProgressRow, TargetSpec, TaskRow};
use anfang_app::programme_export::{ASSESSMENT_TITLE, FIRST_DATA_ROW, PROGRESS_TITLE, TASK_TABLE_TITLE};
use anfang_app::registry::{CreateCommittee, CreateCommunity, CreateDevice, CreatePlace, CreateStreet};
use anfang_app::store::Page;
use anfang_app::{App, AppConfig, AppError, Principal};
use anfang_base::{Clock, SimClock};
use anfang_domain::programme::TargetMetric;
use calamine::{Data, Dimensions, Reader, Xlsx};
use common::{T0, user};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
const DISTRICT: &str = "370323";

// ---------------------------------------------------------------------------------------------
// Reading a workbook back
// ---------------------------------------------------------------------------------------------

/// One sheet as read: its cells by (row, column), 0-based, and its merged regions.
struct Sheet {
    cells: BTreeMap<(u32, u32), Data>,
    merges: Vec<Dimensions>,
}

impl Sheet {
    /// Opens `bytes`, which must hold exactly one sheet, named `name`.
    fn open(bytes: &[u8], name: &str) -> Sheet {
        let mut book = Xlsx::new(Cursor::new(bytes.to_vec())).expect("a readable .xlsx");
        assert_eq!(book.sheet_names(), vec![name.to_string()]);
        let merges = book.merge_cells_by_sheet_name(name).unwrap();
        let range = book.worksheet_range(name).unwrap();
        let mut cells = BTreeMap::new();
        for (r, c, value) in range.used_cells() {
            let (r0, c0) = range.start().unwrap();
            cells.insert((r0 + r as u32, c0 + c as u32), value.clone());
        }
        Sheet { cells, merges }
    }

    /// The value shown at (r, c): a cell inside a merged region shows the region's first cell.
    fn at(&self, r: u32, c: u32) -> Data {
        let (r, c) = self
            .merges
            .iter()
            .find(|m| (m.start.0..=m.end.0).contains(&r) && (m.start.1..=m.end.1).contains(&c))
            .map_or((r, c), |m| m.start);
        self.cells.get(&(r, c)).cloned().unwrap_or(Data::Empty)
    }

    /// A text cell, or none when empty; anything else fails.
    fn text(&self, r: u32, c: u32) -> Option<String> {
        match self.at(r, c) {
            Data::String(s) => Some(s),
            Data::Empty => None,
            other => panic!("({r}, {c}) should be text, holds {other:?}"),
        }
    }

    /// A numeric cell, or none when empty; anything else (text in particular) fails.
    fn num(&self, r: u32, c: u32) -> Option<f64> {
        match self.at(r, c) {
            Data::Float(f) => Some(f),
            Data::Int(i) => Some(i as f64),
            Data::Empty => None,
            other => panic!("({r}, {c}) should be a number, holds {other:?}"),
        }
    }

    /// The last row holding a value plus one (title and header included).
    fn height(&self) -> u32 {
        self.cells.keys().map(|(r, _)| r + 1).max().unwrap_or(0)
    }

    /// Checks the title row (merged over every column) and the header row.
    fn check_frame(&self, title: &str, headers: &[&str]) {
        assert_eq!(self.text(0, 0).as_deref(), Some(title));
        let last = headers.len() as u32 - 1;
        assert!(
            self.merges
                .iter()
                .any(|m| m.start == (0, 0) && m.end == (0, last)),
            "the title is merged over the table: {:?}",
            self.merges
        );
        let read: Vec<String> = (0..headers.len() as u32)
            .map(|c| self.text(1, c).unwrap_or_default())
            .collect();
        assert_eq!(read, headers);
        assert_eq!(
            self.at(1, last + 1),
            Data::Empty,
            "no column past the last header"
        );
    }
}

/// A count as the cell must hold it.
fn n(v: u64) -> Option<f64> {
    Some(v as f64)
}

/// Percentages (and fractions) agree to the cell's two shown decimals.
fn close(cell: Option<f64>, row: Option<f64>, what: &str) {
    match (cell, row) {
        (None, None) => {}
        (Some(a), Some(b)) => assert!((a - b).abs() < 0.005, "{what}: cell {a}, row {b}"),
        _ => panic!("{what}: cell {cell:?}, row {row:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The expected layout, spelled out
// ---------------------------------------------------------------------------------------------

const TASK_HEADERS: [&str; 13] = [
    "街道",
    "社区编码",
    "社区（小区）",
    "类别",
    "资金方式",
    "计划年度",
    "阶段",
    "阶段日期",
    "应配点位",
    "已配",
    "已联网",
    "缺项",
    "设备联网率(%)",
];

const PROGRESS_HEADERS: [&str; 15] = [
    "层级",
    "编码",
    "名称",
    "年度",
    "范围",
    "指标",
    "目标(%)",
    "目标来源",
    "分项合计(%)",
    "社区数",
    "计划数",
    "完成数",
    "完成率(%)",
    "差额",
    "当前已覆盖",
];

const ASSESSMENT_HEADERS: [&str; 19] = [
    "街道编码",
    "街道",
    "月份",
    "覆盖率指标",
    "联网率指标",
    "报警处置及时率",
    "运维及时率",
    "数据质量",
    "综合得分",
    "社区数",
    "已建成",
    "目标(%)",
    "报警数",
    "及时处置",
    "工单数",
    "及时修复",
    "设备数",
    "已联网设备",
    "已定位设备",
];

/// Checks a task-table workbook against the rows, cell by cell.
fn check_task_table(bytes: &[u8], rows: &[TaskRow]) -> Sheet {
    let s = Sheet::open(bytes, "任务表");
    s.check_frame(TASK_TABLE_TITLE, &TASK_HEADERS);
    assert_eq!(
        s.height(),
        FIRST_DATA_ROW + rows.len() as u32,
        "one line per community"
    );
    for (i, row) in rows.iter().enumerate() {
        let r = FIRST_DATA_ROW + i as u32;
        assert_eq!(s.text(r, 0), Some(row.street.clone()), "row {r}");
        assert_eq!(s.text(r, 1), Some(row.code.clone()));
        assert_eq!(s.text(r, 2), Some(row.community.clone()));
        assert_eq!(s.text(r, 3).as_deref(), Some(row.category.label_zh()));
        assert_eq!(s.text(r, 4).as_deref(), row.funding_mode.map(|m| m.label_zh()));
        assert_eq!(s.num(r, 5), row.planned_year.map(f64::from));
        assert_eq!(s.text(r, 6).as_deref(), row.stage.map(|st| st.label_zh()));
        assert_eq!(s.text(r, 7), row.stage_date.clone());
        assert_eq!(s.num(r, 8), n(row.required));
        assert_eq!(s.num(r, 9), n(row.met));
        assert_eq!(s.num(r, 10), n(row.networked));
        let gaps = (!row.gaps.is_empty()).then(|| row.gaps.join("；"));
        assert_eq!(s.text(r, 11), gaps);
        close(s.num(r, 12), row.networked_pct, "设备联网率");
    }
    s
}

/// Checks a progress workbook against the rows, cell by cell.
fn check_progress(bytes: &[u8], rows: &[ProgressRow]) {
    let s = Sheet::open(bytes, "目标完成情况");
    s.check_frame(PROGRESS_TITLE, &PROGRESS_HEADERS);
    assert_eq!(s.height(), FIRST_DATA_ROW + rows.len() as u32);
    for (i, row) in rows.iter().enumerate() {
        let r = FIRST_DATA_ROW + i as u32;
        let level = match row.level {
            "district" => "区县",
            "street" => "街道",
            other => panic!("unexpected level {other}"),
        };
        assert_eq!(s.text(r, 0).as_deref(), Some(level), "row {r}");
        assert_eq!(s.text(r, 1), Some(row.code.clone()));
        assert_eq!(s.text(r, 2), Some(row.name.clone()));
        assert_eq!(s.num(r, 3), Some(f64::from(row.year)));
        assert_eq!(s.text(r, 4), Some(row.segment_label.clone()));
        let metric = match row.metric {
            TargetMetric::Built => "建成",
            TargetMetric::Networked => "联网",
        };
        assert_eq!(s.text(r, 5).as_deref(), Some(metric));
        close(s.num(r, 6), row.target_pct, "目标");
        let from = row.target_from.as_deref().map(|f| match f {
            "own" => "本级".to_string(),
            code => format!("沿用{code}"),
        });
        assert_eq!(s.text(r, 7), from);
        close(s.num(r, 8), row.sum_of_parts_pct, "分项合计");
        assert_eq!(s.num(r, 9), n(row.communities));
        assert_eq!(s.num(r, 10), n(row.planned));
        assert_eq!(s.num(r, 11), n(row.reached));
        close(s.num(r, 12), row.reached_pct, "完成率");
        assert_eq!(s.num(r, 13), row.short_of_target.and_then(n));
        assert_eq!(s.num(r, 14), row.covered_now.and_then(n));
    }
}

/// Checks an assessment workbook against the rows, cell by cell.
fn check_assessment(bytes: &[u8], month: &str, rows: &[StreetScore]) {
    let s = Sheet::open(bytes, "街道考核");
    s.check_frame(&format!("{ASSESSMENT_TITLE}（{month}）"), &ASSESSMENT_HEADERS);
    assert_eq!(s.height(), FIRST_DATA_ROW + rows.len() as u32);
    for (i, row) in rows.iter().enumerate() {
        let r = FIRST_DATA_ROW + i as u32;
        let ind = &row.indicators;
        assert_eq!(s.text(r, 0), Some(row.street_code.clone()), "row {r}");
        assert_eq!(s.text(r, 1), Some(row.street_name.clone()));
        assert_eq!(s.text(r, 2), Some(row.month.clone()));
        close(s.num(r, 3), ind.coverage, "覆盖率指标");
        close(s.num(r, 4), ind.networking, "联网率指标");
        close(s.num(r, 5), ind.alarm_sla, "报警处置及时率");
        close(s.num(r, 6), ind.maintenance_sla, "运维及时率");
        close(s.num(r, 7), ind.data_quality, "数据质量");
        close(s.num(r, 8), row.score, "综合得分");
        assert_eq!(s.num(r, 9), n(row.communities));
        assert_eq!(s.num(r, 10), n(row.built));
        close(s.num(r, 11), row.target_pct, "目标");
        assert_eq!(s.num(r, 12), n(row.alarms));
        assert_eq!(s.num(r, 13), n(row.alarms_in_sla));
        assert_eq!(s.num(r, 14), n(row.tickets));
        assert_eq!(s.num(r, 15), n(row.tickets_in_sla));
        assert_eq!(s.num(r, 16), n(row.devices.installed));
        assert_eq!(s.num(r, 17), n(row.devices.networked));
        assert_eq!(s.num(r, 18), n(row.located));
    }
}

// ---------------------------------------------------------------------------------------------
// The fixture
// ---------------------------------------------------------------------------------------------

async fn place(app: &App, admin: &Principal, community: i64, kind: &str, name: &str) -> i64 {
    app.create_place(
        admin,
        &CreatePlace {
            community_id: community,
            kind: kind.into(),
            name: name.into(),
            x: 10.0,
            y: 10.0,
            attended: true,
            unit_id: None,
        },
    )
    .await
    .unwrap()
    .id
}

async fn device(app: &App, admin: &Principal, code: &str, kind: &str, community: i64, place: Option<i64>) {
    app.create_device(
        Some(admin),
        &CreateDevice {
            code: code.into(),
            kind: kind.into(),
            protocol: "mqtt".into(),
            community_id: Some(community),
            place_id: place,
            x: Some(10.0),
            y: Some(10.0),
            contractor: Some("甲安防工程公司".into()),
            ..CreateDevice::default()
        },
    )
    .await
    .unwrap();
}

fn card(id: &str, at: i64) -> DeviceEvent {
    DeviceEvent {
        event_id: id.into(),
        at_ms: at,
        kind: DeviceEventKind::Credential {
            presented: Presented::Card("CA0D0001".into()),
            decided_locally: None,
        },
        body_json: "{}".into(),
        images: Vec::new(),
    }
}

fn heartbeat(id: &str, at: i64) -> DeviceEvent {
    DeviceEvent {
        event_id: id.into(),
        at_ms: at,
        kind: DeviceEventKind::Heartbeat {
            firmware: "1.0".into(),
            library_version: 0,
            accepts: None,
        },
        body_json: "{}".into(),
        images: Vec::new(),
    }
}

/// District 370323: 历山街道 with 测试小区 (kit 3 of 4, project tendered) and 东城花园 (nothing,
/// no project); 南麻街道 with the village 南麻村 (a camera at its entrance, project planned for
/// 2027). Targets: the district's for 2026 (all 80 %, commercial 60 %) and 2027 (networked
/// 90 %), and 南麻街道's own for 2026 (50 %). Returns the gate's code.
async fn fixture(app: &App, admin: &Principal) -> String {
    let c1 = common::community(app, admin).await;
    let c2 = common::community_under(app, admin, c1.committee_id, "370323001001002", "东城花园").await;
    let street = app
        .create_street(
            admin,
            &CreateStreet {
                district_code: DISTRICT.into(),
                code: "370323002".into(),
                name: "南麻街道".into(),
            },
        )
        .await
        .unwrap();
    let committee = app
        .create_committee(
            admin,
            &CreateCommittee {
                street_id: street.id,
                code: "C2".into(),
                name: "南麻村委会".into(),
                kind: "village".into(),
            },
        )
        .await
        .unwrap();
    let c3 = app
        .create_community(
            admin,
            &CreateCommunity {
                committee_id: committee.id,
                code: "370323002001001".into(),
                name: "南麻村".into(),
                category: "village".into(),
                property_type: "village".into(),
                address: "沂源县南麻".into(),
                site_width: 100.0,
                site_height: 100.0,
                police_area: None,
            },
        )
        .await
        .unwrap();

    let entrance = place(app, admin, c1.id, "pedestrian_entrance", "南门").await;
    let lane = place(app, admin, c1.id, "vehicle_lane", "南门入口车道").await;
    place(app, admin, c1.id, "perimeter_zone", "东侧围墙").await;
    let terminal = "37032300001320000001".to_string();
    let gate = "37032300001320000002".to_string();
    let camera = "37032300001320000005".to_string();
    device(app, admin, &terminal, "face_door_terminal", c1.id, Some(entrance)).await;
    device(app, admin, &gate, "barrier_gate", c1.id, Some(lane)).await;
    device(
        app,
        admin,
        "37032300001320000003",
        "patrol_checkpoint",
        c1.id,
        None,
    )
    .await;
    let village_gate = place(app, admin, c3.id, "pedestrian_entrance", "村口").await;
    device(
        app,
        admin,
        &camera,
        "face_capture_camera",
        c3.id,
        Some(village_gate),
    )
    .await;

    let project = |community_id, planned_year| CreateProject {
        community_id,
        funding_mode: None,
        planned_year,
        note: None,
    };
    let p1 = app
        .create_project(admin, &project(c1.id, 2026))
        .await
        .unwrap()
        .figures
        .project_id
        .unwrap();
    for stage in ["designed", "tendered"] {
        app.move_project(
            admin,
            p1,
            &MoveStage {
                stage: stage.into(),
                note: None,
                contractor: (stage == "tendered").then(|| "甲安防工程公司".into()),
            },
        )
        .await
        .unwrap();
    }
    app.create_project(admin, &project(c3.id, 2027)).await.unwrap();
    assert_eq!(c2.code, "370323001001002");

    let t = |scope: &str, year: i32, segment: &str, metric: &str, percent: f64| TargetSpec {
        scope: scope.into(),
        year,
        segment: segment.into(),
        metric: metric.into(),
        percent,
        source: "区实施方案".into(),
    };
    app.set_programme_targets(
        admin,
        DISTRICT,
        &[
            t(DISTRICT, 2026, "all", "built", 80.0),
            t(DISTRICT, 2026, "property_type:commercial", "built", 60.0),
            t(DISTRICT, 2027, "all", "networked", 90.0),
            t("370323002", 2026, "all", "built", 50.0),
        ],
    )
    .await
    .unwrap();
    app.set_contractor(admin, "甲安防工程公司", 24, "0533-0000000")
        .await
        .unwrap();

    // Data arrives from the terminal (no police target is configured, so its records need no
    // acknowledgement), the gate and the camera: networked; the patrol checkpoint stays silent.
    app.device_event(&terminal, &card("c-1", T0)).await.unwrap();
    app.device_event(&gate, &heartbeat("g-1", T0)).await.unwrap();
    app.device_event(&camera, &heartbeat("k-1", T0)).await.unwrap();
    gate
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_task_table_export_holds_the_task_rows_with_streets_merged() {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(dir.path(), AppConfig::default()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    fixture(&app, &admin).await;

    let rows = app.task_table(&admin, Some(DISTRICT)).await.unwrap();
    // The fixture's known answers, so the comparison below is against real figures.
    let summary: Vec<(&str, &str, Option<&str>, u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                r.street.as_str(),
                r.community.as_str(),
                r.stage.map(|s| s.label_zh()),
                r.required,
                r.met,
            )
        })
        .collect();
    assert_eq!(summary[0], ("历山街道", "测试小区", Some("已招标"), 4, 3));
    assert_eq!((summary[1].0, summary[1].1), ("历山街道", "东城花园"));
    assert_eq!(summary.len(), 3);
    assert_eq!(summary[2].0, "南麻街道");
    assert_eq!(rows[0].gaps, vec!["东侧围墙：周界防护".to_string()]);
    assert_eq!(
        rows[0].networked_pct,
        Some(66.67),
        "terminal and gate of three devices"
    );

    let bytes = app.export_task_table(&admin, Some(DISTRICT)).await.unwrap();
    let sheet = check_task_table(&bytes, &rows);
    // Literal cells of the first community, as a district office reads them.
    let r = FIRST_DATA_ROW;
    assert_eq!(sheet.text(r, 3).as_deref(), Some("既有封闭式小区"));
    assert_eq!(sheet.text(r, 4).as_deref(), Some("物业及维修资金"));
    assert_eq!(sheet.num(r, 5), Some(2026.0));
    assert_eq!(sheet.text(r, 7).as_deref(), Some("2026-11-23"));
    assert_eq!(sheet.text(r, 11).as_deref(), Some("东侧围墙：周界防护"));
    assert_eq!(sheet.num(r, 12), Some(66.67));
    // 东城花园 has nothing registered: every required place is a gap, joined with `；`.
    assert!(rows[1].gaps.len() >= 2, "{:?}", rows[1].gaps);
    assert_eq!(sheet.text(r + 1, 11), Some(rows[1].gaps.join("；")));
    assert_eq!(sheet.num(r + 1, 9), Some(0.0));
    assert_eq!(sheet.at(r + 1, 12), Data::Empty, "no device: no rate, not 0 %");
    // 东城花园 has no project: its project cells are empty, not zero.
    for c in 4..8 {
        assert_eq!(sheet.at(r + 1, c), Data::Empty, "column {c}");
    }
    assert_eq!(sheet.text(r + 2, 3).as_deref(), Some("村居"));
    assert_eq!(sheet.text(r + 2, 4).as_deref(), Some("县镇村共同出资"));
    assert_eq!(sheet.text(r + 2, 6).as_deref(), Some("已列入计划"));
    // The street cell spans its two communities; a street with one community is not merged.
    let street_merges: Vec<(u32, u32)> = sheet
        .merges
        .iter()
        .filter(|m| m.start.1 == 0 && m.end.1 == 0)
        .map(|m| (m.start.0, m.end.0))
        .collect();
    assert_eq!(street_merges, vec![(r, r + 1)]);
    assert_eq!(
        sheet.cells.get(&(r + 1, 0)),
        None,
        "the merged-over cell holds nothing"
    );

    // The whole scope (no district) is the same three communities here.
    let all = app.task_table(&admin, None).await.unwrap();
    assert_eq!(all, rows);
    check_task_table(&app.export_task_table(&admin, None).await.unwrap(), &all);

    let audit = app.list_audit(&admin, Page::first(5)).await.unwrap().items;
    let exports: Vec<(&str, &str, serde_json::Value)> = audit
        .iter()
        .filter(|a| a.action.starts_with("export."))
        .map(|a| {
            (
                a.action.as_str(),
                a.target.as_str(),
                serde_json::from_str(&a.detail).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        exports,
        vec![
            ("export.task_table", "district:*", serde_json::json!({"rows": 3})),
            (
                "export.task_table",
                "district:370323",
                serde_json::json!({"rows": 3})
            ),
        ]
    );
    assert!(audit.iter().all(|a| a.actor == "user:admin"));
}

#[tokio::test]
async fn the_progress_export_holds_every_progress_row() {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(dir.path(), AppConfig::default()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    fixture(&app, &admin).await;

    let rows = app.progress_report(&admin, DISTRICT).await.unwrap();
    let district_2026 = rows
        .iter()
        .find(|r| r.level == "district" && r.year == 2026 && r.segment == "all")
        .unwrap();
    assert_eq!(district_2026.target_pct, Some(80.0));
    assert_eq!(
        (
            district_2026.communities,
            district_2026.planned,
            district_2026.reached
        ),
        (3, 1, 0)
    );
    let own = rows
        .iter()
        .find(|r| r.code == "370323002" && r.year == 2026 && r.segment == "all")
        .unwrap();
    assert_eq!(
        (own.target_pct, own.target_from.as_deref()),
        (Some(50.0), Some("own"))
    );
    let inherited = rows
        .iter()
        .find(|r| r.code == "370323001" && r.year == 2026 && r.segment == "all")
        .unwrap();
    assert_eq!(inherited.target_from.as_deref(), Some(DISTRICT));
    assert!(
        rows.iter()
            .any(|r| r.target_pct.is_none() && r.short_of_target.is_none()),
        "a year without a built target has an untargeted row"
    );
    assert!(rows.iter().any(|r| r.metric == TargetMetric::Networked));

    let bytes = app.export_progress(&admin, DISTRICT).await.unwrap();
    check_progress(&bytes, &rows);
    let s = Sheet::open(&bytes, "目标完成情况");
    let at = FIRST_DATA_ROW + rows.iter().position(|r| std::ptr::eq(r, inherited)).unwrap() as u32;
    assert_eq!(s.text(at, 0).as_deref(), Some("街道"));
    assert_eq!(s.text(at, 2).as_deref(), Some("历山街道"));
    assert_eq!(s.text(at, 4).as_deref(), Some("全部小区"));
    assert_eq!(s.text(at, 5).as_deref(), Some("建成"));
    assert_eq!(s.text(at, 7).as_deref(), Some("沿用370323"));

    let audit = app.list_audit(&admin, Page::first(1)).await.unwrap().items;
    assert_eq!(
        (audit[0].action.as_str(), audit[0].target.as_str()),
        ("export.progress", "district:370323")
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&audit[0].detail).unwrap(),
        serde_json::json!({"rows": rows.len()})
    );
}

#[tokio::test]
async fn the_assessment_export_holds_every_street_score() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(T0);
    let app = common::app_at(dir.path(), AppConfig::default(), clock.clone()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    let gate = fixture(&app, &admin).await;

    // Everything goes quiet for two hours: offline alarms and tickets due in 24 h; the gate
    // comes back late, the others not at all.
    clock.set_ms(T0 + 2 * HOUR);
    assert!(app.raise_offline_alarms(HOUR).await.unwrap() >= 2);
    clock.set_ms(T0 + 32 * HOUR);
    app.device_event(&gate, &heartbeat("g-2", clock.now_ms()))
        .await
        .unwrap();
    clock.set_ms(T0 + 5 * DAY);

    let rows = app.assessment(&admin, DISTRICT, "2026-11").await.unwrap();
    let codes: Vec<&str> = rows.iter().map(|r| r.street_code.as_str()).collect();
    assert_eq!(codes, vec!["370323001", "370323002"]);
    assert_eq!((rows[0].communities, rows[1].communities), (2, 1));
    assert_eq!(rows[1].target_pct, Some(50.0));
    assert!(rows[0].alarms >= 1 && rows[0].tickets >= 1);
    assert!(rows.iter().all(|r| r.score.is_some()));

    let bytes = app.export_assessment(&admin, DISTRICT, "2026-11").await.unwrap();
    check_assessment(&bytes, "2026-11", &rows);
    let s = Sheet::open(&bytes, "街道考核");
    assert_eq!(s.text(FIRST_DATA_ROW, 1).as_deref(), Some("历山街道"));
    assert_eq!(s.num(FIRST_DATA_ROW, 9), Some(2.0));
    assert_eq!(s.num(FIRST_DATA_ROW + 1, 11), Some(50.0));

    // Months the report refuses, the export refuses too, and audits nothing.
    let before = app.list_audit(&admin, Page::first(1)).await.unwrap().items[0].seq;
    for month in ["2026-13", "2027-01"] {
        assert!(matches!(
            app.export_assessment(&admin, DISTRICT, month).await,
            Err(AppError::Invalid {
                code: "invalid_month",
                ..
            })
        ));
    }
    let last = &app.list_audit(&admin, Page::first(1)).await.unwrap().items[0];
    assert_eq!(last.seq, before);
    assert_eq!(
        (last.action.as_str(), last.target.as_str()),
        ("export.assessment", "district:370323")
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&last.detail).unwrap(),
        serde_json::json!({"rows": 2, "month": "2026-11"})
    );
}

#[tokio::test]
async fn exports_follow_the_callers_role_and_scope() {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(dir.path(), AppConfig::default()).await;
    let admin = user(&app, "admin", "district_admin", "district").await;
    fixture(&app, &admin).await;
    // Logged in after the communities exist: a scope resolves at login.
    let guard = user(&app, "guard", "guard", "district").await;
    let outsider = user(&app, "pmanager", "property_manager", "community:370399001001001").await;
    let street = user(&app, "streetman", "street_officer", "street:370323002").await;

    // A role without the programme gets nothing.
    assert!(matches!(
        app.export_task_table(&guard, Some(DISTRICT)).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.export_progress(&guard, DISTRICT).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.export_assessment(&guard, DISTRICT, "2026-11").await,
        Err(AppError::Forbidden(_))
    ));
    // A scope outside the district does not find it.
    assert!(matches!(
        app.export_progress(&outsider, DISTRICT).await,
        Err(AppError::NotFound { .. })
    ));
    assert!(matches!(
        app.export_assessment(&outsider, DISTRICT, "2026-11").await,
        Err(AppError::NotFound { .. })
    ));
    assert!(matches!(
        app.export_progress(&admin, "37032").await,
        Err(AppError::Invalid {
            code: "invalid_district",
            ..
        })
    ));
    // The task table is filtered by scope, as the report is: a district the outsider's scope
    // does not reach is not found, and 南麻街道's officer sees only 南麻村.
    assert!(matches!(
        app.export_task_table(&outsider, Some(DISTRICT)).await,
        Err(AppError::NotFound { .. })
    ));
    check_task_table(&app.export_task_table(&outsider, None).await.unwrap(), &[]);
    let mine = app.task_table(&street, Some(DISTRICT)).await.unwrap();
    assert_eq!(
        mine.iter().map(|r| r.community.as_str()).collect::<Vec<_>>(),
        vec!["南麻村"]
    );
    let sheet = check_task_table(
        &app.export_task_table(&street, Some(DISTRICT)).await.unwrap(),
        &mine,
    );
    assert_eq!(sheet.text(FIRST_DATA_ROW, 0).as_deref(), Some("南麻街道"));
    let rows = app.assessment(&street, DISTRICT, "2026-11").await.unwrap();
    assert_eq!(rows.len(), 1);
    check_assessment(
        &app.export_assessment(&street, DISTRICT, "2026-11").await.unwrap(),
        "2026-11",
        &rows,
    );

    // Refused exports leave no audit entry; the street officer's are recorded as theirs.
    let audit = app.list_audit(&admin, Page::first(10)).await.unwrap().items;
    let exports: Vec<(&str, &str)> = audit
        .iter()
        .filter(|a| a.action.starts_with("export."))
        .map(|a| (a.actor.as_str(), a.action.as_str()))
        .collect();
    assert_eq!(
        exports,
        vec![
            ("user:streetman", "export.assessment"),
            ("user:streetman", "export.task_table"),
            ("user:pmanager", "export.task_table"),
        ]
    );
}
