//! # medshare-client
//!
//! The `medshare` CLI's library, on top of `medshare-sdk`: patient data and
//! field groups ([`data`]), what users do ([`user`], one module per command
//! family), the demo ([`demo`], with `mpc-node`'s local cluster of node
//! tasks) and a local network of separate processes ([`localnet`]). The
//! binary parses arguments and prints; [`cli`] has one module per command
//! family under the same names as [`user`], and tests call
//! [`cli::execute`] with an embedded chain.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod blobs;
pub mod cli;
pub mod contents;
pub mod data;
pub mod demo;
pub mod error;
pub mod localnet;
pub mod user;
pub mod wallet;
