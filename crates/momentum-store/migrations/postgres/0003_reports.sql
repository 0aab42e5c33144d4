-- Coaching reports, PostgreSQL tree. Keep in step with ../sqlite/0003_reports.sql.
-- Reports over 1M deals and 10M interactions must answer in under a second, so they read
-- per-deal counters and a per-seller interaction summary kept up to date in the
-- transaction of every write, never the whole interaction log.

-- The highest step a deal ever held (step-to-win rates count it), and the seller's
-- follow-ups since the buyer last answered (the current run and the longest).
ALTER TABLE deals ADD COLUMN peak_stage BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deals ADD COLUMN unanswered BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deals ADD COLUMN longest_unanswered BIGINT NOT NULL DEFAULT 0;
-- An open deal's next step and its need's date, kept on the deal row too, so the reports
-- over open deals read one covering index instead of joining three tables row by row.
ALTER TABLE deals ADD COLUMN next_due_at BIGINT;
ALTER TABLE deals ADD COLUMN next_buyer_committed BOOLEAN;
ALTER TABLE deals ADD COLUMN need_on TEXT;
UPDATE deals SET
    next_due_at = (SELECT n.due_at FROM next_steps n WHERE n.org_id = deals.org_id AND n.deal_id = deals.deal_id),
    next_buyer_committed = (SELECT n.buyer_committed FROM next_steps n
        WHERE n.org_id = deals.org_id AND n.deal_id = deals.deal_id),
    need_on = (SELECT c.matters_on FROM compelling_needs c
        WHERE c.org_id = deals.org_id AND c.deal_id = deals.deal_id);
-- Follow-ups since the buyer last answered: the touches after their last response (the
-- longest run before it is not recoverable cheaply; the current run is its lower bound).
UPDATE deals SET unanswered = (SELECT COUNT(*) FROM interactions i
    WHERE i.org_id = deals.org_id AND i.deal_id = deals.deal_id
    AND i.occurred_at > COALESCE(deals.last_buyer_response_at, 0));
UPDATE deals SET longest_unanswered = unanswered;
UPDATE deals SET peak_stage = COALESCE(
    (SELECT MAX(d.to_stage) FROM decisions d WHERE d.org_id = deals.org_id AND d.deal_id = deals.deal_id), 0);

-- Interactions counted by seller, month (org calendar), the stage the deal stood on, the
-- decision asked for, the result and the ending.
CREATE TABLE interaction_facts (
    org_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    stage_before BIGINT NOT NULL,
    objective BIGINT NOT NULL,
    result TEXT NOT NULL,
    commitment TEXT NOT NULL,
    interactions BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id, month, stage_before, objective, result, commitment),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, user_id)
);
-- Existing history (months in UTC; the runs of unanswered follow-ups start from zero).
INSERT INTO interaction_facts
SELECT i.org_id, i.user_id, to_char(to_timestamp(i.occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM'),
    COALESCE(
        (SELECT d.from_stage FROM decisions d
         WHERE d.org_id = i.org_id AND d.deal_id = i.deal_id AND d.interaction_seq = i.seq),
        (SELECT d.to_stage FROM decisions d
         WHERE d.org_id = i.org_id AND d.deal_id = i.deal_id AND d.decided_at <= i.occurred_at
         ORDER BY d.seq DESC LIMIT 1),
        0),
    i.objective, i.result, i.commitment, COUNT(*)
FROM interactions i
GROUP BY 1, 2, 3, 4, 5, 6, 7;

-- Deals created and won per seller and day (the org's calendar, days since 1970-01-01),
-- kept in the transaction of every create and close: prospecting, the month's won value
-- and attainment read a row per seller-day instead of every deal.
CREATE TABLE deal_days (
    org_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    created BIGINT NOT NULL,
    won BIGINT NOT NULL,
    won_value_minor BIGINT NOT NULL,
    PRIMARY KEY (org_id, owner_id, day),
    FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, user_id)
);
-- Existing deals (days in UTC).
INSERT INTO deal_days (org_id, owner_id, day, created, won, won_value_minor)
SELECT org_id, owner_id, day, SUM(created), SUM(won), SUM(v) FROM (
    SELECT org_id, owner_id, created_at / 86400 AS day, 1 AS created, 0 AS won, 0 AS v FROM deals
    UNION ALL
    SELECT d.org_id, d.owner_id, d.closed_at / 86400, 0, 1,
        CASE WHEN d.currency = o.currency THEN COALESCE(d.value_minor, 0) ELSE 0 END
    FROM deals d JOIN orgs o ON o.org_id = d.org_id WHERE d.status = 'won'
) x GROUP BY org_id, owner_id, day;

-- Closed deals by seller, the highest step they reached, whether won, and whether held back
-- to score the win-probability model (every fifth by id), kept at each close: step-to-win
-- rates read a few hundred rows. A closed deal never changes, so the count never moves.
CREATE TABLE closed_peaks (
    org_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    peak_stage BIGINT NOT NULL,
    won BIGINT NOT NULL,
    held_back BIGINT NOT NULL,
    deals BIGINT NOT NULL,
    PRIMARY KEY (org_id, owner_id, peak_stage, won, held_back),
    FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, user_id)
);
INSERT INTO closed_peaks (org_id, owner_id, peak_stage, won, held_back, deals)
SELECT org_id, owner_id, peak_stage, CASE WHEN status = 'won' THEN 1 ELSE 0 END,
    CASE WHEN deal_id % 5 = 0 THEN 1 ELSE 0 END, COUNT(*)
FROM deals WHERE status <> 'open' GROUP BY 1, 2, 3, 4, 5;

-- Each report reads one index alone (covering), grouped in its order:
-- the summary by seller and status; won deals by close time;
-- open deals with everything cholesterol, commit, give-up and close timing ask of them.
CREATE INDEX deals_for_summary ON deals (org_id, owner_id, status, created_at, currency, value_minor, longest_unanswered);
CREATE INDEX deals_by_close ON deals (org_id, status, closed_at, created_at, owner_id, currency, value_minor);
CREATE INDEX deals_open ON deals (org_id, owner_id, next_due_at, next_buyer_committed, need_on, expected_close_on,
    last_decision_at, last_touch_at, created_at, stage, unanswered, currency, value_minor) WHERE status = 'open';
