//! Research values read from a record's FHIR resources, so a
//! patient consents to `age` or `loinc:29463-7` without typing the number:
//!
//! | field | value |
//! | --- | --- |
//! | `age` | whole years from `Patient.birthDate` to the given day |
//! | `weight`, `height` | the latest Observation with LOINC 29463-7 (kg) or 8302-2 (cm), rounded |
//! | `loinc:<code>` | the latest Observation with that code, `valueQuantity` rounded |
//! | `condition:<code>` | 1 if a Condition has that code (and is not `entered-in-error`), else 0 |
//! | `medication:<code>` | 1 if a MedicationRequest or MedicationStatement has that code, else 0 |
//!
//! "Latest" is by `effectiveDateTime` (or `issued`).

use serde_json::Value;

use crate::Entry;

fn codes(concept: &Value) -> impl Iterator<Item = &str> {
    concept["coding"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["code"].as_str())
}

fn of_type<'a>(entries: &'a [Entry], types: &'a [&str]) -> impl Iterator<Item = &'a Value> {
    entries
        .iter()
        .filter(move |e| types.contains(&e.resource_type()))
        .map(|e| &e.resource)
}

/// The civil date `(year, month, day)` of a unix time (UTC).
pub fn civil_date(unix: i64) -> (i64, u32, u32) {
    // Days since 1970-01-01 to the proleptic Gregorian calendar
    // (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
    let z = unix.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn age_on(birth: &str, today: (i64, u32, u32)) -> Option<u64> {
    let mut parts = birth.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next().map_or(Some(1), |p| p.parse().ok())?;
    let d: u32 = parts.next().map_or(Some(1), |p| p.get(..2)?.parse().ok())?;
    let mut age = today.0 - y;
    if (today.1, today.2) < (m, d) {
        age -= 1;
    }
    u64::try_from(age).ok()
}

fn latest_quantity(entries: &[Entry], code: &str) -> Option<f64> {
    of_type(entries, &["Observation"])
        .filter(|o| codes(&o["code"]).any(|c| c == code))
        .filter_map(|o| {
            let when = o["effectiveDateTime"]
                .as_str()
                .or(o["issued"].as_str())
                .unwrap_or("");
            Some((when, o["valueQuantity"]["value"].as_f64()?))
        })
        .max_by(|a, b| a.0.cmp(b.0))
        .map(|(_, v)| v)
}

/// The value of research field `field` in `entries`, on day `today`;
/// `Err` says what the record lacks.
pub fn research_value(
    entries: &[Entry],
    field: &str,
    today: (i64, u32, u32),
) -> Result<u64, String> {
    let rounded = |v: f64, what: &str| {
        if v.is_finite() && v >= 0.0 {
            Ok(v.round() as u64)
        } else {
            Err(format!("the record's {what} is not a non-negative number"))
        }
    };
    match field {
        "age" => of_type(entries, &["Patient"])
            .find_map(|p| p["birthDate"].as_str())
            .and_then(|b| age_on(b, today))
            .ok_or_else(|| "the record has no Patient.birthDate".to_string()),
        "weight" | "height" => {
            let code = if field == "weight" {
                "29463-7"
            } else {
                "8302-2"
            };
            let v = latest_quantity(entries, code)
                .ok_or_else(|| format!("the record has no {field} Observation (LOINC {code})"))?;
            rounded(v, field)
        }
        _ => {
            if let Some(code) = field.strip_prefix("loinc:") {
                let v = latest_quantity(entries, code)
                    .ok_or_else(|| format!("the record has no Observation with LOINC {code}"))?;
                rounded(v, field)
            } else if let Some(code) = field.strip_prefix("condition:") {
                Ok(u64::from(of_type(entries, &["Condition"]).any(|c| {
                    c["verificationStatus"]["coding"][0]["code"] != "entered-in-error"
                        && codes(&c["code"]).any(|x| x == code)
                })))
            } else if let Some(code) = field.strip_prefix("medication:") {
                Ok(u64::from(
                    of_type(entries, &["MedicationRequest", "MedicationStatement"])
                        .any(|m| codes(&m["medicationCodeableConcept"]).any(|x| x == code)),
                ))
            } else {
                Err(format!("no FHIR mapping for field '{field}'"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synthea() -> Vec<Entry> {
        crate::import(include_str!(
            "../../../tests/fixtures/fhir/synthea-afhir.json"
        ))
        .unwrap()
    }

    #[test]
    fn test_civil_date() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(951_782_400), (2000, 2, 29));
        assert_eq!(civil_date(1_796_428_800), (2026, 12, 5));
        assert_eq!(civil_date(-86_400), (1969, 12, 31));
    }

    /// Values read from a Synthea patient nobody on this team wrote: born
    /// 1945-12-10; latest weight 84.17 kg and height 173.90 cm
    /// (2019-04-22); prediabetes (15777000) recorded, asthma (195967001)
    /// not; one medication (310965).
    #[test]
    fn test_research_values_from_synthea() {
        let e = synthea();
        let day = |y, m, d| (y, m, d);
        assert_eq!(research_value(&e, "age", day(2026, 12, 9)), Ok(80));
        assert_eq!(research_value(&e, "age", day(2026, 12, 10)), Ok(81));
        assert_eq!(research_value(&e, "weight", day(2026, 1, 1)), Ok(84));
        assert_eq!(research_value(&e, "height", day(2026, 1, 1)), Ok(174));
        assert_eq!(research_value(&e, "loinc:8302-2", day(2026, 1, 1)), Ok(174));
        assert_eq!(
            research_value(&e, "condition:15777000", day(2026, 1, 1)),
            Ok(1)
        );
        assert_eq!(
            research_value(&e, "condition:195967001", day(2026, 1, 1)),
            Ok(0)
        );
        assert_eq!(
            research_value(&e, "medication:310965", day(2026, 1, 1)),
            Ok(1)
        );
        assert_eq!(research_value(&e, "medication:1", day(2026, 1, 1)), Ok(0));
        assert_eq!(
            research_value(&e, "loinc:0000-0", day(2026, 1, 1)),
            Err("the record has no Observation with LOINC 0000-0".to_string())
        );
        assert_eq!(
            research_value(&[], "age", day(2026, 1, 1)),
            Err("the record has no Patient.birthDate".to_string())
        );
    }
}
