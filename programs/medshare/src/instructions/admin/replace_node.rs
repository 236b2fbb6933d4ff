//! The admin replaces a node before the cluster has its key.
//!
//! One node can keep a DKG from ever finishing: by staying silent, by a
//! false complaint, or by confirming a key nobody else computed; and a
//! restart keeps the same members. While the DKG has not succeeded
//! (`Dkg` or `Failed`), the admin can hand the node's index to a new
//! authority: the old node's mailbox and service record are closed (their
//! rent back to it), the cluster goes back to `Registering` with a new DKG
//! attempt, and once the new node registers the DKG runs again with it.
//! A ready cluster's committee never changes this way (its key is held).

use anchor_lang::prelude::*;

use crate::constants::{SEED_DKG, SEED_NODE};
use crate::error::MedshareError;
use crate::events::{AccountClosed, NodeReplaced};
use crate::state::{Cluster, ClusterStatus, DkgMailbox, NodeInfo, NodeRecord};

/// Accounts of `replace_node`.
#[derive(Accounts)]
#[instruction(index: u8)]
pub struct ReplaceNode<'info> {
    /// The cluster admin.
    pub admin: Signer<'info>,
    /// The cluster (DKG running or failed).
    #[account(mut, has_one = admin @ MedshareError::NotAdmin)]
    pub cluster: Account<'info, Cluster>,
    /// The replaced node's authority: gets its accounts' rent back.
    /// CHECK: must be the authority at `index` (checked in `validate`).
    #[account(mut)]
    pub old_node: UncheckedAccount<'info>,
    /// The replaced node's DKG mailbox.
    #[account(
        mut,
        seeds = [SEED_DKG, cluster.key().as_ref(), &[index]],
        bump = mailbox.bump,
        close = old_node,
    )]
    pub mailbox: Account<'info, DkgMailbox>,
    /// The replaced node's service record.
    #[account(
        mut,
        seeds = [SEED_NODE, cluster.key().as_ref(), &[index]],
        bump = node_record.bump,
        close = old_node,
    )]
    pub node_record: Account<'info, NodeRecord>,
}

impl ReplaceNode<'_> {
    /// The DKG has not succeeded; `index` names a node; the new authority
    /// is not a node already.
    pub fn validate(&self, index: u8, authority: &Pubkey) -> Result<()> {
        let cluster = &self.cluster;
        require!(
            matches!(cluster.status, ClusterStatus::Dkg | ClusterStatus::Failed),
            MedshareError::WrongClusterStatus
        );
        let pos = (index as usize)
            .checked_sub(1)
            .filter(|p| *p < cluster.nodes.len())
            .ok_or(MedshareError::NotClusterNode)?;
        require_keys_eq!(
            self.old_node.key(),
            cluster.nodes[pos].authority,
            MedshareError::NotClusterNode
        );
        require!(
            cluster.position_of(authority).is_err(),
            MedshareError::NodeAlreadyAdded
        );
        Ok(())
    }

    /// Gives node `index` to `authority`, unregistered, and starts a new
    /// attempt; the cluster waits in `Registering` for it.
    #[access_control(ctx.accounts.validate(index, &authority))]
    pub fn handler(ctx: Context<ReplaceNode>, index: u8, authority: Pubkey) -> Result<()> {
        let accs = &ctx.accounts;
        let old = accs.old_node.key();
        AccountClosed::emit::<DkgMailbox>(accs.mailbox.key(), old)?;
        AccountClosed::emit::<NodeRecord>(accs.node_record.key(), old)?;
        let cluster = &mut ctx.accounts.cluster;
        cluster.reset_dkg()?;
        cluster.nodes[index as usize - 1] = NodeInfo::unregistered(authority);
        cluster.status = ClusterStatus::Registering;
        cluster.invariant()?;
        crate::emit_event!(NodeReplaced {
            cluster: cluster.key(),
            index,
            old,
            new: authority,
            dkg_attempt: cluster.dkg_attempt,
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}
