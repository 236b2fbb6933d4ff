//! The admin closes what it paid for: a retired cluster, a revoked issuer.

use anchor_lang::prelude::*;

use crate::error::MedshareError;
use crate::events::AccountClosed;
use crate::state::{Cluster, ClusterStatus, CredentialIssuer};

/// Accounts of `close_cluster`.
#[derive(Accounts)]
pub struct CloseCluster<'info> {
    /// The cluster admin; gets the rent back (it paid it).
    #[account(mut)]
    pub admin: Signer<'info>,
    /// The cluster (retired).
    #[account(mut, has_one = admin @ MedshareError::NotAdmin, close = admin)]
    pub cluster: Account<'info, Cluster>,
}

impl CloseCluster<'_> {
    /// Only a retired cluster: nothing new is accepted by it, and a record
    /// sealed to it keeps its own copy of the cluster key.
    pub fn validate(&self) -> Result<()> {
        require!(
            self.cluster.status == ClusterStatus::Retired,
            MedshareError::WrongClusterStatus
        );
        Ok(())
    }

    /// Closes the cluster account. Computations still queued in it can no
    /// longer be contributed to; their requesters cancel them once expired.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CloseCluster>) -> Result<()> {
        AccountClosed::emit::<Cluster>(ctx.accounts.cluster.key(), ctx.accounts.admin.key())
    }
}

/// Accounts of `close_issuer`.
#[derive(Accounts)]
pub struct CloseIssuer<'info> {
    /// The cluster admin; gets the rent back (it paid it).
    #[account(mut)]
    pub admin: Signer<'info>,
    /// The issuer's cluster.
    #[account(has_one = admin @ MedshareError::NotAdmin)]
    pub cluster: Account<'info, Cluster>,
    /// The issuer's entry (revoked).
    #[account(mut, has_one = cluster @ MedshareError::WrongCluster, close = admin)]
    pub issuer_account: Account<'info, CredentialIssuer>,
}

impl CloseIssuer<'_> {
    /// Only a revoked issuer (its providers already count as unverified).
    pub fn validate(&self) -> Result<()> {
        require!(!self.issuer_account.active, MedshareError::IssuerActive);
        Ok(())
    }

    /// Closes the entry. Providers it registered stay unverified: a missing
    /// issuer entry fails their check like a revoked one.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CloseIssuer>) -> Result<()> {
        AccountClosed::emit::<CredentialIssuer>(
            ctx.accounts.issuer_account.key(),
            ctx.accounts.admin.key(),
        )
    }
}
