use anchor_lang::prelude::*;

use encrypted_ixs::keys::NodeIndex;
use encrypted_ixs::point::Point;
use encrypted_ixs::reencrypt::check_lagrange;
use encrypted_ixs::stats::{combine_partials, verify_partial, PartialDecryption, StudyContext};
use encrypted_ixs::MAX_NODES;

use crate::constants::{SEED_NODE, SEED_STUDY_PARTIALS};
use crate::error::MedshareError;
use crate::events::{StudyPartialRejected, StudyPartialsPosted, StudyReleased};
use crate::state::{Cluster, NodeRecord, Study, StudyPartials, StudyStatus};

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
    pub study: Account<'info, Study>,
    /// The node's partial decryptions of this study.
    #[account(
        init_if_needed,
        payer = node,
        space = 8 + StudyPartials::INIT_SPACE,
        seeds = [SEED_STUDY_PARTIALS, study.key().as_ref(), &[node_record.index]],
        bump
    )]
    pub partials: Account<'info, StudyPartials>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl PostStudyPartials<'_> {
    /// Verifies each partial decryption against the node's verification
    /// share, bound to this study and slice, and stores it. A wrong one is
    /// *not* an error: the node is named in `StudyPartialRejected`, marked
    /// faulty on the study (nothing more of it is taken) and its fault
    /// counted, and the transaction succeeds so that this record survives.
    pub fn handler(
        ctx: Context<PostStudyPartials>,
        offset: u16,
        partials: Vec<PartialArg>,
    ) -> Result<()> {
        let a = &ctx.accounts;
        let s = &a.study;
        require!(
            s.status == StudyStatus::Closed,
            MedshareError::StudyNotClosed
        );
        let pos = a.cluster.position_of(&a.node.key())?;
        require!(
            pos + 1 == a.node_record.index as usize,
            MedshareError::NotClusterNode
        );
        require!(s.faulty & (1 << pos) == 0, MedshareError::NodeFaulty);
        let done = a.partials.d.len();
        require!(
            offset as usize == done
                && !partials.is_empty()
                && done + partials.len() <= s.aggregates.len(),
            MedshareError::SlicesOutOfOrder
        );
        let node =
            NodeIndex::new((pos + 1) as u16).map_err(|_| error!(MedshareError::NotClusterNode))?;
        let v_i = Point(a.cluster.nodes[pos].verification_share);
        let clock = Clock::get()?;
        let study_key = s.key();
        let mut failed = None;
        for (k, p) in partials.iter().enumerate() {
            let slice = done + k;
            let ctx_s = StudyContext {
                program_id: crate::ID.to_bytes(),
                cluster: a.cluster.key().to_bytes(),
                study: study_key.to_bytes(),
                slice: slice as u16,
            };
            let pd = PartialDecryption {
                d: Point(p.d),
                c: p.c,
                z: p.z,
            };
            if verify_partial(&ctx_s, node, &v_i, &Point(s.aggregates[slice].r), &pd).is_err() {
                failed = Some(slice as u16);
                break;
            }
        }
        let authority = a.node.key();
        if let Some(slice) = failed {
            ctx.accounts.study.faulty |= 1 << pos;
            let r = &mut ctx.accounts.node_record;
            r.faults = r.faults.checked_add(1).ok_or(MedshareError::Overflow)?;
            crate::emit_event!(StudyPartialRejected {
                study: study_key,
                node: node.get() as u8,
                authority,
                slice,
                slot: clock.slot,
            });
            return Ok(());
        }
        let total = ctx.accounts.study.aggregates.len();
        let bump = ctx.bumps.partials;
        let out = &mut ctx.accounts.partials;
        if out.study == Pubkey::default() {
            out.study = study_key;
            out.node = node.get() as u8;
            out.bump = bump;
        }
        out.d.extend(partials.iter().map(|p| p.d));
        let posted = out.d.len();
        if posted == total {
            let s = &mut ctx.accounts.study;
            s.partials_done = s
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
    pub study: Account<'info, Study>,
}

impl ReleaseStudy<'_> {
    /// Combines `t` nodes' complete partial decryptions into `m·B` per
    /// slice, `C − Σ λ_i·D_i` (one multiscalar syscall each), after the
    /// exact check of the Lagrange coefficients; the study is released.
    pub fn handler<'info>(
        ctx: Context<'info, ReleaseStudy<'info>>,
        lagrange: Vec<[u8; 32]>,
    ) -> Result<()> {
        let s = &ctx.accounts.study;
        require!(
            s.status == StudyStatus::Closed,
            MedshareError::StudyNotClosed
        );
        let t = ctx.accounts.cluster.threshold as usize;
        let infos = ctx.remaining_accounts;
        require!(
            infos.len() >= t && infos.len() <= MAX_NODES,
            MedshareError::NotEnoughPartials
        );
        require!(
            lagrange.len() == infos.len(),
            MedshareError::InvalidLagrangeCoefficients
        );
        let study_key = s.key();
        let slices = s.aggregates.len();
        let mut nodes = [NodeIndex::MIN; MAX_NODES];
        let mut ds: Vec<Vec<[u8; 32]>> = Vec::with_capacity(infos.len());
        for (k, info) in infos.iter().enumerate() {
            let p: Account<StudyPartials> = Account::try_from(info)?;
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
                    && s.faulty & (1 << (p.node - 1)) == 0
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
        for (j, agg) in s.aggregates.iter().enumerate() {
            let m = combine_partials(&(*agg).into(), &lagrange, |k| Point(ds[k][j]))
                .map_err(|_| error!(MedshareError::InvariantViolated))?;
            released.push(m.0);
        }
        let clock = Clock::get()?;
        let s = &mut ctx.accounts.study;
        s.released = released.clone();
        s.status = StudyStatus::Released;
        s.invariant()?;
        crate::emit_event!(StudyReleased {
            study: study_key,
            cohort: s.cohort,
            contributors: nodes[..infos.len()].iter().map(|n| n.get() as u8).collect(),
            released,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}
