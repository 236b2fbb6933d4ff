//! A node that stops the DKG, replaced by the admin through the command
//! line, with real node tasks: the cluster gets its key with the honest
//! nodes and the newcomer, and serves a share.

use super::*;

/// Node 3 registers and then stays silent, so the DKG of a 2-of-3 cluster
/// never finishes (nodes 1 and 2 post round 1 and wait). The admin runs
/// `mpc-node cluster replace-node --index 3 <new authority>`; the new
/// operator's `run` registers it as node 3, the running nodes 1 and 2 take
/// part in the new attempt without a restart, and the cluster becomes
/// ready; a share then completes through it. Replacing a node of a ready
/// cluster is refused in one line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_node_cli_replaces_a_silent_node() {
    let _wd = Watchdog::arm("test_node_cli_replaces_a_silent_node", test_limit());
    let (chain, _embedded) = medshare_tests::cli_env::start_chain().await;
    let dir = Dir::new("replace");
    let mut authorities = vec![];
    for i in 1..=4 {
        authorities.push(init_node(&chain, &dir, i).await);
    }
    let (admin_file, cluster) = admin_cluster(&chain, &dir, &authorities[..3]).await;
    let cluster_s = cluster.to_string();
    let admin_cmd = |rest: &[&str]| -> Vec<String> {
        ["--keypair", admin_file.as_str(), "--cluster", &cluster_s]
            .iter()
            .chain(rest)
            .map(|s| s.to_string())
            .collect()
    };
    // Node 3 registers, then never runs.
    let register = node_args(&dir, 3, &["--cluster", &cluster_s, "register"]);
    assert_eq!(
        mpc_node(&chain, &register).await.unwrap().trim(),
        "registered as node 3"
    );
    let (stop, stopped) = watch::channel(false);
    let mut runs = vec![];
    for i in 1..=2 {
        runs.push(spawn_run(
            &chain,
            &dir,
            i,
            &cluster_s,
            vec![],
            stopped.clone(),
        ));
    }
    poll_until(
        "nodes 1 and 2 to post round 1 while node 3 is silent",
        share_timeout(),
        Duration::from_millis(20),
        || async {
            let c = cluster_account(&chain, &cluster).await;
            (c.status == ClusterStatus::Dkg
                && c.nodes[0].round1_posted
                && c.nodes[1].round1_posted
                && !c.nodes[2].round1_posted)
                .then_some(())
        },
    )
    .await;

    // The admin hands index 3 to the fourth operator.
    let newcomer = authorities[3];
    let replace = admin_cmd(&[
        "cluster",
        "replace-node",
        "--index",
        "3",
        &newcomer.to_string(),
    ]);
    let replace: Vec<&str> = replace.iter().map(String::as_str).collect();
    assert_eq!(
        mpc_node(&chain, &replace).await.unwrap().trim(),
        format!(
            "node 3 of {cluster} is now {newcomer}; once it registers, the nodes run the DKG again"
        )
    );
    let c = cluster_account(&chain, &cluster).await;
    assert_eq!(
        (c.status, c.nodes[2].authority, c.nodes[2].registered),
        (ClusterStatus::Registering, newcomer, false)
    );
    // The silent node's accounts are gone: it cannot even register again.
    assert_eq!(
        mpc_node(&chain, &register).await,
        Err(format!(
            "this authority is not a node of the cluster yet: ask the admin to add {}",
            authorities[2]
        ))
    );

    // The newcomer's `run` (its files are operator 4's) registers it as
    // node 3; nodes 1 and 2, still running, join the new attempt.
    runs.push(spawn_run(
        &chain,
        &dir,
        4,
        &cluster_s,
        vec![],
        stopped.clone(),
    ));
    let ready = poll_until(
        "the DKG to finish with the newcomer",
        share_timeout(),
        Duration::from_millis(20),
        || async {
            Some(cluster_account(&chain, &cluster).await)
                .filter(|c| c.status == ClusterStatus::Ready)
        },
    )
    .await;
    assert_eq!(ready.nodes[2].authority, newcomer);
    assert!(ready.nodes.iter().all(|n| n.agreed));
    assert_eq!(ready.dkg_attempt, 1);

    // The cluster serves: a patient shares with a doctor.
    let patient = funded_client(&chain).await;
    let doctor = funded_client(&chain).await;
    patient.register(Role::Patient).await.unwrap();
    doctor.register(Role::Doctor).await.unwrap();
    let (record, _) = patient
        .store_fields(&cluster, 1, &sample_record())
        .await
        .unwrap();
    let to = patient
        .resolve_recipient(&doctor.wallet.pubkey().to_string())
        .await
        .unwrap();
    let ticket = patient
        .share(&record, parse_groups("vitals").unwrap(), to)
        .await
        .unwrap();
    patient
        .wait(&ticket, share_timeout(), |_, _| {})
        .await
        .expect("share completes");
    assert_eq!(
        doctor.decrypt(&ticket.share_result).await.unwrap().groups,
        vec![1]
    );

    // A ready cluster's committee is not replaced this way.
    let again = admin_cmd(&[
        "cluster",
        "replace-node",
        "--index",
        "1",
        &Pubkey::new_unique().to_string(),
    ]);
    let again: Vec<&str> = again.iter().map(String::as_str).collect();
    assert_eq!(
        mpc_node(&chain, &again).await,
        Err(
            "refused by the MedShare program: cluster is not in the right state for this step"
                .into()
        )
    );

    stop.send(true).unwrap();
    for r in runs {
        assert_eq!(r.await.unwrap(), Ok(()));
    }
}
