//! The key-encryption key file: where the key that seals private signing keys lives when
//! `keys.encryption_key` is not set. Zero configuration must still seal: on first start a fresh
//! random key is written beside the SQLite database (`tessera.db` → `tessera.db.kek`), mode 0600,
//! created atomically; a file readable by anyone but its owner is refused.
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::KekFileError;
use crate::Config;

/// Where the key-encryption key comes from, once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KekSource {
    /// `keys.encryption_key` / `TESSERA_KEY_ENCRYPTION_KEY`.
    Configured,
    /// An existing key file.
    File(PathBuf),
    /// A key file created by this call (first start).
    Created(PathBuf),
}

/// The default key file for a database URL: `PATH.kek` beside a SQLite file. PostgreSQL has no
/// file to sit beside (several nodes share one database and must share one key), so it has none.
pub fn default_path(database: &str) -> Option<PathBuf> {
    let path = database
        .strip_prefix("sqlite://")
        .or_else(|| database.strip_prefix("sqlite:"))?;
    (!path.is_empty()).then(|| PathBuf::from(format!("{path}.kek")))
}

/// Fills `config.keys.encryption_key` from the key file when it is not set: the file named by
/// `keys.encryption_key_file`, else the default beside a SQLite database, created on first use.
/// With PostgreSQL and neither setting, refuses: every node must hold the same key, so it has
/// to be given deliberately (docs/keys.md).
pub fn resolve(config: &mut Config) -> Result<KekSource, KekFileError> {
    if config.keys.encryption_key.is_some() {
        return Ok(KekSource::Configured);
    }
    let path = match (
        &config.keys.encryption_key_file,
        default_path(&config.database),
    ) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => p,
        (None, None) => return Err(KekFileError::PostgresNeedsKey),
    };
    let (key, source) = load_or_create(&path)?;
    config.keys.encryption_key = Some(tessera_proto::Secret::new(key));
    Ok(source)
}

/// Reads the base64 key in `path`, or creates the file with a fresh random key if it does not
/// exist. Refuses a file whose permissions are wider than 0600.
pub fn load_or_create(path: &Path) -> Result<(String, KekSource), KekFileError> {
    match read(path) {
        Ok(key) => return Ok((key, KekSource::File(path.to_path_buf()))),
        Err(ReadError::Missing) => {}
        Err(ReadError::Other(e)) => return Err(e),
    }
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| KekFileError::Rng)?;
    let key = STANDARD.encode(bytes);
    match create_exclusive(path, &key) {
        Ok(()) => Ok((key, KekSource::Created(path.to_path_buf()))),
        // Another process (a second node, a concurrent admin command) created it first: use its.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path)
            .map(|k| (k, KekSource::File(path.to_path_buf())))
            .map_err(|e| match e {
                ReadError::Missing => KekFileError::Vanished(path.to_path_buf()),
                ReadError::Other(e) => e,
            }),
        Err(source) => Err(KekFileError::Create {
            path: path.to_path_buf(),
            source,
        }),
    }
}

enum ReadError {
    Missing,
    Other(KekFileError),
}

fn read(path: &Path) -> Result<String, ReadError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::Missing),
        Err(source) => {
            return Err(ReadError::Other(KekFileError::Metadata {
                path: path.to_path_buf(),
                source,
            }));
        }
    };
    check_permissions(path, &meta).map_err(ReadError::Other)?;
    let text = fs::read_to_string(path).map_err(|source| {
        ReadError::Other(KekFileError::Read {
            path: path.to_path_buf(),
            source,
        })
    })?;
    let key = text.trim().to_string();
    // Validate now, so a damaged file is named rather than reported as a bad configured key.
    super::Sealer::from_base64(&key).map_err(|source| {
        ReadError::Other(KekFileError::Invalid {
            path: path.to_path_buf(),
            source,
        })
    })?;
    Ok(key)
}

#[cfg(unix)]
fn check_permissions(path: &Path, meta: &fs::Metadata) -> Result<(), KekFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KekFileError::Permissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_: &Path, _: &fs::Metadata) -> Result<(), KekFileError> {
    Ok(())
}

/// Writes the key to a private temporary file, syncs it, then links it into place: the link
/// fails if `path` exists (O_EXCL semantics), and a reader never sees a half-written key.
fn create_exclusive(path: &Path, key: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let tmp = PathBuf::from(format!("{}.tmp.{}", path.display(), std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(key.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    result?;
    if let Some(dir) = dir
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_path_sits_beside_a_sqlite_file_only() {
        assert_eq!(
            default_path("sqlite:/var/lib/t.db"),
            Some(PathBuf::from("/var/lib/t.db.kek"))
        );
        assert_eq!(
            default_path("sqlite://t.db"),
            Some(PathBuf::from("t.db.kek"))
        );
        assert_eq!(default_path("postgres://u@h/db"), None);
        assert_eq!(default_path("sqlite:"), None);
    }

    #[cfg(unix)]
    #[test]
    fn creates_0600_once_then_reads_it_and_refuses_wider_modes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db.kek");
        let (a, src) = load_or_create(&path).unwrap();
        assert_eq!(src, KekSource::Created(path.clone()));
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (b, src) = load_or_create(&path).unwrap();
        assert_eq!((a, src), (b, KekSource::File(path.clone())));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create(&path).unwrap_err().to_string();
        assert!(
            err.contains("mode 0644") && err.contains("chmod 600"),
            "{err}"
        );
        // Nothing left behind by the atomic creation.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn postgres_without_a_key_is_refused_and_a_configured_key_wins() {
        let mut c = Config {
            database: "postgres://u@h/db".into(),
            ..Config::default()
        };
        assert!(
            resolve(&mut c)
                .unwrap_err()
                .to_string()
                .contains("keys.encryption_key")
        );
        c.keys.encryption_key = Some(tessera_proto::Secret::new(STANDARD.encode([1u8; 32])));
        assert_eq!(resolve(&mut c).unwrap(), KekSource::Configured);
    }
}
