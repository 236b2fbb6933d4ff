//! A node's part in a closed study: its noise, its partial decryptions,
//! and the release.

use encrypted_ixs::keys::{KeyShare, NodeIndex};
use encrypted_ixs::reencrypt::lagrange_coefficients;
use encrypted_ixs::stats::{encrypt_noise_bits, noise_sample, partial_decrypt};
use medshare::instructions::{BitArg, PartialArg};
use medshare::state::{noise_bit_at, study_context, Study};
use rand_core::{CryptoRng, RngCore};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;

use crate::ix;

use super::*;

/// A node's partial decryptions of every aggregate of a closed study, as
/// the transactions that post them (ten per transaction).
pub fn partial_transactions<R: RngCore + CryptoRng>(
    rng: &mut R,
    node: Pubkey,
    share: &KeyShare,
    cluster: Pubkey,
    study_key: Pubkey,
    study: &Study,
    from: usize,
) -> Result<Vec<Vec<Instruction>>, encrypted_ixs::Error> {
    let index = share.index().get() as u8;
    let mut partials = Vec::with_capacity(study.aggregates.len());
    for (j, agg) in study.aggregates.iter().enumerate().skip(from) {
        let ctx = study_context(&cluster, &study_key, j);
        partials.push(PartialArg::from(partial_decrypt(
            rng,
            share,
            &ctx,
            &(*agg).into(),
        )?));
    }
    Ok(partials
        .chunks(PARTIALS_PER_TX)
        .enumerate()
        .map(|(k, chunk)| {
            vec![
                ix::compute_budget(RESEARCH_COMPUTE_UNITS),
                ix::post_study_partials(
                    node,
                    cluster,
                    index,
                    study_key,
                    (from + k * PARTIALS_PER_TX) as u16,
                    chunk.to_vec(),
                ),
            ]
        })
        .collect())
}

/// A node's noise for a closed study with differential privacy, from the
/// first bit of the statistic its bit `from` falls in (a node that stopped
/// midway posts that statistic again, with a new sample; the program drops
/// what it had posted of it) to the end: per statistic, one fresh discrete
/// Laplace sample ([`noise_sample`]) posted as its proven bits
/// ([`encrypt_noise_bits`]), as the transactions that post them (five bits
/// per transaction). `None` for a study without differential privacy.
pub fn noise_transactions<R: RngCore + CryptoRng>(
    rng: &mut R,
    node: Pubkey,
    share: &KeyShare,
    cluster: Pubkey,
    study_key: Pubkey,
    study: &Study,
    from: usize,
) -> Result<Option<Vec<Vec<Instruction>>>, encrypted_ixs::Error> {
    let plan = noise_plan(study);
    if plan.is_empty() {
        return Ok(None);
    }
    let Some((first, _, start)) = noise_bit_at(&plan, from) else {
        return Ok(Some(Vec::new()));
    };
    let key = share.cluster_key();
    let mut bits = Vec::new();
    for (j, p) in plan.iter().enumerate().skip(first) {
        let ctx = study_context(&cluster, &study_key, j);
        let eta = noise_sample(rng, p.scale_num, p.scale_den, p.bits)?;
        bits.extend(
            encrypt_noise_bits(rng, &ctx, share.index(), &key, eta, p.bits)?
                .into_iter()
                .map(BitArg::from),
        );
    }
    let i = share.index().get() as u8;
    Ok(Some(
        bits.chunks(NOISE_BITS_PER_TX)
            .enumerate()
            .map(|(k, chunk)| {
                vec![
                    ix::compute_budget(RESEARCH_COMPUTE_UNITS),
                    ix::post_study_noise(
                        node,
                        cluster,
                        i,
                        study_key,
                        (start + k * NOISE_BITS_PER_TX) as u16,
                        chunk.to_vec(),
                    ),
                ]
            })
            .collect(),
    ))
}

/// The registry accounts that go with a study's joins and release: its
/// researcher's provider entry and that entry's issuer, for a study opened
/// by a verified researcher (`None` otherwise, or when the entry is gone:
/// the program then refuses what needs it).
pub async fn researcher_registry(
    chain: &dyn crate::chain::Chain,
    study: &medshare::state::Study,
) -> Result<ix::Registry, crate::chain::ChainError> {
    if !study.verified_researcher {
        return Ok(None);
    }
    let provider = medshare::pda::provider(&study.cluster, &study.researcher);
    Ok(
        crate::chain::fetch::<medshare::state::Provider>(chain, &provider)
            .await?
            .map(|p| (provider, medshare::pda::issuer(&study.cluster, &p.issuer))),
    )
}

/// The `release_study` transaction for the partials of `nodes` (node
/// indices, at least `t`).
pub fn release_transaction(
    signer: Pubkey,
    cluster: Pubkey,
    study: Pubkey,
    registry: ix::Registry,
    nodes: &[u8],
) -> Result<Vec<Instruction>, encrypted_ixs::Error> {
    let ids = nodes
        .iter()
        .map(|&i| NodeIndex::new(i as u16))
        .collect::<Result<Vec<_>, _>>()?;
    let lagrange = lagrange_coefficients(&ids)?
        .iter()
        .map(|s| s.to_bytes())
        .collect();
    Ok(vec![
        ix::compute_budget(RESEARCH_COMPUTE_UNITS),
        ix::release_study(signer, cluster, study, registry, nodes, lagrange),
    ])
}
