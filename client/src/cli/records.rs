//! `store`, `show`, `close-record` and `erase`: the owner's side of a record.

use std::fmt;

use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

use super::{data_json, Ctx, OutArgs, StoreArgs};
use crate::contents::Contents;
use crate::data::{group_names, PatientData};
use crate::error::{ClientError, Result};
use crate::user::files::{self, Extras, OutFiles};
use crate::user::StoreTarget;

/// `store`: a record written (created, or a new version).
#[derive(Debug, Serialize)]
pub struct Stored {
    /// The record.
    pub record: String,
    /// Its id (`--record-id`).
    pub record_id: u64,
    /// Its version now.
    pub version: u32,
    /// The field groups written.
    pub groups: Vec<&'static str>,
    /// FHIR resources stored.
    #[serde(skip_serializing_if = "is_zero")]
    pub fhir_resources: usize,
    /// Attachments of this version (names).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    /// What a new version changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<ReplacedOut>,
}

/// How a new version differs from the one it replaced.
#[derive(Debug, Serialize)]
pub struct ReplacedOut {
    /// The version replaced.
    pub previous_version: u32,
    /// Groups it had that this version has not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups_removed: Vec<&'static str>,
    /// Its attachments kept in this version.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments_kept: Vec<String>,
    /// Its attachments dropped on request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments_dropped: Vec<String>,
    /// Its attachments replaced by this version's copy (same resource).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments_replaced: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl fmt::Display for Stored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let new = if self.replaced.is_none() { "new " } else { "" };
        write!(
            f,
            "stored {new}record {} (id {}) version {}: [{}]",
            self.record,
            self.record_id,
            self.version,
            self.groups.join(", ")
        )?;
        if self.fhir_resources > 0 {
            write!(f, "; {} FHIR resources", self.fhir_resources)?;
        }
        for name in &self.attachments {
            write!(f, "\n  attachment: {name}")?;
        }
        if let Some(replaced) = &self.replaced {
            write!(f, "\nreplaced version {}", replaced.previous_version)?;
            let lists = [
                ("groups removed", replaced.groups_removed.join(", ")),
                ("attachments kept", replaced.attachments_kept.join(", ")),
                (
                    "attachments dropped",
                    replaced.attachments_dropped.join(", "),
                ),
                (
                    "attachments replaced",
                    replaced.attachments_replaced.join(", "),
                ),
            ];
            for (what, list) in lists.iter().filter(|(_, list)| !list.is_empty()) {
                write!(f, "\n  {what}: {list}")?;
            }
            write!(
                f,
                "\n  earlier shares of this record no longer open; their recipients need a new share"
            )?;
        }
        Ok(())
    }
}

/// The fields `store` writes: the file's, overridden and extended by the flags.
fn fields_of(args: &StoreArgs) -> Result<PatientData> {
    let mut data = match &args.file {
        Some(path) => {
            let text = files::read_json_input(path, "a JSON record file")?;
            serde_json::from_str::<PatientData>(&text).map_err(|e| {
                // A FHIR resource given to --file: say where it goes.
                let fhir = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v["resourceType"].as_str().map(str::to_string));
                ClientError::BadDataFile(match fhir {
                    Some(kind) => format!(
                        "{}: a FHIR {kind}, not a record file: pass FHIR with --fhir",
                        path.display()
                    ),
                    None => format!("{}: {e}", path.display()),
                })
            })?
        }
        None => PatientData::default(),
    };
    data.patient_id = args.patient_id.clone().or(data.patient_id);
    data.age = args.age.or(data.age);
    data.gender = args.gender.clone().or(data.gender);
    data.blood_type = args.blood_type.clone().or(data.blood_type);
    data.weight_kg = args.weight_kg.or(data.weight_kg);
    data.height_cm = args.height_cm.or(data.height_cm);
    data.allergies.extend(args.allergies.iter().cloned());
    data.diagnoses.extend(args.diagnoses.iter().cloned());
    data.medications.extend(args.medications.iter().cloned());
    data.notes = args.notes.clone().or(data.notes);
    Ok(data)
}

/// Seals the record's groups and writes them (a new version if it exists):
/// the fields, a FHIR bundle's resources, attachments (sealed into the blob
/// store first).
pub async fn store(ctx: &Ctx, args: &StoreArgs) -> Result<Stored> {
    let client = ctx.client()?;
    let target = match (args.record_id, args.new_version) {
        (None, _) => StoreTarget::New,
        (Some(id), false) => StoreTarget::Id(id),
        (Some(id), true) => StoreTarget::NewVersion {
            id,
            drop: args.drop_attachments.clone(),
        },
    };
    let outcome = client
        .store_with_files(
            &args.cluster,
            target,
            Contents::from_data(fields_of(args)?),
            args.fhir.as_deref(),
            &args.attach,
        )
        .await?;
    Ok(Stored {
        record: outcome.record.to_string(),
        record_id: outcome.record_id,
        version: outcome.version,
        groups: group_names(outcome.contents.group_mask()),
        fhir_resources: outcome.contents.fhir.len(),
        attachments: outcome
            .contents
            .attachments
            .iter()
            .map(|attachment| attachment.name.clone())
            .collect(),
        replaced: outcome.replaced.map(|replaced| ReplacedOut {
            previous_version: replaced.previous_version,
            groups_removed: group_names(replaced.groups_removed),
            attachments_kept: replaced.carried.kept,
            attachments_dropped: replaced.carried.dropped,
            attachments_replaced: replaced.carried.replaced,
        }),
    })
}

/// `show`: the owner's own record, decrypted.
#[derive(Debug, Serialize)]
pub struct Shown {
    /// The record.
    pub record: String,
    /// Its version.
    pub version: u32,
    /// Its simple fields.
    pub data: PatientData,
    /// FHIR resources and attachments.
    #[serde(flatten)]
    pub extras: Extras,
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {} version {}\n{}{}",
            self.record,
            self.version,
            data_json(&self.data),
            self.extras
        )
    }
}

/// Decrypts the owner's own record; writes its FHIR bundle and attachments
/// when asked.
pub async fn show(ctx: &Ctx, record: &str, out: &OutArgs) -> Result<Shown> {
    let client = ctx.client()?;
    let address = ctx.record(&client, record)?;
    let (contents, version) = client.show(&address).await?;
    let extras = files::save(&client, &address, &contents, &out_files(out)).await?;
    Ok(Shown {
        record: address.to_string(),
        version,
        data: contents.data,
        extras,
    })
}

/// Where to write, from the flags.
pub fn out_files(out: &OutArgs) -> OutFiles {
    OutFiles {
        fhir: out.fhir.clone(),
        out_dir: out.out_dir.clone(),
    }
}

/// `close-record`: the record account closed.
#[derive(Debug, Serialize)]
pub struct RecordClosed {
    /// The record.
    pub closed: String,
}

impl fmt::Display for RecordClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {} closed; its rent is back in your wallet (capsules and ciphertexts already in the ledger's history stay there)",
            self.closed
        )
    }
}

/// Closes the owner's record (rent back).
pub async fn close(ctx: &Ctx, record: &str) -> Result<RecordClosed> {
    let client = ctx.client()?;
    let address: Pubkey = ctx.record(&client, record)?;
    client.close_record(&address).await?;
    Ok(RecordClosed {
        closed: address.to_string(),
    })
}

/// `erase`: a record's off-chain data deleted and the record closed.
#[derive(Debug, Serialize)]
pub struct Erased {
    /// The record.
    pub erased: String,
    /// Blobs deleted from the store(s).
    pub blobs_deleted: usize,
}

impl fmt::Display for Erased {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {} erased: {} blobs deleted from the store, record closed (capsules and inline ciphertexts already in the ledger's history stay there)",
            self.erased, self.blobs_deleted
        )
    }
}

/// Deletes the record's blobs, then closes it.
pub async fn erase(ctx: &Ctx, record: &str) -> Result<Erased> {
    let client = ctx.client()?;
    let address: Pubkey = ctx.record(&client, record)?;
    let n = client.erase(&address).await?;
    Ok(Erased {
        erased: address.to_string(),
        blobs_deleted: n,
    })
}
