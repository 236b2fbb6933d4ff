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
    let r = resolve(cli)?;
    match &cli.command {
        Command::Init => init(&r, out),
        Command::Register => register(&r, chain, out).await,
        Command::Run {
            metrics_addr,
            timing,
        } => run(&r, chain, metrics_addr.as_deref(), timing, shutdown).await,
        Command::Status => status(&r, chain, out).await,
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
        Command::Cluster(cmd) => cluster(&r, chain, cmd, out).await,
    }
}

/// The cluster named by `--cluster` or the config file.
fn cluster_of(r: &Resolved) -> Result<Pubkey> {
    r.cluster
        .ok_or_else(|| anyhow!("no cluster: pass --cluster or set it in the config"))
}

/// `init`: the authority keypair (unless one exists) and the sealed key store.
fn init(r: &Resolved, out: Out<'_>) -> Result<()> {
    if let Some(dir) = r.key_store.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let authority = if r.keypair.exists() {
        load_keypair(&r.keypair)?
    } else {
        if let Some(dir) = r.keypair.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let keypair = Keypair::new();
        let json = serde_json::to_string(&keypair.to_bytes().to_vec())?;
        keystore::write_private(&r.keypair, json.as_bytes())
            .with_context(|| format!("writing {}", r.keypair.display()))?;
        keypair
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
    Ok(())
}

/// The node of `register` and `run`: its keys opened, its configuration read.
fn open_node(r: &Resolved, chain: &SharedChain, timing: &Timing) -> Result<(Node, Arc<Metrics>)> {
    let cluster = cluster_of(r)?;
    let authority = load_keypair(&r.keypair)?;
    let pass = keystore::passphrase(r.passphrase_file.as_deref())?;
    let store = KeyStore::open(&r.key_store, pass, authority.pubkey())?;
    let cfg = node_config(cluster, &r.file, timing)?;
    let metrics = Arc::new(Metrics::new());
    let node = Node::new(chain.clone(), authority, store, cfg, metrics.clone())?;
    Ok((node, metrics))
}

/// `register`: the node's transport key, once.
async fn register(r: &Resolved, chain: Option<&SharedChain>, out: Out<'_>) -> Result<()> {
    let cluster = cluster_of(r)?;
    let chain = chain_for(&r.url, chain)?;
    let (mut node, _) = open_node(r, &chain, &Timing::default())?;
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
    r: &Resolved,
    chain: Option<&SharedChain>,
    metrics_addr: Option<&str>,
    timing: &Timing,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    cluster_of(r)?;
    let chain = chain_for(&r.url, chain)?;
    let (node, metrics) = open_node(r, &chain, timing)?;
    if let Some(addr) = metrics_addr
        .map(str::to_string)
        .or(r.file.metrics_addr.clone())
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
async fn status(r: &Resolved, chain: Option<&SharedChain>, out: Out<'_>) -> Result<()> {
    let cluster = cluster_of(r)?;
    let chain = chain_for(&r.url, chain)?;
    let me = load_keypair(&r.keypair).ok().map(|k| k.pubkey());
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
    r: &Resolved,
    chain: Option<&SharedChain>,
    cmd: &ClusterCommand,
    out: Out<'_>,
) -> Result<()> {
    let chain = chain_for(&r.url, chain)?;
    let admin = load_keypair(&r.keypair)?;
    let named = || {
        r.cluster
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
