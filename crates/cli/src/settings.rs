//! Building the configuration: defaults, then the TOML file, then the `TESSERA_*` environment
//! variables of core's one table (`tessera_core::config::ENV`, each named after the key it
//! sets), then flags (a flag wins). clap reads only the variables that are not configuration
//! keys (`TESSERA_CONFIG`, the monitor's files).
use std::path::{Path, PathBuf};

use clap::Args;
use tessera_core::Config;

/// Options shared by every subcommand that opens the database.
#[derive(Args, Clone, Debug, Default)]
pub struct StoreArgs {
    /// Store URL, e.g. sqlite:tessera.db [default: sqlite:tessera.db, or the config file's]
    #[arg(long)]
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

/// Loads the file (if any), then applies the environment and the store flag.
pub fn load(store: &StoreArgs) -> Result<Config, String> {
    let mut config = match &store.config {
        Some(path) => read_file(path)?,
        None => Config::default(),
    };
    tessera_core::config::apply_env(&mut config, |name| std::env::var(name).ok())
        .map_err(|e| e.to_string())?;
    if let Some(db) = &store.database {
        config.database = db.clone();
    }
    Ok(config)
}

/// Parses the command line, each flag that sets a configuration key naming in its help the
/// variable core's table binds to the same key (clap does not read those variables itself).
pub fn parse_command_line<P: clap::Parser>() -> P {
    let matches = with_env_in_help(P::command()).get_matches();
    P::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Appends `[env: NAME]` to the help of every flag whose id is a key of `tessera_core::config::ENV`
/// (`refresh.reuse_grace_secs` is `--refresh-reuse-grace-secs`), in every subcommand.
fn with_env_in_help(mut cmd: clap::Command) -> clap::Command {
    for sub in cmd.get_subcommands_mut() {
        *sub = with_env_in_help(std::mem::take(sub));
    }
    for var in tessera_core::config::ENV {
        let id = var.key.replace('.', "_");
        if cmd.get_arguments().any(|a| a.get_id() == id.as_str()) {
            let name = var.name();
            cmd = cmd.mut_arg(id, |arg| {
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                arg.help(format!("{help} [env: {name}]"))
            });
        }
    }
    cmd
}

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
    let created =
        match tessera_core::keys::kek_file::resolve(&mut config).map_err(|e| e.to_string())? {
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

    use super::with_env_in_help;

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
    fn the_help_of_a_configuration_flag_names_its_variable() {
        let mut cmd = with_env_in_help(crate::Cli::command());
        let serve = cmd.find_subcommand_mut("serve").unwrap();
        let help = |id: &str| {
            serve
                .get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_help())
                .map(ToString::to_string)
                .unwrap_or_default()
        };
        assert!(help("tls_client_ca").ends_with("[env: TESSERA_TLS_CLIENT_CA]"));
        assert!(
            help("refresh_reuse_grace_secs").ends_with("[env: TESSERA_REFRESH_REUSE_GRACE_SECS]")
        );
        assert!(help("database").ends_with("[env: TESSERA_DATABASE]"));
        assert!(!help("no_monitor").contains("[env:"));
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
        let mut bound: BTreeSet<String> = tessera_core::config::ENV
            .iter()
            .map(tessera_core::config::EnvVar::name)
            .collect();
        flag_envs(&crate::Cli::command(), &mut bound);
        let unbound: Vec<_> = documented.difference(&bound).collect();
        assert!(unbound.is_empty(), "documented but never read: {unbound:?}");
    }
}
