use anchor_lang::prelude::*;

use crate::error::MedshareError;
use crate::events::NodeAdded;
use crate::state::{Cluster, ClusterStatus, NodeInfo};

/// Accounts of `add_node`.
#[derive(Accounts)]
pub struct AddNode<'info> {
    /// The cluster admin.
    pub admin: Signer<'info>,
    /// The cluster.
    #[account(mut, has_one = admin @ MedshareError::NotAdmin)]
    pub cluster: Account<'info, Cluster>,
}

impl AddNode<'_> {
    /// Only while registering, room left, authority not yet present.
    pub fn validate(&self, authority: &Pubkey) -> Result<()> {
        require!(
            self.cluster.status == ClusterStatus::Registering,
            MedshareError::WrongClusterStatus
        );
        require!(
            self.cluster.nodes.len() < self.cluster.size as usize,
            MedshareError::ClusterFull
        );
        require!(
            self.cluster.position_of(authority).is_err(),
            MedshareError::NodeAlreadyAdded
        );
        Ok(())
    }

    /// Appends the node; its index is its position + 1.
    #[access_control(ctx.accounts.validate(&authority))]
    pub fn handler(ctx: Context<AddNode>, authority: Pubkey) -> Result<()> {
        let cluster = &mut ctx.accounts.cluster;
        cluster.nodes.push(NodeInfo::unregistered(authority));
        cluster.invariant()?;
        crate::emit_event!(NodeAdded {
            cluster: cluster.key(),
            authority,
            index: cluster.nodes.len() as u8,
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}
