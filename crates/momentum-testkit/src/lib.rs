//! Test support shared by the storage contract suite and the CLI tests: a fresh, empty
//! database per test on each backend.
//!
//! PostgreSQL is reached through `MOMENTUM_TEST_PG` (default: the machine's server with
//! trust auth). Each test gets its own database, dropped when the test ends. When the
//! server is unreachable, tests skip with a note, except in CI (`CI=true`), where they fail.

use std::sync::atomic::{AtomicU32, Ordering};

use postgres::NoTls;

/// A database a test may use, removed when dropped.
#[derive(Debug)]
pub struct TestDb {
    /// What `--db` / `Store::open` takes: a file path or a postgres:// URL.
    pub location: String,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

pub fn pg_admin_url() -> String {
    std::env::var("MOMENTUM_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A new SQLite file in a temporary directory.
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let location = dir.path().join("momentum.db").to_string_lossy().into_owned();
    TestDb {
        location,
        backend: "sqlite",
        _dir: Some(dir),
        pg_name: None,
    }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A new PostgreSQL database, or `None` (outside CI) when the server is down.
pub fn postgres() -> Option<TestDb> {
    let admin = pg_admin_url();
    let mut client = match postgres::Client::connect(&admin, NoTls) {
        Ok(c) => c,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("PostgreSQL at MOMENTUM_TEST_PG is unreachable in CI: {e}")
        }
        Err(e) => {
            eprintln!("skipping the PostgreSQL half of this test: {e}");
            return None;
        }
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "momentum_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst),
        nanos
    );
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("creating a test database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(TestDb {
        location: format!("{base}/{name}"),
        backend: "postgres",
        _dir: None,
        pg_name: Some(name),
    })
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            if let Ok(mut c) = postgres::Client::connect(&pg_admin_url(), NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// Declares a test that runs once per backend: `both_backends!(name);` for a function
/// `fn name(db: &TestDb)` gives `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(&$crate::sqlite()) })+
        }
        mod postgres {
            $(#[test] fn $name() { if let Some(db) = $crate::postgres() { super::$name(&db) } })+
        }
    };
}
