use anchor_lang::prelude::*;

use encrypted_ixs::stats::ElGamal;

use super::check_shape;
use crate::constants::{
    MAX_PURPOSE_LEN, MIN_COHORT, SEED_RESEARCH_CONSENT, SEED_RESEARCH_VALUE, SEED_STUDY,
    SEED_STUDY_MEMBER,
};
use crate::error::MedshareError;
use crate::events::{StudyClosed, StudyJoined, StudyLeft, StudyOpened};
use crate::state::{
    max_cohort, noise_plan, slice_count, statistic_count, Cluster, CredentialIssuer, ElGamalData,
    PatientRecord, Provider, ProviderRole, ResearchConsent, ResearchValue, Study, StudyMember,
    StudyPartials, StudyStatus,
};
use crate::utils::accounts;

/// Arguments of `open_study`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct OpenStudyArgs {
    /// Purpose (1–64 bytes); a record's research consent must state the same.
    pub purpose: String,
    /// Field id.
    pub field: [u8; 32],
    /// Bits of the field's values.
    pub bits: u8,
    /// Histogram by the top `bucket_bits` bits (0: none).
    pub bucket_bits: u8,
    /// Smallest cohort that may be released (at least 10).
    pub min_cohort: u32,
    /// Unix time after which no record may join (and anyone may close).
    pub closes_at: i64,
    /// Differential privacy: ε of the release in thousandths (0: none;
    /// otherwise 1 to 100,000).
    pub epsilon_milli: u32,
}

/// Accounts of `open_study`.
#[derive(Accounts)]
pub struct OpenStudy<'info> {
    /// The researcher; pays.
    #[account(mut)]
    pub researcher: Signer<'info>,
    /// The cluster (ready); numbers its studies.
    #[account(mut)]
    pub cluster: Account<'info, Cluster>,
    /// The new study (created by the handler).
    /// CHECK: address fixed by the seeds; must not exist yet.
    #[account(
        mut,
        seeds = [SEED_STUDY, cluster.key().as_ref(), &cluster.next_study.to_le_bytes()],
        bump
    )]
    pub study: UncheckedAccount<'info>,
    /// The researcher's registry entry, to open as a verified researcher.
    pub provider: Option<Account<'info, Provider>>,
    /// Its issuer's entry.
    pub issuer: Option<Account<'info, CredentialIssuer>>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl OpenStudy<'_> {
    /// A ready cluster; a supported shape; a purpose of 1–64 bytes; a
    /// minimum cohort of at least `MIN_COHORT`; a closing time in the
    /// future; ε within bounds and large enough for the noise cap; with a
    /// registry entry, a researcher verified now.
    pub fn validate(&self, args: &OpenStudyArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        self.cluster.require_ready()?;
        check_shape(args.bits, args.bucket_bits)?;
        require!(
            !args.purpose.is_empty() && args.purpose.len() <= MAX_PURPOSE_LEN,
            MedshareError::PurposeTooLong
        );
        require!(
            args.min_cohort >= MIN_COHORT,
            MedshareError::MinCohortTooLow
        );
        require!(args.closes_at > now, MedshareError::InvalidValidity);
        require!(
            args.epsilon_milli <= crate::constants::MAX_EPSILON_MILLI,
            MedshareError::InvalidEpsilon
        );
        require!(
            args.epsilon_milli == 0
                || noise_plan(args.bits, args.bucket_bits, args.epsilon_milli)
                    .all(|plan| plan.bits <= crate::constants::MAX_STUDY_NOISE_BITS),
            MedshareError::EpsilonTooSmall
        );
        if let Some(entry) = &self.provider {
            require!(
                entry.provider == self.researcher.key() && entry.cluster == self.cluster.key(),
                MedshareError::ProviderNotVerified
            );
            entry.check(self.issuer.as_deref(), ProviderRole::Researcher.bit(), now)?;
        }
        Ok(())
    }

    /// Opens a study of one field with empty sums. With a registry entry,
    /// the researcher must be a valid verified provider with the researcher
    /// role; records whose policy requires verified providers only join
    /// such studies.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<OpenStudy>, args: OpenStudyArgs) -> Result<()> {
        let clock = Clock::get()?;
        let accs = &ctx.accounts;
        let verified = accs.provider.is_some();
        let (researcher, cluster_key) = (accs.researcher.key(), accs.cluster.key());
        let cluster = &mut ctx.accounts.cluster;
        let number = cluster.next_study;
        cluster.next_study = number.checked_add(1).ok_or(MedshareError::Overflow)?;
        cluster.invariant()?;
        let mut study: Study = accounts::blank()?;
        study.researcher = researcher;
        study.cluster = cluster_key;
        study.number = number;
        study.verified_researcher = verified;
        study.purpose = args.purpose;
        study.field = args.field;
        study.bits = args.bits;
        study.bucket_bits = args.bucket_bits;
        study.min_cohort = args.min_cohort;
        study.closes_at = args.closes_at;
        study.status = StudyStatus::Open;
        study.cohort = 0;
        study.joined = 0;
        study.faulty = 0;
        study.partials_done = 0;
        study.epsilon_milli = args.epsilon_milli;
        study.noise_progress = [0u16; 16];
        study.noise_done = 0;
        study.noise_pending = [ElGamalData::from(ElGamal::ZERO); 16];
        study.bump = ctx.bumps.study;
        study.aggregates =
            vec![ElGamalData::from(ElGamal::ZERO); slice_count(args.bits, args.bucket_bits)];
        study.released = Vec::new();
        // The release's cost is the researcher's: the rent of every node's
        // partial decryptions is deposited now and paid to each node as it
        // creates them.
        study.partials_deposit = Rent::get()?.minimum_balance(8 + StudyPartials::INIT_SPACE);
        study.invariant()?;
        let accs = &ctx.accounts;
        accounts::create(
            &accs.study,
            &accs.researcher,
            &accs.system_program,
            &[
                SEED_STUDY,
                cluster_key.as_ref(),
                &number.to_le_bytes(),
                &[study.bump],
            ],
            8 + Study::INIT_SPACE,
            &study,
        )?;
        let deposit = study
            .partials_deposit
            .checked_mul(accs.cluster.size as u64)
            .ok_or(MedshareError::Overflow)?;
        anchor_lang::system_program::transfer(
            CpiContext::new(
                accs.system_program.key(),
                anchor_lang::system_program::Transfer {
                    from: accs.researcher.to_account_info(),
                    to: accs.study.to_account_info(),
                },
            ),
            deposit,
        )?;
        crate::emit_event!(StudyOpened {
            study: accs.study.key(),
            cluster: cluster_key,
            number,
            researcher,
            verified_researcher: verified,
            purpose: study.purpose.clone(),
            field: study.field,
            bits: study.bits,
            bucket_bits: study.bucket_bits,
            min_cohort: study.min_cohort,
            epsilon_milli: study.epsilon_milli,
            closes_at: study.closes_at,
            slot: clock.slot,
        });
        Ok(())
    }
}

/// The study's researcher is, at `now`, a verified provider with the
/// researcher role in the study's cluster (its registry entry and that
/// entry's issuer given).
pub(crate) fn check_researcher(
    study: &Study,
    provider: Option<&Provider>,
    issuer: Option<&CredentialIssuer>,
    now: i64,
) -> Result<()> {
    let entry = provider.ok_or(MedshareError::ProviderNotVerified)?;
    require!(
        entry.provider == study.researcher && entry.cluster == study.cluster,
        MedshareError::ProviderNotVerified
    );
    entry.check(issuer, ProviderRole::Researcher.bit(), now)?;
    Ok(())
}

/// Accounts of `join_study`.
#[derive(Accounts)]
pub struct JoinStudy<'info> {
    /// The study's researcher (membership is its decision: records someone
    /// made up to poison the study cannot be pushed in); pays the
    /// membership's rent.
    #[account(mut)]
    pub payer: Signer<'info>,
    /// The study (open).
    #[account(mut)]
    pub study: Box<Account<'info, Study>>,
    /// The record.
    pub record: Account<'info, PatientRecord>,
    /// Its research consent (counts the study; spends its ε).
    #[account(mut, seeds = [SEED_RESEARCH_CONSENT, record.key().as_ref()], bump = consent.bump)]
    pub consent: Account<'info, ResearchConsent>,
    /// Its value of the study's field (counts its memberships).
    #[account(
        mut,
        seeds = [SEED_RESEARCH_VALUE, record.key().as_ref(), study.field.as_ref()],
        bump = value.bump
    )]
    pub value: Account<'info, ResearchValue>,
    /// The researcher's registry entry: checked again at every join of a
    /// record that admits only verified providers.
    pub provider: Option<Account<'info, Provider>>,
    /// Its issuer's entry.
    pub issuer: Option<Account<'info, CredentialIssuer>>,
    /// The membership: a record counts once per study (created by the handler).
    /// CHECK: address fixed by the seeds; must not exist yet.
    #[account(
        mut,
        seeds = [SEED_STUDY_MEMBER, study.key().as_ref(), record.key().as_ref()],
        bump
    )]
    pub member: UncheckedAccount<'info>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl JoinStudy<'_> {
    /// The researcher signs; the study is open; the record is not in it yet,
    /// is in its cluster, and its research consent (of this record
    /// generation) admits the study; a record open only to verified
    /// providers joins only a verified researcher's study, only if its
    /// policy admits researchers, and only while the researcher's
    /// registration is valid now (it may have been revoked or have lapsed
    /// since the study opened); the study's ε fits the consent's budget; the
    /// value is sealed, of this generation and the study's shape; the
    /// cohort has room.
    pub fn validate(&self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let study = &self.study;
        require_keys_eq!(
            self.payer.key(),
            study.researcher,
            MedshareError::NotResearcher
        );
        require!(
            study.status == StudyStatus::Open && now < study.closes_at,
            MedshareError::StudyNotOpen
        );
        require!(
            accounts::load::<StudyMember>(&self.member)?.is_none(),
            MedshareError::AlreadyInStudy
        );
        require!(
            self.record.cluster == study.cluster,
            MedshareError::WrongCluster
        );
        require!(
            self.consent.record_generation == self.record.generation,
            MedshareError::ConsentMissing
        );
        self.consent.admits(study, now)?;
        if self.record.required_roles != 0 {
            require!(
                study.verified_researcher
                    && self.record.required_roles & ProviderRole::Researcher.bit() != 0,
                MedshareError::ProviderRoleNotAllowed
            );
            check_researcher(study, self.provider.as_deref(), self.issuer.as_deref(), now)?;
        }
        let consent = &self.consent;
        if consent.epsilon_budget_milli != 0 {
            require!(
                study.epsilon_milli != 0
                    && consent.epsilon_spent_milli as u64 + study.epsilon_milli as u64
                        <= consent.epsilon_budget_milli as u64,
                MedshareError::PrivacyBudgetExceeded
            );
        }
        let value = &self.value;
        require!(
            value.record_generation == self.record.generation,
            MedshareError::ValueStale
        );
        require!(value.sealed, MedshareError::ValueNotSealed);
        require!(
            value.bits == study.bits
                && value.bucket_bits == study.bucket_bits
                && value.cluster == study.cluster,
            MedshareError::FieldMismatch
        );
        require!(
            (study.cohort as u64) < max_cohort(study.bits),
            MedshareError::StudyFull
        );
        Ok(())
    }

    /// Adds a consenting record's sealed value to the study's sums (two
    /// point additions per slice).
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<JoinStudy>) -> Result<()> {
        let clock = Clock::get()?;
        let accs = &ctx.accounts;
        let value = &accs.value;
        let slices = value.slices.clone();
        let (record, owner, value_key) = (accs.record.key(), accs.record.owner, accs.value.key());
        let study_key = accs.study.key();
        let study = &mut ctx.accounts.study;
        for (agg, x) in study.aggregates.iter_mut().zip(&slices) {
            *agg = ElGamal::from(*agg)
                .add(&ElGamal::from(*x))
                .map(ElGamalData::from)
                .map_err(|_| error!(MedshareError::InvalidPoint))?;
        }
        study.cohort = study.cohort.checked_add(1).ok_or(MedshareError::Overflow)?;
        study.joined = study.joined.checked_add(1).ok_or(MedshareError::Overflow)?;
        study.invariant()?;
        let cohort = study.cohort;
        let mut member: StudyMember = accounts::blank()?;
        member.study = study_key;
        member.record = record;
        member.value = value_key;
        member.removed = false;
        member.joined_at = clock.unix_timestamp;
        member.bump = ctx.bumps.member;
        member.payer = ctx.accounts.payer.key();
        let accs = &ctx.accounts;
        accounts::create(
            &accs.member,
            &accs.payer,
            &accs.system_program,
            &[
                SEED_STUDY_MEMBER,
                study_key.as_ref(),
                record.as_ref(),
                &[member.bump],
            ],
            8 + StudyMember::INIT_SPACE,
            &member,
        )?;
        let value = &mut ctx.accounts.value;
        value.memberships = value
            .memberships
            .checked_add(1)
            .ok_or(MedshareError::Overflow)?;
        let epsilon = ctx.accounts.study.epsilon_milli;
        let consent = &mut ctx.accounts.consent;
        consent.studies_joined = consent.studies_joined.saturating_add(1);
        if consent.epsilon_budget_milli != 0 {
            consent.epsilon_spent_milli = consent.epsilon_spent_milli.saturating_add(epsilon);
        }
        crate::emit_event!(StudyJoined {
            study: study_key,
            record,
            owner,
            value: value_key,
            cohort,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}

/// Accounts of `remove_from_study`.
#[derive(Accounts)]
pub struct RemoveFromStudy<'info> {
    /// The study's researcher (any member, any time the study is open), or
    /// anyone once the record's consent no longer admits it (the patient's
    /// client sends it with the revocation).
    pub signer: Signer<'info>,
    /// The study (open).
    #[account(mut)]
    pub study: Box<Account<'info, Study>>,
    /// The membership.
    #[account(
        mut,
        has_one = study @ MedshareError::NotInStudy,
        has_one = record @ MedshareError::NotInStudy,
        has_one = value @ MedshareError::NotInStudy,
        seeds = [SEED_STUDY_MEMBER, study.key().as_ref(), record.key().as_ref()],
        bump = member.bump
    )]
    pub member: Account<'info, StudyMember>,
    /// The record (possibly closed since).
    /// CHECK: must be the member's record; read as a record only if it is
    /// still a program account.
    pub record: UncheckedAccount<'info>,
    /// Its research consent, if not closed (the study's ε goes back to its
    /// budget); a closed consent admits nothing.
    /// CHECK: address fixed by the seeds; read as a `ResearchConsent` if it exists.
    #[account(mut, seeds = [SEED_RESEARCH_CONSENT, record.key().as_ref()], bump)]
    pub consent: UncheckedAccount<'info>,
    /// The value that was counted.
    pub value: Account<'info, ResearchValue>,
}

impl RemoveFromStudy<'_> {
    /// The study is open and the member not removed yet; the signer is the
    /// researcher, or the record's research consent no longer admits the
    /// study (revoked, ended, closed, or of an earlier record generation).
    pub fn validate(&self) -> Result<()> {
        require!(
            self.study.status == StudyStatus::Open,
            MedshareError::StudyNotOpen
        );
        require!(!self.member.removed, MedshareError::NotInStudy);
        if self.signer.key() == self.study.researcher {
            return Ok(());
        }
        let Some(consent) = accounts::load::<ResearchConsent>(&self.consent)? else {
            return Ok(());
        };
        let info = self.record.to_account_info();
        let record_current = !info.data_is_empty()
            && *info.owner == crate::ID
            && PatientRecord::try_deserialize(&mut &info.try_borrow_data()?[..])
                .is_ok_and(|record| record.generation == consent.record_generation);
        let admitted = record_current
            && consent
                .admits(&self.study, Clock::get()?.unix_timestamp)
                .is_ok();
        require!(!admitted, MedshareError::StillConsented);
        Ok(())
    }

    /// Removes a record from an open study: its value is subtracted from
    /// the sums. The researcher may remove any member (a record it does not
    /// trust); anyone else only one whose research consent no longer admits
    /// it (revoked, ended, or its record closed), else `StillConsented`.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<RemoveFromStudy>) -> Result<()> {
        let clock = Clock::get()?;
        let accs = &ctx.accounts;
        let consent: Option<ResearchConsent> = accounts::load(&accs.consent)?;
        let slices = accs.value.slices.clone();
        let (study_key, record) = (accs.study.key(), accs.record.key());
        let study = &mut ctx.accounts.study;
        for (agg, x) in study.aggregates.iter_mut().zip(&slices) {
            let (r, c) = (
                encrypted_ixs::point::Point(agg.r).sub(&encrypted_ixs::point::Point(x.r)),
                encrypted_ixs::point::Point(agg.c).sub(&encrypted_ixs::point::Point(x.c)),
            );
            *agg = ElGamalData {
                r: r.map_err(|_| error!(MedshareError::InvalidPoint))?.0,
                c: c.map_err(|_| error!(MedshareError::InvalidPoint))?.0,
            };
        }
        study.cohort = study.cohort.checked_sub(1).ok_or(MedshareError::Overflow)?;
        study.invariant()?;
        let cohort = study.cohort;
        ctx.accounts.member.removed = true;
        // Nothing of the study was released: its privacy cost is refunded.
        let epsilon = ctx.accounts.study.epsilon_milli;
        if let Some(mut c) = consent {
            if c.epsilon_budget_milli != 0 {
                c.epsilon_spent_milli = c.epsilon_spent_milli.saturating_sub(epsilon);
                accounts::store(&ctx.accounts.consent, &c)?;
            }
        }
        crate::emit_event!(StudyLeft {
            study: study_key,
            record,
            cohort,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}

/// Accounts of `close_study`.
#[derive(Accounts)]
pub struct CloseStudy<'info> {
    /// The researcher, or anyone once the closing time has passed.
    pub signer: Signer<'info>,
    /// The study's cluster: the close is in its history, where the nodes
    /// watch for it.
    /// CHECK: only its address is used (it must be the study's cluster).
    #[account(address = study.cluster @ MedshareError::WrongCluster)]
    pub cluster: UncheckedAccount<'info>,
    /// The study (open).
    #[account(mut)]
    pub study: Box<Account<'info, Study>>,
}

impl CloseStudy<'_> {
    /// An open study, closed by its researcher or by anyone after its
    /// closing time, with at least `min_cohort` records.
    pub fn validate(&self) -> Result<()> {
        let study = &self.study;
        require!(
            study.status == StudyStatus::Open,
            MedshareError::StudyNotOpen
        );
        require!(
            self.signer.key() == study.researcher
                || Clock::get()?.unix_timestamp >= study.closes_at,
            MedshareError::NotRequester
        );
        require!(
            study.cohort >= study.min_cohort,
            MedshareError::CohortTooSmall
        );
        Ok(())
    }

    /// Closes the study with at least `min_cohort` records: its slice sums
    /// are combined into one aggregate per released statistic
    /// ([`crate::state::statistics`]: `Σ_j 2^j·S_j` for the sum and the sum
    /// of squares, each bucket as it is), so the count behind a single bit
    /// slice is never decrypted; the nodes may decrypt those aggregates.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CloseStudy>) -> Result<()> {
        let clock = Clock::get()?;
        let study = &mut ctx.accounts.study;
        study.aggregates = combine_slices(study.bits, study.bucket_bits, &study.aggregates)?;
        // A sum whose randomness cancels out (only records of one author
        // can do that: every `R` comes with a proof of knowledge of its
        // logarithm) could never be partially decrypted.
        require!(
            study
                .aggregates
                .iter()
                .all(|aggregate| aggregate.r != encrypted_ixs::point::IDENTITY.0),
            MedshareError::DegenerateAggregate
        );
        study.status = StudyStatus::Closed;
        study.invariant()?;
        crate::emit_event!(StudyClosed {
            study: study.key(),
            cohort: study.cohort,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}

/// A closed study's aggregates from its slice sums: the weighted sum of
/// the value slices, of the square slices (more than one bit), then each
/// bucket slice (point additions only).
fn combine_slices(bits: u8, bucket_bits: u8, slices: &[ElGamalData]) -> Result<Vec<ElGamalData>> {
    let b = bits as usize;
    let square = if b > 1 { 2 * b } else { 0 };
    require!(
        slices.len() == slice_count(bits, bucket_bits),
        MedshareError::InvariantViolated
    );
    let weighted = |part: &[ElGamalData]| -> Result<ElGamalData> {
        let cts: Vec<ElGamal> = part.iter().map(|e| ElGamal::from(*e)).collect();
        encrypted_ixs::stats::weighted(&cts)
            .map(ElGamalData::from)
            .map_err(|_| error!(MedshareError::InvalidPoint))
    };
    let mut out = Vec::with_capacity(statistic_count(bits, bucket_bits));
    out.push(weighted(&slices[..b])?);
    if square > 0 {
        out.push(weighted(&slices[b..b + square])?);
    }
    out.extend_from_slice(&slices[b + square..]);
    Ok(out)
}
