//! The `mpc-node` command line: arguments and configuration here, one
//! function per command in [`commands`], all run in-process by [`execute`]
//! so tests can drive them on the embedded chain (`main.rs` only parses,
//! sets up logging and prints errors).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{default_dir, FileConfig};
use crate::NodeConfig;
use anyhow::{anyhow, bail, Result};
use clap::{Args, Parser, Subcommand};
use medshare_sdk::chain::{rpc, SharedChain};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, Keypair};

/// `mpc-node`'s arguments.
#[derive(Parser, Debug)]
#[command(name = "mpc-node", version, about = "MedShare MPC node")]
pub struct Cli {
    /// TOML config file.
    #[arg(long, short = 'c', env = "MEDSHARE_NODE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// RPC URL or moniker: devnet, localnet, or a URL.
    #[arg(long, short = 'u', env = "MEDSHARE_NODE_URL", global = true)]
    pub url: Option<String>,
    /// Node authority keypair (admin keypair for `cluster` commands).
    #[arg(long, short = 'k', env = "MEDSHARE_NODE_KEYPAIR", global = true)]
    pub keypair: Option<PathBuf>,
    /// Encrypted key store.
    #[arg(long, env = "MEDSHARE_NODE_KEY_STORE", global = true)]
    pub key_store: Option<PathBuf>,
    /// File with the key-store passphrase (or set MEDSHARE_NODE_PASSPHRASE).
    #[arg(long, env = "MEDSHARE_NODE_PASSPHRASE_FILE", global = true)]
    pub passphrase_file: Option<PathBuf>,
    /// Cluster address.
    #[arg(long, env = "MEDSHARE_NODE_CLUSTER", global = true)]
    pub cluster: Option<String>,
    /// Log format: human or json.
    #[arg(long, env = "MEDSHARE_NODE_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Creates the authority keypair (unless --keypair names an existing one) and the encrypted key store.
    Init,
    /// Registers this node's transport key with the cluster (after the admin added it).
    Register,
    /// Runs the node until SIGTERM or Ctrl-C.
    Run {
        /// Prometheus endpoint, e.g. 127.0.0.1:9464.
        #[arg(long, env = "MEDSHARE_NODE_METRICS_ADDR")]
        metrics_addr: Option<String>,
        /// Timing (overrides the config file).
        #[command(flatten)]
        timing: Timing,
    },
    /// Shows the cluster, the DKG, pending work and this node's record.
    Status,
    /// Cluster administration (signed with --keypair as admin).
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Measures DKG time, share throughput and queue-to-callback latency with
    /// real node tasks in this process: on an embedded chain (no network, no
    /// keys needed), or with -u on that endpoint, funded by -k (else its faucet).
    /// Built with the `bench` feature.
    #[cfg(feature = "bench")]
    Bench {
        /// Share requests to issue.
        #[arg(long, default_value_t = 200)]
        shares: usize,
        /// Share requests in flight at most.
        #[arg(long, default_value_t = 20)]
        concurrency: usize,
        /// Node poll interval in milliseconds (the demo's and tests' local clusters use 50).
        #[arg(long, default_value_t = 50)]
        poll_ms: u64,
        /// Node callback fallback per rank in milliseconds.
        #[arg(long, default_value_t = 500)]
        callback_fallback_ms: u64,
        /// Node contribution fallback per rank in milliseconds.
        #[arg(long, default_value_t = 250)]
        contribution_fallback_ms: u64,
        /// Skip the DKG measurements (only a 3-of-5 cluster is started for the shares).
        #[arg(long)]
        no_dkg: bool,
    },
}

/// A node's timing: flag or environment, else the config file, else
/// [`NodeConfig::new`]'s defaults.
#[derive(Args, Debug, Clone, Default)]
pub struct Timing {
    /// Full read of the chain every this many milliseconds.
    #[arg(long, env = "MEDSHARE_NODE_POLL_INTERVAL_MS")]
    pub poll_interval_ms: Option<u64>,
    /// Delay per rank before a node that did not finish a computation posts its callback.
    #[arg(long, env = "MEDSHARE_NODE_CALLBACK_FALLBACK_MS")]
    pub callback_fallback_ms: Option<u64>,
    /// Delay per rank before a node beyond the first `t` contributes.
    #[arg(long, env = "MEDSHARE_NODE_CONTRIBUTION_FALLBACK_MS")]
    pub contribution_fallback_ms: Option<u64>,
}

/// The node configuration for `cluster`: `timing` over `file` over the
/// defaults. A poll interval of 0 is refused.
pub fn node_config(cluster: Pubkey, file: &FileConfig, timing: &Timing) -> Result<NodeConfig> {
    let mut cfg = NodeConfig::new(cluster);
    let ms = Duration::from_millis;
    if let Some(v) = timing.poll_interval_ms.or(file.poll_interval_ms) {
        if v == 0 {
            bail!("poll_interval_ms must be at least 1");
        }
        cfg.poll_interval = ms(v);
    }
    if let Some(v) = timing.callback_fallback_ms.or(file.callback_fallback_ms) {
        cfg.callback_fallback = ms(v);
    }
    if let Some(v) = timing
        .contribution_fallback_ms
        .or(file.contribution_fallback_ms)
    {
        cfg.contribution_fallback = ms(v);
    }
    Ok(cfg)
}

/// Cluster administration commands.
#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// Creates a cluster.
    Create {
        /// Admin-chosen id.
        #[arg(long, default_value_t = 0)]
        id: u32,
        /// Threshold t.
        #[arg(long)]
        threshold: u8,
        /// Size n.
        #[arg(long)]
        size: u8,
        /// Computation lifetime in slots.
        #[arg(long, default_value_t = medshare_sdk::admin::DEFAULT_TTL_SLOTS)]
        ttl_slots: u64,
    },
    /// Adds a node authority.
    AddNode {
        /// The node's authority address.
        authority: Pubkey,
    },
    /// Restarts a running or failed DKG (a node stayed silent, or the
    /// confirmations disagreed): every node runs it again.
    RestartDkg,
    /// Before the DKG succeeded, gives node INDEX to a new authority (a
    /// node that stays silent or lies); the new node registers, then every
    /// node runs the DKG again.
    ReplaceNode {
        /// The node's index (1-based).
        #[arg(long)]
        index: u8,
        /// The new node's authority address.
        authority: Pubkey,
    },
    /// Retires the cluster: no new record, share or DKG step is accepted.
    Retire,
}

struct Resolved {
    file: FileConfig,
    url: String,
    keypair: PathBuf,
    key_store: PathBuf,
    passphrase_file: Option<PathBuf>,
    cluster: Option<Pubkey>,
}

fn resolve(cli: &Cli) -> Result<Resolved> {
    let file = match &cli.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let (cli_url, _) = rpc::solana_cli_config();
    let url = cli
        .url
        .clone()
        .or(file.url.clone())
        .or(cli_url)
        .unwrap_or_else(|| "devnet".into());
    let keypair = cli
        .keypair
        .clone()
        .or(file.keypair.clone())
        .unwrap_or_else(|| default_dir().join("authority.json"));
    let key_store = cli
        .key_store
        .clone()
        .or(file.key_store.clone())
        .unwrap_or_else(|| default_dir().join("node-keys.json"));
    let cluster = cli
        .cluster
        .clone()
        .or(file.cluster.clone())
        .map(|address| {
            address
                .parse::<Pubkey>()
                .map_err(|_| anyhow!("invalid cluster address {address}"))
        })
        .transpose()?;
    Ok(Resolved {
        passphrase_file: cli.passphrase_file.clone().or(file.passphrase_file.clone()),
        file,
        url,
        keypair,
        key_store,
        cluster,
    })
}

fn chain_for(url: &str, given: Option<&SharedChain>) -> Result<SharedChain> {
    if let Some(chain) = given {
        return Ok(chain.clone());
    }
    if url == "embedded" {
        bail!("the embedded chain lives inside one process: use `medshare demo`, or run nodes against localnet or devnet");
    }
    Ok(Arc::new(rpc::Rpc::new(url)))
}

fn load_keypair(path: &PathBuf) -> Result<Keypair> {
    read_keypair_file(path).map_err(|e| anyhow!("cannot read keypair {}: {e}", path.display()))
}

/// Sets up `tracing` for the process: `RUST_LOG`, else `default_filter`;
/// human-readable or JSON lines on stderr.
pub fn init_logging(format: Option<&str>, default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == Some("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// The log filter a command runs with when `RUST_LOG` is not set, and the
/// log format asked for (flag, else config file).
pub fn log_settings(cli: &Cli) -> (&'static str, Option<String>) {
    // The bench runs many nodes in one process: per-computation info lines would swamp it.
    let filter = match cli.command {
        #[cfg(feature = "bench")]
        Command::Bench { .. } => "warn,tarpc=error",
        _ => "info",
    };
    let file_format = cli
        .config
        .as_ref()
        .and_then(|path| FileConfig::load(path).ok())
        .and_then(|config| config.log_format);
    (filter, cli.log_format.clone().or(file_format))
}

mod commands;

pub use commands::execute;

#[cfg(test)]
mod tests;
