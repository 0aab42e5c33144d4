//! Accounts, contacts and search for the pages and the API, on SQLite and PostgreSQL:
//! pages that return every row once, deals shown only to who may see them, edits by the
//! add rules, and search that is case-insensitive, literal about wildcards, and org-bound.

use momentum_core::commands;
use momentum_core::model::*;
use momentum_core::DomainError;
use momentum_store::directory;
use momentum_store::ops::{self, Session};
use momentum_testkit::{both_backends, TestDb};

mod common;
use common::*;

fn contact_input<'a>(account: Option<AccountId>, name: &'a str, email: Option<&'a str>) -> commands::NewContact<'a> {
    commands::NewContact {
        account,
        name,
        email,
        phone: None,
        title: None,
    }
}

fn pages_return_every_row_exactly_once(db: &TestDb) {
    let mut w = world(db);
    let admin = w.admin.clone();
    let initech = other_org(&mut w.store);
    let mut accounts = vec![w.account];
    let mut contacts = vec![w.contact];
    // Interleave another org's rows, so ids of one org have gaps.
    for i in 0..23 {
        let a = ops::add_account(&mut w.store, &admin, &format!("Account {i}"), None, t0()).unwrap();
        accounts.push(a.id);
        ops::add_account(&mut w.store, &initech, &format!("Theirs {i}"), None, t0()).unwrap();
        if i % 2 == 0 {
            let c = ops::add_contact(&mut w.store, &admin, contact_input(Some(a.id), "Buyer", None), t0()).unwrap();
            contacts.push(c.id);
            ops::add_contact(&mut w.store, &initech, contact_input(None, "Theirs", None), t0()).unwrap();
        }
    }
    for limit in [1, 5, 24, 1_000] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = directory::accounts(&mut w.store, &w.sam.clone(), after, limit).unwrap();
            assert!(page.len() <= limit as usize);
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            seen.extend(page.iter().map(|a| a.id));
        }
        assert_eq!(seen, accounts, "accounts in pages of {limit}");

        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = directory::contacts(&mut w.store, &w.bob.clone(), after, limit).unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            seen.extend(page.iter().map(|c| c.id));
        }
        assert_eq!(seen, contacts, "contacts in pages of {limit}");
    }
    // A limit of 0 still returns a row, so a page always progresses.
    assert_eq!(directory::accounts(&mut w.store, &admin, None, 0).unwrap().len(), 1);
    assert_eq!(
        directory::contact(&mut w.store, &admin, w.contact).unwrap().name,
        "Hank Buyer"
    );
    let err = directory::contact(&mut w.store, &initech, w.contact).unwrap_err();
    assert!(matches!(domain(err), DomainError::NotFound { .. }));
}

fn an_account_shows_only_the_deals_the_actor_sees(db: &TestDb) {
    let mut w = world(db);
    let (sam, mia, bob, admin) = (w.sam.clone(), w.mia.clone(), w.bob.clone(), w.admin.clone());
    let sams = new_deal(&mut w, &sam, None, "Sam's", 1_000, 24);
    let sues = new_deal(&mut w, &admin, Some("sue@acme.test"), "Sue's", 2_000, 24);
    let bobs = new_deal(&mut w, &bob, None, "Bob's", 3_000, 24);
    let elsewhere = ops::add_account(&mut w.store, &admin, "Elsewhere", None, t0()).unwrap();
    ops::create_deal(
        &mut w.store,
        &sam,
        ops::CreateDeal {
            account: Some(elsewhere.id),
            ..deal_input("Other account")
        },
        at(0),
    )
    .unwrap();
    let ids = |w: &mut World, s: &Session| -> Vec<i64> {
        let v = directory::account(&mut w.store, s, w.account).unwrap();
        assert_eq!(v.account.name, "Globex");
        assert_eq!(v.contacts.iter().map(|c| c.id).collect::<Vec<_>>(), vec![w.contact]);
        v.deals.iter().map(|d| d.id).collect()
    };
    assert_eq!(ids(&mut w, &sam), vec![sams.0]);
    assert_eq!(ids(&mut w, &mia), vec![sues.0, sams.0], "newest first");
    assert_eq!(ids(&mut w, &bob), vec![bobs.0]);
    assert_eq!(ids(&mut w, &admin), vec![bobs.0, sues.0, sams.0]);
    // At most the newest 50.
    for i in 0..50 {
        new_deal(&mut w, &bob, None, &format!("More {i}"), 10, 24);
    }
    let v = directory::account(&mut w.store, &admin, w.account).unwrap();
    assert_eq!(v.deals.len(), 50);
    assert_eq!(v.deals[0].title, "More 49");
    assert!(!v.deals.iter().any(|d| d.id == sams.0));
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["deals"].as_array().unwrap().len(), 50);
    // Another org does not find the account.
    let initech = other_org(&mut w.store);
    let err = directory::account(&mut w.store, &initech, w.account).unwrap_err();
    assert!(matches!(domain(err), DomainError::NotFound { .. }));
}

fn deal_input(title: &str) -> ops::CreateDeal<'_> {
    ops::CreateDeal {
        owner: None,
        account: None,
        contact: None,
        title,
        value: momentum_core::money::Money::new(100, momentum_core::money::Currency::USD),
        expected_close: None,
        first_step: commands::FollowUp::Cadence,
    }
}

fn edits_follow_the_add_rules_and_name_the_field(db: &TestDb) {
    let mut w = world(db);
    let sam = w.sam.clone();
    let before = directory::account(&mut w.store, &sam, w.account).unwrap().account;
    let err = directory::update_account(&mut w.store, &sam, w.account, "  ", None, t0()).unwrap_err();
    assert_eq!(domain(err).field(), Some("account.name"));
    let long = "d".repeat(254);
    let err = directory::update_account(&mut w.store, &sam, w.account, "Globex", Some(&long), t0()).unwrap_err();
    assert_eq!(domain(err).field(), Some("account.domain"));
    assert_eq!(
        directory::account(&mut w.store, &sam, w.account).unwrap().account,
        before
    );

    let a = directory::update_account(&mut w.store, &sam, w.account, " Globex Corp ", Some(""), at(5).at).unwrap();
    assert_eq!(
        (a.id, a.name.as_str(), a.domain.as_deref()),
        (w.account, "Globex Corp", None)
    );
    assert_eq!(a.created_at, before.created_at);
    assert_eq!(directory::account(&mut w.store, &sam, w.account).unwrap().account, a);

    let err = directory::update_contact(
        &mut w.store,
        &sam,
        w.contact,
        contact_input(Some(w.account), "Hank", Some("not mail")),
        t0(),
    )
    .unwrap_err();
    assert_eq!(domain(err).field(), Some("contact.email"));
    let err =
        directory::update_contact(&mut w.store, &sam, w.contact, contact_input(None, " ", None), t0()).unwrap_err();
    assert_eq!(domain(err).field(), Some("contact.name"));
    let err = directory::update_contact(
        &mut w.store,
        &sam,
        w.contact,
        contact_input(Some(AccountId(9_999)), "Hank", None),
        t0(),
    )
    .unwrap_err();
    assert!(matches!(domain(err), DomainError::NotFound { what: "account", .. }));
    let c = directory::update_contact(
        &mut w.store,
        &sam,
        w.contact,
        contact_input(None, "Hank B. Buyer", Some("HANK@Initrode.test")),
        t0(),
    )
    .unwrap();
    assert_eq!(directory::contact(&mut w.store, &sam, w.contact).unwrap(), c);
    assert_eq!(
        (
            c.name.as_str(),
            c.email.as_ref().map(|e| e.as_str()),
            c.account,
            c.title.as_deref()
        ),
        ("Hank B. Buyer", Some("hank@initrode.test"), None, None)
    );

    let initech = other_org(&mut w.store);
    let err = directory::update_account(&mut w.store, &initech, w.account, "Mine now", None, t0()).unwrap_err();
    assert!(matches!(domain(err), DomainError::NotFound { .. }));
    let err = directory::update_contact(
        &mut w.store,
        &initech,
        w.contact,
        contact_input(None, "Mine", None),
        t0(),
    )
    .unwrap_err();
    assert!(matches!(domain(err), DomainError::NotFound { .. }));
    assert_eq!(directory::contact(&mut w.store, &sam, w.contact).unwrap(), c);
}

fn titles(r: &directory::SearchResults) -> Vec<&str> {
    r.deals.iter().map(|d| d.title.as_str()).collect()
}

fn search_finds_substrings_within_what_the_actor_sees(db: &TestDb) {
    let mut w = world(db);
    let (sam, mia, bob, admin) = (w.sam.clone(), w.mia.clone(), w.bob.clone(), w.admin.clone());
    new_deal(&mut w, &sam, None, "Globex Rollout", 1_000, 24);
    new_deal(&mut w, &bob, None, "Globex Expansion", 1_000, 24);
    new_deal(&mut w, &sam, None, "100% uptime", 1_000, 24);
    new_deal(&mut w, &sam, None, "snake_case migration", 1_000, 24);
    new_deal(&mut w, &sam, None, "The case for change", 1_000, 24);
    new_deal(&mut w, &sam, None, "Back\\slash", 1_000, 24);
    ops::add_account(&mut w.store, &admin, "Initrode", Some("INITRODE.example"), t0()).unwrap();
    let initech = other_org(&mut w.store);
    ops::add_account(&mut w.store, &initech, "Globex GmbH", Some("globex.de"), t0()).unwrap();

    let r = directory::search(&mut w.store, &sam, "ROLL", 10).unwrap();
    assert_eq!(titles(&r), vec!["Globex Rollout"]);
    assert!(r.accounts.is_empty() && r.contacts.is_empty());

    let r = directory::search(&mut w.store, &sam, "  globex ", 10).unwrap();
    assert_eq!(
        titles(&r),
        vec!["Globex Rollout"],
        "a seller finds only their own deals"
    );
    assert_eq!(
        r.accounts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        vec!["Globex"]
    );
    assert_eq!(r.contacts.len(), 1, "Hank, by e-mail");
    let r = directory::search(&mut w.store, &bob, "globex", 10).unwrap();
    assert_eq!(titles(&r), vec!["Globex Expansion"]);
    let r = directory::search(&mut w.store, &mia, "globex", 10).unwrap();
    assert_eq!(titles(&r), vec!["Globex Rollout"]);
    let r = directory::search(&mut w.store, &admin, "globex", 10).unwrap();
    assert_eq!(titles(&r), vec!["Globex Expansion", "Globex Rollout"], "newest first");
    assert_eq!(
        directory::search(&mut w.store, &admin, "globex", 1)
            .unwrap()
            .deals
            .len(),
        1
    );

    let r = directory::search(&mut w.store, &admin, "initrode.EX", 10).unwrap();
    assert_eq!(
        r.accounts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        vec!["Initrode"]
    );
    let r = directory::search(&mut w.store, &admin, "hank b", 10).unwrap();
    assert_eq!(r.contacts.len(), 1, "by name");

    // Wildcards the user types are literal.
    assert_eq!(
        titles(&directory::search(&mut w.store, &sam, "0%", 10).unwrap()),
        vec!["100% uptime"]
    );
    assert!(directory::search(&mut w.store, &sam, "%%", 10)
        .unwrap()
        .deals
        .is_empty());
    assert_eq!(
        titles(&directory::search(&mut w.store, &sam, "e_c", 10).unwrap()),
        vec!["snake_case migration"]
    );
    assert_eq!(
        titles(&directory::search(&mut w.store, &sam, "k\\s", 10).unwrap()),
        vec!["Back\\slash"]
    );

    // The other org sees only its own.
    let r = directory::search(&mut w.store, &initech, "globex", 10).unwrap();
    assert!(r.deals.is_empty() && r.contacts.is_empty());
    assert_eq!(
        r.accounts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        vec!["Globex GmbH"]
    );

    for bad in ["", "   ", "x", " é "] {
        let err = directory::search(&mut w.store, &sam, bad, 10).unwrap_err();
        assert_eq!(domain(err).field(), Some("q"), "{bad:?}");
    }
}

both_backends!(
    pages_return_every_row_exactly_once,
    an_account_shows_only_the_deals_the_actor_sees,
    edits_follow_the_add_rules_and_name_the_field,
    search_finds_substrings_within_what_the_actor_sees,
);
