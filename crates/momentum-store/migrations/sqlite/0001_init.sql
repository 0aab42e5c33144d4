-- Momentum schema, SQLite tree. Keep in step with ../postgres/0001_init.sql: a test
-- checks both trees give the same tables and columns.
--
-- Every table carries org_id, and every primary and foreign key starts with it, so the
-- schema can be distributed by org (Citus: create_distributed_table(t, 'org_id')).
-- Timestamps are UTC seconds since the epoch (INTEGER, column suffix _at); calendar dates
-- are ISO text (YYYY-MM-DD, suffix _on), months YYYY-MM. Money is integer minor units.

CREATE TABLE orgs (
    org_id INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL,
    timezone TEXT NOT NULL,
    cadence_first_every_days INTEGER NOT NULL,
    cadence_first_for_days INTEGER NOT NULL,
    cadence_then_every_days INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE ladder_steps (
    org_id INTEGER NOT NULL REFERENCES orgs (org_id),
    step INTEGER NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (org_id, step)
);

CREATE TABLE users (
    org_id INTEGER NOT NULL REFERENCES orgs (org_id),
    user_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('seller', 'manager', 'admin')),
    manager_id INTEGER,
    active INTEGER NOT NULL,
    password_hash TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id),
    UNIQUE (org_id, email),
    FOREIGN KEY (org_id, manager_id) REFERENCES users (org_id, user_id)
);

CREATE TABLE accounts (
    org_id INTEGER NOT NULL REFERENCES orgs (org_id),
    account_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    domain TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, account_id)
);
CREATE INDEX accounts_by_name ON accounts (org_id, name);

CREATE TABLE contacts (
    org_id INTEGER NOT NULL REFERENCES orgs (org_id),
    contact_id INTEGER NOT NULL,
    account_id INTEGER,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    title TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, contact_id),
    FOREIGN KEY (org_id, account_id) REFERENCES accounts (org_id, account_id)
);
CREATE INDEX contacts_by_account ON contacts (org_id, account_id);

CREATE TABLE deals (
    org_id INTEGER NOT NULL REFERENCES orgs (org_id),
    deal_id INTEGER NOT NULL,
    owner_id INTEGER NOT NULL,
    account_id INTEGER,
    contact_id INTEGER,
    title TEXT NOT NULL,
    value_minor INTEGER,
    currency TEXT NOT NULL,
    expected_close_on TEXT,
    stage INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost', 'disqualified')),
    closed_at INTEGER,
    lost_category TEXT,
    close_words TEXT,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    interaction_count INTEGER NOT NULL,
    decision_count INTEGER NOT NULL,
    last_touch_at INTEGER,
    last_buyer_response_at INTEGER,
    last_decision_at INTEGER,
    provenance TEXT,
    external_id TEXT,
    PRIMARY KEY (org_id, deal_id),
    FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, user_id),
    FOREIGN KEY (org_id, account_id) REFERENCES accounts (org_id, account_id),
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, contact_id)
);
CREATE INDEX deals_by_owner ON deals (org_id, owner_id, status, deal_id);
CREATE INDEX deals_by_status ON deals (org_id, status, stage);
CREATE UNIQUE INDEX deals_by_external_id ON deals (org_id, external_id);

-- One row per open deal: the primary key makes "at most one next step" structural; the
-- core makes "at least one" hold.
CREATE TABLE next_steps (
    org_id INTEGER NOT NULL,
    deal_id INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    aims_at INTEGER NOT NULL,
    buyer_committed INTEGER NOT NULL,
    set_at INTEGER NOT NULL,
    set_by INTEGER,
    PRIMARY KEY (org_id, deal_id),
    FOREIGN KEY (org_id, deal_id) REFERENCES deals (org_id, deal_id)
);
CREATE INDEX next_steps_by_due ON next_steps (org_id, due_at);

CREATE TABLE compelling_needs (
    org_id INTEGER NOT NULL,
    deal_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    buyer_words TEXT NOT NULL,
    consequence TEXT NOT NULL,
    matters_on TEXT NOT NULL,
    cost_per_month_minor INTEGER NOT NULL,
    cost_currency TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    recorded_by INTEGER NOT NULL,
    PRIMARY KEY (org_id, deal_id),
    FOREIGN KEY (org_id, deal_id) REFERENCES deals (org_id, deal_id)
);

CREATE TABLE decisions (
    org_id INTEGER NOT NULL,
    deal_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    from_stage INTEGER NOT NULL,
    to_stage INTEGER NOT NULL,
    direction TEXT NOT NULL,
    contact_id INTEGER,
    decided_at INTEGER NOT NULL,
    recorded_by INTEGER,
    interaction_seq INTEGER,
    note TEXT,
    PRIMARY KEY (org_id, deal_id, seq),
    FOREIGN KEY (org_id, deal_id) REFERENCES deals (org_id, deal_id)
);

CREATE TABLE interactions (
    org_id INTEGER NOT NULL,
    deal_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    contact_id INTEGER,
    kind TEXT NOT NULL,
    objective INTEGER NOT NULL,
    result TEXT NOT NULL,
    commitment TEXT NOT NULL,
    notes TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, deal_id, seq),
    FOREIGN KEY (org_id, deal_id) REFERENCES deals (org_id, deal_id)
);

CREATE TABLE goals (
    org_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    month TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    set_by INTEGER NOT NULL,
    set_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, month),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, user_id)
);

CREATE TABLE check_ins (
    org_id INTEGER NOT NULL,
    check_in_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    checked_on TEXT NOT NULL,
    commitment INTEGER NOT NULL CHECK (commitment BETWEEN 1 AND 10),
    why TEXT NOT NULL,
    obstacle TEXT,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, check_in_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, user_id)
);
CREATE INDEX check_ins_by_user ON check_ins (org_id, user_id, checked_on);

-- Invariant 4: the ledger and the interaction log are append-only, even for SQL typed by hand.
CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions is append-only: corrections are new entries'); END;
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions is append-only: corrections are new entries'); END;
CREATE TRIGGER interactions_no_update BEFORE UPDATE ON interactions
BEGIN SELECT RAISE(ABORT, 'interactions is append-only: corrections are new entries'); END;
CREATE TRIGGER interactions_no_delete BEFORE DELETE ON interactions
BEGIN SELECT RAISE(ABORT, 'interactions is append-only: corrections are new entries'); END;

-- Ids: PostgreSQL uses sequences; SQLite, whose writers are serialised anyway, keeps one
-- counter row per kind. Backend-specific, so the schema comparison test skips it.
CREATE TABLE id_counters (
    kind TEXT NOT NULL PRIMARY KEY,
    last_id INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO id_counters (kind, last_id) VALUES
    ('org_ids', 0), ('user_ids', 0), ('account_ids', 0), ('contact_ids', 0), ('deal_ids', 0), ('check_in_ids', 0);
