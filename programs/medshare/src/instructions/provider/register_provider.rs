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
        let Some(entry) = existing else {
            return true;
        };
        if entry.issuer == self.issuer.key() {
            return true;
        }
        if entry.revoked || now >= entry.valid_until {
            return true;
        }
        self.previous_issuer.as_ref().is_some_and(|i| {
            i.key() == crate::pda::issuer(&entry.cluster, &entry.issuer) && !i.active
        })
    }

    /// A validity period that ends after now and after it starts; an entry
    /// that may be written (see [`Self::replaceable`]).
    pub fn validate(&self, args: &RegisterProviderArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        require!(
            args.valid_until > args.valid_from && args.valid_until > now,
            MedshareError::InvalidValidity
        );
        let existing: Option<Provider> = accounts::load(&self.provider_account)?;
        require!(
            self.replaceable(existing.as_ref(), now),
            MedshareError::ProviderExists
        );
        Ok(())
    }

    /// Registers (or renews, or replaces) a provider with a role, license
    /// hash and validity period.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<RegisterProvider>, args: RegisterProviderArgs) -> Result<()> {
        let clock = Clock::get()?;
        let accs = &ctx.accounts;
        let existing: Option<Provider> = accounts::load(&accs.provider_account)?;
        let mut entry = match existing {
            Some(old) => old,
            None => {
                let mut fresh = accounts::blank::<Provider>()?;
                fresh.payer = accs.issuer.key();
                fresh
            }
        };
        entry.cluster = ctx.accounts.issuer_account.cluster;
        entry.provider = args.provider;
        entry.issuer = ctx.accounts.issuer.key();
        entry.role = args.role;
        entry.license_hash = args.license_hash;
        entry.valid_from = args.valid_from;
        entry.valid_until = args.valid_until;
        entry.revoked = false;
        entry.bump = ctx.bumps.provider_account;
        entry.invariant()?;
        accounts::create_or_store(
            &accs.provider_account,
            &accs.issuer,
            &accs.system_program,
            &[
                SEED_PROVIDER,
                entry.cluster.as_ref(),
                args.provider.as_ref(),
                &[entry.bump],
            ],
            8 + Provider::INIT_SPACE,
            &entry,
        )?;
        crate::emit_event!(RegistryChanged {
            cluster: entry.cluster,
            subject: entry.provider,
            by: entry.issuer,
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
    /// Not revoked already.
    pub fn validate(&self) -> Result<()> {
        require!(
            !self.provider_account.revoked,
            MedshareError::ProviderRevoked
        );
        Ok(())
    }

    /// Revokes the registration.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<RevokeProvider>) -> Result<()> {
        let clock = Clock::get()?;
        let entry = &mut ctx.accounts.provider_account;
        entry.revoked = true;
        entry.invariant()?;
        crate::emit_event!(RegistryChanged {
            cluster: entry.cluster,
            subject: entry.provider,
            by: entry.issuer,
            kind: RegistryChange::ProviderRevoked,
            role: Some(entry.role),
            valid_until: entry.valid_until,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}
