use anchor_lang::prelude::*;

use crate::constants::{MAX_ROUND1_LEN, SEED_DKG};
use crate::error::MedshareError;
use crate::events::{DkgStep, DkgStepKind};
use crate::state::{Cluster, ClusterStatus, DkgMailbox};

/// Accounts of `post_dkg_round1`.
#[derive(Accounts)]
pub struct PostDkgRound1<'info> {
    /// A node of the cluster.
    pub node: Signer<'info>,
    /// The cluster.
    #[account(mut)]
    pub cluster: Account<'info, Cluster>,
    /// The node's own mailbox.
    #[account(
        mut,
        seeds = [SEED_DKG, cluster.key().as_ref(), &[mailbox.index]],
        bump = mailbox.bump,
        constraint = mailbox.cluster == cluster.key() @ MedshareError::WrongCluster,
    )]
    pub mailbox: Account<'info, DkgMailbox>,
}

impl PostDkgRound1<'_> {
    /// During the DKG, once per node and attempt, into its own mailbox; an
    /// ephemeral key that is not all zeros.
    pub fn validate(&self, package: &[u8], ephemeral_key: &[u8; 32]) -> Result<()> {
        require!(
            self.cluster.status == ClusterStatus::Dkg,
            MedshareError::WrongClusterStatus
        );
        let pos = self.cluster.position_of(&self.node.key())?;
        require!(
            self.mailbox.index as usize == pos + 1,
            MedshareError::NotClusterNode
        );
        require!(
            !self.cluster.nodes[pos].round1_posted,
            MedshareError::Round1AlreadyPosted
        );
        require!(
            !package.is_empty() && package.len() <= MAX_ROUND1_LEN,
            MedshareError::InvalidDkgPackage
        );
        require!(*ephemeral_key != [0u8; 32], MedshareError::InvalidPoint);
        Ok(())
    }

    /// Stores the public package (nodes verify it off-chain with `frost`)
    /// and the node's ephemeral key for this attempt.
    #[access_control(ctx.accounts.validate(&package, &ephemeral_key))]
    pub fn handler(
        ctx: Context<PostDkgRound1>,
        package: Vec<u8>,
        ephemeral_key: [u8; 32],
    ) -> Result<()> {
        let pos = ctx.accounts.cluster.position_of(&ctx.accounts.node.key())?;
        let attempt = ctx.accounts.cluster.dkg_attempt;
        let mailbox = &mut ctx.accounts.mailbox;
        if mailbox.attempt != attempt {
            // A restarted DKG: the previous attempt's packages are void.
            mailbox.round2.clear();
            mailbox.attempt = attempt;
            mailbox.complaint_against = 0;
            mailbox.revealed_secret = [0; 32];
        }
        mailbox.round1 = package;
        mailbox.ephemeral_key = ephemeral_key;
        mailbox.invariant()?;
        let cluster = &mut ctx.accounts.cluster;
        cluster.nodes[pos].round1_posted = true;
        cluster.invariant()?;
        crate::emit_event!(DkgStep {
            cluster: cluster.key(),
            index: (pos + 1) as u8,
            step: DkgStepKind::Round1,
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}
