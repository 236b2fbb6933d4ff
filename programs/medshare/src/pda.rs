//! PDA derivations, used by the program's clients (CLI, nodes, tests).

use anchor_lang::prelude::Pubkey;

use crate::constants::*;

/// The cluster PDA.
pub fn cluster(admin: &Pubkey, cluster_id: u32) -> Pubkey {
    cluster_and_bump(admin, cluster_id).0
}

/// The cluster PDA, with its bump seed.
pub fn cluster_and_bump(admin: &Pubkey, cluster_id: u32) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[SEED_CLUSTER, admin.as_ref(), &cluster_id.to_le_bytes()],
        &crate::ID,
    )
}

/// A node's DKG mailbox.
pub fn dkg_mailbox(cluster: &Pubkey, index: u8) -> Pubkey {
    dkg_mailbox_and_bump(cluster, index).0
}

/// A node's DKG mailbox, with its bump seed.
pub fn dkg_mailbox_and_bump(cluster: &Pubkey, index: u8) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SEED_DKG, cluster.as_ref(), &[index]], &crate::ID)
}

/// A node's service record (contribution and fault counters).
pub fn node_record(cluster: &Pubkey, index: u8) -> Pubkey {
    node_record_and_bump(cluster, index).0
}

/// A node's service record (contribution and fault counters), with its bump seed.
pub fn node_record_and_bump(cluster: &Pubkey, index: u8) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SEED_NODE, cluster.as_ref(), &[index]], &crate::ID)
}

/// A wallet's identity.
pub fn identity(wallet: &Pubkey) -> Pubkey {
    identity_and_bump(wallet).0
}

/// A wallet's identity, with its bump seed.
pub fn identity_and_bump(wallet: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SEED_IDENTITY, wallet.as_ref()], &crate::ID)
}

/// A patient record.
pub fn record(owner: &Pubkey, record_id: u64) -> Pubkey {
    record_and_bump(owner, record_id).0
}

/// A patient record, with its bump seed.
pub fn record_and_bump(owner: &Pubkey, record_id: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[SEED_RECORD, owner.as_ref(), &record_id.to_le_bytes()],
        &crate::ID,
    )
}

/// A computation.
pub fn computation(cluster: &Pubkey, id: u64) -> Pubkey {
    computation_and_bump(cluster, id).0
}

/// A computation, with its bump seed.
pub fn computation_and_bump(cluster: &Pubkey, id: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[SEED_COMPUTATION, cluster.as_ref(), &id.to_le_bytes()],
        &crate::ID,
    )
}

/// A computation's share result.
pub fn share_result(computation: &Pubkey) -> Pubkey {
    share_result_and_bump(computation).0
}

/// A computation's share result, with its bump seed.
pub fn share_result_and_bump(computation: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SEED_SHARE_RESULT, computation.as_ref()], &crate::ID)
}

/// A consent.
pub fn consent(record: &Pubkey, grantee: &Pubkey) -> Pubkey {
    consent_and_bump(record, grantee).0
}

/// A consent, with its bump seed.
pub fn consent_and_bump(record: &Pubkey, grantee: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[SEED_CONSENT, record.as_ref(), grantee.as_ref()],
        &crate::ID,
    )
}

/// A credential issuer of a cluster.
pub fn issuer(cluster: &Pubkey, issuer: &Pubkey) -> Pubkey {
    issuer_and_bump(cluster, issuer).0
}

/// A credential issuer of a cluster, with its bump seed.
pub fn issuer_and_bump(cluster: &Pubkey, issuer: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[SEED_ISSUER, cluster.as_ref(), issuer.as_ref()],
        &crate::ID,
    )
}

/// A provider's registry entry in a cluster.
pub fn provider(cluster: &Pubkey, provider: &Pubkey) -> Pubkey {
    provider_and_bump(cluster, provider).0
}

/// A provider's registry entry in a cluster, with its bump seed.
pub fn provider_and_bump(cluster: &Pubkey, provider: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[SEED_PROVIDER, cluster.as_ref(), provider.as_ref()],
        &crate::ID,
    )
}

/// A record's research consent.
pub fn research_consent(record: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[SEED_RESEARCH_CONSENT, record.as_ref()], &crate::ID).0
}

/// A record's research value of a field.
pub fn research_value(record: &Pubkey, field: &[u8; 32]) -> Pubkey {
    Pubkey::find_program_address(
        &[SEED_RESEARCH_VALUE, record.as_ref(), field.as_ref()],
        &crate::ID,
    )
    .0
}

/// Study number `number` of a cluster.
pub fn study(cluster: &Pubkey, number: u64) -> Pubkey {
    Pubkey::find_program_address(
        &[SEED_STUDY, cluster.as_ref(), &number.to_le_bytes()],
        &crate::ID,
    )
    .0
}

/// A record's membership of a study.
pub fn study_member(study: &Pubkey, record: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[SEED_STUDY_MEMBER, study.as_ref(), record.as_ref()],
        &crate::ID,
    )
    .0
}

/// Node `index`'s partial decryptions of a study.
pub fn study_partials(study: &Pubkey, index: u8) -> Pubkey {
    Pubkey::find_program_address(&[SEED_STUDY_PARTIALS, study.as_ref(), &[index]], &crate::ID).0
}
