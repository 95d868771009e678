-- Property fees (物业费): fee items per community with prices dated from a day on, each
-- community's fee settings, houses' move-in/move-out, parking-space subscriptions, discounts and
-- exemptions, meter readings; bills (one per house and period) with their adjustments; payments
-- with gap-free receipt numbers per community and year, their allocations to bills and their
-- refunds; online-payment orders (a provider's transaction is recorded once); cashiers' days
-- and their closing; reminders sent. Amounts are integer fen; dates are YYYY-MM-DD text.
-- Keep in step with migrations/postgres/0022_fees.sql.

CREATE TABLE fee_items (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    active        INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    UNIQUE (community_id, name)
);

CREATE TABLE fee_prices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id         INTEGER NOT NULL REFERENCES fee_items(id),
    effective_from  TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    UNIQUE (item_id, effective_from)
);

CREATE TABLE fee_settings (
    community_id  INTEGER PRIMARY KEY REFERENCES communities(id),
    body          TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    updated_by    TEXT NOT NULL
);

CREATE TABLE fee_terms (
    house_id        INTEGER PRIMARY KEY REFERENCES houses(id),
    billable_from   TEXT,
    billable_until  TEXT,
    updated_at      INTEGER NOT NULL,
    updated_by      TEXT NOT NULL
);

CREATE TABLE fee_subscriptions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id     INTEGER NOT NULL REFERENCES fee_items(id),
    house_id    INTEGER NOT NULL REFERENCES houses(id),
    label       TEXT NOT NULL,
    start_on    TEXT NOT NULL,
    end_on      TEXT,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX fee_subscriptions_item ON fee_subscriptions(item_id);

CREATE TABLE fee_discounts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    house_id    INTEGER NOT NULL REFERENCES houses(id),
    item_id     INTEGER REFERENCES fee_items(id),
    off_bp      INTEGER NOT NULL,
    start_on    TEXT NOT NULL,
    end_on      TEXT,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX fee_discounts_house ON fee_discounts(house_id);

CREATE TABLE fee_readings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id     INTEGER NOT NULL REFERENCES fee_items(id),
    period      TEXT NOT NULL,
    target      TEXT NOT NULL,
    units       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    UNIQUE (item_id, period, target)
);

CREATE TABLE fee_bills (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    building_id   INTEGER NOT NULL REFERENCES buildings(id),
    house_id      INTEGER NOT NULL REFERENCES houses(id),
    period        TEXT NOT NULL,
    period_start  TEXT NOT NULL,
    period_end    TEXT NOT NULL,
    due_on        TEXT NOT NULL,
    amount_fen    INTEGER NOT NULL,
    adjusted_fen  INTEGER NOT NULL,
    paid_fen      INTEGER NOT NULL,
    lines         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    UNIQUE (house_id, period)
);
CREATE INDEX fee_bills_community ON fee_bills(community_id, period_start);

CREATE TABLE fee_adjustments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    bill_id     INTEGER NOT NULL REFERENCES fee_bills(id),
    amount_fen  INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX fee_adjustments_bill ON fee_adjustments(bill_id, id);

CREATE TABLE fee_receipt_counters (
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    year          INTEGER NOT NULL,
    last_seq      INTEGER NOT NULL,
    PRIMARY KEY (community_id, year)
);

CREATE TABLE fee_orders (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    order_no      TEXT NOT NULL UNIQUE,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    house_id      INTEGER NOT NULL REFERENCES houses(id),
    provider      TEXT NOT NULL,
    amount_fen    INTEGER NOT NULL,
    status        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    payment_id    INTEGER
);

CREATE TABLE fee_payments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    house_id        INTEGER NOT NULL REFERENCES houses(id),
    receipt_no      TEXT NOT NULL UNIQUE,
    method          TEXT NOT NULL,
    amount_fen      INTEGER NOT NULL,
    refunded_fen    INTEGER NOT NULL,
    cashier         TEXT NOT NULL,
    booked_on       TEXT NOT NULL,
    paid_at         INTEGER NOT NULL,
    reference       TEXT,
    provider        TEXT,
    transaction_id  TEXT,
    order_id        INTEGER REFERENCES fee_orders(id),
    note            TEXT NOT NULL,
    UNIQUE (provider, transaction_id)
);
CREATE INDEX fee_payments_house ON fee_payments(house_id, id);
CREATE INDEX fee_payments_book ON fee_payments(community_id, booked_on);

CREATE TABLE fee_allocations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id  INTEGER NOT NULL REFERENCES fee_payments(id),
    bill_id     INTEGER NOT NULL REFERENCES fee_bills(id),
    amount_fen  INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX fee_allocations_payment ON fee_allocations(payment_id);
CREATE INDEX fee_allocations_bill ON fee_allocations(bill_id);

CREATE TABLE fee_refunds (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id    INTEGER NOT NULL REFERENCES fee_payments(id),
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    amount_fen    INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    cashier       TEXT NOT NULL,
    booked_on     TEXT NOT NULL,
    at            INTEGER NOT NULL
);
CREATE INDEX fee_refunds_payment ON fee_refunds(payment_id);
CREATE INDEX fee_refunds_book ON fee_refunds(community_id, booked_on);

-- A cashier's day: every payment or refund booked on it counts itself here first, and closing
-- sets closed_at on the same row, so an entry and the closing of its day never pass each other.
CREATE TABLE fee_cash_books (
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    cashier       TEXT NOT NULL,
    day           TEXT NOT NULL,
    entries       INTEGER NOT NULL,
    closed_at     INTEGER,
    closed_by     TEXT,
    totals        TEXT,
    PRIMARY KEY (community_id, cashier, day)
);

CREATE TABLE fee_reminders (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    house_id       INTEGER NOT NULL REFERENCES houses(id),
    overdue_fen    INTEGER NOT NULL,
    oldest_due_on  TEXT NOT NULL,
    at             INTEGER NOT NULL
);
CREATE INDEX fee_reminders_house ON fee_reminders(community_id, house_id, at);
CREATE INDEX parking_payments_paid ON parking_payments(paid_at);
