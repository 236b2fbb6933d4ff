use anchor_lang::prelude::*;

use crate::constants::{MAX_GROUPS, MAX_PURPOSE_LEN, SEED_CONSENT};
use crate::error::MedshareError;
use crate::events::{ConsentChange, ConsentChanged};
use crate::state::{Consent, CredentialIssuer, PatientRecord, Provider, RecordPolicy};
use crate::utils::accounts;

/// Arguments of `grant_consent` and `modify_consent`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ConsentArgs {
    /// Groups the grantee may request.
    pub group_mask: u8,
    /// Purpose, at most 64 bytes.
    pub purpose: String,
    /// Unix time at which the consent ends.
    pub expires_at: i64,
}

fn validate_args(args: &ConsentArgs, now: i64) -> Result<()> {
    require!(
        args.group_mask != 0 && (args.group_mask as usize) < (1 << MAX_GROUPS),
        MedshareError::InvalidGroup
    );
    require!(
        args.purpose.len() <= MAX_PURPOSE_LEN,
        MedshareError::PurposeTooLong
    );
    require!(args.expires_at > now, MedshareError::InvalidValidity);
    Ok(())
}

/// Emits `ConsentChanged` with the consent at `address` as it now stands.
fn emit_changed(address: Pubkey, c: &Consent, kind: ConsentChange, clock: &Clock) {
    crate::emit_event!(ConsentChanged {
        consent: address,
        record: c.record,
        grantee: c.grantee,
        group_mask: c.group_mask,
        purpose: c.purpose.clone(),
        expires_at: c.expires_at,
        kind,
        slot: clock.slot,
        unix_time: clock.unix_timestamp,
    });
}

/// Accounts of `grant_consent`.
#[derive(Accounts)]
#[instruction(args: ConsentArgs)]
pub struct GrantConsent<'info> {
    /// The record owner; pays.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// The record.
    #[account(has_one = owner @ MedshareError::NotOwner)]
    pub record: Account<'info, PatientRecord>,
    /// Who receives the consent.
    /// CHECK: any wallet; only its address is stored.
    pub grantee: UncheckedAccount<'info>,
    /// The consent (new, or a revoked one granted again; created by the
    /// handler when new).
    /// CHECK: address fixed by the seeds; read as a `Consent` if it exists.
    #[account(
        mut,
        seeds = [SEED_CONSENT, record.key().as_ref(), grantee.key().as_ref()],
        bump
    )]
    pub consent: UncheckedAccount<'info>,
    /// The grantee's registry entry, when the record requires verified providers.
    pub provider: Option<Account<'info, Provider>>,
    /// Its issuer's entry.
    pub issuer: Option<Account<'info, CredentialIssuer>>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl GrantConsent<'_> {
    /// Valid arguments; the address holds no active consent of this record
    /// (new, revoked, or left over from an earlier record at this address:
    /// granted afresh; an active consent is changed with `modify_consent`);
    /// the grantee meets the record's policy.
    pub fn validate(&self, args: &ConsentArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        validate_args(args, now)?;
        if let Some(old) = accounts::load::<Consent>(&self.consent)? {
            let stale = old.record_generation != self.record.generation;
            require!(stale || old.revoked, MedshareError::ConsentExists);
        }
        RecordPolicy::of(&self.record).check(
            &self.grantee.key(),
            self.provider.as_ref(),
            self.issuer.as_ref(),
            now,
        )?;
        Ok(())
    }

    /// Grants (or grants again after a revocation).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<GrantConsent>, args: ConsentArgs) -> Result<()> {
        let clock = Clock::get()?;
        let accs = &ctx.accounts;
        let existing: Option<Consent> = accounts::load(&accs.consent)?;
        let record = accs.record.key();
        let generation = accs.record.generation;
        let owner = accs.owner.key();
        let grantee = accs.grantee.key();
        let mut consent = match existing {
            Some(old) => old,
            None => accounts::blank::<Consent>()?,
        };
        consent.record = record;
        consent.record_generation = generation;
        consent.owner = owner;
        consent.grantee = grantee;
        consent.group_mask = args.group_mask;
        consent.purpose = args.purpose.clone();
        consent.expires_at = args.expires_at;
        consent.revoked = false;
        consent.granted_at = clock.unix_timestamp;
        consent.updated_at = clock.unix_timestamp;
        consent.uses = 0;
        consent.grant = consent
            .grant
            .checked_add(1)
            .ok_or(MedshareError::Overflow)?;
        consent.bump = ctx.bumps.consent;
        consent.invariant()?;
        accounts::create_or_store(
            &accs.consent,
            &accs.owner,
            &accs.system_program,
            &[
                SEED_CONSENT,
                record.as_ref(),
                grantee.as_ref(),
                &[consent.bump],
            ],
            8 + Consent::INIT_SPACE,
            &consent,
        )?;
        emit_changed(accs.consent.key(), &consent, ConsentChange::Granted, &clock);
        Ok(())
    }
}

/// Accounts of `modify_consent`.
#[derive(Accounts)]
pub struct ChangeConsent<'info> {
    /// The record owner.
    pub owner: Signer<'info>,
    /// The record (the consent must be of its current generation).
    pub record: Account<'info, PatientRecord>,
    /// The consent.
    #[account(
        mut,
        has_one = owner @ MedshareError::NotOwner,
        has_one = record @ MedshareError::ConsentMissing
    )]
    pub consent: Account<'info, Consent>,
}

impl ChangeConsent<'_> {
    /// Valid arguments; an active consent of the record's current generation.
    pub fn validate(&self, args: &ConsentArgs) -> Result<()> {
        validate_args(args, Clock::get()?.unix_timestamp)?;
        require!(
            self.consent.record_generation == self.record.generation,
            MedshareError::ConsentStale
        );
        require!(!self.consent.revoked, MedshareError::ConsentRevoked);
        Ok(())
    }

    /// Changes groups, purpose or end time. Narrowing takes effect for every
    /// later request and every later contribution to a pending one.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<ChangeConsent>, args: ConsentArgs) -> Result<()> {
        let clock = Clock::get()?;
        let consent = &mut ctx.accounts.consent;
        consent.group_mask = args.group_mask;
        consent.purpose = args.purpose.clone();
        consent.expires_at = args.expires_at;
        consent.updated_at = clock.unix_timestamp;
        consent.invariant()?;
        emit_changed(consent.key(), consent, ConsentChange::Modified, &clock);
        Ok(())
    }
}

/// Accounts of `revoke_consent`. The record need not exist: a consent can be
/// revoked after its record was closed.
#[derive(Accounts)]
pub struct RevokeConsent<'info> {
    /// The record owner.
    pub owner: Signer<'info>,
    /// The consent.
    #[account(mut, has_one = owner @ MedshareError::NotOwner)]
    pub consent: Account<'info, Consent>,
    /// The consent's record address, so the change is on the record's history.
    /// CHECK: only its address is used (fixed by the consent); it may be closed.
    #[account(address = consent.record @ MedshareError::WrongRecord)]
    pub record: UncheckedAccount<'info>,
}

impl RevokeConsent<'_> {
    /// Not revoked already.
    pub fn validate(&self) -> Result<()> {
        require!(!self.consent.revoked, MedshareError::ConsentRevoked);
        Ok(())
    }

    /// Revokes: later requests are refused, and so is every later
    /// contribution to a pending computation under this consent. A pending
    /// computation that already has `t` accepted contributions is past the
    /// point of no return (the grantee can combine them). Shares already
    /// delivered cannot be recalled.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<RevokeConsent>) -> Result<()> {
        let clock = Clock::get()?;
        let consent = &mut ctx.accounts.consent;
        consent.revoked = true;
        consent.updated_at = clock.unix_timestamp;
        consent.invariant()?;
        emit_changed(consent.key(), consent, ConsentChange::Revoked, &clock);
        Ok(())
    }
}

/// Accounts of `close_consent`. The record need not exist.
#[derive(Accounts)]
pub struct CloseConsent<'info> {
    /// The record owner; receives the rent.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// The consent.
    #[account(mut, has_one = owner @ MedshareError::NotOwner, close = owner)]
    pub consent: Account<'info, Consent>,
    /// The consent's record address, so the change is on the record's history.
    /// CHECK: only its address is used (fixed by the consent); it may be closed.
    #[account(address = consent.record @ MedshareError::WrongRecord)]
    pub record: UncheckedAccount<'info>,
}

impl CloseConsent<'_> {
    /// Closes the consent (active, revoked, expired or of a closed record)
    /// and returns its rent to the owner. Closing an active consent revokes
    /// it: pending computations under it get no further contribution.
    pub fn handler(ctx: Context<CloseConsent>) -> Result<()> {
        let clock = Clock::get()?;
        let consent = &ctx.accounts.consent;
        emit_changed(consent.key(), consent, ConsentChange::Closed, &clock);
        Ok(())
    }
}

/// Accounts of `set_record_policy`.
#[derive(Accounts)]
pub struct SetRecordPolicy<'info> {
    /// The record owner.
    pub owner: Signer<'info>,
    /// The record.
    #[account(mut, has_one = owner @ MedshareError::NotOwner)]
    pub record: Account<'info, PatientRecord>,
}

impl SetRecordPolicy<'_> {
    /// A mask of the four provider roles.
    pub fn validate(&self, required_roles: u8) -> Result<()> {
        require!(required_roles < 16, MedshareError::ProviderRoleNotAllowed);
        Ok(())
    }

    /// Requires (nonzero mask) or stops requiring verified providers.
    #[access_control(ctx.accounts.validate(required_roles))]
    pub fn handler(ctx: Context<SetRecordPolicy>, required_roles: u8) -> Result<()> {
        let record = &mut ctx.accounts.record;
        record.required_roles = required_roles;
        record.invariant()?;
        crate::emit_event!(crate::events::PolicyChanged {
            record: record.key(),
            required_roles,
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}
