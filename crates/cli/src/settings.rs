//! Building the configuration: defaults, then the TOML file, then `TESSERA_*` environment
//! variables and flags (clap reads each flag's environment variable itself; a flag wins).
use std::path::{Path, PathBuf};

use clap::Args;
use tessera_core::Config;

/// Options shared by every subcommand that opens the database.
#[derive(Args, Clone, Debug, Default)]
pub struct StoreArgs {
    /// Store URL, e.g. sqlite:tessera.db [default: sqlite:tessera.db, or the config file's]
    #[arg(long, env = "TESSERA_DATABASE")]
    pub database: Option<String>,
    /// TOML configuration file.
    #[arg(long, env = "TESSERA_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Opens the store the configuration names (the administration commands work on it directly).
pub async fn open_store(
    store: &StoreArgs,
) -> Result<std::sync::Arc<dyn tessera_core::store::Store>, String> {
    tessera_store::open(&load(store)?.database).await
}

/// Loads the file (if any) and applies the store flag and environment-only settings.
pub fn load(store: &StoreArgs) -> Result<Config, String> {
    let mut config = match &store.config {
        Some(path) => read_file(path)?,
        None => Config::default(),
    };
    if let Some(db) = &store.database {
        config.database = db.clone();
    }
    if let Ok(key) = std::env::var("TESSERA_KEY_ENCRYPTION_KEY")
        && !key.is_empty()
    {
        config.keys.encryption_key = Some(key);
    }
    if let Ok(path) = std::env::var("TESSERA_KEY_ENCRYPTION_KEY_FILE")
        && !path.is_empty()
    {
        config.keys.encryption_key_file = Some(PathBuf::from(path));
    }
    if let Ok(v) = std::env::var("TESSERA_BEHIND_TLS_PROXY") {
        config.behind_tls_proxy = matches!(v.as_str(), "1" | "true" | "yes");
    }
    if let Ok(v) = std::env::var("TESSERA_TRUSTED_PROXIES") {
        config.trusted_proxies = v
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
    }
    Ok(config)
}

fn read_file(path: &Path) -> Result<Config, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    Config::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Loads the configuration with the key-encryption key resolved (`tessera serve` and the `keys`
/// commands, which seal and open private keys): from `keys.encryption_key`, or its key file,
/// created on first use (docs/keys.md).
pub fn load_with_kek(store: &StoreArgs) -> Result<Config, String> {
    let mut config = load(store)?;
    if let tessera_core::keys::kek_file::KekSource::Created(path) =
        tessera_core::keys::kek_file::resolve(&mut config)?
    {
        eprintln!(
            "created the key-encryption key file {} (mode 0600): it seals the signing keys; \
             back it up with the database, a database without it cannot sign",
            path.display()
        );
    }
    Ok(config)
}
