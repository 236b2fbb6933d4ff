//! Chain access for nodes and clients: one small trait, two backends.
//!
//! - [`embedded::Embedded`]: the MedShare program compiled natively inside an
//!   in-process bank (`solana-program-test`). Slots and unix time advance in
//!   the background like a real cluster's, and every transaction is kept in
//!   an in-memory ledger so audits work as they do over RPC.
//! - [`rpc::Rpc`]: any JSON-RPC endpoint (`devnet`, `localnet`, a URL), with
//!   Solana CLI conventions.
//!
//! Everything a node or client does goes through [`Chain`], so the same code
//! runs the demo, the tests and devnet.

pub mod embedded;
pub mod rpc;

use std::sync::Arc;

use anchor_lang::AccountDeserialize;
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
}

impl ChainError {
    /// The MedShare error, when the program refused.
    pub fn medshare(&self) -> Option<medshare::error::MedshareError> {
        match self {
            ChainError::Program { code, .. } => medshare_error(*code),
            _ => None,
        }
    }
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
pub async fn fetch<T: AccountDeserialize>(
    chain: &dyn Chain,
    address: &Pubkey,
) -> Result<Option<T>, ChainError> {
    let acc = chain.accounts(std::slice::from_ref(address)).await?;
    match acc.into_iter().next().flatten() {
        None => Ok(None),
        Some(a) if a.owner != medshare::ID => Ok(None),
        Some(a) => T::try_deserialize(&mut a.data.as_slice())
            .map(Some)
            .map_err(|_| ChainError::Account(*address)),
    }
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

/// Builds an instruction of the MedShare program.
pub fn instruction(
    accounts: impl anchor_lang::ToAccountMetas,
    data: impl anchor_lang::InstructionData,
) -> Instruction {
    Instruction {
        program_id: medshare::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// `write_record_group` for one sealed field group of `record` (signed by
/// `owner`, and by `author` when a provider writes it).
pub fn write_record_group_ix(
    owner: Pubkey,
    author: Option<Pubkey>,
    record: Pubkey,
    sealed: encrypted_ixs::record::SealedGroup,
) -> Instruction {
    let binding = sealed.binding.to_bytes();
    instruction(
        medshare::accounts::WriteRecordGroup {
            owner,
            author,
            record,
            system_program: anchor_lang::system_program::ID,
        },
        medshare::instruction::WriteRecordGroup {
            args: medshare::instructions::WriteGroupArgs {
                group: sealed.group,
                cluster_capsule: sealed.cluster_capsule.into(),
                binding,
                owner_capsule: sealed.owner_capsule.into(),
                nonce: sealed.nonce,
                ciphertext: sealed.ciphertext,
            },
        },
    )
}

/// The accounts a share request names besides requester, record and cluster.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShareAccounts {
    /// The recipient wallet's identity, when the share names a wallet.
    pub recipient_identity: Option<Pubkey>,
    /// The recipient's provider entry and its issuer, when the record's policy asks for them.
    pub registry: Option<(Pubkey, Pubkey)>,
}

/// `share_patient_data` queuing computation `id` of `cluster`; returns the
/// instruction, the computation and the share-result addresses.
pub fn share_patient_data_ix(
    requester: Pubkey,
    record: Pubkey,
    cluster: Pubkey,
    id: u64,
    args: medshare::instructions::ShareArgs,
    extra: ShareAccounts,
) -> (Instruction, Pubkey, Pubkey) {
    let computation = medshare::pda::computation(&cluster, id);
    let share_result = medshare::pda::share_result(&computation);
    let ix = instruction(
        medshare::accounts::SharePatientData {
            requester,
            record,
            cluster,
            computation,
            share_result,
            recipient_identity: extra.recipient_identity,
            provider: extra.registry.map(|x| x.0),
            issuer: extra.registry.map(|x| x.1),
            system_program: anchor_lang::system_program::ID,
        },
        medshare::instruction::SharePatientData { args },
    );
    (ix, computation, share_result)
}

/// A compute-budget instruction raising the limit to what MedShare's heaviest
/// instructions need on SBF.
pub fn compute_budget(units: u32) -> Instruction {
    solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(units)
}
