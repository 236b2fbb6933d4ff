use anchor_lang::prelude::*;

use crate::constants::{SEED_COMPUTATION, SEED_SHARE_RESULT};
use crate::error::MedshareError;
use crate::state::{
    Cluster, Computation, CredentialIssuer, Identity, PatientRecord, Provider, RecordPolicy,
    ShareResult,
};
use crate::utils::accounts;
use crate::utils::checks::require_encryption_key;
use crate::utils::share::{create_share_accounts, queue, Request};

/// Arguments of `share_patient_data`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct ShareArgs {
    /// Bit `g` set to share group `g`.
    pub group_mask: u8,
    /// Recipient key `R` (Edwards form of its X25519 key).
    pub recipient: [u8; 32],
    /// Recipient wallet, if the recipient has one (for its inbox).
    pub recipient_wallet: Option<Pubkey>,
}

/// Accounts of `share_patient_data`.
#[derive(Accounts)]
pub struct SharePatientData<'info> {
    /// The record owner; pays rent for the computation and the result.
    #[account(mut)]
    pub requester: Signer<'info>,
    /// The record.
    #[account(has_one = cluster @ MedshareError::WrongCluster)]
    pub record: Account<'info, PatientRecord>,
    /// The record's cluster.
    #[account(mut)]
    pub cluster: Account<'info, Cluster>,
    /// The new computation (id = `cluster.next_computation`; created by the handler).
    /// CHECK: address fixed by the seeds; must not exist yet.
    #[account(
        mut,
        seeds = [SEED_COMPUTATION, cluster.key().as_ref(), &cluster.next_computation.to_le_bytes()],
        bump
    )]
    pub computation: UncheckedAccount<'info>,
    /// The result account the callback fills (created by the handler).
    /// CHECK: address fixed by the seeds; must not exist yet.
    #[account(mut, seeds = [SEED_SHARE_RESULT, computation.key().as_ref()], bump)]
    pub share_result: UncheckedAccount<'info>,
    /// The recipient's identity, when the record requires verified providers.
    pub recipient_identity: Option<Account<'info, Identity>>,
    /// The recipient's registry entry, when the record requires verified providers.
    pub provider: Option<Account<'info, Provider>>,
    /// Its issuer's entry.
    pub issuer: Option<Account<'info, CredentialIssuer>>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl SharePatientData<'_> {
    /// Owner signs, cluster ready, groups present, recipient key valid, and,
    /// when the record requires it, the recipient is a verified provider whose
    /// registered key is the recipient key.
    pub fn validate(&self, args: &ShareArgs) -> Result<()> {
        require_keys_eq!(
            self.requester.key(),
            self.record.owner,
            MedshareError::NotOwner
        );
        self.cluster.require_ready()?;
        self.record.groups_of(args.group_mask)?;
        require_encryption_key(&args.recipient, MedshareError::InvalidRecipientKey)?;
        if self.record.required_roles != 0 {
            let wallet = args
                .recipient_wallet
                .ok_or(MedshareError::ProviderNotVerified)?;
            let identity = self
                .recipient_identity
                .as_ref()
                .filter(|i| i.wallet == wallet)
                .ok_or(MedshareError::ProviderNotVerified)?;
            require!(
                identity.encryption_key == args.recipient,
                MedshareError::WrongIdentity
            );
            RecordPolicy::of(&self.record).check(
                &wallet,
                self.provider.as_ref(),
                self.issuer.as_ref(),
                Clock::get()?.unix_timestamp,
            )?;
        }
        Ok(())
    }

    /// Queues the computation: copies the groups' cluster capsules, sets the
    /// expiry, creates the pending share result, and deposits the nodes' fees.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<SharePatientData>, args: ShareArgs) -> Result<()> {
        let groups = ctx.accounts.record.groups_of(args.group_mask)?;
        let accs = ctx.accounts;
        let comp_key = accs.computation.key();
        let result_key = accs.share_result.key();
        let mut comp: Computation = accounts::blank()?;
        let mut result: ShareResult = accounts::blank()?;
        queue(
            &accs.record,
            &mut accs.cluster,
            &mut comp,
            comp_key,
            ctx.bumps.computation,
            &mut result,
            result_key,
            ctx.bumps.share_result,
            Request {
                requester: accs.requester.key(),
                consent: Pubkey::default(),
                consent_grant: 0,
                group_mask: args.group_mask,
                groups,
                recipient: args.recipient,
                recipient_wallet: args.recipient_wallet.unwrap_or_default(),
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
        )
    }
}
