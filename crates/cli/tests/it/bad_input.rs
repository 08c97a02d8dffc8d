//! Bad input to the binary: refused with exit code 2 and an `error: ` line, before anything
//! changes.
use std::process::Command;

use crate::support::{BIN, sqlite};

#[test]
fn bad_input_is_refused_with_a_clear_error_and_exit_code_2() {
    let (_dir, db) = sqlite();
    // `client create --database DB --name x` and `extra`.
    let create = |extra: &[&'static str]| {
        let mut args = vec!["client", "create", "--database", db.as_str(), "--name", "x"];
        args.extend_from_slice(extra);
        args
    };
    for args in [
        create(&["--audience", "not a uri"]),
        create(&["--grant-type", "password"]),
        create(&["--scope", "a", "--default-scope", "b"]),
        vec!["client", "rotate-secret", "--database", &db, "nobody"],
        vec!["keys", "revoke", "--database", &db, "no-such-kid"],
        // RFC 9700 §2.1: no wildcards, http only on loopback; redirect URIs need the code grant.
        create(&[
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            "https://*.example.com/cb",
        ]),
        create(&[
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            "http://app.example.com/cb",
        ]),
        create(&["--grant-type", "authorization_code"]),
        create(&["--redirect-uri", "https://a.example/cb"]),
        create(&["--auth-method", "none"]),
        vec!["user", "create", "--database", &db, "--username", " padded"],
        vec!["client", "create", "--database", "mysql://x", "--name", "x"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("error: "),
            "{args:?}"
        );
    }
    let out = Command::new(BIN)
        .args(["serve", "--database", &db, "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing plain HTTP"));
}
