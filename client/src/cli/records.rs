//! `store`, `show` and `close-record`: the owner's side of a record.

use std::fmt;

use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

use super::{data_json, Command, Ctx};
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
fn fields_of(cmd: &Command) -> Result<PatientData> {
    let Command::Store {
        file,
        patient_id,
        age,
        gender,
        blood_type,
        weight_kg,
        height_cm,
        allergies,
        diagnoses,
        medications,
        notes,
        ..
    } = cmd
    else {
        unreachable!("only called for store")
    };
    let mut data = match file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| ClientError::Io(format!("{}: {e}", f.display())))?;
            serde_json::from_str::<PatientData>(&text)
                .map_err(|e| ClientError::BadDataFile(format!("{}: {e}", f.display())))?
        }
        None => PatientData::default(),
    };
    data.patient_id = patient_id.clone().or(data.patient_id);
    data.age = age.or(data.age);
    data.gender = gender.clone().or(data.gender);
    data.blood_type = blood_type.clone().or(data.blood_type);
    data.weight_kg = weight_kg.or(data.weight_kg);
    data.height_cm = height_cm.or(data.height_cm);
    data.allergies.extend(allergies.iter().cloned());
    data.diagnoses.extend(diagnoses.iter().cloned());
    data.medications.extend(medications.iter().cloned());
    data.notes = notes.clone().or(data.notes);
    Ok(data)
}

/// Seals the record's groups and writes them (a new version if it exists).
pub async fn store(ctx: &Ctx, cmd: &Command) -> Result<Stored> {
    let Command::Store {
        cluster, record_id, ..
    } = cmd
    else {
        unreachable!("only called for store")
    };
    let data = fields_of(cmd)?;
    let c = ctx.client()?;
    let (record, version) = c.store(cluster, *record_id, &data).await?;
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
