use anchor_lang::prelude::*;

use crate::constants::{MAX_ROUND2_CIPHERTEXT, SEED_DKG};
use crate::error::MedshareError;
use crate::events::{DkgStep, DkgStepKind};
use crate::state::{Cluster, ClusterStatus, DkgMailbox, Round2Package};

/// One encrypted round-2 package, as posted.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct Round2Arg {
    /// Addressee's node index.
    pub to: u8,
    /// AEAD nonce.
    pub nonce: [u8; 12],
    /// Ciphertext.
    pub ciphertext: Vec<u8>,
}

/// Accounts of `post_dkg_round2`.
#[derive(Accounts)]
pub struct PostDkgRound2<'info> {
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

impl PostDkgRound2<'_> {
    /// During the DKG, after this node's round 1; each peer addressed once.
    pub fn validate(&self, packages: &[Round2Arg]) -> Result<()> {
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
            self.cluster.nodes[pos].round1_posted,
            MedshareError::DkgRoundMissing
        );
        let mut sent = self.cluster.nodes[pos].round2_sent;
        for p in packages {
            let ok_index = p.to >= 1 && p.to <= self.cluster.size && p.to as usize != pos + 1;
            require!(ok_index, MedshareError::InvalidRound2Package);
            let bit = 1u16 << (p.to - 1);
            require!(sent & bit == 0, MedshareError::InvalidRound2Package);
            sent |= bit;
            require!(
                p.ciphertext.len() > 16 && p.ciphertext.len() <= MAX_ROUND2_CIPHERTEXT,
                MedshareError::InvalidDkgPackage
            );
        }
        Ok(())
    }

    /// Appends the packages to the sender's mailbox.
    #[access_control(ctx.accounts.validate(&packages))]
    pub fn handler(ctx: Context<PostDkgRound2>, packages: Vec<Round2Arg>) -> Result<()> {
        let pos = ctx.accounts.cluster.position_of(&ctx.accounts.node.key())?;
        let cluster = &mut ctx.accounts.cluster;
        for p in packages {
            cluster.nodes[pos].round2_sent |= 1u16 << (p.to - 1);
            ctx.accounts.mailbox.round2.push(Round2Package {
                to: p.to,
                nonce: p.nonce,
                ciphertext: p.ciphertext,
            });
        }
        ctx.accounts.mailbox.invariant()?;
        cluster.invariant()?;
        crate::emit_event!(DkgStep {
            cluster: cluster.key(),
            index: (pos + 1) as u8,
            step: DkgStepKind::Round2,
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}
