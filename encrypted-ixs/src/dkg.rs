//! Distributed key generation over a public bulletin board (the chain).
//!
//! The cluster key is generated with the Pedersen DKG as specified for FROST
//! (Komlo–Goldberg, "FROST: Flexible Round-Optimized Schnorr Threshold
//! Signatures", SAC 2020, Figure 1), implemented by the `frost-ed25519` crate's
//! `keys::dkg`, which we do not re-implement. Around it this module adds what a
//! public bulletin board needs:
//!
//! 1. **Round 1** ([`round1`]): each node `i` samples a degree-`t−1`
//!    polynomial, publishes Feldman commitments to its coefficients and a
//!    Schnorr proof of knowledge of the constant term. The package is public;
//!    it is posted on-chain as is.
//! 2. **Round 2** ([`round2`]): each node checks everyone's proofs of knowledge
//!    (a bad one names its sender), then evaluates its polynomial at every
//!    peer `j`. Those evaluations are secret, so each is encrypted to `j`'s
//!    X25519 transport key: `k = HKDF-SHA256(salt = "medshare/v2/dkg-round2",
//!    ikm = X25519(t_i, T_j), info = session ‖ i ‖ j)`, ChaCha20-Poly1305 with
//!    a random nonce and `AAD = session ‖ i ‖ j`, where `session =
//!    SHA-256("medshare/v2/dkg-session" ‖ cluster ‖ attempt ‖ t ‖ n ‖
//!    C_1 ‖ … ‖ C_n)` binds the cluster, the DKG attempt and every node's
//!    round-1 commitment ([`session_id`]): a package from an earlier attempt,
//!    or one made against other commitments, does not decrypt.
//!    Static–static Diffie–Hellman means only `i` or `j` can have produced a
//!    package that decrypts, so a package that fails to decrypt, or carries a
//!    share inconsistent with its sender's commitments, names the sender.
//! 3. **Finish** ([`finish`]): each node decrypts the packages addressed to it
//!    (exactly one per peer: a second package from the same sender is
//!    refused, not substituted), checks each share against its sender's
//!    commitments (a bad share names the sender), and obtains its share `s_i`,
//!    the cluster key `P = s·B` and every verification share `V_j`. Each node
//!    posts `P` and the `V_j` it computed; the program marks the cluster ready
//!    only when all `n` agree.
//!
//! A peer whose transport key is of low order (so the X25519 result is not
//! contributory) is named, in round 2 and at the finish, as
//! [`Error::DkgCulprit`] `"low-order transport key"`. A missing or extra
//! package, which `frost` cannot attribute, is
//! [`Error::Dkg`]`("wrong number of DKG packages")`.
//!
//! Participant identifiers are the node indices `1..=n`, so the Shamir `x` of
//! node `i` is `i`, as [`crate::reencrypt`] assumes. `frost-ed25519` requires
//! `t ≥ 2`; a one-node cluster (`t = n = 1`) uses [`single_node`] instead.

use std::collections::BTreeMap;
use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use curve25519_dalek::scalar::Scalar;
use frost_ed25519 as frost;
use frost_ed25519::keys::dkg;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::{KeyShare, NodeIndex, TransportPublic, TransportSecret};
use crate::point::Point;
use crate::record::NONCE_LEN;
use crate::transcript::tags;

/// The public parameters of one DKG run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DkgParams {
    /// The cluster account's address (binds every encrypted package to it).
    pub cluster: [u8; 32],
    /// Threshold `t`.
    pub threshold: u16,
    /// Number of nodes `n`.
    pub nodes: u16,
    /// Which DKG attempt of the cluster this is (the cluster's `dkg_attempt`;
    /// a restarted DKG is a new session).
    pub attempt: u32,
}

impl DkgParams {
    /// Checks `2 ≤ t ≤ n ≤ MAX_NODES` (or `t = n = 1`).
    pub fn validate(&self) -> Result<()> {
        let (t, n) = (self.threshold, self.nodes);
        let ok = (t == 1 && n == 1) || (2 <= t && t <= n && n as usize <= crate::MAX_NODES);
        if !ok {
            return Err(Error::InvalidThreshold { t, n });
        }
        Ok(())
    }
}

/// A node's secret state between round 1 and round 2. Zeroized on drop (by
/// `frost`); `Debug` redacted.
pub struct Round1Secret(dkg::round1::SecretPackage);

/// A node's secret state between round 2 and the finish. Zeroized on drop;
/// `Debug` redacted.
pub struct Round2Secret(dkg::round2::SecretPackage);

impl fmt::Debug for Round1Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Round1Secret(<redacted>)")
    }
}

impl fmt::Debug for Round2Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Round2Secret(<redacted>)")
    }
}

impl Round1Secret {
    /// Serializes for encrypted storage (so a node can resume a DKG after a restart).
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        self.0
            .serialize()
            .map(Zeroizing::new)
            .map_err(|_| Error::Dkg("round-1 secret does not serialize"))
    }

    /// Parses [`Round1Secret::to_bytes`].
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        dkg::round1::SecretPackage::deserialize(b)
            .map(Round1Secret)
            .map_err(|_| Error::Encoding("round-1 secret"))
    }
}

impl Round2Secret {
    /// Serializes for encrypted storage.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        self.0
            .serialize()
            .map(Zeroizing::new)
            .map_err(|_| Error::Dkg("round-2 secret does not serialize"))
    }

    /// Parses [`Round2Secret::to_bytes`].
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        dkg::round2::SecretPackage::deserialize(b)
            .map(Round2Secret)
            .map_err(|_| Error::Encoding("round-2 secret"))
    }
}

/// A round-2 package encrypted to its addressee's transport key.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct EncryptedRound2 {
    /// Sender's node index.
    pub from: u16,
    /// Addressee's node index.
    pub to: u16,
    /// AEAD nonce.
    pub nonce: [u8; NONCE_LEN],
    /// ChaCha20-Poly1305 ciphertext of the serialized `frost` round-2 package.
    pub ciphertext: Vec<u8>,
}

/// What a node learns from a successful DKG.
#[derive(Debug)]
pub struct DkgOutput {
    /// This node's share.
    pub share: KeyShare,
    /// The cluster key `P`.
    pub cluster_key: Point,
    /// `V_j` for every node `j`, in index order.
    pub verification_shares: Vec<(NodeIndex, Point)>,
}

fn identifier(i: NodeIndex) -> frost::Identifier {
    frost::Identifier::try_from(i.get()).expect("node indices are nonzero")
}

fn node_of(id: &frost::Identifier, nodes: &[NodeIndex]) -> Option<NodeIndex> {
    nodes.iter().copied().find(|i| identifier(*i) == *id)
}

/// Reason given when `frost` reports the wrong number of packages.
const WRONG_PACKAGE_COUNT: &str = "wrong number of DKG packages";

/// Maps a `frost` DKG error to ours. Errors that name a participant become
/// [`Error::DkgCulprit`] with the reason for that error (not for the call
/// site); a wrong package count is [`Error::Dkg`]`("wrong number of DKG
/// packages")`; anything else is [`Error::Dkg`]`(generic)`.
fn map_frost_error(err: &frost::Error, nodes: &[NodeIndex], generic: &'static str) -> Error {
    let named = |id: &frost::Identifier, reason: &'static str| match node_of(id, nodes) {
        Some(culprit) => Error::DkgCulprit { culprit, reason },
        None => Error::Dkg(generic),
    };
    match err {
        frost::Error::InvalidProofOfKnowledge { culprit } => {
            named(culprit, "invalid round-1 proof of knowledge")
        }
        frost::Error::InvalidSecretShare {
            culprit: Some(culprit),
        } => named(culprit, "secret share inconsistent with its commitments"),
        frost::Error::IncorrectNumberOfPackages => Error::Dkg(WRONG_PACKAGE_COUNT),
        _ => Error::Dkg(generic),
    }
}

/// The DKG session id: SHA-256 over a tag, the cluster, the attempt, `t`,
/// `n` and every node's round-1 commitment in index order (`own` is node
/// `me`'s, the others come from `round1`). Every node of one run computes the
/// same id; a new attempt, or any changed commitment, gives another.
pub fn session_id(
    params: &DkgParams,
    me: NodeIndex,
    own: &frost::keys::VerifiableSecretSharingCommitment,
    round1: &BTreeMap<frost::Identifier, dkg::round1::Package>,
) -> Result<[u8; 32]> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(crate::transcript::tags::DKG_SESSION);
    h.update(params.cluster);
    h.update(params.attempt.to_le_bytes());
    h.update(params.threshold.to_le_bytes());
    h.update(params.nodes.to_le_bytes());
    for i in 1..=params.nodes {
        let node = NodeIndex::new(i)?;
        let commitment = if node == me {
            own
        } else {
            round1
                .get(&identifier(node))
                .ok_or(Error::Dkg(WRONG_PACKAGE_COUNT))?
                .commitment()
        };
        let bytes = commitment
            .serialize_whole()
            .map_err(|_| Error::Dkg("commitment does not serialize"))?;
        h.update((bytes.len() as u32).to_le_bytes());
        h.update(&bytes);
    }
    Ok(h.finalize().into())
}

/// The pair key between us and `peer_index`, whose transport key is `peer`,
/// for one DKG session. A peer transport key that makes the Diffie–Hellman
/// non-contributory (a low-order X25519 key) names that peer.
fn pair_key(
    me: &TransportSecret,
    peer_index: NodeIndex,
    peer: &TransportPublic,
    session: &[u8; 32],
    from: u16,
    to: u16,
) -> Result<(Zeroizing<[u8; 32]>, [u8; 36])> {
    let shared = me.diffie_hellman(peer).map_err(|_| Error::DkgCulprit {
        culprit: peer_index,
        reason: "low-order transport key",
    })?;
    let mut ctx = [0u8; 36];
    ctx[..32].copy_from_slice(session);
    ctx[32..34].copy_from_slice(&from.to_le_bytes());
    ctx[34..].copy_from_slice(&to.to_le_bytes());
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(tags::DKG_ROUND2), shared.as_ref());
    let mut k = Zeroizing::new([0u8; 32]);
    hk.expand(&ctx, k.as_mut())
        .expect("32 bytes is a valid HKDF length");
    Ok((k, ctx))
}

/// Decrypts one round-2 package from `from` (whose peer entry is `peer`)
/// for the session `session`; an undecryptable one names its sender.
fn decrypt_package(
    transport: &TransportSecret,
    from: NodeIndex,
    peer: &Peer,
    session: &[u8; 32],
    pkg: &EncryptedRound2,
) -> Result<Zeroizing<Vec<u8>>> {
    let (key, aad) = pair_key(transport, from, &peer.transport, session, pkg.from, pkg.to)?;
    ChaCha20Poly1305::new(key.as_ref().into())
        .decrypt(
            Nonce::from_slice(&pkg.nonce),
            Payload {
                msg: &pkg.ciphertext,
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| Error::DkgCulprit {
            culprit: from,
            reason: "undecryptable round-2 package",
        })
}

/// Decrypts one round-2 package addressed to node `me`, as [`finish`] does,
/// given `me`'s own posted round-1 package (for the session id) and the
/// transport secret `me` used in that session. For audits and tests: what
/// a given secret can open of what is posted on-chain.
pub fn open_round2(
    params: &DkgParams,
    me: NodeIndex,
    own_round1: &[u8],
    transport: &TransportSecret,
    peers: &BTreeMap<NodeIndex, Peer>,
    pkg: &EncryptedRound2,
) -> Result<Zeroizing<Vec<u8>>> {
    let own = dkg::round1::Package::deserialize(own_round1).map_err(|_| Error::DkgCulprit {
        culprit: me,
        reason: "malformed round-1 package",
    })?;
    let round1 = parse_round1(params, peers)?;
    let session = session_id(params, me, own.commitment(), &round1)?;
    let from = NodeIndex::new(pkg.from)?;
    if pkg.to != me.get() {
        return Err(Error::DkgWrongRecipient {
            from,
            to: NodeIndex::new(pkg.to)?,
        });
    }
    let peer = peers.get(&from).ok_or(Error::InvalidNodeIndex(pkg.from))?;
    decrypt_package(transport, from, peer, &session, pkg)
}

/// What a DKG complaint shows ([`verify_complaint`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The accused sender's package to the complainer is faulty: it does not
    /// decrypt under the revealed key, is malformed, or carries a share
    /// inconsistent with the sender's round-1 commitment.
    SenderFaulty {
        /// What is wrong with the package.
        reason: &'static str,
    },
    /// The complaint is false: the revealed secret is not the complainer's
    /// posted key for the attempt, there is no such package, or the package
    /// opens to a share consistent with the sender's commitment.
    ComplaintFalse,
}

/// Judges a complaint by node `complainer` against node `accused`, from
/// public data only, so every node (and anyone reading the chain) reaches
/// the same verdict.
///
/// A complainer reveals its ephemeral transport secret for the attempt
/// (`revealed`): the key is used for nothing else, and the attempt is
/// abandoned anyway once a complaint is made, so revealing it costs nothing.
/// The proof of a correct Diffie–Hellman is the secret itself: it must match
/// the complainer's posted key `complainer_key`; the pairwise key then
/// follows, and anyone can decrypt the accused's package and check the share
/// against the accused's round-1 commitment.
#[allow(clippy::too_many_arguments)]
pub fn verify_complaint(
    params: &DkgParams,
    complainer: NodeIndex,
    complainer_round1: &[u8],
    complainer_key: &TransportPublic,
    revealed: &TransportSecret,
    accused: NodeIndex,
    peers: &BTreeMap<NodeIndex, Peer>,
    package: Option<&EncryptedRound2>,
) -> Result<Verdict> {
    if revealed.public_key() != *complainer_key || accused == complainer {
        return Ok(Verdict::ComplaintFalse);
    }
    let Some(pkg) = package.filter(|p| p.from == accused.get() && p.to == complainer.get()) else {
        return Ok(Verdict::ComplaintFalse);
    };
    let plain = match open_round2(params, complainer, complainer_round1, revealed, peers, pkg) {
        Ok(plain) => plain,
        Err(Error::DkgCulprit { culprit, reason }) if culprit == accused => {
            return Ok(Verdict::SenderFaulty { reason })
        }
        Err(e) => return Err(e),
    };
    let Ok(parsed) = dkg::round2::Package::deserialize(&plain) else {
        return Ok(Verdict::SenderFaulty {
            reason: "malformed round-2 package",
        });
    };
    let commitment = parse_round1(params, peers)?
        .remove(&identifier(accused))
        .ok_or(Error::InvalidNodeIndex(accused.get()))?
        .commitment()
        .clone();
    let share =
        frost::keys::SecretShare::new(identifier(complainer), *parsed.signing_share(), commitment);
    Ok(match share.verify() {
        Ok(_) => Verdict::ComplaintFalse,
        Err(_) => Verdict::SenderFaulty {
            reason: "secret share inconsistent with its commitments",
        },
    })
}

/// Round 1 for node `me`: the secret state to keep and the public package to post.
pub fn round1<R: RngCore + CryptoRng>(
    rng: &mut R,
    params: &DkgParams,
    me: NodeIndex,
) -> Result<(Round1Secret, Vec<u8>)> {
    params.validate()?;
    if params.nodes < 2 {
        return Err(Error::InvalidThreshold {
            t: params.threshold,
            n: params.nodes,
        });
    }
    let (secret, package) = dkg::part1(identifier(me), params.nodes, params.threshold, rng)
        .map_err(|_| Error::Dkg("round 1 failed"))?;
    let bytes = package
        .serialize()
        .map_err(|_| Error::Dkg("round-1 package does not serialize"))?;
    Ok((Round1Secret(secret), bytes))
}

/// What a node knows of a peer: its round-1 package and its transport key.
#[derive(Clone, Debug)]
pub struct Peer {
    /// The peer's posted round-1 package.
    pub round1: Vec<u8>,
    /// The peer's transport key.
    pub transport: TransportPublic,
}

/// Decodes every peer's round-1 package; a malformed one, or one whose
/// commitment does not have exactly `t` coefficients (a polynomial of
/// another degree), names its sender.
fn parse_round1(
    params: &DkgParams,
    peers: &BTreeMap<NodeIndex, Peer>,
) -> Result<BTreeMap<frost::Identifier, dkg::round1::Package>> {
    peers
        .iter()
        .map(|(i, p)| {
            let pkg =
                dkg::round1::Package::deserialize(&p.round1).map_err(|_| Error::DkgCulprit {
                    culprit: *i,
                    reason: "malformed round-1 package",
                })?;
            let coefficients = pkg.commitment().serialize().map(|c| c.len()).unwrap_or(0);
            if coefficients != params.threshold as usize {
                return Err(Error::DkgCulprit {
                    culprit: *i,
                    reason: "round-1 commitment of the wrong length",
                });
            }
            Ok((identifier(*i), pkg))
        })
        .collect()
}

fn all_nodes(me: NodeIndex, peers: &BTreeMap<NodeIndex, Peer>) -> Vec<NodeIndex> {
    let mut v: Vec<NodeIndex> = peers.keys().copied().collect();
    v.push(me);
    v.sort();
    v
}

/// Round 2 for node `me`: verifies every peer's round-1 package and encrypts
/// one round-2 package to each peer. `peers` holds every other node.
pub fn round2<R: RngCore + CryptoRng>(
    rng: &mut R,
    params: &DkgParams,
    me: NodeIndex,
    secret: Round1Secret,
    transport: &TransportSecret,
    peers: &BTreeMap<NodeIndex, Peer>,
) -> Result<(Round2Secret, Vec<EncryptedRound2>)> {
    let nodes = all_nodes(me, peers);
    let round1 = parse_round1(params, peers)?;
    let session = session_id(params, me, secret.0.commitment(), &round1)?;
    let (secret2, packages) = dkg::part2(secret.0, &round1)
        .map_err(|e| map_frost_error(&e, &nodes, "round-1 packages rejected"))?;
    let mut out = Vec::with_capacity(packages.len());
    for (id, pkg) in packages {
        let to = node_of(&id, &nodes).ok_or(Error::Dkg("round 2 for an unknown peer"))?;
        let plain = Zeroizing::new(
            pkg.serialize()
                .map_err(|_| Error::Dkg("round-2 package does not serialize"))?,
        );
        let (key, aad) = pair_key(
            transport,
            to,
            &peers[&to].transport,
            &session,
            me.get(),
            to.get(),
        )?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let ciphertext = ChaCha20Poly1305::new(key.as_ref().into())
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &aad,
                },
            )
            .expect("in-memory encryption cannot fail");
        out.push(EncryptedRound2 {
            from: me.get(),
            to: to.get(),
            nonce,
            ciphertext,
        });
    }
    Ok((Round2Secret(secret2), out))
}

fn point_of(bytes: &[u8]) -> Result<Point> {
    Point::from_bytes(bytes)
}

/// Finishes the DKG for node `me` with the round-2 packages addressed to it
/// (exactly one from every peer).
///
/// Refuses, in this order per package: one addressed to another node
/// ([`Error::DkgWrongRecipient`]), a second one from the same sender
/// ([`Error::DkgDuplicatePackage`]), one from a node that is not a peer
/// ([`Error::InvalidNodeIndex`]), a sender whose transport key is of low order,
/// an undecryptable or malformed package ([`Error::DkgCulprit`] naming the
/// sender). Then a missing package is [`Error::Dkg`]`("wrong number of DKG
/// packages")` and a share inconsistent with its sender's commitments names
/// the sender.
pub fn finish(
    params: &DkgParams,
    me: NodeIndex,
    secret: &Round2Secret,
    transport: &TransportSecret,
    peers: &BTreeMap<NodeIndex, Peer>,
    received: &[EncryptedRound2],
) -> Result<DkgOutput> {
    let nodes = all_nodes(me, peers);
    let round1 = parse_round1(params, peers)?;
    let session = session_id(params, me, secret.0.commitment(), &round1)?;
    let mut round2 = BTreeMap::new();
    for pkg in received {
        let from = NodeIndex::new(pkg.from)?;
        if pkg.to != me.get() {
            return Err(Error::DkgWrongRecipient {
                from,
                to: NodeIndex::new(pkg.to)?,
            });
        }
        if round2.contains_key(&identifier(from)) {
            return Err(Error::DkgDuplicatePackage { from });
        }
        let peer = peers.get(&from).ok_or(Error::InvalidNodeIndex(pkg.from))?;
        let plain = decrypt_package(transport, from, peer, &session, pkg)?;
        let parsed = dkg::round2::Package::deserialize(&plain).map_err(|_| Error::DkgCulprit {
            culprit: from,
            reason: "malformed round-2 package",
        })?;
        round2.insert(identifier(from), parsed);
    }
    let (key_package, public) = dkg::part3(&secret.0, &round1, &round2)
        .map_err(|e| map_frost_error(&e, &nodes, "round-2 packages rejected"))?;
    let cluster_key = point_of(
        &public
            .verifying_key()
            .serialize()
            .map_err(|_| Error::Dkg("cluster key"))?,
    )?;
    let mut verification_shares = Vec::with_capacity(nodes.len());
    for i in &nodes {
        let v = public
            .verifying_shares()
            .get(&identifier(*i))
            .ok_or(Error::Dkg("missing verification share"))?;
        verification_shares.push((
            *i,
            point_of(
                &v.serialize()
                    .map_err(|_| Error::Dkg("verification share"))?,
            )?,
        ));
    }
    let s_bytes = Zeroizing::new(key_package.signing_share().serialize());
    let mut s_arr = Zeroizing::new([0u8; 32]);
    s_arr.copy_from_slice(&s_bytes);
    let s = crate::point::scalar_from_canonical(&s_arr)?;
    let share = KeyShare::new(me, s, cluster_key, params.threshold)?;
    Ok(DkgOutput {
        share,
        cluster_key,
        verification_shares,
    })
}

/// The degenerate `t = n = 1` cluster: node 1 holds the whole key.
pub fn single_node<R: RngCore + CryptoRng>(rng: &mut R) -> Result<DkgOutput> {
    let s = Scalar::random(rng);
    let p = Point(
        curve25519_dalek::edwards::EdwardsPoint::mul_base(&s)
            .compress()
            .0,
    );
    let me = NodeIndex::new(1)?;
    let share = KeyShare::new(me, s, p, 1)?;
    Ok(DkgOutput {
        verification_shares: vec![(me, share.verification_share())],
        share,
        cluster_key: p,
    })
}
