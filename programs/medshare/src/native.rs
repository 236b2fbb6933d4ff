//! Running the program natively, inside `solana-program-test`'s embedded bank.
//!
//! Two things differ from SBF and are handled here:
//!
//! 1. [`native_entry`]: a `processor!`-compatible entrypoint (Anchor's `entry`
//!    ties all its arguments to one lifetime).
//! 2. [`log_event`]: Anchor's `emit!` is a no-op off SBF, so natively events
//!    are logged as `Program log: Program data: <base64>`, which the SDK's
//!    event decoding (`medshare_sdk::events`) accepts next to the runtime's
//!    `Program data: <base64>`.

use anchor_lang::compat::solana_sysvar::program_stubs::sol_log;
use anchor_lang::prelude::*;
use anchor_lang::solana_program::entrypoint::ProgramResult;
use base64::Engine;

/// `processor!`-compatible entrypoint.
pub fn native_entry<'a, 'b, 'c, 'd>(
    program_id: &'a Pubkey,
    accounts: &'b [AccountInfo<'c>],
    data: &'d [u8],
) -> ProgramResult {
    // SAFETY: every reference stays valid for the whole call, and `entry`
    // returns a `ProgramResult`, which borrows nothing, so no reference with
    // the widened lifetime `'c` escapes this function. Only lifetime
    // parameters change; types and layouts are identical.
    let (program_id, accounts, data): (&'c Pubkey, &'c [AccountInfo<'c>], &'c [u8]) = unsafe {
        (
            core::mem::transmute::<&'a Pubkey, &'c Pubkey>(program_id),
            core::mem::transmute::<&'b [AccountInfo<'c>], &'c [AccountInfo<'c>]>(accounts),
            core::mem::transmute::<&'d [u8], &'c [u8]>(data),
        )
    };
    crate::entry(program_id, accounts, data)
}

/// Logs an event's bytes natively as `Program log: Program data: <base64>`.
///
/// Anchor's `emit!` compiles `sol_log_data` to a no-op off SBF, so in the
/// embedded bank events would vanish; [`crate::emit_event!`] calls this
/// instead there. The line goes through `program_stubs::sol_log`, which
/// `solana-program-test` turns into a transaction log message.
pub fn log_event(data: &[u8]) {
    sol_log(&format!(
        "Program data: {}",
        base64::engine::general_purpose::STANDARD.encode(data)
    ));
}
