//! Frozen vectors: the wire formats and every derivation, so they cannot
//! drift silently. Regenerate deliberately with
//! `MEDSHARE_WRITE_VECTORS=1 cargo test -p encrypted-ixs --test vectors`.

mod common;

use borsh::to_vec;
use common::*;
use encrypted_ixs::capsule::open;
use encrypted_ixs::keys::{KeyShare, UserSecretKey};
use encrypted_ixs::point::Point;
use encrypted_ixs::record::{open_group_with, seal_group};
use encrypted_ixs::reencrypt::{self, Statement};
use encrypted_ixs::Scalar;
use serde_json::{json, Value};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/v1.json");

fn h(b: impl AsRef<[u8]>) -> String {
    hex::encode(b)
}

fn p(pt: &Point) -> String {
    hex::encode(pt.0)
}

/// A 2-of-3 sharing of s = 5 on f(x) = 5 + 7x.
fn shares() -> (Point, Vec<KeyShare>) {
    let s = Scalar::from(5u64);
    let big_p = Point(
        curve25519_dalek::edwards::EdwardsPoint::mul_base(&s)
            .compress()
            .0,
    );
    let v = (1u16..=3)
        .map(|i| {
            let si = s + Scalar::from(7u64) * Scalar::from(i as u64);
            KeyShare::new(idx(i), si, big_p, 2).unwrap()
        })
        .collect();
    (big_p, v)
}

fn generate() -> Value {
    let mut rng = rng(2026);
    let (cluster_key, shares) = shares();
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
    let r = doctor.public_key().edwards().unwrap();
    let cctx = comp_ctx(3);
    let mut contribs = vec![];
    for i in [1u16, 3] {
        let share = &shares[i as usize - 1];
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
        "description": "MedShare v1 frozen vectors (seeded ChaCha20Rng 2026)",
        "owner": { "secret": h(*owner.to_bytes()), "x25519": h(owner.public_key().0),
                   "edwards": p(&owner.public_key().edwards().unwrap()) },
        "doctor": { "secret": h(*doctor.to_bytes()), "x25519": h(doctor.public_key().0),
                    "edwards": p(&r) },
        "cluster": { "key": p(&cluster_key), "threshold": 2,
                     "verification_shares": shares.iter().map(|s| p(&s.verification_share())).collect::<Vec<_>>() },
        "record_context": { "program_id": h(ctx.program_id), "owner": h(ctx.owner),
                            "record": h(ctx.record), "group": ctx.group, "version": 1 },
        "sealed_group": {
            "cluster_capsule": { "e": p(&sealed.cluster_capsule.e), "c": p(&sealed.cluster_capsule.c) },
            "binding": { "c": h(sealed.binding.c), "z": h(sealed.binding.z) },
            "owner_capsule": { "e": p(&sealed.owner_capsule.e), "c": p(&sealed.owner_capsule.c) },
            "nonce": h(sealed.nonce),
            "ciphertext": h(&sealed.ciphertext),
            "borsh": h(to_vec(&sealed).unwrap()),
        },
        "computation": { "address": h(cctx.computation), "group": cctx.group },
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
        std::fs::write(PATH, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
    }
    let frozen: Value = serde_json::from_str(
        &std::fs::read_to_string(PATH).expect("tests/vectors/v1.json is committed"),
    )
    .unwrap();
    assert_eq!(now, frozen, "a format or derivation changed");
}

#[test]
fn test_frozen_vectors_verify_independently() {
    // Re-check the frozen contribution proofs and binding proof from the file alone.
    let v: Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let pt = |s: &Value| Point::from_bytes(&hex::decode(s.as_str().unwrap()).unwrap()).unwrap();
    let b32 = |s: &Value| -> [u8; 32] {
        hex::decode(s.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    };
    let sg = &v["sealed_group"];
    let rc = &v["record_context"];
    let ctx = encrypted_ixs::capsule::RecordContext {
        program_id: b32(&rc["program_id"]),
        owner: b32(&rc["owner"]),
        record: b32(&rc["record"]),
        group: rc["group"].as_u64().unwrap() as u8,
    };
    let capsule = encrypted_ixs::capsule::Capsule {
        e: pt(&sg["cluster_capsule"]["e"]),
        c: pt(&sg["cluster_capsule"]["c"]),
    };
    encrypted_ixs::binding::verify(
        &ctx,
        &capsule,
        &encrypted_ixs::binding::BindingProof {
            c: b32(&sg["binding"]["c"]),
            z: b32(&sg["binding"]["z"]),
        },
    )
    .unwrap();
    let r = pt(&v["doctor"]["edwards"]);
    let cctx = encrypted_ixs::reencrypt::ComputationContext {
        computation: b32(&v["computation"]["address"]),
        group: v["computation"]["group"].as_u64().unwrap() as u8,
    };
    let mut uw = vec![];
    let mut ids = vec![];
    for c in v["contributions"].as_array().unwrap() {
        let i = c["node"].as_u64().unwrap() as u16;
        let contribution: reencrypt::Contribution =
            borsh::from_slice(&hex::decode(c["borsh"].as_str().unwrap()).unwrap()).unwrap();
        let vi = pt(&v["cluster"]["verification_shares"][i as usize - 1]);
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
    let lambdas: Vec<Scalar> = v["lagrange"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| encrypted_ixs::point::scalar_from_canonical(&b32(l)).unwrap())
        .collect();
    let result = reencrypt::aggregate(2, &capsule, &ids, &uw, &lambdas).unwrap();
    assert_eq!(result.e, pt(&v["result"]["e"]));
    assert_eq!(result.c, pt(&v["result"]["c"]));
}
