//! The processes `localnet` runs: finding the binaries and the program
//! ELF, and starting and stopping children in order.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use medshare_sdk::chain::rpc::Rpc;
use tokio::process::{Child, Command};

use super::{io, FINALIZE_WAIT, STOP_GRACE, VALIDATOR_INSTALL};
use crate::error::{ClientError, Result};

/// The first executable called `name` on `PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// `solana-test-validator`, or the one-line error naming its install command.
pub fn find_validator() -> Result<PathBuf> {
    on_path("solana-test-validator").ok_or_else(|| {
        ClientError::Invalid(format!(
            "solana-test-validator not found on PATH; install it with `{VALIDATOR_INSTALL}` \
             (it needs clang, libclang-dev, protobuf-compiler and cmake)"
        ))
    })
}

/// `mpc-node`: next to this binary, else on `PATH`.
pub fn find_mpc_node() -> Result<PathBuf> {
    std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name("mpc-node"))
        .filter(|candidate| is_executable(candidate))
        .or_else(|| on_path("mpc-node"))
        .ok_or_else(|| {
            ClientError::Invalid(
                "mpc-node not found next to medshare or on PATH; build it with \
                 `cargo build --release -p mpc-node`"
                    .into(),
            )
        })
}

/// The program ELF: `given`, else `target/deploy/medshare.so` under the
/// current directory, else next to the binaries (`target/<profile>/../deploy`).
pub fn find_program(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = given {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(ClientError::Io(format!(
                "no program ELF at {}",
                path.display()
            )))
        };
    }
    let mut candidates = vec![PathBuf::from("target/deploy/medshare.so")];
    if let Some(profile_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        candidates.push(profile_dir.join("../deploy/medshare.so"));
    }
    candidates
        .into_iter()
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            ClientError::Invalid(
                "no program ELF at target/deploy/medshare.so; build it with \
             `../shared/sbf/build -p medshare` (or `anchor build`), or pass --program"
                    .into(),
            )
        })
}

/// One child process and what to call it.
pub(super) struct Proc {
    pub(super) name: String,
    pub(super) log: PathBuf,
    pub(super) child: Child,
}

impl Proc {
    pub(super) fn spawn(
        name: String,
        program: &Path,
        args: &[String],
        log: PathBuf,
    ) -> Result<Proc> {
        let file = std::fs::File::create(&log).map_err(|e| io("cannot create", &log, e))?;
        let err = file.try_clone().map_err(|e| io("cannot open", &log, e))?;
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .kill_on_drop(true)
            // Its own process group: a Ctrl-C at the terminal reaches only
            // `localnet`, which stops the children in order (see `Procs`).
            .process_group(0)
            .spawn()
            .map_err(|e| io("cannot start", program, e))?;
        Ok(Proc { name, log, child })
    }

    pub(super) fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// SIGTERM, then SIGKILL after [`STOP_GRACE`]; waits for the exit.
    pub(super) async fn stop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        if tokio::time::timeout(STOP_GRACE, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// The running processes, the validator first, stopped together (also when
/// dropped: `kill_on_drop`).
pub(super) struct Procs(pub(super) Vec<Proc>);

impl Procs {
    /// Stops the nodes, waits until what the validator confirmed is
    /// finalized (so a reused ledger has it: a validator restarted from its
    /// ledger resumes from its last root), then stops the validator.
    pub(super) async fn stop_all(&mut self, rpc: &Rpc, progress: &mut impl FnMut(&str)) {
        for process in self.0.iter_mut().skip(1).rev() {
            process.stop().await;
            progress(&format!("stopped {}", process.name));
        }
        if let Some(validator) = self.0.first_mut() {
            if matches!(validator.child.try_wait(), Ok(None)) {
                progress(&format!(
                    "waiting for the last transactions to be finalized (at most {} s)",
                    FINALIZE_WAIT.as_secs()
                ));
                finalize(rpc).await;
            }
            validator.stop().await;
            progress(&format!("stopped {}", validator.name));
        }
        self.0.clear();
    }
}

/// Waits (at most [`FINALIZE_WAIT`]) until the finalized slot reaches the
/// slot the validator has processed now.
async fn finalize(rpc: &Rpc) {
    use medshare_sdk::chain::rpc::CommitmentConfig;
    let Ok(target) = rpc.slot_at(CommitmentConfig::processed()).await else {
        return;
    };
    let start = Instant::now();
    while start.elapsed() < FINALIZE_WAIT {
        match rpc.slot_at(CommitmentConfig::finalized()).await {
            Ok(slot) if slot >= target => return,
            Ok(_) => tokio::time::sleep(Duration::from_millis(400)).await,
            Err(_) => return,
        }
    }
}
