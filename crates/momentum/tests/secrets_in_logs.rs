//! No secret reaches the logs: a full session against the real `momentum serve` (sign-in
//! with a right and a wrong password, pages with the session cookie and CSRF token,
//! sign-out, the API with a token and with a bad one) over a PostgreSQL URL that carries a
//! password, logging at the most verbose level, in text and in JSON; then the captured
//! logs are searched for every secret of the run. On the way, the database is read
//! directly: sessions and API tokens are kept as SHA-256 hashes, passwords as argon2id PHC
//! strings with the documented parameters, none of them in clear.

mod support;

use std::time::Duration;

use support::*;

const DB_PASSWORD: &str = "db-pass-7f3a9c";
const WRONG_PASSWORD: &str = "wrong-pass-5d1e8b";

fn header_value(head: &str, name: &str) -> Vec<String> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_owned())
        .collect()
}

fn cookie(head: &str, name: &str) -> String {
    header_value(head, "set-cookie")
        .iter()
        .find_map(|c| {
            c.split(';')
                .next()
                .unwrap()
                .strip_prefix(&format!("{name}="))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no {name} cookie in {head}"))
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every value of `column` in `table`.
fn column(location: &str, table: &str, column: &str) -> Vec<String> {
    let mut store = momentum_store::Store::open(location).unwrap();
    store
        .read(|tx| {
            let rows = tx.query(&format!("SELECT {column} FROM {table}"), &[])?;
            Ok(rows
                .iter()
                .filter_map(|r| r.opt_text(0).ok().flatten().map(str::to_owned))
                .collect())
        })
        .unwrap()
}

/// The database keeps only hashes: no session secret, token or password in it.
fn stored_hashed(location: &str, session_secret: &str, token: &str) {
    let sessions = column(location, "sessions", "session_hash");
    assert!(
        sessions.contains(&momentum_web::auth::sha256_hex(session_secret)),
        "the session is stored by hash"
    );
    let tokens = column(location, "api_tokens", "token_hash");
    assert!(
        tokens.contains(&momentum_web::auth::sha256_hex(token)),
        "the token is stored by hash"
    );
    let passwords = column(location, "users", "password_hash");
    assert!(
        passwords
            .iter()
            .all(|p| p.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")),
        "{passwords:?}"
    );
    for (table, col) in [
        ("sessions", "session_hash"),
        ("sessions", "csrf_token"),
        ("api_tokens", "token_hash"),
        ("api_tokens", "name"),
        ("users", "password_hash"),
    ] {
        for value in column(location, table, col) {
            for secret in [session_secret, token, &token[token.len() - 64..], PASSWORD] {
                assert!(!value.contains(secret), "{table}.{col} holds a secret in clear");
            }
        }
    }
}

/// One full session; the secrets it used.
fn session(port: u16, token: &str, location: &str) -> Vec<String> {
    let t = Duration::from_secs(20);
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let mut secrets = Vec::new();

    // A wrong password, then the right one.
    let (status, head, body) = raw(port, "GET", "/sign-in", &[], "", t).unwrap();
    assert_eq!(status, 200);
    let pre = cookie(&head, "momentum_csrf");
    let csrf = hidden(&body, "csrf");
    secrets.extend([pre.clone(), csrf.clone()]);
    let cookie_header = format!("momentum_csrf={pre}");
    let wrong = format!("email=sam%40acme.test&password={}&csrf={csrf}", enc(WRONG_PASSWORD));
    let (status, _, _) = raw(port, "POST", "/sign-in", &[form, ("Cookie", &cookie_header)], &wrong, t).unwrap();
    assert_eq!(status, 401);
    let right = format!("email=sam%40acme.test&password={}&csrf={csrf}", enc(PASSWORD));
    let (status, head, body) = raw(port, "POST", "/sign-in", &[form, ("Cookie", &cookie_header)], &right, t).unwrap();
    assert_eq!(status, 303, "{body}");
    let session = cookie(&head, "momentum_session");
    secrets.push(session.split_once('.').unwrap().1.to_owned());
    let jar = format!("momentum_session={session}");
    stored_hashed(location, session.split_once('.').unwrap().1, token);

    // Pages, with a form POST carrying the session's CSRF token.
    let (status, _, today) = raw(port, "GET", "/", &[("Cookie", &jar)], "", t).unwrap();
    assert_eq!(status, 200);
    let csrf = hidden(&today, "csrf");
    secrets.push(csrf.clone());
    let (status, _, _) = raw(port, "GET", "/search?q=Globex", &[("Cookie", &jar)], "", t).unwrap();
    assert_eq!(status, 200);
    let made = format!("csrf={csrf}&name=Initech");
    let (status, _, _) = raw(port, "POST", "/accounts/new", &[form, ("Cookie", &jar)], &made, t).unwrap();
    assert_eq!(status, 303);

    // The API, with the token and with a made-up one; a token in a query string too.
    let bearer = format!("Bearer {token}");
    let (status, _, _) = raw(port, "GET", "/api/v1/today", &[("Authorization", &bearer)], "", t).unwrap();
    assert_eq!(status, 200);
    let json = ("Content-Type", "application/json");
    let (status, _, _) = raw(
        port,
        "POST",
        "/api/v1/accounts",
        &[("Authorization", &bearer), json],
        r#"{"name": "Umbrella"}"#,
        t,
    )
    .unwrap();
    assert_eq!(status, 201);
    let forged = "mtm_1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";
    let (status, _, _) = raw(
        port,
        "GET",
        "/api/v1/today",
        &[("Authorization", &format!("Bearer {forged}"))],
        "",
        t,
    )
    .unwrap();
    assert_eq!(status, 401);
    let (status, _, _) = raw(port, "GET", &format!("/api/v1/today?access_token={token}"), &[], "", t).unwrap();
    assert_eq!(status, 401);
    secrets.extend([
        token.to_owned(),
        token.rsplit('_').next().unwrap().to_owned(),
        forged.to_owned(),
    ]);

    let (status, _, _) = raw(
        port,
        "POST",
        "/sign-out",
        &[form, ("Cookie", &jar)],
        &format!("csrf={csrf}"),
        t,
    )
    .unwrap();
    assert_eq!(status, 303);
    secrets
}

#[test]
fn passwords_tokens_and_database_urls_never_reach_the_logs() {
    let Some(db) = momentum_testkit::postgres() else { return };
    // The same database, reached through a URL with a password (trust auth ignores it).
    let (scheme_user, rest) = db.location.split_once('@').unwrap();
    let location = format!("{scheme_user}:{DB_PASSWORD}@{rest}");
    let token = acme(&location);
    let dir = tempfile::tempdir().unwrap();
    let mut logs = Vec::new();
    for json in ["false", "true"] {
        let mut server = Server::start(
            &location,
            dir.path(),
            &[("MOMENTUM_LOG", "trace"), ("MOMENTUM_LOG_JSON", json)],
        );
        let mut secrets = session(server.port, &token, &location);
        // And a database failure, whose cause is logged.
        secrets.extend([
            DB_PASSWORD.to_owned(),
            location.clone(),
            PASSWORD.to_owned(),
            WRONG_PASSWORD.to_owned(),
        ]);
        secrets.push(enc(PASSWORD));
        secrets.push(enc(WRONG_PASSWORD));
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &server.child.id().to_string()])
            .status();
        let _ = server.child.wait();
        let log = server.log_text();
        server.kill();
        assert!(log.lines().count() > 20, "too little logged to judge: {log}");
        assert!(
            log.contains("/api/v1/today") && log.contains("/sign-in"),
            "requests are logged: {log}"
        );
        for secret in &secrets {
            if let Some(line) = log.lines().find(|l| l.contains(secret.as_str())) {
                let line: String = line.replace(secret.as_str(), "<SECRET>").chars().take(600).collect();
                panic!("the log (json={json}) holds a secret: {line}");
            }
        }
        logs.push(log.lines().count());
    }
    eprintln!(
        "secrets in logs: 0 found in {} + {} lines of trace logs (text, JSON)",
        logs[0], logs[1]
    );
}
