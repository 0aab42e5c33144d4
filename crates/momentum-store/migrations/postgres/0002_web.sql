-- Web app and API support, PostgreSQL tree. Keep in step with ../sqlite/0002_web.sql.
-- Secrets are never stored in clear: sessions and API tokens are kept as hashes only.

-- A signed-in browser. The cookie holds the secret; this row holds its hash.
CREATE TABLE sessions (
    org_id BIGINT NOT NULL,
    session_hash TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, session_hash),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, user_id)
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- A user's API token (Bearer), kept as its hash.
CREATE TABLE api_tokens (
    org_id BIGINT NOT NULL,
    token_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT,
    PRIMARY KEY (org_id, token_id),
    UNIQUE (org_id, token_hash),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, user_id)
);
CREATE INDEX api_tokens_by_user ON api_tokens (org_id, user_id, token_id);
CREATE SEQUENCE api_token_ids;

-- Failed sign-ins per key (an account, an address) in the current window: rate limiting.
CREATE TABLE sign_in_failures (
    org_id BIGINT NOT NULL REFERENCES orgs (org_id),
    key TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    PRIMARY KEY (org_id, key)
);

-- Open deals summed by owner, stage and currency, kept up to date in the transaction of
-- every deal write, so the pipeline page never scans deals. Rows may fall to zero and stay.
CREATE TABLE open_pipeline (
    org_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    stage BIGINT NOT NULL,
    currency TEXT NOT NULL,
    deals BIGINT NOT NULL,
    value_minor BIGINT NOT NULL,
    PRIMARY KEY (org_id, owner_id, stage, currency),
    FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, user_id)
);
INSERT INTO open_pipeline (org_id, owner_id, stage, currency, deals, value_minor)
SELECT org_id, owner_id, stage, currency, COUNT(*), COALESCE(SUM(value_minor), 0)
FROM deals WHERE status = 'open'
GROUP BY org_id, owner_id, stage, currency;

-- An account's page lists its newest deals.
CREATE INDEX deals_by_account ON deals (org_id, account_id, created_at);
-- The pipeline lists open deals of a stage by id: deal_id joins the status index.
DROP INDEX deals_by_status;
CREATE INDEX deals_by_status ON deals (org_id, status, stage, deal_id);
