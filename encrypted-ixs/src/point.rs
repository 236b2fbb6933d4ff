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

/// `l − 1`, little-endian: multiplying a point by it and comparing with its
/// negative checks that it has no torsion component.
const L_MINUS_ONE: [u8; 32] = [
    0xec, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

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
    /// subgroup (`(l−1)·P = −P`). One multiply syscall (2,177 CU): decoding
    /// fails inside it for a point off the curve, and `−P` is the encoding
    /// with its sign bit flipped ([`Point::neg`]), so no validate or subtract
    /// syscall is needed.
    pub fn validate(&self) -> Result<()> {
        self.check_encoding()?;
        let l_minus_one = PodScalar(L_MINUS_ONE);
        let lp = multiply_edwards(&l_minus_one, &self.pod()).ok_or(Error::InvalidPoint)?;
        if lp.0 != self.neg().0 {
            return Err(Error::SmallOrderPoint);
        }
        Ok(())
    }

    /// Canonical encoding, not the identity or the point of order 2, and on
    /// the curve; the subgroup is *not* checked. For points whose torsion
    /// component can hurt nobody but their author (see
    /// [`crate::binding::verify`]). One validate syscall (159 CU).
    pub fn check_decodes(&self) -> Result<()> {
        self.check_encoding()?;
        if !validate_edwards(&self.pod()) {
            return Err(Error::InvalidPoint);
        }
        Ok(())
    }

    /// Canonical encoding, and not the identity or the point of order 2;
    /// whether it is on the curve is left to whoever decodes it next (a
    /// multiscalar multiplication refuses a point off the curve). Software
    /// only: no syscall.
    pub fn check_encoding(&self) -> Result<()> {
        if !y_is_canonical(&self.0) {
            return Err(Error::NonCanonicalPoint);
        }
        if y_is_plus_minus_one(&self.0) {
            return Err(Error::IdentityPoint);
        }
        Ok(())
    }

    /// `−self`, by flipping the sign bit of the encoding (`−(x, y) = (−x, y)`).
    /// Exact for every point with `x ≠ 0`, i.e. all but the identity and the
    /// point of order 2, which [`Point::validate`] refuses; for those two the
    /// flipped encoding still decodes to the same point, which is its own
    /// negative. Costs nothing on-chain.
    pub fn neg(&self) -> Point {
        let mut b = self.0;
        b[31] ^= 0x80;
        Point(b)
    }

    /// The off-chain prover's [`Point::validate`]: the same checks with the
    /// same errors, returning the decoded point. Decodes once with
    /// `curve25519-dalek` and checks `(l−1)·P = −P` with a variable-time
    /// multiplication and a projective comparison (no compression). For
    /// public points only (a recipient key, a capsule's `E`).
    #[cfg(feature = "client")]
    pub(crate) fn decode_validated(&self) -> Result<curve25519_dalek::edwards::EdwardsPoint> {
        use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
        self.check_encoding()?;
        let p = CompressedEdwardsY(self.0)
            .decompress()
            .ok_or(Error::InvalidPoint)?;
        let l_minus_one = -Scalar::ONE;
        let lp = EdwardsPoint::vartime_double_scalar_mul_basepoint(&l_minus_one, &p, &Scalar::ZERO);
        if lp != -p {
            return Err(Error::SmallOrderPoint);
        }
        Ok(p)
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

/// `Σ kᵢ·Pᵢ` (no allocation on SBF: one `sol_curve_multiscalar_mul`
/// syscall).
///
/// Errors: [`Error::Encoding`]`("msm length mismatch")` if `scalars` and
/// `points` differ in length, [`Error::TooManyContributions`] if there are more
/// than [`MSM_MAX`] terms, [`Error::InvalidPoint`] if a point does not decode.
pub fn msm(scalars: &[Scalar], points: &[Point]) -> Result<Point> {
    if scalars.len() != points.len() {
        return Err(Error::Encoding("msm length mismatch"));
    }
    msm_with(scalars.len(), |k| (scalars[k].to_bytes(), points[k]))
}

/// `Σ_{k<n} kₖ·Pₖ` where `term(k)` gives the `k`-th scalar (canonical
/// encoding) and point: the terms are written straight into the syscall's
/// buffers (one frame of about 1 KiB, kept out of its callers' frames).
/// More than [`MSM_MAX`] terms is [`Error::TooManyContributions`]; a
/// non-canonical scalar or a point that does not decode is
/// [`Error::InvalidPoint`].
#[inline(never)]
pub fn msm_with(n: usize, term: impl Fn(usize) -> ([u8; 32], Point)) -> Result<Point> {
    if n > MSM_MAX {
        return Err(Error::TooManyContributions(n));
    }
    let mut ps = [PodScalar([0; 32]); MSM_MAX];
    let mut qs = [PodEdwardsPoint([0; 32]); MSM_MAX];
    for k in 0..n {
        let (s, p) = term(k);
        ps[k] = PodScalar(s);
        qs[k] = p.pod();
    }
    multiscalar_multiply_edwards(&ps[..n], &qs[..n])
        .map(|p| Point(p.0))
        .ok_or(Error::InvalidPoint)
}

/// `Σ kᵢ·Pᵢ` with scalars given as their canonical 32-byte encodings, as the
/// syscall takes them: no scalar arithmetic at all on the verifier's side. A
/// non-canonical scalar or a point that does not decode is
/// [`Error::InvalidPoint`] (the syscall refuses both). At most
/// [`MSM_SMALL`] terms: the proofs' equations are two or three terms long.
pub fn msm_bytes(scalars: &[[u8; 32]], points: &[Point]) -> Result<Point> {
    if scalars.len() != points.len() {
        return Err(Error::Encoding("msm length mismatch"));
    }
    if scalars.len() > MSM_SMALL {
        return Err(Error::TooManyContributions(scalars.len()));
    }
    let mut ps = [PodScalar([0; 32]); MSM_SMALL];
    let mut qs = [PodEdwardsPoint([0; 32]); MSM_SMALL];
    for (i, (k, p)) in scalars.iter().zip(points).enumerate() {
        ps[i] = PodScalar(*k);
        qs[i] = p.pod();
    }
    let n = scalars.len();
    multiscalar_multiply_edwards(&ps[..n], &qs[..n])
        .map(|p| Point(p.0))
        .ok_or(Error::InvalidPoint)
}

/// Most terms [`msm_bytes`] takes.
pub const MSM_SMALL: usize = 3;

/// Largest multiscalar multiplication this crate performs (aggregation of
/// [`crate::MAX_NODES`] contributions plus the capsule's `C`).
pub const MSM_MAX: usize = crate::MAX_NODES + 1;

/// Whether 32 bytes are a canonical scalar (`< l`), by comparing with `l`
/// from the most significant byte down: no scalar arithmetic.
pub fn scalar_is_canonical(bytes: &[u8; 32]) -> bool {
    let mut l = L_MINUS_ONE;
    l[0] += 1;
    for k in (0..32).rev() {
        if bytes[k] != l[k] {
            return bytes[k] < l[k];
        }
    }
    false
}

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
    fn l_minus_one_and_canonical_check_match_dalek() {
        assert_eq!(L_MINUS_ONE, (-Scalar::ONE).to_bytes());
        assert!(scalar_is_canonical(&L_MINUS_ONE));
        let mut l = L_MINUS_ONE;
        l[0] += 1;
        assert!(!scalar_is_canonical(&l));
        assert!(!scalar_is_canonical(&[0xff; 32]));
        assert!(scalar_is_canonical(&[0; 32]));
        let mut rng = rand_core::OsRng;
        for _ in 0..200 {
            let mut b = [0u8; 32];
            rand_core::RngCore::fill_bytes(&mut rng, &mut b);
            b[31] &= 0x1f;
            let dalek: bool = Scalar::from_canonical_bytes(b).is_some().into();
            assert_eq!(scalar_is_canonical(&b), dalek, "{b:?}");
        }
    }

    #[test]
    fn neg_flips_to_the_negative_point() {
        let p = BASEPOINT.mul(&Scalar::from(7u8)).unwrap();
        let sum = p.add(&p.neg()).unwrap();
        assert_eq!(sum, IDENTITY);
        p.neg().validate().unwrap();
    }

    /// The prover's `decode_validated` accepts and refuses exactly what
    /// `validate` does, with the same errors, and decodes to the same point.
    #[test]
    fn decode_validated_matches_validate() {
        use curve25519_dalek::edwards::EdwardsPoint;
        let mut cases: Vec<Point> = EIGHT_TORSION
            .iter()
            .map(|t| Point(t.compress().0))
            .collect();
        for k in 1u64..20 {
            let p = EdwardsPoint::mul_base(&Scalar::from(k * 7919));
            cases.push(Point(p.compress().0));
            cases.push(Point((-p).compress().0));
            for t in EIGHT_TORSION.iter() {
                cases.push(Point((p + t).compress().0));
            }
        }
        for y in 0u8..=40 {
            let mut b = [0u8; 32];
            b[0] = y;
            cases.push(Point(b));
            b[31] = 0x80;
            cases.push(Point(b));
        }
        let mut b = [0xffu8; 32];
        for low in [0xec, 0xed, 0xee, 0xf0] {
            b[0] = low;
            b[31] = 0x7f;
            cases.push(Point(b));
            b[31] = 0xff;
            cases.push(Point(b));
        }
        cases.push(IDENTITY.neg());
        for p in cases {
            let fast = p.decode_validated();
            assert_eq!(fast.as_ref().err(), p.validate().err().as_ref(), "{p:?}");
            if let Ok(q) = fast {
                assert_eq!(q.compress().0, p.0);
            }
        }
    }

    #[test]
    fn non_canonical_scalar_rejected() {
        assert_eq!(
            scalar_from_canonical(&[0xff; 32]),
            Err(Error::NonCanonicalScalar)
        );
    }
}
