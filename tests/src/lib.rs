//! # medshare-tests: the testkit
//!
//! What the end-to-end binary (`tests/e2e`) builds its scenarios from:
//!
//! - [`cli_env`]: the chain (embedded, or the validator at
//!   `MEDSHARE_TEST_URL`), a local cluster of real node tasks, and users
//!   driven through the `medshare` CLI exactly as the binary parses argv;
//! - [`nodes_env`]: users driven through the client library, time bounds
//!   scaled to the chain, settle loops for history and audit reads, and the
//!   one hang guard ([`nodes_env::Watchdog`]).
#![forbid(unsafe_code)]

pub mod cli_env;
pub mod nodes_env;
