//! `research consent|revoke` (patients) and `stats open|collect|close|show`
//! (researchers): encrypted cohort statistics.

use std::fmt;

use medshare::state::{Statistic, Study, StudyStatus};
use medshare_sdk::research::{Field, StudyResults};
use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

use super::{Ctx, ResearchCommand, StatsCommand};
use crate::error::{ClientError, Result};
use crate::user::research::{epsilon_milli, parse_value, Privacy, DEFAULT_EPSILON_BUDGET_MILLI};

/// What a research or stats command did or found.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ResearchOutput {
    /// `research consent`.
    Consented {
        /// The record.
        record: String,
        /// Purpose.
        purpose: String,
        /// Fields posted now.
        fields: Vec<String>,
        /// Fields whose value was posted before (values never change).
        kept: Vec<String>,
        /// The only researcher whose studies may use the record.
        researcher: Option<String>,
        /// What studies may release.
        privacy: String,
        /// End (unix seconds).
        expires_at: i64,
        /// Transactions sent.
        transactions: usize,
    },
    /// `research revoke`.
    Revoked {
        /// The record.
        record: String,
        /// Open studies it left.
        left: Vec<String>,
    },
    /// `stats open`.
    Opened {
        /// The study.
        study: String,
        /// Field.
        field: String,
        /// Minimum cohort.
        min_cohort: u32,
    },
    /// `stats collect`.
    Collected {
        /// The study.
        study: String,
        /// Records added now.
        added: usize,
        /// Cohort.
        cohort: u32,
    },
    /// `research close`.
    Closed {
        /// The record.
        record: String,
        /// Values closed.
        values_closed: Vec<String>,
        /// Values kept (a study membership still counts them).
        values_kept: Vec<String>,
        /// Lamports back (net of fees).
        lamports: u64,
    },
    /// `stats tidy`.
    Tidied {
        /// The study.
        study: String,
        /// Accounts closed.
        accounts: usize,
        /// Lamports back (net of fees).
        lamports: u64,
    },
    /// `stats remove`.
    Removed {
        /// The study.
        study: String,
        /// The record taken out.
        record: String,
        /// Cohort now.
        cohort: u32,
    },
    /// `stats show` (and `stats close`).
    Study(StudyView),
}

/// A study as `stats show` prints it.
#[derive(Debug, Serialize)]
pub struct StudyView {
    /// The study.
    pub study: String,
    /// Field name (when it is a catalogue name) or id.
    pub field: String,
    /// Purpose.
    pub purpose: String,
    /// `open`, `closed` or `released`.
    pub status: &'static str,
    /// Records counted.
    pub cohort: u32,
    /// Minimum cohort.
    pub min_cohort: u32,
    /// Opened by a verified researcher.
    pub verified_researcher: bool,
    /// Nodes found posting a wrong partial decryption.
    pub faulty_nodes: Vec<u8>,
    /// Differential privacy: the release's ε (`null`: none, exact figures).
    pub epsilon: Option<f64>,
    /// With differential privacy: each released statistic's share of ε,
    /// its noise and the bound no node's noise on it can exceed.
    pub privacy: Vec<PrivacyView>,
    /// With differential privacy: the release's δ.
    pub delta: Option<f64>,
    /// Once released.
    pub results: Option<ResultsView>,
}

/// One released statistic's differential privacy.
#[derive(Debug, Serialize)]
pub struct PrivacyView {
    /// `sum`, `sum of squares` or `bucket <from>–<to>`.
    pub statistic: String,
    /// Its share of ε.
    pub epsilon: f64,
    /// How far one member's value moves it.
    pub sensitivity: u64,
    /// Standard deviation of the noise it carries (the nodes' together).
    pub noise_sd: f64,
    /// No node's noise on it exceeds this.
    pub bound: u64,
    /// Nodes whose noise it carries.
    pub nodes: u32,
}

/// Released statistics.
#[derive(Debug, Serialize)]
pub struct ResultsView {
    /// Records.
    pub count: u64,
    /// Sum.
    pub sum: i128,
    /// Mean.
    pub mean: f64,
    /// Sum of squares.
    pub sum_of_squares: Option<i128>,
    /// Population variance.
    pub variance: Option<f64>,
    /// `(from, to, count)` per bucket.
    pub histogram: Option<Vec<(u64, u64, i64)>>,
}

fn field_name(id: &[u8; 32]) -> String {
    ["age", "weight", "height"]
        .iter()
        .find(|name| encrypted_ixs::stats::field_id(name) == *id)
        .map(|name| name.to_string())
        .unwrap_or_else(|| format!("field {}", hex::encode(&id[..8])))
}

/// `t`: the cluster's threshold (the nodes whose noise a release carries).
fn view(study: &Pubkey, account: &Study, results: Option<StudyResults>, t: u8) -> StudyView {
    let width = 1u64 << (account.bits - account.bucket_bits.min(account.bits));
    let report = medshare_sdk::research::privacy_report(account, t);
    StudyView {
        study: study.to_string(),
        field: field_name(&account.field),
        purpose: account.purpose.clone(),
        status: match account.status {
            StudyStatus::Open => "open",
            StudyStatus::Closed => "closed",
            StudyStatus::Released => "released",
        },
        cohort: account.cohort,
        min_cohort: account.min_cohort,
        verified_researcher: account.verified_researcher,
        faulty_nodes: (0..16u8)
            .filter(|k| account.faulty & (1 << k) != 0)
            .map(|k| k + 1)
            .collect(),
        epsilon: (account.epsilon_milli > 0).then(|| account.epsilon_milli as f64 / 1000.0),
        privacy: report
            .iter()
            .map(|entry| PrivacyView {
                statistic: match entry.statistic {
                    Statistic::Sum => "sum".into(),
                    Statistic::SumOfSquares => "sum of squares".into(),
                    Statistic::Bucket(j) => {
                        let from = j as u64 * width;
                        format!("bucket {from}–{}", from + width - 1)
                    }
                },
                epsilon: entry.epsilon,
                sensitivity: entry.shift,
                noise_sd: entry.sd,
                bound: entry.bound,
                nodes: entry.nodes,
            })
            .collect(),
        delta: (!report.is_empty()).then(|| medshare_sdk::research::release_delta(&report)),
        results: results.map(|results| ResultsView {
            count: results.count,
            sum: results.sum,
            mean: results.mean,
            sum_of_squares: results.sum_of_squares,
            variance: results.variance,
            histogram: results.histogram.map(|histogram| {
                histogram
                    .iter()
                    .enumerate()
                    .map(|(j, c)| (j as u64 * width, (j as u64 + 1) * width - 1, *c))
                    .collect()
            }),
        }),
    }
}

impl fmt::Display for ResearchOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResearchOutput::Consented {
                record,
                purpose,
                fields,
                kept,
                researcher,
                privacy,
                expires_at,
                transactions,
            } => {
                write!(f, "research consent on {record} for \"{purpose}\"")?;
                if let Some(researcher) = researcher {
                    write!(f, " (studies of {researcher} only)")?;
                }
                write!(f, " ({privacy})")?;
                write!(
                    f,
                    " until unix time {expires_at}: [{}] posted encrypted ({transactions} transactions); only study sums over at least 10 records are ever decrypted",
                    fields.join(", ")
                )?;
                if !kept.is_empty() {
                    write!(f, "; already posted, unchanged: [{}]", kept.join(", "))?;
                }
                Ok(())
            }
            ResearchOutput::Revoked { record, left } => write!(
                f,
                "research consent on {record} revoked; left {} open stud{} (closed studies keep the record)",
                left.len(),
                if left.len() == 1 { "y" } else { "ies" }
            ),
            ResearchOutput::Opened {
                study,
                field,
                min_cohort,
            } => write!(f, "study {study} opened: {field}, minimum cohort {min_cohort}"),
            ResearchOutput::Collected {
                study,
                added,
                cohort,
            } => write!(f, "{added} record(s) added to {study}; cohort {cohort}"),
            ResearchOutput::Removed {
                study,
                record,
                cohort,
            } => write!(f, "record {record} removed from {study}; cohort {cohort}"),
            ResearchOutput::Closed {
                record,
                values_closed,
                values_kept,
                lamports,
            } => {
                write!(
                    f,
                    "research consent on {record} closed; values closed: {}",
                    if values_closed.is_empty() { "none".to_string() } else { values_closed.join(", ") }
                )?;
                if !values_kept.is_empty() {
                    write!(
                        f,
                        "; kept while a study still counts them: {}",
                        values_kept.join(", ")
                    )?;
                }
                write!(f, "; {lamports} lamports back")
            }
            ResearchOutput::Tidied {
                study,
                accounts,
                lamports,
            } => write!(f, "study {study}: {accounts} account(s) closed, {lamports} lamports back"),
            ResearchOutput::Study(view) => {
                writeln!(f, "study     {}", view.study)?;
                writeln!(f, "field     {}", view.field)?;
                writeln!(f, "purpose   {}", view.purpose)?;
                writeln!(
                    f,
                    "status    {} (cohort {}, minimum {})",
                    view.status, view.cohort, view.min_cohort
                )?;
                if !view.faulty_nodes.is_empty() {
                    writeln!(f, "faulty    nodes {:?}", view.faulty_nodes)?;
                }
                match (view.epsilon, view.delta) {
                    (Some(e), Some(delta)) => {
                        write!(
                            f,
                            "epsilon   {e}, delta {delta:.1e} (discrete Laplace noise per statistic; no node can move one by more than its bound)"
                        )?;
                        for entry in &view.privacy {
                            write!(
                                f,
                                "\n  {:<16} ε {:<6} sensitivity {:<6} noise sd {:<9.1} bound ±{} ({} nodes)",
                                entry.statistic, entry.epsilon, entry.sensitivity, entry.noise_sd, entry.bound, entry.nodes
                            )?;
                        }
                    }
                    _ => write!(f, "epsilon   none (exact figures, no differential-privacy noise)")?,
                }
                if let Some(results) = &view.results {
                    write!(f, "\ncount     {}\nsum       {}\nmean      {:.4}", results.count, results.sum, results.mean)?;
                    if let Some(var) = results.variance {
                        write!(f, "\nvariance  {var:.4}")?;
                    }
                    if let Some(histogram) = &results.histogram {
                        for (a, b, c) in histogram {
                            write!(f, "\n  {a:>5}–{b:<5} {c}")?;
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// Runs `research …`.
pub async fn research(ctx: &Ctx, cmd: &ResearchCommand) -> Result<ResearchOutput> {
    let client = ctx.client()?;
    match cmd {
        ResearchCommand::Consent {
            record,
            purpose,
            values,
            days,
            epsilon_budget,
            exact,
            researcher,
        } => {
            let record = ctx.record(&client, record)?;
            if values.is_empty() {
                return Err(ClientError::Invalid(
                    "name at least one --value FIELD=VALUE".into(),
                ));
            }
            if !(*days > 0.0 && days.is_finite()) {
                return Err(ClientError::Invalid(format!(
                    "--days must be positive, got {days}"
                )));
            }
            let now = medshare_sdk::chain::chain_time(client.chain.as_ref()).await?;
            // A field without `=VALUE` is read from the record's FHIR resources.
            let fhir = if values.iter().any(|value| !value.contains('=')) {
                client.show(&record).await?.0.fhir
            } else {
                Vec::new()
            };
            let values = values
                .iter()
                .map(|value| parse_value(value, &fhir, now))
                .collect::<Result<Vec<_>>>()?;
            let expires_at = now + (*days * 86_400.0) as i64;
            let privacy = if *exact {
                Privacy::Exact
            } else {
                Privacy::Budget(
                    epsilon_budget
                        .map(epsilon_milli)
                        .transpose()?
                        .unwrap_or(DEFAULT_EPSILON_BUDGET_MILLI),
                )
            };
            let (transactions, kept) = client
                .research_consent(&record, purpose, *researcher, expires_at, privacy, &values)
                .await?;
            Ok(ResearchOutput::Consented {
                record: record.to_string(),
                purpose: purpose.clone(),
                fields: values
                    .iter()
                    .map(|(field, _)| field.name.clone())
                    .filter(|name| !kept.contains(name))
                    .collect(),
                kept,
                researcher: researcher.map(|researcher| researcher.to_string()),
                privacy: match privacy {
                    Privacy::Exact => "exact releases too (chosen with --exact)".to_string(),
                    Privacy::Budget(m) => {
                        format!("noised releases only, ε budget {}", m as f64 / 1000.0)
                    }
                },
                expires_at,
                transactions,
            })
        }
        ResearchCommand::Revoke { record } => {
            let record = ctx.record(&client, record)?;
            let left = client.research_revoke(&record).await?;
            Ok(ResearchOutput::Revoked {
                record: record.to_string(),
                left: left.iter().map(|study| study.to_string()).collect(),
            })
        }
        ResearchCommand::Close { record } => {
            let record = ctx.record(&client, record)?;
            let done = client.research_close(&record).await?;
            Ok(ResearchOutput::Closed {
                record: record.to_string(),
                values_closed: done.closed.iter().map(field_name).collect(),
                values_kept: done.kept.iter().map(field_name).collect(),
                lamports: done.lamports,
            })
        }
    }
}

/// Runs `stats …`.
pub async fn stats(ctx: &Ctx, cmd: &StatsCommand) -> Result<ResearchOutput> {
    let client = ctx.client()?;
    match cmd {
        StatsCommand::Open {
            cluster,
            field,
            purpose,
            min_cohort,
            days,
            epsilon,
        } => {
            let eps = epsilon.map(epsilon_milli).transpose()?.unwrap_or(0);
            let field = Field::parse(field).map_err(|e| ClientError::Invalid(e.to_string()))?;
            if !(*days > 0.0 && days.is_finite()) {
                return Err(ClientError::Invalid(format!(
                    "--days must be positive, got {days}"
                )));
            }
            let now = medshare_sdk::chain::chain_time(client.chain.as_ref()).await?;
            let study = client
                .open_study(
                    cluster,
                    &field,
                    purpose,
                    *min_cohort,
                    now + (*days * 86_400.0) as i64,
                    eps,
                )
                .await?;
            Ok(ResearchOutput::Opened {
                study: study.to_string(),
                field: field.name,
                min_cohort: *min_cohort,
            })
        }
        StatsCommand::Collect { study } => {
            let added = client.collect(study).await?;
            let account = client.study(study).await?;
            Ok(ResearchOutput::Collected {
                study: study.to_string(),
                added,
                cohort: account.cohort,
            })
        }
        StatsCommand::Tidy { study } => {
            let (accounts, lamports) = client.study_tidy(study).await?;
            Ok(ResearchOutput::Tidied {
                study: study.to_string(),
                accounts,
                lamports,
            })
        }
        StatsCommand::Remove { study, record } => {
            let account = client.remove_from_study(study, record).await?;
            Ok(ResearchOutput::Removed {
                study: study.to_string(),
                record: record.to_string(),
                cohort: account.cohort,
            })
        }
        StatsCommand::Close { study } => {
            client.collect(study).await?;
            let account = client.close_study(study).await?;
            let t = client.ready_cluster(&account.cluster).await?.threshold;
            Ok(ResearchOutput::Study(view(study, &account, None, t)))
        }
        StatsCommand::Show { study } => {
            let (account, results) = client.study_results(study).await?;
            let t = client.ready_cluster(&account.cluster).await?.threshold;
            Ok(ResearchOutput::Study(view(study, &account, results, t)))
        }
    }
}
