//! One function per `mpc-node` command; [`execute`] picks it.

use std::sync::Arc;
#[cfg(feature = "bench")]
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
#[cfg(feature = "bench")]
use medshare_sdk::chain::rpc;
use medshare_sdk::chain::{fetch, Chain, SharedChain};
use medshare_sdk::keystore::{self, KeyStore};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

use super::{
    chain_for, load_keypair, node_config, resolve, Cli, ClusterCommand, Command, Resolved, Timing,
};
use crate::metrics::{self, Metrics};
use crate::Node;

type Out<'a> = &'a mut (dyn std::io::Write + Send);

/// Runs one command. `chain`: the chain to use instead of `--url` (tests,
/// on the embedded chain); `shutdown`: what ends `run`; `out`: where the
/// command's report goes (errors are returned, not printed).
pub async fn execute(
    cli: &Cli,
    chain: Option<&SharedChain>,
    shutdown: impl std::future::Future<Output = ()>,
    out: Out<'_>,
) -> Result<()> {
    let resolved = resolve(cli)?;
    match &cli.command {
        Command::Init => init(&resolved, out),
        Command::Register => register(&resolved, chain, out).await,
        Command::Run {
            metrics_addr,
            timing,
        } => run(&resolved, chain, metrics_addr.as_deref(), timing, shutdown).await,
        Command::Status => status(&resolved, chain, out).await,
        #[cfg(feature = "bench")]
        Command::Bench {
            shares,
            concurrency,
            poll_ms,
            callback_fallback_ms,
            contribution_fallback_ms,
            no_dkg,
        } => {
            let opts = crate::bench::BenchOptions {
                shares: *shares,
                concurrency: *concurrency,
                poll: Duration::from_millis(*poll_ms),
                callback_fallback: Duration::from_millis(*callback_fallback_ms),
                contribution_fallback: Duration::from_millis(*contribution_fallback_ms),
                ..Default::default()
            };
            bench(cli, opts, *no_dkg, out).await
        }
        Command::Cluster(cmd) => cluster(&resolved, chain, cmd, out).await,
    }
}

/// The cluster named by `--cluster` or the config file.
fn cluster_of(resolved: &Resolved) -> Result<Pubkey> {
    resolved
        .cluster
        .ok_or_else(|| anyhow!("no cluster: pass --cluster or set it in the config"))
}

/// `init`: the authority keypair (unless one exists) and the sealed key store.
fn init(resolved: &Resolved, out: Out<'_>) -> Result<()> {
    if let Some(dir) = resolved.key_store.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let authority = if resolved.keypair.exists() {
        load_keypair(&resolved.keypair)?
    } else {
        if let Some(dir) = resolved.keypair.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let keypair = Keypair::new();
        let json = serde_json::to_string(&keypair.to_bytes().to_vec())?;
        keystore::write_private(&resolved.keypair, json.as_bytes())
            .with_context(|| format!("writing {}", resolved.keypair.display()))?;
        keypair
    };
    let pass = keystore::passphrase(resolved.passphrase_file.as_deref())?;
    let store = KeyStore::create(&resolved.key_store, pass, authority.pubkey())?;
    writeln!(out, "authority:     {}", authority.pubkey())?;
    writeln!(
        out,
        "transport key: {}",
        hex::encode(store.secrets.transport().public_key().0)
    )?;
    writeln!(out, "key store:     {}", resolved.key_store.display())?;
    writeln!(
        out,
        "next: give the authority address to the cluster admin, then `mpc-node register`"
    )?;
    Ok(())
}

/// The node of `register` and `run`: its keys opened, its configuration read.
fn open_node(
    resolved: &Resolved,
    chain: &SharedChain,
    timing: &Timing,
) -> Result<(Node, Arc<Metrics>)> {
    let cluster = cluster_of(resolved)?;
    let authority = load_keypair(&resolved.keypair)?;
    let pass = keystore::passphrase(resolved.passphrase_file.as_deref())?;
    let store = KeyStore::open(&resolved.key_store, pass, authority.pubkey())?;
    let cfg = node_config(cluster, &resolved.file, timing)?;
    let metrics = Arc::new(Metrics::new());
    let node = Node::new(chain.clone(), authority, store, cfg, metrics.clone())?;
    Ok((node, metrics))
}

/// `register`: the node's transport key, once.
async fn register(resolved: &Resolved, chain: Option<&SharedChain>, out: Out<'_>) -> Result<()> {
    let cluster = cluster_of(resolved)?;
    let chain = chain_for(&resolved.url, chain)?;
    let (mut node, _) = open_node(resolved, &chain, &Timing::default())?;
    let state: medshare::state::Cluster = fetch(chain.as_ref(), &cluster)
        .await?
        .ok_or_else(|| anyhow!("cluster {cluster} not found"))?;
    let pos = state.position_of(&node.authority()).map_err(|_| {
        anyhow!(
            "this authority is not a node of the cluster yet: ask the admin to add {}",
            node.authority()
        )
    })?;
    if state.nodes[pos].registered {
        writeln!(out, "already registered as node {}", pos + 1)?;
    } else {
        node.register(pos).await?;
        writeln!(out, "registered as node {}", pos + 1)?;
    }
    Ok(())
}

/// `run`: the node until `shutdown`, with its metrics endpoint if asked.
async fn run(
    resolved: &Resolved,
    chain: Option<&SharedChain>,
    metrics_addr: Option<&str>,
    timing: &Timing,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    cluster_of(resolved)?;
    let chain = chain_for(&resolved.url, chain)?;
    let (node, metrics) = open_node(resolved, &chain, timing)?;
    if let Some(addr) = metrics_addr
        .map(str::to_string)
        .or(resolved.file.metrics_addr.clone())
    {
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("binding metrics endpoint {addr}"))?;
        tracing::info!(%addr, "metrics at /metrics");
        tokio::spawn(metrics::serve(listener, metrics));
    }
    node.run(shutdown).await?;
    Ok(())
}

/// `status`: the cluster, the DKG, pending work, the node records.
async fn status(resolved: &Resolved, chain: Option<&SharedChain>, out: Out<'_>) -> Result<()> {
    let cluster = cluster_of(resolved)?;
    let chain = chain_for(&resolved.url, chain)?;
    let me = load_keypair(&resolved.keypair)
        .ok()
        .map(|keypair| keypair.pubkey());
    print_status(chain.as_ref(), &cluster, me, out).await
}

/// `bench`: DKG time, share throughput and latency with real node tasks.
#[cfg(feature = "bench")]
async fn bench(
    cli: &Cli,
    mut opts: crate::bench::BenchOptions,
    no_dkg: bool,
    out: Out<'_>,
) -> Result<()> {
    if no_dkg {
        opts.dkg.clear();
    }
    // Only an endpoint named on the command line (or its environment
    // variable): never a default such as devnet.
    if let Some(url) = &cli.url {
        opts.url = Some(url.clone());
        opts.payer = cli.keypair.clone();
        if opts.payer.is_none() && rpc::resolve_url(url) != rpc::resolve_url("localnet") {
            tracing::warn!(%url, "no --keypair: funding from the endpoint's faucet (requestAirdrop)");
        }
    }
    // The embedded bank runs the program natively, and the Solana crates'
    // native `msg!` prints every program log line to stdout: silence fd 1
    // while the bench runs.
    let quiet = gag::Gag::stdout().ok();
    let report = crate::bench::run(&opts, |line| eprintln!("{line}")).await;
    drop(quiet);
    let report = report?;
    write!(out, "{}", crate::bench::render(&opts, &report))?;
    Ok(())
}

/// `cluster …`: the admin's commands, signed with `--keypair`.
async fn cluster(
    resolved: &Resolved,
    chain: Option<&SharedChain>,
    cmd: &ClusterCommand,
    out: Out<'_>,
) -> Result<()> {
    let chain = chain_for(&resolved.url, chain)?;
    let admin = load_keypair(&resolved.keypair)?;
    let named = || {
        resolved
            .cluster
            .ok_or_else(|| anyhow!("no cluster: pass --cluster"))
    };
    match cmd {
        ClusterCommand::Create {
            id,
            threshold,
            size,
            ttl_slots,
        } => {
            let created = medshare_sdk::admin::create_cluster(
                chain.as_ref(),
                &admin,
                *id,
                *threshold,
                *size,
                *ttl_slots,
            )
            .await?;
            writeln!(out, "cluster: {created}")?;
        }
        ClusterCommand::AddNode { authority } => {
            let cluster = named()?;
            medshare_sdk::admin::add_node(chain.as_ref(), &admin, &cluster, authority).await?;
            writeln!(out, "added {authority}")?;
        }
        ClusterCommand::RestartDkg => {
            let cluster = named()?;
            medshare_sdk::admin::restart_dkg(chain.as_ref(), &admin, &cluster).await?;
            writeln!(out, "DKG of {cluster} restarted; the nodes run it again")?;
        }
        ClusterCommand::ReplaceNode { index, authority } => {
            let cluster = named()?;
            medshare_sdk::admin::replace_node(chain.as_ref(), &admin, &cluster, *index, authority)
                .await?;
            writeln!(
                out,
                "node {index} of {cluster} is now {authority}; once it registers, the nodes run the DKG again"
            )?;
        }
        ClusterCommand::Retire => {
            let cluster = named()?;
            medshare_sdk::admin::retire_cluster(chain.as_ref(), &admin, &cluster).await?;
            writeln!(out, "cluster {cluster} retired")?;
        }
    }
    Ok(())
}

/// The `status` report.
async fn print_status(
    chain: &dyn Chain,
    cluster: &Pubkey,
    me: Option<Pubkey>,
    out: &mut (dyn std::io::Write + Send),
) -> Result<()> {
    let state: medshare::state::Cluster = fetch(chain, cluster)
        .await?
        .ok_or_else(|| anyhow!("cluster {cluster} not found"))?;
    writeln!(
        out,
        "cluster {cluster}: {:?}, {} of {}, {} nodes added",
        state.status,
        state.threshold,
        state.size,
        state.nodes.len()
    )?;
    if state.cluster_key != [0u8; 32] {
        writeln!(out, "cluster key: {}", hex::encode(state.cluster_key))?;
    }
    writeln!(
        out,
        "{:>3}  {:<44}  {:>4} {:>4} {:>6} {:>7} {:>7} {:>6}",
        "#", "authority", "reg", "r1", "r2", "conf", "contrib", "faults"
    )?;
    let records = crate::node::node_records(chain, cluster, state.nodes.len()).await?;
    for (i, (node, record)) in state.nodes.iter().zip(records).enumerate() {
        let mark = if Some(node.authority) == me { "*" } else { " " };
        let (contributions, faults) = record
            .map(|record| (record.contributions.to_string(), record.faults.to_string()))
            .unwrap_or_else(|| ("-".into(), "-".into()));
        writeln!(
            out,
            "{:>2}{mark}  {:<44}  {:>4} {:>4} {:>6} {:>7} {:>7} {:>6}",
            i + 1,
            node.authority.to_string(),
            node.registered,
            node.round1_posted,
            format!("{:#06x}", node.round2_sent),
            node.confirmed,
            contributions,
            faults
        )?;
    }
    for complaint in crate::node::judge_complaints(chain, cluster).await? {
        let verdict = match complaint.verdict {
            encrypted_ixs::dkg::Verdict::SenderFaulty { reason } => {
                format!("node {} is at fault ({reason})", complaint.accused)
            }
            encrypted_ixs::dkg::Verdict::ComplaintFalse => {
                format!(
                    "the complaint is false: node {} is at fault",
                    complaint.complainer
                )
            }
        };
        writeln!(
            out,
            "DKG complaint (attempt {}): node {} accuses node {}; {verdict}",
            state.dkg_attempt, complaint.complainer, complaint.accused
        )?;
    }
    let addrs: Vec<Pubkey> = (0..state.next_computation)
        .map(|k| medshare::pda::computation(cluster, k))
        .collect();
    let comps =
        medshare_sdk::chain::fetch_many::<medshare::state::Computation>(chain, &addrs).await?;
    let pending: Vec<_> = addrs
        .iter()
        .zip(comps)
        .filter_map(|(address, computation)| computation.map(|computation| (address, computation)))
        .collect();
    writeln!(out, "pending computations: {}", pending.len())?;
    for (address, comp) in pending {
        writeln!(
            out,
            "  {address}  groups {:?}  contributions {}/{}  faulty {:#06x}  expires at slot {}",
            comp.groups,
            comp.contributors.len(),
            state.threshold,
            comp.faulty,
            comp.expiry_slot
        )?;
    }
    Ok(())
}
