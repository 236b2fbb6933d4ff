//! The provider registry: issuers appointed by a cluster's admin register
//! verified providers.

use medshare::instructions::RegisterProviderArgs;
use medshare::{accounts as a, instruction as d, pda};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

use super::{instruction, SYSTEM};

/// `appoint_issuer`: the admin appoints `issuer` in `cluster`.
pub fn appoint_issuer(admin: Pubkey, cluster: Pubkey, issuer: Pubkey) -> Instruction {
    instruction(
        a::AppointIssuer {
            admin,
            cluster,
            issuer_account: pda::issuer(&cluster, &issuer),
            system_program: SYSTEM,
        },
        d::AppointIssuer { issuer },
    )
}

/// `revoke_issuer`: the admin revokes `issuer`.
pub fn revoke_issuer(admin: Pubkey, cluster: Pubkey, issuer: Pubkey) -> Instruction {
    instruction(
        a::RevokeIssuer {
            admin,
            cluster,
            issuer_account: pda::issuer(&cluster, &issuer),
        },
        d::RevokeIssuer {},
    )
}

/// `register_provider`: `issuer` registers `args.provider` in `cluster`.
/// `previous_issuer` is the issuer entry of whoever registered the provider
/// before, when that was another issuer. Returns the instruction and the
/// provider's entry.
pub fn register_provider(
    issuer: Pubkey,
    cluster: Pubkey,
    args: RegisterProviderArgs,
    previous_issuer: Option<Pubkey>,
) -> (Instruction, Pubkey) {
    let provider_account = pda::provider(&cluster, &args.provider);
    let ix = instruction(
        a::RegisterProvider {
            issuer,
            issuer_account: pda::issuer(&cluster, &issuer),
            provider_account,
            previous_issuer: previous_issuer.map(|p| pda::issuer(&cluster, &p)),
            system_program: SYSTEM,
        },
        d::RegisterProvider { args },
    );
    (ix, provider_account)
}

/// `revoke_provider`: `issuer` revokes `provider`.
pub fn revoke_provider(issuer: Pubkey, cluster: Pubkey, provider: Pubkey) -> Instruction {
    instruction(
        a::RevokeProvider {
            issuer,
            provider_account: pda::provider(&cluster, &provider),
        },
        d::RevokeProvider {},
    )
}

/// `close_issuer`: the admin closes `issuer`'s revoked entry in `cluster`.
pub fn close_issuer(admin: Pubkey, cluster: Pubkey, issuer: Pubkey) -> Instruction {
    instruction(
        a::CloseIssuer {
            admin,
            cluster,
            issuer_account: pda::issuer(&cluster, &issuer),
        },
        d::CloseIssuer {},
    )
}

/// `close_provider`: whoever paid `provider`'s entry in `cluster` closes it
/// once it is revoked or past its validity.
pub fn close_provider(payer: Pubkey, cluster: Pubkey, provider: Pubkey) -> Instruction {
    instruction(
        a::CloseProvider {
            payer,
            provider_account: pda::provider(&cluster, &provider),
        },
        d::CloseProvider {},
    )
}
