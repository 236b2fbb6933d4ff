//! Client errors: one line a person understands, and an exit code.

use medshare_sdk::chain::ChainError;

/// What went wrong, for a person.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A chain refusal or endpoint failure.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// `-u` that is neither an http(s) URL nor a Solana CLI moniker.
    #[error("{0} is not an RPC URL (http://… or https://…) nor a moniker (devnet, testnet, mainnet-beta, localnet)")]
    BadUrl(String),
    /// No such record.
    #[error("record {0} not found")]
    RecordNotFound(String),
    /// No such share result.
    #[error("share result {0} not found")]
    ShareNotFound(String),
    /// No such cluster.
    #[error("cluster {0} not found")]
    ClusterNotFound(String),
    /// The cluster has not finished its DKG.
    #[error("cluster {0} is not ready (its DKG has not finished)")]
    ClusterNotReady(String),
    /// The cluster did not finish in time.
    #[error(
        "timed out after {0} s waiting for the cluster (the share stays pending until it expires)"
    )]
    Timeout(u64),
    /// The computation expired or was cancelled before the cluster finished.
    #[error(
        "the share request expired before the cluster finished; cancel it to get the rent back"
    )]
    Expired,
    /// The key does not open this data.
    #[error(
        "cannot decrypt: this share is not addressed to your key, or the data was tampered with"
    )]
    WrongKey,
    /// The record changed since the share.
    #[error("the record was updated (now version {now}) after this share (version {shared}); ask for a new share")]
    RecordChanged {
        /// Version the share opens.
        shared: u32,
        /// Current version.
        now: u32,
    },
    /// The wallet does not own this record.
    #[error("record {0} belongs to another wallet; only its owner can do this")]
    NotOwner(String),
    /// A recipient with no registered identity.
    #[error("{0} has no registered encryption key (they must run `medshare register`)")]
    NoIdentity(String),
    /// The program refused a pull request and recorded the refusal.
    #[error("request refused and recorded on-chain: {0}")]
    Refused(String),
    /// A record named neither by address nor by id.
    #[error("'{0}' is neither a record address nor a record id")]
    BadRecordRef(String),
    /// A recipient named neither by wallet nor by X25519 key.
    #[error("'{0}' is neither a wallet address nor a 64-hex-digit X25519 key")]
    BadRecipient(String),
    /// 64 hex digits that are not an X25519 public key.
    #[error("{0} is not a valid X25519 public key")]
    BadRecipientKey(String),
    /// A field-group list that does not parse (the message names the group).
    #[error("{0}")]
    BadGroups(String),
    /// A record file that does not parse (the message names the file and field).
    #[error("{0}")]
    BadDataFile(String),
    /// A FHIR bundle that is refused (the message names the file, the
    /// resource and the path at fault).
    #[error("invalid FHIR bundle {0}")]
    BadFhir(String),
    /// `store` with no field at all.
    #[error("the record has no fields")]
    EmptyRecord,
    /// `store --record-id N` where record `N` exists, without `--new-version`:
    /// nothing is replaced by surprise.
    #[error("record {record_id} already exists (version {version}): add --new-version to replace its contents (its attachments are kept unless dropped with --drop-attachment), or leave out --record-id to store a new record")]
    RecordExists {
        /// The record id.
        record_id: u64,
        /// Its current version.
        version: u32,
    },
    /// `store --new-version` for a record id that has no record.
    #[error("record {0} does not exist: leave out --new-version to create it")]
    NoRecordToReplace(u64),
    /// `--drop-attachment` naming no attachment of the record.
    #[error("record {record_id} has no attachment {name:?} (it has: {available})")]
    NoSuchAttachment {
        /// The record id.
        record_id: u64,
        /// The name given.
        name: String,
        /// The record's attachments, comma-separated ("none" if none).
        available: String,
    },
    /// A record id already used for a record sealed to another cluster.
    #[error("record {record_id} is sealed to cluster {cluster}")]
    OtherCluster {
        /// The record id.
        record_id: u64,
        /// The cluster it is sealed to.
        cluster: String,
    },
    /// `show` on someone else's record.
    #[error(
        "record {record} belongs to {owner}; only its owner can read it directly (ask for a share)"
    )]
    NotReadable {
        /// The record.
        record: String,
        /// Its owner.
        owner: String,
    },
    /// Decrypted contents that are not the JSON the client wrote.
    #[error("{what} contents are not valid JSON: {detail}")]
    CorruptContents {
        /// `record` or `shared`.
        what: &'static str,
        /// The parser's message.
        detail: String,
    },
    /// `decrypt` before the cluster finished.
    #[error("share {0} is still pending (the cluster has not finished)")]
    SharePending(String),
    /// `cancel` after the share completed.
    #[error("share {0} already completed; there is nothing to cancel")]
    AlreadyCompleted(String),
    /// A share naming a group the record no longer has.
    #[error("record has no group {0} any more")]
    GroupGone(u8),
    /// The blob store could not be opened or answered with an error.
    #[error("blob store {0}")]
    Store(String),
    /// A blob the record commits to is not in its store.
    #[error("blob {blob} is missing from the store {store}")]
    BlobMissing {
        /// Its hash (first 12 hex digits).
        blob: String,
        /// The store.
        store: String,
    },
    /// A blob is not the one the record commits to (swapped, truncated,
    /// modified): nothing was decrypted or written.
    #[error("blob {blob} is not what the record commits to: {detail}; nothing was written")]
    BlobCorrupt {
        /// Its hash (first 12 hex digits).
        blob: String,
        /// What did not match.
        detail: String,
    },
    /// `decrypt` of shares of different records or versions.
    #[error("the shares are of different records or versions ({0}): decrypt them one by one")]
    SharesDiffer(String),
    /// A group body over the largest one read back into memory.
    #[error("field group '{group}' is {bytes} bytes; at most {limit} per group (attach large files with --attach)")]
    GroupTooLarge {
        /// The group's name.
        group: &'static str,
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: u64,
    },
    /// More groups than one share carries.
    #[error("one share carries at most 5 field groups (asked for {0}): share the rest in a second share")]
    TooManyGroups(String),
    /// An `airdrop` amount out of range.
    #[error("airdrop amount must be more than 0 and at most 1000 SOL (got {0})")]
    BadAmount(f64),
    /// A consent length that is not a positive number of hours.
    #[error("--hours must be a positive number")]
    BadHours(f64),
    /// A license hash that is not 32 bytes of hex.
    #[error("--license-hash must be 64 hex digits (SHA-256)")]
    BadLicenseHash,
    /// An unknown provider role (the message lists the known ones).
    #[error("{0}")]
    BadRole(String),
    /// `provider show` for a wallet with no entry.
    #[error("{wallet} is not a registered provider of cluster {cluster}")]
    NotProvider {
        /// The wallet.
        wallet: String,
        /// The cluster.
        cluster: String,
    },
    /// A local cluster of node tasks (demo) could not start.
    #[error(transparent)]
    Cluster(#[from] mpc_node::cluster::ClusterError),
    /// Other bad input (local network set-up, sealing).
    #[error("{0}")]
    Invalid(String),
    /// Key files.
    #[error(transparent)]
    KeyStore(#[from] medshare_sdk::keystore::KeyStoreError),
    /// Files.
    #[error("{0}")]
    Io(String),
}

/// Exit codes of the `medshare` binary.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// Any other error.
    pub const ERROR: i32 = 1;
    /// Bad usage (clap's code).
    pub const USAGE: i32 = 2;
    /// The program refused: not the owner, not authorized, no consent.
    pub const NOT_AUTHORIZED: i32 = 3;
    /// Record, share or cluster not found.
    pub const NOT_FOUND: i32 = 4;
    /// Cluster not ready.
    pub const CLUSTER_NOT_READY: i32 = 5;
    /// Timed out or expired waiting for the cluster.
    pub const TIMEOUT: i32 = 6;
    /// Wrong key or tampered data.
    pub const DECRYPTION: i32 = 7;
}

impl ClientError {
    /// The exit code for this error.
    pub fn exit_code(&self) -> i32 {
        use medshare::error::MedshareError as M;
        match self {
            ClientError::Chain(ChainError::WrongKind { .. }) => exit::NOT_FOUND,
            ClientError::BadUrl(_) => exit::USAGE,
            ClientError::Chain(c) => match c.medshare() {
                Some(
                    M::NotOwner
                    | M::NotRequester
                    | M::NotRequesterOrRecipient
                    | M::NotAdmin
                    | M::NotClusterNode
                    | M::NotIssuer
                    | M::ProviderNotVerified
                    | M::ProviderRevoked
                    | M::ProviderExpired
                    | M::ProviderRoleNotAllowed
                    | M::IssuerRevoked
                    | M::ConsentMissing
                    | M::ConsentRevoked
                    | M::ConsentExpired
                    | M::ConsentScope
                    | M::ConsentStale,
                ) => exit::NOT_AUTHORIZED,
                Some(M::ClusterNotReady) => exit::CLUSTER_NOT_READY,
                Some(M::ComputationExpired) => exit::TIMEOUT,
                _ => exit::ERROR,
            },
            ClientError::RecordNotFound(_)
            | ClientError::ShareNotFound(_)
            | ClientError::ClusterNotFound(_)
            | ClientError::NoIdentity(_)
            | ClientError::NoRecordToReplace(_)
            | ClientError::NoSuchAttachment { .. } => exit::NOT_FOUND,
            ClientError::ClusterNotReady(_)
            | ClientError::Cluster(mpc_node::cluster::ClusterError::DkgFailed(_)) => {
                exit::CLUSTER_NOT_READY
            }
            ClientError::Cluster(mpc_node::cluster::ClusterError::NotReady { .. }) => exit::TIMEOUT,
            ClientError::Timeout(_) | ClientError::Expired => exit::TIMEOUT,
            ClientError::WrongKey
            | ClientError::RecordChanged { .. }
            | ClientError::BlobCorrupt { .. } => exit::DECRYPTION,
            ClientError::BlobMissing { .. } => exit::NOT_FOUND,
            ClientError::Refused(_)
            | ClientError::NotOwner(_)
            | ClientError::NotReadable { .. } => exit::NOT_AUTHORIZED,
            _ => exit::ERROR,
        }
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, ClientError>;
