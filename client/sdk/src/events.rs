//! Typed events from transaction logs.
//!
//! The program emits Anchor events as `Program data: <base64>` (SBF) or, in
//! the embedded bank where Anchor's `emit!` is a no-op, as `Program log:
//! Program data: <base64>` (`medshare::native::log_event`). [`program_data`]
//! reads both forms, and only while the MedShare program itself is the
//! executing frame, so another program cannot forge a MedShare event by
//! logging the same bytes.
//!
//! ```
//! use medshare::events::ShareCompleted;
//! let logs: Vec<String> = vec![];
//! assert!(medshare_sdk::events::events::<ShareCompleted>(&logs).is_empty());
//! ```

use anchor_lang::AnchorDeserialize;
use base64::Engine;
use solana_sdk::pubkey::Pubkey;

/// Extracts the payloads of `Program data:` log lines (either form) emitted
/// while `program` itself was executing (frames of other programs, and
/// anything they log, are ignored).
pub fn program_data(logs: &[String], program: &Pubkey) -> Vec<Vec<u8>> {
    let invoke = format!("Program {program} invoke");
    let mut stack: Vec<bool> = Vec::new();
    let mut out = Vec::new();
    for line in logs {
        if line.starts_with("Program ") && line.contains(" invoke [") {
            stack.push(line.starts_with(&invoke));
        } else if line.starts_with("Program ")
            && (line.ends_with(" success") || line.contains(" failed"))
            && !line.starts_with("Program log:")
            && !line.starts_with("Program data:")
        {
            stack.pop();
        } else if stack.last() == Some(&true) {
            let payload = line
                .strip_prefix("Program data: ")
                .or_else(|| line.strip_prefix("Program log: Program data: "));
            if let Some(p) = payload {
                for b in p.split(' ') {
                    if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(b) {
                        out.push(d);
                    }
                }
            }
        }
    }
    out
}

/// One event of type `E` from an event payload (discriminator and body),
/// `None` if the payload is another event or malformed.
pub fn decode<E: anchor_lang::Event + AnchorDeserialize>(payload: &[u8]) -> Option<E> {
    payload
        .strip_prefix(E::DISCRIMINATOR)
        .and_then(|body| E::try_from_slice(body).ok())
}

/// The MedShare events of type `E` among a transaction's logs.
pub fn events<E: anchor_lang::Event + AnchorDeserialize>(logs: &[String]) -> Vec<E> {
    program_data(logs, &medshare::ID)
        .iter()
        .filter_map(|d| decode::<E>(d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Event;
    use medshare::events::ShareCancelled;

    fn sample() -> ShareCancelled {
        ShareCancelled {
            computation: Pubkey::new_unique(),
            requester: Pubkey::new_unique(),
            slot: 7,
        }
    }

    fn line(prefix: &str, e: &ShareCancelled) -> String {
        format!(
            "{prefix}{}",
            base64::engine::general_purpose::STANDARD.encode(e.data())
        )
    }

    #[test]
    fn events_are_read_only_from_the_medshare_frame() {
        let ours = sample();
        let forged = sample();
        let other = Pubkey::new_unique();
        let logs = vec![
            format!("Program {} invoke [1]", medshare::ID),
            line("Program log: Program data: ", &ours),
            format!("Program {other} invoke [2]"),
            line("Program data: ", &forged),
            format!("Program {other} success"),
            format!("Program {} success", medshare::ID),
            line("Program data: ", &forged),
        ];
        let got = events::<ShareCancelled>(&logs);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].computation, ours.computation);
        assert!(decode::<ShareCancelled>(&[0u8; 4]).is_none());
    }
}
