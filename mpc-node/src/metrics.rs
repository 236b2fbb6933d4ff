//! Prometheus metrics and their HTTP endpoint (`GET /metrics`).

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The node's metrics.
pub struct Metrics {
    /// Pending computations of the cluster this node has seen.
    pub computations_seen: Counter<u64, AtomicU64>,
    /// Contributions this node posted and the program accepted.
    pub contributions: Counter<u64, AtomicU64>,
    /// Callbacks this node posted (computations finalized).
    pub finalized: Counter<u64, AtomicU64>,
    /// Faulty contributions (by any node) this node observed on-chain.
    pub proof_failures_observed: Counter<u64, AtomicU64>,
    /// Requests refused by this node's own authorization check.
    pub unauthorized: Counter<u64, AtomicU64>,
    /// Errors while talking to the chain (each retried later).
    pub chain_errors: Counter<u64, AtomicU64>,
    /// Seconds from first seeing a computation to this node's callback landing.
    pub queue_to_callback_seconds: Histogram,
    /// Transactions mentioning the cluster delivered by the subscription.
    pub notices: Counter<u64, AtomicU64>,
    /// 1 while the subscription to the cluster's transactions is open, else 0
    /// (the node then only polls).
    pub subscription_up: Gauge<i64, AtomicI64>,
    /// Contribution and callback tasks running.
    pub tasks_running: Gauge<i64, AtomicI64>,
    registry: Registry,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers all metrics.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("medshare_node");
        let metrics = Metrics {
            computations_seen: Counter::default(),
            contributions: Counter::default(),
            finalized: Counter::default(),
            proof_failures_observed: Counter::default(),
            unauthorized: Counter::default(),
            chain_errors: Counter::default(),
            queue_to_callback_seconds: Histogram::new(
                [
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ]
                .into_iter(),
            ),
            notices: Counter::default(),
            subscription_up: Gauge::default(),
            tasks_running: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "computations_seen",
            "Pending computations seen",
            metrics.computations_seen.clone(),
        );
        registry.register(
            "contributions",
            "Contributions accepted",
            metrics.contributions.clone(),
        );
        registry.register(
            "finalized",
            "Callbacks posted by this node",
            metrics.finalized.clone(),
        );
        registry.register(
            "proof_failures_observed",
            "Faulty contributions observed on-chain",
            metrics.proof_failures_observed.clone(),
        );
        registry.register(
            "unauthorized",
            "Requests refused by the authorization check",
            metrics.unauthorized.clone(),
        );
        registry.register(
            "chain_errors",
            "Chain call failures",
            metrics.chain_errors.clone(),
        );
        registry.register(
            "queue_to_callback_seconds",
            "Seconds from first seeing a computation to this node's callback",
            metrics.queue_to_callback_seconds.clone(),
        );
        registry.register(
            "notices",
            "Transactions mentioning the cluster delivered by the subscription",
            metrics.notices.clone(),
        );
        registry.register(
            "subscription_up",
            "1 while the subscription to the cluster's transactions is open",
            metrics.subscription_up.clone(),
        );
        registry.register(
            "tasks_running",
            "Contribution and callback tasks running",
            metrics.tasks_running.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            // Out of file descriptors, say: wait instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            // A client that connects and sends nothing is dropped after 5 s.
            let n =
                match tokio::time::timeout(std::time::Duration::from_secs(5), sock.read(&mut buf))
                    .await
                {
                    Ok(Ok(n)) => n,
                    _ => return,
                };
            let req = String::from_utf8_lossy(&buf[..n]);
            let (status, body) = if req.starts_with("GET /metrics") {
                ("200 OK", metrics.render())
            } else {
                ("404 Not Found", "not found\n".to_string())
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        });
    }
}
