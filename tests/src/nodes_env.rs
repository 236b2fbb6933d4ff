//! Setup for the in-process node tests (`tests/e2e/nodes.rs`): a chain
//! (the embedded one, or the validator at `MEDSHARE_TEST_URL`, chosen by
//! [`crate::cli_env::start_chain`]), a [`LocalCluster`] of real node tasks,
//! and a patient and a doctor with funded wallets and registered identities.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use encrypted_ixs::keys::UserSecretKey;
use medshare::state::{Cluster, Computation, Role, ShareResult};
use medshare_client::contents::Contents;
use medshare_client::data::PatientData;
use medshare_client::user::{Client, Recipient, ShareTicket};
use medshare_sdk::chain::embedded::Embedded;
use medshare_sdk::chain::{fetch, LedgerEntry, SharedChain};
use mpc_node::cluster::{ClusterOptions, LocalCluster};
use mpc_node::Behaviour;
use rand_core::OsRng;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

pub use crate::{POLL, USER_FUNDS};
/// How much longer the bounds below are against a validator (400 ms slots,
/// confirmation and history lag) than on the embedded chain.
pub const VALIDATOR_SLOWDOWN: u32 = 6;

/// `bound` on the embedded chain, [`VALIDATOR_SLOWDOWN`] times it against a
/// validator.
fn scaled(bound: Duration) -> Duration {
    if crate::cli_env::test_url().is_some() {
        bound * VALIDATOR_SLOWDOWN
    } else {
        bound
    }
}

/// Upper bound for anything the cluster should finish quickly (20 s on the
/// embedded chain).
pub fn share_timeout() -> Duration {
    scaled(Duration::from_secs(20))
}
/// Record id the patient stores the sample record under.
pub const RECORD_ID: u64 = 1;

/// Cluster options for these tests: `t` of `n`, fast polling, the default TTL.
pub fn options(t: u8, n: u8) -> ClusterOptions {
    crate::cli_env::options_polling(t, n, POLL)
}

/// Cluster options with per-node behaviours (index 0 = node 1).
pub fn options_with(t: u8, n: u8, behaviours: Vec<Behaviour>) -> ClusterOptions {
    ClusterOptions {
        behaviours,
        ..options(t, n)
    }
}

/// An embedded chain, a running cluster and two users.
pub struct NodesEnv {
    /// The embedded chain (for `warp_slots`), unless the tests run against
    /// the validator at `MEDSHARE_TEST_URL`.
    pub embedded: Option<Arc<Embedded>>,
    /// The same chain behind the trait.
    pub chain: SharedChain,
    /// The node tasks.
    pub cluster: LocalCluster,
    /// The record owner (registered as a patient).
    pub patient: Client,
    /// The recipient (registered as a doctor).
    pub doctor: Client,
    /// Fails the run if the test hangs (dropped with the environment).
    pub watchdog: Watchdog,
}

/// A client with a fresh wallet and encryption key, funded from the faucet.
pub async fn funded_client(chain: &SharedChain) -> Client {
    let c = Client::new(
        chain.clone(),
        Keypair::new(),
        UserSecretKey::generate(&mut OsRng),
    );
    chain
        .airdrop(&c.wallet.pubkey(), USER_FUNDS)
        .await
        .expect("airdrop");
    c
}

impl NodesEnv {
    /// Starts a chain and a cluster (waits for its DKG) and registers a patient and a doctor.
    pub async fn start(opts: ClusterOptions) -> NodesEnv {
        Self::start_with_node_chain(opts, |chain| chain).await
    }

    /// As [`NodesEnv::start`], the nodes reaching the chain through
    /// `wrap(chain)` (to make their endpoint fail, say); the users do not.
    pub async fn start_with_node_chain(
        opts: ClusterOptions,
        wrap: impl FnOnce(SharedChain) -> SharedChain,
    ) -> NodesEnv {
        let name = std::thread::current()
            .name()
            .unwrap_or("a nodes test")
            .to_string();
        let watchdog = Watchdog::arm(&name, test_limit());
        let (chain, embedded) = crate::cli_env::start_chain().await;
        let cluster = within(
            "cluster start",
            LocalCluster::start(wrap(chain.clone()), opts.clone()),
        )
        .await
        .unwrap_or_else(|e| panic!("cluster {}-of-{} did not start: {e}", opts.t, opts.n));
        let patient = funded_client(&chain).await;
        let doctor = funded_client(&chain).await;
        patient
            .register(Role::Patient)
            .await
            .expect("patient registers");
        doctor
            .register(Role::Doctor)
            .await
            .expect("doctor registers");
        NodesEnv {
            embedded,
            chain,
            cluster,
            patient,
            doctor,
            watchdog,
        }
    }

    /// The cluster address.
    pub fn address(&self) -> Pubkey {
        self.cluster.address
    }

    /// The patient stores [`medshare_client::demo::sample_record`] as record
    /// [`RECORD_ID`]; returns the record address.
    pub async fn store_sample(&self) -> Pubkey {
        let data = medshare_client::demo::sample_record();
        let (record, version) = within(
            "storing the record",
            self.patient.store_fields(&self.address(), RECORD_ID, &data),
        )
        .await
        .expect("patient stores the sample record");
        assert_eq!(version, 1);
        record
    }

    /// The doctor as a recipient, resolved by wallet through their registered identity.
    pub async fn doctor_recipient(&self) -> Recipient {
        let r = self
            .patient
            .resolve_recipient(&self.doctor.wallet.pubkey().to_string())
            .await
            .expect("doctor's identity resolves");
        assert_eq!(r.wallet, Some(self.doctor.wallet.pubkey()));
        assert_eq!(r.key, self.doctor.encryption_key());
        r
    }

    /// The patient shares `mask` of `record` with the doctor.
    pub async fn share_to_doctor(&self, record: &Pubkey, mask: u8) -> ShareTicket {
        let to = self.doctor_recipient().await;
        within("share request", self.patient.share(record, mask, to))
            .await
            .expect("share request accepted")
    }

    /// Waits (bounded) for a share to complete.
    pub async fn wait_share(&self, ticket: &ShareTicket) -> ShareResult {
        within(
            "waiting for a share",
            self.patient.wait(ticket, share_timeout(), |_, _| {}),
        )
        .await
        .unwrap_or_else(|e| panic!("share {} did not complete: {e}", ticket.computation))
    }

    /// The cluster account.
    pub async fn cluster_account(&self) -> Cluster {
        fetch::<Cluster>(self.chain.as_ref(), &self.address())
            .await
            .expect("chain")
            .expect("cluster exists")
    }

    /// The nodes' service records, in node order (every node registered).
    pub async fn node_records(&self) -> Vec<medshare::state::NodeRecord> {
        let size = self.cluster.nodes.len();
        mpc_node::node::node_records(self.chain.as_ref(), &self.address(), size)
            .await
            .expect("chain")
            .into_iter()
            .map(|r| r.expect("every node registered"))
            .collect()
    }

    /// Waits (up to [`share_timeout`]) until `computation` has exactly `k`
    /// accepted contributions, and returns it then.
    pub async fn wait_contributors(
        &self,
        what: &str,
        computation: &Pubkey,
        k: usize,
    ) -> Computation {
        poll_until(what, share_timeout(), Duration::from_millis(5), || async {
            self.computation(computation)
                .await
                .filter(|c| c.contributors.len() == k)
        })
        .await
    }

    /// Asserts that the doctor decrypts `share_result` into exactly the
    /// `mask` groups of the sample record.
    pub async fn assert_doctor_opens(&self, share_result: &Pubkey, mask: u8) {
        let opened = self
            .doctor
            .decrypt(share_result)
            .await
            .expect("doctor decrypts");
        assert_eq!(
            opened.contents.data,
            expected_fields(&medshare_client::demo::sample_record(), mask)
        );
    }

    /// A computation account, if it still exists.
    pub async fn computation(&self, address: &Pubkey) -> Option<Computation> {
        fetch::<Computation>(self.chain.as_ref(), address)
            .await
            .expect("chain")
    }

    /// Sum of the nodes' `contributions` counters (current node tasks' metrics).
    pub fn contributions_metric(&self) -> u64 {
        self.cluster
            .nodes
            .iter()
            .map(|n| n.metrics.contributions.get())
            .sum()
    }

    /// Ledger entries that touched `address`.
    pub async fn history(&self, address: &Pubkey) -> Vec<LedgerEntry> {
        within("reading the ledger", self.chain.history(address))
            .await
            .expect("history")
    }

    /// Ledger entries that touched `address`, once `settled` holds for them
    /// (or as they are after 10 s, a minute on a validator, whose history
    /// lags a few seconds behind its accounts). The embedded chain appends a
    /// transaction to its ledger when the sender's call returns, which can be
    /// a moment after other parties already see its effects in accounts.
    pub async fn history_when(
        &self,
        address: &Pubkey,
        settled: impl Fn(&[LedgerEntry]) -> bool,
    ) -> Vec<LedgerEntry> {
        history_until(self.chain.as_ref(), address, settled).await
    }

    /// Events of type `E` emitted by successful transactions that touched `address`.
    pub async fn events<E>(&self, address: &Pubkey) -> Vec<E>
    where
        E: anchor_lang::Event + anchor_lang::AnchorDeserialize,
    {
        events_in(&self.history(address).await)
    }

    /// Stops node `i` (1-based) gracefully and waits for its task to end.
    pub async fn stop(&mut self, i: usize) {
        within(&format!("stopping node {i}"), self.cluster.stop(i)).await;
    }

    /// Aborts node `i`'s task.
    pub async fn kill(&mut self, i: usize) {
        within(&format!("killing node {i}"), self.cluster.kill(i)).await;
    }

    /// Stops the nodes and removes their key stores.
    pub async fn shutdown(self) {
        within("cluster shutdown", self.cluster.shutdown()).await;
    }
}

/// How long a history read is repeated until it shows what a test expects:
/// 10 s on the embedded chain, a minute on a validator (whose history lags a
/// few seconds behind its accounts).
pub fn history_settle() -> Duration {
    scaled(Duration::from_secs(10))
}

/// What `read` returns, once `settled` holds for it, or as it is after
/// [`history_settle`]: for reads of a validator's history, which lag.
async fn read_until<T, Fut>(
    what: &str,
    mut read: impl FnMut() -> Fut,
    settled: impl Fn(&T) -> bool,
) -> T
where
    Fut: Future<Output = T>,
{
    let start = Instant::now();
    loop {
        let v = within(what, read()).await;
        if settled(&v) || start.elapsed() > history_settle() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Ledger entries that touched `address`, once `settled` holds for them, or
/// as they are after [`history_settle`].
pub async fn history_until(
    chain: &dyn medshare_sdk::chain::Chain,
    address: &Pubkey,
    settled: impl Fn(&[LedgerEntry]) -> bool,
) -> Vec<LedgerEntry> {
    read_until(
        "reading the ledger",
        || async { chain.history(address).await.expect("history") },
        |h: &Vec<LedgerEntry>| settled(h),
    )
    .await
}

/// A record's audit trail, once `settled` holds for it, or as it is after
/// [`history_settle`].
pub async fn trail_until(
    chain: &dyn medshare_sdk::chain::Chain,
    record: &Pubkey,
    settled: impl Fn(&[medshare_client::user::audit::AuditEvent]) -> bool,
) -> Vec<medshare_client::user::audit::AuditEvent> {
    read_until(
        "reading the audit trail",
        || async {
            medshare_client::user::audit::trail(chain, record)
                .await
                .expect("audit trail")
        },
        |t: &Vec<medshare_client::user::audit::AuditEvent>| settled(t),
    )
    .await
}

/// Events of type `E` in successful ledger entries.
pub fn events_in<E>(entries: &[LedgerEntry]) -> Vec<E>
where
    E: anchor_lang::Event + anchor_lang::AnchorDeserialize,
{
    entries
        .iter()
        .filter(|e| e.success)
        .flat_map(|e| medshare_sdk::events::events::<E>(&e.logs))
        .collect()
}

/// What a recipient of `mask` of `data` must see: exactly the fields of
/// those groups, nothing else.
pub fn expected_fields(data: &PatientData, mask: u8) -> PatientData {
    let mut c = Contents::default();
    for (_, body) in data
        .group_fields()
        .into_iter()
        .filter(|(g, _)| mask & (1 << g) != 0)
    {
        c.merge(body).expect("groups of a valid record");
    }
    c.data
}

/// Longest a test using [`NodesEnv`] may run before [`Watchdog`] ends the process.
/// (90 s on the embedded chain.)
pub fn test_limit() -> Duration {
    scaled(Duration::from_secs(90))
}

/// The testkit's one hang guard: ends the test process if a test is still
/// running after its limit ([`NodesEnv`] arms one for [`test_limit`],
/// [`crate::cli_env::run_test`] for its test timeout).
///
/// If the bank wedges, both runtime workers block on its locks and no async
/// timeout ([`within`], [`poll_until`]) can fire any more, so the test would
/// hang forever. (The embedded chain did exactly that before its slot gate:
/// `warp_to_slot` holds the bank forks' write lock while it waits for the
/// program cache, and a transaction in flight holds the program cache while
/// it waits for the bank forks.) A plain thread notices and fails the run.
pub struct Watchdog {
    done: std::sync::mpsc::Sender<()>,
}

impl Watchdog {
    /// Arms a watchdog for `test`.
    pub fn arm(test: &str, limit: Duration) -> Watchdog {
        let (done, rx) = std::sync::mpsc::channel::<()>();
        let test = test.to_string();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                // Straight to the process's stderr: this thread inherits the
                // test's output capture, which `exit` would discard.
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "{test}: still running after {limit:?} (is the embedded chain's bank \
                     deadlocked?); failing the run"
                );
                std::process::exit(101);
            }
        });
        Watchdog { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let _ = self.done.send(());
    }
}

/// Longest any single step of a test may take before the test fails naming it.
/// (30 s on the embedded chain.)
pub fn step_timeout() -> Duration {
    scaled(Duration::from_secs(30))
}

/// Awaits `fut`, failing the test with `what` if it takes longer than [`step_timeout`].
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(step_timeout(), fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no result after {:?}", step_timeout()),
    }
}

/// Polls `probe` every `every` until it returns `Some`, or panics after `timeout` naming `what`.
pub async fn poll_until<T, F, Fut>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut probe: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(every).await;
    }
}
