-- Momentum schema, PostgreSQL tree. Keep in step with ../sqlite/0001_init.sql: a test
-- checks both trees give the same tables and columns.
--
-- Every table carries org_id, and every primary and foreign key starts with it, so the
-- schema can be distributed by org (Citus: create_distributed_table(t, 'org_id')).
-- Timestamps are UTC seconds since the epoch (BIGINT, column suffix _at); calendar dates
-- are ISO text (YYYY-MM-DD, suffix _on), months YYYY-MM. Money is integer minor units.

CREATE TABLE orgs (
    org_id BIGINT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL,
    timezone TEXT NOT NULL,
    cadence_first_every_days BIGINT NOT NULL,
    cadence_first_for_days BIGINT NOT NULL,
    cadence_then_every_days BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE ladder_steps (
    org_id BIGINT NOT NULL REFERENCES orgs (org_id),
    step BIGINT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (org_id, step)
);

CREATE TABLE users (
    org_id BIGINT NOT NULL REFERENCES orgs (org_id),
    user_id BIGINT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('seller', 'manager', 'admin')),
    manager_id BIGINT,
    active BOOLEAN NOT NULL,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id),
    UNIQUE (org_id, email),
    FOREIGN KEY (org_id, manager_id) REFERENCES users (org_id, user_id)
);

CREATE TABLE accounts (
    org_id BIGINT NOT NULL REFERENCES orgs (org_id),
    account_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    domain TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, account_id)
);
CREATE INDEX accounts_by_name ON accounts (org_id, name);

CREATE TABLE contacts (
    org_id BIGINT NOT NULL REFERENCES orgs (org_id),
    contact_id BIGINT NOT NULL,
    account_id BIGINT,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    title TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, contact_id),
    FOREIGN KEY (org_id, account_id) REFERENCES accounts (org_id, account_id)
);
CREATE INDEX contacts_by_account ON contacts (org_id, account_id);

CREATE TABLE deals (
    org_id BIGINT NOT NULL REFERENCES orgs (org_id),
    deal_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    account_id BIGINT,
    contact_id BIGINT,
    title TEXT NOT NULL,
    value_minor BIGINT,
    currency TEXT NOT NULL,
    expected_close_on TEXT,
    stage BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost', 'disqualified')),
    closed_at BIGINT,
    lost_category TEXT,
    close_words TEXT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    interaction_count BIGINT NOT NULL,
    decision_count BIGINT NOT NULL,
    last_touch_at BIGINT,
    last_buyer_response_at BIGINT,
    last_decision_at BIGINT,
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
    org_id BIGINT NOT NULL,
    deal_id BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    aims_at BIGINT NOT NULL,
    buyer_committed BOOLEAN NOT NULL,
    set_at BIGINT NOT NULL,
    set_by BIGINT,
    PRIMARY KEY (org_id, deal_id),
    FOREIGN KEY (org_id, deal_id) REFERENCES deals (org_id, deal_id)
);
CREATE INDEX next_steps_by_due ON next_steps (org_id, due_at);

CREATE TABLE compelling_needs (
    org_id BIGINT NOT NULL,
    deal_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    buyer_words TEXT NOT NULL,
    consequence TEXT NOT NULL,
    matters_on TEXT NOT NULL,
    cost_per_month_minor BIGINT NOT NULL,
    cost_currency TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by BIGINT NOT NULL,
    PRIMARY KEY (org_id, deal_id),
    FOREIGN KEY (org_id, deal_id) REFERENCES deals (org_id, deal_id)
);

CREATE TABLE decisions (
    org_id BIGINT NOT NULL,
    deal_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    from_stage BIGINT NOT NULL,
    to_stage BIGINT NOT NULL,
    direction TEXT NOT NULL,
    contact_id BIGINT,
    decided_at BIGINT NOT NULL,
    recorded_by BIGINT,
    interaction_seq BIGINT,
    note TEXT,
    PRIMARY KEY (org_id, deal_id, seq),
    FOREIGN KEY (org_id, deal_id) REFERENCES deals (org_id, deal_id)
);

CREATE TABLE interactions (
    org_id BIGINT NOT NULL,
    deal_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    contact_id BIGINT,
    kind TEXT NOT NULL,
    objective BIGINT NOT NULL,
    result TEXT NOT NULL,
    commitment TEXT NOT NULL,
    notes TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, deal_id, seq),
    FOREIGN KEY (org_id, deal_id) REFERENCES deals (org_id, deal_id)
);

CREATE TABLE goals (
    org_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    set_by BIGINT NOT NULL,
    set_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id, month),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, user_id)
);

CREATE TABLE check_ins (
    org_id BIGINT NOT NULL,
    check_in_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    checked_on TEXT NOT NULL,
    commitment BIGINT NOT NULL CHECK (commitment BETWEEN 1 AND 10),
    why TEXT NOT NULL,
    obstacle TEXT,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, check_in_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, user_id)
);
CREATE INDEX check_ins_by_user ON check_ins (org_id, user_id, checked_on);

-- Invariant 4: the ledger and the interaction log are append-only, even for SQL typed by hand.
CREATE FUNCTION momentum_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: corrections are new entries', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION momentum_append_only();
CREATE TRIGGER interactions_append_only BEFORE UPDATE OR DELETE ON interactions
    FOR EACH ROW EXECUTE FUNCTION momentum_append_only();

-- Ids come from sequences here (global, so concurrent writers never contend on a counter
-- row); SQLite keeps its counters in id_counters instead.
CREATE SEQUENCE org_ids;
CREATE SEQUENCE user_ids;
CREATE SEQUENCE account_ids;
CREATE SEQUENCE contact_ids;
CREATE SEQUENCE deal_ids;
CREATE SEQUENCE check_in_ids;
