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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use encrypted_ixs::dkg::{self, DkgParams, EncryptedRound2, Peer};
use encrypted_ixs::keys::{NodeIndex, TransportPublic, TransportSecret};
use encrypted_ixs::point::Point;
use encrypted_ixs::reencrypt::{self, ComputationContext};
use medshare::error::MedshareError;
use medshare::events::{
    ContributionAccepted, ContributionRejected, ShareCancelled, ShareCompleted, ShareRequested,
};
use medshare::state::{Cluster, ClusterStatus, Computation, DkgMailbox};
use medshare_sdk::events::events;
use medshare_sdk::ix;
use rand_core::OsRng;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};
use zeroize::Zeroizing;

use crate::metrics::Metrics;
use medshare_sdk::chain::{fetch, fetch_many, ChainError, Notice, Notices, SharedChain};
use medshare_sdk::keystore::{KeyStore, KeyStoreError};

/// Round-2 packages per transaction (5 × ~85 bytes stays well under 1,232).
pub const ROUND2_PER_TX: usize = 5;
/// Computations read per batch while scanning.
pub const SCAN_BATCH: u64 = 64;
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
}

/// What a node remembers of a pending computation (forgotten once it is
/// finalized, cancelled or expired).
#[derive(Clone, Copy, Debug)]
struct Tracked {
    /// This node's rank for it.
    rank: u32,
    /// When this node first saw it.
    first_seen: Instant,
    /// When this node first saw `t` contributions.
    ready_seen: Option<Instant>,
    /// Faulty-node mask last seen.
    faults: u16,
    /// Whether this node has nothing more to contribute (it did, it was
    /// found faulty, or the request is not authorized).
    settled: bool,
    /// Consecutive failed tasks (contribution or callback).
    failures: u32,
    /// After a failed task: no new task before this.
    retry_at: Option<Instant>,
}

/// A running node.
pub struct Node {
    chain: SharedChain,
    authority: Arc<Keypair>,
    store: KeyStore,
    cfg: NodeConfig,
    metrics: Arc<Metrics>,
    cursor: u64,
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
        let mut notices = None;
        let mut resubscribe_in = RESUBSCRIBE_MIN;
        let mut resubscribe_at = Some(Instant::now());
        let mut backoff = self.cfg.poll_interval.max(MIN_BACKOFF);
        let mut next_tick = Instant::now();
        let mut last_tick = Instant::now();
        let mut failing = false;
        // Full ticks called for by a fallback or retry delay come no closer together than this.
        let spacing = self.cfg.poll_interval.clamp(MIN_BACKOFF, MIN_TICK_SPACING);
        loop {
            if resubscribe_at.is_some_and(|at| Instant::now() >= at) {
                // Subscribe (again): polling carries on meanwhile.
                match tokio::time::timeout(
                    SUBSCRIBE_TIMEOUT,
                    self.chain.subscribe(&self.cfg.cluster),
                )
                .await
                {
                    Ok(Ok(rx)) => {
                        info!("subscribed to the cluster's transactions");
                        self.metrics.subscription_up.set(1);
                        notices = Some(rx);
                        resubscribe_at = None;
                        resubscribe_in = RESUBSCRIBE_MIN;
                    }
                    failed => {
                        let error = match failed {
                            Ok(Err(e)) => e.to_string(),
                            _ => "timed out".to_string(),
                        };
                        warn!(%error, retry_in_s = resubscribe_in.as_secs(), "no subscription to the cluster's transactions; polling only");
                        resubscribe_at = Some(Instant::now() + resubscribe_in);
                        resubscribe_in = (resubscribe_in * 2).min(RESUBSCRIBE_MAX);
                    }
                }
            }
            if Instant::now() >= next_tick {
                last_tick = Instant::now();
                let result = self.tick().await;
                failing = result.is_err();
                next_tick = Instant::now()
                    + match result {
                        Ok(report) => {
                            if report.dkg_steps + report.contributions + report.callbacks > 0 {
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
                            let w = backoff;
                            backoff = (backoff * 2).min(RETRY_MAX);
                            w
                        }
                    };
            }
            self.metrics.tasks_running.set(self.jobs.len() as i64);
            // A fallback delay that runs out calls for a full tick, unless
            // ticks are failing (then only the backoff decides).
            let wake = match self.next_deadline() {
                Some(d) if !failing => d.max(last_tick + spacing).min(next_tick),
                _ => next_tick,
            };
            let wake = resubscribe_at.map_or(wake, |at| wake.min(at));
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
                batch = next_notices(&mut notices) => match batch {
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
                    None => {
                        warn!(retry_in_s = resubscribe_in.as_secs(), "subscription to the cluster's transactions closed; polling only");
                        self.metrics.subscription_up.set(0);
                        notices = None;
                        resubscribe_at = Some(Instant::now() + resubscribe_in);
                        resubscribe_in = (resubscribe_in * 2).min(RESUBSCRIBE_MAX);
                    }
                },
            }
        }
    }

    /// The earliest moment a fallback delay or a retry delay runs out for a
    /// computation with no task running (none while tasks are at the cap:
    /// a finishing task triggers the rescan then).
    fn next_deadline(&self) -> Option<Instant> {
        let t = self.cluster.as_ref()?.threshold as u32;
        if self.jobs.len() >= MAX_JOBS {
            return None;
        }
        self.tracked
            .iter()
            .filter(|(addr, _)| !self.inflight.contains(addr))
            .filter_map(|(_, c)| {
                let due = match c.ready_seen {
                    Some(ready) => Some(ready + self.cfg.callback_fallback * (c.rank + 1)),
                    None if !c.settled => {
                        let immediate = t + c.faults.count_ones();
                        if c.rank >= immediate {
                            Some(
                                c.first_seen
                                    + self.cfg.contribution_fallback * (c.rank - immediate + 1),
                            )
                        } else {
                            c.retry_at
                        }
                    }
                    None => None,
                }?;
                Some(c.retry_at.map_or(due, |r| due.max(r)))
            })
            .min()
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
            ClusterStatus::Ready => self.serve(&cluster, pos, &mut report).await?,
            ClusterStatus::Failed => {
                debug!("cluster DKG failed; waiting for the admin to restart it")
            }
            ClusterStatus::Retired => debug!("cluster retired; nothing to do"),
        }
        Ok(report)
    }

    async fn send_node_ix(
        &self,
        ixs: &[solana_sdk::instruction::Instruction],
    ) -> Result<(), ChainError> {
        self.chain.send(ixs, &[&*self.authority]).await.map(|_| ())
    }

    /// Registers this node's transport key (the admin must have added it).
    pub async fn register(&mut self, pos: usize) -> Result<(), NodeError> {
        self.store.secrets.cluster = self.cfg.cluster.to_bytes();
        self.store.save()?;
        let ix = ix::register_node(
            self.authority.pubkey(),
            self.cfg.cluster,
            (pos + 1) as u8,
            self.store.secrets.transport().public_key().0,
        );
        self.send_node_ix(&[ix]).await?;
        info!(index = pos + 1, "registered transport key");
        Ok(())
    }

    fn params(&self, cluster: &Cluster) -> DkgParams {
        DkgParams {
            cluster: self.cfg.cluster.to_bytes(),
            threshold: cluster.threshold as u16,
            nodes: cluster.size as u16,
            attempt: cluster.dkg_attempt,
        }
    }

    async fn dkg_step(&mut self, cluster: &Cluster, pos: usize) -> Result<u32, NodeError> {
        let me = NodeIndex::new((pos + 1) as u16)?;
        let mine = cluster.nodes[pos];
        let n = cluster.size as usize;
        if mine.confirmed {
            return Ok(0);
        }
        if n == 1 {
            let out = dkg::single_node(&mut OsRng)?;
            return self.confirm(out).await.map(|_| 1);
        }
        let params = self.params(cluster);
        if !mine.round1_posted {
            let (secret, package) = dkg::round1(&mut OsRng, &params, me)?;
            // This attempt's transport key (F6): round-2 packages to this
            // node are encrypted to it, and it is erased at confirmation.
            let ephemeral = TransportSecret::generate(&mut OsRng);
            // Keep the secrets before publishing, so a crash cannot orphan a
            // posted package: the ephemeral secret, then the round-1 secret.
            let mut blob = ephemeral.to_bytes().to_vec();
            blob.extend_from_slice(&secret.to_bytes()?);
            self.store.secrets.dkg_round1 = Some(blob);
            self.store.save()?;
            let ix = ix::post_dkg_round1(
                self.authority.pubkey(),
                self.cfg.cluster,
                me.get() as u8,
                package,
                ephemeral.public_key().0,
            );
            self.send_node_ix(&[ix]).await?;
            info!(index = me.get(), "DKG round 1 posted");
            return Ok(1);
        }
        if !cluster.nodes.iter().all(|x| x.round1_posted) {
            return Ok(0);
        }
        let everyone = ((1u32 << n) - 1) as u16;
        let expected = everyone & !(1u16 << pos);
        let mailboxes = self.mailboxes(cluster).await?;
        let peers = peers(cluster, &mailboxes, me);
        if mine.round2_sent != expected {
            let (transport, secret1) = self.round1_state()?;
            let secret1 = secret1.ok_or(NodeError::DkgStateLost)?;
            #[allow(unused_mut)]
            let (secret2, mut packages) =
                dkg::round2(&mut OsRng, &params, me, secret1, &transport, &peers)?;
            #[cfg(feature = "fault-injection")]
            if self.cfg.behaviour == Behaviour::CorruptDkgPackage {
                if let Some(p) = packages.iter_mut().min_by_key(|p| p.to) {
                    p.ciphertext[0] ^= 1;
                }
            }
            self.store.secrets.dkg_round2 = Some(secret2.to_bytes()?.to_vec());
            self.store.save()?;
            let todo: Vec<_> = packages
                .into_iter()
                .filter(|p| mine.round2_sent & (1 << (p.to - 1)) == 0)
                .collect();
            let mut sent = 0;
            for chunk in todo.chunks(ROUND2_PER_TX) {
                let packages = chunk
                    .iter()
                    .map(|p| medshare::instructions::Round2Arg {
                        to: p.to as u8,
                        nonce: p.nonce,
                        ciphertext: p.ciphertext.clone(),
                    })
                    .collect();
                let ix = ix::post_dkg_round2(
                    self.authority.pubkey(),
                    self.cfg.cluster,
                    me.get() as u8,
                    packages,
                );
                self.send_node_ix(&[ix]).await?;
                sent += 1;
            }
            info!(index = me.get(), "DKG round 2 posted");
            return Ok(sent);
        }
        let all_sent = cluster
            .nodes
            .iter()
            .enumerate()
            .all(|(i, x)| x.round2_sent == everyone & !(1u16 << i));
        if !all_sent {
            return Ok(0);
        }
        let r2 = self
            .store
            .secrets
            .dkg_round2
            .clone()
            .ok_or(NodeError::DkgStateLost)?;
        let secret2 = dkg::Round2Secret::from_bytes(&r2)?;
        let inbox: Vec<EncryptedRound2> = mailboxes
            .values()
            .flat_map(|mb| {
                mb.round2
                    .iter()
                    .filter(|p| p.to as u16 == me.get())
                    .map(|p| EncryptedRound2 {
                        from: mb.index as u16,
                        to: p.to as u16,
                        nonce: p.nonce,
                        ciphertext: p.ciphertext.clone(),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let (transport, _) = self.round1_state()?;
        match dkg::finish(&params, me, &secret2, &transport, &peers, &inbox) {
            Ok(out) => self.confirm(out).await.map(|_| 1),
            Err(encrypted_ixs::Error::DkgCulprit { culprit, reason })
                if COMPLAINABLE.contains(&reason) =>
            {
                // A faulty package to us: complain publicly, revealing this
                // attempt's key so anyone can judge (F4); the attempt fails.
                warn!(
                    accused = culprit.get(),
                    reason, "DKG package faulty; posting a complaint"
                );
                let ix = ix::post_dkg_complaint(
                    self.authority.pubkey(),
                    self.cfg.cluster,
                    me.get() as u8,
                    culprit.get() as u8,
                    *transport.to_bytes(),
                );
                self.send_node_ix(&[ix]).await?;
                Ok(1)
            }
            Err(e) => {
                warn!(error = %e, "DKG finish failed");
                Err(e.into())
            }
        }
    }

    /// This attempt's ephemeral transport secret and the round-1 secret, from
    /// the sealed store (`[ephemeral (32 B) ‖ round-1 secret]`).
    fn round1_state(&self) -> Result<(TransportSecret, Option<dkg::Round1Secret>), NodeError> {
        let blob = self
            .store
            .secrets
            .dkg_round1
            .as_deref()
            .filter(|b| b.len() > 32)
            .ok_or(NodeError::DkgStateLost)?;
        let mut eph = Zeroizing::new([0u8; 32]);
        eph.copy_from_slice(&blob[..32]);
        let secret1 = dkg::Round1Secret::from_bytes(&blob[32..]).ok();
        Ok((TransportSecret::from_bytes(*eph), secret1))
    }

    async fn confirm(&mut self, out: dkg::DkgOutput) -> Result<(), NodeError> {
        self.store.secrets.key_share = Some(out.share.to_bytes().to_vec());
        self.store.secrets.dkg_round1 = None;
        self.store.secrets.dkg_round2 = None;
        self.store.secrets.cluster = self.cfg.cluster.to_bytes();
        self.store.save()?;
        let ix = ix::confirm_dkg(
            self.authority.pubkey(),
            self.cfg.cluster,
            medshare::instructions::ConfirmDkgArgs {
                cluster_key: out.cluster_key.0,
                verification_shares: out.verification_shares.iter().map(|(_, v)| v.0).collect(),
            },
        );
        self.send_node_ix(&[ix]).await?;
        info!(cluster_key = %hex::encode(out.cluster_key.0), "DKG confirmed");
        Ok(())
    }

    async fn mailboxes(&self, cluster: &Cluster) -> Result<BTreeMap<u16, DkgMailbox>, NodeError> {
        let addrs: Vec<Pubkey> = (1..=cluster.size)
            .map(|i| medshare::pda::dkg_mailbox(&self.cfg.cluster, i))
            .collect();
        let boxes = fetch_many::<DkgMailbox>(self.chain.as_ref(), &addrs).await?;
        Ok(boxes
            .into_iter()
            .flatten()
            .map(|mb| (mb.index as u16, mb))
            .collect())
    }

    /// A full pass over the cluster's pending computations.
    async fn serve(
        &mut self,
        cluster: &Cluster,
        pos: usize,
        report: &mut TickReport,
    ) -> Result<(), NodeError> {
        self.ensure_worker(cluster, pos)?;
        let next = cluster.next_computation;
        let slot = self.chain.slot().await?;
        let mut id = self.cursor;
        let mut advance_cursor = true;
        while id < next {
            let end = (id + SCAN_BATCH).min(next);
            let addrs: Vec<Pubkey> = (id..end)
                .map(|k| medshare::pda::computation(&self.cfg.cluster, k))
                .collect();
            let comps = fetch_many::<Computation>(self.chain.as_ref(), &addrs).await?;
            for (k, (addr, comp)) in addrs.iter().zip(comps).enumerate() {
                let cid = id + k as u64;
                let open = comp.filter(|c| slot <= c.expiry_slot);
                let Some(comp) = open else {
                    // Finalized or cancelled (closed), or expired: only its
                    // requester can act on it now (cancel).
                    self.tracked.remove(addr);
                    if advance_cursor {
                        self.cursor = cid + 1;
                    }
                    continue;
                };
                advance_cursor = false;
                self.consider(cluster, pos, addr, comp, report);
            }
            id = end;
        }
        Ok(())
    }

    /// The task context that contributions and callbacks run in (made once
    /// the cluster is ready and this node holds its key share).
    fn ensure_worker(&mut self, cluster: &Cluster, pos: usize) -> Result<Arc<Worker>, NodeError> {
        if let Some(w) = &self.worker {
            return Ok(w.clone());
        }
        let share = self
            .store
            .secrets
            .key_share()
            .ok_or(NodeError::NoKeyShare)?;
        let worker = Arc::new(Worker {
            chain: self.chain.clone(),
            authority: self.authority.clone(),
            cluster: self.cfg.cluster,
            index: (pos + 1) as u8,
            threshold: cluster.threshold as usize,
            share,
            behaviour: self.cfg.behaviour,
        });
        self.worker = Some(worker.clone());
        Ok(worker)
    }

    /// Handles the events of landed transactions that mention the cluster:
    /// reads the computations they concern and serves them; forgets the
    /// finished ones.
    async fn on_notices(&mut self, batch: &[Notice]) -> Result<(), NodeError> {
        let Some(cluster) = self.cluster.clone() else {
            return Ok(());
        };
        if cluster.status != ClusterStatus::Ready {
            // DKG progress: a full tick does the next step.
            return self.tick().await.map(|_| ());
        }
        let Ok(pos) = cluster.position_of(&self.authority.pubkey()) else {
            return Ok(());
        };
        self.ensure_worker(&cluster, pos)?;
        let t = cluster.threshold as usize;
        let mut to_read = BTreeSet::new();
        for notice in batch.iter().filter(|n| n.success) {
            for ev in events::<ShareRequested>(&notice.logs) {
                if ev.cluster == self.cfg.cluster {
                    to_read.insert(ev.computation);
                }
            }
            for ev in events::<ContributionAccepted>(&notice.logs) {
                match self.tracked.get_mut(&ev.computation) {
                    Some(c) if ev.count as usize >= t => {
                        c.ready_seen.get_or_insert_with(Instant::now);
                    }
                    Some(_) => {}
                    None => {
                        to_read.insert(ev.computation);
                    }
                }
            }
            for ev in events::<ContributionRejected>(&notice.logs) {
                // One node fewer to count on: the next in rank steps in.
                to_read.insert(ev.computation);
            }
            let finished = events::<ShareCompleted>(&notice.logs)
                .into_iter()
                .map(|ev| ev.computation)
                .chain(
                    events::<ShareCancelled>(&notice.logs)
                        .into_iter()
                        .map(|ev| ev.computation),
                );
            for computation in finished {
                // A task of this node's still running on it reports first
                // (it may be the callback that finished it).
                if !self.inflight.contains(&computation) {
                    self.tracked.remove(&computation);
                }
                to_read.remove(&computation);
            }
        }
        if to_read.is_empty() {
            return Ok(());
        }
        let addrs: Vec<Pubkey> = to_read.into_iter().collect();
        let comps = fetch_many::<Computation>(self.chain.as_ref(), &addrs).await?;
        let mut report = TickReport::default();
        for (addr, comp) in addrs.iter().zip(comps) {
            match comp.filter(|c| c.cluster == self.cfg.cluster) {
                Some(comp) => self.consider(&cluster, pos, addr, comp, &mut report),
                None => {
                    self.tracked.remove(addr);
                }
            }
        }
        Ok(())
    }

    /// Decides what this node owes one pending computation, as `comp` shows
    /// it, and starts it as a task: its contribution when its rank is due,
    /// the callback when its fallback delay ran out. Nothing is started for
    /// a computation that already has a task of this node's running.
    fn consider(
        &mut self,
        cluster: &Cluster,
        pos: usize,
        addr: &Pubkey,
        comp: Computation,
        report: &mut TickReport,
    ) {
        let t = cluster.threshold as usize;
        let me = (pos + 1) as u8;
        let now = Instant::now();
        let rank = rank(pos, comp.id, cluster.size as u64);
        let tracked = *self.tracked.entry(*addr).or_insert_with(|| {
            self.metrics.computations_seen.inc();
            info!(computation = %addr, id = comp.id, groups = ?comp.groups, rank, "computation seen");
            Tracked {
                rank,
                first_seen: now,
                ready_seen: None,
                faults: 0,
                settled: false,
                failures: 0,
                retry_at: None,
            }
        });
        let new_faults = (comp.faulty & !tracked.faults).count_ones();
        if new_faults > 0 {
            self.metrics
                .proof_failures_observed
                .inc_by(new_faults as u64);
            warn!(computation = %addr, faulty_mask = comp.faulty, "faulty contribution observed");
        }
        let mut state = Tracked {
            faults: comp.faulty | tracked.faults,
            ..tracked
        };
        state.settled |= comp.contributors.contains(&me) || comp.faulty & (1 << pos) != 0;
        let complete = comp.contributors.len() >= t;
        if complete {
            state.ready_seen.get_or_insert(now);
        }
        self.tracked.insert(*addr, state);
        if self.inflight.contains(addr) || state.retry_at.is_some_and(|r| now < r) {
            return;
        }
        let job = if !state.settled && !complete {
            let immediate = t as u32 + state.faults.count_ones();
            let due = rank < immediate
                || now
                    >= state.first_seen + self.cfg.contribution_fallback * (rank - immediate + 1);
            due.then_some(JobKind::Contribute)
        } else {
            state
                .ready_seen
                .filter(|ready| now >= *ready + self.cfg.callback_fallback * (rank + 1))
                .map(|_| JobKind::Finish)
        };
        let (Some(kind), Some(worker)) = (job, self.worker.clone()) else {
            return;
        };
        if self.jobs.len() >= MAX_JOBS {
            // Picked up again by the tick after the running ones finish.
            self.rescan = true;
            return;
        }
        match kind {
            JobKind::Contribute => report.contributions += 1,
            JobKind::Finish => report.callbacks += 1,
        }
        self.inflight.insert(*addr);
        let addr = *addr;
        let task = self
            .jobs
            .spawn(async move { worker.run(addr, comp, kind).await });
        self.job_addr.insert(task.id(), addr);
    }

    /// Records what a task did.
    fn apply(&mut self, out: Outcome) {
        self.inflight.remove(&out.addr);
        let addr = out.addr;
        if !out.authorized {
            self.metrics.unauthorized.inc();
            if let Some(c) = self.tracked.get_mut(&addr) {
                c.settled = true;
            }
            warn!(computation = %addr, "request not authorized by chain state; not contributing");
            return;
        }
        match out.contributed {
            Some(Ok(count)) => {
                let t = self.worker_threshold();
                if let Some(c) = self.tracked.get_mut(&addr) {
                    c.settled = true;
                    c.failures = 0;
                    c.retry_at = None;
                    if count.is_some_and(|k| k as usize >= t) {
                        c.ready_seen.get_or_insert_with(Instant::now);
                    }
                }
                match count {
                    Some(count) => {
                        self.metrics.contributions.inc();
                        info!(computation = %addr, count, "contribution posted");
                    }
                    None => {
                        warn!(computation = %addr, "contribution rejected by the program as faulty")
                    }
                }
            }
            Some(Err(e)) if benign(&e) => {
                if let Some(c) = self.tracked.get_mut(&addr) {
                    c.settled = true;
                }
                if matches!(e.medshare(), Some(MedshareError::DuplicateContribution)) {
                    // An earlier attempt landed although its sender did not
                    // learn it (a lost confirmation): it is on-chain.
                    self.metrics.contributions.inc();
                    info!(computation = %addr, "contribution already on-chain from an earlier attempt");
                } else {
                    debug!(error = %e, "contribution no longer needed");
                }
            }
            Some(Err(e)) if access_ended(&e) => {
                // Access ended between this node's check and the landing.
                self.metrics.unauthorized.inc();
                if let Some(c) = self.tracked.get_mut(&addr) {
                    c.settled = true;
                }
                warn!(computation = %addr, error = %e, "access ended before the contribution landed; not contributing");
            }
            Some(Err(e)) => {
                self.metrics.chain_errors.inc();
                let retry_in = self.failed(&addr);
                warn!(computation = %addr, error = %e, retry_in_ms = retry_in.as_millis() as u64, "contribution failed; will retry");
            }
            None => {}
        }
        match out.finished {
            Some((Ok(()), role)) => {
                self.metrics.finalized.inc();
                if let Some(c) = self.tracked.remove(&addr) {
                    self.metrics
                        .queue_to_callback_seconds
                        .observe(c.first_seen.elapsed().as_secs_f64());
                }
                info!(computation = %addr, role, "callback posted");
            }
            Some((Err(e), _)) if benign(&e) => {
                debug!(error = %e, "callback already done");
                self.tracked.remove(&addr);
            }
            Some((Err(e), role)) => {
                self.metrics.chain_errors.inc();
                let retry_in = self.failed(&addr);
                warn!(computation = %addr, role, error = %e, retry_in_ms = retry_in.as_millis() as u64, "callback failed; will retry");
            }
            None => {}
        }
    }

    /// Backs off a computation whose task failed: the poll interval,
    /// doubled per consecutive failure, at most [`RETRY_MAX`].
    fn failed(&mut self, addr: &Pubkey) -> Duration {
        let Some(c) = self.tracked.get_mut(addr) else {
            return Duration::ZERO;
        };
        c.failures = c.failures.saturating_add(1);
        let wait = (self.cfg.poll_interval.max(MIN_BACKOFF)
            * 2u32.saturating_pow(c.failures.min(16) - 1))
        .min(RETRY_MAX);
        c.retry_at = Some(Instant::now() + wait);
        wait
    }

    fn worker_threshold(&self) -> usize {
        self.worker.as_ref().map_or(usize::MAX, |w| w.threshold)
    }
}

/// DKG failures a node complains about publicly (its package from the
/// culprit is faulty); others (a missing package, a bad proof of knowledge,
/// visible to everyone already) are only logged.
const COMPLAINABLE: [&str; 3] = [
    "undecryptable round-2 package",
    "malformed round-2 package",
    "secret share inconsistent with its commitments",
];

/// How many contribution and callback tasks a node runs at once.
pub const MAX_JOBS: usize = 128;

/// What a task does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobKind {
    /// Contribute; post the callback too if this contribution was the `t`-th.
    Contribute,
    /// Post the callback (fallback).
    Finish,
}

/// What a task reports back.
struct Outcome {
    addr: Pubkey,
    /// False if chain state does not authorize the request (nothing sent).
    authorized: bool,
    /// The contribution: accepted with the new count, or rejected (`None`).
    contributed: Option<Result<Option<u8>, ChainError>>,
    /// The callback, and why this node posted it.
    finished: Option<(Result<(), ChainError>, &'static str)>,
}

/// What contribution and callback tasks share: the chain, the authority
/// and the key share (zeroized when the last task and the node drop it).
struct Worker {
    chain: SharedChain,
    authority: Arc<Keypair>,
    cluster: Pubkey,
    index: u8,
    threshold: usize,
    share: encrypted_ixs::keys::KeyShare,
    #[cfg_attr(not(feature = "fault-injection"), allow(dead_code))]
    behaviour: Behaviour,
}

impl Worker {
    async fn run(&self, addr: Pubkey, comp: Computation, kind: JobKind) -> Outcome {
        let mut out = Outcome {
            addr,
            authorized: true,
            contributed: None,
            finished: None,
        };
        if kind == JobKind::Finish {
            out.finished = Some((self.callback(&addr, &comp).await, "fallback"));
            return out;
        }
        match authorized(self.chain.as_ref(), &self.cluster, &comp).await {
            Ok(true) => {}
            Ok(false) => {
                out.authorized = false;
                return out;
            }
            Err(e) => {
                out.contributed = Some(Err(e));
                return out;
            }
        }
        let contributed = self.contribute(&addr, &comp).await;
        if let Ok(Some(count)) = contributed {
            if count as usize >= self.threshold {
                // This contribution completed the set: read it and finalize now.
                out.finished = match fetch::<Computation>(self.chain.as_ref(), &addr).await {
                    Ok(Some(done)) if done.contributors.len() >= self.threshold => {
                        Some((self.callback(&addr, &done).await, "finisher"))
                    }
                    Ok(_) => None,
                    Err(e) => Some((Err(e), "finisher")),
                };
            }
        }
        out.contributed = Some(contributed);
        out
    }

    /// Sends this node's contribution. `Some(count)`: accepted, the
    /// computation now has `count`; `None`: the program found the proof
    /// faulty (the transaction lands, naming this node).
    async fn contribute(
        &self,
        addr: &Pubkey,
        comp: &Computation,
    ) -> Result<Option<u8>, ChainError> {
        let mut args = Vec::with_capacity(comp.groups.len());
        for (g, cap) in comp.groups.iter().zip(&comp.capsules) {
            let ctx = ComputationContext {
                program_id: medshare::ID.to_bytes(),
                cluster: self.cluster.to_bytes(),
                computation: addr.to_bytes(),
                group: *g,
            };
            let c = reencrypt::contribute(
                &mut OsRng,
                &self.share,
                &ctx,
                &Point(comp.recipient),
                &Point(cap.e),
            )
            .map_err(|e| ChainError::Transaction(format!("cannot contribute: {e}")))?;
            #[allow(unused_mut)]
            let mut arg = medshare_sdk::codec::contribution_arg(&c);
            #[cfg(feature = "fault-injection")]
            if self.behaviour == Behaviour::CorruptProofs {
                std::mem::swap(&mut arg.u, &mut arg.w);
            }
            args.push(arg);
        }
        let registry = recipient_registry(self.chain.as_ref(), &self.cluster, comp).await?;
        let ix = ix::submit_contribution(
            self.authority.pubkey(),
            self.index,
            *addr,
            comp,
            registry,
            args,
        );
        let landed = self
            .chain
            .send(
                &[ix::compute_budget(ix::MAX_COMPUTE_UNITS), ix],
                &[&self.authority],
            )
            .await?;
        // A contribution whose proof fails still lands (the program records
        // the fault): the events say which it was.
        if let Some(ev) = events::<ContributionAccepted>(&landed.logs).first() {
            return Ok(Some(ev.count));
        }
        if !events::<ContributionRejected>(&landed.logs).is_empty() {
            return Ok(None);
        }
        // No logs (an RPC node that has not served the transaction yet): the
        // computation says. Closed already means it was finalized after this
        // contribution landed, and only an accepted one lands without a
        // rejection event: accepted, count unknown (0: no callback to post).
        // An RPC node can report a transaction confirmed a moment before
        // its account reads at `confirmed` show it: read again for a while.
        for _ in 0..STATE_CATCH_UP_READS {
            match fetch::<Computation>(self.chain.as_ref(), addr).await? {
                // Contributors are appended in order: this node's count is its place.
                Some(c) if c.contributors.contains(&self.index) => {
                    return Ok(c
                        .contributors
                        .iter()
                        .position(|i| *i == self.index)
                        .map(|p| p as u8 + 1))
                }
                Some(c) if c.faulty & (1 << (self.index - 1)) != 0 => return Ok(None),
                Some(_) => tokio::time::sleep(STATE_CATCH_UP_PAUSE).await,
                None => return Ok(Some(0)),
            }
        }
        Err(ChainError::Transaction(
            "the contribution landed but the computation does not show it yet".into(),
        ))
    }

    /// Posts the callback for a computation with `t` contributions.
    async fn callback(&self, addr: &Pubkey, comp: &Computation) -> Result<(), ChainError> {
        // The program checks the record's policy again.
        let registry = recipient_registry(self.chain.as_ref(), &self.cluster, comp).await?;
        let ids: Vec<NodeIndex> = comp
            .contributors
            .iter()
            .filter_map(|i| NodeIndex::new(*i as u16).ok())
            .collect();
        #[allow(unused_mut)]
        let mut lagrange: Vec<[u8; 32]> = reencrypt::lagrange_coefficients(&ids)
            .map_err(|e| ChainError::Transaction(e.to_string()))?
            .iter()
            .map(|l| l.to_bytes())
            .collect();
        #[cfg(feature = "fault-injection")]
        if self.behaviour == Behaviour::BadCallbacks {
            lagrange[0][0] ^= 1;
        }
        let ix = ix::share_patient_data_callback(
            self.authority.pubkey(),
            *addr,
            comp,
            registry,
            lagrange,
        );
        self.chain
            .send(
                &[ix::compute_budget(ix::MAX_COMPUTE_UNITS), ix],
                &[&self.authority],
            )
            .await
            .map(|_| ())
    }
}

/// The recipient wallet's provider entry and its issuer's entry, when the
/// wallet has one in `cluster` (nodes pass them so the program can apply the
/// record's provider policy).
pub async fn recipient_registry(
    chain: &dyn medshare_sdk::chain::Chain,
    cluster: &Pubkey,
    comp: &Computation,
) -> Result<Option<(Pubkey, Pubkey)>, ChainError> {
    if comp.recipient_wallet == Pubkey::default() {
        return Ok(None);
    }
    let provider = medshare::pda::provider(cluster, &comp.recipient_wallet);
    Ok(fetch::<medshare::state::Provider>(chain, &provider)
        .await?
        .map(|p| (provider, medshare::pda::issuer(cluster, &p.issuer))))
}

/// Whether chain state still authorizes a computation: the same decision
/// the program makes at every contribution (`medshare::instructions::access`),
/// made first so an honest node never publishes a contribution the program
/// would refuse. The record is open, of the same generation and at the same
/// version as at the request; the owner asked, or the requester holds a
/// consent of that record generation that, at the chain's current unix time,
/// is neither revoked nor expired and covers every group; and the record's
/// provider policy, as it stands now, admits the recipient wallet.
pub async fn authorized(
    chain: &dyn medshare_sdk::chain::Chain,
    cluster: &Pubkey,
    comp: &Computation,
) -> Result<bool, ChainError> {
    let Some(record) = fetch::<medshare::state::PatientRecord>(chain, &comp.record).await? else {
        return Ok(false);
    };
    if record.generation != comp.record_generation || record.version != comp.record_version {
        return Ok(false);
    }
    let now = chain_time(chain).await?;
    if comp.consent == Pubkey::default() {
        if comp.requester != comp.owner {
            return Ok(false);
        }
    } else {
        if comp.consent != medshare::pda::consent(&comp.record, &comp.requester) {
            return Ok(false);
        }
        let Some(consent) = fetch::<medshare::state::Consent>(chain, &comp.consent).await? else {
            return Ok(false);
        };
        let mask = comp.groups.iter().fold(0u8, |m, g| m | (1 << g));
        if consent.record != comp.record
            || consent.record_generation != comp.record_generation
            || consent.grantee != comp.requester
            || consent.check(mask, now).is_err()
        {
            return Ok(false);
        }
    }
    if record.required_roles == 0 {
        return Ok(true);
    }
    let Some((provider, issuer)) = recipient_registry(chain, cluster, comp).await? else {
        return Ok(false);
    };
    let Some(p) = fetch::<medshare::state::Provider>(chain, &provider).await? else {
        return Ok(false);
    };
    let i = fetch::<medshare::state::CredentialIssuer>(chain, &issuer).await?;
    Ok(p.check(i.as_ref(), record.required_roles, now).is_ok())
}

/// A DKG complaint posted in a cluster's current attempt, with the verdict
/// anyone reaches from the chain ([`dkg::verify_complaint`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JudgedComplaint {
    /// The complaining node.
    pub complainer: u8,
    /// The accused node.
    pub accused: u8,
    /// Who is at fault.
    pub verdict: dkg::Verdict,
}

/// Every complaint of the cluster's current DKG attempt, judged from the
/// nodes' mailboxes (issue 10, F4).
pub async fn judge_complaints(
    chain: &dyn medshare_sdk::chain::Chain,
    cluster_address: &Pubkey,
) -> Result<Vec<JudgedComplaint>, NodeError> {
    let cluster: Cluster = fetch(chain, cluster_address)
        .await?
        .ok_or(NodeError::ClusterNotFound(*cluster_address))?;
    let addrs: Vec<Pubkey> = (1..=cluster.size)
        .map(|i| medshare::pda::dkg_mailbox(cluster_address, i))
        .collect();
    let boxes: BTreeMap<u16, DkgMailbox> = fetch_many::<DkgMailbox>(chain, &addrs)
        .await?
        .into_iter()
        .flatten()
        .filter(|mb| mb.attempt == cluster.dkg_attempt)
        .map(|mb| (mb.index as u16, mb))
        .collect();
    let params = DkgParams {
        cluster: cluster_address.to_bytes(),
        threshold: cluster.threshold as u16,
        nodes: cluster.size as u16,
        attempt: cluster.dkg_attempt,
    };
    let mut out = Vec::new();
    for (me, mb) in boxes.iter().filter(|(_, mb)| mb.complaint_against != 0) {
        let complainer = NodeIndex::new(*me)?;
        let accused = NodeIndex::new(mb.complaint_against as u16)?;
        let package = boxes.get(&accused.get()).and_then(|a| {
            a.round2
                .iter()
                .find(|p| p.to as u16 == *me)
                .map(|p| EncryptedRound2 {
                    from: accused.get(),
                    to: *me,
                    nonce: p.nonce,
                    ciphertext: p.ciphertext.clone(),
                })
        });
        let verdict = dkg::verify_complaint(
            &params,
            complainer,
            &mb.round1,
            &TransportPublic(mb.ephemeral_key),
            &TransportSecret::from_bytes(mb.revealed_secret),
            accused,
            &peers(&cluster, &boxes, complainer),
            package.as_ref(),
        )?;
        out.push(JudgedComplaint {
            complainer: mb.index,
            accused: mb.complaint_against,
            verdict,
        });
    }
    Ok(out)
}

/// The service records (accepted contributions, faults) of a cluster's
/// nodes `1..=count`, `None` for a node that has not registered.
pub async fn node_records(
    chain: &dyn medshare_sdk::chain::Chain,
    cluster: &Pubkey,
    count: usize,
) -> Result<Vec<Option<medshare::state::NodeRecord>>, ChainError> {
    let addrs: Vec<Pubkey> = (1..=count)
        .map(|i| medshare::pda::node_record(cluster, i as u8))
        .collect();
    fetch_many(chain, &addrs).await
}

pub use medshare_sdk::chain::chain_time;

/// A node's rank for computation `id`: its position rotated by `id mod n`.
pub fn rank(pos: usize, id: u64, n: u64) -> u32 {
    ((pos as u64 + n - id % n) % n) as u32
}

/// Waits for the next notices and takes every one already queued behind it
/// (`None`: the subscription closed). Without a subscription, never resolves.
async fn next_notices(notices: &mut Option<Notices>) -> Option<Vec<Notice>> {
    let Some(rx) = notices.as_mut() else {
        return std::future::pending().await;
    };
    let first = rx.recv().await?;
    let mut batch = vec![first];
    while let Ok(more) = rx.try_recv() {
        batch.push(more);
    }
    Some(batch)
}

/// Refusals that mean the request is no longer authorized (the program's
/// access decision at contribution time): the computation is left to expire.
fn access_ended(e: &ChainError) -> bool {
    matches!(
        e.medshare(),
        Some(
            MedshareError::RecordClosed
                | MedshareError::RecordChanged
                | MedshareError::ConsentMissing
                | MedshareError::ConsentRevoked
                | MedshareError::ConsentExpired
                | MedshareError::ConsentScope
                | MedshareError::ProviderNotVerified
                | MedshareError::ProviderRevoked
                | MedshareError::ProviderExpired
                | MedshareError::ProviderRoleNotAllowed
                | MedshareError::IssuerRevoked
        )
    )
}

/// Refusals that only mean someone else got there first.
/// How many times a node reads a computation whose state does not show its
/// landed contribution yet, [`STATE_CATCH_UP_PAUSE`] apart.
const STATE_CATCH_UP_READS: u32 = 10;
/// Pause between two of those reads.
const STATE_CATCH_UP_PAUSE: Duration = Duration::from_millis(200);

fn benign(e: &ChainError) -> bool {
    matches!(
        e.medshare(),
        Some(
            MedshareError::ContributionsComplete
                | MedshareError::DuplicateContribution
                | MedshareError::ComputationNotPending
                | MedshareError::ComputationExpired
        )
    ) || matches!(
        e,
        // Anchor's AccountNotInitialized: the computation was closed meanwhile
        // (not this node's own service record missing, which Anchor names).
        ChainError::Program { code: 3012, logs }
            if !logs.iter().any(|l| l.contains("account: node_record"))
    )
}

fn peers(
    cluster: &Cluster,
    mailboxes: &BTreeMap<u16, DkgMailbox>,
    me: NodeIndex,
) -> BTreeMap<NodeIndex, Peer> {
    (1..=cluster.size as u16)
        .filter(|j| *j != me.get())
        .filter_map(|j| {
            let mb = mailboxes.get(&j)?;
            Some((
                NodeIndex::new(j).ok()?,
                Peer {
                    round1: mb.round1.clone(),
                    transport: TransportPublic(mb.ephemeral_key),
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_rotate_so_work_spreads_evenly() {
        for (t, n) in [(1u32, 1u64), (2, 3), (3, 5), (7, 10), (16, 16)] {
            let mut first_t = vec![0u32; n as usize];
            for id in 0..n * 4 {
                let ranks: Vec<u32> = (0..n as usize).map(|pos| rank(pos, id, n)).collect();
                // A permutation of 0..n: one leader, one of each rank.
                let mut sorted = ranks.clone();
                sorted.sort();
                assert_eq!(sorted, (0..n as u32).collect::<Vec<_>>());
                assert_eq!(ranks[(id % n) as usize], 0, "node id mod n leads");
                for (pos, r) in ranks.iter().enumerate() {
                    if *r < t {
                        first_t[pos] += 1;
                    }
                }
            }
            // Over n consecutive computations every node is among the first t equally often.
            assert!(
                first_t.iter().all(|k| *k == 4 * t),
                "t={t} n={n}: {first_t:?}"
            );
        }
    }
}
