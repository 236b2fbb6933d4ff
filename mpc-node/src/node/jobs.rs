//! Job execution: the contribution and callback tasks, and how the node
//! records what they report back (see [`super::outcome`]).

use std::sync::Arc;
use std::time::Duration;

use encrypted_ixs::keys::NodeIndex;
use encrypted_ixs::point::Point;
use encrypted_ixs::reencrypt::{self, ComputationContext};
use medshare::events::{ContributionAccepted, ContributionRejected};
use medshare::state::{Cluster, Computation};
use medshare_sdk::chain::{fetch, ChainError, SharedChain};
use medshare_sdk::events::events;
use medshare_sdk::ix;
use rand_core::OsRng;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

use super::outcome::{CallbackOutcome, CallbackRole, ContributionOutcome, Outcome};
use super::{authorized, index_of, mask_bit, recipient_registry, Behaviour, Node, NodeError};

/// How many times a node reads a computation whose state does not show its
/// landed contribution yet, [`STATE_CATCH_UP_PAUSE`] apart.
const STATE_CATCH_UP_READS: u32 = 10;
/// Pause between two of those reads.
const STATE_CATCH_UP_PAUSE: Duration = Duration::from_millis(200);

/// What a task does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum JobKind {
    /// Contribute; post the callback too if this contribution was the `t`-th.
    Contribute,
    /// Post the callback (fallback).
    Finish,
}

impl Node {
    /// The task context that contributions and callbacks run in (made once
    /// the cluster is ready and this node holds its key share).
    pub(super) fn ensure_worker(
        &mut self,
        cluster: &Cluster,
        pos: usize,
    ) -> Result<Arc<Worker>, NodeError> {
        if let Some(worker) = &self.worker {
            return Ok(worker.clone());
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
            index: index_of(pos)?,
            threshold: cluster.threshold as usize,
            share,
            behaviour: self.cfg.behaviour,
        });
        self.worker = Some(worker.clone());
        Ok(worker)
    }
}

/// What contribution and callback tasks share: the chain, the authority
/// and the key share (zeroized when the last task and the node drop it).
pub(super) struct Worker {
    chain: SharedChain,
    authority: Arc<Keypair>,
    cluster: Pubkey,
    /// This node's index in the cluster.
    pub(super) index: NodeIndex,
    pub(super) threshold: usize,
    pub(super) share: encrypted_ixs::keys::KeyShare,
    #[cfg_attr(not(feature = "fault-injection"), allow(dead_code))]
    behaviour: Behaviour,
}

impl Worker {
    /// Runs one task: the contribution (when chain state authorizes it), and
    /// the callback if that contribution was the `t`-th; or, for
    /// [`JobKind::Finish`], the fallback callback.
    pub(super) async fn run(&self, addr: Pubkey, comp: Computation, kind: JobKind) -> Outcome {
        if kind == JobKind::Finish {
            let result = self.callback(&addr, &comp).await;
            return Outcome {
                addr,
                contributed: None,
                finished: Some(CallbackOutcome {
                    role: CallbackRole::Fallback,
                    result,
                }),
            };
        }
        let contributed = match authorized(self.chain.as_ref(), &self.cluster, &comp).await {
            Ok(true) => self
                .contribute(&addr, &comp)
                .await
                .unwrap_or_else(ContributionOutcome::from_error),
            Ok(false) => ContributionOutcome::Unauthorized,
            Err(e) => ContributionOutcome::from_error(e),
        };
        let mut finished = None;
        if let ContributionOutcome::Accepted { count } = contributed {
            if count as usize >= self.threshold {
                // This contribution completed the set: read it and finalize now.
                let result = match fetch::<Computation>(self.chain.as_ref(), &addr).await {
                    Ok(Some(done)) if done.contributors.len() >= self.threshold => {
                        Some(self.callback(&addr, &done).await)
                    }
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                };
                finished = result.map(|result| CallbackOutcome {
                    role: CallbackRole::Finisher,
                    result,
                });
            }
        }
        Outcome {
            addr,
            contributed: Some(contributed),
            finished,
        }
    }

    /// Sends this node's contribution: [`ContributionOutcome::Accepted`]
    /// with the computation's new count, or
    /// [`ContributionOutcome::RejectedAsFaulty`] when the program found the
    /// proof faulty (the transaction lands, naming this node). Refusals and
    /// failures are errors, for [`ContributionOutcome::from_error`].
    async fn contribute(
        &self,
        addr: &Pubkey,
        comp: &Computation,
    ) -> Result<ContributionOutcome, ChainError> {
        let me = self.index.get() as u8;
        let mut args = Vec::with_capacity(comp.groups.len());
        for (group, cap) in comp.groups.iter().zip(&comp.capsules) {
            let ctx = ComputationContext {
                program_id: medshare::ID.to_bytes(),
                cluster: self.cluster.to_bytes(),
                computation: addr.to_bytes(),
                group: *group,
            };
            let contribution = reencrypt::contribute(
                &mut OsRng,
                &self.share,
                &ctx,
                &Point(comp.recipient),
                &Point(cap.e),
            )
            .map_err(|e| ChainError::Transaction(format!("cannot contribute: {e}")))?;
            #[allow(unused_mut)]
            let mut arg = medshare_sdk::codec::contribution_arg(&contribution);
            #[cfg(feature = "fault-injection")]
            if self.behaviour == Behaviour::CorruptProofs {
                std::mem::swap(&mut arg.u, &mut arg.w);
            }
            args.push(arg);
        }
        let registry = recipient_registry(self.chain.as_ref(), &self.cluster, comp).await?;
        let ix = ix::submit_contribution(self.authority.pubkey(), me, *addr, comp, registry, args);
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
            return Ok(ContributionOutcome::Accepted { count: ev.count });
        }
        if !events::<ContributionRejected>(&landed.logs).is_empty() {
            return Ok(ContributionOutcome::RejectedAsFaulty);
        }
        // No logs (an RPC node that has not served the transaction yet): the
        // computation says. Closed already means it was finalized after this
        // contribution landed, and only an accepted one lands without a
        // rejection event: accepted, count unknown (0: no callback to post).
        // An RPC node can report a transaction confirmed a moment before
        // its account reads at `confirmed` show it: read again for a while.
        for _ in 0..STATE_CATCH_UP_READS {
            let Some(current) = fetch::<Computation>(self.chain.as_ref(), addr).await? else {
                return Ok(ContributionOutcome::Accepted { count: 0 });
            };
            // Contributors are appended in order: this node's count is its place.
            if let Some(place) = current.contributors.iter().position(|i| *i == me) {
                return Ok(ContributionOutcome::Accepted {
                    count: place as u8 + 1,
                });
            }
            if current.faulty & mask_bit(self.index) != 0 {
                return Ok(ContributionOutcome::RejectedAsFaulty);
            }
            tokio::time::sleep(STATE_CATCH_UP_PAUSE).await;
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
