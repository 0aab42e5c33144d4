//! Group commit for SQLite: concurrent write commands on one file share a transaction and
//! its commit.
//!
//! SQLite has one writer at a time, so commands run one after another whatever we do; what
//! grouping saves is the per-transaction cost (BEGIN, the commit's WAL frames and locks),
//! which is about half of a log-interaction transaction (BENCHMARKS.md: raw one commit
//! each against 16 to a commit). Every store in the process that writes a file shares one
//! [`Group`] and its connection. A command:
//!
//! 1. takes the connection (opening the batch's `BEGIN IMMEDIATE` if none is open);
//! 2. runs inside its own `SAVEPOINT`, so a refused command (a stale version, a rule) rolls
//!    back only itself and leaves its neighbours in the batch;
//! 3. commits the batch if no other command is queued for the connection (or the batch is
//!    full); otherwise it waits for whoever commits the batch it joined.
//!
//! Nobody is told "done" before the commit that holds their change, and a failed commit is
//! every member's error. A lone command (the CLI, a quiet server) commits at once, as before.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, PoisonError, Weak};

use crate::error::{StoreError, StoreResult};
use crate::sql::{Sql, SqliteConn};

/// The most commands in one commit: bounds how long the first of them waits.
const MAX_BATCH: usize = 64;

/// The writers of one SQLite file in this process.
pub(crate) struct Group {
    state: Mutex<State>,
    committed: Condvar,
    /// Commands waiting to take the connection: while there are any, a finished command
    /// leaves the commit to them.
    queued: AtomicUsize,
    /// Commands kept and commits made, for [`crate::Store::write_stats`].
    commands: AtomicU64,
    commits: AtomicU64,
}

/// How much grouping a file's writers have done in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    /// Commands whose changes were committed (refused ones are not counted).
    pub commands: u64,
    /// Commits that held them.
    pub commits: u64,
}

struct State {
    conn: rusqlite::Connection,
    /// The open batch's number; it counts up with each commit.
    batch: u64,
    /// Whether `batch` has begun (BEGIN IMMEDIATE ran).
    open: bool,
    /// Commands whose changes the open batch holds.
    members: usize,
    /// Recent batches whose commit failed, with the error, for their waiting members.
    failed: VecDeque<(u64, String)>,
}

/// The group of the file at `path`, shared by every store in the process that writes it;
/// it closes its connection when the last of them is dropped.
pub(crate) fn of(path: &str, open: impl FnOnce() -> StoreResult<rusqlite::Connection>) -> StoreResult<Arc<Group>> {
    static GROUPS: LazyLock<Mutex<HashMap<PathBuf, Weak<Group>>>> = LazyLock::new(Default::default);
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path));
    let mut groups = GROUPS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(g) = groups.get(&key).and_then(Weak::upgrade) {
        return Ok(g);
    }
    groups.retain(|_, g| g.strong_count() > 0);
    let group = Arc::new(Group {
        state: Mutex::new(State {
            conn: open()?,
            batch: 0,
            open: false,
            members: 0,
            failed: VecDeque::new(),
        }),
        committed: Condvar::new(),
        queued: AtomicUsize::new(0),
        commands: AtomicU64::new(0),
        commits: AtomicU64::new(0),
    });
    groups.insert(key, Arc::downgrade(&group));
    Ok(group)
}

impl Group {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking command is caught below before the lock is released, so poison
        // only means a panic inside this module's own bookkeeping; the state is still
        // whole (the batch is rolled back by the next commit decision at worst).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            commands: self.commands.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
        }
    }

    /// Runs `f` as one command of the current batch; returns once the batch is committed.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut dyn Sql) -> StoreResult<T>) -> StoreResult<T> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut st = self.lock();
        self.queued.fetch_sub(1, Ordering::SeqCst);
        if !st.open {
            st.conn.execute_batch("BEGIN IMMEDIATE")?;
            st.open = true;
            st.members = 0;
        }
        let batch = st.batch;
        let ran = match st.conn.execute_batch("SAVEPOINT command") {
            Ok(()) => catch_unwind(AssertUnwindSafe(|| f(&mut SqliteConn(&st.conn)))),
            Err(e) => Ok(Err(e.into())),
        };
        let kept = matches!(ran, Ok(Ok(_)));
        let closed = if kept {
            st.conn.execute_batch("RELEASE command")
        } else {
            st.conn.execute_batch("ROLLBACK TO command; RELEASE command")
        };
        let ran = match (ran, closed) {
            (Ok(Ok(_)), Err(e)) => Ok(Err(e.into())),
            (ran, _) => ran,
        };
        if matches!(ran, Ok(Ok(_))) {
            st.members += 1;
        }

        let outcome = if self.queued.load(Ordering::SeqCst) == 0 || st.members >= MAX_BATCH {
            self.commit(&mut st)
        } else if matches!(ran, Ok(Ok(_))) {
            // Someone queued will take the connection and commit this batch (or pass it
            // on); wait for that commit and learn how it went.
            while st.batch == batch {
                st = self.committed.wait(st).unwrap_or_else(PoisonError::into_inner);
            }
            match st.failed.iter().find(|(b, _)| *b == batch) {
                Some((_, e)) => Err(StoreError::Database(e.clone())),
                None => Ok(()),
            }
        } else {
            // A refused command has nothing in the batch to wait for.
            Ok(())
        };
        drop(st);
        match ran {
            Ok(Ok(value)) => outcome.map(|()| value),
            Ok(Err(refused)) => Err(refused),
            Err(panic) => resume_unwind(panic),
        }
    }

    /// Ends the open batch: commits what its members kept (nothing kept: rolls back), tells
    /// the waiting members, and returns the commit's outcome.
    fn commit(&self, st: &mut State) -> StoreResult<()> {
        let result = if st.members == 0 {
            st.conn.execute_batch("ROLLBACK")
        } else {
            st.conn.execute_batch("COMMIT")
        };
        let result = result.map_err(StoreError::from);
        if result.is_ok() && st.members > 0 {
            self.commands.fetch_add(st.members as u64, Ordering::Relaxed);
            self.commits.fetch_add(1, Ordering::Relaxed);
        }
        if let Err(e) = &result {
            if !st.conn.is_autocommit() {
                // Best effort: the commit failed (a full disk), so nothing of the batch
                // may stay pending for the next one.
                let _ = st.conn.execute_batch("ROLLBACK");
            }
            let message = match e {
                StoreError::Database(m) => m.clone(),
                other => other.to_string(),
            };
            st.failed.push_back((st.batch, message));
            if st.failed.len() > 64 {
                st.failed.pop_front();
            }
        }
        st.open = false;
        st.members = 0;
        st.batch += 1;
        self.committed.notify_all();
        result
    }
}
