//! Both migration trees must give the same tables and columns (and nullability), so one
//! set of queries serves both databases.

use std::collections::BTreeSet;

use momentum_store::Store;

type Columns = BTreeSet<(String, String, bool)>;

fn sqlite_columns(store: &mut Store) -> Columns {
    store
        .read(|tx| {
            let sql = "SELECT m.name, p.name, p.\"notnull\" FROM sqlite_master m, pragma_table_info(m.name) p \
                       WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'id_counters'";
            Ok(tx
                .query(sql, &[])?
                .iter()
                .map(|r| {
                    (
                        r.text(0).unwrap().to_owned(),
                        r.text(1).unwrap().to_owned(),
                        r.int(2).unwrap() == 1,
                    )
                })
                .collect())
        })
        .unwrap()
}

fn postgres_columns(store: &mut Store) -> Columns {
    store
        .read(|tx| {
            let sql = "SELECT table_name::text, column_name::text, is_nullable::text FROM information_schema.columns \
                       WHERE table_schema = current_schema()";
            Ok(tx
                .query(sql, &[])?
                .iter()
                .map(|r| {
                    (
                        r.text(0).unwrap().to_owned(),
                        r.text(1).unwrap().to_owned(),
                        r.text(2).unwrap() == "NO",
                    )
                })
                .collect())
        })
        .unwrap()
}

#[test]
fn both_migration_trees_give_the_same_tables_and_columns() {
    let lite = momentum_testkit::sqlite();
    let Some(pg) = momentum_testkit::postgres() else { return };
    let mut sqlite = sqlite_columns(&mut Store::open(&lite.location).unwrap());
    let postgres = postgres_columns(&mut Store::open(&pg.location).unwrap());
    // SQLite reports a single-column primary key as nullable unless declared NOT NULL;
    // every key here is declared NOT NULL, so the sets compare directly.
    assert!(sqlite.len() > 100, "the schema has {} columns", sqlite.len());
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only in SQLite: {only_sqlite:?}\nonly in PostgreSQL: {only_postgres:?}"
    );
    // Every tenant table is keyed by org.
    sqlite.retain(|(t, c, _)| c == "org_id" && t != "schema_migrations");
    let tables: BTreeSet<&str> = sqlite.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(tables.len(), 20, "{tables:?}");
}

/// `demo --force` resets the database: every table, the web tables included, is dropped
/// and rebuilt empty, on both backends.
#[test]
fn reset_rebuilds_every_table_empty() {
    let lite = momentum_testkit::sqlite();
    let pg = momentum_testkit::postgres();
    for db in std::iter::once(&lite).chain(pg.as_ref()) {
        let mut store = Store::open(&db.location).unwrap();
        let admin = momentum_store::ops::create_org(
            &mut store,
            momentum_core::commands::NewOrg {
                name: "Acme",
                currency: momentum_core::money::Currency::USD,
                timezone: "UTC",
            },
            momentum_store::ops::FirstAdmin {
                email: "ada@acme.test",
                name: "Ada",
                password_hash: None,
            },
            jiff::Timestamp::UNIX_EPOCH,
        )
        .unwrap();
        momentum_store::auth::create_token(&mut store, &admin, "t", "h", jiff::Timestamp::UNIX_EPOCH).unwrap();
        store.reset().unwrap();
        assert!(momentum_store::ops::is_empty(&mut store).unwrap(), "{}", db.backend);
        let tokens: i64 = store
            .read(|tx| {
                tx.query_one("SELECT COUNT(*) FROM api_tokens", &[])
                    .map(|r| r.unwrap().int(0).unwrap())
            })
            .unwrap();
        assert_eq!(tokens, 0, "{}", db.backend);
    }
}
