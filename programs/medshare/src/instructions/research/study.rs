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
    /// Opens a study of one field with empty sums. With a registry entry,
    /// the researcher must be a valid verified provider with the researcher
    /// role; records whose policy requires verified providers only join
    /// such studies.
    pub fn handler(ctx: Context<OpenStudy>, args: OpenStudyArgs) -> Result<()> {
        let clock = Clock::get()?;
        let a = &ctx.accounts;
        a.cluster.require_ready()?;
        check_shape(args.bits, args.bucket_bits)?;
        require!(
            !args.purpose.is_empty() && args.purpose.len() <= MAX_PURPOSE_LEN,
            MedshareError::PurposeTooLong
        );
        require!(
            args.min_cohort >= MIN_COHORT,
            MedshareError::MinCohortTooLow
        );
        require!(
            args.closes_at > clock.unix_timestamp,
            MedshareError::InvalidValidity
        );
        require!(
            args.epsilon_milli <= crate::constants::MAX_EPSILON_MILLI,
            MedshareError::InvalidEpsilon
        );
        require!(
            args.epsilon_milli == 0
                || noise_plan(args.bits, args.bucket_bits, args.epsilon_milli)
                    .all(|p| p.bits <= crate::constants::MAX_STUDY_NOISE_BITS),
            MedshareError::EpsilonTooSmall
        );
        let verified = match &a.provider {
            None => false,
            Some(p) => {
                require!(
                    p.provider == a.researcher.key() && p.cluster == a.cluster.key(),
                    MedshareError::ProviderNotVerified
                );
                p.check(
                    a.issuer.as_deref(),
                    ProviderRole::Researcher.bit(),
                    clock.unix_timestamp,
                )?;
                true
            }
        };
        let (researcher, cluster_key) = (a.researcher.key(), a.cluster.key());
        let cluster = &mut ctx.accounts.cluster;
        let number = cluster.next_study;
        cluster.next_study = number.checked_add(1).ok_or(MedshareError::Overflow)?;
        cluster.invariant()?;
        let mut s: Study = accounts::blank()?;
        s.researcher = researcher;
        s.cluster = cluster_key;
        s.number = number;
        s.verified_researcher = verified;
        s.purpose = args.purpose;
        s.field = args.field;
        s.bits = args.bits;
        s.bucket_bits = args.bucket_bits;
        s.min_cohort = args.min_cohort;
        s.closes_at = args.closes_at;
        s.status = StudyStatus::Open;
        s.cohort = 0;
        s.joined = 0;
        s.faulty = 0;
        s.partials_done = 0;
        s.epsilon_milli = args.epsilon_milli;
        s.noise_progress = [0u16; 16];
        s.noise_done = 0;
        s.noise_pending = [ElGamalData::from(ElGamal::ZERO); 16];
        s.bump = ctx.bumps.study;
        s.aggregates =
            vec![ElGamalData::from(ElGamal::ZERO); slice_count(args.bits, args.bucket_bits)];
        s.released = Vec::new();
        // The release's cost is the researcher's: the rent of every node's
        // partial decryptions is deposited now and paid to each node as it
        // creates them.
        s.partials_deposit = Rent::get()?.minimum_balance(8 + StudyPartials::INIT_SPACE);
        s.invariant()?;
        let a = &ctx.accounts;
        accounts::create(
            &a.study,
            &a.researcher,
            &a.system_program,
            &[
                SEED_STUDY,
                cluster_key.as_ref(),
                &number.to_le_bytes(),
                &[s.bump],
            ],
            8 + Study::INIT_SPACE,
            &s,
        )?;
        let deposit = s
            .partials_deposit
            .checked_mul(a.cluster.size as u64)
            .ok_or(MedshareError::Overflow)?;
        anchor_lang::system_program::transfer(
            CpiContext::new(
                a.system_program.key(),
                anchor_lang::system_program::Transfer {
                    from: a.researcher.to_account_info(),
                    to: a.study.to_account_info(),
                },
            ),
            deposit,
        )?;
        crate::emit_event!(StudyOpened {
            study: a.study.key(),
            cluster: cluster_key,
            number,
            researcher,
            verified_researcher: verified,
            purpose: s.purpose.clone(),
            field: s.field,
            bits: s.bits,
            bucket_bits: s.bucket_bits,
            min_cohort: s.min_cohort,
            epsilon_milli: s.epsilon_milli,
            closes_at: s.closes_at,
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
    let p = provider.ok_or(MedshareError::ProviderNotVerified)?;
    require!(
        p.provider == study.researcher && p.cluster == study.cluster,
        MedshareError::ProviderNotVerified
    );
    p.check(issuer, ProviderRole::Researcher.bit(), now)?;
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
    /// Adds a consenting record's sealed value to the study's sums (two
    /// point additions per slice).
    pub fn handler(ctx: Context<JoinStudy>) -> Result<()> {
        let clock = Clock::get()?;
        let a = &ctx.accounts;
        let s = &a.study;
        require_keys_eq!(a.payer.key(), s.researcher, MedshareError::NotResearcher);
        require!(
            s.status == StudyStatus::Open && clock.unix_timestamp < s.closes_at,
            MedshareError::StudyNotOpen
        );
        require!(
            accounts::load::<StudyMember>(&a.member)?.is_none(),
            MedshareError::AlreadyInStudy
        );
        require!(a.record.cluster == s.cluster, MedshareError::WrongCluster);
        require!(
            a.consent.record_generation == a.record.generation,
            MedshareError::ConsentMissing
        );
        a.consent.admits(s, clock.unix_timestamp)?;
        // A record open only to verified providers joins only a verified
        // researcher's study, only if its policy admits researchers, and
        // only while the researcher's registration is valid now (it may
        // have been revoked or have lapsed since the study opened).
        if a.record.required_roles != 0 {
            require!(
                s.verified_researcher
                    && a.record.required_roles & ProviderRole::Researcher.bit() != 0,
                MedshareError::ProviderRoleNotAllowed
            );
            check_researcher(
                s,
                a.provider.as_deref(),
                a.issuer.as_deref(),
                clock.unix_timestamp,
            )?;
        }
        let c = &a.consent;
        if c.epsilon_budget_milli != 0 {
            require!(
                s.epsilon_milli != 0
                    && c.epsilon_spent_milli as u64 + s.epsilon_milli as u64
                        <= c.epsilon_budget_milli as u64,
                MedshareError::PrivacyBudgetExceeded
            );
        }
        let v = &a.value;
        require!(
            v.record_generation == a.record.generation,
            MedshareError::ValueStale
        );
        require!(v.sealed, MedshareError::ValueNotSealed);
        require!(
            v.bits == s.bits && v.bucket_bits == s.bucket_bits && v.cluster == s.cluster,
            MedshareError::FieldMismatch
        );
        require!(
            (s.cohort as u64) < max_cohort(s.bits),
            MedshareError::StudyFull
        );
        let slices = v.slices.clone();
        let (record, owner, value) = (a.record.key(), a.record.owner, a.value.key());
        let study_key = a.study.key();
        let s = &mut ctx.accounts.study;
        for (agg, x) in s.aggregates.iter_mut().zip(&slices) {
            *agg = ElGamal::from(*agg)
                .add(&ElGamal::from(*x))
                .map(ElGamalData::from)
                .map_err(|_| error!(MedshareError::InvalidPoint))?;
        }
        s.cohort = s.cohort.checked_add(1).ok_or(MedshareError::Overflow)?;
        s.joined = s.joined.checked_add(1).ok_or(MedshareError::Overflow)?;
        s.invariant()?;
        let cohort = s.cohort;
        let mut m: StudyMember = accounts::blank()?;
        m.study = study_key;
        m.record = record;
        m.value = value;
        m.removed = false;
        m.joined_at = clock.unix_timestamp;
        m.bump = ctx.bumps.member;
        m.payer = ctx.accounts.payer.key();
        let a = &ctx.accounts;
        accounts::create(
            &a.member,
            &a.payer,
            &a.system_program,
            &[
                SEED_STUDY_MEMBER,
                study_key.as_ref(),
                record.as_ref(),
                &[m.bump],
            ],
            8 + StudyMember::INIT_SPACE,
            &m,
        )?;
        let v = &mut ctx.accounts.value;
        v.memberships = v
            .memberships
            .checked_add(1)
            .ok_or(MedshareError::Overflow)?;
        let epsilon = ctx.accounts.study.epsilon_milli;
        let c = &mut ctx.accounts.consent;
        c.studies_joined = c.studies_joined.saturating_add(1);
        if c.epsilon_budget_milli != 0 {
            c.epsilon_spent_milli = c.epsilon_spent_milli.saturating_add(epsilon);
        }
        crate::emit_event!(StudyJoined {
            study: study_key,
            record,
            owner,
            value,
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
    /// Removes a record from an open study: its value is subtracted from
    /// the sums. The researcher may remove any member (a record it does not
    /// trust); anyone else only one whose research consent no longer admits
    /// it (revoked, ended, or its record closed), else `StillConsented`.
    pub fn handler(ctx: Context<RemoveFromStudy>) -> Result<()> {
        let clock = Clock::get()?;
        let a = &ctx.accounts;
        require!(
            a.study.status == StudyStatus::Open,
            MedshareError::StudyNotOpen
        );
        require!(!a.member.removed, MedshareError::NotInStudy);
        let consent: Option<ResearchConsent> = accounts::load(&a.consent)?;
        let record_current = match &consent {
            None => false,
            Some(c) => {
                let info = a.record.to_account_info();
                if info.data_is_empty() || *info.owner != crate::ID {
                    false
                } else {
                    let data = info.try_borrow_data()?;
                    PatientRecord::try_deserialize(&mut &data[..])
                        .map(|r| r.generation == c.record_generation)
                        .unwrap_or(false)
                }
            }
        };
        let admitted = record_current
            && consent
                .as_ref()
                .is_some_and(|c| c.admits(&a.study, clock.unix_timestamp).is_ok());
        let by_researcher = a.signer.key() == a.study.researcher;
        require!(by_researcher || !admitted, MedshareError::StillConsented);
        let slices = a.value.slices.clone();
        let (study_key, record) = (a.study.key(), a.record.key());
        let s = &mut ctx.accounts.study;
        for (agg, x) in s.aggregates.iter_mut().zip(&slices) {
            let (r, c) = (
                encrypted_ixs::point::Point(agg.r).sub(&encrypted_ixs::point::Point(x.r)),
                encrypted_ixs::point::Point(agg.c).sub(&encrypted_ixs::point::Point(x.c)),
            );
            *agg = ElGamalData {
                r: r.map_err(|_| error!(MedshareError::InvalidPoint))?.0,
                c: c.map_err(|_| error!(MedshareError::InvalidPoint))?.0,
            };
        }
        s.cohort = s.cohort.checked_sub(1).ok_or(MedshareError::Overflow)?;
        s.invariant()?;
        let cohort = s.cohort;
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
    /// Closes the study with at least `min_cohort` records: its slice sums
    /// are combined into one aggregate per released statistic
    /// ([`crate::state::statistics`]: `Σ_j 2^j·S_j` for the sum and the sum
    /// of squares, each bucket as it is), so the count behind a single bit
    /// slice is never decrypted; the nodes may decrypt those aggregates.
    pub fn handler(ctx: Context<CloseStudy>) -> Result<()> {
        let clock = Clock::get()?;
        let s = &mut ctx.accounts.study;
        require!(s.status == StudyStatus::Open, MedshareError::StudyNotOpen);
        require!(
            ctx.accounts.signer.key() == s.researcher || clock.unix_timestamp >= s.closes_at,
            MedshareError::NotRequester
        );
        require!(s.cohort >= s.min_cohort, MedshareError::CohortTooSmall);
        s.aggregates = combine_slices(s.bits, s.bucket_bits, &s.aggregates)?;
        // A sum whose randomness cancels out (only records of one author
        // can do that: every `R` comes with a proof of knowledge of its
        // logarithm) could never be partially decrypted.
        require!(
            s.aggregates
                .iter()
                .all(|a| a.r != encrypted_ixs::point::IDENTITY.0),
            MedshareError::DegenerateAggregate
        );
        s.status = StudyStatus::Closed;
        s.invariant()?;
        crate::emit_event!(StudyClosed {
            study: s.key(),
            cohort: s.cohort,
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
