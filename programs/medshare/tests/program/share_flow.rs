//! The whole flow through the program: cluster, DKG, record, share,
//! contributions, callback, recipient opens.

use crate::common::*;
use encrypted_ixs::capsule::open;
use encrypted_ixs::keys::UserSecretKey;
use encrypted_ixs::record::open_group_with;
use medshare::events::{ShareCompleted, ShareRequested};
use medshare::state::*;
use solana_sdk::signature::Signer;

async fn happy_path(t: u8, n: u8, seed: u64) {
    let mut env = Env::new(seed).await;
    let c = ready_cluster(&mut env, 1, t, n).await;
    let p = patient(&mut env).await;
    let groups: [(u8, &[u8]); 3] = [
        (0, b"{\"patient_id\":\"P-1\",\"age\":42}"),
        (2, b"{\"diagnoses\":[\"J45.909\"]}"),
        (
            3,
            b"{\"medications\":[\"salbutamol\"],\"allergies\":[\"penicillin\"]}",
        ),
    ];
    let (record, sealed) = store_record(&mut env, &c, &p, 7, &groups).await;
    let rec: PatientRecord = env.account(record).await;
    assert_eq!(rec.groups.len(), 3);
    assert_eq!(rec.version, 1);

    let doctor = UserSecretKey::generate(&mut env.rng);
    let r = doctor.public_key().edwards().unwrap();
    let computation = medshare::pda::computation(&c.address, 0);
    let logs = env
        .send(
            &[share_ix(
                &p.wallet.pubkey(),
                &record,
                &c.address,
                0,
                0b1100,
                r.0,
            )],
            &[&p.wallet],
        )
        .await
        .unwrap();
    let requested = events::<ShareRequested>(&logs);
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0].computation, computation);
    assert_eq!(requested[0].group_mask, 0b1100);

    // The last t nodes contribute (any t would do).
    for i in (n - t + 1)..=n {
        let ixn = contribution_ix(&mut env, &c, i as usize, computation).await;
        env.send(&[ixn], &[&c.nodes[i as usize - 1].authority])
            .await
            .unwrap();
    }
    let comp: Computation = env.account(computation).await;
    assert_eq!(comp.contributors.len(), t as usize);
    assert_eq!(comp.faulty, 0);

    let requester_before = env.lamports(p.wallet.pubkey()).await;
    let cb = callback_ix(&mut env, &c, n as usize, computation).await;
    let logs = env
        .send(&[cb], &[&c.nodes[n as usize - 1].authority])
        .await
        .unwrap();
    assert!(!env.exists(computation).await, "computation closed");
    assert!(
        env.lamports(p.wallet.pubkey()).await > requester_before,
        "rent back"
    );
    let done = events::<ShareCompleted>(&logs);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].groups, vec![2, 3]);

    let result: ShareResult = env.account(medshare::pda::share_result(&computation)).await;
    assert!(result.completed);
    assert_eq!(result.groups, vec![2, 3]);
    assert_eq!(result.capsules, done[0].capsules);
    for (g, cap) in result.groups.iter().zip(&result.capsules) {
        let m = open(&(*cap).into(), &doctor).unwrap();
        let s = sealed.iter().find(|s| s.group == *g).unwrap();
        let plain =
            open_group_with(s, &m, &record_ctx(&p.wallet.pubkey(), &record, *g), 1).unwrap();
        let expected = groups.iter().find(|(x, _)| x == g).unwrap().1;
        assert_eq!(&plain[..], expected);
    }
    // The contributors' service records counted them.
    let mut total = 0;
    for i in 1..=n {
        let r: NodeRecord = env.account(medshare::pda::node_record(&c.address, i)).await;
        assert_eq!((r.cluster, r.index, r.faults), (c.address, i, 0));
        assert_eq!(r.node, c.nodes[i as usize - 1].authority.pubkey());
        total += r.contributions;
    }
    assert_eq!(total, t as u64);
}

#[tokio::test]
async fn test_share_flow_1_of_1() {
    happy_path(1, 1, 11).await;
}

#[tokio::test]
async fn test_share_flow_2_of_3() {
    happy_path(2, 3, 12).await;
}

#[tokio::test]
async fn test_share_flow_3_of_5() {
    happy_path(3, 5, 13).await;
}
