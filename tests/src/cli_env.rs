//! Setup for the CLI tests (`tests/e2e/cli*.rs`): a chain, a
//! [`LocalCluster`] of real node tasks, and users with a funded wallet file, a
//! sealed key file and a passphrase file. Every command goes through
//! [`medshare_client::cli::execute`], parsed from argv exactly as the binary
//! parses it.
//!
//! The chain is the embedded one, or the validator at `MEDSHARE_TEST_URL`
//! (e.g. `http://127.0.0.1:8899`, a `solana-test-validator` with the
//! program deployed): [`start_chain`] is the only place that chooses. Tests
//! that need embedded-only features (warping slots) call
//! [`skip_unless_embedded`] first.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use encrypted_ixs::keys::UserSecretKey;
use medshare_client::cli::{execute, Cli};
use medshare_client::data::PatientData;
use medshare_client::error::ClientError;
use medshare_sdk::chain::embedded::Embedded;
use medshare_sdk::chain::rpc::Rpc;
use medshare_sdk::chain::SharedChain;
use mpc_node::cluster::{ClusterOptions, LocalCluster};
use serde_json::Value;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

/// Set to a validator's RPC URL to run the CLI tests against it.
pub const TEST_URL_VAR: &str = "MEDSHARE_TEST_URL";
pub use crate::{POLL, USER_FUNDS};
/// Upper bound for one test on the embedded chain (they take a few seconds).
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Upper bound for one test against a validator (400 ms slots, and an
/// audit trail that lags the chain by a few seconds, see [`CliEnv::audit`]).
/// The longest, `test_cli_study_released_by_the_nodes`, sends some 300
/// transactions one after another: eleven patients' values, two studies,
/// and the nodes' noise bits (22 transactions per node for an age at ε = 1),
/// partial decryptions and releases; it ran past 240 s.
pub const TEST_TIMEOUT_VALIDATOR: Duration = Duration::from_secs(600);
/// How long [`CliEnv::audit`] waits for a validator's history to show what
/// a test expects.
pub const AUDIT_SETTLE: Duration = Duration::from_secs(60);

/// The bound for one test: [`TEST_TIMEOUT`], or [`TEST_TIMEOUT_VALIDATOR`]
/// when `MEDSHARE_TEST_URL` is set.
pub fn test_timeout() -> Duration {
    if test_url().is_some() {
        TEST_TIMEOUT_VALIDATOR
    } else {
        TEST_TIMEOUT
    }
}

/// Runs a test body on its own multi-threaded runtime under the testkit's
/// one hang guard ([`Watchdog`](crate::nodes_env::Watchdog)), armed for
/// [`test_timeout`]: a test still running past it ends the run naming
/// itself, even when every runtime worker is blocked (a deadlocked embedded
/// bank blocks them inside synchronous locks).
pub fn run_test(name: &str, body: impl std::future::Future<Output = ()>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let _guard = crate::nodes_env::Watchdog::arm(name, test_timeout());
    rt.block_on(body);
}

/// The validator URL from `MEDSHARE_TEST_URL`, if set (and not empty).
pub fn test_url() -> Option<String> {
    std::env::var(TEST_URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// The chain the tests run on: the validator at `MEDSHARE_TEST_URL`, else a
/// fresh embedded chain (returned a second time, typed, for `warp_slots`).
pub async fn start_chain() -> (SharedChain, Option<Arc<Embedded>>) {
    match test_url() {
        Some(url) => (Arc::new(Rpc::new(&url)), None),
        None => {
            let embedded = Embedded::start().await;
            (embedded.clone(), Some(embedded))
        }
    }
}

/// True (and a note on stderr) when the test must be skipped because it
/// needs the embedded chain and `MEDSHARE_TEST_URL` points elsewhere.
pub fn skip_unless_embedded(test: &str) -> bool {
    match test_url() {
        Some(url) => {
            eprintln!(
                "note: skipping {test}: it needs the embedded chain (slot warps, or the embedded backend itself), but {TEST_URL_VAR}={url}"
            );
            true
        }
        None => false,
    }
}

/// Cluster options for these tests: `t` of `n`, fast polling.
pub fn options(t: u8, n: u8) -> ClusterOptions {
    options_polling(t, n, POLL)
}

/// Cluster options: `t` of `n`, nodes polling every `poll`, and on a
/// validator node fallbacks that suit its slots.
pub fn options_polling(t: u8, n: u8, poll: Duration) -> ClusterOptions {
    let opts = ClusterOptions {
        poll,
        ..ClusterOptions::new(t, n)
    };
    if test_url().is_some() {
        // 400 ms slots: a transaction takes about a second to confirm, so
        // the fallbacks that suit the embedded chain would have the nodes
        // beyond the first t contribute, and the others post the callback,
        // before the first ones' transactions confirm.
        ClusterOptions {
            contribution_fallback: Duration::from_secs(3),
            callback_fallback: Duration::from_secs(4),
            ..opts
        }
    } else {
        opts
    }
}

/// A user of the CLI: the files its commands are given.
pub struct User {
    /// A name, for messages.
    pub name: String,
    /// The wallet address.
    pub pubkey: Pubkey,
    /// The wallet keypair file (Solana CLI JSON).
    pub keypair: PathBuf,
    /// Where `keygen` seals the encryption key.
    pub key_file: PathBuf,
    /// The passphrase file.
    pub passphrase_file: PathBuf,
}

impl User {
    /// The wallet address, as the CLI takes it.
    pub fn wallet(&self) -> String {
        self.pubkey.to_string()
    }

    /// The passphrase currently in the passphrase file.
    pub fn passphrase(&self) -> String {
        std::fs::read_to_string(&self.passphrase_file)
            .expect("passphrase file")
            .trim_end()
            .to_string()
    }

    /// Replaces the passphrase in the passphrase file.
    pub fn set_passphrase(&self, passphrase: &str) {
        std::fs::write(&self.passphrase_file, format!("{passphrase}\n"))
            .expect("write passphrase file");
    }

    /// Opens the sealed key file (after `keygen`) with the passphrase file.
    pub fn secret_key(&self) -> UserSecretKey {
        medshare_client::wallet::open_key(&self.key_file, &self.pubkey, &self.passphrase())
            .expect("open the sealed key file")
    }

    /// The record address of this user's record `id`.
    pub fn record(&self, id: u64) -> Pubkey {
        medshare::pda::record(&self.pubkey, id)
    }
}

static NEXT_ENV: AtomicUsize = AtomicUsize::new(0);

/// A chain, maybe a running cluster, and a scratch directory for user files.
pub struct CliEnv {
    /// The chain every command runs on.
    pub chain: SharedChain,
    /// The same chain, when it is the embedded one.
    pub embedded: Option<Arc<Embedded>>,
    /// The cluster of node tasks, when started.
    pub cluster: Option<LocalCluster>,
    /// Scratch directory (wallets, key files, passphrases, JSON inputs).
    pub dir: PathBuf,
}

impl CliEnv {
    /// A chain and a `t`-of-`n` cluster whose DKG has finished.
    pub async fn new(t: u8, n: u8) -> Self {
        Self::with_options(options(t, n)).await
    }

    /// A chain and a cluster with these options.
    pub async fn with_options(opts: ClusterOptions) -> Self {
        let mut env = Self::without_cluster().await;
        let lc = LocalCluster::start(env.chain.clone(), opts.clone())
            .await
            .unwrap_or_else(|e| panic!("cluster {}-of-{} did not start: {e}", opts.t, opts.n));
        env.cluster = Some(lc);
        env
    }

    /// A chain only (commands that never reach a cluster).
    pub async fn without_cluster() -> Self {
        let (chain, embedded) = start_chain().await;
        // libtest names each test's thread after the test; the counter keeps
        // names unique when it does not (--test-threads=1 runs on `main`).
        let thread = std::thread::current()
            .name()
            .unwrap_or("test")
            .replace("::", "-");
        let dir = std::env::temp_dir().join(format!(
            "medshare-cli-{}-{}-{}",
            std::process::id(),
            thread,
            NEXT_ENV.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the test directory");
        CliEnv {
            chain,
            embedded,
            cluster: None,
            dir,
        }
    }

    /// The running cluster.
    pub fn lc(&mut self) -> &mut LocalCluster {
        self.cluster.as_mut().expect("this env has no cluster")
    }

    /// The cluster's address.
    pub fn cluster_address(&self) -> Pubkey {
        self.cluster
            .as_ref()
            .expect("this env has no cluster")
            .address
    }

    /// The cluster's address, as the CLI takes it.
    pub fn cluster_arg(&self) -> String {
        self.cluster_address().to_string()
    }

    /// The embedded chain (panics on a validator: guard with [`skip_unless_embedded`]).
    pub fn embedded(&self) -> &Arc<Embedded> {
        self.embedded
            .as_ref()
            .expect("this test needs the embedded chain")
    }

    /// A new user: a funded wallet file, a passphrase file, and the path
    /// where `keygen` will seal its key (not created yet).
    pub async fn user(&self, name: &str) -> User {
        let kp = Keypair::new();
        let keypair = self.dir.join(format!("{name}-wallet.json"));
        std::fs::write(
            &keypair,
            serde_json::to_string(&kp.to_bytes().to_vec()).expect("JSON"),
        )
        .expect("write the wallet file");
        let passphrase_file = self.dir.join(format!("{name}-passphrase.txt"));
        let user = User {
            name: name.to_string(),
            pubkey: kp.pubkey(),
            keypair,
            key_file: self.dir.join("keys").join(format!("{name}.json")),
            passphrase_file,
        };
        user.set_passphrase(&format!("correct horse battery staple of {name}"));
        self.chain
            .airdrop(&kp.pubkey(), USER_FUNDS)
            .await
            .unwrap_or_else(|e| panic!("airdrop to {name}: {e}"));
        user
    }

    /// A new user who ran `keygen` (no registration).
    pub async fn user_with_key(&self, name: &str) -> User {
        let u = self.user(name).await;
        self.run(&u, &["keygen"])
            .await
            .unwrap_or_else(|e| panic!("keygen for {name}: {e}"));
        u
    }

    /// A new user who ran `keygen` and `register --role <role>`.
    pub async fn registered(&self, name: &str, role: &str) -> User {
        let u = self.user_with_key(name).await;
        self.run(&u, &["register", "--role", role])
            .await
            .unwrap_or_else(|e| panic!("register {name}: {e}"));
        u
    }

    /// The argv of `user` running `args` (global options first; `--store`
    /// is [`CliEnv::blob_dir`] unless `args` name one).
    pub fn argv(&self, user: &User, args: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = vec![
            "medshare".into(),
            "--keypair".into(),
            user.keypair.display().to_string(),
            "--key-file".into(),
            user.key_file.display().to_string(),
            "--passphrase-file".into(),
            user.passphrase_file.display().to_string(),
        ];
        // Blobs go to this env's scratch directory unless a test names a store.
        if !args.contains(&"--store") {
            v.push("--store".into());
            v.push(self.blob_dir().display().to_string());
        }
        v.extend(args.iter().map(|s| s.to_string()));
        v
    }

    /// The local blob store every command uses unless it names another.
    pub fn blob_dir(&self) -> PathBuf {
        self.dir.join("blobs")
    }

    /// Parses `user` running `args` as the binary would.
    pub fn cli(&self, user: &User, args: &[&str]) -> Cli {
        let argv = self.argv(user, args);
        Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?} does not parse: {e}"))
    }

    /// Runs one command as `user`; also returns the progress lines.
    pub async fn run_progress(
        &self,
        user: &User,
        args: &[&str],
    ) -> (Result<String, ClientError>, Vec<String>) {
        let cli = self.cli(user, args);
        let mut lines = Vec::new();
        let out = execute(&cli, Some(self.chain.clone()), |l| {
            lines.push(l.to_string())
        })
        .await;
        (out, lines)
    }

    /// Runs one command as `user` and returns what the binary would print.
    pub async fn run(&self, user: &User, args: &[&str]) -> Result<String, ClientError> {
        self.run_progress(user, args).await.0
    }

    /// Runs one command with `--json` and parses its output (panics on an error).
    pub async fn run_json(&self, user: &User, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self
            .run(user, &a)
            .await
            .unwrap_or_else(|e| panic!("{} {args:?} failed: {e}", user.name));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// Runs `medshare audit` with `args` until `settled` holds of its output.
    /// On the embedded chain the history is immediate: one run. A validator
    /// lists a transaction in `getSignaturesForAddress` a few seconds after
    /// confirming it (about 3 s on `solana-test-validator`), so there the
    /// audit is run again for up to [`AUDIT_SETTLE`]; the last output is
    /// returned either way, for the caller's assertions.
    pub async fn audit(
        &self,
        user: &User,
        args: &[&str],
        settled: impl Fn(&str) -> bool,
    ) -> String {
        let mut a = vec!["audit"];
        a.extend_from_slice(args);
        self.run_until(user, &a, settled).await
    }

    /// Runs a command that reads the chain's history (`audit`, `consent
    /// list`) until `settled` holds of its output; see [`CliEnv::audit`].
    pub async fn run_until(
        &self,
        user: &User,
        a: &[&str],
        settled: impl Fn(&str) -> bool,
    ) -> String {
        let start = std::time::Instant::now();
        loop {
            let out = self
                .run(user, a)
                .await
                .unwrap_or_else(|e| panic!("{} {a:?} failed: {e}", user.name));
            // An RPC node may list a transaction before it serves its logs:
            // the trail then marks it `LogsUnavailable`; ask again.
            let complete = !out.contains("LogsUnavailable");
            if (settled(&out) && complete) || test_url().is_none() || start.elapsed() > AUDIT_SETTLE
            {
                return out;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Writes `contents` to a file in the scratch directory.
    pub fn write_file(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, contents).expect("write file");
        p
    }

    /// Writes `data` as a JSON file for `store --file`.
    pub fn data_file(&self, name: &str, data: &PatientData) -> PathBuf {
        self.write_file(name, &serde_json::to_string_pretty(data).expect("JSON"))
    }

    /// `user` stores `data` as new record `id` through `store --file`;
    /// returns the `--json` output.
    pub async fn store(&self, user: &User, id: u64, data: &PatientData) -> Value {
        self.store_with(user, id, data, &[]).await
    }

    /// `user` stores `data` as a new version of record `id` (`store --file
    /// --new-version`); returns the `--json` output.
    pub async fn store_new_version(&self, user: &User, id: u64, data: &PatientData) -> Value {
        self.store_with(user, id, data, &["--new-version"]).await
    }

    async fn store_with(&self, user: &User, id: u64, data: &PatientData, extra: &[&str]) -> Value {
        let file = self.data_file(&format!("{}-record-{id}.json", user.name), data);
        let cluster = self.cluster_arg();
        let id = id.to_string();
        let mut args = vec![
            "store",
            "--cluster",
            &cluster,
            "--record-id",
            &id,
            "--file",
            path_str(&file),
        ];
        args.extend_from_slice(extra);
        self.run_json(user, &args).await
    }
}

/// A path as a `&str` argument.
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

impl Drop for CliEnv {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(lc) = &self.cluster {
            let _ = std::fs::remove_dir_all(&lc.dir);
        }
    }
}
