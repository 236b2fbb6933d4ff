//! One module per instruction, grouped by who calls it.

pub mod admin;
pub mod node;
pub mod provider;
pub mod research;
pub mod user;

pub use admin::*;
pub use node::*;
pub use provider::*;
pub use research::*;
pub use user::*;
