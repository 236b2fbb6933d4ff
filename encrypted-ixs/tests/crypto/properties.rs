//! Property tests over random keys, cluster shapes, subsets and payload sizes.

use crate::common::*;
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

proptest! {
    // The Lagrange check is cheap: many more cases, the same fixed seed.
    #![proptest_config(ProptestConfig {
        cases: 1024,
        rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6d65_6473_6861_7265),
        ..ProptestConfig::default()
    })]

    /// The on-chain Lagrange check (exact integer arithmetic on canonical
    /// encodings) accepts exactly the right coefficients: for a random set of
    /// distinct nodes in `1..=16` (any order, size 1 to 16), the output of
    /// `lagrange_coefficients` passes; the right value plus one, the right value
    /// non-canonically encoded (`λ + k·l`, every `k ≥ 1` that fits in 256
    /// bits), or two nodes' coefficients swapped fail with
    /// `InvalidLagrangeCoefficient` naming the first wrong node; a repeated
    /// node is `DuplicateNode`.
    #[test]
    fn prop_check_lagrange_accepts_exactly_the_coefficients(
        nodes in proptest::sample::subsequence((1..=16u16).collect::<Vec<_>>(), 1..=16)
            .prop_shuffle(),
        pick in any::<usize>(),
        other in any::<usize>(),
    ) {
        use encrypted_ixs::reencrypt::{check_lagrange, lagrange_coefficients};
        use encrypted_ixs::{Error, Scalar};
        let ids: Vec<_> = nodes.iter().copied().map(idx).collect();
        let lambdas: Vec<[u8; 32]> = lagrange_coefficients(&ids)
            .unwrap()
            .iter()
            .map(|l| l.to_bytes())
            .collect();
        prop_assert_eq!(check_lagrange(&ids, &lambdas), Ok(()));
        let k = pick % ids.len();
        let wrong = |node| Err(Error::InvalidLagrangeCoefficient { node });

        let mut plus_one = lambdas.clone();
        let l = encrypted_ixs::point::scalar_from_canonical(&plus_one[k]).unwrap();
        plus_one[k] = (l + Scalar::ONE).to_bytes();
        prop_assert_eq!(check_lagrange(&ids, &plus_one), wrong(ids[k]));

        let mut multiples = 0;
        for m in 1..=16u64 {
            if let Some(b) = plus_multiple_of_l(&lambdas[k], m) {
                multiples += 1;
                let mut non_canonical = lambdas.clone();
                non_canonical[k] = b;
                prop_assert_eq!(check_lagrange(&ids, &non_canonical), wrong(ids[k]));
            }
        }
        prop_assert!(multiples >= 14, "λ + l·k fits for k ≤ 14 at least");

        let j = other % ids.len();
        if j != k && lambdas[j] != lambdas[k] {
            let mut swapped = lambdas.clone();
            swapped.swap(j, k);
            prop_assert_eq!(check_lagrange(&ids, &swapped), wrong(ids[j.min(k)]));
        }

        if ids.len() >= 2 {
            // Node j replaced by node k (its coefficient too): a duplicate.
            let j = if j == k { (k + 1) % ids.len() } else { j };
            let mut dup = ids.clone();
            dup[j] = ids[k];
            let mut dup_lambdas = lambdas.clone();
            dup_lambdas[j] = lambdas[k];
            prop_assert_eq!(check_lagrange(&dup, &dup_lambdas), Err(Error::DuplicateNode(ids[k])));
            prop_assert_eq!(lagrange_coefficients(&dup), Err(Error::DuplicateNode(ids[k])));
        }
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
        let bytes: Vec<[u8; 32]> = lambdas.iter().map(|l| l.to_bytes()).collect();
        check_lagrange(nodes, &bytes).unwrap();
        // Σ λ_i = 1 (interpolating the constant polynomial 1).
        assert_eq!(lambdas.iter().sum::<Scalar>(), Scalar::ONE, "{nodes:?}");
    }
    assert_eq!(lagrange_coefficients(&[]).unwrap(), Vec::<Scalar>::new());
}
