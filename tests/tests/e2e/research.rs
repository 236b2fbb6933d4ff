//! End-to-end: encrypted cohort statistics through `medshare research` and
//! `medshare stats`, with a cluster of real node tasks that decrypt a
//! closed study's sums on their own.

use medshare_client::demo::sample_record;
use medshare_client::error::ClientError;
use medshare_tests::cli_env::*;

const PURPOSE: &str = "asthma registry 2026";

/// Runs `stats collect` until the study's cohort is `n`. On the embedded
/// chain one run finds every record; a validator lists transactions (and
/// serves their logs, where `collect` finds the values) seconds after it
/// confirms them, so there it runs again for up to two minutes.
async fn collect_until(env: &CliEnv, user: &User, study: &str, n: u64) -> serde_json::Value {
    let start = std::time::Instant::now();
    loop {
        let v = env.run_json(user, &["stats", "collect", study]).await;
        if v["cohort"].as_u64() == Some(n)
            || test_url().is_none()
            || start.elapsed() > std::time::Duration::from_secs(120)
        {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    }
}

/// Runs `stats show` until the nodes have released `study` (or the test
/// timeout); returns the last text output.
async fn until_released(env: &CliEnv, user: &User, study: &str) -> String {
    let start = std::time::Instant::now();
    loop {
        let out = env.run(user, &["stats", "show", study]).await.unwrap();
        if out.contains("status    released") || start.elapsed() > test_timeout() {
            return out;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[test]
fn test_cli_study_released_by_the_nodes() {
    run_test("test_cli_study_released_by_the_nodes", async {
        let env = CliEnv::new(2, 3).await;
        let researcher = env.registered("researcher", "doctor").await;
        let ages = [34u64, 71, 8, 45, 45, 90, 17, 62, 29, 53, 40];
        let mut patients = vec![];
        for (k, age) in ages.iter().enumerate() {
            let p = env.registered(&format!("patient{k}"), "patient").await;
            env.store(&p, 1, &sample_record()).await;
            let out = env
                .run(
                    &p,
                    &[
                        "research",
                        "consent",
                        "1",
                        "--purpose",
                        PURPOSE,
                        "--value",
                        &format!("age={age}"),
                        // The study checks exact sums: these consents opt in.
                        "--exact",
                    ],
                )
                .await
                .unwrap();
            assert!(
                out.starts_with(&format!(
                    "research consent on {} for \"{PURPOSE}\" (exact releases too (chosen with --exact)) until unix time ",
                    p.record(1)
                )) && out.ends_with(": [age] posted encrypted (8 transactions); only study sums over at least 10 records are ever decrypted"),
                "{out}"
            );
            patients.push(p);
        }
        // A value out of range never leaves the client.
        let e = env
            .run(
                &patients[0],
                &[
                    "research",
                    "consent",
                    "1",
                    "--purpose",
                    PURPOSE,
                    "--value",
                    "age=200",
                ],
            )
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "value 200 out of range for field 'age' (0 to 127)"
        );
        assert!(matches!(e, ClientError::Invalid(_)));
        // By default a consent admits only noised studies: a twelfth
        // patient consenting without --exact gets a budget, and an exact
        // study never takes the record.
        let noised = env.registered("noised", "patient").await;
        env.store(&noised, 1, &sample_record()).await;
        let out = env
            .run(
                &noised,
                &[
                    "research",
                    "consent",
                    "1",
                    "--purpose",
                    PURPOSE,
                    "--value",
                    "age=50",
                ],
            )
            .await
            .unwrap();
        assert!(out.contains("(noised releases only, ε budget 3)"), "{out}");

        let cluster = env.cluster_arg();
        let low = env
            .run(
                &researcher,
                &[
                    "stats",
                    "open",
                    "--cluster",
                    &cluster,
                    "--field",
                    "age",
                    "--purpose",
                    PURPOSE,
                    "--min-cohort",
                    "9",
                ],
            )
            .await
            .unwrap_err();
        assert!(
            low.to_string()
                .contains("minimum cohort must be at least 10"),
            "{low}"
        );
        let opened = env
            .run_json(
                &researcher,
                &[
                    "stats",
                    "open",
                    "--cluster",
                    &cluster,
                    "--field",
                    "age",
                    "--purpose",
                    PURPOSE,
                ],
            )
            .await;
        let study = opened["study"].as_str().unwrap().to_string();
        let collected = collect_until(&env, &researcher, &study, 11).await;
        assert_eq!(collected["cohort"].as_u64(), Some(11));
        // On the embedded chain one run adds all eleven.
        if test_url().is_none() {
            assert_eq!(collected["added"].as_u64(), Some(11));
        }

        // The last patient revokes before the study closes: it leaves.
        let last = patients.last().unwrap();
        let out = env.run(last, &["research", "revoke", "1"]).await.unwrap();
        assert_eq!(
            out,
            format!(
                "research consent on {} revoked; left 1 open study (closed studies keep the record)",
                last.record(1)
            )
        );
        let closed = env.run_json(&researcher, &["stats", "close", &study]).await;
        assert_eq!(closed["status"], "closed");
        assert_eq!(closed["cohort"], 10);

        // The nodes decrypt the sums without anyone asking.
        let shown = until_released(&env, &researcher, &study).await;
        assert!(
            shown.contains("status    released (cohort 10, minimum 10)"),
            "{shown}"
        );
        let v = env.run_json(&researcher, &["stats", "show", &study]).await;
        let kept = &ages[..10];
        let n = kept.len() as u64;
        let sum: u64 = kept.iter().sum();
        let sq: u64 = kept.iter().map(|a| a * a).sum();
        let r = &v["results"];
        assert_eq!(r["count"], n);
        assert_eq!(r["sum"], sum);
        assert_eq!(r["sum_of_squares"], sq);
        assert_eq!(r["mean"].as_f64().unwrap(), sum as f64 / n as f64);
        let exact = (n * sq - sum * sum) as f64 / (n * n) as f64;
        assert!((r["variance"].as_f64().unwrap() - exact).abs() < 1e-9);
        let mut hist = vec![0u64; 8];
        for a in kept {
            hist[(*a >> 4) as usize] += 1;
        }
        let got: Vec<u64> = r["histogram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b[2].as_u64().unwrap())
            .collect();
        assert_eq!(got, hist);
        assert_eq!(r["histogram"][0], serde_json::json!([0, 15, hist[0]]));
        assert_eq!(v["epsilon"], serde_json::Value::Null);

        // The patient's audit shows the consent, the value, the study joined
        // and left, and no value.
        // An RPC node may list a transaction before it serves its logs (the
        // audit then says to run it again): ask until every entry is read.
        let record = last.record(1).to_string();
        let wants = [
            format!("research consent granted: \"{PURPOSE}\", 1 field(s)"),
            "encrypted research value posted (7 bits, proofs verified)".to_string(),
            format!("added to study {study} (cohort 11)"),
            format!("removed from study {study} (cohort 10)"),
        ];
        let trail = env
            .audit(last, &[&record], |o| wants.iter().all(|w| o.contains(w)))
            .await;
        for want in &wants {
            assert!(trail.contains(want), "missing {want:?} in\n{trail}");
        }
        assert!(!trail.contains(&format!("={}", ages[10])));

        // The same ten records and the noised one, in a study with
        // differential privacy: the
        // nodes add noise first, and `stats show` says how much.
        let dp = env
            .run_json(
                &researcher,
                &[
                    "stats",
                    "open",
                    "--cluster",
                    &cluster,
                    "--field",
                    "age",
                    "--purpose",
                    PURPOSE,
                    "--epsilon",
                    "1",
                ],
            )
            .await;
        let dp = dp["study"].as_str().unwrap().to_string();
        // The noised study also takes the patient whose consent admits
        // only noised releases: eleven.
        collect_until(&env, &researcher, &dp, 11).await;
        let closed = env.run_json(&researcher, &["stats", "close", &dp]).await;
        assert_eq!(
            (closed["cohort"].as_u64(), closed["epsilon"].as_f64()),
            (Some(11), Some(1.0))
        );
        let shown = until_released(&env, &researcher, &dp).await;
        // ε = 1 split in three (sum, squares, histogram), each statistic
        // with its own sensitivity and bound. The noise is the t = 2 nodes'
        // whose noise completed, plus what a third node posted before the
        // noise phase ended (on some statistics, depending on timing).
        assert!(shown.contains("epsilon   1, delta "), "{shown}");
        for (name, sensitivity, sd, bound) in [
            ("sum             ", "127  ", ["762.0", "933.3"], "±16384"),
            (
                "sum of squares  ",
                "16129",
                ["96774.0", "118523.5"],
                "±2097152",
            ),
            ("bucket 0–15     ", "1    ", ["12.0", "14.7"], "±256"),
        ] {
            let line = shown
                .lines()
                .find(|l| l.starts_with(&format!("  {name} ")))
                .unwrap_or_else(|| panic!("no {name:?} row in\n{shown}"));
            assert!(
                line.contains(&format!("ε 0.333  sensitivity {sensitivity}  noise sd ")),
                "{line}"
            );
            // Two nodes' noise, or three.
            let nodes_ok = (0..2).any(|k| {
                line.contains(&format!("noise sd {} ", sd[k]))
                    && line.ends_with(&format!("bound {bound} ({} nodes)", k + 2))
            });
            assert!(nodes_ok, "{line}");
        }
        let v = env.run_json(&researcher, &["stats", "show", &dp]).await;
        assert_eq!(v["privacy"].as_array().unwrap().len(), 10);
        assert_eq!(v["privacy"][1]["bound"], 2_097_152);
        assert!(v["delta"].as_f64().unwrap() < 4e-12, "{v}");
        assert_eq!(v["results"]["count"], 11);
        assert_eq!(v["status"], "released");

        // A closed study takes no one, and a second close is refused.
        let again = env
            .run(&researcher, &["stats", "close", &study])
            .await
            .unwrap_err();
        assert!(
            again.to_string().contains("study is not open for joining"),
            "{again}"
        );

        // A patient closes its research accounts: the value is still
        // counted by two studies' memberships, so only the consent closes.
        let first = &patients[0];
        let out = env.run(first, &["research", "close", "1"]).await.unwrap();
        assert!(
            out.starts_with(&format!(
                "research consent on {} closed; values closed: none; kept while a study still counts them: age; ",
                first.record(1)
            )),
            "{out}"
        );
        // The researcher tidies both released studies: partials, the
        // memberships (eleven joined the first), the study; a stranger cannot.
        let stranger = env.user_with_key("stranger").await;
        let refused = env
            .run(&stranger, &["stats", "tidy", &study])
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("is not yours"), "{refused}");
        let tidied = env.run_json(&researcher, &["stats", "tidy", &study]).await;
        assert!(
            tidied["accounts"].as_u64().unwrap() >= 11 + 1 + 2,
            "{tidied}"
        );
        assert!(tidied["lamports"].as_u64().unwrap() > 0);
        env.run_json(&researcher, &["stats", "tidy", &dp]).await;
        let gone = env
            .run(&researcher, &["stats", "show", &study])
            .await
            .unwrap_err();
        assert!(gone.to_string().contains("no study at"), "{gone}");
        // Now nothing counts the first patient's value: it closes.
        let again = env
            .run(&patients[1], &["research", "close", "1"])
            .await
            .unwrap();
        assert!(again.contains("values closed: age;"), "{again}");
    });
}

/// Values read from the record: ten patients store a Synthea bundle
/// (latest weight 84.17 kg, prediabetes recorded) and consent with
/// `--value weight --value condition:15777000`; the released sums are ten
/// times those values. A record without the data is refused with one line.
#[test]
fn test_cli_values_read_from_fhir_records() {
    run_test("test_cli_values_read_from_fhir_records", async {
        let env = CliEnv::new(2, 3).await;
        let bundle = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/fhir/synthea-afhir.json");
        let cluster = env.cluster_arg();
        for k in 0..10 {
            let p = env.registered(&format!("patient{k}"), "patient").await;
            env.run_json(
                &p,
                &[
                    "store",
                    "--cluster",
                    &cluster,
                    "--record-id",
                    "1",
                    "--fhir",
                    path_str(&bundle),
                ],
            )
            .await;
            let out = env
                .run(
                    &p,
                    &[
                        "research",
                        "consent",
                        "1",
                        "--purpose",
                        PURPOSE,
                        "--value",
                        "weight",
                        "--value",
                        "condition:15777000",
                        "--exact",
                    ],
                )
                .await
                .unwrap();
            // Consent 1, weight 32 slices (7 + seal), the flag 1 (1 + seal).
            assert!(
                out.contains(": [weight, condition:15777000] posted encrypted (11 transactions);"),
                "{out}"
            );
        }
        let plain = env.registered("plain", "patient").await;
        env.store(&plain, 1, &sample_record()).await;
        let e = env
            .run(
                &plain,
                &[
                    "research",
                    "consent",
                    "1",
                    "--purpose",
                    PURPOSE,
                    "--value",
                    "loinc:2345-7",
                ],
            )
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot read 'loinc:2345-7': the record has no Observation with LOINC 2345-7"
        );

        let researcher = env.registered("researcher", "doctor").await;
        for (field, sum) in [("weight", 840u64), ("condition:15777000", 10)] {
            let opened = env
                .run_json(
                    &researcher,
                    &[
                        "stats",
                        "open",
                        "--cluster",
                        &cluster,
                        "--field",
                        field,
                        "--purpose",
                        PURPOSE,
                    ],
                )
                .await;
            let study = opened["study"].as_str().unwrap().to_string();
            collect_until(&env, &researcher, &study, 10).await;
            env.run_json(&researcher, &["stats", "close", &study]).await;
            until_released(&env, &researcher, &study).await;
            let v = env.run_json(&researcher, &["stats", "show", &study]).await;
            assert_eq!(
                (v["results"]["count"].as_u64(), v["results"]["sum"].as_u64()),
                (Some(10), Some(sum)),
                "{field}: {v}"
            );
        }
    });
}
