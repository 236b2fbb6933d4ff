//! The bench's node clusters (what `LocalCluster` does, reduced to the
//! bench's needs) and the isolated costs measured on one of them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use encrypted_ixs::keys::{NodeIndex, UserSecretKey};
use encrypted_ixs::point::Point;
use encrypted_ixs::reencrypt::{self, ComputationContext, Statement};
use medshare::state::{Cluster, ClusterStatus};
use rand_core::{OsRng, RngCore};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use super::shares::edwards;
use super::{
    BenchOptions, CostFigures, DkgFigure, Funding, Summary, Watchdog, BENCH_TTL_SLOTS, NODE_FUNDS,
    STEP_TIMEOUT,
};
use crate::metrics::Metrics;
use crate::{Node, NodeConfig, NodeError};
use medshare_sdk::chain::{fetch, SharedChain};
use medshare_sdk::keystore::KeyStore;

struct BenchNode {
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), NodeError>>,
    metrics: Arc<Metrics>,
    key_store: PathBuf,
    authority: Pubkey,
}

/// A cluster of node tasks (what `LocalCluster` does, reduced to the bench's needs).
pub(super) struct BenchCluster {
    chain: SharedChain,
    pub(super) address: Pubkey,
    nodes: Vec<BenchNode>,
    dir: PathBuf,
    passphrase: Zeroizing<String>,
}

impl BenchCluster {
    pub(super) async fn start(
        chain: SharedChain,
        id: u32,
        (t, n): (u8, u8),
        opts: &BenchOptions,
        wd: &Watchdog,
        funding: &Funding,
    ) -> Result<(BenchCluster, DkgFigure)> {
        let admin = Keypair::new();
        funding.fund(&chain, &admin.pubkey(), NODE_FUNDS).await?;
        let start = Instant::now();
        let address =
            medshare_sdk::admin::create_cluster(chain.as_ref(), &admin, id, t, n, BENCH_TTL_SLOTS)
                .await?;
        let dir =
            std::env::temp_dir().join(format!("mpc-node-bench-{}-{address}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut pass = [0u8; 16];
        OsRng.fill_bytes(&mut pass);
        let mut lc = BenchCluster {
            chain: chain.clone(),
            address,
            nodes: vec![],
            dir,
            passphrase: Zeroizing::new(hex::encode(pass)),
        };
        let mut key_stores = Duration::ZERO;
        for i in 1..=n as usize {
            let authority = Keypair::new();
            funding
                .fund(&chain, &authority.pubkey(), NODE_FUNDS)
                .await?;
            medshare_sdk::admin::add_node(chain.as_ref(), &admin, &address, &authority.pubkey())
                .await?;
            let path = lc.dir.join(format!("node-{i}.json"));
            let k0 = Instant::now();
            // As `LocalCluster`: create the store, then open it as a restarting node would.
            drop(KeyStore::create(
                &path,
                lc.passphrase.clone(),
                authority.pubkey(),
            )?);
            let store = KeyStore::open(&path, lc.passphrase.clone(), authority.pubkey())?;
            key_stores += k0.elapsed();
            let mut cfg = NodeConfig::new(address);
            cfg.poll_interval = opts.poll;
            cfg.callback_fallback = opts.callback_fallback;
            cfg.contribution_fallback = opts.contribution_fallback;
            let metrics = Arc::new(Metrics::new());
            let pubkey = authority.pubkey();
            let node = Node::new(chain.clone(), authority, store, cfg, metrics.clone())?;
            let (stop, mut rx) = watch::channel(false);
            let task = tokio::spawn(node.run(async move {
                let _ = rx.wait_for(|s| *s).await;
            }));
            lc.nodes.push(BenchNode {
                stop,
                task,
                metrics,
                key_store: path,
                authority: pubkey,
            });
        }
        let spawned = Instant::now();
        lc.wait_ready(wd).await?;
        let figure = DkgFigure {
            t,
            n,
            total: start.elapsed(),
            key_stores,
            protocol: spawned.elapsed(),
        };
        Ok((lc, figure))
    }

    async fn wait_ready(&self, wd: &Watchdog) -> Result<()> {
        let start = Instant::now();
        loop {
            let c: Option<Cluster> = fetch(self.chain.as_ref(), &self.address).await?;
            wd.progress();
            match c.map(|c| c.status) {
                Some(ClusterStatus::Ready) => return Ok(()),
                Some(ClusterStatus::Failed) => bail!("cluster {} DKG failed", self.address),
                _ => {}
            }
            if start.elapsed() > STEP_TIMEOUT {
                bail!("cluster {} not ready after {STEP_TIMEOUT:?}", self.address);
            }
            for n in &self.nodes {
                if n.task.is_finished() {
                    bail!("node {} stopped during the DKG", n.authority);
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    pub(super) fn metric_sum(&self, f: impl Fn(&Metrics) -> u64) -> u64 {
        self.nodes.iter().map(|n| f(&n.metrics)).sum()
    }

    pub(super) async fn shutdown(self) {
        for n in self.nodes {
            let _ = n.stop.send(true);
            let _ = n.task.await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Isolated costs: one contribution's proof and its verification, one
/// key-store key derivation, one transfer on the embedded chain.
pub(super) async fn costs(
    chain: &SharedChain,
    lc: &BenchCluster,
    funding: &Funding,
) -> Result<CostFigures> {
    let node = &lc.nodes[0];
    let a0 = Instant::now();
    let store = KeyStore::open(&node.key_store, lc.passphrase.clone(), node.authority)?;
    let argon2 = a0.elapsed();
    let share = store
        .secrets
        .key_share()
        .ok_or_else(|| anyhow!("node 1 has no key share"))?;
    let c: Cluster = fetch(chain.as_ref(), &lc.address)
        .await?
        .ok_or_else(|| anyhow!("cluster not found"))?;
    let recipient = edwards(&UserSecretKey::generate(&mut OsRng))?;
    let capsule_e = edwards(&UserSecretKey::generate(&mut OsRng))?;
    let ctx = ComputationContext {
        program_id: medshare::ID.to_bytes(),
        cluster: lc.address.to_bytes(),
        computation: Pubkey::new_unique().to_bytes(),
        group: 1,
    };
    const ROUNDS: u32 = 200;
    let p0 = Instant::now();
    let mut last = None;
    for _ in 0..ROUNDS {
        last = Some(
            reencrypt::contribute(&mut OsRng, &share, &ctx, &recipient, &capsule_e)
                .map_err(|e| anyhow!("contribute: {e}"))?,
        );
    }
    let prove = p0.elapsed() / ROUNDS;
    let contribution = last.ok_or_else(|| anyhow!("no contribution"))?;
    let v = Point(c.nodes[0].verification_share);
    let st = Statement {
        ctx: &ctx,
        node: NodeIndex::new(1).map_err(|e| anyhow!("{e}"))?,
        recipient: &recipient,
        capsule_e: &capsule_e,
        verification_share: &v,
    };
    let v0 = Instant::now();
    for _ in 0..ROUNDS {
        reencrypt::verify_contribution(&st, &contribution).map_err(|e| anyhow!("verify: {e}"))?;
    }
    let verify = v0.elapsed() / ROUNDS;
    let payer = Keypair::new();
    funding.fund(chain, &payer.pubkey(), 1_000_000_000).await?;
    let to = Pubkey::new_unique();
    let mut transfers = Vec::new();
    for i in 0..50u64 {
        // Distinct amounts: identical transfers within one blockhash would be duplicates.
        let ix = anchor_lang::solana_program::system_instruction::transfer(
            &payer.pubkey(),
            &to,
            1_000_000 + i,
        );
        let t0 = Instant::now();
        chain.send(&[ix], &[&payer]).await?;
        transfers.push(t0.elapsed());
    }
    Ok(CostFigures {
        prove,
        verify,
        argon2,
        transfer: Summary::of(transfers),
    })
}
