-- Today picks a seller's most-at-stake due steps from this index alone: with the deal id
-- in it, the top 200 are chosen without touching a row, and only those 200 are joined
-- to their owner, account, next step and need (at the large demo the join of all ~3,000
-- due deals of a busy seller, then the sort, was 40-50 ms of the page).
DROP INDEX deals_open;
CREATE INDEX deals_open ON deals (org_id, owner_id, next_due_at, next_buyer_committed, need_on, expected_close_on,
    last_decision_at, last_touch_at, created_at, stage, unanswered, currency, value_minor, deal_id) WHERE status = 'open';
