//! The authorization matrix, on both databases: every route the app serves (taken from
//! `pages::ROUTES` and `api::ROUTES`, the lists the router is built from, so a new route
//! without a case here fails the test) × role (seller, manager, admin, anonymous) × owner
//! of the thing it touches (the actor's own, a teammate's, another team's, another org's):
//! allowed or denied as DESIGN.md says (a seller acts on their own deals, a manager on
//! their team's, an admin on the org's; accounts and contacts are the org's; settings and
//! users are the admin's; an API token is its user's). A denied write changes nothing, and
//! nothing of another org is ever read or written.
//!
//! "Owner" is relative to the actor: for Sam (seller, Maria's team) his own deal, Priya's
//! (same team), Omar's (Mark's team) and Rex's (another org); for Maria her own deal,
//! Sam's, Omar's, Rex's; for the admin their own, Sam's, Omar's, Rex's.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use momentum_store::ops::{self, Session};
use momentum_store::{auth as store_auth, Store};
use momentum_testkit::{both_backends, TestDb};
use serde_json::{json, Value};

mod common;
use common::*;

const SAM: &str = "sam@demo.momentum.test";
const PRIYA: &str = "priya@demo.momentum.test";
const OMAR: &str = "omar@demo.momentum.test";
const MARIA: &str = "maria.manager@demo.momentum.test";
const ADMIN: &str = "admin@demo.momentum.test";
const REX: &str = "rex@rival.test";
const RIVAL_ADMIN: &str = "boss@rival.test";
const RIVAL_ORG: &str = "Rival Works";
const PASSWORD: &str = "momentum-demo";
/// Text only the other org's rows carry: it must never reach a demo-org user.
const RIVAL_MARK: &str = "Rivalmarker";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Seller,
    Manager,
    Admin,
    Anonymous,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Owner {
    Own,
    SameTeam,
    OtherTeam,
    OtherOrg,
}

const OWNERS: [Owner; 4] = [Owner::Own, Owner::SameTeam, Owner::OtherTeam, Owner::OtherOrg];

/// What a route touches, which decides who may use it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Open to anyone (sign-in, assets, the API description, health, metrics).
    Public,
    /// Anyone signed in; no one else's rows are named in the request.
    Member,
    /// Admins only.
    AdminOnly,
    /// A seller's goal: set by the seller, their manager or the admin (the deal rule).
    Goal,
    /// Refused to everyone authenticated (API tokens cannot mint tokens).
    Nobody,
    /// One deal: its owner, their manager, the org's admin.
    Deal,
    /// A deal action reserved to managers and admins (reassign).
    DealCoach,
    /// The coaching overview: managers and admins.
    Coach,
    /// An account or contact: the whole org's.
    Directory,
    /// An API token: its user's, or the org admin's.
    Token,
    /// Signing out: anyone signed in (checked last, it ends the session).
    SignOut,
}

fn kind(method: &str, path: &str) -> Kind {
    use Kind::*;
    match (method, path) {
        ("get", "/sign-in") | ("post", "/sign-in") | ("get", "/assets/style.css") => Public,
        ("get", "/api/openapi.json") | ("get", "/api/docs") | ("get", "/healthz") | ("get", "/metrics") => Public,
        ("post", "/sign-out") => SignOut,
        ("post", "/log") => Deal,
        ("post", "/api/v1/deals/{id}/reassign") => DealCoach,
        ("post", "/tokens") | ("get", "/tokens") | ("get", "/api/v1/tokens") => Member,
        ("post", "/api/v1/tokens") => Nobody,
        ("post", "/api/v1/users")
        | ("put", "/api/v1/settings/ladder")
        | ("put", "/api/v1/settings/cadence")
        | ("post", "/settings/ladder")
        | ("post", "/settings/cadence")
        | ("post", "/settings/users")
        | ("post", "/settings/users/edit")
        | ("get", "/settings") => AdminOnly,
        ("post", "/api/v1/goals") => Goal,
        ("get", "/coaching") => Coach,
        (_, p) if p.starts_with("/deals/{id}") || p.starts_with("/api/v1/deals/{id}") => Deal,
        (_, p) if p.contains("/accounts/{id}") || p.contains("/contacts/{id}") => Directory,
        (_, p) if p.contains("/tokens/{id}") => Token,
        _ => Member,
    }
}

fn allowed(kind: Kind, role: Role, owner: Owner) -> bool {
    use Kind::*;
    if kind == Public {
        return true;
    }
    if role == Role::Anonymous || owner == Owner::OtherOrg {
        return false;
    }
    match kind {
        Public => true,
        Member | SignOut | Directory => true,
        AdminOnly => role == Role::Admin,

        Nobody => false,
        Deal | Goal => match role {
            Role::Seller => owner == Owner::Own,
            Role::Manager => owner != Owner::OtherTeam,
            _ => true,
        },
        Coach => role != Role::Seller,
        DealCoach => match role {
            Role::Seller => false,
            Role::Manager => owner != Owner::OtherTeam,
            _ => true,
        },
        Token => owner == Owner::Own || role == Role::Admin,
    }
}

/// Who owns the row a (role, owner) case touches.
fn owner_email(kind: Kind, role: Role, owner: Owner) -> &'static str {
    match (role, owner) {
        // Goals are sellers': a manager's or admin's "own" is a seller of their team.
        (Role::Manager | Role::Admin, Owner::Own) if kind == Kind::Goal => SAM,
        (_, Owner::OtherOrg) => REX,
        (_, Owner::OtherTeam) => OMAR,
        (Role::Seller, Owner::Own) => SAM,
        (Role::Seller, Owner::SameTeam) => PRIYA,
        (Role::Manager, Owner::Own) => MARIA,
        (Role::Admin, Owner::Own) => ADMIN,
        (_, _) => SAM,
    }
}

fn actor_email(role: Role) -> Option<&'static str> {
    match role {
        Role::Seller => Some(SAM),
        Role::Manager => Some(MARIA),
        Role::Admin => Some(ADMIN),
        Role::Anonymous => None,
    }
}

struct World {
    demo_org: String,
    /// Each org user's account and contact, by e-mail.
    directory: Vec<(&'static str, i64, i64)>,
}

fn session(store: &mut Store, org: &str, email: &str) -> Session {
    ops::session(store, Some(org), Some(email)).unwrap()
}

fn token(store: &mut Store, org: &str, email: &str, name: &str) -> (String, i64) {
    let s = session(store, org, email);
    let (token, hash) = momentum_web::auth::new_api_token(s.org.id);
    let t = store_auth::create_token(store, &s, name, &hash, Timestamp::now()).unwrap();
    (token, t.id.0)
}

fn in_hours(hours: i64) -> String {
    (Timestamp::now() + SignedDuration::from_hours(hours)).to_string()
}

fn in_days(days: i64) -> String {
    let today = Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    today.checked_add(jiff::Span::new().days(days)).unwrap().to_string()
}

/// A runtime for the requests; store work happens between them, outside it (the
/// blocking PostgreSQL client must not run inside a runtime).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

struct Matrix<'a> {
    db: &'a TestDb,
    rt: tokio::runtime::Runtime,
    app: App,
    world: World,
    /// Every org user's API token (for setting up rows), by e-mail.
    tokens: Vec<(&'static str, String)>,
    /// Signed-in browsers (page sessions) and their CSRF tokens, by role.
    browsers: Vec<(Role, App, String)>,
    /// What went differently from the matrix.
    failures: Vec<String>,
    cases: usize,
}

impl Matrix<'_> {
    fn token_of(&self, email: &str) -> String {
        self.tokens.iter().find(|(e, _)| *e == email).unwrap().1.clone()
    }

    fn api(&mut self, method: &str, path: &str, token: &str, body: Option<Value>) -> Reply {
        let mut app = App {
            router: self.app.router.clone(),
            state: self.app.state.clone(),
            cookies: Vec::new(),
        };
        self.rt.block_on(app.api(method, path, token, body))
    }

    /// A fresh open deal (version 1) owned by `email`, and its contact.
    fn new_deal(&mut self, email: &'static str) -> (i64, i64) {
        let (_, account, contact) = *self.world.directory.iter().find(|(e, _, _)| *e == email).unwrap();
        let token = self.token_of(email);
        let marker = if email == REX { RIVAL_MARK } else { "Matrix" };
        let r = self.api(
            "POST",
            "/api/v1/deals",
            &token,
            Some(json!({
                "title": format!("{marker} deal of {email}"),
                "value": {"minor": 100_000, "currency": "USD"},
                "account": account, "contact": contact,
                "first_step": {"next_step": {"due": in_hours(48), "kind": "meeting", "buyer_committed": true}},
            })),
        );
        assert_eq!(r.status, StatusCode::CREATED, "a deal for {email}: {}", r.body);
        (r.json()["id"].as_i64().unwrap(), contact)
    }

    /// The deal's version as its org's admin sees it.
    fn deal_version(&mut self, owner: Owner, id: i64) -> i64 {
        let admin = self.token_of(if owner == Owner::OtherOrg { RIVAL_ADMIN } else { ADMIN });
        let r = self.api("GET", &format!("/api/v1/deals/{id}"), &admin, None);
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()["version"].as_i64().unwrap()
    }

    /// Sends one case; returns the status and, for pages, where it redirects.
    fn send(
        &mut self,
        role: Role,
        method: &str,
        path: &str,
        api_body: Option<Value>,
        form: Vec<(String, String)>,
    ) -> (StatusCode, String, String) {
        let is_api = path.starts_with("/api/");
        let reply = if is_api {
            let token = match actor_email(role) {
                Some(e) => self.token_of(e),
                None => String::new(),
            };
            self.api(&method.to_ascii_uppercase(), path, &token, api_body)
        } else {
            let (mut browser, csrf) = match self.browsers.iter().position(|(r, _, _)| *r == role) {
                Some(i) => {
                    let (_, b, c) = &self.browsers[i];
                    (
                        App {
                            router: b.router.clone(),
                            state: b.state.clone(),
                            cookies: b.cookies.clone(),
                        },
                        c.clone(),
                    )
                }
                None => (
                    App {
                        router: self.app.router.clone(),
                        state: self.app.state.clone(),
                        cookies: Vec::new(),
                    },
                    String::new(),
                ),
            };
            if method == "get" {
                self.rt.block_on(browser.get(path))
            } else {
                let mut fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                fields.push(("csrf", &csrf));
                self.rt.block_on(browser.post_form(path, &fields))
            }
        };
        let location = reply
            .headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (reply.status, location, reply.body)
    }

    #[allow(clippy::too_many_arguments)]
    fn check(
        &mut self,
        role: Role,
        owner: Owner,
        method: &str,
        template: &str,
        path: &str,
        outcome: (StatusCode, String, String),
        expect: bool,
    ) {
        self.cases += 1;
        let (status, location, body) = outcome;
        // A body naming another org's user gets the answer of an e-mail nobody has.
        let unknown_here =
            owner == Owner::OtherOrg && status == StatusCode::UNPROCESSABLE_ENTITY && body.contains("in this org");
        let signing_out = kind(method, template) == Kind::SignOut && role != Role::Anonymous;
        let to_sign_in = status == StatusCode::SEE_OTHER && location == "/sign-in" && !signing_out;
        let denied = matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
        ) || to_sign_in
            || unknown_here;
        let granted = status.is_success() || status == StatusCode::SEE_OTHER && !to_sign_in;
        let case = format!("{role:?} {owner:?} {} {path} ({template})", method.to_ascii_uppercase());
        if kind(method, template) == Kind::Public {
            if status.is_server_error() || method == "get" && status != StatusCode::OK {
                self.failures.push(format!("{case}: a public route answered {status}"));
            }
            return;
        }
        if status.is_server_error() {
            self.failures.push(format!("{case}: {status} {body}"));
        } else if expect && !granted {
            self.failures.push(format!(
                "{case}: expected allowed, got {status} {location} {}",
                cut(&body)
            ));
        } else if !expect && !denied {
            self.failures.push(format!(
                "{case}: expected denied, got {status} {location} {}",
                cut(&body)
            ));
        }
        if role == Role::Anonymous && path.starts_with("/api/v1/") && status != StatusCode::UNAUTHORIZED {
            self.failures
                .push(format!("{case}: anonymous API calls are 401, got {status}"));
        }
        if owner == Owner::OtherOrg
            && status != StatusCode::NOT_FOUND
            && !unknown_here
            && role != Role::Anonymous
            && kind(method, template) != Kind::Public
        {
            // Another org's rows do not exist for this user: 404, not a 403 that confirms them.
            self.failures
                .push(format!("{case}: another org's row answers 404, got {status}"));
        }
        if role != Role::Anonymous && owner != Owner::OtherOrg && body.contains(RIVAL_MARK) {
            self.failures.push(format!("{case}: shows another org's data"));
        }
    }
}

fn cut(s: &str) -> String {
    s.chars().take(300).collect()
}

/// The request body of each writing route, for a deal/account/contact `id` and the deal's
/// `contact`; `None` for routes without one.
fn api_body(method: &str, template: &str, contact: i64, n: usize, target: &str) -> Option<Value> {
    let body = match (method, template) {
        ("post", "/api/v1/deals") => {
            json!({"title": format!("Matrix new {n}"), "value": {"minor": 100, "currency": "USD"}})
        }
        ("post", "/api/v1/deals/{id}/interactions") => json!({"kind": "call", "result": "stayed", "ending": "cadence"}),
        ("post", "/api/v1/deals/{id}/decisions") => json!({"to": 1, "contact": contact, "note": "Agreed by e-mail"}),
        ("put", "/api/v1/deals/{id}/need") => json!({
            "kind": "problem", "buyer_words": "We lose orders", "consequence": "Churn",
            "matters_by": in_days(60), "cost_per_month": {"minor": 1_000, "currency": "USD"},
        }),
        ("post", "/api/v1/deals/{id}/disqualify") => json!({"reason": "No budget owner"}),
        ("post", "/api/v1/deals/{id}/close") => {
            json!({"closing": {"lost": {"reason_category": "price", "buyer_words": "Too dear"}}})
        }
        ("post", "/api/v1/deals/{id}/reschedule") => {
            json!({"next_step": {"due": in_hours(120), "kind": "visit", "buyer_committed": true}})
        }
        ("post", "/api/v1/deals/{id}/reassign") => json!({"owner": PRIYA}),
        ("post", "/api/v1/accounts") => json!({"name": format!("Matrix account {n}")}),
        ("patch", "/api/v1/accounts/{id}") => json!({"name": format!("Matrix renamed {n}")}),
        ("post", "/api/v1/contacts") => json!({"name": format!("Matrix contact {n}")}),
        ("patch", "/api/v1/contacts/{id}") => json!({"name": format!("Matrix renamed {n}")}),
        ("post", "/api/v1/users") => {
            json!({"email": format!("matrix{n}@demo.momentum.test"), "name": "Matrix User", "role": "manager"})
        }
        ("put", "/api/v1/settings/ladder") => {
            json!({"steps": ["met", "problem", "cost and date", "evaluate", "process", "terms", "signed"]})
        }
        ("put", "/api/v1/settings/cadence") => {
            json!({"first_every_days": 7, "first_for_days": 30, "then_every_days": 14})
        }
        ("post", "/api/v1/goals") => {
            json!({"seller": target, "month": "2027-01", "amount": {"minor": 5_000_000, "currency": "USD"}})
        }
        ("post", "/api/v1/check-ins") => json!({"commitment": 8, "why": "For my family"}),
        ("post", "/api/v1/tokens") => json!({"name": "minted"}),
        _ => return None,
    };
    Some(body)
}

/// The form fields of each page POST (the CSRF token is added by the sender).
fn form(template: &str, deal: i64, n: usize) -> Vec<(String, String)> {
    let f: Vec<(&str, String)> = match template {
        "/log" => vec![
            ("deal", deal.to_string()),
            ("version", "1".into()),
            ("kind", "call".into()),
            ("result", "stayed".into()),
            ("ending", "cadence".into()),
        ],
        "/deals/{id}/log" => vec![
            ("version", "1".into()),
            ("kind", "call".into()),
            ("result", "stayed".into()),
            ("ending", "cadence".into()),
        ],
        "/deals/{id}/need" => vec![
            ("version", "1".into()),
            ("kind", "problem".into()),
            ("buyer_words", "We lose orders".into()),
            ("consequence", "Churn".into()),
            ("matters_by", in_days(60)),
            ("cost_per_month", "10".into()),
        ],
        "/deals/{id}/disqualify" => vec![("version", "1".into()), ("reason", "No budget owner".into())],
        "/deals/{id}/close" => vec![
            ("version", "1".into()),
            ("outcome", "lost".into()),
            ("reason_category", "price".into()),
            ("buyer_words", "Too dear".into()),
        ],
        "/deals/{id}/reschedule" => vec![("version", "1".into()), ("next_at", "+3d".into())],
        "/deals/new" => vec![
            ("title", format!("Matrix page deal {n}")),
            ("value", "1".into()),
            ("next_at", "+2d".into()),
        ],
        "/accounts/new" => vec![("name", format!("Matrix page account {n}"))],
        "/accounts/{id}/edit" => vec![("name", format!("Matrix page renamed {n}"))],
        "/contacts/new" => vec![("name", format!("Matrix page contact {n}"))],
        "/contacts/{id}/edit" => vec![("name", format!("Matrix page renamed {n}"))],
        "/settings/ladder" => vec![(
            "steps",
            "met\nproblem\ncost and date\nevaluate\nprocess\nterms\nsigned".into(),
        )],
        "/settings/cadence" => vec![
            ("first_every_days", "7".into()),
            ("first_for_days", "30".into()),
            ("then_every_days", "14".into()),
        ],
        "/settings/users" => vec![
            ("email", format!("page{n}@demo.momentum.test")),
            ("name", "Page User".into()),
            ("role", "manager".into()),
            ("password", "a long enough password".into()),
        ],
        "/settings/users/edit" => vec![
            ("email", PRIYA.into()),
            ("role", "seller".into()),
            ("manager", MARIA.into()),
            ("active", "on".into()),
        ],
        "/tokens" => vec![("name", format!("matrix {n}"))],
        "/check-in" => vec![("commitment", "7".into()), ("why", format!("Matrix {n}"))],
        "/sign-in" => vec![("email", SAM.into()), ("password", "not the password".into())],
        _ => vec![],
    };
    f.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn all_routes() -> BTreeSet<(&'static str, &'static str)> {
    let mut routes: BTreeSet<_> = momentum_web::pages::ROUTES.iter().copied().collect();
    routes.extend(momentum_web::api::ROUTES.iter().copied());
    // The two the app adds beside pages and API.
    routes.extend([("get", "/healthz"), ("get", "/metrics")]);
    routes
}

fn setup(db: &TestDb) -> Matrix<'_> {
    let app = demo_app(db);
    let mut store = Store::open(&db.location).unwrap();
    let demo_org = ops::org_names(&mut store).unwrap().remove(0);
    let hash = momentum_web::password::hash(PASSWORD).unwrap();
    let rival = ops::create_org(
        &mut store,
        momentum_core::commands::NewOrg {
            name: RIVAL_ORG,
            currency: momentum_core::money::Currency::USD,
            timezone: "UTC",
        },
        ops::FirstAdmin {
            email: RIVAL_ADMIN,
            name: "Rival Boss",
            password_hash: Some(&hash),
        },
        Timestamp::now(),
    )
    .unwrap();
    ops::add_user(
        &mut store,
        &rival,
        ops::AddUser {
            email: "rita@rival.test",
            name: "Rita Manager",
            role: momentum_core::vocab::Role::Manager,
            manager: None,
            password_hash: Some(&hash),
        },
        Timestamp::now(),
    )
    .unwrap();
    ops::add_user(
        &mut store,
        &rival,
        ops::AddUser {
            email: REX,
            name: "Rex Rivalmarker",
            role: momentum_core::vocab::Role::Seller,
            manager: Some("rita@rival.test"),
            password_hash: Some(&hash),
        },
        Timestamp::now(),
    )
    .unwrap();
    let mut tokens = Vec::new();
    for email in [SAM, PRIYA, OMAR, MARIA, ADMIN] {
        tokens.push((email, token(&mut store, &demo_org, email, "matrix").0));
    }
    for email in [REX, RIVAL_ADMIN] {
        tokens.push((email, token(&mut store, RIVAL_ORG, email, "matrix").0));
    }
    drop(store);
    let mut m = Matrix {
        db,
        rt: runtime(),
        app,
        world: World {
            demo_org,
            directory: Vec::new(),
        },
        tokens,
        browsers: Vec::new(),
        failures: Vec::new(),
        cases: 0,
    };
    for email in [SAM, PRIYA, OMAR, MARIA, ADMIN, REX] {
        let token = m.token_of(email);
        let marker = if email == REX { RIVAL_MARK } else { "Matrix" };
        let account = m.api(
            "POST",
            "/api/v1/accounts",
            &token,
            Some(json!({"name": format!("{marker} account of {email}")})),
        );
        assert_eq!(account.status, StatusCode::CREATED, "{}", account.body);
        let account = account.json()["id"].as_i64().unwrap();
        let contact = m.api(
            "POST",
            "/api/v1/contacts",
            &token,
            Some(json!({"name": format!("{marker} buyer of {email}"), "account": account})),
        );
        assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.body);
        let contact = contact.json()["id"].as_i64().unwrap();
        m.world.directory.push((email, account, contact));
    }
    for role in [Role::Seller, Role::Manager, Role::Admin] {
        let mut browser = App {
            router: m.app.router.clone(),
            state: m.app.state.clone(),
            cookies: Vec::new(),
        };
        let email = actor_email(role).unwrap();
        let org = m.world.demo_org.clone();
        let r = m.rt.block_on(async {
            let form = browser.get("/sign-in").await;
            let csrf = hidden(&form.body, "csrf");
            browser
                .post_form(
                    "/sign-in",
                    &[("email", email), ("password", PASSWORD), ("org", &org), ("csrf", &csrf)],
                )
                .await
        });
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let csrf = m.rt.block_on(browser.csrf());
        m.browsers.push((role, browser, csrf));
    }
    m
}

fn every_route_by_role_and_owner(db: &TestDb) {
    let mut m = setup(db);
    let routes = all_routes();
    let roles = [Role::Seller, Role::Manager, Role::Admin, Role::Anonymous];
    let mut n = 0;
    // Sign-out last: it ends the browser's session.
    let (sign_out, routes): (Vec<_>, Vec<_>) = routes.into_iter().partition(|r| kind(r.0, r.1) == Kind::SignOut);
    for &(method, template) in routes.iter().chain(&sign_out) {
        let k = kind(method, template);
        let has_id = template.contains("{id}") || template == "/log" || k == Kind::Goal;
        for role in roles {
            let owners: &[Owner] = if has_id { &OWNERS } else { &[Owner::Own] };
            for &owner in owners {
                n += 1;
                let expect = allowed(k, role, owner);
                let target = owner_email(k, role, owner);
                // The row the case touches, fresh for writes to deals so each starts at version 1.
                let (id, contact) = match k {
                    Kind::Deal | Kind::DealCoach => m.new_deal(target),
                    Kind::Directory => {
                        let (_, a, c) = *m.world.directory.iter().find(|(e, _, _)| *e == target).unwrap();
                        (if template.contains("accounts") { a } else { c }, 0)
                    }
                    Kind::Token => {
                        let mut store = Store::open(&m.db.location).unwrap();
                        let (_, id) = token(&mut store, org_of_target(&m, owner), target, "victim");
                        (id, 0)
                    }
                    _ => (0, 0),
                };
                let path = template.replace("{id}", &id.to_string()).replace("{name}", "give-up");
                let path = if path.ends_with("/search") {
                    format!("{path}?q=Matrix")
                } else {
                    path
                };
                let before = matches!(k, Kind::Deal | Kind::DealCoach).then(|| m.deal_version(owner, id));
                let outcome = m.send(
                    role,
                    method,
                    &path,
                    api_body(method, template, contact, n, target),
                    form(template, id, n),
                );
                m.check(role, owner, method, template, &path, outcome, expect);
                if let Some(v) = before {
                    let after = m.deal_version(owner, id);
                    let granted = allowed(k, role, owner);
                    if after != v && (!granted || method == "get") {
                        m.failures.push(format!(
                            "{role:?} {owner:?} {method} {path}: the deal changed ({v} → {after})"
                        ));
                    }
                }
            }
        }
    }
    // Signing out ended each session on the server: its cookie opens nothing now.
    for i in 0..m.browsers.len() {
        let (role, b, _) = &m.browsers[i];
        let (role, mut b) = (
            *role,
            App {
                router: b.router.clone(),
                state: b.state.clone(),
                cookies: b.cookies.clone(),
            },
        );
        let r = m.rt.block_on(b.get("/"));
        assert_eq!(
            (
                r.status,
                r.headers.get("location").map(|v| v.to_str().unwrap().to_owned())
            ),
            (StatusCode::SEE_OTHER, Some("/sign-in".to_owned())),
            "{role:?} after sign-out"
        );
    }
    // Nothing of the other org was changed: its tokens work, its deals are where they were.
    let rex = m.token_of(REX);
    let r = m.api("GET", "/api/v1/deals?status=open", &rex, None);
    assert_eq!(r.status, StatusCode::OK);
    for deal in r.json()["items"].as_array().unwrap() {
        assert_eq!(deal["version"], 1, "another org's deal was written: {deal}");
        assert_eq!(deal["owner_email"], REX);
    }
    let accounts = m.api("GET", "/api/v1/accounts", &rex, None).json();
    for a in accounts["items"].as_array().unwrap() {
        assert!(a["name"].as_str().unwrap().starts_with(RIVAL_MARK), "{a}");
    }
    let total = m.cases;
    assert!(total >= 400, "only {total} cases");
    eprintln!(
        "authorization matrix on {}: {total} cases, {} off the matrix",
        db.backend,
        m.failures.len()
    );
    assert!(
        m.failures.is_empty(),
        "{} of {total} cases off the matrix:\n{}",
        m.failures.len(),
        m.failures.join("\n")
    );
}

fn org_of_target(m: &Matrix<'_>, owner: Owner) -> &'static str {
    if owner == Owner::OtherOrg {
        RIVAL_ORG
    } else {
        // The demo org's name is only known at run time; leak it for the 'static the helper wants.
        Box::leak(m.world.demo_org.clone().into_boxed_str())
    }
}

/// The route lists the matrix walks are the router's: every listed route answers (no 404
/// from the fallback for a signed-in admin), and a path the lists lack is the fallback's 404.
fn the_route_lists_are_what_the_router_serves(db: &TestDb) {
    let mut m = setup(db);
    let admin = m.token_of(ADMIN);
    for (method, template) in all_routes() {
        if method != "get" || template.contains("{id}") {
            continue;
        }
        let template = &*template.replace("{name}", "summary").leak();
        let (status, _, body) = if template.starts_with("/api/") {
            let r = m.api("GET", template, &admin, None);
            (r.status, String::new(), r.body)
        } else {
            m.send(Role::Admin, "get", template, None, Vec::new())
        };
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{template}: {status} {}",
            cut(&body)
        );
    }
    let (status, _, _) = m.send(Role::Admin, "get", "/no-such-page", None, Vec::new());
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Every page POST (from `pages::ROUTES`) without the CSRF token, or with a forged one, is
/// refused with 403 and changes nothing, even from a signed-in admin; sign-in's own form
/// (no session yet) checks its double-submit cookie the same way.
fn every_page_post_refuses_a_missing_or_forged_csrf_token(db: &TestDb) {
    let mut m = setup(db);
    let mut refused = 0;
    for &(method, template) in momentum_web::pages::ROUTES {
        if method != "post" {
            continue;
        }
        let (deal, _) = m.new_deal(SAM);
        let (_, account, contact) = *m.world.directory.iter().find(|(e, _, _)| *e == SAM).unwrap();
        let id = match template {
            t if t.starts_with("/accounts/") => account,
            t if t.starts_with("/contacts/") => contact,
            t if t.starts_with("/tokens/") => {
                let mut store = Store::open(&m.db.location).unwrap();
                token(&mut store, &m.world.demo_org.clone(), ADMIN, "csrf victim").1
            }
            _ => deal,
        };
        let path = template.replace("{id}", &id.to_string());
        let fields = form(template, id, 0);
        for csrf in [None, Some("forged"), Some("")] {
            let (_, b, _) = m.browsers.iter().find(|(r, _, _)| *r == Role::Admin).unwrap();
            let mut browser = App {
                router: b.router.clone(),
                state: b.state.clone(),
                cookies: b.cookies.clone(),
            };
            if template == "/sign-in" {
                browser.cookies.clear();
                m.rt.block_on(browser.get("/sign-in"));
            }
            let mut f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            if let Some(c) = csrf {
                f.push(("csrf", c));
            }
            let r = m.rt.block_on(browser.post_form(&path, &f));
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "POST {path} with csrf {csrf:?}: {}",
                cut(&r.body)
            );
            refused += 1;
        }
        assert_eq!(m.deal_version(Owner::Own, deal), 1, "{path} changed the deal");
    }
    // Still signed in (sign-out was refused too), and nothing was added.
    let (_, b, _) = m.browsers.iter().find(|(r, _, _)| *r == Role::Admin).unwrap();
    let mut browser = App {
        router: b.router.clone(),
        state: b.state.clone(),
        cookies: b.cookies.clone(),
    };
    assert_eq!(m.rt.block_on(browser.get("/")).status, StatusCode::OK);
    let search = m.rt.block_on(browser.get("/search?q=Matrix+page"));
    assert!(search.body.contains("Nothing found."), "{}", cut(&search.body));
    eprintln!(
        "CSRF on {}: {refused} forged or token-less form posts refused",
        db.backend
    );
}

/// Every cookie the app sets is HttpOnly and SameSite=Lax, and Secure when
/// `secure_cookies` is on (behind HTTPS): the sign-in form's CSRF cookie, the session, and
/// the session (removals carry an empty value).
fn every_cookie_is_http_only_and_same_site(db: &TestDb) {
    drop(demo_app(db));
    for secure in [false, true] {
        let config = momentum_web::Config {
            db: db.location.clone(),
            pool_size: 2,
            secure_cookies: secure,
            ..Default::default()
        };
        let state = momentum_web::AppState::new(config).unwrap();
        let router = momentum_web::router(state.clone()).layer(axum::extract::connect_info::MockConnectInfo(
            std::net::SocketAddr::from(([127, 0, 0, 1], 50000)),
        ));
        let mut app = App {
            router,
            state,
            cookies: Vec::new(),
        };
        let rt = runtime();
        let mut seen = Vec::new();
        rt.block_on(async {
            let form = app.get("/sign-in").await;
            let csrf = hidden(&form.body, "csrf");
            seen.extend(set_cookies(&form));
            let signed = app
                .post_form("/sign-in", &[("email", SAM), ("password", PASSWORD), ("csrf", &csrf)])
                .await;
            assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", cut(&signed.body));
            seen.extend(set_cookies(&signed));
            let csrf = app.csrf().await;
            let out = app.post_form("/sign-out", &[("csrf", &csrf)]).await;
            seen.extend(set_cookies(&out));
        });
        assert!(seen.len() >= 3, "{seen:?}");
        for c in &seen {
            let attrs: Vec<String> = c.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect();
            if attrs.iter().any(|a| a == "max-age=0") {
                // A removal: it carries nothing to protect.
                assert!(c.split(';').next().unwrap().ends_with('='), "{c}");
                continue;
            }
            assert!(attrs.iter().any(|a| a == "httponly"), "{c}");
            assert!(attrs.iter().any(|a| a == "samesite=lax"), "{c}");
            assert_eq!(attrs.iter().any(|a| a == "secure"), secure, "{c}");
        }
    }
}

fn set_cookies(r: &Reply) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

both_backends!(
    every_route_by_role_and_owner,
    the_route_lists_are_what_the_router_serves,
    every_page_post_refuses_a_missing_or_forged_csrf_token,
    every_cookie_is_http_only_and_same_site
);
