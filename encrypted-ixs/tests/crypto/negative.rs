//! Every check, failing for the reason it exists, with its exact error.

use crate::common::*;
use curve25519_dalek::edwards::EdwardsPoint;
use encrypted_ixs::binding::{self, BindingProof};
use encrypted_ixs::capsule::{open, Capsule};
use encrypted_ixs::dkg;
use encrypted_ixs::keys::{KeyShare, UserPublicKey, UserSecretKey};
use encrypted_ixs::point::{Point, BASEPOINT};
use encrypted_ixs::record::{open_group_with, open_own_group, seal_group, SealedGroup};
use encrypted_ixs::reencrypt::{self, Contribution, ContributionProof, Statement};
use encrypted_ixs::transcript::Challenge;
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
        binding::verify(
            &record_ctx(1),
            &f.nodes[0].cluster_key,
            &c,
            &f.sealed.binding
        )
        .unwrap_err(),
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

/// v2: `verify_contribution` no longer checks `U` and `W` for torsion (see
/// "Why U_i and W_i are not checked for torsion" in `src/reencrypt.rs`). An
/// honest contribution with a torsion point added to `W` (or `U`) is still
/// refused, but now because `W` and `U` are hashed into the challenge, which
/// changes, not because of a subgroup check. A non-canonical response is
/// refused as before.
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
    reencrypt::verify_contribution(&statement(&f, &ctx, &r, &v1, 1), &good).unwrap();
    let mut c = good;
    c.w = with_torsion(&good.w);
    assert_eq!(
        reencrypt::verify_contribution(&statement(&f, &ctx, &r, &v1, 1), &c).unwrap_err(),
        Error::InvalidContribution { node: idx(1) }
    );
    let mut c = good;
    c.u = with_torsion(&good.u);
    assert_eq!(
        reencrypt::verify_contribution(&statement(&f, &ctx, &r, &v1, 1), &c).unwrap_err(),
        Error::InvalidContribution { node: idx(1) }
    );
    // A small-order W (the point of order 8 itself) in place of W: refused.
    let mut c = good;
    c.w = Point(curve25519_dalek::constants::EIGHT_TORSION[1].compress().0);
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
    let p = f.nodes[0].cluster_key;
    binding::verify(&ctx, &p, &cap, &f.sealed.binding).unwrap();
    let mut c = [0u8; 16];
    c[0] = 7;
    let forged = BindingProof {
        c,
        z: Scalar::from(11u64).to_bytes(),
    };
    assert_eq!(
        binding::verify(&ctx, &p, &cap, &forged).unwrap_err(),
        Error::InvalidBindingProof
    );
    let mut non_canonical = f.sealed.binding;
    non_canonical.z = [0xff; 32];
    assert_eq!(
        binding::verify(&ctx, &p, &cap, &non_canonical).unwrap_err(),
        Error::InvalidBindingProof
    );
    // z + l: the same response modulo l, non-canonically encoded. The
    // verifier's multiscalar multiplication refuses it.
    let mut z_plus_l = f.sealed.binding;
    z_plus_l.z = plus_multiple_of_l(&z_plus_l.z, 1).unwrap();
    assert_eq!(
        binding::verify(&ctx, &p, &cap, &z_plus_l).unwrap_err(),
        Error::InvalidBindingProof
    );
    // Wire form: 48 bytes, c ‖ z, round-trips.
    let bytes = f.sealed.binding.to_bytes();
    assert_eq!(bytes.len(), binding::BINDING_PROOF_LEN);
    assert_eq!(BindingProof::from_bytes(&bytes), f.sealed.binding);
    assert_eq!(borsh::to_vec(&f.sealed.binding).unwrap(), bytes.to_vec());
}

#[test]
fn test_capsule_copied_into_another_owners_record() {
    let f = fixture();
    let mut theirs = record_ctx(1);
    theirs.owner = [0xaa; 32];
    let p = f.nodes[0].cluster_key;
    assert_eq!(
        binding::verify(&theirs, &p, &f.sealed.cluster_capsule, &f.sealed.binding).unwrap_err(),
        Error::InvalidBindingProof
    );
    let mut other_record = record_ctx(1);
    other_record.record = [0xbb; 32];
    assert_eq!(
        binding::verify(
            &other_record,
            &p,
            &f.sealed.cluster_capsule,
            &f.sealed.binding
        )
        .unwrap_err(),
        Error::InvalidBindingProof
    );
    // Re-randomized (E + B, C + P): same M, but nobody knows e + 1's proof.
    let rerand = Capsule {
        e: f.sealed.cluster_capsule.e.add(&BASEPOINT).unwrap(),
        c: f.sealed.cluster_capsule.c.add(&p).unwrap(),
    };
    assert_eq!(
        binding::verify(&record_ctx(1), &p, &rerand, &f.sealed.binding).unwrap_err(),
        Error::InvalidBindingProof
    );
}

#[test]
fn test_small_order_and_identity_capsule_points() {
    let f = fixture();
    let p = f.nodes[0].cluster_key;
    let mut cap = f.sealed.cluster_capsule;
    cap.e = Point(curve25519_dalek::constants::EIGHT_TORSION[2].compress().0);
    assert_eq!(
        binding::verify(&record_ctx(1), &p, &cap, &f.sealed.binding).unwrap_err(),
        Error::SmallOrderPoint
    );
    cap.e = encrypted_ixs::point::IDENTITY;
    assert_eq!(
        binding::verify(&record_ctx(1), &p, &cap, &f.sealed.binding).unwrap_err(),
        Error::IdentityPoint
    );
    let mut b = [0xffu8; 32];
    b[0] = 0xf0;
    b[31] = 0x7f;
    cap.e = Point(b);
    assert_eq!(
        binding::verify(&record_ctx(1), &p, &cap, &f.sealed.binding).unwrap_err(),
        Error::NonCanonicalPoint
    );
    cap.e = off_curve();
    assert_eq!(
        binding::verify(&record_ctx(1), &p, &cap, &f.sealed.binding).unwrap_err(),
        Error::InvalidPoint
    );
    // v2: C only has to decode (canonical, not the identity, on the curve).
    // A C with a torsion component is not a point error; it fails the
    // proof, which hashes C.
    let mut cap = f.sealed.cluster_capsule;
    cap.c = with_torsion(&cap.c);
    assert_eq!(
        binding::verify(&record_ctx(1), &p, &cap, &f.sealed.binding).unwrap_err(),
        Error::InvalidBindingProof
    );
    cap.c = encrypted_ixs::point::IDENTITY;
    assert_eq!(
        binding::verify(&record_ctx(1), &p, &cap, &f.sealed.binding).unwrap_err(),
        Error::IdentityPoint
    );
    cap.c = Point(b);
    assert_eq!(
        binding::verify(&record_ctx(1), &p, &cap, &f.sealed.binding).unwrap_err(),
        Error::NonCanonicalPoint
    );
    cap.c = off_curve();
    assert_eq!(
        binding::verify(&record_ctx(1), &p, &cap, &f.sealed.binding).unwrap_err(),
        Error::InvalidPoint
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
    let bytes: Vec<[u8; 32]> = lambdas.iter().map(|l| l.to_bytes()).collect();
    assert_eq!(
        reencrypt::check_lagrange(&[idx(1), idx(1)], &bytes).unwrap_err(),
        Error::DuplicateNode(idx(1))
    );
}

#[test]
fn test_dkg_bad_share_names_culprit() {
    let mut rng = rng(7);
    let mut tr = dkg_rounds(2, 3, &mut rng);
    // Node 2 posted one polynomial's commitments but sends node 1 a share of
    // another. Since the round-2 keys bind every round-1 commitment, a
    // package made for other commitments does not even decrypt: node 2 is
    // named before its share is looked at.
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
            reason: "undecryptable round-2 package"
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
fn test_f5_round1_commitment_of_wrong_length_names_sender() {
    let mut rng = rng(10);
    let tr = dkg_rounds(2, 3, &mut rng);
    // Node 3 posts a round-1 package for a degree-2 polynomial (t = 3).
    let wrong = dkg::DkgParams {
        threshold: 3,
        ..tr.params
    };
    let (_, pkg) = dkg::round1(&mut rng, &wrong, idx(3)).unwrap();
    let mut peers = tr.peers_of(idx(1));
    peers.get_mut(&idx(3)).unwrap().round1 = pkg;
    let (s1, _) = dkg::round1(&mut rng, &tr.params, idx(1)).unwrap();
    assert_eq!(
        dkg::round2(&mut rng, &tr.params, idx(1), s1, &tr.transports[0], &peers).unwrap_err(),
        Error::DkgCulprit {
            culprit: idx(3),
            reason: "round-1 commitment of the wrong length"
        }
    );
}

#[test]
fn test_f3_round2_packages_of_another_session_do_not_decrypt() {
    let mut rng = rng(11);
    let mut tr = dkg_rounds(2, 3, &mut rng);
    // The same packages read in the cluster's next DKG attempt: void.
    tr.params.attempt = 1;
    assert_eq!(
        tr.finish(idx(1)).unwrap_err(),
        Error::DkgCulprit {
            culprit: idx(2),
            reason: "undecryptable round-2 package"
        }
    );
    tr.params.attempt = 0;
    tr.finish(idx(1)).unwrap();
    // Node 3 posts a new round-1 package: packages made against the old
    // commitments no longer decrypt for anyone.
    let (_, fresh) = dkg::round1(&mut rng, &tr.params, idx(3)).unwrap();
    tr.round1.insert(idx(3), fresh);
    assert_eq!(
        tr.finish(idx(1)).unwrap_err(),
        Error::DkgCulprit {
            culprit: idx(2),
            reason: "undecryptable round-2 package"
        }
    );
}

/// Judges node `complainer`'s complaint against `accused` in a transcript
/// (the transcript's transport keys play the per-attempt keys).
fn judge(
    tr: &DkgTranscript,
    complainer: u16,
    accused: u16,
    revealed: &encrypted_ixs::keys::TransportSecret,
) -> dkg::Verdict {
    let pkg = tr
        .round2
        .iter()
        .find(|p| p.from == accused && p.to == complainer)
        .cloned();
    dkg::verify_complaint(
        &tr.params,
        idx(complainer),
        &tr.round1[&idx(complainer)],
        &tr.transports[complainer as usize - 1].public_key(),
        revealed,
        idx(accused),
        &tr.peers_of(idx(complainer)),
        pkg.as_ref(),
    )
    .unwrap()
}

#[test]
fn test_f4_a_false_complaint_blames_the_complainer_not_the_sender() {
    let mut rng = rng(12);
    let tr = dkg_rounds(2, 3, &mut rng);
    // Node 1 falsely accuses honest node 2, revealing its real key: anyone
    // decrypts node 2's package and finds the share consistent.
    let key = encrypted_ixs::keys::TransportSecret::from_bytes(*tr.transports[0].to_bytes());
    assert_eq!(judge(&tr, 1, 2, &key), dkg::Verdict::ComplaintFalse);
    // Revealing some other secret proves nothing.
    let other = encrypted_ixs::keys::TransportSecret::generate(&mut rng);
    assert_eq!(judge(&tr, 1, 2, &other), dkg::Verdict::ComplaintFalse);
    // Accusing oneself, or a node that sent nothing, is false too.
    assert_eq!(judge(&tr, 1, 1, &key), dkg::Verdict::ComplaintFalse);
}

#[test]
fn test_f4_a_true_complaint_names_the_sender_for_everyone() {
    let mut rng = rng(13);
    let mut tr = dkg_rounds(2, 3, &mut rng);
    // Node 3 sends node 1 a package that does not decrypt.
    tr.round2
        .iter_mut()
        .find(|p| p.from == 3 && p.to == 1)
        .unwrap()
        .ciphertext[0] ^= 1;
    let key = encrypted_ixs::keys::TransportSecret::from_bytes(*tr.transports[0].to_bytes());
    assert_eq!(
        judge(&tr, 1, 3, &key),
        dkg::Verdict::SenderFaulty {
            reason: "undecryptable round-2 package"
        }
    );
    // The same complaint against honest node 2 is false.
    assert_eq!(judge(&tr, 1, 2, &key), dkg::Verdict::ComplaintFalse);
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
            attempt: 0,
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

/// the binding proof's challenge names the cluster key `P`, so a
/// proof made for one cluster is worthless under any other.
#[test]
fn test_f11_binding_proof_bound_to_cluster_key() {
    let f = fixture();
    let ctx = record_ctx(1);
    let p = f.nodes[0].cluster_key;
    binding::verify(&ctx, &p, &f.sealed.cluster_capsule, &f.sealed.binding).unwrap();
    // Another valid cluster key: a real DKG of another cluster, and a fixed multiple of B.
    let other_cluster = cluster(2, 3, &mut rng(4343))[0].cluster_key;
    let fixed = pt(EdwardsPoint::mul_base(&Scalar::from(1234u64)));
    for other in [other_cluster, fixed] {
        assert_ne!(other, p);
        assert_eq!(
            binding::verify(&ctx, &other, &f.sealed.cluster_capsule, &f.sealed.binding)
                .unwrap_err(),
            Error::InvalidBindingProof
        );
    }
}

/// a contribution's challenge names the program id and the cluster
/// account, so it cannot be replayed into another deployment of the program
/// or another cluster that happens to share the computation address.
#[test]
fn test_f11_contribution_bound_to_program_and_cluster() {
    let mut f = fixture();
    let r = f.doctor.public_key().edwards().unwrap();
    let ctx = comp_ctx(1);
    let share = &f.nodes[1].share;
    let c =
        reencrypt::contribute(&mut f.rng, share, &ctx, &r, &f.sealed.cluster_capsule.e).unwrap();
    let v2 = share.verification_share();
    reencrypt::verify_contribution(&statement(&f, &ctx, &r, &v2, 2), &c).unwrap();
    let mut other_program = ctx;
    other_program.program_id[31] ^= 1;
    assert_eq!(
        reencrypt::verify_contribution(&statement(&f, &other_program, &r, &v2, 2), &c).unwrap_err(),
        Error::InvalidContribution { node: idx(2) }
    );
    let mut other_cluster = ctx;
    other_cluster.cluster[0] ^= 1;
    assert_eq!(
        reencrypt::verify_contribution(&statement(&f, &other_cluster, &r, &v2, 2), &c).unwrap_err(),
        Error::InvalidContribution { node: idx(2) }
    );
}

/// An RNG stuck on one output: a fresh ChaCha20Rng with the same seed for
/// every call gives the prover the same "random" bytes each time.
fn stuck_rng() -> rand_chacha::ChaCha20Rng {
    rng(0x5eed)
}

fn scalar(b: &[u8; 32]) -> Scalar {
    encrypted_ixs::point::scalar_from_canonical(b).unwrap()
}

/// binding-proof nonces are hedged (derived from the secret, the
/// statement and the RNG's bytes). With an RNG that repeats, two proofs with
/// the same `e` for two different capsules still get different nonces, so the
/// nonce-reuse equation `e = (z₁ − z₂)/(c₁ − c₂)` does not give `e`.
#[test]
fn test_f8_binding_nonces_hedged_against_a_repeating_rng() {
    let f = fixture();
    let ctx = record_ctx(1);
    let p = f.nodes[0].cluster_key;
    // The same e in both capsules (as a stuck RNG would also give `seal`),
    // different M.
    let e = Scalar::from_bytes_mod_order([0x42; 32]);
    let big_e = pt(EdwardsPoint::mul_base(&e));
    let capsule = |m: u64| Capsule {
        e: big_e,
        c: pt(EdwardsPoint::mul_base(&Scalar::from(m)) + ed(&p) * e),
    };
    let (cap1, cap2) = (capsule(1001), capsule(2002));
    let pr1 = binding::prove(&mut stuck_rng(), &ctx, &p, &cap1, &e);
    let pr2 = binding::prove(&mut stuck_rng(), &ctx, &p, &cap2, &e);
    binding::verify(&ctx, &p, &cap1, &pr1).unwrap();
    binding::verify(&ctx, &p, &cap2, &pr2).unwrap();
    // The commitments T = z·B − c·E differ, and so do the responses.
    let commitment = |pr: &BindingProof| {
        pt(EdwardsPoint::mul_base(&scalar(&pr.z)) - ed(&big_e) * Challenge(pr.c).scalar())
    };
    assert_ne!(commitment(&pr1), commitment(&pr2));
    assert_ne!(pr1.z, pr2.z);
    assert_ne!(pr1.c, pr2.c);
    let solve = |a: &BindingProof, b: &BindingProof| {
        (scalar(&a.z) - scalar(&b.z)) * (Challenge(a.c).scalar() - Challenge(b.c).scalar()).invert()
    };
    assert_ne!(solve(&pr1, &pr2), e, "e recovered from two proofs");
    // The equation is the right one: two proofs with a reused nonce k (what
    // an unhedged prover with this RNG would make) do give e.
    let k = Scalar::from_bytes_mod_order([0x17; 32]);
    let t = pt(EdwardsPoint::mul_base(&k));
    let reused = |cap: &Capsule| {
        let c = binding_challenge(&binding_transcript(&ctx, &p, cap), &t);
        let pr = BindingProof {
            c: c.0,
            z: (k + c.scalar() * e).to_bytes(),
        };
        binding::verify(&ctx, &p, cap, &pr).unwrap();
        pr
    };
    assert_eq!(solve(&reused(&cap1), &reused(&cap2)), e);
    // The same statement with the same RNG bytes gives the same proof:
    // nothing new is revealed.
    assert_eq!(binding::prove(&mut stuck_rng(), &ctx, &p, &cap1, &e), pr1);
}

/// contribution nonces (`r_i`, `k_r`, `k_s`) are hedged too. With an
/// RNG that repeats, one node's contributions for two capsules get different
/// `k_s`, so `s_i = (z_s₁ − z_s₂)/(c₁ − c₂)` does not give the share.
#[test]
fn test_f8_contribution_nonces_hedged_against_a_repeating_rng() {
    let mut rng = rng(4444);
    let (_, shares) = known_shares();
    let (s2, share) = &shares[1];
    let v2 = share.verification_share();
    let r = UserSecretKey::generate(&mut rng)
        .public_key()
        .edwards()
        .unwrap();
    let ctx = comp_ctx(1);
    let e1 = pt(EdwardsPoint::mul_base(&Scalar::from(31u64)));
    let e2 = pt(EdwardsPoint::mul_base(&Scalar::from(37u64)));
    let st = |e| Statement {
        ctx: &ctx,
        node: idx(2),
        recipient: &r,
        capsule_e: e,
        verification_share: &v2,
    };
    let c1 = reencrypt::contribute(&mut stuck_rng(), share, &ctx, &r, &e1).unwrap();
    let c2 = reencrypt::contribute(&mut stuck_rng(), share, &ctx, &r, &e2).unwrap();
    reencrypt::verify_contribution(&st(&e1), &c1).unwrap();
    reencrypt::verify_contribution(&st(&e2), &c2).unwrap();
    // Different r_i (U) and different commitments T2 = z_s·B − c·V.
    assert_ne!(c1.u, c2.u);
    let t2 = |c: &reencrypt::Contribution| {
        pt(EdwardsPoint::mul_base(&scalar(&c.proof.z_s)) - ed(&v2) * Challenge(c.proof.c).scalar())
    };
    assert_ne!(t2(&c1), t2(&c2));
    assert_ne!(c1.proof.z_s, c2.proof.z_s);
    let solved = (scalar(&c1.proof.z_s) - scalar(&c2.proof.z_s))
        * (Challenge(c1.proof.c).scalar() - Challenge(c2.proof.c).scalar()).invert();
    assert_ne!(&solved, s2, "share recovered from two contributions");
}

/// (a) `U` or `W` bytes that do not decode to a curve point: refused, naming the node.
#[test]
fn test_contribution_with_off_curve_u_or_w() {
    let mut f = fixture();
    let r = f.doctor.public_key().edwards().unwrap();
    let ctx = comp_ctx(1);
    let good = reencrypt::contribute(
        &mut f.rng,
        &f.nodes[2].share,
        &ctx,
        &r,
        &f.sealed.cluster_capsule.e,
    )
    .unwrap();
    let v3 = f.nodes[2].share.verification_share();
    let st = statement(&f, &ctx, &r, &v3, 3);
    reencrypt::verify_contribution(&st, &good).unwrap();
    let bad_point = off_curve();
    for (u, w) in [
        (bad_point, good.w),
        (good.u, bad_point),
        (bad_point, bad_point),
    ] {
        let mut c = good;
        c.u = u;
        c.w = w;
        assert_eq!(
            reencrypt::verify_contribution(&st, &c).unwrap_err(),
            Error::InvalidContribution { node: idx(3) }
        );
    }
}

/// (c) v2: `capsule::open` projects `C − x·E` onto the prime-order subgroup.
/// A torsion point added to a re-encrypted capsule's `C'` and/or `E'` (what a
/// node could smuggle in through its unchecked `U_i`/`W_i`) changes nothing:
/// the recipient gets the same `M`, hence the same data key.
#[test]
fn test_torsion_in_result_capsule_is_projected_away() {
    use curve25519_dalek::constants::EIGHT_TORSION;
    use encrypted_ixs::record::{aad, decrypt, encrypt};
    let mut f = fixture();
    let r = f.doctor.public_key().edwards().unwrap();
    let contribs = contributions(
        &f.nodes,
        &[2, 3],
        &comp_ctx(1),
        &r,
        &f.sealed.cluster_capsule,
        &mut f.rng,
    );
    let result = combine(2, &f.sealed.cluster_capsule, &contribs).unwrap();
    let ctx = record_ctx(1);
    let m = open(&result, &f.doctor).unwrap();
    assert_eq!(&open_group_with(&f.sealed, &m, &ctx, 3).unwrap()[..], PLAIN);
    // A message under the honest data key, to compare keys through.
    let a = aad(&ctx.record, ctx.group, 3);
    let (nonce, probe) = encrypt(&mut f.rng, &m.data_key(&ctx), &a, b"probe");
    for t in &EIGHT_TORSION[1..] {
        let add = |p: &Point| pt(ed(p) + t);
        for tampered in [
            Capsule {
                e: result.e,
                c: add(&result.c),
            },
            Capsule {
                e: add(&result.e),
                c: result.c,
            },
            Capsule {
                e: add(&result.e),
                c: add(&result.c),
            },
        ] {
            assert_ne!(tampered, result);
            let m2 = open(&tampered, &f.doctor).unwrap();
            assert_eq!(
                &open_group_with(&f.sealed, &m2, &ctx, 3).unwrap()[..],
                PLAIN,
                "{t:?}"
            );
            assert_eq!(
                &decrypt(&m2.data_key(&ctx), &a, &nonce, &probe).unwrap()[..],
                b"probe"
            );
        }
    }
}

/// The argument of "Why U_i and W_i are not checked for torsion"
/// (`src/reencrypt.rs`), end to end: a node that knows its share grinds a
/// contribution whose `W` carries a torsion point and whose proof verifies
/// (it picks commitments until `c ≡ 0 mod 8`, one try in eight). The program
/// accepts it; the aggregate's `C'` then differs from the honest one by a
/// torsion point; the recipient still opens the right `M`.
#[test]
fn test_ground_torsion_contribution_is_accepted_and_projected_away() {
    let mut rng = rng(4242);
    let (p, shares) = known_shares();
    let owner = UserSecretKey::generate(&mut rng);
    let doctor = UserSecretKey::generate(&mut rng);
    let ctx = record_ctx(1);
    let sealed = seal_group(
        &mut rng,
        &ctx,
        3,
        PLAIN,
        &p,
        &owner.public_key().edwards().unwrap(),
    )
    .unwrap();
    binding::verify(&ctx, &p, &sealed.cluster_capsule, &sealed.binding).unwrap();
    let capsule = sealed.cluster_capsule;
    let r = doctor.public_key().edwards().unwrap();
    let cctx = comp_ctx(1);
    // Node 1 is honest.
    let c1 = reencrypt::contribute(&mut rng, &shares[0].1, &cctx, &r, &capsule.e).unwrap();
    // Node 2 adds a torsion point to W and grinds a proof for it.
    let (s2, share2) = &shares[1];
    let v2 = share2.verification_share();
    let st = Statement {
        ctx: &cctx,
        node: idx(2),
        recipient: &r,
        capsule_e: &capsule.e,
        verification_share: &v2,
    };
    let r2 = Scalar::random(&mut rng);
    let u = pt(EdwardsPoint::mul_base(&r2));
    let w_honest = pt(ed(&r) * r2 - ed(&capsule.e) * s2);
    let w = with_torsion(&w_honest);
    let tr = contribution_transcript(&st, &u, &w);
    let mut tries = 0;
    let (c, k_r, k_s) = loop {
        tries += 1;
        let k_r = Scalar::random(&mut rng);
        let k_s = Scalar::random(&mut rng);
        let t1 = pt(EdwardsPoint::mul_base(&k_r));
        let t2 = pt(EdwardsPoint::mul_base(&k_s));
        let t3 = pt(ed(&r) * k_r - ed(&capsule.e) * k_s);
        let c = contribution_challenge(&tr, [&t1, &t2, &t3]);
        // c·T = (c mod 8)·T for T of order 8: the verifier's T3 is unchanged.
        if c.0[0].is_multiple_of(8) {
            break (c, k_r, k_s);
        }
    };
    assert!(tries < 200);
    let ground = Contribution {
        u,
        w,
        proof: ContributionProof {
            c: c.0,
            z_r: (k_r + c.scalar() * r2).to_bytes(),
            z_s: (k_s + c.scalar() * s2).to_bytes(),
        },
    };
    reencrypt::verify_contribution(&st, &ground).unwrap();
    let ids = [idx(1), idx(2)];
    let lambdas = reencrypt::lagrange_coefficients(&ids).unwrap();
    let result =
        reencrypt::aggregate(2, &capsule, &ids, &[(c1.u, c1.w), (u, w)], &lambdas).unwrap();
    let honest =
        reencrypt::aggregate(2, &capsule, &ids, &[(c1.u, c1.w), (u, w_honest)], &lambdas).unwrap();
    assert_eq!(result.e, honest.e);
    // C' − C'_honest = λ_2·T = (l − 1)·T = 4·T: the point of order 2.
    let diff = ed(&result.c) - ed(&honest.c);
    assert!(
        diff.is_small_order() && diff != EdwardsPoint::default(),
        "{diff:?}"
    );
    for cap in [result, honest] {
        let m = open(&cap, &doctor).unwrap();
        assert_eq!(&open_group_with(&sealed, &m, &ctx, 3).unwrap()[..], PLAIN);
    }
}
