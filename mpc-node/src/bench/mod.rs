//! `mpc-node bench`: DKG time, share throughput and queue-to-callback latency
//! of real node tasks in this process, on the embedded chain or, with
//! `--url`, any RPC endpoint (a `medshare localnet` validator, devnet): the
//! latency is then also counted in slots, from the request's slot to the
//! callback's.
//!
//! Its clusters are this crate's [`LocalCluster`](crate::cluster::LocalCluster)s;
//! its patient does what the client's `store` and `share` do, through the
//! SDK's builders (this crate cannot depend on the client):
//!
//! 1. **DKG**: for each `(t, n)`, [`LocalCluster::launch`](crate::cluster::LocalCluster::launch)
//!    creates a cluster, adds `n` node authorities, creates their encrypted
//!    key stores and spawns the nodes; then the bench waits for `Ready`.
//!    Reported: the whole set-up, the part spent deriving key-store keys
//!    (Argon2id), and the DKG proper (last node spawned → cluster ready).
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

mod cluster;
mod report;
mod shares;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};

use crate::cluster::Funding;
use cluster::{costs, start_cluster};
use medshare_sdk::chain::embedded::Embedded;
use medshare_sdk::chain::SharedChain;
use shares::run_shares;

pub use report::{render, SlotSummary, Summary};

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
        let (last_progress, stop_flag) = (last.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop_flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(500));
                let idle = start
                    .elapsed()
                    .saturating_sub(Duration::from_millis(last_progress.load(Ordering::Relaxed)));
                if idle > STALL_LIMIT && !stop_flag.load(Ordering::Relaxed) {
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
                Some(path) => Funding::Payer(Box::new(
                    solana_sdk::signature::read_keypair_file(path).map_err(|e| {
                        anyhow!("cannot read payer keypair {}: {e}", path.display())
                    })?,
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
            start_cluster(chain.clone(), k as u32, (t, n), opts, &watchdog, &funding).await?;
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
            start_cluster(
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
