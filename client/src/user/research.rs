//! Encrypted cohort statistics, as the CLI runs them.
//!
//! A patient consents (purpose, fields, end) and posts each value encrypted
//! under the cluster key with its proofs: only a study's sums are ever
//! decrypted, by `t` nodes, once the study closed with at least its minimum
//! cohort. A researcher opens a study, adds the consenting records
//! (`collect`: every sealed value of the field in the cluster's history
//! whose consent states the study's purpose), closes it; the nodes decrypt
//! the sums on their own; `stats show` reads the statistics.

use medshare::events::{ResearchValueSealed, StudyJoined};
use medshare::instructions::{OpenStudyArgs, ResearchConsentArgs};
use medshare::state::{Cluster, ResearchConsent, Study, StudyMember, StudyStatus};
use medshare_sdk::chain::{chain_time, fetch};
use medshare_sdk::events::events;
use medshare_sdk::ix;
use medshare_sdk::research::{researcher_registry, value_transactions, Field, StudyResults};
use rand_core::OsRng;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;

use crate::error::{ClientError, Result};
use crate::user::Client;

/// What a research consent lets studies release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privacy {
    /// Only noised releases (differential privacy), their ε adding up to at
    /// most this many thousandths: the default.
    Budget(u32),
    /// Exact releases too, chosen explicitly: a researcher who runs two
    /// exact studies, with and without the record, learns its value.
    Exact,
}

/// The privacy budget a research consent gets unless told otherwise
/// (`--epsilon-budget`), in thousandths of ε: three studies at ε = 1.
pub const DEFAULT_EPSILON_BUDGET_MILLI: u32 = 3_000;

/// What `research close` did.
#[derive(Debug, Default)]
pub struct ResearchClosed {
    /// Values closed (field ids).
    pub closed: Vec<[u8; 32]>,
    /// Values kept (field ids): a study membership still counts them.
    pub kept: Vec<[u8; 32]>,
    /// Lamports back in the wallet.
    pub lamports: u64,
}

/// ε in thousandths, from a number between 0.001 and 100.
pub fn epsilon_milli(eps: f64) -> Result<u32> {
    let milli = (eps * 1000.0).round();
    if !(eps.is_finite() && (1.0..=100_000.0).contains(&milli)) {
        return Err(ClientError::Invalid(format!(
            "epsilon must be between 0.001 and 100, got {eps}"
        )));
    }
    Ok(milli as u32)
}

/// Parses `name=value` (a research field and its value), or `name` alone:
/// the value is then read from the record's FHIR resources (`fhir`, at
/// unix time `now`; see `medshare_fhir::research`).
pub fn parse_value(text: &str, fhir: &[medshare_fhir::Entry], now: i64) -> Result<(Field, u64)> {
    let Some((name, raw_value)) = text.split_once('=') else {
        let field = Field::parse(text.trim()).map_err(|e| ClientError::Invalid(e.to_string()))?;
        let today = medshare_fhir::research::civil_date(now);
        let value = medshare_fhir::research::research_value(fhir, &field.name, today)
            .map_err(|why| ClientError::Invalid(format!("cannot read '{}': {why}", field.name)))?;
        field
            .check(value)
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        return Ok((field, value));
    };
    let field = Field::parse(name.trim()).map_err(|e| ClientError::Invalid(e.to_string()))?;
    let value: u64 = raw_value.trim().parse().map_err(|_| {
        ClientError::Invalid(format!(
            "value of '{name}' is not a whole number: '{raw_value}'"
        ))
    })?;
    field
        .check(value)
        .map_err(|e| ClientError::Invalid(e.to_string()))?;
    Ok((field, value))
}

impl Client {
    /// Grants `record`'s research consent for `purpose` (to `researcher`'s
    /// studies only, or any researcher's) until `expires_at` and posts every
    /// value (its slices and seal); returns the transactions sent and the
    /// fields whose value was already posted (a value never changes).
    pub async fn research_consent(
        &self,
        record: &Pubkey,
        purpose: &str,
        researcher: Option<Pubkey>,
        expires_at: i64,
        privacy: Privacy,
        values: &[(Field, u64)],
    ) -> Result<(usize, Vec<String>)> {
        let account = self.record(record).await?;
        if account.owner != self.wallet.pubkey() {
            return Err(ClientError::NotOwner(record.to_string()));
        }
        let cluster = self.ready_cluster(&account.cluster).await?;
        let me = self.wallet.pubkey();
        let args = ResearchConsentArgs {
            purpose: purpose.to_string(),
            researcher: researcher.unwrap_or_default(),
            fields: values.iter().map(|(field, _)| field.id).collect(),
            expires_at,
            epsilon_budget_milli: match privacy {
                Privacy::Budget(milli) => milli,
                Privacy::Exact => 0,
            },
            exact: privacy == Privacy::Exact,
        };
        self.chain
            .send(
                &[ix::grant_research_consent(me, *record, args)],
                &[&self.wallet],
            )
            .await?;
        let key = encrypted_ixs::point::Point(cluster.cluster_key);
        let mut sent = 1;
        let mut kept = vec![];
        for (field, value) in values {
            let existing = medshare::pda::research_value(record, &field.id);
            if let Some(value_account) =
                fetch::<medshare::state::ResearchValue>(self.chain.as_ref(), &existing).await?
            {
                if value_account.sealed && value_account.record_generation == account.generation {
                    kept.push(field.name.clone());
                    // Already posted (a consent granted again): values do not change.
                    continue;
                }
            }
            let txs = value_transactions(
                &mut OsRng,
                me,
                *record,
                account.cluster,
                &key,
                field,
                *value,
            )
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
            for tx in txs {
                self.chain.send(&tx, &[&self.wallet]).await?;
                sent += 1;
            }
        }
        Ok((sent, kept))
    }

    /// Revokes `record`'s research consent, then takes the record out of
    /// every study it joined that is still open (one transaction each, so
    /// a study closed meanwhile fails alone); returns those studies.
    pub async fn research_revoke(&self, record: &Pubkey) -> Result<Vec<Pubkey>> {
        let me = self.wallet.pubkey();
        self.chain
            .send(&[ix::revoke_research_consent(me, *record)], &[&self.wallet])
            .await?;
        let mut seen = vec![];
        let mut left = vec![];
        for entry in self.chain.history(record).await? {
            for joined in events::<StudyJoined>(&entry.logs) {
                if seen.contains(&joined.study) {
                    continue;
                }
                seen.push(joined.study);
                let Some(study) = fetch::<Study>(self.chain.as_ref(), &joined.study).await? else {
                    continue;
                };
                let member = medshare::pda::study_member(&joined.study, record);
                let membership = fetch::<StudyMember>(self.chain.as_ref(), &member).await?;
                if study.status != StudyStatus::Open
                    || membership.is_none_or(|membership| membership.removed)
                {
                    continue;
                }
                let remove = ix::remove_from_study(me, joined.study, &study.field, *record);
                match self.chain.send(&[remove], &[&self.wallet]).await {
                    Ok(_) => left.push(joined.study),
                    // Closed in the meantime: a closed study keeps the record.
                    Err(e)
                        if matches!(
                            e.medshare(),
                            Some(medshare::error::MedshareError::StudyNotOpen)
                        ) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(left)
    }

    /// Closes `record`'s research accounts: every value its consent names
    /// that no study membership still counts, then the consent (revoked by
    /// closing, if it was active). Returns the names of the values closed
    /// and of those kept (still counted: they close once the researchers
    /// close their memberships), and the lamports that came back (less the
    /// transaction fees).
    pub async fn research_close(&self, record: &Pubkey) -> Result<ResearchClosed> {
        let me = self.wallet.pubkey();
        let consent_address = medshare::pda::research_consent(record);
        let consent = fetch::<ResearchConsent>(self.chain.as_ref(), &consent_address)
            .await?
            .ok_or_else(|| {
                ClientError::Invalid(format!("record {record} has no research consent"))
            })?;
        let before = self.balance().await?;
        let mut out = ResearchClosed::default();
        for id in &consent.fields {
            let value = medshare::pda::research_value(record, id);
            let Some(value_account) =
                fetch::<medshare::state::ResearchValue>(self.chain.as_ref(), &value).await?
            else {
                continue;
            };
            if value_account.memberships > 0 {
                out.kept.push(*id);
                continue;
            }
            let ix = ix::close_research_value(me, *record, id);
            self.chain.send(&[ix], &[&self.wallet]).await?;
            out.closed.push(*id);
        }
        let ix = ix::close_research_consent(me, *record);
        self.chain.send(&[ix], &[&self.wallet]).await?;
        out.lamports = self.balance().await?.saturating_sub(before);
        Ok(out)
    }

    /// Closes what a released (or abandoned) study of this researcher
    /// created: every node's partial decryptions, every membership, then
    /// the study. Returns how many accounts were closed and the lamports
    /// that came back.
    pub async fn study_tidy(&self, study: &Pubkey) -> Result<(usize, u64)> {
        let me = self.wallet.pubkey();
        let study_account = self.study(study).await?;
        if study_account.researcher != me {
            return Err(ClientError::Invalid(format!(
                "study {study} is not yours: only its researcher closes it"
            )));
        }
        let before = self.balance().await?;
        let mut closed = 0;
        if study_account.status == StudyStatus::Released {
            let cluster: Cluster = fetch(self.chain.as_ref(), &study_account.cluster)
                .await?
                .ok_or_else(|| ClientError::ClusterNotFound(study_account.cluster.to_string()))?;
            for i in 1..=cluster.size {
                let partials = medshare::pda::study_partials(study, i);
                if self.chain.accounts(&[partials]).await?[0].is_none() {
                    continue;
                }
                let ix = ix::close_study_partials(me, *study, me, i);
                self.chain.send(&[ix], &[&self.wallet]).await?;
                closed += 1;
            }
        }
        let mut records = vec![];
        for entry in self.chain.history(study).await? {
            for joined in events::<StudyJoined>(&entry.logs) {
                if joined.study == *study && !records.contains(&joined.record) {
                    records.push(joined.record);
                }
            }
        }
        for record in records {
            let member = medshare::pda::study_member(study, &record);
            let Some(membership) = fetch::<StudyMember>(self.chain.as_ref(), &member).await? else {
                continue;
            };
            let ix =
                ix::close_study_member(me, *study, &study_account.field, record, membership.payer);
            self.chain.send(&[ix], &[&self.wallet]).await?;
            closed += 1;
        }
        let ix = ix::close_study_account(me, *study);
        self.chain.send(&[ix], &[&self.wallet]).await?;
        closed += 1;
        Ok((closed, self.balance().await?.saturating_sub(before)))
    }

    async fn balance(&self) -> Result<u64> {
        let me = self.wallet.pubkey();
        Ok(self.chain.accounts(&[me]).await?[0]
            .as_ref()
            .map_or(0, |account| account.lamports))
    }

    /// Opens a study of `field` in `cluster`; returns its address.
    pub async fn open_study(
        &self,
        cluster: &Pubkey,
        field: &Field,
        purpose: &str,
        min_cohort: u32,
        closes_at: i64,
        epsilon_milli: u32,
    ) -> Result<Pubkey> {
        let cluster_account: Cluster = self.ready_cluster(cluster).await?;
        let me = self.wallet.pubkey();
        let provider = medshare::pda::provider(cluster, &me);
        let registry = fetch::<medshare::state::Provider>(self.chain.as_ref(), &provider)
            .await?
            .map(|provider_account| {
                (
                    provider,
                    medshare::pda::issuer(cluster, &provider_account.issuer),
                )
            });
        let (ix, study) = ix::open_study(
            me,
            *cluster,
            cluster_account.next_study,
            registry,
            OpenStudyArgs {
                purpose: purpose.to_string(),
                field: field.id,
                bits: field.bits,
                bucket_bits: field.bucket_bits,
                min_cohort,
                closes_at,
                epsilon_milli,
            },
        );
        self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok(study)
    }

    /// Reads a study.
    pub async fn study(&self, study: &Pubkey) -> Result<Study> {
        fetch::<Study>(self.chain.as_ref(), study)
            .await?
            .ok_or_else(|| ClientError::Invalid(format!("no study at {study}")))
    }

    /// Adds every consenting record with a sealed value of the study's field
    /// (found in the cluster's history) that has not joined yet; returns how
    /// many joined.
    pub async fn collect(&self, study: &Pubkey) -> Result<usize> {
        let study_account = self.study(study).await?;
        if study_account.status != StudyStatus::Open {
            return Ok(0);
        }
        let now = chain_time(self.chain.as_ref()).await?;
        let mut records = vec![];
        for entry in self.chain.history(&study_account.cluster).await? {
            for sealed in events::<ResearchValueSealed>(&entry.logs) {
                if sealed.field == study_account.field && !records.contains(&sealed.record) {
                    records.push(sealed.record);
                }
            }
        }
        // A verified researcher's registration goes with every join (records
        // that admit only verified providers check it again each time).
        let registry = researcher_registry(self.chain.as_ref(), &study_account).await?;
        let mut joined = 0;
        for record in records {
            let member = medshare::pda::study_member(study, &record);
            if self.chain.accounts(&[member]).await?[0].is_some() {
                continue;
            }
            let consent = medshare::pda::research_consent(&record);
            let Some(consent_account) =
                fetch::<ResearchConsent>(self.chain.as_ref(), &consent).await?
            else {
                continue;
            };
            if consent_account.admits(&study_account, now).is_err() {
                continue;
            }
            let ix = ix::join_study(
                self.wallet.pubkey(),
                *study,
                &study_account.field,
                record,
                registry,
            );
            match self.chain.send(&[ix], &[&self.wallet]).await {
                Ok(_) => joined += 1,
                // Closed or regenerated records, shape mismatches, a policy
                // that does not admit this researcher: not added.
                Err(e) if e.medshare().is_some() => {
                    tracing::debug!(%record, error = %e, "record not added");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(joined)
    }

    /// Takes `record` out of an open study (the researcher may remove any
    /// member); returns the study as it now stands.
    pub async fn remove_from_study(&self, study: &Pubkey, record: &Pubkey) -> Result<Study> {
        let study_account = self.study(study).await?;
        let ix = ix::remove_from_study(self.wallet.pubkey(), *study, &study_account.field, *record);
        self.chain.send(&[ix], &[&self.wallet]).await?;
        self.study(study).await
    }

    /// Closes a study (at least its minimum cohort).
    pub async fn close_study(&self, study: &Pubkey) -> Result<Study> {
        let study_account = self.study(study).await?;
        let ix = ix::close_study(self.wallet.pubkey(), study_account.cluster, *study);
        self.chain.send(&[ix], &[&self.wallet]).await?;
        self.study(study).await
    }

    /// A study and, once released, its statistics.
    pub async fn study_results(&self, study: &Pubkey) -> Result<(Study, Option<StudyResults>)> {
        let study_account = self.study(study).await?;
        let results = match StudyResults::of(&study_account) {
            Ok(results) => Some(results),
            Err(medshare_sdk::research::ResultsError::NotReleased) => None,
            Err(e) => return Err(ClientError::Invalid(e.to_string())),
        };
        Ok((study_account, results))
    }
}
