-- Data in and out (import, export, calendar), postgres tree. Keep in step with the other tree.

-- Imported accounts, contacts and activities keep the source's id, so a re-import finds
-- them again instead of duplicating them (deals already carry external_id).
ALTER TABLE accounts ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX accounts_by_external_id ON accounts (org_id, external_id);
ALTER TABLE contacts ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX contacts_by_external_id ON contacts (org_id, external_id);
ALTER TABLE interactions ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX interactions_by_external_id ON interactions (org_id, external_id);
-- The product an imported deal was for, as the source named it (blank for deals made here).
ALTER TABLE deals ADD COLUMN product TEXT;

-- A seller's private calendar feed (/calendar/<token>.ics), kept as the token's hash.
-- Revoking sets revoked_at; a new feed replaces the old one.
CREATE TABLE calendar_feeds (
    org_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (org_id, token_hash),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, user_id)
);
CREATE INDEX calendar_feeds_by_user ON calendar_feeds (org_id, user_id);
