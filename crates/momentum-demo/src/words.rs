//! The demo's words: names of people and companies, and what buyers and sellers say.
//! Static lists only, so picking a phrase never allocates until a command copies it.

use momentum_core::vocab::{LostCategory, NeedKind};

/// First halves of company names.
pub(crate) const BRAND_HEADS: [&str; 50] = [
    "North", "Blue", "Silver", "Iron", "Bright", "Cedar", "Harbor", "Summit", "Red", "Green", "Oak", "Pine", "Stone",
    "River", "Lake", "Golden", "Sun", "Star", "Maple", "Granite", "Coral", "Swift", "True", "Clear", "Prime", "Alder",
    "Falcon", "Eagle", "Fox", "Wolf", "Bear", "Elm", "Birch", "Copper", "Crystal", "Delta", "Echo", "Frontier", "Key",
    "Lumen", "Metro", "Nova", "Orbit", "Pioneer", "Quarry", "High", "Sage", "Tidal", "Vista", "Willow",
];

/// Second halves of company names.
pub(crate) const BRAND_TAILS: [&str; 50] = [
    "wind", "field", "gate", "bridge", "point", "stone", "wood", "works", "line", "path", "peak", "view", "well",
    "ford", "haven", "crest", "brook", "light", "mark", "port", "side", "way", "vale", "shore", "ridge", "land",
    "star", "wave", "rock", "bay", "hill", "dale", "mont", "spring", "stream", "top", "water", "forge", "tree", "moor",
    "fall", "glen", "cliff", "croft", "mill", "ward", "wick", "more", "ton", "by",
];

/// What the companies do.
pub(crate) const INDUSTRIES: [&str; 12] = [
    "Logistics",
    "Health",
    "Foods",
    "Capital",
    "Energy",
    "Manufacturing",
    "Retail",
    "Software",
    "Insurance",
    "Construction",
    "Pharma",
    "Media",
];

/// Tells apart companies that would otherwise share a name (large scale only).
pub(crate) const REGIONS: [&str; 4] = ["", " West", " East", " International"];

/// What the demo org sells; a deal's title is "account: product".
pub(crate) const PRODUCTS: [&str; 12] = [
    "Fleet analytics rollout",
    "Sales coaching program",
    "Forecasting platform",
    "Customer portal",
    "Support automation",
    "Data warehouse migration",
    "Field service app",
    "Security assessment",
    "Pricing optimisation",
    "Onboarding redesign",
    "Inventory planning",
    "Contract renewal",
];

pub(crate) const FIRST_NAMES: [&str; 50] = [
    "Alex", "Blake", "Carmen", "Dana", "Elena", "Felix", "Gina", "Hugo", "Irene", "Jonas", "Kara", "Luis", "Mina",
    "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Simon", "Tara", "Uma", "Victor", "Wendy", "Xavier", "Yara", "Zack",
    "Amir", "Bianca", "Chen", "Diego", "Emma", "Farah", "George", "Hana", "Ivan", "Jade", "Kofi", "Lena", "Marco",
    "Nadia", "Oscar", "Petra", "Rafael", "Sofia", "Tomas", "Ursula", "Vera", "Wei", "Yusuf", "Zara",
];

pub(crate) const LAST_NAMES: [&str; 50] = [
    "Smith",
    "Garcia",
    "Muller",
    "Rossi",
    "Novak",
    "Silva",
    "Khan",
    "Tanaka",
    "Olsen",
    "Dubois",
    "Kowalski",
    "Ivanova",
    "Costa",
    "Mensah",
    "Brown",
    "Lee",
    "Wilson",
    "Martin",
    "Moreau",
    "Schmidt",
    "Jansen",
    "Nielsen",
    "Popescu",
    "Horvat",
    "Ahmed",
    "Ito",
    "Reyes",
    "Walsh",
    "Byrne",
    "Murphy",
    "Fischer",
    "Weber",
    "Bauer",
    "Lindqvist",
    "Berg",
    "Okafor",
    "Adeyemi",
    "Patel",
    "Singh",
    "Gupta",
    "Cohen",
    "Levi",
    "Romano",
    "Ferreira",
    "Santos",
    "Nguyen",
    "Tran",
    "Park",
    "Choi",
    "Yamamoto",
];

/// Buyers' job titles.
pub(crate) const TITLES: [&str; 10] = [
    "VP Sales",
    "Head of Operations",
    "CFO",
    "IT Director",
    "Procurement Manager",
    "COO",
    "Head of Customer Success",
    "CEO",
    "Operations Manager",
    "Finance Director",
];

/// Names for the managers added at large scale (after Maria and Mark).
pub(crate) const MANAGER_NAMES: [(&str, &str); 18] = [
    ("Nina", "Moreau"),
    ("Paul", "Okafor"),
    ("Rita", "Costa"),
    ("Sven", "Lindqvist"),
    ("Tina", "Horvat"),
    ("Umar", "Khan"),
    ("Vlad", "Popescu"),
    ("Wanda", "Novak"),
    ("Yves", "Dubois"),
    ("Zeno", "Rossi"),
    ("Anja", "Berg"),
    ("Bruno", "Silva"),
    ("Clara", "Jansen"),
    ("Dmitri", "Ivanov"),
    ("Edith", "Walsh"),
    ("Frank", "Bauer"),
    ("Greta", "Nielsen"),
    ("Henrik", "Olsen"),
];

pub(crate) fn need_words(kind: NeedKind) -> &'static [&'static str] {
    match kind {
        NeedKind::Opportunity => &[
            "If we could quote same-day we'd win the tenders we keep losing.",
            "The new region opens in spring and we want to be ready on day one.",
            "Our best customers are asking for this and we can't give it to them.",
            "We could double the team's output without hiring.",
        ],
        NeedKind::Problem => &[
            "We lose a day every week reconciling spreadsheets.",
            "Half our forecasts are wrong and the board has noticed.",
            "Customers wait three days for an answer; they are leaving.",
            "Our people re-key every order twice and mistakes cost us.",
        ],
        NeedKind::Threat => &[
            "The auditors flagged this; we must fix it before the next audit.",
            "Our biggest competitor launched this last quarter.",
            "The old system goes out of support at year end.",
            "New regulation applies from next year and we are not compliant.",
        ],
    }
}

pub(crate) const CONSEQUENCES: [&str; 6] = [
    "Another quarter of missed targets and overtime.",
    "We keep losing deals to faster competitors.",
    "Fines and a failed audit.",
    "Two more people quit over the manual work.",
    "Churn keeps rising among our top accounts.",
    "We cannot open the new market on time.",
];

pub(crate) fn lost_words(category: LostCategory) -> &'static [&'static str] {
    match category {
        LostCategory::Price => &[
            "Your price is well above what we budgeted; we can't justify it this year.",
            "We got the same for 30% less elsewhere.",
        ],
        LostCategory::Competitor => &[
            "We went with the vendor we already use for payroll.",
            "Another supplier offered a pilot at no cost and the team liked it.",
        ],
        LostCategory::NoBudget => &[
            "The budget was frozen after the reorganisation.",
            "Finance cut every new project until next year.",
        ],
        LostCategory::NoNeed => &[
            "Honestly, this isn't a problem for us.",
            "We handle it fine with what we have.",
        ],
        LostCategory::StatusQuo => &[
            "We'll keep doing it the way we do it now.",
            "Changing now is more trouble than it's worth.",
        ],
        LostCategory::Timing => &[
            "Not this year; we have three other projects running.",
            "Ask me again after the merger closes, not before.",
        ],
        LostCategory::Other | LostCategory::NotRecorded => &[
            "Our sponsor left the company and nobody owns this now.",
            "Legal won't accept your data-processing terms.",
        ],
    }
}

pub(crate) const DISQUALIFY_REASONS: [&str; 4] = [
    "No compelling need: they are happy with how it works today.",
    "No date and no cost of inaction the buyer would own.",
    "Curiosity only: they wanted a benchmark for their current vendor.",
    "Nobody at the account owns the problem.",
];

pub(crate) const NOTES_ADVANCED: [&str; 4] = [
    "Good meeting; the buyer decided.",
    "They agreed and booked the next step with me.",
    "Sponsor on board; next meeting in the calendar.",
    "Clear yes on this step.",
];

pub(crate) const NOTES_SOLD: [&str; 3] = [
    "Signed. Kick-off booked.",
    "Contract signed by the sponsor.",
    "They signed; handing over to onboarding.",
];

pub(crate) const NOTES_STAYED: [&str; 3] = [
    "Useful talk, no decision yet; they want to think it over.",
    "More questions from their side; met again soon.",
    "Buyer needs to check internally first.",
];

pub(crate) const NOTES_UNANSWERED: [&str; 3] = [
    "No answer; left a message.",
    "Sent a follow-up e-mail.",
    "Buyer did not show up.",
];

pub(crate) const NOTES_TOO_EARLY: [&str; 2] = [
    "Asked for the signature; they are not ready and want to revisit the scope.",
    "Pushed for the contract; buyer stepped back.",
];

pub(crate) const CHECK_IN_WHYS: [&str; 8] = [
    "Saving for a house with my partner.",
    "I want to make President's Club this year.",
    "Paying off my student loans by summer.",
    "I want to be the team's top seller.",
    "Taking my family on a long trip.",
    "Proving I'm ready to lead a team.",
    "Building a cushion so I can start a business one day.",
    "My kids' college fund.",
];

pub(crate) const CHECK_IN_OBSTACLES: [&str; 6] = [
    "Two big deals slipped to next month.",
    "Too much admin; not enough time with buyers.",
    "Pipeline is thin after the summer.",
    "Waiting on legal for three contracts.",
    "Buyers keep going quiet after the demo.",
    "Onboarding a new account took the whole week.",
];
