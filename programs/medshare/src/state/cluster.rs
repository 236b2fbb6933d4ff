use anchor_lang::prelude::*;

use crate::constants::MAX_NODES;
use crate::error::MedshareError;

/// Where a cluster is in its life.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum ClusterStatus {
    /// Nodes are being added and registering transport keys.
    Registering,
    /// All `n` nodes registered; the DKG runs.
    Dkg,
    /// All `n` confirmations agreed: the cluster serves computations.
    Ready,
    /// Confirmations disagreed; the cluster serves nothing until the admin
    /// restarts the DKG.
    Failed,
    /// Retired by the admin: no new records, shares or DKG; final.
    Retired,
}

/// One node of a cluster.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct NodeInfo {
    /// The node's signing authority.
    pub authority: Pubkey,
    /// Whether the node registered its transport key (and created its mailbox).
    pub registered: bool,
    /// X25519 transport key for encrypted DKG packages.
    pub transport_key: [u8; 32],
    /// Round-1 package posted.
    pub round1_posted: bool,
    /// Bit `j − 1` set once the round-2 package to node `j` is posted.
    pub round2_sent: u16,
    /// Confirmation posted.
    pub confirmed: bool,
    /// SHA-256 of the node's confirmation (`P ‖ V_1 ‖ … ‖ V_n`).
    pub confirmation: [u8; 32],
    /// Once all `n` confirmed: whether the node's confirmation is the one a
    /// strict majority posted (false for every node when there is none).
    pub agreed: bool,
    /// Verification share `V_i` (set when the cluster becomes ready).
    pub verification_share: [u8; 32],
}

impl NodeInfo {
    /// A node the admin just named: nothing registered or posted yet.
    pub fn unregistered(authority: Pubkey) -> Self {
        NodeInfo {
            authority,
            registered: false,
            transport_key: [0; 32],
            round1_posted: false,
            round2_sent: 0,
            confirmed: false,
            confirmation: [0; 32],
            agreed: false,
            verification_share: [0; 32],
        }
    }
}

/// A cluster of MPC nodes and its `share_patient_data` computation definition.
#[account(discriminator = &crate::state::layout::CLUSTER)]
#[derive(InitSpace)]
pub struct Cluster {
    /// Admin: adds nodes; can neither read nor set key material.
    pub admin: Pubkey,
    /// Admin-chosen id (PDA seed).
    pub cluster_id: u32,
    /// Threshold `t`.
    pub threshold: u8,
    /// Size `n`.
    pub size: u8,
    /// Life-cycle state.
    pub status: ClusterStatus,
    /// Computation definition: slots a share computation lives before it can be cancelled.
    pub computation_ttl_slots: u64,
    /// Id of the next computation (PDA seed).
    pub next_computation: u64,
    /// DKG attempt: 0 for the first, +1 on every `restart_dkg` (part of the
    /// DKG session id that round-2 encryption binds).
    pub dkg_attempt: u32,
    /// Cluster key `P` (zero until ready; the first confirmation until then).
    pub cluster_key: [u8; 32],
    /// The nodes, index `i` at position `i − 1`.
    #[max_len(MAX_NODES)]
    pub nodes: Vec<NodeInfo>,
    /// PDA bump.
    pub bump: u8,
    /// Studies opened in this cluster so far: the next study's number.
    pub next_study: u64,
}

impl Cluster {
    /// Position in `nodes` of a node authority.
    pub fn position_of(&self, authority: &Pubkey) -> Result<usize> {
        self.nodes
            .iter()
            .position(|n| n.authority == *authority)
            .ok_or_else(|| error!(MedshareError::NotClusterNode))
    }

    /// Starts a new DKG attempt: every node's round and confirmation flags,
    /// the cluster key and the verification shares are cleared, and
    /// `dkg_attempt` moves on (a new session: round-2 packages of an
    /// earlier attempt do not decrypt in it).
    pub fn reset_dkg(&mut self) -> Result<()> {
        self.dkg_attempt = self
            .dkg_attempt
            .checked_add(1)
            .ok_or(MedshareError::Overflow)?;
        self.cluster_key = [0; 32];
        for n in self.nodes.iter_mut() {
            n.round1_posted = false;
            n.round2_sent = 0;
            n.confirmed = false;
            n.confirmation = [0; 32];
            n.agreed = false;
            n.verification_share = [0; 32];
        }
        Ok(())
    }

    /// Requires the cluster to be ready.
    pub fn require_ready(&self) -> Result<()> {
        require!(
            self.status == ClusterStatus::Ready,
            MedshareError::ClusterNotReady
        );
        Ok(())
    }

    /// Checked at the end of every mutating handler.
    pub fn invariant(&self) -> Result<()> {
        let (t, n) = (self.threshold as usize, self.size as usize);
        require!(
            (t == 1 && n == 1) || (2 <= t && t <= n && n <= MAX_NODES),
            MedshareError::InvariantViolated
        );
        require!(self.nodes.len() <= n, MedshareError::InvariantViolated);
        if !matches!(
            self.status,
            ClusterStatus::Registering | ClusterStatus::Retired
        ) {
            require!(
                self.nodes.len() == n && self.nodes.iter().all(|x| x.registered),
                MedshareError::InvariantViolated
            );
        }
        Ok(())
    }
}
