//! PDA derivations, used by the program's clients (CLI, nodes, tests).

use anchor_lang::prelude::Pubkey;

use crate::constants::*;

/// The cluster PDA.
pub fn cluster(admin: &Pubkey, cluster_id: u32) -> Pubkey {
    Pubkey::find_program_address(
        &[SEED_CLUSTER, admin.as_ref(), &cluster_id.to_le_bytes()],
        &crate::ID,
    )
    .0
}

/// A node's DKG mailbox.
pub fn dkg_mailbox(cluster: &Pubkey, index: u8) -> Pubkey {
    Pubkey::find_program_address(&[SEED_DKG, cluster.as_ref(), &[index]], &crate::ID).0
}

/// A node's service record (contribution and fault counters).
pub fn node_record(cluster: &Pubkey, index: u8) -> Pubkey {
    Pubkey::find_program_address(&[SEED_NODE, cluster.as_ref(), &[index]], &crate::ID).0
}

/// A wallet's identity.
pub fn identity(wallet: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[SEED_IDENTITY, wallet.as_ref()], &crate::ID).0
}

/// A patient record.
pub fn record(owner: &Pubkey, record_id: u64) -> Pubkey {
    Pubkey::find_program_address(
        &[SEED_RECORD, owner.as_ref(), &record_id.to_le_bytes()],
        &crate::ID,
    )
    .0
}

/// A computation.
pub fn computation(cluster: &Pubkey, id: u64) -> Pubkey {
    Pubkey::find_program_address(
        &[SEED_COMPUTATION, cluster.as_ref(), &id.to_le_bytes()],
        &crate::ID,
    )
    .0
}

/// A computation's share result.
pub fn share_result(computation: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[SEED_SHARE_RESULT, computation.as_ref()], &crate::ID).0
}

/// A consent.
pub fn consent(record: &Pubkey, grantee: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[SEED_CONSENT, record.as_ref(), grantee.as_ref()],
        &crate::ID,
    )
    .0
}

/// A credential issuer of a cluster.
pub fn issuer(cluster: &Pubkey, issuer: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[SEED_ISSUER, cluster.as_ref(), issuer.as_ref()],
        &crate::ID,
    )
    .0
}

/// A provider's registry entry in a cluster.
pub fn provider(cluster: &Pubkey, provider: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[SEED_PROVIDER, cluster.as_ref(), provider.as_ref()],
        &crate::ID,
    )
    .0
}
