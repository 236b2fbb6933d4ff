//! In-process tests with a cluster of real node tasks on the embedded chain
//! (or the validator at `MEDSHARE_TEST_URL`; the tests that need slot warps
//! or test the embedded backend itself are skipped there, by name):
//! DKG then share (2-of-3, 3-of-5), liveness with `t − 1` nodes down, a stall
//! below `t` ending in the requester's cancellation, a faulty node named
//! on-chain while the others finalize, nodes killed mid-computation that
//! restart without contributing twice, and key stores that refuse tampering.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use medshare::error::MedshareError;
use medshare::events::{
    ContributionAccepted, ContributionRejected, ShareCancelled, ShareCompleted,
};
use medshare::state::{ClusterStatus, ShareResult};
use medshare_client::data::parse_groups;
use medshare_client::demo::sample_record;
use medshare_client::error::ClientError;
use medshare_sdk::chain::{Chain, ChainError, LedgerEntry, SharedChain};
use medshare_sdk::keystore::{KeyStore, KeyStoreError};
use medshare_tests::cli_env::skip_unless_embedded;
use medshare_tests::nodes_env::{
    events_in, expected_fields, options, options_with, poll_until, share_timeout, test_limit,
    NodesEnv, Watchdog, POLL,
};
use mpc_node::metrics::Metrics;
use mpc_node::{Behaviour, Node, NodeConfig, NodeError};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

/// The groups the patient shares in these tests: vitals and medications.
fn vitals_and_medications() -> u8 {
    parse_groups("vitals,medications").expect("valid group names")
}

/// Accepted contributions per node index, from a computation's ledger history.
fn accepted_per_node(entries: &[LedgerEntry]) -> BTreeMap<u8, usize> {
    let mut out = BTreeMap::new();
    for ev in events_in::<ContributionAccepted>(entries) {
        *out.entry(ev.node).or_insert(0) += 1;
    }
    out
}

/// Whether a ledger entry is a transaction the program refused with `err`.
fn refused_with(entry: &LedgerEntry, err: MedshareError) -> bool {
    let name = format!("Error Code: {err:?}");
    let code = anchor_lang::error::ERROR_CODE_OFFSET + err as u32;
    let as_chain_error = ChainError::Program { code, logs: vec![] }.to_string();
    !entry.success
        && (entry.error.as_deref() == Some(as_chain_error.as_str())
            || entry.logs.iter().any(|l| l.contains(&name)))
}

/// Whether a computation's ledger shows it finished (completed or cancelled)
/// after `accepted` accepted contributions.
fn finished_after(accepted: usize) -> impl Fn(&[LedgerEntry]) -> bool {
    move |h| {
        let done = !events_in::<ShareCompleted>(h).is_empty()
            || !events_in::<ShareCancelled>(h).is_empty();
        done && events_in::<ContributionAccepted>(h).len() == accepted
    }
}

/// The single `ShareCompleted` event of a computation.
async fn completed_event(env: &NodesEnv, computation: &Pubkey) -> ShareCompleted {
    let history = env
        .history_when(computation, |h| !events_in::<ShareCompleted>(h).is_empty())
        .await;
    let mut evs = events_in::<ShareCompleted>(&history);
    assert_eq!(evs.len(), 1, "exactly one ShareCompleted for {computation}");
    evs.pop().expect("one event")
}

/// DKG, then a share of two groups to a doctor who decrypts exactly those
/// groups; `t` contributions in total, on-chain and in the node metrics.
async fn dkg_then_share(t: u8, n: u8) {
    let env = NodesEnv::start(options(t, n)).await;

    // The DKG finished: every node confirmed the same key.
    let c = env.cluster_account().await;
    assert_eq!(c.status, ClusterStatus::Ready);
    assert_eq!((c.threshold, c.size), (t, n));
    assert_eq!(c.nodes.len(), n as usize);
    assert_ne!(c.cluster_key, [0u8; 32]);
    for (i, node) in c.nodes.iter().enumerate() {
        assert!(node.registered && node.round1_posted && node.confirmed && node.agreed);
        assert_eq!(node.authority, env.cluster.nodes[i].authority);
        assert_ne!(node.verification_share, [0u8; 32]);
    }
    let records = env.node_records().await;
    for (i, r) in records.iter().enumerate() {
        assert_eq!((r.cluster, r.index), (env.address(), i as u8 + 1));
        assert_eq!(r.node, env.cluster.nodes[i].authority);
        assert_eq!((r.contributions, r.faults), (0, 0));
    }
    let mut shares: Vec<_> = c.nodes.iter().map(|x| x.verification_share).collect();
    shares.sort();
    shares.dedup();
    assert_eq!(shares.len(), n as usize, "distinct verification shares");
    assert!(env.cluster.dkg_time < Duration::from_secs(20));

    // The patient stores the record and shares two groups with the doctor.
    let data = sample_record();
    let record = env.store_sample().await;
    let mask = vitals_and_medications();
    let ticket = env.share_to_doctor(&record, mask).await;
    let result = env.wait_share(&ticket).await;
    assert!(result.completed);
    assert_eq!(result.groups, vec![1, 3]);
    assert_eq!(result.capsules.len(), 2);
    assert_eq!(result.recipient, env.doctor.encryption_key().0);
    assert_eq!(result.recipient_wallet, env.doctor.wallet.pubkey());
    assert!(
        env.computation(&ticket.computation).await.is_none(),
        "the callback closes the computation"
    );

    // The doctor finds it in their inbox and sees exactly those fields.
    let inbox = env.doctor.inbox(&env.address()).await.expect("inbox");
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].0, ticket.share_result);
    let opened = env
        .doctor
        .decrypt(&ticket.share_result)
        .await
        .expect("doctor decrypts");
    assert_eq!(opened.record, record);
    assert_eq!(opened.owner, env.patient.wallet.pubkey());
    assert_eq!(opened.groups, vec![1, 3]);
    assert_eq!(opened.contents.data, expected_fields(&data, mask));
    assert_eq!(opened.contents.data.blood_type, data.blood_type);
    assert_eq!(opened.contents.data.weight_kg, data.weight_kg);
    assert_eq!(opened.contents.data.height_cm, data.height_cm);
    assert_eq!(opened.contents.data.medications, data.medications);
    assert_eq!(opened.contents.data.allergies, data.allergies);
    assert_eq!(opened.contents.data.patient_id, None);
    assert_eq!(opened.contents.data.age, None);
    assert_eq!(opened.contents.data.gender, None);
    assert!(opened.contents.data.diagnoses.is_empty());
    assert_eq!(opened.contents.data.notes, None);
    // The share is for the doctor's key only.
    assert!(matches!(
        env.patient.decrypt(&ticket.share_result).await,
        Err(ClientError::WrongKey)
    ));

    // Exactly t contributions: in the ledger, the cluster's counters and the node metrics.
    let done = completed_event(&env, &ticket.computation).await;
    assert_eq!(done.contributors.len(), t as usize);
    let history = env
        .history_when(&ticket.computation, finished_after(t as usize))
        .await;
    let accepted = accepted_per_node(&history);
    assert_eq!(accepted.values().sum::<usize>(), t as usize);
    assert!(accepted.values().all(|k| *k == 1));
    // Only the nodes first in rank contributed (computation 0: nodes 1..=t),
    // nothing was sent in vain, and the t-th contributor finalized at once.
    assert_eq!(
        accepted.keys().copied().collect::<Vec<u8>>(),
        (1..=t).collect::<Vec<u8>>()
    );
    assert_eq!(
        history.len(),
        t as usize + 2,
        "request, t contributions, callback"
    );
    assert!(history.iter().all(|e| e.success), "no transaction refused");
    let last = events_in::<ContributionAccepted>(&history)
        .into_iter()
        .find(|e| e.count == t)
        .expect("a t-th contribution");
    assert_eq!(done.finalizer, last.node, "the t-th contributor finalizes");
    let mut from_events: Vec<u8> = accepted.keys().copied().collect();
    let mut from_result = done.contributors.clone();
    from_events.sort();
    from_result.sort();
    assert_eq!(from_events, from_result);
    let c = env.cluster_account().await;
    assert_eq!(c.status, ClusterStatus::Ready);
    let records = env.node_records().await;
    assert_eq!(
        records.iter().map(|x| x.contributions).sum::<u64>(),
        t as u64
    );
    assert!(records.iter().all(|x| x.faults == 0));
    // A node bumps its counter right after its transaction returns: allow it a moment.
    poll_until(
        "the nodes' contribution counters to reach t",
        Duration::from_secs(2),
        Duration::from_millis(10),
        || async { (env.contributions_metric() == t as u64).then_some(()) },
    )
    .await;
    for (i, node) in env.cluster.nodes.iter().enumerate() {
        assert_eq!(
            node.metrics.contributions.get(),
            records[i].contributions,
            "node {} metric vs. on-chain count",
            i + 1
        );
        assert_eq!(node.metrics.proof_failures_observed.get(), 0);
    }
    assert_eq!(
        env.cluster
            .nodes
            .iter()
            .map(|n| n.metrics.finalized.get())
            .sum::<u64>(),
        1,
        "exactly one callback"
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_dkg_then_share_2_of_3() {
    dkg_then_share(2, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_dkg_then_share_3_of_5() {
    dkg_then_share(3, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_t_minus_1_stopped_still_finalizes() {
    // Computation 0 ranks nodes 1, 2, 3 first: with 1 and 2 stopped, only
    // node 3 contributes at once, and nodes 4 and 5 step in after their
    // contribution fallback delays.
    let mut env = NodesEnv::start(options(3, 5)).await;
    env.stop(1).await;
    env.stop(2).await;
    let record = env.store_sample().await;
    let mask = vitals_and_medications();
    let ticket = env.share_to_doctor(&record, mask).await;
    let result = env.wait_share(&ticket).await;
    assert!(result.completed);

    // Only running nodes contributed and finalized: the last to contribute
    // (node 5, two fallback delays) finished it.
    let done = completed_event(&env, &ticket.computation).await;
    let mut contributors = done.contributors.clone();
    contributors.sort();
    assert_eq!(contributors, vec![3, 4, 5]);
    assert_eq!(done.finalizer, 5);
    let history = env
        .history_when(&ticket.computation, finished_after(3))
        .await;
    let accepted = events_in::<ContributionAccepted>(&history);
    let order: Vec<(u8, u8)> = accepted.iter().map(|e| (e.node, e.count)).collect();
    assert_eq!(order, vec![(3, 1), (4, 2), (5, 3)], "in rank order");
    assert!(history.iter().all(|e| e.success), "nothing refused");
    for stopped in [1, 2] {
        let m = &env.cluster.nodes[stopped - 1].metrics;
        assert_eq!(m.computations_seen.get(), 0, "node {stopped} was stopped");
        assert_eq!(m.contributions.get(), 0);
    }
    env.assert_doctor_opens(&ticket.share_result, mask).await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_fewer_than_t_stalls_and_requester_cancels() {
    if skip_unless_embedded("test_nodes_fewer_than_t_stalls_and_requester_cancels") {
        return;
    }
    const TTL: u64 = 20;
    let mut env = NodesEnv::start(super_short_ttl(options(3, 5), TTL)).await;
    for i in [3, 4, 5] {
        env.stop(i).await;
    }
    let record = env.store_sample().await;
    let ticket = env.share_to_doctor(&record, vitals_and_medications()).await;

    // The two running nodes contribute; the third contribution never comes.
    let comp = env
        .wait_contributors(
            "the two running nodes to contribute",
            &ticket.computation,
            2,
        )
        .await;
    tokio::time::sleep(POLL * 8).await;
    let before_expiry = env
        .computation(&ticket.computation)
        .await
        .expect("still pending");
    let mut contributors = before_expiry.contributors.clone();
    contributors.sort();
    assert_eq!(contributors, vec![1, 2]);
    assert!(
        before_expiry.contributors.len() < 3,
        "fewer than t contributed"
    );
    assert_eq!(before_expiry.expiry_slot, comp.created_slot + TTL);
    let sr: ShareResult = medshare_sdk::chain::fetch(env.chain.as_ref(), &ticket.share_result)
        .await
        .unwrap()
        .expect("share result exists");
    assert!(!sr.completed);

    // Cancelling before expiry is refused.
    match env.patient.cancel(&ticket).await {
        Err(ClientError::Chain(e)) => {
            assert!(
                matches!(e.medshare(), Some(MedshareError::ComputationNotExpired)),
                "{e}"
            )
        }
        other => panic!("cancel before expiry: expected ComputationNotExpired, got {other:?}"),
    }

    // Past expiry (warped, not slept), waiting reports the expiry.
    env.embedded
        .as_ref()
        .expect("embedded")
        .warp_slots(TTL + 5)
        .await;
    match env.patient.wait(&ticket, share_timeout(), |_, _| {}).await {
        Err(ClientError::Expired | ClientError::Timeout(_)) => {}
        Err(other) => panic!("expected Expired or Timeout, got {other}"),
        Ok(_) => panic!("a share below the threshold completed"),
    }

    // The requester cancels and gets both rents back.
    let rent: u64 = env
        .chain
        .accounts(&[ticket.computation, ticket.share_result])
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.expect("both accounts exist").lamports)
        .sum();
    assert!(rent > 0);
    let me = env.patient.wallet.pubkey();
    let before = env.chain.balance(&me).await.unwrap();
    env.patient
        .cancel(&ticket)
        .await
        .expect("cancel after expiry");
    let after = env.chain.balance(&me).await.unwrap();
    let gone = env
        .chain
        .accounts(&[ticket.computation, ticket.share_result])
        .await
        .unwrap();
    assert!(gone.iter().all(Option::is_none), "both accounts closed");
    let fee = (before + rent)
        .checked_sub(after)
        .expect("got no more than the rent back");
    assert!(fee <= 10_000, "rent {rent} returned minus a fee, not {fee}");
    assert!(after > before);

    let history = env
        .history_when(&ticket.computation, finished_after(2))
        .await;
    assert_eq!(events_in::<ShareCancelled>(&history).len(), 1);
    assert!(events_in::<ShareCompleted>(&history).is_empty());
    assert_eq!(accepted_per_node(&history).values().sum::<usize>(), 2);
    env.shutdown().await;
}

/// `opts` with a short computation lifetime.
fn super_short_ttl(
    opts: mpc_node::cluster::ClusterOptions,
    ttl: u64,
) -> mpc_node::cluster::ClusterOptions {
    mpc_node::cluster::ClusterOptions {
        ttl_slots: ttl,
        ..opts
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_faulty_node_named_and_others_finalize() {
    let mut env = NodesEnv::start(options_with(2, 3, vec![Behaviour::CorruptProofs])).await;
    let node1 = env.cluster.nodes[0].authority;
    let record = env.store_sample().await;
    let mask = vitals_and_medications();

    // With the honest nodes paused, node 1 is the only one that can contribute:
    // its bad proof is rejected and it is marked faulty on the computation.
    env.stop(2).await;
    env.stop(3).await;
    let first = env.share_to_doctor(&record, mask).await;
    let comp = poll_until(
        "node 1's contribution to be rejected",
        share_timeout(),
        Duration::from_millis(10),
        || async {
            env.computation(&first.computation)
                .await
                .filter(|c| c.faulty & 1 != 0)
        },
    )
    .await;
    assert!(comp.contributors.is_empty(), "a bad proof is never stored");
    env.cluster.restart(2).expect("restart node 2");
    env.cluster.restart(3).expect("restart node 3");

    // The honest nodes finalize this one and the next ones.
    let mut tickets = vec![first];
    env.wait_share(&first).await;
    for _ in 0..2 {
        let t = env.share_to_doctor(&record, mask).await;
        env.wait_share(&t).await;
        tickets.push(t);
    }

    // Node 1 is named on the ledger, with its authority.
    let history = env
        .history_when(&first.computation, |h| {
            finished_after(2)(h) && !events_in::<ContributionRejected>(h).is_empty()
        })
        .await;
    let rejected = events_in::<ContributionRejected>(&history);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].node, 1);
    assert_eq!(rejected[0].authority, node1);
    assert_eq!(rejected[0].computation, first.computation);
    assert!(mask & (1 << rejected[0].group) != 0);
    for t in &tickets {
        let done = completed_event(&env, &t.computation).await;
        let mut contributors = done.contributors.clone();
        contributors.sort();
        assert_eq!(contributors, vec![2, 3], "only honest nodes are combined");
        env.assert_doctor_opens(&t.share_result, mask).await;
    }
    let records = env.node_records().await;
    assert!(records[0].faults >= 1, "node 1's faults are counted");
    assert_eq!(records[0].contributions, 0, "node 1 never had one accepted");
    for i in [1, 2] {
        assert_eq!(records[i].faults, 0);
        assert_eq!(records[i].contributions, tickets.len() as u64);
    }
    // The restarted honest nodes saw the fault recorded on the first computation.
    for i in [2, 3] {
        let observed = env.cluster.nodes[i - 1]
            .metrics
            .proof_failures_observed
            .get();
        assert!(observed >= 1, "node {i} observed {observed} proof failures");
    }
    // Node 1's own metric counts accepted contributions only: none.
    assert_eq!(env.cluster.nodes[0].metrics.contributions.get(), 0);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_killed_mid_computation_restarts_without_duplicate() {
    // 3-of-3: every node must contribute, so node 3 is needed.
    let mut env = NodesEnv::start(options(3, 3)).await;
    let record = env.store_sample().await;
    let mask = vitals_and_medications();

    // (1) Node 3 is killed before the request, so it cannot have contributed;
    // it is restarted once the others have.
    env.kill(3).await;
    let first = env.share_to_doctor(&record, mask).await;
    env.wait_contributors("nodes 1 and 2 to contribute", &first.computation, 2)
        .await;
    tokio::time::sleep(POLL * 8).await;
    let stalled = env.computation(&first.computation).await.expect("pending");
    let mut have = stalled.contributors.clone();
    have.sort();
    assert_eq!(have, vec![1, 2], "stalled without node 3");
    env.cluster.restart(3).expect("restart node 3");
    env.wait_share(&first).await;
    let history = env
        .history_when(&first.computation, finished_after(3))
        .await;
    assert_eq!(
        accepted_per_node(&history),
        BTreeMap::from([(1, 1), (2, 1), (3, 1)])
    );
    assert!(
        !history
            .iter()
            .any(|e| refused_with(e, MedshareError::DuplicateContribution)),
        "no duplicate contribution was even attempted"
    );

    // (2) Node 3 is killed right after its contribution lands, while the
    // computation still waits for node 2; restarted, it must not send again.
    env.stop(2).await;
    let second = env.share_to_doctor(&record, mask).await;
    let seen = poll_until(
        "node 3's contribution to land",
        share_timeout(),
        Duration::from_millis(2),
        || async {
            env.computation(&second.computation)
                .await
                .filter(|c| c.contributors.contains(&3))
        },
    )
    .await;
    env.kill(3).await;
    assert!(seen.contributors.len() < 3);
    env.cluster.restart(3).expect("restart node 3");
    // Let the restarted node scan the pending computation several times.
    let restarted = Arc::clone(&env.cluster.nodes[2].metrics);
    poll_until(
        "the restarted node 3 to see the computation",
        share_timeout(),
        Duration::from_millis(10),
        || async { (restarted.computations_seen.get() >= 1).then_some(()) },
    )
    .await;
    tokio::time::sleep(POLL * 8).await;
    let pending = env.computation(&second.computation).await.expect("pending");
    let mut have = pending.contributors.clone();
    have.sort();
    assert_eq!(have, vec![1, 3]);
    assert_eq!(
        restarted.contributions.get(),
        0,
        "node 3 did not send again"
    );
    env.cluster.restart(2).expect("restart node 2");
    env.wait_share(&second).await;

    // The program combined each node once.
    let done = completed_event(&env, &second.computation).await;
    let mut contributors = done.contributors.clone();
    contributors.sort();
    assert_eq!(contributors, vec![1, 2, 3]);
    assert_eq!(
        restarted.contributions.get(),
        0,
        "the restarted node 3 never sent a contribution"
    );
    // The ledger: one accepted contribution from each node. Node 3's is there
    // although node 3 was aborted right after it landed: the embedded chain
    // writes its ledger whether or not the sender is still waiting.
    let history = env
        .history_when(&second.computation, |h| {
            !events_in::<ShareCompleted>(h).is_empty()
        })
        .await;
    let accepted = accepted_per_node(&history);
    assert_eq!(accepted, BTreeMap::from([(1, 1), (2, 1), (3, 1)]));
    assert!(!history
        .iter()
        .any(|e| refused_with(e, MedshareError::DuplicateContribution)));
    // No transaction of node 3's on this computation failed, and it sent no
    // second contribution (at most the callback, if it was the finalizer).
    let node3 = env.cluster.nodes[2].authority;
    let mine: Vec<_> = env
        .history(&node3)
        .await
        .into_iter()
        .map(|e| e.signature)
        .collect();
    let failed_mine: Vec<_> = history
        .iter()
        .filter(|e| !e.success && mine.contains(&e.signature))
        .collect();
    assert!(failed_mine.is_empty(), "node 3 failed: {failed_mine:?}");
    let recorded_mine = history
        .iter()
        .filter(|e| mine.contains(&e.signature))
        .count();
    assert_eq!(
        recorded_mine,
        1 + usize::from(done.finalizer == 3),
        "node 3's transactions on the computation: its contribution (and the callback if it finalized)"
    );
    // On-chain counters are exact: every node contributed once to each computation.
    assert!(env
        .node_records()
        .await
        .iter()
        .all(|x| x.contributions == 2 && x.faults == 0));
    for t in [first, second] {
        let opened = env.doctor.decrypt(&t.share_result).await.expect("decrypts");
        assert_eq!(
            opened.contents.data,
            expected_fields(&sample_record(), mask)
        );
    }
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_bad_callback_refused_and_others_finish() {
    // 3-of-3 with node 1 sending callbacks with a wrong coefficient. Node 1
    // is held back until 2 and 3 have contributed, so its contribution is the
    // third and it is the one that posts the callback at once.
    let mut env = NodesEnv::start(options_with(3, 3, vec![Behaviour::BadCallbacks])).await;
    let record = env.store_sample().await;
    let mask = vitals_and_medications();
    env.stop(1).await;
    let ticket = env.share_to_doctor(&record, mask).await;
    env.wait_contributors("nodes 2 and 3 to contribute", &ticket.computation, 2)
        .await;
    env.cluster.restart(1).expect("restart node 1");
    env.wait_share(&ticket).await;

    // The program refused node 1's callbacks; a node that saw the
    // computation ready finished it after its fallback delay.
    let done = completed_event(&env, &ticket.computation).await;
    assert_ne!(done.finalizer, 1);
    let mut contributors = done.contributors.clone();
    contributors.sort();
    assert_eq!(contributors, vec![1, 2, 3]);
    let history = env
        .history_when(&ticket.computation, finished_after(3))
        .await;
    let node1: Vec<_> = env
        .history(&env.cluster.nodes[0].authority)
        .await
        .into_iter()
        .map(|e| e.signature)
        .collect();
    let refused: Vec<_> = history.iter().filter(|e| !e.success).collect();
    if medshare_tests::cli_env::test_url().is_some() {
        // A validator's preflight refuses node 1's callbacks before they
        // land: none is on the ledger, and node 1 saw its callbacks fail.
        assert!(refused.is_empty(), "{refused:?}");
        assert!(env.cluster.nodes[0].metrics.chain_errors.get() > 0);
        assert_eq!(env.cluster.nodes[0].metrics.finalized.get(), 0);
        env.assert_doctor_opens(&ticket.share_result, mask).await;
        env.shutdown().await;
        return;
    }
    assert!(!refused.is_empty(), "node 1 posted a bad callback");
    for e in &refused {
        assert!(
            node1.contains(&e.signature),
            "only node 1's transactions failed"
        );
        assert!(
            refused_with(e, MedshareError::InvalidLagrangeCoefficients),
            "{:?}",
            e.error
        );
    }
    // Node 1 backed off between attempts (poll 25 ms, doubling): a handful of
    // attempts before the share completed, not one per wake-up.
    assert!(refused.len() <= 8, "{} bad callbacks", refused.len());
    assert_eq!(env.cluster.nodes[0].metrics.finalized.get(), 0);
    env.assert_doctor_opens(&ticket.share_result, mask).await;
    env.shutdown().await;
}

/// A chain whose account reads fail while `down` is set (an RPC endpoint
/// that stops answering), whose first `refuse_subscriptions` subscriptions
/// fail, and whose open subscriptions can be cut (a websocket that drops);
/// everything else goes to the embedded chain.
#[derive(Clone, Default)]
struct Flaky {
    down: Arc<std::sync::atomic::AtomicBool>,
    refuse_subscriptions: Arc<std::sync::atomic::AtomicU32>,
    subscriptions: Arc<std::sync::atomic::AtomicU32>,
    forwarders: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    /// Truncate every transaction's logs after their first line, as a
    /// validator does past its log limit (sends, notices and history).
    truncate_logs: Arc<std::sync::atomic::AtomicBool>,
}

impl Flaky {
    /// `logs` as the validator would return them truncated, if set.
    fn logs(&self, mut logs: Vec<String>) -> Vec<String> {
        if self.truncate_logs.load(std::sync::atomic::Ordering::SeqCst) && logs.len() > 1 {
            logs.truncate(1);
            logs.push(medshare_client::user::audit::LOG_TRUNCATED.to_string());
        }
        logs
    }
}

impl Flaky {
    /// Drops every open subscription.
    fn cut(&self) {
        for f in self.forwarders.lock().unwrap().drain(..) {
            f.abort();
        }
    }
}

struct FlakyChain {
    inner: SharedChain,
    flaky: Flaky,
}

#[async_trait::async_trait]
impl Chain for FlakyChain {
    async fn send(
        &self,
        ixs: &[solana_sdk::instruction::Instruction],
        signers: &[&Keypair],
    ) -> Result<medshare_sdk::chain::Landed, ChainError> {
        let mut landed = self.inner.send(ixs, signers).await?;
        landed.logs = self.flaky.logs(landed.logs);
        Ok(landed)
    }
    async fn accounts(
        &self,
        addresses: &[Pubkey],
    ) -> Result<Vec<Option<solana_sdk::account::Account>>, ChainError> {
        if self.flaky.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ChainError::Endpoint("connection refused".into()));
        }
        self.inner.accounts(addresses).await
    }
    async fn slot(&self) -> Result<u64, ChainError> {
        self.inner.slot().await
    }
    async fn balance(&self, address: &Pubkey) -> Result<u64, ChainError> {
        self.inner.balance(address).await
    }
    async fn history(&self, address: &Pubkey) -> Result<Vec<LedgerEntry>, ChainError> {
        let mut h = self.inner.history(address).await?;
        for e in &mut h {
            e.logs = self.flaky.logs(std::mem::take(&mut e.logs));
        }
        Ok(h)
    }
    async fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<(), ChainError> {
        self.inner.airdrop(to, lamports).await
    }
    async fn subscribe(
        &self,
        address: &Pubkey,
    ) -> Result<medshare_sdk::chain::Notices, ChainError> {
        use std::sync::atomic::Ordering::SeqCst;
        self.flaky.subscriptions.fetch_add(1, SeqCst);
        let refuse = &self.flaky.refuse_subscriptions;
        if refuse
            .fetch_update(SeqCst, SeqCst, |k| k.checked_sub(1))
            .is_ok()
        {
            return Err(ChainError::Endpoint("websocket refused".into()));
        }
        let mut from = self.inner.subscribe(address).await?;
        let (to, rx) = tokio::sync::mpsc::channel(medshare_sdk::chain::NOTICE_QUEUE);
        let flaky = self.flaky.clone();
        let forwarder = tokio::spawn(async move {
            while let Some(mut n) = from.recv().await {
                n.logs = flaky.logs(n.logs);
                if to.send(n).await.is_err() {
                    return;
                }
            }
        });
        self.flaky.forwarders.lock().unwrap().push(forwarder);
        Ok(rx)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_back_off_while_the_endpoint_is_down() {
    // Nodes 1 and 2 stopped: node 3 contributes at once, nodes 4 and 5 are
    // due 2 s and 4 s after they saw the request. The endpoint stops
    // answering reads once node 3's contribution is in, so both fallback
    // deadlines pass while every read fails: the nodes must back off (poll
    // 25 ms, doubling) instead of retrying on every wake-up, and finish once
    // the endpoint answers again.
    let flaky = Flaky::default();
    let f = flaky.clone();
    let opts = mpc_node::cluster::ClusterOptions {
        contribution_fallback: Duration::from_secs(2),
        ..options(3, 5)
    };
    let mut env = NodesEnv::start_with_node_chain(opts, move |inner| {
        Arc::new(FlakyChain { inner, flaky: f })
    })
    .await;
    env.stop(1).await;
    env.stop(2).await;
    let record = env.store_sample().await;
    let mask = vitals_and_medications();
    let ticket = env.share_to_doctor(&record, mask).await;
    let comp = env
        .wait_contributors("node 3 to contribute", &ticket.computation, 1)
        .await;
    flaky.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let before: Vec<u64> = (3..=5)
        .map(|i| env.cluster.nodes[i - 1].metrics.chain_errors.get())
        .collect();
    // The scenario holds: nodes 4 and 5 were still waiting when reads began to fail.
    let now = env.computation(&ticket.computation).await;
    assert_eq!(comp.contributors, vec![3]);
    if let Some(now) = now {
        assert_eq!(now.contributors, vec![3], "nodes 4 and 5 not in yet");
    }
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    for (k, i) in (3..=5).enumerate() {
        let errors = env.cluster.nodes[i - 1].metrics.chain_errors.get() - before[k];
        // 4.5 s of failures at 25, 50, 100, ... ms apart is at most 9 ticks
        // (plus the notices that each fail once).
        assert!(errors <= 16, "node {i}: {errors} failed reads in 4.5 s");
    }
    flaky.down.store(false, std::sync::atomic::Ordering::SeqCst);
    env.wait_share(&ticket).await;
    let done = completed_event(&env, &ticket.computation).await;
    let mut contributors = done.contributors.clone();
    contributors.sort();
    assert_eq!(contributors, vec![3, 4, 5]);
    env.assert_doctor_opens(&ticket.share_result, mask).await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_subscribe_again_after_a_refusal_or_a_drop() {
    // Every node's first subscription is refused: they poll, subscribe a
    // second later, and serve; then every subscription drops and they
    // subscribe again. The metric says which state a node is in.
    use std::sync::atomic::Ordering::SeqCst;
    let flaky = Flaky::default();
    flaky.refuse_subscriptions.store(3, SeqCst);
    let f = flaky.clone();
    let env = NodesEnv::start_with_node_chain(options(2, 3), move |inner| {
        Arc::new(FlakyChain { inner, flaky: f })
    })
    .await;
    let all_up = |env: &NodesEnv| {
        env.cluster
            .nodes
            .iter()
            .all(|n| n.metrics.subscription_up.get() == 1)
    };
    poll_until(
        "every node to subscribe on its second attempt",
        share_timeout(),
        Duration::from_millis(20),
        || async { all_up(&env).then_some(()) },
    )
    .await;
    assert_eq!(flaky.refuse_subscriptions.load(SeqCst), 0);
    assert_eq!(
        flaky.subscriptions.load(SeqCst),
        6,
        "one refused and one open each"
    );
    let record = env.store_sample().await;
    let mask = vitals_and_medications();
    let first = env.share_to_doctor(&record, mask).await;
    env.wait_share(&first).await;

    // Each node notices the drop (its metric goes to 0) and subscribes a third time.
    flaky.cut();
    let mut noticed = [false; 3];
    poll_until(
        "every node to notice the drop and subscribe again",
        share_timeout(),
        Duration::from_millis(5),
        || {
            for (k, n) in env.cluster.nodes.iter().enumerate() {
                noticed[k] |= n.metrics.subscription_up.get() == 0;
            }
            let again = flaky.subscriptions.load(SeqCst) == 9;
            let done = again && all_up(&env);
            async move { done.then_some(()) }
        },
    )
    .await;
    assert_eq!(flaky.subscriptions.load(SeqCst), 9);
    assert_eq!(noticed, [true; 3], "each node's metric showed the drop");
    let notices_before: u64 = env
        .cluster
        .nodes
        .iter()
        .map(|n| n.metrics.notices.get())
        .sum();
    let second = env.share_to_doctor(&record, mask).await;
    env.wait_share(&second).await;
    let notices_after: u64 = env
        .cluster
        .nodes
        .iter()
        .map(|n| n.metrics.notices.get())
        .sum();
    assert!(
        notices_after > notices_before,
        "the new subscriptions deliver"
    );
    env.assert_doctor_opens(&second.share_result, mask).await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_truncated_logs_stop_no_share_and_the_audit_says_so() {
    // Every log the nodes and the patient read is truncated after its first
    // line, so no event is readable: the DKG, a share and its wait run on
    // account state alone, and the audit names each transaction whose
    // events it cannot read instead of leaving it out.
    use std::sync::atomic::Ordering::SeqCst;
    let flaky = Flaky::default();
    flaky.truncate_logs.store(true, SeqCst);
    let f = flaky.clone();
    let env = NodesEnv::start_with_node_chain(options(2, 3), move |inner| {
        Arc::new(FlakyChain { inner, flaky: f })
    })
    .await;
    let truncated: SharedChain = Arc::new(FlakyChain {
        inner: env.chain.clone(),
        flaky: flaky.clone(),
    });
    let patient = medshare_client::user::Client::new(
        truncated.clone(),
        Keypair::try_from(env.patient.wallet.to_bytes().as_slice()).unwrap(),
        env.patient.key.clone(),
    );
    let record = env.store_sample().await;
    let mask = vitals_and_medications();
    let to = env.doctor_recipient().await;
    let ticket = patient
        .share(&record, mask, to)
        .await
        .expect("share request");
    medshare_tests::nodes_env::within(
        "a share with truncated logs",
        patient.wait(&ticket, share_timeout(), |_, _| {}),
    )
    .await
    .expect("completes");
    env.assert_doctor_opens(&ticket.share_result, mask).await;
    // The record's own transactions: created, its groups written, the share
    // request (its contributions and callback are found through the
    // request's event, which is what truncation hides).
    let history = env
        .history_when(&record, |h| {
            !events_in::<medshare::events::ShareRequested>(h).is_empty()
        })
        .await;
    let trail = medshare_tests::nodes_env::trail_until(truncated.as_ref(), &record, |t| {
        t.len() == history.len()
    })
    .await;
    assert_eq!(trail.len(), history.len(), "{trail:#?}");
    for (line, entry) in trail.iter().zip(&history) {
        assert_eq!(line.event, "LogsTruncated");
        assert_eq!(line.signature, entry.signature.to_string());
    }
    // The same audit with the logs whole has every event.
    flaky.truncate_logs.store(false, SeqCst);
    let whole = medshare_tests::nodes_env::trail_until(truncated.as_ref(), &record, |t| {
        t.iter().any(|e| e.event == "ShareCompleted")
    })
    .await;
    assert!(
        whole.iter().any(|e| e.event == "ShareCompleted"),
        "{whole:#?}"
    );
    assert!(whole.iter().all(|e| e.event != "LogsTruncated"));
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_react_to_events_without_polling() {
    // Nodes that read the whole chain only once an hour: after their first
    // read, the DKG and the share run on the events of the cluster's
    // transactions alone.
    let env = NodesEnv::start(mpc_node::cluster::ClusterOptions {
        poll: Duration::from_secs(3_600),
        ..options(2, 3)
    })
    .await;
    assert_eq!(env.cluster_account().await.status, ClusterStatus::Ready);
    let record = env.store_sample().await;
    let mask = vitals_and_medications();
    for _ in 0..3 {
        let ticket = env.share_to_doctor(&record, mask).await;
        env.wait_share(&ticket).await;
        env.assert_doctor_opens(&ticket.share_result, mask).await;
    }
    // A node counts its contribution once its send returns, which over RPC
    // can be a moment after another node's callback completed the share.
    poll_until(
        "the nodes' contribution counters to reach 6",
        share_timeout(),
        Duration::from_millis(10),
        || async { (env.contributions_metric() == 6).then_some(()) },
    )
    .await;
    for node in &env.cluster.nodes {
        assert_eq!(node.metrics.subscription_up.get(), 1);
        assert!(
            node.metrics.notices.get() >= 3,
            "at least the three requests"
        );
    }
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_tampered_key_store_refused() {
    let mut env = NodesEnv::start(options(2, 3)).await;
    let record = env.store_sample().await;
    let mask = vitals_and_medications();
    let t = env.share_to_doctor(&record, mask).await;
    env.wait_share(&t).await;

    env.stop(3).await;
    let path = env.cluster.nodes[2].key_store.clone();
    let text = std::fs::read_to_string(&path).expect("key store file");
    let mut file: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let transport_public = env.cluster_account().await.nodes[2].transport_key;
    assert!(!text.contains(&hex::encode(transport_public)));
    assert_eq!(file["kdf"], "argon2id");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "key store readable by its owner only");
    }

    // Flip one hex digit of the ciphertext: the node refuses to start.
    let ct = file["ciphertext"].as_str().expect("ciphertext").to_string();
    let i = ct.len() / 2;
    let flipped = if &ct[i..=i] == "0" { "1" } else { "0" };
    file["ciphertext"] = format!("{}{flipped}{}", &ct[..i], &ct[i + 1..]).into();
    let tampered = serde_json::to_string_pretty(&file).unwrap();
    std::fs::write(&path, &tampered).unwrap();
    match env.cluster.restart(3) {
        Err(mpc_node::cluster::ClusterError::KeyStore(e @ KeyStoreError::Undecryptable(_))) => {
            let KeyStoreError::Undecryptable(p) = &e else {
                unreachable!()
            };
            assert_eq!(p, &path);
            assert!(
                e.to_string().contains("cannot be decrypted"),
                "message: {e}"
            );
        }
        Err(other) => panic!("expected Undecryptable, got {other}"),
        Ok(()) => panic!("a tampered key store was accepted"),
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        tampered,
        "a refused key store is left as it is"
    );

    // The two remaining nodes still meet the threshold.
    let t2 = env.share_to_doctor(&record, mask).await;
    env.wait_share(&t2).await;
    let done = completed_event(&env, &t2.computation).await;
    assert!(!done.contributors.contains(&3));
    env.shutdown().await;
}

/// Opens a node's key store and builds the node, as `mpc-node run` does.
fn open_node(
    chain: &SharedChain,
    path: &std::path::Path,
    passphrase: &str,
    authority: Keypair,
    cfg: NodeConfig,
) -> Result<Node, NodeError> {
    let store = KeyStore::open(path, passphrase.to_string().into(), authority.pubkey())?;
    Node::new(
        chain.clone(),
        authority,
        store,
        cfg,
        Arc::new(Metrics::new()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_key_store_holds_no_secret_in_clear() {
    const PASS: &str = "correct horse battery staple";
    let _watchdog = Watchdog::arm(
        "test_nodes_key_store_holds_no_secret_in_clear",
        test_limit(),
    );
    let (chain, _embedded) = medshare_tests::cli_env::start_chain().await;
    let admin = Keypair::new();
    let authority = Keypair::new();
    for k in [&admin, &authority] {
        chain.airdrop(&k.pubkey(), 10_000_000_000).await.unwrap();
    }
    let cluster = medshare_sdk::admin::create_cluster(chain.as_ref(), &admin, 7, 1, 1, 300)
        .await
        .unwrap();
    medshare_sdk::admin::add_node(chain.as_ref(), &admin, &cluster, &authority.pubkey())
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!(
        "medshare-nodes-ks-{}-{cluster}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("node-1.json");
    let store = KeyStore::create(&path, PASS.to_string().into(), authority.pubkey()).unwrap();
    let transport_secret = hex::encode(store.secrets.transport);
    drop(store);

    // A real node runs the (1-of-1) DKG, saving its key share to the store.
    let mut cfg = NodeConfig::new(cluster);
    cfg.poll_interval = POLL;
    let node = open_node(&chain, &path, PASS, authority.insecure_clone(), cfg.clone()).unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(node.run(async move {
        let _ = rx.await;
    }));
    poll_until(
        "the 1-of-1 cluster to be ready",
        share_timeout(),
        Duration::from_millis(20),
        || async {
            medshare_sdk::chain::fetch::<medshare::state::Cluster>(chain.as_ref(), &cluster)
                .await
                .unwrap()
                .filter(|c| c.status == ClusterStatus::Ready)
        },
    )
    .await;
    let _ = stop.send(());
    task.await.unwrap().expect("node ran cleanly");

    // The secrets are in the file, but only encrypted.
    let store = KeyStore::open(&path, PASS.to_string().into(), authority.pubkey())
        .expect("right passphrase opens");
    assert_eq!(hex::encode(store.secrets.transport), transport_secret);
    assert_eq!(store.secrets.cluster, cluster.to_bytes());
    let share = store.secrets.key_share.clone().expect("key share saved");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains(&transport_secret),
        "transport secret in the clear"
    );
    assert!(
        !text.contains(&hex::encode(&share)),
        "key share in the clear"
    );
    assert!(!text.contains(PASS));
    assert!(!format!("{store:?}").contains(&transport_secret));
    drop(store);

    // Wrong passphrase, another node's authority, tampering: refused before any node exists.
    for (pass, who) in [
        ("wrong passphrase", authority.insecure_clone()),
        (PASS, Keypair::new()),
    ] {
        let err = open_node(&chain, &path, pass, who, cfg.clone()).unwrap_err();
        assert!(
            matches!(err, NodeError::KeyStore(KeyStoreError::Undecryptable(_))),
            "{err}"
        );
        assert!(err.is_fatal());
    }
    let mut file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ct = file["ciphertext"].as_str().unwrap().to_string();
    let flipped = if ct.ends_with('0') { "1" } else { "0" };
    file["ciphertext"] = format!("{}{flipped}", &ct[..ct.len() - 1]).into();
    std::fs::write(&path, file.to_string()).unwrap();
    let err = open_node(&chain, &path, PASS, authority.insecure_clone(), cfg).unwrap_err();
    assert!(matches!(
        err,
        NodeError::KeyStore(KeyStoreError::Undecryptable(_))
    ));
    assert!(err.to_string().contains("cannot be decrypted"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 10, F6: round-2 packages stay on-chain for good, so they are
/// encrypted to per-attempt ephemeral keys that each node erases once it
/// has confirmed. After the DKG, nothing a node keeps (its long-lived
/// transport secret included, were it to leak) opens any package addressed
/// to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_f6_leaked_transport_key_opens_no_round2_package() {
    let env = NodesEnv::start(options(2, 3)).await;
    let c = env.cluster_account().await;
    assert_eq!(c.status, ClusterStatus::Ready);
    let mut mailboxes = BTreeMap::new();
    for i in 1..=3u8 {
        let mb: medshare::state::DkgMailbox = medshare_sdk::chain::fetch(
            env.chain.as_ref(),
            &medshare::pda::dkg_mailbox(&env.address(), i),
        )
        .await
        .unwrap()
        .unwrap();
        assert_ne!(
            mb.ephemeral_key,
            c.nodes[i as usize - 1].transport_key,
            "round 2 used the long-lived key"
        );
        mailboxes.insert(i as u16, mb);
    }
    let params = encrypted_ixs::dkg::DkgParams {
        cluster: env.address().to_bytes(),
        threshold: 2,
        nodes: 3,
        attempt: c.dkg_attempt,
    };
    for me in 1..=3u16 {
        let store = env.cluster.key_store(me as usize).unwrap();
        assert!(store.secrets.key_share.is_some());
        assert!(
            store.secrets.dkg_round1.is_none() && store.secrets.dkg_round2.is_none(),
            "node {me} kept DKG secrets after confirming"
        );
        let peers: BTreeMap<_, _> = mailboxes
            .iter()
            .filter(|(j, _)| **j != me)
            .map(|(j, mb)| {
                (
                    encrypted_ixs::keys::NodeIndex::new(*j).unwrap(),
                    encrypted_ixs::dkg::Peer {
                        round1: mb.round1.clone(),
                        transport: encrypted_ixs::keys::TransportPublic(mb.ephemeral_key),
                    },
                )
            })
            .collect();
        let mut tried = 0;
        for mb in mailboxes.values() {
            for p in mb.round2.iter().filter(|p| p.to as u16 == me) {
                let pkg = encrypted_ixs::dkg::EncryptedRound2 {
                    from: mb.index as u16,
                    to: p.to as u16,
                    nonce: p.nonce,
                    ciphertext: p.ciphertext.clone(),
                };
                let opened = encrypted_ixs::dkg::open_round2(
                    &params,
                    encrypted_ixs::keys::NodeIndex::new(me).unwrap(),
                    &mailboxes[&me].round1,
                    &store.secrets.transport(),
                    &peers,
                    &pkg,
                );
                assert!(
                    matches!(
                        opened,
                        Err(encrypted_ixs::Error::DkgCulprit {
                            reason: "undecryptable round-2 package",
                            ..
                        })
                    ),
                    "node {me}'s long-lived key opened a package from {}",
                    mb.index
                );
                tried += 1;
            }
        }
        assert_eq!(tried, 2);
    }
}

/// Issue 10, F4: a node that receives a faulty round-2 package complains
/// publicly, revealing its key for the attempt; the attempt fails, and
/// anyone judging the complaint from the chain names the sender, not the
/// complainer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_f4_faulty_dkg_package_draws_a_public_complaint_naming_the_sender() {
    use encrypted_ixs::dkg::Verdict;
    use mpc_node::node::{judge_complaints, JudgedComplaint};
    let (chain, _embedded) = medshare_tests::cli_env::start_chain().await;
    let mut opts = options(2, 3);
    opts.behaviours = vec![
        Behaviour::Honest,
        Behaviour::Honest,
        Behaviour::CorruptDkgPackage,
    ];
    let err = match mpc_node::cluster::LocalCluster::start(chain.clone(), opts).await {
        Ok(_) => panic!("the DKG succeeded with a corrupt package"),
        Err(e) => e,
    };
    let mpc_node::cluster::ClusterError::DkgFailed(address) = err else {
        panic!("{err}");
    };
    let cluster: medshare::state::Cluster = medshare_sdk::chain::fetch(chain.as_ref(), &address)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cluster.status, ClusterStatus::Failed);
    // Node 3 corrupted its package to node 1: node 1 complained against 3,
    // and judging from the chain alone names node 3.
    assert_eq!(
        judge_complaints(chain.as_ref(), &address).await.unwrap(),
        vec![JudgedComplaint {
            complainer: 1,
            accused: 3,
            verdict: Verdict::SenderFaulty {
                reason: "undecryptable round-2 package"
            }
        }]
    );
}
