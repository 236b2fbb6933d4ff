//! `mpc-node bench`: DKG time, share throughput and queue-to-callback latency
//! of real node tasks in this process, on the embedded chain or, with
//! `--url`, any RPC endpoint (a `medshare localnet` validator, devnet): the
//! latency is then also counted in slots, from the request's slot to the
//! callback's.
//!
//! It does what `medshare-client`'s `LocalCluster` and `Client` do (this crate
//! cannot depend on the client), with only what the measurements need:
//!
//! 1. **DKG**: for each `(t, n)`, create a cluster, add `n` node authorities,
//!    create their encrypted key stores, spawn the nodes, wait for `Ready`.
//!    Reported: the whole set-up (as `LocalCluster::start` measures it), the
//!    part spent deriving key-store keys (Argon2id), and the DKG proper (last
//!    node spawned → cluster ready).
//! 2. **Shares** (`t = 3`, `n = 5`): a patient stores a record (two field
//!    groups are shared), then issues `N` share requests with at most `C` in
//!    flight. Requests are sent one at a time (each takes the cluster's
//!    computation counter, so concurrent senders would only collide and retry)
//!    and then waited for concurrently. An observer task subscribed to the
//!    cluster's transactions ([`Chain::subscribe`](medshare_sdk::chain::Chain::subscribe))
//!    timestamps, from their events, the first contribution, the `t`-th
//!    contribution and completion. Reported: shares/s (first request sent →
//!    last share completed) and, per share, queue-to-callback latency
//!    (request landed → `ShareCompleted` seen), split into its stages.
//! 3. **Where time goes**: the crypto of one contribution (prove, verify), a
//!    plain transfer on the embedded chain, and what the ledger shows
//!    (refused transactions by reason).
//!
//! If the bank wedges (as the embedded chain's slot ticker and an in-flight
//! transaction did before the chain's slot gate), both runtime workers block
//! on its locks and no async timeout can fire: a watchdog thread then ends
//! the run with an error after [`STALL_LIMIT`] without progress.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use encrypted_ixs::keys::{NodeIndex, UserSecretKey};
use encrypted_ixs::point::Point;
use encrypted_ixs::reencrypt::{self, ComputationContext, Statement};
use medshare::state::{Cluster, ClusterStatus, PatientRecord};
use rand_core::{OsRng, RngCore};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use tokio::sync::{oneshot, watch, Mutex, Semaphore};
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use crate::metrics::Metrics;
use crate::{Node, NodeConfig, NodeError};
use medshare_sdk::chain::embedded::Embedded;
use medshare_sdk::chain::{fetch, ChainError, SharedChain};
use medshare_sdk::codec::record_ctx;
use medshare_sdk::ix::{self, ShareAccounts};
use medshare_sdk::keystore::KeyStore;

/// Groups shared by every request: vitals (1) and medications (3), as in the demo.
pub const SHARED_MASK: u8 = 0b1010;
/// Lamports for the admin and each node authority.
const NODE_FUNDS: u64 = 2_000_000_000;
/// Computation lifetime for the bench clusters (slots): long enough that nothing expires.
pub const BENCH_TTL_SLOTS: u64 = 3_000;
/// Longest the bench waits for one DKG or one share.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(120);

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Share requests to issue.
    pub shares: usize,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Node poll interval.
    pub poll: Duration,
    /// Node callback fallback per rank.
    pub callback_fallback: Duration,
    /// Node contribution fallback per rank.
    pub contribution_fallback: Duration,
    /// `(t, n)` clusters whose DKG is timed.
    pub dkg: Vec<(u8, u8)>,
    /// `(t, n)` of the cluster that serves the shares.
    pub share_cluster: (u8, u8),
    /// Run against this RPC endpoint instead of an embedded chain.
    pub url: Option<String>,
    /// On an endpoint: the keypair that funds the bench's accounts; without
    /// one, the endpoint's faucet (`requestAirdrop`, as on localnet).
    pub payer: Option<PathBuf>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            shares: 200,
            concurrency: 20,
            // What `LocalCluster` (demo, tests) uses; `NodeConfig::new` defaults to 400 ms.
            poll: Duration::from_millis(50),
            callback_fallback: Duration::from_millis(500),
            contribution_fallback: Duration::from_millis(250),
            dkg: vec![(3, 5), (7, 10)],
            share_cluster: (3, 5),
            url: None,
            payer: None,
        }
    }
}

/// One DKG measurement.
#[derive(Clone, Debug)]
pub struct DkgFigure {
    /// Threshold.
    pub t: u8,
    /// Size.
    pub n: u8,
    /// Cluster created → ready (what `LocalCluster::start` reports as `dkg_time`).
    pub total: Duration,
    /// Of which: Argon2id key derivations of the key stores (create + open per node).
    pub key_stores: Duration,
    /// Last node spawned → ready: the DKG protocol itself.
    pub protocol: Duration,
}

/// Latency distribution summary.
#[derive(Clone, Copy, Debug, Default)]
pub struct Summary {
    /// Samples.
    pub count: usize,
    /// Median.
    pub median: Duration,
    /// 99th percentile (nearest rank).
    pub p99: Duration,
    /// Largest.
    pub max: Duration,
    /// Mean.
    pub mean: Duration,
}

impl Summary {
    /// Summarizes `samples`.
    pub fn of(mut samples: Vec<Duration>) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        samples.sort();
        let n = samples.len();
        Summary {
            count: n,
            median: nearest_rank(&samples, 0.5),
            p99: nearest_rank(&samples, 0.99),
            max: samples[n - 1],
            mean: samples.iter().sum::<Duration>() / n as u32,
        }
    }
}

/// The share measurements.
#[derive(Clone, Debug, Default)]
pub struct ShareFigures {
    /// Shares completed.
    pub completed: usize,
    /// First request sent → last share completed.
    pub elapsed: Duration,
    /// Completed shares per second.
    pub per_second: f64,
    /// Sending a request until it landed.
    pub request: Summary,
    /// Request landed → share result seen completed (queue-to-callback).
    pub queue_to_callback: Summary,
    /// Request landed → first contribution seen.
    pub to_first_contribution: Summary,
    /// First → `t`-th contribution seen.
    pub first_to_threshold: Summary,
    /// `t`-th contribution seen → share result seen completed (callback).
    pub threshold_to_callback: Summary,
    /// Request sent → share result seen completed.
    pub request_to_result: Summary,
    /// Slots from the request's slot to the callback's slot.
    pub request_to_callback_slots: SlotSummary,
    /// Contributions the nodes sent and the chain accepted (node metrics).
    pub contributions_sent: u64,
    /// Node tick failures (each followed by a back-off).
    pub chain_errors: u64,
    /// Transactions on the cluster's ledger, by outcome (`ok` or the refusal).
    pub ledger: BTreeMap<String, usize>,
}

/// The `q`-quantile of non-empty sorted `samples`, by nearest rank.
fn nearest_rank<T: Copy>(samples: &[T], q: f64) -> T {
    let n = samples.len();
    samples[((q * n as f64).ceil() as usize).clamp(1, n) - 1]
}

/// A distribution of slot counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct SlotSummary {
    /// Samples.
    pub count: usize,
    /// Median.
    pub median: u64,
    /// 99th percentile (nearest rank).
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

impl SlotSummary {
    /// Summarizes `samples`.
    pub fn of(mut samples: Vec<u64>) -> SlotSummary {
        samples.sort_unstable();
        match samples.last() {
            None => SlotSummary::default(),
            Some(&max) => SlotSummary {
                count: samples.len(),
                median: nearest_rank(&samples, 0.5),
                p99: nearest_rank(&samples, 0.99),
                max,
            },
        }
    }
}

/// Where the bench's accounts get their lamports.
enum Funding {
    /// The chain's faucet (embedded, localnet).
    Faucet,
    /// Transfers from a funded keypair.
    Payer(Box<Keypair>),
}

impl Funding {
    async fn fund(&self, chain: &SharedChain, to: &Pubkey, lamports: u64) -> Result<()> {
        match self {
            Funding::Faucet => chain.airdrop(to, lamports).await?,
            Funding::Payer(payer) => {
                let ix = anchor_lang::solana_program::system_instruction::transfer(
                    &payer.pubkey(),
                    to,
                    lamports,
                );
                chain
                    .send(&[ix], &[payer.as_ref()])
                    .await
                    .with_context(|| format!("funding {to} from {}", payer.pubkey()))?;
            }
        }
        Ok(())
    }
}

/// Where time goes: isolated costs.
#[derive(Clone, Debug, Default)]
pub struct CostFigures {
    /// `reencrypt::contribute`, one group.
    pub prove: Duration,
    /// `reencrypt::verify_contribution`, one group.
    pub verify: Duration,
    /// One Argon2id key derivation (key store open).
    pub argon2: Duration,
    /// A system transfer sent and confirmed on the (otherwise idle) chain.
    pub transfer: Summary,
}

/// Everything measured.
#[derive(Clone, Debug, Default)]
pub struct BenchReport {
    /// DKG runs.
    pub dkg: Vec<DkgFigure>,
    /// Share run.
    pub shares: ShareFigures,
    /// Isolated costs.
    pub costs: CostFigures,
}

struct BenchNode {
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), NodeError>>,
    metrics: Arc<Metrics>,
    key_store: PathBuf,
    authority: Pubkey,
}

/// A cluster of node tasks (what `LocalCluster` does, reduced to the bench's needs).
struct BenchCluster {
    chain: SharedChain,
    address: Pubkey,
    nodes: Vec<BenchNode>,
    dir: PathBuf,
    passphrase: Zeroizing<String>,
}

impl BenchCluster {
    async fn start(
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

    fn metric_sum(&self, f: impl Fn(&Metrics) -> u64) -> u64 {
        self.nodes.iter().map(|n| f(&n.metrics)).sum()
    }

    async fn shutdown(self) {
        for n in self.nodes {
            let _ = n.stop.send(true);
            let _ = n.task.await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A patient with one stored record, issuing share requests.
struct Patient {
    chain: SharedChain,
    wallet: Keypair,
    record: Pubkey,
    cluster: Pubkey,
    recipient: Point,
}

fn edwards(key: &UserSecretKey) -> Result<Point> {
    key.public_key()
        .edwards()
        .map_err(|e| anyhow!("user key has no Edwards form: {e}"))
}

impl Patient {
    /// Funds a patient and stores a record with the groups [`SHARED_MASK`] names
    /// (and one more that is never shared).
    async fn new(
        chain: SharedChain,
        cluster: Pubkey,
        funding: &Funding,
        shares: usize,
    ) -> Result<Patient> {
        let wallet = Keypair::new();
        // Rent and node-fee deposits of the requests in flight, and fees.
        let lamports = 1_000_000_000 + shares as u64 * 50_000_000;
        funding.fund(&chain, &wallet.pubkey(), lamports).await?;
        let owner_key = UserSecretKey::generate(&mut OsRng);
        let recipient = edwards(&UserSecretKey::generate(&mut OsRng))?;
        let c: Cluster = fetch(chain.as_ref(), &cluster)
            .await?
            .ok_or_else(|| anyhow!("cluster {cluster} not found"))?;
        let owner = wallet.pubkey();
        let (store, record) = ix::store_patient_data(owner, None, cluster, 1);
        chain.send(&[store], &[&wallet]).await?;
        let groups: [(u8, &[u8]); 3] = [
            (0, br#"{"patient_id":"P-BENCH-1","age":42}"#),
            (
                1,
                br#"{"blood_type":"O+","weight_kg":68.5,"height_cm":170.0}"#,
            ),
            (
                3,
                br#"{"medications":["salbutamol 100 ug inhaler"],"allergies":["penicillin"]}"#,
            ),
        ];
        for (g, plain) in groups {
            let s = encrypted_ixs::record::seal_group(
                &mut OsRng,
                &record_ctx(&owner, &record, g),
                1,
                plain,
                &Point(c.cluster_key),
                &edwards(&owner_key)?,
            )
            .map_err(|e| anyhow!("sealing group {g}: {e}"))?;
            let write = ix::write_record_group(owner, None, record, s);
            let budget = ix::compute_budget(ix::WRITE_GROUP_COMPUTE_UNITS);
            chain.send(&[budget, write], &[&wallet]).await?;
        }
        let stored: PatientRecord = fetch(chain.as_ref(), &record)
            .await?
            .ok_or_else(|| anyhow!("record {record} not stored"))?;
        if stored.groups.len() != groups.len() {
            bail!("record stored {} groups", stored.groups.len());
        }
        Ok(Patient {
            chain,
            wallet,
            record,
            cluster,
            recipient,
        })
    }

    /// Sends `share_patient_data` for computation `id`; returns the
    /// computation's address and the slot the request landed in.
    async fn share(&self, id: u64) -> Result<(Pubkey, u64), ChainError> {
        let (ix, computation, _) = ix::share_patient_data(
            self.wallet.pubkey(),
            self.record,
            self.cluster,
            id,
            medshare::instructions::ShareArgs {
                group_mask: SHARED_MASK,
                recipient: self.recipient.0,
                recipient_wallet: None,
            },
            ShareAccounts::default(),
        );
        let landed = self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok((computation, landed.slot))
    }
}

/// Times observed for one share.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    first: Option<Instant>,
    threshold: Option<Instant>,
    done: Option<Instant>,
    /// The callback's slot.
    done_slot: Option<u64>,
}

/// What the observer knows: stages seen per computation, and who waits for which.
#[derive(Default)]
struct Observed {
    seen: HashMap<Pubkey, Seen>,
    waiting: HashMap<Pubkey, oneshot::Sender<Seen>>,
}

impl Observed {
    /// Registers a waiter for `computation` (answered at once if it is done).
    fn wait(&mut self, computation: Pubkey) -> oneshot::Receiver<Seen> {
        let (tx, rx) = oneshot::channel();
        match self.seen.get(&computation) {
            Some(seen) if seen.done.is_some() => {
                let _ = tx.send(*seen);
            }
            _ => {
                self.waiting.insert(computation, tx);
            }
        }
        rx
    }
}

/// Timestamps each share's stages from the events of the cluster's
/// transactions as they land (the subscription a client would use): first
/// contribution, `t`-th contribution, completion.
async fn observe(
    mut notices: medshare_sdk::chain::Notices,
    t: usize,
    observed: Arc<Mutex<Observed>>,
    wd: Arc<Watchdog>,
) {
    use medshare::events::{ContributionAccepted, ShareCompleted};
    use medshare_sdk::events::events;
    while let Some(notice) = notices.recv().await {
        let now = Instant::now();
        let mut o = observed.lock().await;
        for ev in events::<ContributionAccepted>(&notice.logs) {
            let seen = o.seen.entry(ev.computation).or_default();
            seen.first.get_or_insert(now);
            if ev.count as usize >= t {
                seen.threshold.get_or_insert(now);
            }
        }
        for ev in events::<ShareCompleted>(&notice.logs) {
            let seen = o.seen.entry(ev.computation).or_default();
            seen.first.get_or_insert(now);
            seen.threshold.get_or_insert(now);
            seen.done = Some(now);
            seen.done_slot = Some(notice.slot);
            let seen = *seen;
            if let Some(tx) = o.waiting.remove(&ev.computation) {
                let _ = tx.send(seen);
            }
            wd.progress();
        }
    }
}

struct Sample {
    sent: Instant,
    landed: Instant,
    slot: u64,
    seen: Seen,
}

async fn run_shares(
    chain: SharedChain,
    lc: &BenchCluster,
    opts: &BenchOptions,
    wd: Arc<Watchdog>,
    funding: &Funding,
) -> Result<ShareFigures> {
    let c: Cluster = fetch(chain.as_ref(), &lc.address)
        .await?
        .ok_or_else(|| anyhow!("cluster not found"))?;
    let t = c.threshold as usize;
    let patient = Arc::new(Patient::new(chain.clone(), lc.address, funding, opts.shares).await?);
    let observed = Arc::new(Mutex::new(Observed::default()));
    let notices = chain.subscribe(&lc.address).await?;
    let observer = tokio::spawn(observe(notices, t, observed.clone(), wd.clone()));
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    // Requests are issued one at a time: each takes the cluster's computation counter.
    let next_id = Arc::new(Mutex::new(c.next_computation));
    let first_slot = chain.slot().await?;
    let before_contrib = lc.metric_sum(|m| m.contributions.get());
    let before_errors = lc.metric_sum(|m| m.chain_errors.get());
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(opts.shares);
    for _ in 0..opts.shares {
        let permit = sem.clone().acquire_owned().await?;
        let patient = patient.clone();
        let observed = observed.clone();
        let next_id = next_id.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let (sent, landed, slot, rx) = {
                let mut id = next_id.lock().await;
                let sent = Instant::now();
                let (computation, slot) = patient.share(*id).await?;
                let landed = Instant::now();
                *id += 1;
                let rx = observed.lock().await.wait(computation);
                (sent, landed, slot, rx)
            };
            let seen = tokio::time::timeout(STEP_TIMEOUT, rx)
                .await
                .map_err(|_| anyhow!("share not completed within {STEP_TIMEOUT:?}"))?
                .map_err(|_| anyhow!("observer stopped"))?;
            Ok::<Sample, anyhow::Error>(Sample {
                sent,
                landed,
                slot,
                seen,
            })
        }));
    }
    let mut samples = Vec::with_capacity(tasks.len());
    for t in tasks {
        samples.push(t.await??);
    }
    let elapsed = samples
        .iter()
        .filter_map(|s| s.seen.done)
        .max()
        .map(|d| d - start)
        .unwrap_or_default();
    observer.abort();
    let since = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
        (Some(a), Some(b)) => Some(b.saturating_duration_since(a)),
        _ => None,
    };
    let collect = |f: &dyn Fn(&Sample) -> Option<Duration>| -> Summary {
        Summary::of(samples.iter().filter_map(f).collect())
    };
    let mut ledger = BTreeMap::new();
    for e in chain.history(&lc.address).await? {
        if e.slot < first_slot {
            continue;
        }
        let key = if e.success {
            "ok".to_string()
        } else {
            e.error.unwrap_or_else(|| "failed".into())
        };
        *ledger.entry(key).or_insert(0) += 1;
    }
    let completed = samples.iter().filter(|s| s.seen.done.is_some()).count();
    Ok(ShareFigures {
        completed,
        elapsed,
        per_second: completed as f64 / elapsed.as_secs_f64().max(1e-9),
        request: collect(&|s| Some(s.landed - s.sent)),
        queue_to_callback: collect(&|s| since(Some(s.landed), s.seen.done)),
        to_first_contribution: collect(&|s| since(Some(s.landed), s.seen.first)),
        first_to_threshold: collect(&|s| since(s.seen.first, s.seen.threshold)),
        threshold_to_callback: collect(&|s| since(s.seen.threshold, s.seen.done)),
        request_to_result: collect(&|s| since(Some(s.sent), s.seen.done)),
        request_to_callback_slots: SlotSummary::of(
            samples
                .iter()
                .filter_map(|s| s.seen.done_slot.map(|d| d.saturating_sub(s.slot)))
                .collect(),
        ),
        contributions_sent: lc.metric_sum(|m| m.contributions.get()) - before_contrib,
        chain_errors: lc.metric_sum(|m| m.chain_errors.get()) - before_errors,
        ledger,
    })
}

/// Isolated costs: one contribution's proof and its verification, one
/// key-store key derivation, one transfer on the embedded chain.
async fn costs(chain: &SharedChain, lc: &BenchCluster, funding: &Funding) -> Result<CostFigures> {
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

/// A thread outside the async runtime that ends the process if the bench
/// makes no progress for [`STALL_LIMIT`]: when the bank deadlocks (both
/// runtime workers blocked on its locks), no async timeout can fire any more.
struct Watchdog {
    last: Arc<std::sync::atomic::AtomicU64>,
    start: Instant,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

/// How long the bench may go without progress before the watchdog ends it.
pub const STALL_LIMIT: Duration = Duration::from_secs(60);

impl Watchdog {
    fn arm() -> Watchdog {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let last = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let (l, s) = (last.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(500));
                let idle = start
                    .elapsed()
                    .saturating_sub(Duration::from_millis(l.load(Ordering::Relaxed)));
                if idle > STALL_LIMIT && !s.load(Ordering::Relaxed) {
                    eprintln!(
                        "error: no progress for {} s: the embedded chain's bank appears \
                         deadlocked; giving up",
                        idle.as_secs()
                    );
                    std::process::exit(2);
                }
            }
        });
        Watchdog { last, start, stop }
    }

    fn progress(&self) {
        self.last.store(
            self.start.elapsed().as_millis() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Runs the bench; `out` receives progress lines.
pub async fn run(opts: &BenchOptions, mut out: impl FnMut(&str)) -> Result<BenchReport> {
    let watchdog = Arc::new(Watchdog::arm());
    let (chain, funding): (SharedChain, Funding) = match &opts.url {
        None => (Embedded::start().await, Funding::Faucet),
        Some(url) => {
            let chain: SharedChain = Arc::new(medshare_sdk::chain::rpc::Rpc::new(url));
            chain
                .slot()
                .await
                .with_context(|| format!("no answer from {url}"))?;
            let funding = match &opts.payer {
                Some(p) => Funding::Payer(Box::new(
                    solana_sdk::signature::read_keypair_file(p)
                        .map_err(|e| anyhow!("cannot read payer keypair {}: {e}", p.display()))?,
                )),
                None => Funding::Faucet,
            };
            (chain, funding)
        }
    };
    let mut report = BenchReport::default();
    let mut share_cluster = None;
    for (k, &(t, n)) in opts.dkg.iter().enumerate() {
        out(&format!("DKG t={t} n={n} ..."));
        let (lc, fig) =
            BenchCluster::start(chain.clone(), k as u32, (t, n), opts, &watchdog, &funding).await?;
        out(&format!(
            "  ready in {} ms (protocol {} ms)",
            fig.total.as_millis(),
            fig.protocol.as_millis()
        ));
        report.dkg.push(fig);
        if (t, n) == opts.share_cluster && share_cluster.is_none() {
            share_cluster = Some(lc);
        } else {
            lc.shutdown().await;
        }
    }
    let lc = match share_cluster {
        Some(lc) => lc,
        None => {
            let id = opts.dkg.len() as u32;
            BenchCluster::start(
                chain.clone(),
                id,
                opts.share_cluster,
                opts,
                &watchdog,
                &funding,
            )
            .await?
            .0
        }
    };
    out(&format!(
        "shares: {} requests, {} in flight, t={} n={}, node poll {} ms ...",
        opts.shares,
        opts.concurrency,
        opts.share_cluster.0,
        opts.share_cluster.1,
        opts.poll.as_millis()
    ));
    report.shares = run_shares(chain.clone(), &lc, opts, watchdog.clone(), &funding).await?;
    out("isolated costs ...");
    watchdog.progress();
    report.costs = costs(&chain, &lc, &funding).await?;
    lc.shutdown().await;
    Ok(report)
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// The report as a table, with the issue's targets.
pub fn render(opts: &BenchOptions, r: &BenchReport) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let chain = match &opts.url {
        Some(url) => medshare_sdk::chain::rpc::resolve_url(url),
        None => "embedded chain".into(),
    };
    let on_embedded = opts.url.is_none();
    let _ = writeln!(
        s,
        "\nmpc-node bench ({chain}, node poll {} ms, callback fallback {} ms)",
        opts.poll.as_millis(),
        opts.callback_fallback.as_millis()
    );
    if !r.dkg.is_empty() {
        let _ = writeln!(
            s,
            "\nDKG                 total ms   key stores ms   protocol ms   target"
        );
    }
    for d in &r.dkg {
        let target = if d.n == 10 && on_embedded {
            format!(
                "<= 5000 ms: {}",
                if d.total <= Duration::from_secs(5) {
                    "met"
                } else {
                    "NOT met"
                }
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "  t={:<2} n={:<2}       {:>9}   {:>13}   {:>11}   {target}",
            d.t,
            d.n,
            ms(d.total),
            ms(d.key_stores),
            ms(d.protocol)
        );
    }
    let sh = &r.shares;
    let _ = writeln!(
        s,
        "\nshares t={} n={}: {} of {} completed in {} ms with {} in flight",
        opts.share_cluster.0,
        opts.share_cluster.1,
        sh.completed,
        opts.shares,
        ms(sh.elapsed),
        opts.concurrency
    );
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    let _ = writeln!(
        s,
        "  throughput         {:>8.1} shares/s            {}",
        sh.per_second,
        if on_embedded {
            format!("target >= 100: {}", met(sh.per_second >= 100.0))
        } else {
            String::new()
        }
    );
    let sl = &sh.request_to_callback_slots;
    let _ = writeln!(
        s,
        "  request slot -> callback slot  median {} slots, p99 {}, max {} ({} shares){}",
        sl.median,
        sl.p99,
        sl.max,
        sl.count,
        if on_embedded {
            String::new()
        } else {
            format!("   target p50 <= 3: {}", met(sl.median <= 3))
        }
    );
    let _ = writeln!(
        s,
        "\n  latency (ms)                    median      p99      max     mean"
    );
    let row = |s: &mut String, name: &str, x: &Summary, extra: &str| {
        let _ = writeln!(
            s,
            "  {name:<30} {:>7} {:>8} {:>8} {:>8}  {extra}",
            ms(x.median),
            ms(x.p99),
            ms(x.max),
            ms(x.mean)
        );
    };
    row(&mut s, "request sent -> landed", &sh.request, "");
    let target = if on_embedded {
        format!(
            "p99 target <= 100: {}",
            met(sh.queue_to_callback.p99 <= Duration::from_millis(100))
        )
    } else {
        String::new()
    };
    row(&mut s, "queue-to-callback", &sh.queue_to_callback, &target);
    row(
        &mut s,
        "  landed -> 1st contribution",
        &sh.to_first_contribution,
        "",
    );
    row(
        &mut s,
        "  1st -> t-th contribution",
        &sh.first_to_threshold,
        "",
    );
    row(
        &mut s,
        "  t-th contribution -> result",
        &sh.threshold_to_callback,
        "",
    );
    row(&mut s, "request sent -> result", &sh.request_to_result, "");
    let _ = writeln!(
        s,
        "\n  contributions sent by nodes: {} ({:.2} per share, t = {}); node tick failures: {}",
        sh.contributions_sent,
        sh.contributions_sent as f64 / sh.completed.max(1) as f64,
        opts.share_cluster.0,
        sh.chain_errors
    );
    let _ = writeln!(
        s,
        "  transactions on the cluster account during the share run, by outcome:"
    );
    for (k, v) in &sh.ledger {
        let _ = writeln!(s, "    {v:>6}  {k}");
    }
    let c = &r.costs;
    let _ = writeln!(s, "\nisolated costs");
    let _ = writeln!(
        s,
        "  contribution proof, one group     {:>8} ms",
        ms(c.prove)
    );
    let _ = writeln!(
        s,
        "  contribution verify, one group    {:>8} ms",
        ms(c.verify)
    );
    let _ = writeln!(
        s,
        "  key-store Argon2id derivation     {:>8} ms",
        ms(c.argon2)
    );
    let _ = writeln!(
        s,
        "  transfer sent -> confirmed        {:>8} ms median, {} ms p99",
        ms(c.transfer.median),
        ms(c.transfer.p99)
    );
    s
}
