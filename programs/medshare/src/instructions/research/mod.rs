//! Encrypted cohort statistics: a patient consents and posts
//! encrypted values ([`research_consent`], [`value`]); a researcher opens a study
//! and records join it ([`study`]); once closed with enough records, nodes
//! post verified partial decryptions of its aggregates and anyone combines
//! `t` of them into the released sums ([`release`]).

pub mod close_research_accounts;
pub mod release;
pub mod research_consent;
pub mod study;
pub mod value;

pub use close_research_accounts::*;
pub use release::*;
pub use research_consent::*;
pub use study::*;
pub use value::*;

use anchor_lang::prelude::*;

use crate::constants::{MAX_STUDY_BITS, MAX_STUDY_BUCKET_BITS};
use crate::error::MedshareError;

/// Checks a value's or study's shape: `1..=12` bits; a histogram of at most
/// 4 top bits, no more than the value has, and none for an indicator.
pub(crate) fn check_shape(bits: u8, bucket_bits: u8) -> Result<()> {
    require!(
        (1..=MAX_STUDY_BITS).contains(&bits)
            && bucket_bits <= MAX_STUDY_BUCKET_BITS
            && bucket_bits <= bits
            && !(bits == 1 && bucket_bits > 0),
        MedshareError::InvalidStudyShape
    );
    Ok(())
}
