//! Signing keys sealed with zero configuration: `tessera serve` on a fresh SQLite file creates
//! the key-encryption key file beside it (0600) and stores no plaintext private key; a sealed
//! blob moved to another kid does not open; a key file readable by others refuses the start;
//! plaintext keys of an old database are sealed on start.
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use tessera_core::keys::{KeyState, Sealer, SigningAlg, generate_key};

use crate::support::{BIN, serve};

/// `(kid, alg, private_key, sealed)` of every stored key, read straight from the file.
fn rows(path: &Path) -> Vec<(String, String, Vec<u8>, bool)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT kid, alg, private_key, sealed FROM signing_keys ORDER BY kid")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn is_plain_pkcs8(alg: &str, der: &[u8]) -> bool {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair,
    };
    match alg {
        "ES256" => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).is_ok(),
        "EdDSA" => Ed25519KeyPair::from_pkcs8(der).is_ok(),
        _ => RsaKeyPair::from_pkcs8(der).is_ok(),
    }
}

fn sealer(kek: &Path) -> Sealer {
    Sealer::from_base64(&std::fs::read_to_string(kek).unwrap()).unwrap()
}

/// Starts `tessera serve` expecting it to refuse; returns its stderr.
fn refused(db: &str) -> String {
    let out = Command::new(BIN)
        .args(["serve", "--database", db, "--listen", "127.0.0.1:0"])
        .args(["--admin-listen", "127.0.0.1:0"])
        .env_remove("TESSERA_KEY_ENCRYPTION_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success(), "serve started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_fresh_start_creates_a_0600_key_file_and_stores_no_plaintext_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.db");
    let db = format!("sqlite:{}", file.display());
    let kek = dir.path().join("t.db.kek");
    let server = serve(&db, &[]);
    drop(server);
    let mode = std::fs::metadata(&kek).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let sealer = sealer(&kek);
    let keys = rows(&file);
    assert_eq!(keys.len(), 3);
    for (kid, alg, blob, sealed) in &keys {
        assert!(sealed, "{kid} not sealed");
        assert!(!is_plain_pkcs8(alg, blob), "{kid} stored in plain");
        let plain = sealer.open(kid, blob).unwrap();
        assert!(is_plain_pkcs8(alg, &plain));
    }
    // A second start reads the same file and signs with the same keys.
    let server = serve(&db, &[]);
    drop(server);
    assert_eq!(rows(&file), keys);

    // A sealed blob moved onto another key's row does not open: the start is refused.
    let conn = rusqlite::Connection::open(&file).unwrap();
    let (es, ed) = (&keys[0], &keys[1]);
    let swap = "UPDATE signing_keys SET private_key = ?2 WHERE kid = ?1";
    conn.execute(swap, rusqlite::params![es.0, ed.2]).unwrap();
    conn.execute(swap, rusqlite::params![ed.0, es.2]).unwrap();
    drop(conn);
    let err = refused(&db);
    assert!(err.contains("cannot open a private key"), "{err}");
}

#[test]
fn a_key_file_readable_by_others_refuses_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    let kek = dir.path().join("t.db.kek");
    drop(serve(&db, &[]));
    for mode in [0o644, 0o640, 0o606] {
        std::fs::set_permissions(&kek, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = refused(&db);
        assert!(
            err.contains(&format!("mode {mode:04o}")) && err.contains("chmod 600"),
            "{err}"
        );
    }
    std::fs::set_permissions(&kek, std::fs::Permissions::from_mode(0o600)).unwrap();
    drop(serve(&db, &[]));
}

#[tokio::test]
async fn plaintext_keys_of_an_old_database_are_sealed_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.db");
    let db = format!("sqlite:{}", file.display());
    {
        let store = tessera_store::open(&db).await.unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        for alg in SigningAlg::ALL {
            let key = generate_key(alg, KeyState::Current, None, now).unwrap();
            assert!(store.insert_key(key).await.unwrap());
        }
    }
    let before = rows(&file);
    assert!(
        before
            .iter()
            .all(|(_, alg, blob, sealed)| !sealed && is_plain_pkcs8(alg, blob))
    );
    drop(serve(&db, &[]));
    let sealer = sealer(&dir.path().join("old.db.kek"));
    let after = rows(&file);
    assert_eq!(after.len(), 3);
    for ((kid, alg, plain, _), (kid2, _, blob, sealed)) in before.iter().zip(&after) {
        assert_eq!(kid, kid2);
        assert!(*sealed && !is_plain_pkcs8(alg, blob), "{kid} still plain");
        assert_eq!(&sealer.open(kid, blob).unwrap(), plain);
    }
}
