//! Inputs the crypto benchmarks share: seeded randomness, contexts, a
//! cluster from a real DKG, contributions, a sealed record.

use encrypted_ixs::capsule::{Capsule, RecordContext};
use encrypted_ixs::dkg::{self, DkgOutput, DkgParams, Peer};
use encrypted_ixs::keys::{NodeIndex, TransportSecret, UserSecretKey};
use encrypted_ixs::point::Point;
use encrypted_ixs::record::{self, SealedGroup};
use encrypted_ixs::reencrypt::{self, ComputationContext, Contribution, Statement};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use std::collections::BTreeMap;

/// Size of the benchmarked field-group payload.
pub const PAYLOAD_LEN: usize = 256;

/// Record version used throughout.
pub const VERSION: u32 = 1;

/// Aggregation shapes `(t, n)`.
pub const AGGREGATE_SHAPES: [(u16, u16); 3] = [(3, 5), (5, 8), (10, 16)];

/// DKG shapes `(t, n)`.
pub const DKG_SHAPES: [(u16, u16); 2] = [(3, 5), (7, 10)];

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn idx(i: u16) -> NodeIndex {
    NodeIndex::new(i).expect("benchmarked node indices are in 1..=MAX_NODES")
}

pub fn params(t: u16, n: u16) -> DkgParams {
    DkgParams {
        cluster: [7u8; 32],
        threshold: t,
        nodes: n,
        attempt: 0,
    }
}

pub fn record_ctx() -> RecordContext {
    RecordContext {
        program_id: [1u8; 32],
        owner: [2u8; 32],
        record: [3u8; 32],
        group: 2,
    }
}

pub fn comp_ctx() -> ComputationContext {
    ComputationContext {
        program_id: [1u8; 32],
        cluster: [7u8; 32],
        computation: [9u8; 32],
        group: 2,
    }
}

/// A whole DKG in one process, through the public API only: round 1 for every
/// node, round 2 for every node, then every node's finish. `transports[i − 1]`
/// is node `i`'s transport key. Returns every node's output in index order.
pub fn run_dkg(
    rng: &mut ChaCha20Rng,
    params: &DkgParams,
    transports: &[TransportSecret],
) -> Vec<DkgOutput> {
    let nodes: Vec<NodeIndex> = (1..=params.nodes).map(idx).collect();
    let transport = |i: NodeIndex| &transports[usize::from(i.get()) - 1];

    let mut secrets1 = Vec::with_capacity(nodes.len());
    let mut round1 = BTreeMap::new();
    for &i in &nodes {
        let (secret, package) = dkg::round1(rng, params, i).expect("round 1");
        secrets1.push((i, secret));
        round1.insert(i, package);
    }
    let peers_of = |me: NodeIndex| -> BTreeMap<NodeIndex, Peer> {
        round1
            .iter()
            .filter(|(i, _)| **i != me)
            .map(|(i, package)| {
                let peer = Peer {
                    round1: package.clone(),
                    transport: transport(*i).public_key(),
                };
                (*i, peer)
            })
            .collect()
    };

    let mut secrets2 = Vec::with_capacity(nodes.len());
    let mut posted = Vec::new();
    for (i, secret) in secrets1 {
        let (secret2, packages) =
            dkg::round2(rng, params, i, secret, transport(i), &peers_of(i)).expect("round 2");
        secrets2.push((i, secret2));
        posted.extend(packages);
    }

    secrets2
        .iter()
        .map(|(i, secret2)| {
            let inbox: Vec<_> = posted.iter().filter(|p| p.to == i.get()).cloned().collect();
            dkg::finish(params, *i, secret2, transport(*i), &peers_of(*i), &inbox).expect("finish")
        })
        .collect()
}

/// Transport keys for nodes `1..=n`.
pub fn transports(rng: &mut ChaCha20Rng, n: u16) -> Vec<TransportSecret> {
    (0..n).map(|_| TransportSecret::generate(rng)).collect()
}

/// A `t`-of-`n` cluster from a real DKG.
pub fn cluster(rng: &mut ChaCha20Rng, t: u16, n: u16) -> Vec<DkgOutput> {
    let keys = transports(rng, n);
    run_dkg(rng, &params(t, n), &keys)
}

/// The program's view of node `node`'s contribution.
pub fn statement<'a>(
    ctx: &'a ComputationContext,
    node: &'a DkgOutput,
    recipient: &'a Point,
    capsule: &'a Capsule,
) -> Statement<'a> {
    let (_, verification_share) = node
        .verification_shares
        .iter()
        .find(|(i, _)| *i == node.share.index())
        .expect("a node's own verification share is listed");
    Statement {
        ctx,
        node: node.share.index(),
        recipient,
        capsule_e: &capsule.e,
        verification_share,
    }
}

/// Contributions of nodes `1..=t`, each verified.
pub fn contributions(
    rng: &mut ChaCha20Rng,
    nodes: &[DkgOutput],
    t: u16,
    recipient: &Point,
    capsule: &Capsule,
) -> Vec<(NodeIndex, Contribution)> {
    let ctx = comp_ctx();
    nodes[..usize::from(t)]
        .iter()
        .map(|node| {
            let c = reencrypt::contribute(rng, &node.share, &ctx, recipient, &capsule.e)
                .expect("contribute");
            reencrypt::verify_contribution(&statement(&ctx, node, recipient, capsule), &c)
                .expect("own contribution verifies");
            (node.share.index(), c)
        })
        .collect()
}

/// A sealed group of a random 256-byte payload for a `t`-of-`n` cluster, and
/// everything needed to re-encrypt and open it.
pub struct Fixture {
    pub nodes: Vec<DkgOutput>,
    pub owner_key: Point,
    pub doctor: UserSecretKey,
    pub recipient: Point,
    pub payload: Vec<u8>,
    pub sealed: SealedGroup,
}

pub fn fixture(rng: &mut ChaCha20Rng, t: u16, n: u16) -> Fixture {
    let nodes = cluster(rng, t, n);
    let owner = UserSecretKey::generate(rng);
    let doctor = UserSecretKey::generate(rng);
    let owner_key = owner.public_key().edwards().expect("owner key");
    let recipient = doctor.public_key().edwards().expect("recipient key");
    let mut payload = vec![0u8; PAYLOAD_LEN];
    rng.fill_bytes(&mut payload);
    let sealed = record::seal_group(
        rng,
        &record_ctx(),
        VERSION,
        &payload,
        &nodes[0].cluster_key,
        &owner_key,
    )
    .expect("seal");
    Fixture {
        nodes,
        owner_key,
        doctor,
        recipient,
        payload,
        sealed,
    }
}

/// Aggregates nodes `1..=t`'s contributions with correct coefficients.
pub fn combine(t: u16, capsule: &Capsule, contribs: &[(NodeIndex, Contribution)]) -> Capsule {
    let ids: Vec<NodeIndex> = contribs.iter().map(|(i, _)| *i).collect();
    let lambdas = reencrypt::lagrange_coefficients(&ids).expect("distinct nodes");
    let uw: Vec<(Point, Point)> = contribs.iter().map(|(_, c)| (c.u, c.w)).collect();
    reencrypt::aggregate(usize::from(t), capsule, &ids, &uw, &lambdas).expect("aggregate")
}
