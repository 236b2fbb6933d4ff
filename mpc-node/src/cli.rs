//! The `mpc-node` command line: arguments, configuration, and every command,
//! run in-process by [`execute`] so tests can drive it on the embedded chain
//! (`main.rs` only parses, sets up logging and prints errors).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{default_dir, FileConfig};
use crate::metrics::{self, Metrics};
use crate::{Node, NodeConfig};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use medshare_sdk::chain::{fetch, rpc, Chain, SharedChain};
use medshare_sdk::keystore::{self, KeyStore};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, Keypair, Signer};

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
        Some(p) => FileConfig::load(p)?,
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
        .map(|c| {
            c.parse::<Pubkey>()
                .map_err(|_| anyhow!("invalid cluster address {c}"))
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
        .and_then(|p| FileConfig::load(p).ok())
        .and_then(|f| f.log_format);
    (filter, cli.log_format.clone().or(file_format))
}

/// Runs one command. `chain`: the chain to use instead of `--url` (tests,
/// on the embedded chain); `shutdown`: what ends `run`; `out`: where the
/// command's report goes (errors are returned, not printed).
pub async fn execute(
    cli: &Cli,
    chain: Option<&SharedChain>,
    shutdown: impl std::future::Future<Output = ()>,
    out: &mut (dyn std::io::Write + Send),
) -> Result<()> {
    let r = resolve(cli)?;
    match &cli.command {
        Command::Init => {
            if let Some(dir) = r.key_store.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            let authority = if r.keypair.exists() {
                load_keypair(&r.keypair)?
            } else {
                if let Some(dir) = r.keypair.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let k = Keypair::new();
                let json = serde_json::to_string(&k.to_bytes().to_vec())?;
                keystore::write_private(&r.keypair, json.as_bytes())
                    .with_context(|| format!("writing {}", r.keypair.display()))?;
                k
            };
            let pass = keystore::passphrase(r.passphrase_file.as_deref())?;
            let store = KeyStore::create(&r.key_store, pass, authority.pubkey())?;
            writeln!(out, "authority:     {}", authority.pubkey())?;
            writeln!(
                out,
                "transport key: {}",
                hex::encode(store.secrets.transport().public_key().0)
            )?;
            writeln!(out, "key store:     {}", r.key_store.display())?;
            writeln!(
                out,
                "next: give the authority address to the cluster admin, then `mpc-node register`"
            )?;
        }
        Command::Register | Command::Run { .. } => {
            let cluster = r
                .cluster
                .ok_or_else(|| anyhow!("no cluster: pass --cluster or set it in the config"))?;
            let chain = chain_for(&r.url, chain)?;
            let authority = load_keypair(&r.keypair)?;
            let pass = keystore::passphrase(r.passphrase_file.as_deref())?;
            let store = KeyStore::open(&r.key_store, pass, authority.pubkey())?;
            let timing = match &cli.command {
                Command::Run { timing, .. } => timing.clone(),
                _ => Timing::default(),
            };
            let cfg = node_config(cluster, &r.file, &timing)?;
            let metrics = Arc::new(Metrics::new());
            let mut node = Node::new(chain.clone(), authority, store, cfg, metrics.clone())?;
            if let Command::Run { metrics_addr, .. } = &cli.command {
                if let Some(addr) = metrics_addr.clone().or(r.file.metrics_addr.clone()) {
                    let listener = tokio::net::TcpListener::bind(&addr)
                        .await
                        .with_context(|| format!("binding metrics endpoint {addr}"))?;
                    tracing::info!(%addr, "metrics at /metrics");
                    tokio::spawn(metrics::serve(listener, metrics));
                }
                node.run(shutdown).await?;
            } else {
                let c: medshare::state::Cluster = fetch(chain.as_ref(), &cluster)
                    .await?
                    .ok_or_else(|| anyhow!("cluster {cluster} not found"))?;
                let pos = c.position_of(&node.authority()).map_err(|_| {
                    anyhow!(
                        "this authority is not a node of the cluster yet: ask the admin to add {}",
                        node.authority()
                    )
                })?;
                if c.nodes[pos].registered {
                    writeln!(out, "already registered as node {}", pos + 1)?;
                } else {
                    node.register(pos).await?;
                    writeln!(out, "registered as node {}", pos + 1)?;
                }
            }
        }
        Command::Status => {
            let cluster = r
                .cluster
                .ok_or_else(|| anyhow!("no cluster: pass --cluster or set it in the config"))?;
            let chain = chain_for(&r.url, chain)?;
            let me = load_keypair(&r.keypair).ok().map(|k| k.pubkey());
            print_status(chain.as_ref(), &cluster, me, out).await?;
        }
        #[cfg(feature = "bench")]
        Command::Bench {
            shares,
            concurrency,
            poll_ms,
            callback_fallback_ms,
            contribution_fallback_ms,
            no_dkg,
        } => {
            let mut opts = crate::bench::BenchOptions {
                shares: *shares,
                concurrency: *concurrency,
                poll: Duration::from_millis(*poll_ms),
                callback_fallback: Duration::from_millis(*callback_fallback_ms),
                contribution_fallback: Duration::from_millis(*contribution_fallback_ms),
                ..Default::default()
            };
            if *no_dkg {
                opts.dkg.clear();
            }
            // Only an endpoint named on the command line (or its
            // environment variable): never a default such as devnet.
            if let Some(url) = &cli.url {
                opts.url = Some(url.clone());
                opts.payer = cli.keypair.clone();
                if opts.payer.is_none() && rpc::resolve_url(url) != rpc::resolve_url("localnet") {
                    tracing::warn!(%url, "no --keypair: funding from the endpoint's faucet (requestAirdrop)");
                }
            }
            // The embedded bank runs the program natively, and the Solana
            // crates' native `msg!` prints every program log line to stdout:
            // silence fd 1 while the bench runs.
            let quiet = gag::Gag::stdout().ok();
            let report = crate::bench::run(&opts, |line| eprintln!("{line}")).await;
            drop(quiet);
            let report = report?;
            write!(out, "{}", crate::bench::render(&opts, &report))?;
        }
        Command::Cluster(cmd) => {
            let chain = chain_for(&r.url, chain)?;
            let admin = load_keypair(&r.keypair)?;
            match cmd {
                ClusterCommand::Create {
                    id,
                    threshold,
                    size,
                    ttl_slots,
                } => {
                    let c = medshare_sdk::admin::create_cluster(
                        chain.as_ref(),
                        &admin,
                        *id,
                        *threshold,
                        *size,
                        *ttl_slots,
                    )
                    .await?;
                    writeln!(out, "cluster: {c}")?;
                }
                ClusterCommand::AddNode { authority } => {
                    let cluster = r
                        .cluster
                        .ok_or_else(|| anyhow!("no cluster: pass --cluster"))?;
                    medshare_sdk::admin::add_node(chain.as_ref(), &admin, &cluster, authority)
                        .await?;
                    writeln!(out, "added {authority}")?;
                }
                ClusterCommand::RestartDkg => {
                    let cluster = r
                        .cluster
                        .ok_or_else(|| anyhow!("no cluster: pass --cluster"))?;
                    medshare_sdk::admin::restart_dkg(chain.as_ref(), &admin, &cluster).await?;
                    writeln!(out, "DKG of {cluster} restarted; the nodes run it again")?;
                }
                ClusterCommand::ReplaceNode { index, authority } => {
                    let cluster = r
                        .cluster
                        .ok_or_else(|| anyhow!("no cluster: pass --cluster"))?;
                    medshare_sdk::admin::replace_node(
                        chain.as_ref(),
                        &admin,
                        &cluster,
                        *index,
                        authority,
                    )
                    .await?;
                    writeln!(
                        out,
                        "node {index} of {cluster} is now {authority}; once it registers, the nodes run the DKG again"
                    )?;
                }
                ClusterCommand::Retire => {
                    let cluster = r
                        .cluster
                        .ok_or_else(|| anyhow!("no cluster: pass --cluster"))?;
                    medshare_sdk::admin::retire_cluster(chain.as_ref(), &admin, &cluster).await?;
                    writeln!(out, "cluster {cluster} retired")?;
                }
            }
        }
    }
    Ok(())
}

async fn print_status(
    chain: &dyn Chain,
    cluster: &Pubkey,
    me: Option<Pubkey>,
    out: &mut (dyn std::io::Write + Send),
) -> Result<()> {
    let c: medshare::state::Cluster = fetch(chain, cluster)
        .await?
        .ok_or_else(|| anyhow!("cluster {cluster} not found"))?;
    writeln!(
        out,
        "cluster {cluster}: {:?}, {} of {}, {} nodes added",
        c.status,
        c.threshold,
        c.size,
        c.nodes.len()
    )?;
    if c.cluster_key != [0u8; 32] {
        writeln!(out, "cluster key: {}", hex::encode(c.cluster_key))?;
    }
    writeln!(
        out,
        "{:>3}  {:<44}  {:>4} {:>4} {:>6} {:>7} {:>7} {:>6}",
        "#", "authority", "reg", "r1", "r2", "conf", "contrib", "faults"
    )?;
    let records = crate::node::node_records(chain, cluster, c.nodes.len()).await?;
    for (i, (n, record)) in c.nodes.iter().zip(records).enumerate() {
        let mark = if Some(n.authority) == me { "*" } else { " " };
        let (contributions, faults) = record
            .map(|r| (r.contributions.to_string(), r.faults.to_string()))
            .unwrap_or_else(|| ("-".into(), "-".into()));
        writeln!(
            out,
            "{:>2}{mark}  {:<44}  {:>4} {:>4} {:>6} {:>7} {:>7} {:>6}",
            i + 1,
            n.authority.to_string(),
            n.registered,
            n.round1_posted,
            format!("{:#06x}", n.round2_sent),
            n.confirmed,
            contributions,
            faults
        )?;
    }
    for j in crate::node::judge_complaints(chain, cluster).await? {
        let verdict = match j.verdict {
            encrypted_ixs::dkg::Verdict::SenderFaulty { reason } => {
                format!("node {} is at fault ({reason})", j.accused)
            }
            encrypted_ixs::dkg::Verdict::ComplaintFalse => {
                format!("the complaint is false: node {} is at fault", j.complainer)
            }
        };
        writeln!(
            out,
            "DKG complaint (attempt {}): node {} accuses node {}; {verdict}",
            c.dkg_attempt, j.complainer, j.accused
        )?;
    }
    let addrs: Vec<Pubkey> = (0..c.next_computation)
        .map(|k| medshare::pda::computation(cluster, k))
        .collect();
    let comps =
        medshare_sdk::chain::fetch_many::<medshare::state::Computation>(chain, &addrs).await?;
    let pending: Vec<_> = addrs
        .iter()
        .zip(comps)
        .filter_map(|(a, c)| c.map(|c| (a, c)))
        .collect();
    writeln!(out, "pending computations: {}", pending.len())?;
    for (a, comp) in pending {
        writeln!(
            out,
            "  {a}  groups {:?}  contributions {}/{}  faulty {:#06x}  expires at slot {}",
            comp.groups,
            comp.contributors.len(),
            c.threshold,
            comp.faulty,
            comp.expiry_slot
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
