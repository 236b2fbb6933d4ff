//! `consent grant|modify|revoke|close|list`: the owner's consents on a record.

use std::fmt;

use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

use super::{ConsentCommand, Ctx};
use crate::data::{group_names, parse_groups};
use crate::error::{ClientError, Result};

/// What a consent command did or found.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ConsentOutput {
    /// `grant` / `modify`: the consent as it now stands.
    Granted {
        /// The record.
        record: String,
        /// The grantee.
        grantee: String,
        /// The groups it covers.
        groups: Vec<&'static str>,
        /// Its end (unix seconds).
        expires_at: i64,
        /// Granted (`true`) or changed.
        #[serde(skip)]
        new: bool,
    },
    /// `revoke`.
    Revoked {
        /// The record.
        record: String,
        /// The grantee.
        grantee: String,
        /// Always `true`.
        revoked: bool,
    },
    /// `close`.
    Closed {
        /// The record.
        record: String,
        /// The grantee.
        grantee: String,
        /// Always `true`.
        closed: bool,
    },
    /// `list`.
    List(ConsentList),
}

/// One consent, as `consent list` shows it.
#[derive(Debug, Serialize)]
pub struct ConsentEntry {
    /// The grantee.
    pub grantee: String,
    /// The groups it covers.
    pub groups: Vec<&'static str>,
    /// Its purpose.
    pub purpose: String,
    /// Its end (unix seconds).
    pub expires_at: i64,
    /// `active`, `expired` or `revoked`, at the chain's time.
    pub state: &'static str,
    /// Shares requested under it.
    pub uses: u32,
}

/// Every consent on a record (in JSON, the array of them).
#[derive(Debug)]
pub struct ConsentList {
    /// The record.
    pub record: String,
    /// Its consents.
    pub consents: Vec<ConsentEntry>,
}

impl Serialize for ConsentList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.consents.serialize(s)
    }
}

impl fmt::Display for ConsentOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsentOutput::Granted {
                record,
                grantee,
                groups,
                expires_at,
                new,
            } => write!(
                f,
                "{} {grantee}: [{}] of {record} until unix time {expires_at}",
                if *new {
                    "consent granted to"
                } else {
                    "consent changed for"
                },
                groups.join(", ")
            ),
            ConsentOutput::Revoked { record, grantee, .. } => write!(
                f,
                "consent of {grantee} on {record} revoked: no further request or node contribution under it (a share already delivered, or with t contributions in, cannot be recalled)"
            ),
            ConsentOutput::Closed { record, grantee, .. } => write!(
                f,
                "consent of {grantee} on {record} closed; its rent is back in your wallet"
            ),
            ConsentOutput::List(ConsentList { record, consents }) => {
                if consents.is_empty() {
                    return write!(f, "no consents on {record}");
                }
                let lines: Vec<String> = consents
                    .iter()
                    .map(|consent| {
                        format!(
                            "{}  [{}]  \"{}\"  until {}  {}  used {}",
                            consent.grantee,
                            consent.groups.join(", "),
                            consent.purpose,
                            consent.expires_at,
                            consent.state,
                            consent.uses
                        )
                    })
                    .collect();
                write!(f, "{}", lines.join("\n"))
            }
        }
    }
}

/// The chain's time plus `hours` (positive, finite).
async fn hours_from_now(ctx: &Ctx, hours: f64) -> Result<i64> {
    if !(hours > 0.0 && hours.is_finite()) {
        return Err(ClientError::BadHours(hours));
    }
    let now = medshare_sdk::chain::chain_time(ctx.chain.as_ref()).await?;
    Ok(now + (hours * 3600.0).round() as i64)
}

/// Runs one consent command as the record's owner.
pub async fn run(ctx: &Ctx, cmd: &ConsentCommand) -> Result<ConsentOutput> {
    let client = ctx.client()?;
    let pair = |record: &str, to: &Pubkey| -> Result<(Pubkey, String, String)> {
        let address = ctx.record(&client, record)?;
        Ok((address, address.to_string(), to.to_string()))
    };
    match cmd {
        ConsentCommand::Grant {
            record,
            to,
            groups,
            purpose,
            hours,
        }
        | ConsentCommand::Modify {
            record,
            to,
            groups,
            purpose,
            hours,
        } => {
            let (address, record, grantee) = pair(record, to)?;
            let mask = parse_groups(groups).map_err(ClientError::BadGroups)?;
            let until = hours_from_now(ctx, *hours).await?;
            let new = matches!(cmd, ConsentCommand::Grant { .. });
            if new {
                client
                    .grant_consent(&address, to, mask, purpose, until)
                    .await?;
            } else {
                client
                    .modify_consent(&address, to, mask, purpose, until)
                    .await?;
            }
            Ok(ConsentOutput::Granted {
                record,
                grantee,
                groups: group_names(mask),
                expires_at: until,
                new,
            })
        }
        ConsentCommand::Revoke { record, to } => {
            let (address, record, grantee) = pair(record, to)?;
            client.revoke_consent(&address, to).await?;
            Ok(ConsentOutput::Revoked {
                record,
                grantee,
                revoked: true,
            })
        }
        ConsentCommand::Close { record, to } => {
            let (address, record, grantee) = pair(record, to)?;
            client.close_consent(&address, to).await?;
            Ok(ConsentOutput::Closed {
                record,
                grantee,
                closed: true,
            })
        }
        ConsentCommand::List { record } => {
            let address = ctx.record(&client, record)?;
            let list = client.consents(&address).await?;
            let now = medshare_sdk::chain::chain_time(ctx.chain.as_ref()).await?;
            let consents = list
                .into_iter()
                .map(|(_, consent)| ConsentEntry {
                    grantee: consent.grantee.to_string(),
                    groups: group_names(consent.group_mask),
                    state: if consent.revoked {
                        "revoked"
                    } else if now >= consent.expires_at {
                        "expired"
                    } else {
                        "active"
                    },
                    purpose: consent.purpose,
                    expires_at: consent.expires_at,
                    uses: consent.uses,
                })
                .collect();
            Ok(ConsentOutput::List(ConsentList {
                record: address.to_string(),
                consents,
            }))
        }
    }
}
