//! Test helpers: a simulated cluster that runs the real DKG in memory.
#![allow(dead_code)]

use std::collections::BTreeMap;

use encrypted_ixs::capsule::{Capsule, RecordContext};
use encrypted_ixs::dkg::{self, DkgOutput, DkgParams, EncryptedRound2, Peer};
use encrypted_ixs::keys::{NodeIndex, TransportSecret};
use encrypted_ixs::reencrypt::{self, ComputationContext, Contribution, Statement};
use encrypted_ixs::{point::Point, Result};
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

pub fn comp_ctx(group: u8) -> ComputationContext {
    ComputationContext {
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
