//! Chain access for nodes and clients: one small trait, two backends.
//!
//! - `embedded::Embedded` (feature `embedded`): the MedShare program compiled natively inside an
//!   in-process bank (`solana-program-test`). Slots and unix time advance in
//!   the background like a real cluster's, and every transaction is kept in
//!   an in-memory ledger so audits work as they do over RPC.
//! - [`rpc::Rpc`]: any JSON-RPC endpoint (`devnet`, `localnet`, a URL), with
//!   Solana CLI conventions.
//!
//! Everything a node or client does goes through [`Chain`], so the same code
//! runs the demo, the tests and devnet.

#[cfg(feature = "embedded")]
pub mod embedded;
pub mod rpc;

use std::sync::Arc;

use anchor_lang::{AccountDeserialize, Discriminator};
use async_trait::async_trait;
use solana_sdk::{
    account::Account, instruction::Instruction, pubkey::Pubkey, signature::Keypair,
    signature::Signature,
};

/// A transaction the chain accepted.
#[derive(Clone, Debug)]
pub struct Landed {
    /// Its signature.
    pub signature: Signature,
    /// Its slot.
    pub slot: u64,
    /// Its log messages.
    pub logs: Vec<String>,
}

/// A transaction as the ledger keeps it (for audits).
#[derive(Clone, Debug)]
pub struct LedgerEntry {
    /// Signature.
    pub signature: Signature,
    /// Slot.
    pub slot: u64,
    /// Block time (unix seconds), when known.
    pub block_time: Option<i64>,
    /// Whether it succeeded.
    pub success: bool,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Log messages.
    pub logs: Vec<String>,
}

/// A landed transaction as a subscription delivers it (`logsSubscribe` over
/// RPC, the ledger's feed on the embedded chain).
#[derive(Clone, Debug)]
pub struct Notice {
    /// Its signature.
    pub signature: Signature,
    /// Its slot.
    pub slot: u64,
    /// Whether it succeeded.
    pub success: bool,
    /// Its log messages (events are read from these).
    pub logs: Vec<String>,
}

/// Notices of landed transactions that mention one address.
pub type Notices = tokio::sync::mpsc::Receiver<Notice>;

/// Notices a subscription queues for a subscriber that is not reading; past
/// that the newest are dropped, so a subscriber must still poll now and then.
pub const NOTICE_QUEUE: usize = 4_096;

/// Why a chain call failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The MedShare program refused the transaction.
    #[error("{}", program_error_message(*.code))]
    Program {
        /// Anchor error code.
        code: u32,
        /// Logs, when available.
        logs: Vec<String>,
    },
    /// The transaction failed for another reason.
    #[error("transaction failed: {0}")]
    Transaction(String),
    /// The endpoint could not be reached or answered an error.
    #[error("chain endpoint error: {0}")]
    Endpoint(String),
    /// An account was missing or could not be decoded.
    #[error("account {0} not found or not a MedShare account")]
    Account(Pubkey),
    /// A MedShare account of another type than the one asked for (a record
    /// address where a share result was expected, say).
    #[error("account {address} is a {found}, not a {expected}")]
    WrongKind {
        /// The account.
        address: Pubkey,
        /// What it is.
        found: &'static str,
        /// What was asked for.
        expected: &'static str,
    },
    /// An account of the expected type, written in an older layout of it
    /// (by an older MedShare program): this program refuses it as it loads.
    #[error("account {address} has layout version {found} of its type; this MedShare reads version {expected} (the chain holds state from an older program: on a localnet, start again with `medshare localnet --reset`)")]
    OutdatedLayout {
        /// The account.
        address: Pubkey,
        /// Its layout version (0: from before layouts were versioned).
        found: u8,
        /// The version this program reads.
        expected: u8,
    },
}

impl ChainError {
    /// The MedShare error, when the program refused with one of its own.
    pub fn medshare(&self) -> Option<medshare::error::MedshareError> {
        match self.program_error()? {
            ProgramError::Medshare(e) => Some(e),
            _ => None,
        }
    }

    /// Anchor's own error (an account constraint, a missing account), when
    /// the program refused with one.
    pub fn anchor(&self) -> Option<anchor_lang::error::ErrorCode> {
        match self.program_error()? {
            ProgramError::Anchor(e) => Some(e),
            _ => None,
        }
    }

    /// What the program refused with, typed; `None` when it did not refuse.
    pub fn program_error(&self) -> Option<ProgramError> {
        match self {
            ChainError::Program { code, .. } => Some(ProgramError::from_code(*code)),
            _ => None,
        }
    }
}

/// A program's refusal, by where its code comes from.
#[derive(Clone, Copy, Debug)]
pub enum ProgramError {
    /// One of MedShare's own errors (codes from 6000).
    Medshare(medshare::error::MedshareError),
    /// One of Anchor's framework errors (account constraints, deserialization).
    Anchor(anchor_lang::error::ErrorCode),
    /// A code neither knows.
    Other(u32),
}

impl PartialEq for ProgramError {
    fn eq(&self, other: &Self) -> bool {
        self.code() == other.code()
    }
}

impl Eq for ProgramError {}

impl ProgramError {
    /// The custom program error code.
    pub fn code(&self) -> u32 {
        match *self {
            ProgramError::Medshare(e) => u32::from(e),
            ProgramError::Anchor(e) => u32::from(e),
            ProgramError::Other(c) => c,
        }
    }

    /// Classifies a custom program error code.
    pub fn from_code(code: u32) -> ProgramError {
        if let Some(e) = medshare_error(code) {
            return ProgramError::Medshare(e);
        }
        match anchor_error(code) {
            Some(e) => ProgramError::Anchor(e),
            None => ProgramError::Other(code),
        }
    }
}

/// Anchor's framework error with this code, if it is one.
fn anchor_error(code: u32) -> Option<anchor_lang::error::ErrorCode> {
    use anchor_lang::error::ErrorCode as E;
    // The codes off-chain code acts on; the rest read as `Other`.
    [
        E::ConstraintSeeds,
        E::ConstraintHasOne,
        E::ConstraintMut,
        E::ConstraintSigner,
        E::ConstraintRaw,
        E::AccountNotInitialized,
        E::AccountOwnedByWrongProgram,
        E::AccountDiscriminatorMismatch,
        E::AccountDidNotDeserialize,
        E::AccountNotEnoughKeys,
        E::InstructionDidNotDeserialize,
    ]
    .into_iter()
    .find(|e| u32::from(*e) == code)
}

/// The [`medshare::error::MedshareError`] with this Anchor code.
pub fn medshare_error(code: u32) -> Option<medshare::error::MedshareError> {
    medshare::error::MedshareError::from_code(code)
}

fn program_error_message(code: u32) -> String {
    match medshare_error(code) {
        Some(e) => format!("refused by the MedShare program: {e}"),
        None => format!("refused by the program (error code {code})"),
    }
}

/// A failed transaction as a [`ChainError`]: a custom program error becomes
/// [`ChainError::Program`] with its code, anything else
/// [`ChainError::Transaction`].
pub(crate) fn tx_error(
    err: solana_sdk::transaction::TransactionError,
    logs: Vec<String>,
) -> ChainError {
    use solana_sdk::instruction::InstructionError;
    use solana_sdk::transaction::TransactionError;
    match err {
        TransactionError::InstructionError(_, InstructionError::Custom(code)) => {
            ChainError::Program { code, logs }
        }
        other => ChainError::Transaction(other.to_string()),
    }
}

/// What nodes and clients need from a chain.
#[async_trait]
pub trait Chain: Send + Sync {
    /// Signs with `signers` (the first pays the fee), sends, waits for confirmation.
    async fn send(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Landed, ChainError>;

    /// Accounts at these addresses (`None` where there is none).
    async fn accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ChainError>;

    /// The current slot.
    async fn slot(&self) -> Result<u64, ChainError>;

    /// Balance in lamports.
    async fn balance(&self, address: &Pubkey) -> Result<u64, ChainError>;

    /// Transactions that touched `address`, oldest first.
    async fn history(&self, address: &Pubkey) -> Result<Vec<LedgerEntry>, ChainError>;

    /// Funds `to` from a faucet, where the chain has one (embedded, localnet, devnet airdrop).
    async fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<(), ChainError>;

    /// Transactions that mention `address` (as an account key), failed ones
    /// included, as they land. Best effort, as websocket subscriptions are:
    /// notices can be late or lost (a dropped connection, a full queue), so
    /// a subscriber acts on them at once but keeps reading the chain now and
    /// then as the source of truth.
    async fn subscribe(&self, address: &Pubkey) -> Result<Notices, ChainError>;
}

/// Shared handle to a chain.
pub type SharedChain = Arc<dyn Chain>;

/// Reads and decodes one Anchor account. An account at the address that the
/// program does not own is absent (`None`): anyone can send lamports to any
/// PDA, and such a pre-funded or squatted address must read as it does to
/// the program, not block whoever looks it up.
pub async fn fetch<T: AccountDeserialize + Discriminator>(
    chain: &dyn Chain,
    address: &Pubkey,
) -> Result<Option<T>, ChainError> {
    let acc = chain.accounts(std::slice::from_ref(address)).await?;
    match acc.into_iter().next().flatten() {
        None => Ok(None),
        Some(a) if a.owner != medshare::ID => Ok(None),
        Some(a) => T::try_deserialize(&mut a.data.as_slice())
            .map(Some)
            .map_err(|_| decode_error::<T>(address, &a.data)),
    }
}

/// Why account data did not decode as a `T`: an older layout of `T`
/// ([`ChainError::OutdatedLayout`]), or not a `T` at all.
pub fn decode_error<T: Discriminator>(address: &Pubkey, data: &[u8]) -> ChainError {
    match medshare::state::layout::outdated_layout(data, T::DISCRIMINATOR, &legacy_header::<T>()) {
        Some(found) => ChainError::OutdatedLayout {
            address: *address,
            found,
            expected: T::DISCRIMINATOR.get(7).copied().unwrap_or_default(),
        },
        None => match (kind_of(data), kind_of(T::DISCRIMINATOR)) {
            (Some(found), Some(expected)) if found != expected => ChainError::WrongKind {
                address: *address,
                found,
                expected,
            },
            _ => ChainError::Account(*address),
        },
    }
}

/// What kind of MedShare account `data` is, by its header's type tag
/// (whatever its layout version), in the words the CLI uses.
pub fn kind_of(data: &[u8]) -> Option<&'static str> {
    use medshare::state::layout as l;
    const KINDS: [([u8; 8], &str); 15] = [
        (l::CLUSTER, "cluster"),
        (l::COMPUTATION, "computation"),
        (l::CONSENT, "consent"),
        (l::DKG_MAILBOX, "DKG mailbox"),
        (l::IDENTITY, "identity"),
        (l::NODE_RECORD, "node's service record"),
        (l::CREDENTIAL_ISSUER, "credential issuer entry"),
        (l::PROVIDER, "provider entry"),
        (l::PATIENT_RECORD, "record"),
        (l::RESEARCH_CONSENT, "research consent"),
        (l::RESEARCH_VALUE, "research value"),
        (l::STUDY, "study"),
        (l::STUDY_MEMBER, "study membership"),
        (l::STUDY_PARTIALS, "node's study partials"),
        (l::SHARE_RESULT, "share result"),
    ];
    let tag = data.get(..7)?;
    KINDS
        .iter()
        .find(|(header, _)| &header[..7] == tag)
        .map(|(_, name)| *name)
}

/// Anchor's default discriminator of `T` (`sha256("account:<Type>")[..8]`),
/// which accounts carried before layouts were versioned.
fn legacy_header<T>() -> [u8; 8] {
    let name = std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or_default();
    use sha2::Digest;
    let hash = sha2::Sha256::new()
        .chain_update(b"account:")
        .chain_update(name.as_bytes())
        .finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&hash[..8]);
    out
}

/// Reads and decodes many Anchor accounts of one type (`None` where absent or undecodable).
pub async fn fetch_many<T: AccountDeserialize>(
    chain: &dyn Chain,
    addresses: &[Pubkey],
) -> Result<Vec<Option<T>>, ChainError> {
    let mut out = Vec::with_capacity(addresses.len());
    for chunk in addresses.chunks(100) {
        for a in chain.accounts(chunk).await? {
            out.push(
                a.filter(|a| a.owner == medshare::ID)
                    .and_then(|a| T::try_deserialize(&mut a.data.as_slice()).ok()),
            );
        }
    }
    Ok(out)
}

/// The chain's unix time (its Clock sysvar), which is what the program
/// compares consent and provider expiries with.
pub async fn chain_time(chain: &dyn Chain) -> Result<i64, ChainError> {
    let acc = chain
        .accounts(&[solana_sdk::sysvar::clock::ID])
        .await?
        .into_iter()
        .next()
        .flatten()
        .ok_or_else(|| ChainError::Endpoint("clock sysvar unavailable".into()))?;
    let clock: solana_sdk::clock::Clock = solana_sdk::account::from_account(&acc)
        .ok_or_else(|| ChainError::Endpoint("clock sysvar undecodable".into()))?;
    Ok(clock.unix_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::error::ErrorCode;
    use medshare::error::MedshareError;

    fn refused(code: u32) -> ChainError {
        ChainError::Program { code, logs: vec![] }
    }

    /// An account written before layouts were versioned (Anchor's default
    /// discriminator), or in another layout version of its type, reads as
    /// one error that names both versions and the fix; another type's
    /// account is named for what it is.
    #[test]
    fn outdated_layouts_are_one_clear_error() {
        use medshare::state::Consent;
        let address = Pubkey::new_unique();
        let mut legacy = legacy_header::<Consent>().to_vec();
        legacy.extend([0u8; 64]);
        let e = decode_error::<Consent>(&address, &legacy);
        assert!(matches!(
            e,
            ChainError::OutdatedLayout {
                found: 0,
                expected: 1,
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            format!("account {address} has layout version 0 of its type; this MedShare reads version 1 (the chain holds state from an older program: on a localnet, start again with `medshare localnet --reset`)")
        );
        let mut newer = medshare::state::layout::CONSENT.to_vec();
        newer[7] = 2;
        let e = decode_error::<Consent>(&address, &newer);
        assert!(matches!(e, ChainError::OutdatedLayout { found: 2, .. }));
        let study = medshare::state::layout::STUDY.to_vec();
        let e = decode_error::<Consent>(&address, &study);
        assert!(matches!(
            e,
            ChainError::WrongKind {
                found: "study",
                expected: "consent",
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            format!("account {address} is a study, not a consent")
        );
        assert!(matches!(
            decode_error::<Consent>(&address, b"not medshare at all"),
            ChainError::Account(_)
        ));
    }

    #[test]
    fn refusals_are_typed_by_where_their_code_comes_from() {
        let own = refused(u32::from(MedshareError::NotOwner));
        assert!(matches!(own.medshare(), Some(MedshareError::NotOwner)));
        assert!(own.anchor().is_none());
        assert_eq!(
            own.to_string(),
            format!(
                "refused by the MedShare program: {}",
                MedshareError::NotOwner
            )
        );

        let seeds = refused(u32::from(ErrorCode::ConstraintSeeds));
        assert!(matches!(seeds.anchor(), Some(ErrorCode::ConstraintSeeds)));
        assert!(seeds.medshare().is_none());

        // The system program's "insufficient funds" is neither.
        let other = refused(1);
        assert_eq!(other.program_error(), Some(ProgramError::Other(1)));
        assert_eq!(other.to_string(), "refused by the program (error code 1)");

        assert_eq!(ChainError::Endpoint("down".into()).program_error(), None);
        assert_eq!(
            ProgramError::from_code(u32::from(ErrorCode::AccountNotInitialized)).code(),
            3012
        );
    }
}
