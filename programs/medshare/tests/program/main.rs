//! The program's tests, one binary: natively (`processor!`) by default, on
//! the SBF ELF with `MEDSHARE_SBF=1` (`common::Env` chooses). One module per
//! instruction family; instructions come from the SDK's builders
//! (`medshare_sdk::ix`) except where a test builds a malformed one on purpose.

mod common;

mod callback;
mod close_share;
mod closing;
mod compute_units;
mod consent;
mod contributions;
mod dkg;
mod limits;
mod prefunded;
mod records;
mod research;
mod share;
mod share_flow;
