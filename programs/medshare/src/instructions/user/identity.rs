use anchor_lang::prelude::*;

use crate::constants::SEED_IDENTITY;
use crate::error::MedshareError;
use crate::events::{IdentityClosed, IdentityUpdated};
use crate::state::{Identity, Role};
use crate::utils::accounts;
use crate::utils::checks::require_encryption_key;

/// Arguments of `register_identity` and `update_identity`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct IdentityArgs {
    /// Edwards form of the wallet's X25519 key.
    pub encryption_key: [u8; 32],
    /// Declared role.
    pub role: Role,
}

/// Accounts of `register_identity`.
#[derive(Accounts)]
pub struct RegisterIdentity<'info> {
    /// The wallet; pays.
    #[account(mut)]
    pub wallet: Signer<'info>,
    /// Its identity (created by the handler).
    /// CHECK: address fixed by the seeds; must not exist yet.
    #[account(mut, seeds = [SEED_IDENTITY, wallet.key().as_ref()], bump)]
    pub identity: UncheckedAccount<'info>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// The encryption key is a valid point of the prime-order group.
fn validate_args(args: &IdentityArgs) -> Result<()> {
    require_encryption_key(&args.encryption_key, MedshareError::InvalidPoint)
}

fn write(identity: &mut Identity, wallet: Pubkey, args: &IdentityArgs) -> Result<()> {
    let clock = Clock::get()?;
    identity.wallet = wallet;
    identity.encryption_key = args.encryption_key;
    identity.role = args.role;
    identity.updated_at = clock.unix_timestamp;
    identity.invariant()?;
    crate::emit_event!(IdentityUpdated {
        wallet,
        encryption_key: args.encryption_key,
        role: args.role,
        slot: clock.slot,
    });
    Ok(())
}

impl RegisterIdentity<'_> {
    /// A valid encryption key.
    pub fn validate(&self, args: &IdentityArgs) -> Result<()> {
        validate_args(args)
    }

    /// Creates the identity; its record generations start at this slot's
    /// (see [`Identity::next_record_generation`]).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<RegisterIdentity>, args: IdentityArgs) -> Result<()> {
        const SPACE: usize = 8 + Identity::INIT_SPACE;
        let wallet = ctx.accounts.wallet.key();
        let slot = Clock::get()?.slot;
        let mut identity: Identity = accounts::blank()?;
        identity.bump = ctx.bumps.identity;
        identity.registered_slot = slot;
        identity.next_record = Identity::first_generation(slot)?;
        write(&mut identity, wallet, &args)?;
        let accs = &ctx.accounts;
        accounts::create(
            &accs.identity,
            &accs.wallet,
            &accs.system_program,
            &[SEED_IDENTITY, wallet.as_ref(), &[identity.bump]],
            SPACE,
            &identity,
        )
    }
}

/// Accounts of `update_identity`.
#[derive(Accounts)]
pub struct UpdateIdentity<'info> {
    /// The wallet.
    pub wallet: Signer<'info>,
    /// Its identity.
    #[account(mut, has_one = wallet @ MedshareError::NotOwner)]
    pub identity: Account<'info, Identity>,
}

impl UpdateIdentity<'_> {
    /// A valid encryption key.
    pub fn validate(&self, args: &IdentityArgs) -> Result<()> {
        validate_args(args)
    }

    /// Replaces key and role.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<UpdateIdentity>, args: IdentityArgs) -> Result<()> {
        let wallet = ctx.accounts.wallet.key();
        write(&mut ctx.accounts.identity, wallet, &args)
    }
}

/// Accounts of `close_identity`.
#[derive(Accounts)]
pub struct CloseIdentity<'info> {
    /// The wallet; gets the rent back (it paid it).
    #[account(mut)]
    pub wallet: Signer<'info>,
    /// Its identity.
    #[account(mut, has_one = wallet @ MedshareError::NotOwner, close = wallet)]
    pub identity: Account<'info, Identity>,
}

impl CloseIdentity<'_> {
    /// Not in the slot the identity was registered in: an identity
    /// registered again must start its record generations above every one
    /// this identity gave out (see [`Identity::next_record_generation`]).
    pub fn validate(&self) -> Result<()> {
        require!(
            Clock::get()?.slot > self.identity.registered_slot,
            MedshareError::IdentityJustRegistered
        );
        Ok(())
    }

    /// Closes the identity (its rent goes back to the wallet). Records and
    /// consents keep their own accounts; a share to this wallet needs an
    /// identity registered again.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CloseIdentity>) -> Result<()> {
        let clock = Clock::get()?;
        crate::emit_event!(IdentityClosed {
            wallet: ctx.accounts.wallet.key(),
            slot: clock.slot,
        });
        Ok(())
    }
}
