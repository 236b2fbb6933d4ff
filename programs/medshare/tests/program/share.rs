//! `share_patient_data`: who may queue what.

use crate::common::*;
use encrypted_ixs::keys::UserSecretKey;
use medshare::error::MedshareError;
use solana_program_test::BanksClientError;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;

#[tokio::test]
async fn test_share_by_non_owner() {
    let mut env = Env::new(41).await;
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    let p = patient(&mut env).await;
    let (record, _) = store_record(&mut env, &c, &p, 1, &[(0, b"x".as_slice())]).await;
    let mallory = env.funded().await;
    let k = UserSecretKey::generate(&mut env.rng)
        .public_key()
        .edwards()
        .unwrap();
    assert_err(
        env.send(
            &[share_ix(&mallory.pubkey(), &record, &c.address, 0, 1, k.0)],
            &[&mallory],
        )
        .await,
        MedshareError::NotOwner,
    );
}

#[tokio::test]
async fn test_share_invalid_recipient_key() {
    let mut env = Env::new(42).await;
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    let p = patient(&mut env).await;
    let (record, _) = store_record(&mut env, &c, &p, 1, &[(0, b"x".as_slice())]).await;
    let good = UserSecretKey::generate(&mut env.rng)
        .public_key()
        .edwards()
        .unwrap();
    let mut negated = good.0;
    negated[31] |= 0x80; // −R: a valid point but not the XEdDSA form
    let small_order = curve25519_dalek::constants::EIGHT_TORSION[1].compress().0;
    let mut identity = [0u8; 32];
    identity[0] = 1;
    for bad in [negated, small_order, identity, [0xff; 32]] {
        assert_err(
            env.send(
                &[share_ix(&p.wallet.pubkey(), &record, &c.address, 0, 1, bad)],
                &[&p.wallet],
            )
            .await,
            MedshareError::InvalidRecipientKey,
        );
    }
}

#[tokio::test]
async fn test_share_missing_or_invalid_group() {
    let mut env = Env::new(43).await;
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    let p = patient(&mut env).await;
    let (record, _) = store_record(&mut env, &c, &p, 1, &[(0, b"x".as_slice())]).await;
    let k = UserSecretKey::generate(&mut env.rng)
        .public_key()
        .edwards()
        .unwrap();
    assert_err(
        env.send(
            &[share_ix(
                &p.wallet.pubkey(),
                &record,
                &c.address,
                0,
                0b10,
                k.0,
            )],
            &[&p.wallet],
        )
        .await,
        MedshareError::GroupMissing,
    );
    // Group 7 is a valid number (documents) but not written; 0 is no group.
    for (mask, err) in [
        (0u8, MedshareError::InvalidGroup),
        (0b1000_0000, MedshareError::GroupMissing),
    ] {
        assert_err(share_mask(&mut env, &p, &record, &c, mask, k.0).await, err);
    }
}

/// The owner shares `mask` of `record` as the cluster's computation 0.
async fn share_mask(
    env: &mut Env,
    p: &Patient,
    record: &Pubkey,
    c: &SimCluster,
    mask: u8,
    recipient: [u8; 32],
) -> Result<Vec<String>, BanksClientError> {
    let ix = share_ix(&p.wallet.pubkey(), record, &c.address, 0, mask, recipient);
    env.send(&[ix], &[&p.wallet]).await
}

/// A record may have all 8 groups, but one share carries at most 5 (what a
/// node's contribution fits in one transaction): 6 are refused, 5 queue.
#[tokio::test]
async fn test_share_at_most_five_groups() {
    let mut env = Env::new(44).await;
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    let p = patient(&mut env).await;
    let all: Vec<(u8, &[u8])> = (0..8u8).map(|g| (g, b"x".as_slice())).collect();
    let (record, _) = store_record(&mut env, &c, &p, 1, &all).await;
    let k = UserSecretKey::generate(&mut env.rng)
        .public_key()
        .edwards()
        .unwrap();
    for mask in [0b1111_1111u8, 0b1110_0111] {
        assert_err(
            share_mask(&mut env, &p, &record, &c, mask, k.0).await,
            MedshareError::TooManyGroups,
        );
    }
    share_mask(&mut env, &p, &record, &c, 0b1110_0011, k.0)
        .await
        .unwrap();
    let share: medshare::state::ShareResult = env
        .account(medshare::pda::share_result(&medshare::pda::computation(
            &c.address, 0,
        )))
        .await;
    assert_eq!(share.groups, vec![0, 1, 5, 6, 7]);
}
