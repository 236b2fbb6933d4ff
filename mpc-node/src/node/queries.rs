//! Chain queries anyone can make (the node, the CLI, tests): whether chain
//! state authorizes a computation, the recipient's registry entries, the
//! nodes' service records, and the verdicts on DKG complaints.

use std::collections::BTreeMap;

use encrypted_ixs::dkg::{self, DkgParams, EncryptedRound2};
use encrypted_ixs::keys::{NodeIndex, TransportPublic, TransportSecret};
use medshare::state::{Cluster, Computation, DkgMailbox};
use medshare_sdk::chain::{chain_time, fetch, fetch_many, ChainError};
use solana_sdk::pubkey::Pubkey;

use super::dkg::peers;
use super::NodeError;

/// The recipient wallet's provider entry and its issuer's entry, when the
/// wallet has one in `cluster` (nodes pass them so the program can apply the
/// record's provider policy).
pub async fn recipient_registry(
    chain: &dyn medshare_sdk::chain::Chain,
    cluster: &Pubkey,
    comp: &Computation,
) -> Result<Option<(Pubkey, Pubkey)>, ChainError> {
    if comp.recipient_wallet == Pubkey::default() {
        return Ok(None);
    }
    let provider = medshare::pda::provider(cluster, &comp.recipient_wallet);
    Ok(fetch::<medshare::state::Provider>(chain, &provider)
        .await?
        .map(|p| (provider, medshare::pda::issuer(cluster, &p.issuer))))
}

/// Whether chain state still authorizes a computation: the same decision
/// the program makes at every contribution (`medshare::instructions::access`),
/// made first so an honest node never publishes a contribution the program
/// would refuse. The record is open, of the same generation (the same life,
/// in any cluster), in the computation's cluster and at the same version as
/// at the request; the owner asked, or the requester holds a
/// consent of that record generation that, at the chain's current unix time,
/// is neither revoked nor expired and covers every group; and the record's
/// provider policy, as it stands now, admits the recipient wallet.
pub async fn authorized(
    chain: &dyn medshare_sdk::chain::Chain,
    cluster: &Pubkey,
    comp: &Computation,
) -> Result<bool, ChainError> {
    let Some(record) = fetch::<medshare::state::PatientRecord>(chain, &comp.record).await? else {
        return Ok(false);
    };
    if record.generation != comp.record_generation
        || record.version != comp.record_version
        || record.cluster != comp.cluster
    {
        return Ok(false);
    }
    let now = chain_time(chain).await?;
    if comp.consent == Pubkey::default() {
        if comp.requester != comp.owner {
            return Ok(false);
        }
    } else {
        if comp.consent != medshare::pda::consent(&comp.record, &comp.requester) {
            return Ok(false);
        }
        let Some(consent) = fetch::<medshare::state::Consent>(chain, &comp.consent).await? else {
            return Ok(false);
        };
        let mask = comp.groups.iter().fold(0u8, |m, g| m | (1 << g));
        if consent.record != comp.record
            || consent.record_generation != comp.record_generation
            || consent.grant != comp.consent_grant
            || consent.grantee != comp.requester
            || consent.check(mask, now).is_err()
        {
            return Ok(false);
        }
    }
    if record.required_roles == 0 {
        return Ok(true);
    }
    let Some((provider, issuer)) = recipient_registry(chain, cluster, comp).await? else {
        return Ok(false);
    };
    let Some(p) = fetch::<medshare::state::Provider>(chain, &provider).await? else {
        return Ok(false);
    };
    let i = fetch::<medshare::state::CredentialIssuer>(chain, &issuer).await?;
    Ok(p.check(i.as_ref(), record.required_roles, now).is_ok())
}

/// A DKG complaint posted in a cluster's current attempt, with the verdict
/// anyone reaches from the chain ([`dkg::verify_complaint`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JudgedComplaint {
    /// The complaining node.
    pub complainer: u8,
    /// The accused node.
    pub accused: u8,
    /// Who is at fault.
    pub verdict: dkg::Verdict,
}

/// Every complaint of the cluster's current DKG attempt, judged from the
/// nodes' mailboxes (issue 10, F4).
pub async fn judge_complaints(
    chain: &dyn medshare_sdk::chain::Chain,
    cluster_address: &Pubkey,
) -> Result<Vec<JudgedComplaint>, NodeError> {
    let cluster: Cluster = fetch(chain, cluster_address)
        .await?
        .ok_or(NodeError::ClusterNotFound(*cluster_address))?;
    let addrs: Vec<Pubkey> = (1..=cluster.size)
        .map(|i| medshare::pda::dkg_mailbox(cluster_address, i))
        .collect();
    let boxes: BTreeMap<u16, DkgMailbox> = fetch_many::<DkgMailbox>(chain, &addrs)
        .await?
        .into_iter()
        .flatten()
        .filter(|mb| mb.attempt == cluster.dkg_attempt)
        .map(|mb| (mb.index as u16, mb))
        .collect();
    let params = DkgParams {
        cluster: cluster_address.to_bytes(),
        threshold: cluster.threshold as u16,
        nodes: cluster.size as u16,
        attempt: cluster.dkg_attempt,
    };
    let mut out = Vec::new();
    for (me, mb) in boxes.iter().filter(|(_, mb)| mb.complaint_against != 0) {
        let complainer = NodeIndex::new(*me)?;
        let accused = NodeIndex::new(mb.complaint_against as u16)?;
        let package = boxes.get(&accused.get()).and_then(|a| {
            a.round2
                .iter()
                .find(|p| p.to as u16 == *me)
                .map(|p| EncryptedRound2 {
                    from: accused.get(),
                    to: *me,
                    nonce: p.nonce,
                    ciphertext: p.ciphertext.clone(),
                })
        });
        let verdict = dkg::verify_complaint(
            &params,
            complainer,
            &mb.round1,
            &TransportPublic(mb.ephemeral_key),
            &TransportSecret::from_bytes(mb.revealed_secret),
            accused,
            &peers(&cluster, &boxes, complainer),
            package.as_ref(),
        )?;
        out.push(JudgedComplaint {
            complainer: mb.index,
            accused: mb.complaint_against,
            verdict,
        });
    }
    Ok(out)
}

/// The service records (accepted contributions, faults) of a cluster's
/// nodes `1..=count`, `None` for a node that has not registered.
pub async fn node_records(
    chain: &dyn medshare_sdk::chain::Chain,
    cluster: &Pubkey,
    count: usize,
) -> Result<Vec<Option<medshare::state::NodeRecord>>, ChainError> {
    let addrs: Vec<Pubkey> = (1..=count)
        .map(|i| medshare::pda::node_record(cluster, i as u8))
        .collect();
    fetch_many(chain, &addrs).await
}
