//! Migrations: one ordered list, a SQL file per backend for each, applied on open.

use crate::error::StoreResult;
use crate::sql::Backend;
use crate::Store;

/// (version, SQLite text, PostgreSQL text). Append only; never edit an applied migration.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../migrations/sqlite/0002_web.sql"),
        include_str!("../migrations/postgres/0002_web.sql"),
    ),
    (
        3,
        include_str!("../migrations/sqlite/0003_reports.sql"),
        include_str!("../migrations/postgres/0003_reports.sql"),
    ),
    (
        4,
        include_str!("../migrations/sqlite/0004_io.sql"),
        include_str!("../migrations/postgres/0004_io.sql"),
    ),
    (
        5,
        include_str!("../migrations/sqlite/0005_contacts_by_account.sql"),
        include_str!("../migrations/postgres/0005_contacts_by_account.sql"),
    ),
    (
        6,
        include_str!("../migrations/sqlite/0006_today.sql"),
        include_str!("../migrations/postgres/0006_today.sql"),
    ),
    (
        7,
        include_str!("../migrations/sqlite/0007_today_ranked.sql"),
        include_str!("../migrations/postgres/0007_today_ranked.sql"),
    ),
    (
        8,
        include_str!("../migrations/sqlite/0008_today_from_indexes.sql"),
        include_str!("../migrations/postgres/0008_today_from_indexes.sql"),
    ),
    (
        9,
        include_str!("../migrations/sqlite/0009_import_source.sql"),
        include_str!("../migrations/postgres/0009_import_source.sql"),
    ),
];

pub(crate) fn migrate(store: &mut Store) -> StoreResult<()> {
    let backend = store.backend();
    if backend == Backend::Postgres {
        // Two app servers starting together must not both migrate.
        store.batch("SELECT pg_advisory_lock(7226001)")?;
    }
    let result = apply_pending(store, backend);
    if backend == Backend::Postgres {
        store.batch("SELECT pg_advisory_unlock(7226001)")?;
    }
    result
}

fn apply_pending(store: &mut Store, backend: Backend) -> StoreResult<()> {
    store.batch("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)")?;
    // Each migration not yet recorded, in order: by set rather than by the highest
    // version, so one that landed after a later-numbered one still applies.
    let applied = store.read(|tx| {
        tx.query("SELECT version FROM schema_migrations", &[])?
            .iter()
            .map(|r| r.int(0))
            .collect::<StoreResult<std::collections::BTreeSet<i64>>>()
    })?;
    for &(version, sqlite, postgres) in MIGRATIONS.iter().filter(|m| !applied.contains(&m.0)) {
        let text = match backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        };
        let now = jiff::Timestamp::now().as_second();
        store.batch(&format!(
            "BEGIN; {text}\n; INSERT INTO schema_migrations (version, applied_at) VALUES ({version}, {now}); COMMIT;"
        ))?;
    }
    Ok(())
}
