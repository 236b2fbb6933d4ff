//! Every refusal of the program, one variant each.

use anchor_lang::prelude::*;

/// Errors of the MedShare program.
#[error_code]
pub enum MedshareError {
    /// The signer does not own this record.
    #[msg("signer is not the record owner")]
    NotOwner,
    /// The signer is not the cluster admin.
    #[msg("signer is not the cluster admin")]
    NotAdmin,
    /// Threshold and size do not satisfy 1 ≤ t ≤ n ≤ 16 (t = 1 only with n = 1).
    #[msg("invalid threshold or cluster size")]
    InvalidThreshold,
    /// Computation lifetime out of range.
    #[msg("computation lifetime out of range")]
    InvalidTtl,
    /// The cluster already has n nodes.
    #[msg("cluster is full")]
    ClusterFull,
    /// This authority is already a node of the cluster.
    #[msg("node already added")]
    NodeAlreadyAdded,
    /// The signer is not a node of this cluster.
    #[msg("signer is not a node of this cluster")]
    NotClusterNode,
    /// The node has already registered its transport key.
    #[msg("node already registered")]
    NodeAlreadyRegistered,
    /// The cluster is not in the state this instruction needs.
    #[msg("cluster is not in the right state for this step")]
    WrongClusterStatus,
    /// The cluster has not finished its DKG (or it failed).
    #[msg("cluster is not ready")]
    ClusterNotReady,
    /// An account belongs to another cluster.
    #[msg("account belongs to another cluster")]
    WrongCluster,
    /// A DKG package is too large or malformed.
    #[msg("malformed DKG package")]
    InvalidDkgPackage,
    /// This node already posted its round-1 package.
    #[msg("round-1 package already posted")]
    Round1AlreadyPosted,
    /// Round 2 before this node's round 1, or confirmation before its round 2.
    #[msg("previous DKG round not finished")]
    DkgRoundMissing,
    /// A round-2 package addressed twice, to oneself, or from another node.
    #[msg("duplicate or misaddressed round-2 package")]
    InvalidRound2Package,
    /// This node already confirmed the DKG result.
    #[msg("DKG result already confirmed")]
    AlreadyConfirmed,
    /// A public key or point is malformed, of small order, or the identity.
    #[msg("invalid curve point")]
    InvalidPoint,
    /// The recipient key is not a valid X25519 key in its Edwards form.
    #[msg("invalid recipient key")]
    InvalidRecipientKey,
    /// A field group number out of range, or an empty group mask.
    #[msg("invalid field group")]
    InvalidGroup,
    /// The record has no ciphertext for a requested group in its current version.
    #[msg("record has no data for a requested field group")]
    GroupMissing,
    /// The ciphertext exceeds the inline limit or is shorter than a tag.
    #[msg("ciphertext size out of range")]
    InvalidCiphertextSize,
    /// The cluster capsule's binding proof does not verify for this record.
    #[msg("capsule binding proof does not verify for this record")]
    InvalidBindingProof,
    /// The record author (provider) did not sign.
    #[msg("record author must sign")]
    AuthorMustSign,
    /// The computation's expiry slot has passed.
    #[msg("computation expired")]
    ComputationExpired,
    /// The computation has not expired yet, so it cannot be cancelled.
    #[msg("computation has not expired")]
    ComputationNotExpired,
    /// The computation is not pending.
    #[msg("computation is not pending")]
    ComputationNotPending,
    /// This node already contributed to this computation.
    #[msg("node already contributed")]
    DuplicateContribution,
    /// The threshold of contributions is already reached.
    #[msg("computation already has enough contributions")]
    ContributionsComplete,
    /// A contribution must cover every requested group, in order.
    #[msg("one contribution per requested group")]
    WrongGroupCount,
    /// This node submitted an invalid contribution to this computation before.
    #[msg("node was found faulty on this computation")]
    NodeFaulty,
    /// Fewer than t valid contributions.
    #[msg("not enough contributions")]
    NotEnoughContributions,
    /// The Lagrange coefficients do not match the contributing set.
    #[msg("wrong Lagrange coefficients")]
    InvalidLagrangeCoefficients,
    /// The signer did not request this computation.
    #[msg("signer is not the requester")]
    NotRequester,
    /// Arithmetic overflow.
    #[msg("arithmetic overflow")]
    Overflow,
    /// An account's state breaks an invariant.
    #[msg("account invariant violated")]
    InvariantViolated,
    /// The record changed version since the computation was queued.
    #[msg("record changed since the share was requested")]
    RecordVersionMismatch,
}
