//! The bench report: latency and slot distributions, and the table.

use std::time::Duration;

use super::{BenchOptions, BenchReport};

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

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// The report as a table, with the targets.
pub fn render(opts: &BenchOptions, report: &BenchReport) -> String {
    use std::fmt::Write as _;
    let mut table = String::new();
    let chain = match &opts.url {
        Some(url) => medshare_sdk::chain::rpc::resolve_url(url),
        None => "embedded chain".into(),
    };
    let on_embedded = opts.url.is_none();
    let _ = writeln!(
        table,
        "\nmpc-node bench ({chain}, node poll {} ms, callback fallback {} ms)",
        opts.poll.as_millis(),
        opts.callback_fallback.as_millis()
    );
    if !report.dkg.is_empty() {
        let _ = writeln!(
            table,
            "\nDKG                 total ms   key stores ms   protocol ms   target"
        );
    }
    for figure in &report.dkg {
        let target = if figure.n == 10 && on_embedded {
            format!(
                "<= 5000 ms: {}",
                if figure.total <= Duration::from_secs(5) {
                    "met"
                } else {
                    "NOT met"
                }
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            table,
            "  t={:<2} n={:<2}       {:>9}   {:>13}   {:>11}   {target}",
            figure.t,
            figure.n,
            ms(figure.total),
            ms(figure.key_stores),
            ms(figure.protocol)
        );
    }
    let sh = &report.shares;
    let _ = writeln!(
        table,
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
        table,
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
        table,
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
        table,
        "\n  latency (ms)                    median      p99      max     mean"
    );
    let row = |table: &mut String, name: &str, summary: &Summary, extra: &str| {
        let _ = writeln!(
            table,
            "  {name:<30} {:>7} {:>8} {:>8} {:>8}  {extra}",
            ms(summary.median),
            ms(summary.p99),
            ms(summary.max),
            ms(summary.mean)
        );
    };
    row(&mut table, "request sent -> landed", &sh.request, "");
    let target = if on_embedded {
        format!(
            "p99 target <= 100: {}",
            met(sh.queue_to_callback.p99 <= Duration::from_millis(100))
        )
    } else {
        String::new()
    };
    row(
        &mut table,
        "queue-to-callback",
        &sh.queue_to_callback,
        &target,
    );
    row(
        &mut table,
        "  landed -> 1st contribution",
        &sh.to_first_contribution,
        "",
    );
    row(
        &mut table,
        "  1st -> t-th contribution",
        &sh.first_to_threshold,
        "",
    );
    row(
        &mut table,
        "  t-th contribution -> result",
        &sh.threshold_to_callback,
        "",
    );
    row(
        &mut table,
        "request sent -> result",
        &sh.request_to_result,
        "",
    );
    let _ = writeln!(
        table,
        "\n  contributions sent by nodes: {} ({:.2} per share, t = {}); node tick failures: {}",
        sh.contributions_sent,
        sh.contributions_sent as f64 / sh.completed.max(1) as f64,
        opts.share_cluster.0,
        sh.chain_errors
    );
    let _ = writeln!(
        table,
        "  transactions on the cluster account during the share run, by outcome:"
    );
    for (outcome, count) in &sh.ledger {
        let _ = writeln!(table, "    {count:>6}  {outcome}");
    }
    let costs = &report.costs;
    let _ = writeln!(table, "\nisolated costs");
    let _ = writeln!(
        table,
        "  contribution proof, one group     {:>8} ms",
        ms(costs.prove)
    );
    let _ = writeln!(
        table,
        "  contribution verify, one group    {:>8} ms",
        ms(costs.verify)
    );
    let _ = writeln!(
        table,
        "  key-store Argon2id derivation     {:>8} ms",
        ms(costs.argon2)
    );
    let _ = writeln!(
        table,
        "  transfer sent -> confirmed        {:>8} ms median, {} ms p99",
        ms(costs.transfer.median),
        ms(costs.transfer.p99)
    );
    table
}
