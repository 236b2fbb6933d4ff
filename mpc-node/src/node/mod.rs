//! The node: DKG over the chain, contributions, callbacks.
//!
//! [`Node::tick`] reads the chain and does whatever this node owes: register,
//! the next DKG step, and for each pending computation the contribution or
//! callback its rank makes due (below), each started as a task of its own.
//! The chain is the source of truth, so a tick is idempotent and a restarted
//! node resumes where the chain says it is: it never contributes twice (it
//! checks the computation's contributor list before sending) and never
//! re-runs a finished DKG step.
//!
//! Who does what: for computation `id` a node's *rank* is its position
//! rotated by `id mod n`, so the work spreads over the cluster.
//!
//! - **Contributions.** The nodes of rank `< t + f` (`f`: nodes already found
//!   faulty on this computation) contribute at once; a node of rank `r` above
//!   that waits `(r − t − f + 1) ×` [`NodeConfig::contribution_fallback`]
//!   after it first saw the computation, and contributes only if the
//!   computation still lacks `t` contributions. With every node up and each
//!   contribution landing within the fallback delay, exactly `t`
//!   contributions are sent, none refused; a stopped node is covered after
//!   one fallback delay, a faulty one at once.
//! - **Callback.** The node whose contribution was the `t`-th posts the
//!   callback straight away (its transaction's `ContributionAccepted` event
//!   says so). Every other node of rank `r` posts it only if the computation
//!   is still open `(r + 1) ×` [`NodeConfig::callback_fallback`] after it
//!   saw `t` contributions, which covers a finisher that stopped.
//!
//! Reacting: the node subscribes to transactions that mention its cluster
//! ([`Chain::subscribe`](medshare_sdk::chain::Chain::subscribe)) and handles each
//! event as it lands (a request, a contribution, a rejection, a completion),
//! reading only the computation concerned. A full read of the chain every
//! poll interval, and whenever a fallback delay runs out, remains the source
//! of truth: lost notices cost latency, never correctness.
//!
//! Studies ([`studies`]): each tick also posts this node's partial
//! decryptions of every closed study and, with `t` complete, the release.

mod dkg;
mod jobs;
mod outcome;
mod queries;
mod scheduler;
mod studies;
mod subscription;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use encrypted_ixs::keys::NodeIndex;
use medshare::state::{Cluster, ClusterStatus};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use crate::metrics::Metrics;
use jobs::Worker;
use medshare_sdk::chain::{fetch, ChainError, SharedChain};
use medshare_sdk::keystore::{KeyStore, KeyStoreError};
use outcome::Outcome;
use scheduler::Tracked;

pub use dkg::ROUND2_PER_TX;
pub use medshare_sdk::chain::chain_time;
pub use queries::{
    authorized, judge_complaints, node_records, recipient_registry, JudgedComplaint,
};
pub use scheduler::{rank, MAX_JOBS, SCAN_BATCH};

/// Shortest back-off after a failure, whatever the poll interval.
pub const MIN_BACKOFF: Duration = Duration::from_millis(10);
/// First wait before subscribing again after a subscription failed or closed.
pub const RESUBSCRIBE_MIN: Duration = Duration::from_secs(1);
/// Longest wait between two attempts to subscribe.
pub const RESUBSCRIBE_MAX: Duration = Duration::from_secs(30);
/// How long an attempt to subscribe may take.
pub const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Closest spacing of full ticks called for by fallback or retry delays.
pub const MIN_TICK_SPACING: Duration = Duration::from_millis(50);
/// Longest back-off before a failed tick, contribution or callback is tried again.
pub const RETRY_MAX: Duration = Duration::from_secs(10);
/// How long a stopping node waits for its running tasks.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How a node behaves (tests only: a node that sends bad proofs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// Follows the protocol.
    #[default]
    Honest,
    /// Sends contributions whose proofs do not verify.
    #[cfg(feature = "fault-injection")]
    CorruptProofs,
    /// Sends callbacks with a wrong Lagrange coefficient.
    #[cfg(feature = "fault-injection")]
    BadCallbacks,
    /// Sends the lowest-indexed peer a DKG round-2 package that does not
    /// decrypt.
    #[cfg(feature = "fault-injection")]
    CorruptDkgPackage,
}

/// Tunables.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// The cluster this node serves.
    pub cluster: Pubkey,
    /// How often to read the chain.
    pub poll_interval: Duration,
    /// Delay per rank before a node that did not finish a computation posts its callback.
    pub callback_fallback: Duration,
    /// Delay per rank before a node beyond the first `t` contributes.
    pub contribution_fallback: Duration,
    /// Misbehaviour, for tests.
    pub behaviour: Behaviour,
}

impl NodeConfig {
    /// Defaults for a cluster: a full read every 400 ms (one slot), 2 s
    /// callback fallback and 1 s contribution fallback per rank.
    pub fn new(cluster: Pubkey) -> Self {
        NodeConfig {
            cluster,
            poll_interval: Duration::from_millis(400),
            callback_fallback: Duration::from_secs(2),
            contribution_fallback: Duration::from_secs(1),
            behaviour: Behaviour::Honest,
        }
    }
}

/// Node failures. Each is logged and the node keeps running, except where
/// [`NodeError::is_fatal`] says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// A chain call failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The key store failed.
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    /// The cluster account does not exist.
    #[error("cluster {0} not found on this chain")]
    ClusterNotFound(Pubkey),
    /// The DKG failed at this node (a participant is named when known).
    #[error("DKG failed: {0}")]
    Dkg(#[from] encrypted_ixs::Error),
    /// A study's partial decryption or noise could not be made (logged; the
    /// study is skipped this tick).
    #[error("study: {0}")]
    Study(encrypted_ixs::Error),
    /// The DKG state between rounds was lost (key store replaced mid-DKG).
    #[error("DKG state lost: the key store has no secret for a round this node already posted; the cluster admin must restart the DKG")]
    DkgStateLost,
    /// The cluster is ready but this node holds no key share.
    #[error("cluster is ready but this key store holds no key share for it")]
    NoKeyShare,
    /// The key store belongs to another cluster.
    #[error("this key store belongs to cluster {0}")]
    OtherCluster(Pubkey),
}

impl NodeError {
    /// Errors the node cannot recover from by waiting.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            NodeError::KeyStore(_) | NodeError::DkgStateLost | NodeError::OtherCluster(_)
        )
    }
}

/// What one tick did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Cluster status seen.
    pub status: Option<String>,
    /// Transactions sent for the DKG.
    pub dkg_steps: u32,
    /// Contribution tasks started.
    pub contributions: u32,
    /// Fallback callback tasks started.
    pub callbacks: u32,
    /// Partial-decryption and release transactions sent for studies.
    pub study_txs: u32,
}

/// A running node.
pub struct Node {
    chain: SharedChain,
    authority: Arc<Keypair>,
    store: KeyStore,
    cfg: NodeConfig,
    metrics: Arc<Metrics>,
    cursor: u64,
    /// The oldest study not yet released.
    study_cursor: u64,
    /// The cluster as last read (threshold, size and nodes are fixed once ready).
    cluster: Option<Cluster>,
    tracked: HashMap<Pubkey, Tracked>,
    /// Context of the contribution and callback tasks, once ready.
    worker: Option<Arc<Worker>>,
    /// Contribution and callback tasks running.
    jobs: JoinSet<Outcome>,
    /// Computations with a task running.
    inflight: HashSet<Pubkey>,
    /// The computation of each running task.
    job_addr: HashMap<tokio::task::Id, Pubkey>,
    /// Work was put off because [`MAX_JOBS`] tasks were running.
    rescan: bool,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("authority", &self.authority.pubkey())
            .field("cluster", &self.cfg.cluster)
            .finish()
    }
}

impl Node {
    /// A node for `cfg.cluster`, signing with `authority`, secrets in `store`.
    pub fn new(
        chain: SharedChain,
        authority: Keypair,
        store: KeyStore,
        cfg: NodeConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Self, NodeError> {
        let bound = Pubkey::new_from_array(store.secrets.cluster);
        if bound != Pubkey::default() && bound != cfg.cluster {
            return Err(NodeError::OtherCluster(bound));
        }
        Ok(Node {
            chain,
            store,
            cfg,
            metrics,
            authority: Arc::new(authority),
            cursor: 0,
            study_cursor: 0,
            cluster: None,
            tracked: HashMap::new(),
            worker: None,
            jobs: JoinSet::new(),
            inflight: HashSet::new(),
            job_addr: HashMap::new(),
            rescan: false,
        })
    }

    /// This node's authority.
    pub fn authority(&self) -> Pubkey {
        self.authority.pubkey()
    }

    /// The metrics.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Runs until `shutdown` resolves: a full tick every poll interval and
    /// whenever a fallback delay runs out, and in between the events of
    /// every transaction that mentions the cluster as it lands. Errors are
    /// logged and retried with backoff; fatal ones end the loop.
    pub async fn run(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), NodeError> {
        tokio::pin!(shutdown);
        info!(node = %self.authority.pubkey(), cluster = %self.cfg.cluster, "node started");
        let mut subscription = subscription::Subscription::new();
        let mut backoff = self.cfg.poll_interval.max(MIN_BACKOFF);
        let mut next_tick = Instant::now();
        let mut last_tick = Instant::now();
        let mut failing = false;
        // Full ticks called for by a fallback or retry delay come no closer together than this.
        let spacing = self.cfg.poll_interval.clamp(MIN_BACKOFF, MIN_TICK_SPACING);
        loop {
            subscription
                .ensure(&self.chain, &self.cfg.cluster, &self.metrics)
                .await;
            if Instant::now() >= next_tick {
                last_tick = Instant::now();
                let result = self.tick().await;
                failing = result.is_err();
                next_tick = Instant::now()
                    + match result {
                        Ok(report) => {
                            if report.dkg_steps
                                + report.contributions
                                + report.callbacks
                                + report.study_txs
                                > 0
                            {
                                debug!(?report, "tick");
                            }
                            backoff = self.cfg.poll_interval.max(MIN_BACKOFF);
                            self.cfg.poll_interval
                        }
                        Err(e) if e.is_fatal() => {
                            warn!(error = %e, "stopping");
                            return Err(e);
                        }
                        Err(e) => {
                            self.metrics.chain_errors.inc();
                            warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "tick failed; will retry");
                            let wait = backoff;
                            backoff = (backoff * 2).min(RETRY_MAX);
                            wait
                        }
                    };
            }
            self.metrics.tasks_running.set(self.jobs.len() as i64);
            // A fallback delay that runs out calls for a full tick, unless
            // ticks are failing (then only the backoff decides).
            let wake = match self.next_deadline() {
                Some(deadline) if !failing => deadline.max(last_tick + spacing).min(next_tick),
                _ => next_tick,
            };
            let wake = subscription.retry_at().map_or(wake, |at| wake.min(at));
            tokio::select! {
                _ = &mut shutdown => {
                    info!(node = %self.authority.pubkey(), running = self.jobs.len(), "shutting down");
                    // Let transactions already sent be confirmed (the chain keeps them either way).
                    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
                        while let Some(done) = self.jobs.join_next().await {
                            if let Ok(out) = done {
                                self.apply(out);
                            }
                        }
                    })
                    .await;
                    return Ok(());
                }
                Some(done) = self.jobs.join_next_with_id(), if !self.jobs.is_empty() => {
                    match done {
                        Ok((id, out)) => {
                            self.job_addr.remove(&id);
                            self.apply(out);
                        }
                        Err(e) => {
                            // A task that panicked: its computation is free for the next tick.
                            if let Some(addr) = self.job_addr.remove(&e.id()) {
                                self.inflight.remove(&addr);
                                self.failed(&addr);
                            }
                            warn!(error = %e, "a contribution or callback task failed");
                        }
                    }
                    if self.rescan && self.jobs.len() < MAX_JOBS / 2 {
                        self.rescan = false;
                        next_tick = Instant::now();
                    }
                }
                _ = tokio::time::sleep_until(wake.into()) => {
                    next_tick = next_tick.min(wake);
                }
                batch = subscription.next() => match batch {
                    Some(batch) => {
                        self.metrics.notices.inc_by(batch.len() as u64);
                        match self.on_notices(&batch).await {
                            Ok(()) => {}
                            Err(e) if e.is_fatal() => {
                                warn!(error = %e, "stopping");
                                return Err(e);
                            }
                            Err(e) => {
                                self.metrics.chain_errors.inc();
                                warn!(error = %e, "handling the cluster's transactions failed; the next tick retries");
                            }
                        }
                    }
                    None => subscription.closed(&self.metrics),
                },
            }
        }
    }

    /// Reads the chain once and does what this node owes.
    pub async fn tick(&mut self) -> Result<TickReport, NodeError> {
        let mut report = TickReport::default();
        let cluster: Cluster = fetch(self.chain.as_ref(), &self.cfg.cluster)
            .await?
            .ok_or(NodeError::ClusterNotFound(self.cfg.cluster))?;
        report.status = Some(format!("{:?}", cluster.status));
        self.cluster = Some(cluster.clone());
        let Ok(pos) = cluster.position_of(&self.authority.pubkey()) else {
            debug!("not (yet) a node of this cluster");
            return Ok(report);
        };
        match cluster.status {
            ClusterStatus::Registering => {
                if !cluster.nodes[pos].registered {
                    self.register(pos).await?;
                    report.dkg_steps += 1;
                }
            }
            ClusterStatus::Dkg => report.dkg_steps += self.dkg_step(&cluster, pos).await?,
            ClusterStatus::Ready => {
                self.serve(&cluster, pos, &mut report).await?;
                report.study_txs += self.serve_studies(&cluster, pos).await?;
            }
            ClusterStatus::Failed => {
                debug!("cluster DKG failed; waiting for the admin to restart it")
            }
            ClusterStatus::Retired => debug!("cluster retired; nothing to do"),
        }
        Ok(report)
    }
}

impl From<encrypted_ixs::node_index::InvalidNodeIndex> for NodeError {
    fn from(e: encrypted_ixs::node_index::InvalidNodeIndex) -> Self {
        NodeError::Dkg(e.into())
    }
}

/// The node index at cluster position `pos` (node `i` sits at position
/// `i − 1`); refused beyond [`encrypted_ixs::MAX_NODES`].
fn index_of(pos: usize) -> Result<NodeIndex, NodeError> {
    Ok(NodeIndex::new((pos + 1) as u16)?)
}

/// The bit of node `index` in the chain's per-node masks (bit `i − 1` for
/// node `i`: round-2 packages sent, faulty contributions).
fn mask_bit(index: NodeIndex) -> u16 {
    1 << (index.get() - 1)
}
