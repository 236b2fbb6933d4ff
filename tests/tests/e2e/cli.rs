//! End-to-end tests of the `medshare` commands keygen, register, store,
//! show, share, inbox, decrypt, cancel, audit and demo, through
//! [`medshare_client::cli::execute`] with arguments parsed as the binary
//! parses them, on the embedded chain with a cluster of real node tasks
//! (1-of-1, 2-of-3, 3-of-5). Set `MEDSHARE_TEST_URL` to run the same flows
//! against a validator (tests that warp slots are skipped there).
//!
//! Each test asserts the exact output, or the exact error variant and exit code.

use std::time::{Duration, Instant};

use clap::Parser;
use medshare::error::MedshareError;
use medshare::state::{Identity, Role};
use medshare_client::cli::{execute, Cli};
use medshare_client::data::PatientData;
use medshare_client::demo::sample_record;
use medshare_client::error::{exit, ClientError};
use medshare_sdk::chain::fetch;
use medshare_sdk::keystore::KeyStoreError;
use medshare_tests::assert_client_err;
use medshare_tests::cli_env::*;
use serde_json::{json, Value};
use solana_sdk::pubkey::Pubkey;

const ALL_GROUPS: [&str; 5] = ["identity", "vitals", "diagnoses", "medications", "notes"];

/// The fields of `vitals` and `medications` of `d`: what a doctor given
/// `--groups vitals,medications` must see, and nothing else.
fn vitals_and_medications(d: &PatientData) -> PatientData {
    PatientData {
        blood_type: d.blood_type.clone(),
        weight_kg: d.weight_kg,
        height_cm: d.height_cm,
        allergies: d.allergies.clone(),
        medications: d.medications.clone(),
        ..Default::default()
    }
}

fn to_json(d: &PatientData) -> Value {
    serde_json::to_value(d).expect("JSON")
}

/// Asserts the program refused with `expected`, and the exit code.
#[track_caller]
fn assert_refused(res: Result<String, ClientError>, expected: MedshareError, code: i32) {
    match res {
        Err(e @ ClientError::Chain(_)) => {
            let ClientError::Chain(c) = &e else {
                unreachable!()
            };
            assert_eq!(
                c.medshare().map(|m| m as u32),
                Some(expected as u32),
                "expected {expected:?}, got {e}"
            );
            assert_eq!(
                e.to_string(),
                format!("refused by the MedShare program: {expected}")
            );
            assert_eq!(e.exit_code(), code, "exit code of {e}");
        }
        other => panic!("expected the program to refuse with {expected:?}, got {other:?}"),
    }
}

/// The error of a command that must fail.
#[track_caller]
fn err(res: Result<String, ClientError>) -> ClientError {
    match res {
        Ok(out) => panic!("expected an error, got output: {out}"),
        Err(e) => e,
    }
}

/// The X25519 public key (hex) sealed in `user`'s key file.
fn x25519_hex(user: &User) -> String {
    hex::encode(user.secret_key().public_key().0)
}

/// The Edwards form (what the program stores) of `user`'s key.
fn edwards(user: &User) -> [u8; 32] {
    user.secret_key()
        .public_key()
        .edwards()
        .expect("Edwards form")
        .0
}

/// A patient who stored the sample record as record 1, a registered doctor,
/// and the doctor's completed share of `vitals,medications`.
struct Shared {
    env: CliEnv,
    patient: User,
    doctor: User,
    record: Pubkey,
    computation: Pubkey,
    share_result: Pubkey,
}

async fn shared(t: u8, n: u8) -> Shared {
    let env = CliEnv::new(t, n).await;
    let patient = env.registered("patient", "patient").await;
    let doctor = env.registered("doctor", "doctor").await;
    let record = patient.record(1);
    let stored = env.store(&patient, 1, &sample_record()).await;
    assert_eq!(
        stored,
        json!({"record": record.to_string(), "record_id": 1, "version": 1, "groups": ALL_GROUPS})
    );

    let (out, progress) = env
        .run_progress(
            &patient,
            &[
                "share",
                "1",
                "--groups",
                "vitals,medications",
                "--to",
                &doctor.wallet(),
                "--json",
            ],
        )
        .await;
    let out: Value = serde_json::from_str(&out.expect("share")).expect("JSON");
    let computation = medshare::pda::computation(&env.cluster_address(), 0);
    let share_result = medshare::pda::share_result(&computation);
    assert_eq!(
        out,
        json!({
            "computation": computation.to_string(),
            "share_result": share_result.to_string(),
            "status": "completed",
            "groups": ["vitals", "medications"],
        })
    );
    // Progress lines: "k/t contributions", k never above t and never going back.
    let mut last = 0;
    for l in &progress {
        let counts = l
            .strip_prefix("waiting for the cluster: ")
            .and_then(|r| r.strip_suffix(" contributions"))
            .unwrap_or_else(|| panic!("unexpected progress line: {l}"));
        let (have, need) = counts.split_once('/').expect("k/t");
        let have: usize = have.parse().expect("k");
        assert_eq!(need, t.to_string(), "{l}");
        assert!(have >= last && have <= t as usize, "{progress:?}");
        last = have;
    }
    Shared {
        env,
        patient,
        doctor,
        record,
        computation,
        share_result,
    }
}

/// share → inbox → decrypt for a `t`-of-`n` cluster.
async fn share_inbox_decrypt(t: u8, n: u8) {
    let s = shared(t, n).await;
    let env = &s.env;
    let inbox = env
        .run_json(&s.doctor, &["inbox", "--cluster", &env.cluster_arg()])
        .await;
    assert_eq!(
        inbox,
        json!([{
            "share": s.share_result.to_string(),
            "record": s.record.to_string(),
            "owner": s.patient.wallet(),
            "groups": ["vitals", "medications"],
            "completed": true,
            "version": 1,
        }])
    );
    let opened = env
        .run_json(&s.doctor, &["decrypt", &s.share_result.to_string()])
        .await;
    assert_eq!(
        opened,
        json!({
            "record": s.record.to_string(),
            "owner": s.patient.wallet(),
            "version": 1,
            "groups": ["vitals", "medications"],
            "data": to_json(&vitals_and_medications(&sample_record())),
        })
    );
    // The callback closed the computation (rent back to the patient).
    let accounts = env.chain.accounts(&[s.computation]).await.expect("chain");
    assert!(accounts[0].is_none(), "computation closed");
    // Exactly t nodes contributed, then one of them finalized.
    let accepted = |out: &str| {
        serde_json::from_str::<Value>(out)
            .expect("JSON")
            .as_array()
            .expect("array")
            .iter()
            .filter(|e| e["event"] == "ContributionAccepted")
            .count()
    };
    let trail = env
        .audit(&s.patient, &["1", "--json"], |out| {
            accepted(out) == t as usize
        })
        .await;
    assert_eq!(accepted(&trail), t as usize);
}

// ---------------------------------------------------------------- keygen

#[test]
fn test_cli_keygen_creates_sealed_key() {
    run_test("test_cli_keygen_creates_sealed_key", async {
        let env = CliEnv::without_cluster().await;
        let u = env.user("alice").await;
        assert!(!u.key_file.exists());
        let out = env.run(&u, &["keygen"]).await.expect("keygen");
        assert!(u.key_file.exists(), "keygen creates the key file");
        let key = u.secret_key();
        let public = hex::encode(key.public_key().0);
        assert_eq!(
            out,
            format!(
                "encryption key (X25519): {public}\nsealed in {}\nnext: medshare register",
                u.key_file.display()
            )
        );

        // The secret is not in the file in clear (raw, hex, or as a JSON byte array).
        let secret = key.to_bytes();
        let file = std::fs::read(&u.key_file).expect("key file");
        assert!(!file.windows(32).any(|w| w == &secret[..]), "raw secret");
        let text = String::from_utf8_lossy(&file).to_lowercase();
        assert!(!text.contains(&hex::encode(&secret[..])), "hex secret");
        let as_array = serde_json::to_string(&secret.to_vec()).expect("JSON");
        assert!(
            !text.contains(as_array.trim_matches(['[', ']'])),
            "array secret"
        );
        assert!(!text.contains(&u.passphrase().to_lowercase()), "passphrase");

        // --json names the wallet, the key and the file.
        let bob = env.user("bob").await;
        let v = env.run_json(&bob, &["keygen"]).await;
        assert_eq!(
            v,
            json!({
                "wallet": bob.wallet(),
                "x25519": x25519_hex(&bob),
                "key_file": bob.key_file.display().to_string(),
            })
        );
        assert_ne!(v["x25519"], json!(public), "fresh keys differ");

        // The sealed file is bound to its wallet: bob cannot use alice's file,
        // even with her passphrase.
        let thief = User {
            name: "thief".into(),
            pubkey: bob.pubkey,
            keypair: bob.keypair.clone(),
            key_file: u.key_file.clone(),
            passphrase_file: u.passphrase_file.clone(),
        };
        let e = err(env.run(&thief, &["register"]).await);
        assert!(
            matches!(&e, ClientError::KeyStore(KeyStoreError::Undecryptable(p)) if *p == u.key_file),
            "{e:?}"
        );
    });
}

#[test]
fn test_cli_keygen_twice_refuses() {
    run_test("test_cli_keygen_twice_refuses", async {
        let env = CliEnv::without_cluster().await;
        let u = env.user("alice").await;
        env.run(&u, &["keygen"]).await.expect("first keygen");
        let before = std::fs::read(&u.key_file).expect("key file");
        let e = err(env.run(&u, &["keygen"]).await);
        assert!(
            matches!(&e, ClientError::KeyStore(KeyStoreError::Exists(p)) if *p == u.key_file),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "key store {} already exists; refusing to overwrite it",
                u.key_file.display()
            )
        );
        assert_eq!(e.exit_code(), exit::ERROR);
        assert_eq!(
            std::fs::read(&u.key_file).expect("key file"),
            before,
            "the existing key is untouched"
        );
    });
}

#[test]
fn test_cli_keygen_wrong_passphrase_and_missing_files() {
    run_test(
        "test_cli_keygen_wrong_passphrase_and_missing_files",
        async {
            let env = CliEnv::without_cluster().await;
            let u = env.user("alice").await;
            env.run(&u, &["keygen"]).await.expect("keygen");

            // A later command with the wrong passphrase.
            u.set_passphrase("not the passphrase");
            let e = err(env.run(&u, &["register"]).await);
            assert!(
                matches!(&e, ClientError::KeyStore(KeyStoreError::Undecryptable(p)) if *p == u.key_file),
                "{e:?}"
            );
            assert!(e.to_string().contains("cannot be decrypted"), "{e}");
            assert_eq!(e.exit_code(), exit::ERROR);

            // No key file yet.
            let v = env.user("victor").await;
            let e = err(env.run(&v, &["register"]).await);
            match &e {
                ClientError::Io(m) => assert_eq!(
                    m,
                    &format!(
                        "no encryption key at {} (run `medshare keygen`)",
                        v.key_file.display()
                    )
                ),
                other => panic!("{other:?}"),
            }
            assert_eq!(e.exit_code(), exit::ERROR);

            // No passphrase file.
            std::fs::remove_file(&v.passphrase_file).expect("remove");
            let e = err(env.run(&v, &["keygen"]).await);
            assert!(
                matches!(&e, ClientError::KeyStore(KeyStoreError::Io { path, .. }) if *path == v.passphrase_file),
                "{e:?}"
            );
            assert!(!v.key_file.exists(), "nothing was created");

            // No wallet file.
            let ghost = User {
                name: "ghost".into(),
                pubkey: Pubkey::new_unique(),
                keypair: env.dir.join("no-such-wallet.json"),
                key_file: env.dir.join("ghost-key.json"),
                passphrase_file: u.passphrase_file.clone(),
            };
            let e = err(env.run(&ghost, &["keygen"]).await);
            let expected = format!(
                "cannot read wallet keypair {} (create one with `solana-keygen new` or pass -k)",
                ghost.keypair.display()
            );
            assert!(matches!(&e, ClientError::Io(m) if *m == expected), "{e:?}");
        },
    );
}

// -------------------------------------------------------------- register

#[test]
fn test_cli_register_roles_and_update() {
    run_test("test_cli_register_roles_and_update", async {
        let env = CliEnv::without_cluster().await;
        let identity = |u: &User| {
            let chain = env.chain.clone();
            let addr = medshare::pda::identity(&u.pubkey);
            async move {
                fetch::<Identity>(chain.as_ref(), &addr)
                    .await
                    .expect("chain")
                    .expect("identity exists")
            }
        };

        let patient = env.user_with_key("patient").await;
        let out = env
            .run(&patient, &["register", "--role", "patient"])
            .await
            .expect("register");
        assert_eq!(
            out,
            format!(
                "registered {} as Patient with key {}",
                patient.wallet(),
                x25519_hex(&patient)
            )
        );
        let id = identity(&patient).await;
        assert_eq!(id.wallet, patient.pubkey);
        assert_eq!(id.role, Role::Patient);
        assert_eq!(id.encryption_key, edwards(&patient));

        let doctor = env.user_with_key("doctor").await;
        let v = env
            .run_json(&doctor, &["register", "--role", "doctor"])
            .await;
        assert_eq!(
            v,
            json!({"wallet": doctor.wallet(), "x25519": x25519_hex(&doctor)})
        );
        assert_eq!(identity(&doctor).await.role, Role::Doctor);

        // Running it again updates the role (same key).
        let out = env
            .run(&patient, &["register", "--role", "researcher"])
            .await
            .expect("update");
        assert_eq!(
            out,
            format!(
                "registered {} as Researcher with key {}",
                patient.wallet(),
                x25519_hex(&patient)
            )
        );
        let id = identity(&patient).await;
        assert_eq!(id.role, Role::Researcher);
        assert_eq!(id.encryption_key, edwards(&patient));
        // The default role is patient.
        env.run(&patient, &["register"])
            .await
            .expect("default role");
        assert_eq!(identity(&patient).await.role, Role::Patient);
    });
}

// ----------------------------------------------------------------- store

#[test]
fn test_cli_store_from_flags_then_new_version() {
    run_test("test_cli_store_from_flags_then_new_version", async {
        let env = CliEnv::new(1, 1).await;
        let p = env.user_with_key("patient").await;
        let cluster = env.cluster_arg();
        let record = p.record(1);
        let out = env
            .run(
                &p,
                &[
                    "store",
                    "--cluster",
                    &cluster,
                    "--patient-id",
                    "P-7",
                    "--age",
                    "42",
                    "--gender",
                    "female",
                    "--blood-type",
                    "O+",
                    "--weight-kg",
                    "68.5",
                    "--allergy",
                    "penicillin",
                    "--allergy",
                    "latex",
                ],
            )
            .await
            .expect("store");
        assert_eq!(
            out,
            format!("stored new record {record} (id 1) version 1: [identity, vitals, medications]")
        );
        let shown = env.run_json(&p, &["show", "1"]).await;
        let first = json!({
            "record": record.to_string(),
            "version": 1,
            "data": {
                "patient_id": "P-7", "age": 42, "gender": "female",
                "blood_type": "O+", "weight_kg": 68.5,
                "allergies": ["penicillin", "latex"],
            },
        });
        assert_eq!(shown, first);

        // Storing again without an id makes a new record: record 1 stays.
        let v = env
            .run_json(&p, &["store", "--cluster", &cluster, "--age", "7"])
            .await;
        assert_eq!(
            v,
            json!({"record": p.record(2).to_string(), "record_id": 2, "version": 1, "groups": ["identity"]})
        );
        assert_eq!(env.run_json(&p, &["show", "1"]).await, first);

        // An id that has a record is refused, and nothing changes.
        let notes = [
            "store",
            "--cluster",
            &cluster,
            "--notes",
            "Follow-up in 3 months.",
        ];
        let mut again = notes.to_vec();
        again.extend(["--record-id", "1"]);
        assert_client_err!(
            env.run(&p, &again).await,
            ClientError::RecordExists { record_id: 1, version: 1 },
            "record 1 already exists (version 1): add --new-version to replace its contents (its attachments are kept unless dropped with --drop-attachment), or leave out --record-id to store a new record",
            exit::ERROR
        );
        assert_eq!(env.run_json(&p, &["show", "1"]).await, first);

        // --new-version replaces the contents and says what went.
        again.push("--new-version");
        let out = env.run(&p, &again).await.expect("new version");
        assert_eq!(
            out,
            format!(
                "stored record {record} (id 1) version 2: [notes]\n\
                 replaced version 1\n  \
                 groups removed: identity, vitals, medications\n  \
                 earlier shares of this record no longer open; their recipients need a new share"
            )
        );
        let shown = env.run_json(&p, &["show", &record.to_string()]).await;
        assert_eq!(
            shown,
            json!({"record": record.to_string(), "version": 2, "data": {"notes": "Follow-up in 3 months."}})
        );

        // --new-version of a record that does not exist; dropping a file
        // the record does not have.
        let mut missing = notes.to_vec();
        missing.extend(["--record-id", "9", "--new-version"]);
        assert_client_err!(
            env.run(&p, &missing).await,
            ClientError::NoRecordToReplace(9),
            "record 9 does not exist: leave out --new-version to create it",
            exit::NOT_FOUND
        );
        again.extend(["--drop-attachment", "letter.pdf"]);
        assert_client_err!(
            env.run(&p, &again).await,
            ClientError::NoSuchAttachment { record_id: 1, .. },
            "record 1 has no attachment \"letter.pdf\" (it has: none)",
            exit::NOT_FOUND
        );
        // --new-version needs --record-id, --drop-attachment needs --new-version.
        for args in [
            &[
                "store",
                "--cluster",
                &cluster,
                "--age",
                "1",
                "--new-version",
            ][..],
            &[
                "store",
                "--cluster",
                &cluster,
                "--record-id",
                "1",
                "--drop-attachment",
                "x",
            ][..],
        ] {
            let e = Cli::try_parse_from(env.argv(&p, args)).expect_err("refused by clap");
            assert_eq!(e.exit_code(), exit::USAGE, "{args:?}");
        }

        // Nothing to store.
        assert_client_err!(
            env.run(&p, &["store", "--cluster", &cluster]).await,
            ClientError::EmptyRecord,
            "the record has no fields",
            exit::ERROR
        );
    });
}

#[test]
fn test_cli_store_from_json_file() {
    run_test("test_cli_store_from_json_file", async {
        let env = CliEnv::new(1, 1).await;
        let p = env.user_with_key("patient").await;
        let data = sample_record();
        let v = env.store(&p, 7, &data).await;
        assert_eq!(
            v,
            json!({"record": p.record(7).to_string(), "record_id": 7, "version": 1, "groups": ALL_GROUPS})
        );
        let shown = env.run_json(&p, &["show", "7"]).await;
        assert_eq!(shown["data"], to_json(&data));

        // Flags complete or override the file; again → version 2.
        let file = env.data_file("base.json", &data);
        let cluster = env.cluster_arg();
        let v = env
            .run_json(
                &p,
                &[
                    "store",
                    "--cluster",
                    &cluster,
                    "--record-id",
                    "7",
                    "--new-version",
                    "--file",
                    path_str(&file),
                    "--age",
                    "43",
                    "--medication",
                    "cetirizine 10 mg",
                ],
            )
            .await;
        assert_eq!(
            v,
            json!({"record": p.record(7).to_string(), "record_id": 7, "version": 2, "groups": ALL_GROUPS,
                   "replaced": {"previous_version": 1}})
        );
        let mut expected = data.clone();
        expected.age = Some(43);
        expected.medications.push("cetirizine 10 mg".into());
        let shown = env.run_json(&p, &["show", "7"]).await;
        assert_eq!(
            shown,
            json!({"record": p.record(7).to_string(), "version": 2, "data": to_json(&expected)})
        );
    });
}

#[test]
fn test_cli_store_unknown_field_in_file() {
    run_test("test_cli_store_unknown_field_in_file", async {
        let env = CliEnv::without_cluster().await;
        let p = env.user_with_key("patient").await;
        let file = env.write_file("bad.json", r#"{"patient_id": "P-1", "ssn": "000-00-0000"}"#);
        let cluster = Pubkey::new_unique().to_string();
        let e = err(env
            .run(
                &p,
                &["store", "--cluster", &cluster, "--file", path_str(&file)],
            )
            .await);
        match &e {
            ClientError::BadDataFile(m) => assert!(
                m.starts_with(&format!(
                    "{}: unknown field `ssn`, expected one of",
                    file.display()
                )),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(e.exit_code(), exit::ERROR);

        // A file that does not exist.
        let missing = env.dir.join("missing.json");
        let e = err(env
            .run(
                &p,
                &["store", "--cluster", &cluster, "--file", path_str(&missing)],
            )
            .await);
        assert!(
            matches!(&e, ClientError::Io(m) if m.starts_with(&format!("{}: ", missing.display()))),
            "{e:?}"
        );
    });
}

#[test]
fn test_cli_store_unknown_or_unready_cluster() {
    run_test("test_cli_store_unknown_or_unready_cluster", async {
        let env = CliEnv::without_cluster().await;
        let p = env.user_with_key("patient").await;
        let nowhere = Pubkey::new_unique();
        let e = err(env
            .run(
                &p,
                &["store", "--cluster", &nowhere.to_string(), "--age", "42"],
            )
            .await);
        assert!(
            matches!(&e, ClientError::ClusterNotFound(c) if *c == nowhere.to_string()),
            "{e:?}"
        );
        assert_eq!(e.to_string(), format!("cluster {nowhere} not found"));
        assert_eq!(e.exit_code(), exit::NOT_FOUND);

        // A cluster whose nodes never ran the DKG.
        let admin = env.user("admin").await;
        let admin_kp =
            solana_sdk::signature::read_keypair_file(&admin.keypair).expect("admin keypair");
        let unready =
            medshare_sdk::admin::create_cluster(env.chain.as_ref(), &admin_kp, 0, 2, 3, 300)
                .await
                .expect("create cluster");
        let e = err(env
            .run(
                &p,
                &["store", "--cluster", &unready.to_string(), "--age", "42"],
            )
            .await);
        assert!(
            matches!(&e, ClientError::ClusterNotReady(c) if *c == unready.to_string()),
            "{e:?}"
        );
        assert_eq!(e.exit_code(), exit::CLUSTER_NOT_READY);

        // Not an address at all: clap refuses, with its usage exit code.
        let e = Cli::try_parse_from(env.argv(&p, &["store", "--cluster", "nowhere"]))
            .expect_err("not a pubkey");
        assert_eq!(e.exit_code(), exit::USAGE);
    });
}

// ------------------------------------------------------------------ show

#[test]
fn test_cli_show_owner_and_stranger() {
    run_test("test_cli_show_owner_and_stranger", async {
        let env = CliEnv::new(1, 1).await;
        let p = env.user_with_key("patient").await;
        let stranger = env.user_with_key("stranger").await;
        let data = sample_record();
        env.store(&p, 1, &data).await;
        let record = p.record(1);

        // The owner sees every field, by id or address, as JSON or text.
        let v = env.run_json(&p, &["show", "1"]).await;
        assert_eq!(
            v,
            json!({"record": record.to_string(), "version": 1, "data": to_json(&data)})
        );
        let text = env
            .run(&p, &["show", &record.to_string()])
            .await
            .expect("show");
        assert_eq!(
            text,
            format!(
                "record {record} version 1\n{}",
                serde_json::to_string_pretty(&data).expect("JSON")
            )
        );

        // A stranger cannot.
        assert_client_err!(
            env.run(&stranger, &["show", &record.to_string()]).await,
            ClientError::NotReadable { record: r, owner } if *r == record.to_string() && *owner == p.wallet(),
            format!(
                "record {record} belongs to {}; only its owner can read it directly (ask for a share)",
                p.wallet()
            ),
            exit::NOT_AUTHORIZED
        );

        // No such record; not a record at all.
        let e = err(env.run(&p, &["show", "99"]).await);
        assert!(
            matches!(&e, ClientError::RecordNotFound(r) if *r == p.record(99).to_string()),
            "{e:?}"
        );
        assert_eq!(e.exit_code(), exit::NOT_FOUND);
        assert_client_err!(
            env.run(&p, &["show", "xyz"]).await,
            ClientError::BadRecordRef(m) if m == "xyz",
            "'xyz' is neither a record address nor a record id",
            exit::ERROR
        );
    });
}

// ----------------------------------------------------------------- share

#[test]
fn test_cli_share_by_wallet_2_of_3() {
    run_test("test_cli_share_by_wallet_2_of_3", async {
        share_inbox_decrypt(2, 3).await;
    });
}

#[test]
fn test_cli_share_by_wallet_3_of_5() {
    run_test("test_cli_share_by_wallet_3_of_5", async {
        share_inbox_decrypt(3, 5).await;
    });
}

#[test]
fn test_cli_share_by_x25519_key() {
    run_test("test_cli_share_by_x25519_key", async {
        let env = CliEnv::new(1, 1).await;
        let p = env.registered("patient", "patient").await;
        // The guest never registered: the patient shares to its key.
        let guest = env.user_with_key("guest").await;
        let data = sample_record();
        env.store(&p, 1, &data).await;
        let record = p.record(1);
        let out = env
            .run(
                &p,
                &[
                    "share",
                    "1",
                    "--groups",
                    "diagnoses",
                    "--to",
                    &x25519_hex(&guest),
                ],
            )
            .await
            .expect("share");
        let computation = medshare::pda::computation(&env.cluster_address(), 0);
        let share_result = medshare::pda::share_result(&computation);
        assert_eq!(
            out,
            format!("shared [diagnoses] of {record}: result {share_result}")
        );

        // The guest finds it by key, and reads exactly the diagnoses.
        let inbox = env
            .run(&guest, &["inbox", "--cluster", &env.cluster_arg()])
            .await
            .expect("inbox");
        assert_eq!(
            inbox,
            format!("{share_result}  from {}  [diagnoses]  ready", p.wallet())
        );
        let expected = PatientData {
            diagnoses: data.diagnoses.clone(),
            ..Default::default()
        };
        let text = env
            .run(&guest, &["decrypt", &share_result.to_string()])
            .await
            .expect("decrypt");
        assert_eq!(
            text,
            format!(
                "record {record} of {} (version 1): [diagnoses]\n{}",
                p.wallet(),
                serde_json::to_string_pretty(&expected).expect("JSON")
            )
        );
    });
}

#[test]
fn test_cli_share_unknown_group_and_bad_recipient() {
    run_test("test_cli_share_unknown_group_and_bad_recipient", async {
        let env = CliEnv::without_cluster().await;
        let p = env.user_with_key("patient").await;
        let to = Pubkey::new_unique().to_string();
        let e = err(env
            .run(&p, &["share", "1", "--groups", "vitals,xray", "--to", &to])
            .await);
        match &e {
            ClientError::BadGroups(m) => assert_eq!(
            m,
            "unknown field group 'xray' (groups: identity, vitals, diagnoses, medications, notes, labs, care, documents)"
        ),
            other => panic!("{other:?}"),
        }
        assert_eq!(e.exit_code(), exit::ERROR);

        let e = err(env
            .run(&p, &["share", "1", "--groups", ",", "--to", &to])
            .await);
        assert!(
            matches!(&e, ClientError::BadGroups(m) if m == "no field group given"),
            "{e:?}"
        );

        assert_client_err!(
            env.run(&p, &["share", "1", "--groups", "vitals", "--to", "nobody"])
                .await,
            ClientError::BadRecipient(m) if m == "nobody",
            "'nobody' is neither a wallet address nor a 64-hex-digit X25519 key",
            exit::ERROR
        );
    });
}

#[test]
fn test_cli_share_unregistered_recipient() {
    run_test("test_cli_share_unregistered_recipient", async {
        let env = CliEnv::without_cluster().await;
        let p = env.user_with_key("patient").await;
        // Has a key, never ran `register`.
        let friend = env.user_with_key("friend").await;
        let e = err(env
            .run(
                &p,
                &["share", "1", "--groups", "vitals", "--to", &friend.wallet()],
            )
            .await);
        assert!(
            matches!(&e, ClientError::NoIdentity(w) if *w == friend.wallet()),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "{} has no registered encryption key (they must run `medshare register`)",
                friend.wallet()
            )
        );
        assert_eq!(e.exit_code(), exit::NOT_FOUND);
    });
}

#[test]
fn test_cli_share_refused_by_program() {
    run_test("test_cli_share_refused_by_program", async {
        let env = CliEnv::new(1, 1).await;
        let p = env.user_with_key("patient").await;
        let doctor = env.registered("doctor", "doctor").await;
        let stranger = env.user_with_key("stranger").await;
        let cluster = env.cluster_arg();
        env.run(&p, &["store", "--cluster", &cluster, "--blood-type", "A-"])
            .await
            .expect("store");
        let record = p.record(1).to_string();

        // A stranger shares the patient's record.
        let res = env
            .run(
                &stranger,
                &[
                    "share",
                    &record,
                    "--groups",
                    "vitals",
                    "--to",
                    &doctor.wallet(),
                ],
            )
            .await;
        assert_refused(res, MedshareError::NotOwner, exit::NOT_AUTHORIZED);

        // The owner shares a group the record does not have.
        let res = env
            .run(
                &p,
                &["share", "1", "--groups", "notes", "--to", &doctor.wallet()],
            )
            .await;
        assert_refused(res, MedshareError::GroupMissing, exit::ERROR);

        // A record that does not exist.
        let e = err(env
            .run(
                &p,
                &["share", "5", "--groups", "vitals", "--to", &doctor.wallet()],
            )
            .await);
        assert!(
            matches!(&e, ClientError::RecordNotFound(r) if *r == p.record(5).to_string()),
            "{e:?}"
        );
        assert_eq!(e.exit_code(), exit::NOT_FOUND);
    });
}

#[test]
fn test_cli_share_no_wait_pending() {
    run_test("test_cli_share_no_wait_pending", async {
        let env = CliEnv::new(1, 1).await;
        let p = env.user_with_key("patient").await;
        let doctor = env.registered("doctor", "doctor").await;
        env.store(&p, 1, &sample_record()).await;
        let c0 = medshare::pda::computation(&env.cluster_address(), 0);
        let c1 = medshare::pda::computation(&env.cluster_address(), 1);
        let v = env
            .run_json(
                &p,
                &[
                    "share",
                    "1",
                    "--groups",
                    "vitals",
                    "--to",
                    &doctor.wallet(),
                    "--no-wait",
                ],
            )
            .await;
        assert_eq!(
            v,
            json!({
                "computation": c0.to_string(),
                "share_result": medshare::pda::share_result(&c0).to_string(),
                "status": "pending",
            })
        );
        let out = env
            .run(
                &p,
                &[
                    "share",
                    "1",
                    "--groups",
                    "notes",
                    "--to",
                    &doctor.wallet(),
                    "--no-wait",
                ],
            )
            .await
            .expect("share");
        assert_eq!(
            out,
            format!(
                "share requested: computation {c1}, result {}",
                medshare::pda::share_result(&c1)
            )
        );

        // The cluster still serves both.
        let start = Instant::now();
        let inbox = loop {
            let inbox = env
                .run_json(&doctor, &["inbox", "--cluster", &env.cluster_arg()])
                .await;
            let items = inbox.as_array().expect("array").clone();
            if items.len() == 2 && items.iter().all(|i| i["completed"] == json!(true)) {
                break items;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "not completed: {inbox}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        // Newest first.
        assert_eq!(inbox[0]["groups"], json!(["notes"]));
        assert_eq!(inbox[1]["groups"], json!(["vitals"]));
        let opened = env
            .run_json(
                &doctor,
                &["decrypt", &medshare::pda::share_result(&c1).to_string()],
            )
            .await;
        assert_eq!(opened["data"], json!({"notes": sample_record().notes}));
    });
}

// ----------------------------------------------------------------- inbox

#[test]
fn test_cli_inbox_empty_and_addressed() {
    run_test("test_cli_inbox_empty_and_addressed", async {
        let env = CliEnv::new(1, 1).await;
        let p = env.user_with_key("patient").await;
        let doctor = env.registered("doctor", "doctor").await;
        let nobody = env.user_with_key("nobody").await;
        let cluster = env.cluster_arg();

        let out = env
            .run(&nobody, &["inbox", "--cluster", &cluster])
            .await
            .expect("inbox");
        assert_eq!(out, "no shares addressed to you");
        assert_eq!(
            env.run_json(&nobody, &["inbox", "--cluster", &cluster])
                .await,
            json!([])
        );

        env.store(&p, 1, &sample_record()).await;
        env.run(
            &p,
            &[
                "share",
                "1",
                "--groups",
                "vitals,medications",
                "--to",
                &doctor.wallet(),
            ],
        )
        .await
        .expect("share");
        let sr =
            medshare::pda::share_result(&medshare::pda::computation(&env.cluster_address(), 0));
        assert_eq!(
            env.run(&doctor, &["inbox", "--cluster", &cluster])
                .await
                .expect("inbox"),
            format!("{sr}  from {}  [vitals, medications]  ready", p.wallet())
        );
        // Still nothing for the others, the owner included.
        for u in [&nobody, &p] {
            assert_eq!(
                env.run(u, &["inbox", "--cluster", &cluster])
                    .await
                    .expect("inbox"),
                "no shares addressed to you"
            );
        }

        // A cluster that does not exist.
        let nowhere = Pubkey::new_unique();
        let e = err(env
            .run(&doctor, &["inbox", "--cluster", &nowhere.to_string()])
            .await);
        assert!(
            matches!(&e, ClientError::ClusterNotFound(c) if *c == nowhere.to_string()),
            "{e:?}"
        );
        assert_eq!(e.exit_code(), exit::NOT_FOUND);
    });
}

// --------------------------------------------------------------- decrypt

#[test]
fn test_cli_decrypt_wrong_key() {
    run_test("test_cli_decrypt_wrong_key", async {
        let s = shared(2, 3).await;
        let env = &s.env;
        let stranger = env.user_with_key("stranger").await;
        let sr = s.share_result.to_string();
        // Neither a stranger nor the owner holds the doctor's key.
        for u in [&stranger, &s.patient] {
            let e = err(env.run(u, &["decrypt", &sr]).await);
            assert!(matches!(e, ClientError::WrongKey), "{e:?}");
            assert_eq!(e.exit_code(), exit::DECRYPTION);
        }
        // The doctor does.
        let opened = env.run_json(&s.doctor, &["decrypt", &sr]).await;
        assert_eq!(
            opened["data"],
            to_json(&vitals_and_medications(&sample_record()))
        );
        // No such share.
        let nowhere = Pubkey::new_unique();
        let e = err(env.run(&s.doctor, &["decrypt", &nowhere.to_string()]).await);
        assert!(
            matches!(&e, ClientError::ShareNotFound(a) if *a == nowhere.to_string()),
            "{e:?}"
        );
        assert_eq!(e.exit_code(), exit::NOT_FOUND);
    });
}

#[test]
fn test_cli_decrypt_record_changed() {
    run_test("test_cli_decrypt_record_changed", async {
        let s = shared(2, 3).await;
        let env = &s.env;
        let mut newer = sample_record();
        newer.weight_kg = Some(66.0);
        let v = env.store_new_version(&s.patient, 1, &newer).await;
        assert_eq!(v["version"], json!(2));
        let e = err(env
            .run(&s.doctor, &["decrypt", &s.share_result.to_string()])
            .await);
        assert!(
            matches!(e, ClientError::RecordChanged { shared: 1, now: 2 }),
            "{e:?}"
        );
        assert_eq!(
        e.to_string(),
        "the record was updated (now version 2) after this share (version 1); ask for a new share"
    );
        assert_eq!(e.exit_code(), exit::DECRYPTION);
    });
}

// ---------------------------------------------------------------- cancel

#[test]
fn test_cli_cancel_expired_share() {
    run_test("test_cli_cancel_expired_share", async {
        if skip_unless_embedded("test_cli_cancel_expired_share") {
            return;
        }
        let (t, n) = (2u8, 3u8);
        let mut env = CliEnv::with_options(mpc_node::cluster::ClusterOptions {
            ttl_slots: 20,
            ..options(t, n)
        })
        .await;
        let p = env.user_with_key("patient").await;
        let doctor = env.registered("doctor", "doctor").await;
        let stranger = env.user_with_key("stranger").await;
        env.store(&p, 1, &sample_record()).await;
        // n − t + 1 nodes stop: the rest cannot reach the threshold.
        for i in (t as usize)..=(n as usize) {
            env.lc().stop(i).await;
        }
        let cluster = env.cluster_arg();
        let c0 = medshare::pda::computation(&env.cluster_address(), 0);
        let sr0 = medshare::pda::share_result(&c0);
        let v = env
            .run_json(
                &p,
                &[
                    "share",
                    "1",
                    "--groups",
                    "vitals",
                    "--to",
                    &doctor.wallet(),
                    "--no-wait",
                ],
            )
            .await;
        assert_eq!(v["status"], json!("pending"));
        assert_eq!(v["computation"], json!(c0.to_string()));

        // Waiting gives up after --timeout.
        let c1 = medshare::pda::computation(&env.cluster_address(), 1);
        let e = err(env
            .run(
                &p,
                &[
                    "share",
                    "1",
                    "--groups",
                    "vitals",
                    "--to",
                    &doctor.wallet(),
                    "--timeout",
                    "1",
                ],
            )
            .await);
        assert!(matches!(e, ClientError::Timeout(1)), "{e:?}");
        assert_eq!(e.exit_code(), exit::TIMEOUT);

        // The doctor sees it pending and cannot open it yet.
        assert_eq!(
            env.run(&doctor, &["inbox", "--cluster", &cluster])
                .await
                .expect("inbox")
                .lines()
                .last()
                .expect("a line"),
            format!("{sr0}  from {}  [vitals]  pending", p.wallet())
        );
        assert_client_err!(
            env.run(&doctor, &["decrypt", &sr0.to_string()]).await,
            ClientError::SharePending(m) if *m == sr0.to_string(),
            format!("share {sr0} is still pending (the cluster has not finished)"),
            exit::ERROR
        );

        // Too early; and only the requester may cancel.
        let res = env.run(&p, &["cancel", &c0.to_string()]).await;
        assert_refused(res, MedshareError::ComputationNotExpired, exit::ERROR);
        let res = env.run(&stranger, &["cancel", &c0.to_string()]).await;
        assert_refused(res, MedshareError::NotRequester, exit::NOT_AUTHORIZED);

        // After the expiry slot: rent back.
        env.embedded().warp_slots(25).await;
        let before = env.chain.balance(&p.pubkey).await.expect("balance");
        let out = env
            .run(&p, &["cancel", &c0.to_string()])
            .await
            .expect("cancel");
        assert_eq!(out, format!("cancelled {c0}"));
        assert!(
            env.chain.balance(&p.pubkey).await.expect("balance") > before,
            "the rent came back"
        );
        let v = env.run_json(&p, &["cancel", &c1.to_string()]).await;
        assert_eq!(v, json!({"cancelled": c1.to_string()}));

        // Cancelled already.
        let e = err(env.run(&p, &["cancel", &c0.to_string()]).await);
        assert!(
            matches!(&e, ClientError::ShareNotFound(a) if *a == sr0.to_string()),
            "{e:?}"
        );
        assert_eq!(e.exit_code(), exit::NOT_FOUND);

        // Gone: nothing to decrypt, and the trail says so.
        let e = err(env.run(&doctor, &["decrypt", &sr0.to_string()]).await);
        assert!(
            matches!(&e, ClientError::ShareNotFound(a) if *a == sr0.to_string()),
            "{e:?}"
        );
        let trail = env.run_json(&p, &["audit", "1"]).await;
        let cancelled = trail
            .as_array()
            .expect("array")
            .iter()
            .filter(|e| e["event"] == "ShareCancelled")
            .count();
        assert_eq!(cancelled, 2, "{trail:#}");
    });
}

#[test]
fn test_cli_cancel_completed_or_unknown() {
    run_test("test_cli_cancel_completed_or_unknown", async {
        let env = CliEnv::new(1, 1).await;
        let p = env.user_with_key("patient").await;
        let doctor = env.registered("doctor", "doctor").await;
        env.store(&p, 1, &sample_record()).await;
        let v = env
            .run_json(
                &p,
                &["share", "1", "--groups", "vitals", "--to", &doctor.wallet()],
            )
            .await;
        assert_eq!(v["status"], json!("completed"));
        let c0 = medshare::pda::computation(&env.cluster_address(), 0);
        let sr0 = medshare::pda::share_result(&c0);

        // The callback closed the computation; the result stays for the doctor.
        assert_client_err!(
            env.run(&p, &["cancel", &c0.to_string()]).await,
            ClientError::AlreadyCompleted(m) if *m == sr0.to_string(),
            format!("share {sr0} already completed; there is nothing to cancel"),
            exit::ERROR
        );
        env.run(&doctor, &["decrypt", &sr0.to_string()])
            .await
            .expect("still readable");

        // No such request.
        let c9 = medshare::pda::computation(&env.cluster_address(), 9);
        let e = err(env.run(&p, &["cancel", &c9.to_string()]).await);
        assert!(
            matches!(&e, ClientError::ShareNotFound(a) if *a == medshare::pda::share_result(&c9).to_string()),
            "{e:?}"
        );
        assert_eq!(e.exit_code(), exit::NOT_FOUND);
    });
}

#[test]
fn test_cli_close_share() {
    run_test("test_cli_close_share", async {
        let env = CliEnv::new(1, 1).await;
        let p = env.user_with_key("patient").await;
        let doctor = env.registered("doctor", "doctor").await;
        let stranger = env.user_with_key("stranger").await;
        env.store(&p, 1, &sample_record()).await;
        let share = |k: u64| {
            let c = medshare::pda::computation(&env.cluster_address(), k);
            medshare::pda::share_result(&c)
        };
        for _ in 0..2 {
            let v = env
                .run_json(
                    &p,
                    &["share", "1", "--groups", "vitals", "--to", &doctor.wallet()],
                )
                .await;
            assert_eq!(v["status"], json!("completed"));
        }
        let (sr0, sr1) = (share(0), share(1));
        let rent = env.chain.balance(&sr0).await.unwrap();
        assert!(rent > 0);

        // A stranger may not close it.
        let e = err(env.run(&stranger, &["close-share", &sr0.to_string()]).await);
        assert!(
            matches!(&e, ClientError::Chain(c) if matches!(c.medshare(), Some(MedshareError::NotRequesterOrRecipient))),
            "{e:?}"
        );
        assert_eq!(e.exit_code(), exit::NOT_AUTHORIZED);

        // The doctor (the recipient wallet) closes one once read; the patient
        // (the requester) gets the rent.
        env.run(&doctor, &["decrypt", &sr0.to_string()])
            .await
            .expect("readable before");
        let before = env.chain.balance(&p.pubkey).await.unwrap();
        let v = env
            .run_json(&doctor, &["close-share", &sr0.to_string()])
            .await;
        assert_eq!(v["closed"], json!(sr0.to_string()));
        assert_eq!(v["rent_lamports"], json!(rent));
        assert_eq!(v["rent_to"], json!(p.wallet()));
        assert_eq!(env.chain.balance(&p.pubkey).await.unwrap(), before + rent);
        let e = err(env.run(&doctor, &["decrypt", &sr0.to_string()]).await);
        assert!(
            matches!(&e, ClientError::ShareNotFound(a) if *a == sr0.to_string()),
            "{e:?}"
        );
        assert_eq!(e.exit_code(), exit::NOT_FOUND);

        // The patient closes the other; then nothing is left to close.
        let out = env
            .run(&p, &["close-share", &sr1.to_string()])
            .await
            .expect("the requester closes");
        assert_eq!(
            out,
            format!(
                "closed {sr1}: {} SOL back to {}",
                rent as f64 / 1e9,
                p.wallet()
            )
        );
        let e = err(env.run(&p, &["close-share", &sr1.to_string()]).await);
        assert!(
            matches!(&e, ClientError::ShareNotFound(a) if *a == sr1.to_string()),
            "{e:?}"
        );
        assert_eq!(e.exit_code(), exit::NOT_FOUND);

        // Both closes are on the record's audit trail.
        let trail = env
            .audit(&p, &["1", "--format", "csv"], |out| {
                out.lines().filter(|l| l.contains("ShareClosed")).count() == 2
            })
            .await;
        let closed: Vec<&str> = trail
            .lines()
            .filter(|l| l.contains("ShareClosed"))
            .collect();
        assert_eq!(closed.len(), 2, "{trail}");
        assert!(closed[0].contains(&doctor.wallet()) && closed[0].contains(&sr0.to_string()));
        assert!(closed[1].contains(&p.wallet()) && closed[1].contains(&sr1.to_string()));
    });
}

// ----------------------------------------------------------------- audit

#[test]
fn test_cli_audit_formats_and_refusal() {
    run_test("test_cli_audit_formats_and_refusal", async {
        let t = 2u8;
        let s = shared(t, 3).await;
        let env = &s.env;
        let stranger = env.user_with_key("stranger").await;
        let record = s.record.to_string();

        // A refused attempt touches the record: it is on the trail.
        let refusal = err(env
            .run(
                &stranger,
                &[
                    "share",
                    &record,
                    "--groups",
                    "vitals",
                    "--to",
                    &s.doctor.wallet(),
                ],
            )
            .await);
        assert!(
            matches!(&refusal, ClientError::Chain(c) if c.medshare().map(|m| m as u32) == Some(MedshareError::NotOwner as u32)),
            "{refusal:?}"
        );

        let trail: Value = serde_json::from_str(
            &env.audit(&s.patient, &["1", "--format", "json"], |out| {
                out.contains("ShareCompleted")
            })
            .await,
        )
        .expect("JSON");
        let events = trail.as_array().expect("array");
        let names: Vec<&str> = events
            .iter()
            .map(|e| e["event"].as_str().expect("event"))
            .collect();
        let mut expected = vec!["RecordChanged"];
        expected.extend(["RecordGroupWritten"; 5]);
        expected.push("ShareRequested");
        expected.extend(std::iter::repeat_n("ContributionAccepted", t as usize));
        expected.push("ShareCompleted");
        let accepted: Vec<&str> = names.iter().copied().filter(|n| *n != "Refused").collect();
        assert_eq!(accepted, expected, "{trail:#}");
        let slots: Vec<u64> = events
            .iter()
            .map(|e| e["slot"].as_u64().expect("slot"))
            .collect();
        assert!(slots.windows(2).all(|w| w[0] <= w[1]), "oldest first");
        assert_eq!(events[0]["detail"], json!("record created (version 1)"));
        assert_eq!(events[0]["actor"], json!(s.patient.wallet()));
        let requested = &events[6];
        assert_eq!(requested["actor"], json!(s.patient.wallet()));
        assert!(
            requested["detail"]
                .as_str()
                .expect("detail")
                .starts_with("share of [vitals, medications] to key "),
            "{requested}"
        );
        let completed = events
            .iter()
            .find(|e| e["event"] == "ShareCompleted")
            .expect("completed");
        assert!(
            completed["detail"]
                .as_str()
                .expect("detail")
                .starts_with("re-encrypted [vitals, medications] for key "),
            "{completed}"
        );
        if test_url().is_none() {
            // A validator's preflight rejects the attempt before it lands; the
            // embedded chain keeps it on the ledger, as a landed failure would be.
            // (Nodes that came after the threshold was reached are refused too:
            // those are on the trail as well, with another reason.)
            let refused: Vec<&Value> = events
                .iter()
                .filter(|e| e["event"] == "Refused" && e["detail"] == json!(refusal.to_string()))
                .collect();
            assert_eq!(refused.len(), 1, "{trail:#}");
            assert_eq!(
                refusal.to_string(),
                format!(
                    "refused by the MedShare program: {}",
                    MedshareError::NotOwner
                )
            );
            let shared_slot = requested["slot"].as_u64().expect("slot");
            assert!(refused[0]["slot"].as_u64().expect("slot") >= shared_slot);
        } else {
            eprintln!("note: not checking the Refused event: a validator's preflight rejects the attempt before it lands");
        }

        // The trail is public: a stranger auditing the address sees the same.
        assert_eq!(env.run_json(&stranger, &["audit", &record]).await, trail);

        // CSV: the header, then one line per event, as the library writes it.
        let csv = env
            .run(&s.patient, &["audit", "1", "--format", "csv"])
            .await
            .expect("csv");
        assert_eq!(
            csv.lines().next(),
            Some("slot,time,event,actor,detail,signature")
        );
        let lib = medshare_client::user::audit::trail(env.chain.as_ref(), &s.record)
            .await
            .expect("trail");
        assert_eq!(csv, medshare_client::user::audit::to_csv(&lib));
        assert_eq!(csv.lines().count(), events.len() + 1);
        for (line, e) in csv.lines().skip(1).zip(events) {
            assert!(
                line.starts_with(&format!("{},", e["slot"]))
                    && line.contains(&format!(",\"{}\",", e["event"].as_str().expect("event"))),
                "{line}"
            );
        }

        // Table: a header, then one row per event in the same order.
        let table = env.run(&s.patient, &["audit", "1"]).await.expect("table");
        let mut rows = table.lines();
        assert_eq!(
            rows.next(),
            Some(
                format!(
                    "{:>8}  {:<22}  {:<46}  {}",
                    "slot", "event", "actor", "detail"
                )
                .as_str()
            )
        );
        let rows: Vec<&str> = rows.collect();
        assert_eq!(rows.len(), events.len(), "{table}");
        for (row, e) in rows.iter().zip(events) {
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cols[0], e["slot"].to_string(), "{row}");
            assert_eq!(cols[1], e["event"].as_str().expect("event"), "{row}");
        }
    });
}

// ------------------------------------------------------------------ url

/// `-u` that is neither a URL nor a moniker is refused before anything is
/// read or sent, as a usage error.
#[test]
fn test_cli_url_that_is_not_one() {
    run_test("test_cli_url_that_is_not_one", async {
        let cluster = Pubkey::new_unique().to_string();
        for url in ["notaurl", "ftp://example.org", "http://"] {
            let cli = Cli::try_parse_from(["medshare", "-u", url, "inbox", "--cluster", &cluster])
                .expect("parses");
            assert_client_err!(
                execute(&cli, None, |_| {}).await,
                ClientError::BadUrl(_),
                format!("{url} is not an RPC URL (http://… or https://…) nor a moniker (devnet, testnet, mainnet-beta, localnet)"),
                exit::USAGE
            );
        }
    });
}

// ------------------------------------------------------------------ demo

#[test]
fn test_cli_demo_2_of_3() {
    run_test("test_cli_demo_2_of_3", async {
        let cli = Cli::try_parse_from(["medshare", "demo", "--threshold", "2", "--nodes", "3"])
            .expect("parses");
        let mut lines = Vec::new();
        let out = execute(&cli, None, |l| lines.push(l.to_string()))
            .await
            .unwrap_or_else(|e| panic!("demo failed: {e}\n{}", lines.join("\n")));
        assert_eq!(out, "");
        let report = lines.join("\n");
        assert!(
            lines[0] == "MedShare demo: embedded chain, cluster t=2 n=3",
            "{report}"
        );
        assert!(
            report.contains(
                "doctor's inbox: 1 share(s); decrypted groups [vitals, medications, documents]:"
            ),
            "{report}"
        );
        assert!(
            report.contains("FHIR: 52 resources (DocumentReference 1, MedicationRequest 1, Observation 50); bundle written to "),
            "{report}"
        );
        assert!(
            report.contains("attachment discharge-summary.txt (3145728 bytes) saved to "),
            "{report}"
        );
        assert!(
            report.contains("a valid FHIR R4 bundle of exactly the shared resources, and the document byte for byte: identity, diagnoses, labs and care stay sealed"),
            "{report}"
        );
        assert!(
            report.contains(&format!(
                "a stranger tried to share the record: refused by the MedShare program: {}",
                MedshareError::NotOwner
            )),
            "{report}"
        );
        // The study step: ten encrypted ages, only the sums decrypted, and
        // the demo itself checks them against the plaintext.
        assert!(
            report.contains("[8] 10 patients (ages encrypted, the demo patient's ")
                && report.contains("the nodes decrypted only the sums: count 10, mean age ")
                && report.contains("(equal to the plaintext figures)"),
            "{report}"
        );
        assert!(report.contains("StudyJoined"), "{report}");
    });
}
