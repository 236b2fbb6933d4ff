//! The node's subscription to its cluster's transactions. It only makes
//! the node faster (the polling tick does the work either way), so an
//! endpoint that refuses or drops it costs nothing but latency: the node
//! polls and subscribes again after a back-off that doubles up to
//! [`RESUBSCRIBE_MAX`].

use std::time::{Duration, Instant};

use medshare_sdk::chain::{Notice, Notices, SharedChain};
use solana_sdk::pubkey::Pubkey;
use tracing::{info, warn};

use super::{RESUBSCRIBE_MAX, RESUBSCRIBE_MIN, SUBSCRIBE_TIMEOUT};
use crate::metrics::Metrics;

/// The subscription, or when to try it again.
pub(super) struct Subscription {
    notices: Option<Notices>,
    retry_in: Duration,
    retry_at: Option<Instant>,
}

impl Subscription {
    /// Not subscribed yet: the first [`Subscription::ensure`] tries at once.
    pub(super) fn new() -> Self {
        Subscription {
            notices: None,
            retry_in: RESUBSCRIBE_MIN,
            retry_at: Some(Instant::now()),
        }
    }

    /// Subscribes to `cluster`'s transactions if it is time to (again).
    pub(super) async fn ensure(
        &mut self,
        chain: &SharedChain,
        cluster: &Pubkey,
        metrics: &Metrics,
    ) {
        if self.retry_at.is_none_or(|at| Instant::now() < at) {
            return;
        }
        match tokio::time::timeout(SUBSCRIBE_TIMEOUT, chain.subscribe(cluster)).await {
            Ok(Ok(rx)) => {
                info!("subscribed to the cluster's transactions");
                metrics.subscription_up.set(1);
                self.notices = Some(rx);
                self.retry_at = None;
                self.retry_in = RESUBSCRIBE_MIN;
            }
            failed => {
                let error = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".to_string(),
                };
                warn!(%error, retry_in_s = self.retry_in.as_secs(), "no subscription to the cluster's transactions; polling only");
                self.back_off();
            }
        }
    }

    /// When to subscribe again, while not subscribed.
    pub(super) fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// The subscription closed: poll only, and subscribe again after the
    /// back-off.
    pub(super) fn closed(&mut self, metrics: &Metrics) {
        warn!(
            retry_in_s = self.retry_in.as_secs(),
            "subscription to the cluster's transactions closed; polling only"
        );
        metrics.subscription_up.set(0);
        self.notices = None;
        self.back_off();
    }

    fn back_off(&mut self) {
        self.retry_at = Some(Instant::now() + self.retry_in);
        self.retry_in = (self.retry_in * 2).min(RESUBSCRIBE_MAX);
    }

    /// Waits for the next notices and takes every one already queued behind
    /// it (`None`: the subscription closed). Without a subscription, never
    /// resolves.
    pub(super) async fn next(&mut self) -> Option<Vec<Notice>> {
        let Some(rx) = self.notices.as_mut() else {
            return std::future::pending().await;
        };
        let first = rx.recv().await?;
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        Some(batch)
    }
}
