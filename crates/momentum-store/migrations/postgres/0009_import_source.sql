-- What the source said of each imported deal, account and contact at its last import,
-- field by field (momentum_core::import::Digests): a re-import takes only what the source
-- changed since, so what sellers did in Momentum meanwhile stays.
ALTER TABLE deals ADD COLUMN source_digest TEXT;
ALTER TABLE accounts ADD COLUMN source_digest TEXT;
ALTER TABLE contacts ADD COLUMN source_digest TEXT;
