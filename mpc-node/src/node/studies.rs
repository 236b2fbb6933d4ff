//! Studies: a node's part needs no operator. Every tick it reads
//! the cluster's studies from the oldest unfinished one (64 per read); for
//! each closed study it first adds its noise when the study has
//! differential privacy (until `t` nodes' noise is complete; one exact
//! discrete Laplace sample per released statistic, posted as bits with
//! proofs that bound it), then posts its partial decryptions of the aggregates
//! (verified by the program against its verification share) and, once `t`
//! nodes' partials are complete, sends the release. An open study is left
//! alone: the program decrypts nothing but a closed study's aggregates.
//! A study this node cannot serve (say, an aggregate no partial decryption
//! can be made of) is logged and skipped; it never stops the others.

use std::sync::Arc;

use medshare::error::MedshareError;
use medshare::state::{Cluster, Study, StudyPartials, StudyStatus};
use medshare_sdk::chain::{fetch_many, ChainError};
use medshare_sdk::research::{
    noise_plan, noise_transactions, partial_transactions, release_transaction, researcher_registry,
};
use rand_core::OsRng;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;
use tracing::{info, warn};

use super::jobs::Worker;
use super::scheduler::SCAN_BATCH;
use super::{Node, NodeError};

/// A study refusal that only means another node got there first.
fn benign(e: &ChainError) -> bool {
    matches!(
        e.medshare(),
        Some(
            MedshareError::StudyNotClosed
                | MedshareError::SlicesOutOfOrder
                | MedshareError::NoiseComplete
                | MedshareError::NoiseIncomplete
        )
    )
}

impl Node {
    /// One pass over the cluster's studies; returns the transactions sent.
    pub(super) async fn serve_studies(
        &mut self,
        cluster: &Cluster,
        pos: usize,
    ) -> Result<u32, NodeError> {
        let worker = self.ensure_worker(cluster, pos)?;
        let mut sent = 0;
        let mut advance = true;
        let mut number = self.study_cursor;
        while number < cluster.next_study {
            let end = (number + SCAN_BATCH).min(cluster.next_study);
            let addrs: Vec<Pubkey> = (number..end)
                .map(|k| medshare::pda::study(&self.cfg.cluster, k))
                .collect();
            let studies = fetch_many::<Study>(self.chain.as_ref(), &addrs).await?;
            for (k, (addr, study)) in addrs.iter().zip(studies).enumerate() {
                let Some(study) = study else { continue };
                if study.status == StudyStatus::Released {
                    if advance {
                        self.study_cursor = number + k as u64 + 1;
                    }
                    continue;
                }
                advance = false;
                if study.status != StudyStatus::Closed {
                    continue;
                }
                match self.serve_study(cluster, pos, &worker, *addr, &study).await {
                    Ok(n) => sent += n,
                    Err(e) => {
                        warn!(study = %addr, error = %e, "study not served this tick; the next tick retries")
                    }
                }
            }
            number = end;
        }
        Ok(sent)
    }

    /// This node's part in one closed study: noise, partials, release.
    async fn serve_study(
        &self,
        cluster: &Cluster,
        pos: usize,
        worker: &Arc<Worker>,
        addr: Pubkey,
        study: &Study,
    ) -> Result<u32, NodeError> {
        let me = worker.index.get() as u8;
        let mut sent = 0;
        let slices = study.aggregates.len();
        let faulty = study.faulty & (1 << pos) != 0;
        // Differential privacy: noise first, until `t` nodes' is complete.
        let t = cluster.threshold as u32;
        if study.epsilon_milli > 0 && study.noise_done.count_ones() < t {
            let mine = study.noise_progress[pos] as usize;
            let bits = medshare::state::noise_total(&noise_plan(study));
            if mine < bits && !faulty {
                let txs = noise_transactions(
                    &mut OsRng,
                    self.authority.pubkey(),
                    &worker.share,
                    self.cfg.cluster,
                    addr,
                    study,
                    mine,
                )
                .map_err(NodeError::Study)?
                .unwrap_or_default();
                for tx in txs {
                    match self.chain.send(&tx, &[self.authority.as_ref()]).await {
                        Ok(_) => sent += 1,
                        Err(e) if benign(&e) => break,
                        Err(e) => return Err(e.into()),
                    }
                }
                info!(study = %addr, node = me, transactions = sent, "noise posted");
            }
            // The partials wait for the noise phase to end (next tick).
            return Ok(sent);
        }
        let partial_addrs: Vec<Pubkey> = (1..=cluster.size)
            .map(|i| medshare::pda::study_partials(&addr, i))
            .collect();
        let partials = fetch_many::<StudyPartials>(self.chain.as_ref(), &partial_addrs).await?;
        let mine = partials[pos].as_ref().map_or(0, |posted| posted.d.len());
        if mine < slices && !faulty {
            let txs = partial_transactions(
                &mut OsRng,
                self.authority.pubkey(),
                &worker.share,
                self.cfg.cluster,
                addr,
                study,
                mine,
            )
            .map_err(NodeError::Study)?;
            for tx in txs {
                match self.chain.send(&tx, &[self.authority.as_ref()]).await {
                    Ok(_) => sent += 1,
                    Err(e) if benign(&e) => break,
                    Err(e) => return Err(e.into()),
                }
            }
            info!(study = %addr, node = me, slices, "partial decryptions posted");
        }
        // Complete partials of nodes not found faulty (this node's own
        // counted as complete once sent: the chain confirmed each). Any node
        // sends the release once `t` are in, so nodes that stopped after
        // posting do not hold it up; a second release is refused, harmlessly.
        let done: Vec<u8> = partials
            .iter()
            .enumerate()
            .filter(|(k, posted)| {
                study.faulty & (1 << k) == 0
                    && ((*k == pos && !faulty)
                        || posted
                            .as_ref()
                            .is_some_and(|posted| posted.d.len() == slices))
            })
            .map(|(k, _)| k as u8 + 1)
            .take(cluster.threshold as usize)
            .collect();
        if done.len() == cluster.threshold as usize {
            let registry = researcher_registry(self.chain.as_ref(), study).await?;
            let tx = release_transaction(
                self.authority.pubkey(),
                self.cfg.cluster,
                addr,
                registry,
                &done,
            )
            .map_err(NodeError::Study)?;
            match self.chain.send(&tx, &[self.authority.as_ref()]).await {
                Ok(_) => {
                    sent += 1;
                    info!(study = %addr, cohort = study.cohort, nodes = ?done, "study released");
                }
                Err(e) if benign(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(sent)
    }
}
