//! The `mpc-node` command line, run in-process on the embedded chain (or the
//! validator at `MEDSHARE_TEST_URL`) through
//! [`mpc_node::cli::execute`] and parsed from argv exactly as the binary
//! parses it: an operator's whole path (`init`, the admin's `cluster create`
//! and `cluster add-node`, `register`, `run`, `status`) and the one-line
//! errors for every bad input.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use medshare::state::{Cluster, ClusterStatus, Role};
use medshare_client::data::parse_groups;
use medshare_client::demo::sample_record;
use medshare_sdk::chain::{fetch, SharedChain};
use medshare_tests::nodes_env::{funded_client, poll_until, share_timeout, test_limit, Watchdog};
use mpc_node::cli::{execute, Cli};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use tokio::sync::watch;

mod replace;

/// A scratch directory with a passphrase file, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!(
            "medshare-node-cli-{name}-{}-{}",
            std::process::id(),
            Pubkey::new_unique()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pass"), "correct horse battery staple\n").unwrap();
        Dir(dir)
    }

    fn path(&self, file: &str) -> String {
        self.0.join(file).display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `mpc-node <args>` on `chain`; `Ok(stdout)` or `Err(the error line)`.
async fn mpc_node(chain: &SharedChain, args: &[&str]) -> Result<String, String> {
    let cli = Cli::try_parse_from(std::iter::once("mpc-node").chain(args.iter().copied()))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    execute(&cli, Some(chain), std::future::pending(), &mut out)
        .await
        .map(|()| String::from_utf8(out).expect("UTF-8 output"))
        .map_err(|e| format!("{e:#}"))
}

/// The value after `label` on its line of `out`.
fn field(out: &str, label: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} in {out}"))
        .trim()
        .to_string()
}

/// Writes a Solana CLI keypair file.
fn write_keypair(path: &str, k: &Keypair) {
    std::fs::write(path, serde_json::to_string(&k.to_bytes().to_vec()).unwrap()).unwrap();
}

/// `init` for node `i` in `dir`: returns its authority.
async fn init_node(chain: &SharedChain, dir: &Dir, i: usize) -> Pubkey {
    let out = mpc_node(chain, &node_args(dir, i, &["init"]))
        .await
        .expect("init");
    let authority: Pubkey = field(&out, "authority:").parse().expect("an address");
    assert_eq!(
        field(&out, "key store:"),
        dir.path(&format!("keys-{i}.json"))
    );
    assert_eq!(field(&out, "transport key:").len(), 64);
    chain
        .airdrop(&authority, 1_000_000_000)
        .await
        .expect("airdrop");
    authority
}

/// `--keypair`, `--key-store` and `--passphrase-file` of node `i`, then `rest`.
fn node_args<'a>(dir: &'a Dir, i: usize, rest: &[&'a str]) -> Vec<&'a str> {
    let leak = |s: String| -> &'a str { Box::leak(s.into_boxed_str()) };
    let mut v = vec![
        "--keypair",
        leak(dir.path(&format!("node-{i}.json"))),
        "--key-store",
        leak(dir.path(&format!("keys-{i}.json"))),
        "--passphrase-file",
        leak(dir.path("pass")),
    ];
    v.extend_from_slice(rest);
    v
}

/// `GET path` over plain HTTP/1.1; the whole response.
async fn http_get(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(addr).await.expect("connect");
    sock.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    sock.read_to_string(&mut out).await.unwrap();
    out
}

/// `mpc-node run` for node `i` of `cluster` (with `extra` arguments), in a
/// task, until `stopped` turns true; its result is the command's.
fn spawn_run(
    chain: &SharedChain,
    dir: &Dir,
    i: usize,
    cluster: &str,
    extra: Vec<String>,
    mut stopped: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Result<(), String>> {
    let mut args: Vec<String> = node_args(dir, i, &["--cluster", cluster, "run"])
        .into_iter()
        .map(String::from)
        .collect();
    args.extend(extra);
    let chain = chain.clone();
    tokio::spawn(async move {
        let cli = Cli::try_parse_from(std::iter::once("mpc-node".to_string()).chain(args))
            .expect("arguments");
        let mut out = Vec::new();
        execute(
            &cli,
            Some(&chain),
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
            &mut out,
        )
        .await
        .map_err(|e| format!("{e:#}"))
    })
}

/// A funded admin (keypair file `admin.json` in `dir`) runs `mpc-node
/// cluster create` for a 2-of-3 cluster and `cluster add-node` for each of
/// `authorities` (each answering `added <authority>`); returns the admin's
/// keypair file and the cluster.
async fn admin_cluster(chain: &SharedChain, dir: &Dir, authorities: &[Pubkey]) -> (String, Pubkey) {
    let admin = Keypair::new();
    let admin_file = dir.path("admin.json");
    write_keypair(&admin_file, &admin);
    chain
        .airdrop(&admin.pubkey(), 10_000_000_000)
        .await
        .unwrap();
    let create = [
        "--keypair",
        &admin_file,
        "cluster",
        "create",
        "--threshold",
        "2",
        "--size",
        "3",
    ];
    let out = mpc_node(chain, &create).await.expect("cluster create");
    let cluster: Pubkey = field(&out, "cluster:").parse().expect("an address");
    let cluster_s = cluster.to_string();
    for a in authorities {
        let a = a.to_string();
        let add = [
            "--keypair",
            &admin_file,
            "--cluster",
            &cluster_s,
            "cluster",
            "add-node",
            &a,
        ];
        let out = mpc_node(chain, &add).await.expect("add-node");
        assert_eq!(out.trim(), format!("added {a}"));
    }
    (admin_file, cluster)
}

async fn cluster_account(chain: &SharedChain, address: &Pubkey) -> Cluster {
    fetch::<Cluster>(chain.as_ref(), address)
        .await
        .expect("chain")
        .expect("cluster exists")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_node_cli_operator_path() {
    let _wd = Watchdog::arm("test_node_cli_operator_path", test_limit());
    let (chain, _embedded) = medshare_tests::cli_env::start_chain().await;
    let dir = Dir::new("path");

    // Three operators run `init`: a keypair readable by its owner only and a sealed key store.
    let mut authorities = vec![];
    for i in 1..=3 {
        authorities.push(init_node(&chain, &dir, i).await);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["node-1.json", "keys-1.json"] {
            let mode = std::fs::metadata(dir.path(f)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
    }

    // The admin creates a 2-of-3 cluster and adds the three authorities.
    let (_, cluster) = admin_cluster(&chain, &dir, &authorities).await;
    let cluster_s = cluster.to_string();

    // Node 1 registers (once), and its status shows it.
    let register = node_args(&dir, 1, &["--cluster", &cluster_s, "register"]);
    assert_eq!(
        mpc_node(&chain, &register).await.unwrap().trim(),
        "registered as node 1"
    );
    assert_eq!(
        mpc_node(&chain, &register).await.unwrap().trim(),
        "already registered as node 1"
    );
    let status = mpc_node(
        &chain,
        &node_args(&dir, 1, &["--cluster", &cluster_s, "status"]),
    )
    .await
    .expect("status");
    assert!(
        status.starts_with(&format!(
            "cluster {cluster}: Registering, 2 of 3, 3 nodes added"
        )),
        "{status}"
    );
    let row = |status: &str, i: usize| -> Vec<String> {
        let a = authorities[i - 1].to_string();
        status
            .lines()
            .find(|l| l.contains(&a))
            .unwrap_or_else(|| panic!("no row for node {i} in {status}"))
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    // `#`, authority, reg, r1, r2, conf, contrib, faults; `*` marks the caller.
    assert_eq!(row(&status, 1)[0], "1*");
    assert_eq!(
        row(&status, 1)[2..],
        ["true", "false", "0x0000", "false", "0", "0"]
    );
    assert_eq!(row(&status, 2)[0], "2");
    assert_eq!(
        row(&status, 2)[2..],
        ["false", "false", "0x0000", "false", "-", "-"]
    );
    assert!(status.contains("pending computations: 0"), "{status}");

    // `run` on all three: they register (2 and 3), run the DKG and serve;
    // node 1 serves its metrics.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let metrics_addr = format!("127.0.0.1:{port}");
    let (stop, stopped) = watch::channel(false);
    let mut runs = vec![];
    for i in 1..=3 {
        let extra = if i == 1 {
            vec!["--metrics-addr".to_string(), metrics_addr.clone()]
        } else {
            vec![]
        };
        runs.push(spawn_run(
            &chain,
            &dir,
            i,
            &cluster_s,
            extra,
            stopped.clone(),
        ));
    }
    let ready = poll_until(
        "the DKG to finish",
        share_timeout(),
        Duration::from_millis(20),
        || async {
            Some(cluster_account(&chain, &cluster).await)
                .filter(|c| c.status == ClusterStatus::Ready)
        },
    )
    .await;

    // A patient shares with a doctor; the nodes started by `run` serve it.
    let patient = funded_client(&chain).await;
    let doctor = funded_client(&chain).await;
    patient.register(Role::Patient).await.unwrap();
    doctor.register(Role::Doctor).await.unwrap();
    let data = sample_record();
    let (record, _) = patient.store_fields(&cluster, 1, &data).await.unwrap();
    let to = patient
        .resolve_recipient(&doctor.wallet.pubkey().to_string())
        .await
        .unwrap();
    let mask = parse_groups("vitals,medications").unwrap();
    let ticket = patient.share(&record, mask, to).await.unwrap();
    patient
        .wait(&ticket, share_timeout(), |_, _| {})
        .await
        .expect("share completes");
    let opened = doctor.decrypt(&ticket.share_result).await.unwrap();
    assert_eq!(opened.groups, vec![1, 3]);

    // Status after: ready, the cluster key, two contributions on the nodes' records.
    let status = mpc_node(
        &chain,
        &node_args(&dir, 2, &["--cluster", &cluster_s, "status"]),
    )
    .await
    .expect("status");
    assert!(
        status.starts_with(&format!("cluster {cluster}: Ready, 2 of 3")),
        "{status}"
    );
    assert_eq!(
        field(&status, "cluster key:"),
        hex::encode(ready.cluster_key)
    );
    assert_eq!(row(&status, 2)[0], "2*");
    // Round-2 packages went to both peers: node i's mask lacks only its own bit.
    let sent = ["0x0006", "0x0005", "0x0003"];
    let contributions: u64 = (1..=3)
        .map(|i| {
            let r = row(&status, i);
            assert_eq!(r[2..6], ["true", "true", sent[i - 1], "true"], "node {i}");
            assert_eq!(r[7], "0", "node {i} faults");
            r[6].parse::<u64>().unwrap()
        })
        .sum();
    assert_eq!(contributions, 2);
    assert!(status.contains("pending computations: 0"), "{status}");

    // Node 1's Prometheus endpoint. A node counts its contribution when its
    // task reports back, which can be just after the share completes.
    let value = |metrics: &str, name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("medshare_node_{name} ")))
            .unwrap_or_else(|| panic!("no {name} in {metrics}"))
            .parse()
            .unwrap()
    };
    let mine = row(&status, 1)[6].parse::<f64>().unwrap();
    let metrics = poll_until(
        "node 1's contribution metric to match its record",
        share_timeout(),
        Duration::from_millis(20),
        || async {
            let m = http_get(&metrics_addr, "/metrics").await;
            (value(&m, "contributions_total") == mine).then_some(m)
        },
    )
    .await;
    assert!(metrics.starts_with("HTTP/1.1 200 OK\r\n"), "{metrics}");
    assert_eq!(value(&metrics, "subscription_up"), 1.0);
    assert!(value(&metrics, "notices_total") >= 1.0);
    assert_eq!(value(&metrics, "chain_errors_total"), 0.0);
    assert!(metrics.contains("medshare_node_queue_to_callback_seconds_bucket"));
    let other = http_get(&metrics_addr, "/").await;
    assert!(other.starts_with("HTTP/1.1 404 Not Found\r\n"), "{other}");

    // `run` ends cleanly when told to stop.
    stop.send(true).unwrap();
    for r in runs {
        assert_eq!(r.await.unwrap(), Ok(()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_node_cli_errors_are_one_line() {
    let _wd = Watchdog::arm("test_node_cli_errors_are_one_line", test_limit());
    let (chain, _embedded) = medshare_tests::cli_env::start_chain().await;
    let dir = Dir::new("errors");
    let authority = init_node(&chain, &dir, 1).await;
    let store = dir.path("keys-1.json");
    let nowhere = Pubkey::new_unique().to_string();

    // A second `init` does not overwrite the key store.
    let before = std::fs::read(&store).unwrap();
    assert_eq!(
        mpc_node(&chain, &node_args(&dir, 1, &["init"])).await,
        Err(format!(
            "key store {store} already exists; refusing to overwrite it"
        ))
    );
    assert_eq!(std::fs::read(&store).unwrap(), before);

    // No cluster, or not an address.
    assert_eq!(
        mpc_node(&chain, &node_args(&dir, 1, &["register"])).await,
        Err("no cluster: pass --cluster or set it in the config".into())
    );
    assert_eq!(
        mpc_node(&chain, &node_args(&dir, 1, &["--cluster", "xyz", "run"])).await,
        Err("invalid cluster address xyz".into())
    );

    // A cluster that does not exist.
    assert_eq!(
        mpc_node(
            &chain,
            &node_args(&dir, 1, &["--cluster", &nowhere, "status"])
        )
        .await,
        Err(format!("cluster {nowhere} not found"))
    );
    assert_eq!(
        mpc_node(
            &chain,
            &node_args(&dir, 1, &["--cluster", &nowhere, "register"])
        )
        .await,
        Err(format!("cluster {nowhere} not found"))
    );

    // A cluster this authority was not added to.
    let admin = Keypair::new();
    chain
        .airdrop(&admin.pubkey(), 10_000_000_000)
        .await
        .unwrap();
    let cluster = medshare_sdk::admin::create_cluster(chain.as_ref(), &admin, 7, 2, 3, 300)
        .await
        .unwrap()
        .to_string();
    assert_eq!(
        mpc_node(
            &chain,
            &node_args(&dir, 1, &["--cluster", &cluster, "register"])
        )
        .await,
        Err(format!(
            "this authority is not a node of the cluster yet: ask the admin to add {authority}"
        ))
    );

    // A wrong passphrase: refused, the file untouched.
    std::fs::write(dir.path("pass"), "wrong\n").unwrap();
    assert_eq!(
        mpc_node(&chain, &node_args(&dir, 1, &["--cluster", &cluster, "register"])).await,
        Err(format!(
            "key store {store} cannot be decrypted: wrong passphrase, another node's key store, or the file was modified"
        ))
    );
    assert_eq!(std::fs::read(&store).unwrap(), before);

    // A missing keypair file.
    let missing = dir.path("missing.json");
    let err = mpc_node(
        &chain,
        &[
            "--keypair",
            &missing,
            "--cluster",
            &cluster,
            "cluster",
            "add-node",
            &nowhere,
        ],
    )
    .await
    .unwrap_err();
    assert!(
        err.starts_with(&format!("cannot read keypair {missing}: ")),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);

    // A config file with a key the node does not know.
    let config = dir.path("node.toml");
    std::fs::write(&config, "colour = \"red\"\n").unwrap();
    let err = mpc_node(&chain, &["--config", &config, "status"])
        .await
        .unwrap_err();
    assert!(
        err.starts_with(&format!("config {config}: unknown field `colour`")),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);

    // Not an address for add-node: refused by the argument parser.
    let err = mpc_node(&chain, &["cluster", "add-node", "nope"])
        .await
        .unwrap_err();
    assert!(err.contains("invalid value 'nope'"), "{err}");
}
