//! The `medshare` command line. [`execute`] runs one command and returns what
//! to print, so tests drive every command in-process.
//!
//! Exit codes: see [`crate::error::exit`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use medshare::state::Role;
use medshare_sdk::chain::{rpc, SharedChain};
use serde_json::json;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;

use crate::data::{group_names, parse_groups, PatientData};
use crate::error::{ClientError, Result};
use crate::ops::{Client, ShareTicket};
use crate::{audit, wallet};

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
    fn from(r: RoleArg) -> Role {
        match r {
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
    Store {
        /// Cluster the record is sealed to.
        #[arg(long)]
        cluster: Pubkey,
        /// Your id for this record.
        #[arg(long, default_value_t = 1)]
        record_id: u64,
        /// A JSON file with the fields (patient_id, age, gender, blood_type,
        /// weight_kg, height_cm, allergies, diagnoses, medications, notes).
        #[arg(long)]
        file: Option<PathBuf>,
        /// Patient id.
        #[arg(long)]
        patient_id: Option<String>,
        /// Age.
        #[arg(long)]
        age: Option<u32>,
        /// Gender.
        #[arg(long)]
        gender: Option<String>,
        /// Blood type.
        #[arg(long)]
        blood_type: Option<String>,
        /// Weight (kg).
        #[arg(long)]
        weight_kg: Option<f64>,
        /// Height (cm).
        #[arg(long)]
        height_cm: Option<f64>,
        /// Allergy (repeatable).
        #[arg(long = "allergy")]
        allergies: Vec<String>,
        /// Diagnosis (repeatable).
        #[arg(long = "diagnosis")]
        diagnoses: Vec<String>,
        /// Medication (repeatable).
        #[arg(long = "medication")]
        medications: Vec<String>,
        /// Free-text notes.
        #[arg(long)]
        notes: Option<String>,
    },
    /// Decrypts one of your records.
    Show {
        /// Record address, or your record id.
        record: String,
    },
    /// Shares field groups of your record with a recipient.
    Share {
        /// Record address, or your record id.
        record: String,
        /// Groups: identity, vitals, diagnoses, medications, notes (comma-separated) or all.
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
    /// Decrypts a share addressed to you.
    Decrypt {
        /// Share result address (from `inbox`).
        share: Pubkey,
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

struct Ctx {
    chain: SharedChain,
    wallet_path: PathBuf,
    cli: Cli,
}

impl Ctx {
    fn new(cli: &Cli, chain: Option<SharedChain>) -> Result<Self> {
        let (cfg_url, cfg_keypair) = rpc::solana_cli_config();
        let chain = match chain {
            Some(c) => c,
            None => {
                let url = cli
                    .url
                    .clone()
                    .or(cfg_url)
                    .unwrap_or_else(|| "devnet".into());
                if url == "embedded" {
                    return Err(ClientError::Invalid(
                        "the embedded chain lives inside one process: use `medshare demo`, or -u localnet/devnet".into(),
                    ));
                }
                Arc::new(rpc::Rpc::new(&url))
            }
        };
        let wallet_path = cli.keypair.clone().or(cfg_keypair).unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(".config/solana/id.json")
        });
        Ok(Ctx {
            chain,
            wallet_path,
            cli: cli.clone(),
        })
    }

    fn key_file(&self, wallet: &Pubkey) -> PathBuf {
        self.cli
            .key_file
            .clone()
            .unwrap_or_else(|| wallet::default_key_file(wallet))
    }

    fn client(&self) -> Result<Client> {
        let w = wallet::load_wallet(&self.wallet_path)?;
        let pass = wallet::passphrase(self.cli.passphrase_file.as_deref())?;
        let key = wallet::open_key(&self.key_file(&w.pubkey()), &w.pubkey(), &pass)?;
        Ok(Client::new(self.chain.clone(), w, key))
    }

    fn record(&self, c: &Client, r: &str) -> Result<Pubkey> {
        match r.parse::<u64>() {
            Ok(id) => Ok(medshare::pda::record(&c.wallet.pubkey(), id)),
            Err(_) => r.parse::<Pubkey>().map_err(|_| {
                ClientError::Invalid(format!("'{r}' is neither a record address nor a record id"))
            }),
        }
    }
}

fn data_json(d: &PatientData) -> String {
    serde_json::to_string_pretty(d).expect("JSON")
}

/// Runs one command. `chain` overrides `--url` (tests pass the embedded chain).
/// `progress` receives status lines while waiting.
pub async fn execute(
    cli: &Cli,
    chain: Option<SharedChain>,
    mut progress: impl FnMut(&str),
) -> Result<String> {
    if let Command::Demo { threshold, nodes } = &cli.command {
        let mut out = String::new();
        crate::demo::run(
            crate::demo::DemoOptions {
                t: *threshold,
                n: *nodes,
            },
            |l| {
                progress(l);
                out.push_str(l);
                out.push('\n');
            },
        )
        .await?;
        return Ok(String::new());
    }
    if let Command::Localnet {
        threshold,
        nodes,
        dir,
        reset,
        rpc_port,
        program,
        poll_ms,
    } = &cli.command
    {
        let opts = crate::localnet::LocalnetOptions {
            t: *threshold,
            n: *nodes,
            dir: dir.clone().unwrap_or_else(crate::localnet::default_dir),
            reset: *reset,
            rpc_port: *rpc_port,
            program: program.clone(),
            poll_ms: *poll_ms,
        };
        crate::localnet::run(&opts, progress, mpc_node::cli::shutdown_signal()).await?;
        return Ok(String::new());
    }
    let ctx = Ctx::new(cli, chain)?;
    let json = cli.json;
    match &cli.command {
        Command::Keygen => {
            let w = wallet::load_wallet(&ctx.wallet_path)?;
            let pass = wallet::passphrase(cli.passphrase_file.as_deref())?;
            let path = ctx.key_file(&w.pubkey());
            let key = wallet::create_key(&path, &w.pubkey(), &pass)?;
            let public = hex::encode(key.public_key().0);
            Ok(if json {
                json!({"wallet": w.pubkey().to_string(), "x25519": public, "key_file": path})
                    .to_string()
            } else {
                format!(
                    "encryption key (X25519): {public}\nsealed in {}\nnext: medshare register",
                    path.display()
                )
            })
        }
        Command::Register { role } => {
            let c = ctx.client()?;
            c.register((*role).into()).await?;
            Ok(if json {
                json!({"wallet": c.wallet.pubkey().to_string(), "x25519": hex::encode(c.key.public_key().0)}).to_string()
            } else {
                format!(
                    "registered {} as {:?} with key {}",
                    c.wallet.pubkey(),
                    role,
                    hex::encode(c.key.public_key().0)
                )
            })
        }
        Command::Store {
            cluster,
            record_id,
            file,
            patient_id,
            age,
            gender,
            blood_type,
            weight_kg,
            height_cm,
            allergies,
            diagnoses,
            medications,
            notes,
        } => {
            let mut data = match file {
                Some(f) => {
                    let text = std::fs::read_to_string(f)
                        .map_err(|e| ClientError::Io(format!("{}: {e}", f.display())))?;
                    serde_json::from_str::<PatientData>(&text)
                        .map_err(|e| ClientError::Invalid(format!("{}: {e}", f.display())))?
                }
                None => PatientData::default(),
            };
            data.patient_id = patient_id.clone().or(data.patient_id);
            data.age = age.or(data.age);
            data.gender = gender.clone().or(data.gender);
            data.blood_type = blood_type.clone().or(data.blood_type);
            data.weight_kg = weight_kg.or(data.weight_kg);
            data.height_cm = height_cm.or(data.height_cm);
            data.allergies.extend(allergies.iter().cloned());
            data.diagnoses.extend(diagnoses.iter().cloned());
            data.medications.extend(medications.iter().cloned());
            data.notes = notes.clone().or(data.notes);
            let c = ctx.client()?;
            let (record, version) = c.store(cluster, *record_id, &data).await?;
            let groups: u8 = data.groups().iter().fold(0, |m, (g, _)| m | (1 << g));
            Ok(if json {
                json!({"record": record.to_string(), "version": version, "groups": group_names(groups)}).to_string()
            } else {
                format!(
                    "stored record {record} version {version}: [{}]",
                    group_names(groups).join(", ")
                )
            })
        }
        Command::Show { record } => {
            let c = ctx.client()?;
            let r = ctx.record(&c, record)?;
            let (data, version) = c.show(&r).await?;
            Ok(if json {
                json!({"record": r.to_string(), "version": version, "data": data}).to_string()
            } else {
                format!("record {r} version {version}\n{}", data_json(&data))
            })
        }
        Command::Share {
            record,
            groups,
            to,
            no_wait,
            timeout,
        } => {
            let c = ctx.client()?;
            let r = ctx.record(&c, record)?;
            let mask = parse_groups(groups).map_err(ClientError::Invalid)?;
            let recipient = c.resolve_recipient(to).await?;
            let ShareTicket {
                computation,
                share_result,
            } = c.share(&r, mask, recipient).await?;
            if *no_wait {
                return Ok(if json {
                    json!({"computation": computation.to_string(), "share_result": share_result.to_string(), "status": "pending"}).to_string()
                } else {
                    format!("share requested: computation {computation}, result {share_result}")
                });
            }
            let mut last = usize::MAX;
            let ticket = ShareTicket {
                computation,
                share_result,
            };
            c.wait(&ticket, Duration::from_secs(*timeout), |have, need| {
                if have != last {
                    last = have;
                    progress(&format!(
                        "waiting for the cluster: {have}/{need} contributions"
                    ));
                }
            })
            .await?;
            Ok(if json {
                json!({"computation": computation.to_string(), "share_result": share_result.to_string(), "status": "completed", "groups": group_names(mask)}).to_string()
            } else {
                format!(
                    "shared [{}] of {r}: result {share_result}",
                    group_names(mask).join(", ")
                )
            })
        }
        Command::Inbox { cluster } => {
            let c = ctx.client()?;
            let items = c.inbox(cluster).await?;
            if json {
                let v: Vec<_> = items
                    .iter()
                    .map(|(a, r)| json!({"share": a.to_string(), "record": r.record.to_string(), "owner": r.owner.to_string(), "groups": r.groups.iter().map(|g| group_names(1 << g).join("")).collect::<Vec<_>>(), "completed": r.completed, "version": r.record_version}))
                    .collect();
                return Ok(serde_json::Value::Array(v).to_string());
            }
            if items.is_empty() {
                return Ok("no shares addressed to you".into());
            }
            let mut s = String::new();
            for (a, r) in items {
                s.push_str(&format!(
                    "{a}  from {}  [{}]  {}\n",
                    r.owner,
                    r.groups
                        .iter()
                        .map(|g| group_names(1 << g).join(""))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if r.completed { "ready" } else { "pending" }
                ));
            }
            Ok(s.trim_end().to_string())
        }
        Command::Decrypt { share } => {
            let c = ctx.client()?;
            let o = c.decrypt(share).await?;
            Ok(if json {
                json!({"record": o.record.to_string(), "owner": o.owner.to_string(), "version": o.version, "data": o.data}).to_string()
            } else {
                format!(
                    "record {} of {} (version {})\n{}",
                    o.record,
                    o.owner,
                    o.version,
                    data_json(&o.data)
                )
            })
        }
        Command::CloseRecord { record } => {
            let c = ctx.client()?;
            let r = ctx.record(&c, record)?;
            c.close_record(&r).await?;
            Ok(if json {
                json!({"closed": r.to_string()}).to_string()
            } else {
                format!("record {r} closed; its rent is back in your wallet (capsules and ciphertexts already in the ledger's history stay there)")
            })
        }
        Command::CloseShare { share } => {
            let c = ctx.client()?;
            let (lamports, requester) = c.close_share(share).await?;
            Ok(if json {
                json!({
                    "closed": share.to_string(),
                    "rent_lamports": lamports,
                    "rent_to": requester.to_string(),
                })
                .to_string()
            } else {
                format!(
                    "closed {share}: {} SOL back to {requester}",
                    lamports as f64 / 1e9
                )
            })
        }
        Command::Cancel { computation } => {
            let c = ctx.client()?;
            let ticket = ShareTicket {
                computation: *computation,
                share_result: medshare::pda::share_result(computation),
            };
            c.cancel(&ticket).await?;
            Ok(if json {
                json!({"cancelled": computation.to_string()}).to_string()
            } else {
                format!("cancelled {computation}")
            })
        }
        Command::Audit { record, format } => {
            let w = wallet::load_wallet(&ctx.wallet_path)?;
            let r = match record.parse::<u64>() {
                Ok(id) => medshare::pda::record(&w.pubkey(), id),
                Err(_) => record.parse::<Pubkey>().map_err(|_| {
                    ClientError::Invalid(format!(
                        "'{record}' is neither a record address nor a record id"
                    ))
                })?,
            };
            let trail = audit::trail(ctx.chain.as_ref(), &r).await?;
            let fmt = if json { Format::Json } else { *format };
            Ok(match fmt {
                Format::Json => serde_json::to_string_pretty(&trail).expect("JSON"),
                Format::Csv => audit::to_csv(&trail),
                Format::Table => {
                    let mut s = format!(
                        "{:>8}  {:<22}  {:<46}  {}\n",
                        "slot", "event", "actor", "detail"
                    );
                    for e in &trail {
                        s.push_str(&format!(
                            "{:>8}  {:<22}  {:<46}  {}\n",
                            e.slot, e.event, e.actor, e.detail
                        ));
                    }
                    s.trim_end().to_string()
                }
            })
        }
        Command::Consent(cmd) => consent_command(&ctx, cmd, json).await,
        Command::Request {
            record,
            groups,
            no_wait,
            timeout,
        } => {
            let c = ctx.client()?;
            let mask = parse_groups(groups).map_err(ClientError::Invalid)?;
            let ticket = c.request(record, mask).await?;
            if *no_wait {
                return Ok(if json {
                    json!({"computation": ticket.computation.to_string(), "share_result": ticket.share_result.to_string(), "status": "pending"}).to_string()
                } else {
                    format!(
                        "request queued: computation {}, result {}",
                        ticket.computation, ticket.share_result
                    )
                });
            }
            let mut last = usize::MAX;
            c.wait(&ticket, Duration::from_secs(*timeout), |have, need| {
                if have != last {
                    last = have;
                    progress(&format!(
                        "waiting for the cluster: {have}/{need} contributions"
                    ));
                }
            })
            .await?;
            Ok(if json {
                json!({"computation": ticket.computation.to_string(), "share_result": ticket.share_result.to_string(), "status": "completed", "groups": group_names(mask)}).to_string()
            } else {
                format!(
                    "received [{}] of {record}: decrypt with `medshare decrypt {}`",
                    group_names(mask).join(", "),
                    ticket.share_result
                )
            })
        }
        Command::Provider(cmd) => provider_command(&ctx, cmd, json).await,
        Command::Policy { record, require } => {
            let c = ctx.client()?;
            let r = ctx.record(&c, record)?;
            let mask = if require.trim() == "none" {
                0
            } else {
                crate::consent::parse_roles(require).map_err(ClientError::Invalid)?
            };
            c.set_policy(&r, mask).await?;
            Ok(if json {
                json!({"record": r.to_string(), "required_roles": crate::consent::role_names(mask)})
                    .to_string()
            } else if mask == 0 {
                format!("record {r}: no provider verification required")
            } else {
                format!(
                    "record {r}: shares and consents only to verified [{}]",
                    crate::consent::role_names(mask).join(", ")
                )
            })
        }
        Command::Wallet(WalletCommand::New) => {
            let w = wallet::create_wallet(&ctx.wallet_path)?;
            Ok(if json {
                json!({"wallet": w.pubkey().to_string(), "keypair": ctx.wallet_path}).to_string()
            } else {
                format!(
                    "wallet {} written to {}\nnext: medshare airdrop (localnet), then medshare keygen",
                    w.pubkey(),
                    ctx.wallet_path.display()
                )
            })
        }
        Command::Airdrop { sol } => {
            let w = wallet::load_wallet(&ctx.wallet_path)?;
            if !sol.is_finite() || *sol <= 0.0 || *sol > 1_000.0 {
                return Err(ClientError::Invalid(format!(
                    "airdrop amount must be more than 0 and at most 1000 SOL (got {sol})"
                )));
            }
            let lamports = (sol * 1e9).round() as u64;
            ctx.chain.airdrop(&w.pubkey(), lamports).await?;
            let balance = ctx.chain.balance(&w.pubkey()).await?;
            Ok(if json {
                json!({"wallet": w.pubkey().to_string(), "lamports": lamports, "balance": balance})
                    .to_string()
            } else {
                format!(
                    "airdropped {sol} SOL to {}; balance {} SOL",
                    w.pubkey(),
                    balance as f64 / 1e9
                )
            })
        }
        Command::Demo { .. } | Command::Localnet { .. } => unreachable!("handled above"),
    }
}

async fn hours_from_now(ctx: &Ctx, hours: f64) -> Result<i64> {
    if !(hours > 0.0 && hours.is_finite()) {
        return Err(ClientError::Invalid(
            "--hours must be a positive number".into(),
        ));
    }
    let now = medshare_sdk::chain::chain_time(ctx.chain.as_ref()).await?;
    Ok(now + (hours * 3600.0).round() as i64)
}

async fn consent_command(ctx: &Ctx, cmd: &ConsentCommand, json: bool) -> Result<String> {
    let c = ctx.client()?;
    match cmd {
        ConsentCommand::Grant {
            record,
            to,
            groups,
            purpose,
            hours,
        }
        | ConsentCommand::Modify {
            record,
            to,
            groups,
            purpose,
            hours,
        } => {
            let r = ctx.record(&c, record)?;
            let mask = parse_groups(groups).map_err(ClientError::Invalid)?;
            let until = hours_from_now(ctx, *hours).await?;
            let grant = matches!(cmd, ConsentCommand::Grant { .. });
            if grant {
                c.grant_consent(&r, to, mask, purpose, until).await?;
            } else {
                c.modify_consent(&r, to, mask, purpose, until).await?;
            }
            Ok(if json {
                json!({"record": r.to_string(), "grantee": to.to_string(), "groups": group_names(mask), "expires_at": until}).to_string()
            } else {
                format!(
                    "{} {to}: [{}] of {r} until unix time {until}",
                    if grant {
                        "consent granted to"
                    } else {
                        "consent changed for"
                    },
                    group_names(mask).join(", ")
                )
            })
        }
        ConsentCommand::Revoke { record, to } => {
            let r = ctx.record(&c, record)?;
            c.revoke_consent(&r, to).await?;
            Ok(if json {
                json!({"record": r.to_string(), "grantee": to.to_string(), "revoked": true})
                    .to_string()
            } else {
                format!(
                    "consent of {to} on {r} revoked: no further request or node contribution under it (a share already delivered, or with t contributions in, cannot be recalled)"
                )
            })
        }
        ConsentCommand::Close { record, to } => {
            let r = ctx.record(&c, record)?;
            c.close_consent(&r, to).await?;
            Ok(if json {
                json!({"record": r.to_string(), "grantee": to.to_string(), "closed": true})
                    .to_string()
            } else {
                format!("consent of {to} on {r} closed; its rent is back in your wallet")
            })
        }
        ConsentCommand::List { record } => {
            let r = ctx.record(&c, record)?;
            let list = c.consents(&r).await?;
            let now = medshare_sdk::chain::chain_time(ctx.chain.as_ref()).await?;
            let state = |k: &medshare::state::Consent| {
                if k.revoked {
                    "revoked"
                } else if now >= k.expires_at {
                    "expired"
                } else {
                    "active"
                }
            };
            if json {
                let v: Vec<_> = list
                    .iter()
                    .map(|(_, k)| json!({"grantee": k.grantee.to_string(), "groups": group_names(k.group_mask), "purpose": k.purpose, "expires_at": k.expires_at, "state": state(k), "uses": k.uses}))
                    .collect();
                return Ok(serde_json::Value::Array(v).to_string());
            }
            if list.is_empty() {
                return Ok(format!("no consents on {r}"));
            }
            let mut s = String::new();
            for (_, k) in list {
                s.push_str(&format!(
                    "{}  [{}]  \"{}\"  until {}  {}  used {}\n",
                    k.grantee,
                    group_names(k.group_mask).join(", "),
                    k.purpose,
                    k.expires_at,
                    state(&k),
                    k.uses
                ));
            }
            Ok(s.trim_end().to_string())
        }
    }
}

async fn provider_command(ctx: &Ctx, cmd: &ProviderCommand, json: bool) -> Result<String> {
    match cmd {
        ProviderCommand::Show { cluster, wallet } => {
            let p: medshare::state::Provider = medshare_sdk::chain::fetch(
                ctx.chain.as_ref(),
                &medshare::pda::provider(cluster, wallet),
            )
            .await?
            .ok_or_else(|| {
                ClientError::Invalid(format!(
                    "{wallet} is not a registered provider of cluster {cluster}"
                ))
            })?;
            let issuer_active = medshare_sdk::chain::fetch::<medshare::state::CredentialIssuer>(
                ctx.chain.as_ref(),
                &medshare::pda::issuer(cluster, &p.issuer),
            )
            .await?
            .is_some_and(|i| i.active);
            Ok(if json {
                json!({"provider": wallet.to_string(), "role": format!("{:?}", p.role).to_lowercase(), "issuer": p.issuer.to_string(), "issuer_active": issuer_active, "license_hash": hex::encode(p.license_hash), "valid_from": p.valid_from, "valid_until": p.valid_until, "revoked": p.revoked}).to_string()
            } else {
                format!(
                    "{wallet}: {:?}, license {}, valid {}..{}, issuer {} ({}){}",
                    p.role,
                    hex::encode(p.license_hash),
                    p.valid_from,
                    p.valid_until,
                    p.issuer,
                    if issuer_active { "active" } else { "revoked" },
                    if p.revoked { ", REVOKED" } else { "" }
                )
            })
        }
        _ => {
            let w = wallet::load_wallet(&ctx.wallet_path)?;
            let chain = ctx.chain.as_ref();
            let done = match cmd {
                ProviderCommand::AppointIssuer { cluster, issuer } => {
                    crate::consent::appoint_issuer(chain, &w, cluster, issuer).await?;
                    format!("appointed issuer {issuer} for cluster {cluster}")
                }
                ProviderCommand::RevokeIssuer { cluster, issuer } => {
                    crate::consent::revoke_issuer(chain, &w, cluster, issuer).await?;
                    format!("revoked issuer {issuer} of cluster {cluster}")
                }
                ProviderCommand::Register {
                    cluster,
                    wallet,
                    role,
                    license_hash,
                    valid_days,
                } => {
                    let role = crate::consent::parse_role(role).map_err(ClientError::Invalid)?;
                    let hash: [u8; 32] = hex::decode(license_hash.trim())
                        .ok()
                        .and_then(|h| h.try_into().ok())
                        .ok_or_else(|| {
                            ClientError::Invalid(
                                "--license-hash must be 64 hex digits (SHA-256)".into(),
                            )
                        })?;
                    let now = medshare_sdk::chain::chain_time(ctx.chain.as_ref()).await?;
                    let until = now + *valid_days as i64 * 86_400;
                    crate::consent::register_provider(
                        chain,
                        &w,
                        cluster,
                        medshare::instructions::RegisterProviderArgs {
                            provider: *wallet,
                            role,
                            license_hash: hash,
                            valid_from: now,
                            valid_until: until,
                        },
                    )
                    .await?;
                    format!("registered {wallet} as {role:?} until unix time {until}")
                }
                ProviderCommand::Revoke { cluster, wallet } => {
                    crate::consent::revoke_provider(chain, &w, cluster, wallet).await?;
                    format!("revoked provider {wallet}")
                }
                ProviderCommand::Show { .. } => unreachable!("handled above"),
            };
            Ok(if json {
                json!({"ok": true, "message": done}).to_string()
            } else {
                done
            })
        }
    }
}
