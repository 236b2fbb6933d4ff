//! Cluster administration.

pub mod add_node;
pub mod init_cluster;

pub use add_node::*;
pub use init_cluster::*;
