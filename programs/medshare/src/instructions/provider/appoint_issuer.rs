use anchor_lang::prelude::*;

use crate::constants::SEED_ISSUER;
use crate::error::MedshareError;
use crate::events::{RegistryChange, RegistryChanged};
use crate::state::{Cluster, CredentialIssuer};
use crate::utils::accounts;

/// Accounts of `appoint_issuer`.
#[derive(Accounts)]
#[instruction(issuer: Pubkey)]
pub struct AppointIssuer<'info> {
    /// The cluster admin; pays.
    #[account(mut)]
    pub admin: Signer<'info>,
    /// The cluster.
    #[account(has_one = admin @ MedshareError::NotAdmin)]
    pub cluster: Account<'info, Cluster>,
    /// The issuer's entry (created by the handler).
    /// CHECK: address fixed by the seeds; must not exist yet.
    #[account(mut, seeds = [SEED_ISSUER, cluster.key().as_ref(), issuer.as_ref()], bump)]
    pub issuer_account: UncheckedAccount<'info>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl AppointIssuer<'_> {
    /// Appoints `issuer`.
    pub fn handler(ctx: Context<AppointIssuer>, issuer: Pubkey) -> Result<()> {
        let clock = Clock::get()?;
        let mut entry: CredentialIssuer = accounts::blank()?;
        entry.cluster = ctx.accounts.cluster.key();
        entry.issuer = issuer;
        entry.active = true;
        entry.appointed_at = clock.unix_timestamp;
        entry.bump = ctx.bumps.issuer_account;
        entry.invariant()?;
        let accs = &ctx.accounts;
        accounts::create(
            &accs.issuer_account,
            &accs.admin,
            &accs.system_program,
            &[
                SEED_ISSUER,
                entry.cluster.as_ref(),
                issuer.as_ref(),
                &[entry.bump],
            ],
            8 + CredentialIssuer::INIT_SPACE,
            &entry,
        )?;
        crate::emit_event!(RegistryChanged {
            cluster: entry.cluster,
            subject: issuer,
            by: ctx.accounts.admin.key(),
            kind: RegistryChange::IssuerAppointed,
            role: None,
            valid_until: 0,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}

/// Accounts of `revoke_issuer`.
#[derive(Accounts)]
pub struct RevokeIssuer<'info> {
    /// The cluster admin.
    pub admin: Signer<'info>,
    /// The cluster.
    #[account(has_one = admin @ MedshareError::NotAdmin)]
    pub cluster: Account<'info, Cluster>,
    /// The issuer's entry.
    #[account(mut, has_one = cluster @ MedshareError::WrongCluster)]
    pub issuer_account: Account<'info, CredentialIssuer>,
}

impl RevokeIssuer<'_> {
    /// Not revoked already.
    pub fn validate(&self) -> Result<()> {
        require!(self.issuer_account.active, MedshareError::IssuerRevoked);
        Ok(())
    }

    /// Deactivates the issuer: every provider it registered stops counting as verified.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<RevokeIssuer>) -> Result<()> {
        let clock = Clock::get()?;
        let entry = &mut ctx.accounts.issuer_account;
        entry.active = false;
        entry.invariant()?;
        crate::emit_event!(RegistryChanged {
            cluster: entry.cluster,
            subject: entry.issuer,
            by: ctx.accounts.admin.key(),
            kind: RegistryChange::IssuerRevoked,
            role: None,
            valid_until: 0,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}
