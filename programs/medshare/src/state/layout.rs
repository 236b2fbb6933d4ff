//! Account headers: what kind of account it is, and which layout.
//!
//! Every account starts with an 8-byte header (Anchor's discriminator slot):
//! a 7-byte tag naming its type, then its **layout version**. Anchor checks
//! the whole header whenever it loads an account, so an account written in
//! an older layout of its type is refused as it is read, before any field
//! is misread; off-chain, [`outdated_layout`] tells that case apart from an
//! account of another type (the SDK reports it as one clear error, and
//! `medshare localnet` says to start again with `--reset`).
//!
//! A change to a type's fields bumps its version here, and nothing else.

/// The header of an account type: its tag, then its layout version.
pub const fn header(tag: &[u8; 7], version: u8) -> [u8; 8] {
    [
        tag[0], tag[1], tag[2], tag[3], tag[4], tag[5], tag[6], version,
    ]
}

/// [`crate::state::Cluster`], layout 1.
pub const CLUSTER: [u8; 8] = header(b"Cluster", 1);
/// [`crate::state::Computation`], layout 1.
pub const COMPUTATION: [u8; 8] = header(b"Comput_", 1);
/// [`crate::state::Consent`], layout 1.
pub const CONSENT: [u8; 8] = header(b"Consent", 1);
/// [`crate::state::DkgMailbox`], layout 1.
pub const DKG_MAILBOX: [u8; 8] = header(b"DkgMail", 1);
/// [`crate::state::Identity`], layout 1.
pub const IDENTITY: [u8; 8] = header(b"Identit", 1);
/// [`crate::state::NodeRecord`], layout 1.
pub const NODE_RECORD: [u8; 8] = header(b"NodeRec", 1);
/// [`crate::state::CredentialIssuer`], layout 1.
pub const CREDENTIAL_ISSUER: [u8; 8] = header(b"Issuer_", 1);
/// [`crate::state::Provider`], layout 1.
pub const PROVIDER: [u8; 8] = header(b"Provide", 1);
/// [`crate::state::PatientRecord`], layout 1.
pub const PATIENT_RECORD: [u8; 8] = header(b"Record_", 1);
/// [`crate::state::ResearchConsent`], layout 1.
pub const RESEARCH_CONSENT: [u8; 8] = header(b"ResCons", 1);
/// [`crate::state::ResearchValue`], layout 1.
pub const RESEARCH_VALUE: [u8; 8] = header(b"ResValu", 1);
/// [`crate::state::Study`], layout 2 (noise progress in bits; after
/// closing, one aggregate per released statistic).
pub const STUDY: [u8; 8] = header(b"Study__", 2);
/// [`crate::state::StudyMember`], layout 1.
pub const STUDY_MEMBER: [u8; 8] = header(b"StudMem", 1);
/// [`crate::state::StudyPartials`], layout 2 (one per released statistic).
pub const STUDY_PARTIALS: [u8; 8] = header(b"StudPar", 2);
/// [`crate::state::ShareResult`], layout 1.
pub const SHARE_RESULT: [u8; 8] = header(b"ShareRe", 1);

/// Every header, for tests and tools.
pub const ALL: [[u8; 8]; 15] = [
    CLUSTER,
    COMPUTATION,
    CONSENT,
    DKG_MAILBOX,
    IDENTITY,
    NODE_RECORD,
    CREDENTIAL_ISSUER,
    PROVIDER,
    PATIENT_RECORD,
    RESEARCH_CONSENT,
    RESEARCH_VALUE,
    STUDY,
    STUDY_MEMBER,
    STUDY_PARTIALS,
    SHARE_RESULT,
];

/// When `data` is an account of the type whose header is `expected` but in
/// another layout, the layout version it has: `Some(0)` for an account
/// written before layouts were versioned (Anchor's default discriminator,
/// `legacy`), `Some(v)` for a tagged header of version `v`. `None` when it
/// is the current layout or not that type at all.
pub fn outdated_layout(data: &[u8], expected: &[u8], legacy: &[u8; 8]) -> Option<u8> {
    if data.len() < 8 || expected.len() != 8 || data[..8] == *expected {
        return None;
    }
    if data[..8] == *legacy {
        return Some(0);
    }
    (data[..7] == expected[..7]).then_some(data[7])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_headers_are_distinct_and_versioned() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(a[7] >= 1, "{a:?}");
            for b in &ALL[i + 1..] {
                assert_ne!(a[..7], b[..7], "two account types share a tag");
            }
        }
    }

    #[test]
    fn test_outdated_layout_tells_old_from_other() {
        let legacy = [9u8; 8];
        let mut v0 = CONSENT.to_vec();
        v0.extend([0; 4]);
        assert_eq!(outdated_layout(&v0, &CONSENT, &legacy), None);
        v0[7] = 7;
        assert_eq!(outdated_layout(&v0, &CONSENT, &legacy), Some(7));
        assert_eq!(outdated_layout(&v0, &STUDY, &legacy), None);
        assert_eq!(outdated_layout(&legacy, &CONSENT, &legacy), Some(0));
        assert_eq!(outdated_layout(&[1, 2], &CONSENT, &legacy), None);
    }
}
