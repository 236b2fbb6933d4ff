//! Keys: users' X25519 encryption keys and their Edwards form, node transport
//! keys, key shares (and, re-exported, node indices).
//!
//! ## Edwards form of an X25519 key (XEdDSA convention)
//!
//! A user holds an X25519 secret `a` and publishes `u = X25519(a, 9)`. Capsules
//! live on the Edwards curve, so the protocol uses `A = to_edwards(u, sign = 0)`,
//! the Edwards point with `y = (u − 1)/(u + 1)` and a positive `x`. The matching
//! scalar is `k = clamp(a)` if `k·B` has sign 0, else `−k mod l`, exactly as
//! `calculate_key_pair` in Signal's XEdDSA specification (Perrin, 2016, §2.3).
//! So any X25519 public key can be a recipient, and the one secret `a` opens
//! capsules for `A`. On-chain only the Edwards form travels; [`Point::validate`]
//! and a zero sign bit ([`is_xeddsa_form`]) make it the canonical one.

#[cfg(feature = "client")]
use borsh::{BorshDeserialize, BorshSerialize};
#[cfg(feature = "client")]
use core::fmt;
#[cfg(feature = "client")]
use curve25519_dalek::scalar::Scalar;

#[cfg(feature = "client")]
use crate::error::{Error, Result};
use crate::point::Point;

pub use crate::node_index::NodeIndex;

/// Whether an Edwards encoding has sign bit 0, the form `to_edwards(u, 0)`
/// gives for every X25519 key. Recipients are only accepted in this form so
/// that one X25519 key has exactly one on-chain encoding.
pub fn is_xeddsa_form(p: &Point) -> bool {
    p.0[31] & 0x80 == 0
}

#[cfg(feature = "client")]
pub use client::*;

#[cfg(feature = "client")]
mod client {
    use super::*;
    use curve25519_dalek::{edwards::EdwardsPoint, montgomery::MontgomeryPoint};
    use rand_core::{CryptoRng, RngCore};
    use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

    /// A user's X25519 secret key `a`. Zeroized on drop; `Debug` is redacted.
    #[derive(Clone, Zeroize, ZeroizeOnDrop)]
    pub struct UserSecretKey([u8; 32]);

    impl fmt::Debug for UserSecretKey {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("UserSecretKey(<redacted>)")
        }
    }

    impl UserSecretKey {
        /// A fresh random key.
        pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
            let mut b = [0u8; 32];
            rng.fill_bytes(&mut b);
            UserSecretKey(b)
        }

        /// From the 32 secret bytes (any 32 bytes are a valid X25519 secret).
        pub fn from_bytes(bytes: [u8; 32]) -> Self {
            UserSecretKey(bytes)
        }

        /// The 32 secret bytes, zeroized when dropped.
        pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
            Zeroizing::new(self.0)
        }

        /// The X25519 public key `u = X25519(a, 9)`.
        pub fn public_key(&self) -> UserPublicKey {
            let s = x25519_dalek::StaticSecret::from(self.0);
            UserPublicKey(x25519_dalek::PublicKey::from(&s).to_bytes())
        }

        /// The Edwards scalar `±clamp(a) mod l` matching [`UserPublicKey::edwards`].
        pub(crate) fn edwards_scalar(&self) -> Zeroizing<Scalar> {
            let k = Zeroizing::new(Scalar::from_bytes_mod_order(
                curve25519_dalek::scalar::clamp_integer(self.0),
            ));
            let a = EdwardsPoint::mul_base(&k).compress();
            if a.0[31] & 0x80 != 0 {
                Zeroizing::new(-*k)
            } else {
                k
            }
        }
    }

    /// A user's X25519 public key `u` (32 bytes, as in RFC 7748).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
    pub struct UserPublicKey(pub [u8; 32]);

    impl fmt::Debug for UserPublicKey {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "UserPublicKey({})", hex32(&self.0))
        }
    }

    impl UserPublicKey {
        /// The Edwards form `A = to_edwards(u, 0)`, validated: refuses keys whose
        /// Edwards form is the identity, of small order, or has a torsion component.
        pub fn edwards(&self) -> Result<Point> {
            let a = MontgomeryPoint(self.0)
                .to_edwards(0)
                .ok_or(Error::InvalidPublicKey)?;
            let p = Point(a.compress().0);
            p.validate().map_err(|_| Error::InvalidPublicKey)?;
            Ok(p)
        }

        /// The X25519 key whose Edwards form is `p` (`u = (1 + y)/(1 − y)`).
        pub fn from_edwards(p: &Point) -> Result<Self> {
            let e = curve25519_dalek::edwards::CompressedEdwardsY(p.0)
                .decompress()
                .ok_or(Error::InvalidPublicKey)?;
            Ok(UserPublicKey(e.to_montgomery().0))
        }

        /// Takes exactly 32 raw bytes (the X25519 public key `u`, not hex or
        /// base58) and checks that the key has a valid Edwards form
        /// ([`UserPublicKey::edwards`]). A wrong length is
        /// [`Error::MalformedKey`]; a key without a valid Edwards form (low
        /// order, or with a torsion component) is [`Error::InvalidPublicKey`].
        pub fn from_slice(bytes: &[u8]) -> Result<Self> {
            let b: [u8; 32] = bytes.try_into().map_err(|_| Error::MalformedKey)?;
            let k = UserPublicKey(b);
            k.edwards()?;
            Ok(k)
        }
    }

    /// A node's X25519 transport secret, used only to decrypt DKG round-2
    /// packages addressed to it. Zeroized on drop; `Debug` redacted.
    #[derive(Clone, Zeroize, ZeroizeOnDrop)]
    pub struct TransportSecret([u8; 32]);

    impl fmt::Debug for TransportSecret {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("TransportSecret(<redacted>)")
        }
    }

    impl TransportSecret {
        /// A fresh random transport key.
        pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
            let mut b = [0u8; 32];
            rng.fill_bytes(&mut b);
            TransportSecret(b)
        }

        /// From the 32 secret bytes.
        pub fn from_bytes(bytes: [u8; 32]) -> Self {
            TransportSecret(bytes)
        }

        /// The 32 secret bytes, zeroized when dropped.
        pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
            Zeroizing::new(self.0)
        }

        /// The public half.
        pub fn public_key(&self) -> TransportPublic {
            let s = x25519_dalek::StaticSecret::from(self.0);
            TransportPublic(x25519_dalek::PublicKey::from(&s).to_bytes())
        }

        /// X25519 with a peer's public key; refuses an all-zero (small-order) result.
        pub fn diffie_hellman(&self, peer: &TransportPublic) -> Result<Zeroizing<[u8; 32]>> {
            let s = x25519_dalek::StaticSecret::from(self.0);
            let shared = s.diffie_hellman(&x25519_dalek::PublicKey::from(peer.0));
            if !shared.was_contributory() {
                return Err(Error::InvalidPublicKey);
            }
            Ok(Zeroizing::new(shared.to_bytes()))
        }
    }

    /// A node's X25519 transport public key, published when it registers.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
    pub struct TransportPublic(pub [u8; 32]);

    impl fmt::Debug for TransportPublic {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "TransportPublic({})", hex32(&self.0))
        }
    }

    /// A node's Shamir share `s_i` of the cluster key, with the public values
    /// it goes with. Zeroized on drop; `Debug` redacted. Serializes (for
    /// encrypted storage at rest only) with [`KeyShare::to_bytes`].
    #[derive(Clone, Zeroize, ZeroizeOnDrop)]
    pub struct KeyShare {
        #[zeroize(skip)]
        index: NodeIndex,
        secret: Scalar,
        #[zeroize(skip)]
        verification_share: Point,
        #[zeroize(skip)]
        cluster_key: Point,
        #[zeroize(skip)]
        threshold: u16,
    }

    impl fmt::Debug for KeyShare {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("KeyShare")
                .field("index", &self.index)
                .field("secret", &"<redacted>")
                .field("verification_share", &self.verification_share)
                .field("cluster_key", &self.cluster_key)
                .field("threshold", &self.threshold)
                .finish()
        }
    }

    /// Length of [`KeyShare::to_bytes`].
    pub const KEY_SHARE_LEN: usize = 1 + 2 + 32 + 32 + 32 + 2;
    const KEY_SHARE_VERSION: u8 = 1;

    impl KeyShare {
        /// Assembles a share, computing its verification share `V_i = s_i·B`
        /// from `secret` (nothing to check it against: to check a stored
        /// `V_i`, use [`KeyShare::from_bytes`], or compare
        /// [`KeyShare::verification_share`] with the published one).
        ///
        /// Validates `cluster_key` ([`Point::validate`], its error is
        /// returned) and the threshold: `1 ≤ threshold ≤ MAX_NODES`, else
        /// [`Error::InvalidThreshold`] with `n = MAX_NODES`, because a share
        /// does not know its cluster's size and `MAX_NODES` bounds every one.
        pub fn new(
            index: NodeIndex,
            secret: Scalar,
            cluster_key: Point,
            threshold: u16,
        ) -> Result<Self> {
            if threshold == 0 || threshold as usize > crate::MAX_NODES {
                return Err(Error::InvalidThreshold {
                    t: threshold,
                    n: crate::MAX_NODES as u16,
                });
            }
            cluster_key.validate()?;
            let v = Point(EdwardsPoint::mul_base(&secret).compress().0);
            Ok(KeyShare {
                index,
                secret,
                verification_share: v,
                cluster_key,
                threshold,
            })
        }

        /// This node's index.
        pub fn index(&self) -> NodeIndex {
            self.index
        }

        /// `V_i = s_i·B`.
        pub fn verification_share(&self) -> Point {
            self.verification_share
        }

        /// The cluster key `P`.
        pub fn cluster_key(&self) -> Point {
            self.cluster_key
        }

        /// The threshold `t`.
        pub fn threshold(&self) -> u16 {
            self.threshold
        }

        pub(crate) fn secret(&self) -> &Scalar {
            &self.secret
        }

        /// Serializes for encrypted storage (version ‖ index ‖ s_i ‖ V_i ‖ P ‖ t).
        /// The buffer is zeroized on drop; never write it anywhere unencrypted.
        pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
            let mut v = Zeroizing::new(Vec::with_capacity(KEY_SHARE_LEN));
            v.push(KEY_SHARE_VERSION);
            v.extend_from_slice(&self.index.get().to_le_bytes());
            v.extend_from_slice(self.secret.as_bytes());
            v.extend_from_slice(&self.verification_share.0);
            v.extend_from_slice(&self.cluster_key.0);
            v.extend_from_slice(&self.threshold.to_le_bytes());
            v
        }

        /// Parses [`KeyShare::to_bytes`]; checks the stored `V_i` equals `s_i·B`
        /// ([`Error::MalformedKey`] if not) and validates the rest as
        /// [`KeyShare::new`] does.
        pub fn from_bytes(b: &[u8]) -> Result<Self> {
            if b.len() != KEY_SHARE_LEN {
                return Err(Error::MalformedKey);
            }
            if b[0] != KEY_SHARE_VERSION {
                return Err(Error::UnsupportedVersion(b[0]));
            }
            let index = NodeIndex::new(u16::from_le_bytes([b[1], b[2]]))?;
            let mut sb = Zeroizing::new([0u8; 32]);
            sb.copy_from_slice(&b[3..35]);
            let secret = crate::point::scalar_from_canonical(&sb)?;
            let v = Point(b[35..67].try_into().expect("32 bytes"));
            let p = Point(b[67..99].try_into().expect("32 bytes"));
            let t = u16::from_le_bytes([b[99], b[100]]);
            let share = KeyShare::new(index, secret, p, t)?;
            if share.verification_share != v {
                return Err(Error::MalformedKey);
            }
            Ok(share)
        }
    }

    pub(crate) fn hex32(b: &[u8; 32]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
