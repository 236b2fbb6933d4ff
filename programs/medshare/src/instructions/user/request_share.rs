use anchor_lang::prelude::*;

use crate::constants::{SEED_COMPUTATION, SEED_CONSENT, SEED_IDENTITY, SEED_SHARE_RESULT};
use crate::error::MedshareError;
use crate::events::PullRefused;
use crate::state::{
    Cluster, Computation, Consent, CredentialIssuer, Identity, PatientRecord, Provider,
    RecordPolicy, ShareResult,
};
use crate::utils::accounts;
use crate::utils::share::{create_share_accounts, queue, Request};

/// Accounts of `request_share` (a pull by a consent holder).
#[derive(Accounts)]
pub struct RequestShare<'info> {
    /// The grantee; pays rent for the computation and the result.
    #[account(mut)]
    pub requester: Signer<'info>,
    /// The record (its refusal counter may change).
    #[account(mut, has_one = cluster @ MedshareError::WrongCluster)]
    pub record: Account<'info, PatientRecord>,
    /// The record's cluster.
    #[account(mut)]
    pub cluster: Account<'info, Cluster>,
    /// The requester's consent for this record, if any.
    /// CHECK: address fixed by the seeds; read as a `Consent` only if it exists.
    #[account(mut, seeds = [SEED_CONSENT, record.key().as_ref(), requester.key().as_ref()], bump)]
    pub consent: UncheckedAccount<'info>,
    /// The requester's identity: the share is re-encrypted to its key.
    #[account(
        seeds = [SEED_IDENTITY, requester.key().as_ref()],
        bump = requester_identity.bump,
    )]
    pub requester_identity: Account<'info, Identity>,
    /// The requester's registry entry, when the record requires verified providers.
    pub provider: Option<Account<'info, Provider>>,
    /// Its issuer's entry.
    pub issuer: Option<Account<'info, CredentialIssuer>>,
    /// The computation to create (id = `cluster.next_computation`); created
    /// only if the request is granted.
    /// CHECK: address checked against the PDA in the handler.
    #[account(mut)]
    pub computation: UncheckedAccount<'info>,
    /// The share result to create with it.
    /// CHECK: address checked against the PDA in the handler.
    #[account(mut)]
    pub share_result: UncheckedAccount<'info>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl RequestShare<'_> {
    /// The authorization decision: `Ok` to queue, `Err(reason)` to refuse and record.
    fn authorize(&self, group_mask: u8, now: i64) -> std::result::Result<(), MedshareError> {
        let info = self.consent.to_account_info();
        if info.owner != &crate::ID || info.data_is_empty() {
            return Err(MedshareError::ConsentMissing);
        }
        let data = info
            .try_borrow_data()
            .map_err(|_| MedshareError::ConsentMissing)?;
        let consent =
            Consent::try_deserialize(&mut &data[..]).map_err(|_| MedshareError::ConsentMissing)?;
        // A consent granted to an earlier record at this address (closed,
        // then created again) does not carry over.
        if consent.record != self.record.key()
            || consent.grantee != self.requester.key()
            || consent.record_generation != self.record.generation
        {
            return Err(MedshareError::ConsentMissing);
        }
        consent.check(group_mask, now)?;
        RecordPolicy::of(&self.record).check(
            &self.requester.key(),
            self.provider.as_ref(),
            self.issuer.as_ref(),
            now,
        )
    }

    /// The cluster is ready and the record has every requested group. (The
    /// consent and policy are checked by [`Self::authorize`]: a refusal is
    /// recorded, not an error.)
    pub fn validate(&self, group_mask: u8) -> Result<()> {
        self.cluster.require_ready()?;
        self.record.groups_of(group_mask)?;
        Ok(())
    }

    /// Checks consent and policy at request time. Granted: creates the
    /// computation and its share result and queues it like an owner's share,
    /// to the requester's registered key. Refused: the transaction still
    /// succeeds, emitting `PullRefused` with the reason and counting it on the
    /// record, so the attempt stays on the audit trail.
    #[access_control(ctx.accounts.validate(group_mask))]
    pub fn handler(ctx: Context<RequestShare>, group_mask: u8) -> Result<()> {
        let groups = ctx.accounts.record.groups_of(group_mask)?;
        let clock = Clock::get()?;
        if let Err(reason) = ctx.accounts.authorize(group_mask, clock.unix_timestamp) {
            let record = &mut ctx.accounts.record;
            record.refused_pulls = record.refused_pulls.saturating_add(1);
            record.invariant()?;
            crate::emit_event!(PullRefused {
                record: record.key(),
                requester: ctx.accounts.requester.key(),
                group_mask,
                reason: anchor_lang::error::ERROR_CODE_OFFSET + reason as u32,
                slot: clock.slot,
                unix_time: clock.unix_timestamp,
            });
            return Ok(());
        }
        let accs = &ctx.accounts;
        let cluster_key = accs.cluster.key();
        let id = accs.cluster.next_computation.to_le_bytes();
        let (comp_key, comp_bump) = Pubkey::find_program_address(
            &[SEED_COMPUTATION, cluster_key.as_ref(), &id],
            &crate::ID,
        );
        require_keys_eq!(
            accs.computation.key(),
            comp_key,
            MedshareError::WrongComputation
        );
        let (result_key, result_bump) =
            Pubkey::find_program_address(&[SEED_SHARE_RESULT, comp_key.as_ref()], &crate::ID);
        require_keys_eq!(
            accs.share_result.key(),
            result_key,
            MedshareError::WrongShareResult
        );
        let mut comp: Computation = accounts::blank()?;
        let mut result: ShareResult = accounts::blank()?;
        let consent_key = accs.consent.key();
        let consent_grant = accounts::load::<Consent>(&accs.consent)?
            .ok_or(MedshareError::ConsentMissing)?
            .grant;
        let recipient = accs.requester_identity.encryption_key;
        let requester = accs.requester.key();
        let accs = &mut *ctx.accounts;
        queue(
            &accs.record,
            &mut accs.cluster,
            &mut comp,
            comp_key,
            comp_bump,
            &mut result,
            result_key,
            result_bump,
            Request {
                requester,
                consent: consent_key,
                consent_grant,
                group_mask,
                groups,
                recipient,
                recipient_wallet: requester,
            },
        )?;
        create_share_accounts(
            &accs.requester,
            &accs.computation,
            &accs.share_result,
            &accs.system_program,
            &comp,
            &result,
            accs.cluster.threshold as usize,
        )?;
        // Count the use on the consent.
        let consent_info = &accs.consent;
        let mut consent: Consent =
            accounts::load(consent_info)?.ok_or(MedshareError::ConsentMissing)?;
        consent.uses = consent.uses.saturating_add(1);
        consent.invariant()?;
        accounts::store(consent_info, &consent)?;
        Ok(())
    }
}
