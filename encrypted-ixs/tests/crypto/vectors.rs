//! Frozen vectors: the wire formats and every derivation, so they cannot
//! drift silently. Regenerate deliberately with
//! `MEDSHARE_WRITE_VECTORS=1 cargo test -p encrypted-ixs --test crypto vectors`
//! (it rewrites `tests/vectors/v2.json` only).
//!
//! `tests/vectors/v1.json` is the retired wire format v1 (SHA-512 transcripts,
//! 256-bit challenges, `medshare/v1/` proof tags, contexts without the cluster
//! key, program id and cluster). Its proofs do not verify under v2 and are
//! kept only as a record; everything v2 left unchanged (keys, capsules, the
//! HKDF data key, ChaCha20-Poly1305 group sealing, Lagrange coefficients,
//! aggregation, opening) is still checked against it.

use crate::common::*;
use borsh::to_vec;
use encrypted_ixs::binding::{self, BindingProof, BINDING_PROOF_LEN};
use encrypted_ixs::capsule::{open, Capsule, RecordContext};
use encrypted_ixs::keys::UserSecretKey;
use encrypted_ixs::point::Point;
use encrypted_ixs::record::{open_group_with, open_own_group, seal_group, SealedGroup};
use encrypted_ixs::reencrypt::{self, ComputationContext, Contribution, Statement};
use encrypted_ixs::transcript::MAX_TRANSCRIPT;
use encrypted_ixs::{Error, Scalar};
use serde_json::{json, Value};

const V2: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/v2.json");
const V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/v1.json");

fn h(b: impl AsRef<[u8]>) -> String {
    hex::encode(b)
}

fn p(pt: &Point) -> String {
    hex::encode(pt.0)
}

fn load(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("vector file is committed")).unwrap()
}

fn bytes(s: &Value) -> Vec<u8> {
    hex::decode(s.as_str().unwrap()).unwrap()
}

fn b32(s: &Value) -> [u8; 32] {
    bytes(s).try_into().unwrap()
}

fn b16(s: &Value) -> [u8; 16] {
    bytes(s).try_into().unwrap()
}

/// A point from the file, fully validated.
fn pt_of(s: &Value) -> Point {
    Point::from_bytes(&bytes(s)).unwrap()
}

fn record_context_of(v: &Value) -> RecordContext {
    let rc = &v["record_context"];
    RecordContext {
        program_id: b32(&rc["program_id"]),
        owner: b32(&rc["owner"]),
        record: b32(&rc["record"]),
        group: rc["group"].as_u64().unwrap() as u8,
    }
}

fn capsule_of(c: &Value) -> Capsule {
    Capsule {
        e: pt_of(&c["e"]),
        c: pt_of(&c["c"]),
    }
}

fn generate() -> Value {
    let mut rng = rng(2026);
    let (cluster_key, shares) = known_shares();
    let owner = UserSecretKey::generate(&mut rng);
    let doctor = UserSecretKey::generate(&mut rng);
    let ctx = record_ctx(3);
    let plaintext = b"{\"medications\":[\"salbutamol\"]}";
    let sealed = seal_group(
        &mut rng,
        &ctx,
        1,
        plaintext,
        &cluster_key,
        &owner.public_key().edwards().unwrap(),
    )
    .unwrap();
    binding::verify(&ctx, &cluster_key, &sealed.cluster_capsule, &sealed.binding).unwrap();
    let r = doctor.public_key().edwards().unwrap();
    let cctx = comp_ctx(3);
    let mut contribs = vec![];
    for i in [1u16, 3] {
        let share = &shares[i as usize - 1].1;
        let c =
            reencrypt::contribute(&mut rng, share, &cctx, &r, &sealed.cluster_capsule.e).unwrap();
        reencrypt::verify_contribution(
            &Statement {
                ctx: &cctx,
                node: idx(i),
                recipient: &r,
                capsule_e: &sealed.cluster_capsule.e,
                verification_share: &share.verification_share(),
            },
            &c,
        )
        .unwrap();
        contribs.push((idx(i), c));
    }
    let ids = [idx(1), idx(3)];
    let lambdas = reencrypt::lagrange_coefficients(&ids).unwrap();
    let result = combine(2, &sealed.cluster_capsule, &contribs).unwrap();
    let m = open(&result, &doctor).unwrap();
    assert_eq!(
        &open_group_with(&sealed, &m, &ctx, 1).unwrap()[..],
        &plaintext[..]
    );
    json!({
        "description": "MedShare wire format v2 frozen vectors (seeded ChaCha20Rng 2026; \
                        SHA-256 transcripts, 128-bit challenges, hedged nonces)",
        "format": 2,
        "owner": { "secret": h(*owner.to_bytes()), "x25519": h(owner.public_key().0),
                   "edwards": p(&owner.public_key().edwards().unwrap()) },
        "doctor": { "secret": h(*doctor.to_bytes()), "x25519": h(doctor.public_key().0),
                    "edwards": p(&r) },
        "cluster": { "key": p(&cluster_key), "threshold": 2,
                     "verification_shares": shares.iter().map(|(_, s)| p(&s.verification_share())).collect::<Vec<_>>() },
        "record_context": { "program_id": h(ctx.program_id), "owner": h(ctx.owner),
                            "record": h(ctx.record), "group": ctx.group, "version": 1 },
        "sealed_group": {
            "cluster_capsule": { "e": p(&sealed.cluster_capsule.e), "c": p(&sealed.cluster_capsule.c) },
            "binding": { "c": h(sealed.binding.c), "z": h(sealed.binding.z),
                         "bytes": h(sealed.binding.to_bytes()) },
            "owner_capsule": { "e": p(&sealed.owner_capsule.e), "c": p(&sealed.owner_capsule.c) },
            "nonce": h(sealed.nonce),
            "ciphertext": h(&sealed.ciphertext),
            "borsh": h(to_vec(&sealed).unwrap()),
        },
        "computation": { "program_id": h(cctx.program_id), "cluster": h(cctx.cluster),
                         "address": h(cctx.computation), "group": cctx.group },
        "contributions": contribs.iter().map(|(i, c)| json!({
            "node": i.get(), "u": p(&c.u), "w": p(&c.w),
            "proof": { "c": h(c.proof.c), "z_r": h(c.proof.z_r), "z_s": h(c.proof.z_s) },
            "borsh": h(to_vec(c).unwrap()),
        })).collect::<Vec<_>>(),
        "lagrange": lambdas.iter().map(|l| h(l.to_bytes())).collect::<Vec<_>>(),
        "result": { "e": p(&result.e), "c": p(&result.c) },
        "plaintext": h(plaintext),
    })
}

#[test]
fn test_frozen_vectors() {
    let now = generate();
    if std::env::var_os("MEDSHARE_WRITE_VECTORS").is_some() {
        std::fs::write(V2, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
    }
    assert_eq!(now, load(V2), "a format or derivation changed");
}

#[test]
fn test_frozen_vectors_verify_independently() {
    // Re-check the frozen v2 binding proof and contribution proofs from the file alone.
    let v = load(V2);
    assert_eq!(v["format"], 2);
    let sg = &v["sealed_group"];
    let ctx = record_context_of(&v);
    let cluster_key = pt_of(&v["cluster"]["key"]);
    let capsule = capsule_of(&sg["cluster_capsule"]);
    let proof = BindingProof {
        c: b16(&sg["binding"]["c"]),
        z: b32(&sg["binding"]["z"]),
    };
    let wire: [u8; BINDING_PROOF_LEN] = bytes(&sg["binding"]["bytes"]).try_into().unwrap();
    assert_eq!(BindingProof::from_bytes(&wire), proof);
    binding::verify(&ctx, &cluster_key, &capsule, &proof).unwrap();
    let sealed: SealedGroup = borsh::from_slice(&bytes(&sg["borsh"])).unwrap();
    assert_eq!(sealed.cluster_capsule, capsule);
    assert_eq!(sealed.binding, proof);
    let r = pt_of(&v["doctor"]["edwards"]);
    let cv = &v["computation"];
    let cctx = ComputationContext {
        program_id: b32(&cv["program_id"]),
        cluster: b32(&cv["cluster"]),
        computation: b32(&cv["address"]),
        group: cv["group"].as_u64().unwrap() as u8,
    };
    let mut uw = vec![];
    let mut ids = vec![];
    for c in v["contributions"].as_array().unwrap() {
        let i = c["node"].as_u64().unwrap() as u16;
        let contribution: Contribution = borsh::from_slice(&bytes(&c["borsh"])).unwrap();
        assert_eq!(contribution.proof.c, b16(&c["proof"]["c"]));
        let vi = pt_of(&v["cluster"]["verification_shares"][i as usize - 1]);
        reencrypt::verify_contribution(
            &Statement {
                ctx: &cctx,
                node: idx(i),
                recipient: &r,
                capsule_e: &capsule.e,
                verification_share: &vi,
            },
            &contribution,
        )
        .unwrap();
        uw.push((contribution.u, contribution.w));
        ids.push(idx(i));
    }
    let coeffs: Vec<[u8; 32]> = v["lagrange"].as_array().unwrap().iter().map(b32).collect();
    reencrypt::check_lagrange(&ids, &coeffs).unwrap();
    let lambdas: Vec<Scalar> = coeffs
        .iter()
        .map(|l| encrypted_ixs::point::scalar_from_canonical(l).unwrap())
        .collect();
    let result = reencrypt::aggregate(2, &capsule, &ids, &uw, &lambdas).unwrap();
    assert_eq!(result, capsule_of(&v["result"]));
    // The program's path: the Lagrange check once, then `combine`.
    let combined = reencrypt::combine(&capsule, &coeffs, |k| uw[k]).unwrap();
    assert_eq!(combined, result);
}

/// The transcripts follow the layout documented in `src/transcript.rs`,
/// `src/binding.rs` and `src/reencrypt.rs`: rebuilt here with the public
/// `Transcript` alone, from the frozen v2 file, they give the frozen
/// challenges (each commitment recomputed from the verification equation).
/// Also the transcript sizes: 339 bytes (binding) and 529 bytes
/// (contribution), both within `MAX_TRANSCRIPT`.
#[test]
fn test_transcript_sizes() {
    use curve25519_dalek::edwards::EdwardsPoint;
    use encrypted_ixs::transcript::Challenge;
    let v = load(V2);
    let sg = &v["sealed_group"];
    let ctx = record_context_of(&v);
    let cluster_key = pt_of(&v["cluster"]["key"]);
    let capsule = capsule_of(&sg["cluster_capsule"]);
    let sc = |b: &[u8; 32]| encrypted_ixs::point::scalar_from_canonical(b).unwrap();

    let c = Challenge(b16(&sg["binding"]["c"]));
    let z = sc(&b32(&sg["binding"]["z"]));
    let t = pt(EdwardsPoint::mul_base(&z) - ed(&capsule.e) * c.scalar());
    let st = binding_transcript(&ctx, &cluster_key, &capsule);
    assert_eq!(binding_challenge(&st, &t), c);
    let mut full = st.clone();
    full.append(b"T", &t.0);
    assert_eq!(full.bytes().len(), 339);

    let r = pt_of(&v["doctor"]["edwards"]);
    let cctx = comp_ctx(3);
    assert_eq!(h(cctx.program_id), v["computation"]["program_id"]);
    assert_eq!(h(cctx.cluster), v["computation"]["cluster"]);
    for cv in v["contributions"].as_array().unwrap() {
        let i = cv["node"].as_u64().unwrap() as u16;
        let contribution: Contribution = borsh::from_slice(&bytes(&cv["borsh"])).unwrap();
        let vi = pt_of(&v["cluster"]["verification_shares"][i as usize - 1]);
        let st = Statement {
            ctx: &cctx,
            node: idx(i),
            recipient: &r,
            capsule_e: &capsule.e,
            verification_share: &vi,
        };
        let pr = &contribution.proof;
        let c = Challenge(pr.c);
        let (z_r, z_s) = (sc(&pr.z_r), sc(&pr.z_s));
        let t1 = pt(EdwardsPoint::mul_base(&z_r) - ed(&contribution.u) * c.scalar());
        let t2 = pt(EdwardsPoint::mul_base(&z_s) - ed(&vi) * c.scalar());
        let t3 = pt(ed(&r) * z_r - ed(&capsule.e) * z_s - ed(&contribution.w) * c.scalar());
        let tr = contribution_transcript(&st, &contribution.u, &contribution.w);
        assert_eq!(contribution_challenge(&tr, [&t1, &t2, &t3]), c, "node {i}");
        let mut full = tr.clone();
        for (label, t) in [(&b"T1"[..], &t1), (b"T2", &t2), (b"T3", &t3)] {
            full.append(label, &t.0);
        }
        assert_eq!(full.bytes().len(), 529);
        assert!(full.bytes().len() <= MAX_TRANSCRIPT);
    }
}

/// Wire sizes of v2 (borsh).
#[test]
fn test_v2_wire_sizes() {
    let v = load(V2);
    assert_eq!(BINDING_PROOF_LEN, 48);
    assert_eq!(to_vec(&BindingProof::default()).unwrap().len(), 48);
    assert_eq!(
        to_vec(&encrypted_ixs::reencrypt::ContributionProof::default())
            .unwrap()
            .len(),
        80
    );
    assert_eq!(to_vec(&Contribution::default()).unwrap().len(), 144);
    assert_eq!(to_vec(&Capsule::default()).unwrap().len(), 64);
    for c in v["contributions"].as_array().unwrap() {
        assert_eq!(bytes(&c["borsh"]).len(), 144);
    }
    // SealedGroup: 1 + 64 + 48 + 64 + 12 + 4 + (plaintext + 16).
    let plaintext = bytes(&v["plaintext"]).len();
    assert_eq!(bytes(&v["sealed_group"]["borsh"]).len(), 209 + plaintext);
    // Five contributions (the most one share carries) of one node: 720 bytes.
    assert_eq!(encrypted_ixs::MAX_SHARE_GROUPS * 144, 720);
}

/// The retired v1 vectors: the file still parses, and everything whose
/// format did not change with v2 still reproduces from it with today's code:
/// user keys and their Edwards forms, the cluster key and verification
/// shares, the owner opening the owner capsule (HKDF data key +
/// ChaCha20-Poly1305 with the record AAD), the Lagrange coefficients and the
/// aggregation of the v1 `(U_i, W_i)` into the v1 result, and the doctor
/// opening that result. The v1 proofs are retired: they are not v2 proofs
/// and do not verify under v2, and the v1 borsh forms of `SealedGroup` and
/// `Contribution` are not v2 wire forms.
#[test]
fn test_v1_vectors_retired_capsules_and_records_still_open() {
    let v = load(V1);
    assert!(v["description"].as_str().unwrap().contains("v1"));
    assert!(v.get("format").is_none());
    let plaintext = bytes(&v["plaintext"]);

    // Keys.
    let owner = UserSecretKey::from_bytes(b32(&v["owner"]["secret"]));
    let doctor = UserSecretKey::from_bytes(b32(&v["doctor"]["secret"]));
    for (key, who) in [(&owner, "owner"), (&doctor, "doctor")] {
        assert_eq!(h(key.public_key().0), v[who]["x25519"]);
        assert_eq!(p(&key.public_key().edwards().unwrap()), v[who]["edwards"]);
    }
    let (cluster_key, shares) = known_shares();
    assert_eq!(p(&cluster_key), v["cluster"]["key"]);
    for (k, (_, s)) in shares.iter().enumerate() {
        assert_eq!(
            p(&s.verification_share()),
            v["cluster"]["verification_shares"][k]
        );
    }

    // The record: owner capsule → M → HKDF data key → ChaCha20-Poly1305.
    let ctx = record_context_of(&v);
    assert_eq!(ctx, record_ctx(3));
    let version = v["record_context"]["version"].as_u64().unwrap() as u32;
    let sg = &v["sealed_group"];
    let cluster_capsule = capsule_of(&sg["cluster_capsule"]);
    let sealed = SealedGroup {
        group: ctx.group,
        cluster_capsule,
        binding: BindingProof::default(), // a v1 proof has no v2 form
        owner_capsule: capsule_of(&sg["owner_capsule"]),
        nonce: bytes(&sg["nonce"]).try_into().unwrap(),
        ciphertext: bytes(&sg["ciphertext"]),
    };
    assert_eq!(
        &open_own_group(&sealed, &owner, &ctx, version).unwrap()[..],
        &plaintext[..]
    );

    // Lagrange coefficients and aggregation did not change: the v1
    // contributions' (U, W) still combine into the v1 result, which the
    // doctor opens.
    let ids = [idx(1), idx(3)];
    let coeffs: Vec<[u8; 32]> = v["lagrange"].as_array().unwrap().iter().map(b32).collect();
    reencrypt::check_lagrange(&ids, &coeffs).unwrap();
    let lambdas = reencrypt::lagrange_coefficients(&ids).unwrap();
    assert_eq!(
        lambdas.iter().map(|l| l.to_bytes()).collect::<Vec<_>>(),
        coeffs
    );
    let uw: Vec<(Point, Point)> = v["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (pt_of(&c["u"]), pt_of(&c["w"])))
        .collect();
    let result = reencrypt::combine(&cluster_capsule, &coeffs, |k| uw[k]).unwrap();
    assert_eq!(result, capsule_of(&v["result"]));
    let m = open(&result, &doctor).unwrap();
    assert_eq!(
        &open_group_with(&sealed, &m, &ctx, version).unwrap()[..],
        &plaintext[..]
    );

    // Retired: the v1 binding proof's 256-bit challenge is not a 128-bit
    // one, and cut to 128 bits it does not verify (v2 transcripts are SHA-256
    // over other tags and bind P).
    let c1 = bytes(&sg["binding"]["c"]);
    assert_eq!(c1.len(), 32);
    assert!(c1[16..].iter().any(|&b| b != 0));
    let truncated = BindingProof {
        c: c1[..16].try_into().unwrap(),
        z: b32(&sg["binding"]["z"]),
    };
    assert_eq!(
        binding::verify(&ctx, &cluster_key, &cluster_capsule, &truncated).unwrap_err(),
        Error::InvalidBindingProof
    );
    // Retired: v1 wire forms (64-byte binding proof, 160-byte contribution)
    // are not v2 wire forms.
    assert!(borsh::from_slice::<SealedGroup>(&bytes(&sg["borsh"])).is_err());
    let r = pt_of(&v["doctor"]["edwards"]);
    let cctx = comp_ctx(3);
    for c in v["contributions"].as_array().unwrap() {
        let wire = bytes(&c["borsh"]);
        assert_eq!(wire.len(), 160);
        assert!(borsh::from_slice::<Contribution>(&wire).is_err());
        // Its parts, cut to the v2 layout, do not verify either.
        let i = c["node"].as_u64().unwrap() as u16;
        let cut = Contribution {
            u: pt_of(&c["u"]),
            w: pt_of(&c["w"]),
            proof: reencrypt::ContributionProof {
                c: bytes(&c["proof"]["c"])[..16].try_into().unwrap(),
                z_r: b32(&c["proof"]["z_r"]),
                z_s: b32(&c["proof"]["z_s"]),
            },
        };
        let vi = shares[i as usize - 1].1.verification_share();
        assert_eq!(
            reencrypt::verify_contribution(
                &Statement {
                    ctx: &cctx,
                    node: idx(i),
                    recipient: &r,
                    capsule_e: &cluster_capsule.e,
                    verification_share: &vi,
                },
                &cut
            )
            .unwrap_err(),
            Error::InvalidContribution { node: idx(i) }
        );
    }
}
