//! Shares: to whom, the request, waiting for the nodes, cancelling,
//! closing, and opening what was received.

use std::time::{Duration, Instant};

use anchor_lang::error::ErrorCode;
use encrypted_ixs::capsule::open;
use encrypted_ixs::keys::UserPublicKey;
use encrypted_ixs::point::Point;
use encrypted_ixs::record::open_group_with;
use medshare::state::{Cluster, Identity, ShareResult};
use medshare_sdk::chain::fetch;
use medshare_sdk::codec::record_ctx;
use medshare_sdk::codec::stored_to_sealed;
use medshare_sdk::ix::{self, ShareAccounts};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;

use crate::contents::Contents;
use crate::error::{ClientError, Result};

use super::Client;

/// How many times a request is sent again when another request took the
/// cluster's next computation id first.
pub const COMPUTATION_ID_RETRIES: usize = 5;

/// How often [`Client::wait`] reads the share's accounts when no
/// transaction touching them lands.
pub const WAIT_POLL: Duration = Duration::from_millis(100);

/// Who a share is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// Edwards form of the recipient's X25519 key.
    pub key: Point,
    /// Their wallet, if known (for their inbox).
    pub wallet: Option<Pubkey>,
}

/// A queued share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShareTicket {
    /// The computation account.
    pub computation: Pubkey,
    /// The share result account.
    pub share_result: Pubkey,
}

/// A decrypted share.
#[derive(Clone, Debug)]
pub struct OpenedShare {
    /// The record.
    pub record: Pubkey,
    /// Its owner.
    pub owner: Pubkey,
    /// Record version.
    pub version: u32,
    /// Groups received.
    pub groups: Vec<u8>,
    /// The contents of those groups.
    pub contents: Contents,
}

impl Client {
    /// Resolves a recipient: a wallet with a registered identity, or an X25519 key.
    pub async fn resolve_recipient(&self, who: &str) -> Result<Recipient> {
        let who = who.trim();
        if who.len() == 64 && who.chars().all(|c| c.is_ascii_hexdigit()) {
            let bad_key = || ClientError::BadRecipientKey(who.to_string());
            let bytes = hex::decode(who).map_err(|_| bad_key())?;
            let key = UserPublicKey::from_slice(&bytes)
                .and_then(|key| key.edwards())
                .map_err(|_| bad_key())?;
            return Ok(Recipient { key, wallet: None });
        }
        let wallet: Pubkey = who
            .parse()
            .map_err(|_| ClientError::BadRecipient(who.to_string()))?;
        let id: Identity = fetch(self.chain.as_ref(), &medshare::pda::identity(&wallet))
            .await?
            .ok_or_else(|| ClientError::NoIdentity(wallet.to_string()))?;
        Ok(Recipient {
            key: Point(id.encryption_key),
            wallet: Some(wallet),
        })
    }

    /// Queues a share of `group_mask` of `record` for `to`.
    pub async fn share(
        &self,
        record: &Pubkey,
        group_mask: u8,
        to: Recipient,
    ) -> Result<ShareTicket> {
        let account = self.record(record).await?;
        // A record with a provider policy needs the recipient's identity and
        // registry entries (the program checks them).
        let registry = match to.wallet {
            Some(wallet) => self.registry_for(&account, &wallet).await?,
            None => None,
        };
        let recipient_identity = match (account.required_roles != 0, to.wallet) {
            (true, Some(wallet)) => Some(medshare::pda::identity(&wallet)),
            _ => None,
        };
        let mut last = None;
        // The computation id is the cluster's counter; retry if another request took it first.
        for _ in 0..COMPUTATION_ID_RETRIES {
            let cluster: Cluster = fetch(self.chain.as_ref(), &account.cluster)
                .await?
                .ok_or_else(|| ClientError::ClusterNotFound(account.cluster.to_string()))?;
            let (ix, computation, share_result) = ix::share_patient_data(
                self.wallet.pubkey(),
                *record,
                account.cluster,
                cluster.next_computation,
                medshare::instructions::ShareArgs {
                    group_mask,
                    recipient: to.key.0,
                    recipient_wallet: to.wallet,
                },
                ShareAccounts {
                    recipient_identity,
                    registry,
                },
            );
            match self.chain.send(&[ix], &[&self.wallet]).await {
                Ok(_) => {
                    return Ok(ShareTicket {
                        computation,
                        share_result,
                    })
                }
                // Anchor's ConstraintSeeds: the counter moved on.
                Err(e) if matches!(e.anchor(), Some(ErrorCode::ConstraintSeeds)) => last = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last
            .map(ClientError::from)
            .unwrap_or(ClientError::Invalid("share failed".into())))
    }

    /// Waits until the cluster fills the share result. `progress` is called
    /// with the number of contributions so far and the threshold.
    ///
    /// It reads the accounts again as soon as a transaction that mentions
    /// the computation lands (a subscription), and every [`WAIT_POLL`]
    /// in any case.
    pub async fn wait(
        &self,
        ticket: &ShareTicket,
        timeout: Duration,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<ShareResult> {
        let start = Instant::now();
        // Subscribed before the first read, so nothing lands unnoticed in
        // between; an endpoint slow to open a subscription only means polling.
        let mut notices =
            tokio::time::timeout(WAIT_POLL * 20, self.chain.subscribe(&ticket.computation))
                .await
                .ok()
                .and_then(|subscription| subscription.ok());
        loop {
            if let Some(result) =
                fetch::<ShareResult>(self.chain.as_ref(), &ticket.share_result).await?
            {
                if result.completed {
                    return Ok(result);
                }
            } else {
                return Err(ClientError::ShareNotFound(ticket.share_result.to_string()));
            }
            match fetch::<medshare::state::Computation>(self.chain.as_ref(), &ticket.computation)
                .await?
            {
                Some(comp) => {
                    let cluster: Option<Cluster> =
                        fetch(self.chain.as_ref(), &comp.cluster).await?;
                    progress(
                        comp.contributors.len(),
                        cluster
                            .map(|cluster| cluster.threshold as usize)
                            .unwrap_or(0),
                    );
                    if self.chain.slot().await? > comp.expiry_slot {
                        return Err(ClientError::Expired);
                    }
                }
                None => {
                    // Closed: finalized (read again) or cancelled.
                    if let Some(result) =
                        fetch::<ShareResult>(self.chain.as_ref(), &ticket.share_result).await?
                    {
                        if result.completed {
                            return Ok(result);
                        }
                    }
                    return Err(ClientError::Expired);
                }
            }
            if start.elapsed() > timeout {
                return Err(ClientError::Timeout(timeout.as_secs()));
            }
            match notices.as_mut() {
                Some(rx) => match tokio::time::timeout(WAIT_POLL, rx.recv()).await {
                    // One read covers every notice already queued.
                    Ok(Some(_)) => while rx.try_recv().is_ok() {},
                    Ok(None) => notices = None,
                    Err(_) => {}
                },
                None => tokio::time::sleep(WAIT_POLL).await,
            }
        }
    }

    /// Cancels an expired share (rent back).
    pub async fn cancel(&self, ticket: &ShareTicket) -> Result<()> {
        // Without the computation account the program can only answer with
        // Anchor's AccountNotInitialized ("refused by the program (error code
        // 3012)", exit 1). Say what happened instead: the share completed (the
        // callback closed the computation and kept the result), or there is
        // no such request (never made, or cancelled already: exit NOT_FOUND).
        let comp =
            fetch::<medshare::state::Computation>(self.chain.as_ref(), &ticket.computation).await?;
        if comp.is_none() {
            return Err(
                match fetch::<ShareResult>(self.chain.as_ref(), &ticket.share_result).await? {
                    Some(result) if result.completed => {
                        ClientError::AlreadyCompleted(ticket.share_result.to_string())
                    }
                    _ => ClientError::ShareNotFound(ticket.share_result.to_string()),
                },
            );
        }
        let ix = ix::cancel_share(
            self.wallet.pubkey(),
            ticket.computation,
            ticket.share_result,
        );
        self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok(())
    }

    /// Closes a completed share result, as its requester or its recipient
    /// wallet; the rent (returned as lamports, with who got it) goes to the
    /// requester. The recipient can no longer fetch the share afterwards.
    pub async fn close_share(&self, share_result: &Pubkey) -> Result<(u64, Pubkey)> {
        let not_found = || ClientError::ShareNotFound(share_result.to_string());
        let acc = self
            .chain
            .accounts(std::slice::from_ref(share_result))
            .await?
            .into_iter()
            .next()
            .flatten()
            .ok_or_else(not_found)?;
        let result: ShareResult = fetch(self.chain.as_ref(), share_result)
            .await?
            .ok_or_else(not_found)?;
        let ix = ix::close_share_result(
            self.wallet.pubkey(),
            *share_result,
            result.requester,
            result.record,
        );
        self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok((acc.lamports, result.requester))
    }

    /// Opens a completed share addressed to this user's key.
    pub async fn decrypt(&self, share_result: &Pubkey) -> Result<OpenedShare> {
        let result: ShareResult = fetch(self.chain.as_ref(), share_result)
            .await?
            .ok_or_else(|| ClientError::ShareNotFound(share_result.to_string()))?;
        if !result.completed {
            return Err(ClientError::SharePending(share_result.to_string()));
        }
        if result.recipient != self.encryption_key().0 {
            return Err(ClientError::WrongKey);
        }
        let rec = self.record(&result.record).await?;
        if rec.version != result.record_version {
            return Err(ClientError::RecordChanged {
                shared: result.record_version,
                now: rec.version,
            });
        }
        let mut plain = Vec::new();
        for (group, cap) in result.groups.iter().zip(&result.capsules) {
            let stored = rec.group(*group).ok_or(ClientError::GroupGone(*group))?;
            let secret = open(&(*cap).into(), &self.key).map_err(|_| ClientError::WrongKey)?;
            let plaintext = open_group_with(
                &stored_to_sealed(stored),
                &secret,
                &record_ctx(&rec.owner, &result.record, *group),
                result.record_version,
            )
            .map_err(|_| ClientError::WrongKey)?;
            plain.push(plaintext);
        }
        Ok(OpenedShare {
            record: result.record,
            owner: result.owner,
            version: result.record_version,
            groups: result.groups.clone(),
            contents: self.contents_of(&result.record, &plain, "shared").await?,
        })
    }
}
