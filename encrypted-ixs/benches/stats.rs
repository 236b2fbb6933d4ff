//! Criterion benchmarks of encrypted statistics (`stats`), natively.
//!
//! | benchmark | what is timed |
//! | --- | --- |
//! | `stats/encrypt_value/7` | a patient encrypting a 7-bit value (an age): 7 bit ciphertexts and their OR-proofs |
//! | `stats/verify_value/7` | verifying those 7 bits (what the program will run with curve syscalls) |
//! | `stats/encrypt_for_study/7+3` | a 7-bit value with its square (14 bits, square proof) and its bucket among 8 (one-hot, two zero proofs) |
//! | `stats/verify_study_value/7+3` | verifying all of it |
//! | `stats/partial_decrypt` | a node's partial decryption of one aggregate and its Chaum–Pedersen proof |
//! | `stats/verify_partial` | verifying it |
//! | `stats/discrete_log/2^20` | baby-step giant-step for a slice sum in `[0, 2^20]`, worst case (the bound itself) |
//! | `stats/sum_of_slices/40x2^20` | recovering a 40-bit sum over a cohort of 2^20 records: 40 slice logarithms, each worst case |
//!
//! Inputs come from a seeded [`ChaCha20Rng`]. Run with
//! `cargo bench -p encrypted-ixs --bench stats`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use encrypted_ixs::keys::{KeyShare, NodeIndex};
use encrypted_ixs::point::Point;
use encrypted_ixs::stats::{
    discrete_log, encrypt_for_study, encrypt_noise_bits, encrypt_value, field_id, noise_sample,
    partial_decrypt, slice_sums, sum_of_slices, verify_partial, verify_study_value, verify_value,
    StudyContext, ValueContext,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn pt(p: EdwardsPoint) -> Point {
    Point(p.compress().0)
}

fn bench_stats(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    // A 1-of-1 "cluster": s = 5, P = 5·B (the costs do not depend on t).
    let s = Scalar::from(5u64);
    let key = pt(EdwardsPoint::mul_base(&s));
    let share = KeyShare::new(NodeIndex::new(1).unwrap(), s, key, 1).unwrap();
    let ctx = ValueContext {
        program_id: [1; 32],
        cluster: [2; 32],
        record: [3; 32],
        owner: [4; 32],
        field: field_id("age"),
    };
    c.bench_function("stats/encrypt_value/7", |b| {
        b.iter(|| encrypt_value(&mut rng, &ctx, &key, black_box(42), 7).unwrap())
    });
    let v = encrypt_value(&mut rng, &ctx, &key, 42, 7).unwrap();
    c.bench_function("stats/verify_value/7", |b| {
        b.iter(|| verify_value(&ctx, &key, black_box(&v)).unwrap())
    });
    c.bench_function("stats/encrypt_for_study/7+3", |b| {
        b.iter(|| encrypt_for_study(&mut rng, &ctx, &key, black_box(42), 7, Some(3)).unwrap())
    });
    let sv = encrypt_for_study(&mut rng, &ctx, &key, 42, 7, Some(3)).unwrap();
    c.bench_function("stats/verify_study_value/7+3", |b| {
        b.iter(|| verify_study_value(&ctx, &key, black_box(&sv), Some(3)).unwrap())
    });
    let agg = slice_sums(std::slice::from_ref(&v), 7).unwrap()[0];
    let sctx = StudyContext {
        program_id: [1; 32],
        cluster: [2; 32],
        study: [5; 32],
        slice: 0,
    };
    c.bench_function("stats/partial_decrypt", |b| {
        b.iter(|| partial_decrypt(&mut rng, &share, &sctx, black_box(&agg)).unwrap())
    });
    let p = partial_decrypt(&mut rng, &share, &sctx, &agg).unwrap();
    let vs = share.verification_share();
    c.bench_function("stats/verify_partial", |b| {
        b.iter(|| verify_partial(&sctx, share.index(), &vs, &agg.r, black_box(&p)).unwrap())
    });
    // A node's whole part in one age study at ε = 1 (10 released
    // aggregates: the sum, the sum of squares and 8 buckets, with 15, 22
    // and 9 noise bits): a noise sample and its bits per aggregate, then a
    // partial decryption per aggregate.
    c.bench_function("stats/node_study/age", |b| {
        b.iter(|| {
            // (bits, scale) per statistic, as `medshare::state::noise_plan`
            // gives them: sum 381, sum of squares 48,387, buckets 6.
            let plan = [(15u8, 381_000u64), (22, 48_387_000)]
                .into_iter()
                .chain([(9u8, 6_000u64); 8]);
            for (j, (k, scale)) in plan.enumerate() {
                let ctx = StudyContext {
                    slice: j as u16,
                    ..sctx
                };
                let eta = noise_sample(&mut rng, scale, 1_000, k).unwrap();
                black_box(encrypt_noise_bits(&mut rng, &ctx, share.index(), &key, eta, k).unwrap());
                black_box(partial_decrypt(&mut rng, &share, &ctx, &agg).unwrap());
            }
        })
    });
    let max = 1u64 << 20;
    let worst = pt(EdwardsPoint::mul_base(&Scalar::from(max)));
    let mut g = c.benchmark_group("stats/slow");
    g.sample_size(10);
    g.bench_function("discrete_log/2^20", |b| {
        b.iter(|| assert_eq!(discrete_log(black_box(&worst), max), Some(max)))
    });
    let slices = vec![worst; 40];
    g.bench_function("sum_of_slices/40x2^20", |b| {
        b.iter(|| sum_of_slices(black_box(&slices), max).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_stats);
criterion_main!(benches);
