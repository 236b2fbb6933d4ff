//! `inbox` and `decrypt`: the recipient's side of a share.

use std::fmt;

use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

use super::records::out_files;
use super::OutArgs;
use super::{data_json, Ctx};
use crate::contents::Contents;
use crate::data::{group_names, PatientData};
use crate::error::{ClientError, Result};
use crate::user::files::{self, Extras};

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

/// `decrypt`: shares opened with this user's key.
#[derive(Debug, Serialize)]
pub struct Decrypted {
    /// The record.
    pub record: String,
    /// Its owner.
    pub owner: String,
    /// The record version.
    pub version: u32,
    /// The groups received.
    pub groups: Vec<&'static str>,
    /// The shared simple fields (only those).
    pub data: PatientData,
    /// Shared FHIR resources and attachments.
    #[serde(flatten)]
    pub extras: Extras,
}

impl fmt::Display for Decrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {} of {} (version {}): [{}]\n{}{}",
            self.record,
            self.owner,
            self.version,
            self.groups.join(", "),
            data_json(&self.data),
            self.extras
        )
    }
}

/// Opens completed shares addressed to this user (several shares of the
/// same record version merge) and writes the files asked for.
pub async fn decrypt(ctx: &Ctx, shares: &[Pubkey], out: &OutArgs) -> Result<Decrypted> {
    let c = ctx.client()?;
    let mut opened = Vec::with_capacity(shares.len());
    for s in shares {
        opened.push(c.decrypt(s).await?);
    }
    let first = &opened[0];
    if let Some(o) = opened
        .iter()
        .find(|o| o.record != first.record || o.version != first.version)
    {
        return Err(ClientError::SharesDiffer(format!(
            "{} version {} and {} version {}",
            first.record, first.version, o.record, o.version
        )));
    }
    let (record, owner, version) = (first.record, first.owner, first.version);
    let mut mask = 0u8;
    let mut contents = Contents::default();
    for o in opened {
        for g in &o.groups {
            mask |= 1 << g;
        }
        contents.extend(o.contents);
    }
    let extras = files::save(&c, &record, &contents, &out_files(out)).await?;
    Ok(Decrypted {
        record: record.to_string(),
        owner: owner.to_string(),
        version,
        groups: group_names(mask),
        data: contents.data,
        extras,
    })
}
