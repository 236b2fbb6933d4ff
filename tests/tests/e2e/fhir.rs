//! FHIR records and off-chain attachments through the CLI: import a
//! published bundle, share it in two shares, export it again; refuse an
//! invalid bundle with its path; refuse a tampered, truncated, swapped or
//! missing blob without writing anything; the same against a real S3 server
//! (s3s-fs, in-process); erasure.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use medshare_client::error::{exit, ClientError};
use medshare_tests::assert_client_err;
use medshare_tests::cli_env::{path_str, run_test, CliEnv, User};
use serde_json::{json, Value};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fhir")
        .join(name)
}

/// Bytes nobody would guess: a counter through SHA-256-free xorshift.
fn document(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Files in `dir` (none if it does not exist).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

/// Every `reference` string in a JSON value.
fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("reference") {
                out.push(r.clone());
            }
            o.values().for_each(|w| references(w, out));
        }
        Value::Array(a) => a.iter().for_each(|w| references(w, out)),
        _ => {}
    }
}

/// Shares `groups` of `record` with `to` and returns the share address.
async fn share(env: &CliEnv, owner: &User, record: &str, groups: &str, to: &User) -> String {
    let out = env
        .run_json(
            owner,
            &["share", record, "--groups", groups, "--to", &to.wallet()],
        )
        .await;
    assert_eq!(out["status"], "completed", "{out}");
    out["share_result"].as_str().unwrap().to_string()
}

async fn store(env: &CliEnv, owner: &User, id: &str, extra: &[&str]) -> Value {
    let cluster = env.cluster_arg();
    let mut args = vec!["store", "--cluster", &cluster, "--record-id", id];
    args.extend_from_slice(extra);
    env.run_json(owner, &args).await
}

/// A Synthea bundle (PyPI `fhiry` 5.2.2) and a document go in; two shares
/// carry all 8 groups; the recipient's export holds every resource exactly
/// as imported (every reference in this bundle resolves inside it, so none
/// is reduced) and the document byte for byte. A share of 5 groups exports
/// only those groups' resources, with no reference left dangling.
#[test]
fn test_fhir_round_trip_through_two_shares() {
    run_test("test_fhir_round_trip_through_two_shares", async {
        let env = CliEnv::new(2, 3).await;
        let patient = env.registered("patient", "patient").await;
        let doctor = env.registered("doctor", "doctor").await;
        let bundle = fixture("synthea-afhir.json");
        let doc = env.dir.join("scan.pdf");
        std::fs::write(&doc, document(300_000, 7)).unwrap();
        let out = store(
            &env,
            &patient,
            "3",
            &["--fhir", path_str(&bundle), "--attach", path_str(&doc)],
        )
        .await;
        let record = patient.record(3).to_string();
        assert_eq!(
            out,
            json!({"record": record, "record_id": 3, "version": 1,
                   "groups": ["identity", "vitals", "diagnoses", "medications", "notes", "labs", "care", "documents"],
                   "fhir_resources": 320, "attachments": ["scan.pdf"]})
        );
        // All 8 groups in one share: refused before anything is sent.
        assert_client_err!(
            env.run(&patient, &["share", &record, "--groups", "all", "--to", &doctor.wallet()])
                .await,
            ClientError::TooManyGroups(_),
            "one share carries at most 5 field groups (asked for identity,vitals,diagnoses,medications,notes,labs,care,documents): share the rest in a second share",
            exit::ERROR
        );
        let first = share(
            &env,
            &patient,
            &record,
            "identity,vitals,diagnoses,medications,notes",
            &doctor,
        )
        .await;
        let second = share(&env, &patient, &record, "labs,care,documents", &doctor).await;

        // Both shares: the whole bundle.
        let out_dir = env.dir.join("doctor-files");
        let all = env.dir.join("all.json");
        let got = env
            .run_json(
                &doctor,
                &[
                    "decrypt",
                    &first,
                    &second,
                    "--fhir",
                    path_str(&all),
                    "--out-dir",
                    path_str(&out_dir),
                ],
            )
            .await;
        assert_eq!(got["groups"].as_array().unwrap().len(), 8);
        assert_eq!(got["attachments"][0]["name"], "scan.pdf");
        assert_eq!(
            std::fs::read(out_dir.join("scan.pdf")).unwrap(),
            document(300_000, 7)
        );
        let input: Value =
            serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
        let exported_text = std::fs::read_to_string(&all).unwrap();
        let exported = medshare_fhir::import(&exported_text).expect("the export is a valid bundle");
        assert_eq!(exported.len(), 320);
        let in_entries = input["entry"].as_array().unwrap();
        let mut refs = Vec::new();
        references(&input, &mut refs);
        let full_urls: HashSet<&str> = in_entries
            .iter()
            .map(|e| e["fullUrl"].as_str().unwrap())
            .collect();
        // Every reference resolves inside the bundle (or inside its own
        // resource, `#id`): none should be reduced on the way back.
        assert!(refs.len() > 300);
        assert!(refs
            .iter()
            .all(|r| r.starts_with('#') || full_urls.contains(r.as_str())));
        for e in in_entries {
            let url = e["fullUrl"].as_str().unwrap();
            let back = exported
                .iter()
                .find(|x| x.full_url.as_deref() == Some(url))
                .unwrap_or_else(|| panic!("{url} missing from the export"));
            assert_eq!(back.resource, e["resource"], "{url}");
        }
        let docref = exported
            .iter()
            .find(|e| e.resource_type() == "DocumentReference")
            .unwrap();
        let saved = std::path::absolute(out_dir.join("scan.pdf")).unwrap();
        assert_eq!(
            docref.resource["content"][0]["attachment"]["url"],
            format!("file://{}", saved.display())
        );
        assert_eq!(
            docref.resource["subject"]["reference"],
            in_entries[0]["fullUrl"]
        );

        // The first share alone: only groups 0–4, nothing dangling.
        let part = env.dir.join("part.json");
        // With an own store that does not hold them, the group bodies are
        // found where their locators say.
        let elsewhere = env.dir.join("doctor-own-store");
        std::fs::create_dir_all(&elsewhere).unwrap();
        env.run_json(
            &doctor,
            &[
                "decrypt",
                &first,
                "--fhir",
                path_str(&part),
                "--store",
                path_str(&elsewhere),
            ],
        )
        .await;
        let part: Value = serde_json::from_str(&std::fs::read_to_string(&part).unwrap()).unwrap();
        let entries = medshare_fhir::import(&part.to_string()).unwrap();
        assert!(entries
            .iter()
            .all(|e| medshare_fhir::group_of(&e.resource).number() <= 4));
        let expected = in_entries
            .iter()
            .filter(|e| medshare_fhir::group_of(&e["resource"]).number() <= 4)
            .count();
        assert_eq!(entries.len(), expected);
        let known: HashSet<String> = entries.iter().filter_map(|e| e.full_url.clone()).collect();
        let mut left = Vec::new();
        references(&part, &mut left);
        assert!(
            left.iter().all(|r| medshare_fhir::resolves(r, &known)),
            "{left:?}"
        );
        assert!(part.to_string().matches(medshare_fhir::NOT_SHARED).count() > 0);
    });
}

/// A bundle with one bad element is refused with the resource and path at
/// fault, and nothing is stored (no record, no blob).
#[test]
fn test_fhir_invalid_bundle_refused_with_path() {
    run_test("test_fhir_invalid_bundle_refused_with_path", async {
        let env = CliEnv::new(2, 3).await;
        let patient = env.registered("patient", "patient").await;
        let mut bundle: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture("Bundle-father.json")).unwrap())
                .unwrap();
        bundle["entry"][2]["resource"]["birthDate"] = json!(19700101);
        let bad = env.write_file("bad.json", &bundle.to_string());
        let cluster = env.cluster_arg();
        let args = ["store", "--cluster", &cluster, "--fhir", path_str(&bad)];
        assert_client_err!(
            env.run(&patient, &args).await,
            ClientError::BadFhir(_),
            format!(
                "invalid FHIR bundle {}: Bundle.entry[2].resource (Patient).birthDate: invalid type: integer `19700101`, expected a string",
                bad.display()
            ),
            exit::ERROR
        );
        bundle["entry"][2]["resource"]["birthDate"] = json!("1970-01-01");
        bundle["entry"][3]["resource"]["stauts"] = json!("finished");
        let bad = env.write_file("bad2.json", &bundle.to_string());
        let args = ["store", "--cluster", &cluster, "--fhir", path_str(&bad)];
        assert_client_err!(
            env.run(&patient, &args).await,
            ClientError::BadFhir(_),
            format!(
                "invalid FHIR bundle {}: Bundle.entry[3].resource (Encounter).stauts: unknown element",
                bad.display()
            ),
            exit::ERROR
        );
        assert_client_err!(
            env.run(&patient, &["show", "1"]).await,
            ClientError::RecordNotFound(_),
            format!("record {} not found", patient.record(1)),
            exit::NOT_FOUND
        );
        assert!(files_in(&env.blob_dir().join("records")).is_empty());
    });
}

/// The document's blob modified, cut short, swapped for another blob of
/// the record, or deleted: `decrypt` names the blob, exits non-zero, and
/// writes nothing. Intact again, it saves the document.
#[test]
fn test_attachment_tampered_truncated_swapped_missing() {
    run_test(
        "test_attachment_tampered_truncated_swapped_missing",
        async {
            let env = CliEnv::new(2, 3).await;
            let patient = env.registered("patient", "patient").await;
            let doctor = env.registered("doctor", "doctor").await;
            let a = env.dir.join("xray.dcm");
            let b = env.dir.join("letter.txt");
            std::fs::write(&a, document(200_000, 1)).unwrap();
            std::fs::write(&b, document(150_000, 2)).unwrap();
            store(
                &env,
                &patient,
                "1",
                &[
                    "--age",
                    "40",
                    "--attach",
                    path_str(&a),
                    "--attach",
                    path_str(&b),
                ],
            )
            .await;
            let record = patient.record(1);
            let shared = share(&env, &patient, &record.to_string(), "documents", &doctor).await;
            let dir = env.blob_dir().join("records").join(record.to_string());
            // The two documents, and the documents group's body (over the
            // inline limit with two blob references in it).
            let mut blobs = files_in(&dir);
            assert_eq!(blobs.len(), 3);
            blobs.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).unwrap().len()));
            let (xray, letter) = (blobs[0].clone(), blobs[1].clone());
            let original = std::fs::read(&xray).unwrap();
            let short = |p: &Path| p.file_name().unwrap().to_str().unwrap()[..12].to_string();
            let out = env.dir.join("out");
            let args = ["decrypt", shared.as_str(), "--out-dir", path_str(&out)];
            let decrypt = || env.run(&doctor, &args);

            let mut flipped = original.clone();
            flipped[100_000] ^= 1;
            std::fs::write(&xray, &flipped).unwrap();
            assert_client_err!(
            decrypt().await,
            ClientError::BlobCorrupt { .. },
            format!("blob {} is not what the record commits to: its SHA-256 is not the one the record commits to; nothing was written", short(&xray)),
            exit::DECRYPTION
        );
            assert!(files_in(&out).is_empty());

            std::fs::write(&xray, &original[..original.len() - 1000]).unwrap();
            assert_client_err!(
            decrypt().await,
            ClientError::BlobCorrupt { .. },
            format!(
                "blob {} is not what the record commits to: {} bytes where the record commits to {}; nothing was written",
                short(&xray),
                original.len() - 1000,
                original.len()
            ),
            exit::DECRYPTION
        );
            assert!(files_in(&out).is_empty());

            std::fs::copy(&letter, &xray).unwrap();
            assert!(matches!(
                decrypt().await,
                Err(ClientError::BlobCorrupt { .. })
            ));
            assert!(files_in(&out).is_empty());

            std::fs::remove_file(&xray).unwrap();
            assert_client_err!(
                decrypt().await,
                ClientError::BlobMissing { .. },
                format!(
                    "blob {} is missing from the store file://{}",
                    short(&xray),
                    env.blob_dir().canonicalize().unwrap().display()
                ),
                exit::NOT_FOUND
            );
            assert!(files_in(&out).is_empty());

            std::fs::write(&xray, &original).unwrap();
            let got = env
                .run_json(&doctor, &["decrypt", &shared, "--out-dir", path_str(&out)])
                .await;
            assert_eq!(got["attachments"].as_array().unwrap().len(), 2);
            assert_eq!(
                std::fs::read(out.join("xray.dcm")).unwrap(),
                document(200_000, 1)
            );
            assert_eq!(
                std::fs::read(out.join("letter.txt")).unwrap(),
                document(150_000, 2)
            );
            // An existing bundle file is not overwritten, and nothing else
            // is written either.
            let existing = env.write_file("existing.json", "{}");
            let out2 = env.dir.join("out2");
            assert_client_err!(
                env.run(
                    &doctor,
                    &[
                        "decrypt",
                        &shared,
                        "--out-dir",
                        path_str(&out2),
                        "--fhir",
                        path_str(&existing)
                    ]
                )
                .await,
                ClientError::Io(_),
                format!("{} exists: not overwritten", existing.display()),
                exit::ERROR
            );
            assert!(!out2.exists());
            assert_eq!(std::fs::read_to_string(&existing).unwrap(), "{}");
            // A second run does not overwrite what the first saved.
            assert_client_err!(
                decrypt().await,
                ClientError::Io(_),
                format!("{} exists: not overwritten", out.join("xray.dcm").display()),
                exit::ERROR
            );
        },
    );
}

/// `erase` deletes every blob of the record — the current version's and
/// an earlier version's — and closes it; the audit trail shows the close.
/// A recipient who opened the share before holds the blob references and
/// keys, and still cannot fetch the data.
#[test]
fn test_erase_deletes_blobs_and_closes() {
    run_test("test_erase_deletes_blobs_and_closes", async {
        let env = CliEnv::new(2, 3).await;
        let patient = env.registered("patient", "patient").await;
        let doctor = env.registered("doctor", "doctor").await;
        let a = env.dir.join("v1.pdf");
        std::fs::write(&a, document(50_000, 3)).unwrap();
        let bundle = fixture("Bundle-father.json");
        store(
            &env,
            &patient,
            "1",
            &["--fhir", path_str(&bundle), "--attach", path_str(&a)],
        )
        .await;
        let record = patient.record(1);
        let dir = env.blob_dir().join("records").join(record.to_string());
        let v1 = files_in(&dir).len();
        assert!(v1 >= 2, "{v1}");
        // Version 2 with another document: version 1's blobs are deleted.
        let b = env.dir.join("v2.pdf");
        std::fs::write(&b, document(60_000, 4)).unwrap();
        store(
            &env,
            &patient,
            "1",
            &[
                "--new-version",
                "--drop-attachment",
                "v1.pdf",
                "--fhir",
                path_str(&bundle),
                "--attach",
                path_str(&b),
            ],
        )
        .await;
        let v2 = files_in(&dir);
        assert_eq!(v2.len(), v1);
        let shared = share(&env, &patient, &record.to_string(), "documents", &doctor).await;

        // What the doctor learned from the share: the blob's reference and key.
        let doctor_client = {
            use medshare_client::user::Client;
            use solana_sdk::signature::Keypair;
            let kp = std::fs::read_to_string(&doctor.keypair).unwrap();
            let bytes: Vec<u8> = serde_json::from_str(&kp).unwrap();
            Client::new(
                env.chain.clone(),
                Keypair::try_from(&bytes[..]).unwrap(),
                doctor.secret_key(),
            )
            .with_blobs(medshare_client::blobs::BlobStore::open(path_str(&env.blob_dir())).unwrap())
        };
        let opened = doctor_client
            .decrypt(&shared.parse().unwrap())
            .await
            .unwrap();
        let doc = opened.contents.attachments[0].blob.clone();
        let store = doctor_client.blob_store().unwrap();
        assert!(store.exists(&record, &doc).await.unwrap());

        let out = env.run(&patient, &["erase", "1"]).await.unwrap();
        assert_eq!(
            out,
            format!("record {record} erased: {v1} blobs deleted from the store, record closed (capsules and inline ciphertexts already in the ledger's history stay there)")
        );
        assert!(files_in(&dir).is_empty());
        assert_client_err!(
            store.get_bytes(&record, &doc, u64::MAX).await,
            ClientError::BlobMissing { .. },
            format!(
                "blob {} is missing from the store {}",
                doc.short(),
                store.url()
            ),
            exit::NOT_FOUND
        );
        assert_client_err!(
            env.run(&doctor, &["decrypt", &shared]).await,
            ClientError::RecordNotFound(_),
            format!("record {record} not found"),
            exit::NOT_FOUND
        );
        let trail = env
            .audit(&patient, &[&record.to_string()], |t| t.contains("closed"))
            .await;
        assert!(trail.contains("record closed"), "{trail}");
        // A record closed without erasing: `erase` still deletes its blobs.
        let c = env.dir.join("c.pdf");
        std::fs::write(&c, document(10_000, 5)).unwrap();
        self::store(
            &env,
            &patient,
            "2",
            &["--age", "3", "--attach", path_str(&c)],
        )
        .await;
        env.run(&patient, &["close-record", "2"]).await.unwrap();
        let dir2 = env
            .blob_dir()
            .join("records")
            .join(patient.record(2).to_string());
        assert_eq!(files_in(&dir2).len(), 1);
        assert_eq!(
            env.run_json(&patient, &["erase", "2"]).await["blobs_deleted"],
            1
        );
        assert!(files_in(&dir2).is_empty());
        // Erasing again: the record is gone.
        assert!(matches!(
            env.run(&patient, &["erase", "1"]).await,
            Err(ClientError::RecordNotFound(_))
        ));
    });
}

/// A new version keeps the files of the one it replaces unless the owner
/// drops them by name: storing the same bundle again without the earlier
/// `--attach` keeps the letter (its blob stays, `show --out-dir` returns it
/// byte for byte); `--drop-attachment` removes it, and its blob goes once
/// the new version is written.
#[test]
fn test_new_version_keeps_attachments_unless_dropped() {
    run_test("test_new_version_keeps_attachments_unless_dropped", async {
        let env = CliEnv::new(2, 3).await;
        let patient = env.registered("patient", "patient").await;
        let bundle = fixture("Bundle-father.json");
        let letter = env.dir.join("letter.txt");
        std::fs::write(&letter, document(40_000, 6)).unwrap();
        let cluster = env.cluster_arg();
        let first = env
            .run_json(
                &patient,
                &[
                    "store",
                    "--cluster",
                    &cluster,
                    "--fhir",
                    path_str(&bundle),
                    "--attach",
                    path_str(&letter),
                ],
            )
            .await;
        assert_eq!(first["record_id"], 1);
        let names = |out: &Value| -> Vec<String> {
            out["attachments"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|a| {
                            a.as_str()
                                .or_else(|| a["name"].as_str())
                                .unwrap_or_default()
                                .to_string()
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        assert!(names(&first).contains(&"letter.txt".to_string()), "{first}");
        let record = patient.record(1);
        let dir = env.blob_dir().join("records").join(record.to_string());
        let version_1 = files_in(&dir);

        // The same bundle again, without --attach: the letter stays.
        let again = [
            "store",
            "--cluster",
            &cluster,
            "--record-id",
            "1",
            "--new-version",
            "--fhir",
            path_str(&bundle),
        ];
        let out = env.run_json(&patient, &again).await;
        assert_eq!(out["version"], 2);
        assert!(names(&out).contains(&"letter.txt".to_string()), "{out}");
        assert_eq!(out["replaced"]["previous_version"], 1);
        assert_eq!(out["replaced"]["attachments_kept"], json!(["letter.txt"]));
        assert!(
            out["replaced"].get("attachments_dropped").is_none(),
            "{out}"
        );
        // Group bodies are sealed anew with each version; the letter's blob
        // is the one that stays.
        let version_2 = files_in(&dir);
        assert_eq!(version_2.len(), version_1.len());
        let kept: Vec<&PathBuf> = version_1.iter().filter(|f| version_2.contains(f)).collect();
        assert_eq!(kept.len(), 1, "{version_1:?} {version_2:?}");
        let saved = env.dir.join("saved");
        env.run_json(&patient, &["show", "1", "--out-dir", path_str(&saved)])
            .await;
        assert_eq!(
            std::fs::read(saved.join("letter.txt")).unwrap(),
            document(40_000, 6)
        );

        // Dropped by name: gone from the record and from the store.
        let mut drop = again.to_vec();
        drop.extend(["--drop-attachment", "letter.txt"]);
        let out = env.run(&patient, &drop).await.expect("dropped");
        assert!(
            out.contains("\n  attachments dropped: letter.txt\n"),
            "{out}"
        );
        let shown = env.run_json(&patient, &["show", "1"]).await;
        assert_eq!(shown["version"], 3);
        assert!(
            !names(&shown).contains(&"letter.txt".to_string()),
            "{shown}"
        );
        assert!(!files_in(&dir).contains(kept[0]));
    });
}

/// What `store` is given says what it is: a gzip-compressed bundle is read
/// as it is; JSON that is not FHIR, an empty Bundle, a bundle given to
/// `--file`, and bytes that are not text each get their own line; and
/// `decrypt` of a record's address says it is a record.
#[test]
fn test_store_inputs_say_what_they_are() {
    run_test("test_store_inputs_say_what_they_are", async {
        use std::io::Write;
        let env = CliEnv::new(2, 3).await;
        let patient = env.registered("patient", "patient").await;
        let cluster = env.cluster_arg();
        let text = std::fs::read(fixture("Bundle-father.json")).unwrap();
        let gz = env.dir.join("father.json.gz");
        let mut encoder = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        encoder.write_all(&text).unwrap();
        encoder.finish().unwrap();
        let stored = env
            .run_json(
                &patient,
                &["store", "--cluster", &cluster, "--fhir", path_str(&gz)],
            )
            .await;
        let plain = medshare_fhir::import(std::str::from_utf8(&text).unwrap()).unwrap();
        assert_eq!(stored["fhir_resources"], plain.len());

        let store = |flag: &'static str, path: PathBuf| {
            let cluster = cluster.clone();
            let patient = &patient;
            let env = &env;
            async move {
                env.run(
                    patient,
                    &["store", "--cluster", &cluster, flag, path_str(&path)],
                )
                .await
            }
        };
        let record_file = env.write_file("record.json", r#"{"patient_id": "P-1", "age": 42}"#);
        assert_client_err!(
            store("--fhir", record_file.clone()).await,
            ClientError::BadFhir(_),
            format!("invalid FHIR bundle {}: JSON without a resourceType: not a FHIR resource (a FHIR R4 Bundle is expected)", record_file.display()),
            exit::ERROR
        );
        let empty = env.write_file(
            "empty.json",
            r#"{"resourceType": "Bundle", "type": "collection", "entry": []}"#,
        );
        assert_client_err!(
            store("--fhir", empty.clone()).await,
            ClientError::BadFhir(_),
            format!(
                "invalid FHIR bundle {}: the Bundle has no entries",
                empty.display()
            ),
            exit::ERROR
        );
        let bundle = fixture("Bundle-father.json");
        assert_client_err!(
            store("--file", bundle.clone()).await,
            ClientError::BadDataFile(_),
            format!(
                "{}: a FHIR Bundle, not a record file: pass FHIR with --fhir",
                bundle.display()
            ),
            exit::ERROR
        );
        let binary = env.dir.join("scan.bin");
        std::fs::write(&binary, [0xffu8, 0xfe, 0x00, 0x81]).unwrap();
        assert_client_err!(
            store("--fhir", binary.clone()).await,
            ClientError::Io(_),
            format!(
                "{}: not text (a FHIR JSON Bundle is expected)",
                binary.display()
            ),
            exit::ERROR
        );
        let broken = env.dir.join("broken.json.gz");
        std::fs::write(&broken, [0x1fu8, 0x8b, 0x08, 0x00, 0x01]).unwrap();
        let e = store("--file", broken.clone()).await.expect_err("refused");
        assert!(
            e.to_string().starts_with(&format!(
                "{}: gzip-compressed, but it does not decompress (",
                broken.display()
            )),
            "{e}"
        );

        // decrypt of a record's address (not a share result).
        let record = patient.record(1).to_string();
        assert_client_err!(
            env.run(&patient, &["decrypt", &record]).await,
            ClientError::Chain(medshare_sdk::chain::ChainError::WrongKind { .. }),
            format!("account {record} is a record, not a share result"),
            exit::NOT_FOUND
        );
    });
}

/// A group body over 64 MiB is refused before anything is written: no
/// record, no blob (files that large go through `--attach`).
#[test]
fn test_group_body_over_limit_refused() {
    run_test("test_group_body_over_limit_refused", async {
        let env = CliEnv::new(2, 3).await;
        let patient = env.registered("patient", "patient").await;
        let notes = "x".repeat(medshare_client::contents::MAX_BODY as usize);
        let file = env.write_file("huge.json", &json!({ "notes": notes }).to_string());
        let cluster = env.cluster_arg();
        let args = ["store", "--cluster", &cluster, "--file", path_str(&file)];
        assert_client_err!(
            env.run(&patient, &args).await,
            ClientError::GroupTooLarge { .. },
            "field group 'notes' is 67108876 bytes; at most 67108864 per group (attach large files with --attach)",
            exit::ERROR
        );
        assert_client_err!(
            env.run(&patient, &["show", "1"]).await,
            ClientError::RecordNotFound(_),
            format!("record {} not found", patient.record(1)),
            exit::NOT_FOUND
        );
        assert!(files_in(&env.blob_dir().join("records")).is_empty());
    });
}

const AK: &str = "medshare-test-access";
const SK: &str = "medshare-test-secret-0123456789";

/// A real S3-compatible server in its own process: `s3-server` (this
/// crate's binary, `s3s-fs` from crates.io) serving `root`. Returns the
/// endpoint and the child, killed when dropped.
fn start_s3(root: &Path) -> (String, ServerProcess) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_s3-server"))
        .args([path_str(root), AK, SK])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start s3-server");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("s3-server prints its address");
    let endpoint = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("s3-server said {line:?}"))
        .to_string();
    (endpoint, ServerProcess(child))
}

/// Kills the server when the test ends, whatever happens.
struct ServerProcess(std::process::Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The same flow against a real S3 server in its own process: a 12 MiB
/// document goes up in 5 MiB parts, the doctor gets it back, and `erase`
/// deletes the objects on the server.
#[test]
fn test_s3_store_round_trip_and_erase() {
    run_test("test_s3_store_round_trip_and_erase", async {
        let env = CliEnv::new(2, 3).await;
        let root = env.dir.join("s3root");
        // s3s-fs keeps multipart state in files named after the base64 of
        // bucket and key, which must fit the file system's 255-byte names:
        // a short bucket and prefix (real S3 allows 1,024-byte keys).
        std::fs::create_dir_all(root.join("blobs")).unwrap();
        let (endpoint, _server) = start_s3(&root);
        let opts = [
            format!("aws_endpoint={endpoint}"),
            "aws_allow_http=true".to_string(),
            "aws_region=us-east-1".to_string(),
            format!("aws_access_key_id={AK}"),
            format!("aws_secret_access_key={SK}"),
            "aws_virtual_hosted_style_request=false".to_string(),
        ];
        let s3 = "s3://blobs/c";
        // `--store s3://… --store-option k=v …`, then the command.
        let with_s3 = |args: &[&'static str]| -> Vec<String> {
            let mut v = vec!["--store".to_string(), s3.to_string()];
            for o in &opts {
                v.push("--store-option".into());
                v.push(o.clone());
            }
            v.extend(args.iter().map(|a| a.to_string()));
            v
        };
        let patient = env.registered("patient", "patient").await;
        let doctor = env.registered("doctor", "doctor").await;
        let a = env.dir.join("mri.dcm");
        std::fs::write(&a, document(12 << 20, 9)).unwrap();
        let cluster = env.cluster_arg();
        let a_path = path_str(&a).to_string();
        let store_args = with_s3(&["store", "--age", "61"]);
        let mut args: Vec<&str> = store_args.iter().map(String::as_str).collect();
        args.extend(["--cluster", &cluster, "--attach", &a_path]);
        env.run_json(&patient, &args).await;
        let record = patient.record(1);
        let on_server = root.join("blobs/c/records").join(record.to_string());
        let objects = files_in(&on_server);
        assert_eq!(objects.len(), 1);
        assert!(std::fs::metadata(&objects[0]).unwrap().len() > 12 << 20);
        let shared = share(
            &env,
            &patient,
            &record.to_string(),
            "identity,documents",
            &doctor,
        )
        .await;
        let out = env.dir.join("out");
        let out_path = path_str(&out).to_string();
        let decrypt_args = with_s3(&["decrypt"]);
        let mut args: Vec<&str> = decrypt_args.iter().map(String::as_str).collect();
        args.extend([shared.as_str(), "--out-dir", &out_path]);
        let got = env.run_json(&doctor, &args).await;
        assert_eq!(got["data"]["age"], 61);
        assert_eq!(
            std::fs::read(out.join("mri.dcm")).unwrap(),
            document(12 << 20, 9)
        );
        let erase_args = with_s3(&["erase", "1"]);
        let args: Vec<&str> = erase_args.iter().map(String::as_str).collect();
        let erased = env.run_json(&patient, &args).await;
        assert_eq!(erased["blobs_deleted"], 1);
        assert!(files_in(&on_server).is_empty());
    });
}
