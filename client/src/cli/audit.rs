//! `audit`: a record's trail as a table, CSV or JSON.

use std::fmt;

use serde::Serialize;
use solana_sdk::signature::Signer;

use super::{Ctx, Format};
use crate::error::Result;
use crate::user::audit::{self, AuditEvent};
use crate::wallet;

/// `audit`: every event of a record, oldest first.
#[derive(Debug)]
pub struct Trail {
    /// The events.
    pub events: Vec<AuditEvent>,
    /// How the text renders (`--format`; `json` with `--json`).
    pub format: Format,
}

/// As JSON, the trail is the array of its events.
impl Serialize for Trail {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.events.serialize(s)
    }
}

impl fmt::Display for Trail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.format {
            Format::Csv => write!(f, "{}", audit::to_csv(&self.events)),
            Format::Json => write!(
                f,
                "{}",
                serde_json::to_string_pretty(&self.events).expect("JSON")
            ),
            Format::Table => {
                let mut table = format!(
                    "{:>8}  {:<22}  {:<46}  {}\n",
                    "slot", "event", "actor", "detail"
                );
                for event in &self.events {
                    table.push_str(&format!(
                        "{:>8}  {:<22}  {:<46}  {}\n",
                        event.slot, event.event, event.actor, event.detail
                    ));
                }
                write!(f, "{}", table.trim_end())
            }
        }
    }
}

/// The trail of a record named by address, or by id among this wallet's records.
pub async fn audit(ctx: &Ctx, record: &str, format: Format) -> Result<Trail> {
    let keypair = wallet::load_wallet(&ctx.wallet_path)?;
    let address = ctx.record_of(&keypair.pubkey(), record)?;
    let events = audit::trail(ctx.chain.as_ref(), &address).await?;
    Ok(Trail { events, format })
}
