//! The share run: a patient issuing share requests, and an observer
//! timestamping each share's stages from the cluster's transactions.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use encrypted_ixs::keys::UserSecretKey;
use encrypted_ixs::point::Point;
use medshare::state::{Cluster, PatientRecord};
use rand_core::OsRng;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use tokio::sync::{oneshot, Mutex, Semaphore};

use super::{
    BenchOptions, ShareFigures, SlotSummary, Summary, Watchdog, SHARED_MASK, STEP_TIMEOUT,
};
use crate::cluster::{Funding, LocalCluster};
use medshare_sdk::chain::{fetch, ChainError, SharedChain};
use medshare_sdk::codec::record_ctx;
use medshare_sdk::ix::{self, ShareAccounts};

/// A patient with one stored record, issuing share requests.
struct Patient {
    chain: SharedChain,
    wallet: Keypair,
    record: Pubkey,
    cluster: Pubkey,
    recipient: Point,
}

pub(super) fn edwards(key: &UserSecretKey) -> Result<Point> {
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
        let cluster_account: Cluster = fetch(chain.as_ref(), &cluster)
            .await?
            .ok_or_else(|| anyhow!("cluster {cluster} not found"))?;
        let owner = wallet.pubkey();
        let register = ix::register_identity(
            owner,
            medshare::instructions::IdentityArgs {
                encryption_key: edwards(&owner_key)?.0,
                role: medshare::state::Role::Patient,
            },
        );
        let (store, record) = ix::store_patient_data(owner, None, cluster, 1);
        chain.send(&[register, store], &[&wallet]).await?;
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
        for (group, plain) in groups {
            let sealed = encrypted_ixs::record::seal_group(
                &mut OsRng,
                &record_ctx(&owner, &record, group),
                1,
                plain,
                &Point(cluster_account.cluster_key),
                &edwards(&owner_key)?,
            )
            .map_err(|e| anyhow!("sealing group {group}: {e}"))?;
            let write = ix::write_record_group(owner, None, record, sealed);
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
        let mut state = observed.lock().await;
        for ev in events::<ContributionAccepted>(&notice.logs) {
            let seen = state.seen.entry(ev.computation).or_default();
            seen.first.get_or_insert(now);
            if ev.count as usize >= t {
                seen.threshold.get_or_insert(now);
            }
        }
        for ev in events::<ShareCompleted>(&notice.logs) {
            let seen = state.seen.entry(ev.computation).or_default();
            seen.first.get_or_insert(now);
            seen.threshold.get_or_insert(now);
            seen.done = Some(now);
            seen.done_slot = Some(notice.slot);
            let seen = *seen;
            if let Some(tx) = state.waiting.remove(&ev.computation) {
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

pub(super) async fn run_shares(
    chain: SharedChain,
    lc: &LocalCluster,
    opts: &BenchOptions,
    wd: Arc<Watchdog>,
    funding: &Funding,
) -> Result<ShareFigures> {
    let cluster: Cluster = fetch(chain.as_ref(), &lc.address)
        .await?
        .ok_or_else(|| anyhow!("cluster not found"))?;
    let t = cluster.threshold as usize;
    let patient = Arc::new(Patient::new(chain.clone(), lc.address, funding, opts.shares).await?);
    let observed = Arc::new(Mutex::new(Observed::default()));
    let notices = chain.subscribe(&lc.address).await?;
    let observer = tokio::spawn(observe(notices, t, observed.clone(), wd.clone()));
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    // Requests are issued one at a time: each takes the cluster's computation counter.
    let next_id = Arc::new(Mutex::new(cluster.next_computation));
    let first_slot = chain.slot().await?;
    let before_contrib = lc.metric_sum(|metrics| metrics.contributions.get());
    let before_errors = lc.metric_sum(|metrics| metrics.chain_errors.get());
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
    for task in tasks {
        samples.push(task.await??);
    }
    let elapsed = samples
        .iter()
        .filter_map(|sample| sample.seen.done)
        .max()
        .map(|done| done - start)
        .unwrap_or_default();
    observer.abort();
    let since = |from: Option<Instant>, to: Option<Instant>| match (from, to) {
        (Some(from), Some(to)) => Some(to.saturating_duration_since(from)),
        _ => None,
    };
    let collect = |measure: &dyn Fn(&Sample) -> Option<Duration>| -> Summary {
        Summary::of(samples.iter().filter_map(measure).collect())
    };
    let mut ledger = BTreeMap::new();
    for entry in chain.history(&lc.address).await? {
        if entry.slot < first_slot {
            continue;
        }
        let key = if entry.success {
            "ok".to_string()
        } else {
            entry.error.unwrap_or_else(|| "failed".into())
        };
        *ledger.entry(key).or_insert(0) += 1;
    }
    let completed = samples
        .iter()
        .filter(|sample| sample.seen.done.is_some())
        .count();
    Ok(ShareFigures {
        completed,
        elapsed,
        per_second: completed as f64 / elapsed.as_secs_f64().max(1e-9),
        request: collect(&|sample| Some(sample.landed - sample.sent)),
        queue_to_callback: collect(&|sample| since(Some(sample.landed), sample.seen.done)),
        to_first_contribution: collect(&|sample| since(Some(sample.landed), sample.seen.first)),
        first_to_threshold: collect(&|sample| since(sample.seen.first, sample.seen.threshold)),
        threshold_to_callback: collect(&|sample| since(sample.seen.threshold, sample.seen.done)),
        request_to_result: collect(&|sample| since(Some(sample.sent), sample.seen.done)),
        request_to_callback_slots: SlotSummary::of(
            samples
                .iter()
                .filter_map(|sample| {
                    sample
                        .seen
                        .done_slot
                        .map(|done_slot| done_slot.saturating_sub(sample.slot))
                })
                .collect(),
        ),
        contributions_sent: lc.metric_sum(|metrics| metrics.contributions.get()) - before_contrib,
        chain_errors: lc.metric_sum(|metrics| metrics.chain_errors.get()) - before_errors,
        ledger,
    })
}
