//! A publicly checkable DKG complaint.

use anchor_lang::prelude::*;

use crate::constants::SEED_DKG;
use crate::error::MedshareError;
use crate::events::DkgComplaint;
use crate::state::{Cluster, ClusterStatus, DkgMailbox};

/// Accounts of `post_dkg_complaint`.
#[derive(Accounts)]
pub struct PostDkgComplaint<'info> {
    /// The complaining node.
    pub node: Signer<'info>,
    /// The cluster.
    #[account(mut)]
    pub cluster: Account<'info, Cluster>,
    /// The complainer's own mailbox (where the complaint is kept).
    #[account(
        mut,
        seeds = [SEED_DKG, cluster.key().as_ref(), &[mailbox.index]],
        bump = mailbox.bump,
        constraint = mailbox.cluster == cluster.key() @ MedshareError::WrongCluster,
    )]
    pub mailbox: Account<'info, DkgMailbox>,
}

impl PostDkgComplaint<'_> {
    /// During the DKG, by a node against another that has sent it its
    /// round-2 package in this attempt.
    pub fn validate(&self, accused: u8) -> Result<()> {
        let cluster = &self.cluster;
        require!(
            cluster.status == ClusterStatus::Dkg,
            MedshareError::WrongClusterStatus
        );
        let pos = cluster.position_of(&self.node.key())?;
        require!(
            self.mailbox.index as usize == pos + 1,
            MedshareError::NotClusterNode
        );
        require!(
            accused >= 1 && accused <= cluster.size && accused as usize != pos + 1,
            MedshareError::InvalidRound2Package
        );
        let sent = cluster.nodes[accused as usize - 1].round2_sent;
        require!(sent & (1 << pos) != 0, MedshareError::DkgRoundMissing);
        Ok(())
    }

    /// Records the complaint and the revealed ephemeral secret in the
    /// complainer's mailbox and fails the attempt (the complainer's key for
    /// it is public now; the admin restarts the DKG). The program does not
    /// judge the complaint: X25519 has no syscall, and a wrong verdict on-chain
    /// would be worse than none. Every node and every reader judges it the
    /// same way from the mailboxes (`encrypted_ixs::dkg::verify_complaint`).
    #[access_control(ctx.accounts.validate(accused))]
    pub fn handler(
        ctx: Context<PostDkgComplaint>,
        accused: u8,
        ephemeral_secret: [u8; 32],
    ) -> Result<()> {
        let pos = ctx.accounts.cluster.position_of(&ctx.accounts.node.key())?;
        let mailbox = &mut ctx.accounts.mailbox;
        mailbox.complaint_against = accused;
        mailbox.revealed_secret = ephemeral_secret;
        mailbox.invariant()?;
        let cluster = &mut ctx.accounts.cluster;
        cluster.status = ClusterStatus::Failed;
        cluster.invariant()?;
        crate::emit_event!(DkgComplaint {
            cluster: cluster.key(),
            complainer: (pos + 1) as u8,
            accused,
            attempt: cluster.dkg_attempt,
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}
