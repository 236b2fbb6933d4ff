use anchor_lang::prelude::*;

use crate::constants::{SEED_ISSUER, SEED_PROVIDER};
use crate::error::MedshareError;
use crate::events::{RegistryChange, RegistryChanged};
use crate::state::{CredentialIssuer, Provider, ProviderRole};
use crate::utils::accounts;

/// Arguments of `register_provider`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct RegisterProviderArgs {
    /// The provider's wallet.
    pub provider: Pubkey,
    /// Role.
    pub role: ProviderRole,
    /// Hash of the license document.
    pub license_hash: [u8; 32],
    /// Valid from (unix time).
    pub valid_from: i64,
    /// Valid until (unix time, exclusive).
    pub valid_until: i64,
}

/// Accounts of `register_provider`.
#[derive(Accounts)]
#[instruction(args: RegisterProviderArgs)]
pub struct RegisterProvider<'info> {
    /// An active issuer; pays.
    #[account(mut)]
    pub issuer: Signer<'info>,
    /// The issuer's entry.
    #[account(
        seeds = [SEED_ISSUER, issuer_account.cluster.as_ref(), issuer.key().as_ref()],
        bump = issuer_account.bump,
        constraint = issuer_account.active @ MedshareError::NotIssuer,
    )]
    pub issuer_account: Account<'info, CredentialIssuer>,
    /// The provider's registry entry: new, or an existing one that may be
    /// replaced (see [`RegisterProvider::replaceable`]).
    /// CHECK: address fixed by the seeds; read as a `Provider` if it exists
    /// (created by the handler when new).
    #[account(
        mut,
        seeds = [SEED_PROVIDER, issuer_account.cluster.as_ref(), args.provider.as_ref()],
        bump
    )]
    pub provider_account: UncheckedAccount<'info>,
    /// The existing entry's issuer, when replacing an entry whose issuer was
    /// revoked.
    pub previous_issuer: Option<Account<'info, CredentialIssuer>>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl RegisterProvider<'_> {
    /// Whether the entry may be written: it is new; or this issuer registered
    /// it (a renewal); or it no longer verifies anyone — revoked, past its
    /// validity, or from an issuer the admin revoked (that issuer's entry
    /// passed as `previous_issuer`). So an issuer that registers a wallet
    /// first cannot keep every other issuer from registering it.
    fn replaceable(&self, existing: Option<&Provider>, now: i64) -> bool {
        let Some(p) = existing else {
            return true;
        };
        if p.issuer == self.issuer.key() {
            return true;
        }
        if p.revoked || now >= p.valid_until {
            return true;
        }
        self.previous_issuer
            .as_ref()
            .is_some_and(|i| i.key() == crate::pda::issuer(&p.cluster, &p.issuer) && !i.active)
    }

    /// Registers (or renews, or replaces) a provider with a role, license
    /// hash and validity period.
    pub fn handler(ctx: Context<RegisterProvider>, args: RegisterProviderArgs) -> Result<()> {
        let clock = Clock::get()?;
        require!(
            args.valid_until > args.valid_from && args.valid_until > clock.unix_timestamp,
            MedshareError::InvalidValidity
        );
        let a = &ctx.accounts;
        let existing: Option<Provider> = accounts::load(&a.provider_account)?;
        require!(
            a.replaceable(existing.as_ref(), clock.unix_timestamp),
            MedshareError::ProviderExists
        );
        let mut p = match existing {
            Some(old) => old,
            None => {
                let mut fresh = accounts::blank::<Provider>()?;
                fresh.payer = a.issuer.key();
                fresh
            }
        };
        p.cluster = ctx.accounts.issuer_account.cluster;
        p.provider = args.provider;
        p.issuer = ctx.accounts.issuer.key();
        p.role = args.role;
        p.license_hash = args.license_hash;
        p.valid_from = args.valid_from;
        p.valid_until = args.valid_until;
        p.revoked = false;
        p.bump = ctx.bumps.provider_account;
        p.invariant()?;
        accounts::create_or_store(
            &a.provider_account,
            &a.issuer,
            &a.system_program,
            &[
                SEED_PROVIDER,
                p.cluster.as_ref(),
                args.provider.as_ref(),
                &[p.bump],
            ],
            8 + Provider::INIT_SPACE,
            &p,
        )?;
        crate::emit_event!(RegistryChanged {
            cluster: p.cluster,
            subject: p.provider,
            by: p.issuer,
            kind: RegistryChange::ProviderRegistered,
            role: Some(args.role),
            valid_until: args.valid_until,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}

/// Accounts of `revoke_provider`.
#[derive(Accounts)]
pub struct RevokeProvider<'info> {
    /// The issuer that registered the provider.
    pub issuer: Signer<'info>,
    /// The provider's entry.
    #[account(mut, has_one = issuer @ MedshareError::NotIssuer)]
    pub provider_account: Account<'info, Provider>,
}

impl RevokeProvider<'_> {
    /// Revokes the registration.
    pub fn handler(ctx: Context<RevokeProvider>) -> Result<()> {
        let clock = Clock::get()?;
        let p = &mut ctx.accounts.provider_account;
        require!(!p.revoked, MedshareError::ProviderRevoked);
        p.revoked = true;
        p.invariant()?;
        crate::emit_event!(RegistryChanged {
            cluster: p.cluster,
            subject: p.provider,
            by: p.issuer,
            kind: RegistryChange::ProviderRevoked,
            role: Some(p.role),
            valid_until: p.valid_until,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}
