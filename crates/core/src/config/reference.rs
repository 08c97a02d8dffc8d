//! docs/configuration.md, rendered from the configuration's doc comments, its defaults and the
//! environment table, so the reference cannot say what the code does not do.
use super::Config;

/// Renders docs/configuration.md from `mod.rs`'s doc comments, the defaults and, for each key
/// with one, its environment variable ([`super::env::ENV`]).
pub fn reference_markdown() -> String {
    let source = include_str!("mod.rs");
    let defaults = toml::Value::try_from(Config::default()).expect("the default config serialises");
    let mut out = String::from(
        "# Configuration\n\n<!-- Generated from crates/core/src/config/ by `TESSERA_WRITE_DOCS=1 cargo test -p \
         tessera-core config_reference`; a test fails when it drifts. -->\n\n\
         Tessera reads, in increasing precedence: built-in defaults, the TOML file given by `--config FILE` \
         (env `TESSERA_CONFIG`), `TESSERA_*` environment variables, and command-line flags. Every key is \
         optional: `tessera serve` runs with none.\n",
    );
    let mut section: Option<&str> = None;
    let mut docs: Vec<&str> = Vec::new();
    for raw in source.lines() {
        let line = raw.trim();
        if raw == "}" {
            section = None;
        }
        if let Some(name) = line
            .strip_prefix("pub struct ")
            .and_then(|r| r.split_whitespace().next())
        {
            section = match name {
                "Config" => Some(""),
                "TokenConfig" => Some("tokens"),
                "RefreshConfig" => Some("refresh"),
                "KeyConfig" => Some("keys"),
                "LimitConfig" => Some("limits"),
                "DpopConfig" => Some("dpop"),
                "RetentionConfig" => Some("retention"),
                "LoginConfig" => Some("login"),
                "ClientAuthConfig" => Some("client_auth"),
                "ParConfig" => Some("par"),
                _ => None,
            };
            let heading = if section == Some("") {
                "Top level".to_string()
            } else {
                format!("`[{}]`", section.unwrap_or(""))
            };
            if section.is_some() {
                out.push_str(&format!(
                    "\n## {heading}\n\n{}\n\n| key | default | meaning |\n|---|---|---|\n",
                    docs.join(" ")
                ));
            }
            docs.clear();
        } else if let Some(doc) = line.strip_prefix("/// ") {
            docs.push(doc);
        } else if let (Some(sec), Some(field)) = (section, line.strip_prefix("pub ")) {
            let Some((name, ty)) = field.split_once(':') else {
                continue;
            };
            let ty = ty.trim().trim_end_matches(',');
            if ty.ends_with("Config") {
                docs.clear();
                continue;
            }
            let table = if sec.is_empty() {
                Some(&defaults)
            } else {
                defaults.get(sec)
            };
            let default = table
                .and_then(|t| t.get(name))
                .map(|v| format!("`{v}`"))
                .unwrap_or_else(|| "unset".into());
            let key = if sec.is_empty() {
                name.to_string()
            } else {
                format!("{sec}.{name}")
            };
            let mut meaning = docs.join(" ");
            if let Some(var) = super::env::binding(&key) {
                meaning.push_str(&format!(" Env `{}`.", var.name()));
            }
            out.push_str(&format!("| `{name}` | {default} | {meaning} |\n"));
            docs.clear();
        } else if !line.starts_with("///") && !line.starts_with("#[") {
            // Attributes sit between a struct's doc comment and its name: keep the comment.
            docs.clear();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reference_matches_docs() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md");
        let expected = reference_markdown();
        if std::env::var_os("TESSERA_WRITE_DOCS").is_some() {
            std::fs::write(path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/configuration.md drifted: run TESSERA_WRITE_DOCS=1 cargo test -p tessera-core config_reference"
        );
    }
}
