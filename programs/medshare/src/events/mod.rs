//! Events: one per state change, so a patient, a node or an auditor can follow
//! everything from the ledger. All carry the slot (and unix time where a person
//! reads it).
//!
//! Split by who causes them, like the instructions: [`admin`], [`node`],
//! [`user`], [`provider`], [`research`]; every event is re-exported here.

pub mod admin;
pub mod close;
pub mod node;
pub mod provider;
pub mod research;
pub mod user;

pub use admin::*;
pub use close::*;
pub use node::*;
pub use provider::*;
pub use research::*;
pub use user::*;

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::*;

    fn byte<T: AnchorSerialize>(v: T) -> Vec<u8> {
        let mut out = Vec::new();
        v.serialize(&mut out).unwrap();
        out
    }

    /// The kind enums encode as the single byte the former `kind: u8` held,
    /// so events already in the ledger still decode.
    #[test]
    fn kinds_keep_their_former_bytes() {
        assert_eq!(byte(RecordChange::Created), [0]);
        assert_eq!(byte(RecordChange::NewVersion), [1]);
        assert_eq!(byte(RecordChange::Closed), [2]);
        assert_eq!(byte(ConsentChange::Granted), [0]);
        assert_eq!(byte(ConsentChange::Modified), [1]);
        assert_eq!(byte(ConsentChange::Revoked), [2]);
        assert_eq!(byte(ConsentChange::Closed), [3]);
        assert_eq!(byte(RegistryChange::IssuerAppointed), [0]);
        assert_eq!(byte(RegistryChange::ProviderRevoked), [3]);
        assert_eq!(byte(LifecycleChange::DkgRestarted), [0]);
        assert_eq!(byte(LifecycleChange::Retired), [1]);
        // DkgStep's byte moved from 1..=3 to the variant index.
        assert_eq!(byte(DkgStepKind::Round1), [0]);
        assert_eq!(byte(DkgStepKind::Confirmed), [2]);
    }
}
