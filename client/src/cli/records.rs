//! `store`, `show` and `close-record`: the owner's side of a record.

use std::fmt;

use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

use super::{data_json, Ctx, StoreArgs};
use crate::data::{group_names, PatientData};
use crate::error::{ClientError, Result};

/// `store`: a record written (created, or a new version).
#[derive(Debug, Serialize)]
pub struct Stored {
    /// The record.
    pub record: String,
    /// Its version now.
    pub version: u32,
    /// The field groups written.
    pub groups: Vec<&'static str>,
}

impl fmt::Display for Stored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stored record {} version {}: [{}]",
            self.record,
            self.version,
            self.groups.join(", ")
        )
    }
}

/// The fields `store` writes: the file's, overridden and extended by the flags.
fn fields_of(a: &StoreArgs) -> Result<PatientData> {
    let mut data = match &a.file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| ClientError::Io(format!("{}: {e}", f.display())))?;
            serde_json::from_str::<PatientData>(&text)
                .map_err(|e| ClientError::BadDataFile(format!("{}: {e}", f.display())))?
        }
        None => PatientData::default(),
    };
    data.patient_id = a.patient_id.clone().or(data.patient_id);
    data.age = a.age.or(data.age);
    data.gender = a.gender.clone().or(data.gender);
    data.blood_type = a.blood_type.clone().or(data.blood_type);
    data.weight_kg = a.weight_kg.or(data.weight_kg);
    data.height_cm = a.height_cm.or(data.height_cm);
    data.allergies.extend(a.allergies.iter().cloned());
    data.diagnoses.extend(a.diagnoses.iter().cloned());
    data.medications.extend(a.medications.iter().cloned());
    data.notes = a.notes.clone().or(data.notes);
    Ok(data)
}

/// Seals the record's groups and writes them (a new version if it exists).
pub async fn store(ctx: &Ctx, a: &StoreArgs) -> Result<Stored> {
    let data = fields_of(a)?;
    let c = ctx.client()?;
    let (record, version) = c.store(&a.cluster, a.record_id, &data).await?;
    let groups: u8 = data.groups().iter().fold(0, |m, (g, _)| m | (1 << g));
    Ok(Stored {
        record: record.to_string(),
        version,
        groups: group_names(groups),
    })
}

/// `show`: the owner's own record, decrypted.
#[derive(Debug, Serialize)]
pub struct Shown {
    /// The record.
    pub record: String,
    /// Its version.
    pub version: u32,
    /// Its fields.
    pub data: PatientData,
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {} version {}\n{}",
            self.record,
            self.version,
            data_json(&self.data)
        )
    }
}

/// Decrypts the owner's own record.
pub async fn show(ctx: &Ctx, record: &str) -> Result<Shown> {
    let c = ctx.client()?;
    let r = ctx.record(&c, record)?;
    let (data, version) = c.show(&r).await?;
    Ok(Shown {
        record: r.to_string(),
        version,
        data,
    })
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
    let c = ctx.client()?;
    let r: Pubkey = ctx.record(&c, record)?;
    c.close_record(&r).await?;
    Ok(RecordClosed {
        closed: r.to_string(),
    })
}
