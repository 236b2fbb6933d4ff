use anchor_lang::prelude::*;

use crate::error::MedshareError;
use crate::events::{ClusterReady, DkgFailed, DkgStep, DkgStepKind};
use crate::state::{Cluster, ClusterStatus, NodeInfo};
use crate::utils::checks::require_point;

/// What a node computed at the end of the DKG.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ConfirmDkgArgs {
    /// Cluster key `P`.
    pub cluster_key: [u8; 32],
    /// `V_1 … V_n`, in index order.
    pub verification_shares: Vec<[u8; 32]>,
}

/// Accounts of `confirm_dkg`.
#[derive(Accounts)]
pub struct ConfirmDkg<'info> {
    /// A node of the cluster.
    pub node: Signer<'info>,
    /// The cluster.
    #[account(mut)]
    pub cluster: Account<'info, Cluster>,
}

impl ConfirmDkg<'_> {
    /// During the DKG, after the node sent all its round-2 packages, once.
    pub fn validate(&self, args: &ConfirmDkgArgs) -> Result<()> {
        let cluster = &self.cluster;
        require!(
            cluster.status == ClusterStatus::Dkg,
            MedshareError::WrongClusterStatus
        );
        let pos = cluster.position_of(&self.node.key())?;
        let all_peers = ((1u32 << cluster.size) - 1) as u16 & !(1u16 << pos);
        require!(
            cluster.size == 1 || cluster.nodes[pos].round2_sent == all_peers,
            MedshareError::DkgRoundMissing
        );
        require!(
            !cluster.nodes[pos].confirmed,
            MedshareError::AlreadyConfirmed
        );
        require!(
            args.verification_shares.len() == cluster.size as usize,
            MedshareError::InvalidDkgPackage
        );
        Ok(())
    }

    /// Records the node's confirmation (its hash; the values themselves
    /// from the first confirmation). When the last arrives: all equal →
    /// `Ready`; otherwise `Failed`, naming every node whose confirmation is
    /// not the strict majority's (every node when no confirmation has a
    /// strict majority). Nobody is blamed for confirming first or last.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<ConfirmDkg>, args: ConfirmDkgArgs) -> Result<()> {
        let pos = ctx.accounts.cluster.position_of(&ctx.accounts.node.key())?;
        let slot = Clock::get()?.slot;
        let cluster = &mut ctx.accounts.cluster;
        let first = !cluster.nodes.iter().any(|n| n.confirmed);
        if first {
            require_point(&args.cluster_key)?;
            for v in &args.verification_shares {
                require_point(v)?;
            }
            cluster.cluster_key = args.cluster_key;
            for (n, v) in cluster.nodes.iter_mut().zip(&args.verification_shares) {
                n.verification_share = *v;
            }
        }
        let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + args.verification_shares.len());
        parts.push(&args.cluster_key);
        parts.extend(args.verification_shares.iter().map(|v| v.as_slice()));
        cluster.nodes[pos].confirmation = solana_sha256_hasher::hashv(&parts).to_bytes();
        cluster.nodes[pos].confirmed = true;
        crate::emit_event!(DkgStep {
            cluster: cluster.key(),
            index: (pos + 1) as u8,
            step: DkgStepKind::Confirmed,
            slot,
        });
        if cluster.nodes.iter().all(|n| n.confirmed) {
            let majority = majority_confirmation(&cluster.nodes);
            for n in cluster.nodes.iter_mut() {
                n.agreed = majority == Some(n.confirmation);
            }
            let disagreeing = cluster
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| !n.agreed)
                .fold(0u16, |m, (i, _)| m | (1 << i));
            if disagreeing == 0 {
                cluster.status = ClusterStatus::Ready;
                crate::emit_event!(ClusterReady {
                    cluster: cluster.key(),
                    cluster_key: cluster.cluster_key,
                    slot,
                });
            } else {
                cluster.status = ClusterStatus::Failed;
                crate::emit_event!(DkgFailed {
                    cluster: cluster.key(),
                    disagreeing,
                    slot,
                });
            }
        }
        cluster.invariant()?;
        Ok(())
    }
}

/// The confirmation hash more than half of the nodes posted, if any.
fn majority_confirmation(nodes: &[NodeInfo]) -> Option<[u8; 32]> {
    nodes
        .iter()
        .map(|n| n.confirmation)
        .find(|h| 2 * nodes.iter().filter(|m| m.confirmation == *h).count() > nodes.len())
}
