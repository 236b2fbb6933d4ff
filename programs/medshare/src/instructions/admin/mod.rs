//! Cluster administration.

pub mod add_node;
pub mod close;
pub mod init_cluster;
pub mod lifecycle;

pub use add_node::*;
pub use close::*;
pub use init_cluster::*;
pub use lifecycle::*;
