//! # medshare-client
//!
//! The `medshare` CLI's library, on top of `medshare-sdk`: patient data and
//! field groups ([`data`]), what users do on-chain ([`ops`], [`consent`]),
//! the audit trail ([`audit`]), the demo ([`demo`], with `mpc-node`'s local
//! cluster of node tasks) and a local network of separate processes
//! ([`localnet`]). The binary parses arguments and prints; [`cli`] has one
//! module per command, and tests call [`cli::execute`] with an embedded chain.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod audit;
pub mod blobs;
pub mod cli;
pub mod consent;
pub mod contents;
pub mod data;
pub mod demo;
pub mod error;
pub mod localnet;
pub mod ops;
pub mod research;
pub mod wallet;
