//! The access decision, made again at **every contribution** and at the
//! callback.
//!
//! A node's contribution `(U_i, W_i)` is public the moment it lands (account
//! data and transaction history), and anyone can combine `t` of them with
//! the public Lagrange coefficients into the recipient's capsule. So a rule
//! that is only checked by the callback protects nothing: the `t`-th accepted
//! contribution is the point of no return. `submit_contribution` therefore
//! refuses a contribution unless, at that moment:
//!
//! - the record is still open and is the same record (same generation, so
//!   the same life in any cluster) in the computation's cluster, at the
//!   same version as when the share was requested (its groups cannot be
//!   rewritten within a version, so its capsules are the ones copied into the
//!   computation);
//! - for a pull, the consent it was made under still exists, belongs to that
//!   record generation, is not revoked (nor revoked and granted again since
//!   the request), has not ended and still covers every requested group;
//! - the record's provider policy, as it stands now, admits the recipient
//!   wallet (registry entry valid, issuer active, role allowed).
//!
//! The callback runs the same check; there it is bookkeeping (once `t`
//! contributions are accepted the recipient can combine them off-chain).

use anchor_lang::prelude::*;

use crate::error::MedshareError;
use crate::state::{Computation, Consent, CredentialIssuer, Provider, RecordHead};

/// The accounts the access decision reads.
pub struct AccessAccounts<'a, 'info> {
    /// The record account named by the computation (possibly closed).
    pub record: &'a AccountInfo<'info>,
    /// The consent a pull was made under (required for a pull; a closed one
    /// reads as missing).
    pub consent: Option<&'a AccountInfo<'info>>,
    /// The recipient wallet's registry entry (required under a policy).
    pub provider: Option<&'a Account<'info, Provider>>,
    /// Its issuer's entry.
    pub issuer: Option<&'a Account<'info, CredentialIssuer>>,
}

/// `Ok` if the computation may still progress at unix time `now`; otherwise
/// the typed reason.
pub fn check_access(comp: &Computation, a: &AccessAccounts<'_, '_>, now: i64) -> Result<()> {
    require_keys_eq!(a.record.key(), comp.record, MedshareError::WrongRecord);
    if a.record.data_is_empty() || *a.record.owner != crate::ID {
        return err!(MedshareError::RecordClosed);
    }
    let head = {
        let data = a.record.try_borrow_data()?;
        RecordHead::from_account_data(&data)?
    };
    require!(
        head.generation == comp.record_generation,
        MedshareError::RecordClosed
    );
    require_keys_eq!(head.cluster, comp.cluster, MedshareError::WrongCluster);
    require!(
        head.version == comp.record_version,
        MedshareError::RecordChanged
    );
    if comp.consent != Pubkey::default() {
        let consent = a
            .consent
            .filter(|c| c.key() == comp.consent)
            .and_then(read_consent)
            .ok_or(MedshareError::ConsentMissing)?;
        require!(
            consent.record == comp.record && consent.record_generation == comp.record_generation,
            MedshareError::ConsentMissing
        );
        // Revoked and granted again since the request: the request was made
        // under a grant that no longer exists.
        require!(
            consent.grant == comp.consent_grant,
            MedshareError::ConsentRevoked
        );
        let mask = comp.groups.iter().fold(0u8, |m, g| m | (1 << g));
        consent.check(mask, now)?;
    }
    head.policy()
        .check(&comp.recipient_wallet, a.provider, a.issuer, now)?;
    Ok(())
}

/// [`check_access`] at the current unix time, for the accounts of
/// `submit_contribution` and of the callback.
pub fn check_access_now<'info>(
    comp: &Computation,
    record: &UncheckedAccount<'info>,
    consent: Option<&UncheckedAccount<'info>>,
    provider: Option<&Account<'info, Provider>>,
    issuer: Option<&Account<'info, CredentialIssuer>>,
) -> Result<()> {
    let record = record.to_account_info();
    let consent = consent.map(|c| c.to_account_info());
    check_access(
        comp,
        &AccessAccounts {
            record: &record,
            consent: consent.as_ref(),
            provider,
            issuer,
        },
        Clock::get()?.unix_timestamp,
    )
}

/// A consent account's contents, `None` when it is closed or not a consent.
fn read_consent(info: &AccountInfo<'_>) -> Option<Consent> {
    if *info.owner != crate::ID || info.data_is_empty() {
        return None;
    }
    let data = info.try_borrow_data().ok()?;
    Consent::try_deserialize(&mut &data[..]).ok()
}
