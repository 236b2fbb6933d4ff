//! The one way the program creates accounts.
//!
//! Anchor 1.2's `init` turns into `CreateAccountAllowPrefund` when the
//! address already holds lamports, and the system program of agave 3.1
//! refuses that instruction. Every address the program creates is a PDA
//! anyone can compute, so a stranger who sends it a few lamports would block
//! its creation for good (and nobody could withdraw them). So no instruction
//! uses `init`: the new account is an `UncheckedAccount` whose address the
//! `seeds` constraint checks, and the handler calls [`create`], which works
//! whether or not the address was pre-funded — `create_account` when it is
//! empty; otherwise transfer what rent still needs, then `allocate` and
//! `assign`, signed with the PDA's seeds (a stranger's lamports stay in the
//! account and go back with its rent when it is closed).
//!
//! Handlers build the new account's value (starting from [`blank`], what a
//! zeroed account reads as) and [`create`] writes it; an account that may
//! already exist is read with [`load`] and written back with [`store`].

use anchor_lang::prelude::*;
use anchor_lang::system_program;

use crate::error::MedshareError;

/// Creates the program-owned account `target` (a PDA of this program signed
/// by `seeds`, bump included) with `space` bytes, rent paid by `payer`, and
/// writes `value` into it.
///
/// Refused with [`MedshareError::AccountExists`] when the account already
/// exists (owned by any program but the system program, or holding data).
pub fn create<'info, T: AccountSerialize>(
    target: &AccountInfo<'info>,
    payer: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    seeds: &[&[u8]],
    space: usize,
    value: &T,
) -> Result<()> {
    require!(
        *target.owner == system_program::ID && target.data_is_empty(),
        MedshareError::AccountExists
    );
    require_keys_neq!(payer.key(), target.key(), MedshareError::AccountExists);
    let rent = Rent::get()?.minimum_balance(space);
    let current = target.lamports();
    if current == 0 {
        system_program::create_account(
            CpiContext::new_with_signer(
                system.key(),
                system_program::CreateAccount {
                    from: payer.clone(),
                    to: target.clone(),
                },
                &[seeds],
            ),
            rent,
            space as u64,
            &crate::ID,
        )?;
    } else {
        // Pre-funded by someone: top the balance up to rent, then allocate
        // and assign (the three instructions `create_account` stands for,
        // none of which cares what the address already holds).
        if current < rent {
            system_program::transfer(
                CpiContext::new(
                    system.key(),
                    system_program::Transfer {
                        from: payer.clone(),
                        to: target.clone(),
                    },
                ),
                rent - current,
            )?;
        }
        system_program::allocate(
            CpiContext::new_with_signer(
                system.key(),
                system_program::Allocate {
                    account_to_allocate: target.clone(),
                },
                &[seeds],
            ),
            space as u64,
        )?;
        system_program::assign(
            CpiContext::new_with_signer(
                system.key(),
                system_program::Assign {
                    account_to_assign: target.clone(),
                },
                &[seeds],
            ),
            &crate::ID,
        )?;
    }
    store(target, value)
}

/// Zero bytes enough for the fixed part of every account type (vectors and
/// strings read as empty from zeros, so only fixed fields consume bytes).
static ZEROS: [u8; 2048] = [0; 2048];

/// What a freshly created account reads as: every field zero (empty
/// vectors and strings, first enum variants). Handlers start a new
/// account's value from it.
pub fn blank<T: AccountDeserialize>() -> Result<T> {
    T::try_deserialize_unchecked(&mut &ZEROS[..])
}

/// The account at `info` as a `T`, or `None` when nobody created it yet
/// (owned by the system program, with or without a stranger's lamports).
/// An account owned by another program, or of another type or layout, is
/// an error.
pub fn load<T: AccountDeserialize + Owner>(info: &AccountInfo<'_>) -> Result<Option<T>> {
    if *info.owner == system_program::ID && info.data_is_empty() {
        return Ok(None);
    }
    if *info.owner != T::owner() {
        return Err(Error::from(ErrorCode::AccountOwnedByWrongProgram)
            .with_pubkeys((*info.owner, T::owner())));
    }
    let data = info.try_borrow_data()?;
    T::try_deserialize(&mut &data[..]).map(Some)
}

/// Writes `value` (discriminator first) into the existing account `info`.
pub fn store<T: AccountSerialize>(info: &AccountInfo<'_>, value: &T) -> Result<()> {
    let mut data = info.try_borrow_mut_data()?;
    value.try_serialize(&mut &mut data[..])
}

/// Writes `value` into `target`, creating the account first (as [`create`]
/// does) when it does not exist yet: the `init_if_needed` of this program.
pub fn create_or_store<'info, T: AccountSerialize>(
    target: &AccountInfo<'info>,
    payer: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    seeds: &[&[u8]],
    space: usize,
    value: &T,
) -> Result<()> {
    if *target.owner == crate::ID {
        store(target, value)
    } else {
        create(target, payer, system, seeds, space, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::*;

    /// Every account type's fixed part fits the zero buffer [`blank`] reads.
    #[test]
    fn test_blank_reads_every_account_type() {
        blank::<Cluster>().unwrap();
        blank::<Computation>().unwrap();
        blank::<Consent>().unwrap();
        blank::<DkgMailbox>().unwrap();
        blank::<Identity>().unwrap();
        blank::<NodeRecord>().unwrap();
        blank::<CredentialIssuer>().unwrap();
        blank::<Provider>().unwrap();
        blank::<PatientRecord>().unwrap();
        blank::<ResearchConsent>().unwrap();
        blank::<ResearchValue>().unwrap();
        blank::<Study>().unwrap();
        blank::<StudyMember>().unwrap();
        blank::<StudyPartials>().unwrap();
        blank::<ShareResult>().unwrap();
        assert_eq!(layout::ALL.len(), 15, "a new account type: add it above");
    }
}
