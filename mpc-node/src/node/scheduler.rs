//! Scheduling: which pending computations this node serves, when (its rank
//! and the fallback delays), and the back-off after a failed task.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use encrypted_ixs::keys::NodeIndex;
use medshare::events::{
    ContributionAccepted, ContributionRejected, ShareCancelled, ShareCompleted, ShareRequested,
};
use medshare::state::{Cluster, ClusterStatus, Computation};
use medshare_sdk::chain::{fetch_many, Notice};
use medshare_sdk::events::events;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;
use tracing::{debug, info, warn};

use super::jobs::JobKind;
use super::outcome::{benign, CallbackOutcome, ContributionOutcome, Outcome};
use super::{mask_bit, Node, NodeError, TickReport, MIN_BACKOFF, RETRY_MAX};

/// Computations read per batch while scanning.
pub const SCAN_BATCH: u64 = 64;
/// How many contribution and callback tasks a node runs at once.
pub const MAX_JOBS: usize = 128;
/// What a node remembers of a pending computation (forgotten once it is
/// finalized, cancelled or expired).
#[derive(Clone, Copy, Debug)]
pub(super) struct Tracked {
    /// This node's rank for it.
    pub(super) rank: u32,
    /// When this node first saw it.
    pub(super) first_seen: Instant,
    /// When this node first saw `t` contributions.
    pub(super) ready_seen: Option<Instant>,
    /// Faulty-node mask last seen.
    pub(super) faults: u16,
    /// Whether this node has nothing more to contribute (it did, it was
    /// found faulty, or the request is not authorized).
    pub(super) settled: bool,
    /// Consecutive failed tasks (contribution or callback).
    pub(super) failures: u32,
    /// After a failed task: no new task before this.
    pub(super) retry_at: Option<Instant>,
}

impl Node {
    /// The earliest moment a fallback delay or a retry delay runs out for a
    /// computation with no task running (none while tasks are at the cap:
    /// a finishing task triggers the rescan then).
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let t = self.cluster.as_ref()?.threshold as u32;
        if self.jobs.len() >= MAX_JOBS {
            return None;
        }
        self.tracked
            .iter()
            .filter(|(addr, _)| !self.inflight.contains(addr))
            .filter_map(|(_, tracked)| {
                let due = match tracked.ready_seen {
                    Some(ready) => Some(ready + self.cfg.callback_fallback * (tracked.rank + 1)),
                    None if !tracked.settled => {
                        let immediate = t + tracked.faults.count_ones();
                        if tracked.rank >= immediate {
                            Some(
                                tracked.first_seen
                                    + self.cfg.contribution_fallback
                                        * (tracked.rank - immediate + 1),
                            )
                        } else {
                            tracked.retry_at
                        }
                    }
                    None => None,
                }?;
                Some(tracked.retry_at.map_or(due, |retry| due.max(retry)))
            })
            .min()
    }

    /// A full pass over the cluster's pending computations.
    pub(super) async fn serve(
        &mut self,
        cluster: &Cluster,
        pos: usize,
        report: &mut TickReport,
    ) -> Result<(), NodeError> {
        let me = self.ensure_worker(cluster, pos)?.index;
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
                let open = comp.filter(|computation| slot <= computation.expiry_slot);
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
                self.consider(cluster, pos, me, addr, comp, report);
            }
            id = end;
        }
        Ok(())
    }

    /// Handles the events of landed transactions that mention the cluster:
    /// reads the computations they concern and serves them; forgets the
    /// finished ones.
    pub(super) async fn on_notices(&mut self, batch: &[Notice]) -> Result<(), NodeError> {
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
        let me = self.ensure_worker(&cluster, pos)?.index;
        let t = cluster.threshold as usize;
        let mut to_read = BTreeSet::new();
        for notice in batch.iter().filter(|notice| notice.success) {
            for ev in events::<ShareRequested>(&notice.logs) {
                if ev.cluster == self.cfg.cluster {
                    to_read.insert(ev.computation);
                }
            }
            for ev in events::<ContributionAccepted>(&notice.logs) {
                match self.tracked.get_mut(&ev.computation) {
                    Some(tracked) if ev.count as usize >= t => {
                        tracked.ready_seen.get_or_insert_with(Instant::now);
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
            match comp.filter(|computation| computation.cluster == self.cfg.cluster) {
                Some(comp) => self.consider(&cluster, pos, me, addr, comp, &mut report),
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
        me: NodeIndex,
        addr: &Pubkey,
        comp: Computation,
        report: &mut TickReport,
    ) {
        let t = cluster.threshold as usize;
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
        state.settled |=
            comp.contributors.contains(&(me.get() as u8)) || comp.faulty & mask_bit(me) != 0;
        let complete = comp.contributors.len() >= t;
        if complete {
            state.ready_seen.get_or_insert(now);
        }
        self.tracked.insert(*addr, state);
        if self.inflight.contains(addr) || state.retry_at.is_some_and(|retry| now < retry) {
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

    /// Backs off a computation whose task failed: the poll interval,
    /// doubled per consecutive failure, at most [`RETRY_MAX`].
    pub(super) fn failed(&mut self, addr: &Pubkey) -> Duration {
        let Some(tracked) = self.tracked.get_mut(addr) else {
            return Duration::ZERO;
        };
        tracked.failures = tracked.failures.saturating_add(1);
        let wait = (self.cfg.poll_interval.max(MIN_BACKOFF)
            * 2u32.saturating_pow(tracked.failures.min(16) - 1))
        .min(RETRY_MAX);
        tracked.retry_at = Some(Instant::now() + wait);
        wait
    }
}

/// What a task's outcome changes in what the node tracks.
impl Node {
    /// Records what a task did.
    pub(super) fn apply(&mut self, out: Outcome) {
        self.inflight.remove(&out.addr);
        let addr = out.addr;
        match out.contributed {
            Some(ContributionOutcome::Unauthorized) => {
                self.metrics.unauthorized.inc();
                self.settle(&addr);
                warn!(computation = %addr, "request not authorized by chain state; not contributing");
            }
            Some(ContributionOutcome::Accepted { count }) => {
                let ready = count as usize >= self.worker_threshold();
                self.landed(&addr, ready);
                self.metrics.contributions.inc();
                info!(computation = %addr, count, "contribution posted");
            }
            Some(ContributionOutcome::RejectedAsFaulty) => {
                self.landed(&addr, false);
                warn!(computation = %addr, "contribution rejected by the program as faulty")
            }
            Some(ContributionOutcome::AlreadyOnChain) => {
                self.settle(&addr);
                // An earlier attempt landed although its sender did not
                // learn it (a lost confirmation): it is on-chain.
                self.metrics.contributions.inc();
                info!(computation = %addr, "contribution already on-chain from an earlier attempt");
            }
            Some(ContributionOutcome::NotNeeded(e)) => {
                self.settle(&addr);
                debug!(error = %e, "contribution no longer needed");
            }
            Some(ContributionOutcome::AccessEnded(e)) => {
                // Access ended between this node's check and the landing.
                self.metrics.unauthorized.inc();
                self.settle(&addr);
                warn!(computation = %addr, error = %e, "access ended before the contribution landed; not contributing");
            }
            Some(ContributionOutcome::Failed(e)) => {
                self.metrics.chain_errors.inc();
                let retry_in = self.failed(&addr);
                warn!(computation = %addr, error = %e, retry_in_ms = retry_in.as_millis() as u64, "contribution failed; will retry");
            }
            None => {}
        }
        let Some(CallbackOutcome { role, result }) = out.finished else {
            return;
        };
        let role = role.as_str();
        match result {
            Ok(()) => {
                self.metrics.finalized.inc();
                if let Some(tracked) = self.tracked.remove(&addr) {
                    self.metrics
                        .queue_to_callback_seconds
                        .observe(tracked.first_seen.elapsed().as_secs_f64());
                }
                info!(computation = %addr, role, "callback posted");
            }
            Err(e) if benign(&e) => {
                debug!(error = %e, "callback already done");
                self.tracked.remove(&addr);
            }
            Err(e) => {
                self.metrics.chain_errors.inc();
                let retry_in = self.failed(&addr);
                warn!(computation = %addr, role, error = %e, retry_in_ms = retry_in.as_millis() as u64, "callback failed; will retry");
            }
        }
    }

    /// Marks a computation as owing nothing more from this node.
    fn settle(&mut self, addr: &Pubkey) -> Option<&mut Tracked> {
        let tracked = self.tracked.get_mut(addr)?;
        tracked.settled = true;
        Some(tracked)
    }

    /// Records that this node's contribution landed (accepted or found
    /// faulty): settled, failures forgotten, and `ready` if it brought the
    /// computation to `t` contributions.
    fn landed(&mut self, addr: &Pubkey, ready: bool) {
        if let Some(tracked) = self.settle(addr) {
            tracked.failures = 0;
            tracked.retry_at = None;
            if ready {
                tracked.ready_seen.get_or_insert_with(Instant::now);
            }
        }
    }

    fn worker_threshold(&self) -> usize {
        self.worker
            .as_ref()
            .map_or(usize::MAX, |worker| worker.threshold)
    }
}

/// A node's rank for computation `id`: its position rotated by `id mod n`.
pub fn rank(pos: usize, id: u64, n: u64) -> u32 {
    ((pos as u64 + n - id % n) % n) as u32
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
