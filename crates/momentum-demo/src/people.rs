//! The demo org's people and buyers, made before any deal: the org, its users (admin,
//! managers, sellers), accounts with their contacts, monthly goals and check-ins. Each is
//! made through the core's command functions, with ids assigned in order from 1.
//!
//! Besides the public [`People`], this returns the compact tables the deal simulation
//! reads (seller profiles, each account's contact ids), so deals need no lookups.

use momentum_core::commands::{self, CheckInInput, NewContact, NewOrg, NewUser};
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::Role;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::clock::{weekday_at_or_after, Calendar, DAY, HOUR, MINUTE};
use crate::words::*;
use crate::{bug, stream_seed, People, Scale, DOMAIN};

const STREAM_PEOPLE: u64 = 1;
const STREAM_CHECK_INS: u64 = 2;

/// A seller as the simulation sees them: who they are and how they sell.
#[derive(Debug, Clone)]
pub(crate) struct Seller {
    pub owner: Owner,
    pub actor: Actor,
    /// Relative share of the org's deals.
    pub weight: u32,
    /// Multiplies the chance that a buyer decides in a meeting (per mille: 1000 = average).
    pub skill_permille: u32,
    /// Planted truth 1: stops following up after 1–3 unanswered touches.
    pub gives_up_early: bool,
    /// Planted truth 3: asks for the signature before the decision process is agreed.
    pub asks_too_early: bool,
}

/// An account's contacts are ids `first_contact .. first_contact + contacts`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AccountRef {
    pub first_contact: i64,
    pub contacts: u8,
}

#[derive(Debug)]
pub(crate) struct Cast {
    pub people: People,
    pub sellers: Vec<Seller>,
    pub accounts: Vec<AccountRef>,
}

/// The eight sellers every demo has, with the same ids at every scale (users 4–11).
struct BaseSeller {
    local: &'static str,
    name: &'static str,
    /// 0 = Maria's team, 1 = Mark's.
    team: usize,
    skill_permille: u32,
    gives_up_early: bool,
    asks_too_early: bool,
}

const fn base(local: &'static str, name: &'static str, team: usize, skill_permille: u32) -> BaseSeller {
    BaseSeller {
        local,
        name,
        team,
        skill_permille,
        gives_up_early: false,
        asks_too_early: false,
    }
}

const BASE_SELLERS: [BaseSeller; 8] = [
    base("sam", "Sam Carter", 0, 1100),
    base("priya", "Priya Nair", 0, 1050),
    BaseSeller {
        gives_up_early: true,
        ..base("leo", "Leo Park", 0, 950)
    },
    BaseSeller {
        asks_too_early: true,
        ..base("grace", "Grace Kim", 0, 1000)
    },
    base("omar", "Omar Haddad", 1, 1000),
    BaseSeller {
        gives_up_early: true,
        ..base("julia", "Julia Santos", 1, 950)
    },
    BaseSeller {
        asks_too_early: true,
        ..base("ken", "Ken Watanabe", 1, 1000)
    },
    base("zoe", "Zoe Fischer", 1, 1100),
];

pub(crate) const GIVE_UP_SELLERS: [&str; 2] = ["leo@demo.momentum.test", "julia@demo.momentum.test"];
pub(crate) const TOO_EARLY_SELLERS: [&str; 2] = ["grace@demo.momentum.test", "ken@demo.momentum.test"];

/// Sellers per manager at large scale.
const LARGE_TEAM_SIZE: usize = 10;

/// Won value per deal, in cents, as measured on the demo's own simulation (the `stats`
/// example); goals are set up to 30% above what a seller's share of deals brings in.
fn won_value_per_deal_minor(scale: Scale) -> i64 {
    match scale {
        Scale::Small => 830_000,
        Scale::Medium | Scale::Large => 1_110_000,
    }
}

pub(crate) fn make(seed: u64, scale: Scale, cal: &Calendar) -> Cast {
    let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(seed, STREAM_PEOPLE, 0));
    // The org was set up a little over a year before today, before its first deal.
    let start = (cal.today_day - 400) * DAY + 9 * HOUR;
    let org = commands::create_org(
        OrgId(1),
        NewOrg {
            name: "Demo Sales",
            currency: Currency::USD,
            timezone: "UTC",
        },
        crate::clock::ts(start),
    )
    .unwrap_or_else(|e| bug("create_org", e));

    let (users, sellers) = make_users(scale, start + 5 * MINUTE, &mut rng);
    let (accounts, contacts, refs) = make_accounts(scale, start + HOUR, &mut rng);
    let goals = make_goals(&users, &sellers, scale, cal, &mut rng);
    let check_ins = make_check_ins(seed, &sellers, cal);
    Cast {
        people: People {
            org,
            users,
            accounts,
            contacts,
            goals,
            check_ins,
        },
        sellers,
        accounts: refs,
    }
}

fn make_users(scale: Scale, at: i64, rng: &mut ChaCha8Rng) -> (Vec<User>, Vec<Seller>) {
    let now = crate::clock::ts(at);
    let mut users: Vec<User> = Vec::new();
    let add =
        |users: &mut Vec<User>, actor: Option<&Actor>, email: &str, name: &str, role: Role, manager: Option<usize>| {
            let id = UserId(users.len() as i64 + 1);
            let manager = manager.map(|i| &users[i]);
            let user = commands::add_user(
                actor,
                id,
                NewUser {
                    email,
                    name,
                    role,
                    manager,
                },
                now,
            )
            .unwrap_or_else(|e| bug("add_user", e));
            users.push(user);
            users.len() - 1
        };
    add(
        &mut users,
        None,
        "admin@demo.momentum.test",
        "Ada Admin",
        Role::Admin,
        None,
    );
    let admin = Actor {
        user: users[0].id,
        role: Role::Admin,
    };
    let maria = add(
        &mut users,
        Some(&admin),
        "maria.manager@demo.momentum.test",
        "Maria Lopez",
        Role::Manager,
        None,
    );
    let mark = add(
        &mut users,
        Some(&admin),
        "mark.manager@demo.momentum.test",
        "Mark Chen",
        Role::Manager,
        None,
    );
    let mut managers = vec![maria, mark];
    let mut sellers = Vec::new();
    let mut seller_user = |users: &mut Vec<User>, i: usize, skill_permille, gives_up_early, asks_too_early, weight| {
        let u = &users[i];
        sellers.push(Seller {
            owner: u.as_owner(),
            actor: Actor {
                user: u.id,
                role: u.role,
            },
            weight,
            skill_permille,
            gives_up_early,
            asks_too_early,
        });
    };
    for s in &BASE_SELLERS {
        let email = format!("{}@{DOMAIN}", s.local);
        let i = add(
            &mut users,
            Some(&admin),
            &email,
            s.name,
            Role::Seller,
            Some(managers[s.team]),
        );
        seller_user(&mut users, i, s.skill_permille, s.gives_up_early, s.asks_too_early, 100);
    }
    if scale != Scale::Small {
        for (first, last) in MANAGER_NAMES {
            let email = format!("{}.manager@{DOMAIN}", first.to_lowercase());
            let name = format!("{first} {last}");
            managers.push(add(&mut users, Some(&admin), &email, &name, Role::Manager, None));
        }
        // Fill every team up to ten sellers, Maria's and Mark's first.
        let mut team_sizes = vec![0usize; managers.len()];
        for s in &BASE_SELLERS {
            team_sizes[s.team] += 1;
        }
        let mut j = 0usize;
        for (t, &manager) in managers.iter().enumerate() {
            while team_sizes[t] < LARGE_TEAM_SIZE {
                // (j % 50, j / 50) is unique per seller; the shift just mixes the surnames.
                let first = FIRST_NAMES[j % FIRST_NAMES.len()];
                let last = LAST_NAMES[(j / FIRST_NAMES.len() + 3 * (j % FIRST_NAMES.len())) % LAST_NAMES.len()];
                let email = format!("{}.{}@{DOMAIN}", first.to_lowercase(), last.to_lowercase());
                let name = format!("{first} {last}");
                let i = add(&mut users, Some(&admin), &email, &name, Role::Seller, Some(manager));
                let skill = rng.random_range(880..=1120);
                let weight = rng.random_range(80..=120);
                seller_user(&mut users, i, skill, false, false, weight);
                team_sizes[t] += 1;
                j += 1;
            }
        }
    }
    (users, sellers)
}

fn make_accounts(scale: Scale, at: i64, rng: &mut ChaCha8Rng) -> (Vec<Account>, Vec<Contact>, Vec<AccountRef>) {
    let n = match scale {
        Scale::Small => 300,
        Scale::Medium => 10_000,
        Scale::Large => 100_000,
    };
    let admin = Actor {
        user: UserId(1),
        role: Role::Admin,
    };
    let now = crate::clock::ts(at);
    let mut accounts = Vec::with_capacity(n);
    let mut contacts = Vec::with_capacity(n * 2);
    let mut refs = Vec::with_capacity(n);
    // Regional suffixes only when the plain names run out (the large scale).
    let plain = BRAND_HEADS.len() * BRAND_TAILS.len() * INDUSTRIES.len();
    let combos = if n <= plain { plain } else { plain * REGIONS.len() };
    assert!(n <= combos, "not enough distinct company names for {n} accounts");
    for i in 0..n {
        // A fixed prime stride walks all name combinations once, in a mixed-up order.
        let k = (i * 7_919) % combos;
        let head = BRAND_HEADS[k % 50];
        let tail = BRAND_TAILS[(k / 50) % 50];
        let industry = INDUSTRIES[(k / 2_500) % 12];
        let region = REGIONS[k / 30_000];
        let name = format!("{head}{tail} {industry}{region}");
        let domain = format!(
            "{}{}-{}{}.example",
            head.to_lowercase(),
            tail.replace(' ', "").to_lowercase(),
            industry.to_lowercase(),
            region.replace(' ', "-").to_lowercase()
        );
        let id = AccountId(i as i64 + 1);
        let account =
            commands::add_account(&admin, id, &name, Some(&domain), now).unwrap_or_else(|e| bug("add_account", e));
        let count: u8 = match rng.random_range(0..100) {
            0..40 => 1,
            40..75 => 2,
            _ => 3,
        };
        refs.push(AccountRef {
            first_contact: contacts.len() as i64 + 1,
            contacts: count,
        });
        for _ in 0..count {
            let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
            let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
            let name = format!("{first} {last}");
            let email = rng
                .random_bool(0.9)
                .then(|| format!("{}.{}@{domain}", first.to_lowercase(), last.to_lowercase()));
            let phone = rng
                .random_bool(0.7)
                .then(|| format!("+1 555 01{:02}", rng.random_range(0..100)));
            let title = TITLES[rng.random_range(0..TITLES.len())];
            let contact = commands::add_contact(
                &admin,
                ContactId(contacts.len() as i64 + 1),
                NewContact {
                    account: Some(id),
                    name: &name,
                    email: email.as_deref(),
                    phone: phone.as_deref(),
                    title: Some(title),
                },
                now,
            )
            .unwrap_or_else(|e| bug("add_contact", e));
            contacts.push(contact);
        }
        accounts.push(account);
    }
    (accounts, contacts, refs)
}

/// Goals for the twelve past months and the current one, set by each seller's manager on
/// the first of the month.
fn make_goals(users: &[User], sellers: &[Seller], scale: Scale, cal: &Calendar, rng: &mut ChaCha8Rng) -> Vec<Goal> {
    let total_weight: u64 = sellers.iter().map(|s| u64::from(s.weight)).sum();
    let current = Month::of(cal.today);
    let mut months = Vec::with_capacity(13);
    let mut m = current;
    for _ in 0..13 {
        months.push(m);
        m = if m.month == 1 {
            Month {
                year: m.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: m.year,
                month: m.month - 1,
            }
        };
    }
    months.reverse();
    // Each seller has a stretch factor their manager keeps from month to month.
    let stretch: Vec<i64> = sellers.iter().map(|_| rng.random_range(100..=130)).collect();
    let mut goals = Vec::with_capacity(13 * sellers.len());
    for month in months {
        let day = cal.day_of_date(month.first_day());
        // Set early on the first of the month, before the demo's "now" even on the 1st.
        let at = crate::clock::ts(day * DAY + 6 * HOUR);
        for (s, stretch) in sellers.iter().zip(&stretch) {
            let manager_id = s.owner.manager.expect("every demo seller has a manager");
            let manager = users
                .iter()
                .find(|u| u.id == manager_id)
                .expect("the manager is a demo user");
            let actor = Actor {
                user: manager.id,
                role: manager.role,
            };
            let deals_per_month = scale.deals() as i64 * i64::from(s.weight) / (total_weight as i64 * 12);
            let target = deals_per_month * won_value_per_deal_minor(scale) * stretch / 100;
            // Round to whole thousands of dollars, as managers do.
            let amount = Money::new((target / 100_000).max(1) * 100_000, Currency::USD);
            goals.push(commands::set_goal(&actor, &s.owner, month, amount, at).unwrap_or_else(|e| bug("set_goal", e)));
        }
    }
    goals
}

/// Check-ins every two weeks or so per seller over the past year, numbered in date order.
fn make_check_ins(seed: u64, sellers: &[Seller], cal: &Calendar) -> Vec<CheckIn> {
    struct Planned {
        day: i64,
        seller: usize,
        minute: i64,
        commitment: i64,
        why: &'static str,
        obstacle: Option<&'static str>,
    }
    let mut planned = Vec::new();
    for (i, s) in sellers.iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(seed, STREAM_CHECK_INS, i as u64));
        // A seller's why is personal and stable; their commitment wavers around their norm.
        let why = CHECK_IN_WHYS[rng.random_range(0..CHECK_IN_WHYS.len())];
        let norm: i64 = if s.gives_up_early { 9 } else { rng.random_range(5..=9) };
        let mut day = weekday_at_or_after(cal.today_day - 365 + rng.random_range(0..14));
        while day < cal.today_day {
            let commitment = (norm + rng.random_range(-2..=1)).clamp(1, 10);
            let obstacle = rng
                .random_bool(0.4)
                .then(|| CHECK_IN_OBSTACLES[rng.random_range(0..CHECK_IN_OBSTACLES.len())]);
            planned.push(Planned {
                day,
                seller: i,
                minute: rng.random_range(8 * 60..18 * 60),
                commitment,
                why,
                obstacle,
            });
            day = weekday_at_or_after(day + rng.random_range(12..=16));
        }
    }
    planned.sort_by_key(|p| (p.day, p.minute, p.seller));
    planned
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let now = cal.now(p.day * DAY + p.minute * MINUTE);
            commands::check_in(
                &sellers[p.seller].actor,
                CheckInId(k as i64 + 1),
                CheckInInput {
                    commitment: p.commitment,
                    why: p.why,
                    obstacle: p.obstacle,
                },
                now,
            )
            .unwrap_or_else(|e| bug("check_in", e))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn cast(scale: Scale) -> Cast {
        make(42, scale, &Calendar::new(jiff::civil::Date::constant(2026, 11, 24)))
    }

    #[test]
    fn large_keeps_the_small_cast_and_adds_full_teams() {
        let small = cast(Scale::Small);
        let large = cast(Scale::Large);
        assert_eq!(large.people.users[..11], small.people.users[..]);
        assert_eq!(large.sellers.len(), 200);
        let managers: Vec<&User> = large.people.users.iter().filter(|u| u.role == Role::Manager).collect();
        assert_eq!(managers.len(), 20);
        for m in managers {
            assert_eq!(
                large.people.users.iter().filter(|u| u.manager == Some(m.id)).count(),
                10,
                "{}",
                m.email
            );
        }
        let emails: BTreeSet<&str> = large.people.users.iter().map(|u| u.email.as_str()).collect();
        assert_eq!(emails.len(), large.people.users.len(), "user e-mails are unique");
        let planted: Vec<&Seller> = large
            .sellers
            .iter()
            .filter(|s| s.gives_up_early || s.asks_too_early)
            .collect();
        assert_eq!(planted.len(), 4, "the planted sellers are the same four at every scale");
    }

    #[test]
    fn medium_has_the_large_cast_and_a_tenth_of_its_accounts() {
        let (medium, large) = (cast(Scale::Medium), cast(Scale::Large));
        assert_eq!(medium.people.users, large.people.users);
        assert_eq!(medium.people.accounts.len(), 10_000);
        assert_eq!(Scale::Medium.deals(), Scale::Large.deals() / 10);
    }

    #[test]
    fn account_names_and_domains_are_unique() {
        let large = cast(Scale::Large);
        assert_eq!(large.people.accounts.len(), 100_000);
        let names: BTreeSet<&str> = large.people.accounts.iter().map(|a| a.name.as_str()).collect();
        let domains: BTreeSet<&str> = large
            .people
            .accounts
            .iter()
            .filter_map(|a| a.domain.as_deref())
            .collect();
        assert_eq!(names.len(), 100_000);
        assert_eq!(domains.len(), 100_000);
        for (a, r) in large.people.accounts.iter().zip(&large.accounts) {
            let first = &large.people.contacts[r.first_contact as usize - 1];
            assert_eq!(first.account, Some(a.id));
        }
    }
}
