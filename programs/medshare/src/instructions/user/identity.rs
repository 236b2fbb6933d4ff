use anchor_lang::prelude::*;

use crate::constants::SEED_IDENTITY;
use crate::error::MedshareError;
use crate::events::IdentityUpdated;
use crate::instructions::require_encryption_key;
use crate::state::{Identity, Role};

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
    /// Its identity.
    #[account(
        init,
        payer = wallet,
        space = 8 + Identity::INIT_SPACE,
        seeds = [SEED_IDENTITY, wallet.key().as_ref()],
        bump
    )]
    pub identity: Account<'info, Identity>,
    /// System program.
    pub system_program: Program<'info, System>,
}

fn write(identity: &mut Identity, wallet: Pubkey, args: &IdentityArgs) -> Result<()> {
    require_encryption_key(&args.encryption_key, MedshareError::InvalidPoint)?;
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
    /// Creates the identity.
    pub fn handler(ctx: Context<RegisterIdentity>, args: IdentityArgs) -> Result<()> {
        ctx.accounts.identity.bump = ctx.bumps.identity;
        let wallet = ctx.accounts.wallet.key();
        write(&mut ctx.accounts.identity, wallet, &args)
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
    /// Replaces key and role.
    pub fn handler(ctx: Context<UpdateIdentity>, args: IdentityArgs) -> Result<()> {
        let wallet = ctx.accounts.wallet.key();
        write(&mut ctx.accounts.identity, wallet, &args)
    }
}
