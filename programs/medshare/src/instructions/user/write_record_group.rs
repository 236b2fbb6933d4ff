use anchor_lang::prelude::*;
use anchor_lang::system_program;

use encrypted_ixs::binding::{self, BindingProof};
use encrypted_ixs::capsule::RecordContext;
use encrypted_ixs::point::Point;

use crate::constants::{MAX_GROUPS, MAX_GROUP_CIPHERTEXT};
use crate::error::MedshareError;
use crate::events::RecordGroupWritten;
use crate::state::{CapsuleData, PatientRecord, StoredGroup};
use crate::utils::checks::require_decodes;

/// One sealed field group.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct WriteGroupArgs {
    /// Group number.
    pub group: u8,
    /// Capsule for the cluster key.
    pub cluster_capsule: CapsuleData,
    /// Binding proof `(c ‖ z)`: 16 + 32 bytes.
    pub binding: [u8; 48],
    /// Capsule for the owner's key.
    pub owner_capsule: CapsuleData,
    /// AEAD nonce.
    pub nonce: [u8; 12],
    /// Ciphertext with tag.
    pub ciphertext: Vec<u8>,
}

/// Accounts of `write_record_group`.
#[derive(Accounts)]
pub struct WriteRecordGroup<'info> {
    /// The patient; pays for growth.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// The record's author, when a provider wrote it (must co-sign).
    pub author: Option<Signer<'info>>,
    /// The record.
    #[account(
        mut,
        has_one = owner @ crate::error::MedshareError::NotOwner
    )]
    pub record: Account<'info, PatientRecord>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl WriteRecordGroup<'_> {
    /// Group in range and not yet written in this version, ciphertext size in range, author co-signed, capsule
    /// points valid, binding proof valid for this owner, record and group.
    pub fn validate(&self, args: &WriteGroupArgs) -> Result<()> {
        require!(
            (args.group as usize) < MAX_GROUPS,
            MedshareError::InvalidGroup
        );
        require!(
            args.ciphertext.len() >= 16 && args.ciphertext.len() <= MAX_GROUP_CIPHERTEXT,
            MedshareError::InvalidCiphertextSize
        );
        // A written group is immutable within its version: a pending share
        // copied its capsule, and every contribution checks only the version.
        require!(
            self.record.group(args.group).is_none(),
            MedshareError::GroupAlreadyWritten
        );
        if self.record.author != self.record.owner {
            let signed = self
                .author
                .as_ref()
                .is_some_and(|a| a.key() == self.record.author);
            require!(signed, MedshareError::AuthorMustSign);
        }
        // The owner capsule is opened by the owner alone: it only has to
        // decode (a torsion component could hurt nobody but its author).
        require_decodes(&args.owner_capsule.e)?;
        require_decodes(&args.owner_capsule.c)?;
        let ctx = RecordContext {
            program_id: crate::ID.to_bytes(),
            owner: self.record.owner.to_bytes(),
            record: self.record.key().to_bytes(),
            group: args.group,
        };
        match binding::verify(
            &ctx,
            &Point(self.record.cluster_key),
            &args.cluster_capsule.into(),
            &BindingProof::from_bytes(&args.binding),
        ) {
            Ok(()) => Ok(()),
            Err(encrypted_ixs::Error::InvalidBindingProof) => {
                err!(MedshareError::InvalidBindingProof)
            }
            Err(_) => err!(MedshareError::InvalidPoint),
        }
    }

    /// Adds the group, growing the account (owner pays rent). Changing a
    /// written group takes a new version (`update_patient_data`).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<WriteRecordGroup>, args: WriteGroupArgs) -> Result<()> {
        let clock = Clock::get()?;
        let ct_len = args.ciphertext.len();
        let group = args.group;
        let record = &mut ctx.accounts.record;
        let stored = StoredGroup::from(args);
        record.groups.push(stored);
        record.updated_at = clock.unix_timestamp;
        record.invariant()?;
        let new_len = record.space();
        let info = record.to_account_info();
        if new_len > info.data_len() {
            let needed = Rent::get()?
                .minimum_balance(new_len)
                .saturating_sub(info.lamports());
            if needed > 0 {
                system_program::transfer(
                    CpiContext::new(
                        ctx.accounts.system_program.key(),
                        system_program::Transfer {
                            from: ctx.accounts.owner.to_account_info(),
                            to: info.clone(),
                        },
                    ),
                    needed,
                )?;
            }
            info.resize(new_len)?;
        }
        crate::emit_event!(RecordGroupWritten {
            record: record.key(),
            group,
            version: record.version,
            ciphertext_len: ct_len as u16,
            slot: clock.slot,
        });
        Ok(())
    }
}

impl From<WriteGroupArgs> for StoredGroup {
    /// The group as the record stores it (checked by `validate` first).
    fn from(args: WriteGroupArgs) -> StoredGroup {
        StoredGroup {
            group: args.group,
            cluster_capsule: args.cluster_capsule,
            binding: args.binding,
            owner_capsule: args.owner_capsule,
            nonce: args.nonce,
            ciphertext: args.ciphertext,
        }
    }
}
