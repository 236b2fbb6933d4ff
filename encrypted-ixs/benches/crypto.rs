//! Criterion benchmarks of MedShare's cryptography, natively (on SBF the curve
//! operations are `sol_curve_*` syscalls and cost compute units instead).
//!
//! | benchmark | what is timed |
//! | --- | --- |
//! | `record/seal` | [`record::seal_group`] of a 256-byte payload: fresh `M`, cluster capsule, binding proof, owner capsule, ChaCha20-Poly1305 |
//! | `record/open` | the recipient's [`capsule::open`] of a re-encrypted capsule, then [`record::open_group_with`] |
//! | `binding/verify` | [`binding::verify`] (two point validations, one 2-point MSM, one transcript) |
//! | `contribution/generate` | [`reencrypt::contribute`]: `(U_i, W_i)` and the sigma proof |
//! | `contribution/verify` | [`reencrypt::verify_contribution`] (native `solana-curve25519` path) |
//! | `aggregate/t-of-n` | [`reencrypt::aggregate`] of `t` contributions, including the Lagrange check |
//! | `lagrange_coefficients/t` | [`reencrypt::lagrange_coefficients`] for nodes `1..=t` |
//! | `dkg/t-of-n` | a whole DKG of `n` nodes in one process: every round 1, every round 2, every finish |
//!
//! Every input is prepared outside the timed closure from a seeded
//! [`ChaCha20Rng`], so runs are reproducible. Run with
//! `cargo bench -p encrypted-ixs --bench crypto`.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use encrypted_ixs::binding;
use encrypted_ixs::capsule::{self, Capsule, RecordContext};
use encrypted_ixs::dkg::{self, DkgOutput, DkgParams, Peer};
use encrypted_ixs::keys::{NodeIndex, TransportSecret, UserSecretKey};
use encrypted_ixs::point::Point;
use encrypted_ixs::record::{self, SealedGroup};
use encrypted_ixs::reencrypt::{self, ComputationContext, Contribution, Statement};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// Size of the benchmarked field-group payload.
const PAYLOAD_LEN: usize = 256;

/// Record version used throughout.
const VERSION: u32 = 1;

/// Aggregation shapes `(t, n)`.
const AGGREGATE_SHAPES: [(u16, u16); 3] = [(3, 5), (5, 8), (10, 16)];

/// DKG shapes `(t, n)`.
const DKG_SHAPES: [(u16, u16); 2] = [(3, 5), (7, 10)];

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn idx(i: u16) -> NodeIndex {
    NodeIndex::new(i).expect("benchmarked node indices are in 1..=MAX_NODES")
}

fn params(t: u16, n: u16) -> DkgParams {
    DkgParams {
        cluster: [7u8; 32],
        threshold: t,
        nodes: n,
    }
}

fn record_ctx() -> RecordContext {
    RecordContext {
        program_id: [1u8; 32],
        owner: [2u8; 32],
        record: [3u8; 32],
        group: 2,
    }
}

fn comp_ctx() -> ComputationContext {
    ComputationContext {
        computation: [9u8; 32],
        group: 2,
    }
}

/// A whole DKG in one process, through the public API only: round 1 for every
/// node, round 2 for every node, then every node's finish. `transports[i − 1]`
/// is node `i`'s transport key. Returns every node's output in index order.
fn run_dkg(
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
fn transports(rng: &mut ChaCha20Rng, n: u16) -> Vec<TransportSecret> {
    (0..n).map(|_| TransportSecret::generate(rng)).collect()
}

/// A `t`-of-`n` cluster from a real DKG.
fn cluster(rng: &mut ChaCha20Rng, t: u16, n: u16) -> Vec<DkgOutput> {
    let keys = transports(rng, n);
    run_dkg(rng, &params(t, n), &keys)
}

/// The program's view of node `node`'s contribution.
fn statement<'a>(
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
fn contributions(
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
struct Fixture {
    nodes: Vec<DkgOutput>,
    owner_key: Point,
    doctor: UserSecretKey,
    recipient: Point,
    payload: Vec<u8>,
    sealed: SealedGroup,
}

fn fixture(rng: &mut ChaCha20Rng, t: u16, n: u16) -> Fixture {
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
fn combine(t: u16, capsule: &Capsule, contribs: &[(NodeIndex, Contribution)]) -> Capsule {
    let ids: Vec<NodeIndex> = contribs.iter().map(|(i, _)| *i).collect();
    let lambdas = reencrypt::lagrange_coefficients(&ids).expect("distinct nodes");
    let uw: Vec<(Point, Point)> = contribs.iter().map(|(_, c)| (c.u, c.w)).collect();
    reencrypt::aggregate(usize::from(t), capsule, &ids, &uw, &lambdas).expect("aggregate")
}

fn bench_record(c: &mut Criterion) {
    let mut rng = rng(1);
    let f = fixture(&mut rng, 3, 5);
    let ctx = record_ctx();
    let cluster_key = f.nodes[0].cluster_key;

    c.bench_function("record/seal", |b| {
        b.iter(|| {
            record::seal_group(
                &mut rng,
                black_box(&ctx),
                VERSION,
                black_box(&f.payload),
                black_box(&cluster_key),
                black_box(&f.owner_key),
            )
            .expect("seal")
        })
    });

    let contribs = contributions(
        &mut rng,
        &f.nodes,
        3,
        &f.recipient,
        &f.sealed.cluster_capsule,
    );
    let reencrypted = combine(3, &f.sealed.cluster_capsule, &contribs);
    let opened = record::open_group_with(
        &f.sealed,
        &capsule::open(&reencrypted, &f.doctor).expect("open capsule"),
        &ctx,
        VERSION,
    )
    .expect("open group");
    assert_eq!(&opened[..], &f.payload[..]);

    c.bench_function("record/open", |b| {
        b.iter(|| {
            let m = capsule::open(black_box(&reencrypted), black_box(&f.doctor)).expect("open");
            record::open_group_with(black_box(&f.sealed), &m, black_box(&ctx), VERSION)
                .expect("decrypt")
        })
    });

    c.bench_function("binding/verify", |b| {
        b.iter(|| {
            binding::verify(
                black_box(&ctx),
                black_box(&f.sealed.cluster_capsule),
                black_box(&f.sealed.binding),
            )
            .expect("binding proof verifies")
        })
    });
}

fn bench_contribution(c: &mut Criterion) {
    let mut rng = rng(2);
    let f = fixture(&mut rng, 3, 5);
    let ctx = comp_ctx();
    let node = &f.nodes[1];
    let capsule = f.sealed.cluster_capsule;

    c.bench_function("contribution/generate", |b| {
        b.iter(|| {
            reencrypt::contribute(
                &mut rng,
                black_box(&node.share),
                black_box(&ctx),
                black_box(&f.recipient),
                black_box(&capsule.e),
            )
            .expect("contribute")
        })
    });

    let contribution = reencrypt::contribute(&mut rng, &node.share, &ctx, &f.recipient, &capsule.e)
        .expect("contribute");
    let st = statement(&ctx, node, &f.recipient, &capsule);
    c.bench_function("contribution/verify", |b| {
        b.iter(|| {
            reencrypt::verify_contribution(black_box(&st), black_box(&contribution))
                .expect("contribution verifies")
        })
    });
}

fn bench_aggregate(c: &mut Criterion) {
    let mut group = c.benchmark_group("aggregate");
    for (t, n) in AGGREGATE_SHAPES {
        let mut rng = rng(3 + u64::from(n));
        let f = fixture(&mut rng, t, n);
        let capsule = f.sealed.cluster_capsule;
        let contribs = contributions(&mut rng, &f.nodes, t, &f.recipient, &capsule);
        let ids: Vec<NodeIndex> = contribs.iter().map(|(i, _)| *i).collect();
        let lambdas = reencrypt::lagrange_coefficients(&ids).expect("distinct nodes");
        let uw: Vec<(Point, Point)> = contribs.iter().map(|(_, c)| (c.u, c.w)).collect();
        // The aggregate opens to the payload: the timed inputs are the real ones.
        let m = capsule::open(&combine(t, &capsule, &contribs), &f.doctor).expect("open");
        let opened =
            record::open_group_with(&f.sealed, &m, &record_ctx(), VERSION).expect("decrypt");
        assert_eq!(&opened[..], &f.payload[..]);

        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{t}-of-{n}")),
            &(capsule, ids, uw, lambdas),
            |b, (capsule, ids, uw, lambdas)| {
                b.iter(|| {
                    reencrypt::aggregate(
                        usize::from(t),
                        black_box(capsule),
                        black_box(ids),
                        black_box(uw),
                        black_box(lambdas),
                    )
                    .expect("aggregate")
                })
            },
        );
    }
    group.finish();
}

fn bench_lagrange(c: &mut Criterion) {
    let mut group = c.benchmark_group("lagrange_coefficients");
    for (t, _) in AGGREGATE_SHAPES {
        let ids: Vec<NodeIndex> = (1..=t).map(idx).collect();
        group.bench_with_input(BenchmarkId::from_parameter(t), &ids, |b, ids| {
            b.iter(|| reencrypt::lagrange_coefficients(black_box(ids)).expect("distinct nodes"))
        });
    }
    group.finish();
}

fn bench_dkg(c: &mut Criterion) {
    let mut group = c.benchmark_group("dkg");
    group.sample_size(10);
    for (t, n) in DKG_SHAPES {
        let mut rng = rng(100 + u64::from(n));
        // Transport keys are long-lived (registered with the node), not part of a run.
        let keys = transports(&mut rng, n);
        let params = params(t, n);
        let outputs = run_dkg(&mut rng, &params, &keys);
        assert!(outputs
            .iter()
            .all(|o| o.cluster_key == outputs[0].cluster_key));

        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{t}-of-{n}")),
            &(params, keys),
            |b, (params, keys)| b.iter(|| run_dkg(&mut rng, black_box(params), black_box(keys))),
        );
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_record,
    bench_contribution,
    bench_aggregate,
    bench_lagrange,
    bench_dkg
);
criterion_main!(benches);
