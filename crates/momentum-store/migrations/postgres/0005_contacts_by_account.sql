-- An account's contacts in id order come straight from one index. Without it SQLite (no
-- statistics) walked the whole contacts table in primary-key order for each account to
-- avoid a sort: 200 accounts on a Today page at the large demo took 3.6 s (BENCHMARKS.md).
DROP INDEX contacts_by_account;
CREATE INDEX contacts_by_account ON contacts (org_id, account_id, contact_id);
