//! The org's settings, for admins only (others get 403): the decision ladder, the
//! follow-up cadence, and the users and teams, with a form to add a user. A new user's
//! initial password is chosen by the admin here and stored only as its hash.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use jiff::Timestamp;
use maud::{html, Markup};
use momentum_core::model::User;
use momentum_core::vocab::Role;
use momentum_core::DomainError;
use momentum_store::ops;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::{read_store, with_store};
use crate::error::{PageError, WebError};
use crate::pages::ui::{self, error_at, error_general, text, val, Posted};
use crate::pages::{layout, when};
use crate::AppState;

/// Shortest and longest initial password an admin may set.
pub const PASSWORD_MIN: usize = crate::password::MIN_LEN;
pub const PASSWORD_MAX: usize = crate::password::MAX_LEN;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct LadderForm {
    pub csrf: Option<String>,
    /// One step per line, from the first buyer decision to signing.
    pub steps: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct CadenceForm {
    pub csrf: Option<String>,
    pub first_every_days: Option<String>,
    pub first_for_days: Option<String>,
    pub then_every_days: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct UserForm {
    pub csrf: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub manager: Option<String>,
    pub password: Option<String>,
}

/// Changing a user's role, team or access.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct EditUserForm {
    pub csrf: Option<String>,
    pub email: Option<String>,
    pub role: Option<String>,
    pub manager: Option<String>,
    pub active: Option<String>,
}

/// The forms as the page shows them: the org's values, or what was posted.
#[derive(Debug, Default, Clone)]
struct Forms {
    ladder: LadderForm,
    cadence: CadenceForm,
    user: UserForm,
    edit: EditUserForm,
}

/// Which form a refusal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Ladder,
    Cadence,
    User,
    EditUser,
}

impl Forms {
    fn of(user: &CurrentUser) -> Forms {
        let org = &user.session.org;
        Forms {
            ladder: LadderForm {
                csrf: None,
                steps: Some(org.ladder.names().join("\n")),
            },
            cadence: CadenceForm {
                csrf: None,
                first_every_days: Some(org.cadence.first_every_days.to_string()),
                first_for_days: Some(org.cadence.first_for_days.to_string()),
                then_every_days: Some(org.cadence.then_every_days.to_string()),
            },
            user: UserForm::default(),
            edit: EditUserForm {
                active: Some("on".into()),
                ..EditUserForm::default()
            },
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    pub saved: Option<String>,
}

fn saved_notice(saved: Option<&str>) -> Option<&'static str> {
    Some(match saved? {
        "ladder" => "The decision ladder is saved.",
        "cadence" => "The cadence is saved.",
        "user" => "The user is added. Tell them their initial password in person, not by e-mail.",
        "edit-user" => "The user is changed. Their deals stay theirs: reassign them from the deal page if needed.",
        _ => return None,
    })
}

fn only_admins(user: &CurrentUser) -> Result<(), WebError> {
    if user.session.user.role == Role::Admin {
        Ok(())
    } else {
        Err(DomainError::Forbidden(format!(
            "the org's settings are for admins; you are a {}",
            user.session.user.role
        ))
        .into())
    }
}

async fn users(state: &AppState, user: &CurrentUser) -> Result<Vec<User>, WebError> {
    let s = user.session.clone();
    read_store(state, move |store| Ok(ops::users(store, &s)?)).await
}

fn render(
    user: &CurrentUser,
    users: &[User],
    forms: &Forms,
    error: Option<(Which, &DomainError)>,
    saved: Option<&str>,
) -> Markup {
    let org = &user.session.org;
    let err = |w: Which| error.filter(|(which, _)| *which == w).map(|(_, e)| e);
    let name_of = |id| {
        users
            .iter()
            .find(|u| u.id == id)
            .map_or_else(String::new, |u| u.name.clone())
    };
    let managers: Vec<&User> = users.iter().filter(|u| u.role == Role::Manager).collect();
    let f = &forms.user;
    let chosen = |v: &Option<String>, option: &str| text(v) == Some(option);
    layout::page(
        "Settings",
        user,
        "Settings",
        html! {
            (ui::notice(saved_notice(saved)))
            h1 { "Settings of " (org.name) }
            section id="ladder" {
                h2 { "Decision ladder" }
                p { "The buyer decisions a deal climbs, one per line, from the first to signing. A deal's stage is the highest decision it holds; steps deals stand on cannot be removed." }
                form.stack.card id="ladder-form" method="post" action="/settings/ladder" {
                    (error_general(err(Which::Ladder), &["ladder"]))
                    input type="hidden" name="csrf" value=(user.csrf);
                    label { "Steps, one per line" textarea.tall name="steps" required { (val(&forms.ladder.steps)) } }
                    (error_at(err(Which::Ladder), &["ladder"]))
                    button type="submit" { "Save the ladder" }
                }
            }
            section id="cadence" {
                h2 { "Follow-up cadence" }
                p { "How often sellers follow up on deals that went quiet, with no end short of the buyer's definitive no." }
                form.stack.card id="cadence-form" method="post" action="/settings/cadence" {
                    (error_general(err(Which::Cadence), &["cadence."]))
                    input type="hidden" name="csrf" value=(user.csrf);
                    div.steps {
                        label { "Every (days)" input type="number" name="first_every_days" min="1" max="90" value=(val(&forms.cadence.first_every_days)) required; }
                        label { "for the first (days)" input type="number" name="first_for_days" min="0" max="365" value=(val(&forms.cadence.first_for_days)) required; }
                        label { "then every (days)" input type="number" name="then_every_days" min="1" max="90" value=(val(&forms.cadence.then_every_days)) required; }
                    }
                    (error_at(err(Which::Cadence), &["cadence."]))
                    button type="submit" { "Save the cadence" }
                }
            }
            section id="users" {
                h2 { "Users and teams" }
                table.responsive id="user-list" {
                    thead { tr { th { "Name" } th { "E-mail" } th { "Role" } th { "Manager" } th { "Since" } } }
                    tbody {
                        @for u in users {
                            tr {
                                td { (u.name) @if !u.active { " " span.tag { "inactive" } } }
                                td { (u.email) }
                                td { (u.role) }
                                td { @if let Some(m) = u.manager { (name_of(m)) } }
                                td { (when(org, u.created_at)) }
                            }
                        }
                    }
                }
                @for m in &managers {
                    h3 { (m.name) "'s team" }
                    ul.plain {
                        @for s in users.iter().filter(|s| s.manager == Some(m.id)) { li { (s.name) " · " span.muted { (s.email) } } }
                    }
                }
                form.stack.card id="user-form" method="post" action="/settings/users" {
                    h3 { "Add a user" }
                    (error_general(err(Which::User), &["email", "name", "role", "manager", "password"]))
                    input type="hidden" name="csrf" value=(user.csrf);
                    label { "E-mail" input type="email" name="email" value=(val(&f.email)) required autocomplete="off"; }
                    (error_at(err(Which::User), &["email"]))
                    label { "Name" input type="text" name="name" value=(val(&f.name)) required; }
                    (error_at(err(Which::User), &["name"]))
                    div.steps {
                        label { "Role"
                            select name="role" {
                                @for r in Role::ALL {
                                    option value=(r.as_str()) selected[chosen(&f.role, r.as_str())] { (r.as_str()) }
                                }
                            }
                        }
                        label { "Manager " span.muted { "(for a seller)" }
                            select name="manager" {
                                option value="" { "(none)" }
                                @for m in &managers {
                                    option value=(m.email.as_str()) selected[chosen(&f.manager, m.email.as_str())] { (m.name) }
                                }
                            }
                        }
                    }
                    (error_at(err(Which::User), &["role", "manager"]))
                    label { "Initial password " span.muted { "(at least " (PASSWORD_MIN) " characters)" }
                        input type="password" name="password" required minlength=(PASSWORD_MIN) autocomplete="new-password"; }
                    (error_at(err(Which::User), &["password"]))
                    button type="submit" { "Add the user" }
                }
                @let e = &forms.edit;
                form.stack.card id="edit-user" method="post" action="/settings/users/edit" {
                    h3 { "Change a user's role, team or access" }
                    (error_general(err(Which::EditUser), &["email", "role", "manager"]))
                    input type="hidden" name="csrf" value=(user.csrf);
                    div.steps {
                        label { "User"
                            select name="email" {
                                @for u in users {
                                    option value=(u.email.as_str()) selected[chosen(&e.email, u.email.as_str())] { (u.name) " · " (u.email) }
                                }
                            }
                        }
                        label { "Role"
                            select name="role" {
                                @for r in Role::ALL {
                                    option value=(r.as_str()) selected[chosen(&e.role, r.as_str())] { (r.as_str()) }
                                }
                            }
                        }
                        label { "Manager " span.muted { "(for a seller)" }
                            select name="manager" {
                                option value="" { "(none)" }
                                @for m in &managers {
                                    option value=(m.email.as_str()) selected[chosen(&e.manager, m.email.as_str())] { (m.name) }
                                }
                            }
                        }
                    }
                    label.inline { input type="checkbox" name="active" value="on" checked[text(&e.active).is_some()]; "Can sign in" }
                    (error_at(err(Which::EditUser), &["email", "role", "manager"]))
                    button type="submit" { "Save the change" }
                }
            }
        },
    )
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(flash): Query<Flash>,
) -> Result<Response, PageError> {
    only_admins(&user)?;
    let users = users(&state, &user).await?;
    Ok(render(&user, &users, &Forms::of(&user), None, flash.saved.as_deref()).into_response())
}

/// Answers a settings form: to the page with a notice, or the page with the refusal.
async fn answer(
    state: &AppState,
    user: &CurrentUser,
    result: Result<(), WebError>,
    which: Which,
    forms: Forms,
) -> Result<Response, PageError> {
    let saved = match which {
        Which::Ladder => "ladder",
        Which::Cadence => "cadence",
        Which::User => "user",
        Which::EditUser => "edit-user",
    };
    match ui::posted(result, "")? {
        Posted::Done(()) => Ok(ui::see(&format!("/settings?saved={saved}#{saved}"))),
        Posted::Refused(e) => {
            let users = users(state, user).await?;
            Ok(ui::refused(&e, render(user, &users, &forms, Some((which, &e)), None)))
        }
    }
}

pub async fn ladder(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<LadderForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    only_admins(&user)?;
    let s = user.session.clone();
    let names: Vec<String> = val(&form.steps)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let result = with_store(&state, move |store| {
        ops::set_ladder(store, &s, names)?;
        Ok(())
    })
    .await;
    let forms = Forms {
        ladder: form,
        ..Forms::of(&user)
    };
    answer(&state, &user, result, Which::Ladder, forms).await
}

fn days(field: &str, v: &Option<String>) -> Result<u32, DomainError> {
    let t = text(v).unwrap_or_default();
    t.parse::<u32>()
        .map_err(|_| DomainError::invalid(field, t, "a whole number of days"))
}

pub async fn cadence(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CadenceForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    only_admins(&user)?;
    let s = user.session.clone();
    let posted = form.clone();
    let result = with_store(&state, move |store| {
        let first_every = days("cadence.first_every_days", &posted.first_every_days)?;
        let first_for = days("cadence.first_for_days", &posted.first_for_days)?;
        let then_every = days("cadence.then_every_days", &posted.then_every_days)?;
        ops::set_cadence(store, &s, first_every, first_for, then_every)?;
        Ok(())
    })
    .await;
    let forms = Forms {
        cadence: form,
        ..Forms::of(&user)
    };
    answer(&state, &user, result, Which::Cadence, forms).await
}

pub async fn add_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<UserForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    only_admins(&user)?;
    let s = user.session.clone();
    let posted = form.clone();
    let result = with_store(&state, move |store| {
        let role = Role::parse("role", text(&posted.role).unwrap_or_default())?;
        let password = posted.password.as_deref().unwrap_or_default();
        crate::password::check(password)?;
        // Hashing takes a moment of CPU: this closure runs on a blocking thread.
        let hash = crate::password::hash(password).map_err(|e| WebError::Internal(e.to_string()))?;
        ops::add_user(
            store,
            &s,
            ops::AddUser {
                email: posted.email.as_deref().unwrap_or_default(),
                name: posted.name.as_deref().unwrap_or_default(),
                role,
                manager: text(&posted.manager),
                password_hash: Some(&hash),
            },
            Timestamp::now(),
        )?;
        Ok(())
    })
    .await;
    // The password is never sent back.
    let forms = Forms {
        user: UserForm { password: None, ..form },
        ..Forms::of(&user)
    };
    answer(&state, &user, result, Which::User, forms).await
}

pub async fn edit_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<EditUserForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf.as_deref())?;
    only_admins(&user)?;
    let s = user.session.clone();
    let posted = form.clone();
    let result = with_store(&state, move |store| {
        let role = Role::parse("role", text(&posted.role).unwrap_or_default())?;
        let email = text(&posted.email).unwrap_or_default();
        let active = text(&posted.active).is_some();
        ops::edit_user(store, &s, email, role, text(&posted.manager), active)?;
        Ok(())
    })
    .await;
    let forms = Forms {
        edit: form,
        ..Forms::of(&user)
    };
    answer(&state, &user, result, Which::EditUser, forms).await
}
