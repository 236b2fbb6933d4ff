//! Wire sizes of the largest transaction of each kind, against the 1,232-byte
//! packet limit (IPv6 MTU 1,280 − 48 bytes of headers).
//!
//! Pure sizes: instructions are built with the SDK's builders and signed over
//! a dummy blockhash, nothing is sent. `write_record_group` at the inline limit
//! is covered by `records.rs` (`test_write_group_at_inline_limit_fits_one_packet`).
//!
//! Every node transaction is measured twice:
//! - `node pays`: the node authority is the fee payer and sole signer (how
//!   `mpc-node` sends), plus a `set_compute_unit_limit` instruction;
//! - `relayed`: a separate fee payer co-signs (one more signature and
//!   account), plus `set_compute_unit_limit` and `set_compute_unit_price`.
//!
//! Run with `cargo test -p medshare --test program limits -- --nocapture` to see the figures.

use std::collections::BTreeMap;

use crate::common::sdk;
use encrypted_ixs::dkg::{self, DkgParams, EncryptedRound2, Peer};
use encrypted_ixs::keys::{NodeIndex, TransportSecret};
use encrypted_ixs::point::BASEPOINT;
use medshare::constants::{MAX_NODES, MAX_ROUND1_LEN, MAX_ROUND2_CIPHERTEXT, MAX_SHARE_GROUPS};
use medshare::instructions::{ConfirmDkgArgs, ContributionArg, Round2Arg};
use medshare::state::{Computation, ComputationStatus};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::hash::Hash;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use solana_sdk::transaction::Transaction;

/// Largest transaction the network accepts, in bytes.
const PACKET: usize = 1232;

/// Wire size: signatures (compact-u16 count + 64 each) + message.
fn wire_size(tx: &Transaction) -> usize {
    let sigs = tx.signatures.len();
    assert!(sigs < 128, "a one-byte compact-u16 signature count");
    1 + 64 * sigs + tx.message_data().len()
}

fn signed(ixs: &[Instruction], payer: &Keypair, signers: &[&Keypair]) -> Transaction {
    Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), signers, Hash::default())
}

/// Measures `ix` sent by `node` in both configurations, prints and asserts
/// both fit one packet; returns `(node pays, relayed)`.
fn measure(name: &str, ixn: Instruction, node: &Keypair) -> (usize, usize) {
    let limit = ComputeBudgetInstruction::set_compute_unit_limit(1_400_000);
    let price = ComputeBudgetInstruction::set_compute_unit_price(1_000);
    let own = wire_size(&signed(&[limit.clone(), ixn.clone()], node, &[node]));
    let relayer = Keypair::new();
    let relayed = wire_size(&signed(&[limit, price, ixn], &relayer, &[&relayer, node]));
    println!(
        "{name}: {own} B node pays ({} B left), {relayed} B relayed ({} B left)",
        PACKET as isize - own as isize,
        PACKET as isize - relayed as isize,
    );
    assert!(own <= PACKET, "{name}: {own} B > {PACKET} B (node pays)");
    assert!(
        relayed <= PACKET,
        "{name}: {relayed} B > {PACKET} B (relayed)"
    );
    (own, relayed)
}

/// A cluster address for the size tests (any 32 bytes would do).
fn cluster_address() -> Pubkey {
    medshare::pda::cluster(&Keypair::new().pubkey(), 1)
}

/// The state of computation 0 of `cluster` the node builders read: its
/// cluster, record, requester, share result and consent (`None` for a push);
/// the rest is left empty, as it does not reach the instruction.
fn pending(cluster: Pubkey, consent: Option<Pubkey>) -> (Pubkey, Computation) {
    let computation = medshare::pda::computation(&cluster, 0);
    let comp = Computation {
        cluster,
        id: 0,
        record: medshare::pda::record(&Keypair::new().pubkey(), 1),
        record_version: 1,
        record_generation: 0,
        owner: Pubkey::default(),
        requester: Keypair::new().pubkey(),
        recipient: [0; 32],
        recipient_wallet: Pubkey::default(),
        groups: vec![],
        capsules: vec![],
        contributors: vec![],
        partials: vec![],
        faulty: 0,
        status: ComputationStatus::Pending,
        created_slot: 0,
        expiry_slot: 0,
        share_result: medshare::pda::share_result(&computation),
        consent: consent.unwrap_or_default(),
        bump: 0,
        consent_grant: 0,
    };
    (computation, comp)
}

/// A contribution of `groups` groups; `pull_under_policy` names all four
/// access accounts (record, consent, provider, issuer), otherwise only the
/// record (a push to a record without a policy).
fn contribution_ix(node: &Keypair, groups: usize, pull_under_policy: bool) -> Instruction {
    let arg = ContributionArg {
        u: [0x11; 32],
        w: [0x22; 32],
        c: [0x33; 16],
        z_r: [0x44; 32],
        z_s: [0x55; 32],
    };
    let consent = pull_under_policy.then(|| Keypair::new().pubkey());
    let (computation, comp) = pending(cluster_address(), consent);
    let registry = pull_under_policy.then(|| (Keypair::new().pubkey(), Keypair::new().pubkey()));
    sdk::submit_contribution(
        node.pubkey(),
        1,
        computation,
        &comp,
        registry,
        vec![arg; groups],
    )
}

#[test]
fn test_submit_contribution_all_groups_fits_one_packet() {
    assert_eq!(MAX_SHARE_GROUPS, 5);
    let node = Keypair::new();
    let ixn = contribution_ix(&node, MAX_SHARE_GROUPS, false);
    // 8-byte discriminator, 4-byte length, 144 bytes per group.
    assert_eq!(ixn.data.len(), 8 + 4 + 144 * MAX_SHARE_GROUPS);
    measure("submit_contribution (g = 5, push, no policy)", ixn, &node);
    // A pull under a provider policy names the consent, the provider and the
    // issuer too: with 5 groups it fits when the node pays (as mpc-node
    // sends), and relayed up to 4 groups.
    let limit = ComputeBudgetInstruction::set_compute_unit_limit(1_400_000);
    let ixn = contribution_ix(&node, MAX_SHARE_GROUPS, true);
    let own = wire_size(&signed(&[limit, ixn], &node, &[&node]));
    println!("submit_contribution (g = 5, pull under a policy): {own} B node pays");
    assert!(own <= PACKET, "{own} B > {PACKET} B");
    measure(
        "submit_contribution (g = 4, pull under a policy)",
        contribution_ix(&node, MAX_SHARE_GROUPS - 1, true),
        &node,
    );
}

fn callback_ix(node: &Keypair, t: usize) -> Instruction {
    let (computation, comp) = pending(cluster_address(), None);
    sdk::share_patient_data_callback(node.pubkey(), computation, &comp, None, vec![[0x66; 32]; t])
}

#[test]
fn test_share_callback_fits_one_packet() {
    let node = Keypair::new();
    let ixn = callback_ix(&node, 10);
    assert_eq!(ixn.data.len(), 8 + 4 + 32 * 10);
    measure("share_patient_data_callback (t = 10)", ixn, &node);
    // The true maximum: one coefficient per contributor, at most t ≤ MAX_NODES.
    let ixn = callback_ix(&node, MAX_NODES);
    measure("share_patient_data_callback (t = 16)", ixn, &node);
}

#[test]
fn test_post_dkg_round1_t16_fits_one_packet() {
    let mut rng = ChaCha20Rng::seed_from_u64(71);
    let cluster = cluster_address();
    let params = DkgParams {
        cluster: cluster.to_bytes(),
        threshold: 16,
        nodes: 16,
        attempt: 0,
    };
    let (_secret, package) = dkg::round1(&mut rng, &params, NodeIndex::new(16).unwrap()).unwrap();
    println!(
        "frost round-1 package, t = 16: {} B (MAX_ROUND1_LEN = {MAX_ROUND1_LEN})",
        package.len()
    );
    assert!(package.len() <= MAX_ROUND1_LEN);
    let node = Keypair::new();
    let ixn = sdk::post_dkg_round1(node.pubkey(), cluster, 16, package, [9; 32]);
    measure("post_dkg_round1 (t = 16)", ixn, &node);
}

/// Runs rounds 1 and 2 of a real DKG; returns node 1's encrypted round-2 packages.
fn round2_of_node1(t: u16, n: u16, cluster: &Pubkey, seed: u64) -> Vec<EncryptedRound2> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let params = DkgParams {
        cluster: cluster.to_bytes(),
        threshold: t,
        nodes: n,
        attempt: 0,
    };
    let transports: Vec<TransportSecret> = (0..n)
        .map(|_| TransportSecret::generate(&mut rng))
        .collect();
    let mut secrets1 = BTreeMap::new();
    let mut round1 = BTreeMap::new();
    for i in 1..=n {
        let me = NodeIndex::new(i).unwrap();
        let (s, p) = dkg::round1(&mut rng, &params, me).unwrap();
        secrets1.insert(me, s);
        round1.insert(me, p);
    }
    let me = NodeIndex::new(1).unwrap();
    let peers: BTreeMap<NodeIndex, Peer> = round1
        .iter()
        .filter(|(i, _)| **i != me)
        .map(|(i, r1)| {
            (
                *i,
                Peer {
                    round1: r1.clone(),
                    transport: transports[i.get() as usize - 1].public_key(),
                },
            )
        })
        .collect();
    let secret = secrets1.remove(&me).unwrap();
    let (_s2, out) = dkg::round2(&mut rng, &params, me, secret, &transports[0], &peers).unwrap();
    assert_eq!(out.len(), n as usize - 1);
    out
}

#[test]
fn test_post_dkg_round2_five_packages_fits_one_packet() {
    let cluster = cluster_address();
    // The real ciphertext length, from a real 2-of-3 DKG.
    let small = round2_of_node1(2, 3, &cluster, 72);
    let ct_len = small[0].ciphertext.len();
    println!(
        "encrypted round-2 package: {ct_len} B (MAX_ROUND2_CIPHERTEXT = {MAX_ROUND2_CIPHERTEXT})"
    );
    assert!(small.iter().all(|p| p.ciphertext.len() == ct_len));
    assert!(ct_len > 16 && ct_len <= MAX_ROUND2_CIPHERTEXT);
    // The package carries one scalar whatever t and n: a 16-of-16 DKG's are
    // the same size, and a node of it posts 15 packages, 5 per transaction.
    let large = round2_of_node1(16, 16, &cluster, 73);
    assert!(large.iter().all(|p| p.ciphertext.len() == ct_len));
    let node = Keypair::new();
    let packages: Vec<Round2Arg> = large
        .iter()
        .take(5)
        .map(|p| Round2Arg {
            to: p.to as u8,
            nonce: p.nonce,
            ciphertext: p.ciphertext.clone(),
        })
        .collect();
    assert_eq!(packages.len(), 5);
    let ixn = sdk::post_dkg_round2(node.pubkey(), cluster, 1, packages);
    measure("post_dkg_round2 (5 packages)", ixn, &node);
}

#[test]
fn test_confirm_dkg_n16_fits_one_packet() {
    let node = Keypair::new();
    let cluster = cluster_address();
    let ixn = sdk::confirm_dkg(
        node.pubkey(),
        cluster,
        ConfirmDkgArgs {
            cluster_key: BASEPOINT.0,
            verification_shares: vec![BASEPOINT.0; MAX_NODES],
        },
    );
    assert_eq!(ixn.data.len(), 8 + 32 + 4 + 32 * MAX_NODES);
    measure("confirm_dkg (n = 16)", ixn, &node);
}

/// The account sizes the README's account table gives (8-byte discriminator
/// included), so the table cannot drift from the code.
#[test]
fn test_account_sizes_as_documented() {
    use anchor_lang::Space;
    use medshare::state::*;
    let sizes = [
        ("Cluster", 8 + Cluster::INIT_SPACE, 2_256),
        ("NodeRecord", 8 + NodeRecord::INIT_SPACE, 86),
        ("DkgMailbox", 8 + DkgMailbox::INIT_SPACE, 1_974),
        ("Identity", 8 + Identity::INIT_SPACE, 98),
        ("ShareResult", 8 + ShareResult::INIT_SPACE, 587),
        ("Consent", 8 + Consent::INIT_SPACE, 215),
        ("CredentialIssuer", 8 + CredentialIssuer::INIT_SPACE, 82),
        ("Provider", 8 + Provider::INIT_SPACE, 187),
        ("ResearchConsent", 8 + ResearchConsent::INIT_SPACE, 502),
        ("Study", 8 + Study::INIT_SPACE, 5_191),
        ("StudyMember", 8 + StudyMember::INIT_SPACE, 146),
        ("StudyPartials", 8 + StudyPartials::INIT_SPACE, 622),
        (
            "ResearchValue (age: 29 slices)",
            ResearchValue::space(7, 3),
            2_014,
        ),
    ];
    let wrong: Vec<_> = sizes
        .iter()
        .filter(|(_, actual, documented)| actual != documented)
        .collect();
    assert!(wrong.is_empty(), "(name, actual, documented): {wrong:?}");
    // Computation: 649 + 321·t bytes (sized for 5 groups).
    for (t, documented) in [(2, 1_291), (3, 1_612), (16, 5_785)] {
        assert_eq!(
            Computation::space(t, MAX_SHARE_GROUPS),
            documented,
            "Computation t={t}"
        );
    }
}
