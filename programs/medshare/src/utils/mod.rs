//! Helpers shared by instructions (not instructions themselves).

pub mod accounts;
