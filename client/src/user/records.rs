//! A patient's records: store (fields or FHIR), show, close, erase.

use encrypted_ixs::point::Point;
use encrypted_ixs::record::{open_own_group, seal_group};
use medshare::state::{Identity, PatientRecord, Role};
use medshare_sdk::chain::fetch;
use medshare_sdk::codec::record_ctx;
use medshare_sdk::codec::stored_to_sealed;
use medshare_sdk::ix::{self};
use rand_core::OsRng;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;

use std::collections::HashSet;

use zeroize::Zeroizing;

use crate::blobs::BlobRef;
use crate::contents::{offchain_body, parse_body, Body, Contents, INLINE_LIMIT, MAX_BODY};
use crate::error::{ClientError, Result};

use super::files::{carry_attachments, Carried};
use super::Client;

/// Which record `store` writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreTarget {
    /// A new record, at the lowest free id ([`Client::fresh_record_id`]).
    New,
    /// Record `id`, which must not exist yet ([`ClientError::RecordExists`]
    /// otherwise): nothing is replaced by surprise.
    Id(u64),
    /// A new version of existing record `id`: its groups are written anew,
    /// its attachments kept except those named in `drop`.
    NewVersion {
        /// The record id.
        id: u64,
        /// Attachments of the current version not to keep.
        drop: Vec<String>,
    },
}

/// What `store` did.
#[derive(Debug)]
pub struct StoreOutcome {
    /// The record.
    pub record: Pubkey,
    /// Its id.
    pub record_id: u64,
    /// Its version now.
    pub version: u32,
    /// What the version holds.
    pub contents: Contents,
    /// What changed, for a new version of an existing record.
    pub replaced: Option<Replaced>,
}

/// How a new version differs from the one it replaced.
#[derive(Debug)]
pub struct Replaced {
    /// The version replaced.
    pub previous_version: u32,
    /// Groups the replaced version had and this one has not (a mask).
    pub groups_removed: u8,
    /// The replaced version's attachments: kept, dropped, replaced.
    pub carried: Carried,
}

impl Client {
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
        let cluster_account = self.ready_cluster(cluster).await?;
        let owner = self.wallet.pubkey();
        let record = medshare::pda::record(&owner, record_id);
        let existing = fetch::<PatientRecord>(self.chain.as_ref(), &record).await?;
        if let Some(previous) = &existing {
            if previous.cluster != *cluster {
                return Err(ClientError::OtherCluster {
                    record_id,
                    cluster: previous.cluster.to_string(),
                });
            }
        }
        // Every body, sealed off-chain where needed, before the version moves.
        let mut blobs = None;
        let mut keep: HashSet<String> = contents.blobs().map(|blob| blob.sha256.clone()).collect();
        let mut plain = Vec::with_capacity(bodies.len());
        for (group, body) in bodies {
            let bytes = Zeroizing::new(serde_json::to_vec(&body).expect("JSON"));
            let name =
                crate::data::FieldGroup::from_number(group).map_or("?", |group| group.name());
            if bytes.len() as u64 > MAX_BODY {
                return Err(ClientError::GroupTooLarge {
                    group: name,
                    bytes: bytes.len(),
                    limit: MAX_BODY,
                });
            }
            if bytes.len() <= INLINE_LIMIT {
                plain.push((group, bytes));
                continue;
            }
            if blobs.is_none() {
                blobs = Some(self.blob_store()?);
            }
            let store = blobs.as_ref().expect("just opened");
            let blob = store.put_bytes(&record, &bytes).await?;
            keep.insert(blob.sha256.clone());
            let inline = Zeroizing::new(offchain_body(&blob));
            if inline.len() > INLINE_LIMIT {
                return Err(ClientError::Store(format!(
                    "{}: the URL is too long for a blob reference to fit on-chain ({} bytes, at most {INLINE_LIMIT})",
                    store.url(),
                    inline.len()
                )));
            }
            plain.push((group, inline));
        }
        let version = match &existing {
            Some(previous) => {
                let ix = ix::update_patient_data(owner, None, record);
                self.chain.send(&[ix], &[&self.wallet]).await?;
                previous.version + 1
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
        let cluster_key = Point(cluster_account.cluster_key);
        for (group, bytes) in plain {
            let sealed = seal_group(
                &mut OsRng,
                &record_ctx(&owner, &record, group),
                version,
                &bytes,
                &cluster_key,
                &self.encryption_key(),
            )
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
            let write = ix::write_record_group(owner, None, record, sealed);
            let budget = ix::compute_budget(ix::WRITE_GROUP_COMPUTE_UNITS);
            self.chain.send(&[budget, write], &[&self.wallet]).await?;
        }
        // Blobs of earlier versions that this one no longer refers to.
        if let Some(store) = blobs.or(self.existing_blob_store()?) {
            if let Err(e) = store.delete_except(&record, &keep).await {
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
        let account = self.record(record).await?;
        if account.owner != self.wallet.pubkey() {
            return Err(ClientError::NotReadable {
                record: record.to_string(),
                owner: account.owner.to_string(),
            });
        }
        let mut plain = Vec::new();
        for group in &account.groups {
            let sealed = stored_to_sealed(group);
            let plaintext = open_own_group(
                &sealed,
                &self.key,
                &record_ctx(&account.owner, record, group.group),
                account.version,
            )
            .map_err(|_| ClientError::WrongKey)?;
            plain.push(plaintext);
        }
        Ok((
            self.contents_of(record, &plain, "record").await?,
            account.version,
        ))
    }

    /// Closes one of the wallet's records (rent back). Pending shares of it
    /// get no further node contribution; consents on it stay revocable and
    /// closable. What the ledger already holds (capsules, inline ciphertexts
    /// in transaction history) stays there.
    pub async fn close_record(&self, record: &Pubkey) -> Result<()> {
        let account = self.record(record).await?;
        if account.owner != self.wallet.pubkey() {
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
        let account = match self.record(record).await {
            Ok(account) => account,
            Err(ClientError::RecordNotFound(address)) => {
                let n = match self.existing_blob_store()? {
                    Some(store) => store.delete_except(record, &HashSet::new()).await?,
                    None => 0,
                };
                return if n > 0 {
                    Ok(n)
                } else {
                    Err(ClientError::RecordNotFound(address))
                };
            }
            Err(e) => return Err(e),
        };
        if account.owner != self.wallet.pubkey() {
            return Err(ClientError::NotOwner(record.to_string()));
        }
        let mine = self.blob_store()?;
        let mut refs: Vec<BlobRef> = Vec::new();
        for group in &account.groups {
            let plain = open_own_group(
                &stored_to_sealed(group),
                &self.key,
                &record_ctx(&account.owner, record, group.group),
                account.version,
            )
            .map_err(|_| ClientError::WrongKey)?;
            let body = match parse_body(&plain) {
                Ok(Body::Offchain(blob)) => {
                    refs.push(blob.clone());
                    // Its attachments, if the body can still be read.
                    match mine.get_bytes(record, &blob, MAX_BODY).await {
                        Ok(bytes) => match parse_body(&bytes) {
                            Ok(Body::Inline(body)) => body,
                            _ => continue,
                        },
                        Err(_) => continue,
                    }
                }
                Ok(Body::Inline(body)) => body,
                Err(_) => continue,
            };
            let mut contents = Contents::default();
            if contents.merge(body).is_ok() {
                refs.extend(contents.blobs().cloned());
            }
        }
        let mut stores = vec![mine.clone()];
        for blob in &refs {
            match mine.store_of(record, blob) {
                Some(store) => stores.push(store),
                None => {
                    tracing::warn!(locator = %blob.locator, "erase: a blob locator names no store this client can open")
                }
            }
        }
        let mut seen = HashSet::new();
        let mut deleted = 0;
        for store in stores {
            if seen.insert(store.url().to_string()) {
                deleted += store.delete_except(record, &HashSet::new()).await?;
            }
        }
        self.close_record(record).await?;
        Ok(deleted)
    }

    /// The lowest record id at which the wallet has no record (a closed
    /// record's id is free again).
    pub async fn fresh_record_id(&self) -> Result<u64> {
        const BATCH: u64 = 64;
        let owner = self.wallet.pubkey();
        let mut first = 1u64;
        loop {
            let addresses: Vec<Pubkey> = (first..first + BATCH)
                .map(|id| medshare::pda::record(&owner, id))
                .collect();
            let found =
                medshare_sdk::chain::fetch_many::<PatientRecord>(self.chain.as_ref(), &addresses)
                    .await?;
            if let Some(k) = found.iter().position(Option::is_none) {
                return Ok(first + k as u64);
            }
            first += BATCH;
        }
    }

    /// Stores a record in `cluster` (see [`StoreTarget`]): `contents`, the
    /// FHIR bundle at `fhir` (its inline attachments sealed into the blob
    /// store) and the files `attach` as attachments. A new version keeps
    /// the attachments of the one it replaces unless `drop` names them
    /// ([`carry_attachments`]); blobs that no version refers to any more
    /// are deleted only after the new version is written. Nothing this call
    /// sealed stays in the blob store if any step fails.
    pub async fn store_with_files(
        &self,
        cluster: &Pubkey,
        target: StoreTarget,
        mut contents: Contents,
        fhir: Option<&std::path::Path>,
        attach: &[std::path::PathBuf],
    ) -> Result<StoreOutcome> {
        for file in attach {
            if !file.is_file() {
                return Err(ClientError::Io(format!("{}: not a file", file.display())));
            }
        }
        let owner = self.wallet.pubkey();
        let (record_id, previous) = match &target {
            StoreTarget::New => (self.fresh_record_id().await?, None),
            StoreTarget::Id(id) => {
                let address = medshare::pda::record(&owner, *id);
                if let Some(existing) =
                    fetch::<PatientRecord>(self.chain.as_ref(), &address).await?
                {
                    return Err(ClientError::RecordExists {
                        record_id: *id,
                        version: existing.version,
                    });
                }
                (*id, None)
            }
            StoreTarget::NewVersion { id, .. } => {
                let address = medshare::pda::record(&owner, *id);
                let (old, version) = match self.show(&address).await {
                    Err(ClientError::RecordNotFound(_)) => {
                        return Err(ClientError::NoRecordToReplace(*id))
                    }
                    shown => shown?,
                };
                (*id, Some((old, version)))
            }
        };
        let record = medshare::pda::record(&owner, record_id);
        let blobs = self.blob_store()?;
        let stored = async {
            if let Some(path) = fhir {
                super::files::import_fhir(path, &record, &blobs, &mut contents).await?;
            }
            super::files::attach_files(attach, &record, &blobs, &mut contents).await?;
            Ok::<_, ClientError>(())
        }
        .await;
        // What this call sealed, and so what a failure removes again.
        let sealed_here: Vec<String> = contents.blobs().map(|b| b.sha256.clone()).collect();
        let result = async {
            stored?;
            let replaced = match (&target, previous) {
                (StoreTarget::NewVersion { drop, .. }, Some((old, version))) => {
                    let carried = carry_attachments(&old, &mut contents, drop).map_err(|name| {
                        ClientError::NoSuchAttachment {
                            record_id,
                            name,
                            available: if old.attachments.is_empty() {
                                "none".into()
                            } else {
                                old.attachments
                                    .iter()
                                    .map(|a| a.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            },
                        }
                    })?;
                    Some(Replaced {
                        previous_version: version,
                        groups_removed: old.group_mask() & !contents.group_mask(),
                        carried,
                    })
                }
                _ => None,
            };
            let (record, version) = self.store(cluster, record_id, &contents).await?;
            Ok((record, version, replaced))
        }
        .await;
        match result {
            Ok((record, version, replaced)) => Ok(StoreOutcome {
                record,
                record_id,
                version,
                contents,
                replaced,
            }),
            Err(e) => {
                for sha in &sealed_here {
                    let _ = blobs.delete(&record, sha).await;
                }
                Err(e)
            }
        }
    }
}
