use anchor_lang::prelude::*;

/// A node's service record: what the program accepted and rejected from it
/// over the cluster's life. One account per node, so that contributions of
/// different nodes write disjoint accounts and only read the cluster
/// account: they no longer queue behind one another on it.
#[account(discriminator = &crate::state::layout::NODE_RECORD)]
#[derive(InitSpace)]
pub struct NodeRecord {
    /// Cluster.
    pub cluster: Pubkey,
    /// The node's signing authority.
    pub node: Pubkey,
    /// The node's index `i` (position `i − 1` in the cluster's node list).
    pub index: u8,
    /// Contributions accepted.
    pub contributions: u64,
    /// Contributions rejected for a bad proof.
    pub faults: u32,
    /// PDA bump.
    pub bump: u8,
}

impl NodeRecord {
    /// Checked wherever a handler writes a node record: a node index in
    /// range, its cluster and authority set.
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.index >= 1 && self.index as usize <= crate::constants::MAX_NODES,
            crate::error::MedshareError::InvariantViolated
        );
        require!(
            self.cluster != Pubkey::default() && self.node != Pubkey::default(),
            crate::error::MedshareError::InvariantViolated
        );
        Ok(())
    }
}
