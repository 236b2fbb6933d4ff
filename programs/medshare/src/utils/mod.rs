//! Helpers shared by instructions (not instructions themselves).

pub mod access;
pub mod accounts;
