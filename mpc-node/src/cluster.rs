//! A local cluster of real node tasks in this process: the demo, the tests
//! and `mpc-node bench` run one, on the embedded chain or on any other
//! [`Chain`](medshare_sdk::chain::Chain).
//!
//! [`LocalCluster::launch`] creates the cluster, funds and adds `n` node
//! authorities, gives each a sealed key store and starts its [`Node`] task;
//! [`LocalCluster::wait_ready`] waits for the DKG they run through the
//! chain. [`LocalCluster::start`] does both.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use medshare::state::{Cluster, ClusterStatus};
use medshare_sdk::chain::{fetch, ChainError, SharedChain};
use medshare_sdk::keystore::{KeyStore, KeyStoreError};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use crate::metrics::Metrics;
use crate::{Behaviour, Node, NodeConfig, NodeError};

/// Lamports each node authority and the admin get by default.
pub const NODE_FUNDS: u64 = 10_000_000_000;

/// Why a local cluster could not start or be driven.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The chain refused or could not be reached.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A node's key store.
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    /// A node could not be built.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The key-store directory.
    #[error("{0}")]
    Io(String),
    /// The nodes' DKG failed (a complaint, or a node's confirmation disagreed).
    #[error("cluster {0} is not ready (DKG failed)")]
    DkgFailed(Pubkey),
    /// The DKG did not finish in time.
    #[error("cluster {cluster} not ready after {} s", .after.as_secs())]
    NotReady {
        /// The cluster.
        cluster: Pubkey,
        /// How long it was given.
        after: Duration,
    },
    /// A node task ended while the others waited for it.
    #[error("node {0} stopped during the DKG")]
    NodeStopped(Pubkey),
    /// No node with this (1-based) index.
    #[error("no node {0}")]
    NoSuchNode(usize),
}

/// Where the cluster's accounts get their lamports.
pub enum Funding {
    /// The chain's faucet (embedded, localnet, devnet airdrops).
    Faucet,
    /// Transfers from a funded keypair.
    Payer(Box<Keypair>),
}

impl Funding {
    /// Sends `lamports` to `to`.
    pub async fn fund(
        &self,
        chain: &SharedChain,
        to: &Pubkey,
        lamports: u64,
    ) -> Result<(), ChainError> {
        match self {
            Funding::Faucet => chain.airdrop(to, lamports).await,
            Funding::Payer(payer) => {
                let ix = anchor_lang::solana_program::system_instruction::transfer(
                    &payer.pubkey(),
                    to,
                    lamports,
                );
                chain.send(&[ix], &[payer.as_ref()]).await.map(|_| ())
            }
        }
    }
}

/// Options for [`LocalCluster::start`].
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// Threshold.
    pub t: u8,
    /// Size.
    pub n: u8,
    /// Cluster id.
    pub id: u32,
    /// Computation lifetime.
    pub ttl_slots: u64,
    /// Node poll interval.
    pub poll: Duration,
    /// Node contribution fallback per rank.
    pub contribution_fallback: Duration,
    /// Node callback fallback per rank.
    pub callback_fallback: Duration,
    /// Per-node behaviour (index 0 = node 1); missing entries are honest.
    pub behaviours: Vec<Behaviour>,
    /// How often [`LocalCluster::wait_ready`] reads the cluster.
    pub ready_poll: Duration,
    /// How long [`LocalCluster::start`] waits for the DKG.
    pub ready_timeout: Duration,
    /// Lamports for the admin and for each node authority.
    pub funds: u64,
}

impl ClusterOptions {
    /// `t` of `n` with demo defaults.
    pub fn new(t: u8, n: u8) -> Self {
        ClusterOptions {
            t,
            n,
            id: 0,
            ttl_slots: medshare_sdk::admin::DEFAULT_TTL_SLOTS,
            poll: Duration::from_millis(50),
            contribution_fallback: Duration::from_millis(250),
            callback_fallback: Duration::from_millis(500),
            behaviours: vec![],
            ready_poll: Duration::from_millis(50),
            ready_timeout: Duration::from_secs(120),
            funds: NODE_FUNDS,
        }
    }
}

/// One running node task.
pub struct NodeHandle {
    /// Its index (1-based).
    pub index: usize,
    /// Its authority.
    pub authority: Pubkey,
    /// Its authority keypair bytes (to restart it), zeroized on drop.
    keypair: Zeroizing<[u8; 64]>,
    /// Its key store file.
    pub key_store: PathBuf,
    /// Its metrics.
    pub metrics: Arc<Metrics>,
    /// How it behaves (kept across restarts).
    pub behaviour: Behaviour,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<Result<(), NodeError>>>,
}

/// A cluster of node tasks.
pub struct LocalCluster {
    /// The chain.
    pub chain: SharedChain,
    /// Cluster address.
    pub address: Pubkey,
    /// The admin.
    pub admin: Keypair,
    /// Node tasks.
    pub nodes: Vec<NodeHandle>,
    /// Directory of the key stores.
    pub dir: PathBuf,
    passphrase: Zeroizing<String>,
    opts: ClusterOptions,
    /// Time the DKG took, from the cluster's creation to ready.
    pub dkg_time: Duration,
    /// Of that, creating and opening the key stores (Argon2id).
    pub key_store_time: Duration,
    /// Of that, from the last node's start to ready (the protocol itself).
    pub protocol_time: Duration,
    started: Instant,
    spawned: Instant,
}

impl LocalCluster {
    /// Creates the cluster, starts `n` node tasks (funded from the faucet)
    /// and waits for the DKG.
    pub async fn start(chain: SharedChain, opts: ClusterOptions) -> Result<Self, ClusterError> {
        let timeout = opts.ready_timeout;
        let mut lc = Self::launch(chain, opts, &Funding::Faucet).await?;
        lc.wait_ready(timeout, || {}).await?;
        Ok(lc)
    }

    /// Creates the cluster and starts its node tasks without waiting for
    /// the DKG.
    pub async fn launch(
        chain: SharedChain,
        opts: ClusterOptions,
        funding: &Funding,
    ) -> Result<Self, ClusterError> {
        let admin = Keypair::new();
        funding.fund(&chain, &admin.pubkey(), opts.funds).await?;
        let started = Instant::now();
        let address = medshare_sdk::admin::create_cluster(
            chain.as_ref(),
            &admin,
            opts.id,
            opts.t,
            opts.n,
            opts.ttl_slots,
        )
        .await?;
        let dir = std::env::temp_dir().join(format!(
            "medshare-cluster-{}-{}",
            std::process::id(),
            address
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| ClusterError::Io(format!("{}: {e}", dir.display())))?;
        let mut pass = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut pass);
        let mut lc = LocalCluster {
            chain: chain.clone(),
            address,
            admin,
            nodes: vec![],
            dir,
            passphrase: Zeroizing::new(hex::encode(pass)),
            opts: opts.clone(),
            dkg_time: Duration::ZERO,
            key_store_time: Duration::ZERO,
            protocol_time: Duration::ZERO,
            started,
            spawned: started,
        };
        for i in 1..=opts.n as usize {
            let authority = Keypair::new();
            funding
                .fund(&chain, &authority.pubkey(), opts.funds)
                .await?;
            medshare_sdk::admin::add_node(chain.as_ref(), &lc.admin, &address, &authority.pubkey())
                .await?;
            let key_store = lc.dir.join(format!("node-{i}.json"));
            let k0 = Instant::now();
            KeyStore::create(&key_store, lc.passphrase.clone(), authority.pubkey())?;
            lc.key_store_time += k0.elapsed();
            let behaviour = opts.behaviours.get(i - 1).copied().unwrap_or_default();
            let handle = lc.spawn(
                i,
                Zeroizing::new(authority.to_bytes()),
                key_store,
                behaviour,
            )?;
            lc.nodes.push(handle);
        }
        lc.spawned = Instant::now();
        Ok(lc)
    }

    /// Opens node `index`'s (1-based) sealed key store, for inspection: what
    /// a node keeps at rest.
    pub fn key_store(&self, index: usize) -> Result<KeyStore, ClusterError> {
        let authority = self
            .nodes
            .get(index.wrapping_sub(1))
            .ok_or(ClusterError::NoSuchNode(index))?
            .authority;
        let path = self.dir.join(format!("node-{index}.json"));
        Ok(KeyStore::open(&path, self.passphrase.clone(), authority)?)
    }

    fn spawn(
        &mut self,
        index: usize,
        keypair: Zeroizing<[u8; 64]>,
        key_store: PathBuf,
        behaviour: Behaviour,
    ) -> Result<NodeHandle, ClusterError> {
        let authority = Keypair::try_from(keypair.as_slice())
            .map_err(|e| ClusterError::Io(format!("node {index} keypair: {e}")))?;
        // Opened as a restarting node opens it (one Argon2id derivation).
        let k0 = Instant::now();
        let store = KeyStore::open(&key_store, self.passphrase.clone(), authority.pubkey())?;
        self.key_store_time += k0.elapsed();
        let mut cfg = NodeConfig::new(self.address);
        cfg.poll_interval = self.opts.poll;
        cfg.callback_fallback = self.opts.callback_fallback;
        cfg.contribution_fallback = self.opts.contribution_fallback;
        cfg.behaviour = behaviour;
        let metrics = Arc::new(Metrics::new());
        let pubkey = authority.pubkey();
        let node = Node::new(self.chain.clone(), authority, store, cfg, metrics.clone())?;
        let (stop, mut rx) = watch::channel(false);
        let task = tokio::spawn(node.run(async move {
            let _ = rx.wait_for(|stopped| *stopped).await;
        }));
        Ok(NodeHandle {
            index,
            authority: pubkey,
            keypair,
            key_store,
            metrics,
            behaviour,
            stop,
            task: Some(task),
        })
    }

    /// Waits until the cluster is ready, calling `on_poll` at every read;
    /// records [`dkg_time`](Self::dkg_time) and
    /// [`protocol_time`](Self::protocol_time).
    pub async fn wait_ready(
        &mut self,
        timeout: Duration,
        mut on_poll: impl FnMut(),
    ) -> Result<(), ClusterError> {
        let start = Instant::now();
        loop {
            let account: Option<Cluster> = fetch(self.chain.as_ref(), &self.address).await?;
            on_poll();
            match account.map(|account| account.status) {
                Some(ClusterStatus::Ready) => {
                    self.dkg_time = self.started.elapsed();
                    self.protocol_time = self.spawned.elapsed();
                    return Ok(());
                }
                Some(ClusterStatus::Failed) => return Err(ClusterError::DkgFailed(self.address)),
                _ => {}
            }
            if start.elapsed() > timeout {
                return Err(ClusterError::NotReady {
                    cluster: self.address,
                    after: timeout,
                });
            }
            if let Some(node) = self
                .nodes
                .iter()
                .find(|node| node.task.as_ref().is_some_and(|task| task.is_finished()))
            {
                return Err(ClusterError::NodeStopped(node.authority));
            }
            tokio::time::sleep(self.opts.ready_poll).await;
        }
    }

    /// The sum of one metric over every node.
    pub fn metric_sum(&self, f: impl Fn(&Metrics) -> u64) -> u64 {
        self.nodes.iter().map(|node| f(&node.metrics)).sum()
    }

    /// Stops node `index` (1-based) and waits for its task to end.
    pub async fn stop(&mut self, index: usize) {
        let handle = &mut self.nodes[index - 1];
        let _ = handle.stop.send(true);
        if let Some(task) = handle.task.take() {
            let _ = task.await;
        }
    }

    /// Kills node `index` abruptly (no graceful shutdown).
    pub async fn kill(&mut self, index: usize) {
        let handle = &mut self.nodes[index - 1];
        if let Some(task) = handle.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Restarts a stopped or killed node from its key store, with the same behaviour.
    pub fn restart(&mut self, index: usize) -> Result<(), ClusterError> {
        let (keypair, key_store, behaviour) = {
            let handle = self
                .nodes
                .get(index.wrapping_sub(1))
                .ok_or(ClusterError::NoSuchNode(index))?;
            (
                handle.keypair.clone(),
                handle.key_store.clone(),
                handle.behaviour,
            )
        };
        let handle = self.spawn(index, keypair, key_store, behaviour)?;
        self.nodes[index - 1] = handle;
        Ok(())
    }

    /// Stops every node and removes the key stores.
    pub async fn shutdown(mut self) {
        for i in 1..=self.nodes.len() {
            self.stop(i).await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
