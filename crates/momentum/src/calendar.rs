//! `momentum calendar feed|revoke|export`: the acting seller's private iCalendar feed.

use clap::Subcommand;
use jiff::Timestamp;
use momentum_store::ops::Session;
use momentum_store::Store;

use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Make a new private feed URL for your next steps (the old one stops working); shown once.
    Feed {
        /// Where `momentum serve` is reached.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base_url: String,
    },
    /// Stop your feed URL from working.
    Revoke,
    /// Print your next steps as an iCalendar file.
    Export,
}

pub fn run(store: &mut Store, s: &Session, command: CalendarCommand, out: &mut Out) -> anyhow::Result<()> {
    let now = Timestamp::now();
    match command {
        CalendarCommand::Feed { base_url } => {
            let (token, hash) = momentum_web::calendar::new_token(s.org.id);
            momentum_store::calendar::new_feed(store, s, &hash, now)?;
            let url = format!("{}/calendar/{token}.ics", base_url.trim_end_matches('/'));
            out.show(&serde_json::json!({ "url": url }), |_| {
                format!("Subscribe to this URL in your calendar (shown once; anyone holding it sees your next steps):\n{url}")
            })?;
        }
        CalendarCommand::Revoke => {
            momentum_store::calendar::revoke_feed(store, s, now)?;
            out.show(&serde_json::json!({ "revoked": true }), |_| {
                "Your calendar feed URL no longer works.".to_owned()
            })?;
        }
        CalendarCommand::Export => {
            let events = momentum_store::calendar::events(store, s)?;
            let text = momentum_web::calendar::ics(&s.org, &s.user, &events);
            out.raw(&text)?;
        }
    }
    Ok(())
}
