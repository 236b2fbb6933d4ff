//! End to end: a patient grants a doctor one hour of consent to two field
//! groups and goes offline; the doctor pulls, the cluster (real node tasks)
//! re-encrypts, the doctor decrypts; after revocation the next pull is
//! refused; the audit trail shows all of it, the refused pull included. On
//! the embedded chain, or the validator at `MEDSHARE_TEST_URL` (the test
//! that warps slots is skipped there, by name).

use std::time::Duration;

use encrypted_ixs::keys::UserSecretKey;
use medshare::state::Role;
use medshare_client::data::{parse_groups, PatientData};
use medshare_client::demo::sample_record;
use medshare_client::error::ClientError;
use medshare_client::user::audit;
use medshare_client::user::Client;
use medshare_sdk::chain::SharedChain;
use mpc_node::cluster::{ClusterOptions, LocalCluster};
use rand_core::OsRng;
use solana_sdk::signature::{Keypair, Signer};

async fn user(chain: &SharedChain) -> Client {
    let c = Client::new(
        chain.clone(),
        Keypair::new(),
        UserSecretKey::generate(&mut OsRng),
    );
    chain
        .airdrop(&c.wallet.pubkey(), 5_000_000_000)
        .await
        .unwrap();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_consent_pull_revoke_audit_end_to_end() {
    let (chain, _embedded) = medshare_tests::cli_env::start_chain().await;
    let lc = LocalCluster::start(
        chain.clone(),
        ClusterOptions {
            poll: Duration::from_millis(20),
            ..ClusterOptions::new(3, 5)
        },
    )
    .await
    .unwrap();
    let patient = user(&chain).await;
    let doctor = user(&chain).await;
    patient.register(Role::Patient).await.unwrap();
    doctor.register(Role::Doctor).await.unwrap();
    let data = sample_record();
    let (record, _) = patient.store_fields(&lc.address, 1, &data).await.unwrap();

    let mask = parse_groups("diagnoses,medications").unwrap();
    let now = medshare_sdk::chain::chain_time(chain.as_ref())
        .await
        .unwrap();
    patient
        .grant_consent(
            &record,
            &doctor.wallet.pubkey(),
            mask,
            "asthma review",
            now + 3600,
        )
        .await
        .unwrap();
    // The patient is offline from here until the revocation: only the
    // doctor and the nodes act.

    let ticket = doctor.request(&record, mask).await.unwrap();
    let result = doctor
        .wait(
            &ticket,
            medshare_tests::nodes_env::share_timeout(),
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(result.groups, vec![2, 3]);
    let opened = doctor.decrypt(&ticket.share_result).await.unwrap();
    assert_eq!(
        opened.contents.data,
        PatientData {
            diagnoses: data.diagnoses.clone(),
            medications: data.medications.clone(),
            allergies: data.allergies.clone(),
            ..Default::default()
        }
    );
    // Outside the consent's groups: refused.
    let err = doctor
        .request(&record, parse_groups("identity").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::Refused(m) if m == "requested groups are outside the consent"),
        "{err}"
    );

    patient
        .revoke_consent(&record, &doctor.wallet.pubkey())
        .await
        .unwrap();
    let err = doctor.request(&record, mask).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Refused(m) if m == "consent revoked"),
        "{err}"
    );
    assert_eq!(
        err.exit_code(),
        medshare_client::error::exit::NOT_AUTHORIZED
    );

    let count = |t: &[audit::AuditEvent], kind: &str| t.iter().filter(|e| e.event == kind).count();
    let trail = medshare_tests::nodes_env::trail_until(chain.as_ref(), &record, |t| {
        count(t, "ContributionAccepted") == 3 && count(t, "PullRefused") == 2
    })
    .await;
    let kinds: Vec<&str> = trail.iter().map(|e| e.event.as_str()).collect();
    for expected in [
        "RecordChanged",
        "ConsentChanged",
        "PullRequested",
        "ContributionAccepted",
        "ShareCompleted",
        "PullRefused",
    ] {
        assert!(
            kinds.contains(&expected),
            "{expected} missing from {kinds:?}"
        );
    }
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "ContributionAccepted")
            .count(),
        3
    );
    assert_eq!(kinds.iter().filter(|k| **k == "PullRefused").count(), 2);
    let revoked = trail
        .iter()
        .find(|e| e.event == "ConsentChanged" && e.detail.starts_with("consent revoked"));
    assert!(revoked.is_some(), "revocation missing: {trail:#?}");
    let refused = trail.iter().rfind(|e| e.event == "PullRefused").unwrap();
    assert_eq!(refused.actor, doctor.wallet.pubkey().to_string());
    assert!(
        refused.detail.ends_with("consent revoked"),
        "{}",
        refused.detail
    );
    // Granting the pull went through the consent: the listing shows its use.
    let consents = patient.consents(&record).await.unwrap();
    assert_eq!(consents.len(), 1);
    assert!(consents[0].1.revoked);
    assert_eq!(consents[0].1.uses, 1);
    lc.shutdown().await;
}

/// Waits (at most 20 s) until every node of `lc` has refused a request as
/// not authorized.
async fn every_node_refused(lc: &LocalCluster, what: &str) {
    let start = std::time::Instant::now();
    while lc
        .nodes
        .iter()
        .map(|n| n.metrics.unauthorized.get())
        .min()
        .unwrap_or(0)
        == 0
    {
        assert!(
            start.elapsed() < medshare_tests::nodes_env::share_timeout(),
            "{what}: nodes never checked the request"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_refuse_a_pull_revoked_before_they_saw_it() {
    if medshare_tests::cli_env::skip_unless_embedded(
        "test_nodes_refuse_a_pull_revoked_before_they_saw_it",
    ) {
        return;
    }
    let (chain, embedded) = medshare_tests::cli_env::start_chain().await;
    let embedded = embedded.expect("embedded");
    let mut lc = LocalCluster::start(
        chain.clone(),
        ClusterOptions {
            poll: Duration::from_millis(20),
            ttl_slots: 30,
            ..ClusterOptions::new(2, 3)
        },
    )
    .await
    .unwrap();
    let patient = user(&chain).await;
    let doctor = user(&chain).await;
    patient.register(Role::Patient).await.unwrap();
    doctor.register(Role::Doctor).await.unwrap();
    let (record, _) = patient
        .store_fields(&lc.address, 1, &sample_record())
        .await
        .unwrap();
    let mask = parse_groups("vitals").unwrap();
    let now = medshare_sdk::chain::chain_time(chain.as_ref())
        .await
        .unwrap();
    patient
        .grant_consent(
            &record,
            &doctor.wallet.pubkey(),
            mask,
            "one look",
            now + 3600,
        )
        .await
        .unwrap();
    // The nodes are down while the doctor pulls and the patient revokes.
    for i in 1..=3 {
        lc.stop(i).await;
    }
    let ticket = doctor.request(&record, mask).await.unwrap();
    patient
        .revoke_consent(&record, &doctor.wallet.pubkey())
        .await
        .unwrap();
    for i in 1..=3 {
        lc.restart(i).unwrap();
    }
    // Every node sees the computation, checks the consent, and refuses.
    every_node_refused(&lc, "revoked pull").await;
    let comp: medshare::state::Computation =
        medshare_sdk::chain::fetch(chain.as_ref(), &ticket.computation)
            .await
            .unwrap()
            .unwrap();
    assert!(
        comp.contributors.is_empty(),
        "a node contributed to a revoked pull"
    );
    // The request expires; the doctor gets the rent back by cancelling.
    embedded.warp_slots(40).await;
    let outcome = doctor
        .wait(&ticket, Duration::from_secs(5), |_, _| {})
        .await;
    assert!(
        matches!(outcome, Err(ClientError::Expired)),
        "the pull did not expire unfinished"
    );
    doctor.cancel(&ticket).await.unwrap();
    lc.shutdown().await;
}

/// What changes after a pull is requested, while every node is down.
#[derive(Clone, Copy, Debug)]
enum Change {
    /// The issuer revokes the doctor's registration (the record requires doctors).
    ProviderRevoked,
    /// The patient stores a new version of the record.
    NewVersion,
    /// The patient closes the record.
    RecordClosed,
}

/// Issue 10, A-02/A-03/A-04 at the nodes: a pull is requested while the
/// nodes are down, then `change` ends its authorization. Every node, when it
/// comes back, makes the program's access decision itself and contributes
/// nothing, so no contribution (accepted or refused) is ever published.
async fn nodes_refuse_after(change: Change) {
    let (chain, _embedded) = medshare_tests::cli_env::start_chain().await;
    let mut lc = LocalCluster::start(
        chain.clone(),
        ClusterOptions {
            poll: Duration::from_millis(20),
            ..ClusterOptions::new(2, 3)
        },
    )
    .await
    .unwrap();
    let patient = user(&chain).await;
    let doctor = user(&chain).await;
    patient.register(Role::Patient).await.unwrap();
    doctor.register(Role::Doctor).await.unwrap();
    let data = sample_record();
    let (record, _) = patient.store_fields(&lc.address, 1, &data).await.unwrap();
    let now = medshare_sdk::chain::chain_time(chain.as_ref())
        .await
        .unwrap();
    let issuer = Keypair::new();
    if let Change::ProviderRevoked = change {
        chain
            .airdrop(&issuer.pubkey(), 1_000_000_000)
            .await
            .unwrap();
        medshare_sdk::admin::appoint_issuer(
            chain.as_ref(),
            &lc.admin,
            &lc.address,
            &issuer.pubkey(),
        )
        .await
        .unwrap();
        medshare_sdk::admin::register_provider(
            chain.as_ref(),
            &issuer,
            &lc.address,
            medshare::instructions::RegisterProviderArgs {
                provider: doctor.wallet.pubkey(),
                role: medshare::state::ProviderRole::Doctor,
                license_hash: [7; 32],
                valid_from: now - 60,
                valid_until: now + 3600,
            },
        )
        .await
        .unwrap();
        patient
            .set_policy(&record, medshare::state::ProviderRole::Doctor.bit())
            .await
            .unwrap();
    }
    let mask = parse_groups("vitals").unwrap();
    patient
        .grant_consent(&record, &doctor.wallet.pubkey(), mask, "review", now + 3600)
        .await
        .unwrap();
    for i in 1..=3 {
        lc.stop(i).await;
    }
    let ticket = doctor.request(&record, mask).await.unwrap();
    match change {
        Change::ProviderRevoked => medshare_sdk::admin::revoke_provider(
            chain.as_ref(),
            &issuer,
            &lc.address,
            &doctor.wallet.pubkey(),
        )
        .await
        .unwrap(),
        Change::NewVersion => {
            let (_, version) = patient.store_fields(&lc.address, 1, &data).await.unwrap();
            assert_eq!(version, 2);
        }
        Change::RecordClosed => patient.close_record(&record).await.unwrap(),
    }
    for i in 1..=3 {
        lc.restart(i).unwrap();
    }
    every_node_refused(&lc, &format!("{change:?}")).await;
    let comp: medshare::state::Computation =
        medshare_sdk::chain::fetch(chain.as_ref(), &ticket.computation)
            .await
            .unwrap()
            .unwrap();
    assert!(
        comp.contributors.is_empty() && comp.faulty == 0,
        "{change:?}: a node contributed"
    );
    // Nothing was even attempted: the computation's history is the request alone.
    let history =
        medshare_tests::nodes_env::history_until(chain.as_ref(), &ticket.computation, |h| {
            !h.is_empty()
        })
        .await;
    assert_eq!(history.len(), 1, "{change:?}: {history:#?}");
    lc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_refuse_a_pull_after_the_provider_is_revoked() {
    nodes_refuse_after(Change::ProviderRevoked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_refuse_a_pull_of_a_superseded_version() {
    nodes_refuse_after(Change::NewVersion).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_nodes_refuse_a_pull_of_a_closed_record() {
    nodes_refuse_after(Change::RecordClosed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_squatted_provider_address_does_not_stall_shares() {
    let (chain, _embedded) = medshare_tests::cli_env::start_chain().await;
    let lc = LocalCluster::start(
        chain.clone(),
        ClusterOptions {
            poll: Duration::from_millis(20),
            ..ClusterOptions::new(2, 3)
        },
    )
    .await
    .unwrap();
    let patient = user(&chain).await;
    let doctor = user(&chain).await;
    patient.register(Role::Patient).await.unwrap();
    doctor.register(Role::Doctor).await.unwrap();
    let data = sample_record();
    let (record, _) = patient.store_fields(&lc.address, 1, &data).await.unwrap();
    // A stranger sends lamports to the doctor's (unregistered) provider address.
    let squatted = medshare::pda::provider(&lc.address, &doctor.wallet.pubkey());
    chain.airdrop(&squatted, 1_000_000).await.unwrap();
    let to = patient
        .resolve_recipient(&doctor.wallet.pubkey().to_string())
        .await
        .unwrap();
    let ticket = patient
        .share(&record, parse_groups("vitals").unwrap(), to)
        .await
        .unwrap();
    patient
        .wait(
            &ticket,
            medshare_tests::nodes_env::share_timeout(),
            |_, _| {},
        )
        .await
        .expect("the share completes");
    let opened = doctor.decrypt(&ticket.share_result).await.unwrap();
    assert_eq!(opened.contents.data.blood_type, data.blood_type);
    lc.shutdown().await;
}
