//! # mpc-node: the MedShare MPC node
//!
//! A node holds one Shamir share of its cluster's key and does three jobs,
//! all through the chain (see [`node`]):
//!
//! 1. **DKG**: with its peers, generates the cluster key (FROST's Pedersen
//!    DKG from `encrypted-ixs::dkg`), posting round-1 packages publicly and
//!    round-2 packages encrypted to each peer's transport key, then confirms
//!    the cluster key and verification shares it computed.
//! 2. **Contributions**: for every pending share computation of its cluster
//!    that chain state authorizes, posts its re-encryption contribution with
//!    its proof.
//! 3. **Callbacks**: once `t` contributions are in, one node (the one whose
//!    contribution was the `t`-th; others after a delay if it fails) posts
//!    the callback that combines them.
//!
//! The binary (`main.rs`) only parses arguments, sets up logging and prints
//! errors; every command runs in-process through [`cli::execute`], and tests
//! drive whole nodes through [`node::Node`] on the embedded chain.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "bench")]
pub mod bench;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod metrics;
pub mod node;

pub use node::{Behaviour, Node, NodeConfig, NodeError};
