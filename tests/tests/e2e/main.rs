//! The end-to-end test binary: the client, the program and real node tasks
//! (or real processes, for `localnet`), one module per command or flow. The
//! setup lives in the testkit (`medshare_tests`, `tests/src`).

mod cli;
mod cli_consent;
mod consent;
mod fhir;
mod localnet;
mod node_cli;
mod nodes;
mod research;
mod rpc_faults;
