//! Spreadsheet (.xlsx) exports of the district programme: the annex-style task table
//! (任务表), progress against the targets (目标完成情况) and the monthly street assessment
//! (街道考核). Each workbook holds the very rows the JSON reports return —
//! [`App::task_table`], [`App::progress_report`] and [`App::assessment`] — under Chinese
//! headers, so the file a district office downloads and the figures on the dashboard never
//! disagree.
//!
//! The writers are pure (rows in, bytes out). Every sheet has a title row merged across the
//! table, a bold header row in the second row that stays frozen while scrolling, and the data
//! from the third row on. Counts and percentages are numeric cells (percentages shown with two
//! decimals, the assessment's indicators as fractions shown as percent), codes and dates are
//! text, and a figure that does not exist (no target, nothing to measure) is an empty cell, never
//! a zero. In the task table the street cell is merged over its communities, as in the annex.

use crate::maintenance::StreetScore;
use crate::programme::{ProgressRow, TaskRow};
use crate::{App, AppError, AppResult, Principal};
use anfang_domain::programme::TargetMetric;
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet};
use serde_json::json;

/// The task table's title (row 1).
pub const TASK_TABLE_TITLE: &str = "智慧安防小区建设任务表";
/// The progress report's title (row 1).
pub const PROGRESS_TITLE: &str = "智慧安防小区建设目标完成情况";
/// The assessment's title (row 1), followed by the month in parentheses.
pub const ASSESSMENT_TITLE: &str = "智慧安防小区街道考核";

/// The first data row (0-based): after the title and the header rows.
pub const FIRST_DATA_ROW: u32 = 2;

/// Excel's built-in number format `@` (text), the one Excel writes for 文本 itself.
const TEXT_FORMAT: u8 = 49;
/// Header fill (light blue, as in the import templates).
const HEADER_FILL: u32 = 0xDDEBF7;

/// How a column's cells are written and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Text.
    Text,
    /// An identifier or date kept as text so Excel never turns it into a number.
    Code,
    /// A whole number (count, year).
    Count,
    /// A percentage (0–100) shown with two decimals.
    Percent,
    /// A fraction (0–1) shown as a percentage with two decimals.
    Fraction,
    /// A score (0–100) shown with two decimals.
    Score,
}

/// One column: its header and kind.
#[derive(Debug, Clone, Copy)]
struct Col {
    header: &'static str,
    kind: Kind,
}

const fn col(header: &'static str, kind: Kind) -> Col {
    Col { header, kind }
}

/// 任务表: street | community, the project's stage and the kit's compliance.
const TASK_COLUMNS: &[Col] = &[
    col("街道", Kind::Text),
    col("社区编码", Kind::Code),
    col("社区（小区）", Kind::Text),
    col("类别", Kind::Text),
    col("资金方式", Kind::Text),
    col("计划年度", Kind::Count),
    col("阶段", Kind::Text),
    col("阶段日期", Kind::Code),
    col("应配点位", Kind::Count),
    col("已配", Kind::Count),
    col("已联网", Kind::Count),
    col("缺项", Kind::Text),
    col("设备联网率(%)", Kind::Percent),
];

/// 目标完成情况: one row per scope, year, segment and metric.
const PROGRESS_COLUMNS: &[Col] = &[
    col("层级", Kind::Text),
    col("编码", Kind::Code),
    col("名称", Kind::Text),
    col("年度", Kind::Count),
    col("范围", Kind::Text),
    col("指标", Kind::Text),
    col("目标(%)", Kind::Percent),
    col("目标来源", Kind::Text),
    col("分项合计(%)", Kind::Percent),
    col("社区数", Kind::Count),
    col("计划数", Kind::Count),
    col("完成数", Kind::Count),
    col("完成率(%)", Kind::Percent),
    col("差额", Kind::Count),
    col("当前已覆盖", Kind::Count),
];

/// 街道考核: the indicators (fractions), the score and the counts behind them.
const ASSESSMENT_COLUMNS: &[Col] = &[
    col("街道编码", Kind::Code),
    col("街道", Kind::Text),
    col("月份", Kind::Code),
    col("覆盖率指标", Kind::Fraction),
    col("联网率指标", Kind::Fraction),
    col("报警处置及时率", Kind::Fraction),
    col("运维及时率", Kind::Fraction),
    col("数据质量", Kind::Fraction),
    col("综合得分", Kind::Score),
    col("社区数", Kind::Count),
    col("已建成", Kind::Count),
    col("目标(%)", Kind::Percent),
    col("报警数", Kind::Count),
    col("及时处置", Kind::Count),
    col("工单数", Kind::Count),
    col("及时修复", Kind::Count),
    col("设备数", Kind::Count),
    col("已联网设备", Kind::Count),
    col("已定位设备", Kind::Count),
];

/// One cell's value.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn count(n: u64) -> Cell {
    // Counts are far below 2^53, so the conversion is exact.
    Cell::Number(n as f64)
}

fn number(v: Option<f64>) -> Cell {
    match v {
        Some(v) if v.is_finite() => Cell::Number(v),
        _ => Cell::Empty,
    }
}

fn opt_text(v: Option<&str>) -> Cell {
    v.map_or(Cell::Empty, text)
}

/// A rust_xlsxwriter failure as the application's error (as the registry export maps it).
fn write_err(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::Internal(format!("could not write the spreadsheet: {e}"))
}

/// A 0-based row index as the writer's row type, failing cleanly past Excel's limit.
fn excel_row(index: usize) -> AppResult<u32> {
    u32::try_from(index)
        .ok()
        .and_then(|i| i.checked_add(FIRST_DATA_ROW))
        .filter(|r| *r < 1_048_576)
        .ok_or_else(|| AppError::Internal(format!("row {index} is beyond Excel's limit")))
}

/// Approximate display width in Excel character units: CJK and other wide characters take two.
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) < 0x1100 { 1 } else { 2 }).sum()
}

/// The formats of one sheet, built once.
struct Formats {
    title: Format,
    header: Format,
    text: Format,
    code: Format,
    count: Format,
    two_decimals: Format,
    fraction: Format,
    merged: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = Format::new().set_border(FormatBorder::Thin);
        Formats {
            title: Format::new()
                .set_bold()
                .set_font_size(14)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_border(FormatBorder::Thin)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(HEADER_FILL)),
            text: cell.clone(),
            code: cell.clone().set_num_format_index(TEXT_FORMAT),
            count: cell.clone().set_num_format("0"),
            two_decimals: cell.clone().set_num_format("0.00"),
            fraction: cell.clone().set_num_format("0.00%"),
            merged: cell
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
        }
    }

    fn of(&self, kind: Kind) -> &Format {
        match kind {
            Kind::Text => &self.text,
            Kind::Code => &self.code,
            Kind::Count => &self.count,
            Kind::Percent | Kind::Score => &self.two_decimals,
            Kind::Fraction => &self.fraction,
        }
    }
}

/// A sheet being filled: the worksheet, its columns and formats, and the widest value seen per
/// column (for the widths set at the end).
struct Table<'a> {
    sheet: &'a mut Worksheet,
    cols: &'static [Col],
    formats: Formats,
    widths: Vec<usize>,
}

impl<'a> Table<'a> {
    /// Names the sheet and writes the title and header rows.
    fn start(
        sheet: &'a mut Worksheet,
        name: &str,
        title: &str,
        cols: &'static [Col],
    ) -> AppResult<Table<'a>> {
        let formats = Formats::new();
        sheet.set_name(name).map_err(write_err)?;
        let last = (cols.len() - 1) as u16;
        sheet
            .merge_range(0, 0, 0, last, title, &formats.title)
            .map_err(write_err)?;
        sheet.set_row_height(0, 28).map_err(write_err)?;
        for (c, column) in cols.iter().enumerate() {
            sheet
                .write_string_with_format(1, c as u16, column.header, &formats.header)
                .map_err(write_err)?;
        }
        sheet.set_freeze_panes(FIRST_DATA_ROW, 0).map_err(write_err)?;
        let widths = cols.iter().map(|c| display_width(c.header)).collect();
        Ok(Table {
            sheet,
            cols,
            formats,
            widths,
        })
    }

    /// Writes one cell of column `c` in sheet row `r`.
    fn cell(&mut self, r: u32, c: usize, value: &Cell) -> AppResult<()> {
        let format = self.formats.of(self.cols[c].kind);
        let c16 = c as u16;
        let width = match value {
            Cell::Text(s) => {
                self.sheet
                    .write_string_with_format(r, c16, s, format)
                    .map_err(write_err)?;
                display_width(s)
            }
            Cell::Number(n) => {
                self.sheet
                    .write_number_with_format(r, c16, *n, format)
                    .map_err(write_err)?;
                10
            }
            Cell::Empty => {
                self.sheet.write_blank(r, c16, format).map_err(write_err)?;
                0
            }
        };
        self.widths[c] = self.widths[c].max(width);
        Ok(())
    }

    /// Writes data row `index` (0-based, below the header) from column `from` on.
    fn row(&mut self, index: usize, from: usize, cells: &[Cell]) -> AppResult<()> {
        let r = excel_row(index)?;
        for (i, value) in cells.iter().enumerate().skip(from) {
            self.cell(r, i, value)?;
        }
        Ok(())
    }

    /// Sets every column's width to fit its header and values, within sensible bounds.
    fn finish(self) -> AppResult<()> {
        for (c, w) in self.widths.iter().enumerate() {
            self.sheet
                .set_column_width(c as u16, (*w + 2).clamp(8, 50) as f64)
                .map_err(write_err)?;
        }
        Ok(())
    }
}

/// The cells of a task-table row, in [`TASK_COLUMNS`] order.
fn task_cells(row: &TaskRow) -> Vec<Cell> {
    vec![
        text(&row.street),
        text(&row.code),
        text(&row.community),
        text(row.category.label_zh()),
        opt_text(row.funding_mode.map(|m| m.label_zh())),
        row.planned_year
            .map_or(Cell::Empty, |y| Cell::Number(f64::from(y))),
        opt_text(row.stage.map(|s| s.label_zh())),
        opt_text(row.stage_date.as_deref()),
        count(row.required),
        count(row.met),
        count(row.networked),
        if row.gaps.is_empty() {
            Cell::Empty
        } else {
            text(row.gaps.join("；"))
        },
        number(row.networked_pct),
    ]
}

/// The annex-style task table (sheet `任务表`): 街道 | 社区编码 | 社区（小区）| 类别 | 资金方式 |
/// 计划年度 | 阶段 | 阶段日期 | 应配点位 | 已配 | 已联网 | 缺项 | 设备联网率(%), one row per
/// community in the order given (the report's: by street, then community code). The street cell
/// of consecutive rows of the same street is merged vertically; gaps are joined with `；`.
pub fn task_table_xlsx(rows: &[TaskRow]) -> AppResult<Vec<u8>> {
    let mut workbook = Workbook::new();
    let mut table = Table::start(workbook.add_worksheet(), "任务表", TASK_TABLE_TITLE, TASK_COLUMNS)?;
    let mut start = 0;
    while start < rows.len() {
        let street = &rows[start].street;
        let end = start + rows[start..].iter().take_while(|r| r.street == *street).count();
        for (i, row) in rows[start..end].iter().enumerate() {
            table.row(start + i, 1, &task_cells(row))?;
        }
        let (first, last) = (excel_row(start)?, excel_row(end - 1)?);
        if last > first {
            table
                .sheet
                .merge_range(first, 0, last, 0, street, &table.formats.merged)
                .map_err(write_err)?;
        } else {
            table
                .sheet
                .write_string_with_format(first, 0, street, &table.formats.merged)
                .map_err(write_err)?;
        }
        table.widths[0] = table.widths[0].max(display_width(street));
        start = end;
    }
    table.finish()?;
    workbook.save_to_buffer().map_err(write_err)
}

/// The Chinese label of a report level.
fn level_zh(level: &str) -> &str {
    match level {
        "district" => "区县",
        "street" => "街道",
        "community" => "社区",
        other => other,
    }
}

/// The Chinese label of a progress metric: 建成 (accepted) or 联网 (networked).
fn metric_zh(metric: TargetMetric) -> &'static str {
    match metric {
        TargetMetric::Built => "建成",
        TargetMetric::Networked => "联网",
    }
}

/// Where a target comes from: 本级 for the scope's own, else the scope it is inherited from.
fn target_from_zh(from: Option<&str>) -> Cell {
    match from {
        None => Cell::Empty,
        Some("own") => text("本级"),
        Some(code) => text(format!("沿用{code}")),
    }
}

/// The cells of a progress row, in [`PROGRESS_COLUMNS`] order.
fn progress_cells(row: &ProgressRow) -> Vec<Cell> {
    vec![
        text(level_zh(row.level)),
        text(&row.code),
        text(&row.name),
        Cell::Number(f64::from(row.year)),
        text(&row.segment_label),
        text(metric_zh(row.metric)),
        number(row.target_pct),
        target_from_zh(row.target_from.as_deref()),
        number(row.sum_of_parts_pct),
        count(row.communities),
        count(row.planned),
        count(row.reached),
        number(row.reached_pct),
        row.short_of_target.map_or(Cell::Empty, count),
        row.covered_now.map_or(Cell::Empty, count),
    ]
}

/// Progress against the targets (sheet `目标完成情况`): 层级 | 编码 | 名称 | 年度 | 范围 | 指标 |
/// 目标(%) | 目标来源 | 分项合计(%) | 社区数 | 计划数 | 完成数 | 完成率(%) | 差额 | 当前已覆盖,
/// one row per [`ProgressRow`] in the order given. 层级 is 区县 or 街道, 指标 建成 or 联网,
/// 目标来源 本级 or 沿用 followed by the district code the street inherits from.
pub fn progress_xlsx(rows: &[ProgressRow]) -> AppResult<Vec<u8>> {
    let mut workbook = Workbook::new();
    let mut table = Table::start(
        workbook.add_worksheet(),
        "目标完成情况",
        PROGRESS_TITLE,
        PROGRESS_COLUMNS,
    )?;
    for (i, row) in rows.iter().enumerate() {
        table.row(i, 0, &progress_cells(row))?;
    }
    table.finish()?;
    workbook.save_to_buffer().map_err(write_err)
}

/// The cells of a street score, in [`ASSESSMENT_COLUMNS`] order.
fn assessment_cells(row: &StreetScore) -> Vec<Cell> {
    let i = &row.indicators;
    vec![
        text(&row.street_code),
        text(&row.street_name),
        text(&row.month),
        number(i.coverage),
        number(i.networking),
        number(i.alarm_sla),
        number(i.maintenance_sla),
        number(i.data_quality),
        number(row.score),
        count(row.communities),
        count(row.built),
        number(row.target_pct),
        count(row.alarms),
        count(row.alarms_in_sla),
        count(row.tickets),
        count(row.tickets_in_sla),
        count(row.devices.installed),
        count(row.devices.networked),
        count(row.located),
    ]
}

/// The street assessment of `month` (sheet `街道考核`): 街道编码 | 街道 | 月份 | 覆盖率指标 |
/// 联网率指标 | 报警处置及时率 | 运维及时率 | 数据质量 | 综合得分 | 社区数 | 已建成 | 目标(%) |
/// 报警数 | 及时处置 | 工单数 | 及时修复 | 设备数 | 已联网设备 | 已定位设备, one row per street.
/// The indicators are the fractions (0–1) the score is computed from, shown as percentages; an
/// indicator with nothing to measure is empty.
pub fn assessment_xlsx(month: &str, rows: &[StreetScore]) -> AppResult<Vec<u8>> {
    let mut workbook = Workbook::new();
    let title = format!("{ASSESSMENT_TITLE}（{}）", month.trim());
    let mut table = Table::start(workbook.add_worksheet(), "街道考核", &title, ASSESSMENT_COLUMNS)?;
    for (i, row) in rows.iter().enumerate() {
        table.row(i, 0, &assessment_cells(row))?;
    }
    table.finish()?;
    workbook.save_to_buffer().map_err(write_err)
}

impl App {
    /// The task table ([`App::task_table`]) as a workbook; audited as `export.task_table`.
    pub async fn export_task_table(&self, who: &Principal, district: Option<&str>) -> AppResult<Vec<u8>> {
        let rows = self.task_table(who, district).await?;
        let bytes = task_table_xlsx(&rows)?;
        self.audit_now(
            &who.actor(),
            "export.task_table",
            &format!("district:{}", district.unwrap_or("*")),
            json!({"rows": rows.len()}),
        )
        .await?;
        Ok(bytes)
    }

    /// Progress against the targets ([`App::progress_report`]) as a workbook; audited as
    /// `export.progress`.
    pub async fn export_progress(&self, who: &Principal, district: &str) -> AppResult<Vec<u8>> {
        let rows = self.progress_report(who, district).await?;
        let bytes = progress_xlsx(&rows)?;
        self.audit_now(
            &who.actor(),
            "export.progress",
            &format!("district:{district}"),
            json!({"rows": rows.len()}),
        )
        .await?;
        Ok(bytes)
    }

    /// The street assessment ([`App::assessment`]) as a workbook; audited as
    /// `export.assessment`.
    pub async fn export_assessment(
        &self,
        who: &Principal,
        district: &str,
        month: &str,
    ) -> AppResult<Vec<u8>> {
        let rows = self.assessment(who, district, month).await?;
        let bytes = assessment_xlsx(month, &rows)?;
        self.audit_now(
            &who.actor(),
            "export.assessment",
            &format!("district:{district}"),
            json!({"rows": rows.len(), "month": month.trim()}),
        )
        .await?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_past_excels_limit_are_refused() {
        assert_eq!(excel_row(0).unwrap(), FIRST_DATA_ROW);
        assert!(excel_row(1_048_573).is_ok());
        assert!(excel_row(1_048_574).is_err());
    }

    #[test]
    fn empty_reports_still_have_their_title_and_headers() {
        use calamine::{Data, Reader, Xlsx};
        let cases = [
            (
                task_table_xlsx(&[]).unwrap(),
                "任务表",
                TASK_TABLE_TITLE.to_string(),
                TASK_COLUMNS,
            ),
            (
                progress_xlsx(&[]).unwrap(),
                "目标完成情况",
                PROGRESS_TITLE.to_string(),
                PROGRESS_COLUMNS,
            ),
            (
                assessment_xlsx(" 2026-11 ", &[]).unwrap(),
                "街道考核",
                "智慧安防小区街道考核（2026-11）".to_string(),
                ASSESSMENT_COLUMNS,
            ),
        ];
        for (bytes, name, title, cols) in cases {
            let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
            assert_eq!(book.sheet_names(), vec![name.to_string()]);
            let range = book.worksheet_range(name).unwrap();
            assert_eq!(range.get_value((0, 0)), Some(&Data::String(title)));
            for (c, column) in cols.iter().enumerate() {
                assert_eq!(
                    range.get_value((1, c as u32)),
                    Some(&Data::String(column.header.to_string()))
                );
            }
            assert_eq!(range.end(), Some((1, cols.len() as u32 - 1)));
        }
    }
}
