//! Every refusal of the program, one variant each.

use anchor_lang::prelude::*;

/// Errors of the MedShare program.
#[error_code]
pub enum MedshareError {
    /// The signer does not own this record (or identity, or consent).
    #[msg("signer is not the owner")]
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
    /// The share result account is not this computation's.
    #[msg("share result does not belong to this computation")]
    WrongShareResult,
    /// The signer is not an active credential issuer of this cluster.
    #[msg("signer is not an active credential issuer of this cluster")]
    NotIssuer,
    /// The provider's credential issuer was removed by the cluster admin.
    #[msg("the provider's credential issuer was revoked")]
    IssuerRevoked,
    /// The recipient or grantee is not a verified provider (no registry entry given).
    #[msg("recipient is not a verified provider")]
    ProviderNotVerified,
    /// The provider's registration was revoked.
    #[msg("provider registration revoked")]
    ProviderRevoked,
    /// The provider's registration is outside its validity period.
    #[msg("provider registration not valid at this time")]
    ProviderExpired,
    /// The provider's role is not one the record's policy allows.
    #[msg("provider role not allowed by the record's policy")]
    ProviderRoleNotAllowed,
    /// A validity period or consent end time that is empty or already over.
    #[msg("invalid validity period or end time")]
    InvalidValidity,
    /// The consent purpose is longer than allowed.
    #[msg("consent purpose too long")]
    PurposeTooLong,
    /// The requester holds no consent for this record.
    #[msg("no consent for this record")]
    ConsentMissing,
    /// The consent was revoked.
    #[msg("consent revoked")]
    ConsentRevoked,
    /// The consent's end time has passed.
    #[msg("consent expired")]
    ConsentExpired,
    /// The request asks for groups outside the consent.
    #[msg("requested groups are outside the consent")]
    ConsentScope,
    /// A consent for this grantee already exists and is active (modify it instead).
    #[msg("an active consent already exists for this grantee")]
    ConsentExists,
    /// The recipient key is not the key registered by the recipient wallet.
    #[msg("recipient key is not the recipient wallet's registered key")]
    WrongIdentity,
    /// The computation account is not the cluster's next computation.
    #[msg("computation account is not the cluster's next computation")]
    WrongComputation,
    /// The share result is not completed (a pending one is cancelled after expiry).
    #[msg("share result is not completed yet")]
    ShareNotCompleted,
    /// Only the requester or the recipient wallet may close a share result.
    #[msg("signer is neither the requester nor the recipient of this share")]
    NotRequesterOrRecipient,
    /// The record account is not the one the share result is for.
    #[msg("record account is not the one this share is of")]
    WrongRecord,
    /// The record was closed (or closed and created again) since the request.
    #[msg("record was closed since the request")]
    RecordClosed,
    /// The record moved to another version since the request.
    #[msg("record changed since the request")]
    RecordChanged,
    /// The group is already written in this version (start a new version to change it).
    #[msg("field group already written in this version")]
    GroupAlreadyWritten,
    /// The consent belongs to a closed record that was created again at the same address.
    #[msg("consent belongs to an earlier record at this address")]
    ConsentStale,
    /// The wallet has a live registration from another, active issuer.
    #[msg("provider has a live registration from another active issuer")]
    ProviderExists,
    /// A share names more groups than one share carries (`MAX_SHARE_GROUPS`).
    #[msg("too many field groups for one share (at most 5)")]
    TooManyGroups,
    /// A value's or study's bits or histogram are out of range (1–12 bits, at most 4 histogram bits, none for a 1-bit indicator).
    #[msg("invalid value shape: 1 to 12 bits, histogram of at most 4 top bits")]
    InvalidStudyShape,
    /// A study's minimum cohort is below `MIN_COHORT` (10).
    #[msg("minimum cohort must be at least 10")]
    MinCohortTooLow,
    /// The study has fewer records than its minimum cohort.
    #[msg("study cohort is below its minimum: nothing can be released")]
    CohortTooSmall,
    /// The record already joined this study (it counts once).
    #[msg("record already joined this study")]
    AlreadyInStudy,
    /// The study is closed, released, or past its closing time.
    #[msg("study is not open for joining")]
    StudyNotOpen,
    /// Partial decryptions are only taken for a closed study's aggregates.
    #[msg("study is not closed: only a closed study's aggregates are decrypted")]
    StudyNotClosed,
    /// A research value's bit, square or bucket proof failed.
    #[msg("research value proof is invalid")]
    InvalidValueProof,
    /// The research value is not complete and sealed.
    #[msg("research value is not complete")]
    ValueNotSealed,
    /// The research value is sealed: it cannot be changed.
    #[msg("research value is already complete")]
    ValueSealed,
    /// Slices must be posted in order, each once.
    #[msg("value slices out of order")]
    SlicesOutOfOrder,
    /// The value's field or shape is not the study's.
    #[msg("value does not match the study's field")]
    FieldMismatch,
    /// Fewer than `t` nodes posted complete, valid partial decryptions.
    #[msg("not enough valid partial decryptions")]
    NotEnoughPartials,
    /// The record's research consent still admits it to the study.
    #[msg("the record's research consent still admits it")]
    StillConsented,
    /// The record is not (or no longer) counted in this study.
    #[msg("record is not in this study")]
    NotInStudy,
    /// The record's research consent does not admit this study's ε (no differential privacy, or its budget would be exceeded).
    #[msg("study's privacy cost exceeds the record's privacy budget")]
    PrivacyBudgetExceeded,
    /// The study has no differential privacy: no noise is taken.
    #[msg("study adds no noise")]
    NoiseNotNeeded,
    /// The study already has noise from `t` nodes.
    #[msg("study noise is complete")]
    NoiseComplete,
    /// Partial decryptions wait until `t` nodes' noise is in.
    #[msg("study noise is not complete yet")]
    NoiseIncomplete,
    /// ε must be between 0.001 and 100.
    #[msg("epsilon must be between 0.001 and 100")]
    InvalidEpsilon,
    /// A study sum's randomness cancels out (its `R` is the identity): it cannot be decrypted, so the study cannot close.
    #[msg("a study sum cannot be decrypted (its randomness cancels out)")]
    DegenerateAggregate,
    /// The research value belongs to an earlier record at this address.
    #[msg("research value belongs to an earlier record at this address")]
    ValueStale,
    /// The account to create already exists.
    #[msg("account already exists")]
    AccountExists,
    /// An identity cannot be closed in the slot it was registered in.
    #[msg("identity registered in this slot; close it in a later one")]
    IdentityJustRegistered,
    /// Only the study's researcher decides who is in it.
    #[msg("only the study's researcher adds or removes its records")]
    NotResearcher,
    /// The issuer is still active: revoke it first.
    #[msg("issuer still active: revoke it first")]
    IssuerActive,
    /// The provider entry still verifies its provider: revoke it first.
    #[msg("provider entry still valid: revoke it first")]
    ProviderActive,
    /// A study membership still counts this value.
    #[msg("value still counted by a study membership")]
    ValueInStudies,
    /// The study has not been released.
    #[msg("study not released")]
    StudyNotReleased,
    /// The partial decryptions belong to another study.
    #[msg("partial decryptions of another study")]
    WrongStudy,
    /// A research consent sets a privacy budget, or opts into exact
    /// releases explicitly (and then without a budget).
    #[msg("a research consent needs a privacy budget, or an explicit choice of exact releases without one")]
    PrivacyChoice,
    /// The study holds as many records as its statistics can count
    /// (`max_cohort`: every released statistic below `2^40`).
    #[msg("study is full: one more record would make its statistics too large to decrypt")]
    StudyFull,
    /// At this ε a node's noise on some statistic would need more than
    /// `MAX_STUDY_NOISE_BITS` bits.
    #[msg("epsilon is too small for this field: the noise would be too large to decrypt")]
    EpsilonTooSmall,
}

impl MedshareError {
    /// Every variant, in code order (`ERROR_CODE_OFFSET + index`).
    pub const ALL: [MedshareError; 92] = [
        MedshareError::NotOwner,
        MedshareError::NotAdmin,
        MedshareError::InvalidThreshold,
        MedshareError::InvalidTtl,
        MedshareError::ClusterFull,
        MedshareError::NodeAlreadyAdded,
        MedshareError::NotClusterNode,
        MedshareError::NodeAlreadyRegistered,
        MedshareError::WrongClusterStatus,
        MedshareError::ClusterNotReady,
        MedshareError::WrongCluster,
        MedshareError::InvalidDkgPackage,
        MedshareError::Round1AlreadyPosted,
        MedshareError::DkgRoundMissing,
        MedshareError::InvalidRound2Package,
        MedshareError::AlreadyConfirmed,
        MedshareError::InvalidPoint,
        MedshareError::InvalidRecipientKey,
        MedshareError::InvalidGroup,
        MedshareError::GroupMissing,
        MedshareError::InvalidCiphertextSize,
        MedshareError::InvalidBindingProof,
        MedshareError::AuthorMustSign,
        MedshareError::ComputationExpired,
        MedshareError::ComputationNotExpired,
        MedshareError::ComputationNotPending,
        MedshareError::DuplicateContribution,
        MedshareError::ContributionsComplete,
        MedshareError::WrongGroupCount,
        MedshareError::NodeFaulty,
        MedshareError::NotEnoughContributions,
        MedshareError::InvalidLagrangeCoefficients,
        MedshareError::NotRequester,
        MedshareError::Overflow,
        MedshareError::InvariantViolated,
        MedshareError::WrongShareResult,
        MedshareError::NotIssuer,
        MedshareError::IssuerRevoked,
        MedshareError::ProviderNotVerified,
        MedshareError::ProviderRevoked,
        MedshareError::ProviderExpired,
        MedshareError::ProviderRoleNotAllowed,
        MedshareError::InvalidValidity,
        MedshareError::PurposeTooLong,
        MedshareError::ConsentMissing,
        MedshareError::ConsentRevoked,
        MedshareError::ConsentExpired,
        MedshareError::ConsentScope,
        MedshareError::ConsentExists,
        MedshareError::WrongIdentity,
        MedshareError::WrongComputation,
        MedshareError::ShareNotCompleted,
        MedshareError::NotRequesterOrRecipient,
        MedshareError::WrongRecord,
        MedshareError::RecordClosed,
        MedshareError::RecordChanged,
        MedshareError::GroupAlreadyWritten,
        MedshareError::ConsentStale,
        MedshareError::ProviderExists,
        MedshareError::TooManyGroups,
        MedshareError::InvalidStudyShape,
        MedshareError::MinCohortTooLow,
        MedshareError::CohortTooSmall,
        MedshareError::AlreadyInStudy,
        MedshareError::StudyNotOpen,
        MedshareError::StudyNotClosed,
        MedshareError::InvalidValueProof,
        MedshareError::ValueNotSealed,
        MedshareError::ValueSealed,
        MedshareError::SlicesOutOfOrder,
        MedshareError::FieldMismatch,
        MedshareError::NotEnoughPartials,
        MedshareError::StillConsented,
        MedshareError::NotInStudy,
        MedshareError::PrivacyBudgetExceeded,
        MedshareError::NoiseNotNeeded,
        MedshareError::NoiseComplete,
        MedshareError::NoiseIncomplete,
        MedshareError::InvalidEpsilon,
        MedshareError::DegenerateAggregate,
        MedshareError::ValueStale,
        MedshareError::AccountExists,
        MedshareError::IdentityJustRegistered,
        MedshareError::NotResearcher,
        MedshareError::IssuerActive,
        MedshareError::ProviderActive,
        MedshareError::ValueInStudies,
        MedshareError::StudyNotReleased,
        MedshareError::WrongStudy,
        MedshareError::PrivacyChoice,
        MedshareError::StudyFull,
        MedshareError::EpsilonTooSmall,
    ];

    /// The variant with this Anchor error code.
    pub fn from_code(code: u32) -> Option<MedshareError> {
        let i = code.checked_sub(anchor_lang::error::ERROR_CODE_OFFSET)? as usize;
        Self::ALL.get(i).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_all_lists_every_variant_in_code_order() {
        for (i, e) in MedshareError::ALL.iter().enumerate() {
            assert_eq!(*e as usize, i, "{e:?}");
            let back = MedshareError::from_code(anchor_lang::error::ERROR_CODE_OFFSET + i as u32);
            assert_eq!(back.map(|b| b as usize), Some(*e as usize));
        }
        assert_eq!(
            *MedshareError::ALL.last().unwrap() as usize,
            MedshareError::EpsilonTooSmall as usize,
            "a variant was added after EpsilonTooSmall: add it to ALL"
        );
        assert!(MedshareError::from_code(anchor_lang::error::ERROR_CODE_OFFSET + 999).is_none());
    }
}
