use anchor_lang::prelude::*;

use crate::constants::{MAX_PURPOSE_LEN, MAX_RESEARCH_FIELDS, SEED_RESEARCH_CONSENT};
use crate::error::MedshareError;
use crate::events::{ConsentChange, ResearchConsentChanged};
use crate::state::{PatientRecord, ResearchConsent};
use crate::utils::accounts;

/// Arguments of `grant_research_consent`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ResearchConsentArgs {
    /// The purpose a study must state, byte for byte (1–64 bytes).
    pub purpose: String,
    /// The only researcher whose studies may use the record
    /// (`Pubkey::default()`: any).
    pub researcher: Pubkey,
    /// Field ids studies may use (1–8, distinct).
    pub fields: Vec<[u8; 32]>,
    /// Unix time at which the consent ends.
    pub expires_at: i64,
    /// Privacy budget in thousandths of ε: only studies with differential
    /// privacy, their ε adding up to at most this. 0 only with `exact`.
    pub epsilon_budget_milli: u32,
    /// The owner's explicit choice of exact releases: studies without noise
    /// are admitted too (and no budget applies). A researcher who runs two
    /// exact studies, with and without the record, learns its value; so
    /// this is never the default: a consent without it must set a budget.
    pub exact: bool,
}

/// Accounts of `grant_research_consent`.
#[derive(Accounts)]
pub struct GrantResearchConsent<'info> {
    /// The record owner; pays.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// The record.
    #[account(has_one = owner @ MedshareError::NotOwner)]
    pub record: Account<'info, PatientRecord>,
    /// The consent (new, revoked, or of an earlier record at this address).
    /// CHECK: address fixed by the seeds; read as a `ResearchConsent` if it
    /// exists (created by the handler when new).
    #[account(mut, seeds = [SEED_RESEARCH_CONSENT, record.key().as_ref()], bump)]
    pub consent: UncheckedAccount<'info>,
    /// System program.
    pub system_program: Program<'info, System>,
}

fn emit_changed(address: Pubkey, c: &ResearchConsent, kind: ConsentChange, clock: &Clock) {
    crate::emit_event!(ResearchConsentChanged {
        consent: address,
        record: c.record,
        owner: c.owner,
        purpose: c.purpose.clone(),
        fields: c.fields.clone(),
        expires_at: c.expires_at,
        kind,
        slot: clock.slot,
        unix_time: clock.unix_timestamp,
    });
}

impl GrantResearchConsent<'_> {
    /// A purpose of 1–64 bytes; 1–8 distinct fields; an end in the future;
    /// noised releases under a budget unless exact releases are chosen
    /// explicitly (and then without a budget, which they would ignore); the
    /// address holds no active consent of this record.
    pub fn validate(&self, args: &ResearchConsentArgs) -> Result<()> {
        require!(
            !args.purpose.is_empty() && args.purpose.len() <= MAX_PURPOSE_LEN,
            MedshareError::PurposeTooLong
        );
        require!(
            !args.fields.is_empty() && args.fields.len() <= MAX_RESEARCH_FIELDS,
            MedshareError::InvalidStudyShape
        );
        for (k, f) in args.fields.iter().enumerate() {
            require!(
                !args.fields[..k].contains(f),
                MedshareError::InvalidStudyShape
            );
        }
        require!(
            args.expires_at > Clock::get()?.unix_timestamp,
            MedshareError::InvalidValidity
        );
        require!(
            args.exact == (args.epsilon_budget_milli == 0),
            MedshareError::PrivacyChoice
        );
        if let Some(old) = accounts::load::<ResearchConsent>(&self.consent)? {
            let stale = old.record_generation != self.record.generation;
            require!(stale || old.revoked, MedshareError::ConsentExists);
        }
        Ok(())
    }

    /// Grants (or grants again after a revocation): studies stating this
    /// purpose may add the record's values of these fields until the end.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<GrantResearchConsent>, args: ResearchConsentArgs) -> Result<()> {
        let clock = Clock::get()?;
        let accs = &ctx.accounts;
        let existing: Option<ResearchConsent> = accounts::load(&accs.consent)?;
        let fresh = existing.is_none();
        let stale = existing
            .as_ref()
            .is_some_and(|consent| consent.record_generation != accs.record.generation);
        let (record, generation, cluster) = (
            accs.record.key(),
            accs.record.generation,
            accs.record.cluster,
        );
        let owner = accs.owner.key();
        let mut consent = match existing {
            Some(old) => old,
            None => accounts::blank::<ResearchConsent>()?,
        };
        consent.record = record;
        consent.record_generation = generation;
        consent.owner = owner;
        consent.cluster = cluster;
        consent.purpose = args.purpose;
        consent.researcher = args.researcher;
        consent.fields = args.fields;
        consent.expires_at = args.expires_at;
        consent.revoked = false;
        consent.granted_at = clock.unix_timestamp;
        // Granted again to the same record: what its studies spent stays
        // spent (closed studies keep the record), so a re-grant never
        // resets the budget.
        if fresh || stale {
            consent.studies_joined = 0;
            consent.epsilon_spent_milli = 0;
        }
        consent.epsilon_budget_milli = args.epsilon_budget_milli;
        consent.bump = ctx.bumps.consent;
        consent.invariant()?;
        accounts::create_or_store(
            &accs.consent,
            &accs.owner,
            &accs.system_program,
            &[SEED_RESEARCH_CONSENT, record.as_ref(), &[consent.bump]],
            8 + ResearchConsent::INIT_SPACE,
            &consent,
        )?;
        emit_changed(accs.consent.key(), &consent, ConsentChange::Granted, &clock);
        Ok(())
    }
}

/// Accounts of `revoke_research_consent`.
#[derive(Accounts)]
pub struct RevokeResearchConsent<'info> {
    /// The record owner.
    pub owner: Signer<'info>,
    /// The consent.
    #[account(mut, has_one = owner @ MedshareError::NotOwner)]
    pub consent: Account<'info, ResearchConsent>,
}

impl RevokeResearchConsent<'_> {
    /// Not revoked already.
    pub fn validate(&self) -> Result<()> {
        require!(!self.consent.revoked, MedshareError::ConsentRevoked);
        Ok(())
    }

    /// Revokes: no study may add the record from now on. The record leaves
    /// every still-open study with `remove_from_study` (the CLI sends both
    /// in one transaction); closed studies keep it.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<RevokeResearchConsent>) -> Result<()> {
        let clock = Clock::get()?;
        let consent = &mut ctx.accounts.consent;
        consent.revoked = true;
        consent.invariant()?;
        emit_changed(consent.key(), consent, ConsentChange::Revoked, &clock);
        Ok(())
    }
}
