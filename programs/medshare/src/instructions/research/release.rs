use anchor_lang::prelude::*;

use encrypted_ixs::keys::NodeIndex;
use encrypted_ixs::point::{msm_bytes, Point, BASEPOINT};
use encrypted_ixs::reencrypt::check_lagrange;
use encrypted_ixs::stats::{
    combine_partials, noise_offset, verify_noise_bit, verify_partial, ElGamal, EncryptedBit,
    PartialDecryption,
};
use encrypted_ixs::MAX_NODES;

use super::BitArg;
use crate::constants::{SEED_NODE, SEED_STUDY_PARTIALS};
use crate::error::MedshareError;
use crate::events::{StudyNoisePosted, StudyPartialRejected, StudyPartialsPosted, StudyReleased};
use crate::state::{
    noise_bit_at, noise_plan, noise_total, study_context, Cluster, CredentialIssuer, ElGamalData,
    NodeRecord, NoisePlan, Provider, Study, StudyPartials, StudyStatus,
};
use crate::utils::accounts;

/// One partial decryption as posted: `D_i = s_i·R` and its Chaum–Pedersen
/// proof `(c, z)`, 80 bytes.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct PartialArg {
    /// `D_i`.
    pub d: [u8; 32],
    /// Challenge.
    pub c: [u8; 16],
    /// Response.
    pub z: [u8; 32],
}

impl From<PartialDecryption> for PartialArg {
    fn from(p: PartialDecryption) -> Self {
        PartialArg {
            d: p.d.0,
            c: p.c,
            z: p.z,
        }
    }
}

/// `node` is the cluster's node of `node_record` and not marked faulty on
/// the study.
fn check_study_node(
    study: &Study,
    cluster: &Cluster,
    node: &Pubkey,
    node_record: &NodeRecord,
) -> Result<()> {
    let pos = cluster.position_of(node)?;
    require!(
        pos + 1 == node_record.index as usize,
        MedshareError::NotClusterNode
    );
    require!(study.faulty & (1 << pos) == 0, MedshareError::NodeFaulty);
    Ok(())
}

/// Records a node's failed partial decryption or noise bit: the node is
/// marked faulty on the study, its fault counted, and named in
/// `StudyPartialRejected`. Not an error, so that the record survives.
fn record_fault(
    study: &mut Account<Study>,
    node_record: &mut Account<NodeRecord>,
    (pos, authority): (usize, Pubkey),
    slice: u16,
    noise: bool,
) -> Result<()> {
    study.faulty |= 1 << pos;
    node_record.faults = node_record
        .faults
        .checked_add(1)
        .ok_or(MedshareError::Overflow)?;
    crate::emit_event!(StudyPartialRejected {
        study: study.key(),
        node: (pos + 1) as u8,
        authority,
        slice,
        noise,
        slot: Clock::get()?.slot,
    });
    Ok(())
}

/// Accounts of `post_study_partials`.
#[derive(Accounts)]
pub struct PostStudyPartials<'info> {
    /// A node of the study's cluster; pays its partials account.
    #[account(mut)]
    pub node: Signer<'info>,
    /// The cluster (verification shares).
    pub cluster: Account<'info, Cluster>,
    /// The node's service record (its faults are counted here).
    #[account(
        mut,
        seeds = [SEED_NODE, cluster.key().as_ref(), &[node_record.index]],
        bump = node_record.bump,
        has_one = cluster @ MedshareError::WrongCluster,
        has_one = node @ MedshareError::NotClusterNode,
    )]
    pub node_record: Account<'info, NodeRecord>,
    /// The study: only a closed study's aggregates are ever decrypted.
    #[account(mut, has_one = cluster @ MedshareError::WrongCluster)]
    pub study: Box<Account<'info, Study>>,
    /// The node's partial decryptions of this study (created by the
    /// handler with the first ones).
    /// CHECK: address fixed by the seeds; read as `StudyPartials` if it exists.
    #[account(
        mut,
        seeds = [SEED_STUDY_PARTIALS, study.key().as_ref(), &[node_record.index]],
        bump
    )]
    pub partials: UncheckedAccount<'info>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl PostStudyPartials<'_> {
    /// A closed study whose noise is complete (with differential privacy);
    /// the signer is the cluster's node of this service record, not marked
    /// faulty on the study. (Where the node's partials continue is checked
    /// where the handler loads them, once.)
    pub fn validate(&self) -> Result<()> {
        let study = &self.study;
        require!(
            study.status == StudyStatus::Closed,
            MedshareError::StudyNotClosed
        );
        require!(
            study.epsilon_milli == 0
                || study.noise_done.count_ones() >= self.cluster.threshold as u32,
            MedshareError::NoiseIncomplete
        );
        check_study_node(study, &self.cluster, &self.node.key(), &self.node_record)
    }

    /// Verifies each partial decryption against the node's verification
    /// share, bound to this study and slice, and stores it. A wrong one is
    /// *not* an error: the node is named in `StudyPartialRejected`, marked
    /// faulty on the study (nothing more of it is taken) and its fault
    /// counted, and the transaction succeeds so that this record survives.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(
        ctx: Context<PostStudyPartials>,
        offset: u16,
        partials: Vec<PartialArg>,
    ) -> Result<()> {
        let accs = &ctx.accounts;
        let study = &accs.study;
        let pos = accs.node_record.index as usize - 1;
        let existing: Option<StudyPartials> = accounts::load(&accs.partials)?;
        let done = existing.as_ref().map_or(0, |p| p.d.len());
        require!(
            offset as usize == done
                && !partials.is_empty()
                && done + partials.len() <= study.aggregates.len(),
            MedshareError::SlicesOutOfOrder
        );
        let node =
            NodeIndex::new((pos + 1) as u16).map_err(|_| error!(MedshareError::NotClusterNode))?;
        let v_i = Point(accs.cluster.nodes[pos].verification_share);
        let clock = Clock::get()?;
        let study_key = study.key();
        let mut failed = None;
        for (k, p) in partials.iter().enumerate() {
            let slice = done + k;
            let ctx_s = study_context(&accs.cluster.key(), &study_key, slice);
            let pd = PartialDecryption {
                d: Point(p.d),
                c: p.c,
                z: p.z,
            };
            if verify_partial(&ctx_s, node, &v_i, &Point(study.aggregates[slice].r), &pd).is_err() {
                failed = Some(slice as u16);
                break;
            }
        }
        let authority = accs.node.key();
        if let Some(slice) = failed {
            let accs = &mut *ctx.accounts;
            return record_fault(
                &mut accs.study,
                &mut accs.node_record,
                (pos, authority),
                slice,
                false,
            );
        }
        let total = ctx.accounts.study.aggregates.len();
        let bump = ctx.bumps.partials;
        let mut out = match existing {
            Some(old) => old,
            None => {
                let mut fresh = accounts::blank::<StudyPartials>()?;
                fresh.study = study_key;
                fresh.node = node.get() as u8;
                fresh.bump = bump;
                fresh
            }
        };
        out.d.extend(partials.iter().map(|p| p.d));
        let posted = out.d.len();
        let accs = &ctx.accounts;
        let created = *accs.partials.owner != crate::ID;
        accounts::create_or_store(
            &accs.partials,
            &accs.node,
            &accs.system_program,
            &[
                SEED_STUDY_PARTIALS,
                study_key.as_ref(),
                &[out.node],
                &[bump],
            ],
            8 + StudyPartials::INIT_SPACE,
            &out,
        )?;
        if created {
            // The researcher's deposit pays the node back for the rent.
            let deposit = accs.study.partials_deposit;
            let study_info = accs.study.to_account_info();
            let floor = Rent::get()?.minimum_balance(study_info.data_len());
            if study_info.lamports() >= floor.saturating_add(deposit) {
                **study_info.try_borrow_mut_lamports()? -= deposit;
                **accs.node.to_account_info().try_borrow_mut_lamports()? += deposit;
            }
        }
        if posted == total {
            let study = &mut ctx.accounts.study;
            study.partials_done = study
                .partials_done
                .checked_add(1)
                .ok_or(MedshareError::Overflow)?;
        }
        crate::emit_event!(StudyPartialsPosted {
            study: study_key,
            node: node.get() as u8,
            posted: posted as u16,
            slot: clock.slot,
        });
        Ok(())
    }
}

/// Accounts of `post_study_noise`.
#[derive(Accounts)]
pub struct PostStudyNoise<'info> {
    /// A node of the study's cluster.
    pub node: Signer<'info>,
    /// The cluster (its key, the threshold).
    pub cluster: Account<'info, Cluster>,
    /// The node's service record (its faults are counted here).
    #[account(
        mut,
        seeds = [SEED_NODE, cluster.key().as_ref(), &[node_record.index]],
        bump = node_record.bump,
        has_one = cluster @ MedshareError::WrongCluster,
        has_one = node @ MedshareError::NotClusterNode,
    )]
    pub node_record: Account<'info, NodeRecord>,
    /// The study (closed, with differential privacy, noise not complete).
    #[account(mut, has_one = cluster @ MedshareError::WrongCluster)]
    pub study: Box<Account<'info, Study>>,
}

impl PostStudyNoise<'_> {
    /// A closed study with differential privacy whose noise phase is still
    /// on; the signer is the cluster's node of this service record, not
    /// marked faulty on the study.
    pub fn validate(&self) -> Result<()> {
        let study = &self.study;
        require!(
            study.status == StudyStatus::Closed,
            MedshareError::StudyNotClosed
        );
        require!(study.epsilon_milli != 0, MedshareError::NoiseNotNeeded);
        require!(
            study.noise_done.count_ones() < self.cluster.threshold as u32,
            MedshareError::NoiseComplete
        );
        check_study_node(study, &self.cluster, &self.node.key(), &self.node_record)
    }

    /// Takes the next bits of a node's noise, over every released
    /// statistic in order ([`noise_plan`]): statistic `j`'s noise is the
    /// `k_j` bits of `η + 2^(k_j−1)`, so it lies in `[−2^(k_j−1), 2^(k_j−1))`
    /// whatever the node does. Each bit's subgroup checks and proof (bound
    /// to the study, statistic, node and position) are verified, then
    /// `2^p·E_p` is added to the node's pending sum (and `2^(k_j−1)·B`
    /// subtracted with bit 0); with the statistic's last bit the pending sum
    /// joins the statistic's aggregate. So a node cut off midway (the noise
    /// phase ended, or it stopped) adds nothing to that statistic, and a
    /// node that restarts may post its current statistic from its first bit
    /// again, with a new sample (what it had posted of it is dropped). The
    /// noise phase ends when `t` nodes' noise is complete, and no more
    /// noise is taken after that. A bit that fails is recorded, not
    /// returned: the node is named in `StudyPartialRejected` (with `noise:
    /// true`), marked faulty on the study and its fault counted; the
    /// statistics it completed earlier keep its noise (bounded like any
    /// other).
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<PostStudyNoise>, offset: u16, bits: Vec<BitArg>) -> Result<()> {
        let accs = &ctx.accounts;
        let study = &accs.study;
        let pos = accs.node_record.index as usize - 1;
        let plan: Vec<NoisePlan> =
            noise_plan(study.bits, study.bucket_bits, study.epsilon_milli).collect();
        let total = noise_total(&plan);
        let done = study.noise_progress[pos] as usize;
        // From where the node stopped, or its current statistic from the
        // start again (a node that restarts draws a new sample; what it
        // posted of that statistic is dropped).
        let restart = noise_bit_at(&plan, done).map_or(done, |(_, _, start)| start);
        let from = offset as usize;
        require!(
            (from == done || from == restart) && !bits.is_empty() && from + bits.len() <= total,
            MedshareError::SlicesOutOfOrder
        );
        let locate =
            |k: usize| noise_bit_at(&plan, from + k).ok_or(MedshareError::SlicesOutOfOrder);
        let node =
            NodeIndex::new((pos + 1) as u16).map_err(|_| error!(MedshareError::NotClusterNode))?;
        let key = Point(accs.cluster.cluster_key);
        let study_key = study.key();
        let clock = Clock::get()?;
        let mut failed = None;
        for (k, b) in bits.iter().enumerate() {
            let (j, bit, _) = locate(k)?;
            let ctx_s = study_context(&accs.cluster.key(), &study_key, j);
            if verify_noise_bit(&ctx_s, node, &key, bit, &EncryptedBit::from(*b)).is_err() {
                failed = Some(j as u16);
                break;
            }
        }
        if let Some(slice) = failed {
            let authority = accs.node.key();
            let accs = &mut *ctx.accounts;
            return record_fault(
                &mut accs.study,
                &mut accs.node_record,
                (pos, authority),
                slice,
                true,
            );
        }
        let study = &mut ctx.accounts.study;
        let bad = |_| error!(MedshareError::InvalidPoint);
        let mut pending = if from < done {
            ElGamal::ZERO
        } else {
            ElGamal::from(study.noise_pending[pos])
        };
        for (k, b) in bits.iter().enumerate() {
            let (j, bit, _) = locate(k)?;
            let mut weight = [0u8; 32];
            weight[bit as usize / 8] = 1 << (bit % 8);
            let r = msm_bytes(&[weight], &[Point(b.r)]).map_err(bad)?;
            let mut c = msm_bytes(&[weight], &[Point(b.c)]).map_err(bad)?;
            if bit == 0 {
                let mut centre = [0u8; 32];
                centre[..8].copy_from_slice(&noise_offset(plan[j].bits).to_le_bytes());
                c = c
                    .sub(&msm_bytes(&[centre], &[BASEPOINT]).map_err(bad)?)
                    .map_err(bad)?;
            }
            pending = pending.add(&ElGamal { r, c }).map_err(bad)?;
            // The statistic's last bit: its noise is whole, and only now
            // joins the aggregate.
            if bit + 1 == plan[j].bits {
                let sum = ElGamal::from(study.aggregates[j])
                    .add(&pending)
                    .map_err(bad)?;
                study.aggregates[j] = ElGamalData::from(sum);
                pending = ElGamal::ZERO;
            }
        }
        study.noise_pending[pos] = ElGamalData::from(pending);
        let posted = from + bits.len();
        study.noise_progress[pos] = posted as u16;
        if posted == total {
            study.noise_done |= 1 << pos;
        }
        study.invariant()?;
        crate::emit_event!(StudyNoisePosted {
            study: study_key,
            node: node.get() as u8,
            posted: posted as u16,
            complete_nodes: study.noise_done.count_ones() as u8,
            slot: clock.slot,
        });
        Ok(())
    }
}

/// Accounts of `release_study`; the `t` nodes' partials accounts follow as
/// remaining accounts, in the order of the Lagrange coefficients.
#[derive(Accounts)]
pub struct ReleaseStudy<'info> {
    /// Anyone (a node, usually).
    pub signer: Signer<'info>,
    /// The cluster (threshold).
    pub cluster: Account<'info, Cluster>,
    /// The study (closed).
    #[account(mut, has_one = cluster @ MedshareError::WrongCluster)]
    pub study: Box<Account<'info, Study>>,
    /// The researcher's registry entry, for a study opened by a verified
    /// researcher: the registration must still be valid at the release.
    pub provider: Option<Account<'info, Provider>>,
    /// Its issuer's entry.
    pub issuer: Option<Account<'info, CredentialIssuer>>,
}

impl ReleaseStudy<'_> {
    /// A closed study; a study opened as a verified researcher releases only
    /// while the researcher still is one (records that admit only verified
    /// providers joined it on that ground); between `t` and `MAX_NODES`
    /// partials accounts, one Lagrange coefficient each.
    pub fn validate(&self, partials: usize, lagrange: &[[u8; 32]]) -> Result<()> {
        let study = &self.study;
        require!(
            study.status == StudyStatus::Closed,
            MedshareError::StudyNotClosed
        );
        if study.verified_researcher {
            super::study::check_researcher(
                study,
                self.provider.as_deref(),
                self.issuer.as_deref(),
                Clock::get()?.unix_timestamp,
            )?;
        }
        require!(
            partials >= self.cluster.threshold as usize && partials <= MAX_NODES,
            MedshareError::NotEnoughPartials
        );
        require!(
            lagrange.len() == partials,
            MedshareError::InvalidLagrangeCoefficients
        );
        Ok(())
    }

    /// Combines `t` nodes' complete partial decryptions into `m·B` per
    /// slice, `C − Σ λ_i·D_i` (one multiscalar syscall each), after the
    /// exact check of the Lagrange coefficients; the study is released.
    #[access_control(ctx.accounts.validate(ctx.remaining_accounts.len(), &lagrange))]
    pub fn handler<'info>(
        ctx: Context<'info, ReleaseStudy<'info>>,
        lagrange: Vec<[u8; 32]>,
    ) -> Result<()> {
        let study = &ctx.accounts.study;
        let infos = ctx.remaining_accounts;
        let study_key = study.key();
        let slices = study.aggregates.len();
        let mut nodes = [NodeIndex::MIN; MAX_NODES];
        let mut ds: Vec<Vec<[u8; 32]>> = Vec::with_capacity(infos.len());
        for (k, info) in infos.iter().enumerate() {
            // A node refused as faulty never got its partials account.
            let p: StudyPartials = accounts::load(info)?.ok_or(MedshareError::NotEnoughPartials)?;
            let expected = Pubkey::create_program_address(
                &[
                    SEED_STUDY_PARTIALS,
                    study_key.as_ref(),
                    &[p.node],
                    &[p.bump],
                ],
                &crate::ID,
            )
            .map_err(|_| error!(MedshareError::NotEnoughPartials))?;
            require!(
                info.key() == expected
                    && p.study == study_key
                    && p.d.len() == slices
                    && p.node >= 1
                    && study.faulty & (1 << (p.node - 1)) == 0
                    && !nodes[..k].iter().any(|n| n.get() == p.node as u16),
                MedshareError::NotEnoughPartials
            );
            nodes[k] = NodeIndex::new(p.node as u16)
                .map_err(|_| error!(MedshareError::NotEnoughPartials))?;
            ds.push(p.d.clone());
        }
        check_lagrange(&nodes[..infos.len()], &lagrange)
            .map_err(|_| error!(MedshareError::InvalidLagrangeCoefficients))?;
        let mut released = Vec::with_capacity(slices);
        for (j, agg) in study.aggregates.iter().enumerate() {
            let m = combine_partials(&(*agg).into(), &lagrange, |k| Point(ds[k][j]))
                .map_err(|_| error!(MedshareError::InvariantViolated))?;
            released.push(m.0);
        }
        let clock = Clock::get()?;
        let study = &mut ctx.accounts.study;
        study.released = released.clone();
        study.status = StudyStatus::Released;
        study.invariant()?;
        crate::emit_event!(StudyReleased {
            study: study_key,
            cohort: study.cohort,
            epsilon_milli: study.epsilon_milli,
            contributors: nodes[..infos.len()].iter().map(|n| n.get() as u8).collect(),
            released,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}
