//! `provider appoint-issuer|revoke-issuer|register|revoke|show` (the
//! provider registry) and `policy` (a record's required provider roles).

use std::fmt;

use medshare::state::{CredentialIssuer, Provider};
use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

use super::{Ctx, ProviderCommand};
use crate::error::{ClientError, Result};
use crate::user::providers::{parse_role, parse_roles, role_names};
use crate::wallet;

/// What a registry command did or found.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ProviderOutput {
    /// `show`: a provider's entry.
    Entry(ProviderEntry),
    /// Any change: what was done.
    Done {
        /// Always `true`.
        ok: bool,
        /// What was done.
        message: String,
    },
}

/// A provider's registry entry, as `provider show` prints it.
#[derive(Debug, Serialize)]
pub struct ProviderEntry {
    /// The provider's wallet.
    pub provider: String,
    /// Its role (lowercase).
    pub role: String,
    /// The issuer that registered it.
    pub issuer: String,
    /// Whether that issuer is still appointed.
    pub issuer_active: bool,
    /// SHA-256 of the license (hex).
    pub license_hash: String,
    /// Valid from (unix seconds).
    pub valid_from: i64,
    /// Valid until (unix seconds).
    pub valid_until: i64,
    /// Whether the issuer revoked it.
    pub revoked: bool,
    /// The role as the text shows it.
    #[serde(skip)]
    pub role_display: String,
}

impl fmt::Display for ProviderOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderOutput::Entry(entry) => write!(
                f,
                "{}: {}, license {}, valid {}..{}, issuer {} ({}){}",
                entry.provider,
                entry.role_display,
                entry.license_hash,
                entry.valid_from,
                entry.valid_until,
                entry.issuer,
                if entry.issuer_active {
                    "active"
                } else {
                    "revoked"
                },
                if entry.revoked { ", REVOKED" } else { "" }
            ),
            ProviderOutput::Done { message, .. } => write!(f, "{message}"),
        }
    }
}

async fn show(ctx: &Ctx, cluster: &Pubkey, wallet: &Pubkey) -> Result<ProviderEntry> {
    let chain = ctx.chain.as_ref();
    let provider: Provider =
        medshare_sdk::chain::fetch(chain, &medshare::pda::provider(cluster, wallet))
            .await?
            .ok_or_else(|| ClientError::NotProvider {
                wallet: wallet.to_string(),
                cluster: cluster.to_string(),
            })?;
    let issuer_active = medshare_sdk::chain::fetch::<CredentialIssuer>(
        chain,
        &medshare::pda::issuer(cluster, &provider.issuer),
    )
    .await?
    .is_some_and(|issuer| issuer.active);
    Ok(ProviderEntry {
        provider: wallet.to_string(),
        role: format!("{:?}", provider.role).to_lowercase(),
        role_display: format!("{:?}", provider.role),
        issuer: provider.issuer.to_string(),
        issuer_active,
        license_hash: hex::encode(provider.license_hash),
        valid_from: provider.valid_from,
        valid_until: provider.valid_until,
        revoked: provider.revoked,
    })
}

/// Runs one registry command (changes signed by the wallet as admin or issuer).
pub async fn run(ctx: &Ctx, cmd: &ProviderCommand) -> Result<ProviderOutput> {
    if let ProviderCommand::Show { cluster, wallet } = cmd {
        return Ok(ProviderOutput::Entry(show(ctx, cluster, wallet).await?));
    }
    let signer = wallet::load_wallet(&ctx.wallet_path)?;
    let chain = ctx.chain.as_ref();
    let message = match cmd {
        ProviderCommand::AppointIssuer { cluster, issuer } => {
            medshare_sdk::admin::appoint_issuer(chain, &signer, cluster, issuer).await?;
            format!("appointed issuer {issuer} for cluster {cluster}")
        }
        ProviderCommand::RevokeIssuer { cluster, issuer } => {
            medshare_sdk::admin::revoke_issuer(chain, &signer, cluster, issuer).await?;
            format!("revoked issuer {issuer} of cluster {cluster}")
        }
        ProviderCommand::Register {
            cluster,
            wallet,
            role,
            license_hash,
            valid_days,
        } => {
            let role = parse_role(role).map_err(ClientError::BadRole)?;
            let hash: [u8; 32] = hex::decode(license_hash.trim())
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or(ClientError::BadLicenseHash)?;
            let now = medshare_sdk::chain::chain_time(chain).await?;
            let until = now + *valid_days as i64 * 86_400;
            medshare_sdk::admin::register_provider(
                chain,
                &signer,
                cluster,
                medshare::instructions::RegisterProviderArgs {
                    provider: *wallet,
                    role,
                    license_hash: hash,
                    valid_from: now,
                    valid_until: until,
                },
            )
            .await?;
            format!("registered {wallet} as {role:?} until unix time {until}")
        }
        ProviderCommand::Revoke { cluster, wallet } => {
            medshare_sdk::admin::revoke_provider(chain, &signer, cluster, wallet).await?;
            format!("revoked provider {wallet}")
        }
        ProviderCommand::Show { .. } => unreachable!("handled above"),
    };
    Ok(ProviderOutput::Done { ok: true, message })
}

/// `policy`: a record's provider policy, as set.
#[derive(Debug, Serialize)]
pub struct PolicySet {
    /// The record.
    pub record: String,
    /// The provider roles a recipient must hold (empty: none).
    pub required_roles: Vec<&'static str>,
}

impl fmt::Display for PolicySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.required_roles.is_empty() {
            write!(
                f,
                "record {}: no provider verification required",
                self.record
            )
        } else {
            write!(
                f,
                "record {}: shares and consents only to verified [{}]",
                self.record,
                self.required_roles.join(", ")
            )
        }
    }
}

/// Sets the record's provider policy (`none`, or a role list).
pub async fn policy(ctx: &Ctx, record: &str, require: &str) -> Result<PolicySet> {
    let client = ctx.client()?;
    let address = ctx.record(&client, record)?;
    let mask = if require.trim() == "none" {
        0
    } else {
        parse_roles(require).map_err(ClientError::BadRole)?
    };
    client.set_policy(&address, mask).await?;
    Ok(PolicySet {
        record: address.to_string(),
        required_roles: role_names(mask),
    })
}
