use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::MedshareError;
use crate::events::ClusterCreated;
use crate::state::{Cluster, ClusterStatus};
use crate::utils::accounts;

/// Arguments of `init_cluster`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct InitClusterArgs {
    /// Admin-chosen id (PDA seed).
    pub cluster_id: u32,
    /// Threshold `t`.
    pub threshold: u8,
    /// Size `n`.
    pub size: u8,
    /// Slots a share computation lives before its requester may cancel it.
    pub computation_ttl_slots: u64,
}

/// Accounts of `init_cluster`.
#[derive(Accounts)]
#[instruction(args: InitClusterArgs)]
pub struct InitCluster<'info> {
    /// The admin; pays.
    #[account(mut)]
    pub admin: Signer<'info>,
    /// The new cluster (created by the handler, see [`crate::utils::accounts`]).
    /// CHECK: address fixed by the seeds; must not exist yet.
    #[account(
        mut,
        seeds = [SEED_CLUSTER, admin.key().as_ref(), &args.cluster_id.to_le_bytes()],
        bump
    )]
    pub cluster: UncheckedAccount<'info>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl InitCluster<'_> {
    /// Checks the threshold and lifetime.
    pub fn validate(&self, args: &InitClusterArgs) -> Result<()> {
        let (t, n) = (args.threshold as usize, args.size as usize);
        require!(
            (t == 1 && n == 1) || (2 <= t && t <= n && n <= MAX_NODES),
            MedshareError::InvalidThreshold
        );
        require!(
            (MIN_COMPUTATION_TTL_SLOTS..=MAX_COMPUTATION_TTL_SLOTS)
                .contains(&args.computation_ttl_slots),
            MedshareError::InvalidTtl
        );
        Ok(())
    }

    /// Creates the cluster in the `Registering` state.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<InitCluster>, args: InitClusterArgs) -> Result<()> {
        const SPACE: usize = 8 + Cluster::INIT_SPACE;
        let mut cluster: Cluster = accounts::blank()?;
        cluster.admin = ctx.accounts.admin.key();
        cluster.cluster_id = args.cluster_id;
        cluster.threshold = args.threshold;
        cluster.size = args.size;
        cluster.status = ClusterStatus::Registering;
        cluster.computation_ttl_slots = args.computation_ttl_slots;
        cluster.next_computation = 0;
        cluster.cluster_key = [0; 32];
        cluster.nodes = Vec::new();
        cluster.bump = ctx.bumps.cluster;
        cluster.invariant()?;
        let accs = &ctx.accounts;
        accounts::create(
            &accs.cluster,
            &accs.admin,
            &accs.system_program,
            &[
                SEED_CLUSTER,
                accs.admin.key().as_ref(),
                &args.cluster_id.to_le_bytes(),
                &[cluster.bump],
            ],
            SPACE,
            &cluster,
        )?;
        crate::emit_event!(ClusterCreated {
            cluster: accs.cluster.key(),
            admin: cluster.admin,
            threshold: cluster.threshold,
            size: cluster.size,
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}
