//! The access rule ([`crate::state::access`]) applied to an instruction's
//! accounts: `submit_contribution` and the callback read the record, the
//! consent and the registry entries as they are now and ask
//! [`Computation::access`].

use anchor_lang::prelude::*;

use crate::error::MedshareError;
use crate::state::{AccessFacts, Computation, Consent, CredentialIssuer, Provider, RecordHead};

/// [`Computation::access`] at the current unix time over the accounts of
/// `submit_contribution` and of the callback: `record` must be the
/// computation's (a closed one reads as closed), `consent` the one it names
/// (a closed or other one reads as missing).
pub fn check_access_now<'info>(
    comp: &Computation,
    record: &UncheckedAccount<'info>,
    consent: Option<&UncheckedAccount<'info>>,
    provider: Option<&Account<'info, Provider>>,
    issuer: Option<&Account<'info, CredentialIssuer>>,
) -> Result<()> {
    require_keys_eq!(record.key(), comp.record, MedshareError::WrongRecord);
    let head = read_head(record)?;
    let consent = consent
        .filter(|c| c.key() == comp.consent)
        .and_then(|c| read_consent(c));
    comp.access(&AccessFacts {
        record: head.as_ref(),
        consent: consent.as_ref(),
        provider: provider.map(|p| (p.key(), &**p)),
        issuer: issuer.map(|i| (i.key(), &**i)),
        now: Clock::get()?.unix_timestamp,
    })?;
    Ok(())
}

/// A record account's head, `None` when it is closed.
fn read_head(info: &AccountInfo<'_>) -> Result<Option<RecordHead>> {
    if info.data_is_empty() || *info.owner != crate::ID {
        return Ok(None);
    }
    let data = info.try_borrow_data()?;
    RecordHead::from_account_data(&data).map(Some)
}

/// A consent account's contents, `None` when it is closed or not a consent.
fn read_consent(info: &AccountInfo<'_>) -> Option<Consent> {
    if *info.owner != crate::ID || info.data_is_empty() {
        return None;
    }
    let data = info.try_borrow_data().ok()?;
    Consent::try_deserialize(&mut &data[..]).ok()
}
