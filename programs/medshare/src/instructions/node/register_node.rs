use anchor_lang::prelude::*;

use crate::constants::{SEED_DKG, SEED_NODE};
use crate::error::MedshareError;
use crate::events::NodeRegistered;
use crate::state::{Cluster, ClusterStatus, DkgMailbox, NodeRecord};

/// Accounts of `register_node`.
#[derive(Accounts)]
pub struct RegisterNode<'info> {
    /// The node authority the admin added; pays for its mailbox and record.
    #[account(mut)]
    pub node: Signer<'info>,
    /// The cluster.
    #[account(mut)]
    pub cluster: Account<'info, Cluster>,
    /// The node's DKG mailbox.
    #[account(
        init,
        payer = node,
        space = 8 + DkgMailbox::INIT_SPACE,
        seeds = [SEED_DKG, cluster.key().as_ref(), &[(cluster.position_of(&node.key())? + 1) as u8]],
        bump
    )]
    pub mailbox: Account<'info, DkgMailbox>,
    /// The node's service record.
    #[account(
        init,
        payer = node,
        space = 8 + NodeRecord::INIT_SPACE,
        seeds = [SEED_NODE, cluster.key().as_ref(), &[(cluster.position_of(&node.key())? + 1) as u8]],
        bump
    )]
    pub node_record: Account<'info, NodeRecord>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl RegisterNode<'_> {
    /// While registering; the node was added and has not registered yet.
    pub fn validate(&self) -> Result<usize> {
        require!(
            self.cluster.status == ClusterStatus::Registering,
            MedshareError::WrongClusterStatus
        );
        let pos = self.cluster.position_of(&self.node.key())?;
        require!(
            !self.cluster.nodes[pos].registered,
            MedshareError::NodeAlreadyRegistered
        );
        Ok(pos)
    }

    /// Records the transport key; the DKG starts once all `n` registered.
    pub fn handler(ctx: Context<RegisterNode>, transport_key: [u8; 32]) -> Result<()> {
        let pos = ctx.accounts.validate()?;
        // An X25519 key: any 32 bytes but the known low-order encodings are
        // accepted; nodes refuse a non-contributory DH result themselves.
        require!(transport_key != [0u8; 32], MedshareError::InvalidPoint);
        let cluster_key = ctx.accounts.cluster.key();
        let mailbox = &mut ctx.accounts.mailbox;
        mailbox.cluster = cluster_key;
        mailbox.index = (pos + 1) as u8;
        mailbox.round1 = Vec::new();
        mailbox.round2 = Vec::new();
        mailbox.bump = ctx.bumps.mailbox;
        mailbox.invariant()?;
        let record = &mut ctx.accounts.node_record;
        record.cluster = cluster_key;
        record.node = ctx.accounts.node.key();
        record.index = (pos + 1) as u8;
        record.contributions = 0;
        record.faults = 0;
        record.bump = ctx.bumps.node_record;
        record.invariant()?;
        let cluster = &mut ctx.accounts.cluster;
        cluster.nodes[pos].registered = true;
        cluster.nodes[pos].transport_key = transport_key;
        if cluster.nodes.len() == cluster.size as usize
            && cluster.nodes.iter().all(|n| n.registered)
        {
            cluster.status = ClusterStatus::Dkg;
        }
        cluster.invariant()?;
        crate::emit_event!(NodeRegistered {
            cluster: cluster_key,
            index: (pos + 1) as u8,
            transport_key,
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}
