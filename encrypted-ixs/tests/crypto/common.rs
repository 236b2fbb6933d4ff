//! Test helpers: a simulated cluster that runs the real DKG in memory.

use std::collections::BTreeMap;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use encrypted_ixs::capsule::{Capsule, RecordContext};
use encrypted_ixs::dkg::{self, DkgOutput, DkgParams, EncryptedRound2, Peer};
use encrypted_ixs::keys::KeyShare;
use encrypted_ixs::keys::{NodeIndex, TransportSecret};
use encrypted_ixs::reencrypt::{self, ComputationContext, Contribution, Statement};
use encrypted_ixs::transcript::{tags, Challenge, Transcript};
use encrypted_ixs::{point::Point, Result, Scalar};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

pub const CLUSTER: [u8; 32] = [7u8; 32];

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn idx(i: u16) -> NodeIndex {
    NodeIndex::new(i).unwrap()
}

/// Everything posted during a DKG, so tests can tamper with it.
pub struct DkgTranscript {
    pub params: DkgParams,
    pub transports: Vec<TransportSecret>,
    pub round1: BTreeMap<NodeIndex, Vec<u8>>,
    pub round2: Vec<EncryptedRound2>,
    pub secrets2: BTreeMap<NodeIndex, dkg::Round2Secret>,
}

impl DkgTranscript {
    pub fn peers_of(&self, me: NodeIndex) -> BTreeMap<NodeIndex, Peer> {
        self.round1
            .iter()
            .filter(|(i, _)| **i != me)
            .map(|(i, r1)| {
                (
                    *i,
                    Peer {
                        round1: r1.clone(),
                        transport: self.transports[i.get() as usize - 1].public_key(),
                    },
                )
            })
            .collect()
    }

    pub fn inbox_of(&self, me: NodeIndex) -> Vec<EncryptedRound2> {
        self.round2
            .iter()
            .filter(|p| p.to == me.get())
            .cloned()
            .collect()
    }

    pub fn finish(&self, me: NodeIndex) -> Result<DkgOutput> {
        dkg::finish(
            &self.params,
            me,
            &self.secrets2[&me],
            &self.transports[me.get() as usize - 1],
            &self.peers_of(me),
            &self.inbox_of(me),
        )
    }
}

/// Runs rounds 1 and 2 for every node.
pub fn dkg_rounds(t: u16, n: u16, rng: &mut ChaCha20Rng) -> DkgTranscript {
    let params = DkgParams {
        cluster: CLUSTER,
        threshold: t,
        nodes: n,
        attempt: 0,
    };
    let transports: Vec<TransportSecret> = (0..n).map(|_| TransportSecret::generate(rng)).collect();
    let mut secrets1 = BTreeMap::new();
    let mut round1 = BTreeMap::new();
    for i in 1..=n {
        let (s, p) = dkg::round1(rng, &params, idx(i)).unwrap();
        secrets1.insert(idx(i), s);
        round1.insert(idx(i), p);
    }
    let mut tr = DkgTranscript {
        params,
        transports,
        round1,
        round2: vec![],
        secrets2: BTreeMap::new(),
    };
    for (i, s1) in secrets1 {
        let peers = tr.peers_of(i);
        let (s2, out) = dkg::round2(
            rng,
            &params,
            i,
            s1,
            &tr.transports[i.get() as usize - 1],
            &peers,
        )
        .unwrap();
        tr.secrets2.insert(i, s2);
        tr.round2.extend(out);
    }
    tr
}

/// A full DKG: every node's output (index order).
pub fn cluster(t: u16, n: u16, rng: &mut ChaCha20Rng) -> Vec<DkgOutput> {
    if n == 1 {
        return vec![dkg::single_node(rng).unwrap()];
    }
    let tr = dkg_rounds(t, n, rng);
    (1..=n).map(|i| tr.finish(idx(i)).unwrap()).collect()
}

pub fn record_ctx(group: u8) -> RecordContext {
    RecordContext {
        program_id: [1u8; 32],
        owner: [2u8; 32],
        record: [3u8; 32],
        group,
    }
}

/// The computation context: the same program id as [`record_ctx`], the
/// cluster of [`CLUSTER`].
pub fn comp_ctx(group: u8) -> ComputationContext {
    ComputationContext {
        program_id: [1u8; 32],
        cluster: CLUSTER,
        computation: [9u8; 32],
        group,
    }
}

/// Contributions of `subset` for `capsule`, each verified as the program would.
pub fn contributions(
    nodes: &[DkgOutput],
    subset: &[u16],
    ctx: &ComputationContext,
    recipient: &Point,
    capsule: &Capsule,
    rng: &mut ChaCha20Rng,
) -> Vec<(NodeIndex, Contribution)> {
    subset
        .iter()
        .map(|&i| {
            let node = &nodes[i as usize - 1];
            let c = reencrypt::contribute(rng, &node.share, ctx, recipient, &capsule.e).unwrap();
            let st = Statement {
                ctx,
                node: idx(i),
                recipient,
                capsule_e: &capsule.e,
                verification_share: &node.share.verification_share(),
            };
            reencrypt::verify_contribution(&st, &c).unwrap();
            (idx(i), c)
        })
        .collect()
}

/// Aggregates with correct Lagrange coefficients.
pub fn combine(
    t: usize,
    capsule: &Capsule,
    contribs: &[(NodeIndex, Contribution)],
) -> Result<Capsule> {
    let ids: Vec<NodeIndex> = contribs.iter().map(|(i, _)| *i).collect();
    let lambdas = reencrypt::lagrange_coefficients(&ids)?;
    let uw: Vec<(Point, Point)> = contribs.iter().map(|(_, c)| (c.u, c.w)).collect();
    reencrypt::aggregate(t, capsule, &ids, &uw, &lambdas)
}

/// A 2-of-3 sharing of `s = 5` on `f(x) = 5 + 7x`, for tests that need the
/// shares' values: the cluster key and the three shares (`s_i = 5 + 7i`).
pub fn known_shares() -> (Point, Vec<(Scalar, KeyShare)>) {
    let s = Scalar::from(5u64);
    let big_p = pt(EdwardsPoint::mul_base(&s));
    let v = (1u16..=3)
        .map(|i| {
            let si = s + Scalar::from(7u64) * Scalar::from(i as u64);
            (si, KeyShare::new(idx(i), si, big_p, 2).unwrap())
        })
        .collect();
    (big_p, v)
}

/// Decodes a point the test knows is on the curve.
pub fn ed(p: &Point) -> EdwardsPoint {
    CompressedEdwardsY(p.0).decompress().expect("point decodes")
}

/// Encodes a point.
pub fn pt(p: EdwardsPoint) -> Point {
    Point(p.compress().0)
}

/// `p + T` for the 8-torsion point `EIGHT_TORSION[1]` (order 8).
pub fn with_torsion(p: &Point) -> Point {
    pt(ed(p) + curve25519_dalek::constants::EIGHT_TORSION[1])
}

/// Bytes that are not the `y` of any curve point (the smallest such `y ≥ 2`).
pub fn off_curve() -> Point {
    (2u8..=255)
        .map(|y| {
            let mut b = [0u8; 32];
            b[0] = y;
            Point(b)
        })
        .find(|p| CompressedEdwardsY(p.0).decompress().is_none())
        .unwrap()
}

/// The binding proof's statement, written from the documented v2 layout
/// (`src/binding.rs`) with the public `Transcript` only, independently of the
/// crate's private `statement`.
pub fn binding_transcript(
    ctx: &RecordContext,
    cluster_key: &Point,
    capsule: &Capsule,
) -> Transcript {
    let mut tr = Transcript::new(tags::BINDING);
    tr.append(b"program", &ctx.program_id);
    tr.append(b"P", &cluster_key.0);
    tr.append(b"owner", &ctx.owner);
    tr.append(b"record", &ctx.record);
    tr.append(b"group", &[ctx.group]);
    tr.append(b"E", &capsule.e.0);
    tr.append(b"C", &capsule.c.0);
    tr
}

/// The binding challenge for commitment `t`.
pub fn binding_challenge(statement: &Transcript, t: &Point) -> Challenge {
    let mut tr = statement.clone();
    tr.append(b"T", &t.0);
    tr.challenge()
}

/// The contribution proof's transcript up to `W`, from the documented v2
/// layout (`src/reencrypt.rs`).
pub fn contribution_transcript(st: &Statement<'_>, u: &Point, w: &Point) -> Transcript {
    let mut tr = Transcript::new(tags::CONTRIBUTION);
    tr.append(b"program", &st.ctx.program_id);
    tr.append(b"cluster", &st.ctx.cluster);
    tr.append(b"computation", &st.ctx.computation);
    tr.append(b"group", &[st.ctx.group]);
    tr.append(b"i", &st.node.get().to_le_bytes());
    tr.append(b"R", &st.recipient.0);
    tr.append(b"E", &st.capsule_e.0);
    tr.append(b"V", &st.verification_share.0);
    tr.append(b"U", &u.0);
    tr.append(b"W", &w.0);
    tr
}

/// The contribution challenge for commitments `T1, T2, T3`.
pub fn contribution_challenge(tr: &Transcript, t: [&Point; 3]) -> Challenge {
    let mut tr = tr.clone();
    tr.append(b"T1", &t[0].0);
    tr.append(b"T2", &t[1].0);
    tr.append(b"T3", &t[2].0);
    tr.challenge()
}

/// `l`, little-endian.
pub const L_BYTES: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// `b + k·l` as 32 little-endian bytes, or `None` if it does not fit in 256
/// bits: the same scalar mod `l`, non-canonically encoded.
pub fn plus_multiple_of_l(b: &[u8; 32], k: u64) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    let mut carry = 0u128;
    for i in 0..32 {
        let v = b[i] as u128 + L_BYTES[i] as u128 * k as u128 + carry;
        out[i] = v as u8;
        carry = v >> 8;
    }
    (carry == 0).then_some(out)
}
