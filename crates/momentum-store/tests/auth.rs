//! Signing in and staying signed in, on SQLite and PostgreSQL: credentials, browser
//! sessions, API tokens (kept only as hashes), and the failure counts rate limiting reads.

use jiff::{SignedDuration, Timestamp};
use momentum_core::model::*;
use momentum_core::vocab::Role;
use momentum_core::DomainError;
use momentum_store::auth;
use momentum_store::ops;
use momentum_testkit::{both_backends, TestDb};

mod common;
use common::*;

fn mins(m: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(m)
}

fn credentials_and_orgs_are_found(db: &TestDb) {
    let mut w = world(db);
    let admin = w.admin.clone();
    let org = admin.org.id;
    let phc = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
    ops::add_user(
        &mut w.store,
        &admin,
        ops::AddUser {
            email: "pat@acme.test",
            name: "Pat Seller",
            role: Role::Seller,
            manager: Some("mia@acme.test"),
            password_hash: Some(phc),
        },
        t0(),
    )
    .unwrap();
    let (user, hash) = auth::credentials(&mut w.store, org, "  PAT@acme.test ")
        .unwrap()
        .unwrap();
    assert_eq!((user.email.as_str(), hash.as_deref()), ("pat@acme.test", Some(phc)));
    let (sam, hash) = auth::credentials(&mut w.store, org, "sam@acme.test").unwrap().unwrap();
    assert_eq!((sam.id, hash), (w.sam.user.id, None));
    assert!(auth::credentials(&mut w.store, org, "nobody@acme.test")
        .unwrap()
        .is_none());
    assert!(auth::credentials(&mut w.store, org, "not an address")
        .unwrap()
        .is_none());

    assert_eq!(auth::org_id_by_name(&mut w.store, "Acme").unwrap(), Some(org));
    assert_eq!(auth::org_id_by_name(&mut w.store, "Nope").unwrap(), None);
    assert_eq!(auth::only_org(&mut w.store).unwrap(), Some(org));
    let other = other_org(&mut w.store);
    assert_eq!(auth::only_org(&mut w.store).unwrap(), None);
    assert_eq!(
        auth::org_id_by_name(&mut w.store, "Initech").unwrap(),
        Some(other.org.id)
    );
    // The same e-mail in another org is another user.
    assert!(auth::credentials(&mut w.store, other.org.id, "pat@acme.test")
        .unwrap()
        .is_none());
}

fn sessions_expire_and_sign_out(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let org = sam.org.id;
    auth::create_session(&mut w.store, org, sam.user.id, "hash-1", "csrf-1", mins(60), t0()).unwrap();
    let (s, csrf) = auth::session_by_hash(&mut w.store, org, "hash-1", mins(30))
        .unwrap()
        .unwrap();
    assert_eq!((s.user.id, csrf.as_str()), (sam.user.id, "csrf-1"));
    assert_eq!(s.org.ladder, sam.org.ladder, "the session loads the org's ladder");
    assert_eq!(s.org.cadence, sam.org.cadence);
    assert!(auth::session_by_hash(&mut w.store, org, "hash-2", mins(30))
        .unwrap()
        .is_none());
    assert!(
        auth::session_by_hash(&mut w.store, org, "hash-1", mins(60))
            .unwrap()
            .is_none(),
        "a session is over at its expiry"
    );
    assert!(auth::session_by_hash(&mut w.store, org, "hash-1", mins(61))
        .unwrap()
        .is_none());
    // Another org never finds it.
    let other = other_org(&mut w.store);
    assert!(auth::session_by_hash(&mut w.store, other.org.id, "hash-1", mins(30))
        .unwrap()
        .is_none());

    auth::create_session(&mut w.store, org, sam.user.id, "hash-2", "csrf-2", mins(600), t0()).unwrap();
    assert_eq!(auth::delete_expired_sessions(&mut w.store, mins(61)).unwrap(), 1);
    let left: i64 = w
        .store
        .read(|tx| {
            tx.query_one("SELECT COUNT(*) FROM sessions", &[])
                .map(|r| r.unwrap().int(0).unwrap())
        })
        .unwrap();
    assert_eq!(left, 1);
    assert!(auth::session_by_hash(&mut w.store, org, "hash-2", mins(61))
        .unwrap()
        .is_some());
    auth::delete_session(&mut w.store, org, "hash-2").unwrap();
    auth::delete_session(&mut w.store, org, "hash-2").unwrap();
    assert!(auth::session_by_hash(&mut w.store, org, "hash-2", mins(61))
        .unwrap()
        .is_none());

    // Only users of the org sign in.
    let err = auth::create_session(&mut w.store, org, UserId(9_999), "h", "c", mins(60), t0()).unwrap_err();
    assert!(matches!(domain(err), DomainError::NotFound { .. }));
}

fn an_inactive_user_is_refused(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let org = sam.org.id;
    auth::create_session(&mut w.store, org, sam.user.id, "hash-1", "csrf-1", mins(60), t0()).unwrap();
    auth::create_token(&mut w.store, &sam, "export", "token-hash", t0()).unwrap();
    set_active(&mut w.store, &sam.user, org, false);
    assert!(auth::session_by_hash(&mut w.store, org, "hash-1", mins(1))
        .unwrap()
        .is_none());
    assert!(auth::session_by_token(&mut w.store, org, "token-hash", mins(1))
        .unwrap()
        .is_none());
    let err = auth::create_session(&mut w.store, org, sam.user.id, "hash-2", "c", mins(60), t0()).unwrap_err();
    assert!(matches!(domain(err), DomainError::Forbidden(_)));
    set_active(&mut w.store, &sam.user, org, true);
    assert!(auth::session_by_hash(&mut w.store, org, "hash-1", mins(1))
        .unwrap()
        .is_some());
    assert!(auth::session_by_token(&mut w.store, org, "token-hash", mins(1))
        .unwrap()
        .is_some());
}

/// Stands in for the web layer's hash of a token secret.
fn hash_of(secret: &str) -> String {
    format!(
        "h:{}",
        secret.bytes().map(|b| format!("{:02x}", b ^ 0x5a)).collect::<String>()
    )
}

fn a_token_works_until_revoked_and_is_kept_only_as_its_hash(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let org = sam.org.id;
    let secret = "mtm_1_sEcReTsEcReT";
    let hash = hash_of(secret);
    let t = auth::create_token(&mut w.store, &sam, "  spreadsheet export ", &hash, t0()).unwrap();
    assert_eq!(
        (t.user, t.name.as_str(), t.created_at, t.last_used_at, t.revoked_at),
        (sam.user.id, "spreadsheet export", t0(), None, None)
    );
    let stored: Vec<Vec<String>> = w
        .store
        .read(|tx| {
            Ok(tx
                .query("SELECT * FROM api_tokens", &[])?
                .iter()
                .map(|r| r.0.iter().map(|v| format!("{v:?}")).collect())
                .collect())
        })
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].iter().any(|v| v.contains(&hash)), "{stored:?}");
    assert!(
        stored[0].iter().all(|v| !v.contains("sEcReT")),
        "the secret is stored in clear: {stored:?}"
    );

    let s = auth::session_by_token(&mut w.store, org, &hash, mins(5))
        .unwrap()
        .unwrap();
    assert_eq!(s.user.id, sam.user.id);
    assert!(auth::session_by_token(&mut w.store, org, secret, mins(5))
        .unwrap()
        .is_none());
    let listed = auth::tokens(&mut w.store, &sam).unwrap();
    assert_eq!(listed[0].last_used_at, Some(mins(5)));
    // Uses within a minute do not write again; later ones do.
    auth::session_by_token(&mut w.store, org, &hash, mins(5) + SignedDuration::from_secs(30)).unwrap();
    assert_eq!(auth::tokens(&mut w.store, &sam).unwrap()[0].last_used_at, Some(mins(5)));
    auth::session_by_token(&mut w.store, org, &hash, mins(7)).unwrap();
    assert_eq!(auth::tokens(&mut w.store, &sam).unwrap()[0].last_used_at, Some(mins(7)));

    let revoked = auth::revoke_token(&mut w.store, &sam, t.id, mins(10)).unwrap();
    assert_eq!(revoked.revoked_at, Some(mins(10)));
    assert!(auth::session_by_token(&mut w.store, org, &hash, mins(11))
        .unwrap()
        .is_none());
    let again = auth::revoke_token(&mut w.store, &sam, t.id, mins(20)).unwrap();
    assert_eq!(
        again.revoked_at,
        Some(mins(10)),
        "revoking twice keeps the first revocation"
    );
    assert_eq!(auth::tokens(&mut w.store, &sam).unwrap()[0].revoked_at, Some(mins(10)));
}

fn tokens_are_named_listed_newest_first_and_kept_per_user(db: &TestDb) {
    let mut w = world(db);
    let (sam, bob) = (w.sam.clone(), w.bob.clone());
    for bad in ["", "   ", &"n".repeat(101)] {
        let err = auth::create_token(&mut w.store, &sam, bad, "h0", t0()).unwrap_err();
        assert_eq!(domain(err).field(), Some("name"), "{bad:?}");
    }
    let first = auth::create_token(&mut w.store, &sam, "first", "h1", mins(1)).unwrap();
    let second = auth::create_token(&mut w.store, &sam, "second", "h2", mins(2)).unwrap();
    auth::create_token(&mut w.store, &bob, "bob's", "h3", mins(3)).unwrap();
    let ids: Vec<ApiTokenId> = auth::tokens(&mut w.store, &sam).unwrap().iter().map(|t| t.id).collect();
    assert_eq!(ids, vec![second.id, first.id]);
    assert_eq!(auth::tokens(&mut w.store, &bob).unwrap().len(), 1);
    let json = serde_json::to_value(&first).unwrap();
    assert_eq!(json["name"], "first");
    assert_eq!(json["id"], first.id.0);
    assert!(json.get("token_hash").is_none());
}

fn only_the_owner_or_an_admin_revokes_a_token(db: &TestDb) {
    let mut w = world(db);
    let (sam, bob, mia, admin) = (w.sam.clone(), w.bob.clone(), w.mia.clone(), w.admin.clone());
    let t = auth::create_token(&mut w.store, &sam, "sam's", "h-sam", t0()).unwrap();
    for other in [&bob, &mia] {
        let err = auth::revoke_token(&mut w.store, other, t.id, mins(1)).unwrap_err();
        assert!(matches!(domain(err), DomainError::NotFound { .. }));
    }
    let initech = other_org(&mut w.store);
    let err = auth::revoke_token(&mut w.store, &initech, t.id, mins(1)).unwrap_err();
    assert!(
        matches!(domain(err), DomainError::NotFound { .. }),
        "another org's admin"
    );
    assert!(auth::session_by_token(&mut w.store, sam.org.id, "h-sam", mins(2))
        .unwrap()
        .is_some());
    assert!(auth::session_by_token(&mut w.store, initech.org.id, "h-sam", mins(2))
        .unwrap()
        .is_none());
    auth::revoke_token(&mut w.store, &admin, t.id, mins(3)).unwrap();
    assert!(auth::session_by_token(&mut w.store, sam.org.id, "h-sam", mins(4))
        .unwrap()
        .is_none());
    let err = auth::revoke_token(&mut w.store, &admin, ApiTokenId(9_999), mins(5)).unwrap_err();
    assert!(matches!(domain(err), DomainError::NotFound { .. }));
}

fn sign_in_failure_windows_count_and_reset(db: &TestDb) {
    let mut w = world(db);
    let org = w.admin.org.id;
    let window = SignedDuration::from_mins(15);
    let since = |now: Timestamp| now - window;
    let key = "account:sam@acme.test";
    assert_eq!(auth::sign_in_failures(&mut w.store, org, key, since(t0())).unwrap(), 0);
    assert_eq!(
        auth::record_sign_in_failure(&mut w.store, org, key, mins(0), window).unwrap(),
        1
    );
    assert_eq!(
        auth::record_sign_in_failure(&mut w.store, org, key, mins(1), window).unwrap(),
        2
    );
    assert_eq!(
        auth::record_sign_in_failure(&mut w.store, org, key, mins(14), window).unwrap(),
        3
    );
    assert_eq!(
        auth::sign_in_failures(&mut w.store, org, key, since(mins(14))).unwrap(),
        3
    );
    assert_eq!(
        auth::sign_in_failures(&mut w.store, org, "address:192.0.2.7", since(mins(14))).unwrap(),
        0
    );
    // The window that began at minute 0 is over at minute 15: counting starts again.
    assert_eq!(
        auth::sign_in_failures(&mut w.store, org, key, since(mins(15))).unwrap(),
        0
    );
    assert_eq!(
        auth::record_sign_in_failure(&mut w.store, org, key, mins(15), window).unwrap(),
        1
    );
    assert_eq!(
        auth::record_sign_in_failure(&mut w.store, org, key, mins(20), window).unwrap(),
        2
    );
    assert_eq!(
        auth::sign_in_failures(&mut w.store, org, key, since(mins(29))).unwrap(),
        2
    );
    assert_eq!(
        auth::sign_in_failures(&mut w.store, org, key, since(mins(30))).unwrap(),
        0
    );
    // Keys and orgs count apart.
    let other = other_org(&mut w.store);
    assert_eq!(
        auth::record_sign_in_failure(&mut w.store, other.org.id, key, mins(20), window).unwrap(),
        1
    );
    assert_eq!(
        auth::record_sign_in_failure(&mut w.store, org, "address:192.0.2.7", mins(20), window).unwrap(),
        1
    );
    auth::clear_sign_in_failures(&mut w.store, org, key).unwrap();
    assert_eq!(
        auth::sign_in_failures(&mut w.store, org, key, since(mins(21))).unwrap(),
        0
    );
    assert_eq!(
        auth::sign_in_failures(&mut w.store, other.org.id, key, since(mins(21))).unwrap(),
        1
    );
    assert_eq!(
        auth::record_sign_in_failure(&mut w.store, org, key, mins(22), window).unwrap(),
        1
    );
    // Housekeeping forgets windows that began long ago.
    assert_eq!(auth::delete_old_sign_in_failures(&mut w.store, mins(21)).unwrap(), 2);
    assert_eq!(
        auth::sign_in_failures(&mut w.store, org, key, since(mins(23))).unwrap(),
        1
    );
}

both_backends!(
    credentials_and_orgs_are_found,
    sessions_expire_and_sign_out,
    an_inactive_user_is_refused,
    a_token_works_until_revoked_and_is_kept_only_as_its_hash,
    tokens_are_named_listed_newest_first_and_kept_per_user,
    only_the_owner_or_an_admin_revokes_a_token,
    sign_in_failure_windows_count_and_reset,
);
