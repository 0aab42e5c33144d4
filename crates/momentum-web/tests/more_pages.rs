//! The pages beyond Today and the Deal page, in-process on both databases: the deal's
//! need, disqualify, close and reschedule forms; a new deal; the pipeline; accounts and
//! contacts; search; settings; API tokens. Each page renders for the roles it serves,
//! each refused form says why next to the field and writes nothing, each accepted one
//! redirects to a page that shows the change, and every POST refuses a forged form.

use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use momentum_core::model::{AccountId, DealId};
use momentum_core::vocab::DealStatus;
use momentum_store::ops::{self, Session};
use momentum_store::pipeline::{self, PipelineFilter};
use momentum_store::{directory, Store};
use momentum_testkit::{both_backends, TestDb};

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
const MARK: &str = "mark.manager@demo.momentum.test";
const ADMIN: &str = "admin@demo.momentum.test";
const PASSWORD: &str = "momentum-demo";

// ---------------------------------------------------------------------------------------
// Helpers

/// Runs store work from inside the test's runtime, on a blocking thread (the blocking
/// PostgreSQL client must not run on an async one).
async fn with_db<T: Send + 'static>(db: &TestDb, f: impl FnOnce(&mut Store) -> T + Send + 'static) -> T {
    let location = db.location.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = Store::open(&location).unwrap();
        f(&mut store)
    })
    .await
    .unwrap()
}

fn session(store: &mut Store, email: &str) -> Session {
    ops::session(store, None, Some(email)).unwrap()
}

async fn signed_in(app: &mut App, email: &str) -> String {
    let r = app.sign_in(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "signing in as {email}: {}", r.body);
    app.csrf().await
}

/// Asserts that `message` is shown as a field error right after the input named `field`.
#[track_caller]
fn assert_next_to(body: &str, field: &str, message: &str) {
    let message = maud::html!((message)).into_string();
    let message = message.as_str();
    let input = body
        .find(&format!("name=\"{field}\""))
        .unwrap_or_else(|| panic!("no field {field} in {body}"));
    // Where the field's element ends: after its options, for a select.
    let tag_start = body[..input].rfind('<').unwrap();
    let end = if body[tag_start..].starts_with("<select") {
        input + body[input..].find("</select>").unwrap()
    } else {
        input + body[input..].find('>').unwrap()
    };
    let shown = body[end..]
        .find(message)
        .map(|i| i + end)
        .unwrap_or_else(|| panic!("{message:?} is not shown after field {field}: {body}"));
    let p = body[..shown].rfind("<p class=\"field-error\"").expect("a field error");
    assert!(
        p > end && shown - p < 400,
        "{message:?} is not the field error of {field}: {body}"
    );
    assert!(
        shown - end < 1_500,
        "{message:?} is shown far from field {field}: {body}"
    );
}

/// Owned form fields as `post_form` takes them.
fn refs<'a>(fields: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The `value` of the input named `name`.
fn input_value(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"));
    let tag = &html[at..at + html[at..].find('>').unwrap()];
    let start = tag.find("value=\"").unwrap() + "value=\"".len();
    tag[start..].split('"').next().unwrap().to_owned()
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The numbers in the `attr="…"` attributes of `html`, in order (e.g. `data-deal`).
fn ids(html: &str, attr: &str) -> Vec<i64> {
    let marker = format!("{attr}=\"");
    html.match_indices(&marker)
        .map(|(i, _)| html[i + marker.len()..].split('"').next().unwrap().parse().unwrap())
        .collect()
}

/// The "Next page" link of a page, unescaped.
fn next_page(html: &str) -> Option<String> {
    let marker = "rel=\"next\" href=\"";
    let start = html.find(marker)? + marker.len();
    Some(html[start..].split('"').next()?.replace("&amp;", "&"))
}

/// Follows "Next page" from `first`, collecting the ids in `attr` attributes.
async fn all_pages(app: &mut App, first: &str, attr: &str) -> (Vec<i64>, usize) {
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut at = Some(first.to_owned());
    while let Some(path) = at {
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        seen.extend(ids(&page.body, attr));
        pages += 1;
        at = next_page(&page.body);
        assert!(pages < 100, "pages never end");
    }
    (seen, pages)
}

/// Per-step open deal counts as the pipeline page shows them.
fn step_counts(html: &str) -> Vec<(u8, i64)> {
    html.match_indices("<tr id=\"step-")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            let step = rest.split('"').next().unwrap().parse().unwrap();
            let marker = "class=\"num count\">";
            let at = rest.find(marker).unwrap() + marker.len();
            let count = rest[at..].split('<').next().unwrap().parse().unwrap();
            (step, count)
        })
        .collect()
}

fn store_counts(store: &mut Store, email: &str, filter: PipelineFilter<'_>) -> Vec<(u8, i64)> {
    let s = session(store, email);
    pipeline::pipeline(store, &s, filter)
        .unwrap()
        .iter()
        .map(|p| (p.step.step, p.deals))
        .collect()
}

fn in_days(days: i64) -> Timestamp {
    Timestamp::now() + SignedDuration::from_hours(24 * days)
}

/// A `datetime-local` value (the demo org counts time in UTC).
fn local(at: Timestamp) -> String {
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

fn date(at: Timestamp) -> String {
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date().to_string()
}

/// Pages carry no inline script or style (the CSP forbids them).
#[track_caller]
fn assert_clean(body: &str) {
    assert!(!body.contains("<script"), "inline script: {body}");
    assert!(!body.contains(" style="), "inline style: {body}");
    assert!(!body.contains("<style"), "inline style: {body}");
}

/// Sam's open deals: one without a compelling need first, then others whose account has
/// contacts, each with the first such contact.
fn sams_open_deals(db: &TestDb) -> (i64, Vec<(i64, i64)>) {
    let mut store = Store::open(&db.location).unwrap();
    let sam = session(&mut store, SAM);
    let rows = ops::list_deals(
        &mut store,
        &sam,
        &ops::DealFilter {
            status: Some(DealStatus::Open),
            limit: 1_000,
            ..Default::default()
        },
    )
    .unwrap();
    let needless = rows
        .iter()
        .find(|r| r.deal.need.is_none())
        .expect("a deal without a need")
        .deal
        .id
        .0;
    let mut with_buyers = Vec::new();
    for r in rows.iter().filter(|r| r.deal.id.0 != needless) {
        if let Some(a) = r.deal.account {
            if let Some(c) = directory::account(&mut store, &sam, a).unwrap().contacts.first() {
                with_buyers.push((r.deal.id.0, c.id.0));
            }
        }
        if with_buyers.len() == 3 {
            break;
        }
    }
    assert_eq!(with_buyers.len(), 3, "Sam has enough open deals");
    (needless, with_buyers)
}

// ---------------------------------------------------------------------------------------
// Pages by role

fn each_page_renders_for_the_roles_it_serves(db: &TestDb) {
    let mut app = demo_app(db);
    let (deal, _) = sams_open_deals(db);
    block_on(async {
        let csrf = signed_in(&mut app, SAM).await;
        let (account, contact) = with_db(db, |store| {
            let s = session(store, SAM);
            let a = directory::accounts(store, &s, None, 1).unwrap()[0].id.0;
            let c = directory::contacts(store, &s, None, 1).unwrap()[0].id.0;
            (a, c)
        })
        .await;
        for path in [
            "/pipeline".to_owned(),
            "/pipeline?step=0".to_owned(),
            "/accounts".to_owned(),
            "/accounts/new".to_owned(),
            format!("/accounts/{account}"),
            format!("/accounts/{account}/edit"),
            "/contacts".to_owned(),
            "/contacts/new".to_owned(),
            format!("/contacts/new?account={account}"),
            format!("/contacts/{contact}"),
            format!("/contacts/{contact}/edit"),
            "/search".to_owned(),
            "/search?q=Forecasting".to_owned(),
            "/tokens".to_owned(),
            "/deals/new".to_owned(),
            format!("/deals/new?account={account}"),
            format!("/deals/{deal}"),
            format!("/deals/{deal}/need"),
            format!("/deals/{deal}/disqualify"),
            format!("/deals/{deal}/close"),
            format!("/deals/{deal}/reschedule"),
        ] {
            let page = app.get(&path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            assert!(page.body.contains("href=\"/tokens\""), "{path} links the tokens page");
            assert_clean(&page.body);
        }
        let page = app.get(&format!("/deals/{deal}")).await;
        for link in [
            "/need\">Record the need",
            "/disqualify\">Disqualify",
            "/reschedule\"",
            "/close\"",
        ] {
            assert!(page.body.contains(link), "the deal page links {link}: {}", page.body);
        }
        assert!(
            !page.body.contains("href=\"/settings\""),
            "no settings link for a seller"
        );

        // Settings are for admins only.
        let settings = app.get("/settings").await;
        assert_eq!(settings.status, StatusCode::FORBIDDEN);
        assert!(
            settings.body.contains("for admins; you are a seller"),
            "{}",
            settings.body
        );
        let post = app
            .post_form(
                "/settings/cadence",
                &[
                    ("csrf", &csrf),
                    ("first_every_days", "3"),
                    ("first_for_days", "9"),
                    ("then_every_days", "9"),
                ],
            )
            .await;
        assert_eq!(post.status, StatusCode::FORBIDDEN);
        // A seller's pipeline offers no owner or team filter and refuses another's.
        let mine = app.get("/pipeline").await;
        assert!(!mine.body.contains("name=\"team\"") && !mine.body.contains("name=\"owner\""));
        let theirs = app.get(&format!("/pipeline?owner={PRIYA}")).await;
        assert_eq!(theirs.status, StatusCode::FORBIDDEN, "{}", theirs.body);

        signed_in(&mut app, MARIA).await;
        let team = app.get("/pipeline").await;
        assert_eq!(team.status, StatusCode::OK);
        assert!(
            team.body.contains(&format!("value=\"{SAM}\"")),
            "a manager filters by her sellers"
        );
        assert!(
            !team.body.contains(&format!("value=\"{MARK}\"")),
            "and sees no other team"
        );
        assert_eq!(app.get(&format!("/pipeline?team={MARIA}")).await.status, StatusCode::OK);
        assert_eq!(
            app.get(&format!("/pipeline?team={MARK}")).await.status,
            StatusCode::FORBIDDEN
        );
        let not_a_team = app.get(&format!("/pipeline?team={SAM}")).await;
        assert_eq!(not_a_team.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_next_to(&not_a_team.body, "team", "a team is named by its manager");
        assert_eq!(app.get("/settings").await.status, StatusCode::FORBIDDEN);

        signed_in(&mut app, ADMIN).await;
        let settings = app.get("/settings").await;
        assert_eq!(settings.status, StatusCode::OK);
        assert_clean(&settings.body);
        for part in [
            "Decision ladder",
            "agreed to meet\nagreed the problem",
            "Follow-up cadence",
            "Maria Lopez's team",
            "Sam Carter",
        ] {
            assert!(settings.body.contains(part), "settings show {part:?}");
        }
        let all = app.get("/pipeline").await;
        assert!(
            all.body.contains(&format!("value=\"{MARK}\"")),
            "an admin filters by any team"
        );
        assert_eq!(
            app.get("/pipeline?step=99").await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    })
}

// ---------------------------------------------------------------------------------------
// The deal's forms

fn the_deal_forms_refuse_with_the_rule_and_record_what_they_accept(db: &TestDb) {
    let mut app = demo_app(db);
    let (a, others) = sams_open_deals(db);
    let [(b, _), (c, _), (d, d_buyer)] = [others[0], others[1], others[2]];
    block_on(async {
        let csrf = signed_in(&mut app, SAM).await;
        let version = |body: &str| hidden(body, "version");

        // The compelling need.
        let form = app.get(&format!("/deals/{a}/need")).await;
        let v0 = version(&form.body);
        let need = |v: &str, cost: &str, by: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("version", v.to_owned()),
                ("kind", "problem".to_owned()),
                ("buyer_words", "We lose three orders a week".to_owned()),
                ("consequence", "Churn to a rival".to_owned()),
                ("matters_by", by.to_owned()),
                ("cost_per_month", cost.to_owned()),
            ]
        };
        let fields = need(&v0, "0", &date(in_days(60)));
        let refused = app.post_form(&format!("/deals/{a}/need"), &refs(&fields)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert_next_to(
            &refused.body,
            "cost_per_month",
            "quantify the cost of doing nothing: more than zero per month",
        );
        assert!(
            refused.body.contains("We lose three orders a week"),
            "the form keeps what was typed"
        );
        let fields = need(&v0, "12000", &date(in_days(-3)));
        let refused = app.post_form(&format!("/deals/{a}/need"), &refs(&fields)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_next_to(
            &refused.body,
            "matters_by",
            "the date the need matters by is today or later",
        );
        let fields = need(&v0, "twelve", &date(in_days(60)));
        let refused = app.post_form(&format!("/deals/{a}/need"), &refs(&fields)).await;
        assert_next_to(&refused.body, "cost_per_month", "an amount is a non-negative number");
        let unchanged = app.get(&format!("/deals/{a}/need")).await;
        assert_eq!(version(&unchanged.body), v0, "refusals write nothing");
        assert!(app
            .get(&format!("/deals/{a}"))
            .await
            .body
            .contains("No compelling need recorded"));

        let fields = need(&v0, "12,000.50", &date(in_days(60)));
        let ok = app.post_form(&format!("/deals/{a}/need"), &refs(&fields)).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let location = ok.headers["location"].to_str().unwrap().to_owned();
        assert_eq!(location, format!("/deals/{a}?done=need"));
        let page = app.get(&location).await;
        assert!(page.body.contains("Compelling need recorded."));
        assert!(page.body.contains("We lose three orders a week"));
        assert!(page.body.contains("12000.50 USD"));
        assert!(page.body.contains("Change the need"));

        // Reschedule: a past time is refused; a stale version is refused; a future one moves it.
        let form = app.get(&format!("/deals/{a}/reschedule")).await;
        let v1 = version(&form.body);
        assert_ne!(v1, v0, "the need made a new version");
        let past = local(in_days(-2));
        let refused = app
            .post_form(
                &format!("/deals/{a}/reschedule"),
                &[
                    ("csrf", &csrf),
                    ("version", &v1),
                    ("next_at", &past),
                    ("next_kind", "meeting"),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_next_to(&refused.body, "aims_at", "a next step must be in the future");
        let future = local(in_days(5));
        let stale = app
            .post_form(
                &format!("/deals/{a}/reschedule"),
                &[("csrf", &csrf), ("version", &v0), ("next_at", &future)],
            )
            .await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
        assert!(stale.body.contains(&format!("changed since version {v0}")));
        assert_eq!(version(&app.get(&format!("/deals/{a}/reschedule")).await.body), v1);
        let ok = app
            .post_form(
                &format!("/deals/{a}/reschedule"),
                &[
                    ("csrf", &csrf),
                    ("version", &v1),
                    ("next_at", &future),
                    ("next_kind", "meeting"),
                    ("buyer_committed", "on"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let page = app.get(ok.headers["location"].to_str().unwrap()).await;
        assert!(page.body.contains("Rescheduled."));
        assert!(page.body.contains(&future.replace('T', " ")), "{}", page.body);
        assert!(page.body.contains("buyer committed"));

        // Disqualify: a reason is required.
        let form = app.get(&format!("/deals/{b}/disqualify")).await;
        let vb = version(&form.body);
        let refused = app
            .post_form(
                &format!("/deals/{b}/disqualify"),
                &[("csrf", &csrf), ("version", &vb), ("reason", "  ")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_next_to(&refused.body, "reason", "say why the deal has no compelling need");
        assert_eq!(version(&app.get(&format!("/deals/{b}/disqualify")).await.body), vb);
        let ok = app
            .post_form(
                &format!("/deals/{b}/disqualify"),
                &[
                    ("csrf", &csrf),
                    ("version", &vb),
                    ("reason", "They have no budget line and no pain"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        let page = app.get(ok.headers["location"].to_str().unwrap()).await;
        assert!(page.body.contains("Disqualified: the pipeline"));
        assert!(page.body.contains("Closed: They have no budget line and no pain"));
        assert!(!page.body.contains("id=\"log\""), "a closed deal takes no log");
        let again = app.get(&format!("/deals/{b}/disqualify")).await;
        assert!(again.body.contains("This deal is disqualified"));

        // Close lost: the buyer's reason and words are required.
        let refused = app
            .post_form(
                &format!("/deals/{c}/close"),
                &[
                    ("csrf", &csrf),
                    ("outcome", "lost"),
                    ("reason_category", ""),
                    ("buyer_words", "Too dear"),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_next_to(&refused.body, "reason_category", "must be one of: price");
        let refused = app
            .post_form(
                &format!("/deals/{c}/close"),
                &[
                    ("csrf", &csrf),
                    ("outcome", "lost"),
                    ("reason_category", "price"),
                    ("buyer_words", ""),
                ],
            )
            .await;
        assert_next_to(&refused.body, "buyer_words", "in their own words");
        let refused = app
            .post_form(
                &format!("/deals/{c}/close"),
                &[
                    ("csrf", &csrf),
                    ("outcome", "lost"),
                    ("reason_category", "not_recorded"),
                    ("buyer_words", "x"),
                ],
            )
            .await;
        assert_next_to(&refused.body, "reason_category", "only for imported history");
        assert!(
            app.get(&format!("/deals/{c}")).await.body.contains("id=\"log\""),
            "still open"
        );
        let ok = app
            .post_form(
                &format!("/deals/{c}/close"),
                &[
                    ("csrf", &csrf),
                    ("outcome", "lost"),
                    ("reason_category", "price"),
                    ("buyer_words", "Too dear for this year"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let page = app.get(ok.headers["location"].to_str().unwrap()).await;
        assert!(page.body.contains("Closed lost"));
        assert!(page.body.contains("Too dear for this year"));

        // Close won: the buyer who signed is named.
        let form = app.get(&format!("/deals/{d}/close")).await;
        assert!(
            form.body.contains(&format!("option value=\"{d_buyer}\"")),
            "offers the account's buyers"
        );
        let refused = app
            .post_form(
                &format!("/deals/{d}/close"),
                &[("csrf", &csrf), ("outcome", "won"), ("contact", "")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_next_to(&refused.body, "contact", "name the contact who decided");
        let refused = app
            .post_form(&format!("/deals/{d}/close"), &[("csrf", &csrf), ("outcome", "")])
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("a deal closes won (the buyer signed) or lost"));
        let ok = app
            .post_form(
                &format!("/deals/{d}/close"),
                &[("csrf", &csrf), ("outcome", "won"), ("contact", &d_buyer.to_string())],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let page = app.get(ok.headers["location"].to_str().unwrap()).await;
        assert!(page.body.contains("Closed won"));
        assert!(page.body.contains(" · won · "), "{}", page.body);
    });
    // What the pages showed is what the store holds.
    let mut store = Store::open(&db.location).unwrap();
    let sam = session(&mut store, SAM);
    let status = |store: &mut Store, id| ops::show_deal(store, &sam, DealId(id)).unwrap().summary.status;
    assert_eq!(status(&mut store, a), DealStatus::Open);
    assert_eq!(status(&mut store, b), DealStatus::Disqualified);
    assert_eq!(status(&mut store, c), DealStatus::Lost);
    assert_eq!(status(&mut store, d), DealStatus::Won);
    let view = ops::show_deal(&mut store, &sam, DealId(a)).unwrap();
    assert_eq!(view.need.unwrap().cost_per_month.minor, 1_200_050);
    assert!(view.summary.next_step.unwrap().buyer_committed);
}

fn a_deal_is_created_with_its_first_next_step(db: &TestDb) {
    let mut app = demo_app(db);
    let (account, buyer, before) = {
        let mut store = Store::open(&db.location).unwrap();
        let sam = session(&mut store, SAM);
        let a = directory::accounts(&mut store, &sam, None, 5).unwrap()[2].clone();
        let buyer = directory::account(&mut store, &sam, a.id).unwrap().contacts[0].id.0;
        (a, buyer, store_counts(&mut store, SAM, PipelineFilter::default()))
    };
    block_on(async {
        let csrf = signed_in(&mut app, SAM).await;
        let form = app.get(&format!("/deals/new?account={}", account.id)).await;
        assert!(
            form.body.contains(&format!("option value=\"{buyer}\"")),
            "offers the account's buyers"
        );
        assert!(
            !form.body.contains("name=\"owner\""),
            "a seller creates deals for themselves"
        );
        let account_id = account.id.0.to_string();
        let buyer_id = buyer.to_string();
        let next_at = local(in_days(2));
        let fields = |title: &'static str, value: &'static str, close: String| {
            vec![
                ("csrf", csrf.clone()),
                ("title", title.to_owned()),
                ("value", value.to_owned()),
                ("currency", "USD".to_owned()),
                ("account", account_id.clone()),
                ("contact", buyer_id.clone()),
                ("expected_close", close),
                ("next_at", next_at.clone()),
                ("next_kind", "meeting".to_owned()),
                ("buyer_committed", "on".to_owned()),
            ]
        };
        for (title, value, close, field, message) in [
            ("  ", "1000", date(in_days(30)), "title", "a deal has a title"),
            (
                "Web deal",
                "a lot",
                date(in_days(30)),
                "value",
                "an amount is a non-negative number",
            ),
            (
                "Web deal",
                "1000",
                date(in_days(-30)),
                "expected_close",
                "the expected close date is today or later",
            ),
        ] {
            let f = fields(title, value, close);
            let refused = app.post_form("/deals/new", &refs(&f)).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
            assert_next_to(&refused.body, field, message);
            assert!(
                refused.body.contains(&format!("option value=\"{buyer}\" selected")),
                "keeps the buyer"
            );
        }
        let missing_account = [
            ("csrf", csrf.as_str()),
            ("title", "Lost account"),
            ("value", "5"),
            ("account", "99999999"),
        ];
        let refused = app.post_form("/deals/new", &missing_account).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_next_to(&refused.body, "account", "account 99999999 not found");

        let f = fields("Web-made rollout", "1234.50", date(in_days(40)));
        let ok = app.post_form("/deals/new", &refs(&f)).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let location = ok.headers["location"].to_str().unwrap().to_owned();
        assert!(location.ends_with("?done=created"), "{location}");
        let page = app.get(&location).await;
        for part in [
            "Deal created.",
            "Web-made rollout",
            "1234.50 USD",
            "buyer committed",
            account.name.as_str(),
        ] {
            assert!(
                page.body.contains(&maud::html!((part)).into_string()),
                "the new deal shows {part:?}"
            );
        }
        // Without a time, the cadence places the first follow-up.
        let plain = [("csrf", csrf.as_str()), ("title", "Cold lead"), ("value", "0")];
        let ok = app.post_form("/deals/new", &plain).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let page = app.get(ok.headers["location"].to_str().unwrap()).await;
        assert!(page.body.contains("seller scheduled"));
    });
    let mut store = Store::open(&db.location).unwrap();
    let after = store_counts(&mut store, SAM, PipelineFilter::default());
    assert_eq!(
        after[0].1,
        before[0].1 + 2,
        "two new deals on step 0; refusals wrote none"
    );
    assert_eq!(after[1..], before[1..]);
}

// ---------------------------------------------------------------------------------------
// CSRF

fn every_new_form_refuses_a_forged_post(db: &TestDb) {
    let mut app = demo_app(db);
    let (deal, _) = sams_open_deals(db);
    let before = {
        let mut store = Store::open(&db.location).unwrap();
        let admin = session(&mut store, ADMIN);
        let v = ops::show_deal(&mut store, &admin, DealId(deal))
            .unwrap()
            .summary
            .version;
        (
            v,
            directory::accounts(&mut store, &admin, None, 1_000).unwrap().len(),
            ops::users(&mut store, &admin).unwrap().len(),
        )
    };
    block_on(async {
        let csrf = signed_in(&mut app, ADMIN).await;
        let created = app.post_form("/tokens", &[("csrf", &csrf), ("name", "probe")]).await;
        assert_eq!(created.status, StatusCode::OK);
        let token = ids(&app.get("/tokens").await.body, "data-token")[0];
        let routes: Vec<(String, Vec<(&str, &str)>)> = vec![
            (
                format!("/deals/{deal}/need"),
                vec![
                    ("kind", "problem"),
                    ("buyer_words", "x"),
                    ("consequence", "y"),
                    ("matters_by", "2099-01-01"),
                    ("cost_per_month", "5"),
                ],
            ),
            (format!("/deals/{deal}/disqualify"), vec![("reason", "Forged")]),
            (
                format!("/deals/{deal}/close"),
                vec![
                    ("outcome", "lost"),
                    ("reason_category", "price"),
                    ("buyer_words", "Forged"),
                ],
            ),
            (format!("/deals/{deal}/reschedule"), vec![("next_at", "+3d")]),
            ("/deals/new".into(), vec![("title", "Forged"), ("value", "1")]),
            ("/accounts/new".into(), vec![("name", "Forged Inc")]),
            ("/accounts/1/edit".into(), vec![("name", "Forged Inc")]),
            ("/contacts/new".into(), vec![("name", "Forged Person")]),
            ("/contacts/1/edit".into(), vec![("name", "Forged Person")]),
            ("/settings/ladder".into(), vec![("steps", "a\nb\nc\nd\ne\nf\ng")]),
            (
                "/settings/cadence".into(),
                vec![
                    ("first_every_days", "1"),
                    ("first_for_days", "1"),
                    ("then_every_days", "1"),
                ],
            ),
            (
                "/settings/users".into(),
                vec![
                    ("email", "forged@x.test"),
                    ("name", "F"),
                    ("role", "admin"),
                    ("password", "a long enough password"),
                ],
            ),
            ("/tokens".into(), vec![("name", "forged")]),
            (format!("/tokens/{token}/revoke"), vec![]),
        ];
        for (path, fields) in &routes {
            for csrf in [Some("forged"), None] {
                let mut f = fields.clone();
                if let Some(c) = csrf {
                    f.push(("csrf", c));
                }
                let r = app.post_form(path, &f).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} with csrf {csrf:?}: {}", r.body);
                assert!(r.body.contains("CSRF"), "{path}");
            }
        }
        let tokens = app.get("/tokens").await;
        assert!(
            !tokens.body.contains("forged") && !tokens.body.contains("revoked "),
            "{}",
            tokens.body
        );
        let search = app.get("/search?q=Forged").await;
        assert!(search.body.contains("Nothing found."), "{}", search.body);
    });
    let mut store = Store::open(&db.location).unwrap();
    let admin = session(&mut store, ADMIN);
    assert_eq!(
        ops::show_deal(&mut store, &admin, DealId(deal))
            .unwrap()
            .summary
            .version,
        before.0
    );
    assert_eq!(
        directory::accounts(&mut store, &admin, None, 1_000).unwrap().len(),
        before.1
    );
    assert_eq!(ops::users(&mut store, &admin).unwrap().len(), before.2);
    assert_eq!(admin.org.cadence, momentum_core::model::Cadence::default());
    assert_eq!(admin.org.ladder, momentum_core::model::Ladder::default_steps());
}

// ---------------------------------------------------------------------------------------
// Pipeline

fn the_pipeline_shows_what_the_store_counts(db: &TestDb) {
    let mut app = demo_app(db);
    let cases: Vec<(&str, String, Option<&str>, Option<&str>)> = vec![
        (SAM, "/pipeline".into(), None, None),
        (MARIA, "/pipeline".into(), None, None),
        (MARIA, format!("/pipeline?owner={PRIYA}"), Some(PRIYA), None),
        (ADMIN, "/pipeline".into(), None, None),
        (ADMIN, format!("/pipeline?team={MARK}"), None, Some(MARK)),
        (
            ADMIN,
            format!("/pipeline?team={MARIA}&owner={SAM}"),
            Some(SAM),
            Some(MARIA),
        ),
    ];
    let expected: Vec<Vec<(u8, i64)>> = {
        let mut store = Store::open(&db.location).unwrap();
        cases
            .iter()
            .map(|(who, _, owner, team)| {
                store_counts(
                    &mut store,
                    who,
                    PipelineFilter {
                        owner: *owner,
                        team: *team,
                    },
                )
            })
            .collect()
    };
    let busiest = expected[0].iter().max_by_key(|(_, n)| *n).unwrap().0;
    let (shown, flagged) = block_on(async {
        let mut shown = Vec::new();
        for (who, path, _, _) in &cases {
            signed_in(&mut app, who).await;
            let page = app.get(path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            shown.push(step_counts(&page.body));
        }
        // Sam's busiest step lists exactly its deals, with their flags.
        signed_in(&mut app, SAM).await;
        let (deals, _) = all_pages(&mut app, &format!("/pipeline?step={busiest}"), "data-deal").await;
        let page = app.get(&format!("/pipeline?step={busiest}")).await;
        assert!(page.body.contains("aria-current"), "the chosen step is marked");
        (shown, (deals, page.body))
    });
    assert_eq!(shown, expected, "the page's per-step counts are the store's");
    assert!(expected[3].iter().map(|(_, n)| n).sum::<i64>() > expected[1].iter().map(|(_, n)| n).sum::<i64>());
    let (deals, body) = flagged;
    assert_eq!(deals.len() as i64, expected[0][busiest as usize].1);
    let mut store = Store::open(&db.location).unwrap();
    let sam = session(&mut store, SAM);
    let rows = pipeline::pipeline_deals(
        &mut store,
        &sam,
        PipelineFilter::default(),
        Some(momentum_core::model::Step(busiest)),
        None,
        1_000,
        sam.now(Timestamp::now()),
        21,
    )
    .unwrap();
    assert_eq!(deals, rows.iter().map(|r| r.deal.id).collect::<Vec<_>>());
    for r in rows.iter().take(ui_page()) {
        let at = body.find(&format!("data-deal=\"{}\"", r.deal.id)).unwrap();
        let row = &body[at..at + body[at..].find("</tr>").unwrap()];
        for f in &r.flags {
            assert!(
                row.contains(&f.words()),
                "deal {} shows {:?}: {row}",
                r.deal.id,
                f.words()
            );
        }
        if r.flags.is_empty() {
            assert!(row.contains("healthy"));
        }
    }
    assert!(rows.iter().any(|r| !r.flags.is_empty()), "the demo plants cholesterol");
}

fn ui_page() -> usize {
    momentum_web::pages::ui::PAGE_SIZE as usize
}

// ---------------------------------------------------------------------------------------
// Keyset pages

fn keyset_pages_never_repeat_a_row(db: &TestDb) {
    let mut app = demo_app(db);
    let (accounts, contacts, open) = {
        let mut store = Store::open(&db.location).unwrap();
        let admin = session(&mut store, ADMIN);
        let a: Vec<i64> = directory::accounts(&mut store, &admin, None, 1_000)
            .unwrap()
            .iter()
            .map(|a| a.id.0)
            .collect();
        let mut c: Vec<i64> = Vec::new();
        loop {
            let page = directory::contacts(
                &mut store,
                &admin,
                c.last().copied().map(momentum_core::model::ContactId),
                1_000,
            )
            .unwrap();
            if page.is_empty() {
                break;
            }
            c.extend(page.iter().map(|c| c.id.0));
        }
        let open: i64 = store_counts(&mut store, ADMIN, PipelineFilter::default())
            .iter()
            .map(|(_, n)| n)
            .sum();
        (a, c, open)
    };
    block_on(async {
        signed_in(&mut app, ADMIN).await;
        for (first, attr, expected) in [
            ("/accounts", "data-account", &accounts),
            ("/contacts", "data-contact", &contacts),
        ] {
            let (seen, pages) = all_pages(&mut app, first, attr).await;
            assert!(pages > 1, "{first} spans pages");
            assert_eq!(&seen, expected, "{first}: every row once, in order");
        }
        let (seen, pages) = all_pages(&mut app, "/pipeline", "data-deal").await;
        assert!(pages > 1, "the open deals span pages");
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "no deal twice");
        assert_eq!(seen.len() as i64, open, "every open deal once");
        assert_eq!(app.get("/accounts?after=x").await.status, StatusCode::BAD_REQUEST);
    })
}

// ---------------------------------------------------------------------------------------
// Search

fn search_shows_only_the_deals_the_actor_sees(db: &TestDb) {
    let mut app = demo_app(db);
    let (sams, admins) = {
        let mut store = Store::open(&db.location).unwrap();
        let sam = session(&mut store, SAM);
        let admin = session(&mut store, ADMIN);
        let mine = directory::search(&mut store, &sam, "forecasting", 25).unwrap();
        let all = directory::search(&mut store, &admin, "forecasting", 25).unwrap();
        assert!(mine.deals.iter().all(|d| d.owner_email == SAM));
        assert!(
            all.deals.iter().any(|d| d.owner_email != SAM),
            "others have such deals too"
        );
        (mine, all)
    };
    block_on(async {
        signed_in(&mut app, SAM).await;
        let page = app.get("/search?q=Forecasting").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            ids(&page.body, "data-deal"),
            sams.deals.iter().map(|d| d.id).collect::<Vec<_>>()
        );
        let foreign = admins.deals.iter().find(|d| d.owner_email != SAM).unwrap();
        assert!(!page.body.contains(&format!("href=\"/deals/{}\"", foreign.id)));

        let short = app.get("/search?q=+a+").await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_next_to(&short.body, "q", "a search looks for at least 2 characters");

        // Accounts and contacts are the org's: found alike by everyone.
        let name = admins.accounts.first().map(|a| a.name.clone());
        signed_in(&mut app, ADMIN).await;
        let page = app.get("/search?q=Forecasting").await;
        assert_eq!(
            ids(&page.body, "data-deal"),
            admins.deals.iter().map(|d| d.id).collect::<Vec<_>>()
        );
        if let Some(name) = name {
            let q: String = name.chars().take(6).collect();
            let found = app.get(&format!("/search?q={}", enc(&q))).await;
            assert!(found.body.contains("found-accounts"), "{}", found.body);
        }
    })
}

// ---------------------------------------------------------------------------------------
// Accounts and contacts

fn accounts_and_contacts_are_created_and_edited_through_their_forms(db: &TestDb) {
    let mut app = demo_app(db);
    let count = |db: &TestDb| {
        let mut store = Store::open(&db.location).unwrap();
        let s = session(&mut store, ADMIN);
        (
            directory::accounts(&mut store, &s, None, 1_000).unwrap().len(),
            directory::contacts(&mut store, &s, None, 1_000).unwrap().len(),
        )
    };
    let before = count(db);
    block_on(async {
        let csrf = signed_in(&mut app, PRIYA).await;
        let refused = app
            .post_form(
                "/accounts/new",
                &[("csrf", &csrf), ("name", "  "), ("domain", "globex.test")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_next_to(&refused.body, "name", "an account has a name");
        assert!(refused.body.contains("value=\"globex.test\""), "keeps what was typed");
        let ok = app
            .post_form(
                "/accounts/new",
                &[("csrf", &csrf), ("name", "Globex Web"), ("domain", "globex.test")],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let location = ok.headers["location"].to_str().unwrap().to_owned();
        let account: i64 = location
            .trim_start_matches("/accounts/")
            .split('?')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let page = app.get(&location).await;
        assert!(page.body.contains("<h1>Globex Web</h1>") && page.body.contains("Saved."));

        let edit = format!("/accounts/{account}/edit");
        assert!(app.get(&edit).await.body.contains("value=\"Globex Web\""));
        let refused = app.post_form(&edit, &[("csrf", &csrf), ("name", "")]).await;
        assert_next_to(&refused.body, "name", "an account has a name");
        let ok = app
            .post_form(&edit, &[("csrf", &csrf), ("name", "Globex Corp"), ("domain", "")])
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        let page = app.get(&format!("/accounts/{account}")).await;
        assert!(page.body.contains("<h1>Globex Corp</h1>") && !page.body.contains("globex.test"));

        let a = account.to_string();
        let refused = app
            .post_form(
                "/contacts/new",
                &[
                    ("csrf", &csrf),
                    ("name", "Hank Buyer"),
                    ("account", &a),
                    ("email", "hank at globex"),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_next_to(&refused.body, "email", "contact.email is \"hank at globex\"");
        let refused = app
            .post_form(
                "/contacts/new",
                &[("csrf", &csrf), ("name", "Hank Buyer"), ("account", "99999999")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_next_to(&refused.body, "account", "account 99999999 not found");
        let ok = app
            .post_form(
                "/contacts/new",
                &[
                    ("csrf", &csrf),
                    ("name", "Hank Buyer"),
                    ("account", &a),
                    ("email", "Hank@Globex.test"),
                    ("title", "COO"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let location = ok.headers["location"].to_str().unwrap().to_owned();
        let contact: i64 = location
            .trim_start_matches("/contacts/")
            .split('?')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let page = app.get(&location).await;
        assert!(page.body.contains("<h1>Hank Buyer</h1>"));
        assert!(page.body.contains("hank@globex.test") && page.body.contains(&format!("href=\"/accounts/{account}\"")));
        assert!(app
            .get(&format!("/accounts/{account}"))
            .await
            .body
            .contains(&format!("href=\"/contacts/{contact}\"")));

        let edit = format!("/contacts/{contact}/edit");
        assert!(app
            .get(&edit)
            .await
            .body
            .contains(&format!("option value=\"{account}\" selected")));
        let refused = app
            .post_form(
                &edit,
                &[("csrf", &csrf), ("name", "Hank Buyer"), ("phone", &"9".repeat(41))],
            )
            .await;
        assert_next_to(&refused.body, "phone", "contact.phone");
        let ok = app
            .post_form(&edit, &[("csrf", &csrf), ("name", "Hank Q. Buyer"), ("account", &a)])
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        assert!(app
            .get(&format!("/contacts/{contact}"))
            .await
            .body
            .contains("<h1>Hank Q. Buyer</h1>"));
        assert_eq!(app.get("/accounts/99999999").await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get("/contacts/99999999/edit").await.status, StatusCode::NOT_FOUND);
    });
    let after = count(db);
    assert_eq!(
        (after.0, after.1),
        (before.0 + 1, before.1 + 1),
        "refusals wrote nothing"
    );
}

fn an_accounts_page_shows_only_the_deals_the_actor_sees(db: &TestDb) {
    let mut app = demo_app(db);
    // An account with deals of Sam's and of others.
    let (account, mine, theirs) = {
        let mut store = Store::open(&db.location).unwrap();
        let sam = session(&mut store, SAM);
        let admin = session(&mut store, ADMIN);
        let accounts = directory::accounts(&mut store, &admin, None, 1_000).unwrap();
        accounts
            .iter()
            .find_map(|a| {
                let all = directory::account(&mut store, &admin, a.id).unwrap().deals;
                let mine: Vec<i64> = directory::account(&mut store, &sam, a.id)
                    .unwrap()
                    .deals
                    .iter()
                    .map(|d| d.id)
                    .collect();
                let theirs: Vec<i64> = all.iter().filter(|d| d.owner_email != SAM).map(|d| d.id).collect();
                (!mine.is_empty() && !theirs.is_empty()).then_some((a.id, mine, theirs))
            })
            .expect("an account shared by sellers")
    };
    let AccountId(account) = account;
    block_on(async {
        signed_in(&mut app, SAM).await;
        let page = app.get(&format!("/accounts/{account}")).await;
        let shown = ids(&page.body, "data-deal");
        assert_eq!(shown, mine);
        assert!(theirs.iter().all(|d| !shown.contains(d)));
    })
}

// ---------------------------------------------------------------------------------------
// Settings

fn settings_change_the_ladder_the_cadence_and_the_users(db: &TestDb) {
    let mut app = demo_app(db);
    block_on(async {
        let csrf = signed_in(&mut app, ADMIN).await;
        for (steps, message) in [
            ("just one", "a decision ladder has between 2 and 20 steps"),
            ("a\nb\nA\nc\nd\ne\nf", "step names are unique"),
            ("met\nsigned", "deals stand on step 7"),
        ] {
            let refused = app
                .post_form("/settings/ladder", &[("csrf", &csrf), ("steps", steps)])
                .await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{steps}");
            assert_next_to(&refused.body, "steps", message);
            assert!(
                refused.body.contains(&maud::html!((steps)).into_string()),
                "keeps what was typed"
            );
        }
        let ladder = "agreed to a first meeting\nagreed the problem is worth solving\nagreed the cost of inaction and the date\n\
                      agreed to evaluate\nagreed the decision process\nagreed terms\nsigned\n";
        let ok = app
            .post_form("/settings/ladder", &[("csrf", &csrf), ("steps", ladder)])
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let page = app.get(ok.headers["location"].to_str().unwrap()).await;
        assert!(page.body.contains("The decision ladder is saved."));
        assert!(page.body.contains(">agreed to a first meeting\nagreed the problem"));
        assert!(app.get("/pipeline").await.body.contains("agreed to a first meeting"));

        for (field, value, message) in [
            ("first_every_days", "0", "a follow-up interval is 1 to 90 days"),
            ("then_every_days", "often", "a whole number of days"),
            ("first_for_days", "400", "the first phase lasts at most 365 days"),
        ] {
            let mut f = vec![
                ("csrf", csrf.as_str()),
                ("first_every_days", "5"),
                ("first_for_days", "20"),
                ("then_every_days", "10"),
            ];
            f.retain(|(k, _)| *k != field);
            f.push((field, value));
            let refused = app.post_form("/settings/cadence", &f).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_next_to(&refused.body, "then_every_days", message);
        }
        let ok = app
            .post_form(
                "/settings/cadence",
                &[
                    ("csrf", &csrf),
                    ("first_every_days", "5"),
                    ("first_for_days", "20"),
                    ("then_every_days", "10"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        let page = app.get("/settings").await;
        for (name, value) in [
            ("first_every_days", "5"),
            ("first_for_days", "20"),
            ("then_every_days", "10"),
        ] {
            assert_eq!(input_value(&page.body, name), value, "{name}");
        }

        let user = |email: &'static str, role: &'static str, manager: &'static str, password: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("email", email.into()),
                ("name", "Nina Novak".into()),
                ("role", role.into()),
                ("manager", manager.into()),
                ("password", password.into()),
            ]
        };
        for (fields, field, message) in [
            (
                user("nina@demo.momentum.test", "seller", MARIA, "short"),
                "password",
                "an initial password has 12 to 1000 characters",
            ),
            (
                user("nina at demo", "seller", MARIA, "a long enough secret"),
                "email",
                "email is \"nina at demo\"",
            ),
            (
                user("nina@demo.momentum.test", "manager", MARIA, "a long enough secret"),
                "manager",
                "only a seller is on a manager's team",
            ),
            (
                user(SAM, "seller", MARIA, "a long enough secret"),
                "email",
                "another user of this org has that e-mail",
            ),
            (
                user("nina@demo.momentum.test", "boss", "", "a long enough secret"),
                "role",
                "must be one of: seller, manager, admin",
            ),
        ] {
            let refused = app.post_form("/settings/users", &refs(&fields)).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
            let anchor = if field == "role" { "manager" } else { field };
            assert_next_to(&refused.body, anchor, message);
            assert!(
                !refused.body.contains("a long enough secret") && !refused.body.contains("value=\"short\""),
                "the password is never sent back"
            );
        }
        assert!(
            !app.get("/settings").await.body.contains("Nina Novak"),
            "refusals wrote nothing"
        );
        let fields = user("nina@demo.momentum.test", "seller", MARIA, "a long enough secret");
        let ok = app.post_form("/settings/users", &refs(&fields)).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let page = app.get(ok.headers["location"].to_str().unwrap()).await;
        assert!(page.body.contains("The user is added."));
        let team = &page.body[page.body.find("Maria Lopez's team").unwrap()..];
        assert!(
            team[..team.find("</ul>").unwrap()].contains("Nina Novak"),
            "Nina is on Maria's team"
        );

        // The new user signs in with the password the admin chose.
        let r = app.sign_in("nina@demo.momentum.test", "a long enough secret").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let today = app.get("/").await;
        assert!(today.body.contains("Nina Novak · seller"));
        let pipeline = app.get("/pipeline").await;
        assert!(step_counts(&pipeline.body).iter().all(|(_, n)| *n == 0));
    });
    let mut store = Store::open(&db.location).unwrap();
    let admin = session(&mut store, ADMIN);
    assert_eq!(
        admin.org.ladder.name(momentum_core::model::Step(1)),
        "agreed to a first meeting"
    );
    assert_eq!(
        (
            admin.org.cadence.first_every_days,
            admin.org.cadence.first_for_days,
            admin.org.cadence.then_every_days
        ),
        (5, 20, 10)
    );
}

// ---------------------------------------------------------------------------------------
// API tokens

fn a_token_is_shown_once_listed_and_revoked(db: &TestDb) {
    let mut app = demo_app(db);
    let (token, id) = block_on(async {
        let csrf = signed_in(&mut app, SAM).await;
        let refused = app.post_form("/tokens", &[("csrf", &csrf), ("name", "  ")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_next_to(&refused.body, "name", "name the token after where it is used");
        assert!(
            !app.get("/tokens").await.body.contains("data-token"),
            "refusals write nothing"
        );

        let created = app
            .post_form("/tokens", &[("csrf", &csrf), ("name", "spreadsheet export")])
            .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
        assert_eq!(created.headers["cache-control"], "no-store");
        let start = created.body.find("mtm_").expect("the token is shown");
        let token = created.body[start..].split('<').next().unwrap().to_owned();
        assert!(created.body.contains("shown only this once"));
        let list = app.get("/tokens").await;
        assert!(list.body.contains("spreadsheet export"));
        assert!(!list.body.contains(&token), "the secret is shown once only");
        let id = ids(&list.body, "data-token")[0];

        // Nobody else revokes it.
        let other_csrf = signed_in(&mut app, PRIYA).await;
        let r = app
            .post_form(&format!("/tokens/{id}/revoke"), &[("csrf", &other_csrf)])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(
            !app.get("/tokens").await.body.contains("data-token"),
            "tokens are their owner's"
        );
        (token, id)
    });
    let org = momentum_core::model::OrgId(token.split('_').nth(1).unwrap().parse().unwrap());
    let hash = momentum_web::auth::sha256_hex(&token);
    let mut store = Store::open(&db.location).unwrap();
    let s = momentum_store::auth::session_by_token(&mut store, org, &hash, Timestamp::now()).unwrap();
    assert_eq!(s.expect("the token opens a session").user.email.as_str(), SAM);
    drop(store);
    block_on(async {
        let csrf = signed_in(&mut app, SAM).await;
        let r = app.post_form(&format!("/tokens/{id}/revoke"), &[("csrf", &csrf)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = app.get(r.headers["location"].to_str().unwrap()).await;
        assert!(page.body.contains("The token is revoked"));
        assert!(page.body.contains("revoked "), "{}", page.body);
        assert!(!page.body.contains(&format!("action=\"/tokens/{id}/revoke\"")));
    });
    let mut store = Store::open(&db.location).unwrap();
    assert!(
        momentum_store::auth::session_by_token(&mut store, org, &hash, Timestamp::now())
            .unwrap()
            .is_none()
    );
}

both_backends!(
    each_page_renders_for_the_roles_it_serves,
    the_deal_forms_refuse_with_the_rule_and_record_what_they_accept,
    a_deal_is_created_with_its_first_next_step,
    every_new_form_refuses_a_forged_post,
    the_pipeline_shows_what_the_store_counts,
    keyset_pages_never_repeat_a_row,
    search_shows_only_the_deals_the_actor_sees,
    accounts_and_contacts_are_created_and_edited_through_their_forms,
    an_accounts_page_shows_only_the_deals_the_actor_sees,
    settings_change_the_ladder_the_cadence_and_the_users,
    a_token_is_shown_once_listed_and_revoked,
);
