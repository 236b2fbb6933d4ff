//! End-to-end tests of the `medshare` commands consent, request, policy and
//! provider, through [`medshare_client::cli::execute`] on the embedded chain
//! with a cluster of real node tasks.

use medshare::error::MedshareError;
use medshare_client::demo::sample_record;
use medshare_client::error::{exit, ClientError};
use medshare_tests::cli_env::*;
use serde_json::Value;

fn err<T: std::fmt::Debug>(r: Result<T, ClientError>) -> ClientError {
    r.expect_err("the command should fail")
}

/// The cluster admin as a CLI user (its keypair written to a wallet file).
async fn admin_user(env: &mut CliEnv) -> User {
    let mut u = env.user("admin").await;
    let admin = env.lc().admin.insecure_clone();
    std::fs::write(
        &u.keypair,
        serde_json::to_string(&admin.to_bytes().to_vec()).unwrap(),
    )
    .unwrap();
    u.pubkey = solana_sdk::signature::Signer::pubkey(&admin);
    u
}

#[test]
fn test_cli_consent_grant_request_revoke_list() {
    run_test("test_cli_consent_grant_request_revoke_list", async {
        let env = CliEnv::new(2, 3).await;
        let patient = env.registered("patient", "patient").await;
        let doctor = env.registered("doctor", "doctor").await;
        env.store(&patient, 1, &sample_record()).await;
        let record = patient.record(1).to_string();

        let out = env
            .run(
                &patient,
                &[
                    "consent",
                    "grant",
                    "1",
                    "--to",
                    &doctor.wallet(),
                    "--groups",
                    "diagnoses,medications",
                    "--purpose",
                    "asthma review",
                    "--hours",
                    "1",
                ],
            )
            .await
            .unwrap();
        assert!(
            out.starts_with(&format!(
                "consent granted to {}: [diagnoses, medications] of {record} until unix time ",
                doctor.wallet()
            )),
            "{out}"
        );

        // The doctor pulls while the patient is offline, then decrypts.
        let pulled = env
            .run_json(
                &doctor,
                &["request", &record, "--groups", "diagnoses,medications"],
            )
            .await;
        assert_eq!(pulled["status"], "completed");
        let opened = env
            .run_json(
                &doctor,
                &["decrypt", pulled["share_result"].as_str().unwrap()],
            )
            .await;
        let d = sample_record();
        assert_eq!(opened["data"]["diagnoses"], serde_json::json!(d.diagnoses));
        assert_eq!(
            opened["data"]["medications"],
            serde_json::json!(d.medications)
        );
        assert!(opened["data"].get("patient_id").is_none());

        // Outside the consent: refused, recorded, exit 3.
        let e = err(env
            .run(&doctor, &["request", &record, "--groups", "identity"])
            .await);
        assert_eq!(
            e.to_string(),
            "request refused and recorded on-chain: requested groups are outside the consent"
        );
        assert_eq!(e.exit_code(), exit::NOT_AUTHORIZED);

        // Listing shows it active and used once; narrowing, then revoking.
        // `consent list` finds grantees in the record's history (a validator
        // lists a transaction a few seconds after confirming it).
        let list: Value = serde_json::from_str(
            &env.run_until(&patient, &["consent", "list", "1", "--json"], |out| {
                out != "[]"
            })
            .await,
        )
        .expect("JSON");
        assert_eq!(list[0]["grantee"], doctor.wallet());
        assert_eq!(list[0]["state"], "active");
        assert_eq!(list[0]["uses"], 1);
        env.run(
            &patient,
            &[
                "consent",
                "modify",
                "1",
                "--to",
                &doctor.wallet(),
                "--groups",
                "diagnoses",
                "--hours",
                "2",
            ],
        )
        .await
        .unwrap();
        let e = err(env
            .run(
                &doctor,
                &["request", &record, "--groups", "diagnoses,medications"],
            )
            .await);
        assert!(
            matches!(&e, ClientError::Refused(m) if m == "requested groups are outside the consent"),
            "{e:?}"
        );
        let out = env
            .run(
                &patient,
                &["consent", "revoke", "1", "--to", &doctor.wallet()],
            )
            .await
            .unwrap();
        assert_eq!(
            out,
            format!(
                "consent of {} on {record} revoked: no further request or node contribution under it (a share already delivered, or with t contributions in, cannot be recalled)",
                doctor.wallet()
            )
        );
        let e = err(env
            .run(&doctor, &["request", &record, "--groups", "diagnoses"])
            .await);
        assert_eq!(
            e.to_string(),
            "request refused and recorded on-chain: consent revoked"
        );
        let e = err(env
            .run(
                &patient,
                &["consent", "revoke", "1", "--to", &doctor.wallet()],
            )
            .await);
        assert!(
            matches!(&e, ClientError::Chain(c) if matches!(c.medshare(), Some(MedshareError::ConsentRevoked))),
            "{e:?}"
        );
        let list = env.run_json(&patient, &["consent", "list", "1"]).await;
        assert_eq!(list[0]["state"], "revoked");
        assert_eq!(list[0]["groups"], serde_json::json!(["diagnoses"]));

        // Someone without consent: refused and recorded.
        let stranger = env.registered("stranger", "researcher").await;
        let e = err(env
            .run(&stranger, &["request", &record, "--groups", "vitals"])
            .await);
        assert_eq!(
            e.to_string(),
            "request refused and recorded on-chain: no consent for this record"
        );

        // The audit trail has all of it, refused pulls included.
        // The last refusal (the stranger's) is the newest entry.
        let trail: Value = serde_json::from_str(
            &env.audit(&patient, &["1", "--json"], |out| {
                out.matches("\"PullRefused\"").count() == 4
            })
            .await,
        )
        .expect("JSON");
        let events: Vec<&str> = trail
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap())
            .collect();
        assert_eq!(
            events.iter().filter(|e| **e == "PullRefused").count(),
            4,
            "{events:?}"
        );
        assert_eq!(
            events.iter().filter(|e| **e == "ConsentChanged").count(),
            3,
            "{events:?}"
        );
        assert_eq!(
            events.iter().filter(|e| **e == "PullRequested").count(),
            1,
            "{events:?}"
        );
        assert!(events.contains(&"ShareCompleted"));

        // Bad input.
        let e = err(env
            .run(
                &patient,
                &[
                    "consent",
                    "grant",
                    "1",
                    "--to",
                    &doctor.wallet(),
                    "--groups",
                    "xray",
                    "--hours",
                    "1",
                ],
            )
            .await);
        assert!(
            e.to_string().starts_with("unknown field group 'xray'"),
            "{e}"
        );
        let e = err(env
            .run(
                &patient,
                &[
                    "consent",
                    "grant",
                    "1",
                    "--to",
                    &doctor.wallet(),
                    "--groups",
                    "vitals",
                    "--hours",
                    "0",
                ],
            )
            .await);
        assert_eq!(e.to_string(), "--hours must be a positive number");

        // The revoked consent is closed: its rent comes back, the list no
        // longer shows it, the audit shows the closing.
        let out = env
            .run(
                &patient,
                &["consent", "close", "1", "--to", &doctor.wallet()],
            )
            .await
            .unwrap();
        assert_eq!(
            out,
            format!(
                "consent of {} on {record} closed; its rent is back in your wallet",
                doctor.wallet()
            )
        );
        let list = env.run_json(&patient, &["consent", "list", "1"]).await;
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .all(|c| c["grantee"] != doctor.wallet().as_str()),
            "{list}"
        );
        let trail: Value = serde_json::from_str(
            &env.audit(&patient, &["1", "--json"], |out| {
                out.contains("consent closed")
            })
            .await,
        )
        .expect("JSON");
        assert!(
            trail
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["event"] == "ConsentChanged"
                    && e["detail"].as_str().unwrap().starts_with("consent closed")),
            "{trail}"
        );

        // Only the owner closes the record; then it is gone.
        let e = err(env.run(&doctor, &["close-record", &record]).await);
        assert_eq!(
            e.to_string(),
            format!("record {record} belongs to another wallet; only its owner can do this")
        );
        assert_eq!(e.exit_code(), medshare_client::error::exit::NOT_AUTHORIZED);
        let out = env.run(&patient, &["close-record", "1"]).await.unwrap();
        assert_eq!(
            out,
            format!("record {record} closed; its rent is back in your wallet (capsules and ciphertexts already in the ledger's history stay there)")
        );
        let e = err(env.run(&patient, &["show", "1"]).await);
        assert_eq!(e.to_string(), format!("record {record} not found"));
    });
}

#[test]
fn test_cli_provider_registry_and_policy() {
    run_test("test_cli_provider_registry_and_policy", async {
        let mut env = CliEnv::new(2, 3).await;
        let admin = admin_user(&mut env).await;
        let issuer = env.user("issuer").await;
        let patient = env.registered("patient", "patient").await;
        let doctor = env.registered("doctor", "doctor").await;
        let cluster = env.cluster_arg();
        env.store(&patient, 1, &sample_record()).await;

        let out = env
            .run(&patient, &["policy", "1", "--require", "doctor,hospital"])
            .await
            .unwrap();
        assert_eq!(
            out,
            format!(
                "record {}: shares and consents only to verified [doctor, hospital]",
                patient.record(1)
            )
        );
        // Not verified yet: a share to the doctor is refused.
        let e = err(env
            .run(
                &patient,
                &["share", "1", "--groups", "vitals", "--to", &doctor.wallet()],
            )
            .await);
        assert!(
            matches!(&e, ClientError::Chain(c) if matches!(c.medshare(), Some(MedshareError::ProviderNotVerified))),
            "{e:?}"
        );
        assert_eq!(e.exit_code(), exit::NOT_AUTHORIZED);

        // Only the cluster admin appoints issuers; only issuers register providers.
        let e = err(env
            .run(
                &issuer,
                &[
                    "provider",
                    "appoint-issuer",
                    "--cluster",
                    &cluster,
                    &issuer.wallet(),
                ],
            )
            .await);
        assert!(
            matches!(&e, ClientError::Chain(c) if matches!(c.medshare(), Some(MedshareError::NotAdmin))),
            "{e:?}"
        );
        env.run(
            &admin,
            &[
                "provider",
                "appoint-issuer",
                "--cluster",
                &cluster,
                &issuer.wallet(),
            ],
        )
        .await
        .unwrap();
        let hash = "ab".repeat(32);
        let e = err(env
            .run(
                &issuer,
                &[
                    "provider",
                    "register",
                    "--cluster",
                    &cluster,
                    &doctor.wallet(),
                    "--role",
                    "surgeon",
                    "--license-hash",
                    &hash,
                ],
            )
            .await);
        assert_eq!(
            e.to_string(),
            "unknown provider role 'surgeon' (roles: doctor, hospital, insurer, researcher)"
        );
        let e = err(env
            .run(
                &issuer,
                &[
                    "provider",
                    "register",
                    "--cluster",
                    &cluster,
                    &doctor.wallet(),
                    "--role",
                    "doctor",
                    "--license-hash",
                    "abc",
                ],
            )
            .await);
        assert_eq!(
            e.to_string(),
            "--license-hash must be 64 hex digits (SHA-256)"
        );
        env.run(
            &issuer,
            &[
                "provider",
                "register",
                "--cluster",
                &cluster,
                &doctor.wallet(),
                "--role",
                "doctor",
                "--license-hash",
                &hash,
                "--valid-days",
                "30",
            ],
        )
        .await
        .unwrap();
        let shown = env
            .run_json(
                &patient,
                &["provider", "show", "--cluster", &cluster, &doctor.wallet()],
            )
            .await;
        assert_eq!(shown["role"], "doctor");
        assert_eq!(shown["license_hash"], hash);
        assert_eq!(shown["issuer_active"], true);
        assert_eq!(shown["revoked"], false);

        // Verified: the share goes through, and so does a consent.
        let shared = env
            .run_json(
                &patient,
                &["share", "1", "--groups", "vitals", "--to", &doctor.wallet()],
            )
            .await;
        assert_eq!(shared["status"], "completed");
        env.run(
            &patient,
            &[
                "consent",
                "grant",
                "1",
                "--to",
                &doctor.wallet(),
                "--groups",
                "vitals",
                "--hours",
                "1",
            ],
        )
        .await
        .unwrap();
        let pulled = env
            .run_json(
                &doctor,
                &[
                    "request",
                    &patient.record(1).to_string(),
                    "--groups",
                    "vitals",
                ],
            )
            .await;
        assert_eq!(pulled["status"], "completed");

        // Revoked by the issuer: the next pull is refused and recorded.
        env.run(
            &issuer,
            &[
                "provider",
                "revoke",
                "--cluster",
                &cluster,
                &doctor.wallet(),
            ],
        )
        .await
        .unwrap();
        let e = err(env
            .run(
                &doctor,
                &[
                    "request",
                    &patient.record(1).to_string(),
                    "--groups",
                    "vitals",
                ],
            )
            .await);
        assert_eq!(
            e.to_string(),
            "request refused and recorded on-chain: provider registration revoked"
        );
        // The issuer itself revoked by the admin.
        env.run(
            &admin,
            &[
                "provider",
                "revoke-issuer",
                "--cluster",
                &cluster,
                &issuer.wallet(),
            ],
        )
        .await
        .unwrap();
        let shown = env
            .run_json(
                &patient,
                &["provider", "show", "--cluster", &cluster, &doctor.wallet()],
            )
            .await;
        assert_eq!(shown["issuer_active"], false);
        assert_eq!(shown["revoked"], true);
        // Not a provider at all.
        let e = err(env
            .run(
                &patient,
                &["provider", "show", "--cluster", &cluster, &patient.wallet()],
            )
            .await);
        assert_eq!(
            e.to_string(),
            format!(
                "{} is not a registered provider of cluster {cluster}",
                patient.wallet()
            )
        );
        // Policy off again.
        let out = env
            .run(&patient, &["policy", "1", "--require", "none"])
            .await
            .unwrap();
        assert_eq!(
            out,
            format!(
                "record {}: no provider verification required",
                patient.record(1)
            )
        );
    });
}

/// Text that came from the chain or from a record reaches the terminal
/// escaped: an escape sequence in a consent's purpose (here OSC 52, which
/// sets the reader's clipboard, and a screen clear) and a right-to-left
/// override are printed as `\u{…}`, never as the bytes a terminal acts on.
#[test]
fn test_cli_record_text_cannot_drive_the_terminal() {
    run_test("test_cli_record_text_cannot_drive_the_terminal", async {
        let env = CliEnv::new(1, 1).await;
        let patient = env.registered("patient", "patient").await;
        let doctor = env.registered("doctor", "doctor").await;
        env.store(&patient, 1, &sample_record()).await;
        let hostile = "\u{1b}]52;c;Y3VybCBldmlsLnNoIHwgc2g=\u{7}\u{1b}[2J\u{202e}review";
        env.run(
            &patient,
            &[
                "consent",
                "grant",
                "1",
                "--to",
                &doctor.wallet(),
                "--groups",
                "diagnoses",
                "--purpose",
                hostile,
                "--hours",
                "1",
            ],
        )
        .await
        .unwrap();
        let out = env.run(&patient, &["consent", "list", "1"]).await.unwrap();
        for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!out.contains(c), "{c:?} reached the terminal: {out:?}");
        }
        assert!(
            out.contains("\\u{1b}]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\u{7}\\u{1b}[2J\\u{202e}review"),
            "{out}"
        );
        // The audit trail (table and CSV) shows the purpose escaped too.
        let record = patient.record(1).to_string();
        for format in ["table", "csv"] {
            let trail = env
                .audit(&patient, &[&record, "--format", format], |o| {
                    o.contains("review")
                })
                .await;
            for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
                assert!(!trail.contains(c), "{c:?} in the {format} trail: {trail:?}");
            }
            assert!(trail.contains("\\u{202e}review"), "{trail}");
        }
    });
}
