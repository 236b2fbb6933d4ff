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
    /// Grants (or grants again after a revocation): studies stating this
    /// purpose may add the record's values of these fields until the end.
    pub fn handler(ctx: Context<GrantResearchConsent>, args: ResearchConsentArgs) -> Result<()> {
        let clock = Clock::get()?;
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
            args.expires_at > clock.unix_timestamp,
            MedshareError::InvalidValidity
        );
        // Noised releases under a budget, unless exact releases are chosen
        // explicitly (and then without a budget, which they would ignore).
        require!(
            args.exact == (args.epsilon_budget_milli == 0),
            MedshareError::PrivacyChoice
        );
        let a = &ctx.accounts;
        let existing: Option<ResearchConsent> = accounts::load(&a.consent)?;
        let fresh = existing.is_none();
        let stale = existing
            .as_ref()
            .is_some_and(|c| c.record_generation != a.record.generation);
        require!(
            fresh || stale || existing.as_ref().is_some_and(|c| c.revoked),
            MedshareError::ConsentExists
        );
        let (record, generation, cluster) = (a.record.key(), a.record.generation, a.record.cluster);
        let owner = a.owner.key();
        let mut c = match existing {
            Some(old) => old,
            None => accounts::blank::<ResearchConsent>()?,
        };
        c.record = record;
        c.record_generation = generation;
        c.owner = owner;
        c.cluster = cluster;
        c.purpose = args.purpose;
        c.researcher = args.researcher;
        c.fields = args.fields;
        c.expires_at = args.expires_at;
        c.revoked = false;
        c.granted_at = clock.unix_timestamp;
        // Granted again to the same record: what its studies spent stays
        // spent (closed studies keep the record), so a re-grant never
        // resets the budget.
        if fresh || stale {
            c.studies_joined = 0;
            c.epsilon_spent_milli = 0;
        }
        c.epsilon_budget_milli = args.epsilon_budget_milli;
        c.bump = ctx.bumps.consent;
        c.invariant()?;
        accounts::create_or_store(
            &a.consent,
            &a.owner,
            &a.system_program,
            &[SEED_RESEARCH_CONSENT, record.as_ref(), &[c.bump]],
            8 + ResearchConsent::INIT_SPACE,
            &c,
        )?;
        emit_changed(a.consent.key(), &c, ConsentChange::Granted, &clock);
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
    /// Revokes: no study may add the record from now on. The record leaves
    /// every still-open study with `remove_from_study` (the CLI sends both
    /// in one transaction); closed studies keep it.
    pub fn handler(ctx: Context<RevokeResearchConsent>) -> Result<()> {
        let clock = Clock::get()?;
        let c = &mut ctx.accounts.consent;
        require!(!c.revoked, MedshareError::ConsentRevoked);
        c.revoked = true;
        c.invariant()?;
        emit_changed(c.key(), c, ConsentChange::Revoked, &clock);
        Ok(())
    }
}
