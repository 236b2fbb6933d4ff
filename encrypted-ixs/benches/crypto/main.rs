//! Criterion benchmarks of MedShare's cryptography, natively (on SBF the curve
//! operations are `sol_curve_*` syscalls and cost compute units instead).
//!
//! | benchmark | what is timed |
//! | --- | --- |
//! | `record/seal` | [`record::seal_group`] of a 256-byte payload: fresh `M`, cluster capsule, binding proof, owner capsule, ChaCha20-Poly1305 |
//! | `record/open` | the recipient's [`capsule::open`] of a re-encrypted capsule, then [`record::open_group_with`] |
//! | `binding/verify` | [`binding::verify`] (validate `E`, decode `C`, one 2-point MSM, one SHA-256 transcript) |
//! | `contribution/generate` | [`reencrypt::contribute`]: `(U_i, W_i)` and the sigma proof |
//! | `contribution/verify` | [`reencrypt::verify_contribution`] (native `solana-curve25519` path) |
//! | `umbral/reencrypt` | baseline: Umbral's (`umbral-pre` 0.11, secp256k1) `reencrypt_with_rng`, kfrag → verified cfrag with its proof |
//! | `umbral/cfrag_verify` | baseline: Umbral's `CapsuleFrag::verify` (kfrag signature + correctness proof) |
//! | `aggregate/t-of-n` | [`reencrypt::aggregate`] of `t` contributions, including the Lagrange check |
//! | `lagrange_coefficients/t` | [`reencrypt::lagrange_coefficients`] for nodes `1..=t` |
//! | `dkg/t-of-n` | a whole DKG of `n` nodes in one process: every round 1, every round 2, every finish |
//!
//! Every input is prepared outside the timed closure from a seeded
//! [`ChaCha20Rng`], so runs are reproducible. Run with
//! `cargo bench -p encrypted-ixs --bench crypto`.
//!
//! After criterion's groups the binary times our contribution generation and
//! verification and Umbral's re-encryption and cfrag verification once more
//! in the same process (plain [`Instant`] loops, rounds interleaved so that
//! machine load hits both sides alike) and prints the two ratios
//! `ours / Umbral` from those measurements.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BatchSize, BenchmarkId, Criterion};
use encrypted_ixs::binding;
use encrypted_ixs::capsule::{self, Capsule};
use encrypted_ixs::keys::NodeIndex;
use encrypted_ixs::point::Point;
use encrypted_ixs::record;
use encrypted_ixs::reencrypt::{self, ComputationContext, Contribution, Statement};
use rand_chacha::ChaCha20Rng;
use rand_core::RngCore;

mod fixtures;

use fixtures::*;

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
                black_box(&cluster_key),
                black_box(&f.sealed.cluster_capsule),
                black_box(&f.sealed.binding),
            )
            .expect("binding proof verifies")
        })
    });
}

/// One node's contribution to a 3-of-5 cluster's capsule, and what it takes
/// to make and to verify it.
struct ContributionBench {
    f: Fixture,
    ctx: ComputationContext,
    capsule: Capsule,
    contribution: Contribution,
}

impl ContributionBench {
    /// The bench and the RNG for [`ContributionBench::generate`].
    fn new() -> (Self, ChaCha20Rng) {
        let mut rng = rng(2);
        let f = fixture(&mut rng, 3, 5);
        let ctx = comp_ctx();
        let capsule = f.sealed.cluster_capsule;
        let contribution =
            reencrypt::contribute(&mut rng, &f.nodes[1].share, &ctx, &f.recipient, &capsule.e)
                .expect("contribute");
        let b = ContributionBench {
            f,
            ctx,
            capsule,
            contribution,
        };
        reencrypt::verify_contribution(&b.statement(), &b.contribution)
            .expect("contribution verifies");
        (b, rng)
    }

    fn statement(&self) -> Statement<'_> {
        statement(
            &self.ctx,
            &self.f.nodes[1],
            &self.f.recipient,
            &self.capsule,
        )
    }

    fn generate(&self, rng: &mut ChaCha20Rng) -> Contribution {
        reencrypt::contribute(
            rng,
            black_box(&self.f.nodes[1].share),
            black_box(&self.ctx),
            black_box(&self.f.recipient),
            black_box(&self.capsule.e),
        )
        .expect("contribute")
    }

    fn verify(&self, st: &Statement<'_>) {
        reencrypt::verify_contribution(black_box(st), black_box(&self.contribution))
            .expect("contribution verifies")
    }
}

fn bench_contribution(c: &mut Criterion) {
    let (b, mut rng) = ContributionBench::new();
    c.bench_function("contribution/generate", |bench| {
        bench.iter(|| b.generate(&mut rng))
    });
    let st = b.statement();
    c.bench_function("contribution/verify", |bench| bench.iter(|| b.verify(&st)));
}

/// Umbral (`umbral-pre` 0.11, secp256k1): Alice delegates to Bob with a
/// 3-of-5 split re-encryption key; one proxy re-encrypts a capsule with its
/// kfrag (the counterpart of a node's contribution) and Bob verifies the
/// resulting cfrag (the counterpart of the program verifying a contribution).
struct UmbralBench {
    capsule: umbral_pre::Capsule,
    kfrag: umbral_pre::VerifiedKeyFrag,
    cfrag: umbral_pre::CapsuleFrag,
    verifying_pk: umbral_pre::PublicKey,
    delegating_pk: umbral_pre::PublicKey,
    receiving_pk: umbral_pre::PublicKey,
    rng: ChaCha20Rng,
}

impl UmbralBench {
    fn new() -> Self {
        use umbral_pre::{SecretKey, Signer};
        let mut rng = rng(5);
        let delegating_sk = SecretKey::random_with_rng(&mut rng);
        let delegating_pk = delegating_sk.public_key();
        let receiving_sk = SecretKey::random_with_rng(&mut rng);
        let receiving_pk = receiving_sk.public_key();
        let signer = Signer::new(SecretKey::random_with_rng(&mut rng));
        let verifying_pk = signer.verifying_key();
        let mut payload = vec![0u8; PAYLOAD_LEN];
        rng.fill_bytes(&mut payload);
        let (capsule, ciphertext) =
            umbral_pre::encrypt_with_rng(&mut rng, &delegating_pk, &payload).expect("encrypt");
        let kfrags = umbral_pre::generate_kfrags_with_rng(
            &mut rng,
            &delegating_sk,
            &receiving_pk,
            &signer,
            3,
            5,
            true,
            true,
        );
        // Sanity: three cfrags decrypt, and each verifies.
        let cfrags: Vec<_> = kfrags[..3]
            .iter()
            .map(|k| umbral_pre::reencrypt_with_rng(&mut rng, &capsule, k.clone()))
            .collect();
        for cf in &cfrags {
            cf.clone()
                .unverify()
                .verify(&capsule, &verifying_pk, &delegating_pk, &receiving_pk)
                .expect("cfrag verifies");
        }
        let opened = umbral_pre::decrypt_reencrypted(
            &receiving_sk,
            &delegating_pk,
            &capsule,
            cfrags.clone(),
            &ciphertext,
        )
        .expect("decrypt");
        assert_eq!(&opened[..], &payload[..]);
        UmbralBench {
            capsule,
            kfrag: kfrags[1].clone(),
            cfrag: cfrags[1].clone().unverify(),
            verifying_pk,
            delegating_pk,
            receiving_pk,
            rng,
        }
    }

    fn reencrypt(&mut self, kfrag: umbral_pre::VerifiedKeyFrag) -> umbral_pre::VerifiedCapsuleFrag {
        umbral_pre::reencrypt_with_rng(&mut self.rng, black_box(&self.capsule), kfrag)
    }

    fn verify(&self, cfrag: umbral_pre::CapsuleFrag) -> umbral_pre::VerifiedCapsuleFrag {
        cfrag
            .verify(
                black_box(&self.capsule),
                black_box(&self.verifying_pk),
                black_box(&self.delegating_pk),
                black_box(&self.receiving_pk),
            )
            .map_err(|(e, _)| e)
            .expect("cfrag verifies")
    }
}

fn bench_umbral(c: &mut Criterion) {
    let mut u = UmbralBench::new();
    let mut group = c.benchmark_group("umbral");
    // Both take their fragment by value: the clone is made outside the timing.
    let kfrag = u.kfrag.clone();
    group.bench_function("reencrypt", |b| {
        b.iter_batched(|| kfrag.clone(), |k| u.reencrypt(k), BatchSize::SmallInput)
    });
    let cfrag = u.cfrag.clone();
    group.bench_function("cfrag_verify", |b| {
        b.iter_batched(|| cfrag.clone(), |cf| u.verify(cf), BatchSize::SmallInput)
    });
    group.finish();
}

/// Median of a few values.
fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Times `iters` calls of each of our two operations and each of Umbral's,
/// in `rounds` interleaved rounds, and prints the per-call medians and the
/// two ratios ours / Umbral.
fn ratios(rounds: usize, iters: usize) {
    let (ours, mut rng) = ContributionBench::new();
    let mut umbral = UmbralBench::new();
    let st_ours = ours.statement();
    let mut times: [Vec<Duration>; 4] = Default::default();
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(ours.generate(&mut rng));
        }
        times[0].push(start.elapsed() / iters as u32);

        let kfrags: Vec<_> = (0..iters).map(|_| umbral.kfrag.clone()).collect();
        let start = Instant::now();
        for k in kfrags {
            black_box(umbral.reencrypt(k));
        }
        times[1].push(start.elapsed() / iters as u32);

        let start = Instant::now();
        for _ in 0..iters {
            ours.verify(&st_ours);
        }
        times[2].push(start.elapsed() / iters as u32);

        let cfrags: Vec<_> = (0..iters).map(|_| umbral.cfrag.clone()).collect();
        let start = Instant::now();
        for cf in cfrags {
            black_box(umbral.verify(cf));
        }
        times[3].push(start.elapsed() / iters as u32);
    }
    let [gen, reenc, ver, cver] = times.map(median);
    println!();
    println!("ours vs Umbral, same process, {rounds} interleaved rounds of {iters} calls (median round):");
    println!("  contribution generate      {gen:>12.1?}");
    println!("  umbral reencrypt           {reenc:>12.1?}");
    println!("  contribution verify        {ver:>12.1?}");
    println!("  umbral cfrag verify        {cver:>12.1?}");
    println!(
        "contribution generate / umbral reencrypt = {:.2} (goal <= 0.50)",
        gen.as_secs_f64() / reenc.as_secs_f64()
    );
    println!(
        "contribution verify / umbral cfrag verify = {:.2} (goal <= 0.40)",
        ver.as_secs_f64() / cver.as_secs_f64()
    );
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
    bench_umbral,
    bench_aggregate,
    bench_lagrange,
    bench_dkg
);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Only `cargo bench` passes `--bench`; under `cargo test --benches` the
    // binary runs as a smoke test: one short round.
    if !std::env::args().any(|a| a == "--bench") {
        println!("smoke run (not `cargo bench`): the figures below are not measurements");
        ratios(1, 2);
    } else {
        ratios(5, 200);
    }
}
