//! `medshare localnet` as a new user meets it: the real `medshare` and
//! `mpc-node` binaries, a real `solana-test-validator`, nodes as separate
//! processes. One terminal runs `localnet`; "another terminal" runs `wallet
//! new`, `airdrop`, `keygen`, `register`, `store`, `share`, and as the doctor
//! `inbox` and `decrypt`, then `audit`. Ctrl-C (SIGINT) must stop every
//! process it started, and a second start must reuse the ledger and the
//! cluster (the earlier share still opens, a new one completes).
//!
//! Needs `solana-test-validator` on PATH, the program ELF at
//! `target/deploy/medshare.so`, and the two binaries built
//! (`cargo build -p medshare-client -p mpc-node --bins`); `scripts/validator-e2e`
//! provides all three. Without them the test says so (`note: skipping`)
//! and passes without running.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long `localnet` may take to print that it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(240);
/// How long it may take to stop after Ctrl-C.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the audit trail may lag the chain.
const AUDIT_SETTLE: Duration = Duration::from_secs(60);

/// `target/<profile>`, where cargo puts the workspace's binaries.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/<profile>/deps/localnet-<hash>
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A running `medshare localnet` and the lines it printed so far.
struct Localnet {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Localnet {
    fn start(medshare: &Path, dir: &Path) -> Localnet {
        let mut child = Command::new(medshare)
            .args([
                "localnet",
                "--threshold",
                "2",
                "--nodes",
                "3",
                "--poll-ms",
                "200",
            ])
            .arg("--dir")
            .arg(dir)
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start medshare localnet");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                eprintln!("localnet| {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Localnet {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one contains `needle`; returns it.
    fn wait_for(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "localnet printed no line with {needle:?} within {timeout:?}; it printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The value after `label` on a line printed so far.
    fn field(&self, label: &str) -> String {
        self.seen
            .iter()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no {label:?} line in:\n{}", self.seen.join("\n")))
    }

    /// The pids of the processes it started (`(pid N, ...)` lines).
    fn child_pids(&self) -> Vec<i32> {
        self.seen
            .iter()
            .filter_map(|l| {
                let rest = l.split("(pid ").nth(1)?;
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
            .collect()
    }

    /// Ctrl-C; asserts a clean exit and that nothing it started still runs.
    fn interrupt(mut self, validator_pids_before: &[i32]) {
        let pids = self.child_pids();
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGINT).expect("SIGINT");
        let deadline = Instant::now() + STOP_TIMEOUT;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "localnet did not stop after Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(1)) {
            self.seen.push(l);
        }
        assert!(status.success(), "localnet exited with {status}");
        assert!(
            self.seen
                .iter()
                .any(|l| l == "stopped solana-test-validator"),
            "{:?}",
            self.seen
        );
        for pid in pids {
            assert!(!alive(pid), "node process {pid} still runs after Ctrl-C");
        }
        let validators: Vec<i32> = validator_pids()
            .into_iter()
            .filter(|p| !validator_pids_before.contains(p))
            .collect();
        assert!(validators.is_empty(), "validator {validators:?} still runs");
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        // A failed test must not leave the network running.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGINT);
            let _ = self.child.wait();
        }
    }
}

/// Whether a process exists (and is not a zombie).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// The pids of every running `solana-test-validator`.
fn validator_pids() -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "solana-test-validator")
                && alive(*pid)
        })
        .collect()
}

/// A user at another terminal: a wallet file and a sealed key file in `dir`.
struct Terminal {
    medshare: PathBuf,
    dir: PathBuf,
    url: String,
}

impl Terminal {
    /// `medshare -k <name>.json --key-file <name>-key.json <args>`.
    fn run(&self, name: &str, args: &[&str]) -> Output {
        Command::new(&self.medshare)
            .arg("-k")
            .arg(self.dir.join(format!("{name}.json")))
            .arg("--key-file")
            .arg(self.dir.join(format!("{name}-key.json")))
            .args(args)
            .env("MEDSHARE_URL", &self.url)
            .env(
                "MEDSHARE_PASSPHRASE",
                format!("a long passphrase of {name}"),
            )
            .env_remove("MEDSHARE_PASSPHRASE_FILE")
            .stdin(Stdio::null())
            .output()
            .expect("run medshare")
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, name: &str, args: &[&str]) -> String {
        let out = self.run(name, args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{name}: medshare {args:?} failed: {}{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// `--json` output of a command that must succeed.
    fn json(&self, name: &str, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.ok(name, &a);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// A new user: wallet, airdrop, keygen, register.
    fn user(&self, name: &str, role: &str) -> String {
        let w = self.json(name, &["wallet", "new"]);
        self.ok(name, &["airdrop", "5"]);
        self.ok(name, &["keygen"]);
        self.ok(name, &["register", "--role", role]);
        w["wallet"].as_str().expect("wallet").to_string()
    }
}

#[test]
fn test_localnet_one_terminal_then_every_user_command_from_another() {
    if let Ok(url) = std::env::var("MEDSHARE_TEST_URL") {
        eprintln!(
            "note: skipping test_localnet_one_terminal_then_every_user_command_from_another: \
             a validator already runs at MEDSHARE_TEST_URL={url}, and `medshare localnet` starts its own"
        );
        return;
    }
    if std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).all(|d| !d.join("solana-test-validator").is_file()))
        .unwrap_or(true)
    {
        eprintln!(
            "note: skipping test_localnet_one_terminal_then_every_user_command_from_another: \
             solana-test-validator is not on PATH (scripts/validator-e2e installs it and runs this test)"
        );
        return;
    }
    let bins = bin_dir();
    let medshare = bins.join("medshare");
    let elf = workspace_root().join("target/deploy/medshare.so");
    if !(medshare.is_file() && bins.join("mpc-node").is_file() && elf.is_file()) {
        eprintln!(
            "note: skipping test_localnet_one_terminal_then_every_user_command_from_another: \
             it runs the built binaries and the ELF; build them first \
             (cargo build -p medshare-client -p mpc-node --bins; ../shared/sbf/build -p medshare), \
             as scripts/validator-e2e does"
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("medshare-localnet-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let users = dir.join("users");
    std::fs::create_dir_all(&users).expect("users dir");
    let validators_before = validator_pids();

    // Terminal 1.
    let started = Instant::now();
    let mut net = Localnet::start(&medshare, &dir.join("net"));
    net.wait_for("MedShare localnet ready", READY_TIMEOUT);
    let ready_after = started.elapsed();
    net.wait_for("Ctrl-C stops", Duration::from_secs(5));
    let cluster = net.field("cluster:");
    assert_eq!(
        net.child_pids().len(),
        3,
        "three node processes: {:?}",
        net.seen
    );
    assert!(net.seen.iter().any(|l| l.contains("new ledger")));
    eprintln!("localnet ready after {ready_after:?}");

    // Terminal 2.
    let t = Terminal {
        medshare: medshare.clone(),
        dir: users.clone(),
        url: "localhost".into(),
    };
    let _alice = t.user("alice", "patient");
    let doctor = t.user("doctor", "doctor");
    let stored = t.json(
        "alice",
        &[
            "store",
            "--cluster",
            &cluster,
            "--age",
            "42",
            "--blood-type",
            "O+",
            "--medication",
            "metformin",
            "--diagnosis",
            "type 2 diabetes",
        ],
    );
    let record = stored["record"].as_str().expect("record").to_string();
    let share_started = Instant::now();
    let shared = t.json(
        "alice",
        &[
            "share",
            "1",
            "--to",
            &doctor,
            "--groups",
            "vitals,medications",
        ],
    );
    eprintln!(
        "share request to callback over RPC: {:?}",
        share_started.elapsed()
    );
    let result = shared["share_result"]
        .as_str()
        .expect("share_result")
        .to_string();
    let inbox = t.ok("doctor", &["inbox", "--cluster", &cluster]);
    assert!(inbox.contains(&result), "{inbox}");
    let opened = t.json("doctor", &["decrypt", &result]);
    assert_eq!(opened["data"]["blood_type"], "O+", "{opened}");
    assert_eq!(opened["data"]["medications"][0], "metformin", "{opened}");
    assert!(
        opened["data"].get("diagnoses").is_none(),
        "not shared: {opened}"
    );
    assert!(opened["data"].get("age").is_none(), "not shared: {opened}");
    // A stranger cannot open it.
    t.user("mallory", "doctor");
    let refused = t.run("mallory", &["decrypt", &result]);
    assert_eq!(refused.status.code(), Some(7), "wrong key exit code");
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).trim(),
        "error: cannot decrypt: this share is not addressed to your key, or the data was tampered with"
    );
    // The audit shows every contribution (it may lag the chain a little).
    let deadline = Instant::now() + AUDIT_SETTLE;
    let trail = loop {
        let trail = t.json("alice", &["audit", &record]);
        let events: Vec<String> = trail
            .as_array()
            .expect("array")
            .iter()
            .map(|e| e["event"].as_str().unwrap_or_default().to_string())
            .collect();
        let contributions = events
            .iter()
            .filter(|e| *e == "ContributionAccepted")
            .count();
        if (contributions == 2 && events.iter().any(|e| e == "ShareCompleted"))
            || Instant::now() > deadline
        {
            break events;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(
        trail
            .iter()
            .filter(|e| *e == "ContributionAccepted")
            .count(),
        2,
        "{trail:?}"
    );
    assert!(trail.iter().any(|e| e == "ShareRequested"), "{trail:?}");
    assert!(trail.iter().any(|e| e == "ShareCompleted"), "{trail:?}");

    net.interrupt(&validators_before);

    // A second start reuses the ledger and the cluster.
    let mut net = Localnet::start(&medshare, &dir.join("net"));
    net.wait_for("MedShare localnet ready", READY_TIMEOUT);
    net.wait_for("Ctrl-C stops", Duration::from_secs(5));
    assert!(
        net.seen.iter().any(|l| l.contains("reusing the ledger")),
        "{:?}",
        net.seen
    );
    assert_eq!(net.field("cluster:"), cluster);
    let again = t.json("doctor", &["decrypt", &result]);
    assert_eq!(again["data"], opened["data"]);
    let second = t.json(
        "alice",
        &["share", "1", "--to", &doctor, "--groups", "diagnoses"],
    );
    let result2 = second["share_result"].as_str().expect("share_result");
    let opened2 = t.json("doctor", &["decrypt", result2]);
    assert_eq!(
        opened2["data"]["diagnoses"][0], "type 2 diabetes",
        "{opened2}"
    );
    net.interrupt(&validators_before);
    let _ = std::fs::remove_dir_all(&dir);
}
