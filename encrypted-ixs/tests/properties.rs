//! Property tests over random keys, cluster shapes, subsets and payload sizes.

mod common;

use common::*;
use encrypted_ixs::capsule::open;
use encrypted_ixs::keys::UserSecretKey;
use encrypted_ixs::record::{open_group_with, open_own_group, seal_group};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6d65_6473_6861_7265),
        ..ProptestConfig::default()
    })]

    #[test]
    fn prop_any_t_subset_opens(
        seed in any::<u64>(),
        n in 2u16..=7,
        t_frac in 0.0f64..1.0,
        payload in proptest::collection::vec(any::<u8>(), 0..2048),
        group in 0u8..5,
        pick in any::<u64>(),
    ) {
        let t = 2 + ((n - 2) as f64 * t_frac) as u16;
        let mut rng = rng(seed);
        let nodes = cluster(t, n, &mut rng);
        let owner = UserSecretKey::generate(&mut rng);
        let doctor = UserSecretKey::generate(&mut rng);
        let ctx = record_ctx(group);
        let sealed = seal_group(&mut rng, &ctx, 7, &payload, &nodes[0].cluster_key,
            &owner.public_key().edwards().unwrap()).unwrap();
        prop_assert_eq!(&open_own_group(&sealed, &owner, &ctx, 7).unwrap()[..], &payload[..]);
        // A pseudo-random subset of size t.
        let mut ids: Vec<u16> = (1..=n).collect();
        let mut x = pick;
        for k in (1..ids.len()).rev() {
            ids.swap(k, (x % (k as u64 + 1)) as usize);
            x = x.rotate_left(7) ^ 0x9e37_79b9_7f4a_7c15;
        }
        ids.truncate(t as usize);
        let r = doctor.public_key().edwards().unwrap();
        let contribs = contributions(&nodes, &ids, &comp_ctx(group), &r, &sealed.cluster_capsule, &mut rng);
        let result = combine(t as usize, &sealed.cluster_capsule, &contribs).unwrap();
        let m = open(&result, &doctor).unwrap();
        prop_assert_eq!(&open_group_with(&sealed, &m, &ctx, 7).unwrap()[..], &payload[..]);
    }

    #[test]
    fn prop_random_x25519_keys_have_valid_edwards_form(seed in any::<[u8; 32]>()) {
        let k = UserSecretKey::from_bytes(seed);
        let a = k.public_key().edwards().unwrap();
        prop_assert!(encrypted_ixs::keys::is_xeddsa_form(&a));
        prop_assert_eq!(encrypted_ixs::keys::UserPublicKey::from_edwards(&a).unwrap(), k.public_key());
    }
}

/// `lagrange_coefficients` (one batched inversion) equals the textbook
/// formula with one inversion per node, and passes `check_lagrange`, for every
/// non-empty subset of `1..=8`, the full set `1..=MAX_NODES` and its reversal.
#[test]
fn lagrange_coefficients_match_per_node_inversion() {
    use encrypted_ixs::keys::NodeIndex;
    use encrypted_ixs::reencrypt::{check_lagrange, lagrange_coefficients};
    use encrypted_ixs::Scalar;
    fn naive(nodes: &[NodeIndex]) -> Vec<Scalar> {
        nodes
            .iter()
            .map(|i| {
                let mut num = Scalar::ONE;
                let mut den = Scalar::ONE;
                for j in nodes.iter().filter(|j| *j != i) {
                    num *= j.scalar();
                    den *= j.scalar() - i.scalar();
                }
                num * den.invert()
            })
            .collect()
    }
    let mut sets: Vec<Vec<NodeIndex>> = (1u32..(1 << 8))
        .map(|mask| {
            (1..=8u16)
                .filter(|i| mask & (1 << (i - 1)) != 0)
                .map(idx)
                .collect()
        })
        .collect();
    let all: Vec<NodeIndex> = (1..=encrypted_ixs::MAX_NODES as u16).map(idx).collect();
    sets.push(all.iter().rev().copied().collect());
    sets.push(all);
    for nodes in &sets {
        let lambdas = lagrange_coefficients(nodes).unwrap();
        assert_eq!(lambdas, naive(nodes), "{nodes:?}");
        check_lagrange(nodes, &lambdas).unwrap();
        // Σ λ_i = 1 (interpolating the constant polynomial 1).
        assert_eq!(lambdas.iter().sum::<Scalar>(), Scalar::ONE, "{nodes:?}");
    }
    assert_eq!(lagrange_coefficients(&[]).unwrap(), Vec::<Scalar>::new());
}
