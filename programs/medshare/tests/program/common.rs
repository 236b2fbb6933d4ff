//! Test environment: the program in an embedded bank, and a simulated node
//! set that runs the real DKG through the program.
//!
//! Two modes, one harness. By default the program runs natively
//! (`processor!`). With `MEDSHARE_SBF=1` the bank loads the SBF ELF
//! `target/deploy/medshare.so` (built by `../shared/sbf/build -p medshare`;
//! `SBF_OUT_DIR` overrides the directory) and runs it in the real VM: real
//! 4 KiB frames, real syscalls, real compute units.

use std::collections::BTreeMap;

use anchor_lang::solana_program::system_instruction;
use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use encrypted_ixs::dkg::{self, DkgParams};
use encrypted_ixs::keys::{KeyShare, NodeIndex, TransportSecret, UserSecretKey};
use encrypted_ixs::point::Point;
use encrypted_ixs::record::{seal_group, SealedGroup};
use encrypted_ixs::reencrypt::{self, ComputationContext};
use medshare::state::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use solana_program_test::{BanksClientError, ProgramTest, ProgramTestContext};
use solana_sdk::{
    instruction::{Instruction, InstructionError},
    pubkey::Pubkey,
    signature::{Keypair, Signer},
    transaction::{Transaction, TransactionError},
};

pub use medshare_sdk::ix as sdk;

pub const TTL: u64 = 50;

pub fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: medshare::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// The custom error code of a program error.
pub fn code(e: medshare::error::MedshareError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + e as u32
}

/// Asserts that a transaction failed with one of Anchor's own error codes.
pub fn assert_anchor_err(
    res: Result<Vec<String>, BanksClientError>,
    e: anchor_lang::error::ErrorCode,
) {
    let want = e as u32;
    match res {
        Err(BanksClientError::TransactionError(TransactionError::InstructionError(
            _,
            InstructionError::Custom(c),
        ))) => assert_eq!(c, want, "expected {e:?} ({want}), got {c}"),
        other => panic!("expected {e:?}, got {other:?}"),
    }
}

/// Asserts that a transaction failed with exactly this program error.
pub fn assert_err(res: Result<Vec<String>, BanksClientError>, e: medshare::error::MedshareError) {
    match res {
        Err(BanksClientError::TransactionError(TransactionError::InstructionError(
            _,
            InstructionError::Custom(c),
        ))) => assert_eq!(c, code(e), "expected {e:?} ({}), got {c}", code(e)),
        other => panic!("expected {e:?}, got {other:?}"),
    }
}

/// Whether the tests run the SBF ELF (`MEDSHARE_SBF=1`) instead of the native build.
pub fn sbf() -> bool {
    std::env::var("MEDSHARE_SBF").is_ok_and(|v| v == "1")
}

/// The compute units each top-level invocation of the program consumed,
/// read from the runtime's `Program <id> consumed N of M compute units`
/// lines (on the ELF; natively the runtime logs no such line for a
/// `processor!` program, so this is empty).
pub fn program_units(logs: &[String]) -> Vec<u64> {
    let prefix = format!("Program {} consumed ", medshare::ID);
    logs.iter()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect()
}

pub struct Env {
    pub ctx: ProgramTestContext,
    pub rng: ChaCha20Rng,
    /// When set, a stranger sends [`PREFUND_LAMPORTS`] to every address an
    /// instruction is about to create, before it is sent (see
    /// [`Env::prefund_new_accounts`]); the addresses are listed here.
    pub prefunded: Option<Vec<Pubkey>>,
}

/// What the stranger sends to each address in prefunding mode: well under
/// any account's rent, so the creator still has to top it up.
pub const PREFUND_LAMPORTS: u64 = 1_000_000;

impl Env {
    pub async fn new(seed: u64) -> Self {
        let pt = if sbf() {
            if std::env::var_os("SBF_OUT_DIR").is_none() {
                let deploy = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/deploy");
                std::env::set_var("SBF_OUT_DIR", deploy);
            }
            let mut pt = ProgramTest::new("medshare", medshare::ID, None);
            pt.prefer_bpf(true);
            pt
        } else {
            medshare_sdk::chain::embedded::native_program_test()
        };
        let ctx = pt.start_with_context().await;
        Env {
            ctx,
            rng: ChaCha20Rng::seed_from_u64(seed),
            prefunded: None,
        }
    }

    /// From now on, before each transaction, a stranger pre-funds every
    /// address the program is about to create: each writable account of a
    /// MedShare instruction that is off the curve (a PDA), not a signer, and
    /// does not exist yet gets [`PREFUND_LAMPORTS`] in a transaction of its
    /// own. [`Env::prefunded`] lists what was pre-funded.
    pub fn prefund_new_accounts(&mut self) {
        self.prefunded = Some(Vec::new());
    }

    async fn prefund(&mut self, ixs: &[Instruction]) {
        let mut targets = Vec::new();
        for ix in ixs.iter().filter(|i| i.program_id == medshare::ID) {
            for m in &ix.accounts {
                if m.is_writable
                    && !m.is_signer
                    && !m.pubkey.is_on_curve()
                    && !targets.contains(&m.pubkey)
                    && self.ctx.banks_client.get_balance(m.pubkey).await.unwrap() == 0
                {
                    targets.push(m.pubkey);
                }
            }
        }
        for target in targets {
            let blockhash = self.ctx.get_new_latest_blockhash().await.unwrap();
            let stranger = &self.ctx.payer;
            let t = system_instruction::transfer(&stranger.pubkey(), &target, PREFUND_LAMPORTS);
            let tx = Transaction::new_signed_with_payer(
                &[t],
                Some(&stranger.pubkey()),
                &[stranger],
                blockhash,
            );
            self.ctx.banks_client.process_transaction(tx).await.unwrap();
            self.prefunded.as_mut().expect("prefunding").push(target);
        }
    }

    /// Sends one transaction (fee payer: the bank's payer); returns its logs.
    /// On the ELF the transaction asks for the maximum compute budget, so a
    /// test never fails for want of units (the CU table reports what each
    /// instruction really used).
    pub async fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Vec<String>, BanksClientError> {
        if self.prefunded.is_some() {
            self.prefund(ixs).await;
        }
        let mut with_budget;
        let has_budget = ixs
            .iter()
            .any(|i| solana_compute_budget_interface::check_id(&i.program_id));
        let ixs = if sbf() && !has_budget {
            with_budget = vec![
                solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(
                    1_400_000,
                ),
            ];
            with_budget.extend_from_slice(ixs);
            &with_budget[..]
        } else {
            ixs
        };
        let payer = self.ctx.payer.insecure_clone();
        let mut all: Vec<&Keypair> = vec![&payer];
        all.extend_from_slice(signers);
        // `AccountInUse` is the runtime's scheduling, never the program's
        // answer: under load the test bank was seen to report it for a
        // transaction sent right after the previous one landed (on the ELF,
        // on 2 cores). Send it again; anything else is the result.
        let mut attempts = 0;
        loop {
            let blockhash = self.ctx.get_new_latest_blockhash().await.unwrap();
            let tx =
                Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &all, blockhash);
            let out = self
                .ctx
                .banks_client
                .process_transaction_with_metadata(tx)
                .await?;
            attempts += 1;
            if matches!(out.result, Err(TransactionError::AccountInUse)) && attempts < 5 {
                continue;
            }
            let logs = out.metadata.map(|m| m.log_messages).unwrap_or_default();
            out.result.map_err(BanksClientError::TransactionError)?;
            return Ok(logs);
        }
    }

    /// A funded keypair.
    pub async fn funded(&mut self) -> Keypair {
        let k = Keypair::new();
        let ix =
            system_instruction::transfer(&self.ctx.payer.pubkey(), &k.pubkey(), 10_000_000_000);
        self.send(&[ix], &[]).await.unwrap();
        k
    }

    pub async fn account<T: AccountDeserialize>(&mut self, address: Pubkey) -> T {
        let acc = self
            .ctx
            .banks_client
            .get_account(address)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("account {address} missing"));
        T::try_deserialize(&mut acc.data.as_slice()).unwrap()
    }

    pub async fn exists(&mut self, address: Pubkey) -> bool {
        self.ctx
            .banks_client
            .get_account(address)
            .await
            .unwrap()
            .is_some()
    }

    pub async fn lamports(&mut self, address: Pubkey) -> u64 {
        self.ctx.banks_client.get_balance(address).await.unwrap()
    }

    pub async fn slot(&mut self) -> u64 {
        self.ctx.banks_client.get_root_slot().await.unwrap()
    }

    pub async fn warp_past(&mut self, slot: u64) {
        let now = self.slot().await;
        self.ctx.warp_to_slot(now.max(slot) + 1).unwrap();
    }
}

#[allow(unused_imports)]
pub use medshare_sdk::events::events;

pub struct SimNode {
    pub authority: Keypair,
    pub share: Option<KeyShare>,
}

pub struct SimCluster {
    pub admin: Keypair,
    pub address: Pubkey,
    pub t: u8,
    pub n: u8,
    pub nodes: Vec<SimNode>,
}

impl SimCluster {
    pub fn key(&self) -> Point {
        self.nodes[0].share.as_ref().unwrap().cluster_key()
    }
}

/// Creates a cluster and registers its nodes (no DKG yet).
pub async fn registered_cluster(env: &mut Env, id: u32, t: u8, n: u8) -> SimCluster {
    let admin = env.funded().await;
    let (init, address) = sdk::init_cluster(
        admin.pubkey(),
        medshare::instructions::InitClusterArgs {
            cluster_id: id,
            threshold: t,
            size: n,
            computation_ttl_slots: TTL,
        },
    );
    env.send(&[init], &[&admin]).await.unwrap();
    let mut nodes = vec![];
    for i in 1..=n {
        let authority = env.funded().await;
        env.send(
            &[sdk::add_node(admin.pubkey(), address, authority.pubkey())],
            &[&admin],
        )
        .await
        .unwrap();
        let transport = TransportSecret::generate(&mut env.rng);
        env.send(
            &[sdk::register_node(
                authority.pubkey(),
                address,
                i,
                transport.public_key().0,
            )],
            &[&authority],
        )
        .await
        .unwrap();
        nodes.push(SimNode {
            authority,
            share: None,
        });
    }
    SimCluster {
        admin,
        address,
        t,
        n,
        nodes,
    }
}

pub fn confirm_ix(c: &SimCluster, i: usize, key: Point, vs: Vec<[u8; 32]>) -> Instruction {
    sdk::confirm_dkg(
        c.nodes[i].authority.pubkey(),
        c.address,
        medshare::instructions::ConfirmDkgArgs {
            cluster_key: key.0,
            verification_shares: vs,
        },
    )
}

/// Runs the DKG through the chain: round 1 and round 2 posted to mailboxes,
/// each node finishing from what it reads back; returns each node's output
/// (confirmations are left to the caller).
pub async fn run_dkg_rounds(env: &mut Env, c: &mut SimCluster) -> Vec<dkg::DkgOutput> {
    let n = c.n as u16;
    if n == 1 {
        return vec![dkg::single_node(&mut env.rng).unwrap()];
    }
    let attempt = env.account::<Cluster>(c.address).await.dkg_attempt;
    let params = DkgParams {
        cluster: c.address.to_bytes(),
        threshold: c.t as u16,
        nodes: n,
        attempt,
    };
    let mut secrets1 = vec![];
    // Each node's transport key for this attempt only.
    let mut ephemerals = vec![];
    for i in 1..=n {
        let (s, pkg) = dkg::round1(&mut env.rng, &params, NodeIndex::new(i).unwrap()).unwrap();
        secrets1.push(s);
        let eph = TransportSecret::generate(&mut env.rng);
        let ephemeral_key = eph.public_key().0;
        ephemerals.push(eph);
        env.send(
            &[sdk::post_dkg_round1(
                c.nodes[i as usize - 1].authority.pubkey(),
                c.address,
                i as u8,
                pkg,
                ephemeral_key,
            )],
            &[&c.nodes[i as usize - 1].authority],
        )
        .await
        .unwrap();
    }
    // Everyone reads the board.
    let mut mailboxes = BTreeMap::new();
    for i in 1..=n {
        let mb: DkgMailbox = env
            .account(medshare::pda::dkg_mailbox(&c.address, i as u8))
            .await;
        mailboxes.insert(i, mb);
    }
    let peers_of = |me: u16, mailboxes: &BTreeMap<u16, DkgMailbox>| {
        medshare_sdk::codec::dkg_peers(n, mailboxes, NodeIndex::new(me).unwrap())
    };
    let mut secrets2 = vec![];
    for (k, s1) in secrets1.into_iter().enumerate() {
        let i = k as u16 + 1;
        let (s2, out) = dkg::round2(
            &mut env.rng,
            &params,
            NodeIndex::new(i).unwrap(),
            s1,
            &ephemerals[k],
            &peers_of(i, &mailboxes),
        )
        .unwrap();
        secrets2.push(s2);
        // Post in chunks of 5 packages per transaction.
        for chunk in out.chunks(5) {
            let packages = medshare_sdk::codec::round2_args(chunk);
            env.send(
                &[sdk::post_dkg_round2(
                    c.nodes[k].authority.pubkey(),
                    c.address,
                    i as u8,
                    packages,
                )],
                &[&c.nodes[k].authority],
            )
            .await
            .unwrap();
        }
    }
    for i in 1..=n {
        let mb: DkgMailbox = env
            .account(medshare::pda::dkg_mailbox(&c.address, i as u8))
            .await;
        mailboxes.insert(i, mb);
    }
    let mut outputs = vec![];
    for (k, s2) in secrets2.iter().enumerate() {
        let me = k as u16 + 1;
        let inbox = medshare_sdk::codec::dkg_inbox(mailboxes.values(), NodeIndex::new(me).unwrap());
        outputs.push(
            dkg::finish(
                &params,
                NodeIndex::new(me).unwrap(),
                s2,
                &ephemerals[k],
                &peers_of(me, &mailboxes),
                &inbox,
            )
            .unwrap(),
        );
    }
    outputs
}

/// A ready cluster: registered, DKG run through the chain, all confirmed.
pub async fn ready_cluster(env: &mut Env, id: u32, t: u8, n: u8) -> SimCluster {
    let mut c = registered_cluster(env, id, t, n).await;
    let outputs = run_dkg_rounds(env, &mut c).await;
    for (k, out) in outputs.into_iter().enumerate() {
        let vs = out.verification_shares.iter().map(|(_, v)| v.0).collect();
        let conf = confirm_ix(&c, k, out.cluster_key, vs);
        env.send(&[conf], &[&c.nodes[k].authority]).await.unwrap();
        c.nodes[k].share = Some(out.share);
    }
    let cluster: Cluster = env.account(c.address).await;
    assert_eq!(cluster.status, ClusterStatus::Ready);
    assert_eq!(cluster.cluster_key, c.key().0);
    c
}

pub struct Patient {
    pub wallet: Keypair,
    pub key: UserSecretKey,
}

/// A funded patient wallet with a registered identity (a record's owner
/// needs one: it counts the owner's records).
pub async fn patient(env: &mut Env) -> Patient {
    let wallet = env.funded().await;
    let key = UserSecretKey::generate(&mut env.rng);
    let args = medshare::instructions::IdentityArgs {
        encryption_key: key.public_key().edwards().unwrap().0,
        role: Role::Patient,
    };
    env.send(&[sdk::register_identity(wallet.pubkey(), args)], &[&wallet])
        .await
        .unwrap();
    Patient { wallet, key }
}

pub use medshare_sdk::codec::record_ctx;

pub fn store_ix(owner: &Pubkey, cluster: &Pubkey, record_id: u64) -> Instruction {
    sdk::store_patient_data(*owner, None, *cluster, record_id).0
}

pub fn write_ix(owner: &Pubkey, record: &Pubkey, s: &SealedGroup) -> Instruction {
    sdk::write_record_group(*owner, None, *record, s.clone())
}

/// Stores a record with the given groups; returns its address and the sealed groups.
pub async fn store_record(
    env: &mut Env,
    c: &SimCluster,
    p: &Patient,
    record_id: u64,
    groups: &[(u8, &[u8])],
) -> (Pubkey, Vec<SealedGroup>) {
    let owner = p.wallet.pubkey();
    let record = medshare::pda::record(&owner, record_id);
    env.send(&[store_ix(&owner, &c.address, record_id)], &[&p.wallet])
        .await
        .unwrap();
    let mut sealed = vec![];
    for (g, plain) in groups {
        let s = seal_group(
            &mut env.rng,
            &record_ctx(&owner, &record, *g),
            1,
            plain,
            &c.key(),
            &p.key.public_key().edwards().unwrap(),
        )
        .unwrap();
        env.send(&[write_ix(&owner, &record, &s)], &[&p.wallet])
            .await
            .unwrap();
        sealed.push(s);
    }
    (record, sealed)
}

pub fn share_ix(
    requester: &Pubkey,
    record: &Pubkey,
    cluster: &Pubkey,
    computation_id: u64,
    group_mask: u8,
    recipient: [u8; 32],
) -> Instruction {
    let args = medshare::instructions::ShareArgs {
        group_mask,
        recipient,
        recipient_wallet: None,
    };
    let accounts = sdk::ShareAccounts::default();
    sdk::share_patient_data(
        *requester,
        *record,
        *cluster,
        computation_id,
        args,
        accounts,
    )
    .0
}

/// The recipient wallet's provider entry and its issuer, when the entry
/// exists (what nodes pass so the program can apply a record's policy).
pub async fn registry_of(
    env: &mut Env,
    c: &SimCluster,
    comp: &Computation,
) -> Option<(Pubkey, Pubkey)> {
    if comp.recipient_wallet == Pubkey::default() {
        return None;
    }
    let provider = medshare::pda::provider(&c.address, &comp.recipient_wallet);
    let acc = env.ctx.banks_client.get_account(provider).await.unwrap()?;
    if acc.owner != medshare::ID {
        return None;
    }
    let p = Provider::try_deserialize(&mut acc.data.as_slice()).ok()?;
    Some((provider, medshare::pda::issuer(&c.address, &p.issuer)))
}

/// Node `i` (1-based)'s contribution instruction for a computation, computed honestly.
pub async fn contribution_ix(
    env: &mut Env,
    c: &SimCluster,
    i: usize,
    computation: Pubkey,
) -> Instruction {
    let comp: Computation = env.account(computation).await;
    let share = c.nodes[i - 1].share.as_ref().unwrap();
    let args = comp
        .groups
        .iter()
        .zip(&comp.capsules)
        .map(|(g, cap)| {
            let k = reencrypt::contribute(
                &mut env.rng,
                share,
                &ComputationContext {
                    program_id: medshare::ID.to_bytes(),
                    cluster: c.address.to_bytes(),
                    computation: computation.to_bytes(),
                    group: *g,
                },
                &Point(comp.recipient),
                &Point(cap.e),
            )
            .unwrap();
            medshare_sdk::codec::contribution_arg(&k)
        })
        .collect();
    let registry = registry_of(env, c, &comp).await;
    contribute_raw_ix(c, i, computation, &comp, registry, args)
}

/// A contribution instruction with the accounts a node passes for `comp`
/// (its record, its consent if a pull, the recipient's registry entry).
pub fn contribute_raw_ix(
    c: &SimCluster,
    i: usize,
    computation: Pubkey,
    comp: &Computation,
    registry: Option<(Pubkey, Pubkey)>,
    args: Vec<medshare::instructions::ContributionArg>,
) -> Instruction {
    let node = c.nodes[i - 1].authority.pubkey();
    sdk::submit_contribution(node, i as u8, computation, comp, registry, args)
}

pub async fn callback_ix(
    env: &mut Env,
    c: &SimCluster,
    i: usize,
    computation: Pubkey,
) -> Instruction {
    let comp: Computation = env.account(computation).await;
    let ids: Vec<NodeIndex> = comp
        .contributors
        .iter()
        .map(|x| NodeIndex::new(*x as u16).unwrap())
        .collect();
    let lagrange = reencrypt::lagrange_coefficients(&ids)
        .unwrap_or_default()
        .iter()
        .map(|l| l.to_bytes())
        .collect();
    callback_raw_ix(c, i, computation, comp.requester, comp.record, lagrange)
}

/// A callback naming `requester` and `record` as given (attack tests pass
/// wrong ones, which the SDK's builder, reading them from the computation,
/// cannot).
pub fn callback_raw_ix(
    c: &SimCluster,
    i: usize,
    computation: Pubkey,
    requester: Pubkey,
    record: Pubkey,
    lagrange: Vec<[u8; 32]>,
) -> Instruction {
    // Built by hand: requester and record as given, and no consent or registry accounts.
    ix(
        medshare::accounts::SharePatientDataCallback {
            node: c.nodes[i - 1].authority.pubkey(),
            cluster: c.address,
            computation,
            share_result: medshare::pda::share_result(&computation),
            requester,
            consent: None,
            record,
            provider: None,
            issuer: None,
        },
        medshare::instruction::SharePatientDataCallback { lagrange },
    )
}

/// A ready cluster, a record with groups 0 and 2, and a queued share of both
/// to a fresh doctor key.
pub struct Queued {
    pub cluster: SimCluster,
    pub patient: Patient,
    pub record: Pubkey,
    pub sealed: Vec<SealedGroup>,
    pub doctor: UserSecretKey,
    pub computation: Pubkey,
}

pub async fn queued(env: &mut Env, t: u8, n: u8) -> Queued {
    let cluster = ready_cluster(env, 1, t, n).await;
    let patient = patient(env).await;
    let (record, sealed) = store_record(
        env,
        &cluster,
        &patient,
        1,
        &[(0, b"identity".as_slice()), (2, b"diagnoses".as_slice())],
    )
    .await;
    let doctor = UserSecretKey::generate(&mut env.rng);
    let r = doctor.public_key().edwards().unwrap();
    env.send(
        &[share_ix(
            &patient.wallet.pubkey(),
            &record,
            &cluster.address,
            0,
            0b101,
            r.0,
        )],
        &[&patient.wallet],
    )
    .await
    .unwrap();
    Queued {
        computation: medshare::pda::computation(&cluster.address, 0),
        cluster,
        patient,
        record,
        sealed,
        doctor,
    }
}

/// Nodes `contributors` contribute honestly, then node `finisher` posts the callback.
pub async fn finalize(
    env: &mut Env,
    c: &SimCluster,
    computation: Pubkey,
    contributors: &[usize],
    finisher: usize,
) {
    for i in contributors {
        contribute(env, c, *i, computation).await.unwrap();
    }
    let cb = callback_ix(env, c, finisher, computation).await;
    env.send(&[cb], &[&c.nodes[finisher - 1].authority])
        .await
        .unwrap();
}

/// Node `i` contributes honestly.
pub async fn contribute(
    env: &mut Env,
    c: &SimCluster,
    i: usize,
    computation: Pubkey,
) -> Result<Vec<String>, BanksClientError> {
    let ixn = contribution_ix(env, c, i, computation).await;
    env.send(&[ixn], &[&c.nodes[i - 1].authority]).await
}
