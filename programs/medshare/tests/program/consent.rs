//! Consent, pull requests, the provider registry and record policies.

use crate::common::*;
use encrypted_ixs::capsule::open;
use encrypted_ixs::keys::UserSecretKey;
use encrypted_ixs::record::open_group_with;
use medshare::error::MedshareError;
use medshare::events::{ConsentChanged, PullRefused, ShareRequested};
use medshare::state::*;
use solana_sdk::clock::Clock;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

const HOUR: i64 = 3600;

struct World {
    env: Env,
    c: SimCluster,
    patient: Patient,
    record: Pubkey,
    sealed: Vec<encrypted_ixs::record::SealedGroup>,
    doctor: Keypair,
    doctor_key: UserSecretKey,
    now: i64,
}

async fn set_time(env: &mut Env, unix: i64) {
    let mut clock: Clock = env.ctx.banks_client.get_sysvar().await.unwrap();
    clock.unix_timestamp = unix;
    env.ctx.set_sysvar(&clock);
}

async fn register(env: &mut Env, who: &Keypair, key: &UserSecretKey, role: Role) {
    env.send(
        &[sdk::register_identity(
            who.pubkey(),
            medshare::instructions::IdentityArgs {
                encryption_key: key.public_key().edwards().unwrap().0,
                role,
            },
        )],
        &[who],
    )
    .await
    .unwrap();
}

async fn world(seed: u64) -> World {
    let mut env = Env::new(seed).await;
    let c = ready_cluster(&mut env, 1, 2, 3).await;
    let patient = patient(&mut env).await;
    let (record, sealed) = store_record(
        &mut env,
        &c,
        &patient,
        1,
        &[
            (0, b"{\"age\":42}".as_slice()),
            (1, b"{\"blood_type\":\"O+\"}".as_slice()),
            (2, b"{\"diagnoses\":[\"J45\"]}".as_slice()),
        ],
    )
    .await;
    let doctor = env.funded().await;
    let doctor_key = UserSecretKey::generate(&mut env.rng);
    register(&mut env, &doctor, &doctor_key, Role::Doctor).await;
    let now = 1_900_000_000;
    set_time(&mut env, now).await;
    World {
        env,
        c,
        patient,
        record,
        sealed,
        doctor,
        doctor_key,
        now,
    }
}

fn grant_ix(
    w: &World,
    grantee: &Pubkey,
    mask: u8,
    expires_at: i64,
    registry: Option<(Pubkey, Pubkey)>,
) -> Instruction {
    sdk::grant_consent(
        w.patient.wallet.pubkey(),
        w.record,
        *grantee,
        medshare::instructions::ConsentArgs {
            group_mask: mask,
            purpose: "asthma follow-up".into(),
            expires_at,
        },
        registry,
    )
}

fn change_ix(w: &World, grantee: &Pubkey, args: Option<(u8, i64)>) -> Instruction {
    match args {
        Some((mask, expires_at)) => sdk::modify_consent(
            w.patient.wallet.pubkey(),
            w.record,
            *grantee,
            medshare::instructions::ConsentArgs {
                group_mask: mask,
                purpose: "narrowed".into(),
                expires_at,
            },
        ),
        None => revoke_ix(w, grantee),
    }
}

/// `revoke_consent` of `grantee`'s consent to the world's record.
fn revoke_ix(w: &World, grantee: &Pubkey) -> Instruction {
    sdk::revoke_consent(w.patient.wallet.pubkey(), w.record, *grantee)
}

/// `close_consent` of `grantee`'s consent to the world's record.
fn close_consent_ix(w: &World, grantee: &Pubkey) -> Instruction {
    sdk::close_consent(w.patient.wallet.pubkey(), w.record, *grantee)
}

async fn request_ix(
    w: &mut World,
    who: &Pubkey,
    mask: u8,
    registry: Option<(Pubkey, Pubkey)>,
) -> Instruction {
    let cluster: Cluster = w.env.account(w.c.address).await;
    let id = cluster.next_computation;
    sdk::request_share(*who, w.record, w.c.address, id, mask, registry).0
}

/// Sends a pull; returns the refusal reason, if refused.
async fn pull(
    w: &mut World,
    who: &Keypair,
    mask: u8,
    registry: Option<(Pubkey, Pubkey)>,
) -> Option<u32> {
    let ixn = request_ix(w, &who.pubkey(), mask, registry).await;
    let logs = w
        .env
        .send(&[ixn], &[who])
        .await
        .expect("a pull never fails: refusals are recorded");
    let refused = events::<PullRefused>(&logs);
    if let Some(r) = refused.first() {
        assert_eq!(r.requester, who.pubkey());
        assert_eq!(r.group_mask, mask);
        return Some(r.reason);
    }
    assert_eq!(events::<ShareRequested>(&logs).len(), 1);
    None
}

#[tokio::test]
async fn test_consent_pull_then_decrypt() {
    let mut w = world(71).await;
    let doctor = w.doctor.pubkey();
    let logs = w
        .env
        .send(
            &[grant_ix(&w, &doctor, 0b011, w.now + HOUR, None)],
            &[&w.patient.wallet],
        )
        .await
        .unwrap();
    assert_eq!(
        events::<ConsentChanged>(&logs)[0].kind,
        medshare::events::ConsentChange::Granted
    );
    // The patient is offline from here on: the doctor pulls.
    let d = w.doctor.insecure_clone();
    assert_eq!(pull(&mut w, &d, 0b011, None).await, None);
    let computation = medshare::pda::computation(&w.c.address, 0);
    let comp: Computation = w.env.account(computation).await;
    assert_eq!(comp.requester, doctor);
    assert_eq!(comp.consent, medshare::pda::consent(&w.record, &doctor));
    assert_eq!(
        comp.recipient,
        w.doctor_key.public_key().edwards().unwrap().0
    );
    contribute(&mut w.env, &w.c, 1, computation).await.unwrap();
    contribute(&mut w.env, &w.c, 3, computation).await.unwrap();
    let mut cb = callback_ix(&mut w.env, &w.c, 1, computation).await;
    // Without the consent account the callback is refused.
    assert_err(
        w.env
            .send(std::slice::from_ref(&cb), &[&w.c.nodes[0].authority])
            .await,
        MedshareError::ConsentMissing,
    );
    cb.accounts[5].pubkey = comp.consent;
    w.env.send(&[cb], &[&w.c.nodes[0].authority]).await.unwrap();
    let result: ShareResult = w
        .env
        .account(medshare::pda::share_result(&computation))
        .await;
    for (g, cap) in result.groups.iter().zip(&result.capsules) {
        let m = open(&(*cap).into(), &w.doctor_key).unwrap();
        let s = w.sealed.iter().find(|s| s.group == *g).unwrap();
        open_group_with(
            s,
            &m,
            &record_ctx(&w.patient.wallet.pubkey(), &w.record, *g),
            1,
        )
        .unwrap();
    }
    let consent: Consent = w.env.account(comp.consent).await;
    assert_eq!(consent.uses, 1);
}

#[tokio::test]
async fn test_consent_expiry_exactly_at_the_boundary() {
    let mut w = world(72).await;
    let doctor = w.doctor.pubkey();
    let end = w.now + HOUR;
    w.env
        .send(
            &[grant_ix(&w, &doctor, 0b001, end, None)],
            &[&w.patient.wallet],
        )
        .await
        .unwrap();
    let d = w.doctor.insecure_clone();
    set_time(&mut w.env, end - 1).await;
    assert_eq!(pull(&mut w, &d, 0b001, None).await, None);
    set_time(&mut w.env, end).await;
    assert_eq!(
        pull(&mut w, &d, 0b001, None).await,
        Some(code(MedshareError::ConsentExpired))
    );
    let rec: PatientRecord = w.env.account(w.record).await;
    assert_eq!(rec.refused_pulls, 1);
}

#[tokio::test]
async fn test_consent_revoke_then_request() {
    let mut w = world(73).await;
    let doctor = w.doctor.pubkey();
    w.env
        .send(
            &[grant_ix(&w, &doctor, 0b011, w.now + HOUR, None)],
            &[&w.patient.wallet],
        )
        .await
        .unwrap();
    let logs = w
        .env
        .send(&[change_ix(&w, &doctor, None)], &[&w.patient.wallet])
        .await
        .unwrap();
    assert_eq!(
        events::<ConsentChanged>(&logs)[0].kind,
        medshare::events::ConsentChange::Revoked
    );
    let d = w.doctor.insecure_clone();
    assert_eq!(
        pull(&mut w, &d, 0b011, None).await,
        Some(code(MedshareError::ConsentRevoked))
    );
    // Revoking twice is an error; granting again works.
    assert_err(
        w.env
            .send(&[change_ix(&w, &doctor, None)], &[&w.patient.wallet])
            .await,
        MedshareError::ConsentRevoked,
    );
    w.env
        .send(
            &[grant_ix(&w, &doctor, 0b011, w.now + HOUR, None)],
            &[&w.patient.wallet],
        )
        .await
        .unwrap();
    assert_err(
        w.env
            .send(
                &[grant_ix(&w, &doctor, 0b011, w.now + HOUR, None)],
                &[&w.patient.wallet],
            )
            .await,
        MedshareError::ConsentExists,
    );
    assert_eq!(pull(&mut w, &d, 0b011, None).await, None);
}

#[tokio::test]
async fn test_consent_for_group_a_used_for_group_b() {
    let mut w = world(74).await;
    let doctor = w.doctor.pubkey();
    w.env
        .send(
            &[grant_ix(&w, &doctor, 0b001, w.now + HOUR, None)],
            &[&w.patient.wallet],
        )
        .await
        .unwrap();
    let d = w.doctor.insecure_clone();
    assert_eq!(
        pull(&mut w, &d, 0b100, None).await,
        Some(code(MedshareError::ConsentScope))
    );
    assert_eq!(
        pull(&mut w, &d, 0b101, None).await,
        Some(code(MedshareError::ConsentScope))
    );
}

#[tokio::test]
async fn test_pull_without_consent() {
    let mut w = world(75).await;
    let stranger = w.env.funded().await;
    let key = UserSecretKey::generate(&mut w.env.rng);
    register(&mut w.env, &stranger, &key, Role::Researcher).await;
    assert_eq!(
        pull(&mut w, &stranger, 0b001, None).await,
        Some(code(MedshareError::ConsentMissing))
    );
    let rec: PatientRecord = w.env.account(w.record).await;
    assert_eq!(rec.refused_pulls, 1);
    // Nothing was queued.
    assert!(
        !w.env
            .exists(medshare::pda::computation(&w.c.address, 0))
            .await
    );
}

#[tokio::test]
async fn test_consent_modification_narrows_scope() {
    let mut w = world(76).await;
    let doctor = w.doctor.pubkey();
    w.env
        .send(
            &[grant_ix(&w, &doctor, 0b011, w.now + HOUR, None)],
            &[&w.patient.wallet],
        )
        .await
        .unwrap();
    let d = w.doctor.insecure_clone();
    assert_eq!(pull(&mut w, &d, 0b011, None).await, None);
    let computation = medshare::pda::computation(&w.c.address, 0);
    contribute(&mut w.env, &w.c, 2, computation).await.unwrap();
    contribute(&mut w.env, &w.c, 3, computation).await.unwrap();
    // The patient narrows the consent to group 0 before the callback.
    let logs = w
        .env
        .send(
            &[change_ix(&w, &doctor, Some((0b001, w.now + HOUR)))],
            &[&w.patient.wallet],
        )
        .await
        .unwrap();
    assert_eq!(
        events::<ConsentChanged>(&logs)[0].kind,
        medshare::events::ConsentChange::Modified
    );
    let mut cb = callback_ix(&mut w.env, &w.c, 2, computation).await;
    cb.accounts[5].pubkey = medshare::pda::consent(&w.record, &doctor);
    assert_err(
        w.env.send(&[cb], &[&w.c.nodes[1].authority]).await,
        MedshareError::ConsentScope,
    );
    assert_eq!(
        pull(&mut w, &d, 0b011, None).await,
        Some(code(MedshareError::ConsentScope))
    );
    assert_eq!(pull(&mut w, &d, 0b001, None).await, None);
    // Modifying with an end time in the past is refused.
    assert_err(
        w.env
            .send(
                &[change_ix(&w, &doctor, Some((0b001, w.now - 1)))],
                &[&w.patient.wallet],
            )
            .await,
        MedshareError::InvalidValidity,
    );
}

#[tokio::test]
async fn test_revocation_stops_a_pending_pull() {
    let mut w = world(77).await;
    let doctor = w.doctor.pubkey();
    w.env
        .send(
            &[grant_ix(&w, &doctor, 0b010, w.now + HOUR, None)],
            &[&w.patient.wallet],
        )
        .await
        .unwrap();
    let d = w.doctor.insecure_clone();
    assert_eq!(pull(&mut w, &d, 0b010, None).await, None);
    let computation = medshare::pda::computation(&w.c.address, 0);
    contribute(&mut w.env, &w.c, 1, computation).await.unwrap();
    contribute(&mut w.env, &w.c, 2, computation).await.unwrap();
    w.env
        .send(&[change_ix(&w, &doctor, None)], &[&w.patient.wallet])
        .await
        .unwrap();
    let mut cb = callback_ix(&mut w.env, &w.c, 1, computation).await;
    cb.accounts[5].pubkey = medshare::pda::consent(&w.record, &doctor);
    assert_err(
        w.env.send(&[cb], &[&w.c.nodes[0].authority]).await,
        MedshareError::ConsentRevoked,
    );
}

/// `revoke_provider` of wallet `provider`'s entry in the world's cluster,
/// signed by `issuer`.
fn revoke_provider_ix(w: &World, issuer: &Keypair, provider: &Pubkey) -> Instruction {
    sdk::revoke_provider(issuer.pubkey(), w.c.address, *provider)
}

struct Registry {
    issuer: Keypair,
    issuer_account: Pubkey,
}

async fn appoint(w: &mut World) -> Registry {
    let issuer = w.env.funded().await;
    let issuer_account = medshare::pda::issuer(&w.c.address, &issuer.pubkey());
    let admin = w.c.admin.insecure_clone();
    w.env
        .send(
            &[sdk::appoint_issuer(
                admin.pubkey(),
                w.c.address,
                issuer.pubkey(),
            )],
            &[&admin],
        )
        .await
        .unwrap();
    Registry {
        issuer,
        issuer_account,
    }
}

async fn register_provider(
    w: &mut World,
    reg: &Registry,
    who: &Pubkey,
    role: ProviderRole,
    until: i64,
) -> Pubkey {
    try_register_provider(w, reg, who, role, until, None)
        .await
        .unwrap();
    medshare::pda::provider(&w.c.address, who)
}

/// `register_provider` by `reg`, naming `previous_issuer`'s entry when
/// replacing an entry of another issuer.
async fn try_register_provider(
    w: &mut World,
    reg: &Registry,
    who: &Pubkey,
    role: ProviderRole,
    until: i64,
    previous_issuer: Option<&Registry>,
) -> Result<Vec<String>, solana_program_test::BanksClientError> {
    let (register, _) = sdk::register_provider(
        reg.issuer.pubkey(),
        w.c.address,
        medshare::instructions::RegisterProviderArgs {
            provider: *who,
            role,
            license_hash: [7; 32],
            valid_from: w.now - HOUR,
            valid_until: until,
        },
        previous_issuer.map(|r| r.issuer.pubkey()),
    );
    w.env.send(&[register], &[&reg.issuer]).await
}

async fn require_roles(w: &mut World, mask: u8) {
    let owner = w.patient.wallet.insecure_clone();
    w.env
        .send(
            &[sdk::set_record_policy(owner.pubkey(), w.record, mask)],
            &[&owner],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn test_unverified_provider_when_patient_requires_verified() {
    let mut w = world(78).await;
    require_roles(&mut w, ProviderRole::Doctor.bit()).await;
    let doctor = w.doctor.pubkey();
    assert_err(
        w.env
            .send(
                &[grant_ix(&w, &doctor, 0b001, w.now + HOUR, None)],
                &[&w.patient.wallet],
            )
            .await,
        MedshareError::ProviderNotVerified,
    );
    // An owner's push share to an unverified key is refused too.
    let r = w.doctor_key.public_key().edwards().unwrap();
    assert_err(
        w.env
            .send(
                &[share_ix(
                    &w.patient.wallet.pubkey(),
                    &w.record,
                    &w.c.address,
                    0,
                    1,
                    r.0,
                )],
                &[&w.patient.wallet],
            )
            .await,
        MedshareError::ProviderNotVerified,
    );
    // Once registered by an appointed issuer, the doctor qualifies.
    let reg = appoint(&mut w).await;
    let until = w.now + 10 * HOUR;
    let p = register_provider(&mut w, &reg, &doctor, ProviderRole::Doctor, until).await;
    w.env
        .send(
            &[grant_ix(
                &w,
                &doctor,
                0b001,
                w.now + HOUR,
                Some((p, reg.issuer_account)),
            )],
            &[&w.patient.wallet],
        )
        .await
        .unwrap();
    let d = w.doctor.insecure_clone();
    assert_eq!(
        pull(&mut w, &d, 0b001, None).await,
        Some(code(MedshareError::ProviderNotVerified))
    );
    assert_eq!(
        pull(&mut w, &d, 0b001, Some((p, reg.issuer_account))).await,
        None
    );
}

#[tokio::test]
async fn test_provider_role_not_allowed() {
    let mut w = world(79).await;
    require_roles(&mut w, ProviderRole::Doctor.bit()).await;
    let reg = appoint(&mut w).await;
    let insurer = w.doctor.pubkey();
    let until = w.now + HOUR;
    let p = register_provider(&mut w, &reg, &insurer, ProviderRole::Insurer, until).await;
    assert_err(
        w.env
            .send(
                &[grant_ix(
                    &w,
                    &insurer,
                    0b001,
                    w.now + HOUR,
                    Some((p, reg.issuer_account)),
                )],
                &[&w.patient.wallet],
            )
            .await,
        MedshareError::ProviderRoleNotAllowed,
    );
}

#[tokio::test]
async fn test_issuer_revoked_and_provider_revoked_or_expired() {
    let mut w = world(80).await;
    require_roles(
        &mut w,
        ProviderRole::Doctor.bit() | ProviderRole::Hospital.bit(),
    )
    .await;
    let reg = appoint(&mut w).await;
    let doctor = w.doctor.pubkey();
    let until = w.now + 2 * HOUR;
    let p = register_provider(&mut w, &reg, &doctor, ProviderRole::Doctor, until).await;
    let registry = Some((p, reg.issuer_account));
    w.env
        .send(
            &[grant_ix(&w, &doctor, 0b001, w.now + 5 * HOUR, registry)],
            &[&w.patient.wallet],
        )
        .await
        .unwrap();
    let d = w.doctor.insecure_clone();
    assert_eq!(pull(&mut w, &d, 0b001, registry).await, None);
    // The provider's validity ends (consent still runs).
    set_time(&mut w.env, until).await;
    assert_eq!(
        pull(&mut w, &d, 0b001, registry).await,
        Some(code(MedshareError::ProviderExpired))
    );
    set_time(&mut w.env, w.now).await;
    // The issuer is revoked by the admin.
    let admin = w.c.admin.insecure_clone();
    w.env
        .send(
            &[sdk::revoke_issuer(
                admin.pubkey(),
                w.c.address,
                reg.issuer.pubkey(),
            )],
            &[&admin],
        )
        .await
        .unwrap();
    assert_eq!(
        pull(&mut w, &d, 0b001, registry).await,
        Some(code(MedshareError::IssuerRevoked))
    );
    // A revoked issuer can no longer register providers.
    let other = Pubkey::new_unique();
    let res = w
        .env
        .send(
            &[sdk::register_provider(
                reg.issuer.pubkey(),
                w.c.address,
                medshare::instructions::RegisterProviderArgs {
                    provider: other,
                    role: ProviderRole::Doctor,
                    license_hash: [1; 32],
                    valid_from: w.now,
                    valid_until: w.now + 1,
                },
                None,
            )
            .0],
            &[&reg.issuer],
        )
        .await;
    assert_err(res, MedshareError::NotIssuer);
}

/// A record that requires verified doctors, an issuer, the world's doctor
/// registered by it for an hour, and a consent to the doctor for group 0;
/// returns the world, the issuer and the doctor's provider entry.
async fn verified_doctor_with_consent(seed: u64) -> (World, Registry, Pubkey) {
    let mut w = world(seed).await;
    require_roles(&mut w, ProviderRole::Doctor.bit()).await;
    let reg = appoint(&mut w).await;
    let doctor = w.doctor.pubkey();
    let until = w.now + HOUR;
    let p = register_provider(&mut w, &reg, &doctor, ProviderRole::Doctor, until).await;
    let registry = Some((p, reg.issuer_account));
    w.env
        .send(
            &[grant_ix(&w, &doctor, 0b001, w.now + HOUR, registry)],
            &[&w.patient.wallet],
        )
        .await
        .unwrap();
    (w, reg, p)
}

#[tokio::test]
async fn test_provider_revoked_by_issuer() {
    let (mut w, reg, p) = verified_doctor_with_consent(81).await;
    let registry = Some((p, reg.issuer_account));
    // Only the issuer that registered it may revoke it.
    let mallory = w.env.funded().await;
    assert_err(
        w.env
            .send(
                &[revoke_provider_ix(&w, &mallory, &w.doctor.pubkey())],
                &[&mallory],
            )
            .await,
        MedshareError::NotIssuer,
    );
    w.env
        .send(
            &[revoke_provider_ix(&w, &reg.issuer, &w.doctor.pubkey())],
            &[&reg.issuer],
        )
        .await
        .unwrap();
    let d = w.doctor.insecure_clone();
    assert_eq!(
        pull(&mut w, &d, 0b001, registry).await,
        Some(code(MedshareError::ProviderRevoked))
    );
}

#[tokio::test]
async fn test_callback_checks_the_provider_policy_again() {
    let (mut w, reg, p) = verified_doctor_with_consent(83).await;
    let doctor = w.doctor.pubkey();
    let registry = Some((p, reg.issuer_account));
    let d = w.doctor.insecure_clone();
    assert_eq!(pull(&mut w, &d, 0b001, registry).await, None);
    let computation = medshare::pda::computation(&w.c.address, 0);
    contribute(&mut w.env, &w.c, 1, computation).await.unwrap();
    contribute(&mut w.env, &w.c, 2, computation).await.unwrap();
    // Accounts: 5 consent, 6 record, 7 provider, 8 issuer.
    let mut cb = callback_ix(&mut w.env, &w.c, 1, computation).await;
    cb.accounts[5].pubkey = medshare::pda::consent(&w.record, &doctor);
    let node = w.c.nodes[0].authority.insecure_clone();

    // The record's policy needs the provider's entry.
    assert_err(
        w.env.send(std::slice::from_ref(&cb), &[&node]).await,
        MedshareError::ProviderNotVerified,
    );
    // Another record cannot stand in for the shared one.
    let mut other = cb.clone();
    other.accounts[6].pubkey = Pubkey::new_unique();
    assert_err(
        w.env.send(&[other], &[&node]).await,
        MedshareError::WrongRecord,
    );
    // The issuer revokes the doctor after the request: the callback refuses.
    w.env
        .send(
            &[revoke_provider_ix(&w, &reg.issuer, &w.doctor.pubkey())],
            &[&reg.issuer],
        )
        .await
        .unwrap();
    let mut with_registry = cb.clone();
    with_registry.accounts[7].pubkey = p;
    with_registry.accounts[8].pubkey = reg.issuer_account;
    assert_err(
        w.env
            .send(std::slice::from_ref(&with_registry), &[&node])
            .await,
        MedshareError::ProviderRevoked,
    );
    let comp: Computation = w.env.account(computation).await;
    assert_eq!(comp.status, ComputationStatus::Pending, "still pending");
    // The patient drops the policy: the share may finish (the policy as it stands).
    require_roles(&mut w, 0).await;
    w.env
        .send(&[cb], &[&node])
        .await
        .expect("no policy, no provider check");
    let r: ShareResult = w
        .env
        .account(medshare::pda::share_result(&computation))
        .await;
    assert!(r.completed);
}

#[tokio::test]
async fn test_pull_succeeds_when_the_next_address_was_prefunded() {
    let mut w = world(82).await;
    let doctor = w.doctor.pubkey();
    w.env
        .send(
            &[grant_ix(&w, &doctor, 0b001, w.now + HOUR, None)],
            &[&w.patient.wallet],
        )
        .await
        .unwrap();
    // Someone sends lamports to the next computation and result addresses.
    let computation = medshare::pda::computation(&w.c.address, 0);
    let result = medshare::pda::share_result(&computation);
    let griefer = w.env.funded().await;
    for target in [computation, result] {
        let t = anchor_lang::solana_program::system_instruction::transfer(
            &griefer.pubkey(),
            &target,
            1_000_000,
        );
        w.env.send(&[t], &[&griefer]).await.unwrap();
    }
    let d = w.doctor.insecure_clone();
    assert_eq!(pull(&mut w, &d, 0b001, None).await, None);
    let comp: Computation = w.env.account(computation).await;
    assert_eq!(comp.requester, doctor);
    let r: ShareResult = w.env.account(result).await;
    assert!(!r.completed);
}

#[tokio::test]
async fn test_consent_does_not_carry_over_to_a_recreated_record() {
    let mut w = world(83).await;
    let doctor = w.doctor.pubkey();
    w.env
        .send(
            &[grant_ix(&w, &doctor, 0b001, w.now + 10 * HOUR, None)],
            &[&w.patient.wallet],
        )
        .await
        .unwrap();
    // The same id again, a later time: the old consent must not apply.
    recreate_record(&mut w, 60).await;
    let d = w.doctor.insecure_clone();
    assert_eq!(
        pull(&mut w, &d, 0b001, None).await,
        Some(code(MedshareError::ConsentMissing))
    );
}

// ---------------------------------------------------------------------------
// Issue 10: every access rule holds at contribution time. Each attack test
// asserts the secure outcome: what anyone can combine from the public
// contributions does not open the data.
// ---------------------------------------------------------------------------

/// What anyone (here the grantee) can do with a computation's public
/// contributions: if `t` are accepted, combine them with the public
/// Lagrange coefficients and open the first shared group with `key` (the
/// world's doctor's key when `None`). `Some(plaintext)` means the data leaked.
async fn combine_public_partials(
    w: &mut World,
    computation: Pubkey,
    key: Option<&UserSecretKey>,
) -> Option<Vec<u8>> {
    use encrypted_ixs::keys::NodeIndex;
    use encrypted_ixs::point::Point;
    use encrypted_ixs::reencrypt::{combine, lagrange_coefficients};
    let comp: Computation = w.env.account(computation).await;
    if comp.contributors.len() < w.c.t as usize {
        return None;
    }
    let ids: Vec<NodeIndex> = comp
        .contributors
        .iter()
        .map(|i| NodeIndex::new(*i as u16).unwrap())
        .collect();
    let lagrange: Vec<[u8; 32]> = lagrange_coefficients(&ids)
        .unwrap()
        .iter()
        .map(|l| l.to_bytes())
        .collect();
    let groups = comp.groups.len();
    let capsule = combine(&comp.capsules[0].into(), &lagrange, |k| {
        let p = comp.partials[k * groups];
        (Point(p.u), Point(p.w))
    })
    .ok()?;
    let m = open(&capsule, key.unwrap_or(&w.doctor_key)).ok()?;
    let g = comp.groups[0];
    let sealed = w.sealed.iter().find(|s| s.group == g).unwrap();
    let ctx = record_ctx(&w.patient.wallet.pubkey(), &w.record, g);
    open_group_with(sealed, &m, &ctx, comp.record_version)
        .ok()
        .map(|p| p.to_vec())
}

/// Grants the world's doctor `mask` for an hour and has the doctor pull it;
/// returns the computation.
async fn granted_pull(w: &mut World, mask: u8) -> Pubkey {
    let doctor = w.doctor.pubkey();
    let grant = grant_ix(w, &doctor, mask, w.now + HOUR, None);
    w.env.send(&[grant], &[&w.patient.wallet]).await.unwrap();
    let d = w.doctor.insecure_clone();
    let cluster: Cluster = w.env.account(w.c.address).await;
    assert_eq!(pull(w, &d, mask, None).await, None);
    medshare::pda::computation(&w.c.address, cluster.next_computation)
}

fn close_record_ix(w: &World) -> Instruction {
    sdk::close_record(w.patient.wallet.pubkey(), w.record)
}

#[tokio::test]
async fn test_revoked_grantee_cannot_combine_partials() {
    let mut w = world(101).await;
    let doctor = w.doctor.pubkey();
    let computation = granted_pull(&mut w, 0b001).await;
    contribute(&mut w.env, &w.c, 1, computation).await.unwrap();
    w.env
        .send(&[revoke_ix(&w, &doctor)], &[&w.patient.wallet])
        .await
        .unwrap();
    // The t-th contribution after the revocation is refused...
    for node in [2, 3] {
        assert_err(
            contribute(&mut w.env, &w.c, node, computation).await,
            MedshareError::ConsentRevoked,
        );
    }
    // ...so what is public does not open the record.
    assert_eq!(
        combine_public_partials(&mut w, computation, None).await,
        None
    );
    let comp: Computation = w.env.account(computation).await;
    assert_eq!(comp.contributors, vec![1]);
    assert_eq!(comp.faulty, 0, "honest nodes are not blamed");
}

#[tokio::test]
async fn test_expired_or_narrowed_consent_stops_contributions() {
    let mut w = world(102).await;
    let doctor = w.doctor.pubkey();
    let computation = granted_pull(&mut w, 0b011).await;
    contribute(&mut w.env, &w.c, 1, computation).await.unwrap();
    // Narrowed to group 0 only: the pull covers group 1 too.
    let narrow = change_ix(&w, &doctor, Some((0b001, w.now + HOUR)));
    w.env.send(&[narrow], &[&w.patient.wallet]).await.unwrap();
    assert_err(
        contribute(&mut w.env, &w.c, 2, computation).await,
        MedshareError::ConsentScope,
    );
    // Widened back, then the end time passes.
    let widen = change_ix(&w, &doctor, Some((0b011, w.now + 60)));
    w.env.send(&[widen], &[&w.patient.wallet]).await.unwrap();
    set_time(&mut w.env, w.now + 60).await;
    assert_err(
        contribute(&mut w.env, &w.c, 2, computation).await,
        MedshareError::ConsentExpired,
    );
    assert_eq!(
        combine_public_partials(&mut w, computation, None).await,
        None
    );
    // While the consent held, the same contributions do open it (the
    // helper above is able to detect a leak).
    set_time(&mut w.env, w.now).await;
    contribute(&mut w.env, &w.c, 2, computation).await.unwrap();
    let opened = combine_public_partials(&mut w, computation, None).await;
    assert_eq!(opened.as_deref(), Some(b"{\"age\":42}".as_slice()));
}

#[tokio::test]
async fn test_revoked_provider_cannot_combine_partials() {
    let (mut w, reg, p) = verified_doctor_with_consent(103).await;
    let registry = Some((p, reg.issuer_account));
    let d = w.doctor.insecure_clone();
    assert_eq!(pull(&mut w, &d, 0b001, registry).await, None);
    let computation = medshare::pda::computation(&w.c.address, 0);
    contribute(&mut w.env, &w.c, 1, computation).await.unwrap();
    w.env
        .send(
            &[revoke_provider_ix(&w, &reg.issuer, &w.doctor.pubkey())],
            &[&reg.issuer],
        )
        .await
        .unwrap();
    assert_err(
        contribute(&mut w.env, &w.c, 2, computation).await,
        MedshareError::ProviderRevoked,
    );
    // Without the registry entry the policy refuses as well.
    let comp: Computation = w.env.account(computation).await;
    let bare = contribution_ix(&mut w.env, &w.c, 3, computation).await;
    let mut args_only = bare.clone();
    args_only.accounts = contribute_raw_ix(&w.c, 3, computation, &comp, None, vec![])
        .accounts
        .clone();
    assert_err(
        w.env.send(&[args_only], &[&w.c.nodes[2].authority]).await,
        MedshareError::ProviderNotVerified,
    );
    assert_eq!(
        combine_public_partials(&mut w, computation, None).await,
        None
    );
}

#[tokio::test]
async fn test_policy_added_after_an_owner_share_stops_it() {
    let mut w = world(104).await;
    // The patient shares with a bare key (no wallet), then requires verified doctors.
    let stranger = UserSecretKey::generate(&mut w.env.rng);
    let r = stranger.public_key().edwards().unwrap();
    let owner = w.patient.wallet.pubkey();
    let share = share_ix(&owner, &w.record, &w.c.address, 0, 0b001, r.0);
    w.env.send(&[share], &[&w.patient.wallet]).await.unwrap();
    let computation = medshare::pda::computation(&w.c.address, 0);
    contribute(&mut w.env, &w.c, 1, computation).await.unwrap();
    require_roles(&mut w, ProviderRole::Doctor.bit()).await;
    assert_err(
        contribute(&mut w.env, &w.c, 2, computation).await,
        MedshareError::ProviderNotVerified,
    );
    assert_eq!(
        combine_public_partials(&mut w, computation, Some(&stranger)).await,
        None
    );
}

#[tokio::test]
async fn test_closed_record_stops_pull_and_its_consent_stays_revocable() {
    let mut w = world(105).await;
    let doctor = w.doctor.pubkey();
    let computation = granted_pull(&mut w, 0b001).await;
    contribute(&mut w.env, &w.c, 1, computation).await.unwrap();
    w.env
        .send(&[close_record_ix(&w)], &[&w.patient.wallet])
        .await
        .unwrap();
    assert_err(
        contribute(&mut w.env, &w.c, 2, computation).await,
        MedshareError::RecordClosed,
    );
    assert_eq!(
        combine_public_partials(&mut w, computation, None).await,
        None
    );
    // The consent is revoked and closed without the (closed) record; the
    // owner gets its rent back.
    let consent = medshare::pda::consent(&w.record, &doctor);
    w.env
        .send(&[revoke_ix(&w, &doctor)], &[&w.patient.wallet])
        .await
        .unwrap();
    let rent = w.env.lamports(consent).await;
    let before = w.env.lamports(w.patient.wallet.pubkey()).await;
    let logs = w
        .env
        .send(&[close_consent_ix(&w, &doctor)], &[&w.patient.wallet])
        .await
        .unwrap();
    assert_eq!(
        events::<ConsentChanged>(&logs)[0].kind,
        medshare::events::ConsentChange::Closed
    );
    assert!(!w.env.exists(consent).await);
    assert_eq!(
        w.env.lamports(w.patient.wallet.pubkey()).await,
        before + rent
    );
    // The callback is refused too (there is nothing to finish).
    let cb = callback_ix(&mut w.env, &w.c, 1, computation).await;
    assert_err(
        w.env.send(&[cb], &[&w.c.nodes[0].authority]).await,
        MedshareError::NotEnoughContributions,
    );
}

#[tokio::test]
async fn test_record_closed_after_t_contributions_refuses_the_callback() {
    let mut w = world(106).await;
    let computation = granted_pull(&mut w, 0b001).await;
    contribute(&mut w.env, &w.c, 1, computation).await.unwrap();
    contribute(&mut w.env, &w.c, 2, computation).await.unwrap();
    w.env
        .send(&[close_record_ix(&w)], &[&w.patient.wallet])
        .await
        .unwrap();
    let mut cb = callback_ix(&mut w.env, &w.c, 1, computation).await;
    cb.accounts[5].pubkey = medshare::pda::consent(&w.record, &w.doctor.pubkey());
    assert_err(
        w.env.send(&[cb], &[&w.c.nodes[0].authority]).await,
        MedshareError::RecordClosed,
    );
}

#[tokio::test]
async fn test_new_version_stops_a_pending_share_of_the_old_one() {
    let mut w = world(107).await;
    let computation = granted_pull(&mut w, 0b001).await;
    contribute(&mut w.env, &w.c, 1, computation).await.unwrap();
    let update = sdk::update_patient_data(w.patient.wallet.pubkey(), None, w.record);
    w.env.send(&[update], &[&w.patient.wallet]).await.unwrap();
    assert_err(
        contribute(&mut w.env, &w.c, 2, computation).await,
        MedshareError::RecordChanged,
    );
    // The superseded version's ciphertext stays in ledger history; its key
    // is not released.
    assert_eq!(
        combine_public_partials(&mut w, computation, None).await,
        None
    );
}

/// Closes the world's record and creates it again at the same address,
/// `later` seconds after the world's time, with group 0 written.
async fn recreate_record(w: &mut World, later: i64) {
    let owner = w.patient.wallet.insecure_clone();
    w.env.send(&[close_record_ix(w)], &[&owner]).await.unwrap();
    if later != 0 {
        set_time(&mut w.env, w.now + later).await;
    }
    let (address, key) = (w.c.address, w.c.key());
    store_again(w, &address, &key, b"{\"age\":43}").await;
}

/// Creates the world's record (closed before) again in cluster `address`
/// with key `key`, group 0 holding `body`.
async fn store_again(
    w: &mut World,
    address: &Pubkey,
    key: &encrypted_ixs::point::Point,
    body: &[u8],
) {
    let owner = w.patient.wallet.insecure_clone();
    w.env
        .send(&[store_ix(&owner.pubkey(), address, 1)], &[&owner])
        .await
        .unwrap();
    let s = encrypted_ixs::record::seal_group(
        &mut w.env.rng,
        &record_ctx(&owner.pubkey(), &w.record, 0),
        1,
        body,
        key,
        &w.patient.key.public_key().edwards().unwrap(),
    )
    .unwrap();
    w.env
        .send(&[write_ix(&owner.pubkey(), &w.record, &s)], &[&owner])
        .await
        .unwrap();
}

#[tokio::test]
async fn test_consent_of_a_record_recreated_in_the_same_second_does_not_apply() {
    let mut w = world(108).await;
    let doctor = w.doctor.pubkey();
    let grant = grant_ix(&w, &doctor, 0b001, w.now + HOUR, None);
    w.env.send(&[grant], &[&w.patient.wallet]).await.unwrap();
    let old: PatientRecord = w.env.account(w.record).await;
    recreate_record(&mut w, 0).await;
    let new: PatientRecord = w.env.account(w.record).await;
    let consent: Consent = w
        .env
        .account(medshare::pda::consent(&w.record, &doctor))
        .await;
    assert_eq!(new.created_at, consent.granted_at, "same unix second");
    assert_ne!(new.generation, old.generation);
    let d = w.doctor.insecure_clone();
    assert_eq!(
        pull(&mut w, &d, 0b001, None).await,
        Some(code(MedshareError::ConsentMissing))
    );
}

#[tokio::test]
async fn test_c08_stale_consent_cannot_be_modified_and_is_granted_afresh() {
    let mut w = world(109).await;
    let doctor = w.doctor.pubkey();
    let grant = grant_ix(&w, &doctor, 0b001, w.now + HOUR, None);
    w.env.send(&[grant], &[&w.patient.wallet]).await.unwrap();
    recreate_record(&mut w, 0).await;
    let modify = change_ix(&w, &doctor, Some((0b001, w.now + 2 * HOUR)));
    assert_err(
        w.env.send(&[modify], &[&w.patient.wallet]).await,
        MedshareError::ConsentStale,
    );
    // Granting again binds the consent to the new record.
    let grant = grant_ix(&w, &doctor, 0b001, w.now + HOUR, None);
    w.env.send(&[grant], &[&w.patient.wallet]).await.unwrap();
    let d = w.doctor.insecure_clone();
    assert_eq!(pull(&mut w, &d, 0b001, None).await, None);
}

#[tokio::test]
async fn test_c02_close_consent_returns_rent_and_stops_pending_pulls() {
    let mut w = world(110).await;
    let doctor = w.doctor.pubkey();
    let computation = granted_pull(&mut w, 0b001).await;
    contribute(&mut w.env, &w.c, 1, computation).await.unwrap();
    // Only the owner may close it.
    let mallory = w.env.funded().await;
    let mut stolen = close_consent_ix(&w, &doctor);
    stolen.accounts[0].pubkey = mallory.pubkey();
    assert_err(
        w.env.send(&[stolen], &[&mallory]).await,
        MedshareError::NotOwner,
    );
    let consent = medshare::pda::consent(&w.record, &doctor);
    let rent = w.env.lamports(consent).await;
    let before = w.env.lamports(w.patient.wallet.pubkey()).await;
    w.env
        .send(&[close_consent_ix(&w, &doctor)], &[&w.patient.wallet])
        .await
        .unwrap();
    assert_eq!(
        w.env.lamports(w.patient.wallet.pubkey()).await,
        before + rent
    );
    // An active consent closed is revoked: the pending pull gets no more contributions.
    assert_err(
        contribute(&mut w.env, &w.c, 2, computation).await,
        MedshareError::ConsentMissing,
    );
    assert_eq!(
        combine_public_partials(&mut w, computation, None).await,
        None
    );
}

#[tokio::test]
async fn test_rogue_issuer_cannot_block_a_provider_forever() {
    let mut w = world(111).await;
    let now = w.now;
    let doctor = w.doctor.pubkey();
    let rogue = appoint(&mut w).await;
    let honest = appoint(&mut w).await;
    // The rogue issuer registers the doctor first, as an insurer, for years.
    let entry = register_provider(
        &mut w,
        &rogue,
        &doctor,
        ProviderRole::Insurer,
        now + 1000 * HOUR,
    )
    .await;
    // While the rogue issuer is active its live entry stands.
    assert_err(
        try_register_provider(
            &mut w,
            &honest,
            &doctor,
            ProviderRole::Doctor,
            now + HOUR,
            None,
        )
        .await,
        MedshareError::ProviderExists,
    );
    // The admin revokes the rogue issuer; the honest one registers the doctor.
    let admin = w.c.admin.insecure_clone();
    let revoke = sdk::revoke_issuer(admin.pubkey(), w.c.address, rogue.issuer.pubkey());
    w.env.send(&[revoke], &[&admin]).await.unwrap();
    // Naming the wrong previous issuer does not help.
    assert_err(
        try_register_provider(
            &mut w,
            &honest,
            &doctor,
            ProviderRole::Doctor,
            now + HOUR,
            Some(&honest),
        )
        .await,
        MedshareError::ProviderExists,
    );
    try_register_provider(
        &mut w,
        &honest,
        &doctor,
        ProviderRole::Doctor,
        now + HOUR,
        Some(&rogue),
    )
    .await
    .unwrap();
    let p: Provider = w.env.account(entry).await;
    assert_eq!(
        (p.issuer, p.role),
        (honest.issuer.pubkey(), ProviderRole::Doctor)
    );
    // The doctor is a verified doctor now: a policy requiring doctors admits a pull.
    require_roles(&mut w, ProviderRole::Doctor.bit()).await;
    let grant = grant_ix(
        &w,
        &doctor,
        0b001,
        now + HOUR,
        Some((entry, honest.issuer_account)),
    );
    w.env.send(&[grant], &[&w.patient.wallet]).await.unwrap();
    let d = w.doctor.insecure_clone();
    assert_eq!(
        pull(&mut w, &d, 0b001, Some((entry, honest.issuer_account))).await,
        None
    );
}

#[tokio::test]
async fn test_revoked_or_expired_entries_are_replaced_and_renewals_allowed() {
    let mut w = world(112).await;
    let mut now = w.now;
    let doctor = w.doctor.pubkey();
    let a = appoint(&mut w).await;
    let b = appoint(&mut w).await;
    let entry = register_provider(&mut w, &a, &doctor, ProviderRole::Doctor, now + HOUR).await;
    // The same issuer renews its own entry.
    register_provider(&mut w, &a, &doctor, ProviderRole::Doctor, now + 2 * HOUR).await;
    let p: Provider = w.env.account(entry).await;
    assert_eq!(p.valid_until, now + 2 * HOUR);
    // Revoked by its issuer: another issuer may register the wallet.
    w.env
        .send(&[revoke_provider_ix(&w, &a.issuer, &doctor)], &[&a.issuer])
        .await
        .unwrap();
    register_provider(&mut w, &b, &doctor, ProviderRole::Hospital, now + HOUR).await;
    let p: Provider = w.env.account(entry).await;
    assert_eq!((p.issuer, p.revoked), (b.issuer.pubkey(), false));
    // Expired: replaceable too.
    set_time(&mut w.env, now + HOUR).await;
    now += HOUR;
    w.now = now;
    register_provider(&mut w, &a, &doctor, ProviderRole::Doctor, now + HOUR).await;
    let p: Provider = w.env.account(entry).await;
    assert_eq!(p.issuer, a.issuer.pubkey());
}

// ---------------------------------------------------------------------------
// A record's life is one identity across clusters: a record closed and
// created again in another cluster is a new record for every consent and
// every pending computation of the old one.
// ---------------------------------------------------------------------------

/// Closes the world's record and creates it again, same id, in a second
/// cluster (group 0 sealed to that cluster's key); returns the new cluster
/// (the world's `c` still names the first).
async fn recreate_in_other_cluster(w: &mut World) -> SimCluster {
    let c2 = ready_cluster(&mut w.env, 2, 2, 3).await;
    let owner = w.patient.wallet.insecure_clone();
    w.env.send(&[close_record_ix(w)], &[&owner]).await.unwrap();
    let body = b"{\"age\":43,\"hiv_status\":\"positive\"}";
    store_again(w, &c2.address, &c2.key(), body).await;
    c2
}

#[tokio::test]
async fn test_consent_does_not_follow_a_record_into_another_cluster() {
    let mut w = world(2302).await;
    let doctor = w.doctor.pubkey();
    let grant = grant_ix(&w, &doctor, 0b001, w.now + 10 * HOUR, None);
    w.env.send(&[grant], &[&w.patient.wallet]).await.unwrap();
    let c2 = recreate_in_other_cluster(&mut w).await;
    let old: Consent = w
        .env
        .account(medshare::pda::consent(&w.record, &doctor))
        .await;
    let new: PatientRecord = w.env.account(w.record).await;
    assert_ne!(old.record_generation, new.generation, "a new life");
    // The doctor's pull of the new record, in the new cluster, is refused
    // and recorded; no computation exists for the nodes to serve.
    let (ixn, computation, _) = sdk::request_share(doctor, w.record, c2.address, 0, 0b001, None);
    let d = w.doctor.insecure_clone();
    let logs = w.env.send(&[ixn], &[&d]).await.unwrap();
    let refused = events::<PullRefused>(&logs);
    assert_eq!(refused[0].reason, code(MedshareError::ConsentMissing));
    assert!(
        !w.env.exists(computation).await,
        "nothing for the nodes to open"
    );
}

#[tokio::test]
async fn test_pending_pull_does_not_complete_after_the_record_moved_cluster() {
    let mut w = world(2303).await;
    let computation = granted_pull(&mut w, 0b001).await;
    contribute(&mut w.env, &w.c, 1, computation).await.unwrap();
    recreate_in_other_cluster(&mut w).await;
    // The old cluster's nodes can no longer contribute: the record at that
    // address is another life, in another cluster.
    for node in [2, 3] {
        assert_err(
            contribute(&mut w.env, &w.c, node, computation).await,
            MedshareError::RecordClosed,
        );
    }
    assert_eq!(
        combine_public_partials(&mut w, computation, None).await,
        None
    );
}

/// A pull queued under a consent that the patient then revoked does not
/// come back to life when the patient grants the consent again: it was
/// requested under the earlier grant. A new pull under the new grant works.
#[tokio::test]
async fn test_regrant_does_not_revive_a_pull_of_the_revoked_grant() {
    let mut w = world(2315).await;
    let doctor = w.doctor.pubkey();
    let stale = granted_pull(&mut w, 0b001).await;
    contribute(&mut w.env, &w.c, 1, stale).await.unwrap();
    w.env
        .send(&[revoke_ix(&w, &doctor)], &[&w.patient.wallet])
        .await
        .unwrap();
    let grant = grant_ix(&w, &doctor, 0b001, w.now + HOUR, None);
    w.env.send(&[grant], &[&w.patient.wallet]).await.unwrap();
    for node in [2, 3] {
        assert_err(
            contribute(&mut w.env, &w.c, node, stale).await,
            MedshareError::ConsentRevoked,
        );
    }
    assert_eq!(combine_public_partials(&mut w, stale, None).await, None);
    // The new grant serves a new pull.
    let d = w.doctor.insecure_clone();
    let cluster: Cluster = w.env.account(w.c.address).await;
    assert_eq!(pull(&mut w, &d, 0b001, None).await, None);
    let fresh = medshare::pda::computation(&w.c.address, cluster.next_computation);
    let comp: Computation = w.env.account(fresh).await;
    assert_eq!(comp.consent_grant, 2);
    contribute(&mut w.env, &w.c, 2, fresh).await.unwrap();
    contribute(&mut w.env, &w.c, 3, fresh).await.unwrap();
    assert!(combine_public_partials(&mut w, fresh, None).await.is_some());
}
