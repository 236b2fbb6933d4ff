//! `share_patient_data_callback` and `cancel_share`.

use crate::common::*;
use encrypted_ixs::keys::NodeIndex;
use encrypted_ixs::reencrypt::lagrange_coefficients;
use medshare::error::MedshareError;
use medshare::events::ShareCancelled;
use medshare::state::*;
use solana_sdk::signature::Signer;

#[tokio::test]
async fn test_callback_with_fewer_than_t_contributions() {
    let mut env = Env::new(31).await;
    let q = queued(&mut env, 3, 5).await;
    contribute(&mut env, &q.cluster, 1, q.computation)
        .await
        .unwrap();
    contribute(&mut env, &q.cluster, 4, q.computation)
        .await
        .unwrap();
    let cb = callback_ix(&mut env, &q.cluster, 1, q.computation).await;
    assert_err(
        env.send(&[cb], &[&q.cluster.nodes[0].authority]).await,
        MedshareError::NotEnoughContributions,
    );
}

#[tokio::test]
async fn test_callback_with_wrong_lagrange_coefficients() {
    let mut env = Env::new(32).await;
    let q = queued(&mut env, 2, 3).await;
    contribute(&mut env, &q.cluster, 1, q.computation)
        .await
        .unwrap();
    contribute(&mut env, &q.cluster, 2, q.computation)
        .await
        .unwrap();
    // Coefficients of another set, {1, 3}.
    let wrong: Vec<[u8; 32]> =
        lagrange_coefficients(&[NodeIndex::new(1).unwrap(), NodeIndex::new(3).unwrap()])
            .unwrap()
            .iter()
            .map(|l| l.to_bytes())
            .collect();
    let requester = q.patient.wallet.pubkey();
    let cb = callback_raw_ix(&q.cluster, 1, q.computation, requester, q.record, wrong);
    assert_err(
        env.send(&[cb], &[&q.cluster.nodes[0].authority]).await,
        MedshareError::InvalidLagrangeCoefficients,
    );
    // Too few coefficients.
    let cb = callback_raw_ix(
        &q.cluster,
        1,
        q.computation,
        requester,
        q.record,
        vec![[0u8; 32]],
    );
    assert_err(
        env.send(&[cb], &[&q.cluster.nodes[0].authority]).await,
        MedshareError::InvalidLagrangeCoefficients,
    );
    // A non-canonical scalar.
    let cb = callback_raw_ix(
        &q.cluster,
        1,
        q.computation,
        requester,
        q.record,
        vec![[0xff; 32]; 2],
    );
    assert_err(
        env.send(&[cb], &[&q.cluster.nodes[0].authority]).await,
        MedshareError::InvalidLagrangeCoefficients,
    );
}

#[tokio::test]
async fn test_callback_after_expiry() {
    let mut env = Env::new(33).await;
    let q = queued(&mut env, 2, 3).await;
    contribute(&mut env, &q.cluster, 1, q.computation)
        .await
        .unwrap();
    contribute(&mut env, &q.cluster, 2, q.computation)
        .await
        .unwrap();
    let cb = callback_ix(&mut env, &q.cluster, 1, q.computation).await;
    let comp: Computation = env.account(q.computation).await;
    env.warp_past(comp.expiry_slot).await;
    assert_err(
        env.send(&[cb], &[&q.cluster.nodes[0].authority]).await,
        MedshareError::ComputationExpired,
    );
}

#[tokio::test]
async fn test_callback_by_non_node() {
    let mut env = Env::new(34).await;
    let q = queued(&mut env, 2, 3).await;
    contribute(&mut env, &q.cluster, 1, q.computation)
        .await
        .unwrap();
    contribute(&mut env, &q.cluster, 2, q.computation)
        .await
        .unwrap();
    let stranger = env.funded().await;
    let mut cb = callback_ix(&mut env, &q.cluster, 1, q.computation).await;
    cb.accounts[0].pubkey = stranger.pubkey();
    assert_err(
        env.send(&[cb], &[&stranger]).await,
        MedshareError::NotClusterNode,
    );
}

fn cancel_ix(
    requester: &solana_sdk::pubkey::Pubkey,
    computation: solana_sdk::pubkey::Pubkey,
) -> solana_sdk::instruction::Instruction {
    sdk::cancel_share(
        *requester,
        computation,
        medshare::pda::share_result(&computation),
    )
}

#[tokio::test]
async fn test_cancel_before_and_after_expiry() {
    let mut env = Env::new(35).await;
    let q = queued(&mut env, 2, 3).await;
    let requester = q.patient.wallet.pubkey();
    assert_err(
        env.send(
            &[cancel_ix(&requester, q.computation)],
            &[&q.patient.wallet],
        )
        .await,
        MedshareError::ComputationNotExpired,
    );
    let comp: Computation = env.account(q.computation).await;
    env.warp_past(comp.expiry_slot).await;
    // Someone else cannot cancel it.
    let stranger = env.funded().await;
    assert_err(
        env.send(
            &[cancel_ix(&stranger.pubkey(), q.computation)],
            &[&stranger],
        )
        .await,
        MedshareError::NotRequester,
    );
    let before = env.lamports(requester).await;
    let logs = env
        .send(
            &[cancel_ix(&requester, q.computation)],
            &[&q.patient.wallet],
        )
        .await
        .unwrap();
    assert_eq!(events::<ShareCancelled>(&logs).len(), 1);
    assert!(!env.exists(q.computation).await);
    assert!(
        !env.exists(medshare::pda::share_result(&q.computation))
            .await
    );
    assert!(env.lamports(requester).await > before, "both rents back");
}

#[tokio::test]
async fn test_c03_requester_deposit_pays_the_nodes() {
    use medshare::constants::{MAX_SHARE_GROUPS, NODE_FEE_LAMPORTS};
    let mut env = Env::new(36).await;
    let q = queued(&mut env, 2, 3).await;
    let rent = env.ctx.banks_client.get_rent().await.unwrap();
    let comp_rent = rent.minimum_balance(Computation::space(2, MAX_SHARE_GROUPS));
    // The computation holds its rent and (t + 1) node fees, from the requester.
    assert_eq!(
        env.lamports(q.computation).await,
        comp_rent + Computation::node_deposit(2)
    );
    assert_eq!(Computation::node_deposit(2), 3 * NODE_FEE_LAMPORTS);
    let node = |i: usize| q.cluster.nodes[i - 1].authority.pubkey();
    let before: Vec<u64> = {
        let mut v = vec![];
        for i in 1..=3 {
            v.push(env.lamports(node(i)).await);
        }
        v
    };
    // Node 1's faulty contribution is not paid; 2 and 3 are, and so is the finisher.
    let mut bad = contribution_ix(&mut env, &q.cluster, 1, q.computation).await;
    let last = bad.data.len() - 1;
    bad.data[last] ^= 1;
    env.send(&[bad], &[&q.cluster.nodes[0].authority])
        .await
        .unwrap();
    let requester = q.patient.wallet.pubkey();
    let requester_before = env.lamports(requester).await;
    finalize(&mut env, &q.cluster, q.computation, &[2, 3], 3).await;
    assert_eq!(env.lamports(node(1)).await, before[0]);
    assert_eq!(env.lamports(node(2)).await, before[1] + NODE_FEE_LAMPORTS);
    assert_eq!(
        env.lamports(node(3)).await,
        before[2] + 2 * NODE_FEE_LAMPORTS
    );
    // The deposit is spent; the rent goes back to the requester.
    assert_eq!(env.lamports(requester).await, requester_before + comp_rent);
}

#[tokio::test]
async fn test_c03_cancel_returns_the_unspent_deposit() {
    let mut env = Env::new(37).await;
    let q = queued(&mut env, 2, 3).await;
    contribute(&mut env, &q.cluster, 1, q.computation)
        .await
        .unwrap();
    let held = env.lamports(q.computation).await;
    let result_rent = env
        .lamports(medshare::pda::share_result(&q.computation))
        .await;
    let comp: Computation = env.account(q.computation).await;
    env.warp_past(comp.expiry_slot).await;
    let requester = q.patient.wallet.pubkey();
    let before = env.lamports(requester).await;
    env.send(
        &[cancel_ix(&requester, q.computation)],
        &[&q.patient.wallet],
    )
    .await
    .unwrap();
    // Rent and the two fees no node earned (the patient's wallet is not the fee payer).
    assert_eq!(env.lamports(requester).await, before + held + result_rent);
    assert_eq!(
        held,
        env.ctx
            .banks_client
            .get_rent()
            .await
            .unwrap()
            .minimum_balance(Computation::space(2, medshare::constants::MAX_SHARE_GROUPS))
            + 2 * medshare::constants::NODE_FEE_LAMPORTS
    );
}
