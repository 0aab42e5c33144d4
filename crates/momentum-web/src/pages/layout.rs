//! The page frame: navigation, search, who is signed in, sign-out.

use maud::{html, Markup, DOCTYPE};

use crate::auth::CurrentUser;

/// A page for a signed-in user; `current` names the nav entry to mark.
pub fn page(title: &str, user: &CurrentUser, current: &str, body: Markup) -> Markup {
    let s = &user.session;
    let mut nav = vec![
        ("Today", "/"),
        ("Pipeline", "/pipeline"),
        ("Accounts", "/accounts"),
        ("Contacts", "/contacts"),
        ("Reports", "/reports"),
    ];
    if s.user.role != momentum_core::vocab::Role::Seller {
        nav.push(("Coaching", "/coaching"));
    }
    frame(
        title,
        html! {
            header.top {
                a.brand href="/" { "Momentum" }
                nav {
                    @for (name, href) in nav {
                        @if name == current { a href=(href) aria-current="page" { (name) } }
                        @else { a href=(href) { (name) } }
                    }
                    @if s.user.role == momentum_core::vocab::Role::Admin {
                        @if current == "Settings" { a href="/settings" aria-current="page" { "Settings" } }
                        @else { a href="/settings" { "Settings" } }
                    }
                }
                form.search method="get" action="/search" role="search" {
                    input type="search" name="q" placeholder="Search deals, accounts, contacts" aria-label="Search";
                }
                a.new href="/deals/new" { "New deal" }
                span.who { (s.user.name) " · " (s.user.role) " · " (s.org.name) }
                a href="/calendar" { "Calendar" }
                a href="/tokens" { "API tokens" }
                form method="post" action="/sign-out" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    button.link type="submit" { "Sign out" }
                }
            }
            main { (body) }
        },
    )
}

/// A page without navigation (sign-in, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    frame(title, html! { main { (body) } })
}

fn frame(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Momentum" }
                link rel="stylesheet" href="/assets/style.css";
            }
            body { (body) }
        }
    }
}
