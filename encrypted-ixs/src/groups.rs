//! A record's field groups: the unit a record is sealed and shared in, each
//! group under its own data key. The program knows groups only by number
//! (`0..MAX_GROUPS`, one bit each in a mask); names and the FHIR mapping are
//! the clients'.

use core::fmt;

use crate::MAX_GROUPS;

/// One field group of a record.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[repr(u8)]
pub enum FieldGroup {
    /// Who the patient is (FHIR `Patient`, `RelatedPerson`).
    Identity = 0,
    /// Vital signs.
    Vitals = 1,
    /// Diagnoses (FHIR `Condition`).
    Diagnoses = 2,
    /// Medications, with allergies.
    Medications = 3,
    /// Notes, and any resource no other group takes.
    Notes = 4,
    /// Laboratory results, reports and specimens.
    Labs = 5,
    /// Care: immunizations, procedures, encounters, plans, devices.
    Care = 6,
    /// Attachments and FHIR documents.
    Documents = 7,
}

impl FieldGroup {
    /// Every group, by number.
    pub const ALL: [FieldGroup; MAX_GROUPS] = [
        FieldGroup::Identity,
        FieldGroup::Vitals,
        FieldGroup::Diagnoses,
        FieldGroup::Medications,
        FieldGroup::Notes,
        FieldGroup::Labs,
        FieldGroup::Care,
        FieldGroup::Documents,
    ];

    /// Its number (`0..MAX_GROUPS`), as the program stores it.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// Its bit in a group mask.
    pub const fn bit(self) -> u8 {
        1 << self as u8
    }

    /// Its name, as users type it.
    pub const fn name(self) -> &'static str {
        match self {
            FieldGroup::Identity => "identity",
            FieldGroup::Vitals => "vitals",
            FieldGroup::Diagnoses => "diagnoses",
            FieldGroup::Medications => "medications",
            FieldGroup::Notes => "notes",
            FieldGroup::Labs => "labs",
            FieldGroup::Care => "care",
            FieldGroup::Documents => "documents",
        }
    }

    /// The group with this number.
    pub fn from_number(n: u8) -> Option<FieldGroup> {
        FieldGroup::ALL.get(n as usize).copied()
    }

    /// The group with this name (any case) or number.
    pub fn parse(name: &str) -> Option<FieldGroup> {
        let name = name.trim();
        FieldGroup::ALL
            .into_iter()
            .find(|g| g.name().eq_ignore_ascii_case(name))
            .or_else(|| name.parse::<u8>().ok().and_then(FieldGroup::from_number))
    }

    /// The groups of `mask`, in order.
    pub fn in_mask(mask: u8) -> impl Iterator<Item = FieldGroup> {
        FieldGroup::ALL
            .into_iter()
            .filter(move |g| mask & g.bit() != 0)
    }

    /// The mask of `groups`.
    pub fn mask_of(groups: impl IntoIterator<Item = FieldGroup>) -> u8 {
        groups.into_iter().fold(0, |m, g| m | g.bit())
    }
}

impl fmt::Display for FieldGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbers, bits, names and masks agree, and parsing takes a name in
    /// any case or a number, nothing else.
    #[test]
    fn test_field_groups_round_trip() {
        for (n, g) in FieldGroup::ALL.into_iter().enumerate() {
            assert_eq!(g.number() as usize, n);
            assert_eq!(g.bit(), 1 << n);
            assert_eq!(FieldGroup::from_number(n as u8), Some(g));
            assert_eq!(FieldGroup::parse(g.name()), Some(g));
            assert_eq!(FieldGroup::parse(&g.name().to_uppercase()), Some(g));
            assert_eq!(FieldGroup::parse(&n.to_string()), Some(g));
        }
        assert_eq!(FieldGroup::from_number(8), None);
        assert_eq!(FieldGroup::parse("8"), None);
        assert_eq!(FieldGroup::parse("vital"), None);
        let mask = FieldGroup::mask_of([FieldGroup::Vitals, FieldGroup::Documents]);
        assert_eq!(mask, 0b1000_0010);
        assert_eq!(
            FieldGroup::in_mask(mask).collect::<Vec<_>>(),
            vec![FieldGroup::Vitals, FieldGroup::Documents]
        );
    }
}
