//! Helpers shared by the test binaries of this crate (`mod common;`).

pub mod cli_env;
pub mod nodes_env;
