//! `tessera client …` end to end: `serve` on a fresh SQLite file, `client create` as a separate
//! process sharing the file, a token over HTTP, then `client delete`, `rotate-secret` and
//! `update` taking effect on the running server; public clients, `jwks_uri` registration.
use std::process::Command;

use crate::support::{BIN, client_credentials, eventually, serve, sqlite, tessera};

async fn token(base: &str, id: &str, secret: &str) -> u16 {
    token_for(base, id, secret, "deploy:read", "https://api.example.com").await
}

#[tokio::test]
async fn cli_clients_take_effect_on_a_running_server() {
    let (_dir, db) = sqlite();
    let server = serve(&db, &[]);
    let created = tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "ci-deploy",
        "--grant-type",
        "client_credentials",
        "--scope",
        "deploy:read deploy:write",
        "--audience",
        "https://api.example.com",
        "--json",
    ]);
    let id = created["client_id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("tsr_cs_"));
    assert_eq!(token(&server.base, &id, &secret).await, 200);

    let listed = tessera(&["client", "list", "--database", &db, "--json"]);
    assert_eq!(listed[0]["client_id"], id.as_str());
    assert!(!listed.to_string().contains(&secret));

    // Rotation with a grace period: both work; with none, only the new one.
    let rotated = tessera(&[
        "client",
        "rotate-secret",
        "--database",
        &db,
        &id,
        "--grace",
        "1h",
        "--json",
    ]);
    let second = rotated["client_secret"].as_str().unwrap().to_string();
    assert!(eventually(async || token(&server.base, &id, &second).await == 200).await);
    assert_eq!(token(&server.base, &id, &secret).await, 200);
    let rotated = tessera(&["client", "rotate-secret", "--database", &db, &id, "--json"]);
    let third = rotated["client_secret"].as_str().unwrap().to_string();
    assert!(eventually(async || token(&server.base, &id, &second).await == 401).await);
    assert_eq!(token(&server.base, &id, &third).await, 200);

    tessera(&["client", "delete", "--database", &db, &id, "--json"]);
    assert!(
        eventually(async || token(&server.base, &id, &third).await == 401).await,
        "deleted client still works"
    );
}

#[test]
fn public_clients_have_no_secret() {
    let (_dir, db) = sqlite();
    let created = tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "spa",
        "--audience",
        "https://api.example.com",
        "--grant-type",
        "authorization_code",
        "--grant-type",
        "refresh_token",
        "--redirect-uri",
        "http://127.0.0.1:8765/cb",
        "--redirect-uri",
        "https://app.example.com/cb",
        "--auth-method",
        "none",
        "--json",
    ]);
    assert_eq!(created["client_secret"], serde_json::Value::Null);
    let id = created["client_id"].as_str().unwrap();
    let shown = tessera(&["client", "show", "--database", &db, id, "--json"]);
    assert_eq!(shown["auth_method"], "none");
    assert_eq!(
        shown["redirect_uris"],
        serde_json::json!(["http://127.0.0.1:8765/cb", "https://app.example.com/cb"])
    );
    let out = Command::new(BIN)
        .args(["client", "rotate-secret", "--database", &db, id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is public"));
}

#[test]
fn require_par_is_registered_shown_and_updated() {
    let (_dir, db) = sqlite();
    let create = |extra: &[&str]| {
        let mut args = vec![
            "client",
            "create",
            "--database",
            &db,
            "--name",
            "web",
            "--audience",
            "https://api.example.com",
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            "https://app.example.com/cb",
            "--json",
        ];
        args.extend_from_slice(extra);
        tessera(&args)["client_id"].as_str().unwrap().to_string()
    };
    let show = |id: &str| tessera(&["client", "show", "--database", &db, id, "--json"]);
    let plain = create(&[]);
    assert_eq!(show(&plain)["require_pushed_authorization_requests"], false);
    let strict = create(&["--require-par"]);
    assert_eq!(show(&strict)["require_pushed_authorization_requests"], true);
    tessera(&[
        "client",
        "update",
        "--database",
        &db,
        &strict,
        "--require-par",
        "false",
        "--json",
    ]);
    assert_eq!(
        show(&strict)["require_pushed_authorization_requests"],
        false
    );
    tessera(&[
        "client",
        "update",
        "--database",
        &db,
        &plain,
        "--require-par",
        "true",
        "--json",
    ]);
    assert_eq!(show(&plain)["require_pushed_authorization_requests"], true);
    let out = Command::new(BIN)
        .args([
            "client",
            "update",
            "--database",
            &db,
            &plain,
            "--require-par",
            "maybe",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(show(&plain)["require_pushed_authorization_requests"], true);
}

#[test]
fn jwks_uri_is_registered_shown_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    let uri = "https://client.example/.well-known/jwks.json";
    let created = tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "signer",
        "--audience",
        "https://api.example.com",
        "--auth-method",
        "private_key_jwt",
        "--jwks-uri",
        uri,
        "--json",
    ]);
    let id = created["client_id"].as_str().unwrap();
    let shown = tessera(&["client", "show", "--database", &db, id, "--json"]);
    assert_eq!(shown["jwks_uri"], uri);
    assert_eq!(shown["jwks"], serde_json::Value::Null);
    assert_eq!(shown["auth_method"], "private_key_jwt");

    // RFC 8705 §2.2.2: a self-signed certificate's key may be published at a jwks_uri too.
    let self_signed = tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "agent",
        "--audience",
        "https://api.example.com",
        "--auth-method",
        "self_signed_tls_client_auth",
        "--jwks-uri",
        uri,
        "--json",
    ]);
    let shown = tessera(&[
        "client",
        "show",
        "--database",
        &db,
        self_signed["client_id"].as_str().unwrap(),
        "--json",
    ]);
    assert_eq!(shown["auth_method"], "self_signed_tls_client_auth");
    assert_eq!(shown["jwks_uri"], uri);
    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, r#"{"keys":[]}"#).unwrap();
    let jwks_file = jwks_file.to_str().unwrap();
    let create = [
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "x",
        "--audience",
        "https://api.example.com",
    ];
    for (extra, message) in [
        (
            vec![
                "--auth-method",
                "private_key_jwt",
                "--jwks-uri",
                "http://client.example/jwks",
            ],
            "jwks_uri must be https (http only on a loopback host)",
        ),
        (
            vec!["--jwks-uri", uri],
            "--jwks-uri goes with --auth-method private_key_jwt",
        ),
        (
            vec![
                "--auth-method",
                "private_key_jwt",
                "--jwks-uri",
                uri,
                "--jwks-file",
                jwks_file,
            ],
            "cannot be used with",
        ),
    ] {
        let out = Command::new(BIN)
            .args(create)
            .args(&extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(message),
            "{extra:?}: {stderr}"
        );
    }
    // Loopback http is fine (a client on the same host, and the tests).
    tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "local",
        "--audience",
        "https://api.example.com",
        "--auth-method",
        "private_key_jwt",
        "--jwks-uri",
        "http://127.0.0.1:9999/jwks",
        "--json",
    ]);
}

/// A client_credentials token request for `scope` (and `resource`, when given); the status.
async fn token_for(base: &str, id: &str, secret: &str, scope: &str, resource: &str) -> u16 {
    let mut form = vec![("scope", scope)];
    if !resource.is_empty() {
        form.push(("resource", resource));
    }
    client_credentials(base, id, secret, &form)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn client_update_changes_a_registration_on_a_running_server() {
    let (_dir, db) = sqlite();
    let server = serve(&db, &[]);
    let created = tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "ci",
        "--scope",
        "deploy:read deploy:write",
        "--audience",
        "https://api.example.com",
        "--json",
    ]);
    let id = created["client_id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();
    let api = "https://api.example.com";
    assert_eq!(
        token_for(&server.base, &id, &secret, "deploy:write", api).await,
        200
    );

    // Narrow the scopes and move the audience: the running server follows within a second.
    let updated = tessera(&[
        "client",
        "update",
        "--database",
        &db,
        &id,
        "--scope",
        "deploy:read",
        "--audience",
        "https://new.example.com",
        "--access-token-ttl",
        "60",
        "--json",
    ]);
    assert_eq!(updated["scope"], "deploy:read");
    assert_eq!(updated["default_scope"], "deploy:read");
    assert_eq!(
        updated["audiences"],
        serde_json::json!(["https://new.example.com"])
    );
    assert_eq!(updated["access_token_ttl"], 60);
    assert_eq!(updated["name"], "ci", "flags not given stay");
    assert!(
        eventually(async || token_for(&server.base, &id, &secret, "deploy:write", "").await == 400)
            .await,
        "a removed scope is still granted"
    );
    assert_eq!(
        token_for(&server.base, &id, &secret, "deploy:read", api).await,
        400
    );
    assert_eq!(
        token_for(
            &server.base,
            &id,
            &secret,
            "deploy:read",
            "https://new.example.com"
        )
        .await,
        200
    );
    assert_eq!(
        token_for(&server.base, &id, &secret, "deploy:read", "").await,
        200,
        "the secret stays"
    );
    let shown = tessera(&["client", "show", "--database", &db, &id, "--json"]);
    assert_eq!(shown, updated);

    // Bad updates are refused with exit code 2 and change nothing.
    for (args, message) in [
        (
            vec!["--default-scope", "deploy:write"],
            "default scope \"deploy:write\" is not in --scope",
        ),
        (vec!["--scope", "bad\"scope"], "invalid scope"),
        (vec!["--audience", "not a uri"], "must be an absolute URI"),
        (
            vec!["--redirect-uri", "https://app.example.com/cb"],
            "--redirect-uri goes with",
        ),
        (vec!["--token-format", "paper"], "unknown token format"),
        (
            vec!["--jwks-uri", "https://keys.example.com/jwks"],
            "--jwks-uri goes with",
        ),
    ] {
        let mut all = vec!["client", "update", "--database", &db, &id];
        all.extend(args);
        let out = Command::new(BIN).args(&all).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{all:?}: {err}");
    }
    let out = Command::new(BIN)
        .args([
            "client",
            "update",
            "--database",
            &db,
            "no-such-client",
            "--name",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no client"));
    assert_eq!(
        tessera(&["client", "show", "--database", &db, &id, "--json"]),
        updated,
        "nothing changed"
    );
}
