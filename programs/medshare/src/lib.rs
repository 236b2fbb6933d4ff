//! # MedShare program
//!
//! Encrypted medical records on Solana, shared through a threshold MPC
//! cluster. The cryptography lives in the `encrypted-ixs` crate; this program
//! verifies what it must (binding proofs on write, node proofs on
//! contribution, Lagrange coefficients and aggregation on callback) and keeps
//! the state everyone audits.
//!
//! Flow: `init_cluster` → `add_node` ×n → `register_node` ×n → DKG
//! (`post_dkg_round1`, `post_dkg_round2`, `confirm_dkg`) → cluster ready.
//! A patient: `register_identity`, `store_patient_data` then
//! `write_record_group` per field group, `share_patient_data` (queues a
//! computation). Nodes: `submit_contribution`, then one of them
//! `share_patient_data_callback`. The recipient reads the share result.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;
#[cfg(target_os = "solana")]
use solana_compiler_builtins as _;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
#[cfg(not(target_os = "solana"))]
pub mod native;
pub mod pda;
pub mod state;
pub mod utils;

use instructions::*;

/// Emits an Anchor event: `emit!` on SBF, [`native::log_event`] natively
/// (where `emit!` is a no-op), so the embedded bank's logs carry events too.
#[macro_export]
macro_rules! emit_event {
    ($event:expr) => {{
        #[cfg(target_os = "solana")]
        anchor_lang::prelude::emit!($event);
        #[cfg(not(target_os = "solana"))]
        $crate::native::log_event(&anchor_lang::Event::data(&$event));
    }};
}

declare_id!("MediSPVzdHAsZkyW7b5xb2P2mdqCPRL3pt6G1M3jYhy");

#[program]
pub mod medshare {
    use super::*;

    /// Creates a cluster and its `share_patient_data` computation definition.
    pub fn init_cluster(ctx: Context<InitCluster>, args: InitClusterArgs) -> Result<()> {
        InitCluster::handler(ctx, args)
    }

    /// Admin adds a node authority to a cluster (assigns the next index).
    pub fn add_node(ctx: Context<AddNode>, authority: Pubkey) -> Result<()> {
        AddNode::handler(ctx, authority)
    }

    /// A node registers its X25519 transport key and opens its DKG mailbox.
    pub fn register_node(ctx: Context<RegisterNode>, transport_key: [u8; 32]) -> Result<()> {
        RegisterNode::handler(ctx, transport_key)
    }

    /// A node posts its public DKG round-1 package and this attempt's
    /// ephemeral X25519 key.
    pub fn post_dkg_round1(
        ctx: Context<PostDkgRound1>,
        package: Vec<u8>,
        ephemeral_key: [u8; 32],
    ) -> Result<()> {
        PostDkgRound1::handler(ctx, package, ephemeral_key)
    }

    /// A node posts encrypted DKG round-2 packages (any number per call).
    pub fn post_dkg_round2(ctx: Context<PostDkgRound2>, packages: Vec<Round2Arg>) -> Result<()> {
        PostDkgRound2::handler(ctx, packages)
    }

    /// A node complains that another node's round-2 package to it is faulty,
    /// revealing its ephemeral secret for the attempt (which fails).
    pub fn post_dkg_complaint(
        ctx: Context<PostDkgComplaint>,
        accused: u8,
        ephemeral_secret: [u8; 32],
    ) -> Result<()> {
        PostDkgComplaint::handler(ctx, accused, ephemeral_secret)
    }

    /// A node confirms the cluster key and verification shares it computed.
    pub fn confirm_dkg(ctx: Context<ConfirmDkg>, args: ConfirmDkgArgs) -> Result<()> {
        ConfirmDkg::handler(ctx, args)
    }

    /// The admin restarts a running or failed DKG (a new attempt).
    pub fn restart_dkg(ctx: Context<RestartDkg>) -> Result<()> {
        RestartDkg::handler(ctx)
    }

    /// Before the DKG succeeded, the admin gives node `index` to a new
    /// authority (the old one's accounts closed; a new attempt follows its
    /// registration).
    pub fn replace_node(ctx: Context<ReplaceNode>, index: u8, authority: Pubkey) -> Result<()> {
        ReplaceNode::handler(ctx, index, authority)
    }

    /// The admin retires a cluster: nothing new is accepted.
    pub fn retire_cluster(ctx: Context<RetireCluster>) -> Result<()> {
        RetireCluster::handler(ctx)
    }

    /// The admin closes a retired cluster (rent back to the admin).
    pub fn close_cluster(ctx: Context<CloseCluster>) -> Result<()> {
        CloseCluster::handler(ctx)
    }

    /// A node of a retired cluster closes its mailbox and service record.
    pub fn close_node_accounts(ctx: Context<CloseNodeAccounts>) -> Result<()> {
        CloseNodeAccounts::handler(ctx)
    }

    /// Registers a wallet's encryption key and role.
    pub fn register_identity(ctx: Context<RegisterIdentity>, args: IdentityArgs) -> Result<()> {
        RegisterIdentity::handler(ctx, args)
    }

    /// Closes a wallet's identity (rent back to the wallet).
    pub fn close_identity(ctx: Context<CloseIdentity>) -> Result<()> {
        CloseIdentity::handler(ctx)
    }

    /// Changes a wallet's encryption key or role.
    pub fn update_identity(ctx: Context<UpdateIdentity>, args: IdentityArgs) -> Result<()> {
        UpdateIdentity::handler(ctx, args)
    }

    /// Creates an (empty) record for the owner, optionally authored by a co-signing provider.
    pub fn store_patient_data(ctx: Context<StorePatientData>, record_id: u64) -> Result<()> {
        StorePatientData::handler(ctx, record_id)
    }

    /// Writes one field group of the record's current version (binding proof verified).
    pub fn write_record_group(ctx: Context<WriteRecordGroup>, args: WriteGroupArgs) -> Result<()> {
        WriteRecordGroup::handler(ctx, args)
    }

    /// Starts a new version of the record: groups must be written again.
    pub fn update_patient_data(ctx: Context<UpdatePatientData>) -> Result<()> {
        UpdatePatientData::handler(ctx)
    }

    /// Closes a record (rent back to the owner).
    pub fn close_record(ctx: Context<CloseRecord>) -> Result<()> {
        CloseRecord::handler(ctx)
    }

    /// Queues a share computation for some field groups and a recipient key.
    pub fn share_patient_data(ctx: Context<SharePatientData>, args: ShareArgs) -> Result<()> {
        SharePatientData::handler(ctx, args)
    }

    /// A node submits its contribution for every group of a computation.
    pub fn submit_contribution(
        ctx: Context<SubmitContribution>,
        contributions: Vec<ContributionArg>,
    ) -> Result<()> {
        SubmitContribution::handler(ctx, contributions)
    }

    /// A node combines `t` contributions into the recipient's capsules.
    pub fn share_patient_data_callback(
        ctx: Context<SharePatientDataCallback>,
        lagrange: Vec<[u8; 32]>,
    ) -> Result<()> {
        SharePatientDataCallback::handler(ctx, lagrange)
    }

    /// Sets the record's provider policy (required roles; 0 = none).
    pub fn set_record_policy(ctx: Context<SetRecordPolicy>, required_roles: u8) -> Result<()> {
        SetRecordPolicy::handler(ctx, required_roles)
    }

    /// The owner grants a grantee time-limited consent to request some groups.
    pub fn grant_consent(ctx: Context<GrantConsent>, args: ConsentArgs) -> Result<()> {
        GrantConsent::handler(ctx, args)
    }

    /// The owner changes an active consent (groups, purpose, end time).
    pub fn modify_consent(ctx: Context<ChangeConsent>, args: ConsentArgs) -> Result<()> {
        ChangeConsent::handler(ctx, args)
    }

    /// The owner revokes a consent (the record is not needed).
    pub fn revoke_consent(ctx: Context<RevokeConsent>) -> Result<()> {
        RevokeConsent::handler(ctx)
    }

    /// The owner closes a consent and gets its rent back (revokes it if active).
    pub fn close_consent(ctx: Context<CloseConsent>) -> Result<()> {
        CloseConsent::handler(ctx)
    }

    /// A grantee requests a share under consent (pull); refusals are recorded.
    pub fn request_share(ctx: Context<RequestShare>, group_mask: u8) -> Result<()> {
        RequestShare::handler(ctx, group_mask)
    }

    /// The cluster admin appoints a credential issuer.
    pub fn appoint_issuer(ctx: Context<AppointIssuer>, issuer: Pubkey) -> Result<()> {
        AppointIssuer::handler(ctx, issuer)
    }

    /// The cluster admin revokes a credential issuer.
    pub fn revoke_issuer(ctx: Context<RevokeIssuer>) -> Result<()> {
        RevokeIssuer::handler(ctx)
    }

    /// The cluster admin closes a revoked issuer's entry (rent back to it).
    pub fn close_issuer(ctx: Context<CloseIssuer>) -> Result<()> {
        CloseIssuer::handler(ctx)
    }

    /// An issuer registers a verified provider.
    pub fn register_provider(
        ctx: Context<RegisterProvider>,
        args: RegisterProviderArgs,
    ) -> Result<()> {
        RegisterProvider::handler(ctx, args)
    }

    /// An issuer revokes a provider it registered.
    pub fn revoke_provider(ctx: Context<RevokeProvider>) -> Result<()> {
        RevokeProvider::handler(ctx)
    }

    /// Whoever paid a provider entry closes it once it verifies nobody.
    pub fn close_provider(ctx: Context<CloseProvider>) -> Result<()> {
        CloseProvider::handler(ctx)
    }

    /// The requester cancels an expired computation (rent back).
    pub fn cancel_share(ctx: Context<CancelShare>) -> Result<()> {
        CancelShare::handler(ctx)
    }

    /// The requester or the recipient closes a completed share result (rent
    /// to the requester); the recipient can no longer fetch it afterwards.
    pub fn close_share_result(ctx: Context<CloseShareResult>) -> Result<()> {
        CloseShareResult::handler(ctx)
    }

    /// The owner lets studies with a purpose use some of a record's values.
    pub fn grant_research_consent(
        ctx: Context<GrantResearchConsent>,
        args: ResearchConsentArgs,
    ) -> Result<()> {
        GrantResearchConsent::handler(ctx, args)
    }

    /// The owner revokes a research consent.
    pub fn revoke_research_consent(ctx: Context<RevokeResearchConsent>) -> Result<()> {
        RevokeResearchConsent::handler(ctx)
    }

    /// The owner posts slices of an encrypted value (bit proofs verified).
    pub fn post_research_value(ctx: Context<PostResearchValue>, args: PostValueArgs) -> Result<()> {
        PostResearchValue::handler(ctx, args)
    }

    /// The owner completes a value (square and bucket proofs verified).
    pub fn seal_research_value(ctx: Context<SealResearchValue>, args: SealValueArgs) -> Result<()> {
        SealResearchValue::handler(ctx, args)
    }

    /// A researcher opens a study of one field.
    pub fn open_study(ctx: Context<OpenStudy>, args: OpenStudyArgs) -> Result<()> {
        OpenStudy::handler(ctx, args)
    }

    /// Adds a consenting record's value to an open study's sums (once).
    pub fn join_study(ctx: Context<JoinStudy>) -> Result<()> {
        JoinStudy::handler(ctx)
    }

    /// Removes a record no longer consenting from an open study.
    pub fn remove_from_study(ctx: Context<RemoveFromStudy>) -> Result<()> {
        RemoveFromStudy::handler(ctx)
    }

    /// Closes a study with at least its minimum cohort.
    pub fn close_study(ctx: Context<CloseStudy>) -> Result<()> {
        CloseStudy::handler(ctx)
    }

    /// A node posts verified partial decryptions of a closed study's aggregates.
    pub fn post_study_partials(
        ctx: Context<PostStudyPartials>,
        offset: u16,
        partials: Vec<PartialArg>,
    ) -> Result<()> {
        PostStudyPartials::handler(ctx, offset, partials)
    }

    /// A node adds the next verified bits of its bounded noise to a closed
    /// study's aggregates (differential privacy).
    pub fn post_study_noise(
        ctx: Context<PostStudyNoise>,
        offset: u16,
        bits: Vec<BitArg>,
    ) -> Result<()> {
        PostStudyNoise::handler(ctx, offset, bits)
    }

    /// The owner closes a research consent (revoking it if active).
    pub fn close_research_consent(ctx: Context<CloseResearchConsent>) -> Result<()> {
        CloseResearchConsent::handler(ctx)
    }

    /// The owner closes a value no study membership counts.
    pub fn close_research_value(ctx: Context<CloseResearchValue>) -> Result<()> {
        CloseResearchValue::handler(ctx)
    }

    /// Anyone closes a membership of a study past `Open` (rent to its payer).
    pub fn close_study_member(ctx: Context<CloseStudyMember>) -> Result<()> {
        CloseStudyMember::handler(ctx)
    }

    /// Anyone closes a released study's partials (rent to its researcher).
    pub fn close_study_partials(ctx: Context<CloseStudyPartials>) -> Result<()> {
        CloseStudyPartials::handler(ctx)
    }

    /// The researcher closes a released or abandoned study.
    pub fn close_study_account(ctx: Context<CloseStudyAccount>) -> Result<()> {
        CloseStudyAccount::handler(ctx)
    }

    /// Combines `t` nodes' partials: the study's sums are released.
    pub fn release_study<'info>(
        ctx: Context<'info, ReleaseStudy<'info>>,
        lagrange: Vec<[u8; 32]>,
    ) -> Result<()> {
        ReleaseStudy::handler(ctx, lagrange)
    }
}
