//! Hardening on both databases: sign-in limits per account and per address (an office
//! behind one NAT is not locked out by one person), unknown e-mails answered like wrong
//! passwords, no token minting through the API, one password rule checked before any
//! argon2 work, and reads that answer while writes wait for the database's write lock.

use std::net::SocketAddr;

use axum::extract::connect_info::MockConnectInfo;
use axum::http::StatusCode;
use jiff::Timestamp;
use momentum_store::{auth as store_auth, ops, Store};
use momentum_testkit::{both_backends, TestDb};
use serde_json::json;

mod common;
use common::*;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

const SAM: &str = "sam@demo.momentum.test";
const PRIYA: &str = "priya@demo.momentum.test";
const MARIA: &str = "maria.manager@demo.momentum.test";
const ADMIN: &str = "admin@demo.momentum.test";
const PASSWORD: &str = "momentum-demo";
const WRONG: &str = "The e-mail or the password is wrong.";
const THROTTLED: &str = "Too many failed sign-ins: wait a few minutes and try again.";

/// A token for `email`, made through the store as `momentum token create` would.
/// Blocking store work: call it outside the runtime.
fn token(db: &TestDb, email: &str) -> String {
    let mut store = Store::open(&db.location).unwrap();
    let s = ops::session(&mut store, None, Some(email)).unwrap();
    let (token, hash) = momentum_web::auth::new_api_token(s.org.id);
    store_auth::create_token(&mut store, &s, "hardening tests", &hash, Timestamp::now()).unwrap();
    token
}

/// The app over the demo org already in `db`, with `attempts` sign-in failures allowed.
fn app_with_attempts(db: &TestDb, attempts: u32) -> App {
    let config = momentum_web::Config {
        db: db.location.clone(),
        pool_size: 2,
        sign_in_attempts: attempts,
        ..Default::default()
    };
    let state = momentum_web::AppState::new(config).unwrap();
    let router = momentum_web::router(state.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 50000))));
    App {
        router,
        state,
        cookies: Vec::new(),
    }
}

fn one_locked_account_does_not_lock_out_its_office(db: &TestDb) {
    let mut app = demo_app(db);
    assert_eq!(app.state.config.sign_in_attempts, 5);
    block_on(async {
        for _ in 0..5 {
            let r = app.sign_in(SAM, "not the password").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            assert!(r.body.contains(WRONG), "{}", r.body);
        }
        // Sam's account is locked, even with the right password.
        let locked = app.sign_in(SAM, PASSWORD).await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(locked.body.contains(THROTTLED), "{}", locked.body);
        assert!(!app.cookies.iter().any(|(n, _)| n == "momentum_session"));

        // Priya, from the same address, signs in fine.
        let priya = app.sign_in(PRIYA, PASSWORD).await;
        assert_eq!(priya.status, StatusCode::SEE_OTHER, "{}", priya.body);
        assert_eq!(priya.headers["location"], "/");
        assert!(app.cookies.iter().any(|(n, _)| n == "momentum_session"));

        // Sam is still locked.
        let still = app.sign_in(SAM, PASSWORD).await;
        assert_eq!(still.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(still.body.contains(THROTTLED));
    })
}

fn an_unknown_email_is_answered_like_a_wrong_password(db: &TestDb) {
    let mut app = demo_app(db);
    block_on(async {
        let unknown = app.sign_in("nobody@demo.momentum.test", "whatever it is").await;
        let wrong = app.sign_in(SAM, "whatever it is").await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(unknown.body.contains(WRONG), "{}", unknown.body);
        assert!(wrong.body.contains(WRONG));
        assert!(!unknown.body.contains("Too many"));
        // An unknown e-mail is throttled like a known one.
        for _ in 0..4 {
            app.sign_in("nobody@demo.momentum.test", "whatever it is").await;
        }
        let r = app.sign_in("nobody@demo.momentum.test", "whatever it is").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(r.body.contains(THROTTLED));
    })
}

fn an_address_is_locked_only_after_ten_times_the_account_limit(db: &TestDb) {
    drop(demo_app(db));
    // One failure per account; the address allows ten.
    let mut app = app_with_attempts(db, 1);
    block_on(async {
        for i in 0..10 {
            let r = app.sign_in(&format!("nobody{i}@demo.momentum.test"), "wrong").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "failure {i}: {}", r.body);
        }
        // The address is now locked: even a right password from it waits.
        let r = app.sign_in(PRIYA, PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(r.body.contains(THROTTLED));
    })
}

fn api_tokens_cannot_mint_tokens(db: &TestDb) {
    let mut app = demo_app(db);
    let sam = token(db, SAM);
    block_on(async {
        let r = app
            .api("POST", "/api/v1/tokens", &sam, Some(json!({"name": "child"})))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(r.headers["content-type"], "application/problem+json");
        let p = r.json();
        assert_eq!(p["status"], 403);
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains("/tokens") && detail.contains("momentum token create"),
            "{detail}"
        );
        assert!(p.get("secret").is_none());
        // Without a token: still 401 first.
        let anonymous = app
            .api("POST", "/api/v1/tokens", "", Some(json!({"name": "child"})))
            .await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        // Nothing was made; listing and revoking own tokens still work.
        let list = app.api("GET", "/api/v1/tokens", &sam, None).await;
        assert_eq!(list.status, StatusCode::OK);
        let items = list.json()["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 1, "{items:?}");
        let id = items[0]["id"].as_i64().unwrap();
        let revoked = app.api("DELETE", &format!("/api/v1/tokens/{id}"), &sam, None).await;
        assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
        assert_eq!(
            app.api("GET", "/api/v1/tokens", &sam, None).await.status,
            StatusCode::UNAUTHORIZED
        );
    })
}

fn the_openapi_document_describes_the_refusal(db: &TestDb) {
    let mut app = demo_app(db);
    block_on(async {
        let doc = app.get("/api/openapi.json").await;
        assert_eq!(doc.status, StatusCode::OK);
        let doc = doc.json();
        let create = &doc["paths"]["/api/v1/tokens"]["post"];
        assert!(create["responses"]["403"].is_object(), "{create}");
        assert!(create["responses"]["201"].is_null(), "{create}");
        assert!(create["requestBody"].is_null(), "{create}");
    })
}

fn api_user_creation_checks_admin_first_and_the_one_password_rule(db: &TestDb) {
    let mut app = demo_app(db);
    let (sam, maria, admin) = (token(db, SAM), token(db, MARIA), token(db, ADMIN));
    block_on(async {
        let user = |email: &str, password: &str| json!({"email": email, "name": "Nina", "role": "seller", "manager": MARIA, "password": password});
        // A seller or manager is refused before the password is even looked at.
        for (who, role) in [(&sam, "seller"), (&maria, "manager")] {
            for password in ["short", "a long enough secret"] {
                let r = app
                    .api(
                        "POST",
                        "/api/v1/users",
                        who,
                        Some(user("nina@demo.momentum.test", password)),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
                assert_eq!(
                    r.json()["detail"],
                    format!("not allowed: adding users is for admins; you are a {role}")
                );
            }
        }
        // The admin gets the one rule: 12 to 1000 characters, never echoed.
        for password in ["elevenchars", "", &"x".repeat(1001)] {
            let r = app
                .api(
                    "POST",
                    "/api/v1/users",
                    &admin,
                    Some(user("nina@demo.momentum.test", password)),
                )
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
            let e = &r.json()["errors"][0];
            assert_eq!((&e["field"], &e["value"]), (&json!("password"), &json!("(hidden)")));
            assert!(e["rule"].as_str().unwrap().contains("12 to 1000 characters"), "{e}");
            if !password.is_empty() {
                assert!(!r.body.contains(password));
            }
        }
        let ok = app
            .api(
                "POST",
                "/api/v1/users",
                &admin,
                Some(user("nina@demo.momentum.test", "twelve chars")),
            )
            .await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
        let r = app.sign_in("nina@demo.momentum.test", "twelve chars").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // Without a password the user is still added (they cannot sign in yet).
        let r = app
            .api(
                "POST",
                "/api/v1/users",
                &admin,
                Some(json!({"email": "omar2@demo.momentum.test", "name": "Omar Two", "role": "manager"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    })
}

fn the_settings_page_uses_the_same_password_rule(db: &TestDb) {
    let mut app = demo_app(db);
    block_on(async {
        let r = app.sign_in(ADMIN, PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let csrf = app.csrf().await;
        let long = "y".repeat(1001);
        for password in ["elevenchars", long.as_str()] {
            let r = app
                .post_form(
                    "/settings/users",
                    &[
                        ("csrf", &csrf),
                        ("email", "nina@demo.momentum.test"),
                        ("name", "Nina Novak"),
                        ("role", "seller"),
                        ("manager", MARIA),
                        ("password", password),
                    ],
                )
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
            assert!(r.body.contains("an initial password has 12 to 1000 characters"));
            assert!(!r.body.contains(password), "the password is never sent back");
        }
        let r = app
            .post_form(
                "/settings/users",
                &[
                    ("csrf", &csrf),
                    ("email", "nina@demo.momentum.test"),
                    ("name", "Nina Novak"),
                    ("role", "seller"),
                    ("manager", MARIA),
                    ("password", "twelve chars"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    })
}

/// While writes wait for the database's write lock (an import in another process holds it,
/// say), the API's reads still answer: on SQLite reads run on the async threads
/// (`db::read_store`), and a write waiting there would stop them, so writes must not.
fn reads_answer_while_writes_wait_for_the_write_lock(db: &TestDb) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    drop(demo_app(db));
    let state = momentum_web::AppState::new(momentum_web::Config {
        db: db.location.clone(),
        pool_size: 8,
        ..Default::default()
    })
    .unwrap();
    let app = App {
        router: momentum_web::router(state.clone()),
        state,
        cookies: Vec::new(),
    };
    let sam = token(db, SAM);
    // Two async threads, as on the 2-core machine: four waiting writes would hold both.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let deals: Vec<(i64, i64)> = rt.block_on(app.fresh().api("GET", "/api/v1/today", &sam, None)).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .take(4)
        .map(|d| (d["id"].as_i64().unwrap(), d["version"].as_i64().unwrap()))
        .collect();
    assert_eq!(deals.len(), 4, "the demo seller has due deals");

    // Another writer takes the write lock and holds it until told (or 30 s at most, so a
    // regression fails instead of hanging).
    let (locked_tx, locked) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let released = Arc::new(AtomicBool::new(false));
    let holder = {
        let (location, released) = (db.location.clone(), released.clone());
        std::thread::spawn(move || {
            let mut store = Store::open(&location).unwrap();
            store
                .write(|tx| {
                    if tx.backend() == momentum_store::Backend::Postgres {
                        tx.exec("LOCK TABLE deals IN EXCLUSIVE MODE", &[])?;
                    }
                    locked_tx.send(()).unwrap();
                    let _ = release_rx.recv_timeout(Duration::from_secs(30));
                    released.store(true, Ordering::SeqCst);
                    Ok(())
                })
                .unwrap();
        })
    };
    locked.recv().unwrap();

    rt.block_on(async {
        let writes: Vec<_> = deals
            .iter()
            .map(|(id, _)| {
                let (mut app, sam, path) = (app.fresh(), sam.clone(), format!("/api/v1/deals/{id}/interactions"));
                tokio::spawn(async move {
                    let body = json!({"kind": "email", "result": "stayed", "ending": "cadence"});
                    app.api("POST", &path, &sam, Some(body)).await
                })
            })
            .collect();
        // Let the writes reach the lock.
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The reads run as tasks on the runtime's threads, as a server's requests do.
        let (mut reader, token) = (app.fresh(), sam.clone());
        let first = deals[0].0;
        let reads = tokio::spawn(async move {
            let today = reader.api("GET", "/api/v1/today", &token, None).await;
            let deal = reader.api("GET", &format!("/api/v1/deals/{first}"), &token, None).await;
            (today.status, deal.status)
        });
        assert_eq!(reads.await.unwrap(), (StatusCode::OK, StatusCode::OK));
        assert!(
            !released.load(Ordering::SeqCst),
            "the reads answered only once the write lock was released"
        );
        assert!(
            writes.iter().all(|w| !w.is_finished()),
            "the writes did not wait for the lock"
        );
        release.send(()).unwrap();
        for (w, (id, version)) in writes.into_iter().zip(&deals) {
            let r = w.await.unwrap();
            assert_eq!(r.status, StatusCode::OK, "deal {id}: {}", r.body);
            assert_eq!(r.json()["version"], version + 1, "deal {id} took the interaction");
        }
    });
    holder.join().unwrap();
}

both_backends!(
    reads_answer_while_writes_wait_for_the_write_lock,
    one_locked_account_does_not_lock_out_its_office,
    an_unknown_email_is_answered_like_a_wrong_password,
    an_address_is_locked_only_after_ten_times_the_account_limit,
    api_tokens_cannot_mint_tokens,
    the_openapi_document_describes_the_refusal,
    api_user_creation_checks_admin_first_and_the_one_password_rule,
    the_settings_page_uses_the_same_password_rule,
);
