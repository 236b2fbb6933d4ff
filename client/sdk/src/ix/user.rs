//! What patients, providers and recipients sign: identities, records,
//! shares and consents.

use encrypted_ixs::record::SealedGroup;
use medshare::instructions::{ConsentArgs, IdentityArgs, ShareArgs};
use medshare::{accounts as a, instruction as d, pda};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

use super::{instruction, Registry, SYSTEM};

/// `register_identity`: `wallet` registers its encryption key and role.
pub fn register_identity(wallet: Pubkey, args: IdentityArgs) -> Instruction {
    instruction(
        a::RegisterIdentity {
            wallet,
            identity: pda::identity(&wallet),
            system_program: SYSTEM,
        },
        d::RegisterIdentity { args },
    )
}

/// `update_identity`: `wallet` changes its encryption key or role.
pub fn update_identity(wallet: Pubkey, args: IdentityArgs) -> Instruction {
    instruction(
        a::UpdateIdentity {
            wallet,
            identity: pda::identity(&wallet),
        },
        d::UpdateIdentity { args },
    )
}

/// `close_identity`: `wallet` closes its identity (rent back to it).
pub fn close_identity(wallet: Pubkey) -> Instruction {
    instruction(
        a::CloseIdentity {
            wallet,
            identity: pda::identity(&wallet),
        },
        d::CloseIdentity {},
    )
}

/// `store_patient_data`: creates record `record_id` of `owner` in `cluster`
/// (co-signed by `author` when a provider writes it); returns the
/// instruction and the record's address. The owner must have registered
/// an identity (it counts the owner's records: the new record's life).
pub fn store_patient_data(
    owner: Pubkey,
    author: Option<Pubkey>,
    cluster: Pubkey,
    record_id: u64,
) -> (Instruction, Pubkey) {
    let record = pda::record(&owner, record_id);
    let ix = instruction(
        a::StorePatientData {
            owner,
            author,
            owner_identity: pda::identity(&owner),
            cluster,
            record,
            system_program: SYSTEM,
        },
        d::StorePatientData { record_id },
    );
    (ix, record)
}

/// `write_record_group`: one sealed field group of `record`'s current version.
pub fn write_record_group(
    owner: Pubkey,
    author: Option<Pubkey>,
    record: Pubkey,
    sealed: SealedGroup,
) -> Instruction {
    instruction(
        a::WriteRecordGroup {
            owner,
            author,
            record,
            system_program: SYSTEM,
        },
        d::WriteRecordGroup {
            args: crate::codec::write_args(sealed),
        },
    )
}

/// `update_patient_data`: starts a new version of `record`.
pub fn update_patient_data(owner: Pubkey, author: Option<Pubkey>, record: Pubkey) -> Instruction {
    instruction(
        a::UpdatePatientData {
            owner,
            author,
            record,
        },
        d::UpdatePatientData {},
    )
}

/// `close_record`: closes `record` (rent back to the owner).
pub fn close_record(owner: Pubkey, record: Pubkey) -> Instruction {
    instruction(a::CloseRecord { owner, record }, d::CloseRecord {})
}

/// The accounts a share request names besides requester, record and cluster.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShareAccounts {
    /// The recipient wallet's identity, when the share names a wallet.
    pub recipient_identity: Option<Pubkey>,
    /// The recipient's provider entry and its issuer, when the record's policy asks for them.
    pub registry: Registry,
}

/// `share_patient_data` queuing computation `id` of `cluster`; returns the
/// instruction, the computation and the share-result addresses.
pub fn share_patient_data(
    requester: Pubkey,
    record: Pubkey,
    cluster: Pubkey,
    id: u64,
    args: ShareArgs,
    extra: ShareAccounts,
) -> (Instruction, Pubkey, Pubkey) {
    let computation = pda::computation(&cluster, id);
    let share_result = pda::share_result(&computation);
    let ix = instruction(
        a::SharePatientData {
            requester,
            record,
            cluster,
            computation,
            share_result,
            recipient_identity: extra.recipient_identity,
            provider: extra.registry.map(|x| x.0),
            issuer: extra.registry.map(|x| x.1),
            system_program: SYSTEM,
        },
        d::SharePatientData { args },
    );
    (ix, computation, share_result)
}

/// `request_share`: `requester` asks for `group_mask` of `record` under its
/// consent, as computation `id` of `cluster`; returns the instruction, the
/// computation and the share-result addresses.
pub fn request_share(
    requester: Pubkey,
    record: Pubkey,
    cluster: Pubkey,
    id: u64,
    group_mask: u8,
    registry: Registry,
) -> (Instruction, Pubkey, Pubkey) {
    let computation = pda::computation(&cluster, id);
    let share_result = pda::share_result(&computation);
    let ix = instruction(
        a::RequestShare {
            requester,
            record,
            cluster,
            consent: pda::consent(&record, &requester),
            requester_identity: pda::identity(&requester),
            provider: registry.map(|x| x.0),
            issuer: registry.map(|x| x.1),
            computation,
            share_result,
            system_program: SYSTEM,
        },
        d::RequestShare { group_mask },
    );
    (ix, computation, share_result)
}

/// `cancel_share`: the requester cancels an expired computation (the
/// computation names its share result; see [`pda::share_result`]).
pub fn cancel_share(requester: Pubkey, computation: Pubkey, share_result: Pubkey) -> Instruction {
    instruction(
        a::CancelShare {
            requester,
            computation,
            share_result,
        },
        d::CancelShare {},
    )
}

/// `close_share_result`: the requester or the recipient closes a completed
/// share result (rent to `requester`).
pub fn close_share_result(
    closer: Pubkey,
    share_result: Pubkey,
    requester: Pubkey,
    record: Pubkey,
) -> Instruction {
    instruction(
        a::CloseShareResult {
            closer,
            share_result,
            requester,
            record,
        },
        d::CloseShareResult {},
    )
}

/// `set_record_policy`: the provider roles a recipient must hold (0 = none).
pub fn set_record_policy(owner: Pubkey, record: Pubkey, required_roles: u8) -> Instruction {
    instruction(
        a::SetRecordPolicy { owner, record },
        d::SetRecordPolicy { required_roles },
    )
}

/// `grant_consent`: `owner` lets `grantee` request groups of `record`.
pub fn grant_consent(
    owner: Pubkey,
    record: Pubkey,
    grantee: Pubkey,
    args: ConsentArgs,
    registry: Registry,
) -> Instruction {
    instruction(
        a::GrantConsent {
            owner,
            record,
            grantee,
            consent: pda::consent(&record, &grantee),
            provider: registry.map(|x| x.0),
            issuer: registry.map(|x| x.1),
            system_program: SYSTEM,
        },
        d::GrantConsent { args },
    )
}

/// `modify_consent`: `owner` changes `grantee`'s active consent.
pub fn modify_consent(
    owner: Pubkey,
    record: Pubkey,
    grantee: Pubkey,
    args: ConsentArgs,
) -> Instruction {
    instruction(
        a::ChangeConsent {
            owner,
            record,
            consent: pda::consent(&record, &grantee),
        },
        d::ModifyConsent { args },
    )
}

/// `revoke_consent`: `owner` revokes `grantee`'s consent.
pub fn revoke_consent(owner: Pubkey, record: Pubkey, grantee: Pubkey) -> Instruction {
    instruction(
        a::RevokeConsent {
            owner,
            consent: pda::consent(&record, &grantee),
            record,
        },
        d::RevokeConsent {},
    )
}

/// `close_consent`: `owner` closes `grantee`'s consent (revoking it if active).
pub fn close_consent(owner: Pubkey, record: Pubkey, grantee: Pubkey) -> Instruction {
    instruction(
        a::CloseConsent {
            owner,
            consent: pda::consent(&record, &grantee),
            record,
        },
        d::CloseConsent {},
    )
}
