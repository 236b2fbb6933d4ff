//! Errors of the confidential instructions.
//!
//! Every check has its own variant so that callers (the program, the nodes, the
//! CLI) can tell a person exactly what was wrong, and so that a misbehaving node
//! or DKG participant is named in the error itself.

use crate::node_index::{InvalidNodeIndex, NodeIndex};

/// Everything that can go wrong while sealing, opening, proving, verifying,
/// aggregating or running the DKG.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A point's encoding is not the canonical one (its `y` is not reduced mod `p`).
    #[error("point encoding is not canonical")]
    NonCanonicalPoint,
    /// A point does not decompress to a point of the curve.
    #[error("point is not on the curve")]
    InvalidPoint,
    /// A point is the identity.
    #[error("point is the identity")]
    IdentityPoint,
    /// A point has a component in the small-order (torsion) subgroup.
    #[error("point is not in the prime-order subgroup")]
    SmallOrderPoint,
    /// A scalar's encoding is not reduced mod `l`.
    #[error("scalar encoding is not canonical")]
    NonCanonicalScalar,
    /// An X25519 public key that has no Edwards form in the prime-order subgroup.
    #[error("invalid X25519 public key")]
    InvalidPublicKey,
    /// A key or share of the wrong length or form was given.
    #[error("malformed key material")]
    MalformedKey,
    /// A field group number outside `0..MAX_GROUPS`.
    #[error("field group {0} is out of range")]
    InvalidGroup(u8),
    /// The binding proof of a capsule does not verify for this record.
    #[error("capsule binding proof does not verify for this record")]
    InvalidBindingProof,
    /// Authenticated decryption failed: wrong key, or ciphertext, nonce or AAD tampered.
    #[error("decryption failed: wrong key or tampered ciphertext")]
    DecryptionFailed,
    /// A ciphertext too short to hold a tag.
    #[error("ciphertext is truncated")]
    TruncatedCiphertext,
    /// A node's re-encryption contribution has an invalid proof.
    #[error("invalid contribution from node {node}")]
    InvalidContribution {
        /// The node whose contribution failed.
        node: NodeIndex,
    },
    /// A statistics value's bit proof does not verify.
    #[error("bit {bit} of the encrypted value: proof does not verify")]
    InvalidBitProof {
        /// The bit position.
        bit: u8,
    },
    /// A statistics value with no bits or more than `stats::MAX_BITS`.
    #[error("a value has 1 to 40 bits (got {0})")]
    InvalidBitWidth(usize),
    /// A value that does not fit its declared number of bits.
    #[error("value {value} does not fit in {bits} bits")]
    ValueOutOfRange {
        /// The value.
        value: u64,
        /// The bits declared.
        bits: u8,
    },
    /// A statistics relation proof (sum to one, bucket consistency, square)
    /// does not verify.
    #[error("encrypted value: {0} proof does not verify")]
    InvalidRelationProof(&'static str),
    /// A node's noise bit or its proof is invalid (the node is named).
    #[error("invalid noise bit from node {node}")]
    InvalidNoise {
        /// The node.
        node: NodeIndex,
    },
    /// A node's partial decryption of a study aggregate has an invalid proof.
    #[error("invalid partial decryption from node {node}")]
    InvalidPartialDecryption {
        /// The node whose partial decryption failed.
        node: NodeIndex,
    },
    /// A node index of zero, a duplicate, or one outside the cluster.
    #[error("invalid node index {0}")]
    InvalidNodeIndex(u16),
    /// The same node appears twice in a contributing set.
    #[error("node {0} appears twice in the contributing set")]
    DuplicateNode(NodeIndex),
    /// Fewer contributions than the threshold.
    #[error("need {needed} contributions, have {have}")]
    NotEnoughContributions {
        /// Threshold `t`.
        needed: usize,
        /// Contributions supplied.
        have: usize,
    },
    /// More contributions than the aggregation supports.
    #[error("too many contributions ({0})")]
    TooManyContributions(usize),
    /// A supplied Lagrange coefficient is wrong for the contributing set.
    #[error("wrong Lagrange coefficient for node {node}")]
    InvalidLagrangeCoefficient {
        /// The node whose coefficient is wrong.
        node: NodeIndex,
    },
    /// Invalid threshold parameters.
    #[error("invalid threshold {t} of {n}")]
    InvalidThreshold {
        /// Threshold.
        t: u16,
        /// Cluster size; [`crate::MAX_NODES`] when the cluster size is not
        /// known (from [`crate::keys::KeyShare::new`], which only checks
        /// `1 ≤ t ≤ MAX_NODES`).
        n: u16,
    },
    /// A DKG participant misbehaved (bad proof of knowledge, bad share, an
    /// undecryptable or malformed round-2 package, or a low-order transport key).
    #[error("DKG participant {culprit} misbehaved: {reason}")]
    DkgCulprit {
        /// The participant to blame.
        culprit: NodeIndex,
        /// What it did.
        reason: &'static str,
    },
    /// A DKG round-2 package addressed to another participant.
    #[error("DKG round-2 package from {from} is addressed to node {to}, not to us")]
    DkgWrongRecipient {
        /// Sender.
        from: NodeIndex,
        /// Addressee written in the package.
        to: NodeIndex,
    },
    /// A second DKG round-2 package from the same sender. Refused rather than
    /// silently replacing the first; not blamed on the sender, since a
    /// duplicate may come from whoever relayed the packages.
    #[error("duplicate DKG round-2 package from node {from}")]
    DkgDuplicatePackage {
        /// Sender named in both packages.
        from: NodeIndex,
    },
    /// The DKG failed without a participant to blame: `"wrong number of DKG
    /// packages"` when a round-1 or round-2 package is missing or extra,
    /// otherwise a reason naming the step (bad encoding, rejected packages).
    #[error("DKG failed: {0}")]
    Dkg(&'static str),
    /// A wire encoding could not be parsed.
    #[error("malformed encoding: {0}")]
    Encoding(&'static str),
    /// An unknown wire-format version byte.
    #[error("unsupported format version {0}")]
    UnsupportedVersion(u8),
}

/// Result alias for this crate.
pub type Result<T> = core::result::Result<T, Error>;

impl From<InvalidNodeIndex> for Error {
    fn from(e: InvalidNodeIndex) -> Self {
        Error::InvalidNodeIndex(e.0)
    }
}

impl Error {
    /// The node this error blames, when a node's own message caused it (an
    /// invalid contribution, partial decryption or noise bit, a DKG
    /// participant who misbehaved): the one accessor for blame, whatever
    /// the protocol step. Errors that name a node without blaming it (a
    /// wrong Lagrange coefficient is the combiner's, a duplicate or
    /// misaddressed DKG package may be a relay's) return `None`.
    pub fn culprit(&self) -> Option<NodeIndex> {
        match self {
            Error::InvalidContribution { node }
            | Error::InvalidNoise { node }
            | Error::InvalidPartialDecryption { node } => Some(*node),
            Error::DkgCulprit { culprit, .. } => Some(*culprit),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blame goes to the node whose message failed, and to no node when the
    /// error only names one.
    #[test]
    fn test_culprit_names_only_the_node_at_fault() {
        let node = NodeIndex::new(3).unwrap();
        for e in [
            Error::InvalidContribution { node },
            Error::InvalidNoise { node },
            Error::InvalidPartialDecryption { node },
            Error::DkgCulprit {
                culprit: node,
                reason: "bad share",
            },
        ] {
            assert_eq!(e.culprit(), Some(node), "{e}");
        }
        for e in [
            Error::InvalidLagrangeCoefficient { node },
            Error::DuplicateNode(node),
            Error::DkgDuplicatePackage { from: node },
            Error::InvalidPoint,
        ] {
            assert_eq!(e.culprit(), None, "{e}");
        }
        assert_eq!(
            Error::from(NodeIndex::new(0).unwrap_err()),
            Error::InvalidNodeIndex(0)
        );
    }
}
