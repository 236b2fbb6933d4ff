//! # medshare-client
//!
//! The `medshare` CLI's library: patient data and field groups ([`data`]),
//! what users do on-chain ([`ops`]), the audit trail ([`audit`]), a local
//! cluster of node tasks ([`cluster`]), the demo ([`demo`]) and a local
//! network of separate processes ([`localnet`]). The binary
//! ([`cli`]) parses arguments and prints; tests call [`cli::execute`] with an
//! embedded chain.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod audit;
pub mod cli;
pub mod cluster;
pub mod consent;
pub mod data;
pub mod demo;
pub mod error;
pub mod localnet;
pub mod ops;
pub mod wallet;
