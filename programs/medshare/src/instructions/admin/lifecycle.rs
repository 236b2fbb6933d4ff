//! Restarting a cluster's DKG and retiring a cluster.

use anchor_lang::prelude::*;

use crate::error::MedshareError;
use crate::events::{ClusterLifecycle, LifecycleChange};
use crate::state::{Cluster, ClusterStatus};

/// Accounts of `restart_dkg`.
#[derive(Accounts)]
pub struct RestartDkg<'info> {
    /// The cluster admin.
    pub admin: Signer<'info>,
    /// The cluster.
    #[account(mut, has_one = admin @ MedshareError::NotAdmin)]
    pub cluster: Account<'info, Cluster>,
}

/// Accounts of `retire_cluster`.
#[derive(Accounts)]
pub struct RetireCluster<'info> {
    /// The cluster admin.
    pub admin: Signer<'info>,
    /// The cluster.
    #[account(mut, has_one = admin @ MedshareError::NotAdmin)]
    pub cluster: Account<'info, Cluster>,
}

impl RestartDkg<'_> {
    /// Only a DKG that is running or failed.
    pub fn validate(&self) -> Result<()> {
        require!(
            matches!(
                self.cluster.status,
                ClusterStatus::Dkg | ClusterStatus::Failed
            ),
            MedshareError::WrongClusterStatus
        );
        Ok(())
    }

    /// Starts a new DKG attempt on a cluster whose DKG is running (a node is
    /// silent) or failed: every node's round-1, round-2 and confirmation
    /// flags, the cluster key and the verification shares are cleared, and
    /// `dkg_attempt` moves on, so the new run is a new session (round-2
    /// packages of the old one do not decrypt in it). A ready cluster keeps
    /// its key: it is retired, not re-keyed.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<RestartDkg>) -> Result<()> {
        let cluster = &mut ctx.accounts.cluster;
        cluster.reset_dkg()?;
        cluster.status = ClusterStatus::Dkg;
        cluster.invariant()?;
        crate::emit_event!(ClusterLifecycle {
            cluster: cluster.key(),
            kind: LifecycleChange::DkgRestarted,
            dkg_attempt: cluster.dkg_attempt,
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}

impl RetireCluster<'_> {
    /// Not already retired.
    pub fn validate(&self) -> Result<()> {
        require!(
            self.cluster.status != ClusterStatus::Retired,
            MedshareError::WrongClusterStatus
        );
        Ok(())
    }

    /// Retires the cluster, whatever its state: no new record, share, pull
    /// or DKG step (`ClusterNotReady` / `WrongClusterStatus`). Computations
    /// already queued may still finish or expire; records stay readable by
    /// their owners and closable.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<RetireCluster>) -> Result<()> {
        let cluster = &mut ctx.accounts.cluster;
        cluster.status = ClusterStatus::Retired;
        cluster.invariant()?;
        crate::emit_event!(ClusterLifecycle {
            cluster: cluster.key(),
            kind: LifecycleChange::Retired,
            dkg_attempt: cluster.dkg_attempt,
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}
