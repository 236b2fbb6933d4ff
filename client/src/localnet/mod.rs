//! `medshare localnet`: a local MedShare network in one command.
//!
//! It starts `solana-test-validator` (found on `PATH`) with the program's
//! SBF ELF deployed at the program id, creates a `t`-of-`n` cluster, starts
//! `n` `mpc-node run` processes (each with its own authority keypair and
//! sealed key store), funds everyone from the validator's faucet, waits for
//! the DKG, and prints what a user needs next. It then watches its children
//! until Ctrl-C or SIGTERM, and stops every one of them before it returns.
//!
//! Everything lives in one directory (default `~/.config/medshare/localnet`):
//!
//! ```text
//! localnet.json         the cluster address, t and n (written once the DKG is done)
//! admin.json            the cluster admin's keypair
//! ledger/               the validator's ledger
//! validator.log         the validator's output
//! node-<i>/             authority.json, keys.json (sealed), passphrase (0600)
//! node-<i>.log          the node's log
//! ```
//!
//! A second start **reuses** the ledger and the cluster when the directory
//! holds a finished localnet of the same `t` and `n`: the accounts, records
//! and shares of the last session are still there, and the nodes resume from
//! their key stores without a new DKG. `--reset` (or a different `t`/`n`, or
//! a directory whose first start never finished) replaces the ledger and
//! every key with new ones. A reused ledger keeps the program it was created
//! with; `--reset` deploys the current ELF.
//!
//! This is a development network: the node passphrases sit beside the key
//! stores (owner-only files) so the nodes can restart unattended.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use medshare::state::{Cluster, ClusterStatus};
use medshare_sdk::chain::rpc::Rpc;
use medshare_sdk::chain::{fetch, Chain, SharedChain};
use medshare_sdk::keystore::{self, KeyStore};
use serde::{Deserialize, Serialize};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, Keypair, Signer};
use zeroize::Zeroizing;

use crate::error::{ClientError, Result};

mod procs;
pub use procs::{find_mpc_node, find_program, find_validator, on_path};
use procs::{Proc, Procs};

/// Shreds of history `localnet`'s validator keeps (at most about 1.2 GB of
/// ledger): the audit trail reads transactions back that far.
pub const LEDGER_SHREDS: u64 = 1_000_000;

/// The command that installs the validator, named when it is missing.
pub const VALIDATOR_INSTALL: &str =
    "cargo install agave-validator --version 3.1.12 --locked --bin solana-test-validator";

/// Lamports the admin is funded with.
const ADMIN_FUNDS: u64 = 100_000_000_000;
/// Lamports each node authority is funded with.
const NODE_FUNDS: u64 = 10_000_000_000;
/// How long the validator may take to answer after it starts.
const VALIDATOR_START: Duration = Duration::from_secs(120);
/// How long the DKG may take.
const DKG_TIMEOUT: Duration = Duration::from_secs(300);
/// How long stopping waits for the validator to finalize what it confirmed
/// (32 slots of 400 ms, with margin).
const FINALIZE_WAIT: Duration = Duration::from_secs(30);
/// How long a child may take to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// What `medshare localnet` was asked for.
#[derive(Clone, Debug)]
pub struct LocalnetOptions {
    /// Threshold.
    pub t: u8,
    /// Number of nodes.
    pub n: u8,
    /// The localnet directory.
    pub dir: PathBuf,
    /// Replace the ledger and keys even when they could be reused.
    pub reset: bool,
    /// The validator's RPC port (websockets on the next one).
    pub rpc_port: u16,
    /// The program ELF; default: `target/deploy/medshare.so` here or next to the binaries.
    pub program: Option<PathBuf>,
    /// Node poll interval (ms) passed to each `mpc-node run`.
    pub poll_ms: u64,
}

/// What a finished localnet start wrote down, to reuse it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Saved {
    cluster: String,
    threshold: u8,
    nodes: u8,
}

/// `~/.config/medshare/localnet`.
pub fn default_dir() -> PathBuf {
    crate::wallet::config_dir().join("localnet")
}

fn io(what: &str, path: &Path, e: impl std::fmt::Display) -> ClientError {
    ClientError::Io(format!("{what} {}: {e}", path.display()))
}

/// Reads a keypair file written by this module, or creates it. An existing
/// file is adopted only if it is what this module writes: a regular file
/// (not a link someone planted), owned by this user and readable by nobody
/// else (the owner of the localnet directory); anything else is refused
/// with the path, so that nobody hands the localnet a key they also hold.
fn keypair_at(path: &Path) -> Result<Keypair> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            // The localnet directory is this user's: the key must be too.
            let mine = path
                .parent()
                .and_then(|parent| parent.metadata().ok())
                .is_some_and(|parent_meta| parent_meta.uid() == meta.uid());
            if !meta.file_type().is_file() || meta.permissions().mode() & 0o077 != 0 || !mine {
                return Err(io(
                    "refusing to adopt keypair",
                    path,
                    "not an owner-only file of this user written by `medshare localnet` (remove it, or start with --reset)",
                ));
            }
        }
        return read_keypair_file(path).map_err(|e| io("cannot read keypair", path, e));
    }
    let keypair = Keypair::new();
    let json = Zeroizing::new(serde_json::to_string(&keypair.to_bytes().to_vec()).expect("JSON"));
    keystore::write_private(path, json.as_bytes()).map_err(|e| io("cannot write", path, e))?;
    Ok(keypair)
}

/// Runs a localnet until `shutdown` resolves; `progress` gets every line
/// for the person at the terminal.
pub async fn run(
    opts: &LocalnetOptions,
    mut progress: impl FnMut(&str),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    if opts.t == 0 || opts.t > opts.n {
        return Err(ClientError::Invalid(format!(
            "the threshold must be between 1 and the number of nodes (got {} of {})",
            opts.t, opts.n
        )));
    }
    let validator = find_validator()?;
    let mpc_node = find_mpc_node()?;
    let program = find_program(opts.program.as_deref())?;
    let started = Instant::now();
    let dir = &opts.dir;
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
    let state_file = dir.join("localnet.json");
    let ledger = dir.join("ledger");
    let saved: Option<Saved> = std::fs::read(&state_file)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let reuse = match (&saved, opts.reset) {
        (Some(previous), false)
            if previous.threshold == opts.t && previous.nodes == opts.n && ledger.is_dir() =>
        {
            true
        }
        (Some(previous), false) if ledger.is_dir() => {
            progress(&format!(
                "{} holds a {}-of-{} localnet; replacing it with a {}-of-{} one",
                dir.display(),
                previous.threshold,
                previous.nodes,
                opts.t,
                opts.n
            ));
            false
        }
        _ => false,
    };
    if !reuse {
        // A new ledger means new keys: remove the old ones with it.
        let _ = std::fs::remove_file(&state_file);
        let _ = std::fs::remove_file(dir.join("admin.json"));
        for i in 1..=u8::MAX {
            let node_dir = dir.join(format!("node-{i}"));
            if !node_dir.exists() {
                break;
            }
            std::fs::remove_dir_all(&node_dir).map_err(|e| io("cannot remove", &node_dir, e))?;
        }
    }

    let url = format!("http://127.0.0.1:{}", opts.rpc_port);
    let mut args: Vec<String> = vec![
        "--ledger".into(),
        ledger.display().to_string(),
        "--rpc-port".into(),
        opts.rpc_port.to_string(),
        "--quiet".into(),
        // The history the audit trail reads: solana-test-validator keeps
        // only 10,000 shreds by default and purges older slots with their
        // transactions and address index.
        "--limit-ledger-size".into(),
        LEDGER_SHREDS.to_string(),
        "--bpf-program".into(),
        medshare::ID.to_string(),
        program.display().to_string(),
    ];
    if !reuse {
        args.push("--reset".into());
    }
    progress(&format!(
        "starting solana-test-validator on {url} ({} ledger {})",
        if reuse { "reusing the" } else { "new" },
        ledger.display()
    ));
    let mut procs = Procs(vec![Proc::spawn(
        "solana-test-validator".into(),
        &validator,
        &args,
        dir.join("validator.log"),
    )?]);
    let rpc = std::sync::Arc::new(Rpc::new(&url));
    let chain: SharedChain = rpc.clone();
    tokio::pin!(shutdown);
    let setup = async {
        wait_validator(chain.as_ref(), &mut procs.0[0]).await?;
        progress(&format!(
            "validator up after {:.1} s",
            started.elapsed().as_secs_f64()
        ));
        let cluster = match (&saved, reuse) {
            (Some(previous), true) => previous.cluster.parse::<Pubkey>().map_err(|_| {
                ClientError::Invalid(format!("{} is corrupt", state_file.display()))
            })?,
            _ => create(chain.as_ref(), opts, &mut progress).await?,
        };
        for i in 1..=opts.n as usize {
            let node_process = start_node(&mpc_node, &url, dir, i, &cluster, opts.poll_ms)?;
            progress(&format!(
                "node {i} running (pid {}, log {})",
                node_process.pid(),
                node_process.log.display()
            ));
            procs.0.push(node_process);
        }
        let dkg = Instant::now();
        wait_ready(chain.as_ref(), &cluster, &mut procs).await?;
        if !reuse {
            progress(&format!(
                "DKG of {} nodes done in {:.1} s",
                opts.n,
                dkg.elapsed().as_secs_f64()
            ));
            let saved = Saved {
                cluster: cluster.to_string(),
                threshold: opts.t,
                nodes: opts.n,
            };
            std::fs::write(
                &state_file,
                serde_json::to_vec_pretty(&saved).expect("JSON"),
            )
            .map_err(|e| io("cannot write", &state_file, e))?;
        }
        Ok::<Pubkey, ClientError>(cluster)
    };
    let set_up = tokio::select! {
        result = setup => Some(result),
        () = &mut shutdown => None,
    };
    let cluster = match set_up {
        Some(Ok(cluster)) => cluster,
        Some(Err(e)) => {
            procs.stop_all(&rpc, &mut progress).await;
            return Err(e);
        }
        None => {
            progress("interrupted; stopping");
            procs.stop_all(&rpc, &mut progress).await;
            return Ok(());
        }
    };
    for line in ready_text(opts, &url, &cluster, started.elapsed(), reuse) {
        progress(&line);
    }
    // Watch the children until asked to stop.
    let outcome = loop {
        tokio::select! {
            () = &mut shutdown => break Ok(()),
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let mut exited = None;
        for (k, process) in procs.0.iter_mut().enumerate() {
            if let Ok(Some(status)) = process.child.try_wait() {
                exited = Some((k, status));
                break;
            }
        }
        if let Some((k, status)) = exited {
            let process = procs.0.remove(k);
            let msg = format!(
                "{} exited ({status}); see {}",
                process.name,
                process.log.display()
            );
            if k == 0 {
                break Err(ClientError::Io(msg));
            }
            progress(&msg);
        }
    };
    progress("stopping the nodes and the validator");
    procs.stop_all(&rpc, &mut progress).await;
    outcome
}

/// Waits until the validator answers and has confirmed a few new slots (a
/// validator restarted from its ledger answers while it is still replaying
/// it), or fails if it exits.
async fn wait_validator(chain: &dyn Chain, validator: &mut Proc) -> Result<()> {
    let start = Instant::now();
    let mut first = None;
    loop {
        if let Ok(slot) = chain.slot().await {
            let s0 = *first.get_or_insert(slot);
            if slot >= s0 + 3 {
                return Ok(());
            }
        }
        if let Ok(Some(status)) = validator.child.try_wait() {
            return Err(ClientError::Io(format!(
                "solana-test-validator exited ({status}); see {}",
                validator.log.display()
            )));
        }
        if start.elapsed() > VALIDATOR_START {
            return Err(ClientError::Io(format!(
                "solana-test-validator did not answer within {} s; see {}",
                VALIDATOR_START.as_secs(),
                validator.log.display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Creates the admin, the cluster and the nodes' keys; funds them all.
async fn create(
    chain: &dyn Chain,
    opts: &LocalnetOptions,
    progress: &mut impl FnMut(&str),
) -> Result<Pubkey> {
    let admin = keypair_at(&opts.dir.join("admin.json"))?;
    chain.airdrop(&admin.pubkey(), ADMIN_FUNDS).await?;
    let cluster = medshare_sdk::admin::create_cluster(
        chain,
        &admin,
        0,
        opts.t,
        opts.n,
        medshare_sdk::admin::DEFAULT_TTL_SLOTS,
    )
    .await?;
    progress(&format!(
        "cluster {}-of-{} created: {cluster}",
        opts.t, opts.n
    ));
    for i in 1..=opts.n as usize {
        let node_dir = opts.dir.join(format!("node-{i}"));
        std::fs::create_dir_all(&node_dir).map_err(|e| io("cannot create", &node_dir, e))?;
        let authority = keypair_at(&node_dir.join("authority.json"))?;
        let mut pass = [0u8; 24];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut pass);
        let passphrase = Zeroizing::new(hex::encode(pass));
        let pass_file = node_dir.join("passphrase");
        keystore::write_private(&pass_file, passphrase.as_bytes())
            .map_err(|e| io("cannot write", &pass_file, e))?;
        KeyStore::create(&node_dir.join("keys.json"), passphrase, authority.pubkey())?;
        chain.airdrop(&authority.pubkey(), NODE_FUNDS).await?;
        medshare_sdk::admin::add_node(chain, &admin, &cluster, &authority.pubkey()).await?;
    }
    Ok(cluster)
}

/// Starts `mpc-node run` for node `i`.
fn start_node(
    mpc_node: &Path,
    url: &str,
    dir: &Path,
    i: usize,
    cluster: &Pubkey,
    poll_ms: u64,
) -> Result<Proc> {
    let node_dir = dir.join(format!("node-{i}"));
    let path = |file: &str| node_dir.join(file).display().to_string();
    let args = vec![
        "--url".into(),
        url.to_string(),
        "--keypair".into(),
        path("authority.json"),
        "--key-store".into(),
        path("keys.json"),
        "--passphrase-file".into(),
        path("passphrase"),
        "--cluster".into(),
        cluster.to_string(),
        "run".into(),
        "--poll-interval-ms".into(),
        poll_ms.to_string(),
    ];
    Proc::spawn(
        format!("node {i}"),
        mpc_node,
        &args,
        dir.join(format!("node-{i}.log")),
    )
}

/// Waits for the cluster to be ready; fails if a child exits or the DKG fails.
async fn wait_ready(chain: &dyn Chain, cluster: &Pubkey, procs: &mut Procs) -> Result<()> {
    let start = Instant::now();
    loop {
        let account: Option<Cluster> = fetch(chain, cluster).await?;
        match account.map(|account| account.status) {
            Some(ClusterStatus::Ready) => return Ok(()),
            Some(ClusterStatus::Failed) => {
                return Err(ClientError::ClusterNotReady(format!(
                    "{cluster} (DKG failed; see the node logs)"
                )))
            }
            None => return Err(ClientError::ClusterNotFound(cluster.to_string())),
            _ => {}
        }
        for process in procs.0.iter_mut() {
            if let Ok(Some(status)) = process.child.try_wait() {
                return Err(ClientError::Io(format!(
                    "{} exited ({status}) before the cluster was ready; see {}",
                    process.name,
                    process.log.display()
                )));
            }
        }
        if start.elapsed() > DKG_TIMEOUT {
            return Err(ClientError::Timeout(DKG_TIMEOUT.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What the person at the terminal needs once the localnet is up.
fn ready_text(
    opts: &LocalnetOptions,
    url: &str,
    cluster: &Pubkey,
    took: Duration,
    reused: bool,
) -> Vec<String> {
    let dir = opts.dir.display();
    vec![
        format!(
            "MedShare localnet ready after {:.1} s: a {}-of-{} cluster of mpc-node processes on {url}",
            took.as_secs_f64(),
            opts.t,
            opts.n
        ),
        format!("  cluster:  {cluster}"),
        format!("  program:  {}", medshare::ID),
        format!("  url:      -u localhost (or export MEDSHARE_URL={url})"),
        format!("  logs:     {dir}/validator.log, {dir}/node-<i>.log"),
        format!(
            "  ledger:   {dir}/ledger ({}; the next start reuses it, --reset replaces it)",
            if reused { "reused" } else { "new" }
        ),
        "next, in another terminal:".into(),
        format!("  export MEDSHARE_URL={url} MEDSHARE_PASSPHRASE='<a passphrase for your key files>'"),
        "  medshare -k alice.json wallet new && medshare -k alice.json airdrop 5".into(),
        "  medshare -k alice.json keygen && medshare -k alice.json register".into(),
        format!("  medshare -k alice.json store --cluster {cluster} --age 42 --blood-type O+"),
        "Ctrl-C stops the validator and every node.".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tools_are_one_line_naming_the_fix() {
        let e = find_program(Some(Path::new("/nonexistent/medshare.so"))).unwrap_err();
        assert_eq!(e.to_string(), "no program ELF at /nonexistent/medshare.so");
        assert!(on_path("surely-not-a-command-medshare").is_none());
    }

    /// A keypair is adopted only as this module writes it: a key file that
    /// others can read, or a link planted at its path, is refused (its key
    /// may be someone else's too); one it wrote is read back.
    #[cfg(unix)]
    #[test]
    fn test_localnet_adopts_only_its_own_owner_only_keys() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("admin.json");
        let k = keypair_at(&own).unwrap();
        assert_eq!(keypair_at(&own).unwrap().pubkey(), k.pubkey());
        let loose = dir.path().join("node-1.json");
        std::fs::copy(&own, &loose).unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = keypair_at(&loose).unwrap_err().to_string();
        assert!(e.starts_with("refusing to adopt keypair"), "{e}");
        let link = dir.path().join("node-2.json");
        std::os::unix::fs::symlink(&own, &link).unwrap();
        let e = keypair_at(&link).unwrap_err().to_string();
        assert!(e.starts_with("refusing to adopt keypair"), "{e}");
    }
}
