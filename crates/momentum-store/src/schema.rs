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
    let applied = store.read(|tx| {
        let row = tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])?;
        row.map_or(Ok(0), |r| r.int(0))
    })?;
    for &(version, sqlite, postgres) in MIGRATIONS.iter().filter(|m| m.0 > applied) {
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
