//! Account creation survives a stranger's lamports: every address the
//! program creates is computable by anyone, and a few lamports sent there
//! first once made the creating instruction fail for good. Here a stranger
//! pre-funds *every* address before the instruction that creates it
//! (`Env::prefund_new_accounts`), through the whole life of a cluster, a
//! record, shares, consents, the registry and a study; every instruction
//! still works, and every account type is among those pre-funded.

use encrypted_ixs::capsule::open;
use encrypted_ixs::keys::UserSecretKey;
use encrypted_ixs::record::open_group_with;
use medshare::instructions::{OpenStudyArgs, RegisterProviderArgs, ResearchConsentArgs};
use medshare::state::*;
use medshare_sdk::research::{
    partial_transactions, release_transaction, value_transactions, Field, StudyResults,
};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;

use crate::common::*;

/// The header of each pre-funded account as it stands now (all must be
/// program accounts holding the stranger's lamports plus their rent).
async fn headers_of_prefunded(env: &mut Env) -> Vec<[u8; 8]> {
    let mut out = vec![];
    for address in env.prefunded.clone().unwrap() {
        // Closed since (a completed computation): created, then its rent
        // and the stranger's lamports went back.
        let Some(acc) = env.ctx.banks_client.get_account(address).await.unwrap() else {
            continue;
        };
        assert_eq!(acc.owner, medshare::ID, "{address} still the stranger's");
        let rent = env.ctx.banks_client.get_rent().await.unwrap();
        assert!(acc.lamports >= rent.minimum_balance(acc.data.len()));
        out.push(acc.data[..8].try_into().unwrap());
    }
    out
}

#[tokio::test]
async fn test_every_created_account_survives_a_prefunded_address() {
    let mut env = Env::new(2301).await;
    env.prefund_new_accounts();
    // Cluster, mailboxes and node records, through a whole DKG.
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    // Identity and record.
    let p = patient(&mut env).await;
    let (record, sealed) = store_record(&mut env, &c, &p, 1, &[(0, b"{\"age\":47}")]).await;
    // An owner's share: computation and share result; the doctor opens it.
    let doctor = env.funded().await;
    let doctor_key = UserSecretKey::generate(&mut env.rng);
    let r = doctor_key.public_key().edwards().unwrap();
    env.send(
        &[share_ix(
            &p.wallet.pubkey(),
            &record,
            &c.address,
            0,
            0b1,
            r.0,
        )],
        &[&p.wallet],
    )
    .await
    .unwrap();
    let computation = medshare::pda::computation(&c.address, 0);
    finalize(&mut env, &c, computation, &[1, 2], 1).await;
    let result: ShareResult = env.account(medshare::pda::share_result(&computation)).await;
    assert!(result.completed);
    let m = open(&result.capsules[0].into(), &doctor_key).unwrap();
    let plain = open_group_with(
        &sealed[0],
        &m,
        &record_ctx(&p.wallet.pubkey(), &record, 0),
        1,
    )
    .unwrap();
    assert_eq!(&plain[..], b"{\"age\":47}");
    // Registry: an issuer appointed, a provider registered.
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
    let now = 1_900_000_000;
    let (register, provider) = sdk::register_provider(
        issuer.pubkey(),
        c.address,
        RegisterProviderArgs {
            provider: doctor.pubkey(),
            role: ProviderRole::Doctor,
            license_hash: [7; 32],
            valid_from: 0,
            valid_until: now * 2,
        },
        None,
    );
    env.send(&[register], &[&issuer]).await.unwrap();
    let entry: Provider = env.account(provider).await;
    assert_eq!(entry.provider, doctor.pubkey());
    // A consent, then the doctor's pull under it.
    let grant = sdk::grant_consent(
        p.wallet.pubkey(),
        record,
        doctor.pubkey(),
        medshare::instructions::ConsentArgs {
            group_mask: 0b1,
            purpose: "follow-up".into(),
            expires_at: i64::MAX,
        },
        None,
    );
    env.send(&[grant], &[&p.wallet]).await.unwrap();
    let args = medshare::instructions::IdentityArgs {
        encryption_key: r.0,
        role: Role::Doctor,
    };
    env.send(&[sdk::register_identity(doctor.pubkey(), args)], &[&doctor])
        .await
        .unwrap();
    let (pull, _, _) = sdk::request_share(doctor.pubkey(), record, c.address, 1, 0b1, None);
    env.send(&[pull], &[&doctor]).await.unwrap();
    let pulled: Computation = env.account(medshare::pda::computation(&c.address, 1)).await;
    assert_eq!(pulled.requester, doctor.pubkey());

    // Research: ten consents and values, a study, memberships, partials.
    let age = Field::parse("age").unwrap();
    let researcher = env.funded().await;
    let (open_ix, study) = sdk::open_study(
        researcher.pubkey(),
        c.address,
        0,
        None,
        OpenStudyArgs {
            purpose: "prefunded".into(),
            field: age.id,
            bits: age.bits,
            bucket_bits: age.bucket_bits,
            min_cohort: medshare::constants::MIN_COHORT,
            closes_at: i64::MAX,
            epsilon_milli: 0,
        },
    );
    env.send(&[open_ix], &[&researcher]).await.unwrap();
    let mut total = 0;
    for k in 0..medshare::constants::MIN_COHORT as u64 {
        let member = patient(&mut env).await;
        let (rec, _) = store_record(&mut env, &c, &member, 1, &[(0, b"{}")]).await;
        let consent = sdk::grant_research_consent(
            member.wallet.pubkey(),
            rec,
            ResearchConsentArgs {
                purpose: "prefunded".into(),
                researcher: Pubkey::default(),
                fields: vec![age.id],
                expires_at: i64::MAX,
                epsilon_budget_milli: 0,
                exact: true,
            },
        );
        env.send(&[consent], &[&member.wallet]).await.unwrap();
        let value = 30 + k;
        total += value;
        let txs = value_transactions(
            &mut env.rng,
            member.wallet.pubkey(),
            rec,
            c.address,
            &c.key(),
            &age,
            value,
        )
        .unwrap();
        for tx in txs {
            env.send(&tx, &[&member.wallet]).await.unwrap();
        }
        let join = sdk::join_study(researcher.pubkey(), study, &age.id, rec, None);
        env.send(&[join], &[&researcher]).await.unwrap();
    }
    env.send(
        &[sdk::close_study(researcher.pubkey(), c.address, study)],
        &[&researcher],
    )
    .await
    .unwrap();
    for i in [1usize, 2] {
        let s: Study = env.account(study).await;
        let node = &c.nodes[i - 1];
        let txs = partial_transactions(
            &mut env.rng,
            node.authority.pubkey(),
            node.share.as_ref().unwrap(),
            c.address,
            study,
            &s,
            0,
        )
        .unwrap();
        for tx in txs {
            env.send(&tx, &[&node.authority]).await.unwrap();
        }
    }
    let payer = env.funded().await;
    let tx = release_transaction(payer.pubkey(), c.address, study, None, &[1, 2]).unwrap();
    env.send(&tx, &[&payer]).await.unwrap();
    let s: Study = env.account(study).await;
    let results = StudyResults::of(&s).unwrap();
    assert_eq!(results.count, medshare::constants::MIN_COHORT as u64);
    assert_eq!(results.sum, total as i128);

    // Every account type was created at a pre-funded address.
    let headers = headers_of_prefunded(&mut env).await;
    for h in medshare::state::layout::ALL {
        assert!(
            headers.contains(&h),
            "no pre-funded {:?} account was created",
            String::from_utf8_lossy(&h[..7])
        );
    }
}
