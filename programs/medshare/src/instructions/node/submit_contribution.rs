use anchor_lang::prelude::*;

use encrypted_ixs::keys::NodeIndex;
use encrypted_ixs::point::Point;
use encrypted_ixs::reencrypt::{
    verify_contribution, ComputationContext, Contribution, ContributionProof, Statement,
};

use crate::constants::SEED_NODE;
use crate::error::MedshareError;
use crate::events::{ContributionAccepted, ContributionRejected};
use crate::state::{
    Cluster, Computation, ComputationStatus, CredentialIssuer, NodeRecord, PartialCapsule, Provider,
};
use crate::utils::access::check_access_now;

/// One node's contribution for one group: `(U_i, W_i)` and the proof
/// `(c, z_r, z_s)`, 144 bytes.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct ContributionArg {
    /// `U_i`.
    pub u: [u8; 32],
    /// `W_i`.
    pub w: [u8; 32],
    /// Challenge (128 bits).
    pub c: [u8; 16],
    /// Response for `r_i`.
    pub z_r: [u8; 32],
    /// Response for `s_i`.
    pub z_s: [u8; 32],
}

impl From<ContributionArg> for Contribution {
    fn from(a: ContributionArg) -> Self {
        Contribution {
            u: Point(a.u),
            w: Point(a.w),
            proof: ContributionProof {
                c: a.c,
                z_r: a.z_r,
                z_s: a.z_s,
            },
        }
    }
}

/// Accounts of `submit_contribution`.
#[derive(Accounts)]
pub struct SubmitContribution<'info> {
    /// A node of the computation's cluster; paid its transaction fee from the
    /// computation's deposit when its contribution is accepted.
    #[account(mut)]
    pub node: Signer<'info>,
    /// The cluster (verification shares, threshold); read only, so that
    /// contributions to different computations run side by side.
    pub cluster: Account<'info, Cluster>,
    /// The node's service record (contribution and fault counters).
    #[account(
        mut,
        seeds = [SEED_NODE, cluster.key().as_ref(), &[node_record.index]],
        bump = node_record.bump,
        has_one = cluster @ MedshareError::WrongCluster,
        has_one = node @ MedshareError::NotClusterNode,
    )]
    pub node_record: Account<'info, NodeRecord>,
    /// The computation.
    #[account(mut, has_one = cluster @ MedshareError::WrongCluster)]
    pub computation: Account<'info, Computation>,
    /// The shared record: must still be open at the computation's version.
    /// CHECK: must be the computation's record; read as a record head only
    /// if it is a program account (closed reads as `RecordClosed`).
    pub record: UncheckedAccount<'info>,
    /// The consent a pull was made under (required when the computation names one).
    /// CHECK: must be the computation's consent; read as a `Consent` only if
    /// it is a program account (closed reads as `ConsentMissing`).
    pub consent: Option<UncheckedAccount<'info>>,
    /// The recipient wallet's provider entry (required when the record has a policy).
    pub provider: Option<Account<'info, Provider>>,
    /// Its issuer's entry.
    pub issuer: Option<Account<'info, CredentialIssuer>>,
}

impl SubmitContribution<'_> {
    /// Pending, not expired, a node of this cluster, first time, room left,
    /// one contribution per group, and access still granted
    /// ([`Computation::access`](crate::state::Computation::access): record open at the same version, consent, policy).
    pub fn validate(&self, contributions: &[ContributionArg]) -> Result<()> {
        let comp = &self.computation;
        require!(
            comp.status == ComputationStatus::Pending,
            MedshareError::ComputationNotPending
        );
        require!(
            Clock::get()?.slot <= comp.expiry_slot,
            MedshareError::ComputationExpired
        );
        let pos = self.cluster.position_of(&self.node.key())?;
        let index = (pos + 1) as u8;
        require!(comp.faulty & (1 << pos) == 0, MedshareError::NodeFaulty);
        require!(
            !comp.contributors.contains(&index),
            MedshareError::DuplicateContribution
        );
        require!(
            comp.contributors.len() < self.cluster.threshold as usize,
            MedshareError::ContributionsComplete
        );
        require!(
            contributions.len() == comp.groups.len(),
            MedshareError::WrongGroupCount
        );
        check_access_now(
            comp,
            &self.record,
            self.consent.as_ref(),
            self.provider.as_ref(),
            self.issuer.as_ref(),
        )?;
        Ok(())
    }

    /// Verifies every group's proof. A valid set is stored; an invalid one is
    /// *not* an error: the node is named in `ContributionRejected`, marked
    /// faulty on this computation and its fault counted on its node record, and
    /// the transaction succeeds so that this record survives.
    #[access_control(ctx.accounts.validate(&contributions))]
    pub fn handler(
        ctx: Context<SubmitContribution>,
        contributions: Vec<ContributionArg>,
    ) -> Result<()> {
        let pos = ctx.accounts.cluster.position_of(&ctx.accounts.node.key())?;
        let node =
            NodeIndex::new((pos + 1) as u16).map_err(|_| error!(MedshareError::NotClusterNode))?;
        let slot = Clock::get()?.slot;
        let computation_key = ctx.accounts.computation.key();
        let comp = &mut ctx.accounts.computation;
        let cluster = &ctx.accounts.cluster;
        let record = &mut ctx.accounts.node_record;
        let recipient = Point(comp.recipient);
        let v_i = Point(cluster.nodes[pos].verification_share);
        let mut failed_group = None;
        for (k, arg) in contributions.iter().enumerate() {
            let ctx_k = ComputationContext {
                program_id: crate::ID.to_bytes(),
                cluster: cluster.key().to_bytes(),
                computation: computation_key.to_bytes(),
                group: comp.groups[k],
            };
            let capsule_e = Point(comp.capsules[k].e);
            let st = Statement {
                ctx: &ctx_k,
                node,
                recipient: &recipient,
                capsule_e: &capsule_e,
                verification_share: &v_i,
            };
            if verify_contribution(&st, &Contribution::from(*arg)).is_err() {
                failed_group = Some(comp.groups[k]);
                break;
            }
        }
        if let Some(group) = failed_group {
            comp.faulty |= 1 << pos;
            record.faults = record
                .faults
                .checked_add(1)
                .ok_or(MedshareError::Overflow)?;
            crate::emit_event!(ContributionRejected {
                computation: computation_key,
                node: node.get() as u8,
                authority: cluster.nodes[pos].authority,
                group,
                slot,
            });
        } else {
            comp.contributors.push(node.get() as u8);
            comp.partials.extend(
                contributions
                    .iter()
                    .map(|a| PartialCapsule { u: a.u, w: a.w }),
            );
            record.contributions = record
                .contributions
                .checked_add(1)
                .ok_or(MedshareError::Overflow)?;
            Computation::pay_node_fee(
                &comp.to_account_info(),
                &ctx.accounts.node.to_account_info(),
            )?;
            crate::emit_event!(ContributionAccepted {
                computation: computation_key,
                node: node.get() as u8,
                count: comp.contributors.len() as u8,
                slot,
            });
        }
        comp.invariant()?;
        record.invariant()?;
        Ok(())
    }
}
