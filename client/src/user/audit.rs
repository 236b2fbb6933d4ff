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

fn describe(d: &[u8]) -> Option<(String, String, String)> {
    if let Some(e) = decode::<RecordChanged>(d) {
        let what = match e.kind {
            RecordChange::Created => "created",
            RecordChange::NewVersion => "new version",
            RecordChange::Closed => "closed",
        };
        return Some((
            "RecordChanged".into(),
            e.author.to_string(),
            format!("record {what} (version {})", e.version),
        ));
    }
    if let Some(e) = decode::<RecordGroupWritten>(d) {
        return Some((
            "RecordGroupWritten".into(),
            String::new(),
            format!(
                "{} written ({} bytes, version {})",
                group_names(1 << e.group).join(""),
                e.ciphertext_len,
                e.version
            ),
        ));
    }
    if let Some(e) = decode::<ShareRequested>(d) {
        return Some((
            if e.consent == Pubkey::default() {
                "ShareRequested"
            } else {
                "PullRequested"
            }
            .into(),
            e.requester.to_string(),
            format!(
                "share of [{}] to key {}{} (computation {}, expires slot {})",
                group_names(e.group_mask).join(", "),
                &hex::encode(e.recipient)[..KEY_HEX_SHOWN],
                if e.recipient_wallet == Pubkey::default() {
                    String::new()
                } else {
                    format!(" / wallet {}", e.recipient_wallet)
                },
                e.computation,
                e.expiry_slot
            ),
        ));
    }
    if let Some(e) = decode::<ContributionAccepted>(d) {
        return Some((
            "ContributionAccepted".into(),
            format!("node {}", e.node),
            format!("contribution {} accepted", e.count),
        ));
    }
    if let Some(e) = decode::<ContributionRejected>(d) {
        return Some((
            "ContributionRejected".into(),
            format!("node {} ({})", e.node, e.authority),
            format!("invalid proof for group {}: node named as faulty", e.group),
        ));
    }
    if let Some(e) = decode::<ShareCompleted>(d) {
        return Some((
            "ShareCompleted".into(),
            format!("node {}", e.finalizer),
            format!(
                "re-encrypted [{}] for key {} from nodes {:?}",
                e.groups
                    .iter()
                    .map(|g| group_names(1 << g).join(""))
                    .collect::<Vec<_>>()
                    .join(", "),
                &hex::encode(e.recipient)[..KEY_HEX_SHOWN],
                e.contributors
            ),
        ));
    }
    if let Some(e) = decode::<ConsentChanged>(d) {
        let what = match e.kind {
            ConsentChange::Granted => "granted",
            ConsentChange::Modified => "modified",
            ConsentChange::Revoked => "revoked",
            ConsentChange::Closed => "closed",
        };
        return Some((
            "ConsentChanged".into(),
            e.grantee.to_string(),
            format!(
                "consent {what}: [{}] for \"{}\" until {}",
                group_names(e.group_mask).join(", "),
                e.purpose,
                e.expires_at
            ),
        ));
    }
    if let Some(e) = decode::<PullRefused>(d) {
        let why = medshare::error::MedshareError::from_code(e.reason)
            .map(|m| m.to_string())
            .unwrap_or_else(|| format!("error {}", e.reason));
        return Some((
            "PullRefused".into(),
            e.requester.to_string(),
            format!(
                "pull of [{}] refused: {why}",
                group_names(e.group_mask).join(", ")
            ),
        ));
    }
    if let Some(e) = decode::<PolicyChanged>(d) {
        return Some((
            "PolicyChanged".into(),
            String::new(),
            if e.required_roles == 0 {
                "no provider verification required".into()
            } else {
                format!(
                    "shares only to verified [{}]",
                    crate::user::providers::role_names(e.required_roles).join(", ")
                )
            },
        ));
    }
    if let Some(e) = decode::<ShareClosed>(d) {
        return Some((
            "ShareClosed".into(),
            e.by.to_string(),
            format!(
                "share result {} closed, rent to {}",
                e.share_result, e.requester
            ),
        ));
    }
    if let Some(e) = decode::<medshare::events::ResearchConsentChanged>(d) {
        let what = match e.kind {
            ConsentChange::Revoked => "revoked",
            _ => "granted",
        };
        return Some((
            "ResearchConsent".into(),
            e.owner.to_string(),
            format!(
                "research consent {what}: \"{}\", {} field(s), until unix time {}",
                e.purpose,
                e.fields.len(),
                e.expires_at
            ),
        ));
    }
    if let Some(e) = decode::<medshare::events::ResearchValueSealed>(d) {
        return Some((
            "ResearchValue".into(),
            e.owner.to_string(),
            format!(
                "encrypted research value posted ({} bits, proofs verified)",
                e.bits
            ),
        ));
    }
    if let Some(e) = decode::<medshare::events::StudyJoined>(d) {
        return Some((
            "StudyJoined".into(),
            String::new(),
            format!("added to study {} (cohort {})", e.study, e.cohort),
        ));
    }
    if let Some(e) = decode::<medshare::events::StudyLeft>(d) {
        return Some((
            "StudyLeft".into(),
            String::new(),
            format!("removed from study {} (cohort {})", e.study, e.cohort),
        ));
    }
    if let Some(e) = decode::<ShareCancelled>(d) {
        return Some((
            "ShareCancelled".into(),
            e.requester.to_string(),
            "expired share cancelled".into(),
        ));
    }
    None
}

/// The line a validator puts in place of the logs past its limit.
pub const LOG_TRUNCATED: &str = "Log truncated";

fn push_entry(out: &mut Vec<AuditEvent>, entry: &LedgerEntry) {
    let mut any = false;
    for d in program_data(&entry.logs, &medshare::ID) {
        if let Some((event, actor, detail)) = describe(&d) {
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
        let truncated = entry.logs.iter().any(|l| l == LOG_TRUNCATED);
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
        .filter_map(|d| decode::<ShareRequested>(&d).map(|e| e.computation))
        .collect();
    for c in computations {
        let life = chain.history(&c).await?;
        let ours: std::collections::HashSet<_> = life.iter().map(|e| e.signature).collect();
        let at = entries
            .iter()
            .position(|e| ours.contains(&e.signature))
            .unwrap_or(entries.len());
        entries.retain(|e| !ours.contains(&e.signature));
        let at = at.min(entries.len());
        entries.splice(at..at, life);
    }
    entries.sort_by_key(|e| e.slot);
    let mut out = Vec::new();
    for entry in &entries {
        push_entry(&mut out, entry);
    }
    Ok(out)
}

/// The trail as CSV.
pub fn to_csv(events: &[AuditEvent]) -> String {
    let esc = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::from("slot,time,event,actor,detail,signature\n");
    for e in events {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            e.slot,
            e.time.map(|t| t.to_string()).unwrap_or_default(),
            esc(&e.event),
            esc(&e.actor),
            esc(&e.detail),
            esc(&e.signature)
        ));
    }
    out
}
