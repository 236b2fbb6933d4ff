//! `medshare demo`: the whole system on an embedded chain, in one process.
//!
//! A cluster of real node tasks (default `t = 3`, `n = 5`) runs the DKG; a
//! patient stores a FHIR R4 record (a published Synthea bundle, see
//! `tests/fixtures/fhir/README.md`) with a 3 MiB document attached, and shares
//! vitals, medications and documents with a doctor; the doctor gets a valid
//! FHIR bundle of exactly those resources and the document back; a
//! stranger's attempt to share the record is refused; the audit trail and
//! timings are printed. Blobs and the doctor's files go to a directory under
//! the system's temporary directory, printed at the end.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use encrypted_ixs::keys::UserSecretKey;
use medshare::state::Role;
use medshare_sdk::chain::embedded::Embedded;
use medshare_sdk::chain::SharedChain;
use rand_core::OsRng;
use solana_sdk::signature::{Keypair, Signer};

use crate::blobs::BlobStore;
use crate::contents::Contents;
use crate::data::{group_names, parse_groups, FieldGroup, PatientData};
use crate::error::{ClientError, Result};
use crate::user::audit;
use crate::user::files::{self, OutFiles};
use crate::user::Client;

/// The demo's FHIR record: Synthea's synthetic patient from PyPI `fhiry`
/// 5.2.2 (MIT), 319 resources.
pub const SAMPLE_BUNDLE: &str = include_str!("../../tests/fixtures/fhir/synthea-afhir.json");

/// Size of the demo's attached document.
pub const DOCUMENT_BYTES: usize = 3 * 1024 * 1024;
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

/// The demo's document: a text report of [`DOCUMENT_BYTES`] bytes.
pub fn sample_document() -> Vec<u8> {
    let line = b"Discharge summary (synthetic): asthma follow-up, salbutamol as needed, review in 3 months.\n";
    line.iter().copied().cycle().take(DOCUMENT_BYTES).collect()
}

/// What the doctor must have got: a bundle that imports as valid FHIR,
/// holding exactly the vital signs, medications and documents of the
/// sample, and the document itself.
fn check_doctor_view(got: &Contents, out: &OutFiles, document: &std::path::Path) -> Result<()> {
    let wrong = |what: &str| ClientError::Invalid(format!("demo check failed: {what}"));
    let bundle_path = out.fhir.as_ref().expect("the demo writes a bundle");
    let text = std::fs::read_to_string(bundle_path).map_err(|e| ClientError::Io(e.to_string()))?;
    let exported = medshare_fhir::import(&text).map_err(|e| wrong(&e.to_string()))?;
    let expected: Vec<_> = medshare_fhir::import(SAMPLE_BUNDLE)
        .map_err(|e| wrong(&e.to_string()))?
        .into_iter()
        .filter(|entry| {
            matches!(
                medshare_fhir::group_of(&entry.resource),
                FieldGroup::Vitals | FieldGroup::Medications
            )
        })
        .collect();
    let docs = exported
        .iter()
        .filter(|entry| entry.resource_type() == "DocumentReference")
        .count();
    if exported.len() != expected.len() + 1 || docs != 1 || got.fhir.len() != exported.len() {
        return Err(wrong(
            "the bundle does not hold exactly the shared resources",
        ));
    }
    let dir = out.out_dir.as_ref().expect("the demo saves attachments");
    let name = document.file_name().expect("a file name");
    let back = std::fs::read(dir.join(name)).map_err(|e| ClientError::Io(e.to_string()))?;
    if back != sample_document() {
        return Err(wrong("the document differs"));
    }
    Ok(())
}

/// Runs the demo; `out` receives the report line by line.
pub async fn run(opts: DemoOptions, mut out: impl FnMut(&str)) -> Result<()> {
    let total = Instant::now();
    let mut say = |line: String| out(&line);
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
    for client in [&patient, &doctor, &stranger] {
        chain
            .airdrop(&client.wallet.pubkey(), 5_000_000_000)
            .await?;
    }
    patient.register(Role::Patient).await?;
    doctor.register(Role::Doctor).await?;
    say(format!(
        "[2] patient {} and doctor {} registered their X25519 keys",
        patient.wallet.pubkey(),
        doctor.wallet.pubkey()
    ));

    let dir = tempfile::Builder::new()
        .prefix("medshare-demo-")
        .tempdir()
        .map_err(|e| ClientError::Io(e.to_string()))?
        .keep();
    let blobs = BlobStore::open(&dir.join("blobs").to_string_lossy())?;
    let patient = patient.with_blobs(blobs.clone());
    let doctor = doctor.with_blobs(blobs.clone());
    let document = dir.join("discharge-summary.txt");
    std::fs::write(&document, sample_document())
        .map_err(|e| ClientError::Io(format!("{}: {e}", document.display())))?;
    let bundle_file = dir.join("patient-bundle.json");
    std::fs::write(&bundle_file, SAMPLE_BUNDLE)
        .map_err(|e| ClientError::Io(format!("{}: {e}", bundle_file.display())))?;

    let t0 = Instant::now();
    let stored = patient
        .store_with_files(
            &lc.address,
            crate::user::StoreTarget::New,
            Contents::default(),
            Some(&bundle_file),
            std::slice::from_ref(&document),
        )
        .await?;
    let (record, version, contents) = (stored.record, stored.version, stored.contents);
    let stored_groups = group_names(contents.group_mask());
    say(format!(
        "[3] patient stored record {record} (version {version}): {} FHIR resources in [{}], {} KiB document attached, in {} ms",
        contents.fhir.len(),
        stored_groups.join(", "),
        DOCUMENT_BYTES / 1024,
        t0.elapsed().as_millis()
    ));
    say(format!(
        "    {} blobs in {} (group bodies over {} bytes and the document, sealed; on-chain: their hashes)",
        blobs.list(&record).await?.len(),
        blobs.url(),
        crate::contents::INLINE_LIMIT
    ));

    let mask = parse_groups("vitals,medications,documents").expect("valid groups");
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
    let out = OutFiles {
        fhir: Some(dir.join("doctor").join("shared-bundle.json")),
        out_dir: Some(dir.join("doctor")),
    };
    std::fs::create_dir_all(dir.join("doctor")).map_err(|e| ClientError::Io(e.to_string()))?;
    let saved = files::save(&doctor, &record, &opened.contents, &out).await?;
    say(format!(
        "[6] doctor's inbox: {} share(s); decrypted groups [{}]:{saved}",
        inbox.len(),
        group_names(result.groups.iter().fold(0, |m, group| m | (1 << group))).join(", ")
    ));
    check_doctor_view(&opened.contents, &out, &document)?;
    say("    a valid FHIR R4 bundle of exactly the shared resources, and the document byte for byte: identity, diagnoses, labs and care stay sealed".into());

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

    // Encrypted cohort statistics: the patient and nine others consent to a
    // study purpose with their ages (the patient's read from its FHIR
    // record); a researcher opens a study, adds them and closes it; the
    // nodes decrypt only the sums.
    let t2 = Instant::now();
    let purpose = "MedShare demo cohort";
    let now = medshare_sdk::chain::chain_time(chain.as_ref()).await?;
    let (age, patient_age) = crate::user::research::parse_value("age", &contents.fhir, now)?;
    patient
        .research_consent(
            &record,
            purpose,
            None,
            now + 86_400,
            // The demo checks the released sums against the plaintext, so
            // its consents opt into exact releases.
            crate::user::research::Privacy::Exact,
            &[(age.clone(), patient_age)],
        )
        .await?;
    let mut ages = vec![patient_age];
    for other_age in [23u64, 35, 41, 52, 58, 64, 67, 72, 79] {
        let other = user(&chain);
        chain.airdrop(&other.wallet.pubkey(), 1_000_000_000).await?;
        let (other_record, _) = other.store_fields(&lc.address, 1, &sample_record()).await?;
        other
            .research_consent(
                &other_record,
                purpose,
                None,
                now + 86_400,
                crate::user::research::Privacy::Exact,
                &[(age.clone(), other_age)],
            )
            .await?;
        ages.push(other_age);
    }
    let researcher = user(&chain);
    chain
        .airdrop(&researcher.wallet.pubkey(), 1_000_000_000)
        .await?;
    let study = researcher
        .open_study(&lc.address, &age, purpose, 10, now + 86_400, 0)
        .await?;
    let joined = researcher.collect(&study).await?;
    researcher.close_study(&study).await?;
    let waited = Instant::now();
    let results = loop {
        if let (_, Some(released)) = researcher.study_results(&study).await? {
            break released;
        }
        if waited.elapsed() > Duration::from_secs(60) {
            return Err(ClientError::Timeout(60));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let n = ages.len() as f64;
    let mean = ages.iter().sum::<u64>() as f64 / n;
    if results.count != ages.len() as u64 || results.mean != mean {
        return Err(ClientError::Invalid(format!(
            "study released {results:?}, the plaintext mean is {mean}"
        )));
    }
    say(format!(
        "[8] {joined} patients (ages encrypted, the demo patient's {patient_age} read from its FHIR record) joined study {study}; the nodes decrypted only the sums: count {}, mean age {:.1}, variance {:.1}, ages by 16-year bucket {:?} (equal to the plaintext figures) in {} ms",
        results.count,
        results.mean,
        results.variance.unwrap_or_default(),
        results.histogram.clone().unwrap_or_default(),
        t2.elapsed().as_millis()
    ));

    say("[9] audit trail of the record:".into());
    let trail = audit::trail(chain.as_ref(), &record).await?;
    let mut table = String::new();
    for event in &trail {
        let _ = writeln!(
            table,
            "    slot {:>5}  {:<22} {}",
            event.slot, event.event, event.detail
        );
    }
    for line in table.lines() {
        say(line.to_string());
    }
    let contributions: u64 = lc
        .nodes
        .iter()
        .map(|node| node.metrics.contributions.get())
        .sum();
    say(format!("files: {}", dir.display()));
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
