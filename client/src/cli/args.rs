//! The `medshare` command line's arguments (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use medshare::state::Role;
use solana_sdk::pubkey::Pubkey;

/// `medshare`: private medical records on Solana.
#[derive(Parser, Debug, Clone)]
#[command(name = "medshare", version, about)]
pub struct Cli {
    /// RPC URL or moniker (devnet, localnet, a URL); default: the Solana CLI config, else devnet.
    #[arg(long, short = 'u', env = "MEDSHARE_URL", global = true)]
    pub url: Option<String>,
    /// Wallet keypair; default: the Solana CLI config's keypair_path.
    #[arg(long, short = 'k', env = "MEDSHARE_KEYPAIR", global = true)]
    pub keypair: Option<PathBuf>,
    /// Sealed encryption-key file; default: ~/.config/medshare/keys/<wallet>.json.
    #[arg(long, env = "MEDSHARE_KEY_FILE", global = true)]
    pub key_file: Option<PathBuf>,
    /// File holding the key passphrase (or set MEDSHARE_PASSPHRASE).
    #[arg(long, env = "MEDSHARE_PASSPHRASE_FILE", global = true)]
    pub passphrase_file: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
    /// Blob store for attachments and large groups: a directory, file:///dir
    /// or s3://bucket[/prefix] (S3 settings from AWS_* variables); default
    /// ~/.config/medshare/blobs.
    #[arg(long, env = "MEDSHARE_STORE", global = true)]
    pub store: Option<String>,
    /// An S3 setting for the blob store, key=value (repeatable; e.g.
    /// aws_endpoint=http://127.0.0.1:9000); overrides the AWS_* variable of
    /// the same name.
    #[arg(long = "store-option", global = true)]
    pub store_options: Vec<String>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Roles for `register`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    /// A patient.
    Patient,
    /// A doctor.
    Doctor,
    /// A hospital.
    Hospital,
    /// An insurer.
    Insurer,
    /// A researcher.
    Researcher,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Patient => Role::Patient,
            RoleArg::Doctor => Role::Doctor,
            RoleArg::Hospital => Role::Hospital,
            RoleArg::Insurer => Role::Insurer,
            RoleArg::Researcher => Role::Researcher,
        }
    }
}

/// Audit output formats.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// A table.
    Table,
    /// JSON.
    Json,
    /// CSV.
    Csv,
}

/// Commands.
#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Creates your X25519 encryption key, sealed with your passphrase.
    Keygen,
    /// Publishes your encryption key and role on-chain.
    Register {
        /// Your role.
        #[arg(long, value_enum, default_value = "patient")]
        role: RoleArg,
    },
    /// Stores (or updates) a record, encrypted per field group.
    Store(Box<StoreArgs>),
    /// Decrypts one of your records.
    Show {
        /// Record address, or your record id.
        record: String,
        /// Files to write.
        #[command(flatten)]
        out: OutArgs,
    },
    /// Shares field groups of your record with a recipient.
    Share {
        /// Record address, or your record id.
        record: String,
        /// Groups: identity, vitals, diagnoses, medications, notes, labs, care, documents (comma-separated; at most 5 per share), or all (the record's groups, if at most 5).
        #[arg(long)]
        groups: String,
        /// Recipient: a wallet with a registered key, or a 64-hex-digit X25519 key.
        #[arg(long)]
        to: String,
        /// Return at once instead of waiting for the cluster.
        #[arg(long)]
        no_wait: bool,
        /// Seconds to wait for the cluster.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// Shares addressed to you.
    Inbox {
        /// Cluster to look in.
        #[arg(long)]
        cluster: Pubkey,
    },
    /// Decrypts shares addressed to you (several shares of one record
    /// version merge: one share carries at most 5 groups).
    Decrypt {
        /// Share result addresses (from `inbox`).
        #[arg(required = true, num_args = 1..)]
        shares: Vec<Pubkey>,
        /// Files to write.
        #[command(flatten)]
        out: OutArgs,
    },
    /// Erases a record: deletes its off-chain blobs (attachments and large
    /// groups) from the store, then closes the record.
    Erase {
        /// Record address, or your record id.
        record: String,
    },
    /// Closes a completed share result (as its requester or recipient); the
    /// rent goes back to the requester, and the share can no longer be fetched.
    CloseShare {
        /// Share result address.
        share: Pubkey,
    },
    /// Closes one of your records (rent back): pending shares of it get no
    /// further node contribution; what the ledger already holds stays.
    CloseRecord {
        /// Record address, or your record id.
        record: String,
    },
    /// Cancels an expired share request (rent back).
    Cancel {
        /// Computation address.
        computation: Pubkey,
    },
    /// Every event touching a record: who asked for what and when.
    Audit {
        /// Record address, or your record id.
        record: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Consent: let a grantee request shares of your record while you are offline.
    #[command(subcommand)]
    Consent(ConsentCommand),
    /// Requests (pulls) a share of someone's record under your consent.
    Request {
        /// The record's address.
        record: Pubkey,
        /// Groups to request (within your consent).
        #[arg(long)]
        groups: String,
        /// Return at once instead of waiting for the cluster.
        #[arg(long)]
        no_wait: bool,
        /// Seconds to wait for the cluster.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// The provider registry: issuers and verified providers.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Requires (or stops requiring) verified providers for shares and consents of a record.
    Policy {
        /// Record address, or your record id.
        record: String,
        /// Roles allowed, e.g. doctor,hospital; or none.
        #[arg(long)]
        require: String,
    },
    /// Research: let studies use encrypted values of your record.
    #[command(subcommand)]
    Research(ResearchCommand),
    /// Encrypted cohort statistics: open a study, add consenting records,
    /// close it, read the released statistics.
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Creates a wallet keypair file at --keypair (Solana CLI format); refuses to overwrite.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Funds your wallet from the endpoint's faucet (localnet; devnet's is rate-limited).
    Airdrop {
        /// Amount in SOL.
        #[arg(default_value_t = 2.0)]
        sol: f64,
    },
    /// A local network in this terminal: solana-test-validator with the
    /// program deployed, a cluster of `mpc-node run` processes and its DKG.
    /// Ctrl-C stops everything.
    Localnet {
        /// Threshold.
        #[arg(long, default_value_t = 3)]
        threshold: u8,
        /// Number of nodes.
        #[arg(long, default_value_t = 5)]
        nodes: u8,
        /// Directory for the ledger, keys and logs; default ~/.config/medshare/localnet.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Replace the ledger and the cluster instead of reusing them.
        #[arg(long)]
        reset: bool,
        /// The validator's RPC port (websockets on the next one).
        #[arg(long, default_value_t = 8899)]
        rpc_port: u16,
        /// The program ELF; default target/deploy/medshare.so.
        #[arg(long)]
        program: Option<PathBuf>,
        /// The nodes' chain poll interval in milliseconds.
        #[arg(long, default_value_t = 400)]
        poll_ms: u64,
    },
    /// The whole system on an embedded chain: cluster, DKG, store, share, decrypt, audit.
    Demo {
        /// Threshold.
        #[arg(long, default_value_t = 3)]
        threshold: u8,
        /// Cluster size.
        #[arg(long, default_value_t = 5)]
        nodes: u8,
    },
}

/// `medshare research ...`
#[derive(Subcommand, Debug, Clone)]
pub enum ResearchCommand {
    /// Consents to studies with a purpose using some values of your record,
    /// and posts those values encrypted under the cluster key with their
    /// range proofs.
    Consent {
        /// Record address, or your record id.
        record: String,
        /// The purpose a study must state, byte for byte (at most 64 bytes).
        #[arg(long)]
        purpose: String,
        /// FIELD=VALUE or FIELD, repeatable: age, weight, height,
        /// loinc:<code>, condition:<code>, medication:<code> (e.g. age=47).
        /// A FIELD alone is read from the record's FHIR resources.
        #[arg(long = "value", required = true)]
        values: Vec<String>,
        /// How long the consent lasts, in days from now (chain time).
        #[arg(long, default_value_t = 365.0)]
        days: f64,
        /// Only this researcher's studies may use the record (default: any
        /// researcher's study that states the purpose).
        #[arg(long)]
        researcher: Option<Pubkey>,
        /// Privacy budget: only studies with differential privacy, their ε
        /// adding up to at most this (default 3.0).
        #[arg(long, conflicts_with = "exact")]
        epsilon_budget: Option<f64>,
        /// Also admit studies that release exact figures, without noise.
        /// Exact sums can be differenced: a researcher who runs two exact
        /// studies, one with your record and one without, learns your value.
        #[arg(long)]
        exact: bool,
    },
    /// Revokes your record's research consent and leaves every open study.
    Revoke {
        /// Record address, or your record id.
        record: String,
    },
    /// Closes your record's research consent and the values no study
    /// membership still counts (rent back to you); revokes it if active.
    Close {
        /// Record address, or your record id.
        record: String,
    },
}

/// `medshare stats ...`
#[derive(Subcommand, Debug, Clone)]
pub enum StatsCommand {
    /// Opens a study of one field.
    Open {
        /// Cluster.
        #[arg(long)]
        cluster: Pubkey,
        /// Field: age, weight, height, loinc:<code>, condition:<code>, medication:<code>.
        #[arg(long)]
        field: String,
        /// Purpose; records join only if their consent states the same.
        #[arg(long)]
        purpose: String,
        /// Smallest cohort that may be released (at least 10).
        #[arg(long, default_value_t = 10)]
        min_cohort: u32,
        /// Days records may join.
        #[arg(long, default_value_t = 30.0)]
        days: f64,
        /// Differential privacy: the release's ε (0.001 to 100). Without it,
        /// exact figures are released.
        #[arg(long)]
        epsilon: Option<f64>,
    },
    /// Adds every consenting record not yet in the study.
    Collect {
        /// Study address.
        study: Pubkey,
    },
    /// (Researcher) closes a released study's accounts: the nodes'
    /// partial decryptions, the memberships, then the study (rent and the
    /// unused deposit back to you).
    Tidy {
        /// Study address.
        study: Pubkey,
    },
    /// Takes a record out of an open study (the researcher decides who is
    /// in it): its value leaves the sums.
    Remove {
        /// Study address.
        study: Pubkey,
        /// Record address.
        record: Pubkey,
    },
    /// Adds the last consenting records and closes the study; the nodes
    /// then decrypt its sums.
    Close {
        /// Study address.
        study: Pubkey,
    },
    /// A study: its cohort and, once released, its statistics.
    Show {
        /// Study address.
        study: Pubkey,
    },
}

/// `medshare wallet ...`
#[derive(Subcommand, Debug, Clone)]
pub enum WalletCommand {
    /// Creates a new wallet keypair file.
    New,
}

/// `medshare consent ...`
#[derive(Subcommand, Debug, Clone)]
pub enum ConsentCommand {
    /// Grants a wallet consent to request some groups of your record.
    Grant {
        /// Record address, or your record id.
        record: String,
        /// The grantee's wallet.
        #[arg(long)]
        to: Pubkey,
        /// Groups the grantee may request.
        #[arg(long)]
        groups: String,
        /// Stated purpose (at most 64 bytes).
        #[arg(long, default_value = "")]
        purpose: String,
        /// How long the consent lasts, in hours from now (chain time).
        #[arg(long)]
        hours: f64,
    },
    /// Changes an active consent (groups, purpose, duration from now).
    Modify {
        /// Record address, or your record id.
        record: String,
        /// The grantee's wallet.
        #[arg(long)]
        to: Pubkey,
        /// Groups the grantee may request.
        #[arg(long)]
        groups: String,
        /// Stated purpose.
        #[arg(long, default_value = "")]
        purpose: String,
        /// New duration, in hours from now.
        #[arg(long)]
        hours: f64,
    },
    /// Revokes a consent (also after the record was closed).
    Revoke {
        /// Record address, or your record id.
        record: String,
        /// The grantee's wallet.
        #[arg(long)]
        to: Pubkey,
    },
    /// Closes a consent (revoking it if active) and returns its rent to you.
    Close {
        /// Record address, or your record id.
        record: String,
        /// The grantee's wallet.
        #[arg(long)]
        to: Pubkey,
    },
    /// Lists the consents granted on a record.
    List {
        /// Record address, or your record id.
        record: String,
    },
}

/// `medshare provider ...`
#[derive(Subcommand, Debug, Clone)]
pub enum ProviderCommand {
    /// (Cluster admin) appoints a credential issuer.
    AppointIssuer {
        /// Cluster.
        #[arg(long)]
        cluster: Pubkey,
        /// The issuer's wallet.
        issuer: Pubkey,
    },
    /// (Cluster admin) revokes a credential issuer.
    RevokeIssuer {
        /// Cluster.
        #[arg(long)]
        cluster: Pubkey,
        /// The issuer's wallet.
        issuer: Pubkey,
    },
    /// (Issuer) registers a verified provider.
    Register {
        /// Cluster.
        #[arg(long)]
        cluster: Pubkey,
        /// The provider's wallet.
        wallet: Pubkey,
        /// doctor, hospital, insurer or researcher.
        #[arg(long)]
        role: String,
        /// SHA-256 of the license document, 64 hex digits.
        #[arg(long)]
        license_hash: String,
        /// Days the registration is valid, from now.
        #[arg(long, default_value_t = 365)]
        valid_days: u32,
    },
    /// (Issuer) revokes a provider.
    Revoke {
        /// Cluster.
        #[arg(long)]
        cluster: Pubkey,
        /// The provider's wallet.
        wallet: Pubkey,
    },
    /// Shows a provider's registration.
    Show {
        /// Cluster.
        #[arg(long)]
        cluster: Pubkey,
        /// The provider's wallet.
        wallet: Pubkey,
    },
}

/// Where `show` and `decrypt` write files.
#[derive(Args, Debug, Clone, Default)]
pub struct OutArgs {
    /// Write the FHIR resources as a FHIR R4 Bundle to this file.
    #[arg(long)]
    pub fhir: Option<PathBuf>,
    /// Download, check and decrypt the attachments into this directory
    /// (existing files are not overwritten).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

/// What `store` writes: a JSON file's fields, overridden and extended by
/// the flags.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Cluster the record is sealed to.
    #[arg(long)]
    pub cluster: Pubkey,
    /// Your id for this record. Without it, a new record gets the lowest
    /// id you have no record at (printed). An id that has a record is
    /// refused unless --new-version.
    #[arg(long)]
    pub record_id: Option<u64>,
    /// Replace the contents of record --record-id with a new version: the
    /// groups given are written, the others removed; its attachments are
    /// kept unless dropped. Earlier shares of the record stop opening.
    #[arg(long, requires = "record_id")]
    pub new_version: bool,
    /// With --new-version: an attachment of the current version not to
    /// keep (repeatable).
    #[arg(
        long = "drop-attachment",
        value_name = "NAME",
        requires = "new_version"
    )]
    pub drop_attachments: Vec<String>,
    /// A JSON file with the fields (patient_id, age, gender, blood_type,
    /// weight_kg, height_cm, allergies, diagnoses, medications, notes).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Patient id.
    #[arg(long)]
    pub patient_id: Option<String>,
    /// Age.
    #[arg(long)]
    pub age: Option<u32>,
    /// Gender.
    #[arg(long)]
    pub gender: Option<String>,
    /// Blood type.
    #[arg(long)]
    pub blood_type: Option<String>,
    /// Weight (kg).
    #[arg(long)]
    pub weight_kg: Option<f64>,
    /// Height (cm).
    #[arg(long)]
    pub height_cm: Option<f64>,
    /// Allergy (repeatable).
    #[arg(long = "allergy")]
    pub allergies: Vec<String>,
    /// Diagnosis (repeatable).
    #[arg(long = "diagnosis")]
    pub diagnoses: Vec<String>,
    /// Medication (repeatable).
    #[arg(long = "medication")]
    pub medications: Vec<String>,
    /// Free-text notes.
    #[arg(long)]
    pub notes: Option<String>,
    /// A FHIR R4 Bundle (collection, document, transaction or searchset):
    /// its resources go to field groups by type; inline attachment data
    /// goes off-chain.
    #[arg(long)]
    pub fhir: Option<PathBuf>,
    /// A file to attach (repeatable): sealed off-chain, in `documents`.
    #[arg(long = "attach")]
    pub attach: Vec<PathBuf>,
}
