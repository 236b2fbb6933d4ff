//! `store_patient_data`, `write_record_group`, `update_patient_data`, `close_record`.

use crate::common::*;
use encrypted_ixs::binding::BindingProof;
use encrypted_ixs::record::seal_group;
use encrypted_ixs::Scalar;
use medshare::constants::MAX_GROUP_CIPHERTEXT;
use medshare::error::MedshareError;
use medshare::events::{RecordChanged, RecordGroupWritten};
use medshare::state::*;
use solana_sdk::signature::Signer;
use solana_sdk::transaction::Transaction;

#[tokio::test]
async fn test_store_on_cluster_not_ready() {
    let mut env = Env::new(51).await;
    let c = registered_cluster(&mut env, 1, 2, 3).await;
    let p = patient(&mut env).await;
    assert_err(
        env.send(&[store_ix(&p.wallet.pubkey(), &c.address, 1)], &[&p.wallet])
            .await,
        MedshareError::ClusterNotReady,
    );
}

#[tokio::test]
async fn test_write_group_without_valid_binding_proof() {
    let mut env = Env::new(52).await;
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    let p = patient(&mut env).await;
    let (record, _) = store_record(&mut env, &c, &p, 1, &[]).await;
    let owner = p.wallet.pubkey();
    let mut s = seal_group(
        &mut env.rng,
        &record_ctx(&owner, &record, 0),
        1,
        b"identity",
        &c.key(),
        &p.key.public_key().edwards().unwrap(),
    )
    .unwrap();
    s.binding = BindingProof {
        c: [3; 16],
        z: Scalar::from(5u64).to_bytes(),
    };
    assert_err(
        env.send(&[write_ix(&owner, &record, &s)], &[&p.wallet])
            .await,
        MedshareError::InvalidBindingProof,
    );
}

#[tokio::test]
async fn test_write_group_capsule_copied_from_another_owner() {
    let mut env = Env::new(53).await;
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    let alice = patient(&mut env).await;
    let (_, alice_groups) =
        store_record(&mut env, &c, &alice, 1, &[(2, b"alice dx".as_slice())]).await;
    let mallory = patient(&mut env).await;
    let (record, _) = store_record(&mut env, &c, &mallory, 1, &[]).await;
    // Mallory copies Alice's cluster capsule and proof into her own record.
    let mut copied = alice_groups[0].clone();
    let mine = seal_group(
        &mut env.rng,
        &record_ctx(&mallory.wallet.pubkey(), &record, 2),
        1,
        b"x",
        &c.key(),
        &mallory.key.public_key().edwards().unwrap(),
    )
    .unwrap();
    copied.owner_capsule = mine.owner_capsule;
    assert_err(
        env.send(
            &[write_ix(&mallory.wallet.pubkey(), &record, &copied)],
            &[&mallory.wallet],
        )
        .await,
        MedshareError::InvalidBindingProof,
    );
}

#[tokio::test]
async fn test_write_group_out_of_range_inputs() {
    let mut env = Env::new(54).await;
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    let p = patient(&mut env).await;
    let (record, groups) = store_record(&mut env, &c, &p, 1, &[(0, b"x".as_slice())]).await;
    let owner = p.wallet.pubkey();
    let mut bad_group = groups[0].clone();
    bad_group.group = 8;
    assert_err(
        env.send(&[write_ix(&owner, &record, &bad_group)], &[&p.wallet])
            .await,
        MedshareError::InvalidGroup,
    );
    let mut too_big = groups[0].clone();
    too_big.ciphertext = vec![0u8; MAX_GROUP_CIPHERTEXT + 1];
    assert_err(
        env.send(&[write_ix(&owner, &record, &too_big)], &[&p.wallet])
            .await,
        MedshareError::InvalidCiphertextSize,
    );
    // An unwritten group (group 0 is written and would be refused as such);
    // the points are checked before the binding proof.
    let mut bad_point = groups[0].clone();
    bad_point.group = 1;
    bad_point.owner_capsule.e = encrypted_ixs::point::IDENTITY;
    assert_err(
        env.send(&[write_ix(&owner, &record, &bad_point)], &[&p.wallet])
            .await,
        MedshareError::InvalidPoint,
    );
}

#[tokio::test]
async fn test_write_group_at_inline_limit_fits_one_packet() {
    let mut env = Env::new(55).await;
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    let p = patient(&mut env).await;
    let (record, _) = store_record(&mut env, &c, &p, 1, &[]).await;
    let owner = p.wallet.pubkey();
    let plain = vec![b'a'; MAX_GROUP_CIPHERTEXT - 16];
    let s = seal_group(
        &mut env.rng,
        &record_ctx(&owner, &record, 4),
        1,
        &plain,
        &c.key(),
        &p.key.public_key().edwards().unwrap(),
    )
    .unwrap();
    let mut write = write_ix(&owner, &record, &s);
    // The worst case: a provider co-signs (a second signature and account)
    // and both compute-budget instructions (limit and priority fee) are set.
    let provider = env.funded().await;
    write.accounts[1].pubkey = provider.pubkey();
    write.accounts[1].is_signer = true;
    let budget =
        solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(400_000);
    let price =
        solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_price(1);
    let tx = Transaction::new_signed_with_payer(
        &[budget, price, write],
        Some(&owner),
        &[&p.wallet, &provider],
        env.ctx.last_blockhash,
    );
    let size = bincode_size(&tx);
    assert!(
        size <= 1232,
        "write_record_group at the limit is {size} bytes"
    );
    // And the real thing (owner as author) lands.
    let logs = env
        .send(&[write_ix(&owner, &record, &s)], &[&p.wallet])
        .await
        .unwrap();
    let written = events::<RecordGroupWritten>(&logs);
    assert_eq!(written[0].ciphertext_len as usize, MAX_GROUP_CIPHERTEXT);
    let rec: PatientRecord = env.account(record).await;
    assert_eq!(rec.groups[0].ciphertext.len(), MAX_GROUP_CIPHERTEXT);
}

fn bincode_size(tx: &Transaction) -> usize {
    // Wire size: signatures (compact-u16 count + 64 each) + message.
    let sigs = tx.signatures.len();
    1 + 64 * sigs + tx.message_data().len()
}

#[tokio::test]
async fn test_update_then_close_record() {
    let mut env = Env::new(56).await;
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    let p = patient(&mut env).await;
    let (record, _) = store_record(&mut env, &c, &p, 9, &[(0, b"v1".as_slice())]).await;
    let owner = p.wallet.pubkey();
    let logs = env
        .send(
            &[sdk::update_patient_data(owner, None, record)],
            &[&p.wallet],
        )
        .await
        .unwrap();
    assert_eq!(events::<RecordChanged>(&logs)[0].version, 2);
    let rec: PatientRecord = env.account(record).await;
    assert_eq!(rec.version, 2);
    assert!(rec.groups.is_empty());
    // A share of the dropped group is refused.
    let k = encrypted_ixs::keys::UserSecretKey::generate(&mut env.rng)
        .public_key()
        .edwards()
        .unwrap();
    assert_err(
        env.send(
            &[share_ix(&owner, &record, &c.address, 0, 1, k.0)],
            &[&p.wallet],
        )
        .await,
        MedshareError::GroupMissing,
    );
    // Someone else cannot close it.
    let mallory = env.funded().await;
    let mut close = sdk::close_record(owner, record);
    close.accounts[0].pubkey = mallory.pubkey();
    assert!(env.send(&[close], &[&mallory]).await.is_err());
    env.send(&[sdk::close_record(owner, record)], &[&p.wallet])
        .await
        .unwrap();
    assert!(!env.exists(record).await);
}

#[tokio::test]
async fn test_c07_written_group_is_immutable_within_its_version() {
    let mut env = Env::new(57).await;
    let q = queued(&mut env, 2, 3).await;
    let owner = q.patient.wallet.pubkey();
    // The owner tries to swap group 0 under the pending share.
    let replacement = seal_group(
        &mut env.rng,
        &record_ctx(&owner, &q.record, 0),
        1,
        b"replaced",
        &q.cluster.key(),
        &q.patient.key.public_key().edwards().unwrap(),
    )
    .unwrap();
    assert_err(
        env.send(
            &[write_ix(&owner, &q.record, &replacement)],
            &[&q.patient.wallet],
        )
        .await,
        MedshareError::GroupAlreadyWritten,
    );
    // The share opens exactly what was written when it was requested.
    finalize(&mut env, &q.cluster, q.computation, &[1, 2], 1).await;
    let result: ShareResult = env
        .account(medshare::pda::share_result(&q.computation))
        .await;
    let m = encrypted_ixs::capsule::open(&result.capsules[0].into(), &q.doctor).unwrap();
    let rec: PatientRecord = env.account(q.record).await;
    let stored = rec.group(0).unwrap();
    assert_eq!(stored.cluster_capsule, q.sealed[0].cluster_capsule.into());
    let opened = encrypted_ixs::record::open_group_with(
        &q.sealed[0],
        &m,
        &record_ctx(&owner, &q.record, 0),
        1,
    )
    .unwrap();
    assert_eq!(opened.as_slice(), b"identity");
    // A new version takes the new contents.
    env.send(
        &[sdk::update_patient_data(owner, None, q.record)],
        &[&q.patient.wallet],
    )
    .await
    .unwrap();
    let v2 = seal_group(
        &mut env.rng,
        &record_ctx(&owner, &q.record, 0),
        2,
        b"replaced",
        &q.cluster.key(),
        &q.patient.key.public_key().edwards().unwrap(),
    )
    .unwrap();
    env.send(&[write_ix(&owner, &q.record, &v2)], &[&q.patient.wallet])
        .await
        .unwrap();
}

/// A record's life (its generation) is never given out twice for one
/// address: not by a second cluster, not after the owner closes its
/// identity and registers again.
#[tokio::test]
async fn test_record_generations_are_unique_across_clusters_and_identities() {
    let mut env = Env::new(2304).await;
    let c1 = ready_cluster(&mut env, 1, 2, 3).await;
    let c2 = ready_cluster(&mut env, 2, 2, 3).await;
    let p = patient(&mut env).await;
    let owner = p.wallet.pubkey();
    let record = medshare::pda::record(&owner, 1);
    let mut seen = vec![];
    for c in [&c1, &c2, &c1] {
        store_record(&mut env, c, &p, 1, &[]).await;
        let r: PatientRecord = env.account(record).await;
        assert_eq!(r.cluster, c.address);
        assert!(!seen.contains(&r.generation), "generation reused");
        seen.push(r.generation);
        env.send(&[sdk::close_record(owner, record)], &[&p.wallet])
            .await
            .unwrap();
    }
    // The identity cannot be closed in the slot it was registered in...
    let again = env.funded().await;
    let args = medshare::instructions::IdentityArgs {
        encryption_key: p.key.public_key().edwards().unwrap().0,
        role: Role::Patient,
    };
    let register = sdk::register_identity(again.pubkey(), args);
    let close = sdk::close_identity(again.pubkey());
    assert_err(
        env.send(&[register, close], &[&again]).await,
        MedshareError::IdentityJustRegistered,
    );
    // ...so one registered again starts above every generation it gave out.
    let slot = env.slot().await;
    env.warp_past(slot).await;
    let before = env.lamports(owner).await;
    env.send(&[sdk::close_identity(owner)], &[&p.wallet])
        .await
        .unwrap();
    assert!(
        env.lamports(owner).await > before,
        "rent back to the wallet"
    );
    env.warp_past(slot + 1).await;
    env.send(&[sdk::register_identity(owner, args)], &[&p.wallet])
        .await
        .unwrap();
    store_record(&mut env, &c1, &p, 1, &[]).await;
    let r: PatientRecord = env.account(record).await;
    assert!(
        seen.iter().all(|g| r.generation > *g),
        "{seen:?} {}",
        r.generation
    );
}

/// Storing needs the owner's identity (it counts the owner's records).
#[tokio::test]
async fn test_store_without_identity_is_refused() {
    let mut env = Env::new(2305).await;
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    let stranger = env.funded().await;
    assert_anchor_err(
        env.send(&[store_ix(&stranger.pubkey(), &c.address, 1)], &[&stranger])
            .await,
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
}
