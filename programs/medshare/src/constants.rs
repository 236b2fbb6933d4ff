//! PDA seeds and limits, shared with the client and the nodes so the two sides
//! can never disagree.

/// Cluster: `[SEED_CLUSTER, admin, cluster_id (u32 LE)]`.
pub const SEED_CLUSTER: &[u8] = b"cluster";
/// A node's DKG mailbox: `[SEED_DKG, cluster, node index (u8)]`.
pub const SEED_DKG: &[u8] = b"dkg";
/// A node's service record: `[SEED_NODE, cluster, node index (u8)]`.
pub const SEED_NODE: &[u8] = b"node";
/// Identity: `[SEED_IDENTITY, wallet]`.
pub const SEED_IDENTITY: &[u8] = b"identity";
/// Patient record: `[SEED_RECORD, owner, record_id (u64 LE)]`.
pub const SEED_RECORD: &[u8] = b"record";
/// Computation: `[SEED_COMPUTATION, cluster, computation id (u64 LE)]`.
pub const SEED_COMPUTATION: &[u8] = b"computation";
/// Share result: `[SEED_SHARE_RESULT, computation]`.
pub const SEED_SHARE_RESULT: &[u8] = b"share-result";
/// Consent: `[SEED_CONSENT, record, grantee]`.
pub const SEED_CONSENT: &[u8] = b"consent";
/// Credential issuer: `[SEED_ISSUER, cluster, issuer wallet]`.
pub const SEED_ISSUER: &[u8] = b"issuer";
/// Verified provider: `[SEED_PROVIDER, cluster, provider wallet]`.
pub const SEED_PROVIDER: &[u8] = b"provider";
/// Research consent: `[SEED_RESEARCH_CONSENT, record]`.
pub const SEED_RESEARCH_CONSENT: &[u8] = b"research-consent";
/// Research value: `[SEED_RESEARCH_VALUE, record, field id]`.
pub const SEED_RESEARCH_VALUE: &[u8] = b"research-value";
/// Study: `[SEED_STUDY, cluster, study number (u64 LE)]`.
pub const SEED_STUDY: &[u8] = b"study";
/// Study membership: `[SEED_STUDY_MEMBER, study, record]`.
pub const SEED_STUDY_MEMBER: &[u8] = b"study-member";
/// A node's partial decryptions of a study: `[SEED_STUDY_PARTIALS, study, node index (u8)]`.
pub const SEED_STUDY_PARTIALS: &[u8] = b"study-partials";

/// Smallest cohort a study may release (`min_cohort` may only be larger).
pub const MIN_COHORT: u32 = 10;
/// Largest ε of a study, in thousandths (ε = 100).
pub const MAX_EPSILON_MILLI: u32 = 100_000;
/// Fields one research consent names.
pub const MAX_RESEARCH_FIELDS: usize = 8;
/// Most bits of a study's values (their squares have twice as many).
pub const MAX_STUDY_BITS: u8 = 12;
/// Most top bits a study's histogram buckets by (16 buckets).
pub const MAX_STUDY_BUCKET_BITS: u8 = 4;
/// Most slices of one value or open study: 12 bits, 24 square bits, 16
/// buckets.
pub const MAX_STUDY_SLICES: usize =
    crate::state::slice_count(MAX_STUDY_BITS, MAX_STUDY_BUCKET_BITS);
/// Most statistics one study releases: the sum, the sum of squares, 16
/// buckets.
pub const MAX_STUDY_STATISTICS: usize =
    crate::state::statistic_count(MAX_STUDY_BITS, MAX_STUDY_BUCKET_BITS);
/// Every released statistic (before noise) stays at most `2^MAX_TOTAL_BITS`:
/// a study takes at most [`crate::state::max_cohort`] records.
pub const MAX_TOTAL_BITS: u32 = 40;
/// Most bits of one node's noise on one statistic (`|η| ≤ 2^35`): a study
/// whose ε would need more is refused when opened.
pub const MAX_STUDY_NOISE_BITS: u8 = 36;

/// Longest consent purpose, in bytes.
pub const MAX_PURPOSE_LEN: usize = 64;

/// Most nodes in a cluster (the crypto crate's limit).
pub const MAX_NODES: usize = encrypted_ixs::MAX_NODES;
/// Field groups per record.
pub const MAX_GROUPS: usize = encrypted_ixs::MAX_GROUPS;
/// Most groups one share (and so one contribution) carries.
pub const MAX_SHARE_GROUPS: usize = encrypted_ixs::MAX_SHARE_GROUPS;
/// Largest inline ciphertext (plaintext + 16-byte tag) of one field group.
/// `write_record_group` with this much data, a co-signing provider and both
/// compute-budget instructions (limit and price) is 1,227 bytes: under the
/// 1,232-byte packet (measured in `tests/program/records.rs`).
pub const MAX_GROUP_CIPHERTEXT: usize = 624;
/// Largest serialized `frost` round-1 package (`t ≤ 16`: 5 + 1 + 32·t + 64 bytes, rounded up).
pub const MAX_ROUND1_LEN: usize = 640;
/// Largest encrypted round-2 package ciphertext (37-byte package + 16-byte tag, rounded up).
pub const MAX_ROUND2_CIPHERTEXT: usize = 64;
/// Smallest and largest lifetime of a computation, in slots.
pub const MIN_COMPUTATION_TTL_SLOTS: u64 = 10;
/// See [`MIN_COMPUTATION_TTL_SLOTS`].
pub const MAX_COMPUTATION_TTL_SLOTS: u64 = 1_000_000;
/// Peers a node sends round-2 packages to.
pub const MAX_PEERS: usize = MAX_NODES - 1;
/// Stored `(U_i, W_i)` pairs of one computation: `t × groups` at most.
pub const MAX_PARTIALS: usize = MAX_NODES * MAX_SHARE_GROUPS;

/// What the requester deposits per node transaction of a share, in
/// lamports: one signature's base fee. A computation holds
/// `(t + 1) × NODE_FEE_LAMPORTS` on top of its rent; each accepted
/// contribution pays its node this much and the callback pays its finisher,
/// so queuing computations costs the requester what it costs the nodes
///. What is left returns to the requester with the rent.
pub const NODE_FEE_LAMPORTS: u64 = 5_000;
