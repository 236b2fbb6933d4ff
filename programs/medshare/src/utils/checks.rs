//! Checks of values anyone hands an instruction (points, keys).

use anchor_lang::prelude::*;

use crate::error::MedshareError;

/// Validates a point anyone handed us (canonical, on the curve, not the
/// identity, torsion-free).
pub(crate) fn require_point(bytes: &[u8; 32]) -> Result<()> {
    encrypted_ixs::point::Point(*bytes)
        .validate()
        .map_err(|_| error!(MedshareError::InvalidPoint))
}

/// Checks that a point decodes (canonical, on the curve, not the identity),
/// without the subgroup check: for points only their author can be hurt by.
pub(crate) fn require_decodes(bytes: &[u8; 32]) -> Result<()> {
    encrypted_ixs::point::Point(*bytes)
        .check_decodes()
        .map_err(|_| error!(MedshareError::InvalidPoint))
}

/// Validates an encryption key: a valid point in the XEdDSA form (sign 0).
pub(crate) fn require_encryption_key(bytes: &[u8; 32], err: MedshareError) -> Result<()> {
    let p = encrypted_ixs::point::Point(*bytes);
    if p.validate().is_err() || !encrypted_ixs::keys::is_xeddsa_form(&p) {
        return Err(err.into());
    }
    Ok(())
}
