//! `close_share_result`: who may close a share result, when, and where the rent goes.

use crate::common::*;
use medshare::error::MedshareError;
use medshare::events::ShareClosed;
use medshare::state::*;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;

fn close_ix(
    closer: &Pubkey,
    share_result: &Pubkey,
    requester: &Pubkey,
    record: &Pubkey,
) -> Instruction {
    sdk::close_share_result(*closer, *share_result, *requester, *record)
}

/// A 2-of-3 share of the patient's record, finalized by node 1.
async fn completed(env: &mut Env) -> (Queued, Pubkey) {
    let q = queued(env, 2, 3).await;
    finalize(env, &q.cluster, q.computation, &[1, 2], 1).await;
    let share_result = medshare::pda::share_result(&q.computation);
    let r: ShareResult = env.account(share_result).await;
    assert!(r.completed);
    (q, share_result)
}

#[tokio::test]
async fn test_close_share_result_by_requester_returns_the_rent() {
    let mut env = Env::new(81).await;
    let (q, share_result) = completed(&mut env).await;
    let requester = q.patient.wallet.pubkey();
    let rent = env.lamports(share_result).await;
    assert!(rent > 0);
    let before = env.lamports(requester).await;
    let logs = env
        .send(
            &[close_ix(&requester, &share_result, &requester, &q.record)],
            &[&q.patient.wallet],
        )
        .await
        .expect("the requester closes a completed share");
    // The bank's payer paid the fee: the requester gets exactly the rent.
    assert_eq!(env.lamports(requester).await, before + rent);
    assert!(!env.exists(share_result).await);
    let ev = events::<ShareClosed>(&logs);
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].share_result, ev[0].record, ev[0].requester, ev[0].by),
        (share_result, q.record, requester, requester)
    );
    // Closing again: the account is gone (Anchor's AccountNotInitialized).
    assert_anchor_err(
        env.send(
            &[close_ix(&requester, &share_result, &requester, &q.record)],
            &[&q.patient.wallet],
        )
        .await,
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
}

#[tokio::test]
async fn test_close_share_result_refusals() {
    let mut env = Env::new(82).await;
    let q = queued(&mut env, 2, 3).await;
    let requester = q.patient.wallet.pubkey();
    let share_result = medshare::pda::share_result(&q.computation);

    // Pending: cancel it after expiry instead.
    assert_err(
        env.send(
            &[close_ix(&requester, &share_result, &requester, &q.record)],
            &[&q.patient.wallet],
        )
        .await,
        MedshareError::ShareNotCompleted,
    );
    finalize(&mut env, &q.cluster, q.computation, &[1, 3], 3).await;

    // A stranger (the share names no recipient wallet: only the requester may close).
    let stranger = env.funded().await;
    assert_err(
        env.send(
            &[close_ix(
                &stranger.pubkey(),
                &share_result,
                &requester,
                &q.record,
            )],
            &[&stranger],
        )
        .await,
        MedshareError::NotRequesterOrRecipient,
    );
    // The rent sent elsewhere.
    assert_err(
        env.send(
            &[close_ix(
                &requester,
                &share_result,
                &stranger.pubkey(),
                &q.record,
            )],
            &[&q.patient.wallet],
        )
        .await,
        MedshareError::NotRequester,
    );
    // Another record named for the audit trail.
    assert_err(
        env.send(
            &[close_ix(
                &requester,
                &share_result,
                &requester,
                &Pubkey::new_unique(),
            )],
            &[&q.patient.wallet],
        )
        .await,
        MedshareError::WrongRecord,
    );
    // Nothing was closed by any of these.
    let r: ShareResult = env.account(share_result).await;
    assert!(r.completed);
    assert_eq!(r.requester, requester);
}
