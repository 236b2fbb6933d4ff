//! A local cluster of real node tasks in this process (demo and tests), on
//! the embedded chain or any other [`medshare_sdk::chain::Chain`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use medshare::state::{Cluster, ClusterStatus};
use medshare_sdk::chain::{fetch, SharedChain};
use medshare_sdk::keystore::KeyStore;
use mpc_node::metrics::Metrics;
use mpc_node::{Behaviour, Node, NodeConfig};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use crate::error::{ClientError, Result};

/// One running node task.
pub struct NodeHandle {
    /// Its index (1-based).
    pub index: usize,
    /// Its authority.
    pub authority: Pubkey,
    /// Its authority keypair bytes (to restart it), zeroized on drop.
    keypair: Zeroizing<[u8; 64]>,
    /// Its key store file.
    pub key_store: std::path::PathBuf,
    /// Its metrics.
    pub metrics: Arc<Metrics>,
    /// How it behaves (kept across restarts).
    pub behaviour: Behaviour,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<std::result::Result<(), mpc_node::NodeError>>>,
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
    pub dir: std::path::PathBuf,
    passphrase: Zeroizing<String>,
    poll: Duration,
    contribution_fallback: Duration,
    callback_fallback: Duration,
    /// Time the DKG took.
    pub dkg_time: Duration,
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
        }
    }
}

impl LocalCluster {
    /// Creates the cluster, starts `n` node tasks and waits for the DKG.
    pub async fn start(shared: SharedChain, opts: ClusterOptions) -> Result<Self> {
        let admin = Keypair::new();
        shared.airdrop(&admin.pubkey(), 10_000_000_000).await?;
        let address = medshare_sdk::admin::create_cluster(
            shared.as_ref(),
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
        std::fs::create_dir_all(&dir).map_err(|e| ClientError::Io(e.to_string()))?;
        let mut pass = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut pass);
        let passphrase = Zeroizing::new(hex::encode(pass));
        let mut lc = LocalCluster {
            chain: shared.clone(),
            address,
            admin,
            nodes: vec![],
            dir,
            passphrase,
            poll: opts.poll,
            contribution_fallback: opts.contribution_fallback,
            callback_fallback: opts.callback_fallback,
            dkg_time: Duration::ZERO,
        };
        let start = Instant::now();
        for i in 1..=opts.n as usize {
            let authority = Keypair::new();
            shared.airdrop(&authority.pubkey(), 10_000_000_000).await?;
            medshare_sdk::admin::add_node(
                shared.as_ref(),
                &lc.admin,
                &address,
                &authority.pubkey(),
            )
            .await?;
            let key_store = lc.dir.join(format!("node-{i}.json"));
            KeyStore::create(&key_store, lc.passphrase.clone(), authority.pubkey())?;
            let behaviour = opts.behaviours.get(i - 1).copied().unwrap_or_default();
            let handle = lc.spawn(
                i,
                Zeroizing::new(authority.to_bytes()),
                key_store,
                behaviour,
            )?;
            lc.nodes.push(handle);
        }
        lc.wait_ready(Duration::from_secs(120)).await?;
        lc.dkg_time = start.elapsed();
        Ok(lc)
    }

    /// Opens node `index`'s (1-based) sealed key store, for inspection: what
    /// a node keeps at rest.
    pub fn key_store(&self, index: usize) -> Result<KeyStore> {
        let authority = self
            .nodes
            .get(index.wrapping_sub(1))
            .ok_or_else(|| ClientError::Invalid(format!("no node {index}")))?
            .authority;
        let path = self.dir.join(format!("node-{index}.json"));
        Ok(KeyStore::open(&path, self.passphrase.clone(), authority)?)
    }

    fn spawn(
        &self,
        index: usize,
        keypair: Zeroizing<[u8; 64]>,
        key_store: std::path::PathBuf,
        behaviour: Behaviour,
    ) -> Result<NodeHandle> {
        let authority = Keypair::try_from(keypair.as_slice())
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        let store = KeyStore::open(&key_store, self.passphrase.clone(), authority.pubkey())?;
        let mut cfg = NodeConfig::new(self.address);
        cfg.poll_interval = self.poll;
        cfg.callback_fallback = self.callback_fallback;
        cfg.contribution_fallback = self.contribution_fallback;
        cfg.behaviour = behaviour;
        let metrics = Arc::new(Metrics::new());
        let pubkey = authority.pubkey();
        let node = Node::new(self.chain.clone(), authority, store, cfg, metrics.clone())
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        let (stop, mut rx) = watch::channel(false);
        let task = tokio::spawn(node.run(async move {
            let _ = rx.wait_for(|s| *s).await;
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

    /// Waits until the cluster is ready.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            let c: Option<Cluster> = fetch(self.chain.as_ref(), &self.address).await?;
            match c.map(|c| c.status) {
                Some(ClusterStatus::Ready) => return Ok(()),
                Some(ClusterStatus::Failed) => {
                    return Err(ClientError::ClusterNotReady(format!(
                        "{} (DKG failed)",
                        self.address
                    )))
                }
                _ => {}
            }
            if start.elapsed() > timeout {
                return Err(ClientError::Timeout(timeout.as_secs()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops node `index` (1-based) and waits for its task to end.
    pub async fn stop(&mut self, index: usize) {
        let h = &mut self.nodes[index - 1];
        let _ = h.stop.send(true);
        if let Some(t) = h.task.take() {
            let _ = t.await;
        }
    }

    /// Kills node `index` abruptly (no graceful shutdown).
    pub async fn kill(&mut self, index: usize) {
        let h = &mut self.nodes[index - 1];
        if let Some(t) = h.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    /// Restarts a stopped or killed node from its key store, with the same behaviour.
    pub fn restart(&mut self, index: usize) -> Result<()> {
        let (keypair, key_store, behaviour) = {
            let h = &self.nodes[index - 1];
            (h.keypair.clone(), h.key_store.clone(), h.behaviour)
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
