//! The embedded chain: the MedShare program, compiled natively, in an
//! in-process bank (`solana-program-test`).
//!
//! It moves like a real cluster: a background task ends the current slot
//! every [`SLOT_DURATION`] (as validators do, 400 ms by default) and sets the
//! clock's unix time from the wall clock, so expiries, consent end times and
//! cancellations behave as they would on devnet. Tests and the demo can jump
//! ahead with [`Embedded::warp_slots`] and [`Embedded::advance_time`].
//!
//! Every transaction is kept in an in-memory ledger, so
//! [`Chain::history`] answers what `getSignaturesForAddress` +
//! `getTransaction` answer over RPC, and [`Chain::subscribe`] delivers each
//! one, as it lands, to the subscribers of the addresses it mentions (what
//! `logsSubscribe` with a `mentions` filter delivers over a websocket).
//!
//! Each transaction is processed by a task of its own that holds the slot
//! gate until the bank is done with it and writes the ledger entry before
//! the sender hears back, so a sender that gives up waiting changes nothing.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use solana_program_test::{
    processor, BanksClient, BanksClientError, ProgramTest, ProgramTestContext,
};
use solana_sdk::{
    account::Account,
    clock::Clock,
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
    transaction::{Transaction, TransactionError},
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{tx_error, Chain, ChainError, Landed, LedgerEntry, Notice, Notices, NOTICE_QUEUE};

/// How long a slot lasts on the embedded chain.
pub const SLOT_DURATION: Duration = Duration::from_millis(400);

/// How often a transaction blocked by another one's account locks is retried.
pub const MAX_LOCK_RETRIES: u32 = 2_000;
/// Retries that only yield to other tasks before retries start to sleep 1 ms.
pub const YIELDS_BEFORE_SLEEP: u32 = 20;

struct Entry {
    entry: LedgerEntry,
    keys: Vec<Pubkey>,
}

/// What transaction processing shares with the slot ticker and with the
/// tasks that process transactions.
struct Shared {
    banks: BanksClient,
    ledger: Mutex<Vec<Entry>>,
    subscribers: Mutex<Vec<(Pubkey, mpsc::Sender<Notice>)>>,
    time_offset: AtomicI64,
    slot: AtomicU64,
    /// Slot advances (write) exclude transaction processing (read): see [`advance`].
    gate: Arc<tokio::sync::RwLock<()>>,
}

/// The in-process chain. Cheap to share (`Arc`).
pub struct Embedded {
    shared: Arc<Shared>,
    ctx: Arc<Mutex<ProgramTestContext>>,
    faucet: Keypair,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Ends the current slot (`slots` of them) and sets the clock's unix time.
///
/// `warp_to_slot` takes the bank forks' write lock and then the program
/// cache's lock, while a transaction being processed holds the cache and
/// reads the bank forks: run concurrently they deadlock (a known issue of
/// `solana-program-test` 3.1). [`Embedded`] therefore never advances a slot
/// while a transaction is in flight (its `gate`).
fn advance(ctx: &Mutex<ProgramTestContext>, shared: &Shared, slots: u64) {
    let offset = shared.time_offset.load(Ordering::Relaxed);
    let mut ctx = ctx.lock().expect("embedded chain lock");
    let next = shared.slot.load(Ordering::SeqCst) + slots.max(1);
    ctx.warp_to_slot(next)
        .expect("warping forward always succeeds");
    shared.slot.store(next, Ordering::SeqCst);
    let clock = Clock {
        slot: next,
        unix_timestamp: now_unix() + offset,
        epoch_start_timestamp: now_unix() + offset,
        ..Clock::default()
    };
    ctx.set_sysvar(&clock);
}

/// Advances `slots` slots on a blocking thread once no transaction is in flight.
async fn advance_gated(ctx: Arc<Mutex<ProgramTestContext>>, shared: Arc<Shared>, slots: u64) {
    let guard = shared.gate.clone().write_owned().await;
    let done = tokio::task::spawn_blocking(move || {
        advance(&ctx, &shared, slots);
        drop(guard);
    })
    .await;
    if let Err(e) = done {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// A bank with the MedShare program compiled natively (`processor!`), as
/// the embedded chain and the program's native tests run it.
pub fn native_program_test() -> ProgramTest {
    let mut pt = ProgramTest::new(
        "medshare",
        medshare::ID,
        processor!(medshare::native::native_entry),
    );
    pt.prefer_bpf(false);
    pt
}

impl Embedded {
    /// Starts a bank with the MedShare program and the slot ticker.
    pub async fn start() -> Arc<Self> {
        // The bank logs every instruction at debug level unless told otherwise.
        if std::env::var_os("RUST_LOG").is_none() {
            std::env::set_var("RUST_LOG", "error");
        }
        let ctx = native_program_test().start_with_context().await;
        let banks = ctx.banks_client.clone();
        let faucet = ctx.payer.insecure_clone();
        let ctx = Arc::new(Mutex::new(ctx));
        let shared = Arc::new(Shared {
            slot: AtomicU64::new(banks.get_root_slot().await.unwrap_or(0)),
            banks,
            ledger: Mutex::new(Vec::new()),
            subscribers: Mutex::new(Vec::new()),
            time_offset: AtomicI64::new(0),
            gate: Arc::new(tokio::sync::RwLock::new(())),
        });
        advance(&ctx, &shared, 1);
        let chain = Arc::new(Embedded {
            shared: shared.clone(),
            ctx: ctx.clone(),
            faucet,
            ticker: Mutex::new(None),
        });
        let handle = tokio::spawn(async move {
            let mut interval = tokio::time::interval(SLOT_DURATION);
            interval.tick().await;
            loop {
                interval.tick().await;
                advance_gated(ctx.clone(), shared.clone(), 1).await;
            }
        });
        *chain.ticker.lock().expect("ticker lock") = Some(handle);
        chain
    }

    /// Jumps `slots` slots ahead now (expiry tests, demos).
    pub async fn warp_slots(&self, slots: u64) {
        advance_gated(self.ctx.clone(), self.shared.clone(), slots).await;
    }

    /// Moves the chain's unix time `secs` seconds ahead of the wall clock
    /// (cumulative) and ends the current slot.
    pub async fn advance_time(&self, secs: i64) {
        self.shared.time_offset.fetch_add(secs, Ordering::Relaxed);
        self.warp_slots(1).await;
    }

    /// The chain's current unix time.
    pub fn unix_time(&self) -> i64 {
        self.shared.unix_time()
    }
}

impl Shared {
    fn unix_time(&self) -> i64 {
        now_unix() + self.time_offset.load(Ordering::Relaxed)
    }

    /// Processes one transaction under the gate, then puts it on the ledger
    /// and notifies subscribers. Runs as its own task, so a caller that stops
    /// waiting neither releases the gate early nor loses the ledger entry.
    async fn process(self: Arc<Self>, tx: Transaction) -> Result<Landed, ChainError> {
        // A validator's scheduler queues transactions that write the same
        // account; the bank server rejects them with `AccountInUse` instead.
        // Retry those, so the embedded chain behaves like the real one.
        let gate = self.gate.clone().read_owned().await;
        let slot = self.slot.load(Ordering::SeqCst);
        let mut attempts = 0;
        let out = loop {
            let out = self
                .banks
                .process_transaction_with_metadata(tx.clone())
                .await
                .map_err(banks_err)?;
            if matches!(out.result, Err(TransactionError::AccountInUse))
                && attempts < MAX_LOCK_RETRIES
            {
                attempts += 1;
                // Locks are held for well under a millisecond: try again as
                // soon as other tasks have run, and only then sleep.
                if attempts <= YIELDS_BEFORE_SLEEP {
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                continue;
            }
            break out;
        };
        if let Err(TransactionError::AccountInUse) = out.result {
            // Never executed: nothing to put on the ledger.
            return Err(tx_error(TransactionError::AccountInUse, Vec::new()));
        }
        let logs = out.metadata.map(|m| m.log_messages).unwrap_or_default();
        // On the ledger before the slot can end, as in a real block.
        let res = match out.result {
            Ok(()) => {
                self.record(&tx, slot, None, logs.clone());
                Ok(Landed {
                    signature: tx.signatures[0],
                    slot,
                    logs,
                })
            }
            Err(e) => {
                // Fees are charged and the failure is on the ledger, as on a real chain.
                let err = tx_error(e, logs.clone());
                self.record(&tx, slot, Some(err.to_string()), logs);
                Err(err)
            }
        };
        drop(gate);
        res
    }

    fn record(&self, tx: &Transaction, slot: u64, error: Option<String>, logs: Vec<String>) {
        let keys = &tx.message.account_keys;
        let notice = Notice {
            signature: tx.signatures[0],
            slot,
            success: error.is_none(),
            logs: logs.clone(),
        };
        let entry = Entry {
            entry: LedgerEntry {
                signature: tx.signatures[0],
                slot,
                block_time: Some(self.unix_time()),
                success: error.is_none(),
                error,
                logs,
            },
            keys: keys.clone(),
        };
        self.ledger.lock().expect("ledger lock").push(entry);
        self.subscribers
            .lock()
            .expect("subscribers lock")
            .retain(|(address, sender)| {
                if keys.contains(address) {
                    // A full queue drops this notice; the subscriber polls.
                    let _ = sender.try_send(notice.clone());
                }
                !sender.is_closed()
            });
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        if let Ok(mut t) = self.ticker.lock() {
            if let Some(h) = t.take() {
                h.abort();
            }
        }
    }
}

fn banks_err(e: BanksClientError) -> ChainError {
    ChainError::Endpoint(e.to_string())
}

#[async_trait]
impl Chain for Embedded {
    async fn send(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Landed, ChainError> {
        let payer = signers
            .first()
            .ok_or_else(|| ChainError::Transaction("no fee payer".into()))?;
        let blockhash = self
            .shared
            .banks
            .get_latest_blockhash()
            .await
            .map_err(banks_err)?;
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), signers, blockhash);
        tokio::spawn(self.shared.clone().process(tx))
            .await
            .map_err(|e| ChainError::Endpoint(format!("embedded chain task failed: {e}")))?
    }

    async fn accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ChainError> {
        let mut out = Vec::with_capacity(addresses.len());
        for a in addresses {
            out.push(self.shared.banks.get_account(*a).await.map_err(banks_err)?);
        }
        Ok(out)
    }

    async fn slot(&self) -> Result<u64, ChainError> {
        Ok(self.shared.slot.load(Ordering::SeqCst))
    }

    async fn balance(&self, address: &Pubkey) -> Result<u64, ChainError> {
        self.shared
            .banks
            .get_balance(*address)
            .await
            .map_err(banks_err)
    }

    async fn history(&self, address: &Pubkey) -> Result<Vec<LedgerEntry>, ChainError> {
        Ok(self
            .shared
            .ledger
            .lock()
            .expect("ledger lock")
            .iter()
            .filter(|e| e.keys.contains(address))
            .map(|e| e.entry.clone())
            .collect())
    }

    async fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<(), ChainError> {
        let ix = anchor_lang::solana_program::system_instruction::transfer(
            &self.faucet.pubkey(),
            to,
            lamports,
        );
        self.send(&[ix], &[&self.faucet]).await.map(|_| ())
    }

    async fn subscribe(&self, address: &Pubkey) -> Result<Notices, ChainError> {
        let (sender, receiver) = mpsc::channel(NOTICE_QUEUE);
        self.shared
            .subscribers
            .lock()
            .expect("subscribers lock")
            .push((*address, sender));
        Ok(receiver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::solana_program::system_instruction;
    use solana_sdk::signature::Signer;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn test_chain_subscription_delivers_what_mentions_the_address() {
        // The embedded backend's subscription (over RPC, a failed transfer is
        // refused at preflight and never notified; the end-to-end `rpc_faults`
        // tests cover RPC).
        let chain = Embedded::start().await;
        let payer = Keypair::new();
        chain.airdrop(&payer.pubkey(), 1_000_000_000).await.unwrap();
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut to_a = chain.subscribe(&a).await.unwrap();
        let mut to_b = chain.subscribe(&b).await.unwrap();
        let transfer = |to: &Pubkey, lamports: u64| {
            system_instruction::transfer(&payer.pubkey(), to, lamports)
        };
        let landed = chain
            .send(&[transfer(&a, 5_000_000)], &[&payer])
            .await
            .unwrap();
        let notice = to_a.recv().await.expect("a notice for a");
        assert_eq!(notice.signature, landed.signature);
        assert_eq!(notice.slot, landed.slot);
        assert!(notice.success);
        assert_eq!(notice.logs, landed.logs);
        assert!(to_b.try_recv().is_err(), "b was not mentioned");
        // A failed transaction is delivered too, as failed.
        let err = chain
            .send(&[transfer(&a, 10_000_000_000)], &[&payer])
            .await
            .expect_err("more than the payer has");
        // The system program's "insufficient funds" (its custom error 1).
        assert!(matches!(err, ChainError::Program { code: 1, .. }), "{err}");
        let notice = to_a.recv().await.expect("a notice for the failure");
        assert!(!notice.success);
        assert!(to_b.try_recv().is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn test_chain_sender_that_stops_waiting_changes_nothing() {
        // Senders give up after 0 to 4 ms: some before their transaction is
        // sent, some while the bank processes it, some after. Every transfer
        // that took effect must be on the ledger and notified, and slots must
        // keep advancing (the gate is held until the bank is done).
        const UNIT: u64 = 1_000;
        const SENDS: u32 = 20;
        let chain = Embedded::start().await;
        let payer = Keypair::new();
        chain
            .airdrop(&payer.pubkey(), 10_000_000_000)
            .await
            .unwrap();
        let to = Pubkey::new_unique();
        let transfer = |lamports: u64| system_instruction::transfer(&payer.pubkey(), &to, lamports);
        // Rent-exempt first, so any later transfer can land.
        chain.send(&[transfer(1_000_000)], &[&payer]).await.unwrap();
        let mut notices = chain.subscribe(&to).await.unwrap();
        for k in 0..SENDS {
            // Distinct powers of two: the balance tells which transfers landed.
            let give_up = Duration::from_millis(u64::from(k % 5));
            let _ =
                tokio::time::timeout(give_up, chain.send(&[transfer(UNIT << k)], &[&payer])).await;
            chain.warp_slots(1).await;
        }
        // Let anything still in flight finish: a task spawned by a sender that
        // gave up has started well within this pause, and the slot cannot end
        // before the bank and the ledger are done with it.
        tokio::time::sleep(Duration::from_millis(200)).await;
        chain.warp_slots(1).await;
        let landed = (chain.balance(&to).await.unwrap() - 1_000_000) / UNIT;
        let count = landed.count_ones() as usize;
        assert!(count > 0, "some transfers landed");
        let history = chain.history(&to).await.unwrap();
        assert_eq!(
            history.len(),
            1 + count,
            "every transfer that landed is on the ledger"
        );
        assert!(history.iter().all(|e| e.success));
        for _ in 0..count {
            let n = tokio::time::timeout(Duration::from_secs(20), notices.recv())
                .await
                .expect("a notice for every transfer that landed")
                .expect("subscription open");
            assert!(n.success);
        }
        assert!(
            notices.try_recv().is_err(),
            "no more notices than transfers"
        );
    }
}
