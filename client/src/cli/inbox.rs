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
            .map(|item| {
                format!(
                    "{}  from {}  [{}]  {}",
                    item.share,
                    item.owner,
                    item.groups.join(", "),
                    if item.completed { "ready" } else { "pending" }
                )
            })
            .collect();
        write!(f, "{}", lines.join("\n"))
    }
}

/// Lists the shares of `cluster` addressed to this user's key or wallet.
pub async fn inbox(ctx: &Ctx, cluster: &Pubkey) -> Result<Inbox> {
    let client = ctx.client()?;
    let items = client.inbox(cluster).await?;
    Ok(Inbox(
        items
            .into_iter()
            .map(|(address, result)| InboxItem {
                share: address.to_string(),
                record: result.record.to_string(),
                owner: result.owner.to_string(),
                groups: result
                    .groups
                    .iter()
                    .flat_map(|group| group_names(1 << group))
                    .collect(),
                completed: result.completed,
                version: result.record_version,
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
    let client = ctx.client()?;
    let mut opened = Vec::with_capacity(shares.len());
    for share in shares {
        opened.push(client.decrypt(share).await?);
    }
    let first = &opened[0];
    if let Some(other) = opened
        .iter()
        .find(|share| share.record != first.record || share.version != first.version)
    {
        return Err(ClientError::SharesDiffer(format!(
            "{} version {} and {} version {}",
            first.record, first.version, other.record, other.version
        )));
    }
    let (record, owner, version) = (first.record, first.owner, first.version);
    let mut mask = 0u8;
    let mut contents = Contents::default();
    for share in opened {
        for group in &share.groups {
            mask |= 1 << group;
        }
        contents.extend(share.contents);
    }
    let extras = files::save(&client, &record, &contents, &out_files(out)).await?;
    Ok(Decrypted {
        record: record.to_string(),
        owner: owner.to_string(),
        version,
        groups: group_names(mask),
        data: contents.data,
        extras,
    })
}
