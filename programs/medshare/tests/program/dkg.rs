//! Cluster setup and the DKG bulletin board.

use crate::common::*;
use medshare::error::MedshareError;
use medshare::events::{ClusterLifecycle, DkgFailed};
use medshare::state::*;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

#[tokio::test]
async fn test_dkg_confirmations_disagree() {
    let mut env = Env::new(61).await;
    let mut c = registered_cluster(&mut env, 1, 2, 3).await;
    let outputs = run_dkg_rounds(&mut env, &mut c).await;
    let mut last_logs = vec![];
    for (k, out) in outputs.iter().enumerate() {
        let mut vs: Vec<[u8; 32]> = out.verification_shares.iter().map(|(_, v)| v.0).collect();
        if k == 2 {
            // Node 3 reports another V_1.
            vs[0] = encrypted_ixs::point::BASEPOINT.0;
        }
        let conf = confirm_ix(&c, k, out.cluster_key, vs);
        last_logs = env.send(&[conf], &[&c.nodes[k].authority]).await.unwrap();
    }
    let failed = events::<DkgFailed>(&last_logs);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].disagreeing, 0b100);
    let cluster: Cluster = env.account(c.address).await;
    assert_eq!(cluster.status, ClusterStatus::Failed);
    let p = patient(&mut env).await;
    assert_err(
        env.send(&[store_ix(&p.wallet.pubkey(), &c.address, 1)], &[&p.wallet])
            .await,
        MedshareError::ClusterNotReady,
    );
}

/// Confirms for every node, node `liar` (0-based) with a made-up cluster
/// key; returns the logs of the last confirmation.
async fn confirm_all_with_a_liar(env: &mut Env, c: &mut SimCluster, liar: usize) -> Vec<String> {
    let outputs = run_dkg_rounds(env, c).await;
    // The liar confirms first.
    let mut order: Vec<usize> = (0..outputs.len()).collect();
    order.retain(|k| *k != liar);
    order.insert(0, liar);
    let mut last = vec![];
    for k in order {
        let out = &outputs[k];
        let vs: Vec<[u8; 32]> = out.verification_shares.iter().map(|(_, v)| v.0).collect();
        let key = if k == liar {
            encrypted_ixs::point::BASEPOINT
        } else {
            out.cluster_key
        };
        let conf = confirm_ix(c, k, key, vs);
        last = env.send(&[conf], &[&c.nodes[k].authority]).await.unwrap();
    }
    last
}

#[tokio::test]
async fn test_first_confirmer_lying_is_blamed_not_the_honest_majority() {
    let mut env = Env::new(64).await;
    let mut c = registered_cluster(&mut env, 1, 2, 3).await;
    let logs = confirm_all_with_a_liar(&mut env, &mut c, 0).await;
    let failed = events::<DkgFailed>(&logs);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].disagreeing, 0b001, "only the liar is named");
    let cluster: Cluster = env.account(c.address).await;
    assert_eq!(cluster.status, ClusterStatus::Failed);
    let agreed: Vec<bool> = cluster.nodes.iter().map(|n| n.agreed).collect();
    assert_eq!(agreed, vec![false, true, true]);
}

#[tokio::test]
async fn test_no_strict_majority_names_every_node() {
    let mut env = Env::new(65).await;
    let mut c = registered_cluster(&mut env, 1, 2, 2).await;
    let logs = confirm_all_with_a_liar(&mut env, &mut c, 1).await;
    assert_eq!(events::<DkgFailed>(&logs)[0].disagreeing, 0b11);
}

#[tokio::test]
async fn test_dkg_step_order_enforced() {
    let mut env = Env::new(62).await;
    let mut c = registered_cluster(&mut env, 1, 2, 3).await;
    // Confirming before round 2 is refused.
    let early = confirm_ix(&c, 0, encrypted_ixs::point::BASEPOINT, vec![[0u8; 32]; 3]);
    assert_err(
        env.send(&[early], &[&c.nodes[0].authority]).await,
        MedshareError::DkgRoundMissing,
    );
    let outputs = run_dkg_rounds(&mut env, &mut c).await;
    // Round 1 twice.
    let again = sdk::post_dkg_round1(
        c.nodes[0].authority.pubkey(),
        c.address,
        1,
        vec![1, 2, 3],
        [9; 32],
    );
    assert_err(
        env.send(&[again], &[&c.nodes[0].authority]).await,
        MedshareError::Round1AlreadyPosted,
    );
    // Round 2 to the same peer twice.
    let dup = sdk::post_dkg_round2(
        c.nodes[0].authority.pubkey(),
        c.address,
        1,
        vec![medshare::instructions::Round2Arg {
            to: 2,
            nonce: [0; 12],
            ciphertext: vec![0; 53],
        }],
    );
    assert_err(
        env.send(&[dup], &[&c.nodes[0].authority]).await,
        MedshareError::InvalidRound2Package,
    );
    // Confirm twice.
    let vs: Vec<[u8; 32]> = outputs[0]
        .verification_shares
        .iter()
        .map(|(_, v)| v.0)
        .collect();
    let conf = confirm_ix(&c, 0, outputs[0].cluster_key, vs);
    env.send(std::slice::from_ref(&conf), &[&c.nodes[0].authority])
        .await
        .unwrap();
    assert_err(
        env.send(&[conf], &[&c.nodes[0].authority]).await,
        MedshareError::AlreadyConfirmed,
    );
}

#[tokio::test]
async fn test_cluster_admin_checks() {
    let mut env = Env::new(63).await;
    let c = registered_cluster(&mut env, 1, 2, 2).await;
    let mallory = env.funded().await;
    let add = sdk::add_node(mallory.pubkey(), c.address, mallory.pubkey());
    assert_err(env.send(&[add], &[&mallory]).await, MedshareError::NotAdmin);
    let add = sdk::add_node(c.admin.pubkey(), c.address, mallory.pubkey());
    // Registration is over (all n registered, DKG running).
    assert_err(
        env.send(&[add], &[&c.admin]).await,
        MedshareError::WrongClusterStatus,
    );
    for (t, n) in [(1u8, 2u8), (3, 2), (2, 17), (0, 0)] {
        let admin = env.funded().await;
        let (init, _) = sdk::init_cluster(
            admin.pubkey(),
            medshare::instructions::InitClusterArgs {
                cluster_id: 9,
                threshold: t,
                size: n,
                computation_ttl_slots: TTL,
            },
        );
        assert_err(
            env.send(&[init], &[&admin]).await,
            MedshareError::InvalidThreshold,
        );
    }
}

fn lifecycle_ix(c: &SimCluster, signer: &Keypair, retire: bool) -> Instruction {
    if retire {
        sdk::retire_cluster(signer.pubkey(), c.address)
    } else {
        sdk::restart_dkg(signer.pubkey(), c.address)
    }
}

#[tokio::test]
async fn test_c01_restart_after_a_silent_node_or_a_failure_then_retire() {
    let mut env = Env::new(66).await;
    let mut c = registered_cluster(&mut env, 1, 2, 3).await;
    // Node 3 never confirms: the DKG cannot finish.
    let first = run_dkg_rounds(&mut env, &mut c).await;
    for (k, out) in first.iter().take(2).enumerate() {
        let vs = out.verification_shares.iter().map(|(_, v)| v.0).collect();
        let conf = confirm_ix(&c, k, out.cluster_key, vs);
        env.send(&[conf], &[&c.nodes[k].authority]).await.unwrap();
    }

    let cluster: Cluster = env.account(c.address).await;
    assert_eq!(cluster.status, ClusterStatus::Dkg);
    // Only the admin may restart.
    let mallory = env.funded().await;
    assert_err(
        env.send(&[lifecycle_ix(&c, &mallory, false)], &[&mallory])
            .await,
        MedshareError::NotAdmin,
    );
    let admin = c.admin.insecure_clone();
    let logs = env
        .send(&[lifecycle_ix(&c, &admin, false)], &[&admin])
        .await
        .unwrap();
    assert_eq!(events::<ClusterLifecycle>(&logs)[0].dkg_attempt, 1);
    let cluster: Cluster = env.account(c.address).await;
    assert_eq!(
        (cluster.status, cluster.dkg_attempt),
        (ClusterStatus::Dkg, 1)
    );
    assert!(cluster
        .nodes
        .iter()
        .all(|n| !n.round1_posted && !n.confirmed));
    // The whole DKG runs again (mailboxes are cleared by the new round 1)
    // and the cluster becomes ready with a new key.
    let second = run_dkg_rounds(&mut env, &mut c).await;
    let mb: DkgMailbox = env.account(medshare::pda::dkg_mailbox(&c.address, 1)).await;
    assert_eq!((mb.attempt, mb.round2.len()), (1, 2));
    for (k, out) in second.iter().enumerate() {
        let vs = out.verification_shares.iter().map(|(_, v)| v.0).collect();
        let conf = confirm_ix(&c, k, out.cluster_key, vs);
        env.send(&[conf], &[&c.nodes[k].authority]).await.unwrap();
    }
    let cluster: Cluster = env.account(c.address).await;
    assert_eq!(cluster.status, ClusterStatus::Ready);
    assert_eq!(cluster.cluster_key, second[0].cluster_key.0);
    assert_ne!(second[0].cluster_key, first[0].cluster_key);
    // A ready cluster is not re-keyed.
    assert_err(
        env.send(&[lifecycle_ix(&c, &admin, false)], &[&admin])
            .await,
        MedshareError::WrongClusterStatus,
    );
    // Retired: no new record; retiring twice is refused.
    env.send(&[lifecycle_ix(&c, &admin, true)], &[&admin])
        .await
        .unwrap();
    let p = patient(&mut env).await;
    assert_err(
        env.send(&[store_ix(&p.wallet.pubkey(), &c.address, 1)], &[&p.wallet])
            .await,
        MedshareError::ClusterNotReady,
    );
    assert_err(
        env.send(&[lifecycle_ix(&c, &admin, true)], &[&admin]).await,
        MedshareError::WrongClusterStatus,
    );
}

#[tokio::test]
async fn test_c01_failed_dkg_restarts() {
    let mut env = Env::new(67).await;
    let mut c = registered_cluster(&mut env, 1, 2, 3).await;
    confirm_all_with_a_liar(&mut env, &mut c, 2).await;
    let cluster: Cluster = env.account(c.address).await;
    assert_eq!(cluster.status, ClusterStatus::Failed);
    let admin = c.admin.insecure_clone();
    env.send(&[lifecycle_ix(&c, &admin, false)], &[&admin])
        .await
        .unwrap();
    let outputs = run_dkg_rounds(&mut env, &mut c).await;
    for (k, out) in outputs.iter().enumerate() {
        let vs = out.verification_shares.iter().map(|(_, v)| v.0).collect();
        let conf = confirm_ix(&c, k, out.cluster_key, vs);
        env.send(&[conf], &[&c.nodes[k].authority]).await.unwrap();
    }
    let cluster: Cluster = env.account(c.address).await;
    assert_eq!(cluster.status, ClusterStatus::Ready);
    assert!(cluster.nodes.iter().all(|n| n.agreed));
}

fn complaint_ix(c: &SimCluster, node: usize, accused: u8, secret: [u8; 32]) -> Instruction {
    sdk::post_dkg_complaint(
        c.nodes[node - 1].authority.pubkey(),
        c.address,
        node as u8,
        accused,
        secret,
    )
}

#[tokio::test]
async fn test_f4_complaint_is_recorded_publicly_and_judged_by_anyone() {
    use encrypted_ixs::dkg::{verify_complaint, EncryptedRound2, Peer, Verdict};
    use encrypted_ixs::keys::{NodeIndex, TransportPublic, TransportSecret};
    let mut env = Env::new(68).await;
    let mut c = registered_cluster(&mut env, 1, 2, 3).await;
    run_dkg_rounds(&mut env, &mut c).await;
    // Against itself, or by a stranger: refused.
    assert_err(
        env.send(&[complaint_ix(&c, 1, 1, [1; 32])], &[&c.nodes[0].authority])
            .await,
        MedshareError::InvalidRound2Package,
    );
    // Node 1 accuses node 2, revealing a secret that is not its posted key.
    let fake = TransportSecret::generate(&mut env.rng);
    let logs = env
        .send(
            &[complaint_ix(&c, 1, 2, *fake.to_bytes())],
            &[&c.nodes[0].authority],
        )
        .await
        .unwrap();
    let ev = &events::<medshare::events::DkgComplaint>(&logs)[0];
    assert_eq!((ev.complainer, ev.accused, ev.attempt), (1, 2, 0));
    let cluster: Cluster = env.account(c.address).await;
    assert_eq!(cluster.status, ClusterStatus::Failed);
    // Anyone judges it from the mailboxes: false (the secret does not match).
    let mut boxes = std::collections::BTreeMap::new();
    for i in 1..=3u8 {
        let mb: DkgMailbox = env.account(medshare::pda::dkg_mailbox(&c.address, i)).await;
        boxes.insert(i as u16, mb);
    }
    let me = &boxes[&1];
    assert_eq!(
        (me.complaint_against, me.revealed_secret),
        (2, *fake.to_bytes())
    );
    let peers = boxes
        .iter()
        .filter(|(j, _)| **j != 1)
        .map(|(j, mb)| {
            (
                NodeIndex::new(*j).unwrap(),
                Peer {
                    round1: mb.round1.clone(),
                    transport: TransportPublic(mb.ephemeral_key),
                },
            )
        })
        .collect();
    let pkg = boxes[&2]
        .round2
        .iter()
        .find(|p| p.to == 1)
        .map(|p| EncryptedRound2 {
            from: 2,
            to: 1,
            nonce: p.nonce,
            ciphertext: p.ciphertext.clone(),
        });
    let verdict = verify_complaint(
        &encrypted_ixs::dkg::DkgParams {
            cluster: c.address.to_bytes(),
            threshold: 2,
            nodes: 3,
            attempt: 0,
        },
        NodeIndex::new(1).unwrap(),
        &me.round1,
        &TransportPublic(me.ephemeral_key),
        &TransportSecret::from_bytes(me.revealed_secret),
        NodeIndex::new(2).unwrap(),
        &peers,
        pkg.as_ref(),
    )
    .unwrap();
    assert_eq!(verdict, Verdict::ComplaintFalse);
    // The admin restarts; the new attempt's round 1 clears the complaint.
    let admin = c.admin.insecure_clone();
    env.send(&[lifecycle_ix(&c, &admin, false)], &[&admin])
        .await
        .unwrap();
    run_dkg_rounds(&mut env, &mut c).await;
    let mb: DkgMailbox = env.account(medshare::pda::dkg_mailbox(&c.address, 1)).await;
    assert_eq!((mb.complaint_against, mb.revealed_secret), (0, [0; 32]));
}

/// One node can stop a DKG for ever: here node 3 posts a false complaint
/// and the attempt fails, and a restart would keep it. The admin gives its
/// index to a new node before restarting: the liar's accounts close (rent
/// back to it), the liar can post nothing more, the new node registers, and
/// the cluster gets its key with the honest nodes.
#[tokio::test]
async fn test_admin_replaces_a_node_that_stops_the_dkg() {
    let mut env = Env::new(2317).await;
    let mut c = registered_cluster(&mut env, 1, 2, 3).await;
    run_dkg_rounds(&mut env, &mut c).await;
    let fake = encrypted_ixs::keys::TransportSecret::generate(&mut env.rng);
    env.send(
        &[complaint_ix(&c, 3, 1, *fake.to_bytes())],
        &[&c.nodes[2].authority],
    )
    .await
    .unwrap();
    let cluster: Cluster = env.account(c.address).await;
    assert_eq!(cluster.status, ClusterStatus::Failed);
    let liar = c.nodes[2].authority.insecure_clone();
    let newcomer = env.funded().await;
    let admin = c.admin.insecure_clone();
    let replace = |who: &Keypair, new: Pubkey| {
        sdk::replace_node(who.pubkey(), c.address, 3, liar.pubkey(), new)
    };
    // Only the admin, only to a new authority.
    assert_err(
        env.send(&[replace(&liar, liar.pubkey())], &[&liar]).await,
        MedshareError::NotAdmin,
    );
    let node1 = c.nodes[0].authority.pubkey();
    assert_err(
        env.send(&[replace(&admin, node1)], &[&admin]).await,
        MedshareError::NodeAlreadyAdded,
    );
    let held = env
        .lamports(medshare::pda::dkg_mailbox(&c.address, 3))
        .await
        + env
            .lamports(medshare::pda::node_record(&c.address, 3))
            .await;
    let before = env.lamports(liar.pubkey()).await;
    let logs = env
        .send(&[replace(&admin, newcomer.pubkey())], &[&admin])
        .await
        .unwrap();
    let ev = &events::<medshare::events::NodeReplaced>(&logs)[0];
    assert_eq!(
        (ev.index, ev.old, ev.new, ev.dkg_attempt),
        (3, liar.pubkey(), newcomer.pubkey(), 1)
    );
    assert_eq!(env.lamports(liar.pubkey()).await, before + held);
    let cluster: Cluster = env.account(c.address).await;
    assert_eq!(cluster.status, ClusterStatus::Registering);
    // The liar is no node any more.
    assert_anchor_err(
        env.send(
            &[complaint_ix(&c, 3, 1, *fake.to_bytes())],
            &[&c.nodes[2].authority],
        )
        .await,
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
    let transport = encrypted_ixs::keys::TransportSecret::generate(&mut env.rng);
    env.send(
        &[sdk::register_node(
            newcomer.pubkey(),
            c.address,
            3,
            transport.public_key().0,
        )],
        &[&newcomer],
    )
    .await
    .unwrap();
    c.nodes[2].authority = newcomer;
    let outputs = run_dkg_rounds(&mut env, &mut c).await;
    for (k, out) in outputs.iter().enumerate() {
        let vs = out.verification_shares.iter().map(|(_, v)| v.0).collect();
        let conf = confirm_ix(&c, k, out.cluster_key, vs);
        env.send(&[conf], &[&c.nodes[k].authority]).await.unwrap();
    }
    let cluster: Cluster = env.account(c.address).await;
    assert_eq!(cluster.status, ClusterStatus::Ready);
    assert!(cluster.nodes.iter().all(|n| n.agreed));
    // A ready cluster's committee is not replaced this way.
    let again = sdk::replace_node(admin.pubkey(), c.address, 1, node1, Pubkey::new_unique());
    assert_err(
        env.send(&[again], &[&admin]).await,
        MedshareError::WrongClusterStatus,
    );
}
