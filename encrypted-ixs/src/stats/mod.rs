//! Encrypted cohort statistics: values encrypted under the cluster key,
//! summed homomorphically, and only the sums ever decrypted, by `t` nodes.
//!
//! This module is the cryptography of encrypted statistics; the program's study
//! instructions (`medshare::instructions::research`), the nodes and the CLI
//! run it.
//!
//! ## Values: exponential ElGamal, one ciphertext per bit
//!
//! A value `v < 2^k` is posted as `k` ciphertexts under the cluster key `P`,
//! one per bit `b_j` of `v`:
//!
//! ```text
//! (R_j, C_j) = (r_j·B, b_j·B + r_j·P),     v = Σ_j 2^j·b_j
//! ```
//!
//! with a proof per bit that `b_j ∈ {0, 1}` ([`BitProof`]). So `v` is in
//! `[0, 2^k)` by construction: nobody can poison a sum with a huge or
//! negative value. A 0/1 indicator is a 1-bit value.
//!
//! **Bit-sliced sums.** A study adds the ciphertexts of bit `j` of every
//! record into one aggregate `Σ_records (R_j, C_j)`, which encrypts `S_j`,
//! the number of records whose bit `j` is set ([`slice_sums`]). Those
//! counts are never decrypted: when the study closes they are combined
//! under encryption into the statistics it releases ([`weighted`]:
//! `Σ_j 2^j·S_j`, below), and a reader recovers each statistic by one
//! baby-step giant-step over its range widened by the nodes' noise bounds
//! ([`discrete_log_signed`]: about `2·√range` point operations; the
//! program caps a study's cohort so that every statistic stays below
//! `2^40`).
//!
//! ## The bit proof
//!
//! A disjunction (Cramer–Damgård–Schoenmakers, CRYPTO 1994) of two
//! Chaum–Pedersen proofs (CRYPTO 1992): the prover knows `r` with
//!
//! ```text
//! R = r·B  and  C = r·P          (b = 0)   or
//! R = r·B  and  C − B = r·P      (b = 1)
//! ```
//!
//! It proves the true branch and simulates the other; the challenges of the
//! two branches XOR to the Fiat–Shamir challenge ([`crate::transcript`], 128
//! bits), so the verifier, like the program's other verifiers, does no scalar
//! arithmetic:
//!
//! ```text
//! c = Hc("medshare/v2/stats-bit", program, cluster, record, owner, field, j,
//!        P, R, C, A0, A0', A1, A1')
//! verify: A0 = z0·B − c0·R,  A0' = z0·P − c0·C,
//!         A1 = z1·B − c1·R,  A1' = z1·P − c1·(C − B),  c0 ⊕ c1 = c
//! ```
//!
//! Proof: `(c0, c1, z0, z1)`, 96 bytes; with its ciphertext, 160 bytes per
//! bit. The challenge binds the program, the cluster, the record, its owner,
//! the field and the bit position: a bit proof is worth nothing for any other
//! record, field or position.
//!
//! ## Sums of squares and histograms
//!
//! Both reduce to two more proofs over ciphertexts the verifier computes
//! itself from the bits, `X = Σ_j 2^j·(R_j, C_j)` ([`weighted`], by Horner's
//! rule: additions only):
//!
//! - **Encrypts zero** ([`ZeroProof`], Chaum–Pedersen): knowledge of `ρ` with
//!   `(R, C) = (ρ·B, ρ·P)`. 48 bytes.
//! - **Product** ([`ProductProof`]): for `A = Enc(a; r_a)`, `X` and `Y`,
//!   knowledge of `(a, r_a, t)` with `A = (r_a·B, a·B + r_a·P)` and
//!   `Y = a·X + (t·B, t·P)`, so `Y` encrypts `a·x`. A linear sigma protocol
//!   with three witnesses and four equations; 112 bytes. With `A = X` it is a
//!   square; with `A` a 0/1 indicator `f`, a filtered value `v·f`
//!   ([`Filtered`]), so a study can release the mean of `v` among the
//!   records with `f = 1`.
//! - **Square**: a product with `A = X`. A value `v` of `k ≤ 20` bits is posted with the
//!   `2k` bits of `v²` (bit proofs at positions `64 + j`) and this proof, so
//!   a study can sum `v²` (variance
//!   `= Σv²/n − (Σv/n)²`) bit-sliced like `v`.
//! - **Histogram bucket** ([`Bucket`]): for buckets by the top `h` bits of
//!   a `k`-bit value, a one-hot vector of `2^h` bits (each with a bit proof,
//!   at positions `128 + j`), a [`ZeroProof`] that they sum to one
//!   (`Σ_j E_j − (0, B)` encrypts 0), and a [`ZeroProof`] that the index they
//!   mark is the value's top bits (`Σ_j j·E_j − Σ_{i≥k−h} 2^{i−k+h}·X_i`
//!   encrypts 0). A study sums each bucket's bit over its records.
//!
//! ## What a study releases
//!
//! A study sums each slice over its members while it is open; when it
//! closes the program combines the slices into one aggregate per released
//! statistic with [`weighted`] (`Σ_j 2^j·S_j` for the sum and for the sum
//! of squares; each bucket as it is), so the count behind one bit slice is
//! never decrypted. Only those aggregates are.
//!
//! ## Bounded noise
//!
//! With differential privacy each node adds noise `η` to every statistic
//! before any decryption, as the `k` bits of `u = η + 2^(k−1)`, each an
//! encrypted bit with the bit proof above, bound to the study, the
//! statistic, the node and the position ([`verify_noise_bit`]). The
//! program adds `Σ_p 2^p·E_p − (0, 2^(k−1)·B)`, so `η ∈ [−2^(k−1), 2^(k−1))`
//! whatever the node does: one node moves a statistic by at most
//! `2^(k−1)`. How `k` follows from ε is the program's
//! (`medshare::state::noise_plan`).
//!
//! ## Threshold decryption of an aggregate only
//!
//! For an aggregate `(R, C)`, node `i` posts `D_i = s_i·R` and a
//! Chaum–Pedersen proof that `log_B V_i = log_R D_i` ([`PartialDecryption`]),
//! bound to the study and the aggregate. With `t` valid partials and the
//! Lagrange coefficients ([`crate::reencrypt::check_lagrange`]),
//! `v·B = C − Σ λ_i·D_i` ([`combine_partials`]).
//!
//! Why revealing `s·R` should be safe (a design argument, not a tested
//! property; what is tested is that the program takes partial decryptions
//! only against a closed study's aggregates): every `R_j` a value or a
//! node's noise adds came with a proof of knowledge of its `r_j`, so the
//! discrete log of an aggregate's `R` is known to the records' owners and
//! the nodes together; it is never a record capsule's
//! ephemeral key `E` (whose logarithm only the capsule's author knows), so
//! `s·R` opens no capsule.

mod bits;
mod decryption;
mod noise;
mod relations;

pub use bits::*;
pub use decryption::*;
pub use noise::*;
pub use relations::*;

use crate::keys::NodeIndex;
use crate::transcript::{tags, Challenge, Transcript};

#[cfg(feature = "client")]
use curve25519_dalek::{edwards::EdwardsPoint, scalar::Scalar};

/// A compressed point.
#[cfg(feature = "client")]
fn point(p: &EdwardsPoint) -> crate::point::Point {
    crate::point::Point(p.compress().0)
}

/// `v` as a scalar, negative values as `ℓ − |v|`.
#[cfg(feature = "client")]
fn signed_scalar(v: i64) -> Scalar {
    let s = Scalar::from(v.unsigned_abs());
    if v < 0 {
        -s
    } else {
        s
    }
}
