//! Closing what research created, each account's lamports going back to
//! whoever paid: the patient's consent and values, the researcher's study,
//! memberships and the nodes' partial decryptions (whose rent the
//! researcher deposited).
//!
//! Order: a value closes once no membership counts it; memberships close
//! once their study is no longer open (or gone); partials once the study
//! is released; the study last.

use anchor_lang::prelude::*;

use crate::constants::{SEED_STUDY_MEMBER, SEED_STUDY_PARTIALS};
use crate::error::MedshareError;
use crate::events::{AccountClosed, ConsentChange, ResearchConsentChanged};
use crate::state::{
    ResearchConsent, ResearchValue, Study, StudyMember, StudyPartials, StudyStatus,
};
use crate::utils::accounts;

/// Accounts of `close_research_consent`.
#[derive(Accounts)]
pub struct CloseResearchConsent<'info> {
    /// The record owner; gets the rent back.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// The consent.
    #[account(mut, has_one = owner @ MedshareError::NotOwner, close = owner)]
    pub consent: Account<'info, ResearchConsent>,
}

impl CloseResearchConsent<'_> {
    /// Closes the consent, revoking it if it was active: no study adds the
    /// record from now on, and anyone may take it out of the open studies it
    /// joined (`remove_from_study` treats a closed consent as revoked).
    pub fn handler(ctx: Context<CloseResearchConsent>) -> Result<()> {
        let clock = Clock::get()?;
        let consent = &ctx.accounts.consent;
        crate::emit_event!(ResearchConsentChanged {
            consent: consent.key(),
            record: consent.record,
            owner: consent.owner,
            purpose: consent.purpose.clone(),
            fields: consent.fields.clone(),
            expires_at: consent.expires_at,
            kind: ConsentChange::Closed,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}

/// Accounts of `close_research_value`.
#[derive(Accounts)]
pub struct CloseResearchValue<'info> {
    /// The record owner; gets the rent back.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// The value (no membership counts it).
    #[account(mut, has_one = owner @ MedshareError::NotOwner, close = owner)]
    pub value: Account<'info, ResearchValue>,
}

impl CloseResearchValue<'_> {
    /// A value still counted by a membership stays: an open study needs it
    /// to take the record out.
    pub fn validate(&self) -> Result<()> {
        require!(self.value.memberships == 0, MedshareError::ValueInStudies);
        Ok(())
    }

    /// Closes the value.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CloseResearchValue>) -> Result<()> {
        let accs = &ctx.accounts;
        AccountClosed::emit::<ResearchValue>(accs.value.key(), accs.owner.key())
    }
}

/// Accounts of `close_study_member`.
#[derive(Accounts)]
pub struct CloseStudyMember<'info> {
    /// Anyone.
    pub signer: Signer<'info>,
    /// The membership's study: no longer open, or closed itself.
    /// CHECK: must be the membership's study; read as a `Study` if it exists.
    #[account(address = member.study @ MedshareError::NotInStudy)]
    pub study: UncheckedAccount<'info>,
    /// The membership.
    #[account(
        mut,
        seeds = [SEED_STUDY_MEMBER, member.study.as_ref(), member.record.as_ref()],
        bump = member.bump,
        has_one = payer @ MedshareError::NotResearcher,
        close = payer,
    )]
    pub member: Account<'info, StudyMember>,
    /// Who paid the membership (the researcher); gets the rent back.
    /// CHECK: must be the membership's payer (`has_one`).
    #[account(mut)]
    pub payer: UncheckedAccount<'info>,
    /// The value it counted, if it still exists (its membership count drops).
    /// CHECK: must be the membership's value; read as a `ResearchValue` if it exists.
    #[account(mut, address = member.value @ MedshareError::NotInStudy)]
    pub value: UncheckedAccount<'info>,
}

impl CloseStudyMember<'_> {
    /// The study is past `Open` (its sums no longer change), or gone.
    pub fn validate(&self) -> Result<()> {
        if let Some(study) = accounts::load::<Study>(&self.study)? {
            require!(
                study.status != StudyStatus::Open,
                MedshareError::StudyNotClosed
            );
        }
        Ok(())
    }

    /// Closes the membership; the value's membership count drops.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CloseStudyMember>) -> Result<()> {
        let accs = &ctx.accounts;
        if let Some(mut v) = accounts::load::<ResearchValue>(&accs.value)? {
            v.memberships = v.memberships.saturating_sub(1);
            accounts::store(&accs.value, &v)?;
        }
        AccountClosed::emit::<StudyMember>(accs.member.key(), accs.payer.key())
    }
}

/// Accounts of `close_study_partials`.
#[derive(Accounts)]
pub struct CloseStudyPartials<'info> {
    /// Anyone.
    pub signer: Signer<'info>,
    /// The study (released).
    #[account(has_one = researcher @ MedshareError::NotResearcher)]
    pub study: Box<Account<'info, Study>>,
    /// The study's researcher, who deposited the partials' rent; gets it back.
    /// CHECK: must be the study's researcher (`has_one`).
    #[account(mut)]
    pub researcher: UncheckedAccount<'info>,
    /// One node's partial decryptions of the study.
    #[account(
        mut,
        seeds = [SEED_STUDY_PARTIALS, study.key().as_ref(), &[partials.node]],
        bump = partials.bump,
        has_one = study @ MedshareError::WrongStudy,
        close = researcher,
    )]
    pub partials: Account<'info, StudyPartials>,
}

impl CloseStudyPartials<'_> {
    /// Only once the study is released (before, they are what releases it).
    pub fn validate(&self) -> Result<()> {
        require!(
            self.study.status == StudyStatus::Released,
            MedshareError::StudyNotReleased
        );
        Ok(())
    }

    /// Closes the partials.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CloseStudyPartials>) -> Result<()> {
        let accs = &ctx.accounts;
        AccountClosed::emit::<StudyPartials>(accs.partials.key(), accs.researcher.key())
    }
}

/// Accounts of `close_study_account`.
#[derive(Accounts)]
pub struct CloseStudyAccount<'info> {
    /// The researcher; gets the rent and what is left of its deposit.
    #[account(mut)]
    pub researcher: Signer<'info>,
    /// The study: released, or abandoned (open past its closing time below
    /// its minimum cohort).
    #[account(mut, has_one = researcher @ MedshareError::NotResearcher, close = researcher)]
    pub study: Box<Account<'info, Study>>,
}

impl CloseStudyAccount<'_> {
    /// Released (its figures stay in `StudyReleased` in the chain's
    /// history), or abandoned: open, past `closes_at`, below `min_cohort`.
    pub fn validate(&self) -> Result<()> {
        let study = &self.study;
        let abandoned = study.status == StudyStatus::Open
            && Clock::get()?.unix_timestamp >= study.closes_at
            && study.cohort < study.min_cohort;
        require!(
            study.status == StudyStatus::Released || abandoned,
            MedshareError::StudyNotReleased
        );
        Ok(())
    }

    /// Closes the study.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CloseStudyAccount>) -> Result<()> {
        let accs = &ctx.accounts;
        AccountClosed::emit::<Study>(accs.study.key(), accs.researcher.key())
    }
}
