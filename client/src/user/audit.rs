//! The audit trail: a record's complete history, rebuilt from the chain.
//!
//! Every MedShare instruction emits an event. The trail is the events of
//! every transaction that touched the record, plus those of every
//! computation a `ShareRequested` event names (contributions, rejected
//! proofs, the callback or the cancellation). Failed transactions appear
//! too, with the program's refusal. Only lines logged while the MedShare
//! program itself was executing are read ([`medshare_sdk::events::program_data`]).
//!
//! On a real endpoint: a transaction refused at preflight never lands, so it
//! is in no history and not in the trail (the CLI reports it to whoever sent
//! it); pull requests the program refuses land and are recorded
//! (`PullRefused`). A transaction whose logs the validator truncated, or
//! whose logs the endpoint does not serve yet, appears as `LogsTruncated` or
//! `LogsUnavailable` with its signature instead of its events.

use medshare::events::*;
use medshare_sdk::chain::{Chain, LedgerEntry};
use medshare_sdk::events::{decode, program_data};
use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

use crate::data::group_names;
use crate::error::Result;

/// Hex digits of a recipient key the trail shows (64 bits: enough to tell
/// keys apart by eye; the full key is in the event).
const KEY_HEX_SHOWN: usize = 16;

/// One line of the trail.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AuditEvent {
    /// Slot.
    pub slot: u64,
    /// Unix time (block time), when known.
    pub time: Option<i64>,
    /// Transaction signature.
    pub signature: String,
    /// Event name (or `Refused`).
    pub event: String,
    /// Who acted.
    pub actor: String,
    /// What happened.
    pub detail: String,
}

fn describe(data: &[u8]) -> Option<(String, String, String)> {
    if let Some(event) = decode::<RecordChanged>(data) {
        let what = match event.kind {
            RecordChange::Created => "created",
            RecordChange::NewVersion => "new version",
            RecordChange::Closed => "closed",
        };
        return Some((
            "RecordChanged".into(),
            event.author.to_string(),
            format!("record {what} (version {})", event.version),
        ));
    }
    if let Some(event) = decode::<RecordGroupWritten>(data) {
        return Some((
            "RecordGroupWritten".into(),
            String::new(),
            format!(
                "{} written ({} bytes, version {})",
                group_names(1 << event.group).join(""),
                event.ciphertext_len,
                event.version
            ),
        ));
    }
    if let Some(event) = decode::<ShareRequested>(data) {
        return Some((
            if event.consent == Pubkey::default() {
                "ShareRequested"
            } else {
                "PullRequested"
            }
            .into(),
            event.requester.to_string(),
            format!(
                "share of [{}] to key {}{} (computation {}, expires slot {})",
                group_names(event.group_mask).join(", "),
                &hex::encode(event.recipient)[..KEY_HEX_SHOWN],
                if event.recipient_wallet == Pubkey::default() {
                    String::new()
                } else {
                    format!(" / wallet {}", event.recipient_wallet)
                },
                event.computation,
                event.expiry_slot
            ),
        ));
    }
    if let Some(event) = decode::<ContributionAccepted>(data) {
        return Some((
            "ContributionAccepted".into(),
            format!("node {}", event.node),
            format!("contribution {} accepted", event.count),
        ));
    }
    if let Some(event) = decode::<ContributionRejected>(data) {
        return Some((
            "ContributionRejected".into(),
            format!("node {} ({})", event.node, event.authority),
            format!(
                "invalid proof for group {}: node named as faulty",
                event.group
            ),
        ));
    }
    if let Some(event) = decode::<ShareCompleted>(data) {
        return Some((
            "ShareCompleted".into(),
            format!("node {}", event.finalizer),
            format!(
                "re-encrypted [{}] for key {} from nodes {:?}",
                event
                    .groups
                    .iter()
                    .map(|group| group_names(1 << group).join(""))
                    .collect::<Vec<_>>()
                    .join(", "),
                &hex::encode(event.recipient)[..KEY_HEX_SHOWN],
                event.contributors
            ),
        ));
    }
    if let Some(event) = decode::<ConsentChanged>(data) {
        let what = match event.kind {
            ConsentChange::Granted => "granted",
            ConsentChange::Modified => "modified",
            ConsentChange::Revoked => "revoked",
            ConsentChange::Closed => "closed",
        };
        return Some((
            "ConsentChanged".into(),
            event.grantee.to_string(),
            format!(
                "consent {what}: [{}] for \"{}\" until {}",
                group_names(event.group_mask).join(", "),
                event.purpose,
                event.expires_at
            ),
        ));
    }
    if let Some(event) = decode::<PullRefused>(data) {
        let why = medshare::error::MedshareError::from_code(event.reason)
            .map(|m| m.to_string())
            .unwrap_or_else(|| format!("error {}", event.reason));
        return Some((
            "PullRefused".into(),
            event.requester.to_string(),
            format!(
                "pull of [{}] refused: {why}",
                group_names(event.group_mask).join(", ")
            ),
        ));
    }
    if let Some(event) = decode::<PolicyChanged>(data) {
        return Some((
            "PolicyChanged".into(),
            String::new(),
            if event.required_roles == 0 {
                "no provider verification required".into()
            } else {
                format!(
                    "shares only to verified [{}]",
                    crate::user::providers::role_names(event.required_roles).join(", ")
                )
            },
        ));
    }
    if let Some(event) = decode::<ShareClosed>(data) {
        return Some((
            "ShareClosed".into(),
            event.by.to_string(),
            format!(
                "share result {} closed, rent to {}",
                event.share_result, event.requester
            ),
        ));
    }
    if let Some(event) = decode::<medshare::events::ResearchConsentChanged>(data) {
        let what = match event.kind {
            ConsentChange::Revoked => "revoked",
            _ => "granted",
        };
        return Some((
            "ResearchConsent".into(),
            event.owner.to_string(),
            format!(
                "research consent {what}: \"{}\", {} field(s), until unix time {}",
                event.purpose,
                event.fields.len(),
                event.expires_at
            ),
        ));
    }
    if let Some(event) = decode::<medshare::events::ResearchValueSealed>(data) {
        return Some((
            "ResearchValue".into(),
            event.owner.to_string(),
            format!(
                "encrypted research value posted ({} bits, proofs verified)",
                event.bits
            ),
        ));
    }
    if let Some(event) = decode::<medshare::events::StudyJoined>(data) {
        return Some((
            "StudyJoined".into(),
            String::new(),
            format!("added to study {} (cohort {})", event.study, event.cohort),
        ));
    }
    if let Some(event) = decode::<medshare::events::StudyLeft>(data) {
        return Some((
            "StudyLeft".into(),
            String::new(),
            format!(
                "removed from study {} (cohort {})",
                event.study, event.cohort
            ),
        ));
    }
    if let Some(event) = decode::<ShareCancelled>(data) {
        return Some((
            "ShareCancelled".into(),
            event.requester.to_string(),
            "expired share cancelled".into(),
        ));
    }
    None
}

/// The line a validator puts in place of the logs past its limit.
pub const LOG_TRUNCATED: &str = "Log truncated";

fn push_entry(out: &mut Vec<AuditEvent>, entry: &LedgerEntry) {
    let mut any = false;
    for data in program_data(&entry.logs, &medshare::ID) {
        if let Some((event, actor, detail)) = describe(&data) {
            any = true;
            out.push(AuditEvent {
                slot: entry.slot,
                time: entry.block_time,
                signature: entry.signature.to_string(),
                event,
                actor,
                detail,
            });
        }
    }
    if entry.success && !any {
        // A validator truncates a transaction's logs past its byte limit,
        // and an RPC node may not serve the logs of a recent one yet: say
        // so, rather than leave the transaction out of the trail.
        let truncated = entry.logs.iter().any(|line| line == LOG_TRUNCATED);
        if truncated || entry.logs.is_empty() {
            out.push(AuditEvent {
                slot: entry.slot,
                time: entry.block_time,
                signature: entry.signature.to_string(),
                event: if truncated {
                    "LogsTruncated"
                } else {
                    "LogsUnavailable"
                }
                .into(),
                actor: String::new(),
                detail: if truncated {
                    "the validator truncated this transaction's logs; its events cannot be read (look it up by signature)".into()
                } else {
                    "the endpoint has not served this transaction's logs yet; run audit again".into()
                },
            });
        }
    }
    if !entry.success && !any {
        let reason = entry
            .error
            .clone()
            .unwrap_or_else(|| "transaction failed".into());
        out.push(AuditEvent {
            slot: entry.slot,
            time: entry.block_time,
            signature: entry.signature.to_string(),
            event: "Refused".into(),
            actor: String::new(),
            detail: reason,
        });
    }
}

/// The record's trail, oldest first.
///
/// The record's own history, with each share's whole life (request,
/// contributions, callback or cancellation, from the computation's history,
/// which orders them) put where its request was; then a stable sort by slot.
pub async fn trail(chain: &dyn Chain, record: &Pubkey) -> Result<Vec<AuditEvent>> {
    let mut entries = chain.history(record).await?;
    let computations: Vec<Pubkey> = entries
        .iter()
        .flat_map(|entry| program_data(&entry.logs, &medshare::ID))
        .filter_map(|data| decode::<ShareRequested>(&data).map(|event| event.computation))
        .collect();
    for computation in computations {
        let life = chain.history(&computation).await?;
        let ours: std::collections::HashSet<_> = life.iter().map(|entry| entry.signature).collect();
        let at = entries
            .iter()
            .position(|entry| ours.contains(&entry.signature))
            .unwrap_or(entries.len());
        entries.retain(|entry| !ours.contains(&entry.signature));
        let at = at.min(entries.len());
        entries.splice(at..at, life);
    }
    entries.sort_by_key(|entry| entry.slot);
    let mut out = Vec::new();
    for entry in &entries {
        push_entry(&mut out, entry);
    }
    Ok(out)
}

/// The trail as CSV.
pub fn to_csv(events: &[AuditEvent]) -> String {
    let esc = |field: &str| format!("\"{}\"", field.replace('"', "\"\""));
    let mut out = String::from("slot,time,event,actor,detail,signature\n");
    for event in events {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            event.slot,
            event.time.map(|time| time.to_string()).unwrap_or_default(),
            esc(&event.event),
            esc(&event.actor),
            esc(&event.detail),
            esc(&event.signature)
        ));
    }
    out
}
