//! Node indices: a node's place in its cluster, the Shamir `x` of its
//! share. Its own module (with its own error) so that the crate's error
//! type can name nodes without a cycle.

use borsh::{BorshDeserialize, BorshSerialize};
use core::fmt;
use curve25519_dalek::scalar::Scalar;

/// A node index of zero or above [`crate::MAX_NODES`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[error("invalid node index {0}")]
pub struct InvalidNodeIndex(pub u16);

/// A node's index in its cluster, `1..=n`: the `x` at which its Shamir share
/// of the cluster key is the polynomial's value.
///
/// Always in `1..=MAX_NODES`: [`NodeIndex::new`] and borsh deserialization
/// (a `u16`, little-endian) both refuse anything else, so index 0 (the Shamir
/// `x` at which the polynomial's value is the cluster secret itself) can never
/// be constructed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, BorshSerialize)]
pub struct NodeIndex(u16);

impl BorshDeserialize for NodeIndex {
    /// Reads a `u16` and refuses `0` and anything above [`crate::MAX_NODES`]
    /// with an [`borsh::io::ErrorKind::InvalidData`] error.
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let i = u16::deserialize_reader(reader)?;
        NodeIndex::new(i).map_err(|_| {
            borsh::io::Error::new(
                borsh::io::ErrorKind::InvalidData,
                "node index out of range 1..=MAX_NODES",
            )
        })
    }
}

impl NodeIndex {
    /// Index 1, the smallest (a filler for fixed-size arrays).
    pub const MIN: NodeIndex = NodeIndex(1);

    /// A node index; zero and anything above [`crate::MAX_NODES`] are
    /// refused ([`InvalidNodeIndex`], which converts into
    /// [`crate::Error::InvalidNodeIndex`]).
    pub fn new(i: u16) -> Result<Self, InvalidNodeIndex> {
        if i == 0 || i as usize > crate::MAX_NODES {
            return Err(InvalidNodeIndex(i));
        }
        Ok(NodeIndex(i))
    }

    /// The index as a number.
    pub fn get(self) -> u16 {
        self.0
    }

    /// The index as a scalar (the Shamir `x`).
    pub fn scalar(self) -> Scalar {
        Scalar::from(self.0 as u64)
    }
}

impl fmt::Display for NodeIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
