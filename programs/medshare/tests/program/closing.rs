//! Every account type has an instruction that closes it and returns its
//! lamports to whoever paid: here the cluster, the nodes' mailboxes and
//! service records, issuers and providers (records, consents, identities,
//! computations and share results have theirs in their own modules).

use medshare::error::MedshareError;
use medshare::instructions::RegisterProviderArgs;
use medshare::state::*;
use solana_sdk::signature::Signer;

use crate::common::*;

#[tokio::test]
async fn test_retired_cluster_and_node_accounts_close_with_rent_back() {
    let mut env = Env::new(2310).await;
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    let admin = c.admin.pubkey();
    // A live cluster stays.
    assert_err(
        env.send(&[sdk::close_cluster(admin, c.address)], &[&c.admin])
            .await,
        MedshareError::WrongClusterStatus,
    );
    let node1 = &c.nodes[0].authority;
    assert_err(
        env.send(
            &[sdk::close_node_accounts(node1.pubkey(), c.address, 1)],
            &[node1],
        )
        .await,
        MedshareError::WrongClusterStatus,
    );
    env.send(&[sdk::retire_cluster(admin, c.address)], &[&c.admin])
        .await
        .unwrap();
    // Nobody closes another's accounts.
    let stranger = env.funded().await;
    assert_err(
        env.send(
            &[sdk::close_cluster(stranger.pubkey(), c.address)],
            &[&stranger],
        )
        .await,
        MedshareError::NotAdmin,
    );
    assert_err(
        env.send(
            &[sdk::close_node_accounts(node1.pubkey(), c.address, 2)],
            &[node1],
        )
        .await,
        MedshareError::NotClusterNode,
    );
    for (k, node) in c.nodes.iter().enumerate() {
        let i = k as u8 + 1;
        let mailbox = medshare::pda::dkg_mailbox(&c.address, i);
        let record = medshare::pda::node_record(&c.address, i);
        let held = env.lamports(mailbox).await + env.lamports(record).await;
        let before = env.lamports(node.authority.pubkey()).await;
        env.send(
            &[sdk::close_node_accounts(
                node.authority.pubkey(),
                c.address,
                i,
            )],
            &[&node.authority],
        )
        .await
        .unwrap();
        assert!(!env.exists(mailbox).await && !env.exists(record).await);
        assert_eq!(env.lamports(node.authority.pubkey()).await, before + held);
    }
    let held = env.lamports(c.address).await;
    let before = env.lamports(admin).await;
    env.send(&[sdk::close_cluster(admin, c.address)], &[&c.admin])
        .await
        .unwrap();
    assert!(!env.exists(c.address).await);
    assert_eq!(env.lamports(admin).await, before + held);
}

#[tokio::test]
async fn test_revoked_issuer_and_provider_entries_close_with_rent_back() {
    let mut env = Env::new(2311).await;
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    let admin = c.admin.pubkey();
    let issuer = env.funded().await;
    env.send(
        &[sdk::appoint_issuer(admin, c.address, issuer.pubkey())],
        &[&c.admin],
    )
    .await
    .unwrap();
    let doctor = env.funded().await;
    let (register, provider) = sdk::register_provider(
        issuer.pubkey(),
        c.address,
        RegisterProviderArgs {
            provider: doctor.pubkey(),
            role: ProviderRole::Doctor,
            license_hash: [1; 32],
            valid_from: 0,
            valid_until: i64::MAX,
        },
        None,
    );
    env.send(&[register], &[&issuer]).await.unwrap();
    let entry: Provider = env.account(provider).await;
    assert_eq!(entry.payer, issuer.pubkey());
    // Still verifying: stays. Only its payer closes it.
    let close_p = sdk::close_provider(issuer.pubkey(), c.address, doctor.pubkey());
    assert_err(
        env.send(std::slice::from_ref(&close_p), &[&issuer]).await,
        MedshareError::ProviderActive,
    );
    env.send(
        &[sdk::revoke_provider(
            issuer.pubkey(),
            c.address,
            doctor.pubkey(),
        )],
        &[&issuer],
    )
    .await
    .unwrap();
    let by_doctor = sdk::close_provider(doctor.pubkey(), c.address, doctor.pubkey());
    assert_err(
        env.send(&[by_doctor], &[&doctor]).await,
        MedshareError::NotIssuer,
    );
    let held = env.lamports(provider).await;
    let before = env.lamports(issuer.pubkey()).await;
    env.send(&[close_p], &[&issuer]).await.unwrap();
    assert!(!env.exists(provider).await);
    assert_eq!(env.lamports(issuer.pubkey()).await, before + held);

    // The issuer: active stays; revoked, the admin closes it.
    let issuer_account = medshare::pda::issuer(&c.address, &issuer.pubkey());
    let close_i = sdk::close_issuer(admin, c.address, issuer.pubkey());
    assert_err(
        env.send(std::slice::from_ref(&close_i), &[&c.admin]).await,
        MedshareError::IssuerActive,
    );
    env.send(
        &[sdk::revoke_issuer(admin, c.address, issuer.pubkey())],
        &[&c.admin],
    )
    .await
    .unwrap();
    let held = env.lamports(issuer_account).await;
    let before = env.lamports(admin).await;
    env.send(&[close_i], &[&c.admin]).await.unwrap();
    assert!(!env.exists(issuer_account).await);
    assert_eq!(env.lamports(admin).await, before + held);
}
