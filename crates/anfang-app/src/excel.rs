//! Spreadsheet templates, import reading and export writing for the house, person and vehicle
//! registries. The module is pure: bytes come in and bytes go out, with no file, network or
//! database access, so the import use-case decides what a row means and this module only turns
//! cells into trimmed text (and text back into cells).
//!
//! Each registry has a fixed list of [`Column`]s. [`template`] writes an empty first sheet with
//! the Chinese headers (required ones marked `*`) plus a `说明` sheet that explains every column
//! with an example; [`read_rows`] maps an uploaded sheet's headers back to column keys, whatever
//! their order, and reads every data row as [`RawRow`] with per-cell problems as [`RowError`]s;
//! [`error_report`] gives the user back the failed rows with the reasons next to them; and
//! [`write_rows`] exports in the template's layout, so an export can be edited and re-imported.
//!
//! Columns that hold identifiers (ID numbers, phones, house, unit and building numbers, dates)
//! are formatted as text, because Excel would otherwise turn `0101` into `101` and an 18-digit ID
//! number into `3.70323E+17`, losing digits for good. A numeric cell that arrives in an ID or
//! phone column anyway is reported as `number_as_text_required` instead of being guessed at.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use calamine::{CellErrorType, DataRef, ExcelDateTime, Reader, SheetType, Xlsx, XlsxError};
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};

/// Which registry sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetKind {
    /// 实有房屋: one row per house.
    Houses,
    /// 实有人口: one row per person, optionally with the house they live in.
    Persons,
    /// 车辆: one row per vehicle, optionally with its owner and parking space.
    Vehicles,
}

impl SheetKind {
    /// Parses the stable name used in URLs and the CLI: `houses`, `persons` or `vehicles`.
    pub fn parse(s: &str) -> Option<SheetKind> {
        match s.trim() {
            "houses" => Some(SheetKind::Houses),
            "persons" => Some(SheetKind::Persons),
            "vehicles" => Some(SheetKind::Vehicles),
            _ => None,
        }
    }

    /// The stable name: `houses`, `persons` or `vehicles`.
    pub fn as_str(self) -> &'static str {
        match self {
            SheetKind::Houses => "houses",
            SheetKind::Persons => "persons",
            SheetKind::Vehicles => "vehicles",
        }
    }

    /// The Chinese label, also used as the name of the template's data sheet.
    pub fn label_zh(self) -> &'static str {
        match self {
            SheetKind::Houses => "房屋",
            SheetKind::Persons => "人员",
            SheetKind::Vehicles => "车辆",
        }
    }
}

/// One template column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The snake_case field name the import use-case reads, e.g. `id_number`.
    pub key: &'static str,
    /// The Chinese header written in row 1, without the required marker `*`.
    pub header_zh: &'static str,
    /// Whether every data row must fill this column; a sheet without the column is rejected.
    pub required: bool,
    /// A valid example value, shown on the `说明` sheet.
    pub example: &'static str,
    /// What to enter, in Chinese, shown on the `说明` sheet.
    pub note_zh: &'static str,
}

/// Shorthand for the column tables below, so each column is one call rather than a struct literal.
const fn col(
    key: &'static str,
    header_zh: &'static str,
    required: bool,
    example: &'static str,
    note_zh: &'static str,
) -> Column {
    Column {
        key,
        header_zh,
        required,
        example,
        note_zh,
    }
}

/// 房屋: the house register's columns, identified by building, unit and number.
const HOUSE_COLUMNS: &[Column] = &[
    col("building", "楼栋号", true, "1", "楼栋编号，如 1、12"),
    col("unit", "单元号", true, "2", "单元编号，如 1、2"),
    col("number", "房号", true, "0101", "房号，保留前导零，如 0101、1202"),
    col("floor", "楼层", true, "1", "所在楼层，整数；地下层填负数，如 -1"),
    col(
        "area_m2",
        "建筑面积(㎡)",
        true,
        "89.5",
        "建筑面积，单位平方米，可带小数",
    ),
    col(
        "use",
        "房屋用途",
        true,
        "自住",
        "自住、出租、空置、商用 之一（也可填 owner_occupied、rented、vacant、commercial）",
    ),
];

/// 人员: the person register's columns, with the optional house the person lives in.
const PERSON_COLUMNS: &[Column] = &[
    col("name", "姓名", true, "张三", "姓名，与证件一致"),
    col("gender", "性别", true, "男", "男 或 女"),
    col(
        "id_type",
        "证件类型",
        true,
        "居民身份证",
        "居民身份证、港澳台居民居住证、外国人永久居留身份证、护照、其他 之一\
         （也可填 resident_id、hmt_residence_permit、foreign_permanent_residence、passport、other）",
    ),
    col(
        "id_number",
        "证件号码",
        true,
        "37032319550412008X",
        "证件号码；居民身份证为 18 位，末位 X 大写；本列为文本格式，请勿改成数字格式",
    ),
    col(
        "phone",
        "联系电话",
        false,
        "13800138000",
        "11 位手机号，或带区号的固定电话，如 0533-1234567",
    ),
    col("population_type", "人口类型", true, "户籍", "户籍 或 流动"),
    col(
        "building",
        "楼栋号",
        false,
        "1",
        "所住房屋的楼栋号；楼栋号、单元号、房号须与房屋登记一致",
    ),
    col("unit", "单元号", false, "2", "所住房屋的单元号"),
    col("house", "房号", false, "0101", "所住房屋的房号，保留前导零"),
    col(
        "role",
        "与房屋关系",
        false,
        "业主",
        "业主、家属、租户、工作人员 之一；填写了房屋时填写",
    ),
    col(
        "lease_start",
        "租住开始日期",
        false,
        "2024-01-01",
        "租户填写，格式 YYYY-MM-DD",
    ),
    col(
        "lease_end",
        "租住结束日期",
        false,
        "2025-12-31",
        "租户填写，格式 YYYY-MM-DD，不早于开始日期",
    ),
    col(
        "schedule",
        "排班时间",
        false,
        "1-5 07:00-19:00",
        "工作人员可填：星期(1=周一…7=周日) 时段，如 1-5 07:00-19:00；多段用分号分隔；不填为全天",
    ),
    col(
        "tags",
        "标签",
        false,
        "独居老人,残疾人",
        "可选，多个标签用逗号分隔，如 独居老人,残疾人",
    ),
];

/// 车辆: the vehicle register's columns, with the optional owner and parking space.
const VEHICLE_COLUMNS: &[Column] = &[
    col(
        "plate_number",
        "车牌号码",
        true,
        "鲁C12345",
        "完整车牌号码，如 鲁C12345；新能源车如 鲁CD12345",
    ),
    col(
        "plate_color",
        "车牌颜色",
        true,
        "蓝",
        "蓝、黄、绿、黄绿、白、黑、其他 之一",
    ),
    col(
        "owner_id_number",
        "车主证件号码",
        false,
        "37032319550412008X",
        "车主的证件号码，须已在人员中登记；本列为文本格式，请勿改成数字格式",
    ),
    col("parking_space", "车位号", false, "A-001", "车位编号，如 A-001"),
];

/// The fixed columns of a sheet, in template order.
pub fn columns(kind: SheetKind) -> &'static [Column] {
    match kind {
        SheetKind::Houses => HOUSE_COLUMNS,
        SheetKind::Persons => PERSON_COLUMNS,
        SheetKind::Vehicles => VEHICLE_COLUMNS,
    }
}

/// Why a spreadsheet could not be read or written as a whole; problems with single rows are
/// [`RowError`]s instead, so one bad row does not reject the file.
#[derive(Debug, thiserror::Error)]
pub enum ExcelError {
    /// The upload is not a readable .xlsx workbook (another format, corrupt, encrypted).
    #[error("the file is not a readable .xlsx workbook: {0}")]
    NotXlsx(String),
    /// The header row lacks a required column.
    #[error("required column {header_zh} ({key}) is missing from the header row")]
    MissingColumn {
        /// The column's key.
        key: &'static str,
        /// The column's Chinese header.
        header_zh: &'static str,
    },
    /// The sheet has more data rows than one import accepts.
    #[error("the sheet has more than {max} data rows; split it into several files")]
    TooManyRows {
        /// The limit, [`MAX_ROWS`].
        max: usize,
    },
    /// Writing the workbook failed (a value too long for a cell, for instance).
    #[error("could not write the spreadsheet: {0}")]
    Write(String),
}

impl ExcelError {
    /// The stable error code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            ExcelError::NotXlsx(_) => "invalid_spreadsheet",
            ExcelError::MissingColumn { .. } => "missing_column",
            ExcelError::TooManyRows { .. } => "too_many_rows",
            ExcelError::Write(_) => "spreadsheet_write_failed",
        }
    }
}

/// A data row as read: the 1-based Excel row number and the trimmed text of each known column
/// (missing/empty cells are absent).
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    /// The row number Excel shows, so users can find the row in their file.
    pub row: usize,
    /// Column key to trimmed cell text; a cell that was empty or unreadable has no entry.
    pub values: BTreeMap<&'static str, String>,
}

impl RawRow {
    /// The text of column `key`, or `None` when the cell is absent or empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// A problem with one row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    /// The 1-based Excel row number of the row.
    pub row: usize,
    /// The column key the problem is in, e.g. `id_number`; empty when it concerns the whole row.
    pub field: String,
    /// Stable error code, e.g. `number_as_text_required`.
    pub code: String,
    /// What is wrong, in English.
    pub message: String,
}

/// The most data rows one import accepts, which bounds the memory and the length of the single
/// transaction an import runs in.
pub const MAX_ROWS: usize = 20_000;

/// Columns that must be text-formatted because Excel would otherwise mangle their values (drop
/// leading zeros, round long digit strings, or turn `1-2` into a date). Every column is text
/// except the two genuinely numeric ones, which keeps the rule obvious.
fn is_text_column(key: &str) -> bool {
    !is_numeric_column(key)
}

/// Columns written as numbers on export, so Excel sums and sorts them as numbers.
fn is_numeric_column(key: &str) -> bool {
    matches!(key, "floor" | "area_m2")
}

/// Columns holding long digit strings that a numeric cell cannot carry exactly.
fn is_long_number_column(key: &str) -> bool {
    matches!(key, "id_number" | "owner_id_number" | "phone")
}

/// Columns whose Excel date cells are read as `YYYY-MM-DD`.
fn is_date_column(key: &str) -> bool {
    matches!(key, "lease_start" | "lease_end")
}

/// The Chinese choices offered as a dropdown in enumerated columns. The dropdowns warn rather
/// than refuse, because the import also accepts the English names.
fn choices(key: &str) -> &'static [&'static str] {
    match key {
        "use" => &["自住", "出租", "空置", "商用"],
        "gender" => &["男", "女"],
        "id_type" => &[
            "居民身份证",
            "港澳台居民居住证",
            "外国人永久居留身份证",
            "护照",
            "其他",
        ],
        "population_type" => &["户籍", "流动"],
        "role" => &["业主", "家属", "租户", "工作人员"],
        "plate_color" => &["蓝", "黄", "绿", "黄绿", "白", "黑", "其他"],
        _ => &[],
    }
}

/// Absolute values from here on cannot be trusted to hold every digit: Excel keeps 15
/// significant digits, so an 18-digit ID number typed into a number cell has already been
/// rounded (`370323199001011234` becomes `370323199001011000`).
const LOSSY_NUMBER: f64 = 1e15;

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Wraps a rust_xlsxwriter failure; a private function rather than a `From` impl so the public
/// error type does not expose the writer crate.
fn write_err(e: rust_xlsxwriter::XlsxError) -> ExcelError {
    ExcelError::Write(e.to_string())
}

/// Excel's built-in number format `@` (text).
const TEXT_FORMAT: u8 = 49;
/// Header fill for required columns (light orange), so they stand out next to the `*`.
const REQUIRED_FILL: u32 = 0xF8CBAD;
/// Header fill for optional columns (light blue).
const OPTIONAL_FILL: u32 = 0xDDEBF7;
/// Header fill for the error report's own columns (light red).
const ERROR_HEADER_FILL: u32 = 0xFF9999;
/// Fill of a data cell the error report blames (pale red).
const ERROR_CELL_FILL: u32 = 0xFFC7CE;

/// The header text written for a column: required columns get a trailing `*`.
fn header_text(column: &Column) -> String {
    if column.required {
        format!("{}*", column.header_zh)
    } else {
        column.header_zh.to_string()
    }
}

/// A header cell's format: bold on a coloured fill, so the header row reads as a header and not
/// as the first record.
fn header_format(fill: u32) -> Format {
    Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_background_color(Color::RGB(fill))
}

/// The format of a data column: text (`@`) for identifier-like columns, general otherwise.
fn column_format(column: &Column) -> Format {
    // Index 49 is Excel's built-in `@` format, the one Excel itself writes for 文本; a custom
    // format with the same code is not recognised as text by every spreadsheet program.
    if is_text_column(column.key) {
        Format::new().set_num_format_index(TEXT_FORMAT)
    } else {
        Format::new()
    }
}

/// Approximate display width in Excel character units: CJK and other wide characters take two.
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) < 0x1100 { 1 } else { 2 }).sum()
}

/// A column width that fits the header and the example, within sensible bounds.
fn column_width(column: &Column) -> f64 {
    let widest = display_width(&header_text(column)).max(display_width(column.example));
    (widest + 4).clamp(10, 40) as f64
}

/// Lays out a data sheet: the headers of `kind` starting at column `first_col`, their widths and
/// text formats, dropdowns for enumerated columns, and a frozen header row. Shared by the
/// template, the export and the error report so the three stay re-importable.
fn layout_data_sheet(
    sheet: &mut Worksheet,
    kind: SheetKind,
    first_col: u16,
    data_rows: usize,
) -> Result<(), ExcelError> {
    let required = header_format(REQUIRED_FILL);
    let optional = header_format(OPTIONAL_FILL);
    // Dropdowns and formats cover at least the importable row count, so a template filled to
    // the limit still gets them on every row.
    let last_row = data_rows.max(MAX_ROWS) as u32;
    for (i, column) in columns(kind).iter().enumerate() {
        let c = first_col + i as u16;
        sheet
            .set_column_width(c, column_width(column))
            .map_err(write_err)?;
        sheet
            .set_column_format(c, &column_format(column))
            .map_err(write_err)?;
        let format = if column.required { &required } else { &optional };
        sheet
            .write_string_with_format(0, c, header_text(column), format)
            .map_err(write_err)?;
        let options = choices(column.key);
        if !options.is_empty() {
            let validation = DataValidation::new()
                .allow_list_strings(options)
                .map_err(write_err)?
                .set_error_style(DataValidationErrorStyle::Warning)
                .set_error_title("取值不在列表中")
                .map_err(write_err)?
                .set_error_message(format!("建议填写：{}", options.join("、")))
                .map_err(write_err)?;
            sheet
                .add_data_validation(1, c, last_row, c, &validation)
                .map_err(write_err)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(write_err)?;
    Ok(())
}

/// Writes one cell of a data row. Numeric columns get a number when the text converts without
/// loss (so `89.5` sums in Excel but `03` stays as typed); everything else is a string, which
/// also means a value starting with `=` is never turned into a formula.
fn write_value(
    sheet: &mut Worksheet,
    row: u32,
    c: u16,
    column: &Column,
    value: &str,
    format: Option<&Format>,
) -> Result<(), ExcelError> {
    if is_numeric_column(column.key)
        && let Ok(number) = value.parse::<f64>()
        && number.is_finite()
        && number_text(number) == value
    {
        match format {
            Some(f) => sheet.write_number_with_format(row, c, number, f),
            None => sheet.write_number(row, c, number),
        }
        .map_err(write_err)?;
        return Ok(());
    }
    match format {
        Some(f) => sheet.write_string_with_format(row, c, value, f),
        None => sheet.write_string(row, c, value),
    }
    .map_err(write_err)?;
    Ok(())
}

/// Writes the `说明` sheet: one line per column with its header, key, whether it is required,
/// an example and a note, followed by general rules. The example lives here rather than in the
/// data sheet so that it can never be imported by accident.
fn write_instructions(workbook: &mut Workbook, kind: SheetKind) -> Result<(), ExcelError> {
    let sheet = workbook.add_worksheet();
    sheet.set_name("说明").map_err(write_err)?;
    let bold = header_format(OPTIONAL_FILL);
    let text = Format::new().set_num_format_index(TEXT_FORMAT);
    let wrap = Format::new().set_text_wrap();
    for (c, (title, width)) in [
        ("列名", 18.0),
        ("字段", 18.0),
        ("必填", 8.0),
        ("示例", 24.0),
        ("说明", 70.0),
    ]
    .iter()
    .enumerate()
    {
        sheet
            .write_string_with_format(0, c as u16, *title, &bold)
            .map_err(write_err)?;
        sheet.set_column_width(c as u16, *width).map_err(write_err)?;
    }
    sheet.set_column_format(3, &text).map_err(write_err)?;
    sheet.set_column_format(4, &wrap).map_err(write_err)?;
    let mut row = 1u32;
    for column in columns(kind) {
        sheet
            .write_string(row, 0, header_text(column))
            .map_err(write_err)?;
        sheet.write_string(row, 1, column.key).map_err(write_err)?;
        sheet
            .write_string(row, 2, if column.required { "是" } else { "否" })
            .map_err(write_err)?;
        sheet.write_string(row, 3, column.example).map_err(write_err)?;
        sheet.write_string(row, 4, column.note_zh).map_err(write_err)?;
        row += 1;
    }
    let label = kind.label_zh();
    let rules = [
        format!("填写说明：请在“{label}”工作表中填写数据，本工作表仅作说明，导入时不会读取。"),
        "1. 第一行为表头，请勿修改、删除；列的顺序可以调整，多余的列会被忽略。".to_string(),
        "2. 表头带 * 的列为必填。".to_string(),
        "3. 从第二行开始每行填写一条记录；空行会被跳过。".to_string(),
        "4. 证件号码、电话、楼栋号、单元号、房号、日期等列已设为文本格式，请勿改为数字格式，\
         否则 Excel 会去掉前导零，或把 18 位证件号码变成科学计数法而丢失末尾数字。"
            .to_string(),
        format!("5. 每个文件最多 {MAX_ROWS} 行数据，超出请分多个文件导入。"),
        "6. 上方“示例”列中的内容仅供参考，请勿原样导入。".to_string(),
    ];
    row += 1;
    for rule in rules {
        sheet.write_string(row, 0, rule).map_err(write_err)?;
        row += 1;
    }
    Ok(())
}

/// An empty import template for `kind`: a data sheet named after the kind's Chinese label with
/// only the header row, and a `说明` sheet describing every column.
pub fn template(kind: SheetKind) -> Result<Vec<u8>, ExcelError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(kind.label_zh()).map_err(write_err)?;
    layout_data_sheet(sheet, kind, 0, 0)?;
    write_instructions(&mut workbook, kind)?;
    workbook.save_to_buffer().map_err(write_err)
}

/// Exports `rows` in the template's layout (same sheet name, headers and formats), keyed as in
/// [`columns`], so the file can be edited and imported again. Keys that are not columns of
/// `kind` are ignored; missing keys leave the cell empty.
pub fn write_rows(kind: SheetKind, rows: &[BTreeMap<&'static str, String>]) -> Result<Vec<u8>, ExcelError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(kind.label_zh()).map_err(write_err)?;
    layout_data_sheet(sheet, kind, 0, rows.len())?;
    for (i, values) in rows.iter().enumerate() {
        let r = excel_row(i + 1)?;
        for (c, column) in columns(kind).iter().enumerate() {
            if let Some(value) = values.get(column.key).filter(|v| !v.is_empty()) {
                write_value(sheet, r, c as u16, column, value, None)?;
            }
        }
    }
    write_instructions(&mut workbook, kind)?;
    workbook.save_to_buffer().map_err(write_err)
}

/// Converts a 0-based row index to rust_xlsxwriter's row type, failing cleanly past Excel's
/// limit instead of wrapping.
fn excel_row(index: usize) -> Result<u32, ExcelError> {
    u32::try_from(index).map_err(|_| ExcelError::Write(format!("row {index} is beyond Excel's limit")))
}

/// A report of the rows that failed to import: column `原行号` with the row's number in the
/// uploaded file, the row's values as read under the template's headers, and `错误字段` /
/// `错误说明` listing every problem of the row, joined with `；`. Cells that a problem names are
/// shaded. Rows appear in row-number order, once each, however many errors they have.
///
/// The report keeps the template's headers, so a user can fix the rows in it and upload it
/// again: `原行号`, `错误字段` and `错误说明` are not columns and are ignored on import.
pub fn error_report(kind: SheetKind, rows: &[RawRow], errors: &[RowError]) -> Result<Vec<u8>, ExcelError> {
    let cols = columns(kind);
    let mut by_row: BTreeMap<usize, Vec<&RowError>> = BTreeMap::new();
    for error in errors {
        by_row.entry(error.row).or_default().push(error);
    }
    let values: BTreeMap<usize, &RawRow> = rows.iter().map(|r| (r.row, r)).collect();

    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet
        .set_name(format!("{}导入错误", kind.label_zh()))
        .map_err(write_err)?;
    layout_data_sheet(sheet, kind, 1, by_row.len())?;
    let error_header = header_format(ERROR_HEADER_FILL);
    let wrap = Format::new().set_text_wrap();
    let field_col = cols.len() as u16 + 1;
    let message_col = field_col + 1;
    sheet
        .write_string_with_format(0, 0, "原行号", &header_format(OPTIONAL_FILL))
        .map_err(write_err)?;
    sheet.set_column_width(0, 8).map_err(write_err)?;
    sheet
        .write_string_with_format(0, field_col, "错误字段", &error_header)
        .map_err(write_err)?;
    sheet.set_column_width(field_col, 20).map_err(write_err)?;
    sheet
        .write_string_with_format(0, message_col, "错误说明", &error_header)
        .map_err(write_err)?;
    sheet.set_column_width(message_col, 60).map_err(write_err)?;
    sheet.set_column_format(message_col, &wrap).map_err(write_err)?;

    for (i, (row_number, row_errors)) in by_row.iter().enumerate() {
        let r = excel_row(i + 1)?;
        // Row 0 stands for a problem with the file rather than a line in it; it gets no number.
        if *row_number > 0 {
            sheet.write_number(r, 0, *row_number as f64).map_err(write_err)?;
        }
        let blamed: BTreeSet<&str> = row_errors.iter().map(|e| e.field.as_str()).collect();
        for (c, column) in cols.iter().enumerate() {
            let c16 = c as u16 + 1;
            let value = values.get(row_number).and_then(|raw| raw.get(column.key));
            if blamed.contains(column.key) {
                let shaded = column_format(column).set_background_color(Color::RGB(ERROR_CELL_FILL));
                match value {
                    Some(v) => write_value(sheet, r, c16, column, v, Some(&shaded))?,
                    None => {
                        sheet.write_blank(r, c16, &shaded).map_err(write_err)?;
                    }
                }
            } else if let Some(v) = value {
                write_value(sheet, r, c16, column, v, None)?;
            }
        }
        let mut fields: Vec<&str> = Vec::new();
        for error in row_errors {
            let name = field_label(kind, &error.field);
            if !name.is_empty() && !fields.contains(&name) {
                fields.push(name);
            }
        }
        let messages: Vec<String> = row_errors
            .iter()
            .map(|e| match field_label(kind, &e.field) {
                "" => e.message.clone(),
                name => format!("{name}：{}", e.message),
            })
            .collect();
        sheet
            .write_string(r, field_col, fields.join("；"))
            .map_err(write_err)?;
        sheet
            .write_string(r, message_col, messages.join("；"))
            .map_err(write_err)?;
    }
    workbook.save_to_buffer().map_err(write_err)
}

/// The Chinese header of a field for the error report, or the field itself when it is not a
/// column (a field the import use-case derived, say).
fn field_label(kind: SheetKind, field: &str) -> &str {
    columns(kind)
        .iter()
        .find(|c| c.key == field)
        .map_or(field, |c| c.header_zh)
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// A non-empty cell as read, owned because calamine's borrowed cells live only as long as the
/// reader and the header row must be complete before a cell can be given a column.
#[derive(Debug, Clone)]
enum Cell {
    Text(String),
    Number(f64),
    Bool(bool),
    Date(ExcelDateTime),
    DateIso(String),
    Duration,
    Error(CellErrorType),
}

/// Trims whitespace plus the invisible characters that copying from web pages and chat apps
/// leaves around ID numbers (byte-order mark, zero-width space).
fn clean(s: &str) -> &str {
    s.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '\u{feff}' | '\u{200b}' | '\u{200c}' | '\u{200d}')
    })
}

/// Converts calamine's cell, dropping empty ones (including strings of only whitespace), so a
/// row of blanks or spaces counts as empty.
fn to_cell(data: DataRef<'_>) -> Option<Cell> {
    let cell = match data {
        DataRef::Empty => return None,
        DataRef::String(s) => Cell::Text(clean(&s).to_string()),
        DataRef::SharedString(s) => Cell::Text(clean(s).to_string()),
        DataRef::Int(i) => Cell::Number(i as f64),
        DataRef::Float(f) => Cell::Number(f),
        DataRef::Bool(b) => Cell::Bool(b),
        DataRef::DateTime(d) if d.is_duration() => Cell::Duration,
        DataRef::DateTime(d) => Cell::Date(d),
        DataRef::DateTimeIso(s) => Cell::DateIso(s),
        DataRef::DurationIso(_) => Cell::Duration,
        DataRef::Error(e) => Cell::Error(e),
    };
    match &cell {
        Cell::Text(s) if s.is_empty() => None,
        _ => Some(cell),
    }
}

/// A number as text: integral values without `.0`, others as Rust prints them (which never uses
/// an exponent), and negative zero as `0`.
fn number_text(f: f64) -> String {
    if f == 0.0 { "0".to_string() } else { format!("{f}") }
}

/// The `YYYY-MM-DD` part of an ISO 8601 date or date-time, when it has one.
fn iso_date(s: &str) -> Option<String> {
    let date = s.get(..10)?;
    let b = date.as_bytes();
    let shape_ok = b.iter().enumerate().all(|(i, c)| {
        if i == 4 || i == 7 {
            *c == b'-'
        } else {
            c.is_ascii_digit()
        }
    });
    let rest_ok = s.len() == 10 || s[10..].starts_with('T') || s[10..].starts_with(' ');
    (shape_ok && rest_ok).then(|| date.to_string())
}

/// The text of one cell of column `key`, or the row error explaining why it has none.
fn cell_text(key: &'static str, row: usize, cell: &Cell) -> Result<String, RowError> {
    let fail = |code: &str, message: String| RowError {
        row,
        field: key.to_string(),
        code: code.to_string(),
        message,
    };
    match cell {
        Cell::Text(s) => Ok(s.clone()),
        Cell::Number(f) if is_long_number_column(key) && f.abs() >= LOSSY_NUMBER => Err(fail(
            "number_as_text_required",
            format!(
                "the cell holds the number {f:e}, which Excel has already rounded to 15 significant \
                 digits; format the column as text and enter the value again"
            ),
        )),
        Cell::Number(f) => Ok(number_text(*f)),
        Cell::Bool(b) => Ok(b.to_string()),
        Cell::Date(d) if is_date_column(key) => {
            let (y, m, d, ..) = d.to_ymd_hms_milli();
            Ok(format!("{y:04}-{m:02}-{d:02}"))
        }
        Cell::DateIso(s) if is_date_column(key) => iso_date(s).ok_or_else(|| {
            fail(
                "invalid_cell",
                format!("the cell holds '{s}', which is not a date"),
            )
        }),
        // A date anywhere else is almost always Excel "helping": a unit typed as `1-2` in a
        // general-format cell becomes 2 January. Importing the date would store nonsense.
        Cell::Date(_) | Cell::DateIso(_) => Err(fail(
            "invalid_cell",
            "Excel converted the cell to a date; format the column as text and enter the value again"
                .to_string(),
        )),
        Cell::Duration => Err(fail(
            "invalid_cell",
            "the cell holds a time or duration, not a value for this column".to_string(),
        )),
        Cell::Error(e) => Err(fail(
            "invalid_cell",
            format!("the cell holds the Excel error {e}; enter a value"),
        )),
    }
}

/// Normalises a header for matching: no required marker, no whitespace, ASCII parentheses and
/// lowercase, so `建筑面积（㎡）*`, ` 建筑面积(㎡) ` and `AREA_M2` all compare equal to their column.
fn normalize_header(s: &str) -> String {
    let s = clean(s).trim_matches(|c: char| c == '*' || c == '＊' || c.is_whitespace());
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

/// A header without a trailing parenthesised unit or hint, so `建筑面积` and `建筑面积(m²)` also
/// find `建筑面积(㎡)`.
fn strip_hint(s: &str) -> &str {
    match s.strip_suffix(')').and_then(|rest| rest.rfind('(')) {
        Some(open) if open > 0 => &s[..open],
        _ => s,
    }
}

/// The column a header cell names, if any: by Chinese header, by key, or by the header without
/// its parenthesised hint.
fn match_header(kind: SheetKind, header: &str) -> Option<&'static Column> {
    let h = normalize_header(header);
    if h.is_empty() {
        return None;
    }
    let cols = columns(kind);
    cols.iter()
        .find(|c| normalize_header(c.header_zh) == h || c.key == h)
        .or_else(|| {
            cols.iter()
                .find(|c| strip_hint(&normalize_header(c.header_zh)) == strip_hint(&h))
        })
}

/// Maps a calamine failure to [`ExcelError::NotXlsx`] with a hint for the two cases users can
/// fix themselves: a legacy .xls file and a password-protected workbook.
fn not_xlsx(bytes: &[u8], e: XlsxError) -> ExcelError {
    const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    match e {
        XlsxError::Password => ExcelError::NotXlsx(
            "the workbook is password-protected; remove the password and upload again".into(),
        ),
        _ if bytes.starts_with(&OLE_MAGIC) => {
            ExcelError::NotXlsx("this is a legacy .xls file; save it as .xlsx and upload again".into())
        }
        other => ExcelError::NotXlsx(other.to_string()),
    }
}

/// Most a workbook may expand to when unzipped (bytes): far above any real registry sheet.
const MAX_UNZIPPED: u64 = 256 * 1024 * 1024;

/// Checks the archive before calamine parses it. calamine trusts sizes declared inside the
/// file (the shared-string count, entry sizes) and reserves memory for them up front, so a
/// 10 KB crafted file could abort the process; here the declared sizes are checked against
/// the real ones first.
fn guard_archive(bytes: &[u8]) -> Result<(), ExcelError> {
    use std::io::Read;
    let not_xlsx = |why: &str| ExcelError::NotXlsx(why.to_string());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|_| not_xlsx("not an .xlsx workbook (not a zip archive)"))?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|_| not_xlsx("corrupt .xlsx archive"))?;
        total = total.saturating_add(entry.size());
    }
    if total > MAX_UNZIPPED {
        return Err(not_xlsx("the workbook expands to more than 256 MiB"));
    }
    if let Ok(entry) = archive.by_name("xl/sharedStrings.xml") {
        let size = entry.size();
        let mut head = String::new();
        // The declared counts sit in the root element, within the first bytes.
        let _ = entry.take(4096).read_to_string(&mut head);
        // calamine reserves room for `uniqueCount` strings up front; `count` (cell references)
        // may legitimately be far larger than the file, so only the former is checked.
        if let Some(rest) = head.split("uniqueCount=\"").nth(1) {
            let declared: u64 = rest
                .split('"')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(u64::MAX);
            // Every distinct string takes at least `<si><t/></si>` (12 bytes) in the file.
            if declared > size / 12 + 1 {
                return Err(not_xlsx(
                    "the workbook declares more shared strings than it holds",
                ));
            }
        }
    }
    Ok(())
}

/// Reads the first worksheet of an uploaded workbook.
///
/// The header row is the first non-empty row; each header cell is matched to a column by its
/// Chinese header (a trailing `*`, whitespace and full-width parentheses do not matter) or by its
/// key, in any order; unknown headers are ignored, a column named twice is read from its first
/// header, and a missing required column is [`ExcelError::MissingColumn`]. Every later row with
/// a value in a known column becomes a [`RawRow`] numbered as Excel numbers it; empty rows, and
/// rows with values only under unknown headers, are skipped.
///
/// Cells that cannot be read as text (Excel errors such as `#N/A`, a date outside a date column,
/// an ID or phone number stored as a number of 16 or more digits) are left out of the row and
/// reported as [`RowError`]s. The row itself is still returned so the error report can show it;
/// callers must treat every row that has an error as failed.
///
/// More than [`MAX_ROWS`] data rows is [`ExcelError::TooManyRows`]; anything that is not a
/// readable .xlsx workbook is [`ExcelError::NotXlsx`].
pub fn read_rows(kind: SheetKind, bytes: &[u8]) -> Result<(Vec<RawRow>, Vec<RowError>), ExcelError> {
    guard_archive(bytes)?;
    let (mapping, data) = read_sheet(kind, bytes)?;
    let mut raw_rows = Vec::with_capacity(data.len());
    let mut errors = Vec::new();
    for (r, cells) in data {
        // calamine counts rows from 0; Excel, and the user, from 1.
        let row = r as usize + 1;
        let mut values = BTreeMap::new();
        for (c, cell) in &cells {
            let Some(column) = mapping.get(c) else { continue };
            match cell_text(column.key, row, cell) {
                Ok(text) => {
                    values.insert(column.key, text);
                }
                Err(e) => errors.push(e),
            }
        }
        raw_rows.push(RawRow { row, values });
    }
    Ok((raw_rows, errors))
}

/// Header cell column index → the column it names.
type Mapping = BTreeMap<u32, &'static Column>;

/// Non-empty cells by 0-based row, then 0-based column.
type Cells = BTreeMap<u32, BTreeMap<u32, Cell>>;

/// Matches the header row's cells to columns (the first header naming a column wins) and checks
/// that every required column is present.
fn map_headers(kind: SheetKind, header: &BTreeMap<u32, Cell>) -> Result<Mapping, ExcelError> {
    let mut mapping = Mapping::new();
    for (c, cell) in header {
        if let Cell::Text(text) = cell
            && let Some(column) = match_header(kind, text)
            && !mapping.values().any(|m| m.key == column.key)
        {
            mapping.insert(*c, column);
        }
    }
    match columns(kind)
        .iter()
        .find(|c| c.required && !mapping.values().any(|m| m.key == c.key))
    {
        Some(missing) => Err(ExcelError::MissingColumn {
            key: missing.key,
            header_zh: missing.header_zh,
        }),
        None => Ok(mapping),
    }
}

/// Streams the first worksheet: finds the header row, maps it, and keeps the non-empty cells of
/// known columns of every later row, by 0-based row and column.
///
/// Cells are streamed rather than read through calamine's `worksheet_range`, which allocates the
/// sheet's whole bounding box: one cell in A1 and one in XFD1048576 would ask for seventeen
/// billion cells and abort the process. Keeping only the known columns, and stopping once the
/// row limit is passed, bounds memory by [`MAX_ROWS`] times the column count.
fn read_sheet(kind: SheetKind, bytes: &[u8]) -> Result<(Mapping, Cells), ExcelError> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| not_xlsx(bytes, e))?;
    let name = workbook
        .sheets_metadata()
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .ok_or_else(|| ExcelError::NotXlsx("the workbook has no worksheet".into()))?;
    let mut reader = workbook
        .worksheet_cells_reader(&name)
        .map_err(|e| not_xlsx(bytes, e))?;

    let mut header: Option<(u32, BTreeMap<u32, Cell>)> = None;
    let mut mapping: Option<Mapping> = None;
    let mut data = Cells::new();
    while let Some(cell) = reader.next_cell().map_err(|e| not_xlsx(bytes, e))? {
        let (r, c) = cell.get_position();
        let Some(value) = to_cell(cell.get_value().clone()) else {
            continue;
        };
        let Some((header_row, header_cells)) = &mut header else {
            header = Some((r, BTreeMap::from([(c, value)])));
            continue;
        };
        // Excel writes rows in ascending order, so the header is complete once a later row
        // starts. A file that goes back above its first row would make "the first non-empty
        // row" ambiguous; it is refused rather than read with the wrong header.
        if r < *header_row || (r == *header_row && mapping.is_some()) {
            return Err(ExcelError::NotXlsx(
                "the worksheet's rows are out of order; open and save it in Excel, then upload again".into(),
            ));
        }
        if r == *header_row {
            header_cells.insert(c, value);
            continue;
        }
        let known = match &mapping {
            Some(known) => known,
            None => mapping.insert(map_headers(kind, header_cells)?),
        };
        if known.contains_key(&c) {
            data.entry(r).or_default().insert(c, value);
            if data.len() > MAX_ROWS {
                return Err(ExcelError::TooManyRows { max: MAX_ROWS });
            }
        }
    }
    let mapping = match mapping {
        Some(mapping) => mapping,
        None => map_headers(kind, &header.map(|(_, cells)| cells).unwrap_or_default())?,
    };
    Ok((mapping, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::Data;
    use rust_xlsxwriter::{ExcelDateTime as XlsxDate, Formula};

    /// Every cell of the named sheet as text, by (0-based row, column), via calamine's range API
    /// so the checks do not depend on the module's own reader.
    fn sheet_text(bytes: &[u8], sheet: &str) -> BTreeMap<(u32, u32), String> {
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        let range = workbook.worksheet_range(sheet).unwrap();
        let mut out = BTreeMap::new();
        for (r, c, value) in range.used_cells() {
            let text = match value {
                Data::String(s) => s.clone(),
                Data::Float(f) => number_text(*f),
                Data::Int(i) => i.to_string(),
                other => format!("{other:?}"),
            };
            out.insert(
                (
                    r as u32 + range.start().unwrap().0,
                    c as u32 + range.start().unwrap().1,
                ),
                text,
            );
        }
        out
    }

    fn sheet_names(bytes: &[u8]) -> Vec<String> {
        let workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        workbook.sheet_names()
    }

    /// A workbook whose only sheet is filled by `write`, for inputs the module's own writer
    /// would never produce.
    fn workbook_with(write: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
        let mut workbook = Workbook::new();
        write(workbook.add_worksheet());
        workbook.save_to_buffer().unwrap()
    }

    fn row(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    const PERSON_HEADERS: [&str; 6] = [
        "姓名*",
        "性别*",
        "证件类型*",
        "证件号码*",
        "联系电话",
        "人口类型*",
    ];

    fn write_person_headers(sheet: &mut Worksheet) {
        for (c, h) in PERSON_HEADERS.iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
    }

    #[test]
    fn kinds_parse_and_print() {
        for kind in [SheetKind::Houses, SheetKind::Persons, SheetKind::Vehicles] {
            assert_eq!(SheetKind::parse(kind.as_str()), Some(kind));
            assert!(!columns(kind).is_empty());
            // Every key is unique within its sheet, since rows are keyed by it.
            let keys: BTreeSet<&str> = columns(kind).iter().map(|c| c.key).collect();
            assert_eq!(keys.len(), columns(kind).len());
            // Every header finds its own column, so a template always reads back.
            for column in columns(kind) {
                assert_eq!(match_header(kind, &header_text(column)).unwrap().key, column.key);
                assert_eq!(match_header(kind, column.key).unwrap().key, column.key);
            }
        }
        assert_eq!(SheetKind::parse("people"), None);
        assert_eq!(SheetKind::Persons.label_zh(), "人员");
    }

    #[test]
    fn error_codes_are_stable() {
        assert_eq!(ExcelError::NotXlsx("x".into()).code(), "invalid_spreadsheet");
        assert_eq!(
            ExcelError::MissingColumn {
                key: "name",
                header_zh: "姓名"
            }
            .code(),
            "missing_column"
        );
        assert_eq!(ExcelError::TooManyRows { max: MAX_ROWS }.code(), "too_many_rows");
        assert_eq!(ExcelError::Write("x".into()).code(), "spreadsheet_write_failed");
    }

    #[test]
    fn template_reads_back_empty_and_explains_columns() {
        for kind in [SheetKind::Houses, SheetKind::Persons, SheetKind::Vehicles] {
            let bytes = template(kind).unwrap();
            let (rows, errors) = read_rows(kind, &bytes).unwrap();
            assert!(rows.is_empty(), "{kind:?}: {rows:?}");
            assert!(errors.is_empty(), "{kind:?}: {errors:?}");

            assert_eq!(
                sheet_names(&bytes),
                vec![kind.label_zh().to_string(), "说明".to_string()]
            );
            let data = sheet_text(&bytes, kind.label_zh());
            assert_eq!(data.keys().map(|(r, _)| *r).max(), Some(0), "only the header row");
            for (c, column) in columns(kind).iter().enumerate() {
                let expected = if column.required {
                    format!("{}*", column.header_zh)
                } else {
                    column.header_zh.into()
                };
                assert_eq!(data[&(0, c as u32)], expected);
            }
            let help = sheet_text(&bytes, "说明");
            assert_eq!(help[&(0, 3)], "示例");
            for (i, column) in columns(kind).iter().enumerate() {
                let r = i as u32 + 1;
                assert_eq!(help[&(r, 1)], column.key);
                assert_eq!(help[&(r, 2)], if column.required { "是" } else { "否" });
                assert_eq!(help[&(r, 3)], column.example);
            }
        }
    }

    #[test]
    fn identifier_cells_are_text_formatted() {
        let people = [row(&[
            ("name", "张三"),
            ("id_number", "37032319550412008X"),
            ("house", "0101"),
        ])];
        let bytes = write_rows(SheetKind::Persons, &people).unwrap();
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.as_slice())).unwrap();
        let styles = workbook.worksheet_style("人员").unwrap();
        let number_format = |c: u32| styles.get((1, c)).and_then(|s| s.number_format.clone());
        // Cells written without a format take the column's, which is Excel's built-in text (49).
        for c in [3, 8] {
            let format = number_format(c).unwrap();
            assert_eq!(
                (format.format_code.as_str(), format.format_id),
                ("@", Some(49)),
                "column {c}"
            );
        }
    }

    #[test]
    fn write_rows_round_trips_every_value() {
        let persons = vec![
            row(&[
                ("name", "张三"),
                ("gender", "男"),
                ("id_type", "居民身份证"),
                ("id_number", "37032319550412008X"),
                ("phone", "05333123456"),
                ("population_type", "户籍"),
                ("building", "1"),
                ("unit", "02"),
                ("house", "0101"),
                ("role", "租户"),
                ("lease_start", "2024-01-01"),
                ("lease_end", "2025-12-31"),
                ("tags", "独居老人,残疾人"),
            ]),
            row(&[
                ("name", "=HYPERLINK(\"http://x\")"),
                ("gender", "女"),
                ("id_type", "passport"),
                ("id_number", "E12345678"),
                ("population_type", "流动"),
            ]),
        ];
        let bytes = write_rows(SheetKind::Persons, &persons).unwrap();
        let (rows, errors) = read_rows(SheetKind::Persons, &bytes).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[1].row, 3);
        assert_eq!(rows[0].values, persons[0]);
        assert_eq!(rows[1].values, persons[1]);
        assert_eq!(rows[0].get("id_number"), Some("37032319550412008X"));
        assert_eq!(rows[1].get("phone"), None);

        let houses = vec![
            row(&[
                ("building", "12"),
                ("unit", "1"),
                ("number", "0101"),
                ("floor", "-1"),
                ("area_m2", "89.5"),
                ("use", "自住"),
            ]),
            // `03` is not what the number 3 prints as, so it must stay text to survive.
            row(&[
                ("building", "A座"),
                ("unit", "1"),
                ("number", "1202"),
                ("floor", "03"),
                ("area_m2", "120"),
                ("use", "rented"),
            ]),
        ];
        let bytes = write_rows(SheetKind::Houses, &houses).unwrap();
        let (rows, errors) = read_rows(SheetKind::Houses, &bytes).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows.iter().map(|r| r.values.clone()).collect::<Vec<_>>(), houses);
        // Numeric columns are real numbers in the export, so Excel can sum them.
        let cells = {
            let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.as_slice())).unwrap();
            workbook.worksheet_range("房屋").unwrap()
        };
        assert_eq!(cells.get_value((1, 4)), Some(&Data::Float(89.5)));
        assert_eq!(cells.get_value((1, 2)), Some(&Data::String("0101".into())));

        let vehicles = vec![row(&[
            ("plate_number", "鲁CD12345"),
            ("plate_color", "黄绿"),
            ("owner_id_number", "37032319550412008X"),
            ("parking_space", "A-001"),
            ("not_a_column", "ignored"),
        ])];
        let bytes = write_rows(SheetKind::Vehicles, &vehicles).unwrap();
        let (rows, errors) = read_rows(SheetKind::Vehicles, &bytes).unwrap();
        assert!(errors.is_empty());
        let mut expected = vehicles[0].clone();
        expected.remove("not_a_column");
        assert_eq!(rows[0].values, expected);
    }

    #[test]
    fn numeric_id_number_is_reported_not_guessed() {
        let bytes = workbook_with(|sheet| {
            write_person_headers(sheet);
            for (c, v) in [
                "李四",
                "女",
                "居民身份证",
                "37032319550412008X",
                "13800138000",
                "户籍",
            ]
            .iter()
            .enumerate()
            {
                sheet.write_string(1, c as u16, *v).unwrap();
            }
            for (c, v) in ["王五", "男", "居民身份证"].iter().enumerate() {
                sheet.write_string(3, c as u16, *v).unwrap();
            }
            #[allow(clippy::excessive_precision)]
            sheet.write_number(3, 3, 370323199001011234.0).unwrap();
            // An 11-digit mobile fits a double exactly and reads back as its digits.
            sheet.write_number(3, 4, 13800138000.0).unwrap();
            sheet.write_string(3, 5, "流动").unwrap();
        });
        let (rows, errors) = read_rows(SheetKind::Persons, &bytes).unwrap();
        assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![2, 4]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].row, 4);
        assert_eq!(errors[0].field, "id_number");
        assert_eq!(errors[0].code, "number_as_text_required");
        assert!(errors[0].message.contains("text"), "{}", errors[0].message);
        assert_eq!(rows[1].get("id_number"), None);
        assert_eq!(rows[1].get("phone"), Some("13800138000"));
        assert_eq!(rows[0].get("id_number"), Some("37032319550412008X"));
    }

    #[test]
    fn missing_required_column_is_rejected() {
        let bytes = workbook_with(|sheet| {
            for (c, h) in ["姓名", "性别", "证件类型", "联系电话", "人口类型"]
                .iter()
                .enumerate()
            {
                sheet.write_string(0, c as u16, *h).unwrap();
            }
            sheet.write_string(1, 0, "张三").unwrap();
        });
        let err = read_rows(SheetKind::Persons, &bytes).unwrap_err();
        assert!(
            matches!(
                err,
                ExcelError::MissingColumn {
                    key: "id_number",
                    header_zh: "证件号码"
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.code(), "missing_column");

        // A sheet with nothing on it lacks every column; the first required one is named.
        let empty = workbook_with(|_| {});
        let err = read_rows(SheetKind::Houses, &empty).unwrap_err();
        assert!(
            matches!(err, ExcelError::MissingColumn { key: "building", .. }),
            "{err:?}"
        );

        // A persons template is not a vehicles sheet.
        let err = read_rows(SheetKind::Vehicles, &template(SheetKind::Persons).unwrap()).unwrap_err();
        assert!(
            matches!(
                err,
                ExcelError::MissingColumn {
                    key: "plate_number",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn headers_match_in_any_order_and_spelling() {
        let bytes = workbook_with(|sheet| {
            let headers = [
                "备注",
                " use ",
                "建筑面积（㎡）＊",
                "房号 *",
                "楼层",
                "单元号",
                "楼栋号*",
                "number",
            ];
            for (c, h) in headers.iter().enumerate() {
                sheet.write_string(0, c as u16, *h).unwrap();
            }
            let values = [
                "备注不导入",
                "出租",
                "",
                "0302",
                "",
                "1",
                "3",
                "ignored duplicate",
            ];
            for (c, v) in values.iter().enumerate() {
                sheet.write_string(1, c as u16, *v).unwrap();
            }
            sheet.write_number(1, 2, 76.25).unwrap();
            sheet.write_number(1, 4, 3.0).unwrap();
        });
        let (rows, errors) = read_rows(SheetKind::Houses, &bytes).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            rows,
            vec![RawRow {
                row: 2,
                values: row(&[
                    ("use", "出租"),
                    ("area_m2", "76.25"),
                    ("number", "0302"),
                    ("floor", "3"),
                    ("unit", "1"),
                    ("building", "3"),
                ]),
            }]
        );
        // The hint in parentheses is optional, and a different unit spelling still matches.
        assert_eq!(
            match_header(SheetKind::Houses, "建筑面积").unwrap().key,
            "area_m2"
        );
        assert_eq!(
            match_header(SheetKind::Houses, "建筑面积(m²)").unwrap().key,
            "area_m2"
        );
        assert_eq!(
            match_header(SheetKind::Persons, "租住开始日期（YYYY-MM-DD）")
                .unwrap()
                .key,
            "lease_start"
        );
        assert!(match_header(SheetKind::Persons, "*").is_none());
        assert!(match_header(SheetKind::Persons, "(备注)").is_none());
    }

    #[test]
    fn empty_rows_are_skipped_and_numbers_are_excel_rows() {
        let bytes = workbook_with(|sheet| {
            // A title-less sheet whose header starts in row 3 and column C.
            for (c, h) in ["车牌号码", "车牌颜色", "车位号"].iter().enumerate() {
                sheet.write_string(2, c as u16 + 2, *h).unwrap();
            }
            sheet.write_string(3, 2, "鲁C11111").unwrap();
            sheet.write_string(3, 3, "蓝").unwrap();
            // Row 5 has only whitespace, row 6 only a value outside the known columns.
            sheet.write_string(4, 2, "   ").unwrap();
            sheet.write_string(5, 9, "side note").unwrap();
            sheet.write_string(8, 2, " 鲁C22222 ").unwrap();
            sheet.write_string(8, 3, "黄").unwrap();
            sheet.write_number(8, 4, 7.0).unwrap();
        });
        let (rows, errors) = read_rows(SheetKind::Vehicles, &bytes).unwrap();
        assert!(errors.is_empty());
        assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![4, 9]);
        assert_eq!(rows[1].get("plate_number"), Some("鲁C22222"));
        assert_eq!(rows[1].get("parking_space"), Some("7"));
    }

    #[test]
    fn cells_convert_to_text() {
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let time = Format::new().set_num_format("[h]:mm");
        let bytes = workbook_with(|sheet| {
            let headers = PERSON_HEADERS.iter().copied().chain([
                "与房屋关系",
                "租住开始日期",
                "租住结束日期",
                "单元号",
                "标签",
            ]);
            for (c, h) in headers.enumerate() {
                sheet.write_string(0, c as u16, h).unwrap();
            }
            for (c, v) in ["赵六", "男", "居民身份证", "11010519491231002X", "", "户籍"]
                .iter()
                .enumerate()
            {
                sheet.write_string(1, c as u16, *v).unwrap();
            }
            sheet
                .write_formula(1, 6, Formula::new("=NA()").set_result("#N/A"))
                .unwrap();
            let start = XlsxDate::from_ymd(2024, 3, 1).unwrap();
            sheet.write_datetime_with_format(1, 7, &start, &date).unwrap();
            sheet.write_number_with_format(1, 8, 45657.75, &date).unwrap();
            // `1-2` typed into a general cell becomes 2 January.
            sheet
                .write_datetime_with_format(1, 9, XlsxDate::from_ymd(2025, 1, 2).unwrap(), &date)
                .unwrap();
            sheet.write_boolean(1, 10, true).unwrap();
            sheet.write_number_with_format(1, 4, 0.5, &time).unwrap();
        });
        let (rows, errors) = read_rows(SheetKind::Persons, &bytes).unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.get("lease_start"), Some("2024-03-01"));
        assert_eq!(r.get("lease_end"), Some("2024-12-31"));
        assert_eq!(r.get("tags"), Some("true"));
        assert_eq!(r.get("role"), None);
        assert_eq!(r.get("unit"), None);
        let mut found: Vec<(&str, &str, usize)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str(), e.row))
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                ("phone", "invalid_cell", 2),
                ("role", "invalid_cell", 2),
                ("unit", "invalid_cell", 2)
            ]
        );
        let na = errors.iter().find(|e| e.field == "role").unwrap();
        assert!(na.message.contains("#N/A"), "{}", na.message);

        assert_eq!(number_text(3.0), "3");
        assert_eq!(number_text(101.0), "101");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(89.5), "89.5");
        assert_eq!(number_text(-2.0), "-2");
        assert_eq!(iso_date("2024-03-01T08:00:00"), Some("2024-03-01".into()));
        assert_eq!(iso_date("2024-3-1"), None);
        assert_eq!(clean("\u{feff} 110105 \u{200b}\u{3000}"), "110105");
    }

    #[test]
    fn too_many_rows_is_rejected() {
        let plates: Vec<_> = (0..=MAX_ROWS)
            .map(|i| row(&[("plate_number", &format!("鲁C{i:05}")), ("plate_color", "蓝")]))
            .collect();
        let bytes = write_rows(SheetKind::Vehicles, &plates).unwrap();
        let err = read_rows(SheetKind::Vehicles, &bytes).unwrap_err();
        assert!(
            matches!(err, ExcelError::TooManyRows { max: MAX_ROWS }),
            "{err:?}"
        );

        let bytes = write_rows(SheetKind::Vehicles, &plates[..MAX_ROWS]).unwrap();
        let (rows, errors) = read_rows(SheetKind::Vehicles, &bytes).unwrap();
        assert_eq!((rows.len(), errors.len()), (MAX_ROWS, 0));
        assert_eq!(rows.last().unwrap().row, MAX_ROWS + 1);
    }

    #[test]
    fn unreadable_input_is_not_xlsx_and_never_panics() {
        for bytes in [
            &b""[..],
            b"not a spreadsheet",
            b"PK\x03\x04garbage",
            b"name,phone\n\xe5\xbc\xa0,1\n",
        ] {
            let err = read_rows(SheetKind::Persons, bytes).unwrap_err();
            assert_eq!(err.code(), "invalid_spreadsheet", "{err:?}");
        }
        let mut legacy = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        legacy.extend([0u8; 504]);
        let err = read_rows(SheetKind::Persons, &legacy).unwrap_err();
        assert!(err.to_string().contains(".xls"), "{err}");

        // A small xorshift keeps the fuzzing deterministic without a dependency.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for len in [1usize, 22, 100, 1000, 4096] {
            for _ in 0..20 {
                let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                assert!(matches!(
                    read_rows(SheetKind::Houses, &bytes),
                    Err(ExcelError::NotXlsx(_))
                ));
            }
        }
        let real = write_rows(
            SheetKind::Persons,
            &[row(&[
                ("name", "张三"),
                ("gender", "男"),
                ("id_type", "居民身份证"),
                ("id_number", "1"),
            ])],
        )
        .unwrap();
        for cut in (0..real.len()).step_by(97) {
            assert!(
                read_rows(SheetKind::Persons, &real[..cut]).is_err(),
                "truncated at {cut}"
            );
        }
        // Flipped bytes may or may not leave a readable file; either way there is no panic.
        for _ in 0..300 {
            let mut bytes = real.clone();
            for _ in 0..1 + next() % 8 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            let _ = read_rows(SheetKind::Persons, &bytes);
        }
    }

    #[test]
    fn error_report_lists_failed_rows_with_reasons() {
        let rows = vec![
            RawRow {
                row: 2,
                values: row(&[
                    ("name", "张三"),
                    ("id_number", "37032319550412008X"),
                    ("house", "0101"),
                ]),
            },
            RawRow {
                row: 5,
                values: row(&[("name", "李四"), ("gender", "未知")]),
            },
            RawRow {
                row: 7,
                values: row(&[("name", "没问题")]),
            },
        ];
        let errors = vec![
            RowError {
                row: 5,
                field: "gender".into(),
                code: "invalid_gender".into(),
                message: "'未知' is not 男 or 女".into(),
            },
            RowError {
                row: 2,
                field: "id_number".into(),
                code: "invalid_id_number".into(),
                message: "check digit mismatch".into(),
            },
            RowError {
                row: 5,
                field: "id_number".into(),
                code: "required".into(),
                message: "is required".into(),
            },
        ];
        let bytes = error_report(SheetKind::Persons, &rows, &errors).unwrap();
        assert_eq!(sheet_names(&bytes), vec!["人员导入错误".to_string()]);
        let cells = sheet_text(&bytes, "人员导入错误");
        let n = columns(SheetKind::Persons).len() as u32;
        assert_eq!(cells[&(0, 0)], "原行号");
        assert_eq!(cells[&(0, 1)], "姓名*");
        assert_eq!(cells[&(0, n + 1)], "错误字段");
        assert_eq!(cells[&(0, n + 2)], "错误说明");
        // Sorted by original row; row 7 had no error and is absent.
        assert_eq!(cells[&(1, 0)], "2");
        assert_eq!(cells[&(2, 0)], "5");
        assert!(!cells.contains_key(&(3, 0)));
        assert_eq!(cells[&(1, 1)], "张三");
        assert_eq!(cells[&(1, 4)], "37032319550412008X");
        assert_eq!(cells[&(1, 9)], "0101");
        assert_eq!(cells[&(1, n + 1)], "证件号码");
        assert_eq!(cells[&(1, n + 2)], "证件号码：check digit mismatch");
        assert_eq!(cells[&(2, n + 1)], "性别；证件号码");
        assert_eq!(
            cells[&(2, n + 2)],
            "性别：'未知' is not 男 or 女；证件号码：is required"
        );

        // The report re-imports: its extra columns are ignored and the rows come back.
        let (again, read_errors) = read_rows(SheetKind::Persons, &bytes).unwrap();
        assert!(read_errors.is_empty());
        assert_eq!(
            again.iter().map(|r| r.values.clone()).collect::<Vec<_>>(),
            vec![rows[0].values.clone(), rows[1].values.clone()]
        );
    }

    #[test]
    fn a_workbook_lying_about_its_string_count_is_refused_not_fatal() {
        use std::io::{Read, Write};
        let mut row = std::collections::BTreeMap::new();
        row.insert("building", "1".to_string());
        let honest = write_rows(SheetKind::Houses, &[row]).unwrap();
        assert!(read_rows(SheetKind::Houses, &honest).is_ok());
        // Rewrite the archive with a shared-strings part that claims 99,999,999,999 strings.
        let mut source = zip::ZipArchive::new(std::io::Cursor::new(honest)).unwrap();
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for i in 0..source.len() {
            let mut entry = source.by_index(i).unwrap();
            let name = entry.name().unwrap().to_string();
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            if name == "xl/sharedStrings.xml" {
                let at = text.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
                let end = at + text[at..].find('"').unwrap();
                text.replace_range(at..end, "99999999999");
            }
            let options =
                zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
            out.start_file(name, options).unwrap();
            out.write_all(text.as_bytes()).unwrap();
        }
        let crafted = out.finish().unwrap().into_inner();
        assert!(matches!(
            read_rows(SheetKind::Houses, &crafted),
            Err(ExcelError::NotXlsx(_))
        ));
    }
}
