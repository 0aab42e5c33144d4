//! Who is signing in, and how they stay signed in: password credentials, browser
//! sessions, API tokens, and the counts of failed sign-ins that rate limiting reads.
//!
//! Secrets never reach the database in clear: the caller hashes a session's cookie secret
//! and an API token before calling here, and looks them up by hash. A session or token of
//! an inactive user opens nothing.

use std::sync::LazyLock;

use jiff::{SignedDuration, Timestamp};
use momentum_core::commands;
use momentum_core::model::*;
use momentum_core::vocab::Role;
use momentum_core::DomainError;
use serde::Serialize;

use crate::error::StoreResult;
use crate::map;
use crate::ops::{self, Session};
use crate::sql::{Row, Val};
use crate::Store;

// ---------------------------------------------------------------------------------------
// Orgs and credentials

/// The user with `email` in the org, and their stored password hash (a PHC string), or
/// `None` when the org has no such user (or the text is no e-mail address at all). The
/// user may be inactive: the caller refuses them.
pub fn credentials(store: &mut Store, org: OrgId, email: &str) -> StoreResult<Option<(User, Option<String>)>> {
    let Ok(email) = Email::parse("email", email) else {
        return Ok(None);
    };
    store.read(|tx| {
        let sql = format!(
            "SELECT {}, password_hash FROM users WHERE org_id = $1 AND email = $2",
            map::USER_COLS
        );
        let Some(row) = tx.query_one(&sql, &[org.0.into(), email.as_str().into()])? else {
            return Ok(None);
        };
        let user = map::user(&row)?;
        let hash = row.opt_text(7)?.map(str::to_owned);
        Ok(Some((user, hash)))
    })
}

/// The org with this exact name.
pub fn org_id_by_name(store: &mut Store, name: &str) -> StoreResult<Option<OrgId>> {
    store.read(|tx| {
        tx.query_one("SELECT org_id FROM orgs WHERE name = $1", &[name.into()])?
            .map(|r| r.int(0).map(OrgId))
            .transpose()
    })
}

/// The org, when the database holds exactly one.
pub fn only_org(store: &mut Store) -> StoreResult<Option<OrgId>> {
    store.read(|tx| {
        let rows = tx.query("SELECT org_id FROM orgs ORDER BY org_id LIMIT 2", &[])?;
        match rows.as_slice() {
            [one] => Ok(Some(OrgId(one.int(0)?))),
            _ => Ok(None),
        }
    })
}

/// How many columns [`USER_COLS_U`] reads: a session's own columns follow them.
fn user_cols() -> usize {
    map::USER_COLS.split(", ").count()
}

/// The user columns qualified as `u.`, read in one query with the session or token that
/// names the user.
static USER_COLS_U: LazyLock<String> = LazyLock::new(|| {
    map::USER_COLS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
});

/// Reads a session or token (`table`, as `s`, with the rows `filter` keeps), its user, its
/// org and the org's ladder in one statement; `extra` names the columns of `s` read after
/// the user's. One row per ladder step, each with the same user and org: one round trip
/// on every request, where reading them in turn inside a transaction took five on
/// PostgreSQL. `None` when nothing matches or the user is inactive.
fn read_session(
    store: &mut Store,
    table: &str,
    filter: &str,
    extra: &str,
    params: &[Val],
) -> StoreResult<Option<(Session, Row)>> {
    let sql = format!(
        "SELECT {}, {extra}, {}, l.name FROM {table} \
         JOIN users u ON u.org_id = s.org_id AND u.user_id = s.user_id \
         JOIN orgs o ON o.org_id = s.org_id \
         LEFT JOIN ladder_steps l ON l.org_id = s.org_id \
         WHERE {filter} ORDER BY l.step",
        *USER_COLS_U,
        ops::ORG_COLS_O,
    );
    let mut rows = store.read_statements(|tx| tx.query(&sql, params))?.into_iter();
    let Some(first) = rows.next() else {
        return Ok(None);
    };
    let user = map::user(&first)?;
    if !user.active {
        return Ok(None);
    }
    let org_at = user_cols() + extra.split(", ").count();
    let ladder_at = org_at + ops::ORG_COLS_O.split(", ").count();
    let mut ladder = Vec::new();
    for row in std::iter::once(&first).chain(rows.as_slice()) {
        if let Some(name) = row.opt_text(ladder_at)? {
            ladder.push(name.to_owned());
        }
    }
    let org = ops::org_from(&first, org_at, ladder)?;
    Ok(Some((Session { org, user }, first)))
}

// ---------------------------------------------------------------------------------------
// Browser sessions

/// Records a signed-in browser: the hash of its cookie secret, its CSRF token, and when it
/// expires. The user must be an active user of the org.
pub fn create_session(
    store: &mut Store,
    org: OrgId,
    user: UserId,
    session_hash: &str,
    csrf_token: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> StoreResult<()> {
    store.write(|tx| {
        let found = ops::user_by_id(tx, org, user)?.ok_or_else(|| DomainError::not_found("user", user))?;
        if !found.active {
            return Err(DomainError::Forbidden(format!("user {user} is inactive and cannot sign in")).into());
        }
        tx.exec(
            "INSERT INTO sessions (org_id, session_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                org.0.into(),
                session_hash.into(),
                user.0.into(),
                csrf_token.into(),
                map::ts(now),
                map::ts(expires_at),
            ],
        )?;
        Ok(())
    })
}

/// The session whose cookie secret hashes to `session_hash`, with its CSRF token; `None`
/// when there is none, it expired (at or before `now`), or its user is inactive.
pub fn session_by_hash(
    store: &mut Store,
    org: OrgId,
    session_hash: &str,
    now: Timestamp,
) -> StoreResult<Option<(Session, String)>> {
    let found = read_session(
        store,
        "sessions s",
        "s.org_id = $1 AND s.session_hash = $2 AND s.expires_at > $3",
        "s.csrf_token",
        &[org.0.into(), session_hash.into(), map::ts(now)],
    )?;
    found
        .map(|(session, row)| Ok((session, row.text(user_cols())?.to_owned())))
        .transpose()
}

/// Signs a browser out. Deleting a session that is already gone is fine.
pub fn delete_session(store: &mut Store, org: OrgId, session_hash: &str) -> StoreResult<()> {
    store.write(|tx| {
        tx.exec(
            "DELETE FROM sessions WHERE org_id = $1 AND session_hash = $2",
            &[org.0.into(), session_hash.into()],
        )?;
        Ok(())
    })
}

/// Deletes the sessions of every org that expired at or before `now`; returns how many.
pub fn delete_expired_sessions(store: &mut Store, now: Timestamp) -> StoreResult<u64> {
    store.write(|tx| tx.exec("DELETE FROM sessions WHERE expires_at <= $1", &[map::ts(now)]))
}

// ---------------------------------------------------------------------------------------
// API tokens

/// An API token as its owner sees it: never the secret, which is shown once on creation
/// by the caller and kept here only as a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub user: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

const TOKEN_COLS: &str = "token_id, user_id, name, created_at, last_used_at, revoked_at";

fn token(row: &crate::sql::Row) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: ApiTokenId(row.int(0)?),
        user: UserId(row.int(1)?),
        name: row.text(2)?.to_owned(),
        created_at: map::read_ts(row, 3)?,
        last_used_at: map::read_opt_ts(row, 4)?,
        revoked_at: map::read_opt_ts(row, 5)?,
    })
}

/// A new API token for the acting user, named after where it is used (`name`, required,
/// at most 100 characters). `token_hash` is the hash of the secret the caller hands out.
pub fn create_token(
    store: &mut Store,
    s: &Session,
    name: &str,
    token_hash: &str,
    now: Timestamp,
) -> StoreResult<ApiToken> {
    let name = commands::api_token_name(name)?;
    store.write(|tx| {
        let t = ApiToken {
            id: ApiTokenId(tx.next_id("api_token_ids")?),
            user: s.user.id,
            name,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        tx.exec(
            "INSERT INTO api_tokens (org_id, token_id, user_id, name, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                s.org.id.0.into(),
                t.id.0.into(),
                t.user.0.into(),
                t.name.as_str().into(),
                token_hash.into(),
                map::ts(t.created_at),
            ],
        )?;
        Ok(t)
    })
}

/// The acting user's own tokens, revoked ones included, newest first.
pub fn tokens(store: &mut Store, s: &Session) -> StoreResult<Vec<ApiToken>> {
    store.read(|tx| {
        tx.query(
            &format!(
                "SELECT {TOKEN_COLS} FROM api_tokens WHERE org_id = $1 AND user_id = $2 \
                 ORDER BY created_at DESC, token_id DESC"
            ),
            &[s.org.id.0.into(), s.user.id.0.into()],
        )?
        .iter()
        .map(token)
        .collect()
    })
}

/// Revokes a token: the acting user's own, or (for an admin) any of the org's. Any other
/// token is not found, as if it did not exist. Revoking again keeps the first revocation.
pub fn revoke_token(store: &mut Store, s: &Session, token_id: ApiTokenId, now: Timestamp) -> StoreResult<ApiToken> {
    store.write(|tx| {
        let key = [s.org.id.0.into(), token_id.0.into()];
        let found = tx
            .query_one(
                &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE org_id = $1 AND token_id = $2"),
                &key,
            )?
            .map(|r| token(&r))
            .transpose()?
            .filter(|t| t.user == s.user.id || s.user.role == Role::Admin)
            .ok_or_else(|| DomainError::not_found("API token", token_id))?;
        if found.revoked_at.is_some() {
            return Ok(found);
        }
        tx.exec(
            "UPDATE api_tokens SET revoked_at = $3 WHERE org_id = $1 AND token_id = $2",
            &[key[0].clone(), key[1].clone(), map::ts(now)],
        )?;
        Ok(ApiToken {
            revoked_at: Some(now),
            ..found
        })
    })
}

/// How stale `last_used_at` may get before a use writes it again (one write per token
/// per minute, not one per request).
const LAST_USED_PRECISION_SECONDS: i64 = 60;

/// The session an API token opens: `None` when no unrevoked token has that hash or its
/// user is inactive. Records when the token was last used (to the minute).
pub fn session_by_token(
    store: &mut Store,
    org: OrgId,
    token_hash: &str,
    now: Timestamp,
) -> StoreResult<Option<Session>> {
    let Some(TokenSession { session, touch }) = token_session(store, org, token_hash, now)? else {
        return Ok(None);
    };
    if let Some(token) = touch {
        touch_token(store, org, token, now)?;
    }
    Ok(Some(session))
}

/// What an API token opens, read without writing: [`session_by_token`] in two steps, so
/// the web server can look tokens up where writes may not wait ([`Store::reading`]).
#[derive(Debug)]
pub struct TokenSession {
    pub session: Session,
    /// The token, when its `last_used_at` is due to be written ([`touch_token`]).
    pub touch: Option<i64>,
}

/// The read half of [`session_by_token`].
pub fn token_session(
    store: &mut Store,
    org: OrgId,
    token_hash: &str,
    now: Timestamp,
) -> StoreResult<Option<TokenSession>> {
    let found = read_session(
        store,
        "api_tokens s",
        "s.org_id = $1 AND s.token_hash = $2 AND s.revoked_at IS NULL",
        "s.token_id, s.last_used_at",
        &[org.0.into(), token_hash.into()],
    )?;
    let Some((session, row)) = found else {
        return Ok(None);
    };
    let (id, last_used) = (row.int(user_cols())?, row.opt_int(user_cols() + 1)?);
    let due = last_used.is_none_or(|t| t <= now.as_second() - LAST_USED_PRECISION_SECONDS);
    Ok(Some(TokenSession {
        session,
        touch: due.then_some(id),
    }))
}

/// The write half of [`session_by_token`]: records that the token was used at `now`.
pub fn touch_token(store: &mut Store, org: OrgId, token: i64, now: Timestamp) -> StoreResult<()> {
    store.write(|tx| {
        tx.exec(
            "UPDATE api_tokens SET last_used_at = $3 WHERE org_id = $1 AND token_id = $2",
            &[org.0.into(), token.into(), map::ts(now)],
        )?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Failed sign-ins (rate limiting)

/// Failed sign-ins counted under `key` (an account, an address) in a window that started
/// after `window_start_after` (typically now minus the window's length); 0 otherwise.
pub fn sign_in_failures(store: &mut Store, org: OrgId, key: &str, window_start_after: Timestamp) -> StoreResult<i64> {
    store.read(|tx| {
        tx.query_one(
            "SELECT failures FROM sign_in_failures WHERE org_id = $1 AND key = $2 AND window_start > $3",
            &[org.0.into(), key.into(), map::ts(window_start_after)],
        )?
        .map_or(Ok(0), |r| r.int(0))
    })
}

/// Counts a failed sign-in under `key`: in the current window if it started less than
/// `window` before `now`, else in a new window starting now. Returns the window's count.
pub fn record_sign_in_failure(
    store: &mut Store,
    org: OrgId,
    key: &str,
    now: Timestamp,
    window: SignedDuration,
) -> StoreResult<i64> {
    let window_start_after = now.as_second().saturating_sub(window.as_secs());
    store.write(|tx| {
        // The SET expressions all read the row as it was, so both see the old window.
        let row = tx.query_one(
            "INSERT INTO sign_in_failures (org_id, key, window_start, failures) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (org_id, key) DO UPDATE SET \
             failures = CASE WHEN sign_in_failures.window_start > $4 THEN sign_in_failures.failures + 1 ELSE 1 END, \
             window_start = CASE WHEN sign_in_failures.window_start > $4 \
                 THEN sign_in_failures.window_start ELSE excluded.window_start END \
             RETURNING failures",
            &[org.0.into(), key.into(), map::ts(now), window_start_after.into()],
        )?;
        row.ok_or_else(|| map::corrupt("counting a failed sign-in returned no row"))?
            .int(0)
    })
}

/// Forgets the failed sign-ins under `key` (after a successful sign-in).
pub fn clear_sign_in_failures(store: &mut Store, org: OrgId, key: &str) -> StoreResult<()> {
    store.write(|tx| {
        tx.exec(
            "DELETE FROM sign_in_failures WHERE org_id = $1 AND key = $2",
            &[org.0.into(), key.into()],
        )?;
        Ok(())
    })
}

/// Deletes, in every org, the failure counts whose window started at or before `before`
/// (housekeeping, so counts kept per address do not pile up); returns how many.
pub fn delete_old_sign_in_failures(store: &mut Store, before: Timestamp) -> StoreResult<u64> {
    store.write(|tx| {
        tx.exec(
            "DELETE FROM sign_in_failures WHERE window_start <= $1",
            &[map::ts(before)],
        )
    })
}
