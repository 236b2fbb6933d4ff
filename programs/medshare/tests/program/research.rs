//! Encrypted cohort statistics through the program: research consents,
//! values posted with their proofs, studies, the nodes' partial
//! decryptions, the release, and every refusal. On the ELF
//! (`MEDSHARE_SBF=1`) `test_fifty_patients_released_exactly` prints the
//! compute units of each research instruction.

use std::collections::BTreeMap;

use encrypted_ixs::point::Point;
use encrypted_ixs::stats::{encrypt_value, ValueContext};
use medshare::error::MedshareError;
use medshare::events::{StudyJoined, StudyLeft, StudyPartialRejected, StudyReleased};
use medshare::instructions::{
    BitArg, OpenStudyArgs, PostValueArgs, ResearchConsentArgs, SealValueArgs,
};
use medshare::state::*;
use medshare_sdk::research::{
    partial_transactions, release_transaction, value_transactions, Field, StudyResults,
};
use rand_core::RngCore;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

use crate::common::*;

const PURPOSE: &str = "cardiology cohort 2026";

/// Compute units per research instruction (filled on the ELF only).
#[derive(Default)]
struct Units(BTreeMap<&'static str, Vec<u64>>);

impl Units {
    fn add(&mut self, name: &'static str, logs: &[String]) {
        self.0.entry(name).or_default().extend(program_units(logs));
    }

    fn print(&self) {
        println!();
        println!("| research instruction | median CU | max CU | samples |");
        println!("| --- | --- | --- | --- |");
        for (name, s) in &self.0 {
            let mut s = s.clone();
            s.sort_unstable();
            println!(
                "| {name} | {} | {} | {} |",
                s[s.len() / 2],
                s.last().unwrap(),
                s.len()
            );
        }
    }
}

/// A patient with a one-group record in the cluster.
struct Member {
    wallet: Keypair,
    record: Pubkey,
}

async fn member(env: &mut Env, c: &SimCluster) -> Member {
    let p = patient(env).await;
    let (record, _) = store_record(env, c, &p, 1, &[(0, b"{}")]).await;
    Member {
        wallet: p.wallet,
        record,
    }
}

fn consent_ix(m: &Member, fields: &[&Field], purpose: &str) -> Instruction {
    consent_budget_ix(m, fields, purpose, 0)
}

fn consent_budget_ix(m: &Member, fields: &[&Field], purpose: &str, budget: u32) -> Instruction {
    consent_full_ix(m, fields, purpose, budget, Pubkey::default())
}

fn consent_full_ix(
    m: &Member,
    fields: &[&Field],
    purpose: &str,
    budget: u32,
    researcher: Pubkey,
) -> Instruction {
    sdk::grant_research_consent(
        m.wallet.pubkey(),
        m.record,
        ResearchConsentArgs {
            purpose: purpose.to_string(),
            researcher,
            fields: fields.iter().map(|f| f.id).collect(),
            expires_at: i64::MAX,
            epsilon_budget_milli: budget,
            // The helpers without a budget opt into exact releases.
            exact: budget == 0,
        },
    )
}

/// Posts `value` of `field` for `m` (every transaction); returns the logs.
async fn post_value(
    env: &mut Env,
    c: &SimCluster,
    m: &Member,
    field: &Field,
    value: u64,
) -> Vec<Vec<String>> {
    let txs = value_transactions(
        &mut env.rng,
        m.wallet.pubkey(),
        m.record,
        c.address,
        &c.key(),
        field,
        value,
    )
    .unwrap();
    let mut logs = vec![];
    for tx in txs {
        logs.push(env.send(&tx, &[&m.wallet]).await.unwrap());
    }
    logs
}

/// `researcher` adds `record`'s value of `field` to `study`.
async fn add_record(
    env: &mut Env,
    researcher: &Keypair,
    study: Pubkey,
    field: &Field,
    record: Pubkey,
) -> Result<Vec<String>, solana_program_test::BanksClientError> {
    let ix = sdk::join_study(researcher.pubkey(), study, &field.id, record, None);
    env.send(&[ix], &[researcher]).await
}

/// Opens a study of `field` (the cluster's next number).
async fn open(env: &mut Env, c: &SimCluster, r: &Keypair, field: &Field, k: u32) -> Pubkey {
    open_dp(env, c, r, field, k, 0).await
}

/// The arguments of a study of `field` with minimum cohort `k` and ε =
/// `eps_milli / 1000` (0: exact).
fn study_args(field: &Field, k: u32, eps_milli: u32) -> OpenStudyArgs {
    OpenStudyArgs {
        purpose: PURPOSE.to_string(),
        field: field.id,
        bits: field.bits,
        bucket_bits: field.bucket_bits,
        min_cohort: k,
        closes_at: i64::MAX,
        epsilon_milli: eps_milli,
    }
}

/// `r` tries to open a study with `args` as the cluster's next one: the
/// result and the study's address.
async fn try_open(
    env: &mut Env,
    c: &SimCluster,
    r: &Keypair,
    args: OpenStudyArgs,
) -> (
    Result<Vec<String>, solana_program_test::BanksClientError>,
    Pubkey,
) {
    let cluster: Cluster = env.account(c.address).await;
    let (ix, study) = sdk::open_study(r.pubkey(), c.address, cluster.next_study, None, args);
    (env.send(&[ix], &[r]).await, study)
}

/// Opens a study with differential privacy at ε = `eps_milli / 1000`.
async fn open_dp(
    env: &mut Env,
    c: &SimCluster,
    r: &Keypair,
    field: &Field,
    k: u32,
    eps_milli: u32,
) -> Pubkey {
    let (sent, study) = try_open(env, c, r, study_args(field, k, eps_milli)).await;
    sent.unwrap();
    study
}

/// Node `i`'s (1-based) partial decryptions of `study`, as transactions.
async fn partial_txs(
    env: &mut Env,
    c: &SimCluster,
    i: usize,
    study: Pubkey,
) -> Vec<Vec<Instruction>> {
    let s: Study = env.account(study).await;
    let node = &c.nodes[i - 1];
    partial_transactions(
        &mut env.rng,
        node.authority.pubkey(),
        node.share.as_ref().unwrap(),
        c.address,
        study,
        &s,
        0,
    )
    .unwrap()
}

/// Node `i` (1-based) posts its partial decryptions of `study`.
async fn post_partials(
    env: &mut Env,
    c: &SimCluster,
    i: usize,
    study: Pubkey,
) -> Vec<Result<Vec<String>, solana_program_test::BanksClientError>> {
    let txs = partial_txs(env, c, i, study).await;
    let node = &c.nodes[i - 1];
    let mut out = vec![];
    for tx in txs {
        out.push(env.send(&tx, &[&node.authority]).await);
    }
    out
}

async fn release(env: &mut Env, c: &SimCluster, study: Pubkey, nodes: &[u8]) -> Vec<String> {
    let payer = env.funded().await;
    let tx = release_transaction(payer.pubkey(), c.address, study, None, nodes).unwrap();
    env.send(&tx, &[&payer]).await.unwrap()
}

/// Fifty patients with random ages: the released count, sum, mean, exact
/// variance and 8-bucket histogram equal the plaintext computation; node 2's
/// wrong partial decryption is refused, naming it; nodes 1 and 3 release.
/// The same fifty in a study with differential privacy (ε = 1): every
/// released statistic lies within the documented noise.
#[tokio::test]
async fn test_fifty_patients_released_exactly() {
    let mut env = Env::new(1301).await;
    let c = ready_cluster(&mut env, 13, 2, 3).await;
    let age = Field::parse("age").unwrap();
    let researcher = env.funded().await;
    let study = open(&mut env, &c, &researcher, &age, 10).await;
    // The same fifty records also join a study with differential privacy.
    let dp_study = open_dp(&mut env, &c, &researcher, &age, 10, 1_000).await;
    let mut units = Units::default();
    let mut ages = vec![];
    for _ in 0..50 {
        let m = member(&mut env, &c).await;
        let logs = env
            .send(&[consent_ix(&m, &[&age], PURPOSE)], &[&m.wallet])
            .await
            .unwrap();
        units.add("grant_research_consent", &logs);
        let a = (env.rng.next_u32() % 100) as u64;
        ages.push(a);
        let logs = post_value(&mut env, &c, &m, &age, a).await;
        let (seal, posts) = logs.split_last().unwrap();
        for l in posts {
            units.add("post_research_value (5 slices)", l);
        }
        units.add("seal_research_value (age: 7 bits, square, 8 buckets)", seal);
        let logs = add_record(&mut env, &researcher, study, &age, m.record)
            .await
            .unwrap();
        units.add("join_study (age: 29 slices)", &logs);
        assert_eq!(events::<StudyJoined>(&logs)[0].cohort, ages.len() as u32);
        add_record(&mut env, &researcher, dp_study, &age, m.record)
            .await
            .unwrap();
        if ages.len() == 1 {
            // A record counts once per study.
            let again = add_record(&mut env, &researcher, study, &age, m.record).await;
            assert_err(again, MedshareError::AlreadyInStudy);
        }
    }
    // Nothing is decrypted before the study closes.
    let early = post_partials(&mut env, &c, 1, study).await;
    assert_err(
        early.into_iter().next().unwrap(),
        MedshareError::StudyNotClosed,
    );
    let logs = env
        .send(
            &[sdk::close_study(researcher.pubkey(), c.address, study)],
            &[&researcher],
        )
        .await
        .unwrap();
    units.add("close_study (age: 29 slices into 10 statistics)", &logs);

    // Node 2 cheats: D = s·R + B on slice 0. It is named and marked faulty.
    let node2 = &c.nodes[1];
    let mut txs = partial_txs(&mut env, &c, 2, study).await;
    let post = &mut txs[0][1];
    let mut data = post.data.clone();
    // Layout: discriminator 8, offset 2, vec length 4, then D of slice 0.
    let d = Point(data[14..46].try_into().unwrap());
    let forged = d.add(&encrypted_ixs::point::BASEPOINT).unwrap();
    data[14..46].copy_from_slice(&forged.0);
    post.data = data;
    let logs = env.send(&txs[0], &[&node2.authority]).await.unwrap();
    let rejected = events::<StudyPartialRejected>(&logs);
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        (rejected[0].node, rejected[0].authority, rejected[0].slice),
        (2, node2.authority.pubkey(), 0)
    );
    let s: Study = env.account(study).await;
    assert_eq!(s.faulty, 0b010);
    let rec: NodeRecord = env.account(medshare::pda::node_record(&c.address, 2)).await;
    assert_eq!(rec.faults, 1);
    let again = post_partials(&mut env, &c, 2, study).await;
    assert_err(again.into_iter().next().unwrap(), MedshareError::NodeFaulty);

    for i in [1usize, 3] {
        for r in post_partials(&mut env, &c, i, study).await {
            units.add("post_study_partials (10 statistics)", &r.unwrap());
        }
    }
    // The faulty node's partials cannot be used for the release.
    let payer = env.funded().await;
    let with_faulty = release_transaction(payer.pubkey(), c.address, study, None, &[1, 2]).unwrap();
    assert_err(
        env.send(&with_faulty, &[&payer]).await,
        MedshareError::NotEnoughPartials,
    );
    let logs = release(&mut env, &c, study, &[1, 3]).await;
    units.add("release_study (10 statistics, t = 2)", &logs);
    let ev = events::<StudyReleased>(&logs);
    assert_eq!((ev[0].cohort, ev[0].contributors.clone()), (50, vec![1, 3]));

    let s: Study = env.account(study).await;
    let got = StudyResults::of(&s).unwrap();
    let n = ages.len() as u64;
    let sum: u64 = ages.iter().sum();
    let sum_sq: u64 = ages.iter().map(|a| a * a).sum();
    let mut hist = vec![0i64; 8];
    for a in &ages {
        hist[(a >> 4) as usize] += 1;
    }
    assert_eq!(got.count, 50);
    assert_eq!(got.sum, sum as i128);
    assert_eq!(got.sum_of_squares, Some(sum_sq as i128));
    assert_eq!(got.mean, sum as f64 / n as f64);
    // The exact variance, as a fraction: (n·Σv² − (Σv)²) / n².
    let exact = (n * sum_sq - sum * sum) as f64 / (n * n) as f64;
    assert!((got.variance.unwrap() - exact).abs() < 1e-9);
    assert_eq!(got.histogram, Some(hist));
    // Released twice? No: the study is released once.
    let twice = release_transaction(payer.pubkey(), c.address, study, None, &[1, 3]).unwrap();
    assert_err(
        env.send(&twice, &[&payer]).await,
        MedshareError::StudyNotClosed,
    );
    // With differential privacy (ε = 1): released within the documented
    // noise, each statistic's own.
    env.send(
        &[sdk::close_study(researcher.pubkey(), c.address, dp_study)],
        &[&researcher],
    )
    .await
    .unwrap();
    for i in [1usize, 2] {
        for tx in post_noise(&mut env, &c, i, dp_study).await {
            env.send(&tx, &[&c.nodes[i - 1].authority]).await.unwrap();
        }
    }
    for i in [1usize, 2] {
        for r in post_partials(&mut env, &c, i, dp_study).await {
            r.unwrap();
        }
    }
    release(&mut env, &c, dp_study, &[1, 2]).await;
    let s: Study = env.account(dp_study).await;
    let noisy = StudyResults::of(&s).unwrap();
    assert_eq!((noisy.count, noisy.epsilon), (50, Some(1.0)));
    assert_noised(&noisy, &ages);
    if sbf() {
        units.print();
    }
}

/// A revoked research consent before the study closes removes the record:
/// its value is not in the released sum. Without consent, with another
/// purpose or field, or revoked, a record cannot join.
#[tokio::test]
async fn test_revoked_consent_leaves_the_study() {
    let mut env = Env::new(1302).await;
    let c = ready_cluster(&mut env, 14, 2, 2).await;
    let weight = Field::parse("weight").unwrap();
    let flag = Field::parse("condition:44054006").unwrap();
    let researcher = env.funded().await;
    let study = open(&mut env, &c, &researcher, &flag, 10).await;
    let mut members = vec![];
    let mut after_ten = None;
    for k in 0..11u64 {
        let m = member(&mut env, &c).await;
        env.send(&[consent_ix(&m, &[&flag, &weight], PURPOSE)], &[&m.wallet])
            .await
            .unwrap();
        post_value(&mut env, &c, &m, &flag, k % 2).await;
        add_record(&mut env, &researcher, study, &flag, m.record)
            .await
            .unwrap();
        members.push(m);
        if k == 9 {
            after_ten = Some(env.account::<Study>(study).await);
        }
    }

    // A record without a research consent.
    let stranger = member(&mut env, &c).await;
    let join = sdk::join_study(researcher.pubkey(), study, &flag.id, stranger.record, None);
    assert_anchor_err(
        env.send(std::slice::from_ref(&join), &[&researcher]).await,
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
    // Its owner cannot post a value without one either.
    let ctx_txs = value_transactions(
        &mut env.rng,
        stranger.wallet.pubkey(),
        stranger.record,
        c.address,
        &c.key(),
        &flag,
        1,
    )
    .unwrap();
    assert_anchor_err(
        env.send(&ctx_txs[0], &[&stranger.wallet]).await,
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
    // Another purpose: refused when joining.
    env.send(
        &[consent_ix(&stranger, &[&flag], "marketing")],
        &[&stranger.wallet],
    )
    .await
    .unwrap();
    post_value(&mut env, &c, &stranger, &flag, 1).await;
    assert_err(
        env.send(&[join], &[&researcher]).await,
        MedshareError::ConsentScope,
    );

    // A consent naming another researcher: refused too.
    let named = member(&mut env, &c).await;
    env.send(
        &[consent_full_ix(
            &named,
            &[&flag],
            PURPOSE,
            0,
            Pubkey::new_unique(),
        )],
        &[&named.wallet],
    )
    .await
    .unwrap();
    post_value(&mut env, &c, &named, &flag, 1).await;
    assert_err(
        add_record(&mut env, &researcher, study, &flag, named.record).await,
        MedshareError::ConsentScope,
    );

    // The last member revokes: while consented, nobody but the researcher
    // can remove it...
    let last = members.last().unwrap();
    let stranger = env.funded().await;
    let by_stranger = sdk::remove_from_study(stranger.pubkey(), study, &flag.id, last.record);
    assert_err(
        env.send(&[by_stranger], &[&stranger]).await,
        MedshareError::StillConsented,
    );
    let remove = sdk::remove_from_study(researcher.pubkey(), study, &flag.id, last.record);
    // ...revoked, it leaves in the same transaction.
    let logs = env
        .send(
            &[
                sdk::revoke_research_consent(last.wallet.pubkey(), last.record),
                sdk::remove_from_study(last.wallet.pubkey(), study, &flag.id, last.record),
            ],
            &[&last.wallet],
        )
        .await
        .unwrap();
    assert_eq!(events::<StudyLeft>(&logs)[0].cohort, 10);
    assert_err(
        env.send(&[remove], &[&researcher]).await,
        MedshareError::NotInStudy,
    );
    // The sums are exactly those of the other ten, point for point.
    let after: Study = env.account(study).await;
    assert_eq!(after.cohort, 10);
    assert_eq!(after.aggregates, after_ten.unwrap().aggregates);
    // A revoked consent cannot post or join again.
    let again = sdk::join_study(researcher.pubkey(), study, &flag.id, last.record, None);
    assert_err(
        env.send(&[again], &[&researcher]).await,
        MedshareError::AlreadyInStudy,
    );
    let other_study = open(&mut env, &c, &researcher, &flag, 10).await;
    let join_other = sdk::join_study(
        researcher.pubkey(),
        other_study,
        &flag.id,
        last.record,
        None,
    );
    assert_err(
        env.send(&[join_other], &[&researcher]).await,
        MedshareError::ConsentRevoked,
    );

    env.send(
        &[sdk::close_study(researcher.pubkey(), c.address, study)],
        &[&researcher],
    )
    .await
    .unwrap();
    for i in 1..=2 {
        for r in post_partials(&mut env, &c, i, study).await {
            r.unwrap();
        }
    }
    release(&mut env, &c, study, &[1, 2]).await;
    let s: Study = env.account(study).await;
    let got = StudyResults::of(&s).unwrap();
    // Members 0..10 carry k % 2: five of them are flagged; the revoked
    // eleventh (k = 10) was not, and member 9 (flagged) stays.
    assert_eq!((got.count, got.sum), (10, 5));
    assert_eq!(got.histogram, None);
    assert_eq!(got.sum_of_squares, None);
}

/// Every refusal around values and studies, with its exact error.
#[tokio::test]
async fn test_value_and_study_refusals() {
    let mut env = Env::new(1303).await;
    let c = ready_cluster(&mut env, 15, 2, 2).await;
    let age = Field::parse("age").unwrap();
    let flag = Field::parse("medication:197361").unwrap();
    let researcher = env.funded().await;
    let m = member(&mut env, &c).await;
    env.send(&[consent_ix(&m, &[&age], PURPOSE)], &[&m.wallet])
        .await
        .unwrap();
    let owner = m.wallet.pubkey();
    let ctx = ValueContext {
        program_id: medshare::ID.to_bytes(),
        cluster: c.address.to_bytes(),
        record: m.record.to_bytes(),
        owner: owner.to_bytes(),
        field: age.id,
    };
    let post = |slices: Vec<BitArg>, offset: u16| {
        sdk::post_research_value(
            owner,
            m.record,
            PostValueArgs {
                field: age.id,
                bits: age.bits,
                bucket_bits: age.bucket_bits,
                offset,
                slices,
            },
        )
    };
    let bits = encrypt_value(&mut env.rng, &ctx, &c.key(), 37, 7).unwrap();
    let arg = |k: usize| BitArg::from(bits[k]);

    // A field the consent does not name.
    let flag_ix = sdk::post_research_value(
        owner,
        m.record,
        PostValueArgs {
            field: flag.id,
            bits: 1,
            bucket_bits: 0,
            offset: 0,
            slices: vec![arg(0)],
        },
    );
    assert_err(
        env.send(&[flag_ix], &[&m.wallet]).await,
        MedshareError::ConsentScope,
    );
    // A shape out of range.
    let wide = {
        sdk::post_research_value(
            owner,
            m.record,
            PostValueArgs {
                field: age.id,
                bits: 21,
                bucket_bits: 0,
                offset: 0,
                slices: vec![arg(0)],
            },
        )
    };
    assert_err(
        env.send(&[wide], &[&m.wallet]).await,
        MedshareError::InvalidStudyShape,
    );
    // A bit that encrypts 2 (C + B), a torsion component added after
    // proving, a bit proven at another position: each refused. (A torsion
    // bit with a proof ground to verify is the crypto test
    // `test_torsion_bit_with_a_ground_proof_refused`.)
    let mut two = arg(0);
    two.c = Point(two.c)
        .add(&encrypted_ixs::point::BASEPOINT)
        .unwrap()
        .0;
    let mut torsion = arg(0);
    let t8 = curve25519_dalek::constants::EIGHT_TORSION[1].compress().0;
    torsion.c = Point(torsion.c).add(&Point(t8)).unwrap().0;
    for forged in [vec![two], vec![torsion], vec![arg(1)]] {
        assert_err(
            env.send(&[post(forged, 0)], &[&m.wallet]).await,
            MedshareError::InvalidValueProof,
        );
    }
    // In order, each once.
    env.send(&[post(vec![arg(0), arg(1)], 0)], &[&m.wallet])
        .await
        .unwrap();
    for (slices, offset) in [(vec![arg(1)], 1), (vec![arg(3)], 3)] {
        assert_err(
            env.send(&[post(slices, offset)], &[&m.wallet]).await,
            MedshareError::SlicesOutOfOrder,
        );
    }
    // Not complete: cannot seal, cannot join.
    let seal = sdk::seal_research_value(
        owner,
        m.record,
        c.address,
        &age.id,
        SealValueArgs {
            square: None,
            bucket: None,
        },
    );
    assert_err(
        env.send(&[seal], &[&m.wallet]).await,
        MedshareError::ValueNotSealed,
    );
    let study = open(&mut env, &c, &researcher, &age, 10).await;
    let join = sdk::join_study(researcher.pubkey(), study, &age.id, m.record, None);
    assert_err(
        env.send(std::slice::from_ref(&join), &[&researcher]).await,
        MedshareError::ValueNotSealed,
    );

    // A complete value whose square proof is another value's.
    let m2 = member(&mut env, &c).await;
    env.send(&[consent_ix(&m2, &[&age], PURPOSE)], &[&m2.wallet])
        .await
        .unwrap();
    let mine = value_transactions(
        &mut env.rng,
        m2.wallet.pubkey(),
        m2.record,
        c.address,
        &c.key(),
        &age,
        40,
    )
    .unwrap();
    let theirs = value_transactions(
        &mut env.rng,
        m2.wallet.pubkey(),
        m2.record,
        c.address,
        &c.key(),
        &age,
        41,
    )
    .unwrap();
    let (my_seal, my_posts) = mine.split_last().unwrap();
    for tx in my_posts {
        env.send(tx, &[&m2.wallet]).await.unwrap();
    }
    assert_err(
        env.send(theirs.last().unwrap(), &[&m2.wallet]).await,
        MedshareError::InvalidValueProof,
    );
    env.send(my_seal, &[&m2.wallet]).await.unwrap();
    assert_err(
        env.send(my_seal, &[&m2.wallet]).await,
        MedshareError::ValueSealed,
    );
    assert_err(
        env.send(&my_posts[0], &[&m2.wallet]).await,
        MedshareError::ValueSealed,
    );
    // Into a study of another shape (a flag study): refused.
    let flag_args = OpenStudyArgs {
        bits: 1,
        bucket_bits: 0,
        ..study_args(&age, 10, 0)
    };
    let (sent, flag_study) = try_open(&mut env, &c, &researcher, flag_args).await;
    sent.unwrap();
    assert_err(
        add_record(&mut env, &researcher, flag_study, &age, m2.record).await,
        MedshareError::FieldMismatch,
    );

    // A minimum cohort below 10 is refused.
    let (low, _) = try_open(&mut env, &c, &researcher, study_args(&age, 9, 0)).await;
    assert_err(low, MedshareError::MinCohortTooLow);
    // An ε so small that a node's noise on the sum of squares would need
    // more than 36 bits is refused: 12-bit lab values at ε = 0.01 (bound
    // 2^38); ε = 0.05 is not (2^35).
    let lab = Field::parse("loinc:2345-7").unwrap();
    let (tiny, _) = try_open(&mut env, &c, &researcher, study_args(&lab, 10, 10)).await;
    assert_err(tiny, MedshareError::EpsilonTooSmall);
    let (small, _) = try_open(&mut env, &c, &researcher, study_args(&lab, 10, 50)).await;
    small.unwrap();
    // A cohort below the minimum cannot close, so nothing is decrypted.
    add_record(&mut env, &researcher, study, &age, m2.record)
        .await
        .unwrap();
    assert_err(
        env.send(
            &[sdk::close_study(researcher.pubkey(), c.address, study)],
            &[&researcher],
        )
        .await,
        MedshareError::CohortTooSmall,
    );
    // Only the researcher closes before the closing time.
    assert_err(
        env.send(
            &[sdk::close_study(m2.wallet.pubkey(), c.address, study)],
            &[&m2.wallet],
        )
        .await,
        MedshareError::NotRequester,
    );
    // Partial decryptions of an open study, or of a value account passed as
    // a study: refused.
    let txs = partial_txs(&mut env, &c, 1, study).await;
    let node = &c.nodes[0];
    assert_err(
        env.send(&txs[0], &[&node.authority]).await,
        MedshareError::StudyNotClosed,
    );
    let mut on_value = txs[0].clone();
    let value = medshare::pda::research_value(&m2.record, &age.id);
    on_value[1].accounts[3].pubkey = value;
    on_value[1].accounts[4].pubkey = medshare::pda::study_partials(&value, 1);
    assert_anchor_err(
        env.send(&on_value, &[&node.authority]).await,
        anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch,
    );
}

/// Node `i`'s noise for `study` (every transaction).
async fn post_noise(
    env: &mut Env,
    c: &SimCluster,
    i: usize,
    study: Pubkey,
) -> Vec<Vec<Instruction>> {
    post_noise_from(env, c, i, study, 0).await
}

/// Node `i`'s noise for `study` from its bit `from` on, as the node builds
/// it after a restart.
async fn post_noise_from(
    env: &mut Env,
    c: &SimCluster,
    i: usize,
    study: Pubkey,
    from: usize,
) -> Vec<Vec<Instruction>> {
    let s: Study = env.account(study).await;
    let node = &c.nodes[i - 1];
    let share = node.share.as_ref().unwrap();
    medshare_sdk::research::noise_transactions(
        &mut env.rng,
        node.authority.pubkey(),
        share,
        c.address,
        study,
        &s,
        from,
    )
    .unwrap()
    .unwrap()
}

/// The true statistics of an age study (7 bits, squares, 8 buckets): the
/// sum, the sum of squares, and how many ages fall in each bucket.
fn true_statistics(ages: &[u64]) -> Vec<i64> {
    let mut truth = vec![0i64; 10];
    for a in ages {
        truth[0] += *a as i64;
        truth[1] += (a * a) as i64;
        truth[2 + (a >> 4) as usize] += 1;
    }
    truth
}

/// The released statistics of `study` (signed discrete logarithms within
/// `±window` of `[0, top]`).
fn released_values(s: &Study, top: i64, window: i64) -> Vec<i64> {
    s.released
        .iter()
        .map(|p| {
            encrypted_ixs::stats::discrete_log_signed(&Point(*p), -window, top + window).unwrap()
        })
        .collect()
}

/// Each released statistic of a noised age study against the truth: the
/// error is within the proven bounds of the nodes that noised it and within
/// 20 standard deviations of their noise, and some noise is there.
fn assert_noised(got: &StudyResults, ages: &[u64]) {
    let truth = true_statistics(ages);
    let mut values = vec![got.sum as i64, got.sum_of_squares.unwrap() as i64];
    values.extend(got.histogram.clone().unwrap());
    let errors: Vec<i64> = values.iter().zip(&truth).map(|(g, t)| g - t).collect();
    for (e, n) in errors.iter().zip(&got.noise) {
        assert!(
            e.unsigned_abs() <= n.bound * n.nodes as u64 && (*e as f64).abs() <= 20.0 * n.sd,
            "{errors:?} {:?}",
            got.noise
        );
    }
    assert!(errors.iter().any(|e| *e != 0), "no noise was added");
}

/// A study with differential privacy: nothing is decrypted before `t`
/// nodes' noise is in; a node's forged noise bit is refused naming it;
/// the released statistics differ from the true ones by the documented
/// noise (each within its bounds and 20 standard deviations, and not all
/// equal to them); the study records ε. Records with a privacy budget join only studies with
/// differential privacy, and only while their ε fits the budget.
#[tokio::test]
async fn test_differential_privacy_release() {
    let mut env = Env::new(1304).await;
    let c = ready_cluster(&mut env, 16, 2, 3).await;
    let age = Field::parse("age").unwrap();
    let researcher = env.funded().await;
    let study = open_dp(&mut env, &c, &researcher, &age, 10, 1_000).await;
    let exact = open(&mut env, &c, &researcher, &age, 10).await;
    let second = open_dp(&mut env, &c, &researcher, &age, 10, 1_000).await;
    let mut ages = vec![];
    let mut members = vec![];
    for _ in 0..10 {
        let m = member(&mut env, &c).await;
        // A budget of ε = 1.5: one study at ε = 1, never one without noise.
        env.send(
            &[consent_budget_ix(&m, &[&age], PURPOSE, 1_500)],
            &[&m.wallet],
        )
        .await
        .unwrap();
        let a = (env.rng.next_u32() % 128) as u64;
        ages.push(a);
        post_value(&mut env, &c, &m, &age, a).await;
        add_record(&mut env, &researcher, study, &age, m.record)
            .await
            .unwrap();
        members.push(m);
    }
    for other in [exact, second] {
        assert_err(
            add_record(&mut env, &researcher, other, &age, members[0].record).await,
            MedshareError::PrivacyBudgetExceeded,
        );
    }
    let consent: ResearchConsent = env
        .account(medshare::pda::research_consent(&members[0].record))
        .await;
    assert_eq!(
        (consent.epsilon_budget_milli, consent.epsilon_spent_milli),
        (1_500, 1_000)
    );
    // Revoked and granted again (the record stays in the study: it was not
    // removed), the budget is not reset: the second study is still refused.
    let m0 = &members[0];
    env.send(
        &[
            sdk::revoke_research_consent(m0.wallet.pubkey(), m0.record),
            consent_budget_ix(m0, &[&age], PURPOSE, 1_500),
        ],
        &[&m0.wallet],
    )
    .await
    .unwrap();
    let consent: ResearchConsent = env
        .account(medshare::pda::research_consent(&m0.record))
        .await;
    assert_eq!(consent.epsilon_spent_milli, 1_000);
    assert_err(
        add_record(&mut env, &researcher, second, &age, m0.record).await,
        MedshareError::PrivacyBudgetExceeded,
    );
    env.send(
        &[sdk::close_study(researcher.pubkey(), c.address, study)],
        &[&researcher],
    )
    .await
    .unwrap();
    // No partial decryption before the noise is in.
    let early = post_partials(&mut env, &c, 1, study).await;
    assert_err(
        early.into_iter().next().unwrap(),
        MedshareError::NoiseIncomplete,
    );
    // Node 3 forges a noise bit: named, marked faulty, nothing added.
    let before: Study = env.account(study).await;
    let mut forged = post_noise(&mut env, &c, 3, study).await;
    let ix = &mut forged[0][1];
    // Layout: discriminator 8, offset 2, vec length 4, then R, C of bit 0.
    let mut data = ix.data.clone();
    let c0 = Point(data[46..78].try_into().unwrap());
    data[46..78].copy_from_slice(&c0.add(&encrypted_ixs::point::BASEPOINT).unwrap().0);
    ix.data = data;
    let logs = env
        .send(&forged[0], &[&c.nodes[2].authority])
        .await
        .unwrap();
    let rejected = events::<StudyPartialRejected>(&logs);
    assert_eq!(
        (rejected[0].node, rejected[0].slice, rejected[0].noise),
        (3, 0, true)
    );
    let after: Study = env.account(study).await;
    assert_eq!(after.aggregates, before.aggregates);
    assert_eq!(after.faulty, 0b100);
    let mut units = Units::default();
    for i in [1usize, 2] {
        for tx in post_noise(&mut env, &c, i, study).await {
            let logs = env.send(&tx, &[&c.nodes[i - 1].authority]).await.unwrap();
            units.add("post_study_noise (5 bits)", &logs);
        }
    }
    let s: Study = env.account(study).await;
    assert_eq!(s.noise_done, 0b011);
    // The noise phase is over: no more noise is taken.
    let late = post_noise(&mut env, &c, 1, study).await;
    assert_err(
        env.send(&late[0], &[&c.nodes[0].authority]).await,
        MedshareError::NoiseComplete,
    );
    for i in [1usize, 2] {
        for r in post_partials(&mut env, &c, i, study).await {
            r.unwrap();
        }
    }
    let logs = release(&mut env, &c, study, &[1, 2]).await;
    assert_eq!(events::<StudyReleased>(&logs)[0].epsilon_milli, 1_000);
    let s: Study = env.account(study).await;
    let got = StudyResults::of(&s).unwrap();
    assert_eq!(got.epsilon, Some(1.0));
    assert_eq!(got.count, 10);
    assert_noised(&got, &ages);
    // ε = 1 split in three; the sum's noise has scale 127 × 3 = 381.
    assert_eq!(got.noise[0].epsilon, 0.333);
    assert_eq!(got.noise[0].scale, 381.0);
    // A study without differential privacy takes no noise.
    let exact_study: Study = env.account(exact).await;
    let plain = medshare_sdk::research::noise_transactions(
        &mut env.rng,
        c.nodes[0].authority.pubkey(),
        c.nodes[0].share.as_ref().unwrap(),
        c.address,
        exact,
        &exact_study,
        0,
    )
    .unwrap();
    assert!(plain.is_none());
    if sbf() {
        units.print();
    }
}

/// Membership is the researcher's decision: someone who made up consenting
/// records of their own cannot push them into another researcher's study
/// (poisoning its sums), and the researcher removes a member it does not
/// trust; the release is then exactly the other members' sum.
#[tokio::test]
async fn test_study_membership_is_the_researchers_decision() {
    let mut env = Env::new(2306).await;
    let c = ready_cluster(&mut env, 14, 2, 3).await;
    let age = Field::parse("age").unwrap();
    let researcher = env.funded().await;
    let study = open(&mut env, &c, &researcher, &age, 10).await;
    let poisoner = env.funded().await;
    let mut sum = 0;
    let mut members = vec![];
    for k in 0..12u64 {
        let m = member(&mut env, &c).await;
        env.send(&[consent_ix(&m, &[&age], PURPOSE)], &[&m.wallet])
            .await
            .unwrap();
        let value = if k == 11 { 127 } else { 20 + k };
        post_value(&mut env, &c, &m, &age, value).await;
        if k == 11 {
            // A sybil record with an extreme value: its maker cannot add it.
            assert_err(
                add_record(&mut env, &poisoner, study, &age, m.record).await,
                MedshareError::NotResearcher,
            );
            let s: Study = env.account(study).await;
            assert_eq!(s.cohort, 11);
            // Added by the researcher by mistake, then removed by it while
            // still consented.
            add_record(&mut env, &researcher, study, &age, m.record)
                .await
                .unwrap();
            let remove = sdk::remove_from_study(researcher.pubkey(), study, &age.id, m.record);
            let logs = env.send(&[remove], &[&researcher]).await.unwrap();
            assert_eq!(events::<StudyLeft>(&logs)[0].cohort, 11);
        } else {
            add_record(&mut env, &researcher, study, &age, m.record)
                .await
                .unwrap();
            sum += value;
        }
        members.push(m);
    }
    env.send(
        &[sdk::close_study(researcher.pubkey(), c.address, study)],
        &[&researcher],
    )
    .await
    .unwrap();
    for i in [1usize, 2] {
        for r in post_partials(&mut env, &c, i, study).await {
            r.unwrap();
        }
    }
    release(&mut env, &c, study, &[1, 2]).await;
    let s: Study = env.account(study).await;
    let got = StudyResults::of(&s).unwrap();
    assert_eq!((got.count, got.sum), (11, sum as i128));
}

/// Whoever opens a study pays for its release, and every account a study
/// created is closed with its lamports back to whoever paid: the nodes'
/// partial decryptions cost them nothing (the researcher's deposit pays
/// their rent), and once the memberships, partials and study are closed
/// the researcher has every lamport back; the patients close their
/// consents and values (a value still counted by a membership stays).
#[tokio::test]
async fn test_study_accounts_close_with_every_lamport_back() {
    let mut env = Env::new(2312).await;
    let c = ready_cluster(&mut env, 15, 2, 3).await;
    let age = Field::parse("age").unwrap();
    let researcher = env.funded().await;
    let start = env.lamports(researcher.pubkey()).await;
    let study = open(&mut env, &c, &researcher, &age, 10).await;
    let s: Study = env.account(study).await;
    assert!(s.partials_deposit > 0);
    let mut members = vec![];
    for k in 0..10u64 {
        let m = member(&mut env, &c).await;
        env.send(&[consent_ix(&m, &[&age], PURPOSE)], &[&m.wallet])
            .await
            .unwrap();
        post_value(&mut env, &c, &m, &age, 30 + k).await;
        add_record(&mut env, &researcher, study, &age, m.record)
            .await
            .unwrap();
        members.push(m);
    }
    // A value counted by a membership stays.
    let first = &members[0];
    assert_err(
        env.send(
            &[sdk::close_research_value(
                first.wallet.pubkey(),
                first.record,
                &age.id,
            )],
            &[&first.wallet],
        )
        .await,
        MedshareError::ValueInStudies,
    );
    // Memberships of an open study stay.
    let close_member = |m: &Member| {
        sdk::close_study_member(
            researcher.pubkey(),
            study,
            &age.id,
            m.record,
            researcher.pubkey(),
        )
    };
    assert_err(
        env.send(&[close_member(first)], &[&researcher]).await,
        MedshareError::StudyNotClosed,
    );
    env.send(
        &[sdk::close_study(researcher.pubkey(), c.address, study)],
        &[&researcher],
    )
    .await
    .unwrap();
    // The nodes' partials cost them nothing.
    for i in [1usize, 2] {
        let node = c.nodes[i - 1].authority.pubkey();
        let before = env.lamports(node).await;
        for r in post_partials(&mut env, &c, i, study).await {
            r.unwrap();
        }
        assert_eq!(
            env.lamports(node).await,
            before,
            "node {i} paid for the release"
        );
    }
    // Partials stay until the release.
    let close_partials =
        |i: u8| sdk::close_study_partials(researcher.pubkey(), study, researcher.pubkey(), i);
    assert_err(
        env.send(&[close_partials(1)], &[&researcher]).await,
        MedshareError::StudyNotReleased,
    );
    release(&mut env, &c, study, &[1, 2]).await;
    for i in [1u8, 2] {
        env.send(&[close_partials(i)], &[&researcher])
            .await
            .unwrap();
        assert!(!env.exists(medshare::pda::study_partials(&study, i)).await);
    }
    for m in &members {
        env.send(&[close_member(m)], &[&researcher]).await.unwrap();
    }
    env.send(
        &[sdk::close_study_account(researcher.pubkey(), study)],
        &[&researcher],
    )
    .await
    .unwrap();
    assert!(!env.exists(study).await);
    assert_eq!(
        env.lamports(researcher.pubkey()).await,
        start,
        "every lamport of the study back to the researcher"
    );
    // The patients close their values and consents.
    for m in &members {
        let owner = m.wallet.pubkey();
        let value = medshare::pda::research_value(&m.record, &age.id);
        let consent = medshare::pda::research_consent(&m.record);
        let held = env.lamports(value).await + env.lamports(consent).await;
        let before = env.lamports(owner).await;
        env.send(
            &[
                sdk::close_research_value(owner, m.record, &age.id),
                sdk::close_research_consent(owner, m.record),
            ],
            &[&m.wallet],
        )
        .await
        .unwrap();
        assert_eq!(env.lamports(owner).await, before + held);
    }
}

/// A closed research consent admits nothing: anyone can take the record
/// out of an open study, and no study adds it again.
#[tokio::test]
async fn test_closed_research_consent_leaves_open_studies() {
    let mut env = Env::new(2313).await;
    let c = ready_cluster(&mut env, 16, 2, 3).await;
    let age = Field::parse("age").unwrap();
    let researcher = env.funded().await;
    let study = open(&mut env, &c, &researcher, &age, 10).await;
    let m = member(&mut env, &c).await;
    env.send(&[consent_ix(&m, &[&age], PURPOSE)], &[&m.wallet])
        .await
        .unwrap();
    post_value(&mut env, &c, &m, &age, 44).await;
    add_record(&mut env, &researcher, study, &age, m.record)
        .await
        .unwrap();
    env.send(
        &[sdk::close_research_consent(m.wallet.pubkey(), m.record)],
        &[&m.wallet],
    )
    .await
    .unwrap();
    let stranger = env.funded().await;
    let remove = sdk::remove_from_study(stranger.pubkey(), study, &age.id, m.record);
    let logs = env.send(&[remove], &[&stranger]).await.unwrap();
    assert_eq!(events::<StudyLeft>(&logs)[0].cohort, 0);
    let s: Study = env.account(study).await;
    assert_eq!(
        s.aggregates,
        vec![ElGamalData::from(encrypted_ixs::stats::ElGamal::ZERO); s.aggregates.len()]
    );
}

/// A researcher verified when the study opened and revoked later: records
/// that admit only verified providers no longer join its study, and the
/// study is not released (its sums stay encrypted), though its cohort was
/// complete.
#[tokio::test]
async fn test_revoked_researcher_neither_adds_records_nor_gets_a_release() {
    let mut env = Env::new(2314).await;
    let c = ready_cluster(&mut env, 17, 2, 3).await;
    let age = Field::parse("age").unwrap();
    let issuer = env.funded().await;
    env.send(
        &[sdk::appoint_issuer(
            c.admin.pubkey(),
            c.address,
            issuer.pubkey(),
        )],
        &[&c.admin],
    )
    .await
    .unwrap();
    let researcher = env.funded().await;
    let (register, provider) = sdk::register_provider(
        issuer.pubkey(),
        c.address,
        medshare::instructions::RegisterProviderArgs {
            provider: researcher.pubkey(),
            role: ProviderRole::Researcher,
            license_hash: [9; 32],
            valid_from: 0,
            valid_until: i64::MAX,
        },
        None,
    );
    env.send(&[register], &[&issuer]).await.unwrap();
    let registry = Some((
        provider,
        medshare::pda::issuer(&c.address, &issuer.pubkey()),
    ));
    let (ix, study) = sdk::open_study(
        researcher.pubkey(),
        c.address,
        0,
        registry,
        study_args(&age, 10, 0),
    );
    env.send(&[ix], &[&researcher]).await.unwrap();
    let mut members = vec![];
    for k in 0..11u64 {
        let m = member(&mut env, &c).await;
        let policy =
            sdk::set_record_policy(m.wallet.pubkey(), m.record, ProviderRole::Researcher.bit());
        env.send(&[policy, consent_ix(&m, &[&age], PURPOSE)], &[&m.wallet])
            .await
            .unwrap();
        post_value(&mut env, &c, &m, &age, 20 + k).await;
        members.push(m);
    }
    let join =
        |m: &Member| sdk::join_study(researcher.pubkey(), study, &age.id, m.record, registry);
    for m in &members[..10] {
        env.send(&[join(m)], &[&researcher]).await.unwrap();
    }
    // The issuer revokes the researcher: the eleventh record no longer joins.
    env.send(
        &[sdk::revoke_provider(
            issuer.pubkey(),
            c.address,
            researcher.pubkey(),
        )],
        &[&issuer],
    )
    .await
    .unwrap();
    assert_err(
        env.send(&[join(&members[10])], &[&researcher]).await,
        MedshareError::ProviderRevoked,
    );
    env.send(
        &[sdk::close_study(researcher.pubkey(), c.address, study)],
        &[&researcher],
    )
    .await
    .unwrap();
    for i in [1usize, 2] {
        for r in post_partials(&mut env, &c, i, study).await {
            r.unwrap();
        }
    }
    let payer = env.funded().await;
    let tx = release_transaction(payer.pubkey(), c.address, study, registry, &[1, 2]).unwrap();
    assert_err(
        env.send(&tx, &[&payer]).await,
        MedshareError::ProviderRevoked,
    );
    let s: Study = env.account(study).await;
    assert!(s.released.is_empty(), "nothing of the study is released");
    assert_eq!(s.status, StudyStatus::Closed);
    // Without the registry accounts it is refused too.
    let tx = release_transaction(payer.pubkey(), c.address, study, None, &[1, 2]).unwrap();
    assert_err(
        env.send(&tx, &[&payer]).await,
        MedshareError::ProviderNotVerified,
    );
    // A second study by the revoked researcher (opened unverified) takes
    // none of these records.
    let other = open(&mut env, &c, &researcher, &age, 10).await;
    let late = sdk::join_study(
        researcher.pubkey(),
        other,
        &age.id,
        members[10].record,
        registry,
    );
    assert_err(
        env.send(&[late], &[&researcher]).await,
        MedshareError::ProviderRoleNotAllowed,
    );
}

/// Exact studies can be differenced (a study of eleven minus a study of
/// ten is the eleventh value), so a research consent admits them only when
/// its owner says so explicitly: a consent must carry a privacy budget or
/// `exact`, and a consent with a budget never joins an exact study — the
/// attacker's two exact studies never count the record.
#[tokio::test]
async fn test_default_consent_keeps_records_out_of_exact_studies() {
    let mut env = Env::new(2316).await;
    let c = ready_cluster(&mut env, 18, 2, 3).await;
    let age = Field::parse("age").unwrap();
    let m = member(&mut env, &c).await;
    // Neither a budget nor `exact`, or both: refused.
    for (budget, exact) in [(0u32, false), (3_000, true)] {
        let mut ix = consent_budget_ix(&m, &[&age], PURPOSE, budget);
        let mut args: medshare::instruction::GrantResearchConsent =
            anchor_lang::AnchorDeserialize::deserialize(&mut &ix.data[8..]).unwrap();
        args.args.exact = exact;
        ix.data = anchor_lang::InstructionData::data(&args);
        assert_err(
            env.send(&[ix], &[&m.wallet]).await,
            MedshareError::PrivacyChoice,
        );
    }
    env.send(
        &[consent_budget_ix(&m, &[&age], PURPOSE, 3_000)],
        &[&m.wallet],
    )
    .await
    .unwrap();
    post_value(&mut env, &c, &m, &age, 61).await;
    let researcher = env.funded().await;
    for _ in 0..2 {
        let exact = open(&mut env, &c, &researcher, &age, 10).await;
        assert_err(
            add_record(&mut env, &researcher, exact, &age, m.record).await,
            MedshareError::PrivacyBudgetExceeded,
        );
        let s: Study = env.account(exact).await;
        assert_eq!(s.cohort, 0, "the exact study never counts the record");
    }
    let noised = open_dp(&mut env, &c, &researcher, &age, 10, 1_000).await;
    add_record(&mut env, &researcher, noised, &age, m.record)
        .await
        .unwrap();
}

/// Closes `study` and releases it with the partials of `nodes` (noise, if
/// any, already in).
async fn close_and_release(
    env: &mut Env,
    c: &SimCluster,
    researcher: &Keypair,
    study: Pubkey,
    nodes: &[u8],
) -> Study {
    let s: Study = env.account(study).await;
    if s.status == StudyStatus::Open {
        env.send(
            &[sdk::close_study(researcher.pubkey(), c.address, study)],
            &[researcher],
        )
        .await
        .unwrap();
    }
    for i in nodes {
        for r in post_partials(env, c, *i as usize, study).await {
            r.unwrap();
        }
    }
    release(env, c, study, nodes).await;
    env.account(study).await
}

/// A release reveals the statistics its study advertises and nothing else:
/// the nodes decrypt the sum, the sum of squares and the buckets, combined
/// from the bit slices under encryption, never the count behind one slice
/// (which says, for instance, how many members have an odd age). Two
/// cohorts with the same statistics but different slice counts ({1, 5, 6}
/// and {2, 3, 7} among seven equal ages) release exactly the same numbers.
#[tokio::test]
async fn test_release_reveals_only_the_studys_statistics() {
    let mut env = Env::new(2317).await;
    let c = ready_cluster(&mut env, 23, 2, 3).await;
    let age = Field::parse("age").unwrap();
    let researcher = env.funded().await;
    let mut releases = vec![];
    for three in [[1u64, 5, 6], [2, 3, 7]] {
        let study = open(&mut env, &c, &researcher, &age, 10).await;
        let ages: Vec<u64> = (40..47).chain(three).collect();
        for a in &ages {
            let m = member(&mut env, &c).await;
            env.send(&[consent_ix(&m, &[&age], PURPOSE)], &[&m.wallet])
                .await
                .unwrap();
            post_value(&mut env, &c, &m, &age, *a).await;
            add_record(&mut env, &researcher, study, &age, m.record)
                .await
                .unwrap();
        }
        let s = close_and_release(&mut env, &c, &researcher, study, &[1, 2]).await;
        // Ten numbers: the statistics, each exact.
        assert_eq!(s.released.len(), 10);
        assert_eq!(released_values(&s, 10 * 16_129, 0), true_statistics(&ages));
        // Each node decrypted those ten aggregates, no more.
        for i in [1u8, 2] {
            let p: StudyPartials = env.account(medshare::pda::study_partials(&study, i)).await;
            assert_eq!(p.d.len(), 10);
        }
        releases.push(s.released);
    }
    assert_eq!(releases[0], releases[1]);
}

/// A node cannot push a noised release further than its proven bound.
/// Node 2 tries to add 500 noise scales to the sum as a forged noise bit:
/// refused, named, marked faulty, the sums untouched. A bit past the end of
/// a node's noise is refused. Node 3 biases every statistic as far as its
/// bits allow (`η = bound − 1`): accepted, and the release then differs
/// from the truth by exactly that bias plus node 1's noise, itself within
/// its bound.
#[tokio::test]
async fn test_a_node_cannot_bias_a_release_past_its_bound() {
    use encrypted_ixs::stats::{encrypt_noise_bits, StudyContext};
    let mut env = Env::new(2318).await;
    let c = ready_cluster(&mut env, 24, 2, 3).await;
    let age = Field::parse("age").unwrap();
    let researcher = env.funded().await;
    let study = open_dp(&mut env, &c, &researcher, &age, 10, 1_000).await;
    let mut ages = vec![];
    for k in 0..10u64 {
        let m = member(&mut env, &c).await;
        env.send(
            &[consent_budget_ix(&m, &[&age], PURPOSE, 3_000)],
            &[&m.wallet],
        )
        .await
        .unwrap();
        let a = 20 + 5 * k;
        ages.push(a);
        post_value(&mut env, &c, &m, &age, a).await;
        add_record(&mut env, &researcher, study, &age, m.record)
            .await
            .unwrap();
    }
    env.send(
        &[sdk::close_study(researcher.pubkey(), c.address, study)],
        &[&researcher],
    )
    .await
    .unwrap();
    let s: Study = env.account(study).await;
    let plan = medshare_sdk::research::noise_plan(&s);
    assert_eq!(plan[0].bound(), 1 << 14);

    // Node 2: +500 scales (500 × 381) on the sum, hidden in bit 0.
    let before: Study = env.account(study).await;
    let mut txs = post_noise(&mut env, &c, 2, study).await;
    let ix = &mut txs[0][1];
    let mut data = ix.data.clone();
    let c0 = Point(data[46..78].try_into().unwrap());
    let push = curve25519_dalek::edwards::EdwardsPoint::mul_base(
        &curve25519_dalek::scalar::Scalar::from(500u64 * 381),
    );
    data[46..78].copy_from_slice(&c0.add(&Point(push.compress().0)).unwrap().0);
    ix.data = data;
    let logs = env.send(&txs[0], &[&c.nodes[1].authority]).await.unwrap();
    let rejected = events::<StudyPartialRejected>(&logs);
    assert_eq!(
        (rejected[0].node, rejected[0].slice, rejected[0].noise),
        (2, 0, true)
    );
    let after: Study = env.account(study).await;
    assert_eq!(after.aggregates, before.aggregates);
    assert_eq!(after.faulty, 0b010);

    // Node 3: every statistic at +bound − 1, all its bits set.
    let node3 = &c.nodes[2];
    let share3 = node3.share.as_ref().unwrap();
    let mut bits = vec![];
    for (j, p) in plan.iter().enumerate() {
        let ctx = StudyContext {
            program_id: medshare::ID.to_bytes(),
            cluster: c.address.to_bytes(),
            study: study.to_bytes(),
            slice: j as u16,
        };
        let eta = p.bound() as i64 - 1;
        bits.extend(
            encrypt_noise_bits(&mut env.rng, &ctx, share3.index(), &c.key(), eta, p.bits)
                .unwrap()
                .into_iter()
                .map(BitArg::from),
        );
    }
    let total = bits.len();
    for (k, chunk) in bits.chunks(5).enumerate() {
        let tx = [
            sdk::compute_budget(1_400_000),
            sdk::post_study_noise(
                node3.authority.pubkey(),
                c.address,
                3,
                study,
                (k * 5) as u16,
                chunk.to_vec(),
            ),
        ];
        env.send(&tx, &[&node3.authority]).await.unwrap();
    }
    // One bit more than its noise has: refused.
    let extra = [
        sdk::compute_budget(1_400_000),
        sdk::post_study_noise(
            node3.authority.pubkey(),
            c.address,
            3,
            study,
            total as u16,
            vec![bits[0]],
        ),
    ];
    assert_err(
        env.send(&extra, &[&node3.authority]).await,
        MedshareError::SlicesOutOfOrder,
    );
    for tx in post_noise(&mut env, &c, 1, study).await {
        env.send(&tx, &[&c.nodes[0].authority]).await.unwrap();
    }
    let s = close_and_release(&mut env, &c, &researcher, study, &[1, 3]).await;
    assert_eq!(s.faulty, 0b010);
    let got = StudyResults::of(&s).unwrap();
    let mut values = vec![got.sum as i64, got.sum_of_squares.unwrap() as i64];
    values.extend(got.histogram.clone().unwrap());
    for ((v, t), p) in values.iter().zip(true_statistics(&ages)).zip(&plan) {
        // What is left after node 3's bias is node 1's noise alone.
        let node1 = v - t - (p.bound() as i64 - 1);
        assert!(
            (-(p.bound() as i64)..p.bound() as i64).contains(&node1),
            "{:?}: {node1}",
            p.statistic
        );
    }
}

/// A node's noise joins a statistic's aggregate only whole. A node that
/// stops midway (the noise phase ended, or it went down) adds nothing to
/// the statistic it was on: 10 of the sum's 15 bits leave every aggregate
/// as it was. Restarted, it posts that statistic again from its first bit
/// with a new sample (any other point is refused, `SlicesOutOfOrder`), and
/// the release lies within the documented bounds.
#[tokio::test]
async fn test_noise_joins_a_statistic_only_whole() {
    let mut env = Env::new(2319).await;
    let c = ready_cluster(&mut env, 25, 2, 3).await;
    let age = Field::parse("age").unwrap();
    let researcher = env.funded().await;
    let study = open_dp(&mut env, &c, &researcher, &age, 10, 1_000).await;
    let mut ages = vec![];
    for k in 0..10u64 {
        let m = member(&mut env, &c).await;
        env.send(
            &[consent_budget_ix(&m, &[&age], PURPOSE, 3_000)],
            &[&m.wallet],
        )
        .await
        .unwrap();
        let a = 30 + 3 * k;
        ages.push(a);
        post_value(&mut env, &c, &m, &age, a).await;
        add_record(&mut env, &researcher, study, &age, m.record)
            .await
            .unwrap();
    }
    env.send(
        &[sdk::close_study(researcher.pubkey(), c.address, study)],
        &[&researcher],
    )
    .await
    .unwrap();
    let closed: Study = env.account(study).await;
    let node1 = c.nodes[0].authority.insecure_clone();
    let first = post_noise(&mut env, &c, 1, study).await;
    for tx in &first[..2] {
        env.send(tx, &[&node1]).await.unwrap();
    }
    let mid: Study = env.account(study).await;
    assert_eq!(mid.noise_progress[0], 10);
    assert_eq!(mid.aggregates, closed.aggregates);
    assert_ne!(mid.noise_pending[0], closed.noise_pending[0]);
    // Neither a point inside the statistic nor past where it stopped.
    for offset in [3u16, 11] {
        let mut tx = first[2].clone();
        tx[1].data[8..10].copy_from_slice(&offset.to_le_bytes());
        assert_err(
            env.send(&tx, &[&node1]).await,
            MedshareError::SlicesOutOfOrder,
        );
    }
    // Restarted: the sum again from its first bit, with a new sample.
    let again = post_noise_from(&mut env, &c, 1, study, 10).await;
    assert_eq!(again[0][1].data[8..10], [0, 0]);
    assert_ne!(again[0][1].data, first[0][1].data);
    for tx in again {
        env.send(&tx, &[&node1]).await.unwrap();
    }
    for tx in post_noise(&mut env, &c, 2, study).await {
        env.send(&tx, &[&c.nodes[1].authority]).await.unwrap();
    }
    let s = close_and_release(&mut env, &c, &researcher, study, &[1, 2]).await;
    assert_eq!(s.noise_done, 0b011);
    assert_eq!(s.noise_progress[0], 109);
    assert_noised(&StudyResults::of(&s).unwrap(), &ages);
}
