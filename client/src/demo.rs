//! `medshare demo`: the whole system on an embedded chain, in one process.
//!
//! A cluster of real node tasks (default `t = 3`, `n = 5`) runs the DKG; a
//! patient stores a record and shares two field groups with a doctor; the
//! doctor decrypts and sees exactly those fields; a stranger's attempt to
//! share the record is refused; the audit trail and timings are printed.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use encrypted_ixs::keys::UserSecretKey;
use medshare::state::Role;
use medshare_sdk::chain::embedded::Embedded;
use medshare_sdk::chain::SharedChain;
use rand_core::OsRng;
use solana_sdk::signature::{Keypair, Signer};

use crate::audit;
use crate::data::{group_names, parse_groups, PatientData};
use crate::error::Result;
use crate::ops::Client;
use mpc_node::cluster::{ClusterOptions, LocalCluster};

/// Demo parameters.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Threshold.
    pub t: u8,
    /// Cluster size.
    pub n: u8,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions { t: 3, n: 5 }
    }
}

/// The sample record.
pub fn sample_record() -> PatientData {
    PatientData {
        patient_id: Some("P-2026-0042".into()),
        age: Some(42),
        gender: Some("female".into()),
        blood_type: Some("O+".into()),
        weight_kg: Some(68.5),
        height_cm: Some(170.0),
        allergies: vec!["penicillin".into()],
        diagnoses: vec!["J45.909 asthma, unspecified".into()],
        medications: vec!["salbutamol 100 µg inhaler".into()],
        notes: Some("Follow-up in 3 months.".into()),
    }
}

/// Runs the demo; `out` receives the report line by line.
pub async fn run(opts: DemoOptions, mut out: impl FnMut(&str)) -> Result<()> {
    let total = Instant::now();
    let mut say = |s: String| out(&s);
    say(format!(
        "MedShare demo: embedded chain, cluster t={} n={}",
        opts.t, opts.n
    ));
    let embedded = Embedded::start().await;
    let chain: SharedChain = embedded.clone();

    let lc = LocalCluster::start(chain.clone(), ClusterOptions::new(opts.t, opts.n)).await?;
    say(format!(
        "[1] cluster {} ready: {} nodes ran the DKG in {} ms",
        lc.address,
        opts.n,
        lc.dkg_time.as_millis()
    ));

    let user = |chain: &SharedChain| {
        Client::new(
            chain.clone(),
            Keypair::new(),
            UserSecretKey::generate(&mut OsRng),
        )
    };
    let patient = user(&chain);
    let doctor = user(&chain);
    let stranger = user(&chain);
    for c in [&patient, &doctor, &stranger] {
        chain.airdrop(&c.wallet.pubkey(), 5_000_000_000).await?;
    }
    patient.register(Role::Patient).await?;
    doctor.register(Role::Doctor).await?;
    say(format!(
        "[2] patient {} and doctor {} registered their X25519 keys",
        patient.wallet.pubkey(),
        doctor.wallet.pubkey()
    ));

    let data = sample_record();
    let t0 = Instant::now();
    let (record, version) = patient.store(&lc.address, 1, &data).await?;
    say(format!(
        "[3] patient stored record {record} (version {version}, {} field groups, sealed per group) in {} ms",
        data.groups().len(),
        t0.elapsed().as_millis()
    ));

    let mask = parse_groups("vitals,medications").expect("valid groups");
    let to = doctor
        .resolve_recipient(&doctor.wallet.pubkey().to_string())
        .await?;
    let t1 = Instant::now();
    let ticket = patient.share(&record, mask, to).await?;
    say(format!(
        "[4] patient shared [{}] with the doctor: computation {}",
        group_names(mask).join(", "),
        ticket.computation
    ));
    let mut last = usize::MAX;
    let result = patient
        .wait(&ticket, Duration::from_secs(60), |have, need| {
            if have != last {
                last = have;
                say(format!("    cluster progress: {have}/{need} contributions"));
            }
        })
        .await?;
    let share_ms = t1.elapsed().as_millis();
    say(format!(
        "[5] the cluster re-encrypted the keys in {share_ms} ms (request to callback)"
    ));

    let inbox = doctor.inbox(&lc.address).await?;
    let opened = doctor.decrypt(&inbox[0].0).await?;
    say(format!(
        "[6] doctor's inbox: {} share(s); decrypted groups [{}]:",
        inbox.len(),
        opened
            .groups
            .iter()
            .map(|g| group_names(1 << g).join(""))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let json = serde_json::to_string_pretty(&opened.data).expect("JSON");
    for line in json.lines() {
        say(format!("      {line}"));
    }
    let expected = PatientData {
        blood_type: data.blood_type.clone(),
        weight_kg: data.weight_kg,
        height_cm: data.height_cm,
        allergies: data.allergies.clone(),
        medications: data.medications.clone(),
        ..Default::default()
    };
    if opened.data != expected || result.groups != vec![1, 3] {
        return Err(crate::error::ClientError::Invalid(
            "the doctor did not receive exactly the shared fields".into(),
        ));
    }
    say("    exactly the shared fields: identity, diagnoses and notes stay sealed".into());

    let refused = stranger.share(&record, mask, to).await;
    match refused {
        Err(e) => say(format!("[7] a stranger tried to share the record: {e}")),
        Ok(_) => {
            return Err(crate::error::ClientError::Invalid(
                "a stranger's share was accepted".into(),
            ))
        }
    }
    let stranger_view = stranger.decrypt(&ticket.share_result).await;
    if let Err(e) = stranger_view {
        say(format!("    and cannot open the doctor's share: {e}"));
    }

    say("[8] audit trail of the record:".into());
    let trail = audit::trail(chain.as_ref(), &record).await?;
    let mut table = String::new();
    for e in &trail {
        let _ = writeln!(
            table,
            "    slot {:>5}  {:<22} {}",
            e.slot, e.event, e.detail
        );
    }
    for line in table.lines() {
        say(line.to_string());
    }
    let contributions: u64 = lc.nodes.iter().map(|n| n.metrics.contributions.get()).sum();
    say(format!(
        "timings: DKG {} ms, store {} ms, share {} ms, total {} ms; node contributions posted: {contributions}",
        lc.dkg_time.as_millis(),
        t1.duration_since(t0).as_millis(),
        share_ms,
        total.elapsed().as_millis()
    ));
    lc.shutdown().await;
    Ok(())
}
