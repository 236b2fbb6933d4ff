//! The `medshare` command line. [`execute`] runs one command and returns what
//! to print, so tests drive every command in-process.
//!
//! Every command lives in its own module and returns a typed output that is
//! both [`serde::Serialize`] (for `--json`) and [`std::fmt::Display`] (the
//! text), so the two can never disagree about what happened:
//!
//! | module | commands |
//! | --- | --- |
//! | [`keys`] | `keygen`, `register`, `wallet new`, `airdrop` |
//! | [`records`] | `store`, `show`, `close-record`, `erase` |
//! | [`share`] | `share`, `request`, `cancel`, `close-share` |
//! | [`inbox`] | `inbox`, `decrypt` |
//! | [`files`] | FHIR bundles and attachments in and out (for `store`, `show`, `decrypt`) |
//! | [`trail`] | `audit` |
//! | [`consent`] | `consent grant/modify/revoke/close/list` |
//! | [`provider`] | `provider …`, `policy` |
//!
//! `demo` and `localnet` run in [`crate::demo`] and [`crate::localnet`].
//! Exit codes: see [`crate::error::exit`].

mod args;
pub mod audit;
pub mod consent;
pub mod inbox;
pub mod keys;
pub mod progress;
pub mod providers;
pub mod records;
pub mod research;
pub mod shares;

pub use args::*;

use std::fmt::Display;
use std::path::PathBuf;
use std::sync::Arc;

use medshare_sdk::chain::{rpc, SharedChain};
use serde::Serialize;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;

use crate::blobs::BlobStore;
use crate::error::{ClientError, Result};
use crate::user::Client;
use crate::wallet;

/// What a command prints: one value, rendered as text or as `--json`.
pub trait Output: Serialize + Display {}
impl<T: Serialize + Display> Output for T {}

/// `out` as the command's text (made [`terminal_safe`]: record content is
/// hostile input), or as JSON with `--json` (where JSON escapes control
/// characters itself).
pub fn render(out: &impl Output, json: bool) -> String {
    if json {
        serde_json::to_string(out).expect("command outputs serialize")
    } else {
        terminal_safe(&out.to_string())
    }
}

pub use crate::user::files::is_bidi_format;

/// `text` with every character a terminal would act on written out as a
/// `\u{…}` escape: control characters (escape sequences can move the
/// cursor, rewrite the screen, set the window title or the clipboard)
/// except newline and tab, and the bidirectional formatting characters
/// (which can make text read in an order other than it is stored).
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (c.is_control() && c != '\n' && c != '\t') || is_bidi_format(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// `url` is a moniker, or an http(s) URL with a host (refused before any
/// connection, so a typo is not reported as a network failure).
fn check_url(url: &str) -> Result<()> {
    let resolved = rpc::resolve_url(url);
    match url::Url::parse(&resolved) {
        Ok(parsed)
            if matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some() =>
        {
            Ok(())
        }
        _ => Err(ClientError::BadUrl(url.to_string())),
    }
}

/// What every command needs: the chain, the wallet's path, the arguments.
pub struct Ctx {
    /// The chain.
    pub chain: SharedChain,
    /// The wallet keypair file.
    pub wallet_path: PathBuf,
    cli: Cli,
}

impl Ctx {
    fn new(cli: &Cli, chain: Option<SharedChain>) -> Result<Self> {
        let (cfg_url, cfg_keypair) = rpc::solana_cli_config();
        let chain = match chain {
            Some(chain) => chain,
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
                check_url(&url)?;
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

    /// The sealed key file of `wallet`.
    pub fn key_file(&self, wallet: &Pubkey) -> PathBuf {
        self.cli
            .key_file
            .clone()
            .unwrap_or_else(|| wallet::default_key_file(wallet))
    }

    /// The key passphrase (file, else `MEDSHARE_PASSPHRASE`).
    pub fn passphrase(&self) -> Result<zeroize::Zeroizing<String>> {
        wallet::passphrase(self.cli.passphrase_file.as_deref())
    }

    /// The user: wallet and opened encryption key.
    pub fn client(&self) -> Result<Client> {
        let keypair = wallet::load_wallet(&self.wallet_path)?;
        let pass = self.passphrase()?;
        let key = wallet::open_key(&self.key_file(&keypair.pubkey()), &keypair.pubkey(), &pass)?;
        let client = Client::new(self.chain.clone(), keypair, key);
        let options = crate::blobs::parse_store_options(&self.cli.store_options)?;
        Ok(match &self.cli.store {
            Some(url) => client.with_blobs(BlobStore::open_with(url, &options, true)?),
            None => client,
        })
    }

    /// A record named by address, or by id among `owner`'s records.
    pub fn record_of(&self, owner: &Pubkey, record: &str) -> Result<Pubkey> {
        match record.parse::<u64>() {
            Ok(id) => Ok(medshare::pda::record(owner, id)),
            Err(_) => record
                .parse::<Pubkey>()
                .map_err(|_| ClientError::BadRecordRef(record.to_string())),
        }
    }

    /// A record named by address, or by id among this user's records.
    pub fn record(&self, client: &Client, record: &str) -> Result<Pubkey> {
        self.record_of(&client.wallet.pubkey(), record)
    }
}

/// Runs one command. `chain` overrides `--url` (tests pass the embedded chain).
/// `progress` receives status lines while waiting.
pub async fn execute(
    cli: &Cli,
    chain: Option<SharedChain>,
    mut progress: impl FnMut(&str),
) -> Result<String> {
    if let Command::Demo { threshold, nodes } = &cli.command {
        let opts = crate::demo::DemoOptions {
            t: *threshold,
            n: *nodes,
        };
        crate::demo::run(opts, |line| progress(line)).await?;
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
    let out = match &cli.command {
        Command::Keygen => render(&keys::keygen(&ctx)?, json),
        Command::Register { role } => render(&keys::register(&ctx, (*role).into()).await?, json),
        Command::Wallet(WalletCommand::New) => render(&keys::wallet_new(&ctx)?, json),
        Command::Airdrop { sol } => render(&keys::airdrop(&ctx, *sol).await?, json),
        Command::Store(args) => render(&records::store(&ctx, args).await?, json),
        Command::Show { record, out } => render(&records::show(&ctx, record, out).await?, json),
        Command::CloseRecord { record } => render(&records::close(&ctx, record).await?, json),
        Command::Erase { record } => render(&records::erase(&ctx, record).await?, json),
        Command::Share {
            record,
            groups,
            to,
            no_wait,
            timeout,
        } => {
            let wait = shares::Wait::new(*no_wait, *timeout);
            let out = shares::share(&ctx, record, groups, to, wait, &mut progress).await?;
            render(&out, json)
        }
        Command::Request {
            record,
            groups,
            no_wait,
            timeout,
        } => {
            let wait = shares::Wait::new(*no_wait, *timeout);
            let out = shares::request(&ctx, record, groups, wait, &mut progress).await?;
            render(&out, json)
        }
        Command::Cancel { computation } => render(&shares::cancel(&ctx, computation).await?, json),
        Command::CloseShare { share } => render(&shares::close(&ctx, share).await?, json),
        Command::Inbox { cluster } => render(&inbox::inbox(&ctx, cluster).await?, json),
        Command::Decrypt { shares, out } => render(&inbox::decrypt(&ctx, shares, out).await?, json),
        Command::Audit { record, format } => {
            // The trail renders itself in the format asked for (JSON: pretty).
            let format = if json { Format::Json } else { *format };
            let out = audit::audit(&ctx, record, format).await?.to_string();
            // Table and CSV carry purposes and names as they are on-chain.
            if format == Format::Json {
                out
            } else {
                terminal_safe(&out)
            }
        }
        Command::Consent(cmd) => render(&consent::run(&ctx, cmd).await?, json),
        Command::Provider(cmd) => render(&providers::run(&ctx, cmd).await?, json),
        Command::Research(cmd) => render(&research::research(&ctx, cmd).await?, json),
        Command::Stats(cmd) => render(&research::stats(&ctx, cmd).await?, json),
        Command::Policy { record, require } => {
            render(&providers::policy(&ctx, record, require).await?, json)
        }
        Command::Demo { .. } | Command::Localnet { .. } => unreachable!("handled above"),
    };
    Ok(out)
}

/// Pretty JSON of a record's fields, as the text outputs show them.
fn data_json(data: &crate::data::PatientData) -> String {
    serde_json::to_string_pretty(data).expect("JSON")
}
