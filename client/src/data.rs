//! Patient data and its field groups.
//!
//! A record's fields are sealed per group, so a patient can share exactly the
//! groups a recipient needs:
//!
//! | # | group | fields |
//! |---|---|---|
//! | 0 | `identity` | `patient_id`, `age`, `gender` |
//! | 1 | `vitals` | `blood_type`, `weight_kg`, `height_cm` |
//! | 2 | `diagnoses` | `diagnoses` |
//! | 3 | `medications` | `medications`, `allergies` |
//! | 4 | `notes` | `notes` |
//! | 5 | `labs` | (FHIR records: laboratory results) |
//! | 6 | `care` | (FHIR records: immunizations, procedures, encounters) |
//! | 7 | `documents` | attachments (and FHIR documents) |
//!
//! Each group is stored as the JSON object of its fields; see
//! [`crate::contents`] for FHIR resources, attachments and groups kept
//! off-chain.

use serde::{Deserialize, Serialize};

pub use encrypted_ixs::FieldGroup;

/// Most groups one share carries (see [`encrypted_ixs::MAX_SHARE_GROUPS`]).
pub const MAX_SHARE_GROUPS: usize = encrypted_ixs::MAX_SHARE_GROUPS;

/// A medical record's contents. Every field is optional; a group is written
/// only when one of its fields is present.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientData {
    /// Hospital or insurer patient identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<String>,
    /// Age in years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<u32>,
    /// Gender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// Blood type (e.g. `O+`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blood_type: Option<String>,
    /// Weight in kilograms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<f64>,
    /// Height in centimetres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height_cm: Option<f64>,
    /// Known allergies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allergies: Vec<String>,
    /// Diagnoses (ICD-10 codes and text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnoses: Vec<String>,
    /// Current medications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub medications: Vec<String>,
    /// Free-text notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A group number from its name (or number).
pub fn group_number(name: &str) -> Option<u8> {
    FieldGroup::parse(name).map(FieldGroup::number)
}

/// Every group's name, in order, for messages.
fn all_names() -> String {
    FieldGroup::ALL.map(FieldGroup::name).join(", ")
}

/// Parses `identity,vitals` (or `all`) into a group mask.
pub fn parse_groups(list: &str) -> Result<u8, String> {
    if list.trim() == "all" {
        return Ok(u8::MAX);
    }
    let mut mask = 0u8;
    for name in list.split(',').filter(|name| !name.trim().is_empty()) {
        let group = FieldGroup::parse(name).ok_or_else(|| {
            format!(
                "unknown field group '{}' (groups: {})",
                name.trim(),
                all_names()
            )
        })?;
        mask |= group.bit();
    }
    if mask == 0 {
        return Err("no field group given".into());
    }
    Ok(mask)
}

/// Names of the groups in a mask.
pub fn group_names(mask: u8) -> Vec<&'static str> {
    FieldGroup::in_mask(mask).map(FieldGroup::name).collect()
}

impl PatientData {
    /// The non-empty groups' fields, by group number.
    pub fn group_fields(&self) -> Vec<(u8, serde_json::Map<String, serde_json::Value>)> {
        let all = serde_json::to_value(self).expect("JSON");
        let pick = |fields: &[&str]| {
            let mut picked = serde_json::Map::new();
            for field in fields {
                if let Some(value) = all.get(*field) {
                    picked.insert((*field).to_string(), value.clone());
                }
            }
            picked
        };
        [
            (0, pick(&["patient_id", "age", "gender"])),
            (1, pick(&["blood_type", "weight_kg", "height_cm"])),
            (2, pick(&["diagnoses"])),
            (3, pick(&["medications", "allergies"])),
            (4, pick(&["notes"])),
        ]
        .into_iter()
        .filter(|(_, fields)| !fields.is_empty())
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_groups_roundtrip_and_masks() {
        let d = PatientData {
            patient_id: Some("P-1".into()),
            age: Some(42),
            blood_type: Some("O+".into()),
            allergies: vec!["penicillin".into()],
            ..Default::default()
        };
        let groups = d.group_fields();
        assert_eq!(
            groups.iter().map(|g| g.0).collect::<Vec<_>>(),
            vec![0, 1, 3]
        );
        let mut back = crate::contents::Contents::default();
        for (_, body) in groups {
            back.merge(body).unwrap();
        }
        assert_eq!(back.data, d);
        assert_eq!(parse_groups("vitals,medications").unwrap(), 0b1010);
        assert_eq!(parse_groups("all").unwrap(), 0b1111_1111);
        assert_eq!(parse_groups("labs,documents").unwrap(), 0b1010_0000);
        assert_eq!(
            parse_groups("vitals,xray").unwrap_err(),
            "unknown field group 'xray' (groups: identity, vitals, diagnoses, medications, notes, labs, care, documents)"
        );
        assert_eq!(group_names(0b101), vec!["identity", "diagnoses"]);
    }
}
