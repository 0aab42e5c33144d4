//! The database pool. `Store` is synchronous (rusqlite, and the blocking `postgres`
//! client), so requests run their store work with a connection from an r2d2 pool on
//! Tokio's blocking threads ([`with_store`]), or, for short reads on SQLite, on the async
//! thread itself ([`read_store`]).

use momentum_store::{Store, StoreError};

use crate::error::WebError;
use crate::AppState;

/// Opens stores for the pool.
#[derive(Debug)]
pub struct StoreManager {
    location: String,
}

impl StoreManager {
    pub fn new(location: impl Into<String>) -> Self {
        StoreManager {
            location: location.into(),
        }
    }
}

impl r2d2::ManageConnection for StoreManager {
    type Connection = Store;
    type Error = StoreError;

    fn connect(&self) -> Result<Store, StoreError> {
        Store::open(&self.location)
    }

    fn is_valid(&self, store: &mut Store) -> Result<(), StoreError> {
        store.read(|tx| tx.query("SELECT 1", &[]).map(drop))
    }

    fn has_broken(&self, store: &mut Store) -> bool {
        store.is_broken()
    }
}

pub type Pool = r2d2::Pool<StoreManager>;

pub fn pool(location: &str, size: u32) -> Result<Pool, StoreError> {
    r2d2::Pool::builder()
        .max_size(size)
        // r2d2 would otherwise run `is_valid` (a whole read transaction: three round trips
        // on PostgreSQL) before every checkout, i.e. twice per request. A connection the
        // server dropped is noticed by `has_broken` when it comes back instead.
        .test_on_check_out(false)
        .connection_timeout(std::time::Duration::from_secs(5))
        .build(StoreManager::new(location))
        .map_err(|e| StoreError::Database(e.to_string()))
}

/// Runs `f` with a pooled store on a blocking thread: every write, and work that may take
/// long (reports, search, the calendar feed, password hashing).
pub async fn with_store<T, F>(state: &AppState, f: F) -> Result<T, WebError>
where
    T: Send + 'static,
    F: FnOnce(&mut Store) -> Result<T, WebError> + Send + 'static,
{
    let pool = state.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = pool
            .get()
            .map_err(|e| WebError::Store(StoreError::Database(e.to_string())))?;
        f(&mut store)
    })
    .await
    .map_err(|e| WebError::Internal(format!("a request's database work panicked: {e}")))?
}

/// Runs `f`, a short read (a session lookup, a page's or an API answer's data), with a
/// pooled store: on SQLite right here on the async thread when a pooled connection is free
/// at once; otherwise (and on PostgreSQL, whose blocking client cannot run inside the
/// runtime) on a blocking thread, as [`with_store`]. Either way a write inside `f` is
/// refused ([`Store::reading`]), so a handler that writes here fails its tests on both
/// databases instead of stalling the server under load.
///
/// Why not always a blocking thread, as Tokio advises for blocking work: on this 2-core
/// machine the trip there and back (two thread hand-offs, twice per request with the
/// session lookup) cost more CPU than most requests' SQLite work. Under the capacity
/// benchmark on the 100k-deal demo, running reads here cut the server's context switches
/// by three quarters and its CPU per request by a sixth, and the sellers it serves at
/// p99 < 100 ms rose from 36,000-44,000 to 62,000-68,000 (BENCHMARKS.md). A SQLite
/// read in WAL mode never waits for a writer, so it holds the thread for its own work
/// only: tens of microseconds to a few milliseconds. A write can wait (for the group
/// commit, or up to the busy timeout for another process's write lock, such as a CLI
/// import), so writes stay on blocking threads, where the wait holds up no one else.
pub async fn read_store<T, F>(state: &AppState, f: F) -> Result<T, WebError>
where
    T: Send + 'static,
    F: FnOnce(&mut Store) -> Result<T, WebError> + Send + 'static,
{
    if !momentum_store::is_postgres_url(&state.config.db) {
        if let Some(mut store) = state.pool.try_get() {
            return store.reading(f);
        }
    }
    with_store(state, move |store| store.reading(f)).await
}
