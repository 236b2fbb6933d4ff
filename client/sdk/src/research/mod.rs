//! Encrypted cohort statistics, client side: the field catalogue, a
//! patient's value as the transactions that post it, a node's partial
//! decryptions of a closed study, and a released study's statistics.
//!
//! The protocol is in [`encrypted_ixs::stats`]; the accounts in
//! `medshare::state::research`.

use encrypted_ixs::point::Point;
use encrypted_ixs::stats::{encrypt_for_study, encrypt_value, field_id, ValueContext};
use medshare::instructions::{BitArg, PostValueArgs, ProductProofArg, SealValueArgs, ZeroProofArg};
use medshare::state::slice_count;
use rand_core::{CryptoRng, RngCore};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;

use crate::ix;

mod nodes;
mod privacy;
mod results;
#[cfg(test)]
mod tests;

pub use nodes::*;
pub use privacy::*;
pub use results::*;

/// Slices per `post_research_value` transaction (160 bytes each: five fit
/// the 1,232-byte packet with a compute-budget instruction).
pub const SLICES_PER_TX: usize = 5;

/// Partial decryptions per `post_study_partials` transaction (80 bytes each).
pub const PARTIALS_PER_TX: usize = 10;

/// Noise bits per `post_study_noise` transaction (160 bytes each, like a
/// value's slices).
pub const NOISE_BITS_PER_TX: usize = 5;

/// Compute units a client requests for a research transaction (the ELF's
/// figures are in the program README).
pub const RESEARCH_COMPUTE_UNITS: u32 = 1_400_000;

/// A field studies can use: its name, id and shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Its name: `age`, `weight`, `height`, `loinc:<code>`,
    /// `condition:<code>` or `medication:<code>`.
    pub name: String,
    /// [`field_id`] of the name.
    pub id: [u8; 32],
    /// Bits of its values.
    pub bits: u8,
    /// Histogram by the top `bucket_bits` bits (0: none).
    pub bucket_bits: u8,
}

/// Why a field name or value is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FieldError {
    /// Not in the catalogue.
    #[error("unknown research field '{0}' (age, weight, height, loinc:<code>, condition:<code>, medication:<code>)")]
    Unknown(String),
    /// The value does not fit the field.
    #[error("value {value} out of range for field '{field}' (0 to {max})")]
    OutOfRange {
        /// Field name.
        field: String,
        /// The value.
        value: u64,
        /// Largest value.
        max: u64,
    },
}

impl Field {
    /// The catalogue: `age` in years (7 bits, 8 buckets of 16 years),
    /// `weight` in kg and `height` in cm (8 bits, 8 buckets of 32),
    /// `loinc:<code>` an Observation's value rounded to an integer (12
    /// bits, 8 buckets of 512), `condition:<code>` and `medication:<code>`
    /// 0/1 indicators.
    pub fn parse(name: &str) -> Result<Field, FieldError> {
        let coded = |prefix: &str| {
            name.strip_prefix(prefix)
                .is_some_and(|c| !c.is_empty() && c.len() <= 40 && !c.contains(char::is_whitespace))
        };
        let (bits, bucket_bits) = match name {
            "age" => (7, 3),
            "weight" | "height" => (8, 3),
            _ if coded("loinc:") => (12, 3),
            _ if coded("condition:") || coded("medication:") => (1, 0),
            _ => return Err(FieldError::Unknown(name.to_string())),
        };
        Ok(Field {
            name: name.to_string(),
            id: field_id(name),
            bits,
            bucket_bits,
        })
    }

    /// Largest value.
    pub fn max(&self) -> u64 {
        (1u64 << self.bits) - 1
    }

    /// Checks a value fits.
    pub fn check(&self, value: u64) -> Result<(), FieldError> {
        if value > self.max() {
            return Err(FieldError::OutOfRange {
                field: self.name.clone(),
                value,
                max: self.max(),
            });
        }
        Ok(())
    }
}

/// The transactions that post `record`'s `value` of `field` (each a list
/// of instructions, compute budget first): slices five at a time, then the
/// seal with its square and bucket proofs.
pub fn value_transactions<R: RngCore + CryptoRng>(
    rng: &mut R,
    owner: Pubkey,
    record: Pubkey,
    cluster: Pubkey,
    cluster_key: &Point,
    field: &Field,
    value: u64,
) -> Result<Vec<Vec<Instruction>>, encrypted_ixs::Error> {
    let ctx = ValueContext {
        program_id: medshare::ID.to_bytes(),
        cluster: cluster.to_bytes(),
        record: record.to_bytes(),
        owner: owner.to_bytes(),
        field: field.id,
    };
    let (slices, seal) = if field.bits == 1 {
        let bits = encrypt_value(rng, &ctx, cluster_key, value, 1)?;
        (
            bits,
            SealValueArgs {
                square: None,
                bucket: None,
            },
        )
    } else {
        let h = (field.bucket_bits > 0).then_some(field.bucket_bits);
        let v = encrypt_for_study(rng, &ctx, cluster_key, value, field.bits, h)?;
        let mut all = v.value;
        all.extend(v.square);
        let bucket = v.bucket.map(|b| {
            all.extend(b.one_hot);
            let z = |p: encrypted_ixs::stats::ZeroProof| ZeroProofArg { c: p.c, z: p.z };
            (z(b.sums_to_one), z(b.matches_value))
        });
        let p = v.square_proof;
        (
            all,
            SealValueArgs {
                square: Some(ProductProofArg {
                    c: p.c,
                    z_a: p.z_a,
                    z_r: p.z_r,
                    z_t: p.z_t,
                }),
                bucket,
            },
        )
    };
    debug_assert_eq!(slices.len(), slice_count(field.bits, field.bucket_bits));
    let mut txs: Vec<Vec<Instruction>> = slices
        .chunks(SLICES_PER_TX)
        .enumerate()
        .map(|(k, chunk)| {
            vec![
                ix::compute_budget(RESEARCH_COMPUTE_UNITS),
                ix::post_research_value(
                    owner,
                    record,
                    PostValueArgs {
                        field: field.id,
                        bits: field.bits,
                        bucket_bits: field.bucket_bits,
                        offset: (k * SLICES_PER_TX) as u16,
                        slices: chunk.iter().map(|b| BitArg::from(*b)).collect(),
                    },
                ),
            ]
        })
        .collect();
    txs.push(vec![
        ix::compute_budget(RESEARCH_COMPUTE_UNITS),
        ix::seal_research_value(owner, record, cluster, &field.id, seal),
    ]);
    Ok(txs)
}
