//! One builder per MedShare instruction.
//!
//! Grouped like the program's `instructions/{admin,node,user,provider}`.
//! Every builder takes the signers' and accounts' addresses, derives the
//! PDAs the instruction needs, and returns a ready [`Instruction`]; a builder
//! that creates an account whose address the caller needs next (a
//! computation, a share result) returns it too. Nothing here talks to a
//! chain: send the instructions with [`crate::chain::Chain::send`].
//!
//! ```
//! use medshare_sdk::ix;
//! use solana_sdk::pubkey::Pubkey;
//!
//! let owner = Pubkey::new_unique();
//! let record = medshare_sdk::pda::record(&owner, 1);
//! let close = ix::close_record(owner, record);
//! assert_eq!(close.program_id, medshare_sdk::ID);
//! assert!(close.accounts[0].is_signer);
//! ```

mod admin;
mod node;
mod provider;
mod research;
mod user;

pub use admin::*;
pub use node::*;
pub use provider::*;
pub use research::*;
pub use user::*;

use solana_sdk::instruction::Instruction;

/// Compute units clients request for `write_record_group`: the ELF measured
/// at most 17,423 CU for a 616-byte group (the program README's table), so
/// this leaves room for larger groups and future proof formats.
pub const WRITE_GROUP_COMPUTE_UNITS: u32 = 400_000;

/// The most a transaction may request (1.4 M). Nodes request it for
/// contributions and callbacks, whose cost grows with `t` and the groups
/// shared: a callback at `t = 16` over 5 groups measured 213,844 CU, over
/// the 200,000 a transaction gets by default.
pub const MAX_COMPUTE_UNITS: u32 = 1_400_000;

/// Builds an instruction of the MedShare program from Anchor's generated
/// account and data types: what every builder here uses, and what tests use
/// to build a deliberately malformed instruction.
pub fn instruction(
    accounts: impl anchor_lang::ToAccountMetas,
    data: impl anchor_lang::InstructionData,
) -> Instruction {
    Instruction {
        program_id: medshare::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// A compute-budget instruction raising the transaction's limit to `units`.
pub fn compute_budget(units: u32) -> Instruction {
    solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(units)
}

/// The provider registry entries an instruction names when a record's policy
/// needs them: the provider's entry and its issuer's entry.
pub type Registry = Option<(solana_sdk::pubkey::Pubkey, solana_sdk::pubkey::Pubkey)>;

const SYSTEM: solana_sdk::pubkey::Pubkey = anchor_lang::system_program::ID;
