//! What a node signs: registration, the DKG, contributions and callbacks.
//!
//! Nodes are named by their 1-based cluster index ([`encrypted_ixs`]'s
//! `NodeIndex` as a `u8`), the index the program's PDAs use.

use medshare::instructions::{ConfirmDkgArgs, ContributionArg, Round2Arg};
use medshare::state::Computation;
use medshare::{accounts as a, instruction as d, pda};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

use super::{instruction, Registry, SYSTEM};

/// `register_node`: node `index` registers its X25519 transport key and opens
/// its DKG mailbox and service record.
pub fn register_node(
    node: Pubkey,
    cluster: Pubkey,
    index: u8,
    transport_key: [u8; 32],
) -> Instruction {
    instruction(
        a::RegisterNode {
            node,
            cluster,
            mailbox: pda::dkg_mailbox(&cluster, index),
            node_record: pda::node_record(&cluster, index),
            system_program: SYSTEM,
        },
        d::RegisterNode { transport_key },
    )
}

/// `post_dkg_round1`: node `index` posts its public round-1 package and this
/// attempt's ephemeral X25519 key.
pub fn post_dkg_round1(
    node: Pubkey,
    cluster: Pubkey,
    index: u8,
    package: Vec<u8>,
    ephemeral_key: [u8; 32],
) -> Instruction {
    instruction(
        a::PostDkgRound1 {
            node,
            cluster,
            mailbox: pda::dkg_mailbox(&cluster, index),
        },
        d::PostDkgRound1 {
            package,
            ephemeral_key,
        },
    )
}

/// `post_dkg_round2`: node `index` posts encrypted round-2 packages.
pub fn post_dkg_round2(
    node: Pubkey,
    cluster: Pubkey,
    index: u8,
    packages: Vec<Round2Arg>,
) -> Instruction {
    instruction(
        a::PostDkgRound2 {
            node,
            cluster,
            mailbox: pda::dkg_mailbox(&cluster, index),
        },
        d::PostDkgRound2 { packages },
    )
}

/// `post_dkg_complaint`: node `index` accuses node `accused`, revealing its
/// ephemeral secret for the attempt.
pub fn post_dkg_complaint(
    node: Pubkey,
    cluster: Pubkey,
    index: u8,
    accused: u8,
    ephemeral_secret: [u8; 32],
) -> Instruction {
    instruction(
        a::PostDkgComplaint {
            node,
            cluster,
            mailbox: pda::dkg_mailbox(&cluster, index),
        },
        d::PostDkgComplaint {
            accused,
            ephemeral_secret,
        },
    )
}

/// `confirm_dkg`: a node confirms the cluster key and verification shares.
pub fn confirm_dkg(node: Pubkey, cluster: Pubkey, args: ConfirmDkgArgs) -> Instruction {
    instruction(a::ConfirmDkg { node, cluster }, d::ConfirmDkg { args })
}

/// The consent account a computation names (`None` for a push share).
fn consent_of(comp: &Computation) -> Option<Pubkey> {
    (comp.consent != Pubkey::default()).then_some(comp.consent)
}

/// `submit_contribution`: node `index` contributes to `computation` (whose
/// state is `comp`). `registry` is the recipient's provider entry and its
/// issuer when the record's policy needs them.
pub fn submit_contribution(
    node: Pubkey,
    index: u8,
    computation: Pubkey,
    comp: &Computation,
    registry: Registry,
    contributions: Vec<ContributionArg>,
) -> Instruction {
    instruction(
        a::SubmitContribution {
            node,
            cluster: comp.cluster,
            node_record: pda::node_record(&comp.cluster, index),
            computation,
            record: comp.record,
            consent: consent_of(comp),
            provider: registry.map(|r| r.0),
            issuer: registry.map(|r| r.1),
        },
        d::SubmitContribution { contributions },
    )
}

/// `share_patient_data_callback`: a node combines `t` contributions with
/// these Lagrange coefficients (one per contributor, in contribution order).
pub fn share_patient_data_callback(
    node: Pubkey,
    computation: Pubkey,
    comp: &Computation,
    registry: Registry,
    lagrange: Vec<[u8; 32]>,
) -> Instruction {
    instruction(
        a::SharePatientDataCallback {
            node,
            cluster: comp.cluster,
            computation,
            share_result: comp.share_result,
            requester: comp.requester,
            consent: consent_of(comp),
            record: comp.record,
            provider: registry.map(|r| r.0),
            issuer: registry.map(|r| r.1),
        },
        d::SharePatientDataCallback { lagrange },
    )
}

/// `close_node_accounts`: node `index` of a retired cluster closes its
/// mailbox and service record (rent back to it).
pub fn close_node_accounts(node: Pubkey, cluster: Pubkey, index: u8) -> Instruction {
    instruction(
        a::CloseNodeAccounts {
            node,
            cluster,
            mailbox: pda::dkg_mailbox(&cluster, index),
            node_record: pda::node_record(&cluster, index),
        },
        d::CloseNodeAccounts {},
    )
}
