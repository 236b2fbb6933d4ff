//! Helpers shared by instructions (not instructions themselves).

pub mod access;
pub mod accounts;
pub mod checks;
pub mod share;
