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
pub fn parse_value(s: &str, fhir: &[medshare_fhir::Entry], now: i64) -> Result<(Field, u64)> {
    let Some((name, v)) = s.split_once('=') else {
        let field = Field::parse(s.trim()).map_err(|e| ClientError::Invalid(e.to_string()))?;
        let today = medshare_fhir::research::civil_date(now);
        let value = medshare_fhir::research::research_value(fhir, &field.name, today)
            .map_err(|why| ClientError::Invalid(format!("cannot read '{}': {why}", field.name)))?;
        field
            .check(value)
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        return Ok((field, value));
    };
    let field = Field::parse(name.trim()).map_err(|e| ClientError::Invalid(e.to_string()))?;
    let value: u64 = v.trim().parse().map_err(|_| {
        ClientError::Invalid(format!("value of '{name}' is not a whole number: '{v}'"))
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
        let r = self.record(record).await?;
        if r.owner != self.wallet.pubkey() {
            return Err(ClientError::NotOwner(record.to_string()));
        }
        let cluster = self.ready_cluster(&r.cluster).await?;
        let me = self.wallet.pubkey();
        let args = ResearchConsentArgs {
            purpose: purpose.to_string(),
            researcher: researcher.unwrap_or_default(),
            fields: values.iter().map(|(f, _)| f.id).collect(),
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
            if let Some(v) =
                fetch::<medshare::state::ResearchValue>(self.chain.as_ref(), &existing).await?
            {
                if v.sealed && v.record_generation == r.generation {
                    kept.push(field.name.clone());
                    // Already posted (a consent granted again): values do not change.
                    continue;
                }
            }
            let txs = value_transactions(&mut OsRng, me, *record, r.cluster, &key, field, *value)
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
            for j in events::<StudyJoined>(&entry.logs) {
                if seen.contains(&j.study) {
                    continue;
                }
                seen.push(j.study);
                let Some(s) = fetch::<Study>(self.chain.as_ref(), &j.study).await? else {
                    continue;
                };
                let member = medshare::pda::study_member(&j.study, record);
                let m = fetch::<StudyMember>(self.chain.as_ref(), &member).await?;
                if s.status != StudyStatus::Open || m.is_none_or(|m| m.removed) {
                    continue;
                }
                let remove = ix::remove_from_study(me, j.study, &s.field, *record);
                match self.chain.send(&[remove], &[&self.wallet]).await {
                    Ok(_) => left.push(j.study),
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
            let Some(v) =
                fetch::<medshare::state::ResearchValue>(self.chain.as_ref(), &value).await?
            else {
                continue;
            };
            if v.memberships > 0 {
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
        let s = self.study(study).await?;
        if s.researcher != me {
            return Err(ClientError::Invalid(format!(
                "study {study} is not yours: only its researcher closes it"
            )));
        }
        let before = self.balance().await?;
        let mut closed = 0;
        if s.status == StudyStatus::Released {
            let c: Cluster = fetch(self.chain.as_ref(), &s.cluster)
                .await?
                .ok_or_else(|| ClientError::ClusterNotFound(s.cluster.to_string()))?;
            for i in 1..=c.size {
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
            for j in events::<StudyJoined>(&entry.logs) {
                if j.study == *study && !records.contains(&j.record) {
                    records.push(j.record);
                }
            }
        }
        for record in records {
            let member = medshare::pda::study_member(study, &record);
            let Some(m) = fetch::<StudyMember>(self.chain.as_ref(), &member).await? else {
                continue;
            };
            let ix = ix::close_study_member(me, *study, &s.field, record, m.payer);
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
            .map_or(0, |a| a.lamports))
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
        let c: Cluster = self.ready_cluster(cluster).await?;
        let me = self.wallet.pubkey();
        let provider = medshare::pda::provider(cluster, &me);
        let registry = fetch::<medshare::state::Provider>(self.chain.as_ref(), &provider)
            .await?
            .map(|p| (provider, medshare::pda::issuer(cluster, &p.issuer)));
        let (ix, study) = ix::open_study(
            me,
            *cluster,
            c.next_study,
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
        let s = self.study(study).await?;
        if s.status != StudyStatus::Open {
            return Ok(0);
        }
        let now = chain_time(self.chain.as_ref()).await?;
        let mut records = vec![];
        for entry in self.chain.history(&s.cluster).await? {
            for v in events::<ResearchValueSealed>(&entry.logs) {
                if v.field == s.field && !records.contains(&v.record) {
                    records.push(v.record);
                }
            }
        }
        // A verified researcher's registration goes with every join (records
        // that admit only verified providers check it again each time).
        let registry = researcher_registry(self.chain.as_ref(), &s).await?;
        let mut joined = 0;
        for record in records {
            let member = medshare::pda::study_member(study, &record);
            if self.chain.accounts(&[member]).await?[0].is_some() {
                continue;
            }
            let consent = medshare::pda::research_consent(&record);
            let Some(c) = fetch::<ResearchConsent>(self.chain.as_ref(), &consent).await? else {
                continue;
            };
            if c.admits(&s, now).is_err() {
                continue;
            }
            let ix = ix::join_study(self.wallet.pubkey(), *study, &s.field, record, registry);
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
        let s = self.study(study).await?;
        let ix = ix::remove_from_study(self.wallet.pubkey(), *study, &s.field, *record);
        self.chain.send(&[ix], &[&self.wallet]).await?;
        self.study(study).await
    }

    /// Closes a study (at least its minimum cohort).
    pub async fn close_study(&self, study: &Pubkey) -> Result<Study> {
        let s = self.study(study).await?;
        let ix = ix::close_study(self.wallet.pubkey(), s.cluster, *study);
        self.chain.send(&[ix], &[&self.wallet]).await?;
        self.study(study).await
    }

    /// A study and, once released, its statistics.
    pub async fn study_results(&self, study: &Pubkey) -> Result<(Study, Option<StudyResults>)> {
        let s = self.study(study).await?;
        let results = match StudyResults::of(&s) {
            Ok(r) => Some(r),
            Err(medshare_sdk::research::ResultsError::NotReleased) => None,
            Err(e) => return Err(ClientError::Invalid(e.to_string())),
        };
        Ok((s, results))
    }
}
