//! Seal → re-encrypt by any `t` of `n` → open, for many cluster shapes.

use crate::common::*;
use encrypted_ixs::capsule::open;
use encrypted_ixs::keys::UserSecretKey;
use encrypted_ixs::record::{open_group_with, open_own_group, seal_group};
use encrypted_ixs::Error;

fn subsets(t: u16, n: u16) -> Vec<Vec<u16>> {
    let first: Vec<u16> = (1..=t).collect();
    let last: Vec<u16> = (n - t + 1..=n).collect();
    let spread: Vec<u16> = (1..=n)
        .step_by((n / t).max(1) as usize)
        .take(t as usize)
        .collect();
    let mut all = vec![first, last, spread, (1..=n).collect()];
    all.retain(|s| s.len() >= t as usize);
    all.dedup();
    all
}

fn roundtrip(t: u16, n: u16, seed: u64) {
    let mut rng = rng(seed);
    let nodes = cluster(t, n, &mut rng);
    let p = nodes[0].cluster_key;
    for node in &nodes {
        assert_eq!(node.cluster_key, p, "every node agrees on P");
        assert_eq!(node.verification_shares, nodes[0].verification_shares);
    }
    let owner = UserSecretKey::generate(&mut rng);
    let doctor = UserSecretKey::generate(&mut rng);
    let r = doctor.public_key().edwards().unwrap();
    let ctx = record_ctx(2);
    let plaintext = format!("diagnoses for a {t}-of-{n} cluster: J45.909 asthma").into_bytes();
    let sealed = seal_group(
        &mut rng,
        &ctx,
        1,
        &plaintext,
        &p,
        &owner.public_key().edwards().unwrap(),
    )
    .unwrap();
    // The owner reads it back without the cluster.
    assert_eq!(
        &open_own_group(&sealed, &owner, &ctx, 1).unwrap()[..],
        &plaintext[..]
    );
    encrypted_ixs::binding::verify(&ctx, &p, &sealed.cluster_capsule, &sealed.binding).unwrap();

    for subset in subsets(t, n) {
        let contribs = contributions(
            &nodes,
            &subset,
            &comp_ctx(2),
            &r,
            &sealed.cluster_capsule,
            &mut rng,
        );
        let result = combine(t as usize, &sealed.cluster_capsule, &contribs).unwrap();
        let m = open(&result, &doctor).unwrap();
        let opened = open_group_with(&sealed, &m, &ctx, 1).unwrap();
        assert_eq!(&opened[..], &plaintext[..], "subset {subset:?}");
        // The owner's key does not open the doctor's capsule.
        let wrong = open(&result, &owner).unwrap();
        assert_eq!(
            open_group_with(&sealed, &wrong, &ctx, 1).unwrap_err(),
            Error::DecryptionFailed
        );
    }

    // Fewer than t contributions: no result can be formed.
    if t > 1 {
        let few: Vec<u16> = (1..t).collect();
        let contribs = contributions(
            &nodes,
            &few,
            &comp_ctx(2),
            &r,
            &sealed.cluster_capsule,
            &mut rng,
        );
        assert_eq!(
            combine(t as usize, &sealed.cluster_capsule, &contribs).unwrap_err(),
            Error::NotEnoughContributions {
                needed: t as usize,
                have: (t - 1) as usize
            }
        );
        // Even interpolating the t−1 shares as if they were enough gives garbage.
        let forged = combine(few.len(), &sealed.cluster_capsule, &contribs).unwrap();
        let m = open(&forged, &doctor).unwrap();
        assert_eq!(
            open_group_with(&sealed, &m, &ctx, 1).unwrap_err(),
            Error::DecryptionFailed
        );
    }
}

#[test]
fn test_roundtrip_1_of_1() {
    roundtrip(1, 1, 1);
}

#[test]
fn test_roundtrip_2_of_3() {
    roundtrip(2, 3, 2);
}

#[test]
fn test_roundtrip_3_of_5() {
    roundtrip(3, 5, 3);
}

#[test]
fn test_roundtrip_4_of_7() {
    roundtrip(4, 7, 4);
}

#[test]
fn test_roundtrip_7_of_10() {
    roundtrip(7, 10, 5);
}

#[test]
fn test_roundtrip_n_of_n() {
    roundtrip(4, 4, 6);
}
