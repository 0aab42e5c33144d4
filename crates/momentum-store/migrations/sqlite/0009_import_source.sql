-- What the source said of each imported deal at its last import, field by field
-- (momentum_core::import::SourceDigest): a re-import takes only what the source changed.
ALTER TABLE deals ADD COLUMN source_digest TEXT;
