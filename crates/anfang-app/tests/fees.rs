//! Property fees over a real store: bills prorated for moving in and out and made once per house
//! and period however often the job runs, discounts, rented spaces and shared meters on the
//! lines, partial and over-payments paying the oldest bill first and leaving a balance that pays
//! the next bill, refunds, gap-free receipt numbers, online callbacks recorded once per provider
//! transaction with the amount checked, the day-end lock of a cash book, reminders through the
//! notification outbox — and a house in arrears whose resident still opens the door.

mod common;

use anfang_app::access::{DeviceEvent, DeviceEventKind, IssueCredential, Presented};
use anfang_app::fee_online::{CallbackOutcome, OnlineCallback, PaymentProvider};
use anfang_app::fee_payments::TakePayment;
use anfang_app::fees::{BillQuery, NewDiscount, NewFeeItem, NewReading, NewSubscription};
use anfang_app::notify::{ChannelKind, EventKind, NewChannel};
use anfang_app::registry::*;
use anfang_app::store::{FeeBillRow, HouseRow, Page};
use anfang_app::{App, AppConfig, AppError, Principal};
use anfang_base::SimClock;
use anfang_domain::fees::{AgeBracket, FeeSettings, Price};
use std::collections::BTreeMap;

const DAY: i64 = 86_400_000;

/// A community with one unit, its property manager and cashier.
struct Site {
    app: App,
    clock: SimClock,
    admin: Principal,
    pm: Principal,
    cashier: Principal,
    community_id: i64,
    unit_id: i64,
}

async fn site(dir: &std::path::Path) -> Site {
    let clock = SimClock::new(common::T0);
    let app = common::app_at(dir, AppConfig::default(), clock.clone())
        .await
        .with_payment_providers(vec![PaymentProvider {
            name: "sim".into(),
            secret: b"sim-secret".to_vec(),
        }]);
    let admin = common::user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let unit = common::unit(&app, &admin, community.id, "1").await;
    let scope = format!("community:{}", community.code);
    let pm = common::user(&app, "pm_a", "property_manager", &scope).await;
    let cashier = common::user(&app, "cashier", "cashier", &scope).await;
    Site {
        app,
        clock,
        admin,
        pm,
        cashier,
        community_id: community.id,
        unit_id: unit.id,
    }
}

async fn house(s: &Site, number: &str, area_m2: f64, use_kind: &str) -> HouseRow {
    s.app
        .create_house(
            &s.admin,
            &CreateHouse {
                unit_id: s.unit_id,
                number: number.into(),
                floor: 1,
                area_m2,
                use_kind: use_kind.into(),
            },
        )
        .await
        .unwrap()
}

async fn item(s: &Site, name: &str, kind: &str, rate_fen: i64, use_rates: &[(&str, i64)]) -> i64 {
    let price = Price {
        rate_fen,
        use_rates: use_rates
            .iter()
            .map(|(u, r)| (anfang_domain::model::HouseUse::parse(u).unwrap(), *r))
            .collect(),
    };
    s.app
        .create_fee_item(
            &s.pm,
            &NewFeeItem {
                community_id: s.community_id,
                name: name.into(),
                kind: kind.into(),
                price,
                effective_from: "2026-01-01".into(),
            },
        )
        .await
        .unwrap()
        .item
        .id
}

async fn bills_of(s: &Site, house_id: i64) -> Vec<FeeBillRow> {
    s.app
        .fee_bills(
            &s.pm,
            &BillQuery {
                house_id: Some(house_id),
                ..BillQuery::default()
            },
            PageRequest {
                page: 1,
                page_size: 100,
            },
        )
        .await
        .unwrap()
        .items
}

fn pay(house_id: i64, method: &str, amount_fen: i64) -> TakePayment {
    TakePayment {
        house_id,
        method: method.into(),
        amount_fen,
        reference: (method == "transfer").then(|| "BANK-20261123-1".to_string()),
        booked_on: None,
        note: None,
    }
}

async fn audit_actions(app: &App, action: &str) -> usize {
    let mut tx = app.store().read().await.unwrap();
    tx.list_audit(Page::ALL)
        .await
        .unwrap()
        .items
        .iter()
        .filter(|a| a.action == action)
        .count()
}

fn code(e: AppError) -> &'static str {
    e.code()
}

#[tokio::test]
async fn bills_prorate_moving_in_and_out_and_a_rerun_makes_no_second_bill() {
    let dir = tempfile::tempdir().unwrap();
    let s = site(dir.path()).await;
    let a = house(&s, "101", 88.5, "owner_occupied").await;
    let b = house(&s, "102", 120.0, "commercial").await;
    item(
        &s,
        "物业管理费",
        "property_management",
        150,
        &[("commercial", 300)],
    )
    .await;
    item(&s, "垃圾清运费", "fixed", 2_000, &[]).await;
    s.app
        .set_fee_terms(&s.pm, b.id, Some("2026-11-21"), None)
        .await
        .unwrap();
    let first = s
        .app
        .generate_bills(&s.pm, s.community_id, "2026-11")
        .await
        .unwrap();
    assert_eq!((first.created, first.existing), (2, 0));
    // A: 88.5 m² × 1.50 + 20.00 for the whole month. B, a shop, moved in on the 21st: 10 of 30
    // days of 120 m² × 3.00 and of the fixed fee.
    assert_eq!(bills_of(&s, a.id).await[0].amount_fen, 13_275 + 2_000);
    let b_nov = &bills_of(&s, b.id).await[0];
    assert_eq!(b_nov.amount_fen, 12_000 + 667);
    assert_eq!(
        (b_nov.due_on.as_str(), b_nov.period_end.as_str()),
        ("2026-12-01", "2026-11-30")
    );
    let view = s.app.fee_bill(&s.pm, b_nov.id).await.unwrap();
    assert_eq!(view.lines.len(), 2);
    assert_eq!((view.lines[0].days, view.lines[0].period_days), (10, 30));
    // Run again, and again as a quarter: nothing new.
    let again = s
        .app
        .generate_bills(&s.pm, s.community_id, "2026-11")
        .await
        .unwrap();
    assert_eq!((again.created, again.existing, again.total_fen), (0, 2, 0));
    let quarter = s
        .app
        .generate_bills(&s.pm, s.community_id, "2026-Q4")
        .await
        .unwrap();
    assert_eq!(quarter.created, 0);
    assert_eq!(
        quarter.overlapping,
        vec![(a.id, "2026-11".to_string()), (b.id, "2026-11".to_string())]
    );
    // B moves out on 14 December: 14 of 31 days.
    s.app
        .set_fee_terms(&s.pm, b.id, Some("2026-11-21"), Some("2026-12-14"))
        .await
        .unwrap();
    s.app
        .generate_bills(&s.pm, s.community_id, "2026-12")
        .await
        .unwrap();
    assert_eq!(bills_of(&s, b.id).await[1].amount_fen, 16_258 + 903);
    assert_eq!(bills_of(&s, a.id).await.len(), 2);
    // Gone by January: no bill at all.
    let january = s
        .app
        .generate_bills(&s.pm, s.community_id, "2027-01")
        .await
        .unwrap();
    assert_eq!((january.created, january.empty), (1, 1));
    assert_eq!(audit_actions(&s.app, "fees.bill_create").await, 5);
    // Bad input is refused precisely; a period outside the caller's scope is not found.
    assert_eq!(
        code(
            s.app
                .generate_bills(&s.pm, s.community_id, "2026-13")
                .await
                .unwrap_err()
        ),
        "invalid_period"
    );
    assert_eq!(
        code(
            s.app
                .generate_bills(&s.pm, s.community_id + 99, "2026-11")
                .await
                .unwrap_err()
        ),
        "not_found"
    );
    assert_eq!(
        code(
            s.app
                .generate_bills(&s.cashier, s.community_id, "2026-11")
                .await
                .unwrap_err()
        ),
        "forbidden"
    );
}

#[tokio::test]
async fn discounts_rented_spaces_and_shared_meters_make_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let s = site(dir.path()).await;
    let a = house(&s, "101", 88.5, "owner_occupied").await;
    let b = house(&s, "102", 120.0, "owner_occupied").await;
    let management = item(&s, "物业管理费", "property_management", 150, &[]).await;
    let rent = item(&s, "车位租金", "parking_space_rent", 30_000, &[]).await;
    let power = item(&s, "公摊电费", "utility", 60, &[]).await;
    s.app
        .add_fee_discount(
            &s.pm,
            &NewDiscount {
                house_id: a.id,
                item_id: None,
                off_bp: 10_000,
                start_on: "2026-11-01".into(),
                end_on: None,
                reason: "低保户减免".into(),
            },
        )
        .await
        .unwrap();
    s.app
        .add_fee_discount(
            &s.pm,
            &NewDiscount {
                house_id: b.id,
                item_id: Some(management),
                off_bp: 2_000,
                start_on: "2026-11-16".into(),
                end_on: Some("2026-11-30".into()),
                reason: "维修期间减收".into(),
            },
        )
        .await
        .unwrap();
    let no_reason = NewDiscount {
        house_id: b.id,
        item_id: None,
        off_bp: 100,
        start_on: "2026-11-01".into(),
        end_on: None,
        reason: " ".into(),
    };
    assert_eq!(
        code(s.app.add_fee_discount(&s.pm, &no_reason).await.unwrap_err()),
        "missing_field"
    );
    s.app
        .subscribe_fee(
            &s.pm,
            &NewSubscription {
                item_id: rent,
                house_id: b.id,
                label: "B-017".into(),
                start_on: "2026-11-16".into(),
                end_on: None,
            },
        )
        .await
        .unwrap();
    let not_rent = NewSubscription {
        item_id: management,
        house_id: b.id,
        label: "x".into(),
        start_on: "2026-11-01".into(),
        end_on: None,
    };
    assert_eq!(
        code(s.app.subscribe_fee(&s.pm, &not_rent).await.unwrap_err()),
        "not_subscribable"
    );
    let reading = NewReading {
        item_id: power,
        period: "2026-11".into(),
        building_id: None,
        house_id: None,
        units: 1_000,
    };
    s.app.record_fee_reading(&s.pm, &reading).await.unwrap();
    assert_eq!(
        code(s.app.record_fee_reading(&s.pm, &reading).await.unwrap_err()),
        "reading_exists"
    );
    s.app
        .generate_bills(&s.pm, s.community_id, "2026-11")
        .await
        .unwrap();
    // A is exempt from everything: its lines show what it would have paid.
    let a_bill = s
        .app
        .fee_bill(&s.pm, bills_of(&s, a.id).await[0].id)
        .await
        .unwrap();
    assert_eq!(a_bill.bill.amount_fen, 0);
    let a_lines: BTreeMap<&str, (i64, i64)> = a_bill
        .lines
        .iter()
        .map(|l| (l.name.as_str(), (l.base_fen, l.discount_fen)))
        .collect();
    assert_eq!(a_lines["物业管理费"], (13_275, 13_275));
    // 1,000 units × 0.60 shared by area 88.5 : 120 — every fen accounted for.
    assert_eq!(a_lines["公摊电费"], (25_468, 25_468));
    let b_bill = s
        .app
        .fee_bill(&s.pm, bills_of(&s, b.id).await[0].id)
        .await
        .unwrap();
    let b_lines: BTreeMap<&str, i64> = b_bill
        .lines
        .iter()
        .map(|l| (l.name.as_str(), l.amount_fen))
        .collect();
    // 120 m² × 1.50 = 180.00, 20 % off for 15 of 30 days; half a month of the space.
    assert_eq!(b_lines["物业管理费"], 18_000 - 1_800);
    assert_eq!(b_lines["车位租金"], 15_000);
    assert_eq!(b_lines["公摊电费"], 34_532);
    assert!(b_bill.lines.iter().any(|l| l.note.contains("B-017")));
}

#[tokio::test]
async fn partial_and_over_payments_pay_the_oldest_bill_first_and_the_rest_pays_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let s = site(dir.path()).await;
    let a = house(&s, "101", 88.5, "owner_occupied").await;
    item(&s, "综合服务费", "fixed", 10_000, &[]).await;
    for period in ["2026-10", "2026-11"] {
        s.app.generate_bills(&s.pm, s.community_id, period).await.unwrap();
    }
    let october = bills_of(&s, a.id).await[0].id;
    let first = s
        .app
        .take_fee_payment(&s.cashier, &pay(a.id, "cash", 4_000))
        .await
        .unwrap();
    assert_eq!(first.payment.receipt_no, "370323001001001-2026-000001");
    assert_eq!(first.lines.len(), 1);
    assert_eq!(
        (first.lines[0].bill_id, first.lines[0].amount_fen),
        (october, 4_000)
    );
    assert_eq!(first.to_balance_fen, 0);
    let second = s
        .app
        .take_fee_payment(&s.cashier, &pay(a.id, "transfer", 20_000))
        .await
        .unwrap();
    assert_eq!(second.payment.receipt_no, "370323001001001-2026-000002");
    let paid: Vec<(String, i64)> = second
        .lines
        .iter()
        .map(|l| (l.period.clone(), l.amount_fen))
        .collect();
    assert_eq!(
        paid,
        [("2026-10".to_string(), 6_000), ("2026-11".to_string(), 10_000)]
    );
    assert_eq!(second.to_balance_fen, 4_000);
    let account = s.app.house_fee_account(&s.pm, a.id).await.unwrap();
    assert_eq!((account.outstanding_fen, account.balance_fen), (0, 4_000));
    assert!(bills_of(&s, a.id).await.iter().all(|b| b.outstanding_fen() == 0));
    // December's bill takes the balance when it is made.
    s.app
        .generate_bills(&s.pm, s.community_id, "2026-12")
        .await
        .unwrap();
    let dec = bills_of(&s, a.id).await[2].clone();
    assert_eq!((dec.paid_fen, dec.outstanding_fen()), (4_000, 6_000));
    let account = s.app.house_fee_account(&s.pm, a.id).await.unwrap();
    assert_eq!((account.outstanding_fen, account.balance_fen), (6_000, 0));
    // Adjustments have a reason, never lower a bill below what was paid, and are audited.
    let adjusted = s
        .app
        .adjust_fee_bill(&s.pm, dec.id, -1_000, "电梯停运减收")
        .await
        .unwrap();
    assert_eq!(adjusted.bill.outstanding_fen(), 5_000);
    assert_eq!(adjusted.adjustments[0].actor, "user:pm_a");
    assert_eq!(
        code(
            s.app
                .adjust_fee_bill(&s.pm, dec.id, -6_000, "减免")
                .await
                .unwrap_err()
        ),
        "below_paid"
    );
    assert_eq!(
        code(s.app.adjust_fee_bill(&s.pm, dec.id, 100, "").await.unwrap_err()),
        "missing_field"
    );
    assert_eq!(
        code(
            s.app
                .adjust_fee_bill(&s.cashier, dec.id, 100, "x")
                .await
                .unwrap_err()
        ),
        "forbidden"
    );
    assert_eq!(audit_actions(&s.app, "fees.bill_adjust").await, 1);
    // Bad payments are refused before anything is written.
    let mut no_reference = pay(a.id, "transfer", 100);
    no_reference.reference = None;
    assert_eq!(
        code(
            s.app
                .take_fee_payment(&s.cashier, &no_reference)
                .await
                .unwrap_err()
        ),
        "missing_field"
    );
    assert_eq!(
        code(
            s.app
                .take_fee_payment(&s.cashier, &pay(a.id, "cash", 0))
                .await
                .unwrap_err()
        ),
        "invalid_amount"
    );
    assert_eq!(
        code(
            s.app
                .take_fee_payment(&s.cashier, &pay(a.id, "online", 100))
                .await
                .unwrap_err()
        ),
        "invalid_method"
    );
    let third = s
        .app
        .take_fee_payment(&s.cashier, &pay(a.id, "cash", 100))
        .await
        .unwrap();
    assert_eq!(third.payment.receipt_no, "370323001001001-2026-000003", "no gaps");
}

#[tokio::test]
async fn a_refund_takes_the_balance_first_then_reopens_the_newest_bill() {
    let dir = tempfile::tempdir().unwrap();
    let s = site(dir.path()).await;
    let a = house(&s, "101", 88.5, "owner_occupied").await;
    item(&s, "综合服务费", "fixed", 10_000, &[]).await;
    for period in ["2026-10", "2026-11"] {
        s.app.generate_bills(&s.pm, s.community_id, period).await.unwrap();
    }
    let receipt = s
        .app
        .take_fee_payment(&s.cashier, &pay(a.id, "cash", 25_000))
        .await
        .unwrap();
    assert_eq!(receipt.to_balance_fen, 5_000);
    let id = receipt.payment.id;
    assert_eq!(
        code(
            s.app
                .refund_fee_payment(&s.cashier, id, 1, "多缴", None)
                .await
                .unwrap_err()
        ),
        "forbidden"
    );
    let after = s
        .app
        .refund_fee_payment(&s.pm, id, 7_000, "多缴退回", None)
        .await
        .unwrap();
    assert_eq!(after.payment.refunded_fen, 7_000);
    assert_eq!(after.to_balance_fen, 0);
    let lines: Vec<i64> = after.lines.iter().map(|l| l.amount_fen).collect();
    assert_eq!(lines, [10_000, 8_000], "October stays paid, November reopens");
    assert_eq!(bills_of(&s, a.id).await[1].outstanding_fen(), 2_000);
    assert_eq!(
        code(
            s.app
                .refund_fee_payment(&s.pm, id, 18_001, "全退", None)
                .await
                .unwrap_err()
        ),
        "exceeds_payment"
    );
    s.app
        .refund_fee_payment(&s.pm, id, 18_000, "全退", None)
        .await
        .unwrap();
    let account = s.app.house_fee_account(&s.pm, a.id).await.unwrap();
    assert_eq!((account.outstanding_fen, account.balance_fen), (20_000, 0));
    let receipt = s.app.fee_receipt(&s.pm, id).await.unwrap();
    assert!(receipt.lines.is_empty());
    assert_eq!(receipt.refunds.len(), 2);
    assert_eq!(audit_actions(&s.app, "fees.refund").await, 2);
}

/// A resident of `house` logged in with their house scope.
async fn resident(s: &Site, name: &str, house: &HouseRow) -> Principal {
    common::user(&s.app, name, "resident", &format!("house:{}", house.id)).await
}

fn callback(txn: &str, order_no: &str, amount_fen: i64) -> OnlineCallback {
    OnlineCallback {
        provider: "sim".into(),
        transaction_id: txn.into(),
        order_no: order_no.into(),
        amount_fen,
        paid: true,
    }
}

#[tokio::test]
async fn an_online_callback_replayed_records_one_payment_and_a_wrong_amount_none() {
    let dir = tempfile::tempdir().unwrap();
    let s = site(dir.path()).await;
    let a = house(&s, "101", 88.5, "owner_occupied").await;
    let b = house(&s, "102", 88.5, "owner_occupied").await;
    item(&s, "综合服务费", "fixed", 10_000, &[]).await;
    s.app
        .generate_bills(&s.pm, s.community_id, "2026-11")
        .await
        .unwrap();
    let me = resident(&s, "res_a", &a).await;
    // A resident pays their own house, never another's.
    assert_eq!(
        code(s.app.create_fee_order(&me, b.id, "sim", None).await.unwrap_err()),
        "not_found"
    );
    assert_eq!(
        code(
            s.app
                .create_fee_order(&me, a.id, "paypal", None)
                .await
                .unwrap_err()
        ),
        "unknown_provider"
    );
    let order = s.app.create_fee_order(&me, a.id, "sim", None).await.unwrap();
    assert_eq!((order.amount_fen, order.status.as_str()), (10_000, "pending"));
    let first = s
        .app
        .settle_online_payment(&callback("T-1", &order.order_no, 10_000))
        .await
        .unwrap();
    let CallbackOutcome::Paid { receipt, replay } = first else {
        panic!("paid")
    };
    assert!(!replay);
    assert_eq!(receipt.payment.cashier, "online:sim");
    for _ in 0..2 {
        let again = s
            .app
            .settle_online_payment(&callback("T-1", &order.order_no, 10_000))
            .await
            .unwrap();
        let CallbackOutcome::Paid {
            receipt: same,
            replay,
        } = again
        else {
            panic!("replayed")
        };
        assert!(replay);
        assert_eq!(same.payment.receipt_no, receipt.payment.receipt_no);
    }
    let payments = s.app.fee_payments(
        &s.pm,
        None,
        Some(a.id),
        PageRequest {
            page: 1,
            page_size: 50,
        },
    );
    assert_eq!(payments.await.unwrap().total, 1);
    assert_eq!(s.app.fee_order(&me, order.id).await.unwrap().status, "paid");
    assert_eq!(bills_of(&s, a.id).await[0].outstanding_fen(), 0);
    // Paying ahead; the provider reports another amount: refused, nothing written.
    let ahead = s
        .app
        .create_fee_order(&me, a.id, "sim", Some(5_000))
        .await
        .unwrap();
    assert_eq!(
        code(
            s.app
                .settle_online_payment(&callback("T-2", &ahead.order_no, 4_999))
                .await
                .unwrap_err()
        ),
        "amount_mismatch"
    );
    assert_eq!(s.app.fee_order(&me, ahead.id).await.unwrap().status, "pending");
    assert_eq!(
        code(
            s.app
                .settle_online_payment(&callback("T-3", "FO-NONE", 5_000))
                .await
                .unwrap_err()
        ),
        "not_found"
    );
    // A failure closes the order; a late success for it is refused.
    let failed = OnlineCallback {
        paid: false,
        ..callback("T-4", &ahead.order_no, 5_000)
    };
    for _ in 0..2 {
        assert!(matches!(
            s.app.settle_online_payment(&failed).await.unwrap(),
            CallbackOutcome::Failed { .. }
        ));
    }
    assert_eq!(
        code(
            s.app
                .settle_online_payment(&callback("T-5", &ahead.order_no, 5_000))
                .await
                .unwrap_err()
        ),
        "order_settled"
    );
    let payments = s.app.fee_payments(
        &me,
        None,
        Some(a.id),
        PageRequest {
            page: 1,
            page_size: 50,
        },
    );
    assert_eq!(payments.await.unwrap().total, 1);
    // The online book of the day holds it.
    let book = s
        .app
        .cash_book(&s.pm, s.community_id, None, Some("online:sim"))
        .await
        .unwrap();
    assert_eq!((book.totals.online_fen, book.totals.receipts), (10_000, 1));
}

#[tokio::test]
async fn a_closed_day_refuses_later_entries_which_go_on_the_next_day() {
    let dir = tempfile::tempdir().unwrap();
    let s = site(dir.path()).await;
    let a = house(&s, "101", 88.5, "owner_occupied").await;
    item(&s, "综合服务费", "fixed", 10_000, &[]).await;
    s.app
        .generate_bills(&s.pm, s.community_id, "2026-11")
        .await
        .unwrap();
    let cash = s
        .app
        .take_fee_payment(&s.cashier, &pay(a.id, "cash", 3_000))
        .await
        .unwrap();
    let closed = s
        .app
        .close_cash_book(&s.cashier, s.community_id, None, None)
        .await
        .unwrap();
    assert_eq!(
        (closed.day.as_str(), closed.totals.cash_fen),
        ("2026-11-23", 3_000)
    );
    assert!(closed.closed.is_some());
    assert_eq!(
        code(
            s.app
                .take_fee_payment(&s.cashier, &pay(a.id, "cash", 1_000))
                .await
                .unwrap_err()
        ),
        "cash_book_closed"
    );
    assert_eq!(
        code(
            s.app
                .close_cash_book(&s.cashier, s.community_id, None, None)
                .await
                .unwrap_err()
        ),
        "already_closed"
    );
    let mut tomorrow = pay(a.id, "cash", 1_000);
    tomorrow.booked_on = Some("2026-11-24".into());
    let next = s.app.take_fee_payment(&s.cashier, &tomorrow).await.unwrap();
    assert_eq!(next.payment.booked_on, "2026-11-24");
    // A cashier reads only their own book; the manager reads theirs.
    assert_eq!(
        code(
            s.app
                .cash_book(&s.cashier, s.community_id, None, Some("user:pm_a"))
                .await
                .unwrap_err()
        ),
        "forbidden"
    );
    let seen = s
        .app
        .cash_book(&s.pm, s.community_id, Some("2026-11-23"), Some("user:cashier"))
        .await
        .unwrap();
    assert_eq!(seen.payments.len(), 1);
    // Refunds too: the manager's closed day refuses one dated on it.
    s.app
        .close_cash_book(&s.pm, s.community_id, None, None)
        .await
        .unwrap();
    let refused = s
        .app
        .refund_fee_payment(&s.pm, cash.payment.id, 500, "错收", None)
        .await
        .unwrap_err();
    assert_eq!(code(refused), "cash_book_closed");
    s.app
        .refund_fee_payment(&s.pm, cash.payment.id, 500, "错收", Some("2026-11-24"))
        .await
        .unwrap();
    assert_eq!(
        code(
            s.app
                .close_cash_book(&s.pm, s.community_id, Some("2026-11-25"), None)
                .await
                .unwrap_err()
        ),
        "invalid_date"
    );
    // At day end the job closes the books left open.
    s.clock.advance_ms(2 * DAY);
    let report = s.app.run_fee_jobs().await.unwrap();
    assert_eq!(report.books_closed, 2, "the cashier's and the manager's 24th");
    assert_eq!(s.app.run_fee_jobs().await.unwrap().books_closed, 0);
    let mut late = pay(a.id, "cash", 100);
    late.booked_on = Some("2026-11-24".into());
    assert_eq!(
        code(s.app.take_fee_payment(&s.cashier, &late).await.unwrap_err()),
        "cash_book_closed"
    );
}

#[tokio::test]
async fn a_house_in_arrears_still_opens_its_doors_and_is_reminded() {
    let dir = tempfile::tempdir().unwrap();
    let s = site(dir.path()).await;
    let a = house(&s, "101", 88.5, "owner_occupied").await;
    item(&s, "综合服务费", "fixed", 10_000, &[]).await;
    s.app
        .set_fee_settings(
            &s.pm,
            s.community_id,
            &FeeSettings {
                auto_generate: true,
                ..FeeSettings::default()
            },
        )
        .await
        .unwrap();
    s.app
        .generate_bills(&s.pm, s.community_id, "2026-08")
        .await
        .unwrap();
    // The property office's webhook takes fee reminders; the police may not see fees at all.
    let police = common::user(&s.app, "police", "community_police", "district").await;
    let fee_channel = |who: &Principal| {
        let who = who.clone();
        let app = s.app.clone();
        let community_id = s.community_id;
        async move {
            app.create_channel(
                &who,
                &NewChannel {
                    name: "物业催缴".into(),
                    channel: ChannelKind::Webhook,
                    address: "https://pm.example.cn/hook".into(),
                    kinds: vec![EventKind::Fee],
                    min_severity: None,
                    community_id: Some(community_id),
                },
            )
            .await
        }
    };
    assert_eq!(code(fee_channel(&police).await.unwrap_err()), "forbidden");
    let channel = fee_channel(&s.pm).await.unwrap().channel;
    assert_eq!(
        code(
            s.app
                .fee_arrears(&police, s.community_id, None)
                .await
                .unwrap_err()
        ),
        "forbidden"
    );
    let arrears = s.app.fee_arrears(&s.pm, s.community_id, None).await.unwrap();
    assert_eq!(arrears.rows.len(), 1);
    assert_eq!(arrears.rows[0].by_bracket[&AgeBracket::Days31To90], 10_000);
    assert_eq!(arrears.overdue_fen, 10_000);
    // The periodic job makes November's bill on its own, and reminds the house once.
    let report = s.app.run_fee_jobs().await.unwrap();
    assert_eq!((report.bills_created, report.reminders), (1, 1));
    let again = s.app.run_fee_jobs().await.unwrap();
    assert_eq!((again.bills_created, again.reminders), (0, 0));
    let sent = s
        .app
        .channel_deliveries(
            &s.pm,
            channel.id,
            PageRequest {
                page: 1,
                page_size: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(sent.items.len(), 1);
    assert_eq!(sent.items[0].event, "fee.reminder");
    assert!(
        sent.items[0].payload.contains("\"overdue_fen\":10000"),
        "{}",
        sent.items[0].payload
    );
    // The owner, 84 days overdue, still opens the unit door and the gate with their card.
    let person = s
        .app
        .create_person(
            &s.admin,
            &CreatePerson {
                community_id: s.community_id,
                name: "欠费业主".into(),
                gender: "male".into(),
                id_type: "resident_id".into(),
                id_number: "370323198001010018".into(),
                phone: None,
                population_type: "registered".into(),
                tags: vec![],
                house: Some(SetPersonHouse {
                    house_id: a.id,
                    role: "owner".into(),
                    lease_start: None,
                    lease_end: None,
                    schedule: None,
                }),
            },
        )
        .await
        .unwrap();
    s.app
        .issue_credential(
            &s.admin,
            person.id,
            &IssueCredential {
                kind: "card".into(),
                value: "CA0DFEE1".into(),
                valid_until: None,
            },
        )
        .await
        .unwrap();
    for (i, (kind, unit_id)) in [("unit_door", Some(s.unit_id)), ("pedestrian_entrance", None)]
        .into_iter()
        .enumerate()
    {
        let place = s
            .app
            .create_place(
                &s.admin,
                &CreatePlace {
                    community_id: s.community_id,
                    kind: kind.into(),
                    name: format!("门{i}"),
                    x: 1.0,
                    y: 1.0,
                    attended: false,
                    unit_id,
                },
            )
            .await
            .unwrap();
        let (door, _) = s
            .app
            .create_device(
                None,
                &CreateDevice {
                    code: format!("3703230000132000010{i}"),
                    kind: "face_door_terminal".into(),
                    protocol: "mqtt".into(),
                    community_id: Some(s.community_id),
                    place_id: Some(place.id),
                    ..CreateDevice::default()
                },
            )
            .await
            .unwrap();
        let event = DeviceEvent {
            event_id: format!("swipe-{i}"),
            at_ms: 0,
            kind: DeviceEventKind::Credential {
                presented: Presented::Card("CA0DFEE1".into()),
                decided_locally: None,
            },
            body_json: "{}".into(),
            images: Vec::new(),
        };
        let decided = s.app.decide_event(&door.code, &event).await.unwrap().unwrap();
        assert_eq!(
            (
                decided.decision().outcome.as_str(),
                decided.decision().reason.as_str()
            ),
            ("open", "resident"),
            "{kind}"
        );
    }
    let still_owing = s.app.house_fee_account(&s.pm, a.id).await.unwrap();
    assert_eq!(still_owing.outstanding_fen, 20_000);
}

#[tokio::test]
async fn fees_are_seen_by_the_property_company_and_each_resident_of_their_own_house() {
    let dir = tempfile::tempdir().unwrap();
    let s = site(dir.path()).await;
    let a = house(&s, "101", 88.5, "owner_occupied").await;
    let b = house(&s, "102", 88.5, "owner_occupied").await;
    item(&s, "综合服务费", "fixed", 10_000, &[]).await;
    s.app
        .generate_bills(&s.pm, s.community_id, "2026-11")
        .await
        .unwrap();
    let me = resident(&s, "res_a", &a).await;
    let page = || PageRequest {
        page: 1,
        page_size: 50,
    };
    let mine = s
        .app
        .fee_bills(
            &me,
            &BillQuery {
                community_id: Some(s.community_id),
                ..BillQuery::default()
            },
            page(),
        )
        .await
        .unwrap();
    assert_eq!(
        mine.items.iter().map(|b| b.house_id).collect::<Vec<_>>(),
        vec![a.id]
    );
    let theirs = bills_of(&s, b.id).await[0].id;
    assert_eq!(code(s.app.fee_bill(&me, theirs).await.unwrap_err()), "not_found");
    assert_eq!(
        code(s.app.house_fee_account(&me, b.id).await.unwrap_err()),
        "not_found"
    );
    assert_eq!(
        code(s.app.fee_arrears(&me, s.community_id, None).await.unwrap_err()),
        "not_found"
    );
    assert_eq!(
        code(
            s.app
                .take_fee_payment(&me, &pay(a.id, "cash", 100))
                .await
                .unwrap_err()
        ),
        "forbidden"
    );
    for role in [
        "street_officer",
        "community_police",
        "housing_construction",
        "district_admin",
    ] {
        let who = common::user(&s.app, role, role, "district").await;
        assert_eq!(
            code(s.app.fee_bill(&who, theirs).await.unwrap_err()),
            "forbidden",
            "{role}"
        );
    }
    // Another community's manager finds nothing here.
    let other = common::user(&s.app, "pm_b", "property_manager", "community:370323001001999").await;
    assert_eq!(
        code(s.app.fee_bill(&other, theirs).await.unwrap_err()),
        "not_found"
    );
    assert_eq!(
        code(s.app.fee_items(&other, s.community_id).await.unwrap_err()),
        "not_found"
    );
}
