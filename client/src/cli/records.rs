//! `store`, `show`, `close-record` and `erase`: the owner's side of a record.

use std::fmt;

use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

use super::{data_json, Ctx, OutArgs, StoreArgs};
use crate::contents::Contents;
use crate::data::{group_names, PatientData};
use crate::error::{ClientError, Result};
use crate::user::files::{self, Extras, OutFiles};

/// `store`: a record written (created, or a new version).
#[derive(Debug, Serialize)]
pub struct Stored {
    /// The record.
    pub record: String,
    /// Its version now.
    pub version: u32,
    /// The field groups written.
    pub groups: Vec<&'static str>,
    /// FHIR resources stored.
    #[serde(skip_serializing_if = "is_zero")]
    pub fhir_resources: usize,
    /// Attachments sealed off-chain (names).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl fmt::Display for Stored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stored record {} version {}: [{}]",
            self.record,
            self.version,
            self.groups.join(", ")
        )?;
        if self.fhir_resources > 0 {
            write!(f, "; {} FHIR resources", self.fhir_resources)?;
        }
        if !self.attachments.is_empty() {
            write!(f, "; attachments: {}", self.attachments.join(", "))?;
        }
        Ok(())
    }
}

/// The fields `store` writes: the file's, overridden and extended by the flags.
fn fields_of(args: &StoreArgs) -> Result<PatientData> {
    let mut data = match &args.file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ClientError::Io(format!("{}: {e}", path.display())))?;
            serde_json::from_str::<PatientData>(&text)
                .map_err(|e| ClientError::BadDataFile(format!("{}: {e}", path.display())))?
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
    let (record, version, contents) = client
        .store_with_files(
            &args.cluster,
            args.record_id,
            Contents::from_data(fields_of(args)?),
            args.fhir.as_deref(),
            &args.attach,
        )
        .await?;
    Ok(Stored {
        record: record.to_string(),
        version,
        groups: group_names(contents.group_mask()),
        fhir_resources: contents.fhir.len(),
        attachments: contents
            .attachments
            .iter()
            .map(|attachment| attachment.name.clone())
            .collect(),
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
