//! The environment, bound in one place: every `TESSERA_*` variable that sets a configuration key
//! is a line of [`ENV`], named after the key it sets (`TESSERA_` + the key's path upper-cased,
//! `.` → `_`: `refresh.reuse_grace_secs` is `TESSERA_REFRESH_REUSE_GRACE_SECS`), except two
//! names kept from before the table. The CLI applies them (`settings.rs`) between the file and
//! the flags, and docs/configuration.md names each key's variable from here.
use std::net::SocketAddr;
use std::path::PathBuf;

use tessera_proto::Secret;

use super::Config;

/// One environment variable and the configuration key it sets.
pub struct EnvVar {
    /// The key's path as in the TOML file (`section.key`), taken from the field it sets.
    pub key: &'static str,
    /// The variable's name when it is not the one derived from `key`.
    alias: Option<&'static str>,
    /// Parses a value and stores it in the key; an empty value leaves optional, numeric and
    /// address keys alone (as an unset variable does).
    apply: fn(&mut Config, &str) -> Result<(), Refused>,
}

impl EnvVar {
    /// The variable's name.
    pub fn name(&self) -> String {
        match self.alias {
            Some(alias) => alias.to_string(),
            None => env_name(self.key),
        }
    }
}

/// `TESSERA_` + the key's path, upper-cased, with `.` as `_`.
pub fn env_name(key: &str) -> String {
    format!("TESSERA_{}", key.replace('.', "_").to_ascii_uppercase())
}

/// A variable whose value does not parse for its key.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct EnvError {
    /// The variable.
    pub name: String,
    /// Why its value is refused.
    pub reason: Refused,
}

/// Why a variable's value is refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// Not `address:port`.
    #[error("{0:?} is not an address and port")]
    NotAnAddress(String),
    /// Not a whole number.
    #[error("{0:?} is not a whole number")]
    NotANumber(String),
}

/// Binds a field (its path is the key) to a parser; `= "NAME"` keeps an older variable name.
macro_rules! bind {
    ($($field:ident).+, $parse:expr $(, $alias:literal)?) => {
        EnvVar {
            key: stringify!($($field).+),
            alias: bind!(@alias $($alias)?),
            apply: |c, v| {
                if let Some(value) = $parse(v)? {
                    c.$($field).+ = value;
                }
                Ok(())
            },
        }
    };
    (@alias) => { None };
    (@alias $alias:literal) => { Some($alias) };
}

/// Every environment variable that sets a configuration key. Settings without a flag are here
/// too: secrets (a flag would show them in `ps`) and proxy declarations.
pub static ENV: &[EnvVar] = &[
    bind!(listen, address),
    bind!(admin_listen, address),
    bind!(database, text),
    bind!(issuer, optional_text),
    bind!(tls_cert, path),
    bind!(tls_key, path),
    bind!(tls_client_ca, path),
    bind!(behind_tls_proxy, flag),
    bind!(trusted_proxies, list),
    bind!(refresh.reuse_grace_secs, number),
    bind!(par.require_pushed_authorization_requests, flag),
    bind!(keys.encryption_key, secret, "TESSERA_KEY_ENCRYPTION_KEY"),
    bind!(
        keys.encryption_key_file,
        path,
        "TESSERA_KEY_ENCRYPTION_KEY_FILE"
    ),
    bind!(dpop.nonce_secret, secret),
];

/// Applies every variable `var` finds (`std::env::var` in the CLI) to `config`.
pub fn apply_env(
    config: &mut Config,
    var: impl Fn(&str) -> Option<String>,
) -> Result<(), EnvError> {
    for binding in ENV {
        let name = binding.name();
        if let Some(value) = var(&name) {
            (binding.apply)(config, &value).map_err(|reason| EnvError { name, reason })?;
        }
    }
    Ok(())
}

/// The binding of `key`, if it has a variable.
pub fn binding(key: &str) -> Option<&'static EnvVar> {
    ENV.iter().find(|b| b.key == key)
}

type Parsed<T> = Result<Option<T>, Refused>;

fn address(v: &str) -> Parsed<SocketAddr> {
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| Refused::NotAnAddress(v.to_string()))
}

fn text(v: &str) -> Parsed<String> {
    Ok((!v.is_empty()).then(|| v.to_string()))
}

fn optional_text(v: &str) -> Parsed<Option<String>> {
    Ok(text(v)?.map(Some))
}

fn path(v: &str) -> Parsed<Option<PathBuf>> {
    Ok((!v.is_empty()).then(|| Some(PathBuf::from(v))))
}

fn secret(v: &str) -> Parsed<Option<Secret>> {
    Ok((!v.is_empty()).then(|| Some(Secret::new(v))))
}

fn number(v: &str) -> Parsed<u64> {
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| Refused::NotANumber(v.to_string()))
}

/// `1`, `true` or `yes` is on; anything else (the empty string too) is off.
fn flag(v: &str) -> Parsed<bool> {
    Ok(Some(matches!(v, "1" | "true" | "yes")))
}

/// Comma-separated; blanks dropped (the empty string is the empty list).
fn list(v: &str) -> Parsed<Vec<String>> {
    Ok(Some(
        v.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use super::*;

    fn apply(vars: &[(&str, &str)]) -> Result<Config, EnvError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut c = Config::default();
        apply_env(&mut c, |name| vars.get(name).cloned())?;
        Ok(c)
    }

    #[test]
    fn names_derive_from_the_keys_except_the_two_kept_names() {
        let names: Vec<String> = ENV.iter().map(EnvVar::name).collect();
        assert_eq!(
            names,
            [
                "TESSERA_LISTEN",
                "TESSERA_ADMIN_LISTEN",
                "TESSERA_DATABASE",
                "TESSERA_ISSUER",
                "TESSERA_TLS_CERT",
                "TESSERA_TLS_KEY",
                "TESSERA_TLS_CLIENT_CA",
                "TESSERA_BEHIND_TLS_PROXY",
                "TESSERA_TRUSTED_PROXIES",
                "TESSERA_REFRESH_REUSE_GRACE_SECS",
                "TESSERA_PAR_REQUIRE_PUSHED_AUTHORIZATION_REQUESTS",
                "TESSERA_KEY_ENCRYPTION_KEY",
                "TESSERA_KEY_ENCRYPTION_KEY_FILE",
                "TESSERA_DPOP_NONCE_SECRET",
            ]
        );
        assert_eq!(
            binding("refresh.reuse_grace_secs").unwrap().key,
            "refresh.reuse_grace_secs"
        );
        assert!(binding("tokens.max_ttl").is_none());
    }

    #[test]
    fn every_variable_reaches_its_key() {
        let c = apply(&[
            ("TESSERA_LISTEN", "127.0.0.1:9000"),
            ("TESSERA_ADMIN_LISTEN", "127.0.0.1:9001"),
            ("TESSERA_DATABASE", "sqlite:/var/lib/tessera.db"),
            ("TESSERA_ISSUER", "https://as.example.com"),
            ("TESSERA_TLS_CERT", "/etc/tessera/cert.pem"),
            ("TESSERA_TLS_KEY", "/etc/tessera/key.pem"),
            ("TESSERA_TLS_CLIENT_CA", "/etc/tessera/ca.pem"),
            ("TESSERA_BEHIND_TLS_PROXY", "yes"),
            ("TESSERA_TRUSTED_PROXIES", "10.0.0.0/8, ,192.0.2.1"),
            ("TESSERA_REFRESH_REUSE_GRACE_SECS", "5"),
            ("TESSERA_PAR_REQUIRE_PUSHED_AUTHORIZATION_REQUESTS", "true"),
            ("TESSERA_KEY_ENCRYPTION_KEY", "a2V5"),
            ("TESSERA_KEY_ENCRYPTION_KEY_FILE", "/etc/tessera/kek"),
            ("TESSERA_DPOP_NONCE_SECRET", "nonce"),
        ])
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.admin_listen.to_string(), "127.0.0.1:9001");
        assert_eq!(c.database, "sqlite:/var/lib/tessera.db");
        assert_eq!(c.issuer.as_deref(), Some("https://as.example.com"));
        assert_eq!(
            c.tls_cert.as_deref(),
            Some(Path::new("/etc/tessera/cert.pem"))
        );
        assert_eq!(
            c.tls_key.as_deref(),
            Some(Path::new("/etc/tessera/key.pem"))
        );
        assert_eq!(
            c.tls_client_ca.as_deref(),
            Some(Path::new("/etc/tessera/ca.pem"))
        );
        assert!(c.behind_tls_proxy);
        assert_eq!(c.trusted_proxies, ["10.0.0.0/8", "192.0.2.1"]);
        assert_eq!(c.refresh.reuse_grace_secs, 5);
        assert!(c.par.require_pushed_authorization_requests);
        assert_eq!(
            c.keys.encryption_key.as_ref().map(|k| k.expose_secret()),
            Some("a2V5")
        );
        assert_eq!(
            c.keys.encryption_key_file.as_deref(),
            Some(Path::new("/etc/tessera/kek"))
        );
        assert_eq!(
            c.dpop.nonce_secret.as_ref().map(|s| s.expose_secret()),
            Some("nonce")
        );
    }

    #[test]
    fn empty_values_leave_keys_alone_except_flags_and_lists() {
        let start = Config {
            behind_tls_proxy: true,
            trusted_proxies: vec!["10.0.0.1".into()],
            ..Config::default()
        };
        let mut c = start.clone();
        apply_env(&mut c, |_| Some(String::new())).unwrap();
        assert_eq!(c.listen, start.listen);
        assert_eq!(c.database, start.database);
        assert_eq!(c.issuer, None);
        assert_eq!(c.refresh.reuse_grace_secs, 0);
        assert!(c.keys.encryption_key.is_none());
        assert!(!c.behind_tls_proxy);
        assert!(c.trusted_proxies.is_empty());
    }

    #[test]
    fn a_value_that_does_not_parse_names_its_variable() {
        let err = apply(&[("TESSERA_REFRESH_REUSE_GRACE_SECS", "5s")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "TESSERA_REFRESH_REUSE_GRACE_SECS: \"5s\" is not a whole number"
        );
        let err = apply(&[("TESSERA_LISTEN", "localhost")]).unwrap_err();
        assert_eq!(err.name, "TESSERA_LISTEN");
        assert!(apply(&[("TESSERA_REFRESH_REUSE_GRACE_SECS", "-1")]).is_err());
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// The environment is outside input: any value of any variable is taken or refused
            /// with the variable's name, never a panic.
            #[test]
            fn any_value_is_applied_or_refused_by_name(value in any::<String>(), digits in "[0-9:.,/ -]{0,24}") {
                for v in [&value, &digits] {
                    let mut c = Config::default();
                    if let Err(e) = apply_env(&mut c, |_| Some(v.clone())) {
                        prop_assert!(e.name.starts_with("TESSERA_"));
                    }
                }
            }
        }
    }
}
