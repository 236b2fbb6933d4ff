//! Encrypted statistics (`stats`): 50 synthetic patients' values go in as
//! bit ciphertexts with proofs, the bit-sliced sums are decrypted by `t`
//! nodes' verified partials, and the released sums equal the plaintext
//! ones; every forgery is refused for its reason.

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use encrypted_ixs::keys::NodeIndex;
use encrypted_ixs::point::{Point, BASEPOINT};
use encrypted_ixs::reencrypt::{check_lagrange, lagrange_coefficients};
use encrypted_ixs::stats::{
    combine_partials, discrete_log, encrypt_filtered, encrypt_for_study, encrypt_value, field_id,
    partial_decrypt, slice_sums, sum_of_slices, verify_bit, verify_filtered, verify_partial,
    verify_study_value, verify_value, ElGamal, EncryptedBit, Filtered, StudyContext, StudyValue,
    ValueContext, MAX_BITS, SQUARE_BIT_BASE,
};
use encrypted_ixs::Error;
use rand_core::RngCore;

use encrypted_ixs::dkg::DkgOutput;
use rand_chacha::ChaCha20Rng;

use crate::common::{cluster, ed, idx, pt, rng, CLUSTER};

fn value_ctx(record: u8, field: u8) -> ValueContext {
    ValueContext {
        program_id: [1u8; 32],
        cluster: CLUSTER,
        record: [record; 32],
        owner: [record.wrapping_add(100); 32],
        field: [field; 32],
    }
}

fn study_ctx(slice: u16) -> StudyContext {
    StudyContext {
        program_id: [1u8; 32],
        cluster: CLUSTER,
        study: [42u8; 32],
        slice,
    }
}

/// What `t` nodes and the program do with a study's aggregates: each of
/// `signers` decrypts slice `first_slice + j` of aggregate `j` with a
/// verified proof; the Lagrange coefficients are checked; the partials
/// combine to `m_j·B`.
fn release(
    nodes: &[DkgOutput],
    signers: &[u16],
    aggs: &[ElGamal],
    first_slice: u16,
    r: &mut ChaCha20Rng,
) -> Vec<Point> {
    let ids: Vec<NodeIndex> = signers.iter().map(|i| idx(*i)).collect();
    let lambdas: Vec<[u8; 32]> = lagrange_coefficients(&ids)
        .unwrap()
        .iter()
        .map(|l| l.to_bytes())
        .collect();
    check_lagrange(&ids, &lambdas).unwrap();
    aggs.iter()
        .enumerate()
        .map(|(j, agg)| {
            let ctx = study_ctx(first_slice + j as u16);
            let partials: Vec<Point> = signers
                .iter()
                .map(|i| {
                    let node = &nodes[*i as usize - 1];
                    let p = partial_decrypt(r, &node.share, &ctx, agg).unwrap();
                    verify_partial(&ctx, idx(*i), &node.share.verification_share(), &agg.r, &p)
                        .unwrap();
                    p.d
                })
                .collect();
            combine_partials(agg, &lambdas, |k| partials[k]).unwrap()
        })
        .collect()
}

/// 50 patients' ages (7 bits) and a 0/1 indicator: the sums released by a
/// 3-of-5 cluster equal the plaintext sums, and so do the count and the mean.
#[test]
fn test_fifty_patients_sum_count_mean_exact() {
    let mut r = rng(1300);
    let nodes = cluster(3, 5, &mut r);
    let key = nodes[0].share.cluster_key();
    let ages: Vec<u64> = (0..50).map(|_| r.next_u64() % 100).collect();
    let asthma: Vec<u64> = (0..50).map(|_| r.next_u64() % 2).collect();
    let mut age_cts = Vec::new();
    let mut flag_cts = Vec::new();
    for (p, (a, f)) in ages.iter().zip(&asthma).enumerate() {
        let age = encrypt_value(&mut r, &value_ctx(p as u8, 0), &key, *a, 7).unwrap();
        let flag = encrypt_value(&mut r, &value_ctx(p as u8, 1), &key, *f, 1).unwrap();
        // What the program checks before adding a value to a study.
        verify_value(&value_ctx(p as u8, 0), &key, &age).unwrap();
        verify_value(&value_ctx(p as u8, 1), &key, &flag).unwrap();
        age_cts.push(age);
        flag_cts.push(flag);
    }
    let age_slices = release(
        &nodes,
        &[1, 3, 5],
        &slice_sums(&age_cts, 7).unwrap(),
        0,
        &mut r,
    );
    let flag_slices = release(
        &nodes,
        &[2, 4, 5],
        &slice_sums(&flag_cts, 1).unwrap(),
        7,
        &mut r,
    );
    let sum = sum_of_slices(&age_slices, 50).unwrap();
    let count = sum_of_slices(&flag_slices, 50).unwrap();
    assert_eq!(sum, ages.iter().sum::<u64>() as u128);
    assert_eq!(count, asthma.iter().sum::<u64>() as u128);
    assert_eq!(sum as f64 / 50.0, ages.iter().sum::<u64>() as f64 / 50.0);
    // Each slice is the number of patients with that bit set: at most 50.
    for (j, s) in age_slices.iter().enumerate() {
        let expected = ages.iter().filter(|a| (*a >> j) & 1 == 1).count() as u64;
        assert_eq!(discrete_log(s, 50), Some(expected), "slice {j}");
    }
}

/// A value that does not fit its bits cannot be encrypted; a bit ciphertext
/// of 2 (or −1), with a proof made for a real bit, is refused naming the bit.
#[test]
fn test_out_of_range_and_forged_bits_refused() {
    let mut r = rng(1301);
    let nodes = cluster(2, 3, &mut r);
    let key = nodes[0].share.cluster_key();
    let ctx = value_ctx(1, 0);
    assert_eq!(
        encrypt_value(&mut r, &ctx, &key, 128, 7).unwrap_err(),
        Error::ValueOutOfRange {
            value: 128,
            bits: 7
        }
    );
    assert_eq!(
        encrypt_value(&mut r, &ctx, &key, 1, 0).unwrap_err(),
        Error::InvalidBitWidth(0)
    );
    assert_eq!(
        encrypt_value(&mut r, &ctx, &key, 1, MAX_BITS + 1).unwrap_err(),
        Error::InvalidBitWidth(41)
    );
    let v = encrypt_value(&mut r, &ctx, &key, 0b101, 3).unwrap();
    // Bit 1 turned into an encryption of 2: C + 2·B.
    let mut two = v.clone();
    let c = ed(&two[1].ct.c) + ed(&BASEPOINT) + ed(&BASEPOINT);
    two[1].ct.c = pt(c);
    assert_eq!(
        verify_value(&ctx, &key, &two).unwrap_err(),
        Error::InvalidBitProof { bit: 1 }
    );
    // Bit 0 (a 1) turned into −1: C − 2·B.
    let mut neg = v.clone();
    neg[0].ct.c = pt(ed(&neg[0].ct.c) - ed(&BASEPOINT) - ed(&BASEPOINT));
    assert_eq!(
        verify_value(&ctx, &key, &neg).unwrap_err(),
        Error::InvalidBitProof { bit: 0 }
    );
    // A proof from another bit, a response or challenge changed.
    let mut swapped = v.clone();
    swapped[2].proof = v[0].proof;
    assert_eq!(
        verify_value(&ctx, &key, &swapped).unwrap_err(),
        Error::InvalidBitProof { bit: 2 }
    );
    let mut z = v.clone();
    z[0].proof.z1[0] ^= 1;
    assert_eq!(
        verify_bit(&ctx, &key, 0, &z[0]).unwrap_err(),
        Error::InvalidBitProof { bit: 0 }
    );
    let mut c0 = v.clone();
    c0[2].proof.c0[3] ^= 1;
    assert_eq!(
        verify_bit(&ctx, &key, 2, &c0[2]).unwrap_err(),
        Error::InvalidBitProof { bit: 2 }
    );
    assert_eq!(
        verify_value(&ctx, &key, &[]).unwrap_err(),
        Error::InvalidBitWidth(0)
    );
    verify_value(&ctx, &key, &v).unwrap();
}

/// A value's proofs are bound to its record, owner, field, bit position and
/// cluster key: moved anywhere else they fail.
#[test]
fn test_values_bound_to_record_owner_field_and_key() {
    let mut r = rng(1302);
    let nodes = cluster(2, 3, &mut r);
    let key = nodes[0].share.cluster_key();
    let ctx = value_ctx(7, 2);
    let v = encrypt_value(&mut r, &ctx, &key, 9, 4).unwrap();
    verify_value(&ctx, &key, &v).unwrap();
    let mut other_owner = ctx;
    other_owner.owner = [0u8; 32];
    let mut other_field = ctx;
    other_field.field = field_id("weight");
    for wrong in [value_ctx(8, 2), other_owner, other_field] {
        assert_eq!(
            verify_value(&wrong, &key, &v).unwrap_err(),
            Error::InvalidBitProof { bit: 0 }
        );
    }
    let other_key = pt(EdwardsPoint::mul_base(&Scalar::from(99u64)));
    assert_eq!(
        verify_value(&ctx, &other_key, &v).unwrap_err(),
        Error::InvalidBitProof { bit: 0 }
    );
    // Bits reordered: each proof names its position.
    let reordered: Vec<EncryptedBit> = vec![v[1], v[0], v[2], v[3]];
    assert_eq!(
        verify_value(&ctx, &key, &reordered).unwrap_err(),
        Error::InvalidBitProof { bit: 0 }
    );
}

/// A node's wrong partial decryption (its share times something else, or a
/// proof for another slice or study) is refused naming the node; combining
/// without it still works with `t` honest partials.
#[test]
fn test_wrong_partial_decryption_names_the_node() {
    let mut r = rng(1303);
    let nodes = cluster(2, 3, &mut r);
    let key = nodes[0].share.cluster_key();
    let v = encrypt_value(&mut r, &value_ctx(1, 0), &key, 1, 1).unwrap();
    let agg = slice_sums(&[v], 1).unwrap()[0];
    let ctx = study_ctx(0);
    let n2 = &nodes[1];
    let good = partial_decrypt(&mut r, &n2.share, &ctx, &agg).unwrap();
    let vs2 = n2.share.verification_share();
    verify_partial(&ctx, idx(2), &vs2, &agg.r, &good).unwrap();
    // D replaced by D + B: the decryption share is wrong.
    let mut bad = good;
    bad.d = pt(ed(&good.d) + ed(&BASEPOINT));
    assert_eq!(
        verify_partial(&ctx, idx(2), &vs2, &agg.r, &bad).unwrap_err(),
        Error::InvalidPartialDecryption { node: idx(2) }
    );
    // Replayed for another slice, another study, or claimed by node 3.
    let mut other_study = ctx;
    other_study.study = [43u8; 32];
    for wrong in [study_ctx(1), other_study] {
        assert_eq!(
            verify_partial(&wrong, idx(2), &vs2, &agg.r, &good).unwrap_err(),
            Error::InvalidPartialDecryption { node: idx(2) }
        );
    }
    let vs3 = nodes[2].share.verification_share();
    assert_eq!(
        verify_partial(&ctx, idx(3), &vs3, &agg.r, &good).unwrap_err(),
        Error::InvalidPartialDecryption { node: idx(3) }
    );
    // Node 2's partial for another aggregate does not fit this one.
    let other = encrypt_value(&mut r, &value_ctx(2, 0), &key, 1, 1).unwrap();
    let other_agg = slice_sums(&[other], 1).unwrap()[0];
    assert_eq!(
        verify_partial(&ctx, idx(2), &vs2, &other_agg.r, &good).unwrap_err(),
        Error::InvalidPartialDecryption { node: idx(2) }
    );
    // The honest pair (1, 3) decrypts to 1.
    let ids = [idx(1), idx(3)];
    let lambdas: Vec<[u8; 32]> = lagrange_coefficients(&ids)
        .unwrap()
        .iter()
        .map(|l| l.to_bytes())
        .collect();
    let ds: Vec<Point> = [0usize, 2]
        .iter()
        .map(|k| {
            partial_decrypt(&mut r, &nodes[*k].share, &ctx, &agg)
                .unwrap()
                .d
        })
        .collect();
    let m = combine_partials(&agg, &lambdas, |k| ds[k]).unwrap();
    assert_eq!(discrete_log(&m, 1), Some(1));
}

/// Baby-step giant-step finds every value up to its bound and nothing past it.
#[test]
fn test_discrete_log_bounds() {
    for max in [0u64, 1, 2, 15, 16, 17, 1000] {
        for m in [0, max / 2, max] {
            let p = pt(EdwardsPoint::mul_base(&Scalar::from(m)));
            assert_eq!(discrete_log(&p, max), Some(m), "m = {m}, max = {max}");
        }
        let past = pt(EdwardsPoint::mul_base(&Scalar::from(max + 1)));
        assert_eq!(discrete_log(&past, max), None, "max = {max}");
    }
    let big = (1u64 << 20) - 3;
    let p = pt(EdwardsPoint::mul_base(&Scalar::from(big)));
    assert_eq!(discrete_log(&p, 1 << 20), Some(big));
}

/// 50 patients' ages with their squares and 8 histogram buckets (by the top
/// 3 of 7 bits): the released sum of squares gives the exact variance, and
/// every bucket count equals the plaintext histogram.
#[test]
fn test_fifty_patients_variance_and_histogram_exact() {
    let mut r = rng(1310);
    let nodes = cluster(2, 3, &mut r);
    let key = nodes[0].share.cluster_key();
    let ages: Vec<u64> = (0..50).map(|_| r.next_u64() % 128).collect();
    let values: Vec<StudyValue> = ages
        .iter()
        .enumerate()
        .map(|(p, a)| {
            let ctx = value_ctx(p as u8, 0);
            let v = encrypt_for_study(&mut r, &ctx, &key, *a, 7, Some(3)).unwrap();
            verify_study_value(&ctx, &key, &v, Some(3)).unwrap();
            v
        })
        .collect();
    let v_bits: Vec<Vec<EncryptedBit>> = values.iter().map(|v| v.value.clone()).collect();
    let sq_bits: Vec<Vec<EncryptedBit>> = values.iter().map(|v| v.square.clone()).collect();
    let buckets: Vec<Vec<EncryptedBit>> = values
        .iter()
        .map(|v| v.bucket.as_ref().unwrap().one_hot.clone())
        .collect();
    let sum = sum_of_slices(
        &release(&nodes, &[1, 2], &slice_sums(&v_bits, 7).unwrap(), 0, &mut r),
        50,
    )
    .unwrap();
    let sum_sq = sum_of_slices(
        &release(
            &nodes,
            &[1, 2],
            &slice_sums(&sq_bits, 14).unwrap(),
            7,
            &mut r,
        ),
        50,
    )
    .unwrap();
    let hist: Vec<u64> = release(
        &nodes,
        &[1, 2],
        &slice_sums(&buckets, 8).unwrap(),
        21,
        &mut r,
    )
    .iter()
    .map(|p| discrete_log(p, 50).unwrap())
    .collect();
    let n = 50u128;
    let plain_sum: u128 = ages.iter().map(|a| *a as u128).sum();
    let plain_sq: u128 = ages.iter().map(|a| (*a as u128) * (*a as u128)).sum();
    assert_eq!((sum, sum_sq), (plain_sum, plain_sq));
    // Variance as an exact fraction: (n·Σv² − (Σv)²) / n².
    assert_eq!(n * sum_sq - sum * sum, n * plain_sq - plain_sum * plain_sum);
    let mut plain_hist = vec![0u64; 8];
    for a in &ages {
        plain_hist[(*a >> 4) as usize] += 1;
    }
    assert_eq!(hist, plain_hist);
}

/// A square that is not the value's square, a tampered square proof, a
/// bucket that is not the value's, a vector with two buckets set, and a
/// bucket missing where the study asks for one: each refused for its reason.
#[test]
fn test_forged_square_and_bucket_refused() {
    let mut r = rng(1311);
    let nodes = cluster(2, 3, &mut r);
    let key = nodes[0].share.cluster_key();
    let ctx = value_ctx(3, 0);
    let five = encrypt_for_study(&mut r, &ctx, &key, 5, 4, Some(2)).unwrap();
    let six = encrypt_for_study(&mut r, &ctx, &key, 6, 4, Some(2)).unwrap();
    let nine = encrypt_for_study(&mut r, &ctx, &key, 9, 4, Some(2)).unwrap();
    verify_study_value(&ctx, &key, &five, Some(2)).unwrap();
    // 6's square (36) under 5's value and proof.
    let mut wrong_square = five.clone();
    wrong_square.square = six.square.clone();
    assert_eq!(
        verify_study_value(&ctx, &key, &wrong_square, Some(2)).unwrap_err(),
        Error::InvalidRelationProof("square")
    );
    let mut tampered = five.clone();
    tampered.square_proof.z_t[1] ^= 1;
    assert_eq!(
        verify_study_value(&ctx, &key, &tampered, Some(2)).unwrap_err(),
        Error::InvalidRelationProof("square")
    );
    // 9 is in bucket 2 (top 2 of 4 bits), 5 in bucket 1: 9's bucket on 5.
    let mut wrong_bucket = five.clone();
    wrong_bucket.bucket = nine.bucket.clone();
    assert_eq!(
        verify_study_value(&ctx, &key, &wrong_bucket, Some(2)).unwrap_err(),
        Error::InvalidRelationProof("bucket")
    );
    // Buckets 1 and 2 both set: every bit is 0 or 1, but they sum to 2.
    let mut two_hot = five.clone();
    two_hot.bucket.as_mut().unwrap().one_hot[2] = nine.bucket.as_ref().unwrap().one_hot[2];
    assert_eq!(
        verify_study_value(&ctx, &key, &two_hot, Some(2)).unwrap_err(),
        Error::InvalidRelationProof("sum-to-one")
    );
    let mut no_bucket = five.clone();
    no_bucket.bucket = None;
    assert_eq!(
        verify_study_value(&ctx, &key, &no_bucket, Some(2)).unwrap_err(),
        Error::InvalidRelationProof("bucket")
    );
    // A value's bit used as its square's bit: the positions differ.
    let mut moved = five.clone();
    moved.square[0] = five.value[0];
    assert_eq!(
        verify_study_value(&ctx, &key, &moved, Some(2)).unwrap_err(),
        Error::InvalidBitProof {
            bit: SQUARE_BIT_BASE
        }
    );
    assert_eq!(
        encrypt_for_study(&mut r, &ctx, &key, 5, 21, None).unwrap_err(),
        Error::InvalidBitWidth(21)
    );
}

/// 50 patients' ages filtered by an asthma indicator: the released count of
/// asthmatics and the sum of their ages give their exact mean age, and
/// nothing about the others' ages is summed. A filtered value that claims
/// the age of a patient whose indicator is 0 is refused.
#[test]
fn test_filtered_mean_among_flagged_exact() {
    let mut r = rng(1320);
    let nodes = cluster(2, 3, &mut r);
    let key = nodes[0].share.cluster_key();
    let people: Vec<(u64, bool)> = (0..50)
        .map(|_| (r.next_u64() % 100, r.next_u64().is_multiple_of(3)))
        .collect();
    let mut flags = Vec::new();
    let mut filtered = Vec::new();
    for (p, (age, asthma)) in people.iter().enumerate() {
        let (ctx, fctx) = (value_ctx(p as u8, 0), value_ctx(p as u8, 1));
        let (v, f, fv) = encrypt_filtered(&mut r, &ctx, &fctx, &key, *age, 7, *asthma).unwrap();
        verify_value(&ctx, &key, &v).unwrap();
        verify_bit(&fctx, &key, 0, &f).unwrap();
        verify_filtered(&ctx, &key, &v, &f, &fv).unwrap();
        flags.push(vec![f]);
        filtered.push(fv.bits);
    }
    let count = sum_of_slices(
        &release(&nodes, &[2, 3], &slice_sums(&flags, 1).unwrap(), 0, &mut r),
        50,
    )
    .unwrap();
    let sum = sum_of_slices(
        &release(
            &nodes,
            &[2, 3],
            &slice_sums(&filtered, 7).unwrap(),
            1,
            &mut r,
        ),
        50,
    )
    .unwrap();
    let plain: Vec<u64> = people.iter().filter(|p| p.1).map(|p| p.0).collect();
    assert!(!plain.is_empty() && plain.len() < 50);
    assert_eq!(count, plain.len() as u128);
    assert_eq!(sum, plain.iter().sum::<u64>() as u128);

    // Patient 0 without the condition, claiming their age in the filtered sum.
    let (ctx, fctx) = (value_ctx(0, 0), value_ctx(0, 1));
    let (v0, f0, fv0) = encrypt_filtered(&mut r, &ctx, &fctx, &key, 40, 7, false).unwrap();
    let (_, _, fv1) = encrypt_filtered(&mut r, &ctx, &fctx, &key, 40, 7, true).unwrap();
    verify_filtered(&ctx, &key, &v0, &f0, &fv0).unwrap();
    let claimed = Filtered {
        bits: fv1.bits.clone(),
        proof: fv0.proof,
    };
    assert_eq!(
        verify_filtered(&ctx, &key, &v0, &f0, &claimed).unwrap_err(),
        Error::InvalidRelationProof("filter")
    );
    assert_eq!(
        verify_filtered(&ctx, &key, &v0, &f0, &fv1).unwrap_err(),
        Error::InvalidRelationProof("filter")
    );
    // Another record's indicator does not fit this value's proof.
    let (_, f_other, _) = encrypt_filtered(
        &mut r,
        &value_ctx(1, 0),
        &value_ctx(1, 1),
        &key,
        40,
        7,
        false,
    )
    .unwrap();
    assert_eq!(
        verify_filtered(&ctx, &key, &v0, &f_other, &fv0).unwrap_err(),
        Error::InvalidRelationProof("filter")
    );
}

/// The exact discrete Laplace sampler: over 40,000 seeded samples at scale
/// 23 (ε = 1 for an age study) and at scale 1/2, the mean, the variance and
/// `P(0)` match the distribution's (`P(x) ∝ α^|x|`, `α = e^(−1/scale)`,
/// variance `2α/(1−α)²`, `P(0) = (1−α)/(1+α)`).
#[test]
fn test_discrete_laplace_sampler_matches_its_distribution() {
    use encrypted_ixs::stats::sample_discrete_laplace;
    let mut r = rng(1310);
    for (num, den) in [(23u64, 1u64), (1, 2)] {
        let n = 40_000;
        let xs: Vec<i64> = (0..n)
            .map(|_| sample_discrete_laplace(&mut r, num, den))
            .collect();
        let alpha = (-(den as f64) / num as f64).exp();
        let var = 2.0 * alpha / (1.0 - alpha).powi(2);
        let p0 = (1.0 - alpha) / (1.0 + alpha);
        let mean = xs.iter().sum::<i64>() as f64 / n as f64;
        let got_var = xs.iter().map(|x| (*x as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        let got_p0 = xs.iter().filter(|x| **x == 0).count() as f64 / n as f64;
        // Five standard errors.
        assert!(mean.abs() < 5.0 * (var / n as f64).sqrt(), "mean {mean}");
        assert!(
            (got_var / var - 1.0).abs() < 0.05,
            "variance {got_var} vs {var}"
        );
        assert!(
            (got_p0 - p0).abs() < 5.0 * (p0 * (1.0 - p0) / n as f64).sqrt(),
            "P(0) {got_p0} vs {p0}"
        );
        assert!(xs.iter().any(|x| *x < 0) && xs.iter().any(|x| *x > 0));
    }
}

/// A node's noise for one aggregate is the `k` bits of `η + 2^(k−1)`, each
/// with its bit proof: verified at its study, aggregate, node and position
/// and refused naming the node anywhere else or tampered, so the noise it
/// adds lies in `[−2^(k−1), 2^(k−1))` whatever the node does. Added to an
/// aggregate (minus the offset), the decryption is the sum plus the noise,
/// found by the signed discrete logarithm even when negative.
#[test]
fn test_noise_bits_bound_the_noise_and_decrypt_with_the_sum() {
    use encrypted_ixs::stats::{
        discrete_log_signed, encrypt_noise_bits, noise_offset, verify_noise_bit, weighted,
    };
    let mut r = rng(1311);
    let nodes = cluster(2, 3, &mut r);
    let key = nodes[0].share.cluster_key();
    let ctx = study_ctx(3);
    let me = idx(2);
    let bits = encrypt_noise_bits(&mut r, &ctx, me, &key, -41, 8).unwrap();
    assert_eq!(bits.len(), 8);
    for (j, b) in bits.iter().enumerate() {
        verify_noise_bit(&ctx, me, &key, j as u8, b).unwrap();
    }
    let bad = Error::InvalidNoise { node: me };
    assert_eq!(
        verify_noise_bit(&study_ctx(4), me, &key, 0, &bits[0]).unwrap_err(),
        bad
    );
    assert_eq!(
        verify_noise_bit(&ctx, idx(1), &key, 0, &bits[0]).unwrap_err(),
        Error::InvalidNoise { node: idx(1) }
    );
    // Bit 3 moved to position 4 (worth twice as much): refused.
    assert_eq!(
        verify_noise_bit(&ctx, me, &key, 4, &bits[3]).unwrap_err(),
        bad
    );
    // A "bit" that encrypts 2 (to push the noise past its bound): refused.
    let mut two = bits[1];
    two.ct.c = two.ct.c.add(&BASEPOINT).unwrap();
    assert_eq!(verify_noise_bit(&ctx, me, &key, 1, &two).unwrap_err(), bad);
    let mut torsion = bits[0];
    let t8 = curve25519_dalek::constants::EIGHT_TORSION[1].compress().0;
    torsion.ct.r = torsion.ct.r.add(&Point(t8)).unwrap();
    assert_eq!(
        verify_noise_bit(&ctx, me, &key, 0, &torsion).unwrap_err(),
        bad
    );
    // The prover refuses noise outside its window.
    for (eta, ok) in [(-128, true), (127, true), (-129, false), (128, false)] {
        assert_eq!(
            encrypt_noise_bits(&mut r, &ctx, me, &key, eta, 8).is_ok(),
            ok,
            "{eta}"
        );
    }
    assert_eq!(
        encrypt_noise_bits(&mut r, &ctx, me, &key, 128, 8).unwrap_err(),
        Error::ValueOutOfRange {
            value: 256,
            bits: 8
        }
    );

    // Three values 1, 0, 1 in one aggregate, plus the noise −41: −39.
    let vctx = value_ctx(1, 1);
    let mut agg = ElGamal::ZERO;
    for v in [1u64, 0, 1] {
        let b = encrypt_value(&mut r, &vctx, &key, v, 1).unwrap();
        agg = agg.add(&b[0].ct).unwrap();
    }
    let cts: Vec<ElGamal> = bits.iter().map(|b| b.ct).collect();
    let noise = weighted(&cts).unwrap();
    let offset = pt(EdwardsPoint::mul_base(&Scalar::from(noise_offset(8))));
    agg = agg.add(&noise).unwrap();
    agg.c = agg.c.sub(&offset).unwrap();
    let m = release(&nodes, &[1, 3], &[agg], 0, &mut r);
    assert_eq!(discrete_log_signed(&m[0], -100, 103), Some(-39));
    assert_eq!(discrete_log_signed(&m[0], -30, 103), None);
}

/// A node's noise sample lies in its window, both ends reached when the
/// window is narrow against the scale, and comes from the generator it is
/// given (two draws differ); a width outside `1..=MAX_NOISE_BITS` is refused.
#[test]
fn test_noise_sample_stays_in_its_window() {
    use encrypted_ixs::stats::{noise_sample, MAX_NOISE_BITS};
    let mut r = rng(1313);
    let tight: Vec<i64> = (0..200)
        .map(|_| noise_sample(&mut r, 50_000, 1_000, 2).unwrap())
        .collect();
    assert!(tight.iter().all(|e| (-2..2).contains(e)), "{tight:?}");
    assert!(tight.contains(&-2) && tight.contains(&1));
    let wide: Vec<i64> = (0..40)
        .map(|_| noise_sample(&mut r, 50_000, 1_000, 12).unwrap())
        .collect();
    assert!(wide.iter().all(|e| (-2048..2048).contains(e)));
    assert!(wide.windows(2).any(|w| w[0] != w[1]));
    for k in [0, MAX_NOISE_BITS + 1] {
        assert_eq!(
            noise_sample(&mut r, 1_000, 1_000, k),
            Err(Error::InvalidBitWidth(k as usize))
        );
    }
}

/// The attack the subgroup check in `verify_bit` stops: a "bit" whose `C`
/// carries a point of order 2, with a proof ground until the real branch's
/// challenge is even (half the attempts), satisfies every proof equation
/// and the challenge. Accepted, it would put torsion into a study's sum,
/// which then decrypts to no count at all. `verify_bit` refuses it.
#[test]
fn test_torsion_bit_with_a_ground_proof_refused() {
    use curve25519_dalek::traits::Identity;
    use encrypted_ixs::stats::BitProof;
    use encrypted_ixs::transcript::{tags, Challenge, Transcript};
    let mut r = rng(1312);
    let nodes = cluster(2, 3, &mut r);
    let key = nodes[0].share.cluster_key();
    let p = ed(&key);
    let b = EdwardsPoint::mul_base(&Scalar::ONE);
    let ctx = value_ctx(5, 1);
    // The point of order 2: (0, −1).
    let t2 = curve25519_dalek::constants::EIGHT_TORSION[4];
    assert!(t2 != EdwardsPoint::identity() && (t2 + t2) == EdwardsPoint::identity());
    let scalar = |c: &[u8; 16]| Scalar::from(u128::from_le_bytes(*c));
    let (forged, attempts) = (1..=64)
        .find_map(|attempt| {
            let rr = Scalar::random(&mut r);
            let (big_r, big_c) = (b * rr, p * rr + t2);
            let k = Scalar::random(&mut r);
            let (a0, a0p) = (b * k, p * k);
            let mut c1 = [0u8; 16];
            r.fill_bytes(&mut c1);
            let z1 = Scalar::random(&mut r);
            let (a1, a1p) = (
                b * z1 - big_r * scalar(&c1),
                p * z1 - (big_c - b) * scalar(&c1),
            );
            let mut tr = Transcript::new(tags::STATS_BIT);
            for (label, bytes) in [
                (&b"program"[..], &ctx.program_id[..]),
                (b"cluster", &ctx.cluster),
                (b"record", &ctx.record),
                (b"owner", &ctx.owner),
                (b"field", &ctx.field),
                (b"bit", &[0u8]),
                (b"P", &key.0),
            ] {
                tr.append(label, bytes);
            }
            for (label, pt) in [
                (&b"R"[..], big_r),
                (b"C", big_c),
                (b"A0", a0),
                (b"A0'", a0p),
                (b"A1", a1),
                (b"A1'", a1p),
            ] {
                tr.append(label, &pt.compress().0);
            }
            let c: Challenge = tr.challenge();
            let mut c0 = [0u8; 16];
            for i in 0..16 {
                c0[i] = c.0[i] ^ c1[i];
            }
            // c0·T2 = 0 exactly when c0 is even.
            if c0[0] & 1 == 1 {
                return None;
            }
            let z0 = k + scalar(&c0) * rr;
            // Every verification equation holds for the forgery.
            assert_eq!(b * z0 - big_r * scalar(&c0), a0);
            assert_eq!(p * z0 - big_c * scalar(&c0), a0p);
            assert_eq!(b * z1 - big_r * scalar(&c1), a1);
            assert_eq!(p * z1 - (big_c - b) * scalar(&c1), a1p);
            let bit = EncryptedBit {
                ct: ElGamal {
                    r: pt(big_r),
                    c: pt(big_c),
                },
                proof: BitProof {
                    c0,
                    c1,
                    z0: z0.to_bytes(),
                    z1: z1.to_bytes(),
                },
            };
            Some((bit, attempt))
        })
        .expect("an even challenge within 64 attempts");
    assert!(attempts <= 64);
    assert_eq!(
        verify_bit(&ctx, &key, 0, &forged).unwrap_err(),
        Error::InvalidBitProof { bit: 0 }
    );
}

/// A patient's device whose RNG repeats its state (a cloned VM, a reseeded
/// PRNG) posts two values for two records. Before hedging, both got the same
/// randomness bit for bit: the difference of two ciphertexts at a position
/// was `(b − b')·B` (the bits compared in the clear), and reused proof
/// nonces gave the randomness itself. With hedged randomness no ciphertext
/// randomness repeats, and the difference of the two ciphertexts at a
/// position is never `0` or `±B`.
#[test]
fn test_repeated_rng_state_reveals_no_bits() {
    use rand_core::SeedableRng;
    let nodes = cluster(2, 3, &mut rng(2307));
    let key = nodes[0].cluster_key;
    let (a, b) = (0b101_0110_u64, 0b101_0011_u64);
    let mut first = ChaCha20Rng::seed_from_u64(7);
    let mut again = ChaCha20Rng::seed_from_u64(7);
    let ca = encrypt_value(&mut first, &value_ctx(1, 1), &key, a, 7).unwrap();
    let cb = encrypt_value(&mut again, &value_ctx(2, 1), &key, b, 7).unwrap();
    for (j, (x, y)) in ca.iter().zip(&cb).enumerate() {
        assert_ne!(x.ct.r, y.ct.r, "bit {j}: the same randomness twice");
        let diff = x.ct.c.sub(&y.ct.c).ok();
        for leak in [
            Some(encrypted_ixs::point::IDENTITY),
            Some(BASEPOINT),
            Some(BASEPOINT.neg()),
        ] {
            assert_ne!(diff, leak, "bit {j} compared in the clear");
        }
        assert_ne!(x.proof.z0, y.proof.z0, "bit {j}: a response repeated");
        assert_ne!(x.proof.z1, y.proof.z1, "bit {j}: a response repeated");
    }
    // The same record and value under the same state: the same ciphertexts
    // (nothing more is learnt than that it was posted twice).
    let mut third = ChaCha20Rng::seed_from_u64(7);
    let ca2 = encrypt_value(&mut third, &value_ctx(1, 1), &key, a, 7).unwrap();
    assert_eq!(ca2[0].ct, ca[0].ct);
}
