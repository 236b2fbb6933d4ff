//! DKG over the chain: registering the transport key, the two FROST
//! rounds through the nodes' mailboxes, confirmation, and complaints about
//! faulty round-2 packages.

use std::collections::BTreeMap;

use encrypted_ixs::dkg::{self, DkgParams, Peer};
use encrypted_ixs::keys::{NodeIndex, TransportSecret};
use medshare::state::{Cluster, DkgMailbox};
use medshare_sdk::chain::{fetch_many, ChainError};
use medshare_sdk::ix;
use rand_core::OsRng;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;
use tracing::{info, warn};
use zeroize::Zeroizing;

#[cfg(feature = "fault-injection")]
use super::Behaviour;
use super::{index_of, mask_bit, Node, NodeError};

/// Round-2 packages per transaction (5 × ~85 bytes stays well under 1,232).
pub const ROUND2_PER_TX: usize = 5;

impl Node {
    /// Registers this node's transport key (the admin must have added it).
    pub async fn register(&mut self, pos: usize) -> Result<(), NodeError> {
        let me = index_of(pos)?;
        self.store.secrets.cluster = self.cfg.cluster.to_bytes();
        self.store.save()?;
        let ix = ix::register_node(
            self.authority.pubkey(),
            self.cfg.cluster,
            me.get() as u8,
            self.store.secrets.transport().public_key().0,
        );
        self.send_node_ix(&[ix]).await?;
        info!(index = me.get(), "registered transport key");
        Ok(())
    }

    async fn send_node_ix(
        &self,
        ixs: &[solana_sdk::instruction::Instruction],
    ) -> Result<(), ChainError> {
        self.chain.send(ixs, &[&*self.authority]).await.map(|_| ())
    }

    fn params(&self, cluster: &Cluster) -> DkgParams {
        DkgParams {
            cluster: self.cfg.cluster.to_bytes(),
            threshold: cluster.threshold as u16,
            nodes: cluster.size as u16,
            attempt: cluster.dkg_attempt,
        }
    }

    /// The next DKG step this node owes, if any (single-node clusters
    /// confirm at once); returns the transactions sent.
    pub(super) async fn dkg_step(
        &mut self,
        cluster: &Cluster,
        pos: usize,
    ) -> Result<u32, NodeError> {
        let me = index_of(pos)?;
        let mine = cluster.nodes[pos];
        let n = cluster.size as usize;
        if mine.confirmed {
            return Ok(0);
        }
        if n == 1 {
            let out = dkg::single_node(&mut OsRng)?;
            return self.confirm(out).await.map(|_| 1);
        }
        let params = self.params(cluster);
        if !mine.round1_posted {
            let (secret, package) = dkg::round1(&mut OsRng, &params, me)?;
            // This attempt's transport key: round-2 packages to this
            // node are encrypted to it, and it is erased at confirmation.
            let ephemeral = TransportSecret::generate(&mut OsRng);
            // Keep the secrets before publishing, so a crash cannot orphan a
            // posted package: the ephemeral secret, then the round-1 secret.
            let mut blob = ephemeral.to_bytes().to_vec();
            blob.extend_from_slice(&secret.to_bytes()?);
            self.store.secrets.dkg_round1 = Some(blob);
            self.store.save()?;
            let ix = ix::post_dkg_round1(
                self.authority.pubkey(),
                self.cfg.cluster,
                me.get() as u8,
                package,
                ephemeral.public_key().0,
            );
            self.send_node_ix(&[ix]).await?;
            info!(index = me.get(), "DKG round 1 posted");
            return Ok(1);
        }
        if !cluster.nodes.iter().all(|node| node.round1_posted) {
            return Ok(0);
        }
        let everyone = ((1u32 << n) - 1) as u16;
        let expected = everyone & !mask_bit(me);
        let mailboxes = self.mailboxes(cluster).await?;
        let peers = peers(cluster, &mailboxes, me);
        if mine.round2_sent != expected {
            let (transport, secret1) = self.round1_state()?;
            let secret1 = secret1.ok_or(NodeError::DkgStateLost)?;
            #[allow(unused_mut)]
            let (secret2, mut packages) =
                dkg::round2(&mut OsRng, &params, me, secret1, &transport, &peers)?;
            #[cfg(feature = "fault-injection")]
            if self.cfg.behaviour == Behaviour::CorruptDkgPackage {
                if let Some(package) = packages.iter_mut().min_by_key(|package| package.to) {
                    package.ciphertext[0] ^= 1;
                }
            }
            self.store.secrets.dkg_round2 = Some(secret2.to_bytes()?.to_vec());
            self.store.save()?;
            let todo: Vec<_> = packages
                .into_iter()
                .filter(|package| mine.round2_sent & (1 << (package.to - 1)) == 0)
                .collect();
            let mut sent = 0;
            for chunk in todo.chunks(ROUND2_PER_TX) {
                let packages = medshare_sdk::codec::round2_args(chunk);
                let ix = ix::post_dkg_round2(
                    self.authority.pubkey(),
                    self.cfg.cluster,
                    me.get() as u8,
                    packages,
                );
                self.send_node_ix(&[ix]).await?;
                sent += 1;
            }
            info!(index = me.get(), "DKG round 2 posted");
            return Ok(sent);
        }
        let all_sent = cluster
            .nodes
            .iter()
            .enumerate()
            .all(|(i, node)| node.round2_sent == everyone & !(1u16 << i));
        if !all_sent {
            return Ok(0);
        }
        let r2 = self
            .store
            .secrets
            .dkg_round2
            .clone()
            .ok_or(NodeError::DkgStateLost)?;
        let secret2 = dkg::Round2Secret::from_bytes(&r2)?;
        let inbox = medshare_sdk::codec::dkg_inbox(mailboxes.values(), me);
        let (transport, _) = self.round1_state()?;
        match dkg::finish(&params, me, &secret2, &transport, &peers, &inbox) {
            Ok(out) => self.confirm(out).await.map(|_| 1),
            Err(encrypted_ixs::Error::DkgCulprit { culprit, reason })
                if COMPLAINABLE.contains(&reason) =>
            {
                // A faulty package to us: complain publicly, revealing this
                // attempt's key so anyone can judge; the attempt fails.
                warn!(
                    accused = culprit.get(),
                    reason, "DKG package faulty; posting a complaint"
                );
                let ix = ix::post_dkg_complaint(
                    self.authority.pubkey(),
                    self.cfg.cluster,
                    me.get() as u8,
                    culprit.get() as u8,
                    *transport.to_bytes(),
                );
                self.send_node_ix(&[ix]).await?;
                Ok(1)
            }
            Err(e) => {
                warn!(error = %e, "DKG finish failed");
                Err(e.into())
            }
        }
    }

    /// This attempt's ephemeral transport secret and the round-1 secret, from
    /// the sealed store (`[ephemeral (32 B) ‖ round-1 secret]`).
    fn round1_state(&self) -> Result<(TransportSecret, Option<dkg::Round1Secret>), NodeError> {
        let blob = self
            .store
            .secrets
            .dkg_round1
            .as_deref()
            .filter(|blob| blob.len() > 32)
            .ok_or(NodeError::DkgStateLost)?;
        let mut eph = Zeroizing::new([0u8; 32]);
        eph.copy_from_slice(&blob[..32]);
        let secret1 = dkg::Round1Secret::from_bytes(&blob[32..]).ok();
        Ok((TransportSecret::from_bytes(*eph), secret1))
    }

    async fn confirm(&mut self, out: dkg::DkgOutput) -> Result<(), NodeError> {
        self.store.secrets.key_share = Some(out.share.to_bytes().to_vec());
        self.store.secrets.dkg_round1 = None;
        self.store.secrets.dkg_round2 = None;
        self.store.secrets.cluster = self.cfg.cluster.to_bytes();
        self.store.save()?;
        let ix = ix::confirm_dkg(
            self.authority.pubkey(),
            self.cfg.cluster,
            medshare::instructions::ConfirmDkgArgs {
                cluster_key: out.cluster_key.0,
                verification_shares: out
                    .verification_shares
                    .iter()
                    .map(|(_, share)| share.0)
                    .collect(),
            },
        );
        self.send_node_ix(&[ix]).await?;
        info!(cluster_key = %hex::encode(out.cluster_key.0), "DKG confirmed");
        Ok(())
    }

    async fn mailboxes(&self, cluster: &Cluster) -> Result<BTreeMap<u16, DkgMailbox>, NodeError> {
        let addrs: Vec<Pubkey> = (1..=cluster.size)
            .map(|i| medshare::pda::dkg_mailbox(&self.cfg.cluster, i))
            .collect();
        let boxes = fetch_many::<DkgMailbox>(self.chain.as_ref(), &addrs).await?;
        Ok(boxes
            .into_iter()
            .flatten()
            .map(|mb| (mb.index as u16, mb))
            .collect())
    }
}

/// DKG failures a node complains about publicly (its package from the
/// culprit is faulty); others (a missing package, a bad proof of knowledge,
/// visible to everyone already) are only logged.
const COMPLAINABLE: [&str; 3] = [
    "undecryptable round-2 package",
    "malformed round-2 package",
    "secret share inconsistent with its commitments",
];

/// The other nodes' round-1 packages and this attempt's transport keys, as
/// `me` sees them in the mailboxes.
pub(super) fn peers(
    cluster: &Cluster,
    mailboxes: &BTreeMap<u16, DkgMailbox>,
    me: NodeIndex,
) -> BTreeMap<NodeIndex, Peer> {
    medshare_sdk::codec::dkg_peers(cluster.size as u16, mailboxes, me)
}
