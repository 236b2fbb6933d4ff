//! Queuing a share: the computation and share-result accounts that
//! `share_patient_data` (a push) and `request_share` (a pull) both create
//! and fill.

use anchor_lang::prelude::*;

use crate::constants::{MAX_SHARE_GROUPS, SEED_COMPUTATION, SEED_SHARE_RESULT};
use crate::error::MedshareError;
use crate::events::ShareRequested;
use crate::state::{Cluster, Computation, ComputationStatus, PatientRecord, ShareResult};
use crate::utils::accounts;

/// Creates a queued computation and its share result (see
/// [`crate::utils::accounts::create`]: a stranger's lamports at either
/// address do not stop it), rent paid by the requester, and moves the
/// nodes' fee deposit ([`Computation::node_deposit`]) into the computation.
pub(crate) fn create_share_accounts<'info>(
    requester: &AccountInfo<'info>,
    computation: &AccountInfo<'info>,
    share_result: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    comp: &Computation,
    result: &ShareResult,
    t: usize,
) -> Result<()> {
    accounts::create(
        computation,
        requester,
        system,
        &[
            SEED_COMPUTATION,
            comp.cluster.as_ref(),
            &comp.id.to_le_bytes(),
            &[comp.bump],
        ],
        Computation::space(t, MAX_SHARE_GROUPS),
        comp,
    )?;
    accounts::create(
        share_result,
        requester,
        system,
        &[SEED_SHARE_RESULT, computation.key.as_ref(), &[result.bump]],
        8 + ShareResult::INIT_SPACE,
        result,
    )?;
    anchor_lang::system_program::transfer(
        CpiContext::new(
            system.key(),
            anchor_lang::system_program::Transfer {
                from: requester.clone(),
                to: computation.clone(),
            },
        ),
        Computation::node_deposit(t),
    )
}

/// Who asked for what, for [`queue`].
pub(crate) struct Request {
    pub requester: Pubkey,
    pub consent: Pubkey,
    pub consent_grant: u32,
    pub group_mask: u8,
    pub groups: Vec<u8>,
    pub recipient: [u8; 32],
    pub recipient_wallet: Pubkey,
}

/// Fills a new computation and its share result (both already created) and
/// emits `ShareRequested`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn queue(
    record: &Account<PatientRecord>,
    cluster: &mut Account<Cluster>,
    comp: &mut Computation,
    comp_key: Pubkey,
    comp_bump: u8,
    result: &mut ShareResult,
    result_key: Pubkey,
    result_bump: u8,
    req: Request,
) -> Result<()> {
    let clock = Clock::get()?;
    let id = cluster.next_computation;
    cluster.next_computation = id.checked_add(1).ok_or(MedshareError::Overflow)?;
    cluster.invariant()?;
    let expiry_slot = clock
        .slot
        .checked_add(cluster.computation_ttl_slots)
        .ok_or(MedshareError::Overflow)?;
    let capsules = req
        .groups
        .iter()
        .map(|g| record.group(*g).map(|s| s.cluster_capsule))
        .collect::<Option<Vec<_>>>()
        .ok_or(MedshareError::GroupMissing)?;

    comp.cluster = cluster.key();
    comp.id = id;
    comp.record = record.key();
    comp.record_version = record.version;
    comp.record_generation = record.generation;
    comp.owner = record.owner;
    comp.requester = req.requester;
    comp.recipient = req.recipient;
    comp.recipient_wallet = req.recipient_wallet;
    comp.groups = req.groups.clone();
    comp.capsules = capsules;
    comp.contributors = Vec::new();
    comp.partials = Vec::new();
    comp.faulty = 0;
    comp.status = ComputationStatus::Pending;
    comp.created_slot = clock.slot;
    comp.expiry_slot = expiry_slot;
    comp.share_result = result_key;
    comp.consent = req.consent;
    comp.consent_grant = req.consent_grant;
    comp.bump = comp_bump;
    comp.invariant()?;

    result.computation = comp_key;
    result.cluster = comp.cluster;
    result.record = comp.record;
    result.record_version = comp.record_version;
    result.owner = comp.owner;
    result.requester = comp.requester;
    result.recipient = comp.recipient;
    result.recipient_wallet = req.recipient_wallet;
    result.groups = req.groups;
    result.capsules = Vec::new();
    result.completed = false;
    result.requested_slot = clock.slot;
    result.completed_slot = 0;
    result.bump = result_bump;
    result.invariant()?;

    crate::emit_event!(ShareRequested {
        computation: comp_key,
        share_result: result_key,
        cluster: comp.cluster,
        record: comp.record,
        requester: comp.requester,
        consent: req.consent,
        recipient: comp.recipient,
        recipient_wallet: req.recipient_wallet,
        group_mask: req.group_mask,
        expiry_slot,
        slot: clock.slot,
        unix_time: clock.unix_timestamp,
    });
    Ok(())
}
