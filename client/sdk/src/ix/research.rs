//! What encrypted cohort statistics sign: research consents and values
//! (patients), studies (researchers, or anyone adding records), partial
//! decryptions and the release (nodes).

use medshare::instructions::{
    BitArg, OpenStudyArgs, PartialArg, PostValueArgs, ResearchConsentArgs, SealValueArgs,
};
use medshare::{accounts as a, instruction as d, pda};
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;

use super::{instruction, Registry, SYSTEM};

/// `grant_research_consent`: `owner` lets studies stating `args.purpose` use
/// `record`'s values of `args.fields`.
pub fn grant_research_consent(
    owner: Pubkey,
    record: Pubkey,
    args: ResearchConsentArgs,
) -> Instruction {
    instruction(
        a::GrantResearchConsent {
            owner,
            record,
            consent: pda::research_consent(&record),
            system_program: SYSTEM,
        },
        d::GrantResearchConsent { args },
    )
}

/// `revoke_research_consent`: `owner` revokes `record`'s research consent.
pub fn revoke_research_consent(owner: Pubkey, record: Pubkey) -> Instruction {
    instruction(
        a::RevokeResearchConsent {
            owner,
            consent: pda::research_consent(&record),
        },
        d::RevokeResearchConsent {},
    )
}

/// `post_research_value`: slices `args.offset..` of `record`'s value of
/// `args.field`.
pub fn post_research_value(owner: Pubkey, record: Pubkey, args: PostValueArgs) -> Instruction {
    instruction(
        a::PostResearchValue {
            owner,
            record,
            consent: pda::research_consent(&record),
            value: pda::research_value(&record, &args.field),
            system_program: SYSTEM,
        },
        d::PostResearchValue { args },
    )
}

/// `seal_research_value`: completes `record`'s value of `field`.
pub fn seal_research_value(
    owner: Pubkey,
    record: Pubkey,
    cluster: Pubkey,
    field: &[u8; 32],
    args: SealValueArgs,
) -> Instruction {
    instruction(
        a::SealResearchValue {
            owner,
            record,
            cluster,
            value: pda::research_value(&record, field),
        },
        d::SealResearchValue { args },
    )
}

/// `open_study`: `researcher` opens study `number` (the cluster's
/// `next_study`) of `cluster`, as a verified researcher with `registry`;
/// returns the instruction and the study's address.
pub fn open_study(
    researcher: Pubkey,
    cluster: Pubkey,
    number: u64,
    registry: Registry,
    args: OpenStudyArgs,
) -> (Instruction, Pubkey) {
    let study = pda::study(&cluster, number);
    let ix = instruction(
        a::OpenStudy {
            researcher,
            cluster,
            study,
            provider: registry.map(|r| r.0),
            issuer: registry.map(|r| r.1),
            system_program: SYSTEM,
        },
        d::OpenStudy { args },
    );
    (ix, study)
}

/// `join_study`: the study's researcher (`payer`) adds `record`'s value of
/// the study's `field` to `study` (`payer` pays the membership); `registry`:
/// the researcher's provider entry and its issuer's, needed for a record
/// that admits only verified providers.
pub fn join_study(
    payer: Pubkey,
    study: Pubkey,
    field: &[u8; 32],
    record: Pubkey,
    registry: Registry,
) -> Instruction {
    instruction(
        a::JoinStudy {
            payer,
            study,
            record,
            consent: pda::research_consent(&record),
            value: pda::research_value(&record, field),
            provider: registry.map(|r| r.0),
            issuer: registry.map(|r| r.1),
            member: pda::study_member(&study, &record),
            system_program: SYSTEM,
        },
        d::JoinStudy {},
    )
}

/// `remove_from_study`: takes `record` (no longer consenting) out of `study`.
pub fn remove_from_study(
    signer: Pubkey,
    study: Pubkey,
    field: &[u8; 32],
    record: Pubkey,
) -> Instruction {
    instruction(
        a::RemoveFromStudy {
            signer,
            study,
            member: pda::study_member(&study, &record),
            record,
            consent: pda::research_consent(&record),
            value: pda::research_value(&record, field),
        },
        d::RemoveFromStudy {},
    )
}

/// `close_study`.
pub fn close_study(signer: Pubkey, cluster: Pubkey, study: Pubkey) -> Instruction {
    instruction(
        a::CloseStudy {
            signer,
            cluster,
            study,
        },
        d::CloseStudy {},
    )
}

/// `post_study_partials`: node `index`'s partial decryptions of slices
/// `offset..` of `study`.
pub fn post_study_partials(
    node: Pubkey,
    cluster: Pubkey,
    index: u8,
    study: Pubkey,
    offset: u16,
    partials: Vec<PartialArg>,
) -> Instruction {
    instruction(
        a::PostStudyPartials {
            node,
            cluster,
            node_record: pda::node_record(&cluster, index),
            study,
            partials: pda::study_partials(&study, index),
            system_program: SYSTEM,
        },
        d::PostStudyPartials { offset, partials },
    )
}

/// `post_study_noise`: node `index`'s noise bits from its bit `offset` on.
pub fn post_study_noise(
    node: Pubkey,
    cluster: Pubkey,
    index: u8,
    study: Pubkey,
    offset: u16,
    bits: Vec<BitArg>,
) -> Instruction {
    instruction(
        a::PostStudyNoise {
            node,
            cluster,
            node_record: pda::node_record(&cluster, index),
            study,
        },
        d::PostStudyNoise { offset, bits },
    )
}

/// `release_study`: combines the partials of `nodes` (indices, in the order
/// of `lagrange`).
pub fn release_study(
    signer: Pubkey,
    cluster: Pubkey,
    study: Pubkey,
    registry: Registry,
    nodes: &[u8],
    lagrange: Vec<[u8; 32]>,
) -> Instruction {
    let mut ix = instruction(
        a::ReleaseStudy {
            signer,
            cluster,
            study,
            provider: registry.map(|r| r.0),
            issuer: registry.map(|r| r.1),
        },
        d::ReleaseStudy { lagrange },
    );
    ix.accounts.extend(
        nodes
            .iter()
            .map(|&i| AccountMeta::new_readonly(pda::study_partials(&study, i), false)),
    );
    ix
}

/// `close_research_consent`: `owner` closes `record`'s research consent
/// (revoking it if active; rent back to the owner).
pub fn close_research_consent(owner: Pubkey, record: Pubkey) -> Instruction {
    instruction(
        a::CloseResearchConsent {
            owner,
            consent: pda::research_consent(&record),
        },
        d::CloseResearchConsent {},
    )
}

/// `close_research_value`: `owner` closes `record`'s value of `field` once
/// no study membership counts it.
pub fn close_research_value(owner: Pubkey, record: Pubkey, field: &[u8; 32]) -> Instruction {
    instruction(
        a::CloseResearchValue {
            owner,
            value: pda::research_value(&record, field),
        },
        d::CloseResearchValue {},
    )
}

/// `close_study_member`: closes `record`'s membership of `study` (no longer
/// open, or closed), its rent to `payer` (who paid it: the researcher).
pub fn close_study_member(
    signer: Pubkey,
    study: Pubkey,
    field: &[u8; 32],
    record: Pubkey,
    payer: Pubkey,
) -> Instruction {
    instruction(
        a::CloseStudyMember {
            signer,
            study,
            member: pda::study_member(&study, &record),
            payer,
            value: pda::research_value(&record, field),
        },
        d::CloseStudyMember {},
    )
}

/// `close_study_partials`: closes node `index`'s partial decryptions of a
/// released `study`, their rent to its `researcher` (who deposited it).
pub fn close_study_partials(
    signer: Pubkey,
    study: Pubkey,
    researcher: Pubkey,
    index: u8,
) -> Instruction {
    instruction(
        a::CloseStudyPartials {
            signer,
            study,
            researcher,
            partials: pda::study_partials(&study, index),
        },
        d::CloseStudyPartials {},
    )
}

/// `close_study_account`: the researcher closes a released (or abandoned)
/// study; rent and what is left of its deposit come back.
pub fn close_study_account(researcher: Pubkey, study: Pubkey) -> Instruction {
    instruction(
        a::CloseStudyAccount { researcher, study },
        d::CloseStudyAccount {},
    )
}
