use anchor_lang::prelude::*;

use encrypted_ixs::keys::NodeIndex;
use encrypted_ixs::point::Point;
use encrypted_ixs::reencrypt::{check_lagrange, combine};
use encrypted_ixs::MAX_NODES;

use crate::error::MedshareError;
use crate::events::ShareCompleted;
use crate::state::{
    CapsuleData, Cluster, Computation, ComputationStatus, CredentialIssuer, Provider, ShareResult,
};
use crate::utils::access::check_access_now;

/// Accounts of `share_patient_data_callback`.
#[derive(Accounts)]
pub struct SharePatientDataCallback<'info> {
    /// Any node of the cluster; paid its transaction fee from the
    /// computation's deposit.
    #[account(mut)]
    pub node: Signer<'info>,
    /// The cluster.
    pub cluster: Account<'info, Cluster>,
    /// The computation; closed, rent to the requester.
    #[account(
        mut,
        has_one = cluster @ MedshareError::WrongCluster,
        has_one = requester @ MedshareError::NotRequester,
        has_one = share_result @ MedshareError::WrongShareResult,
        close = requester
    )]
    pub computation: Account<'info, Computation>,
    /// The share result to fill.
    #[account(mut)]
    pub share_result: Account<'info, ShareResult>,
    /// Receives the computation's rent.
    /// CHECK: only credited; must equal `computation.requester` (has_one above).
    #[account(mut)]
    pub requester: UncheckedAccount<'info>,
    /// The consent a pull was made under (required when the computation names one).
    /// CHECK: must be the computation's consent; read as a `Consent` only if
    /// it is a program account (closed reads as `ConsentMissing`).
    pub consent: Option<UncheckedAccount<'info>>,
    /// The shared record: must still be open at the computation's version.
    /// CHECK: must be the computation's record; read as a record head only
    /// if it is a program account (closed reads as `RecordClosed`).
    pub record: UncheckedAccount<'info>,
    /// The recipient wallet's provider entry (required when the record has a policy).
    pub provider: Option<Account<'info, Provider>>,
    /// Its issuer's entry.
    pub issuer: Option<Account<'info, CredentialIssuer>>,
}

impl SharePatientDataCallback<'_> {
    /// A node of this cluster, not expired, at least `t` contributions, one
    /// coefficient per contributor, access still granted ([`Computation::access`](crate::state::Computation::access)).
    pub fn validate(&self, lagrange: &[[u8; 32]]) -> Result<()> {
        self.cluster.position_of(&self.node.key())?;
        let comp = &self.computation;
        require!(
            comp.status == ComputationStatus::Pending,
            MedshareError::ComputationNotPending
        );
        require!(
            Clock::get()?.slot <= comp.expiry_slot,
            MedshareError::ComputationExpired
        );
        require!(
            comp.contributors.len() >= self.cluster.threshold as usize,
            MedshareError::NotEnoughContributions
        );
        require!(
            lagrange.len() == comp.contributors.len(),
            MedshareError::InvalidLagrangeCoefficients
        );
        // The same decision as at every contribution; here it is
        // bookkeeping (the accepted contributions are already public).
        check_access_now(
            comp,
            &self.record,
            self.consent.as_ref(),
            self.provider.as_ref(),
            self.issuer.as_ref(),
        )
    }

    /// Checks the coefficients once (exact integer arithmetic, no scalar
    /// multiplication), combines per group `E' = Σ λ_i·U_i`,
    /// `C' = C + Σ λ_i·W_i` (two multiscalar syscalls), fills the share
    /// result. No fixed-size array of `MAX_NODES` points lives in this frame:
    /// the terms go straight into the syscall buffers of
    /// [`encrypted_ixs::point::msm_with`], whose frame is its own.
    #[access_control(ctx.accounts.validate(&lagrange))]
    pub fn handler(ctx: Context<SharePatientDataCallback>, lagrange: Vec<[u8; 32]>) -> Result<()> {
        let finalizer = ctx.accounts.cluster.position_of(&ctx.accounts.node.key())? + 1;
        let comp = &ctx.accounts.computation;
        check_contributors(&comp.contributors, &lagrange)?;
        let groups = comp.groups.len();
        let mut capsules = Vec::with_capacity(groups);
        for g in 0..groups {
            let out = combine(&comp.capsules[g].into(), &lagrange, |k| {
                let partial = comp.partials[k * groups + g];
                (Point(partial.u), Point(partial.w))
            })
            .map_err(|_| error!(MedshareError::InvariantViolated))?;
            capsules.push(CapsuleData::from(out));
        }
        Computation::pay_node_fee(
            &ctx.accounts.computation.to_account_info(),
            &ctx.accounts.node.to_account_info(),
        )?;
        let comp = &ctx.accounts.computation;
        let clock = Clock::get()?;
        let result = &mut ctx.accounts.share_result;
        result.capsules = capsules.clone();
        result.completed = true;
        result.completed_slot = clock.slot;
        result.invariant()?;
        crate::emit_event!(ShareCompleted {
            computation: comp.key(),
            share_result: result.key(),
            record: comp.record,
            record_version: comp.record_version,
            recipient: comp.recipient,
            groups: comp.groups.clone(),
            capsules,
            contributors: comp.contributors.clone(),
            finalizer: finalizer as u8,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}

/// The Lagrange check for the accepted contributors (at most `MAX_NODES`, so
/// the index array stays small).
#[inline(never)]
fn check_contributors(contributors: &[u8], lagrange: &[[u8; 32]]) -> Result<()> {
    let mut nodes = [NodeIndex::MIN; MAX_NODES];
    for (slot, &i) in nodes.iter_mut().zip(contributors) {
        *slot = NodeIndex::new(i as u16).map_err(|_| error!(MedshareError::InvariantViolated))?;
    }
    check_lagrange(&nodes[..contributors.len()], lagrange)
        .map_err(|_| error!(MedshareError::InvalidLagrangeCoefficients))
}
