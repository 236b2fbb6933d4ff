//! `submit_contribution`: who may contribute, when, and what happens to a bad proof.

use crate::common::*;
use medshare::error::MedshareError;
use medshare::events::ContributionRejected;
use medshare::state::*;
use solana_sdk::signature::Signer;

#[tokio::test]
async fn test_contribution_unregistered_node() {
    let mut env = Env::new(21).await;
    let q = queued(&mut env, 2, 3).await;
    let stranger = env.funded().await;
    let mut ixn = contribution_ix(&mut env, &q.cluster, 1, q.computation).await;
    ixn.accounts[0].pubkey = stranger.pubkey();
    assert_err(
        env.send(&[ixn], &[&stranger]).await,
        MedshareError::NotClusterNode,
    );
}

#[tokio::test]
async fn test_contribution_node_of_another_cluster() {
    let mut env = Env::new(22).await;
    let q = queued(&mut env, 2, 3).await;
    let other = ready_cluster(&mut env, 2, 2, 3).await;
    // With its own cluster account: the computation is not of that cluster.
    let mut ixn = contribution_ix(&mut env, &q.cluster, 1, q.computation).await;
    ixn.accounts[0].pubkey = other.nodes[0].authority.pubkey();
    ixn.accounts[1].pubkey = other.address;
    ixn.accounts[2].pubkey = medshare::pda::node_record(&other.address, 1);
    assert_err(
        env.send(std::slice::from_ref(&ixn), &[&other.nodes[0].authority])
            .await,
        MedshareError::WrongCluster,
    );
    // With the computation's cluster account: not one of its nodes.
    ixn.accounts[1].pubkey = q.cluster.address;
    ixn.accounts[2].pubkey = medshare::pda::node_record(&q.cluster.address, 1);
    assert_err(
        env.send(&[ixn], &[&other.nodes[0].authority]).await,
        MedshareError::NotClusterNode,
    );
}

#[tokio::test]
async fn test_contribution_with_another_nodes_record() {
    let mut env = Env::new(27).await;
    let q = queued(&mut env, 2, 3).await;
    let other = ready_cluster(&mut env, 3, 2, 3).await;
    // Node 1 signing with node 2's record: its counters are not node 1's.
    let mut ixn = contribution_ix(&mut env, &q.cluster, 1, q.computation).await;
    ixn.accounts[2].pubkey = medshare::pda::node_record(&q.cluster.address, 2);
    assert_err(
        env.send(std::slice::from_ref(&ixn), &[&q.cluster.nodes[0].authority])
            .await,
        MedshareError::NotClusterNode,
    );
    // Node 1's record in another cluster: not this cluster's record PDA.
    ixn.accounts[2].pubkey = medshare::pda::node_record(&other.address, 1);
    assert_anchor_err(
        env.send(&[ixn], &[&q.cluster.nodes[0].authority]).await,
        anchor_lang::error::ErrorCode::ConstraintSeeds,
    );
    // Nothing was counted anywhere; the right record still works.
    contribute(&mut env, &q.cluster, 1, q.computation)
        .await
        .unwrap();
    let mine: NodeRecord = env
        .account(medshare::pda::node_record(&q.cluster.address, 1))
        .await;
    let theirs: NodeRecord = env
        .account(medshare::pda::node_record(&q.cluster.address, 2))
        .await;
    assert_eq!((mine.contributions, mine.faults), (1, 0));
    assert_eq!((theirs.contributions, theirs.faults), (0, 0));
}

#[tokio::test]
async fn test_contribution_duplicate() {
    let mut env = Env::new(23).await;
    let q = queued(&mut env, 2, 3).await;
    contribute(&mut env, &q.cluster, 2, q.computation)
        .await
        .unwrap();
    assert_err(
        contribute(&mut env, &q.cluster, 2, q.computation).await,
        MedshareError::DuplicateContribution,
    );
}

#[tokio::test]
async fn test_contribution_bad_proof_names_node_and_others_finalize() {
    let mut env = Env::new(24).await;
    let q = queued(&mut env, 2, 3).await;
    let mut ixn = contribution_ix(&mut env, &q.cluster, 1, q.computation).await;
    // Swap U and W of the second group: the proof no longer verifies.
    let mut args: Vec<medshare::instructions::ContributionArg> = {
        let comp: Computation = env.account(q.computation).await;
        assert_eq!(comp.groups, vec![0, 2]);
        anchor_lang::AnchorDeserialize::deserialize(&mut &ixn.data[8..]).unwrap()
    };
    let a = &mut args[1];
    std::mem::swap(&mut a.u, &mut a.w);
    let comp: Computation = env.account(q.computation).await;
    ixn = contribute_raw_ix(&q.cluster, 1, q.computation, &comp, None, args);
    let logs = env
        .send(&[ixn], &[&q.cluster.nodes[0].authority])
        .await
        .expect("a rejected contribution is recorded, not reverted");
    let rejected = events::<ContributionRejected>(&logs);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].node, 1);
    assert_eq!(rejected[0].group, 2);
    assert_eq!(rejected[0].authority, q.cluster.nodes[0].authority.pubkey());
    let comp: Computation = env.account(q.computation).await;
    assert_eq!(comp.faulty, 0b1);
    assert!(comp.contributors.is_empty());
    let record: NodeRecord = env
        .account(medshare::pda::node_record(&q.cluster.address, 1))
        .await;
    assert_eq!((record.faults, record.contributions), (1, 0));
    assert_eq!(record.node, q.cluster.nodes[0].authority.pubkey());
    // The faulty node cannot try again on this computation.
    assert_err(
        contribute(&mut env, &q.cluster, 1, q.computation).await,
        MedshareError::NodeFaulty,
    );
    // The honest nodes still finalize.
    finalize(&mut env, &q.cluster, q.computation, &[2, 3], 2).await;
    let result: ShareResult = env
        .account(medshare::pda::share_result(&q.computation))
        .await;
    assert!(result.completed);
}

#[tokio::test]
async fn test_contribution_after_threshold_reached() {
    let mut env = Env::new(25).await;
    let q = queued(&mut env, 2, 3).await;
    contribute(&mut env, &q.cluster, 1, q.computation)
        .await
        .unwrap();
    contribute(&mut env, &q.cluster, 3, q.computation)
        .await
        .unwrap();
    assert_err(
        contribute(&mut env, &q.cluster, 2, q.computation).await,
        MedshareError::ContributionsComplete,
    );
}

#[tokio::test]
async fn test_contribution_after_expiry() {
    let mut env = Env::new(26).await;
    let q = queued(&mut env, 2, 3).await;
    let comp: Computation = env.account(q.computation).await;
    env.warp_past(comp.expiry_slot).await;
    assert_err(
        contribute(&mut env, &q.cluster, 1, q.computation).await,
        MedshareError::ComputationExpired,
    );
}

#[tokio::test]
async fn test_contribution_wrong_group_count() {
    let mut env = Env::new(27).await;
    let q = queued(&mut env, 2, 3).await;
    let ixn = contribution_ix(&mut env, &q.cluster, 1, q.computation).await;
    let mut args: Vec<medshare::instructions::ContributionArg> =
        anchor_lang::AnchorDeserialize::deserialize(&mut &ixn.data[8..]).unwrap();
    args.pop();
    let comp: Computation = env.account(q.computation).await;
    let ixn = contribute_raw_ix(&q.cluster, 1, q.computation, &comp, None, args);
    assert_err(
        env.send(&[ixn], &[&q.cluster.nodes[0].authority]).await,
        MedshareError::WrongGroupCount,
    );
}

#[tokio::test]
async fn test_contribution_replayed_into_another_computation() {
    let mut env = Env::new(28).await;
    let q = queued(&mut env, 2, 3).await;
    // A second computation of the same record and recipient.
    let r = q.doctor.public_key().edwards().unwrap();
    env.send(
        &[share_ix(
            &q.patient.wallet.pubkey(),
            &q.record,
            &q.cluster.address,
            1,
            0b101,
            r.0,
        )],
        &[&q.patient.wallet],
    )
    .await
    .unwrap();
    let second = medshare::pda::computation(&q.cluster.address, 1);
    let ixn = contribution_ix(&mut env, &q.cluster, 3, q.computation).await;
    let args = anchor_lang::AnchorDeserialize::deserialize(&mut &ixn.data[8..]).unwrap();
    let second_comp: Computation = env.account(second).await;
    let replay = contribute_raw_ix(&q.cluster, 3, second, &second_comp, None, args);
    let logs = env
        .send(&[replay], &[&q.cluster.nodes[2].authority])
        .await
        .unwrap();
    assert_eq!(events::<ContributionRejected>(&logs)[0].node, 3);
    let comp: Computation = env.account(second).await;
    assert_eq!(comp.faulty, 0b100);
}
