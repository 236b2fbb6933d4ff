//! # medshare-fhir
//!
//! FHIR R4 bundles in MedShare records:
//!
//! - [`import`] reads a Bundle (`collection`, `document`, `transaction` or
//!   `searchset`), checks every resource against a typed FHIR model and
//!   returns its entries unchanged. An invalid resource is refused with the
//!   path at fault, for example `Bundle.entry[3].resource (Patient).birthDate:
//!   invalid type: integer `19700101`, expected a string`.
//! - [`group_of`] says which MedShare field group a resource belongs to.
//! - [`export`] writes the resources of the groups a recipient received as
//!   a `collection` Bundle; a reference to a resource that is not in it is
//!   reduced to its `display` (`"not shared"` if it had none), never left
//!   dangling.
//!
//! **The model.** Resources are checked with `fhir-sdk`'s R4B model
//! (FHIR 4.3.0): R4B kept R4's resources and JSON form for everything a
//! patient record holds. `fhir-sdk` ignores elements it does not know, so
//! [`import`] also re-serializes each resource and refuses any element that
//! did not survive (an unknown or misspelled element).
//!
//! **What export normalizes** (the round trip is the same set of resources
//! otherwise): `Bundle.type` becomes `collection` and entries keep only
//! `fullUrl` and `resource` (no `request`, `response` or `search`);
//! references to resources outside the export are reduced as above;
//! attachment `data` moved off-chain by the client is replaced by a `url`.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod research;

use std::collections::HashSet;

pub use encrypted_ixs::FieldGroup;
use fhir_sdk::r4b::resources::Resource;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Bundle types [`import`] accepts.
pub const BUNDLE_TYPES: [&str; 4] = ["collection", "document", "transaction", "searchset"];

/// The `display` given to a reference whose target was not shared.
pub const NOT_SHARED: &str = "not shared";

/// One resource as it was in its bundle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The entry's `fullUrl`, if it had one (how other entries reference it).
    #[serde(rename = "fullUrl", default, skip_serializing_if = "Option::is_none")]
    pub full_url: Option<String>,
    /// The resource.
    pub resource: Value,
}

impl Entry {
    /// The resource's type.
    pub fn resource_type(&self) -> &str {
        self.resource["resourceType"].as_str().unwrap_or("")
    }

    /// `Type/id`, if the resource has an id.
    pub fn local_ref(&self) -> Option<String> {
        let id = self.resource["id"].as_str()?;
        Some(format!("{}/{id}", self.resource_type()))
    }
}

/// Why a bundle was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FhirError {
    /// Not JSON at all.
    #[error("not JSON: {0}")]
    Json(String),
    /// JSON, but not a Bundle.
    #[error("not a FHIR Bundle (resourceType is {0})")]
    NotBundle(String),
    /// JSON without a `resourceType`: not FHIR at all.
    #[error("JSON without a resourceType: not a FHIR resource (a FHIR R4 Bundle is expected)")]
    NotFhir,
    /// A Bundle with no entry: nothing to store.
    #[error("the Bundle has no entries")]
    Empty,
    /// A Bundle type that is not a set of resources to store.
    #[error("Bundle.type {0} is not imported (collection, document, transaction or searchset)")]
    BundleType(String),
    /// A resource that is not valid FHIR, with the path at fault.
    #[error("{path}: {message}")]
    Invalid {
        /// Where: `Bundle.entry[i].resource (Type).element…`.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads and checks a Bundle; returns its entries unchanged.
pub fn import(text: &str) -> Result<Vec<Entry>, FhirError> {
    let bundle: Value = serde_json::from_str(text).map_err(|e| FhirError::Json(e.to_string()))?;
    let Some(rt) = bundle["resourceType"].as_str() else {
        return Err(FhirError::NotFhir);
    };
    if rt != "Bundle" {
        return Err(FhirError::NotBundle(rt.to_string()));
    }
    let ty = bundle["type"].as_str().unwrap_or("none");
    if !BUNDLE_TYPES.contains(&ty) {
        return Err(FhirError::BundleType(ty.to_string()));
    }
    let entries = match &bundle["entry"] {
        Value::Null => &[][..],
        Value::Array(a) => &a[..],
        _ => {
            return Err(FhirError::Invalid {
                path: "Bundle.entry".into(),
                message: "not an array".into(),
            })
        }
    };
    if entries.is_empty() {
        return Err(FhirError::Empty);
    }
    let mut out = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let path = format!("Bundle.entry[{i}]");
        let Some(resource) = e.get("resource") else {
            return Err(FhirError::Invalid {
                path,
                message: "has no resource".into(),
            });
        };
        let full_url = match e.get("fullUrl") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(FhirError::Invalid {
                    path: format!("{path}.fullUrl"),
                    message: "not a string".into(),
                })
            }
        };
        check_resource(resource, &format!("{path}.resource"))?;
        out.push(Entry {
            full_url,
            resource: resource.clone(),
        });
    }
    Ok(out)
}

/// Checks one resource against the typed model; `path` names it in errors.
pub fn check_resource(resource: &Value, path: &str) -> Result<(), FhirError> {
    let ty = resource["resourceType"].as_str().unwrap_or("?");
    let here = format!("{path} ({ty})");
    match serde_json::from_value::<Resource>(resource.clone()) {
        Ok(typed) => {
            let back = serde_json::to_value(&typed).map_err(|e| FhirError::Invalid {
                path: here.clone(),
                message: e.to_string(),
            })?;
            match first_dropped(resource, &back, &here) {
                Some(p) => Err(FhirError::Invalid {
                    path: p,
                    message: "unknown element".into(),
                }),
                None => Ok(()),
            }
        }
        Err(e) => Err(FhirError::Invalid {
            path: culprit(resource, &here),
            message: e.to_string(),
        }),
    }
}

/// The top-level element whose removal makes an invalid resource parse,
/// as a path; `here` if there is no single one.
fn culprit(resource: &Value, here: &str) -> String {
    let Some(obj) = resource.as_object() else {
        return here.to_string();
    };
    for k in obj.keys().filter(|k| *k != "resourceType") {
        let mut without = obj.clone();
        without.remove(k);
        if serde_json::from_value::<Resource>(Value::Object(without)).is_ok() {
            return format!("{here}.{k}");
        }
    }
    here.to_string()
}

/// The first element of `input` that has no counterpart in `output`.
fn first_dropped(input: &Value, output: &Value, path: &str) -> Option<String> {
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => a.iter().find_map(|(k, v)| match b.get(k) {
            None => Some(format!("{path}.{k}")),
            Some(w) => first_dropped(v, w, &format!("{path}.{k}")),
        }),
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Some(path.to_string());
            }
            a.iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (v, w))| first_dropped(v, w, &format!("{path}[{i}]")))
        }
        _ => None,
    }
}

/// The MedShare field group of a resource:
///
/// | group | resources |
/// | --- | --- |
/// | 0 identity | Patient, RelatedPerson |
/// | 1 vitals | Observation with category `vital-signs` |
/// | 2 diagnoses | Condition |
/// | 3 medications | Medication, MedicationStatement, MedicationRequest, MedicationAdministration, MedicationDispense, AllergyIntolerance |
/// | 4 notes | everything else (Composition, ClinicalImpression, Practitioner, Organization, Claim, …) |
/// | 5 labs | other Observations, DiagnosticReport, Specimen |
/// | 6 care | Immunization, Procedure, Encounter, CarePlan, CareTeam, Goal, ServiceRequest, ImagingStudy, Device |
/// | 7 documents | DocumentReference, DocumentManifest, Binary, Media |
pub fn group_of(resource: &Value) -> FieldGroup {
    match resource["resourceType"].as_str().unwrap_or("") {
        "Patient" | "RelatedPerson" => FieldGroup::Identity,
        "Observation" if is_vital_sign(resource) => FieldGroup::Vitals,
        "Condition" => FieldGroup::Diagnoses,
        "Medication"
        | "MedicationStatement"
        | "MedicationRequest"
        | "MedicationAdministration"
        | "MedicationDispense"
        | "AllergyIntolerance" => FieldGroup::Medications,
        "Observation" | "DiagnosticReport" | "Specimen" => FieldGroup::Labs,
        "Immunization" | "Procedure" | "Encounter" | "CarePlan" | "CareTeam" | "Goal"
        | "ServiceRequest" | "ImagingStudy" | "Device" => FieldGroup::Care,
        "DocumentReference" | "DocumentManifest" | "Binary" | "Media" => FieldGroup::Documents,
        _ => FieldGroup::Notes,
    }
}

fn is_vital_sign(obs: &Value) -> bool {
    obs["category"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["coding"].as_array().into_iter().flatten())
        .any(|c| c["code"] == "vital-signs")
}

/// JSON pointers (within `resource`) of every Attachment that carries its
/// bytes inline (`data`), so the client can move them off-chain. Binary
/// resources (whose `data` is not an Attachment) are not included.
pub fn inline_attachments(resource: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk_attachments(resource, String::new(), &mut out);
    out
}

fn walk_attachments(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            let attachment = o.get("data").is_some_and(Value::is_string)
                && !o.contains_key("resourceType")
                && ["origin", "dimensions", "who", "when", "sigFormat"]
                    .iter()
                    .all(|k| !o.contains_key(*k));
            if attachment {
                out.push(at.clone());
            }
            for (k, w) in o {
                walk_attachments(
                    w,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, w) in a.iter().enumerate() {
                walk_attachments(w, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A `collection` Bundle of `entries`, references outside it reduced to
/// their display.
pub fn export(entries: &[Entry]) -> Value {
    let known: HashSet<String> = entries
        .iter()
        .flat_map(|e| e.full_url.clone().into_iter().chain(e.local_ref()))
        .collect();
    let entry: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut resource = e.resource.clone();
            prune_references(&mut resource, &known);
            let mut m = Map::new();
            if let Some(u) = &e.full_url {
                m.insert("fullUrl".into(), Value::String(u.clone()));
            }
            m.insert("resource".into(), resource);
            Value::Object(m)
        })
        .collect();
    json!({ "resourceType": "Bundle", "type": "collection", "entry": entry })
}

/// Whether `reference` resolves to a resource in `known` (full URLs and
/// `Type/id`), or inside its own resource (`#id`).
pub fn resolves(reference: &str, known: &HashSet<String>) -> bool {
    if reference.starts_with('#') || known.contains(reference) {
        return true;
    }
    // `…/Type/id/_history/n` and absolute `base/Type/id`.
    let plain = reference.split("/_history/").next().unwrap_or(reference);
    let parts: Vec<&str> = plain.rsplitn(3, '/').collect();
    parts.len() >= 2 && known.contains(&format!("{}/{}", parts[1], parts[0]))
}

fn prune_references(v: &mut Value, known: &HashSet<String>) {
    match v {
        Value::Object(o) => {
            let dangling = o
                .get("reference")
                .and_then(Value::as_str)
                .is_some_and(|r| !resolves(r, known));
            if dangling {
                o.remove("reference");
                o.entry("display")
                    .or_insert_with(|| Value::String(NOT_SHARED.into()));
            }
            for w in o.values_mut() {
                prune_references(w, known);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|w| prune_references(w, known)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(resources: Vec<Value>) -> String {
        let entry: Vec<Value> = resources
            .into_iter()
            .enumerate()
            .map(|(i, r)| json!({"fullUrl": format!("urn:uuid:{i}"), "resource": r}))
            .collect();
        json!({"resourceType": "Bundle", "type": "collection", "entry": entry}).to_string()
    }

    #[test]
    fn test_import_refuses_with_path() {
        let ok = json!({"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01"});
        let wrong_type = json!({"resourceType": "Patient", "id": "p1", "birthDate": 19700101});
        let unknown = json!({"resourceType": "Patient", "id": "p1", "name": [{"famly": "X"}]});
        assert_eq!(import(&bundle(vec![ok.clone()])).unwrap().len(), 1);
        let e = import(&bundle(vec![ok.clone(), wrong_type])).unwrap_err();
        let FhirError::Invalid { path, .. } = &e else {
            panic!("{e}")
        };
        assert_eq!(path, "Bundle.entry[1].resource (Patient).birthDate");
        assert_eq!(
            import(&bundle(vec![unknown])).unwrap_err(),
            FhirError::Invalid {
                path: "Bundle.entry[0].resource (Patient).name[0].famly".into(),
                message: "unknown element".into()
            }
        );
        assert_eq!(
            import(r#"{"resourceType":"Patient"}"#)
                .unwrap_err()
                .to_string(),
            "not a FHIR Bundle (resourceType is Patient)"
        );
        assert_eq!(
            import(r#"{"resourceType":"Bundle","type":"history"}"#)
                .unwrap_err()
                .to_string(),
            "Bundle.type history is not imported (collection, document, transaction or searchset)"
        );
        assert_eq!(
            import(r#"{"resourceType":"Bundle","type":"collection","entry":[{}]}"#)
                .unwrap_err()
                .to_string(),
            "Bundle.entry[0]: has no resource"
        );
        assert_eq!(import(&bundle(vec![])).unwrap_err(), FhirError::Empty);
        assert_eq!(
            import(r#"{"resourceType":"Bundle","type":"collection"}"#).unwrap_err(),
            FhirError::Empty
        );
        assert_eq!(
            import(r#"{"patient_id":"P-1","age":42}"#)
                .unwrap_err()
                .to_string(),
            "JSON without a resourceType: not a FHIR resource (a FHIR R4 Bundle is expected)"
        );
    }

    #[test]
    fn test_groups_and_export_prunes_references() {
        let p = json!({"resourceType": "Patient", "id": "p1"});
        let vital = json!({"resourceType": "Observation", "id": "o1", "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
            "code": {"text": "weight"}, "subject": {"reference": "urn:uuid:0"},
            "performer": [{"reference": "Practitioner/dr", "display": "Dr X"}, {"reference": "Organization/o"}]});
        let lab = json!({"resourceType": "Observation", "id": "o2", "status": "final", "code": {"text": "HbA1c"}});
        assert_eq!(group_of(&p), FieldGroup::Identity);
        assert_eq!(group_of(&vital), FieldGroup::Vitals);
        assert_eq!(group_of(&lab), FieldGroup::Labs);
        assert_eq!(
            group_of(&json!({"resourceType": "Claim"})),
            FieldGroup::Notes
        );
        let entries = import(&bundle(vec![p, vital])).unwrap();
        let out = export(&entries);
        let perf = &out["entry"][1]["resource"]["performer"];
        assert_eq!(perf, &json!([{"display": "Dr X"}, {"display": NOT_SHARED}]));
        assert_eq!(
            out["entry"][1]["resource"]["subject"],
            json!({"reference": "urn:uuid:0"})
        );
        // The export is itself a valid bundle.
        assert_eq!(import(&out.to_string()).unwrap().len(), 2);
        let known: HashSet<String> = ["Patient/d1".to_string()].into();
        assert!(resolves("http://x.org/fhir/Patient/d1", &known));
        assert!(resolves("Patient/d1/_history/2", &known));
        assert!(!resolves("Patient/d2", &known));
    }

    #[test]
    fn test_inline_attachments_found() {
        let d = json!({"resourceType": "DocumentReference", "status": "current",
            "content": [{"attachment": {"contentType": "application/pdf", "data": "aGVsbG8="}},
                        {"attachment": {"contentType": "text/plain", "url": "http://x"}}]});
        assert_eq!(inline_attachments(&d), vec!["/content/0/attachment"]);
        let b = json!({"resourceType": "Binary", "contentType": "text/plain", "data": "aGVsbG8="});
        assert!(inline_attachments(&b).is_empty());
    }
}

#[cfg(test)]
mod fixtures {
    use super::*;

    /// Bundles nobody on this team wrote (see tests/fixtures/fhir/README.md)
    /// import whole, and their export imports again.
    #[test]
    fn test_published_bundles_import_and_export() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fhir");
        for (file, n) in [
            ("synthea-afhir.json", 319),
            ("Bundle-father.json", 8),
            ("Bundle-xds.json", 5),
        ] {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            let entries = import(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(entries.len(), n, "{file}");
            let again = import(&export(&entries).to_string()).unwrap();
            assert_eq!(again.len(), n, "{file}");
        }
    }
}
