//! What a record holds, group by group, and how a group's sealed body is laid
//! out.
//!
//! A record's contents are the simple fields ([`PatientData`]), FHIR R4
//! resources ([`medshare_fhir`]) and attachments (files of any size). Each goes
//! to one field group (see [`crate::data`] for the table): the simple fields
//! by name, a FHIR resource by its type ([`medshare_fhir::group_of`]), and
//! attachments to `documents`.
//!
//! **A group's body** is one JSON object, sealed under the group's data key:
//!
//! ```text
//! { <simple fields of this group>…,
//!   "fhir": [ { "fullUrl": …, "resource": {…} }, … ],
//!   "attachments": [ { "name": …, "content_type": …, "blob": BlobRef }, … ] }
//! ```
//!
//! **Off-chain bodies.** A body over [`INLINE_LIMIT`] bytes (what fits one
//! transaction) is itself sealed as a blob ([`crate::blobs`]); the group's
//! on-chain ciphertext is then `{ "offchain": BlobRef }`, which commits to the
//! blob's hash, sizes, chunk size and locator. Attachments are always
//! blobs. A body read back from a blob may not point to another blob.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::blobs::BlobRef;
use crate::data::{FieldGroup, PatientData};

/// Largest group body kept inline: the on-chain ciphertext limit minus the
/// 16-byte tag (608 bytes).
pub const INLINE_LIMIT: usize =
    medshare::constants::MAX_GROUP_CIPHERTEXT - encrypted_ixs::record::TAG_LEN;

/// Largest off-chain group body read back into memory (64 MiB). Attachments
/// have no such limit: they stream to files.
pub const MAX_BODY: u64 = 64 * 1024 * 1024;

pub use medshare_fhir::Entry as FhirEntry;

/// A file kept off-chain, listed in the `documents` group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name (no directories).
    pub name: String,
    /// MIME type, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Where the sealed file is, and its key.
    pub blob: BlobRef,
}

/// Everything in a record (or in the groups of a share).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Contents {
    /// The simple fields.
    pub data: PatientData,
    /// FHIR resources.
    pub fhir: Vec<FhirEntry>,
    /// Attachments.
    pub attachments: Vec<Attachment>,
}

/// Why a decrypted group body could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BodyError(pub String);

impl Contents {
    /// Simple fields only.
    pub fn from_data(data: PatientData) -> Contents {
        Contents {
            data,
            ..Default::default()
        }
    }

    /// Each non-empty group's body, by group number.
    pub fn bodies(&self) -> Vec<(u8, Map<String, Value>)> {
        let mut bodies: Vec<Map<String, Value>> = vec![Map::new(); FieldGroup::ALL.len()];
        for (group, fields) in self.data.group_fields() {
            bodies[group as usize].extend(fields);
        }
        for entry in &self.fhir {
            let group = medshare_fhir::group_of(&entry.resource).number() as usize;
            bodies[group]
                .entry("fhir")
                .or_insert_with(|| Value::Array(vec![]))
                .as_array_mut()
                .expect("fhir is an array")
                .push(serde_json::to_value(entry).expect("JSON"));
        }
        if !self.attachments.is_empty() {
            bodies[FieldGroup::Documents.number() as usize].insert(
                "attachments".into(),
                serde_json::to_value(&self.attachments).expect("JSON"),
            );
        }
        bodies
            .into_iter()
            .enumerate()
            .filter(|(_, body)| !body.is_empty())
            .map(|(group, body)| (group as u8, body))
            .collect()
    }

    /// The groups that would be written.
    pub fn group_mask(&self) -> u8 {
        self.bodies()
            .iter()
            .fold(0, |m, (group, _)| m | (1 << group))
    }

    /// Adds one decrypted (and, if it was off-chain, fetched) group body.
    pub fn merge(&mut self, mut body: Map<String, Value>) -> Result<(), BodyError> {
        if body.contains_key("offchain") {
            return Err(BodyError("an off-chain body points to another blob".into()));
        }
        if let Some(fhir) = body.remove("fhir") {
            let entries: Vec<FhirEntry> = serde_json::from_value(fhir)
                .map_err(|e| BodyError(format!("FHIR entries: {e}")))?;
            self.fhir.extend(entries);
        }
        if let Some(attachments) = body.remove("attachments") {
            let list: Vec<Attachment> = serde_json::from_value(attachments)
                .map_err(|e| BodyError(format!("attachments: {e}")))?;
            self.attachments.extend(list);
        }
        let mut fields = serde_json::to_value(&self.data).expect("JSON");
        fields.as_object_mut().expect("an object").extend(body);
        self.data = serde_json::from_value(fields).map_err(|e| BodyError(e.to_string()))?;
        Ok(())
    }

    /// Adds `other` (the groups of another share of the same record
    /// version): resources and attachments already present are not repeated.
    pub fn extend(&mut self, other: Contents) {
        let mut fields = serde_json::to_value(&self.data).expect("JSON");
        if let Value::Object(theirs) = serde_json::to_value(&other.data).expect("JSON") {
            fields.as_object_mut().expect("an object").extend(theirs);
        }
        self.data = serde_json::from_value(fields).expect("merged fields of two valid records");
        for entry in other.fhir {
            if !self.fhir.contains(&entry) {
                self.fhir.push(entry);
            }
        }
        for attachment in other.attachments {
            if !self
                .attachments
                .iter()
                .any(|present| present.blob.sha256 == attachment.blob.sha256)
            {
                self.attachments.push(attachment);
            }
        }
    }

    /// Every blob this contents refers to directly (attachments).
    pub fn blobs(&self) -> impl Iterator<Item = &BlobRef> {
        self.attachments.iter().map(|attachment| &attachment.blob)
    }
}

/// A sealed group body as read from the chain: inline, or a reference to
/// the blob holding it.
pub enum Body {
    /// The body itself.
    Inline(Map<String, Value>),
    /// The body is in this blob.
    Offchain(BlobRef),
}

/// Reads a decrypted inline group plaintext.
pub fn parse_body(plain: &[u8]) -> Result<Body, BodyError> {
    let mut body: Map<String, Value> =
        serde_json::from_slice(plain).map_err(|e| BodyError(e.to_string()))?;
    match body.remove("offchain") {
        Some(blob) if body.is_empty() => Ok(Body::Offchain(
            serde_json::from_value(blob)
                .map_err(|e| BodyError(format!("off-chain reference: {e}")))?,
        )),
        Some(_) => Err(BodyError(
            "an off-chain reference next to other fields".into(),
        )),
        None => Ok(Body::Inline(body)),
    }
}

/// The inline form of a body that lives in blob `r`.
pub fn offchain_body(r: &BlobRef) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "offchain": r })).expect("JSON")
}
