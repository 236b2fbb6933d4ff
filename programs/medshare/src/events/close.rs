//! Accounts closed (rent returned).

use anchor_lang::prelude::*;

/// An account was closed and its lamports (rent, and anything a stranger
/// had sent it) went back to whoever paid for it.
#[event]
pub struct AccountClosed {
    /// The closed account.
    pub account: Pubkey,
    /// Its header (type tag and layout version, see `state::layout`).
    pub header: [u8; 8],
    /// Who got the lamports back.
    pub rent_to: Pubkey,
    /// Slot.
    pub slot: u64,
}

impl AccountClosed {
    /// Emits the event for an account of type `T` at `account`.
    pub fn emit<T: anchor_lang::Discriminator>(account: Pubkey, rent_to: Pubkey) -> Result<()> {
        let mut header = [0u8; 8];
        header.copy_from_slice(&T::DISCRIMINATOR[..8]);
        crate::emit_event!(AccountClosed {
            account,
            header,
            rent_to,
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}
