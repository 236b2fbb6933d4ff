//! Chain queries anyone can make (the node, the CLI, tests): whether chain
//! state authorizes a computation, the recipient's registry entries, the
//! nodes' service records, and the verdicts on DKG complaints.

use std::collections::BTreeMap;

use encrypted_ixs::dkg::{self, DkgParams, EncryptedRound2};
use encrypted_ixs::keys::{NodeIndex, TransportPublic, TransportSecret};
use medshare::state::{AccessFacts, Cluster, Computation, DkgMailbox, Ground};
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
        .map(|provider_account| {
            (
                provider,
                medshare::pda::issuer(cluster, &provider_account.issuer),
            )
        }))
}

/// Whether chain state still authorizes a computation: the program's own
/// rule ([`medshare::state::Computation::access`]) over the accounts as the
/// chain serves them now, asked first so an honest node never publishes a
/// contribution the program would refuse.
pub async fn authorized(
    chain: &dyn medshare_sdk::chain::Chain,
    cluster: &Pubkey,
    comp: &Computation,
) -> Result<bool, ChainError> {
    let Some(record) = fetch::<medshare::state::PatientRecord>(chain, &comp.record)
        .await?
        .map(|account| account.head())
    else {
        // Closed: nothing else to read (the rule refuses it as `RecordClosed`).
        return Ok(false);
    };
    let consent = match comp.ground() {
        Ground::Owner => None,
        Ground::Consent(address) => fetch::<medshare::state::Consent>(chain, &address).await?,
    };
    let needs_registry = record.required_roles != 0;
    let (mut provider, mut issuer) = (None, None);
    if needs_registry {
        if let Some((provider_address, issuer_address)) =
            recipient_registry(chain, cluster, comp).await?
        {
            provider = fetch::<medshare::state::Provider>(chain, &provider_address)
                .await?
                .map(|entry| (provider_address, entry));
            issuer = fetch::<medshare::state::CredentialIssuer>(chain, &issuer_address)
                .await?
                .map(|entry| (issuer_address, entry));
        }
    }
    let now = chain_time(chain).await?;
    Ok(comp
        .access(&AccessFacts {
            record: Some(&record),
            consent: consent.as_ref(),
            provider: provider.as_ref().map(|(address, entry)| (*address, entry)),
            issuer: issuer.as_ref().map(|(address, entry)| (*address, entry)),
            now,
        })
        .is_ok())
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
/// nodes' mailboxes.
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
        let package = boxes.get(&accused.get()).and_then(|mailbox| {
            mailbox
                .round2
                .iter()
                .find(|package| package.to as u16 == *me)
                .map(|package| EncryptedRound2 {
                    from: accused.get(),
                    to: *me,
                    nonce: package.nonce,
                    ciphertext: package.ciphertext.clone(),
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
