use anchor_lang::prelude::*;

/// What a wallet is, for people reading the audit trail (verified roles come
/// from the provider registry).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum Role {
    /// A patient.
    Patient,
    /// A doctor.
    Doctor,
    /// A hospital.
    Hospital,
    /// An insurer.
    Insurer,
    /// A researcher.
    Researcher,
}

/// A wallet's encryption key.
#[account(discriminator = &crate::state::layout::IDENTITY)]
#[derive(InitSpace)]
pub struct Identity {
    /// The wallet.
    pub wallet: Pubkey,
    /// Edwards form of the wallet's X25519 key (XEdDSA convention, sign 0).
    pub encryption_key: [u8; 32],
    /// Declared role.
    pub role: Role,
    /// Last change (unix time).
    pub updated_at: i64,
    /// PDA bump.
    pub bump: u8,
    /// Slot in which the identity was registered.
    pub registered_slot: u64,
    /// The generation the owner's next record gets: starts at
    /// `registered_slot · 2^24` and counts up by one per record created.
    pub next_record: u64,
}

/// Records one identity may create before it must be closed and registered
/// again (the width of the per-identity counter inside a generation).
pub const RECORDS_PER_IDENTITY: u64 = 1 << 24;

impl Identity {
    /// The first generation of an identity registered in `slot`.
    pub fn first_generation(slot: u64) -> Result<u64> {
        slot.checked_mul(RECORDS_PER_IDENTITY)
            .ok_or_else(|| error!(crate::error::MedshareError::Overflow))
    }

    /// Takes the next record generation (a record's life).
    ///
    /// A record's address (`[record, owner, id]`) is the same in every
    /// cluster and is reused when a record is closed and created again, so
    /// the generation is what tells the lives apart, in every cluster at
    /// once, without a cluster-wide write: each identity counts its own
    /// records, starting at `registered_slot · 2^24`. An identity cannot be
    /// closed in the slot it was registered in, so an identity registered
    /// again starts strictly above every generation the earlier one gave
    /// out (at most 2^24 of them); no two lives of an address ever share a
    /// generation.
    pub fn next_record_generation(&mut self) -> Result<u64> {
        let generation = self.next_record;
        let first = Self::first_generation(self.registered_slot)?;
        require!(
            generation - first < RECORDS_PER_IDENTITY - 1,
            crate::error::MedshareError::Overflow
        );
        self.next_record = generation + 1;
        Ok(generation)
    }

    /// Checked wherever a handler writes an identity: its wallet and
    /// encryption key set (the key itself is validated before it is written).
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.wallet != Pubkey::default() && self.encryption_key != [0u8; 32],
            crate::error::MedshareError::InvariantViolated
        );
        let first = Self::first_generation(self.registered_slot)?;
        require!(
            self.next_record >= first && self.next_record - first < RECORDS_PER_IDENTITY,
            crate::error::MedshareError::InvariantViolated
        );
        Ok(())
    }
}
