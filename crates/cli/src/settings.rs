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
    for (name, set) in ENV_ONLY {
        if let Ok(value) = std::env::var(name) {
            set(&mut config, value);
        }
    }
    Ok(config)
}

/// A setting read from the environment only.
type EnvSetting = (&'static str, fn(&mut Config, String));

/// The settings that have an environment variable and no flag: secrets (a flag would show them
/// in `ps`) and proxy declarations. Every other documented `TESSERA_*` variable is a flag's
/// (clap reads it); a test checks that each one docs/configuration.md names is bound.
const ENV_ONLY: &[EnvSetting] = &[
    ("TESSERA_KEY_ENCRYPTION_KEY", |c, v| {
        if !v.is_empty() {
            c.keys.encryption_key = Some(v);
        }
    }),
    ("TESSERA_KEY_ENCRYPTION_KEY_FILE", |c, v| {
        if !v.is_empty() {
            c.keys.encryption_key_file = Some(PathBuf::from(v));
        }
    }),
    ("TESSERA_DPOP_NONCE_SECRET", |c, v| {
        if !v.is_empty() {
            c.dpop.nonce_secret = Some(v);
        }
    }),
    ("TESSERA_REQUIRE_PUSHED_AUTHORIZATION_REQUESTS", |c, v| {
        c.par.require_pushed_authorization_requests = matches!(v.as_str(), "1" | "true" | "yes");
    }),
    ("TESSERA_BEHIND_TLS_PROXY", |c, v| {
        c.behind_tls_proxy = matches!(v.as_str(), "1" | "true" | "yes");
    }),
    ("TESSERA_TRUSTED_PROXIES", |c, v| {
        c.trusted_proxies = v
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
    }),
];

fn read_file(path: &Path) -> Result<Config, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    Config::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Loads the configuration with the key-encryption key resolved (`tessera serve` and the `keys`
/// commands, which seal and open private keys): from `keys.encryption_key`, or its key file,
/// created on first use (docs/keys.md). Returns the file's path when it was just created, so the
/// caller can say so once its command has done its work (a failing command's stderr starts with
/// its error).
pub fn load_with_kek(store: &StoreArgs) -> Result<(Config, Option<PathBuf>), String> {
    let mut config = load(store)?;
    let created = match tessera_core::keys::kek_file::resolve(&mut config)? {
        tessera_core::keys::kek_file::KekSource::Created(path) => Some(path),
        _ => None,
    };
    Ok((config, created))
}

/// Tells the operator about a key-encryption key file that was just created.
pub fn announce_kek(created: Option<PathBuf>) {
    if let Some(path) = created {
        eprintln!(
            "created the key-encryption key file {} (mode 0600): it seals the signing keys; \
             back it up with the database, a database without it cannot sign",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::CommandFactory;

    use super::*;

    fn flag_envs(cmd: &clap::Command, out: &mut BTreeSet<String>) {
        for arg in cmd.get_arguments() {
            if let Some(env) = arg.get_env() {
                out.insert(env.to_string_lossy().into_owned());
            }
        }
        for sub in cmd.get_subcommands() {
            flag_envs(sub, out);
        }
    }

    #[test]
    fn every_environment_variable_the_configuration_reference_names_is_read() {
        let doc = include_str!("../../../docs/configuration.md");
        let documented: BTreeSet<String> = doc
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("TESSERA_") && w.len() > "TESSERA_".len())
            // The doc generator's own switch, for developers.
            .filter(|w| *w != "TESSERA_WRITE_DOCS")
            .map(str::to_string)
            .collect();
        assert!(
            documented.contains("TESSERA_TLS_CLIENT_CA"),
            "{documented:?}"
        );
        let mut bound: BTreeSet<String> = ENV_ONLY.iter().map(|(n, _)| n.to_string()).collect();
        flag_envs(&crate::Cli::command(), &mut bound);
        let unbound: Vec<_> = documented.difference(&bound).collect();
        assert!(unbound.is_empty(), "documented but never read: {unbound:?}");
    }

    #[test]
    fn environment_only_settings_reach_the_configuration() {
        let mut c = Config::default();
        let values = [
            ("TESSERA_KEY_ENCRYPTION_KEY", "a2V5"),
            ("TESSERA_KEY_ENCRYPTION_KEY_FILE", "/etc/tessera/kek"),
            ("TESSERA_DPOP_NONCE_SECRET", "nonce"),
            ("TESSERA_BEHIND_TLS_PROXY", "true"),
            ("TESSERA_REQUIRE_PUSHED_AUTHORIZATION_REQUESTS", "true"),
            ("TESSERA_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1"),
        ];
        for (name, value) in values {
            let (_, set) = ENV_ONLY.iter().find(|(n, _)| *n == name).unwrap();
            set(&mut c, value.to_string());
        }
        assert_eq!(c.keys.encryption_key.as_deref(), Some("a2V5"));
        assert_eq!(
            c.keys.encryption_key_file.as_deref(),
            Some(Path::new("/etc/tessera/kek"))
        );
        assert_eq!(c.dpop.nonce_secret.as_deref(), Some("nonce"));
        assert!(c.behind_tls_proxy);
        assert!(c.par.require_pushed_authorization_requests);
        assert_eq!(c.trusted_proxies, ["10.0.0.0/8", "192.0.2.1"]);
        assert_eq!(ENV_ONLY.len(), values.len());
    }
}
