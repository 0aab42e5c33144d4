-- Today reads its list and its log form's buyers from indexes alone. Each of the 50 deals
-- it lists was a table row joined to its next step and its need: at 1M deals that was
-- most of a view's cost. The deal row now carries the rest of its next step (kind, aim)
-- beside `next_due_at`, `deals_today` covers every column the list shows,
-- `contacts_by_account` the buyers' names, and `accounts_names` the accounts' names (an
-- index-only scan instead of a heap fetch per listed deal).
ALTER TABLE deals ADD COLUMN next_kind TEXT;
ALTER TABLE deals ADD COLUMN next_aims_at BIGINT;
UPDATE deals SET next_kind = n.kind, next_aims_at = n.aims_at
    FROM next_steps n WHERE n.org_id = deals.org_id AND n.deal_id = deals.deal_id;
DROP INDEX deals_today;
CREATE INDEX deals_today ON deals (org_id, owner_id, (COALESCE(value_minor, 0)) DESC, next_due_at, deal_id)
    INCLUDE (title, value_minor, currency, stage, version, account_id, contact_id, expected_close_on, created_at,
    next_kind, next_aims_at, next_buyer_committed, need_on)
    WHERE status = 'open';
DROP INDEX contacts_by_account;
CREATE INDEX contacts_by_account ON contacts (org_id, account_id, contact_id) INCLUDE (name);
CREATE INDEX accounts_names ON accounts (org_id, account_id) INCLUDE (name);
