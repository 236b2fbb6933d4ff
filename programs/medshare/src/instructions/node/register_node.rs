use anchor_lang::prelude::*;

use crate::constants::{SEED_DKG, SEED_NODE};
use crate::error::MedshareError;
use crate::events::NodeRegistered;
use crate::state::{Cluster, ClusterStatus, DkgMailbox, NodeRecord};
use crate::utils::accounts;

/// Accounts of `register_node`.
#[derive(Accounts)]
pub struct RegisterNode<'info> {
    /// The node authority the admin added; pays for its mailbox and record.
    #[account(mut)]
    pub node: Signer<'info>,
    /// The cluster.
    #[account(mut)]
    pub cluster: Account<'info, Cluster>,
    /// The node's DKG mailbox (created by the handler).
    /// CHECK: address fixed by the seeds; must not exist yet.
    #[account(
        mut,
        seeds = [SEED_DKG, cluster.key().as_ref(), &[(cluster.position_of(&node.key())? + 1) as u8]],
        bump
    )]
    pub mailbox: UncheckedAccount<'info>,
    /// The node's service record (created by the handler).
    /// CHECK: address fixed by the seeds; must not exist yet.
    #[account(
        mut,
        seeds = [SEED_NODE, cluster.key().as_ref(), &[(cluster.position_of(&node.key())? + 1) as u8]],
        bump
    )]
    pub node_record: UncheckedAccount<'info>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl RegisterNode<'_> {
    /// While registering; the node was added and has not registered yet.
    pub fn validate(&self) -> Result<()> {
        require!(
            self.cluster.status == ClusterStatus::Registering,
            MedshareError::WrongClusterStatus
        );
        let pos = self.cluster.position_of(&self.node.key())?;
        require!(
            !self.cluster.nodes[pos].registered,
            MedshareError::NodeAlreadyRegistered
        );
        Ok(())
    }

    /// Records the transport key; the DKG starts once all `n` registered.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<RegisterNode>, transport_key: [u8; 32]) -> Result<()> {
        let pos = ctx.accounts.cluster.position_of(&ctx.accounts.node.key())?;
        // An X25519 key: any 32 bytes but the known low-order encodings are
        // accepted; nodes refuse a non-contributory DH result themselves.
        require!(transport_key != [0u8; 32], MedshareError::InvalidPoint);
        let cluster_key = ctx.accounts.cluster.key();
        let index = (pos + 1) as u8;
        const MAILBOX_SPACE: usize = 8 + DkgMailbox::INIT_SPACE;
        let mut mailbox: DkgMailbox = accounts::blank()?;
        mailbox.cluster = cluster_key;
        mailbox.index = index;
        mailbox.bump = ctx.bumps.mailbox;
        mailbox.invariant()?;
        const RECORD_SPACE: usize = 8 + NodeRecord::INIT_SPACE;
        let mut record: NodeRecord = accounts::blank()?;
        record.cluster = cluster_key;
        record.node = ctx.accounts.node.key();
        record.index = index;
        record.bump = ctx.bumps.node_record;
        record.invariant()?;
        let accs = &ctx.accounts;
        accounts::create(
            &accs.mailbox,
            &accs.node,
            &accs.system_program,
            &[SEED_DKG, cluster_key.as_ref(), &[index], &[mailbox.bump]],
            MAILBOX_SPACE,
            &mailbox,
        )?;
        accounts::create(
            &accs.node_record,
            &accs.node,
            &accs.system_program,
            &[SEED_NODE, cluster_key.as_ref(), &[index], &[record.bump]],
            RECORD_SPACE,
            &record,
        )?;
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
