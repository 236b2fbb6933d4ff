//! A node of a retired cluster closes its mailbox and service record.

use anchor_lang::prelude::*;

use crate::constants::{SEED_DKG, SEED_NODE};
use crate::error::MedshareError;
use crate::events::AccountClosed;
use crate::state::{Cluster, ClusterStatus, DkgMailbox, NodeRecord};

/// Accounts of `close_node_accounts`.
#[derive(Accounts)]
pub struct CloseNodeAccounts<'info> {
    /// The node authority; gets the rent back (it paid both at `register_node`).
    #[account(mut)]
    pub node: Signer<'info>,
    /// The cluster (retired).
    pub cluster: Account<'info, Cluster>,
    /// The node's DKG mailbox.
    #[account(
        mut,
        seeds = [SEED_DKG, cluster.key().as_ref(), &[node_record.index]],
        bump = mailbox.bump,
        has_one = cluster @ MedshareError::WrongCluster,
        close = node,
    )]
    pub mailbox: Account<'info, DkgMailbox>,
    /// The node's service record.
    #[account(
        mut,
        seeds = [SEED_NODE, cluster.key().as_ref(), &[node_record.index]],
        bump = node_record.bump,
        has_one = cluster @ MedshareError::WrongCluster,
        has_one = node @ MedshareError::NotClusterNode,
        close = node,
    )]
    pub node_record: Account<'info, NodeRecord>,
}

impl CloseNodeAccounts<'_> {
    /// Only in a retired cluster (a live cluster reads both).
    pub fn validate(&self) -> Result<()> {
        require!(
            self.cluster.status == ClusterStatus::Retired,
            MedshareError::WrongClusterStatus
        );
        Ok(())
    }

    /// Closes both accounts; their record of contributions and faults stays
    /// in the chain's history.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CloseNodeAccounts>) -> Result<()> {
        let accs = &ctx.accounts;
        AccountClosed::emit::<DkgMailbox>(accs.mailbox.key(), accs.node.key())?;
        AccountClosed::emit::<NodeRecord>(accs.node_record.key(), accs.node.key())
    }
}
