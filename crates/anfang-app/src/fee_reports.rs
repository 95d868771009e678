//! Property fees, part three: what is owed and what came in. Arrears per house by age bracket,
//! reminders for houses overdue (queued on the notification outbox for the property company's
//! own channels, in the transaction that records them), the collection rate per month and
//! building, parking income read from the parking module's own money (pass sales and temporary
//! parking payments) beside the parking-space rent billed here, the periodic job, and the
//! reports as .xlsx.
//!
//! Figures are computed from the bills, payments and parking rows each time they are asked for;
//! amounts stay integer fen until a spreadsheet cell shows them as yuan.

use crate::fee_cash_book::CashBook;
use crate::fees::{BillLine, SYSTEM_ACTOR, cst_day, cst_day_start_ms, parse_day, stored_day};
use crate::live::LiveEvent;
use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::fees::{AgeBracket, FeeKind, Period, age_bracket, collection_rate_bp, fen_to_yuan};
use anfang_store::*;
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
use serde_json::json;
use std::collections::BTreeMap;

/// One house's unpaid bills by age.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrearsRow {
    /// The house.
    pub house_id: i64,
    /// Its building.
    pub building_id: i64,
    /// Its address.
    pub address: String,
    /// Unpaid bills.
    pub bills: usize,
    /// Still to pay, due or not (fen).
    pub outstanding_fen: i64,
    /// Past due (fen).
    pub overdue_fen: i64,
    /// By bracket (fen); `not_due` holds what is not yet due.
    pub by_bracket: BTreeMap<AgeBracket, i64>,
    /// The oldest unpaid due date.
    pub oldest_due_on: String,
}

/// A community's arrears on a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrears {
    /// The day they are aged on.
    pub as_of: String,
    /// Houses with something to pay, the most overdue first.
    pub rows: Vec<ArrearsRow>,
    /// Totals by bracket (fen).
    pub totals: BTreeMap<AgeBracket, i64>,
    /// Still to pay in all (fen).
    pub outstanding_fen: i64,
    /// Past due in all (fen).
    pub overdue_fen: i64,
}

/// Billed and collected in a month (by the bills' periods), per building or in all.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionRow {
    /// `YYYY-MM` of the bills' period start.
    pub month: String,
    /// The building (`None`: the whole community).
    pub building_id: Option<i64>,
    /// The building's name (全部 for the whole community).
    pub building: String,
    /// Bills.
    pub bills: usize,
    /// Billed, after adjustments (fen).
    pub billed_fen: i64,
    /// Paid to those bills, net of refunds (fen).
    pub collected_fen: i64,
    /// Collected over billed (basis points).
    pub rate_bp: Option<i64>,
}

/// A month's parking income.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParkingIncomeRow {
    /// `YYYY-MM`.
    pub month: String,
    /// Monthly passes sold (by the parking module, dated by their sale).
    pub passes_sold: usize,
    /// What they were sold for (fen).
    pub passes_fen: i64,
    /// Temporary-parking payments at the gates, not refunded.
    pub temporary_payments: usize,
    /// Their amount (fen).
    pub temporary_fen: i64,
    /// Parking-space rent billed for periods starting in the month (fen).
    pub space_rent_billed_fen: i64,
    /// Passes, temporary parking and space rent billed (fen).
    pub total_fen: i64,
}

/// What one run of the periodic fee job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeeJobReport {
    /// Bills made.
    pub bills_created: usize,
    /// Reminders queued.
    pub reminders: usize,
    /// Cash books closed at day end.
    pub books_closed: usize,
    /// Communities whose job failed (logged; the others went on).
    pub failed: usize,
}

/// The months of `year` as `YYYY-MM`.
fn months_of(year: i32) -> Vec<String> {
    (1..=12).map(|m| format!("{year}-{m:02}")).collect()
}

/// A year's first instant and the next year's (CST), in ms.
fn year_span_ms(year: i32) -> AppResult<(i64, i64)> {
    let day = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .map(cst_day_start_ms)
            .ok_or_else(|| AppError::invalid("invalid_value", "year", "a year is 2000 to 2099"))
    };
    Ok((day(year)?, day(year + 1)?))
}

/// Checks a report's year.
fn check_year(year: i32) -> AppResult<i32> {
    if (2000..=2099).contains(&year) {
        Ok(year)
    } else {
        Err(AppError::invalid(
            "invalid_value",
            "year",
            "a year is 2000 to 2099",
        ))
    }
}

impl App {
    /// A community's open bills aged on `today`.
    async fn arrears_in(
        &self,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
        today: NaiveDate,
    ) -> AppResult<Arrears> {
        let bills = tx
            .fee_bills(
                &FeeBillFilter {
                    community_id: Some(community_id),
                    open_only: true,
                    ..FeeBillFilter::default()
                },
                Page::ALL,
            )
            .await?
            .items;
        let mut rows: BTreeMap<i64, ArrearsRow> = BTreeMap::new();
        let mut totals: BTreeMap<AgeBracket, i64> = BTreeMap::new();
        for bill in &bills {
            let fen = bill.outstanding_fen();
            let bracket = age_bracket(stored_day(&bill.due_on)?, today);
            let row = rows.entry(bill.house_id).or_insert_with(|| ArrearsRow {
                house_id: bill.house_id,
                building_id: bill.building_id,
                address: String::new(),
                bills: 0,
                outstanding_fen: 0,
                overdue_fen: 0,
                by_bracket: BTreeMap::new(),
                oldest_due_on: bill.due_on.clone(),
            });
            row.bills += 1;
            row.outstanding_fen += fen;
            if bracket != AgeBracket::NotDue {
                row.overdue_fen += fen;
            }
            *row.by_bracket.entry(bracket).or_default() += fen;
            if bill.due_on < row.oldest_due_on {
                row.oldest_due_on = bill.due_on.clone();
            }
            *totals.entry(bracket).or_default() += fen;
        }
        let mut out: Vec<ArrearsRow> = Vec::with_capacity(rows.len());
        for (house_id, mut row) in rows {
            row.address = tx.house(house_id).await?.map(|h| h.address).unwrap_or_default();
            out.push(row);
        }
        out.sort_by(|a, b| {
            b.overdue_fen
                .cmp(&a.overdue_fen)
                .then(a.oldest_due_on.cmp(&b.oldest_due_on))
                .then(a.house_id.cmp(&b.house_id))
        });
        Ok(Arrears {
            as_of: today.to_string(),
            outstanding_fen: out.iter().map(|r| r.outstanding_fen).sum(),
            overdue_fen: out.iter().map(|r| r.overdue_fen).sum(),
            rows: out,
            totals,
        })
    }

    /// A community's arrears per house and age bracket, aged on `as_of` (default today).
    pub async fn fee_arrears(
        &self,
        who: &Principal,
        community_id: i64,
        as_of: Option<&str>,
    ) -> AppResult<Arrears> {
        who.require(Permission::ReadFees)?;
        let today = match as_of {
            Some(d) => parse_day("as_of", d)?,
            None => cst_day(self.clock.now_ms()),
        };
        let mut tx = self.store.read().await?;
        self.fee_community(who, &mut tx, community_id).await?;
        self.arrears_in(&mut tx, community_id, today).await
    }

    /// Reminds the houses of a community that are overdue past the community's threshold and
    /// were not reminded within its interval: each is recorded and queued, in one transaction,
    /// as a `fee.reminder` for the channels that take fee events. Returns how many.
    pub async fn send_fee_reminders(&self, who: &Principal, community_id: i64) -> AppResult<usize> {
        who.require(Permission::ManageFees)?;
        who.scope.check_whole_community(community_id, "community")?;
        self.remind_as(&who.actor(), community_id).await
    }

    pub(crate) async fn remind_as(&self, actor: &str, community_id: i64) -> AppResult<usize> {
        let now = self.clock.now_ms();
        let today = cst_day(now);
        let mut tx = self.store.write().await?;
        tx.community(community_id)
            .await?
            .ok_or(AppError::NotFound { entity: "community" })?;
        let settings = self.settings_of(&mut tx, community_id).await?;
        let arrears = self.arrears_in(&mut tx, community_id, today).await?;
        let last: BTreeMap<i64, i64> = tx.last_fee_reminders(community_id).await?.into_iter().collect();
        let every_ms = i64::from(settings.remind_every_days) * 86_400_000;
        let mut events = Vec::new();
        let mut reminded = Vec::new();
        for row in arrears.rows.iter().filter(|r| r.overdue_fen > 0) {
            let overdue_days = (today - stored_day(&row.oldest_due_on)?).num_days();
            if overdue_days < i64::from(settings.remind_after_days) {
                continue;
            }
            if last.get(&row.house_id).is_some_and(|at| now - at < every_ms) {
                continue;
            }
            let id = tx
                .insert_fee_reminder(&FeeReminderRow {
                    id: 0,
                    community_id,
                    house_id: row.house_id,
                    overdue_fen: row.overdue_fen,
                    oldest_due_on: row.oldest_due_on.clone(),
                    at: now,
                })
                .await?;
            reminded.push(json!({"house_id": row.house_id, "overdue_fen": row.overdue_fen}));
            events.push(LiveEvent::fee_reminder(
                id,
                community_id,
                now,
                json!({"house_id": row.house_id, "address": row.address, "overdue_fen": row.overdue_fen,
                    "overdue_yuan": fen_to_yuan(row.overdue_fen), "oldest_due_on": row.oldest_due_on,
                    "overdue_days": overdue_days}),
            ));
        }
        if events.is_empty() {
            return Ok(0);
        }
        let audit = self
            .audit(
                &mut tx,
                actor,
                "fees.remind",
                &format!("community:{community_id}"),
                json!({"houses": reminded}),
            )
            .await?;
        let count = events.len();
        self.commit_events(tx, events).await?;
        self.checkpoint.advance(audit.seq, &audit.hash);
        Ok(count)
    }

    /// The collection rate per month and building of the bills whose period starts in `year`.
    pub async fn fee_collection(
        &self,
        who: &Principal,
        community_id: i64,
        year: i32,
    ) -> AppResult<Vec<CollectionRow>> {
        who.require(Permission::ReadFees)?;
        let year = check_year(year)?;
        let mut tx = self.store.read().await?;
        self.fee_community(who, &mut tx, community_id).await?;
        let bills = tx
            .fee_bills(
                &FeeBillFilter {
                    community_id: Some(community_id),
                    start_from: Some(format!("{year}-01-01")),
                    start_until: Some(format!("{year}-12-31")),
                    ..FeeBillFilter::default()
                },
                Page::ALL,
            )
            .await?
            .items;
        let buildings: BTreeMap<i64, String> = tx
            .list_buildings(
                &Filter {
                    community_id: Some(community_id),
                    ..Filter::default()
                },
                Page::ALL,
            )
            .await?
            .items
            .into_iter()
            .map(|b| (b.id, b.name))
            .collect();
        let mut sums: BTreeMap<(String, Option<i64>), (usize, i64, i64)> = BTreeMap::new();
        for bill in &bills {
            let month = bill.period_start.get(..7).unwrap_or_default().to_string();
            for key in [(month.clone(), Some(bill.building_id)), (month, None)] {
                let s = sums.entry(key).or_default();
                s.0 += 1;
                s.1 += bill.amount_fen + bill.adjusted_fen;
                s.2 += bill.paid_fen;
            }
        }
        Ok(sums
            .into_iter()
            .map(
                |((month, building_id), (count, billed, collected))| CollectionRow {
                    building: building_id.map_or_else(
                        || "全部".to_string(),
                        |id| buildings.get(&id).cloned().unwrap_or_default(),
                    ),
                    month,
                    building_id,
                    bills: count,
                    billed_fen: billed,
                    collected_fen: collected,
                    rate_bp: collection_rate_bp(collected, billed),
                },
            )
            .collect())
    }

    /// Parking income per month of `year`: passes sold and temporary parking paid (the parking
    /// module's own records) and parking-space rent billed.
    pub async fn parking_income_report(
        &self,
        who: &Principal,
        community_id: i64,
        year: i32,
    ) -> AppResult<Vec<ParkingIncomeRow>> {
        who.require(Permission::ReadFees)?;
        let year = check_year(year)?;
        let (since, until) = year_span_ms(year)?;
        let mut tx = self.store.read().await?;
        self.fee_community(who, &mut tx, community_id).await?;
        let mut rows: BTreeMap<String, ParkingIncomeRow> = months_of(year)
            .into_iter()
            .map(|m| {
                (
                    m.clone(),
                    ParkingIncomeRow {
                        month: m,
                        ..ParkingIncomeRow::default()
                    },
                )
            })
            .collect();
        let month_of = |ms: i64| cst_day(ms).format("%Y-%m").to_string();
        for pass in tx.parking_passes(community_id, None).await? {
            if (since..until).contains(&pass.created_at)
                && let Some(row) = rows.get_mut(&month_of(pass.created_at))
            {
                row.passes_sold += 1;
                row.passes_fen += pass.fee_cents;
            }
        }
        for payment in tx.parking_income(community_id, since, until).await? {
            if let Some(row) = rows.get_mut(&month_of(payment.paid_at)) {
                row.temporary_payments += 1;
                row.temporary_fen += payment.amount_cents;
            }
        }
        let bills = tx
            .fee_bills(
                &FeeBillFilter {
                    community_id: Some(community_id),
                    start_from: Some(format!("{year}-01-01")),
                    start_until: Some(format!("{year}-12-31")),
                    ..FeeBillFilter::default()
                },
                Page::ALL,
            )
            .await?
            .items;
        for bill in bills {
            let lines: Vec<BillLine> = serde_json::from_str(&bill.lines)
                .map_err(|e| AppError::Internal(format!("stored bill lines: {e}")))?;
            let rent: i64 = lines
                .iter()
                .filter(|l| l.kind == FeeKind::ParkingSpaceRent)
                .map(|l| l.amount_fen)
                .sum();
            if let Some(row) = rows.get_mut(bill.period_start.get(..7).unwrap_or_default()) {
                row.space_rent_billed_fen += rent;
            }
        }
        Ok(rows
            .into_values()
            .map(|mut r| {
                r.total_fen = r.passes_fen + r.temporary_fen + r.space_rent_billed_fen;
                r
            })
            .collect())
    }

    /// The periodic fee job: each community's bills for the current period where it makes them
    /// on its own, reminders, and the day-end closing of last week's open cash books. Safe to
    /// run as often as wanted (nothing is done twice).
    pub async fn run_fee_jobs(&self) -> AppResult<FeeJobReport> {
        let today = cst_day(self.clock.now_ms());
        let communities = {
            let mut tx = self.store.read().await?;
            tx.list_communities(&Filter::default(), Page::ALL).await?.items
        };
        let mut report = FeeJobReport::default();
        for community in communities {
            // One community's failure (a broken row) does not hold up the others.
            match self.fee_jobs_of(community.id, today).await {
                Ok((bills, reminders, books)) => {
                    report.bills_created += bills;
                    report.reminders += reminders;
                    report.books_closed += books;
                }
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(community = community.id, error = %e, "fee job failed for a community");
                }
            }
        }
        Ok(report)
    }

    /// The fee job of one community: (bills made, reminders, books closed).
    async fn fee_jobs_of(&self, community_id: i64, today: NaiveDate) -> AppResult<(usize, usize, usize)> {
        let settings = {
            let mut tx = self.store.read().await?;
            if tx.fee_items(community_id).await?.is_empty() {
                return Ok((0, 0, 0));
            }
            self.settings_of(&mut tx, community_id).await?
        };
        let bills = if settings.auto_generate {
            let period = Period::containing(settings.cycle, today);
            self.generate_bills_as(SYSTEM_ACTOR, community_id, period)
                .await?
                .created
        } else {
            0
        };
        let reminders = self.remind_as(SYSTEM_ACTOR, community_id).await?;
        let books = self.close_past_books(community_id).await?;
        Ok((bills, reminders, books))
    }

    /// A fee report as an .xlsx workbook holding the very rows of its JSON: `arrears`,
    /// `collection`, `parking-income` or `cash-book`. Audited. Returns (file name, bytes).
    pub async fn export_fee_report(
        &self,
        who: &Principal,
        report: &str,
        community_id: i64,
        year: Option<i32>,
        day: Option<&str>,
        cashier: Option<&str>,
    ) -> AppResult<(String, Vec<u8>)> {
        who.require(Permission::ReadFees)?;
        let this_year = cst_day(self.clock.now_ms()).year();
        let (name, sheet) = match report {
            "arrears" => {
                let a = self.fee_arrears(who, community_id, day).await?;
                (format!("欠费账龄-{}", a.as_of), arrears_sheet(&a))
            }
            "collection" => {
                let y = year.unwrap_or(this_year);
                let rows = self.fee_collection(who, community_id, y).await?;
                (format!("收缴率-{y}"), collection_sheet(&rows))
            }
            "parking-income" => {
                let y = year.unwrap_or(this_year);
                let rows = self.parking_income_report(who, community_id, y).await?;
                (format!("停车收入-{y}"), parking_sheet(&rows))
            }
            "cash-book" => {
                let book = self.cash_book(who, community_id, day, cashier).await?;
                (format!("收款日记账-{}", book.day), cash_sheet(&book))
            }
            _ => return Err(AppError::NotFound { entity: "report" }),
        };
        let bytes = sheet.write()?;
        self.audit_now(
            &who.actor(),
            "fees.export",
            &format!("community:{community_id}"),
            json!({"report": report}),
        )
        .await?;
        Ok((name, bytes))
    }
}

/// One cell: text, or an amount in fen shown as yuan, or a count.
#[derive(Debug, Clone)]
enum Cell {
    Text(String),
    Fen(i64),
    Count(i64),
    Percent(Option<i64>),
}

/// A one-sheet workbook: a title row, a header row, the data.
struct Sheet {
    title: String,
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

impl Sheet {
    fn write(&self) -> AppResult<Vec<u8>> {
        let err = |e: rust_xlsxwriter::XlsxError| {
            AppError::Internal(format!("could not write the spreadsheet: {e}"))
        };
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        let border = Format::new().set_border(FormatBorder::Thin);
        let bold = border.clone().set_bold().set_align(FormatAlign::Center);
        let yuan = border.clone().set_num_format("#,##0.00");
        let count = border.clone().set_num_format("0");
        let pct = border.clone().set_num_format("0.00");
        let last = u16::try_from(self.headers.len().saturating_sub(1)).unwrap_or(0);
        sheet
            .merge_range(
                0,
                0,
                0,
                last,
                &self.title,
                &Format::new().set_bold().set_font_size(14),
            )
            .map_err(err)?;
        for (c, h) in self.headers.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            sheet.write_string_with_format(1, c, *h, &bold).map_err(err)?;
            sheet.set_column_width(c, 14).map_err(err)?;
        }
        sheet.set_freeze_panes(2, 0).map_err(err)?;
        for (r, row) in self.rows.iter().enumerate() {
            let r = u32::try_from(r + 2)
                .ok()
                .filter(|r| *r < 1_048_576)
                .ok_or_else(|| AppError::Internal("more rows than a sheet holds".into()))?;
            for (c, cell) in row.iter().enumerate() {
                let c = u16::try_from(c).unwrap_or(u16::MAX);
                match cell {
                    Cell::Text(s) => sheet.write_string_with_format(r, c, s, &border),
                    // Shown in yuan; the fen are exact integers below 2^53.
                    Cell::Fen(fen) => sheet.write_number_with_format(r, c, *fen as f64 / 100.0, &yuan),
                    Cell::Count(n) => sheet.write_number_with_format(r, c, *n as f64, &count),
                    Cell::Percent(Some(bp)) => sheet.write_number_with_format(r, c, *bp as f64 / 100.0, &pct),
                    Cell::Percent(None) => sheet.write_blank(r, c, &border),
                }
                .map_err(err)?;
            }
        }
        book.save_to_buffer().map_err(err)
    }
}

fn count(n: usize) -> Cell {
    Cell::Count(i64::try_from(n).unwrap_or(i64::MAX))
}

fn arrears_sheet(a: &Arrears) -> Sheet {
    let brackets = AgeBracket::ALL;
    let mut headers = vec!["房屋", "账单数", "欠费合计(元)", "已逾期(元)", "最早到期日"];
    headers.extend(brackets.iter().map(|b| b.label_zh()));
    let rows = a
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                Cell::Text(r.address.clone()),
                count(r.bills),
                Cell::Fen(r.outstanding_fen),
                Cell::Fen(r.overdue_fen),
                Cell::Text(r.oldest_due_on.clone()),
            ];
            cells.extend(
                brackets
                    .iter()
                    .map(|b| Cell::Fen(r.by_bracket.get(b).copied().unwrap_or(0))),
            );
            cells
        })
        .collect();
    Sheet {
        title: format!("欠费账龄（{}）", a.as_of),
        headers,
        rows,
    }
}

fn collection_sheet(rows: &[CollectionRow]) -> Sheet {
    Sheet {
        title: "物业费收缴率".into(),
        headers: vec!["月份", "楼栋", "账单数", "应收(元)", "实收(元)", "收缴率(%)"],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.month.clone()),
                    Cell::Text(r.building.clone()),
                    count(r.bills),
                    Cell::Fen(r.billed_fen),
                    Cell::Fen(r.collected_fen),
                    Cell::Percent(r.rate_bp),
                ]
            })
            .collect(),
    }
}

fn parking_sheet(rows: &[ParkingIncomeRow]) -> Sheet {
    Sheet {
        title: "停车收入".into(),
        headers: vec![
            "月份",
            "月卡售出",
            "月卡收入(元)",
            "临停笔数",
            "临停收入(元)",
            "车位租金应收(元)",
            "合计(元)",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.month.clone()),
                    count(r.passes_sold),
                    Cell::Fen(r.passes_fen),
                    count(r.temporary_payments),
                    Cell::Fen(r.temporary_fen),
                    Cell::Fen(r.space_rent_billed_fen),
                    Cell::Fen(r.total_fen),
                ]
            })
            .collect(),
    }
}

fn cash_sheet(book: &CashBook) -> Sheet {
    let mut rows: Vec<Vec<Cell>> = book
        .payments
        .iter()
        .map(|p| {
            vec![
                Cell::Text(p.receipt_no.clone()),
                Cell::Text(
                    anfang_domain::fees::PayMethod::parse(&p.method)
                        .map_or(p.method.as_str(), |m| m.label_zh())
                        .to_string(),
                ),
                Cell::Fen(p.amount_fen),
                Cell::Text(p.reference.clone().unwrap_or_default()),
            ]
        })
        .collect();
    rows.extend(book.refunds.iter().map(|r| {
        vec![
            Cell::Text(format!("退款 #{}", r.id)),
            Cell::Text("退款".into()),
            Cell::Fen(-r.amount_fen),
            Cell::Text(r.reason.clone()),
        ]
    }));
    rows.push(vec![
        Cell::Text("合计".into()),
        Cell::Text(format!(
            "现金 {} / 转账 {} / 在线 {} / 退款 {}",
            fen_to_yuan(book.totals.cash_fen),
            fen_to_yuan(book.totals.transfer_fen),
            fen_to_yuan(book.totals.online_fen),
            fen_to_yuan(book.totals.refunds_fen)
        )),
        Cell::Fen(book.totals.net_fen),
        Cell::Text(
            if book.closed.is_some() {
                "已日结"
            } else {
                "未日结"
            }
            .into(),
        ),
    ]);
    Sheet {
        title: format!("收款日记账 {} {}", book.cashier, book.day),
        headers: vec!["收据号/退款", "方式", "金额(元)", "参考号/原因"],
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_spans_cst_midnights() {
        let (since, until) = year_span_ms(2026).unwrap();
        assert_eq!(cst_day(since).to_string(), "2026-01-01");
        assert_eq!(cst_day(since - 1).to_string(), "2025-12-31");
        assert_eq!(cst_day(until).to_string(), "2027-01-01");
        assert_eq!(months_of(2026).len(), 12);
        assert!(check_year(1999).is_err());
    }
}
