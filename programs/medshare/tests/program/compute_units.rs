//! The compute-unit table. On the ELF (`MEDSHARE_SBF=1`) it runs the share
//! path for every number of groups `g` (1 to 5) and thresholds `t` up to 16,
//! reads each instruction's consumed units from the runtime's log, and prints
//! median and max per instruction next to the goals of
//! `programs/medshare/README.md`:
//!
//! ```sh
//! ../shared/sbf/build -p medshare
//! MEDSHARE_SBF=1 cargo test -p medshare --test program compute_units -- --nocapture
//! ```
//!
//! Natively the same flows run (and must succeed, the doctor must open every
//! share), but the runtime meters nothing, so no table is printed.

use std::collections::BTreeMap;

use crate::common::*;
use encrypted_ixs::capsule::open;
use encrypted_ixs::keys::UserSecretKey;
use medshare::state::*;
use solana_sdk::signature::Signer;

/// Samples per (instruction, parameters) row.
#[derive(Default)]
struct Table(BTreeMap<(u8, String), (String, Vec<u64>)>);

impl Table {
    fn add(&mut self, order: u8, name: &str, goal: String, logs: &[String]) {
        let units = program_units(logs);
        if sbf() {
            assert_eq!(units.len(), 1, "one program invocation per transaction");
        }
        let e = self
            .0
            .entry((order, name.to_string()))
            .or_insert_with(|| (goal, vec![]));
        e.1.extend(units);
    }

    fn print(&self) {
        println!();
        println!("| instruction | median CU | max CU | samples | goal | met |");
        println!("| --- | --- | --- | --- | --- | --- |");
        for ((_, name), (goal, samples)) in &self.0 {
            let mut s = samples.clone();
            s.sort_unstable();
            let median = s[s.len() / 2];
            let max = *s.last().unwrap();
            let met = match goal.strip_prefix("≤ ") {
                Some(g) => {
                    let g: u64 = g.replace(',', "").parse().unwrap();
                    if max <= g {
                        "yes"
                    } else {
                        "no"
                    }
                }
                None => "",
            };
            println!(
                "| {name} | {median} | {max} | {} | {goal} | {met} |",
                s.len()
            );
        }
    }
}

fn goal(units: u64) -> String {
    let s = units.to_string();
    let mut out = String::new();
    for (k, ch) in s.chars().enumerate() {
        if k > 0 && (s.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    format!("≤ {out}")
}

/// One cluster of `t`-of-`t`, a five-group record, and shares of the first
/// `g` groups for each `g` in `gs`; every node contributes, node 1 finalizes.
async fn sweep(env: &mut Env, table: &mut Table, id: u32, t: u8, gs: &[usize]) {
    let c = ready_cluster(env, id, t, t).await;
    let p = patient(env).await;
    let owner = p.wallet.pubkey();
    let record_id = id as u64;
    let record = medshare::pda::record(&owner, record_id);
    let logs = env
        .send(&[store_ix(&owner, &c.address, record_id)], &[&p.wallet])
        .await
        .unwrap();
    table.add(1, "store_patient_data", String::new(), &logs);
    let payload = vec![b'x'; 600];
    for g in 0..5u8 {
        let s = encrypted_ixs::record::seal_group(
            &mut env.rng,
            &record_ctx(&owner, &record, g),
            1,
            &payload,
            &c.key(),
            &p.key.public_key().edwards().unwrap(),
        )
        .unwrap();
        let logs = env
            .send(&[write_ix(&owner, &record, &s)], &[&p.wallet])
            .await
            .unwrap();
        table.add(2, "write_record_group (616 B)", goal(25_000), &logs);
    }
    let cluster: Cluster = env.account(c.address).await;
    for (k, &g) in gs.iter().enumerate() {
        let doctor = UserSecretKey::generate(&mut env.rng);
        let mask = ((1u16 << g) - 1) as u8;
        let logs = env
            .send(
                &[share_ix(
                    &owner,
                    &record,
                    &c.address,
                    cluster.next_computation + k as u64,
                    mask,
                    doctor.public_key().edwards().unwrap().0,
                )],
                &[&p.wallet],
            )
            .await
            .unwrap();
        table.add(3, "share_patient_data", goal(15_000), &logs);
        let computation =
            medshare::pda::computation(&c.address, cluster.next_computation + k as u64);
        for i in 1..=t as usize {
            let logs = contribute(env, &c, i, computation).await.unwrap();
            table.add(
                4,
                &format!("submit_contribution, g = {g}"),
                goal(5_000 + 15_000 * g as u64),
                &logs,
            );
        }
        let cb = callback_ix(env, &c, 1, computation).await;
        let logs = env.send(&[cb], &[&c.nodes[0].authority]).await.unwrap();
        table.add(
            5,
            &format!("share_patient_data_callback, t = {t:>2}, g = {g}"),
            goal((8_000 + 2_000 * t as u64) * g as u64),
            &logs,
        );
        // The doctor opens every group of the result.
        let result: ShareResult = env.account(medshare::pda::share_result(&computation)).await;
        assert!(result.completed);
        assert_eq!(result.capsules.len(), g);
        for cap in &result.capsules {
            open(&(*cap).into(), &doctor).unwrap();
        }
    }
}

#[tokio::test]
async fn test_compute_unit_table() {
    let mut env = Env::new(900).await;
    let mut table = Table::default();
    // Every g at t = 3 (the default cluster), then t up to 16 at g = 1 and 5.
    sweep(&mut env, &mut table, 1, 3, &[1, 2, 3, 4, 5, 2]).await;
    for (id, t) in [(2u32, 2u8), (3, 5), (4, 10), (5, 16)] {
        sweep(&mut env, &mut table, id, t, &[1, 5]).await;
    }
    if sbf() {
        table.print();
        // A whole 3-of-5-style share of 2 groups: request + 3 contributions +
        // callback, from the medians above.
        let med = |name: &str| {
            let mut s = table
                .0
                .iter()
                .find(|((_, n), _)| n == name)
                .unwrap()
                .1
                 .1
                .clone();
            s.sort_unstable();
            s[s.len() / 2]
        };
        let total = med("share_patient_data")
            + 3 * med("submit_contribution, g = 2")
            + med("share_patient_data_callback, t =  3, g = 2");
        println!("\nwhole share, t = 3, g = 2 (request + 3 contributions + callback): {total} CU (goal ≤ 150,000)");
    } else {
        println!("native run: the runtime meters nothing; run with MEDSHARE_SBF=1 for the table");
    }
}
