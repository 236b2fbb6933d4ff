//! `share`, `request`, `cancel` and `close-share`: a share's life from the
//! requester's side. `share` and `request` wait for the cluster through one
//! helper ([`wait_for`]) that reports `have/need` contributions.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

use super::Ctx;
use crate::data::{group_names, parse_groups, MAX_SHARE_GROUPS};
use crate::error::{ClientError, Result};
use crate::user::{Client, ShareTicket};

/// Whether and how long `share` and `request` wait for the cluster.
#[derive(Clone, Copy, Debug)]
pub enum Wait {
    /// Return once the request is queued.
    No,
    /// Wait for the callback, at most this long.
    For(Duration),
}

impl Wait {
    /// From `--no-wait` and `--timeout` (seconds).
    pub fn new(no_wait: bool, timeout_s: u64) -> Wait {
        if no_wait {
            Wait::No
        } else {
            Wait::For(Duration::from_secs(timeout_s))
        }
    }
}

/// Waits for `ticket`'s callback, reporting each new contribution count to
/// `progress` as `waiting for the cluster: have/need contributions`.
pub async fn wait_for(
    client: &Client,
    ticket: &ShareTicket,
    timeout: Duration,
    progress: &mut impl FnMut(&str),
) -> Result<()> {
    let mut last = usize::MAX;
    client
        .wait(ticket, timeout, |have, need| {
            if have != last {
                last = have;
                progress(&format!(
                    "waiting for the cluster: {have}/{need} contributions"
                ));
            }
        })
        .await
        .map(|_| ())
}

/// Whether a share is still with the cluster or done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShareStatus {
    /// Queued; the cluster has not finished.
    Pending,
    /// The callback landed: the recipient can decrypt.
    Completed,
}

/// Who asked: the owner pushing (`share`) or a grantee pulling (`request`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `share`: the owner's push.
    Push,
    /// `request`: a grantee's pull under consent.
    Pull,
}

/// `share` / `request`: a share queued, or completed.
#[derive(Debug, Serialize)]
pub struct ShareQueued {
    /// The computation account.
    pub computation: String,
    /// The share-result account (what the recipient decrypts).
    pub share_result: String,
    /// Pending or completed.
    pub status: ShareStatus,
    /// The field groups, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<&'static str>>,
    /// The record.
    #[serde(skip)]
    pub record: String,
    /// Push or pull.
    #[serde(skip)]
    pub direction: Direction,
}

impl fmt::Display for ShareQueued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups = self.groups.as_deref().unwrap_or_default().join(", ");
        match (self.direction, self.status) {
            (Direction::Push, ShareStatus::Pending) => write!(
                f,
                "share requested: computation {}, result {}",
                self.computation, self.share_result
            ),
            (Direction::Pull, ShareStatus::Pending) => write!(
                f,
                "request queued: computation {}, result {}",
                self.computation, self.share_result
            ),
            (Direction::Push, ShareStatus::Completed) => write!(
                f,
                "shared [{groups}] of {}: result {}",
                self.record, self.share_result
            ),
            (Direction::Pull, ShareStatus::Completed) => write!(
                f,
                "received [{groups}] of {}: decrypt with `medshare decrypt {}`",
                self.record, self.share_result
            ),
        }
    }
}

async fn finish(
    client: &Client,
    ticket: ShareTicket,
    record: String,
    mask: u8,
    direction: Direction,
    wait: Wait,
    progress: &mut impl FnMut(&str),
) -> Result<ShareQueued> {
    let status = match wait {
        Wait::No => ShareStatus::Pending,
        Wait::For(timeout) => {
            wait_for(client, &ticket, timeout, progress).await?;
            ShareStatus::Completed
        }
    };
    Ok(ShareQueued {
        computation: ticket.computation.to_string(),
        share_result: ticket.share_result.to_string(),
        status,
        groups: (status == ShareStatus::Completed).then(|| group_names(mask)),
        record,
        direction,
    })
}

/// The groups of one share: `all` is the record's written groups; at most
/// [`MAX_SHARE_GROUPS`] (what one node transaction carries).
async fn share_mask(client: &Client, record: &Pubkey, groups: &str) -> Result<u8> {
    let mut mask = parse_groups(groups).map_err(ClientError::BadGroups)?;
    if mask == u8::MAX {
        mask = client
            .record(record)
            .await?
            .groups
            .iter()
            .fold(0, |m, group| m | (1 << group.group));
    }
    if mask.count_ones() as usize > MAX_SHARE_GROUPS {
        return Err(ClientError::TooManyGroups(group_names(mask).join(",")));
    }
    Ok(mask)
}

/// The owner shares groups of a record with a recipient (wallet or key).
pub async fn share(
    ctx: &Ctx,
    record: &str,
    groups: &str,
    to: &str,
    wait: Wait,
    progress: &mut impl FnMut(&str),
) -> Result<ShareQueued> {
    let client = ctx.client()?;
    let address = ctx.record(&client, record)?;
    let mask = share_mask(&client, &address, groups).await?;
    let recipient = client.resolve_recipient(to).await?;
    let ticket = client.share(&address, mask, recipient).await?;
    finish(
        &client,
        ticket,
        address.to_string(),
        mask,
        Direction::Push,
        wait,
        progress,
    )
    .await
}

/// A grantee pulls groups of someone's record under its consent.
pub async fn request(
    ctx: &Ctx,
    record: &Pubkey,
    groups: &str,
    wait: Wait,
    progress: &mut impl FnMut(&str),
) -> Result<ShareQueued> {
    let client = ctx.client()?;
    let mask = share_mask(&client, record, groups).await?;
    let ticket = client.request(record, mask).await?;
    finish(
        &client,
        ticket,
        record.to_string(),
        mask,
        Direction::Pull,
        wait,
        progress,
    )
    .await
}

/// `cancel`: an expired share request cancelled.
#[derive(Debug, Serialize)]
pub struct Cancelled {
    /// The computation.
    pub cancelled: String,
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cancelled {}", self.cancelled)
    }
}

/// Cancels an expired share request (rent back to the requester).
pub async fn cancel(ctx: &Ctx, computation: &Pubkey) -> Result<Cancelled> {
    let client = ctx.client()?;
    let ticket = ShareTicket {
        computation: *computation,
        share_result: medshare::pda::share_result(computation),
    };
    client.cancel(&ticket).await?;
    Ok(Cancelled {
        cancelled: computation.to_string(),
    })
}

/// `close-share`: a completed share result closed.
#[derive(Debug, Serialize)]
pub struct ShareClosed {
    /// The share result.
    pub closed: String,
    /// Its rent, returned.
    pub rent_lamports: u64,
    /// Who got the rent (the requester).
    pub rent_to: String,
}

impl fmt::Display for ShareClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "closed {}: {} SOL back to {}",
            self.closed,
            self.rent_lamports as f64 / 1e9,
            self.rent_to
        )
    }
}

/// Closes a completed share result (as its requester or recipient).
pub async fn close(ctx: &Ctx, share: &Pubkey) -> Result<ShareClosed> {
    let client = ctx.client()?;
    let (lamports, requester) = client.close_share(share).await?;
    Ok(ShareClosed {
        closed: share.to_string(),
        rent_lamports: lamports,
        rent_to: requester.to_string(),
    })
}
