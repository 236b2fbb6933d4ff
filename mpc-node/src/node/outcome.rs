//! What a contribution or callback task reports back: typed outcomes, and
//! how chain refusals are classified.

use std::fmt;

use anchor_lang::error::ErrorCode;
use medshare::error::MedshareError;
use medshare_sdk::chain::ChainError;
use solana_sdk::pubkey::Pubkey;

/// What became of this node's contribution to a computation.
#[derive(Debug)]
pub enum ContributionOutcome {
    /// Chain state does not authorize the request: nothing was sent.
    Unauthorized,
    /// The program accepted it: the computation now has `count`
    /// contributions (`0`: the computation was finalized and closed before
    /// its count could be read, so there is no callback to post).
    Accepted {
        /// Contributions the computation has with this one.
        count: u8,
    },
    /// The program found its proof faulty (the transaction lands, naming
    /// this node).
    RejectedAsFaulty,
    /// Refused as a duplicate: an earlier attempt landed although its sender
    /// did not learn it (a lost confirmation), so it is on-chain.
    AlreadyOnChain,
    /// Refused because someone else got there first (see `benign`).
    NotNeeded(ChainError),
    /// Refused because access ended between this node's check and the
    /// landing (see `access_ended`): the computation is left to expire.
    AccessEnded(ChainError),
    /// Failed otherwise: retried after a back-off.
    Failed(ChainError),
}

impl ContributionOutcome {
    /// Classifies a refusal or failure: someone else got there first, then
    /// access ended, else a failure to retry.
    pub(super) fn from_error(e: ChainError) -> Self {
        if benign(&e) {
            if matches!(e.medshare(), Some(MedshareError::DuplicateContribution)) {
                ContributionOutcome::AlreadyOnChain
            } else {
                ContributionOutcome::NotNeeded(e)
            }
        } else if access_ended(&e) {
            ContributionOutcome::AccessEnded(e)
        } else {
            ContributionOutcome::Failed(e)
        }
    }
}

/// Why this node posts a computation's callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackRole {
    /// Its contribution was the `t`-th: it posts the callback straight away.
    Finisher,
    /// Its callback fallback delay ran out with the computation still open.
    Fallback,
}

impl CallbackRole {
    /// The role as logs name it.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackRole::Finisher => "finisher",
            CallbackRole::Fallback => "fallback",
        }
    }
}

impl fmt::Display for CallbackRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A callback this node posted, and why it posted it.
#[derive(Debug)]
pub(super) struct CallbackOutcome {
    /// Why this node posted it.
    pub(super) role: CallbackRole,
    /// How the posting went.
    pub(super) result: Result<(), ChainError>,
}

/// What a task reports back.
#[derive(Debug)]
pub(super) struct Outcome {
    /// The computation.
    pub(super) addr: Pubkey,
    /// The contribution, if the task was to contribute.
    pub(super) contributed: Option<ContributionOutcome>,
    /// The callback, if the task posted one.
    pub(super) finished: Option<CallbackOutcome>,
}

/// Refusals that mean the request is no longer authorized (the program's
/// access decision at contribution time): the computation is left to expire.
pub(super) fn access_ended(e: &ChainError) -> bool {
    matches!(
        e.medshare(),
        Some(
            MedshareError::RecordClosed
                | MedshareError::RecordChanged
                | MedshareError::ConsentMissing
                | MedshareError::ConsentRevoked
                | MedshareError::ConsentExpired
                | MedshareError::ConsentScope
                | MedshareError::ProviderNotVerified
                | MedshareError::ProviderRevoked
                | MedshareError::ProviderExpired
                | MedshareError::ProviderRoleNotAllowed
                | MedshareError::IssuerRevoked
        )
    )
}

/// Refusals that only mean someone else got there first.
pub(super) fn benign(e: &ChainError) -> bool {
    matches!(
        e.medshare(),
        Some(
            MedshareError::ContributionsComplete
                | MedshareError::DuplicateContribution
                | MedshareError::ComputationNotPending
                | MedshareError::ComputationExpired
        )
    ) || (matches!(e.anchor(), Some(ErrorCode::AccountNotInitialized))
        // The computation was closed meanwhile (not this node's own service
        // record missing, which Anchor names).
        && matches!(e, ChainError::Program { logs, .. }
            if !logs.iter().any(|line| line.contains("account: node_record"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(e: MedshareError) -> ChainError {
        ChainError::Program {
            code: anchor_lang::error::ERROR_CODE_OFFSET + e as u32,
            logs: vec![],
        }
    }

    #[test]
    fn refusals_are_classified_benign_first_then_access_ended() {
        use ContributionOutcome as O;
        let class = |e| ContributionOutcome::from_error(e);
        assert!(matches!(
            class(refused(MedshareError::DuplicateContribution)),
            O::AlreadyOnChain
        ));
        for e in [
            MedshareError::ContributionsComplete,
            MedshareError::ComputationNotPending,
            MedshareError::ComputationExpired,
        ] {
            assert!(matches!(class(refused(e)), O::NotNeeded(_)), "{e:?}");
        }
        let not_initialized = u32::from(ErrorCode::AccountNotInitialized);
        let closed = ChainError::Program {
            code: not_initialized,
            logs: vec![],
        };
        assert!(matches!(class(closed), O::NotNeeded(_)));
        let no_record = ChainError::Program {
            code: not_initialized,
            logs: vec!["AnchorError caused by account: node_record.".into()],
        };
        assert!(matches!(class(no_record), O::Failed(_)));
        for e in [
            MedshareError::ConsentRevoked,
            MedshareError::RecordChanged,
            MedshareError::IssuerRevoked,
        ] {
            assert!(matches!(class(refused(e)), O::AccessEnded(_)), "{e:?}");
        }
        let down = ChainError::Endpoint("connection refused".into());
        assert!(matches!(class(down), O::Failed(_)));
    }

    #[test]
    fn callback_roles_keep_their_log_names() {
        assert_eq!(CallbackRole::Finisher.as_str(), "finisher");
        assert_eq!(CallbackRole::Fallback.to_string(), "fallback");
    }
}
