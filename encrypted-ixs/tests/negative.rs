//! Every check, failing for the reason it exists, with its exact error.

mod common;

use common::*;
use encrypted_ixs::binding::{self, BindingProof};
use encrypted_ixs::capsule::{open, Capsule};
use encrypted_ixs::dkg;
use encrypted_ixs::keys::{KeyShare, UserPublicKey, UserSecretKey};
use encrypted_ixs::point::{Point, BASEPOINT};
use encrypted_ixs::record::{open_group_with, open_own_group, seal_group, SealedGroup};
use encrypted_ixs::reencrypt::{self, Statement};
use encrypted_ixs::{Error, Scalar};

struct Fixture {
    nodes: Vec<dkg::DkgOutput>,
    owner: UserSecretKey,
    doctor: UserSecretKey,
    sealed: SealedGroup,
    rng: rand_chacha::ChaCha20Rng,
}

const PLAIN: &[u8] = b"allergies: penicillin";

fn fixture() -> Fixture {
    let mut rng = rng(42);
    let nodes = cluster(2, 3, &mut rng);
    let owner = UserSecretKey::generate(&mut rng);
    let doctor = UserSecretKey::generate(&mut rng);
    let sealed = seal_group(
        &mut rng,
        &record_ctx(1),
        3,
        PLAIN,
        &nodes[0].cluster_key,
        &owner.public_key().edwards().unwrap(),
    )
    .unwrap();
    Fixture {
        nodes,
        owner,
        doctor,
        sealed,
        rng,
    }
}

#[test]
fn test_record_tampered_ciphertext() {
    let f = fixture();
    let mut s = f.sealed.clone();
    s.ciphertext[0] ^= 1;
    assert_eq!(
        open_own_group(&s, &f.owner, &record_ctx(1), 3).unwrap_err(),
        Error::DecryptionFailed
    );
    s.ciphertext.truncate(5);
    assert_eq!(
        open_own_group(&s, &f.owner, &record_ctx(1), 3).unwrap_err(),
        Error::TruncatedCiphertext
    );
}

#[test]
fn test_record_tampered_nonce() {
    let f = fixture();
    let mut s = f.sealed.clone();
    s.nonce[11] ^= 0x80;
    assert_eq!(
        open_own_group(&s, &f.owner, &record_ctx(1), 3).unwrap_err(),
        Error::DecryptionFailed
    );
}

#[test]
fn test_record_tampered_aad() {
    let f = fixture();
    // Another version.
    assert_eq!(
        open_own_group(&f.sealed, &f.owner, &record_ctx(1), 4).unwrap_err(),
        Error::DecryptionFailed
    );
    // Another record address.
    let mut other = record_ctx(1);
    other.record[0] ^= 1;
    assert_eq!(
        open_own_group(&f.sealed, &f.owner, &other, 3).unwrap_err(),
        Error::DecryptionFailed
    );
    // Another group.
    let mut moved = f.sealed.clone();
    moved.group = 2;
    assert_eq!(
        open_own_group(&moved, &f.owner, &record_ctx(2), 3).unwrap_err(),
        Error::DecryptionFailed
    );
}

#[test]
fn test_record_tampered_capsule() {
    let f = fixture();
    let mut s = f.sealed.clone();
    // Shift C by B: still a valid point, but the wrong M.
    s.owner_capsule.c = s.owner_capsule.c.add(&BASEPOINT).unwrap();
    assert_eq!(
        open_own_group(&s, &f.owner, &record_ctx(1), 3).unwrap_err(),
        Error::DecryptionFailed
    );
    // The cluster capsule, tampered, no longer carries a valid binding proof.
    let mut c = f.sealed.cluster_capsule;
    c.c = c.c.add(&BASEPOINT).unwrap();
    assert_eq!(
        binding::verify(&record_ctx(1), &c, &f.sealed.binding).unwrap_err(),
        Error::InvalidBindingProof
    );
}

#[test]
fn test_open_with_wrong_recipient_key() {
    let mut f = fixture();
    let r = f.doctor.public_key().edwards().unwrap();
    let contribs = contributions(
        &f.nodes,
        &[1, 3],
        &comp_ctx(1),
        &r,
        &f.sealed.cluster_capsule,
        &mut f.rng,
    );
    let result = combine(2, &f.sealed.cluster_capsule, &contribs).unwrap();
    let stranger = UserSecretKey::generate(&mut f.rng);
    let m = open(&result, &stranger).unwrap();
    assert_eq!(
        open_group_with(&f.sealed, &m, &record_ctx(1), 3).unwrap_err(),
        Error::DecryptionFailed
    );
}

fn statement<'a>(
    f: &'a Fixture,
    ctx: &'a reencrypt::ComputationContext,
    r: &'a Point,
    v: &'a Point,
    node: u16,
) -> Statement<'a> {
    Statement {
        ctx,
        node: idx(node),
        recipient: r,
        capsule_e: &f.sealed.cluster_capsule.e,
        verification_share: v,
    }
}

#[test]
fn test_contribution_with_wrong_share() {
    let mut f = fixture();
    let r = f.doctor.public_key().edwards().unwrap();
    // Node 1 uses a share that is not the one behind its V_1.
    let fake = KeyShare::new(idx(1), Scalar::from(12345u64), f.nodes[0].cluster_key, 2).unwrap();
    let ctx = comp_ctx(1);
    let c =
        reencrypt::contribute(&mut f.rng, &fake, &ctx, &r, &f.sealed.cluster_capsule.e).unwrap();
    let v1 = f.nodes[0].share.verification_share();
    assert_eq!(
        reencrypt::verify_contribution(&statement(&f, &ctx, &r, &v1, 1), &c).unwrap_err(),
        Error::InvalidContribution { node: idx(1) }
    );
}

#[test]
fn test_contribution_bound_to_another_computation() {
    let mut f = fixture();
    let r = f.doctor.public_key().edwards().unwrap();
    let a = comp_ctx(1);
    let mut b = a;
    b.computation[0] ^= 0xff;
    let c = reencrypt::contribute(
        &mut f.rng,
        &f.nodes[1].share,
        &a,
        &r,
        &f.sealed.cluster_capsule.e,
    )
    .unwrap();
    let v2 = f.nodes[1].share.verification_share();
    reencrypt::verify_contribution(&statement(&f, &a, &r, &v2, 2), &c).unwrap();
    // Replayed into computation b, or into another group of a: refused.
    assert_eq!(
        reencrypt::verify_contribution(&statement(&f, &b, &r, &v2, 2), &c).unwrap_err(),
        Error::InvalidContribution { node: idx(2) }
    );
    let other_group = comp_ctx(2);
    assert_eq!(
        reencrypt::verify_contribution(&statement(&f, &other_group, &r, &v2, 2), &c).unwrap_err(),
        Error::InvalidContribution { node: idx(2) }
    );
    // Claimed by another node.
    let v3 = f.nodes[2].share.verification_share();
    assert_eq!(
        reencrypt::verify_contribution(&statement(&f, &a, &r, &v3, 3), &c).unwrap_err(),
        Error::InvalidContribution { node: idx(3) }
    );
    // Redirected to another recipient.
    let other_r = f.owner.public_key().edwards().unwrap();
    assert_eq!(
        reencrypt::verify_contribution(&statement(&f, &a, &other_r, &v2, 2), &c).unwrap_err(),
        Error::InvalidContribution { node: idx(2) }
    );
}

#[test]
fn test_contribution_with_u_w_swapped() {
    let mut f = fixture();
    let r = f.doctor.public_key().edwards().unwrap();
    let ctx = comp_ctx(1);
    let mut c = reencrypt::contribute(
        &mut f.rng,
        &f.nodes[0].share,
        &ctx,
        &r,
        &f.sealed.cluster_capsule.e,
    )
    .unwrap();
    std::mem::swap(&mut c.u, &mut c.w);
    let v1 = f.nodes[0].share.verification_share();
    assert_eq!(
        reencrypt::verify_contribution(&statement(&f, &ctx, &r, &v1, 1), &c).unwrap_err(),
        Error::InvalidContribution { node: idx(1) }
    );
}

#[test]
fn test_contribution_with_small_order_w_or_bad_scalar() {
    let mut f = fixture();
    let r = f.doctor.public_key().edwards().unwrap();
    let ctx = comp_ctx(1);
    let good = reencrypt::contribute(
        &mut f.rng,
        &f.nodes[0].share,
        &ctx,
        &r,
        &f.sealed.cluster_capsule.e,
    )
    .unwrap();
    let v1 = f.nodes[0].share.verification_share();
    let torsion = curve25519_dalek::constants::EIGHT_TORSION[1];
    let w = curve25519_dalek::edwards::CompressedEdwardsY(good.w.0)
        .decompress()
        .unwrap()
        + torsion;
    let mut c = good;
    c.w = Point(w.compress().0);
    assert_eq!(
        reencrypt::verify_contribution(&statement(&f, &ctx, &r, &v1, 1), &c).unwrap_err(),
        Error::InvalidContribution { node: idx(1) }
    );
    let mut c = good;
    c.proof.z_s = [0xff; 32];
    assert_eq!(
        reencrypt::verify_contribution(&statement(&f, &ctx, &r, &v1, 1), &c).unwrap_err(),
        Error::InvalidContribution { node: idx(1) }
    );
}

#[test]
fn test_binding_proof_forged() {
    let f = fixture();
    let ctx = record_ctx(1);
    let cap = f.sealed.cluster_capsule;
    let forged = BindingProof {
        c: Scalar::from(7u64).to_bytes(),
        z: Scalar::from(11u64).to_bytes(),
    };
    assert_eq!(
        binding::verify(&ctx, &cap, &forged).unwrap_err(),
        Error::InvalidBindingProof
    );
    let mut non_canonical = f.sealed.binding;
    non_canonical.z = [0xff; 32];
    assert_eq!(
        binding::verify(&ctx, &cap, &non_canonical).unwrap_err(),
        Error::InvalidBindingProof
    );
}

#[test]
fn test_capsule_copied_into_another_owners_record() {
    let f = fixture();
    let mut theirs = record_ctx(1);
    theirs.owner = [0xaa; 32];
    assert_eq!(
        binding::verify(&theirs, &f.sealed.cluster_capsule, &f.sealed.binding).unwrap_err(),
        Error::InvalidBindingProof
    );
    let mut other_record = record_ctx(1);
    other_record.record = [0xbb; 32];
    assert_eq!(
        binding::verify(&other_record, &f.sealed.cluster_capsule, &f.sealed.binding).unwrap_err(),
        Error::InvalidBindingProof
    );
    // Re-randomized (E + B, C + P): same M, but nobody knows e + 1's proof.
    let p = f.nodes[0].cluster_key;
    let rerand = Capsule {
        e: f.sealed.cluster_capsule.e.add(&BASEPOINT).unwrap(),
        c: f.sealed.cluster_capsule.c.add(&p).unwrap(),
    };
    assert_eq!(
        binding::verify(&record_ctx(1), &rerand, &f.sealed.binding).unwrap_err(),
        Error::InvalidBindingProof
    );
}

#[test]
fn test_small_order_and_identity_capsule_points() {
    let f = fixture();
    let mut cap = f.sealed.cluster_capsule;
    cap.e = Point(curve25519_dalek::constants::EIGHT_TORSION[2].compress().0);
    assert_eq!(
        binding::verify(&record_ctx(1), &cap, &f.sealed.binding).unwrap_err(),
        Error::SmallOrderPoint
    );
    cap.e = encrypted_ixs::point::IDENTITY;
    assert_eq!(
        binding::verify(&record_ctx(1), &cap, &f.sealed.binding).unwrap_err(),
        Error::IdentityPoint
    );
    let mut b = [0xffu8; 32];
    b[0] = 0xf0;
    b[31] = 0x7f;
    cap.e = Point(b);
    assert_eq!(
        binding::verify(&record_ctx(1), &cap, &f.sealed.binding).unwrap_err(),
        Error::NonCanonicalPoint
    );
}

#[test]
fn test_small_order_x25519_keys_rejected() {
    // u = 0 (order 4 on the twist side / identity image), u = 1 (order 4),
    // and the order-8 point from RFC 7748's list of low-order points.
    let low_order: [[u8; 32]; 3] = [
        [0u8; 32],
        {
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        },
        hex::decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
            .unwrap()
            .try_into()
            .unwrap(),
    ];
    for u in low_order {
        assert_eq!(
            UserPublicKey(u).edwards().unwrap_err(),
            Error::InvalidPublicKey,
            "{}",
            hex::encode(u)
        );
    }
    assert_eq!(
        UserPublicKey::from_slice(&[1, 2, 3]).unwrap_err(),
        Error::MalformedKey
    );
}

#[test]
fn test_wrong_lagrange_coefficients() {
    let mut f = fixture();
    let r = f.doctor.public_key().edwards().unwrap();
    let contribs = contributions(
        &f.nodes,
        &[1, 2],
        &comp_ctx(1),
        &r,
        &f.sealed.cluster_capsule,
        &mut f.rng,
    );
    let ids = [idx(1), idx(2)];
    let mut lambdas = reencrypt::lagrange_coefficients(&ids).unwrap();
    lambdas[1] += Scalar::ONE;
    let uw: Vec<_> = contribs.iter().map(|(_, c)| (c.u, c.w)).collect();
    assert_eq!(
        reencrypt::aggregate(2, &f.sealed.cluster_capsule, &ids, &uw, &lambdas).unwrap_err(),
        Error::InvalidLagrangeCoefficient { node: idx(2) }
    );
    // Coefficients for another set {1, 3}.
    let lambdas13 = reencrypt::lagrange_coefficients(&[idx(1), idx(3)]).unwrap();
    assert_eq!(
        reencrypt::aggregate(2, &f.sealed.cluster_capsule, &ids, &uw, &lambdas13).unwrap_err(),
        Error::InvalidLagrangeCoefficient { node: idx(1) }
    );
    // A node twice.
    assert_eq!(
        reencrypt::check_lagrange(&[idx(1), idx(1)], &lambdas).unwrap_err(),
        Error::DuplicateNode(idx(1))
    );
}

#[test]
fn test_dkg_bad_share_names_culprit() {
    let mut rng = rng(7);
    let mut tr = dkg_rounds(2, 3, &mut rng);
    // Node 2 posted one polynomial's commitments but sends node 1 a share of another.
    let (other_secret, _) = dkg::round1(&mut rng, &tr.params, idx(2)).unwrap();
    let (_, sent) = dkg::round2(
        &mut rng,
        &tr.params,
        idx(2),
        other_secret,
        &tr.transports[1],
        &tr.peers_of(idx(2)),
    )
    .unwrap();
    let bad = sent.into_iter().find(|p| p.to == 1).unwrap();
    tr.round2.retain(|p| !(p.from == 2 && p.to == 1));
    tr.round2.push(bad);
    assert_eq!(
        tr.finish(idx(1)).unwrap_err(),
        Error::DkgCulprit {
            culprit: idx(2),
            reason: "secret share inconsistent with its commitments"
        }
    );
    // Node 3 is unaffected.
    tr.finish(idx(3)).unwrap();
}

#[test]
fn test_dkg_bad_proof_of_knowledge_names_culprit() {
    let mut rng = rng(8);
    let tr = dkg_rounds(2, 3, &mut rng);
    // Node 3 re-posts node 2's round-1 package as its own.
    let mut peers = tr.peers_of(idx(1));
    let stolen = peers[&idx(2)].round1.clone();
    peers.get_mut(&idx(3)).unwrap().round1 = stolen;
    let (s1, _) = dkg::round1(&mut rng, &tr.params, idx(1)).unwrap();
    assert_eq!(
        dkg::round2(&mut rng, &tr.params, idx(1), s1, &tr.transports[0], &peers).unwrap_err(),
        Error::DkgCulprit {
            culprit: idx(3),
            reason: "invalid round-1 proof of knowledge"
        }
    );
}

#[test]
fn test_dkg_tampered_round2_names_sender() {
    let mut rng = rng(9);
    let mut tr = dkg_rounds(3, 4, &mut rng);
    let p = tr
        .round2
        .iter_mut()
        .find(|p| p.from == 4 && p.to == 2)
        .unwrap();
    p.ciphertext[3] ^= 1;
    assert_eq!(
        tr.finish(idx(2)).unwrap_err(),
        Error::DkgCulprit {
            culprit: idx(4),
            reason: "undecryptable round-2 package"
        }
    );
}

#[test]
fn test_dkg_round2_for_wrong_recipient() {
    let mut rng = rng(10);
    let tr = dkg_rounds(2, 3, &mut rng);
    let mut inbox = tr.inbox_of(idx(1));
    let misrouted = tr.round2.iter().find(|p| p.from == 2 && p.to == 3).unwrap();
    inbox.retain(|p| p.from != 2);
    inbox.push(misrouted.clone());
    assert_eq!(
        dkg::finish(
            &tr.params,
            idx(1),
            &tr.secrets2[&idx(1)],
            &tr.transports[0],
            &tr.peers_of(idx(1)),
            &inbox
        )
        .unwrap_err(),
        Error::DkgWrongRecipient {
            from: idx(2),
            to: idx(3)
        }
    );
    // Relabelled as addressed to node 1, it does not decrypt (AAD names node 3).
    let mut relabelled = misrouted.clone();
    relabelled.to = 1;
    inbox.pop();
    inbox.push(relabelled);
    assert_eq!(
        dkg::finish(
            &tr.params,
            idx(1),
            &tr.secrets2[&idx(1)],
            &tr.transports[0],
            &tr.peers_of(idx(1)),
            &inbox
        )
        .unwrap_err(),
        Error::DkgCulprit {
            culprit: idx(2),
            reason: "undecryptable round-2 package"
        }
    );
}

#[test]
fn test_invalid_thresholds() {
    let mut rng = rng(11);
    for (t, n) in [(0u16, 3u16), (1, 3), (4, 3), (2, 17)] {
        let params = dkg::DkgParams {
            cluster: CLUSTER,
            threshold: t,
            nodes: n,
        };
        assert_eq!(
            dkg::round1(&mut rng, &params, idx(1)).unwrap_err(),
            Error::InvalidThreshold { t, n }
        );
    }
}

#[test]
fn test_key_share_storage_roundtrip_and_tamper() {
    let f = fixture();
    let share = &f.nodes[1].share;
    let bytes = share.to_bytes();
    let back = KeyShare::from_bytes(&bytes).unwrap();
    assert_eq!(back.verification_share(), share.verification_share());
    assert_eq!(back.index(), share.index());
    let mut bad = bytes.to_vec();
    bad[5] ^= 1;
    assert_eq!(KeyShare::from_bytes(&bad).unwrap_err(), Error::MalformedKey);
    bad[0] = 9;
    assert_eq!(
        KeyShare::from_bytes(&bad).unwrap_err(),
        Error::UnsupportedVersion(9)
    );
}

#[test]
fn test_secrets_redacted_in_debug() {
    let f = fixture();
    let share = &f.nodes[0].share;
    let secret_hex = hex::encode(&share.to_bytes()[3..35]);
    let dbg = format!("{share:?} {:?} {:?}", f.owner, f.nodes[0]);
    assert!(dbg.contains("<redacted>"));
    assert!(!dbg.contains(&secret_hex), "share bytes leaked into Debug");
    let owner_hex = hex::encode(*f.owner.to_bytes());
    assert!(!dbg.contains(&owner_hex), "user key leaked into Debug");
    let m = open(&f.sealed.owner_capsule, &f.owner).unwrap();
    let key = m.data_key(&record_ctx(1));
    assert_eq!(
        format!("{m:?} {key:?}"),
        "CapsuleSecret(<redacted>) DataKey(<redacted>)"
    );
}

/// `p` with its Edwards sign bit flipped: `−p`, a valid point not in XEdDSA form.
fn negated(p: &Point) -> Point {
    let mut b = p.0;
    b[31] ^= 0x80;
    Point(b)
}

fn with_torsion(p: &Point) -> Point {
    let q = curve25519_dalek::edwards::CompressedEdwardsY(p.0)
        .decompress()
        .unwrap()
        + curve25519_dalek::constants::EIGHT_TORSION[1];
    Point(q.compress().0)
}

#[test]
fn test_contribute_refuses_invalid_recipient() {
    let mut f = fixture();
    let r = f.doctor.public_key().edwards().unwrap();
    let e = f.sealed.cluster_capsule.e;
    let ctx = comp_ctx(1);
    let share = &f.nodes[0].share;
    let small = Point(curve25519_dalek::constants::EIGHT_TORSION[1].compress().0);
    let mut non_canonical = [0xffu8; 32];
    non_canonical[0] = 0xf0;
    non_canonical[31] = 0x7f;
    for bad in [
        // −R: a valid prime-order point, but not the XEdDSA form of any key.
        negated(&r),
        small,
        encrypted_ixs::point::IDENTITY,
        with_torsion(&r),
        Point(non_canonical),
    ] {
        assert_eq!(
            reencrypt::contribute(&mut f.rng, share, &ctx, &bad, &e).unwrap_err(),
            Error::InvalidPublicKey,
            "{bad:?}"
        );
    }
    reencrypt::contribute(&mut f.rng, share, &ctx, &r, &e).unwrap();
}

#[test]
fn test_contribute_refuses_invalid_capsule_e() {
    let mut f = fixture();
    let r = f.doctor.public_key().edwards().unwrap();
    let e = f.sealed.cluster_capsule.e;
    let ctx = comp_ctx(1);
    let share = &f.nodes[0].share;
    // A small-order E would put −s_i·E, i.e. s_i mod 8, into W_i.
    let small = Point(curve25519_dalek::constants::EIGHT_TORSION[1].compress().0);
    assert_eq!(
        reencrypt::contribute(&mut f.rng, share, &ctx, &r, &small).unwrap_err(),
        Error::SmallOrderPoint
    );
    assert_eq!(
        reencrypt::contribute(&mut f.rng, share, &ctx, &r, &with_torsion(&e)).unwrap_err(),
        Error::SmallOrderPoint
    );
    assert_eq!(
        reencrypt::contribute(&mut f.rng, share, &ctx, &r, &encrypted_ixs::point::IDENTITY)
            .unwrap_err(),
        Error::IdentityPoint
    );
    let mut non_canonical = [0xffu8; 32];
    non_canonical[0] = 0xf0;
    non_canonical[31] = 0x7f;
    assert_eq!(
        reencrypt::contribute(&mut f.rng, share, &ctx, &r, &Point(non_canonical)).unwrap_err(),
        Error::NonCanonicalPoint
    );
    // −E is a valid prime-order point: accepted (E carries no sign convention).
    reencrypt::contribute(&mut f.rng, share, &ctx, &r, &negated(&e)).unwrap();
}

#[test]
fn test_node_index_borsh_refuses_out_of_range() {
    use borsh::BorshDeserialize;
    use encrypted_ixs::keys::NodeIndex;
    for i in [0u16, encrypted_ixs::MAX_NODES as u16 + 1, u16::MAX] {
        let err = NodeIndex::try_from_slice(&i.to_le_bytes()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "index {i}");
    }
    for i in [1u16, encrypted_ixs::MAX_NODES as u16] {
        let bytes = borsh::to_vec(&idx(i)).unwrap();
        assert_eq!(bytes, i.to_le_bytes());
        assert_eq!(NodeIndex::try_from_slice(&bytes).unwrap(), idx(i));
    }
    // Too short is still an I/O error of its own kind, not a valid index.
    assert!(NodeIndex::try_from_slice(&[1]).is_err());
}

#[test]
fn test_dkg_wrong_package_count() {
    let mut rng = rng(12);
    let tr = dkg_rounds(2, 3, &mut rng);
    // Round 2 with node 3 missing from the peers: frost names nobody.
    let mut peers = tr.peers_of(idx(1));
    peers.remove(&idx(3));
    let (s1, _) = dkg::round1(&mut rng, &tr.params, idx(1)).unwrap();
    assert_eq!(
        dkg::round2(&mut rng, &tr.params, idx(1), s1, &tr.transports[0], &peers).unwrap_err(),
        Error::Dkg("wrong number of DKG packages")
    );
    // Finish with node 3's round-2 package missing.
    let mut inbox = tr.inbox_of(idx(1));
    inbox.retain(|p| p.from != 3);
    assert_eq!(
        dkg::finish(
            &tr.params,
            idx(1),
            &tr.secrets2[&idx(1)],
            &tr.transports[0],
            &tr.peers_of(idx(1)),
            &inbox
        )
        .unwrap_err(),
        Error::Dkg("wrong number of DKG packages")
    );
}

#[test]
fn test_dkg_duplicate_round2_package_refused() {
    let mut rng = rng(13);
    let tr = dkg_rounds(2, 3, &mut rng);
    let finish_with = |inbox: &[dkg::EncryptedRound2]| {
        dkg::finish(
            &tr.params,
            idx(1),
            &tr.secrets2[&idx(1)],
            &tr.transports[0],
            &tr.peers_of(idx(1)),
            inbox,
        )
    };
    // The same package twice.
    let mut inbox = tr.inbox_of(idx(1));
    let from2 = inbox.iter().find(|p| p.from == 2).unwrap().clone();
    inbox.push(from2);
    assert_eq!(
        finish_with(&inbox).unwrap_err(),
        Error::DkgDuplicatePackage { from: idx(2) }
    );
    // A second, different package from node 2 does not replace the first.
    let (other_secret, _) = dkg::round1(&mut rng, &tr.params, idx(2)).unwrap();
    let (_, sent) = dkg::round2(
        &mut rng,
        &tr.params,
        idx(2),
        other_secret,
        &tr.transports[1],
        &tr.peers_of(idx(2)),
    )
    .unwrap();
    let mut inbox = tr.inbox_of(idx(1));
    inbox.push(sent.into_iter().find(|p| p.to == 1).unwrap());
    assert_eq!(
        finish_with(&inbox).unwrap_err(),
        Error::DkgDuplicatePackage { from: idx(2) }
    );
    // Without the duplicate the same inbox finishes.
    finish_with(&tr.inbox_of(idx(1))).unwrap();
}

#[test]
fn test_dkg_low_order_transport_key_names_peer() {
    use encrypted_ixs::keys::TransportPublic;
    let mut rng = rng(14);
    let tr = dkg_rounds(2, 3, &mut rng);
    // u = 0 and u = 1: X25519 with them is all zeros (non-contributory).
    let mut one = [0u8; 32];
    one[0] = 1;
    for low in [[0u8; 32], one] {
        // Round 2: node 1 would encrypt to node 3's low-order key.
        let mut peers = tr.peers_of(idx(1));
        peers.get_mut(&idx(3)).unwrap().transport = TransportPublic(low);
        let (s1, _) = dkg::round1(&mut rng, &tr.params, idx(1)).unwrap();
        assert_eq!(
            dkg::round2(&mut rng, &tr.params, idx(1), s1, &tr.transports[0], &peers).unwrap_err(),
            Error::DkgCulprit {
                culprit: idx(3),
                reason: "low-order transport key"
            }
        );
        // Finish: node 2's package can only be decrypted with its low-order key.
        let mut peers = tr.peers_of(idx(1));
        peers.get_mut(&idx(2)).unwrap().transport = TransportPublic(low);
        assert_eq!(
            dkg::finish(
                &tr.params,
                idx(1),
                &tr.secrets2[&idx(1)],
                &tr.transports[0],
                &peers,
                &tr.inbox_of(idx(1))
            )
            .unwrap_err(),
            Error::DkgCulprit {
                culprit: idx(2),
                reason: "low-order transport key"
            }
        );
    }
}

#[test]
fn test_key_share_threshold_validated() {
    let f = fixture();
    let p = f.nodes[0].cluster_key;
    let s = Scalar::from(12345u64);
    let max = encrypted_ixs::MAX_NODES as u16;
    for t in [0u16, max + 1, u16::MAX] {
        assert_eq!(
            KeyShare::new(idx(1), s, p, t).unwrap_err(),
            Error::InvalidThreshold { t, n: max }
        );
    }
    for t in [1u16, max] {
        assert_eq!(KeyShare::new(idx(1), s, p, t).unwrap().threshold(), t);
    }
    // The stored form is checked the same way.
    let mut bytes = f.nodes[1].share.to_bytes().to_vec();
    bytes[99..101].copy_from_slice(&0u16.to_le_bytes());
    assert_eq!(
        KeyShare::from_bytes(&bytes).unwrap_err(),
        Error::InvalidThreshold { t: 0, n: max }
    );
}
