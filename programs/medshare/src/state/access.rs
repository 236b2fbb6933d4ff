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
#[derive(Clone, Copy)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ProviderRole;
    use crate::utils::accounts::blank;

    const NOW: i64 = 1_800_000_000;

    /// A decision as its error code, for comparing.
    fn code(r: std::result::Result<(), MedshareError>) -> std::result::Result<(), u32> {
        r.map_err(|e| e as u32)
    }

    struct World {
        comp: Computation,
        head: RecordHead,
        consent: Consent,
        provider: Provider,
        issuer: CredentialIssuer,
    }

    /// A pull of groups 0 and 2 under a live consent, by a doctor whose
    /// registry entry the record's policy admits.
    fn world() -> World {
        let (cluster, record, owner, doctor) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let mut comp: Computation = blank().unwrap();
        comp.cluster = cluster;
        comp.record = record;
        comp.record_version = 3;
        comp.record_generation = 7;
        comp.owner = owner;
        comp.requester = doctor;
        comp.recipient_wallet = doctor;
        comp.groups = vec![0, 2];
        comp.consent = crate::pda::consent(&record, &doctor);
        comp.consent_grant = 2;
        let head = RecordHead {
            owner,
            cluster,
            record_id: 1,
            author: owner,
            version: 3,
            generation: 7,
            created_at: 0,
            updated_at: 0,
            required_roles: ProviderRole::Doctor.bit(),
        };
        let mut consent: Consent = blank().unwrap();
        consent.record = record;
        consent.record_generation = 7;
        consent.owner = owner;
        consent.grantee = doctor;
        consent.group_mask = 0b101;
        consent.expires_at = NOW + 1;
        consent.grant = 2;
        let issuer_wallet = Pubkey::new_unique();
        let mut provider: Provider = blank().unwrap();
        provider.cluster = cluster;
        provider.provider = doctor;
        provider.issuer = issuer_wallet;
        provider.role = ProviderRole::Doctor;
        provider.valid_until = NOW + 1;
        let mut issuer: CredentialIssuer = blank().unwrap();
        issuer.cluster = cluster;
        issuer.issuer = issuer_wallet;
        issuer.active = true;
        World {
            comp,
            head,
            consent,
            provider,
            issuer,
        }
    }

    fn decide(w: &World) -> std::result::Result<(), MedshareError> {
        let cluster = w.head.cluster;
        w.comp.access(&AccessFacts {
            record: Some(&w.head),
            consent: Some(&w.consent),
            provider: Some((
                crate::pda::provider(&cluster, &w.provider.provider),
                &w.provider,
            )),
            issuer: Some((crate::pda::issuer(&cluster, &w.issuer.issuer), &w.issuer)),
            now: NOW,
        })
    }

    /// Every clause of the rule, each refusal with its exact reason.
    #[test]
    fn test_access_rule_refuses_each_broken_clause_with_its_reason() {
        assert_eq!(code(decide(&world())), Ok(()));
        type Break = fn(&mut World);
        let cases: [(Break, MedshareError); 12] = [
            (|w| w.head.generation = 8, MedshareError::RecordClosed),
            (
                |w| w.head.cluster = Pubkey::new_unique(),
                MedshareError::WrongCluster,
            ),
            (|w| w.head.version = 4, MedshareError::RecordChanged),
            (
                |w| w.consent.record_generation = 6,
                MedshareError::ConsentMissing,
            ),
            (
                |w| w.consent.grantee = Pubkey::new_unique(),
                MedshareError::ConsentMissing,
            ),
            (|w| w.consent.grant = 3, MedshareError::ConsentRevoked),
            (|w| w.consent.revoked = true, MedshareError::ConsentRevoked),
            (
                |w| w.consent.expires_at = NOW,
                MedshareError::ConsentExpired,
            ),
            (
                |w| w.consent.group_mask = 0b001,
                MedshareError::ConsentScope,
            ),
            (
                |w| w.provider.revoked = true,
                MedshareError::ProviderRevoked,
            ),
            (|w| w.issuer.active = false, MedshareError::IssuerRevoked),
            (
                |w| w.provider.role = ProviderRole::Insurer,
                MedshareError::ProviderRoleNotAllowed,
            ),
        ];
        for (k, (brk, reason)) in cases.into_iter().enumerate() {
            let mut w = world();
            brk(&mut w);
            assert_eq!(code(decide(&w)), Err(reason as u32), "case {k}");
        }
    }

    /// A closed record or consent, a missing registry entry, and the owner's
    /// own request (no consent, no policy to pass for itself when it names
    /// no wallet).
    #[test]
    fn test_access_rule_on_missing_accounts_and_the_owners_ground() {
        let w = world();
        let facts = |record, consent| AccessFacts {
            record,
            consent,
            provider: None,
            issuer: None,
            now: NOW,
        };
        assert_eq!(
            code(w.comp.access(&facts(None, Some(&w.consent)))),
            Err(MedshareError::RecordClosed as u32)
        );
        assert_eq!(
            code(w.comp.access(&facts(Some(&w.head), None))),
            Err(MedshareError::ConsentMissing as u32)
        );
        assert_eq!(
            code(w.comp.access(&facts(Some(&w.head), Some(&w.consent)))),
            Err(MedshareError::ProviderNotVerified as u32)
        );
        let mut own = w.comp.clone();
        own.consent = Pubkey::default();
        own.requester = own.owner;
        own.recipient_wallet = Pubkey::default();
        let mut open = w.head;
        open.required_roles = 0;
        assert_eq!(own.ground(), Ground::Owner);
        assert_eq!(code(own.access(&facts(Some(&open), None))), Ok(()));
        own.requester = Pubkey::new_unique();
        assert_eq!(
            code(own.access(&facts(Some(&open), None))),
            Err(MedshareError::NotOwner as u32)
        );
    }
}
