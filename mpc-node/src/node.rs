//! The node: DKG over the chain, contributions, callbacks.
//!
//! [`Node::tick`] reads the chain and does whatever this node owes: register,
//! the next DKG step, a contribution to each pending computation, a callback
//! for each computation with `t` contributions. The chain is the source of
//! truth, so a tick is idempotent and a restarted node resumes where the
//! chain says it is: it never contributes twice (it checks the computation's
//! contributor list before sending) and never re-runs a finished DKG step.
//!
//! Callbacks: the node of rank 0 for computation `id` (ranks rotate with
//! `id mod n`) posts at once; the node of rank `k` waits `k ×`
//! [`NodeConfig::callback_fallback`] after it first saw the computation ready,
//! so nodes do not all race and a stopped leader is covered.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use encrypted_ixs::dkg::{self, DkgParams, EncryptedRound2, Peer};
use encrypted_ixs::keys::{NodeIndex, TransportPublic};
use encrypted_ixs::point::Point;
use encrypted_ixs::reencrypt::{self, ComputationContext};
use medshare::error::MedshareError;
use medshare::state::{Cluster, ClusterStatus, Computation, DkgMailbox};
use rand_core::OsRng;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use tracing::{debug, info, warn};

use crate::chain::{compute_budget, fetch, fetch_many, instruction, ChainError, SharedChain};
use crate::keystore::{KeyStore, KeyStoreError};
use crate::metrics::Metrics;

/// Round-2 packages per transaction (5 × ~85 bytes stays well under 1,232).
pub const ROUND2_PER_TX: usize = 5;
/// Computations read per batch while scanning.
pub const SCAN_BATCH: u64 = 64;
/// Compute units requested for contributions and callbacks.
pub const HEAVY_CU: u32 = 1_400_000;

/// How a node behaves (tests only: a node that sends bad proofs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// Follows the protocol.
    #[default]
    Honest,
    /// Sends contributions whose proofs do not verify.
    #[cfg(feature = "fault-injection")]
    CorruptProofs,
}

/// Tunables.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// The cluster this node serves.
    pub cluster: Pubkey,
    /// How often to read the chain.
    pub poll_interval: Duration,
    /// Delay per rank before a non-leader posts a callback.
    pub callback_fallback: Duration,
    /// Misbehaviour, for tests.
    pub behaviour: Behaviour,
}

impl NodeConfig {
    /// Defaults for a cluster: poll every 400 ms (one slot), 2 s callback fallback.
    pub fn new(cluster: Pubkey) -> Self {
        NodeConfig {
            cluster,
            poll_interval: Duration::from_millis(400),
            callback_fallback: Duration::from_secs(2),
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
    /// Contributions sent.
    pub contributions: u32,
    /// Callbacks sent.
    pub callbacks: u32,
}

/// A running node.
pub struct Node {
    chain: SharedChain,
    authority: Keypair,
    store: KeyStore,
    cfg: NodeConfig,
    metrics: Arc<Metrics>,
    cursor: u64,
    first_seen: HashMap<u64, Instant>,
    ready_seen: HashMap<u64, Instant>,
    faults_seen: HashMap<u64, u16>,
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
            authority,
            store,
            cfg,
            metrics,
            cursor: 0,
            first_seen: HashMap::new(),
            ready_seen: HashMap::new(),
            faults_seen: HashMap::new(),
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

    /// Runs until `shutdown` resolves: a tick every poll interval; errors are
    /// logged and retried, fatal ones end the loop.
    pub async fn run(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), NodeError> {
        tokio::pin!(shutdown);
        info!(node = %self.authority.pubkey(), cluster = %self.cfg.cluster, "node started");
        let mut backoff = self.cfg.poll_interval;
        loop {
            let wait = match self.tick().await {
                Ok(report) => {
                    if report.dkg_steps + report.contributions + report.callbacks > 0 {
                        debug!(?report, "tick");
                    }
                    backoff = self.cfg.poll_interval;
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
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    w
                }
            };
            tokio::select! {
                _ = &mut shutdown => {
                    info!(node = %self.authority.pubkey(), "shutting down");
                    return Ok(());
                }
                _ = tokio::time::sleep(wait) => {}
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
            ClusterStatus::Failed => debug!("cluster DKG failed; nothing to do"),
        }
        Ok(report)
    }

    async fn send_node_ix(
        &self,
        ixs: &[solana_sdk::instruction::Instruction],
    ) -> Result<(), ChainError> {
        self.chain.send(ixs, &[&self.authority]).await.map(|_| ())
    }

    /// Registers this node's transport key (the admin must have added it).
    pub async fn register(&mut self, pos: usize) -> Result<(), NodeError> {
        self.store.secrets.cluster = self.cfg.cluster.to_bytes();
        self.store.save()?;
        let ix = instruction(
            medshare::accounts::RegisterNode {
                node: self.authority.pubkey(),
                cluster: self.cfg.cluster,
                mailbox: medshare::pda::dkg_mailbox(&self.cfg.cluster, (pos + 1) as u8),
                system_program: anchor_lang::system_program::ID,
            },
            medshare::instruction::RegisterNode {
                transport_key: self.store.secrets.transport().public_key().0,
            },
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
            // Keep the secret before publishing, so a crash cannot orphan a posted package.
            self.store.secrets.dkg_round1 = Some(secret.to_bytes()?.to_vec());
            self.store.save()?;
            let ix = instruction(
                medshare::accounts::PostDkgRound1 {
                    node: self.authority.pubkey(),
                    cluster: self.cfg.cluster,
                    mailbox: medshare::pda::dkg_mailbox(&self.cfg.cluster, me.get() as u8),
                },
                medshare::instruction::PostDkgRound1 { package },
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
            let r1 = self
                .store
                .secrets
                .dkg_round1
                .clone()
                .ok_or(NodeError::DkgStateLost)?;
            let secret1 = dkg::Round1Secret::from_bytes(&r1)?;
            let transport = self.store.secrets.transport();
            let (secret2, packages) =
                dkg::round2(&mut OsRng, &params, me, secret1, &transport, &peers)?;
            self.store.secrets.dkg_round2 = Some(secret2.to_bytes()?.to_vec());
            self.store.save()?;
            let todo: Vec<_> = packages
                .into_iter()
                .filter(|p| mine.round2_sent & (1 << (p.to - 1)) == 0)
                .collect();
            let mut sent = 0;
            for chunk in todo.chunks(ROUND2_PER_TX) {
                let ix = instruction(
                    medshare::accounts::PostDkgRound2 {
                        node: self.authority.pubkey(),
                        cluster: self.cfg.cluster,
                        mailbox: medshare::pda::dkg_mailbox(&self.cfg.cluster, me.get() as u8),
                    },
                    medshare::instruction::PostDkgRound2 {
                        packages: chunk
                            .iter()
                            .map(|p| medshare::instructions::Round2Arg {
                                to: p.to as u8,
                                nonce: p.nonce,
                                ciphertext: p.ciphertext.clone(),
                            })
                            .collect(),
                    },
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
        let transport = self.store.secrets.transport();
        let out =
            dkg::finish(&params, me, &secret2, &transport, &peers, &inbox).inspect_err(|e| {
                warn!(error = %e, "DKG finish failed");
            })?;
        self.confirm(out).await.map(|_| 1)
    }

    async fn confirm(&mut self, out: dkg::DkgOutput) -> Result<(), NodeError> {
        self.store.secrets.key_share = Some(out.share.to_bytes().to_vec());
        self.store.secrets.dkg_round1 = None;
        self.store.secrets.dkg_round2 = None;
        self.store.secrets.cluster = self.cfg.cluster.to_bytes();
        self.store.save()?;
        let ix = instruction(
            medshare::accounts::ConfirmDkg {
                node: self.authority.pubkey(),
                cluster: self.cfg.cluster,
            },
            medshare::instruction::ConfirmDkg {
                args: medshare::instructions::ConfirmDkgArgs {
                    cluster_key: out.cluster_key.0,
                    verification_shares: out.verification_shares.iter().map(|(_, v)| v.0).collect(),
                },
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

    async fn serve(
        &mut self,
        cluster: &Cluster,
        pos: usize,
        report: &mut TickReport,
    ) -> Result<(), NodeError> {
        let share = self
            .store
            .secrets
            .key_share()
            .ok_or(NodeError::NoKeyShare)?;
        let me = (pos + 1) as u8;
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
                let Some(comp) = comp else {
                    // Finalized or cancelled.
                    self.first_seen.remove(&cid);
                    self.ready_seen.remove(&cid);
                    self.faults_seen.remove(&cid);
                    if advance_cursor {
                        self.cursor = cid + 1;
                    }
                    continue;
                };
                if slot > comp.expiry_slot {
                    // Expired: only its requester can act (cancel).
                    if advance_cursor {
                        self.cursor = cid + 1;
                    }
                    continue;
                }
                advance_cursor = false;
                if self.first_seen.insert(cid, Instant::now()).is_none() {
                    self.metrics.computations_seen.inc();
                    info!(computation = %addr, id = cid, groups = ?comp.groups, "computation seen");
                }
                let old_faults = self.faults_seen.insert(cid, comp.faulty).unwrap_or(0);
                let new_faults = (comp.faulty & !old_faults).count_ones();
                if new_faults > 0 {
                    self.metrics
                        .proof_failures_observed
                        .inc_by(new_faults as u64);
                    warn!(computation = %addr, faulty_mask = comp.faulty, "faulty contribution observed");
                }
                if !self.authorized(&comp).await? {
                    self.metrics.unauthorized.inc();
                    warn!(computation = %addr, requester = %comp.requester, "request not authorized by chain state; not contributing");
                    continue;
                }
                let t = cluster.threshold as usize;
                let mine_in = comp.contributors.contains(&me);
                let faulty = comp.faulty & (1 << pos) != 0;
                if !mine_in && !faulty && comp.contributors.len() < t {
                    match self.contribute(&share, addr, &comp).await {
                        Ok(true) => {
                            report.contributions += 1;
                            self.metrics.contributions.inc();
                        }
                        Ok(false) => {}
                        Err(e) if benign(&e) => debug!(error = %e, "contribution no longer needed"),
                        Err(e) => return Err(e.into()),
                    }
                }
                if comp.contributors.len() >= t {
                    let seen = *self.ready_seen.entry(cid).or_insert_with(Instant::now);
                    let rank = ((pos as u64 + cluster.size as u64 - cid % cluster.size as u64)
                        % cluster.size as u64) as u32;
                    if seen.elapsed() >= self.cfg.callback_fallback * rank {
                        match self.callback(addr, &comp).await {
                            Ok(()) => {
                                report.callbacks += 1;
                                self.metrics.finalized.inc();
                                if let Some(t0) = self.first_seen.get(&cid) {
                                    self.metrics
                                        .queue_to_callback_seconds
                                        .observe(t0.elapsed().as_secs_f64());
                                }
                                info!(computation = %addr, rank, "callback posted");
                            }
                            Err(e) if benign(&e) => debug!(error = %e, "callback already done"),
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
            }
            id = end;
        }
        Ok(())
    }

    async fn contribute(
        &self,
        share: &encrypted_ixs::keys::KeyShare,
        addr: &Pubkey,
        comp: &Computation,
    ) -> Result<bool, ChainError> {
        let mut args = Vec::with_capacity(comp.groups.len());
        for (g, cap) in comp.groups.iter().zip(&comp.capsules) {
            let ctx = ComputationContext {
                computation: addr.to_bytes(),
                group: *g,
            };
            let c = reencrypt::contribute(
                &mut OsRng,
                share,
                &ctx,
                &Point(comp.recipient),
                &Point(cap.e),
            )
            .map_err(|e| ChainError::Transaction(format!("cannot contribute: {e}")))?;
            #[allow(unused_mut)]
            let mut arg = medshare::instructions::ContributionArg {
                u: c.u.0,
                w: c.w.0,
                c: c.proof.c,
                z_r: c.proof.z_r,
                z_s: c.proof.z_s,
            };
            #[cfg(feature = "fault-injection")]
            if self.cfg.behaviour == Behaviour::CorruptProofs {
                std::mem::swap(&mut arg.u, &mut arg.w);
            }
            args.push(arg);
        }
        let ix = instruction(
            medshare::accounts::SubmitContribution {
                node: self.authority.pubkey(),
                cluster: self.cfg.cluster,
                computation: *addr,
            },
            medshare::instruction::SubmitContribution {
                contributions: args,
            },
        );
        let landed = self
            .chain
            .send(&[compute_budget(HEAVY_CU), ix], &[&self.authority])
            .await?;
        // A contribution whose proof fails still lands (the program records
        // the fault): it was accepted only if no rejection names this node.
        let rejected =
            !medshare::native::events::<medshare::events::ContributionRejected>(&landed.logs)
                .is_empty();
        if rejected {
            warn!(computation = %addr, "contribution rejected by the program as faulty");
        } else {
            info!(computation = %addr, "contribution posted");
        }
        Ok(!rejected)
    }

    async fn callback(&self, addr: &Pubkey, comp: &Computation) -> Result<(), ChainError> {
        let ids: Vec<NodeIndex> = comp
            .contributors
            .iter()
            .filter_map(|i| NodeIndex::new(*i as u16).ok())
            .collect();
        let lagrange = reencrypt::lagrange_coefficients(&ids)
            .map_err(|e| ChainError::Transaction(e.to_string()))?
            .iter()
            .map(|l| l.to_bytes())
            .collect();
        let ix = instruction(
            medshare::accounts::SharePatientDataCallback {
                node: self.authority.pubkey(),
                cluster: self.cfg.cluster,
                computation: *addr,
                share_result: comp.share_result,
                requester: comp.requester,
                consent: (comp.consent != Pubkey::default()).then_some(comp.consent),
            },
            medshare::instruction::SharePatientDataCallback { lagrange },
        );
        self.send_node_ix(&[compute_budget(HEAVY_CU), ix]).await
    }
}

impl Node {
    /// Whether chain state authorizes a computation: the owner asked, or the
    /// requester holds a consent for this record that, at the chain's current
    /// unix time, is neither revoked nor expired and covers every group.
    pub async fn authorized(&self, comp: &Computation) -> Result<bool, NodeError> {
        if comp.requester == comp.owner && comp.consent == Pubkey::default() {
            return Ok(true);
        }
        if comp.consent != medshare::pda::consent(&comp.record, &comp.requester) {
            return Ok(false);
        }
        let Some(consent) =
            fetch::<medshare::state::Consent>(self.chain.as_ref(), &comp.consent).await?
        else {
            return Ok(false);
        };
        let now = chain_time(self.chain.as_ref()).await?;
        let mask = comp.groups.iter().fold(0u8, |m, g| m | (1 << g));
        Ok(consent.record == comp.record
            && consent.grantee == comp.requester
            && consent.check(mask, now).is_ok())
    }
}

/// The chain's unix time (its Clock sysvar).
pub async fn chain_time(chain: &dyn crate::chain::Chain) -> Result<i64, ChainError> {
    let acc = chain
        .accounts(&[solana_sdk::sysvar::clock::ID])
        .await?
        .into_iter()
        .next()
        .flatten()
        .ok_or_else(|| ChainError::Endpoint("clock sysvar unavailable".into()))?;
    let clock: solana_sdk::clock::Clock = solana_sdk::account::from_account(&acc)
        .ok_or_else(|| ChainError::Endpoint("clock sysvar undecodable".into()))?;
    Ok(clock.unix_timestamp)
}

/// Refusals that only mean someone else got there first.
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
        // Anchor's AccountNotInitialized: the computation was closed meanwhile.
        ChainError::Program { code: 3012, .. }
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
                    transport: TransportPublic(cluster.nodes[j as usize - 1].transport_key),
                },
            ))
        })
        .collect()
}
