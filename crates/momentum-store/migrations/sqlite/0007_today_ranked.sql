-- Today lists a seller's due steps most at stake first. `deals_open` finds the due ones
-- but in due order, so a seller with a backlog had every due step read and sorted for
-- the top 50 (~3,000 of them for the busiest sellers of the large demo: 0.7 ms of each
-- Today, the page every seller opens most). This index holds a seller's open deals in
-- Today's order; walking it and skipping the ones not yet due stops at the 50th.
CREATE INDEX deals_today ON deals (org_id, owner_id, (COALESCE(value_minor, 0)) DESC, next_due_at, deal_id)
    WHERE status = 'open';
