//! What a patient, provider or recipient does, over any [`Chain`].

use std::time::{Duration, Instant};

use anchor_lang::error::ErrorCode;
use encrypted_ixs::capsule::open;
use encrypted_ixs::keys::{UserPublicKey, UserSecretKey};
use encrypted_ixs::point::Point;
use encrypted_ixs::record::{open_group_with, open_own_group, seal_group};
use medshare::state::{Cluster, ClusterStatus, Identity, PatientRecord, Role, ShareResult};
use medshare_sdk::chain::{fetch, fetch_many, SharedChain};
pub use medshare_sdk::codec::record_ctx;
use medshare_sdk::codec::stored_to_sealed;
use medshare_sdk::ix::{self, ShareAccounts};
use rand_core::OsRng;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

use std::collections::HashSet;

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::blobs::{default_store_dir, BlobRef, BlobStore};
use crate::contents::{
    offchain_body, parse_body, Body, BodyError, Contents, INLINE_LIMIT, MAX_BODY,
};
use crate::error::{ClientError, Result};

/// How often [`Client::wait`] reads the share's accounts when no
/// transaction touching them lands.
pub const WAIT_POLL: Duration = Duration::from_millis(100);

/// A user: a wallet (signs, pays), an X25519 encryption key, and where
/// off-chain blobs go.
pub struct Client {
    /// The chain.
    pub chain: SharedChain,
    /// The wallet.
    pub wallet: Keypair,
    /// The encryption key.
    pub key: UserSecretKey,
    /// Where this user's blobs go (`None`: [`default_store_dir`], opened
    /// when first needed).
    pub blobs: Option<BlobStore>,
}

/// Who a share is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// Edwards form of the recipient's X25519 key.
    pub key: Point,
    /// Their wallet, if known (for their inbox).
    pub wallet: Option<Pubkey>,
}

/// A queued share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShareTicket {
    /// The computation account.
    pub computation: Pubkey,
    /// The share result account.
    pub share_result: Pubkey,
}

/// A decrypted share.
#[derive(Clone, Debug)]
pub struct OpenedShare {
    /// The record.
    pub record: Pubkey,
    /// Its owner.
    pub owner: Pubkey,
    /// Record version.
    pub version: u32,
    /// Groups received.
    pub groups: Vec<u8>,
    /// The contents of those groups.
    pub contents: Contents,
}

impl Client {
    /// A client for `wallet` with encryption key `key`.
    pub fn new(chain: SharedChain, wallet: Keypair, key: UserSecretKey) -> Self {
        Client {
            chain,
            wallet,
            key,
            blobs: None,
        }
    }

    /// The same client with its blobs in `store`.
    pub fn with_blobs(mut self, store: BlobStore) -> Self {
        self.blobs = Some(store);
        self
    }

    /// Where this user's blobs go.
    pub fn blob_store(&self) -> Result<BlobStore> {
        match &self.blobs {
            Some(b) => Ok(b.clone()),
            None => BlobStore::open(&default_store_dir().to_string_lossy()),
        }
    }

    /// The blob store if one is configured or the default one exists
    /// (without creating it).
    fn existing_blob_store(&self) -> Result<Option<BlobStore>> {
        match &self.blobs {
            Some(b) => Ok(Some(b.clone())),
            None if default_store_dir().is_dir() => Ok(Some(self.blob_store()?)),
            None => Ok(None),
        }
    }

    /// Where this user reads blob `r` of `record` from: the configured
    /// store, or the default one if it exists, each of which falls back to
    /// the locator; with neither, the store the locator names. Reading never
    /// creates a store.
    pub fn reader(&self, record: &Pubkey, r: &BlobRef) -> Result<BlobStore> {
        match self.existing_blob_store()? {
            Some(b) => Ok(b),
            None => BlobStore::at_locator(record, r),
        }
    }

    /// A decrypted group plaintext of `record` as its body: inline, or
    /// fetched from its blob (hash checked first).
    pub async fn read_body(&self, record: &Pubkey, plain: &[u8]) -> Result<Map<String, Value>> {
        let corrupt = |e: BodyError| ClientError::CorruptContents {
            what: "group",
            detail: e.0,
        };
        match parse_body(plain).map_err(corrupt)? {
            Body::Inline(m) => Ok(m),
            Body::Offchain(r) => {
                let bytes = self
                    .reader(record, &r)?
                    .get_bytes(record, &r, MAX_BODY)
                    .await?;
                match parse_body(&bytes).map_err(corrupt)? {
                    Body::Inline(m) => Ok(m),
                    Body::Offchain(_) => Err(corrupt(BodyError(
                        "an off-chain body points to another blob".into(),
                    ))),
                }
            }
        }
    }

    /// Merges decrypted group plaintexts into contents.
    async fn contents_of(
        &self,
        record: &Pubkey,
        plain: &[Zeroizing<Vec<u8>>],
        what: &'static str,
    ) -> Result<Contents> {
        let mut c = Contents::default();
        for p in plain {
            let body = self.read_body(record, p).await?;
            c.merge(body)
                .map_err(|e| ClientError::CorruptContents { what, detail: e.0 })?;
        }
        Ok(c)
    }

    /// The Edwards form of this user's key.
    pub fn encryption_key(&self) -> Point {
        self.key
            .public_key()
            .edwards()
            .expect("keys from X25519 secrets always have an Edwards form")
    }

    /// Registers (or updates) this wallet's encryption key and role.
    pub async fn register(&self, role: Role) -> Result<()> {
        let me = self.wallet.pubkey();
        let identity = medshare::pda::identity(&me);
        let args = medshare::instructions::IdentityArgs {
            encryption_key: self.encryption_key().0,
            role,
        };
        let exists = fetch::<Identity>(self.chain.as_ref(), &identity)
            .await?
            .is_some();
        let ix = if exists {
            ix::update_identity(me, args)
        } else {
            ix::register_identity(me, args)
        };
        self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok(())
    }

    /// A ready cluster.
    pub async fn ready_cluster(&self, cluster: &Pubkey) -> Result<Cluster> {
        let c: Cluster = fetch(self.chain.as_ref(), cluster)
            .await?
            .ok_or_else(|| ClientError::ClusterNotFound(cluster.to_string()))?;
        if c.status != ClusterStatus::Ready {
            return Err(ClientError::ClusterNotReady(cluster.to_string()));
        }
        Ok(c)
    }

    /// Stores `contents` as record `record_id` sealed to `cluster` (a new
    /// version if the record exists). A group body over [`INLINE_LIMIT`]
    /// goes to the blob store first, before anything changes on-chain; after
    /// the new version is written, blobs of this record that it no longer
    /// refers to are deleted from the store (a failure there is logged, not
    /// returned: the record is stored). Attachments must already be in the
    /// store (see [`BlobStore::put_file`]). Returns the record address and
    /// its version.
    pub async fn store(
        &self,
        cluster: &Pubkey,
        record_id: u64,
        contents: &Contents,
    ) -> Result<(Pubkey, u32)> {
        let bodies = contents.bodies();
        if bodies.is_empty() {
            return Err(ClientError::EmptyRecord);
        }
        let c = self.ready_cluster(cluster).await?;
        let owner = self.wallet.pubkey();
        let record = medshare::pda::record(&owner, record_id);
        let existing = fetch::<PatientRecord>(self.chain.as_ref(), &record).await?;
        if let Some(r) = &existing {
            if r.cluster != *cluster {
                return Err(ClientError::OtherCluster {
                    record_id,
                    cluster: r.cluster.to_string(),
                });
            }
        }
        // Every body, sealed off-chain where needed, before the version moves.
        let mut blobs = None;
        let mut keep: HashSet<String> = contents.blobs().map(|r| r.sha256.clone()).collect();
        let mut plain = Vec::with_capacity(bodies.len());
        for (g, body) in bodies {
            let bytes = Zeroizing::new(serde_json::to_vec(&body).expect("JSON"));
            let name = crate::data::GROUP_NAMES[g as usize];
            if bytes.len() as u64 > MAX_BODY {
                return Err(ClientError::GroupTooLarge {
                    group: name,
                    bytes: bytes.len(),
                    limit: MAX_BODY,
                });
            }
            if bytes.len() <= INLINE_LIMIT {
                plain.push((g, bytes));
                continue;
            }
            if blobs.is_none() {
                blobs = Some(self.blob_store()?);
            }
            let store = blobs.as_ref().expect("just opened");
            let r = store.put_bytes(&record, &bytes).await?;
            keep.insert(r.sha256.clone());
            let inline = Zeroizing::new(offchain_body(&r));
            if inline.len() > INLINE_LIMIT {
                return Err(ClientError::Store(format!(
                    "{}: the URL is too long for a blob reference to fit on-chain ({} bytes, at most {INLINE_LIMIT})",
                    store.url(),
                    inline.len()
                )));
            }
            plain.push((g, inline));
        }
        let version = match &existing {
            Some(r) => {
                let ix = ix::update_patient_data(owner, None, record);
                self.chain.send(&[ix], &[&self.wallet]).await?;
                r.version + 1
            }
            None => {
                // A record's owner needs an identity (it counts the owner's
                // records); a patient who never ran `register` gets one now,
                // with the key the record is sealed to.
                let mut ixs = Vec::with_capacity(2);
                let identity = medshare::pda::identity(&owner);
                if fetch::<Identity>(self.chain.as_ref(), &identity)
                    .await?
                    .is_none()
                {
                    ixs.push(ix::register_identity(
                        owner,
                        medshare::instructions::IdentityArgs {
                            encryption_key: self.encryption_key().0,
                            role: Role::Patient,
                        },
                    ));
                }
                ixs.push(ix::store_patient_data(owner, None, *cluster, record_id).0);
                self.chain.send(&ixs, &[&self.wallet]).await?;
                1
            }
        };
        let cluster_key = Point(c.cluster_key);
        for (g, bytes) in plain {
            let s = seal_group(
                &mut OsRng,
                &record_ctx(&owner, &record, g),
                version,
                &bytes,
                &cluster_key,
                &self.encryption_key(),
            )
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
            let write = ix::write_record_group(owner, None, record, s);
            let budget = ix::compute_budget(ix::WRITE_GROUP_COMPUTE_UNITS);
            self.chain.send(&[budget, write], &[&self.wallet]).await?;
        }
        // Blobs of earlier versions that this one no longer refers to.
        if let Some(b) = blobs.or(self.existing_blob_store()?) {
            if let Err(e) = b.delete_except(&record, &keep).await {
                tracing::warn!(%record, error = %e, "stored; blobs of earlier versions were not deleted (`erase` deletes them)");
            }
        }
        Ok((record, version))
    }

    /// Stores simple fields only (see [`Client::store`]).
    pub async fn store_fields(
        &self,
        cluster: &Pubkey,
        record_id: u64,
        data: &crate::data::PatientData,
    ) -> Result<(Pubkey, u32)> {
        self.store(cluster, record_id, &Contents::from_data(data.clone()))
            .await
    }

    /// Reads a record.
    pub async fn record(&self, record: &Pubkey) -> Result<PatientRecord> {
        fetch(self.chain.as_ref(), record)
            .await?
            .ok_or_else(|| ClientError::RecordNotFound(record.to_string()))
    }

    /// The owner decrypts their own record.
    pub async fn show(&self, record: &Pubkey) -> Result<(Contents, u32)> {
        let r = self.record(record).await?;
        if r.owner != self.wallet.pubkey() {
            return Err(ClientError::NotReadable {
                record: record.to_string(),
                owner: r.owner.to_string(),
            });
        }
        let mut plain = Vec::new();
        for g in &r.groups {
            let sealed = stored_to_sealed(g);
            let p = open_own_group(
                &sealed,
                &self.key,
                &record_ctx(&r.owner, record, g.group),
                r.version,
            )
            .map_err(|_| ClientError::WrongKey)?;
            plain.push(p);
        }
        Ok((self.contents_of(record, &plain, "record").await?, r.version))
    }

    /// Resolves a recipient: a wallet with a registered identity, or an X25519 key.
    pub async fn resolve_recipient(&self, who: &str) -> Result<Recipient> {
        let who = who.trim();
        if who.len() == 64 && who.chars().all(|c| c.is_ascii_hexdigit()) {
            let bad_key = || ClientError::BadRecipientKey(who.to_string());
            let bytes = hex::decode(who).map_err(|_| bad_key())?;
            let key = UserPublicKey::from_slice(&bytes)
                .and_then(|k| k.edwards())
                .map_err(|_| bad_key())?;
            return Ok(Recipient { key, wallet: None });
        }
        let wallet: Pubkey = who
            .parse()
            .map_err(|_| ClientError::BadRecipient(who.to_string()))?;
        let id: Identity = fetch(self.chain.as_ref(), &medshare::pda::identity(&wallet))
            .await?
            .ok_or_else(|| ClientError::NoIdentity(wallet.to_string()))?;
        Ok(Recipient {
            key: Point(id.encryption_key),
            wallet: Some(wallet),
        })
    }

    /// Queues a share of `group_mask` of `record` for `to`.
    pub async fn share(
        &self,
        record: &Pubkey,
        group_mask: u8,
        to: Recipient,
    ) -> Result<ShareTicket> {
        let r = self.record(record).await?;
        // A record with a provider policy needs the recipient's identity and
        // registry entries (the program checks them).
        let registry = match to.wallet {
            Some(w) => self.registry_for(&r, &w).await?,
            None => None,
        };
        let recipient_identity = match (r.required_roles != 0, to.wallet) {
            (true, Some(w)) => Some(medshare::pda::identity(&w)),
            _ => None,
        };
        let mut last = None;
        // The computation id is the cluster's counter; retry if another request took it first.
        for _ in 0..5 {
            let c: Cluster = fetch(self.chain.as_ref(), &r.cluster)
                .await?
                .ok_or_else(|| ClientError::ClusterNotFound(r.cluster.to_string()))?;
            let (ix, computation, share_result) = ix::share_patient_data(
                self.wallet.pubkey(),
                *record,
                r.cluster,
                c.next_computation,
                medshare::instructions::ShareArgs {
                    group_mask,
                    recipient: to.key.0,
                    recipient_wallet: to.wallet,
                },
                ShareAccounts {
                    recipient_identity,
                    registry,
                },
            );
            match self.chain.send(&[ix], &[&self.wallet]).await {
                Ok(_) => {
                    return Ok(ShareTicket {
                        computation,
                        share_result,
                    })
                }
                // Anchor's ConstraintSeeds: the counter moved on.
                Err(e) if matches!(e.anchor(), Some(ErrorCode::ConstraintSeeds)) => last = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last
            .map(ClientError::from)
            .unwrap_or(ClientError::Invalid("share failed".into())))
    }

    /// Waits until the cluster fills the share result. `progress` is called
    /// with the number of contributions so far and the threshold.
    ///
    /// It reads the accounts again as soon as a transaction that mentions
    /// the computation lands (a subscription), and every [`WAIT_POLL`]
    /// in any case.
    pub async fn wait(
        &self,
        ticket: &ShareTicket,
        timeout: Duration,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<ShareResult> {
        let start = Instant::now();
        // Subscribed before the first read, so nothing lands unnoticed in
        // between; an endpoint slow to open a subscription only means polling.
        let mut notices =
            tokio::time::timeout(WAIT_POLL * 20, self.chain.subscribe(&ticket.computation))
                .await
                .ok()
                .and_then(|r| r.ok());
        loop {
            if let Some(r) = fetch::<ShareResult>(self.chain.as_ref(), &ticket.share_result).await?
            {
                if r.completed {
                    return Ok(r);
                }
            } else {
                return Err(ClientError::ShareNotFound(ticket.share_result.to_string()));
            }
            match fetch::<medshare::state::Computation>(self.chain.as_ref(), &ticket.computation)
                .await?
            {
                Some(comp) => {
                    let c: Option<Cluster> = fetch(self.chain.as_ref(), &comp.cluster).await?;
                    progress(
                        comp.contributors.len(),
                        c.map(|c| c.threshold as usize).unwrap_or(0),
                    );
                    if self.chain.slot().await? > comp.expiry_slot {
                        return Err(ClientError::Expired);
                    }
                }
                None => {
                    // Closed: finalized (read again) or cancelled.
                    if let Some(r) =
                        fetch::<ShareResult>(self.chain.as_ref(), &ticket.share_result).await?
                    {
                        if r.completed {
                            return Ok(r);
                        }
                    }
                    return Err(ClientError::Expired);
                }
            }
            if start.elapsed() > timeout {
                return Err(ClientError::Timeout(timeout.as_secs()));
            }
            match notices.as_mut() {
                Some(rx) => match tokio::time::timeout(WAIT_POLL, rx.recv()).await {
                    // One read covers every notice already queued.
                    Ok(Some(_)) => while rx.try_recv().is_ok() {},
                    Ok(None) => notices = None,
                    Err(_) => {}
                },
                None => tokio::time::sleep(WAIT_POLL).await,
            }
        }
    }

    /// Closes one of the wallet's records (rent back). Pending shares of it
    /// get no further node contribution; consents on it stay revocable and
    /// closable. What the ledger already holds (capsules, inline ciphertexts
    /// in transaction history) stays there.
    pub async fn close_record(&self, record: &Pubkey) -> Result<()> {
        let r = self.record(record).await?;
        if r.owner != self.wallet.pubkey() {
            return Err(ClientError::NotOwner(record.to_string()));
        }
        let ix = ix::close_record(self.wallet.pubkey(), *record);
        self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok(())
    }

    /// Erases a record: deletes every blob stored for it — in this client's
    /// store and in every store its current groups name, including blobs
    /// of earlier versions in those stores — then closes the record.
    /// Returns how many blobs were deleted. Blobs go first: if a deletion
    /// fails the record stays open, so `erase` can be run again. A record
    /// already closed: its blobs in this client's store are deleted (an
    /// error only if there were none).
    pub async fn erase(&self, record: &Pubkey) -> Result<usize> {
        let r = match self.record(record).await {
            Ok(r) => r,
            Err(ClientError::RecordNotFound(a)) => {
                let n = match self.existing_blob_store()? {
                    Some(s) => s.delete_except(record, &HashSet::new()).await?,
                    None => 0,
                };
                return if n > 0 {
                    Ok(n)
                } else {
                    Err(ClientError::RecordNotFound(a))
                };
            }
            Err(e) => return Err(e),
        };
        if r.owner != self.wallet.pubkey() {
            return Err(ClientError::NotOwner(record.to_string()));
        }
        let mine = self.blob_store()?;
        let mut refs: Vec<BlobRef> = Vec::new();
        for g in &r.groups {
            let plain = open_own_group(
                &stored_to_sealed(g),
                &self.key,
                &record_ctx(&r.owner, record, g.group),
                r.version,
            )
            .map_err(|_| ClientError::WrongKey)?;
            let body = match parse_body(&plain) {
                Ok(Body::Offchain(b)) => {
                    refs.push(b.clone());
                    // Its attachments, if the body can still be read.
                    match mine.get_bytes(record, &b, MAX_BODY).await {
                        Ok(bytes) => match parse_body(&bytes) {
                            Ok(Body::Inline(m)) => m,
                            _ => continue,
                        },
                        Err(_) => continue,
                    }
                }
                Ok(Body::Inline(m)) => m,
                Err(_) => continue,
            };
            let mut c = Contents::default();
            if c.merge(body).is_ok() {
                refs.extend(c.blobs().cloned());
            }
        }
        let mut stores = vec![mine.clone()];
        for b in &refs {
            match mine.store_of(record, b) {
                Some(s) => stores.push(s),
                None => {
                    tracing::warn!(locator = %b.locator, "erase: a blob locator names no store this client can open")
                }
            }
        }
        let mut seen = HashSet::new();
        let mut deleted = 0;
        for s in stores {
            if seen.insert(s.url().to_string()) {
                deleted += s.delete_except(record, &HashSet::new()).await?;
            }
        }
        self.close_record(record).await?;
        Ok(deleted)
    }

    /// Cancels an expired share (rent back).
    pub async fn cancel(&self, ticket: &ShareTicket) -> Result<()> {
        // Without the computation account the program can only answer with
        // Anchor's AccountNotInitialized ("refused by the program (error code
        // 3012)", exit 1). Say what happened instead: the share completed (the
        // callback closed the computation and kept the result), or there is
        // no such request (never made, or cancelled already: exit NOT_FOUND).
        let comp =
            fetch::<medshare::state::Computation>(self.chain.as_ref(), &ticket.computation).await?;
        if comp.is_none() {
            return Err(
                match fetch::<ShareResult>(self.chain.as_ref(), &ticket.share_result).await? {
                    Some(r) if r.completed => {
                        ClientError::AlreadyCompleted(ticket.share_result.to_string())
                    }
                    _ => ClientError::ShareNotFound(ticket.share_result.to_string()),
                },
            );
        }
        let ix = ix::cancel_share(
            self.wallet.pubkey(),
            ticket.computation,
            ticket.share_result,
        );
        self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok(())
    }

    /// Closes a completed share result, as its requester or its recipient
    /// wallet; the rent (returned as lamports, with who got it) goes to the
    /// requester. The recipient can no longer fetch the share afterwards.
    pub async fn close_share(&self, share_result: &Pubkey) -> Result<(u64, Pubkey)> {
        let not_found = || ClientError::ShareNotFound(share_result.to_string());
        let acc = self
            .chain
            .accounts(std::slice::from_ref(share_result))
            .await?
            .into_iter()
            .next()
            .flatten()
            .ok_or_else(not_found)?;
        let r: ShareResult = fetch(self.chain.as_ref(), share_result)
            .await?
            .ok_or_else(not_found)?;
        let ix = ix::close_share_result(self.wallet.pubkey(), *share_result, r.requester, r.record);
        self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok((acc.lamports, r.requester))
    }

    /// Share results of `cluster` addressed to this user (by key or wallet), newest first.
    pub async fn inbox(&self, cluster: &Pubkey) -> Result<Vec<(Pubkey, ShareResult)>> {
        let c: Cluster = fetch(self.chain.as_ref(), cluster)
            .await?
            .ok_or_else(|| ClientError::ClusterNotFound(cluster.to_string()))?;
        let addrs: Vec<Pubkey> = (0..c.next_computation)
            .map(|k| medshare::pda::share_result(&medshare::pda::computation(cluster, k)))
            .collect();
        let me = self.wallet.pubkey();
        let key = self.encryption_key().0;
        let results = fetch_many::<ShareResult>(self.chain.as_ref(), &addrs).await?;
        let mut out: Vec<(Pubkey, ShareResult)> = addrs
            .into_iter()
            .zip(results)
            .filter_map(|(a, r)| r.map(|r| (a, r)))
            .filter(|(_, r)| r.recipient == key || r.recipient_wallet == me)
            .collect();
        out.reverse();
        Ok(out)
    }

    /// Opens a completed share addressed to this user's key.
    pub async fn decrypt(&self, share_result: &Pubkey) -> Result<OpenedShare> {
        let r: ShareResult = fetch(self.chain.as_ref(), share_result)
            .await?
            .ok_or_else(|| ClientError::ShareNotFound(share_result.to_string()))?;
        if !r.completed {
            return Err(ClientError::SharePending(share_result.to_string()));
        }
        if r.recipient != self.encryption_key().0 {
            return Err(ClientError::WrongKey);
        }
        let rec = self.record(&r.record).await?;
        if rec.version != r.record_version {
            return Err(ClientError::RecordChanged {
                shared: r.record_version,
                now: rec.version,
            });
        }
        let mut plain = Vec::new();
        for (g, cap) in r.groups.iter().zip(&r.capsules) {
            let stored = rec.group(*g).ok_or(ClientError::GroupGone(*g))?;
            let m = open(&(*cap).into(), &self.key).map_err(|_| ClientError::WrongKey)?;
            let p = open_group_with(
                &stored_to_sealed(stored),
                &m,
                &record_ctx(&rec.owner, &r.record, *g),
                r.record_version,
            )
            .map_err(|_| ClientError::WrongKey)?;
            plain.push(p);
        }
        Ok(OpenedShare {
            record: r.record,
            owner: r.owner,
            version: r.record_version,
            groups: r.groups.clone(),
            contents: self.contents_of(&r.record, &plain, "shared").await?,
        })
    }
}
