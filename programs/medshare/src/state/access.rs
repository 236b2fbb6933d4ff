//! The access rule: whether a computation may still be served. One pure
//! function over plain account data, made by the program at **every
//! contribution** and at the callback, and by every node before it
//! contributes (so an honest node never publishes what the program would
//! refuse). A change to the rule is one edit here.
//!
//! A node's contribution `(U_i, W_i)` is public the moment it lands (account
//! data and transaction history), and anyone can combine `t` of them with
//! the public Lagrange coefficients into the recipient's capsule. So a rule
//! that is only checked by the callback protects nothing: the `t`-th accepted
//! contribution is the point of no return. A computation is served only
//! while:
//!
//! - the record is still open and is the same record (same generation, so
//!   the same life in any cluster) in the computation's cluster, at the
//!   same version as when the share was requested (its groups cannot be
//!   rewritten within a version, so its capsules are the ones copied into the
//!   computation);
//! - its [`Ground`] still holds: the owner asked; or, for a pull, the consent
//!   it was made under still exists, belongs to that record generation and
//!   to the requester, is not revoked (nor revoked and granted again since
//!   the request), has not ended and still covers every requested group;
//! - the record's provider policy, as it stands now, admits the recipient
//!   wallet (registry entry valid, issuer active, role allowed).

use anchor_lang::prelude::*;

use super::{Computation, Consent, CredentialIssuer, Provider, RecordHead};
use crate::error::MedshareError;

/// On what ground a computation is served. Later grounds (a delegate, a
/// guardian, emergency access, a marketplace offer) are new variants here,
/// each with its clause in [`Computation::access`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ground {
    /// The record's owner asked.
    Owner,
    /// A grantee pulled under the consent at this address.
    Consent(Pubkey),
}

/// Everything the access rule reads, as the accounts are at one moment.
#[derive(Clone, Copy, Debug)]
pub struct AccessFacts<'a> {
    /// The record's head; `None` when the record is closed.
    pub record: Option<&'a RecordHead>,
    /// The consent the computation names; `None` when it is closed (or
    /// when the computation names none).
    pub consent: Option<&'a Consent>,
    /// The recipient wallet's registry entry and its address, if it has one.
    pub provider: Option<(Pubkey, &'a Provider)>,
    /// That entry's issuer and its address.
    pub issuer: Option<(Pubkey, &'a CredentialIssuer)>,
    /// Unix time.
    pub now: i64,
}

impl Computation {
    /// The ground the computation was requested on.
    pub fn ground(&self) -> Ground {
        if self.consent == Pubkey::default() {
            Ground::Owner
        } else {
            Ground::Consent(self.consent)
        }
    }

    /// The access rule: `Ok` if the computation may still be served, else
    /// the typed reason.
    pub fn access(&self, facts: &AccessFacts<'_>) -> std::result::Result<(), MedshareError> {
        let head = facts.record.ok_or(MedshareError::RecordClosed)?;
        if head.generation != self.record_generation {
            return Err(MedshareError::RecordClosed);
        }
        if head.cluster != self.cluster {
            return Err(MedshareError::WrongCluster);
        }
        if head.version != self.record_version {
            return Err(MedshareError::RecordChanged);
        }
        match self.ground() {
            Ground::Owner => {
                if self.requester != self.owner {
                    return Err(MedshareError::NotOwner);
                }
            }
            Ground::Consent(_) => {
                let consent = facts.consent.ok_or(MedshareError::ConsentMissing)?;
                if consent.record != self.record
                    || consent.record_generation != self.record_generation
                    || consent.grantee != self.requester
                {
                    return Err(MedshareError::ConsentMissing);
                }
                // Revoked and granted again since the request: the request
                // was made under a grant that no longer exists.
                if consent.grant != self.consent_grant {
                    return Err(MedshareError::ConsentRevoked);
                }
                let mask = self.groups.iter().fold(0u8, |m, g| m | (1 << g));
                consent.check(mask, facts.now)?;
            }
        }
        head.policy().admits(
            &self.recipient_wallet,
            facts.provider,
            facts.issuer,
            facts.now,
        )
    }
}
