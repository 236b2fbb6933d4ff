use anchor_lang::prelude::*;

use crate::constants::{MAX_NODES, MAX_PEERS, MAX_ROUND1_LEN, MAX_ROUND2_CIPHERTEXT};
use crate::error::MedshareError;

/// A round-2 package encrypted to its addressee's transport key.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, PartialEq, Eq, Debug, InitSpace)]
pub struct Round2Package {
    /// Addressee's node index.
    pub to: u8,
    /// AEAD nonce.
    pub nonce: [u8; 12],
    /// ChaCha20-Poly1305 ciphertext of the `frost` round-2 package.
    #[max_len(MAX_ROUND2_CIPHERTEXT)]
    pub ciphertext: Vec<u8>,
}

/// A node's DKG bulletin-board entry: its public round-1 package and the
/// round-2 packages it sent (each encrypted to one peer).
#[account(discriminator = &crate::state::layout::DKG_MAILBOX)]
#[derive(InitSpace)]
pub struct DkgMailbox {
    /// Cluster.
    pub cluster: Pubkey,
    /// Sender's node index.
    pub index: u8,
    /// The cluster's DKG attempt the packages belong to (a new attempt's
    /// round-1 post clears the old attempt's packages).
    pub attempt: u32,
    /// The node's X25519 key for this attempt only: round-2 packages to the
    /// node are encrypted to it, and the node erases its secret once it has
    /// confirmed, so a later leak of any long-lived key opens nothing posted
    /// here.
    pub ephemeral_key: [u8; 32],
    /// The node this node complained against in this attempt (0: none).
    pub complaint_against: u8,
    /// The ephemeral secret revealed with the complaint (the attempt is void
    /// by then), so anyone can judge it (`encrypted_ixs::dkg::verify_complaint`).
    pub revealed_secret: [u8; 32],
    /// Serialized `frost` round-1 package.
    #[max_len(MAX_ROUND1_LEN)]
    pub round1: Vec<u8>,
    /// Encrypted round-2 packages sent by this node.
    #[max_len(MAX_PEERS)]
    pub round2: Vec<Round2Package>,
    /// PDA bump.
    pub bump: u8,
}

impl DkgMailbox {
    /// Checked wherever a handler writes a mailbox: a node index in range,
    /// packages within their limits, each addressed to another node in range.
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.index >= 1 && self.index as usize <= MAX_NODES,
            MedshareError::InvariantViolated
        );
        require!(
            self.round1.len() <= MAX_ROUND1_LEN,
            MedshareError::InvariantViolated
        );
        require!(
            self.round2.len() <= MAX_PEERS,
            MedshareError::InvariantViolated
        );
        for p in &self.round2 {
            require!(
                p.to >= 1
                    && p.to as usize <= MAX_NODES
                    && p.to != self.index
                    && p.ciphertext.len() <= MAX_ROUND2_CIPHERTEXT,
                MedshareError::InvariantViolated
            );
        }
        require!(
            self.complaint_against as usize <= MAX_NODES,
            MedshareError::InvariantViolated
        );
        Ok(())
    }
}
