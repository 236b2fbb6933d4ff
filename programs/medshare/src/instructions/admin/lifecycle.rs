//! Restarting a cluster's DKG and retiring a cluster.

use anchor_lang::prelude::*;

use crate::error::MedshareError;
use crate::events::{ClusterLifecycle, LifecycleChange};
use crate::state::{Cluster, ClusterStatus};

/// Accounts of `restart_dkg` and `retire_cluster`.
#[derive(Accounts)]
pub struct ClusterAdmin<'info> {
    /// The cluster admin.
    pub admin: Signer<'info>,
    /// The cluster.
    #[account(mut, has_one = admin @ MedshareError::NotAdmin)]
    pub cluster: Account<'info, Cluster>,
}

impl ClusterAdmin<'_> {
    /// Starts a new DKG attempt on a cluster whose DKG is running (a node is
    /// silent) or failed: every node's round-1, round-2 and confirmation
    /// flags, the cluster key and the verification shares are cleared, and
    /// `dkg_attempt` moves on, so the new run is a new session (round-2
    /// packages of the old one do not decrypt in it). A ready cluster keeps
    /// its key: it is retired, not re-keyed.
    pub fn restart_dkg(ctx: Context<ClusterAdmin>) -> Result<()> {
        let cluster = &mut ctx.accounts.cluster;
        require!(
            matches!(cluster.status, ClusterStatus::Dkg | ClusterStatus::Failed),
            MedshareError::WrongClusterStatus
        );
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

    /// Retires the cluster, whatever its state: no new record, share, pull
    /// or DKG step (`ClusterNotReady` / `WrongClusterStatus`). Computations
    /// already queued may still finish or expire; records stay readable by
    /// their owners and closable.
    pub fn retire(ctx: Context<ClusterAdmin>) -> Result<()> {
        let cluster = &mut ctx.accounts.cluster;
        require!(
            cluster.status != ClusterStatus::Retired,
            MedshareError::WrongClusterStatus
        );
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
