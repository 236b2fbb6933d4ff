//! Group elements and scalars as they travel on the wire, and the curve
//! operations every verifier uses.
//!
//! Points are compressed Edwards25519 encodings. A point accepted from anyone
//! else must be *canonical* (`y < p`), *not the identity* (nor the point of
//! order 2) and *torsion-free* (`l·P = 0`, checked as `(l−1)·P = −P`); see
//! [`Point::validate`]. Scalars are canonical 32-byte little-endian integers
//! mod `l`.
//!
//! All operations go through `solana-curve25519`: on SBF they are the
//! `sol_curve_*` syscalls, natively they are `curve25519-dalek`. Nothing here
//! allocates (the native multiscalar fallback inside `solana-curve25519` does,
//! the syscall does not), so the program can call it on-chain.

use borsh::{BorshDeserialize, BorshSerialize};
use core::fmt;
use curve25519_dalek::{constants::ED25519_BASEPOINT_COMPRESSED, scalar::Scalar};
use solana_curve25519::{
    edwards::{
        add_edwards, multiply_edwards, multiscalar_multiply_edwards, subtract_edwards,
        validate_edwards, PodEdwardsPoint,
    },
    scalar::PodScalar,
};

use crate::error::{Error, Result};

/// A compressed Edwards25519 point (32 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, BorshSerialize, BorshDeserialize)]
#[repr(transparent)]
pub struct Point(pub [u8; 32]);

impl fmt::Debug for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Point(")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

impl From<[u8; 32]> for Point {
    fn from(b: [u8; 32]) -> Self {
        Point(b)
    }
}

impl From<Point> for [u8; 32] {
    fn from(p: Point) -> Self {
        p.0
    }
}

/// The Ed25519 base point `B`.
pub const BASEPOINT: Point = Point(ED25519_BASEPOINT_COMPRESSED.0);

/// The identity's canonical encoding (`y = 1`).
pub const IDENTITY: Point = {
    let mut b = [0u8; 32];
    b[0] = 1;
    Point(b)
};

/// `y` of the encoding, with the sign bit cleared, is `< p = 2^255 − 19`.
fn y_is_canonical(b: &[u8; 32]) -> bool {
    // y >= p iff bytes[31] & 0x7f == 0x7f, bytes[1..31] all 0xff, bytes[0] >= 0xed.
    if b[31] & 0x7f != 0x7f {
        return true;
    }
    if b[1..31].iter().any(|&x| x != 0xff) {
        return true;
    }
    b[0] < 0xed
}

/// `y` equals `1` (identity) or `p − 1` (the point of order 2), whatever the sign bit.
fn y_is_plus_minus_one(b: &[u8; 32]) -> bool {
    let middle_zero = b[1..31].iter().all(|&x| x == 0) && b[31] & 0x7f == 0;
    let middle_ff = b[1..31].iter().all(|&x| x == 0xff) && b[31] & 0x7f == 0x7f;
    (middle_zero && b[0] == 1) || (middle_ff && b[0] == 0xec)
}

impl Point {
    /// Checks that this is a point anyone may hand us: canonical encoding, on
    /// the curve, not the identity (nor of order 2), and in the prime-order
    /// subgroup. Costs one validate, one multiply and one subtract syscall.
    pub fn validate(&self) -> Result<()> {
        if !y_is_canonical(&self.0) {
            return Err(Error::NonCanonicalPoint);
        }
        if y_is_plus_minus_one(&self.0) {
            return Err(Error::IdentityPoint);
        }
        if !validate_edwards(&self.pod()) {
            return Err(Error::InvalidPoint);
        }
        // x = 0 only for y = ±1, refused above, so the sign bit always names
        // one of two distinct points: every accepted encoding is canonical.
        let l_minus_one = PodScalar((-Scalar::ONE).to_bytes());
        let lp = multiply_edwards(&l_minus_one, &self.pod()).ok_or(Error::InvalidPoint)?;
        let neg = subtract_edwards(&IDENTITY.pod(), &self.pod()).ok_or(Error::InvalidPoint)?;
        if lp != neg {
            return Err(Error::SmallOrderPoint);
        }
        Ok(())
    }

    /// Parses and validates 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let b: [u8; 32] = bytes.try_into().map_err(|_| Error::Encoding("point"))?;
        let p = Point(b);
        p.validate()?;
        Ok(p)
    }

    /// The raw encoding.
    pub fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    pub(crate) fn pod(&self) -> PodEdwardsPoint {
        PodEdwardsPoint(self.0)
    }

    /// `self + other`.
    pub fn add(&self, other: &Point) -> Result<Point> {
        add_edwards(&self.pod(), &other.pod())
            .map(|p| Point(p.0))
            .ok_or(Error::InvalidPoint)
    }

    /// `self − other`.
    pub fn sub(&self, other: &Point) -> Result<Point> {
        subtract_edwards(&self.pod(), &other.pod())
            .map(|p| Point(p.0))
            .ok_or(Error::InvalidPoint)
    }

    /// `k·self`.
    pub fn mul(&self, k: &Scalar) -> Result<Point> {
        multiply_edwards(&PodScalar(k.to_bytes()), &self.pod())
            .map(|p| Point(p.0))
            .ok_or(Error::InvalidPoint)
    }
}

/// `Σ kᵢ·Pᵢ` over the first `len` entries of fixed-size arrays (no allocation
/// on SBF: one `sol_curve_multiscalar_mul` syscall).
///
/// Errors: [`Error::Encoding`]`("msm length mismatch")` if `scalars` and
/// `points` differ in length, [`Error::TooManyContributions`] if there are more
/// than [`MSM_MAX`] terms, [`Error::InvalidPoint`] if a point does not decode.
pub fn msm(scalars: &[Scalar], points: &[Point]) -> Result<Point> {
    if scalars.len() != points.len() {
        return Err(Error::Encoding("msm length mismatch"));
    }
    if scalars.len() > MSM_MAX {
        return Err(Error::TooManyContributions(scalars.len()));
    }
    let mut ps = [PodScalar([0; 32]); MSM_MAX];
    let mut qs = [PodEdwardsPoint([0; 32]); MSM_MAX];
    for (i, (k, p)) in scalars.iter().zip(points).enumerate() {
        ps[i] = PodScalar(k.to_bytes());
        qs[i] = p.pod();
    }
    let n = scalars.len();
    multiscalar_multiply_edwards(&ps[..n], &qs[..n])
        .map(|p| Point(p.0))
        .ok_or(Error::InvalidPoint)
}

/// Largest multiscalar multiplication this crate performs (aggregation of
/// [`crate::MAX_NODES`] contributions plus the capsule's `C`).
pub const MSM_MAX: usize = crate::MAX_NODES + 1;

/// Parses a canonical scalar.
pub fn scalar_from_canonical(bytes: &[u8; 32]) -> Result<Scalar> {
    Option::<Scalar>::from(Scalar::from_canonical_bytes(*bytes)).ok_or(Error::NonCanonicalScalar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;

    #[test]
    fn basepoint_is_valid() {
        BASEPOINT.validate().unwrap();
    }

    #[test]
    fn identity_rejected_in_every_encoding() {
        assert_eq!(IDENTITY.validate(), Err(Error::IdentityPoint));
        let mut neg_zero = IDENTITY;
        neg_zero.0[31] |= 0x80;
        assert_eq!(neg_zero.validate(), Err(Error::IdentityPoint));
    }

    #[test]
    fn small_order_points_rejected() {
        for t in EIGHT_TORSION.iter() {
            let p = Point(t.compress().0);
            let err = p.validate().unwrap_err();
            assert!(
                matches!(err, Error::IdentityPoint | Error::SmallOrderPoint),
                "{err:?}"
            );
        }
        // A prime-order point plus a torsion component.
        let mixed = curve25519_dalek::constants::ED25519_BASEPOINT_POINT + EIGHT_TORSION[1];
        assert_eq!(
            Point(mixed.compress().0).validate(),
            Err(Error::SmallOrderPoint)
        );
    }

    #[test]
    fn non_canonical_rejected() {
        // y = p (≡ 0) encoded unreduced.
        let mut b = [0xffu8; 32];
        b[0] = 0xed;
        b[31] = 0x7f;
        assert_eq!(Point(b).validate(), Err(Error::NonCanonicalPoint));
        // y = p + 1 (≡ 1, the identity) encoded unreduced.
        b[0] = 0xee;
        assert_eq!(Point(b).validate(), Err(Error::NonCanonicalPoint));
    }

    #[test]
    fn off_curve_rejected() {
        // The first small y that is not the y of any curve point.
        let b = (2u8..=255)
            .map(|y| {
                let mut b = [0u8; 32];
                b[0] = y;
                b
            })
            .find(|b| {
                curve25519_dalek::edwards::CompressedEdwardsY(*b)
                    .decompress()
                    .is_none()
            })
            .unwrap();
        assert_eq!(Point(b).validate(), Err(Error::InvalidPoint));
    }

    #[test]
    fn msm_length_mismatch_is_an_encoding_error() {
        assert_eq!(
            msm(&[Scalar::ONE, Scalar::ONE], &[BASEPOINT]),
            Err(Error::Encoding("msm length mismatch"))
        );
        assert_eq!(
            msm(&[Scalar::ONE], &[]),
            Err(Error::Encoding("msm length mismatch"))
        );
        // More than MSM_MAX terms, same lengths: too many contributions.
        let ks = [Scalar::ONE; MSM_MAX + 1];
        let ps = [BASEPOINT; MSM_MAX + 1];
        assert_eq!(msm(&ks, &ps), Err(Error::TooManyContributions(MSM_MAX + 1)));
        // MSM_MAX terms are fine.
        let sum = msm(&ks[..MSM_MAX], &ps[..MSM_MAX]).unwrap();
        assert_eq!(sum, BASEPOINT.mul(&Scalar::from(MSM_MAX as u64)).unwrap());
    }

    #[test]
    fn non_canonical_scalar_rejected() {
        assert_eq!(
            scalar_from_canonical(&[0xff; 32]),
            Err(Error::NonCanonicalScalar)
        );
    }
}
