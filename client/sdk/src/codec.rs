//! Conversions between the cryptography's types ([`encrypted_ixs`]) and the
//! program's account and argument types.

use std::collections::BTreeMap;

use encrypted_ixs::binding::BindingProof;
use encrypted_ixs::capsule::RecordContext;
use encrypted_ixs::dkg::{EncryptedRound2, Peer};
use encrypted_ixs::keys::{NodeIndex, TransportPublic};
use encrypted_ixs::record::SealedGroup;
use encrypted_ixs::reencrypt::Contribution;
use medshare::instructions::{ContributionArg, Round2Arg, WriteGroupArgs};
use medshare::state::{DkgMailbox, StoredGroup};
use solana_sdk::pubkey::Pubkey;

/// The record context a field group is bound to (its binding proof and its
/// capsules' AAD): this program, the owner, the record and the group.
pub fn record_ctx(owner: &Pubkey, record: &Pubkey, group: u8) -> RecordContext {
    RecordContext {
        program_id: medshare::ID.to_bytes(),
        owner: owner.to_bytes(),
        record: record.to_bytes(),
        group,
    }
}

/// A group as the record account stores it, back in the form
/// [`encrypted_ixs::record`] opens.
pub fn stored_to_sealed(s: &StoredGroup) -> SealedGroup {
    SealedGroup {
        group: s.group,
        cluster_capsule: s.cluster_capsule.into(),
        binding: BindingProof::from_bytes(&s.binding),
        owner_capsule: s.owner_capsule.into(),
        nonce: s.nonce,
        ciphertext: s.ciphertext.clone(),
    }
}

/// A sealed group as `write_record_group` takes it.
pub fn write_args(sealed: SealedGroup) -> WriteGroupArgs {
    WriteGroupArgs {
        group: sealed.group,
        cluster_capsule: sealed.cluster_capsule.into(),
        binding: sealed.binding.to_bytes(),
        owner_capsule: sealed.owner_capsule.into(),
        nonce: sealed.nonce,
        ciphertext: sealed.ciphertext,
    }
}

/// A node's contribution for one group as `submit_contribution` takes it.
pub fn contribution_arg(c: &Contribution) -> ContributionArg {
    ContributionArg {
        u: c.u.0,
        w: c.w.0,
        c: c.proof.c,
        z_r: c.proof.z_r,
        z_s: c.proof.z_s,
    }
}

/// A node's DKG peers, from the mailboxes of this attempt (keyed by node
/// index): every other node's public round-1 package and its ephemeral
/// transport key. Indices without a mailbox are left out.
pub fn dkg_peers(
    size: u16,
    mailboxes: &BTreeMap<u16, DkgMailbox>,
    me: NodeIndex,
) -> BTreeMap<NodeIndex, Peer> {
    (1..=size)
        .filter(|j| *j != me.get())
        .filter_map(|j| {
            let mb = mailboxes.get(&j)?;
            Some((
                NodeIndex::new(j).ok()?,
                Peer {
                    round1: mb.round1.clone(),
                    transport: TransportPublic(mb.ephemeral_key),
                },
            ))
        })
        .collect()
}

/// The round-2 packages addressed to node `me`, from every mailbox.
pub fn dkg_inbox<'a>(
    mailboxes: impl IntoIterator<Item = &'a DkgMailbox>,
    me: NodeIndex,
) -> Vec<EncryptedRound2> {
    mailboxes
        .into_iter()
        .flat_map(|mb| {
            mb.round2
                .iter()
                .filter(|p| p.to as u16 == me.get())
                .map(|p| EncryptedRound2 {
                    from: mb.index as u16,
                    to: p.to as u16,
                    nonce: p.nonce,
                    ciphertext: p.ciphertext.clone(),
                })
        })
        .collect()
}

/// Round-2 packages as `post_dkg_round2` takes them.
pub fn round2_args(packages: &[EncryptedRound2]) -> Vec<Round2Arg> {
    packages
        .iter()
        .map(|p| Round2Arg {
            to: p.to as u8,
            nonce: p.nonce,
            ciphertext: p.ciphertext.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use encrypted_ixs::keys::UserSecretKey;
    use encrypted_ixs::record::{open_own_group, seal_group};
    use rand_core::OsRng;

    #[test]
    fn a_group_written_and_read_back_opens_for_its_owner() {
        let owner = Pubkey::new_unique();
        let record = Pubkey::new_unique();
        let me = UserSecretKey::generate(&mut OsRng);
        let me_edwards = me.public_key().edwards().unwrap();
        let cluster_key = UserSecretKey::generate(&mut OsRng)
            .public_key()
            .edwards()
            .unwrap();
        let ctx = record_ctx(&owner, &record, 2);
        let sealed = seal_group(
            &mut OsRng,
            &ctx,
            3,
            b"{\"age\":41}",
            &cluster_key,
            &me_edwards,
        )
        .unwrap();
        let args = write_args(sealed.clone());
        let stored = StoredGroup::from(args);
        let back = stored_to_sealed(&stored);
        assert_eq!(back.ciphertext, sealed.ciphertext);
        assert_eq!(back.binding.to_bytes(), sealed.binding.to_bytes());
        assert_eq!(
            open_own_group(&back, &me, &ctx, 3).unwrap().as_slice(),
            b"{\"age\":41}"
        );
        // Bound to its record: another record's context does not open it.
        let other = record_ctx(&owner, &Pubkey::new_unique(), 2);
        assert!(open_own_group(&back, &me, &other, 3).is_err());
    }
}
