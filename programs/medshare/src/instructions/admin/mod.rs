//! Cluster administration.

pub mod add_node;
pub mod close_admin_accounts;
pub mod init_cluster;
pub mod lifecycle;
pub mod replace_node;

pub use add_node::*;
pub use close_admin_accounts::*;
pub use init_cluster::*;
pub use lifecycle::*;
pub use replace_node::*;
