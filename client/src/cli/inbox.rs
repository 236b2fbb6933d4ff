//! `inbox` and `decrypt`: the recipient's side of a share.

use std::fmt;

use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

use super::{data_json, Ctx};
use crate::data::{group_names, PatientData};
use crate::error::Result;

/// One share addressed to this user.
#[derive(Debug, Serialize)]
pub struct InboxItem {
    /// The share result.
    pub share: String,
    /// The record.
    pub record: String,
    /// Its owner.
    pub owner: String,
    /// The field groups shared.
    pub groups: Vec<&'static str>,
    /// Whether the cluster finished.
    pub completed: bool,
    /// The record version it opens.
    pub version: u32,
}

/// `inbox`: shares addressed to this user, newest first.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Inbox(pub Vec<InboxItem>);

impl fmt::Display for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "no shares addressed to you");
        }
        let lines: Vec<String> = self
            .0
            .iter()
            .map(|i| {
                format!(
                    "{}  from {}  [{}]  {}",
                    i.share,
                    i.owner,
                    i.groups.join(", "),
                    if i.completed { "ready" } else { "pending" }
                )
            })
            .collect();
        write!(f, "{}", lines.join("\n"))
    }
}

/// Lists the shares of `cluster` addressed to this user's key or wallet.
pub async fn inbox(ctx: &Ctx, cluster: &Pubkey) -> Result<Inbox> {
    let c = ctx.client()?;
    let items = c.inbox(cluster).await?;
    Ok(Inbox(
        items
            .into_iter()
            .map(|(a, r)| InboxItem {
                share: a.to_string(),
                record: r.record.to_string(),
                owner: r.owner.to_string(),
                groups: r.groups.iter().flat_map(|g| group_names(1 << g)).collect(),
                completed: r.completed,
                version: r.record_version,
            })
            .collect(),
    ))
}

/// `decrypt`: a share opened with this user's key.
#[derive(Debug, Serialize)]
pub struct Decrypted {
    /// The record.
    pub record: String,
    /// Its owner.
    pub owner: String,
    /// The record version.
    pub version: u32,
    /// The shared fields (only those).
    pub data: PatientData,
}

impl fmt::Display for Decrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {} of {} (version {})\n{}",
            self.record,
            self.owner,
            self.version,
            data_json(&self.data)
        )
    }
}

/// Opens a completed share addressed to this user.
pub async fn decrypt(ctx: &Ctx, share: &Pubkey) -> Result<Decrypted> {
    let c = ctx.client()?;
    let o = c.decrypt(share).await?;
    Ok(Decrypted {
        record: o.record.to_string(),
        owner: o.owner.to_string(),
        version: o.version,
        data: o.data,
    })
}
