//! Node configuration: a TOML file, overridden by environment variables and
//! flags (`MEDSHARE_NODE_*`, see `mpc-node --help`).
//!
//! ```toml
//! url = "devnet"                       # or "localnet", or a URL
//! keypair = "/etc/medshare/authority.json"
//! cluster = "<cluster address>"
//! key_store = "/var/lib/medshare/node-keys.json"
//! passphrase_file = "/run/secrets/medshare-passphrase"
//! poll_interval_ms = 400
//! callback_fallback_ms = 2000
//! contribution_fallback_ms = 1000
//! metrics_addr = "127.0.0.1:9464"
//! log_format = "json"                  # or "human"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The TOML file's contents; every key is optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// RPC URL or moniker.
    pub url: Option<String>,
    /// Node authority keypair file.
    pub keypair: Option<PathBuf>,
    /// Cluster address.
    pub cluster: Option<String>,
    /// Encrypted key store file.
    pub key_store: Option<PathBuf>,
    /// File holding the key-store passphrase.
    pub passphrase_file: Option<PathBuf>,
    /// Chain poll interval.
    pub poll_interval_ms: Option<u64>,
    /// Delay per rank before a node that did not finish a computation posts its callback.
    pub callback_fallback_ms: Option<u64>,
    /// Delay per rank before a node beyond the first `t` contributes.
    pub contribution_fallback_ms: Option<u64>,
    /// Prometheus endpoint address.
    pub metrics_addr: Option<String>,
    /// `human` or `json`.
    pub log_format: Option<String>,
}

/// Config-file errors.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable file.
    #[error("config {0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// Invalid TOML or unknown key.
    #[error("config {0}: {1}")]
    Parse(PathBuf, String),
}

impl FileConfig {
    /// Loads a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io(path.into(), e))?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse(path.into(), e.message().to_string()))
    }
}

/// `~/.config/medshare/node`, where `init` puts things by default.
pub fn default_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".config/medshare/node")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_config_parses_and_rejects_unknown_keys() {
        let c: FileConfig = toml::from_str(
            "url = \"devnet\"\npoll_interval_ms = 250\ncontribution_fallback_ms = 300\n",
        )
        .unwrap();
        assert_eq!(c.url.as_deref(), Some("devnet"));
        assert_eq!(c.poll_interval_ms, Some(250));
        assert_eq!(c.contribution_fallback_ms, Some(300));
        assert_eq!(c.callback_fallback_ms, None);
        assert!(toml::from_str::<FileConfig>("colour = \"red\"").is_err());
    }
}
