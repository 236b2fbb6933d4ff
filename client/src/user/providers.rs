//! Provider roles as users name them. Issuers and providers are
//! administered through `medshare_sdk::admin` (`appoint_issuer`,
//! `revoke_issuer`, `register_provider`, `revoke_provider`).

use medshare::state::ProviderRole;

/// Parses `doctor,hospital` into a provider-role mask.
pub fn parse_roles(list: &str) -> std::result::Result<u8, String> {
    let mut mask = 0u8;
    for role in list
        .split(',')
        .map(str::trim)
        .filter(|role| !role.is_empty())
    {
        mask |= parse_role(role)?.bit();
    }
    Ok(mask)
}

/// Parses one provider role.
pub fn parse_role(role: &str) -> std::result::Result<ProviderRole, String> {
    match role.to_ascii_lowercase().as_str() {
        "doctor" => Ok(ProviderRole::Doctor),
        "hospital" => Ok(ProviderRole::Hospital),
        "insurer" => Ok(ProviderRole::Insurer),
        "researcher" => Ok(ProviderRole::Researcher),
        other => Err(format!(
            "unknown provider role '{other}' (roles: doctor, hospital, insurer, researcher)"
        )),
    }
}

/// Names of the roles in a mask.
pub fn role_names(mask: u8) -> Vec<&'static str> {
    ["doctor", "hospital", "insurer", "researcher"]
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, name)| *name)
        .collect()
}
